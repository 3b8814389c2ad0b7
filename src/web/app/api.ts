/**
 * The web app's client of the JSON API (`/api`, SPEC 4) and of the web plugin's `/api/ui` helpers:
 * bearer token from the session, JSON in and out, errors as {@link ApiError} with the server's message.
 */
import type { Decision, Determination, PolicyDiff, UiPolicy, UiRequestRow } from "./types.js";

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
  role: "provider" | "reviewer" | "medical-director" | "admin";
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
  init: { method?: string; body?: unknown; accept?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { accept: init.accept ?? "application/json" };
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
        error?: { code?: string; message?: string; where?: { field?: string } };
      };
      code = b.error?.code ?? code;
      message = b.error?.message ?? message;
      field = b.error?.where?.field;
    } catch {
      // Not JSON: keep the status line.
    }
    if (res.status === 401 && s) onUnauthorized();
    throw new ApiError(res.status, code, message, field);
  }
  return res;
}

/** GET/POST JSON. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
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
/** `POST /api/requests/:id/answers`: answers merged into the case; the server re-evaluates. */
export const postAnswers = (id: string, answers: Record<string, boolean>) =>
  api<RequestView>(`/api/requests/${encodeURIComponent(id)}/answers`, { method: "POST", body: { answers } });
/** `POST /api/requests/:id/decision`: signs a decision (SPEC 2.4). */
export const postDecision = (
  id: string,
  body: { outcome: Decision["outcome"]; reason: string; criteria: string[]; version?: number },
) => api<RequestView>(`/api/requests/${encodeURIComponent(id)}/decision`, { method: "POST", body });
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
  status: "approved" | "pended" | "denied" | "not-covered" | "not-applicable";
  statusText: string;
  receivedAt: string;
  dueAt: string;
  expedited: boolean;
  policy?: Determination["policy"];
  needed?: Determination["needed"];
  decision?: Decision;
  letter?: string;
  review?: {
    workflowStatus: "approved" | "not-applicable" | "awaiting-review" | "decided";
    engineOutcome: Determination["outcome"];
    medicalDirectorOnly: boolean;
    overdue: boolean;
    org: string;
    version: number;
    case: CaseJson;
    determinations: StoredDetermination[];
    events: AuditEvent[];
  };
}

/** A stored case as JSON (validated by the server when it was stored). */
export interface CaseJson {
  id?: string;
  member: { state: string; birthDate?: string; age?: number; lineOfBusiness?: string; id?: string };
  service: { codes: string[]; dateOfService: string; drug?: string; expedited?: boolean };
  answers?: Record<string, boolean>;
  facts?: Record<string, unknown>;
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
  timeToDecisionHours: { decided: number; average: number | null; median: number | null };
}
/** `GET /api/metrics`. */
export interface Metrics {
  generatedAt: string;
  standard: MetricsGroup;
  expedited: MetricsGroup;
}
