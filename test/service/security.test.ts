/**
 * Issue 13, "Demo admin tokens behind a proxy" and "Tokens": demo mode only when asked for, demo
 * tokens refused to proxied requests and short-lived; weak secrets refused in production (exit 2);
 * `exp` and `iat` required and a maximum lifetime; key sets for rotation; `medpolicy token`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import fc from "fast-check";
import { decodeJwt, SignJWT } from "jose";
import { main } from "../../src/cli/main.js";
import { issueTokenFromCli, parseTtl } from "../../src/cli/token.js";
import { canonicalJson } from "../../src/model/index.js";
import {
  Auth,
  ConfigError,
  DEMO_USERS,
  loadSecrets,
  MAX_TOKEN_TTL_SECONDS,
  secretWeakness,
} from "../../src/server/index.js";
import { storeCase, storedCase } from "../../src/store/case-codec.js";
import { call, JWT_SECRET, ROOT, startTest, tempDir } from "./helpers.js";

const enc = new TextEncoder();

/** GET with exactly these headers (fetch would not send a chosen Host). */
function rawGet(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end();
  });
}
const strong = () => randomBytes(32).toString("hex");

test("demo mode is off by default, whatever NODE_ENV", async () => {
  const saved = process.env.NODE_ENV;
  delete process.env.NODE_ENV;
  const s = await startTest("sqlite");
  try {
    assert.equal(s.server.ctx.config.demo, false);
    assert.equal((await call(s.url, "GET", "/api/demo-tokens")).status, 404);
    assert.equal((await call(s.url, "GET", "/api/health")).body.demo, false);
  } finally {
    await s.close();
    if (saved !== undefined) process.env.NODE_ENV = saved;
  }
});

test("demo tokens: refused behind a proxy or to a non-loopback Host, one hour when served", async () => {
  const s = await startTest("sqlite", { demo: true });
  try {
    const ok = await call(s.url, "GET", "/api/demo-tokens");
    assert.equal(ok.status, 200, ok.text);
    const admin = decodeJwt(ok.body.tokens.admin.token as string);
    assert.equal(Number(admin.exp) - Number(admin.iat), 3600, "demo tokens live one hour");
    const proxied: Record<string, string>[] = [
      { "x-forwarded-for": "203.0.113.9" },
      { forwarded: "for=203.0.113.9;proto=https" },
      { "x-real-ip": "203.0.113.9" },
      { "x-forwarded-host": "medpolicy.example.org" },
      { via: "1.1 nginx" },
      { host: "medpolicy.example.org" },
      { host: "10.0.0.5:3000" },
    ];
    for (const headers of proxied) {
      const r = await rawGet(s.url, "/api/demo-tokens", headers);
      assert.equal(r.status, 404, `demo tokens served with ${JSON.stringify(headers)}`);
      assert.ok(!r.text.includes("eyJ"), "no token in the refusal");
    }
    for (const host of ["localhost:3000", "127.0.0.1", "LOCALHOST"]) {
      assert.equal((await rawGet(s.url, "/api/demo-tokens", { host })).status, 200, host);
    }
  } finally {
    await s.close();
  }
});

test("a weak or missing secret refuses to start in production, saying why", () => {
  const dir = tempDir();
  try {
    const prod = (secret?: string): NodeJS.ProcessEnv => ({
      NODE_ENV: "production",
      ...(secret !== undefined && { MEDPOLICY_JWT_SECRET: secret }),
    });
    const weak = [
      "x",
      "a".repeat(64),
      "password".repeat(5),
      "passwordpasswordsecretsecret12345678",
      "0123456789abcdefghijklmnopqrstuvwxyz",
      "abcabcabcabcabcabcabcabcabcabcabcabcabc",
      "Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3",
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
    ];
    for (const s of weak) {
      assert.ok(secretWeakness(s), `accepted as strong: ${s}`);
      assert.throws(() => loadSecrets(dir.dir, prod(s)), ConfigError, s);
    }
    assert.throws(() => loadSecrets(dir.dir, prod()), /without MEDPOLICY_JWT_SECRET/);
    assert.throws(() => loadSecrets(dir.dir, prod("x")), /1 bytes long; at least 32/);
    assert.throws(
      () => loadSecrets(dir.dir, { NODE_ENV: "production", MEDPOLICY_JWT_SECRETS: `${strong()},short` }),
      /key 2 of MEDPOLICY_JWT_SECRETS/,
    );
    // Strong ones pass; outside production the secret is not judged (tests, development).
    assert.equal(loadSecrets(dir.dir, prod(strong())).keys.length, 1);
    assert.equal(loadSecrets(dir.dir, { MEDPOLICY_JWT_SECRET: "x" }).source, "env");
    assert.equal(loadSecrets(dir.dir, {}).source, "file");
  } finally {
    dir.remove();
  }
});

