/**
 * QA pass 7: coverage statements, lead-ins and references, each on synthetic documents in several payers'
 * words — coverage verbs beyond "medically necessary" ("is approved when", "Humana covers", "is indicated
 * for … when", "is considered eligible for coverage") and their negatives ("may not be covered", "does not
 * cover", "is not approved"), which must never read as covered; payer boilerplate ("Services may or may not
 * be covered by all … plans"); approval-duration sentences beside the criteria; one-sentence sections that
 * refer to several earlier sections; Aetna's numbered headings over statements; Word's connector paragraphs.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compile, evaluateSection } from "../evaluate/index.js";
import type { CriterionNode, PolicyVersion, Section } from "../model/index.js";
import { durationSentence } from "./criteria.js";
import { ingest } from "./index.js";

const HEAD = `Medical Policy

Policy Number: MP-Q-0007
Effective Date: 01/01/2025
Policy Title: Gizmo Therapy

POLICY

`;

function version(doc: string): PolicyVersion {
  const v = ingest(HEAD + doc).versions[0];
  assert.ok(v);
  return v;
}

function section(doc: string, id: string): Section {
  const s = version(doc).sections.find((x) => x.id === id);
  assert.ok(s?.tree, `section ${id} read with a tree`);
  return s;
}

/** A version's sections as "I medically-necessary, II not-proven". */
function kinds(v: { sections: readonly Section[] }): string {
  return v.sections.map((s) => `${s.id} ${s.kind}`).join(", ");
}

/** The section's tree decided on `answers` with no bindings (its uncertainty, which decides review, aside). */
function decide(doc: string, id: string, answers: Record<string, boolean>): string {
  return evaluateSection(compile(version(doc)), id, { answers, facts: {}, dateOfService: "2026-01-01" })
    .outcome;
}

/** A tree as "all(I.A, I.B)" with refs as "→I" and a condition as "[…]". */
function shape(n: CriterionNode): string {
  if (n.kind === "leaf") return n.id;
  if (n.kind === "ref") return `→${n.target}`;
  const c = n.condition === undefined ? "" : `[${n.condition}]`;
  return `${n.kind}${c}(${n.children.map(shape).join(", ")})`;
}

function leafTexts(n: CriterionNode): string[] {
  if (n.kind === "leaf") return [n.text];
  if (n.kind === "ref") return [];
  return n.children.flatMap(leafTexts);
}

