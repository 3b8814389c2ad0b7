/**
 * Hostile shapes (issue 12, item 6): one huge paragraph, thousands of list items, deep nesting, random
 * unicode, long lines, many headings, notes, tables, page headers and redline marks, mixed at random.
 * Ingestion either reads such a document or refuses it with an InputError — never another exception —
 * and its accounting stays sane: every line it names (unplaced text, findings, sections, criteria,
 * notes, cross-references, table rows) is a line of the document, and every line it cut is reported.
 *
 * Nothing here is timed: how fast is the benchmark's question (`npm run bench -- ingest`, which sweeps
 * these shapes from 32 KB to 2 MB).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { type CriterionNode, InputError, type PolicyVersion } from "../model/index.js";
import { type IngestResult, ingest } from "./index.js";
import { MAX_LINE } from "./lines.js";
import { hasRedline } from "./redline.js";

// ---------------------------------------------------------------------------------------------------
// Building blocks: each is drawn from a few small parameters (so that fast-check shrinks them, not
// megabytes of text) and written out by a seeded generator.

class Rand {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  int(n: number): number {
    this.a = (Math.imul(this.a, 1103515245) + 12345) >>> 0;
    return (this.a >>> 8) % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
}

const SYLLABLES = "ba ko ri tun mel sor vaz pel dro quo zen lu fam tor nek gal".split(" ");
const words = (r: Rand, n: number) =>
  Array.from({ length: n }, () => r.pick(SYLLABLES) + r.pick(SYLLABLES)).join(" ");

/** Tokens that make backtracking regexes work hardest when repeated. */
const HOSTILE = [
  " ",
  "*",
  "_",
  "**a ",
  " *a",
  " _a",
  "[a](",
  "$",
  "<b ",
  "&#",
  "\\*",
  "a*",
  "( ",
  " ;",
  "†",
  "[bookmark:",
  "© 2024 x ",
  "the above criteria for x ",
  "policy of x ",
  "adapted for use by x ",
  "Refer to A.1",
  "\u2028",
  "\t",
  "|",
];

const LABELS = [
  (i: number) => `${(i % 999) + 1}.`,
  (i: number) => `${String.fromCharCode(65 + (i % 26))}.`,
  (i: number) => `${String.fromCharCode(97 + (i % 26))})`,
  (i: number) => `(${["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"][i % 10]})`,
  (i: number) => `${["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"][i % 10]}.`,
  () => "-",
  () => "•",
  () => "o",
  () => "\uf0b7",
];

const HEADINGS = [
  "### Description",
  "### Policy/Criteria",
  "### Background",
  "### Coding Implications",
  "### Revision Log",
  "### References",
  "**Coverage Rationale**",
  "#### Appendix A",
  "CLINICAL POLICY",
  "Page 3 of 9",
];

const STATEMENT =
  "It is the policy of health plans affiliated with Centene Corporation® that a pump is medically necessary when all of the following criteria are met:";

type Shape =
  | "paragraph"
  | "items"
  | "nesting"
  | "unicode"
  | "long lines"
  | "headings"
  | "notes"
  | "tables"
  | "page headers"
  | "redline";

interface Block {
  shape: Shape;
  /** How many lines, items or levels. */
  size: number;
  seed: number;
  /** Random unicode text (for the unicode shape). */
  text: string;
}

