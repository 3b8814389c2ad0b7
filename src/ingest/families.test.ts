/**
 * Generality by construction (issue 12): random policy trees — up to four levels of items, all / any /
 * none / atLeast groups, exclusion lists, notes, titled sub-policies that restart their numbering —
 * rendered in each format family (Centene; CMS lettered with bullets; commercial unlabeled with
 * trailing connectors; glyph bullets with page footers cut into lists) ingest back to the same tree:
 * section ids and kinds, group logic, atLeast n, leaf texts, notes, sub-policies.
 *
 * fast-check drives a seed (one document) and a size (how many criteria it may hold), so a failure
 * shrinks toward a small document. A failure prints the family, seed, size and the document.
 * Generator and expected trees: ./testdata/families.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ingest } from "./index.js";
import {
  type Expected,
  type ExpNode,
  FAMILIES,
  type Family,
  familyCase,
  projectVersion,
} from "./testdata/families.js";

/** Per family: four families × 100 = 400 documents per run. */
const RUNS = 100;
const MAX_SIZE = 60;

/** One line per section and criterion, so that a failure shows the criteria that differ. */
function lines(e: Expected): string[] {
  const out = e.subPolicies.map((s) => `${s.id} sub-policy "${s.title}"`);
  const visit = (n: ExpNode) => {
    const note = n.note ? ` [note ${n.note.marker} ${n.note.effect}]` : "";
    out.push(
      `${n.id} ${n.kind}${n.n !== undefined ? ` ${n.n}` : ""}${n.text !== undefined ? ` "${n.text}"` : ""}${note}`,
    );
    for (const c of n.children ?? []) visit(c);
  };
  for (const s of e.sections) {
    out.push(`${s.id} section ${s.kind}`);
    if (s.tree) visit(s.tree);
  }
  return out;
}

/** Form feeds and private-use glyphs print as nothing on a terminal: named instead. */
function visible(doc: string): string {
  return doc
    .replaceAll("\f", "<FF>")
    .replace(/[\uE000-\uF8FF]/g, (ch) => `<U+${ch.codePointAt(0)?.toString(16).toUpperCase()}>`);
}

function run(family: Family, seed: number, size: number): void {
  const c = familyCase(family, seed, size);
  try {
    const res = ingest(c.document);
    assert.equal(res.versions.length, 1, "one version");
    const got = projectVersion(res.versions[0]!);
    assert.deepEqual(lines(got), lines(c.expected));
    assert.deepEqual(got, c.expected);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(
      `${message}\n--- ${family} document (seed ${seed}, size ${size}; the exact text is familyCase("${family}", ${seed}, ${size}).document; form feeds and private-use glyphs shown as <FF>, <U+F0B7>) ---\n${visible(c.document)}\n--- end of document ---`,
      { cause: e },
    );
  }
}

describe("generality: random policy trees in every format family read back to the same tree", () => {
  for (const family of FAMILIES) {
    it(family, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 0x7fffffff }),
          fc.integer({ min: 1, max: MAX_SIZE }),
          (seed, size) => run(family, seed, size),
        ),
        { numRuns: RUNS, includeErrorInReport: true },
      );
    });
  }
});

/** What each family's documents must exercise over a run's worth of seeds (the generator's coverage). */
const MUST: Record<Family, string[]> = {
  centene: [
    "sub-policies",
    "notes",
    "depth-4",
    "logic-none",
    "logic-atLeast",
    "section-excluded",
    "section-unproven",
    "page-header",
    "wrapped",
  ],
  cms: [
    "depth-3",
    "bullets-1",
    "bullets-2",
    "connector-or",
    "connector-and",
    "logic-none",
    "logic-atLeast",
    "section-excluded",
    "section-unproven",
    "exclusions-upper",
    "exclusions-bullet",
    "blank-between-items",
  ],
  commercial: [
    "depth-4",
    "bullets",
    "indent-only",
    "wrapped",
    "connector; or",
    "connector, OR",
    "connector; or,",
    "connector-before-last-only",
    "logic-none",
    "logic-atLeast",
    "section-excluded",
    "section-unproven",
    "toc",
    "unmarked-note",
  ],
  glyph: [
    "depth-4",
    "private-use-glyphs",
    "flat-glyphs",
    "tab-after-glyph",
    "break-in-list",
    "break-in-item",
    "footer-cigna",
    "footer-uhc",
    "footer-short",
    "logic-none",
    "logic-atLeast",
    "section-excluded",
    "section-unproven",
  ],
};

describe("the family generator", () => {
  it("makes the same document from the same seed, and its documents exercise every shape the family prints", () => {
    for (const family of FAMILIES) {
      assert.equal(familyCase(family, 12345, 40).document, familyCase(family, 12345, 40).document);
      const seen = new Set<string>();
      for (let seed = 0; seed < RUNS * 2; seed++)
        for (const f of familyCase(family, seed, 1 + (seed % MAX_SIZE)).features) seen.add(f);
      assert.deepEqual(
        MUST[family].filter((f) => !seen.has(f)),
        [],
        `${family}: shapes never generated`,
      );
    }
  });
});
