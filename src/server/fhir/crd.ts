/**
 * Da Vinci Coverage Requirements Discovery (CRD) on CDS Hooks 2.0 (SPEC 4; issue 16): discovery at
 * `GET /cds-services`, and `POST /cds-services/{id}` for the primary hooks `order-sign`,
 * `order-dispatch`, `appointment-book`, `encounter-start`, `encounter-discharge` and the secondary hook
 * `order-select`.
 *
 * The answer is the coverage-information extension on each order, returned as a `systemAction` of type
 * `update` (CRD 2.x "Coverage Information" response type), plus — when documentation is needed — a card
 * with a SMART link that launches DTR (CRD "Launch SMART application" response type). It is decided by
 * the same engine and bindings as every other interface (SPEC 1.5, 2.2), with no answers:
 * - a code governed by a medically-necessary section → `covered`, `auth-needed`, clinical documentation
 *   for prior authorization (`doc-purpose` withpa with a coded `reason`, crd-ci-q8), and the
 *   section's Questionnaire (DTR); `satisfied` (with `satisfied-pa-id`) when a prior authorization for
 *   the member and code was already approved (PAS, read-only);
 * - a code listed for coding only → `covered`, `no-auth`;
 * - a code in a "does not support coverage" table, a not-proven section, or off the state fee schedule
 *   for an adult → `not-covered` (no `pa-needed`);
 * - on a primary hook, any other order or code (no policy governs it, none is in force on the date of
 *   service, no CPT/HCPCS code at all) → `covered` and `pa-needed` `conditional` with `info-needed`
 *   `OTH` and a reason: this library never claims "covered" for what it cannot decide (CRD 2.2: primary
 *   hooks return coverage information for every order); on `order-select` such orders get none.
 *
 * Coverage: from prefetch, else (with `fhirServer` + `fhirAuthorization`) read from the client's FHIR
 * server (./crd-lookup.ts, under the service's EndpointPolicy). Without a way to get it → 412 (CDS
 * Hooks 2.0: the service could not retrieve the data it needs); with none active → 400.
 *
 * Issue 14: the case each assertion is decided on also carries what a UM file holds, where the hook
 * gives it — the member's name, id and address (Patient, Coverage), the ICD-10-CM diagnoses (the
 * order's `reasonCode`/`reasonReference`, then active Conditions in the prefetch), the requesting
 * (`requester`, else the hook's user) and servicing (`performer`) providers by valid NPI. None of it
 * changes the answer, and an invalid value is left out, never an error.
 *
 * Forms: CRD 2.2.x by default. The 2.0.1 form — for test kits that still test 2.0.1 — is chosen by
 * `?crd=2.0.1`, the header `X-CRD-Version: 2.0.1`, or the hook request's
 * `extension["davinci-crd.requestedVersion"]` starting with `2.0`. They differ in `doc-needed` (the
 * 2.0.1 package binds `clinical | admin | both | conditional` — no `no-doc`, so "no documentation" is
 * stated by leaving the slice out in both forms) and in `pa-needed` (the 2.0.1 package's crd-ci-q2
 * expression is only met when it is present — `no-auth` for `not-covered`; 2.2 forbids it there).
 */
import { randomUUID } from "node:crypto";
import type {
  Appointment,
  Bundle,
  CodeableConcept,
  Coding,
  Condition,
  Coverage,
  DeviceRequest,
  Encounter,
  Extension,
  MedicationRequest,
  Patient,
  Procedure,
  Reference,
  Resource,
  ServiceRequest,
  Task,
} from "@medplum/fhirtypes";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { questionnaireUrl } from "../../explain/questionnaire.js";
import { decideValidated, type Library } from "../../library/index.js";
import {
  type Case,
  caseSchema,
  DeterminationError,
  type Diagnosis,
  InputError,
  type Line,
  type Provider,
} from "../../model/index.js";
import type { Principal } from "../auth.js";
import type { ServerContext } from "../index.js";
import { requireRole } from "../routes.js";
import {
  addDays,
  type BillingCode,
  billingCodes,
  FhirError,
  icd10Of,
  invalid,
  isObject,
  isoDate,
  isResource,
  type MemberFacts,
  memberFromPatient,
  providerOf,
  publicBaseUrl,
  ResourceIndex,
  typeIdOf,
  uniqueDiagnoses,
} from "./common.js";
import { accessTokenOf, LookupFailure, type LookupPlan, lookupResources } from "./crd-lookup.js";
import { EndpointPolicy } from "./endpoint.js";
import { AUTH_VALIDITY_DAYS } from "./pas.js";
import { validateResource } from "./validate.js";

export const COVERAGE_INFORMATION =
  "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information";

/** The coverage-information forms this service answers in. */
export type CrdForm = "2.2" | "2.0.1";

/** Hooks served, with their discovery entries (CDS Hooks 2.0 §Discovery; ids as in the CRD IG). */
export const CRD_SERVICES = [
  {
    hook: "order-sign",
    id: "order-sign-crd",
    title: "medpolicy coverage requirements (order sign)",
    description:
      "Whether the orders being signed need prior authorization under the plan's clinical policies, and which documentation (DTR Questionnaire) the policy requires.",
  },
  {
    hook: "order-select",
    id: "order-select-crd",
    title: "medpolicy coverage requirements (order select)",
    description:
      "Coverage and prior authorization of the selected draft orders (no documentation requirements: a secondary hook).",
  },
  {
    hook: "order-dispatch",
    id: "order-dispatch-crd",
    title: "medpolicy coverage requirements (order dispatch)",
    description: "Coverage requirements of the orders being dispatched to a performer.",
  },
  {
    hook: "appointment-book",
    id: "appointment-book-crd",
    title: "medpolicy coverage requirements (appointment book)",
    description: "Coverage requirements of the services an appointment is booked for.",
  },
  {
    hook: "encounter-start",
    id: "encounter-start-crd",
    title: "medpolicy coverage requirements (encounter start)",
    description: "Coverage requirements of the encounter being started and the orders made in it.",
  },
  {
    hook: "encounter-discharge",
    id: "encounter-discharge-crd",
    title: "medpolicy coverage requirements (encounter discharge)",
    description: "Coverage requirements of the encounter being discharged and the orders made in it.",
  },
] as const;

/**
 * CRD 2.2 §"Supported Hooks": primary hooks SHALL answer coverage information for every order;
 * `order-select` is secondary (no documentation requirements, no DTR launch).
 */
export const PRIMARY_HOOKS: ReadonlySet<string> = new Set([
  "order-sign",
  "order-dispatch",
  "appointment-book",
  "encounter-start",
  "encounter-discharge",
]);

