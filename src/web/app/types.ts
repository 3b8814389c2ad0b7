/**
 * Types the web app shares with the server. Type-only imports: nothing of the server's modules reaches
 * the browser bundle except the evaluator and the model it reads (see `engine.ts`).
 */
import type { AuthoringCriterion } from "../../library/authoring.js";
import type { ProposedCodeBinding } from "../../library/library.js";
import type {
  Bindings,
  CodeBinding,
  Correction,
  Determination,
  FactDecl,
  Finding,
  PolicyVersion,
  PredicateBinding,
} from "../../model/index.js";

/** Re-exported server types the views read. */
export type { PolicyDiff } from "../../library/diff.js";
export type {
  BranchNode,
  CriterionNode,
  Determination,
  FactDecl,
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
  /** The facts the version declares (issue 15): types, units, ranges for the facts form. */
  facts: FactDecl[];
  codes: CodeBinding[];
  corrections: Correction[];
}

// ---- Authoring (issue 15 item 5; the contract of `src/server/authoring.ts`) ----

export type { Bindings, ProposedCodeBinding };

/** A version's status as the authoring API reports it. */
export type AuthoringStatus = "draft" | "effective" | "future" | "superseded";

/** One row of `GET /api/authoring/policies`: every policy of the payer's library, drafts included. */
export interface AuthoringPolicyRow {
  id: string;
  title: string;
  versions: {
    version: string;
    status: AuthoringStatus;
    effective: string;
    approved?: string;
    approvedBy?: string;
  }[];
  /** Proposed code bindings neither confirmed nor dismissed. */
  openProposals: number;
}

/** A criterion an answer or a predicate may decide (`criteria` of the version): the library's own type. */
export type { AuthoringCriterion };

/** A lint finding as the authoring API returns it (`src/library/lint.ts`). */
export interface AuthoringFinding extends Finding {
  policy?: string;
  version?: string;
}

/** `GET /api/authoring/policies/:id/versions/:version`: the workbench's data. */
export interface AuthoringVersion {
  id: string;
  version: string;
  status: AuthoringStatus;
  title: string;
  /** The stored document as text (for PDF/DOCX the ingester's text rendering); lines are 1-based. */
  sourceText: string;
  policy: PolicyVersion;
  findings: AuthoringFinding[];
  bindings: { authored: Bindings; proposed: ProposedCodeBinding[] };
  /** The facts the version understands: its own and those it inherits. */
  vocabulary: FactDecl[];
  criteria: AuthoringCriterion[];
  /** The `If-Match` of the next save. */
  bindingsEtag: string;
  publication?: { by?: string; at?: string; effective?: string; [k: string]: unknown };
}

/** `POST /api/authoring/documents` → `medpolicy add --json`'s result. */
export interface AuthoringAddResult {
  status: "added" | "unchanged";
  policy: string;
  versions: { id: string; version: string; title: string; effective: string; status: string }[];
  proposed: ProposedCodeBinding[];
  findings: AuthoringFinding[];
}

/** One case's result of `POST …/try`: the draft's determination and that of the version in force. */
export interface TryResult {
  draft: Determination | { error: unknown };
  inForce: Determination | { error: unknown } | null;
}
