/**
 * Issue 13, JSON API findings: hostile JSON (10,000-level nesting overflowed the stack → 500;
 * duplicate keys: the last one won silently) and request validation (decisions signed with reasons of
 * zero-width or NUL characters, `not-covered` with no cited criterion, duplicate citations; a birth
 * date after the date of service, in 1800 or not on the calendar, state "ZZ" were decided). Each test
 * failed before the change. The bodies are fixtures in `fixtures/hostile/`; the nesting bodies are
 * generated (100 KB of brackets).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { trimText } from "../../src/explain/questionnaire.js";
import { parseCase } from "../../src/library/index.js";
import { InputError, MAX_JSON_DEPTH } from "../../src/model/index.js";
import { parseJsonBody } from "../../src/server/http.js";
import { call, loadCase, type Res, startTest, type Tokens } from "./helpers.js";

const hostile = (name: string) =>
  readFileSync(new URL(`./fixtures/hostile/${name}`, import.meta.url), "utf8");

function assertBadInput(r: Res, field?: string | RegExp): void {
  assert.equal(r.status, 400, r.text.slice(0, 400));
  assert.equal(r.body?.error?.code, "bad-input", r.text.slice(0, 400));
  assert.equal(typeof r.body.error.message, "string");
  if (typeof field === "string") assert.equal(r.body.error.where?.field, field, r.text.slice(0, 400));
  else if (field) assert.match(String(r.body.error.where?.field), field, r.text.slice(0, 400));
}

/** `levels` arrays inside one another under `key` of an object. */
const nested = (levels: number, key = "answers") => `{"${key}":${"[".repeat(levels)}${"]".repeat(levels)}}`;