const PREFETCH = {
  patient: "Patient/{{context.patientId}}",
  coverage: "Coverage?patient={{context.patientId}}&status=active",
};

/** `GET /cds-services` (CDS Hooks 2.0 discovery), with the CRD 2.2 version and configuration options. */
export function discovery(): unknown {
  return {
    services: CRD_SERVICES.map((s) => ({
      hook: s.hook,
      id: s.id,
      title: s.title,
      description: s.description,
      prefetch: {
        ...PREFETCH,
        ...(s.hook !== "order-dispatch" && { encounter: "Encounter/{{context.encounterId}}" }),
        ...(s.hook === "appointment-book" && {
          serviceRequests:
            // As the CRD IG's CRDServices.json: context.appointments is a Bundle.
            "ServiceRequest?_id={{context.appointments.entry.resource.basedOn.resolve().ofType(ServiceRequest).id}}",
        }),
        ...(s.hook === "order-dispatch" && {
          // As the CRD IG's CRDServices.json: context.dispatchedOrders is a list of references.
          serviceRequests:
            "ServiceRequest?_id={{context.dispatchedOrders.resolve().ofType(ServiceRequest).id}}",
          deviceRequests: "DeviceRequest?_id={{context.dispatchedOrders.resolve().ofType(DeviceRequest).id}}",
          medicationRequests:
            "MedicationRequest?_id={{context.dispatchedOrders.resolve().ofType(MedicationRequest).id}}",
        }),
        ...((s.hook === "encounter-start" || s.hook === "encounter-discharge") && {
          serviceRequests: "ServiceRequest?patient={{context.patientId}}&encounter={{context.encounterId}}",
        }),
      },
      usageRequirements:
        "Send a medpolicy bearer token. Patient (with address and birthDate) and Coverage are needed: in prefetch, or readable at fhirServer with fhirAuthorization (the server must be on this service's allow-list). The 2.0.1 coverage-information form is returned for `?crd=2.0.1` or extension davinci-crd.requestedVersion 2.0.x.",
      extension: {
        "davinci-crd.version": ["2.0", "2.2"],
        "davinci-crd.configuration-options": [
          {
            code: "coverage-info",
            type: "boolean",
            name: "Coverage Information",
            description:
              "Whether the service is covered, needs prior authorization, and what documentation is needed",
            default: true,
          },
        ],
      },
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Hook requests
// ---------------------------------------------------------------------------------------------

const bundleLike = z.looseObject({
  resourceType: z.literal("Bundle"),
  entry: z.array(z.unknown()).optional(),
});
const hookRequestSchema = z.looseObject({
  hook: z.string().min(1).max(200),
  hookInstance: z.string().min(1).max(200),
  // CDS Hooks 2.0: optional; clients that offer no FHIR access send null (issue 16).
  fhirServer: z.string().max(8192).optional().nullable(),
  fhirAuthorization: z.looseObject({}).optional().nullable(),
  // An R4 id (the Patient's logical id), bounded before any lookup (issue 13).
  context: z.looseObject({
    patientId: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9\-.]{1,64}$/, "must be a FHIR id"),
  }),
  prefetch: z.record(z.string(), z.unknown()).optional().nullable(),
  extension: z.record(z.string(), z.unknown()).optional().nullable(),
});
export type HookRequest = z.infer<typeof hookRequestSchema>;

const CONTEXT_BY_HOOK: Record<string, z.ZodType> = {
  "order-sign": z.looseObject({ draftOrders: bundleLike }),
  "order-select": z.looseObject({
    draftOrders: bundleLike,
    selections: z.array(z.string().max(8192)).min(1),
  }),
  "order-dispatch": z.looseObject({
    dispatchedOrders: z.array(z.string().max(8192)).min(1),
    performer: z.string().min(1).max(8192),
    fulfillmentTasks: z.array(z.unknown()).optional(),
  }),
  "appointment-book": z.looseObject({ appointments: bundleLike }),
  // CDS Hooks encounter-start / encounter-discharge: userId, patientId, encounterId (an R4 id).
  "encounter-start": z.looseObject({
    encounterId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, "must be a FHIR id"),
  }),
  "encounter-discharge": z.looseObject({
    encounterId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, "must be a FHIR id"),
  }),
};

/** Validates a CDS Hooks request for the service `hook`; 400 (OperationOutcome) naming the field. */
export function parseHookRequest(body: unknown, hook: string): HookRequest {
  if (!isObject(body)) throw invalid("a CDS Hooks request must be a JSON object");
  const r = hookRequestSchema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const at = i.path.map(String).join(".") || "(root)";
    throw invalid(`${at}: ${i.message}`, at);
  }
  if (r.data.hook !== hook)
    throw invalid(`this service answers the ${hook} hook, not ${r.data.hook}`, "hook");
  // CDS Hooks cds-r-1: fhirAuthorization only with a fhirServer it is for.
  if (isObject(r.data.fhirAuthorization) && typeof r.data.fhirServer !== "string")
    throw invalid(
      "fhirAuthorization is given without the fhirServer it is for (CDS Hooks cds-r-1)",
      "fhirServer",
    );
  const ctx = CONTEXT_BY_HOOK[hook]?.safeParse(r.data.context);
  if (ctx && !ctx.success) {
    const i = ctx.error.issues[0]!;
    const at = ["context", ...i.path.map(String)].join(".");
    throw invalid(`${at}: ${i.message} (required by the ${hook} hook)`, at);
  }
  // The FHIR resources in the request, typed before use (issue 13; 400 naming the element).
  const c = r.data.context as Record<string, unknown>;
  for (const k of ["draftOrders", "appointments"])
    if (c[k] !== undefined) validateResource(c[k], `context.${k}`);
  const tasks: unknown[] = Array.isArray(c.fulfillmentTasks) ? c.fulfillmentTasks : [];
  for (const [i, t] of tasks.entries()) validateResource(t, `context.fulfillmentTasks[${i}]`);
  for (const [k, v] of Object.entries(r.data.prefetch ?? {})) {
    // CDS Hooks: a prefetch the EHR could not fill is null.
    if (v !== null) validateResource(v, prefetchPath(k));
  }
  return r.data;
}

/** FHIRPath-like name of a prefetch value (keys are the caller's: bounded and quoted). */
const prefetchPath = (key: string) =>
  /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(key)
    ? `prefetch.${key}`
    : `prefetch[${JSON.stringify(key.slice(0, 64))}]`;

