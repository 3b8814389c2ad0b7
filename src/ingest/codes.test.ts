/**
 * Proposed code → section bindings (issue 12, item 4) from code tables and lists as Aetna, Cigna, UHC,
 * CMS and Centene print them (documents written here, imitating those layouts), and from the seeds.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { CriterionNode, Section, SectionKind, SubPolicy } from "../model/index.js";
import {
  type BindingSource,
  classifyCode,
  codeListHeading,
  codesInSentence,
  expandRange,
  type ProposedBinding,
  proposeBindings,
  readCodeList,
} from "./codes.js";
import { ingest } from "./index.js";

const ROOT = join(import.meta.dirname, "..", "..");

function lineOf(doc: string, needle: string): number {
  const k = doc.split("\n").findIndex((l) => l.includes(needle));
  assert.ok(k >= 0, `test document lacks "${needle}"`);
  return k + 1;
}

function section(
  doc: string,
  id: string,
  kind: SectionKind,
  needle: string,
  extra: Partial<Section> = {},
): Section {
  const line = lineOf(doc, needle);
  const text = doc.split("\n")[line - 1]?.replace(/^\s*(?:[IVX]+\.|[A-D]\.|#+)\s*/, "") as string;
  return { id, label: id, kind, text, line, ...extra };
}

function propose(doc: string, sections: Section[], extra: Partial<BindingSource> = {}): ProposedBinding[] {
  return proposeBindings({ sections, codeTables: [], ...extra }, doc.split("\n"));
}

/** The (first) proposal holding `code`. */
function of(ps: ProposedBinding[], code: string, from = 0): ProposedBinding {
  const p = ps.find((b) => b.line >= from && b.codes.includes(code));
  assert.ok(p, `no proposal for ${code}:\n${JSON.stringify(ps, null, 1)}`);
  return p;
}

function brief(p: ProposedBinding) {
  return {
    system: p.system,
    section: p.section,
    coverage: p.coverage,
    confidence: p.confidence,
  };
}

describe("code shapes, lists and ranges", () => {
  it("tells CPT, HCPCS and ICD-10-CM by shape, and the systems that need a heading by it", () => {
    assert.equal(classifyCode("27279"), "CPT");
    assert.equal(classifyCode("0275T"), "CPT");
    assert.equal(classifyCode("3008F"), "CPT");
    assert.equal(classifyCode("0001U"), "CPT");
    assert.equal(classifyCode("E0782"), "HCPCS");
    assert.equal(classifyCode("M46.1"), "ICD-10-CM");
    assert.equal(classifyCode("S32.10xA"), "ICD-10-CM");
    assert.equal(classifyCode("M5416"), "HCPCS", "the shape of a HCPCS code: the heading decides");
    assert.equal(classifyCode("M5416", "ICD-10-CM"), "ICD-10-CM");
    assert.equal(classifyCode("0SG20ZZ", "ICD-10-PCS"), "ICD-10-PCS");
    assert.equal(classifyCode("0360", "Revenue"), "Revenue");
    assert.equal(classifyCode("D7140", "CDT"), "CDT");
    for (const no of ["2019", "123456", "CPT", "II", "K110838", "1.5"])
      assert.equal(classifyCode(no), undefined, no);
  });

  it("reads a code, a comma list, ranges with hyphens, dashes and words, then stops at the description", () => {
    const r = readCodeList("22532–22534, 22548 and 0719T Arthrodesis, lateral");
    assert.deepEqual(
      r.items.map((i) => [i.code, i.to]),
      [
        ["22532", "22534"],
        ["22548", undefined],
        ["0719T", undefined],
      ],
    );
    assert.equal(
      "22532–22534, 22548 and 0719T Arthrodesis, lateral".slice(r.end).trim(),
      "Arthrodesis, lateral",
    );
    assert.deepEqual(
      readCodeList("E0782 through E0786").items.map((i) => [i.code, i.to]),
      [["E0782", "E0786"]],
    );
    assert.deepEqual(readCodeList("27279 - Arthrodesis").items.length, 1);
    assert.deepEqual(readCodeList("Arthrodesis 27279").items, []);
  });

  it("expands small ranges, keeps large ones and ICD ranges as one range", () => {
    assert.deepEqual(expandRange("22532", "22534", "CPT"), ["22532", "22533", "22534"]);
    assert.deepEqual(expandRange("0275T", "0276T", "CPT"), ["0275T", "0276T"]);
    assert.deepEqual(expandRange("E0782", "E0786", "HCPCS"), ["E0782", "E0783", "E0784", "E0785", "E0786"]);
    assert.equal(expandRange("20000", "29999", "CPT"), undefined);
    assert.equal(expandRange("M54.50", "M54.59", "ICD-10-CM"), undefined);
    assert.equal(expandRange("0275T", "0276U", "CPT"), undefined);
    assert.equal(expandRange("22534", "22532", "CPT"), undefined);
  });

  it("finds codes in parentheses and after a system word, not other numbers", () => {
    const codes = (t: string) =>
      codesInSentence(t).flatMap((m) => m.items.map((i) => (i.to ? `${i.code}-${i.to}` : i.code)));
    assert.deepEqual(codes("Sacroiliac joint fusion (CPT 27279) is medically necessary when"), ["27279"]);
    assert.deepEqual(codes("fusion (CPT® codes 22551, 22552) or (e.g., HCPCS C1889)"), [
      "22551",
      "22552",
      "C1889",
    ]);
    assert.deepEqual(codes("arthroplasty (0275T-0276T) when"), ["0275T-0276T"]);
    assert.deepEqual(codes("using CPT codes 22532 through 22534 and"), ["22532-22534"]);
    assert.deepEqual(codes("sacroiliitis (M46.1) confirmed"), ["M46.1"]);
    assert.deepEqual(codes("(10000 units) in 2019 (see 12345 patients) (ODI ≥ 30)"), []);
  });
});

