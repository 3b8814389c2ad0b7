/**
 * Authored placements of unplaced text (issue 15): which lines they place, how they change a section's
 * uncertainty, and what they refuse. The ingester's reason format round-trips (property test).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { criteriaSection, testVersion } from "../evaluate/fixtures/version.js";
import {
  type Placement,
  type PolicyVersion,
  parseUnplacedInsideReason,
  unplacedInsideReason,
} from "../model/index.js";
import { applyPlacements, placementMatches } from "./versions.js";

const leaf = (id: string) => ({ kind: "leaf" as const, id, label: id, text: id, line: 3 });
function version(): PolicyVersion {
  const a = {
    ...criteriaSection("A", {
      kind: "all",
      id: "A",
      label: "A",
      text: "A",
      line: 2,
      children: [leaf("A.1")],
    }),
  };
  a.uncertain = [unplacedInsideReason("A", [5, 7], false), "a list's logic assumed"];
  const v = testVersion([
    a,
    criteriaSection("B", { kind: "all", id: "B", label: "B", text: "B", line: 9, children: [leaf("B.1")] }),
  ]);
  v.unplaced = [
    { line: 5, text: "Patients should not be exposed to diathermy.", reason: "paragraph" },
    { line: 7, text: "Exceptions to waiting periods apply to replacements.", reason: "lead-in" },
  ];
  return v;
}
const narrative = (line: number, text: string): Placement => ({
  line,
  text,
  as: "narrative",
  why: "a remark",
});

describe("authored placements", () => {
  it("match by line and the start of the text (whitespace aside), and by version when named", () => {
    const u = { line: 5, text: "Patients  should not\nbe exposed", reason: "" };
    assert.ok(placementMatches(narrative(5, "Patients should not be"), u, "2026-01"));
    assert.ok(!placementMatches(narrative(6, "Patients should not be"), u, "2026-01"));
    assert.ok(!placementMatches(narrative(5, "Patients should be"), u, "2026-01"));
    assert.ok(
      !placementMatches({ ...narrative(5, "Patients should not"), versions: ["2025-01"] }, u, "2026-01"),
    );
  });

  it("placing one of two lines keeps the section uncertain; placing both lifts the ingester's reason only", () => {
    const one = applyPlacements(version(), [narrative(5, "Patients should not be exposed")]);
    assert.deepEqual(one.findings, []);
    assert.deepEqual(
      one.version.unplaced.map((u) => u.line),
      [7],
    );
    assert.equal(one.version.sections[0]!.uncertain?.length, 2);
    const both = applyPlacements(version(), [
      narrative(5, "Patients should not be exposed"),
      narrative(7, "Exceptions to waiting periods"),
    ]);
    assert.deepEqual(both.version.sections[0]!.uncertain, ["a list's logic assumed"]);
    assert.equal(both.version.unplaced.length, 0);
  });

  it("a section placement replaces the ingester's reason by the author's, on the named section", () => {
    const r = applyPlacements(version(), [
      narrative(5, "Patients should not"),
      { line: 7, text: "Exceptions to waiting", as: "section", section: "B", why: "exceptions to B" },
    ]);
    assert.deepEqual(r.version.sections[0]!.uncertain, ["a list's logic assumed"]);
    assert.deepEqual(r.version.sections[1]!.uncertain, [
      "line 7 bears on this section's criteria, placed by an author: exceptions to B",
    ]);
  });

  it("a placement that matches no unplaced line, or names no section of the version, is an error", () => {
    const r = applyPlacements(version(), [
      narrative(6, "Patients should not"),
      { line: 7, text: "Exceptions to waiting", as: "section", section: "Z", why: "?" },
    ]);
    assert.deepEqual(
      r.findings.map((f) => [f.code, f.severity, f.line]),
      [
        ["placement-unmatched", "error", 6],
        ["placement-unmatched", "error", 7],
      ],
    );
    assert.equal(r.version.sections[0]!.uncertain?.length, 2, "line 5 is still unplaced");
  });

  it("the ingester's reason format round-trips", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Z0-9][A-Za-z0-9.-]{0,8}$/),
        fc.array(fc.integer({ min: 1, max: 99999 }), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        (section, lines, more) => {
          assert.deepEqual(parseUnplacedInsideReason(unplacedInsideReason(section, lines, more)), {
            section,
            lines,
            more,
          });
        },
      ),
    );
    assert.equal(parseUnplacedInsideReason("a list's logic assumed"), undefined);
  });
});
