/**
 * Needed questions (SPEC 2.2 `pended`): exactly the unknown questions whose answer can still change
 * the outcome, each once at its canonical id, most decisive first.
 *
 * The outcome is a one-to-one function of the pair (strict value, relaxed value), so a question is
 * needed exactly when it can change one of the two. For each, the candidates are the unknown
 * questions on a path of undecided nodes from the root. Where that undecided part is read-once
 * (every question and node met once) the candidates are exact: an undecided all / any / none /
 * atLeast gate can be tipped by each undecided input. Where a question or a referenced section
 * occurs twice (CP.MP.173 II refers to I twice and repeats I's contraindications), a candidate can
 * be absorbed — `I ∧ (I ∨ x)` does not need `x` — so each candidate is confirmed by a witness:
 * answers to the other candidates under which it alone flips the value. The witness is built
 * directly (sensitising a path to the question); where none is, the section's decision diagrams over
 * the open questions decide exactly (bdd.ts) — costlier, so only then.
 */
import type { Needed } from "../model/index.js";
import { dependsOn } from "./bdd.js";
import type { CompiledPolicy, CompiledSection, NodeKind } from "./compile.js";
import * as K from "./compile.js";
import { nextEpoch, run, runOne, runSection } from "./run.js";
import * as Tri3 from "./tri.js";
import { and, atLeast, isDecided, not, or, type Tri } from "./tri.js";

// Module-local copies of imported constants (see run.ts: imported bindings are slower to read).
const F = Tri3.F;
const U = Tri3.U;
const T = Tri3.T;
const LEAF = K.LEAF;
const ALL = K.ALL;
const ANY = K.ANY;
const NONE = K.NONE;
const AT_LEAST = K.AT_LEAST;
const REF = K.REF;

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
  /** The questions and nodes met twice. */
  sharedQ: number[];
  sharedNodes: number[];
  /** What entangles it: the questions met twice and those under nodes met twice (see {@link split}). */
  splitSet: number[];
}

/** The exact answer for the candidates no witness was built for: the questions each value depends on. */
interface Exact {
  cp: CompiledPolicy;
  sec: CompiledSection;
  /** Per question: bit 1, the strict value depends on it; bit 2, the relaxed value. */
  marks?: Uint8Array;
}

function diagrams(exact: Exact): Uint8Array {
  const marks = new Uint8Array(exact.cp.questions.length);
  dependsOn(exact.cp, exact.sec, marks);
  return marks;
}

