/**
 * Exclusion lists not evaluated with a code's section (src/library/exclusions.ts): an approval under
 * another section decides review, and lint says why; a list of other indications is not one. Written on
 * documents in other payers' words, not the seeds (the seeds have no such section).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { addDocument, initLibrary } from "../cli/library-commands.js";
import { ingest } from "../ingest/index.js";
import { decide } from "./decide.js";
import { exclusionLists, isExclusionList } from "./exclusions.js";
import { loadLibrary } from "./library.js";
import { lintVersion } from "./lint.js";

const root = mkdtempSync(join(tmpdir(), "medpolicy-exclusions-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** A commercial-style policy: criteria in I, and a separate not-medically-necessary list in II. */
function widget(secondStatement: string, items = ["Active infection at the treatment site", "Pregnancy"]) {
  return [
    "Clinical Policy: Widget Therapy",
    "Reference Number: XY.MP.12",
    "Effective Date: 03/01/2026",
    "",
    "Policy/Criteria",
    "I. It is the policy of health plans affiliated with Example Health that widget therapy is medically necessary when all of the following criteria are met:",
    "A. Diagnosis of chronic widget syndrome;",
    "B. Failure of at least 3 months of conservative therapy.",
    "",
    `II. ${secondStatement}`,
    ...items.map((t, i) => `${String.fromCharCode(65 + i)}. ${t};`),
    "",
  ].join("\n");
}

const EXCLUSIONS = [
  "Widget therapy is not medically necessary in the presence of any of the following contraindications:",
  "Widget therapy is not covered for members with any of the following:",
  "Widget therapy is considered not medically necessary for patients who have any of the following:",
  "Widget therapy is not medically necessary when any of the following apply:",
];
const INDICATIONS = [
  "Widget therapy is not medically necessary for the treatment of the following conditions:",
  "Widget therapy is considered investigational for all other indications, including:",
];

function sectionII(statement: string) {
  const v = ingest(widget(statement), { fileName: "widget.txt" }).versions[0]!;
  const s = v.sections.find((x) => x.id === "II");
  assert.ok(s, `section II read from: ${statement}`);
  assert.equal(s.kind, "not-proven", statement);
  return { v, s };
}

let libs = 0;
/** A payer library holding `doc` (added as a draft) with `codes` as its code bindings. */
function libraryWith(doc: string, id: string, codes: unknown[]) {
  const dir = join(root, `lib-${libs++}`);
  initLibrary(dir);
  const file = join(root, `doc-${libs}.txt`);
  writeFileSync(file, doc);
  addDocument(dir, readFileSync(file), { fileName: file, now: new Date("2026-03-02T00:00:00Z") });
  const bindingsPath = join(dir, id, "bindings.json");
  const b = JSON.parse(readFileSync(bindingsPath, "utf8"));
  b.codes = codes;
  writeFileSync(bindingsPath, JSON.stringify(b));
  return loadLibrary(dir);
}

