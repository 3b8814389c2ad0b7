/**
 * QA pass 7, document structure: headings, titles, ids and where sections start — each finding on
 * synthetic documents in at least two payers' words, with ordinary text that must not trigger the rule.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compile, evaluateSection } from "../evaluate/index.js";
import type { CriterionNode, PolicyVersion, Section } from "../model/index.js";
import { ingest } from "./index.js";

function read(doc: string): PolicyVersion {
  const v = ingest(doc).versions[0];
  assert.ok(v);
  return v;
}

/** A version's sections as "I medically-necessary", … */
function kinds(v: { sections: readonly Section[] }): string[] {
  return v.sections.map((s) => `${s.id} ${s.kind}`);
}

/** A tree as "all(I.1,I.2)". */
function shape(n: CriterionNode | undefined): string {
  if (!n) return "-";
  if (n.kind === "leaf" || n.kind === "ref") return n.id;
  return `${n.kind === "atLeast" ? `atLeast${n.n}` : n.kind}(${n.children.map(shape).join(",")})`;
}

function decide(doc: string, id: string, answers: Record<string, boolean>): string {
  return evaluateSection(compile(read(doc)), id, { answers, facts: {}, dateOfService: "2026-01-01" }).outcome;
}

function header(kind: string, idLine: string, title: string): string {
  return `${kind}\n\n${idLine}\nEffective Date: 02/01/2025\nPolicy Title: ${title}\n\n`;
}

describe("QA pass 7: criteria headings that name the review they are for", () => {
  // Carelon (AIM) clinical appropriateness guideline.
  const CARELON = `${header("Clinical Appropriateness Guidelines", "Guideline Number: CG-RAD-12", "Gizmo Imaging")}Medical Necessity Criteria for Initial Clinical Review

Gizmo imaging is considered medically necessary when ALL of the following are met:
1. Documented chronic widget syndrome; and
2. Failure of 6 weeks of conservative therapy.

Medical Necessity Criteria for Continuation/Reauthorization

Continued gizmo imaging is considered medically necessary when ALL of the following are met:
1. Prior imaging showed a response; and
2. No disease progression.

Limitations/Exclusions

Gizmo imaging is not medically necessary for screening of asymptomatic individuals.

References
1. Smith J. Gizmo. 2020.
`;
  // A pharmacy benefit manager's prior authorization form.
  const PBM = `${header("Pharmacy Policy", "Policy Number: RX-0412", "Gizmab (gizmumab)")}Prior Authorization Criteria for Approval

Initial Authorization
Gizmab will be approved based on ALL of the following criteria:
1. Diagnosis of moderate to severe plaque psoriasis; and
2. Prescribed by a dermatologist.

Continued Coverage
Gizmab will be approved based on ALL of the following criteria:
1. Documentation of positive clinical response; and
2. Patient is not receiving another biologic.

References
1. Smith J. Gizmo. 2020.
`;
  // A commercial drug coverage policy.
  const DRUG = `${header("Drug Coverage Policy", "Policy Number: DCP-0099", "Gizmab (gizmumab)")}Criteria (Initial Approval)

Gizmab is considered medically necessary when ALL of the following are met:
1. Diagnosis of moderate to severe plaque psoriasis; and
2. Prescribed by a dermatologist.

Criteria (Reauthorization)

Gizmab is considered medically necessary for continuation when ALL of the following are met:
1. Documentation of positive clinical response; and
2. Patient is not receiving another biologic.

References
1. Smith J. Gizmo. 2020.
`;
  // A behavioral health level-of-care guideline.
  const BH = `${header("Behavioral Health Medical Necessity Criteria", "Guideline Number: BH-0012", "Residential Gizmo Treatment")}Admission Criteria

Residential gizmo treatment is considered medically necessary when ALL of the following are met:
1. The member has a DSM-5 diagnosis of a gizmo disorder; and
2. The member cannot be safely treated at a lower level of care.

Continued Stay Criteria

Continued stay is considered medically necessary when ALL of the following are met:
1. The member continues to show symptoms requiring this level of care; and
2. The treatment plan is updated weekly.

Exclusion Criteria

Residential gizmo treatment is not medically necessary when ANY of the following are present:
1. The member is medically unstable; or
2. Symptoms are due to a medical condition.

References
1. Smith J. Gizmo. 2020.
`;

  it("each heading reads its section; the continuation is a section of its own (it read as nothing)", () => {
    for (const [doc, want] of [
      [CARELON, ["I medically-necessary", "II medically-necessary", "III not-proven"]],
      [PBM, ["I medically-necessary", "II medically-necessary"]],
      [DRUG, ["I medically-necessary", "II medically-necessary"]],
      [BH, ["I medically-necessary", "II medically-necessary", "III not-proven"]],
    ] as const) {
      const v = read(doc);
      assert.deepEqual(kinds(v), want);
      assert.equal(shape(v.sections[0]?.tree), "all(I.1,I.2)");
      assert.equal(shape(v.sections[1]?.tree), "all(II.1,II.2)");
      assert.ok(!v.findings.some((f) => f.code === "no-criteria"));
      for (const s of v.sections) assert.equal(s.uncertain, undefined, `${s.id}: ${s.uncertain}`);
    }
    assert.equal(decide(CARELON, "I", { "I.1": true, "I.2": true }), "approved");
    assert.equal(decide(BH, "II", { "II.1": true, "II.2": false }), "denied");
  });

  it("'Limitations/Exclusions' over a list is a not-covered section, never items of the covered list", () => {
    for (const mark of [(n: number) => `${n}. `, () => "• "]) {
      const bullet = mark(1);
      for (const heading of ["Limitations/Exclusions", "Exclusions/Limitations"]) {
        const v =
          read(`${header("Medical Policy", "Policy Number: MP-0777", "Gizmo Stimulation")}Coverage Criteria

Gizmo stimulation is considered medically necessary when ALL of the following are met:
${bullet}Chronic widget syndrome for at least 6 months; and
${mark(2)}Failure of conservative therapy.

${heading}
${bullet}Gizmo stimulation for acute pain
${mark(2)}Gizmo stimulation in members with an active infection

Background
Gizmos are devices.
`);
        assert.deepEqual(kinds(v), ["I medically-necessary", "II not-proven"], `${heading} ${bullet}`);
        assert.equal(v.sections[0]?.tree?.children.length, 2);
        assert.equal(v.sections[1]?.tree?.children.length, 2, `${heading} ${bullet}: its items read`);
        assert.deepEqual(v.unplaced, []);
      }
    }
  });

  it("ordinary text: a sentence naming the criteria, a study's 'Inclusion Criteria' in the background", () => {
    const v = read(`${header("Medical Policy", "Policy Number: MP-0779", "Gizmo Stimulation")}Policy

Gizmo stimulation is considered medically necessary when ALL of the following are met:
1. Chronic widget syndrome for at least 6 months; and
2. Failure of conservative therapy.

Medical necessity criteria for initial review are listed above.

Background

A randomized trial enrolled 200 adults.

Inclusion Criteria
Adults 18 to 65 years of age with widget syndrome.

Exclusion Criteria
Pregnancy.

References
1. Smith J. Gizmo. 2020.
`);
    assert.deepEqual(kinds(v), ["I medically-necessary"]);
    assert.ok(
      !(v.parts ?? []).some((p) => p.name === "criteria" && /Inclusion|Exclusion/.test(p.heading ?? "")),
    );
    assert.match(v.background, /Adults 18 to 65/);
  });
});