test("random secrets of 32+ characters are never judged weak (hex, base64, base64url)", () => {
  fc.assert(
    fc.property(fc.integer({ min: 16, max: 64 }), fc.constantFrom("hex", "base64", "base64url"), (n, e) => {
      const s = randomBytes(n).toString(e as BufferEncoding);
      return s.length < 32 || secretWeakness(s) === undefined;
    }),
    { numRuns: 2000 },
  );
});

test("src/server/main.ts exits 2 with the reason on a weak production secret", () => {
  const dir = tempDir();
  try {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", join(ROOT, "src/server/main.ts"), "--data", dir.dir],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_ENV: "production", MEDPOLICY_JWT_SECRET: "x", MEDPOLICY_JWT_SECRETS: "" },
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /refusing to start in production: MEDPOLICY_JWT_SECRET is too weak/);
    assert.ok(!r.stderr.includes('"x"'), "the secret is not echoed");
    assert.equal(r.stdout, "", "no url line: it did not listen");
  } finally {
    dir.remove();
  }
});

test("medpolicy serve exits 2 on a weak production secret", async () => {
  const saved = { NODE_ENV: process.env.NODE_ENV, MEDPOLICY_JWT_SECRET: process.env.MEDPOLICY_JWT_SECRET };
  const dir = tempDir();
  const err: string[] = [];
  const sink = { write: (s: string) => err.push(s) !== 0 } as unknown as NodeJS.WritableStream;
  try {
    process.env.NODE_ENV = "production";
    process.env.MEDPOLICY_JWT_SECRET = "short";
    const code = await main(["serve", "--port", "0", "--data", dir.dir], { out: sink, err: sink });
    assert.equal(code, 2);
    assert.match(err.join(""), /too weak to sign tokens/);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    dir.remove();
  }
});

