import { compile, evaluateSection } from "../src/evaluate/index.js";
import { run } from "../src/evaluate/run.js";
import { and, or, not, type Tri } from "../src/evaluate/tri.js";
import { LEAF, ALL, ANY, NONE, AT_LEAST } from "../src/evaluate/compile.js";
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
const mins = [1e9, 1e9, 1e9, 1e9];
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
  mins[0] = Math.min(mins[0]!, full); mins[1] = Math.min(mins[1]!, full2); mins[2] = Math.min(mins[2]!, full3); mins[3] = Math.min(mins[3]!, full4);
}
console.log("min ms per 200k: run, inline+literals, tri fns+literals, inline+imported consts", mins.map((x) => x.toFixed(0)));
