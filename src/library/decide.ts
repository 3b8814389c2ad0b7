import {
  type CompiledPolicy,
  evaluateSection,
  evaluateSections,
  type SectionInput,
  type SectionOutcome,
  type SectionResult,
} from "../evaluate/index.js";
import {
  type Case,
  type CodeBinding,
  type CodeMarker,
  type CodeRow,
  type CodeTable,
  caseSchema,
  type Determination,
  DeterminationError,
  fastParseCase,
  InputError,
  type Line,
  type Needed,
  type Outcome,
  type PolicyRef,
  type Reason,
  type Referral,
  type Section,
  type TraceNode,
} from "../model/index.js";
import type { DecideOptions } from "./api.js";
import type { Library, LibraryEntry } from "./library.js";
import { todayIso } from "./library.js";
import { checkExclusions, lineRule, uncheckedLists } from "./line-rule.js";

/** Engine identity stored with every determination (SPEC 4: reproducible byte for byte). */
export const ENGINE = "medpolicy-engine/0.1.0";

/**
 * Validates a case (SPEC 2.1), turning zod issues into one InputError whose message names every field.
 * The result may share objects with `input` (the fast path takes checked objects as they are): treat
 * both as read-only.
 */
export function parseCase(input: unknown): Case {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new InputError("a case must be a JSON object with member, service and answers", {
      field: "(root)",
    });
  }
  const fast = fastParseCase(input);
  if (fast) return fast;
  const r = caseSchema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => {
    const field = i.path.length ? i.path.map(String).join(".") : "(root)";
    let message = i.message;
    if (i.code === "unrecognized_keys") message = `unknown field(s): ${i.keys.join(", ")}`;
    if (i.code === "invalid_type" && /received undefined/.test(i.message)) message = "is required";
    return { message: `${field}: ${message}`, where: { field } };
  });
  const first = issues[0]!;
  throw new InputError(issues.map((i) => i.message).join("; "), first.where, issues);
}

