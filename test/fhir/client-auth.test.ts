/**
 * Issue 16 (first bullet of Build): external clients through the real server — CDS Hooks clients
 * signing hook JWTs (RS256 inline keys, ES384 keys from a loopback JWKS server), a SMART Backend
 * Services client getting a token at /auth/token and submitting a PAS bundle, a SMART App Launch
 * issuer's access token, discovery, and the 401/403 OperationOutcomes.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ConfigError, startServer } from "../../src/server/index.js";
import { makeClient, serveJwks, type TestClient } from "./clients.js";
import { checkOperationOutcome } from "./conformance.js";
import { hookRequest, order, pasBundle } from "./fixtures.js";
import {
  call,
  library,
  type Res,
  SHARED_FHIR,
  sharedAvailable,
  startFhirServer,
  type TestServer,
} from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;

const HOOK = "/cds-services/order-sign-crd";

/** A 401 or 403 under /fhir or /cds-services: an OperationOutcome with the right code and challenge. */
function assertRefused(r: Res, status: 401 | 403, text?: RegExp, fhirJson = true): void {
  assert.equal(r.status, status, r.text);
  const body = r.body as J;
  assert.deepEqual(checkOperationOutcome(body), []);
  assert.equal(body.issue[0].code, status === 401 ? "login" : "forbidden");
  if (text) assert.match(body.issue[0].details.text, text);
  assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer /);
  if (fhirJson) assert.match(r.headers.get("content-type") ?? "", /^application\/fhir\+json/);
}

