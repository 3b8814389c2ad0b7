/**
 * The service's view of the policy library (SPEC 1.4, 2.2): decide a case, list policies and versions,
 * diff two versions. Built from a `Library`; an interface so the FHIR layer and tests can share it.
 */
import {
  caseSchemaFor,
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
  decide(c: Case, opts: { today: string; trace?: boolean; refuseDrafts?: boolean }): Determination;
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
  /** The JSON Schema of a case for `ref`'s version (issue 15 item 2; NotFoundError → 404), when provided (else 501). */
  caseSchema?: (ref: string, today: string) => object;
}

/**
 * Adapts a loaded `Library` to {@link Engine}; or a live one (issue 15 item 3: swapped whole when a
 * publication is picked up), read once per call so a call never sees two libraries.
 */
export function libraryEngine(source: Library | { readonly current: Library }): Engine {
  const now = "current" in source ? () => source.current : () => source;
  return {
    parseCase,
    // Validated once by `parseCase`; deciding the parsed case skips a second validation per request.
    decide: (c, opts) => decideValidated(now(), c, opts),
    // The library's writer, as `medpolicy evaluate` encodes its lines: the frozen shared parts of a
    // determination are encoded once per process and copied (issue 13).
    encode: encodeDetermination,
    policies: (today) => now().policies(today),
    version(ref, today) {
      const lib = now();
      const e = lib.get(ref, today);
      return {
        policy: e.policy,
        bindings: e.bindings,
        status: lib.statusOf(e, today),
        facts: [...e.vocabulary.values()],
      };
    },
    diff: (a, b, today) => {
      const lib = now();
      return diffPolicies(lib.get(a, today).policy, lib.get(b, today).policy);
    },
    caseSchema: (ref, today) => caseSchemaFor(now().get(ref, today)),
  };
}
