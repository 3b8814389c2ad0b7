/**
 * Nothing silent (issue 12): every line of a document is in exactly one part (criteria, description,
 * background, coding, history, references, disclaimer, header, other), and every line of the parts the
 * model holds as text — criteria, description, background — is in the model or in the report of what
 * could not be placed: its words are found there. Held on the seeds, the CMS NCD corpus, hand-written
 * layouts and hundreds of generated documents of every format family.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { CriterionNode, PolicyVersion } from "../model/index.js";
import { ingest } from "./index.js";
import { readLines } from "./lines.js";
import { FAMILIES, familyCase } from "./testdata/families.js";

function words(s: string): string[] {
  // "Note:" introduces a note; the model keeps the note's words, not the word "note".
  return (
    (s
      .toLowerCase()
      .normalize("NFKD")
      .match(/[a-z]{4,}/g) ?? []) as string[]
  ).filter((w) => w !== "note");
}

function modelWords(v: PolicyVersion): Set<string> {
  const bag = new Set<string>();
  const add = (s: string | undefined) => {
    if (s) for (const w of words(s)) bag.add(w);
  };
  const visit = (n: CriterionNode) => {
    add(n.text);
    if (n.kind === "ref") return;
    add(n.note?.text);
    if (n.kind !== "leaf") {
      add(n.condition);
      for (const c of n.children) visit(c);
    }
  };
  for (const s of v.sections) {
    add(s.text);
    add(s.heading);
    if (s.tree) visit(s.tree);
  }
  for (const p of v.subPolicies ?? []) add(p.title);
  for (const c of v.crossReferences) add(c.text);
  for (const t of v.codeTables) for (const r of t.rows) add(`${r.code} ${r.description}`);
  for (const m of v.codeMarkers) add(m.text);
  for (const u of v.unplaced) add(u.text);
  add(v.description);
  add(v.background);
  return bag;
}

const TEXT_PARTS = new Set(["criteria", "description", "background"]);

/** Checks one document; returns the problems found (empty when every line is accounted for). */
function account(doc: string | Buffer): string[] {
  return accountResult(typeof doc === "string" ? doc : doc.toString("utf8"), ingest(doc));
}

function accountResult(text: string, r: ReturnType<typeof ingest>): string[] {
  const v = r.versions[r.versions.length - 1] as PolicyVersion;
  const raw = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  const problems: string[] = [];
  const parts = v.parts ?? [];
  let next = 1;
  for (const p of parts) {
    if (p.from !== next) problems.push(`part ${p.name} starts at line ${p.from}, expected ${next}`);
    if (p.to < p.from) problems.push(`part ${p.name} ends before it starts (${p.from}–${p.to})`);
    next = p.to + 1;
  }
  if (next !== raw.length + 1) problems.push(`parts end at line ${next - 1} of ${raw.length}`);
  if (r.versions.length > 1) return problems; // a redline's sides differ from the printed lines
  const bag = modelWords(v);
  const unplaced = new Set(v.unplaced.map((u) => u.line));
  const lines = readLines(raw).lines;
  for (const p of parts) {
    if (!TEXT_PARTS.has(p.name)) continue;
    for (let no = p.from; no <= p.to; no++) {
      const ln = lines[no - 1];
      if (
        !ln ||
        ln.blank ||
        ln.pageHeader ||
        ln.linkOnly ||
        ln.regionHeading ||
        ln.hasTab ||
        unplaced.has(no)
      )
        continue;
      const ws = words(ln.text);
      const missing = ws.filter((w) => !bag.has(w));
      if (ws.length > 0 && missing.length > ws.length * 0.2)
        problems.push(
          `line ${no} (${p.name}) is not in the model: ${ln.text.slice(0, 80)} [missing: ${missing.slice(0, 5).join(" ")}]`,
        );
    }
  }
  return problems;
}

const SEEDS = new URL("./testdata/seeds/", import.meta.url);
const CORPUS = join(process.cwd(), "..", "shared", "corpus", "cms-ncd");

describe("every line is accounted for (issue 12: nothing silent)", () => {
  for (const f of readdirSync(SEEDS).filter((n) => n.endsWith(".txt"))) {
    it(`seed ${f}`, () => assert.deepEqual(account(readFileSync(new URL(f, SEEDS))), []));
  }
  const corpus = existsSync(CORPUS) ? readdirSync(CORPUS).filter((n) => n.endsWith(".txt")) : [];
  for (const f of corpus) {
    it(`CMS NCD ${f}`, () => assert.deepEqual(account(readFileSync(join(CORPUS, f))), []));
  }
  for (const family of FAMILIES) {
    it(`generated ${family} documents`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 0x7fffffff }),
          fc.integer({ min: 1, max: 40 }),
          (seed, size) => {
            const doc = familyCase(family, seed, size).document;
            const problems = account(doc);
            if (problems.length > 0) throw new Error(`${problems.join("\n")}\n--- document ---\n${doc}`);
          },
        ),
        { numRuns: 50, includeErrorInReport: true },
      );
    });
  }
  it("catches a criterion the model lost and parts that do not cover the document", () => {
    const doc =
      "Coverage Policy\n\nX is medically necessary when all of the following:\n• Alpha requirement\n• Bravo requirement\n";
    const r = ingest(doc);
    assert.deepEqual(accountResult(doc, r), []);
    const v = r.versions[0] as PolicyVersion;
    const tree = v.sections[0]?.tree;
    assert.ok(tree);
    tree.children.pop(); // the model loses "Bravo requirement"
    assert.ok(accountResult(doc, r).some((p) => /line 5 .*Bravo/.test(p)));
    v.parts = (v.parts ?? []).slice(0, -1);
    assert.ok(accountResult(doc, r).some((p) => /parts end at line/.test(p)));
  });
});
