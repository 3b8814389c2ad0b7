import { compile, evaluateSection } from "../src/evaluate/index.js";
import { run } from "../src/evaluate/run.js";
import { CPMP173_PREDICATES, cpmp173 } from "../src/evaluate/fixtures/cpmp173.js";
import { and, atLeast, F, not, or, T, type Tri, U } from "../src/evaluate/tri.js";
import type { CompiledPolicy, NodeKind } from "../src/evaluate/compile.js";
const cp = compile(cpmp173(), CPMP173_PREDICATES);
const sec = cp.sections.get("II")!;
evaluateSection(cp, "II", { answers: { "I.A.1": true }, facts: {}, dateOfService: "2026-03-01" });
const NOT_MET: Tri = F; const UNKNOWN: Tri = U; const MET: Tri = T;
const LEAF = 0, ALL = 1, ANY = 2, NONE = 3, AT_LEAST = 4, REF = 5;
function unreachable(k: never): never { throw new Error(`unknown node kind ${String(k)}`); }
function v_copy(cp: CompiledPolicy, program: Int32Array, relaxed: boolean): void {
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

function v_noPrologue(cp: CompiledPolicy, program: Int32Array, relaxed: boolean): void {
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

function v_noPrologue_inlineCondNote(cp: CompiledPolicy, program: Int32Array, relaxed: boolean): void {
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
      if (cv < s) s = cv;
      if (cv < r) r = cv;
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

function v_noPrologue_numberTyped(cp: CompiledPolicy, program: Int32Array, relaxed: boolean): void {
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { kind, q, cond, note, n, neg, target, kidStart, kidEnd, kids } = cp;
  for (let p = 0; p < program.length; p++) {
    const i = program[p]!;
    let s: number;
    let r: number;
    const k = kind[i] as NodeKind;
    switch (k) {
      case LEAF:
        s = r = qv[q[i]!] as Tri;
        break;
      case ALL:
        s = r = MET;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = and(s as Tri, sv[j] as Tri);
          r = and(r as Tri, rv[j] as Tri);
        }
        break;
      case ANY:
        s = r = NOT_MET;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = or(s as Tri, sv[j] as Tri);
          r = or(r as Tri, rv[j] as Tri);
        }
        break;
      case NONE:
        s = r = MET;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = and(s as Tri, not(sv[j] as Tri));
          r = and(r as Tri, not(rv[j] as Tri));
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
      s = and(s as Tri, cv);
      r = and(r as Tri, cv);
    }
    const nq = note[i]!;
    if (nq >= 0) {
      // "Counts as met": for a statement under `none` (a contraindication) that means absent.
      const nv = qv[nq] as Tri;
      r = neg[i] === 1 ? and(r as Tri, not(nv)) : or(r as Tri, nv);
    }
    sv[i] = s;
    rv[i] = r;
  }
}

function v_closureCp(_cp: CompiledPolicy, program: Int32Array, relaxed: boolean): void {
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
function makeRunner(cp: CompiledPolicy) {
  return function (program: Int32Array): void {
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
;
}
const runner = makeRunner(cp);
function v_runner(_cp: CompiledPolicy, program: Int32Array) { runner(program); }
function v_split(cp: CompiledPolicy, program: Int32Array, relaxed: boolean): void {
  inner(program, cp.scratch.qv, cp.scratch.sv, cp.scratch.rv, cp.scratch.slv, cp.scratch.rlv, cp.kind, cp.q, cp.cond, cp.note, cp.n, cp.neg, cp.target, cp.kidStart, cp.kidEnd, cp.kids);
}
function inner(program: Int32Array, qv: Int8Array, sv: Int8Array, rv: Int8Array, slv: Int8Array, rlv: Int8Array, kind: Uint8Array, q: Int32Array, cond: Int32Array, note: Int32Array, n: Int32Array, neg: Uint8Array, target: Int32Array, kidStart: Int32Array, kidEnd: Int32Array, kids: Int32Array): void {
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
function runStrict(_a: unknown, _b: unknown) {}

const fns: [string, (cp: CompiledPolicy, p: Int32Array, r: boolean) => void][] = [["run", run], ["copy", v_copy], ["noPrologue", v_noPrologue], ["noPrologue_inlineCondNote", v_noPrologue_inlineCondNote], ["noPrologue_numberTyped", v_noPrologue_numberTyped], ["closureCp", v_closureCp], ["runner", v_runner], ["split", v_split],
];
const mins = fns.map(() => 1e9);
for (let r = 0; r < 30; r++) fns.forEach(([, f], ix) => { const t0 = performance.now(); for (let k = 0; k < 2e5; k++) f(cp, sec.program, true); mins[ix] = Math.min(mins[ix]!, performance.now() - t0); });
fns.forEach(([name], ix) => console.log(name.padEnd(30), mins[ix]!.toFixed(0)));
