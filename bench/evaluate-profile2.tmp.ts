import { compile, evaluateSection } from "../src/evaluate/index.js";
import { CPMP173_PREDICATES, cpmp173 } from "../src/evaluate/fixtures/cpmp173.js";
import { caseLines } from "./evaluate-cases.js";
import { handI, handII } from "./evaluate-handwritten.js";
const cp = compile(cpmp173(), CPMP173_PREDICATES);
const all = caseLines(1024).map((l) => ({ section: l.section, input: { answers: l.answers, facts: {}, dateOfService: "2026-03-01" } }));
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
function rate(lines: typeof all, mode: object | "hand") {
  let s = 0; const t0 = cpu(); let n = 0;
  while (cpu() - t0 < 150) {
    if (mode === "hand") for (const l of lines) s += (l.section === "I" ? handI(l.input.answers) : handII(l.input.answers)).reasons.length;
    else for (const l of lines) s += evaluateSection(cp, l.section, l.input, mode).reasons.length;
    n += lines.length;
  }
  return Math.round(n / ((cpu() - t0) / 1000));
}
const decided = all.filter((l) => evaluateSection(cp, l.section, l.input).outcome !== "pended");
const pended = all.filter((l) => evaluateSection(cp, l.section, l.input).outcome === "pended");
const modes: [string, typeof all, object | "hand"][] = [
  ["all hand", all, "hand"], ["all plain", all, { needed: false }], ["all full", all, { trace: true }],
  ["decided plain", decided, { needed: false }], ["decided trace", decided, { trace: true }],
  ["pended plain", pended, { needed: false }], ["pended needed", pended, {}], ["pended full", pended, { trace: true }],
];
const best = new Map<string, number>();
for (let r = 0; r < 8; r++) for (const [name, lines, mode] of modes) best.set(name, Math.max(best.get(name) ?? 0, rate(lines, mode)));
for (const [k, v] of best) console.log(k.padEnd(16), v.toLocaleString());