describe("QA pass 7: coverage verbs beyond 'medically necessary', and their negatives", () => {
  const LIST = `   A. Age 12 years or older;
   B. Failure of inhaled corticosteroids.
`;
  const covered: [string, string][] = [
    ["Medicaid (approved when)", "I. Gizmab is approved when all of the following criteria are met:\n"],
    ["Humana", "I. Humana covers gizmab when all of the following criteria are met:\n"],
    ["UHC (the plan covers)", "I. The plan covers gizmab when all of the following criteria are met:\n"],
    [
      "a drug policy (indicated … when)",
      "I. Gizmab is indicated for the treatment of severe asthma when all of the following criteria are met:\n",
    ],
    [
      "Wellmark-style (considered eligible)",
      "I. Gizmab is considered eligible for coverage when all of the following criteria are met:\n",
    ],
  ];
  for (const [who, statement] of covered)
    it(`${who}: a covered section, certain, approved only on its criteria`, () => {
      const doc = statement + LIST;
      const s = section(doc, "I");
      assert.equal(s.kind, "medically-necessary");
      assert.equal(s.uncertain, undefined, JSON.stringify(s.uncertain));
      const answers = { I: true, "I.A": true, "I.B": true };
      assert.equal(decide(doc, "I", answers), "approved");
      assert.equal(decide(doc, "I", { ...answers, "I.B": false }), "denied");
    });

  it("the statement's condition after 'covers X' and 'is approved' is asked (Humana, Anthem)", () => {
    const humana = section(
      `I. Humana covers gizmo stimulation for members with chronic widget syndrome when all of the following criteria are met:\n${LIST}`,
      "I",
    );
    assert.equal(humana.tree?.condition, "members with chronic widget syndrome");
    const anthem = section(
      `I. Gizmab is approved for members with severe asthma when all of the following criteria are met:\n${LIST}`,
      "I",
    );
    assert.equal(anthem.tree?.condition, "members with severe asthma");
  });

  const EXCLUSIONS = `   A. Active infection;
   B. Coagulopathy.
`;
  const negative: [string, string][] = [
    [
      "a Medicaid manual (may not be covered)",
      "Gizmo therapy may not be covered for members with any of the following:",
    ],
    [
      "BCBS (should not be covered)",
      "Gizmo therapy should not be covered for members with any of the following:",
    ],
    ["Molina (cannot be covered)", "Gizmo therapy cannot be covered for members with any of the following:"],
    ["Humana (does not cover)", "Humana does not cover gizmo therapy for members with any of the following:"],
    ["Medicaid (is not approved)", "Gizmo therapy is not approved for members with any of the following:"],
    ["Cigna (is not approvable)", "Gizmo therapy is not approvable for members with any of the following:"],
    ["Aetna (is never covered)", "Gizmo therapy is never covered for members with any of the following:"],
    [
      "Anthem (not a covered service)",
      "Gizmo therapy is not a covered service for members with any of the following:",
    ],
    [
      "UHC (coverage is not provided)",
      "Coverage is not provided for gizmo therapy for members with any of the following:",
    ],
    [
      "Wellmark (not considered eligible)",
      "Gizmo therapy is not considered eligible for coverage for members with any of the following:",
    ],
    ["a state plan (not payable)", "Gizmo therapy is not payable for members with any of the following:"],
    ["a drug policy (not indicated)", "Gizmab is not indicated for members with any of the following:"],
  ];
  for (const [who, statement] of negative)
    it(`${who}: never read as covered (a not-covered section never approves)`, () => {
      // Before: "may not be covered", "should not", "cannot" read "be covered" — a covered section whose
      // list was the way in, so an infection present approved; the others were uncertain.
      assert.equal(kinds(version(`I. ${statement}\n${EXCLUSIONS}`)), "I not-proven");
    });

  it("a covered and a negative statement of one policy (Humana, UHC) read each their own way", () => {
    const humana = version(`I. Humana covers gizmab when all of the following criteria are met:
${LIST}
II. Humana does not cover gizmab for any of the following:
   A. Acute bronchospasm;
   B. Status asthmaticus.
`);
    assert.equal(kinds(humana), "I medically-necessary, II not-proven");
    const uhc = version(`Coverage Rationale

The plan covers gizmo stimulation when all of the following criteria are met:

- Chronic pain for at least 6 months; and
- Failure of conservative therapy.

The plan does not cover gizmo stimulation for any of the following:

- Acute pain;
- Cancer pain.
`);
    assert.equal(kinds(uhc), "I medically-necessary, II not-proven");
  });

  it("ordinary text is no coverage statement: 'This policy covers', 'the dressing covers', the FDA's 'approved by' and 'indicated for'", () => {
    // A scope sentence and a label's indication state no coverage: no section is made of them.
    const scope = version(`This policy covers gizmo therapy for adults.

I. Gizmo therapy is considered medically necessary when all of the following criteria are met:
   A. Chronic wound;
   B. The dressing covers the wound completely.
`);
    assert.equal(kinds(scope), "I medically-necessary");
    assert.equal(scope.sections[0]?.uncertain, undefined);
    // "is approved by the FDA for", "is indicated for the treatment of X." (no "when"): a description.
    const fda =
      version(`I. Gizmab is indicated for the treatment of severe asthma. Gizmab is not approved by the FDA for children.
`);
    assert.notEqual(fda.sections[0]?.kind, "not-proven");
    assert.notEqual(fda.sections[0]?.kind, "medically-necessary");
    // A criterion that happens to say "does not cover" stays a criterion of the covered list.
    const brace =
      version(`I. A custom gizmo brace is considered medically necessary when all of the following are met:
   A. A prefabricated brace that does not cover the knee has failed;
   B. Knee instability.
`);
    assert.equal(kinds(brace), "I medically-necessary");
    assert.equal(brace.sections[0]?.uncertain, undefined);
  });

  it("items that say 'is indicated when' are no alternative ways in (a second reading: the list was read as any)", () => {
    const s = section(
      `I. Gizmo imaging is considered medically necessary when the following criteria are met:
   A. Surgery is indicated when one of the following is present:
      1. Fracture;
      2. Dislocation.
   B. Imaging is indicated when one of the following is present:
      1. Mass;
      2. Swelling.
`,
      "I",
    );
    assert.equal(s.tree?.kind, "all");
  });

  it("an unlabeled statement with the new verbs opens its section (UHC, BCBS layouts)", () => {
    const v = version(`Coverage Rationale

Gizmab is indicated for the treatment of severe asthma when all of the following criteria are met:

- Age 12 years or older; and
- Failure of inhaled corticosteroids.

Gizmab is not indicated for any of the following:

- Acute bronchospasm;
- Status asthmaticus.
`);
    assert.equal(kinds(v), "I medically-necessary, II not-proven");
    assert.equal(v.sections[0]?.uncertain, undefined);
  });
});

