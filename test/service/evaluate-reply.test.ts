/**
 * Issue 13 "replies encoded like the CLI's writer": `POST /api/evaluate` sends the determination
 * pre-encoded (not stringified by Fastify), and the bytes are exactly `JSON.stringify` of the
 * determination `decide` returns — for every decidable case of the suites, with and without the trace —
 * under Fastify's JSON content type.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decide, type Library, loadLibrary } from "../../src/library/index.js";
import { checkExpectation, loadCases } from "../suite/cases.js";
import { startTest } from "./helpers.js";

const TODAY = new Date("2026-03-02T12:00:00Z");

describe("POST /api/evaluate replies byte for byte as JSON.stringify(decide(…))", () => {
  let t: Awaited<ReturnType<typeof startTest>>;
  let lib: Library;
  before(async () => {
    lib = loadLibrary();
    t = await startTest("sqlite", { library: lib, clock: () => TODAY });
  });
  after(async () => {
    await t.close();
  });
  const cases = loadCases().filter((c) => c.raw === undefined);
  it("covers cases", () => assert.ok(cases.length > 20));
  for (const c of cases) {
    it(c.name, async () => {
      let expected: string;
      try {
        expected = JSON.stringify(decide(lib, c.input, { today: "2026-03-02" }));
      } catch {
        return; // an error case: its reply is the error mapping's (test/http-cases.test.ts)
      }
      for (const trace of [true, false]) {
        const res = await fetch(`${t.url}/api/evaluate${trace ? "" : "?trace=false"}`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${t.tokens.reviewer}` },
          body: JSON.stringify(c.input),
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
        const text = await res.text();
        const want = trace
          ? expected
          : JSON.stringify(decide(lib, c.input, { today: "2026-03-02", trace: false }));
        assert.equal(text, want);
        if (trace) assert.deepEqual(checkExpectation(c.expect, 0, JSON.parse(text)), []);
      }
    });
  }
});
