/** Outcomes and determinations (SPEC 2.2). */

export type Outcome = "not-applicable" | "not-covered" | "denied" | "review" | "pended" | "approved";

/** Severity for combining lines: not-covered > denied > review > pended > approved > not-applicable. */
export const OUTCOME_SEVERITY: Record<Outcome, number> = {
  "not-covered": 5,
  denied: 4,
  review: 3,
  pended: 2,
  approved: 1,
  "not-applicable": 0,
};

/** Three-valued status of a criterion in a trace. */
export type Status = "met" | "not-met" | "unknown";

/** Where a node's value came from. */
export type Source =
  | { kind: "answer"; id: string }
  | { kind: "fact"; facts: string[] }
  | { kind: "computed" }
  | { kind: "none" };

export interface TraceNode {
  id: string;
  kind: "all" | "any" | "none" | "atLeast" | "leaf" | "ref" | "condition" | "note";
  text: string;
  status: Status;
  source: Source;
  /** For a condition, leaf or note: the id of the question it shares (SPEC 2.2), when not its own. */
  question?: string;
  children?: TraceNode[];
}

export interface Reason {
  criterion: string;
  text: string;
  /** `not-met` for a failed requirement; `present` for a contraindication that is present. */
  status: "not-met" | "present";
}

export interface Needed {
  criterion: string;
  text: string;
}

export interface PolicyRef {
  id: string;
  version: string;
  hash: string;
  title: string;
  section?: string;
}

export interface Referral {
  target: string;
  title: string;
  text: string;
}

export interface Line {
  code: string;
  outcome: Outcome;
  policy?: PolicyRef;
  /** Why this outcome, in words (the rule of SPEC 2.2 that decided it). */
  basis: string;
  reasons: Reason[];
  needed: Needed[];
  trace?: TraceNode;
  /**
   * With the trace: the exclusion lists of the version read with this line's section as context (their
   * traces; src/library/line-rule.ts `checkExclusions`), when no binding makes them its criteria.
   */
  exclusions?: TraceNode[];
  referral?: Referral;
}

export interface Determination {
  id?: string;
  outcome: Outcome;
  policy?: PolicyRef;
  reasons: Reason[];
  needed: Needed[];
  trace?: TraceNode;
  lines: Line[];
  referral?: Referral;
  /** The engine that decided (reproducibility, SPEC 4). */
  engine: string;
}

/**
 * The criteria still needed by a determination and by each of its lines, each once, most decisive
 * first (SPEC 2.2 `needed`): what an information request may ask (issue 14).
 */
export function neededOnce(d: Pick<Determination, "needed" | "lines">): Needed[] {
  const seen = new Set<string>();
  const out: Needed[] = [];
  for (const n of [...d.needed, ...d.lines.flatMap((l) => l.needed)]) {
    if (seen.has(n.criterion)) continue;
    seen.add(n.criterion);
    out.push({ criterion: n.criterion, text: n.text });
  }
  return out;
}
