/**
 * Structured access logs (issue 13: "No access log (Fastify logging is off and cannot be turned
 * on)"): on by default for `medpolicy serve`, one JSON line per request on stderr — request id
 * (`reqId`), principal `sub` and `role` (never the name), route pattern (never the path: it may hold
 * caller-chosen text), method, status, latency in ms — and never a body, header, query string or
 * name. Levels come from `--log-level` or `MEDPOLICY_LOG`.
 *
 * stderr keeps stdout for what scripts read (the `{"url": …}` line of `src/server/main.ts`, the
 * banner). Lines are buffered and written in batches (at most {@link LOG_FLUSH_MS} later, or once
 * 64 KiB wait, and at exit), so logging costs one write per batch, not one per request; a crash can
 * lose the last few milliseconds of log lines.
 */
import { hostname } from "node:os";
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from "fastify";
import { ConfigError } from "./auth.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Longest a log line waits in memory. */
export const LOG_FLUSH_MS = 50;
const FLUSH_BYTES = 64 * 1024;

/**
 * Reads a log level: one of {@link LOG_LEVELS}, or `off`/`0`/`false` (silent), `on`/`1`/`true`
 * (info); undefined or empty → undefined. Anything else is a {@link ConfigError} naming `source`.
 */
export function parseLogLevel(value: string | undefined, source: string): LogLevel | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const v = value.trim().toLowerCase();
  if (v === "off" || v === "0" || v === "false" || v === "none") return "silent";
  if (v === "on" || v === "1" || v === "true") return "info";
  const hit = LOG_LEVELS.find((l) => l === v);
  if (!hit) throw new ConfigError(`${source} must be one of ${LOG_LEVELS.join(", ")} (or off)`);
  return hit;
}

/** A write stream for pino that batches lines into few writes on `target` (default stderr). */
export class BatchedLineWriter {
  private parts: string[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly onExit = () => this.flush();

  constructor(private readonly target: { write(s: string): unknown } = process.stderr) {
    // Lines waiting at exit are written then (stderr is synchronous for files, pipes and terminals).
    process.on("exit", this.onExit);
  }

  /** pino calls this with one serialized line (newline included). */
  write(line: string): boolean {
    this.parts.push(line);
    this.bytes += line.length;
    if (this.bytes >= FLUSH_BYTES) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), LOG_FLUSH_MS);
      this.timer.unref();
    }
    return true;
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.parts.length === 0) return;
    const out = this.parts.join("");
    this.parts = [];
    this.bytes = 0;
    try {
      this.target.write(out);
    } catch {
      // A closed stderr must not take the service down.
    }
  }

  /** Flushes and detaches from process exit. */
  end(): void {
    this.flush();
    process.off("exit", this.onExit);
  }
}

/**
 * The logger options for Fastify at `level` on stderr (batched), or false when silent. The PHI-safe
 * serializers and redaction are added by `loggerOption` (http.ts) whatever is given here.
 */
export function accessLogger(level: LogLevel): false | { level: LogLevel; stream: BatchedLineWriter } {
  if (level === "silent") return false;
  return { level, stream: new BatchedLineWriter() };
}

/**
 * The level in force when the embedder gave no `logger`: `MEDPOLICY_LOG` when set, else `info` —
 * except for `quiet` embeddings (tests, tools), which log only when `MEDPOLICY_LOG` asks.
 */
export function defaultLogLevel(env: NodeJS.ProcessEnv, quiet: boolean): LogLevel {
  return parseLogLevel(env.MEDPOLICY_LOG, "MEDPOLICY_LOG") ?? (quiet ? "silent" : "info");
}

/** Where access lines go when written directly (a pino destination: one `write` per line). */
export interface LineSink {
  write(line: string): unknown;
}

/**
 * Adds the access-log line: `{"level":30,"time":…,"pid":…,"hostname":…,"reqId":"…","msg":"request",
 * "method":"GET","route":"/api/requests/:id","status":200,"ms":1.2,"sub":"rn-chen","role":"reviewer"}`.
 * Fastify's own two lines per request ("incoming request", "request completed") are turned off by the
 * caller: this one line carries both, and the principal.
 *
 * With `sink` (the logger's destination) the line is serialized here and written straight to it:
 * it holds only fields of known types, so pino's redaction — about 35 µs a line with the wildcard
 * paths that guard the other log lines (bench/access-log.ts) — has nothing to do for it. Without a
 * sink it goes through `req.log` at `info`.
 */