async function sign(claims: { iat?: number; exp?: number }, secret = JWT_SECRET): Promise<string> {
  const p = DEMO_USERS.reviewer!;
  let j = new SignJWT({ name: p.name, role: p.role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(p.sub)
    .setIssuer("medpolicy");
  if (claims.iat !== undefined) j = j.setIssuedAt(claims.iat);
  if (claims.exp !== undefined) j = j.setExpirationTime(claims.exp);
  return j.sign(enc.encode(secret));
}

test("tokens: exp and iat required, lifetime at most 24 h, issuing longer refused", async () => {
  const s = await startTest("sqlite");
  const now = Math.floor(Date.now() / 1000);
  try {
    const status = async (token: string) => (await call(s.url, "GET", "/api/queue", { token })).status;
    assert.equal(await status(await sign({ iat: now, exp: now + 3600 })), 200);
    assert.equal(await status(await sign({ iat: now })), 401, "no exp");
    assert.equal(await status(await sign({ exp: now + 3600 })), 401, "no iat");
    assert.equal(await status(await sign({ iat: now, exp: now + 30 * 24 * 3600 })), 401, "30 days");
    assert.equal(await status(await sign({ iat: now, exp: now + MAX_TOKEN_TTL_SECONDS + 1 })), 401);
    assert.equal(await status(await sign({ iat: now + 3600, exp: now + 7200 })), 401, "issued in the future");
    assert.equal(await status(await sign({ iat: now - 7200, exp: now - 3600 })), 401, "expired");
    assert.equal(await status(await sign({ iat: now, exp: now + 3600 }, strong())), 401, "other secret");
    // What minted 30-day tokens is capped.
    await assert.rejects(s.server.ctx.auth.issue(DEMO_USERS.admin!, 30 * 24 * 3600), /at most 86400/);
    const minted = await call(s.url, "POST", "/api/tokens", {
      token: s.tokens.admin,
      body: { sub: "rn-x", name: "X", role: "reviewer", ttlSeconds: 30 * 24 * 3600 },
    });
    assert.equal(minted.status, 400, minted.text);
    const day = await call(s.url, "POST", "/api/tokens", {
      token: s.tokens.admin,
      body: { sub: "rn-x", name: "X", role: "reviewer", ttlSeconds: MAX_TOKEN_TTL_SECONDS },
    });
    assert.equal(day.status, 200, day.text);
    assert.equal(await status(day.body.token), 200);
  } finally {
    await s.close();
  }
});

test("a key set: the first key signs, every key verifies (rotation)", async () => {
  const [oldKey, newKey] = [strong(), strong()];
  const before = new Auth(enc.encode(oldKey));
  const during = new Auth([enc.encode(newKey), enc.encode(oldKey)]);
  const after = new Auth(enc.encode(newKey));
  const oldToken = await before.issue(DEMO_USERS.reviewer!);
  const newToken = await during.issue(DEMO_USERS.reviewer!);
  assert.equal((await during.verify(oldToken))?.sub, "rn-chen");
  assert.equal((await after.verify(newToken))?.sub, "rn-chen");
  assert.equal(await after.verify(oldToken), undefined);
  const dir = tempDir();
  try {
    const set = loadSecrets(dir.dir, { MEDPOLICY_JWT_SECRETS: `${newKey}, ${oldKey}` });
    assert.equal(set.keys.length, 2);
    assert.equal(new TextDecoder().decode(set.keys[0]), newKey);
  } finally {
    dir.remove();
  }
});

test("medpolicy token issues a token the server accepts, with the data folder's secret", async () => {
  const s = await startTest("sqlite");
  const dir = s.server.ctx.config.dataDir;
  try {
    const env = { ...process.env };
    // With MEDPOLICY_JWT_SECRET set (as here), that secret signs, as on the server.
    const r = await issueTokenFromCli({ role: "reviewer", sub: "rn-ops", ttl: "2h", dataDir: dir }, env);
    const claims = decodeJwt(r.token);
    assert.equal(Number(claims.exp) - Number(claims.iat), 7200);
    assert.equal((await call(s.url, "GET", "/api/queue", { token: r.token })).status, 200);
    await assert.rejects(issueTokenFromCli({ role: "provider", sub: "dr-x", dataDir: dir }, env), /--org/);
    await assert.rejects(
      issueTokenFromCli({ role: "reviewer", sub: "a", ttl: "48h", dataDir: dir }, env),
      /24 hours/,
    );
    await assert.rejects(issueTokenFromCli({ sub: "a", dataDir: dir }, env), /--role is required/);
    assert.equal(parseTtl("30m"), 1800);
    assert.throws(() => parseTtl(`${"9".repeat(100_000)}h`), /--ttl/);
    // Without the variable, the data folder's generated secret signs: the one a server there uses.
    const other = tempDir();
    try {
      const noEnv = { ...process.env };
      delete noEnv.MEDPOLICY_JWT_SECRET;
      delete noEnv.MEDPOLICY_JWT_SECRETS;
      const t = await issueTokenFromCli({ role: "admin", sub: "ops", dataDir: other.dir }, noEnv);
      const serverSide = new Auth(loadSecrets(other.dir, noEnv).keys);
      assert.equal((await serverSide.verify(t.token))?.role, "admin");
    } finally {
      other.remove();
    }
  } finally {
    await s.close();
  }
});

test("invalid bearer tokens are rate-limited per client: 401 for a burst, then 429 without verifying", async () => {
  // The clock stands still: the failure bucket (20 at once, then 5 a second) does not refill mid-test.
  const now = new Date();
  const s = await startTest("sqlite", { clock: () => now });
  try {
    // A valid token used once is cached: it keeps working while the address is throttled.
    const ok = await call(s.url, "GET", "/api/policies", { token: s.tokens.reviewer });
    assert.equal(ok.status, 200);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await call(s.url, "GET", "/api/policies", {
        token: `eyJhbGciOiJIUzI1NiJ9.e30.${"x".repeat(i + 10)}`,
      });
      statuses.push(r.status);
    }
    assert.deepEqual(statuses, [...Array(20).fill(401), ...Array(10).fill(429)]);
    const throttled = await call(s.url, "GET", "/api/policies", { token: "not.a.token" });
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers.get("retry-after")) >= 1);
    assert.equal((await call(s.url, "GET", "/api/policies", { token: s.tokens.reviewer })).status, 200);
  } finally {
    await s.close();
  }
});

/** The shared LA case: an adult billing A4300, off the state fee schedule (LA's variant: not-covered). */
function laAdultCase(): Record<string, unknown> {
  return JSON.parse(
    readFileSync(join(ROOT, "..", "shared", "cases", "la-adult-fee-schedule-code.json"), "utf8"),
  ).case as Record<string, unknown>;
}

