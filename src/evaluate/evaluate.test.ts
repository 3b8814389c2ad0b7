import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type CriterionNode,
  type Facts,
  type GroupNode,
  InputError,
  NotFoundError,
  type PolicyVersion,
  type TraceNode,
} from "../model/index.js";
import {
  CPMP173_PREDICATES,
  cpmp173,
  MALIGNANT_TRIAL,
  NO_CONTRAINDICATIONS,
  NONMALIGNANT_TRIAL,
} from "./fixtures/cpmp173.js";
import { criteriaSection, testVersion } from "./fixtures/version.js";
import { answerableIds, compile, evaluateSection, questionOf } from "./index.js";

const cp = compile(cpmp173(), CPMP173_PREDICATES);
const DOS = "2026-03-01";

function evaluate(section: string, answers: Record<string, boolean>, facts: Facts = {}, trace = false) {
  return evaluateSection(cp, section, { answers, facts, dateOfService: DOS }, { trace });
}
const ids = (xs: { criterion: string }[]) => xs.map((x) => x.criterion);

describe("compile", () => {
  test("one question, several places (SPEC 2.2)", () => {
    for (let k = 1; k <= 5; k++) assert.equal(questionOf(cp, `II.B.${k}`)!.id, `I.B.${k}`);
    assert.equal(questionOf(cp, "II.A.1")!.id, "I.A.1");
    assert.deepEqual(questionOf(cp, "I.A.1")!.ids, ["I.A.1", "II.A.1"]);
    assert.notEqual(questionOf(cp, "II.A.2")!.id, "I.A.2");
    assert.equal(questionOf(cp, "II.A.2.e")!.id, "II.A.1.c");
    assert.notEqual(questionOf(cp, "I.A.2.b")!.id, "I.A.1.b");
    assert.deepEqual(cp.issues, []);
  });
  test("answerable ids: leaves, groups with a condition, notes", () => {
    const a = answerableIds(cp);
    for (const id of [
      "I.A.1",
      "I.A.1.a",
      "I.B.4",
      "II.A.1",
      "II.A.2",
      "II.A.2.i",
      "II.A.1.a.note",
      "II.B.5",
    ]) {
      assert.ok(a.has(id), id);
    }
    for (const id of ["I", "I.A", "I.B", "II", "II.A", "II.A.1.ref", "I.Z.9"]) assert.ok(!a.has(id), id);
  });
  test("predicates bind by folded text", () => {
    assert.deepEqual(questionOf(cp, "I.A.1.b")!.facts, ["lifeExpectancyMonths"]);
    assert.deepEqual(questionOf(cp, "I.A.2.b")!.facts, ["lifeExpectancyMonths"]);
    assert.deepEqual(questionOf(cp, "I.A.2.g")!.facts, ["opioidWeanPercent"]);
    assert.deepEqual(questionOf(cp, "II.A.1.a")!.facts, [
      "trialPainReductionPercent",
      "trialMinimalSideEffects",
    ]);
    assert.deepEqual(questionOf(cp, "I.A.2.a")!.facts, []);
  });
});

