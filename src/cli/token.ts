/**
 * `medpolicy token` (issue 13): issues a bearer token without demo mode. It signs with the same
 * secret the server uses — `MEDPOLICY_JWT_SECRETS`/`MEDPOLICY_JWT_SECRET`, else the data folder's
 * generated `jwt-secret` — so whoever can read that secret (the operator, on the server's machine)
 * can mint tokens; nobody else can. Tokens live 8 hours by default, 24 hours at most.
 */
import { InputError } from "../model/index.js";
import { Auth, loadSecrets, MAX_TOKEN_TTL_SECONDS, type Principal, principalSchema } from "../server/auth.js";

export interface TokenCliOptions {
  role?: string | undefined;
  sub?: string | undefined;
  name?: string | undefined;
  org?: string | undefined;
  ttl?: string | undefined;
  dataDir: string;
}

/** `8h`, `30m`, `3600`, `3600s` → seconds. Anchored, no nested quantifiers: linear. */
export function parseTtl(text: string): number {
  const m = /^(\d{1,6})([smh]?)$/.exec(text.trim());
  if (!m) throw new InputError(`--ttl: give seconds, or a number with s, m or h (8h, 30m)`, { field: "ttl" });
  const n = Number(m[1]) * (m[2] === "h" ? 3600 : m[2] === "m" ? 60 : 1);
  if (n < 60 || n > MAX_TOKEN_TTL_SECONDS) {
    throw new InputError(`--ttl: a token lives between 1 minute and 24 hours`, { field: "ttl" });
  }
  return n;
}

/** Issues the token; an {@link InputError} (exit 2) names a missing or wrong option. */
export async function issueTokenFromCli(
  o: TokenCliOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ token: string; principal: Principal; expiresAt: string }> {
  if (!o.role)
    throw new InputError(
      "--role is required (provider, reviewer, medical-director, admin or policy-author)",
      { field: "role" },
    );
  if (!o.sub) throw new InputError("--sub is required: the user's id", { field: "sub" });
  const parsed = principalSchema.safeParse({
    sub: o.sub,
    name: o.name ?? o.sub,
    role: o.role,
    ...(o.org !== undefined && { org: o.org }),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? "role");
    throw new InputError(`--${field}: ${issue.message}`, { field });
  }
  const ttl = o.ttl !== undefined ? parseTtl(o.ttl) : 8 * 3600;
  const auth = new Auth(loadSecrets(o.dataDir, env).keys);
  const token = await auth.issue(parsed.data, ttl);
  return { token, principal: parsed.data, expiresAt: new Date(Date.now() + ttl * 1000).toISOString() };
}
