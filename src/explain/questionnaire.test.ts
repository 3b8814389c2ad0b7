/**
 * The DTR Questionnaire of a policy section (SPEC 4, issue 5): shape on CP.MP.173 (hand-built model,
 * independent of ingestion), structural validity, shared questions once, `enableWhen` on group
 * conditions, and — by property over random policies — that `enableWhen` never hides a question the
 * engine says it needs.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Questionnaire, QuestionnaireItem } from "@medplum/fhirtypes";
import fc from "fast-check";
import { CPMP173_PREDICATES, cpmp173 } from "../evaluate/fixtures/cpmp173.js";
import { compile, evaluateSection } from "../evaluate/index.js";
import type { CriterionNode, PolicyVersion, Section } from "../model/index.js";
import {
  answersFromResponse,
  parseQuestionnaireRef,
  questionnaireFor,
  questionnaireNarrative,
  questionnaireUrl,
  renderQuestionnaire,
  validateQuestionnaire,
} from "./questionnaire.js";

const policy = cpmp173();
const entry = { policy, evaluated: policy };

function flat(items: QuestionnaireItem[] | undefined, out: QuestionnaireItem[] = []): QuestionnaireItem[] {
  for (const i of items ?? []) {
    out.push(i);
    flat(i.item, out);
  }
  return out;
}

/**
 * R4 enableWhen semantics (`!=` holds when unanswered); an item is shown when it and its ancestors are
 * enabled. `open`: an unanswered `=` condition counts as possibly holding — what the answers given
 * so far could still reveal.
 */
function enabledItems(q: Questionnaire, answers: Record<string, boolean>, open = false): Set<string> {
  const on = new Set<string>();
  const holds = (i: QuestionnaireItem) => {
    const ws = i.enableWhen ?? [];
    if (ws.length === 0) return true;
    const r = ws.map((w) =>
      w.operator === "="
        ? answers[w.question] === w.answerBoolean || (open && answers[w.question] === undefined)
        : answers[w.question] !== w.answerBoolean,
    );
    return i.enableBehavior === "any" ? r.some(Boolean) : r.every(Boolean);
  };
  const walk = (items: QuestionnaireItem[] | undefined) => {
    for (const i of items ?? []) {
      if (!holds(i)) continue;
      on.add(i.linkId);
      walk(i.item);
    }
  };
  walk(q.item);
  return on;
}

