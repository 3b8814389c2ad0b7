/**
 * DTR pre-population from declared facts (issue 15 item 2 "facts are data"): each fact's `fhirPath`
 * over the record, the most recent resource deciding, UCUM unit conversion, dates from Procedures,
 * code sets from Conditions, `%dateOfService`, and values of the wrong type left out.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Procedure, Resource } from "@medplum/fhirtypes";
import { bindingsSchema, type FactDecl } from "../../model/index.js";
import { convertible, fhirPathProblem, isDimensionless, prepopulate, UNIT_SYNONYMS } from "./prepopulate.js";

const LOINC = "http://loinc.org";
const UCUM = "http://unitsofmeasure.org";
const ICD = "http://hl7.org/fhir/sid/icd-10-cm";

/** Observations with this LOINC code, not cancelled or in error. */
const byLoinc = (code: string) =>
  `Bundle.entry.resource.ofType(Observation).where(status != 'entered-in-error' and status != 'cancelled').where(code.coding.where(system = '${LOINC}' and code = '${code}').exists())`;

/** A small policy's bindings as an author writes them (parsed as the library parses bindings.json). */
const bindings = bindingsSchema.parse({
  policy: "TEST.NCD.1",
  codes: [{ codes: ["99183"], section: "I" }],
  facts: [
    {
      name: "bmi",
      type: "number",
      unit: "kg/m2",
      min: 5,
      max: 150,
      description: "Body mass index",
      fhirPath: byLoinc("39156-5"),
    },
    {
      name: "oxygenSaturation",
      type: "number",
      unit: "%",
      min: 0,
      max: 100,
      description: "Arterial oxygen saturation by pulse oximetry",
      fhirPath: byLoinc("59408-5"),
    },
    {
      name: "weightKg",
      type: "number",
      unit: "kg",
      min: 0,
      description: "Body weight",
      fhirPath: byLoinc("29463-7"),
    },
    {
      name: "lastColonoscopy",
      type: "date",
      description: "Date of the last colonoscopy",
      fhirPath:
        "Bundle.entry.resource.ofType(Procedure).where(status = 'completed').where(code.coding.where(code = '45378').exists())",
    },
    {
      name: "diagnoses",
      type: "set",
      system: "icd-10-cm",
      description: "Active diagnoses",
      fhirPath:
        "Bundle.entry.resource.ofType(Condition).where(clinicalStatus.exists().not() or clinicalStatus.coding.code = 'active')",
    },
    {
      name: "principalDiagnosis",
      type: "code",
      system: "icd-10-cm",
      description: "The principal diagnosis",
      fhirPath:
        "Bundle.entry.resource.ofType(Condition).code.coding.where(system = 'http://hl7.org/fhir/sid/icd-10-cm').code.first()",
    },
    {
      name: "smokingStatus",
      type: "enum",
      values: ["never", "former", "current"],
      description: "Tobacco smoking status",
      fhirPath: byLoinc("72166-2"),
    },
    {
      name: "onOxygen",
      type: "boolean",
      description: "On home oxygen",
      fhirPath: "Bundle.entry.resource.ofType(DeviceRequest).where(status = 'active').exists()",
    },
    {
      name: "recentImaging",
      type: "boolean",
      description: "Imaging within six months before the date of service",
      fhirPath:
        "Bundle.entry.resource.ofType(ImagingStudy).where(started >= %dateOfService - 6 months).exists()",
    },
    {
      name: "imagingDate",
      type: "date",
      description: "Date of the latest imaging study",
      fhirPath: "Bundle.entry.resource.ofType(ImagingStudy)",
    },
    {
      name: "systolicReadings",
      type: "numbers",
      unit: "mm[Hg]",
      min: 40,
      max: 300,
      description: "Systolic blood pressures",
      fhirPath: byLoinc("8480-6"),
    },
    { name: "painScore", type: "integer", min: 0, max: 10, description: "Pain score, 0-10" },
  ],
  predicates: [],
});
const facts: FactDecl[] = bindings.facts;
const only = (...names: string[]) => facts.filter((d) => names.includes(d.name));
const NO_QUESTIONS = new Map();

