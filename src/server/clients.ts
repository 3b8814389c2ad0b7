/**
 * External clients (issue 16 "Every external client gets 401"): the registry of EHRs and apps this
 * payer trusts, and the verification of what they send.
 *
 * - `cds-client` — a CDS Hooks client (CDS Hooks 2.0 §Trusting CDS Clients): each hook call carries a
 *   short-lived JWT signed with the client's private key; `iss` names the client, `aud` the service
 *   endpoint, `jti` is never reused. Its public keys are registered inline (`jwks`), at a URL
 *   (`jwksUrl`), or named by the JWT's `jku` header when that URL is on the client's allow-list.
 * - `backend` — a SMART Backend Services client (SMART App Launch 2.x §Backend Services):
 *   `client_credentials` with a `private_key_jwt` assertion at `POST /auth/token`, answered with a
 *   short-lived access token (this service's own signed token, carrying `scope` and `client`).
 * - `smart-issuer` — an external SMART authorization server (an EHR's, for SMART App Launch, e.g. the
 *   DTR app): its JWT access tokens are verified against its JWKS, with `aud` this FHIR base.
 *
 * Every client acts for one provider organization (`org`): requests map to a {@link Principal} with
 * role `provider` and that `org`, so it sees only its own requests (SPEC 4).
 *
 * Replay protection keeps the `jti`s seen in memory, per process. Several instances behind a load
 * balancer each keep their own: a token replayed to another instance within its (≤ 5 minute) life is
 * not detected there. Deployments that need that guarantee route each client to one instance or share
 * the cache (see docs/clients.md).
 */
import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from "jose";
import { z } from "zod";
import { type Auth, ConfigError, type Principal } from "./auth.js";
import { grantScopes, splitScopes } from "./scopes.js";

/** Signature algorithms accepted from external clients (asymmetric only: never `none` or HS*). */
export const CLIENT_ALGS = ["RS256", "RS384", "ES256", "ES384"] as const;
const ALG_SET = new Set<string>(CLIENT_ALGS);
/** CDS Hooks 2.0 and SMART Backend Services: a client JWT lives at most 5 minutes. */
export const MAX_CLIENT_JWT_SECONDS = 300;
/** Clock skew tolerated on `exp`, `iat` and `nbf`. */
export const CLIENT_CLOCK_SKEW_SECONDS = 60;
/** Lifetime of the access tokens `POST /auth/token` issues (SMART recommends at most 5 minutes). */
export const ACCESS_TOKEN_SECONDS = 300;
/** Longest life accepted for an external issuer's access token. */
const MAX_ISSUER_TOKEN_SECONDS = 24 * 3600;
/** Longest JWT considered at all (a JWT is a few KB; anything longer is refused before decoding). */
const MAX_JWT_LENGTH = 16 * 1024;
const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export const CLIENT_KINDS = ["cds-client", "backend", "smart-issuer"] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** A key-set URL: https, or http to a loopback host (a JWKS server on this machine, e.g. in tests). */
const keySetUrl = z.string().superRefine((raw, c) => {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    c.addIssue({ code: "custom", message: "is not an absolute URL" });
    return;
  }
  if (u.username || u.password || u.hash) {
    c.addIssue({ code: "custom", message: "must not carry credentials or a fragment" });
  } else if (u.protocol === "http:" && !LOOPBACK_HOSTS.has(u.hostname)) {
    c.addIssue({ code: "custom", message: "must be https (http only for a loopback host)" });
  } else if (u.protocol !== "https:" && u.protocol !== "http:") {
    c.addIssue({ code: "custom", message: "must be an https URL" });
  }
});

const publicJwk = z
  .looseObject({
    kty: z.enum(["RSA", "EC"], { error: 'kty must be "RSA" or "EC" (RS256/RS384/ES256/ES384 keys)' }),
    kid: z.string().min(1).max(200).optional(),
    alg: z.enum(CLIENT_ALGS).optional(),
  })
  .refine((k) => !("d" in k) && !("p" in k), {
    error: "is a private key: register the public key only",
  });

