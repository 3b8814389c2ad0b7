/**
 * Shared pieces of the FHIR layer (SPEC 4, HL7 FHIR R4, Da Vinci CRD/DTR/PAS): OperationOutcome
 * errors, reference resolution inside bundles, billing-code extraction (CPT/HCPCS), and the member
 * facts a case needs from a Patient (SPEC 2.1). Pure functions; no I/O.
 */
import type {
  Bundle,
  CodeableConcept,
  Coding,
  OperationOutcome,
  OperationOutcomeIssue,
  Patient,
  Reference,
  Resource,
} from "@medplum/fhirtypes";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { canonicalJson, httpStatusOf, InputError, MedpolicyError } from "../../model/index.js";
import type { Role } from "../auth.js";
import { errorResponse, HttpError } from "../http.js";
import { requireRole } from "../routes.js";

export const FHIR_JSON = "application/fhir+json";
/** Base of this service's own extensions, code systems and naming systems. */
export const MEDPOLICY_FHIR = "http://medpolicy.example/fhir";

/** CPT code systems (HL7 terminology: `http://www.ama-assn.org/go/cpt`, and its OID form). */
export const CPT_SYSTEMS: ReadonlySet<string> = new Set([
  "http://www.ama-assn.org/go/cpt",
  "urn:oid:2.16.840.1.113883.6.12",
]);
/** HCPCS code systems as seen in the Da Vinci examples (https and http forms, OID). */
export const HCPCS_SYSTEMS: ReadonlySet<string> = new Set([
  "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
  "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
  "urn:oid:2.16.840.1.113883.6.285",
  "http://terminology.hl7.org/CodeSystem/HCPCS",
]);
const BILLING_CODE = /^[A-Z0-9]{4,7}$/i;

/** A CPT or HCPCS coding from a FHIR code (SPEC 1.5: the codes bindings name). */
export interface BillingCode {
  code: string;
  system: string;
  display?: string;
}

const CRD_BILLING_OPTIONS = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-billing-options";

/**
 * CPT/HCPCS codes of a CodeableConcept, including CRD's `ext-billing-options` alternatives on it.
 * Codings of other systems (SNOMED, LOINC, X12 service types) are not billing codes and are skipped.
 */
export function billingCodes(cc: CodeableConcept | undefined): BillingCode[] {
  if (!cc) return [];
  const out: BillingCode[] = [];
  const add = (c: Coding | undefined) => {
    if (!c?.code || !c.system) return;
    if (!CPT_SYSTEMS.has(c.system) && !HCPCS_SYSTEMS.has(c.system)) return;
    const code = c.code.trim().toUpperCase();
    if (!BILLING_CODE.test(code) || out.some((b) => b.code === code)) return;
    out.push({ code, system: c.system, ...(c.display && { display: c.display }) });
  };
  for (const c of cc.coding ?? []) add(c);
  for (const e of cc.extension ?? [])
    if (e.url === CRD_BILLING_OPTIONS) for (const c of e.valueCodeableConcept?.coding ?? []) add(c);
  return out;
}

/** A FHIR error with the issue code it is reported under (R4 `issue-type`). */
export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly issueCode: OperationOutcomeIssue["code"],
    message: string,
    readonly expression?: string,
  ) {
    super(message);
    this.name = "FhirError";
  }
}

/** 400 `invalid`: the body is not what the operation takes (FHIR R4 / PAS "InvalidRequestResponse"). */
export function invalid(message: string, expression?: string): FhirError {
  return new FhirError(400, "invalid", message, expression);
}

export function operationOutcome(
  issues: {
    severity: OperationOutcomeIssue["severity"];
    code: OperationOutcomeIssue["code"];
    text: string;
    expression?: string;
  }[],
): OperationOutcome {
  return {
    resourceType: "OperationOutcome",
    issue: issues.map((i) => ({
      severity: i.severity,
      code: i.code,
      details: { text: i.text },
      diagnostics: i.text,
      ...(i.expression !== undefined && { expression: [i.expression] }),
    })),
  };
}

const ISSUE_BY_STATUS: Record<number, OperationOutcomeIssue["code"]> = {
  400: "invalid",
  401: "login",
  403: "forbidden",
  404: "not-found",
  409: "conflict",
  413: "too-costly",
  415: "not-supported",
  422: "processing",
  429: "throttled",
  501: "not-supported",
};

