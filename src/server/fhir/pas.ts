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
 *
 * Issue 14, the clinical picture of a UM file, where the Bundle carries it (none of it changes the
 * determination): the member's name, id (the focal Coverage's member number or `subscriberId`) and
 * postal address; the ICD-10-CM diagnoses of `Claim.diagnosis` (principal first, then by sequence);
 * the requesting provider (`Claim.provider`) and the servicing one (`Claim.careTeam`, else the
 * requested service's performer) by NPI; and the documents of `Claim.supportingInfo` (inline
 * attachments, DocumentReference contents, Binary), stored with the request. An open information
 * request answers pended (A4) with the reviewer's message and questions.
 */
import { Buffer } from "node:buffer";
import { createHash, randomUUID } from "node:crypto";
import type {
  Bundle,
  BundleEntry,
  Claim,
  ClaimItem,
  ClaimResponse,
  ClaimResponseItem,
  CodeableConcept,
  Coding,
  Condition,
  Coverage,
  Extension,
  Identifier,
  MedicationRequest,
  Patient,
  QuestionnaireResponse,
  Reference,
  Resource,
} from "@medplum/fhirtypes";
import { answersFromResponse, parseQuestionnaireRef } from "../../explain/questionnaire.js";
import type { Library, LibraryEntry } from "../../library/index.js";
import {
  type CaseInput,
  canonicalJson,
  type Determination,
  type Diagnosis,
  type Facts,
  factsSchema,
  httpStatusOf,
  InputError,
  isNpi,
  type Line,
  MedpolicyError,
  type Needed,
  type Provider,
} from "../../model/index.js";
import type { Decision, RequestRecord } from "../../store/index.js";
import type { Principal } from "../auth.js";
import { PAS_KEY_PREFIX } from "../channel.js";
import { ATTACHMENT_TYPES } from "../schemas.js";
import { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS } from "../service.js";
import {
  addDays,
  type BillingCode,
  billingCodes,
  displayText,
  type InvalidNpi,
  icd10Of,
  invalid,
  isObject,
  isoDate,
  isResource,
  MEDPOLICY_FHIR,
  memberFromPatient,
  NPI_SYSTEMS,
  providerOf,
  ResourceIndex,
  typeIdOf,
  uniqueDiagnoses,
} from "./common.js";
import { adaptiveSource, FACTS_EXTENSION } from "./dtr.js";
import { factsFromResponse } from "./dtr-population.js";
import {
  codeableConcept,
  echoIdentifier,
  echoPeriod,
  echoSystemValue,
  minimalParty,
  reference,
} from "./echo.js";
import { validateResource } from "./validate.js";

const PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition";
export const PAS_EXT = {
  reviewAction: `${PAS}/extension-reviewAction`,
  reviewActionCode: `${PAS}/extension-reviewActionCode`,
  preAuthPeriod: `${PAS}/extension-itemPreAuthPeriod`,
  preAuthIssueDate: `${PAS}/extension-itemPreAuthIssueDate`,
  /** X12 REF*NT: the UMO's number for an item's pended or not-certified review outcome. */
  administrationReferenceNumber: `${PAS}/extension-administrationReferenceNumber`,
  requestedServiceDate: `${PAS}/extension-itemRequestedServiceDate`,
  itemTraceNumber: `${PAS}/extension-itemTraceNumber`,
  requestedService: `${PAS}/extension-requestedService`,
  levelOfService: `${PAS}/extension-levelOfServiceCode`,
  reviewer: `${PAS}/extension-claimResponseReviewer`,
  /** The FHIRPath of the element an error is about (a string in PAS 2.0.1 and 2.2.1; errorElement is X12's). */
  errorPath: `${PAS}/extension-errorPath`,
  certificationType: `${PAS}/extension-certificationType`,
  infoCancelled: `${PAS}/modifierextension-infoCancelled`,
} as const;
export const X12_306 = "https://codesystem.x12.org/005010/306";
const X12_901 = "https://codesystem.x12.org/005010/901";
/** X12 1322 certification type (UM02; PAS `extension-certificationType`): `3` cancel. */
const X12_1322 = "https://codesystem.x12.org/005010/1322";
/**
 * X12 external code list 886, Health Care Services Review Decision Reason (HCR03): the required
 * binding of the PAS `extension-reviewAction` `reasonCode` (ValueSet X12278ReviewDecisionReasonCode).
 */
export const X12_886 = "https://codesystem.x12.org/external/886";
/** The 886 codes this service answers with (CMS-0057-F: a denial carries its specific reason). */
export const DECISION_REASON = {
  notMedicallyNecessary: { code: "0F", display: "Not Medically Necessary" },
  nonCovered: { code: "0M", display: "Non-covered Service" },
  additionalInformation: { code: "0U", display: "Additional Patient Information required" },
  medicalReview: { code: "0V", display: "Requires Medical Review" },
} as const;
/** Namespace of the request ids this service assigns (ClaimResponse.identifier, preAuthRef). */
export const REQUEST_ID_SYSTEM = `${MEDPOLICY_FHIR}/NamingSystem/request`;
/** Code system of a policy's criteria: `…/CodeSystem/<policy id>`, version = policy version. */
export const CRITERION_SYSTEM = `${MEDPOLICY_FHIR}/CodeSystem/`;
/** How long a certification is valid from the date of service (payer configuration; 180 days). */
export const AUTH_VALIDITY_DAYS = 180;

/** X12 306 (HCR01) action codes this service answers with; `C` cancelled (PAS 2.2.1 / issue 16). */
export type ReviewCode = "A1" | "A3" | "A4" | "C" | "NA";
const REVIEW_DISPLAY: Record<ReviewCode, string> = {
  A1: "Certified in total",
  A3: "Not Certified",
  A4: "Pended",
  C: "Cancelled",
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
  /**
   * Issue 16: the submitter cancelled the item (PAS `modifierextension-infoCancelled`, or an X12 1322
   * certification type `3` on the item or the Claim): not adjudicated, answered `C` cancelled.
   */
  cancelled?: true;
}

/** What a ClaimResponse is built from, stored beside the request (`state.ts`). */
export interface ClaimContext {
  claimId?: string;
  /** The Claim entry's fullUrl when absolute (the ClaimResponse's `request` points there). */
  claimUrl?: string;
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
  /**
   * Issue 14: the documents of `Claim.supportingInfo` to store with the request (inline data only,
   * checked: accepted content type, at most {@link ATTACHMENT_MAX_BYTES} each and
   * {@link ATTACHMENT_MAX_COUNT} in all). Documents given by URL only are not fetched (SSRF); they
   * are listed in `unfetched` and in the response's notes.
   */
  attachments: PasAttachment[];
  unfetched: { title: string }[];
}

const identifierKey = (i: Identifier) => `${i.system ?? ""}|${i.value ?? ""}`;

