import { isIsoDate } from "./calendar.js";
import { birthDateProblem, type Case, LINES_OF_BUSINESS, US_STATE_CODES } from "./case.js";
import { FACT_NAME, MAX_FACTS } from "./facts.js";

export { isIsoDate };

/**
 * A fast acceptance check for well-formed cases, for the hot path of `medpolicy evaluate` on NDJSON
 * (SPEC 5: ≥ 100,000 cases/s). It accepts only what `caseSchema` accepts, producing the same value;
 * anything it is not sure of returns `undefined` and the caller falls back to the zod schema, which
 * then produces the error naming the field. A property test (case-fast.test.ts) holds the two equal.
 */
const LOB = new Set<string>(LINES_OF_BUSINESS);
/** A module-local copy: imported `const` bindings are checked for initialisation at every read. */
const STATES: ReadonlySet<string> = new Set(US_STATE_CODES);
/** The codes of {@link STATES} by their two letters (26 × first + second): no string hashed per case. */
const STATE_TABLE = new Uint8Array(26 * 26);
for (const s of US_STATE_CODES) STATE_TABLE[(s.charCodeAt(0) - 65) * 26 + s.charCodeAt(1) - 65] = 1;
/** `s` is a code of {@link STATES} as it is (two upper-case letters). */
function isUpperState(s: string): boolean {
  if (s.length !== 2) return false;
  const a = s.charCodeAt(0) - 65;
  const b = s.charCodeAt(1) - 65;
  return a >= 0 && a < 26 && b >= 0 && b < 26 && STATE_TABLE[a * 26 + b] === 1;
}
const STATE = /^[A-Za-z]{2}$/;

const isDigit = (x: number) => x >= 48 && x <= 57;
/** 1 for an upper-case ASCII letter, 2 for a lower-case one, 0 otherwise. */
const letter = (x: number) => (x >= 65 && x <= 90 ? 1 : x >= 97 && x <= 122 ? 2 : 0);

/**
 * `CODE_PATTERN` (4 digits and a digit or letter, or a letter and 4 digits; any case) read by
 * character codes, with no regex run and no upper-cased copy per code (issue 13: a case may carry
 * 50 codes): 0 not a code, 1 a code, 2 a code with a lower-case letter (the schema upper-cases it).
 */
function codeForm(c: string): 0 | 1 | 2 {
  if (c.length !== 5) return 0;
  const first = c.charCodeAt(0);
  const l0 = letter(first);
  if (l0 === 0 && !isDigit(first)) return 0;
  for (let i = 1; i < 4; i++) if (!isDigit(c.charCodeAt(i))) return 0;
  const last = c.charCodeAt(4);
  if (isDigit(last)) return l0 === 2 ? 2 : 1;
  if (l0 !== 0) return 0;
  const l4 = letter(last);
  return l4 === 0 ? 0 : l4;
}

/** An ordinary object, as JSON.parse makes (others, e.g. null-prototype objects, take the schema's path). */
function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * The number of keys `for…in` visits. An object has only the fields the schema knows, each defined,
 * exactly when this equals the number of its known fields read as defined: no key set is built nor
 * looked up per key (SPEC 5 hot path).
 */
function keyCount(o: object): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}
/** 1 when `v` is defined: known fields present, summed to compare with {@link keyCount}. */
const has = (v: unknown) => (v === undefined ? 0 : 1);

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isItem = (v: unknown) => isNumber(v) || (typeof v === "string" && v.length <= 200);

/**
 * A fact's value as `factValueSchema` accepts it (number, boolean, string ≤ 200, list ≤ 100 of
 * numbers and strings); its type for the policy is checked when the policy is known (issue 15).
 */
function isFactValue(v: unknown): boolean {
  if (typeof v === "boolean" || isItem(v)) return true;
  if (!Array.isArray(v) || v.length > 100) return false;
  // Every element, holes included (`Array.prototype.every` skips holes; the schema does not).
  for (let i = 0; i < v.length; i++) if (!isItem(v[i])) return false;
  return true;
}

