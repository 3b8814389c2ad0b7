/**
 * Da Vinci Prior Authorization Support (PAS) on the same engine (SPEC 4): `Claim/$submit` takes a PAS
 * request Bundle, stores it as a request through the service (so the reviewer queue sees it, SPEC 2.4)
 * and answers with a PAS response Bundle whose ClaimResponse gives each item an X12 306 review action:
 * A1 certified (engine approval, or a reviewer's), A3 not certified (only once a reviewer signs),
 * A4 pended (open questions, or an adverse recommendation awaiting a signature — SPEC 2.4), NA no
 * action required (no policy in the library governs the service). `Claim/$inquire` returns the current
 * state. Extension URLs and shapes are those of the PAS 2.2.1 examples (`extension-reviewAction` with
 * `extension-reviewActionCode` and `number`, `extension-itemPreAuthPeriod`, …).
 *
 * Mapping of the request (SPEC 2.1): Claim.item.productOrService (CPT/HCPCS) → `service.codes`;
 * item `servicedDate`/`servicedPeriod.start` (else the Claim's billable period or creation date) →
 * `dateOfService`; the Claim's Patient → `member.state` (current home address) and `birthDate`;
 * QuestionnaireResponses of this service's Questionnaires (in the bundle or `Claim.supportingInfo`) →
 * `answers` (linkId = criterion id, `valueBoolean`) and `facts`; urgent/stat priority → `expedited`.
 */
import { createHash, randomUUID } from "node:crypto";
import type {
  Bundle,
  BundleEntry,
  Claim,
  ClaimItem,
  ClaimResponse,
  ClaimResponseItem,
  Coding,
  Extension,
  Identifier,
  MedicationRequest,
  Patient,
  QuestionnaireResponse,
  Reference,
  Resource,
} from "@medplum/fhirtypes";
import { answersFromResponse, parseQuestionnaireRef } from "../../explain/questionnaire.js";
import type { Library } from "../../library/index.js";
import {
  type CaseInput,
  canonicalJson,
  type Determination,
  type Facts,
  factsSchema,
  InputError,
  type Line,
  type Needed,
} from "../../model/index.js";
import type { Decision, RequestRecord } from "../../store/index.js";
import { PAS_KEY_PREFIX } from "../channel.js";
import {
  addDays,
  type BillingCode,
  billingCodes,
  invalid,
  isObject,
  isoDate,
  isResource,
  MEDPOLICY_FHIR,
  memberFromPatient,
  ResourceIndex,
} from "./common.js";
import { adaptiveSource, FACTS_EXTENSION } from "./dtr.js";
import { validateResource } from "./validate.js";

const PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition";
export const PAS_EXT = {
  reviewAction: `${PAS}/extension-reviewAction`,
  reviewActionCode: `${PAS}/extension-reviewActionCode`,
  preAuthPeriod: `${PAS}/extension-itemPreAuthPeriod`,
  preAuthIssueDate: `${PAS}/extension-itemPreAuthIssueDate`,
  requestedServiceDate: `${PAS}/extension-itemRequestedServiceDate`,
  itemTraceNumber: `${PAS}/extension-itemTraceNumber`,
  requestedService: `${PAS}/extension-requestedService`,
  levelOfService: `${PAS}/extension-levelOfServiceCode`,
  reviewer: `${PAS}/extension-claimResponseReviewer`,
  errorElement: `${PAS}/extension-errorElement`,
} as const;
export const X12_306 = "https://codesystem.x12.org/005010/306";
const X12_901 = "https://codesystem.x12.org/005010/901";
/** Namespace of the request ids this service assigns (ClaimResponse.identifier, preAuthRef). */
export const REQUEST_ID_SYSTEM = `${MEDPOLICY_FHIR}/NamingSystem/request`;
/** Code system of a policy's criteria: `…/CodeSystem/<policy id>`, version = policy version. */
export const CRITERION_SYSTEM = `${MEDPOLICY_FHIR}/CodeSystem/`;
/** How long a certification is valid from the date of service (payer configuration; 180 days). */
export const AUTH_VALIDITY_DAYS = 180;

