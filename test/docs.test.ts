/** The derived documentation (case JSON Schema, fact vocabulary) matches the code. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { caseSchemaText, factsMarkdown } from "../scripts/gen-docs.js";
import { ROOT } from "./suite/cases.js";

it("docs/case.schema.json is current (regenerate: node --import tsx scripts/gen-docs.ts)", () => {
  assert.equal(readFileSync(join(ROOT, "docs", "case.schema.json"), "utf8"), caseSchemaText());
});

it("docs/facts.md is current", () => {
  assert.equal(readFileSync(join(ROOT, "docs", "facts.md"), "utf8"), factsMarkdown());
});
