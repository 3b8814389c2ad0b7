/**
 * Issue 16: the DTR population logic generated from declared facts. Each fact type's FHIRPath
 * initialExpression, evaluated by {@link populateFromBundle} as a DTR app would, proposes what the
 * service's own pre-population (`prepopulate`) proposes from the same record; facts answered in
 * `fact:` items are read back typed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Bundle, Questionnaire, Resource } from "@medplum/fhirtypes";
import fc from "fast-check";
import { type FactDecl, factDeclSchema } from "../../model/index.js";
import {
  answersOf,
  factItem,
  factsFromResponse,
  fpString,
  initialExpressionOf,
  populateFromBundle,
  populationExtensions,
  typesRead,
  withPopulation,
} from "./dtr-population.js";
import { prepopulate } from "./prepopulate.js";

const decl = (d: unknown): FactDecl => factDeclSchema.parse(d);
const OBS = (label: string) =>
  `Bundle.entry.resource.ofType(Observation).where(code.text.lower().contains(${fpString(label)}))`;

const DECLS: FactDecl[] = [
  decl({
    name: "bmi",
    type: "number",
    unit: "kg/m2",
    min: 10,
    max: 90,
    description: "Body mass index",
    fhirPath: OBS("bmi"),
  }),
  decl({
    name: "ageMonths",
    type: "number",
    unit: "mo",
    description: "Age of the thing",
    fhirPath: OBS("duration"),
  }),
  decl({
    name: "relief",
    type: "numbers",
    unit: "%",
    min: 0,
    max: 100,
    description: "Relief per injection",
    fhirPath: OBS("relief"),
  }),
  decl({ name: "tests", type: "integer", min: 0, description: "Positive tests", fhirPath: OBS("tests") }),
  decl({ name: "smoker", type: "boolean", description: "Current smoker", fhirPath: OBS("smoker") }),
  decl({
    name: "imagingDate",
    type: "date",
    description: "Latest imaging",
    fhirPath: "Bundle.entry.resource.ofType(Procedure).where(code.text = 'MRI')",
  }),
  decl({
    name: "diagnosis",
    type: "code",
    system: "icd-10-cm",
    description: "Principal diagnosis",
    fhirPath: "Bundle.entry.resource.ofType(Condition)",
  }),
  decl({
    name: "grade",
    type: "enum",
    values: ["I", "II", "III"],
    description: "Grade",
    fhirPath: OBS("grade"),
  }),
  decl({
    name: "positive_tests",
    type: "set",
    values: ["thigh thrust", "compression"],
    description: "Positive tests",
    fhirPath: OBS("provocative"),
  }),
  decl({ name: "noPath", type: "boolean", description: "Asked, never read" }),
];

const obs = (id: string, label: string, value: Record<string, unknown>, at?: string): Resource =>
  ({
    resourceType: "Observation",
    id,
    status: "final",
    subject: { reference: "Patient/p1" },
    code: { text: label },
    ...(at && { effectiveDateTime: at }),
    ...value,
  }) as Resource;

const RECORD: Resource[] = [
  obs(
    "bmi-old",
    "BMI",
    { valueQuantity: { value: 30, unit: "kg/m2", system: "http://unitsofmeasure.org", code: "kg/m2" } },
    "2025-01-01",
  ),
  obs(
    "bmi-new",
    "BMI",
    { valueQuantity: { value: 41.5, unit: "kg/m2", system: "http://unitsofmeasure.org", code: "kg/m2" } },
    "2026-01-01",
  ),
  obs("dur", "Duration", { valueQuantity: { value: 2, unit: "years" } }, "2026-01-01"),
  obs("r1", "Relief 1", { valueQuantity: { value: 80, unit: "%" } }, "2026-01-01"),
  obs("r2", "Relief 2", { valueQuantity: { value: 74, unit: "percent" } }, "2026-01-02"),
  obs("t", "Tests", { valueInteger: 3 }, "2026-01-01"),
  obs("s", "Smoker", { valueBoolean: false }, "2026-01-01"),
  obs("g", "Grade", { valueCodeableConcept: { text: "ii" } }, "2026-01-01"),
  obs(
    "p",
    "Provocative tests",
    { valueCodeableConcept: { coding: [{ display: "Compression" }, { display: "Thigh Thrust" }] } },
    "2026-01-01",
  ),
  {
    resourceType: "Procedure",
    id: "mri",
    status: "completed",
    subject: { reference: "Patient/p1" },
    code: { text: "MRI" },
    performedDateTime: "2025-12-20T10:00:00Z",
  } as Resource,
  {
    resourceType: "Condition",
    id: "dx",
    subject: { reference: "Patient/p1" },
    code: { coding: [{ system: "http://hl7.org/fhir/sid/icd-10-cm", code: "M43.16" }] },
  } as Resource,
  // Another patient's resource is never read (the query is the patient's).
  {
    ...obs("other", "BMI", { valueQuantity: { value: 19, code: "kg/m2" } }, "2026-06-01"),
    subject: { reference: "Patient/p2" },
  } as Resource,
];

const bundleOf = (resources: Resource[]): Bundle => ({
  resourceType: "Bundle",
  type: "collection",
  entry: resources.map((resource) => ({ resource })),
});

const FORM = { baseUrl: "https://payer.example", policyId: "X.1", version: "2026-01" };

describe("DTR population logic (issue 16)", () => {
  test("each fact type's initialExpression proposes what prepopulate proposes", () => {
    const q = withPopulation(
      {
        resourceType: "Questionnaire",
        status: "active",
        item: [{ linkId: "A", type: "boolean", text: "A" }],
      },
      DECLS,
      FORM,
    );
    const pop = populateFromBundle(q, {
      record: bundleOf(RECORD),
      launch: { patient: { resourceType: "Patient", id: "p1" } },
    });
    assert.deepEqual(pop.problems, []);
    const mine = RECORD.filter(
      (r) => (r as { subject?: { reference?: string } }).subject?.reference === "Patient/p1",
    );
    const pre = prepopulate(mine, new Map(), { facts: DECLS });
    const expected: Record<string, unknown[]> = {};
    for (const [k, v] of Object.entries(pre.facts)) expected[`fact:${k}`] = Array.isArray(v) ? v : [v];
    assert.deepEqual(pop.answers, expected);
    // The values themselves (so that a change to both sides cannot pass unnoticed).
    assert.deepEqual(pop.answers, {
      "fact:bmi": [41.5],
      "fact:ageMonths": [24],
      "fact:relief": [80, 74],
      "fact:tests": [3],
      "fact:smoker": [false],
      "fact:imagingDate": ["2025-12-20"],
      "fact:diagnosis": ["M43.16"],
      "fact:grade": ["II"],
      "fact:positive_tests": ["compression", "thigh thrust"],
    });
  });

  test("a fact without fhirPath gets an item without initialExpression; items are typed by the declaration", () => {
    const byName = new Map(DECLS.map((d) => [d.name, factItem(d, FORM)]));
    assert.equal(byName.get("noPath")!.extension, undefined);
    assert.equal(initialExpressionOf(DECLS.at(-1)!), undefined);
    assert.equal(byName.get("bmi")!.type, "decimal");
    assert.deepEqual(
      byName.get("bmi")!.extension!.map((e) => e.url.split("/").pop()),
      ["questionnaire-unit", "minValue", "maxValue", "sdc-questionnaire-initialExpression"],
    );
    assert.equal(byName.get("tests")!.type, "integer");
    assert.equal(byName.get("imagingDate")!.type, "date");
    assert.equal(byName.get("diagnosis")!.type, "string");
    assert.equal(byName.get("relief")!.repeats, true);
    const set = byName.get("positive_tests")!;
    assert.equal(set.type, "open-choice");
    assert.equal(set.repeats, true);
    assert.equal(set.answerValueSet, "https://payer.example/fhir/ValueSet/X.1-2026-01-positive-tests");
    assert.deepEqual(answersOf(set, ["compression", "thigh thrust"]), [
      { valueString: "compression" },
      { valueString: "thigh thrust" },
    ]);
  });

  test("queries: one x-fhir-query per resource type the expressions read; launch contexts", () => {
    assert.deepEqual(
      typesRead("Bundle.entry.resource.ofType(Observation) | x.ofType( Procedure ).ofType(Quantity)"),
      ["Observation", "Procedure", "Quantity"],
    );
    const ext = populationExtensions(DECLS);
    const vars = ext.filter((e) => e.url.endsWith("/variable")).map((e) => e.valueExpression!);
    assert.deepEqual(
      vars.map((v) => [v.name, v.language]),
      [
        ["recordObservation", "application/x-fhir-query"],
        ["recordProcedure", "application/x-fhir-query"],
        ["recordCondition", "application/x-fhir-query"],
        ["record", "text/fhirpath"],
        ["dateOfService", "text/fhirpath"],
      ],
    );
    assert.equal(vars[3]!.expression, "%recordObservation | %recordProcedure | %recordCondition");
    assert.equal(ext.filter((e) => e.url.endsWith("launchContext")).length, 5);
    // No fact read from the record: no query, no %record; the date of service still.
    const none = populationExtensions([DECLS.at(-1)!]).filter((e) => e.url.endsWith("/variable"));
    assert.deepEqual(
      none.map((e) => e.valueExpression?.name),
      ["dateOfService"],
    );
  });

  test("%dateOfService is the order's date, else today; a fact's expression may use it", () => {
    const d = decl({
      name: "recent",
      type: "boolean",
      description: "Imaging within 6 months of the date of service",
      fhirPath:
        "Bundle.entry.resource.ofType(Procedure).where(performed.ofType(dateTime).toString().substring(0, 10).toDate() >= %dateOfService - 6 months).exists()",
    });
    const q = withPopulation({ resourceType: "Questionnaire", status: "active" } as Questionnaire, [d], FORM);
    const run = (when: string) =>
      populateFromBundle(q, {
        record: bundleOf(RECORD),
        launch: {
          patient: { resourceType: "Patient", id: "p1" },
          order: {
            resourceType: "ServiceRequest",
            status: "active",
            intent: "order",
            subject: { reference: "Patient/p1" },
            occurrenceDateTime: when,
          } as Resource,
        },
      }).answers["fact:recent"];
    assert.deepEqual(run("2026-03-01T09:00:00Z"), [true]);
    assert.deepEqual(run("2027-03-01"), [false]);
  });

  test("facts answered in fact: items are read by their declaration; unknown facts and wrong types are passed on for the fact check", () => {
    const vocabulary = new Map(DECLS.map((d) => [d.name, d]));
    const facts = factsFromResponse(
      {
        item: [
          {
            linkId: "facts",
            item: [
              { linkId: "fact:bmi", answer: [{ valueDecimal: 35 }] },
              { linkId: "fact:tests", answer: [{ valueInteger: 2 }] },
              { linkId: "fact:grade", answer: [{ valueCoding: { code: "III" } }] },
              {
                linkId: "fact:positive_tests",
                answer: [{ valueString: "compression" }, { valueCoding: { code: "compression" } }],
              },
              { linkId: "fact:relief", answer: [{ valueDecimal: 140 }] },
              { linkId: "fact:unknown", answer: [{ valueBoolean: true }] },
              { linkId: "fact:smoker", answer: [{ valueString: "no" }] },
            ],
          },
        ],
      },
      vocabulary,
    );
    assert.deepEqual(facts, {
      bmi: 35,
      tests: 2,
      grade: "III",
      positive_tests: ["compression"],
      relief: [140],
      unknown: true,
      smoker: "no",
    });
  });

  test("fpString escapes quotes and backslashes", () => {
    assert.equal(fpString("it's a \\ test"), "'it\\'s a \\\\ test'");
  });
});

describe("DTR population logic agrees with prepopulate over random records (issue 16)", () => {
  const q = withPopulation({ resourceType: "Questionnaire", status: "active" } as Questionnaire, DECLS, FORM);
  const vocabulary = DECLS;
  const date = fc.option(
    fc.constantFrom(
      "2025-01-01",
      "2025-06-30",
      "2026-01-01",
      "2026-01-01T08:00:00Z",
      "2026-01-01T09:30:00+02:00",
    ),
    { nil: undefined },
  );
  const value = fc.oneof(
    fc.record({
      valueQuantity: fc.record({
        value: fc.integer({ min: -5, max: 120 }),
        unit: fc.constantFrom("kg/m2", "years", "months", "%", "percent", "lbs"),
      }),
    }),
    fc.record({
      valueQuantity: fc.record({
        value: fc.integer({ min: 0, max: 50 }),
        system: fc.constant("http://unitsofmeasure.org"),
        code: fc.constantFrom("kg/m2", "a", "mo", "%", "wk"),
      }),
    }),
    fc.record({ valueInteger: fc.integer({ min: -2, max: 8 }) }),
    fc.record({ valueBoolean: fc.boolean() }),
    fc.record({ valueString: fc.constantFrom("II", "iii", "compression", "x") }),
    fc.record({
      valueCodeableConcept: fc.record({ text: fc.constantFrom("ii", "I", "Thigh thrust", "none") }),
    }),
  );
  const observation = fc.record({
    label: fc.constantFrom("bmi", "duration", "relief", "tests", "smoker", "grade", "provocative"),
    value,
    at: date,
  });
  test("the same facts, value for value", () => {
    fc.assert(
      fc.property(fc.array(observation, { maxLength: 8 }), (list) => {
        const record = list.map((o, i) => obs(`o${i}`, o.label, o.value, o.at));
        const pop = populateFromBundle(q, {
          record: bundleOf(record),
          launch: { patient: { resourceType: "Patient", id: "p1" } },
        });
        assert.deepEqual(pop.problems, []);
        const pre = prepopulate(record, new Map(), { facts: vocabulary });
        const expected: Record<string, unknown[]> = {};
        for (const [k, v] of Object.entries(pre.facts)) expected[`fact:${k}`] = Array.isArray(v) ? v : [v];
        // prepopulate keeps six significant digits of a converted quantity; FHIRPath keeps them all.
        const six = (a: Record<string, unknown[]>) =>
          Object.fromEntries(
            Object.entries(a).map(([k, v]) => [
              k,
              v.map((x) => (typeof x === "number" ? Number(x.toPrecision(6)) : x)),
            ]),
          );
        assert.deepEqual(six(pop.answers), six(expected));
      }),
      { numRuns: 150 },
    );
  });
});
