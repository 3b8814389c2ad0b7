/**
 * QA pass 7 (d): wrong approvals and denials in documents written after payers the earlier passes read
 * least — Humana, Cigna/Express Scripts, Kaiser, Medicare Advantage plans citing NCDs, Highmark, Florida
 * Blue, Texas Medicaid, eviCore and specialty pharmacy step therapy — each finding on synthetic documents
 * in several payers' words, with ordinary text that must read as before.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compile, evaluateSection } from "../evaluate/index.js";
import { lineRule, type SectionOutcome } from "../library/line-rule.js";
import type { Section } from "../model/index.js";
import { htmlToText } from "./formats/index.js";
import { ingest } from "./index.js";
import { readLeadIn } from "./leadin.js";

const HEAD = `Medical Policy

Policy Number: MP-Q-0001
Effective Date: 01/01/2025
Policy Title: Gizmo Therapy

POLICY

`;

function version(doc: string) {
  const v = ingest(HEAD + doc).versions[0];
  assert.ok(v);
  return v;
}

function section(doc: string, id: string): Section {
  const s = version(doc).sections.find((x) => x.id === id);
  assert.ok(s?.tree, `section ${id} read with a tree`);
  return s;
}

/**
 * The line outcome a code bound to section `id` would get on `answers`: the section's tree decided, then
 * the library's rule (an uncertain reading, or an exclusion list beside it, decides `review`).
 */
function decide(doc: string, id: string, answers: Record<string, boolean>): string {
  const v = version(doc);
  const s = v.sections.find((x) => x.id === id);
  assert.ok(s);
  const o = evaluateSection(compile(v), id, { answers, facts: {}, dateOfService: "2026-01-01" }).outcome;
  return lineRule(v, s, o as SectionOutcome).outcome;
}

/** A lead-in's reading as "any", "atLeast2", "unsupported", "any+qualified". */
function lead(text: string): string {
  const l = readLeadIn(text, false);
  const k = l.unsupported ? "unsupported" : l.kind === "atLeast" ? `atLeast${l.n}` : l.kind;
  return l.qualified ? `${k}+qualified` : k;
}

describe("QA pass 7: two quantifiers over one list", () => {
  for (const [text, want] of [
    [
      "Member has tried and failed one of the following preferred agents AND one of the following phototherapy regimens:",
      "unsupported",
    ],
    [
      "Patient has had an inadequate response to ONE of the following OR is intolerant to TWO of the following:",
      "unsupported",
    ],
    ["Trial of at least one of the following and all of the following supportive measures:", "unsupported"],
    ["Failure of either of the following, and both of the following:", "unsupported"],
    // Negative: one quantifier, whatever else the lead-in says.
    ["Approve if the patient meets ONE of the following (A or B):", "any"],
    ["The patient meets ALL of the following (i, ii, and iii):", "all"],
    ["Patient meets all criteria in 1. above and all of the following:", "all"],
    ["Patient has at least two of the following, as documented in the medical record:", "atLeast2"],
  ] as [string, string][]) {
    it(`"${text}" → ${want}`, () => assert.equal(lead(text), want));
  }

  const STEP = `Gizmora will be approved when ALL of the following criteria are met:
A. Diagnosis of moderate to severe atopic dermatitis; AND
B. Member has tried and failed one of the following preferred agents AND one of the following phototherapy regimens:
   1. Dupilumab
   2. Tralokinumab
   3. Narrowband UVB for 12 weeks
   4. PUVA for 12 weeks
`;
  it("one preferred agent and no phototherapy is not approved (it was: `any` of all four)", () => {
    const s = section(STEP, "I");
    assert.ok(s.uncertain?.some((u) => u.includes("one of the following preferred agents AND one of")));
    const answers = { "I.A": true, "I.B.1": true, "I.B.2": false, "I.B.3": false, "I.B.4": false };
    assert.notEqual(decide(STEP, "I", answers), "approved");
  });
});

