/**
 * What the FHIR layer keeps beside the request store (SPEC 4 "Persistence"): the PAS claim context a
 * ClaimResponse is built from (identifiers, item sequences, the resources it refers to) and rest-hook
 * Subscriptions. SQLite (better-sqlite3, WAL, `synchronous=FULL`) in the data directory, so both are
 * on disk before the call that stored them returns (SPEC 4 "Nothing acknowledged is ever lost").
 *
 * The request itself — case, determinations, decision — lives in the service's store; this file only
 * holds what a FHIR answer needs in addition, keyed by the request's idempotency key and id.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

/** A stored PAS submission: its idempotency key, the request it became, and the FHIR context. */
export interface ClaimRow<C> {
  org: string;
  key: string;
  requestId?: string;
  context: C;
  createdAt: string;
}

export interface SubscriptionRow<S> {
  id: string;
  org: string;
  resource: S;
  createdAt: string;
  events: number;
  status: "active" | "error" | "off";
  error?: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pas_claims (
  org TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  request_id TEXT,
  context TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (org, idem_key)
);
CREATE INDEX IF NOT EXISTS pas_claims_request ON pas_claims (request_id);
CREATE TABLE IF NOT EXISTS pas_identifiers (
  org TEXT NOT NULL,
  identifier TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (org, identifier, idem_key)
);
CREATE TABLE IF NOT EXISTS subscriptions (
  id TEXT PRIMARY KEY,
  org TEXT NOT NULL,
  resource TEXT NOT NULL,
  created_at TEXT NOT NULL,
  events INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  error TEXT
);
CREATE INDEX IF NOT EXISTS subscriptions_org ON subscriptions (org);
`;

interface ClaimDbRow {
  org: string;
  idem_key: string;
  request_id: string | null;
  context: string;
  created_at: string;
}
interface SubDbRow {
  id: string;
  org: string;
  resource: string;
  created_at: string;
  events: number;
  status: SubscriptionRow<unknown>["status"];
  error: string | null;
}

/** The FHIR layer's own durable state (`<dataDir>/fhir.db`). */
export class FhirState<C = unknown, S = unknown> {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, "fhir.db"));
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
  }

  /** Records a submission before it is decided (so a crash in between can be recovered by replay). */
  putClaim(org: string, key: string, identifiers: string[], context: C, at: string): void {
    const tx = this.db.transaction(() => {
      this.db
        .prepare(
          "INSERT INTO pas_claims (org, idem_key, context, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (org, idem_key) DO UPDATE SET context = excluded.context",
        )
        .run(org, key, JSON.stringify(context), at);
      const ins = this.db.prepare(
        "INSERT OR IGNORE INTO pas_identifiers (org, identifier, idem_key, created_at) VALUES (?, ?, ?, ?)",
      );
      for (const id of identifiers) ins.run(org, id, key, at);
    });
    tx();
  }

  linkRequest(org: string, key: string, requestId: string): void {
    this.db
      .prepare("UPDATE pas_claims SET request_id = ? WHERE org = ? AND idem_key = ?")
      .run(requestId, org, key);
  }

  private claimOf(r: ClaimDbRow | undefined): ClaimRow<C> | undefined {
    if (!r) return undefined;
    return {
      org: r.org,
      key: r.idem_key,
      ...(r.request_id !== null && { requestId: r.request_id }),
      context: JSON.parse(r.context) as C,
      createdAt: r.created_at,
    };
  }

  claimByRequest(requestId: string): ClaimRow<C> | undefined {
    return this.claimOf(
      this.db.prepare("SELECT * FROM pas_claims WHERE request_id = ?").get(requestId) as
        | ClaimDbRow
        | undefined,
    );
  }

  /** The newest submission of `org` carrying any of `identifiers` (`system|value`). */
  claimByIdentifier(org: string, identifiers: string[]): ClaimRow<C> | undefined {
    if (identifiers.length === 0) return undefined;
    const marks = identifiers.map(() => "?").join(", ");
    const row = this.db
      .prepare(
        `SELECT c.* FROM pas_identifiers i JOIN pas_claims c ON c.org = i.org AND c.idem_key = i.idem_key
         WHERE i.org = ? AND i.identifier IN (${marks}) ORDER BY c.created_at DESC, c.rowid DESC LIMIT 1`,
      )
      .get(org, ...identifiers) as ClaimDbRow | undefined;
    return this.claimOf(row);
  }

  putSubscription(id: string, org: string, resource: S, at: string): void {
    this.db
      .prepare(
        "INSERT INTO subscriptions (id, org, resource, created_at, status) VALUES (?, ?, ?, ?, 'active')",
      )
      .run(id, org, JSON.stringify(resource), at);
  }

  private subOf(r: SubDbRow | undefined): SubscriptionRow<S> | undefined {
    if (!r) return undefined;
    return {
      id: r.id,
      org: r.org,
      resource: JSON.parse(r.resource) as S,
      createdAt: r.created_at,
      events: r.events,
      status: r.status,
      ...(r.error !== null && { error: r.error }),
    };
  }

  subscription(id: string): SubscriptionRow<S> | undefined {
    return this.subOf(
      this.db.prepare("SELECT * FROM subscriptions WHERE id = ?").get(id) as SubDbRow | undefined,
    );
  }

  subscriptionsOf(org: string): SubscriptionRow<S>[] {
    return (
      this.db
        .prepare("SELECT * FROM subscriptions WHERE org = ? AND status != 'off' ORDER BY created_at")
        .all(org) as SubDbRow[]
    ).map((r) => this.subOf(r)!);
  }

  /** Takes the next event number of a subscription (1, 2, …; R4 Subscriptions Backport). */
  nextEvent(id: string): number {
    const r = this.db
      .prepare("UPDATE subscriptions SET events = events + 1 WHERE id = ? RETURNING events")
      .get(id) as { events: number } | undefined;
    return r?.events ?? 0;
  }

  setSubscriptionStatus(id: string, status: SubscriptionRow<S>["status"], error?: string): void {
    this.db
      .prepare("UPDATE subscriptions SET status = ?, error = ? WHERE id = ?")
      .run(status, error ?? null, id);
  }

  deleteSubscription(id: string): boolean {
    return (
      this.db.prepare("UPDATE subscriptions SET status = 'off' WHERE id = ? AND status != 'off'").run(id)
        .changes > 0
    );
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
