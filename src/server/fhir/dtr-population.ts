/**
 * DTR population logic (issue 16, DTR 2.0.1 §"Population" / SDC Expression-based Population): every
 * Questionnaire the service hands out carries what a DTR app needs to pre-populate it from the EHR —
 * `launchContext` (patient, encounter, user, coverage, order), `variable`s and, on each item that asks
 * for a declared fact, an `initialExpression` generated from the fact's own `fhirPath` (issue 15
 * "Facts are data": the expression the policy declares, never a rule in code). A fact without a
 * `fhirPath` gets an item without one (the clinician answers it).
 *
 * Language: FHIRPath (`text/fhirpath`), with `application/x-fhir-query` variables that fetch the
 * patient's resources of the types the expressions read. DTR 2.0.1's narrative asks for CQL in
 * Libraries (`cqf-library`); its Standard and Adaptive Questionnaire profiles make `cqf-library`
 * optional (0..*) and do not constrain the expression language, and issue 16 allows FHIRPath. Libraries
 * carry CQL/ELM, which this service does not author, so no Library is shipped and no `cqf-library`
 * extension is emitted (the decision is in the issue-16 report).
 *
 * The generated expressions run on any FHIRPath R2 engine: `%record` (the fetched search Bundles)
 * stands where a fact's expression says `Bundle`, `%dateOfService` is a Date, and values are converted
 * to the declared unit with UCUM `toQuantity(unit)` (unit words such as "years" spelled as their UCUM
 * code first). {@link populateFromBundle} evaluates a Questionnaire's own expressions over a patient
 * Bundle as a DTR app would (tests use it for the round trip).
 */
import type {
  Bundle,
  Coding,
  Extension,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
  Resource,
} from "@medplum/fhirtypes";
import fhirpath from "fhirpath";
import r4 from "fhirpath/fhir-context/r4";
import { FACT_LINK_PREFIX, FACTS_GROUP_LINK_ID } from "../../explain/questionnaire.js";
import {
  CODE_SYSTEMS,
  type FactDecl,
  type Facts,
  type FactValue,
  normalizeCode,
  type Vocabulary,
} from "../../model/index.js";
import { convertible, isDimensionless, UNIT_SYNONYMS } from "./prepopulate.js";

export const LAUNCH_CONTEXT =
  "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-launchContext";
export const VARIABLE = "http://hl7.org/fhir/StructureDefinition/variable";
export const INITIAL_EXPRESSION =
  "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-initialExpression";
const QUESTIONNAIRE_UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit";
const MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue";
const MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue";
const SDC_LAUNCH = "http://hl7.org/fhir/uv/sdc/CodeSystem/launchContext";
const UCUM = "http://unitsofmeasure.org";
/** DTR launch contexts SDC's code system has no code for (the binding is extensible). */
export const MEDPOLICY_LAUNCH = "http://medpolicy.example/fhir/CodeSystem/launch-context";
export const FHIRPATH = "text/fhirpath" as const;
export const FHIR_QUERY = "application/x-fhir-query" as const;

/** The launch contexts a DTR app supplies (DTR 2.0.1 SMART launch: patient, encounter, user, fhirContext). */
const LAUNCH: readonly { system: string; code: string; types: string[]; description: string }[] = [
  { system: SDC_LAUNCH, code: "patient", types: ["Patient"], description: "The patient the order is for" },
  { system: SDC_LAUNCH, code: "encounter", types: ["Encounter"], description: "The encounter of the order" },
  {
    system: SDC_LAUNCH,
    code: "user",
    types: ["Practitioner", "PractitionerRole"],
    description: "The clinician completing the form",
  },
  {
    system: MEDPOLICY_LAUNCH,
    code: "coverage",
    types: ["Coverage"],
    description: "The member's coverage the documentation is for (DTR fhirContext)",
  },
  {
    system: MEDPOLICY_LAUNCH,
    code: "order",
    types: [
      "ServiceRequest",
      "DeviceRequest",
      "MedicationRequest",
      "NutritionOrder",
      "VisionPrescription",
      "CommunicationRequest",
      "Appointment",
      "Encounter",
    ],
    description: "The order CRD was asked about (DTR fhirContext); its date is the date of service",
  },
];