describe("QA pass 7: a Summary, Overview or Purpose printed before the criteria", () => {
  const docs = [
    // A commercial medical policy: "Summary", then the statement and its list.
    `${header("Medical Policy", "Policy Number: MP-0901", "Gizmo Therapy")}Summary

Gizmo therapy uses a device to treat chronic widget syndrome. This policy describes when it is covered.

Gizmo therapy is considered medically necessary when ALL of the following are met:
1. Diagnosis of chronic widget syndrome; and
2. Failure of conservative therapy for 6 weeks.

Gizmo therapy is considered investigational for all other indications.

References
1. Smith J. Gizmo. 2020.
`,
    // A guideline in capitals with bullets: "OVERVIEW".
    `${header("Clinical Guideline", "Guideline Number: CG-SURG-61", "Gizmo Surgery")}OVERVIEW
Gizmo surgery is a procedure for widget disease.

Gizmo surgery is medically necessary for members who meet ALL of the following:
• Severe widget disease; and
• Widget disease refractory to medication.

Gizmo surgery is not medically necessary for members who do not meet the criteria above.

BACKGROUND
Widget disease is common.
`,
    // "Purpose" and "Description", the lead-in wrapped over two lines.
    `${header("Medical Policy", "Policy Number: MP-0902", "Gizmo Therapy")}Purpose
To describe coverage of gizmo therapy.

Description
Gizmo therapy uses a device.

Coverage of gizmo therapy is considered medically necessary when all of
the following criteria are met:
1. Diagnosis of chronic widget syndrome; and
2. Failure of conservative therapy for 6 weeks.

References
1. Smith J. Gizmo. 2020.
`,
  ];

  it("the criteria after it are read (the whole document read as nothing, only `no-criteria`)", () => {
    for (const doc of docs) {
      const v = read(doc);
      assert.equal(v.sections[0]?.kind, "medically-necessary");
      assert.equal(v.sections[0]?.tree?.kind, "all");
      assert.equal(v.sections[0]?.tree?.children.length, 2);
      assert.equal(v.sections[0]?.uncertain, undefined);
      assert.ok(!v.findings.some((f) => f.code === "no-criteria"));
      // The summary stays the description.
      assert.match(v.description, /Gizmo (?:therapy|surgery) (?:uses|is)|To describe/);
      assert.doesNotMatch(v.description, /medically necessary/);
    }
    assert.equal(decide(docs[1] as string, "I", { "I.A": true, "I.B": false }), "denied");
    assert.equal(decide(docs[0] as string, "I", { "I.1": true, "I.2": true }), "approved");
  });

  it("ordinary text: a description stating coverage with no list, an FDA list, a doc with criteria elsewhere", () => {
    const none = ingest(`${header("Medical Policy", "Policy Number: MP-0903", "Gizmo Therapy")}Summary

This policy describes when gizmo therapy is considered medically necessary.

The FDA approved gizmo therapy for the following indications:
• Chronic widget syndrome
• Acute widget pain

References
1. Smith J. Gizmo. 2020.
`).versions[0];
    assert.deepEqual(none?.sections, []);
    assert.match(none?.description ?? "", /FDA approved/);
    // Criteria under their own heading: the description's coverage lead-in is left where it was.
    const v = read(`${header("Medical Policy", "Policy Number: MP-0904", "Gizmo Therapy")}Description

Gizmo devices are considered covered by Medicare for the following uses:
• Chronic widget syndrome
• Acute widget pain

Policy

Gizmo therapy is considered medically necessary when ALL of the following are met:
1. Diagnosis of chronic widget syndrome; and
2. Failure of conservative therapy for 6 weeks.
`);
    assert.deepEqual(kinds(v), ["I medically-necessary"]);
    assert.equal(v.sections[0]?.line, 15);
  });
});

