/**
 * Case lines for the evaluator benchmark (SPEC 5): CP.MP.173 section I and II requests shaped like the
 * shared cases (approved, denied, pended, review), varied by a seeded generator so that every engine
 * sees the same realistic mix. Answers go through JSON, as they arrive from a request.
 */
import { MALIGNANT_TRIAL, NONMALIGNANT_TRIAL } from "../src/evaluate/fixtures/cpmp173.js";

export interface CaseLine {
  section: "I" | "II";
  answers: Record<string, boolean>;
}

const MALIGNANT = MALIGNANT_TRIAL;
const NONMALIGNANT = NONMALIGNANT_TRIAL;
const IMPLANT_MALIGNANT = {
  "II.A.1.a": true,
  "II.A.1.b": true,
  "II.A.1.c": true,
  "II.A.1.d": true,
  "II.A.2": false,
};
const IMPLANT_NONMALIGNANT = {
  "II.A.2": true,
  "II.A.2.a": true,
  "II.A.2.b": true,
  "II.A.2.c": true,
  "II.A.1.b": true,
  "II.A.1.c": true,
  "II.A.1.d": true,
  "II.A.2.g": true,
  "II.A.2.h": true,
  "II.A.2.i": true,
};

const TEMPLATES: CaseLine[] = [
  { section: "I", answers: MALIGNANT },
  { section: "I", answers: NONMALIGNANT },
  { section: "I", answers: { ...NONMALIGNANT, "I.A.2.g": false } },
  { section: "I", answers: { ...MALIGNANT, "I.B.4": true } },
  { section: "II", answers: { ...MALIGNANT, ...IMPLANT_MALIGNANT } },
  {
    section: "II",
    answers: { ...MALIGNANT, ...IMPLANT_MALIGNANT, "II.A.1.a": false, "II.A.1.a.note": true },
  },
  { section: "II", answers: { ...NONMALIGNANT, ...IMPLANT_NONMALIGNANT } },
  { section: "II", answers: { ...NONMALIGNANT, ...IMPLANT_NONMALIGNANT, "II.A.2.c": false } },
];

/** mulberry32: a small seeded PRNG, so every run and every engine gets the same cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` case lines: each a template with up to two answers dropped (pended) or one flipped. */
export function caseLines(n = 1024, seed = 173): CaseLine[] {
  const rnd = prng(seed);
  const out: CaseLine[] = [];
  for (let k = 0; k < n; k++) {
    const t = TEMPLATES[k % TEMPLATES.length]!;
    const answers: Record<string, boolean> = { ...t.answers };
    const keys = Object.keys(answers);
    const r = rnd();
    if (r < 0.25) {
      delete answers[keys[Math.floor(rnd() * keys.length)]!];
      if (rnd() < 0.5) delete answers[keys[Math.floor(rnd() * keys.length)]!];
    } else if (r < 0.4) {
      const key = keys[Math.floor(rnd() * keys.length)]!;
      answers[key] = !answers[key];
    }
    out.push({ section: t.section, answers: JSON.parse(JSON.stringify(answers)) });
  }
  return out;
}
