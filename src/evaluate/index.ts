/**
 * evaluate/: the pure, compiled, three-valued evaluator of a policy's criteria (SPEC 2.2, 2.3, 5).
 * `compile` once per policy version, then `evaluateSection` per case line; no clock, no I/O.
 */
export {
  answerableIds,
  type CompiledPolicy,
  type CompiledSection,
  compile,
  type Question,
  questionOf,
} from "./compile.js";
export { type DayKey, formatDay, minusMonths, parseDay } from "./dates.js";
export {
  type EvaluateOptions,
  evaluateSection,
  evaluateSections,
  type SectionInput,
  type SectionOutcome,
  type SectionResult,
} from "./evaluate.js";
export { evaluationStats } from "./stats.js";
export type { Tri } from "./tri.js";
