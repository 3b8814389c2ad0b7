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

const { F, U, T } = Tri3;
const { LEAF, ALL, ANY, NONE, AT_LEAST, REF } = K;

/** Diagram node numbers: 0 is false, 1 is true; others index `v` / `lo` / `hi`. */
const FALSE = 0;
const TRUE = 1;
/** At most 2^21 nodes: far beyond any policy's section. */
const NODE_BITS = 2097152;

class Diagrams {
  v: Int32Array = new Int32Array(256);
  lo: Int32Array = new Int32Array(256);
  hi: Int32Array = new Int32Array(256);
  n = 2;
  /**
   * The unique table: open addressing over node numbers, a slot live when its stamp is this call's
   * (so a new call starts empty without clearing). Exact: every node is found again.
   */
  private slots = new Int32Array(1024);
  private stamps = new Int32Array(1024);
  /** The computed table: direct-mapped and lossy (a miss only recomputes), stamped the same way. */
  private readonly cOp = new Int32Array(4096);
  private readonly cA = new Int32Array(4096);
  private readonly cB = new Int32Array(4096);
  private readonly cR = new Int32Array(4096);
  private readonly cStamp = new Int32Array(4096);
  private gen = 0;

  reset(): void {
    this.n = 2;
    if (this.gen === 0x7fffffff) {
      this.gen = 0;
      this.stamps.fill(0);
      this.cStamp.fill(0);
    }
    this.gen++;
  }

  /** The node testing question `q` (then `hi`, else `lo`), shared and reduced. */
  mk(q: number, lo: number, hi: number): number {
    if (lo === hi) return lo;
    const mask = this.slots.length - 1;
    let i = (Math.imul(q, 0x9e3779b1) ^ Math.imul(lo, 0x85ebca77) ^ Math.imul(hi, 0xc2b2ae3d)) & mask;
    for (;;) {
      if (this.stamps[i] !== this.gen) break;
      const id = this.slots[i]!;
      if (this.v[id] === q && this.lo[id] === lo && this.hi[id] === hi) return id;
      i = (i + 1) & mask;
    }
    if (this.n >= NODE_BITS) throw new RangeError("decision diagram too large");
    if (this.n === this.v.length) this.grow();
    const id = this.n++;
    this.v[id] = q;
    this.lo[id] = lo;
    this.hi[id] = hi;
    this.slots[i] = id;
    this.stamps[i] = this.gen;
    // At half full, a table twice the size (every live node re-entered).
    if (2 * (this.n - 2) > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const size = this.slots.length * 2;
    this.slots = new Int32Array(size);
    this.stamps = new Int32Array(size);
    const mask = size - 1;
    for (let id = 2; id < this.n; id++) {
      let i =
        (Math.imul(this.v[id]!, 0x9e3779b1) ^
          Math.imul(this.lo[id]!, 0x85ebca77) ^
          Math.imul(this.hi[id]!, 0xc2b2ae3d)) &
        mask;
      while (this.stamps[i] === this.gen) i = (i + 1) & mask;
      this.slots[i] = id;
      this.stamps[i] = this.gen;
    }
  }

  /** A remembered result of `op` on `a`, `b` (op 0 not, 1 or, 2 and), or -1. */
  private cached(op: number, a: number, b: number): number {
    const i = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77) ^ op) & 4095;
    return this.cStamp[i] === this.gen && this.cOp[i] === op && this.cA[i] === a && this.cB[i] === b
      ? this.cR[i]!
      : -1;
  }

  private remember(op: number, a: number, b: number, r: number): void {
    const i = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77) ^ op) & 4095;
    this.cStamp[i] = this.gen;
    this.cOp[i] = op;
    this.cA[i] = a;
    this.cB[i] = b;
    this.cR[i] = r;
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
    const found = this.cached(0, a, 0);
    if (found >= 0) return found;
    const r = this.mk(this.v[a]!, this.not(this.lo[a]!), this.not(this.hi[a]!));
    this.remember(0, a, 0, r);
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
    const op = or ? 1 : 2;
    const found = this.cached(op, a, b);
    if (found >= 0) return found;
    const va = this.v[a]!;
    const vb = this.v[b]!;
    const q = Math.min(va, vb);
    const a0 = va === q ? this.lo[a]! : a;
    const a1 = va === q ? this.hi[a]! : a;
    const b0 = vb === q ? this.lo[b]! : b;
    const b1 = vb === q ? this.hi[b]! : b;
    const r = this.mk(q, this.apply(or, a0, b0), this.apply(or, a1, b1));
    this.remember(op, a, b, r);
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
 * depends on and bit 2 for those its relaxed value depends on, given the answers in `cp.scratch.qv`
 * and the node values the section's evaluation left in `cp.scratch` (run.ts).
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
  const { sv, rv } = cp.scratch;
  const node = (i: number): void => {
    // A node the three-valued evaluation decided is that constant under every completion: its
    // diagram needs no children (most of a section, once answers come in).
    const s0 = sv[i];
    const r0 = rv[i];
    if (s0 !== U && r0 !== U) {
      sb[i] = s0 === T ? TRUE : FALSE;
      rb[i] = r0 === T ? TRUE : FALSE;
      return;
    }
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
    sb[i] = s0 === U ? s : s0 === T ? TRUE : FALSE;
    rb[i] = r0 === U ? r : r0 === T ? TRUE : FALSE;
  };
  for (const i of sec.leaves) node(i);
  for (const i of sec.groups) node(i);
  const seen = new Uint8Array(d.n);
  d.support(sb[sec.root]!, marks, 1, seen);
  seen.fill(0);
  d.support(rb[sec.root]!, marks, 2, seen);
}
