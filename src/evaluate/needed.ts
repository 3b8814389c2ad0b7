/**
 * Needed questions (SPEC 2.2 `pended`): exactly the unknown questions whose answer can still change
 * the outcome, each once at its canonical id, most decisive first.
 *
 * The outcome is a one-to-one function of the pair (strict value, relaxed value), so a question is
 * needed exactly when it can change one of the two. The candidates are the unknown questions on a
 * path of undecided nodes from the root. Where that undecided part is read-once (every question and
 * node met once) every candidate is needed: an undecided all / any / none / atLeast gate can be tipped
 * by each undecided input. Where a question or a referenced section occurs twice (CP.MP.173 II refers
 * to I twice and repeats I's contraindications), a candidate can be absorbed — `I ∧ (I ∨ x)` does not
 * need `x` — and the section's decision diagrams over the open questions decide exactly (bdd.ts).
 */
import type { Needed } from "../model/index.js";
import { dependsOn } from "./bdd.js";
import type { CompiledPolicy, CompiledSection, NodeKind } from "./compile.js";
import * as K from "./compile.js";
import { nextEpoch, run } from "./run.js";
import { evaluationStats } from "./stats.js";
import * as Tri3 from "./tri.js";
import { and, atLeast, isDecided, not, or, type Tri } from "./tri.js";

// Module-local copies of imported constants (see run.ts: imported bindings are slower to read).
const { F, U, T } = Tri3;
const { LEAF, ALL, ANY, NONE, AT_LEAST, REF } = K;

/** One of the two evaluations (strict or relaxed) and its candidates. */
interface Mode {
  cp: CompiledPolicy;
  sec: CompiledSection;
  vals: Int8Array;
  logic: Int8Array;
  relaxed: boolean;
  nepoch: number;
  /** Unknown questions on undecided paths, in the order met. */
  found: number[];
  /** A question or a node was met twice: the undecided part is not read-once. */
  entangled: boolean;
}

/** Entries remembered per section before the memo starts over (a bound on memory, whatever the input). */
const MEMO_MAX = 8192;

/**
 * The needed questions of section `sec` as evaluated in `cp.scratch` (see the module comment). They
 * depend only on the values of the section's questions, so they are remembered by those values: a
 * fresh array each time (callers own it), of the frozen entries `cp.neededOf` holds.
 */
export function collectNeeded(cp: CompiledPolicy, sec: CompiledSection): Needed[] {
  const key = valuesKey(cp.scratch.qv, sec.questions);
  const memo = sec.neededMemo;
  const hit = memo.get(key);
  if (hit !== undefined) return hit.slice();
  const out = computeNeeded(cp, sec);
  evaluationStats.neededComputed++;
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(key, out.slice());
  return out;
}

/** The values of questions `qs`, ten three-valued digits to a character (3^10 < 2^16): one key per state. */
function valuesKey(qv: Int8Array, qs: Int32Array): string {
  let key = "";
  let acc = 0;
  let k = 0;
  for (let i = 0; i < qs.length; i++) {
    acc = acc * 3 + qv[qs[i]!]!;
    if (++k === 10) {
      key += String.fromCharCode(acc);
      acc = 0;
      k = 0;
    }
  }
  return k > 0 ? key + String.fromCharCode(acc) : key;
}