function render(b: Block): string[] {
  const r = new Rand(b.seed);
  const out: string[] = [];
  switch (b.shape) {
    case "paragraph":
      // One paragraph of `size` lines (no blank line), sometimes inside the criteria.
      if (r.int(2) === 0)
        out.push("I. It is the policy that the first line goes on", "  A. one criterion that");
      for (let i = 0; i < b.size; i++) out.push(words(r, 12));
      break;
    case "items": {
      out.push(`I. ${STATEMENT}`);
      const label = r.pick(LABELS);
      const joiner = r.pick(["; and", "; or", ";", ".", ", OR", ""]);
      for (let i = 0; i < b.size; i++) out.push(`  ${label(i)} ${words(r, 6)}${joiner}`);
      break;
    }
    case "nesting": {
      out.push(`I. ${STATEMENT}`);
      for (let d = 0; d < b.size; d++) {
        const label = LABELS[d % LABELS.length] as (i: number) => string;
        out.push(
          `${"  ".repeat(d + 1)}${label(0)} ${r.pick(["All", "Any", "None", "Either"])} of the following:`,
        );
      }
      out.push(`${"  ".repeat(b.size + 1)}- ${words(r, 4)}`);
      break;
    }
    case "unicode":
      for (const line of b.text.split(/\r\n|\r|\n/)) out.push(line, r.int(3) === 0 ? "" : line);
      break;
    case "long lines": {
      // Lines about MAX_LINE long (some beyond it: the rest must be reported) of one hostile token.
      const tok = r.pick(HOSTILE);
      for (let i = 0; i < 1 + (b.size % 4); i++) {
        const len = MAX_LINE - 200 + r.int(600);
        const run = tok.repeat(Math.ceil(len / tok.length)).slice(0, len - 5);
        out.push([`x${run}x`, `${run}x`, `note${run}x`, `${run}| x |`][r.int(4)] as string, "");
      }
      break;
    }
    case "headings":
      for (let i = 0; i < b.size; i++) out.push(r.pick(HEADINGS), r.int(2) === 0 ? "" : words(r, 5));
      break;
    case "notes":
      out.push(`I. ${STATEMENT}`);
      for (let i = 0; i < b.size; i++) {
        const marker = r.pick(["\\*", "†", "‡", ""]);
        out.push(`  ${String.fromCharCode(65 + (i % 26))}. ${words(r, 5)};${marker}`);
        if (r.int(2) === 0) out.push("", `*${marker}Note:* ${words(r, 8)} on a case-by-case basis.`, "");
      }
      break;
    case "tables":
      out.push(
        r.int(2) === 0
          ? "CPT® Codes\tDescription"
          : "Reviews, Revisions, and Approvals\tRevision Date\tApproval Date",
      );
      for (let i = 0; i < b.size; i++) {
        const k = r.int(4);
        out.push(
          k === 0
            ? `\t${words(r, 6)}\t`
            : k === 1
              ? `${10000 + r.int(89999)}\t${words(r, 6)}`
              : k === 2
                ? `${words(r, 6)}\t${1 + r.int(12)}/${r.int(30)}\t${1 + r.int(12)}/${r.int(30)}`
                : `\t${words(r, 3)}`,
        );
      }
      break;
    case "page headers":
      out.push(`I. ${STATEMENT}`);
      for (let i = 0; i < b.size; i++) {
        out.push(`  ${(i % 99) + 1}. ${words(r, 6)}${r.int(2) === 0 ? "" : " and the"}`);
        if (r.int(4) === 0) out.push("", "CLINICAL POLICY", "Scale Pump", `Page ${i} of ${b.size}`, "");
      }
      break;
    case "redline":
      out.push(`I. ${STATEMENT}`);
      for (let i = 0; i < b.size; i++) {
        const mark = r.pick(["~~", "<del>", "<ins>", "<u>", "</u>", "</del>", "</ins>", "<s>"]);
        out.push(`  ${(i % 99) + 1}. ${words(r, 3)} ${mark}${words(r, 2)}${r.int(2) === 0 ? mark : ""};`);
      }
      break;
  }
  return out;
}

const SHAPES: readonly Shape[] = [
  "paragraph",
  "items",
  "nesting",
  "unicode",
  "long lines",
  "headings",
  "notes",
  "tables",
  "page headers",
  "redline",
];

const block = (maxSize: number): fc.Arbitrary<Block> =>
  fc.record({
    shape: fc.constantFrom(...SHAPES),
    size: fc.integer({ min: 1, max: maxSize }),
    seed: fc.nat(),
    text: fc.string({ unit: "binary", maxLength: 80 }),
  });

/** A document of blocks, with or without a policy header and a criteria heading before them. */
const documentOf = (maxBlocks: number, maxSize: number) =>
  fc
    .record({
      header: fc.boolean(),
      blocks: fc.array(block(maxSize), { minLength: 1, maxLength: maxBlocks }),
      newline: fc.constantFrom("\n", "\r\n", "\r"),
    })
    .map(({ header, blocks, newline }) => {
      const head = header
        ? ["## Clinical Policy: Scale Pump", "", "Reference Number: CP.MP.999", "", "### Policy/Criteria", ""]
        : [];
      return [...head, ...blocks.flatMap((b) => [...render(b), ""])].join(newline);
    });