describe("the shared cases, at section level", () => {
  test("trial-malignant-met → approved", () => {
    const r = evaluate("I", MALIGNANT_TRIAL);
    assert.deepEqual(r, { outcome: "approved", reasons: [], needed: [] });
  });
  test("trial-nonmalignant-not-weaned → denied [I.A.2.g]", () => {
    const r = evaluate("I", { ...NONMALIGNANT_TRIAL, "I.A.2.g": false });
    assert.equal(r.outcome, "denied");
    assert.deepEqual(r.reasons, [
      {
        criterion: "I.A.2.g",
        text: "Prior to the trial, systemic opioids have been weaned by at least 50%;",
        status: "not-met",
      },
    ]);
    assert.deepEqual(r.needed, []);
  });
  test("trial-nonmalignant-open-questions → pended, needed {I.A.2.g, I.A.2.h}", () => {
    const answers: Record<string, boolean> = { ...NONMALIGNANT_TRIAL };
    delete answers["I.A.2.g"];
    delete answers["I.A.2.h"];
    const r = evaluate("I", answers);
    assert.equal(r.outcome, "pended");
    assert.deepEqual(ids(r.needed), ["I.A.2.g", "I.A.2.h"]);
    assert.deepEqual(r.reasons, []);
  });
  test("trial-systemic-infection → denied [I.B.4 present]", () => {
    const r = evaluate("I", { ...MALIGNANT_TRIAL, "I.B.4": true });
    assert.equal(r.outcome, "denied");
    assert.deepEqual(r.reasons, [
      { criterion: "I.B.4", text: "Active systemic infection;", status: "present" },
    ]);
  });
  test("implant-malignant-trial-waiver → review; II.A.1.a would still make it approved", () => {
    const r = evaluate("II", {
      ...MALIGNANT_TRIAL,
      "II.A.1.b": true,
      "II.A.1.c": true,
      "II.A.1.d": true,
      "II.A.2": false,
      "II.A.1.a.note": true,
    });
    assert.equal(r.outcome, "review");
    assert.deepEqual(ids(r.needed), ["II.A.1.a"]);
    assert.deepEqual(r.reasons, []);
  });
  test("implant with every criterion met → approved", () => {
    const r = evaluate("II", {
      ...MALIGNANT_TRIAL,
      "II.A.1.a": true,
      "II.A.1.b": true,
      "II.A.1.c": true,
      "II.A.1.d": true,
      "II.A.2": false,
    });
    assert.equal(r.outcome, "approved");
  });
});

describe("reasons", () => {
  test("a group whose condition is false is reported by its condition; where every branch's is, those", () => {
    const r = evaluate("I", { "I.A.1": false, "I.A.2": false, ...NO_CONTRAINDICATIONS });
    assert.equal(r.outcome, "denied");
    assert.deepEqual(ids(r.reasons), ["I.A.1", "I.A.2"]);
    assert.equal(r.reasons[0]!.text, "Chronic intractable pain of malignant origin");
  });
  test("a failed any: failures of the branches whose condition holds or is unknown", () => {
    const r = evaluate("I", { "I.A.1": false, "I.A.2.c": false, "I.A.2.e": false, ...NO_CONTRAINDICATIONS });
    assert.equal(r.outcome, "denied");
    assert.deepEqual(ids(r.reasons), ["I.A.2.c", "I.A.2.e"]);
  });
  test("a shared question is reported once, at its canonical id", () => {
    const r = evaluate("II", { ...MALIGNANT_TRIAL, "I.B.4": undefined as never, "II.B.4": true });
    assert.equal(r.outcome, "denied");
    assert.deepEqual(r.reasons, [
      { criterion: "I.B.4", text: "Active systemic infection;", status: "present" },
    ]);
  });
  test("a note that holds waives its criterion: not a reason of a denial; listed under review", () => {
    const base = {
      ...MALIGNANT_TRIAL,
      "II.A.2": false,
      "II.A.1.c": true,
      "II.A.1.d": true,
      "II.A.1.a.note": true,
    };
    const denied = evaluate("II", { ...base, "II.A.1.a": false, "II.A.1.b": false });
    assert.equal(denied.outcome, "denied");
    assert.deepEqual(ids(denied.reasons), ["II.A.1.b"]);
    const review = evaluate("II", { ...base, "II.A.1.a": false, "II.A.1.b": true });
    assert.equal(review.outcome, "review");
    assert.deepEqual(ids(review.reasons), ["II.A.1.a"]);
    assert.deepEqual(review.needed, []);
  });
  test("pended: the failures so far", () => {
    const r = evaluate("II", { ...MALIGNANT_TRIAL, "II.A.2": true, "II.A.2.c": false });
    assert.equal(r.outcome, "pended");
    assert.deepEqual(ids(r.reasons), ["II.A.2.c"]);
  });
  test("pended: not the failed branches of an `any` another branch of which is met (only its condition is open)", () => {
    // As NCD 240.4 B.5 reads: "in adults with OSA, either AHI ≥ 15 or AHI 5–14 with symptoms".
    const leaf = (id: string, text: string): CriterionNode => ({
      kind: "leaf",
      id,
      label: id,
      text,
      line: 1,
    });
    const tree: GroupNode = {
      kind: "all",
      id: "S",
      label: "S",
      text: "all of the following",
      line: 1,
      children: [
        {
          kind: "any",
          id: "S.1",
          label: "1",
          text: "Adult patients with OSA, with either of the following:",
          condition: "Adult patients with OSA",
          line: 1,
          children: [leaf("S.1.a", "AHI of 15 or more"), leaf("S.1.b", "AHI of 5 to 14 with symptoms")],
        },
        leaf("S.2", "Education before use"),
      ],
    };
    const small = compile(testVersion([criteriaSection("S", tree)]), []);
    const run = (answers: Record<string, boolean>) =>
      evaluateSection(small, "S", { answers, facts: {}, dateOfService: DOS }, { trace: false });
    const open = run({ "S.1.a": true, "S.1.b": false, "S.2": true });
    assert.equal(open.outcome, "pended");
    assert.deepEqual(ids(open.reasons), []);
    assert.deepEqual(ids(open.needed), ["S.1"]);
    // No branch met: the failures so far are still the reasons.
    const none = run({ "S.1.b": false, "S.2": true });
    assert.equal(none.outcome, "pended");
    assert.deepEqual(ids(none.reasons), ["S.1.b"]);
  });
});

