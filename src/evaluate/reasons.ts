/**
 * Reasons (SPEC 2.2 `denied`): exactly the criteria that failed — a failed leaf; for a `none`, the
 * contraindications present; for a group whose own condition is false, that condition; for a failed
 * `any`, the failures in its branches whose condition holds or is unknown, or, where every branch's
 * condition is false, those conditions. Each question once, at its canonical id. Short of a decision
 * (`pended`, `review`), the failures so far — not those of an `any` one of whose branches is met.
 */
import type { Reason } from "../model/index.js";
import type { CompiledPolicy, NodeKind } from "./compile.js";
import * as K from "./compile.js";
import { nextEpoch } from "./run.js";
import * as Tri3 from "./tri.js";
import { not, type Tri } from "./tri.js";

// Module-local copies of imported constants (see run.ts: imported bindings are slower to read).
const { F, T, U } = Tri3;
const { LEAF, ALL, ANY, NONE, AT_LEAST, REF } = K;

interface ReasonCtx {
  cp: CompiledPolicy;
  vals: Int8Array;
  out: Reason[];
  epoch: number;
  /** Reasons found, counting those already reported (to tell "none below" from "reported before"). */
  hits: number;
  seenNodes?: Set<number>;
}

export function collectReasons(cp: CompiledPolicy, root: number, vals: Int8Array, out: Reason[]): void {
  const ctx: ReasonCtx = { cp, vals, out, epoch: nextEpoch(cp), hits: 0 };
  const v = vals[root] as Tri;
  if (v === F) failed(ctx, root);
  else if (v === U) soFar(ctx, root);
}

/** The value of node `i` as a requirement: for a statement under `none`, met means absent. */
export function req(cp: CompiledPolicy, vals: Int8Array, i: number): Tri {
  const v = vals[i] as Tri;
  return cp.neg[i] === 1 ? not(v) : v;
}

function pushQuestion(ctx: ReasonCtx, q: number, status: Reason["status"]): void {
  const { qmark } = ctx.cp.scratch;
  ctx.hits++;
  if (qmark[q] === ctx.epoch) return;
  qmark[q] = ctx.epoch;
  ctx.out.push(ctx.cp.reasonOfQuestion[2 * q + (status === "present" ? 1 : 0)]!);
}

function pushNode(ctx: ReasonCtx, i: number, status: Reason["status"]): void {
  ctx.hits++;
  ctx.seenNodes ??= new Set();
  if (ctx.seenNodes.has(i)) return;
  ctx.seenNodes.add(i);
  ctx.out.push(ctx.cp.reasonOfNode[2 * i + (status === "present" ? 1 : 0)]!);
}

/** Reasons of node `i`, whose requirement is not met. */
function failed(ctx: ReasonCtx, i: number): void {
  const { cp, vals } = ctx;
  const k = cp.kind[i] as NodeKind;
  const { kidStart, kidEnd, kids } = cp;
  if (cp.neg[i] === 1) {
    // A statement under `none` that holds: the contraindications present.
    switch (k) {
      case LEAF:
        pushQuestion(ctx, cp.q[i]!, "present");
        return;
      case REF:
        pushNode(ctx, i, "present");
        return;
      case ALL:
      case ANY:
      case NONE:
      case AT_LEAST: {
        const before = ctx.hits;
        for (let c = kidStart[i]!; c < kidEnd[i]!; c++) {
          const j = kids[c]!;
          if (req(cp, vals, j) === F) failed(ctx, j);
        }
        // A statement that holds vacuously ("at least 0 of"): the group itself is the reason.
        if (ctx.hits === before) pushNode(ctx, i, "present");
        return;
      }
      default: {
        const never: never = k;
        throw new Error(`unknown node kind ${never}`);
      }
    }
  }
  const c = cp.cond[i]!;
  if (c >= 0 && cp.scratch.qv[c] === F) {
    // A group whose own condition is false: the condition itself is the reason, not its children.
    pushQuestion(ctx, c, "not-met");
    return;
  }
  switch (k) {
    case LEAF:
      pushQuestion(ctx, cp.q[i]!, "not-met");
      return;
    case REF: {
      const t = cp.target[i]!;
      if (t < 0) pushNode(ctx, i, "not-met");
      else failed(ctx, t);
      return;
    }
    case ALL:
    case NONE:
    case AT_LEAST: {
      const before = ctx.hits;
      for (let c2 = kidStart[i]!; c2 < kidEnd[i]!; c2++) {
        const j = kids[c2]!;
        if (req(cp, vals, j) === F) failed(ctx, j);
      }
      if (ctx.hits === before) pushNode(ctx, i, "not-met");
      return;
    }
    case ANY:
      failedBranches(ctx, i);
      return;
    default: {
      const never: never = k;
      throw new Error(`unknown node kind ${never}`);
    }
  }
}

/** Whether branch `j` of an `any` applies: it has no condition of its own, or it is not false. */
function applies(cp: CompiledPolicy, j: number): boolean {
  const c = cp.cond[j]!;
  return c < 0 || cp.scratch.qv[c] !== F;
}

/**
 * A failed `any` (SPEC 2.2): the failures inside its branches whose own condition holds or is
 * unknown, or, where every branch's condition is false, those conditions.
 */
function failedBranches(ctx: ReasonCtx, i: number): void {
  const { cp } = ctx;
  let anyApplies = false;
  for (let c = cp.kidStart[i]!; c < cp.kidEnd[i]!; c++) {
    const j = cp.kids[c]!;
    if (applies(cp, j)) {
      anyApplies = true;
      failed(ctx, j);
    }
  }
  if (!anyApplies) for (let c = cp.kidStart[i]!; c < cp.kidEnd[i]!; c++) failed(ctx, cp.kids[c]!);
}

/** Failures so far under node `i`, whose requirement is still unknown (for `pended` and `review`). */
function soFar(ctx: ReasonCtx, i: number): void {
  const { cp, vals } = ctx;
  if (cp.neg[i] === 1) return;
  const k = cp.kind[i] as NodeKind;
  switch (k) {
    case LEAF:
    case NONE:
      return;
    case REF: {
      const t = cp.target[i]!;
      if (t >= 0) soFar(ctx, t);
      return;
    }
    case ALL:
    case ANY:
    case AT_LEAST:
      // An `any` with a branch met is unknown only by its own condition: its other branches' failures
      // are not why it is unmet (a provider would read "AHI 5–14: not met" beside "AHI ≥ 15: met").
      if (k === ANY)
        for (let c = cp.kidStart[i]!; c < cp.kidEnd[i]!; c++)
          if (req(cp, vals, cp.kids[c]!) === T && applies(cp, cp.kids[c]!)) return;
      for (let c = cp.kidStart[i]!; c < cp.kidEnd[i]!; c++) {
        const j = cp.kids[c]!;
        const v = req(cp, vals, j);
        if (v === U) soFar(ctx, j);
        else if (v === F && (k !== ANY || applies(cp, j))) failed(ctx, j);
      }
      return;
    default: {
      const never: never = k;
      throw new Error(`unknown node kind ${never}`);
    }
  }
}
