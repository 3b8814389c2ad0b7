/**
 * HTTP plumbing shared by every route and mounted plugin: the JSON body parser (clear errors for
 * malformed and hostile JSON, SPEC 5), the one error → status mapping (`httpStatusOf`, SPEC 4), the
 * per-token rate limit, and a logger configuration that cannot write PHI (SPEC 4 "no PHI in logs").
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { checkJson, httpStatusOf, InputError, MedpolicyError } from "../model/index.js";

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
        message:
          "send the body as JSON with Content-Type: application/json (or a +json type such as application/fhir+json; a charset parameter is accepted)",
      };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { code: "bad-input", message: "request body is empty: expected a JSON object" };
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return { code: "bad-input", message: "Content-Length does not match the body" };
    default:
      return { code: "bad-request", message: fe.message ?? "bad request" };
  }
}

/**
 * Parses a JSON body with messages that name the problem (SPEC 5, issue 13): not JSON, and what
 * {@link checkJson} refuses (deep nesting, a repeated key, prototype-poisoning keys), each a 400
 * naming the place.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === "") throw new InputError("request body is empty: expected a JSON object");
  const value = parseText(text);
  checkJson(text, value);
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
    // Fastify matches a RegExp against the whole header, parameters included: FHIR clients (HAPI)
    // send "application/fhir+json; charset=UTF-8", and R4 defines "; fhirVersion=4.0". Anchored at
    // the start, the pattern is linear in the header's length.
    ["application/json", /^application\/[\w.+-]+\+json(?:\s*;[^\r\n]*)?$/i] as unknown as string[],
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