/** Whole years from `birth` to `on` (ISO dates `YYYY-MM-DD`, validated by the case schema). */
export function ageOn(birth: string, on: string): number {
  const by = num(birth, 0, 4);
  const bm = num(birth, 5, 7);
  const bd = num(birth, 8, 10);
  const y = num(on, 0, 4);
  const m = num(on, 5, 7);
  const d = num(on, 8, 10);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

function num(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + (s.charCodeAt(i) - 48);
  return n;
}

const refs = new WeakMap<LibraryEntry, Map<string, PolicyRef>>();
/**
 * The reference to a version (and section), made once and frozen: every determination shares it, so
 * NDJSON output encodes it once (SPEC 5).
 */
function policyRef(entry: LibraryEntry, section?: string): PolicyRef {
  let bySection = refs.get(entry);
  if (bySection === undefined) {
    bySection = new Map();
    refs.set(entry, bySection);
  }
  const key = section ?? "";
  let ref = bySection.get(key);
  if (ref === undefined) {
    const id = entry.policy.identity;
    const r: PolicyRef = { id: id.id, version: id.version, hash: entry.policy.hash, title: id.title };
    if (section) r.section = section;
    ref = Object.freeze(r);
    bySection.set(key, ref);
  }
  return ref;
}

const rowIndex = new WeakMap<LibraryEntry, Map<string, { table: CodeTable; row: CodeRow }>>();
/** The code-table row of `code` in a version (indexed once per version). */
function findRow(entry: LibraryEntry, code: string): { table: CodeTable; row: CodeRow } | undefined {
  let index = rowIndex.get(entry);
  if (!index) {
    index = new Map();
    for (const table of entry.policy.codeTables) {
      for (const row of table.rows) if (!index.has(row.code)) index.set(row.code, { table, row });
    }
    rowIndex.set(entry, index);
  }
  return index.get(code);
}

const words = (s: string): string[] => s.toLowerCase().match(/[a-z0-9]+/g) ?? [];

interface ReferralMatch {
  referral?: Referral;
  matched: boolean;
}
const referrals = new WeakMap<LibraryEntry, Map<string, ReferralMatch>>();

/** A cross-reference whose subject names the requested drug ("for requests for Baclofen"), per version and drug. */
function referralFor(lib: Library, entry: LibraryEntry, drug: string): ReferralMatch {
  let byDrug = referrals.get(entry);
  if (byDrug === undefined) {
    byDrug = new Map();
    referrals.set(entry, byDrug);
  }
  let found = byDrug.get(drug);
  if (found === undefined) {
    found = findReferral(lib, entry, drug);
    // Drug names are few; the bound only keeps hostile input from growing the cache.
    if (byDrug.size < 1024) byDrug.set(drug, found);
  }
  return found;
}

/**
 * The drug names a reference covers: its subject's words, and where the referenced policy's title
 * names the subject, the other names it gives in parentheses — "Intrathecal Baclofen (Gablofen,
 * Lioresal)" for requests for Baclofen: a request for Lioresal is one for baclofen (SPEC 1.5; an audit
 * found "Lioresal" and "Gablofen" decided as opioid requests).
 */
function namesOf(x: { subject?: string; title?: string }): string[] {
  if (!x.subject) return [];
  const subject = words(x.subject);
  const title = x.title ?? "";
  if (!words(title).some((w) => subject.includes(w))) return subject;
  const inParens = title.match(/\([^()]{1,200}\)/g) ?? [];
  return [...subject, ...inParens.flatMap((p) => words(p))];
}

function findReferral(lib: Library, entry: LibraryEntry, drug: string): ReferralMatch {
  const d = new Set(words(drug));
  const matches = (x: { subject?: string; title?: string }) => namesOf(x).some((w) => d.has(w));
  const own = entry.policy.crossReferences.find((x) => matches(x));
  if (own) {
    return {
      matched: true,
      referral: Object.freeze({ target: own.target, title: own.title, text: own.text }),
    };
  }
  // A variant that dropped the reference still does not govern the drug its corporate policy redirects.
  const inherited = lib
    .versionsOf(entry.policy.identity.baseId)
    .some((e) => e.approved !== undefined && e.policy.crossReferences.some((x) => matches(x)));
  return { matched: inherited };
}

const bindingIndex = new WeakMap<LibraryEntry, Map<string, CodeBinding>>();
/** The authored binding of `code` in a version (SPEC 1.5), indexed once per version; the first wins. */
export function bindingOf(entry: LibraryEntry, code: string): CodeBinding | undefined {
  let index = bindingIndex.get(entry);
  if (index === undefined) {
    index = new Map();
    for (const b of entry.codes) for (const c of b.codes) if (!index.has(c)) index.set(c, b);
    bindingIndex.set(entry, index);
  }
  return index.get(code);
}

/** A line decided by a rule before the criteria (SPEC 2.2 precedence 1–4): no reasons, nothing needed. */
function ruled(code: string, outcome: Outcome, basis: string, policy?: PolicyRef): Line {
  const line: Line = { code, outcome } as Line;
  if (policy) line.policy = policy;
  line.basis = basis;
  line.reasons = [];
  line.needed = [];
  return line;
}

/** Kinds of {@link CodeRule}. */
const RULED = 0;
const MARKER = 1;
const CRITERIA = 2;

/** A section of a version with criteria: the unit evaluated once per case (issue 13). */
interface SectionKey {
  readonly entry: LibraryEntry;
  readonly id: string;
}

/** The section outcomes in the order of {@link CodeRule.lineOutcome} (see {@link outcomeIndex}). */
const SECTION_OUTCOMES: readonly SectionOutcome[] = ["approved", "review", "denied", "pended"];

function outcomeIndex(o: SectionOutcome): number {
  return o === "approved" ? 0 : o === "review" ? 1 : o === "denied" ? 2 : 3;
}

/**
 * `OUTCOME_SEVERITY` (SPEC 2.2) as a function: comparing interned strings beats a keyed read of the
 * imported table per line (issue 13: 16 codes cost as much as their sections, not their lines).
 */
function severity(o: Outcome): number {
  switch (o) {
    case "not-covered":
      return 5;
    case "denied":
      return 4;
    case "review":
      return 3;
    case "pended":
      return 2;
    case "approved":
      return 1;
    default:
      return 0;
  }
}

/**
 * What a code decides in one version before the case is read (SPEC 2.2 precedence 2–5), made once
 * per (version, code) and shared by every case: a rule's outcome and basis (does-not-support table,
 * coding only, no section bound, not-proven section), a fee-schedule marker (the member's age decides),
 * or the governing section's criteria with the line's outcome and basis per section outcome (the
 * uncertain reading and the `otherwise` section applied). The drug referral (precedence 1) is the
 * case's, checked before the rule. One object shape for every kind: the hot path reads it monomorphic.
 */
interface CodeRule {
  readonly kind: typeof RULED | typeof MARKER | typeof CRITERIA;
  readonly policy: PolicyRef;
  /** RULED: the line's outcome and basis. */
  readonly outcome: Outcome;
  readonly basis: string;
  /** MARKER: the marker's meaning. */
  readonly marker: CodeMarker | undefined;
  /** CRITERIA: the section, and the line's outcome and basis per section outcome. */
  readonly key: SectionKey | undefined;
  readonly lineOutcome: readonly Outcome[];
  readonly lineBasis: readonly string[];
  /**
   * CRITERIA: the section, when an approval must be read with exclusion lists no binding put in it
   * (src/library/line-rule.ts `checkExclusions`); undefined otherwise, as for every seed.
   */
  readonly listsFor: Section | undefined;
}

function rule(
  kind: CodeRule["kind"],
  policy: PolicyRef,
  outcome: Outcome,
  basis: string,
  extra: Partial<Pick<CodeRule, "marker" | "key" | "lineOutcome" | "lineBasis" | "listsFor">> = {},
): CodeRule {
  return {
    kind,
    policy,
    outcome,
    basis,
    marker: extra.marker,
    key: extra.key,
    lineOutcome: extra.lineOutcome ?? [],
    lineBasis: extra.lineBasis ?? [],
    listsFor: extra.listsFor,
  };
}

const rules = new WeakMap<LibraryEntry, Map<string, CodeRule>>();
let lastEntry: LibraryEntry | undefined;
let lastRules: Map<string, CodeRule> | undefined;
const sectionKeys = new WeakMap<LibraryEntry, Map<string, SectionKey>>();

/** The rule of `code` in a version (cached; throws DeterminationError when its binding names no section). */
function ruleFor(entry: LibraryEntry, code: string): CodeRule {
  // The last version's table is kept at hand: consecutive cases and codes mostly share a version.
  let byCode = entry === lastEntry ? lastRules : rules.get(entry);
  if (byCode === undefined) {
    byCode = new Map();
    rules.set(entry, byCode);
  }
  lastEntry = entry;
  lastRules = byCode;
  let r = byCode.get(code);
  if (r === undefined) {
    r = buildRule(entry, code);
    // Codes are the library's (or, for a case naming its policy, the caller's): the bound only keeps
    // hostile input from growing the cache.
    if (byCode.size < 4096) byCode.set(code, r);
  }
  return r;
}

function sectionKey(entry: LibraryEntry, id: string): SectionKey {
  let byId = sectionKeys.get(entry);
  if (byId === undefined) {
    byId = new Map();
    sectionKeys.set(entry, byId);
  }
  let k = byId.get(id);
  if (k === undefined) {
    k = Object.freeze({ entry, id });
    byId.set(id, k);
  }
  return k;
}

/** SPEC 2.2 precedence 2–5 for one code of a version, as {@link CodeRule} describes. */
function buildRule(entry: LibraryEntry, code: string): CodeRule {
  const found = findRow(entry, code);
  const marker = found?.row.marker
    ? entry.policy.codeMarkers.find(
        (m) => m.marker === found.row.marker && m.meaning === "not-on-fee-schedule",
      )
    : undefined;
  if (marker) return rule(MARKER, policyRef(entry), "pended", "", { marker });
  const binding = bindingOf(entry, code);
  if (found?.table.coverage === "does-not-support") {
    const section = binding && "section" in binding ? binding.section : undefined;
    return rule(
      RULED,
      policyRef(entry, section),
      "not-covered",
      `${code} is listed among the codes that do not support coverage`,
    );
  }
  if (binding && "codingOnly" in binding) {
    return rule(RULED, policyRef(entry), "not-applicable", `${code} is listed for coding only`);
  }
  if (!binding) {
    return rule(
      RULED,
      policyRef(entry),
      "review",
      found
        ? `${code} is listed in the policy's code tables but no section is bound to it: manual review`
        : entry.proposed?.some((p) => p.codes.includes(code))
          ? // Only in a proposal from the document's text (issue 15).
            `${code} is named by the policy but no section is bound to it (an unconfirmed proposal): manual review`
          : // Named by the request, or routed to another version of the policy by date: this version's
            // bindings, tables and proposals do not name it.
            `${code} is not a code of ${entry.policy.identity.id}@${entry.policy.identity.version} (its bindings, code tables and proposals do not name it): manual review`,
    );
  }
  const section = entry.evaluated.sections.find((s) => s.id === binding.section);
  if (!section) {
    throw new DeterminationError(`bindings name section ${binding.section}, which the policy does not have`, {
      policy: entry.policy.identity.id,
      version: entry.policy.identity.version,
    });
  }
  if (section.kind === "not-proven") {
    return rule(RULED, policyRef(entry, section.id), "not-covered", `section ${section.id}: ${section.text}`);
  }
  if (!section.tree) {
    // A section with no criteria that is not a non-coverage statement (a paragraph, "N/A", coverage
    // stated with nothing to ask): nothing the engine could decide, so never an adverse outcome.
    return rule(
      RULED,
      policyRef(entry, section.id),
      "review",
      `section ${section.id} states no criteria the engine can evaluate: manual review`,
    );
  }
  const lineOutcome: Outcome[] = [];
  const lineBasis: string[] = [];
  for (const o of SECTION_OUTCOMES) {
    const r = lineRule(entry.evaluated, section, o, binding.otherwise);
    lineOutcome.push(r.outcome);
    lineBasis.push(r.basis);
  }
  return rule(CRITERIA, policyRef(entry, section.id), "pended", "", {
    key: sectionKey(entry, section.id),
    lineOutcome,
    lineBasis,
    listsFor: uncheckedLists(entry.evaluated, section).length > 0 ? section : undefined,
  });
}

/** SPEC 2.2 precedence 2: a code not on the state fee schedule, decided by the member's age. */
function markerLine(c: Case, code: string, r: CodeRule): Line {
  const marker = r.marker!;
  const age =
    c.member.age ?? (c.member.birthDate ? ageOn(c.member.birthDate, c.service.dateOfService) : undefined);
  const limit = marker.reviewUnderAge ?? 21;
  if (age === undefined) {
    return ruled(
      code,
      "pended",
      `${code}${marker.marker} is not on the state fee schedule; the member's age on the date of service decides (birthDate or age needed)`,
      r.policy,
    );
  }
  return ruled(
    code,
    age >= limit ? "not-covered" : "review",
    age >= limit
      ? `${code}${marker.marker} is not on the state fee schedule (member ${age}, ${limit} or older): ${marker.text}`
      : `${code}${marker.marker} is not on the state fee schedule; members under ${limit} are reviewed case by case`,
    r.policy,
  );
}

/** SPEC 2.2 precedence 1: a drug whose requests another policy governs; undefined when none does. */
function referralLine(lib: Library, c: Case, code: string, entry: LibraryEntry): Line | undefined {
  const drug = c.service.drug!;
  const { referral, matched } = referralFor(lib, entry, drug);
  if (!matched) return undefined;
  const line = ruled(
    code,
    "not-applicable",
    referral
      ? `requests for ${drug} are governed by ${referral.target} ${referral.title}`
      : `${entry.policy.identity.baseId} redirects requests for ${drug} to another policy`,
    policyRef(entry),
  );
  if (referral) line.referral = referral;
  return line;
}

/**
 * The version governing each code (SPEC 1.4): the case's named version, or by state and date of
 * service (the library remembers each resolution, so many codes of one policy cost one).
 */
function entriesFor(lib: Library, c: Case, opts: DecideOptions): (LibraryEntry | undefined)[] {
  const codes = c.service.codes;
  const out: (LibraryEntry | undefined)[] = new Array(codes.length);
  if (c.policy) return out.fill(namedEntry(lib, c, opts));
  let prevBase: string | undefined;
  let prevEntry: LibraryEntry | undefined;
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i]!;
    const bases = lib.policiesForCode(code);
    if (bases.length === 0) continue;
    // Codes of one policy, as a case's codes mostly are: resolved once.
    if (bases[0] !== prevBase) {
      prevEntry = resolvedEntry(lib, c, code);
      prevBase = bases[0];
    }
    out[i] = prevEntry;
  }
  return out;
}