/** Resource types a fact expression may read when it names none (`ofType(...)`): US Core clinical data. */
const DEFAULT_TYPES = ["Observation", "Condition", "Procedure"] as const;
/** What a type name must look like to be put in a query (the library's own text, checked anyway). */
const TYPE_NAME = /^[A-Z][A-Za-z]{1,63}$/;

/** A FHIRPath string literal (`'it''s'` is not FHIRPath: backslash escapes). */
export function fpString(s: string): string {
  let out = "'";
  for (const ch of s) {
    if (ch === "\\" || ch === "'") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else out += ch;
  }
  return `${out}'`;
}

/** Resource types named by `ofType(X)` in an expression (scanned by hand: linear). */
export function typesRead(expression: string): string[] {
  const out: string[] = [];
  let i = expression.indexOf("ofType(");
  while (i >= 0) {
    const start = i + 7;
    const end = expression.indexOf(")", start);
    if (end < 0) break;
    const name = expression.slice(start, end).trim();
    if (TYPE_NAME.test(name) && !out.includes(name)) out.push(name);
    i = expression.indexOf("ofType(", end);
  }
  return out;
}

type Language = "text/fhirpath" | "application/x-fhir-query";
const variable = (name: string, language: Language, expression: string, description?: string): Extension => ({
  url: VARIABLE,
  valueExpression: { name, language, expression, ...(description && { description }) },
});

/** The date a resource records, as FHIRPath (what `prepopulate` orders the newest by). */
const RESOURCE_DATE =
  "(effective.ofType(dateTime) | effective.ofType(Period).start | effective.ofType(instant) | issued | performed.ofType(dateTime) | performed.ofType(Period).start | occurrence.ofType(dateTime) | occurrence.ofType(Period).start | started | onset.ofType(dateTime) | recordedDate | authoredOn | date).first()";

/** The order's date of service (occurrence, else authored), else today. */
const DATE_OF_SERVICE =
  "((%order.occurrence.ofType(dateTime) | %order.occurrence.ofType(Period).start | %order.dispenseRequest.validityPeriod.start | %order.authoredOn).first().toString().substring(0, 10).toDate() | today()).first()";

/**
 * The Questionnaire-level population logic of a form that asks for `facts`: one `launchContext` per
 * DTR launch context, `x-fhir-query` variables fetching the patient's resources of each type the
 * facts' expressions read, `%record` (those search Bundles together) and `%dateOfService`.
 */
export function populationExtensions(facts: readonly FactDecl[]): Extension[] {
  const out: Extension[] = LAUNCH.map((l) => ({
    url: LAUNCH_CONTEXT,
    extension: [
      { url: "name", valueCoding: { system: l.system, code: l.code } },
      ...l.types.map((t) => ({ url: "type", valueCode: t })),
      { url: "description", valueString: l.description },
    ],
  }));
  const types: string[] = [];
  for (const d of facts) {
    if (d.fhirPath === undefined) continue;
    const named = typesRead(d.fhirPath);
    for (const t of named.length > 0 ? named : DEFAULT_TYPES) if (!types.includes(t)) types.push(t);
  }
  for (const t of types) {
    out.push(
      variable(
        `record${t}`,
        FHIR_QUERY,
        `${t}?patient={{%patient.id}}`,
        `The patient's ${t} resources (a search Bundle)`,
      ),
    );
  }
  // Only when some fact is read from the record (a form whose facts are all answered by hand has none).
  if (types.length > 0)
    out.push(
      variable(
        "record",
        FHIRPATH,
        types.map((t) => `%record${t}`).join(" | "),
        "The patient's record: the search Bundles above; each fact's expression reads it where it says Bundle",
      ),
    );
  out.push(variable("dateOfService", FHIRPATH, DATE_OF_SERVICE, "The order's date of service (else today)"));
  return out;
}

