/**
 * The authoring workbench's pure part (issue 15 item 5): no DOM, so it runs under node's test runner.
 * Bindings are edited as a whole `bindings.json` object (authored part plus `proposed`), the form of a
 * fact declaration and of a predicate is read here, and each is checked with the model's own schemas
 * (`factDeclSchema`, `predicateBindingSchema`, `predicateProblems`): the form refuses exactly what the
 * server's `PUT …/bindings` refuses, before anything is sent.
 */
import {
  CODE_PATTERN,
  CODE_SYSTEMS,
  COMPARISONS,
  type Comparison,
  type FactDecl,
  factDeclSchema,
  type Predicate,
  type PredicateBinding,
  predicateBindingSchema,
  predicateProblems,
  predicateSchema,
  questionKey,
  valueCheck,
} from "../../../model/index.js";
import type {
  AuthoringCriterion,
  AuthoringVersion,
  Bindings,
  BranchNode,
  CriterionNode,
  Determination,
  PolicyVersion,
  ProposedCodeBinding,
  TraceNode,
} from "../types.js";

/** `bindings.json` as the workbench edits it and `PUT …/bindings` takes it. */
export type EditableBindings = Bindings & { proposed: ProposedCodeBinding[] };

/** A deep copy of the version's bindings, ready to edit. */
export function editableBindings(v: Pick<AuthoringVersion, "id" | "bindings">): EditableBindings {
  const a = v.bindings.authored;
  return structuredClone({
    ...a,
    policy: a.policy ?? v.id,
    codes: a.codes ?? [],
    facts: a.facts ?? [],
    predicates: a.predicates ?? [],
    corrections: a.corrections ?? [],
    placements: a.placements ?? [],
    proposed: v.bindings.proposed ?? [],
  });
}

/** Whether two bindings objects say the same (key order aside: both come from the same editor). */
export function sameBindings(a: EditableBindings, b: EditableBindings): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

// ---- Bytes ----

/** The bytes as base64, in chunks (`String.fromCharCode(...all)` overflows the stack on megabytes). */
export function base64OfBytes(bytes: Uint8Array): string {
  let bin = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK)
    bin += String.fromCharCode(...bytes.subarray(i, Math.min(i + CHUNK, bytes.length)));
  return btoa(bin);
}

/** The document's text as numbered lines (1-based: line `n` is `lines[n - 1]`). */
export function sourceLines(text: string): string[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  if (lines.length > 1 && lines.at(-1) === "") lines.pop();
  return lines;
}

// ---- Code bindings ----

/** The sections a code can be bound to: every section of the version, in order, with its kind. */
export function sectionChoices(p: PolicyVersion): { id: string; label: string; kind: string }[] {
  return p.sections.map((s) => ({
    id: s.id,
    kind: s.kind,
    label: `${s.id} — ${s.kind === "medically-necessary" ? "medically necessary when" : s.kind.replace(/-/g, " ")}`,
  }));
}

/**
 * Confirms proposal `index` (issue 15: "confirmed" is its codes bound in `codes`): its codes move to a
 * new code binding of `section` (default the section the proposal names), and it leaves `proposed`.
 * Returns the new bindings, or why it cannot (no section chosen or named).
 */
export function confirmProposal(
  b: EditableBindings,
  index: number,
  section?: string,
): { bindings?: EditableBindings; error?: string } {
  const p = b.proposed[index];
  if (!p) return { error: "No such proposal." };
  const sec = (section ?? p.section ?? "").trim();
  if (sec === "") return { error: "Choose the section that governs these codes." };
  const next = structuredClone(b);
  next.proposed.splice(index, 1);
  next.codes.push({
    codes: [...p.codes],
    section: sec,
    why: `Confirmed from the document (line ${p.line}): ${p.basis}`.slice(0, 500),
  });
  return { bindings: next };
}

/** Dismisses proposal `index`: the author decided its codes do not belong to the policy. */
export function dismissProposal(b: EditableBindings, index: number): EditableBindings {
  const next = structuredClone(b);
  const p = next.proposed[index];
  if (p) p.status = "dismissed";
  return next;
}