// ---------------------------------------------------------------------------------------------------------

const AETNA = `Policy
I. Medical Necessity
Aetna considers sacroiliac joint fusion (CPT 27279) medically necessary for members with sacroiliac joint pain when all of the following criteria are met:
II. Experimental, Investigational, or Unproven
Aetna considers sacroiliac joint fusion with intra-articular implants placed without transfixation experimental, investigational, or unproven.

Code Table
Code\tCode Description
Information in the [brackets] below has been added for clarification purposes.   Codes requiring a 7th character are represented by "+":
CPT codes covered if selection criteria are met:
27279\tArthrodesis, sacroiliac joint, percutaneous or minimally invasive (indirect visualization), with image guidance
27280\tArthrodesis, open, sacroiliac joint, including obtaining bone graft, including instrumentation, when performed
CPT codes not covered for indications listed in the CPB:
27278\tArthrodesis, sacroiliac joint, percutaneous, with image guidance, including placement of intra-articular implant(s), without placement of transfixation device
0809T\tArthrodesis, sacroiliac joint, percutaneous or minimally invasive, with image guidance, with placement of intra-articular implant(s)
Other CPT codes related to the CPB:
22532 - 22534\tArthrodesis, lateral extracavitary technique
64451\tInjection(s), anesthetic agent(s) and/or steroid; nerves innervating the sacroiliac joint
HCPCS codes not covered for indications listed in the CPB:
C1737\tBone graft, allograft, dowel
ICD-10 codes covered if selection criteria are met:
M46.1\tSacroiliitis, not elsewhere classified
M53.2X8\tSpinal instabilities, sacral and sacrococcygeal region
S32.10xA - S32.19xS\tFracture of sacrum [traumatic]
ICD-10 codes not covered for indications listed in the CPB (not all-inclusive):
M54.50 - M54.59\tLow back pain

References
1. Polly DW, et al. Two-year outcomes of 27279. Int J Spine Surg. 2016;10:28.`;

const AETNA_PLAIN = `Policy
I. Aetna considers cervical disc arthroplasty medically necessary when all of the following criteria are met:
II. Aetna considers lumbar disc arthroplasty experimental, investigational, or unproven.
III. Aetna considers interspinous process decompression experimental, investigational, or unproven.
Code Table
Code Code Description
Cervical disc arthroplasty:
CPT codes covered if selection criteria are met:
22856 Total disc arthroplasty (artificial disc), anterior approach, single interspace, cervical
+22858 second level, cervical (List separately in addition to code for primary procedure)
0095T, 0098T
Lumbar disc arthroplasty:
CPT codes not covered for indications listed in the CPB:
22857 Total disc arthroplasty (artificial disc), anterior approach, single interspace, lumbar
0163T
Interspinous process decompression:
CPT codes not covered for indications listed in the CPB:
22867–22870 Insertion of interlaminar/interspinous process stabilization/distraction device
CPT codes not covered for indications listed in the CPB: 0719T, 0720T`;

