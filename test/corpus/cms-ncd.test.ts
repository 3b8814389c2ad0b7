/**
 * Issue 12, first acceptance item: the ten public-domain CMS NCDs of `../shared/corpus/cms-ncd/` each
 * ingest with exit 0 (library and real CLI) into the tree written by hand in
 * `test/corpus/cms-ncd/<stem>.expected.json` (sections, kinds, logic, n, leaf text, conditions, refs,
 * uncertainty). The documents are read whole, provenance header included. The expected files and the
 * id conventions they use are described in `test/corpus/cms-ncd/README.md`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ingest } from "../../src/ingest/index.js";
import type { CriterionNode, Section } from "../../src/model/index.js";
import { ROOT, SHARED } from "../suite/cases.js";

const CORPUS = join(SHARED, "corpus", "cms-ncd");
const EXPECTED = join(ROOT, "test", "corpus", "cms-ncd");

type Kind = "all" | "any" | "none" | "atLeast" | "leaf" | "ref";

interface ExpectedNode {
  id: string;
  kind: Kind;
  n?: number;
  /** First characters of the criterion as printed; "" = not compared (an implied group). */
  text: string;
  condition?: string;
  target?: string;
  uncertain?: boolean;
  why?: string;
  children?: ExpectedNode[];
}

interface ExpectedSection {
  id: string;
  kind: Section["kind"];
  heading?: string;
  uncertain?: boolean;
  why?: string;
  notes?: string[];
  tree?: ExpectedNode;
}

interface ExpectedFile {
  file: string;
  ncd: string;
  noCriteria?: boolean;
  sections: ExpectedSection[];
}

/** Case and whitespace folded: how texts are compared. */
const fold = (s: string): string => s.toLowerCase().replace(/\s+/g, " ").trim();

function loadExpected(): { stem: string; exp: ExpectedFile }[] {
  if (!existsSync(EXPECTED)) return [];
  return readdirSync(EXPECTED)
    .filter((f) => f.endsWith(".expected.json"))
    .sort()
    .map((f) => ({
      stem: f.slice(0, -".expected.json".length),
      exp: JSON.parse(readFileSync(join(EXPECTED, f), "utf8")) as ExpectedFile,
    }));
}

function* walkExpected(n: ExpectedNode): Generator<ExpectedNode> {
  yield n;
  for (const c of n.children ?? []) yield* walkExpected(c);
}

function sectionUncertain(s: ExpectedSection): boolean {
  if (s.uncertain) return true;
  if (!s.tree) return false;
  for (const n of walkExpected(s.tree)) if (n.uncertain) return true;
  return false;
}

/** Sections an ingester must produce exactly: a tree, or a kind other than `other`. */
const significant = (s: { kind: string; tree?: unknown }): boolean =>
  s.kind !== "other" || s.tree !== undefined;

// ---------------------------------------------------------------------------------------------------
// Comparison

const kindOf = (n: { kind: string; n?: number }): string =>
  n.kind === "atLeast" ? `atLeast(${n.n})` : n.kind;
const childrenOf = (n: CriterionNode): CriterionNode[] =>
  n.kind === "leaf" || n.kind === "ref" ? [] : n.children;
const conditionOf = (n: CriterionNode): string | undefined =>
  n.kind === "leaf" || n.kind === "ref" ? undefined : n.condition;

/** The nodes of a tree by id (the first of a repeated id). */
function indexActual(root: CriterionNode): Map<string, { node: CriterionNode; parent: string }> {
  const out = new Map<string, { node: CriterionNode; parent: string }>();
  const walk = (n: CriterionNode, parent: string): void => {
    if (!out.has(n.id)) out.set(n.id, { node: n, parent });
    for (const c of childrenOf(n)) walk(c, n.id);
  };
  walk(root, "");
  return out;
}

interface Ctx {
  problems: string[];
  /** Every id of the expected section tree. */
  expIds: Set<string>;
  /** Every node of the ingested section tree. */
  act: Map<string, { node: CriterionNode; parent: string }>;
}

/**
 * Pairs expected with ingested children: by id; an expected child found elsewhere in the ingested tree
 * is compared there (and reported as moved); else by position with an ingested child whose id the
 * expected tree does not know (a different id for the same criterion).
 */