/** Unknown criterion ids are bad input (SPEC 2.1): checked against every version the case resolves to. */
function checkAnswerIds(entries: readonly LibraryEntry[], answers: Record<string, boolean>): void {
  if (entries.length === 0) return;
  const unknown: string[] = [];
  if (entries.length === 1) {
    // The usual case: one version, looked up in its compiled table of answerable ids.
    const table = entries[0]!.compiled().answerEntries;
    for (const id in answers) if (table[id] === undefined) unknown.push(id);
  } else {
    for (const id in answers) if (!entries.some((e) => e.answerable().has(id))) unknown.push(id);
  }
  if (unknown.length === 0) return;
  const e = entries[0]!.policy.identity;
  throw new InputError(
    unknown.map((id) => `answers.${id}: unknown criterion id for ${e.id}@${e.version}`).join("; "),
    { field: `answers.${unknown[0]}`, criterion: unknown[0]!, policy: e.id, version: e.version },
  );
}

/**
 * A case's facts checked against the vocabularies of the versions that decide it (issue 15): a fact
 * one of them declares, of its type, is accepted; otherwise InputError naming fact, policy and type.
 * With no deciding version nothing reads the facts, and only their shape was checked.
 */
function checkFacts(entries: readonly LibraryEntry[], facts: Case["facts"]): void {
  if (entries.length === 0) return;
  if (entries.length === 1) {
    entries[0]!.factCheck.check(facts);
    return;
  }
  for (const name in facts) {
    const one = { [name]: facts[name]! };
    const declaring = entries.filter((e) => e.vocabulary.has(name));
    if (declaring.some((e) => accepts(e, one))) continue;
    // Named by the first version that declares it (its type), else by the first version.
    (declaring[0] ?? entries[0]!).factCheck.check(one);
  }
}

