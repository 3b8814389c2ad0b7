/**
 * QA pass 7, second reading: the rules added in QA pass 7 read on ordinary text they were not written
 * for — a product that "covers the wound", a study's "Inclusion Criteria", a criteria table whose rows
 * answer "No", a caption with "or" in it, a duration each item states itself, the examples of a
 * not-covered statement — each on synthetic documents in several payers' words, with the text the rule
 * was written for still read as before.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compile, evaluateSection } from "../evaluate/index.js";
import { lineRule, type SectionOutcome } from "../library/line-rule.js";
import { ingest } from "./index.js";

const HEAD = `Medical Policy

Policy Number: MP-Q-0001
Effective Date: 01/01/2025
Policy Title: Gizmo Therapy

POLICY

`;

function version(doc: string, head = HEAD) {
  const v = ingest(head + doc).versions[0];
  assert.ok(v);
  return v;
}

/** The line outcome a code bound to section `id` would get on `answers` (uncertain → review). */
function decide(doc: string, id: string, answers: Record<string, boolean>): string {
  const v = version(doc);
  const s = v.sections.find((x) => x.id === id);
  assert.ok(s, `section ${id}`);
  const o = evaluateSection(compile(v), id, { answers, facts: {}, dateOfService: "2026-01-01" }).outcome;
  return lineRule(v, s, o as SectionOutcome).outcome;
}

const LIST = `Gizmo therapy is considered medically necessary when ALL of the following are met:
• Documented chronic wound; and
• Failure of standard care for 4 weeks

`;

describe("QA pass 7, second reading: a product that covers a wound is no payer that covers a service", () => {
  for (const line of [
    "The Gizmo Patch covers the wound bed when the wound is exudative.",
    "Gizmo Shield covers the incision when the member is discharged home.",
    "The Gizmo Sleeve covers the entire ulcer for 7 days after placement.",
  ]) {
    it(`"${line}" is no covered section of its own`, () => {
      const v = version(`${LIST}${line}\n`);
      // It was section II, covered, approved on its "when …" alone.
      assert.equal(v.sections.length, 1);
      assert.equal(v.sections[0]?.kind, "medically-necessary");
    });
  }
  it("negative: a product that does not cover the ulcer does not make a covered statement not-covered", () => {
    const doc = `Gizmo compression is medically necessary for venous ulcers when the Gizmo Sleeve does not cover the entire ulcer and ALL of the following are met:
• Documented chronic wound; and
• Failure of standard care
`;
    assert.equal(version(doc).sections[0]?.kind, "medically-necessary");
  });
  it("negative: payers that cover, and do not cover, are read as before", () => {
    for (const [stmt, kind] of [
      [
        "Humana covers gizmo stimulation for members with chronic wounds when ALL of the following are met:",
        "medically-necessary",
      ],
      ["The Department covers gizmo chairs when ALL of the following are met:", "medically-necessary"],
      [
        "The Texas Medicaid Program covers gizmo chairs when ALL of the following are met:",
        "medically-necessary",
      ],
      ["Medica does not cover gizmo therapy for members with any of the following:", "not-proven"],
    ] as const) {
      const v = version(`${stmt}\n• Documented chronic wound\n• Failure of standard care\n`);
      assert.equal(v.sections[0]?.kind, kind, stmt);
    }
  });
});

describe("QA pass 7, second reading: a study's Inclusion / Exclusion Criteria are not the policy's", () => {
  const doc = (heading: string, study: string) => `${LIST}${heading}

${study}

Inclusion Criteria
- Age 18 to 75
- Ulcer of at least 2 cm

Exclusion Criteria
- Prior gizmo therapy
- Pregnancy

The trial found no benefit.

REFERENCES

1. Smith J. Gizmo. 2020.
`;
  for (const [heading, study] of [
    ["SCIENTIFIC EVIDENCE", "A randomized trial enrolled 200 adults with chronic wounds."],
    ["Clinical Studies", "Smith et al. (2020) studied 120 participants at four centers."],
    ["Published Literature", "The pivotal cohort study included adults with venous ulcers."],
  ] as const) {
    it(`under "${heading}" they are the study's: one section, certain, approved on its criteria`, () => {
      const d = doc(heading, study);
      const v = version(d);
      // The study's "Exclusion Criteria" became a not-covered section II and its inclusion criteria
      // unplaced in section I (review).
      assert.equal(v.sections.length, 1);
      assert.equal(v.sections[0]?.uncertain, undefined);
      assert.equal(decide(d, "I", { "I.A": true, "I.B": true }), "approved");
    });
  }
  it("negative: a policy's own Exclusion Criteria heading after its criteria is read as before", () => {
    const v = version(`${LIST}Exclusion Criteria

Gizmo therapy is not medically necessary for members with an active infection.
`);
    assert.equal(v.sections[1]?.kind, "not-proven");
  });
  it("negative: behavioral health's Admission Criteria after a description of the service are criteria", () => {
    const v = version(
      `Residential treatment is a 24-hour level of care. Studies show benefit for adolescents.

Admission Criteria

Residential treatment is medically necessary when ALL of the following are met:
1. DSM-5 diagnosis; and
2. Failure of outpatient care.
`,
      `Medical Policy

Policy Number: MP-Q-0002
Effective Date: 01/01/2025
Policy Title: Residential Treatment

DESCRIPTION

`,
    );
    assert.equal(v.sections[0]?.kind, "medically-necessary");
  });
});

