/**
 * The service's view of the policy library (SPEC 1.4, 2.2): decide a case, list policies and versions,
 * diff two versions. Built from a `Library`; an interface so the FHIR layer and tests can share it.
 */
import {
  decideValidated,
  diffPolicies,
  encodeDetermination,
  type Library,
  type LoadedVersion,
  parseCase,
  type VersionSummary,
} from "../library/index.js";
import type { Case, Determination } from "../model/index.js";

export interface Engine {
  /** Validates a case (SPEC 2.1): InputError naming the field → 400. */
  parseCase(input: unknown): Case;
  /** Decides a validated case (InputError for unknown criterion ids → 400, DeterminationError → 422). */
  decide(c: Case, opts: { today: string; trace?: boolean }): Determination;
  /**
   * A determination's JSON, byte for byte what `JSON.stringify` writes (issue 13: replies are
   * pre-encoded, as the CLI's writer does, instead of stringified by Fastify).
   */
  encode(d: Determination): string | Buffer;
  /** Every policy, variant and version with its status on `today`. */
  policies(today: string): VersionSummary[];
  /** `ID@VERSION`, or the version of `ID` in force on `today` (throws NotFoundError → 404). */
  version(ref: string, today: string): LoadedVersion;
  /** Semantic diff of `a` and `b` (`ID@VERSION` or `ID`), when the library provides one (else 501). */
  diff?: (a: string, b: string, today: string) => unknown;
}

/** Adapts a loaded `Library` to {@link Engine}. */
export function libraryEngine(lib: Library): Engine {
  return {
    parseCase,
    // Validated once by `parseCase`; deciding the parsed case skips a second validation per request.
    decide: (c, opts) => decideValidated(lib, c, opts),
    // The library's writer, as `medpolicy evaluate` encodes its lines: the frozen shared parts of a
    // determination are encoded once per process and copied (issue 13).
    encode: encodeDetermination,
    policies: (today) => lib.policies(today),
    version(ref, today) {
      const e = lib.get(ref, today);
      return { policy: e.policy, bindings: e.bindings, status: lib.statusOf(e, today) };
    },
    diff: (a, b, today) => diffPolicies(lib.get(a, today).policy, lib.get(b, today).policy),
  };
}