describe("QA pass 7: payer boilerplate is no coverage statement", () => {
  const UHC = `Coverage Rationale

Services may or may not be covered by all UnitedHealthcare plans. Please refer to the member's plan document for specific coverage information.

Gizmo stimulation is proven and medically necessary when all of the following criteria are met:

- Chronic pain for at least 6 months; and
- Failure of conservative therapy.
`;
  it("UHC: the boilerplate before the statement is reported, the statement is section I with its list (it was section I, the list lost)", () => {
    const v = version(UHC);
    assert.equal(kinds(v), "I medically-necessary");
    assert.equal(v.sections[0]?.uncertain, undefined);
    assert.deepEqual(leafTexts(v.sections[0]?.tree as CriterionNode), [
      "Chronic pain for at least 6 months",
      "Failure of conservative therapy",
    ]);
    assert.ok(
      v.unplaced.some((u) => u.text.startsWith("Services may or may not") && /boilerplate/.test(u.reason)),
    );
    assert.equal(decide(UHC, "I", { "I.A": true, "I.B": true }), "approved");
  });

  it("Anthem, Cigna: after the list, or as the section's first sentence, it changes neither the kind nor the certainty", () => {
    const after =
      version(`I. Gizmo stimulation is considered medically necessary when all of the following criteria are met:
   A. Chronic pain for at least 6 months;
   B. Failure of conservative therapy.

Services may or may not be covered by all Anthem plans. Please refer to the member's plan document for specific coverage information.
`);
    assert.equal(kinds(after), "I medically-necessary");
    assert.equal(after.sections[0]?.uncertain, undefined);
    // Glued before a negative statement, its "be covered" made the section covered: an infection approved.
    const glued = `I. Services may or may not be covered by all Cigna plans. Gizmo therapy is not medically necessary for members with any of the following:
   A. Active infection;
   B. Coagulopathy.
`;
    assert.equal(kinds(version(glued)), "I not-proven");
  });

  it("Cigna, Humana: glued into the last criterion it is no condition: the section decides review", () => {
    for (const plan of ["Cigna", "Humana"]) {
      const doc = `I. Gizmo stimulation is considered medically necessary when all of the following criteria are met:
   A. Chronic pain for at least 6 months;
   B. Failure of conservative therapy. Services may or may not be covered by all ${plan} plans. Please refer to the member's plan document for specific coverage information.
`;
      const s = section(doc, "I");
      // An uncertain section decides review (the engine never approves it).
      assert.ok(s.uncertain?.length, plan);
    }
  });

  it("not boilerplate: a statement that may cover, 'Refer to' another policy, and a paragraph that goes on into criteria", () => {
    const v = version(`Refer to CP.PHAR.149 Intrathecal Baclofen for requests for baclofen.

I. Gizmo therapy may be covered when all of the following criteria are met:
   A. Chronic wound;
   B. Failure of standard care.
`);
    assert.equal(kinds(v), "I medically-necessary");
    assert.equal(v.crossReferences.length, 1);
    // One sentence of boilerplate and one of the statement in one paragraph: the statement is read.
    const mixed = version(`Coverage Rationale

Services may or may not be covered by all plans. Gizmo stimulation is proven and medically necessary when all of the following criteria are met:

- Chronic pain for at least 6 months; and
- Failure of conservative therapy.
`);
    assert.equal(kinds(mixed), "I medically-necessary");
    assert.equal(leafTexts(mixed.sections[0]?.tree as CriterionNode).length, 2);
  });
});

