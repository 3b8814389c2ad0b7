/**
 * Da Vinci Coverage Requirements Discovery (CRD) on CDS Hooks 2.0 (SPEC 4): discovery at
 * `GET /cds-services`, and `POST /cds-services/{id}` for `order-sign`, `order-select`,
 * `order-dispatch` and `appointment-book`.
 *
 * The answer is the coverage-information extension on each order, returned as a `systemAction` of type
 * `update` — never as a card (CRD 2.x "Coverage Information" response type). It is decided by the same
 * engine and bindings as every other interface (SPEC 1.5, 2.2), with no answers:
 * - a code governed by a medically-necessary section → `covered`, `auth-needed`, clinical documentation
 *   for prior authorization, and the section's Questionnaire (DTR);
 * - a code listed for coding only → `covered`, `no-auth`;
 * - a code in a "does not support coverage" table, a not-proven section, or off the state fee schedule
 *   for an adult → `not-covered` (no `pa-needed`);
 * - a code in no policy (or a drug another policy governs) → no coverage information: this library
 *   cannot say.
 *
 * Issue 14: the case each assertion is decided on also carries what a UM file holds, where the hook
 * gives it — the member's name, id and address (Patient, Coverage), the ICD-10-CM diagnoses (the
 * order's `reasonCode`/`reasonReference`, then active Conditions in the prefetch), the requesting
 * (`requester`, else the hook's user) and servicing (`performer`) providers by valid NPI. None of it
 * changes the answer, and an invalid value is left out, never an error.
 *
 * Forms: CRD 2.2.x by default. The 2.0.1 form — for test kits that still test 2.0.1 — is chosen by
 * `?crd=2.0.1`, the header `X-CRD-Version: 2.0.1`, or the hook request's
 * `extension["davinci-crd.requestedVersion"]` starting with `2.0`. They differ in `doc-needed`
 * (2.0.1: `no-doc | clinical | admin | both | conditional`, so "no documentation" is stated as
 * `no-doc`; 2.2: `clinical | admin | patient | conditional`, absent when none) and in `pa-needed`
 * (2.0.1 requires it whenever the service is not `not-covered`).
 */
import { randomUUID } from "node:crypto";
import type {
  Appointment,
  Bundle,
  CodeableConcept,
  Condition,
  Coverage,
  DeviceRequest,
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
import type { ServerContext } from "../index.js";
import { requireRole } from "../routes.js";
import {
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
  ResourceIndex,
  uniqueDiagnoses,
} from "./common.js";
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
    description: "Coverage requirements of the selected draft orders, as for order-sign.",
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
] as const;

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
            "ServiceRequest?_id={{context.appointments.Appointment.basedOn.resolve().ofType(ServiceRequest).id}}",
        }),
        ...(s.hook === "order-dispatch" && {
          serviceRequests: "ServiceRequest?_id={{context.dispatchedOrders.ofType(ServiceRequest).id}}",
          deviceRequests: "DeviceRequest?_id={{context.dispatchedOrders.ofType(DeviceRequest).id}}",
          medicationRequests:
            "MedicationRequest?_id={{context.dispatchedOrders.ofType(MedicationRequest).id}}",
        }),
      },
      usageRequirements:
        "Send a medpolicy bearer token. Patient (with address and birthDate) and Coverage prefetch are required for coverage information; the 2.0.1 coverage-information form is returned for `?crd=2.0.1` or extension davinci-crd.requestedVersion 2.0.x.",
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
  fhirServer: z.string().max(8192).optional(),
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

type Order = ServiceRequest | DeviceRequest | MedicationRequest | Appointment | Procedure | Resource;

function orderCodes(order: Order, index: ResourceIndex): BillingCode[] {
  switch (order.resourceType) {
    case "ServiceRequest":
    case "Procedure":
      return billingCodes((order as ServiceRequest).code);
    case "DeviceRequest":
      return billingCodes((order as DeviceRequest).codeCodeableConcept);
    case "MedicationRequest":
      return billingCodes((order as MedicationRequest).medicationCodeableConcept);
    case "Appointment": {
      const a = order as Appointment;
      const own = [...(a.serviceType ?? []), ...(a.appointmentType ? [a.appointmentType] : [])].flatMap(
        billingCodes,
      );
      const based = (a.basedOn ?? []).flatMap((r) =>
        billingCodes(index.resolve<ServiceRequest>(r, "ServiceRequest")?.code),
      );
      return [...own, ...based].filter((c, i, all) => all.findIndex((x) => x.code === c.code) === i);
    }
    default:
      return [];
  }
}

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
  code: BillingCode;
  covered: "covered" | "not-covered";
  pa?: "auth-needed" | "no-auth";
  /** The section Questionnaire's canonical, when documentation is needed. */
  questionnaire?: string;
  reason?: string;
  policy: { id: string; version: string; section?: string };
}