/** Puts a dismissed proposal back to `unconfirmed`. */
export function restoreProposal(b: EditableBindings, index: number): EditableBindings {
  const next = structuredClone(b);
  const p = next.proposed[index];
  if (p) p.status = "unconfirmed";
  return next;
}

/** What the code-binding form holds. */
export interface CodeForm {
  codes: string;
  /** A section id, or `coding-only` (the codes route to the policy and decide nothing). */
  section: string;
  otherwise: string;
  /** Not-covered exclusion lists evaluated with the section (`excludedBy`), comma-separated ids. */
  excludedBy: string;
  why: string;
}

/**
 * Reads the code-binding form: codes comma- or space-separated, each a CPT or HCPCS code (a case's
 * codes are those), upper-cased, each once; a section of the version (or coding only).
 */
export function readCodeForm(
  f: CodeForm,
  sections: readonly string[],
): { binding?: Bindings["codes"][number]; errors: Partial<Record<keyof CodeForm, string>> } {
  const errors: Partial<Record<keyof CodeForm, string>> = {};
  const codes: string[] = [];
  for (const raw of f.codes.split(/[\s,]+/).filter((c) => c !== "")) {
    const c = raw.toUpperCase();
    if (!CODE_PATTERN.test(c)) {
      errors.codes = `“${raw}” is not a CPT or HCPCS code (5 characters: 97810, 0775T, E0782).`;
      break;
    }
    if (!codes.includes(c)) codes.push(c);
  }
  if (!errors.codes && codes.length === 0) errors.codes = "Enter at least one code.";
  const section = f.section.trim();
  const otherwise = f.otherwise.trim();
  const why = f.why.trim();
  if (section === "") errors.section = "Choose a section.";
  else if (section !== "coding-only" && !sections.includes(section))
    errors.section = `Section ${section} is not a section of this version.`;
  if (otherwise !== "" && (section === "coding-only" || !sections.includes(otherwise)))
    errors.otherwise =
      section === "coding-only"
        ? "A coding-only binding has no fallback section."
        : `Section ${otherwise} is not a section of this version.`;
  const excludedBy = [...new Set(f.excludedBy.split(",").map((x) => x.trim()))].filter((x) => x !== "");
  const unknown = excludedBy.find((x) => !sections.includes(x));
  if (
    excludedBy.length > 0 &&
    (section === "coding-only" || unknown !== undefined || excludedBy.includes(section))
  )
    errors.excludedBy =
      section === "coding-only"
        ? "A coding-only binding is decided by no section: nothing to exclude from."
        : unknown !== undefined
          ? `Section ${unknown} is not a section of this version.`
          : `Section ${section} cannot exclude itself.`;
  if (Object.keys(errors).length > 0) return { errors };
  const binding: Bindings["codes"][number] =
    section === "coding-only"
      ? { codes, codingOnly: true, ...(why && { why }) }
      : {
          codes,
          section,
          ...(otherwise && { otherwise }),
          ...(excludedBy.length > 0 && { excludedBy }),
          ...(why && { why }),
        };
  return { binding, errors };
}

/** A code binding as the form shows it. */
export function codeFormOf(b: Bindings["codes"][number]): CodeForm {
  return {
    codes: b.codes.join(", "),
    section: "section" in b ? b.section : "coding-only",
    otherwise: "section" in b ? (b.otherwise ?? "") : "",
    excludedBy: "section" in b ? (b.excludedBy ?? []).join(",") : "",
    why: b.why ?? "",
  };
}

// ---- Fact declarations ----

/** What the fact form holds: text as typed, one field per part of a declaration. */
export interface FactForm {
  name: string;
  type: FactDecl["type"];
  description: string;
  unit: string;
  min: string;
  max: string;
  /** Allowed values, one a line (or comma-separated). */
  values: string;
  system: string;
  orCount: boolean;
  fhirPath: string;
}

/** The fields a type of fact takes (besides name, type, description and fhirPath). */
export const FACT_FIELDS: Record<
  FactDecl["type"],
  readonly ("unit" | "min" | "max" | "values" | "system" | "orCount")[]
