import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Facts, Predicate, PredicateBinding } from "../model/index.js";
import { formatDay, minusMonths, parseDay } from "./dates.js";
import { combineBindings, compilePredicate } from "./predicates.js";
import { F, T, U } from "./tri.js";

const DOS = parseDay("2026-03-01")!;
const check = (p: Predicate, facts: Facts, dos = DOS) => compilePredicate(p)(facts, dos);

describe("dates", () => {
  test("parse rejects what is not a calendar date", () => {
    assert.equal(parseDay("2026-03-01"), 20260301);
    for (const bad of [
      "2026-02-30",
      "2026-13-01",
      "2026-3-1",
      "20260301",
      "2026-03-01T00:00",
      "",
      "2025-02-29",
    ]) {
      assert.equal(parseDay(bad), undefined, bad);
    }
    assert.equal(parseDay("2024-02-29"), 20240229);
  });
  test("calendar months, clamped to the end of the month", () => {
    const m = (d: string, n: number) => formatDay(minusMonths(parseDay(d)!, n));
    assert.equal(m("2026-03-01", 6), "2025-09-01");
    assert.equal(m("2026-08-31", 6), "2026-02-28");
    assert.equal(m("2024-08-31", 6), "2024-02-29");
    assert.equal(m("2026-01-15", 1), "2025-12-15");
    assert.equal(m("2026-01-15", 25), "2023-12-15");
    assert.equal(m("2026-05-31", 1), "2026-04-30");
    assert.equal(m("2026-03-01", 0), "2026-03-01");
  });
});

describe("comparison predicates", () => {
  test("exactly 50% is ≥ 50", () => {
    const p: Predicate = { fact: "opioidWeanPercent", op: ">=", value: 50 };
    assert.equal(check(p, { opioidWeanPercent: 50 }), T);
    assert.equal(check(p, { opioidWeanPercent: 49.9 }), F);
    assert.equal(check(p, { opioidWeanPercent: 100 }), T);
  });
  test("exactly three months is not > 3", () => {
    const p: Predicate = { fact: "lifeExpectancyMonths", op: ">", value: 3 };
    assert.equal(check(p, { lifeExpectancyMonths: 3 }), F);
    assert.equal(check(p, { lifeExpectancyMonths: 3.5 }), T);
  });
  test("other operators and booleans", () => {
    assert.equal(check({ fact: "lifeExpectancyMonths", op: "<", value: 3 }, { lifeExpectancyMonths: 3 }), F);
    assert.equal(check({ fact: "lifeExpectancyMonths", op: "<=", value: 3 }, { lifeExpectancyMonths: 3 }), T);
    assert.equal(check({ fact: "lifeExpectancyMonths", op: "==", value: 3 }, { lifeExpectancyMonths: 3 }), T);
    const b: Predicate = { fact: "trialFunctionImproved", op: "==", value: true };
    assert.equal(check(b, { trialFunctionImproved: true }), T);
    assert.equal(check(b, { trialFunctionImproved: false }), F);
  });
  test("a missing fact, or one of another type, is unknown", () => {
    const p: Predicate = { fact: "lifeExpectancyMonths", op: ">", value: 3 };
    assert.equal(check(p, {}), U);
    assert.equal(check(p, { lifeExpectancyMonths: "12" } as unknown as Facts), U);
    assert.equal(
      check({ fact: "trialFunctionImproved", op: "==", value: true }, { trialFunctionImproved: 1 } as never),
      U,
    );
  });
});

describe("count predicates", () => {
  test("count: an array's length, or the number itself", () => {
    const p: Predicate = { fact: "provocativeTestsPositive", count: ">=", value: 3 };
    assert.equal(check(p, { provocativeTestsPositive: 3 }), T);
    assert.equal(check(p, { provocativeTestsPositive: 2 }), F);
    assert.equal(check(p, { provocativeTestsPositive: ["thigh thrust", "compression", "distraction"] }), T);
    assert.equal(check(p, { provocativeTestsPositive: ["thigh thrust", "compression"] }), F);
    assert.equal(check(p, {}), U);
  });
  test("countAtLeast: elements ≥ the threshold, at least min of them (75% on two occasions)", () => {
    const p: Predicate = { fact: "diagnosticInjectionReliefPercents", countAtLeast: 75, min: 2 };
    assert.equal(check(p, { diagnosticInjectionReliefPercents: [75, 75] }), T);
    assert.equal(check(p, { diagnosticInjectionReliefPercents: [80, 74.9, 90] }), T);
    assert.equal(check(p, { diagnosticInjectionReliefPercents: [80, 74.9] }), F);
    assert.equal(check(p, { diagnosticInjectionReliefPercents: [] }), F);
    assert.equal(check(p, {}), U);
  });
});