const id = z.string().min(1).max(200);

/** One registered client (the `MEDPOLICY_CLIENTS` file's entries; docs/clients.md). */
export const clientRegistrationSchema = z
  .strictObject({
    /** Unique name of the registration; the SMART `client_id` of a backend client. */
    id,
    kind: z.enum(CLIENT_KINDS),
    /** The JWT `iss` the client (or issuer) signs with; default `id`. Backend clients: `iss` = `sub` = client_id. */
    iss: id.optional(),
    /** Display name (logs, audit); default `id`. */
    name: z.string().min(1).max(200).optional(),
    /** The provider organization its requests act for. */
    org: id,
    /** Inline public keys (a JWK set). */
    jwks: z.strictObject({ keys: z.array(publicJwk).min(1).max(20) }).optional(),
    /** Where its public keys are published; must also be on the `jku` allow-list. */
    jwksUrl: keySetUrl.optional(),
    /** Allow-list of key-set URLs a JWT's `jku` header may name (exact match). */
    jku: z.array(keySetUrl).max(20).optional(),
    /** Scopes it may be granted (SMART v1 or v2 syntax); empty for CDS Hooks clients. */
    scopes: z.array(z.string().min(1).max(256)).max(100).default([]),
    /** smart-issuer only: the `aud` its tokens carry; default this service's FHIR base (`<public URL>/fhir`). */
    audience: z.string().min(1).max(500).optional(),
  })
  .superRefine((c, ctx) => {
    if (!c.jwks && !c.jwksUrl && (c.jku ?? []).length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["jwks"],
        message: "give the client's public keys: jwks (inline), jwksUrl, or a jku allow-list",
      });
    }
    if (c.jwksUrl && !(c.jku ?? [c.jwksUrl]).includes(c.jwksUrl)) {
      ctx.addIssue({
        code: "custom",
        path: ["jwksUrl"],
        message: "must also be listed in jku (the client's allow-list of key-set URLs)",
      });
    }
    if (c.kind === "cds-client" && c.scopes.length > 0) {
      ctx.addIssue({ code: "custom", path: ["scopes"], message: "CDS Hooks clients are not granted scopes" });
    }
    if (c.kind !== "cds-client" && c.scopes.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["scopes"],
        message: "list the scopes this client may be granted",
      });
    }
    if (c.kind === "backend") {
      c.scopes.forEach((s, i) => {
        if (!s.startsWith("system/"))
          ctx.addIssue({
            code: "custom",
            path: ["scopes", i],
            message: "Backend Services clients are granted system/ scopes only",
          });
      });
    }
    if (c.audience !== undefined && c.kind !== "smart-issuer") {
      ctx.addIssue({ code: "custom", path: ["audience"], message: "only for kind smart-issuer" });
    }
  });

/** A registration as written in the file (defaults not yet applied). */
export type ClientRegistration = z.input<typeof clientRegistrationSchema>;
/** A validated registration. */
export type RegisteredClient = z.output<typeof clientRegistrationSchema>;
type Client = RegisteredClient;

const registryFileSchema = z.union([
  z.strictObject({ clients: z.array(z.unknown()).max(1000) }),
  z.array(z.unknown()).max(1000),
]);

function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
}

/**
 * Validates client registrations (issue 16): every problem is a {@link ConfigError} naming the field
 * (`clients[2].jwksUrl: must also be listed in jku …`), so `medpolicy serve` exits 2 with it.
 * `origin` names where they came from in the message.
 */
