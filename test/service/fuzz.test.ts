/**
 * Issue 4 / SPEC 5 — malformed, oversized and hostile JSON get a clear 4xx error and never crash or
 * wedge the server (fast-check, bounded runs), on both databases.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { call, DATABASES, loadCase, postgresAvailable, type Res, startTest, type Tokens } from "./helpers.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

function assertClearError(r: Res, allowed: number[] = [400]): void {
  assert.ok(allowed.includes(r.status), `status ${r.status}: ${r.text.slice(0, 300)}`);
  assert.equal(typeof r.body?.error?.message, "string", r.text.slice(0, 300));
  assert.ok(r.body.error.message.length > 5);
}

for (const db of DATABASES) {
  describe(`hostile input (${db})`, async () => {
    const skip = db === "postgres" && !(await postgresAvailable()) ? "PostgreSQL not reachable" : false;
    let url = "";
    let t: Tokens;
    let close = async () => {};
    before(async () => {
      if (skip) return;
      // Fuzzing sends many requests: no rate limit here (it has its own test).
      const s = await startTest(db, { rateLimit: false });
      url = s.url;
      t = s.tokens;
      close = s.close;
    });
    after(() => close());

    test("text that is not JSON → 400 naming the problem", { skip }, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.string({ maxLength: 200 }).filter((s) => {
            try {
              JSON.parse(s);
              return false;
            } catch {
              return true;
            }
          }),
          fc.constantFrom("/api/evaluate", "/api/requests"),
          async (raw, path) => {
            const r = await call(url, "POST", path, { token: t.provider, raw });
            assertClearError(r);
            assert.match(r.body.error.message, /not valid JSON|empty/);
          },
        ),
        { numRuns: RUNS },
      );
    });

    test("any JSON value that is not a case → 400 naming the field", { skip }, async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (v) => {
          const r = await call(url, "POST", "/api/requests", { token: t.provider, body: v });
          assertClearError(r);
        }),
        { numRuns: RUNS },
      );
    });

    test("a valid case with one field replaced by anything → decided, or 400/422 with a clear error", {
      skip,
    }, async () => {
      const paths: string[][] = [
        ["member"],
        ["member", "state"],
        ["member", "birthDate"],
        ["member", "lineOfBusiness"],
        ["service"],
        ["service", "codes"],
        ["service", "dateOfService"],
        ["service", "expedited"],
        ["answers"],
        ["answers", "I.A.1"],
        ["answers", "I.Q.7"],
        ["facts"],
        ["facts", "lifeExpectancyMonths"],
        ["extra"],
      ];
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 3 }), async (path, value) => {
          const c = { facts: {}, ...loadCase("trial-malignant-met") } as Record<string, unknown>;
          let o = c;
          for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
          o[path.at(-1)!] = value;
          const r = await call(url, "POST", "/api/requests", { token: t.provider, body: c });
          if (r.status === 201) return;
          assertClearError(r, [400, 422]);
          if (r.status === 400)
            assert.ok(r.body.error.where?.field || /:/.test(r.body.error.message), r.text);
        }),
        { numRuns: RUNS },
      );
    });

    test("hostile bodies: prototype keys, deep nesting, huge, odd encodings, wrong types", {
      skip,
    }, async () => {
      const valid = JSON.stringify(loadCase("trial-malignant-met"));
      const cases: { raw: string; status: number[]; ct?: string; match?: RegExp }[] = [
        { raw: '{"__proto__": {"isAdmin": true}}', status: [400], match: /__proto__/ },
        {
          raw: `{"member":{"state":"TX","__proto__":{"x":1}},"service":{}}`,
          status: [400],
          match: /__proto__/,
        },
        { raw: '{"constructor": {"prototype": {"x": 1}}}', status: [400], match: /constructor/ },
        { raw: "[".repeat(100_000) + "]".repeat(100_000), status: [400] },
        { raw: `{"a":${"[".repeat(50_000)}${"]".repeat(50_000)}}`, status: [400] },
        { raw: JSON.stringify({ pad: "x".repeat(300 * 1024) }), status: [413], match: /too large/ },
        { raw: `\ufeff${valid}`, status: [200, 400] },
        { raw: valid.replace('"TX"', '"T\\u0000"'), status: [400] },
        { raw: valid.replace('"TX"', '"\\ud800"'), status: [400] },
        { raw: valid.replace("2026-03-01", "9".repeat(400)), status: [400] },
        { raw: valid.replace("}", ', "member": 1}'), status: [400] },
        { raw: "null", status: [400] },
        { raw: "1e999999", status: [400] },
        { raw: '"just a string"', status: [400] },
        { raw: valid, status: [415], ct: "text/plain" },
        { raw: valid, status: [415], ct: "application/x-www-form-urlencoded" },
        // FHIR clients send parameters with the media type (HAPI: charset; R4: fhirVersion).
        { raw: valid, status: [200], ct: "application/fhir+json; charset=UTF-8" },
        { raw: valid, status: [200], ct: "application/fhir+json;fhirVersion=4.0" },
        { raw: valid, status: [200], ct: "application/json; charset=utf-8" },
        { raw: valid, status: [415], ct: "application/fhir+xml; charset=UTF-8" },
        { raw: valid, status: [415], ct: `application/${"+".repeat(4000)}x` },
        { raw: valid.slice(0, valid.length / 2), status: [400], match: /not valid JSON/ },
        { raw: "", status: [400], match: /empty/ },
      ];
      for (const h of cases) {
        const r = await call(url, "POST", "/api/evaluate", {
          token: t.provider,
          raw: h.raw,
          ...(h.ct && { headers: { "content-type": h.ct } }),
        });
        if (r.status === 200) {
          assert.ok(h.status.includes(200));
          continue;
        }
        assertClearError(r, h.status);
        if (h.match) assert.match(r.body.error.message, h.match);
        // A prototype key is named as the field at fault, like any other bad field (found by the fuzz
        // test above when a member object came as {"__proto__": 0}).
        if (h.match?.source === "__proto__") assert.equal(r.body.error.where?.field, "__proto__", r.text);
      }
      // Reviewer endpoints too.
      const sub = await call(url, "POST", "/api/requests", {
        token: t.provider,
        body: loadCase("trial-nonmalignant-open-questions"),
      });
      assert.equal(sub.status, 201);
      for (const raw of [
        '{"answers":{"I.A.2.g":"yes"}}',
        '{"answers":{}}',
        '{"outcome":"maybe"}',
        "[]",
        "{",
      ]) {
        for (const action of ["answers", "decision"]) {
          const r = await call(url, "POST", `/api/requests/${sub.body.id}/${action}`, {
            token: t.reviewer,
            raw,
          });
          assertClearError(r);
        }
      }
    });

    test("the server keeps serving afterwards", { skip }, async () => {
      assert.equal((await call(url, "GET", "/api/health")).status, 200);
      const r = await call(url, "POST", "/api/evaluate", {
        token: t.provider,
        body: loadCase("trial-malignant-met"),
      });
      assert.equal(r.status, 200);
      assert.equal(r.body.outcome, "approved");
    });
  });
}
