/**
 * The shared, data-driven case suite (SPEC 2): one folder of cases per policy (`test/cases/<id>/`) plus
 * the example cases in `../shared/cases`, in the format `{name, case, expect}`. Every evaluator path
 * (CLI, HTTP, FHIR) runs the same cases through `checkExpectation`, which applies the same rules as
 * `shared/tools/check_cases.py`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
export const SHARED = join(ROOT, "..", "shared");

export interface Expect {
  exit?: number;
  outcome?: string;
  policy?: string;
  version?: string;
  reasons?: string[];
  needed?: string[];
  reasonsAnyOf?: string[];
  reasonsInclude?: string[];
  reasonsWithin?: string[];
  lines?: Record<string, string>;
}

export interface CaseFile {
  name: string;
  file: string;
  /** The request as sent (a JSON value, or raw text for non-JSON example files). */
  input: unknown;
  raw?: string;
  expect: Expect;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** Loads every case: the project's own and, when present beside the checkout, the shared examples. */
export function loadCases(): CaseFile[] {
  const dirs = [join(ROOT, "test", "cases")];
  if (existsSync(join(SHARED, "cases"))) dirs.push(join(SHARED, "cases"));
  const out: CaseFile[] = [];
  for (const dir of dirs) {
    for (const file of walk(dir)) {
      if (file.endsWith(".json")) {
        const spec = JSON.parse(readFileSync(file, "utf8"));
        out.push({ name: spec.name, file, input: spec.case, expect: spec.expect });
      } else {
        out.push({
          name: file,
          file,
          input: undefined,
          raw: readFileSync(file, "utf8"),
          expect: { exit: 2 },
        });
      }
    }
  }
  return out;
}

const ids = (xs: unknown) =>
  new Set(((xs as { criterion?: string }[] | undefined) ?? []).map((x) => x.criterion));
const sorted = (s: Set<unknown>) => [...s].map(String).sort();

/** Compares one result with its expectation; returns the problems (empty when it passes). */
export function checkExpectation(exp: Expect, exit: number, output: unknown): string[] {
  const problems: string[] = [];
  const want = exp.exit ?? 0;
  if (exit !== want) problems.push(`exit ${exit} != ${want}`);
  if (want !== 0 || exit !== 0) return problems;
  const out = output as Record<string, unknown> | undefined;
  if (!out || typeof out !== "object") return [...problems, "output is not a JSON object"];
  if (exp.outcome && out.outcome !== exp.outcome) problems.push(`outcome ${out.outcome} != ${exp.outcome}`);
  const pol = (out.policy ?? {}) as { id?: string; version?: string };
  if (exp.policy && pol.id !== exp.policy) problems.push(`policy ${pol.id} != ${exp.policy}`);
  if (exp.version && pol.version !== exp.version) problems.push(`version ${pol.version} != ${exp.version}`);
  for (const key of ["reasons", "needed"] as const) {
    if (exp[key]) {
      const got = sorted(ids(out[key]));
      const w = [...exp[key]!].sort();
      if (JSON.stringify(got) !== JSON.stringify(w))
        problems.push(`${key} ${JSON.stringify(got)} != ${JSON.stringify(w)}`);
    }
  }
  const got = ids(out.reasons);
  if (exp.reasonsAnyOf && !exp.reasonsAnyOf.some((r) => got.has(r)))
    problems.push(`reasons name none of ${exp.reasonsAnyOf}`);
  if (exp.reasonsInclude && !exp.reasonsInclude.every((r) => got.has(r)))
    problems.push(`reasons lack ${exp.reasonsInclude}`);
  if (exp.reasonsWithin && ![...got].every((r) => exp.reasonsWithin!.includes(String(r)))) {
    problems.push(`reasons ${JSON.stringify(sorted(got))} go beyond ${exp.reasonsWithin}`);
  }
  if (exp.lines) {
    const lines = Object.fromEntries(
      ((out.lines as { code: string; outcome: string }[]) ?? []).map((l) => [l.code, l.outcome]),
    );
    if (JSON.stringify(lines) !== JSON.stringify(exp.lines))
      problems.push(`lines ${JSON.stringify(lines)} != ${JSON.stringify(exp.lines)}`);
  }
  return problems;
}