export type ReviewCode = "A1" | "A3" | "A4" | "NA";
const REVIEW_DISPLAY: Record<ReviewCode, string> = {
  A1: "Certified in total",
  A3: "Not Certified",
  A4: "Pended",
  NA: "No Action Required",
};

/** One Claim item as the response needs it. */
export interface PasItem {
  sequence: number;
  code?: BillingCode;
  /** The item's own product/service code (echoed in notes when it is not a billing code). */
  productOrService?: string;
  dateOfService: string;
  requestedPeriod?: { start?: string; end?: string };
  traceNumbers?: Identifier[];
}

/** What a ClaimResponse is built from, stored beside the request (`state.ts`). */
export interface ClaimContext {
  claimId?: string;
  identifiers: Identifier[];
  type?: Claim["type"];
  patient: Reference<Patient>;
  insurer?: Claim["insurer"];
  provider?: Claim["provider"];
  bundleIdentifier?: Identifier;
  items: PasItem[];
  /** Resources the ClaimResponse refers to, copied from the request bundle with their fullUrls. */
  included: { fullUrl?: string; resource: Resource }[];
  /** Identifier values of the requesting organization (subscription `orgIdentifier` filter). */
  providerIdentifiers: string[];
  baseUrl: string;
  /** Notes for the response: documentation ignored and why. */
  notes: string[];
  /**
   * Set on a submission no policy governs, stored without a request (issue 13): only such a row may
   * answer an inquiry "no action required" without a request behind it.
   */
  unstored?: true;
}

/** A request the engine cannot decide, answered as a ClaimResponse with `outcome: error`. */
export interface PasProblem {
  /** X12 AAA03 reject reason (code list 901): `15` required application data missing. */
  code: string;
  text: string;
  expression: string;
}

export interface ParsedPas {
  context: ClaimContext;
  /** The case to decide; absent when no item has a billing code any policy governs. */
  caseInput?: CaseInput;
  /** Set when the request carries governed codes but cannot be decided as sent. */
  problem?: PasProblem;
  /** The idempotency key (stable for a byte-identical retransmission). */
  key: string;
}

const identifierKey = (i: Identifier) => `${i.system ?? ""}|${i.value ?? ""}`;

/** The Claim and the bundle of a `$submit`/`$inquire` body (a Bundle, or Parameters wrapping one). */
export function claimBundleOf(body: unknown): { bundle: Bundle; claim: Claim; index: ResourceIndex } {
  // Every element read below is typed first (issue 13: wrong-typed input answered 500).
  if (isResource(body)) validateResource(body);
  let bundle = body;
  let root = "Bundle";
  if (isResource(body, "Parameters")) {
    const p = (body as { parameter?: { name?: string; resource?: unknown }[] }).parameter ?? [];
    const i = p.findIndex((x) => isResource(x?.resource, "Bundle"));
    bundle = p[i]?.resource;
    root = `Parameters.parameter[${i}].resource`;
  }
  if (!isResource<Bundle>(bundle, "Bundle")) {
    throw invalid(
      "the operation takes a PAS request Bundle (resourceType Bundle) whose first entry is a Claim",
    );
  }
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry))
    throw invalid("Bundle.entry must be an array", "Bundle.entry");
  const index = new ResourceIndex();
  index.addBundle(bundle, root);
  // PAS: the request Bundle's first entry is the Claim (a response or notification Bundle is not a request).
  const claim = bundle.entry?.[0]?.resource;
  if (!isResource<Claim>(claim, "Claim")) {
    throw invalid("the first entry of a PAS request Bundle must be the Claim", "Bundle.entry[0].resource");
  }
  if (claim.use !== undefined && claim.use !== "preauthorization") {
    throw invalid(`Claim.use is ${String(claim.use)}: PAS takes preauthorization requests`, "Claim.use");
  }
  if (!isObject(claim.patient) || typeof claim.patient.reference !== "string") {
    throw invalid("Claim.patient must reference the beneficiary", "Claim.patient");
  }
  if (claim.item !== undefined && !Array.isArray(claim.item))
    throw invalid("Claim.item must be an array", "Claim.item");
  return { bundle, claim, index };
}