export function parseClients(raw: unknown, origin = "clients"): Client[] {
  const file = registryFileSchema.safeParse(raw);
  if (!file.success) {
    throw new ConfigError(`${origin}: expected {"clients": [ … ]} or an array of client registrations`);
  }
  const list = Array.isArray(file.data) ? file.data : file.data.clients;
  const out: Client[] = [];
  const problems: string[] = [];
  list.forEach((entry, i) => {
    const r = clientRegistrationSchema.safeParse(entry);
    if (!r.success) {
      for (const issue of r.error.issues.slice(0, 5)) {
        problems.push(`clients[${i}]${fieldPath(issue.path)}: ${issue.message}`);
      }
      return;
    }
    out.push(r.data);
  });
  const ids = new Set<string>();
  const issuers = new Set<string>();
  out.forEach((c, i) => {
    if (ids.has(c.id)) problems.push(`clients[${i}].id: "${c.id}" is registered twice`);
    ids.add(c.id);
    const key = `${c.kind}\u0000${c.iss ?? c.id}`;
    if (issuers.has(key)) problems.push(`clients[${i}].iss: another ${c.kind} client has this issuer`);
    issuers.add(key);
  });
  if (problems.length > 0) {
    throw new ConfigError(`${origin}: invalid client registration: ${problems.slice(0, 10).join("; ")}`);
  }
  return out;
}

