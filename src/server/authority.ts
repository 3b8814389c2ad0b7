/**
 * Who may decide what, and what a decision may cite (issue 14, SPEC 2.4). One module, so the rules a
 * regulator asks about are read in one place:
 * - an adverse medical-necessity outcome (`denied`; `not-covered` where it rests on medical judgment)
 *   is signed only by a medical director, or by the roles a plan configures
 *   (`MEDPOLICY_ADVERSE_SIGNERS`); a nurse reviewer approves, or records a recommendation;
 * - a `not-covered` that rests only on a benefit rule (a code the state's fee schedule excludes,
 *   SPEC 2.2 precedence 2) is not a medical judgment: a reviewer may sign it;
 * - a decision cites only criteria whose status in the determination being signed supports it: a
 *   denial the criteria that failed (never an unanswered one), an approval criteria that were met.
 */
import type { Determination, PolicyVersion, TraceNode } from "../model/index.js";
import type { Decision } from "../store/index.js";
import { ConfigError, ROLES, type Role } from "./auth.js";

/** The plan's configuration of who signs adverse outcomes. */
export interface AuthorityConfig {
  /** Roles that may sign an adverse medical-necessity outcome. Default: the medical director. */
  adverseSigners: readonly Role[];
}

export const DEFAULT_AUTHORITY: AuthorityConfig = { adverseSigners: ["medical-director"] };

/** Roles that review at all (sign approvals, answer criteria, write notes). */
export const REVIEW_ROLES: readonly Role[] = ["reviewer", "medical-director"];

/**
 * Reads `MEDPOLICY_ADVERSE_SIGNERS` (a comma-separated list of reviewing roles, e.g.
 * `medical-director,reviewer` for a plan whose reviewers are all physicians). An unknown role, or a
 * role that does not review, refuses to start (ConfigError, exit 2): a typo must not widen who denies.
 */
export function authorityFromEnv(env: NodeJS.ProcessEnv): AuthorityConfig {
  const raw = env.MEDPOLICY_ADVERSE_SIGNERS;
  if (raw === undefined || raw.trim() === "") return DEFAULT_AUTHORITY;
  const roles = raw.split(",").map((r) => r.trim());
  for (const r of roles) {
    if (!(ROLES as readonly string[]).includes(r) || !REVIEW_ROLES.includes(r as Role)) {
      throw new ConfigError(
        `MEDPOLICY_ADVERSE_SIGNERS: "${r}" is not a reviewing role (one of ${REVIEW_ROLES.join(", ")})`,
      );
    }
  }
  return { adverseSigners: roles as Role[] };
}

/** A criterion a decision may cite, with the status that lets it. */
export interface Cite {
  criterion: string;
  text: string;
  /**
   * `not-met` / `present` (a contraindication) support an adverse outcome; `met` / `absent` an
   * approval; `section` is the policy section a not-covered line rests on (its code list, not proven);
   * `rule` a benefit rule on the code itself (off the state fee schedule), cited by the code.
   */
  status: "met" | "not-met" | "present" | "absent" | "section" | "rule";
}

export type Citable = Record<Decision["outcome"], Cite[]>;

/**
 * The criteria each outcome may cite in `d` (issue 14): for an adverse outcome the criteria that
 * failed (`reasons`, and the groups that failed because of them), for not-covered also the section a
 * not-covered line rests on; for an approval the criteria met along a met path from a section's root
 * (a contraindication absent counts as met). Unknown criteria support nothing.
 */
export function citable(d: Determination): Citable {
  const adverse = new Map<string, Cite>();
  const approval = new Map<string, Cite>();
  const sections = new Map<string, Cite>();
  const failed = new Set<string>();
  for (const r of [...d.reasons, ...d.lines.flatMap((l) => l.reasons)]) {
    failed.add(r.criterion);
    if (!adverse.has(r.criterion)) {
      adverse.set(r.criterion, { criterion: r.criterion, text: r.text, status: r.status });
    }
  }
  /**
   * `negated`: the node is read under an odd number of `none` groups, where its holding means a
   * contraindication is present — so "met" there argues against approval, at any depth (a compound
   * contraindication's parts included).
   */
  const visit = (n: TraceNode, negated: boolean, parentSupports: boolean): boolean => {
    // A note is an exception the medical director weighs (SPEC 2.2 `review`): when it holds, an
    // approval may rest on it; an adverse decision never does.
    if (n.kind === "note") {
      if (n.status === "met" && !negated && !approval.has(n.id)) {
        approval.set(n.id, { criterion: n.id, text: n.text, status: "met" });
      }
      return false;
    }
    const holds = negated ? n.status === "not-met" : n.status === "met";
    const supportsApproval = parentSupports && holds;
    if (supportsApproval && !approval.has(n.id)) {
      approval.set(n.id, { criterion: n.id, text: n.text, status: negated ? "absent" : "met" });
    }
    let below = false;
    const childNegated = negated !== (n.kind === "none");
    for (const c of n.children ?? []) if (visit(c, childNegated, supportsApproval)) below = true;
    const inReasons = failed.has(n.id);
    // A group that failed because a cited failure is inside it may be cited too (I.B, "none of").
    const fails = negated ? n.status === "met" : n.status === "not-met";
    if (!inReasons && below && fails && !adverse.has(n.id)) {
      adverse.set(n.id, { criterion: n.id, text: n.text, status: negated ? "present" : "not-met" });
    }
    return inReasons || below;
  };
  const traces = [d.trace, ...d.lines.map((l) => l.trace)];
  for (const t of traces) if (t) visit(t, false, true);
  // A group shares its id with its own condition (I.A.1: "pain of malignant origin"): where any node
  // of an id is unknown, citing the id would state what nobody answered, so it is not citable.
  const unknown = new Set<string>();
  const collect = (n: TraceNode) => {
    if (n.status === "unknown") unknown.add(n.id);
    for (const c of n.children ?? []) collect(c);
  };
  for (const t of traces) if (t) collect(t);
  for (const id of unknown) {
    adverse.delete(id);
    approval.delete(id);
  }
  for (const l of d.lines) {
    if (l.outcome !== "not-covered") continue;
    const s = l.policy?.section;
    if (s !== undefined) {
      if (!sections.has(s)) sections.set(s, { criterion: s, text: l.basis, status: "section" });
    } else if (!sections.has(l.code)) {
      // A rule on the code itself (not on the state fee schedule, SPEC 2.2 precedence 2): the code
      // and the rule are what the decision rests on.
      sections.set(l.code, { criterion: l.code, text: l.basis, status: "rule" });
    }
  }
  return {
    approved: [...approval.values()],
    denied: [...adverse.values()],
    "not-covered": [...adverse.values(), ...sections.values()],
  };
}

