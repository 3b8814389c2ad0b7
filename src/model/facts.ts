import { z } from "zod";
import { isIsoDate } from "./calendar.js";
import { InputError } from "./errors.js";

/**
 * Facts are data (SPEC 2.3, issue 15): each policy's bindings declare the facts its predicates read —
 * name, type, description, unit and range, allowed values, and where the fact comes from in a
 * patient's FHIR record. A case carries facts as plain JSON values; they are checked against the
 * vocabulary of the policy version that decides the case, never against a closed list in code.
 */

/** A fact's name: a JSON-friendly identifier (`bmi`, `oxygenSaturation`, `tumor_type`). */
export const FACT_NAME = /^[a-z][A-Za-z0-9_]{0,63}$/;

/** Code systems whose codes are compared without case and (ICD-10) without the dot (issue 15). */
export const CODE_SYSTEMS: Readonly<
  Record<
    string,
    {
      label: string;
      url: string;
      pattern: RegExp;
      /** What may precede `*` in a family (`M43.1*`): the start of some code of the system. */
      prefix: RegExp;
      example: string;
    }
  >
> = {
  "icd-10-cm": {
    label: "ICD-10-CM",
    prefix: /^[A-Za-z](?:[0-9](?:[0-9A-Za-z](?:\.?[0-9A-Za-z]{0,4})?)?)?$/,
    url: "http://hl7.org/fhir/sid/icd-10-cm",
    pattern: /^[A-Za-z][0-9][0-9A-Za-z](?:\.?[0-9A-Za-z]{1,4})?$/,
    example: "M43.16",
  },
  cpt: {
    label: "CPT",
    prefix: /^\d{1,4}[0-9A-Za-z]?$/,
    url: "http://www.ama-assn.org/go/cpt",
    pattern: /^\d{4}[0-9A-Za-z]$/,
    example: "27279",
  },
  hcpcs: {
    label: "HCPCS",
    prefix: /^[A-Za-z]\d{0,4}$/,
    url: "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    pattern: /^[A-Za-z]\d{4}$/,
    example: "E0782",
  },
  loinc: {
    label: "LOINC",
    prefix: /^\d{1,7}(?:-\d?)?$/,
    url: "http://loinc.org",
    pattern: /^\d{1,7}-\d$/,
    example: "59408-5",
  },
  snomed: {
    label: "SNOMED CT",
    prefix: /^\d{1,18}$/,
    url: "http://snomed.info/sct",
    pattern: /^\d{6,18}$/,
    example: "73211009",
  },
};
export type CodeSystemName = keyof typeof CODE_SYSTEMS;

const codeSystem = z.enum(Object.keys(CODE_SYSTEMS) as [string, ...string[]], {
  error: `must be one of ${Object.keys(CODE_SYSTEMS).join(", ")}`,
});
const value = z.string().trim().min(1).max(200);
const common = {
  name: z.string().regex(FACT_NAME, { error: "must be a name like bmi or oxygenSaturation" }),
  description: z.string().trim().min(3).max(500),
  /**
   * Where the fact is found in a patient's record: a FHIRPath expression evaluated over a collection
   * Bundle (`%dateOfService` is bound). A Quantity result is converted to `unit`. Used by DTR
   * pre-population and CRD; a case may always give the fact itself.
   */
  fhirPath: z.string().trim().min(1).max(2000).optional(),
};
const range = {
  /** UCUM-style unit the value is in (`kg/m2`, `%`, `mo`). */
  unit: z.string().trim().min(1).max(40).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
};

/** One declared fact (issue 15 "Facts are data"). */
export const factDeclSchema = z
  .discriminatedUnion("type", [
    z.strictObject({ ...common, type: z.literal("boolean") }),
    z.strictObject({ ...common, type: z.literal("number"), ...range }),
    /** A whole number: a count (`provocative tests positive`), or months, weeks. */
    z.strictObject({ ...common, type: z.literal("integer"), ...range }),
    /** A calendar date `YYYY-MM-DD`, compared with the date of service. */
    z.strictObject({ ...common, type: z.literal("date") }),
    /** One code of a code system (`tumorType` as SNOMED, a principal diagnosis as ICD-10-CM). */
    z.strictObject({ ...common, type: z.literal("code"), system: codeSystem }),
    /** One of a fixed list of values. */
    z.strictObject({ ...common, type: z.literal("enum"), values: z.array(value).min(1).max(200) }),
    /**
     * A set of enum values or of codes (exactly one of `values`, `system`). `orCount`: a number is
     * also accepted, as how many members the set has when the list itself is not known.
     */
    z.strictObject({
      ...common,
      type: z.literal("set"),
      values: z.array(value).min(1).max(200).optional(),
      system: codeSystem.optional(),
      orCount: z.boolean().optional(),
    }),
    /** A list of measurements (`pain relief after each injection, in %`). */
    z.strictObject({ ...common, type: z.literal("numbers"), ...range }),
  ])
  .superRefine((d, ctx) => {
    if (d.type === "set" && (d.values === undefined) === (d.system === undefined)) {
      ctx.addIssue({ code: "custom", path: ["values"], message: "a set takes either values or system" });
    }
    if ("min" in d && d.min !== undefined && d.max !== undefined && d.min > d.max) {
      ctx.addIssue({ code: "custom", path: ["max"], message: "max is below min" });
    }
  });
