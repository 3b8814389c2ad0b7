/**
 * Shared pieces of the FHIR layer (SPEC 4, HL7 FHIR R4, Da Vinci CRD/DTR/PAS): OperationOutcome
 * errors, reference resolution inside bundles, billing-code extraction (CPT/HCPCS), and the member
 * facts a case needs from a Patient (SPEC 2.1). Pure functions; no I/O.
 */
import type {
  Bundle,
  CodeableConcept,
  Coding,
  Coverage,
  HumanName,
  Identifier,
  OperationOutcome,
  OperationOutcomeIssue,
  Patient,
  PractitionerRole,
  Reference,
  Resource,
} from "@medplum/fhirtypes";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  type Address,
  addressSchema,
  canonicalJson,
  type Diagnosis,
  diagnosisSchema,
  httpStatusOf,
  InputError,
  isNpi,
  MedpolicyError,
  type Provider,
  providerSchema,
} from "../../model/index.js";
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
  // CMS Blue Button's HCPCS system (the CRD test kit's hook-16 orders use it).
  "https://bluebutton.cms.gov/resources/codesystem/hcpcs",
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

/**
 * What a case holds about its member (SPEC 2.1; issue 14: name, id and address as a UM file holds
 * them). Every field is validated with the case schema's own rules, so a case built from it never
 * fails for one of these optional fields.
 */
export interface MemberFacts {
  state?: string;
  birthDate?: string;
  name?: string;
  id?: string;
  address?: Address;
}

/**
 * The member facts of a case (SPEC 2.1) a Patient gives: state of residence and birth date; and
 * (issue 14) the member's name, current postal address (only a complete US one, else none) and
 * member id: the Coverage's member number (identifier of type MB), else the Patient's, else the
 * Coverage's `subscriberId`.
 */
export function memberFromPatient(p: Patient | undefined, today: string, coverage?: Coverage): MemberFacts {
  const out: MemberFacts = {};
  const id = memberIdOf(p, coverage);
  if (id) out.id = id;
  if (!p) return out;
  const birth = isoDate(p.birthDate);
  if (birth && p.birthDate?.length === 10) out.birthDate = birth;
  // The current home address: not `old`, not ended; `home` preferred over other uses.
  const current = (Array.isArray(p.address) ? p.address : []).filter(
    (a) => isObject(a) && a.use !== "old" && !ended(a.period, today),
  );
  const ranked = [...current].sort((a, b) => Number(b.use === "home") - Number(a.use === "home"));
  const state = ranked
    .map((a) => (typeof a.state === "string" && a.state.length <= 64 ? a.state.trim() : undefined))
    .find((s) => s && /^[A-Za-z]{2}$/.test(s));
  if (state) out.state = state.toUpperCase();
  const name = personName(p.name, today);
  if (name) out.name = name;
  for (const a of ranked) {
    const address = usAddress(a);
    if (address) {
      out.address = address;
      break;
    }
  }
  return out;
}

/** Whether a FHIR period ended before `today`. */
function ended(period: unknown, today: string): boolean {
  if (!isObject(period) || typeof period.end !== "string") return false;
  return (isoDate(period.end) ?? "9999") < today;
}

/** A trimmed, non-empty string of at most `max` characters, or undefined (untrusted input). */
function text(x: unknown, max: number): string | undefined {
  if (typeof x !== "string" || x.length > max * 4) return undefined;
  const t = collapse(x);
  return t.length > 0 && t.length <= max ? t : undefined;
}

/**
 * Untrusted text for display (issue 14: a document title): white space and control characters
 * collapsed, at most `max` characters (longer is cut with an ellipsis); undefined when empty.
 */
export function displayText(x: unknown, max: number): string | undefined {
  if (typeof x !== "string") return undefined;
  const t = collapse(x.slice(0, max * 4));
  if (t === "") return undefined;
  return t.length <= max ? t : `${t.slice(0, max - 1)}…`;
}

/** White space (and control characters) collapsed to single spaces, trimmed: one linear pass. */
function collapse(s: string): string {
  let out = "";
  let space = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 0x7f || c === 0x85 || c === 0xa0 || c === 0x2028 || c === 0x2029) {
      space = out.length > 0;
      continue;
    }
    if (space) out += " ";
    space = false;
    out += s[i];
  }
  return out;
}

/** v2-0203 identifier type `MB`: member number (HL7 terminology). */
const MEMBER_NUMBER = (i: unknown) =>
  isObject(i) &&
  isObject(i.type) &&
  Array.isArray(i.type.coding) &&
  i.type.coding.some(
    (c) => isObject(c) && c.code === "MB" && c.system === "http://terminology.hl7.org/CodeSystem/v2-0203",
  );

/**
 * The member id (issue 14): the Coverage's member number, else the Patient's, else the Coverage's
 * `subscriberId` (the X12 278 subscriber id, which is the member's own when the member subscribes).
 */
