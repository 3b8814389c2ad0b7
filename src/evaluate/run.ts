/**
 * The inner loop (SPEC 2.2, 5): computes every node of a section program from its children, strict
 * and relaxed, on the compiled arrays. No allocation, one `switch` over the node kinds.
 */

import type { CompiledPolicy, CompiledSection, NodeKind } from "./compile.js";
import * as K from "./compile.js";
import { and, atLeast, F, not, or, T, type Tri, U } from "./tri.js";

// Imported `const` bindings are checked for initialisation at every use in optimised code (the
// temporal dead zone), which costs this loop almost half its speed; module-local copies are not.
const NOT_MET: Tri = F;
const UNKNOWN: Tri = U;
const MET: Tri = T;
const { LEAF, ALL, ANY, NONE, AT_LEAST, REF } = K;

/**
 * Evaluates a whole section: its leaves (copies of their questions' values, relaxed by a note) in
 * one tight loop, then the groups and references in program order.
 */
export function runSection(cp: CompiledPolicy, sec: CompiledSection): void {
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { q, note, neg } = cp;
  const leaves = sec.leaves;
  for (let p = 0; p < leaves.length; p++) {
    const i = leaves[p]!;
    const v = qv[q[i]!] as Tri;
    sv[i] = v;
    slv[i] = v;
    rlv[i] = v;
    const nq = note[i]!;
    if (nq < 0) rv[i] = v;
    else {
      // "Counts as met": for a statement under `none` (a contraindication) that means absent.
      const nv = qv[nq] as Tri;
      rv[i] = neg[i] === 1 ? and(v, not(nv)) : or(v, nv);
    }
  }
  run(cp, sec.groups, sec.relaxed);
}

/** The exhaustiveness check of the `switch` over node kinds, out of the loop's way. */
function unreachable(k: never): never {
  throw new Error(`unknown node kind ${String(k)}`);
}

/** As {@link run} for a program without `review` notes, where the relaxed values equal the strict. */
function runStrict(cp: CompiledPolicy, program: Int32Array): void {
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { kind, q, cond, n, target, kidStart, kidEnd, kids } = cp;
  for (let p = 0; p < program.length; p++) {
    const i = program[p]!;
    let s: Tri;
    const k = kind[i] as NodeKind;
    switch (k) {
      case LEAF:
        s = qv[q[i]!] as Tri;
        break;
      case ALL:
        s = MET;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) s = and(s, sv[kids[c]!] as Tri);
        break;
      case ANY:
        s = NOT_MET;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) s = or(s, sv[kids[c]!] as Tri);
        break;
      case NONE:
        s = MET;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) s = and(s, not(sv[kids[c]!] as Tri));
        break;
      case AT_LEAST: {
        let met = 0;
        let unknown = 0;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const a = sv[kids[c]!];
          if (a === MET) met++;
          else if (a === UNKNOWN) unknown++;
        }
        s = atLeast(n[i]!, met, unknown);
        break;
      }
      case REF: {
        const t = target[i]!;
        s = t < 0 ? UNKNOWN : (sv[t] as Tri);
        break;
      }
      default:
        unreachable(k);
    }
    slv[i] = s;
    rlv[i] = s;
    const c = cond[i]!;
    if (c >= 0) s = and(s, qv[c] as Tri);
    sv[i] = s;
    rv[i] = s;
  }
}

/**
 * Computes strict and relaxed values of every node of a program, children first. The relaxed value
 * takes a criterion whose `review` note holds as met (SPEC 2.2 `review`).
 */
export function run(cp: CompiledPolicy, program: Int32Array, relaxed: boolean): void {
  if (!relaxed) {
    runStrict(cp, program);
    return;
  }
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { kind, q, cond, note, n, neg, target, kidStart, kidEnd, kids } = cp;
  for (let p = 0; p < program.length; p++) {
    const i = program[p]!;
    let s: Tri;
    let r: Tri;
    const k = kind[i] as NodeKind;
    switch (k) {
      case LEAF:
        s = r = qv[q[i]!] as Tri;
        break;
      case ALL:
        s = r = MET;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = and(s, sv[j] as Tri);
          r = and(r, rv[j] as Tri);
        }
        break;
      case ANY:
        s = r = NOT_MET;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = or(s, sv[j] as Tri);
          r = or(r, rv[j] as Tri);
        }
        break;
      case NONE:
        s = r = MET;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = and(s, not(sv[j] as Tri));
          r = and(r, not(rv[j] as Tri));
        }
        break;
      case AT_LEAST: {
        let sm = 0;
        let su = 0;
        let rm = 0;
        let ru = 0;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          const a = sv[j];
          const b = rv[j];
          if (a === MET) sm++;
          else if (a === UNKNOWN) su++;
          if (b === MET) rm++;
          else if (b === UNKNOWN) ru++;
        }
        s = atLeast(n[i]!, sm, su);
        r = atLeast(n[i]!, rm, ru);
        break;
      }
      case REF: {
        const t = target[i]!;
        if (t < 0) s = r = UNKNOWN;
        else {
          s = sv[t] as Tri;
          r = rv[t] as Tri;
        }
        break;
      }
      default:
        unreachable(k);
    }
    slv[i] = s;
    rlv[i] = r;
    const c = cond[i]!;
    if (c >= 0) {
      const cv = qv[c] as Tri;
      s = and(s, cv);
      r = and(r, cv);
    }
    const nq = note[i]!;
    if (nq >= 0) {
      // "Counts as met": for a statement under `none` (a contraindication) that means absent.
      const nv = qv[nq] as Tri;
      r = neg[i] === 1 ? and(r, not(nv)) : or(r, nv);
    }
    sv[i] = s;
    rv[i] = r;
  }
}

/** A fresh mark for the per-question / per-node epoch arrays (de-duplication without clearing). */
export function nextEpoch(cp: CompiledPolicy): number {
  const s = cp.scratch;
  if (s.epoch >= 0xfffffffe) {
    s.epoch = 0;
    s.qmark.fill(0);
    s.qwalk.fill(0);
    s.nmark.fill(0);
  }
  return ++s.epoch;
}