/**
 * A case no version decides (its codes in no policy) is still checked (SPEC 2.1: unknown ids and wrong
 * types are rejected, nothing is guessed): an answer id no version of the library knows, a fact none
 * declares, or a value no declaring version accepts is bad input (an audit found them answered
 * `not-applicable`, exit 0, where the same answers with a governed code exit 2).
 */
function checkAgainstLibrary(lib: Library, c: Case): void {
  for (const id in c.answers) {
    if (lib.entries.some((e) => e.answerable().has(id))) continue;
    throw new InputError(`answers.${id}: unknown criterion id in every policy of the library`, {
      field: `answers.${id}`,
      criterion: id,
    });
  }
  for (const name in c.facts) {
    const one = { [name]: c.facts[name]! };
    const declaring = lib.entries.filter((e) => e.vocabulary.has(name));
    if (declaring.length === 0)
      throw new InputError(`facts.${name}: no policy in the library declares this fact`, {
        field: `facts.${name}`,
      });
    if (!declaring.some((e) => accepts(e, one))) declaring[0]!.factCheck.check(one);
  }
}

function accepts(e: LibraryEntry, facts: Case["facts"]): boolean {
  try {
    e.factCheck.check(facts);
    return true;
  } catch {
    return false;
  }
}

/**
 * Evaluates the sections `keys` on the case, each once (issue 13), the sections of one version
 * together so its answers are read once; results parallel to `keys`.
 */