describe("external clients through the real server (issue 16)", () => {
  let s: TestServer;
  let jwks: Awaited<ReturnType<typeof serveJwks>>;
  let cdsRs: TestClient;
  let cdsEs: TestClient;
  let backend: TestClient;
  let readOnly: TestClient;
  let issuer: TestClient;
  const hook = (jwt: string | undefined, body: unknown = hookRequest("order-sign", [order()])) =>
    call(s.url, "POST", HOOK, { body, ...(jwt !== undefined && { token: jwt }) });

  before(async () => {
    jwks = await serveJwks();
    cdsRs = await makeClient("cds-client", { alg: "RS256" });
    cdsEs = await makeClient("cds-client", { alg: "ES384", jwksUrl: jwks.url });
    jwks.keys = [cdsEs.publicJwk];
    backend = await makeClient("backend", { alg: "ES384" });
    readOnly = await makeClient("backend", { alg: "RS384", scopes: ["system/Claim.rs"], org: "lakeside" });
    issuer = await makeClient("smart-issuer", { alg: "RS256" });
    s = await startFhirServer({}, undefined, {
      clients: [cdsRs, cdsEs, backend, readOnly, issuer].map((c) => c.registration),
    });
  });
  after(async () => {
    await s.close();
    await jwks.close();
  });

  test("CDS Hooks: RS256 (inline keys) and ES384 (loopback JWKS) hook JWTs are answered", async () => {
    for (const c of [cdsRs, cdsEs]) {
      const r = await hook(await c.signHookJwt(`${s.url}${HOOK}`));
      assert.equal(r.status, 200, `${c.alg}: ${r.text}`);
      assert.ok(Array.isArray((r.body as J).systemActions), r.text);
      assert.ok((r.body as J).systemActions.length > 0, r.text);
    }
    // Trailing slash on aud is the same endpoint.
    assert.equal((await hook(await cdsRs.signHookJwt(`${s.url}${HOOK}/`))).status, 200);
    assert.equal(jwks.hits(), 1);
  });

  test("CDS Hooks refusals: replay, wrong aud, expired, unknown client, garbage → 401 OperationOutcome", async () => {
    const jwt = await cdsRs.signHookJwt(`${s.url}${HOOK}`);
    assert.equal((await hook(jwt)).status, 200);
    assertRefused(await hook(jwt), 401, /jti was already used/, false);
    assertRefused(
      await hook(await cdsRs.signHookJwt(`${s.url}/cds-services/order-select-crd`)),
      401,
      new RegExp(`aud must be ${s.url.replaceAll(".", "\\.")}/cds-services/order-sign-crd`),
      false,
    );
    const t = Math.floor(Date.now() / 1000);
    assertRefused(
      await hook(await cdsRs.signHookJwt(`${s.url}${HOOK}`, { iat: t - 900, exp: t - 600 })),
      401,
      /expired/,
      false,
    );
    const stranger = await makeClient("cds-client");
    assertRefused(
      await hook(await stranger.signHookJwt(`${s.url}${HOOK}`)),
      401,
      /not a registered client/,
      false,
    );
    assertRefused(await hook("garbage"), 401, /invalid token/, false);
    assertRefused(await hook(undefined), 401, undefined, false);
    // A hook JWT is for the hook it was signed for: not a FHIR or JSON API credential.
    const fhir = await call(s.url, "POST", "/fhir/Claim/$inquire", {
      token: await cdsRs.signHookJwt(`${s.url}/fhir/Claim/$inquire`),
      body: {},
    });
    assertRefused(fhir, 401);
    const api = await call(s.url, "GET", "/api/requests", {
      token: await cdsRs.signHookJwt(`${s.url}/api/requests`),
    });
    assert.equal(api.status, 401);
    assert.equal((api.body as J).error.code, "unauthorized");
  });

  test("Backend Services: token at /auth/token, then Claim/$submit with a PAS bundle", async () => {
    const token = await backend.backendToken(s.url, "system/Claim.c system/ClaimResponse.r");
    const r = await call(s.url, "POST", "/fhir/Claim/$submit", { token, body: pasBundle("BS1", ["62362"]) });
    assert.equal(r.status, 200, r.text);
    const cr = (r.body as J).entry[0].resource;
    assert.equal(cr.resourceType, "ClaimResponse");
    // The request acts for the client's organization: its own provider token reads it back, another's does not.
    const read = await call(s.url, "GET", `/fhir/ClaimResponse/${cr.id}`, { token });
    assert.equal(read.status, 200, read.text);
    assert.equal(
      (await call(s.url, "GET", `/fhir/ClaimResponse/${cr.id}`, { token: s.tokens.provider })).status,
      200,
    );
    assert.equal(
      (await call(s.url, "GET", `/fhir/ClaimResponse/${cr.id}`, { token: s.tokens.otherProvider })).status,
      404,
    );
    // Scopes are enforced: no Subscription scope granted here; the JSON API refuses SMART tokens.
    assertRefused(
      await call(s.url, "POST", "/fhir/Subscription", { token, body: {} }),
      403,
      /Subscription\.c/,
    );
    const api = await call(s.url, "GET", "/api/requests", { token });
    assert.equal(api.status, 403);
    assert.match((api.body as J).error.message, /FHIR API \(\/fhir\) only/);
    // A CDS Hooks call is not a FHIR call.
    assertRefused(await hook(token), 403, /FHIR API/, false);
  });

  test("Backend Services: a public PAS 2.2.1 example bundle is submitted with a client token", {
    skip: !sharedAvailable,
  }, async () => {
    const body = JSON.parse(
      readFileSync(
        join(SHARED_FHIR, "pas-2.2.1", "Bundle-MedicalServicesAuthorizationBundleExample.json"),
        "utf8",
      ),
    );
    const token = await backend.backendToken(s.url, "system/Claim.c");
    const r = await call(s.url, "POST", "/fhir/Claim/$submit", { token, body });
    assert.equal(r.status, 200, r.text.slice(0, 400));
    assert.equal((r.body as J).resourceType, "Bundle");
    assert.equal((r.body as J).entry[0].resource.resourceType, "ClaimResponse");
  });

  test("scope not granted: a read-only client may $inquire but not $submit (403 forbidden)", async () => {
    const token = await readOnly.backendToken(s.url, "system/Claim.rs");
    const submit = await call(s.url, "POST", "/fhir/Claim/$submit", {
      token,
      body: pasBundle("BS2", ["62362"]),
    });
    assertRefused(submit, 403, /needs system\/Claim\.c/);
    // Percent-encoding the operation does not change which scope applies.
    const encoded = await call(s.url, "POST", "/fhir/Claim/%24submit", {
      token,
      body: pasBundle("BS2", ["62362"]),
    });
    assertRefused(encoded, 403, /needs system\/Claim\.c/);
    const inquire = await call(s.url, "POST", "/fhir/Claim/$inquire", { token, body: {} });
    assert.notEqual(inquire.status, 403, inquire.text);
    assert.notEqual(inquire.status, 401, inquire.text);
  });

  test("/auth/token errors (RFC 6749 §5.2)", async () => {
    const post = (form: Record<string, string>, type = "application/x-www-form-urlencoded") =>
      fetch(`${s.url}/auth/token`, {
        method: "POST",
        headers: { "content-type": type },
        body: type.includes("json") ? JSON.stringify(form) : new URLSearchParams(form).toString(),
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as J,
        cache: r.headers.get("cache-control"),
      }));
    const good = async () => ({
      grant_type: "client_credentials",
      scope: "system/Claim.c",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: await backend.signAssertion(`${s.url}/auth/token`),
    });
    const ok = await post(await good());
    assert.equal(ok.status, 200);
    assert.equal(ok.body.token_type, "Bearer");
    assert.equal(ok.body.scope, "system/Claim.c");
    assert.equal(ok.body.expires_in, 300);
    assert.equal(ok.cache, "no-store");
    const cases: [Record<string, string>, number, string][] = [
      [{ ...(await good()), grant_type: "password" }, 400, "unsupported_grant_type"],
      [{ ...(await good()), scope: "system/Patient.rs" }, 400, "invalid_scope"],
      [{ ...(await good()), client_assertion: "x.y.z" }, 401, "invalid_client"],
      [
        { ...(await good()), client_assertion: await backend.signAssertion(`${s.url}/token`) },
        401,
        "invalid_client",
      ],
    ];
    for (const [form, status, error] of cases) {
      const r = await post(form);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.error, error);
      assert.equal(typeof r.body.error_description, "string");
    }
    const json = await post(await good(), "application/json");
    assert.equal(json.status, 400);
    assert.equal(json.body.error, "invalid_request");
  });

  test("SMART App Launch: an issuer's access token reads FHIR within its scopes", async () => {
    const own = await call(s.url, "POST", "/fhir/Claim/$submit", {
      token: s.tokens.provider,
      body: pasBundle("AL1", ["62362"]),
    });
    assert.equal(own.status, 200, own.text);
    const id = (own.body as J).entry[0].resource.id;
    const launch = await issuer.accessToken(`${s.url}/fhir`, "launch user/*.rs");
    const read = await call(s.url, "GET", `/fhir/ClaimResponse/${id}`, { token: launch });
    assert.equal(read.status, 200, read.text);
    assert.equal((read.body as J).resourceType, "ClaimResponse");
    assertRefused(
      await call(s.url, "POST", "/fhir/Claim/$submit", { token: launch, body: pasBundle("AL2", ["62362"]) }),
      403,
      /Claim\.c/,
    );
    assertRefused(
      await call(s.url, "GET", `/fhir/ClaimResponse/${id}`, {
        token: await issuer.accessToken("https://elsewhere/fhir", "user/*.rs"),
      }),
      401,
      /aud must be/,
    );
  });

  test("discovery at /.well-known/smart-configuration and under /fhir", async () => {
    for (const path of ["/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"]) {
      const r = await call(s.url, "GET", path);
      assert.equal(r.status, 200, r.text);
      const d = r.body as J;
      assert.equal(d.token_endpoint, `${s.url}/auth/token`);
      assert.deepEqual(d.token_endpoint_auth_methods_supported, ["private_key_jwt"]);
      assert.deepEqual(d.grant_types_supported, ["client_credentials"]);
      assert.ok(d.token_endpoint_auth_signing_alg_values_supported.includes("ES384"));
      assert.ok(d.scopes_supported.includes("system/Claim.crs"));
      assert.ok(d.capabilities.includes("client-confidential-asymmetric"));
    }
  });

  test("401 under /fhir: OperationOutcome login with WWW-Authenticate, for a bad token and for none", async () => {
    assertRefused(
      await call(s.url, "POST", "/fhir/Claim/$submit", { token: "nope", body: {} }),
      401,
      /invalid/,
    );
    assertRefused(
      await call(s.url, "POST", "/fhir/Claim/$submit", { body: pasBundle("N1", ["62362"]) }),
      401,
    );
    // The JSON API keeps its error shape.
    const api = await call(s.url, "GET", "/api/requests", { token: "nope" });
    assert.equal(api.status, 401);
    assert.equal((api.body as J).error.code, "unauthorized");
  });
});