describe("QA pass 7: words after the quantifier that restrict the items", () => {
  for (const [text, want] of [
    [
      "Documented failure, contraindication or intolerance to two of the following, one of which must be a topical corticosteroid:",
      "atLeast2+qualified",
    ],
    [
      "Trial and failure of at least two of the following preferred agents from different drug classes:",
      "atLeast2+qualified",
    ],
    [
      "Inadequate response to at least 2 of the following, including at least one TNF inhibitor:",
      "atLeast2+qualified",
    ],
    [
      "Trial of two (2) of the following formulary alternatives, each for at least 30 days:",
      "atLeast2+qualified",
    ],
    ["Failure of at least one of the following for a minimum of 3 months:", "atLeast1+qualified"],
    ["Intolerance to one of the following agents with different mechanisms of action:", "any+qualified"],
    ["Use of any of the following of at least 8 weeks:", "any+qualified"],
    // Negative: an approval's length, a population, a documentation note, inline examples.
    ["any of the following (approve for 6 months):", "any"],
    ["all of the following criteria are met for members between the ages of 3 and 20:", "all"],
    ["one of the following, as documented in the medical record:", "any"],
    ["at least two of the following (i, ii, and iii):", "atLeast2"],
    ["one of the following symptoms, including but not limited to:", "any"],
    ["Failure of at least 3 months of one of the following:", "any"],
  ] as [string, string][]) {
    it(`"${text}" → ${want}`, () => assert.equal(lead(text), want));
  }

  const CLASSES = `Gizmab is medically necessary for plaque psoriasis when all of the following are met:
1. Age 18 years or older; and
2. Trial and failure of at least two of the following preferred agents from different drug classes:
   a. Methotrexate
   b. Cyclosporine
   c. Acitretin
`;
  it("two agents (the classes unasked) are not approved: the section decides review", () => {
    const s = section(CLASSES, "I");
    assert.ok(s.uncertain?.some((u) => u.includes("from different drug classes")));
    const answers = { I: true, "I.1": true, "I.2.a": true, "I.2.b": true, "I.2.c": false };
    assert.notEqual(decide(CLASSES, "I", answers), "approved");
  });
  const DURATION = `Gizmab is medically necessary for chronic migraine when all of the following are met:
1. Member is 18 years of age or older; and
2. Trial of two (2) of the following preventive medications, each for at least 8 weeks:
   a. Topiramate
   b. Propranolol
   c. Amitriptyline
`;
  it("a one-week trial of two agents is not approved (the 8 weeks was lost)", () => {
    const answers = { I: true, "I.1": true, "I.2.a": true, "I.2.b": true, "I.2.c": false };
    assert.notEqual(decide(DURATION, "I", answers), "approved");
    assert.ok(version(DURATION).findings.some((f) => f.code === "leadin-qualified" && f.criterion === "I.2"));
  });
  it("without the duration the same list is certain and approves", () => {
    const plain = DURATION.replace(", each for at least 8 weeks", "");
    assert.equal(section(plain, "I").uncertain, undefined);
    const answers = { I: true, "I.1": true, "I.2.a": true, "I.2.b": true, "I.2.c": false };
    assert.equal(decide(plain, "I", answers), "approved");
  });
});

describe("QA pass 7: a lead-in between two inner lists glued into a bullet", () => {
  const HTML = `<h2>Policy</h2>
<p>Transcatheter gizmo replacement is covered when all of the following conditions are met:</p>
<ol>
<li>The procedure is furnished with an FDA-approved device; and</li>
<li>The hospital has at least one of the following:
  <ul><li>On-site heart surgery program</li><li>Cardiac catheterization lab</li></ul>
  and all of the following:
  <ul><li>Post-procedure intensive care facility</li><li>Echocardiography</li></ul>
</li>
</ol>`;
  const TEXT = `Gizmo therapy is covered when all of the following conditions are met:

1. The procedure is furnished with an FDA-approved device; and
2. The hospital has at least one of the following:
    • On-site heart surgery program
    • Cardiac catheterization lab
   And all of the following:
    • Post-procedure intensive care facility
    • Echocardiography
`;
  it("HTML (Wellcare's <li> with two lists): a hospital with a heart program and no ICU is not approved", () => {
    const doc = htmlToText(HTML).replace(/^Policy\n/, "");
    const s = section(doc, "I");
    assert.ok(s.uncertain?.some((u) => u.includes("leads into a list")));
    const answers = { "I.1": true, "I.2.a": true, "I.2.b": false, "I.2.c": false, "I.2.d": false };
    assert.notEqual(decide(doc, "I", answers), "approved");
  });
  it("text bullets: the same, and lint says which criterion", () => {
    const v = version(TEXT);
    assert.ok(v.findings.some((f) => f.code === "leadin-no-list" && f.criterion === "I.2.b"));
    assert.notEqual(decide(TEXT, "I", { "I.1": true, "I.2.a": true }), "approved");
  });
  it("negative: an item that leads into its own list, or lists inline after its colon, stays certain", () => {
    const own = `Gizmo therapy is covered when all of the following conditions are met:

1. The procedure is furnished with an FDA-approved device; and
2. The hospital has at least one of the following:
    • On-site heart surgery program
    • Cardiac catheterization lab
`;
    assert.equal(section(own, "I").uncertain, undefined);
    const inline = `Gizmo therapy is covered when all of the following conditions are met:

1. Failure of one of the following: methotrexate, leflunomide or sulfasalazine; and
2. Prescribed by a rheumatologist.
`;
    assert.equal(section(inline, "I").uncertain, undefined);
  });
});

