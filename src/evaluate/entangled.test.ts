/**
 * Property tests against a brute-force oracle (SPEC 2.2) on random ENTANGLED policies: two sections,
 * section II referring to section I once or twice, and every leaf, group condition and note condition
 * drawn from a small pool of questions (written in variants that fold to one question), so a question
 * is asked in several places and a section is read more than once. The outcome must be what every
 * completion of the unknown answers agrees on, and `needed` exactly the questions whose answer can
 * change the outcome, each once at its first id. The engine decides the outcome node by node in
 * three-valued logic, exact where every question keeps one polarity; the minimal counterexamples at the
 * end are where it is not, and where a reference under a `none` makes the relaxed value less met.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type CriterionNode, type GroupNode, type PolicyVersion, questionKey } from "../model/index.js";
import { gateHolds } from "./fixtures/oracle.js";
import { criteriaSection, testVersion } from "./fixtures/version.js";
import { compile, evaluateSection, type SectionResult } from "./index.js";

/** The question pool: each question in a few spellings that are one question (SPEC 2.2). */
const POOL: readonly (readonly string[])[] = [
  [
    "The patient is 18 years of age or older",
    "patient is 18 years of age or older.",
    "PATIENT IS 18 YEARS OF AGE OR OLDER",
  ],
  ["Chronic intractable pain of malignant origin", "chronic, intractable pain of a malignant origin"],
  ["Active systemic infection", "An active systemic infection;", "active   systemic infection"],
  ["Prior to the trial, opioids have been weaned", "prior to trial opioids have been weaned"],
  ["Psychological evaluation completed", "The psychological evaluation completed."],
  ["Life expectancy is greater than 3 months", "life-expectancy is greater than 3 months"],
];
const NQ = POOL.length;

type GroupKind = "all" | "any" | "none" | "atLeast";
/** A place asking question `q` of the pool, spelled as its variant `v` (mod the number of variants). */
type Ask = { q: number; v: number };
type NoteShape = Ask & { review: boolean };
type Shape =
  | { kind: "leaf"; ask: Ask; note: NoteShape | null }
  | { kind: "ref" }
  | { kind: GroupKind; n: number; cond: Ask | null; note: NoteShape | null; children: Shape[] };

