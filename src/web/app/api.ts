/**
 * The web app's client of the JSON API (`/api`, SPEC 4) and of the web plugin's `/api/ui` helpers:
 * bearer token from the session, JSON in and out, errors as {@link ApiError} with the server's message.
 */
import type {
  AuthoringAddResult,
  AuthoringPolicyRow,
  AuthoringVersion,
  Decision,
  Determination,
  PolicyDiff,
  TryResult,
  UiPolicy,
  UiRequestRow,
} from "./types.js";

/** An error answer of the API (`{ error: { status, code, message, where } }`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Who is signed in (the claims of their token). */
export interface Principal {
  sub: string;
  name: string;
  role: "provider" | "reviewer" | "medical-director" | "admin" | "policy-author";
  org?: string;
}

/** A signed-in user: the bearer token and its claims. */
export interface Session {
  token: string;
  principal: Principal;
}

const KEY = "medpolicy.session";

/** The session kept for this tab (sessionStorage: a shared computer does not keep a reviewer signed in). */
export function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps (or, with `undefined`, forgets) the session for this tab. */
export function saveSession(s: Session | undefined): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

/** Reads a token's claims for display only (the server verifies every call). */
export function principalOfToken(token: string): Principal | undefined {
  const part = token.split(".")[1];
  if (!part) return undefined;
  try {
    const json = atob(
      part
        .replace(/-/g, "+")
        .replace(/_/g, "/")
        .padEnd(Math.ceil(part.length / 4) * 4, "="),
    );
    const c = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (ch) => ch.charCodeAt(0)))) as Record<
      string,
      unknown
    >;
    if (typeof c.sub !== "string" || typeof c.name !== "string" || typeof c.role !== "string")
      return undefined;
    const p: Principal = { sub: c.sub, name: c.name, role: c.role as Principal["role"] };
    if (typeof c.org === "string") p.org = c.org;
    return p;
  } catch {
    return undefined;
  }
}

/** Called on 401 so the app can return to sign-in. */
let onUnauthorized: () => void = () => {};
/** Sets what happens when the server rejects the session (401): the app returns to sign-in. */
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