function assertionOf(
  lib: Library,
  code: BillingCode,
  line: Line,
  today: string,
  note?: string,
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
      if (section?.tree) a.questionnaire = questionnaireUrl(policy.id, policy.version, section.id);
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
): CoverageAssertion[] {
  const out: CoverageAssertion[] = [];
  for (const code of codes) {
    const built = caseForCode(lib, code, member, dateOfService, drug, clinical);
    if (!built) continue;
    try {
      const d = decideValidated(lib, built.case, { today, trace: false });
      const a = assertionOf(lib, code, d.lines[0]!, today, built.note);
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

/** One coverage-information extension (CRD `ext-coverage-information`) in the requested form. */
export function coverageInformation(
  a: CoverageAssertion,
  o: { coverage: Reference; date: string; assertionId: string; form: CrdForm },
): Extension {
  const ext: Extension[] = [
    { url: "coverage", valueReference: o.coverage },
    { url: "covered", valueCode: a.covered },
  ];
  if (a.covered !== "not-covered") ext.push({ url: "pa-needed", valueCode: a.pa ?? "auth-needed" });
  if (a.questionnaire) {
    ext.push({ url: "doc-needed", valueCode: "clinical" }, { url: "doc-purpose", valueCode: "withpa" });
  } else if (o.form === "2.0.1") {
    ext.push({ url: "doc-needed", valueCode: "no-doc" });
  }
  ext.push({ url: "billingCode", valueCoding: { system: a.code.system, code: a.code.code } });
  if (a.reason) ext.push({ url: "reason", valueCodeableConcept: { text: a.reason } });
  if (a.questionnaire) ext.push({ url: "questionnaire", valueCanonical: a.questionnaire });
  ext.push({ url: "date", valueDate: o.date }, { url: "coverage-assertion-id", valueString: o.assertionId });
  return { url: COVERAGE_INFORMATION, extension: ext };
}

/** A CDS Hooks response (cards are never used for coverage information). */
export interface HookResponse {
  cards: unknown[];
  systemActions: { type: "update"; description: string; resource: Resource }[];
}

/**
 * Answers a validated hook request (pure but for the assertion ids): a `systemAction` of type
 * `update` per order with at least one assertion, the order carrying one coverage-information
 * extension per governed billing code. Without a Coverage in the prefetch nothing can be asserted.
 */
export function answerHook(lib: Library, req: HookRequest, form: CrdForm, today: string): HookResponse {
  const empty: HookResponse = { cards: [], systemActions: [] };
  const config = req.extension?.["davinci-crd.configuration"];
  if (isObject(config) && config["coverage-info"] === false) return empty;

  const index = new ResourceIndex();
  for (const [k, v] of Object.entries(req.prefetch ?? {})) {
    if (isResource<Bundle>(v, "Bundle")) index.addBundle(v, prefetchPath(k));
    else if (isResource(v)) index.add(v, undefined, prefetchPath(k));
  }
  const patient =
    index.resolve<Patient>(`Patient/${req.context.patientId}`, "Patient") ??
    index.ofType<Patient>("Patient")[0];
  const coverages = index.ofType<Coverage>("Coverage");
  const coverage = coverages.find((c) => c.status === "active") ?? coverages[0];
  if (!coverage) return empty;
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

  const actions: HookResponse["systemActions"] = [];
  for (const info of ordersOfResources(ordersOf(req, index), index, today, parties)) {
    const { order, codes, dateOfService, drug } = info;
    const assertions = assessCodes(lib, codes, member, dateOfService, today, drug, info);
    if (assertions.length === 0) continue;
    const exts = assertions.map((a) =>
      coverageInformation(a, { coverage: coverageRef, date: today, assertionId: randomUUID(), form }),
    );
    const own = ((order as { extension?: Extension[] }).extension ?? []).filter(
      (e) => e?.url !== COVERAGE_INFORMATION,
    );
    const summary = assertions
      .map(
        (a) =>
          `${a.code.code}: ${a.covered === "not-covered" ? "not covered" : a.pa === "no-auth" ? "no prior authorization needed" : "prior authorization needed"}`,
      )
      .join("; ");
    actions.push({
      type: "update",
      description: `Coverage information (${summary})`,
      resource: { ...order, extension: [...own, ...exts] } as Resource,
    });
  }
  return { cards: [], systemActions: actions };
}

/** Registers the CDS Hooks routes (`/cds-services`). */
export function registerCrd(app: FastifyInstance, ctx: ServerContext): void {
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
      const res = answerHook(lib, hook, form, today);
      req.log.info({ hook: s.hook, actions: res.systemActions.length, form }, "CRD hook answered");
      return res;
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
