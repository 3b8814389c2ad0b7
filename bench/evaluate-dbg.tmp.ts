import { compile, evaluateSection } from "../src/evaluate/index.js";
import { STATS } from "../src/evaluate/run.js";
import { CPMP173_PREDICATES, cpmp173 } from "../src/evaluate/fixtures/cpmp173.js";
import { caseLines } from "./evaluate-cases.js";
const cp = compile(cpmp173(), CPMP173_PREDICATES);
const lines = caseLines(1024);
for (const l of lines) { STATS.runs = 0; const r = evaluateSection(cp, l.section, { answers: l.answers, facts: {}, dateOfService: "2026-03-01" }); if (STATS.runs > 80) console.log(STATS.runs, l.section, JSON.stringify(l.answers), r.needed.map(n => n.criterion)); }