describe("needed", () => {
  test("none under a decided subtree: once I.A.1's condition is false, not I.A.1.a–c", () => {
    const r = evaluate("I", { "I.A.1": false, ...NO_CONTRAINDICATIONS });
    assert.equal(r.outcome, "pended");
    assert.deepEqual(ids(r.needed), [
      "I.A.2",
      "I.A.2.a",
      "I.A.2.b",
      "I.A.2.c",
      "I.A.2.d",
      "I.A.2.e",
      "I.A.2.f",
      "I.A.2.g",
      "I.A.2.h",
    ]);
  });
  test("most decisive first: a single answer that decides the outcome, then document order", () => {
    // I.B.4 unanswered decides on its own (present → denied); I.A.1.b can only decide together with it.
    const answers: Record<string, boolean> = { ...MALIGNANT_TRIAL, "I.A.2": false };
    delete answers["I.A.1.b"];
    delete answers["I.B.4"];
    const r = evaluate("I", answers);
    assert.deepEqual(ids(r.needed), ["I.A.1.b", "I.B.4"]);
    // With I.A.2 open, I.A.1.b no longer decides alone (I.A.2 might still hold); I.B.4 still does.
    const r2 = evaluate("I", { ...answers, "I.A.2": true, "I.A.2.a": true });
    assert.deepEqual(ids(r2.needed).slice(0, 2), ["I.B.4", "I.A.1.b"]);
  });
  test("a note's condition is needed only while its criterion is not met and it could matter", () => {
    const base = {
      ...MALIGNANT_TRIAL,
      "II.A.2": false,
      "II.A.1.b": true,
      "II.A.1.c": true,
      "II.A.1.d": true,
    };
    assert.deepEqual(ids(evaluate("II", { ...base, "II.A.1.a": false }).needed), ["II.A.1.a.note"]);
    assert.equal(evaluate("II", { ...base, "II.A.1.a": true }).outcome, "approved");
    // a still open: answering it can approve; the note can make it review.
    assert.deepEqual(ids(evaluate("II", base).needed), ["II.A.1.a", "II.A.1.a.note"]);
    // b not met: the note cannot matter any more.
    const denied = evaluate("II", { ...base, "II.A.1.b": false });
    assert.equal(denied.outcome, "denied");
    assert.deepEqual(denied.needed, []);
  });
  test("each shared question once, at its first id", () => {
    const r = evaluate("II", {});
    const n = ids(r.needed);
    assert.equal(new Set(n).size, n.length);
    assert.ok(n.includes("I.B.4") && !n.includes("II.B.4"));
    assert.ok(n.includes("I.A.1") && !n.includes("II.A.1"));
    assert.ok(n.includes("II.A.1.c") && !n.includes("II.A.2.e"));
    // The contraindications decide alone, so they come first.
    assert.deepEqual(n.slice(0, 5), ["I.B.1", "I.B.2", "I.B.3", "I.B.4", "I.B.5"]);
  });
  test("can be left out", () => {
    const r = evaluateSection(cp, "I", { answers: {}, facts: {}, dateOfService: DOS }, { needed: false });
    assert.equal(r.outcome, "pended");
    assert.deepEqual(r.needed, []);
  });
});

