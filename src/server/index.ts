/**
 * server/: the HTTP service (SPEC 4): the JSON API with its OpenAPI document, the review workflow over
 * the store, authentication and roles, and the mount point for the FHIR and web layers.
 *
 * `startServer` is what `medpolicy serve` and `npm start` call: the embedded SQLite database in
 * `./data` by default, PostgreSQL when a URL is given (`DATABASE_URL`).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import type { Library } from "../library/index.js";
import { openStore, type Store } from "../store/index.js";
import { Auth, DEMO_USERS, loadSecret, type Principal } from "./auth.js";
import type { Engine } from "./engine.js";
import { HttpError, installJsonParser, loggableField, loggerOption, RateLimiter, sendError } from "./http.js";
import { registerRoutes } from "./routes.js";
import { type DecisionListener, RequestService } from "./service.js";

export type { Principal, Role } from "./auth.js";
export { Auth, DEMO_USERS, loadSecret, ROLES } from "./auth.js";
export type { Engine } from "./engine.js";
export { errorResponse, HttpError } from "./http.js";
export { requireRole } from "./routes.js";
export type { DecisionListener, ProviderStatus } from "./service.js";
export { providerStatusOf, RequestService, requestView } from "./service.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The verified caller, when the request carried a valid bearer token. */
    principal?: Principal;
  }
  interface FastifyInstance {
    medpolicy: ServerContext;
  }
}

/**
 * What mounted plugins (FHIR in `src/server/fhir/`, the web app in `src/web/`) get: the store, the
 * engine, the workflow service, authentication, and the decision hook for subscriptions (SPEC 4).
 */
export interface ServerContext {
  store: Store;
  engine: Engine;
  /** The loaded library, when the server was started from one. */
  library?: Library;
  auth: Auth;
  service: RequestService;
  clock: () => Date;
  /** Subscribes to every stored determination and signed decision; returns the unsubscribe function. */
  onDecision(listener: DecisionListener): () => void;
  /** `databaseUrl` is set when the store is PostgreSQL, so plugins can keep their state beside it. */
  config: { demo: boolean; dataDir: string; databaseUrl?: string; version: string };
}

/** A plugin mounted beside the JSON API; registered in its own Fastify scope under `prefix`. */
export interface MedpolicyPlugin {
  name: string;
  prefix?: string;
  register(app: FastifyInstance, ctx: ServerContext): Promise<void> | void;
}

export interface StartOptions {
  /** Default 8080 (`PORT`); 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1 (`HOST`). */
  host?: string;
  /** Embedded database and the generated token secret live here. Default `./data` (`MEDPOLICY_DATA`). */
  dataDir?: string;
  /** PostgreSQL URL (`DATABASE_URL`); `?schema=NAME` selects a schema. Default: the embedded database. */
  databaseUrl?: string;
  library?: Library;
  /** Instead of `library`: a ready engine (embedding, tests). */
  engine?: Engine;
  /** A ready store (embedding, tests); closed by `close()`. */
  store?: Store;
  /** Fastify/pino logger options; the PHI-safe serializers and redaction always apply. */
  logger?: boolean | Record<string, unknown>;
  /** Extra Fastify plugins (FHIR, web). */
  plugins?: MedpolicyPlugin[];
  /** Demo mode: `GET /api/demo-tokens` on loopback. Default on unless `MEDPOLICY_DEMO=0` or production. */
  demo?: boolean;
  /** Per-token rate limit; `false` disables. Default 200 requests/s sustained, bursts of 400. */
  rateLimit?: { perSecond: number; burst: number } | false;
  /** Request body limit in bytes; default 256 KB. */
  bodyLimit?: number;
  /** The clock (tests of due times); default the system clock. */
  clock?: () => Date;
  /** Suppresses the start-up banner on stdout. */
  quiet?: boolean;
}

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  ctx: ServerContext;
  close(): Promise<void>;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/** Builds the Fastify app without listening (tests use `app.inject`, `startServer` listens). */
export async function buildServer(
  opts: StartOptions = {},
): Promise<{ app: FastifyInstance; ctx: ServerContext }> {
  const env = process.env;
  const dataDir = resolve(opts.dataDir ?? env.MEDPOLICY_DATA ?? "data");
  const databaseUrl = opts.databaseUrl ?? env.DATABASE_URL;
  // Loaded lazily: an embedder that brings its own engine does not pay for (or depend on) the library.
  let library = opts.library;
  let engine = opts.engine;
  if (!engine) {
    library ??= (await import("../library/index.js")).loadLibrary();
    engine = (await import("./engine.js")).libraryEngine(library);
  }
  const store = opts.store ?? (await openStore({ dataDir, ...(databaseUrl && { databaseUrl }) }));
  try {
    return await assemble(opts, {
      store,
      engine,
      library,
      dataDir,
      // Only when the URL is the store's: an injected SQLite store keeps plugins on SQLite too.
      ...(databaseUrl && store.kind === "postgres" && { databaseUrl }),
      env,
    });
  } catch (err) {
    // A failed start must not leave the database open (the caller gets no handle to close it).
    if (!opts.store) await store.close().catch(() => {});
    throw err;
  }
}