function itemDate(item: ClaimItem, claim: Claim, today: string): string {
  return (
    isoDate(item.servicedDate) ??
    isoDate(item.servicedPeriod?.start) ??
    isoDate(claim.billablePeriod?.start) ??
    isoDate(claim.created) ??
    today
  );
}

function expedited(claim: Claim): boolean {
  if ((claim.priority?.coding ?? []).some((c) => c?.code === "stat")) return true;
  const level =
    claim.extension?.find((e) => e?.url === PAS_EXT.levelOfService)?.valueCodeableConcept?.coding ?? [];
  // X12 1338 level of service: U urgent, 03 emergency.
  return level.some((c) => c?.code === "U" || c?.code === "03");
}

function drugOf(claim: Claim, index: ResourceIndex): string | undefined {
  for (const item of claim.item ?? []) {
    for (const e of item?.extension ?? []) {
      if (e?.url !== PAS_EXT.requestedService) continue;
      const mr = index.resolve<MedicationRequest>(e.valueReference, "MedicationRequest");
      const cc = mr?.medicationCodeableConcept;
      const name = cc?.text ?? cc?.coding?.find((c) => c.display)?.display;
      if (name?.trim()) return name.trim().slice(0, 200);
    }
  }
  return undefined;
}

function questionnaireResponses(claim: Claim, index: ResourceIndex): QuestionnaireResponse[] {
  const out = index.ofType<QuestionnaireResponse>("QuestionnaireResponse");
  for (const s of claim.supportingInfo ?? []) {
    const qr = index.resolve<QuestionnaireResponse>(s?.valueReference, "QuestionnaireResponse");
    if (qr && !out.includes(qr)) out.push(qr);
  }
  return out;
}

/**
 * Reads a PAS request Bundle into the claim context and the case to decide (SPEC 2.1). Throws a 400
 * FhirError for a body that is not a PAS request; returns `problem` for one that is, but lacks what a
 * decision needs (the member's state when a governed code is requested).
 */
