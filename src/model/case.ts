import { z } from "zod";
import { factsSchema } from "./facts.js";

/** A prior-authorization request (SPEC 2.1). Validated by `caseSchema`; every error names its field. */
const isoDate = z.iso.date({ error: "must be a date YYYY-MM-DD" });

/** CPT (five digits, or four and a letter: 0775T) or HCPCS Level II (a letter and four digits). */
export const CODE_PATTERN = /^(?:\d{4}[0-9A-Z]|[A-Z]\d{4})$/i;

export const LINES_OF_BUSINESS = ["medicaid", "medicare", "marketplace", "commercial"] as const;

export const memberSchema = z
  .strictObject({
    id: z.string().max(200).optional(),
    state: z
      .string()
      .regex(/^[A-Za-z]{2}$/, { error: "must be a two-letter state code" })
      .transform((s) => s.toUpperCase()),
    birthDate: isoDate.optional(),
    age: z.number().int().min(0).max(130).optional(),
    lineOfBusiness: z.enum(LINES_OF_BUSINESS).optional(),
  })
  .refine((m) => !(m.birthDate !== undefined && m.age !== undefined), {
    error: "give either birthDate or age, not both",
  });

export const serviceSchema = z.strictObject({
  codes: z
    .array(
      z
        .string()
        .regex(CODE_PATTERN, { error: "must be a CPT or HCPCS code (5 characters: 62362, 0775T, E0782)" })
        .transform((c) => c.toUpperCase()),
    )
    .min(1, { error: "at least one code is required" })
    .max(50),
  dateOfService: isoDate,
  drug: z.string().min(1).max(200).optional(),
  expedited: z.boolean().optional(),
});

export const caseSchema = z.strictObject({
  id: z.string().max(200).optional(),
  member: memberSchema,
  service: serviceSchema,
  answers: z.record(z.string().max(100), z.boolean({ error: "must be true or false" })).default({}),
  facts: factsSchema.default({}),
  /** Evaluate a named version (`ID@VERSION`) instead of the one in force on the date of service. */
  policy: z.string().max(100).optional(),
});

export type Case = z.infer<typeof caseSchema>;
export type CaseInput = z.input<typeof caseSchema>;

/** JSON Schema of a case, for the documentation (SPEC 2.1, 2.3). */
export function caseJsonSchema(): unknown {
  return z.toJSONSchema(caseSchema, { io: "input" });
}
