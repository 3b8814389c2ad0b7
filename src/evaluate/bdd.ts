/**
 * Exact `needed` for an entangled section (SPEC 2.2): the section's strict and relaxed values as
 * reduced ordered binary decision diagrams over its open questions, given the known answers. A
 * question can change the outcome exactly when it can change one of the two values (the outcome is a
 * one-to-one function of the pair), that is, when it occurs in one of the two reduced diagrams. No
 * search and no budget: the diagrams of these policies' sections stay small (tens of nodes), since
 * known answers are constants and the questions are ordered as the document asks them.
 */
import type { CompiledPolicy, CompiledSection, NodeKind } from "./compile.js";
import * as K from "./compile.js";
import * as Tri3 from "./tri.js";

const F = Tri3.F;
const T = Tri3.T;
const LEAF = K.LEAF;
const ALL = K.ALL;
const ANY = K.ANY;
const NONE = K.NONE;
const AT_LEAST = K.AT_LEAST;
const REF = K.REF;

/** Diagram node numbers: 0 is false, 1 is true; others index `v` / `lo` / `hi`. */
const FALSE = 0;
const TRUE = 1;
/** Node numbers fit 21 bits in the table keys (2^21 nodes: far beyond any policy). */
const NODE_BITS = 2097152;

class Diagrams {
  v: Int32Array = new Int32Array(256);
  lo: Int32Array = new Int32Array(256);
  hi: Int32Array = new Int32Array(256);
  n = 2;
  private readonly unique = new Map<number, number>();
  private readonly memo = new Map<number, number>();

  reset(): void {
    this.n = 2;
    this.unique.clear();
    this.memo.clear();
  }

  /** The node testing question `q` (then `hi`, else `lo`), shared and reduced. */
  mk(q: number, lo: number, hi: number): number {
    if (lo === hi) return lo;
    const key = (q * NODE_BITS + lo) * NODE_BITS + hi;
    const found = this.unique.get(key);
    if (found !== undefined) return found;
    if (this.n >= NODE_BITS) throw new RangeError("decision diagram too large");
    if (this.n === this.v.length) this.grow();
    const id = this.n++;
    this.v[id] = q;
    this.lo[id] = lo;
    this.hi[id] = hi;
    this.unique.set(key, id);
    return id;
  }

  private grow(): void {
    const size = this.v.length * 2;
    for (const k of ["v", "lo", "hi"] as const) {
      const a = new Int32Array(size);
      a.set(this[k]);
      this[k] = a;
    }
  }

  variable(q: number): number {
    return this.mk(q, FALSE, TRUE);
  }

  not(a: number): number {
    if (a <= TRUE) return 1 - a;
    const key = -1 - a;
    const found = this.memo.get(key);
    if (found !== undefined) return found;
    const r = this.mk(this.v[a]!, this.not(this.lo[a]!), this.not(this.hi[a]!));
    this.memo.set(key, r);
    return r;
  }

  /** `a ∧ b` (`or`: false) or `a ∨ b` (`or`: true). */
  apply(or: boolean, a: number, b: number): number {
    const absorb = or ? TRUE : FALSE;
    const unit = or ? FALSE : TRUE;
    if (a === absorb || b === absorb) return absorb;
    if (a === unit) return b;
    if (b === unit || a === b) return a;
    if (a > b) {
      const t = a;
      a = b;
      b = t;
    }
    const key = ((or ? 1 : 2) * NODE_BITS + a) * NODE_BITS + b;
    const found = this.memo.get(key);
    if (found !== undefined) return found;
    const va = this.v[a]!;
    const vb = this.v[b]!;
    const q = Math.min(va, vb);
    const a0 = va === q ? this.lo[a]! : a;
    const a1 = va === q ? this.hi[a]! : a;
    const b0 = vb === q ? this.lo[b]! : b;
    const b1 = vb === q ? this.hi[b]! : b;
    const r = this.mk(q, this.apply(or, a0, b0), this.apply(or, a1, b1));
    this.memo.set(key, r);
    return r;
  }

