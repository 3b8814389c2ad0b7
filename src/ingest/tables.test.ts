/**
 * QA pass 7: criteria tables and code tables, each finding on synthetic documents in several payers'
 * words — captions between criteria tables (Carelon/AIM), rows that state their own coverage (state
 * guidelines' "Covered? Yes/No", "Indication | Coverage"), BCBSA's "Type | Code | Description" code
 * tables, PDF code rows whose description or range wraps, bill types and revenue codes, and one code
 * printed for two sections.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { compile, evaluateSection } from "../evaluate/index.js";
import { decide as decideCase } from "../library/decide.js";
import { loadLibrary } from "../library/library.js";
import type { CriterionNode, PolicyVersion, Section } from "../model/index.js";
import type { ProposedBinding } from "./codes.js";
import { htmlToText } from "./formats/index.js";
import { layoutPdf, type PdfPage } from "./formats/pdf-layout.js";
import { ingest } from "./index.js";

const HEAD = `Medical Policy

Policy Number: MP-Q-0701
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

/** The tree's leaves as "id text". */
function leaves(s: Section): string[] {
  const out: string[] = [];
  const walk = (n: CriterionNode): void => {
    if (n.kind === "leaf") out.push(`${n.id} ${n.text}`);
    else if ("children" in n) for (const c of n.children) walk(c);
  };
  if (s.tree) walk(s.tree);
  return out;
}

/** The section's tree decided on `answers` with no bindings. */
function decide(doc: string, id: string, answers: Record<string, boolean>): string {
  const v = version(doc);
  return evaluateSection(compile(v), id, { answers, facts: {}, dateOfService: "2026-01-01" }).outcome;
}

const dir = mkdtempSync(join(tmpdir(), "medpolicy-qa7-tables-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let folders = 0;

/**
 * What the engine decides for code 99999 bound to section `id` of the document (a library folder of its
 * own): the section's uncertainty counts, as it does for a request.
 */
function engine(doc: string, id: string, answers: Record<string, boolean>): string {
  const policy = "MP-Q-0701";
  const text = HEAD + doc;
  const root = join(dir, String(++folders));
  const folder = join(root, policy);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, "policy.txt"), text);
  const sha256 = createHash("sha256").update(text).digest("hex");
  writeFileSync(
    join(folder, "sources.json"),
    JSON.stringify([{ file: "policy.txt", origin: "test", sha256, format: "text" }]),
  );
  writeFileSync(
    join(folder, "bindings.json"),
    JSON.stringify({ policy, codes: [{ codes: ["99999"], section: id }], predicates: [], corrections: [] }),
  );
  const lib = loadLibrary(root);
  return decideCase(
    lib,
    {
      member: { state: "TX", birthDate: "1960-01-01", lineOfBusiness: "commercial" },
      service: { codes: ["99999"], dateOfService: "2026-03-01" },
      answers,
    },
    { today: "2026-03-01" },
  ).outcome;
}

function proposals(doc: string): ProposedBinding[] {
  return ingest(HEAD + doc).proposedBindings;
}

/** The proposals holding `code`. */
function holding(ps: readonly ProposedBinding[], code: string): ProposedBinding[] {
  return ps.filter((p) => p.codes.includes(code));
}

