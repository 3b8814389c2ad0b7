/**
 * Structural conformance checks for what the FHIR layer answers (no eyeballing): CDS Hooks responses
 * and the CRD coverage-information extension (with the invariants crd-ci-q1…q5 of the form asked
 * for), PAS response Bundles and ClaimResponses (PAS 2.2.1 shapes, X12 306 review actions),
 * OperationOutcomes, DTR package Parameters. Each returns the problems found; empty = conformant.
 */
import { validateQuestionnaire } from "../../src/explain/questionnaire.js";

type J = Record<string, unknown>;
const isObj = (x: unknown): x is J => x !== null && typeof x === "object" && !Array.isArray(x);
const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);

export const COVERAGE_INFORMATION =
  "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information";

// The required bindings: 2.0.1 from the package (../shared/fhir/ig/davinci-crd-2.0.1.tgz — its
// AdditionalDocumentation value set has no `no-doc`); 2.2 from the IG's FSH (HL7/davinci-crd).
const CODES = {
  "2.2": {
    covered: ["covered", "not-covered", "conditional"],
    "pa-needed": ["no-auth", "auth-needed", "satisfied", "performpa", "conditional"],
    "doc-needed": ["clinical", "admin", "patient", "conditional"],
    "doc-purpose": ["withpa", "withclaim", "withorder", "retain-doc", "OTH"],
    "info-needed": ["performer", "location", "timeframe", "contract-window", "detail-code", "OTH"],
  },
  "2.0.1": {
    covered: ["covered", "not-covered", "conditional"],
    "pa-needed": ["no-auth", "auth-needed", "satisfied", "performpa", "conditional"],
    "doc-needed": ["clinical", "admin", "both", "conditional"],
    "doc-purpose": ["withpa", "withclaim", "withorder", "retain-doc", "OTH"],
    "info-needed": ["performer", "location", "timeframe", "contract-window", "OTH"],
  },
} as const;

/** CRD `coverageAssertionReasons` (extensible; the same two temp codes in 2.0.1 and 2.2). */
const ASSERTION_REASONS = new Set(["gold-card", "detail-code"]);
const CRD_TEMP = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp";

/**
 * The coverage-information extension in `form` (slices, value types, codes, invariants crd-ci-q1…q8
 * of the form: q1–q5 from the 2.0.1 package, q1–q8 from the 2.2 FSH; issue 16).
 */
