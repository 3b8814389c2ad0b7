/**
 * DTR pre-population (Da Vinci DTR "pre-populate what the payer can from the patient's record"): the
 * questions and facts (SPEC 2.3) that the patient's FHIR resources answer, found with FHIRPath (the
 * `fhirpath` package, R4 model). Facts are data (issue 15 item 2): each fact a policy version declares
 * may say where it comes from in the record (`FactDecl.fhirPath`), and that expression — not code here
 * — finds it. Pre-populated answers are proposals the clinician sees and may change (the
 * QuestionnaireResponse marks them `information-origin: auto`); an explicit answer always wins.
 */
import type { Bundle, Resource } from "@medplum/fhirtypes";
import fhirpath from "fhirpath";
import r4 from "fhirpath/fhir-context/r4";
import type { QuestionInfo } from "../../explain/questionnaire.js";
import { isIsoDate } from "../../model/calendar.js";
import {
  CODE_SYSTEMS,
  type FactDecl,
  type Facts,
  type FactValue,
  factsSchema,
  normalizeCode,
  questionKey,
  type Vocabulary,
  valueCheck,
} from "../../model/index.js";

/** Where a pre-populated value came from (`Type/id`), for the response's provenance. */
export interface Prepopulated {
  answers: Record<string, boolean>;
  facts: Facts;
  /** linkId or fact name → the resources it was read from. */
  sources: Record<string, string[]>;
  /**
   * Fact name → why its `fhirPath` could not be evaluated (a syntax error, an unbound variable): the
   * fact is then not pre-populated. Absent when every expression ran.
   */
  problems?: Record<string, string>;
}

