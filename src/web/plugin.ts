/**
 * The reviewer web app's server side (SPEC 4 "Reviewer web app", issue 6): serves the Vite-built
 * single-page app from `dist/web` at `/`, and the few read-only JSON routes the app needs that the
 * JSON API does not offer, under `/api/ui/…` (the evaluable policy model for in-browser
 * re-evaluation, lint findings, and the queue enriched with policy and member state for filtering).
 *
 * Mounted through the server's plugin mechanism: `startServer({ plugins: [webPlugin()] })`.
 */
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Library, LibraryEntry } from "../library/index.js";
import { lintVersion } from "../library/lint.js";
import { type Determination, MedpolicyError, NotFoundError } from "../model/index.js";
import { type Channel, channelOfKey } from "../server/channel.js";
import { HttpError } from "../server/http.js";
import type { MedpolicyPlugin, ServerContext } from "../server/index.js";
import { requireRole } from "../server/routes.js";
import type { RequestStatus, RequestSummary } from "../store/index.js";
import type { UiPolicy } from "./app/types.js";

/** Options of {@link webPlugin}. */
export interface WebPluginOptions {
  /** Folder of the built app (Vite's output). Default: `dist/web` of this package. */
  dir?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * The app's own policy: scripts and styles only from this origin (Vite emits no inline script);
 * inline styles for the letter, which is rendered in a same-origin frame; blob: for the printable letter.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "frame-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join("; ");

const REVIEWERS = ["reviewer", "medical-director", "admin"] as const;

/** The package root: the nearest folder above this file with a package.json (works from src/ and dist/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** Default folder of the built app. */
export function defaultWebDir(): string {
  return join(packageRoot(), "dist", "web");
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>medpolicy</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>The reviewer web app is not built</h1>
<p>Run <code>npm run build</code> (it runs <code>vite build --config src/web/vite.config.ts</code>), then reload.
The JSON API is available at <a href="/openapi.json">/openapi.json</a>.</p></body></html>`;

/** One row of `GET /api/ui/requests`: a queue row plus what the reviewer filters and reads by. */
export interface UiRequestRow {
  id: string;
  org: string;
  receivedAt: string;
  dueAt: string;
  expedited: boolean;
  status: RequestStatus;
  overdue: boolean;
  hoursLeft: number;
  engineOutcome: string;
  decisionOutcome?: string;
  medicalDirectorOnly: boolean;
  version: number;
  policy?: { id: string; version: string; section?: string; title: string };
  /** How the request arrived: the JSON API, or the FHIR PAS API (`Claim/$submit`). */
  channel: Channel;
  codes: string[];
  memberState?: string;
  dateOfService?: string;
  /** Issue 14: the member and provider the queue shows and searches, the assignee, the flags. */
  memberName?: string;
  memberId?: string;
  providerName?: string;
  providerNpi?: string;
  assignee?: { sub: string; name: string };
  infoRequested?: boolean;
  recommendation?: string;
}

/** How a request arrived (shown as the source of its submitted answers). */
export type { Channel };

function libraryOf(ctx: ServerContext): Library {
  if (!ctx.library) {
    throw new HttpError(
      501,
      "not-implemented",
      "this server was started without a policy library: no policy browser",
    );
  }
  return ctx.library;
}

/** Reads `ref` (`ID` or `ID@VERSION`) from the query string. */
function refOf(req: FastifyRequest): string {
  const ref = (req.query as { ref?: unknown }).ref;
  if (typeof ref !== "string" || ref.length === 0 || ref.length > 120) {
    throw new MedpolicyError("input", "give the policy as ?ref=ID or ?ref=ID@VERSION", { field: "ref" });
  }
  return ref;
}

async function enrich(ctx: ServerContext, rows: RequestSummary[], nowMs: number): Promise<UiRequestRow[]> {
  const out: UiRequestRow[] = [];
  for (const r of rows) {
    const rec = await ctx.store.getRequest(r.id);
    const latest = rec?.determinations.at(-1);
    let policy: UiRequestRow["policy"];
    let codes: string[] = [];
    let memberState: string | undefined;
    let dateOfService: string | undefined;
    if (latest) {
      const det = JSON.parse(latest.determinationJson) as Determination;
      if (det.policy) {
        policy = { id: det.policy.id, version: det.policy.version, title: det.policy.title };
        if (det.policy.section) policy.section = det.policy.section;
      }
      // The case was validated when stored; read defensively all the same (a row must never break the list).
      const c = JSON.parse(latest.caseJson) as {
        member?: { state?: string };
        service?: { codes?: string[]; dateOfService?: string };
      };
      codes = Array.isArray(c.service?.codes) ? c.service.codes.map(String) : [];
      memberState = typeof c.member?.state === "string" ? c.member.state.toUpperCase() : undefined;
      dateOfService = c.service?.dateOfService;
    }
    const left = Date.parse(r.dueAt) - nowMs;
    const row: UiRequestRow = {
      id: r.id,
      org: r.org,
      receivedAt: r.receivedAt,
      dueAt: r.dueAt,
      expedited: r.expedited,
      status: r.status,
      overdue: r.status === "awaiting-review" && left < 0,
      hoursLeft: Math.round((left / 3600_000) * 10) / 10,
      engineOutcome: r.engineOutcome,
      medicalDirectorOnly: r.medicalDirectorOnly,
      version: r.version,
      channel: channelOfKey(rec?.idempotencyKey),
      codes,
    };
    if (r.decisionOutcome) row.decisionOutcome = r.decisionOutcome;
    if (policy) row.policy = policy;
    if (memberState) row.memberState = memberState;
    if (dateOfService) row.dateOfService = dateOfService;
    const ix = r.index;
    if (ix?.memberName !== undefined) row.memberName = ix.memberName;
    if (ix?.memberId !== undefined) row.memberId = ix.memberId;
    if (ix?.providerName !== undefined) row.providerName = ix.providerName;
    if (ix?.providerNpi !== undefined) row.providerNpi = ix.providerNpi;
    if (r.workflow.assignee) row.assignee = r.workflow.assignee;
    if (r.status === "awaiting-review") row.infoRequested = r.workflow.infoRequest !== undefined;
    if (r.workflow.recommendation) row.recommendation = r.workflow.recommendation.outcome;
    out.push(row);
  }
  return out.sort((a, b) => a.dueAt.localeCompare(b.dueAt) || a.receivedAt.localeCompare(b.receivedAt));
}

/** Registers the `/api/ui/…` routes (JSON, authenticated like the rest of the API). */
export function registerUiRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const reviewers = requireRole(...REVIEWERS);
  const any = requireRole();
  const today = () => ctx.clock().toISOString().slice(0, 10);

  app.get("/api/ui/requests", { preHandler: reviewers }, async (req) => {
    const scope = (req.query as { scope?: string }).scope ?? "queue";
    const statuses: Record<string, RequestStatus | undefined> = {
      queue: "awaiting-review",
      "awaiting-review": "awaiting-review",
      decided: "decided",
      approved: "approved",
      "not-applicable": "not-applicable",
      withdrawn: "withdrawn",
      all: undefined,
    };
    if (!Object.hasOwn(statuses, scope)) {
      throw new MedpolicyError("input", `scope must be one of ${Object.keys(statuses).join(", ")}`, {
        field: "scope",
      });
    }
    const status = statuses[scope];
    const rows =
      status === "awaiting-review"
        ? await ctx.store.queue()
        : await ctx.store.list({ ...(status !== undefined && { status }), limit: 500 });
    const out = await enrich(ctx, rows, ctx.clock().getTime());
    // Issue 13: the rows show member state, codes and date of service: a PHI read of each request.
    const ids = out.map((r) => r.id);
    ctx.audit.readMany(req.principal!, ids, "ui.requests.list");
    return out;
  });

  app.get("/api/ui/requests/:id/origin", { preHandler: reviewers }, async (req) => {
    const id = (req.params as { id: string }).id;
    const rec = await ctx.store.getRequest(id);
    if (!rec) throw new NotFoundError(`request ${id} not found`);
    return { id, channel: channelOfKey(rec.idempotencyKey) };
  });

  // The model the browser compiles and evaluates: the version as evaluated (authored corrections
  // applied) and its inherited predicates and code bindings, so the browser decides as the server does.
  app.get("/api/ui/policy", { preHandler: any }, async (req) => {
    const lib = libraryOf(ctx);
    return uiPolicyOf(lib, lib.get(refOf(req), today()), today());
  });

  app.get("/api/ui/lint", { preHandler: any }, async (req) => {
    const lib = libraryOf(ctx);
    const entry = lib.get(refOf(req), today());
    const id = entry.policy.identity;
    return { ref: `${id.id}@${id.version}`, findings: lintVersion(lib, entry.policy) };
  });
}

/** Serves one file of the built app, or 404 (never anything outside `dir`). */
async function sendFile(
  reply: FastifyReply,
  dir: string,
  rel: string,
  immutable: boolean,
): Promise<FastifyReply> {
  const path = resolve(dir, rel);
  if (!path.startsWith(dir + sep)) throw new NotFoundError("not found");
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new NotFoundError(`no file ${rel}`);
  const type = CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
  reply
    .type(type)
    .header("x-content-type-options", "nosniff")
    .header("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  return reply.send(await readFile(path));
}

/**
 * The web app as a server plugin (SPEC 4): `GET /` is the app (hash-routed, so no other page
 * routes), `GET /assets/*` its content-hashed files, and `/api/ui/…` the app's read-only helpers.
 */
export function webPlugin(opts: WebPluginOptions = {}): MedpolicyPlugin {
  const dir = resolve(opts.dir ?? defaultWebDir());
  return {
    name: "web",
    register(app, ctx) {
      registerUiRoutes(app, ctx);
      app.get("/", async (_req, reply) => {
        reply
          .header("content-security-policy", CSP)
          .header("referrer-policy", "no-referrer")
          .header("x-frame-options", "SAMEORIGIN");
        if (!existsSync(join(dir, "index.html"))) {
          return reply
            .code(503)
            .type("text/html; charset=utf-8")
            .header("cache-control", "no-store")
            .send(NOT_BUILT);
        }
        return sendFile(reply, dir, "index.html", false);
      });
      app.get("/assets/*", async (req, reply) => {
        const rel = (req.params as { "*": string })["*"];
        return sendFile(reply, dir, join("assets", rel), true);
      });
    },
  };
}

/**
 * `GET /api/ui/policy`: the model the browser compiles and evaluates — the version as evaluated
 * (authored corrections, placements and exclusion bindings applied) with its inherited predicates and
 * code bindings, so the browser decides as the server does.
 */
export function uiPolicyOf(lib: Library, entry: LibraryEntry, today: string): UiPolicy {
  const id = entry.policy.identity;
  return {
    ref: `${id.id}@${id.version}`,
    status: lib.statusOf(entry, today),
    versions: lib.versionsOf(id.id).map((e) => e.policy.identity.version),
    source: `policies/${entry.folder}/${entry.source.file}`,
    policy: entry.policy,
    ...(entry.evaluated !== entry.policy && { evaluated: entry.evaluated }),
    predicates: entry.predicates,
    facts: [...entry.vocabulary.values()],
    codes: entry.codes,
    corrections: entry.bindings.corrections,
  };
}
