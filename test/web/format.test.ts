/**
 * The web app's compact request id (src/web/app/format.ts): distinct for requests received in the same
 * minute now that request ids are time-ordered (UUID version 7: their first 8 digits are the time).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { timeOrderedId } from "../../src/store/ids.js";
import { shortId } from "../../src/web/app/format.js";

test("shortId: the random tail of an id, distinct within a minute", () => {
  const ms = Date.parse("2026-03-02T12:00:00Z");
  const shorts = new Set(Array.from({ length: 200 }, (_, i) => shortId(timeOrderedId(ms + i * 100))));
  assert.equal(shorts.size, 200);
  assert.equal(shortId("3f2a9c1e-0b7d-4e5f-8a6b-1c2d3e4f5a6b"), "3e4f5a6b");
  assert.equal(shortId("req-12"), "req-12");
});
