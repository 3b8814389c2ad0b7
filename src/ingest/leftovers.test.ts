/**
 * QA pass 7 (f): misreadings left by the day's QA pass — a limit in a paragraph of its own after a
 * not-covered section, a limit under a "Dosing" heading, examples read as required alternatives, "in
 * whom" naming the patient, a lead-in's own condition before "and ALL of the following", Cigna's
 * "Approve for 1 year if" after a caption and its "CONDITIONS NOT COVERED" — each on synthetic documents
 * in several payers' words, with ordinary text that must read as before.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compile, evaluateSection } from "../evaluate/index.js";
import { lineRule, type SectionOutcome } from "../library/line-rule.js";
import type { Section } from "../model/index.js";
import { htmlToText } from "./formats/index.js";
import { ingest } from "./index.js";

const HEAD = `Medical Policy

Policy Number: MP-Q-0001
Effective Date: 01/01/2025
Policy Title: Gizmo Therapy

POLICY

`;

function version(doc: string, raw = false) {
  const v = ingest(raw ? doc : HEAD + doc).versions[0];
  assert.ok(v);
  return v;
}

function section(doc: string, id: string, raw = false): Section {
  const s = version(doc, raw).sections.find((x) => x.id === id);
  assert.ok(s?.tree, `section ${id} read with a tree`);
  return s;
}

/**
 * The line outcome a code bound to section `id` would get on `answers`: the section's tree decided, then
 * the library's rule (an uncertain reading decides `review`).
 */
function decide(doc: string, id: string, answers: Record<string, boolean>, raw = false): string {
  const v = version(doc, raw);
  const s = v.sections.find((x) => x.id === id);
  assert.ok(s);
  const o = evaluateSection(compile(v), id, { answers, facts: {}, dateOfService: "2026-01-01" }).outcome;
  return lineRule(v, s, o as SectionOutcome).outcome;
}

describe("QA pass 7: a limit in a paragraph of its own reaches the covered sections", () => {
  const covered = `I. Gizmo chair is considered medically necessary when ALL of the following are met:
   A. The member has chronic widget syndrome; and
   B. The member cannot walk.

II. Gizmo chair is not medically necessary for members who do not meet the criteria above.

`;
  const yes = { "I.A": true, "I.B": true };
  for (const limit of [
    "Replacement of a gizmo chair is limited to once every 5 years, unless the chair is damaged beyond repair.",
    "Replacement is limited to one per 5 years when the chair is no longer serviceable.",
    "A replacement gizmo chair will be approved no more than once every five years.",
    "Coverage is limited to 1 chair every 5 years per member.",
    "Members may receive one chair per lifetime.",
  ]) {
    it(`"${limit.slice(0, 60)}…" → the covered section decides review`, () => {
      assert.equal(decide(covered + limit + "\n", "I", yes), "review");
      const v = version(covered + limit + "\n");
      assert.ok(v.findings.some((f) => f.code === "limit-not-evaluated"));
    });
  }
  // A covered section's own paragraph (Humana's wording under its statement) does the same.
  it("Humana's words: a limit after the not-covered statement", () => {
    const doc = `Gizmo chairs

Members may be eligible under the Plan for a gizmo chair when ALL of the following are met:
1. Chronic widget syndrome; and
2. Unable to walk.

Members may NOT be eligible under the Plan for a gizmo chair for any other indication.

Replacement is limited to once every 5 years.
`;
    assert.equal(decide(doc, "I", { "I.1": true, "I.2": true }), "review");
  });
  // Negative: a paragraph that states how long an approval lasts, or a dose, is no limit.
  for (const text of [
    "If all criteria are met, the request will be authorized for 12 months.",
    "Widget syndrome affects about 1 in 5 adults every year.",
    "The gizmo chair is usually fitted once by a therapist.",
  ]) {
    it(`"${text}" → approved as before`, () =>
      assert.equal(decide(covered + text + "\n", "I", yes), "approved"));
  }
});

describe("QA pass 7: a limit under a Dosing heading reaches the covered sections", () => {
  const list = `Gizmab is considered medically necessary when ALL of the following are met:
1. Diagnosis of chronic widget syndrome; and
2. Age 18 years or older.

`;
  const yes = { "I.1": true, "I.2": true };
  for (const [heading, para] of [
    [
      "### Dosing",
      "The recommended dose is 140 mg every 28 days.\nRequests for doses greater than 140 mg per 28 days are not medically necessary.",
    ],
    ["**Dosing and Administration**", "Doses exceeding 140 mg every 28 days will not be approved."],
    [
      "Dose",
      "Gizmab is given as 140 mg every 28 days. Requests for more than 140 mg per 28 days\nare considered not medically necessary.",
    ],
    ["### Quantity Limits", "Gizmab is not covered in quantities exceeding 1 pen per 28 days."],
  ] as [string, string][]) {
    it(`"${heading}" over "${para.slice(0, 50)}…" → review`, () => {
      const doc = `${list}${heading}\n\n${para}\n\n### Background\n\nWidget syndrome is rare.\n`;
      assert.equal(decide(doc, "I", yes), "review");
    });
  }
  it("an HTML <h3> over the limit → review", () => {
    const html = `<html><body><h1>Gizmab</h1><p>Policy Number: MP-Q-0002</p><p>Effective Date: 01/01/2025</p>
<h2>Coverage Criteria</h2>
<p>Gizmab is considered medically necessary when ALL of the following are met:</p>
<ol><li>Diagnosis of chronic widget syndrome; and</li><li>Age 18 years or older.</li></ol>
<h3>Dosing and Administration</h3>
<p>Gizmab is given as 140 mg every 28 days. Doses exceeding 140 mg every 28 days will not be approved.</p>
<h2>References</h2><p>1. Smith J. Widgets. 2020.</p></body></html>`;
    assert.equal(decide(htmlToText(html), "I", yes, true), "review");
  });
  // Negative: a recommended dose, or how to give it, limits nothing.
  it("a Dosing paragraph that states no limit → approved as before", () => {
    const doc = `${list}### Dosing\n\nGizmab is given as 140 mg once every 28 days by subcutaneous injection. Patients may\nself-administer after training.\n\n### Background\n\nWidget syndrome is rare.\n`;
    assert.equal(decide(doc, "I", yes), "approved");
  });
});