/** Reads and validates the registry file named by `MEDPOLICY_CLIENTS` (issue 16). */
export function loadClientsFile(path: string): Client[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(
      `MEDPOLICY_CLIENTS: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`MEDPOLICY_CLIENTS: ${path} is not valid JSON (${(err as Error).message})`);
  }
  return parseClients(json, `MEDPOLICY_CLIENTS (${path})`);
}

/**
 * Remembers the `jti`s of accepted client JWTs until they expire (CDS Hooks 2.0, SMART Backend
 * Services: a `jti` is never accepted twice). Bounded twice, failing closed: at `max` live entries in
 * all, and at `perOwner` for one client — so one client sending many valid JWTs fills only its own
 * share, never everyone's (review of issue 16). Expired entries are swept when a bound is reached; a
 * sweep that frees nothing is not repeated before the earliest entry expires (no scan per request).
 * Per process: with several instances a `jti` could be used once on each (README, docs/clients.md).
 */
export class ReplayCache {
  private readonly owners = new Map<string, { seen: Map<string, number>; nextSweep: number }>();
  private total = 0;
  private nextGlobalSweep = 0;
  constructor(
    private readonly max = 100_000,
    private readonly perOwner = max,
  ) {}

  /** Records `key` of `owner` until `exp` (seconds); "replayed" when it is live, "full" at a bound. */
  check(key: string, exp: number, now: number, owner = ""): "fresh" | "replayed" | "full" {
    let o = this.owners.get(owner);
    if (!o) {
      o = { seen: new Map(), nextSweep: 0 };
      this.owners.set(owner, o);
    }
    const until = o.seen.get(key);
    if (until !== undefined && until > now) return "replayed";
    if (until === undefined) {
      if (o.seen.size >= this.perOwner && (now < o.nextSweep || !this.sweep(o, now, this.perOwner)))
        return "full";
      if (this.total >= this.max) {
        if (now < this.nextGlobalSweep) return "full";
        let earliest = Number.POSITIVE_INFINITY;
        for (const x of this.owners.values()) {
          this.sweep(x, now, 0);
          earliest = Math.min(earliest, x.nextSweep);
        }
        if (this.total >= this.max) {
          this.nextGlobalSweep = earliest;
          return "full";
        }
      }
      this.total++;
    }
    o.seen.set(key, exp);
    return "fresh";
  }

  /** Drops `o`'s expired entries; whether it is then below `bound` (its earliest expiry noted). */
  private sweep(o: { seen: Map<string, number>; nextSweep: number }, now: number, bound: number): boolean {
    let earliest = Number.POSITIVE_INFINITY;
    for (const [k, t] of o.seen) {
      if (t <= now) {
        o.seen.delete(k);
        this.total--;
      } else if (t < earliest) earliest = t;
    }
    o.nextSweep = earliest;
    return o.seen.size < bound || bound === 0;
  }

  get size(): number {
    return this.total;
  }
}

/** Why a client JWT was refused (never the token, never claim values the client chose). */
export interface Refusal {
  ok: false;
  /** 401 (bad credentials) or 429 (the replay cache is full: retry shortly). */
  status: 401 | 429;
  reason: string;
}
export type Verified<T> = ({ ok: true } & T) | Refusal;

const refuse = (reason: string, status: 401 | 429 = 401): Refusal => ({ ok: false, status, reason });

/** Options of {@link ClientRegistry}. */
export interface RegistryOptions {
  /** Seconds since the epoch; default the system clock. */
  now?: () => number;
  /** Bound of the replay cache (default 100,000 live `jti`s). */
  replayMax?: number;
  /** Remote key-set fetch timeout in ms (default 5000). */
  fetchTimeoutMs?: number;
  /**
   * The shared record of used `jti`s (the store's `useNonce`): false when another instance on the
   * same database accepted it first. Without it, each process remembers its own (ReplayCache).
   */
  nonces?: (client: string, jti: string, expires: number, now: number) => Promise<boolean>;
}

/** What {@link ClientRegistry.verifyClientJwt} checks beyond the signature. */
interface JwtRules {
  kinds: readonly ClientKind[];
  audiences: string[];
  /** Longest `exp − now` accepted. */
  maxSeconds: number;
  /** `jti` required and checked for replay; `iat` required. */
  oneTime: boolean;
  /** `sub` must equal `iss` (SMART client assertions). */
  subIsIss: boolean;
}

/** Registered external clients and the verification of their JWTs (issue 16). */
export class ClientRegistry {
  private readonly byIssuer = new Map<string, Client>();
  private readonly local = new Map<string, JWTVerifyGetKey>();
  private readonly remote = new Map<string, JWTVerifyGetKey>();
  private readonly replay: ReplayCache;
  private readonly now: () => number;
  private readonly fetchTimeoutMs: number;
  private readonly nonces: RegistryOptions["nonces"];
  /** Verified external access tokens (smart-issuer), until they expire: bearer tokens are reused. */
  private readonly accessCache = new Map<string, { p: Principal; exp: number }>();

  constructor(
    readonly clients: readonly Client[] = [],
    opts: RegistryOptions = {},
  ) {
    this.now = opts.now ?? (() => Date.now() / 1000);
    // One client may hold a tenth of the cache (at least one entry): it cannot crowd out the others.
    const max = opts.replayMax ?? 100_000;
    this.replay = new ReplayCache(max, Math.max(1, Math.floor(max / 10)));
    this.fetchTimeoutMs = opts.fetchTimeoutMs ?? 5000;
    this.nonces = opts.nonces;
    for (const c of clients) {
      this.byIssuer.set(`${c.kind}\u0000${c.iss ?? c.id}`, c);
      if (c.jwks) this.local.set(c.id, createLocalJWKSet(c.jwks as JSONWebKeySet));
    }
  }

  /** Whether any client is registered (when none, external tokens are not even decoded). */
  get empty(): boolean {
    return this.clients.length === 0;
  }

  /** The registered client of `kind` signing as `iss`. */
  find(kind: ClientKind, iss: string): Client | undefined {
    return this.byIssuer.get(`${kind}\u0000${iss}`);
  }

  private remoteSet(url: string): JWTVerifyGetKey {
    let set = this.remote.get(url);
    if (!set) {
      // jose fetches with redirects refused, caches the set, and refetches (after a cooldown) when a
      // `kid` is not in it: key rotation at the client needs no restart here.
      set = createRemoteJWKSet(new URL(url), {
        timeoutDuration: this.fetchTimeoutMs,
        cooldownDuration: 30_000,
        cacheMaxAge: 10 * 60_000,
      });
      this.remote.set(url, set);
    }
    return set;
  }

  /**
   * The keys to verify a client's JWT with: the `jku` header's set when that URL is on the client's
   * allow-list (CDS Hooks 2.0: a `jku` not on it is ignored), else the registered keys.
   */
  private keysFor(c: Client, jku: string | undefined): { keys?: JWTVerifyGetKey; jkuIgnored: boolean } {
    const allowed = c.jku ?? (c.jwksUrl ? [c.jwksUrl] : []);
    if (jku !== undefined && allowed.includes(jku)) return { keys: this.remoteSet(jku), jkuIgnored: false };
    const jkuIgnored = jku !== undefined;
    const inline = this.local.get(c.id);
    if (inline) return { keys: inline, jkuIgnored };
    if (c.jwksUrl) return { keys: this.remoteSet(c.jwksUrl), jkuIgnored };
    return { jkuIgnored };
  }

  /**
   * Verifies a client-signed JWT: an accepted asymmetric `alg`, a registered `iss` of one of
   * `rules.kinds`, the signature against that client's keys, `aud` one of `rules.audiences`, `exp`
   * present and at most `rules.maxSeconds` away, `iat` not in the future, and (one-time JWTs) a `jti`
   * not seen before. The replay cache is written only after everything else passed, so unsigned junk
   * cannot fill it.
   */
  async verifyClientJwt(
    token: string,
    rules: JwtRules,
  ): Promise<Verified<{ client: Client; payload: JWTPayload }>> {
    if (token.length > MAX_JWT_LENGTH) return refuse("the JWT is too long");
    let alg: unknown;
    let jku: unknown;
    let iss: unknown;
    try {
      ({ alg, jku } = decodeProtectedHeader(token));
      ({ iss } = decodeJwt(token));
    } catch {
      return refuse("the bearer token is not a JWT");
    }
    if (typeof alg !== "string" || !ALG_SET.has(alg)) {
      return refuse(`the JWT's alg is not accepted (use one of ${CLIENT_ALGS.join(", ")})`);
    }
    if (typeof iss !== "string") return refuse("the JWT has no iss");
    let client: Client | undefined;
    for (const k of rules.kinds) client ??= this.find(k, iss);
    if (!client) return refuse("the JWT's iss is not a registered client");
    if (jku !== undefined && typeof jku !== "string") return refuse("the JWT's jku header is not a URL");
    const { keys, jkuIgnored } = this.keysFor(client, jku);
    if (!keys)
      return refuse("the JWT's jku is not on the client's allow-list, and no other keys are registered");
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: [...CLIENT_ALGS],
        issuer: iss,
        audience: rules.audiences,
        requiredClaims: rules.oneTime ? ["exp", "iat", "jti"] : ["exp"],
        clockTolerance: CLIENT_CLOCK_SKEW_SECONDS,
        currentDate: new Date(this.now() * 1000),
      }));
    } catch (err) {
      return refuse(joseReason(err, rules.audiences[0]!, jkuIgnored));
    }
    const now = this.now();
    const exp = payload.exp!;
    if (exp - now > rules.maxSeconds + CLIENT_CLOCK_SKEW_SECONDS) {
      return refuse(`the JWT's exp is too far in the future (at most ${rules.maxSeconds} seconds)`);
    }
    if (typeof payload.iat === "number" && payload.iat > now + CLIENT_CLOCK_SKEW_SECONDS) {
      return refuse("the JWT's iat is in the future");
    }
    if (rules.subIsIss && payload.sub !== iss)
      return refuse("the assertion's sub must equal its iss (the client_id)");
    if (rules.oneTime) {
      const jti = payload.jti;
      if (typeof jti !== "string" || jti.length === 0 || jti.length > 256) {
        return refuse("the JWT's jti must be a string of 1 to 256 characters");
      }
      const seen = this.replay.check(jti, Math.max(exp, now) + CLIENT_CLOCK_SKEW_SECONDS, now, client.id);
      if (seen === "replayed") return refuse("the JWT's jti was already used (replay)");
      if (seen === "full") return refuse("too many recent client JWTs: retry shortly", 429);
      // Across instances on one database: the first to record it wins (review of issue 16).
      const until = Math.max(exp, now) + CLIENT_CLOCK_SKEW_SECONDS;
      if (this.nonces && !(await this.nonces(client.id, jti, until, now)))
        return refuse("the JWT's jti was already used (replay)");
    }
    return { ok: true, client, payload };
  }

  /**
   * CDS Hooks 2.0 §Trusting CDS Clients (issue 16 item 2): verifies the JWT a CDS client sends with a
   * hook call to `endpoint` (the service URL: public base URL + path; with or without a trailing
   * slash). The caller acts as a provider of the client's `org`.
   */
  async verifyHookJwt(token: string, endpoint: string): Promise<Verified<{ principal: Principal }>> {
    const r = await this.verifyClientJwt(token, {
      kinds: ["cds-client"],
      audiences: withSlash(endpoint),
      maxSeconds: MAX_CLIENT_JWT_SECONDS,
      oneTime: true,
      subIsIss: false,
    });
    if (!r.ok) return r;
    return { ok: true, principal: principalOf(r.client) };
  }

  /**
   * SMART Backend Services §Authenticating to the token endpoint (issue 16 item 3): verifies a
   * `private_key_jwt` client assertion (`iss` = `sub` = client_id, `aud` = the token endpoint, `exp`
   * at most 5 minutes away, `jti` not replayed) of a registered `backend` client.
   */
  async verifyClientAssertion(assertion: string, tokenUrl: string): Promise<Verified<{ client: Client }>> {
    const r = await this.verifyClientJwt(assertion, {
      kinds: ["backend"],
      audiences: withSlash(tokenUrl),
      maxSeconds: MAX_CLIENT_JWT_SECONDS,
      oneTime: true,
      subIsIss: true,
    });
    return r.ok ? { ok: true, client: r.client } : r;
  }

  /**
   * SMART App Launch (issue 16 item 4): verifies a JWT access token from a configured `smart-issuer`
   * (its keys, `aud` this FHIR base or the registered `audience`, `exp` required) and grants the
   * token's scopes that the registration allows (`scope` string or `scp` array). The principal acts
   * for the issuer's `org`. Verified tokens are remembered until they expire (bearer tokens are
   * reused, unlike hook JWTs).
   */
  async verifyAccessToken(token: string, fhirBase: string): Promise<Verified<{ principal: Principal }>> {
    const cached = this.cachedAccess(token);
    if (cached) return { ok: true, principal: cached };
    let iss: unknown;
    try {
      ({ iss } = decodeJwt(token));
    } catch {
      return refuse("the bearer token is not a JWT");
    }
    const issuer = typeof iss === "string" ? this.find("smart-issuer", iss) : undefined;
    const audiences = issuer?.audience ? [issuer.audience] : withSlash(fhirBase);
    const r = await this.verifyClientJwt(token, {
      kinds: ["smart-issuer"],
      audiences,
      maxSeconds: MAX_ISSUER_TOKEN_SECONDS,
      oneTime: false,
      subIsIss: false,
    });
    if (!r.ok) return r;
    const { client, payload } = r;
    const asked =
      typeof payload.scope === "string"
        ? splitScopes(payload.scope)
        : Array.isArray(payload.scp)
          ? payload.scp.filter((s): s is string => typeof s === "string")
          : [];
    const granted = grantScopes(asked, client.scopes);
    if (granted.length === 0)
      return refuse("the access token carries no scope this server grants to its issuer");
    const user = typeof payload.sub === "string" && payload.sub.length <= 150 ? payload.sub : "app";
    const principal: Principal = {
      ...principalOf(client),
      sub: `${client.id}/${user}`,
      scope: granted.join(" "),
    };
    if (this.accessCache.size >= 10_000) this.accessCache.clear();
    this.accessCache.set(token, { p: principal, exp: payload.exp! });
    return { ok: true, principal };
  }

  /** An external access token verified before and not expired, without awaiting (request fast path). */
  cachedAccess(token: string): Principal | undefined {
    const hit = this.accessCache.get(token);
    if (!hit) return undefined;
    if (hit.exp > this.now()) return hit.p;
    this.accessCache.delete(token);
    return undefined;
  }

  /**
   * SMART Backend Services token request (issue 16 item 3; RFC 6749 §4.4, §5.1, §5.2; RFC 7523):
   * checks the form, verifies the assertion, grants scopes ⊆ registered ∩ requested (system/ only)
   * and issues this service's own signed token carrying `scope` and `client`. Errors name the RFC
   * 6749 error code.
   */
  async token(
    form: Record<string, string>,
    tokenUrl: string,
    auth: Auth,
  ): Promise<
    | { ok: true; body: { access_token: string; token_type: "Bearer"; expires_in: number; scope: string } }
    | { ok: false; status: 400 | 401 | 429; error: string; description: string }
  > {
    const bad = (error: string, description: string, status: 400 | 401 | 429 = 400) =>
      ({ ok: false, status, error, description }) as const;
    if (form.grant_type === undefined) return bad("invalid_request", "grant_type is required");
    if (form.grant_type !== "client_credentials") {
      return bad("unsupported_grant_type", "only grant_type=client_credentials is supported");
    }
    if (form.client_assertion_type !== ASSERTION_TYPE) {
      return bad("invalid_client", `client_assertion_type must be ${ASSERTION_TYPE} (private_key_jwt)`, 401);
    }
    const assertion = form.client_assertion;
    if (!assertion) return bad("invalid_client", "client_assertion is required", 401);
    if (form.scope === undefined || form.scope.trim() === "")
      return bad("invalid_scope", "scope is required");
    // Bounded before the assertion is verified (and its jti spent): a token carries at most
    // MAX_SCOPE_CHARS of scopes (review of issue 16: a longer grant failed the token's schema, 500).
    if (form.scope.length > MAX_SCOPE_CHARS || splitScopes(form.scope).length > MAX_SCOPES)
      return bad(
        "invalid_scope",
        `at most ${MAX_SCOPES} scopes, ${MAX_SCOPE_CHARS} characters, may be asked for`,
      );
    const v = await this.verifyClientAssertion(assertion, tokenUrl);
    if (!v.ok)
      return bad(v.status === 429 ? "temporarily_unavailable" : "invalid_client", v.reason, v.status);
    const { client } = v;
    if (form.client_id !== undefined && form.client_id !== (client.iss ?? client.id)) {
      return bad("invalid_client", "client_id does not match the assertion's iss", 401);
    }
    const granted = grantScopes(splitScopes(form.scope), client.scopes, SYSTEM_ONLY);
    if (granted.length === 0) {
      return bad("invalid_scope", "none of the requested scopes is registered for this client");
    }
    const scope = granted.join(" ");
    // A wildcard asked for (`system/*.rs`) against many registered types grants each of them: the
    // grant can be longer than the ask, so it is bounded too — a 400, not a failed token schema.
    if (scope.length > MAX_SCOPE_CHARS) return bad("invalid_scope", "the granted scopes are too long");
    const access = await auth.issue(
      { ...principalOf(client), scope, client: client.id },
      ACCESS_TOKEN_SECONDS,
    );
    return {
      ok: true,
      body: { access_token: access, token_type: "Bearer", expires_in: ACCESS_TOKEN_SECONDS, scope },
    };
  }
}

