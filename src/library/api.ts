/**
 * The library's public surface (SPEC 1.4, 1.5, 2.2): what the CLI, the service and the FHIR layer call.
 * Implementation lives beside this file; this contract is what the edges code against.
 */
import type { Bindings, Determination, FactDecl, PolicyVersion } from "../model/index.js";

export type VersionStatus = "effective" | "superseded" | "draft" | "future";

/** One row of `medpolicy policies` (SPEC 3). */
export interface VersionSummary {
  id: string;
  baseId: string;
  title: string;
  state?: string;
  plan: string;
  version: string;
  status: VersionStatus;
  effective: string;
  approved?: string;
  /** Who published the version (issue 15 item 3); absent for a version approved by its document's log. */
  approvedBy?: string;
  /** When it was published (ISO 8601 instant). */
  published?: string;
  hash: string;
  source: string;
}

export interface LoadedVersion {
  policy: PolicyVersion;
  bindings: Bindings;
  status: VersionStatus;
  /** The facts the version declares, its own and inherited (issue 15); absent when it declares none. */
  facts?: FactDecl[];
}

export interface DecideOptions {
  /** "today" for choosing the version in force (`bare ID`); defaults to the clock at the edge. */
  today?: string;
  /** Leave the trace out (faster; SPEC 5 measures both). */
  trace?: boolean;
  /**
   * Gather the questions still needed by a pended or review outcome; on by default. Off when only the
   * outcome is read (issue 15: impact replays each stored request for its outcome alone, and gathering
   * them took a third of the decision), or only the outcome and the trace (its criteria of a changed
   * request): `needed` is then empty whatever the outcome.
   */
  needed?: boolean;
  /**
   * Refuse a case that names a draft version (`ID@VERSION`). SPEC 1.4 makes a draft "evaluable on
   * request" (the CLI, `/api/evaluate`, the authors' try and impact); a prior-authorization request the
   * service stores and acts on is never decided by an unpublished draft (issue 15 review).
   */
  refuseDrafts?: boolean;
}
export type { Determination };
