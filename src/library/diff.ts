import { type CriterionNode, type PolicyVersion, questionKey } from "../model/index.js";

/** A criterion flattened for comparison. */
interface Flat {
  id: string;
  kind: CriterionNode["kind"];
  /** Leaf text, or a group's condition (else its lead-in). */
  text: string;
  key: string;
  n?: number;
  note?: string;
  line: number;
}

function flatten(v: PolicyVersion): Flat[] {
  const out: Flat[] = [];
  const walk = (n: CriterionNode) => {
    if (n.kind === "ref") {
      // A list item that is a reference is compared by its words too ("met" vs "did not meet").
      const own = n.id.endsWith(".ref") ? "" : ` ${n.text}`;
      out.push({
        id: n.id,
        kind: "ref",
        text: `→ ${n.target}${own}`,
        key: `ref ${n.target}${own}`,
        line: n.line,
      });
      return;
    }
    const text = n.kind === "leaf" ? n.text : (n.condition ?? n.text);
    const f: Flat = { id: n.id, kind: n.kind, text, key: questionKey(text), line: n.line };
    if (n.kind === "atLeast") f.n = n.n;
    if (n.note) f.note = questionKey(n.note.text);
    out.push(f);
    if (n.kind !== "leaf") n.children.forEach(walk);
  };
  for (const s of v.sections) if (s.tree) walk(s.tree);
  return out;
}

const tokens = (k: string) => new Set(k.split(" ").filter(Boolean));
/** Token Jaccard similarity of two folded texts. */
export function similarity(a: string, b: string): number {
  const ta = tokens(a);
  const tb = tokens(b);
  let common = 0;
  for (const t of ta) if (tb.has(t)) common++;
  return common / (ta.size + tb.size - common || 1);
}

export interface CriterionChange {
  from?: string;
  to?: string;
  text?: string;
  before?: string;
  after?: string;
  line?: number;
}

export interface PolicyDiff {
  a: string;
  b: string;
  criteria: {
    added: CriterionChange[];
    removed: CriterionChange[];
    renumbered: CriterionChange[];
    reworded: CriterionChange[];
    logic: CriterionChange[];
    notes: CriterionChange[];
  };
  sections: { added: string[]; removed: string[]; changed: CriterionChange[] };
  codes: { added: string[]; removed: string[]; changed: { code: string; before: string; after: string }[] };
  revisionLog: { added: string[]; removed: string[] };
  references: { added: string[]; removed: string[] };
  /** True when no criterion, section or logic changed (only codes, log, references or wording of prose). */
  criteriaUnchanged: boolean;
  summary: string[];
}

const logicOf = (f: Flat) => (f.kind === "atLeast" ? `atLeast(${f.n})` : f.kind);

/**
 * Semantic diff of two versions or variants (SPEC 1.4): criteria added, removed, reworded,
 * renumbered (matched by folded text, not position), logic changed, notes, codes, log, references.
 */