/** The Claim and the bundle of a `$submit`/`$inquire` body (a Bundle, or Parameters wrapping one). */
export function claimBundleOf(body: unknown): {
  bundle: Bundle;
  claim: Claim;
  index: ResourceIndex;
  /** FHIRPath of the Bundle from the body's root (`Bundle`, or the Parameters parameter holding it). */
  root: string;
} {
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
  return { bundle, claim, index, root };
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

/** Whether an X12 1322 certification type extension among `ext` says `3` (cancel). */
function certifiesCancel(ext: unknown): boolean {
  if (!Array.isArray(ext)) return false;
  return ext
    .slice(0, 50)
    .some(
      (e) =>
        isObject(e) &&
        e.url === PAS_EXT.certificationType &&
        isObject(e.valueCodeableConcept) &&
        Array.isArray(e.valueCodeableConcept.coding) &&
        e.valueCodeableConcept.coding.some(
          (c) => isObject(c) && c.code === "3" && (c.system === undefined || c.system === X12_1322),
        ),
    );
}

/**
 * Issue 16, PAS 2.2.1 (Claim Update, "cancelled" items): an item is cancelled by the
 * `modifierextension-infoCancelled` flag (true), or by an X12 1322 certification type `3` (Cancel,
 * UM02) on the item or on the whole Claim. Cancelled items are not adjudicated.
 */
export function itemCancelled(item: ClaimItem, claim: Claim): boolean {
  return infoCancelled(item) || certifiesCancel(item.extension) || certifiesCancel(claim.extension);
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

/**
 * PAS 2.2.1 (Claim Update): whether an item or a `supportingInfo` entry carries the
 * `modifierextension-infoCancelled` flag (true). A flagged entry is no longer to be used when
 * evaluating the request — neither its document nor the resource it references.
 */
export function infoCancelled(si: unknown): boolean {
  const mods = isObject(si) ? si.modifierExtension : undefined;
  return (
    Array.isArray(mods) &&
    mods.slice(0, 50).some((e) => isObject(e) && e.url === PAS_EXT.infoCancelled && e.valueBoolean === true)
  );
}

/** A CodeableConcept with a coded value or a text. */
function saysSomething(cc: unknown): cc is CodeableConcept {
  if (!isObject(cc)) return false;
  if (typeof cc.text === "string" && cc.text.trim() !== "") return true;
  return (
    Array.isArray(cc.coding) &&
    cc.coding.some((c) => isObject(c) && typeof c.code === "string" && c.code !== "")
  );
}

/**
 * The problem with deciding one case for items governed by several versions when an answer given for
 * one version names a criterion id another of them also asks, or undefined (one version, or no id
 * shared). The requester is told which ids and asked to submit each policy's items apart.
 */
function answerClash(
  answeredBy: ReadonlyMap<string, readonly string[]>,
  governing: ReadonlyMap<string, LibraryEntry>,
): PasProblem | undefined {
  if (governing.size < 2) return undefined;
  for (const [which, ids] of answeredBy) {
    for (const [other, entry] of governing) {
      if (other === which) continue;
      const table = entry.compiled().answerEntries;
      const shared = ids.filter((id) => table[id] !== undefined);
      if (shared.length > 0) {
        return {
          code: "33",
          text: `The claim's items are governed by ${[...governing.keys()].join(" and ")}, and the answers for ${which} name criteria ${other} asks too (${shared.slice(0, 5).join(", ")}${shared.length > 5 ? ", …" : ""}): one request carries one set of answers. Submit the items of each policy as separate requests.`,
          expression: "Claim.supportingInfo",
        };
      }
    }
  }
  return undefined;
}

/**
 * Why a QuestionnaireResponse cannot document this claim, or undefined when it can: its status says it
 * must not be relied on (R4: `status` is a modifier; `entered-in-error`, `stopped`), or it is about
 * another patient than the claim's (its `subject` resolves to another entry, or names another id),
 * or names no subject at all (DTR 2.0.1: `subject` 1..1).
 * Such a response is left out with a note: its answers must never certify this member's request.
 */
function unusableResponse(
  qr: QuestionnaireResponse,
  claim: Claim,
  patient: Patient,
  index: ResourceIndex,
): string | undefined {
  const status = (qr as { status?: unknown }).status;
  if (status !== undefined && status !== "completed" && status !== "amended" && status !== "in-progress")
    return `has status ${JSON.stringify(status).slice(0, 40)} (only completed, amended or in-progress answers document a request)`;
  const subject = qr.subject?.reference;
  // DTR 2.0.1 requires the subject (1..1): answers about nobody in particular cannot certify this member.
  if (typeof subject !== "string" || subject === "")
    return "names no subject (DTR: QuestionnaireResponse.subject is required), so it cannot be matched to Claim.patient";
  const resolved = index.resolve(subject);
  if (resolved) {
    return resolved === patient ? undefined : "is about another subject than Claim.patient";
  }
  // Not in the Bundle (the EHR's own reference): its type and id must be the claim's patient's.
  const tail = typeIdOf(subject);
  const own = patient.id ? `Patient/${patient.id}` : typeIdOf(claim.patient?.reference ?? "");
  // A subject outside the Bundle is the claim's patient only when its type and id say so.
  if (!tail || !own) return "names a subject that cannot be matched to Claim.patient";
  return tail !== own ? `is about ${tail.slice(0, 80)}, not the claim's patient` : undefined;
}

function questionnaireResponses(claim: Claim, index: ResourceIndex): QuestionnaireResponse[] {
  const infos = Array.isArray(claim.supportingInfo) ? claim.supportingInfo : [];
  const cancelled = new Set(
    infos
      .filter(infoCancelled)
      .map((s) => index.resolve<QuestionnaireResponse>(s?.valueReference, "QuestionnaireResponse")),
  );
  const out = index.ofType<QuestionnaireResponse>("QuestionnaireResponse").filter((qr) => !cancelled.has(qr));
  for (const s of infos) {
    if (infoCancelled(s)) continue;
    const qr = index.resolve<QuestionnaireResponse>(s?.valueReference, "QuestionnaireResponse");
    if (qr && !out.includes(qr)) out.push(qr);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The clinical picture (issue 14)
// ---------------------------------------------------------------------------------------------

/** FHIRPath of a Bundle entry's resource (for an OperationOutcome), or `fallback` when not an entry. */
function entryPath(bundle: Bundle, root: string, r: Resource, fallback: string): string {
  const i = (bundle.entry ?? []).findIndex((e) => e?.resource === r);
  return i < 0 ? fallback : `${root}.entry[${i}].resource`;
}

/** X12 278 diagnosis type codes (and HL7 `ex-diagnosistype`) of the principal diagnosis. */
const PRINCIPAL = new Set(["ABK", "BK", "principal"]);
const seqOf = (x: unknown) =>
  typeof x === "number" && Number.isInteger(x) && x > 0 ? x : Number.MAX_SAFE_INTEGER;

/**
 * `Claim.diagnosis` as the case holds it (issue 14): ICD-10-CM codes (the CodeableConcept, or the
 * referenced Condition's code), the principal diagnosis first, then by `sequence`. A diagnosis that
 * claims ICD-10-CM but is not a well-formed code is left out, with a note (it does not change the
 * determination, so it does not refuse the request).
 */
export function claimDiagnoses(claim: Claim, index: ResourceIndex, notes: string[]): Diagnosis[] {
  const list: unknown[] = Array.isArray(claim.diagnosis) ? claim.diagnosis.slice(0, 100) : [];
  const ranked = list
    .map((d, i) => ({ d, i }))
    .filter((x): x is { d: Record<string, unknown>; i: number } => isObject(x.d))
    .map(({ d, i }) => {
      const types = Array.isArray(d.type) ? d.type : [];
      const principal = types.some(
        (t) =>
          isObject(t) &&
          Array.isArray(t.coding) &&
          t.coding.some((c) => isObject(c) && typeof c.code === "string" && PRINCIPAL.has(c.code)),
      );
      return { d, i, principal, seq: seqOf(d.sequence) };
    })
    .sort((a, b) => Number(b.principal) - Number(a.principal) || a.seq - b.seq || a.i - b.i);
  const out: (Diagnosis | undefined)[] = [];
  for (const { d, i } of ranked) {
    const cc = isObject(d.diagnosisCodeableConcept)
      ? d.diagnosisCodeableConcept
      : isObject(d.diagnosisReference)
        ? index.resolve<Condition>(d.diagnosisReference as Reference, "Condition")?.code
        : undefined;
    const { diagnosis, invalid: bad } = icd10Of(cc);
    if (bad) notes.push(`Claim.diagnosis[${i}] is not a well-formed ICD-10-CM code: not recorded.`);
    out.push(diagnosis);
  }
  return uniqueDiagnoses(out);
}

/** X12 98 entity codes of a care team member who refers, orders or is the PCP: not the servicing one. */
const NOT_SERVICING = new Set(["DN", "DK", "P3"]);

/**
 * The servicing provider (issue 14): in PAS the care team (`Claim.careTeam[].provider`) — a member
 * whose role is X12 98 `SJ` (service provider) first, then one an item names by `careTeamSequence`,
 * then the others, never a referring/ordering/primary-care member — else the performer of an item's
 * requested service. Only a valid NPI makes a provider: a failing one is left out with a note (the
 * public PAS 2.0.1 examples carry a 9-digit NPI there; the servicing provider is not what the
 * submitter identifies itself by, and it does not change the determination).
 */
export function servicingProvider(
  claim: Claim,
  index: ResourceIndex,
  today: string,
  notes: string[],
): Provider | undefined {
  const team: unknown[] = Array.isArray(claim.careTeam) ? claim.careTeam.slice(0, 50) : [];
  const named = new Set<number>();
  for (const it of claim.item ?? []) {
    const seqs: unknown = isObject(it) ? (it as { careTeamSequence?: unknown }).careTeamSequence : undefined;
    if (Array.isArray(seqs)) for (const n of seqs.slice(0, 50)) if (typeof n === "number") named.add(n);
  }
  const roleCodes = (m: Record<string, unknown>): string[] =>
    isObject(m.role) && Array.isArray(m.role.coding)
      ? m.role.coding.flatMap((c) => (isObject(c) && typeof c.code === "string" ? [c.code] : []))
      : [];
  const candidates: { ref: unknown; where: string; rank: number; i: number }[] = [];
  team.forEach((m, i) => {
    if (!isObject(m) || !isObject(m.provider)) return;
    const roles = roleCodes(m);
    if (roles.some((r) => NOT_SERVICING.has(r))) return;
    const rank = roles.includes("SJ") ? 0 : named.has(seqOf(m.sequence)) ? 1 : 2;
    candidates.push({ ref: m.provider, where: `Claim.careTeam[${i}].provider`, rank, i });
  });
  candidates.sort((a, b) => a.rank - b.rank || a.i - b.i);
  // Else the requested service's performer (ServiceRequest, DeviceRequest, MedicationRequest).
  (claim.item ?? []).forEach((it, i) => {
    for (const e of (isObject(it) && Array.isArray(it.extension) ? it.extension : []).slice(0, 50)) {
      if (!isObject(e) || e.url !== PAS_EXT.requestedService || !isObject(e.valueReference)) continue;
      const req = index.resolve(e.valueReference);
      const perf = req ? (req as { performer?: unknown }).performer : undefined;
      const first = Array.isArray(perf) ? perf[0] : perf;
      if (isObject(first))
        candidates.push({ ref: first, where: `Claim.item[${i}] requested service performer`, rank: 3, i });
    }
  });
  let bad: string | undefined;
  for (const c of candidates) {
    const { provider, invalid: wrong } = providerOf(c.ref as Reference, index, today);
    if (provider) return provider;
    if (wrong) bad ??= c.where;
  }
  if (bad) notes.push(`${bad}: the NPI fails the NPI check digit; the servicing provider is not recorded.`);
  return undefined;
}

/** The largest document stored from a PAS Bundle (decoded), and how many one request keeps: the service's. */
export const ATTACHMENT_MAX_BYTES = MAX_ATTACHMENT_BYTES;
export const ATTACHMENT_MAX_COUNT = MAX_ATTACHMENTS;

/** A content type the service stores (issue 14; the JSON API's list, `ATTACHMENT_TYPES`). */
export type AttachmentType = (typeof ATTACHMENT_TYPES)[number];

/**
 * Whether documents of content type `t` are stored (issue 14): the service's own list. HTML (and
 * XML, images) is stored but never served inline: the attachment endpoint answers with
 * `content-disposition: attachment` and a sandboxing CSP.
 */
export function acceptedContentType(t: string): t is AttachmentType {
  return (ATTACHMENT_TYPES as readonly string[]).includes(t);
}

/** A media type's `type/subtype`, lower case, without parameters; undefined when not one. */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;
function mediaType(x: unknown): string | undefined {
  if (typeof x !== "string" || x.length > 255) return undefined;
  const semi = x.indexOf(";");
  const t = (semi < 0 ? x : x.slice(0, semi)).trim().toLowerCase();
  return MEDIA_TYPE.test(t) ? t : undefined;
}

/**
 * The number of bytes R4 `base64Binary` text decodes to, or undefined when it is not base64 (the
 * alphabet, `=` padding only at the end, white space ignored). One pass, no regex: the text is up
 * to the body limit long.
 */
export function base64Length(s: string): number | undefined {
  let n = 0;
  let pad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    if (c === 61) {
      pad++;
      n++;
      continue;
    }
    if (pad > 0) return undefined;
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!ok) return undefined;
    n++;
  }
  if (n % 4 !== 0 || pad > 2) return undefined;
  return (n / 4) * 3 - pad;
}

/** A document from a PAS Bundle to store with the request (issue 14). */
export interface PasAttachment {
  title: string;
  contentType: AttachmentType;
  data: Buffer;
}

/**
 * The documents of `Claim.supportingInfo` (issue 14): an inline `valueAttachment`, or a reference to
 * a DocumentReference (each `content.attachment`) or a Binary in the Bundle. Only inline data is
 * taken; a URL is never fetched (SSRF): such documents are listed by title. Refused (400, naming the
 * element) only when `data` is not base64 — broken FHIR the submitter must fix; a content type not
 * accepted, a document over {@link ATTACHMENT_MAX_BYTES} or beyond the {@link ATTACHMENT_MAX_COUNT}th
 * is left out with a note, and the request is still decided.
 */
export function claimAttachments(
  claim: Claim,
  bundle: Bundle,
  root: string,
  index: ResourceIndex,
  notes: string[],
): { attachments: PasAttachment[]; unfetched: { title: string }[] } {
  const attachments: PasAttachment[] = [];
  const unfetched: { title: string }[] = [];
  const seen = new Set<unknown>();
  const take = (a: unknown, where: string, fallbackTitle: string) => {
    if (!isObject(a) || seen.has(a)) return;
    seen.add(a);
    const title = displayText(a.title, 200) ?? fallbackTitle;
    if (typeof a.data !== "string") {
      if (typeof a.url === "string") {
        unfetched.push({ title });
        notes.push(
          `Document "${title}" (${where}) is referenced by URL only; it was not fetched. Send it inline (Attachment.data).`,
        );
      }
      return;
    }
    const size = base64Length(a.data);
    if (size === undefined) throw invalid(`${where}.data is not base64`, `${where}.data`);
    const type = mediaType(a.contentType);
    if (!type || !acceptedContentType(type)) {
      notes.push(
        `Document "${title}" (${where}) was not stored: its content type is not accepted (${ATTACHMENT_TYPES.join(", ")}).`,
      );
      return;
    }
    if (size > ATTACHMENT_MAX_BYTES) {
      notes.push(
        `Document "${title}" (${where}) was not stored: it is larger than ${ATTACHMENT_MAX_BYTES / 1024 / 1024} MB.`,
      );
      return;
    }
    if (attachments.length >= ATTACHMENT_MAX_COUNT) {
      notes.push(
        `Document "${title}" (${where}) was not stored: at most ${ATTACHMENT_MAX_COUNT} documents are kept per request.`,
      );
      return;
    }
    attachments.push({ title, contentType: type, data: Buffer.from(a.data, "base64") });
  };
  const infos: unknown[] = Array.isArray(claim.supportingInfo) ? claim.supportingInfo.slice(0, 100) : [];
  infos.forEach((si, k) => {
    if (!isObject(si) || infoCancelled(si)) return;
    // PAS `extension-documentInformation`: its `description` names the document.
    const info = (Array.isArray(si.extension) ? si.extension : []).find(
      (e) => isObject(e) && typeof e.url === "string" && e.url.endsWith("/extension-documentInformation"),
    ) as { extension?: unknown } | undefined;
    const described = (Array.isArray(info?.extension) ? info.extension : []).find(
      (e) => isObject(e) && e.url === "description",
    ) as { valueString?: unknown } | undefined;
    const fallback = displayText(described?.valueString, 200) ?? `Supporting document ${k + 1}`;
    if (isObject(si.valueAttachment)) {
      take(si.valueAttachment, `Claim.supportingInfo[${k}].valueAttachment`, fallback);
      return;
    }
    if (!isObject(si.valueReference)) return;
    const r = index.resolve(si.valueReference as Reference);
    if (!r || seen.has(r)) return;
    seen.add(r);
    const at = entryPath(bundle, root, r, `Claim.supportingInfo[${k}].valueReference`);
    const o = r as unknown as Record<string, unknown>;
    if (r.resourceType === "DocumentReference") {
      const type = isObject(o.type) ? o.type : undefined;
      const typeName =
        displayText(type?.text, 200) ??
        (Array.isArray(type?.coding)
          ? type.coding.map((c) => (isObject(c) ? displayText(c.display, 200) : undefined)).find((x) => x)
          : undefined);
      const title = displayText(o.description, 200) ?? typeName ?? fallback;
      (Array.isArray(o.content) ? o.content.slice(0, 50) : []).forEach((c, j) => {
        if (isObject(c)) take(c.attachment, `${at}.content[${j}].attachment`, title);
      });
    } else if (r.resourceType === "Binary") {
      take({ contentType: o.contentType, data: o.data }, at, fallback);
    }
  });
  return { attachments, unfetched };
}

/** What {@link storePasAttachments} needs of the service (issue 14: `RequestService.addAttachment`). */
export interface AttachmentSink {
  addAttachment(
    requestId: string,
    a: { title: string; contentType: AttachmentType; data: Uint8Array; source: "pas" },
    who: Principal,
  ): Promise<unknown>;
}

/**
 * Stores a submission's documents with its request (issue 14), after the request is stored. Each
 * document is stored once: one already on the record (same sha256) is skipped, so a retransmission
 * — which also completes a submission interrupted between the request and its documents — adds only
 * what is missing; no more than {@link ATTACHMENT_MAX_COUNT} in all. A document the service refuses
 * (4xx) is noted in `notes` rather than failing a submission whose request is already stored.
 * Returns how many were stored.
 */
export async function storePasAttachments(
  service: AttachmentSink,
  record: { id: string; attachments?: readonly { sha256?: string }[] },
  list: readonly PasAttachment[],
  who: Principal,
  notes: string[] = [],
): Promise<number> {
  const have = new Set((record.attachments ?? []).map((a) => a.sha256));
  let room = ATTACHMENT_MAX_COUNT - (record.attachments ?? []).length;
  let stored = 0;
  for (const a of list) {
    const sha = createHash("sha256").update(a.data).digest("hex");
    if (have.has(sha)) continue;
    if (room <= 0) {
      notes.push(
        `Document "${a.title}" was not stored: the request already holds ${ATTACHMENT_MAX_COUNT} documents.`,
      );
      continue;
    }
    try {
      await service.addAttachment(record.id, { ...a, source: "pas" }, who);
    } catch (err) {
      if (err instanceof MedpolicyError && httpStatusOf(err) < 500) {
        notes.push(`Document "${a.title}" was not stored: ${err.message}`);
        continue;
      }
      throw err;
    }
    have.add(sha);
    room--;
    stored++;
  }
  return stored;
}

/**
 * A request resource as the response Bundle echoes it (issue 16: every answer valid against the IG).
 * An identifier in an NPI system whose value is not an NPI (ten digits with the check digit: US Core
 * us-core-16/17, which the PAS Organization and Practitioner profiles inherit) is left out of the
 * copy, with a note, when the resource keeps another identifier or needs none (Organization) — so a
 * request whose insurer carries a malformed "NPI" (the PAS test kit's) is answered with a valid
 * Bundle. The request itself is not changed; the requesting provider's NPI is checked, and refused,
 * before this (issue 14).
 */
function echoable(given: Resource, notes: string[]): Resource {
  // The parties are copied as the minimum that identifies them (echo.ts). Of any other type, the
  // client's narrative is not echoed: the response does not need it, and one without its `div`
  // (R4 1..1) would make the answer invalid (found by the fuzz suite's IG check, issue 16).
  const party = minimalParty(given);
  const { text: _text, ...rest } = party as Resource & { text?: unknown };
  const r = (_text === undefined ? party : rest) as Resource;
  const ids: unknown = (r as { identifier?: unknown }).identifier;
  if (!Array.isArray(ids)) return r;
  const bad = (id: unknown) =>
    isObject(id) &&
    typeof id.system === "string" &&
    NPI_SYSTEMS.has(id.system) &&
    !(typeof id.value === "string" && isNpi(id.value));
  const kept = ids.filter((id) => !bad(id));
  if (kept.length === ids.length || (kept.length === 0 && r.resourceType !== "Organization")) return r;
  notes.push(
    `${r.resourceType}${typeof r.id === "string" ? `/${r.id.slice(0, 64)}` : ""}: an identifier in the NPI system that is not a valid NPI (10 digits with its check digit) is not echoed.`,
  );
  const copy = { ...r, identifier: kept } as Resource & { identifier?: unknown[] };
  // FHIR JSON has no empty arrays.
  if (kept.length === 0) delete copy.identifier;
  return copy;
}

/** The 400 for a requesting provider's NPI that fails the check digit (issue 14), naming the element. */
function invalidNpi(bad: InvalidNpi, bundle: Bundle, root: string): Error {
  const at = `${entryPath(bundle, root, bad.resource, "Claim.provider")}.${bad.path}`;
  return invalid(
    `Claim.provider: the requesting provider's NPI (http://hl7.org/fhir/sid/us-npi) at ${at} fails the NPI check digit (CMS, 45 CFR 162.406); correct it and resubmit`,
    at,
  );
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
  const { bundle, claim, index, root } = claimBundleOf(body);
  const patient = index.resolve<Patient>(claim.patient, "Patient");
  // PAS request Bundles are self-contained: the beneficiary is in it (issue 13: an unresolvable or
  // hostile reference is refused here, not decided as "state unknown").
  if (!patient) {
    throw invalid(
      "Claim.patient does not resolve to a Patient entry of the Bundle (a PAS request carries the beneficiary)",
      "Claim.patient",
    );
  }
  // Issue 16: PAS profile-claim has Claim.item 1..*: a request for nothing is refused, never answered
  // "no prior authorization required".
  if (!Array.isArray(claim.item) || claim.item.length === 0) {
    throw invalid(
      "Claim.item is required: a PAS prior authorization request names at least one requested service (PAS profile-claim, Claim.item 1..*)",
      `${entryPath(bundle, root, claim, "Claim")}.item`,
    );
  }
  const items: PasItem[] = claim.item.map((it, i) => {
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
      ...(itemCancelled(it, claim) && { cancelled: true as const }),
    };
  });

  const included: ClaimContext["included"] = [];
  const copied = new Set<Resource>();
  const echoNotes: string[] = [];
  const include = (ref: Reference | undefined) => {
    const r = index.resolve(ref);
    if (!r || copied.has(r)) return;
    copied.add(r);
    const entry = (bundle.entry ?? []).find((e) => e?.resource === r);
    included.push({ ...(entry?.fullUrl && { fullUrl: entry.fullUrl }), resource: echoable(r, echoNotes) });
  };
  // The ClaimResponse refers to the insurer and the requestor: they too must be in the Bundle, or the
  // answer would carry references that resolve nowhere (PAS response bundles are self-contained).
  // PAS requires both (1..1, a reference to an entry): an empty or identifier-only one would be
  // echoed into the ClaimResponse, whose `insurer` is then not a Reference the IG accepts (issue 16).
  for (const k of ["insurer", "provider"] as const) {
    const r = typeof claim[k]?.reference === "string" ? index.resolve(claim[k]) : undefined;
    if (!r) {
      throw invalid(`Claim.${k} must reference an entry of the Bundle (PAS: 1..1)`, `Claim.${k}`);
    }
    // PAS profile-insurer and profile-requestor fix Organization.active to true: an inactive one would
    // be stored and echoed into every answer about the request (the fuzz suite's IG check found it).
    if (r.resourceType === "Organization" && (r as { active?: unknown }).active === false) {
      throw invalid(
        `Claim.${k}: the ${k === "insurer" ? "insurer" : "requesting"} Organization is marked inactive (active: false); PAS requires an active one`,
        `${entryPath(bundle, root, r, `Claim.${k}`)}.active`,
      );
    }
  }
  include(claim.patient);
  include(claim.insurer);
  include(claim.provider);
  const provider = index.resolve(claim.provider) as { identifier?: Identifier[] } | undefined;

  const context: ClaimContext = {
    ...(claim.id && { claimId: claim.id }),
    ...(typeof bundle.entry?.[0]?.fullUrl === "string" &&
      /^https?:\/\/\S{1,2000}$/.test(bundle.entry[0].fullUrl) && { claimUrl: bundle.entry[0].fullUrl }),
    identifiers: (claim.identifier ?? [])
      .filter((i) => isObject(i) && typeof i.value === "string")
      .map(echoIdentifier),
    // Only a type that says something: an empty one echoed into the ClaimResponse (type 1..1) would
    // read as missing (the fuzz suite's IG check, issue 16); absent, the response says professional.
    ...(saysSomething(claim.type) && { type: claim.type }),
    patient: { reference: claim.patient.reference! },
    ...(claim.insurer && { insurer: claim.insurer }),
    ...(claim.provider && { provider: claim.provider }),
    ...(bundle.identifier && { bundleIdentifier: bundle.identifier }),
    items,
    included,
    providerIdentifiers: (provider?.identifier ?? []).map((i) => i?.value).filter((v): v is string => !!v),
    baseUrl: o.baseUrl,
    notes: echoNotes,
  };

  // Issue 14: the requesting provider is who the submitter says it is: an NPI given as such that
  // fails the check digit is wrong data the submitter must fix (an X12 278 with it is rejected too).
  const requesting = providerOf(claim.provider, index, o.today);
  if (requesting.invalid) throw invalidNpi(requesting.invalid, bundle, root);

  // Cancelled items are not adjudicated (issue 16): they neither make the case nor need a policy.
  const live = items.filter((i) => !i.cancelled);
  const governed = live.filter((i) => i.code && lib.policiesForCode(i.code.code).length > 0);
  const codes = [...new Set(live.flatMap((i) => (i.code ? [i.code.code] : [])))].slice(0, 50);
  const focal = (claim.insurance ?? []).find((x) => isObject(x) && x.focal === true) ?? claim.insurance?.[0];
  const coverage = isObject(focal) ? index.resolve<Coverage>(focal.coverage, "Coverage") : undefined;
  const member = memberFromPatient(patient, o.today, coverage);
  // Documents are read (and a malformed one refused) before anything is stored (issue 13).
  const { attachments, unfetched } = claimAttachments(claim, bundle, root, index, context.notes);
  const keyOf = (c: unknown) =>
    `${PAS_KEY_PREFIX}${createHash("sha256")
      .update(canonicalJson({ identifiers: context.identifiers.map(identifierKey), items, case: c }))
      .digest("hex")
      .slice(0, 40)}`;
  if (governed.length === 0) return { context, key: keyOf(null), attachments: [], unfetched: [] };
  /** A request that cannot be decided as sent: answered with an error, nothing stored. */
  const refused = (problem: PasProblem): ParsedPas => ({
    context,
    key: keyOf(null),
    attachments: [],
    unfetched: [],
    problem,
  });

  const dateOfService = governed[0]!.dateOfService;
  if (!member.state) {
    return refused({
      code: "15",
      text: `The member's state of residence (Patient.address.state) is required: it decides which state variant of the policy governing ${governed
        .map((g) => g.code!.code)
        .join(", ")} applies.`,
      expression: "Patient.address.state",
    });
  }

  // One case is decided on one date of service (SPEC 2.1): items dated apart are decided together only
  // where their own dates choose the same versions; otherwise an item would be decided by a version
  // not in force on its date (a QA pass found 2026 items decided by a superseded 2024 version).
  const governing = new Map<string, LibraryEntry>();
  for (const g of governed) {
    for (const base of lib.policiesForCode(g.code!.code)) {
      const e = lib.resolve(base, member.state, dateOfService);
      const own = g.dateOfService === dateOfService ? e : lib.resolve(base, member.state, g.dateOfService);
      if (own !== e) {
        const name = (x: LibraryEntry | undefined) =>
          x ? `${x.policy.identity.id}@${x.policy.identity.version}` : "no version";
        return refused({
          code: "57",
          text: `Item ${g.sequence} (${g.code!.code}) is dated ${g.dateOfService}, when ${name(own)} governs it, and the claim's first governed item ${dateOfService}, when ${name(e)} does: one request is decided on one date of service. Submit the items of each date as separate requests.`,
          expression: `Claim.item[${items.indexOf(g)}].servicedDate`,
        });
      }
      if (e) governing.set(`${e.policy.identity.id}@${e.policy.identity.version}`, e);
    }
  }
  // Documentation: answers and facts from this service's Questionnaires for the policy that applies.
  const expected = new Set(governing.keys());
  const answeredBy = new Map<string, string[]>();
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
    const unusable = unusableResponse(qr, claim, patient, index);
    if (unusable) {
      context.notes.push(`QuestionnaireResponse ${qr.id ?? n + 1} ${unusable}: not used`);
      return;
    }
    if (!expected.has(which)) {
      context.notes.push(
        `QuestionnaireResponse ${qr.id ?? n + 1} answers ${which}, which does not govern this request (${[...expected].join(", ") || "none effective"}): not used`,
      );
      return;
    }
    const given = answersFromResponse(qr);
    Object.assign(answers, given);
    answeredBy.set(which, [...(answeredBy.get(which) ?? []), ...Object.keys(given)]);
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
    // Issue 16: the facts a DTR client answered in the Questionnaire's `fact:` items (pre-populated
    // by its own expressions), read by the answered version's declarations; the extension's win.
    const entry = lib.versionsOf(ref.policy).find((e) => e.policy.identity.version === ref.version);
    if (entry) facts = { ...factsFromResponse(qr, entry.vocabulary), ...facts };
  });

  // A case's answers are keyed by criterion id alone (SPEC 2.1), and ids repeat across policies
  // (II.A.2 is a pain criterion in CP.MP.173, activity modification in CP.MP.126): where the claim's
  // items are governed by several versions, an answer given for one must not be read by another.
  const clash = answerClash(answeredBy, governing);
  if (clash) return refused(clash);

  const drug = drugOf(claim, index);
  const diagnoses = claimDiagnoses(claim, index, context.notes);
  const servicing = servicingProvider(claim, index, o.today, context.notes);
  const caseInput: CaseInput = {
    ...(context.identifiers[0]?.value && { id: context.identifiers[0].value.slice(0, 200) }),
    member: {
      state: member.state,
      ...(member.birthDate && { birthDate: member.birthDate }),
      ...(member.id && { id: member.id }),
      ...(member.name && { name: member.name }),
      ...(member.address && { address: member.address }),
    },
    service: { codes, dateOfService, ...(drug && { drug }), ...(expedited(claim) && { expedited: true }) },
    answers,
    facts,
    ...(diagnoses.length > 0 && { diagnoses }),
    ...((requesting.provider || servicing) && {
      providers: {
        ...(requesting.provider && { requesting: requesting.provider }),
        ...(servicing && { servicing }),
      },
    }),
  };
  return { context, caseInput, key: keyOf(caseInput), attachments, unfetched };
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
  /**
   * Issue 14: the reviewer's open request for more information, as the provider sees it (when, the
   * message and the questions; not who asked).
   */
  infoRequest?: { at: string; message: string; questions: { criterion: string; text: string }[] };
}