async function assemble(
  opts: StartOptions,
  deps: {
    store: Store;
    engine: Engine;
    library: Library | undefined;
    dataDir: string;
    databaseUrl?: string;
    env: NodeJS.ProcessEnv;
  },
): Promise<{ app: FastifyInstance; ctx: ServerContext }> {
  const { store, engine, library, dataDir, databaseUrl, env } = deps;
  const auth = new Auth(loadSecret(dataDir, env));
  const clock = opts.clock ?? (() => new Date());
  const demo = opts.demo ?? (env.MEDPOLICY_DEMO !== "0" && env.NODE_ENV !== "production");

  const app = Fastify({
    logger: loggerOption(opts.logger),
    bodyLimit: opts.bodyLimit ?? 256 * 1024,
    // Request ids in logs are ours to correlate; they carry no PHI.
    genReqId: () => Math.random().toString(36).slice(2, 10),
    // On close, drop idle keep-alive sockets but let in-flight requests finish (their writes commit first).
    forceCloseConnections: "idle",
  });
  const service = new RequestService(store, engine, clock, (msg, data) => app.log.warn(data, msg));
  const ctx: ServerContext = {
    store,
    engine,
    ...(library && { library }),
    auth,
    service,
    clock,
    onDecision: (l) => service.onDecision(l),
    config: { demo, dataDir, ...(databaseUrl && { databaseUrl }), version: packageVersion() },
  };
  app.decorate("medpolicy", ctx);
  installJsonParser(app);

  const limiter =
    opts.rateLimit === false
      ? undefined
      : new RateLimiter(opts.rateLimit?.perSecond ?? 200, opts.rateLimit?.burst ?? 400);
  app.addHook("onRequest", async (req, reply) => {
    const h = req.headers.authorization;
    const token = h?.startsWith("Bearer ") ? h.slice(7).trim() : undefined;
    if (token) {
      const p = await auth.verify(token);
      if (!p) return sendError(reply, new HttpError(401, "unauthorized", "invalid or expired token"));
      req.principal = p;
    }
    if (limiter) {
      const wait = limiter.take(token ? `t:${token}` : `ip:${req.ip}`);
      if (wait > 0) {
        return sendError(
          reply,
          new HttpError(429, "rate-limited", `too many requests: retry in ${wait} s`, {
            "retry-after": String(wait),
          }),
        );
      }
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const status = sendError(reply, err).statusCode;
    if (status >= 500) req.log.error({ err }, "request failed");
    else {
      // A rejected request is routine: its kind and the field at fault, not a stack, and never the message.
      const e = err as { name?: string; kind?: string; code?: string; where?: { field?: string } };
      req.log.info(
        { status, error: { type: e.name, kind: e.kind, code: e.code, field: loggableField(e.where?.field) } },
        "request rejected",
      );
    }
    return reply;
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new HttpError(404, "not-found", `no route ${req.method} ${req.url.split("?")[0]}`)),
  );

  await app.register(async (scope) => registerRoutes(scope, ctx));
  for (const p of opts.plugins ?? []) {
    await app.register(async (scope) => p.register(scope, ctx), {
      ...(p.prefix !== undefined && { prefix: p.prefix }),
    });
  }
  app.addHook("onClose", async () => {
    await store.close();
  });
  return { app, ctx };
}

/**
 * Starts the service (SPEC 4) and resolves once it listens. `close()` stops accepting connections,
 * finishes in-flight requests and closes the store.
 */
export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const { app, ctx } = await buildServer(opts);
  const port = opts.port ?? Number(process.env.PORT ?? 8080);
  const host = opts.host ?? process.env.HOST ?? "127.0.0.1";
  try {
    await app.listen({ port, host });
  } catch (err) {
    await app.close();
    throw err;
  }
  const addr = app.server.address();
  const boundPort = typeof addr === "object" && addr ? addr.port : port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${boundPort}`;
  if (!opts.quiet) {
    const lines = [
      `medpolicy listening on ${url} (${ctx.store.kind} store; API description at ${url}/openapi.json)`,
    ];
    if (ctx.config.demo) {
      lines.push(
        `demo mode: get tokens for every role with  curl ${url}/api/demo-tokens  (users: ${Object.keys(DEMO_USERS).join(", ")})`,
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  return { url, app, ctx, close: () => app.close() };
}