describe("facts", () => {
  test("a fact decides a criterion; an explicit answer wins", () => {
    const answers: Record<string, boolean> = { ...NONMALIGNANT_TRIAL };
    delete answers["I.A.2.g"];
    assert.equal(evaluate("I", answers, { opioidWeanPercent: 50 }).outcome, "approved");
    const r = evaluate("I", answers, { opioidWeanPercent: 30 });
    assert.equal(r.outcome, "denied");
    assert.deepEqual(ids(r.reasons), ["I.A.2.g"]);
    assert.equal(
      evaluate("I", { ...answers, "I.A.2.g": true }, { opioidWeanPercent: 30 }).outcome,
      "approved",
    );
    assert.equal(evaluate("I", answers, {}).outcome, "pended");
  });
  test("one predicate serves both life-expectancy criteria", () => {
    const answers: Record<string, boolean> = { ...MALIGNANT_TRIAL };
    delete answers["I.A.1.b"];
    assert.equal(evaluate("I", answers, { lifeExpectancyMonths: 3 }).outcome, "denied");
    assert.equal(evaluate("I", answers, { lifeExpectancyMonths: 14 }).outcome, "approved");
  });
  test("refutes: below 50% is not met; at or above stays a question", () => {
    const base = { ...NONMALIGNANT_TRIAL, "II.A.1": false, "II.A.2": true };
    const low = evaluate("II", base, { trialPainReductionPercent: 40 });
    assert.equal(low.outcome, "denied");
    assert.ok(ids(low.reasons).includes("II.A.2.a"));
    const high = evaluate("II", base, { trialPainReductionPercent: 60 });
    assert.equal(high.outcome, "pended");
    assert.ok(ids(high.needed).includes("II.A.2.a"));
  });
  test("an invalid date of service is bad input when predicates compare dates", () => {
    const p = compile(cpmp173(), [
      { match: "Pathology for the pain", when: { fact: "sijImagingDate", withinMonths: 6 }, mode: "decides" },
    ]);
    assert.throws(
      () =>
        evaluateSection(p, "I", {
          answers: {},
          facts: { sijImagingDate: "2025-09-01" },
          dateOfService: "2026-02-30",
        }),
      (e: unknown) => e instanceof InputError && e.where.field === "service.dateOfService",
    );
    const ok = evaluateSection(
      p,
      "I",
      { answers: {}, facts: { sijImagingDate: "2025-09-01" }, dateOfService: DOS },
      { trace: true },
    );
    const a = findTrace(ok.trace!, "I.A.2.a")!;
    assert.equal(a.status, "met");
    assert.deepEqual(a.source, { kind: "fact", facts: ["sijImagingDate"] });
  });
});

describe("input errors", () => {
  test("two ids of one question answered differently", () => {
    assert.throws(
      () => evaluate("II", { "I.B.4": true, "II.B.4": false }),
      (e: unknown) => e instanceof InputError && /I\.B\.4/.test(e.message) && /II\.B\.4/.test(e.message),
    );
    // The same value twice is fine.
    assert.doesNotThrow(() => evaluate("II", { "I.B.4": true, "II.B.4": true }));
  });
  test("unknown ids are the caller's to reject (a case may span policies), or rejected on request", () => {
    assert.doesNotThrow(() => evaluate("I", { "I.Z.9": true }));
    const reject = (answers: Record<string, unknown>) =>
      evaluateSection(
        cp,
        "I",
        { answers: answers as Record<string, boolean>, facts: {}, dateOfService: DOS },
        { unknownIds: "reject" },
      );
    assert.throws(
      () => reject({ "I.Z.9": true }),
      (e: unknown) => e instanceof InputError && e.where.field === "answers.I.Z.9",
    );
    assert.throws(() => reject({ "I.A": true }), /computed/);
    assert.throws(() => reject({ "I.A.1": "yes" }), /true or false/);
  });
  test("a section without criteria", () => {
    assert.throws(() => evaluate("III", {}), NotFoundError);
  });
});

