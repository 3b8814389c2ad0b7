/**
 * CP.MP.173 sections I and II as json-rules-engine rules (SPEC 5: "what a team would otherwise pick"):
 * one rule per outcome, three-valued by testing `== true` and `== false` separately (an unanswered
 * criterion satisfies neither). It decides the outcome only — no reasons — and reads answers at
 * canonical ids, normalised before timing: both in its favour.
 */
import { Engine, type NestedCondition, type TopLevelCondition } from "json-rules-engine";
import { II_A2 } from "./evaluate-handwritten.js";

const met = (fact: string): NestedCondition => ({ fact, operator: "equal", value: true });
const notMet = (fact: string): NestedCondition => ({ fact, operator: "equal", value: false });

const I_A1 = ["I.A.1.a", "I.A.1.b", "I.A.1.c"];
const I_A2 = ["I.A.2.a", "I.A.2.b", "I.A.2.c", "I.A.2.d", "I.A.2.e", "I.A.2.f", "I.A.2.g", "I.A.2.h"];
const B = ["I.B.1", "I.B.2", "I.B.3", "I.B.4", "I.B.5"];
const II_A1 = ["II.A.1.b", "II.A.1.c", "II.A.1.d"];

const noneMet = (ids: string[]): NestedCondition => ({ all: ids.map(notMet) });
const anyPresent = (ids: string[]): NestedCondition => ({ any: ids.map(met) });

const iMet: NestedCondition = {
  all: [
    {
      any: [{ all: [met("I.A.1"), ...I_A1.map(met)] }, { all: [met("I.A.2"), ...I_A2.map(met)] }],
    },
    noneMet(B),
  ],
};
const iNotMet: NestedCondition = {
  any: [
    anyPresent(B),
    {
      all: [{ any: [notMet("I.A.1"), ...I_A1.map(notMet)] }, { any: [notMet("I.A.2"), ...I_A2.map(notMet)] }],
    },
  ],
};

function iiMet(relaxed: boolean): TopLevelCondition {
  const a = relaxed ? { any: [met("II.A.1.a"), met("II.A.1.a.note")] } : met("II.A.1.a");
  return {
    all: [
      iMet,
      {
        any: [{ all: [met("I.A.1"), a, ...II_A1.map(met)] }, { all: [met("II.A.2"), ...II_A2.map(met)] }],
      },
      noneMet(B),
    ],
  };
}

const iiNotMet: TopLevelCondition = {
  any: [
    anyPresent(B),
    iNotMet,
    {
      all: [
        {
          any: [
            notMet("I.A.1"),
            { all: [notMet("II.A.1.a"), notMet("II.A.1.a.note")] },
            ...II_A1.map(notMet),
          ],
        },
        { any: [notMet("II.A.2"), ...II_A2.map(notMet)] },
      ],
    },
  ],
};

export interface JreEngines {
  I: Engine;
  II: Engine;
}

export function jreEngines(): JreEngines {
  const opts = { allowUndefinedFacts: true };
  const I = new Engine([], opts);
  I.addRule({ name: "approved", priority: 3, conditions: { all: [iMet] }, event: { type: "approved" } });
  I.addRule({ name: "denied", priority: 2, conditions: { all: [iNotMet] }, event: { type: "denied" } });
  const II = new Engine([], opts);
  II.addRule({ name: "approved", priority: 3, conditions: iiMet(false), event: { type: "approved" } });
  II.addRule({ name: "review", priority: 2, conditions: iiMet(true), event: { type: "review" } });
  II.addRule({ name: "denied", priority: 1, conditions: iiNotMet, event: { type: "denied" } });
  return { I, II };
}

const RANK: Record<string, number> = { approved: 3, review: 2, denied: 1 };

/** The outcome json-rules-engine decides for one case line (answers at canonical ids). */
export async function jreOutcome(engines: JreEngines, section: "I" | "II", answers: Record<string, boolean>) {
  const { events } = await engines[section].run(answers);
  let best = "pended";
  for (const e of events) if ((RANK[e.type] ?? 0) > (RANK[best] ?? 0)) best = e.type;
  return best;
}