describe("QA pass 7, second reading: criteria after a description's coverage list", () => {
  it("criteria under a heading the vocabulary lacks, after a description's own coverage list, are read too", () => {
    const v = read(`${header("Medical Policy", "Policy Number: MP-0906", "Gizmo Therapy")}Description

Gizmo devices are covered by Medicare for the following uses:
• Chronic widget syndrome
• Acute widget pain

Gizmo Coverage Position

Gizmo therapy is considered medically necessary when ALL of the following are met:
1. Diagnosis of chronic widget syndrome; and
2. Failure of conservative therapy for 6 weeks.

References
1. Smith J. Gizmo. 2020.
`);
    // Before: only the first list was read, the policy's criteria left silent behind it.
    assert.deepEqual(kinds(v), ["I medically-necessary", "II medically-necessary"]);
    assert.equal(shape(v.sections[1]?.tree), "all(II.1,II.2)");
    // The description's list is read as it would be under a Policy heading (its alternatives linted).
    assert.ok(v.findings.some((f) => f.code === "leadin-alternatives" && f.criterion === "I"));
  });
});

describe("QA pass 7: a roman-numbered outline of the document (I. POLICY, II. PURPOSE, III. CRITERIA)", () => {
  const MEDICAID = `Medicaid Provider Manual

Policy Number: MCD-205
Effective Date: 02/01/2025
Policy Title: Gizmo Therapy

I. POLICY
The Department covers gizmo therapy for eligible members when the criteria below are met.

II. PURPOSE
This policy describes coverage of gizmo therapy.

III. CRITERIA
Gizmo therapy is considered medically necessary when ALL of the following are met:
A. Diagnosis of chronic widget syndrome; and
B. Failure of conservative therapy for 6 weeks.

Gizmo therapy is not medically necessary for acute widget pain.

IV. DEFINITIONS
Widget: a small device.

V. REFERENCES
1. Smith J. Gizmo. 2020.
`;
  const BCBS = `BlueCross BlueShield Medical Policy

Medical Policy Number: 7.01.38
Effective Date: 02/01/2025
Title: Gizmo Therapy

I. Policy Statement
Gizmo therapy may be considered medically necessary when all of the following criteria are met:
1. Diagnosis of chronic widget syndrome;
2. Failure of conservative therapy for 6 weeks.

Gizmo therapy is considered investigational for all other indications.

II. Product Variations
This policy applies to all commercial products.

III. Description/Background
Gizmos are devices used since 1990.

IV. Rationale
Several trials show benefit of gizmo therapy when it is covered.

V. Definitions
Widget: a small device.

VI. References
1. Smith J. Gizmo. 2020.
`;

  it("the outline's headings are parts, the criteria under them are sections (they were sections I–VI)", () => {
    const m = read(MEDICAID);
    assert.deepEqual(kinds(m), ["I medically-necessary", "II not-proven"]);
    assert.equal(shape(m.sections[0]?.tree), "all(I.A,I.B)");
    assert.equal(m.sections[0]?.uncertain, undefined);
    assert.deepEqual(
      (m.parts ?? []).filter((p) => p.heading).map((p) => `${p.name} ${p.heading}`),
      [
        "criteria I. POLICY",
        "description II. PURPOSE",
        "criteria III. CRITERIA",
        "other IV. DEFINITIONS",
        "references V. REFERENCES",
      ],
    );
    assert.deepEqual(m.references, ["Smith J. Gizmo. 2020."]);
    const b = read(BCBS);
    assert.deepEqual(kinds(b), ["I medically-necessary", "II not-proven"]);
    assert.equal(shape(b.sections[0]?.tree), "all(I.1,I.2)");
    assert.equal(b.sections[0]?.uncertain, undefined);
    assert.match(b.background, /Several trials/);
    assert.deepEqual(b.references, ["Smith J. Gizmo. 2020."]);
    assert.equal(decide(BCBS, "I", { "I.1": true, "I.2": false }), "denied");
  });

  it("ordinary text: a policy's own roman sections (Aetna, Centene) stay its sections", () => {
    const v = read(`${header("Clinical Policy Bulletin", "Number: 0999", "Gizmo Therapy")}Policy

I. Medical Necessity
Aetna considers gizmo therapy medically necessary when all of the following are met:
A. Diagnosis of chronic widget syndrome; and
B. Failure of conservative therapy.

II. Experimental and Investigational
Aetna considers gizmo therapy experimental and investigational for all other indications.

III. Policy Limitations
Aetna considers more than one gizmo per lifetime not medically necessary.

Background
Gizmos are devices.

References
1. Smith J. Gizmo. 2020.
`);
    assert.deepEqual(kinds(v), ["I medically-necessary", "II not-proven", "III not-proven"]);
    // One outline-like heading naming a part ("IV. References") is no outline.
    const c =
      read(`${header("Clinical Policy", "Reference Number: CP.MP.999", "Gizmo Therapy")}Policy/Criteria
I. It is the policy of health plans affiliated with Centene Corporation that gizmo therapy is medically necessary when all of the following are met:
A. Diagnosis of chronic widget syndrome;
B. Failure of conservative therapy.
II. It is the policy of health plans affiliated with Centene Corporation that gizmo therapy is investigational for all other indications.

Background
Gizmos are devices.
`);
    assert.deepEqual(kinds(c), ["I medically-necessary", "II not-proven"]);
  });
});

