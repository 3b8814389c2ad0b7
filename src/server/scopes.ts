/**
 * SMART scopes (SMART App Launch 2.x §Scopes and Launch Context; issue 16 "scopes checked"): parsing
 * v1 (`system/*.read`) and v2 (`system/Claim.c`, `user/*.rs`) resource scopes, granting a requested
 * set against a client's registration (SMART Backend Services), and enforcing them on the FHIR routes.
 *
 * Which interaction each FHIR route needs (issue 16, documented in docs/clients.md):
 *
 * | route                                         | needs                                   |
 * | --------------------------------------------- | --------------------------------------- |
 * | `POST /fhir/Claim/$submit`                     | `Claim` create (`c`; v1 `write`)        |
 * | `POST /fhir/Claim/$inquire`                    | `Claim` read or search (`r`/`s`; v1 `read`) |
 * | `POST /fhir/Questionnaire/$…` (package, next-question, log errors) | `Questionnaire` read (`r`) |
 * | `POST /fhir/ValueSet/$expand`                  | `ValueSet` read (`r`)                   |
 * | `GET /fhir/ClaimResponse/{id}`                 | `ClaimResponse` read (`r`)              |
 * | `POST/GET/PUT/DELETE /fhir/Subscription…`      | `Subscription` `c`/`r`/`u`/`d`; `$status` `r` |
 * | any other `GET /fhir/T/{id}` / `GET /fhir/T` / `POST /fhir/T` / `PUT` / `DELETE` | `T` `r` / `s` / `c` / `u` / `d` |
 * | any other operation `POST /fhir/T/$op`         | `T` read (`r`) — write operations must be listed in {@link OPERATION_SCOPES} |
 * | `GET /fhir/metadata`, `…/.well-known/…`        | nothing (public)                        |
 *
 * Context (`patient/`, `user/`, `system/`) is not distinguished on these payer routes: none reads a
 * patient compartment, and each request is already confined to the caller's organization. Scopes with
 * a query (`patient/Observation.rs?category=…`, SMART v2 granular scopes) are never taken to grant a
 * route: the routes cannot evaluate the restriction, so they fail closed.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from "fastify";
import type { Principal } from "./auth.js";
import { HttpError } from "./http.js";

/** A SMART resource scope, parsed. `perms` is a subset of `cruds` in that order. */
export interface ResourceScope {
  context: "patient" | "user" | "system";
  /** A FHIR resource type, or `*`. */
  type: string;
  perms: string;
  /** 1 for `read`/`write`/`*`, 2 for `cruds` letters. */
  version: 1 | 2;
  /** The v2 granular restriction after `?`, when present. */
  query?: string;
  raw: string;
}

const V2_ORDER = "cruds";
const V1_PERMS: Record<string, string> = { read: "rs", write: "cud", "*": "cruds" };
const CONTEXTS = new Set(["patient", "user", "system"]);
const MAX_SCOPE_LENGTH = 256;

const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * Parses one resource scope (SMART App Launch 2.x §Scopes for requesting FHIR resources), or returns
 * undefined for anything else (`launch`, `openid`, malformed text). Linear: a few `indexOf` and one
 * pass over the type's characters.
 */
export function parseScope(raw: string): ResourceScope | undefined {
  if (raw.length === 0 || raw.length > MAX_SCOPE_LENGTH) return undefined;
  const slash = raw.indexOf("/");
  if (slash < 0) return undefined;
  const context = raw.slice(0, slash);
  if (!CONTEXTS.has(context)) return undefined;
  const q = raw.indexOf("?", slash);
  const body = q < 0 ? raw.slice(slash + 1) : raw.slice(slash + 1, q);
  const query = q < 0 ? undefined : raw.slice(q + 1);
  if (query !== undefined && query.length === 0) return undefined;
  const dot = body.indexOf(".");
  if (dot <= 0) return undefined;
  const type = body.slice(0, dot);
  const p = body.slice(dot + 1);
  if (type !== "*") {
    if (type.length > 64) return undefined;
    for (let i = 0; i < type.length; i++) if (!isLetter(type.charCodeAt(i))) return undefined;
  }
  let perms: string;
  let version: 1 | 2;
  const v1 = V1_PERMS[p];
  if (v1 !== undefined && !(p === "*" && query !== undefined)) {
    perms = v1;
    version = 1;
  } else {
    // v2: letters of `cruds`, each at most once and in that order.
    let at = 0;
    for (let i = 0; i < p.length; i++) {
      const k = V2_ORDER.indexOf(p[i]!, at);
      if (k < 0) return undefined;
      at = k + 1;
    }
    if (p.length === 0) return undefined;
    perms = p;
    version = 2;
  }
  return {
    context: context as ResourceScope["context"],
    type,
    perms,
    version,
    ...(query !== undefined && { query }),
    raw,
  };
}