const askArb: fc.Arbitrary<Ask> = fc.record({ q: fc.integer({ min: 0, max: NQ - 1 }), v: fc.nat(5) });
const noteArb: fc.Arbitrary<NoteShape | null> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(null) },
  {
    weight: 1,
    arbitrary: fc.record({
      q: fc.integer({ min: 0, max: NQ - 1 }),
      v: fc.nat(5),
      // Mostly `review` notes; an informational one changes nothing and must never be needed.
      review: fc.oneof(
        { weight: 4, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
    }),
  },
);
const leafArb: fc.Arbitrary<Shape> = fc.record({
  kind: fc.constant("leaf" as const),
  ask: askArb,
  note: noteArb,
});
const refArb: fc.Arbitrary<Shape> = fc.constant({ kind: "ref" as const });

function groupArb(depth: number, refs: boolean): fc.Arbitrary<Shape> {
  const atoms = refs
    ? fc.oneof({ weight: 3, arbitrary: leafArb }, { weight: 1, arbitrary: refArb })
    : leafArb;
  const child =
    depth <= 1
      ? atoms
      : fc.oneof({ weight: 3, arbitrary: atoms }, { weight: 2, arbitrary: groupArb(depth - 1, refs) });
  return fc
    .record({
      kind: fc.constantFrom<GroupKind>("all", "any", "none", "atLeast"),
      n: fc.integer({ min: 1, max: 4 }),
      cond: fc.option(askArb, { freq: 3, nil: null }),
      note: noteArb,
      children: fc.array(child, { minLength: 1, maxLength: 4 }),
    })
    .map((g) => ({ ...g, n: Math.min(g.n, g.children.length) }));
}

function refCount(s: Shape): number {
  if (s.kind === "ref") return 1;
  if (s.kind === "leaf") return 0;
  return s.children.reduce((a, c) => a + refCount(c), 0);
}

function nodeCount(s: Shape): number {
  return s.kind === "leaf" || s.kind === "ref" ? 1 : 1 + s.children.reduce((a, c) => a + nodeCount(c), 0);
}

/** Where each pool question is asked: its ids in document order (SPEC 2.2: canonical = first). */
interface Places {
  ids: string[][];
  /** Answerable id → pool question. */
  qOf: Map<string, number>;
}

const text = (a: Ask) => POOL[a.q]![a.v % POOL[a.q]!.length]!;

/**
 * The model tree of a shape. Ids are positions; places are recorded in the order compile.ts reads the
 * document: a group's condition before its children, a note after the criterion's own subtree.
 */
function toNode(s: Shape, id: string, places: Places): CriterionNode {
  const place = (q: number, at: string) => {
    places.ids[q]!.push(at);
    places.qOf.set(at, q);
  };
  if (s.kind === "ref")
    return { kind: "ref", id, target: "I", text: "the criteria of section I are met", line: 1 };
  let node: CriterionNode;
  if (s.kind === "leaf") {
    place(s.ask.q, id);
    node = { kind: "leaf", id, label: id, text: text(s.ask), line: 1 };
  } else {
    if (s.cond !== null) place(s.cond.q, id);
    const children = s.children.map((c, k) => toNode(c, `${id}.${k + 1}`, places));
    const base = { id, label: id, text: `group ${id}`, line: 1, children };
    node = s.kind === "atLeast" ? { ...base, kind: "atLeast", n: s.n } : { ...base, kind: s.kind };
    if (s.cond !== null) node.condition = text(s.cond);
  }
  if (s.note !== null) {
    place(s.note.q, `${id}.note`);
    node.note = {
      id: `${id}.note`,
      marker: "*",
      text: `note on ${id}`,
      condition: text(s.note),
      effect: s.note.review ? "review" : "informational",
      line: 1,
    };
  }
  return node;
}

function policyOf(one: GroupNode, two: GroupNode): PolicyVersion {
  return testVersion([criteriaSection("I", one), criteriaSection("II", two)]);
}

// --- The oracle: plain two-valued evaluation of complete answers (by pool question), from SPEC 2.2.

type Outcome = SectionResult["outcome"];
/** A complete assignment: pool question → holds. */
type Assignment = readonly boolean[];

/**
 * Value of the node's statement (under a `none`, true = present). `neg`: an odd number of `none`s
 * above it within its own section — as compile.ts numbers it: a referenced section's nodes are read
 * in their own section's frame (run.ts applies the compiled `neg` per node).
 */
function value(s: Shape, one: Shape, a: Assignment, relaxed: boolean, neg: boolean): boolean {
  let v: boolean;
  if (s.kind === "ref") return value(one, one, a, relaxed, false);
  if (s.kind === "leaf") v = a[s.ask.q]!;
  else {
    const kids = s.children.map((c) => value(c, one, a, relaxed, s.kind === "none" ? !neg : neg));
    const logic = gateHolds(s.kind, kids.filter(Boolean).length, kids.length, s.n);
    v = (s.cond !== null ? a[s.cond.q]! : true) && logic;
  }
  // Relaxed: a criterion whose `review` note holds counts as met (for a contraindication: absent).
  if (relaxed && s.note?.review && a[s.note.q]) v = !neg;
  return v;
}

function outcomeOf(root: Shape, one: Shape, a: Assignment): Outcome {
  if (value(root, one, a, false, false)) return "approved";
  return value(root, one, a, true, false) ? "review" : "denied";
}

function* completions(unknown: number[], fixed: (boolean | undefined)[]): Generator<boolean[]> {
  const n = unknown.length;
  for (let m = 0; m < 1 << n; m++) {
    const a = fixed.map((x) => x ?? false);
    for (let k = 0; k < n; k++) a[unknown[k]!] = ((m >> k) & 1) === 1;
    yield a;
  }
}

function expectedOutcome(
  root: Shape,
  one: Shape,
  unknown: number[],
  known: (boolean | undefined)[],
): Outcome {
  const seen = new Set<Outcome>();
  for (const a of completions(unknown, known)) seen.add(outcomeOf(root, one, a));
  if (seen.size === 1) return [...seen][0]!;
  // As property.test.ts: pended while some completion is denied and another is not; otherwise only
  // "approved or review" remain, and a reviewer can waive what is open: review.
  return seen.has("denied") ? "pended" : "review";
}

function relevant(root: Shape, one: Shape, unknown: number[], known: (boolean | undefined)[], q: number) {
  const others = unknown.filter((u) => u !== q);
  for (const a of completions(others, known)) {
    const t = [...a];
    t[q] = true;
    const f = [...a];
    f[q] = false;
    if (outcomeOf(root, one, t) !== outcomeOf(root, one, f)) return true;
  }
  return false;
}

/**
 * Whether every question keeps one polarity in the strict value and one in the relaxed value of a
 * section (read through its references): there three-valued evaluation node by node is exact.
 * `g`: the statement's polarity in the root's value; `neg`: its compiled `neg` (own section's frame).
 */
function unate(root: Shape, one: Shape): boolean {
  const strict = new Map<number, boolean>();
  const relaxed = new Map<number, boolean>();
  let ok = true;
  const see = (q: number, sign: boolean, withStrict: boolean) => {
    for (const m of withStrict ? [strict, relaxed] : [relaxed]) {
      if (m.has(q) && m.get(q) !== sign) ok = false;
      m.set(q, sign);
    }
  };
  const walk = (s: Shape, g: boolean, neg: boolean) => {
    if (s.kind === "ref") return walk(one, g, false);
    if (s.kind === "leaf") see(s.ask.q, g, true);
    else {
      if (s.cond !== null) see(s.cond.q, g, true);
      for (const c of s.children) walk(c, s.kind === "none" ? !g : g, s.kind === "none" ? !neg : neg);
    }
    // Relaxed: statement ∨ note, or under a `none` statement ∧ ¬note.
    if (s.note?.review) see(s.note.q, neg ? !g : g, false);
  };
  walk(root, true, false);
  return ok;
}

/** Whether a reference stands under a `none` (compile.ts reports it; the referenced notes keep their frame). */
function refUnderNone(s: Shape, under = false): boolean {
  if (s.kind === "ref") return under;
  if (s.kind === "leaf") return false;
  return s.children.some((c) => refUnderNone(c, under || s.kind === "none"));
}

// --- Scenarios.

const scenario = fc
  .tuple(
    groupArb(3, false),
    groupArb(3, true).filter((s) => {
      const r = refCount(s);
      return r >= 1 && r <= 2;
    }),
  )
  .filter(([one, two]) => nodeCount(one) + nodeCount(two) <= 40)
  .chain(([one, two]) => {
    const places: Places = { ids: POOL.map(() => []), qOf: new Map() };
    const t1 = toNode(one, "I", places) as GroupNode;
    const t2 = toNode(two, "II", places) as GroupNode;
    const asked = POOL.map((_, q) => q).filter((q) => places.ids[q]!.length > 0);
    return fc
      .tuple(
        fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), {
          minLength: NQ,
          maxLength: NQ,
        }),
        fc.array(fc.nat(), { minLength: NQ, maxLength: NQ }),
      )
      .map(([vals, which]) => {
        // Each asked question true / false / unknown, answered at a random one of its ids.
        const answers: Record<string, boolean> = {};
        const known: (boolean | undefined)[] = POOL.map(() => undefined);
        for (const q of asked) {
          const v = vals[q];
          if (v === undefined) continue;
          const ids = places.ids[q]!;
          answers[ids[which[q]! % ids.length]!] = v;
          known[q] = v;
        }
        const unknown = asked.filter((q) => known[q] === undefined);
        return { one, two, policy: policyOf(t1, t2), places, answers, known, unknown };
      });
  });