describe("QA pass 7: an approval-duration sentence beside the criteria is neither a criterion nor a doubt", () => {
  const LIST = `I. Gizmab is considered medically necessary when all of the following criteria are met:
   A. Diagnosis of severe asthma;
   B. Failure of inhaled corticosteroids.`;
  const cases: [string, string][] = [
    [
      "Medicaid, wrapped under the last item",
      `${LIST}\n   If all criteria are met, the request will be authorized for 12 months.\n`,
    ],
    [
      "Medicaid, glued on the item's line",
      `${LIST} If all criteria are met, the request will be authorized for 12 months.\n`,
    ],
    [
      "BCBS, a paragraph of its own",
      `${LIST}\n\nIf the above criteria are met, approval will be granted for 6 months.\n`,
    ],
    ["Aetna, glued", `${LIST} Initial approval: 6 months.\n`],
    ["Cigna, in parentheses", `${LIST.replace(/\.$/, "")} (Approval duration: 12 months)\n`],
    [
      "UHC, wrapped over two lines",
      `${LIST} If all criteria are met, gizmab may be approved\n   for up to 12 months.\n`,
    ],
  ];
  for (const [who, doc] of cases)
    it(`${who}: the last criterion keeps its own words, the section stays certain`, () => {
      const s = section(doc, "I");
      assert.equal(s.uncertain, undefined, JSON.stringify(s.uncertain));
      assert.deepEqual(leafTexts(s.tree as CriterionNode), [
        "Diagnosis of severe asthma",
        "Failure of inhaled corticosteroids",
      ]);
      assert.ok(version(doc).unplaced.some((u) => /authorization duration/.test(u.reason)));
      assert.equal(decide(doc, "I", { "I.A": true, "I.B": true }), "approved");
      assert.equal(decide(doc, "I", { "I.A": true, "I.B": false }), "denied");
    });

  it("sentences that ask something, or are no duration, are read as before", () => {
    for (const t of [
      "If all criteria are met and the member has responded, the request will be authorized for 12 months.",
      "If all criteria are met, the request will not be authorized for more than 12 months.",
      "If the member is female, a pregnancy test within 12 months is required.",
      "If all criteria are met, the request will be approved.",
      "Member has been on therapy for at least 12 months.",
      "(at least 6 months)",
      "Continued approval may be granted for members who meet all of the following:",
    ])
      assert.equal(durationSentence(t), false, t);
    for (const t of [
      "If all criteria are met, the request will be authorized for 12 months.",
      "If the above criteria are met, approval will be granted for 6 months.",
      "(Initial approval: 6 months)",
      "Approval duration: 12 months",
    ])
      assert.equal(durationSentence(t), true, t);
    // A criterion about a duration keeps its words.
    const s = section(
      `I. Gizmab is considered medically necessary when all of the following criteria are met:
   A. Diagnosis of severe asthma;
   B. Failure of inhaled corticosteroids for at least 3 months (trial of 12 months preferred).
`,
      "I",
    );
    assert.deepEqual(leafTexts(s.tree as CriterionNode), [
      "Diagnosis of severe asthma",
      "Failure of inhaled corticosteroids for at least 3 months (trial of 12 months preferred)",
    ]);
  });
});

