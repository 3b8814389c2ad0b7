/**
 * Issue 12 leftovers: the reading rules that the CMS NCD corpus needed beyond the first seven documents
 * (test/corpus/cms-ncd/README.md, rules 1, 2, 4 and 5), each on a synthetic document in its own words so
 * that a parser tuned to the corpus files would fail them: an item that introduces the siblings after it,
 * a last item for those who do not qualify under the items before it, a lead-in that requires something
 * besides its list, heading items whose lead-in is the paragraph under them, criterion paragraphs of a
 * section's statement, a coverage statement that heads the lists after it, the rest of a paragraph that
 * could not be placed, and advice that restricts nothing.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BranchNode, CriterionNode, Section } from "../model/index.js";
import { ingest } from "./index.js";
import { readLeadIn } from "./leadin.js";

function sections(doc: string): Section[] {
  return ingest(doc).versions[0]?.sections ?? [];
}
function outline(n: CriterionNode): string {
  if (n.kind === "leaf") return n.id;
  if (n.kind === "ref") return `${n.id}->${n.target}`;
  const k = n.kind === "atLeast" ? `atLeast${n.n}` : n.kind;
  const c = n.condition !== undefined ? "?" : "";
  return `${n.id}:${k}${c}(${n.children.map(outline).join(",")})`;
}
function tree(s: Section | undefined): BranchNode {
  assert.ok(s?.tree, `section ${s?.id} has a tree`);
  return s.tree;
}
function find(n: CriterionNode, id: string): CriterionNode | undefined {
  if (n.id === id) return n;
  if (n.kind === "leaf" || n.kind === "ref") return undefined;
  for (const c of n.children) {
    const f = find(c, id);
    if (f) return f;
  }
  return undefined;
}

const HEADER = (title: string, no: string) => `${title}

Publication Number: 100-3
Manual Section Number: ${no}
Manual Section Title: ${title}
Effective Date of this Version: 03/15/2024

`;

/** Rules 4 and 5, and a lead-in that requires something besides its list. */
const GADGET = `${HEADER("Gadget Therapy", "998.2")}Item/Service Description
A. General

Gadget therapy applies a gadget to the wrist.

Indications and Limitations of Coverage
B. Nationally Covered Indications

Gadget therapy is considered reasonable and necessary under the following situations:

1. The patient must have wrist pain for at least 6 weeks.

2. A confirmed diagnosis must include a physical examination and a positive:
    a. ultrasound of the wrist; or
    b. magnetic resonance imaging of the wrist.

3. The gadget must be ordered by the treating physician.

4. Registry coverage: Medicare covers gadget therapy in patients who do not meet criteria 1-3 above when they are enrolled in a registry. The registry must answer one or more of the following questions:
    a. Does gadget therapy reduce pain at 12 weeks?
    b. Does gadget therapy improve grip strength?
    c. The registry must meet the following additional standards:
    d. The registry is approved by the agency.
    e. The registry protocol is published.

C. Nationally Non-Covered Indications

Gadget therapy is not covered for acute injury.

D. Other

N/A
`;

