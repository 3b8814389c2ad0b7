import assert from "node:assert/strict";
import { it } from "node:test";
import fc from "fast-check";
import { caseSchema } from "./case.js";
import { fastParseCase } from "./case-fast.js";

const number = fc.oneof(
  fc.constantFrom(-1, -0, 0, 0.5, 3, 6, 6.5, 7, 50, 100, 100.01, 131, Number.NaN, Number.POSITIVE_INFINITY),
  fc.double(),
);
const factValue = fc.oneof(
  number,
  fc.boolean(),
  fc.constantFrom("2025-09-01", "2024-02-29", "2025-02-30", "2025-9-1", "", "compression"),
  fc.array(number, { maxLength: 3 }),
  fc.array(fc.constantFrom("thigh thrust", "compression", "gaenslen", "patrick/faber", "Compression", 2), {
    maxLength: 3,
  }),
  // A hole: the schema reads it as undefined and rejects it.
  fc.constant(new Array(2).fill(50, 1)),
  fc.constant(null),
  // Beyond the bounds of any fact value: a string over 200, a list over 100.
  fc.constant("x".repeat(201)),
  fc.constant(new Array(101).fill(1)),
);

const validCase = fc.record(
  {
    id: fc.string({ maxLength: 5 }),
    member: fc.record(
      {
        state: fc.constantFrom("TX", "nc", "La", "Z9", "", "NCX", "ZZ", "zz", "pr", "DC", "XX"),
        birthDate: fc.constantFrom(
          "1960-05-01",
          "2026-03-01",
          "2026-03-02",
          "2030-01-01",
          "1900-01-01",
          "1900-01-02",
          "1899-12-31",
          "1800-01-01",
          "1895-03-01",
          "1895-03-02",
          "2000-02-29",
          "2001-02-29",
          "1900-02-29",
          "0000-02-29",
          "1960-13-01",
          "1960-00-10",
          "1960-04-31",
          "1960-4-031",
          "196a-04-01",
          "x",
        ),
        age: fc.oneof(fc.integer({ min: -2, max: 140 }), fc.double()),
        lineOfBusiness: fc.constantFrom("medicaid", "commercial", "other"),
        extra: fc.constant(1),
      },
      { requiredKeys: ["state"] },
    ),
    service: fc.record(
      {
        codes: fc.array(fc.constantFrom("62322", "e0782", "A4300*", "123", "27279"), { maxLength: 3 }),
        dateOfService: fc.constantFrom("2026-03-01", "2026-02-30", "2024-02-29", "2026-3-1", "2031-01-01"),
        drug: fc.constantFrom("baclofen", ""),
        expedited: fc.oneof(fc.boolean(), fc.constant("yes")),
      },
      { requiredKeys: ["codes"] },
    ),
    answers: fc.dictionary(
      fc.constantFrom("I.A.1", "I.B.4", "II.A.1.a.note"),
      fc.oneof(fc.boolean(), fc.constant(1)),
    ),
    facts: fc.oneof(
      fc.constant({}),
      fc.record({ lifeExpectancyMonths: fc.oneof(fc.integer({ min: -1, max: 30 }), fc.constant("3")) }),
      fc.record({ sijImagingDate: fc.constantFrom("2025-09-01", "2025-02-30") }),
      // Every fact, with values at and beyond each kind's edges (the fast checks mirror the schema).
      // Any names, with values at and beyond each kind's edges (the fast checks mirror the schema):
      // the shape only; the policy's vocabulary checks the rest (issue 15).
      fc.dictionary(
        fc.constantFrom("bmi", "lifeExpectancyMonths", "x_1", "Bad", "1x", "__proto__", ""),
        factValue,
      ),
    ),
    policy: fc.constantFrom("CP.MP.173@2025-11"),
  },
  { requiredKeys: [] },
);

it("the fast path accepts only what the schema accepts, with the same result (property)", () => {
  fc.assert(
    fc.property(fc.oneof(validCase, fc.anything()), (input) => {
      const fast = fastParseCase(input);
      const slow = caseSchema.safeParse(input);
      if (fast !== undefined) {
        assert.ok(slow.success, `fast accepted what zod rejects: ${JSON.stringify(input)}`);
        assert.deepEqual(fast, slow.data);
      }
    }),
    { numRuns: 6000 },
  );
});

it("the fast path takes ordinary valid cases", () => {
  const c = {
    member: { state: "tx", birthDate: "1960-05-01", lineOfBusiness: "medicaid" },
    service: { codes: ["62322"], dateOfService: "2026-03-01" },
    answers: { "I.A.1": true },
  };
  assert.deepEqual(fastParseCase(c), caseSchema.parse(c));
});

it("a __proto__ key among the answers is left to the schema", () => {
  const c = JSON.parse(
    '{"member":{"state":"TX"},"service":{"codes":["62322"],"dateOfService":"2026-03-01"},"answers":{"__proto__":true}}',
  );
  assert.equal(fastParseCase(c), undefined);
});

it("fields present with undefined, unknown fields and unusual state spellings agree with the schema", () => {
  // The fast path counts keys instead of looking each up (issue 13): every way the count could mislead.
  const base = () => ({
    id: "r1",
    member: { state: "TX", birthDate: "1960-05-01" } as Record<string, unknown>,
    service: { codes: ["62322"], dateOfService: "2026-03-01" } as Record<string, unknown>,
    answers: { "I.A.1": true },
  });
  const variants: Record<string, unknown>[] = [];
  for (const where of ["root", "member", "service"] as const) {
    for (const extra of [
      { id: undefined },
      { state: undefined },
      { codes: undefined },
      { other: 1 },
      { x: undefined },
    ]) {
      const c = base() as Record<string, unknown>;
      const target = where === "root" ? c : (c[where] as Record<string, unknown>);
      Object.assign(target, extra);
      variants.push(c);
    }
  }
  for (const state of ["TX", "tx", "Tx", "tX", "ZZ", "zz", "T", "TXX", "[X", "T@", "AS", "as", "DC"]) {
    const c = base();
    c.member.state = state;
    variants.push(c);
  }
  for (const input of variants) {
    const fast = fastParseCase(input);
    const slow = caseSchema.safeParse(input);
    if (fast === undefined) continue;
    assert.ok(slow.success, `fast accepted what zod rejects: ${JSON.stringify(input)}`);
    assert.deepEqual(fast, slow.data);
  }
  // What the fast path must take itself (the hot path), and what it must leave to the schema.
  assert.notEqual(fastParseCase(variants.at(-13)!), undefined);
  assert.equal(fastParseCase({ ...base(), extra: 1 }), undefined);
  assert.equal(fastParseCase({ ...base(), policy: undefined }), undefined);
});

it("a malformed date of service is its own issue: the birth date is not reported against it", () => {
  const r = caseSchema.safeParse({
    member: { state: "TX", birthDate: "1960-05-01", lineOfBusiness: "medicaid" },
    service: { codes: ["62362"], dateOfService: "03/01/2026" },
    answers: {},
  });
  assert.equal(r.success, false);
  const paths = r.success ? [] : r.error.issues.map((i) => i.path.join("."));
  assert.deepEqual(paths, ["service.dateOfService"]);
});