function pair(
  e: ExpectedNode[],
  a: CriterionNode[],
  ctx: Ctx,
  parent: string,
): [ExpectedNode, CriterionNode | undefined][] {
  const out: [ExpectedNode, CriterionNode | undefined][] = [];
  const used = new Set<number>();
  const byId = new Map(a.map((c, i) => [c.id, i]));
  e.forEach((ec, i) => {
    const j = byId.get(ec.id);
    if (j !== undefined) {
      used.add(j);
      out.push([ec, a[j]!]);
      return;
    }
    const elsewhere = ctx.act.get(ec.id);
    if (elsewhere) {
      ctx.problems.push(`${ec.id}: under ${elsewhere.parent || "(root)"}, expected under ${parent}`);
      out.push([ec, elsewhere.node]);
      return;
    }
    const at = a[i];
    if (at && !used.has(i) && !ctx.expIds.has(at.id)) {
      used.add(i);
      out.push([ec, at]);
      return;
    }
    ctx.problems.push(`${ec.id}: missing (${kindOf(ec)} "${ec.text}")`);
    out.push([ec, undefined]);
  });
  a.forEach((ac, j) => {
    // An ingested child the expected tree places elsewhere is reported there, as moved.
    if (!used.has(j) && !ctx.expIds.has(ac.id))
      ctx.problems.push(`${ac.id}: unexpected ${kindOf(ac)} under ${parent} "${ac.text.slice(0, 60)}"`);
  });
  return out;
}

function compareNode(e: ExpectedNode, a: CriterionNode, root: boolean, ctx: Ctx): void {
  const { problems } = ctx;
  const at = e.id;
  if (a.id !== e.id) problems.push(`${at}: id is ${a.id}`);
  const single = (e.children?.length ?? 0) === 1 && childrenOf(a).length === 1;
  const sameLogic =
    kindOf(a) === kindOf(e) || (single && /^(all|any)$/.test(a.kind) && /^(all|any)$/.test(e.kind));
  if (!sameLogic) problems.push(`${at}: kind ${kindOf(a)}, expected ${kindOf(e)}`);
  if (!root && e.text !== "") {
    // A leaf's text starts with the expected words; a group's lead-in may follow a heading line
    // ("Patient Criteria:") that a reader takes into it.
    const ok =
      e.kind === "leaf" ? fold(a.text).startsWith(fold(e.text)) : fold(a.text).includes(fold(e.text));
    if (!ok) problems.push(`${at}: text "${a.text.slice(0, 70)}", expected "${e.text}…"`);
  }
  const cond = conditionOf(a);
  if (e.condition !== undefined) {
    if (cond === undefined) problems.push(`${at}: no condition, expected "${e.condition}…"`);
    else if (!fold(cond).startsWith(fold(e.condition)))
      problems.push(`${at}: condition "${cond.slice(0, 60)}", expected "${e.condition}…"`);
  } else if (cond !== undefined) problems.push(`${at}: unexpected condition "${cond.slice(0, 60)}"`);
  if (e.kind === "ref" && a.kind === "ref" && a.target !== e.target)
    problems.push(`${at}: ref to ${a.target}, expected ${e.target}`);
  for (const [ec, ac] of pair(e.children ?? [], childrenOf(a), ctx, at)) {
    if (ac) compareNode(ec, ac, false, ctx);
    else compareMissing(ec, ctx);
  }
}

/** Below a missing group, its expected children are still looked for (and compared) wherever they are. */
function compareMissing(e: ExpectedNode, ctx: Ctx): void {
  for (const [ec, ac] of pair(e.children ?? [], [], ctx, e.id)) {
    if (ac) compareNode(ec, ac, false, ctx);
    else compareMissing(ec, ctx);
  }
}