describe("Aetna: lists under 'CPT codes covered if selection criteria are met:'", () => {
  const doc = AETNA;
  const sections = [
    section(doc, "I", "medically-necessary", "considers sacroiliac joint fusion (CPT"),
    section(doc, "II", "not-proven", "without transfixation experimental"),
  ];
  const ps = propose(doc, sections);

  it("a code in a statement's parentheses belongs to that statement's section (stated)", () => {
    const p = of(ps, "27279");
    assert.deepEqual(brief(p), { system: "CPT", section: "I", coverage: "supports", confidence: "stated" });
    assert.equal(p.line, lineOf(doc, "(CPT 27279)"));
    assert.match(p.basis, /statement of section I/);
  });

  it("a covered list goes to the one covered section, a not-covered list to the one not-covered section", () => {
    const covered = of(ps, "27279", lineOf(doc, "Code Table"));
    assert.deepEqual(covered.codes, ["27279", "27280"]);
    assert.deepEqual(brief(covered), {
      system: "CPT",
      section: "I",
      coverage: "supports",
      confidence: "inferred",
    });
    assert.match(covered.basis, /CPT codes covered if selection criteria are met.*the one covered section/);
    const not = of(ps, "27278");
    assert.deepEqual(not.codes, ["27278", "0809T"]);
    assert.deepEqual(brief(not), {
      system: "CPT",
      section: "II",
      coverage: "does-not-support",
      confidence: "inferred",
    });
    assert.deepEqual(brief(of(ps, "C1737")), {
      system: "HCPCS",
      section: "II",
      coverage: "does-not-support",
      confidence: "inferred",
    });
  });

  it("'other codes related to the CPB' say nothing of coverage; a small range is expanded", () => {
    const related = of(ps, "22532");
    assert.equal(related.coverage, "unspecified");
    assert.deepEqual(related.codes.slice(0, 3), ["22532", "22533", "22534"]);
    assert.equal(related.line, lineOf(doc, "22532 - 22534"));
  });

  it("ICD-10 lists: dotted codes and ICD ranges kept whole", () => {
    const icd = of(ps, "M46.1");
    assert.deepEqual(icd.codes, ["M46.1", "M53.2X8", "S32.10XA-S32.19XS"]);
    assert.deepEqual(brief(icd), {
      system: "ICD-10-CM",
      section: "I",
      coverage: "supports",
      confidence: "inferred",
    });
    assert.deepEqual(of(ps, "M54.50-M54.59").coverage, "does-not-support");
  });

  it("references are not codes to bind", () => {
    assert.ok(!ps.some((p) => p.line >= lineOf(doc, "References")));
  });

  it("group headings name sections; plain lines, add-on codes, comma lists and dashes", () => {
    const d = AETNA_PLAIN;
    const secs = [
      section(d, "I", "medically-necessary", "cervical disc arthroplasty medically"),
      section(d, "II", "not-proven", "lumbar disc arthroplasty experimental"),
      section(d, "III", "not-proven", "interspinous process decompression experimental"),
    ];
    const got = propose(d, secs);
    const cervical = of(got, "22856");
    assert.deepEqual(cervical.codes, ["22856", "22858", "0095T", "0098T"]);
    assert.deepEqual(brief(cervical), {
      system: "CPT",
      section: "I",
      coverage: "supports",
      confidence: "stated",
    });
    assert.match(cervical.basis, /group heading names "Cervical disc arthroplasty"/);
    assert.deepEqual(of(got, "22857").codes, ["22857", "0163T"]);
    assert.equal(of(got, "22857").section, "II");
    const ipd = of(got, "22867");
    assert.deepEqual(ipd.codes, ["22867", "22868", "22869", "22870"]);
    assert.equal(ipd.section, "III");
    // Codes after the heading on its own line; the group heading still holds.
    const inline = of(got, "0719T");
    assert.deepEqual(inline.codes, ["0719T", "0720T"]);
    assert.equal(inline.line, lineOf(d, "0719T, 0720T"));
    assert.equal(inline.coverage, "does-not-support");
  });
});

const CIGNA = `Coverage Policy
Sacroiliac joint fusion using a minimally invasive or open approach is considered medically necessary when ALL of the following criteria are met:
Sacroiliac joint fusion using an intra-articular implant without transfixation is considered experimental, investigational or unproven.
Coding Information
Notes:
1. This list of codes may not be all-inclusive since the American Medical Association (AMA) and Centers for Medicare & Medicaid Services (CMS) code updates may occur more frequently than policy updates.
2. Deleted codes and codes which are not effective at the time the service is rendered may not be eligible for reimbursement.
Considered Medically Necessary when criteria in the applicable policy statement listed above are met:
CPT®* Codes\tDescription
27279\tArthrodesis, sacroiliac joint, percutaneous or minimally invasive (indirect visualization), with image guidance
27280\tArthrodesis, open, sacroiliac joint, including obtaining bone graft
HCPCS Codes\tDescription
C1889\tImplantable/insertable device, not otherwise classified
Considered Experimental/Investigational/Unproven:
CPT®* Codes\tDescription
0775T\tArthrodesis, sacroiliac joint, percutaneous, with image guidance, including placement of intra-articular implant(s)
*Current Procedural Terminology (CPT®) ©2023 American Medical Association: Chicago, IL.`;

