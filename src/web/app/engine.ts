/**
 * Live re-evaluation in the browser (issue 6): the server's own evaluator (`src/evaluate`) compiled
 * from the same evaluable model the server uses (`/api/ui/policy`), so a reviewer's answer changes
 * the outcome, the tree and the open questions at once, before anything is saved. Saving then goes
 * through the API, and the app compares the server's outcome with this one.
 *
 * Only the criteria of each line are re-evaluated: the other rules of SPEC 2.2 (no policy, fee-schedule
 * markers, does-not-support tables, coding only, not-proven sections) do not depend on answers, so a
 * line they decided keeps its stored outcome. Lines are combined exactly as the library does.
 */
import { type CompiledPolicy, compile, evaluateSection, questionOf } from "../../evaluate/index.js";
import { checkExclusions, lineRule } from "../../library/line-rule.js";
import {
  type CodeBinding,
  type Determination,
  type Facts,
  factTests,
  type Line,
  type Needed,
  OUTCOME_SEVERITY,
  type Predicate,
  type Reason,
} from "../../model/index.js";
import { type CaseJson, getUiPolicy } from "./api.js";
import type { UiPolicy } from "./types.js";

/** A policy version ready to evaluate. */
export interface LoadedPolicy {
  ui: UiPolicy;
  compiled: CompiledPolicy;
}

const cache = new Map<string, Promise<LoadedPolicy>>();

/** Loads and compiles `ID@VERSION` once per page life. */
export function loadPolicy(ref: string): Promise<LoadedPolicy> {
  let p = cache.get(ref);
  if (!p) {
    p = getUiPolicy(ref).then((ui) => ({
      ui,
      compiled: compile(ui.evaluated ?? ui.policy, ui.predicates, new Map(ui.facts.map((d) => [d.name, d]))),
    }));
    // A failed load may succeed later (the session was renewed): do not cache the failure.
    p.catch(() => cache.delete(ref));
    cache.set(ref, p);
  }
  return p;
}

/** `ID@VERSION` of a line's policy. */
export function lineRef(l: Pick<Line, "policy">): string | undefined {
  return l.policy ? `${l.policy.id}@${l.policy.version}` : undefined;
}

/** Whether a line's outcome came from its section's criteria (and so can change with answers). */
export function isEvaluated(l: Line): boolean {
  return l.policy?.section !== undefined && l.trace !== undefined;
}

/** The line that decides a determination: the first of the most severe outcome (as the library picks it). */
function topLine(lines: readonly Line[]): Line | undefined {
  let top = lines[0];
  for (const l of lines) if (top && OUTCOME_SEVERITY[l.outcome] > OUTCOME_SEVERITY[top.outcome]) top = l;
  return top;
}

/**
 * The determination with every evaluated line carrying its own trace. The library stores the deciding
 * line's trace once, as the determination's `trace`; the app reads traces per line, so it is put back.
 */
export function withLineTraces(det: Determination): Determination {
  const top = topLine(det.lines);
  if (!det.trace || !top || top.trace) return det;
  return { ...det, lines: det.lines.map((l) => (l === top ? { ...l, trace: det.trace! } : l)) };
}

/** Loads every policy version whose criteria decided a line of `det`. */
export async function loadPoliciesFor(det: Determination): Promise<Map<string, LoadedPolicy>> {
  const refs = [...new Set(withLineTraces(det).lines.filter(isEvaluated).map(lineRef))].filter(
    (r): r is string => r !== undefined,
  );
  const loaded = await Promise.all(refs.map((r) => loadPolicy(r)));
  return new Map(refs.map((r, i) => [r, loaded[i]!]));
}

function bindingFor(codes: readonly CodeBinding[], code: string): CodeBinding | undefined {
  return codes.find((b) => b.codes.includes(code));
}

/**
 * Re-decides `det` for `c` with `answers` (the case's answers with the reviewer's drafts over them).
 * Throws the evaluator's InputError for contradictory answers (two ids of one question, SPEC 2.2).
 */