const input = (answers: Record<string, boolean>) => ({ answers, facts: {}, dateOfService: "2026-03-01" });

interface Scenario {
  one: Shape;
  two: Shape;
  policy: PolicyVersion;
  places: Places;
  answers: Record<string, boolean>;
  known: (boolean | undefined)[];
  unknown: number[];
}

/** The sections to check of a scenario: both (section I is entangled by the shared questions alone). */
const sectionsOf = (sc: Scenario) =>
  [
    ["I", sc.one],
    ["II", sc.two],
  ] as const;

function checkOutcome(sc: Scenario, sid: string, root: Shape): void {
  const r = evaluateSection(compile(sc.policy), sid, input(sc.answers));
  assert.equal(r.outcome, expectedOutcome(root, sc.one, sc.unknown, sc.known), `section ${sid} outcome`);
}

function checkNeeded(sc: Scenario, sid: string, root: Shape): void {
  const r = evaluateSection(compile(sc.policy), sid, input(sc.answers));
  const got = r.needed.map((n) => n.criterion);
  assert.equal(new Set(got).size, got.length, "each once");
  const gotQ = got.map((id) => {
    const q = sc.places.qOf.get(id);
    assert.ok(q !== undefined, `${id} is an answerable id`);
    assert.equal(id, sc.places.ids[q]![0], `${id} is its question's first id`);
    return q;
  });
  const want = sc.unknown.filter((q) => relevant(root, sc.one, sc.unknown, sc.known, q));
  assert.deepEqual(
    [...gotQ].sort(),
    [...want].sort(),
    `section ${sid}: needed [${got}], want [${want.map((q) => sc.places.ids[q]![0])}]`,
  );
  if (r.outcome === "approved" || r.outcome === "denied") assert.deepEqual(got, []);
}

