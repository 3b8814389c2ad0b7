/**
 * Structure beyond roman numerals (issue 12): hand-written documents imitating the layouts of other
 * payers — a CMS NCD with lettered sections and bullets, a commercial policy with an unlabeled statement
 * and lists whose logic only trailing connectors carry, an exclusion list, glyph bullets — and the safety
 * rules: a negative statement is never a required leaf of a positive tree, and an uncertain reading is
 * marked so that it decides review.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BranchNode, CriterionNode, Section } from "../model/index.js";
import { sectionKind } from "./criteria.js";
import { ingest } from "./index.js";

function sections(doc: string): Section[] {
  return ingest(doc).versions[0]?.sections ?? [];
}
function outline(n: CriterionNode): string {
  if (n.kind === "leaf") return n.id;
  if (n.kind === "ref") return `${n.id}->${n.target}`;
  const k = n.kind === "atLeast" ? `atLeast${n.n}` : n.kind;
  return `${n.id}:${k}(${n.children.map(outline).join(",")})`;
}
function tree(s: Section | undefined): BranchNode {
  assert.ok(s?.tree, `section ${s?.id} has a tree`);
  return s.tree;
}

const CMS = `Widget Therapy

Publication Number: 100-3
Manual Section Number: 999.1
Manual Section Title: Widget Therapy
Effective Date of this Version: 03/15/2024

Item/Service Description
A. General

Widget therapy applies a widget to the affected joint.

Indications and Limitations of Coverage
B. Nationally Covered Indications

CMS has determined that widget therapy is reasonable and necessary when all of the following criteria are met:

1. The patient has chronic joint pain lasting at least 12 weeks;
2. The patient has failed conservative therapy, as shown by:
    • Physical therapy for 6 weeks; or
    • Medication trial for 4 weeks; or,
    • A documented contraindication to both.
3. The patient must not have:
    • An active joint infection; or,
    • A bleeding disorder.

C. Nationally Non-Covered Indications

CMS will not cover widget therapy in the following circumstances:

1. As a treatment for acute injury; or,
2. As a maintenance therapy.

D. Other

All other uses are left to local contractors.

Revision History
03/2024 - First version.
`;

const COMMERCIAL = `Medical Policy: Gizmo Implants
Policy Number: MP-4711
Effective Date: 01/01/2025

Coverage Rationale

Gizmo implantation is proven and medically necessary when:
Age 18 years or older; and
Severe symptoms present at rest; or
Severe symptoms during sleep; or,
Severe symptoms during exercise

Gizmo implantation is unproven and not medically necessary for all other indications.

Background
Gizmos are small.
`;

describe("structure beyond roman numerals", () => {
  it("reads a CMS NCD: lettered sections keep their letter, kinds from language, bullets by position", () => {
    const r = ingest(CMS);
    const v = r.versions[0]!;
    assert.equal(v.identity.id, "NCD.999.1");
    assert.equal(v.identity.title, "Widget Therapy");
    assert.equal(v.identity.version, "2024-03");
    assert.equal(v.identity.effective, "2024-03-15");
    const [b, c, d] = v.sections;
    assert.deepEqual(
      v.sections.map((s) => [s.id, s.kind]),
      [
        ["B", "medically-necessary"],
        ["C", "not-proven"],
        ["D", "other"],
      ],
    );
    assert.equal(outline(tree(b)), "B:all(B.1,B.2:any(B.2.a,B.2.b,B.2.c),B.3:none(B.3.a,B.3.b))");
    assert.equal(b?.uncertain, undefined);
    // An exclusion list: any one circumstance excludes; never a required all-of.
    assert.equal(outline(tree(c)), "C:any(C.1,C.2)");
    assert.equal(d?.tree, undefined);
  });

  it("reads a commercial policy: unlabeled statement, logic from trailing connectors", () => {
    const s = sections(COMMERCIAL);
    assert.deepEqual(
      s.map((x) => [x.id, x.kind]),
      [
        ["I", "medically-necessary"],
        ["II", "not-proven"],
      ],
    );
    // "; and" then "; or": mixed connectors under a lead-in that states no quantifier — uncertain.
    assert.ok(s[0]?.uncertain?.some((u) => /and.*or|combine/.test(u)));
  });

  it("reads 'or' between bullet items as any, not all", () => {
    const doc = `Coverage Policy

Oxygen therapy is considered medically necessary for members with hypoxemia:
• Saturation below 88% at rest; or
• Saturation below 88% during sleep; or,
• Saturation below 88% during exercise
`;
    const s = sections(doc);
    assert.equal(outline(tree(s[0])), "I:any(I.A,I.B,I.C)");
    assert.equal(s[0]?.uncertain, undefined);
  });

  it("reads glyph bullets (private-use and 'o' second level)", () => {
    const doc = `Clinical Indications

Thing is considered medically necessary when ALL of the following are met:
\uF0B7 First requirement holds
\uF0B7 Second requirement holds, with either of the following:
    o Option one
    o Option two
`;
    const s = sections(doc);
    assert.equal(outline(tree(s[0])), "I:all(I.A,I.B:any(I.B.1,I.B.2))");
  });

  it("a list whose lead-in says nothing and whose items have no connectors is uncertain", () => {
    const doc = `Policy Statement

Widgets are covered for members who have:
• a diagnosis of joint pain
• an order from a physician
`;
    const s = sections(doc);
    assert.equal(s[0]?.kind, "medically-necessary");
    assert.ok(s[0]?.uncertain && s[0].uncertain.length > 0, "uncertain reading is recorded");
    const lint = ingest(doc).findings.filter((f) => f.code === "section-uncertain");
    assert.ok(lint.length > 0, "lint says why");
  });

  it("a negative statement is never a required leaf of a positive tree", () => {
    const doc = `Coverage Rationale

Gadget therapy is medically necessary when all of the following criteria are met:
• Diagnosis of gadget syndrome; and
• Failure of standard care

Current evidence does not support gadget therapy for children.
`;
    const s = sections(doc);
    assert.equal(s[0]?.kind, "medically-necessary");
    const leaves = JSON.stringify(s[0]?.tree);
    assert.ok(!/does not support/.test(leaves));
    assert.equal(s[1]?.kind, "not-proven");
  });

  it("a further list with its own lead-in is a block <id>-<k> whose items restart", () => {
    const doc = `Indications and Limitations of Coverage
B. Nationally Covered Indications

Devices are reasonable and necessary for the following indications:

1. Indication one.
2. Indication two.

For each of the indications above, the following additional criteria must also be met:

1. Patient is stable;
2. Patient consents.
`;
    const s = sections(doc);
    assert.equal(outline(tree(s[0])), "B:all(B-1:any(B.1,B.2),B-2:all(B-2.1,B-2.2))");
  });

  it("kinds from language: whichever phrase comes first", () => {
    assert.equal(sectionKind("X is not medically necessary for Y", true), "not-proven");
    assert.equal(sectionKind("X is medically necessary when", true), "medically-necessary");
    assert.equal(
      sectionKind("X is considered experimental, investigational or unproven", false),
      "not-proven",
    );
    assert.equal(sectionKind("X is reasonable and necessary when", true), "medically-necessary");
    assert.equal(sectionKind("Program payment will not be made for X", false), "other");
    assert.equal(
      sectionKind("No program payment may be made for X in the following conditions:", true),
      "not-proven",
    );
    assert.equal(sectionKind("Requirements for X:", true), "uncertain");
  });

  it("ingests a coverage document with no criteria (with a finding), refuses text that is no policy", () => {
    const r = ingest(
      `Indications and Limitations of Coverage\n\nCoverage is described in chapter 15 of the manual.\n`,
    );
    assert.equal(r.versions[0]?.sections.length, 0);
    assert.ok(r.findings.some((f) => f.code === "no-criteria"));
  });

  it("a requirement paragraph inside an item is its next criterion; beside a 'must not have' list, both are required", () => {
    const doc = `Indications and Limitations of Coverage
B. Nationally Covered Indications

Gizmos are reasonable and necessary for the following indications:

1. Patients with condition one. Patients must not have:
    • Exclusion alpha; or,
    • Exclusion beta.

   For these patients, a shared decision making encounter must occur before implantation.

2. Patients with condition two.

   For these patients, a formal encounter must occur.
`;
    const s = sections(doc);
    assert.equal(outline(tree(s[0])), "B:any(B.1:all(B.1-1:none(B.1.a,B.1.b),B.1.c),B.2:all(B.2.a))");
    const b1 = tree(s[0]).children[0] as BranchNode;
    assert.equal(b1.condition, "Patients with condition one.");
    assert.equal(s[0]?.uncertain, undefined);
  });

  it("items that each state their own scope ('For X, patients must…') are alternatives", () => {
    const doc = `Coverage Policy

Stimulation is covered only under the following conditions:

1. The device is approved.
2. For type A stimulation to be considered medically necessary, patients must meet all of the following criteria:
    a. First A criterion.
    b. Second A criterion.
3. For type B stimulation to be considered medically necessary, patients must meet all of the following criteria:
    a. First B criterion.
    b. Second B criterion.
`;
    const s = sections(doc);
    assert.equal(outline(tree(s[0])), "I:all(I.1,I-g1:any(I.2:all(I.2.a,I.2.b),I.3:all(I.3.a,I.3.b)))");
  });

  it("reads titled sub-policies that restart at I. apart, ids prefixed S<n>.", () => {
    const doc = `Clinical Policy: Spine Procedures
Reference Number: CP.MP.999

Policy/Criteria

Cervical Disc Arthroplasty

I. It is the policy of health plans that cervical disc arthroplasty is medically necessary when all of the following are met:
A. Alpha;
B. Beta.
II. It is the policy of health plans that cervical disc arthroplasty is investigational for all other indications.

Lumbar Fusion

I. It is the policy of health plans that lumbar fusion is medically necessary when all of the following are met:
A. Gamma;
B. Delta.

Background
Text.
`;
    const v = ingest(doc).versions[0]!;
    assert.deepEqual(
      v.subPolicies?.map((p) => [p.id, p.title]),
      [
        ["S1", "Cervical Disc Arthroplasty"],
        ["S2", "Lumbar Fusion"],
      ],
    );
    assert.deepEqual(
      v.sections.map((x) => [x.id, x.kind, x.subPolicy]),
      [
        ["S1.I", "medically-necessary", "S1"],
        ["S1.II", "not-proven", "S1"],
        ["S2.I", "medically-necessary", "S2"],
      ],
    );
    assert.equal(outline(tree(v.sections[2])), "S2.I:all(S2.I.A,S2.I.B)");
  });

  it("removes running footers repeated at page breaks, wherever they cut a list", () => {
    const doc = `Acme Medical Coverage Policy
Widget Therapy

Coverage Policy

Widget therapy is considered medically necessary when ALL of the following criteria are met:
\u2022 First requirement
\u2022 Second requirement
Proprietary information of Acme. All rights reserved.
Page 1 of 2
\fAcme Medical Coverage Policy
Widget Therapy
\u2022 Third requirement

References
1. A reference.
Proprietary information of Acme. All rights reserved.
Page 2 of 2
`;
    const s = sections(doc);
    assert.equal(outline(tree(s[0])), "I:all(I.A,I.B,I.C)");
    const leaves = tree(s[0]).children.map((c) => c.text);
    assert.deepEqual(leaves, ["First requirement", "Second requirement", "Third requirement"]);
  });

  it("a negative statement read as an item of a covered list makes the section uncertain, and lint says so", () => {
    const doc = `Coverage Rationale

Gadget therapy is medically necessary when all of the following criteria are met:
• Diagnosis of gadget syndrome; and
• Gadget therapy for children is considered investigational; and
• Failure of standard care
`;
    const r = ingest(doc);
    const s = r.versions[0]?.sections[0];
    assert.ok(s?.uncertain?.some((u) => /states non-coverage/.test(u)));
    assert.ok(r.findings.some((f) => f.code === "negative-leaf" && f.criterion === "I.B"));
  });

  it("headings it does not know start named parts: no region vanishes", () => {
    const doc = `WellCare Clinical Coverage Guideline
Widget Therapy

ELIGIBILITY AND SCOPE NOTES
Widgets are small devices used for joint pain.

COVERAGE CRITERIA
Widget therapy is considered medically necessary when all of the following are met:
• Joint pain for 12 weeks; and
• Failure of physical therapy

POLICY REFERENCE TABLE
Widget codes are listed in the appendix.

BACKGROUND AND RATIONALE
Trials show benefit.
`;
    const v = ingest(doc).versions[0]!;
    const parts = (v.parts ?? []).map(
      (p) => `${p.name}:${p.from}-${p.to}${p.heading ? ` ${p.heading}` : ""}`,
    );
    assert.deepEqual(parts, [
      "header:1-3",
      "other:4-6 ELIGIBILITY AND SCOPE NOTES",
      "criteria:7-11 COVERAGE CRITERIA",
      "coding:12-14 POLICY REFERENCE TABLE",
      "background:15-17 BACKGROUND AND RATIONALE",
    ]);
    assert.equal(outline(tree(v.sections[0])), "I:all(I.A,I.B)");
  });

  it("a connector line between two statements of one item makes them alternatives; its list stays with the second", () => {
    const doc = `Indications and Limitations of Coverage
B. Nationally Covered Indications

1. Devices are covered for patients who meet all of the following:

• Have class IV failure; and
• Are inotrope dependent
  OR
  have a cardiac index below 2.2, and also meet one of the following:
    • Are on optimal management; or
    • Have advanced failure.
`;
    const s = sections(doc);
    const b1 = tree(s[0]).children[0] as BranchNode;
    assert.equal(outline(b1), "B.1:all(B.1.a,B.1.b:any(B.1.b-p1,B.1.b-p2:any(B.1.b.i,B.1.b.ii)))");
    const p2 = (b1.children[1] as BranchNode).children[1] as BranchNode;
    assert.equal(p2.condition, "have a cardiac index below 2.2");
  });

  it("a further list that qualifies 'the above 2 indications' applies to those two only", () => {
    const doc = `Indications and Limitations of Coverage
B. Nationally Covered Indications

Therapy is covered for patients with a diagnosis of disease X with:

• Indication one.

• Indication two.

• Indication three.

  The above 2 indications are considered reasonable and necessary only when:

    1. The lesions are small; and,
    2. The lesions have progressed.
`;
    const s = sections(doc);
    assert.equal(outline(tree(s[0])), "B:any(B.1,B-2:all(B-g1:any(B.2,B.3),B-2.1,B-2.2))");
  });

  it("statements side by side of who may furnish the service are alternatives", () => {
    const doc = `Indications and Limitations of Coverage
B. Nationally Covered Indications

CMS will cover therapy under the following conditions:

• Chronic pain; and
• No surgery planned.

Physicians may furnish therapy in accordance with state requirements.

Nurse practitioners may furnish therapy if they meet all state requirements and have:

• a degree in therapy; and,
• a current license.
`;
    const s = sections(doc);
    assert.equal(outline(tree(s[0])), "B:all(B-1:all(B.1,B.2),B-g1:any(B-p1,B-2:all(B-2.1,B-2.2)))");
    assert.equal(s[0]?.uncertain, undefined);
  });

  it("a list of requirements is never read as alternatives, whatever its lead-in calls it", () => {
    const doc = `Coverage Policy

Therapy is covered for the following conditions:
• The provider must educate the member
• A diagnosis must be confirmed by a sleep test
• Definitions: an event lasts ten seconds
`;
    const s = sections(doc);
    assert.equal(tree(s[0]).kind, "all");
    assert.ok(s[0]?.uncertain && s[0].uncertain.length > 0, "read as all, and uncertain");
  });
});