const SYSTEM_ONLY: ReadonlySet<string> = new Set(["system"]);
/** The most scopes, and characters of them, a token request may ask for (the token's `scope` claim: ≤ 4000). */
export const MAX_SCOPES = 100;
export const MAX_SCOPE_CHARS = 4000;

function withSlash(url: string): string[] {
  const bare = url.endsWith("/") ? url.slice(0, -1) : url;
  return [bare, `${bare}/`];
}

function principalOf(c: Client): Principal {
  return { sub: c.iss ?? c.id, name: c.name ?? c.id, role: "provider", org: c.org, client: c.id };
}

/** A refusal reason for a jose error: which check failed, never the token or a claim's value. */
function joseReason(err: unknown, audience: string, jkuIgnored: boolean): string {
  const ignored = jkuIgnored
    ? " (its jku is not on the client's allow-list, so the registered keys were used)"
    : "";
  if (err instanceof joseErrors.JWTExpired) return "the JWT has expired";
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === "aud") return `the JWT's aud must be ${audience}`;
    if (err.reason === "missing") return `the JWT has no ${err.claim}`;
    return `the JWT's ${err.claim} claim is not valid`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return `the JWT's signature does not verify with the client's keys${ignored}`;
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) return `no key of the client's matches the JWT${ignored}`;
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return "several keys match: send a kid header";
  if (err instanceof joseErrors.JWKSTimeout) return "the client's key set could not be fetched in time";
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return "the JWT's alg is not accepted";
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid)
    return "the JWT is malformed";
  return "the JWT could not be verified with the client's keys";
}

