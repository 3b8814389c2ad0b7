/**
 * DTR pre-population (Da Vinci DTR "pre-populate what the payer can from the patient's record"): the
 * questions and facts (SPEC 2.3) that the patient's FHIR resources answer, found with FHIRPath (the
 * `fhirpath` package, R4 model). Each rule is data: a FHIRPath over a collection Bundle and what its
 * result sets. Pre-populated answers are proposals the clinician sees and may change (the
 * QuestionnaireResponse marks them `information-origin: auto`); an explicit answer always wins.
 */
import type { Bundle, Resource } from "@medplum/fhirtypes";
import fhirpath from "fhirpath";
import r4 from "fhirpath/fhir-context/r4";
import type { QuestionInfo } from "../../explain/questionnaire.js";
import { type Facts, factsSchema, questionKey } from "../../model/index.js";

/** Where a pre-populated value came from (`Type/id`), for the response's provenance. */
export interface Prepopulated {
  answers: Record<string, boolean>;
  facts: Facts;
  /** linkId or fact name → the resources it was read from. */
  sources: Record<string, string[]>;
}

const ICD10 = "(system = 'http://hl7.org/fhir/sid/icd-10-cm' or system = 'http://hl7.org/fhir/sid/icd-10')";

/** The ICD-10 codes of a Condition that is active (or has no status) and not refuted. */
const conditionCodes = fhirpath.compile(
  `Condition
     .where(verificationStatus.coding.code.intersect('refuted' | 'entered-in-error').empty())
     .where(clinicalStatus.exists().not() or clinicalStatus.coding.code.intersect('active' | 'recurrence' | 'relapse').exists())
     .code.coding.where(${ICD10}).code`,
  r4,
);

/** Observations (not cancelled or in error) whose code names `%label`, as quantity values. */
const observationsNamed = fhirpath.compile(
  `Bundle.entry.resource.ofType(Observation)
     .where(status != 'entered-in-error' and status != 'cancelled')
     .where(code.text.lower().contains(%label) or code.coding.where(display.lower().contains(%label)).exists())`,
  r4,
);

/**
 * ICD-10-CM neoplasm codes (chapter II, C00–D49) other than the benign neoplasms D10–D36: malignant,
 * in situ and of uncertain behaviour. A benign tumour does not make pain "of malignant origin".
 */
export function isCancerCode(code: string): boolean {
  const m = /^([CD])(\d{2})/.exec(code.toUpperCase());
  if (!m) return false;
  const n = Number(m[2]);
  if (m[1] === "C") return true;
  return n <= 9 || (n >= 37 && n <= 49);
}

/** Whether a question asks if the pain is of malignant origin (and not of nonmalignant origin). */
function asksMalignantOrigin(q: QuestionInfo): boolean {
  const k = questionKey(q.text);
  return /\bmalignant origin\b/.test(k) && !/\bnon ?malignant\b/.test(k) && q.kind !== "note";
}

const MONTHS_PER: Record<string, number> = {
  mo: 1,
  month: 1,
  months: 1,
  a: 12,
  yr: 12,
  year: 12,
  years: 12,
  wk: 12 / 52,
  week: 12 / 52,
  weeks: 12 / 52,
  d: 12 / 365.25,
  day: 12 / 365.25,
  days: 12 / 365.25,
};

function quantityIn(obs: Record<string, unknown>, unit: "months" | "percent"): number | undefined {
  const q = obs.valueQuantity as { value?: unknown; code?: string; unit?: string } | undefined;
  const v =
    typeof q?.value === "number"
      ? q.value
      : typeof obs.valueInteger === "number"
        ? obs.valueInteger
        : undefined;
  if (v === undefined || !Number.isFinite(v) || v < 0) return undefined;
  const u = (q?.code ?? q?.unit ?? "").toLowerCase();
  if (unit === "percent") return u === "" || u === "%" ? v : undefined;
  const f = MONTHS_PER[u];
  return f === undefined ? undefined : Math.round(v * f * 10) / 10;
}

function refOf(r: Resource): string {
  return `${r.resourceType}/${r.id ?? "(no id)"}`;
}

/**
 * Pre-populates from the patient's resources: a Condition with a cancer ICD-10 code answers "pain of
 * malignant origin" `true`; an Observation of life expectancy gives `lifeExpectancyMonths`, one of the
 * opioid wean before the trial gives `opioidWeanPercent` (SPEC 2.3 facts, decided by the policy's
 * predicates). Only questions in `questions` are answered.
 */
export function prepopulate(
  resources: readonly Resource[],
  questions: ReadonlyMap<string, QuestionInfo>,
): Prepopulated {
  const out: Prepopulated = { answers: {}, facts: {}, sources: {} };
  const bundle: Bundle = {
    resourceType: "Bundle",
    type: "collection",
    entry: resources.map((resource) => ({ resource })),
  };

  const cancer: string[] = [];
  for (const r of resources) {
    if (r.resourceType !== "Condition") continue;
    const codes = conditionCodes(r) as unknown[];
    if (codes.some((c) => typeof c === "string" && isCancerCode(c))) cancer.push(refOf(r));
  }
  if (cancer.length > 0) {
    for (const q of questions.values()) {
      if (!asksMalignantOrigin(q)) continue;
      out.answers[q.linkId] = true;
      out.sources[q.linkId] = cancer;
    }
  }

  const facts: Record<string, unknown> = {};
  const fact = (name: string, label: string, unit: "months" | "percent") => {
    const found = observationsNamed(bundle, { label }) as Record<string, unknown>[];
    // The most recent observation decides (effectiveDateTime, else issued).
    const dated = found
      .map((o) => ({
        o,
        at: String(o.effectiveDateTime ?? (o.effectivePeriod as { start?: string })?.start ?? o.issued ?? ""),
      }))
      .sort((a, b) => b.at.localeCompare(a.at));
    for (const { o } of dated) {
      const v = quantityIn(o, unit);
      if (v === undefined) continue;
      facts[name] = v;
      out.sources[name] = [refOf(o as unknown as Resource)];
      return;
    }
  };
  fact("lifeExpectancyMonths", "life expectancy", "months");
  fact("opioidWeanPercent", "opioid wean", "percent");
  const parsed = factsSchema.safeParse(facts);
  if (parsed.success) out.facts = parsed.data;
  return out;
}
