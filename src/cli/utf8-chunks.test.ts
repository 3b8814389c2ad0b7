import assert from "node:assert/strict";
import { it } from "node:test";
import fc from "fast-check";
import { Utf8Chunks } from "./utf8-chunks.js";

it("decodes any text cut into chunks at any byte as the whole would decode (property)", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "grapheme", maxLength: 60 }),
      fc.array(fc.nat({ max: 200 }), { maxLength: 8 }),
      (text, cuts) => {
        const bytes = Buffer.from(text);
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const d = new Utf8Chunks();
        let out = "";
        let from = 0;
        for (const c of [...at, bytes.length]) {
          out += d.write(bytes.subarray(from, c));
          from = c;
        }
        out += d.end();
        assert.equal(out, text);
      },
    ),
    { numRuns: 3000 },
  );
});

it("invalid bytes become U+FFFD, and a character cut off at the end of the stream too", () => {
  const d = new Utf8Chunks();
  assert.equal(d.write(Buffer.from([0x61, 0xff, 0x62])), "a\ufffdb");
  assert.equal(d.write(Buffer.from([0x63, 0xe2, 0x89])), "c");
  assert.equal(d.end(), "\ufffd");
});