export function collectNeeded(cp: CompiledPolicy, sec: CompiledSection): Needed[] {
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
    // One trial per candidate, each way: the strict and relaxed values it leads to. They rank the
    // candidates and, where both ways decide a value differently, prove the candidate needed.
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
    // Where no witness is built directly, the section's decision diagrams answer exactly (bdd.ts);
    // built at most once per call, and only when needed.
    const exact: Exact = { cp, sec };
    const splitS = strict?.entangled === true ? split(strict) : undefined;
    const splitR = relaxed?.entangled === true ? split(relaxed) : undefined;
    for (let k = 0; k < candidates.length; k++) {
      const q = candidates[k]!;
      const f = qflag[q]!;
      qflag[q] = 0;
      const need =
        ((f & CANDIDATE_S) !== 0 &&
          needs(
            strict!,
            q,
            trial[4 * k] as Tri,
            trial[4 * k + 2] as Tri,
            splitS,
            (f & REACH_S) !== 0,
            exact,
          )) ||
        ((f & CANDIDATE_R) !== 0 &&
          needs(
            relaxed!,
            q,
            trial[4 * k + 1] as Tri,
            trial[4 * k + 3] as Tri,
            splitR,
            (f & REACH_R) !== 0,
            exact,
          ));
      if (!need) continue;
      kept.push(q);
      score.push(Math.max(decisiveness(trial, 4 * k), decisiveness(trial, 4 * k + 2)));
    }
    // The split marks only candidates; clear all flags anyway, so no mark can outlive this call.
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

/**
 * Whether candidate `q` can change this evaluation's value, given the values `a` / `b` it leads to
 * when met / not met. Exact without more work unless the undecided part is entangled; then, for a
 * question outside the split set, whether it was reached under some answers to that set.
 */
function needs(
  mode: Mode,
  q: number,
  a: Tri,
  b: Tri,
  splitSet: readonly number[] | undefined,
  reached: boolean,
  exact: Exact,
): boolean {
  if (!mode.entangled) return true;
  if (isDecided(a) && isDecided(b)) return a !== b;
  if (splitSet !== undefined && !splitSet.includes(q)) return reached;
  return confirmed(mode, q, exact);
}

/** Most questions a split may answer every way (2^n evaluations). */
const SPLIT_MAX = 5;

/**
 * Splits an entangled evaluation on what entangles it — the questions met twice and the unknown
 * questions under nodes met twice: once those are answered, what stays undecided is read-once.
 * For each way of answering them, marks (`REACH_S` / `REACH_R`) the candidates still on an
 * undecided path: exactly the other candidates that are needed. Returns the split set, or
 * `undefined` when it is too large. Leaves answers and node values as found.
 */
function split(mode: Mode): number[] | undefined {
  const { cp, sec } = mode;
  const { qv } = cp.scratch;
  const set = mode.splitSet;
  if (set.length > SPLIT_MAX) return undefined;
  const bit = mode.relaxed ? REACH_R : REACH_S;
  for (let m = 0; m < 1 << set.length; m++) {
    for (let k = 0; k < set.length; k++) qv[set[k]!] = (m >> k) & 1 ? T : F;
    runSection(cp, sec);
    if (mode.vals[sec.root] !== U) continue;
    mode.nepoch = nextEpoch(cp);
    reach(mode, sec.root, bit);
  }
  for (const q of set) qv[q] = U;
  restore(cp);
  return set;
}

/** Marks with `bit` the unknown questions on undecided paths under node `i` (as {@link walk}). */
function reach(mode: Mode, i: number, bit: number): void {
  const { cp, vals, logic } = mode;
  const { nmark, qv, qflag } = cp.scratch;
  if (nmark[i] === mode.nepoch) return;
  nmark[i] = mode.nepoch;
  const nq = cp.note[i]!;
  const c = cp.cond[i]!;
  const lv = logic[i] as Tri;
  const inner = c >= 0 ? and(lv, qv[c] as Tri) : lv;
  if (mode.relaxed && nq >= 0) {
    if (qv[nq] === U) qflag[nq] = qflag[nq]! | bit;
    if (inner !== U) return;
  }
  if (c >= 0 && qv[c] === U) qflag[c] = qflag[c]! | bit;
  if (lv !== U) return;
  const k = cp.kind[i] as NodeKind;
  if (k === LEAF) {
    qflag[cp.q[i]!] = qflag[cp.q[i]!]! | bit;
  } else if (k === REF) {
    const t = cp.target[i]!;
    if (t >= 0) reach(mode, t, bit);
  } else {
    for (let c2 = cp.kidStart[i]!; c2 < cp.kidEnd[i]!; c2++) {
      const j = cp.kids[c2]!;
      if (vals[j] === U) reach(mode, j, bit);
    }
  }
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
    sharedQ: [],
    sharedNodes: [],
    splitSet: [],
  };
  walk(mode, sec.root, true, true);
  if (mode.entangled) {
    // Now, while `nfrom` / `nto` are this walk's (the other evaluation's walk reuses them).
    const { nfrom, nto } = s;
    const set = mode.splitSet;
    for (const q of mode.sharedQ) if (!set.includes(q)) set.push(q);
    for (const i of mode.sharedNodes) {
      for (let k = nfrom[i]!; k < nto[i]!; k++) {
        const q = mode.found[k]!;
        if (!set.includes(q)) set.push(q);
      }
    }
  }
  return mode;
}

/** Bits of `qflag`: candidate of the strict / relaxed evaluation, and which answers decide it. */
const CANDIDATE_S = 1;
const CANDIDATE_R = 2;
const S_BY_T = 4;
const S_BY_F = 8;
const R_BY_T = 16;
const R_BY_F = 32;
/** Bits of `qflag`: reached under some answers to the split set (see {@link split}). */
const REACH_S = 64;
const REACH_R = 128;