/** Splits a space-separated scope string (OAuth 2.0 `scope`), dropping empties; linear. */
export function splitScopes(scope: string): string[] {
  return scope.split(" ").filter((s) => s.length > 0);
}

function intersectPerms(a: string, b: string): string {
  let out = "";
  for (const c of V2_ORDER) if (a.includes(c) && b.includes(c)) out += c;
  return out;
}

/**
 * The scopes granted for a request (SMART Backend Services §Scopes; RFC 6749 §3.3): each requested
 * scope intersected with the registered ones, so the grant is ⊆ registered ∩ requested. A requested
 * scope fully covered by a registered one is granted as written (v1 or v2); a partly covered one is
 * granted as the covered part in v2 syntax (`system/*.rs` against a registration of `system/Claim.rs`
 * grants `system/Claim.rs`). Non-resource scopes (`launch`, `openid`, …) only when registered as
 * written. `contexts` limits the resource contexts (Backend Services: `system` only).
 */
export function grantScopes(
  requested: readonly string[],
  registered: readonly string[],
  contexts: ReadonlySet<string> = CONTEXTS,
): string[] {
  const regs = registered.map((raw) => ({ raw, s: parseScope(raw) }));
  const out = new Set<string>();
  for (const raw of requested) {
    const r = parseScope(raw);
    if (!r) {
      if (!looksLikeResourceScope(raw) && registered.includes(raw)) out.add(raw);
      continue;
    }
    if (!contexts.has(r.context)) continue;
    for (const { raw: regRaw, s: reg } of regs) {
      if (!reg || reg.context !== r.context) continue;
      if (reg.query !== undefined) {
        // A restricted registration grants only itself, asked for as written.
        if (regRaw === raw) out.add(raw);
        continue;
      }
      const type = reg.type === "*" ? r.type : r.type === "*" || r.type === reg.type ? reg.type : "";
      if (type === "") continue;
      const perms = intersectPerms(r.perms, reg.perms);
      if (perms === "") continue;
      if (type === r.type && perms === r.perms) {
        out.add(raw);
        break;
      }
      // A partial grant loses the requested restriction's meaning: only unrestricted ones are split.
      if (r.query === undefined) out.add(`${r.context}/${type}.${perms}`);
    }
  }
  return [...out];
}

/** `context/…` text that does not parse is malformed, never a grantable non-resource scope. */
function looksLikeResourceScope(raw: string): boolean {
  const slash = raw.indexOf("/");
  return slash > 0 && CONTEXTS.has(raw.slice(0, slash));
}

const parsedCache = new Map<string, ResourceScope[]>();

/** The resource scopes of a granted scope string, parsed once per distinct string (request hot path). */
export function parsedScopes(scope: string): ResourceScope[] {
  let hit = parsedCache.get(scope);
  if (hit === undefined) {
    hit = splitScopes(scope)
      .map(parseScope)
      .filter((s): s is ResourceScope => s !== undefined);
    if (parsedCache.size >= 1000) parsedCache.clear();
    parsedCache.set(scope, hit);
  }
  return hit;
}

/**
 * Whether `scope` (a granted, space-separated scope string) allows any one of the interactions in
 * `anyOf` (letters of `cruds`) on `resourceType`. Scopes with a query never do (see the module note).
 */
