/**
 * Issue 14: the clinical picture a UM file holds, in the case (SPEC 2.1): diagnoses (ICD-10-CM),
 * member name and address, requesting and servicing providers (NPI with its check digit). Errors name
 * the field; none of it changes the decision.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { caseSchema, isNpi } from "./case.js";
import { fastParseCase } from "./case-fast.js";

const base = {
  member: { state: "NC", birthDate: "1961-03-02" },
  service: { codes: ["62362"], dateOfService: "2026-03-01" },
};

/** The Luhn check digit of `nine` under the NPI prefix 80840 (computed the long way, as CMS writes it). */
function checkDigit(nine: string): number {
  const digits = `80840${nine}`.split("").map(Number);
  let sum = 0;
  for (let i = digits.length - 1, double = true; i >= 0; i--, double = !double) {
    const d = double ? digits[i]! * 2 : digits[i]!;
    sum += d > 9 ? d - 9 : d;
  }
  return (10 - (sum % 10)) % 10;
}

function field(input: unknown): string | undefined {
  const r = caseSchema.safeParse(input);
  return r.success ? undefined : r.error.issues.map((i) => i.path.join(".")).join(",");
}

describe("case: clinical picture (issue 14)", () => {
  test("NPI check digit: agrees with the long-hand Luhn on every nine-digit stem", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{9}$/), fc.nat(9), (nine, wrong) => {
        const good = `${nine}${checkDigit(nine)}`;
        assert.equal(isNpi(good), true, good);
        if (wrong !== checkDigit(nine)) assert.equal(isNpi(`${nine}${wrong}`), false);
      }),
      { numRuns: 500 },
    );
    for (const bad of ["", "123456789", "12345678930", "12345678a3", "１２３４５６７８９３"]) {
      assert.equal(isNpi(bad), false, bad);
    }
  });

  test("diagnoses are ICD-10-CM, normalized to upper case with the dot", () => {
    const c = caseSchema.parse({
      ...base,
      diagnoses: [{ code: "m5416" }, { code: "G89.3", display: "Neoplasm pain" }, { code: "U071" }],
    });
    assert.deepEqual(
      c.diagnoses?.map((d) => d.code),
      ["M54.16", "G89.3", "U07.1"],
    );
    for (const bad of ["62362", "M5", "M54.16789", "1M5.4", `${"M".repeat(5000)}`]) {
      assert.equal(field({ ...base, diagnoses: [{ code: bad }] }), "diagnoses.0.code", bad);
    }
  });

  test("providers and addresses name the field that is wrong", () => {
    assert.equal(
      field({ ...base, providers: { requesting: { npi: "1234567890" } } }),
      "providers.requesting.npi",
    );
    assert.equal(
      field({
        ...base,
        member: {
          ...base.member,
          address: { lines: ["1 Main"], city: "Raleigh", state: "ZZ", postalCode: "27601" },
        },
      }),
      "member.address.state",
    );
    assert.equal(
      field({
        ...base,
        member: { ...base.member, address: { lines: [], city: "Raleigh", state: "NC", postalCode: "27601" } },
      }),
      "member.address.lines",
    );
    assert.equal(
      field({
        ...base,
        providers: {
          servicing: {
            npi: "1245319599",
            address: { lines: ["x"], city: "y", state: "NC", postalCode: "2760" },
          },
        },
      }),
      "providers.servicing.address.postalCode",
    );
    assert.equal(field({ ...base, providers: { referring: { npi: "1245319599" } } }), "providers");
  });

  test("the clinical picture takes the schema's path and changes nothing of the decision input", () => {
    const full = {
      ...base,
      member: {
        ...base.member,
        name: "Jane Roe",
        id: "M-1",
        address: { lines: ["1 Main St"], city: "Raleigh", state: "nc", postalCode: "27601-1234" },
      },
      diagnoses: [{ code: "G89.3" }],
      providers: { requesting: { npi: "1234567893", name: "Dr A" }, servicing: { npi: "1245319599" } },
    };
    const c = caseSchema.parse(full);
    assert.equal(c.member.address?.state, "NC");
    assert.equal(fastParseCase(full), undefined, "the fast path leaves what it does not know to the schema");
    const plain = caseSchema.parse(base);
    assert.deepEqual(
      { ...c.service, answers: c.answers, facts: c.facts },
      { ...plain.service, answers: plain.answers, facts: plain.facts },
    );
  });
});