describe("QA pass 7: a one-sentence section that refers to several earlier sections", () => {
  const TWO = `1. Unilateral gizmo implantation is considered medically necessary when all of the following criteria are met:
   a. Severe hearing loss;
   b. Failure of hearing aids.

2. Gizmo programming is considered medically necessary when all of the following criteria are met:
   a. Device implanted;
   b. Audiology follow-up.

`;
  const MET = { "1.a": true, "1.b": true, "2.a": true, "2.b": true };

  it("'criteria 1 and 2 above' (Aetna) and 'criteria I and II above' (Medicaid) are all of those sections (it decided review)", () => {
    const doc = `${TWO}3. Bilateral gizmo implantation is medically necessary when criteria 1 and 2 above are met.\n`;
    const s = section(doc, "3");
    assert.equal(shape(s.tree as CriterionNode), "all(→1, →2)");
    assert.equal(s.uncertain, undefined);
    assert.equal(decide(doc, "3", MET), "approved");
    assert.equal(decide(doc, "3", { ...MET, "2.b": false }), "denied");
    const roman = TWO.replace("1. Uni", "I. Uni").replace("2. Gizmo", "II. Gizmo");
    const r = section(
      `${roman}III. Bilateral gizmo implantation is medically necessary when criteria I and II above are met.\n`,
      "III",
    );
    assert.equal(shape(r.tree as CriterionNode), "all(→I, →II)");
    assert.equal(r.uncertain, undefined);
  });

  it("'criteria A or B above' (CMS-style letters) and 'criteria 1 or 2 above' are one of them", () => {
    const letters = TWO.replace("1. Uni", "A. Uni")
      .replace("2. Gizmo", "B. Gizmo")
      .replace(/ {3}a\./g, "   1.")
      .replace(/ {3}b\./g, "   2.");
    const doc = `${letters}C. Bilateral gizmo implantation is medically necessary when criteria A or B above are met.\n`;
    const s = section(doc, "C");
    assert.equal(shape(s.tree as CriterionNode), "all(any(→A, →B))");
    assert.equal(s.uncertain, undefined);
    assert.equal(decide(doc, "C", { "A.1": true, "A.2": true, "B.1": false, "B.2": false }), "approved");
    assert.equal(decide(doc, "C", { "A.1": false, "A.2": true, "B.1": false, "B.2": true }), "denied");
    const digits = `${TWO}3. Bilateral gizmo implantation is medically necessary when criteria 1 or 2 above are met.\n`;
    assert.equal(shape(section(digits, "3").tree as CriterionNode), "all(any(→1, →2))");
  });

  it("the words before a resolved reference are asked (S1: 'bilateral loss and criterion 1 above' approved a unilateral loss)", () => {
    const one = `${TWO}3. Bilateral gizmo implantation is medically necessary when the member has bilateral severe hearing loss and criterion 1 above is met.\n`;
    const s = section(one, "3");
    assert.equal(shape(s.tree as CriterionNode), "all[the member has bilateral severe hearing loss](→1)");
    assert.equal(decide(one, "3", { ...MET, "3": false }), "denied");
    assert.equal(decide(one, "3", { ...MET, "3": true }), "approved");
    // An age (its "or older" is the age's, no alternative): asked beside both references.
    const age = `${TWO}3. Bilateral gizmo implantation is medically necessary when the member is 18 years of age or older and criteria 1 and 2 above are met.\n`;
    const a = section(age, "3");
    assert.equal(shape(a.tree as CriterionNode), "all[the member is 18 years of age or older](→1, →2)");
    assert.equal(a.uncertain, undefined);
    assert.equal(decide(age, "3", { ...MET, "3": false }), "denied");
    // Words after the reference, joined with "and" (UHC's order).
    const after = `${TWO}3. Bilateral gizmo implantation is medically necessary when criteria 1 and 2 above are met and the member has bilateral severe hearing loss.\n`;
    assert.equal(
      shape(section(after, "3").tree as CriterionNode),
      "all[the member has bilateral severe hearing loss](→1, →2)",
    );
  });

  it("what cannot be read so decides review: an alternative to the words before, a range, a missing label, a negation, words not joined by 'and'", () => {
    for (const tail of [
      "when the member is 18 years of age or older or criterion 1 above is met.",
      "when criteria 1 through 2 above are met.",
      "when criteria 1 and 4 above are met.",
      "when criteria 1, 2 or 3 above are met.",
      "when criteria 1 and 2 or 3 above are met.",
      "when the member does not meet criteria 1 and 2 above.",
      "when criteria 1 and 2 above are met, with documented bilateral loss.",
      "for members who meet criteria 1 and 2 above and have bilateral loss.",
    ]) {
      const doc = `${TWO}3. Bilateral gizmo implantation is medically necessary ${tail}\n`;
      assert.ok(section(doc, "3").uncertain?.length, tail);
    }
  });
});