describe("QA pass 7: a statement of the other kind after a statement with no list", () => {
  const HIGHMARK = `Tibial nerve stimulation is considered medically necessary for overactive bladder when the individual meets ALL of the following:
• Documented diagnosis of urge incontinence; and
• Failure of behavioral therapy for at least 8 weeks

Maintenance tibial nerve stimulation is considered medically necessary when there is a documented response after an initial 12-week course.

Repeat initial courses of tibial nerve stimulation are not medically necessary.
`;
  it("Highmark: 'Repeat initial courses … are not medically necessary.' is a section of its own, a limit", () => {
    const v = version(HIGHMARK);
    assert.deepEqual(
      v.sections.map((s) => s.kind),
      ["medically-necessary", "medically-necessary", "not-proven"],
    );
    assert.doesNotMatch(v.sections[1]!.text, /Repeat/);
    assert.ok(v.findings.some((f) => f.code === "limit-not-evaluated" && f.criterion === "III"));
    // A repeat course was approved under I: the limit glued into II was asked by no section.
    assert.notEqual(decide(HIGHMARK, "I", { I: true, "I.A": true, "I.B": true }), "approved");
  });
  const FLBLUE = `Gizmotinib meets the definition of medical necessity for members with chronic myeloid leukemia when ALL of the following criteria are met:
1. The member is 18 years of age or older
2. Diagnosis of chronic phase CML

Continuation of therapy with gizmotinib meets the definition of medical necessity when the member has no evidence of disease progression.

Gizmotinib is considered experimental or investigational for all other indications, including use in combination with other tyrosine kinase inhibitors.
`;
  it("Florida Blue: combined use named in an 'all other indications' statement makes the covered sections review", () => {
    const v = version(FLBLUE);
    assert.equal(v.sections[2]?.kind, "not-proven");
    assert.ok(v.sections[0]!.uncertain?.some((u) => u.includes("circumstance")));
    assert.notEqual(decide(FLBLUE, "I", { I: true, "I.1": true, "I.2": true }), "approved");
  });
  const TEXAS = `Gizmo chairs are a benefit of Texas Medicaid when all of the following criteria are met:

• The client is 21 years of age or younger; and
• A physical therapist has evaluated the client within the past 90 days.

Gizmo chairs are not a benefit for clients who reside in a nursing facility.

Documentation of the following must be maintained in the client's medical record:
• Physician order
• Therapist evaluation
`;
  it("Texas Medicaid: 'not a benefit for clients who reside in a nursing facility' is not glued to the documentation list", () => {
    const v = version(TEXAS);
    assert.equal(v.sections[1]?.kind, "not-proven");
    assert.doesNotMatch(v.sections[1]!.text, /Documentation/);
    assert.ok(v.findings.some((f) => f.code === "circumstance-not-evaluated" && f.criterion === "II"));
    assert.notEqual(decide(TEXAS, "I", { "I.A": true, "I.B": true }), "approved");
  });
  const LIST = `Gizmo therapy is considered medically necessary when all of the following are met:
• Diagnosis of chronic widget syndrome; and
• Failure of conservative therapy for 6 weeks

`;
  it("negative: Medicaid's 'clients who do not meet the criteria' is no circumstance", () => {
    const doc = TEXAS.replace(
      "clients who reside in a nursing facility",
      "clients who do not meet the criteria above",
    );
    assert.ok(!version(doc).findings.some((f) => f.code === "circumstance-not-evaluated"));
  });
  it("negative: a statement going on in the same kind stays one section", () => {
    const same = `${LIST}Maintenance gizmo therapy is considered medically necessary for members who responded.

Maintenance gizmo therapy is considered medically necessary when all of the following are met:
• Response documented at 12 weeks; and
• No adverse events
`;
    const v = version(same);
    assert.equal(v.sections.length, 2);
    assert.match(v.sections[1]!.text, /who responded\..*when all of the following/);
    // "… not covered unless all of the following" is the same statement's way in, not another kind.
    const wayIn = `${LIST}Maintenance gizmo therapy is considered medically necessary for members who responded.

Maintenance gizmo therapy is not covered unless all of the following criteria are met:
• Response documented at 12 weeks; and
• No adverse events
`;
    assert.equal(version(wayIn).sections.length, 2);
    // Labelled sections keep their paragraphs (their reading is the labels').
    const labelled = `I. Gizmo therapy is considered medically necessary for chronic widget syndrome.

Gizmo therapy is not medically necessary for acute widget syndrome.
`;
    assert.equal(version(labelled).sections.length, 1);
  });
  it("negative: other indications not covered after a list-less statement leave the covered ones certain", () => {
    const doc = `${LIST}Maintenance gizmo therapy is considered medically necessary for members who responded.

Gizmo therapy is considered investigational for all other indications.
`;
    const v = version(doc);
    assert.deepEqual(
      v.sections.map((s) => s.kind),
      ["medically-necessary", "medically-necessary", "not-proven"],
    );
    assert.equal(v.sections[0]!.uncertain, undefined);
    assert.equal(v.sections[1]!.uncertain, undefined);
    assert.equal(decide(doc, "I", { "I.A": true, "I.B": true }), "approved");
  });
});

