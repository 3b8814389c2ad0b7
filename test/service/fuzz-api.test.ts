/**
 * Issue 13 acceptance: a fast-check fuzz suite over every JSON API endpoint (`/api/*`, the web app's
 * `/api/ui/*` included) with valid tokens of each role and typed-wrong values (a number for a string,
 * an object for an array…), deep nesting, long strings, duplicate keys, and unicode / NUL / zero-width
 * strings: never a 5xx, and every 4xx in the one JSON error shape (`{ error: { status, code, message } }`).
 * Bounded runs (about 30 s); `FUZZ_API_RUNS` scales them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { webPlugin } from "../../src/web/plugin.js";
import { call, loadCase, type Res, startTest, type Tokens, tempDir } from "./helpers.js";

const RUNS = Number(process.env.FUZZ_API_RUNS ?? 120);
const ROLES = ["provider", "reviewer", "medicalDirector", "admin"] as const;

/** No 5xx; a 4xx carries the JSON error shape with its own status. */
function assertHandled(r: Res, what: string): void {
  assert.ok(r.status < 500, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
  if (r.status >= 400) {
    assert.equal(r.body?.error?.status, r.status, `${what}: ${r.text.slice(0, 300)}`);
    assert.equal(typeof r.body.error.code, "string", what);
    assert.equal(typeof r.body.error.message, "string", what);
    assert.ok(r.body.error.message.length > 0, what);
  }
}

const LONG = "x".repeat(70_000);
const DEEP_ARRAY = JSON.parse(`${"[".repeat(200)}${"]".repeat(200)}`) as unknown;
let deepObject: unknown = 1;
for (let i = 0; i < 200; i++) deepObject = { a: deepObject };

/** Strings a hostile caller would send: unicode, NUL, zero-width, lone surrogates, long, injection-ish. */
const hostileString = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "TX\u0000",
    "\u200b\u200b\u200b",
    "\u200b",
    "\ufeff",
    "\u202eevil",
    "\ud800",
    "\udfff\ud800",
    "e\u0301",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "../../etc/passwd",
    "%00",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "__proto__",
    "constructor",
    "I.A.1",
    "62362",
    "2026-02-30",
    "1800-01-01",
    "9999-12-31",
    "ZZ",
    LONG,
    `${"[".repeat(5000)}`,
  ),
);

/** Any JSON value, typed wrong for most fields: numbers, booleans, null, arrays, objects, deep ones. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1e308, -0, 2 ** 53, 1.5),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, fc.oneof(hostileString, fc.integer(), fc.boolean()), { maxKeys: 3 }),
  fc.constantFrom(DEEP_ARRAY, deepObject, [], {}, [[]], { "": null }),
);

/** The paths of every value in `v` (objects and arrays included). */
function pathsOf(v: unknown, path: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(path);
  if (Array.isArray(v)) v.forEach((x, i) => void pathsOf(x, [...path, i], out));
  else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) pathsOf(x, [...path, k], out);
  }
  return out;
}

function replaced(body: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let o = copy;
  for (const p of path.slice(0, -1)) o = o[p] as Record<string | number, unknown>;
  o[path.at(-1)!] = value;
  return copy;
}