describe("Cigna: a coverage line alone, then its tables", () => {
  const sections = [
    section(CIGNA, "I", "medically-necessary", "is considered medically necessary when ALL", {
      heading: "Coverage Policy",
    }),
    section(CIGNA, "II", "not-proven", "without transfixation is considered experimental", {
      heading: "Coverage Policy",
    }),
  ];
  const ps = propose(CIGNA, sections);
  it("the coverage line gives its tables their coverage, CPT and HCPCS alike", () => {
    assert.deepEqual(of(ps, "27279").codes, ["27279", "27280"]);
    assert.deepEqual(brief(of(ps, "27279")), {
      system: "CPT",
      section: "I",
      coverage: "supports",
      confidence: "inferred",
    });
    assert.match(of(ps, "27279").basis, /Considered Medically Necessary when criteria/);
    assert.deepEqual(brief(of(ps, "C1889")), {
      system: "HCPCS",
      section: "I",
      coverage: "supports",
      confidence: "inferred",
    });
    assert.deepEqual(brief(of(ps, "0775T")), {
      system: "CPT",
      section: "II",
      coverage: "does-not-support",
      confidence: "inferred",
    });
  });
  it("notes that speak of codes are neither headings nor codes", () => {
    assert.deepEqual(
      ps.flatMap((p) => p.codes),
      ["27279", "27280", "C1889", "0775T"],
    );
  });
});

const UHC = `Coverage Rationale
Cervical total disc arthroplasty (TDA) is proven and medically necessary for treating cervical degenerative disc disease when all of the following criteria are met:
Lumbar artificial total disc replacement is unproven and not medically necessary due to insufficient evidence of efficacy.
Applicable Codes
The following list(s) of procedure and/or diagnosis codes is provided for reference purposes only and may not be all inclusive. Listing of a code in this policy does not imply that the service described by the code is a covered or non-covered health service. Benefit coverage for health services is determined by the member specific benefit plan document.
| CPT Code | Description |
|---|---|
| 22856 | Total disc arthroplasty (artificial disc), anterior approach, including discectomy; single interspace, cervical |
| 22857 | Total disc arthroplasty (artificial disc), anterior approach, including discectomy; single interspace, lumbar |
| 22861 | Revision including replacement of total disc arthroplasty (artificial disc), anterior approach, single interspace; cervical |
CPT® is a registered trademark of the American Medical Association`;

describe("UHC: a reference table of codes, pipes, coverage unsaid", () => {
  const sections = [
    section(UHC, "I", "medically-necessary", "Cervical total disc arthroplasty (TDA)"),
    section(UHC, "II", "not-proven", "Lumbar artificial total disc replacement"),
  ];
  const ps = propose(UHC, sections);
  it("coverage stays unspecified; the description's distinctive words suggest the section", () => {
    const cervical = of(ps, "22856");
    assert.deepEqual(brief(cervical), {
      system: "CPT",
      section: "I",
      coverage: "unspecified",
      confidence: "inferred",
    });
    assert.match(cervical.basis, /cervical/);
    assert.equal(of(ps, "22857").section, "II");
    // "arthroplasty", "cervical" (I) against "replacement", "artificial" (II): a tie, the author chooses.
    assert.equal(of(ps, "22861").section, undefined);
    assert.equal(cervical.line, lineOf(UHC, "| 22856"));
  });
  it("the disclaimer ('covered or non-covered') is not a heading", () => {
    assert.ok(ps.every((p) => p.coverage === "unspecified"));
  });
});

const CMS_ARTICLE = `B. Nationally Covered Indications
CMS covers minimally invasive sacroiliac joint fusion when all of the following are met:
C. Nationally Non-Covered Indications
CMS will not cover sacroiliac joint fusion with implants that do not transfix the joint.
CPT/HCPCS Codes
Group 1 Paragraph:
N/A
Group 1 Codes:
Code\tDescription
27279\tARTHRODESIS SACROILIAC JOINT PERCUTANEOUS OR MINIMALLY INVASIVE
ICD-10-CM Codes that Support Medical Necessity
Group 1 Paragraph:
It is the provider's responsibility to select codes carried out to the highest level of specificity and selected from the ICD-10-CM code book appropriate to the year in which the service is rendered for the claim(s) submitted.
Group 1 Codes:
Code\tDescription
M43.27\tFusion of spine, lumbosacral region
M46.1\tSacroiliitis, not elsewhere classified
ICD-10-CM Codes that DO NOT Support Medical Necessity
Group 1 Paragraph:
All ICD-10-CM codes not listed under 'ICD-10 Codes that Support Medical Necessity' are non-covered.
Group 1 Codes:
N/A
Bill Type Codes:
Contractors may specify Bill Types to help providers identify those Bill Types typically used to report this service.`;