function findTrace(t: TraceNode, id: string, kind?: string): TraceNode | undefined {
  if (t.id === id && (kind === undefined || t.kind === kind)) return t;
  for (const c of t.children ?? []) {
    const f = findTrace(c, id, kind);
    if (f) return f;
  }
  return undefined;
}

describe("trace", () => {
  const r = evaluate(
    "II",
    {
      ...MALIGNANT_TRIAL,
      "I.B.4": undefined as never,
      "II.B.4": false,
      "II.A.1.a.note": true,
      "II.A.2": false,
    },
    { lifeExpectancyMonths: 12 },
    true,
  );
  const t = r.trace!;
  test("every node with status and source", () => {
    const walk = (n: TraceNode): void => {
      assert.ok(["met", "not-met", "unknown"].includes(n.status), n.id);
      assert.ok(n.source, n.id);
      n.children?.forEach(walk);
    };
    walk(t);
    assert.equal(t.id, "II");
    assert.equal(t.source.kind, "computed");
  });
  test("conditions and notes are child nodes; shared questions name their question", () => {
    const cond = findTrace(t, "II.A.1", "condition")!;
    assert.deepEqual(cond, {
      id: "II.A.1",
      kind: "condition",
      text: "Chronic intractable pain of malignant origin",
      status: "met",
      source: { kind: "answer", id: "I.A.1" },
      question: "I.A.1",
    });
    const a = findTrace(t, "II.A.1.a")!;
    assert.equal(a.status, "unknown");
    assert.deepEqual(a.source, { kind: "none" });
    assert.deepEqual(a.children, [
      {
        id: "II.A.1.a.note",
        kind: "note",
        text: "Advanced disease, limited survival time, or high risk for procedures",
        status: "met",
        source: { kind: "answer", id: "II.A.1.a.note" },
      },
    ]);
    const b4 = findTrace(t, "II.B.4")!;
    assert.deepEqual(b4.source, { kind: "answer", id: "II.B.4" });
    assert.equal(b4.question, "I.B.4");
    assert.equal(b4.status, "not-met");
  });
  test("a reference carries the referred section's result", () => {
    const ref = findTrace(t, "II.A.1.ref")!;
    assert.equal(ref.kind, "ref");
    assert.equal(ref.status, "met");
    assert.deepEqual(
      ref.children!.map((c) => c.id),
      ["I.A", "I.B"],
    );
    // the answer at II.B.4 answers I.B.4 inside the reference too
    const i = findTrace(ref, "I.B.4")!;
    assert.deepEqual(i.source, { kind: "answer", id: "II.B.4" });
    assert.equal(i.question, undefined);
  });
  test("fact sources", () => {
    const b = findTrace(t, "I.A.1.b")!;
    assert.deepEqual(b.source, { kind: "answer", id: "I.A.1.b" });
    const b2 = findTrace(t, "I.A.2.b")!;
    assert.equal(b2.status, "met");
    assert.deepEqual(b2.source, { kind: "fact", facts: ["lifeExpectancyMonths"] });
  });
  test("the trace does not change the outcome, reasons or needed", () => {
    const plain = evaluate(
      "II",
      { ...MALIGNANT_TRIAL, "II.A.1.a.note": true, "II.A.2": false },
      { lifeExpectancyMonths: 12 },
    );
    const traced = evaluate(
      "II",
      { ...MALIGNANT_TRIAL, "II.A.1.a.note": true, "II.A.2": false },
      { lifeExpectancyMonths: 12 },
      true,
    );
    const { trace: _t, ...rest } = traced;
    assert.deepEqual(rest, plain);
  });
});

