import { evaluateSection } from "../evaluate/index.js";
import {
  type Case,
  type CodeBinding,
  type CodeRow,
  type CodeTable,
  caseSchema,
  type Determination,
  DeterminationError,
  fastParseCase,
  InputError,
  type Line,
  type Needed,
  OUTCOME_SEVERITY,
  type Outcome,
  type PolicyRef,
  type Reason,
  type Referral,
  type TraceNode,
} from "../model/index.js";
import type { DecideOptions } from "./api.js";
import type { Library, LibraryEntry } from "./library.js";
import { todayIso } from "./library.js";

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

interface Plan {
  code: string;
  entry?: LibraryEntry;
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

const words = (s: string) => s.toLowerCase().match(/[a-z0-9]+/g) ?? [];

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

function findReferral(lib: Library, entry: LibraryEntry, drug: string): ReferralMatch {
  const d = new Set(words(drug));
  const matches = (subject?: string) => !!subject && words(subject).some((w) => d.has(w));
  const own = entry.policy.crossReferences.find((x) => matches(x.subject));
  if (own) {
    return {
      matched: true,
      referral: Object.freeze({ target: own.target, title: own.title, text: own.text }),
    };
  }
  // A variant that dropped the reference still does not govern the drug its corporate policy redirects.
  const inherited = lib
    .versionsOf(entry.policy.identity.baseId)
    .some((e) => e.policy.crossReferences.some((x) => matches(x.subject)));
  return { matched: inherited };
}

const bindingIndex = new WeakMap<LibraryEntry, Map<string, CodeBinding>>();
/** The authored binding of `code` in a version (SPEC 1.5), indexed once per version; the first wins. */
function bindingOf(entry: LibraryEntry, code: string): CodeBinding | undefined {
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

/**
 * One line of a determination, by the precedence of SPEC 2.2: not-applicable (no policy, or the drug is
 * redirected) > fee-schedule marker by age > not-covered (does-not-support table, not-proven section)
 * > coding only > the governing section's criteria. The section's trace, when asked for, goes to
 * `traces` (the caller decides whether it belongs to the determination or to the line).
 */
function decideLine(lib: Library, c: Case, plan: Plan, opts: DecideOptions, traces: TraceSlot): Line {
  const { code, entry } = plan;
  if (!entry) return ruled(code, "not-applicable", `no policy in the library governs code ${code}`);
  if (c.service.drug) {
    const { referral, matched } = referralFor(lib, entry, c.service.drug);
    if (matched) {
      const line = ruled(
        code,
        "not-applicable",
        referral
          ? `requests for ${c.service.drug} are governed by ${referral.target} ${referral.title}`
          : `${entry.policy.identity.baseId} redirects requests for ${c.service.drug} to another policy`,
        policyRef(entry),
      );
      if (referral) line.referral = referral;
      return line;
    }
  }
  const found = findRow(entry, code);
  const marker = found?.row.marker
    ? entry.policy.codeMarkers.find(
        (m) => m.marker === found.row.marker && m.meaning === "not-on-fee-schedule",
      )
    : undefined;
  if (marker) {
    const age =
      c.member.age ?? (c.member.birthDate ? ageOn(c.member.birthDate, c.service.dateOfService) : undefined);
    const limit = marker.reviewUnderAge ?? 21;
    if (age === undefined) {
      return ruled(
        code,
        "pended",
        `${code}${marker.marker} is not on the state fee schedule; the member's age on the date of service decides (birthDate or age needed)`,
        policyRef(entry),
      );
    }
    return ruled(
      code,
      age >= limit ? "not-covered" : "review",
      age >= limit
        ? `${code}${marker.marker} is not on the state fee schedule (member ${age}, ${limit} or older): ${marker.text}`
        : `${code}${marker.marker} is not on the state fee schedule; members under ${limit} are reviewed case by case`,
      policyRef(entry),
    );
  }
  const binding = bindingOf(entry, code);
  if (found?.table.coverage === "does-not-support") {
    const section = binding && "section" in binding ? binding.section : undefined;
    return ruled(
      code,
      "not-covered",
      `${code} is listed among the codes that do not support coverage`,
      policyRef(entry, section),
    );
  }
  if (binding && "codingOnly" in binding) {
    return ruled(code, "not-applicable", `${code} is listed for coding only`, policyRef(entry));
  }
  if (!binding) {
    return ruled(
      code,
      "review",
      `${code} is listed in the policy's code tables but no section is bound to it: manual review`,
      policyRef(entry),
    );
  }
  const section = entry.evaluated.sections.find((s) => s.id === binding.section);
  if (!section) {
    throw new DeterminationError(`bindings name section ${binding.section}, which the policy does not have`, {
      policy: entry.policy.identity.id,
      version: entry.policy.identity.version,
    });
  }
  if (section.kind === "not-proven" || !section.tree) {
    return ruled(code, "not-covered", `section ${section.id}: ${section.text}`, policyRef(entry, section.id));
  }
  const r = evaluateSection(
    entry.compiled(),
    section.id,
    { answers: c.answers, facts: c.facts, dateOfService: c.service.dateOfService },
    { trace: opts.trace !== false },
  );
  const line: Line = {
    code,
    outcome: r.outcome,
    policy: policyRef(entry, section.id),
    basis: `section ${section.id} criteria ${r.outcome === "approved" ? "met" : r.outcome}`,
    reasons: r.reasons,
    needed: r.needed,
  };
  traces.trace = r.trace;
  if (section.uncertain && (r.outcome === "approved" || r.outcome === "denied")) {
    // Safe by default (issue 12): where the reading of the section is uncertain (its kind, a list's
    // logic, text that could not be placed), a person decides; the criteria still explain.
    line.outcome = "review";
    line.basis = `section ${section.id} criteria ${r.outcome === "approved" ? "met" : "not met"}, but the policy's reading is uncertain: ${section.uncertain.join("; ")}`;
    return line;
  }
  if (r.outcome === "denied" && binding.otherwise) {
    const other = entry.evaluated.sections.find((s) => s.id === binding.otherwise);
    line.outcome = "not-covered";
    line.basis = `no indication of section ${section.id} holds: section ${binding.otherwise}${other ? `: ${other.text}` : ""}`;
  }
  return line;
}

interface TraceSlot {
  trace?: TraceNode | undefined;
}

/** The version governing one code (SPEC 1.4): the case's named version, or by state and date. */
function planFor(lib: Library, c: Case, code: string, opts: DecideOptions): Plan {
  if (c.policy) {
    try {
      return { code, entry: lib.get(c.policy, opts.today ?? todayIso()) };
    } catch (e) {
      // A case naming a policy or version the library lacks is bad input, like an unknown criterion id.
      throw new InputError(`policy: ${(e as Error).message}`, { field: "policy" });
    }
  }
  const bases = lib.policiesForCode(code);
  if (bases.length === 0) return { code };
  const baseId = bases[0]!;
  const entry = lib.resolve(baseId, c.member.state, c.service.dateOfService);
  if (!entry) {
    throw new DeterminationError(
      `no version of ${baseId} (nor a ${c.member.state} variant) is effective on ${c.service.dateOfService}`,
      { policy: baseId, field: "service.dateOfService" },
    );
  }
  return { code, entry };
}

/** Unknown criterion ids are bad input (SPEC 2.1): checked against every version the case resolves to. */
function checkAnswerIds(plans: readonly Plan[], answers: Record<string, boolean>): void {
  const entries: LibraryEntry[] = [];
  for (const p of plans) if (p.entry && !entries.includes(p.entry)) entries.push(p.entry);
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

/** As `decide`, for a case already validated by `caseSchema` (SPEC 2.2). */
export function decideValidated(lib: Library, c: Case, opts: DecideOptions = {}): Determination {
  const codes = c.service.codes;
  const plans: Plan[] = [];
  for (const code of codes) plans.push(planFor(lib, c, code, opts));
  checkAnswerIds(plans, c.answers);

  const lines: Line[] = [];
  const traces: (TraceNode | undefined)[] = [];
  let top = 0;
  const slot: TraceSlot = {};
  for (let i = 0; i < plans.length; i++) {
    slot.trace = undefined;
    const line = decideLine(lib, c, plans[i]!, opts, slot);
    lines.push(line);
    traces.push(slot.trace);
    if (OUTCOME_SEVERITY[line.outcome] > OUTCOME_SEVERITY[lines[top]!.outcome]) top = i;
  }
  const first = lines[top]!;
  let reasons: Reason[];
  let needed: Needed[];
  if (lines.length === 1) {
    // One line: the determination's lists are the line's (SPEC 2.2); shared, as nothing changes them.
    reasons = first.reasons;
    needed = first.needed;
  } else {
    // The lines as severe as the most severe one, each criterion once (SPEC 2.2).
    const seenReason = new Set<string>();
    const seenNeeded = new Set<string>();
    reasons = [];
    needed = [];
    for (const l of lines) {
      if (l.outcome !== first.outcome) continue;
      for (const r of l.reasons)
        if (!seenReason.has(r.criterion) && seenReason.add(r.criterion)) reasons.push(r);
      for (const n of l.needed)
        if (!seenNeeded.has(n.criterion) && seenNeeded.add(n.criterion)) needed.push(n);
    }
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

/**
 * Decides a case (SPEC 2.2): validates `input` (InputError naming the field on bad input), resolves
 * the policy version by state and date of service (DeterminationError when none is effective), and
 * returns the determination with one line per code.
 */
export function decide(lib: Library, input: unknown, opts: DecideOptions = {}): Determination {
  return decideValidated(lib, parseCase(input), opts);
}
