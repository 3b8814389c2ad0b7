/**
 * Issue 16: `ValueSet/$expand` over the fact ValueSets (DTR 2.0.1 dtr-payer-service SHALL): which
 * canonicals resolve, and the expansion's filter and paging.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ValueSet } from "@medplum/fhirtypes";
import { loadLibrary } from "../../library/index.js";
import { FhirError } from "./common.js";
import { expand, findFactValueSet, MAX_CONCEPTS } from "./dtr-valueset.js";

const BASE = "https://payer.example";
const NOW = "2026-01-01T00:00:00.000Z";

describe("fact ValueSets (issue 16)", () => {
  const lib = loadLibrary();

  test("a canonical on this server or a bare id finds an enum/set fact's ValueSet; anything else does not", () => {
    const url = `${BASE}/fhir/ValueSet/CP.MP.126-2025-04-provocativeTestsPositive`;
    const vs = findFactValueSet(lib, url, BASE);
    assert.equal(vs?.url, url);
    assert.equal(vs?.id, "CP.MP.126-2025-04-provocativeTestsPositive");
    assert.equal(
      vs?.compose?.include[0]?.system,
      `${BASE}/fhir/CodeSystem/CP.MP.126-provocativeTestsPositive`,
    );
    assert.deepEqual(findFactValueSet(lib, `${url}|2025-04`, BASE)?.url, url);
    assert.equal(findFactValueSet(lib, "CP.MP.126-2025-04-provocativeTestsPositive", BASE)?.url, url);
    for (const other of [
      "http://elsewhere.example/fhir/ValueSet/CP.MP.126-2025-04-provocativeTestsPositive",
      `${BASE}/fhir/ValueSet/CP.MP.126-2025-04-activeExerciseWeeks`, // a number: no value list
      `${BASE}/fhir/ValueSet/CP.MP.126-1999-01-provocativeTestsPositive`,
      `${BASE}/fhir/ValueSet/${"a".repeat(400)}`,
      "",
    ])
      assert.equal(findFactValueSet(lib, other, BASE), undefined, other);
  });

  test("expansion: filter on code or display (any case), count and offset; total counts the filtered", () => {
    const vs: ValueSet = {
      resourceType: "ValueSet",
      status: "active",
      compose: {
        include: [
          {
            system: "s",
            concept: [{ code: "a1", display: "Alpha" }, { code: "b2" }, { code: "c3", display: "alphabet" }],
          },
        ],
        exclude: [{ system: "s", concept: [{ code: "b2" }] }],
      },
    };
    const all = expand(vs, {}, NOW);
    assert.equal(all.compose, undefined);
    assert.equal(all.expansion?.total, 2);
    assert.deepEqual(
      all.expansion?.contains?.map((c) => c.code),
      ["a1", "c3"],
    );
    const page = expand(vs, { filter: "ALPHA", count: 1, offset: 1 }, NOW);
    assert.equal(page.expansion?.total, 2);
    assert.equal(page.expansion?.offset, 1);
    assert.deepEqual(page.expansion?.contains, [{ system: "s", code: "c3", display: "alphabet" }]);
    assert.equal(expand(vs, { offset: 5 }, NOW).expansion?.contains, undefined);
    assert.throws(
      () =>
        expand(
          {
            resourceType: "ValueSet",
            status: "active",
            compose: { include: [{ system: "http://loinc.org" }] },
          },
          {},
          NOW,
        ),
      (e: unknown) => e instanceof FhirError && e.status === 422,
    );
  });

  test("excludes remove every matching concept in one pass; more than MAX_CONCEPTS is 422 too-costly", () => {
    const n = 7000;
    const concept = Array.from({ length: n }, (_, i) => ({ code: `c${i}` }));
    const vs: ValueSet = {
      resourceType: "ValueSet",
      status: "active",
      compose: {
        include: [{ system: "urn:x", concept: [...concept, { code: "c0" }] }],
        exclude: [{ system: "urn:x", concept: concept.slice(0, n - 1) }],
      },
    };
    const out = expand(vs, { count: 10 }, "2026-12-06T00:00:00Z");
    assert.deepEqual(
      out.expansion?.contains?.map((c) => c.code),
      [`c${n - 1}`],
    );
    const big: ValueSet = {
      resourceType: "ValueSet",
      status: "active",
      compose: {
        include: [
          {
            system: "urn:x",
            concept: Array.from({ length: MAX_CONCEPTS + 1 }, (_, i) => ({ code: `k${i}` })),
          },
        ],
      },
    };
    assert.throws(
      () => expand(big, {}, "2026-12-06T00:00:00Z"),
      (e: unknown) => e instanceof FhirError && e.status === 422 && e.issueCode === "too-costly",
    );
  });
});