function obs(
  id: string,
  loinc: string,
  value: Record<string, unknown>,
  at = "2026-01-10",
  status = "final",
): Resource {
  return {
    resourceType: "Observation",
    id,
    status,
    code: { coding: [{ system: LOINC, code: loinc }] },
    effectiveDateTime: at,
    ...value,
  } as Resource;
}

describe("pre-population from declared facts (FHIRPath)", () => {
  test("numbers in the declared unit: UCUM conversion, the most recent observation decides", () => {
    const record = [
      obs(
        "bmi-old",
        "39156-5",
        { valueQuantity: { value: 33.2, unit: "kg/m2", system: UCUM, code: "kg/m2" } },
        "2025-06-01",
      ),
      obs("bmi-new", "39156-5", { valueQuantity: { value: 41.1, unit: "kg/m^2" } }, "2026-01-05"),
      obs("spo2", "59408-5", { valueQuantity: { value: 86, unit: "%", system: UCUM, code: "%" } }),
      obs("wt", "29463-7", { valueQuantity: { value: 220, unit: "lb", system: UCUM, code: "[lb_av]" } }),
      obs(
        "bmi-void",
        "39156-5",
        { valueQuantity: { value: 20, code: "kg/m2" } },
        "2026-02-01",
        "entered-in-error",
      ),
    ];
    const p = prepopulate(record, NO_QUESTIONS, { facts: only("bmi", "oxygenSaturation", "weightKg") });
    assert.deepEqual(p.facts, { bmi: 41.1, oxygenSaturation: 86, weightKg: 99.7903 });
    assert.deepEqual(p.sources, {
      bmi: ["Observation/bmi-new"],
      oxygenSaturation: ["Observation/spo2"],
      weightKg: ["Observation/wt"],
    });
    assert.equal(p.problems, undefined);
  });

  test("a quantity of another dimension, or a unitless one for a dimensioned unit, is skipped", () => {
    const lifeExpectancy: FactDecl = {
      name: "lifeExpectancyMonths",
      type: "number",
      unit: "mo",
      min: 0,
      description: "Life expectancy",
      fhirPath: "Bundle.entry.resource.ofType(Observation)",
    };
    const read = (value: Record<string, unknown>) =>
      prepopulate([obs("le", "x", value)], NO_QUESTIONS, { facts: [lifeExpectancy] }).facts;
    assert.deepEqual(read({ valueQuantity: { value: 2, system: UCUM, code: "a" } }), {
      lifeExpectancyMonths: 24,
    });
    assert.deepEqual(read({ valueQuantity: { value: 3, unit: "years" } }), { lifeExpectancyMonths: 36 });
    assert.deepEqual(read({ valueQuantity: { value: 14, unit: "months" } }), { lifeExpectancyMonths: 14 });
    assert.deepEqual(read({ valueQuantity: { value: 365.25, unit: "days" } }), { lifeExpectancyMonths: 12 });
    assert.deepEqual(read({ valueQuantity: { value: 2, code: "kg" } }), {}, "not a duration");
    assert.deepEqual(read({ valueQuantity: { value: 2 } }), {}, "no unit: months cannot be assumed");
    assert.deepEqual(read({ valueInteger: 2 }), {}, "an integer has no unit either");
    assert.deepEqual(read({ valueQuantity: { value: 2, unit: "fortnights" } }), {}, "an unknown unit");
    // A percentage may be written without its unit (dimensionless).
    const pct = prepopulate([obs("s", "59408-5", { valueInteger: 91 })], NO_QUESTIONS, {
      facts: only("oxygenSaturation"),
    });
    assert.deepEqual(pct.facts, { oxygenSaturation: 91 });
  });

  test("a value of the wrong type or out of range is not pre-populated", () => {
    const record = [
      obs("bmi-text", "39156-5", { valueString: "obese" }, "2026-01-09"),
      obs("spo2", "59408-5", { valueQuantity: { value: 130, code: "%" } }),
      obs("smoke", "72166-2", { valueCodeableConcept: { text: "occasionally" } }),
      obs("sys", "8480-6", { valueQuantity: { value: 120, code: "mm[Hg]" } }, "2026-01-01"),
      obs("sys2", "8480-6", { valueQuantity: { value: 900, code: "mm[Hg]" } }, "2026-01-02"),
    ];
    const p = prepopulate(record, NO_QUESTIONS, {
      facts: only("bmi", "oxygenSaturation", "smokingStatus", "systolicReadings"),
    });
    assert.deepEqual(p.facts, {}, "a string for a number, 130 %, an enum not declared, a list with 900 mmHg");
    assert.deepEqual(p.sources, {});
    // The newest observation decides even when it is unusable: an older one does not stand in for it.
    const newest = prepopulate(
      [
        obs("old", "59408-5", { valueQuantity: { value: 90, code: "%" } }, "2025-01-01"),
        obs("new", "59408-5", { valueQuantity: { value: 130, code: "%" } }, "2026-01-01"),
      ],
      NO_QUESTIONS,
      { facts: only("oxygenSaturation") },
    );
    assert.deepEqual(newest.facts, {});
    // A boolean expression selecting a number, a date fact given a code: nothing.
    const wrong: FactDecl[] = [
      { name: "flag", type: "boolean", description: "x x x", fhirPath: "1" },
      { name: "when", type: "date", description: "x x x", fhirPath: "'M43.16'" },
      { name: "count", type: "integer", description: "x x x", fhirPath: "2.5" },
    ];
    assert.deepEqual(prepopulate([], NO_QUESTIONS, { facts: wrong }).facts, {});
  });

  test("a date fact from a Procedure (its performed date), an ImagingStudy's start; %dateOfService", () => {
    /** A colonoscopy (CPT 45378) of the patient, with its status and when it was performed. */
    const colonoscopy = (
      id: string,
      status: Procedure["status"],
      performed: Pick<Procedure, "performedDateTime" | "performedPeriod">,
    ): Resource => ({
      resourceType: "Procedure",
      id,
      status,
      subject: { reference: "Patient/p" },
      code: { coding: [{ system: "http://www.ama-assn.org/go/cpt", code: "45378" }] },
      ...performed,
    });
    const record: Resource[] = [
      colonoscopy("colo1", "completed", { performedDateTime: "2019-04-02T09:30:00-05:00" }),
      colonoscopy("colo2", "completed", { performedPeriod: { start: "2024-11-20", end: "2024-11-20" } }),
      colonoscopy("colo3", "not-done", { performedDateTime: "2025-12-01" }),
      {
        resourceType: "ImagingStudy",
        id: "ct1",
        status: "available",
        subject: { reference: "Patient/p" },
        started: "2025-09-15T10:00:00Z",
      },
    ];
    const facts1 = only("lastColonoscopy", "recentImaging", "imagingDate");
    const p = prepopulate(record, NO_QUESTIONS, { facts: facts1, dateOfService: "2026-01-15" });
    assert.deepEqual(p.facts, {
      lastColonoscopy: "2024-11-20",
      recentImaging: true,
      imagingDate: "2025-09-15",
    });
    assert.deepEqual(p.sources.lastColonoscopy, ["Procedure/colo2"]);
    const later = prepopulate(record, NO_QUESTIONS, { facts: facts1, dateOfService: "2026-06-01" });
    assert.equal(later.facts.recentImaging, false, "%dateOfService is a date: minus 6 months is 2025-12-01");
    // Unbound (no date of service): the expression fails, is reported, and the fact is left out.
    const unbound = prepopulate(record, NO_QUESTIONS, { facts: only("recentImaging") });
    assert.deepEqual(unbound.facts, {});
    assert.match(unbound.problems?.recentImaging ?? "", /dateOfService/);
  });

  test("a code set from Conditions (ICD-10-CM), one code, an enum from a coded value, a boolean", () => {
    const condition = (id: string, codes: [string, string][], status?: string): Resource =>
      ({
        resourceType: "Condition",
        id,
        subject: { reference: "Patient/p" },
        ...(status && { clinicalStatus: { coding: [{ code: status }] } }),
        code: { coding: codes.map(([system, code]) => ({ system, code })) },
      }) as Resource;
    const record: Resource[] = [
      condition("c1", [
        [ICD, "E66.01"],
        ["http://snomed.info/sct", "238136002"],
      ]),
      condition("c2", [["http://hl7.org/fhir/sid/icd-10", "J44.9"]], "active"),
      condition("c3", [[ICD, "E6601"]], "active"),
      condition("c4", [[ICD, "I10"]], "resolved"),
      condition("c5", [["http://snomed.info/sct", "73211009"]]),
      obs("smoke", "72166-2", {
        valueCodeableConcept: {
          coding: [{ system: "http://snomed.info/sct", code: "8517006", display: "Former" }],
        },
      }),
      {
        resourceType: "DeviceRequest",
        id: "o2",
        status: "active",
        intent: "order",
        subject: { reference: "Patient/p" },
        codeCodeableConcept: { text: "home oxygen" },
      },
    ];
    const p = prepopulate(record, NO_QUESTIONS, {
      facts: only("diagnoses", "principalDiagnosis", "smokingStatus", "onOxygen"),
    });
    assert.deepEqual(p.facts, {
      diagnoses: ["E66.01", "J44.9"],
      principalDiagnosis: "E66.01",
      smokingStatus: "former",
      onOxygen: true,
    });
    assert.deepEqual(p.sources.diagnoses, ["Condition/c1", "Condition/c2", "Condition/c3"]);
    assert.deepEqual(p.sources.smokingStatus, ["Observation/smoke"]);
    // A malformed code spoils the set rather than being silently dropped from it.
    const bad = prepopulate([condition("x", [[ICD, "not a code"]])], NO_QUESTIONS, {
      facts: only("diagnoses"),
    });
    assert.deepEqual(bad.facts, {});
    // Nothing found: nothing proposed (not an empty set).
    assert.deepEqual(prepopulate([], NO_QUESTIONS, { facts: only("diagnoses", "bmi") }).facts, {});
  });

  test("primitive results map directly; facts without fhirPath and broken expressions are left out", () => {
    const direct: FactDecl[] = [
      { name: "n", type: "number", unit: "mo", description: "x x x", fhirPath: "2 years" },
      { name: "m", type: "number", description: "x x x", fhirPath: "7.5" },
      { name: "b", type: "boolean", description: "x x x", fhirPath: "true" },
      { name: "d", type: "date", description: "x x x", fhirPath: "@2025-03-04T10:00:00Z" },
      { name: "c", type: "code", system: "cpt", description: "x x x", fhirPath: "'27279'" },
      { name: "s", type: "set", values: ["a", "b"], description: "x x x", fhirPath: "'a' | 'B'" },
      { name: "broken", type: "boolean", description: "x x x", fhirPath: "Bundle.entry.(" },
    ];
    const p = prepopulate([], NO_QUESTIONS, { facts: [...direct, ...only("painScore")] });
    assert.deepEqual(p.facts, { n: 24, m: 7.5, b: true, d: "2025-03-04", c: "27279", s: ["a", "b"] });
    assert.deepEqual(Object.keys(p.problems ?? {}), ["broken"]);
    assert.equal(fhirPathProblem("Bundle.entry.("), p.problems?.broken?.replace(/^fhirPath: /, ""));
    assert.equal(fhirPathProblem(byLoinc("39156-5")), undefined);
  });

  test("a vocabulary (Map) is read like a list", () => {
    const vocabulary = new Map(only("oxygenSaturation").map((d) => [d.name, d]));
    const p = prepopulate(
      [obs("s", "59408-5", { valueQuantity: { value: 0.88, code: "1" } })],
      NO_QUESTIONS,
      {
        facts: vocabulary,
      },
    );
    assert.deepEqual(p.facts, { oxygenSaturation: 88 }, "a fraction converted to %");
  });
});

describe("units shared with the DTR initialExpressions (issue 16)", () => {
  test("convertible: UCUM commensurability, unit words read as their UCUM code", () => {
    assert.ok(convertible("a", "mo") && convertible("years", "mo") && convertible("[lb_av]", "kg"));
    assert.ok(!convertible("kg", "mo") && !convertible("%", "kg/m2") && !convertible("nonsense", "mo"));
    assert.ok(isDimensionless("%") && !isDimensionless("mo"));
    assert.equal(UNIT_SYNONYMS.years, "a");
    for (const ucum of Object.values(UNIT_SYNONYMS)) assert.ok(convertible(ucum, ucum), ucum);
  });
});