test("a stored request cannot choose the policy that decides it (SPEC 1.4); trying one with evaluate can", async () => {
  const s = await startTest("sqlite");
  try {
    // An LA adult billing A4300, off the state fee schedule: LA's variant makes it not-covered; the
    // corporate policy would approve it at once (a QA pass got an automatic approval this way).
    const la = laAdultCase();
    for (const policy of ["CP.MP.173", "CP.MP.173@2024-11", "NC.CP.MP.173", "LA.CP.MP.173"]) {
      const r = await call(s.url, "POST", "/api/requests", {
        token: s.tokens.provider,
        body: { ...la, policy },
      });
      assert.equal(r.status, 400, `${policy}: ${r.text}`);
      assert.equal(r.body.error.where.field, "policy");
      assert.match(
        r.body.error.message,
        /decided by the policy in force for the member's state and date of service/,
      );
    }
    const stored = await call(s.url, "POST", "/api/requests", { token: s.tokens.provider, body: la });
    assert.equal(stored.status, 201, stored.text);
    assert.equal(stored.body.policy.id, "LA.CP.MP.173");
    assert.notEqual(stored.body.status, "approved");
    const list = await call(s.url, "GET", "/api/requests", { token: s.tokens.provider });
    assert.equal(list.status, 200);
    assert.deepEqual(
      (list.body.requests ?? list.body).map((r: { id: string }) => r.id),
      [stored.body.id],
      "the refused ones were not stored",
    );
    // Trying a version is what evaluate is for.
    const tried = await call(s.url, "POST", "/api/evaluate", {
      token: s.tokens.provider,
      body: { ...la, policy: "CP.MP.173" },
    });
    assert.equal(tried.status, 200, tried.text);
    assert.equal(tried.body.policy.id, "CP.MP.173");
  } finally {
    await s.close();
  }
});

test("a request stored before naming a policy was refused is re-decided by the policy in force, not the one it named", async () => {
  const dir = tempDir();
  const first = await startTest("sqlite", { dataDir: dir.dir });
  let id = "";
  try {
    const stored = await call(first.url, "POST", "/api/requests", {
      token: first.tokens.provider,
      body: laAdultCase(),
    });
    assert.equal(stored.status, 201, stored.text);
    id = stored.body.id;
  } finally {
    await first.close();
  }
  // What such a request looks like on disk: its case names the corporate policy, which approves.
  const db = new Database(join(dir.dir, "medpolicy.db"));
  const row = db.prepare("SELECT case_json, case_z FROM determinations WHERE request_id = ?").get(id) as {
    case_json: string;
    case_z: Uint8Array | null;
  };
  const named = storeCase(
    canonicalJson({ ...JSON.parse(storedCase(row.case_json, row.case_z)), policy: "CP.MP.173" }),
  );
  db.prepare("UPDATE determinations SET case_json = ?, case_z = ? WHERE request_id = ?").run(
    named.caseJson,
    named.caseZ,
    id,
  );
  db.close();
  const s = await startTest("sqlite", { dataDir: dir.dir });
  try {
    // Not signed on the determination the named policy made.
    const early = await call(s.url, "POST", `/api/requests/${id}/decision`, {
      token: s.tokens.reviewer,
      body: { outcome: "approved", reason: "Criteria met." },
    });
    assert.equal(early.status, 409, early.text);
    assert.match(early.body.error.message, /decided by the policy its submitter named \(CP\.MP\.173\)/);
    const answered = await call(s.url, "POST", `/api/requests/${id}/answers`, {
      token: s.tokens.reviewer,
      body: { answers: { "I.B.5": false } },
    });
    assert.equal(answered.status, 200, answered.text);
    const latest = answered.body.review.determinations.at(-1);
    assert.equal(latest.seq, 2);
    assert.equal(latest.determination.policy.id, "LA.CP.MP.173");
    assert.equal(latest.determination.outcome, "not-covered");
    assert.equal(answered.body.review.case.policy, undefined, "the named policy is not carried on");
  } finally {
    await s.close();
    dir.remove();
  }
});

test("issuing a provider token without its organisation is a 400 naming org, not a 500", async () => {
  const s = await startTest("sqlite");
  try {
    const r = await call(s.url, "POST", "/api/tokens", {
      token: s.tokens.admin,
      body: { sub: "p-9", name: "Office", role: "provider" },
    });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error.where.field, "org");
    const ok = await call(s.url, "POST", "/api/tokens", {
      token: s.tokens.admin,
      body: { sub: "p-9", name: "Office", role: "provider", org: "northside" },
    });
    assert.equal(ok.status, 200, ok.text);
  } finally {
    await s.close();
  }
});

test("answers to an authorized caller are never cached (PHI): cache-control no-store", async () => {
  const s = await startTest("sqlite");
  try {
    const la = laAdultCase();
    const stored = await call(s.url, "POST", "/api/requests", { token: s.tokens.provider, body: la });
    assert.equal(stored.status, 201, stored.text);
    for (const [method, path, token] of [
      ["GET", `/api/requests/${stored.body.id}`, s.tokens.reviewer],
      ["GET", "/api/requests", s.tokens.provider],
      ["GET", `/api/requests/${stored.body.id}`, "not-a-token"],
    ] as const) {
      const r = await fetch(`${s.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.headers.get("cache-control"), "no-store", `${method} ${path} → ${r.status}`);
    }
  } finally {
    await s.close();
  }
});
