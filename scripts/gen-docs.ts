/**
 * Generates the documentation that is derived from code: the case JSON Schema and the fact vocabulary
 * (SPEC 2.1, 2.3). `npm test` checks the committed files are current (test/docs.test.ts).
 * Run: `node --import tsx scripts/gen-docs.ts`.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { caseJsonSchema, FACTS } from "../src/model/index.js";

const ROOT = join(fileURLToPath(new URL(".", import.meta.url)), "..");

export function caseSchemaText(): string {
  return `${JSON.stringify(caseJsonSchema(), null, 2)}\n`;
}

interface JsonSchema {
  type?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  enum?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
}

/** A short human description of a fact's JSON Schema type. */
function typeOf(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(typeOf).join(", or ");
  if (s.type === "array") return `list of ${s.items ? typeOf(s.items) : "values"}`;
  if (s.enum) return `one of ${s.enum.map((e) => `"${e}"`).join(", ")}`;
  if (s.format === "date") return "date (YYYY-MM-DD)";
  const range =
    s.minimum !== undefined || s.maximum !== undefined ? ` ${s.minimum ?? "…"}–${s.maximum ?? "…"}` : "";
  return `${s.type ?? "value"}${range}`;
}

export function factsMarkdown(): string {
  const rows = Object.entries(FACTS).map(([name, schema]) => {
    return `| \`${name}\` | ${schema.description ?? ""} | ${typeOf((schema as { toJSONSchema(): JsonSchema }).toJSONSchema())} |`;
  });
  return [
    "# Fact vocabulary (SPEC 2.3)",
    "",
    "Typed facts a case may carry in `facts`. Predicates authored beside each policy",
    "(`policies/<id>/bindings.json`, `predicates`) decide criteria from them; an explicit answer always",
    "wins over a fact; a missing fact leaves the criterion unknown. Dates are ISO `YYYY-MM-DD` and are",
    "compared with the date of service by calendar months (six months to the day is within six months).",
    "",
    "| fact | meaning | type |",
    "|---|---|---|",
    ...rows,
    "",
    "The whole case format is in [`case.schema.json`](case.schema.json).",
    "",
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(join(ROOT, "docs", "case.schema.json"), caseSchemaText());
  writeFileSync(join(ROOT, "docs", "facts.md"), factsMarkdown());
  console.log("wrote docs/case.schema.json and docs/facts.md");
}