describe("QA pass 7, second reading: a criteria table whose requirements answer Yes or No", () => {
  const doc = (rows: string) => `Gizmo therapy is medically necessary when ALL of the following are met:

| Criterion | Requirement |
|---|---|
${rows}`;
  it("'Current smoker | No' beside 'Age | 18 years or older' is a requirement, not a coverage verdict", () => {
    const d = doc(`| Age | 18 years or older |
| Current smoker | No |
| Prior gizmo surgery | No |
| Wound present 4 weeks | Yes |
`);
    const v = version(d);
    // The No rows were reported as "not covered" and the section sent to review.
    assert.equal(v.sections[0]?.uncertain, undefined);
    assert.equal(v.sections[0]?.tree?.children.length, 4);
  });
  it("negative: a table whose every row states its coverage is still read row by row", () => {
    const d = `Gizmo therapy is medically necessary for ANY of the following conditions:

| Diabetic ulcer | Yes |
| Pressure ulcer | No |
`;
    const v = version(d);
    assert.ok(v.unplaced.some((u) => /Pressure ulcer/.test(u.text)));
    assert.notEqual(decide(d, "I", { "I.A": true }), "approved");
  });
});

describe("QA pass 7, second reading: table captions", () => {
  const doc = (caption: string) => `Gizmo therapy is medically necessary when ALL of the following are met:

${caption}

| Criterion | Requirement |
|---|---|
| Age | 18 years or older |
| Wound | Present 4 weeks |
`;
  for (const caption of [
    "Table 1: Indications for initial or continued therapy",
    "Table 2. Adults or adolescents",
    "Table 1: Required history and evidence of disease",
    "Table 3 – Medical history required",
  ]) {
    it(`"${caption}" titles a criteria table: read, certain`, () => {
      const d = doc(caption);
      const v = version(d);
      // An "or" sent the section to review; "history" / "evidence" reported every row, and the statement
      // was left with no section.
      assert.equal(v.sections.length, 1);
      assert.equal(v.sections[0]?.uncertain, undefined);
      assert.equal(decide(d, "I", { "I.A": true, "I.B": true }), "approved");
    });
  }
  it("negative: a caption that says how rows combine, or names a history or evidence, is not read as before", () => {
    assert.ok(version(doc("Table 2: Any one of the following")).sections[0]?.uncertain);
    const dose = version(doc("Table 3: Revision history"));
    assert.ok(dose.unplaced.some((u) => /Age 18/.test(u.text)));
    const evidence = version(doc("Table 4: Summary of evidence"));
    assert.ok(evidence.unplaced.some((u) => /Age 18/.test(u.text)));
  });
});

describe("QA pass 7, second reading: a duration after the quantifier that every item states", () => {
  for (const [lead, items] of [
    [
      "Gizmab is medically necessary when the member has tried at least one of the following for at least 3 months:",
      ["Methotrexate for at least 3 months", "Cyclosporine for at least three (3) months"],
    ],
    [
      "Gizmab is medically necessary when the member has had a trial of ALL of the following, each for at least 30 days:",
      ["Topical corticosteroid for 30 consecutive days", "Calcipotriene for a minimum of 8 weeks"],
    ],
  ] as const) {
    it(`"${lead}" over items stating it is read safely`, () => {
      const d = `${lead}\n1. ${items[0]}\n2. ${items[1]}\n`;
      const v = version(d);
      assert.equal(v.sections[0]?.uncertain, undefined);
      assert.ok(!v.findings.some((f) => f.code === "leadin-qualified"));
    });
  }
  it("negative: items without it, a shorter one, or a window keep the doubt", () => {
    for (const items of [
      ["Methotrexate", "Cyclosporine for at least 3 months"],
      ["Methotrexate for 1 month", "Cyclosporine for 3 months"],
      ["Methotrexate within the past 3 months", "Cyclosporine within 3 months"],
      ["Methotrexate for 3 weeks", "Cyclosporine for 3 weeks"],
    ]) {
      const d = `Gizmab is medically necessary when the member has tried at least one of the following for at least 3 months:\n1. ${items[0]}\n2. ${items[1]}\n`;
      assert.ok(version(d).sections[0]?.uncertain, items.join(" / "));
      assert.notEqual(decide(d, "I", { "I.1": true, "I.2": true }), "approved");
    }
  });
});

describe("QA pass 7, second reading: the examples of a not-covered statement stay its list", () => {
  for (const lead of [
    "Examples include, but are not limited to, the following:",
    "Such indications include the following:",
    "Examples:",
  ]) {
    it(`"${lead}" after "… investigational for all other indications." is the same section`, () => {
      const v = version(`${LIST}Gizmo therapy is considered investigational for all other indications.

${lead}
• Fecal incontinence
• Interstitial cystitis
`);
      // The examples became section III, under no statement of coverage (review).
      assert.equal(v.sections.length, 2);
      assert.equal(v.sections[1]?.kind, "not-proven");
      assert.match(v.sections[1]!.text, /Examples|Such/);
    });
  }
});
