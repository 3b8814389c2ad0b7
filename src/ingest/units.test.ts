/** Building blocks of the ingester: labels, inline cleaning, lead-ins, redline sides, tables, notes. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { BranchNode } from "../model/index.js";
import { noteMeaning } from "./criteria.js";
import { readCrossReference } from "./document.js";
import { ingest } from "./index.js";
import { cleanInline, collapse, criterionText, ESC_STAR, finishText, spacedOnce } from "./inline.js";
import { labelCandidates, parseLabel, romanValue, toRoman } from "./labels.js";
import { readLeadIn } from "./leadin.js";
import { sideText } from "./redline.js";
import { parseDate, readCodeMarker } from "./tables.js";

describe("labels", () => {
  it("reads label styles, keeping both readings where a letter is also a numeral", () => {
    assert.deepEqual(labelCandidates("I"), [
      { style: "upper", value: 9 },
      { style: "roman", value: 1 },
    ]);
    assert.deepEqual(labelCandidates("iv"), [{ style: "lowerRoman", value: 4 }]);
    assert.deepEqual(labelCandidates("C"), [{ style: "upper", value: 3 }]);
    assert.deepEqual(labelCandidates("12"), [{ style: "digit", value: 12 }]);
    assert.equal(romanValue("XXXIX"), 39);
    assert.equal(romanValue("XL"), undefined);
    assert.equal(toRoman(14), "XIV");
  });
  it("parses printed labels and refuses look-alikes", () => {
    assert.equal(parseLabel("II. It is the policy")?.token, "II");
    assert.equal(parseLabel("(b) text")?.token, "b");
    assert.equal(parseLabel("3) text")?.token, "3");
    assert.equal(parseLabel("e.g. failed back"), undefined);
    assert.equal(parseLabel("U.S. Food and Drug"), undefined);
    assert.equal(parseLabel("No. 5 item"), undefined);
    assert.equal(parseLabel("1.5 mg daily"), undefined);
  });
  it("reads decimal labels by their numbers, and refuses decimal numbers that are no labels", () => {
    for (const [text, token, path] of [
      ["1.1 The individual is 18", "1.1", [1, 1]],
      ["1.2.1 Neck pain;", "1.2.1", [1, 2, 1]],
      ["1.1. The individual", "1.1", [1, 1]],
      ["2.3.1) Neck pain", "2.3.1", [2, 3, 1]],
      ["10.12 (a) Documented", "10.12", [10, 12]],
    ] as const) {
      const lab = parseLabel(text);
      assert.equal(lab?.token, token, text);
      assert.deepEqual(lab?.path, path, text);
      assert.deepEqual(lab?.candidates, [{ style: "digit", value: path[path.length - 1] }], text);
    }
    assert.equal(parseLabel("1. Widget")?.path, undefined);
    for (const text of [
      "1.5 mg/kg per day;",
      "1.2 mL per session",
      "0.5% of the dose",
      "1.0 Description of the Procedure",
      "1.05 Units",
      "1.8 Gy per fraction",
      "2.5 L of fluid",
      "1.5 IU/kg",
      "2024.1 Revised",
      "1.2",
      "M43.1 Spondylolisthesis",
      "1.2.3.4.5.6.7 Too deep",
    ])
      assert.equal(parseLabel(text)?.path, undefined, text);
  });
});

describe("inline cleaning", () => {
  it("converts LaTeX math", () => {
    assert.equal(cleanInline("provided  $\\geq 50\\%$  reduction"), "provided ≥ 50% reduction");
    assert.equal(cleanInline("life expectancy $>$ 3 and $\\leq$ 2"), "life expectancy > 3 and ≤ 2");
    assert.equal(cleanInline("costs $5 and $10"), "costs $5 and $10");
  });
  it("drops markup but keeps escaped and marker stars", () => {
    assert.equal(
      cleanInline("**II.** It is *implantation* of <b>x</b> <i>y</i>"),
      "II. It is implantation of x y",
    );
    assert.equal(cleanInline("[Revision Log](#) and [a](http://x.org)"), "Revision Log and a");
    assert.equal(cleanInline("[bookmark: _Hlk153268976]It is"), "It is");
    assert.equal(cleanInline("CPT <sup>®</sup> Codes"), "CPT® Codes");
    assert.equal(cleanInline("pain.<sup>1(pS52)</sup> Numerous"), "pain. Numerous");
    assert.equal(cleanInline("effects;\\*"), `effects;${ESC_STAR}`);
    assert.equal(finishText(cleanInline("2019;17\\(8\\):977 doi:5\\_8")), "2019;17(8):977 doi:5_8");
    assert.equal(cleanInline("Pump****Background**"), "Pump Background");
    assert.equal(cleanInline("a &amp; b &lt; c"), "a & b < c");
  });
  it("peels joiner, marker and punctuation off a criterion", () => {
    assert.deepEqual(criterionText(`minimal side effects;${ESC_STAR}`), {
      text: "minimal side effects",
      marker: "*",
    });
    assert.deepEqual(criterionText("side effects*; and"), {
      text: "side effects",
      marker: "*",
      joiner: "and",
    });
    assert.deepEqual(criterionText("pain symptoms-;"), { text: "pain symptoms" });
    assert.deepEqual(criterionText("Activity modification; or"), {
      text: "Activity modification",
      joiner: "or",
    });
    assert.deepEqual(criterionText("X†."), { text: "X", marker: "†" });
  });
});

describe("lead-ins", () => {
  const cases: [string, string, number | undefined, string | undefined][] = [
    [
      "Chronic intractable pain of malignant origin when all of the following criteria is met",
      "all",
      undefined,
      "Chronic intractable pain of malignant origin",
    ],
    [
      "Failure of at least six consecutive months of conservative treatment that includes all of the following",
      "all",
      undefined,
      "Failure of at least six consecutive months of conservative treatment",
    ],
    [
      "Recent (within six months) diagnostic imaging studies that include all of the following",
      "all",
      undefined,
      "Recent (within six months) diagnostic imaging studies",
    ],
    ["Request is for either of the following indications", "any", undefined, undefined],
    ["None of the following contraindications", "none", undefined, undefined],
    ["Positive response to at least three of the following provocative tests", "atLeast", 3, undefined],
    ["At least 2 of the following", "atLeast", 2, undefined],
    ["Meeting all of the following", "all", undefined, undefined],
    ["One of the following", "any", undefined, undefined],
    ["Member has pain and all of the following", "all", undefined, "Member has pain"],
  ];
  for (const [text, kind, n, condition] of cases) {
    it(text, () => {
      const l = readLeadIn(text, false);
      assert.equal(l.kind, kind);
      assert.equal(l.n, n);
      assert.equal(l.condition, condition);
    });
  }
  it("finds a reference to an earlier section and the condition before it", () => {
    const l = readLeadIn(
      "Chronic intractable pain of malignant origin when the above criteria for the preliminary trial are met, and all of the following",
      false,
    );
    assert.equal(l.kind, "all");
    assert.equal(l.condition, "Chronic intractable pain of malignant origin");
    assert.equal(l.refSubject, "preliminary trial");
  });
  it("takes no condition from a section statement", () => {
    const l = readLeadIn(
      "It is the policy of X that Y is medically necessary when all of the following criteria are met:",
      true,
    );
    assert.equal(l.kind, "all");
    assert.equal(l.condition, undefined);
  });
});

describe("notes, cross-references, code markers, dates", () => {
  it("reads a note's condition and effect", () => {
    assert.deepEqual(
      noteMeaning(
        "The trial requirement may be reviewed by a medical director on a case-by-case basis for instances of advanced disease, when survival time is limited, or considered high risk for procedures.",
      ),
      {
        condition: "Advanced disease, when survival time is limited, or considered high risk for procedures",
        effect: "review",
      },
    );
    assert.equal(noteMeaning("Coverage applies to adults.").effect, "informational");
  });
  it("reads a cross-reference", () => {
    const c = readCrossReference(
      "Refer to CP.PHAR.149 Intrathecal Baclofen (Gablofen, Lioresal) for requests for Baclofen.",
      1,
    );
    assert.deepEqual(
      { target: c?.target, title: c?.title, subject: c?.subject },
      { target: "CP.PHAR.149", title: "Intrathecal Baclofen (Gablofen, Lioresal)", subject: "Baclofen" },
    );
  });
  it("reads a code-marker note", () => {
    const m = readCodeMarker(
      `NOTE: Coverage is subject to each requested code’s inclusion on the corresponding LDH fee schedule. Non-covered codes are denoted (${ESC_STAR}) and are reviewed for Medical Necessity for members under 21 years of age on a per case basis.`,
      5,
    );
    assert.deepEqual(
      { marker: m?.marker, meaning: m?.meaning, reviewUnderAge: m?.reviewUnderAge },
      { marker: "*", meaning: "not-on-fee-schedule", reviewUnderAge: 21 },
    );
  });
  it("reads the date forms of revision logs", () => {
    assert.deepEqual(parseDate("02/19"), { y: 2019, m: 2 });
    assert.deepEqual(parseDate("2/25"), { y: 2025, m: 2 });
    assert.deepEqual(parseDate("12/01/20"), { y: 2020, m: 12, d: 1 });
    assert.deepEqual(parseDate("8/15/24"), { y: 2024, m: 8, d: 15 });
    assert.deepEqual(parseDate("01/2026"), { y: 2026, m: 1 });
    assert.equal(parseDate("13/20"), undefined);
    assert.equal(parseDate("2/30/24"), undefined);
  });
});

describe("redline sides", () => {
  it("splits a struck old label from the new one and drops wholly inserted rows", () => {
    const lines = [
      "      - ~~f. Active participation;~~",
      "      - ~~g.f.~~ Further surgical intervention;",
      "a <del>old</del> <ins>new</ins> <u>newer</u> b",
      "<u>Annual review.</u>\t2/25\t\t",
      "~~Removed row.~~\t01/20\t01/20",
    ];
    assert.deepEqual(sideText(lines, "prior"), [
      "      - f. Active participation;",
      "      - g.  Further surgical intervention;",
      "a old   b",
      "",
      "Removed row.\t01/20\t01/20",
    ]);
    assert.deepEqual(sideText(lines, "proposed"), [
      "      - ",
      "      - f.  Further surgical intervention;",
      "a  new newer b",
      "Annual review.\t2/25\t\t",
      "",
    ]);
  });
});

describe("document structure beyond the seeds", () => {
  const tree = (doc: string) => ingest(doc).versions[0]?.sections[0]?.tree as BranchNode;
  it("re-joins a wrapped line that only looks like a label", () => {
    const t = tree(
      [
        "I. It is the policy of P that X is medically necessary when all of the following are met:",
        "A. Age over 18;",
        "B. Deficiency of vitamin",
        "A. or folate confirmed by testing;",
        "C. No contraindication.",
      ].join("\n"),
    );
    assert.deepEqual(
      t.children.map((c) => [c.id, c.text]),
      [
        ["I.A", "Age over 18"],
        ["I.B", "Deficiency of vitamin A. or folate confirmed by testing"],
        ["I.C", "No contraindication"],
      ],
    );
  });
  it("reads an unlabeled single-section statement as section I", () => {
    const r = ingest(
      [
        "Policy/Criteria",
        "It is the policy of P that X is medically necessary when either of the following are met:",
        "A. One thing;",
        "B. Another thing.",
        "",
        "Background",
        "Prose.",
      ].join("\n"),
    );
    const s = r.versions[0]?.sections;
    assert.equal(s?.length, 1);
    assert.equal(s?.[0]?.id, "I");
    assert.equal(s?.[0]?.tree?.kind, "any");
    assert.deepEqual(r.unplaced, []);
  });
  it("reports what it cannot place, with line numbers", () => {
    const r = ingest(
      [
        "Policy/Criteria",
        "I. It is the policy of P that X is medically necessary when all of the following are met:",
        "A. One thing;",
        "B. Another thing.",
        "",
        "Some stray paragraph.",
        "",
        "Background",
      ].join("\n"),
    );
    assert.deepEqual(
      r.unplaced.map((u) => [u.line, u.text]),
      [[6, "Some stray paragraph."]],
    );
  });
  it("flags a list joined with 'or' under an 'all' lead-in", () => {
    const r = ingest(
      "I. It is the policy of P that X is medically necessary when all of the following are met:\nA. One; or\nB. Two.\n",
    );
    assert.deepEqual(
      r.findings.filter((f) => f.code.startsWith("leadin")).map((f) => [f.code, f.criterion]),
      [["leadin-joiner-mismatch", "I"]],
    );
  });
  it("reads markdown pipe tables", () => {
    const v = ingest(
      [
        "- I. It is the policy of P that X is medically necessary when all of the following are met:",
        "  - A. One.",
        "",
        "## Coding Implications",
        "",
        "**Codes that do not support coverage criteria**",
        "",
        "| CPT® Codes | Description |",
        "|---|---|",
        "| 12345 | Some \\| thing |",
        "| 23456* | Other |",
        "",
        "| Reviews, Revisions, and Approvals | Revision Date | Approval Date |",
        "| --- | --- | --- |",
        "| Policy developed. | 02/19 | 03/19 |",
      ].join("\n"),
    ).versions[0];
    assert.deepEqual(
      v?.codeTables.map((t) => [t.system, t.coverage, t.rows.map((r) => [r.code, r.marker, r.description])]),
      [
        [
          "CPT® Codes",
          "does-not-support",
          [
            ["12345", undefined, "Some | thing"],
            ["23456", "*", "Other"],
          ],
        ],
      ],
    );
    assert.equal(v?.identity.version, "2019-02");
    assert.equal(v?.identity.approved, "2019-03-01");
  });
  it("reads a Windows-1252 text export", () => {
    const bytes = Buffer.from(
      "I. It is the policy of P that X is medically necessary when all of the following are met:\nA. Patient\x92s pain \x96 severe;\nB. Two.\n",
      "latin1",
    );
    assert.equal(ingest(bytes).versions[0]?.sections[0]?.tree?.children[0]?.text, "Patient’s pain – severe");
  });
});

it("spacedOnce is exactly 'the \\s+ → space replace changes nothing' (collapse's fast path)", () => {
  const spaces = [" ", "\t", "\n", "\u00a0", "\u2003", "\u2028", "\u3000", "\ufeff", "\u200b", "\u0085"];
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constantFrom(...spaces), fc.string({ maxLength: 3 })), { maxLength: 12 }),
      (parts) => {
        const s = parts.join("");
        assert.equal(spacedOnce(s), s.replace(/\s+/g, " ") === s, JSON.stringify(s));
        assert.equal(collapse(s), s.replace(/\s+/g, " ").trim());
      },
    ),
    { numRuns: 2000 },
  );
});