describe("QA pass 7: running footers are not the title, nor criteria", () => {
  /** A text extraction of a four-page PDF, `footer` printed at the foot of each page. */
  function pdf(footer: string, titleBlock: string): string {
    const body = [
      "Medical Policy",
      "",
      "Policy Number: MP-0555",
      "Effective Date: 02/01/2025",
      "",
      titleBlock,
      "",
      "Policy",
      "",
      "Gizmo therapy is considered medically necessary when ALL of the following are met:",
      ...[1, 2, 3, 4, 5, 6, 7].map((i) => `${i}. Requirement number ${i} is documented; and`),
      "8. Final requirement.",
      "",
      "Background",
      "",
      ...Array.from({ length: 30 }, (_, i) => `Background sentence ${i} about gizmos in general practice.`),
      "",
      "References",
      "1. Smith J. Gizmo. 2020.",
    ];
    const out: string[] = [];
    let page = 1;
    body.forEach((l, i) => {
      out.push(l);
      if (i % 14 === 13) out.push("", footer.replace("{p}", String(page++)), "\f");
    });
    out.push("", footer.replace("{p}", String(page)));
    return `${out.join("\n")}\n`;
  }

  it("the title is the document's, not a footer's (three payers' footers, a title line or field)", () => {
    for (const footer of [
      "Proprietary Information of Acme Health Plan",
      "Confidential and Proprietary",
      "Gizmo Therapy — Medical Policy MP-0555 — Page {p} of 4",
      "© 2025 Acme Health. All rights reserved.",
    ]) {
      for (const block of ["Gizmo Therapy", "Policy Title: Gizmo Therapy"]) {
        const v = read(pdf(footer, block));
        assert.equal(v.identity.title, "Gizmo Therapy", `${footer} / ${block}`);
        assert.equal(v.identity.id, "MP-0555");
        assert.equal(shape(v.sections[0]?.tree), "all(I.1,I.2,I.3,I.4,I.5,I.6,I.7,I.8)");
      }
    }
  });

  it("a footer that opens or carries its page number between separators is not glued into a criterion", () => {
    for (const footer of [
      "Page {p} of 4 · Proprietary · Gizmo Therapy Coverage",
      "Gizmo Therapy | Page {p} of 4 | Acme Health",
      "Page {p} of 4 - Acme Health Medical Policy",
    ]) {
      const v = read(pdf(footer, "Gizmo Therapy"));
      const leaf = v.sections[0]?.tree?.children[3];
      assert.equal(leaf?.kind === "leaf" && leaf.text, "Requirement number 4 is documented", footer);
      assert.equal(v.identity.title, "Gizmo Therapy");
    }
  });

  it("ordinary text: a criterion that names a page of the record keeps its words", () => {
    const v = read(`${header("Medical Policy", "Policy Number: MP-0556", "Gizmo Therapy")}Policy

Gizmo therapy is considered medically necessary when ALL of the following are met:
1. The operative report (page 3 of 12 of the record) documents the level; and
2. Failure of conservative therapy.
`);
    const leaf = v.sections[0]?.tree?.children[0];
    assert.equal(
      leaf?.kind === "leaf" && leaf.text,
      "The operative report (page 3 of 12 of the record) documents the level",
    );
    // A Centene running header still gives the title where the document prints no title line.
    const c = read(`CLINICAL POLICY
Gizmo Therapy
Reference Number: CP.MP.998
Date of Last Revision: 01/25

Policy/Criteria
I. It is the policy of health plans affiliated with Centene Corporation that gizmo therapy is medically necessary when all of the following are met:
A. Diagnosis of chronic widget syndrome;
B. Failure of conservative therapy.
`);
    assert.equal(c.identity.title, "Gizmo Therapy");
  });
});

