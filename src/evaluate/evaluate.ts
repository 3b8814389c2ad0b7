/**
 * Evaluation of one section of a compiled policy on one case (SPEC 2.2): three-valued, strict and
 * relaxed (notes), with reasons, needed questions and an optional trace. Pure: the result depends
 * only on the compiled policy and the input; the per-policy scratch buffers are overwritten on every
 * call and never escape.
 */
import {
  type Facts,
  InputError,
  type Needed,
  NotFoundError,
  type Reason,
  type Source,
  type TraceNode,
} from "../model/index.js";
import {
  ALL,
  AT_LEAST,
  ANY,
  type CompiledPolicy,
  type CompiledSection,
  LEAF,
  NONE,
  type NodeKind,
  REF,
} from "./compile.js";
import { parseDay } from "./dates.js";
import { and, atLeast, F, isDecided, not, or, T, type Tri, toStatus, U } from "./tri.js";

export interface SectionInput {
  /** Criterion id → the statement holds (SPEC 2.1). */
  answers: Record<string, boolean>;
  facts: Facts;
  /** `YYYY-MM-DD`; dates in facts are compared with it (SPEC 2.3). */
  dateOfService: string;
}

export type SectionOutcome = "approved" | "review" | "denied" | "pended";

export interface SectionResult {
  outcome: SectionOutcome;
  reasons: Reason[];
  needed: Needed[];
  trace?: TraceNode;
}

export interface EvaluateOptions {
  /** Build the trace (SPEC 2.2); off by default, and then evaluation allocates almost nothing. */
  trace?: boolean;
  /** Compute `needed` for pended and review outcomes; on by default. */
  needed?: boolean;
  /**
   * An answer id this policy does not know: `ignore` (default) leaves it to the caller, who checks a
   * case's answers against every policy its codes resolve to (`answerableIds`, SPEC 2.1) — a case may
   * span two policies; `reject` throws `InputError` naming it.
   */
  unknownIds?: "ignore" | "reject";
}

/** The two answers to a question, met first. */
const BOTH: readonly Tri[] = [T, F];

const COMPUTED: Source = Object.freeze({ kind: "computed" });
const NO_SOURCE: Source = Object.freeze({ kind: "none" });

/**
 * Evaluates section `sectionId` on a case (SPEC 2.2):
 * - `approved` when the criteria are met; `review` when not met or unknown only because of
 *   criteria whose `review` note holds (taken as met, the section is met); `denied` when not met
 *   even so; `pended` otherwise.
 * - `reasons`: for `denied`, exactly the failed criteria (those a holding note waives are not
 *   among them); for `review` and `pended`, the criteria already failed, including waived ones.
 * - `needed`: for `pended` and `review`, the unknown questions whose answer can still change the
 *   outcome (for `review` that is what could make it `approved`), each once at its canonical id,
 *   those a single answer to which makes the outcome final first, then those that end `pended`,
 *   then document order.
 *
 * Throws `InputError` for an answer that is not a boolean, two ids of one question answered
 * differently (SPEC 2.2 "One question, several places"), an id the policy does not know (with
 * `unknownIds: "reject"`), or an invalid date of service (when predicates compare dates);
 * `NotFoundError` for a section without criteria.
 */
export function evaluateSection(
  cp: CompiledPolicy,
  sectionId: string,
  input: SectionInput,
  opts: EvaluateOptions = {},
): SectionResult {
  const sec = cp.sections.get(sectionId);
  if (sec === undefined) {
    throw new NotFoundError(`section ${sectionId} of ${cp.version.identity.id} has no criteria to evaluate`, {
      policy: cp.version.identity.id,
      version: cp.version.identity.version,
      criterion: sectionId,
    });
  }
  loadQuestions(cp, input, opts.unknownIds === "reject");
  run(cp, sec.program, sec.relaxed);
  const s = cp.scratch;
  const strict = s.sv[sec.root] as Tri;
  const relaxed = s.rv[sec.root] as Tri;
  const outcome: SectionOutcome = strict === T ? "approved" : relaxed === T ? "review" : relaxed === F ? "denied" : "pended";

  const reasons: Reason[] = [];
  if (outcome === "denied") collectReasons(cp, sec.root, s.rv, reasons);
  else if (outcome !== "approved") collectReasons(cp, sec.root, s.sv, reasons);

  const result: SectionResult = { outcome, reasons, needed: [] };
  if (opts.trace === true) result.trace = buildTrace(cp, sec.root);
  if ((outcome === "pended" || outcome === "review") && opts.needed !== false) {
    result.needed = collectNeeded(cp, sec);
  }
  return result;
}

