/**
 * A covered statement with no list (QA pass 5: LCD "A. Brow ptosis repair is considered reasonable and
 * necessary when …", commercial "X is medically necessary for members with Y who have failed Z"): its
 * condition, or its reference to an earlier section, is what a request must meet. Before, such a section
 * had no tree and a code bound to it was decided `not-covered` — a denial of what the policy covers. A
 * section with no tree that states no non-coverage decides `review`, never an adverse outcome.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { decide } from "./decide.js";
import { loadLibrary } from "./library.js";

const DOC = `Medical Policy: Widget Therapy
Policy Number: MP-W
Effective Date: 01/01/2025

Policy Statement

I. Widget therapy is considered medically necessary for members with chronic widget syndrome who have failed conservative therapy.

II. Continued widget therapy is medically necessary when the member continues to meet all criteria in section I.

III. Widget therapy is considered medically necessary.

IV. Widget therapy is not medically necessary for acute widget syndrome.

V. Records of the conservative therapy tried are sent with the request.
`;

const dir = mkdtempSync(join(tmpdir(), "medpolicy-statement-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const folder = join(dir, "MP-W");
mkdirSync(folder, { recursive: true });
writeFileSync(join(dir, "library.json"), JSON.stringify({ format: "medpolicy-library", version: 1 }));
writeFileSync(join(folder, "v2025.txt"), DOC);
writeFileSync(
  join(folder, "sources.json"),
  JSON.stringify([
    {
      file: "v2025.txt",
      origin: "test",
      sha256: createHash("sha256").update(DOC).digest("hex"),
      format: "text",
    },
  ]),
);
const SECTIONS = ["I", "II", "III", "IV", "V"];
writeFileSync(
  join(folder, "bindings.json"),
  JSON.stringify({
    policy: "MP-W",
    codes: SECTIONS.map((section, i) => ({ codes: [`9995${i}`], section })),
  }),
);
const lib = loadLibrary(dir);

function outcome(section: string, answers: Record<string, boolean>): string {
  const code = `9995${SECTIONS.indexOf(section)}`;
  return decide(
    lib,
    {
      member: { state: "TX", birthDate: "1960-01-01", lineOfBusiness: "commercial" },
      service: { codes: [code], dateOfService: "2025-06-01" },
      answers,
    },
    { today: "2025-06-01", trace: false },
  ).outcome;
}

describe("a coverage statement with no list", () => {
  const v = lib.entries.find((e) => e.policy.identity.id === "MP-W")!.policy;
  const sec = (id: string) => v.sections.find((s) => s.id === id)!;

  it("asks its condition at the section's id, with certainty", () => {
    assert.equal(sec("I").kind, "medically-necessary");
    assert.equal(sec("I").uncertain, undefined);
    assert.equal(
      sec("I").tree?.condition,
      "members with chronic widget syndrome who have failed conservative therapy",
    );
    assert.equal(outcome("I", { I: true }), "approved");
    assert.equal(outcome("I", { I: false }), "denied");
    assert.equal(outcome("I", {}), "pended");
  });

  it("whose condition is a reference evaluates the section it names", () => {
    assert.equal(sec("II").uncertain, undefined);
    assert.deepEqual(
      sec("II").tree?.children.map((c) => (c.kind === "ref" ? `ref ${c.target}` : c.kind)),
      ["ref I"],
    );
    assert.equal(sec("II").tree?.condition, undefined, "the reference is not asked again as a condition");
    assert.equal(outcome("II", { I: true }), "approved");
    assert.equal(outcome("II", { I: false }), "denied");
  });

  it("that asks nothing decides review, never approved", () => {
    assert.match(sec("III").uncertain?.join() ?? "", /asks nothing/);
    assert.equal(outcome("III", {}), "review");
  });

  it("a non-coverage statement is still not covered; a section stating nothing is review, not a denial", () => {
    assert.equal(sec("IV").kind, "not-proven");
    assert.equal(outcome("IV", {}), "not-covered");
    assert.equal(sec("V").kind, "other");
    assert.equal(sec("V").tree, undefined);
    assert.equal(outcome("V", {}), "review");
  });
});