describe("QA pass 7: policy ids in other payers' shapes", () => {
  const cases: [string, string][] = [
    ["MP Number: MP-123", "MP-123"],
    ["MP #: MP-123", "MP-123"],
    ["Medical Policy Number: 7.01.38", "7.01.38"],
    ["Policy #: 00432", "00432"],
    ["Clinical Policy: CP.PHAR.12", "CP.PHAR.12"],
    ["Guideline Number: CG-SURG-61", "CG-SURG-61"],
    ["Clinical Coverage Policy No: 1A-42", "1A-42"],
    ["Gizmo Therapy (CG045, Ver. 6)", "CG045"],
    ["Gizmo Therapy (MP-2.041, Version 3)", "MP-2.041"],
  ];
  const doc = (idLine: string, title = "Policy Title: Gizmo Therapy") =>
    `Medical Policy\n\n${idLine}\nEffective Date: 02/01/2025\n${title}\n\nPolicy\n\nGizmo therapy is considered medically necessary when ALL of the following are met:\n1. Diagnosis of chronic widget syndrome; and\n2. Failure of conservative therapy.\n`;
  for (const [line, id] of cases) {
    it(`"${line}" → ${id}, the title kept`, () => {
      const v = read(doc(line));
      assert.equal(v.identity.id, id);
      assert.equal(v.identity.title, "Gizmo Therapy");
    });
  }

  it("a title with its id and version in parentheses is the title without them", () => {
    const v = read(doc("Gizmo Therapy (CG045, Ver. 6)", ""));
    assert.deepEqual([v.identity.id, v.identity.title], ["CG045", "Gizmo Therapy"]);
  });

  it("ordinary text: a title in parentheses with no id, a Centene 'Clinical Policy:' title", () => {
    const v = read(doc("Policy Number: MP-0456", "Gizmo Therapy (Adults, Version 2 of the Criteria)"));
    assert.equal(v.identity.id, "MP-0456");
    const c = read(doc("Reference Number: CP.MP.97", "Clinical Policy: Gizmo Therapy"));
    assert.deepEqual([c.identity.id, c.identity.title], ["CP.MP.97", "Gizmo Therapy"]);
  });
});