> = {
  boolean: [],
  number: ["unit", "min", "max"],
  integer: ["unit", "min", "max"],
  date: [],
  code: ["system"],
  enum: ["values"],
  set: ["values", "system", "orCount"],
  numbers: ["unit", "min", "max"],
};

/** The types of fact, in the order a form offers them, with what each is. */
export const FACT_TYPES: readonly { type: FactDecl["type"]; label: string }[] = [
  { type: "boolean", label: "Yes / no" },
  { type: "number", label: "Number (with unit and range)" },
  { type: "integer", label: "Whole number (a count, months, weeks)" },
  { type: "date", label: "Date" },
  { type: "code", label: "One code of a code system" },
  { type: "enum", label: "One of a list of values" },
  { type: "set", label: "A set of values or of codes" },
  { type: "numbers", label: "A list of measurements" },
];

/** An empty fact form. */
export function emptyFactForm(): FactForm {
  return {
    name: "",
    type: "boolean",
    description: "",
    unit: "",
    min: "",
    max: "",
    values: "",
    system: "",
    orCount: false,
    fhirPath: "",
  };
}

/** A declaration as the fact form shows it. */
export function factFormOf(d: FactDecl): FactForm {
  const f = emptyFactForm();
  f.name = d.name;
  f.type = d.type;
  f.description = d.description;
  f.fhirPath = d.fhirPath ?? "";
  if ("unit" in d && d.unit !== undefined) f.unit = d.unit;
  if ("min" in d && d.min !== undefined) f.min = String(d.min);
  if ("max" in d && d.max !== undefined) f.max = String(d.max);
  if ("values" in d && d.values !== undefined) f.values = d.values.join("\n");
  if ("system" in d && d.system !== undefined) f.system = d.system;
  if ("orCount" in d && d.orCount !== undefined) f.orCount = d.orCount;
  return f;
}

/**
 * A decimal number as typed (`12`, `-3.5`, `1e3`), or NaN: only digits, sign, point and exponent,
 * so `Number`'s other readings (`0x1F`, `Infinity`, an empty string as 0) are refused.
 */
export function readNumber(text: string): number {
  const t = text.trim();
  if (t === "" || !/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(t)) return Number.NaN;
  return Number(t);
}

/** Field of a zod issue path → the form field it belongs to. */
function fieldOfIssue(path: readonly PropertyKey[]): keyof FactForm | "form" {
  const k = path[0];
  return typeof k === "string" && k in emptyFactForm() ? (k as keyof FactForm) : "form";
}

/**
 * Reads the fact form into a declaration, checked with the model's `factDeclSchema` (what the server
 * checks on save), plus what the library refuses on load: a name declared twice. `others` are the
 * declarations the policy keeps besides this one (its own and inherited); a name shared with an
 * inherited one must declare it identically. Errors are by field, in words.
 */
export function readFactForm(
  f: FactForm,
  others: readonly FactDecl[],
): { decl?: FactDecl; errors: Partial<Record<keyof FactForm | "form", string>> } {
  const errors: Partial<Record<keyof FactForm | "form", string>> = {};
  const takes = FACT_FIELDS[f.type];
  if (!takes) return { errors: { type: "Choose a type." } };
  const raw: Record<string, unknown> = {
    name: f.name.trim(),
    type: f.type,
    description: f.description.trim(),
  };
  if (f.fhirPath.trim() !== "") raw.fhirPath = f.fhirPath.trim();
  if (takes.includes("unit") && f.unit.trim() !== "") raw.unit = f.unit.trim();
  for (const k of ["min", "max"] as const) {
    if (!takes.includes(k) || f[k].trim() === "") continue;
    const n = readNumber(f[k]);
    if (!Number.isFinite(n)) errors[k] = "Enter a number.";
    else raw[k] = n;
  }
  if (takes.includes("values") && f.values.trim() !== "") {
    const vs = f.values
      .split(/[\n,]/)
      .map((v) => v.trim())
      .filter((v) => v !== "");
    const dup = vs.find((v, i) => vs.indexOf(v) !== i);
    if (dup !== undefined) errors.values = `“${dup}” is listed twice.`;
    raw.values = vs;
  }
  if (takes.includes("system") && f.system !== "") raw.system = f.system;
  if (takes.includes("orCount") && f.orCount) raw.orCount = true;
  const parsed = factDeclSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = fieldOfIssue(issue.path);
      errors[field] ??= issueText(field, issue.message);
    }
  }
  if (parsed.success) {
    const same = others.find((o) => o.name === parsed.data.name);
    if (same && JSON.stringify(same) !== JSON.stringify(parsed.data))
      errors.name = `A fact named ${parsed.data.name} is already declared: edit that one, or choose another name.`;
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { errors };
  return { decl: parsed.data, errors };
}