describe("QA pass 7: a dose limit stated as non-coverage", () => {
  for (const limit of [
    "Gizmora will not be approved for doses exceeding 300 mg every 2 weeks.",
    "Requests for doses greater than 140 mg per 28 days are not medically necessary.",
    "Gizmora is not covered when it exceeds the FDA-approved maximum dose.",
  ]) {
    it(`"${limit}" makes the covered sections decide review`, () => {
      const doc = `I. Gizmora will be approved when ALL of the following criteria are met:
   A. Diagnosis of atopic dermatitis; AND
   B. Member is 12 years of age or older.

II. ${limit}
`;
      const v = version(doc);
      assert.ok(v.findings.some((f) => f.code === "limit-not-evaluated" && f.criterion === "II"));
      assert.notEqual(decide(doc, "I", { "I.A": true, "I.B": true }), "approved");
    });
  }
  it("negative: a not-covered indication that names a dose form is no limit", () => {
    const doc = `I. Gizmora will be approved when ALL of the following criteria are met:
   A. Diagnosis of atopic dermatitis; AND
   B. Member is 12 years of age or older.

II. High-dose gizmora is considered investigational for alopecia areata.
`;
    assert.equal(version(doc).sections[0]!.uncertain, undefined);
    assert.equal(decide(doc, "I", { "I.A": true, "I.B": true }), "approved");
  });
});

describe("QA pass 7: a circumstance in the second sentence of a not-covered statement", () => {
  const CIGNA = `Radiofrequency ablation is considered medically necessary for Barrett's esophagus when ALL of the following criteria are met:
• histologically confirmed high-grade dysplasia
• individual is 18 years of age or older

Radiofrequency ablation is considered experimental, investigational or unproven for ANY other indication, including nondysplastic Barrett's esophagus.

Radiofrequency ablation is not covered for an individual with a life expectancy of less than 5 years.
`;
  it("Cigna: 'not covered for an individual with a life expectancy of less than 5 years' is not hidden by 'ANY other indication'", () => {
    const v = version(CIGNA);
    assert.ok(v.findings.some((f) => f.code === "circumstance-not-evaluated"));
    assert.equal(decide(CIGNA, "I", { I: true, "I.A": true, "I.B": true }), "review");
  });
  it("negative: other indications in two sentences stay no circumstance", () => {
    const doc = CIGNA.replace(
      "Radiofrequency ablation is not covered for an individual with a life expectancy of less than 5 years.",
      "Radiofrequency ablation is not covered for indications other than those listed above.",
    );
    assert.ok(!version(doc).findings.some((f) => f.code === "circumstance-not-evaluated"));
    assert.equal(decide(doc, "I", { I: true, "I.A": true, "I.B": true }), "approved");
  });
});
