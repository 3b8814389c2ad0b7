/**
 * Counts of evaluator work since the process started, for tests that prove work is shared or
 * remembered (issue 13: 16 codes over 2 sections evaluate 2 sections; `needed` is computed once per
 * state of a section's questions). Incremented on the hot path, never read there.
 */
export const evaluationStats = {
  /** Sections evaluated (evaluate.ts). */
  sections: 0,
  /** Answers and facts read into a compiled policy (evaluate.ts). */
  loads: 0,
  /** `needed` lists computed rather than remembered (needed.ts). */
  neededComputed: 0,
};
