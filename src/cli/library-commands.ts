/**
 * `medpolicy init DIR` and `medpolicy add FILE` (issue 15, item 1). The work is the library layer's
 * (src/library/add.ts), so the service's authoring API (issue 15 item 5) calls the same code; these are
 * the CLI's names for it.
 */
export {
  type AddedVersion,
  type AddOptions,
  type AddResult,
  addDocument,
  type InitResult,
  initLibrary,
} from "../library/add.js";
