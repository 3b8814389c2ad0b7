/**
 * Collects every FHIR answer the tests receive and validates it against the IG packages (issue 16,
 * "Validation in the test suite"): `recordFhirAnswer` is meant to be called by test/fhir/helpers.ts's
 * `call` for each response, `igReport` summarises the distinct errors per answer kind.
 *
 * With `MEDPOLICY_IG_REPORT=1` the report is printed to stderr when the test process exits; with
 * `MEDPOLICY_IG_REPORT=<path>.json` it is written there as JSON; `MEDPOLICY_IG_VALIDATE=0` turns
 * recording through `recordCall` off. Recording never throws: a test that
 * drives the service is not failed by this collector, ig-answers.test.ts asserts instead.
 */
import { writeFileSync } from "node:fs";
import type { Resource } from "@medplum/fhirtypes";
import {
  type FhirContext,
  type FhirValidation,
  type IgIssue,
  igAvailable,
  type PasVersion,
  validateFhir,
} from "./validator.js";

/** What the collector keeps per answer kind (route with ids replaced, resource type). */
export interface KindReport {
  kind: string;
  answers: number;
  withErrors: number;
  /** Distinct errors (path with indices removed + message) and how often each was seen. */
  errors: Map<string, number>;
  /** What could not be checked (value sets, profiles and extensions the packages lack), distinct. */
  notChecked: Set<string>;
  maxMs: number;
  totalMs: number;
}

const kinds = new Map<string, KindReport>();
let exitHook = false;

/** The route without ids: `GET /fhir/ClaimResponse/:id`, `POST /cds-services/:service`. */
export function routeKind(route: string): string {
  const [method = "", rawPath = ""] = route.split(" ", 2);
  const path = decodeURIComponent(rawPath.split("?")[0] ?? "");
  const parts = path.split("/").map((p, i, all) => {
    if (i === 0 || p.startsWith("$")) return p;
    const prev = all[i - 1] ?? "";
    // After a FHIR resource type (capitalised), a segment is an id; so is any segment with a digit run.
    if (/^[A-Z][A-Za-z]+$/.test(prev) && !/^[A-Z]/.test(p)) return ":id";
    if (prev === "cds-services") return p;
    return /\d{3,}|^[0-9a-f-]{16,}$/i.test(p) ? ":id" : p;
  });
  return `${method} ${parts.join("/")}`;
}

/** The context an answer is validated in, from its route (`$inquire` → inquiry profiles). */
export function contextOf(route: string, pas?: PasVersion): FhirContext {
  const fc: FhirContext = { pas: pas ?? "2.2.1" };
  if (route.includes("$inquire") || route.includes("%24inquire")) fc.operation = "inquire";
  else if (route.includes("$submit") || route.includes("%24submit")) fc.operation = "submit";
  else if (route.includes("questionnaire-package")) fc.operation = "questionnaire-package";
  else if (route.includes("next-question")) fc.operation = "next-question";
  else if (route.includes("/cds-services/")) fc.operation = "crd-hook";
  return fc;
}

function isResource(v: unknown): v is Resource {
  return (
    v !== null && typeof v === "object" && typeof (v as { resourceType?: unknown }).resourceType === "string"
  );
}

/** The FHIR resources in an answer: the answer itself, or a CDS Hooks response's action resources. */
export function fhirResourcesOf(body: unknown): { resource: Resource; where: string }[] {
  if (isResource(body)) return [{ resource: body, where: "" }];
  if (body === null || typeof body !== "object") return [];
  const out: { resource: Resource; where: string }[] = [];
  const hooks = body as {
    systemActions?: { resource?: unknown }[];
    cards?: { suggestions?: { actions?: { resource?: unknown }[] }[] }[];
  };
  hooks.systemActions?.forEach((a, i) => {
    if (isResource(a.resource)) out.push({ resource: a.resource, where: `systemActions[${i}].resource` });
  });
  hooks.cards?.forEach((c, i) => {
    c.suggestions?.forEach((s, j) => {
      s.actions?.forEach((a, k) => {
        if (isResource(a.resource)) {
          out.push({ resource: a.resource, where: `cards[${i}].suggestions[${j}].actions[${k}].resource` });
        }
      });
    });
  });
  return out;
}

let inheritedCount = 0;

/**
 * Resources a client holds that the service may read by FHIR lookup rather than receive in the
 * request (a test's loopback EHR): their own errors count as carried over too, like a request's.
 */
const clientHeld: Resource[] = [];
export function declareClientResources(resources: readonly Resource[]): void {
  clientHeld.push(...resources);
}

/** Errors left out because the request's own resources have them (see {@link recordFhirAnswer}). */
export function inheritedErrors(): number {
  return inheritedCount;
}