/** The coverage-information form asked for (see the module comment). */
export function requestedForm(req: HookRequest, query?: string, header?: string): CrdForm {
  const asked = query ?? header ?? (req.extension?.["davinci-crd.requestedVersion"] as unknown);
  return typeof asked === "string" && /^2\.0(\.|$)/.test(asked.trim()) ? "2.0.1" : "2.2";
}

type Order =
  | ServiceRequest
  | DeviceRequest
  | MedicationRequest
  | Appointment
  | Procedure
  | Encounter
  | Resource;

function orderCodes(order: Order, index: ResourceIndex): BillingCode[] {
  switch (order.resourceType) {
    case "ServiceRequest":
    case "Procedure":
      return billingCodes((order as ServiceRequest).code);
    case "DeviceRequest":
      return billingCodes((order as DeviceRequest).codeCodeableConcept);
    case "MedicationRequest":
      return billingCodes((order as MedicationRequest).medicationCodeableConcept);
    case "Encounter": {
      const e = order as Encounter;
      const types = Array.isArray(e.type) ? e.type.slice(0, 20) : [];
      return unique([...types, ...(e.serviceType ? [e.serviceType] : [])].flatMap(billingCodes));
    }
    case "Appointment": {
      const a = order as Appointment;
      const own = [...(a.serviceType ?? []), ...(a.appointmentType ? [a.appointmentType] : [])].flatMap(
        billingCodes,
      );
      const based = (a.basedOn ?? []).flatMap((r) =>
        billingCodes(index.resolve<ServiceRequest>(r, "ServiceRequest")?.code),
      );
      return unique([...own, ...based]);
    }
    default:
      return [];
  }
}

const unique = (codes: BillingCode[]) =>
  codes.filter((c, i, all) => all.findIndex((x) => x.code === c.code) === i);

function orderDate(order: Order, today: string): string {
  // The date fields of every order type this service reads (each type has some of them).
  const r = order as Partial<
    Pick<ServiceRequest, "occurrenceDateTime" | "occurrencePeriod" | "occurrenceTiming"> &
      Pick<MedicationRequest, "dispenseRequest"> &
      Pick<Appointment, "start" | "requestedPeriod"> &
      Pick<Procedure, "performedDateTime" | "performedPeriod">
  >;
  const candidates = [
    r.occurrenceDateTime,
    r.occurrencePeriod?.start,
    r.occurrenceTiming?.event?.[0],
    r.occurrenceTiming?.repeat?.boundsPeriod?.start,
    r.dispenseRequest?.validityPeriod?.start,
    r.start,
    r.requestedPeriod?.[0]?.start,
    r.performedDateTime,
    r.performedPeriod?.start,
  ];
  for (const c of candidates) {
    const d = isoDate(typeof c === "string" ? c : undefined);
    if (d) return d;
  }
  // An order without a planned date is being placed now: the policy in force today applies.
  return today;
}

function drugOf(order: Order): string | undefined {
  if (order.resourceType !== "MedicationRequest") return undefined;
  const cc: CodeableConcept | undefined = (order as MedicationRequest).medicationCodeableConcept;
  const name = cc?.text ?? cc?.coding?.find((c) => c.display)?.display;
  return name?.trim() ? name.trim().slice(0, 200) : undefined;
}

/** The clinical picture of an order (issue 14): diagnoses and providers, each valid or absent. */
export interface OrderClinical {
  /** ICD-10-CM, the order's own reasons first (at most 25). */
  diagnoses: Diagnosis[];
  providers: { requesting?: Provider; servicing?: Provider };
}

/** An order with what a coverage assertion needs of it. */
export interface OrderInfo extends OrderClinical {
  order: Resource;
  codes: BillingCode[];
  dateOfService: string;
  drug?: string;
}

/** Where the hook names the user and the performer (CDS Hooks context), for orders that do not. */
export interface HookParties {
  /** `context.userId` (`Practitioner/…`, `PractitionerRole/…`): the ordering user. */
  userId?: string;
  /** `context.performer` (order-dispatch): who the orders are dispatched to. */
  performer?: string;
}

const INACTIVE = new Set(["inactive", "resolved", "remission"]);
const UNCONFIRMED = new Set(["refuted", "entered-in-error"]);
const codesOf = (cc: unknown): string[] =>
  isObject(cc) && Array.isArray(cc.coding)
    ? cc.coding.flatMap((c) => (isObject(c) && typeof c.code === "string" ? [c.code] : []))
    : [];

/**
 * The diagnoses and providers of one order (issue 14): the order's `reasonCode`, then the Conditions
 * its `reasonReference` names, then the other Conditions the hook sent that are not inactive,
 * refuted or in error — ICD-10-CM only; the requester (else the hook's user) and the performer (else
 * the dispatch performer), by valid NPI. Elements are checked by type here: not every order type's
 * reasons and performer are typed by `validateResource`.
 */
export function orderClinical(
  order: Resource,
  index: ResourceIndex,
  today: string,
  parties: HookParties = {},
): OrderClinical {
  const o = order as unknown as Record<string, unknown>;
  const list = (x: unknown): unknown[] => (Array.isArray(x) ? x.slice(0, 50) : x === undefined ? [] : [x]);
  const own = list(o.reasonCode).map((cc) => icd10Of(cc).diagnosis);
  const referenced = list(o.reasonReference).map((r) =>
    isObject(r) ? icd10Of(index.resolve<Condition>(r as Reference, "Condition")?.code).diagnosis : undefined,
  );
  const others = index
    .ofType<Condition>("Condition")
    .filter(
      (c) =>
        !codesOf(c.clinicalStatus).some((x) => INACTIVE.has(x)) &&
        !codesOf(c.verificationStatus).some((x) => UNCONFIRMED.has(x)),
    )
    .slice(0, 100)
    .map((c) => icd10Of(c.code).diagnosis);
  const diagnoses = uniqueDiagnoses([...own, ...referenced, ...others]);

  const first = (x: unknown) =>
    list(x).find((r) => isObject(r) || typeof r === "string") as Reference | string | undefined;
  const requesting =
    providerOf(first(o.requester), index, today).provider ??
    (parties.userId ? providerOf(parties.userId, index, today).provider : undefined);
  const servicing =
    providerOf(first(o.performer), index, today).provider ??
    (parties.performer ? providerOf(parties.performer, index, today).provider : undefined);
  return {
    diagnoses,
    providers: { ...(requesting && { requesting }), ...(servicing && { servicing }) },
  };
}

/**
 * Codes, date of service, drug and clinical picture of each order (CRD hooks, DTR
 * `$questionnaire-package`).
 */