export function scopeAllows(scope: string, resourceType: string, anyOf: string): boolean {
  for (const s of parsedScopes(scope)) {
    if (s.query !== undefined) continue;
    if (s.type !== "*" && s.type !== resourceType) continue;
    for (let i = 0; i < anyOf.length; i++) if (s.perms.includes(anyOf[i]!)) return true;
  }
  return false;
}

/** What a FHIR route needs: a resource type and the interactions (any one suffices), or nothing. */
export type ScopeRequirement = { type: string; anyOf: string } | "public";

/**
 * Operations and the interaction each needs (issue 16): the ones that write, and the ones that read
 * another type than the path's. Keyed `Type/$name` (`/$name` for system-level operations).
 */
export const OPERATION_SCOPES: Readonly<Record<string, { type: string; anyOf: string }>> = {
  "Claim/$submit": { type: "Claim", anyOf: "c" },
  "Claim/$inquire": { type: "Claim", anyOf: "rs" },
  "Questionnaire/$questionnaire-package": { type: "Questionnaire", anyOf: "r" },
  "Questionnaire/$next-question": { type: "Questionnaire", anyOf: "r" },
  "Questionnaire/$log-questionnaire-errors": { type: "Questionnaire", anyOf: "r" },
  "/$log-questionnaire-errors": { type: "Questionnaire", anyOf: "r" },
  "ValueSet/$expand": { type: "ValueSet", anyOf: "r" },
  "Subscription/$status": { type: "Subscription", anyOf: "r" },
};

function decodeSegment(seg: string): string {
  // Operations may arrive percent-encoded (`%24submit`); only `%24` matters for matching.
  return seg.startsWith("%24") ? `$${seg.slice(3)}` : seg;
}

/**
 * The scope a FHIR request needs, from its method and its path segments below `/fhir`
 * (`["Claim", "$submit"]`), per the table in this module's note; undefined when no rule covers it
 * (refused).
 */
export function scopeRequirement(method: string, segs: readonly string[]): ScopeRequirement | undefined {
  if (segs.length === 0) return undefined;
  if (segs[0] === "metadata" || segs[0] === ".well-known") return "public";
  const first = decodeSegment(segs[0]!);
  if (first.startsWith("$")) return OPERATION_SCOPES[`/${first}`];
  const type = first;
  const last = decodeSegment(segs[segs.length - 1]!);
  if (segs.length >= 2 && last.startsWith("$")) {
    if (method !== "POST" && method !== "GET") return undefined;
    return OPERATION_SCOPES[`${type}/${last}`] ?? { type, anyOf: "r" };
  }
  switch (method) {
    case "GET":
    case "HEAD":
      return { type, anyOf: segs.length === 1 ? "s" : "r" };
    case "POST":
      return { type, anyOf: segs.length === 2 && segs[1] === "_search" ? "s" : "c" };
    case "PUT":
    case "PATCH":
      return { type, anyOf: "u" };
    case "DELETE":
      return { type, anyOf: "d" };
    default:
      return undefined;
  }
}

/** The path of a request URL, without its query (linear: one `indexOf`). */
export function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

/** Whether `path` is under `prefix` (`/fhir` matches `/fhir` and `/fhir/…`, not `/fhirx`). */
export function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * The path segments of the route a request matched, with its parameters' decoded values
 * (`/fhir/:type/:operation` → `["fhir", "Claim", "$submit"]`): the router decodes percent-escapes, so
 * the raw URL (`/fhir/Cl%61im/$submit`) must not decide which scope applies. Without a matched
 * route (404), the raw path's segments.
 */
export function routeSegments(req: {
  url: string;
  params: unknown;
  routeOptions: { url?: string | undefined };
}): string[] {
  const pattern = req.routeOptions.url;
  if (pattern === undefined)
    return pathOf(req.url)
      .split("/")
      .filter((s) => s.length > 0);
  const params = (req.params ?? {}) as Record<string, unknown>;
  const out: string[] = [];
  for (const seg of pattern.split("/")) {
    if (seg.length === 0) continue;
    if (seg.startsWith(":")) out.push(String(params[seg.slice(1)] ?? ""));
    else if (seg === "*") out.push(String(params["*"] ?? ""));
    else out.push(seg);
  }
  return out;
}