export function installAccessLog(app: FastifyInstance, sink?: LineSink): void {
  if (!["info", "debug", "trace"].includes(app.log.level)) return;
  const head = `"pid":${process.pid},"hostname":${JSON.stringify(hostname())},"reqId":`;
  // Route patterns, methods, roles and subs are few (the routes registered, the methods the parser
  // knows, the callers with tokens): their JSON is made once. Bounded all the same, in case a plugin
  // registers routes without end or tokens are minted for ever new subjects.
  const quoted = new Map<string, string>();
  const q = (v: string): string => {
    let j = quoted.get(v);
    if (j === undefined) {
      j = JSON.stringify(v);
      if (quoted.size < 10_000) quoted.set(v, j);
    }
    return j;
  };
  if (sink) fastLines.set(app.log, { sink, head });
  app.addHook("onResponse", (req, reply, done) => {
    const p = req.principal;
    // The route pattern, never the path: an unmatched path is caller-chosen text.
    const route = req.routeOptions.url ?? "(no route)";
    const ms = Math.round(reply.elapsedTime * 100) / 100;
    if (sink) {
      const who = p ? `,"sub":${q(p.sub)},"role":${q(p.role)}` : "";
      sink.write(
        `{"level":30,"time":${Date.now()},${head}${JSON.stringify(String(req.id))},"msg":"request","method":${q(req.method)},"route":${q(route)},"status":${reply.statusCode},"ms":${ms}${who}}\n`,
      );
    } else {
      req.log.info(
        { method: req.method, route, status: reply.statusCode, ms, ...(p && { sub: p.sub, role: p.role }) },
        "request",
      );
    }
    done();
  });
}

/**
 * Loggers whose lines go to a known sink in our own format (set by {@link installAccessLog}): a
 * request's `req.log.info({…flat fields}, msg)` is written straight to it, as pino would write it.
 */
const fastLines = new WeakMap<object, { sink: LineSink; head: string }>();

/** Levels at which `info` lines are written. */
const INFO_ON = new Set(["info", "debug", "trace"]);

/**
 * Keys pino would redact or serialize at the top level (REDACT_PATHS, `safeSerializers`), and the
 * line's own keys: a line with any of them is left to pino.
 */
const GUARDED_KEYS = new Set([
  "body",
  "case",
  "member",
  "req",
  "res",
  "err",
  "headers",
  "level",
  "time",
  "pid",
  "hostname",
  "reqId",
  "msg",
]);

/**
 * The fields' JSON members (`"k":v,…`) when every value is a string, finite number or boolean and no
 * key is one pino's redaction or serializers act on at the top level — so pino's line would hold
 * exactly these; otherwise undefined (the caller lets pino write the line).
 */
function flatMembers(obj: unknown): string | undefined {
  if (obj === null || typeof obj !== "object" || Object.getPrototypeOf(obj) !== Object.prototype)
    return undefined;
  let out = "";
  for (const k in obj as Record<string, unknown>) {
    const v = (obj as Record<string, unknown>)[k];
    if (GUARDED_KEYS.has(k)) return undefined;
    if (typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v)))
      out += `${JSON.stringify(k)}:${JSON.stringify(v)},`;
    else if (v !== undefined) return undefined;
  }
  return out;
}

/**
 * A Fastify `childLoggerFactory` that makes the per-request child logger only when the request logs
 * something beside its access line (most do not): creating a child with the PHI-safe serializers and
 * redaction costs about 5 µs a request.
 */
export const lazyChildLogger: NonNullable<FastifyServerOptions["childLoggerFactory"]> = (
  logger,
  bindings,
  opts,
) => new LazyChild(logger, bindings, opts) as unknown as FastifyBaseLogger;

type Args = Parameters<FastifyBaseLogger["info"]>;
type ChildArgs = Parameters<FastifyBaseLogger["child"]>;

/** A child logger made on first use; methods live on the prototype so creating one is one allocation. */
class LazyChild {
  private made: FastifyBaseLogger | undefined;
  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: ChildArgs[0],
    private readonly opts: ChildArgs[1],
  ) {}
  private get c(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.opts);
    return this.made;
  }
  get level(): string {
    return this.made?.level ?? this.parent.level;
  }
  set level(v: string) {
    this.c.level = v;
  }
  fatal(...a: Args): void {
    this.c.fatal(...a);
  }
  error(...a: Args): void {
    this.c.error(...a);
  }
  warn(...a: Args): void {
    this.c.warn(...a);
  }
  info(...a: Args): void {
    // A flat line (`{requestId, status…}, "request submitted"`) on our own sink: written here, as pino
    // would write it, without making the child logger and running redaction (about 10 µs a line).
    const fast = this.made === undefined && a.length === 2 ? fastLines.get(this.parent) : undefined;
    if (fast && typeof a[1] === "string" && INFO_ON.has(this.parent.level)) {
      const members = flatMembers(a[0]);
      const id = (this.bindings as Record<string, unknown>).reqId;
      if (members !== undefined && typeof id === "string" && Object.keys(this.bindings).length === 1) {
        fast.sink.write(
          `{"level":30,"time":${Date.now()},${fast.head}${JSON.stringify(id)},${members}"msg":${JSON.stringify(a[1])}}\n`,
        );
        return;
      }
    }
    this.c.info(...a);
  }
  debug(...a: Args): void {
    this.c.debug(...a);
  }
  trace(...a: Args): void {
    this.c.trace(...a);
  }
  silent(...a: Args): void {
    this.c.silent(...a);
  }
  child(...a: ChildArgs): FastifyBaseLogger {
    return this.c.child(...a);
  }
}