/** Fills the question values from answers (which win) and facts. */
function loadQuestions(cp: CompiledPolicy, input: SectionInput, rejectUnknown: boolean): void {
  const { qv, qsrc, qby } = cp.scratch;
  qv.fill(U);
  qsrc.fill(0);
  const answers = input.answers;
  let issues: { message: string; where: { field: string; criterion: string } }[] | undefined;
  for (const id in answers) {
    const entry = cp.answerEntries.get(id);
    const a = answers[id];
    // A key present with `undefined` (possible from JavaScript callers, never from JSON) is missing.
    if (a === undefined) continue;
    if (entry === undefined || typeof a !== "boolean") {
      if (entry === undefined && !rejectUnknown) continue;
      issues ??= [];
      issues.push(answerIssue(cp, id, a));
      continue;
    }
    const q = entry.q;
    const v: Tri = a ? T : F;
    if (qsrc[q] === 1) {
      if (qv[q] !== v) {
        issues ??= [];
        const other = qby[q]!.id;
        issues.push({
          message:
            `answers ${other} and ${id} are one question ("${cp.questions[q]!.text}") ` +
            `but were answered ${qv[q] === T} and ${a}`,
          where: { field: `answers.${id}`, criterion: id },
        });
      }
      continue;
    }
    qv[q] = v;
    qsrc[q] = 1;
    qby[q] = entry.source;
  }
  if (issues !== undefined) {
    const first = issues[0]!;
    throw new InputError(
      issues.length === 1 ? first.message : `${first.message} (and ${issues.length - 1} more)`,
      { policy: cp.version.identity.id, version: cp.version.identity.version, ...first.where },
      issues,
    );
  }
  const fq = cp.factQuestions;
  if (fq.length === 0) return;
  let dos = 0;
  if (cp.usesDates) {
    const d = parseDay(input.dateOfService);
    if (d === undefined) {
      throw new InputError(`dateOfService must be a date YYYY-MM-DD, got ${JSON.stringify(input.dateOfService)}`, {
        field: "service.dateOfService",
      });
    }
    dos = d;
  }
  const facts = input.facts ?? {};
  for (let k = 0; k < fq.length; k++) {
    const q = fq[k]!;
    if (qsrc[q] !== 0) continue;
    const v = cp.factTests[k]!(facts, dos);
    if (v !== U) {
      qv[q] = v;
      qsrc[q] = 2;
    }
  }
}

