/**
 * Types the web app shares with the server. Type-only imports: nothing of the server's modules reaches
 * the browser bundle except the evaluator and the model it reads (see `engine.ts`).
 */
import type { CodeBinding, Correction, PolicyVersion, PredicateBinding } from "../../model/index.js";

/** Re-exported server types the views read. */
export type { PolicyDiff } from "../../library/diff.js";
export type {
  BranchNode,
  CriterionNode,
  Determination,
  Line,
  Needed,
  Outcome,
  PolicyVersion,
  Reason,
  Source,
  Status,
  TraceNode,
} from "../../model/index.js";
export type { Decision } from "../../store/index.js";
export type { UiRequestRow } from "../plugin.js";

/** `GET /api/ui/policy?ref=…`: what the browser compiles to re-evaluate answers (see `plugin.ts`). */
export interface UiPolicy {
  ref: string;
  status: "effective" | "superseded" | "draft" | "future";
  versions: string[];
  source: string;
  /** The version as ingested from its document. */
  policy: PolicyVersion;
  /** The version as evaluated, when authored corrections change it. */
  evaluated?: PolicyVersion;
  predicates: PredicateBinding[];
  codes: CodeBinding[];
  corrections: Correction[];
}
