import { z } from "zod";
import { isIsoDate } from "./calendar.js";
import { CODE_SYSTEMS, type FactDecl, factDeclSchema, type Vocabulary } from "./facts.js";

/**
 * Authored data kept beside each policy document in `policies/<id>/` (SPEC 1.2, 1.5, 2.3): only what
 * the document does not say in computable form — which codes a section governs, the facts its
 * predicates read (issue 15), typed fact predicates, and corrections of evident defects.
 */

const factName = z.string().min(1).max(64);
export const COMPARISONS = ["==", "!=", "<", "<=", ">", ">="] as const;
const cmp = z.enum(COMPARISONS);
export type Comparison = (typeof COMPARISONS)[number];
const scalar = z.union([z.number(), z.string().min(1).max(200)]);
/** A span of calendar time before the date of service. */
const span = z.strictObject({
  n: z.number().int().min(0).max(1200),
  unit: z.enum(["days", "months", "years"]),
});
export type Span = z.infer<typeof span>;

/**
 * A typed test of facts (SPEC 2.3, issue 15): comparisons, membership, sets, ranges, dates relative
 * to the date of service, counts, and the combinators. A missing fact leaves it unknown.
 */
export type Predicate =
  | { fact: string; op: Comparison; value: number | boolean | string }
  /** The fact's value is one of these (`tumorType in [...]`; a code family as `M43.1*`). */
  | { fact: string; in: (number | string)[] }
  /** A set fact holds this value (or a code of this family). */
  | { fact: string; includes: string }
  /** A set fact holds every one of these. */
  | { fact: string; includesAll: string[] }
  /** A set fact holds at least one of these. */
  | { fact: string; includesAny: string[] }
  /** A set fact holds none of these. */
  | { fact: string; excludes: string[] }
  /** Inclusive range of a number or a date. */
  | { fact: string; between: [number, number] | [string, string] }
  /** A date on or after the date of service minus the span, and not after the date of service. */
  | { fact: string; within: Span }
  /** A date at least the span before the date of service. */
  | { fact: string; before: Span }
  | { fact: string; withinMonths: number }
  | { fact: string; monthsBeforeAtLeast: number }
  /** How many members a set or list fact has (or a count given for it). */
  | { fact: string; count: Comparison; value: number }
  /** At least `min` of a list of measurements are at least `countAtLeast`. */
  | { fact: string; countAtLeast: number; min: number }
  | { all: Predicate[] }
  | { any: Predicate[] }
  | { not: Predicate }
  /** Alternative evidence for one criterion: the first alternative the facts decide, decides. */
  | { firstKnown: Predicate[] };

const list = <T extends z.ZodType>(t: T) => z.array(t).min(1).max(500);

export const predicateSchema: z.ZodType<Predicate> = z.lazy(() =>
  z.union([
    z.strictObject({
      fact: factName,
      op: cmp,
      value: z.union([z.number(), z.boolean(), z.string().min(1).max(200)]),
    }),
    z.strictObject({ fact: factName, in: list(scalar) }),
    z.strictObject({ fact: factName, includes: z.string().min(1).max(200) }),
    z.strictObject({ fact: factName, includesAll: list(z.string().min(1).max(200)) }),
    z.strictObject({ fact: factName, includesAny: list(z.string().min(1).max(200)) }),
    z.strictObject({ fact: factName, excludes: list(z.string().min(1).max(200)) }),
    z.strictObject({
      fact: factName,
      between: z.union([z.tuple([z.number(), z.number()]), z.tuple([z.iso.date(), z.iso.date()])]),
    }),
    z.strictObject({ fact: factName, within: span }),
    z.strictObject({ fact: factName, before: span }),
    z.strictObject({ fact: factName, withinMonths: z.number().int().min(0) }),
    z.strictObject({ fact: factName, monthsBeforeAtLeast: z.number().int().min(0) }),
    z.strictObject({ fact: factName, count: cmp, value: z.number() }),
    z.strictObject({ fact: factName, countAtLeast: z.number(), min: z.number().int().min(1) }),
    z.strictObject({ all: z.array(predicateSchema).min(1) }),
    z.strictObject({ any: z.array(predicateSchema).min(1) }),
    z.strictObject({ not: predicateSchema }),
    z.strictObject({ firstKnown: z.array(predicateSchema).min(1) }),
  ]),
);

/** Every leaf test of a predicate (those naming a fact), in order. */
export function factTests(p: Predicate, out: Extract<Predicate, { fact: string }>[] = []): typeof out {
  if ("all" in p) for (const q of p.all) factTests(q, out);
  else if ("any" in p) for (const q of p.any) factTests(q, out);
  else if ("firstKnown" in p) for (const q of p.firstKnown) factTests(q, out);
  else if ("not" in p) factTests(p.not, out);
  else out.push(p);
  return out;
}

