/**
 * Issue 14: the rules of who may decide what, and what a decision may cite. The property holds the
 * citations to the trace on random answers over the seed library: a denial's citations all failed
 * (a `none` item: present), an approval's all held, and no unknown criterion is ever citable.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { decide, loadLibrary } from "../library/index.js";
import { type Determination, InputError, type TraceNode } from "../model/index.js";
import { ConfigError } from "./auth.js";
import { authorityFromEnv, authorityOf, citable, DEFAULT_AUTHORITY, signingRefusal } from "./authority.js";

const lib = loadLibrary();

/** Every node of every trace of `d`, with whether it is read under an odd number of `none` groups. */
function nodes(d: Determination): Map<string, { n: TraceNode; negated: boolean }> {
  const out = new Map<string, { n: TraceNode; negated: boolean }>();
  const walk = (n: TraceNode, negated: boolean) => {
    if (!out.has(n.id)) out.set(n.id, { n, negated });
    for (const c of n.children ?? []) walk(c, negated !== (n.kind === "none"));
  };
  for (const t of [d.trace, ...d.lines.map((l) => l.trace)]) if (t) walk(t, false);
  return out;
}

const BASES = [
  { codes: ["62326"], state: "TX" },
  { codes: ["62362"], state: "NC" },
  { codes: ["27279"], state: "TX" },
  { codes: ["62326", "62362"], state: "TX" },
];

/** The criterion ids a case of `base` can answer (from the trace of an unanswered case). */
function idsOf(base: (typeof BASES)[number]): string[] {
  const d = decide(
    lib,
    {
      member: { state: base.state, birthDate: "1960-05-01", lineOfBusiness: "medicaid" },
      service: { codes: base.codes, dateOfService: "2026-03-01" },
    },
    { today: "2026-12-06" },
  );
  // What a case may answer: leaves, group conditions and notes (a group's result is computed).
  return [...nodes(d).values()]
    .filter((x) => x.n.kind === "leaf" || x.n.kind === "condition" || x.n.kind === "note")
    .map((x) => x.n.id);
}