describe("QA pass 7: a caption between criteria tables is the table's title", () => {
  // BCBS-style text: tab-separated tables under one lead-in, each with its caption.
  const TEXT = `I. Gizmo therapy is considered medically necessary when ALL of the following criteria are met:

Table 1. Required findings
Finding\tRequirement
Pain\tPain for at least 3 months
Function\tFunctional impairment documented

Table 2 – Conservative therapy
Therapy\tDuration
Physical therapy\t6 weeks
Medication\t4 weeks
`;
  // Carelon/AIM-style markdown: bold captions over pipe tables.
  const CARELON = `Gizmo imaging is considered medically necessary when ONE of the following indications is present:

**Table 1: Oncologic indications**

| Indication | Criteria |
|---|---|
| Known tumor | Staging at diagnosis |
| Suspected recurrence | Rising tumor markers |

**Table 2: Indications for musculoskeletal imaging**

| Indication | Criteria |
|---|---|
| Suspected fracture | Negative radiographs |
| Osteomyelitis | Positive bone scan |
`;
  it("the second caption is glued into no row and its header row is no criterion (text)", () => {
    const s = section(TEXT, "I");
    assert.deepEqual(leaves(s), [
      "I.A Pain: Pain for at least 3 months",
      "I.B Function: Functional impairment documented",
      "I.C Physical therapy: 6 weeks",
      "I.D Medication: 4 weeks",
    ]);
    assert.equal(s.uncertain, undefined);
    const v = version(TEXT);
    assert.deepEqual(
      v.unplaced.map((u) => u.text),
      ["Table 1. Required findings", "Table 2 – Conservative therapy"],
    );
    assert.equal(decide(TEXT, "I", { "I.A": true, "I.B": true, "I.C": true, "I.D": true }), "approved");
  });
  it("Carelon's bold captions over markdown tables: every row once, no header asked", () => {
    const s = section(CARELON, "I");
    assert.equal(s.tree?.kind, "any");
    assert.deepEqual(leaves(s), [
      "I.A Known tumor: Staging at diagnosis",
      "I.B Suspected recurrence: Rising tumor markers",
      "I.C Suspected fracture: Negative radiographs",
      "I.D Osteomyelitis: Positive bone scan",
    ]);
    assert.equal(s.uncertain, undefined);
  });
  it("HTML tables with <caption>s (a web page's layout): the same reading", () => {
    const html = `<html><body><p>Medical Policy</p><p>Policy Number: MP-Q-0702</p>
<p>Effective Date: 01/01/2025</p><p>Policy Title: Gizmo Therapy</p><h2>Policy</h2>
<p>I. Gizmo therapy is considered medically necessary when ALL of the following criteria are met:</p>
<table><caption>Table 1. Required findings</caption><tr><th>Finding</th><th>Requirement</th></tr>
<tr><td>Pain</td><td>Pain for at least 3 months</td></tr></table>
<table><caption>Table 2 – Conservative therapy</caption><tr><th>Therapy</th><th>Duration</th></tr>
<tr><td>Physical therapy</td><td>6 weeks</td></tr></table>
<h2>Description</h2><p>Gizmo.</p></body></html>`;
    const s = ingest(htmlToText(html)).versions[0]?.sections.find((x) => x.id === "I");
    assert.ok(s);
    assert.deepEqual(leaves(s), ["I.A Pain: Pain for at least 3 months", "I.B Physical therapy: 6 weeks"]);
    assert.equal(s.uncertain, undefined);
  });
  it("a caption saying how its rows combine is reported and the section decides review", () => {
    const doc = TEXT.replace("Table 2 – Conservative therapy", "Table 2: Any one of the following therapies");
    const s = section(doc, "I");
    assert.ok(s.uncertain?.length);
    assert.equal(engine(doc, "I", { "I.A": true, "I.B": true, "I.C": true, "I.D": true }), "review");
  });
  it("a dosing table after the criteria rows is no further criteria (review, not required rows)", () => {
    const doc = TEXT.replace("Table 2 – Conservative therapy", "Table 2: Dosing").replace(
      "Therapy\tDuration",
      "Population\tDose",
    );
    const s = section(doc, "I");
    assert.ok(!leaves(s).some((l) => /6 weeks|4 weeks/.test(l)), leaves(s).join("; "));
    assert.ok(s.uncertain?.length);
  });
  it("ordinary words are no caption: 'Table 1 lists …', 'Table salt …'", () => {
    const doc = `I. Gizmo therapy is considered medically necessary when ALL of the following criteria are met:
   A. Table 1 lists the widget grades; grade 3 or more;
   B. Table salt intake below 2 g per day.
`;
    assert.deepEqual(leaves(section(doc, "I")), [
      "I.A Table 1 lists the widget grades; grade 3 or more",
      "I.B Table salt intake below 2 g per day",
    ]);
  });
});

