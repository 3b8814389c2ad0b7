import { evaluateSection } from "../evaluate/index.js";
import {
  type Case,
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
  type PolicyRef,
  type Referral,
} from "../model/index.js";
import type { DecideOptions } from "./api.js";
import type { Library, LibraryEntry } from "./library.js";
import { todayIso } from "./library.js";

/** Engine identity stored with every determination (SPEC 4: reproducible byte for byte). */
export const ENGINE = "medpolicy-engine/0.1.0";

/** Turns zod issues into one InputError whose message names every field (SPEC 2.1). */
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

/** Whole years from `birth` to `on` (ISO dates). */
export function ageOn(birth: string, on: string): number {
  const [by, bm, bd] = birth.split("-").map(Number) as [number, number, number];
  const [y, m, d] = on.split("-").map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

interface Plan {
  code: string;
  entry?: LibraryEntry;
  baseId?: string;
}

function policyRef(entry: LibraryEntry, section?: string): PolicyRef {
  const id = entry.policy.identity;
  const ref: PolicyRef = { id: id.id, version: id.version, hash: entry.policy.hash, title: id.title };
  if (section) ref.section = section;
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

/** A cross-reference whose subject names the requested drug ("for requests for Baclofen"). */
function referralFor(
  lib: Library,
  entry: LibraryEntry,
  drug: string,
): { referral?: Referral; matched: boolean } {
  const d = new Set(words(drug));
  const matches = (subject?: string) => !!subject && words(subject).some((w) => d.has(w));
  const own = entry.policy.crossReferences.find((x) => matches(x.subject));
  if (own) return { matched: true, referral: { target: own.target, title: own.title, text: own.text } };
  // A variant that dropped the reference still does not govern the drug its corporate policy redirects.
  const inherited = lib
    .versionsOf(entry.policy.identity.baseId)
    .some((e) => e.policy.crossReferences.some((x) => matches(x.subject)));
  return { matched: inherited };
}

/**
 * One line of a determination, by the precedence of SPEC 2.2: not-applicable (no policy, or the drug is
 * redirected) > fee-schedule marker by age > not-covered (does-not-support table, not-proven section)
 * > coding only > the governing section's criteria.
 */
function decideLine(lib: Library, c: Case, plan: Plan, opts: DecideOptions): Line {
  const { code, entry } = plan;
  if (!entry) {
    return {
      code,
      outcome: "not-applicable",
      basis: `no policy in the library governs code ${code}`,
      reasons: [],
      needed: [],
    };
  }
  const base = { code, reasons: [], needed: [] };
  if (c.service.drug) {
    const { referral, matched } = referralFor(lib, entry, c.service.drug);
    if (matched) {
      const line: Line = {
        ...base,
        outcome: "not-applicable",
        policy: policyRef(entry),
        basis: referral
          ? `requests for ${c.service.drug} are governed by ${referral.target} ${referral.title}`
          : `${entry.policy.identity.baseId} redirects requests for ${c.service.drug} to another policy`,
      };
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
      return {
        ...base,
        outcome: "pended",
        policy: policyRef(entry),
        basis: `${code}${marker.marker} is not on the state fee schedule; the member's age on the date of service decides (birthDate or age needed)`,
      };
    }
    return {
      ...base,
      outcome: age >= limit ? "not-covered" : "review",
      policy: policyRef(entry),
      basis:
        age >= limit
          ? `${code}${marker.marker} is not on the state fee schedule (member ${age}, ${limit} or older): ${marker.text}`
          : `${code}${marker.marker} is not on the state fee schedule; members under ${limit} are reviewed case by case`,
    };
  }
  const binding = entry.codes.find((b) => b.codes.includes(code));
  if (found?.table.coverage === "does-not-support") {
    const section = binding && "section" in binding ? binding.section : undefined;
    return {
      ...base,
      outcome: "not-covered",
      policy: policyRef(entry, section),
      basis: `${code} is listed among the codes that do not support coverage`,
    };
  }
  if (binding && "codingOnly" in binding) {
    return {
      ...base,
      outcome: "not-applicable",
      policy: policyRef(entry),
      basis: `${code} is listed for coding only`,
    };
  }
  if (!binding) {
    return {
      ...base,
      outcome: "review",
      policy: policyRef(entry),
      basis: `${code} is listed in the policy's code tables but no section is bound to it: manual review`,
    };
  }
  const section = entry.evaluated.sections.find((s) => s.id === binding.section);
  if (!section) {
    throw new DeterminationError(`bindings name section ${binding.section}, which the policy does not have`, {
      policy: entry.policy.identity.id,
      version: entry.policy.identity.version,
    });
  }
  if (section.kind === "not-proven" || !section.tree) {
    return {
      ...base,
      outcome: "not-covered",
      policy: policyRef(entry, section.id),
      basis: `section ${section.id}: ${section.text}`,
    };
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
  if (r.trace) line.trace = r.trace;
  if (r.outcome === "denied" && binding.otherwise) {
    const other = entry.evaluated.sections.find((s) => s.id === binding.otherwise);
    line.outcome = "not-covered";
    line.basis = `no indication of section ${section.id} holds: section ${binding.otherwise}${other ? `: ${other.text}` : ""}`;
  }
  return line;
}

/** As `decide`, for a case already validated by `caseSchema` (SPEC 2.2). */
export function decideValidated(lib: Library, c: Case, opts: DecideOptions = {}): Determination {
  const plans: Plan[] = c.service.codes.map((code) => {
    if (c.policy) {
      try {
        return { code, entry: lib.get(c.policy, opts.today ?? todayIso()), baseId: c.policy.split("@")[0] };
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
    return { code, entry, baseId };
  });

  // Unknown criterion ids are bad input (SPEC 2.1): checked against every policy the case resolves to.
  const entries = [...new Set(plans.flatMap((p) => (p.entry ? [p.entry] : [])))];
  if (entries.length > 0) {
    const known = entries.map((e) => e.answerable());
    const unknown = Object.keys(c.answers).filter((id) => !known.some((k) => k.has(id)));
    if (unknown.length > 0) {
      const e = entries[0]!.policy.identity;
      throw new InputError(
        unknown.map((id) => `answers.${id}: unknown criterion id for ${e.id}@${e.version}`).join("; "),
        { field: `answers.${unknown[0]}`, criterion: unknown[0]!, policy: e.id, version: e.version },
      );
    }
  }

  const lines = plans.map((p) => decideLine(lib, c, p, opts));
  let top = lines[0]!;
  for (const l of lines) if (OUTCOME_SEVERITY[l.outcome] > OUTCOME_SEVERITY[top.outcome]) top = l;
  const same = lines.filter((l) => l.outcome === top.outcome);
  const seenReason = new Set<string>();
  const seenNeeded = new Set<string>();
  const needed: Needed[] = [];
  const reasons = same
    .flatMap((l) => l.reasons)
    .filter((r) => !seenReason.has(r.criterion) && seenReason.add(r.criterion));
  for (const l of same)
    for (const n of l.needed) if (!seenNeeded.has(n.criterion) && seenNeeded.add(n.criterion)) needed.push(n);
  // Key order follows SPEC 2.2; the deciding line's trace is the determination's, not repeated in the line.
  const d = {} as Determination;
  if (c.id !== undefined) d.id = c.id;
  d.outcome = top.outcome;
  if (top.policy) d.policy = top.policy;
  d.reasons = reasons;
  d.needed = needed;
  if (top.trace) {
    d.trace = top.trace;
    const { trace: _t, ...rest } = top;
    lines[lines.indexOf(top)] = rest;
  }
  d.lines = lines;
  if (top.referral) d.referral = top.referral;
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
