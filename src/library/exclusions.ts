/**
 * Exclusion lists the engine does not evaluate with a code's section (issue 12, "safe by default"): a
 * *not proven / not medically necessary* section with its own list of patient conditions — "not covered
 * for patients with any of the following" (CMS NCD 160.24 II), "not medically necessary in the presence
 * of any of the following contraindications" — constrains the covered service, but a code is bound to
 * one section and is decided by that section's criteria alone. Unless a binding names the list for the
 * code (`excludedBy`), an approval under another section is read with the list as context
 * (src/library/line-rule.ts `checkExclusions`: asked, a condition present reviewed, none present
 * approved), and lint says why (`exclusions-not-evaluated`).
 *
 * A list of other *indications* ("not covered for the treatment of the following conditions", NCD 20.29
 * B; CP.MP.126 III "all other indications") does not constrain an approval for a covered indication,
 * and is not read as one.
 */
import type { PolicyVersion, Section } from "../model/index.js";

/**
 * Words of a statement that lists conditions of the patient, not other indications. Linear: fixed
 * words and bounded alternations only (the text is a policy's, but the same rule holds everywhere).
 */
const PATIENT_CONDITIONS = [
  /\bcontraindicat/i,
  /\bin the presence of\b/i,
  /\b(?:patients?|members?|enrollees?|individuals?|beneficiaries|beneficiary|persons?|people|children|adults|women|men|adolescents|infants)\s+(?:who\s+(?:have|has|are)\s+|with\s+)(?:any|one or more|one|either)\s+of\s+the\s+following\b/i,
  /\b(?:if|when|where)\s+(?:the\s+)?(?:patient|member|individual|beneficiary|enrollee)\s+(?:has|have|had)\s+(?:any|one or more|one|either)\s+of\b/i,
  /\b(?:if|when|where)\s+any\s+of\s+the\s+following\s+(?:criteria\s+|conditions\s+)?(?:are|is|apply|applies)\b/i,
  /\bexclusion criteria\b/i,
];

/** A list of other indications ("… with any of the following indications"), not of the patient's conditions. */
const INDICATIONS = /\bof\s+the\s+following\s+indications?\b/i;

/**
 * Whether a `none` list of `s` means "none of these is present" (a contraindication list, as the
 * ingester reads "in the presence of any of the following contraindications"), so that the section's
 * statement applies when the list is NOT met. Any other `none` list ("not medically necessary when none
 * of the following are met") means the opposite, and cannot be read as exclusions.
 */
export function noneListsContraindications(s: Section): boolean {
  return /\bcontraindicat|\bin the presence of\b/i.test(s.text);
}

/** Whether `s` is a not-proven section listing conditions of the patient that rule the service out. */
export function isExclusionList(s: Section): boolean {
  return (
    s.kind === "not-proven" &&
    s.tree !== undefined &&
    !INDICATIONS.test(s.text) &&
    PATIENT_CONDITIONS.some((r) => r.test(s.text))
  );
}

/**
 * Whether section `s` (as evaluated) holds exclusion list `x` — bound with `excludedBy`, the list is a
 * group of `s`'s root with the list's id (src/library/versions.ts `applyExclusions`).
 */
export function evaluatesList(s: Section, x: Section): boolean {
  return s.tree?.children.some((c) => c.id === x.id) === true;
}

/** The sections of `v` that are exclusion lists (see {@link isExclusionList}). */
export function exclusionLists(v: PolicyVersion): Section[] {
  // Versions are immutable once loaded; the browser asks on every re-evaluation of every line.
  let lists = listsOf.get(v);
  if (lists === undefined) {
    lists = v.sections.filter(isExclusionList);
    listsOf.set(v, lists);
  }
  return lists;
}

const listsOf = new WeakMap<PolicyVersion, Section[]>();