async function request(
  path: string,
  init: { method?: string; body?: unknown; accept?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers, accept: init.accept ?? "application/json" };
  const s = loadSession();
  if (s) headers.authorization = `Bearer ${s.token}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method: init.method ?? "GET",
    headers,
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  if (!res.ok) {
    let code = "error";
    let message = `${res.status} ${res.statusText}`;
    let field: string | undefined;
    try {
      const b = (await res.json()) as {
        error?: { code?: string; message?: string; field?: string; where?: { field?: string } };
      };
      code = b.error?.code ?? code;
      message = b.error?.message ?? message;
      field = b.error?.where?.field ?? b.error?.field;
    } catch {
      // Not JSON: keep the status line.
    }
    if (res.status === 401 && s) onUnauthorized();
    throw new ApiError(res.status, code, message, field);
  }
  return res;
}

/** GET/POST JSON. */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  return (await (await request(path, init)).json()) as T;
}

/** GET text (the letter). */
export async function apiText(path: string): Promise<string> {
  return (await request(path, { accept: "text/html" })).text();
}

// ---- Typed calls ----

/** A demo user from `GET /api/demo-tokens` (demo mode, loopback only). */
export interface DemoUser extends Principal {
  token: string;
}

/** `GET /api/demo-tokens`. */
export const getDemoTokens = () => api<{ tokens: Record<string, DemoUser> }>("/api/demo-tokens");
/** `GET /api/health`. */
export const getHealth = () => api<{ ok: boolean; store: string; demo: boolean }>("/api/health");
/** `GET /api/ui/requests?scope=…`: the queue (or another workflow status) with policy and member state. */
export const getRequests = (scope: string) =>
  api<UiRequestRow[]>(`/api/ui/requests?scope=${encodeURIComponent(scope)}`);
/** `GET /api/ui/requests/:id/origin`: whether the request came through the JSON API or FHIR PAS. */
export const getOrigin = (id: string) =>
  api<{ id: string; channel: "api" | "fhir-pas" }>(`/api/ui/requests/${encodeURIComponent(id)}/origin`);
/** `GET /api/requests/:id`: the request, with the determination history for reviewers. */
export const getRequest = (id: string) => api<RequestView>(`/api/requests/${encodeURIComponent(id)}`);
/** `GET /api/requests` as a provider: their organization's requests. */
export const getProviderRequests = () =>
  api<{ id: string; receivedAt: string; dueAt: string; expedited: boolean }[]>("/api/requests");
/**
 * `POST /api/requests/:id/answers`: answers and/or typed facts merged into the case; the server
 * re-evaluates (SPEC 2.3). Empty parts are left out: the API wants at least one answer or fact.
 */
export const postAnswers = (
  id: string,
  changes: { answers?: Record<string, boolean>; facts?: Record<string, FactValue> },
) => {
  const body: { answers?: Record<string, boolean>; facts?: Record<string, FactValue> } = {};
  if (changes.answers && Object.keys(changes.answers).length > 0) body.answers = changes.answers;
  if (changes.facts && Object.keys(changes.facts).length > 0) body.facts = changes.facts;
  return api<RequestView>(`/api/requests/${encodeURIComponent(id)}/answers`, { method: "POST", body });
};

/** What a reviewer signs, previews or recommends (issue 14: `POST …/decision`, `…/letter-preview`). */
export interface DecisionBody {
  outcome: Decision["outcome"];
  reason: string;
  criteria: string[];
  version?: number;
  /** Required when the signed outcome departs from the engine's approved / denied / not-covered. */
  overrideReason?: string;
  /** The outcome of each reviewed service, where they differ; `outcome` is then the most severe. */
  lines?: { code: string; outcome: Decision["outcome"] }[];
  /** The previewed letter's SHA-256: the server refuses (409) to sign a letter that differs from it. */
  letterSha256?: string;
}

/** `POST /api/requests/:id/decision`: signs a decision (SPEC 2.4, issue 14). */
export const postDecision = (id: string, body: DecisionBody) =>
  api<RequestView>(`/api/requests/${encodeURIComponent(id)}/decision`, { method: "POST", body });

/** A letter preview: the exact HTML the letter will have if signed now, and its SHA-256 (hex). */
export interface LetterPreview {
  html: string;
  sha256: string;
  /** Whether the browser recomputed the hash of the bytes and it matched the server's header. */
  verified: boolean;
}

/** Hex SHA-256 of `bytes`, or `undefined` where WebCrypto is unavailable (a non-secure origin). */
async function sha256Hex(bytes: ArrayBuffer): Promise<string | undefined> {
  if (!globalThis.crypto?.subtle) return undefined;
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * `POST /api/requests/:id/letter-preview` (issue 14): nothing is written. The hash is checked against
 * the bytes received, so what the reviewer reads is what `letterSha256` will pin when signing.
 */
export async function postLetterPreview(id: string, body: DecisionBody): Promise<LetterPreview> {
  const res = await request(`/api/requests/${encodeURIComponent(id)}/letter-preview`, {
    method: "POST",
    body,
    accept: "text/html",
  });
  const sha256 = (res.headers.get("x-letter-sha256") ?? "").toLowerCase();
  const bytes = await res.arrayBuffer();
  const mine = await sha256Hex(bytes);
  if (mine !== undefined && sha256 !== "" && mine !== sha256)
    throw new ApiError(502, "preview-mismatch", "The letter preview arrived damaged: preview it again.");
  return {
    html: new TextDecoder().decode(bytes),
    sha256: sha256 || (mine ?? ""),
    verified: mine !== undefined,
  };
}

/** `POST /api/requests/:id/recommendation` (issue 14): a nurse's recommendation of an adverse outcome. */
export const postRecommendation = (
  id: string,
  body: { outcome: Decision["outcome"]; reason: string; criteria: string[]; version?: number },
) => api<RequestView>(`/api/requests/${encodeURIComponent(id)}/recommendation`, { method: "POST", body });

/** `POST /api/requests/:id/information-request` (issue 14): pends the request to the provider. */
export const postInformationRequest = (id: string, body: { message: string; criteria?: string[] }) =>
  api<RequestView>(`/api/requests/${encodeURIComponent(id)}/information-request`, {
    method: "POST",
    body,
  });

/** `POST /api/requests/:id/notes` (issue 14): an evidence note on a criterion, or an internal note. */
export const postNote = (
  id: string,
  body: { kind: "evidence"; criterion: string; text: string } | { kind: "internal"; text: string },
) => api<RequestView>(`/api/requests/${encodeURIComponent(id)}/notes`, { method: "POST", body });

/** `POST /api/requests/:id/assign` (issue 14): `null` unassigns. */
export const postAssign = (id: string, assignee: { sub: string; name: string } | null) =>
  api<RequestView>(`/api/requests/${encodeURIComponent(id)}/assign`, { method: "POST", body: { assignee } });

/** `POST /api/requests/:id/attachments` (issue 14): a document, base64 (at most 5 MB decoded). */
export const postAttachment = (id: string, body: { title: string; contentType: string; data: string }) =>
  api<Attachment>(`/api/requests/${encodeURIComponent(id)}/attachments`, { method: "POST", body });

/**
 * The bytes of an attachment (`GET /api/requests/:id/attachments/:aid`). Fetched with the bearer
 * token: a plain link would reach the server without it.
 */
export async function getAttachment(url: string): Promise<Blob> {
  // Only this API's own attachment paths: the url comes from the server, but is followed with a token.
  if (!url.startsWith("/api/requests/"))
    throw new ApiError(400, "bad-url", "Not an attachment of this service.");
  return (await request(url, { accept: "*/*" })).blob();
}

/** `GET /api/requests/:id/letter`: the determination letter (HTML). */
export const getLetter = (id: string) => apiText(`/api/requests/${encodeURIComponent(id)}/letter`);
/** `GET /api/policies`: every policy, variant and version. */
export const getPolicies = () => api<VersionSummary[]>("/api/policies");
/** `GET /api/ui/policy?ref=…`: the evaluable model of one version (see `engine.ts`). */
export const getUiPolicy = (ref: string) => api<UiPolicy>(`/api/ui/policy?ref=${encodeURIComponent(ref)}`);
/** `GET /api/ui/lint?ref=…`: lint findings of one version. */
export const getLint = (ref: string) =>
  api<{ ref: string; findings: LintFinding[] }>(`/api/ui/lint?ref=${encodeURIComponent(ref)}`);
/** `GET /api/diff?a=…&b=…`: the semantic diff of two versions or variants. */
export const getDiff = (a: string, b: string) =>
  api<PolicyDiff>(`/api/diff?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
/** `GET /api/metrics`: the CMS-0057-F figures. */
export const getMetrics = () => api<Metrics>("/api/metrics");

// ---- Authoring (issue 15 item 5: a policy author's library; `src/server/authoring.ts`) ----

const authoringVersionPath = (id: string, version: string) =>
  `/api/authoring/policies/${encodeURIComponent(id)}/versions/${encodeURIComponent(version)}`;

/** `GET /api/authoring/policies`: every policy of the payer's library, drafts included. */
export const getAuthoringPolicies = () => api<AuthoringPolicyRow[]>("/api/authoring/policies");
/** `POST /api/authoring/documents`: adds a document (base64, at most 8 MB decoded) as `medpolicy add`. */
export const postAuthoringDocument = (body: {
  fileName: string;
  contentBase64: string;
  id?: string;
  version?: string;
}) => api<AuthoringAddResult>("/api/authoring/documents", { method: "POST", body });
/** `GET /api/authoring/policies/:id/versions/:version`: the workbench's data. */
export const getAuthoringVersion = (id: string, version: string) =>
  api<AuthoringVersion>(authoringVersionPath(id, version));
/**
 * `PUT /api/authoring/policies/:id/bindings` with `If-Match`: the whole bindings.json; 412 when it
 * changed since `etag` was read, 400 naming what the library refuses.
 */
export const putAuthoringBindings = (id: string, etag: string, body: unknown) =>
  api<{ bindingsEtag: string; findings: LintFinding[] }>(
    `/api/authoring/policies/${encodeURIComponent(id)}/bindings`,
    { method: "PUT", body, headers: { "if-match": etag } },
  );
/** `POST …/try`: cases decided by the draft and by the version in force, and the semantic diff. */
export const postAuthoringTry = (id: string, version: string, body: { cases: unknown[]; today?: string }) =>
  api<{ results: TryResult[]; diff: PolicyDiff | null }>(`${authoringVersionPath(id, version)}/try`, {
    method: "POST",
    body,
  });
/** `POST …/impact`: the stored requests the version would have decided differently, in a window. */
export const postAuthoringImpact = (id: string, version: string, body: { from?: string; to?: string }) =>
  api<unknown>(`${authoringVersionPath(id, version)}/impact`, { method: "POST", body });
/** `POST …/publish`: the draft becomes effective (by the signed-in author), immutable. */
export const postAuthoringPublish = (id: string, version: string, body: { effective?: string }) =>
  api<Record<string, unknown>>(`${authoringVersionPath(id, version)}/publish`, { method: "POST", body });

// ---- Response shapes (from src/server/schemas.ts; kept structural so the app builds on its own) ----

/** One row of `GET /api/policies` (type-only import: nothing of the library enters the bundle). */
import type { VersionSummary } from "../../library/api.js";

export type { VersionSummary };

/** One lint finding (`src/library/lint.ts`). */
export interface LintFinding {
  code: string;
  severity: "error" | "warning" | "info";
  message: string;
  line?: number;
  criterion?: string;
  policy: string;
  version: string;
}

/** Who did something, as stored with every determination and event. */
export interface Actor {
  sub: string;
  name: string;
  role: string;
  org?: string;
}

/** One stored determination of a request (reviewer view). */
export interface StoredDetermination {
  seq: number;
  createdAt: string;
  trigger: "submit" | "answers";
  actor: Actor;
  today: string;
  engine: string;
  outcome: Determination["outcome"];
  determination: Determination;
}

/** One entry of a request's audit log. */
export interface AuditEvent {
  seq: number;
  at: string;
  action: string;
  actor: Actor;
  detail?: unknown;
}

/** `GET /api/requests/:id` (`requestView` in `src/server/service.ts`). */
export interface RequestView {
  id: string;
  status: "approved" | "pended" | "denied" | "not-covered" | "not-applicable" | "withdrawn";
  statusText: string;
  receivedAt: string;
  dueAt: string;
  expedited: boolean;
  policy?: Determination["policy"];
  needed?: Determination["needed"];
  decision?: Decision;
  letter?: string;
  review?: {
    workflowStatus: "approved" | "not-applicable" | "awaiting-review" | "decided" | "withdrawn";
    engineOutcome: Determination["outcome"];
    medicalDirectorOnly: boolean;
    overdue: boolean;
    org: string;
    version: number;
    case: CaseJson;
    determinations: StoredDetermination[];
    events: AuditEvent[];
    /** Issue 14: assignment, the open information request, a nurse's recommendation. */
    workflow?: Workflow;
    /** Issue 14: evidence notes (per criterion) and internal notes (nurse ↔ medical director). */
    notes?: ReviewNote[];
    /** Issue 14: documents from PAS or uploaded. */
    attachments?: Attachment[];
    /** Issue 14: what the caller may do now; the server enforces the same. */
    authority?: Authority;
    /** Issue 14: exactly the criteria the server accepts as citations for each outcome. */
    citable?: Record<Decision["outcome"], Cite[]>;
  };
  /** Issue 14, provider view: the open information request, while one is open. */
  informationRequest?: { at: string; message: string; questions: Question[] };
}

/** A criterion a question is asked at, with its text. */
export interface Question {
  criterion: string;
  text: string;
}

/** A criterion the server accepts as a citation for an outcome, with its status in the determination. */
export interface Cite extends Question {
  status: "met" | "not-met" | "present" | "absent" | "section";
}

/** What the caller may do on a request now (`src/server/authority.ts`). */
export interface Authority {
  approve: boolean;
  deny: boolean;
  notCover: boolean;
  recommend: boolean;
  /** Why something is not the caller's (e.g. "a denial is a medical director's: record a recommendation"). */
  note?: string;
}

/** An open request for more information, pending with the provider. */
export interface InfoRequest {
  at: string;
  by: { name: string; role: string };
  message: string;
  questions: Question[];
}

/** A nurse reviewer's recommendation of an outcome she may not sign. */
export interface Recommendation {
  at: string;
  by: { sub: string; name: string; role: string };
  outcome: Decision["outcome"];
  reason: string;
  criteria: Cite[];
  determinationSeq: number;
}

/** Workflow state of a request under review. */
export interface Workflow {
  assignee?: { sub: string; name: string };
  infoRequest?: InfoRequest;
  recommendation?: Recommendation;
}

/** A note on a request: on a criterion (evidence) or between reviewers (internal). */
export interface ReviewNote {
  seq: number;
  at: string;
  by: { sub: string; name: string; role: string };
  kind: "evidence" | "internal";
  criterion?: string;
  text: string;
}

/** A document attached to a request. */
export interface Attachment {
  id: string;
  title: string;
  contentType: string;
  size: number;
  addedAt: string;
  source: "upload" | "pas";
  /** `/api/requests/:id/attachments/:aid`. */
  url: string;
}

/**
 * A fact's value as a case carries it (`factValueSchema`). Its type comes from the deciding policy
 * version's declaration (`FactDecl`, in `UiPolicy.facts`: issue 15), not from a list here.
 */
export type FactValue = number | string | boolean | (number | string)[];

/** A postal address (`src/model/case.ts`). */
export interface AddressJson {
  lines: string[];
  city: string;
  state: string;
  postalCode: string;
}

/** A requesting or servicing provider. */
export interface ProviderJson {
  npi: string;
  name?: string;
  address?: AddressJson;
  phone?: string;
}

/** A stored case as JSON (validated by the server when it was stored). */
export interface CaseJson {
  id?: string;
  member: {
    state: string;
    birthDate?: string;
    age?: number;
    lineOfBusiness?: string;
    id?: string;
    name?: string;
    address?: AddressJson;
  };
  service: { codes: string[]; dateOfService: string; drug?: string; expedited?: boolean };
  answers?: Record<string, boolean>;
  facts?: Record<string, FactValue>;
  diagnoses?: { code: string; display?: string }[];
  providers?: { requesting?: ProviderJson; servicing?: ProviderJson };
  policy?: string;
}

interface Rate {
  count: number;
  percent: number;
}
/** The metrics of standard or of expedited requests. */
export interface MetricsGroup {
  total: number;
  approved: Rate;
  denied: Rate;
  pended: Rate;
  notApplicable: number;
  withdrawn: number;
  timeToDecisionHours: { decided: number; average: number | null; median: number | null };
}
/** `GET /api/metrics`. */
export interface Metrics {
  generatedAt: string;
  standard: MetricsGroup;
  expedited: MetricsGroup;
}
