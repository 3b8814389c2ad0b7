/**
 * Authentication and roles (SPEC 4 "Authentication and roles (provider, reviewer, medical director,
 * admin); a provider sees only its own requests"): HS256 tokens signed with `jose`.
 *
 * Secrets (issue 13): `MEDPOLICY_JWT_SECRETS` (a comma-separated key set: the first signs, all verify,
 * for rotation), else `MEDPOLICY_JWT_SECRET`, else a secret generated once and kept in the data
 * directory (so tokens survive restarts and every process sharing the data directory accepts them).
 * In production (`NODE_ENV=production`) the secret must come from the environment and be strong
 * ({@link secretWeakness}); every token must carry `iat` and `exp`, and live at most
 * {@link MAX_TOKEN_TTL_SECONDS}.
 */
import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { InputError, MedpolicyError } from "../model/index.js";

/** Issue 15 item 5: `policy-author` edits and publishes the payer's library, and sees no member's request. */
export const ROLES = ["provider", "reviewer", "medical-director", "admin", "policy-author"] as const;
export type Role = (typeof ROLES)[number];

/** The authenticated caller, from a verified token. */
export interface Principal {
  sub: string;
  name: string;
  role: Role;
  /** The provider organization; required for role `provider` (it scopes what they see). */
  org?: string;
  /**
   * Issue 16: the SMART scopes granted (space-separated), for tokens issued to an external client
   * (`POST /auth/token`) or from a configured SMART issuer. Present ⇒ the token is for the FHIR API and
   * every FHIR request is checked against it (src/server/scopes.ts); absent ⇒ role checks only.
   */
  scope?: string;
  /** Issue 16: the registered external client (src/server/clients.ts) the token was issued to. */
  client?: string;
}

export const principalSchema = z
  .strictObject({
    sub: z.string().min(1).max(200),
    name: z.string().min(1).max(200),
    role: z.enum(ROLES),
    org: z.string().min(1).max(200).optional(),
    scope: z.string().min(1).max(4000).optional(),
    client: z.string().min(1).max(200).optional(),
  })
  .refine((p) => p.role !== "provider" || p.org !== undefined, {
    error: "a provider token needs an org",
    path: ["org"],
  });

const ISSUER = "medpolicy";
const SECRET_FILE = "jwt-secret";

/** Issue 13: the longest a token may live (`exp − iat`); longer tokens are neither issued nor accepted. */
export const MAX_TOKEN_TTL_SECONDS = 24 * 3600;
/** Demo tokens (`--demo`) live one hour. */
export const DEMO_TOKEN_TTL_SECONDS = 3600;
/** Clock skew tolerated between instances for `iat` in the future and `exp` in the past. */
const CLOCK_SKEW_SECONDS = 60;

/**
 * A configuration problem that keeps the service from starting (weak secret, instances that disagree
 * on the token secret). Kind `input`, so `medpolicy serve` exits 2 with the message (issue 13).
 */
export class ConfigError extends MedpolicyError {
  constructor(message: string) {
    super("input", message);
    this.name = "ConfigError";
  }
}

/** The token secrets in force: `keys[0]` signs, every key verifies. */
export interface SecretSet {
  keys: Uint8Array[];
  /** Where they came from: the environment, or the data directory's generated file. */
  source: "env" | "file";
  /** The variable or file they came from (for messages; never the secret). */
  origin: string;
}

/** Words that add no strength to a secret: they are removed before it is measured. */
const WEAK_WORDS = [
  "password",
  "passwd",
  "secret",
  "changeme",
  "change-me",
  "medpolicy",
  "letmein",
  "qwerty",
  "default",
  "example",
  "admin",
];

function shannon(values: Iterable<number | string>): number {
  const counts = new Map<number | string, number>();
  let n = 0;
  for (const v of values) {
    counts.set(v, (counts.get(v) ?? 0) + 1);
    n++;
  }
  let h = 0;
  for (const c of counts.values()) {
    const p = c / n;
    h -= p * Math.log2(p);
  }
  return h;
}

/** The smallest period of `s` (KMP failure function, linear): `abcabcabc` → 3; no repeat → `s.length`. */
function smallestPeriod(s: string): number {
  const f = new Array<number>(s.length).fill(0);
  for (let i = 1, k = 0; i < s.length; i++) {
    while (k > 0 && s[i] !== s[k]) k = f[k - 1]!;
    if (s[i] === s[k]) k++;
    f[i] = k;
  }
  const p = s.length - (f[s.length - 1] ?? 0);
  return s.length % p === 0 || p <= s.length / 2 ? p : s.length;
}

/**
 * Why `secret` is too weak to sign production tokens (issue 13), or undefined when it is strong: at
 * least 32 bytes once common words (password, secret, …) are removed; no repeated pattern; at least
 * 2.5 bits of entropy per character, both over its characters and over the steps between them (so
 * `aaaa…`, `abab…` and runs like `0123…abcd…` are refused). 32 random hex digits pass.
 */
