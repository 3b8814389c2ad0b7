/**
 * library/: policy versions, variants, code bindings, resolution by state and date of service, and
 * the decision of a case (SPEC 1.4, 1.5, 2.2). Public surface only; see the modules beside it.
 */
export type { DecideOptions, LoadedVersion, VersionStatus, VersionSummary } from "./api.js";
export { decide, decideValidated } from "./decide.js";
export { Library, loadLibrary, defaultPoliciesDir } from "./library.js";
