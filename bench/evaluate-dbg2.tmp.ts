import { compile, evaluateSection } from "../src/evaluate/index.js";
import { run } from "../src/evaluate/run.js";
import { and, or, not, atLeast, T, F, U, type Tri } from "../src/evaluate/tri.js";
import { LEAF, ALL, ANY, NONE, AT_LEAST, REF, type CompiledPolicy, type NodeKind } from "../src/evaluate/compile.js";
function runStrict(_a: unknown, _b: unknown) {}
import { CPMP173_PREDICATES, cpmp173 } from "../src/evaluate/fixtures/cpmp173.js";
const cp = compile(cpmp173(), CPMP173_PREDICATES);
const sec = cp.sections.get("II")!;
evaluateSection(cp, "II", { answers: { "I.A.1": true }, facts: {}, dateOfService: "2026-03-01" });
function run2(program: Int32Array): void {
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { kind, q, cond, note, n, neg, target, kidStart, kidEnd, kids } = cp;
  for (let p = 0; p < program.length; p++) {
    const i = program[p]!;
    let s: number; let r: number;
    const k = kind[i]!;
    switch (k) {
      case 0: s = r = qv[q[i]!]!; break;
      case 1: s = r = 2; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]!; const b = rv[j]!; if (a < s) s = a; if (b < r) r = b; } break;
      case 2: s = r = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]!; const b = rv[j]!; if (a > s) s = a; if (b > r) r = b; } break;
      case 3: s = r = 2; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = 2 - sv[j]!; const b = 2 - rv[j]!; if (a < s) s = a; if (b < r) r = b; } break;
      case 4: { let sm = 0, su = 0, rm = 0, ru = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]; const b = rv[j]; if (a === 2) sm++; else if (a === 1) su++; if (b === 2) rm++; else if (b === 1) ru++; } const nn = n[i]!; s = sm >= nn ? 2 : sm + su < nn ? 0 : 1; r = rm >= nn ? 2 : rm + ru < nn ? 0 : 1; break; }
      default: { const t = target[i]!; if (t < 0) s = r = 1; else { s = sv[t]!; r = rv[t]!; } }
    }
    slv[i] = s; rlv[i] = r;
    const c = cond[i]!;
    if (c >= 0) { const cv = qv[c]!; if (cv < s) s = cv; if (cv < r) r = cv; }
    const nq = note[i]!;
    if (nq >= 0) { const nv = qv[nq]!; if (neg[i] === 1) { const x = 2 - nv; if (x < r) r = x; } else if (nv > r) r = nv; }
    sv[i] = s; rv[i] = r;
  }
}
function run3(program: Int32Array): void {
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { kind, q, cond, note, n, neg, target, kidStart, kidEnd, kids } = cp;
  for (let p = 0; p < program.length; p++) {
    const i = program[p]!;
    let s: number; let r: number;
    const k = kind[i]!;
    switch (k) {
      case 0: s = r = qv[q[i]!]!; break;
      case 1: s = r = 2; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, sv[j] as Tri); r = and(r as Tri, rv[j] as Tri); } break;
      case 2: s = r = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = or(s as Tri, sv[j] as Tri); r = or(r as Tri, rv[j] as Tri); } break;
      case 3: s = r = 2; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, not(sv[j] as Tri)); r = and(r as Tri, not(rv[j] as Tri)); } break;
      case 4: { let sm = 0, su = 0, rm = 0, ru = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]; const b = rv[j]; if (a === 2) sm++; else if (a === 1) su++; if (b === 2) rm++; else if (b === 1) ru++; } const nn = n[i]!; s = sm >= nn ? 2 : sm + su < nn ? 0 : 1; r = rm >= nn ? 2 : rm + ru < nn ? 0 : 1; break; }
      default: { const t = target[i]!; if (t < 0) s = r = 1; else { s = sv[t]!; r = rv[t]!; } }
    }
    slv[i] = s; rlv[i] = r;
    const c = cond[i]!;
    if (c >= 0) { const cv = qv[c]!; if (cv < s) s = cv; if (cv < r) r = cv; }
    const nq = note[i]!;
    if (nq >= 0) { const nv = qv[nq]!; if (neg[i] === 1) { const x = 2 - nv; if (x < r) r = x; } else if (nv > r) r = nv; }
    sv[i] = s; rv[i] = r;
  }
}
function run4(program: Int32Array): void {
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { kind, q, cond, note, n, neg, target, kidStart, kidEnd, kids } = cp;
  for (let p = 0; p < program.length; p++) {
    const i = program[p]!;
    let s: number; let r: number;
    const k = kind[i]!;
    switch (k) {
      case LEAF: s = r = qv[q[i]!]!; break;
      case ALL: s = r = 2; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]!; const b = rv[j]!; if (a < s) s = a; if (b < r) r = b; } break;
      case ANY: s = r = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]!; const b = rv[j]!; if (a > s) s = a; if (b > r) r = b; } break;
      case NONE: s = r = 2; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = 2 - sv[j]!; const b = 2 - rv[j]!; if (a < s) s = a; if (b < r) r = b; } break;
      case AT_LEAST: { let sm = 0, su = 0, rm = 0, ru = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]; const b = rv[j]; if (a === 2) sm++; else if (a === 1) su++; if (b === 2) rm++; else if (b === 1) ru++; } const nn = n[i]!; s = sm >= nn ? 2 : sm + su < nn ? 0 : 1; r = rm >= nn ? 2 : rm + ru < nn ? 0 : 1; break; }
      default: { const t = target[i]!; if (t < 0) s = r = 1; else { s = sv[t]!; r = rv[t]!; } }
    }
    slv[i] = s; rlv[i] = r;
    const c = cond[i]!;
    if (c >= 0) { const cv = qv[c]!; if (cv < s) s = cv; if (cv < r) r = cv; }
    const nq = note[i]!;
    if (nq >= 0) { const nv = qv[nq]!; if (neg[i] === 1) { const x = 2 - nv; if (x < r) r = x; } else if (nv > r) r = nv; }
    sv[i] = s; rv[i] = r;
  }
}
function run5(cp: CompiledPolicy, program: Int32Array, relaxed: boolean): void {
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
        s = r = T;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = and(s, sv[j] as Tri);
          r = and(r, rv[j] as Tri);
        }
        break;
      case ANY:
        s = r = F;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = or(s, sv[j] as Tri);
          r = or(r, rv[j] as Tri);
        }
        break;
      case NONE:
        s = r = T;
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
          if (a === T) sm++;
          else if (a === U) su++;
          if (b === T) rm++;
          else if (b === U) ru++;
        }
        s = atLeast(n[i]!, sm, su);
        r = atLeast(n[i]!, rm, ru);
        break;
      }
      case REF: {
        const t = target[i]!;
        if (t < 0) s = r = U;
        else {
          s = sv[t] as Tri;
          r = rv[t] as Tri;
        }
        break;
      }
      default: {
        const never: never = k;
        throw new Error(`unknown node kind ${never}`);
      }
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
function run6(cp: CompiledPolicy, program: Int32Array, relaxed: boolean): void {
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
      case 0:
        s = r = qv[q[i]!] as Tri;
        break;
      case 1:
        s = r = T;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = and(s, sv[j] as Tri);
          r = and(r, rv[j] as Tri);
        }
        break;
      case 2:
        s = r = F;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = or(s, sv[j] as Tri);
          r = or(r, rv[j] as Tri);
        }
        break;
      case 3:
        s = r = T;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = and(s, not(sv[j] as Tri));
          r = and(r, not(rv[j] as Tri));
        }
        break;
      case 4: {
        let sm = 0;
        let su = 0;
        let rm = 0;
        let ru = 0;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          const a = sv[j];
          const b = rv[j];
          if (a === T) sm++;
          else if (a === U) su++;
          if (b === T) rm++;
          else if (b === U) ru++;
        }
        s = atLeast(n[i]!, sm, su);
        r = atLeast(n[i]!, rm, ru);
        break;
      }
      case 5: {
        const t = target[i]!;
        if (t < 0) s = r = U;
        else {
          s = sv[t] as Tri;
          r = rv[t] as Tri;
        }
        break;
      }
      default: {
        const never: never = k;
        throw new Error(`unknown node kind ${never}`);
      }
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
function run7(cp: CompiledPolicy, program: Int32Array, relaxed: boolean): void {
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
      case 0:
        s = r = qv[q[i]!] as Tri;
        break;
      case 1:
        s = r = 2;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = and(s, sv[j] as Tri);
          r = and(r, rv[j] as Tri);
        }
        break;
      case 2:
        s = r = 0;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = or(s, sv[j] as Tri);
          r = or(r, rv[j] as Tri);
        }
        break;
      case 3:
        s = r = 2;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = and(s, not(sv[j] as Tri));
          r = and(r, not(rv[j] as Tri));
        }
        break;
      case 4: {
        let sm = 0;
        let su = 0;
        let rm = 0;
        let ru = 0;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          const a = sv[j];
          const b = rv[j];
          if (a === 2) sm++;
          else if (a === 1) su++;
          if (b === 2) rm++;
          else if (b === 1) ru++;
        }
        s = atLeast(n[i]!, sm, su);
        r = atLeast(n[i]!, rm, ru);
        break;
      }
      case 5: {
        const t = target[i]!;
        if (t < 0) s = r = 1;
        else {
          s = sv[t] as Tri;
          r = rv[t] as Tri;
        }
        break;
      }
      default: {
        const never: never = k;
        throw new Error(`unknown node kind ${never}`);
      }
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
function run8(cp: CompiledPolicy, program: Int32Array, relaxed: boolean): void {
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
      case 0:
        s = r = qv[q[i]!] as Tri;
        break;
      case 1:
        s = r = 2;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = and(s, sv[j] as Tri);
          r = and(r, rv[j] as Tri);
        }
        break;
      case 2:
        s = r = 0;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = or(s, sv[j] as Tri);
          r = or(r, rv[j] as Tri);
        }
        break;
      case 3:
        s = r = 2;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = and(s, not(sv[j] as Tri));
          r = and(r, not(rv[j] as Tri));
        }
        break;
      case 4: {
        let sm = 0;
        let su = 0;
        let rm = 0;
        let ru = 0;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          const a = sv[j];
          const b = rv[j];
          if (a === 2) sm++;
          else if (a === 1) su++;
          if (b === 2) rm++;
          else if (b === 1) ru++;
        }
        s = atLeast(n[i]!, sm, su);
        r = atLeast(n[i]!, rm, ru);
        break;
      }
      case 5: {
        const t = target[i]!;
        if (t < 0) s = r = 1;
        else {
          s = sv[t] as Tri;
          r = rv[t] as Tri;
        }
        break;
      }
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
function run9(cp: CompiledPolicy, program: Int32Array, relaxed: boolean): void {
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
      case 0:
        s = r = qv[q[i]!] as Tri;
        break;
      case 1:
        s = r = 2;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = and(s, sv[j] as Tri);
          r = and(r, rv[j] as Tri);
        }
        break;
      case 2:
        s = r = 0;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = or(s, sv[j] as Tri);
          r = or(r, rv[j] as Tri);
        }
        break;
      case 3:
        s = r = 2;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = and(s, not(sv[j] as Tri));
          r = and(r, not(rv[j] as Tri));
        }
        break;
      case 4: {
        let sm = 0;
        let su = 0;
        let rm = 0;
        let ru = 0;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          const a = sv[j];
          const b = rv[j];
          if (a === 2) sm++;
          else if (a === 1) su++;
          if (b === 2) rm++;
          else if (b === 1) ru++;
        }
        { const nn = n[i]!; s = sm >= nn ? 2 : sm + su < nn ? 0 : 1; }
        { const nn = n[i]!; r = rm >= nn ? 2 : rm + ru < nn ? 0 : 1; }
        break;
      }
      case 5: {
        const t = target[i]!;
        if (t < 0) s = r = 1;
        else {
          s = sv[t] as Tri;
          r = rv[t] as Tri;
        }
        break;
      }
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
function run10(_cp: unknown, program: Int32Array, _rel: boolean): void {
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { kind, q, cond, note, n, neg, target, kidStart, kidEnd, kids } = cp;
  for (let p = 0; p < program.length; p++) {
    const i = program[p]!;
    let s: number; let r: number;
    const k = kind[i]!;
    switch (k) {
      case 0: s = r = qv[q[i]!]!; break;
      case 1: s = r = 2; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, sv[j] as Tri); r = and(r as Tri, rv[j] as Tri); } break;
      case 2: s = r = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = or(s as Tri, sv[j] as Tri); r = or(r as Tri, rv[j] as Tri); } break;
      case 3: s = r = 2; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, not(sv[j] as Tri)); r = and(r as Tri, not(rv[j] as Tri)); } break;
      case 4: { let sm = 0, su = 0, rm = 0, ru = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]; const b = rv[j]; if (a === 2) sm++; else if (a === 1) su++; if (b === 2) rm++; else if (b === 1) ru++; } const nn = n[i]!; s = sm >= nn ? 2 : sm + su < nn ? 0 : 1; r = rm >= nn ? 2 : rm + ru < nn ? 0 : 1; break; }
      default: { const t = target[i]!; if (t < 0) s = r = 1; else { s = sv[t]!; r = rv[t]!; } }
    }
    slv[i] = s; rlv[i] = r;
    const c = cond[i]!;
    if (c >= 0) { const cv = qv[c] as Tri; s = and(s as Tri, cv); r = and(r as Tri, cv); }
    const nq = note[i]!;
    if (nq >= 0) { const nv = qv[nq] as Tri; r = neg[i] === 1 ? and(r as Tri, not(nv)) : or(r as Tri, nv); }
    sv[i] = s; rv[i] = r;
  }
}
function run11(_cp: unknown, program: Int32Array, _rel: boolean): void {
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { kind, q, cond, note, n, neg, target, kidStart, kidEnd, kids } = cp;
  for (let p = 0; p < program.length; p++) {
    const i = program[p]!;
    let s: Tri; let r: Tri;
    const k = kind[i] as NodeKind;
    switch (k) {
      case 0: s = r = qv[q[i]!] as Tri; break;
      case 1: s = r = T; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, sv[j] as Tri); r = and(r as Tri, rv[j] as Tri); } break;
      case 2: s = r = F; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = or(s as Tri, sv[j] as Tri); r = or(r as Tri, rv[j] as Tri); } break;
      case 3: s = r = T; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, not(sv[j] as Tri)); r = and(r as Tri, not(rv[j] as Tri)); } break;
      case 4: { let sm = 0, su = 0, rm = 0, ru = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]; const b = rv[j]; if (a === 2) sm++; else if (a === 1) su++; if (b === 2) rm++; else if (b === 1) ru++; } const nn = n[i]!; s = atLeast(nn, sm, su); r = atLeast(nn, rm, ru); break; }
      default: { const t = target[i]!; if (t < 0) s = r = U; else { s = sv[t] as Tri; r = rv[t] as Tri; } }
    }
    slv[i] = s; rlv[i] = r;
    const c = cond[i]!;
    if (c >= 0) { const cv = qv[c] as Tri; s = and(s as Tri, cv); r = and(r as Tri, cv); }
    const nq = note[i]!;
    if (nq >= 0) { const nv = qv[nq] as Tri; r = neg[i] === 1 ? and(r as Tri, not(nv)) : or(r as Tri, nv); }
    sv[i] = s; rv[i] = r;
  }
}
function run12(_cp: unknown, program: Int32Array, _rel: boolean): void {
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { kind, q, cond, note, n, neg, target, kidStart, kidEnd, kids } = cp;
  for (let p = 0; p < program.length; p++) {
    const i = program[p]!;
    let s: number; let r: number;
    const k = kind[i]!;
    switch (k) {
      case 0: s = r = qv[q[i]!]!; break;
      case 1: s = r = T; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, sv[j] as Tri); r = and(r as Tri, rv[j] as Tri); } break;
      case 2: s = r = F; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = or(s as Tri, sv[j] as Tri); r = or(r as Tri, rv[j] as Tri); } break;
      case 3: s = r = T; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, not(sv[j] as Tri)); r = and(r as Tri, not(rv[j] as Tri)); } break;
      case 4: { let sm = 0, su = 0, rm = 0, ru = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]; const b = rv[j]; if (a === 2) sm++; else if (a === 1) su++; if (b === 2) rm++; else if (b === 1) ru++; } const nn = n[i]!; s = sm >= nn ? 2 : sm + su < nn ? 0 : 1; r = rm >= nn ? 2 : rm + ru < nn ? 0 : 1; break; }
      default: { const t = target[i]!; if (t < 0) s = r = U; else { s = sv[t]!; r = rv[t]!; } }
    }
    slv[i] = s; rlv[i] = r;
    const c = cond[i]!;
    if (c >= 0) { const cv = qv[c] as Tri; s = and(s as Tri, cv); r = and(r as Tri, cv); }
    const nq = note[i]!;
    if (nq >= 0) { const nv = qv[nq] as Tri; r = neg[i] === 1 ? and(r as Tri, not(nv)) : or(r as Tri, nv); }
    sv[i] = s; rv[i] = r;
  }
}
function run13(_cp: unknown, program: Int32Array, _rel: boolean): void {
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { kind, q, cond, note, n, neg, target, kidStart, kidEnd, kids } = cp;
  for (let p = 0; p < program.length; p++) {
    const i = program[p]!;
    let s: number; let r: number;
    const k = kind[i]!;
    switch (k) {
      case 0: s = r = qv[q[i]!]!; break;
      case 1: s = r = 2; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, sv[j] as Tri); r = and(r as Tri, rv[j] as Tri); } break;
      case 2: s = r = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = or(s as Tri, sv[j] as Tri); r = or(r as Tri, rv[j] as Tri); } break;
      case 3: s = r = 2; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, not(sv[j] as Tri)); r = and(r as Tri, not(rv[j] as Tri)); } break;
      case 4: { let sm = 0, su = 0, rm = 0, ru = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]; const b = rv[j]; if (a === 2) sm++; else if (a === 1) su++; if (b === 2) rm++; else if (b === 1) ru++; } const nn = n[i]!; s = atLeast(nn, sm, su); r = atLeast(nn, rm, ru); break; }
      default: { const t = target[i]!; if (t < 0) s = r = 1; else { s = sv[t]!; r = rv[t]!; } }
    }
    slv[i] = s; rlv[i] = r;
    const c = cond[i]!;
    if (c >= 0) { const cv = qv[c] as Tri; s = and(s as Tri, cv); r = and(r as Tri, cv); }
    const nq = note[i]!;
    if (nq >= 0) { const nv = qv[nq] as Tri; r = neg[i] === 1 ? and(r as Tri, not(nv)) : or(r as Tri, nv); }
    sv[i] = s; rv[i] = r;
  }
}
function run14(_cp: unknown, program: Int32Array, _rel: boolean): void {
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { kind, q, cond, note, n, neg, target, kidStart, kidEnd, kids } = cp;
  for (let p = 0; p < program.length; p++) {
    const i = program[p]!;
    let s: Tri; let r: Tri;
    const k = kind[i] as NodeKind;
    switch (k) {
      case 0: s = r = qv[q[i]!] as Tri; break;
      case 1: s = r = 2; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, sv[j] as Tri); r = and(r as Tri, rv[j] as Tri); } break;
      case 2: s = r = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = or(s as Tri, sv[j] as Tri); r = or(r as Tri, rv[j] as Tri); } break;
      case 3: s = r = 2; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, not(sv[j] as Tri)); r = and(r as Tri, not(rv[j] as Tri)); } break;
      case 4: { let sm = 0, su = 0, rm = 0, ru = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]; const b = rv[j]; if (a === 2) sm++; else if (a === 1) su++; if (b === 2) rm++; else if (b === 1) ru++; } const nn = n[i]!; s = (sm >= nn ? 2 : sm + su < nn ? 0 : 1) as Tri; r = (rm >= nn ? 2 : rm + ru < nn ? 0 : 1) as Tri; break; }
      default: { const t = target[i]!; if (t < 0) s = r = 1; else { s = sv[t] as Tri; r = rv[t] as Tri; } }
    }
    slv[i] = s; rlv[i] = r;
    const c = cond[i]!;
    if (c >= 0) { const cv = qv[c] as Tri; s = and(s as Tri, cv); r = and(r as Tri, cv); }
    const nq = note[i]!;
    if (nq >= 0) { const nv = qv[nq] as Tri; r = neg[i] === 1 ? and(r as Tri, not(nv)) : or(r as Tri, nv); }
    sv[i] = s; rv[i] = r;
  }
}
const LT = T; const LF = F; const LU = U;
function run15(_cp: unknown, program: Int32Array, _rel: boolean): void {
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { kind, q, cond, note, n, neg, target, kidStart, kidEnd, kids } = cp;
  for (let p = 0; p < program.length; p++) {
    const i = program[p]!;
    let s: number; let r: number;
    const k = kind[i]!;
    switch (k) {
      case 0: s = r = qv[q[i]!]!; break;
      case 1: s = r = LT; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, sv[j] as Tri); r = and(r as Tri, rv[j] as Tri); } break;
      case 2: s = r = LF; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = or(s as Tri, sv[j] as Tri); r = or(r as Tri, rv[j] as Tri); } break;
      case 3: s = r = LT; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, not(sv[j] as Tri)); r = and(r as Tri, not(rv[j] as Tri)); } break;
      case 4: { let sm = 0, su = 0, rm = 0, ru = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]; const b = rv[j]; if (a === 2) sm++; else if (a === 1) su++; if (b === 2) rm++; else if (b === 1) ru++; } const nn = n[i]!; s = sm >= nn ? 2 : sm + su < nn ? 0 : 1; r = rm >= nn ? 2 : rm + ru < nn ? 0 : 1; break; }
      default: { const t = target[i]!; if (t < 0) s = r = LU; else { s = sv[t]!; r = rv[t]!; } }
    }
    slv[i] = s; rlv[i] = r;
    const c = cond[i]!;
    if (c >= 0) { const cv = qv[c] as Tri; s = and(s as Tri, cv); r = and(r as Tri, cv); }
    const nq = note[i]!;
    if (nq >= 0) { const nv = qv[nq] as Tri; r = neg[i] === 1 ? and(r as Tri, not(nv)) : or(r as Tri, nv); }
    sv[i] = s; rv[i] = r;
  }
}
function run16(_cp: unknown, program: Int32Array, _rel: boolean): void {
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { kind, q, cond, note, n, neg, target, kidStart, kidEnd, kids } = cp;
  for (let p = 0; p < program.length; p++) {
    const i = program[p]!;
    let s: number; let r: number;
    const k = kind[i]!;
    switch (k) {
      case LEAF: s = r = qv[q[i]!]!; break;
      case ALL: s = r = LT; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, sv[j] as Tri); r = and(r as Tri, rv[j] as Tri); } break;
      case ANY: s = r = LF; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = or(s as Tri, sv[j] as Tri); r = or(r as Tri, rv[j] as Tri); } break;
      case NONE: s = r = LT; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, not(sv[j] as Tri)); r = and(r as Tri, not(rv[j] as Tri)); } break;
      case AT_LEAST: { let sm = 0, su = 0, rm = 0, ru = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]; const b = rv[j]; if (a === 2) sm++; else if (a === 1) su++; if (b === 2) rm++; else if (b === 1) ru++; } const nn = n[i]!; s = sm >= nn ? 2 : sm + su < nn ? 0 : 1; r = rm >= nn ? 2 : rm + ru < nn ? 0 : 1; break; }
      default: { const t = target[i]!; if (t < 0) s = r = LU; else { s = sv[t]!; r = rv[t]!; } }
    }
    slv[i] = s; rlv[i] = r;
    const c = cond[i]!;
    if (c >= 0) { const cv = qv[c] as Tri; s = and(s as Tri, cv); r = and(r as Tri, cv); }
    const nq = note[i]!;
    if (nq >= 0) { const nv = qv[nq] as Tri; r = neg[i] === 1 ? and(r as Tri, not(nv)) : or(r as Tri, nv); }
    sv[i] = s; rv[i] = r;
  }
}
function run17(_cp: unknown, program: Int32Array, _rel: boolean): void {
  const { qv, sv, rv, slv, rlv } = cp.scratch;
  const { kind, q, cond, note, n, neg, target, kidStart, kidEnd, kids } = cp;
  for (let p = 0; p < program.length; p++) {
    const i = program[p]!;
    let s: number; let r: number;
    const k = kind[i]!;
    switch (k) {
      case 0: s = r = qv[q[i]!]!; break;
      case 1: s = r = LT; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, sv[j] as Tri); r = and(r as Tri, rv[j] as Tri); } break;
      case 2: s = r = LF; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = or(s as Tri, sv[j] as Tri); r = or(r as Tri, rv[j] as Tri); } break;
      case 3: s = r = LT; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; s = and(s as Tri, not(sv[j] as Tri)); r = and(r as Tri, not(rv[j] as Tri)); } break;
      case 4: { let sm = 0, su = 0, rm = 0, ru = 0; for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) { const j = kids[c]!; const a = sv[j]; const b = rv[j]; if (a === 2) sm++; else if (a === 1) su++; if (b === 2) rm++; else if (b === 1) ru++; } const nn = n[i]!; s = sm >= nn ? 2 : sm + su < nn ? 0 : 1; r = rm >= nn ? 2 : rm + ru < nn ? 0 : 1; break; }
      case 5: { const t = target[i]!; if (t < 0) s = r = LU; else { s = sv[t]!; r = rv[t]!; } break; }
      default: unreachable2(k as never);
    }
    slv[i] = s; rlv[i] = r;
    const c = cond[i]!;
    if (c >= 0) { const cv = qv[c] as Tri; s = and(s as Tri, cv); r = and(r as Tri, cv); }
    const nq = note[i]!;
    if (nq >= 0) { const nv = qv[nq] as Tri; r = neg[i] === 1 ? and(r as Tri, not(nv)) : or(r as Tri, nv); }
    sv[i] = s; rv[i] = r;
  }
}
function unreachable2(k: never): never { throw new Error(`x ${String(k)}`); }
const mins = new Array(17).fill(1e9);
for (let r = 0; r < 30; r++) {
  let t0 = performance.now();
  for (let k = 0; k < 2e5; k++) run(cp, sec.program, true);
  const full = (performance.now() - t0);
  t0 = performance.now();
  for (let k = 0; k < 2e5; k++) run2(sec.program);
  const full2 = (performance.now() - t0);
  t0 = performance.now();
  for (let k = 0; k < 2e5; k++) run3(sec.program);
  const full3 = (performance.now() - t0);
  t0 = performance.now();
  for (let k = 0; k < 2e5; k++) run4(sec.program);
  const full4 = (performance.now() - t0);
  for (const [ix, f] of [[4, run5], [5, run6], [6, run7], [7, run8], [8, run9], [9, run10], [10, run11], [11, run12], [12, run13], [13, run14], [14, run15], [15, run16], [16, run17]] as const) { t0 = performance.now(); for (let k = 0; k < 2e5; k++) f(cp, sec.program, true); mins[ix] = Math.min(mins[ix]!, performance.now() - t0); }
  mins[0] = Math.min(mins[0]!, full); mins[1] = Math.min(mins[1]!, full2); mins[2] = Math.min(mins[2]!, full3); mins[3] = Math.min(mins[3]!, full4);
}
console.log("min ms per 200k: run, inline+literals, tri fns+literals, inline+imported consts, run-copy, run-literal-kinds, +literal-TFU, -default, -atLeast, run3+tri cond/note, +Tri typing/consts/atLeast, 10+TFU, 10+atLeast, 10+casts, 10+local consts, 15+imported kinds, 15+explicit REF+default throw", mins.map((x) => x.toFixed(0)));