export function ordersOfResources(
  orders: readonly Resource[],
  index: ResourceIndex,
  today: string,
  parties: HookParties = {},
): OrderInfo[] {
  return orders.map((order) => {
    const drug = drugOf(order);
    return {
      order,
      codes: orderCodes(order, index),
      dateOfService: orderDate(order, today),
      ...(drug && { drug }),
      ...orderClinical(order, index, today, parties),
    };
  });
}

/**
 * The parts of a case (SPEC 2.1) beyond codes, dates and answers that a CRD/DTR order gives
 * (issue 14): the member's name, id and address, the diagnoses and providers. Every part was
 * validated on its own, so adding them never makes a case invalid.
 */
export function clinicalCaseParts(
  member: MemberFacts,
  clinical?: Partial<OrderClinical>,
): {
  member: Pick<MemberFacts, "id" | "name" | "address">;
  diagnoses?: Diagnosis[];
  providers?: OrderClinical["providers"];
} {
  const p = clinical?.providers;
  return {
    member: {
      ...(member.id && { id: member.id }),
      ...(member.name && { name: member.name }),
      ...(member.address && { address: member.address }),
    },
    ...(clinical?.diagnoses?.length && { diagnoses: clinical.diagnoses }),
    ...(p && (p.requesting || p.servicing) && { providers: p }),
  };
}

const ORDER_TYPES: ReadonlySet<string> = new Set([
  "ServiceRequest",
  "DeviceRequest",
  "MedicationRequest",
  "NutritionOrder",
  "VisionPrescription",
  "CommunicationRequest",
]);

