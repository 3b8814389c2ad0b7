import assert from "node:assert/strict";
import { test } from "node:test";
import { and, atLeast, F, not, or, T, type Tri, toStatus, U } from "./tri.js";

// Kleene logic is the logic of "which values are still possible": check each operation against that.
const possible = (t: Tri): boolean[] => (t === T ? [true] : t === F ? [false] : [true, false]);
const fromSet = (s: Set<boolean>): Tri => (s.size === 2 ? U : s.has(true) ? T : F);
const ALL: Tri[] = [F, U, T];

test("and / or / not agree with the sets of possible values", () => {
  for (const a of ALL) {
    assert.equal(not(a), fromSet(new Set(possible(a).map((x) => !x))));
    for (const b of ALL) {
      const ands = new Set<boolean>();
      const ors = new Set<boolean>();
      for (const x of possible(a)) {
        for (const y of possible(b)) {
          ands.add(x && y);
          ors.add(x || y);
        }
      }
      assert.equal(and(a, b), fromSet(ands), `and(${a},${b})`);
      assert.equal(or(a, b), fromSet(ors), `or(${a},${b})`);
    }
  }
});

test("atLeast is decided as soon as the known values decide it", () => {
  assert.equal(atLeast(3, 3, 0), T);
  assert.equal(atLeast(3, 3, 2), T);
  assert.equal(atLeast(3, 2, 1), U);
  assert.equal(atLeast(3, 2, 0), F);
  assert.equal(atLeast(3, 0, 2), F);
  assert.equal(atLeast(0, 0, 0), T);
});

test("statuses", () => {
  assert.deepEqual(ALL.map(toStatus), ["not-met", "unknown", "met"]);
});