function evaluateKeys(c: Case, keys: readonly SectionKey[], how: DecideOptions): SectionResult[] {
  const input = { answers: c.answers, facts: c.facts, dateOfService: c.service.dateOfService };
  const opts = evaluateOptions(how, false);
  const results: SectionResult[] = new Array(keys.length);
  if (keys.length === 1) {
    const k = keys[0]!;
    results[0] = evaluateSection(k.entry.compiled(), k.id, input, opts);
    return results;
  }
  // Grouped by version in order of first appearance (so the first code's version reports first).
  const done: boolean[] = new Array(keys.length).fill(false);
  for (let a = 0; a < keys.length; a++) {
    if (done[a]) continue;
    const entry = keys[a]!.entry;
    const at: number[] = [];
    const ids: string[] = [];
    for (let b = a; b < keys.length; b++) {
      if (!done[b] && keys[b]!.entry === entry) {
        done[b] = true;
        at.push(b);
        ids.push(keys[b]!.id);
      }
    }
    const rs = evaluateSections(entry.compiled(), ids, input, opts);
    for (let j = 0; j < at.length; j++) results[at[j]!] = rs[j]!;
  }
  return results;
}

/** The version a case names (SPEC 1.4 `ID@VERSION`); InputError when the library lacks it. */
function namedEntry(lib: Library, c: Case, opts: DecideOptions): LibraryEntry {
  try {
    // Issue 15 item 3: a bare id never falls back to a draft; a draft decides when named by version.
    return lib.get(c.policy!, opts.today ?? todayIso(), {
      approvedOnly: true,
      drafts: opts.refuseDrafts !== true,
    });
  } catch (e) {
    // A case naming a policy or version the library lacks is bad input, like an unknown criterion id.
    throw new InputError(`policy: ${(e as Error).message}`, { field: "policy" });
  }
}