/** The orders a hook asks about, resolved against its context and prefetch. */
export function ordersOf(req: HookRequest, index: ResourceIndex): Order[] {
  const c = req.context as Record<string, unknown>;
  const fromBundle = (b: unknown) =>
    ((b as Bundle | undefined)?.entry ?? [])
      .map((e) => e?.resource)
      .filter((r): r is Resource => isResource(r));
  switch (req.hook) {
    case "order-sign":
      return fromBundle(c.draftOrders);
    case "order-select": {
      const selected = new Set(c.selections as string[]);
      return fromBundle(c.draftOrders).filter((r) => selected.has(`${r.resourceType}/${r.id}`));
    }
    case "appointment-book":
      return fromBundle(c.appointments);
    case "encounter-start":
    case "encounter-discharge": {
      // The encounter itself, and the orders of it the client sent (CRD 2.2 encounter hooks).
      const ref = `Encounter/${String(c.encounterId)}`;
      const enc = index.resolve(ref, "Encounter");
      const orders = index.all.filter(
        (r) =>
          ORDER_TYPES.has(r.resourceType) &&
          isObject((r as { encounter?: unknown }).encounter) &&
          (r as { encounter: Reference }).encounter.reference === ref,
      );
      return [...(enc ? [enc] : []), ...orders];
    }
    case "order-dispatch": {
      const refs = [
        ...(c.dispatchedOrders as string[]),
        ...((c.fulfillmentTasks as Task[] | undefined) ?? [])
          .map((t) => t?.focus?.reference)
          .filter((r): r is string => !!r),
      ];
      const out: Resource[] = [];
      for (const ref of refs) {
        const r = index.resolve(ref);
        if (r && !out.includes(r)) out.push(r);
      }
      return out;
    }
    default:
      return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Coverage assertions
// ---------------------------------------------------------------------------------------------

/** What this library says about one billing code for one member (SPEC 1.5, 2.2). */
export interface CoverageAssertion {
  /** Absent for an order with no CPT/HCPCS code (its assertion is then `conditional`). */
  code?: BillingCode;
  covered: "covered" | "not-covered" | "conditional";
  pa?: "auth-needed" | "no-auth" | "satisfied" | "conditional";
  /** CRD `info-needed` (only with something `conditional`, crd-ci-q3). */
  infoNeeded?: "OTH" | "detail-code";
  /** The approved prior authorization that satisfies this one (`satisfied-pa-id`, crd-ci-q5). */
  satisfiedPaId?: string;
  /** The section Questionnaire's canonical, when documentation is needed. */
  questionnaire?: string;
  reason?: string;
  /** The policy that decided it (absent when nothing could be decided). */
  policy?: { id: string; version: string; section?: string };
}

function assertionOf(
  lib: Library,
  code: BillingCode,
  line: Line,
  today: string,
  note?: string,
  baseUrl?: string,
): CoverageAssertion | undefined {
  const policy = line.policy;
  if (!policy) return undefined;
  const ref = {
    id: policy.id,
    version: policy.version,
    ...(policy.section !== undefined && { section: policy.section }),
  };
  const why = (s: string) => (note ? `${s} (${note})` : s);
  switch (line.outcome) {
    case "not-applicable": {
      const entry = lib.get(`${policy.id}@${policy.version}`, today);
      const codingOnly = entry.codes.some((b) => "codingOnly" in b && b.codes.includes(code.code));
      // A drug another policy governs: this library cannot speak for that policy.
      if (!codingOnly || line.referral) return undefined;
      return { code, covered: "covered", pa: "no-auth", reason: why(line.basis), policy: ref };
    }
    case "not-covered":
      return { code, covered: "not-covered", reason: why(line.basis), policy: ref };
    default: {
      const entry = lib.get(`${policy.id}@${policy.version}`, today);
      const section = policy.section
        ? entry.evaluated.sections.find((s) => s.id === policy.section)
        : undefined;
      const a: CoverageAssertion = { code, covered: "covered", pa: "auth-needed", policy: ref };
      // The canonical DTR serves (issue 16: `<public base>/fhir/Questionnaire/<id>`, resolvable there).
      if (section?.tree) a.questionnaire = questionnaireUrl(policy.id, policy.version, section.id, baseUrl);
      else a.reason = why(line.basis);
      if (note && a.reason === undefined) a.reason = note;
      return a;
    }
  }
}

/**
 * Coverage assertions for the codes of one order (SPEC 2.2 with no answers yet). A code no policy
 * governs, or none effective on the date of service, gets no assertion. Without the member's state
 * the corporate policy in force is used, and the assertion says so.
 */
export function assessCodes(
  lib: Library,
  codes: BillingCode[],
  member: MemberFacts,
  dateOfService: string,
  today: string,
  drug?: string,
  clinical?: Partial<OrderClinical>,
  baseUrl?: string,
): CoverageAssertion[] {
  const out: CoverageAssertion[] = [];
  for (const code of codes) {
    const built = caseForCode(lib, code, member, dateOfService, drug, clinical);
    if (!built) continue;
    try {
      const d = decideValidated(lib, built.case, { today, trace: false });
      const a = assertionOf(lib, code, d.lines[0]!, today, built.note, baseUrl);
      if (a) out.push(a);
    } catch (err) {
      if (err instanceof DeterminationError || err instanceof InputError) continue;
      throw err;
    }
  }
  return out;
}

/**
 * The case one billing code of an order is decided on (SPEC 2.1, no answers), with the order's
 * clinical picture (issue 14); undefined when no policy governs the code (or, without the member's
 * state, none is in force). Without the state the corporate version in force is pinned and `note`
 * says so. Should the clinical parts ever make the case invalid, it is decided without them: they
 * never change the answer.
 */
export function caseForCode(
  lib: Library,
  code: BillingCode,
  member: MemberFacts,
  dateOfService: string,
  drug?: string,
  clinical?: Partial<OrderClinical>,
): { case: Case; note?: string } | undefined {
  const bases = lib.policiesForCode(code.code);
  if (bases.length === 0) return undefined;
  const parts = clinicalCaseParts(member, clinical);
  const service = { codes: [code.code], dateOfService, ...(drug && { drug }) };
  const birth = member.birthDate ? { birthDate: member.birthDate } : {};
  if (member.state) {
    const full = caseSchema.safeParse({
      ...parts,
      member: { ...parts.member, state: member.state, ...birth },
      service,
    });
    if (full.success) return { case: full.data };
    const bare = caseSchema.safeParse({ member: { state: member.state, ...birth }, service });
    return bare.success ? { case: bare.data } : undefined;
  }
  const corporate = lib.inForce(bases[0]!, dateOfService);
  if (!corporate) return undefined;
  const v = corporate.policy.identity;
  // The version is pinned, so the state is never consulted (SPEC 1.4 resolution is bypassed).
  return {
    case: {
      ...parts,
      member: { ...parts.member, state: "", ...birth },
      service,
      answers: {},
      facts: {},
      policy: `${v.id}@${v.version}`,
    } as Case,
    note: `member's state of residence unknown: ${v.id} applied; a state variant may differ`,
  };
}

/** HL7 terminology's CDS Hooks card types (CRD 2.2.1 `cardType` value set). */
export const CDS_CARD_TYPE = "http://terminology.hl7.org/CodeSystem/cdshooks-card-type";

/** The CRD temporary code system (card topics in 2.0.1, assertion reasons; CRD 2.0.1 and 2.2). */
export const CRD_TEMP = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp";

/**
 * The coded reason of a prior-authorization documentation requirement (crd-ci-q8: `doc-purpose`
 * other than conditional needs a `reason`). `coverageAssertionReasons` (extensible) has only
 * gold-card and detail-code, neither of which fits, so the CRD temp code for prior authorization is
 * used, with text (crd-ci-q7: a coding from outside the value set needs text).
 */
export const PA_REASON: Coding = {
  system: CRD_TEMP,
  code: "reason-prior-auth",
  display: "Prior authorization",
};

/** How one coverage-information extension is written. */
export interface InfoOptions {
  coverage: Reference;
  date: string;
  assertionId: string;
  form: CrdForm;
  /** The hook answered: on a secondary hook (order-select) no documentation requirement is stated. */
  hook?: string;
}

/** Whether the assertion states a documentation requirement for prior authorization on `hook`. */
function needsDocs(a: CoverageAssertion, hook?: string): boolean {
  const primary = hook === undefined || PRIMARY_HOOKS.has(hook);
  return primary && a.questionnaire !== undefined && (a.pa ?? "auth-needed") === "auth-needed";
}

/**
 * One coverage-information extension (CRD `ext-coverage-information`, 2.2 or 2.0.1 form; issue 16):
 * every invariant of both packages holds by construction — q1 a questionnaire only with doc-needed;
 * q2 (2.2) pa-needed iff not not-covered, (2.0.1, as its expression evaluates) pa-needed always; q3 info-needed iff something is conditional; q4 no withpa unless
 * auth-needed; q5 satisfied-pa-id iff satisfied; q6 info-needed OTH with a reason; q7 reason text
 * whenever it is coded; q8 doc-purpose with a reason. No `no-doc` in either form (not in the 2.0.1
 * package's required AdditionalDocumentation value set, gone in 2.2).
 */
export function coverageInformation(a: CoverageAssertion, o: InfoOptions): Extension {
  const ext: Extension[] = [
    { url: "coverage", valueReference: o.coverage },
    { url: "covered", valueCode: a.covered },
  ];
  const pa =
    a.covered === "not-covered"
      ? "no-auth"
      : a.pa === "satisfied" && !a.satisfiedPaId
        ? "auth-needed"
        : (a.pa ?? "auth-needed");
  // crd-ci-q2 differs: 2.2 — not-covered SHALL have no pa-needed; the 2.0.1 package's expression
  // (`covered != not-covered implies pa-needed.exists()`) is empty, i.e. not met, for not-covered
  // without pa-needed, so the 2.0.1 form states `no-auth` there (nothing to authorize).
  if (a.covered !== "not-covered" || o.form === "2.0.1") ext.push({ url: "pa-needed", valueCode: pa });
  const docs = needsDocs({ ...a, pa }, o.hook);
  if (docs)
    ext.push({ url: "doc-needed", valueCode: "clinical" }, { url: "doc-purpose", valueCode: "withpa" });
  if (a.infoNeeded) ext.push({ url: "info-needed", valueCode: a.infoNeeded });
  if (a.code) ext.push({ url: "billingCode", valueCoding: { system: a.code.system, code: a.code.code } });
  if (docs) {
    const where = `${a.policy?.id ?? "the plan's policy"}${a.policy?.section ? ` section ${a.policy.section}` : ""}`;
    ext.push({
      url: "reason",
      valueCodeableConcept: {
        coding: [PA_REASON],
        text: `Prior authorization with clinical documentation is required by ${where}${a.reason ? `; ${a.reason}` : ""}`,
      },
    });
  } else if (a.reason) ext.push({ url: "reason", valueCodeableConcept: { text: a.reason } });
  if (docs && a.questionnaire) ext.push({ url: "questionnaire", valueCanonical: a.questionnaire });
  ext.push({ url: "date", valueDate: o.date }, { url: "coverage-assertion-id", valueString: o.assertionId });
  if (pa === "satisfied" && a.covered !== "not-covered")
    ext.push({ url: "satisfied-pa-id", valueString: a.satisfiedPaId! });
  return { url: COVERAGE_INFORMATION, extension: ext };
}

/**
 * The assertion for what this library cannot decide (CRD 2.2 "primary hooks return coverage
 * information for every order"; issue 16): never `covered` — `conditional` coverage and prior
 * authorization, `info-needed` OTH and the reason (crd-ci-q3, q6).
 */
export function undecidedAssertion(
  lib: Library,
  code: BillingCode | undefined,
  dateOfService: string,
): CoverageAssertion {
  const reason = !code
    ? "The order carries no CPT or HCPCS code: this service cannot determine coverage or prior authorization; contact the plan"
    : lib.policiesForCode(code.code).length === 0
      ? `No clinical policy of this plan governs ${code.code}: this service cannot determine coverage or prior authorization; contact the plan`
      : `No policy governing ${code.code} could be applied for the date of service ${dateOfService}: coverage and prior authorization cannot be determined; contact the plan`;
  return { ...(code && { code }), covered: "conditional", pa: "conditional", infoNeeded: "OTH", reason };
}

/** A CDS Hooks card (CDS Hooks 2.0 §Card; CRD "Launch SMART application"). */
export interface Card {
  uuid: string;
  summary: string;
  detail?: string;
  indicator: "info" | "warning" | "critical";
  source: { label: string; topic?: Coding };
  /** CDS Hooks: a suggestion without actions is a labelled choice; `selectionBehavior` goes with it. */
  suggestions?: { uuid: string; label: string }[];
  selectionBehavior?: "any" | "at-most-one";
  links?: { label: string; url: string; type: "absolute" | "smart"; appContext?: string }[];
}

/** A CDS Hooks response (coverage information is never put in a card). */
export interface HookResponse {
  cards: Card[];
  systemActions: { type: "update"; description: string; resource: Resource }[];
}

/** What the handler knows beyond the hook request. */
export interface AnswerOptions {
  /** Resources read from the client's FHIR server for what prefetch lacked (./crd-lookup.ts). */
  looked?: readonly Resource[];
  /**
   * The id of an approved prior authorization for this member and code (PAS decisions, read-only),
   * which makes `pa-needed` `satisfied` (crd-ci-q5).
   */
  satisfiedPa?: (memberId: string | undefined, code: string) => string | undefined;
  /** The DTR SMART app's launch URL, for the card's link. */
  dtrLaunchUrl?: string;
  /** This server's public base URL: Questionnaire canonicals are the ones its DTR serves. */
  baseUrl?: string;
}

/** The prefetch (and looked-up resources) as one index. */
export function indexOfRequest(req: HookRequest, looked: readonly Resource[] = []): ResourceIndex {
  const index = new ResourceIndex();
  for (const [k, v] of Object.entries(req.prefetch ?? {})) {
    if (isResource<Bundle>(v, "Bundle")) index.addBundle(v, prefetchPath(k));
    else if (isResource(v) && v.resourceType !== "OperationOutcome") index.add(v, undefined, prefetchPath(k));
  }
  for (const r of looked) {
    // A resource the prefetch already has wins (they are the same resource, read twice).
    const key = r.id ? `${r.resourceType}/${r.id}` : undefined;
    if (key && index.resolve(key)) continue;
    index.add(r, undefined, `fhirServer ${r.resourceType}`);
  }
  return index;
}

/** The active Coverage the assertions are made for (CRD: a Coverage on the client's system). */
function coverageOf(index: ResourceIndex): Coverage | undefined {
  const all = index.ofType<Coverage>("Coverage");
  return all.find((c) => c.status === "active") ?? all.find((c) => c.status === undefined);
}

const shortText = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/**
 * Answers a validated hook request (CRD 2.2 / 2.0.1, issue 16; pure but for the assertion and card
 * ids): a `systemAction` of type `update` per order with its coverage-information extensions — one
 * per billing code, all with the one `coverage-assertion-id` of that order and Coverage — and, on a
 * primary hook, a DTR launch card per order needing documentation. A 400 without an active Coverage.
 */
export function answerHook(
  lib: Library,
  req: HookRequest,
  form: CrdForm,
  today: string,
  opts: AnswerOptions = {},
): HookResponse {
  const empty: HookResponse = { cards: [], systemActions: [] };
  const config = req.extension?.["davinci-crd.configuration"];
  if (isObject(config) && config["coverage-info"] === false) return empty;

  const index = indexOfRequest(req, opts.looked);
  const patient =
    index.resolve<Patient>(`Patient/${req.context.patientId}`, "Patient") ??
    index.ofType<Patient>("Patient")[0];
  const coverage = coverageOf(index);
  if (!coverage) {
    // CRD 2.2: "If no coverage instance is available, the coverage-information extension cannot be
    // returned" — and an empty answer would read as "nothing needed" (issue 16).
    throw new FhirError(
      400,
      "invalid",
      "no active Coverage for the patient was given in prefetch (key `coverage`) or found at fhirServer; coverage requirements are stated per Coverage",
      "prefetch.coverage",
    );
  }
  const coverageRef: Reference = {
    reference: coverage.id ? `Coverage/${coverage.id}` : "Coverage",
    ...(coverage.payor?.[0]?.display && { display: coverage.payor[0].display }),
  };
  const member = memberFromPatient(patient, today, coverage);
  const c = req.context as { userId?: unknown; performer?: unknown };
  const parties: HookParties = {
    ...(typeof c.userId === "string" && c.userId.length <= 8192 && { userId: c.userId }),
    ...(typeof c.performer === "string" && { performer: c.performer }),
  };
  const primary = PRIMARY_HOOKS.has(req.hook);

  const actions: HookResponse["systemActions"] = [];
  const cards: Card[] = [];
  for (const info of ordersOfResources(ordersOf(req, index), index, today, parties)) {
    const { order, codes, dateOfService, drug } = info;
    const decided = assessCodes(lib, codes, member, dateOfService, today, drug, info, opts.baseUrl);
    const assertions: CoverageAssertion[] = [];
    for (const code of codes) {
      const a = decided.find((d) => d.code?.code === code.code);
      if (a) assertions.push(satisfiedIfApproved(a, member.id, opts));
      else if (primary) assertions.push(undecidedAssertion(lib, code, dateOfService));
    }
    if (codes.length === 0 && primary) assertions.push(undecidedAssertion(lib, undefined, dateOfService));
    if (assertions.length === 0) continue;
    // CRD: one coverage-assertion-id per order and Coverage (the test kits check that extensions on
    // one resource for one Coverage share it); DTR is relaunched from it.
    const assertionId = randomUUID();
    const exts = assertions.map((a) =>
      coverageInformation(a, { coverage: coverageRef, date: today, assertionId, form, hook: req.hook }),
    );
    const own = ((order as { extension?: Extension[] }).extension ?? []).filter(
      (e) => e?.url !== COVERAGE_INFORMATION,
    );
    const summary = assertions
      .map(
        (a) =>
          `${a.code?.code ?? "order"}: ${
            a.covered === "not-covered"
              ? "not covered"
              : a.covered === "conditional"
                ? "cannot be determined"
                : a.pa === "no-auth"
                  ? "no prior authorization needed"
                  : a.pa === "satisfied"
                    ? "prior authorization already approved"
                    : "prior authorization needed"
          }`,
      )
      .join("; ");
    actions.push({
      type: "update",
      description: `Coverage information (${summary})`,
      resource: { ...order, extension: [...own, ...exts] } as Resource,
    });
    const forms = [...new Set(assertions.filter((a) => needsDocs(a, req.hook)).map((a) => a.questionnaire!))];
    if (forms.length > 0) cards.push(dtrCard(order, forms, coverageRef, assertionId, assertions, form, opts));
  }
  return { cards, systemActions: actions };
}

/** `auth-needed` → `satisfied` when a prior authorization for the member and code was approved. */
function satisfiedIfApproved(
  a: CoverageAssertion,
  memberId: string | undefined,
  opts: AnswerOptions,
): CoverageAssertion {
  if (a.pa !== "auth-needed" || !a.code || !opts.satisfiedPa) return a;
  const id = opts.satisfiedPa(memberId, a.code.code);
  if (!id) return a;
  const { questionnaire: _q, ...rest } = a;
  return {
    ...rest,
    pa: "satisfied",
    satisfiedPaId: id,
    reason: `Prior authorization ${id} already approved for this member and ${a.code.code}`,
  };
}

/**
 * The DTR launch card (CRD 2.2 "Launch SMART application"; DTR 2.0.1 §"Launching DTR" appContext):
 * a `smart` link whose appContext names the Questionnaire canonicals, the order, the Coverage and the
 * coverage-assertion-id, so DTR can fetch the package and tie the response to this assertion.
 */
function dtrCard(
  order: Resource,
  questionnaires: string[],
  coverage: Reference,
  assertionId: string,
  assertions: CoverageAssertion[],
  form: CrdForm,
  opts: AnswerOptions,
): Card {
  const codes = assertions
    .filter((a) => a.questionnaire)
    .map((a) => a.code?.code)
    .filter(Boolean)
    .join(", ");
  const orderRef = order.id ? `${order.resourceType}/${order.id}` : order.resourceType;
  return {
    uuid: randomUUID(),
    summary: shortText(`Documentation needed for prior authorization (${codes})`, 140),
    detail:
      "The plan's clinical policy requires prior authorization with clinical documentation for this order. Launch the documentation app (DTR) to complete the policy's Questionnaire; the completed response is submitted with the prior authorization request.",
    indicator: "info",
    // CRD "Launch SMART application": topic required (CRDCardType, extensible) — the CRD temp code
    // system in 2.0.1, HL7 terminology's cdshooks-card-type in 2.2.1; one smart link, no suggestions.
    source: {
      label: "medpolicy",
      topic: {
        system: form === "2.0.1" ? CRD_TEMP : CDS_CARD_TYPE,
        code: "coverage-info",
        display: "Coverage Information",
      },
    },
    // CRD 2.2 CRDHooksResponse-launchSMART requires `suggestions` beside the smart link (the
    // Inferno CRD 2.2 mock card carries one labelled suggestion, selectionBehavior "any"); the 2.0.1
    // logical model forbids them (suggestions 0..0).
    ...(form === "2.2" && {
      suggestions: [{ uuid: randomUUID(), label: "Complete the documentation for prior authorization" }],
      selectionBehavior: "any" as const,
    }),
    links: [
      {
        label: "Complete the documentation (DTR)",
        url: opts.dtrLaunchUrl ?? "http://localhost/dtr/launch",
        type: "smart",
        appContext: JSON.stringify({
          questionnaire: questionnaires,
          order: orderRef,
          coverage: coverage.reference,
          coverageAssertionId: assertionId,
        }),
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Missing prefetch → FHIR lookup
// ---------------------------------------------------------------------------------------------

/** Reads needed for the answer (`required`) and reads that only enrich it (`optional`). */
export interface HookLookups {
  required: LookupPlan;
  optional: LookupPlan;
}

const refOf = (x: unknown): string | undefined => {
  const s =
    typeof x === "string" ? x : isObject(x) && typeof x.reference === "string" ? x.reference : undefined;
  return s && s.length <= 200 ? typeIdOf(s) : undefined;
};

/**
 * What the request lacks (CDS Hooks 2.0 prefetch templates of `discovery()`; issue 16): the Coverage
 * (search by patient, status active), the dispatched orders and the encounter are required; the
 * Patient and the orders' referenced resources (requester, performer, reasons, basedOn) only enrich.
 */
export function lookupsFor(req: HookRequest, index: ResourceIndex): HookLookups {
  const required: LookupPlan = { reads: [] };
  const optional: LookupPlan = { reads: [] };
  const c = req.context as Record<string, unknown>;
  const missing = (ref: string | undefined) => ref !== undefined && !index.resolve(ref);
  // An empty Coverage search in prefetch is an answer (no active coverage → 400), not a gap.
  const searched = isResource<Bundle>(req.prefetch?.coverage, "Bundle");
  if (!coverageOf(index) && !searched) required.coverageOfPatient = req.context.patientId;
  const patientRef = `Patient/${req.context.patientId}`;
  if (missing(patientRef)) optional.reads.push(patientRef);
  // The ordering user (CDS Hooks `userId`), the requesting provider when the order names none.
  const user = refOf(c.userId);
  if (user && /^(Practitioner|PractitionerRole)\//.test(user) && missing(user)) optional.reads.push(user);
  if (
    (req.hook === "encounter-start" || req.hook === "encounter-discharge") &&
    typeof c.encounterId === "string"
  ) {
    const e = `Encounter/${c.encounterId}`;
    if (missing(e)) required.reads.push(e);
  }
  if (req.hook === "order-dispatch") {
    for (const r of (c.dispatchedOrders as string[]).slice(0, 20)) {
      const k = refOf(r);
      if (missing(k)) required.reads.push(k!);
    }
  }
  for (const order of ordersOf(req, index).slice(0, 20)) {
    const o = order as unknown as Record<string, unknown>;
    const refs = ["requester", "performer", "reasonReference", "basedOn"].flatMap((k) => {
      const v = o[k];
      return (Array.isArray(v) ? v.slice(0, 5) : [v]).map(refOf);
    });
    for (const k of refs) if (missing(k) && !optional.reads.includes(k!)) optional.reads.push(k!);
  }
  return { required, optional };
}

const planEmpty = (p: LookupPlan) => p.reads.length === 0 && p.coverageOfPatient === undefined;

/** Options of {@link registerCrd} (the FHIR plugin passes the service's own; defaults otherwise). */
export interface CrdDeps {
  /** The service's endpoint policy (issue 13); default: one built from the same configuration. */
  policy?: EndpointPolicy;
  /** Deadline and size cap of each lookup read. */
  lookupTimeoutMs?: number;
  lookupMaxBytes?: number;
  /** DTR SMART app launch URL; default `MEDPOLICY_DTR_LAUNCH_URL`, else `{publicUrl}/dtr/launch`. */
  dtrLaunchUrl?: string;
}

/**
 * Approved prior authorizations of the caller's organization (PAS decisions in the store; read-only),
 * as a matcher by member id and code (CRD `pa-needed` satisfied, issue 16).
 */
async function approvedAuthorizations(
  ctx: ServerContext,
  principal: Principal | undefined,
  today: string,
): Promise<AnswerOptions["satisfiedPa"]> {
  if (!principal) return undefined;
  const org = principal.org ?? `internal:${principal.sub}`;
  const rows = await ctx.store.list({ org, status: "decided", limit: 500 });
  // Never claim "satisfied" for an authorization that may have lapsed: PAS certifies for
  // AUTH_VALIDITY_DAYS from the date of service, which is never before the decision.
  const since = addDays(today, -AUTH_VALIDITY_DAYS);
  const approved = rows.filter(
    (r) =>
      r.decisionOutcome === "approved" &&
      r.index?.memberId &&
      typeof r.decidedAt === "string" &&
      r.decidedAt.slice(0, 10) >= since,
  );
  if (approved.length === 0) return undefined;
  return (memberId, code) =>
    memberId
      ? approved.find((r) => r.index!.memberId === memberId && r.index!.codes.includes(code))?.id
      : undefined;
}

/** Registers the CDS Hooks routes (`/cds-services`). */
export function registerCrd(app: FastifyInstance, ctx: ServerContext, deps: CrdDeps = {}): void {
  const policy =
    deps.policy ??
    new EndpointPolicy({
      allow: ctx.config.subscriptionAllow ?? [],
      production: process.env.NODE_ENV === "production",
    });
  app.get("/cds-services", async () => discovery());
  for (const s of CRD_SERVICES) {
    app.post(`/cds-services/${s.id}`, { preHandler: requireRole() }, async (req) => {
      const lib = ctx.library;
      if (!lib) throw new FhirError(501, "not-supported", "coverage requirements need the policy library");
      const hook = parseHookRequest(req.body, s.hook);
      const q = (req.query as { crd?: unknown }).crd;
      const h = req.headers["x-crd-version"];
      const form = requestedForm(
        hook,
        typeof q === "string" ? q : undefined,
        typeof h === "string" ? h : undefined,
      );
      const today = ctx.clock().toISOString().slice(0, 10);
      const config = hook.extension?.["davinci-crd.configuration"];
      const off = isObject(config) && config["coverage-info"] === false;
      const looked = off ? [] : await lookUp(hook, req.log);
      const res = answerHook(lib, hook, form, today, {
        looked,
        ...(!off && { satisfiedPa: await approvedAuthorizations(ctx, req.principal, today) }),
        baseUrl: publicBaseUrl(ctx.config),
        dtrLaunchUrl:
          deps.dtrLaunchUrl ??
          process.env.MEDPOLICY_DTR_LAUNCH_URL ??
          `${publicBaseUrl(ctx.config)}/dtr/launch`,
      });
      req.log.info(
        {
          hook: s.hook,
          actions: res.systemActions.length,
          cards: res.cards.length,
          form,
          looked: looked.length,
        },
        "CRD hook answered",
      );
      return res;
    });
  }

  /**
   * CDS Hooks 2.0: data missing from prefetch is read from `fhirServer` with `fhirAuthorization`; when
   * what the answer needs cannot be read, 412 Precondition Failed ("unable to retrieve the necessary
   * FHIR data"). Enrichment that cannot be read is left out.
   */
  async function lookUp(
    hook: HookRequest,
    log: { debug: (o: object, m: string) => void },
  ): Promise<Resource[]> {
    const plan = lookupsFor(hook, indexOfRequest(hook));
    const needed = !planEmpty(plan.required);
    if (!needed && planEmpty(plan.optional)) return [];
    const token = accessTokenOf(hook.fhirAuthorization);
    if (typeof hook.fhirServer !== "string" || !token) {
      if (!needed) return [];
      throw new FhirError(
        412,
        "processing",
        "data this service needs (the Coverage, dispatched orders or encounter) is missing from prefetch, and no fhirServer with fhirAuthorization (a Bearer access_token) was given to read it from",
        "prefetch",
      );
    }
    const options = {
      policy,
      ...(deps.lookupTimeoutMs !== undefined && { timeoutMs: deps.lookupTimeoutMs }),
      ...(deps.lookupMaxBytes !== undefined && { maxResponseBytes: deps.lookupMaxBytes }),
    };
    let found: Resource[] = [];
    if (needed) {
      try {
        found = await lookupResources(hook.fhirServer, token, plan.required, options);
      } catch (err) {
        if (!(err instanceof LookupFailure)) throw err;
        log.debug({ code: err.code, detail: err.detail }, "CRD FHIR lookup failed");
        throw new FhirError(412, "processing", err.message, "fhirServer");
      }
    }
    // Enrichment (Patient, providers, reasons): best effort, on its own time budget.
    if (!planEmpty(plan.optional)) {
      try {
        found = [...found, ...(await lookupResources(hook.fhirServer, token, plan.optional, options))];
      } catch (err) {
        if (!(err instanceof LookupFailure)) throw err;
        log.debug({ code: err.code, detail: err.detail }, "CRD FHIR lookup (optional) failed");
      }
    }
    // What the client's server answers is typed like prefetch; what fails is left out (never PHI in logs).
    return found.filter((r) => {
      try {
        validateResource(r);
        return true;
      } catch {
        log.debug({ resourceType: r.resourceType }, "CRD FHIR lookup: invalid resource left out");
        return false;
      }
    });
  }

  // An unknown service id: CDS Hooks clients expect 404.
  app.post("/cds-services/:id", async (req) => {
    throw new FhirError(
      404,
      "not-found",
      `no CDS service ${(req.params as { id: string }).id} (see GET /cds-services)`,
    );
  });
}
