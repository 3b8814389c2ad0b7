/** The model layer: types and schemas every other layer reads. */
export * from "./bindings.js";
export { isIsoDate } from "./calendar.js";
export * from "./case.js";
export * from "./case-fast.js";
export * from "./determination.js";
export * from "./errors.js";
export * from "./facts.js";
export * from "./hash.js";
export { checkJson, MAX_JSON_DEPTH } from "./json.js";
export * from "./policy.js";
export * from "./text.js";