/** Parses an `application/x-www-form-urlencoded` body; a repeated parameter is an error (RFC 6749 §3.2). */
export function parseForm(text: string): Record<string, string> | string {
  const params = new URLSearchParams(text);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of params) {
    if (k in out) return `parameter ${k.slice(0, 40)} is repeated`;
    out[k] = v;
  }
  return out;
}

/** The discovery fields `GET /.well-known/smart-configuration` answers (SMART App Launch 2.x §Conformance). */
export function smartConfiguration(baseUrl: string, registry: ClientRegistry): Record<string, unknown> {
  const scopes = new Set<string>();
  for (const c of registry.clients) for (const s of c.scopes) scopes.add(s);
  return {
    token_endpoint: `${baseUrl}/auth/token`,
    token_endpoint_auth_methods_supported: ["private_key_jwt"],
    token_endpoint_auth_signing_alg_values_supported: ["RS384", "ES384", "RS256", "ES256"],
    grant_types_supported: ["client_credentials"],
    scopes_supported: [...scopes].sort(),
    response_types_supported: ["token"],
    capabilities: ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
  };
}

/**
 * Registers `POST /auth/token` (SMART Backend Services) and `GET /.well-known/smart-configuration`
 * (also under `/fhir`) — issue 16 items 3 and 6. The token endpoint parses its own form body in an
 * encapsulated scope: the rest of the service accepts JSON only.
 */
