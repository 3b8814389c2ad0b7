import assert from "node:assert/strict";
import { it } from "node:test";
import fc from "fast-check";
import { caseSchema } from "./case.js";
import { fastParseCase } from "./case-fast.js";

const validCase = fc.record(
  {
    id: fc.string({ maxLength: 5 }),
    member: fc.record(
      {
        state: fc.constantFrom("TX", "nc", "La", "Z9", "", "NCX"),
        birthDate: fc.constantFrom("1960-05-01", "2000-02-29", "2001-02-29", "1960-13-01", "x"),
        age: fc.oneof(fc.integer({ min: -2, max: 140 }), fc.double()),
        lineOfBusiness: fc.constantFrom("medicaid", "commercial", "other"),
        extra: fc.constant(1),
      },
      { requiredKeys: ["state"] },
    ),
    service: fc.record(
      {
        codes: fc.array(fc.constantFrom("62322", "e0782", "A4300*", "123", "27279"), { maxLength: 3 }),
        dateOfService: fc.constantFrom("2026-03-01", "2026-02-30", "2024-02-29", "2026-3-1"),
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
    { numRuns: 3000 },
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