/**
 * Why a predicate cannot be read against a vocabulary (issue 15): an undeclared fact, or a test the
 * fact's type does not support (`>` on a boolean, `includes` on a number, an enum value the fact
 * does not allow). Empty when it type-checks.
 */
export function predicateProblems(p: Predicate, vocabulary: Vocabulary): string[] {
  const problems: string[] = [];
  for (const t of factTests(p)) {
    const d = vocabulary.get(t.fact);
    if (!d) {
      problems.push(`fact "${t.fact}" is not declared (declare it in "facts")`);
      continue;
    }
    const why = testProblem(t, d);
    if (why) problems.push(`fact "${t.fact}" (${d.type}): ${why}`);
  }
  return problems;
}

function allowedValue(d: FactDecl, v: unknown): string | undefined {
  const values = "values" in d ? d.values : undefined;
  const system = "system" in d ? d.system : undefined;
  if (typeof v !== "string") return `${JSON.stringify(v)} is not a string`;
  if (values) return values.includes(v) ? undefined : `${JSON.stringify(v)} is not one of its values`;
  if (system) {
    const code = v.endsWith("*") ? v.slice(0, -1) : v;
    // A family prefix (`M43.1*`) need not be a whole code, but must start one; a code without `*` must be one.
    const ok = v.endsWith("*")
      ? CODE_SYSTEMS[system]!.prefix.test(code)
      : CODE_SYSTEMS[system]!.pattern.test(code);
    return ok ? undefined : `${JSON.stringify(v)} is not a code of ${CODE_SYSTEMS[system]!.label}`;
  }
  return undefined;
}

type FactTestNode = Extract<Predicate, { fact: string }>;

function testProblem(t: FactTestNode, d: FactDecl): string | undefined {
  const numeric = d.type === "number" || d.type === "integer";
  if ("op" in t) {
    const equality = t.op === "==" || t.op === "!=";
    if (d.type === "boolean")
      return typeof t.value === "boolean" && equality ? undefined : "compare with == or != true/false";
    if (numeric) return typeof t.value === "number" ? undefined : "compare with a number";
    if (d.type === "date")
      return typeof t.value === "string" && isIsoDate(t.value) ? undefined : "compare with a date YYYY-MM-DD";
    if (d.type === "enum" || d.type === "code") {
      if (!equality) return "only == and != apply";
      // A family compares only with `in` / `includes` (issue 15 review: `!= "M43.1*"` was met for M43.16).
      if (typeof t.value === "string" && t.value.endsWith("*"))
        return "a code family (X*) goes with in or includes, not op";
      return allowedValue(d, t.value);
    }
    return `op does not apply to a ${d.type}: use count, includes or countAtLeast`;
  }
  if ("in" in t) {
    if (numeric) return t.in.every((v) => typeof v === "number") ? undefined : "in takes numbers";
    if (d.type === "enum" || d.type === "code") return t.in.map((v) => allowedValue(d, v)).find(Boolean);
    return `in does not apply to a ${d.type}`;
  }
  if ("includes" in t || "includesAll" in t || "includesAny" in t || "excludes" in t) {
    if (d.type !== "set") return "includes / excludes apply to a set";
    const vs =
      "includes" in t
        ? [t.includes]
        : "includesAll" in t
          ? t.includesAll
          : "includesAny" in t
            ? t.includesAny
            : t.excludes;
    return vs.map((v) => allowedValue(d, v)).find(Boolean);
  }
  if ("between" in t) {
    const [lo, hi] = t.between;
    if (numeric ? typeof lo !== "number" : d.type === "date" ? typeof lo !== "string" : true) {
      return "between takes numbers (number, integer) or dates (date)";
    }
    return lo > hi ? "between's low end is above its high end" : undefined;
  }
  if ("within" in t || "before" in t || "withinMonths" in t || "monthsBeforeAtLeast" in t) {
    return d.type === "date" ? undefined : "a span of time applies to a date";
  }
  if ("count" in t) {
    return d.type === "set" || d.type === "numbers" || d.type === "integer"
      ? undefined
      : "count applies to a set or a list";
  }
  return d.type === "numbers" ? undefined : "countAtLeast applies to a list of numbers";
}

/**
 * A predicate bound to criteria by their text: applies to every leaf, group condition or note
 * condition whose folded text (`questionKey`) contains the folded `match`. Binding by text, not id,
 * keeps one predicate valid across versions and state variants where ids shift (LA's g→f).
 */
/** Deepest nesting of a predicate (all/any/not/firstKnown): far beyond any policy's logic. */
export const MAX_PREDICATE_DEPTH = 32;

/**
 * Whether `v` nests objects and arrays deeper than `max`, read with an explicit stack (issue 15
 * review: a predicate nested 20,000 deep overflowed the schema's recursion — a crash, not bad input).
 */
export function nestedDeeperThan(v: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== "object") continue;
    if (d > max) return true;
    for (const y of Array.isArray(x) ? x : Object.values(x)) stack.push([y, d + 1]);
  }
  return false;
}