describe("questionnaireFor (CP.MP.173 model)", () => {
  test("section II: valid, versioned canonical, section I's questions included once and first", () => {
    const q = questionnaireFor(entry, "II");
    assert.deepEqual(validateQuestionnaire(q), []);
    assert.equal(q.url, "http://localhost/fhir/Questionnaire/CP.MP.173-2025-11-II");
    assert.equal(q.id, "CP.MP.173-2025-11-II");
    assert.equal(q.version, "2025-11");
    assert.equal(q.status, "active");
    assert.deepEqual(
      q.item!.map((i) => i.linkId),
      ["I", "II"],
    );
    const ids = flat(q.item).map((i) => i.linkId);
    assert.equal(new Set(ids).size, ids.length, "linkIds unique");
  });

  test("a shared question appears once, at its first id; every id of it maps there", () => {
    const r = renderQuestionnaire(entry, "II");
    const ids = flat(r.questionnaire.item)
      .filter((i) => i.type === "boolean")
      .map((i) => i.linkId);
    // II.A.1's condition is I.A.1's question; II.B.n are I.B.n; II.A.2.d–f are II.A.1.b–d.
    for (const shared of ["II.A.1", "II.B.1", "II.B.5", "II.A.2.d", "II.A.2.e", "II.A.2.f"]) {
      assert.ok(!ids.includes(shared), `${shared} is not asked again`);
    }
    assert.equal(r.linkIdOf.get("II.A.1"), "I.A.1");
    assert.equal(r.linkIdOf.get("II.B.4"), "I.B.4");
    assert.equal(r.linkIdOf.get("II.A.2.d"), "II.A.1.b");
    // One item per question of the compiled policy (the evaluator's grouping).
    const cp = compile(policy);
    assert.equal(ids.length, cp.questions.length);
    for (const question of cp.questions) {
      assert.equal(
        question.ids.filter((id) => ids.includes(id)).length,
        1,
        `question ${question.id} asked once`,
      );
    }
  });

  test("a group's condition is a question with its criteria nested under it, enabled by it", () => {
    const q = questionnaireFor(entry, "I");
    const a1 = flat(q.item).find((i) => i.linkId === "I.A.1")!;
    assert.equal(a1.type, "boolean");
    assert.equal(a1.text, "Chronic intractable pain of malignant origin");
    assert.deepEqual(
      a1.item!.map((i) => i.linkId),
      ["I.A.1.a", "I.A.1.b", "I.A.1.c"],
    );
    for (const c of a1.item!)
      assert.deepEqual(c.enableWhen, [{ question: "I.A.1", operator: "=", answerBoolean: true }]);
    // Only the criteria of the indication that applies show.
    const shown = enabledItems(q, { "I.A.1": true, "I.A.2": false });
    assert.ok(shown.has("I.A.1.b") && !shown.has("I.A.2.b"));
  });

  test("contraindications ask 'present?'; notes are display items with their .note question", () => {
    const q = questionnaireFor(entry, "II");
    const all = flat(q.item);
    assert.match(
      all.find((i) => i.linkId === "I.B.4")!.text!,
      /contraindication present.*Active systemic infection/,
    );
    const display = all.find((i) => i.linkId === "II.A.1.a.note.text")!;
    assert.equal(display.type, "display");
    assert.match(display.text!, /medical director/);
    const note = all.find((i) => i.linkId === "II.A.1.a.note")!;
    assert.equal(note.type, "boolean");
    assert.deepEqual(note.enableWhen, [{ question: "II.A.1.a", operator: "!=", answerBoolean: true }]);
  });

  test("a shared criterion under two indications shows under either", () => {
    const q = questionnaireFor(entry, "II");
    for (const answers of [{ "I.A.1": true }, { "II.A.2": true }] as Record<string, boolean>[]) {
      assert.ok(enabledItems(q, answers).has("II.A.1.b"), JSON.stringify(answers));
    }
    assert.ok(!enabledItems(q, { "I.A.1": false, "II.A.2": false }).has("II.A.1.b"));
  });

  test("every section at once: one group per section; an unknown section is a NotFoundError naming the known ones", () => {
    const q = questionnaireFor(entry);
    assert.equal(q.url, questionnaireUrl("CP.MP.173", "2025-11"));
    assert.deepEqual(validateQuestionnaire(q), []);
    assert.throws(
      () => questionnaireFor(entry, "IX"),
      /no section IX with criteria \(sections with criteria: I, II\)/,
    );
  });

  test("canonicals parse back", () => {
    assert.deepEqual(
      parseQuestionnaireRef("http://medpolicy.example/Questionnaire/LA.CP.MP.173-2024-02-II|2024-02"),
      {
        policy: "LA.CP.MP.173",
        version: "2024-02",
        section: "II",
      },
    );
    assert.deepEqual(parseQuestionnaireRef("CP.MP.173-2025-11"), { policy: "CP.MP.173", version: "2025-11" });
    assert.equal(parseQuestionnaireRef("http://example.org/Questionnaire/home-o2"), undefined);
  });
});

describe("validateQuestionnaire", () => {
  const base = (item: unknown[]) => ({
    resourceType: "Questionnaire",
    url: "http://x.example/Q/1",
    version: "1",
    status: "active",
    item,
  });
  test("flags duplicate linkIds, empty groups, forward and typeless enableWhen, display children", () => {
    const bad = base([
      { linkId: "a", type: "boolean", enableWhen: [{ question: "b", operator: "=", answerBoolean: true }] },
      { linkId: "b", type: "boolean" },
      { linkId: "b", type: "boolean" },
      { linkId: "g", type: "group" },
      { linkId: "d", type: "display", item: [{ linkId: "d1", type: "boolean" }] },
      { linkId: "e", type: "boolean", enableWhen: [{ question: "d", operator: "=", answerBoolean: true }] },
      { linkId: "f", type: "boolean", enableWhen: [{ question: "a", operator: "=", answerString: "yes" }] },
      {
        linkId: "h",
        type: "boolean",
        enableWhen: [
          { question: "a", operator: "=", answerBoolean: true },
          { question: "b", operator: "=", answerBoolean: true },
        ],
      },
    ]);
    const issues = validateQuestionnaire(bad).join("\n");
    assert.match(issues, /refers to b, which is not an earlier item/);
    assert.match(issues, /que-2: linkId b is not unique/);
    assert.match(issues, /que-1: a group item needs nested items/);
    assert.match(issues, /que-1: a display item cannot have nested items/);
    assert.match(issues, /a display item that has no answer/);
    assert.match(issues, /needs answerBoolean, not answerString/);
    assert.match(issues, /que-12/);
  });
  test("schema errors name the path", () => {
    assert.match(validateQuestionnaire({ resourceType: "Questionnaire" }).join(), /url/);
    assert.match(validateQuestionnaire(base([{ linkId: "", type: "boolean" }])).join(), /item\.0\.linkId/);
  });
});

