/**
 * Test helper (issue 16): external clients with real key pairs (jose `generateKeyPair`), for replaying
 * fixtures as a real EHR would send them — a CDS Hooks client signing hook JWTs, a SMART Backend
 * Services client getting access tokens at `/auth/token`, and a SMART issuer minting App Launch
 * access tokens. `makeClient(kind)` returns the registration to pass in `StartOptions.clients`:
 *
 *     const ehr = await makeClient("cds-client");
 *     const s = await startFhirServer({}, undefined, { clients: [ehr.registration] });
 *     await call(s.url, "POST", "/cds-services/order-sign-crd", {
 *       token: await ehr.signHookJwt(`${s.url}/cds-services/order-sign-crd`), body });
 *
 * Hook JWTs are one-time (`jti`): sign a new one per call. Backend clients default to `org`
 * "northside", the demo provider's organization, so the demo tokens see what they submit.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
} from "jose";
import type { ClientKind, ClientRegistration } from "../../src/server/clients.js";

export type ClientAlg = "RS256" | "RS384" | "ES256" | "ES384";

export interface TestClient {
  kind: ClientKind;
  /** The registration (`StartOptions.clients` entry): public key inline unless `jwksUrl` was given. */
  registration: ClientRegistration;
  /** `iss` it signs with (= client_id for backend clients). */
  iss: string;
  alg: ClientAlg;
  /** The public key as a JWK (with `kid`, `alg`, `use`). */
  publicJwk: JWK;
  /** Signs exactly `payload` with the client's key (header `alg`, `kid`, `typ` plus `header`). */
  sign(payload: JWTPayload, header?: Partial<JWTHeaderParameters>): Promise<string>;
  /** CDS Hooks 2.0: a hook JWT for the service endpoint `audience` (5 minutes, fresh `jti`). */
  signHookJwt(audience: string, extra?: JWTPayload): Promise<string>;
  /** SMART Backend Services: a client assertion for the token endpoint `tokenUrl`. */
  signAssertion(tokenUrl: string, extra?: JWTPayload): Promise<string>;
  /** SMART Backend Services: an access token from `${serverUrl}/auth/token` for `scope`. */
  backendToken(serverUrl: string, scope: string): Promise<string>;
  /** SMART App Launch (smart-issuer): an access token for the FHIR base `audience` with `scope`. */
  accessToken(audience: string, scope: string, extra?: JWTPayload): Promise<string>;
}

/** Scopes registered by default per kind. */
export const DEFAULT_SCOPES: Record<ClientKind, string[]> = {
  "cds-client": [],
  backend: [
    "system/Claim.crs",
    "system/ClaimResponse.rs",
    "system/Questionnaire.rs",
    "system/ValueSet.rs",
    "system/Subscription.cruds",
  ],
  "smart-issuer": ["user/*.rs", "patient/*.rs", "user/Claim.c", "launch"],
};

export interface MakeClientOptions {
  alg?: ClientAlg;
  id?: string;
  org?: string;
  scopes?: string[];
  /** Register the keys by URL (a loopback JWKS server, see {@link serveJwks}) instead of inline. */
  jwksUrl?: string;
  /** The `jku` allow-list (default `[jwksUrl]` when a URL is given). */
  jku?: string[];
}

type RegisteredJwk = NonNullable<ClientRegistration["jwks"]>["keys"][number];

const now = () => Math.floor(Date.now() / 1000);

/**
 * A client of `kind` with a fresh key pair (RS384 by default; SMART asks for RS384/ES384 support)
 * and its registration.
 */
export async function makeClient(kind: ClientKind, opts: MakeClientOptions = {}): Promise<TestClient> {
  const alg = opts.alg ?? "RS384";
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  const id = opts.id ?? `${kind}-${kid.slice(0, 8)}`;
  const iss = kind === "backend" ? id : `https://${id}.ehr.example`;
  const registration: ClientRegistration = {
    id,
    kind,
    iss,
    name: `Test ${kind}`,
    org: opts.org ?? "northside",
    scopes: opts.scopes ?? DEFAULT_SCOPES[kind],
    ...(opts.jwksUrl
      ? { jwksUrl: opts.jwksUrl, jku: opts.jku ?? [opts.jwksUrl] }
      : { jwks: { keys: [publicJwk as unknown as RegisteredJwk] } }),
    ...(!opts.jwksUrl && opts.jku && { jku: opts.jku }),
  };
  const sign = (payload: JWTPayload, header: Partial<JWTHeaderParameters> = {}) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg, kid, typ: "JWT", ...header })
      .sign(privateKey as CryptoKey);
  const client: TestClient = {
    kind,
    registration,
    iss,
    alg,
    publicJwk,
    sign,
    signHookJwt: (audience, extra = {}) =>
      sign({ iss, aud: audience, iat: now(), exp: now() + 300, jti: randomUUID(), ...extra }),
    signAssertion: (tokenUrl, extra = {}) =>
      sign({ iss, sub: iss, aud: tokenUrl, iat: now(), exp: now() + 300, jti: randomUUID(), ...extra }),
    async backendToken(serverUrl, scope) {
      const form = new URLSearchParams({
        grant_type: "client_credentials",
        scope,
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: await client.signAssertion(`${serverUrl}/auth/token`),
      });
      const res = await fetch(`${serverUrl}/auth/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form.toString(),
      });
      const body = (await res.json()) as { access_token?: string };
      if (res.status !== 200 || typeof body.access_token !== "string") {
        throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
      }
      return body.access_token;
    },
    accessToken: (audience, scope, extra = {}) =>
      sign({
        iss,
        sub: "practitioner-1",
        aud: audience,
        iat: now(),
        exp: now() + 600,
        scope,
        client_id: "dtr-app",
        ...extra,
      }),
  };
  return client;
}

/** A loopback HTTP server answering `GET /jwks.json` with `keys` (mutable: rotate by assigning). */
export async function serveJwks(
  keys: JWK[] = [],
): Promise<{ url: string; keys: JWK[]; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const state = { keys };
  const server = createServer((req, res) => {
    if (req.url !== "/jwks.json") {
      res.writeHead(404).end();
      return;
    }
    hits++;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    get keys() {
      return state.keys;
    },
    set keys(k: JWK[]) {
      state.keys = k;
    },
    hits: () => hits,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