export function parsePasRequest(
  body: unknown,
  lib: Library,
  o: { today: string; baseUrl: string },
): ParsedPas {
  const { bundle, claim, index } = claimBundleOf(body);
  const patient = index.resolve<Patient>(claim.patient, "Patient");
  // PAS request Bundles are self-contained: the beneficiary is in it (issue 13: an unresolvable or
  // hostile reference is refused here, not decided as "state unknown").
  if (!patient) {
    throw invalid(
      "Claim.patient does not resolve to a Patient entry of the Bundle (a PAS request carries the beneficiary)",
      "Claim.patient",
    );
  }
  const items: PasItem[] = (claim.item ?? []).map((it, i) => {
    if (!isObject(it)) throw invalid(`Claim.item[${i}] must be an object`, `Claim.item[${i}]`);
    const code = billingCodes(it.productOrService)[0];
    const rs = it.extension?.find((e) => e?.url === PAS_EXT.requestedServiceDate)?.valuePeriod;
    const pos = it.productOrService?.coding?.[0];
    return {
      sequence: typeof it.sequence === "number" ? it.sequence : i + 1,
      ...(code && { code }),
      ...(pos?.code && { productOrService: `${pos.code}${pos.display ? ` (${pos.display})` : ""}` }),
      dateOfService: itemDate(it, claim, o.today),
      ...(it.servicedPeriod && { requestedPeriod: { ...it.servicedPeriod } }),
      ...(rs && { requestedPeriod: { ...rs } }),
      ...(() => {
        const t = (it.extension ?? []).filter((e) => e?.url === PAS_EXT.itemTraceNumber && e.valueIdentifier);
        return t.length ? { traceNumbers: t.map((e) => e.valueIdentifier!) } : {};
      })(),
    };
  });

  const included: ClaimContext["included"] = [];
  const include = (ref: Reference | undefined) => {
    const r = index.resolve(ref);
    if (!r || included.some((x) => x.resource === r)) return;
    const entry = (bundle.entry ?? []).find((e) => e?.resource === r);
    included.push({ ...(entry?.fullUrl && { fullUrl: entry.fullUrl }), resource: r });
  };
  // The ClaimResponse refers to the insurer and the requestor: they too must be in the Bundle, or the
  // answer would carry references that resolve nowhere (PAS response bundles are self-contained).
  for (const k of ["insurer", "provider"] as const) {
    if (typeof claim[k]?.reference === "string" && !index.resolve(claim[k])) {
      throw invalid(`Claim.${k} does not resolve to an entry of the Bundle`, `Claim.${k}`);
    }
  }
  include(claim.patient);
  include(claim.insurer);
  include(claim.provider);
  const provider = index.resolve(claim.provider) as { identifier?: Identifier[] } | undefined;

  const context: ClaimContext = {
    ...(claim.id && { claimId: claim.id }),
    identifiers: (claim.identifier ?? []).filter((i) => isObject(i) && typeof i.value === "string"),
    ...(claim.type && { type: claim.type }),
    patient: { reference: claim.patient.reference! },
    ...(claim.insurer && { insurer: claim.insurer }),
    ...(claim.provider && { provider: claim.provider }),
    ...(bundle.identifier && { bundleIdentifier: bundle.identifier }),
    items,
    included,
    providerIdentifiers: (provider?.identifier ?? []).map((i) => i?.value).filter((v): v is string => !!v),
    baseUrl: o.baseUrl,
    notes: [],
  };

  const governed = items.filter((i) => i.code && lib.policiesForCode(i.code.code).length > 0);
  const codes = [...new Set(items.flatMap((i) => (i.code ? [i.code.code] : [])))].slice(0, 50);
  const member = memberFromPatient(patient, o.today);
  const keyOf = (c: unknown) =>
    `${PAS_KEY_PREFIX}${createHash("sha256")
      .update(canonicalJson({ identifiers: context.identifiers.map(identifierKey), items, case: c }))
      .digest("hex")
      .slice(0, 40)}`;
  if (governed.length === 0) return { context, key: keyOf(null) };

  const dateOfService = governed[0]!.dateOfService;
  if (!member.state) {
    return {
      context,
      key: keyOf(null),
      problem: {
        code: "15",
        text: `The member's state of residence (Patient.address.state) is required: it decides which state variant of the policy governing ${governed
          .map((g) => g.code!.code)
          .join(", ")} applies.`,
        expression: "Patient.address.state",
      },
    };
  }

  // Documentation: answers and facts from this service's Questionnaires for the policy that applies.
  const expected = new Set(
    governed.flatMap((g) =>
      lib.policiesForCode(g.code!.code).flatMap((base) => {
        const e = lib.resolve(base, member.state!, dateOfService);
        return e ? [`${e.policy.identity.id}@${e.policy.identity.version}`] : [];
      }),
    ),
  );
  const answers: Record<string, boolean> = {};
  let facts: Facts = {};
  questionnaireResponses(claim, index).forEach((qr, n) => {
    const source = adaptiveSource(qr);
    const ref = source ? parseQuestionnaireRef(source) : undefined;
    if (!ref) {
      context.notes.push(
        `QuestionnaireResponse ${qr.id ?? n + 1} is not for a medpolicy Questionnaire: not used`,
      );
      return;
    }
    const which = `${ref.policy}@${ref.version}`;
    if (!expected.has(which)) {
      context.notes.push(
        `QuestionnaireResponse ${qr.id ?? n + 1} answers ${which}, which does not govern this request (${[...expected].join(", ") || "none effective"}): not used`,
      );
      return;
    }
    Object.assign(answers, answersFromResponse(qr));
    const f = qr.extension?.find((e) => e?.url === FACTS_EXTENSION)?.valueString;
    if (f !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(f);
      } catch {
        throw new InputError(`QuestionnaireResponse ${qr.id ?? n + 1}: the facts extension is not JSON`, {
          field: "QuestionnaireResponse.extension",
        });
      }
      const r = factsSchema.safeParse(parsed);
      if (!r.success) {
        throw new InputError(
          `QuestionnaireResponse ${qr.id ?? n + 1}: facts.${r.error.issues[0]!.path.join(".")}: ${r.error.issues[0]!.message}`,
          { field: "QuestionnaireResponse.extension" },
        );
      }
      facts = { ...facts, ...r.data };
    }
  });

  const drug = drugOf(claim, index);
  const caseInput: CaseInput = {
    ...(context.identifiers[0]?.value && { id: context.identifiers[0].value.slice(0, 200) }),
    member: { state: member.state, ...(member.birthDate && { birthDate: member.birthDate }) },
    service: { codes, dateOfService, ...(drug && { drug }), ...(expedited(claim) && { expedited: true }) },
    answers,
    facts,
  };
  return { context, caseInput, key: keyOf(caseInput) };
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