export function reevaluate(
  det: Determination,
  c: CaseJson,
  answers: Record<string, boolean>,
  policies: ReadonlyMap<string, LoadedPolicy>,
): Determination {
  const facts = (c.facts ?? {}) as Facts;
  const lines = withLineTraces(det).lines.map((line): Line => {
    const ref = lineRef(line);
    const p = ref ? policies.get(ref) : undefined;
    if (!p || !isEvaluated(line)) return line;
    const section = line.policy!.section!;
    const input = { answers, facts, dateOfService: c.service.dateOfService };
    const r = evaluateSection(p.compiled, section, input, { trace: true });
    // The server's rule for the line (uncertain readings, exclusion lists, `otherwise`), not the raw
    // section outcome: the live outcome must be the one the server would store.
    const b = bindingFor(p.ui.codes, line.code);
    const model = p.ui.evaluated ?? p.ui.policy;
    const s = model.sections.find((x) => x.id === section);
    const ruled = s
      ? lineRule(model, s, r.outcome, b && "otherwise" in b ? b.otherwise : undefined)
      : { outcome: r.outcome, basis: `section ${section} criteria ${r.outcome}` };
    const next: Line = {
      code: line.code,
      outcome: ruled.outcome,
      policy: line.policy!,
      basis: ruled.basis,
      reasons: r.reasons,
      needed: r.needed,
    };
    if (r.trace) next.trace = r.trace;
    // As the server reads an approval with the version's unbound exclusion lists.
    const x =
      s && r.outcome === "approved"
        ? checkExclusions(p.compiled, model, s, input, { trace: true })
        : undefined;
    if (x) {
      next.outcome = x.outcome;
      next.basis = x.basis;
      next.reasons = x.reasons;
      next.needed = x.needed;
      if (x.traces.length > 0) next.exclusions = x.traces;
    }
    if (line.referral) next.referral = line.referral;
    return next;
  });

  // As the library combines lines (src/library/decide.ts): the most severe line decides. Unlike the
  // stored form, every line keeps its trace (see `withLineTraces`).
  const top = topLine(lines)!;
  const same = lines.filter((l) => l.outcome === top.outcome);
  const seenReason = new Set<string>();
  const seenNeeded = new Set<string>();
  const reasons: Reason[] = [];
  const needed: Needed[] = [];
  for (const l of same) {
    for (const r of l.reasons)
      if (!seenReason.has(r.criterion) && seenReason.add(r.criterion)) reasons.push(r);
    for (const n of l.needed) if (!seenNeeded.has(n.criterion) && seenNeeded.add(n.criterion)) needed.push(n);
  }
  const out: Determination = { outcome: top.outcome, reasons, needed, lines, engine: det.engine };
  if (det.id !== undefined) out.id = det.id;
  if (top.policy) out.policy = top.policy;
  if (top.trace) out.trace = top.trace;
  if (top.referral) out.referral = top.referral;
  return out;
}

/** Every id asking the same question as `id` (SPEC 2.2 "One question, several places"), `id` first. */
export function sameQuestionIds(policies: ReadonlyMap<string, LoadedPolicy>, id: string): string[] {
  for (const p of policies.values()) {
    const q = questionOf(p.compiled, id);
    if (q) return [id, ...q.ids.filter((x) => x !== id)];
  }
  return [id];
}

/**
 * The id to record an answer at: where the question is already answered (the case's answers merge
 * with the reviewer's, and two ids of one question answered differently are rejected), else `id`.
 */
export function answerKey(
  policies: ReadonlyMap<string, LoadedPolicy>,
  id: string,
  ...answerSets: Record<string, boolean>[]
): string {
  const ids = sameQuestionIds(policies, id);
  for (const set of answerSets) for (const x of ids) if (x in set) return x;
  return id;
}

/** The answer currently given for `id`'s question, and at which id. */
export function answerOf(
  policies: ReadonlyMap<string, LoadedPolicy>,
  id: string,
  answers: Record<string, boolean>,
): { key: string; value: boolean } | undefined {
  for (const x of sameQuestionIds(policies, id)) {
    const v = answers[x];
    if (v !== undefined) return { key: x, value: v };
  }
  return undefined;
}

/** The facts a predicate reads. */
function predicateFacts(p: Predicate, out: Set<string>): void {
  for (const t of factTests(p)) out.add(t.fact);
}

/**
 * The facts the loaded policies' predicates read (SPEC 2.3), so the facts form offers the ones that
 * can decide a criterion of this request rather than the whole vocabulary (issue 14).
 */
export function factsUsedBy(policies: ReadonlyMap<string, LoadedPolicy>): Set<string> {
  const out = new Set<string>();
  for (const p of policies.values()) for (const b of p.ui.predicates) predicateFacts(b.when, out);
  return out;
}
