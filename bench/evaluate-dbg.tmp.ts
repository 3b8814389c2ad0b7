import { compile, evaluateSection } from "../src/evaluate/index.js";
import { SEARCHES } from "../src/evaluate/needed.js";
import { CPMP173_PREDICATES, cpmp173 } from "../src/evaluate/fixtures/cpmp173.js";
import { caseLines } from "./evaluate-cases.js";
const cp = compile(cpmp173(), CPMP173_PREDICATES);
for (const l of caseLines(1024)) evaluateSection(cp, l.section, { answers: l.answers, facts: {}, dateOfService: "2026-03-01" }, { trace: true });
console.log(SEARCHES.map((x) => x.join("/")).join(" "));
