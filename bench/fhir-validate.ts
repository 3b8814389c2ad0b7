/**
 * How long FHIR input validation takes (issue 13: "a 50-entry PAS bundle validated in a few ms"),
 * and that reference resolution stays linear: `node --import tsx bench/fhir-validate.ts`. Prints
 * the median of several rounds per case; timing lives here, never in tests.
 */
import { performance } from "node:perf_hooks";
import { ResourceIndex } from "../src/server/fhir/common.js";
import { validateResource } from "../src/server/fhir/validate.js";
import { pasBundle } from "../test/fhir/fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: bench bodies are built structurally
type J = any;

function median(f: () => void, rounds = 41, inner = 20): number {
  const t: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const s = performance.now();
    for (let i = 0; i < inner; i++) f();
    t.push((performance.now() - s) / inner);
  }
  return t.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
}

const b50 = pasBundle("B50", ["62362", "99213"]) as J;
for (let i = 0; b50.entry.length < 50; i++) {
  b50.entry.push({
    fullUrl: `http://ehr.example/fhir/Observation/o${i}`,
    resource: {
      resourceType: "Observation",
      id: `o${i}`,
      status: "final",
      code: {
        coding: [{ system: "http://loinc.org", code: "1234-5", display: "x" }],
        text: "life expectancy",
      },
      subject: { reference: "Patient/pat1" },
      effectiveDateTime: "2026-10-01T10:00:00Z",
      valueQuantity: { value: 14, unit: "months", system: "http://unitsofmeasure.org", code: "mo" },
    },
  });
}
const text = JSON.stringify(b50);
console.log(`50-entry PAS bundle (${(text.length / 1024).toFixed(1)} KB):`);
console.log(`  validateResource          ${median(() => validateResource(b50)).toFixed(3)} ms`);
console.log(`  JSON.parse (for scale)    ${median(() => JSON.parse(text)).toFixed(3)} ms`);

console.log("ResourceIndex.resolve of an unresolvable reference (linear: time ∝ length):");
const index = new ResourceIndex();
index.add({ resourceType: "Patient", id: "p1" });
for (const n of [1024, 16 * 1024, 256 * 1024]) {
  const s = "a".repeat(n);
  console.log(`  ${String(n / 1024).padStart(4)} KB  ${median(() => index.resolve(s), 21, 5).toFixed(4)} ms`);
}
