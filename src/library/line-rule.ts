/**
 * A code's line outcome from its section's evaluated outcome (SPEC 2.2 precedence 5, issue 12 "safe by
 * default"): one pure rule that the library (src/library/decide.ts) and the browser's live
 * re-evaluation (src/web/app/engine.ts) both apply, so a reviewer's screen never shows `approved` where
 * the server decides `review`.
 */
import { type CompiledPolicy, evaluateSection, type SectionInput } from "../evaluate/index.js";
import type { Needed, Outcome, PolicyVersion, Reason, Section, TraceNode } from "../model/index.js";
import { evaluatesList, exclusionLists, noneListsContraindications } from "./exclusions.js";

/** What evaluating a section's criteria can give. */
export type SectionOutcome = "approved" | "review" | "denied" | "pended";

/**
 * The line's outcome and basis for section `section` of `v` evaluated to `o`, the code bound with
 * `otherwise` (CP.MP.126 I → III) where given:
 * - an approval where `v` has an exclusion list not evaluated with this section: `review`
 *   (src/library/exclusions.ts);
 * - an approval or denial of a section whose reading is uncertain: `review`;
 * - a denial with an `otherwise` section: `not-covered` under it.
 */
export function lineRule(
  v: PolicyVersion,
  section: Section,
  o: SectionOutcome,
  otherwise?: string,
): { outcome: Outcome; basis: string } {
  const unchecked = o === "approved" ? uncheckedLists(v, section) : [];
  if (unchecked.length > 0) {
    const named = unchecked
      .map((x) => `section ${x.id} ("${x.text.slice(0, 120)}${x.text.length > 120 ? "…" : ""}")`)
      .join(" and ");
    return {
      outcome: "review",
      basis: `section ${section.id} criteria met, but ${named} lists conditions that rule the service out, which medpolicy does not evaluate with section ${section.id}: a reviewer checks them`,
    };
  }
  if (section.uncertain && (o === "approved" || o === "denied")) {
    // A person decides where the reading is uncertain (its kind, a list's logic, text that could not
    // be placed); the criteria still explain.
    return {
      outcome: "review",
      basis: `section ${section.id} criteria ${o === "approved" ? "met" : "not met"}, but the policy's reading is uncertain: ${section.uncertain.join("; ")}`,
    };
  }
  if (o === "denied" && otherwise) {
    const other = v.sections.find((s) => s.id === otherwise);
    return {
      outcome: "not-covered",
      basis: `no indication of section ${section.id} holds: section ${otherwise}${other ? `: ${other.text}` : ""}`,
    };
  }
  return { outcome: o, basis: `section ${section.id} criteria ${o === "approved" ? "met" : o}` };
}

/**
 * The exclusion lists of `v` an approval under `section` has not evaluated (bound with `excludedBy`, a
 * list is part of the section's tree): what {@link lineRule} sends to review and {@link checkExclusions}
 * then reads. None for a section whose own reading is uncertain (it is reviewed for that).
 */
export function uncheckedLists(v: PolicyVersion, section: Section): Section[] {
  if (section.uncertain) return [];
  return exclusionLists(v).filter((x) => x.id !== section.id && !evaluatesList(section, x));
}

/** What {@link checkExclusions} makes of a line whose section's criteria are met. */
export interface ExclusionCheck {
  outcome: Outcome;
  basis: string;
  /** The listed conditions the answers say are present (status `present`): what a denial may cite. */
  reasons: Reason[];
  /** The list items still unknown, when nothing listed is present yet. */
  needed: Needed[];
  /** The lists' traces, with `trace`. */
  traces: TraceNode[];
}

/**
 * A line whose section's criteria are met, checked against the version's exclusion lists that no
 * binding puts in its section (issue 12 "safe by default", src/library/exclusions.ts) — the lists are
 * read on the same answers, as context, not as the section's own criteria:
 * - a listed condition present: `review`, naming it (a reviewer, not the engine, decides whether the
 *   list applies to this code; the condition is what an adverse decision may cite);
 * - a list that cannot be read with confidence (uncertain, a `none` list that does not list
 *   contraindications, an exception note that holds): `review`, as {@link lineRule} says;
 * - otherwise, an item still unknown: `pended`, asking the list's unknown items — whether or not the
 *   list applies, nothing else stands between the criteria met and the approval;
 * - every listed condition absent: `approved`.
 *
 * Undefined when `v` has no such list for `section`. Pure: `cp` is `v` compiled; shared by the library
 * (src/library/decide.ts) and the browser's live re-evaluation, like {@link lineRule}.
 */
export function checkExclusions(
  cp: CompiledPolicy,
  v: PolicyVersion,
  section: Section,
  input: SectionInput,
  opts: { trace: boolean; needed?: boolean },
): ExclusionCheck | undefined {
  const lists = uncheckedLists(v, section);
  if (lists.length === 0) return undefined;
  const present: Reason[] = [];
  const needed: Needed[] = [];
  const traces: TraceNode[] = [];
  const unreadable: Section[] = [];
  let unknown = false;
  for (const x of lists) {
    const negative = x.tree!.kind === "none";
    if (x.uncertain || (negative && !noneListsContraindications(x)) || !cp.sections.has(x.id)) {
      unreadable.push(x);
      continue;
    }
    const r = evaluateSection(cp, x.id, input, { trace: true, needed: opts.needed !== false });
    if (opts.trace && r.trace) traces.push(r.trace);
    // A `none` list is met when nothing listed is present; any other list when something is.
    if (r.outcome === (negative ? "denied" : "approved"))
      present.push(...presentIn(r.trace!, r.reasons, negative));
    else if (r.outcome === "pended") {
      unknown = true;
      for (const n of r.needed) if (!needed.some((m) => m.criterion === n.criterion)) needed.push(n);
    } else if (r.outcome !== (negative ? "approved" : "denied")) unreadable.push(x);
  }
  const met = `section ${section.id} criteria met`;
  const named = (xs: readonly Section[]) =>
    xs
      .map((x) => `section ${x.id} ("${x.text.slice(0, 120)}${x.text.length > 120 ? "…" : ""}")`)
      .join(" and ");
  if (present.length > 0) {
    return {
      outcome: "review",
      basis: `${met}, but a condition listed by ${named(lists)} is present (${present
        .map((r) => `${r.criterion}: ${r.text}`)
        .join("; ")}); whether the list rules out this service is a reviewer's decision`,
      reasons: present,
      needed: [],
      traces,
    };
  }
  if (unreadable.length > 0) {
    return { ...lineRule(v, section, "approved"), reasons: [], needed: [], traces };
  }
  if (unknown) {
    return {
      outcome: "pended",
      basis: `${met}; ${named(lists)} lists conditions that rule the service out: whether any of them is present is needed`,
      reasons: [],
      needed,
      traces,
    };
  }
  return {
    outcome: "approved",
    basis: `${met}, and none of the conditions listed by ${named(lists)} is present`,
    reasons: [],
    needed: [],
    traces,
  };
}

/** The listed conditions present in a list's evaluated trace, as reasons (status `present`). */
function presentIn(trace: TraceNode, reasons: readonly Reason[], negative: boolean): Reason[] {
  // A `none` list's reasons are the contraindications present (SPEC 2.2); for any other list, the items
  // that hold under its met root (a list of one item is its root).
  if (negative) return reasons.map((r) => ({ criterion: r.criterion, text: r.text, status: "present" }));
  const held = (trace.children ?? []).filter((c) => c.status === "met" && c.kind !== "note");
  return (held.length > 0 ? held : [trace]).map((n) => ({
    criterion: n.id,
    text: n.text,
    status: "present",
  }));
}
