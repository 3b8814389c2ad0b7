/**
 * server/: the HTTP service (SPEC 4): the JSON API with its OpenAPI document, the review workflow over
 * the store, authentication and roles, and the mount point for the FHIR and web layers.
 *
 * `startServer` is what `medpolicy serve` and `npm start` call: the embedded SQLite database in
 * `./data` by default, PostgreSQL when a URL is given (`DATABASE_URL`).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import { type LetterPlan, planFromEnv } from "../explain/letter.js";
import type { Library } from "../library/index.js";
import { openStore, type Store } from "../store/index.js";
import { type AuditSink, AuditTrail, registerAuditRoute } from "./audit.js";
import { Auth, ConfigError, DEMO_USERS, loadSecrets, type Principal } from "./auth.js";
import { registerAuthoringRoutes } from "./authoring.js";
import { type AuthorityConfig, authorityFromEnv } from "./authority.js";
import {
  type ClientRegistration,
  ClientRegistry,
  loadClientsFile,
  parseClients,
  registerClientAuthRoutes,
} from "./clients.js";
import type { Engine } from "./engine.js";
import { HttpError, installJsonParser, loggableField, loggerOption, RateLimiter, sendError } from "./http.js";
import { type InstanceRegistration, registerInstance } from "./instances.js";
import { LibraryWatcher, LiveLibrary, libraryPollMs } from "./library-watch.js";
import {
  accessLogger,
  BatchedLineWriter,
  defaultLogLevel,
  installAccessLog,
  type LineSink,
  lazyChildLogger,
} from "./logging.js";
import { registerRoutes, requireRole } from "./routes.js";
import { bearerChallenge, pathOf, routeSegments, scopeRefusal, sendFhirRefusal, under } from "./scopes.js";
import { type DecisionListener, RequestService } from "./service.js";

export type { AuditSink } from "./audit.js";
export type { Principal, Role, SecretSet } from "./auth.js";
export {
  Auth,
  ConfigError,
  DEMO_USERS,
  loadSecret,
  loadSecrets,
  MAX_TOKEN_TTL_SECONDS,
  ROLES,
  secretWeakness,
} from "./auth.js";
export {
  type ClientKind,
  type ClientRegistration,
  ClientRegistry,
  parseClients,
} from "./clients.js";
export type { Engine } from "./engine.js";
export { errorResponse, HttpError } from "./http.js";
export { type LogLevel, parseLogLevel } from "./logging.js";
export { authRefusal, requireRole } from "./routes.js";
export { requireScope, scopeAllows } from "./scopes.js";
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
  /** Issue 16: registered external clients (CDS Hooks clients, Backend Services clients, SMART issuers). */
  clients: ClientRegistry;
  service: RequestService;
  clock: () => Date;
  /** Subscribes to every stored determination and signed decision; returns the unsubscribe function. */
  onDecision(listener: DecisionListener): () => void;
  /**
   * The audit trail of PHI reads (issue 13): call `ctx.audit.read(req.principal!, requestId, action)`
   * after every successful read of a request's case, determinations, decision or letter.
   */
  audit: AuditSink;
  /** `databaseUrl` is set when the store is PostgreSQL, so plugins can keep their state beside it. */
  config: {
    demo: boolean;
    dataDir: string;
    databaseUrl?: string;
    version: string;
    /** Subscription endpoint allow-list (issue 13; see `StartOptions.subscriptionAllow`). */
    subscriptionAllow?: string[];
    /** The public base URL (issue 13; see `StartOptions.publicUrl`); set once the server listens. */
    publicUrl?: string;
  };
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
  /**
   * Fastify/pino logger options; the PHI-safe serializers and redaction always apply. Default
   * (issue 13): one access-log line per request on stderr at `MEDPOLICY_LOG`'s level, else `info` —
   * off for `quiet` embeddings unless `MEDPOLICY_LOG` is set; `false` turns it off.
   */
  logger?: boolean | Record<string, unknown>;
  /** Extra Fastify plugins (FHIR, web). */
  plugins?: MedpolicyPlugin[];
  /**
   * Demo mode (`--demo`): `GET /api/demo-tokens` hands one-hour tokens for the demo users to a caller
   * on loopback that is not behind a proxy. Default off, whatever `NODE_ENV` (issue 13).
   */
  demo?: boolean;
  /** Per-token rate limit; `false` disables. Default 200 requests/s sustained, bursts of 400. */
  rateLimit?: { perSecond: number; burst: number } | false;
  /** Request body limit in bytes; default 256 KB. */
  bodyLimit?: number;
  /** The clock (tests of due times); default the system clock. */
  clock?: () => Date;
  /**
   * Suppresses the start-up banner on stdout, and (when `logger` is not given) the access log unless
   * `MEDPOLICY_LOG` asks for it: embeddings and tests stay silent.
   */
  quiet?: boolean;
  /**
   * The service's public base URL, for FHIR `fullUrl`s and the CapabilityStatement (issue 13:
   * `MEDPOLICY_PUBLIC_URL`; default `http://<host>:<port>` of the listening address; never the
   * request's `Host` header).
   */
  publicUrl?: string;
  /**
   * Hosts/origins PAS Subscription endpoints may name (issue 13; `MEDPOLICY_SUBSCRIPTION_ALLOW`,
   * comma-separated). Default empty: any host resolving only to public addresses, over https; loopback
   * or private hosts (and http in development) only when listed here.
   */
  subscriptionAllow?: string[];
  /**
   * Issue 14: who may sign adverse medical-necessity outcomes (`MEDPOLICY_ADVERSE_SIGNERS`; default
   * the medical director).
   */
  authority?: AuthorityConfig;
  /** Issue 14: the plan the letters come from (`MEDPOLICY_PLAN_NAME`, `_ADDRESS`, `_PHONE`, `MEDPOLICY_TIME_ZONE`). */
  plan?: LetterPlan;
  /**
   * Issue 15 item 3: how often (ms) a payer's library folder is looked at for publications, picked up
   * without a restart (`MEDPOLICY_LIBRARY_POLL_MS`, default 2000; 0 disables polling — writes through
   * the authoring API are still served at once, issue 15 item 5). The seed library and an injected
   * `engine` are not watched.
   */
  libraryPollMs?: number;
  /**
   * Issue 16: the external clients this payer trusts (docs/clients.md) — registrations, or the path
   * of a JSON file of them. Default: the file named by `MEDPOLICY_CLIENTS`, else none. An invalid
   * registration refuses to start (ConfigError naming the field).
   */
  clients?: ClientRegistration[] | string;
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
  let live: BaseDeps["live"];
  if (!engine) {
    // The payer's library where one is named (MEDPOLICY_LIBRARY, issue 15), else the seed library.
    const { isSeedLibrary, libraryLocation, loadLibrary } = await import("../library/index.js");
    library ??= loadLibrary(libraryLocation(undefined, env).dir);
    // Issue 15 item 3: a payer's library is live — swapped whole when a publication is picked up.
    const pollMs = opts.libraryPollMs ?? libraryPollMs(env);
    // Live even when not polled (0): the authoring API reloads it after each write (issue 15 item 5).
    if (!isSeedLibrary(library.dir)) live = { library: new LiveLibrary(library), pollMs };
    engine = (await import("./engine.js")).libraryEngine(live?.library ?? library);
  }
  const store = opts.store ?? (await openStore({ dataDir, ...(databaseUrl && { databaseUrl }) }));
  try {
    return await assemble(opts, {
      store,
      engine,
      library,
      ...(live && { live }),
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

/** What `buildServer` has opened before the app is assembled. */
interface BaseDeps {
  store: Store;
  engine: Engine;
  library: Library | undefined;
  /** The payer's library as the service holds it, and how often to look for publications (issue 15). */
  live?: { library: LiveLibrary; pollMs: number };
  dataDir: string;
  databaseUrl?: string;
  env: NodeJS.ProcessEnv;
}

async function assemble(
  opts: StartOptions,
  deps: BaseDeps,
): Promise<{ app: FastifyInstance; ctx: ServerContext }> {
  const { store, dataDir, env } = deps;
  // Issue 13: a weak secret in production, or instances on one database that disagree on it, refuse
  // to start (ConfigError → `medpolicy serve` exits 2 with the reason).
  const secrets = loadSecrets(dataDir, env);
  const auth = new Auth(secrets.keys);
  // Issue 16: checked before anything is registered, so a bad file refuses to start (exit 2).
  const clients = clientRegistry(opts.clients, env, store);
  const clock = opts.clock ?? (() => new Date());
  // Issue 13: demo mode only when asked for, whatever NODE_ENV.
  const demo = opts.demo ?? false;
  const logger = opts.logger ?? accessLogger(defaultLogLevel(env, opts.quiet === true));
  const registration = await registerInstance(store, auth, secrets);
  try {
    return await assembleApp(opts, { ...deps, auth, clients, clock, demo, logger, registration });
  } catch (err) {
    await registration.stop();
    throw err;
  }
}

async function assembleApp(
  opts: StartOptions,
  deps: BaseDeps & {
    auth: Auth;
    clients: ClientRegistry;
    clock: () => Date;
    demo: boolean;
    logger: boolean | Record<string, unknown>;
    registration: InstanceRegistration;
  },
): Promise<{ app: FastifyInstance; ctx: ServerContext }> {
  const {
    store,
    engine,
    library,
    dataDir,
    databaseUrl,
    env,
    auth,
    clients,
    clock,
    demo,
    logger,
    registration,
  } = deps;
  const app = Fastify({
    logger: loggerOption(logger),
    // One access-log line per request instead of Fastify's two (installAccessLog).
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: opts.bodyLimit ?? 256 * 1024,
    // Request ids in logs are ours to correlate; they carry no PHI.
    genReqId: () => Math.random().toString(36).slice(2, 10),
    // On close, drop idle keep-alive sockets but let in-flight requests finish (their writes commit first).
    forceCloseConnections: "idle",
  });
  // Issue 14: who signs adverse outcomes and who the letters come from, read (and checked) at start.
  const service = new RequestService(store, engine, clock, (msg, data) => app.log.warn(data, msg), {
    authority: opts.authority ?? authorityFromEnv(env),
    plan: opts.plan ?? planFromEnv(env),
  });
  const audit = new AuditTrail(store, clock, (msg, data) => app.log.warn(data, msg));
  const ctx: ServerContext = {
    store,
    engine,
    ...(library && { library }),
    auth,
    clients,
    service,
    clock,
    onDecision: (l) => service.onDecision(l),
    audit,
    config: {
      demo,
      dataDir,
      ...(databaseUrl && { databaseUrl }),
      version: packageVersion(),
      ...publicUrlConfig(opts.publicUrl ?? env.MEDPOLICY_PUBLIC_URL),
      subscriptionAllow:
        opts.subscriptionAllow ??
        (env.MEDPOLICY_SUBSCRIPTION_ALLOW ?? "")
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
    },
  };
  let watcher: LibraryWatcher | undefined;
  if (deps.live) {
    // Issue 15 item 3: plugins read `ctx.library` per call and get the library in force now.
    const current = deps.live.library;
    Object.defineProperty(ctx, "library", { get: () => current.current, enumerable: true });
    watcher = new LibraryWatcher(current, {
      intervalMs: deps.live.pollMs,
      store,
      warn: (msg, data) => app.log.warn(data, msg),
      info: (msg, data) => app.log.info(data, msg),
    });
  }
  app.decorate("medpolicy", ctx);
  installJsonParser(app);
  if (logger !== false) {
    const stream = typeof logger === "object" ? (logger.stream as LineSink | undefined) : undefined;
    installAccessLog(app, typeof stream?.write === "function" ? stream : undefined);
  }
  for (const w of registration.warnings) app.log.warn(w);

  const limiter =
    opts.rateLimit === false
      ? undefined
      : new RateLimiter(opts.rateLimit?.perSecond ?? 200, opts.rateLimit?.burst ?? 400);
  /**
   * A refused request (issue 16 item 7): under /fhir and /cds-services an OperationOutcome (`login`,
   * `forbidden`, `throttled`), elsewhere the JSON API's error body.
   */
  const refuse = (
    req: FastifyRequest,
    reply: FastifyReply,
    status: 401 | 403 | 429,
    message: string,
    headers: Record<string, string>,
  ): void => {
    if (sendFhirRefusal(reply, pathOf(req.url), status, message, headers)) return;
    const code = status === 401 ? "unauthorized" : status === 403 ? "forbidden" : "rate-limited";
    sendError(reply, new HttpError(status, code, message, headers));
  };
  // Callback style with a synchronous path (no token, or a token verified before): an async hook
  // costs a promise and a microtask turn per request (issue 13: evaluate within 10% of a bare route).
  const limit = (req: FastifyRequest, reply: FastifyReply, token: string | undefined): boolean => {
    if (!limiter) return false;
    // A token's bucket is keyed by the token string itself (only verified tokens get here, and a JWT
    // has no ':' so it cannot meet an `ip:` key): no new string per request, and the Map reuses the
    // hash the auth cache's lookup already computed for this string.
    const wait = limiter.take(token ?? `ip:${req.ip}`);
    if (wait <= 0) return false;
    refuse(req, reply, 429, `too many requests: retry in ${wait} s`, { "retry-after": String(wait) });
    return true;
  };
  // Issue 13: tokens that fail verification, per client address: after a burst of 20, 5 a second, and
  // past that a 429 without verifying (guessing tokens, or a client looping on an expired one).
  const failures = opts.rateLimit === false ? undefined : new RateLimiter(5, 20);
  const tooMany = (req: FastifyRequest, reply: FastifyReply, wait: number) =>
    refuse(req, reply, 429, `too many invalid tokens: retry in ${wait} s`, { "retry-after": String(wait) });
  /**
   * Issue 16 item 5: a principal carrying SMART scopes (a Backend Services or App Launch token) is
   * checked against the route it called (src/server/scopes.ts); true when refused. Synchronous, and a
   * single property test for the service's own tokens (no scope).
   */
  const outOfScope = (req: FastifyRequest, reply: FastifyReply, p: Principal): boolean => {
    if (p.scope === undefined) return false;
    const why = scopeRefusal(p, req.method, routeSegments(req));
    if (why === undefined) return false;
    refuse(req, reply, 403, why, { "www-authenticate": bearerChallenge("insufficient_scope") });
    return true;
  };
  const baseUrl = () => ctx.config.publicUrl ?? "http://localhost";
  /**
   * Verifies a token not seen before (issue 16): the service's own token; else, when clients are
   * registered, a CDS client's hook JWT on `/cds-services/{id}` (its `aud` is the endpoint called) or
   * a SMART issuer's access token under `/fhir`.
   */
  const verify = async (
    req: FastifyRequest,
    token: string,
  ): Promise<{ principal: Principal } | { principal?: undefined; status: 401 | 429; reason: string }> => {
    const own = await auth.verify(token);
    if (own) return { principal: own };
    const invalid = { status: 401 as const, reason: "invalid or expired token" };
    if (clients.empty) return invalid;
    const path = pathOf(req.url);
    let r: Awaited<ReturnType<ClientRegistry["verifyHookJwt"]>> | undefined;
    // The hook JWT's aud is the URL called (CDS Hooks 2.0), discovery and feedback included.
    if (under(path, "/cds-services")) {
      r = await clients.verifyHookJwt(token, `${baseUrl()}${path}`);
    } else if (under(path, "/fhir")) {
      r = await clients.verifyAccessToken(token, `${baseUrl()}/fhir`);
    }
    if (!r) return invalid;
    if (!r.ok) {
      // Which check failed, for the integrator's logs; never the token or its claims.
      req.log.info({ reason: r.reason }, "client token refused");
      return { status: r.status, reason: `invalid token: ${r.reason}` };
    }
    return { principal: r.principal };
  };
  app.addHook("onRequest", (req, reply, done) => {
    const h = req.headers.authorization;
    // What an authorized caller reads (requests, determinations, letters: PHI) is never kept by a
    // browser or a shared cache. Set first, so refusals carry it too; a route may still say otherwise.
    if (h !== undefined) reply.header("cache-control", "no-store");
    const token = h?.startsWith("Bearer ") ? h.slice(7).trim() : undefined;
    const known = token ? (auth.cached(token) ?? clients.cachedAccess(token)) : undefined;
    if (!token || known) {
      if (known) {
        req.principal = known;
        if (outOfScope(req, reply, known)) return;
      }
      if (!limit(req, reply, token)) done();
      return;
    }
    // A token not verified before costs a verification: charged to the client's address, so spraying
    // new tokens is limited like anonymous requests are.
    const ip = `ip:${req.ip}`;
    // The service's clock (tests freeze it): the limit is then exact, whatever the machine's speed.
    const failWait = failures?.peek(ip, clock().getTime()) ?? 0;
    if (failWait > 0) {
      tooMany(req, reply, failWait);
      return;
    }
    if (limit(req, reply, undefined)) return;
    verify(req, token).then(
      (v) => {
        if (!v.principal) {
          const wait = failures?.take(ip, clock().getTime()) ?? 0;
          if (wait > 0) tooMany(req, reply, wait);
          else if (v.status === 429) refuse(req, reply, 429, v.reason, { "retry-after": "1" });
          else refuse(req, reply, 401, v.reason, { "www-authenticate": bearerChallenge("invalid_token") });
          return;
        }
        req.principal = v.principal;
        if (outOfScope(req, reply, v.principal)) return;
        // A hook JWT is used once (its jti): its bucket is the client's, not the one-off token's.
        if (
          !limit(
            req,
            reply,
            v.principal.scope === undefined && v.principal.client ? `client:${v.principal.client}` : token,
          )
        )
          done();
      },
      (err: unknown) => done(err as Error),
    );
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
  // Issue 16: SMART Backend Services token endpoint and SMART discovery.
  await app.register(async (scope) => registerClientAuthRoutes(scope, clients, auth, baseUrl));
  await app.register(async (scope) =>
    registerAuthoringRoutes(scope, ctx, {
      ...(watcher && { watcher }),
      authors: requireRole("policy-author", "admin"),
    }),
  );
  await app.register(async (scope) => registerAuditRoute(scope, audit, requireRole("admin")));
  for (const p of opts.plugins ?? []) {
    await app.register(async (scope) => p.register(scope, ctx), {
      ...(p.prefix !== undefined && { prefix: p.prefix }),
    });
  }
  app.addHook("onClose", async () => {
    // In-flight requests have finished: write the reads they recorded, then leave the registry.
    await watcher?.stop();
    await audit.close();
    await registration.stop();
    await store.close();
    const stream =
      typeof logger === "object" ? (logger.stream as { end?: () => void } | undefined) : undefined;
    if (stream instanceof BatchedLineWriter) stream.end();
  });
  if (watcher) {
    // Issue 15 item 3: a published version whose snapshot is not the one the audit trail sealed does
    // not decide (the snapshot, its checksum and the library's log can all be edited in the folder).
    // Fail closed: a library whose seals cannot be checked is not served (later looks check only
    // publications that are new to them).
    let broken: string[];
    try {
      broken = await watcher.sealMismatches(watcher.live.current.publications());
    } catch (err) {
      await app.close();
      throw new ConfigError(
        `the publications' seals could not be checked: the audit trail cannot be read (${(err as Error).name})`,
      );
    }
    if (broken.length > 0) {
      await app.close();
      throw new ConfigError(`the policy library does not match the audit trail: ${broken.join("; ")}`);
    }
  }
  watcher?.start();
  return { app, ctx };
}

/**
 * The client registry (issue 16): `StartOptions.clients` (registrations or a file path), else the file
 * named by `MEDPOLICY_CLIENTS`, else empty. Invalid registrations throw a ConfigError naming the field.
 */
function clientRegistry(
  given: StartOptions["clients"],
  env: NodeJS.ProcessEnv,
  store: Store,
): ClientRegistry {
  // Used `jti`s are recorded in the database too: instances sharing it refuse each other's replays.
  const opts = store.useNonce ? { nonces: store.useNonce.bind(store) } : {};
  if (Array.isArray(given)) return new ClientRegistry(parseClients(given, "StartOptions.clients"), opts);
  const file = given ?? env.MEDPOLICY_CLIENTS;
  if (file === undefined || file.trim() === "") return new ClientRegistry([], opts);
  return new ClientRegistry(loadClientsFile(file.trim()), opts);
}

/**
 * The configured public base URL (issue 13): an absolute http(s) URL without query or fragment, kept
 * without its trailing slash; anything else refuses to start.
 */
function publicUrlConfig(raw: string | undefined): { publicUrl?: string } {
  if (raw === undefined || raw.trim() === "") return {};
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new Error("the public URL (--public-url, MEDPOLICY_PUBLIC_URL) is not an absolute URL");
  }
  if ((u.protocol !== "http:" && u.protocol !== "https:") || u.search || u.hash || u.username || u.password)
    throw new Error(
      "the public URL (--public-url, MEDPOLICY_PUBLIC_URL) must be http(s)://host[:port][/path], with no query, fragment or credentials",
    );
  let publicUrl = u.toString();
  while (publicUrl.endsWith("/")) publicUrl = publicUrl.slice(0, -1);
  return { publicUrl };
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
  ctx.config.publicUrl ??= url;
  if (!opts.quiet) {
    const lines = [
      `medpolicy listening on ${url} (${ctx.store.kind} store; API description at ${url}/openapi.json)`,
    ];
    if (ctx.config.demo) {
      lines.push(
        `demo mode: get one-hour tokens for every role with  curl ${url}/api/demo-tokens  (users: ${Object.keys(DEMO_USERS).join(", ")}; loopback only, never through a proxy)`,
      );
    } else {
      lines.push(
        "get a token with  npx medpolicy token --role reviewer --sub YOU  (signed with this server's secret; see --help)",
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  return { url, app, ctx, close: () => app.close() };
}
