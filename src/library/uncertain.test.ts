/**
 * Safe by default (issue 12): a section whose reading is uncertain decides `review` where its criteria
 * would approve or deny, and an exclusion list never approves. Run through a real library folder built
 * from hand-written documents in other payers' layouts.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { decide } from "./decide.js";
import { loadLibrary } from "./library.js";

const dir = mkdtempSync(join(tmpdir(), "medpolicy-uncertain-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function policy(id: string, doc: string, codes: { codes: string[]; section: string }[]): void {
  const folder = join(dir, id);
  mkdirSync(folder);
  writeFileSync(join(folder, "policy.txt"), doc);
  const sha256 = createHash("sha256").update(doc).digest("hex");
  writeFileSync(
    join(folder, "sources.json"),
    JSON.stringify([{ file: "policy.txt", origin: "test", sha256, format: "text" }]),
  );
  writeFileSync(
    join(folder, "bindings.json"),
    JSON.stringify({ policy: id, codes, predicates: [], corrections: [] }),
  );
}

policy(
  "MP-1",
  `Medical Policy: Widgets
Policy Number: MP-1
Effective Date: 01/01/2025

Policy Statement

Widgets are covered for members who have:
• a diagnosis of joint pain
• an order from a physician
`,
  [{ codes: ["99901"], section: "I" }],
);
policy(
  "MP-2",
  `Medical Policy: Gadgets
Policy Number: MP-2
Effective Date: 01/01/2025

Coverage Rationale

Gadget therapy is considered medically necessary when:
• Saturation below 88% at rest; or
• Saturation below 88% during sleep; or,
• Saturation below 88% during exercise

CMS will not cover gadget therapy in the following circumstances:
A. As a treatment for acute injury; or,
B. As a maintenance therapy.
`,
  [
    { codes: ["99902"], section: "I" },
    { codes: ["99903"], section: "II" },
  ],
);

const lib = loadLibrary(dir);
function outcome(code: string, answers: Record<string, boolean>): string {
  return decide(
    lib,
    {
      member: { state: "TX", birthDate: "1960-01-01", lineOfBusiness: "commercial" },
      service: { codes: [code], dateOfService: "2026-03-01" },
      answers,
    },
    { today: "2026-03-01" },
  ).outcome;
}

describe("uncertain readings decide review (issue 12)", () => {
  it("a list whose logic the document does not state: met → review, not approved", () => {
    assert.equal(outcome("99901", { "I.A": true, "I.B": true }), "review");
    assert.equal(outcome("99901", { "I.A": false, "I.B": false }), "review");
  });
  it("'or' between items is any: one holds → approved", () => {
    assert.equal(outcome("99902", { "I.A": false, "I.B": true, "I.C": false }), "approved");
    assert.equal(outcome("99902", { "I.A": false, "I.B": false, "I.C": false }), "denied");
  });
  it("an exclusion section is never approved, whatever is answered", () => {
    assert.equal(outcome("99903", { "II.A": true, "II.B": true }), "not-covered");
    assert.equal(outcome("99903", { "II.A": false, "II.B": false }), "not-covered");
  });
});