export function secretWeakness(secret: string): string | undefined {
  const bytes = Buffer.byteLength(secret, "utf8");
  if (bytes < 32) return `it is ${bytes} bytes long; at least 32 are required`;
  let rest = secret.toLowerCase();
  for (const w of WEAK_WORDS) rest = rest.split(w).join("");
  if (Buffer.byteLength(rest, "utf8") < 32) {
    return "without common words (password, secret, changeme, …) it is shorter than 32 bytes";
  }
  if (smallestPeriod(secret) <= secret.length / 2) return "it repeats a pattern";
  const chars = Array.from(secret);
  if (shannon(chars) < 2.5) return "it uses too few distinct characters (low entropy)";
  const steps: number[] = [];
  for (let i = 1; i < chars.length; i++)
    steps.push(chars[i]!.codePointAt(0)! - chars[i - 1]!.codePointAt(0)!);
  if (shannon(steps) < 2.5) return "it is mostly runs or sequences of characters (abcd…, 0123…)";
  return undefined;
}

const GENERATE_HINT =
  "generate one with: node -e \"console.log(require('crypto').randomBytes(32).toString('hex'))\"";

/**
 * Returns the signing secrets (issue 13): `MEDPOLICY_JWT_SECRETS` (comma-separated key set, first
 * signs), else `MEDPOLICY_JWT_SECRET`, else `<dataDir>/jwt-secret`, created (mode 0600, exclusive
 * create so two processes starting together agree on one secret) when missing. In production
 * (`NODE_ENV=production`) the secret must come from the environment and every key must be strong,
 * else a {@link ConfigError} says why.
 */
export function loadSecrets(dataDir: string, env: NodeJS.ProcessEnv = process.env): SecretSet {
  const production = env.NODE_ENV === "production";
  const enc = new TextEncoder();
  const set = env.MEDPOLICY_JWT_SECRETS;
  const one = env.MEDPOLICY_JWT_SECRET;
  let raw: string[] | undefined;
  let origin = "";
  if (set !== undefined && set.trim() !== "") {
    raw = set.split(",").map((s) => s.trim());
    origin = "MEDPOLICY_JWT_SECRETS";
    if (raw.some((s) => s === "")) {
      throw new ConfigError(
        "MEDPOLICY_JWT_SECRETS has an empty key: give comma-separated secrets, the signing one first",
      );
    }
  } else if (one !== undefined && one !== "") {
    raw = [one];
    origin = "MEDPOLICY_JWT_SECRET";
  }
  if (raw) {
    if (production) {
      raw.forEach((s, i) => {
        const why = secretWeakness(s);
        if (why) {
          const which = raw!.length > 1 ? `key ${i + 1} of ${origin}` : origin;
          throw new ConfigError(
            `refusing to start in production: ${which} is too weak to sign tokens (${why}); ${GENERATE_HINT}`,
          );
        }
      });
    }
    return { keys: raw.map((s) => enc.encode(s)), source: "env", origin };
  }
  if (production) {
    throw new ConfigError(
      `refusing to start in production without MEDPOLICY_JWT_SECRET: set a strong secret (at least 32 random bytes) shared by every instance; ${GENERATE_HINT}`,
    );
  }
  const file = join(dataDir, SECRET_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, randomBytes(32).toString("hex"), { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return { keys: [enc.encode(readFileSync(file, "utf8").trim())], source: "file", origin: file };
}

/** The signing secret alone (kept for callers of the single-secret API). */
export function loadSecret(dataDir: string, env: NodeJS.ProcessEnv = process.env): Uint8Array {
  return loadSecrets(dataDir, env).keys[0]!;
}

/**
 * A fingerprint of a secret that reveals nothing of it: HMAC-SHA256 keyed by the secret over a fixed
 * label, 16 bytes hex. Instances sharing a database compare these (issue 13), never the secrets.
 */
export function secretFingerprint(secret: Uint8Array): string {
  return createHmac("sha256", secret)
    .update("medpolicy/token-secret-fingerprint/v1")
    .digest("hex")
    .slice(0, 32);
}

/** Signs and verifies tokens; verified tokens are cached briefly because HMAC per request adds up. */
export class Auth {
  private readonly cache = new Map<string, { p: Principal; exp: number }>();
  private readonly keys: Uint8Array[];

  /** `secret`: one key, or a key set whose first key signs and every key verifies (rotation). */
  constructor(secret: Uint8Array | readonly Uint8Array[]) {
    this.keys = secret instanceof Uint8Array ? [secret] : [...secret];
    if (this.keys.length === 0) throw new ConfigError("no token secret");
  }

  /** Fingerprints of the signing key and of every verifying key (see {@link secretFingerprint}). */
  fingerprints(): { signing: string; verifying: string[] } {
    const all = this.keys.map(secretFingerprint);
    return { signing: all[0]!, verifying: all };
  }

  /**
   * Issues a token for `p`, valid for `ttlSeconds` (default 8 h, at most {@link MAX_TOKEN_TTL_SECONDS}:
   * a longer lifetime is refused with an {@link InputError}, whoever asks).
   */
  async issue(p: Principal, ttlSeconds = 8 * 3600): Promise<string> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
      throw new InputError(
        `ttlSeconds: a token lives at most ${MAX_TOKEN_TTL_SECONDS} seconds (24 hours); ask for a new one when it expires`,
        { field: "ttlSeconds" },
      );
    }
    const parsed = principalSchema.safeParse(p);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join(".") || "principal";
      throw new InputError(`${field}: ${issue.message}`, { field });
    }
    const claims = parsed.data;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      name: claims.name,
      role: claims.role,
      ...(claims.org && { org: claims.org }),
      // Issue 16: a Backend Services access token carries its grant and client.
      ...(claims.scope && { scope: claims.scope }),
      ...(claims.client && { client: claims.client }),
    })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer(ISSUER)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(this.keys[0]!);
  }

  /**
   * The principal of a token verified before and not yet expired, without awaiting anything: the
   * request hook decides most requests synchronously (an async hook per request costs throughput).
   */
  cached(token: string, now = Date.now() / 1000): Principal | undefined {
    const hit = this.cache.get(token);
    if (!hit) return undefined;
    if (hit.exp > now) return hit.p;
    this.cache.delete(token);
    return undefined;
  }

  /**
   * Verifies a bearer token; returns undefined for a bad, expired or malformed one, and for one
   * without `exp` or `iat`, issued in the future, or whose lifetime `exp − iat` exceeds
   * {@link MAX_TOKEN_TTL_SECONDS} (issue 13: tokens without `exp` never expired).
   */
  async verify(token: string): Promise<Principal | undefined> {
    const now = Date.now() / 1000;
    const hit = this.cached(token, now);
    if (hit) return hit;
    for (const key of this.keys) {
      let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ["HS256"],
          issuer: ISSUER,
          requiredClaims: ["exp", "iat", "sub"],
          clockTolerance: CLOCK_SKEW_SECONDS,
        }));
      } catch {
        continue; // another key of the set may have signed it
      }
      const { exp, iat } = payload;
      if (typeof exp !== "number" || typeof iat !== "number") return undefined;
      if (exp - iat > MAX_TOKEN_TTL_SECONDS || iat > now + CLOCK_SKEW_SECONDS) return undefined;
      const parsed = principalSchema.safeParse({
        sub: payload.sub,
        name: payload.name,
        role: payload.role,
        ...(payload.org !== undefined && { org: payload.org }),
        ...(payload.scope !== undefined && { scope: payload.scope }),
        ...(payload.client !== undefined && { client: payload.client }),
      });
      if (!parsed.success) return undefined;
      const p: Principal = parsed.data;
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(token, { p, exp });
      return p;
    }
    return undefined;
  }
}