/** Maps any error to an HTTP status and an OperationOutcome (the FHIR layer's one error shape). */
export function outcomeOf(err: unknown): {
  status: number;
  outcome: OperationOutcome;
  headers: Record<string, string>;
} {
  if (err instanceof FhirError) {
    return {
      status: err.status,
      headers: {},
      outcome: operationOutcome([
        {
          severity: "error",
          code: err.issueCode,
          text: err.message,
          ...(err.expression && { expression: err.expression }),
        },
      ]),
    };
  }
  if (err instanceof MedpolicyError) {
    const status = httpStatusOf(err);
    const field = err.where.field;
    const issues =
      err instanceof InputError && err.issues.length > 0
        ? err.issues
        : [{ message: err.message, where: err.where }];
    return {
      status,
      headers: {},
      outcome: operationOutcome(
        issues.map((i) => ({
          severity: "error" as const,
          code: ISSUE_BY_STATUS[status] ?? "exception",
          text: i.message,
          ...((i.where.field ?? field) && { expression: i.where.field ?? field }),
        })),
      ),
    };
  }
  // Framework and HTTP errors (body too large, bad media type, 401, 429): the JSON API's wording.
  const { status, body, headers } = errorResponse(err);
  const message =
    (body as { error?: { message?: string } }).error?.message ??
    (err instanceof HttpError ? err.message : "error");
  return {
    status,
    headers,
    outcome: operationOutcome([
      {
        severity: status >= 500 ? "fatal" : "error",
        code: ISSUE_BY_STATUS[status] ?? "exception",
        text: message,
      },
    ]),
  };
}

/** Sends a FHIR resource. */
export function sendFhir(reply: FastifyReply, status: number, resource: unknown): FastifyReply {
  return reply.code(status).type(FHIR_JSON).send(resource);
}

/** Error handler for the FHIR scopes: every error is an OperationOutcome (FHIR R4 RESTful API). */
export function fhirErrorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, outcome, headers } = outcomeOf(err);
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  if (status >= 500) req.log.error({ err }, "FHIR request failed");
  else req.log.info({ err }, "FHIR request rejected");
  return sendFhir(reply, status, outcome);
}

/** Whether `x` is a JSON object (not null, not an array). */
export function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

/** Whether `x` looks like a FHIR resource of `type` (any type when absent). */
export function isResource<T extends Resource = Resource>(x: unknown, type?: T["resourceType"]): x is T {
  return isObject(x) && typeof x.resourceType === "string" && (type === undefined || x.resourceType === type);
}

const LETTER = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const ID_CHAR = (c: number) => LETTER(c) || (c >= 48 && c <= 57) || c === 45 || c === 46;

/**
 * The `Type/id` a reference ends with (`Patient/p1`, `http://x/fhir/Patient/p1`,
 * `…/Patient/p1/_history/2`), or undefined. Linear (issue 13: the regex this replaces was quadratic
 * on a long reference): a constant number of `lastIndexOf` scans from the end, then bounded checks of
 * the two segments; the type is the run of letters before the last `/` (as `urn:x:Patient/1` names
 * Patient), at most 64 of them, and the id is an R4 id.
 */
export function typeIdOf(s: string): string | undefined {
  let end = s.length;
  let slash = s.lastIndexOf("/", end - 1);
  if (slash > 0) {
    const prev = s.lastIndexOf("/", slash - 1);
    if (prev > 0 && slash - prev - 1 === 8 && s.startsWith("_history", prev + 1)) {
      end = prev;
      slash = s.lastIndexOf("/", end - 1);
    }
  }
  if (slash <= 0) return undefined;
  const idLength = end - slash - 1;
  if (idLength < 1 || idLength > 64) return undefined;
  for (let i = slash + 1; i < end; i++) if (!ID_CHAR(s.charCodeAt(i))) return undefined;
  let start = slash;
  while (start > 0 && slash - start < 65 && LETTER(s.charCodeAt(start - 1))) start--;
  if (start === slash || slash - start > 64) return undefined;
  return `${s.slice(start, slash)}/${s.slice(slash + 1, end)}`;
}

/**
 * Resolves references within a set of resources (a Bundle's entries, a CDS Hooks prefetch): by
 * `fullUrl`, by `Type/id` (also as the tail of an absolute URL), and `#id` against `contained`. Two
 * different resources under one key are refused (issue 13: a second `Patient/pat1` silently won);
 * the same resource sent twice (a prefetch that repeats the patient) is kept once.
 */
export class ResourceIndex {
  private readonly byKey = new Map<string, Resource>();
  readonly all: Resource[] = [];

  /** Adds a resource; `where` names it in the 400 when it conflicts with one already added. */
  add(resource: Resource, fullUrl?: string, where?: string): void {
    // A RESTful fullUrl (`…/Patient/p1`) also answers the relative reference `Patient/p1` (R4
    // Bundle reference resolution), even when the resource itself carries no id.
    const tail = fullUrl ? typeIdOf(fullUrl) : undefined;
    const keys = [
      ...(fullUrl ? [fullUrl] : []),
      ...(typeof resource.id === "string" ? [`${resource.resourceType}/${resource.id}`] : []),
      ...(tail?.startsWith(`${resource.resourceType}/`) && tail !== `${resource.resourceType}/${resource.id}`
        ? [tail]
        : []),
    ];
    for (const k of keys) {
      const had = this.byKey.get(k);
      if (had === undefined || had === resource) continue;
      if (canonicalJson(had) === canonicalJson(resource)) return; // the same resource again
      throw new FhirError(
        400,
        "invalid",
        `${where ? `${where}: ` : ""}two different resources are sent as ${k.startsWith(resource.resourceType) ? k : "one fullUrl"}; which one is meant cannot be told`,
        where,
      );
    }
    this.all.push(resource);
    for (const k of keys) this.byKey.set(k, resource);
  }