function computeNeeded(cp: CompiledPolicy, sec: CompiledSection): Needed[] {
  const { qflag } = cp.scratch;
  const strict = walkMode(cp, sec, false);
  const relaxed = walkMode(cp, sec, true);
  const candidates: number[] = [];
  if (strict !== undefined) for (const q of strict.found) candidates.push(q);
  if (relaxed !== undefined)
    for (const q of relaxed.found) if ((qflag[q]! & CANDIDATE_S) === 0) candidates.push(q);
  const entangled = strict?.entangled === true || relaxed?.entangled === true;
  const kept: number[] = [];
  const score: number[] = [];
  if (!entangled) {
    // Read-once: every candidate is needed, and the walk told which answers decide each value.
    for (const q of candidates) {
      const f = qflag[q]!;
      qflag[q] = 0;
      const sT = strict === undefined || (f & S_BY_T) !== 0;
      const sF = strict === undefined || (f & S_BY_F) !== 0;
      const rT = relaxed === undefined || (f & R_BY_T) !== 0;
      const rF = relaxed === undefined || (f & R_BY_F) !== 0;
      kept.push(q);
      score.push((sT && rT) || (sF && rF) ? 2 : rT || rF ? 1 : 0);
    }
  } else {
    // One trial per candidate, each way: the strict and relaxed values it leads to, which rank the
    // candidates; which of them are needed, the section's decision diagrams say.
    save(cp);
    const { sv, rv, trial } = cp.scratch;
    for (let k = 0; k < candidates.length; k++) {
      const q = candidates[k]!;
      setQuestion(cp, sec, q, T);
      trial[4 * k] = sv[sec.root]!;
      trial[4 * k + 1] = rv[sec.root]!;
      setQuestion(cp, sec, q, F);
      trial[4 * k + 2] = sv[sec.root]!;
      trial[4 * k + 3] = rv[sec.root]!;
      cp.scratch.qv[q] = U;
      restore(cp);
    }
    const depends = new Uint8Array(cp.questions.length);
    dependsOn(cp, sec, depends);
    const s0 = sv[sec.root];
    const r0 = rv[sec.root];
    for (let k = 0; k < candidates.length; k++) {
      const q = candidates[k]!;
      // Needed: a value depends on it under the completions (the diagrams), or answering it alone
      // decides a value three-valued logic leaves open. The two agree unless a question stands both
      // inside and outside a `none` (A ∧ ¬A: every completion fails, yet three-valued logic waits for
      // A) — there the request must still ask what decides it, never pend with nothing to ask.
      const alone =
        (s0 === U && (trial[4 * k] !== U || trial[4 * k + 2] !== U)) ||
        (r0 === U && (trial[4 * k + 1] !== U || trial[4 * k + 3] !== U));
      if (depends[q] === 0 && !alone) continue;
      kept.push(q);
      score.push(Math.max(decisiveness(trial, 4 * k), decisiveness(trial, 4 * k + 2)));
    }
    if (kept.length === 0 && (s0 === U || r0 === U)) {
      // Two contradictions or more (A ∧ ¬A, and B ∧ ¬B beside it): the completions agree, so nothing
      // is needed by them, and no single answer decides — yet three-valued logic waits. Every open
      // question on the undecided paths is asked (in document order): once they are answered the
      // outcome is decided, so a pended request can always be completed.
      for (const q of candidates) {
        kept.push(q);
        score.push(0);
      }
    }
    qflag.fill(0);
  }
  // Most decisive first: one answer makes the outcome final (2), or ends `pended` (1); then
  // document order (question numbers are in document order).
  const n = kept.length;
  const out: Needed[] = new Array(n);
  if (n === 1) {
    out[0] = cp.neededOf[kept[0]!]!;
    return out;
  }
  const order = kept.map((_, k) => k);
  order.sort((a, b) => score[b]! - score[a]! || kept[a]! - kept[b]!);
  for (let k = 0; k < n; k++) {
    out[k] = cp.neededOf[kept[order[k]!]!]!;
  }
  return out;
}

function decisiveness(trial: Int8Array, at: number): number {
  const s = trial[at] as Tri;
  const r = trial[at + 1] as Tri;
  return isDecided(s) && isDecided(r) ? 2 : isDecided(r) ? 1 : 0;
}

/** Saves the node values (before trial answers). */
function save(cp: CompiledPolicy): void {
  const { sv, rv, slv, rlv, saved } = cp.scratch;
  saved[0].set(sv);
  saved[1].set(rv);
  saved[2].set(slv);
  saved[3].set(rlv);
}

/** Restores the node values saved by {@link save} (the answers must be restored by the caller). */
function restore(cp: CompiledPolicy): void {
  const { sv, rv, slv, rlv, saved } = cp.scratch;
  sv.set(saved[0]);
  rv.set(saved[1]);
  slv.set(saved[2]);
  rlv.set(saved[3]);
}

function walkMode(cp: CompiledPolicy, sec: CompiledSection, relaxed: boolean): Mode | undefined {
  const s = cp.scratch;
  const vals = relaxed ? s.rv : s.sv;
  if (vals[sec.root] !== U) return undefined;
  const mode: Mode = {
    cp,
    sec,
    vals,
    logic: relaxed ? s.rlv : s.slv,
    relaxed,
    nepoch: nextEpoch(cp),
    found: [],
    entangled: false,
  };
  walk(mode, sec.root, true, true);
  return mode;
}

/** Bits of `qflag`: candidate of the strict / relaxed evaluation, and which answers decide it. */
const CANDIDATE_S = 1;
const CANDIDATE_R = 2;
const S_BY_T = 4;
const S_BY_F = 8;
const R_BY_T = 16;
const R_BY_F = 32;

