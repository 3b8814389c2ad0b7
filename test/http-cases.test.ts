/**
 * Every case (project + shared examples) through the HTTP path: `POST /api/evaluate` on the real server
 * (SPEC 4). The same expectations as the CLI path (test/cli-cases.test.ts); exit codes map to statuses
 * by the one error mapping (2 → 400, 1 → 422).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTest } from "./service/helpers.js";
import { checkExpectation, loadCases } from "./suite/cases.js";

const STATUS_TO_EXIT: Record<number, number> = { 200: 0, 400: 2, 422: 1 };

describe("cases through POST /api/evaluate", () => {
  let t: Awaited<ReturnType<typeof startTest>>;
  before(async () => {
    t = await startTest("sqlite");
  });
  after(async () => {
    await t.close();
  });
  for (const c of loadCases()) {
    it(c.name, async () => {
      const res = await fetch(`${t.url}/api/evaluate`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${t.tokens.reviewer}` },
        body: c.raw ?? JSON.stringify(c.input),
      });
      const body = (await res.json()) as Record<string, unknown>;
      const exit = STATUS_TO_EXIT[res.status] ?? -res.status;
      assert.deepEqual(
        checkExpectation(c.expect, exit, body),
        [],
        `${c.file}\n${JSON.stringify(body).slice(0, 400)}`,
      );
      if (exit === 2) assert.ok(JSON.stringify(body).length > 20, "a 400 explains what is wrong");
    });
  }
});
