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
  type TraceNode,
} from "../model/index.js";
import type { CompiledPolicy, CompiledSection } from "./compile.js";
import { parseDay } from "./dates.js";
import { collectNeeded } from "./needed.js";
import { collectReasons } from "./reasons.js";
import { runSection } from "./run.js";
import { evaluationStats } from "./stats.js";
import { buildTrace } from "./trace.js";
import type { Tri } from "./tri.js";
import * as Tri3 from "./tri.js";

// Module-local copies of imported constants (see run.ts: imported bindings are slower to read).
const { F, U, T } = Tri3;

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
  /**
   * With `trace: true`. Read-only: nodes of questions and of groups over leaves are frozen and
   * shared between results (trace.ts); serialise or copy it, never change it.
   */
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
  /**
   * With `unknownIds: "ignore"`: called at the first answer id this policy does not know, before any
   * other problem of the input is reported; it may throw (`decide` reports unknown ids its own way,
   * SPEC 2.1, without a second pass over the answers).
   */
  onUnknownId?: (cp: CompiledPolicy, input: SectionInput) => void;
}

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
  const sec = sectionOf(cp, sectionId);
  loadQuestions(cp, input, opts.unknownIds === "reject", opts.trace === true, opts.onUnknownId);
  return resultOf(cp, sec, opts);
}

/**
 * As {@link evaluateSection} for several sections of one policy on one case (issue 13: each section
 * evaluated once per case, whatever the number of codes): the answers and facts are read once, then
 * each section is evaluated; results in the order of `sectionIds`, each equal to what
 * `evaluateSection` returns for it. Throws as `evaluateSection` does, before evaluating any section.
 */
export function evaluateSections(
  cp: CompiledPolicy,
  sectionIds: readonly string[],
  input: SectionInput,
  opts: EvaluateOptions = {},
): SectionResult[] {
  const secs: CompiledSection[] = [];
  for (const id of sectionIds) secs.push(sectionOf(cp, id));
  loadQuestions(cp, input, opts.unknownIds === "reject", opts.trace === true, opts.onUnknownId);
  const out: SectionResult[] = [];
  // Each section's program computes every node it reads, children first, from the loaded questions:
  // what an earlier section left in the node arrays is never read (a referenced section is recomputed).
  for (const sec of secs) out.push(resultOf(cp, sec, opts));
  return out;
}

function sectionOf(cp: CompiledPolicy, sectionId: string): CompiledSection {
  const sec = cp.sections.get(sectionId);
  if (sec === undefined) {
    throw new NotFoundError(`section ${sectionId} of ${cp.version.identity.id} has no criteria to evaluate`, {
      policy: cp.version.identity.id,
      version: cp.version.identity.version,
      criterion: sectionId,
    });
  }
  return sec;
}

/** Evaluates a section on the loaded questions: outcome, reasons, needed and the trace (SPEC 2.2). */
function resultOf(cp: CompiledPolicy, sec: CompiledSection, opts: EvaluateOptions): SectionResult {
  evaluationStats.sections++;
  runSection(cp, sec);
  const s = cp.scratch;
  const strict = s.sv[sec.root] as Tri;
  const relaxed = s.rv[sec.root] as Tri;
  const outcome: SectionOutcome =
    strict === T ? "approved" : relaxed === T ? "review" : relaxed === F ? "denied" : "pended";

  const reasons: Reason[] = [];
  if (outcome === "denied") {
    // The relaxed values take an unknown note as perhaps waiving its criterion (right for deciding
    // between `review` and `denied`); the reasons of a denial are the criteria that failed, and only a
    // note that holds waives one (SPEC 2.2; an audit found a failed criterion with an unanswered note,
    // and every failure in an `any` beside it, missing from the reasons).
    const open = sec.relaxed ? openNotes(cp, sec) : undefined;
    if (open !== undefined) {
      for (const q of open) s.qv[q] = F;
      runSection(cp, sec);
    }
    collectReasons(cp, sec.root, s.rv, reasons);
    if (open !== undefined) {
      for (const q of open) s.qv[q] = U;
      runSection(cp, sec);
    }
  } else if (outcome !== "approved") collectReasons(cp, sec.root, s.sv, reasons);

  const needed =
    (outcome === "pended" || outcome === "review") && opts.needed !== false ? collectNeeded(cp, sec) : [];
  const result: SectionResult = { outcome, reasons, needed };
  if (opts.trace === true) result.trace = buildTrace(cp, sec.root);
  return result;
}