describe("issue 16: canonicals on the serving host, narrative", () => {
  test("the canonical is <publicBaseUrl>/fhir/Questionnaire/<id>; http://localhost without one", () => {
    assert.equal(
      questionnaireUrl("CP.MP.173", "2025-11", "II"),
      "http://localhost/fhir/Questionnaire/CP.MP.173-2025-11-II",
    );
    assert.equal(
      questionnaireUrl("CP.MP.173", "2025-11", "II", "https://payer.example/"),
      "https://payer.example/fhir/Questionnaire/CP.MP.173-2025-11-II",
    );
    const r = renderQuestionnaire(entry, "II", { baseUrl: "https://payer.example" });
    assert.equal(r.questionnaire.url, "https://payer.example/fhir/Questionnaire/CP.MP.173-2025-11-II");
    assert.deepEqual(parseQuestionnaireRef(r.questionnaire.url!), {
      policy: "CP.MP.173",
      version: "2025-11",
      section: "II",
    });
  });

  test("Questionnaire.text: generated XHTML listing every item, text escaped", () => {
    const q = questionnaireFor(entry, "II");
    assert.equal(q.text?.status, "generated");
    assert.ok(q.text!.div.startsWith('<div xmlns="http://www.w3.org/1999/xhtml"><p><b>'));
    for (const it of flat(q.item)) {
      const t = (it.text ?? it.linkId)
        .replaceAll("&", "&amp;")
        .replaceAll("<", "&lt;")
        .replaceAll(">", "&gt;");
      assert.ok(q.text!.div.includes(t.replaceAll('"', "&quot;").replaceAll("'", "&#39;")), it.linkId);
    }
    const evil = questionnaireNarrative({
      resourceType: "Questionnaire",
      status: "active",
      title: "<script>alert(1)</script>",
      item: [{ linkId: "a", type: "boolean", text: "x < 3 & y > 2" }],
    });
    assert.equal(
      evil.div,
      '<div xmlns="http://www.w3.org/1999/xhtml"><p><b>&lt;script&gt;alert(1)&lt;/script&gt;</b></p><ul><li>x &lt; 3 &amp; y &gt; 2 (boolean)</li></ul></div>',
    );
  });
});

