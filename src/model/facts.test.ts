/** Issue 15: facts are data — declarations, value checks, case errors and predicate type checks. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { bindingsSchema, type Predicate, predicateBindingSchema, predicateProblems } from "./bindings.js";
import { InputError } from "./errors.js";
import { type FactDecl, factChecker, factDeclSchema, factJsonSchema, valueCheck } from "./facts.js";

const decls: FactDecl[] = [
  { name: "bmi", type: "number", unit: "kg/m2", min: 10, max: 100, description: "Body mass index" },
  { name: "priorCycles", type: "integer", min: 0, description: "Prior treatment cycles" },
  { name: "lastScan", type: "date", description: "Date of the last scan" },
  { name: "principal", type: "code", system: "icd-10-cm", description: "Principal diagnosis" },
  { name: "tumorType", type: "enum", values: ["prostate", "breast"], description: "Tumor type" },
  { name: "tests", type: "set", values: ["a", "b", "c"], orCount: true, description: "Positive tests" },
  { name: "diagnoses", type: "set", system: "icd-10-cm", description: "Diagnoses" },
  { name: "reliefs", type: "numbers", min: 0, max: 100, unit: "%", description: "Relief per injection" },
  { name: "smoker", type: "boolean", description: "Current smoker" },
];
const vocab = new Map(decls.map((d) => [d.name, d]));
const by = (name: string) => valueCheck(vocab.get(name)!);

describe("declarations", () => {
  test("every declared type parses; a set needs values or a system, not both; min ≤ max", () => {
    for (const d of decls) assert.ok(factDeclSchema.safeParse(d).success, d.name);
    const bad = [
      { name: "s", type: "set", description: "no values" },
      { name: "s", type: "set", values: ["a"], system: "icd-10-cm", description: "both" },
      { name: "n", type: "number", min: 5, max: 1, description: "inverted" },
      { name: "Bad Name", type: "boolean", description: "spaces" },
      { name: "c", type: "code", system: "made-up", description: "unknown system" },
      { name: "x", type: "text", description: "unknown type" },
    ];
    for (const d of bad) assert.equal(factDeclSchema.safeParse(d).success, false, JSON.stringify(d));
  });
  test("bindings without facts still parse (a policy decided by answers only)", () => {
    assert.deepEqual(bindingsSchema.parse({ policy: "X" }).facts, []);
  });
});

describe("values", () => {
  test("each type accepts its values and refuses others", () => {
    const table: [string, unknown[], unknown[]][] = [
      ["bmi", [10, 41.1, 100], [9.9, 100.1, "41", true, null, [41]]],
      ["priorCycles", [0, 3], [1.5, -1, "3"]],
      ["lastScan", ["2024-02-29"], ["2025-02-29", "2025-1-01", 20250101]],
      ["principal", ["M43.16", "m4316", "G89.3"], ["M4", "43.16", "", 1]],
      ["tumorType", ["prostate"], ["Prostate", "lung", ["prostate"]]],
      ["tests", [["a", "c"], [], 2, 3], [["d"], 4, -1, 1.5, "a", ["a", "a"]]],
      // A set holds each member once, codes compared as their system compares them.
      ["diagnoses", [["M43.16", "E66.01"], []], [["not a code"], "M43.16", ["M43.16", "m4316"]]],
      ["reliefs", [[80, 74], []], [[101], [80, "74"], 80]],
      ["smoker", [true, false], ["true", 0]],
    ];
    for (const [name, good, bad] of table) {
      for (const v of good) assert.equal(by(name)(v), true, `${name} ${JSON.stringify(v)}`);
      for (const v of bad) assert.equal(by(name)(v), false, `${name} ${JSON.stringify(v)}`);
    }
  });
  test("a value the check accepts is one its JSON Schema describes (property, numbers)", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, min: -1000, max: 1000 }), (v) => {
        const s = factJsonSchema(vocab.get("bmi")!) as { minimum: number; maximum: number };
        assert.equal(by("bmi")(v), v >= s.minimum && v <= s.maximum);
      }),
    );
  });
});

describe("a case's facts against the policy's vocabulary", () => {
  const checker = factChecker({ id: "NCD.1", version: "2026-01" }, vocab);
  const error = (facts: Record<string, unknown>) => {
    try {
      checker.check(facts);
    } catch (e) {
      assert.ok(e instanceof InputError);
      return e;
    }
    return undefined;
  };
  test("declared facts of the right type pass", () => {
    assert.equal(error({ bmi: 41.1, tumorType: "breast", diagnoses: ["M43.16"] }), undefined);
    assert.equal(error({}), undefined);
  });
  test("an undeclared fact names the fact, the policy and what it reads", () => {
    const e = error({ bmi: 41, weight: 120 })!;
    assert.match(e.message, /facts\.weight: unknown fact for NCD\.1@2026-01/);
    assert.match(e.message, /it reads bmi, priorCycles/);
    assert.equal(e.where.field, "facts.weight");
    assert.equal(e.where.policy, "NCD.1");
  });
  test("a wrong type names the expected type, with unit and range", () => {
    const e = error({ bmi: "41.1" })!;
    assert.match(e.message, /facts\.bmi: must be a number \(kg\/m2, 10–100\) for NCD\.1@2026-01/);
    assert.match(error({ tumorType: "lung" })!.message, /must be one of "prostate", "breast"/);
    assert.match(error({ principal: "xx" })!.message, /must be a code of ICD-10-CM \(M43\.16\)/);
  });
  test("every problem is named, not only the first", () => {
    const e = error({ bmi: "x", weight: 1, smoker: "yes" })!;
    assert.equal(e.message.split("; ").length, 3);
  });
});

describe("predicates type-check against the vocabulary", () => {
  const problems = (p: Predicate) => predicateProblems(p, vocab);
  test("well-typed predicates pass", () => {
    for (const p of [
      { fact: "bmi", op: ">=", value: 35 },
      { fact: "bmi", between: [35, 40] },
      { fact: "tumorType", op: "==", value: "prostate" },
      { fact: "tumorType", in: ["prostate", "breast"] },
      { fact: "principal", in: ["M43.1*", "G89.3"] },
      { fact: "diagnoses", includesAny: ["E66.0*", "M43.16"] },
      { fact: "tests", count: ">=", value: 2 },
      { fact: "reliefs", countAtLeast: 75, min: 2 },
      { fact: "lastScan", within: { n: 30, unit: "days" } },
      { not: { fact: "smoker", op: "==", value: true } },
    ] as Predicate[])
      assert.deepEqual(problems(p), [], JSON.stringify(p));
  });
  test("an undeclared fact, or a test its type does not support, is named", () => {
    const cases: [Predicate, RegExp][] = [
      [{ fact: "weight", op: ">", value: 1 }, /"weight" is not declared/],
      [{ fact: "smoker", op: ">", value: 0 }, /"smoker" \(boolean\): compare with == or !=/],
      [{ fact: "bmi", op: ">=", value: "35" }, /compare with a number/],
      [{ fact: "tumorType", op: "==", value: "lung" }, /"lung" is not one of its values/],
      [{ fact: "tumorType", op: "<", value: "breast" }, /only == and != apply/],
      [{ fact: "bmi", includes: "x" }, /apply to a set/],
      [{ fact: "diagnoses", includes: "not a code" }, /is not a code of ICD-10-CM/],
      // A family only with in / includes, and only a prefix some code of the system can start with.
      [{ fact: "principal", op: "!=", value: "M43.1*" }, /a code family \(X\*\) goes with in or includes/],
      [{ fact: "diagnoses", excludes: ["M43.1.*"] }, /"M43\.1\.\*" is not a code of ICD-10-CM/],
      [{ fact: "diagnoses", includesAny: ["4*"] }, /"4\*" is not a code of ICD-10-CM/],
      [{ fact: "bmi", within: { n: 1, unit: "years" } }, /applies to a date/],
      [{ fact: "bmi", between: [40, 35] }, /low end is above/],
      [{ fact: "smoker", count: ">", value: 1 }, /count applies/],
      [
        { any: [{ fact: "bmi", op: ">", value: 1 }, { not: { fact: "nope", op: "==", value: true } }] },
        /"nope"/,
      ],
    ];
    for (const [p, re] of cases) assert.match(problems(p).join("; "), re, JSON.stringify(p));
  });
});

describe("fuzz", () => {
  const anyValue = fc.oneof(
    fc.anything(),
    fc.double(),
    fc.string({ maxLength: 30 }),
    fc.array(fc.oneof(fc.string({ maxLength: 12 }), fc.double(), fc.constant(null)), { maxLength: 5 }),
    fc.constantFrom("M43.16", "2026-02-29", "a", ["a", "b"], 3, -0, Number.NaN, Number.POSITIVE_INFINITY),
  );
  test("a value check answers true or false for any value, never throws", () => {
    fc.assert(
      fc.property(fc.constantFrom(...decls), anyValue, (d, v) => {
        assert.equal(typeof valueCheck(d)(v), "boolean");
      }),
    );
  });
  test("checking a case's facts accepts them or throws one InputError naming a fact, for any input", () => {
    const checker = factChecker({ id: "X", version: "2026-01" }, vocab);
    const names = fc.constantFrom(
      ...decls.map((d) => d.name),
      "other",
      "__proto__",
      "constructor",
      "toString",
    );
    fc.assert(
      fc.property(fc.dictionary(names, anyValue, { maxKeys: 6 }), (facts) => {
        try {
          checker.check(facts);
          for (const [k, v] of Object.entries(facts)) assert.ok(valueCheck(vocab.get(k)!)(v), k);
        } catch (e) {
          assert.ok(e instanceof InputError, String(e));
          assert.match(e.where.field ?? "", /^facts\./);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("predicate depth", () => {
  test("a predicate nested beyond the limit is bad input, not a stack overflow", () => {
    let p: unknown = { fact: "smoker", op: "==", value: true };
    for (let i = 0; i < 20_000; i++) p = { not: p };
    const r = predicateBindingSchema.safeParse({ match: "abc", when: p });
    assert.equal(r.success, false);
    assert.match(r.error!.issues[0]!.message, /nested more than 32 levels deep/);
    let q: unknown = { fact: "smoker", op: "==", value: true };
    for (let i = 0; i < 20; i++) q = { any: [q] };
    assert.equal(predicateBindingSchema.safeParse({ match: "abc", when: q }).success, true);
  });
});
