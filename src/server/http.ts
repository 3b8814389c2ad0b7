/**
 * HTTP plumbing shared by every route and mounted plugin: the JSON body parser (clear errors for
 * malformed and hostile JSON, SPEC 5), the one error → status mapping (`httpStatusOf`, SPEC 4), the
 * per-token rate limit, and a logger configuration that cannot write PHI (SPEC 4 "no PHI in logs").
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { httpStatusOf, InputError, MedpolicyError } from "../model/index.js";

/** An HTTP-level error with no model equivalent (401, 429, 413, 415…). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

const MODEL_CODE: Record<string, string> = {
  input: "bad-input",
  determination: "cannot-decide",
  "not-found": "not-found",
  forbidden: "forbidden",
  conflict: "conflict",
  internal: "internal",
};

/** Maps an error to status and JSON body: the model's `httpStatusOf`, then HTTP and framework errors. */
export function errorResponse(err: unknown): {
  status: number;
  body: unknown;
  headers: Record<string, string>;
} {
  if (err instanceof MedpolicyError) {
    const status = httpStatusOf(err);
    const where = Object.keys(err.where).length > 0 ? err.where : undefined;
    const issues = err instanceof InputError && err.issues.length > 0 ? err.issues : undefined;
    return {
      status,
      headers: {},
      body: {
        error: { status, code: MODEL_CODE[err.kind] ?? err.kind, message: err.message, where, issues },
      },
    };
  }
  if (err instanceof HttpError) {
    return {
      status: err.status,
      headers: err.headers,
      body: { error: { status: err.status, code: err.code, message: err.message } },
    };
  }
  const fe = err as Partial<FastifyError>;
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    const status = fe.statusCode;
    const { code, message } = frameworkMessage(fe);
    return { status, headers: {}, body: { error: { status, code, message } } };
  }
  return {
    status: 500,
    headers: {},
    body: {
      error: { status: 500, code: "internal", message: "internal error: the request was not completed" },
    },
  };
}

function frameworkMessage(fe: Partial<FastifyError>): { code: string; message: string } {
  switch (fe.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return {
        code: "body-too-large",
        message: "request body is too large for this server (the default limit is 256 KB)",
      };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return {
        code: "unsupported-media-type",
        message: "send the body as JSON with Content-Type: application/json",
      };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { code: "bad-input", message: "request body is empty: expected a JSON object" };
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return { code: "bad-input", message: "Content-Length does not match the body" };
    default:
      return { code: "bad-request", message: fe.message ?? "bad request" };
  }
}

/** Rejects keys that would poison prototypes if some consumer merged the object naively. */
function hostileKey(key: string, value: unknown): boolean {
  if (key === "__proto__") return true;
  return key === "constructor" && value !== null && typeof value === "object" && "prototype" in value;
}

/** Deepest nesting of objects and arrays a JSON body may have (issue 13: 10,000 levels overflowed the stack). */
export const MAX_JSON_DEPTH = 64;

/**
 * Own keys of every object in a parsed value, or -1 once it nests deeper than
 * {@link MAX_JSON_DEPTH} (so this recursion, and every later one, stays shallow; `JSON.parse` itself
 * does not recurse, so it can build the value first). Throws on a prototype-poisoning key, which
 * `JSON.parse` keeps as an own key that a naive merge would follow.
 */
function countKeys(v: object, depth: number): number {
  if (depth > MAX_JSON_DEPTH) return -1;
  let n = 0;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === "object" && x !== null) {
        const m = countKeys(x, depth + 1);
        if (m < 0) return -1;
        n += m;
      }
    }
    return n;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    n++;
    const x = o[k];
    if (hostileKey(k, x)) {
      throw new InputError(`${k}: JSON key "${k}" is not allowed (it could poison prototypes)`, { field: k });
    }
    if (typeof x === "object" && x !== null) {
      const m = countKeys(x, depth + 1);
      if (m < 0) return -1;
      n += m;
    }
  }
  return n;
}

/** The path to the first value nested deeper than {@link MAX_JSON_DEPTH} (the slow pass, on refusal only). */
function deepPath(v: unknown, depth: number, path: string[]): string[] | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  if (depth > MAX_JSON_DEPTH) return path;
  for (const [k, x] of Object.entries(v)) {
    const p = deepPath(x, depth + 1, [...path, k]);
    if (p) return p;
  }
  return undefined;
}

