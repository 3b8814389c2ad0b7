import { z } from "zod";
import { FACTS, type FactName } from "./facts.js";

/**
 * Authored data kept beside each policy document in `policies/<id>/` (SPEC 1.2, 1.5, 2.3): only what
 * the document does not say in computable form — which codes a section governs, typed fact predicates,
 * and corrections of evident defects.
 */

const factName = z.enum(Object.keys(FACTS) as [FactName, ...FactName[]]);
const cmp = z.enum([">", ">=", "<", "<=", "=="]);

export type Predicate =
  | { fact: FactName; op: z.infer<typeof cmp>; value: number | boolean }
  | { fact: FactName; count: z.infer<typeof cmp>; value: number }
  | { fact: FactName; countAtLeast: number; min: number }
  | { fact: FactName; withinMonths: number }
  | { fact: FactName; monthsBeforeAtLeast: number }
  | { all: Predicate[] }
  | { any: Predicate[] }
  /** Alternative evidence for one criterion: the first alternative the facts decide, decides. */
  | { firstKnown: Predicate[] };

export const predicateSchema: z.ZodType<Predicate> = z.lazy(() =>
  z.union([
    z.strictObject({ fact: factName, op: cmp, value: z.union([z.number(), z.boolean()]) }),
    z.strictObject({ fact: factName, count: cmp, value: z.number() }),
    z.strictObject({ fact: factName, countAtLeast: z.number(), min: z.number().int().min(1) }),
    z.strictObject({ fact: factName, withinMonths: z.number().int().min(0) }),
    z.strictObject({ fact: factName, monthsBeforeAtLeast: z.number().int().min(0) }),
    z.strictObject({ all: z.array(predicateSchema).min(1) }),
    z.strictObject({ any: z.array(predicateSchema).min(1) }),
    z.strictObject({ firstKnown: z.array(predicateSchema).min(1) }),
  ]),
);

/**
 * A predicate bound to criteria by their text: applies to every leaf, group condition or note
 * condition whose folded text (`questionKey`) contains the folded `match`. Binding by text, not id,
 * keeps one predicate valid across versions and state variants where ids shift (LA's g→f).
 */
export const predicateBindingSchema = z.strictObject({
  match: z.string().min(3),
  when: predicateSchema,
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

export const bindingsSchema = z.strictObject({
  policy: z.string(),
  /** Take codes and predicates from another policy's bindings (a state variant from its corporate policy). */
  inherits: z.string().optional(),
  codes: z.array(codeBindingSchema).default([]),
  predicates: z.array(predicateBindingSchema).default([]),
  corrections: z.array(correctionSchema).default([]),
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