export function memberIdOf(p: Patient | undefined, coverage: Coverage | undefined): string | undefined {
  const fromIds = (ids: unknown) =>
    (Array.isArray(ids) ? ids : [])
      .filter(MEMBER_NUMBER)
      .map((i) => text((i as Identifier).value, 200))
      .find((v) => v !== undefined);
  return fromIds(coverage?.identifier) ?? fromIds(p?.identifier) ?? text(coverage?.subscriberId, 200);
}

const NAME_RANK: Record<string, number> = { official: 0, usual: 1 };

/**
 * A person's current name for a letter (issue 14): `given family` (else the name's `text`) of the
 * official name, else the usual one, else any other that is neither old, maiden nor ended.
 */
export function personName(names: unknown, today: string): string | undefined {
  if (!Array.isArray(names)) return undefined;
  const current = names.filter(
    (n): n is HumanName =>
      isObject(n) && n.use !== "old" && n.use !== "maiden" && !ended((n as HumanName).period, today),
  );
  const rank = (n: HumanName) => NAME_RANK[n.use ?? ""] ?? (n.use === undefined ? 2 : 3);
  for (const n of [...current].sort((a, b) => rank(a) - rank(b))) {
    const given = (Array.isArray(n.given) ? n.given : []).map((g) => text(g, 100)).filter((g) => !!g);
    const full = text([...given, text(n.family, 100) ?? ""].join(" "), 200) ?? text(n.text, 200);
    if (full) return full;
  }
  return undefined;
}

const US_COUNTRY = new Set(["US", "USA", "UNITED STATES", "UNITED STATES OF AMERICA"]);

/**
 * A FHIR Address as the case holds it (issue 14), or undefined unless it is a complete US postal
 * address that `addressSchema` accepts: street lines, city, state code and ZIP (a fifth and further
 * street lines are joined into the fourth). Lengths are bounded before any pattern is tried.
 */
export function usAddress(a: unknown): Address | undefined {
  if (!isObject(a)) return undefined;
  if (a.country !== undefined) {
    const country = text(a.country, 40);
    if (!country || !US_COUNTRY.has(country.toUpperCase())) return undefined;
  }
  const given: string[] = [];
  for (const l of Array.isArray(a.line) ? a.line.slice(0, 20) : []) {
    // A blank line is skipped; one that is not a string or is too long makes the address unusable.
    if (typeof l !== "string") return undefined;
    if (collapse(l.slice(0, 1000)) === "") continue;
    const t = text(l, 200);
    if (!t) return undefined;
    given.push(t);
  }
  const lines = given.length > 4 ? [...given.slice(0, 3), given.slice(3).join(", ")] : given;
  const candidate = {
    lines,
    city: text(a.city, 100),
    state: text(a.state, 64),
    postalCode: text(a.postalCode, 20),
  };
  const r = addressSchema.safeParse(candidate);
  return r.success ? r.data : undefined;
}

/** NPI naming systems (HL7 terminology: the URI and its OID). */
export const NPI_SYSTEMS: ReadonlySet<string> = new Set([
  "http://hl7.org/fhir/sid/us-npi",
  "urn:oid:2.16.840.1.113883.4.6",
]);

/**
 * The NPI among `identifiers` (issue 14): the first NPI-system identifier whose value passes the
 * check digit (`isNpi`); `invalid` is the index of the first NPI-system identifier that does not,
 * when none does.
 */
export function npiOf(identifiers: unknown): { npi?: string; invalid?: number } {
  let invalid: number | undefined;
  const ids = Array.isArray(identifiers) ? identifiers : [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!isObject(id) || typeof id.system !== "string" || !NPI_SYSTEMS.has(id.system)) continue;
    const v = typeof id.value === "string" && id.value.length <= 20 ? id.value.trim() : "";
    if (isNpi(v)) return { npi: v };
    invalid ??= i;
  }
  return invalid === undefined ? {} : { invalid };
}

/** A provider's NPI that fails the check digit: the resource and the element (issue 14). */
export interface InvalidNpi {
  resource: Resource;
  /** FHIRPath of the identifier's value within `resource` (`identifier[0].value`). */
  path: string;
}

const PHONE = /^[0-9+() .-]{7,25}$/;

function phoneOf(telecom: unknown): string | undefined {
  for (const t of Array.isArray(telecom) ? telecom : []) {
    if (!isObject(t) || t.system !== "phone" || typeof t.value !== "string" || t.value.length > 25) continue;
    const v = t.value.trim();
    if (PHONE.test(v)) return v;
  }
  return undefined;
}

function addressOf(addresses: unknown): Address | undefined {
  const list = (Array.isArray(addresses) ? addresses : []).filter((a) => isObject(a) && a.use !== "old");
  // A work address first: the letter goes to the practice.
  const ranked = [...list].sort((a, b) => Number(b.use === "work") - Number(a.use === "work"));
  for (const a of ranked) {
    const x = usAddress(a);
    if (x) return x;
  }
  return undefined;
}