describe("the client registry at start (issue 16)", () => {
  test("MEDPOLICY_CLIENTS: an invalid registration refuses to start with a ConfigError naming the field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "medpolicy-clients-start-"));
    const file = join(dir, "clients.json");
    const before = process.env.MEDPOLICY_CLIENTS;
    try {
      const c = await makeClient("backend");
      writeFileSync(file, JSON.stringify({ clients: [{ ...c.registration, scopes: ["user/*.rs"] }] }));
      process.env.MEDPOLICY_CLIENTS = file;
      await assert.rejects(
        startServer({ port: 0, dataDir: join(dir, "data"), library: library(), quiet: true }),
        (e: unknown) =>
          e instanceof ConfigError &&
          /MEDPOLICY_CLIENTS .*clients\[0\]\.scopes\[0\]: Backend Services clients are granted system\/ scopes only/.test(
            e.message,
          ),
      );
      // A valid file is loaded from the variable.
      writeFileSync(file, JSON.stringify({ clients: [c.registration] }));
      const s = await startServer({ port: 0, dataDir: join(dir, "data"), library: library(), quiet: true });
      try {
        assert.equal(s.ctx.clients.find("backend", c.iss)?.id, c.registration.id);
      } finally {
        await s.close();
      }
    } finally {
      if (before === undefined) delete process.env.MEDPOLICY_CLIENTS;
      else process.env.MEDPOLICY_CLIENTS = before;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