/** FHIRPath type tests that hold for FHIR elements and for System values an expression computes. */
const IS_BOOLEAN = "($this is boolean or $this is Boolean)";
const IS_NUMBER = "($this is decimal or $this is integer or $this is Decimal or $this is Integer)";
const IS_STRING = "($this is string or $this is code or $this is String)";

/** Each item's own value: a resource's `value[x]` (else its `code`), anything else as it is. */
const VALUE_OF = "select(iif(resourceType.exists(), value, $this))";
/**
 * Resources newest first, as `prepopulate` orders them (the date as written, to the second; undated
 * last; ties in the expression's order); plain values keep their order. The key is the date's digits
 * as a number, so that `sort(-key)` is descending (FHIRPath 3.0 `sort()`, which fhirpath.js has).
 */
const NEWEST_FIRST = `sort(-(iif(resourceType.exists() and ${RESOURCE_DATE}.exists(), (${RESOURCE_DATE}.toString().replaceMatches('[^0-9]', '') + '00000000000000').substring(0, 14).toInteger(), 0)))`;

/** FHIRPath turning each Quantity (or bare number) into a number in `unit` (UCUM; unit words read). */
function numberIn(unit: string | undefined): string {
  if (unit === undefined) return `select(iif($this is Quantity, value, $this)).where(${IS_NUMBER})`;
  // Unit words (years, lbs) spelled as UCUM codes: only the ones commensurable with the declared unit.
  const words = Object.entries(UNIT_SYNONYMS).filter(([, ucum]) => convertible(ucum, unit));
  const asUcum = [
    `iif(code.exists() and (system.empty() or system = ${fpString(UCUM)}), code)`,
    ...words.map(([w, ucum]) => `iif(unit.lower() = ${fpString(w)}, ${fpString(ucum)})`),
    "unit",
  ].join(" | ");
  const bare = isDimensionless(unit) ? ` | where(${IS_NUMBER})` : "";
  return `select(ofType(Quantity).select((value.toString() + ' \\'' + (${asUcum}).first() + '\\'').toQuantity(${fpString(unit)}).value)${bare})`;
}