/**
 * The requesting or servicing provider a reference names (issue 14): a Practitioner, an
 * Organization, a PractitionerRole (its own NPI, else its practitioner's, else its organization's;
 * name, address and phone from the same), or a logical reference by NPI identifier. Only an NPI
 * that passes the check digit makes a provider; a failing one is reported as `invalid` (the caller
 * decides whether that refuses the request). Name, address and phone are kept only when valid.
 */
export function providerOf(
  ref: Reference | string | undefined,
  index: ResourceIndex,
  today: string,
): { provider?: Provider; invalid?: InvalidNpi } {
  const r = typeof ref === "string" || isObject(ref) ? index.resolve(ref) : undefined;
  if (!r) {
    // A logical reference: `{ identifier: { system: us-npi, value }, display }`.
    if (isObject(ref) && isObject(ref.identifier)) {
      const { npi } = npiOf([ref.identifier]);
      if (npi) return { provider: build(npi, text(ref.display, 200)) };
    }
    return {};
  }
  type Party = { resource: Resource; name?: string; address?: Address; phone?: string };
  const party = (x: Resource | undefined): Party | undefined => {
    if (!x) return undefined;
    const o = x as unknown as Record<string, unknown>;
    if (x.resourceType === "Practitioner")
      return {
        resource: x,
        name: personName(o.name, today),
        address: addressOf(o.address),
        phone: phoneOf(o.telecom),
      };
    if (x.resourceType === "Organization")
      return {
        resource: x,
        name: text(o.name, 200),
        address: addressOf(o.address),
        phone: phoneOf(o.telecom),
      };
    return undefined;
  };
  let candidates: Party[];
  if (r.resourceType === "PractitionerRole") {
    const role = r as PractitionerRole;
    const practitioner = party(
      index.resolve(isObject(role.practitioner) ? role.practitioner : undefined, "Practitioner"),
    );
    const org = party(
      index.resolve(isObject(role.organization) ? role.organization : undefined, "Organization"),
    );
    const first = practitioner ?? org;
    candidates = [
      {
        resource: r,
        ...(first?.name && { name: first.name }),
        ...((practitioner?.address ?? org?.address) && { address: (practitioner?.address ?? org?.address)! }),
        ...((phoneOf(role.telecom) ?? first?.phone) && { phone: (phoneOf(role.telecom) ?? first?.phone)! }),
      },
      ...(practitioner
        ? [
            {
              ...practitioner,
              address: practitioner.address ?? org?.address,
              phone: phoneOf(role.telecom) ?? practitioner.phone,
            },
          ]
        : []),
      ...(org ? [org] : []),
    ];
  } else {
    const p = party(r);
    candidates = p ? [p] : [];
  }
  let invalid: InvalidNpi | undefined;
  for (const c of candidates) {
    const { npi, invalid: bad } = npiOf((c.resource as { identifier?: unknown }).identifier);
    if (npi) return { provider: build(npi, c.name, c.address, c.phone) };
    if (bad !== undefined) invalid ??= { resource: c.resource, path: `identifier[${bad}].value` };
  }
  return invalid ? { invalid } : {};
}

/** A provider from validated parts (each was checked on its own; the schema confirms). */
function build(npi: string, name?: string, address?: Address, phone?: string): Provider {
  const p: Provider = {
    npi,
    ...(name && { name }),
    ...(address && { address }),
    ...(phone && { phone }),
  };
  const r = providerSchema.safeParse(p);
  return r.success ? r.data : { npi };
}

/** ICD-10-CM code systems (HL7 terminology: the URI and its OID). */
export const ICD10CM_SYSTEMS: ReadonlySet<string> = new Set([
  "http://hl7.org/fhir/sid/icd-10-cm",
  "urn:oid:2.16.840.1.113883.6.90",
]);

/**
 * The ICD-10-CM diagnosis of a CodeableConcept (issue 14), normalized as the case holds it
 * (`diagnosisSchema`: upper case, with the dot); `invalid` when it carries an ICD-10-CM coding but
 * none is a well-formed code. Other systems (SNOMED, ICD-10 WHO) are not ICD-10-CM: not read.
 */
export function icd10Of(cc: unknown): { diagnosis?: Diagnosis; invalid?: true } {
  if (!isObject(cc) || !Array.isArray(cc.coding)) return {};
  let seen = false;
  for (const c of cc.coding) {
    if (!isObject(c) || typeof c.system !== "string" || !ICD10CM_SYSTEMS.has(c.system)) continue;
    seen = true;
    if (typeof c.code !== "string" || c.code.length > 10) continue;
    const display = text(c.display, 300) ?? text(cc.text, 300);
    const r = diagnosisSchema.safeParse({ code: c.code.trim(), ...(display && { display }) });
    if (r.success) return { diagnosis: r.data };
  }
  return seen ? { invalid: true } : {};
}

/** Diagnoses in order, each code once, at most 25 (the case's limit; the first is the primary). */
export function uniqueDiagnoses(list: readonly (Diagnosis | undefined)[]): Diagnosis[] {
  const out: Diagnosis[] = [];
  for (const d of list) {
    if (!d || out.some((x) => x.code === d.code)) continue;
    out.push(d);
    if (out.length === 25) break;
  }
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
