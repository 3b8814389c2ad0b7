import { createRequire } from "node:module";
import { compile } from "../evaluate/index.js";
import {
  type CodeBinding,
  type CriterionNode,
  type Finding,
  factTests,
  type PolicyVersion,
  questionKey,
} from "../model/index.js";
import { bindingOf } from "./decide.js";
import { evaluatesList, exclusionLists } from "./exclusions.js";
import type { Library } from "./library.js";
import { placementMatches } from "./versions.js";

/**
 * fhirpath.js and its R4 model, loaded on the first fact with a `fhirPath` to check: 0.1 s of start-up
 * that every command and worker thread loading the library paid, though only lint reads them.
 */
let fhirpathR4: { compile(expr: string): unknown } | undefined;
function fhirPathCompiler(): { compile(expr: string): unknown } {
  if (fhirpathR4 === undefined) {
    const require = createRequire(import.meta.url);
    const fhirpath = require("fhirpath") as typeof import("fhirpath");
    const r4 = require("fhirpath/fhir-context/r4") as typeof import("fhirpath/fhir-context/r4");
    fhirpathR4 = { compile: (e) => fhirpath.compile(e, r4) };
  }
  return fhirpathR4;
}

export interface LintFinding extends Finding {
  policy: string;
  version: string;
}

function criteria(v: PolicyVersion): Map<string, { text: string; line: number }> {
  const out = new Map<string, { text: string; line: number }>();
  const walk = (n: CriterionNode) => {
    if (n.kind === "ref") return;
    out.set(n.id, { text: n.kind === "leaf" ? n.text : (n.condition ?? n.text), line: n.line });
    if (n.kind !== "leaf") n.children.forEach(walk);
  };
  for (const s of v.sections) if (s.tree) walk(s.tree);
  return out;
}

function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** Words removed and added between two folded texts, in order. */
function wordChange(a: string, b: string): { removed: string[]; added: string[] } {
  const wa = a.split(" ");
  const wb = b.split(" ");
  const sb = new Set(wb);
  const sa = new Set(wa);
  return { removed: wa.filter((w) => !sb.has(w)), added: wb.filter((w) => !sa.has(w)) };
}

/**
 * Compares a state variant with its corporate policy (SPEC 1.4 lint): each criterion whose text differs
 * after folding, classed as a probable typo (one word, a letter or two apart: "Failure of inability")
 * or a change of meaning ("psychosis or *disabling* dementia", "Active *allergies* or drug abuse").
 */
export function compareWithCorporate(variant: PolicyVersion, corporate: PolicyVersion): Finding[] {
  const mine = criteria(variant);
  const theirs = criteria(corporate);
  const out: Finding[] = [];
  for (const [id, c] of mine) {
    const t = theirs.get(id);
    if (!t) {
      out.push({
        code: "variant-added",
        severity: "warning",
        criterion: id,
        line: c.line,
        message: `${id} has no counterpart in ${corporate.identity.id}@${corporate.identity.version}: "${c.text}"`,
      });
      continue;
    }
    const ka = questionKey(c.text);
    const kb = questionKey(t.text);
    if (ka === kb) continue;
    const { removed, added } = wordChange(kb, ka);
    const typo =
      removed.length === 1 &&
      added.length === 1 &&
      levenshtein(removed[0]!, added[0]!) <= 2 &&
      removed[0]!.length > 1;
    out.push({
      code: typo ? "variant-typo" : "variant-wording",
      severity: "warning",
      criterion: id,
      line: c.line,
      message: `${id} differs from ${corporate.identity.id}@${corporate.identity.version} (${
        typo ? "probable typo" : "change of meaning"
      }): "${c.text}" vs "${t.text}"${
        removed.length || added.length
          ? ` [${removed
              .map((w) => `-${w}`)
              .concat(added.map((w) => `+${w}`))
              .join(" ")}]`
          : ""
      }`,
    });
  }
  for (const [id, t] of theirs) {
    if (!mine.has(id)) {
      out.push({
        code: "variant-missing",
        severity: "warning",
        criterion: id,
        message: `${id} of ${corporate.identity.id} ("${t.text}") has no counterpart in the variant`,
      });
    }
  }
  return out;
}