/** A fixed scenario: answers by pool question (each at its first id). */
function fixed(one: Shape, two: Shape, byQ: Record<number, boolean>): Scenario {
  const places: Places = { ids: POOL.map(() => []), qOf: new Map() };
  const policy = policyOf(toNode(one, "I", places) as GroupNode, toNode(two, "II", places) as GroupNode);
  const known: (boolean | undefined)[] = POOL.map((_, q) => byQ[q]);
  const answers: Record<string, boolean> = {};
  for (const [q, v] of Object.entries(byQ)) answers[places.ids[Number(q)]![0]!] = v;
  const unknown = POOL.map((_, q) => q).filter((q) => places.ids[q]!.length > 0 && known[q] === undefined);
  return { one, two, policy, places, answers, known, unknown };
}

const leaf = (q: number, note?: number): Shape => ({
  kind: "leaf",
  ask: { q, v: 0 },
  note: note === undefined ? null : { q: note, v: 0, review: true },
});
const group = (kind: GroupKind, children: Shape[], opts: { cond?: number; note?: number } = {}): Shape => ({
  kind,
  n: 1,
  cond: opts.cond === undefined ? null : { q: opts.cond, v: 0 },
  note: opts.note === undefined ? null : { q: opts.note, v: 0, review: true },
  children,
});
const REF: Shape = { kind: "ref" };

/** A pended section asks something, and never leaves out a question the completions depend on. */
function checkAsks(sc: Scenario, sid: string, root: Shape): void {
  const r = evaluateSection(compile(sc.policy), sid, input(sc.answers));
  const gotQ = new Set(r.needed.map((n) => sc.places.qOf.get(n.criterion)!));
  for (const q of sc.unknown)
    if (relevant(root, sc.one, sc.unknown, sc.known, q))
      assert.ok(
        gotQ.has(q),
        `section ${sid}: ${sc.places.ids[q]![0]} can change the outcome but is not needed`,
      );
  if (r.outcome === "pended") assert.ok(r.needed.length > 0, `section ${sid}: pended with nothing to ask`);
}

describe("against a brute-force oracle on random entangled policies (shared questions, references)", () => {
  test("the pool's spellings fold to one question each, and different questions stay apart", () => {
    const keys = POOL.map((variants) => new Set(variants.map(questionKey)));
    for (const k of keys) assert.equal(k.size, 1);
    assert.equal(new Set(keys.map((k) => [...k][0])).size, NQ);
  });

  // Where every question keeps one polarity (none is asked both inside and outside a `none`) and no
  // reference stands under a `none` (compile.ts reports one), three-valued logic is exact: the outcome
  // and `needed` are what the completions say.
  test("the outcome, where every question keeps one polarity and no reference stands under a none", () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        fc.pre(sc.unknown.length <= 10);
        for (const [sid, root] of sectionsOf(sc))
          if (unate(root, sc.one) && !refUnderNone(root)) checkOutcome(sc, sid, root);
      }),
      { numRuns: 1000 },
    );
  });

  test("needed, exactly, there too", () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        fc.pre(sc.unknown.length <= 10);
        for (const [sid, root] of sectionsOf(sc))
          if (unate(root, sc.one) && !refUnderNone(root)) checkNeeded(sc, sid, root);
      }),
      { numRuns: 1000 },
    );
  });

  // A question asked both inside and outside a `none` (A ∧ ¬A) is a contradiction three-valued logic
  // (SPEC 2.2) does not see through: the outcome waits for A. `needed` then also lists what decides
  // it three-valued, so a pended request always asks something, and it never misses a question the
  // completions depend on.
  test("with questions of both polarities: pended always asks, and nothing the outcome depends on is missed", () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        fc.pre(sc.unknown.length <= 10);
        for (const [sid, root] of sectionsOf(sc)) if (!refUnderNone(root)) checkAsks(sc, sid, root);
      }),
      { numRuns: 1000 },
    );
  });

  const todo = "three-valued logic is not exact here (see the counterexamples below and the notes)";
  test("the outcome is what every completion agrees on, everywhere", { todo }, () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        fc.pre(sc.unknown.length <= 10);
        for (const [sid, root] of sectionsOf(sc)) checkOutcome(sc, sid, root);
      }),
      { numRuns: 400 },
    );
  });

  test("needed is exactly what the completions depend on, everywhere", { todo }, () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        fc.pre(sc.unknown.length <= 10);
        for (const [sid, root] of sectionsOf(sc)) checkNeeded(sc, sid, root);
      }),
      { numRuns: 400 },
    );
  });
});