describe("exclusion lists", () => {
  it("a list of the patient's conditions that rule the service out is one", () => {
    for (const st of EXCLUSIONS) {
      const { v, s } = sectionII(st);
      assert.equal(isExclusionList(s), true, st);
      assert.deepEqual(
        exclusionLists(v).map((x) => x.id),
        ["II"],
      );
    }
  });

  it("a list of other indications, a covered section, or a statement without a list is not", () => {
    for (const st of INDICATIONS) assert.equal(isExclusionList(sectionII(st).s), false, st);
    const { v } = sectionII(EXCLUSIONS[0]!);
    assert.equal(isExclusionList(v.sections.find((x) => x.id === "I")!), false);
    const bare = ingest(
      widget("Widget therapy is not medically necessary for patients with a pacemaker.", []),
      {
        fileName: "w.txt",
      },
    ).versions[0]!;
    assert.deepEqual(exclusionLists(bare), []);
  });

  it("an approval under another section reads the unbound list: asked, a condition present reviewed naming it, none present approved; a denial stays a denial; lint says why", () => {
    const dir = join(root, "lib");
    initLibrary(dir);
    const file = join(root, "widget.txt");
    writeFileSync(file, widget(EXCLUSIONS[0]!));
    addDocument(dir, readFileSync(file), { fileName: file, now: new Date("2026-03-02T00:00:00Z") });
    const bindingsPath = join(dir, "XY.MP.12", "bindings.json");
    const b = JSON.parse(readFileSync(bindingsPath, "utf8"));
    b.codes = [{ codes: ["64999"], section: "I" }];
    writeFileSync(bindingsPath, JSON.stringify(b));
    const lib = loadLibrary(dir);
    const c = (answers: Record<string, boolean>) => ({
      policy: "XY.MP.12@2026-03",
      member: { state: "TX", birthDate: "1970-01-01" },
      service: { codes: ["64999"], dateOfService: "2026-04-01" },
      answers,
    });
    const met = decide(lib, c({ "I.A": true, "I.B": true }), { today: "2026-04-01" });
    assert.equal(met.outcome, "pended", "never approved without section II's conditions");
    assert.deepEqual(
      met.needed.map((n) => n.criterion),
      ["II.A", "II.B"],
    );
    assert.match(
      met.lines[0]!.basis,
      /section I criteria met; section II .*whether any of them is present is needed/,
    );
    assert.equal(met.lines[0]!.exclusions?.[0]?.id, "II", "the list's trace beside the section's");
    const present = decide(lib, c({ "I.A": true, "I.B": true, "II.A": false, "II.B": true }), {
      today: "2026-04-01",
    });
    assert.equal(present.outcome, "review", "the list is not bound: a reviewer, not the engine, applies it");
    assert.deepEqual(present.reasons, [{ criterion: "II.B", text: "Pregnancy", status: "present" }]);
    assert.match(
      present.lines[0]!.basis,
      /a condition listed by section II .* is present \(II\.B: Pregnancy\)/,
    );
    const clear = decide(lib, c({ "I.A": true, "I.B": true, "II.A": false, "II.B": false }), {
      today: "2026-04-01",
    });
    assert.equal(clear.outcome, "approved");
    assert.match(clear.lines[0]!.basis, /none of the conditions listed by section II .* is present/);
    // Without the trace, the same outcomes and no list traces.
    const quiet = decide(lib, c({ "I.A": true, "I.B": true, "II.B": true }), {
      today: "2026-04-01",
      trace: false,
    });
    assert.equal(quiet.outcome, "review");
    assert.equal(quiet.lines[0]!.exclusions, undefined);
    const failed = decide(lib, c({ "I.A": false }), { today: "2026-04-01" });
    assert.equal(failed.outcome, "denied");
    const entry = lib.get("XY.MP.12@2026-03");
    const finding = lintVersion(lib, entry.policy).find((f) => f.code === "exclusions-not-evaluated");
    assert.equal(finding?.criterion, "II");
    assert.equal(finding?.severity, "warning");
    assert.equal(finding?.line, 10);
  });

  it("bound with excludedBy, the list is evaluated with the section: a condition present denies citing it; none present approves", () => {
    const lib = libraryWith(widget(EXCLUSIONS[0]!), "XY.MP.12", [
      { codes: ["64999"], section: "I", excludedBy: ["II"] },
    ]);
    const c = (answers: Record<string, boolean>) => ({
      policy: "XY.MP.12@2026-03",
      member: { state: "TX", birthDate: "1970-01-01" },
      service: { codes: ["64999"], dateOfService: "2026-04-01" },
      answers,
    });
    const today = { today: "2026-04-01" };
    const open = decide(lib, c({ "I.A": true, "I.B": true }), today);
    assert.equal(open.outcome, "pended", "the exclusions are asked, not assumed absent");
    assert.deepEqual(
      open.needed.map((n) => n.criterion),
      ["II.A", "II.B"],
    );
    const clear = decide(lib, c({ "I.A": true, "I.B": true, "II.A": false, "II.B": false }), today);
    assert.equal(clear.outcome, "approved");
    const present = decide(lib, c({ "I.A": true, "I.B": true, "II.A": false, "II.B": true }), today);
    assert.equal(present.outcome, "denied");
    assert.deepEqual(present.reasons, [{ criterion: "II.B", text: "Pregnancy", status: "present" }]);
    const entry = lib.get("XY.MP.12@2026-03");
    const codes = lintVersion(lib, entry.policy).map((f) => f.code);
    assert.ok(!codes.includes("exclusions-not-evaluated"), codes.join());
    assert.ok(!codes.includes("binding-excluded-by"), codes.join());
    // The document's own model is as ingested; the evaluated copy reads II under I too.
    assert.ok(!entry.policy.sections.find((x) => x.id === "I")!.tree!.children.some((c) => c.id === "II"));
    assert.ok(entry.evaluated.sections.find((x) => x.id === "I")!.tree!.children.some((c) => c.id === "II"));
    assert.ok(entry.evaluated.sections.find((x) => x.id === "II")!.tree, "the list keeps its own section");
  });

  it("a list of 'patients with any of the following' is none of them for the covered section (NCD style)", () => {
    const lib = libraryWith(widget(EXCLUSIONS[1]!), "XY.MP.12", [
      { codes: ["64999"], section: "I", excludedBy: ["II"] },
    ]);
    const present = decide(
      lib,
      {
        policy: "XY.MP.12@2026-03",
        member: { state: "TX", birthDate: "1970-01-01" },
        service: { codes: ["64999"], dateOfService: "2026-04-01" },
        answers: { "I.A": true, "I.B": true, "II.A": true },
      },
      { today: "2026-04-01" },
    );
    assert.equal(present.outcome, "denied");
    assert.deepEqual(
      present.reasons.map((r) => [r.criterion, r.status]),
      [["II.A", "present"]],
    );
  });

  it("what cannot be read as exclusions is an error finding and changes nothing (approvals still read the list)", () => {
    for (const [codes, message] of [
      [
        [{ codes: ["64999"], section: "I", excludedBy: ["III"] }],
        /excludedBy III, which this version does not have/,
      ],
      [[{ codes: ["64999"], section: "I", excludedBy: ["I"] }], /excludedBy I, which is the section itself/],
      [
        [
          { codes: ["64999"], section: "I", excludedBy: ["II"] },
          { codes: ["64998"], section: "I" },
        ],
        /the codes of section I disagree on excludedBy/,
      ],
    ] as [unknown[], RegExp][]) {
      const lib = libraryWith(widget(EXCLUSIONS[0]!), "XY.MP.12", codes);
      const entry = lib.get("XY.MP.12@2026-03");
      const f = lintVersion(lib, entry.policy).find((x) => x.code === "binding-excluded-by");
      assert.equal(f?.severity, "error", JSON.stringify(codes));
      assert.match(f!.message, message);
      const met = decide(
        lib,
        {
          policy: "XY.MP.12@2026-03",
          member: { state: "TX", birthDate: "1970-01-01" },
          service: { codes: ["64999"], dateOfService: "2026-04-01" },
          answers: { "I.A": true, "I.B": true },
        },
        { today: "2026-04-01" },
      );
      assert.equal(met.outcome, "pended", JSON.stringify(codes));
      assert.deepEqual(
        met.needed.map((n) => n.criterion),
        ["II.A", "II.B"],
        JSON.stringify(codes),
      );
    }
  });

  it("another section's approvals still read the list while only one section evaluates it", () => {
    // Sections are numbered by position: the revision section is II, the list III.
    const doc = widget(EXCLUSIONS[1]!).replace(
      "\nII. ",
      "\nII. Widget revision is medically necessary when all of the following are met:\nA. A prior widget implant;\nB. Device failure.\n\nIII. ",
    );
    const lib = libraryWith(doc, "XY.MP.12", [
      { codes: ["64999"], section: "I", excludedBy: ["III"] },
      { codes: ["64998"], section: "II" },
    ]);
    const entry = lib.get("XY.MP.12@2026-03");
    const decideCode = (code: string, answers: Record<string, boolean>) =>
      decide(
        lib,
        {
          policy: "XY.MP.12@2026-03",
          member: { state: "TX", birthDate: "1970-01-01" },
          service: { codes: [code], dateOfService: "2026-04-01" },
          answers,
        },
        { today: "2026-04-01" },
      );
    const revision = decideCode("64998", { "II.A": true, "II.B": true });
    assert.equal(revision.outcome, "pended", "II does not evaluate III: its conditions are asked");
    assert.deepEqual(
      revision.needed.map((n) => n.criterion),
      ["III.A", "III.B"],
    );
    assert.equal(decideCode("64998", { "II.A": true, "II.B": true, "III.A": true }).outcome, "review");
    assert.equal(
      decideCode("64998", { "II.A": true, "II.B": true, "III.A": false, "III.B": false }).outcome,
      "approved",
    );
    assert.equal(
      decideCode("64999", { "I.A": true, "I.B": true, "III.A": false, "III.B": false }).outcome,
      "approved",
    );
    const warning = lintVersion(lib, entry.policy).find((f) => f.code === "exclusions-not-evaluated");
    assert.match(warning?.message ?? "", /section II does not evaluate it/);
  });

  it("a list that is not the patient's conditions, or reads the other way, cannot be bound", () => {
    for (const [statement, message] of [
      [INDICATIONS[0]!, /not a not-covered list of the patient's conditions/],
      // The ingester reads "none of the following are met" as none: met when none holds, not an exclusion.
      [
        "Widget therapy is not medically necessary when none of the following criteria are met:",
        /none list that does not list contraindications|not a not-covered list/,
      ],
    ] as [string, RegExp][]) {
      const lib = libraryWith(widget(statement), "XY.MP.12", [
        { codes: ["64999"], section: "I", excludedBy: ["II"] },
      ]);
      const entry = lib.get("XY.MP.12@2026-03");
      const f = lintVersion(lib, entry.policy).find((x) => x.code === "binding-excluded-by");
      assert.match(f?.message ?? "(no finding)", message, statement);
      assert.ok(
        !entry.evaluated.sections.find((x) => x.id === "I")!.tree!.children.some((c) => c.id === "II"),
      );
    }
  });

  it("a section another section refers to cannot take a list (it would apply there unasked)", () => {
    const doc = widget(EXCLUSIONS[1]!).replace(
      "\nII. ",
      "\nII. Widget replacement is medically necessary when all of the following are met:\nA. All criteria in Section I are met;\nB. Device failure.\n\nIII. ",
    );
    const lib = libraryWith(doc, "XY.MP.12", [{ codes: ["64999"], section: "I", excludedBy: ["III"] }]);
    const entry = lib.get("XY.MP.12@2026-03");
    const ii = entry.policy.sections.find((x) => x.id === "II");
    assert.ok(JSON.stringify(ii?.tree).includes('"kind":"ref"'), "II refers to I (an item reference)");
    const f = lintVersion(lib, entry.policy).find((x) => x.code === "binding-excluded-by");
    assert.match(f?.message ?? "(no finding)", /section II refers to its criteria/);
  });
});