/** {@link resolvedEntry}'s last answer (a library never changes after loading). */
const lastResolved: {
  lib: Library | undefined;
  baseId: string;
  state: string;
  dos: string;
  entry: LibraryEntry | undefined;
} = { lib: undefined, baseId: "", state: "", dos: "", entry: undefined };

/** The version governing `code` by state and date of service (SPEC 1.4); undefined when no policy names it. */
function resolvedEntry(lib: Library, c: Case, code: string): LibraryEntry | undefined {
  const bases = lib.policiesForCode(code);
  if (bases.length === 0) return undefined;
  const baseId = bases[0]!;
  const state = c.member.state;
  const dos = c.service.dateOfService;
  // The last resolution at hand: consecutive cases mostly share policy, state and date, and comparing
  // two short strings costs less than the library's three hashed look-ups (issue 13).
  const last = lastResolved;
  if (last.lib === lib && last.baseId === baseId && last.state === state && last.dos === dos && last.entry)
    return last.entry;
  const entry = lib.resolve(baseId, state, dos);
  if (entry) {
    last.lib = lib;
    last.baseId = baseId;
    last.state = state;
    last.dos = dos;
    last.entry = entry;
  }
  if (!entry) {
    throw new DeterminationError(
      `no version of ${baseId} (nor a ${c.member.state} variant) is effective on ${c.service.dateOfService}`,
      { policy: baseId, field: "service.dateOfService" },
    );
  }
  return entry;
}

/**
 * `decideValidated` for a case of one code, the usual request: the same steps as for many codes
 * (version, answer ids, the rule or the section's criteria, the determination) without the lists
 * that gather lines (issue 13: what goes around the evaluator costs as much as it).
 */
function decideOne(lib: Library, c: Case, code: string, opts: DecideOptions): Determination {
  const entry = c.policy ? namedEntry(lib, c, opts) : resolvedEntry(lib, c, code);
  let line: Line | undefined;
  let trace: TraceNode | undefined;
  if (entry === undefined) {
    checkAgainstLibrary(lib, c);
    line = ruled(code, "not-applicable", `no policy in the library governs code ${code}`);
  } else {
    // Issue 15: the case's facts are read as the deciding version declares them, or refused.
    entry.factCheck.check(c.facts);
    if (c.service.drug) line = referralLine(lib, c, code, entry);
    let r: CodeRule | undefined;
    if (line === undefined) {
      try {
        r = ruleFor(entry, code);
      } catch (e) {
        // Bad input is reported before what the library cannot decide (SPEC 2.1, 2.2).
        checkAnswerIds([entry], c.answers);
        throw e;
      }
    }
    if (r !== undefined && r.kind === CRITERIA) {
      // The evaluator checks the answer ids as it reads them (one pass over the answers).
      const res = evaluateSection(
        entry.compiled(),
        r.key!.id,
        { answers: c.answers, facts: c.facts, dateOfService: c.service.dateOfService },
        evaluateOptions(opts, true),
      );
      const o = outcomeIndex(res.outcome);
      line = {
        code,
        outcome: r.lineOutcome[o]!,
        policy: r.policy,
        basis: r.lineBasis[o]!,
        reasons: res.reasons,
        needed: res.needed,
      };
      if (o === 0 && r.listsFor !== undefined) withExclusions(line, entry, r.listsFor, c, opts);
      trace = res.trace;
    } else {
      checkAnswerIds([entry], c.answers);
      if (r !== undefined)
        line = r.kind === RULED ? ruled(code, r.outcome, r.basis, r.policy) : markerLine(c, code, r);
    }
  }
  // As `combine` with one line: the determination's lists are the line's (SPEC 2.2).
  const d = {} as Determination;
  if (c.id !== undefined) d.id = c.id;
  d.outcome = line!.outcome;
  if (line!.policy) d.policy = line!.policy;
  d.reasons = line!.reasons;
  d.needed = line!.needed;
  if (trace !== undefined) d.trace = trace;
  d.lines = [line!];
  if (line!.referral) d.referral = line!.referral;
  d.engine = ENGINE;
  return d;
}

