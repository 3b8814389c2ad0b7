/**
 * Several instances on one database (issue 13: "two instances with the default secret reject each
 * other's tokens, silently"). At start each instance records, in the shared database, fingerprints of
 * its token keys (an HMAC of a fixed label keyed by the secret — never the secret) and refuses to
 * start when a live instance signs with a key it does not accept, or does not accept its signing
 * key. Instances keep a heartbeat; one not seen for {@link INSTANCE_LIVE_MS} (or, on this host, whose
 * process is gone) is forgotten. A key set (`MEDPOLICY_JWT_SECRETS`, first signs, all verify) lets a
 * rotation pass through compatible steps: `old,new` everywhere, then `new,old`, then `new`.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { InstanceRecord, Store } from "../store/index.js";
import { type Auth, ConfigError, type SecretSet } from "./auth.js";

export const INSTANCE_HEARTBEAT_MS = 30_000;
/** An instance whose heartbeat is older than this is taken to be gone. */
export const INSTANCE_LIVE_MS = 90_000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is not ours.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function describe(o: InstanceRecord): string {
  return `host ${o.host}, pid ${o.pid}, started ${o.startedAt}`;
}

/** This instance's registration: `stop()` ends the heartbeat and forgets it (server close). */
export interface InstanceRegistration {
  id: string;
  /** Other live instances on the database when this one started. */
  others: InstanceRecord[];
  /** What the operator should know at start (shared database with a generated secret). */
  warnings: string[];
  stop(): Promise<void>;
}

/**
 * Registers this instance in `store` and checks every live instance agrees on the token keys
 * (issue 13). Throws a {@link ConfigError} naming the fix when one does not.
 */
export async function registerInstance(
  store: Store,
  auth: Auth,
  secrets: Pick<SecretSet, "source" | "origin">,
  clock: () => Date = () => new Date(),
): Promise<InstanceRegistration> {
  const fp = auth.fingerprints();
  const now = clock();
  const me: InstanceRecord = {
    id: randomUUID(),
    host: hostname(),
    pid: process.pid,
    startedAt: now.toISOString(),
    seenAt: now.toISOString(),
    signing: fp.signing,
    verifying: fp.verifying,
    secretSource: secrets.source,
  };
  const listed = await store.registerInstance(me, new Date(now.getTime() - INSTANCE_LIVE_MS).toISOString());
  const others: InstanceRecord[] = [];
  for (const o of listed) {
    if (o.host === me.host && o.pid !== process.pid && !processAlive(o.pid)) {
      // Killed without closing: forget it now rather than after its heartbeat expires.
      await store.removeInstance(o.id).catch(() => {});
    } else others.push(o);
  }
  const conflict = others.find((o) => !me.verifying.includes(o.signing) || !o.verifying.includes(me.signing));
  if (conflict) {
    await store.removeInstance(me.id).catch(() => {});
    const generated =
      secrets.source === "file" || conflict.secretSource === "file"
        ? " (one of them uses the secret generated in its data folder: those differ between data folders)"
        : "";
    throw new ConfigError(
      `refusing to start: another medpolicy instance on this ${store.kind} database (${describe(conflict)}) ` +
        `signs tokens with a different secret${generated}, so each would reject the other's tokens. ` +
        "Set the same MEDPOLICY_JWT_SECRET (or the same key set MEDPOLICY_JWT_SECRETS, signing key first) on every " +
        `instance sharing the database. An instance that has stopped is forgotten ${INSTANCE_LIVE_MS / 1000} s after its last heartbeat.`,
    );
  }
  const warnings: string[] = [];
  if (secrets.source === "file" && store.kind === "postgres") {
    warnings.push(
      `the token secret is the one generated in this data folder (${secrets.origin}) while the database is shared PostgreSQL: ` +
        "a second instance with another data folder will be refused at start; set the same MEDPOLICY_JWT_SECRET on every instance",
    );
  }
  const beat = setInterval(() => {
    store.touchInstance(me.id, clock().toISOString()).catch(() => {});
  }, INSTANCE_HEARTBEAT_MS);
  beat.unref();
  return {
    id: me.id,
    others,
    warnings,
    async stop() {
      clearInterval(beat);
      await store.removeInstance(me.id).catch(() => {});
    },
  };
}