/** Every FHIR resource in a request body (itself, Bundle entries, hook context and prefetch), bounded. */
export function requestResources(request: unknown): Resource[] {
  const out: Resource[] = [];
  const walk = (x: unknown, depth: number) => {
    if (out.length >= 200 || depth > 6 || x === null || typeof x !== "object") return;
    if (Array.isArray(x)) {
      for (const y of x.slice(0, 200)) walk(y, depth + 1);
      return;
    }
    if (isResource(x)) out.push(x);
    for (const v of Object.values(x as Record<string, unknown>)) walk(v, depth + 1);
  };
  walk(request, 0);
  return out;
}

/** Resource types an answer makes itself: an error inside one is never the request's. */
const OWN_TYPES: ReadonlySet<string> = new Set([
  "ClaimResponse",
  "OperationOutcome",
  "Parameters",
  "Bundle",
  "Questionnaire",
  "QuestionnaireResponse",
  "CapabilityStatement",
  "ValueSet",
  "Subscription",
]);

/**
 * The deepest resource embedded in `root` that an issue's path (`Bundle.entry[2].resource.name[0]`)
 * lies inside, and the rest of the path after it; undefined for a path on `root`'s own elements.
 */
export function embeddedAt(root: Resource, path: string): { resource: Resource; rest: string } | undefined {
  const parts = path.split(".");
  if (parts[0] !== root.resourceType) return undefined;
  let node: unknown = root;
  let found: { resource: Resource; rest: string } | undefined;
  for (let k = 1; k < parts.length; k++) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$/.exec(parts[k] as string);
    if (!m || node === null || typeof node !== "object") break;
    node = (node as Record<string, unknown>)[m[1] as string];
    if (m[2] !== undefined) node = Array.isArray(node) ? node[Number(m[2])] : undefined;
    if (m[1] === "resource" && isResource(node)) {
      found = { resource: node, rest: parts.slice(k + 1).length ? `.${parts.slice(k + 1).join(".")}` : "" };
    }
  }
  return found;
}

function key(i: IgIssue): string {
  // Messages may quote a value (a fuzzed 100 KB code): the report keeps its first 200 characters.
  return `${i.path.replace(/\[\d+\]/g, "")}: ${i.message.length > 200 ? `${i.message.slice(0, 200)}…` : i.message}`;
}

/**
 * Validates one answer of the service (issue 16): every FHIR resource in it, by profile or context.
 * Returns the validations (empty for a non-FHIR body); never throws.
 */
export function recordFhirAnswer(
  route: string,
  body: unknown,
  pas?: PasVersion,
  request?: unknown,
): FhirValidation[] {
  if (!igAvailable) return [];
  const found = fhirResourcesOf(body);
  if (found.length === 0) return [];
  const results: FhirValidation[] = [];
  const fc = contextOf(route, pas);
  // What the answer carries over from the request (an order echoed with coverage information; a
  // Patient or Coverage of the PAS request among the response Bundle's entries) is the client's: an
  // error inside such an embedded resource that the request's own copy (same type and id) already
  // has is counted apart, as inherited. Errors anywhere else — the answer's envelope, its own
  // ClaimResponse, OperationOutcome or Parameters — are always the answer's.
  const sources = [...requestResources(request), ...clientHeld];
  const keysOf = new Map<Resource, Set<string>>();
  const sourceKeys = (r: Resource) => {
    let k = keysOf.get(r);
    if (!k) {
      try {
        k = new Set(validateFhir(r, fc).errors.map(key));
      } catch {
        k = new Set();
      }
      keysOf.set(r, k);
    }
    return k;
  };
  const carried = (answer: Resource, whole: boolean, i: IgIssue): boolean => {
    const at = whole
      ? { resource: answer, rest: i.path.slice(answer.resourceType.length) }
      : embeddedAt(answer, i.path);
    if (!at || OWN_TYPES.has(at.resource.resourceType)) return false;
    const src = sources.find((r) => r.resourceType === at.resource.resourceType && r.id === at.resource.id);
    return src !== undefined && sourceKeys(src).has(key({ ...i, path: `${src.resourceType}${at.rest}` }));
  };
  for (const { resource, where } of found) {
    let v: FhirValidation;
    try {
      v = validateFhir(resource, fc);
    } catch (e) {
      const issue: IgIssue = {
        severity: "error",
        code: "processing",
        path: resource.resourceType,
        message: `validator failed: ${(e as Error).message.slice(0, 80)}`,
      };
      v = { profiles: [], issues: [issue], errors: [issue], ms: 0 };
    }
    if (v.errors.length > 0 && sources.length > 0) {
      // A CDS Hooks action's resource is the request's order itself (where != ""); a Bundle's or
      // Parameters' embedded resources are found by the issue's path.
      const own = v.errors.filter((i) => !carried(resource, where !== "", i));
      if (own.length < v.errors.length) {
        inheritedCount += v.errors.length - own.length;
        v = { ...v, errors: own, issues: v.issues.filter((i) => i.severity !== "error" || own.includes(i)) };
      }
    }
    results.push(v);
    const kind = `${routeKind(route)} → ${where ? `${where} ` : ""}${resource.resourceType}`;
    let k = kinds.get(kind);
    if (!k) {
      k = { kind, answers: 0, withErrors: 0, errors: new Map(), notChecked: new Set(), maxMs: 0, totalMs: 0 };
      kinds.set(kind, k);
    }
    k.answers++;
    k.totalMs += v.ms;
    k.maxMs = Math.max(k.maxMs, v.ms);
    if (v.errors.length) k.withErrors++;
    for (const i of v.errors) k.errors.set(key(i), (k.errors.get(key(i)) ?? 0) + 1);
    for (const i of v.issues) if (i.code === "not-checked") k.notChecked.add(i.message);
  }
  if (!exitHook && process.env.MEDPOLICY_IG_REPORT) {
    exitHook = true;
    process.on("exit", () => {
      const target = process.env.MEDPOLICY_IG_REPORT ?? "";
      if (target.endsWith(".json")) writeFileSync(target, JSON.stringify(igReportJson(), null, 2));
      else process.stderr.write(`${igReport()}\n`);
    });
  }
  return results;
}