describe("QA pass 7: rows marked Yes/No for coverage (state guidelines)", () => {
  // Oregon Health Plan style: a "Covered?" column.
  const OHP = `Gizmo therapy is covered for the following conditions:

Condition\tCovered?
Chronic widget syndrome\tYes
Acute widget strain\tNo
Widget deficiency, severe\tYes
`;
  // A state Medicaid guideline: "Meets criteria (Y/N)" in a markdown table.
  const MEDICAID = `I. Gizmo therapy is considered medically necessary when the member has one of the following diagnoses:

| Diagnosis | Meets criteria (Y/N) |
|---|---|
| Chronic widget syndrome | Y |
| Acute widget strain | N |
| Severe widget deficiency | Y |
`;
  for (const [name, doc] of [
    ["Oregon 'Covered?'", OHP],
    ["Medicaid 'Meets criteria (Y/N)'", MEDICAID],
  ] as const) {
    it(`${name}: a row marked No is never a covered criterion; the section decides review`, () => {
      const s = section(doc, "I");
      assert.ok(!leaves(s).some((l) => /acute|diagnosis|criteria/i.test(l)), leaves(s).join("; "));
      assert.ok(leaves(s).some((l) => /Chronic widget syndrome$/.test(l)));
      assert.ok(s.uncertain?.length);
      const v = version(doc);
      assert.ok(
        v.unplaced.some((u) => /Acute widget strain/.test(u.text) && /not a criterion/.test(u.reason)),
      );
      // A patient with only the condition marked No meets no criterion; met or not, the engine reviews.
      const ids = leaves(s).map((l) => l.split(" ")[0] as string);
      assert.notEqual(decide(doc, "I", Object.fromEntries(ids.map((id) => [id, false]))), "approved");
      assert.equal(engine(doc, "I", Object.fromEntries(ids.map((id) => [id, true]))), "review");
    });
  }
  it("a table whose rows are all marked Yes is read without its verdicts, certain", () => {
    const doc = OHP.replace("Acute widget strain\tNo", "Acute widget strain\tYes");
    const s = section(doc, "I");
    assert.deepEqual(leaves(s), [
      "I.A Chronic widget syndrome",
      "I.B Acute widget strain",
      "I.C Widget deficiency, severe",
    ]);
    assert.equal(s.uncertain, undefined);
    assert.equal(engine(doc, "I", { "I.A": false, "I.B": true, "I.C": false }), "approved");
  });
  it("a row whose coverage cell says something else ('Case by case') is reported", () => {
    const doc = OHP.replace("Acute widget strain\tNo", "Acute widget strain\tCase by case").replace(
      "Widget deficiency, severe\tYes",
      "Widget deficiency, severe\tNo",
    );
    const v = version(doc);
    assert.ok(v.unplaced.some((u) => /Case by case/.test(u.text)));
  });
  it("under a statement of non-coverage, a 'No' row is its item and a 'Yes' row is reported", () => {
    const doc = `I. Gizmo therapy is not medically necessary for the following conditions:

Condition\tCovered?
Acute widget strain\tNo
Chronic widget syndrome\tYes
`;
    const v = version(doc);
    assert.deepEqual(leaves(section(doc, "I")), ["I.A Acute widget strain"]);
    assert.ok(
      v.unplaced.some(
        (u) => /Chronic widget syndrome/.test(u.text) && /non-coverage: not read/.test(u.reason),
      ),
    );
  });
  it("a statement that says neither covered nor not: every verdict row is reported", () => {
    const doc = `I. Gizmo therapy applies to the following conditions:

Condition\tCovered?
Acute widget strain\tNo
Chronic widget syndrome\tYes
`;
    const v = version(doc);
    assert.ok(v.unplaced.some((u) => /Acute widget strain/.test(u.text)));
    assert.ok(v.unplaced.some((u) => /Chronic widget syndrome/.test(u.text)));
  });
  it("an ordinary criteria table is read as before (no verdict column): 'No prior surgery' is a criterion", () => {
    const doc = `I. Gizmo therapy is considered medically necessary when all of the following are met:

Criterion\tRequirement
Age\tPatient is 50 years of age or older
Prior surgery\tNo prior widget surgery
`;
    const s = section(doc, "I");
    assert.deepEqual(leaves(s), [
      "I.A Age: Patient is 50 years of age or older",
      "I.B Prior surgery: No prior widget surgery",
    ]);
    assert.equal(s.uncertain, undefined);
  });
});