/** Paths a scoped (SMART) token may call besides `/fhir`: discovery only. */
const SCOPED_PUBLIC = ".well-known";

/**
 * Why a principal carrying SMART scopes may not make this request (method and {@link routeSegments}),
 * or undefined (issue 16). Principals without `scope` (the service's own tokens, CDS Hooks clients)
 * are not scope-checked: their roles are (SPEC 4). A scoped token is for the FHIR API only: anywhere
 * else it is refused.
 */
export function scopeRefusal(p: Principal, method: string, segs: readonly string[]): string | undefined {
  if (p.scope === undefined) return undefined;
  if (segs[0] !== "fhir") {
    if (segs[0] === SCOPED_PUBLIC) return undefined;
    return "this token carries SMART scopes and is accepted by the FHIR API (/fhir) only";
  }
  const need = scopeRequirement(method, segs.slice(1));
  if (need === "public") return undefined;
  if (need === undefined) return "no SMART scope grants this interaction";
  if (scopeAllows(p.scope, need.type, need.anyOf)) return undefined;
  return `the token's scopes do not allow this: it needs ${describe(need)}`;
}

function describe(need: { type: string; anyOf: string }): string {
  const letters = need.anyOf.split("");
  const v2 = letters.map((l) => `system/${need.type}.${l}`).join(" or ");
  return `${v2} (or the user/ or patient/ form, or v1 ${need.type}.${need.anyOf === "r" || need.anyOf === "rs" || need.anyOf === "s" ? "read" : "write"})`;
}

/** A FHIR R4 OperationOutcome with one issue (the FHIR layer's error shape). */
export function outcome(code: "login" | "forbidden" | "throttled" | "invalid", text: string): object {
  return {
    resourceType: "OperationOutcome",
    issue: [{ severity: "error", code, details: { text }, diagnostics: text }],
  };
}

/** RFC 6750 §3 challenge for a refused bearer token. */
export function bearerChallenge(error?: "invalid_token" | "insufficient_scope", scope?: string): string {
  let h = 'Bearer realm="medpolicy"';
  if (error) h += `, error="${error}"`;
  if (scope) h += `, scope="${scope}"`;
  return h;
}

/**
 * Answers a refused request (issue 16 item 7): under `/fhir` an OperationOutcome (`login` for 401,
 * `forbidden` for 403, `throttled` for 429) as `application/fhir+json`; under `/cds-services` the
 * same OperationOutcome as JSON (the CRD routes' error shape). Returns false for other paths, which
 * keep the JSON API's error body.
 */
export function sendFhirRefusal(
  reply: FastifyReply,
  path: string,
  status: 401 | 403 | 429,
  message: string,
  headers: Record<string, string>,
): boolean {
  const fhir = under(path, "/fhir");
  if (!fhir && !under(path, "/cds-services")) return false;
  const code = status === 401 ? "login" : status === 403 ? "forbidden" : "throttled";
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  reply
    .code(status)
    .type(fhir ? "application/fhir+json; charset=utf-8" : "application/json; charset=utf-8")
    .send(outcome(code, message));
  return true;
}

/**
 * A preHandler for FHIR routes (issue 16 item 5): a caller whose token carries SMART scopes must hold
 * one allowing any of `interaction` (letters of `cruds`) on `resourceType`, else 403 OperationOutcome
 * `forbidden`. Callers without scopes (the service's own tokens) pass: their roles are checked by
 * `requireRole`. The server's request hook already applies the route table above to every `/fhir`
 * request, so routes need this only to ask for more than the table does.
 */
export function requireScope(
  resourceType: string,
  interaction: string,
): (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
  const message = `the token's scopes do not allow this: it needs ${describe({ type: resourceType, anyOf: interaction })}`;
  return (req, _reply, done) => {
    const p = req.principal;
    if (p?.scope === undefined || scopeAllows(p.scope, resourceType, interaction)) done();
    // Through the route scope's error handler: an OperationOutcome `forbidden` under /fhir.
    else
      done(
        new HttpError(403, "forbidden", message, {
          "www-authenticate": bearerChallenge("insufficient_scope"),
        }),
      );
  };
}