/**
 * The PAS version a request asks for: 2.0.1 when its Bundle, first entry or Parameters resource
 * declares a `|2.0.1` profile (how the service tells them apart), else 2.2.1.
 */
export function pasVersionOf(request: unknown): PasVersion {
  const r = request as {
    meta?: { profile?: string[] };
    entry?: { resource?: { meta?: { profile?: string[] } } }[];
    parameter?: { resource?: unknown }[];
  } | null;
  // Requests are whatever a test sends (wrong types included): read defensively.
  const list = <T>(x: unknown): T[] => (Array.isArray(x) ? (x as T[]) : []);
  const profiles = [
    ...list<unknown>(r?.meta?.profile),
    ...list<unknown>(
      list<{ resource?: { meta?: { profile?: unknown } } }>(r?.entry)[0]?.resource?.meta?.profile,
    ),
  ];
  if (profiles.some((p) => typeof p === "string" && p.endsWith("|2.0.1"))) return "2.0.1";
  const inner = list<{ resource?: unknown } | null>(r?.parameter).find((p) => p?.resource)?.resource;
  return inner && inner !== request ? pasVersionOf(inner) : "2.2.1";
}

/**
 * For test/fhir/helpers.ts's `call`: records the answer to one request (PAS version from the request)
 * and hands the response on unchanged.
 */
export function recordCall<R extends { body: unknown }>(
  method: string,
  path: string,
  request: unknown,
  res: R,
): R {
  if (process.env.MEDPOLICY_IG_VALIDATE !== "0")
    recordFhirAnswer(`${method} ${path}`, res.body, pasVersionOf(request), request);
  return res;
}

/** The collected kinds (for assertions). */
export function igKinds(): KindReport[] {
  return [...kinds.values()].sort((a, b) => a.kind.localeCompare(b.kind));
}

/** The report as JSON: per kind, answers, answers with errors, distinct errors with counts. */
export function igReportJson(): {
  kind: string;
  answers: number;
  withErrors: number;
  avgMs: number;
  errors: { error: string; times: number }[];
  notChecked: string[];
}[] {
  return igKinds().map((k) => ({
    kind: k.kind,
    answers: k.answers,
    withErrors: k.withErrors,
    avgMs: Math.round(k.totalMs / Math.max(1, k.answers)),
    errors: [...k.errors]
      .map(([error, times]) => ({ error, times }))
      .sort((a, b) => a.error.localeCompare(b.error)),
    notChecked: [...k.notChecked].sort(),
  }));
}

/** A readable report: one block per answer kind, its distinct errors (path + message). */
export function igReport(): string {
  const lines: string[] = [];
  let answers = 0;
  let bad = 0;
  for (const k of igReportJson()) {
    answers += k.answers;
    bad += k.withErrors;
    lines.push(`${k.kind}: ${k.answers} answers, ${k.withErrors} with errors, ~${k.avgMs} ms each`);
    for (const e of k.errors) lines.push(`    ${e.times}× ${e.error}`);
    for (const n of k.notChecked) lines.push(`    (not checked) ${n}`);
  }
  lines.unshift(
    `IG validation: ${answers} FHIR answers, ${bad} with errors (${inheritedCount} errors carried over from requests left out)`,
  );
  return lines.join("\n");
}

/** Forgets what was collected (tests of the collector). */
export function resetIgReport(): void {
  kinds.clear();
  inheritedCount = 0;
}