/** The corporate version a variant is compared with: the one in force when the variant took effect, else the newest. */
export function corporateFor(lib: Library, v: PolicyVersion) {
  if (!v.identity.state) return undefined;
  const base = lib.versionsOf(v.identity.baseId).filter((e) => e.policy.identity.approved);
  if (base.length === 0) return undefined;
  return lib.inForce(v.identity.baseId, v.identity.effective) ?? base[base.length - 1];
}

/**
 * `medpolicy lint` (SPEC 1.4): the document's own defects found by the ingester (repeated, skipped or
 * restarted labels, a lead-in at odds with its list, unplaced text), authored data at odds with the
 * document, authored corrections still in force, and wording that differs from the corporate policy.
 */
export function lintVersion(lib: Library, v: PolicyVersion): LintFinding[] {
  const tag = (f: Finding): LintFinding => ({ ...f, policy: v.identity.id, version: v.identity.version });
  const out: LintFinding[] = v.findings.map(tag);
  const entry = lib.entries.find((e) => e.policy === v);
  const placements = entry?.bindings.placements ?? [];
  for (const u of v.unplaced) {
    // Issue 15: text an author placed is reported as placed (info), no longer as an error.
    const p = placements.find((x) => placementMatches(x, u, v.identity.version));
    out.push(
      tag(
        p
          ? {
              code: "placed",
              severity: "info",
              line: u.line,
              message: `authored placement in force: ${
                p.as === "section" ? `bears on section ${p.section} (it decides review)` : "not criteria"
              }: ${p.why}`,
            }
          : {
              code: "unplaced",
              severity: "error",
              line: u.line,
              message: `could not place: ${u.text} (${u.reason})`,
            },
      ),
    );
  }
  for (const f of lib.findings) {
    if (f.policy === v.identity.id && (!f.version || f.version === v.identity.version)) out.push(tag(f));
  }
  // What the evaluator had to read with care (a reference under a `none`, one that names a section
  // without criteria or goes round in a circle, an id used twice): the author should know.
  for (const issue of (entry?.compiled() ?? compile(v, [])).issues) {
    out.push(tag({ code: "evaluation", severity: "warning", message: issue }));
  }
  if (entry) out.push(...lintFacts(entry).map(tag), ...lintCodeBindings(entry).map(tag));
  out.push(...lintExclusions(entry?.evaluated ?? v, entry?.codes).map(tag));
  for (const c of entry?.bindings.corrections ?? []) {
    if (c.versions && !c.versions.includes(v.identity.version)) continue;
    out.push(
      tag({
        code: "corrected",
        severity: "info",
        criterion: c.criterion,
        message: `authored correction in force: ${c.why}`,
      }),
    );
  }
  const corporate = corporateFor(lib, v);
  if (corporate) out.push(...compareWithCorporate(v, corporate.policy).map(tag));
  return out.sort((a, b) => (a.line ?? 1e9) - (b.line ?? 1e9));
}

/**
 * Exclusion lists of `v` (src/library/exclusions.ts) that a section codes are bound to does not
 * evaluate (bindings `excludedBy`): each a warning at its line, naming those sections, whose approvals
 * decide review until a reviewer has checked the list. Without `codes` (a document outside a library),
 * every list.
 */
export function lintExclusions(v: PolicyVersion, codes?: readonly CodeBinding[]): Finding[] {
  const bound = codes
    ? new Set(codes.flatMap((b) => ("section" in b ? [b.section] : [])))
    : new Set(v.sections.map((s) => s.id));
  const out: Finding[] = [];
  for (const x of exclusionLists(v)) {
    const missing = v.sections.filter(
      (s) => bound.has(s.id) && s.id !== x.id && s.kind !== "not-proven" && s.tree && !evaluatesList(s, x),
    );
    if (missing.length === 0) continue;
    const names = missing.map((s) => s.id).join(", ");
    out.push({
      code: "exclusions-not-evaluated",
      severity: "warning",
      line: x.line,
      criterion: x.id,
      message: `section ${x.id} lists patient conditions that rule the service out ("${x.text.slice(0, 100)}${x.text.length > 100 ? "…" : ""}"), and section ${names} does not evaluate it: an approval there asks section ${x.id}'s conditions, and one present goes to a reviewer rather than to a denial (bind its codes with "excludedBy": ["${x.id}"] where the list applies)`,
    });
  }
  return out;
}