describe("answersFromResponse", () => {
  test("issue 16: items asking for facts (fact:…) are not criterion answers", () => {
    const qr = {
      item: [
        { linkId: "I.A.1", answer: [{ valueBoolean: true }] },
        { linkId: "facts", item: [{ linkId: "fact:lifeExpectancyMonths", answer: [{ valueDecimal: 14 }] }] },
      ],
    };
    assert.deepEqual(answersFromResponse(qr, new Set(["I.A.1"])), { "I.A.1": true });
  });

  test("nested items and answers; booleans only; known linkIds only", () => {
    const qr = {
      item: [
        {
          linkId: "I",
          item: [
            {
              linkId: "I.A.1",
              answer: [
                { valueBoolean: true, item: [{ linkId: "I.A.1.a", answer: [{ valueBoolean: false }] }] },
              ],
            },
          ],
        },
        { linkId: "outcome" },
      ],
    };
    assert.deepEqual(answersFromResponse(qr), { "I.A.1": true, "I.A.1.a": false });
    assert.throws(
      () => answersFromResponse({ item: [{ linkId: "x", answer: [{ valueString: "yes" }] }] }),
      /x must be valueBoolean/,
    );
    assert.throws(
      () => answersFromResponse(qr, new Set(["I.A.1"])),
      /I\.A\.1\.a is not a question of this questionnaire/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Property: over random policies, the form is valid, asks each question once, and no question the
// engine needs is hidden by the answers given: it is shown, or shown once an open condition above it
// is answered (a group's criteria wait for its condition, by design).
// ---------------------------------------------------------------------------------------------

const TEXTS = [
  "Alpha holds",
  "Beta holds",
  "Gamma holds",
  "Delta holds",
  "Epsilon holds",
  "the Alpha holds.",
];
const CONDITIONS = ["Condition one", "Condition two", "Alpha holds"];
type Shape =
  | { leaf: string; note?: string }
  | { group: "all" | "any" | "none" | "atLeast"; condition?: string; n: number; children: Shape[] }
  | { ref: true };

const shapeArb: fc.Arbitrary<Shape> = fc.letrec<{ node: Shape }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({
      leaf: fc.constantFrom(...TEXTS),
      note: fc.option(fc.constantFrom(...CONDITIONS), { nil: undefined }),
    }),
    fc.record({
      group: fc.constantFrom("all", "any", "none", "atLeast"),
      condition: fc.option(fc.constantFrom(...CONDITIONS), { nil: undefined }),
      n: fc.integer({ min: 1, max: 3 }),
      children: fc.array(tie("node"), { minLength: 1, maxLength: 3 }),
    }),
  ),
})).node as fc.Arbitrary<Shape>;

const LABELS = [
  (i: number) => ["I", "II", "III"][i]!,
  (i: number) => String.fromCharCode(65 + i),
  (i: number) => String(i + 1),
  (i: number) => String.fromCharCode(97 + i),
  (i: number) => `r${i + 1}`,
  (i: number) => `s${i + 1}`,
];

function build(shape: Shape, id: string, depth: number, refTarget: string | undefined): CriterionNode {
  if ("ref" in shape) {
    return refTarget
      ? { kind: "ref", id, target: refTarget, text: "the above criteria are met", line: 1 }
      : { kind: "leaf", id, label: "x", text: "Omega holds", line: 1 };
  }
  if ("leaf" in shape) {
    return {
      kind: "leaf",
      id,
      label: "x",
      text: shape.leaf,
      line: 1,
      ...(shape.note && {
        note: {
          id: `${id}.note`,
          marker: "*",
          text: "May be reviewed.",
          condition: shape.note,
          effect: "review" as const,
          line: 1,
        },
      }),
    };
  }
  const label = LABELS[depth + 1] ?? ((i: number) => `l${depth + 1}x${i + 1}`);
  const children = shape.children.map((c, i) => build(c, `${id}.${label(i)}`, depth + 1, refTarget));
  const base = {
    id,
    label: "x",
    text: "when the following are met:",
    line: 1,
    children,
    ...(shape.condition && { condition: shape.condition }),
  };
  return shape.group === "atLeast"
    ? { ...base, kind: "atLeast", n: Math.min(shape.n, children.length) }
    : { ...base, kind: shape.group };
}

function policyOf(s1: Shape, s2: Shape, withRef: boolean): PolicyVersion {
  const asGroup = (s: Shape): Shape => ("group" in s ? s : { group: "all", n: 1, children: [s] });
  const sections: Section[] = [asGroup(s1), asGroup(s2)].map((s, i) => {
    const id = LABELS[0]!(i);
    let tree = build(s, id, 0, i === 1 && withRef ? "I" : undefined);
    if (i === 1 && withRef && tree.kind !== "leaf" && tree.kind !== "ref") {
      tree = {
        ...tree,
        children: [
          { kind: "ref", id: `${id}.ref`, target: "I", text: "the above criteria are met", line: 1 },
          ...tree.children,
        ],
      };
    }
    return {
      id,
      label: id,
      kind: "medically-necessary",
      text: `Section ${id}`,
      line: 1,
      tree: tree as Section["tree"],
    };
  });
  return {
    ...policy,
    identity: { ...policy.identity, id: "TEST.1", baseId: "TEST.1" },
    sections,
  };
}

describe("property: the answers given never hide a needed question", () => {
  test("random policies and answers", () => {
    fc.assert(
      fc.property(
        shapeArb,
        shapeArb,
        fc.boolean(),
        fc.constantFrom("I", "II"),
        fc.array(fc.tuple(fc.nat(40), fc.boolean()), { maxLength: 12 }),
        (s1, s2, withRef, section, picks) => {
          const p = policyOf(s1, s2, withRef);
          const r = renderQuestionnaire({ policy: p, evaluated: p }, section);
          assert.deepEqual(validateQuestionnaire(r.questionnaire), []);
          const linkIds = [...r.questions.keys()];
          const asked = flat(r.questionnaire.item)
            .filter((i) => i.type === "boolean")
            .map((i) => i.linkId);
          assert.deepEqual([...asked].sort(), [...linkIds].sort(), "each question asked exactly once");
          const answers: Record<string, boolean> = {};
          for (const [k, v] of picks) if (linkIds.length > 0) answers[linkIds[k % linkIds.length]!] = v;
          const result = evaluateSection(compile(p), section, {
            answers,
            facts: {},
            dateOfService: "2026-01-01",
          });
          const shown = enabledItems(r.questionnaire, answers, true);
          for (const n of result.needed) {
            const linkId = r.linkIdOf.get(n.criterion);
            assert.ok(linkId, `needed ${n.criterion} has an item`);
            assert.ok(
              shown.has(linkId),
              `needed ${n.criterion} (item ${linkId}) is hidden by ${JSON.stringify(answers)}`,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test("CP.MP.173 with its predicates: needed questions are shown for random answers", () => {
    const cp = compile(policy, CPMP173_PREDICATES);
    const r = renderQuestionnaire(entry, "II");
    const linkIds = [...r.questions.keys()];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(60), fc.boolean()), { maxLength: 20 }), (picks) => {
        const answers: Record<string, boolean> = {};
        for (const [k, v] of picks) answers[linkIds[k % linkIds.length]!] = v;
        const result = evaluateSection(cp, "II", { answers, facts: {}, dateOfService: "2026-01-01" });
        const shown = enabledItems(r.questionnaire, answers, true);
        for (const n of result.needed) assert.ok(shown.has(r.linkIdOf.get(n.criterion)!), n.criterion);
      }),
      { numRuns: 300 },
    );
  });
});