describe("citable (issue 14)", () => {
  test("on random answers, citations agree with the trace; unknown criteria are never citable", () => {
    const ids = BASES.map(idsOf);
    fc.assert(
      fc.property(
        fc.nat(BASES.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(true, false, undefined)), { maxLength: 40 }),
        (b, picks) => {
          const answers: Record<string, boolean> = {};
          for (const [i, v] of picks) {
            const id = ids[b]![i % ids[b]!.length]!;
            if (v !== undefined) answers[id] = v;
          }
          const base = BASES[b]!;
          let d: Determination;
          try {
            d = decide(
              lib,
              {
                member: { state: base.state, birthDate: "1960-05-01", lineOfBusiness: "medicaid" },
                service: { codes: base.codes, dateOfService: "2026-03-01" },
                answers,
              },
              { today: "2026-12-06" },
            );
          } catch (err) {
            // One question answered both ways (SPEC 2.2 "one question, several places"): refused, fine.
            if (err instanceof InputError) return;
            throw err;
          }
          const byId = nodes(d);
          const c = citable(d);
          for (const cite of c.denied) {
            const x = byId.get(cite.criterion);
            assert.ok(x, `${cite.criterion} is in the trace`);
            const failed = x.negated ? x.n.status === "met" : x.n.status === "not-met";
            assert.ok(failed, `denial cites ${cite.criterion} (${x.n.status}, negated ${x.negated})`);
          }
          for (const cite of c.approved) {
            const x = byId.get(cite.criterion)!;
            const held = x.negated ? x.n.status === "not-met" : x.n.status === "met";
            assert.ok(held, `approval cites ${cite.criterion} (${x.n.status}, negated ${x.negated})`);
          }
          const reasons = [...d.reasons, ...d.lines.flatMap((l) => l.reasons)].map((r) => r.criterion);
          for (const r of reasons)
            assert.ok(
              c.denied.some((x) => x.criterion === r),
              `reason ${r} is citable`,
            );
          if (d.outcome === "pended") {
            for (const n of d.needed) {
              assert.ok(
                !c.denied.some((x) => x.criterion === n.criterion),
                `needed ${n.criterion} is not citable`,
              );
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test("a compound contraindication: its parts never support an approval when present, at any depth", () => {
    const leaf = (id: string, status: TraceNode["status"]): TraceNode => ({
      id,
      kind: "leaf",
      text: id,
      status,
      source: { kind: "answer", id },
    });
    // I.B: none of [I.B.1, I.B.2 = all of (I.B.2.a, I.B.2.b)]; I.B.2.a holds, I.B.2.b does not: absent.
    const trace: TraceNode = {
      id: "I",
      kind: "all",
      text: "I",
      status: "met",
      source: { kind: "computed" },
      children: [
        {
          id: "I.B",
          kind: "none",
          text: "none of",
          status: "met",
          source: { kind: "computed" },
          children: [
            leaf("I.B.1", "not-met"),
            {
              id: "I.B.2",
              kind: "all",
              text: "both",
              status: "not-met",
              source: { kind: "computed" },
              children: [leaf("I.B.2.a", "met"), leaf("I.B.2.b", "not-met")],
            },
          ],
        },
      ],
    };
    const d = {
      outcome: "approved",
      reasons: [],
      needed: [],
      lines: [],
      trace,
      engine: "t",
    } as unknown as Determination;
    const approved = new Map(citable(d).approved.map((c) => [c.criterion, c.status]));
    assert.equal(approved.get("I.B.2"), "absent");
    assert.equal(approved.get("I.B.2.b"), "absent");
    assert.equal(
      approved.has("I.B.2.a"),
      false,
      "a present part of an absent contraindication is no reason to approve",
    );
  });

  test("a not-covered line cites its section; a benefit rule its code", () => {
    const d = decide(
      lib,
      {
        member: { state: "TX", birthDate: "1960-05-01" },
        service: { codes: ["27278"], dateOfService: "2026-03-01" },
      },
      { today: "2026-12-06" },
    );
    assert.equal(d.outcome, "not-covered");
    assert.deepEqual(
      citable(d)["not-covered"].map((c) => c.status),
      ["section"],
    );
    assert.deepEqual(citable(d).denied, []);
  });
});

describe("authority (issue 14)", () => {
  const open = { medicalDirectorOnly: false, notCoveredIsBenefit: false, open: true };
  test("a nurse approves and recommends; a medical director decides adverse outcomes", () => {
    const nurse = authorityOf("reviewer", DEFAULT_AUTHORITY, open);
    assert.deepEqual(
      [nurse.approve, nurse.deny, nurse.notCover, nurse.recommend],
      [true, false, false, true],
    );
    assert.match(signingRefusal(nurse, "denied") ?? "", /medical director/);
    assert.equal(signingRefusal(nurse, "approved"), undefined);
    const md = authorityOf("medical-director", DEFAULT_AUTHORITY, open);
    assert.deepEqual([md.approve, md.deny, md.notCover, md.recommend], [true, true, true, false]);
    assert.equal(
      authorityOf("reviewer", DEFAULT_AUTHORITY, { ...open, notCoveredIsBenefit: true }).notCover,
      true,
    );
    assert.equal(
      authorityOf("reviewer", DEFAULT_AUTHORITY, { ...open, medicalDirectorOnly: true }).approve,
      false,
    );
    for (const role of ["provider", "admin"] as const) {
      const a = authorityOf(role, DEFAULT_AUTHORITY, open);
      assert.deepEqual([a.approve, a.deny, a.notCover, a.recommend], [false, false, false, false]);
    }
    assert.equal(authorityOf("medical-director", DEFAULT_AUTHORITY, { ...open, open: false }).approve, false);
  });

  test("MEDPOLICY_ADVERSE_SIGNERS: reviewing roles only, a typo refuses to start", () => {
    assert.deepEqual(authorityFromEnv({}), DEFAULT_AUTHORITY);
    assert.deepEqual(
      authorityFromEnv({ MEDPOLICY_ADVERSE_SIGNERS: "medical-director, reviewer" }).adverseSigners,
      ["medical-director", "reviewer"],
    );
    for (const bad of ["provider", "admin", "medical_director", "medical-director,nurse"]) {
      assert.throws(() => authorityFromEnv({ MEDPOLICY_ADVERSE_SIGNERS: bad }), ConfigError, bad);
    }
  });
});
