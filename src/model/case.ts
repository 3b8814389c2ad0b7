import { z } from "zod";
import { factsSchema } from "./facts.js";

/** A prior-authorization request (SPEC 2.1). Validated by `caseSchema`; every error names its field. */
const isoDate = z.iso.date({ error: "must be a date YYYY-MM-DD" });

/** CPT (five digits, or four and a letter: 0775T) or HCPCS Level II (a letter and four digits). */
export const CODE_PATTERN = /^(?:\d{4}[0-9A-Z]|[A-Z]\d{4})$/i;

export const LINES_OF_BUSINESS = ["medicaid", "medicare", "marketplace", "commercial"] as const;

/**
 * USPS codes of the 50 states, DC and the five inhabited territories (AS, GU, MP, PR, VI): where a
 * member can reside (issue 13: state "ZZ" was decided as if it were a state without a variant).
 */
export const US_STATE_CODES: ReadonlySet<string> = new Set(
  (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC " +
    "ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR VI"
  ).split(" "),
);

/** The earliest birth date taken as plausible (issue 13: a member born in 1800 was decided). */
export const MIN_BIRTH_DATE = "1900-01-01";
/** The oldest plausible age at the date of service, in full years (as `member.age`'s maximum). */
export const MAX_AGE = 130;

/**
 * Why a member's birth date cannot be right for a date of service, or `undefined` when it can: after
 * the date of service, before {@link MIN_BIRTH_DATE}, or more than {@link MAX_AGE} years before it.
 * Both are valid `YYYY-MM-DD` dates (checked first), so comparing the strings compares the dates.
 * Shared by the schema and the fast path (case-fast.ts) so that they agree (issue 13).
 */
export function birthDateProblem(birthDate: string, dateOfService: string): string | undefined {
  if (birthDate > dateOfService) return "is after the date of service (service.dateOfService)";
  if (birthDate < MIN_BIRTH_DATE) return `is before ${MIN_BIRTH_DATE}: not a plausible birth date`;
  // Older than MAX_AGE: the (MAX_AGE + 1)th birthday is on or before the date of service. Read by
  // character codes (no copies): this runs per case on the NDJSON hot path (SPEC 5).
  const years = year(dateOfService) - year(birthDate);
  if (years > MAX_AGE + 1 || (years === MAX_AGE + 1 && dateOfService.slice(5) >= birthDate.slice(5))) {
    return `makes the member older than ${MAX_AGE} on the date of service`;
  }
  return undefined;
}

/** The year of a `YYYY-MM-DD` date. */
function year(d: string): number {
  return (
    (d.charCodeAt(0) - 48) * 1000 +
    (d.charCodeAt(1) - 48) * 100 +
    (d.charCodeAt(2) - 48) * 10 +
    d.charCodeAt(3) -
    48
  );
}

/**
 * A postal address (issue 14: the letter goes to the member and the provider by name and address).
 * `state` is checked like a member's; `postalCode` is a US ZIP or ZIP+4.
 */
export const addressSchema = z.strictObject({
  lines: z.array(z.string().trim().min(1).max(200)).min(1, { error: "give at least one street line" }).max(4),
  city: z.string().trim().min(1).max(100),
  state: z
    .string()
    .regex(/^[A-Za-z]{2}$/, { error: "must be a two-letter state code" })
    .transform((s) => s.toUpperCase())
    .refine((s) => US_STATE_CODES.has(s), { error: "must be the code of a US state, DC or a US territory" }),
  postalCode: z.string().regex(/^\d{5}(?:-\d{4})?$/, { error: "must be a ZIP code: 12345 or 12345-6789" }),
});
export type Address = z.infer<typeof addressSchema>;

/**
 * Whether `npi` is a National Provider Identifier: ten digits whose last is the Luhn check digit of
 * the other nine prefixed with 80840 (CMS, "Requirements for Check Digit", 45 CFR 162.406).
 */