/** Where a request stands, as a ClaimResponse needs it. */
export interface ResponseState {
  requestId?: string;
  /** `unstored`: no policy governs any item (nothing to review); `error`: cannot be decided as sent. */
  status: RequestRecord["status"] | "unstored" | "error";
  /** Lines of the newest determination, by code. */
  lines: Line[];
  needed: Needed[];
  engineOutcome?: Determination["outcome"];
  decision?: Decision;
  decidedAt?: string;
  receivedAt: string;
  dueAt?: string;
  problem?: PasProblem;
}

/** The response state of a stored request (SPEC 2.4: what the provider may see). */
export function stateOf(rec: RequestRecord): ResponseState {
  const latest = rec.determinations.at(-1)!;
  const det = JSON.parse(latest.determinationJson) as Determination;
  return {
    requestId: rec.id,
    status: rec.status,
    lines: det.lines,
    needed: det.needed,
    engineOutcome: latest.outcome,
    ...(rec.decision && { decision: rec.decision }),
    ...(rec.decidedAt && { decidedAt: rec.decidedAt }),
    receivedAt: rec.receivedAt,
    dueAt: rec.dueAt,
  };
}

function reviewAction(code: ReviewCode, number?: string): Extension {
  return {
    url: PAS_EXT.reviewAction,
    extension: [
      ...(number ? [{ url: "number", valueString: number }] : []),
      {
        url: PAS_EXT.reviewActionCode,
        valueCodeableConcept: { coding: [{ system: X12_306, code, display: REVIEW_DISPLAY[code] }] },
      },
    ],
  };
}

function criterionCoding(line: Line | undefined, criterion: string, text: string): Coding {
  const p = line?.policy;
  return {
    ...(p && { system: `${CRITERION_SYSTEM}${p.id}`, version: p.version }),
    code: criterion,
    display: text,
  };
}

/**
 * The PAS response Bundle (PAS 2.2.1 `profile-pas-response-bundle`): a ClaimResponse with one item per
 * Claim item, then the resources it refers to. `kind` picks the ClaimResponse profile (`$submit` or
 * `$inquire`).
 */