/** The note questions of a section's program that are unknown on this case, or undefined where none is. */
function openNotes(cp: CompiledPolicy, sec: CompiledSection): number[] | undefined {
  const out: number[] = [];
  const { qv } = cp.scratch;
  for (const i of sec.program) {
    const nq = cp.note[i]!;
    if (nq >= 0 && qv[nq] === U && !out.includes(nq)) out.push(nq);
  }
  return out.length > 0 ? out : undefined;
}

/** Fills the question values from answers (which win) and facts. */
function loadQuestions(
  cp: CompiledPolicy,
  input: SectionInput,
  rejectUnknown: boolean,
  trace: boolean,
  onUnknown: EvaluateOptions["onUnknownId"],
): void {
  evaluationStats.loads++;
  const { qv, qsrc, qby } = cp.scratch;
  qv.fill(U);
  qsrc.fill(0);
  const { qkey } = cp.scratch;
  const width = cp.traceWidth;
  if (trace) qkey.set(cp.traceUnknown);
  const answers = input.answers;
  let issues: { message: string; where: { field: string; criterion: string } }[] | undefined;
  for (const id in answers) {
    const entry = cp.answerEntries[id];
    // Every key counts as an answer id for the caller's check, `undefined` values included (SPEC 2.1).
    if (entry === undefined && onUnknown !== undefined) onUnknown(cp, input);
    const a = answers[id];
    // A key present with `undefined` (possible from JavaScript callers, never from JSON) is missing.
    if (a === undefined) continue;
    if (entry === undefined || typeof a !== "boolean") {
      if (entry === undefined && !rejectUnknown) continue;
      issues ??= [];
      issues.push(answerIssue(cp, id));
      continue;
    }
    const q = entry.q;
    const v: Tri = a ? T : F;
    if (qsrc[q] === 1) {
      if (qv[q] !== v) {
        issues ??= [];
        const other = qby[q]!.source.id;
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
    qby[q] = entry;
    if (trace) qkey[q] = v * width[q]! + 2 + entry.k;
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
  const facts = input.facts;
  // Every predicate of missing facts is unknown: with no facts there is nothing to derive.
  if (fq.length === 0 || facts === undefined || !hasKeys(facts)) return;
  let dos = 0;
  if (cp.usesDates) {
    const d = parseDay(input.dateOfService);
    if (d === undefined) {
      throw new InputError(
        `dateOfService must be a date YYYY-MM-DD, got ${JSON.stringify(input.dateOfService)}`,
        {
          field: "service.dateOfService",
        },
      );
    }
    dos = d;
  }
  for (let k = 0; k < fq.length; k++) {
    const q = fq[k]!;
    if (qsrc[q] !== 0) continue;
    const v = cp.factTests[k]!(facts, dos);
    if (v !== U) {
      qv[q] = v;
      qsrc[q] = 2;
      if (trace) qkey[q] = v * width[q]! + 1;
    }
  }
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

function answerIssue(cp: CompiledPolicy, id: string) {
  const where = { field: `answers.${id}`, criterion: id };
  if (cp.answerIndex.has(id)) return { message: `answers.${id} must be true or false`, where };
  const node = cp.nodes.find((n) => n.id === id);
  if (node !== undefined) {
    return {
      message: `answers.${id}: ${id} is computed (a group without a condition of its own, or a reference) and cannot be answered`,
      where,
    };
  }
  return { message: `answers.${id}: ${cp.version.identity.id} has no criterion ${id}`, where };
}