/** What {@link prepopulate} reads the facts with. */
export interface PrepopulateOptions {
  /** The declared facts of the policy version the questionnaire is for (its `vocabulary`). */
  facts?: Vocabulary | Iterable<FactDecl>;
  /** `YYYY-MM-DD`, bound as `%dateOfService` (a FHIRPath Date) in every fact's expression. */
  dateOfService?: string;
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

function refOf(r: Resource): string {
  return `${r.resourceType}/${r.id ?? "(no id)"}`;
}

// ---------------------------------------------------------------------------------------------------
// Units. Conversion is UCUM's, through the `@lhncbc/ucum-lhc` instance fhirpath itself uses and
// exports (`fhirpath.ucumUtils`); records often write units in words, so a few common spellings are
// read as their UCUM code first.

const UCUM_URL = "http://unitsofmeasure.org";

/** Common non-UCUM unit spellings (lower case) → UCUM code (also spelled out in DTR initialExpressions). */
export const UNIT_SYNONYMS: Readonly<Record<string, string>> = {
  y: "a",
  yr: "a",
  yrs: "a",
  year: "a",
  years: "a",
  month: "mo",
  months: "mo",
  mos: "mo",
  week: "wk",
  weeks: "wk",
  wks: "wk",
  day: "d",
  days: "d",
  hour: "h",
  hours: "h",
  hr: "h",
  hrs: "h",
  minute: "min",
  minutes: "min",
  percent: "%",
  pct: "%",
  mmhg: "mm[Hg]",
  "mm hg": "mm[Hg]",
  "kg/m^2": "kg/m2",
  "kg/m²": "kg/m2",
  lb: "[lb_av]",
  lbs: "[lb_av]",
  pound: "[lb_av]",
  pounds: "[lb_av]",
  in: "[in_i]",
  inch: "[in_i]",
  inches: "[in_i]",
  bpm: "/min",
  "beats/min": "/min",
  "breaths/min": "/min",
  "°c": "Cel",
  celsius: "Cel",
  "°f": "[degF]",
  fahrenheit: "[degF]",
};

const ucumOf = (unit: string): string => UNIT_SYNONYMS[unit.trim().toLowerCase()] ?? unit.trim();

interface UcumResult {
  status: string;
  toVal: number | null;
}
const ucum = fhirpath.ucumUtils as {
  convertUnitTo(from: string, value: number, to: string): UcumResult;
};

/** `value` in `from` expressed in `to` (UCUM), or undefined when either is unknown or they differ in kind. */
function convert(value: number, from: string, to: string): number | undefined {
  const f = ucumOf(from);
  const t = ucumOf(to);
  if (f === t) return value;
  let r: UcumResult;
  try {
    r = ucum.convertUnitTo(f, value, t);
  } catch {
    return undefined;
  }
  if (r.status !== "succeeded" || typeof r.toVal !== "number" || !Number.isFinite(r.toVal)) return undefined;
  // Six significant digits: drops floating-point noise (23.999999999999996 months), keeps precision.
  return Number(r.toVal.toPrecision(6));
}

/** Whether a value in unit `from` can be expressed in `to` (UCUM; synonyms read first). */
export function convertible(from: string, to: string): boolean {
  return convert(1, from, to) !== undefined;
}

/** Whether a unit has no dimension (`%`, `1`, `{score}`): a unitless number may be read in it. */
const dimensionless = new Map<string, boolean>();
export function isDimensionless(unit: string): boolean {
  let d = dimensionless.get(unit);
  if (d === undefined) {
    d = convert(1, "1", unit) !== undefined;
    if (dimensionless.size < 1000) dimensionless.set(unit, d);
  }
  return d;
}

interface QuantityLike {
  value?: unknown;
  unit?: unknown;
  code?: unknown;
  system?: unknown;
}

/**
 * A Quantity's value in the declared unit. Its UCUM `code` is tried, then its `unit` text; with no
 * unit at all the value is taken as already in the declared unit only when that unit has no
 * dimension (a percentage), never for months or kg/m2. No declared unit: the value as it is.
 */
function quantityIn(q: QuantityLike, unit: string | undefined): number | undefined {
  const v = q.value;
  if (typeof v !== "number" || !Number.isFinite(v)) return undefined;
  if (unit === undefined) return v;
  const candidates: string[] = [];
  if (typeof q.code === "string" && q.code.trim() && (q.system === undefined || q.system === UCUM_URL))
    candidates.push(q.code);
  if (typeof q.unit === "string" && q.unit.trim()) candidates.push(q.unit);
  if (candidates.length === 0) return isDimensionless(ucumOf(unit)) ? v : undefined;
  for (const c of candidates) {
    const r = convert(v, c, unit);
    if (r !== undefined) return r;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// FHIRPath results, read by type.

/** One item of an expression's result, with the resource it was read from (if any). */
interface Item {
  type: string;
  /** The item as plain JSON (a resource, a Quantity object, a string, a number...). */
  value: unknown;
  /** The entry resource the item is, or is inside of. */
  resource?: Resource;
}

const QUANTITY_TYPES = new Set([
  "FHIR.Quantity",
  "FHIR.Age",
  "FHIR.Count",
  "FHIR.Distance",
  "FHIR.Duration",
  "FHIR.SimpleQuantity",
  "FHIR.MoneyQuantity",
]);
const DATE_TYPES = new Set(["System.Date", "System.DateTime", "FHIR.date", "FHIR.dateTime", "FHIR.instant"]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isResourceJson = (v: unknown): v is Resource => isObject(v) && typeof v.resourceType === "string";

/** The entry resource a result node belongs to: the nearest enclosing node that is a resource. */
function resourceOf(node: unknown): Resource | undefined {
  let n: unknown = node;
  for (let depth = 0; isObject(n) && depth < 64; depth++) {
    if ("data" in n && isResourceJson(n.data) && n.data.resourceType !== "Bundle") return n.data;
    n = n.parentResNode;
  }
  return undefined;
}

/** The date a resource records (clinically effective, else performed, started, issued...). */
function resourceDate(r: Resource): string | undefined {
  const o = r as unknown as Record<string, unknown>;
  const start = (p: unknown) => (isObject(p) && typeof p.start === "string" ? p.start : undefined);
  const candidates = [
    o.effectiveDateTime,
    start(o.effectivePeriod),
    o.effectiveInstant,
    o.issued,
    o.performedDateTime,
    start(o.performedPeriod),
    o.occurrenceDateTime,
    start(o.occurrencePeriod),
    o.started,
    o.onsetDateTime,
    o.recordedDate,
    o.authoredOn,
    o.date,
  ];
  for (const c of candidates) if (typeof c === "string" && c) return c;
  return undefined;
}

/** `YYYY-MM-DD` of a FHIR date/dateTime/instant (the date as written, without shifting its zone). */
function dayOf(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  const d = v.slice(0, 10);
  return isIsoDate(d) ? d : undefined;
}

/** A System.Quantity result as FHIRPath prints it: `41.1 'kg/m2'` or `2 years`. */
function parseSystemQuantity(s: unknown): QuantityLike | undefined {
  if (typeof s !== "string") return undefined;
  const m = /^([-+]?\d+(?:\.\d+)?)\s*(?:'([^']*)'|([a-z]+))?$/.exec(s.trim());
  if (!m) return undefined;
  const unit = m[2] ?? m[3];
  return { value: Number(m[1]), ...(unit && unit !== "1" && { code: unit }) };
}

interface Coded {
  codes: { system?: string; code?: string; display?: string }[];
  text?: string;
}

/** Codings of a CodeableConcept or Coding JSON value. */
function codedOf(v: unknown): Coded | undefined {
  if (!isObject(v)) return undefined;
  if (Array.isArray(v.coding) || typeof v.text === "string") {
    return {
      codes: (Array.isArray(v.coding) ? v.coding : []).filter(isObject) as Coded["codes"],
      ...(typeof v.text === "string" && { text: v.text }),
    };
  }
  if (typeof v.code === "string" || typeof v.display === "string") return { codes: [v as Coded["codes"][0]] };
  return undefined;
}

/** Whether a coding's system is the declared code system (ICD-10-CM also as the WHO ICD-10 URL). */
function sameSystem(declared: string, url: unknown): boolean {
  if (url === CODE_SYSTEMS[declared]?.url) return true;
  return declared === "icd-10-cm" && url === "http://hl7.org/fhir/sid/icd-10";
}

type Extracted = FactValue | undefined;

/**
 * The value of one result item for a fact of this declaration, or undefined when the item does not
 * give one (a Quantity of another dimension, a string for a number, a coding of another system).
 * Collections (`set`, `numbers`) get the item's members as a list.
 */
function extract(d: FactDecl, item: Item): Extracted {
  const { type, value, resource } = item;
  const isResource = isResourceJson(value) && value === resource;
  const o = isResource ? (value as unknown as Record<string, unknown>) : undefined;
  switch (d.type) {
    case "boolean":
      if (typeof value === "boolean") return value;
      return typeof o?.valueBoolean === "boolean" ? o.valueBoolean : undefined;
    case "number":
    case "integer":
    case "numbers": {
      const unit = d.unit;
      let n: number | undefined;
      if (typeof value === "number") n = value;
      else if (type === "System.Quantity") {
        const q = parseSystemQuantity(value);
        n = q && quantityIn(q, unit);
      } else if (QUANTITY_TYPES.has(type)) n = quantityIn(value as QuantityLike, unit);
      else if (o) {
        if (isObject(o.valueQuantity)) n = quantityIn(o.valueQuantity, unit);
        // An integer value has no unit: read as a unitless Quantity.
        else if (typeof o.valueInteger === "number") n = quantityIn({ value: o.valueInteger }, unit);
      }
      if (n === undefined) return undefined;
      return d.type === "numbers" ? [n] : n;
    }
    case "date": {
      if (DATE_TYPES.has(type) || type === "System.String" || type === "FHIR.string") return dayOf(value);
      if (type === "FHIR.Period" && isObject(value)) return dayOf(value.start);
      if (o) {
        const p = o.valuePeriod;
        const v = o.valueDateTime ?? (isObject(p) ? p.start : undefined) ?? resourceDate(resource!);
        return dayOf(v);
      }
      return undefined;
    }
    case "code":
    case "enum":
    case "set": {
      const system = d.type === "enum" ? undefined : d.system;
      const values = d.type === "code" ? undefined : d.values;
      let coded: Coded | undefined;
      if (typeof value === "string") {
        // A code as the expression selected it (`code.coding.where(system = ...).code`): taken as it is.
        coded = { codes: [{ code: value }], text: value };
      } else if (o) {
        // The value before the resource's own code (an Observation's code names what was observed);
        // a value in words counts for enum values, not for codes of a system (it has no system).
        const words = typeof o.valueString === "string" ? { codes: [], text: o.valueString } : undefined;
        coded =
          codedOf(o.valueCodeableConcept) ??
          (values !== undefined ? words : undefined) ??
          codedOf(o.code) ??
          words;
      } else coded = codedOf(value);
      if (!coded) return undefined;
      const found: string[] = [];
      if (system !== undefined) {
        for (const c of coded.codes) {
          if (typeof c.code !== "string") continue;
          // A bare string result has no system: the expression vouched for it.
          if (c.system === undefined ? typeof value === "string" : sameSystem(system, c.system))
            found.push(c.code);
        }
      } else if (values !== undefined) {
        // An enum value may be written as the code, the display or the text, in any case.
        const byLower = new Map(values.map((v) => [v.toLowerCase(), v]));
        const words = [...coded.codes.flatMap((c) => [c.code, c.display]), coded.text];
        for (const w of words) {
          const v = typeof w === "string" ? byLower.get(w.trim().toLowerCase()) : undefined;
          if (v !== undefined) {
            found.push(v);
            if (d.type === "enum") break;
          }
        }
      }
      if (found.length === 0) return undefined;
      return d.type === "set" ? found : found[0];
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Compiled expressions, once per declaration (the library's FactDecl objects live as long as it does).

type Compiled = (bundle: Bundle, env: Record<string, unknown>) => unknown[];
const compiled = new WeakMap<FactDecl, Compiled | Error>();

function compiledOf(d: FactDecl): Compiled | Error {
  let c = compiled.get(d);
  if (c === undefined) {
    try {
      c = fhirpath.compile(d.fhirPath!, r4, { resolveInternalTypes: false }) as unknown as Compiled;
    } catch (err) {
      c = err instanceof Error ? err : new Error(String(err));
    }
    compiled.set(d, c);
  }
  return c;
}

/**
 * Why a fact's FHIRPath expression cannot be used, or undefined when it compiles (for lint and
 * authoring: an expression is otherwise only tried when a questionnaire is pre-populated).
 */
export function fhirPathProblem(expression: string): string | undefined {
  try {
    fhirpath.compile(expression, r4);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** `%dateOfService` as a FHIRPath Date, so that `%dateOfService - 6 months` is date arithmetic. */
function dateOfServiceVar(dos: string | undefined): Record<string, unknown> {
  if (!isIsoDate(dos)) return {};
  const [date] = fhirpath.evaluate({}, `@${dos}`, {}, r4, { resolveInternalTypes: false }) as unknown[];
  return { dateOfService: date };
}

/** The items of a result, with their JSON values, types and source resources. */
function itemsOf(result: unknown[]): Item[] {
  const types = fhirpath.types(result);
  const values = fhirpath.resolveInternalTypes(result) as unknown[];
  return result.map((node, i) => {
    const value = values[i];
    const resource = isResourceJson(value) && value.resourceType !== "Bundle" ? value : resourceOf(node);
    return { type: types[i] ?? "", value, ...(resource && { resource }) };
  });
}

/** Most recent first by their resource's date; undated items after, in the expression's order. */
function byRecency(items: Item[]): Item[] {
  const at = items.map((it) => (it.resource && resourceDate(it.resource)) ?? "");
  return items
    .map((it, i) => ({ it, i, at: at[i]! }))
    .sort((a, b) => (a.at === b.at ? a.i - b.i : b.at.localeCompare(a.at)))
    .map((x) => x.it);
}

/**
 * Reads one declared fact from the record: its value (checked against the declaration) and the
 * resources it was read from, or undefined when the record does not give it.
 */
function readFact(d: FactDecl, result: unknown[]): { value: FactValue; sources: string[] } | undefined {
  const items = itemsOf(result);
  if (items.length === 0) return undefined;
  const check = valueCheck(d);
  const refs = (its: Item[]) => [...new Set(its.flatMap((it) => (it.resource ? [refOf(it.resource)] : [])))];
  if (d.type === "set" || d.type === "numbers") {
    // Collections gather every item that gives members; one member of the wrong type spoils the list.
    const members: (string | number)[] = [];
    const seen = new Set<string>();
    const used: Item[] = [];
    for (const it of items) {
      const v = extract(d, it);
      if (!Array.isArray(v)) continue;
      used.push(it);
      for (const m of v) {
        const key = typeof m === "string" && d.type === "set" ? normalizeCode(d.system, m) : undefined;
        if (key !== undefined) {
          if (seen.has(key)) continue;
          seen.add(key);
        }
        members.push(m);
      }
    }
    if (members.length === 0 || !check(members)) return undefined;
    return { value: members, sources: refs(used) };
  }
  // One value: the most recent item that gives one decides; if it is not of the declared type (out of
  // range, not a code of the system), nothing is proposed — an older record does not stand in for it.
  for (const it of byRecency(items)) {
    const v = extract(d, it);
    if (v === undefined) continue;
    return check(v) ? { value: v, sources: refs([it]) } : undefined;
  }
  return undefined;
}

/**
 * Pre-populates from the patient's resources (SPEC 4 DTR, issue 15 item 2 "facts are data").
 *
 * Questions: a Condition with a cancer ICD-10 code (active or without status, not refuted) answers
 * "pain of malignant origin" `true`. Only questions in `questions` are answered.
 *
 * Facts: each declared fact with a `fhirPath` (`options.facts`, the vocabulary of the policy version
 * the questionnaire is for) is evaluated with the `fhirpath` package (R4 model) over a collection
 * Bundle of `resources`, with `%dateOfService` bound as a FHIRPath Date. The result is read by the
 * fact's type:
 * - Result items that are resources (Observation, Procedure, Condition, ImagingStudy...) are taken
 *   most recent first, by effective[x], issued, performed[x], started, onset, recordedDate...; for a
 *   single value the first that gives one decides. From a resource: `valueQuantity` (converted to the
 *   declared `unit` with UCUM, e.g. years/weeks/days → `mo`, `[lb_av]` → `kg`; a few unit words such
 *   as "years", "mmHg" read as UCUM; a unitless value only for a dimensionless unit such as `%`),
 *   `valueInteger`, `valueBoolean`, `valueCodeableConcept` (else the resource's `code`) codes of the
 *   declared system, or enum values by code, display or text; for a date fact `valueDateTime`, else
 *   the resource's own date (a Procedure's performed date, an ImagingStudy's start).
 * - Other items map directly: a boolean, a number (as is), a Quantity (converted), a date or dateTime
 *   (its `YYYY-MM-DD`), a string (a code or enum value), a Coding or CodeableConcept.
 * - `set` and `numbers` facts gather every item (codes deduplicated as the system compares them).
 * The value must pass the fact's `valueCheck` (its type, range, code pattern) or it is not
 * pre-populated. `sources` names the resources each value was read from; an expression that fails is
 * reported in `problems` and its fact left out. A case's own facts always win over these.
 */
export function prepopulate(
  resources: readonly Resource[],
  questions: ReadonlyMap<string, QuestionInfo>,
  options: PrepopulateOptions = {},
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

  const decls = options.facts instanceof Map ? options.facts.values() : (options.facts ?? []);
  const env = dateOfServiceVar(options.dateOfService);
  const facts: Record<string, FactValue> = {};
  for (const d of decls as Iterable<FactDecl>) {
    if (d.fhirPath === undefined) continue;
    const fn = compiledOf(d);
    let result: unknown[];
    try {
      if (fn instanceof Error) throw fn;
      result = fn(bundle, env);
    } catch (err) {
      out.problems ??= {};
      out.problems[d.name] = `fhirPath: ${err instanceof Error ? err.message : String(err)}`;
      continue;
    }
    const read = readFact(d, result);
    if (!read) continue;
    facts[d.name] = read.value;
    if (read.sources.length > 0) out.sources[d.name] = read.sources;
  }
  const parsed = factsSchema.safeParse(facts);
  if (parsed.success) out.facts = parsed.data;
  return out;
}
