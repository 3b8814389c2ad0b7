import { type Case, CODE_PATTERN, LINES_OF_BUSINESS } from "./case.js";
import { factsSchema } from "./facts.js";

/**
 * A fast acceptance check for well-formed cases, for the hot path of `medpolicy evaluate` on NDJSON
 * (SPEC 5: ≥ 100,000 cases/s). It accepts only what `caseSchema` accepts, producing the same value;
 * anything it is not sure of returns `undefined` and the caller falls back to the zod schema, which
 * then produces the error naming the field. A property test (case-fast.test.ts) holds the two equal.
 */
const MEMBER_KEYS = new Set(["id", "state", "birthDate", "age", "lineOfBusiness"]);
const SERVICE_KEYS = new Set(["codes", "dateOfService", "drug", "expedited"]);
const ROOT_KEYS = new Set(["id", "member", "service", "answers", "facts", "policy"]);
const LOB = new Set<string>(LINES_OF_BUSINESS);
const STATE = /^[A-Za-z]{2}$/;
const CODE = CODE_PATTERN;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** An ordinary object, as JSON.parse makes (others, e.g. null-prototype objects, take the schema's path). */
function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

function onlyKeys(o: Record<string, unknown>, allowed: Set<string>): boolean {
  for (const k in o) if (!allowed.has(k) || o[k] === undefined) return false;
  return true;
}

/** A calendar date `YYYY-MM-DD` (as zod's `iso.date`). */
export function isIsoDate(v: unknown): v is string {
  if (typeof v !== "string") return false;
  const m = DATE.exec(v);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = mo === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(mo) ? 30 : 31;
  return d <= days;
}

/** Returns the validated case, or `undefined` when the full schema must decide (and explain). */
export function fastParseCase(input: unknown): Case | undefined {
  if (!isPlain(input) || !onlyKeys(input, ROOT_KEYS)) return undefined;
  const { id, member, service, answers, facts, policy } = input;
  if (id !== undefined && (typeof id !== "string" || id.length > 200)) return undefined;
  if (policy !== undefined && (typeof policy !== "string" || policy.length > 100)) return undefined;
  if (!isPlain(member) || !onlyKeys(member, MEMBER_KEYS)) return undefined;
  if (typeof member.state !== "string" || !STATE.test(member.state)) return undefined;
  if (member.id !== undefined && (typeof member.id !== "string" || member.id.length > 200)) return undefined;
  if (member.birthDate !== undefined && !isIsoDate(member.birthDate)) return undefined;
  if (member.age !== undefined) {
    const a = member.age;
    if (typeof a !== "number" || !Number.isInteger(a) || a < 0 || a > 130 || member.birthDate !== undefined)
      return undefined;
  }
  if (member.lineOfBusiness !== undefined && !LOB.has(member.lineOfBusiness as string)) return undefined;
  if (!isPlain(service) || !onlyKeys(service, SERVICE_KEYS)) return undefined;
  const codes = service.codes;
  if (!Array.isArray(codes) || codes.length < 1 || codes.length > 50) return undefined;
  for (const c of codes) if (typeof c !== "string" || !CODE.test(c)) return undefined;
  if (!isIsoDate(service.dateOfService)) return undefined;
  const drug = service.drug;
  if (drug !== undefined && (typeof drug !== "string" || drug.length < 1 || drug.length > 200))
    return undefined;
  if (service.expedited !== undefined && typeof service.expedited !== "boolean") return undefined;
  let ans: Record<string, boolean> = {};
  if (answers !== undefined) {
    if (!isPlain(answers)) return undefined;
    for (const k in answers) if (k.length > 100 || typeof answers[k] !== "boolean") return undefined;
    ans = answers as Record<string, boolean>;
  }
  let fx: Case["facts"] = {};
  if (facts !== undefined) {
    if (!isPlain(facts)) return undefined;
    // Facts are few and varied: the schema itself is cheap enough here.
    const r = factsSchema.safeParse(facts);
    if (!r.success) return undefined;
    fx = r.data;
  }
  const m: Case["member"] = { state: member.state.toUpperCase() };
  if (member.id !== undefined) m.id = member.id as string;
  if (member.birthDate !== undefined) m.birthDate = member.birthDate as string;
  if (member.age !== undefined) m.age = member.age as number;
  if (member.lineOfBusiness !== undefined)
    m.lineOfBusiness = member.lineOfBusiness as Case["member"]["lineOfBusiness"];
  const s: Case["service"] = {
    codes: (codes as string[]).map((c) => c.toUpperCase()),
    dateOfService: service.dateOfService as string,
  };
  if (drug !== undefined) s.drug = drug as string;
  if (service.expedited !== undefined) s.expedited = service.expedited as boolean;
  const out: Case = { member: m, service: s, answers: ans, facts: fx };
  if (id !== undefined) out.id = id as string;
  if (policy !== undefined) out.policy = policy as string;
  return out;
}