/** Returns the validated case, or `undefined` when the full schema must decide (and explain). */
export function fastParseCase(input: unknown): Case | undefined {
  if (!isPlain(input)) return undefined;
  const { id, member, service, answers, facts, policy } = input;
  // Only the schema's fields (id, member, service, answers, facts, policy), none undefined.
  if (keyCount(input) !== has(id) + has(member) + has(service) + has(answers) + has(facts) + has(policy))
    return undefined;
  if (id !== undefined && (typeof id !== "string" || id.length > 200)) return undefined;
  if (policy !== undefined && (typeof policy !== "string" || policy.length > 100)) return undefined;
  if (!isPlain(member)) return undefined;
  const { id: memberId, state, birthDate, age, lineOfBusiness } = member;
  if (keyCount(member) !== has(memberId) + has(state) + has(birthDate) + has(age) + has(lineOfBusiness))
    return undefined;
  if (typeof state !== "string") return undefined;
  // A code of the set is two upper-case letters: the pattern and upper-casing are for the rest (no
  // copy per case on the hot path).
  const upperState = isUpperState(state);
  if (!upperState && (!STATE.test(state) || !STATES.has(state.toUpperCase()))) return undefined;
  if (memberId !== undefined && (typeof memberId !== "string" || memberId.length > 200)) return undefined;
  if (birthDate !== undefined && !isIsoDate(birthDate)) return undefined;
  if (age !== undefined) {
    if (typeof age !== "number" || !Number.isInteger(age) || age < 0 || age > 130 || birthDate !== undefined)
      return undefined;
  }
  if (lineOfBusiness !== undefined && (typeof lineOfBusiness !== "string" || !LOB.has(lineOfBusiness)))
    return undefined;
  if (!isPlain(service)) return undefined;
  const { codes, dateOfService, drug, expedited } = service;
  if (keyCount(service) !== has(codes) + has(dateOfService) + has(drug) + has(expedited)) return undefined;
  if (!Array.isArray(codes) || codes.length < 1 || codes.length > 50) return undefined;
  let lowerCodes = false;
  for (let i = 0; i < codes.length; i++) {
    const c: unknown = codes[i];
    const form = typeof c === "string" ? codeForm(c) : 0;
    if (form === 0) return undefined;
    if (form === 2) lowerCodes = true;
  }
  if (!isIsoDate(dateOfService)) return undefined;
  // The same cross-field rule as the schema's (issue 13), from the one shared function.
  if (birthDate !== undefined && birthDateProblem(birthDate as string, dateOfService)) return undefined;
  if (drug !== undefined && (typeof drug !== "string" || drug.length < 1 || drug.length > 200))
    return undefined;
  if (expedited !== undefined && typeof expedited !== "boolean") return undefined;
  let ans: Record<string, boolean> = {};
  if (answers !== undefined) {
    if (!isPlain(answers)) return undefined;
    for (const k in answers) {
      // `__proto__` (an own key only from JSON.parse) is the schema's to handle.
      if (k.length > 100 || k === "__proto__" || typeof answers[k] !== "boolean") return undefined;
    }
    ans = answers as Record<string, boolean>;
  }
  let fx: Case["facts"] = {};
  if (facts !== undefined) {
    if (!isPlain(facts)) return undefined;
    let n = 0;
    for (const k in facts) {
      if (++n > MAX_FACTS || !FACT_NAME.test(k) || !isFactValue(facts[k])) return undefined;
    }
    fx = facts as Case["facts"];
  }
  // Checked objects are taken as they are (no copy per case) unless a value must be upper-cased,
  // as the schema's transforms do; the property test holds the result equal to the schema's.
  let m = member as Case["member"];
  if (!upperState) m = { ...m, state: state.toUpperCase() };
  let s = service as Case["service"];
  if (lowerCodes) s = { ...s, codes: s.codes.map((x) => x.toUpperCase()) };
  const out: Case = { member: m, service: s, answers: ans, facts: fx };
  if (id !== undefined) out.id = id as string;
  if (policy !== undefined) out.policy = policy as string;
  return out;
}