describe("CMS billing and coding article: 'Group 1 Codes' under a coverage heading", () => {
  const sections = [
    section(CMS_ARTICLE, "B", "medically-necessary", "CMS covers minimally invasive"),
    section(CMS_ARTICLE, "C", "not-proven", "CMS will not cover"),
  ];
  const ps = propose(CMS_ARTICLE, sections);
  it("the CPT/HCPCS group has no stated coverage; the ICD group supports medical necessity", () => {
    assert.equal(of(ps, "27279").coverage, "unspecified");
    assert.equal(of(ps, "27279").system, "CPT");
    const icd = of(ps, "M43.27");
    assert.deepEqual(icd.codes, ["M43.27", "M46.1"]);
    assert.deepEqual(brief(icd), {
      system: "ICD-10-CM",
      section: "B",
      coverage: "supports",
      confidence: "inferred",
    });
    assert.match(icd.basis, /ICD-10-CM Codes that Support Medical Necessity/);
  });
});

// A Centene policy of titled sub-policies that restart their numbering, with a crosswalk table.
const CENTENE_239 = `Policy/Criteria
Lumbar Spinal Fusion
I. It is the policy of health plans affiliated with Centene Corporation that lumbar spinal fusion is medically necessary when meeting all of the following:
II. It is the policy of health plans affiliated with Centene Corporation that lumbar fusion for discogenic pain alone is not medically necessary.
Cervical Disc Arthroplasty
I. It is the policy of health plans affiliated with Centene Corporation that cervical disc arthroplasty is medically necessary when meeting all of the following:
II. It is the policy of health plans affiliated with Centene Corporation that cervical disc arthroplasty at more than two levels is investigational.
Coding Implications
CPT® Codes\tDescription\tCriteria Section
22612\tArthrodesis, posterior or posterolateral technique, single interspace; lumbar\tLumbar Spinal Fusion, Section I
22856\tTotal disc arthroplasty (artificial disc), anterior approach; single interspace, cervical\tCervical Disc Arthroplasty
0095T\tRemoval of total disc arthroplasty, each additional interspace, cervical\tCervical Disc Arthroplasty, Section II
| 27279 | Section III |
| 22551 | Cervical disc arthroplasty |`;

describe("Centene crosswalk: codes → criteria sections", () => {
  const d = CENTENE_239;
  const subPolicies: SubPolicy[] = [
    { id: "S1", title: "Lumbar Spinal Fusion", line: lineOf(d, "Lumbar Spinal Fusion") },
    { id: "S2", title: "Cervical Disc Arthroplasty", line: lineOf(d, "Cervical Disc Arthroplasty") },
  ];
  const at = (n: number) => d.split("\n").findIndex((l, k) => k + 1 > n && /^I\./.test(l)) + 1;
  const s2 = at(lineOf(d, "Cervical Disc Arthroplasty"));
  const sections: Section[] = [
    { ...section(d, "S1.I", "medically-necessary", "lumbar spinal fusion is medically"), subPolicy: "S1" },
    { ...section(d, "S1.II", "not-proven", "discogenic pain alone"), subPolicy: "S1" },
    {
      id: "S2.I",
      label: "I",
      kind: "medically-necessary",
      text: "cervical disc arthroplasty is medically necessary",
      line: s2,
      subPolicy: "S2",
    },
    { ...section(d, "S2.II", "not-proven", "more than two levels"), subPolicy: "S2" },
  ];
  const ps = propose(d, sections, { subPolicies });
  it("a crosswalk column names the sub-policy and section (stated, coverage from the section's kind)", () => {
    assert.deepEqual(
      { ...brief(of(ps, "22612")), subPolicy: of(ps, "22612").subPolicy },
      { system: "CPT", section: "S1.I", coverage: "supports", confidence: "stated", subPolicy: "S1" },
    );
    assert.match(of(ps, "22612").basis, /crosswalk table.*Criteria Section/);
    assert.deepEqual(brief(of(ps, "0095T")), {
      system: "CPT",
      section: "S2.II",
      coverage: "does-not-support",
      confidence: "stated",
    });
  });
  it("a sub-policy named alone: its one covered section", () => {
    const p = of(ps, "22856");
    assert.equal(p.section, "S2.I");
    assert.equal(p.subPolicy, "S2");
  });
  it("headerless rows: 'Section III' names no section here; a title names its sub-policy", () => {
    const p = of(ps, "27279");
    assert.equal(p.section, undefined);
    assert.match(p.basis, /Section III/);
    assert.equal(of(ps, "22551").section, "S2.I");
    assert.equal(of(ps, "22551").confidence, "stated");
  });
});

