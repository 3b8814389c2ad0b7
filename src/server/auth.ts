/**
 * Authentication and roles (SPEC 4 "Authentication and roles (provider, reviewer, medical director,
 * admin); a provider sees only its own requests"): HS256 tokens signed with `jose`. The secret comes
 * from `MEDPOLICY_JWT_SECRET`, else it is generated once and kept in the data directory, so tokens
 * survive restarts and every process sharing the data directory accepts them.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jwtVerify, SignJWT } from "jose";
import { z } from "zod";

export const ROLES = ["provider", "reviewer", "medical-director", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** The authenticated caller, from a verified token. */
export interface Principal {
  sub: string;
  name: string;
  role: Role;
  /** The provider organization; required for role `provider` (it scopes what they see). */
  org?: string;
}

export const principalSchema = z
  .strictObject({
    sub: z.string().min(1).max(200),
    name: z.string().min(1).max(200),
    role: z.enum(ROLES),
    org: z.string().min(1).max(200).optional(),
  })
  .refine((p) => p.role !== "provider" || p.org !== undefined, {
    error: "a provider token needs an org",
    path: ["org"],
  });

const ISSUER = "medpolicy";
const SECRET_FILE = "jwt-secret";

/**
 * Returns the signing secret: `MEDPOLICY_JWT_SECRET` when set, else `<dataDir>/jwt-secret`, created
 * (mode 0600, exclusive create so two processes starting together agree on one secret) when missing.
 */
export function loadSecret(dataDir: string, env: NodeJS.ProcessEnv = process.env): Uint8Array {
  const fromEnv = env.MEDPOLICY_JWT_SECRET;
  if (fromEnv && fromEnv.length > 0) return new TextEncoder().encode(fromEnv);
  const file = join(dataDir, SECRET_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, randomBytes(32).toString("hex"), { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return new TextEncoder().encode(readFileSync(file, "utf8").trim());
}

/** Signs and verifies tokens; verified tokens are cached briefly because HMAC per request adds up. */
export class Auth {
  private readonly cache = new Map<string, { p: Principal; exp: number }>();

  constructor(private readonly secret: Uint8Array) {}

  /** Issues a token for `p`, valid for `ttlSeconds` (default 8 h). */
  async issue(p: Principal, ttlSeconds = 8 * 3600): Promise<string> {
    const claims = principalSchema.parse(p);
    return new SignJWT({ name: claims.name, role: claims.role, ...(claims.org && { org: claims.org }) })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(this.secret);
  }

  /** Verifies a bearer token; returns undefined for a bad, expired or malformed one. */
  async verify(token: string): Promise<Principal | undefined> {
    const now = Date.now() / 1000;
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.exp > now) return hit.p;
      this.cache.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, this.secret, { algorithms: ["HS256"], issuer: ISSUER });
      const parsed = principalSchema.safeParse({
        sub: payload.sub,
        name: payload.name,
        role: payload.role,
        ...(payload.org !== undefined && { org: payload.org }),
      });
      if (!parsed.success) return undefined;
      const p: Principal = parsed.data;
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(token, { p, exp: typeof payload.exp === "number" ? payload.exp : now + 60 });
      return p;
    } catch {
      return undefined;
    }
  }
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
};
