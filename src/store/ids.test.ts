import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { timeOrderedId } from "./ids.js";

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("timeOrderedId: a UUID version 7 (RFC 9562 §5.7) carrying the milliseconds given", () => {
  const ms = Date.parse("2026-02-01T12:00:00.123Z");
  const id = timeOrderedId(ms);
  assert.match(id, UUID7);
  assert.equal(Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16), ms);
  // 74 random bits: ids made in the same millisecond differ.
  const same = new Set(Array.from({ length: 10_000 }, () => timeOrderedId(ms)));
  assert.equal(same.size, 10_000);
  // Out of range times are clamped, never a malformed id.
  assert.match(timeOrderedId(-5), UUID7);
  assert.match(timeOrderedId(2 ** 60), UUID7);
  assert.ok(timeOrderedId(-5).startsWith("00000000-0000-7"));
});

test("timeOrderedId: ids of later milliseconds sort after earlier ones, as text (property)", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 48 - 2 }), fc.integer({ min: 1, max: 10 ** 9 }), (a, d) => {
      const b = Math.min(a + d, 2 ** 48 - 1);
      assert.ok(timeOrderedId(a) < timeOrderedId(b), `${a} < ${b}`);
    }),
  );
});