// ---------------------------------------------------------------------------------------------------
// The checks

function nodeLines(n: CriterionNode, out: number[]): void {
  out.push(n.line);
  if (n.kind === "ref") return;
  if (n.note) out.push(n.note.line);
  if ("children" in n) for (const c of n.children) nodeLines(c, out);
}

/** Every line number the result names. */
function namedLines(r: IngestResult): { what: string; line: number }[] {
  const out: { what: string; line: number }[] = [];
  const add = (what: string, line: number | undefined) => {
    if (line !== undefined) out.push({ what, line });
  };
  for (const u of r.unplaced) add(`unplaced "${u.reason}"`, u.line);
  for (const f of r.findings) add(`finding ${f.code}`, f.line);
  for (const v of r.versions as PolicyVersion[]) {
    for (const u of v.unplaced) add(`unplaced "${u.reason}"`, u.line);
    for (const s of v.sections) {
      add(`section ${s.id}`, s.line);
      const lines: number[] = [];
      if (s.tree) nodeLines(s.tree, lines);
      for (const l of lines) add(`criterion of section ${s.id}`, l);
    }
    for (const x of v.crossReferences) add("cross-reference", x.line);
    for (const t of v.codeTables) {
      add("code table", t.line);
      for (const row of t.rows) add("code row", row.line);
    }
    for (const m of v.codeMarkers) add("code marker", m.line);
    for (const e of v.revisionLog) add("revision", e.line);
  }
  return out;
}

/** Ingests `doc`: a result whose accounting is sane, or an InputError (anything else fails the test). */
function check(doc: string): void {
  let r: IngestResult;
  try {
    r = ingest(doc);
  } catch (e) {
    if (e instanceof InputError) return;
    throw e;
  }
  const lines = doc.split(/\r\n|\r|\n/);
  for (const { what, line } of namedLines(r)) {
    assert.ok(
      Number.isInteger(line) && line >= 1 && line <= lines.length,
      `${what}: line ${line} is not a line of the document (1…${lines.length})`,
    );
  }
  for (const u of r.unplaced) assert.ok(u.reason !== "", `unplaced text at line ${u.line} without a reason`);
  if (!hasRedline(doc)) {
    // A line cut at MAX_LINE is reported (a redline's sides are shorter than the document's lines).
    lines.forEach((l, i) => {
      if (l.length > MAX_LINE)
        assert.ok(
          r.unplaced.some((u) => u.line === i + 1 && /longer than/.test(u.reason)),
          `line ${i + 1} (${l.length} characters) was cut without being reported`,
        );
    });
  }
}

describe("hostile shapes at scale", () => {
  it("one huge paragraph, thousands of items, deep nesting, many notes, long lines: read or refused", () => {
    // Each shape on its own, large.
    for (const shape of SHAPES) {
      const size = shape === "nesting" ? 40 : shape === "long lines" ? 3 : 2000;
      check(
        [
          "### Policy/Criteria",
          "",
          ...render({ shape, size, seed: 7, text: "x\u{1F600}\u0301\uFFFD\u202E" }),
        ].join("\n"),
      );
    }
  });
  it("random mixtures of hostile shapes are read or refused with an InputError", () => {
    fc.assert(
      fc.property(documentOf(5, 200), (doc) => check(doc)),
      { numRuns: 25 },
    );
  });
  it("random unicode around policy structure is read or refused with an InputError", () => {
    const line = fc.oneof(
      fc.string({ unit: "binary", maxLength: 60 }),
      fc.string({ unit: "grapheme", maxLength: 30 }),
      fc.constantFrom(
        `I. ${STATEMENT}`,
        "  A. All of the following:",
        "    1. x;\\*",
        "*\\*Note:* y",
        "",
        "- z",
      ),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 80 }), (ls) => check(ls.join("\n"))),
      { numRuns: 150 },
    );
  });
});