export function checkCoverageInformation(ext: unknown, form: "2.2" | "2.0.1"): string[] {
  const out: string[] = [];
  if (!isObj(ext) || ext.url !== COVERAGE_INFORMATION) return ["not a coverage-information extension"];
  const subs = arr(ext.extension).filter(isObj);
  const all = (url: string) => subs.filter((s) => s.url === url);
  const one = (url: string, min: number) => {
    const n = all(url).length;
    if (n < min || n > 1) out.push(`${url}: ${n} (expected ${min}..1)`);
    return all(url)[0];
  };
  const coverage = one("coverage", 1);
  if (coverage && !isObj(coverage.valueReference)) out.push("coverage needs valueReference");
  const covered = one("covered", 1);
  const pa = one("pa-needed", 0);
  // doc-needed is 0..1 in 2.0.1, 0..* in 2.2.
  const doc = form === "2.0.1" ? one("doc-needed", 0) : all("doc-needed")[0];
  one("date", 1);
  one("coverage-assertion-id", 1);
  one("satisfied-pa-id", 0);
  for (const [slice, codes] of Object.entries(CODES[form])) {
    for (const s of all(slice)) {
      if (!(codes as readonly string[]).includes(String(s.valueCode)))
        out.push(`${slice}=${String(s.valueCode)} not in the ${form} codes`);
    }
  }
  if (
    all("date").some(
      (s) => typeof s.valueDate !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(s.valueDate as string),
    )
  ) {
    out.push("date must be valueDate");
  }
  if (all("coverage-assertion-id").some((s) => typeof s.valueString !== "string" || s.valueString === ""))
    out.push("coverage-assertion-id needs valueString");
  if (all("questionnaire").some((s) => typeof s.valueCanonical !== "string"))
    out.push("questionnaire needs valueCanonical");
  if (all("reason").some((s) => !isObj(s.valueCodeableConcept)))
    out.push("reason needs valueCodeableConcept");
  if (all("billingCode").some((s) => !isObj(s.valueCoding))) out.push("billingCode needs valueCoding");
  const known = new Set([
    "coverage",
    "covered",
    "pa-needed",
    "doc-needed",
    "doc-purpose",
    "info-needed",
    "billingCode",
    "reason",
    "detail",
    "dependency",
    "questionnaire",
    ...(form === "2.0.1" ? ["response"] : ["expiry-date"]),
    "date",
    "coverage-assertion-id",
    "satisfied-pa-id",
    "contact",
  ]);
  for (const s of subs) if (!known.has(String(s.url))) out.push(`unknown slice ${String(s.url)}`);
  // crd-ci-q1: a questionnaire only with doc-needed (2.0.1: and not no-doc).
  if (all("questionnaire").length > 0 && (!doc || doc.valueCode === "no-doc"))
    out.push("crd-ci-q1: questionnaire without doc-needed");
  // crd-ci-q2. 2.2: not-covered → no pa-needed. 2.0.1, as the package's expression evaluates
  // (`extension.where(url = 'covered' and value != 'not-covered') implies extension.where(url =
  // 'pa-needed').exists()`: empty — not met — for not-covered without pa-needed): pa-needed always.
  if (form === "2.2" && covered?.valueCode === "not-covered" && pa)
    out.push("crd-ci-q2: not-covered with pa-needed");
  if (form === "2.0.1" && covered && !pa) out.push("crd-ci-q2 (2.0.1): pa-needed missing");
  // crd-ci-q3: info-needed iff something is conditional.
  const conditional = [covered, pa, ...all("doc-needed")].some((s) => s?.valueCode === "conditional");
  if (all("info-needed").length > 0 !== conditional)
    out.push("crd-ci-q3: info-needed and conditional disagree");
  // crd-ci-q4 (2.2): no withpa when pa-needed is satisfied / no-auth (2.0.1: its code "PA", never sent).
  const purposes = all("doc-purpose").map((s) => String(s.valueCode));
  if (
    purposes.includes("withpa") &&
    (["satisfied", "no-auth"].includes(String(pa?.valueCode)) || covered?.valueCode === "not-covered")
  )
    out.push("crd-ci-q4: withpa without a prior authorization to attach it to");
  // crd-ci-q5: satisfied-pa-id iff pa-needed = satisfied.
  if ((pa?.valueCode === "satisfied") !== all("satisfied-pa-id").length > 0) out.push("crd-ci-q5");
  if (form === "2.2") {
    const reasons = all("reason").map((s) => s.valueCodeableConcept as J);
    // crd-ci-q6: info-needed OTH → a reason.
    if (all("info-needed").some((s) => s.valueCode === "OTH") && reasons.length === 0)
      out.push("crd-ci-q6: info-needed OTH without a reason");
    // crd-ci-q7: a reason coded outside coverageAssertionReasons needs text.
    for (const r of reasons) {
      const inVs = arr(r?.coding).some(
        (c) => isObj(c) && c.system === CRD_TEMP && ASSERTION_REASONS.has(String(c.code)),
      );
      if (typeof r?.text !== "string" && !inVs)
        out.push("crd-ci-q7: reason without text outside the value set");
    }
    // crd-ci-q8: doc-purpose (other than conditional) → a reason.
    if (purposes.some((p) => p !== "conditional") && reasons.length === 0)
      out.push("crd-ci-q8: doc-purpose without a reason");
  }
  return out;
}

/** A CDS Hooks 2.0 response from a CRD service: no coverage information in cards. */
export function checkHookResponse(body: unknown, form: "2.2" | "2.0.1"): string[] {
  if (!isObj(body)) return ["response is not an object"];
  const out: string[] = [];
  if (!Array.isArray(body.cards)) out.push("cards must be an array");
  for (const c of arr(body.cards))
    if (JSON.stringify(c).includes(COVERAGE_INFORMATION)) out.push("coverage information in a card");
  for (const [i, a] of arr(body.systemActions).entries()) {
    if (!isObj(a) || a.type !== "update" || !isObj(a.resource)) {
      out.push(`systemActions[${i}] must be an update with a resource`);
      continue;
    }
    const r = a.resource;
    if (typeof r.resourceType !== "string" || typeof r.id !== "string")
      out.push(`systemActions[${i}].resource needs resourceType and id`);
    const infos = arr(r.extension).filter((e) => isObj(e) && e.url === COVERAGE_INFORMATION);
    if (infos.length === 0) out.push(`systemActions[${i}] carries no coverage information`);
    for (const e of infos)
      out.push(...checkCoverageInformation(e, form).map((p) => `systemActions[${i}]: ${p}`));
  }
  return out;
}

export function checkOperationOutcome(body: unknown): string[] {
  if (!isObj(body) || body.resourceType !== "OperationOutcome") return ["not an OperationOutcome"];
  const issues = arr(body.issue);
  if (issues.length === 0) return ["OperationOutcome without issues"];
  const out: string[] = [];
  for (const i of issues) {
    if (
      !isObj(i) ||
      !["fatal", "error", "warning", "information"].includes(String(i.severity)) ||
      typeof i.code !== "string"
    ) {
      out.push("issue needs severity and code");
    }
  }
  return out;
}

const PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition";
const REVIEW_CODES = new Set(["A1", "A3", "A4", "C", "NA"]);

/** The review action codes of a ClaimResponse item (from its adjudications). */
export function reviewCodes(item: unknown): string[] {
  const codes: string[] = [];
  for (const adj of arr(isObj(item) ? item.adjudication : undefined)) {
    for (const e of arr(isObj(adj) ? adj.extension : undefined)) {
      if (!isObj(e) || e.url !== `${PAS}/extension-reviewAction`) continue;
      for (const s of arr(e.extension)) {
        if (isObj(s) && s.url === `${PAS}/extension-reviewActionCode`) {
          const c = arr((s.valueCodeableConcept as J | undefined)?.coding)[0] as J | undefined;
          if (c?.system === "https://codesystem.x12.org/005010/306") codes.push(String(c.code));
        }
      }
    }
  }
  return codes;
}

/**
 * A PAS response Bundle: a `collection` whose first entry is a ClaimResponse (status active, use
 * preauthorization, required R4 elements), each item with one X12 306 review action, note numbers
 * that exist, references that resolve inside the bundle; `itemSequences` when the request is known.
 */
export function checkPasResponse(body: unknown, itemSequences?: number[]): string[] {
  if (!isObj(body) || body.resourceType !== "Bundle") return ["not a Bundle"];
  const out: string[] = [];
  if (body.type !== "collection") out.push("response Bundle type must be collection");
  const entries = arr(body.entry).filter(isObj);
  const cr = entries[0]?.resource as J | undefined;
  if (!isObj(cr) || cr.resourceType !== "ClaimResponse")
    return [...out, "first entry must be the ClaimResponse"];
  if (cr.status !== "active") out.push("ClaimResponse.status must be active");
  if (cr.use !== "preauthorization") out.push("ClaimResponse.use must be preauthorization");
  for (const k of ["type", "patient", "created", "insurer", "outcome"])
    if (cr[k] === undefined) out.push(`ClaimResponse.${k} is required`);
  if (!["queued", "complete", "error", "partial"].includes(String(cr.outcome))) out.push("bad outcome");
  const notes = new Set(arr(cr.processNote).map((n) => (n as J).number));
  const items = arr(cr.item).filter(isObj);
  if (cr.outcome !== "error" && itemSequences) {
    const got = items.map((i) => i.itemSequence).sort();
    if (JSON.stringify(got) !== JSON.stringify([...itemSequences].sort()))
      out.push(`items ${got} ≠ claim items ${itemSequences}`);
  }
  if (cr.outcome === "error" && arr(cr.error).length === 0) out.push("an error outcome needs error[]");
  for (const it of items) {
    const codes = reviewCodes(it);
    if (codes.length !== 1 || !REVIEW_CODES.has(codes[0]!))
      out.push(`item ${String(it.itemSequence)}: review action ${codes}`);
    for (const n of arr(it.noteNumber))
      if (!notes.has(n)) out.push(`item ${String(it.itemSequence)}: noteNumber ${String(n)} missing`);
  }
  // References in the ClaimResponse resolve within the bundle (PAS bundles are self-contained).
  const urls = new Set(entries.map((e) => String(e.fullUrl ?? "")));
  const ids = new Set(
    entries.map((e) => `${String((e.resource as J)?.resourceType)}/${String((e.resource as J)?.id)}`),
  );
  for (const k of ["patient", "requestor"]) {
    const ref = (cr[k] as J | undefined)?.reference as string | undefined;
    if (ref && !ids.has(ref) && !urls.has(ref) && ![...urls].some((u) => u.endsWith(`/${ref}`)))
      out.push(`${k} ${ref} not in the bundle`);
  }
  return out;
}

/** DTR `$questionnaire-package` output: Parameters of PackageBundles with valid Questionnaires. */
export function checkPackage(body: unknown): string[] {
  if (!isObj(body) || body.resourceType !== "Parameters") return ["not Parameters"];
  const out: string[] = [];
  for (const p of arr(body.parameter).filter(isObj)) {
    if (p.name === "outcome") {
      out.push(...checkOperationOutcome(p.resource));
      continue;
    }
    if (p.name !== "PackageBundle") {
      out.push(`unexpected parameter ${String(p.name)}`);
      continue;
    }
    const b = p.resource as J;
    if (!isObj(b) || b.resourceType !== "Bundle" || b.type !== "collection")
      out.push("PackageBundle must be a collection Bundle");
    const qs = arr(b?.entry)
      .map((e) => (e as J).resource as J)
      .filter((r) => r?.resourceType === "Questionnaire");
    if (qs.length === 0) out.push("PackageBundle without a Questionnaire");
    for (const q of qs) out.push(...validateQuestionnaire(q));
  }
  return out;
}