/**
 * Whether the text provably has exactly `keys` object members (so no key repeats), by native
 * `indexOf` jumps from colon to colon: a member's colon follows its key's closing quote, unless white
 * space comes between (then this gives up); a colon inside a string follows a quote only when that
 * quote is escaped, which makes the count larger, never smaller. Otherwise (or when the counts differ)
 * {@link countMembers} decides.
 */
function surelyMembers(text: string, keys: number): boolean {
  let n = 0;
  for (let i = text.indexOf(":"); i > 0; i = text.indexOf(":", i + 1)) {
    const c = text.charCodeAt(i - 1);
    if (c === 34) n++;
    else if (isSpace(c)) return false;
  }
  return n === keys;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/**
 * The object members of a valid JSON text: its `:` outside strings, in one `charCodeAt` pass (strings
 * skipped with `indexOf`; each backslash run is counted once, at the quote that ends it).
 */
function countMembers(text: string): number {
  let members = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) i = stringEnd(text, i);
    else if (c === 58) members++;
  }
  return members;
}

/** Index of the quote that closes the string opening at `i` (the text's end when it is unterminated). */
function stringEnd(text: string, i: number): number {
  let j = i;
  for (;;) {
    j = text.indexOf('"', j + 1);
    if (j < 0) return text.length;
    let k = j - 1;
    while (text.charCodeAt(k) === 92) k--;
    if ((j - 1 - k) % 2 === 0) return j;
  }
}