export function diffPolicies(a: PolicyVersion, b: PolicyVersion): PolicyDiff {
  const fa = flatten(a);
  const fb = flatten(b);
  const matchA = new Map<number, number>();
  const usedB = new Set<number>();
  const isGroup = (f: Flat) => f.kind !== "leaf" && f.kind !== "ref";
  // 1. identical folded text (same id first, then document order).
  for (const pass of ["same-id", "any"] as const) {
    fa.forEach((x, i) => {
      if (matchA.has(i)) return;
      const j = fb.findIndex(
        (y, k) =>
          !usedB.has(k) && y.key === x.key && isGroup(x) === isGroup(y) && (pass === "any" || y.id === x.id),
      );
      if (j >= 0) {
        matchA.set(i, j);
        usedB.add(j);
      }
    });
  }
  // 2. reworded: the most similar remaining pair, same id preferred.
  const pairs: { i: number; j: number; s: number }[] = [];
  fa.forEach((x, i) => {
    if (matchA.has(i)) return;
    fb.forEach((y, j) => {
      if (usedB.has(j) || isGroup(x) !== isGroup(y)) return;
      const s = similarity(x.key, y.key) + (x.id === y.id ? 0.15 : 0);
      if (s >= 0.5) pairs.push({ i, j, s });
    });
  });
  pairs.sort((p, q) => q.s - p.s);
  const reworded = new Set<number>();
  for (const p of pairs) {
    if (matchA.has(p.i) || usedB.has(p.j)) continue;
    matchA.set(p.i, p.j);
    usedB.add(p.j);
    reworded.add(p.i);
  }

  const d: PolicyDiff = {
    a: `${a.identity.id}@${a.identity.version}`,
    b: `${b.identity.id}@${b.identity.version}`,
    criteria: { added: [], removed: [], renumbered: [], reworded: [], logic: [], notes: [] },
    sections: { added: [], removed: [], changed: [] },
    codes: { added: [], removed: [], changed: [] },
    revisionLog: { added: [], removed: [] },
    references: { added: [], removed: [] },
    criteriaUnchanged: true,
    summary: [],
  };
  fa.forEach((x, i) => {
    const j = matchA.get(i);
    if (j === undefined) {
      d.criteria.removed.push({ from: x.id, text: x.text, line: x.line });
      return;
    }
    const y = fb[j]!;
    if (x.id !== y.id) d.criteria.renumbered.push({ from: x.id, to: y.id, text: y.text });
    if (reworded.has(i)) d.criteria.reworded.push({ from: x.id, to: y.id, before: x.text, after: y.text });
    if (logicOf(x) !== logicOf(y))
      d.criteria.logic.push({ from: x.id, to: y.id, before: logicOf(x), after: logicOf(y) });
    if ((x.note ?? "") !== (y.note ?? "")) {
      d.criteria.notes.push({ from: x.id, to: y.id, before: x.note ?? "(none)", after: y.note ?? "(none)" });
    }
  });
  fb.forEach((y, j) => {
    if (!usedB.has(j)) d.criteria.added.push({ to: y.id, text: y.text, line: y.line });
  });

  const secA = new Map(a.sections.map((s) => [s.id, s]));
  const secB = new Map(b.sections.map((s) => [s.id, s]));
  for (const [id, s] of secA) {
    const t = secB.get(id);
    if (!t) d.sections.removed.push(id);
    else if (s.kind !== t.kind || questionKey(s.text) !== questionKey(t.text)) {
      d.sections.changed.push({
        from: id,
        to: id,
        before: `${s.kind}: ${s.text}`,
        after: `${t.kind}: ${t.text}`,
      });
    }
  }
  for (const id of secB.keys()) if (!secA.has(id)) d.sections.added.push(id);

  const codeMap = (v: PolicyVersion) => {
    const m = new Map<string, string>();
    for (const t of v.codeTables)
      for (const r of t.rows) m.set(r.code, `${t.coverage}${r.marker ? ` marker ${r.marker}` : ""}`);
    return m;
  };
  const ca = codeMap(a);
  const cb = codeMap(b);
  for (const [code, s] of ca) {
    const t = cb.get(code);
    if (t === undefined) d.codes.removed.push(code);
    else if (t !== s) d.codes.changed.push({ code, before: s, after: t });
  }
  for (const code of cb.keys()) if (!ca.has(code)) d.codes.added.push(code);

  const logKey = (r: PolicyVersion["revisionLog"][number]) => `${r.revision}: ${r.description}`;
  const la = new Set(a.revisionLog.map(logKey));
  const lb = new Set(b.revisionLog.map(logKey));
  d.revisionLog.removed = [...la].filter((k) => !lb.has(k));
  d.revisionLog.added = [...lb].filter((k) => !la.has(k));
  const ra = new Set(a.references.map(questionKey));
  const rb = new Set(b.references.map(questionKey));
  d.references.removed = a.references.filter((r) => !rb.has(questionKey(r)));
  d.references.added = b.references.filter((r) => !ra.has(questionKey(r)));

  const c = d.criteria;
  d.criteriaUnchanged =
    c.added.length +
      c.removed.length +
      c.renumbered.length +
      c.reworded.length +
      c.logic.length +
      c.notes.length ===
      0 && d.sections.added.length + d.sections.removed.length + d.sections.changed.length === 0;
  const s = d.summary;
  for (const x of c.removed) s.push(`removed ${x.from}: ${x.text}`);
  for (const x of c.added) s.push(`added ${x.to}: ${x.text}`);
  for (const x of c.renumbered) s.push(`renumbered ${x.from} → ${x.to}: ${x.text}`);
  for (const x of c.reworded)
    s.push(`reworded ${x.from}${x.to !== x.from ? ` → ${x.to}` : ""}: "${x.before}" → "${x.after}"`);
  for (const x of c.logic) s.push(`logic changed at ${x.to}: ${x.before} → ${x.after}`);
  for (const x of c.notes) s.push(`note changed at ${x.to}`);
  for (const x of d.sections.added) s.push(`section ${x} added`);
  for (const x of d.sections.removed) s.push(`section ${x} removed`);
  for (const x of d.sections.changed) s.push(`section ${x.from} changed: ${x.before} → ${x.after}`);
  if (d.criteriaUnchanged) s.push("no criterion change");
  if (d.codes.added.length) s.push(`codes added: ${d.codes.added.join(", ")}`);
  if (d.codes.removed.length) s.push(`codes removed: ${d.codes.removed.join(", ")}`);
  for (const x of d.codes.changed) s.push(`code ${x.code}: ${x.before} → ${x.after}`);
  if (d.revisionLog.added.length || d.revisionLog.removed.length) {
    s.push(
      `revision log: ${d.revisionLog.added.length} entr(ies) added, ${d.revisionLog.removed.length} removed`,
    );
  }
  if (d.references.added.length || d.references.removed.length) {
    s.push(`references: ${d.references.added.length} added, ${d.references.removed.length} removed`);
  }
  return d;
}