describe("codes inside statements and criteria", () => {
  const doc = `I. Sacroiliac joint fusion (CPT 27279, 27280) is medically necessary when all of the following:
A. Pain for at least six months;
B. None of the following:
1. Implants placed without transfixation (CPT 0775T);
2. Posterior approach (CPT codes 0809T);
II. Total disc arthroplasty (CPT 0275T-0276T) is investigational.
27279 | Section II`;
  const leaf = (id: string, needle: string): CriterionNode => ({
    kind: "leaf",
    id,
    label: id,
    text: doc.split("\n")[lineOf(doc, needle) - 1]?.slice(3) as string,
    line: lineOf(doc, needle),
  });
  const I = section(doc, "I", "medically-necessary", "Sacroiliac joint fusion (CPT");
  I.tree = {
    kind: "all",
    id: "I",
    label: "I",
    text: I.text,
    line: I.line,
    children: [
      leaf("I.A", "Pain for at least"),
      {
        kind: "none",
        id: "I.B",
        label: "B",
        text: "None of the following:",
        line: lineOf(doc, "None of the following"),
        children: [leaf("I.B.1", "without transfixation"), leaf("I.B.2", "Posterior approach")],
      },
    ],
  };
  const II = section(doc, "II", "not-proven", "Total disc arthroplasty");
  const ps = propose(doc, [I, II]);
  it("statement codes go to the statement's section; an exclusion's codes do not support coverage", () => {
    assert.deepEqual(of(ps, "27279").codes, ["27279", "27280"]);
    assert.deepEqual(brief(of(ps, "27279")), {
      system: "CPT",
      section: "I",
      coverage: "supports",
      confidence: "stated",
    });
    const excl = of(ps, "0775T");
    assert.deepEqual(
      { ...brief(excl), criterion: excl.criterion },
      { system: "CPT", section: "I", coverage: "does-not-support", confidence: "stated", criterion: "I.B.1" },
    );
    assert.equal(of(ps, "0809T").criterion, "I.B.2");
    const range = of(ps, "0275T");
    assert.deepEqual(range.codes, ["0275T", "0276T"]);
    assert.deepEqual(brief(range), {
      system: "CPT",
      section: "II",
      coverage: "does-not-support",
      confidence: "stated",
    });
  });
  it("a headerless crosswalk row naming a section", () => {
    const row = ps.find((p) => p.line === lineOf(doc, "| Section II")) as ProposedBinding;
    assert.deepEqual(brief(row), {
      system: "CPT",
      section: "II",
      coverage: "does-not-support",
      confidence: "stated",
    });
    assert.match(row.basis, /names "Section II"/);
  });
  it("a large range stays one range", () => {
    const big = propose("I. Spine surgery (CPT 22010-22899) is medically necessary when", [
      section(
        "I. Spine surgery (CPT 22010-22899) is medically necessary when",
        "I",
        "medically-necessary",
        "Spine",
      ),
    ]);
    assert.deepEqual(big[0]?.codes, ["22010-22899"]);
  });
});

describe("headings of code lists", () => {
  it("name the system and say the coverage; disclaimers and notes are not headings", () => {
    assert.deepEqual(codeListHeading("CPT codes covered if selection criteria are met:"), {
      system: "CPT",
      coverage: "supports",
    });
    assert.deepEqual(
      codeListHeading("ICD-10 codes not covered for indications listed in the CPB (not all-inclusive):"),
      {
        system: "ICD-10-CM",
        coverage: "does-not-support",
      },
    );
    assert.deepEqual(codeListHeading("Other CPT codes related to the CPB:"), {
      system: "CPT",
      coverage: "unspecified",
    });
    assert.deepEqual(codeListHeading("ICD-10-CM Codes that DO NOT Support Medical Necessity"), {
      system: "ICD-10-CM",
      coverage: "does-not-support",
    });
    assert.deepEqual(codeListHeading("Group 1 Codes:"), { coverage: "unspecified" });
    assert.deepEqual(codeListHeading("CPT/HCPCS Codes"), { coverage: "unspecified" });
    assert.deepEqual(codeListHeading("Codes that support coverage criteria"), { coverage: "supports" });
    assert.equal(
      codeListHeading(
        "This clinical policy references Current Procedural Terminology (CPT®). Inclusion or exclusion of any codes does not guarantee coverage.",
      ),
      undefined,
    );
    assert.equal(codeListHeading("Considered Experimental/Investigational/Unproven:"), undefined);
  });

  it("a coverage line alone holds only for the table right after it", () => {
    const doc = `Coverage Policy
Facet fusion is considered medically necessary when all of the following:
Low back pain for six months
Failed conservative care
Other information
64490	Injection(s), diagnostic or therapeutic agent, paravertebral facet joint`;
    const ps = propose(doc, []);
    assert.equal(ps[0]?.coverage, "unspecified", JSON.stringify(ps));
  });

  it("a revision log that names codes proposes nothing", () => {
    const doc = `I. Fusion is medically necessary when all of the following:
Reviews, Revisions, and Approvals\tRevision Date\tApproval Date
Added new CPT code 0775T to table that does not support coverage criteria.\t06/23\t06/23
Removed deleted code 0775T (CPT 0775T) from the table.\t04/25\t04/25`;
    assert.deepEqual(propose(doc, [section(doc, "I", "medically-necessary", "Fusion")]), []);
  });
});