  /** Adds a Bundle's entries (recursively for nested bundles, as prefetch search results are). */
  addBundle(bundle: Bundle, where?: string): void {
    (bundle.entry ?? []).forEach((e, i) => {
      const r = e?.resource;
      if (!isResource(r)) return;
      const at = where === undefined ? undefined : `${where}.entry[${i}].resource`;
      if (r.resourceType === "Bundle") this.addBundle(r as Bundle, at);
      else this.add(r, typeof e.fullUrl === "string" ? e.fullUrl : undefined, at);
    });
  }

  resolve<T extends Resource = Resource>(
    ref: Reference | string | undefined,
    type?: T["resourceType"],
  ): T | undefined {
    const s = typeof ref === "string" ? ref : ref?.reference;
    if (typeof s !== "string" || s === "") return undefined;
    let hit = this.byKey.get(s);
    if (!hit) {
      const k = typeIdOf(s);
      if (k) hit = this.byKey.get(k);
    }
    if (!hit || (type !== undefined && hit.resourceType !== type)) return undefined;
    return hit as T;
  }

  ofType<T extends Resource>(type: T["resourceType"]): T[] {
    return this.all.filter((r) => r.resourceType === type) as T[];
  }
}

/** ISO date (`YYYY-MM-DD`) of a FHIR date or dateTime, when it has a full date. */
export function isoDate(s: string | undefined): string | undefined {
  if (typeof s !== "string") return undefined;
  // Anchored and bounded: only the first ten characters are looked at.
  const m = /^(\d{4}-\d{2}-\d{2})$/.exec(s.slice(0, 10));
  return m ? m[1] : undefined;
}

/** The date `days` after ISO date `d`. */
export function addDays(d: string, days: number): string {
  const t = new Date(`${d}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + days);
  return t.toISOString().slice(0, 10);
}

/** The member facts of a case (SPEC 2.1) a Patient gives: state of residence and birth date. */
export function memberFromPatient(
  p: Patient | undefined,
  today: string,
): { state?: string; birthDate?: string } {
  if (!p) return {};
  const out: { state?: string; birthDate?: string } = {};
  const birth = isoDate(p.birthDate);
  if (birth && p.birthDate?.length === 10) out.birthDate = birth;
  // The current home address: not `old`, not ended; `home` preferred over other uses.
  const current = (p.address ?? []).filter(
    (a) =>
      a && a.use !== "old" && (a.period?.end === undefined || (isoDate(a.period.end) ?? "9999") >= today),
  );
  const ranked = [...current].sort((a, b) => Number(b.use === "home") - Number(a.use === "home"));
  const state = ranked
    .map((a) => (typeof a.state === "string" && a.state.length <= 64 ? a.state.trim() : undefined))
    .find((s) => s && /^[A-Za-z]{2}$/.test(s));
  if (state) out.state = state.toUpperCase();
  return out;
}

/**
 * The service's public base URL for `fullUrl`s and the CapabilityStatement (issue 13: configured —
 * `StartOptions.publicUrl`, `MEDPOLICY_PUBLIC_URL`, `--public-url` — never taken from the `Host`
 * header, which any caller chooses). `http://localhost` only for an app that never listened.
 */
export function publicBaseUrl(config: { publicUrl?: string }): string {
  return config.publicUrl ?? "http://localhost";
}

type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * FHIR operations (`POST /Type/$name`). Clients may percent-encode the `$` (`%24name`); the router
 * matches paths undecoded, so every operation is also reachable through one `/:type/:operation`
 * route whose decoded parameters name it.
 */
export class Operations {
  private readonly byPath = new Map<string, { roles: Role[]; handler: Handler }>();

  add(app: FastifyInstance, path: `/${string}/$${string}`, roles: Role[], handler: Handler): void {
    app.post(path, { preHandler: requireRole(...roles) }, handler);
    this.byPath.set(path, { roles, handler });
  }

  /** Registers the route for percent-encoded operation names (after every `add`). */
  registerEncoded(app: FastifyInstance): void {
    app.post("/:type/:operation", async (req, reply) => {
      const { type, operation } = req.params as { type: string; operation: string };
      const op = this.byPath.get(`/${type}/${operation}`);
      if (!op) throw new FhirError(404, "not-supported", `no FHIR operation POST /fhir/${type}/${operation}`);
      await requireRole(...op.roles)(req);
      return op.handler(req, reply);
    });
  }
}
