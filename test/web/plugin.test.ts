/**
 * Issue 6 — the web plugin without a browser: static serving of the built app (content types, caching,
 * no escape from its folder, a clear page when the app is not built) and the `/api/ui/…` helpers the
 * app reads (roles, the evaluable policy with authored corrections, lint, the enriched queue).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { buildServer, DEMO_USERS } from "../../src/server/index.js";
import { webPlugin } from "../../src/web/plugin.js";

describe("web plugin", () => {
  const temp = mkdtempSync(join(tmpdir(), "medpolicy-webplugin-"));
  const web = join(temp, "web");
  let app: FastifyInstance;
  let missing: FastifyInstance;
  const tokens: Record<string, string> = {};

  before(async () => {
    mkdirSync(join(web, "assets"), { recursive: true });
    writeFileSync(join(web, "index.html"), "<!doctype html><title>t</title>");
    writeFileSync(join(web, "assets", "app-abc.js"), "export {};");
    writeFileSync(join(web, "assets", "app-abc.css"), "body{}");
    writeFileSync(join(temp, "secret.txt"), "not for the web");
    ({ app } = await buildServer({
      dataDir: join(temp, "data"),
      rateLimit: false,
      plugins: [webPlugin({ dir: web })],
    }));
    ({ app: missing } = await buildServer({
      dataDir: join(temp, "data2"),
      library: app.medpolicy.library!,
      plugins: [webPlugin({ dir: join(temp, "nothing") })],
    }));
    for (const [k, p] of Object.entries(DEMO_USERS)) tokens[k] = await app.medpolicy.auth.issue(p);
    const r = await app.inject({
      method: "POST",
      url: "/api/requests",
      headers: { authorization: `Bearer ${tokens.provider}` },
      payload: {
        member: { state: "NC", birthDate: "1961-03-02" },
        service: { codes: ["62350"], dateOfService: "2026-03-01" },
        answers: {},
      },
    });
    assert.equal(r.statusCode, 201, r.body);
  });

  after(async () => {
    await app?.close();
    await missing?.close();
    rmSync(temp, { recursive: true, force: true });
  });

  test("serves index.html and hashed assets with their content types", async () => {
    const index = await app.inject({ url: "/" });
    assert.equal(index.statusCode, 200);
    assert.match(String(index.headers["content-type"]), /^text\/html/);
    assert.equal(index.headers["cache-control"], "no-cache");
    assert.match(String(index.headers["content-security-policy"]), /default-src 'self'/);
    const js = await app.inject({ url: "/assets/app-abc.js" });
    assert.match(String(js.headers["content-type"]), /^text\/javascript/);
    assert.match(String(js.headers["cache-control"]), /immutable/);
    assert.match(
      String((await app.inject({ url: "/assets/app-abc.css" })).headers["content-type"]),
      /^text\/css/,
    );
  });

  test("never serves anything outside the app folder", async () => {
    for (const url of [
      "/assets/../secret.txt",
      "/assets/..%2f..%2fsecret.txt",
      "/assets/%2e%2e/%2e%2e/secret.txt",
    ]) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 404, url);
      assert.doesNotMatch(r.body, /not for the web/);
    }
    assert.equal((await app.inject({ url: "/assets/nope.js" })).statusCode, 404);
  });

  test("an unbuilt app answers 503 with how to build it", async () => {
    const r = await missing.inject({ url: "/" });
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /vite build --config src\/web\/vite\.config\.ts/);
  });

  test("/api/ui/requests: reviewers only; rows carry policy, member state, channel; sorted by due time", async () => {
    assert.equal((await app.inject({ url: "/api/ui/requests" })).statusCode, 401);
    const forbidden = await app.inject({
      url: "/api/ui/requests",
      headers: { authorization: `Bearer ${tokens.provider}` },
    });
    assert.equal(forbidden.statusCode, 403);
    const r = await app.inject({
      url: "/api/ui/requests",
      headers: { authorization: `Bearer ${tokens.reviewer}` },
    });
    assert.equal(r.statusCode, 200, r.body);
    const rows = r.json() as {
      policy?: { id: string };
      memberState?: string;
      channel: string;
      codes: string[];
    }[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.policy?.id, "NC.CP.MP.173");
    assert.equal(rows[0]!.memberState, "NC");
    assert.equal(rows[0]!.channel, "api");
    assert.deepEqual(rows[0]!.codes, ["62350"]);
    const bad = await app.inject({
      url: "/api/ui/requests?scope=constructor",
      headers: { authorization: `Bearer ${tokens.reviewer}` },
    });
    assert.equal(bad.statusCode, 400);
  });

  test("/api/ui/policy gives the evaluable version (NC's authored correction) and /api/ui/lint its findings", async () => {
    const auth = { authorization: `Bearer ${tokens.provider}` };
    const p = await app.inject({ url: "/api/ui/policy?ref=NC.CP.MP.173@2026-01", headers: auth });
    assert.equal(p.statusCode, 200, p.body);
    const body = p.json() as {
      ref: string;
      policy: { sections: { id: string; tree?: { kind: string } }[] };
      evaluated?: { sections: { id: string; tree?: { kind: string } }[] };
      predicates: unknown[];
      codes: unknown[];
    };
    assert.equal(body.ref, "NC.CP.MP.173@2026-01");
    assert.equal(body.policy.sections[0]!.tree?.kind, "any", "the document says 'either'");
    assert.equal(body.evaluated?.sections[0]?.tree?.kind, "all", "read as 'all' (SPEC 2.2)");
    assert.ok(body.codes.length > 0, "inherited code bindings");
    const l = await app.inject({ url: "/api/ui/lint?ref=NC.CP.MP.173", headers: auth });
    const codes = (l.json() as { findings: { code: string }[] }).findings.map((f) => f.code);
    assert.ok(codes.includes("variant-typo"), codes.join(", "));
    assert.equal((await app.inject({ url: "/api/ui/policy?ref=NOPE", headers: auth })).statusCode, 404);
    assert.equal((await app.inject({ url: "/api/ui/policy", headers: auth })).statusCode, 400);
  });
});