describe("QA pass 7: criteria tables whose rows each state coverage ('Indication | Coverage')", () => {
  // Anthem/BCBS style: an Indication column and a Coverage column in words.
  const ANTHEM = `Gizmo therapy is considered medically necessary for the following indications:

Indication\tCoverage
Chronic widget syndrome after failed conservative therapy\tMedically necessary
Acute widget strain\tNot medically necessary
Widget prophylaxis\tInvestigational
`;
  // A commercial plan's markdown table: "Coverage Position", "Covered" / "Not covered" / "Experimental/investigational".
  const COMMERCIAL = `I. Gizmo therapy is covered for any of the indications below:

| Indication | Coverage Position |
|---|---|
| Chronic widget syndrome | Covered |
| Acute widget strain | Not covered |
| Widget prophylaxis | Experimental/investigational |
`;
  for (const [name, doc] of [
    ["Anthem's words", ANTHEM],
    ["a commercial plan's markdown", COMMERCIAL],
  ] as const) {
    it(`${name}: not covered and investigational rows are no covered criteria; review`, () => {
      const s = section(doc, "I");
      assert.ok(!leaves(s).some((l) => /acute|prophylaxis/i.test(l)), leaves(s).join("; "));
      assert.ok(s.uncertain?.length);
      const v = version(doc);
      assert.equal(v.unplaced.filter((u) => /for its coverage: not a criterion/.test(u.reason)).length, 2);
      assert.notEqual(decide(doc, "I", { "I.A": false }), "approved");
      assert.equal(engine(doc, "I", { "I.A": true }), "review");
    });
  }
  it("a covered row keeps its indication, without 'Medically necessary' glued on", () => {
    assert.ok(
      leaves(section(ANTHEM, "I")).includes("I.A Chronic widget syndrome after failed conservative therapy"),
    );
  });
});

describe("QA pass 7: code tables whose rows state coverage", () => {
  const doc = (
    header: string,
    rows: string,
  ) => `I. Gizmo therapy is considered medically necessary when all of the following are met:
   A. Chronic widget syndrome;
   B. Failed conservative therapy.

Coding Information

${header}
${rows}
Revision Log
`;
  it("a Medicaid 'Covered (Y/N)' column: N rows never go to the covered section", () => {
    const ps = proposals(
      doc(
        "CPT Code\tDescription\tCovered (Y/N)",
        "64561\tPercutaneous implantation of gizmo\tY\n64999\tUnlisted procedure, nervous system\tN\n0275T\tGizmo decompression\tNot covered\n",
      ),
    );
    for (const code of ["64999", "0275T"]) {
      for (const p of holding(ps, code)) {
        assert.equal(p.coverage, "does-not-support", JSON.stringify(p));
        assert.notEqual(p.section, "I");
      }
    }
    assert.deepEqual(
      holding(ps, "64561").map((p) => [p.section, p.coverage]),
      [["I", "supports"]],
    );
  });
  it("a markdown 'Code | Description | Coverage' table in a commercial policy", () => {
    const ps = proposals(
      doc(
        "| Code | Description | Coverage |\n|---|---|---|",
        "| 64561 | Percutaneous implantation of gizmo | Medically necessary |\n| 0275T | Gizmo decompression | Investigational |\n",
      ),
    );
    assert.ok(holding(ps, "0275T").every((p) => p.coverage === "does-not-support" && p.section !== "I"));
    assert.ok(holding(ps, "64561").every((p) => p.coverage === "supports"));
  });
});