describe("degenerate trees", () => {
  test("a statement that holds vacuously is reported itself", () => {
    const v = cpmp173();
    const b = v.sections[0]!.tree!.children[1]!;
    if (b.kind !== "none") throw new Error("fixture");
    b.children.push({
      kind: "atLeast",
      n: 0,
      id: "I.B.6",
      label: "6",
      text: "At least none of:",
      line: 1,
      children: [{ kind: "leaf", id: "I.B.6.a", label: "a", text: "something", line: 1 }],
    });
    const r = evaluateSection(compile(v, []), "I", {
      answers: MALIGNANT_TRIAL,
      facts: {},
      dateOfService: DOS,
    });
    assert.equal(r.outcome, "denied");
    assert.deepEqual(r.reasons, [{ criterion: "I.B.6", text: "At least none of:", status: "present" }]);
  });
});

describe("references", () => {
  test("a circular reference is reported and unknown, never met", () => {
    const v: PolicyVersion = cpmp173();
    const i = v.sections[0]!.tree!;
    i.children.push({ kind: "ref", id: "I.C", target: "II", text: "the criteria for implantation", line: 1 });
    const p = compile(v, []);
    // I.C closes a cycle with both of II's references to I.
    assert.equal(p.issues.length, 3);
    const r = evaluateSection(p, "I", { answers: MALIGNANT_TRIAL, facts: {}, dateOfService: DOS });
    assert.equal(r.outcome, "pended");
  });
  test("a reference to a section without criteria is reported and unknown", () => {
    const v = cpmp173();
    v.sections[0]!.tree!.children.push({ kind: "ref", id: "I.C", target: "IX", text: "x", line: 1 });
    const p = compile(v, []);
    assert.match(p.issues[0]!, /IX/);
    assert.equal(
      evaluateSection(p, "I", { answers: MALIGNANT_TRIAL, facts: {}, dateOfService: DOS }).outcome,
      "pended",
    );
  });
});

describe("results", () => {
  test("question trace nodes are immutable and shared; a result never changes afterwards", () => {
    const a = { ...MALIGNANT_TRIAL, "I.B.4": true };
    const first = evaluate("I", a, {}, true);
    const copy = JSON.parse(JSON.stringify(first));
    const leaf = findTrace(first.trace!, "I.B.4")!;
    assert.ok(Object.isFrozen(leaf));
    assert.throws(() => {
      (leaf as { status: string }).status = "met";
    }, TypeError);
    // Other evaluations reuse the scratch buffers and the shared nodes: the first result stays as it was.
    evaluate("I", { ...MALIGNANT_TRIAL, "I.B.4": false }, {}, true);
    evaluate("II", {}, { lifeExpectancyMonths: 1 }, true);
    assert.deepEqual(JSON.parse(JSON.stringify(first)), copy);
    assert.equal(findTrace(evaluate("I", a, {}, true).trace!, "I.B.4"), leaf);
  });
  test("answerableIds is built once per compiled policy", () => {
    assert.equal(answerableIds(cp), answerableIds(cp));
  });
  test("a trace's root status is the strict value: met only when approved", () => {
    assert.equal(evaluate("I", MALIGNANT_TRIAL, {}, true).trace!.status, "met");
    const review = evaluate(
      "II",
      {
        ...MALIGNANT_TRIAL,
        "II.A.2": false,
        "II.A.1.a": false,
        "II.A.1.a.note": true,
        "II.A.1.b": true,
        "II.A.1.c": true,
        "II.A.1.d": true,
      },
      {},
      true,
    );
    assert.equal(review.outcome, "review");
    assert.equal(review.trace!.status, "not-met");
  });
});

describe("purity", () => {
  test("evaluations do not leak into one another", () => {
    const a = { ...NONMALIGNANT_TRIAL, "I.A.2.g": false };
    const first = evaluate("I", a, {}, true);
    evaluate("II", { "II.B.4": true, "I.A.1": true }, { lifeExpectancyMonths: 1 }, true);
    assert.throws(() => evaluate("II", { "I.B.4": true, "II.B.4": false }));
    assert.deepEqual(evaluate("I", a, {}, true), first);
    assert.deepEqual(
      evaluateSection(
        compile(cpmp173(), CPMP173_PREDICATES),
        "I",
        { answers: a, facts: {}, dateOfService: DOS },
        { trace: true },
      ),
      first,
    );
  });
});