describe("codes in prose outside the sections", () => {
  it("a coverage sentence proposes without a section; background and references do not", () => {
    const doc = `I. Fusion is medically necessary when all of the following:
Note: robotic navigation (CPT 0054T) is not covered.
Background
Medicare covers minimally invasive fusion (CPT 27279) for members who meet the LCD.
References
1. Polly DW. Fusion (CPT 27279) is covered: a review. 2016.`;
    const ps = propose(doc, [section(doc, "I", "medically-necessary", "Fusion is")]);
    assert.equal(ps.length, 1, JSON.stringify(ps));
    assert.deepEqual(ps[0]?.codes, ["0054T"]);
    assert.deepEqual(brief(ps[0] as ProposedBinding), {
      system: "CPT",
      section: undefined,
      coverage: "does-not-support",
      confidence: "inferred",
    });
    assert.match(ps[0]?.basis ?? "", /sentence at line 2.*outside every section/);
  });
});

describe("no section to choose", () => {
  it("a not-covered list with no not-covered section: does-not-support, no section", () => {
    const doc = `I. Fusion is medically necessary when all of the following:
CPT codes not covered for indications listed in the CPB:
0775T\tArthrodesis, sacroiliac joint, percutaneous`;
    const ps = propose(doc, [section(doc, "I", "medically-necessary", "Fusion is")]);
    assert.deepEqual(ps, [
      {
        codes: ["0775T"],
        system: "CPT",
        coverage: "does-not-support",
        basis:
          'list under "CPT codes not covered for indications listed in the CPB" (line 2); no not-covered section',
        line: 3,
        confidence: "stated",
      },
    ]);
  });
  it("a covered list with two covered sections and nothing to tell them apart: the author chooses", () => {
    const doc = `I. Knee arthroscopy is medically necessary when:
II. Hip arthroscopy is medically necessary when:
CPT codes covered if selection criteria are met:
29999\tUnlisted procedure, arthroscopy`;
    const ps = propose(doc, [
      section(doc, "I", "medically-necessary", "Knee"),
      section(doc, "II", "medically-necessary", "Hip"),
    ]);
    assert.equal(ps[0]?.section, undefined);
    assert.match(ps[0]?.basis ?? "", /2 covered sections \(I, II\): the author chooses/);
  });
});

describe("seeds", () => {
  const seeds = readdirSync(join(ROOT, "policies")).flatMap((d) =>
    readdirSync(join(ROOT, "policies", d))
      .filter((f) => f.endsWith(".txt"))
      .map((f) => ({ policy: d, file: join(ROOT, "policies", d, f) })),
  );

  it("CP.MP.126: 27280 → I, 27279 → II, 27278 → IV, as its author bound them", () => {
    const seed = seeds.find((s) => s.policy === "CP.MP.126");
    assert.ok(seed);
    const r = ingest(readFileSync(seed.file));
    const ps = r.proposedBindings;
    assert.deepEqual(brief(of(ps, "27280")), {
      system: "CPT",
      section: "I",
      coverage: "supports",
      confidence: "inferred",
    });
    assert.deepEqual(brief(of(ps, "27279")), {
      system: "CPT",
      section: "II",
      coverage: "supports",
      confidence: "inferred",
    });
    assert.deepEqual(brief(of(ps, "27278")), {
      system: "CPT",
      section: "IV",
      coverage: "does-not-support",
      confidence: "inferred",
    });
  });

  it("every seed: every code of its code tables is proposed once, and no proposal contradicts the author", () => {
    for (const seed of seeds) {
      const r = ingest(readFileSync(seed.file));
      const v = r.versions[r.versions.length - 1];
      assert.ok(v);
      const tableCodes = v.codeTables.flatMap((t) => t.rows.map((row) => row.code)).sort();
      const proposed = r.proposedBindings.flatMap((p) => p.codes).sort();
      assert.deepEqual(proposed, tableCodes, seed.file);
      type Authored = { inherits?: string; codes?: { codes: string[]; section?: string }[] };
      const read = (id: string) =>
        JSON.parse(readFileSync(join(ROOT, "policies", id, "bindings.json"), "utf8")) as Authored;
      let authored = read(seed.policy);
      if (!authored.codes && authored.inherits) authored = read(authored.inherits);
      for (const a of authored.codes ?? []) {
        if (!a.section) continue;
        for (const code of a.codes) {
          const p = of(r.proposedBindings, code);
          if (p.section !== undefined) assert.equal(p.section, a.section, `${seed.file}: ${code}`);
        }
      }
    }
  });

  it("proposals stay out of the version and its hash", () => {
    const seed = seeds.find((s) => s.policy === "CP.MP.126");
    assert.ok(seed);
    const r = ingest(readFileSync(seed.file));
    assert.ok(r.proposedBindings.length > 0);
    assert.ok(!("proposedBindings" in (r.versions[0] as object)));
  });
});