/** The initialExpression that reads a fact for its item (undefined without a `fhirPath`). */
export function initialExpressionOf(d: FactDecl): string | undefined {
  if (d.fhirPath === undefined) return undefined;
  const read = `%record.select(${d.fhirPath})`;
  const systemUrl = (system: string) => fpString(CODE_SYSTEMS[system]!.url);
  const coded = (system: string) =>
    `select(iif(${IS_STRING}, $this, (ofType(CodeableConcept).coding | ofType(Coding)).where(system = ${systemUrl(system)}).code))`;
  // A resource's value (CodeableConcept, else words) before its own code, as `prepopulate` reads it.
  const words = "(coding.select(code | display) | text)";
  const enumOf = (values: readonly string[]) =>
    `select(iif(resourceType.exists(), iif(value.ofType(CodeableConcept).exists(), value.ofType(CodeableConcept).select${words}, iif(value.ofType(string).exists(), value.ofType(string), code.select${words})), (ofType(CodeableConcept).select${words} | ofType(Coding).select(code | display) | ofType(string)))).select(${values
      .map((v) => `iif(trim().lower() = ${fpString(v.toLowerCase())}, ${fpString(v)})`)
      .join(" | ")})`;
  const resourceCodes = (system: string) =>
    `select(iif(resourceType.exists(), iif(value.ofType(CodeableConcept).exists(), value.ofType(CodeableConcept), code).coding.where(system = ${systemUrl(system)}).code, $this)).${coded(system)}`;
  const isCode = (system: string) =>
    `(length() <= 20 and matches(${fpString(CODE_SYSTEMS[system]!.pattern.source)}))`;
  const rangeOf = (x: { min?: number; max?: number }): string | undefined => {
    const c = [
      ...(x.min !== undefined ? [`$this >= ${x.min}`] : []),
      ...(x.max !== undefined ? [`$this <= ${x.max}`] : []),
    ];
    return c.length > 0 ? c.join(" and ") : undefined;
  };
  const inRange = (x: { min?: number; max?: number }) => {
    const c = rangeOf(x);
    return c ? `.where(${c})` : "";
  };
  // One value: the newest item that gives one decides, and it must be of the declared type (an older
  // record does not stand in for it), as `prepopulate` reads it.
  switch (d.type) {
    case "boolean":
      return `${read}.${NEWEST_FIRST}.${VALUE_OF}.where(${IS_BOOLEAN}).first()`;
    case "number":
      return `${read}.${NEWEST_FIRST}.${VALUE_OF}.${numberIn(d.unit)}.first()${inRange(d)}`;
    case "integer":
      return `${read}.${NEWEST_FIRST}.${VALUE_OF}.${numberIn(d.unit)}.first().where($this = $this.round())${inRange(d)}`;
    case "numbers": {
      // A list: every member in range, or none proposed.
      const list = `${read}.${VALUE_OF}.${numberIn(d.unit)}`;
      const range = rangeOf(d);
      return range ? `iif(${list}.all(${range}), ${list}, {})` : list;
    }
    case "date":
      return `${read}.${NEWEST_FIRST}.select(iif(resourceType.exists(), (value.ofType(dateTime) | value.ofType(Period).start | ${RESOURCE_DATE}).first(), iif($this is Period, start, $this))).select(toString().substring(0, 10).toDate()).first()`;
    case "code":
      return `${read}.${NEWEST_FIRST}.${resourceCodes(d.system)}.first().where(${isCode(d.system)})`;
    case "enum":
      return `${read}.${NEWEST_FIRST}.${enumOf(d.values)}.first()`;
    case "set": {
      if (d.values) return `${read}.${enumOf(d.values)}.distinct()`;
      const list = `${read}.${resourceCodes(d.system!)}.distinct()`;
      return `iif(${list}.all(${isCode(d.system!)}), ${list}, {})`;
    }
  }
}

/** The canonical of the ValueSet of a fact's allowed values (enum, set of values), on this server. */
export function factValueSetUrl(baseUrl: string, policyId: string, version: string, fact: string): string {
  return `${trimBase(baseUrl)}/fhir/ValueSet/${factValueSetId(policyId, version, fact)}`;
}

/** `CP.MP.126-2025-04-provocativeTestsPositive` (`_` → `-`: FHIR ids have no `_`; fact names no `-`). */
export function factValueSetId(policyId: string, version: string, fact: string): string {
  return `${policyId}-${version}-${fact.replaceAll("_", "-")}`;
}

/** The code system of a fact's enum values (the value is the code). */
export function factCodeSystemUrl(baseUrl: string, policyId: string, fact: string): string {
  return `${trimBase(baseUrl)}/fhir/CodeSystem/${policyId}-${fact.replaceAll("_", "-")}`;
}

function trimBase(baseUrl: string): string {
  let b = baseUrl;
  while (b.endsWith("/")) b = b.slice(0, -1);
  return b;
}

/** What the fact items of a policy version's form need to know about it. */
export interface FactForm {
  baseUrl: string;
  policyId: string;
  version: string;
}

/**
 * The item that asks for one declared fact (`fact:<name>`): typed by the declaration (boolean,
 * decimal with unit and bounds, integer, date, code as text, enum/set values as `open-choice` from
 * the fact's ValueSet, lists repeating), with the fact's `initialExpression` when it declares where
 * the record holds it.
 */
