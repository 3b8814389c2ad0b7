/**
 * A code's line outcome from its section's evaluated outcome (SPEC 2.2 precedence 5, issue 12 "safe by
 * default"): one pure rule that the library (src/library/decide.ts) and the browser's live
 * re-evaluation (src/web/app/engine.ts) both apply, so a reviewer's screen never shows `approved` where
 * the server decides `review`.
 */
import type { Outcome, PolicyVersion, Section } from "../model/index.js";
import { evaluatesList, exclusionLists } from "./exclusions.js";

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
  const unchecked =
    o === "approved"
      ? exclusionLists(v).filter((x) => x.id !== section.id && !evaluatesList(section, x))
      : [];
  if (unchecked.length > 0 && !section.uncertain) {
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
