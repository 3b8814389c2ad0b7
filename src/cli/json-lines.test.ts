import assert from "node:assert/strict";
import { it } from "node:test";
import fc from "fast-check";
import { decide, loadLibrary } from "../library/index.js";
import { JsonLinesWriter } from "./json-lines.js";

/** Freezes some of the objects inside `v` (deeply or only at the top), as the engine's shared parts are. */
function freezeSome(v: unknown, pick: () => number): unknown {
  if (typeof v !== "object" || v === null) return v;
  for (const k of Object.keys(v)) (v as Record<string, unknown>)[k] = freezeSome((v as never)[k], pick);
  if (pick() % 3 === 0) Object.freeze(v);
  return v;
}

const encode = (values: unknown[], size = 64) => {
  const w = new JsonLinesWriter(size);
  const parts: Buffer[] = [];
  for (const v of values) {
    w.line(v);
    if (w.full) parts.push(w.take());
  }
  parts.push(w.take());
  return Buffer.concat(parts).toString("utf8");
};

const expected = (values: unknown[]) => values.map((v) => `${JSON.stringify(v)}\n`).join("");

it("writes exactly JSON.stringify's bytes, frozen parts or not, across batch boundaries (property)", () => {
  const value = fc.oneof(
    fc.jsonValue(),
    fc.anything({ withNullPrototype: false, withBoxedValues: false, withMap: false, withSet: false }),
    fc.record({
      s: fc.string({ unit: "binary" }),
      u: fc.constant(undefined),
      f: fc.constant(() => 1),
      n: fc.constantFrom(Number.NaN, -0, 1e21, Number.POSITIVE_INFINITY, 5e-7),
      a: fc.array(fc.oneof(fc.constant(undefined), fc.string({ unit: "grapheme" }), fc.integer())),
      d: fc.date({ noInvalidDate: true }),
    }),
  );
  fc.assert(
    // A top-level value with no JSON form (undefined) is not a line: rejected, tested below.
    fc.property(
      fc.array(
        value.filter((v) => JSON.stringify(v) !== undefined),
        { minLength: 1, maxLength: 6 },
      ),
      fc.integer({ min: 1, max: 100 }),
      (vs, seed) => {
        const expect = expected(vs);
        let n = seed;
        const frozen = vs.map((v) => freezeSome(structuredCloneOrSelf(v), () => n++));
        // Twice: the second time from the cache of frozen parts.
        assert.equal(encode(frozen), expect);
        assert.equal(encode(frozen, 1 << 16), expect);
      },
    ),
    { numRuns: 2000 },
  );
});

function structuredCloneOrSelf(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}

it("a frozen object over a mutable one is encoded afresh each time", () => {
  const inner = { status: "met" };
  const outer = Object.freeze({ criterion: "I.A.1", inner });
  assert.equal(encode([outer]), `${JSON.stringify(outer)}\n`);
  inner.status = "not-met";
  assert.equal(encode([outer]), `${JSON.stringify(outer)}\n`);
});

it("a value with no JSON form is rejected and leaves nothing half-written", () => {
  const w = new JsonLinesWriter(64);
  w.line({ a: 1 });
  assert.throws(() => w.line(undefined), TypeError);
  assert.throws(() => w.line({ a: 1n }), TypeError);
  w.line([1]);
  assert.equal(w.take().toString(), '{"a":1}\n[1]\n');
});

it("one line larger than the batch grows the buffer", () => {
  const big = { text: "é≥".repeat(50_000), list: Array.from({ length: 1000 }, (_, i) => ({ i })) };
  assert.equal(encode([big, big], 16), expected([big, big]));
});

// The determination writer against JSON.stringify on the library's own determinations: random cases
// over every version's answerable ids, codes and facts, with and without trace.

it("writes every determination exactly as JSON.stringify does (property, real library)", () => {
  const lib = loadLibrary();
  const ids = [...new Set(lib.entries.flatMap((e) => [...e.answerable()]))];
  const codes = [
    ...new Set(lib.entries.flatMap((e) => e.policy.codeTables.flatMap((t) => t.rows.map((r) => r.code)))),
    "99213",
  ];
  const sample = {
    lifeExpectancyMonths: 3,
    opioidWeanPercent: 50,
    trialPainReductionPercent: 49,
    conservativeTreatmentMonths: 6,
    provocativeTestsPositive: 3,
    sijImagingDate: "2025-09-01",
    diagnosticInjectionReliefPercents: [80, 74],
  } as Record<string, unknown>;
  const request = fc.record(
    {
      id: fc.string({ unit: "grapheme", maxLength: 8 }),
      member: fc.record(
        {
          state: fc.constantFrom("TX", "NC", "LA"),
          birthDate: fc.constantFrom("1960-05-01", "2006-03-02", "2010-01-01"),
        },
        { requiredKeys: ["state"] },
      ),
      service: fc.record(
        {
          codes: fc.array(fc.constantFrom(...codes), { minLength: 1, maxLength: 3 }),
          dateOfService: fc.constantFrom("2026-03-01", "2025-01-15", "2024-10-01"),
          drug: fc.constantFrom("morphine", "baclofen"),
        },
        { requiredKeys: ["codes", "dateOfService"] },
      ),
      answers: fc.dictionary(fc.constantFrom(...ids), fc.boolean(), { maxKeys: 14 }),
      // The facts of one policy's vocabulary (issue 15: another policy's facts are bad input).
      facts: fc
        .constantFrom(...lib.entries.map((e) => [...e.vocabulary.keys()].filter((k) => k in sample)))
        .chain((names) => fc.subarray(names))
        .map((ks) => Object.fromEntries(ks.map((k) => [k, sample[k]]))),
    },
    { requiredKeys: ["member", "service"] },
  );
  let decided = 0;
  fc.assert(
    fc.property(request, fc.boolean(), (c, trace) => {
      let d: ReturnType<typeof decide>;
      try {
        d = decide(lib, c, { trace, today: "2026-03-01" });
      } catch {
        return; // bad input (an id of another policy, conflicting answers): no determination to write
      }
      decided++;
      const w = new JsonLinesWriter(256);
      w.determination(d);
      w.determination(d); // the second time from the cache of frozen parts
      const line = `${JSON.stringify(d)}\n`;
      assert.equal(w.take().toString("utf8"), line + line);
    }),
    { numRuns: 1500 },
  );
  assert.ok(decided > 300, `only ${decided} random cases were decided`);
});

it("follows JSON.stringify where values are unusual: toJSON with its key, boxed primitives, omitted values, getters, cycles", () => {
  class Later {
    readonly x = 1;
  }
  const later = Object.freeze(new Later());
  const getter = Object.freeze({
    get now() {
      return counter;
    },
  });
  let counter = 1;
  const values: unknown[] = [
    { a: { toJSON: () => undefined }, b: 1 },
    { a: () => 1, b: Symbol("s"), c: undefined, d: 2 },
    { k: { toJSON: (key: string) => key }, list: [{ toJSON: (key: string) => key }] },
    { s: new String("ab"), n: [new Number(3), new Boolean(false)] },
    { date: new Date(0) },
    later,
    getter,
  ];
  assert.equal(encode(values), expected(values));
  // What changes after a first encoding is seen the second time.
  counter = 2;
  (Later.prototype as unknown as { toJSON: () => string }).toJSON = () => "changed";
  assert.equal(encode(values), expected(values));
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = { back: cyclic };
  const w = new JsonLinesWriter(64);
  assert.throws(() => w.line(cyclic), TypeError);
  w.line([1]);
  assert.equal(w.take().toString(), "[1]\n");
});
