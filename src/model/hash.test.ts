/** `canonicalJson` is written for speed (issue 12); this holds it to its plain definition. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { canonicalJson } from "./hash.js";

/** The definition: keys sorted, `undefined` dropped, arrays joined with ",". */
function reference(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(reference).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`).join(",")}}`;
}

describe("canonicalJson", () => {
  test("equals the definition on any JSON-like value (undefined, sparse keys, unicode keys)", () => {
    fc.assert(
      fc.property(
        fc.anything({ withObjectString: true, withNullPrototype: true, withSparseArray: true }),
        (v) => {
          assert.equal(canonicalJson(v), reference(v));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("sorts keys by UTF-16 code units, whatever their insertion order", () => {
    assert.equal(
      canonicalJson({ b: 1, a: [undefined, 2], é: 3, Z: { y: undefined, x: null } }),
      '{"Z":{"x":null},"a":[,2],"b":1,"é":3}',
    );
  });
});