export type FactDecl = z.infer<typeof factDeclSchema>;
export type FactType = FactDecl["type"];

/** The facts one policy version understands, by name (its own declarations and those it inherits). */
export type Vocabulary = ReadonlyMap<string, FactDecl>;

/** A fact's value as a case carries it (checked against the vocabulary later, by the policy). */
export const factValueSchema = z.union([
  z.number(),
  z.boolean(),
  z.string().max(200),
  z.array(z.union([z.number(), z.string().max(200)])).max(100),
]);
export type FactValue = z.infer<typeof factValueSchema>;

/** Most facts a case may carry: far more than any policy declares, few enough to bound the work. */
export const MAX_FACTS = 200;

export const factsSchema = z
  .record(z.string().regex(FACT_NAME, { error: "must be a fact name like bmi" }), factValueSchema, {
    error: "facts must be an object of fact names to values",
  })
  .refine((f) => Object.keys(f).length <= MAX_FACTS, { error: `at most ${MAX_FACTS} facts` });
export type Facts = Record<string, FactValue>;

/**
 * A code compared as its system compares codes: upper case; ICD-10-CM without its dot (M43.16 and
 * M4316 are one code). A trailing `*` (a family: `M43.1*`) is kept.
 */
export function normalizeCode(system: string | undefined, code: string): string {
  const up = code.toUpperCase();
  return system === "icd-10-cm" ? up.replaceAll(".", "") : up;
}

/** Whether a declared code pattern (`M43.1*` for the family, else one code) covers `code`; both normalized. */
export function codeCovers(pattern: string, code: string): boolean {
  return pattern.endsWith("*") ? code.startsWith(pattern.slice(0, -1)) : code === pattern;
}