  /** At least `n` of `xs` hold. */
  atLeast(n: number, xs: readonly number[]): number {
    // row[k]: at least k of the children from i on; built from the last child backwards.
    let row: number[] = [];
    for (let k = 0; k <= n; k++) row.push(k === 0 ? TRUE : FALSE);
    for (let i = xs.length - 1; i >= 0; i--) {
      const x = xs[i]!;
      const next = [TRUE];
      for (let k = 1; k <= n; k++) {
        next.push(
          this.apply(true, this.apply(false, x, row[k - 1]!), this.apply(false, this.not(x), row[k]!)),
        );
      }
      row = next;
    }
    return row[n]!;
  }

  /** Marks (`bit` in `marks`, per question) every question the diagram `root` tests. */
  support(root: number, marks: Uint8Array, bit: number, seen: Uint8Array): void {
    const stack = [root];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (x <= TRUE || seen[x] === 1) continue;
      seen[x] = 1;
      marks[this.v[x]!]! |= bit;
      stack.push(this.lo[x]!, this.hi[x]!);
    }
  }
}

const shared = new WeakMap<CompiledPolicy, Diagrams>();

/**
 * Marks in `marks` (indexed by question) bit 1 for every open question the section's strict value
 * depends on and bit 2 for those its relaxed value depends on, given the answers in `cp.scratch.qv`.
 */
export function dependsOn(cp: CompiledPolicy, sec: CompiledSection, marks: Uint8Array): void {
  let d = shared.get(cp);
  if (d === undefined) {
    d = new Diagrams();
    shared.set(cp, d);
  }
  d.reset();
  const { qv } = cp.scratch;
  const { kind, q, cond, note, n, neg, target, kidStart, kidEnd, kids } = cp;
  const nn = kind.length;
  let phantom = cp.questions.length;
  const sb = new Int32Array(nn);
  const rb = new Int32Array(nn);
  const question = (x: number): number => {
    const v = qv[x];
    return v === T ? TRUE : v === F ? FALSE : d.variable(x);
  };
  const node = (i: number): void => {
    let s: number;
    let r: number;
    const k = kind[i] as NodeKind;
    switch (k) {
      case LEAF:
        s = r = question(q[i]!);
        break;
      case ALL:
      case ANY:
      case NONE: {
        const or = k === ANY;
        s = r = or ? FALSE : TRUE;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const j = kids[c]!;
          s = d.apply(or, s, k === NONE ? d.not(sb[j]!) : sb[j]!);
          r = d.apply(or, r, k === NONE ? d.not(rb[j]!) : rb[j]!);
        }
        break;
      }
      case AT_LEAST: {
        const ss: number[] = [];
        const rs: number[] = [];
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          ss.push(sb[kids[c]!]!);
          rs.push(rb[kids[c]!]!);
        }
        s = d.atLeast(n[i]!, ss);
        r = d.atLeast(n[i]!, rs);
        break;
      }
      case REF: {
        const t = target[i]!;
        if (t >= 0) {
          s = sb[t]!;
          r = rb[t]!;
        } else {
          // An unresolvable reference is unknown for ever (compile.ts issues): a value no answer sets,
          // tested after every question.
          s = r = d.variable(phantom++);
        }
        break;
      }
      default: {
        const never: never = k;
        throw new Error(`unknown node kind ${String(never)}`);
      }
    }
    const c = cond[i]!;
    if (c >= 0) {
      const cv = question(c);
      s = d.apply(false, s, cv);
      r = d.apply(false, r, cv);
    }
    const nq = note[i]!;
    if (nq >= 0) {
      // As run.ts: "counts as met" — for a statement under `none`, absent.
      const nv = question(nq);
      r = neg[i] === 1 ? d.apply(false, r, d.not(nv)) : d.apply(true, r, nv);
    }
    sb[i] = s;
    rb[i] = r;
  };
  for (const i of sec.leaves) node(i);
  for (const i of sec.groups) node(i);
  const seen = new Uint8Array(d.n);
  d.support(sb[sec.root]!, marks, 1, seen);
  seen.fill(0);
  d.support(rb[sec.root]!, marks, 2, seen);
}