const shown = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}…` : s);

/**
 * The slow pass, taken only when a key repeats: walks the (valid) text keeping each open object's keys
 * and returns the path to the first repeated one (`member.state`, `service.codes.0`). Linear: every
 * key is sliced and hashed once.
 */
function repeatedKey(text: string): { path: string[]; key: string } | undefined {
  const stack: { seg: string; keys: Set<string> | undefined; index: number; lastKey: string }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 34) {
      const j = stringEnd(text, i);
      if (top?.keys) {
        let m = j + 1;
        while (isSpace(text.charCodeAt(m))) m++;
        if (text.charCodeAt(m) === 58) {
          const raw = text.slice(i + 1, j);
          const key = raw.includes("\\") ? (JSON.parse(text.slice(i, j + 1)) as string) : raw;
          if (top.keys.has(key)) return { path: [...stack.slice(1).map((f) => f.seg), key], key };
          top.keys.add(key);
          top.lastKey = key;
        }
      }
      i = j;
    } else if (c === 123 || c === 91) {
      const seg = top === undefined ? "" : top.keys ? top.lastKey : String(top.index);
      stack.push({ seg, keys: c === 123 ? new Set() : undefined, index: 0, lastKey: "" });
    } else if (c === 125 || c === 93) stack.pop();
    else if (c === 44 && top && !top.keys) top.index++;
  }
  return undefined;
}

/** A path as the field names errors use (`member.state`, `service.codes.0`), bounded for messages. */
function fieldOf(path: string[]): string {
  const f = path.join(".");
  return f.length > 200 ? `${f.slice(0, 200)}…` : f;
}

/**
 * Parses a JSON body with messages that name the problem (SPEC 5, issue 13). Refused, each with a 400
 * naming the place: nesting deeper than {@link MAX_JSON_DEPTH}, a key repeated within one object
 * (JSON.parse would keep the last silently), and prototype-poisoning keys. Linear in the body, and
 * cheap: `JSON.parse` (which does not recurse), one walk of the value counting its keys and depth,
 * and native substring scans that prove the text has no more members than that; only when they cannot
 * (white space before a colon, an escaped quote before one, a repeated key) a `charCodeAt` pass
 * counts the members, and only on a difference a slower pass names the repeated key. The walk also
 * refuses prototype-poisoning keys (it replaced a `JSON.parse` reviver, which recursed and was slow).
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === "") throw new InputError("request body is empty: expected a JSON object");
  const value = parseText(text);
  if (typeof value !== "object" || value === null) return value;
  const keys = countKeys(value, 1);
  if (keys < 0) {
    const field = fieldOf(deepPath(value, 1, []) ?? []);
    throw new InputError(
      `${field ? `${field}: ` : ""}request body is nested deeper than ${MAX_JSON_DEPTH} levels`,
      field ? { field } : {},
    );
  }
  if (keys > 0 && !surelyMembers(text, keys) && countMembers(text) !== keys) {
    const dup = repeatedKey(text);
    if (dup) {
      const field = fieldOf(dup.path);
      throw new InputError(
        `${field}: key "${shown(dup.key)}" appears twice in one object (duplicate JSON keys are refused, not resolved by the last one)`,
        { field },
      );
    }
  }
  return value;
}

function parseText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    const where = m ? ` at character ${Number(m[1]) + 1}` : "";
    throw new InputError(`request body is not valid JSON${where}: ${(err as Error).message}`);
  }
}

/** Replaces Fastify's JSON parsers with {@link parseJsonBody}, for `application/json` and `+json` types. */
export function installJsonParser(app: FastifyInstance): void {
  // Only JSON is accepted: anything else gets 415 with a message saying so (text/plain would otherwise
  // reach the routes as a string).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ["application/json", /^application\/[\w.+-]+\+json$/i] as unknown as string[],
    { parseAs: "string" },
    (_req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
      try {
        done(null, parseJsonBody(typeof body === "string" ? body : body.toString("utf8")));
      } catch (err) {
        done(err as Error);
      }
    },
  );
}

/** Token bucket per key (token or client address): `perSecond` sustained, `burst` at once. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes one token for `key`; returns 0 when allowed, else the seconds to wait. */
  take(key: string, nowMs = Date.now()): number {
    let b = this.buckets.get(key);
    if (!b) {
      // Forget idle callers so the map cannot grow without bound.
      if (this.buckets.size >= 50_000) this.buckets.clear();
      b = { tokens: this.burst, at: nowMs };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.perSecond);
    b.at = nowMs;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }

  /** The seconds `key` must wait before {@link take} would allow it (0: now), taking nothing. */
  peek(key: string, nowMs = Date.now()): number {
    const b = this.buckets.get(key);
    if (!b) return 0;
    const tokens = Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.perSecond);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.perSecond));
  }
}

/**
 * Pino serializers that write request ids, methods, route patterns, status codes and error kinds only —
 * never bodies, headers, paths, query strings or error messages (which can quote the caller's JSON).
 */
export const safeSerializers = {
  req(req: { id?: unknown; method?: string; url?: string; routeOptions?: { url?: string } }) {
    // The route pattern (`/api/requests/:id`), not the path: an unmatched path is caller-chosen text.
    return { id: req.id, method: req.method, route: req.routeOptions?.url ?? "(no route)" };
  },
  res(res: { statusCode?: number }) {
    return { statusCode: res.statusCode };
  },
  err(err: unknown) {
    const e = err as Partial<FastifyError> & Partial<MedpolicyError>;
    const frames = typeof e.stack === "string" ? e.stack.split("\n").slice(1, 8).join("\n") : undefined;
    return {
      type: e.name,
      ...(e.kind !== undefined && { kind: e.kind }),
      ...(e.code !== undefined && { code: e.code }),
      ...(e.statusCode !== undefined && { statusCode: e.statusCode }),
      // Stack frames (file:line) help debug a 500; the first line (the message) is left out.
      ...(frames && { frames }),
    };
  },
};

const SCHEMA_ROOTS = new Set([
  "member",
  "service",
  "policy",
  "id",
  "outcome",
  "reason",
  "criteria",
  "version",
]);

/**
 * The part of an error's field path that is safe to log: schema-defined names only. Answer keys and
 * anything unrecognised are caller-chosen text (which could be anything, PHI included).
 */
export function loggableField(field: string | undefined): string | undefined {
  if (!field) return undefined;
  const [root, sub] = field.split(".");
  if (root === "answers" || root === "facts") return root;
  if (!root || !SCHEMA_ROOTS.has(root)) return "(other)";
  return sub !== undefined && /^[a-zA-Z]{1,40}$/.test(sub) ? `${root}.${sub}` : root;
}

/** Pino `redact` paths: a second line of defence if a body ever reaches a log call. */
export const REDACT_PATHS = [
  "body",
  "*.body",
  "case",
  "*.case",
  "member",
  "*.member",
  "*.birthDate",
  "req.headers",
  "*.headers.authorization",
];

/** The Fastify logger option: ours serializers and redaction always win over the caller's. */
export function loggerOption(
  logger: boolean | Record<string, unknown> | undefined,
): boolean | Record<string, unknown> {
  if (!logger) return false;
  const given = logger === true ? {} : logger;
  return {
    level: "info",
    ...given,
    serializers: { ...safeSerializers },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  };
}

/** Sends an error response in the one JSON shape (for hooks that reply before routing). */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const { status, body, headers } = errorResponse(err);
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.code(status).type("application/json").send(body);
}