describe("the JSON body parser (unit)", () => {
  test("nesting up to the limit parses; one level more is a 400 naming the place", () => {
    const ok = `${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`;
    assert.ok(Array.isArray(parseJsonBody(ok)));
    const deep = `{"a":{"b":[1,${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}]}}`;
    assert.throws(
      () => parseJsonBody(deep),
      (e: unknown) =>
        e instanceof InputError &&
        /nested deeper than 64 levels/.test(e.message) &&
        /^a\.b\.1(\.0)+/.test(e.where.field ?? ""),
    );
    // Brackets inside strings are text, not nesting.
    assert.deepEqual(parseJsonBody(JSON.stringify({ s: "[".repeat(1000) })), { s: "[".repeat(1000) });
  });

  test("a repeated key is refused with its path, however it is spelled", () => {
    const cases: [string, string][] = [
      ['{"a":1,"a":2}', "a"],
      ['{"x":{"y":[{"k":1},{"k":1,"k":2}]}}', "x.y.1.k"],
      ['{"a":1,"\\u0061":2}', "a"],
      ['{"q\\"":1, "q\\"" :2}', 'q"'],
    ];
    for (const [text, field] of cases) {
      assert.throws(
        () => parseJsonBody(text),
        (e: unknown) => e instanceof InputError && e.where.field === field && /appears twice/.test(e.message),
        text,
      );
    }
    // The same key in sibling objects, and keys that only look alike, are fine.
    assert.deepEqual(parseJsonBody('[{"a":1},{"a":2}]'), [{ a: 1 }, { a: 2 }]);
    assert.deepEqual(parseJsonBody('{"a":"x:y","b":{"a":1},"A":2}'), { a: "x:y", b: { a: 1 }, A: 2 });
    assert.deepEqual(parseJsonBody('{"a\\\\":1,"a":2}'), { "a\\": 1, a: 2 });
  });

  test("agrees with JSON.parse on any JSON without repeated keys, in any layout (property)", () => {
    const layouts = [
      (v: unknown) => JSON.stringify(v),
      (v: unknown) => JSON.stringify(v, null, 2),
      // White space before colons, and colons and quotes inside strings, take the counting pass.
      (v: unknown) => JSON.stringify(v, null, "\t").replaceAll('":', '" :'),
    ];
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(...layouts), (v, layout) => {
        const text = layout(v);
        if (/__proto__|constructor/.test(text)) return; // prototype keys have their own refusal
        assert.deepEqual(parseJsonBody(text), JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  test("refuses any object with a repeated key, wherever it is (property)", () => {
    const key = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('a":', "a\\", ":", '"'));
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 5 }),
        fc.nat(),
        fc.jsonValue({ maxDepth: 2 }),
        fc.boolean(),
        (o, pick, value, spaced) => {
          const keys = Object.keys(o);
          const repeated = keys[pick % keys.length]!;
          if (/__proto__|constructor/.test(JSON.stringify(o) + JSON.stringify(value))) return;
          const members = [...keys.map((k) => [k, o[k]] as const), [repeated, value] as const].map(
            ([k, v]) => `${JSON.stringify(k)}${spaced ? " : " : ":"}${JSON.stringify(v)}`,
          );
          const text = `{"wrap":[1,{${members.join(",")}}]}`;
          assert.throws(
            () => parseJsonBody(text),
            (e: unknown) => e instanceof InputError && e.where.field === `wrap.1.${repeated}`,
            text,
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  test("large inputs are handled in one pass (no freeze): 100,000 keys, 10,000 levels, 1 MB strings", () => {
    const many = `{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":${i}`).join(",")}}`;
    assert.equal(Object.keys(parseJsonBody(many) as object).length, 100_000);
    const dup = `{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":${i}`).join(",")},"k99999":0}`;
    assert.throws(() => parseJsonBody(dup), /k99999/);
    assert.throws(() => parseJsonBody(nested(10_000)), /nested deeper/);
    const backslashes = `{"s":"${"\\\\".repeat(500_000)}"}`;
    assert.equal((parseJsonBody(backslashes) as { s: string }).s.length, 500_000);
  });
});

describe("string scans are linear (unit)", () => {
  test("trimText on a long run of punctuation that does not end the text completes (was quadratic)", () => {
    // `/[\s;:,.]+$/` retried the run from each of its positions: 40,000 characters took 6 s.
    const s = `a${" ;".repeat(200_000)}b`;
    assert.equal(trimText(s), s);
    assert.equal(trimText(`The member has pain;${" .".repeat(200_000)}`), "The member has pain");
    assert.equal(trimText(" ;:,. "), "");
  });
});

describe("case validation shared by the CLI and the service (unit)", () => {
  test("implausible birth dates and unknown state codes name the field", () => {
    const expect: [string, string, RegExp][] = [
      ["case-birth-after-service.json", "member.birthDate", /after the date of service/],
      ["case-born-1800.json", "member.birthDate", /before 1900/],
      ["case-birth-feb-30.json", "member.birthDate", /date/],
      ["case-state-zz.json", "member.state", /US state/],
    ];
    for (const [file, field, message] of expect) {
      assert.throws(
        () => parseCase(JSON.parse(hostile(file))),
        (e: unknown) => e instanceof InputError && e.where.field === field && message.test(e.message),
        file,
      );
    }
    // Territories, DC and lower case are states; a birth on the date of service is plausible.
    for (const state of ["PR", "dc", "GU", "VI"]) {
      const c = JSON.parse(hostile("case-state-zz.json"));
      c.member.state = state;
      assert.equal(parseCase(c).member.state, state.toUpperCase());
    }
    // Older than 130 on the date of service (the 131st birthday is that day).
    const old = JSON.parse(hostile("case-born-1800.json"));
    old.member.birthDate = "1900-01-01";
    old.service.dateOfService = "2031-01-01";
    assert.throws(() => parseCase(old), /member\.birthDate: makes the member older than 130/);
    old.member.birthDate = "1900-01-02";
    assert.equal(parseCase(old).member.birthDate, "1900-01-02");
    const newborn = JSON.parse(hostile("case-birth-after-service.json"));
    newborn.member.birthDate = "2026-03-01";
    assert.equal(parseCase(newborn).member.birthDate, "2026-03-01");
  });
});

describe("the service refuses hostile JSON and implausible requests (HTTP)", () => {
  let s: { url: string; tokens: Tokens; close(): Promise<void> };
  let requestId = "";
  before(async () => {
    s = await startTest("sqlite", { rateLimit: false });
    const sub = await call(s.url, "POST", "/api/requests", {
      token: s.tokens.provider,
      body: loadCase("trial-nonmalignant-not-weaned"),
    });
    assert.equal(sub.status, 201, sub.text);
    requestId = sub.body.id;
  });
  after(() => s.close());

  test("10,000-level nesting → 400 on every JSON API route (was 500: stack overflow)", async () => {
    const routes: [string, string | undefined][] = [
      ["/api/evaluate", s.tokens.provider],
      ["/api/requests", s.tokens.provider],
      [`/api/requests/${requestId}/answers`, s.tokens.reviewer],
      [`/api/requests/${requestId}/decision`, s.tokens.reviewer],
      ["/api/tokens", s.tokens.admin],
    ];
    for (const [path, token] of routes) {
      for (const raw of [nested(10_000), `{"case":${nested(10_000, "member")}}`]) {
        const r = await call(s.url, "POST", path, { ...(token && { token }), raw });
        assertBadInput(r);
        assert.match(r.body.error.message, /nested deeper than 64 levels/, path);
      }
    }
  });

  test("duplicate JSON keys → 400 naming the key (was: the last one won)", async () => {
    const a = await call(s.url, "POST", "/api/evaluate", {
      token: s.tokens.provider,
      raw: hostile("duplicate-member-state.json"),
    });
    assertBadInput(a, "member.state");
    const b = await call(s.url, "POST", "/api/requests", {
      token: s.tokens.provider,
      raw: hostile("duplicate-escaped-answer.json"),
    });
    assertBadInput(b, "answers.I.A.1");
  });

  test("implausible members → 400 naming the field, on evaluate and submit", async () => {
    const expect: [string, string][] = [
      ["case-birth-after-service.json", "member.birthDate"],
      ["case-born-1800.json", "member.birthDate"],
      ["case-birth-feb-30.json", "member.birthDate"],
      ["case-state-zz.json", "member.state"],
    ];
    for (const [file, field] of expect) {
      for (const path of ["/api/evaluate", "/api/requests"]) {
        assertBadInput(
          await call(s.url, "POST", path, { token: s.tokens.provider, raw: hostile(file) }),
          field,
        );
      }
    }
  });

  test("decisions: invisible or NUL reasons, uncited not-covered, duplicate citations → 400", async () => {
    const expect: [string, string, RegExp][] = [
      ["decision-zero-width-reason.json", "reason", /visible/],
      ["decision-nul-reason.json", "reason", /control characters/],
      ["decision-not-covered-uncited.json", "criteria", /must cite/],
      ["decision-duplicate-citations.json", "criteria.1", /cited twice/],
    ];
    for (const [file, field, message] of expect) {
      const r = await call(s.url, "POST", `/api/requests/${requestId}/decision`, {
        token: s.tokens.reviewer,
        raw: hostile(file),
      });
      assertBadInput(r, field);
      assert.match(r.body.error.message, message, file);
    }
    // None of them was signed: a valid denial still can be.
    const ok = await call(s.url, "POST", `/api/requests/${requestId}/decision`, {
      token: s.tokens.medicalDirector,
      body: { outcome: "denied", reason: "Opioids were not weaned before the trial.", criteria: ["I.A.2.g"] },
    });
    assert.equal(ok.status, 200, ok.text);
  });

  test("a not-covered decision may cite the governing section when no criterion decided it", async () => {
    const sub = await call(s.url, "POST", "/api/requests", {
      token: s.tokens.provider,
      body: loadCase("sij-allograft-not-covered"),
    });
    assert.equal(sub.status, 201, sub.text);
    const r = await call(s.url, "POST", `/api/requests/${sub.body.id}/decision`, {
      token: s.tokens.medicalDirector,
      body: { outcome: "not-covered", reason: "27278 is not covered by CP.MP.126.", criteria: ["IV"] },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.decision.criteria[0].criterion, "IV");
  });

  test("token fields: invisible or control-character names → 400", async () => {
    for (const name of ["\u200b\u200b", "Dr\u0000 Who", "\u0007"]) {
      const r = await call(s.url, "POST", "/api/tokens", {
        token: s.tokens.admin,
        body: { sub: "u1", name, role: "reviewer" },
      });
      assertBadInput(r, "name");
    }
  });
});