/** Request headers set by proxies: a request carrying one did not come straight from this machine. */
const FORWARDING_HEADERS = [
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-real-ip",
  "via",
];
const LOOPBACK_IPS = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Why demo tokens are refused to this request, or undefined when they may be served (issue 13):
 * only in demo mode, only from a loopback address, with a loopback `Host`, and with no forwarding
 * header — a same-host reverse proxy connects from loopback, but says so in its headers or Host.
 */
export function demoRefusal(
  demo: boolean,
  req: { ip: string; headers: Record<string, string | string[] | undefined> },
): string | undefined {
  if (!demo) return "demo mode is off (start the server with --demo)";
  if (!LOOPBACK_IPS.has(req.ip)) return "not a loopback caller";
  for (const h of FORWARDING_HEADERS) if (req.headers[h] !== undefined) return `forwarded (${h})`;
  const host = req.headers.host;
  if (typeof host !== "string") return "no Host header";
  // Host is `name[:port]` or `[v6]:port`: drop a trailing port (linear: one lastIndexOf).
  const colon = host.lastIndexOf(":");
  const name = colon > host.lastIndexOf("]") ? host.slice(0, colon) : host;
  if (!LOOPBACK_HOSTS.has(name.toLowerCase())) return "Host is not a loopback name";
  return undefined;
}

/** The demo users `GET /api/demo-tokens` hands out in demo mode. */
export const DEMO_USERS: Record<string, Principal> = {
  provider: {
    sub: "dr-alvarez",
    name: "Dr. Ana Alvarez (Northside Pain Clinic)",
    role: "provider",
    org: "northside",
  },
  otherProvider: {
    sub: "dr-baker",
    name: "Dr. Ben Baker (Lakeside Spine)",
    role: "provider",
    org: "lakeside",
  },
  reviewer: { sub: "rn-chen", name: "Casey Chen, RN", role: "reviewer" },
  medicalDirector: { sub: "md-diaz", name: "Dana Diaz, MD", role: "medical-director" },
  admin: { sub: "admin", name: "Administrator", role: "admin" },
  policyAuthor: { sub: "pa-okafor", name: "Dr. Ife Okafor", role: "policy-author" },
};