describe("QA pass 7: Aetna's numbered headings over statements", () => {
  it("'I. Criteria for Initial Approval' and 'II. Continuation of Therapy' (Aetna, Cigna) each head their own section", () => {
    const aetna = version(`I. Criteria for Initial Approval

Aetna considers gizmab medically necessary for the treatment of severe asthma when all of the following criteria are met:

1. Age 12 years or older; and
2. Failure of inhaled corticosteroids.

II. Continuation of Therapy

Aetna considers continuation of gizmab therapy medically necessary when all of the following criteria are met:

1. Member is currently receiving gizmab; and
2. Reduction in exacerbations.
`);
    assert.equal(kinds(aetna), "I medically-necessary, II medically-necessary");
    assert.deepEqual(
      aetna.sections.map((s) => shape(s.tree as CriterionNode)),
      ["all[severe asthma](I.1, I.2)", "all(II.1, II.2)"],
    );
    assert.ok(aetna.sections.every((s) => s.uncertain === undefined));
    const cigna = version(`I. Initial Authorization
Cigna covers gizmab as medically necessary when all of the following criteria are met:
   A. Age 12 years or older; and
   B. Failure of inhaled corticosteroids.
II. Reauthorization
Continued use of gizmab is medically necessary when all of the following criteria are met:
   A. Member is currently receiving gizmab; and
   B. Reduction in exacerbations.
`);
    assert.deepEqual(
      cigna.sections.map((s) => shape(s.tree as CriterionNode)),
      ["all(I.A, I.B)", "all(II.A, II.B)"],
    );
  });
});

describe("QA pass 7: Word's connector paragraphs between items", () => {
  const items = (a: string, b: string) => `I. Gizmo therapy is considered medically necessary when:
   A. Severe pain

   ${a}

   B. Moderate pain with disability

   ${b}

   C. Failure of therapy
`;
  const cases: [string, string, string, string][] = [
    ["Cigna 'OR' lines", "OR", "OR", "any"],
    ["eviCore '- OR -'", "- OR -", "- OR -", "any"],
    ["bold '**OR**'", "**OR**", "**OR**", "any"],
    ["'and/or' alone", "and/or", "and/or", "any"],
    ["Aetna '— AND —'", "— AND —", "— AND —", "all"],
    ["BCBS 'AND'", "AND", "AND", "all"],
  ];
  for (const [who, a, b, kind] of cases)
    it(`${who} read as ${kind}, certain`, () => {
      const s = section(items(a, b), "I");
      assert.equal(s.tree?.kind, kind);
      assert.equal(s.uncertain, undefined);
    });

  it("mixed connectors, or one gap of two with a connector, decide review", () => {
    const pairs: [string, string][] = [
      ["OR", "AND"],
      ["-AND-", "-OR-"],
    ];
    for (const [a, b] of pairs) {
      const doc = items(a, b);
      assert.ok(section(doc, "I").uncertain?.length, `${a}/${b}`);
    }
    const some = `I. Gizmo therapy is considered medically necessary when:
   A. Severe pain
   B. Moderate pain with disability

   OR

   C. Failure of therapy
`;
    assert.ok(section(some, "I").uncertain?.length);
  });

  it("nested: 'AND' between the outer items and 'OR' inside a nested list (UHC) read as printed", () => {
    const doc = `I. Gizmo therapy is considered medically necessary when all of the following criteria are met:
   A. Age 18 years or older

   AND

   B. One of the following:
      1. Severe pain

      OR

      2. Moderate pain with disability

   AND

   C. Failure of therapy
`;
    const s = section(doc, "I");
    assert.equal(shape(s.tree as CriterionNode), "all(I.A, any(I.B.1, I.B.2), I.C)");
    assert.equal(s.uncertain, undefined);
  });
});

