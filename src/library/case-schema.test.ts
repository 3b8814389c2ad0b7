/**
 * `caseSchemaFor` (issue 15 item 2). No JSON Schema validator is among the devDependencies, so the
 * shared cases are checked with `check` below: a small validator of exactly the keywords these
 * schemas use, which fails on any other keyword rather than ignoring it. The structure is asserted too.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { caseJsonSchema } from "../model/index.js";
import { caseSchemaFor } from "./case-schema.js";
import { decide, loadLibrary } from "./index.js";

const lib = loadLibrary();
const TODAY = "2026-03-01";
const SHARED_CASES = fileURLToPath(new URL("../../../shared/cases/", import.meta.url));
const OWN_CASES = fileURLToPath(new URL("../../test/cases/", import.meta.url));

type Schema = Record<string, unknown>;

/** Keywords that only annotate (and `x-` extensions): nothing to check. */
const ANNOTATIONS = new Set(["$schema", "$id", "title", "description", "default"]);

/** Where `value` breaks `schema` (empty: it is valid). Throws on a keyword this checker does not know. */
function check(schema: Schema, value: unknown, at = "(root)"): string[] {
  const out: string[] = [];
  const typeOk = (t: string) =>
    t === "object"
      ? value !== null && typeof value === "object" && !Array.isArray(value)
      : t === "array"
        ? Array.isArray(value)
        : t === "integer"
          ? Number.isInteger(value)
          : t === "null"
            ? value === null
            : typeof value === t;
  for (const [k, s] of Object.entries(schema)) {
    if (ANNOTATIONS.has(k) || k.startsWith("x-")) continue;
    const v = value as never;
    switch (k) {
      case "type":
        if (!typeOk(s as string)) out.push(`${at}: not ${s}`);
        break;
      case "enum":
        if (!(s as unknown[]).some((x) => JSON.stringify(x) === JSON.stringify(value)))
          out.push(`${at}: not one of ${JSON.stringify(s)}`);
        break;
      case "anyOf":
        if (!(s as Schema[]).some((x) => check(x, value, at).length === 0))
          out.push(`${at}: matches no anyOf`);
        break;
      case "minimum":
        if (typeof value === "number" && value < (s as number)) out.push(`${at}: below ${s}`);
        break;
      case "maximum":
        if (typeof value === "number" && value > (s as number)) out.push(`${at}: above ${s}`);
        break;
      case "minLength":
      case "maxLength":
        if (typeof value === "string") {
          const n = [...value].length;
          if (k === "minLength" ? n < (s as number) : n > (s as number)) out.push(`${at}: ${k} ${s}`);
        }
        break;
      case "pattern":
        if (typeof value === "string" && !new RegExp(s as string, "u").test(value))
          out.push(`${at}: does not match ${s}`);
        break;
      case "format":
        // Only `date` appears; the pattern beside it checks the calendar.
        assert.equal(s, "date");
        if (typeof value === "string" && !/^\d{4}-\d{2}-\d{2}$/.test(value)) out.push(`${at}: not a date`);
        break;
      case "minItems":
      case "maxItems":
        if (
          Array.isArray(value) &&
          (k === "minItems" ? value.length < (s as number) : value.length > (s as number))
        )
          out.push(`${at}: ${k} ${s}`);
        break;
      case "uniqueItems":
        if (
          Array.isArray(value) &&
          s === true &&
          new Set(value.map((x) => JSON.stringify(x))).size !== value.length
        )
          out.push(`${at}: repeated items`);
        break;
      case "items":
        if (Array.isArray(value))
          for (const [i, x] of (v as unknown[]).entries()) out.push(...check(s as Schema, x, `${at}.${i}`));
        break;
      case "required":
        if (typeOk("object")) for (const r of s as string[]) if (!(r in v)) out.push(`${at}.${r}: required`);
        break;
      case "properties":
        if (typeOk("object"))
          for (const [p, ps] of Object.entries(s as Record<string, Schema>))
            if (p in v) out.push(...check(ps, (v as Record<string, unknown>)[p], `${at}.${p}`));
        break;
      case "propertyNames":
        if (typeOk("object"))
          for (const p of Object.keys(v)) out.push(...check(s as Schema, p, `${at}[${p}]`));
        break;
      case "additionalProperties":
        if (typeOk("object")) {
          const declared = (schema.properties ?? {}) as Record<string, Schema>;
          for (const [p, x] of Object.entries(v as Record<string, unknown>)) {
            if (p in declared) continue;
            if (s === false) out.push(`${at}.${p}: not allowed`);
            else out.push(...check(s as Schema, x, `${at}.${p}`));
          }
        }
        break;
      default:
        throw new Error(`check: keyword ${k} at ${at} is not supported; extend the checker`);
    }
  }
  return out;
}