function compareSections(exp: ExpectedFile, actual: Section[]): string[] {
  const problems: string[] = [];
  if (exp.noCriteria) {
    for (const s of actual) {
      if (s.tree) problems.push(`section ${s.id}: has a tree (${kindOf(s.tree)}), expected no criteria`);
      if (s.kind === "medically-necessary")
        problems.push(`section ${s.id}: kind medically-necessary, expected none`);
    }
    return problems;
  }
  const byId = new Map(actual.map((s) => [s.id, s]));
  for (const e of exp.sections) {
    const a = byId.get(e.id);
    if (!significant(e)) {
      if (a && (a.kind !== "other" || a.tree))
        problems.push(
          `section ${e.id}: kind ${a.kind}${a.tree ? " with a tree" : ""}, expected other without a tree`,
        );
      continue;
    }
    if (!a) {
      problems.push(`section ${e.id}: missing (${e.kind})`);
      continue;
    }
    if (a.kind !== e.kind) problems.push(`section ${e.id}: kind ${a.kind}, expected ${e.kind}`);
    const wantUncertain = sectionUncertain(e);
    const isUncertain = (a.uncertain?.length ?? 0) > 0;
    if (wantUncertain && !isUncertain) problems.push(`section ${e.id}: no uncertain reason, expected one`);
    if (!wantUncertain && isUncertain)
      problems.push(
        `section ${e.id}: uncertain (${a.uncertain!.join("; ").slice(0, 100)}), expected certain`,
      );
    if (e.tree && !a.tree) problems.push(`section ${e.id}: no tree`);
    else if (!e.tree && a.tree) problems.push(`section ${e.id}: has a tree, expected none`);
    else if (e.tree && a.tree) {
      const expIds = new Set([...walkExpected(e.tree)].map((n) => n.id));
      compareNode(e.tree, a.tree, true, { problems, expIds, act: indexActual(a.tree) });
    }
  }
  const expIds = new Set(exp.sections.map((s) => s.id));
  for (const a of actual) {
    if (!expIds.has(a.id) && significant(a))
      problems.push(`section ${a.id}: unexpected (${a.kind}${a.tree ? `, tree ${kindOf(a.tree)}` : ""})`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// Readable outlines and their diff

function outlineExpected(exp: ExpectedFile): string[] {
  const lines: string[] = [];
  const node = (n: ExpectedNode, depth: number, root: boolean): void => {
    const text = root || n.text === "" ? "" : ` "${fold(n.text).slice(0, 40)}"`;
    lines.push(
      `${"  ".repeat(depth)}${n.id} ${kindOf(n)}${n.condition !== undefined ? " ?cond" : ""}${text}`,
    );
    for (const c of n.children ?? []) node(c, depth + 1, false);
  };
  for (const s of exp.sections) {
    if (!significant(s)) continue;
    lines.push(`§ ${s.id} ${s.kind}${sectionUncertain(s) ? " (uncertain)" : ""}`);
    if (s.tree) node(s.tree, 1, true);
  }
  return lines;
}

function outlineActual(exp: ExpectedFile, actual: Section[]): string[] {
  // Texts are cut to the length of the expected prefix of the same id, so equal prefixes diff equal.
  const want = new Map<string, ExpectedNode>();
  for (const s of exp.sections) if (s.tree) for (const n of walkExpected(s.tree)) want.set(n.id, n);
  const lines: string[] = [];
  const node = (n: CriterionNode, depth: number, root: boolean): void => {
    const w = want.get(n.id);
    const len = w ? Math.min(fold(w.text).length, 40) : 40;
    const text = root || w?.text === "" ? "" : ` "${fold(n.text).slice(0, len)}"`;
    const cond = conditionOf(n) !== undefined ? " ?cond" : "";
    lines.push(`${"  ".repeat(depth)}${n.id} ${kindOf(n)}${cond}${text}`);
    for (const c of childrenOf(n)) node(c, depth + 1, false);
  };
  for (const s of actual) {
    if (!significant(s)) continue;
    lines.push(`§ ${s.id} ${s.kind}${(s.uncertain?.length ?? 0) > 0 ? " (uncertain)" : ""}`);
    if (s.tree) node(s.tree, 1, true);
  }
  return lines;
}

/** A line diff (longest common subsequence): `-` expected only, `+` actual only. */
function diffLines(a: string[], b: string[]): string {
  const m = a.length;
  const n = b.length;
  const lcs: number[][] = Array.from({ length: m + 1 }, () => new Array<number>(n + 1).fill(0));
  for (let i = m - 1; i >= 0; i--)
    for (let j = n - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < m && j < n) {
    if (a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push(`- ${a[i++]}`);
    else out.push(`+ ${b[j++]}`);
  }
  while (i < m) out.push(`- ${a[i++]}`);
  while (j < n) out.push(`+ ${b[j++]}`);
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------------

const expected = loadExpected();
const skip = !existsSync(CORPUS) && "../shared/corpus/cms-ncd not beside the checkout";

describe("CMS NCD corpus: expected trees are well formed", { skip }, () => {
  it("there is one expected file per document of the corpus", () => {
    const docs = readdirSync(CORPUS)
      .filter((f) => f.endsWith(".txt"))
      .sort();
    assert.deepEqual(
      expected.map((e) => e.exp.file),
      docs,
    );
    for (const { stem, exp } of expected) assert.equal(`${stem}.txt`, exp.file);
  });

  for (const { exp } of expected) {
    it(`${exp.file}: unique ids, texts taken from the document`, () => {
      const doc = fold(readFileSync(join(CORPUS, exp.file), "utf8"));
      const problems: string[] = [];
      const ids = new Set<string>();
      for (const s of exp.sections) {
        if (ids.has(s.id)) problems.push(`section id ${s.id} twice`);
        ids.add(s.id);
        if (!s.tree) continue;
        if (s.tree.id !== s.id) problems.push(`section ${s.id}: root id ${s.tree.id}`);
        if (s.tree.kind === "leaf" || s.tree.kind === "ref")
          problems.push(`section ${s.id}: root is a ${s.tree.kind}`);
        for (const n of walkExpected(s.tree)) {
          if (n !== s.tree && ids.has(n.id)) problems.push(`${n.id} twice`);
          ids.add(n.id);
          if (n.text !== "" && !doc.includes(fold(n.text)))
            problems.push(`${n.id}: text not in the document`);
          if (n.condition && !doc.includes(fold(n.condition)))
            problems.push(`${n.id}: condition not in the document`);
          const leafLike = n.kind === "leaf" || n.kind === "ref";
          if (leafLike === (n.children !== undefined))
            problems.push(`${n.id}: children do not fit kind ${n.kind}`);
          if ((n.kind === "atLeast") !== (n.n !== undefined)) problems.push(`${n.id}: n does not fit kind`);
          if ((n.kind === "ref") !== (n.target !== undefined))
            problems.push(`${n.id}: target does not fit kind`);
        }
      }
      assert.deepEqual(problems, []);
    });
  }
});

/**
 * Documents whose ingested tree matches the hand-checked one: all ten since the issue 12 leftovers. A
 * document added to the corpus is `todo` until the parser reads what its hand-checked tree holds: it
 * still runs and prints its differences, ingests with exit 0 (below), and its uncertain sections
 * decide review meanwhile.
 */
const MATCHING = new Set([
  "150.3_bone_mineral_density_studies.txt",
  "160.18_vagus_nerve_stimulation.txt",
  "160.24_deep_brain_stimulation_et_pd.txt",
  "160.7_electrical_nerve_stimulators.txt",
  "20.29_hyperbaric_oxygen_therapy.txt",
  "20.4_implantable_cardioverter_defibrillators.txt",
  "20.9.1_ventricular_assist_devices.txt",
  "240.4_cpap_obstructive_sleep_apnea.txt",
  "30.3.3_acupuncture_chronic_low_back_pain.txt",
  "80.3.1_verteporfin.txt",
]);

describe("CMS NCD corpus: each document ingests into its expected tree", { skip }, () => {
  for (const { exp } of expected) {
    const todo = MATCHING.has(exp.file)
      ? undefined
      : "the parser's reading still differs from the hand-checked tree (differences printed)";
    it(exp.file, { todo }, () => {
      const path = join(CORPUS, exp.file);
      let sections: Section[];
      try {
        const r = ingest(readFileSync(path), { fileName: exp.file });
        assert.equal(r.versions.length, 1, "one version (no redline in an NCD)");
        sections = r.versions[0]!.sections;
      } catch (err) {
        assert.fail(`${exp.file}: ingest threw: ${err instanceof Error ? err.message : String(err)}`);
      }
      const problems = compareSections(exp, sections);
      if (problems.length > 0) {
        const diff = exp.noCriteria ? "" : diffLines(outlineExpected(exp), outlineActual(exp, sections));
        assert.fail(
          `${exp.file} (NCD ${exp.ncd}): ${problems.length} difference(s)\n` +
            problems.map((p) => `  * ${p}`).join("\n") +
            (diff ? `\n\noutline (- expected, + ingested):\n${diff}` : ""),
        );
      }
    });
  }
});

describe("CMS NCD corpus: the real CLI ingests each document with exit 0", { skip }, () => {
  for (const { exp } of expected) {
    it(exp.file, () => {
      const r = spawnSync(
        process.execPath,
        [join(ROOT, "bin", "medpolicy.js"), "ingest", join(CORPUS, exp.file), "--json"],
        { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      );
      assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr.slice(-400)}`);
      assert.doesNotThrow(() => JSON.parse(r.stdout), "stdout is one JSON document");
    });
  }
});
