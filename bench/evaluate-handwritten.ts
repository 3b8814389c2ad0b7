/**
 * CP.MP.173 sections I and II written by hand in TypeScript (SPEC 5: "the limit"): the same
 * three-valued semantics, shared questions, the II.A.1.a note and denial reasons as the compiled
 * evaluator, with nothing generic — every criterion is a variable.
 */
import type { Reason } from "../src/model/index.js";

type V = 0 | 1 | 2; // not met, unknown, met
type Answers = Record<string, boolean>;

const v = (x: boolean | undefined): V => (x === undefined ? 1 : x ? 2 : 0);
const q = (a: Answers, id: string): V => v(a[id]);
const q2 = (a: Answers, id: string, alt: string): V => {
  const x = a[id];
  return v(x === undefined ? a[alt] : x);
};
const min = (x: V, y: V): V => (x < y ? x : y);
const max = (x: V, y: V): V => (x > y ? x : y);

const TEXT: Record<string, string> = {
  "I.A.1": "Chronic intractable pain of malignant origin",
  "I.A.2":
    "Chronic intractable pain of nonmalignant origin (e.g. failed back surgery syndrome, complex regional pain syndrome)",
  "II.A.2": "Severe chronic pain of non-malignant origin",
};

function push(out: Reason[], id: string, status: Reason["status"]): void {
  for (const r of out) if (r.criterion === id) return;
  out.push({ criterion: id, text: TEXT[id] ?? id, status });
}

const I_A1 = ["I.A.1.a", "I.A.1.b", "I.A.1.c"];
const I_A2 = ["I.A.2.a", "I.A.2.b", "I.A.2.c", "I.A.2.d", "I.A.2.e", "I.A.2.f", "I.A.2.g", "I.A.2.h"];
const B = ["I.B.1", "I.B.2", "I.B.3", "I.B.4", "I.B.5"];
const II_B = ["II.B.1", "II.B.2", "II.B.3", "II.B.4", "II.B.5"];

/** Section I's values, read from the answers once; shared by {@link handI} and {@link handII}. */
export interface SectionI {
  value: V;
  c1: V;
  c2: V;
  a1: V[];
  a2: V[];
  b: V[];
  bNone: V;
}

export function sectionI(a: Answers): SectionI {
  const c1 = q2(a, "I.A.1", "II.A.1");
  const a1 = [q(a, "I.A.1.a"), q(a, "I.A.1.b"), q(a, "I.A.1.c")];
  const c2 = q(a, "I.A.2");
  const a2: V[] = [];
  for (const id of I_A2) a2.push(q(a, id));
  const b: V[] = [];
  for (let k = 0; k < 5; k++) b.push(q2(a, B[k]!, II_B[k]!));
  const A1 = min(c1, min(a1[0]!, min(a1[1]!, a1[2]!)));
  let A2 = c2;
  for (const x of a2) A2 = min(A2, x);
  let present: V = 0;
  for (const x of b) present = max(present, x);
  const bNone = (2 - present) as V;
  return { value: min(max(A1, A2), bNone), c1, c2, a1, a2, b, bNone };
}

function reasonsI(s: SectionI, out: Reason[]): void {
  if (s.bNone === 0) for (let k = 0; k < 5; k++) if (s.b[k] === 2) push(out, B[k]!, "present");
  const A1 = min(s.c1, min(s.a1[0]!, min(s.a1[1]!, s.a1[2]!)));
  let A2 = s.c2;
  for (const x of s.a2) A2 = min(A2, x);
  if (max(A1, A2) !== 0) return;
  if (s.c1 === 0 && s.c2 === 0) {
    push(out, "I.A.1", "not-met");
    push(out, "I.A.2", "not-met");
    return;
  }
  if (s.c1 !== 0) for (let k = 0; k < 3; k++) if (s.a1[k] === 0) push(out, I_A1[k]!, "not-met");
  if (s.c2 !== 0) for (let k = 0; k < 8; k++) if (s.a2[k] === 0) push(out, I_A2[k]!, "not-met");
}

export interface HandResult {
  outcome: "approved" | "review" | "denied" | "pended";
  reasons: Reason[];
}

/** Section I: the preliminary trial (`s`: section I's values when already read). */
export function handI(a: Answers, s: SectionI = sectionI(a)): HandResult {
  if (s.value === 2) return { outcome: "approved", reasons: [] };
  if (s.value === 1) return { outcome: "pended", reasons: [] };
  const reasons: Reason[] = [];
  reasonsI(s, reasons);
  return { outcome: "denied", reasons };
}

/** Section II.A.2's criteria as the baselines read them (shared with the json-rules-engine baseline). */
export const II_A2 = [
  "II.A.2.a",
  "II.A.2.b",
  "II.A.2.c",
  "II.A.1.b",
  "II.A.1.c",
  "II.A.1.d",
  "II.A.2.g",
  "II.A.2.h",
  "II.A.2.i",
];
const II_A2_ALT = ["", "", "", "II.A.2.d", "II.A.2.e", "II.A.2.f", "", "", ""];

/**
 * Section II: permanent implantation; includes section I and the II.A.1.a note (`i`: section I's
 * values when already read).
 */
export function handII(a: Answers, i: SectionI = sectionI(a)): HandResult {
  const c1 = i.c1;
  const note = q(a, "II.A.1.a.note");
  const m = [
    q(a, "II.A.1.a"),
    q2(a, "II.A.1.b", "II.A.2.d"),
    q2(a, "II.A.1.c", "II.A.2.e"),
    q2(a, "II.A.1.d", "II.A.2.f"),
  ];
  const rest = min(m[1]!, min(m[2]!, m[3]!));
  const sA1 = min(c1, min(i.value, min(m[0]!, rest)));
  const rA1 = min(c1, min(i.value, min(max(m[0]!, note), rest)));
  const c2 = q(a, "II.A.2");
  const n: V[] = [];
  let A2 = min(c2, i.value);
  for (let k = 0; k < 9; k++) {
    const alt = II_A2_ALT[k]!;
    const x = alt === "" ? q(a, II_A2[k]!) : q2(a, II_A2[k]!, alt);
    n.push(x);
    A2 = min(A2, x);
  }
  const strict = min(max(sA1, A2), i.bNone);
  const relaxed = min(max(rA1, A2), i.bNone);
  if (strict === 2) return { outcome: "approved", reasons: [] };
  if (relaxed === 2) return { outcome: "review", reasons: [] };
  if (relaxed === 1) return { outcome: "pended", reasons: [] };
  const reasons: Reason[] = [];
  if (i.bNone === 0) for (let k = 0; k < 5; k++) if (i.b[k] === 2) push(reasons, B[k]!, "present");
  if (max(rA1, A2) === 0) {
    if (c1 === 0 && c2 === 0) {
      push(reasons, "I.A.1", "not-met");
      push(reasons, "II.A.2", "not-met");
    } else {
      if (c1 !== 0) {
        if (i.value === 0) reasonsI(i, reasons);
        if (max(m[0]!, note) === 0) push(reasons, "II.A.1.a", "not-met");
        if (m[1] === 0) push(reasons, "II.A.1.b", "not-met");
        if (m[2] === 0) push(reasons, "II.A.1.c", "not-met");
        if (m[3] === 0) push(reasons, "II.A.1.d", "not-met");
      }
      if (c2 !== 0) {
        if (i.value === 0) reasonsI(i, reasons);
        for (let k = 0; k < 9; k++) if (n[k] === 0) push(reasons, II_A2[k]!, "not-met");
      }
    }
  }
  return { outcome: "denied", reasons };
}
