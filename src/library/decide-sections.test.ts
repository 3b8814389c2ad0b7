/**
 * issue 13: `decide` evaluates each section once per case, whatever the number of codes ("16 codes
 * cost 18.5× one code though they span 2 sections"), and its answers are read once per version —
 * counted through the evaluator's `evaluationStats`, never timed. The determinations stay what they
 * were: each line as the code decided alone would have it.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { evaluationStats } from "../evaluate/index.js";
import { decide } from "./decide.js";
import { loadLibrary } from "./library.js";

const lib = loadLibrary();
const TRIAL = ["62320", "62321", "62322", "62323", "62326", "62327"];
const IMPLANT = ["62350", "62351", "62360", "62361", "62362", "E0782", "E0783", "C1772", "C1755", "A4300"];
const ANSWERS = {
  "I.A.1": true,
  "I.A.1.a": true,
  "I.A.1.b": true,
  "I.A.1.c": true,
  "I.B.1": false,
  "I.B.2": false,
  "I.B.3": false,
  "I.B.4": false,
  "I.B.5": false,
  "II.A.1.a": false,
  "II.A.1.b": true,
};
const caseOf = (codes: string[], answers: Record<string, boolean> = ANSWERS) => ({
  member: { state: "TX", birthDate: "1960-05-01" },
  service: { codes, dateOfService: "2026-03-01" },
  answers,
});

/** Sections evaluated and answer loads while `f` runs. */
function count(f: () => void): { sections: number; loads: number } {
  const s0 = evaluationStats.sections;
  const l0 = evaluationStats.loads;
  f();
  return { sections: evaluationStats.sections - s0, loads: evaluationStats.loads - l0 };
}

describe("decide evaluates each section once per case (issue 13)", () => {
  for (const trace of [false, true]) {
    it(`16 codes over sections I and II evaluate 2 sections and read the answers once (trace ${trace})`, () => {
      const codes = [...TRIAL, ...IMPLANT];
      assert.equal(codes.length, 16);
      let d: ReturnType<typeof decide> | undefined;
      const n = count(() => {
        d = decide(lib, caseOf(codes), { trace });
      });
      assert.deepEqual(n, { sections: 2, loads: 1 });
      assert.equal(d!.lines.length, 16);
      assert.deepEqual(new Set(d!.lines.map((l) => l.policy?.section)), new Set(["I", "II"]));
    });
  }

  it("one code evaluates one section; codes of one section, interleaved with others, still one each", () => {
    assert.deepEqual(
      count(() => decide(lib, caseOf(["62322"]))),
      { sections: 1, loads: 1 },
    );
    assert.deepEqual(
      count(() => decide(lib, caseOf(["62322", "62362", "62320", "62355", "62350", "99999"]))),
      { sections: 2, loads: 1 },
    );
    // Coding-only and unknown codes evaluate nothing.
    assert.deepEqual(
      count(() => decide(lib, caseOf(["62355", "99999"]))),
      { sections: 0, loads: 0 },
    );
  });

  it("each line is the line its code decides alone; the determination combines them (property)", () => {
    const all = [...TRIAL, ...IMPLANT, "62355", "J2274", "99999"];
    const ids = Object.keys(ANSWERS);
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...all), { minLength: 1, maxLength: 16 }),
        fc.subarray(ids),
        fc.boolean(),
        (codes, dropped, trace) => {
          const answers: Record<string, boolean> = { ...ANSWERS };
          for (const id of dropped) delete answers[id];
          const d = decide(lib, caseOf(codes, answers), { trace });
          for (let i = 0; i < codes.length; i++) {
            const alone = decide(lib, caseOf([codes[i]!], answers), { trace });
            const line = { ...d.lines[i]! };
            // The deciding line's trace is the determination's (SPEC 2.2).
            if (line.trace === undefined && alone.trace !== undefined && d.trace !== undefined)
              line.trace = d.trace;
            const expected = { ...alone.lines[0]! };
            if (expected.trace === undefined && alone.trace !== undefined) expected.trace = alone.trace;
            assert.equal(JSON.stringify(line), JSON.stringify(expected));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the case suites decide with one evaluation per section and version a case needs", () => {
    const dir = join(import.meta.dirname, "..", "..", "test", "cases");
    let checked = 0;
    for (const folder of readdirSync(dir)) {
      for (const f of readdirSync(join(dir, folder))) {
        const spec = JSON.parse(readFileSync(join(dir, folder, f), "utf8"));
        if ((spec.expect.exit ?? 0) !== 0) continue;
        let d: ReturnType<typeof decide> | undefined;
        const n = count(() => {
          d = decide(lib, spec.case, { today: "2026-11-25" });
        });
        const evaluated = new Set(
          d!.lines.filter(
            (l) => /^section \S+ criteria /.test(l.basis) || l.basis.startsWith("no indication"),
          ),
        );
        const sections = new Set(
          [...evaluated].map((l) => `${l.policy!.id}@${l.policy!.version}/${l.policy!.section}`),
        );
        assert.equal(n.sections, sections.size, `${folder}/${f}`);
        checked++;
      }
    }
    assert.ok(checked > 20);
  });
});

describe("decide for the outcome alone (issue 15: impact replay)", () => {
  it("`needed: false` decides every line as before, with nothing gathered as needed (property)", () => {
    const all = [...TRIAL, ...IMPLANT, "62355", "J2274", "99999"];
    const ids = Object.keys(ANSWERS);
    let pended = 0;
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...all), { minLength: 1, maxLength: 4 }),
        fc.subarray(ids),
        (codes, dropped) => {
          const answers: Record<string, boolean> = { ...ANSWERS };
          for (const id of dropped) delete answers[id];
          const full = decide(lib, caseOf(codes, answers), { trace: false });
          const bare = decide(lib, caseOf(codes, answers), { trace: false, needed: false });
          assert.equal(bare.outcome, full.outcome);
          assert.deepEqual(
            bare.lines.map((l) => [l.code, l.outcome, l.basis, l.reasons]),
            full.lines.map((l) => [l.code, l.outcome, l.basis, l.reasons]),
          );
          assert.deepEqual(bare.needed, []);
          // With the trace (impact's criteria of a changed request): the same trace, lines and reasons.
          const traced = decide(lib, caseOf(codes, answers), { trace: true });
          const tracedBare = decide(lib, caseOf(codes, answers), { trace: true, needed: false });
          const noNeeded = (d: typeof traced) => ({
            ...d,
            needed: [],
            lines: d.lines.map((l) => ({ ...l, needed: [] })),
          });
          assert.deepEqual(tracedBare, noNeeded(traced));
          assert.deepEqual(
            tracedBare.lines.flatMap((l) => l.needed),
            [],
          );
          if (full.needed.length > 0) pended++;
        },
      ),
      { numRuns: 300 },
    );
    // The property met cases that do need questions, or it would hold for nothing.
    assert.ok(pended > 10, `${pended} cases with questions needed`);
  });
});
