/**
 * issue 13 ("23% [of decide] to `needed`"): `needed` is remembered per section by the values of the
 * section's questions — exact, since it depends on nothing else — so a state seen before costs a
 * lookup (counted by `evaluationStats`, never timed), and every caller still owns its array.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import fc from "fast-check";
import { CPMP173_PREDICATES, cpmp173, MALIGNANT_TRIAL } from "./fixtures/cpmp173.js";
import { compile, evaluateSection, evaluationStats } from "./index.js";

const input = (answers: Record<string, boolean>) => ({ answers, facts: {}, dateOfService: "2026-03-01" });

it("a state seen before is not computed again, and the caller owns the list it gets", () => {
  const cp = compile(cpmp173(), CPMP173_PREDICATES);
  const answers = { ...MALIGNANT_TRIAL };
  delete (answers as Record<string, boolean>)["I.A.1.b"];
  const first = evaluateSection(cp, "II", input(answers));
  assert.equal(first.outcome, "pended");
  assert.ok(first.needed.length > 0);
  const before = evaluationStats.neededComputed;
  const again = evaluateSection(cp, "II", input({ ...answers }));
  assert.equal(evaluationStats.neededComputed, before);
  assert.deepEqual(again.needed, first.needed);
  assert.notEqual(again.needed, first.needed);
  again.needed.length = 0;
  assert.deepEqual(evaluateSection(cp, "II", input(answers)).needed, first.needed);
});

it("remembered needed equals what a fresh compilation computes, in every state (property)", () => {
  const warm = compile(cpmp173(), CPMP173_PREDICATES);
  const ids = [...warm.answerIndex.keys()].filter((id) => /^I{1,2}\./.test(id)).slice(0, 40);
  const state = fc.dictionary(fc.constantFrom(...ids), fc.boolean(), { maxKeys: 12 });
  fc.assert(
    fc.property(
      fc.array(state, { minLength: 1, maxLength: 6 }),
      fc.constantFrom("I", "II"),
      (states, sec) => {
        for (const s of [...states, ...states]) {
          let answers: Record<string, boolean>;
          try {
            answers = s;
            const got = evaluateSection(warm, sec, input(answers));
            const fresh = evaluateSection(compile(cpmp173(), CPMP173_PREDICATES), sec, input(answers));
            assert.deepEqual(got, fresh);
          } catch (e) {
            // Two ids of one question answered differently: bad input either way.
            assert.match((e as Error).message, /one question/);
          }
        }
      },
    ),
    { numRuns: 150 },
  );
});
