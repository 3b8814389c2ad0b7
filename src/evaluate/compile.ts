/**
 * Compilation of one policy version into flat arrays (SPEC 2.2, 2.3, 5): criteria become numbered
 * nodes, criteria texts become numbered questions, and each section becomes a post-order program of
 * node numbers. Evaluation then only walks typed arrays — no strings, maps or allocation per node.
 */
import {
  type CriterionNode,
  type Needed,
  type PolicyVersion,
  type PredicateBinding,
  questionKey,
  type Reason,
  type Section,
  type Source,
  type TraceNode,
  type Vocabulary,
} from "../model/index.js";
import { combineBindings, type FactTest, factsOf, usesDates } from "./predicates.js";
import { U } from "./tri.js";

/** Node kinds as small integers, for the evaluator's `switch` (one case per {@link CriterionNode} kind). */
export const LEAF = 0;
export const ALL = 1;
export const ANY = 2;
export const NONE = 3;
export const AT_LEAST = 4;
export const REF = 5;
export type NodeKind = typeof LEAF | typeof ALL | typeof ANY | typeof NONE | typeof AT_LEAST | typeof REF;

/**
 * One question (SPEC 2.2 "One question, several places"): every leaf, group condition and note
 * condition whose folded text is equal within the version. Numbered in document order, so a smaller
 * number is an earlier canonical id.
 */
export interface Question {
  readonly index: number;
  /** Canonical id: the first id in document order (sections in order, depth-first). */
  readonly id: string;
  /** Text at the canonical id. */
  readonly text: string;
  /** Every id that asks this question, in document order. */
  readonly ids: readonly string[];
  /** Fact names its predicates read; empty when no predicate is bound. */
  readonly facts: readonly string[];
}

export interface CompiledSection {
  readonly section: Section;
  /** Node number of the section's root. */
  readonly root: number;
  /** Node numbers reachable from the root (through references too), children before parents. */
  readonly program: Int32Array;
  /** The leaves of `program` and the rest, in program order: leaves are copied in one tight loop. */
  readonly leaves: Int32Array;
  readonly groups: Int32Array;
  /** Whether a `review` note is reachable: otherwise the relaxed evaluation equals the strict one. */
  readonly relaxed: boolean;
  /**
   * Per question, the nodes of `program` whose value depends on it, in program order: re-evaluating
   * just these after changing one answer updates the section (used to rank `needed`).
   */
  readonly deps: readonly (Int32Array | undefined)[];
  /** Every question `program` reads (leaves, conditions, notes), ascending: what its outcome depends on. */
  readonly questions: Int32Array;
  /**
   * `needed` by the values of {@link questions} (needed.ts): a pure function of them, remembered so that
   * the cases that leave the same questions open cost one lookup (issue 13: 23% of `decide` went to it).
   */
  readonly neededMemo: Map<string, readonly Needed[]>;
}

/** An answerable id: its question, its place among the question's ids, the frozen trace source. */
export interface AnswerEntry {
  readonly q: number;
  /** Index of this id in the question's `ids`. */
  readonly k: number;
  readonly source: { readonly kind: "answer"; readonly id: string };
}

/** Reusable per-policy buffers: evaluation is synchronous, so one set per compiled policy suffices. */
export interface Scratch {
  /** Question values (Tri). */
  readonly qv: Int8Array;
  /** Where each question's value came from: 0 none, 1 answer, 2 fact. */
  readonly qsrc: Uint8Array;
  /** The answer that gave each answered question its value. */
  readonly qby: AnswerEntry[];
  /** With a trace: each question's trace variant (status × width + source), see trace.ts. */
  readonly qkey: Int32Array;
  /** Strict and relaxed node values, and each node's value before its condition and note. */
  readonly sv: Int8Array;
  readonly rv: Int8Array;
  readonly slv: Int8Array;
  readonly rlv: Int8Array;
  /** Copies of the four node-value arrays, to restore them after trial answers (`needed`). */
  readonly saved: readonly [Int8Array, Int8Array, Int8Array, Int8Array];
  /** Per candidate question, the strict and relaxed values it leads to when met / not met. */
  readonly trial: Int8Array;
  /** Per question, which evaluations list it as a candidate (bit 1 strict, bit 2 relaxed). */
  readonly qflag: Uint8Array;
  /** Epoch marks for de-duplication without clearing. */
  readonly qmark: Uint32Array;
  readonly qwalk: Uint32Array;
  readonly nmark: Uint32Array;
  epoch: number;
}