/** What a fact of this declaration must be, in words (for errors, docs and forms). */
export function describeType(d: FactDecl): string {
  const r = (x: { unit?: string; min?: number; max?: number }) => {
    const parts: string[] = [];
    if (x.unit) parts.push(x.unit);
    if (x.min !== undefined || x.max !== undefined) parts.push(`${x.min ?? "…"}–${x.max ?? "…"}`);
    return parts.length ? ` (${parts.join(", ")})` : "";
  };
  switch (d.type) {
    case "boolean":
      return "true or false";
    case "number":
      return `a number${r(d)}`;
    case "integer":
      return `a whole number${r(d)}`;
    case "date":
      return "a date YYYY-MM-DD";
    case "code":
      return `a code of ${CODE_SYSTEMS[d.system]!.label} (${CODE_SYSTEMS[d.system]!.example})`;
    case "enum":
      return `one of ${d.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "set": {
      const of = d.values
        ? `values of ${d.values.map((v) => JSON.stringify(v)).join(", ")}`
        : `codes of ${CODE_SYSTEMS[d.system!]!.label} (${CODE_SYSTEMS[d.system!]!.example})`;
      return `a list of ${of}, each once${d.orCount ? ", or how many" : ""}`;
    }
    case "numbers":
      return `a list of numbers${r(d)}`;
  }
}

function inRange(d: { min?: number; max?: number }, v: unknown): boolean {
  return (
    typeof v === "number" &&
    Number.isFinite(v) &&
    (d.min === undefined || v >= d.min) &&
    (d.max === undefined || v <= d.max)
  );
}

function isCode(system: string, v: unknown): boolean {
  return typeof v === "string" && v.length <= 20 && CODE_SYSTEMS[system]!.pattern.test(v);
}

/** A check of one value against its declaration: true when the value is of the declared type. */
export type ValueCheck = (v: unknown) => boolean;

/** Compiles one declaration to its value check (once per policy version, run per case). */
export function valueCheck(d: FactDecl): ValueCheck {
  switch (d.type) {
    case "boolean":
      return (v) => typeof v === "boolean";
    case "number":
      return (v) => inRange(d, v);
    case "integer":
      return (v) => Number.isInteger(v) && inRange(d, v);
    case "date":
      return (v) => typeof v === "string" && isIsoDate(v);
    case "code": {
      const system = d.system;
      return (v) => isCode(system, v);
    }
    case "enum": {
      const allowed = new Set(d.values);
      return (v) => typeof v === "string" && allowed.has(v);
    }
    case "set": {
      const allowed = d.values ? new Set(d.values) : undefined;
      const system = d.system;
      const item: ValueCheck = allowed
        ? (x) => typeof x === "string" && allowed.has(x)
        : (x) => isCode(system!, x);
      const orCount = d.orCount === true;
      return (v) => {
        if (orCount && Number.isInteger(v) && (v as number) >= 0) {
          return allowed === undefined || (v as number) <= allowed.size;
        }
        if (!Array.isArray(v)) return false;
        for (const x of v) if (!item(x)) return false;
        // A set holds each member once (issue 15 review: three "compression" counted as three tests);
        // codes are compared as their system compares them (M43.16 and M4316 are one).
        const seen = new Set<string>();
        for (const x of v as string[]) seen.add(normalizeCode(system, x));
        return seen.size === v.length;
      };
    }
    case "numbers":
      return (v) => {
        if (!Array.isArray(v)) return false;
        for (const x of v) if (!inRange(d, x)) return false;
        return true;
      };
  }
}

/** A policy version's facts compiled for checking cases (SPEC 2.3, issue 15). */
export interface FactChecker {
  readonly vocabulary: Vocabulary;
  /** Throws an InputError naming each unknown or ill-typed fact, the policy and the expected type. */
  check(facts: Readonly<Record<string, unknown>>): void;
}

/** Compiles a vocabulary for checking the facts of cases decided by `policy` (`ID@VERSION`). */
export function factChecker(policy: { id: string; version: string }, vocabulary: Vocabulary): FactChecker {
  const checks: Record<string, ValueCheck | undefined> = Object.create(null);
  for (const [name, d] of vocabulary) checks[name] = valueCheck(d);
  const label = `${policy.id}@${policy.version}`;
  return {
    vocabulary,
    check(facts) {
      const problems: { name: string; message: string }[] = [];
      for (const name in facts) {
        const check = checks[name];
        if (check !== undefined && check(facts[name])) continue;
        const d = vocabulary.get(name);
        const message = d
          ? `facts.${name}: must be ${describeType(d)} for ${label}`
          : `facts.${name}: unknown fact for ${label} (${
              vocabulary.size ? `it reads ${[...vocabulary.keys()].join(", ")}` : "it reads no facts"
            })`;
        problems.push({ name, message });
      }
      if (problems.length === 0) return;
      const first = problems[0]!;
      throw new InputError(problems.map((p) => p.message).join("; "), {
        field: `facts.${first.name}`,
        policy: policy.id,
        version: policy.version,
      });
    },
  };
}

/** JSON Schema of one declared fact (for `medpolicy schema POLICY` and docs). */
export function factJsonSchema(d: FactDecl): Record<string, unknown> {
  const base: Record<string, unknown> = { description: d.description };
  const bounds = (x: { unit?: string; min?: number; max?: number }) => ({
    ...(x.min !== undefined && { minimum: x.min }),
    ...(x.max !== undefined && { maximum: x.max }),
    ...(x.unit !== undefined && { "x-unit": x.unit }),
  });
  const codeOf = (system: string) => ({
    type: "string",
    pattern: CODE_SYSTEMS[system]!.pattern.source,
    "x-system": CODE_SYSTEMS[system]!.url,
  });
  switch (d.type) {
    case "boolean":
      return { ...base, type: "boolean" };
    case "number":
      return { ...base, type: "number", ...bounds(d) };
    case "integer":
      return { ...base, type: "integer", ...bounds(d) };
    case "date":
      return { ...base, type: "string", format: "date" };
    case "code":
      return { ...base, ...codeOf(d.system) };
    case "enum":
      return { ...base, type: "string", enum: d.values };
    case "set": {
      const items = d.values ? { type: "string", enum: d.values } : codeOf(d.system!);
      const list = { type: "array", items, uniqueItems: true };
      if (!d.orCount) return { ...base, ...list };
      return { ...base, anyOf: [list, { type: "integer", minimum: 0 }] };
    }
    case "numbers":
      return { ...base, type: "array", items: { type: "number", ...bounds(d) } };
  }
}
