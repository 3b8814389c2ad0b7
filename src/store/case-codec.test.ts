/**
 * Issue 13: a stored case decodes to exactly the canonical JSON that was decided (property test), and
 * the codec's format and dictionary stay readable: bytes written by this version decode forever.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { canonicalJson } from "../model/index.js";
import { decodeCase, encodeCase, PLAIN_MAX, storeCase, storedCase } from "./case-codec.js";

test("any JSON text round-trips byte for byte", () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const json = canonicalJson(v);
      assert.equal(decodeCase(encodeCase(json)), json);
    }),
    { numRuns: 300 },
  );
});

test("a typical case shrinks to under a third, and format 1 stays readable", () => {
  const json = canonicalJson({
    answers: { "I.A.1": false, "I.A.2": true, "I.A.2.a": true, "I.B.1": false, "I.B.2": false },
    id: "trial-1",
    member: { birthDate: "1960-05-01", lineOfBusiness: "medicaid", state: "TX" },
    service: { codes: ["62323"], dateOfService: "2026-03-01" },
  });
  const bytes = encodeCase(json);
  assert.equal(bytes[0], 1);
  assert.ok(bytes.length * 3 < json.length, `${bytes.length} bytes for ${json.length}`);
  // Written by this version: must decode unchanged whatever later versions do (DICTIONARY_1 is frozen).
  const fixture = Buffer.from("AcMWCchBiRpUiYSDCubRkqLMxBxdQzz+NTPQNTDVNTCkir+NcfvbGGRHbS0A", "base64");
  assert.equal(decodeCase(fixture), json);
  assert.throws(() => decodeCase(Uint8Array.of(9, 1, 2)), /unknown format/);
});

test("a case of up to 768 bytes is kept as its plain JSON; a larger one deflated; both read back exactly", () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.string({ unit: "binary", maxLength: 900 }), (v, pad) => {
      const json = canonicalJson({ pad, v });
      const kept = storeCase(json);
      if (Buffer.byteLength(json) <= PLAIN_MAX) {
        assert.equal(kept.caseJson, json);
        assert.equal(kept.caseZ, null);
      } else {
        assert.equal(kept.caseJson, "");
        assert.equal(kept.caseZ?.[0], 1);
      }
      assert.equal(storedCase(kept.caseJson, kept.caseZ), json);
    }),
    { numRuns: 300 },
  );
  // At the boundary, in bytes rather than characters: 767 ASCII bytes plus one two-byte character.
  const at = `"${"a".repeat(764)}é"`;
  assert.equal(Buffer.byteLength(at), 768);
  assert.equal(storeCase(at).caseJson, at);
  assert.equal(storeCase(`"${"a".repeat(765)}é"`).caseJson, "");
  // A row written before issue 13 (plain JSON, no bytes) reads as it was.
  assert.equal(storedCase('{"id":"x"}', null), '{"id":"x"}');
});