/** A policy version compiled for evaluation; build once per version with {@link compile}. */
export interface CompiledPolicy {
  readonly version: PolicyVersion;
  readonly questions: readonly Question[];
  /** Answerable id (leaf, group with a condition, `<id>.note`) → question number. */
  readonly answerIndex: ReadonlyMap<string, number>;
  /** The keys of `answerIndex`, as a set built once (see {@link answerableIds}). */
  readonly answerable: ReadonlySet<string>;
  readonly sections: ReadonlyMap<string, CompiledSection>;
  /** Problems found while compiling (unresolvable or cyclic references); such a node is unknown. */
  readonly issues: readonly string[];

  /** The model node of each node number. */
  readonly nodes: readonly CriterionNode[];
  /** Per node, for the trace without touching model objects of several shapes. */
  readonly info: readonly NodeInfo[];
  readonly kind: Uint8Array;
  /** Leaf: its question; else -1. */
  readonly q: Int32Array;
  /** Group: its condition's question; else -1. */
  readonly cond: Int32Array;
  /** Node with a `review` note: the note condition's question; else -1 (used by the relaxed evaluation). */
  readonly note: Int32Array;
  /** Node with any note: the note condition's question; else -1 (shown in the trace). */
  readonly anyNote: Int32Array;
  /** atLeast: n. */
  readonly n: Int32Array;
  /** 1 when the node is a statement under a `none` (an odd number of them): met there means present. */
  readonly neg: Uint8Array;
  /** ref: node number of the target section's root, -1 when unresolvable. */
  readonly target: Int32Array;
  readonly kidStart: Int32Array;
  readonly kidEnd: Int32Array;
  readonly kids: Int32Array;

  /** Questions with bound predicates, and the compiled predicate of each (parallel arrays). */
  readonly factQuestions: Int32Array;
  readonly factTests: readonly FactTest[];
  readonly usesDates: boolean;
  /** Answerable id → its entry (a prototype-less object: the fastest lookup by string in V8). */
  readonly answerEntries: Readonly<Record<string, AnswerEntry | undefined>>;
  /** Frozen `source` objects shared by every trace (no allocation per node). */
  readonly factSources: readonly (Source | undefined)[];
  /**
   * Remembered immutable trace nodes of questions, per place (3 per node: the leaf, the group's
   * condition, the note), indexed by status and source (see trace.ts); `traceWidth[q]` is the
   * number of sources of question q: none, fact, and each of its ids answered.
   */
  readonly traceCache: (TraceNode | undefined)[][];
  readonly traceWidth: Int32Array;
  /** Per question, the trace variant of "unknown, no source" (see trace.ts). */
  readonly traceUnknown: Int32Array;
  /**
   * Per group whose children are all leaves without notes: remembered immutable trace nodes by the
   * variants of its questions (see trace.ts); `undefined` for other nodes.
   */
  readonly traceFlat: (Map<number, TraceNode> | undefined)[];
  /**
   * The frozen entries of `reasons` and `needed`, made once per policy version and shared by every
   * result (so serialising a determination can reuse their encoding): per question, `needed`; per
   * question and per node, the reason `not-met` (at 2k) and `present` (at 2k + 1).
   */
  readonly neededOf: readonly Needed[];
  readonly reasonOfQuestion: readonly Reason[];
  readonly reasonOfNode: readonly Reason[];

  readonly scratch: Scratch;
}

/** What the trace shows of a node, precomputed (one object shape for every node). */
export interface NodeInfo {
  readonly id: string;
  readonly traceKind: "all" | "any" | "none" | "atLeast" | "leaf" | "ref";
  readonly text: string;
  /** The canonical id of the leaf's question when it is not the leaf's own id. */
  readonly question: string | undefined;
  /** Group condition: text and canonical id when not the group's own. */
  readonly condText: string;
  readonly condQuestion: string | undefined;
  /** Note: id, condition text and canonical id when not the note's own. */
  readonly noteId: string;
  readonly noteText: string;
  readonly noteQuestion: string | undefined;
}

interface QuestionBuild {
  index: number;
  key: string;
  id: string;
  text: string;
  ids: string[];
  bindings: PredicateBinding[];
}

/**
 * Compiles a policy version and the predicates bound to it (SPEC 2.2, 2.3): shared questions by
 * folded text, predicates by folded `match` contained in a question's folded text, references to
 * sections resolved (a reference that closes a cycle, or names no section with criteria, is
 * reported in `issues` and evaluates as unknown). Call once per version; evaluation is then pure.
 */
