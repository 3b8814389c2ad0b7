/**
 * `medpolicy evaluate`'s JSON Lines writer lives in the library (src/library/json-lines.ts), where
 * the service encodes its replies with it too (issue 13); re-exported for the CLI.
 */
export { encodeDetermination, JsonLinesWriter } from "../library/json-lines.js";