/**
 * What each outcome may cite for one service of `d` alone (a decision made code by code): the
 * criteria of that line's own trace and reasons, as {@link citable} reads them. A request of one code
 * has its trace and reasons at the top of the determination; a request of several, on each line.
 */
export function lineCitable(d: Determination, line: Determination["lines"][number]): Citable {
  // The line that decided the request keeps its trace at the top of the determination, not on itself
  // (src/library/decide.ts `combine`): the first line of the request's outcome without a trace of its own.
  const top = d.lines.find((l) => l.trace === undefined && l.outcome === d.outcome && l.policy !== undefined);
  return citable({
    ...d,
    reasons: line.reasons,
    trace: line.trace ?? (line === top ? d.trace : undefined),
    lines: [{ ...line, trace: undefined }],
  });
}

/** The codes of `d` a reviewer decides: every line some policy governs (not `not-applicable`). */
export function reviewedLines(d: Determination): Determination["lines"] {
  // A code requested twice is one service to decide.
  const seen = new Set<string>();
  return d.lines.filter((l) => l.outcome !== "not-applicable" && !seen.has(l.code) && seen.add(l.code));
}

/**
 * Whether every not-covered line of `d` rests on a benefit rule only: its code carries a plan marker
 * meaning "not on the state fee schedule" in the policy version that decided it (SPEC 2.2 precedence
 * 2, read from the model as the library reads it). Anything else not covered (a not-proven section, a
 * "does not support coverage" code, no indication holds) is a medical judgment.
 */
export function notCoveredIsBenefitRule(
  d: Determination,
  versionOf: (id: string, version: string) => PolicyVersion | undefined,
): boolean {
  const lines = d.lines.filter((l) => l.outcome === "not-covered");
  if (lines.length === 0) return false;
  // The request's outcome is its most severe line's: a benefit rule on one code says nothing of a
  // denied, pended or reviewed other code, whose decision is a medical judgment (issue 14 review).
  if (
    d.lines.some(
      (l) => l.outcome !== "not-covered" && l.outcome !== "approved" && l.outcome !== "not-applicable",
    )
  ) {
    return false;
  }
  return lines.every((l) => {
    if (!l.policy) return false;
    const v = versionOf(l.policy.id, l.policy.version);
    if (!v) return false;
    const row = v.codeTables.flatMap((t) => t.rows).find((r) => r.code === l.code && r.marker);
    return (
      row !== undefined &&
      v.codeMarkers.some((m) => m.marker === row.marker && m.meaning === "not-on-fee-schedule")
    );
  });
}

/** What a caller may do with a request now (issue 14; the reviewer screen shows it as is). */
export interface Authority {
  approve: boolean;
  deny: boolean;
  notCover: boolean;
  /** A reviewer who may not sign an adverse outcome records a recommendation for a medical director. */
  recommend: boolean;
  note?: string;
}

/**
 * What `role` may sign on a request whose newest determination is `d` (issue 14). `medicalDirectorOnly`
 * (a policy note sent it to a medical director, or a nurse recommended an adverse outcome) leaves
 * everything to the adverse signers.
 */
export function authorityOf(
  role: Role,
  cfg: AuthorityConfig,
  opts: { medicalDirectorOnly: boolean; notCoveredIsBenefit: boolean; open: boolean },
): Authority {
  if (!opts.open || !REVIEW_ROLES.includes(role)) {
    return {
      approve: false,
      deny: false,
      notCover: false,
      recommend: false,
      note: opts.open ? `role ${role} does not sign decisions` : "the request is no longer awaiting review",
    };
  }
  const adverse = cfg.adverseSigners.includes(role);
  if (opts.medicalDirectorOnly && !adverse) {
    return {
      approve: false,
      deny: false,
      notCover: false,
      recommend: false,
      note: "this request went to medical-director review: only a medical director may sign it",
    };
  }
  return {
    approve: true,
    deny: adverse,
    notCover: adverse || opts.notCoveredIsBenefit,
    recommend: !adverse,
    ...(!adverse && {
      note: "an adverse medical-necessity decision is a medical director's: record a recommendation instead",
    }),
  };
}

/** Why `role` may not sign `outcome`, or undefined when it may (the 403 message). */
export function signingRefusal(a: Authority, outcome: Decision["outcome"]): string | undefined {
  const may = outcome === "approved" ? a.approve : outcome === "denied" ? a.deny : a.notCover;
  if (may) return undefined;
  return a.note ?? `you may not sign a ${outcome} decision`;
}