export function compile(
  version: PolicyVersion,
  predicates: readonly PredicateBinding[] = [],
  vocabulary?: Vocabulary,
): CompiledPolicy {
  const issues: string[] = [];
  const questions: QuestionBuild[] = [];
  const byKey = new Map<string, QuestionBuild>();
  const answerIndex = new Map<string, number>();

  const nodes: CriterionNode[] = [];
  const kindA: number[] = [];
  const qA: number[] = [];
  const condA: number[] = [];
  const noteA: number[] = [];
  const anyNoteA: number[] = [];
  const nA: number[] = [];
  const negA: number[] = [];
  const kidLists: number[][] = [];
  const refNodes: { node: number; section: string; target: string }[] = [];
  const roots = new Map<string, number>();

  function question(text: string, id: string): number {
    const key = questionKey(text);
    // An empty text carries no meaning to share: each such criterion is its own question.
    let qb = key === "" ? undefined : byKey.get(key);
    if (qb === undefined) {
      qb = { index: questions.length, key, id, text, ids: [], bindings: [] };
      questions.push(qb);
      if (key !== "") byKey.set(key, qb);
    }
    qb.ids.push(id);
    const prior = answerIndex.get(id);
    if (prior !== undefined && prior !== qb.index)
      issues.push(`criterion id ${id} is used by two different criteria`);
    else answerIndex.set(id, qb.index);
    return qb.index;
  }

  function visit(node: CriterionNode, neg: boolean, section: string): number {
    const i = nodes.length;
    nodes.push(node);
    kindA.push(LEAF);
    qA.push(-1);
    condA.push(-1);
    noteA.push(-1);
    anyNoteA.push(-1);
    nA.push(0);
    negA.push(neg ? 1 : 0);
    kidLists.push([]);
    switch (node.kind) {
      case "leaf":
        qA[i] = question(node.text, node.id);
        break;
      case "ref":
        kindA[i] = REF;
        refNodes.push({ node: i, section, target: node.target });
        if (neg) issues.push(`reference ${node.id} stands under a "none" group; it is read as a statement`);
        break;
      case "all":
      case "any":
      case "none":
      case "atLeast": {
        kindA[i] =
          node.kind === "all" ? ALL : node.kind === "any" ? ANY : node.kind === "none" ? NONE : AT_LEAST;
        if (node.kind === "atLeast") nA[i] = node.n;
        if (node.condition !== undefined) condA[i] = question(node.condition, node.id);
        const childNeg = node.kind === "none" ? !neg : neg;
        const kids = node.children.map((c) => visit(c, childNeg, section));
        kidLists[i] = kids;
        break;
      }
      default: {
        const never: never = node;
        throw new Error(`unknown criterion kind ${(never as { kind: string }).kind}`);
      }
    }
    // Notes are footnotes: their question comes after the criterion's own subtree in document order.
    if (node.kind !== "ref" && node.note !== undefined) {
      const nq = question(node.note.condition, node.note.id);
      anyNoteA[i] = nq;
      if (node.note.effect === "review") noteA[i] = nq;
    }
    return i;
  }

  for (const s of version.sections) {
    if (s.tree === undefined) continue;
    if (roots.has(s.id)) {
      issues.push(`section ${s.id} appears twice; the first is used`);
      continue;
    }
    roots.set(s.id, visit(s.tree, false, s.id));
  }

  // References between sections: a reference from s to t that t can reach back is a cycle and
  // evaluates as unknown (never silently met); the remaining graph is acyclic.
  const edges = new Map<string, Set<string>>();
  for (const r of refNodes) {
    if (!edges.has(r.section)) edges.set(r.section, new Set());
    edges.get(r.section)!.add(r.target);
  }
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (s === to) return true;
      if (seen.has(s)) continue;
      seen.add(s);
      for (const t of edges.get(s) ?? []) stack.push(t);
    }
    return false;
  };
  const targetA = new Int32Array(nodes.length).fill(-1);
  for (const r of refNodes) {
    const root = roots.get(r.target);
    const id = nodes[r.node]!.id;
    if (root === undefined) issues.push(`reference ${id} names section ${r.target}, which has no criteria`);
    else if (reaches(r.target, r.section)) issues.push(`reference ${id} to section ${r.target} is circular`);
    else targetA[r.node] = root;
  }

  const kidStart = new Int32Array(nodes.length);
  const kidEnd = new Int32Array(nodes.length);
  const flat: number[] = [];
  for (let i = 0; i < nodes.length; i++) {
    kidStart[i] = flat.length;
    for (const k of kidLists[i]!) flat.push(k);
    kidEnd[i] = flat.length;
  }
  const kids = Int32Array.from(flat);

  const sections = new Map<string, CompiledSection>();
  for (const s of version.sections) {
    const root = roots.get(s.id);
    if (root === undefined || sections.has(s.id)) continue;
    const order: number[] = [];
    const seen = new Uint8Array(nodes.length);
    const post = (i: number): void => {
      if (seen[i]) return;
      seen[i] = 1;
      for (let c = kidStart[i]!; c < kidEnd[i]!; c++) post(kids[c]!);
      const t = targetA[i]!;
      if (t >= 0) post(t);
      order.push(i);
    };
    post(root);
    // Which questions each node depends on, children first (the program's order).
    const dependsOn = new Map<number, Set<number>>();
    let relaxed = false;
    for (const i of order) {
      const qs = new Set<number>();
      if (qA[i]! >= 0) qs.add(qA[i]!);
      if (condA[i]! >= 0) qs.add(condA[i]!);
      if (anyNoteA[i]! >= 0) qs.add(anyNoteA[i]!);
      if (noteA[i]! >= 0) relaxed = true;
      for (let c = kidStart[i]!; c < kidEnd[i]!; c++) for (const x of dependsOn.get(kids[c]!)!) qs.add(x);
      const t = targetA[i]!;
      if (t >= 0) for (const x of dependsOn.get(t)!) qs.add(x);
      dependsOn.set(i, qs);
    }
    const deps: (Int32Array | undefined)[] = new Array(questions.length).fill(undefined);
    for (const qb of questions) {
      const list = order.filter((i) => dependsOn.get(i)!.has(qb.index));
      if (list.length > 0) deps[qb.index] = Int32Array.from(list);
    }
    sections.set(s.id, {
      section: s,
      root,
      program: Int32Array.from(order),
      leaves: Int32Array.from(order.filter((i) => kindA[i] === LEAF)),
      groups: Int32Array.from(order.filter((i) => kindA[i] !== LEAF)),
      relaxed,
      deps,
      questions: Int32Array.from([...dependsOn.get(root)!].sort((a, b) => a - b)),
      neededMemo: new Map(),
    });
  }

  // Predicates bind by text (bindings.ts): a question gets every binding whose folded `match` its
  // folded text contains.
  const folded = predicates.map((b) => ({ b, key: questionKey(b.match) }));
  for (const qb of questions) {
    for (const { b, key } of folded) if (key !== "" && qb.key.includes(key)) qb.bindings.push(b);
  }
  const factQ: number[] = [];
  const factTests: FactTest[] = [];
  const factSources: (Source | undefined)[] = [];
  let dates = false;
  const frozenQuestions: Question[] = questions.map((qb) => {
    const facts: string[] = [];
    for (const b of qb.bindings) factsOf(b.when, facts);
    if (qb.bindings.length > 0) {
      factQ.push(qb.index);
      factTests.push(combineBindings(qb.bindings, vocabulary));
      if (qb.bindings.some((b) => usesDates(b.when))) dates = true;
      factSources.push(
        Object.freeze({ kind: "fact" as const, facts: Object.freeze([...facts]) as string[] }),
      );
    } else factSources.push(undefined);
    return Object.freeze({
      index: qb.index,
      id: qb.id,
      text: qb.text,
      ids: Object.freeze([...qb.ids]),
      facts: Object.freeze(facts),
    });
  });

  const other = (q: number, id: string) => (q >= 0 && questions[q]!.id !== id ? questions[q]!.id : undefined);
  const info: NodeInfo[] = nodes.map((node, i) => {
    const group = node.kind !== "leaf" && node.kind !== "ref" ? node : undefined;
    const note = node.kind === "ref" ? undefined : node.note;
    return Object.freeze({
      id: node.id,
      traceKind: node.kind,
      text: node.text,
      question: other(qA[i]!, node.id),
      condText: group?.condition ?? "",
      condQuestion: other(condA[i]!, node.id),
      noteId: note?.id ?? "",
      noteText: note?.condition ?? "",
      noteQuestion: note === undefined ? undefined : other(anyNoteA[i]!, note.id),
    });
  });

  // Groups over leaves only, whose questions' variants fit one small integer key.
  const traceFlat: (Map<number, TraceNode> | undefined)[] = nodes.map((_, i) => {
    if (kindA[i] === LEAF || kindA[i] === REF) return undefined;
    let radix = 1;
    const qs = [condA[i]!, anyNoteA[i]!];
    for (const k of kidLists[i]!) {
      if (kindA[k] !== LEAF || anyNoteA[k]! >= 0) return undefined;
      qs.push(qA[k]!);
    }
    for (const q of qs) if (q >= 0) radix *= 3 * (2 + questions[q]!.ids.length);
    return radix <= 2 ** 31 ? new Map() : undefined;
  });

  const answerEntries: Record<string, AnswerEntry | undefined> = Object.create(null);
  for (const [id, q] of answerIndex) {
    const k = questions[q]!.ids.indexOf(id);
    answerEntries[id] = Object.freeze({ q, k, source: Object.freeze({ kind: "answer" as const, id }) });
  }
  const nobody: AnswerEntry = Object.freeze({
    q: -1,
    k: 0,
    source: Object.freeze({ kind: "answer" as const, id: "" }),
  });
  // Trace cache sizes: 3 statuses × (none, fact, each id) per question; a leaf with a note keys on both.
  const traceWidth = Int32Array.from(questions, (qb) => 2 + qb.ids.length);
  const span = (q: number) => (q < 0 ? 0 : 3 * traceWidth[q]!);
  const traceCache: (TraceNode | undefined)[][] = [];
  for (let i = 0; i < nodes.length; i++) {
    const leaf = span(qA[i]!);
    const note = span(anyNoteA[i]!);
    traceCache.push(new Array(leaf === 0 ? 0 : note === 0 ? leaf : leaf * note).fill(undefined));
    traceCache.push(new Array(span(condA[i]!)).fill(undefined));
    traceCache.push(new Array(note).fill(undefined));
  }

  const nq = questions.length;
  const nn = nodes.length;
  return {
    version,
    questions: frozenQuestions,
    answerIndex,
    answerable: new Set(answerIndex.keys()),
    sections,
    issues,
    nodes,
    info,
    kind: Uint8Array.from(kindA),
    q: Int32Array.from(qA),
    cond: Int32Array.from(condA),
    note: Int32Array.from(noteA),
    anyNote: Int32Array.from(anyNoteA),
    n: Int32Array.from(nA),
    neg: Uint8Array.from(negA),
    target: targetA,
    kidStart,
    kidEnd,
    kids,
    factQuestions: Int32Array.from(factQ),
    factTests,
    usesDates: dates,
    answerEntries,
    factSources,
    traceCache,
    traceWidth,
    traceUnknown: traceWidth.map((w) => U * w),
    traceFlat,
    neededOf: frozenQuestions.map((x) => Object.freeze({ criterion: x.id, text: x.text })),
    reasonOfQuestion: frozenQuestions.flatMap((x) => reasonPair(x.id, x.text)),
    reasonOfNode: nodes.flatMap((x) => reasonPair(x.id, x.text)),
    scratch: {
      qv: new Int8Array(nq),
      qsrc: new Uint8Array(nq),
      qby: new Array<AnswerEntry>(nq).fill(nobody),
      qkey: new Int32Array(nq),
      sv: new Int8Array(nn),
      rv: new Int8Array(nn),
      slv: new Int8Array(nn),
      rlv: new Int8Array(nn),
      saved: [new Int8Array(nn), new Int8Array(nn), new Int8Array(nn), new Int8Array(nn)],
      trial: new Int8Array(4 * nq),
      qflag: new Uint8Array(nq),
      qmark: new Uint32Array(nq),
      qwalk: new Uint32Array(nq),
      nmark: new Uint32Array(nn),
      epoch: 0,
    },
  };
}

/** Every id a case may answer (SPEC 2.1): leaf ids, ids of groups with a condition, `<id>.note`. */
export function answerableIds(cp: CompiledPolicy): ReadonlySet<string> {
  // Built once per policy: callers check every case against it (SPEC 2.1 "unknown ids are rejected").
  return cp.answerable;
}

/** The question an answerable id asks, or `undefined` for an id the policy does not know. */
export function questionOf(cp: CompiledPolicy, id: string): Question | undefined {
  const q = cp.answerIndex.get(id);
  return q === undefined ? undefined : cp.questions[q];
}

function reasonPair(criterion: string, text: string): Reason[] {
  return [
    Object.freeze({ criterion, text, status: "not-met" as const }),
    Object.freeze({ criterion, text, status: "present" as const }),
  ];
}