describe("issue 12 leftovers: items that head their siblings, and ways in besides a list", () => {
  it("an item ending in a lead-in's colon heads the siblings after it (README rule 5); the list's own quantifier covers the items before it (rule 4)", () => {
    const b = find(tree(sections(GADGET)[0]), "B.4") as BranchNode;
    assert.equal(outline(b), "B.4:all?(B.4-g1:any(B.4.a,B.4.b),B.4.c:all(B.4.d,B.4.e))");
    assert.match(b.condition ?? "", /^Registry coverage/);
  });

  it("a last item for those who do not meet the items before it is another way in: (1-3 all) or 4, uncertain", () => {
    const s = sections(GADGET)[0];
    assert.equal(
      outline(tree(s)),
      "B:any(B-g1:all(B.1,B.2:any?(B.2.a,B.2.b),B.3),B.4:all?(B.4-g1:any(B.4.a,B.4.b),B.4.c:all(B.4.d,B.4.e)))",
    );
    assert.ok(
      s?.uncertain?.some((u) => /do not qualify/.test(u)),
      "the section decides review",
    );
  });

  it("without the 'do not meet' item the list stays all of its items and certain", () => {
    const from = GADGET.indexOf("\n4. Registry coverage:");
    const to = GADGET.indexOf("\nC. Nationally Non-Covered");
    const doc = `${GADGET.slice(0, from)}\n${GADGET.slice(to)}`;
    const s = sections(doc)[0];
    assert.equal(outline(tree(s)), "B:all(B.1,B.2:any?(B.2.a,B.2.b),B.3)");
    assert.equal(s?.uncertain, undefined);
  });

  it("a heading item that does not say it adds to the items before it is read as both required, uncertain", () => {
    const doc = GADGET.replace(
      "must meet the following additional standards:",
      "must meet the following standards:",
    );
    const s = sections(doc)[0];
    assert.equal(
      outline(find(tree(s), "B.4") as BranchNode),
      "B.4:all?(B.4-g1:any(B.4.a,B.4.b),B.4.c:all(B.4.d,B.4.e))",
    );
    assert.ok(s?.uncertain?.some((u) => /B\.4\.c introduces the items after it/.test(u)));
  });

  it("'must include X and a positive:' requires X besides one of the list: the group's condition", () => {
    const b2 = find(tree(sections(GADGET)[0]), "B.2") as BranchNode;
    assert.equal(b2.kind, "any");
    assert.equal(b2.condition, "A confirmed diagnosis must include a physical examination");
    // No requirement verb: the words before "and" are not a condition of their own.
    assert.equal(readLeadIn("Patients with diabetes and a positive", false).condition, undefined);
    // A longer tail after "and" is the list's own lead-in, not a separate requirement.
    assert.equal(
      readLeadIn("The evaluation must include imaging and one of the tests listed here", false).condition,
      undefined,
    );
  });

  it("'if' after 'determine' asks whether; it does not open a condition", () => {
    const lead = readLeadIn(
      "In addition, the agency will review trials to determine if they meet the 3 criteria listed below",
      false,
    );
    assert.equal(lead.kind, "all");
    assert.equal(lead.found, true);
    assert.equal(lead.condition, undefined);
    assert.equal(readLeadIn("Unless all of the conditions listed below have been met", false).kind, "all");
    assert.equal(readLeadIn("The trial must meet the following standards", false).found, true);
  });
});

/** Heading items, criterion paragraphs of a statement (rule 1), advice. */
const SPROCKET = `${HEADER("Sprocket Stimulators", "998.3")}Indications and Limitations of Coverage
Two kinds of sprocket stimulators are used to treat chronic pain.

A. Implanted Sprocket Stimulators

Payment may be made under the prosthetic device benefit for implanted sprocket stimulators.

B. Central Sprocket Stimulators

The implantation of central sprocket stimulators may be covered, subject to the following conditions:

1. Types of Implantation

There are two types of implantation covered by this instruction:

• Epidural sprocket placement.
• Subdural sprocket placement.

2. Conditions for Coverage

No payment may be made for the implantation unless all of the conditions listed below have been met:

• Other treatments have failed;
• A trial stimulation relieved the pain; and
• The patient was screened by a team.

Contractors may find it helpful to work with review organizations to apply these conditions.

C. Nationally Non-Covered Indications

Sprocket stimulation is not reasonable and necessary for acute pain.

Sprocket stimulation is non-covered for headache.

D. Other

Patients implanted with a sprocket stimulator may receive a replacement if the battery is depleted.

(This policy last reviewed March 2024.)
`;

describe("issue 12 leftovers: heading items and statement paragraphs", () => {
  it("a numbered heading line takes the lead-in paragraph under it and the list after that", () => {
    const b = sections(SPROCKET).find((s) => s.id === "B");
    assert.equal(outline(tree(b)), "B:all(B.1:any(B.1.a,B.1.b),B.2:all(B.2.a,B.2.b,B.2.c))");
    assert.match(find(tree(b), "B.1")?.text ?? "", /^Types of Implantation There are two types/);
  });

  it("advice that states no requirement ('may find it helpful') leaves the section certain", () => {
    const b = sections(SPROCKET).find((s) => s.id === "B");
    assert.equal(b?.uncertain, undefined);
    const withMust = SPROCKET.replace("to apply these conditions.", "and must apply these conditions.");
    const b2 = sections(withMust).find((s) => s.id === "B");
    assert.ok(
      JSON.stringify(b2?.tree).includes("must apply these conditions") || b2?.uncertain,
      "advice with a 'must' is not dropped: a criterion, or the section decides review",
    );
  });

  it("a lettered section whose statement is one coverage paragraph is decidable: root + <id>-p1 (README rule 1)", () => {
    const s = sections(SPROCKET);
    const a = s.find((x) => x.id === "A");
    assert.equal(a?.kind, "medically-necessary");
    assert.equal(outline(tree(a)), "A:all(A-p1)");
    assert.equal(a?.uncertain, undefined);
    const d = s.find((x) => x.id === "D");
    assert.equal(d?.kind, "medically-necessary");
    assert.equal(outline(tree(d)), "D:all(D-p1)");
    assert.equal(d?.uncertain, undefined, "an editorial remark in parentheses restricts nothing");
  });

  it("several non-coverage paragraphs are any of them; one is the section's statement", () => {
    const s = sections(SPROCKET);
    const c = s.find((x) => x.id === "C");
    assert.equal(c?.kind, "not-proven");
    assert.equal(outline(tree(c)), "C:any(C-p1,C-p2)");
    const one = sections(SPROCKET.replace("\nSprocket stimulation is non-covered for headache.\n", ""));
    const c1 = one.find((x) => x.id === "C");
    assert.equal(c1?.kind, "not-proven");
    assert.equal(c1?.tree, undefined);
  });

  it("coverage left to others ('local contractors') or text after the statement is not read as certain coverage", () => {
    const left = sections(
      SPROCKET.replace(
        "Payment may be made under the prosthetic device benefit for implanted sprocket stimulators.",
        "Payment may be made for implanted sprocket stimulators as determined by the local contractors.",
      ),
    ).find((x) => x.id === "A");
    assert.equal(left?.kind, "other");
    assert.equal(left?.tree, undefined);
    const more = sections(
      SPROCKET.replace(
        "for implanted sprocket stimulators.\n",
        "for implanted sprocket stimulators.\n\nThe stimulator is placed by a surgeon with the patient awake.\n",
      ),
    ).find((x) => x.id === "A");
    assert.equal(outline(tree(more)), "A:all(A-p1)");
    assert.ok(more?.uncertain && more.uncertain.length > 0, "text beside the statement: review");
  });
});