/** The response state of a stored request (SPEC 2.4: what the provider may see). */
export function stateOf(rec: RequestRecord): ResponseState {
  const latest = rec.determinations.at(-1)!;
  const det = JSON.parse(latest.determinationJson) as Determination;
  // Issue 14: an open information request pends the request to the provider (only while under review).
  const ask = rec.status === "awaiting-review" ? rec.workflow?.infoRequest : undefined;
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
    ...(ask && {
      infoRequest: {
        at: ask.at,
        message: ask.message,
        questions: ask.questions.map((q) => ({ criterion: q.criterion, text: q.text })),
      },
    }),
  };
}

/** An X12 886 decision reason (HCR03) and the specific text that goes with it (which criteria). */
export interface DecisionReason {
  code: (typeof DECISION_REASON)[keyof typeof DECISION_REASON];
  text: string;
}

/**
 * The PAS `extension-reviewAction` (PAS 2.2.1 / 2.0.1): the X12 306 action code, the authorization
 * number, and (issue 16, CMS-0057-F) the X12 886 `reasonCode` of a denial or pend, its text naming
 * the criteria at issue. The 886 coding stands alone in the CodeableConcept (required binding); the
 * criteria's own codings go on `adjudication.reason`.
 */
export function reviewAction(code: ReviewCode, number?: string, reason?: DecisionReason): Extension {
  return {
    url: PAS_EXT.reviewAction,
    extension: [
      ...(number ? [{ url: "number", valueString: number }] : []),
      {
        url: PAS_EXT.reviewActionCode,
        valueCodeableConcept: { coding: [{ system: X12_306, code, display: REVIEW_DISPLAY[code] }] },
      },
      ...(reason
        ? [
            {
              url: "reasonCode",
              valueCodeableConcept: {
                coding: [{ system: X12_886, code: reason.code.code, display: reason.code.display }],
                text: reason.text.slice(0, 1000),
              },
            },
          ]
        : []),
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
  // A decision made code by code (an approved service beside a denied one): each item gets its own.
  const lineDecision = (code: string) => st.decision?.lines?.find((l) => l.code === code);
  const itemCertified = (code: string) =>
    certified || (decided && lineDecision(code)?.outcome === "approved");
  const partly = !certified && decided && (st.decision!.lines ?? []).some((l) => l.outcome === "approved");
  const authNumber = st.requestId;
  const issued = (st.decidedAt ?? now).slice(0, 10);

  let start: string | undefined;
  const items: ClaimResponseItem[] = [];
  const codes: ReviewCode[] = [];
  if (st.status !== "error") {
    for (const it of ctx.items) {
      const line = lineOf(it.code);
      const extension: Extension[] = [];
      // Echoed as rebuilt from their typed parts: the client's extra properties, or a trace number
      // without its system or value (both 1..1), would make the answer invalid (the fuzz suite's IG check).
      const period = echoPeriod(it.requestedPeriod);
      if (period) extension.push({ url: PAS_EXT.requestedServiceDate, valuePeriod: period });
      for (const t of it.traceNumbers ?? []) {
        const id = echoSystemValue(t);
        if (id) extension.push({ url: PAS_EXT.itemTraceNumber, valueIdentifier: id });
      }
      const noteNumber: number[] = [];
      const reason: { coding: Coding[]; text: string }[] = [];
      let why: DecisionReason | undefined;
      let code: ReviewCode;
      if (st.status === "withdrawn") {
        // The submitter cancelled the whole request before it was decided: nothing was adjudicated.
        code = "C";
        noteNumber.push(
          note("The submitter cancelled this request before a decision was made; no service was reviewed."),
        );
      } else if (it.cancelled) {
        // Issue 16: a cancelled item is not adjudicated (PAS: X12 306 `C` cancelled).
        code = "C";
        noteNumber.push(
          note(
            `Item ${it.sequence}${it.code ? ` (${it.code.code})` : ""}: cancelled by the submitter; not reviewed.`,
          ),
        );
      } else if (!it.code) {
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
      } else if (itemCertified(it.code.code)) {
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
            partly
              ? // The signed reason explains the services not certified; this one's note says only what holds.
                `Item ${it.sequence} (${it.code.code}): certified by ${st.decision!.signedBy.name} (${st.decision!.signedBy.role}); other services of this request were not certified.`
              : st.decision?.automatic === false
                ? `Certified by ${st.decision.signedBy.name} (${st.decision.signedBy.role}): ${st.decision.reason}`
                : `Certified: ${st.decision?.reason ?? "every criterion of the governing policy is met."}`,
          ),
        );
      } else if (decided) {
        // A signed adverse decision (SPEC 2.4): A3 with the specific cited criteria.
        code = "A3";
        const signed = st.decision!;
        // Decided code by code: this item's outcome and the cited criteria that are its own.
        const own = lineDecision(it.code.code);
        const d = {
          ...signed,
          outcome: own?.outcome ?? signed.outcome,
          // Each with the text it has in this item's own policy (ids repeat across policies).
          criteria: own?.criteria ?? signed.criteria,
        };
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
        // CMS-0057-F: the specific reason — the coded X12 886 reason, the policy and the criteria.
        const policy = line.policy ? ` under ${line.policy.id} (${line.policy.version})` : "";
        // Each criterion with what the review found (`present` for an exclusion that applies).
        const cited = d.criteria
          .slice(0, 25)
          .map((c) => `${c.criterion} (${c.text.trim()}${c.status ? ` — ${c.status}` : ""})`)
          .join("; ");
        why =
          d.outcome === "not-covered"
            ? {
                code: DECISION_REASON.nonCovered,
                text: `Not covered${policy}: ${d.reason}${cited ? ` Criteria: ${cited}` : ""}`,
              }
            : {
                code: DECISION_REASON.notMedicallyNecessary,
                text: `Not medically necessary${policy}: ${cited ? `criteria failed: ${cited}. ` : ""}${d.reason}`,
              };
      } else if (st.infoRequest) {
        // Issue 14: a reviewer asked the provider for more information. PAS carries the specifics of
        // a pend in processNote (free text); each question also as an adjudication reason coded by
        // criterion, as a signed denial cites its criteria (the X12 886 reasonCode and the
        // CommunicationRequest payload are bound to X12/LOINC codes, which criteria are not).
        code = "A4";
        const ask = st.infoRequest;
        noteNumber.push(
          note(
            `Pended: more information requested on ${ask.at.slice(0, 10)}${st.dueAt ? `; a decision is due by ${st.dueAt}` : ""}. ${ask.message}`,
          ),
        );
        for (const q of ask.questions.slice(0, 25)) {
          noteNumber.push(note(`Information requested — ${q.criterion}: ${q.text}`));
          reason.push({
            coding: [criterionCoding(line, q.criterion, q.text)],
            text: `${q.criterion}: ${q.text}`,
          });
        }
        why = {
          code: DECISION_REASON.additionalInformation,
          text: `More information requested${ask.questions.length > 0 ? ` on ${ask.questions.map((q) => q.criterion).join(", ")}` : ""}: ${ask.message}`,
        };
        if (st.requestId) {
          noteNumber.push(
            note(
              `Reply with the answers (POST /api/requests/${st.requestId}/answers) or documents (POST /api/requests/${st.requestId}/attachments); you will be notified (Subscription) when it is decided.`,
            ),
          );
        }
      } else {
        // Pended: open questions, or a recommendation awaiting a reviewer's signature (SPEC 2.4).
        code = "A4";
        noteNumber.push(
          note(
            `Pended for clinical review${st.dueAt ? `; a decision is due by ${st.dueAt}` : ""}. You will be notified (Subscription) when it is decided.`,
          ),
        );
        if (st.engineOutcome === "pended" && line.outcome === "pended" && line.needed.length > 0) {
          const needed = line.needed.slice(0, 25);
          for (const n of needed) {
            noteNumber.push(note(`Documentation needed — ${n.criterion}: ${n.text}`));
            reason.push({
              coding: [criterionCoding(line, n.criterion, n.text)],
              text: `${n.criterion}: ${n.text}`,
            });
          }
          why = {
            code: DECISION_REASON.additionalInformation,
            text: `Documentation needed on ${needed.map((n) => n.criterion).join(", ")}`,
          };
        } else {
          // An adverse recommendation awaiting a signature, or a case routed to a reviewer: its
          // reasons are the reviewer's to give (SPEC 2.4), so only that it awaits medical review.
          why = {
            code: DECISION_REASON.medicalReview,
            text: "Pended for clinical review by a licensed reviewer",
          };
        }
      }
      // PAS 2.2.1 (ClaimResponse item `administrationReferenceNumber`, 0..1 must-support; the IG's
      // pending example carries one): the number the UMO gives the pended or not-certified outcome, so
      // that the provider's office can quote it (an update, an appeal, a call). The request's id: the
      // same number the API's paths and $inquire answer to; a certified item has its preAuthRef instead.
      if ((code === "A3" || code === "A4") && authNumber) {
        extension.push({ url: PAS_EXT.administrationReferenceNumber, valueString: authNumber });
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
            extension: [reviewAction(code, code === "A1" ? authNumber : undefined, why)],
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
  const reviewed = codes.filter((c) => c !== "C");
  const allNa = reviewed.length > 0 && reviewed.every((c) => c === "NA");
  const allCancelled = codes.length > 0 && reviewed.length === 0;
  const disposition =
    st.status === "error"
      ? "The request could not be processed as sent."
      : allCancelled
        ? "Cancelled: no requested service was reviewed."
        : certified
          ? "Certified."
          : partly
            ? "Certified in part: each item's review action says which services are certified."
            : decided
              ? "Not certified."
              : allNa || st.status === "unstored" || st.status === "not-applicable"
                ? "No prior authorization decision is required under this library's policies for the requested services."
                : st.infoRequest
                  ? "Pended: more information requested."
                  : "Pended for clinical review.";
  // PAS profile-identifier: system 1..1 — one the client sent without a system is not repeated (it
  // still finds the request in $inquire; found by the fuzz suite's IG check).
  const echoedIdentifiers = ctx.identifiers
    .filter((i) => typeof i.system === "string" && i.system !== "")
    .map(echoIdentifier);
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
      ...echoedIdentifiers,
      ...(st.requestId ? [{ system: REQUEST_ID_SYSTEM, value: st.requestId }] : []),
    ],
    status: "active",
    // The client's type, insurer and requestor as rebuilt from their typed parts (see echo.ts).
    type: (ctx.type && (codeableConcept(ctx.type) as CodeableConcept | undefined)) ?? {
      coding: [{ system: "http://terminology.hl7.org/CodeSystem/claim-type", code: "professional" }],
    },
    use: "preauthorization",
    patient: inBundle(ctx.patient, ctx) as ClaimResponse["patient"],
    created: now,
    insurer: (inBundle(reference(ctx.insurer), ctx) as ClaimResponse["insurer"] | undefined) ?? {
      display: "medpolicy",
    },
    ...(reference(ctx.provider) && {
      requestor: inBundle(reference(ctx.provider), ctx) as ClaimResponse["requestor"],
    }),
    request:
      ctx.claimUrl && ctx.claimId
        ? { reference: ctx.claimUrl }
        : ctx.claimId
          ? { reference: `Claim/${ctx.claimId}` }
          : { ...(echoedIdentifiers[0] && { identifier: echoedIdentifiers[0] }) },
    outcome: st.status === "error" ? "error" : "complete",
    disposition,
    ...((certified || partly) && authNumber && { preAuthRef: authNumber }),
    ...((certified || partly) &&
      start && { preAuthPeriod: { start, end: addDays(start, AUTH_VALIDITY_DAYS - 1) } }),
    ...(items.length > 0 && { item: items }),
    ...(notes.length > 0 && { processNote: notes }),
    ...(st.problem && {
      error: [
        {
          extension: [{ url: PAS_EXT.errorPath, valueString: st.problem.expression }],
          code: { coding: [{ system: X12_901, code: st.problem.code }], text: st.problem.text },
        },
      ],
    }),
  };
  // The PAS response bundles require every entry's fullUrl: one the request did not give is this
  // service's RESTful URL of the resource (how the ClaimResponse's relative references resolve,
  // R4 Bundle rules), or a fresh urn:uuid for a resource without an id.
  const entry: BundleEntry[] = [
    { fullUrl: `${ctx.baseUrl}/fhir/ClaimResponse/${id}`, resource: cr },
    ...ctx.included.map((x) => ({
      fullUrl:
        x.fullUrl ??
        (typeof x.resource.id === "string"
          ? `${ctx.baseUrl}/fhir/${x.resource.resourceType}/${x.resource.id}`
          : `urn:uuid:${randomUUID()}`),
      // Again here: claim contexts stored before the parties were copied minimally hold them whole.
      resource: minimalParty(x.resource),
    })),
  ];
  const bundleId = randomUUID();
  return {
    resourceType: "Bundle",
    id: bundleId,
    meta: {
      profile: [
        kind === "inquire"
          ? "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-pas-inquiry-response-bundle"
          : "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-pas-response-bundle",
      ],
    },
    // profile-pas-response-bundle requires an identifier (issue 16): the request's (X12 BHT03 is
    // echoed), else — none, or one without a value — this bundle's own.
    identifier: responseIdentifier(ctx.bundleIdentifier, bundleId),
    type: "collection",
    timestamp: now,
    entry,
  };
}

/**
 * The response Bundle's identifier (issue 16; PAS 2.2.1 profile-pas-response-bundle `identifier`
 * 1..1): the request Bundle's when it has a value, else `urn:uuid:<this bundle's id>`.
 */
export function responseIdentifier(given: Identifier | undefined, bundleId: string): Identifier {
  if (isObject(given) && typeof given.value === "string" && given.value.trim() !== "") {
    return {
      ...(typeof given.system === "string" && { system: given.system }),
      value: given.value,
    };
  }
  return { system: "urn:ietf:rfc:3986", value: `urn:uuid:${bundleId}` };
}

/** Identifiers (`system|value`) of the Claim in an inquiry. */
/**
 * Whether a stored claim is the one an inquiry asks about (PAS `$inquire` is a query by example):
 * besides a `Claim.identifier` (which submitters assign and which collide — the IG's own examples all
 * use 111099), the inquiry's patient must be the stored one — an identifier in common, else the same
 * family name and birth date — and, where the inquiry names services, one of them must be among the
 * stored items. An inquiry whose patient resolves to no Patient entry matches nothing: another
 * member's request is never disclosed on an identifier alone.
 */
export function inquiryMatches(stored: ClaimContext, claim: Claim, index: ResourceIndex): boolean {
  const asked = inquiryPatient(claim, index);
  const mine = storedPatient(stored);
  if (!asked || !mine || !samePatient(asked, mine)) return false;
  const codes = (Array.isArray(claim.item) ? claim.item : []).flatMap((it) =>
    isObject(it) ? billingCodes(it.productOrService).map((c) => c.code) : [],
  );
  if (codes.length === 0) return true;
  const have = new Set(stored.items.flatMap((i) => (i.code ? [i.code.code] : [])));
  return codes.some((c) => have.has(c));
}

/**
 * A reference of the ClaimResponse as it resolves in the response Bundle (R4 Bundle rules): a relative
 * `Type/id` resolves against the ClaimResponse's own base (this service), so one naming an entry whose
 * fullUrl is at another server (the submitter's) is written as that fullUrl — else a reader looks it
 * up here and finds nothing (a QA pass).
 */
function inBundle(ref: unknown, ctx: ClaimContext): unknown {
  if (!isObject(ref) || typeof ref.reference !== "string") return ref;
  const r = ref.reference;
  if (typeIdOf(r) === undefined || /^[a-z][a-z0-9+.-]*:/i.test(r)) return ref;
  const own = `${ctx.baseUrl}/fhir/`;
  const e = ctx.included.find((x) => sameRef(x, r));
  if (!e?.fullUrl || !/^https?:\/\//.test(e.fullUrl) || e.fullUrl.startsWith(own)) return ref;
  return { ...ref, reference: e.fullUrl };
}

function sameRef(e: { fullUrl?: string; resource: Resource }, ref: string | undefined): boolean {
  if (!ref) return true;
  const k = typeIdOf(ref);
  const own = e.resource.id ? `${e.resource.resourceType}/${e.resource.id}` : undefined;
  return e.fullUrl === ref || (k !== undefined && k === own) || (own !== undefined && own === ref);
}

function samePatient(a: Patient, b: Patient): boolean {
  const ids = (p: Patient) =>
    (Array.isArray(p.identifier) ? p.identifier : []).filter(
      (i): i is Identifier => isObject(i) && typeof i.value === "string" && i.value !== "",
    );
  const ai = ids(a);
  const bi = ids(b);
  if (
    ai.some((x) => bi.some((y) => y.value === x.value && (!x.system || !y.system || x.system === y.system)))
  )
    return true;
  // Identified in one system with different values: two patients (twins share a name and a birth
  // date). Identifiers of different systems (a member id, an MRN) say nothing either way.
  if (ai.some((x) => x.system && bi.some((y) => y.system === x.system && y.value !== x.value))) return false;
  const family = (p: Patient) =>
    (Array.isArray(p.name) ? p.name : [])
      .map((n) => (isObject(n) && typeof n.family === "string" ? n.family.trim().toLowerCase() : ""))
      .filter((f) => f !== "");
  const fb = family(b);
  return (
    typeof a.birthDate === "string" && a.birthDate === b.birthDate && family(a).some((f) => fb.includes(f))
  );
}

/**
 * Keys (`patient:system|value`) of the patient's identifiers — a member id, an MRN — stored with a
 * submitted claim, so that an inquiry without `Claim.identifier` (0..1 in PAS 2.0.1's inquiry profile)
 * finds it by its patient; `inquiryMatches` still requires that patient and the services to match.
 */
export function patientKeys(p: Patient | undefined): string[] {
  const ids = p && Array.isArray(p.identifier) ? p.identifier : [];
  return ids
    .filter((i): i is Identifier => isObject(i) && typeof i.value === "string" && i.value !== "")
    .slice(0, 20)
    .map((i) => `patient:${identifierKey(i)}`);
}

/** The stored claim's own Patient entry. */
export function storedPatient(stored: ClaimContext): Patient | undefined {
  return stored.included.find(
    (e) => e.resource.resourceType === "Patient" && sameRef(e, stored.patient.reference),
  )?.resource as Patient | undefined;
}

/** The Patient an inquiry's Claim names, resolved in its bundle. */
export function inquiryPatient(claim: Claim, index: ResourceIndex): Patient | undefined {
  return index.resolve<Patient>(claim.patient, "Patient");
}

export function inquiryIdentifiers(claim: Claim): string[] {
  return (claim.identifier ?? [])
    .filter((i) => isObject(i) && typeof i.value === "string")
    .map(identifierKey);
}