/** A zod message in the form's words. */
function issueText(field: string, message: string): string {
  if (field === "description" && /too small|>=3/i.test(message))
    return "Describe the fact (3 characters or more).";
  if (field === "name")
    return /must be a name/.test(message)
      ? "A name like bmi or painWeeks: a lower-case letter, then letters, digits or _."
      : message;
  if (field === "values" && /too small|>=1/i.test(message)) return "List at least one value.";
  if (field === "system" && /must be one of/.test(message)) return "Choose a code system.";
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/** The declaration replaced (same name as `previous`) or added, keeping the order. */
export function putFact(b: EditableBindings, decl: FactDecl, previous?: string): EditableBindings {
  const next = structuredClone(b);
  const i = next.facts.findIndex((d) => d.name === (previous ?? decl.name));
  if (i >= 0) next.facts[i] = decl;
  else next.facts.push(decl);
  return next;
}

/** The facts any predicate of `b` reads. */
export function factsRead(b: Pick<EditableBindings, "predicates">): Set<string> {
  const out = new Set<string>();
  const walk = (p: Predicate) => {
    if ("all" in p) p.all.forEach(walk);
    else if ("any" in p) p.any.forEach(walk);
    else if ("firstKnown" in p) p.firstKnown.forEach(walk);
    else if ("not" in p) walk(p.not);
    else out.add(p.fact);
  };
  for (const x of b.predicates) walk(x.when);
  return out;
}

/** The vocabulary the edited bindings give the version: its own declarations, then inherited ones. */
export function vocabularyOf(b: EditableBindings, inherited: readonly FactDecl[]): FactDecl[] {
  const out = new Map<string, FactDecl>();
  for (const d of b.facts) out.set(d.name, d);
  for (const d of inherited) if (!out.has(d.name)) out.set(d.name, d);
  return [...out.values()];
}

/** The declarations of the version's vocabulary its own bindings do not declare (inherited). */
export function inheritedFacts(v: AuthoringVersion): FactDecl[] {
  const own = new Set((v.bindings.authored.facts ?? []).map((d) => d.name));
  return v.vocabulary.filter((d) => !own.has(d.name));
}

// ---- Predicates ----

/** How an operator's value is entered. */
export type OperandKind = "one" | "list" | "range" | "span" | "count" | "countAtLeast";

/** One operator a predicate test may use. */
export interface OperatorSpec {
  /** `>=`, `in`, `between`, `within`, `includes`, `count>=`, `countAtLeast`… */
  key: string;
  label: string;
  operand: OperandKind;
}

const CMP_LABEL: Record<Comparison, string> = {
  "==": "= (is)",
  "!=": "≠ (is not)",
  "<": "< (less than)",
  "<=": "≤ (at most)",
  ">": "> (more than)",
  ">=": "≥ (at least)",
};

const cmpOps = (which: readonly Comparison[]): OperatorSpec[] =>
  which.map((c) => ({ key: c, label: CMP_LABEL[c], operand: "one" as const }));
const countOps = (): OperatorSpec[] =>
  COMPARISONS.map((c) => ({
    key: `count${c}`,
    label: `how many ${CMP_LABEL[c]}`,
    operand: "count" as const,
  }));

/**
 * The operators valid for a fact's type (those `predicateProblems` accepts for it; issue 15 item 2):
 * `==`/`!=` for yes/no, enum and code; every comparison, `in` and `between` for numbers; comparisons,
 * `between` and spans before the date of service for dates; `includes`… and counts for sets; counts
 * for lists of measurements.
 */
export function operatorsFor(d: FactDecl): OperatorSpec[] {
  switch (d.type) {
    case "boolean":
      return cmpOps(["==", "!="]);
    case "number":
    case "integer":
      return [
        ...cmpOps(COMPARISONS),
        { key: "in", label: "is one of", operand: "list" },
        { key: "between", label: "between (inclusive)", operand: "range" },
      ];
    case "date":
      return [
        ...cmpOps(COMPARISONS),
        { key: "between", label: "between (inclusive)", operand: "range" },
        { key: "within", label: "within … before the date of service", operand: "span" },
        { key: "before", label: "at least … before the date of service", operand: "span" },
      ];
    case "enum":
    case "code":
      return [...cmpOps(["==", "!="]), { key: "in", label: "is one of", operand: "list" }];
    case "set":
      return [
        { key: "includes", label: "includes", operand: "one" },
        { key: "includesAll", label: "includes all of", operand: "list" },
        { key: "includesAny", label: "includes any of", operand: "list" },
        { key: "excludes", label: "includes none of", operand: "list" },
        ...countOps(),
      ];
    case "numbers":
      return [
        ...countOps(),
        { key: "countAtLeast", label: "at least N values of at least", operand: "countAtLeast" },
      ];
  }
}

/** What a test's operand inputs hold (as typed). */
export interface OperandInput {
  a: string;
  /** The high end of a range; the N of `countAtLeast`. */
  b?: string;
  /** The unit of a span: days, months or years. */
  unit?: string;
}

/** A comma-separated list, trimmed, empties left out. */
function listOf(text: string): string[] {
  return text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

/** One value of the fact's type as a test compares it (a code family `M43.1*` for codes). */
function readScalar(d: FactDecl, text: string): { value?: number | string | boolean; error?: string } {
  const t = text.trim();
  if (t === "") return { error: "Enter a value." };
  switch (d.type) {
    case "boolean":
      if (t === "true" || t.toLowerCase() === "yes") return { value: true };
      if (t === "false" || t.toLowerCase() === "no") return { value: false };
      return { error: "Choose true or false." };
    case "number":
    case "integer":
    case "numbers": {
      const n = readNumber(t);
      return Number.isFinite(n) ? { value: n } : { error: `“${t}” is not a number.` };
    }
    case "date":
      return valueCheck(d)(t) ? { value: t } : { error: `“${t}” is not a date YYYY-MM-DD.` };
    case "enum":
      return d.values.includes(t) ? { value: t } : { error: `“${t}” is not one of: ${d.values.join(", ")}.` };
    case "code":
      return { value: t.toUpperCase() };
    case "set":
      if (d.values)
        return d.values.includes(t)
          ? { value: t }
          : { error: `“${t}” is not one of: ${d.values.join(", ")}.` };
      return { value: t.toUpperCase() };
  }
}

/**
 * One test of a predicate from the builder's inputs: the fact, the operator (one of
 * {@link operatorsFor}) and its operand, checked with the model's `predicateSchema` and
 * `predicateProblems` against the fact's declaration.
 */
export function buildTest(
  d: FactDecl,
  opKey: string,
  input: OperandInput,
): { predicate?: Predicate; error?: string } {
  const spec = operatorsFor(d).find((o) => o.key === opKey);
  if (!spec) return { error: `The operator ${opKey} does not apply to a ${d.type} fact.` };
  const fact = d.name;
  let p: Predicate;
  const one = (text: string) => readScalar(d, text);
  switch (spec.operand) {
    case "one": {
      const r = one(input.a);
      if (r.error) return { error: r.error };
      if (opKey === "includes") p = { fact, includes: String(r.value) };
      else p = { fact, op: opKey as Comparison, value: r.value! };
      break;
    }
    case "list": {
      const vs: (number | string)[] = [];
      for (const t of listOf(input.a)) {
        const r = one(t);
        if (r.error) return { error: r.error };
        if (typeof r.value === "boolean") return { error: "A list takes values, not true or false." };
        if (!vs.includes(r.value!)) vs.push(r.value!);
      }
      if (vs.length === 0) return { error: "Enter one value or more, comma-separated." };
      const strings = vs.map(String);
      if (opKey === "in") p = { fact, in: vs };
      else if (opKey === "includesAll") p = { fact, includesAll: strings };
      else if (opKey === "includesAny") p = { fact, includesAny: strings };
      else p = { fact, excludes: strings };
      break;
    }
    case "range": {
      const lo = one(input.a);
      const hi = one(input.b ?? "");
      if (lo.error) return { error: `From: ${lo.error}` };
      if (hi.error) return { error: `To: ${hi.error}` };
      p = { fact, between: [lo.value, hi.value] as [number, number] | [string, string] };
      break;
    }
    case "span": {
      const n = readNumber(input.a);
      if (!Number.isInteger(n) || n < 0 || n > 1200) return { error: "Enter a whole number from 0 to 1200." };
      const unit = input.unit ?? "months";
      if (unit !== "days" && unit !== "months" && unit !== "years")
        return { error: "Choose days, months or years." };
      p = opKey === "within" ? { fact, within: { n, unit } } : { fact, before: { n, unit } };
      break;
    }
    case "count": {
      const n = readNumber(input.a);
      if (!Number.isFinite(n)) return { error: "Enter how many, a number." };
      p = { fact, count: opKey.slice("count".length) as Comparison, value: n };
      break;
    }
    case "countAtLeast": {
      const v = readNumber(input.a);
      const n = readNumber(input.b ?? "");
      if (!Number.isFinite(v)) return { error: "Enter the value each measurement must reach." };
      if (!Number.isInteger(n) || n < 1)
        return { error: "Enter how many measurements, a whole number of 1 or more." };
      p = { fact, countAtLeast: v, min: n };
      break;
    }
  }
  const problem = predicateCheck(p, [d]);
  return problem ? { error: problem } : { predicate: p };
}

/** Why a predicate is refused against `vocabulary` (schema first, then types), or undefined. */
export function predicateCheck(p: unknown, vocabulary: readonly FactDecl[]): string | undefined {
  const parsed = predicateSchema.safeParse(p);
  if (!parsed.success) return `Not a predicate: ${issuesOf(parsed.error.issues)}`;
  const problems = predicateProblems(parsed.data, new Map(vocabulary.map((d) => [d.name, d])));
  return problems.length ? capital(problems.join("; ")) : undefined;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function issuesOf(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.map(String).join(".")}: ${i.message}` : i.message))
    .join("; ");
}

/** A builder's row: a test, possibly negated. */
export interface BuiltTest {
  predicate: Predicate;
  negate: boolean;
}

/** The builder's tests combined: one test as it is, several with `all` or `any`; `not` where asked. */
export function combineTests(tests: readonly BuiltTest[], how: "all" | "any"): Predicate | undefined {
  const ps = tests.map((t) => (t.negate ? { not: t.predicate } : t.predicate));
  if (ps.length === 0) return undefined;
  if (ps.length === 1) return ps[0];
  return how === "all" ? { all: ps } : { any: ps };
}

const SPAN = (s: { n: number; unit: string }) => `${s.n} ${s.n === 1 ? s.unit.replace(/s$/, "") : s.unit}`;
const V = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));

/** A predicate in words, as an author reads it (`painWeeks ≥ 12`, `all of (…; …)`). */
export function predicateText(p: Predicate): string {
  if ("all" in p) return `all of (${p.all.map(predicateText).join("; ")})`;
  if ("any" in p) return `any of (${p.any.map(predicateText).join("; ")})`;
  if ("firstKnown" in p) return `the first known of (${p.firstKnown.map(predicateText).join("; ")})`;
  if ("not" in p) return `not (${predicateText(p.not)})`;
  const f = p.fact;
  const sym: Record<Comparison, string> = { "==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥" };
  if ("op" in p) return `${f} ${sym[p.op]} ${V(p.value)}`;
  if ("in" in p) return `${f} is one of ${p.in.map(V).join(", ")}`;
  if ("includes" in p) return `${f} includes ${V(p.includes)}`;
  if ("includesAll" in p) return `${f} includes all of ${p.includesAll.map(V).join(", ")}`;
  if ("includesAny" in p) return `${f} includes any of ${p.includesAny.map(V).join(", ")}`;
  if ("excludes" in p) return `${f} includes none of ${p.excludes.map(V).join(", ")}`;
  if ("between" in p) return `${f} between ${V(p.between[0])} and ${V(p.between[1])}`;
  if ("within" in p) return `${f} within ${SPAN(p.within)} before the date of service`;
  if ("before" in p) return `${f} at least ${SPAN(p.before)} before the date of service`;
  if ("withinMonths" in p) return `${f} within ${p.withinMonths} months before the date of service`;
  if ("monthsBeforeAtLeast" in p)
    return `${f} at least ${p.monthsBeforeAtLeast} months before the date of service`;
  if ("count" in p) return `how many ${f} ${sym[p.count]} ${p.value}`;
  return `at least ${p.min} of ${f} ≥ ${p.countAtLeast}`;
}

/**
 * The criteria a predicate binding applies to: as the evaluator binds (`compile.ts`), every criterion
 * whose folded text (`questionKey`) contains the binding's folded `match`.
 */
export function criteriaBoundBy(
  match: string,
  criteria: readonly AuthoringCriterion[],
): AuthoringCriterion[] {
  const key = questionKey(match);
  if (key === "") return [];
  return criteria.filter((c) => questionKey(c.text).includes(key));
}

/** The predicate bindings that apply to a criterion (the same rule, the other way). */
export function bindingsOf(c: AuthoringCriterion, predicates: readonly PredicateBinding[]): number[] {
  const key = questionKey(c.text);
  const out: number[] = [];
  predicates.forEach((p, i) => {
    const m = questionKey(p.match);
    if (m !== "" && key.includes(m)) out.push(i);
  });
  return out;
}

/**
 * A predicate binding typed as JSON, checked as the server checks `predicates[i]`: its schema, its
 * facts declared and of the right type. A `match` that binds no criterion of this version is no
 * error (it may bind another version's), but is said.
 */
export function readBindingJson(
  text: string,
  vocabulary: readonly FactDecl[],
  criteria: readonly AuthoringCriterion[],
): { binding?: PredicateBinding; error?: string; warning?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { error: `Not JSON: ${(err as Error).message}` };
  }
  const parsed = predicateBindingSchema.safeParse(raw);
  if (!parsed.success) return { error: capital(issuesOf(parsed.error.issues)) };
  const problem = predicateCheck(parsed.data.when, vocabulary);
  if (problem) return { error: problem };
  const bound = criteriaBoundBy(parsed.data.match, criteria);
  return {
    binding: parsed.data,
    ...(bound.length === 0 && { warning: "Its match binds no criterion of this version." }),
  };
}

// ---- Trying cases ----

/** A value of a declared fact that its check accepts: a starting point for an example case. */
export function exampleValue(d: FactDecl, today: string): number | string | boolean | (number | string)[] {
  switch (d.type) {
    case "boolean":
      return true;
    case "number":
    case "integer":
      return d.min ?? 0;
    case "date":
      return today;
    case "code":
      return CODE_SYSTEMS[d.system]?.example ?? "";
    case "enum":
      return d.values[0]!;
    case "set":
      return d.values ? [d.values[0]!] : [CODE_SYSTEMS[d.system!]?.example ?? ""];
    case "numbers":
      return [d.min ?? 0];
  }
}

/** A `none` group's items state contraindications: "true" there means present. */
function contraindications(p: PolicyVersion): Set<string> {
  const out = new Set<string>();
  const walk = (n: CriterionNode, parent?: BranchNode) => {
    if (n.kind === "leaf" && parent?.kind === "none") out.add(n.id);
    if (n.kind !== "leaf" && n.kind !== "ref") for (const c of n.children) walk(c, n);
  };
  for (const s of p.sections) if (s.tree) walk(s.tree);
  return out;
}

/**
 * One example case for a version (issue 15 item 5: made from its answerable ids): every criterion
 * answered as favourably as it reads (a requirement met, a contraindication absent, a note's condition
 * not holding), except those a predicate decides — an answer would win over the fact — which get an
 * example value of each fact they read. The code is one the bindings route to the policy.
 */
export function exampleCase(
  v: Pick<AuthoringVersion, "criteria" | "policy">,
  b: EditableBindings,
  vocabulary: readonly FactDecl[],
  today: string,
): Record<string, unknown> {
  const contra = contraindications(v.policy);
  const answers: Record<string, boolean> = {};
  const facts: Record<string, unknown> = {};
  const decls = new Map(vocabulary.map((d) => [d.name, d]));
  for (const c of v.criteria) {
    const bound = bindingsOf(c, b.predicates);
    if (bound.length > 0) {
      for (const name of factsRead({ predicates: bound.map((i) => b.predicates[i]!) })) {
        const d = decls.get(name);
        if (d && !(name in facts)) facts[name] = exampleValue(d, today);
      }
      continue;
    }
    answers[c.id] = c.kind === "note" ? false : !contra.has(c.id);
  }
  const code =
    b.codes.flatMap((c) => c.codes).find((c) => CODE_PATTERN.test(c)) ??
    b.proposed.flatMap((p) => p.codes).find((c) => CODE_PATTERN.test(c)) ??
    "99999";
  return {
    member: { state: "TX", age: 60 },
    service: { codes: [code], dateOfService: today },
    answers,
    facts,
  };
}

/** Most cases one try takes (the server's limit). */
export const MAX_TRY_CASES = 50;

/** The try box's text as cases: one case object or an array of them (at most 50). */
export function readCases(text: string): { cases?: unknown[]; error?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { error: `Not JSON: ${(err as Error).message}` };
  }
  const cases = Array.isArray(raw) ? raw : [raw];
  if (cases.length === 0) return { error: "Give at least one case." };
  if (cases.length > MAX_TRY_CASES) return { error: `At most ${MAX_TRY_CASES} cases at a time.` };
  const bad = cases.findIndex((c) => c === null || typeof c !== "object" || Array.isArray(c));
  if (bad >= 0) return { error: `Case ${bad + 1} is not an object.` };
  return { cases };
}

/** Whether a try result side is a determination (else an error or nothing in force). */
export function isDetermination(x: unknown): x is Determination {
  return x !== null && typeof x === "object" && "outcome" in x;
}

/** Each criterion's status in a determination: its trace and its lines' traces. */
export function traceStatuses(d: Determination): Map<string, { status: string; text: string }> {
  const out = new Map<string, { status: string; text: string }>();
  const walk = (n: TraceNode | undefined) => {
    if (!n) return;
    if (!out.has(n.id)) out.set(n.id, { status: n.status, text: n.text });
    for (const c of n.children ?? []) walk(c);
  };
  walk(d.trace);
  for (const l of d.lines) walk(l.trace);
  return out;
}

/** A criterion whose status differs between the draft and the version in force. */
export interface CriterionDifference {
  id: string;
  text: string;
  draft?: string;
  inForce?: string;
}

/**
 * The criteria whose status differs between two determinations (ids both know, or one only), in the
 * draft's order then the other's. Only criteria of the same id compare: a renumbered criterion shows
 * as two (the semantic diff below says which).
 */
export function differingCriteria(draft: Determination, inForce: Determination): CriterionDifference[] {
  const a = traceStatuses(draft);
  const b = traceStatuses(inForce);
  const out: CriterionDifference[] = [];
  for (const [id, x] of a) {
    const y = b.get(id);
    if (y?.status !== x.status)
      out.push({ id, text: x.text, draft: x.status, ...(y && { inForce: y.status }) });
  }
  for (const [id, y] of b) if (!a.has(id)) out.push({ id, text: y.text, inForce: y.status });
  return out;
}

/** An error side of a try result in words. */
export function errorText(e: unknown): string {
  if (typeof e === "string") return e;
  if (e && typeof e === "object") {
    const o = e as { message?: unknown; error?: unknown };
    if (typeof o.message === "string") return o.message;
    if (o.error !== undefined) return errorText(o.error);
  }
  return JSON.stringify(e);
}

/** Today in the browser's time zone, `YYYY-MM-DD`. */
export function localToday(now: Date = new Date()): string {
  const y = now.getFullYear();
  const m = String(now.getMonth() + 1).padStart(2, "0");
  const d = String(now.getDate()).padStart(2, "0");
  return `${y}-${m}-${d}`;
}
