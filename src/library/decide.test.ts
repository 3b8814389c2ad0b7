import assert from "node:assert/strict";
import { it } from "node:test";
import fc from "fast-check";
import { ageOn } from "./decide.js";

const iso = (d: Date) => d.toISOString().slice(0, 10);

it("ageOn counts whole years as the calendar does, birthdays and 29 February included (property)", () => {
  const day = fc.date({ min: new Date("1900-01-01"), max: new Date("2100-12-31"), noInvalidDate: true });
  fc.assert(
    fc.property(day, day, (a, b) => {
      const [birth, on] = a <= b ? [a, b] : [b, a];
      // Reference: the last birthday on or before `on` (a 29 February birthday falls on 1 March).
      const birthday = new Date(Date.UTC(on.getUTCFullYear(), birth.getUTCMonth(), birth.getUTCDate()));
      const years = on.getUTCFullYear() - birth.getUTCFullYear() - (iso(birthday) > iso(on) ? 1 : 0);
      assert.equal(ageOn(iso(birth), iso(on)), years);
    }),
    { numRuns: 2000 },
  );
});

it("ageOn: the day before the 21st birthday is 20, the day itself 21", () => {
  assert.equal(ageOn("2005-03-02", "2026-03-01"), 20);
  assert.equal(ageOn("2005-03-02", "2026-03-02"), 21);
  assert.equal(ageOn("2004-02-29", "2025-02-28"), 20);
  assert.equal(ageOn("2004-02-29", "2025-03-01"), 21);
});