export function isNpi(npi: string): boolean {
  if (npi.length !== 10) return false;
  let sum = 24; // the Luhn contribution of the prefix 80840
  for (let i = 0; i < 10; i++) {
    const d = npi.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (i === 9) return (sum + d) % 10 === 0;
    // Doubling starts from the rightmost digit of the nine (position 8), every other one leftwards.
    if ((8 - i) % 2 === 0) sum += d * 2 > 9 ? d * 2 - 9 : d * 2;
    else sum += d;
  }
  return false;
}

/** A requesting or servicing provider (issue 14): NPI required, name and address as the UM file holds them. */
export const providerSchema = z.strictObject({
  npi: z.string().refine(isNpi, { error: "must be a 10-digit NPI with a valid check digit" }),
  name: z.string().trim().min(1).max(200).optional(),
  address: addressSchema.optional(),
  phone: z
    .string()
    .regex(/^[0-9+() .-]{7,25}$/, { error: "must be a telephone number" })
    .optional(),
});
export type Provider = z.infer<typeof providerSchema>;

/**
 * An ICD-10-CM diagnosis code: a letter, a digit, a digit or letter, then optionally a dot and one to
 * four characters (M54.16, G89.3, U07.1). Written without the dot (M5416) it is read with it.
 */
export const ICD10_PATTERN = /^[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$/;

export const diagnosisSchema = z.strictObject({
  code: z
    .string()
    .max(10, { error: "must be an ICD-10-CM code (M54.16, G89.3)" })
    .transform((s) => s.toUpperCase())
    .refine((s) => ICD10_PATTERN.test(s), { error: "must be an ICD-10-CM code (M54.16, G89.3)" })
    .transform((s) => (s.length > 3 && s[3] !== "." ? `${s.slice(0, 3)}.${s.slice(3)}` : s)),
  display: z.string().trim().min(1).max(300).optional(),
});
export type Diagnosis = z.infer<typeof diagnosisSchema>;

export const memberSchema = z
  .strictObject({
    id: z.string().max(200).optional(),
    /** Issue 14: the member's name as the letter and the reviewer show it (PHI: never logged). */
    name: z.string().trim().min(1).max(200).optional(),
    address: addressSchema.optional(),
    state: z
      .string()
      .regex(/^[A-Za-z]{2}$/, { error: "must be a two-letter state code" })
      .transform((s) => s.toUpperCase())
      .refine((s) => US_STATE_CODES.has(s), {
        error: "must be the code of a US state, DC or a US territory (TX, DC, PR)",
      }),
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

export const caseSchema = z
  .strictObject({
    id: z.string().max(200).optional(),
    member: memberSchema,
    service: serviceSchema,
    answers: z.record(z.string().max(100), z.boolean({ error: "must be true or false" })).default({}),
    facts: factsSchema.default({}),
    /**
     * Issue 14, the clinical picture of a UM file: the diagnoses (ICD-10-CM, primary first) and the
     * requesting and servicing providers. Shown to the reviewer and in the letter; not decision input.
     */
    diagnoses: z.array(diagnosisSchema).max(25).optional(),
    providers: z
      .strictObject({ requesting: providerSchema.optional(), servicing: providerSchema.optional() })
      .optional(),
    /** Evaluate a named version (`ID@VERSION`) instead of the one in force on the date of service. */
    policy: z.string().max(100).optional(),
  })
  .superRefine((c, ctx) => {
    // Across member and service: a birth date must be plausible for the date of service (issue 13).
    // Only between two valid dates: a malformed date of service is its own issue (an audit found
    // "03/01/2026" also reported as a birth date after it).
    const b = c.member.birthDate;
    const dos = c.service.dateOfService;
    const valid = (d: unknown) => typeof d === "string" && /^\d{4}-\d{2}-\d{2}$/.test(d);
    const problem = b === undefined || !valid(b) || !valid(dos) ? undefined : birthDateProblem(b, dos);
    if (problem) ctx.addIssue({ code: "custom", path: ["member", "birthDate"], message: problem });
  });

export type Case = z.infer<typeof caseSchema>;
export type CaseInput = z.input<typeof caseSchema>;

/** JSON Schema of a case, for the documentation (SPEC 2.1, 2.3). */
export function caseJsonSchema(): unknown {
  return z.toJSONSchema(caseSchema, { io: "input" });
}