export async function registerClientAuthRoutes(
  app: FastifyInstance,
  registry: ClientRegistry,
  auth: Auth,
  baseUrl: () => string,
): Promise<void> {
  const discovery = async () => smartConfiguration(baseUrl(), registry);
  app.get("/.well-known/smart-configuration", discovery);
  app.get("/fhir/.well-known/smart-configuration", discovery);
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: 64 * 1024 },
      (_req, body, done) => done(null, typeof body === "string" ? body : body.toString("utf8")),
    );
    scope.post("/auth/token", async (req, reply) => {
      const send = (status: number, body: unknown) =>
        // RFC 6749 §5.1: token responses are never cached.
        reply.code(status).header("cache-control", "no-store").header("pragma", "no-cache").send(body);
      const ctype = String(req.headers["content-type"] ?? "");
      if (
        typeof req.body !== "string" ||
        !ctype.toLowerCase().startsWith("application/x-www-form-urlencoded")
      ) {
        return send(400, {
          error: "invalid_request",
          error_description: "send the token request as application/x-www-form-urlencoded",
        });
      }
      const form = parseForm(req.body);
      if (typeof form === "string") return send(400, { error: "invalid_request", error_description: form });
      const r = await registry.token(form, `${baseUrl()}/auth/token`, auth);
      if (r.ok) return send(200, r.body);
      req.log.info({ error: r.error, reason: r.description }, "token request refused");
      if (r.status === 401) reply.header("www-authenticate", 'Bearer realm="medpolicy"');
      return send(r.status, { error: r.error, error_description: r.description });
    });
  });
}