export const predicateBindingSchema = z.strictObject({
  match: z.string().min(3),
  when: z.preprocess((v, ctx) => {
    // Each level of a predicate is two of JSON (`{"all": [ … ]}`).
    if (!nestedDeeperThan(v, 2 * MAX_PREDICATE_DEPTH)) return v;
    ctx.addIssue({ code: "custom", message: `nested more than ${MAX_PREDICATE_DEPTH} levels deep` });
    return z.NEVER;
  }, predicateSchema),
  /** `decides` (default): the predicate decides met / not met. `refutes`: it can only show not met. */
  mode: z.enum(["decides", "refutes"]).default("decides"),
  why: z.string().optional(),
});
export type PredicateBinding = z.infer<typeof predicateBindingSchema>;

export const codeBindingSchema = z.union([
  z.strictObject({
    codes: z.array(z.string()).min(1),
    section: z.string(),
    /** Section whose outcome applies when the governing section is not met (CP.MP.126 I → III). */
    otherwise: z.string().optional(),
    /**
     * Not-covered sections listing the patient's conditions that rule the service out (NCD 160.24 II
     * "not covered for patients with any of the following"), evaluated with `section`: a condition
     * present fails it, as a `none` group of its criteria (src/library/versions.ts `applyExclusions`).
     */
    excludedBy: z.array(z.string().min(1)).min(1).max(10).optional(),
    why: z.string().optional(),
  }),
  z.strictObject({
    codes: z.array(z.string()).min(1),
    codingOnly: z.literal(true),
    why: z.string().optional(),
  }),
]);
export type CodeBinding = z.infer<typeof codeBindingSchema>;

/** A correction of an evident defect (SPEC 2.2 "Authored corrections"); lint keeps reporting it. */
export const correctionSchema = z.strictObject({
  /** Criterion (or section) id the correction applies to. */
  criterion: z.string(),
  /** Versions it applies to; all when absent. */
  versions: z.array(z.string()).optional(),
  /** Read the group with this logic instead of what its lead-in says. */
  kind: z.enum(["all", "any", "none"]),
  why: z.string(),
});
export type Correction = z.infer<typeof correctionSchema>;

/**
 * An author's placement of text the ingester could not place (issue 15: an unplaced paragraph kept a
 * version from being published, with no way to resolve it short of editing the source document).
 * `narrative`: the text states no coverage criterion (a clinical caution, a remark), and lint reports
 * the placement instead of the unplaced line. `section`: the text bears on that section's criteria (an
 * exception the tree does not encode), so the section is read as uncertain and decides `review` where it
 * would have approved or denied (safe by default; adverse decisions stay a physician's).
 */
export const placementSchema = z
  .strictObject({
    /** The line the ingester reported (1-based). */
    line: z.number().int().min(1).max(1_000_000),
    /**
     * The start of the unplaced text as printed (at least 12 characters): a revision that moves the
     * line, or rewrites it, no longer matches, and lint says so instead of placing the wrong text.
     */
    text: z.string().min(12).max(400),
    /** Versions it applies to; all when absent. */
    versions: z.array(z.string()).optional(),
    as: z.enum(["narrative", "section"]),
    /** The section the text bears on (`as: "section"`). */
    section: z.string().min(1).max(100).optional(),
    why: z.string().min(1).max(2000),
  })
  .refine((p) => (p.as === "section") === (p.section !== undefined), {
    error: 'a placement names a section exactly when it is placed "as": "section"',
    path: ["section"],
  });
export type Placement = z.infer<typeof placementSchema>;

export const bindingsSchema = z.strictObject({
  policy: z.string(),
  /** Take codes, facts and predicates from another policy's bindings (a state variant from its corporate policy). */
  inherits: z.string().optional(),
  codes: z.array(codeBindingSchema).default([]),
  /** The facts this policy's predicates read (issue 15): the vocabulary a case's facts are checked against. */
  facts: z.array(factDeclSchema).max(500).default([]),
  predicates: z.array(predicateBindingSchema).default([]),
  corrections: z.array(correctionSchema).default([]),
  /** Authored placements of unplaced text (see {@link placementSchema}). */
  placements: z.array(placementSchema).max(1000).default([]),
});
export type Bindings = z.infer<typeof bindingsSchema>;

/** Provenance of a source document kept in `policies/<id>/` (SPEC 1.2). */
export const sourceSchema = z.strictObject({
  file: z.string(),
  origin: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  format: z.string().optional(),
  /** The policy id, where the document does not print one (the headerless corporate document). */
  policy: z.string().optional(),
  /** The version, where the document's own revision log cannot be trusted to name it. */
  version: z
    .string()
    .regex(/^\d{4}-\d{2}$/)
    .optional(),
  why: z.string().optional(),
});
export type SourceEntry = z.infer<typeof sourceSchema>;
export const sourcesSchema = z.array(sourceSchema);
