/**
 * issue 13: the service's replies are "encoded like the CLI's writer": `encodeDetermination` gives the
 * bytes of `JSON.stringify` for every determination of the case suites, trace or not, one after another
 * through the one shared buffer, and recovers from a value JSON cannot encode.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import type { Determination } from "../model/index.js";
import { decide } from "./decide.js";
import { encodeDetermination, encodeJson } from "./json-lines.js";
import { loadLibrary } from "./library.js";

const lib = loadLibrary();
const root = join(import.meta.dirname, "..", "..");

function suiteCases(): unknown[] {
  const out: unknown[] = [];
  const dir = join(root, "test", "cases");
  for (const folder of readdirSync(dir))
    for (const f of readdirSync(join(dir, folder)))
      out.push(JSON.parse(readFileSync(join(dir, folder, f), "utf8")).case);
  return out;
}

it("encodeDetermination is byte-equal to JSON.stringify on every decidable suite case, trace or not", () => {
  let n = 0;
  for (const c of suiteCases()) {
    for (const trace of [true, false]) {
      let d: Determination;
      try {
        d = decide(lib, c, { trace, today: "2026-11-25" });
      } catch {
        continue;
      }
      const bytes = encodeDetermination(d);
      assert.equal(bytes.toString("utf8"), JSON.stringify(d));
      // Twice: the second encoding reuses what the first cached of the frozen parts.
      assert.deepEqual(encodeDetermination(d), bytes);
      n++;
    }
  }
  assert.ok(n > 40);
});

it("encodeDetermination copes with non-ASCII ids and a determination larger than its buffer", () => {
  const c = {
    id: "réq-\u2028-🙂",
    member: { state: "TX", birthDate: "1960-05-01" },
    service: {
      codes: Array.from({ length: 50 }, (_, i) => (i % 2 ? "62322" : "62362")),
      dateOfService: "2026-03-01",
    },
    answers: {},
  };
  const d = decide(lib, c);
  const bytes = encodeDetermination(d);
  assert.ok(bytes.length > 1 << 16);
  assert.equal(bytes.toString("utf8"), JSON.stringify(d));
});

it("encodeJson throws JSON.stringify's TypeError on a cycle and encodes the next value whole", () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  assert.throws(() => encodeJson(cyclic), TypeError);
  assert.equal(encodeJson({ b: [1, "x", null] }).toString(), '{"b":[1,"x",null]}');
});