/** Text-level mutations JSON.stringify cannot make: a repeated key, nesting around the body, raw NUL. */
const textMutation = fc.oneof(
  fc.constant((t: string) => t.replace(/^\{"([^"]+)":/, '{"$1":1,"$1":')),
  fc.constant((t: string) => t.replace(/"([^"]+)":/, '"$1":null,"$1":')),
  fc.constant((t: string) => `${"[".repeat(10_000)}${t}${"]".repeat(10_000)}`),
  fc.constant((t: string) => `{"x":${'{"a":'.repeat(3000)}1${"}".repeat(3000)},${t.slice(1)}`),
  fc.constant((t: string) => t.replace(/"([^"]*)"/, '"$1\\u0000"')),
  fc.constant((t: string) => t.replace(/"([^"]*)"/, '"\\ud800$1"')),
  fc.constant((t: string) => t.replace(/"([^"]*)"/, '"\\u200b\\u200b"')),
  fc.constant((t: string) => `${t.slice(0, -1)},"${"k".repeat(100_000)}":1}`),
  fc.constant((t: string) => t.slice(0, Math.floor(t.length / 2))),
);

describe("fuzz: every JSON API endpoint, every role, hostile input", () => {
  let s: { url: string; tokens: Tokens; close(): Promise<void> };
  const web = tempDir();
  const ids: string[] = [];
  before(async () => {
    s = await startTest("sqlite", {
      rateLimit: false,
      plugins: [webPlugin({ dir: join(web.dir, "no-assets") })],
    });
    for (const name of ["trial-nonmalignant-open-questions", "trial-nonmalignant-not-weaned"]) {
      const r = await call(s.url, "POST", "/api/requests", {
        token: s.tokens.provider,
        body: loadCase(name),
      });
      assert.equal(r.status, 201, r.text);
      ids.push(r.body.id);
    }
  });
  after(async () => {
    await s.close();
    web.remove();
  });

  const bodies = (id: string): [string, unknown][] => [
    ["/api/evaluate", loadCase("trial-nonmalignant-not-weaned")],
    ["/api/requests", loadCase("trial-malignant-met")],
    ["/api/requests", { case: loadCase("trial-malignant-met"), idempotencyKey: "k-1" }],
    [`/api/requests/${id}/answers`, { answers: { "I.A.2.g": true }, facts: { lifeExpectancyMonths: 14 } }],
    [
      `/api/requests/${id}/decision`,
      { outcome: "denied", reason: "Opioids were not weaned.", criteria: ["I.A.2.g"], version: 1 },
    ],
    [`/api/requests/${id}/reproduce`, {}],
    // Issue 14: the review work.
    [
      `/api/requests/${id}/letter-preview`,
      {
        outcome: "denied",
        reason: "Opioids were not weaned.",
        criteria: ["I.A.2.g"],
        letterSha256: "0".repeat(64),
      },
    ],
    [
      `/api/requests/${id}/recommendation`,
      { outcome: "denied", reason: "Not weaned.", criteria: ["I.A.2.g"] },
    ],
    [
      `/api/requests/${id}/information-request`,
      { message: "Send the weaning record.", criteria: ["I.A.2.g"] },
    ],
    [`/api/requests/${id}/notes`, { kind: "evidence", criterion: "I.A.2.g", text: "Chart p. 3" }],
    [`/api/requests/${id}/assign`, { assignee: { sub: "rn-chen", name: "Casey Chen, RN" } }],
    [
      `/api/requests/${id}/attachments`,
      { title: "Chart", contentType: "application/pdf", data: "JVBERi0xLjQK" },
    ],
    ["/api/tokens", { sub: "u1", name: "A Reviewer", role: "reviewer", org: "o1", ttlSeconds: 3600 }],
  ];

  test("POST bodies with one value replaced by a hostile or wrongly typed one", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.nat(),
        fc.constantFrom(...ROLES),
        hostileValue,
        async (which, where, role, value) => {
          const all = bodies(ids[which % ids.length]!);
          const [path, body] = all[which % all.length]!;
          const paths = pathsOf(body);
          const at = paths[where % paths.length]!;
          const r = await call(s.url, "POST", path, {
            token: s.tokens[role],
            body: replaced(body, at, value),
          });
          assertHandled(r, `${role} POST ${path} ${JSON.stringify(at)}`);
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  test("POST bodies mutated as text: duplicate keys, deep nesting, NUL, lone surrogates, long keys", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.constantFrom(...ROLES), textMutation, async (which, role, mutate) => {
        const all = bodies(ids[which % ids.length]!);
        const [path, body] = all[which % all.length]!;
        const raw = mutate(JSON.stringify(body));
        const r = await call(s.url, "POST", path, { token: s.tokens[role], raw });
        assertHandled(r, `${role} POST ${path} ${raw.slice(0, 80)}`);
        // A repeated key or deep nesting is refused outright.
        if (/^\{"([^"]+)":1,"\1":/.test(raw) || raw.startsWith("[[[")) assert.equal(r.status, 400, r.text);
      }),
      { numRuns: RUNS },
    );
  });

  test("GET and POST routes with hostile path ids, query strings and headers", async () => {
    const routes: ((x: string, id: string) => [string, string])[] = [
      (x) => ["GET", `/api/requests/${x}`],
      (x) => ["GET", `/api/requests/${x}/letter`],
      (x) => ["POST", `/api/requests/${x}/reproduce`],
      (x) => ["POST", `/api/requests/${x}/answers`],
      (x) => ["POST", `/api/requests/${x}/decision`],
      (x) => ["POST", `/api/requests/${x}/letter-preview`],
      (x) => ["POST", `/api/requests/${x}/notes`],
      (x, id) => ["GET", `/api/requests/${id}/attachments/${x}`],
      (x) => ["GET", `/api/queue?q=${x}`],
      (x) => ["GET", `/api/queue?assignee=${x}`],
      () => ["GET", "/api/facts"],
      (x) => ["GET", `/api/requests?status=${x}`],
      (x) => ["GET", `/api/policies/${x}`],
      (x) => ["GET", `/api/policies/CP.MP.173?version=${x}`],
      (x) => ["GET", `/api/diff?a=${x}&b=CP.MP.173`],
      (x) => ["GET", `/api/diff?a=CP.MP.173@2025-11&b=${x}`],
      () => ["GET", "/api/queue"],
      () => ["GET", "/api/metrics"],
      () => ["GET", "/api/policies"],
      () => ["GET", "/api/demo-tokens"],
      () => ["GET", "/api/health"],
      (x) => ["GET", `/api/ui/requests?scope=${x}`],
      (x, id) => ["GET", `/api/ui/requests/${x.length % 2 ? id : x}/origin`],
      (x) => ["GET", `/api/ui/policy?ref=${x}`],
      (x) => ["GET", `/api/ui/lint?ref=${x}`],
      (x) => ["GET", `/api/${x}`],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.constantFrom(...ROLES),
        // Long enough to matter, short enough for Node's 16 KB header limit (beyond it Node itself
        // answers 431 before the app sees the request).
        hostileString.filter((x) => x.length <= 1000),
        fc.option(fc.stringMatching(/^[\x21-\x7e]{0,40}$/)),
        async (which, role, x, key) => {
          let encoded = "bad";
          try {
            encoded = encodeURIComponent(x);
          } catch {
            // A lone surrogate cannot be percent-encoded: the route gets a plain value.
          }
          const [method, path] = routes[which % routes.length]!(encoded, ids[0]!);
          const headers: Record<string, string> = key !== null ? { "idempotency-key": key } : {};
          const r = await call(s.url, method, path, {
            token: s.tokens[role],
            headers,
            ...(method === "POST" && { body: { answers: { [x]: x } } }),
          });
          assertHandled(r, `${role} ${method} ${path.slice(0, 80)}`);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  test("bodies that are not objects, and Idempotency-Key headers, on submit", async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileValue,
        fc.constantFrom(...ROLES),
        fc.option(fc.string({ maxLength: 300 }).filter((k) => /^[\x20-\x7e]*$/.test(k))),
        async (value, role, key) => {
          const r = await call(s.url, "POST", "/api/requests", {
            token: s.tokens[role],
            body: value,
            ...(key !== null && { headers: { "idempotency-key": key } }),
          });
          assertHandled(r, `${role} submit ${JSON.stringify(value)?.slice(0, 80)}`);
          assert.notEqual(r.status, 201, r.text.slice(0, 200));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
