/**
 * Issue 16 items 1–4: the client registry and every refusal of a client JWT (CDS Hooks 2.0 §Trusting
 * CDS Clients; SMART Backend Services; SMART App Launch access tokens from configured issuers).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SignJWT } from "jose";
import { makeClient, serveJwks, type TestClient } from "../../test/fhir/clients.js";
import { Auth, ConfigError } from "./auth.js";
import {
  ClientRegistry,
  loadClientsFile,
  parseClients,
  parseForm,
  ReplayCache,
  smartConfiguration,
} from "./clients.js";

const AUD = "https://payer.example/cds-services/order-sign-crd";
const TOKEN_URL = "https://payer.example/auth/token";
const FHIR = "https://payer.example/fhir";
const now = () => Math.floor(Date.now() / 1000);

function refusedWith(r: { ok: boolean; reason?: string; status?: number }, re: RegExp, status = 401) {
  assert.equal(r.ok, false, "expected a refusal");
  assert.equal(r.status, status);
  assert.match(r.reason ?? "", re);
}

describe("parseClients: clear errors naming the field", () => {
  const key = { kty: "EC", crv: "P-384", x: "x", y: "y" };
  const base = { id: "ehr", kind: "cds-client", org: "northside", jwks: { keys: [key] } };
  const cases: [unknown, RegExp][] = [
    [{ ...base, jwks: undefined }, /clients\[0\]\.jwks: give the client's public keys/],
    [
      { ...base, jwks: { keys: [{ ...key, d: "secret" }] } },
      /clients\[0\]\.jwks\.keys\[0\]: is a private key/,
    ],
    [
      { ...base, jwks: { keys: [{ kty: "oct", k: "abc" }] } },
      /clients\[0\]\.jwks\.keys\[0\]\.kty: kty must be/,
    ],
    [
      { ...base, jwks: undefined, jwksUrl: "https://a.example/jwks", jku: ["https://b.example/jwks"] },
      /clients\[0\]\.jwksUrl: must also be listed in jku/,
    ],
    [
      { ...base, jku: ["http://ehr.example/jwks"] },
      /clients\[0\]\.jku\[0\]: must be https \(http only for a loopback host\)/,
    ],
    [{ ...base, jku: ["not a url"] }, /clients\[0\]\.jku\[0\]: is not an absolute URL/],
    [{ ...base, kind: "robot" }, /clients\[0\]\.kind/],
    [{ ...base, org: undefined }, /clients\[0\]\.org/],
    [{ ...base, scopes: ["system/*.rs"] }, /clients\[0\]\.scopes: CDS Hooks clients are not granted scopes/],
    [{ ...base, kind: "backend", scopes: [] }, /clients\[0\]\.scopes: list the scopes/],
    [
      { ...base, kind: "backend", scopes: ["user/*.rs"] },
      /clients\[0\]\.scopes\[0\]: Backend Services clients are granted system\/ scopes only/,
    ],
    [{ ...base, audience: "https://x" }, /clients\[0\]\.audience: only for kind smart-issuer/],
    [{ ...base, extra: 1 }, /clients\[0\]: .*extra/i],
  ];
  for (const [entry, re] of cases) {
    test(`refuses ${re.source.slice(0, 60)}`, () => {
      assert.throws(
        () => parseClients({ clients: [entry] }),
        (e: unknown) => e instanceof ConfigError && re.test(e.message),
      );
    });
  }
  test("duplicate ids and issuers; a bad top level", () => {
    assert.throws(() => parseClients([base, base]), /clients\[1\]\.id: "ehr" is registered twice/);
    assert.throws(
      () => parseClients([base, { ...base, id: "ehr2", iss: "ehr" }]),
      /clients\[1\]\.iss: another cds-client client has this issuer/,
    );
    assert.throws(() => parseClients({ client: [] }), /expected \{"clients": \[ … \]\}/);
  });
  test("a valid file loads; an unreadable or non-JSON file is a ConfigError", () => {
    const dir = mkdtempSync(join(tmpdir(), "medpolicy-clients-"));
    try {
      const file = join(dir, "clients.json");
      writeFileSync(file, JSON.stringify({ clients: [base] }));
      const [c] = loadClientsFile(file);
      assert.equal(c?.id, "ehr");
      assert.deepEqual(c?.scopes, []);
      writeFileSync(file, "{nope");
      assert.throws(() => loadClientsFile(file), /MEDPOLICY_CLIENTS: .* is not valid JSON/);
      assert.throws(
        () => loadClientsFile(join(dir, "missing.json")),
        /MEDPOLICY_CLIENTS: cannot read .*ENOENT/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("CDS Hooks JWT verification (CDS Hooks 2.0 §Trusting CDS Clients)", () => {
  let rs: TestClient;
  let es: TestClient;
  let other: TestClient;
  let reg: ClientRegistry;
  before(async () => {
    rs = await makeClient("cds-client", { alg: "RS256" });
    es = await makeClient("cds-client", { alg: "ES384" });
    other = await makeClient("cds-client", { alg: "RS256" });
    reg = new ClientRegistry(parseClients([rs.registration, es.registration]));
  });

  test("RS256 and ES384 hook JWTs are accepted, aud with or without a trailing slash", async () => {
    for (const c of [rs, es]) {
      const r = await reg.verifyHookJwt(await c.signHookJwt(AUD), AUD);
      assert.equal(r.ok, true, JSON.stringify(r));
      if (!r.ok) return;
      assert.deepEqual(r.principal, {
        sub: c.iss,
        name: "Test cds-client",
        role: "provider",
        org: "northside",
        client: c.registration.id,
      });
    }
    assert.equal((await reg.verifyHookJwt(await rs.signHookJwt(`${AUD}/`), AUD)).ok, true);
    assert.equal((await reg.verifyHookJwt(await rs.signHookJwt(AUD), `${AUD}/`)).ok, true);
    assert.equal((await reg.verifyHookJwt(await rs.signHookJwt([AUD, "https://x"] as never), AUD)).ok, true);
  });

  test("wrong alg: HS256 and none are refused before any key is looked at", async () => {
    const hs = await new SignJWT({ iss: rs.iss, aud: AUD, iat: now(), exp: now() + 60, jti: randomUUID() })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode("a-shared-secret-a-shared-secret!!"));
    refusedWith(await reg.verifyHookJwt(hs, AUD), /alg is not accepted/);
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ iss: rs.iss, aud: AUD, exp: now() + 60, iat: now(), jti: "n" })}.`;
    refusedWith(await reg.verifyHookJwt(none, AUD), /alg is not accepted/);
    refusedWith(await reg.verifyHookJwt("not.a.jwt", AUD), /not a JWT/);
  });

  test("unknown iss; a backend client's iss is not a CDS client", async () => {
    refusedWith(await reg.verifyHookJwt(await other.signHookJwt(AUD), AUD), /iss is not a registered client/);
    const be = await makeClient("backend");
    const both = new ClientRegistry(parseClients([rs.registration, be.registration]));
    refusedWith(await both.verifyHookJwt(await be.signHookJwt(AUD), AUD), /iss is not a registered client/);
  });

  test("wrong aud, expired, exp too far, iat in the future, missing jti/iat/exp", async () => {
    refusedWith(
      await reg.verifyHookJwt(await rs.signHookJwt("https://payer.example/cds-services/other"), AUD),
      /aud must be https:\/\/payer\.example\/cds-services\/order-sign-crd/,
    );
    refusedWith(
      await reg.verifyHookJwt(await rs.signHookJwt(AUD, { iat: now() - 900, exp: now() - 600 }), AUD),
      /expired/,
    );
    refusedWith(
      await reg.verifyHookJwt(await rs.signHookJwt(AUD, { exp: now() + 3600 }), AUD),
      /exp is too far in the future \(at most 300 seconds\)/,
    );
    refusedWith(
      await reg.verifyHookJwt(await rs.signHookJwt(AUD, { iat: now() + 600 }), AUD),
      /iat is in the future/,
    );
    const base = { iss: rs.iss, aud: AUD, iat: now(), exp: now() + 120, jti: randomUUID() };
    const { jti: _j, ...noJti } = base;
    refusedWith(await reg.verifyHookJwt(await rs.sign(noJti), AUD), /no jti/);
    const { iat: _i, ...noIat } = base;
    refusedWith(await reg.verifyHookJwt(await rs.sign(noIat), AUD), /no iat/);
    const { exp: _e, ...noExp } = base;
    refusedWith(await reg.verifyHookJwt(await rs.sign(noExp), AUD), /no exp/);
    refusedWith(await reg.verifyHookJwt(await rs.sign({ ...base, jti: "" }), AUD), /jti must be a string/);
  });

  test("a replayed jti is refused; the first use is accepted", async () => {
    const jwt = await rs.signHookJwt(AUD);
    assert.equal((await reg.verifyHookJwt(jwt, AUD)).ok, true);
    refusedWith(await reg.verifyHookJwt(jwt, AUD), /already used \(replay\)/);
    // The same jti from another client is that client's own.
    const jti = randomUUID();
    assert.equal((await reg.verifyHookJwt(await rs.signHookJwt(AUD, { jti }), AUD)).ok, true);
    assert.equal((await reg.verifyHookJwt(await es.signHookJwt(AUD, { jti }), AUD)).ok, true);
  });

  test("bad signature: signed by another key under the registered client's iss and kid", async () => {
    const jwt = await other.sign(
      { iss: rs.iss, aud: AUD, iat: now(), exp: now() + 60, jti: randomUUID() },
      { kid: rs.publicJwk.kid as string },
    );
    refusedWith(await reg.verifyHookJwt(jwt, AUD), /signature does not verify with the client's keys/);
    const tampered = (await rs.signHookJwt(AUD)).split(".");
    tampered[2] = `${tampered[2]!.slice(0, -4)}AAAA`;
    refusedWith(await reg.verifyHookJwt(tampered.join("."), AUD), /signature does not verify|malformed/);
  });

  test("jku: allow-listed URL is fetched; one not on the list is ignored (registered keys used)", async () => {
    const jwks = await serveJwks();
    const rogue = await serveJwks();
    try {
      const viaJku = await makeClient("cds-client", { alg: "ES384", jku: [jwks.url] });
      jwks.keys = [viaJku.publicJwk];
      // Inline keys are another pair: the allow-listed jku's key set is what verifies.
      const inlineOther = await makeClient("cds-client");
      const registration = { ...viaJku.registration, jwks: inlineOther.registration.jwks };
      const r = new ClientRegistry(parseClients([registration]));
      const ok = await r.verifyHookJwt(
        await viaJku.sign(
          { iss: viaJku.iss, aud: AUD, iat: now(), exp: now() + 60, jti: randomUUID() },
          { jku: jwks.url },
        ),
        AUD,
      );
      assert.equal(ok.ok, true, JSON.stringify(ok));
      assert.equal(jwks.hits(), 1);
      // An attacker's key set named by jku is never fetched.
      rogue.keys = [viaJku.publicJwk];
      const bad = await r.verifyHookJwt(
        await viaJku.sign(
          { iss: viaJku.iss, aud: AUD, iat: now(), exp: now() + 60, jti: randomUUID() },
          { jku: rogue.url },
        ),
        AUD,
      );
      refusedWith(bad, /jku is not on the client's allow-list, so the registered keys were used/);
      assert.equal(rogue.hits(), 0);
      // A client registered by jku alone: a jku off the list leaves no keys.
      const jkuOnly = { ...viaJku.registration, id: "jku-only", iss: "https://jku-only.example" };
      delete (jkuOnly as { jwks?: unknown }).jwks;
      const r2 = new ClientRegistry(parseClients([jkuOnly]));
      const off = await r2.verifyHookJwt(
        await viaJku.sign(
          { iss: jkuOnly.iss, aud: AUD, iat: now(), exp: now() + 60, jti: randomUUID() },
          { jku: rogue.url },
        ),
        AUD,
      );
      refusedWith(off, /jku is not on the client's allow-list, and no other keys are registered/);
      assert.equal(rogue.hits(), 0);
    } finally {
      await jwks.close();
      await rogue.close();
    }
  });

  test("jwksUrl: keys fetched from the registered (loopback, listed) URL", async () => {
    const jwks = await serveJwks();
    try {
      const c = await makeClient("cds-client", { alg: "RS384", jwksUrl: jwks.url });
      jwks.keys = [c.publicJwk];
      const r = new ClientRegistry(parseClients([c.registration]));
      assert.equal((await r.verifyHookJwt(await c.signHookJwt(AUD), AUD)).ok, true);
      assert.equal((await r.verifyHookJwt(await c.signHookJwt(AUD), AUD)).ok, true);
      assert.equal(jwks.hits(), 1, "the key set is cached");
    } finally {
      await jwks.close();
    }
  });
});

describe("SMART Backend Services token request", () => {
  let be: TestClient;
  let reg: ClientRegistry;
  const auth = new Auth(new TextEncoder().encode("unit-test-secret-0123456789abcdef-xyz"));
  before(async () => {
    be = await makeClient("backend", {
      alg: "ES384",
      scopes: ["system/Claim.crs", "system/ClaimResponse.r"],
    });
    reg = new ClientRegistry(parseClients([be.registration]));
  });
  const form = async (over: Record<string, string> = {}, assertion?: string) => ({
    grant_type: "client_credentials",
    scope: "system/Claim.c system/ClaimResponse.r",
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: assertion ?? (await be.signAssertion(TOKEN_URL)),
    ...over,
  });

  test("grants registered ∩ requested and issues a token carrying scope and client", async () => {
    const r = await reg.token(
      await form({ scope: "system/*.rs system/Patient.r system/Claim.c" }),
      TOKEN_URL,
      auth,
    );
    assert.equal(r.ok, true, JSON.stringify(r));
    if (!r.ok) return;
    assert.equal(r.body.token_type, "Bearer");
    assert.equal(r.body.expires_in, 300);
    assert.equal(r.body.scope, "system/Claim.rs system/ClaimResponse.r system/Claim.c");
    const p = await auth.verify(r.body.access_token);
    assert.deepEqual(p, {
      sub: be.iss,
      name: "Test backend",
      role: "provider",
      org: "northside",
      scope: "system/Claim.rs system/ClaimResponse.r system/Claim.c",
      client: be.registration.id,
    });
  });

  test("scopes are bounded: too many or too long an ask is invalid_scope, before the assertion is spent (never a 500)", async () => {
    const wide = await makeClient("backend", { scopes: ["system/*.rs"] });
    const r2 = new ClientRegistry(parseClients([wide.registration]));
    const assertion = await wide.signAssertion(TOKEN_URL);
    const ask = (scope: string) =>
      r2.token(
        {
          grant_type: "client_credentials",
          scope,
          client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
          client_assertion: assertion,
        },
        TOKEN_URL,
        auth,
      );
    const tooMany = Array.from({ length: 101 }, () => "system/Claim.rs").join(" ");
    const tooLong = `system/Observation.rs?code=${"x".repeat(4000)}`;
    for (const scope of [tooMany, tooLong]) {
      const r = await ask(scope);
      assert.equal(r.ok, false, scope.slice(0, 40));
      if (!r.ok) assert.deepEqual([r.status, r.error], [400, "invalid_scope"]);
    }
    // The assertion was not spent by the refusals.
    const fine = await ask("system/Claim.rs system/Coverage.rs");
    assert.equal(fine.ok, true, JSON.stringify(fine));
  });

  test("RFC 6749 §5.2 errors", async () => {
    const expect = async (f: Record<string, string>, error: string, status: number, re: RegExp) => {
      const r = await reg.token(f, TOKEN_URL, auth);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error, error);
      assert.equal(r.status, status);
      assert.match(r.description, re);
    };
    await expect(
      await form({ grant_type: "authorization_code" }),
      "unsupported_grant_type",
      400,
      /client_credentials/,
    );
    await expect(await form({ client_assertion_type: "basic" }), "invalid_client", 401, /private_key_jwt/);
    await expect(
      await form({ scope: "system/Patient.rs" }),
      "invalid_scope",
      400,
      /none of the requested scopes/,
    );
    await expect(await form({ scope: "user/Claim.c" }), "invalid_scope", 400, /none of the requested scopes/);
    await expect(await form({ scope: "" }), "invalid_scope", 400, /scope is required/);
    await expect(
      await form({}, await be.signAssertion("https://elsewhere/token")),
      "invalid_client",
      401,
      /aud must be/,
    );
    await expect(
      await form({}, await be.signAssertion(TOKEN_URL, { sub: "someone" })),
      "invalid_client",
      401,
      /sub must equal its iss/,
    );
    await expect(
      await form({}, await be.signAssertion(TOKEN_URL, { exp: now() + 3600 })),
      "invalid_client",
      401,
      /too far/,
    );
    await expect(await form({ client_id: "other" }), "invalid_client", 401, /client_id does not match/);
    const once = await be.signAssertion(TOKEN_URL);
    assert.equal((await reg.token(await form({}, once), TOKEN_URL, auth)).ok, true);
    await expect(await form({}, once), "invalid_client", 401, /replay/);
    const stranger = await makeClient("backend");
    await expect(
      await form({}, await stranger.signAssertion(TOKEN_URL)),
      "invalid_client",
      401,
      /not a registered client/,
    );
    // A CDS client's JWT is not a backend client's assertion.
    const cds = await makeClient("cds-client");
    const both = new ClientRegistry(parseClients([be.registration, cds.registration]));
    const r = await both.token(
      await form(
        {},
        await cds.sign({ iss: cds.iss, sub: cds.iss, aud: TOKEN_URL, exp: now() + 60, jti: "j" }),
      ),
      TOKEN_URL,
      auth,
    );
    assert.equal(r.ok ? "ok" : r.error, "invalid_client");
  });

  test("form parsing refuses repeated parameters", () => {
    assert.deepEqual({ ...(parseForm("a=1&b=2") as Record<string, string>) }, { a: "1", b: "2" });
    assert.equal(parseForm("scope=a&scope=b"), "parameter scope is repeated");
  });
});

describe("SMART App Launch access tokens from a configured issuer", () => {
  let iss: TestClient;
  let reg: ClientRegistry;
  before(async () => {
    iss = await makeClient("smart-issuer", { alg: "ES256", scopes: ["user/*.rs", "user/Claim.c", "launch"] });
    reg = new ClientRegistry(parseClients([iss.registration]));
  });
  test("verified against the issuer's keys; scopes limited to the registration's", async () => {
    const t = await iss.accessToken(FHIR, "launch user/*.rs user/Patient.w openid");
    const r = await reg.verifyAccessToken(t, FHIR);
    assert.equal(r.ok, true, JSON.stringify(r));
    if (!r.ok) return;
    assert.equal(r.principal.scope, "launch user/*.rs");
    assert.equal(r.principal.org, "northside");
    assert.equal(r.principal.sub, `${iss.registration.id}/practitioner-1`);
    assert.deepEqual(reg.cachedAccess(t), r.principal);
    const scp = await iss.accessToken(FHIR, "", { scope: undefined, scp: ["user/Claim.c"] });
    assert.equal((await reg.verifyAccessToken(scp, FHIR)).ok, true);
  });
  test("refusals: wrong aud, no granted scope, expired, unknown issuer", async () => {
    refusedWith(
      await reg.verifyAccessToken(await iss.accessToken("https://other/fhir", "user/*.rs"), FHIR),
      /aud must be https:\/\/payer\.example\/fhir/,
    );
    refusedWith(
      await reg.verifyAccessToken(await iss.accessToken(FHIR, "patient/*.rs"), FHIR),
      /no scope this server grants/,
    );
    refusedWith(
      await reg.verifyAccessToken(
        await iss.accessToken(FHIR, "user/*.rs", { iat: now() - 7200, exp: now() - 3600 }),
        FHIR,
      ),
      /expired/,
    );
    const stranger = await makeClient("smart-issuer");
    refusedWith(
      await reg.verifyAccessToken(await stranger.accessToken(FHIR, "user/*.rs"), FHIR),
      /not a registered client/,
    );
  });
});

describe("replay cache", () => {
  test("bounded: refuses when full of live entries, accepts again once they expire", () => {
    const c = new ReplayCache(2);
    assert.equal(c.check("a", 100, 0), "fresh");
    assert.equal(c.check("a", 100, 1), "replayed");
    assert.equal(c.check("b", 50, 1), "fresh");
    assert.equal(c.check("c", 100, 2), "full");
    assert.equal(c.check("d", 100, 10), "full", "no sweep before the earliest expiry");
    assert.equal(c.check("c", 200, 60), "fresh", "b expired and was swept");
    assert.equal(c.size, 2);
    assert.equal(c.check("a", 300, 150), "fresh", "an expired jti may be seen again");
  });
  test("one client fills only its own share: another client's JWTs are still accepted", () => {
    const c = new ReplayCache(10, 2);
    assert.equal(c.check("j1", 100, 0, "a"), "fresh");
    assert.equal(c.check("j2", 100, 0, "a"), "fresh");
    assert.equal(c.check("j3", 100, 0, "a"), "full", "a's share is full");
    assert.equal(c.check("j1", 100, 0, "b"), "fresh", "b is not crowded out (and the same jti is b's own)");
    assert.equal(c.check("j1", 100, 1, "a"), "replayed");
    assert.equal(c.check("j3", 200, 150, "a"), "fresh", "a's entries expired and were swept");
    assert.equal(c.size, 2);
  });
  test("the registry answers 429 when its cache is full", async () => {
    const rs = await makeClient("cds-client");
    const reg = new ClientRegistry(parseClients([rs.registration]), { replayMax: 1 });
    assert.equal((await reg.verifyHookJwt(await rs.signHookJwt(AUD), AUD)).ok, true);
    refusedWith(await reg.verifyHookJwt(await rs.signHookJwt(AUD), AUD), /retry shortly/, 429);
  });
});

describe("SMART discovery", () => {
  test("token endpoint, private_key_jwt, client_credentials, registered scopes", async () => {
    const be = await makeClient("backend", { scopes: ["system/Claim.c"] });
    const doc = smartConfiguration(
      "https://payer.example",
      new ClientRegistry(parseClients([be.registration])),
    );
    assert.equal(doc.token_endpoint, "https://payer.example/auth/token");
    assert.deepEqual(doc.token_endpoint_auth_methods_supported, ["private_key_jwt"]);
    assert.deepEqual(doc.grant_types_supported, ["client_credentials"]);
    assert.deepEqual(doc.scopes_supported, ["system/Claim.c"]);
    assert.ok((doc.capabilities as string[]).includes("client-confidential-asymmetric"));
    assert.ok((doc.capabilities as string[]).includes("permission-v2"));
  });
});

after(() => {});