/** Rule 2, and the rest of a paragraph that could not be placed. */
const GIZMO = `${HEADER("Gizmo Therapy", "998.4")}Item/Service Description
A. General

Gizmo therapy stimulates a nerve in the neck.

Indications and Limitations of Coverage
B. Nationally Covered Indications

Effective for services on or after January 1, 2020, gizmo therapy is reasonable and necessary for patients with refractory migraine.

Effective for services on or after January 1, 2022, CMS will cover gizmo therapy for cluster headache through coverage with evidence development when offered in an approved trial.

Each trial must answer all of the following questions:

• What is the rate of response?
• What are the harms?

Patients must keep a headache diary for at least four weeks before treatment.

Patients must not have:

• Current pregnancy;
• Active infection.

Patients will be offered open-label treatment at the end of the trial.
In addition, CMS will review trials to determine if they meet the 3 criteria listed below.

a. The trial is registered.
b. The trial protocol is published.
c. The trial reports its results.

C. Nationally Non-Covered Indications

Gizmo therapy is non-covered for tension headache.
`;

describe("issue 12 leftovers: a statement that heads the lists after it", () => {
  it("two coverage statements, then lists: any(B-p1, B-p2 over the lists), the lists keep section-level ids (README rule 2)", () => {
    const b = sections(GIZMO).find((s) => s.id === "B");
    assert.equal(
      outline(tree(b)),
      "B:any(B-p1,B-p2:all?(B-1:all(B.1,B.2),B-p3,B-2:none(B-2.1,B-2.2),B-3:all(B-3.a,B-3.b,B-3.c)))",
    );
    const p2 = find(tree(b), "B-p2") as BranchNode;
    assert.match(p2.condition ?? "", /^Effective for services on or after January 1, 2022/);
    // Each statement paragraph keeps its own line (explanations and lint point at it).
    const lineOf = (start: string) => GIZMO.split("\n").findIndex((l) => l.startsWith(start)) + 1;
    assert.equal(find(tree(b), "B-p1")?.line, lineOf("Effective for services on or after January 1, 2020"));
    assert.equal(p2.line, lineOf("Effective for services on or after January 1, 2022"));
    assert.ok(
      b?.uncertain?.some((u) => /last coverage statement/.test(u)),
      "the lists could apply to both",
    );
  });

  it("the rest of a paragraph that could not be placed is not the list item before it", () => {
    const b = sections(GIZMO).find((s) => s.id === "B");
    assert.equal(find(tree(b), "B-2.2")?.kind, "leaf");
    assert.doesNotMatch(find(tree(b), "B-2.2")?.text ?? "", /In addition/);
    // Without a list after it, the sentence is reported with its paragraph, not joined to the bullet.
    const noList = GIZMO.replace(
      /\na\. The trial is registered\.\nb\. The trial protocol is published\.\nc\. The trial reports its results\.\n/,
      "",
    );
    const r = ingest(noList);
    const b2 = r.versions[0]?.sections.find((s) => s.id === "B");
    assert.doesNotMatch(find(tree(b2), "B-2.2")?.text ?? "", /In addition/);
    assert.ok(r.unplaced.some((u) => /^In addition, CMS will review/.test(u.text)));
  });
});