describe("words that only begin alike do not bind a code to a section", () => {
  const doc = [
    "Policy",
    "",
    "I. Lumbar spinal fusion is considered medically necessary when all of the following are met:",
    "   A. Instability;",
    "   B. Failure of conservative care.",
    "",
    "II. Interspinous process devices are considered medically necessary when all of the following are met:",
    "   A. Stenosis at one level;",
    "   B. Neurogenic claudication.",
    "",
    "CPT codes covered if selection criteria are met:",
    "22612 Arthrodesis, posterior technique, single interspace",
    "22869 Insertion of interspinous process stabilization device",
  ].join("\n");
  const ps = propose(doc, [
    section(doc, "I", "medically-necessary", "Lumbar spinal fusion"),
    section(doc, "II", "medically-necessary", "Interspinous process devices"),
  ]);
  it("'interspace' is not 'interspinous' (a 6-letter stem shared); 'interspinous' is", () => {
    assert.notEqual(of(ps, "22612").section, "II");
    assert.equal(of(ps, "22869").section, "II");
  });
});

describe("QA pass 5: a billing article's groups", () => {
  const doc = (group2: string) => `Local Coverage Determination (LCD)
Sacroiliac Joint Procedures
LCD ID: L39464
Effective Date: 09/01/2024

Coverage Indications, Limitations, and/or Medical Necessity

A. Sacroiliac joint radiofrequency ablation is considered medically reasonable and necessary when the patient meets all of the following:
1. Two diagnostic SIJ injections with at least 75% pain relief each; and
2. The ablation is performed using cooled radiofrequency.

B. Sacroiliac joint fusion by open approach is not reasonable and necessary.

Coding Information

CPT/HCPCS Codes
Group 1 Paragraph:
Sacroiliac joint radiofrequency ablation
Group 1 Codes:
Code\tDescription
64625\tRF ABLTJ NRV NRVTG SI JOINT
Group 2 Paragraph:
${group2}
Group 2 Codes:
Code\tDescription
27280\tARTHRODESIS OPEN SACROILIAC JOINT
`;
  for (const group2 of ["Open sacroiliac joint fusion", "N/A", "The following CPT code is non-covered:"]) {
    it(`Group 2's paragraph ("${group2}") replaces Group 1's: 27280 is not bound to A by it`, () => {
      const ps = ingest(doc(group2)).proposedBindings;
      const first = of(ps, "64625");
      assert.equal(first.section, "A");
      assert.equal(first.confidence, "stated");
      const second = of(ps, "27280");
      assert.notEqual(second.section, "A");
      assert.doesNotMatch(second.basis, /Group 1|radiofrequency/i);
    });
  }
});

describe("QA pass 5: one shared word does not send a list of unstated coverage to a not-covered section", () => {
  it("64633 'facet joint nerve' is not proposed for 'Cryoablation of the facet joint nerves is not reasonable and necessary'", () => {
    const ps = ingest(`Local Coverage Determination (LCD)
Facet Joint Procedures
LCD ID: L38803
Effective Date: 01/01/2025

Coverage Indications, Limitations, and/or Medical Necessity

A. Thermal radiofrequency ablation of the facet joint is considered reasonable and necessary when all of the following are met:
1. Two diagnostic medial branch blocks each with 80% relief; and
2. Imaging guidance is used.

B. Cryoablation of the facet joint nerves is not reasonable and necessary.

Coding Information

CPT/HCPCS Codes
Code\tDescription
64633\tDestruction by neurolytic agent, paravertebral facet joint nerve; cervical or thoracic, single
`).proposedBindings;
    assert.notEqual(of(ps, "64633").section, "B");
  });
});
