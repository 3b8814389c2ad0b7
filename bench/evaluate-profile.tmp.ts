import { compile, evaluateSection } from "../src/evaluate/index.js";
import { CPMP173_PREDICATES, cpmp173 } from "../src/evaluate/fixtures/cpmp173.js";
import { caseLines } from "./evaluate-cases.js";
const cp = compile(cpmp173(), CPMP173_PREDICATES);
const lines = caseLines(1024).map((l) => ({ section: l.section, input: { answers: l.answers, facts: {}, dateOfService: "2026-03-01" } }));
const mode = process.argv[2] === "full" ? { trace: true } : { needed: false };
// per-case cost
const costs = lines.map((l) => {
  const t0 = performance.now();
  for (let k = 0; k < 200; k++) evaluateSection(cp, l.section, l.input, mode);
  return [(performance.now() - t0) / 200 * 1000, l] as const;
});
costs.sort((a, b) => b[0] - a[0]);
for (const [us, l] of costs.slice(0, 5)) { const r = evaluateSection(cp, l.section, l.input, mode); console.log(us.toFixed(2), "µs", l.section, r.outcome, r.needed.map(n=>n.criterion).join(","), Object.keys(l.input.answers).length); }
const total = costs.reduce((a, b) => a + b[0], 0);
console.log("mean µs", total / costs.length);
const byOutcome: Record<string, number[]> = {};
for (const [us, l] of costs) { const o = evaluateSection(cp, l.section, l.input, mode).outcome; (byOutcome[o] ??= []).push(us); }
for (const [o, xs] of Object.entries(byOutcome)) console.log(o, xs.length, (xs.reduce((a,b)=>a+b,0)/xs.length).toFixed(2));