describe("QA pass 7: BCBSA code tables 'Type | Code | Description'", () => {
  const TWO = `I. Cervical disc gizmo is considered medically necessary when all of the following are met:
   A. Radiculopathy;
   B. Failed conservative therapy.

II. Cervical disc gizmo is considered investigational for all other indications.

`;
  it("text: each row's system from its Type cell, nothing unplaced", () => {
    const v = version(`${TWO}Coding

Type\tCode\tDescription
CPT\t22551\tArthrodesis, anterior interbody, including disc space preparation
CPT\t22856\tTotal disc arthroplasty, anterior approach
HCPCS\tL8699\tProsthetic implant, not otherwise specified
ICD-10-CM\tM47.812\tSpondylosis without myelopathy or radiculopathy, cervical region
ICD-10-PCS\t0RG2071\tFusion of 2 or more cervical vertebral joints

Revision Log
`);
    assert.deepEqual(v.unplaced, []);
    assert.deepEqual(
      v.codeTables.map((t) => `${t.system}: ${t.rows.map((r) => r.code).join(" ")}`),
      ["CPT: 22551 22856", "HCPCS: L8699", "ICD-10-CM: M47.812", "ICD-10-PCS: 0RG2071"],
    );
    const ps = ingest(`${HEAD}${TWO}Coding

Type\tCode\tDescription
ICD-10-PCS\t0RG2071\tFusion of 2 or more cervical vertebral joints
Revision Log
`).proposedBindings;
    assert.deepEqual(
      holding(ps, "0RG2071").map((p) => p.system),
      ["ICD-10-PCS"],
    );
  });
  it("markdown 'Code Type | Code | Description' (another plan), with revenue codes", () => {
    const d = `I. Cervical disc gizmo is considered medically necessary when all of the following are met:
   A. Radiculopathy;
   B. Failed conservative therapy.

## Coding Information

| Code Type | Code | Description |
|---|---|---|
| CPT® | 22551 | Arthrodesis, anterior interbody |
| HCPCS | L8699 | Prosthetic implant, not otherwise specified |
| ICD-10 Diagnosis | M47.812 | Spondylosis without myelopathy, cervical |
| Revenue | 0360 | Operating room services |

## Revision Log
`;
    const r = ingest(HEAD + d);
    const v = r.versions[0] as PolicyVersion;
    assert.deepEqual(v.unplaced, []);
    assert.equal(v.codeTables.length, 4);
    const systems = Object.fromEntries(r.proposedBindings.flatMap((p) => p.codes.map((c) => [c, p.system])));
    assert.deepEqual(systems, { "22551": "CPT", L8699: "HCPCS", "M47.812": "ICD-10-CM", "0360": "Revenue" });
  });
  it("the same rows without a header under a coding heading", () => {
    const v = version(`${TWO}Coding

CPT\t22551\tArthrodesis, anterior interbody
HCPCS\tL8699\tProsthetic implant, not otherwise specified

Revision Log
`);
    assert.deepEqual(v.unplaced, []);
    assert.deepEqual(
      v.codeTables.map((t) => t.system),
      ["CPT", "HCPCS"],
    );
  });
  it("an ordinary 'CPT Code | Description' table is read as before", () => {
    const v = version(`${TWO}Coding

CPT Code\tDescription
22551\tArthrodesis, anterior interbody
22856\tTotal disc arthroplasty

Revision Log
`);
    assert.deepEqual(
      v.codeTables.map((t) => `${t.system}: ${t.rows.map((r) => r.code).join(" ")}`),
      ["CPT Code: 22551 22856"],
    );
  });
});