/**
 * A line whose section's criteria are met, read with the version's unbound exclusion lists
 * (src/library/line-rule.ts `checkExclusions`): its outcome, basis, reasons and needed become theirs.
 */
function withExclusions(
  line: Line,
  entry: LibraryEntry,
  section: Section,
  c: Case,
  opts: DecideOptions,
): void {
  const x = checkExclusions(
    entry.compiled(),
    entry.evaluated,
    section,
    { answers: c.answers, facts: c.facts, dateOfService: c.service.dateOfService },
    { trace: opts.trace !== false, needed: opts.needed !== false },
  );
  if (x === undefined) return;
  line.outcome = x.outcome;
  line.basis = x.basis;
  line.reasons = x.reasons;
  line.needed = x.needed;
  if (x.traces.length > 0) line.exclusions = x.traces;
}

/**
 * The evaluator's options by mode, indexed by (trace left out) + 2 × (`needed` left out): with the
 * trace, without it; the trace without `needed` (impact's criteria of a changed request), the outcome
 * alone (impact's replay).
 */
const MODES = [
  { trace: true },
  { trace: false },
  { trace: true, needed: false },
  { trace: false, needed: false },
].map((o) => Object.freeze(o));
/** The same, the answer ids checked as the evaluator reads them. */
const CHECKED_MODES = MODES.map((o) => Object.freeze({ ...o, onUnknownId: unknownAnswerIds }));

/** The evaluator's options for `o` (shared frozen objects: nothing is allocated per case). */
function evaluateOptions(o: DecideOptions, checked: boolean) {
  const mode = (o.trace === false ? 1 : 0) + (o.needed === false ? 2 : 0);
  return (checked ? CHECKED_MODES : MODES)[mode]!;
}

/**
 * As {@link checkAnswerIds} for one version, called by the evaluator at the first unknown id: throws
 * the same InputError, naming every unknown id.
 */
function unknownAnswerIds(cp: CompiledPolicy, input: SectionInput): void {
  const table = cp.answerEntries;
  const unknown: string[] = [];
  for (const id in input.answers) if (table[id] === undefined) unknown.push(id);
  const e = cp.version.identity;
  throw new InputError(
    unknown.map((id) => `answers.${id}: unknown criterion id for ${e.id}@${e.version}`).join("; "),
    { field: `answers.${unknown[0]}`, criterion: unknown[0]!, policy: e.id, version: e.version },
  );
}

/** As `decide`, for a case already validated by `caseSchema` (SPEC 2.2). */
export function decideValidated(lib: Library, c: Case, opts: DecideOptions = {}): Determination {
  const codes = c.service.codes;
  const n = codes.length;
  if (n === 1) return decideOne(lib, c, codes[0]!, opts);
  const entries = entriesFor(lib, c, opts);
  let distinct: LibraryEntry[] | undefined;
  let only: LibraryEntry | undefined;
  for (const e of entries) {
    if (e === undefined || e === only || distinct?.includes(e)) continue;
    if (only === undefined) only = e;
    else {
      distinct ??= [only];
      distinct.push(e);
    }
  }
  if (only === undefined) checkAgainstLibrary(lib, c);
  checkAnswerIds(distinct ?? (only ? [only] : []), c.answers);
  checkFacts(distinct ?? (only ? [only] : []), c.facts);

  // First the rules, without the answers; then each section the codes need, once; then the lines.
  const lines: (Line | undefined)[] = new Array(n);
  const codeRules: (CodeRule | undefined)[] = new Array(n);
  const keys: SectionKey[] = [];
  const slot: number[] = new Array(n);
  let failure: unknown;
  for (let i = 0; i < n; i++) {
    const code = codes[i]!;
    const entry = entries[i];
    if (entry === undefined) {
      lines[i] = ruled(code, "not-applicable", `no policy in the library governs code ${code}`);
      continue;
    }
    if (c.service.drug) {
      const line = referralLine(lib, c, code, entry);
      if (line !== undefined) {
        lines[i] = line;
        continue;
      }
    }
    let r: CodeRule;
    try {
      r = ruleFor(entry, code);
    } catch (e) {
      // Raised where the code's line is decided: the sections of the codes before it first (SPEC 2.2
      // decides lines in order, so their errors come first).
      failure = e;
      break;
    }
    codeRules[i] = r;
    if (r.kind === RULED) lines[i] = ruled(code, r.outcome, r.basis, r.policy);
    else if (r.kind === MARKER) lines[i] = markerLine(c, code, r);
    else {
      let k = keys.indexOf(r.key!);
      if (k < 0) k = keys.push(r.key!) - 1;
      slot[i] = k;
    }
  }
  const results = keys.length > 0 ? evaluateKeys(c, keys, opts) : undefined;
  if (failure !== undefined) throw failure;

  const traces: (TraceNode | undefined)[] = new Array(n);
  let top = 0;
  let topSeverity = -1;
  for (let i = 0; i < n; i++) {
    let line = lines[i];
    if (line === undefined) {
      const r = codeRules[i]!;
      const res = results![slot[i]!]!;
      const o = outcomeIndex(res.outcome);
      line = {
        code: codes[i]!,
        outcome: r.lineOutcome[o]!,
        policy: r.policy,
        basis: r.lineBasis[o]!,
        reasons: res.reasons,
        needed: res.needed,
      };
      if (o === 0 && r.listsFor !== undefined) withExclusions(line, r.key!.entry, r.listsFor, c, opts);
      lines[i] = line;
      traces[i] = res.trace;
    }
    const sev = severity(line.outcome);
    if (sev > topSeverity) {
      top = i;
      topSeverity = sev;
    }
  }
  return combine(c, lines as Line[], traces, top);
}

