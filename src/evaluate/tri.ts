/**
 * Three-valued (Kleene) logic, the only place it is defined (SPEC 2.2: "Evaluation uses three-valued
 * logic"). Values are small integers ordered by truth — not met < unknown < met — so that Kleene `and`
 * is `min`, `or` is `max` and `not` is `2 - x`. Everything else in the evaluator builds on these.
 */
import type { Status } from "../model/index.js";

/** A three-valued truth value: {@link F} not met, {@link U} unknown, {@link T} met. */
export type Tri = 0 | 1 | 2;

export const F = 0 as const;
export const U = 1 as const;
export const T = 2 as const;

/** Kleene conjunction: false wins, then unknown. */
export function and(a: Tri, b: Tri): Tri {
  return a < b ? a : b;
}

/** Kleene disjunction: true wins, then unknown. */
export function or(a: Tri, b: Tri): Tri {
  return a > b ? a : b;
}

/** Kleene negation: unknown stays unknown. */
export function not(a: Tri): Tri {
  return (2 - a) as Tri;
}

/**
 * "At least `n` of `total`", given how many are known to be met and how many are still unknown:
 * decided as soon as the known values decide it (SPEC 2.2 `atLeast(n)`).
 */
export function atLeast(n: number, met: number, unknown: number): Tri {
  if (met >= n) return T;
  return met + unknown < n ? F : U;
}

export function fromBoolean(b: boolean): Tri {
  return b ? T : F;
}

/** Whether a value is decided (met or not met). */
export function isDecided(a: Tri): boolean {
  return a !== U;
}

const STATUS: readonly Status[] = ["not-met", "unknown", "met"];

/** The trace's wording of a value (SPEC 2.2 trace: met / not-met / unknown). */
export function toStatus(a: Tri): Status {
  return STATUS[a]!;
}