describe("QA pass 7: PDF code rows whose description or range wraps", () => {
  const at = (s: string, x: number, y: number) => ({
    s,
    x,
    y,
    w: s.length * 5,
    size: 10,
    angle: 0,
    font: "f1",
  });
  const pdfText = (rows: ReturnType<typeof at>[]): string => {
    const items = [
      at("Medical Policy", 72, 40),
      at("Policy Number: MP-Q-0751", 72, 52),
      at("Effective Date: 01/01/2025", 72, 64),
      at("Policy Title: Gizmo Therapy", 72, 76),
      at("POLICY", 72, 100),
      at("I. Gizmo therapy is considered medically necessary when all of the following are met:", 72, 124),
      at("A. Chronic widget syndrome;", 90, 136),
      at("B. Failed conservative therapy.", 90, 148),
      at("Coding Information", 72, 172),
      at("CPT Code", 72, 190),
      at("Description", 200, 190),
      ...rows,
      at("Revision Log", 72, 320),
    ];
    const pages: PdfPage[] = [{ width: 612, height: 792, items }];
    return layoutPdf(pages).text;
  };
  const WRAPPED = [
    at("64561", 72, 202),
    at("Percutaneous implantation of neurostimulator electrode array; sacral", 200, 202),
    at("nerve (transforaminal placement) including image guidance, if performed", 200, 214),
    at("0275T-", 72, 226),
    at("Percutaneous laminotomy/laminectomy (interlaminar approach) for", 200, 226),
    at("0276T", 72, 238),
    at("decompression of neural elements", 200, 238),
    at("64590", 72, 250),
    at("Insertion or replacement of peripheral gizmo", 200, 250),
  ];
  it("a wrapped description continues its row; a wrapped range is one range; nothing unplaced", () => {
    const text = pdfText(WRAPPED);
    assert.match(
      text,
      /\n64561\tPercutaneous implantation [^\n]*; sacral nerve \(transforaminal placement\)/,
    );
    const r = ingest(text);
    const v = r.versions[0] as PolicyVersion;
    assert.deepEqual(v.unplaced, []);
    const rows = v.codeTables.flatMap((t) => t.rows.map((x) => `${x.code} ${x.description}`));
    assert.deepEqual(rows, [
      "64561 Percutaneous implantation of neurostimulator electrode array; sacral nerve (transforaminal placement) including image guidance, if performed",
      "0275T-0276T Percutaneous laminotomy/laminectomy (interlaminar approach) for decompression of neural elements",
      "64590 Insertion or replacement of peripheral gizmo",
    ]);
    const codes = r.proposedBindings.flatMap((p) => p.codes);
    assert.deepEqual(codes, ["64561", "0275T", "0276T", "64590"]);
    assert.equal(new Set(r.proposedBindings.map((p) => p.basis)).size, 1, "one table, one basis");
  });
  it("a description wrapped over three lines is one cell (two wrapped lines are no Word row)", () => {
    const text = pdfText([
      at("64561", 72, 202),
      at("Percutaneous implantation of neurostimulator", 200, 202),
      at("electrode array; sacral nerve (transforaminal", 200, 214),
      at("placement) including image guidance", 200, 226),
      at("64590", 72, 238),
      at("Insertion of gizmo", 200, 238),
    ]);
    const v = ingest(text).versions[0] as PolicyVersion;
    assert.deepEqual(v.unplaced, []);
    assert.deepEqual(
      v.codeTables.flatMap((t) => t.rows.map((x) => `${x.code} ${x.description}`)),
      [
        "64561 Percutaneous implantation of neurostimulator electrode array; sacral nerve (transforaminal placement) including image guidance",
        "64590 Insertion of gizmo",
      ],
    );
  });
  it("text (Word/markdown) rows: a continued cell and a range cut at its dash", () => {
    const doc = `I. Gizmo therapy is considered medically necessary when all of the following are met:
   A. Chronic widget syndrome;
   B. Failed conservative therapy.

Coding Information

HCPCS Code\tDescription
E0782 -\tInfusion pump, implantable,
E0783\tnon-programmable or programmable
\t(includes all components)
E0785\tImplantable intraspinal catheter

Revision Log
`;
    const v = version(doc);
    assert.deepEqual(v.unplaced, []);
    assert.deepEqual(
      v.codeTables[0]?.rows.map((x) => `${x.code} ${x.description}`),
      [
        "E0782-E0783 Infusion pump, implantable, non-programmable or programmable (includes all components)",
        "E0785 Implantable intraspinal catheter",
      ],
    );
  });
  it("a paragraph after a table at the margin stays prose; an open range with no last code is reported", () => {
    const text = pdfText([
      at("64561", 72, 202),
      at("Percutaneous implantation of gizmo", 200, 202),
      at("Note: codes are listed for reference only.", 72, 214),
    ]);
    assert.doesNotMatch(text, /\tNote:/);
    const doc = `I. Gizmo therapy is considered medically necessary when all of the following are met:
   A. Chronic widget syndrome;
   B. Failed conservative therapy.

Coding Information

CPT Code\tDescription
0275T-\tPercutaneous laminotomy
\tdecompression of neural elements

Revision Log
`;
    const v = version(doc);
    assert.ok(v.unplaced.some((u) => /range with no last code/.test(u.reason)));
  });
});