interface SharedCase {
  name: string;
  case: Record<string, unknown>;
  expect: { exit?: number; policy?: string; version?: string };
}

const readCases = (dir: string): SharedCase[] =>
  (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as SharedCase);
const shared = readCases(SHARED_CASES);

describe("caseSchemaFor (issue 15 item 2)", () => {
  test("the shared cases decided by a policy are valid against that version's schema", () => {
    let checked = 0;
    for (const c of shared) {
      if (c.expect.exit !== 0 || c.expect.policy === undefined) continue;
      const d = decide(lib, c.case, { today: TODAY });
      assert.ok(d.policy, c.name);
      assert.equal(d.policy.id, c.expect.policy, c.name);
      const schema = caseSchemaFor(lib.get(`${d.policy.id}@${d.policy.version}`, TODAY));
      assert.deepEqual(check(schema, c.case), [], c.name);
      checked++;
    }
    assert.ok(checked >= 8, `only ${checked} shared cases name a policy`);
  });

  test("the project's own cases (test/cases): valid when decided, refused when their answers or facts are", () => {
    let valid = 0;
    let refused = 0;
    for (const c of readCases(OWN_CASES)) {
      let d: ReturnType<typeof decide>;
      try {
        d = decide(lib, c.case, { today: TODAY });
      } catch (e) {
        // Bad answers or facts: the schema of the version that governs the case's first code says so too.
        const field = (e as { where?: { field?: string } }).where?.field ?? "";
        if (!/^(answers|facts)\b/.test(field)) continue;
        const { member, service } = c.case as {
          member: { state: string };
          service: { codes: string[]; dateOfService: string };
        };
        const base = lib.policiesForCode(service.codes[0]!)[0];
        // A code no policy governs: checked against the whole library, no one version's schema.
        if (base === undefined) {
          refused++;
          continue;
        }
        const entry = lib.resolve(base, member.state, service.dateOfService)!;
        const errs = check(caseSchemaFor(entry), c.case);
        assert.ok(errs.length > 0, `${c.name}: ${(e as Error).message}`);
        refused++;
        continue;
      }
      // A case several policies decide may answer for any of them: one schema is for one policy.
      const policies = new Set(d.lines.map((l) => l.policy && `${l.policy.id}@${l.policy.version}`));
      if (!d.policy || policies.size !== 1) continue;
      assert.deepEqual(
        check(caseSchemaFor(lib.get(`${d.policy.id}@${d.policy.version}`)), c.case),
        [],
        c.name,
      );
      valid++;
    }
    assert.ok(valid >= 20, `${valid} valid`);
    assert.ok(refused >= 1, `${refused} refused`);
  });

  test("the shared case with an unknown criterion id is refused, naming it", () => {
    const c = shared.find((x) => x.name === "unknown-criterion-id")!;
    const dos = (c.case.service as { dateOfService: string }).dateOfService;
    const schema = caseSchemaFor(lib.resolve("CP.MP.173", "TX", dos)!);
    assert.deepEqual(check(schema, c.case), ["(root).answers.I.Z.9: not allowed"]);
  });

  test("answers: one boolean per answerable id, with its text; shared questions named", () => {
    const e = lib.get("CP.MP.173@2025-11");
    const s = caseSchemaFor(e) as { properties: { answers: Schema } };
    const answers = s.properties.answers as {
      properties: Record<string, Schema>;
      additionalProperties: unknown;
    };
    assert.equal(answers.additionalProperties, false);
    assert.deepEqual(Object.keys(answers.properties), [...e.answerable()]);
    for (const [id, p] of Object.entries(answers.properties)) {
      assert.equal(p.type, "boolean", id);
      assert.ok(typeof p.description === "string" && p.description.length > 3, id);
    }
    assert.equal(answers.properties["I.B.4"]!.description, "Active systemic infection");
    assert.equal(answers.properties["II.B.4"]!["x-sameQuestionAs"], "I.B.4");
    assert.equal(answers.properties["I.B.4"]!["x-sameQuestionAs"], undefined);
    assert.match(String(answers.properties["II.A.1.a.note"]!.description), /survival/);
    // LA's 2024-02 version has I.A.2.i, which the corporate 2025-11 does not.
    const la = caseSchemaFor(lib.get("LA.CP.MP.173@2024-02")) as { properties: { answers: Schema } };
    assert.ok("I.A.2.i" in (la.properties.answers.properties as Schema));
    assert.ok(!("I.A.2.i" in answers.properties));
  });

  test("facts: the version's vocabulary, typed, and nothing else", () => {
    const e = lib.get("CP.MP.173@2025-11");
    const s = caseSchemaFor(e) as {
      properties: { facts: { properties: Schema; additionalProperties: unknown } };
    };
    assert.deepEqual(Object.keys(s.properties.facts.properties), [...e.vocabulary.keys()]);
    assert.equal(s.properties.facts.additionalProperties, false);
    const base = {
      member: { state: "TX", birthDate: "1960-05-01" },
      service: { codes: ["62322"], dateOfService: TODAY },
    };
    assert.deepEqual(check(s, { ...base, facts: { lifeExpectancyMonths: 14 } }), []);
    assert.deepEqual(check(s, { ...base, facts: { lifeExpectancyMonths: "14" } }), [
      "(root).facts.lifeExpectancyMonths: not number",
    ]);
    assert.deepEqual(check(s, { ...base, facts: { bmi: 41.1 } }), ["(root).facts.bmi: not allowed"]);
    // The policy's own check agrees on these.
    assert.doesNotThrow(() => e.factCheck.check({ lifeExpectancyMonths: 14 }));
    assert.throws(() => e.factCheck.check({ lifeExpectancyMonths: "14" }));
    assert.throws(() => e.factCheck.check({ bmi: 41.1 }));
  });

  test("names its policy and version; the rest is the generic case schema", () => {
    const e = lib.get("CP.MP.126@2025-04");
    const s = caseSchemaFor(e) as Schema & { properties: Record<string, unknown> };
    assert.equal(s.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.equal(s.$id, "http://medpolicy.example/schema/case/CP.MP.126/2025-04");
    assert.match(String(s.title), /CP\.MP\.126@2025-04/);
    assert.match(String(s.description), new RegExp(e.policy.hash));
    const generic = caseJsonSchema() as Schema & { properties: Record<string, unknown> };
    assert.deepEqual(s.required, generic.required);
    assert.equal(s.additionalProperties, generic.additionalProperties);
    for (const k of Object.keys(generic.properties)) {
      if (k === "answers" || k === "facts") continue;
      assert.deepEqual(s.properties[k], generic.properties[k], k);
    }
    // The checker reads the generic part too.
    assert.deepEqual(check(s, { member: { state: "TX" }, service: { codes: ["27279"] }, extra: 1 }), [
      "(root).service.dateOfService: required",
      "(root).extra: not allowed",
    ]);
  });

  test("built once per version, frozen, JSON all the way", () => {
    const e = lib.get("CP.MP.173@2025-11");
    const s = caseSchemaFor(e);
    assert.equal(caseSchemaFor(e), s);
    assert.ok(Object.isFrozen(s));
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
    // Freezing the schema leaves the library's own declarations alone.
    for (const d of e.vocabulary.values()) assert.ok(!Object.isFrozen(d));
  });
});
