import { compile, evaluateSection } from "../src/evaluate/index.js";
import { run } from "../src/evaluate/run.js";
import { CPMP173_PREDICATES, cpmp173 } from "../src/evaluate/fixtures/cpmp173.js";
const cp = compile(cpmp173(), CPMP173_PREDICATES);
const sec = cp.sections.get("II")!;
evaluateSection(cp, "II", { answers: { "I.A.1": true }, facts: {}, dateOfService: "2026-03-01" });
const deps = sec.deps[cp.answerIndex.get("I.A.2.c")!]!;
console.log("program", sec.program.length, "deps", deps.length);
for (let r = 0; r < 3; r++) {
  let t0 = performance.now();
  for (let k = 0; k < 1e6; k++) run(cp, sec.program, true);
  const full = (performance.now() - t0) * 1e6 / 1e6;
  t0 = performance.now();
  for (let k = 0; k < 1e6; k++) run(cp, deps, true);
  const dep = (performance.now() - t0) * 1e6 / 1e6;
  t0 = performance.now();
  for (let k = 0; k < 1e6; k++) evaluateSection(cp, "II", { answers: { "I.A.1": true }, facts: {}, dateOfService: "2026-03-01" }, { needed: false });
  const ev = (performance.now() - t0);
  console.log("full run ns", full.toFixed(0), "dep run ns", dep.toFixed(0), "evaluateSection ns", ev.toFixed(0));
}