export function factItem(d: FactDecl, form: FactForm): QuestionnaireItem {
  const extension: Extension[] = [];
  const item: QuestionnaireItem = {
    linkId: `${FACT_LINK_PREFIX}${d.name}`,
    text: d.description,
    type: "string",
  };
  const bounds = (integer: boolean, unit?: string, min?: number, max?: number) => {
    if (unit)
      extension.push({ url: QUESTIONNAIRE_UNIT, valueCoding: { system: UCUM, code: unit, display: unit } });
    if (min !== undefined)
      extension.push({ url: MIN_VALUE, ...(integer ? { valueInteger: min } : { valueDecimal: min }) });
    if (max !== undefined)
      extension.push({ url: MAX_VALUE, ...(integer ? { valueInteger: max } : { valueDecimal: max }) });
  };
  switch (d.type) {
    case "boolean":
      item.type = "boolean";
      break;
    case "number":
    case "numbers":
      item.type = "decimal";
      bounds(false, d.unit, d.min, d.max);
      if (d.type === "numbers") item.repeats = true;
      break;
    case "integer":
      item.type = "integer";
      bounds(true, d.unit, d.min, d.max);
      break;
    case "date":
      item.type = "date";
      break;
    case "code":
      item.type = "string";
      item.text = `${d.description} (${CODE_SYSTEMS[d.system]!.label} code)`;
      break;
    case "enum":
    case "set":
      if (d.values) {
        // open-choice: the Coding of the ValueSet, or the value as text (what an initialExpression gives).
        item.type = "open-choice";
        item.answerValueSet = factValueSetUrl(form.baseUrl, form.policyId, form.version, d.name);
      } else if (d.type === "set" && d.system !== undefined) {
        item.type = "string";
        item.text = `${d.description} (${CODE_SYSTEMS[d.system]!.label} codes)`;
      }
      if (d.type === "set") item.repeats = true;
      break;
  }
  const expression = initialExpressionOf(d);
  if (expression !== undefined)
    extension.push({ url: INITIAL_EXPRESSION, valueExpression: { language: FHIRPATH, expression } });
  if (extension.length > 0) item.extension = extension;
  return item;
}

/** The group of fact items (undefined when the version declares no facts). */
export function factGroup(facts: readonly FactDecl[], form: FactForm): QuestionnaireItem | undefined {
  if (facts.length === 0) return undefined;
  return {
    linkId: FACTS_GROUP_LINK_ID,
    type: "group",
    text: "Facts the policy reads (pre-populated from the patient's record where the policy says where to find them)",
    item: facts.map((d) => factItem(d, form)),
  };
}

/** The declared facts in a stable order (the vocabulary's). */
export function factsOf(vocabulary: Vocabulary): FactDecl[] {
  return [...vocabulary.values()];
}

/**
 * Adds population logic to a rendered Questionnaire (a copy): the fact group after the criteria, the
 * launch contexts and variables, and the narrative regenerated by the caller.
 */
export function withPopulation(q: Questionnaire, facts: readonly FactDecl[], form: FactForm): Questionnaire {
  const group = factGroup(facts, form);
  return {
    ...q,
    extension: [...(q.extension ?? []), ...populationExtensions(facts)],
    item: [...(q.item ?? []), ...(group ? [group] : [])],
  };
}

// ---------------------------------------------------------------------------------------------------
// Reading facts back from a QuestionnaireResponse.

function answerValue(d: FactDecl, a: QuestionnaireResponseItemAnswer): string | number | boolean | undefined {
  switch (d.type) {
    case "boolean":
      return a.valueBoolean;
    case "number":
    case "numbers":
      return a.valueDecimal ?? a.valueInteger ?? a.valueQuantity?.value;
    case "integer":
      return a.valueInteger;
    case "date":
      return a.valueDate;
    case "code":
      return a.valueString ?? a.valueCoding?.code;
    case "enum":
    case "set":
      return a.valueCoding?.code ?? a.valueString;
  }
}

