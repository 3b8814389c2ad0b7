/**
 * Issue 15: the full predicate operator set (SPEC 2.3) — equality and order, membership, sets, ranges,
 * spans of days, months and years before the date of service, `not` — checked by example at each edge
 * and by property against the operators they must agree with.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { FactDecl, Facts, Predicate } from "../model/index.js";
import { formatDay, minusDays, parseDay } from "./dates.js";
import { compilePredicate } from "./predicates.js";
import { F, not, T, U } from "./tri.js";

const DOS = parseDay("2026-03-01")!;
const VOCAB = new Map<string, FactDecl>([
  ["bmi", { name: "bmi", type: "number", unit: "kg/m2", min: 10, max: 100, description: "Body mass index" }],
  [
    "tumorType",
    { name: "tumorType", type: "enum", values: ["prostate", "breast", "lung"], description: "Tumor" },
  ],
  ["principal", { name: "principal", type: "code", system: "icd-10-cm", description: "Principal diagnosis" }],
  ["diagnoses", { name: "diagnoses", type: "set", system: "icd-10-cm", description: "Diagnoses" }],
  ["lastScan", { name: "lastScan", type: "date", description: "Last scan" }],
  ["smoker", { name: "smoker", type: "boolean", description: "Smokes" }],
]);
const check = (p: Predicate, facts: Facts, dos = DOS) => compilePredicate(p, VOCAB)(facts, dos);

describe("comparisons", () => {
  test("!= is the complement of == when the fact is known, unknown when it is not", () => {
    assert.equal(check({ fact: "bmi", op: "!=", value: 35 }, { bmi: 35 }), F);
    assert.equal(check({ fact: "bmi", op: "!=", value: 35 }, { bmi: 35.1 }), T);
    assert.equal(check({ fact: "bmi", op: "!=", value: 35 }, {}), U);
    assert.equal(check({ fact: "smoker", op: "!=", value: true }, { smoker: false }), T);
    assert.equal(check({ fact: "tumorType", op: "!=", value: "prostate" }, { tumorType: "lung" }), T);
  });
  test("a value of the wrong type is unknown, never coerced", () => {
    assert.equal(check({ fact: "bmi", op: ">=", value: 35 }, { bmi: "41" }), U);
    assert.equal(check({ fact: "smoker", op: "==", value: true }, { smoker: 1 }), U);
  });
  test("dates compare as days", () => {
    assert.equal(check({ fact: "lastScan", op: ">=", value: "2026-01-01" }, { lastScan: "2026-01-01" }), T);
    assert.equal(check({ fact: "lastScan", op: "<", value: "2026-01-01" }, { lastScan: "2025-12-31" }), T);
    assert.equal(check({ fact: "lastScan", op: "<", value: "2026-01-01" }, { lastScan: "2026-02-30" }), U);
  });
  test("codes compare as their system does: case and the ICD-10 dot do not matter", () => {
    assert.equal(check({ fact: "principal", op: "==", value: "M43.16" }, { principal: "m4316" }), T);
    assert.equal(check({ fact: "principal", op: "==", value: "M43.16" }, { principal: "M43.17" }), F);
  });
});

describe("membership and sets", () => {
  test("in: one of the values; a code family with *", () => {
    assert.equal(check({ fact: "tumorType", in: ["prostate", "breast"] }, { tumorType: "breast" }), T);
    assert.equal(check({ fact: "tumorType", in: ["prostate", "breast"] }, { tumorType: "lung" }), F);
    assert.equal(check({ fact: "principal", in: ["M43.1*"] }, { principal: "M43.16" }), T);
    assert.equal(check({ fact: "principal", in: ["M43.1*"] }, { principal: "M43.2" }), F);
    assert.equal(check({ fact: "bmi", in: [35, 40] }, { bmi: 40 }), T);
    assert.equal(check({ fact: "tumorType", in: ["prostate"] }, {}), U);
    // Of another type than the fact's declaration: unknown, so that `not in` cannot turn it into met.
    assert.equal(check({ fact: "bmi", in: [35, 40] }, { bmi: "40" }), U);
    assert.equal(check({ not: { fact: "bmi", in: [35, 40] } }, { bmi: "40" }), U);
    assert.equal(check({ fact: "principal", in: ["M43.1*"] }, { principal: 43 }), U);
  });
  test("includes, includesAll, includesAny, excludes on a code set", () => {
    const facts = { diagnoses: ["M43.16", "E66.01"] };
    assert.equal(check({ fact: "diagnoses", includes: "E66.01" }, facts), T);
    assert.equal(check({ fact: "diagnoses", includes: "M43.1*" }, facts), T);
    assert.equal(check({ fact: "diagnoses", includesAll: ["E66.01", "I10"] }, facts), F);
    assert.equal(check({ fact: "diagnoses", includesAny: ["E66.01", "I10"] }, facts), T);
    assert.equal(check({ fact: "diagnoses", excludes: ["I10", "C61"] }, facts), T);
    assert.equal(check({ fact: "diagnoses", excludes: ["E66*"] }, facts), F);
    assert.equal(check({ fact: "diagnoses", includes: "E66.01" }, { diagnoses: "E66.01" }), U);
    assert.equal(check({ fact: "diagnoses", excludes: ["I10"] }, { diagnoses: [] }), T);
  });
});

describe("ranges and spans", () => {
  test("between is inclusive at both ends, for numbers and dates", () => {
    for (const [bmi, want] of [
      [34.99, F],
      [35, T],
      [39.9, T],
      [40, T],
      [40.01, F],
    ] as const)
      assert.equal(check({ fact: "bmi", between: [35, 40] }, { bmi }), want, String(bmi));
    assert.equal(
      check({ fact: "lastScan", between: ["2026-01-01", "2026-01-31"] }, { lastScan: "2026-01-31" }),
      T,
    );
    assert.equal(
      check({ fact: "lastScan", between: ["2026-01-01", "2026-01-31"] }, { lastScan: "2026-02-01" }),
      F,
    );
  });
  test("within N days: 30 days before the date of service is within, 31 is not, after it is not", () => {
    const p: Predicate = { fact: "lastScan", within: { n: 30, unit: "days" } };
    assert.equal(check(p, { lastScan: "2026-01-30" }), T); // 2026-03-01 minus 30 days
    assert.equal(check(p, { lastScan: "2026-01-29" }), F);
    assert.equal(check(p, { lastScan: "2026-03-02" }), F);
    assert.equal(check(p, {}), U);
  });
  test("within and before N years count calendar years (leap day clamps)", () => {
    const dos = parseDay("2028-02-29")!;
    assert.equal(
      check({ fact: "lastScan", within: { n: 1, unit: "years" } }, { lastScan: "2027-02-28" }, dos),
      T,
    );
    assert.equal(
      check({ fact: "lastScan", within: { n: 1, unit: "years" } }, { lastScan: "2027-02-27" }, dos),
      F,
    );
    assert.equal(
      check({ fact: "lastScan", before: { n: 1, unit: "years" } }, { lastScan: "2027-02-28" }, dos),
      T,
    );
    assert.equal(
      check({ fact: "lastScan", before: { n: 1, unit: "years" } }, { lastScan: "2027-03-01" }, dos),
      F,
    );
  });
  test("days are counted exactly across months, leap years and centuries (property, against Date)", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("1901-01-01"), max: new Date("2199-12-31"), noInvalidDate: true }),
        fc.nat(4000),
        (d, n) => {
          const iso = d.toISOString().slice(0, 10);
          const want = new Date(Date.parse(`${iso}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
          assert.equal(formatDay(minusDays(parseDay(iso)!, n)), want);
        },
      ),
    );
  });
});

describe("laws (property)", () => {
  const bmi = fc.oneof(
    fc.double({ min: 10, max: 100, noNaN: true }),
    fc.constantFrom(35, 40),
    fc.constant(undefined),
  );
  const facts = (v: number | undefined): Facts => (v === undefined ? {} : { bmi: v });
  test("not p is the three-valued complement of p", () => {
    fc.assert(
      fc.property(
        bmi,
        fc.constantFrom("==", "!=", "<", "<=", ">", ">=" as const),
        fc.constantFrom(35, 40),
        (v, op, value) => {
          const p: Predicate = { fact: "bmi", op, value };
          assert.equal(check({ not: p }, facts(v)), not(check(p, facts(v))));
        },
      ),
    );
  });
  test("between [a, b] is >= a and <= b; != is not ==; in [x] is == x", () => {
    fc.assert(
      fc.property(bmi, fc.integer({ min: 10, max: 100 }), fc.integer({ min: 0, max: 30 }), (v, a, w) => {
        const f = facts(v);
        const b = a + w;
        assert.equal(
          check({ fact: "bmi", between: [a, b] }, f),
          check(
            {
              all: [
                { fact: "bmi", op: ">=", value: a },
                { fact: "bmi", op: "<=", value: b },
              ],
            },
            f,
          ),
        );
        assert.equal(
          check({ fact: "bmi", op: "!=", value: a }, f),
          not(check({ fact: "bmi", op: "==", value: a }, f)),
        );
        assert.equal(check({ fact: "bmi", in: [a] }, f), check({ fact: "bmi", op: "==", value: a }, f));
      }),
    );
  });
  test("excludes is not includesAny; includesAll is all of includes", () => {
    const code = fc.constantFrom("M43.16", "E66.01", "I10", "C61", "M43.2");
    fc.assert(
      fc.property(
        fc.option(fc.array(code, { maxLength: 4 }), { nil: undefined }),
        fc.array(code, { minLength: 1, maxLength: 3 }),
        (held, want) => {
          const f: Facts = held === undefined ? {} : { diagnoses: held };
          assert.equal(
            check({ fact: "diagnoses", excludes: want }, f),
            not(check({ fact: "diagnoses", includesAny: want }, f)),
          );
          assert.equal(
            check({ fact: "diagnoses", includesAll: want }, f),
            check({ all: want.map((w) => ({ fact: "diagnoses", includes: w })) }, f),
          );
        },
      ),
    );
  });
});