describe("QA pass 7, merge: a statement that announces the criteria below, then the statement over the list", () => {
  // Medicaid manuals and state plans: "The Department covers X … when the criteria below are met." then,
  // in the next paragraph or under the next heading, the statement over the list. Read as two sections,
  // the first had no list and the second was left unplaced (the whole section decided review).
  const docs = (who: string) => [
    `The Department covers gizmo therapy for ${who} when the criteria below are met.

Gizmo therapy is considered medically necessary when ALL of the following are met:
A. Diagnosis of chronic widget syndrome; and
B. Failure of conservative therapy for 6 weeks.
`,
    `Medicaid shall cover gizmo therapy for ${who} subject to the following requirements.

CRITERIA
Gizmo therapy is medically necessary when all of the following criteria are met:
1. Diagnosis of chronic widget syndrome;
2. Failure of conservative therapy for 6 weeks.
`,
  ];
  it("one section whose list is the second statement's, certain", () => {
    for (const doc of docs("eligible members")) {
      const v = version(doc);
      assert.equal(kinds(v), "I medically-necessary");
      assert.equal(v.sections[0]?.uncertain, undefined);
      assert.equal(v.sections[0]?.tree?.kind, "all");
      assert.equal(v.sections[0]?.tree?.children.length, 2);
      assert.deepEqual(v.unplaced, []);
    }
    const [a] = docs("eligible members");
    assert.equal(decide(a as string, "I", { "I.A": true, "I.B": true }), "approved");
    assert.equal(decide(a as string, "I", { "I.A": true, "I.B": false }), "denied");
  });
  it("the first sentence's population and diagnosis are still asked", () => {
    for (const doc of docs("members under 21 years of age with severe widget syndrome")) {
      const s = section(doc, "I");
      assert.match(s.tree?.condition ?? "", /under 21 years of age with severe widget syndrome/);
    }
  });
  it("ordinary text: a not-covered second statement is not merged into the first", () => {
    const v =
      version(`The Department covers gizmo therapy for eligible members when the criteria below are met.

Gizmo therapy is not medically necessary for members with any of the following:
A. Active infection;
B. Pregnancy.
`);
    // Not merged: the exclusions are never a covered section's certain criteria (review, as before).
    assert.ok(v.sections.every((s) => s.kind !== "medically-necessary" || s.uncertain !== undefined));
  });
});

describe("QA pass 7, merge: the condition after a payer's 'covers' is asked whatever coverage words it holds", () => {
  for (const [stmt, cond] of [
    [
      "The Department covers gizmo therapy for eligible members with severe widget syndrome when ALL of the following are met:",
      /eligible members with severe widget syndrome/,
    ],
    [
      "Humana covers gizmo therapy for members with an FDA-approved indication when ALL of the following are met:",
      /members with an FDA-approved indication/,
    ],
    [
      "Medica covers gizmo therapy for members with severe widget syndrome who are eligible for coverage when ALL of the following are met:",
      /members with severe widget syndrome/,
    ],
  ] as const) {
    it(`"${stmt.slice(0, 60)}…" asks its condition (it was lost at a later 'eligible'/'approved')`, () => {
      const s = section(
        `${stmt}\nA. Diagnosis of chronic widget syndrome; and\nB. Failure of conservative therapy for 6 weeks.\n`,
        "I",
      );
      assert.match(s.tree?.condition ?? "", cond);
    });
  }
});
