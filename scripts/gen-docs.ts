/**
 * Generates the documentation that is derived from code: the case JSON Schema and the fact vocabulary
 * (SPEC 2.1, 2.3). `npm test` checks the committed files are current (test/docs.test.ts).
 * Run: `node --import tsx scripts/gen-docs.ts`.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadLibrary } from "../src/library/index.js";
import { caseJsonSchema, describeType } from "../src/model/index.js";

const ROOT = join(fileURLToPath(new URL(".", import.meta.url)), "..");

export function caseSchemaText(): string {
  return `${JSON.stringify(caseJsonSchema(), null, 2)}\n`;
}

/** `|` and line breaks would break a Markdown table cell. */
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s+/g, " ");

/**
 * The fact vocabulary of the seed library (issue 15: facts are data, declared in each policy's
 * `bindings.json`; this page is generated from them, never written by hand).
 */
export function factsMarkdown(dir?: string): string {
  const lib = loadLibrary(dir);
  const byPolicy = new Map<string, typeof lib.entries>();
  for (const e of lib.entries)
    byPolicy.set(e.policy.identity.id, [...(byPolicy.get(e.policy.identity.id) ?? []), e]);
  const sections: string[] = [];
  for (const [id, entries] of [...byPolicy].sort(([a], [b]) => a.localeCompare(b))) {
    const decls = [...entries[0]!.vocabulary.values()];
    const own = new Set(entries[0]!.bindings.facts.map((d) => d.name));
    sections.push(`## ${id}`, "");
    if (decls.length === 0) {
      sections.push("Declares no facts: its criteria are decided by answers only.", "");
      continue;
    }
    if (entries[0]!.bindings.inherits)
      sections.push(`Inherits the facts of ${entries[0]!.bindings.inherits}.`, "");
    sections.push("| fact | meaning | type | from the FHIR record |", "|---|---|---|---|");
    for (const d of decls) {
      const where = d.fhirPath ? `\`${cell(d.fhirPath)}\`` : "—";
      const mark = own.has(d.name) ? "" : " (inherited)";
      sections.push(
        `| \`${d.name}\`${mark} | ${cell(d.description)} | ${cell(describeType(d))} | ${where} |`,
      );
    }
    sections.push("");
  }
  return [
    "# Fact vocabulary (SPEC 2.3, issue 15)",
    "",
    "Generated from the seed library (`node --import tsx scripts/gen-docs.ts`); `npm test` checks it is",
    "current. Facts are data: each policy declares the facts its predicates read in",
    "`policies/<id>/bindings.json` (`facts`), and a case's `facts` are checked against the vocabulary",
    "of the policy version that decides it — an undeclared fact or a value of the wrong type is bad",
    "input (exit 2 / HTTP 400) naming the fact, the policy and the expected type. An explicit answer",
    "always wins over a fact; a missing fact leaves its criteria unknown. Dates are `YYYY-MM-DD` and are",
    "compared with the date of service by calendar (six months to the day is within six months).",
    "`medpolicy schema POLICY` prints the JSON Schema of a case for one policy.",
    "",
    ...sections,
    "The whole case format is in [`case.schema.json`](case.schema.json).",
    "",
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(join(ROOT, "docs", "case.schema.json"), caseSchemaText());
  writeFileSync(join(ROOT, "docs", "facts.md"), factsMarkdown());
  console.log("wrote docs/case.schema.json and docs/facts.md");
}