/** Adds candidate `q`; `byT` / `byF`: answering it met / not met decides this evaluation. */
function add(mode: Mode, q: number, byT: boolean, byF: boolean): void {
  const { qwalk, qflag } = mode.cp.scratch;
  if (qwalk[q] === mode.nepoch) {
    mode.entangled = true;
    return;
  }
  qwalk[q] = mode.nepoch;
  mode.found.push(q);
  qflag[q] =
    qflag[q]! |
    (mode.relaxed
      ? CANDIDATE_R | (byT ? R_BY_T : 0) | (byF ? R_BY_F : 0)
      : CANDIDATE_S | (byT ? S_BY_T : 0) | (byF ? S_BY_F : 0));
}

/** A node's relaxed value from its inner value and its note: a note that holds makes it met. */
function withNote(positive: boolean, inner: Tri, note: Tri): Tri {
  // Under `none` "met" is "absent": the contraindication statement is and(inner, ¬note).
  return positive ? or(inner, note) : and(inner, not(note));
}

/** Whether a node value decides the root, given whether met / not met does. */
function decides(v: Tri, byT: boolean, byF: boolean): boolean {
  return v === T ? byT : v === F ? byF : false;
}

/**
 * Collects the unknown questions under node `i`, which is undecided in this evaluation. `byT` /
 * `byF`: whether node `i` becoming met / not met would decide the root (exact while read-once);
 * carried down so each question learns whether one answer to it decides the evaluation.
 */
function walk(mode: Mode, i: number, byT: boolean, byF: boolean): void {
  const { nmark } = mode.cp.scratch;
  if (nmark[i] === mode.nepoch) {
    mode.entangled = true;
    return;
  }
  nmark[i] = mode.nepoch;
  walkNode(mode, i, byT, byF);
}

function walkNode(mode: Mode, i: number, byT: boolean, byF: boolean): void {
  const { cp, vals, logic } = mode;
  const { qv } = cp.scratch;
  const nq = cp.note[i]!;
  const c = cp.cond[i]!;
  const lv = logic[i] as Tri;
  const cv: Tri = c >= 0 ? (qv[c] as Tri) : T;
  // The node is note(condition ∧ logic); `inner` is the value after the condition, before the note.
  const inner = and(lv, cv);
  let innerT = byT;
  let innerF = byF;
  if (mode.relaxed && nq >= 0) {
    const nv = qv[nq] as Tri;
    const positive = cp.neg[i] === 0;
    if (nv === U) {
      add(
        mode,
        nq,
        decides(withNote(positive, inner, T), byT, byF),
        decides(withNote(positive, inner, F), byT, byF),
      );
    }
    if (inner !== U) return;
    innerT = decides(withNote(positive, T, nv), byT, byF);
    innerF = decides(withNote(positive, F, nv), byT, byF);
  }
  if (cv === U) add(mode, c, decides(lv, innerT, innerF), innerF);
  if (lv !== U) return;
  const logicT = decides(cv, innerT, innerF);
  const logicF = innerF;
  const k = cp.kind[i] as NodeKind;
  switch (k) {
    case LEAF:
      add(mode, cp.q[i]!, logicT, logicF);
      return;
    case REF: {
      const t = cp.target[i]!;
      if (t >= 0) walk(mode, t, logicT, logicF);
      return;
    }
    case ALL:
    case ANY:
    case NONE:
    case AT_LEAST: {
      // The gate with one unknown child answered: counts of the others decide it.
      let met = 0;
      let unknown = 0;
      for (let c2 = cp.kidStart[i]!; c2 < cp.kidEnd[i]!; c2++) {
        const v = vals[cp.kids[c2]!];
        if (v === T) met++;
        else if (v === U) unknown++;
      }
      const last = unknown === 1;
      let ifT: Tri;
      let ifF: Tri;
      if (k === ALL) {
        ifT = last ? T : U;
        ifF = F;
      } else if (k === ANY) {
        ifT = T;
        ifF = last ? F : U;
      } else if (k === NONE) {
        ifT = F;
        ifF = last ? T : U;
      } else {
        ifT = atLeast(cp.n[i]!, met + 1, unknown - 1);
        ifF = atLeast(cp.n[i]!, met, unknown - 1);
      }
      const childT = decides(ifT, logicT, logicF);
      const childF = decides(ifF, logicT, logicF);
      for (let c2 = cp.kidStart[i]!; c2 < cp.kidEnd[i]!; c2++) {
        const j = cp.kids[c2]!;
        if (vals[j] === U) walk(mode, j, childT, childF);
      }
      return;
    }
    default: {
      const never: never = k;
      throw new Error(`unknown node kind ${never}`);
    }
  }
}

/** Sets question `q` and re-evaluates just the nodes that depend on it. */
function setQuestion(cp: CompiledPolicy, sec: CompiledSection, q: number, v: Tri): void {
  cp.scratch.qv[q] = v;
  const deps = sec.deps[q];
  if (deps !== undefined) run(cp, deps, sec.relaxed);
}