describe("date predicates", () => {
  const within: Predicate = { fact: "sijImagingDate", withinMonths: 6 };
  test("within six months: six months to the day is within", () => {
    assert.equal(check(within, { sijImagingDate: "2025-09-01" }), T);
    assert.equal(check(within, { sijImagingDate: "2025-08-31" }), F);
    assert.equal(check(within, { sijImagingDate: "2026-03-01" }), T);
  });
  test("a date after the date of service is not within", () => {
    assert.equal(check(within, { sijImagingDate: "2026-03-02" }), F);
  });
  test("month ends clamp: DOS 2026-08-31 minus six months is 2026-02-28", () => {
    const dos = parseDay("2026-08-31")!;
    assert.equal(check(within, { sijImagingDate: "2026-02-28" }, dos), T);
    assert.equal(check(within, { sijImagingDate: "2026-02-27" }, dos), F);
  });
  test("at least six months before", () => {
    const p: Predicate = { fact: "conservativeTreatmentStart", monthsBeforeAtLeast: 6 };
    assert.equal(check(p, { conservativeTreatmentStart: "2025-09-01" }), T);
    assert.equal(check(p, { conservativeTreatmentStart: "2025-09-02" }), F);
    assert.equal(check(p, { conservativeTreatmentStart: "2020-01-01" }), T);
    assert.equal(check(p, {}), U);
    assert.equal(check(p, { conservativeTreatmentStart: "2025-02-30" }), U);
  });
});

describe("combinations", () => {
  const life: Predicate = { fact: "lifeExpectancyMonths", op: ">", value: 3 };
  const wean: Predicate = { fact: "opioidWeanPercent", op: ">=", value: 50 };
  test("all / any are three-valued", () => {
    assert.equal(check({ all: [life, wean] }, { lifeExpectancyMonths: 12 }), U);
    assert.equal(check({ all: [life, wean] }, { lifeExpectancyMonths: 2 }), F);
    assert.equal(check({ all: [life, wean] }, { lifeExpectancyMonths: 12, opioidWeanPercent: 60 }), T);
    assert.equal(check({ any: [life, wean] }, { lifeExpectancyMonths: 12 }), T);
    assert.equal(check({ any: [life, wean] }, { lifeExpectancyMonths: 2 }), U);
    assert.equal(check({ any: [life, wean] }, { lifeExpectancyMonths: 2, opioidWeanPercent: 10 }), F);
  });
  test("firstKnown: the first alternative with evidence decides", () => {
    const p: Predicate = {
      firstKnown: [
        { fact: "conservativeTreatmentMonths", op: ">=", value: 6 },
        { fact: "conservativeTreatmentStart", monthsBeforeAtLeast: 6 },
      ],
    };
    assert.equal(check(p, { conservativeTreatmentMonths: 4, conservativeTreatmentStart: "2020-01-01" }), F);
    assert.equal(check(p, { conservativeTreatmentStart: "2020-01-01" }), T);
    assert.equal(check(p, { conservativeTreatmentStart: "2026-01-01" }), F);
    assert.equal(check(p, {}), U);
  });
  test("refutes: can only show not met", () => {
    const b: PredicateBinding = { match: "trial", when: wean, mode: "refutes" };
    const t = combineBindings([b]);
    assert.equal(t({ opioidWeanPercent: 60 }, DOS), U);
    assert.equal(t({ opioidWeanPercent: 40 }, DOS), F);
    assert.equal(t({}, DOS), U);
  });
  test("several bindings: any not met decides; met needs every deciding one", () => {
    const t = combineBindings([
      { match: "x", when: life, mode: "decides" },
      { match: "x", when: wean, mode: "refutes" },
    ]);
    assert.equal(t({ lifeExpectancyMonths: 12 }, DOS), T);
    assert.equal(t({ lifeExpectancyMonths: 12, opioidWeanPercent: 60 }, DOS), T);
    assert.equal(t({ lifeExpectancyMonths: 12, opioidWeanPercent: 40 }, DOS), F);
    assert.equal(t({ opioidWeanPercent: 60 }, DOS), U);
  });
});
