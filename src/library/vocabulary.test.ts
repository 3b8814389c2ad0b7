/**
 * Issue 15 "Facts are data": the seed facts live in the policies' bindings, cases are checked against
 * the deciding version's vocabulary, and a library whose predicates read undeclared or ill-typed facts
 * does not load. Libraries are copies of the seed library edited in a temporary folder.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { InputError } from "../model/index.js";
import { decide } from "./decide.js";
import { defaultPoliciesDir, loadLibrary } from "./library.js";
import { lintVersion } from "./lint.js";

const lib = loadLibrary();
const TODAY = "2026-11-25";
const base = {
  member: { state: "TX", birthDate: "1960-05-01" },
  service: { codes: ["62350"], dateOfService: "2026-03-01" },
  answers: {},
};

function refusal(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return e;
  }
  assert.fail("expected an InputError");
}

describe("the seed vocabulary is data", () => {
  it("each policy declares the facts its predicates read; a state variant inherits them", () => {
    const names = (ref: string) => [...lib.get(ref).vocabulary.keys()].sort();
    assert.ok(names("CP.MP.173@2025-11").includes("lifeExpectancyMonths"));
    assert.ok(!names("CP.MP.173@2025-11").includes("sijImagingDate"));
    assert.ok(names("CP.MP.126@2025-04").includes("sijImagingDate"));
    assert.deepEqual(names("NC.CP.MP.173@2026-01"), names("CP.MP.173@2025-11"));
  });
});

describe("a case's facts are checked against the version that decides it", () => {
  it("a fact of another policy is unknown for this one, named with the policy", () => {
    const e = refusal(() =>
      decide(lib, { ...base, facts: { sijImagingDate: "2026-01-01" } }, { today: TODAY }),
    );
    assert.match(e.message, /facts\.sijImagingDate: unknown fact for CP\.MP\.173@2025-11/);
    assert.equal(e.where.policy, "CP.MP.173");
  });
  it("a wrong type names the expected type", () => {
    const e = refusal(() =>
      decide(lib, { ...base, facts: { lifeExpectancyMonths: "14" } }, { today: TODAY }),
    );
    assert.match(
      e.message,
      /facts\.lifeExpectancyMonths: must be a number \(mo, 0–…\) for CP\.MP\.173@2025-11/,
    );
  });
  it("a case with codes of two policies may carry the facts of either", () => {
    const d = decide(
      lib,
      {
        ...base,
        service: { codes: ["62350", "27279"], dateOfService: "2026-03-01" },
        facts: { lifeExpectancyMonths: 14, activeExerciseWeeks: 6 },
      },
      { today: TODAY },
    );
    assert.equal(d.lines?.length, 2);
    const e = refusal(() =>
      decide(
        lib,
        { ...base, service: { codes: ["62350", "27279"], dateOfService: "2026-03-01" }, facts: { bmi: 40 } },
        { today: TODAY },
      ),
    );
    assert.match(e.message, /facts\.bmi: unknown fact/);
  });
  it("a code no policy governs: the facts are checked against the whole library (SPEC 2.1)", () => {
    const other = { ...base, service: { codes: ["99213"], dateOfService: "2026-03-01" } };
    // A fact no policy declares, or of a type no declaring version accepts, is refused, named.
    assert.match(
      refusal(() => decide(lib, { ...other, facts: { bmi: 40 } }, { today: TODAY })).message,
      /facts\.bmi: no policy in the library declares this fact/,
    );
    assert.match(
      refusal(() =>
        decide(lib, { ...other, facts: { lifeExpectancyMonths: "x" } } as never, { today: TODAY }),
      ).message,
      /facts\.lifeExpectancyMonths: must be a number/,
    );
    // A fact some policy declares, of its type, is accepted: no policy governs the code.
    const d = decide(lib, { ...other, facts: { lifeExpectancyMonths: 2 } }, { today: TODAY });
    assert.equal(d.outcome, "not-applicable");
  });
});

describe("bindings that read undeclared or ill-typed facts do not load", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  /** The seed library with CP.MP.126's bindings edited by `edit`. */
  function libraryWith(edit: (b: Record<string, unknown>) => void): string {
    const dir = mkdtempSync(join(tmpdir(), "medpolicy-vocab-"));
    dirs.push(dir);
    cpSync(defaultPoliciesDir(), dir, { recursive: true });
    const file = join(dir, "CP.MP.126", "bindings.json");
    const b = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    edit(b);
    writeFileSync(file, JSON.stringify(b));
    return dir;
  }
  it("a predicate on an undeclared fact names the fact, the policy and the file", () => {
    const dir = libraryWith((b) => {
      (b.predicates as unknown[]).push({
        match: "Failure of at least",
        when: { fact: "bmi", op: ">=", value: 35 },
      });
    });
    const e = refusal(() => loadLibrary(dir));
    assert.match(
      e.message,
      /CP\.MP\.126\/bindings\.json: predicate 7 \("Failure of at least"\) of policy CP\.MP\.126: fact "bmi" is not declared/,
    );
    assert.equal(e.where.field, "facts.bmi");
  });
  it("a predicate of the wrong type for its fact is named", () => {
    const dir = libraryWith((b) => {
      (b.predicates as unknown[]).push({
        match: "Failure of at least",
        when: { fact: "exerciseNotTolerated", op: ">", value: 1 },
      });
    });
    assert.match(
      refusal(() => loadLibrary(dir)).message,
      /"exerciseNotTolerated" \(boolean\): compare with == or !=/,
    );
  });
  it("a fact declared twice, differently, is named", () => {
    const dir = libraryWith((b) => {
      (b.facts as unknown[]).push({
        name: "activeExerciseWeeks",
        type: "integer",
        description: "Weeks of exercise",
      });
    });
    assert.match(
      refusal(() => loadLibrary(dir)).message,
      /fact "activeExerciseWeeks" of policy CP\.MP\.126 is declared twice/,
    );
  });
  it("a malformed declaration names its field", () => {
    const dir = libraryWith((b) => {
      (b.facts as unknown[]).push({ name: "bmi", type: "number", min: 50, max: 10, description: "BMI" });
    });
    assert.match(refusal(() => loadLibrary(dir)).message, /facts\.11\.max: max is below min/);
  });
  it("lint names a predicate that matches nothing, a fact nothing reads, and a FHIRPath that does not compile", () => {
    const dir = libraryWith((b) => {
      (b.facts as unknown[]).push(
        { name: "bmi", type: "number", description: "Body mass index", fhirPath: "Observation.where(" },
        { name: "spare", type: "boolean", description: "Read by nothing" },
      );
      (b.predicates as unknown[]).push({
        match: "no such criterion text anywhere",
        when: { fact: "bmi", op: ">=", value: 35 },
      });
    });
    const l = loadLibrary(dir);
    const findings = lintVersion(l, l.get("CP.MP.126@2025-04").policy);
    const by = (code: string) =>
      findings.filter((f) => f.code === code).map((f) => `${f.severity} ${f.message}`);
    assert.deepEqual(by("predicate-unmatched"), [
      'warning predicate "no such criterion text anywhere" matches no criterion of this version: it decides nothing here',
    ]);
    assert.deepEqual(by("fact-unused"), [
      'info fact "spare" is declared but no predicate reads it (a case may still carry it)',
    ]);
    assert.equal(by("fact-fhirpath").length, 1);
    assert.match(by("fact-fhirpath")[0]!, /^error fact "bmi": its fhirPath does not compile/);
    // The seed library itself is clean of all three.
    for (const e of lib.entries) {
      const codes = lintVersion(lib, e.policy).map((f) => f.code);
      assert.ok(
        !codes.some((c) => c === "predicate-unmatched" || c.startsWith("fact-")),
        e.policy.identity.version,
      );
    }
  });
});