describe("QA pass 7: bill types and revenue codes are no criteria", () => {
  // A CMS billing article's guidance (text).
  const CMS = `Gizmo therapy is considered reasonable and necessary when all of the following are met:
1. Chronic widget syndrome;
2. Failed conservative therapy.

Gizmo therapy in a hospital outpatient setting must be billed with one of the following:
Bill Type 013x\tHospital Outpatient
Bill Type 085x\tCritical Access Hospital
Revenue Code 0360\tOperating Room Services - General Classification
`;
  // A commercial policy's facility billing tables (markdown).
  const COMMERCIAL = `Gizmo therapy is considered medically necessary when all of the following are met:

- Chronic widget syndrome
- Failed conservative therapy

Facility claims must report the following:

| Bill Type | Description |
|---|---|
| 013x | Hospital outpatient |
| 085x | Critical access hospital |

| Revenue Code | Description |
|---|---|
| 0360 | Operating room services |
`;
  for (const [name, doc] of [
    ["CMS billing article", CMS],
    ["commercial markdown", COMMERCIAL],
  ] as const) {
    it(`${name}: the billing rows are reported, the criteria decide alone`, () => {
      const s = section(doc, "I");
      assert.equal(leaves(s).length, 2, leaves(s).join("; "));
      assert.ok(!leaves(s).some((l) => /bill|013x|0360|revenue/i.test(l)));
      assert.equal(s.uncertain, undefined);
      const v = version(doc);
      assert.ok(v.unplaced.some((u) => /0360/.test(u.text) && /billing instruction/.test(u.reason)));
      const ids = leaves(s).map((l) => l.split(" ")[0] as string);
      // An office claim (no bill type) meeting the criteria is approved, not denied for a bill type.
      assert.equal(decide(doc, "I", Object.fromEntries(ids.map((id) => [id, true]))), "approved");
    });
  }
  it("a criteria table whose cells hold '10x' or a number is no billing table", () => {
    const doc = `I. Gizmo therapy is considered medically necessary when all of the following are met:

Criterion\tRequirement
ALT\tLess than 10x the upper limit of normal
Dose\t0360 mg is no dose anyone prints
`;
    assert.equal(leaves(section(doc, "I")).length, 2);
  });
});

describe("QA pass 7: one code printed for two sections is proposed with the conflict named", () => {
  it("Aetna-style covered and not-covered lists holding the same code: both proposals name the other", () => {
    const ps =
      proposals(`I. Gizmo therapy is considered medically necessary when all of the following are met:
   A. Chronic widget syndrome;
   B. Failed conservative therapy.

II. Gizmo therapy is considered investigational for all other indications.

Coding Information

CPT codes covered if selection criteria are met:
64561\tPercutaneous implantation of gizmo
64590\tInsertion of gizmo generator

CPT codes not covered for indications listed in the CPB:
64590\tInsertion of gizmo generator
0275T\tGizmo decompression

Revision Log
`);
    const both = holding(ps, "64590");
    assert.deepEqual(both.map((p) => p.section).sort(), ["I", "II"]);
    for (const p of both) assert.match(p.basis, /conflicting: 64590 is also printed for section I{1,2}\b/);
    // Codes printed once carry no such note.
    for (const code of ["64561", "0275T"])
      for (const p of holding(ps, code)) assert.ok(!p.basis.includes(`${code} is also printed`));
  });
  it("two statements (sub-procedures of two sections) naming the same code", () => {
    const ps =
      proposals(`I. Cervical gizmo fusion (CPT 22551) is considered medically necessary when all of the following are met:
   A. Radiculopathy;
   B. Failed conservative therapy.

II. Lumbar gizmo fusion (CPT 22551, 22558) is considered medically necessary when all of the following are met:
   A. Spondylolisthesis;
   B. Failed conservative therapy.
`);
    const both = holding(ps, "22551");
    assert.equal(both.length, 2);
    assert.match(both.find((p) => p.section === "I")?.basis ?? "", /22551 is also printed for section II/);
    assert.match(both.find((p) => p.section === "II")?.basis ?? "", /22551 is also printed for section I\b/);
    assert.ok(holding(ps, "22558").every((p) => !p.basis.includes("22558 is also printed")));
  });
  it("a code in a statement and again in a table with no section of its own is no conflict", () => {
    const ps =
      proposals(`I. Gizmo fusion (CPT 22551) is considered medically necessary when all of the following are met:
   A. Radiculopathy;
   B. Failed conservative therapy.

II. Gizmo fusion is considered investigational for all other indications.

Coding Information

CPT Code\tDescription
22551\tArthrodesis, anterior interbody

Revision Log
`);
    assert.ok(
      ps.every((p) => !p.basis.includes("conflicting")),
      JSON.stringify(ps),
    );
  });
});