describe("minimal counterexamples of exactness (pool questions 0 and 1, called A and P)", () => {
  const A = 0;
  const P = 1;
  const one = group("all", [leaf(2)]);

  test("A and not A, A unknown: pended, asking A; answered, denied with its reason", () => {
    // II = all(A, none(A)): every completion is denied, but no criterion has failed yet that a denial
    // could cite; three-valued logic pends and asks A (the completions' "denied" is a todo below).
    const sc = fixed(one, group("all", [leaf(A), group("none", [leaf(A)]), REF]), { 2: true });
    const cp = compile(sc.policy);
    const r = evaluateSection(cp, "II", input(sc.answers));
    assert.equal(r.outcome, "pended");
    assert.deepEqual(
      r.needed.map((n) => n.criterion),
      [sc.places.ids[A]![0]],
    );
    for (const v of [true, false]) {
      const d = evaluateSection(cp, "II", input({ ...sc.answers, [sc.places.ids[A]![0]!]: v }));
      assert.equal(d.outcome, "denied");
      assert.ok(d.reasons.length > 0);
    }
  });

  test("two contradictions side by side, both unknown: pended asking both (no single answer decides)", () => {
    // I = none(all(A, none(A)), all(B, none(B))): every completion is met, yet three-valued logic
    // waits for A and B, and answering either alone leaves the other open (CI seed -489659040 found
    // it pended with nothing to ask). Answering both decides.
    const B = 2;
    const sc = fixed(
      group("none", [
        group("all", [leaf(A), group("none", [leaf(A)])]),
        group("all", [leaf(B), group("none", [leaf(B)])]),
      ]),
      group("all", [REF]),
      {},
    );
    const cp = compile(sc.policy);
    const r = evaluateSection(cp, "I", input(sc.answers));
    assert.equal(r.outcome, "pended");
    assert.deepEqual(
      r.needed.map((n) => sc.places.qOf.get(n.criterion)),
      [A, B],
    );
    checkAsks(sc, "I", sc.one);
    for (const a of [true, false])
      for (const b of [true, false]) {
        const both = { [sc.places.ids[A]![0]!]: a, [sc.places.ids[B]![0]!]: b };
        const d = evaluateSection(cp, "I", input(both));
        assert.notEqual(d.outcome, "pended", `A ${a}, B ${b}`);
      }
  });

  const todo = "three-valued logic (SPEC 2.2) is not exact here";
  test("A and not A: every completion is denied", { todo }, () => {
    const sc = fixed(one, group("all", [leaf(A), group("none", [leaf(A)]), REF]), { 2: true });
    checkOutcome(sc, "II", sc.two);
  });

  test("a contraindication whose own note asks it, A unknown: every completion is review or approved", {
    todo,
  }, () => {
    // I = none(A) with a review note asking A: strict = not A, relaxed = not A or A = true.
    const sc = fixed(group("none", [leaf(A)], { note: A }), group("all", [REF]), {});
    checkOutcome(sc, "I", sc.one);
  });

  const refTodo =
    "a reference under a none (compile.ts reports it): a note in the referenced section can make the relaxed value lower than the strict";
  test("a reference under a none whose section's note holds: denied, though answering A false approves", {
    todo: refTodo,
  }, () => {
    // I = all(A) with a review note asking P; II = none(ref I, A); P true, A unknown. Relaxed, I is
    // met, so none(I, A) is not; strict, II = not A.
    const sc = fixed(group("all", [leaf(A)], { note: P }), group("none", [REF, leaf(A)]), { [P]: true });
    checkOutcome(sc, "II", sc.two);
  });

  test("a reference under a none: a question only the relaxed value depends on, strict already met", {
    todo: refTodo,
  }, () => {
    // I = all(all(X, A) with a review note asking A); II = all(any if A: none(ref I), X); A true.
    // Strict II = not X or X = met in every completion, so X cannot change the outcome.
    const X = 2;
    const sc = fixed(
      group("all", [group("all", [leaf(X), leaf(A)], { note: A })]),
      group("all", [group("any", [group("none", [REF]), group("all", [leaf(X)])], { cond: A })]),
      { [A]: true },
    );
    checkNeeded(sc, "II", sc.two);
  });
});