export function claimResponseBundle(
  ctx: ClaimContext,
  st: ResponseState,
  now: string,
  kind: "submit" | "inquire" = "submit",
): Bundle {
  const notes: { number: number; type: "display"; text: string }[] = [];
  const note = (text: string) => {
    const found = notes.find((n) => n.text === text);
    if (found) return found.number;
    notes.push({ number: notes.length + 1, type: "display", text });
    return notes.length;
  };
  const lineOf = (code?: BillingCode) => (code ? st.lines.find((l) => l.code === code.code) : undefined);
  const decided = st.status === "decided" && st.decision !== undefined;
  const certified = st.status === "approved" || (decided && st.decision!.outcome === "approved");
  const authNumber = st.requestId;
  const issued = (st.decidedAt ?? now).slice(0, 10);

  let start: string | undefined;
  const items: ClaimResponseItem[] = [];
  const codes: ReviewCode[] = [];
  if (st.status !== "error") {
    for (const it of ctx.items) {
      const line = lineOf(it.code);
      const extension: Extension[] = [];
      if (it.requestedPeriod?.start || it.requestedPeriod?.end) {
        extension.push({ url: PAS_EXT.requestedServiceDate, valuePeriod: it.requestedPeriod });
      }
      for (const t of it.traceNumbers ?? [])
        extension.push({ url: PAS_EXT.itemTraceNumber, valueIdentifier: t });
      const noteNumber: number[] = [];
      const reason: { coding: Coding[]; text: string }[] = [];
      let code: ReviewCode;
      if (!it.code) {
        code = "NA";
        noteNumber.push(
          note(
            `Item ${it.sequence}: ${it.productOrService ?? "the service"} is not a CPT or HCPCS code; no policy in this library governs it, so no prior authorization decision was made.`,
          ),
        );
      } else if (!line || line.outcome === "not-applicable") {
        code = "NA";
        noteNumber.push(
          note(
            line?.policy
              ? `Item ${it.sequence} (${it.code.code}): ${line.basis}; no prior authorization is required under ${line.policy.id}.`
              : `Item ${it.sequence} (${it.code.code}): no policy in this library governs ${it.code.code}; no prior authorization decision was made.`,
          ),
        );
      } else if (certified) {
        code = "A1";
        start = start && start < it.dateOfService ? start : it.dateOfService;
        extension.push(
          { url: PAS_EXT.preAuthIssueDate, valueDate: issued },
          {
            url: PAS_EXT.preAuthPeriod,
            valuePeriod: { start: it.dateOfService, end: addDays(it.dateOfService, AUTH_VALIDITY_DAYS - 1) },
          },
        );
        noteNumber.push(
          note(
            st.decision?.automatic === false
              ? `Certified by ${st.decision.signedBy.name} (${st.decision.signedBy.role}): ${st.decision.reason}`
              : `Certified: ${st.decision?.reason ?? "every criterion of the governing policy is met."}`,
          ),
        );
      } else if (decided) {
        // A signed adverse decision (SPEC 2.4): A3 with the specific cited criteria.
        code = "A3";
        const d = st.decision!;
        noteNumber.push(
          note(
            `Not certified (${d.outcome === "not-covered" ? "not covered" : "not medically necessary"}): ${d.reason}`,
          ),
        );
        for (const c of d.criteria) {
          noteNumber.push(note(`Criterion ${c.criterion}${c.status ? ` (${c.status})` : ""}: ${c.text}`));
          reason.push({
            coding: [criterionCoding(line, c.criterion, c.text)],
            text: `${c.criterion}: ${c.text}`,
          });
        }
      } else {
        // Pended: open questions, or a recommendation awaiting a reviewer's signature (SPEC 2.4).
        code = "A4";
        noteNumber.push(
          note(
            `Pended for clinical review${st.dueAt ? `; a decision is due by ${st.dueAt}` : ""}. You will be notified (Subscription) when it is decided.`,
          ),
        );
        if (st.engineOutcome === "pended" && line.outcome === "pended") {
          for (const n of line.needed.slice(0, 25)) {
            noteNumber.push(note(`Documentation needed — ${n.criterion}: ${n.text}`));
          }
        }
      }
      codes.push(code);
      const submitted = {
        coding: [{ system: "http://terminology.hl7.org/CodeSystem/adjudication", code: "submitted" }],
      };
      items.push({
        ...(extension.length > 0 && { extension }),
        itemSequence: it.sequence,
        ...(noteNumber.length > 0 && { noteNumber: [...new Set(noteNumber)] }),
        adjudication: [
          {
            // PAS 2.2.1: the review action sits on the adjudication (see the 2.2.1 ClaimResponse examples).
            extension: [reviewAction(code, code === "A1" ? authNumber : undefined)],
            category: submitted,
            ...(reason[0] && { reason: reason[0] }),
          },
          ...reason.slice(1).map((r) => ({ category: submitted, reason: r })),
        ],
      });
    }
  }
  for (const n of ctx.notes) note(n);
  if (st.problem) note(st.problem.text);

  const id = st.requestId ?? randomUUID();
  const allNa = codes.length > 0 && codes.every((c) => c === "NA");
  const disposition =
    st.status === "error"
      ? "The request could not be processed as sent."
      : certified
        ? "Certified."
        : decided
          ? "Not certified."
          : allNa || st.status === "unstored" || st.status === "not-applicable"
            ? "No prior authorization decision is required under this library's policies for the requested services."
            : "Pended for clinical review.";
  const cr: ClaimResponse = {
    resourceType: "ClaimResponse",
    id,
    meta: {
      profile: [
        kind === "inquire"
          ? "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-claiminquiryresponse"
          : "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-claimresponse",
      ],
    },
    ...(decided &&
      !st.decision!.automatic && {
        extension: [
          { url: PAS_EXT.reviewer, extension: [{ url: "wasHumanReviewedFlag", valueBoolean: true }] },
        ],
      }),
    identifier: [
      ...ctx.identifiers,
      ...(st.requestId ? [{ system: REQUEST_ID_SYSTEM, value: st.requestId }] : []),
    ],
    status: "active",
    type: ctx.type ?? {
      coding: [{ system: "http://terminology.hl7.org/CodeSystem/claim-type", code: "professional" }],
    },
    use: "preauthorization",
    patient: ctx.patient,
    created: now,
    insurer: ctx.insurer ?? { display: "medpolicy" },
    ...(ctx.provider && { requestor: ctx.provider }),
    request: ctx.claimId
      ? { reference: `Claim/${ctx.claimId}` }
      : { ...(ctx.identifiers[0] && { identifier: ctx.identifiers[0] }) },
    outcome: st.status === "error" ? "error" : "complete",
    disposition,
    ...(certified && authNumber && { preAuthRef: authNumber }),
    ...(certified && start && { preAuthPeriod: { start, end: addDays(start, AUTH_VALIDITY_DAYS - 1) } }),
    ...(items.length > 0 && { item: items }),
    ...(notes.length > 0 && { processNote: notes }),
    ...(st.problem && {
      error: [
        {
          extension: [{ url: PAS_EXT.errorElement, valueString: st.problem.expression }],
          code: { coding: [{ system: X12_901, code: st.problem.code }], text: st.problem.text },
        },
      ],
    }),
  };
  const entry: BundleEntry[] = [
    { fullUrl: `${ctx.baseUrl}/fhir/ClaimResponse/${id}`, resource: cr },
    ...ctx.included.map((x) => ({ ...(x.fullUrl && { fullUrl: x.fullUrl }), resource: x.resource })),
  ];
  return {
    resourceType: "Bundle",
    id: randomUUID(),
    meta: { profile: ["http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-pas-response-bundle"] },
    ...(ctx.bundleIdentifier && { identifier: ctx.bundleIdentifier }),
    type: "collection",
    timestamp: now,
    entry,
  };
}

/** Identifiers (`system|value`) of the Claim in an inquiry. */
export function inquiryIdentifiers(claim: Claim): string[] {
  return (claim.identifier ?? [])
    .filter((i) => isObject(i) && typeof i.value === "string")
    .map(identifierKey);
}