function answerIssue(cp: CompiledPolicy, id: string, a: unknown) {
  const where = { field: `answers.${id}`, criterion: id };
  if (cp.answerIndex.has(id)) return { message: `answers.${id} must be true or false`, where };
  const node = cp.nodes.find((n) => n.id === id);
  if (node !== undefined) {
    return {
      message: `answers.${id}: ${id} is a group whose result is computed; it has no condition of its own to answer`,
      where,
    };
  }
  return { message: `answers.${id}: ${cp.version.identity.id} has no criterion ${id}`, where };
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
        s = T;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) s = and(s, sv[kids[c]!] as Tri);
        break;
      case ANY:
        s = F;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) s = or(s, sv[kids[c]!] as Tri);
        break;
      case NONE:
        s = T;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) s = and(s, not(sv[kids[c]!] as Tri));
        break;
      case AT_LEAST: {
        let met = 0;
        let unknown = 0;
        for (let c = kidStart[i]!, e = kidEnd[i]!; c < e; c++) {
          const a = sv[kids[c]!];
          if (a === T) met++;
          else if (a === U) unknown++;
        }
        s = atLeast(n[i]!, met, unknown);
        break;
      }
      case REF: {
        const t = target[i]!;
        s = t < 0 ? U : (sv[t] as Tri);
        break;
      }
      default: {
        const never: never = k;
        throw new Error(`unknown node kind ${never}`);
      }
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
function run(cp: CompiledPolicy, program: Int32Array, relaxed: boolean): void {
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

function nextEpoch(cp: CompiledPolicy): number {
  const s = cp.scratch;
  if (s.epoch >= 0xfffffffe) {
    s.epoch = 0;
    s.qmark.fill(0);
    s.qwalk.fill(0);
    s.nmark.fill(0);
  }
  return ++s.epoch;
}

// ---------------------------------------------------------------------------------------------
// Reasons (SPEC 2.2 `denied`)

interface ReasonCtx {
  cp: CompiledPolicy;
  vals: Int8Array;
  out: Reason[];
  epoch: number;
  /** Reasons found, counting those already reported (to tell "none below" from "reported before"). */
  hits: number;
  seenNodes?: Set<number>;
}

function collectReasons(cp: CompiledPolicy, root: number, vals: Int8Array, out: Reason[]): void {
  const ctx: ReasonCtx = { cp, vals, out, epoch: nextEpoch(cp), hits: 0 };
  const v = vals[root] as Tri;
  if (v === F) failed(ctx, root);
  else if (v === U) soFar(ctx, root);
}

/** The value of node `i` as a requirement: for a statement under `none`, met means absent. */
function req(cp: CompiledPolicy, vals: Int8Array, i: number): Tri {
  const v = vals[i] as Tri;
  return cp.neg[i] === 1 ? not(v) : v;
}

function pushQuestion(ctx: ReasonCtx, q: number, status: Reason["status"]): void {
  const { qmark } = ctx.cp.scratch;
  ctx.hits++;
  if (qmark[q] === ctx.epoch) return;
  qmark[q] = ctx.epoch;
  const question = ctx.cp.questions[q]!;
  ctx.out.push({ criterion: question.id, text: question.text, status });
}

function pushNode(ctx: ReasonCtx, i: number, status: Reason["status"]): void {
  ctx.hits++;
  ctx.seenNodes ??= new Set();
  if (ctx.seenNodes.has(i)) return;
  ctx.seenNodes.add(i);
  const node = ctx.cp.nodes[i]!;
  ctx.out.push({ criterion: node.id, text: node.text, status });
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

// ---------------------------------------------------------------------------------------------
// Needed (SPEC 2.2 `pended`)

interface NeededCtx {
  cp: CompiledPolicy;
  vals: Int8Array;
  logic: Int8Array;
  relaxed: boolean;
  nepoch: number;
  /** Unknown questions on undecided paths, in the order met. */
  found: number[];
  /** Whether a question or a node was met twice: the undecided part is not read-once. */
  entangled: boolean;
}

/** Evaluations a witness search may spend per case before keeping the safe over-approximation. */
const WITNESS_BUDGET = 4096;

/**
 * The unknown questions whose answer can still change the outcome (SPEC 2.2 `needed`): those that
 * can change the strict or the relaxed value of the section (the outcome is a one-to-one function
 * of the pair). For each, the candidates are the unknown questions on a path of undecided nodes
 * from the root; where that undecided part is read-once this is exact (an undecided threshold gate
 * can be tipped by each undecided input). Where a question or a referenced section occurs twice on
 * undecided paths, each candidate is confirmed by searching for answers to the other candidates
 * under which it alone flips the value — pruned by three-valued evaluation, within a budget beyond
 * which the candidate is kept (never miss a needed question).
 */
function collectNeeded(cp: CompiledPolicy, sec: CompiledSection): Needed[] {
  const s = cp.scratch;
  const strict = walkMode(cp, sec, false);
  const relaxed = walkMode(cp, sec, true);
  const budget = { left: WITNESS_BUDGET };
  const qepoch = nextEpoch(cp);
  const found: number[] = [];
  for (const mode of [strict, relaxed]) {
    if (mode === undefined) continue;
    for (const q of mode.found) {
      if (s.qmark[q] === qepoch) continue;
      if (mode.entangled && !hasWitness(cp, sec, q, mode, budget)) continue;
      s.qmark[q] = qepoch;
      found.push(q);
    }
  }
  // A question dropped by the strict search may still be needed by the relaxed one: checked above
  // in turn, since `qmark` is only set for questions kept.
  if (found.length > 1) rank(cp, sec, found);
  const out: Needed[] = new Array(found.length);
  for (let k = 0; k < found.length; k++) {
    const question = cp.questions[found[k]!]!;
    out[k] = { criterion: question.id, text: question.text };
  }
  return out;
}

function walkMode(cp: CompiledPolicy, sec: CompiledSection, relaxed: boolean): NeededCtx | undefined {
  const s = cp.scratch;
  const vals = relaxed ? s.rv : s.sv;
  if (vals[sec.root] !== U) return undefined;
  const ctx: NeededCtx = {
    cp,
    vals,
    logic: relaxed ? s.rlv : s.slv,
    relaxed,
    nepoch: nextEpoch(cp),
    found: [],
    entangled: false,
  };
  walkNeeded(ctx, sec.root);
  return ctx;
}

function addNeeded(ctx: NeededCtx, q: number): void {
  const { qwalk } = ctx.cp.scratch;
  if (qwalk[q] === ctx.nepoch) {
    ctx.entangled = true;
    return;
  }
  qwalk[q] = ctx.nepoch;
  ctx.found.push(q);
}

/** Node `i` is undecided in the evaluation at hand. */
function walkNeeded(ctx: NeededCtx, i: number): void {
  const { cp, vals, logic } = ctx;
  const { nmark, qv } = cp.scratch;
  if (nmark[i] === ctx.nepoch) {
    ctx.entangled = true;
    return;
  }
  nmark[i] = ctx.nepoch;
  const nq = cp.note[i]!;
  const c = cp.cond[i]!;
  const lv = logic[i] as Tri;
  // The value after the condition, before the note.
  const inner = c >= 0 ? and(lv, qv[c] as Tri) : lv;
  if (ctx.relaxed && nq >= 0) {
    if (qv[nq] === U) addNeeded(ctx, nq);
    if (inner !== U) return;
  }
  if (c >= 0 && qv[c] === U) addNeeded(ctx, c);
  if (lv !== U) return;
  const k = cp.kind[i] as NodeKind;
  switch (k) {
    case LEAF:
      addNeeded(ctx, cp.q[i]!);
      return;
    case REF: {
      const t = cp.target[i]!;
      if (t >= 0) walkNeeded(ctx, t);
      return;
    }
    case ALL:
    case ANY:
    case NONE:
    case AT_LEAST:
      for (let c2 = cp.kidStart[i]!; c2 < cp.kidEnd[i]!; c2++) {
        const j = cp.kids[c2]!;
        if (vals[j] === U) walkNeeded(ctx, j);
      }
      return;
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

/**
 * Whether some answers to the other candidates make the value (strict or relaxed, per `mode`)
 * differ between `q` met and `q` not met. Depth-first over the candidates, pruned as soon as
 * three-valued evaluation shows both settings of `q` decide the same value. Leaves every answer
 * and node value as it found them.
 */
function hasWitness(
  cp: CompiledPolicy,
  sec: CompiledSection,
  q: number,
  mode: NeededCtx,
  budget: { left: number },
): boolean {
  const others = mode.found.filter((x) => x !== q);
  const vals = mode.vals;
  const root = sec.root;
  const { qv } = cp.scratch;
  const search = (k: number): boolean => {
    if (budget.left <= 0) return true;
    budget.left--;
    setQuestion(cp, sec, q, T);
    const a = vals[root] as Tri;
    setQuestion(cp, sec, q, F);
    const b = vals[root] as Tri;
    if (a !== U && b !== U) return a !== b;
    for (; k < others.length; k++) {
      const x = others[k]!;
      if (qv[x] !== U) continue;
      for (const v of BOTH) {
        setQuestion(cp, sec, x, v);
        const found = search(k + 1);
        if (found) {
          setQuestion(cp, sec, x, U);
          return true;
        }
      }
      setQuestion(cp, sec, x, U);
      return false;
    }
    // Every candidate answered and still undecided: cannot happen (the rest is decided); keep q.
    return true;
  };
  const result = search(0);
  setQuestion(cp, sec, q, U);
  return result;
}

/**
 * Orders needed questions most decisive first: those one answer to which makes the outcome final,
 * then those one answer to which ends `pended`, then the rest; document order within each.
 * Re-evaluates the section with each question set each way (cheap on the compiled arrays).
 */
function rank(cp: CompiledPolicy, sec: CompiledSection, found: number[]): void {
  const { qv, sv, rv } = cp.scratch;
  const root = sec.root;
  const score = new Int8Array(found.length);
  for (let k = 0; k < found.length; k++) {
    const q = found[k]!;
    const deps = sec.deps[q];
    if (deps === undefined) continue;
    let best = 0;
    for (const v of BOTH) {
      qv[q] = v;
      run(cp, deps, sec.relaxed);
      const s = sv[root] as Tri;
      const r = rv[root] as Tri;
      const sc = isDecided(s) && isDecided(r) ? 2 : isDecided(r) ? 1 : 0;
      if (sc > best) best = sc;
    }
    // Restore the evaluation for the next question.
    qv[q] = U;
    run(cp, deps, sec.relaxed);
    score[k] = best;
  }
  const order = found.map((q, k) => k);
  order.sort((a, b) => score[b]! - score[a]! || found[a]! - found[b]!);
  const sorted = order.map((k) => found[k]!);
  for (let k = 0; k < sorted.length; k++) found[k] = sorted[k]!;
}

// ---------------------------------------------------------------------------------------------
// Trace (SPEC 2.2 `trace`)

function questionSource(cp: CompiledPolicy, q: number): Source {
  const s = cp.scratch;
  switch (s.qsrc[q]) {
    case 1:
      return s.qby[q]!;
    case 2:
      return cp.factSources[q]!;
    default:
      return NO_SOURCE;
  }
}

function questionNode(
  cp: CompiledPolicy,
  id: string,
  kind: TraceNode["kind"],
  text: string,
  q: number,
  question: string | undefined,
  children: TraceNode[] | undefined,
): TraceNode {
  const t: TraceNode = {
    id,
    kind,
    text,
    status: toStatus(cp.scratch.qv[q] as Tri),
    source: questionSource(cp, q),
  };
  if (question !== undefined) t.question = question;
  if (children !== undefined) t.children = children;
  return t;
}

interface TraceCtx {
  cp: CompiledPolicy;
  /** The children of each referenced section's root, built once per evaluation and shared. */
  refChildren: Map<number, TraceNode[]> | undefined;
}

/**
 * The trace of the strict evaluation: every node with its status and source; a group's condition
 * and a criterion's note are child nodes of kind `condition` / `note`; a reference carries the
 * children of the section it refers to. For a statement under `none`, `met` means the
 * contraindication is present, as in the answers.
 */
function buildTrace(cp: CompiledPolicy, root: number): TraceNode {
  return traceOf({ cp, refChildren: undefined }, root);
}

function traceOf(ctx: TraceCtx, i: number): TraceNode {
  const { cp } = ctx;
  const info = cp.info[i]!;
  const nq = cp.anyNote[i]!;
  const k = cp.kind[i] as NodeKind;
  switch (k) {
    case LEAF: {
      const note =
        nq < 0 ? undefined : [questionNode(cp, info.noteId, "note", info.noteText, nq, info.noteQuestion, undefined)];
      return questionNode(cp, info.id, "leaf", info.text, cp.q[i]!, info.question, note);
    }
    case REF: {
      const t = cp.target[i]!;
      let children: TraceNode[] = [];
      if (t >= 0) {
        ctx.refChildren ??= new Map();
        let shared = ctx.refChildren.get(t);
        if (shared === undefined) {
          shared = traceOf(ctx, t).children ?? [];
          ctx.refChildren.set(t, shared);
        }
        children = shared;
      }
      return { id: info.id, kind: "ref", text: info.text, status: toStatus(cp.scratch.sv[i] as Tri), source: COMPUTED, children };
    }
    case ALL:
    case ANY:
    case NONE:
    case AT_LEAST: {
      const children: TraceNode[] = [];
      const c = cp.cond[i]!;
      if (c >= 0) children.push(questionNode(cp, info.id, "condition", info.condText, c, info.condQuestion, undefined));
      for (let c2 = cp.kidStart[i]!; c2 < cp.kidEnd[i]!; c2++) children.push(traceOf(ctx, cp.kids[c2]!));
      if (nq >= 0) children.push(questionNode(cp, info.noteId, "note", info.noteText, nq, info.noteQuestion, undefined));
      return {
        id: info.id,
        kind: info.traceKind,
        text: info.text,
        status: toStatus(cp.scratch.sv[i] as Tri),
        source: COMPUTED,
        children,
      };
    }
    default: {
      const never: never = k;
      throw new Error(`unknown node kind ${never}`);
    }
  }
}