/** An answer's value whatever its type (what is reported when it is not the declared one). */
function anyValue(a: QuestionnaireResponseItemAnswer): string | number | boolean | undefined {
  return (
    a.valueBoolean ??
    a.valueDecimal ??
    a.valueInteger ??
    a.valueDate ??
    a.valueDateTime ??
    a.valueString ??
    a.valueCoding?.code ??
    a.valueQuantity?.value
  );
}

/**
 * The facts a QuestionnaireResponse answers in its `fact:` items (issue 16), read by the version's
 * declarations (a Coding's code, a Quantity's value). Not checked here: a fact the version does not
 * declare or a value of the wrong type is passed on as given, so that the version's fact check
 * (`LibraryEntry.factCheck`) answers 400 naming it, as for the facts extension.
 */
export function factsFromResponse(qr: Pick<QuestionnaireResponse, "item">, vocabulary: Vocabulary): Facts {
  const out: Facts = {};
  const walk = (items: readonly QuestionnaireResponseItem[] | undefined, depth: number) => {
    if (!Array.isArray(items) || depth > 8) return;
    for (const it of items) {
      if (typeof it?.linkId !== "string") continue;
      if (it.linkId.startsWith(FACT_LINK_PREFIX)) {
        const name = it.linkId.slice(FACT_LINK_PREFIX.length);
        const d = vocabulary.get(name);
        if (!Array.isArray(it.answer)) continue;
        const values = (it.answer as QuestionnaireResponseItemAnswer[])
          .map((a) => (d ? (answerValue(d, a) ?? anyValue(a)) : anyValue(a)))
          .filter((v): v is string | number | boolean => v !== undefined);
        if (values.length === 0) continue;
        let v: FactValue;
        if (!d) v = values[0]!;
        else if (d.type === "set" || d.type === "numbers") {
          const seen = new Set<string>();
          const list: (string | number)[] = [];
          for (const x of values) {
            if (typeof x === "boolean") continue;
            const key = typeof x === "string" && d.type === "set" ? normalizeCode(d.system, x) : String(x);
            if (seen.has(key)) continue;
            seen.add(key);
            list.push(x);
          }
          v = list;
        } else v = values[0]!;
        out[name] = v;
      }
      walk(it.item, depth + 1);
    }
  };
  walk(qr.item, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Evaluating a Questionnaire's own expressions (what a DTR app does), over a patient Bundle.

/** What {@link populateFromBundle} evaluates with. */
export interface PopulationInput {
  /** The patient's record (any Bundle; resources of other patients are not queried). */
  record: Bundle;
  /** Launch contexts by name (`patient` is required). */
  launch: Partial<Record<"patient" | "encounter" | "user" | "coverage" | "order", Resource>>;
}

/** What a Questionnaire's expressions gave: answers by linkId, and the problems met. */
export interface Populated {
  answers: Record<string, unknown[]>;
  problems: string[];
}

type CompiledExpression = (resource: unknown, env: Record<string, unknown>) => unknown[];
/** Compiled expressions by text and result kind (the service's own forms: a bounded, small set). */
const compiledExpressions = new Map<string, CompiledExpression>();

/** Evaluates a FHIRPath expression, compiled once (parsing dominates the cost of evaluating). */
function evaluate(expression: string, env: Record<string, unknown>, resolve: boolean): unknown[] {
  const key = `${resolve ? "r" : "i"}${expression}`;
  let fn = compiledExpressions.get(key);
  if (!fn) {
    fn = fhirpath.compile(expression, r4, { resolveInternalTypes: resolve }) as unknown as CompiledExpression;
    if (compiledExpressions.size < 2000) compiledExpressions.set(key, fn);
  }
  return fn({ resourceType: "QuestionnaireResponse" }, env);
}

/** `Type?patient={{%patient.id}}` over a Bundle: that type's entries whose subject/patient is the patient. */
function runQuery(query: string, record: Bundle, env: Record<string, unknown>): Bundle {
  const q = query.replace(/\{\{([^{}]{1,200})\}\}/g, (_m, expr: string) => {
    const v = fhirpath.evaluate({}, expr, env, r4) as unknown[];
    return v.length > 0 ? String(v[0]) : "";
  });
  const qm = q.indexOf("?");
  const type = qm < 0 ? q : q.slice(0, qm);
  const params = new URLSearchParams(qm < 0 ? "" : q.slice(qm + 1));
  const patient = params.get("patient") ?? params.get("subject");
  const entries = (record.entry ?? []).filter((e) => {
    const r = e.resource as
      | (Resource & { subject?: { reference?: string }; patient?: { reference?: string } })
      | undefined;
    if (!r || r.resourceType !== type) return false;
    if (patient === null) return true;
    const ref = r.subject?.reference ?? r.patient?.reference;
    return ref === undefined || ref === `Patient/${patient}` || ref.endsWith(`/Patient/${patient}`);
  });
  return { resourceType: "Bundle", type: "searchset", total: entries.length, entry: entries };
}

/**
 * Pre-populates a Questionnaire by its own population logic, as a DTR app does (SDC expression-based
 * population): launch contexts bound, variables evaluated in order (`x-fhir-query` run against the
 * given record), then each item's `initialExpression`. Returns the values per linkId.
 */
export function populateFromBundle(q: Questionnaire, input: PopulationInput): Populated {
  const env: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const e of q.extension ?? []) {
    if (e.url !== LAUNCH_CONTEXT) continue;
    const name = e.extension?.find((x) => x.url === "name")?.valueCoding?.code;
    if (name) env[name] = input.launch[name as keyof PopulationInput["launch"]] ?? [];
  }
  for (const e of q.extension ?? []) {
    if (e.url !== VARIABLE || !e.valueExpression?.name || !e.valueExpression.expression) continue;
    const { name, language, expression } = e.valueExpression;
    try {
      env[name] =
        language === FHIR_QUERY
          ? runQuery(expression, input.record, env)
          : // Kept as FHIRPath values (a Date stays a Date for `%dateOfService - 6 months`).
            evaluate(expression, env, false);
    } catch (err) {
      problems.push(`variable ${name}: ${err instanceof Error ? err.message : String(err)}`);
      env[name] = [];
    }
  }
  const answers: Record<string, unknown[]> = {};
  const walk = (items: readonly QuestionnaireItem[] | undefined) => {
    for (const it of items ?? []) {
      const init = it.extension?.find((x) => x.url === INITIAL_EXPRESSION)?.valueExpression;
      if (init?.expression && init.language === FHIRPATH) {
        try {
          const v = evaluate(init.expression, env, true);
          if (v.length > 0) answers[it.linkId] = v;
        } catch (err) {
          problems.push(`${it.linkId}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      walk(it.item);
    }
  };
  walk(q.item);
  return { answers, problems };
}

/** Populated values as QuestionnaireResponse answers of the item's type. */
export function answersOf(
  item: QuestionnaireItem,
  values: readonly unknown[],
): QuestionnaireResponseItemAnswer[] {
  const out: QuestionnaireResponseItemAnswer[] = [];
  for (const v of values) {
    if (item.type === "boolean" && typeof v === "boolean") out.push({ valueBoolean: v });
    else if (item.type === "decimal" && typeof v === "number") out.push({ valueDecimal: v });
    else if (item.type === "integer" && Number.isInteger(v)) out.push({ valueInteger: v as number });
    else if (item.type === "date" && typeof v === "string") out.push({ valueDate: v });
    else if ((item.type === "string" || item.type === "open-choice") && typeof v === "string")
      out.push({ valueString: v });
    else if (item.type === "open-choice" && typeof v === "object" && v !== null)
      out.push({ valueCoding: v as Coding });
  }
  return item.repeats ? out : out.slice(0, 1);
}
