import type { Case, Determination } from "../model/index.js";
import type { DecideOptions } from "./api.js";
import type { Library } from "./library.js";

/**
 * Decides a case (SPEC 2.2): validates `input` (InputError naming the field on bad input), resolves
 * the policy version by state and date of service (DeterminationError when none is effective), and
 * returns the determination with one line per code.
 */
export function decide(_lib: Library, _input: unknown, _opts: DecideOptions = {}): Determination {
  throw new Error("not implemented yet");
}

/** As `decide`, for a case already validated by `caseSchema`. */
export function decideValidated(_lib: Library, _c: Case, _opts: DecideOptions = {}): Determination {
  throw new Error("not implemented yet");
}