/**
 * Issue 15 (bindings are authored): a code bound to a section (or an `otherwise` section) this version
 * does not have — an error (publishing refuses errors): every request for the code would fail, or be
 * decided by a section that is not there. Only bindings that take effect (the first for a code, as
 * `decide` reads them: a variant's own before those it inherits).
 */
export function lintCodeBindings(entry: Library["entries"][number]): Finding[] {
  const sections = new Set(entry.evaluated.sections.map((s) => s.id));
  const out: Finding[] = [];
  for (const b of entry.codes) {
    if (!("section" in b) || !b.codes.some((c) => bindingOf(entry, c) === b)) continue;
    for (const [key, id] of [
      ["section", b.section],
      ["otherwise", b.otherwise],
    ] as const) {
      if (id === undefined || sections.has(id)) continue;
      out.push({
        code: "binding-section",
        severity: "error",
        message: `bindings.json binds ${b.codes.join(" ")} to ${key} ${id}, which this version does not have (its sections: ${[...sections].join(", ") || "none"})`,
      });
    }
  }
  out.push(...bindingConflicts(entry));
  return out;
}

/** What a binding decides a code with: its section (and otherwise, excludedBy), or coding only. */
function bindingTarget(b: CodeBinding): string {
  if (!("section" in b)) return "coding only";
  let t = `section ${b.section}`;
  if (b.otherwise !== undefined) t += ` (otherwise ${b.otherwise})`;
  if (b.excludedBy?.length) t += ` (excluded by ${b.excludedBy.join(", ")})`;
  return t;
}

/**
 * QA pass 7: one code bound by a version's own bindings to two different sections or outcomes (a code
 * printed in a covered and a not-covered table, or under two sub-policies, confirmed twice). `decide`
 * reads the first silently, so the author's choice is not said: an error, which publishing refuses. A
 * variant's own binding over one it inherits is intended, not a conflict, and so is the same binding
 * written twice. A published version decides with its frozen bindings (own and inherited in one list,
 * checked when it was published), so only drafts are read.
 */
function bindingConflicts(entry: Library["entries"][number]): Finding[] {
  if (entry.publication) return [];
  const own: readonly CodeBinding[] = entry.bindings?.codes ?? [];
  const first = new Map<string, CodeBinding>();
  const reported = new Set<string>();
  const out: Finding[] = [];
  for (const b of own) {
    for (const c of b.codes) {
      const prior = first.get(c);
      if (!prior) {
        first.set(c, b);
        continue;
      }
      const a = bindingTarget(prior);
      const z = bindingTarget(b);
      if (a === z || reported.has(`${c}\u0000${z}`)) continue;
      reported.add(`${c}\u0000${z}`);
      out.push({
        code: "binding-conflict",
        severity: "error",
        message: `bindings.json binds ${c} to ${a} and also to ${z}: a request for ${c} would be decided by the first alone; bind it once`,
      });
    }
  }
  return out;
}

/**
 * Issue 15 (facts are data): what an author should know about a version's facts and predicates — a
 * predicate whose `match` binds no criterion of this version (it decides nothing here), a declared
 * fact no predicate reads, and a `fhirPath` that does not compile (DTR pre-population would skip it).
 */
export function lintFacts(entry: Library["entries"][number]): Finding[] {
  const out: Finding[] = [];
  const keys = entry.compiled().questions.map((q) => questionKey(q.text));
  const read = new Set<string>();
  for (const p of entry.predicates) {
    for (const t of factTests(p.when)) read.add(t.fact);
    const key = questionKey(p.match);
    if (key === "" || !keys.some((k) => k.includes(key))) {
      out.push({
        code: "predicate-unmatched",
        severity: "warning",
        message: `predicate "${p.match}" matches no criterion of this version: it decides nothing here`,
      });
    }
  }
  for (const d of entry.vocabulary.values()) {
    if (!read.has(d.name)) {
      out.push({
        code: "fact-unused",
        severity: "info",
        message: `fact "${d.name}" is declared but no predicate reads it (a case may still carry it)`,
      });
    }
    if (d.fhirPath !== undefined) {
      // Loaded outside the try: a loader that fails is an error of its own, not the expression's.
      const fp = fhirPathCompiler();
      try {
        fp.compile(d.fhirPath);
      } catch (e) {
        out.push({
          code: "fact-fhirpath",
          severity: "error",
          message: `fact "${d.name}": its fhirPath does not compile: ${(e as Error).message.split("\n")[0]}`,
        });
      }
    }
  }
  return out;
}
