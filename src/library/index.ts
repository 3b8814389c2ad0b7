/**
 * library/: policy versions, variants, code bindings, resolution by state and date of service, lint,
 * semantic diff, and the decision of a case (SPEC 1.4, 1.5, 2.2). Public surface only.
 */
export type { DecideOptions, LoadedVersion, VersionStatus, VersionSummary } from "./api.js";
export { CASE_SCHEMA_BASE, caseSchemaFor } from "./case-schema.js";
export { ageOn, decide, decideValidated, ENGINE, parseCase } from "./decide.js";
export { diffPolicies, type PolicyDiff } from "./diff.js";
export { encodeDetermination, encodeJson, JsonLinesWriter } from "./json-lines.js";
export {
  checkLibraryFolder,
  defaultPoliciesDir,
  isSeedLibrary,
  LIBRARY_MARKER,
  Library,
  type LibraryEntry,
  libraryLocation,
  loadLibrary,
  todayIso,
} from "./library.js";
export { checkExclusions, type ExclusionCheck, lineRule, uncheckedLists } from "./line-rule.js";
export { compareWithCorporate, corporateFor, type LintFinding, lintExclusions, lintVersion } from "./lint.js";
export { applyCorrections, applyPlacements, placementMatches, withVersion } from "./versions.js";
