import { z } from "zod";

/**
 * The fact vocabulary (SPEC 2.3): typed data from which authored predicates decide criteria with
 * numbers, dates and counts. Every fact is optional; a missing fact leaves its criteria unknown.
 * Dates are ISO `YYYY-MM-DD` and are compared with the date of service.
 */
const isoDate = z.iso.date({ error: "must be a date YYYY-MM-DD" });
const percent = z.number().min(0).max(100);

export const FACTS = {
  lifeExpectancyMonths: z.number().min(0).describe("Estimated life expectancy, in months"),
  opioidWeanPercent: percent.describe("Reduction of systemic opioid dose achieved before the trial, in %"),
  trialPainReductionPercent: percent.describe(
    "Pain reduction achieved by the preliminary (trial) infusion, in %",
  ),
  trialFunctionImproved: z.boolean().describe("The preliminary trial increased function"),
  trialMinimalSideEffects: z.boolean().describe("The preliminary trial had minimal side effects"),
  conservativeTreatmentMonths: z
    .number()
    .min(0)
    .describe("Consecutive months of failed conservative treatment (SIJ), up to the date of service"),
  conservativeTreatmentStart: isoDate.describe(
    "Start of consecutive conservative treatment; months are counted to the date of service",
  ),
  activeExerciseWeeks: z.number().min(0).describe("Weeks of active therapeutic exercise completed"),
  exerciseNotTolerated: z.boolean().describe("Documented inability to tolerate active therapeutic exercise"),
  provocativeTestsPositive: z
    .union([
      z.number().int().min(0).max(6),
      z.array(
        z.enum(["thigh thrust", "compression", "sacral thrust", "distraction", "gaenslen", "patrick/faber"]),
      ),
    ])
    .describe("Provocative SIJ tests with a positive response: a count, or the list of tests"),
  sijImagingDate: isoDate.describe("Date of the most recent SIJ diagnostic imaging (CT or MRI)"),
  pelvisRadiographDate: isoDate.describe("Date of the most recent plain radiographs of the pelvis"),
  lumbarImagingDate: isoDate.describe("Date of the most recent CT or MRI of the lumbar spine"),
  diagnosticInjectionReliefPercents: z
    .array(percent)
    .describe("Pain relief (%) after each image-guided diagnostic intra-articular SIJ injection"),
  therapeuticInjectionFailed: z
    .boolean()
    .describe("At least one therapeutic intra-articular SIJ injection failed"),
  therapeuticInjectionContraindicated: z.boolean().describe("A therapeutic SIJ injection is contraindicated"),
} as const;

export type FactName = keyof typeof FACTS;
export const factsSchema = z.strictObject(FACTS).partial();
export type Facts = z.infer<typeof factsSchema>;
export type FactValue = number | string | boolean | (number | string)[];

/** Issue 14: one fact of the vocabulary as an input form needs it (`GET /api/facts`). */
export interface FactInfo {
  name: FactName;
  type: "number" | "boolean" | "date" | "number[]" | "count-or-list";
  description: string;
  min?: number;
  max?: number;
  /** The list's allowed items (`count-or-list`). */
  options?: string[];
}

/**
 * The fact vocabulary read from its schemas (issue 14: the reviewer enters facts with typed inputs,
 * not raw JSON): each fact's type, bounds and description, in the vocabulary's order.
 */
export function factVocabulary(): FactInfo[] {
  return (Object.keys(FACTS) as FactName[]).map((name) => {
    const js = z.toJSONSchema(FACTS[name]) as Record<string, unknown>;
    const description = String(js.description ?? name);
    const bounds = (s: Record<string, unknown>) => ({
      ...(typeof s.minimum === "number" && { min: s.minimum }),
      ...(typeof s.maximum === "number" && { max: s.maximum }),
    });
    if (Array.isArray(js.anyOf)) {
      const parts = js.anyOf as Record<string, unknown>[];
      const num = parts.find((p) => p.type === "number" || p.type === "integer") ?? {};
      const list = parts.find((p) => p.type === "array");
      const items = (list?.items ?? {}) as Record<string, unknown>;
      return {
        name,
        type: "count-or-list",
        description,
        ...bounds(num),
        ...(Array.isArray(items.enum) && { options: items.enum.map(String) }),
      };
    }
    if (js.type === "boolean") return { name, type: "boolean", description };
    if (js.type === "string") return { name, type: "date", description };
    if (js.type === "array") {
      return { name, type: "number[]", description, ...bounds((js.items ?? {}) as Record<string, unknown>) };
    }
    return { name, type: "number", description, ...bounds(js) };
  });
}