/** Adds candidate `q`; `byT` / `byF`: answering it met / not met decides this evaluation. */
function add(mode: Mode, q: number, byT: boolean, byF: boolean): void {
  const { qwalk, qflag } = mode.cp.scratch;
  if (qwalk[q] === mode.nepoch) {
    mode.entangled = true;
    mode.sharedQ.push(q);
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
  const { nmark, nfrom, nto } = mode.cp.scratch;
  if (nmark[i] === mode.nepoch) {
    mode.entangled = true;
    mode.sharedNodes.push(i);
    return;
  }
  nmark[i] = mode.nepoch;
  // The candidates first met under node `i` are found[nfrom[i], nto[i]).
  const from = mode.found.length;
  walkNode(mode, i, byT, byF);
  nfrom[i] = from;
  nto[i] = mode.found.length;
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

// ---------------------------------------------------------------------------------------------
// Witnesses for entangled candidates

/** Where the question sits at the end of a path: a leaf, a group's condition, a note. */
const AT_LEAF = 1;
const AT_COND = 2;
const AT_NOTE = 3;

/** A witness attempt for `target` in one evaluation; `log` records the answers it set. */
interface Probe {
  mode: Mode;
  target: number;
  log: number[];
  /** Look for the path among a group's children last to first (a second, different witness try). */
  reverse?: boolean;
  /** The epoch marking (in `scratch.tmark`) the nodes whose value depends on the target. */
  over: number;
}

/** Sets question `q` and re-evaluates just the nodes that depend on it. */
function setQuestion(cp: CompiledPolicy, sec: CompiledSection, q: number, v: Tri): void {
  cp.scratch.qv[q] = v;
  const deps = sec.deps[q];
  if (deps !== undefined) run(cp, deps, sec.relaxed);
}

/**
 * As {@link setQuestion} within a probe of one evaluation: only that evaluation's values are
 * recomputed (a probe reads no other, and `restore` puts both back after it).
 */
function setIn(mode: Mode, q: number, v: Tri): void {
  const { cp, sec } = mode;
  cp.scratch.qv[q] = v;
  const deps = sec.deps[q];
  if (deps !== undefined) runOne(cp, deps, mode.relaxed);
}

function assign(p: Probe, x: number, v: Tri): void {
  setIn(p.mode, x, v);
  p.log.push(x);
}

/** Whether the target answered each way decides the value both times, differently. */
function flips(p: Probe): boolean {
  const { sec, vals } = p.mode;
  setIn(p.mode, p.target, T);
  const a = vals[sec.root] as Tri;
  setIn(p.mode, p.target, F);
  const b = vals[sec.root] as Tri;
  return isDecided(a) && isDecided(b) && a !== b;
}

/** Whether the candidate can change this evaluation's value; leaves answers and values as found. */
function confirmed(mode: Mode, q: number, exact: Exact): boolean {
  const { cp } = mode;
  const over = nextEpoch(cp);
  const deps = mode.sec.deps[q];
  if (deps !== undefined) for (let k = 0; k < deps.length; k++) cp.scratch.tmark[deps[k]!] = over;
  const p: Probe = { mode, target: q, log: [], over };
  let ok = sensitise(p) && flips(p);
  undo(p);
  restore(cp);
  if (!ok) {
    // Another path to the target (a question asked in two places, a section referred to twice) is
    // often sensitisable where the first was not: far cheaper than the search. A witness found
    // either way is checked by `flips`, so this only ever proves a candidate needed.
    p.reverse = true;
    ok = sensitise(p) && flips(p);
    p.reverse = false;
    undo(p);
    restore(cp);
  }
  if (!ok) {
    // No witness built directly: the diagrams decide (a question the value depends on is needed).
    exact.marks ??= diagrams(exact);
    ok = (exact.marks[q]! & (mode.relaxed ? 2 : 1)) !== 0;
  }
  return ok;
}

function undo(p: Probe): void {
  const { qv } = p.mode.cp.scratch;
  for (const x of p.log) qv[x] = U;
  qv[p.target] = U;
  p.log.length = 0;
}

/**
 * A path of undecided nodes from `i` down to where the target is asked, like {@link walk};
 * returns where it is asked (0: not under `i`).
 */
function findPath(p: Probe, i: number, path: number[]): number {
  const { cp, vals, logic, relaxed, nepoch } = p.mode;
  const { nmark, qv } = cp.scratch;
  if (nmark[i] === nepoch) return 0;
  nmark[i] = nepoch;
  path.push(i);
  const nq = cp.note[i]!;
  const c = cp.cond[i]!;
  const lv = logic[i] as Tri;
  const inner = c >= 0 ? and(lv, qv[c] as Tri) : lv;
  let at = 0;
  if (relaxed && nq >= 0 && nq === p.target && qv[nq] === U) at = AT_NOTE;
  else if (relaxed && nq >= 0 && inner !== U) at = 0;
  else if (c === p.target && qv[c] === U) at = AT_COND;
  else if (lv === U) {
    const k = cp.kind[i] as NodeKind;
    switch (k) {
      case LEAF:
        if (cp.q[i] === p.target) at = AT_LEAF;
        break;
      case REF: {
        const t = cp.target[i]!;
        if (t >= 0) at = findPath(p, t, path);
        break;
      }
      case ALL:
      case ANY:
      case NONE:
      case AT_LEAST:
        if (p.reverse === true) {
          for (let c2 = cp.kidEnd[i]! - 1; c2 >= cp.kidStart[i]! && at === 0; c2--) {
            const j = cp.kids[c2]!;
            if (vals[j] === U) at = findPath(p, j, path);
          }
        } else {
          for (let c2 = cp.kidStart[i]!; c2 < cp.kidEnd[i]! && at === 0; c2++) {
            const j = cp.kids[c2]!;
            if (vals[j] === U) at = findPath(p, j, path);
          }
        }
        break;
      default: {
        const never: never = k;
        throw new Error(`unknown node kind ${never}`);
      }
    }
  }
  if (at === 0) path.pop();
  return at;
}

/**
 * Answers the other questions along one undecided path to the target so that every gate on it
 * passes the target's value through: other children of an `all` met, of an `any` or `none` not
 * met / absent, of an `atLeast(n)` exactly n−1 met; conditions met; notes not waiving. Returns
 * whether a path was found (the caller checks that the target then flips the value).
 */
function sensitise(p: Probe): boolean {
  const { cp } = p.mode;
  const { qv } = cp.scratch;
  const path: number[] = [];
  p.mode.nepoch = nextEpoch(cp);
  const at = findPath(p, p.mode.sec.root, path);
  if (at === 0) return false;
  for (let k = 0; k < path.length; k++) {
    const n = path[k]!;
    const last = k === path.length - 1;
    const nq = cp.note[n]!;
    if (p.mode.relaxed && nq >= 0) {
      const positive = cp.neg[n] === 0;
      if (last && at === AT_NOTE) {
        // note ∨ inner (or inner ∧ ¬note under `none`): the inner value must not decide it.
        forceInner(p, n, positive ? F : T);
        continue;
      }
      if (qv[nq] === U) assign(p, nq, F);
    }
    if (last && at === AT_COND) {
      forceLogic(p, n, T);
      continue;
    }
    const c = cp.cond[n]!;
    if (c >= 0 && c !== p.target && qv[c] === U) assign(p, c, T);
    if (last) continue;
    const next = path[k + 1]!;
    const k0 = cp.kind[n] as NodeKind;
    switch (k0) {
      case ALL:
        for (let c2 = cp.kidStart[n]!; c2 < cp.kidEnd[n]!; c2++)
          if (cp.kids[c2] !== next) force(p, cp.kids[c2]!, T);
        break;
      case ANY:
      case NONE:
        for (let c2 = cp.kidStart[n]!; c2 < cp.kidEnd[n]!; c2++)
          if (cp.kids[c2] !== next) force(p, cp.kids[c2]!, F);
        break;
      case AT_LEAST: {
        const { vals } = p.mode;
        let met = 0;
        for (let c2 = cp.kidStart[n]!; c2 < cp.kidEnd[n]!; c2++)
          if (cp.kids[c2] !== next && vals[cp.kids[c2]!] === T) met++;
        for (let c2 = cp.kidStart[n]!; c2 < cp.kidEnd[n]!; c2++) {
          const j = cp.kids[c2]!;
          if (j === next || vals[j] !== U) continue;
          if (met < cp.n[n]! - 1 && force(p, j, T)) met++;
          else force(p, j, F);
        }
        break;
      }
      case LEAF:
      case REF:
        break;
      default: {
        const never: never = k0;
        throw new Error(`unknown node kind ${never}`);
      }
    }
  }
  return true;
}

/** Order in which a witness tries a gate's children: local ones (0), references (1), over the target (2). */
function rank(p: Probe, j: number): number {
  const { cp } = p.mode;
  if (cp.scratch.tmark[j] === p.over) return 2;
  return cp.kind[j] === REF ? 1 : 0;
}

/** Tries to give node `x` the value `v` in this evaluation by answering questions under it. */
function force(p: Probe, x: number, v: Tri): boolean {
  const { cp, vals, relaxed } = p.mode;
  const { qv } = cp.scratch;
  if (vals[x] === v) return true;
  if (vals[x] !== U) return false;
  const nq = cp.note[x]!;
  if (relaxed && nq >= 0 && qv[nq] === U && nq !== p.target) {
    // A note that waives makes the node met (a contraindication absent); one that does not, leaves it.
    const waives = cp.neg[x] === 0 ? v === T : v === F;
    if (waives) {
      assign(p, nq, T);
      return vals[x] === v;
    }
    assign(p, nq, F);
  }
  return forceInner(p, x, v) && vals[x] === v;
}

/** As {@link force}, for the node's value before its note: its condition and its logic. */
function forceInner(p: Probe, x: number, v: Tri): boolean {
  const { cp } = p.mode;
  const { qv } = cp.scratch;
  const c = cp.cond[x]!;
  if (c < 0) return forceLogic(p, x, v);
  if (c === p.target) return false;
  const cv = qv[c] as Tri;
  if (v === F) {
    if (cv === F) return true;
    if (cv === U) {
      assign(p, c, F);
      return true;
    }
    return forceLogic(p, x, F);
  }
  if (cv === F) return false;
  if (cv === U) assign(p, c, T);
  return forceLogic(p, x, T);
}

/** As {@link force}, for the node's own logic over its children (or a leaf's question). */
function forceLogic(p: Probe, x: number, v: Tri): boolean {
  const { cp, vals, logic } = p.mode;
  if (logic[x] === v) return true;
  if (logic[x] !== U) return false;
  const k = cp.kind[x] as NodeKind;
  const s = cp.kidStart[x]!;
  const e = cp.kidEnd[x]!;
  switch (k) {
    case LEAF: {
      const q = cp.q[x]!;
      if (q === p.target) return false;
      assign(p, q, v);
      return true;
    }
    case REF: {
      const t = cp.target[x]!;
      return t >= 0 && force(p, t, v);
    }
    case ALL:
    case ANY:
    case NONE: {
      // The value every child must take (all met, any not met, none absent) or one child must take.
      const every = k === ALL ? v === T : k === ANY ? v === F : v === T;
      const childValue: Tri = k === ALL ? v : k === ANY ? v : v === T ? F : T;
      if (every) {
        for (let c = s; c < e; c++) {
          const j = cp.kids[c]!;
          if (vals[j] === U) force(p, j, childValue);
        }
        return logic[x] === v;
      }
      // One child suffices: first one that is neither over the target nor a reference, so that the
      // path to the target stays open (a section referred to twice, once on that path, would
      // otherwise be closed on the way to it); then references; then the rest.
      for (let pass = 0; pass < 3; pass++) {
        for (let c = s; c < e; c++) {
          const j = cp.kids[c]!;
          if (vals[j] === U && rank(p, j) === pass && force(p, j, childValue)) return true;
        }
      }
      return logic[x] === v;
    }
    case AT_LEAST:
      for (let pass = 0; pass < 3; pass++) {
        for (let c = s; c < e && logic[x] === U; c++) {
          const j = cp.kids[c]!;
          if (vals[j] === U && rank(p, j) === pass) force(p, j, v);
        }
      }
      return logic[x] === v;
    default: {
      const never: never = k;
      throw new Error(`unknown node kind ${never}`);
    }
  }
}