/**
 * The determination from its lines (SPEC 2.2): the most severe line (the first of them) decides; its
 * reasons and needed, or with several lines those of every line as severe, each criterion once.
 */
function combine(
  c: Case,
  lines: Line[],
  traces: readonly (TraceNode | undefined)[],
  top: number,
): Determination {
  const first = lines[top]!;
  let reasons: Reason[];
  let needed: Needed[];
  if (lines.length === 1) {
    // One line: the determination's lists are the line's (SPEC 2.2); shared, as nothing changes them.
    reasons = first.reasons;
    needed = first.needed;
  } else {
    // The lines as severe as the most severe one, each criterion once (SPEC 2.2). Lines of one
    // section share their lists: a list already merged adds nothing, so each is merged once.
    // Lines before `top` are less severe, so they have another outcome.
    const reasonLists: Reason[][] = [first.reasons];
    const neededLists: Needed[][] = [first.needed];
    for (let i = top + 1; i < lines.length; i++) {
      const l = lines[i]!;
      if (l.outcome !== first.outcome) continue;
      if (l.reasons.length > 0 && !reasonLists.includes(l.reasons)) reasonLists.push(l.reasons);
      if (l.needed.length > 0 && !neededLists.includes(l.needed)) neededLists.push(l.needed);
    }
    reasons = mergeBy(reasonLists);
    needed = mergeBy(neededLists);
  }
  // Key order follows SPEC 2.2; the deciding line's trace is the determination's, not repeated in the line.
  for (let i = 0; i < lines.length; i++) {
    const t = traces[i];
    if (t !== undefined && i !== top) lines[i]!.trace = t;
  }
  const d = {} as Determination;
  if (c.id !== undefined) d.id = c.id;
  d.outcome = first.outcome;
  if (first.policy) d.policy = first.policy;
  d.reasons = reasons;
  d.needed = needed;
  const t = traces[top];
  if (t !== undefined) d.trace = t;
  d.lines = lines;
  if (first.referral) d.referral = first.referral;
  d.engine = ENGINE;
  return d;
}

/** The items of `lists` in order, each criterion once (the first occurrence kept). */
function mergeBy<X extends { criterion: string }>(lists: readonly X[][]): X[] {
  const out: X[] = [];
  for (const list of lists) {
    for (const x of list) {
      let seen = false;
      // Lists hold a section's criteria (tens at most): a scan costs less than a Set.
      for (let j = 0; j < out.length; j++) {
        if (out[j]!.criterion === x.criterion) {
          seen = true;
          break;
        }
      }
      if (!seen) out.push(x);
    }
  }
  return out;
}

/**
 * Decides a case (SPEC 2.2): validates `input` (InputError naming the field on bad input), resolves
 * the policy version by state and date of service (DeterminationError when none is effective), and
 * returns the determination with one line per code.
 */
export function decide(lib: Library, input: unknown, opts: DecideOptions = {}): Determination {
  return decideValidated(lib, parseCase(input), opts);
}
