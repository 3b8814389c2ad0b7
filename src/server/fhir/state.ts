/**
 * What the FHIR layer keeps beside the request store (SPEC 4 "Persistence"): the PAS claim context a
 * ClaimResponse is built from (identifiers, item sequences, the resources it refers to) and rest-hook
 * Subscriptions. It lives in the request store's database: PostgreSQL when the service has a URL, so
 * every process sharing it sees every claim and subscription; SQLite (WAL, `synchronous=FULL`) in the
 * data directory otherwise. Either way a write is durable before its promise resolves (SPEC 4
 * "Nothing acknowledged is ever lost").
 *
 * The request itself — case, determinations, decision — lives in the service's store; this file only
 * holds what a FHIR answer needs in addition, keyed by the request's idempotency key and id. It is
 * written after the request (issue 13): a crash in between leaves a request without its claim
 * context (an inquiry answers "not found"; the retransmission, idempotent, writes it), never a claim
 * context without its request.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type pg from "pg";
import { openPool } from "../../store/index.js";

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
  /**
   * R4 Subscriptions Backport: `requested` until the handshake reaches the endpoint (issue 16), then
   * `active`; `error` when delivery fails; `off` once deleted.
   */
  status: "requested" | "active" | "error" | "off";
  error?: string;
}

/** The FHIR layer's own durable state; see {@link openFhirState}. */
export interface FhirState<C = unknown, S = unknown> {
  /**
   * Records a submission's context, its identifiers and the request it became, in one transaction
   * (issue 13). The PAS layer writes it only after the request is stored, so no path leaves a claim
   * context without its request; `requestId` is absent only for a submission with nothing to review.
   */
  putClaim(
    org: string,
    key: string,
    identifiers: string[],
    context: C,
    at: string,
    requestId?: string,
  ): Promise<void>;
  /** Sets the request of a stored claim (the PAS layer now writes both at once, in `putClaim`). */
  linkRequest(org: string, key: string, requestId: string): Promise<void>;
  claimByRequest(requestId: string): Promise<ClaimRow<C> | undefined>;
  /** The newest submission of `org` carrying any of `identifiers` (`system|value`). */
  claimByIdentifier(org: string, identifiers: string[]): Promise<ClaimRow<C> | undefined>;
  /**
   * The organisation's claims carrying any of `identifiers`, newest first, at most `limit` (`$inquire`
   * then matches the patient and the services among them: submitters' identifiers collide).
   */
  claimsByIdentifier(org: string, identifiers: string[], limit: number): Promise<ClaimRow<C>[]>;
  /** Stores a new subscription, `requested` (awaiting its handshake, issue 16) unless told `active`. */
  putSubscription(
    id: string,
    org: string,
    resource: S,
    at: string,
    status?: "requested" | "active",
  ): Promise<void>;
  /**
   * Replaces a subscription's resource (FHIR update, issue 16), sets its status and clears its error;
   * false when it is off or does not exist.
   */
  updateSubscription(id: string, resource: S, status: "requested" | "active"): Promise<boolean>;
  subscription(id: string): Promise<SubscriptionRow<S> | undefined>;
  /** The org's subscriptions that are not deleted, oldest first. */
  subscriptionsOf(org: string): Promise<SubscriptionRow<S>[]>;
  /** Every organization's subscriptions awaiting their handshake (`requested`), oldest first. */
  requestedSubscriptions(): Promise<SubscriptionRow<S>[]>;
  /** Takes the next event number of a subscription (1, 2, …; R4 Subscriptions Backport); 0 if unknown. */
  nextEvent(id: string): Promise<number>;
  /** Sets the status of a subscription that is not off (a late delivery result never revives one). */
  setSubscriptionStatus(id: string, status: SubscriptionRow<S>["status"], error?: string): Promise<void>;
  /** Turns a subscription off; false when it was already off or never existed. */
  deleteSubscription(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Opens the FHIR state in the request store's database: PostgreSQL at `databaseUrl`, else SQLite. */
export async function openFhirState<C, S>(opts: {
  dataDir: string;
  databaseUrl?: string;
}): Promise<FhirState<C, S>> {
  if (opts.databaseUrl) return PostgresFhirState.open<C, S>(opts.databaseUrl);
  return new SqliteFhirState<C, S>(opts.dataDir);
}

/**
 * The tables, in the dialect both databases share; `seq` is PostgreSQL's stand-in for SQLite's rowid
 * (insertion order, where two rows have one timestamp).
 */
const schemaWith = (seq: string) => `
CREATE TABLE IF NOT EXISTS pas_claims (
  org TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  request_id TEXT,
  context TEXT NOT NULL,
  created_at TEXT NOT NULL,${seq}
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
  status TEXT NOT NULL,${seq}
  error TEXT
);
CREATE INDEX IF NOT EXISTS subscriptions_org ON subscriptions (org);
`;
const SCHEMA = schemaWith("");

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

function claimOf<C>(r: ClaimDbRow | undefined): ClaimRow<C> | undefined {
  if (!r) return undefined;
  return {
    org: r.org,
    key: r.idem_key,
    ...(r.request_id !== null && { requestId: r.request_id }),
    context: JSON.parse(r.context) as C,
    createdAt: r.created_at,
  };
}

function subOf<S>(r: SubDbRow | undefined): SubscriptionRow<S> | undefined {
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

/** The state in `<dataDir>/fhir.db`; synchronous underneath, so every promise is already settled. */
export class SqliteFhirState<C = unknown, S = unknown> implements FhirState<C, S> {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, "fhir.db"));
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
  }

  async putClaim(
    org: string,
    key: string,
    identifiers: string[],
    context: C,
    at: string,
    requestId?: string,
  ): Promise<void> {
    const tx = this.db.transaction(() => {
      this.db
        .prepare(
          "INSERT INTO pas_claims (org, idem_key, request_id, context, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (org, idem_key) DO UPDATE SET context = excluded.context, request_id = COALESCE(excluded.request_id, pas_claims.request_id)",
        )
        .run(org, key, requestId ?? null, JSON.stringify(context), at);
      const ins = this.db.prepare(
        "INSERT OR IGNORE INTO pas_identifiers (org, identifier, idem_key, created_at) VALUES (?, ?, ?, ?)",
      );
      for (const id of identifiers) ins.run(org, id, key, at);
    });
    tx();
  }

  async linkRequest(org: string, key: string, requestId: string): Promise<void> {
    this.db
      .prepare("UPDATE pas_claims SET request_id = ? WHERE org = ? AND idem_key = ?")
      .run(requestId, org, key);
  }

  async claimByRequest(requestId: string): Promise<ClaimRow<C> | undefined> {
    return claimOf<C>(
      this.db.prepare("SELECT * FROM pas_claims WHERE request_id = ?").get(requestId) as
        | ClaimDbRow
        | undefined,
    );
  }

  async claimsByIdentifier(org: string, identifiers: string[], limit: number): Promise<ClaimRow<C>[]> {
    if (identifiers.length === 0) return [];
    const marks = identifiers.map(() => "?").join(", ");
    const rows = this.db
      .prepare(
        `SELECT c.* FROM pas_claims c WHERE c.org = ? AND c.idem_key IN (
           SELECT i.idem_key FROM pas_identifiers i WHERE i.org = ? AND i.identifier IN (${marks}))
         ORDER BY c.created_at DESC, c.rowid DESC LIMIT ?`,
      )
      .all(org, org, ...identifiers, limit) as ClaimDbRow[];
    return rows.map((r) => claimOf<C>(r)!);
  }

  async claimByIdentifier(org: string, identifiers: string[]): Promise<ClaimRow<C> | undefined> {
    if (identifiers.length === 0) return undefined;
    const marks = identifiers.map(() => "?").join(", ");
    const row = this.db
      .prepare(
        `SELECT c.* FROM pas_identifiers i JOIN pas_claims c ON c.org = i.org AND c.idem_key = i.idem_key
         WHERE i.org = ? AND i.identifier IN (${marks}) ORDER BY c.created_at DESC, c.rowid DESC LIMIT 1`,
      )
      .get(org, ...identifiers) as ClaimDbRow | undefined;
    return claimOf<C>(row);
  }

  async putSubscription(
    id: string,
    org: string,
    resource: S,
    at: string,
    status: "requested" | "active" = "active",
  ): Promise<void> {
    this.db
      .prepare("INSERT INTO subscriptions (id, org, resource, created_at, status) VALUES (?, ?, ?, ?, ?)")
      .run(id, org, JSON.stringify(resource), at, status);
  }

  async updateSubscription(id: string, resource: S, status: "requested" | "active"): Promise<boolean> {
    return (
      this.db
        .prepare(
          "UPDATE subscriptions SET resource = ?, status = ?, error = NULL WHERE id = ? AND status != 'off'",
        )
        .run(JSON.stringify(resource), status, id).changes > 0
    );
  }

  async subscription(id: string): Promise<SubscriptionRow<S> | undefined> {
    return subOf<S>(
      this.db.prepare("SELECT * FROM subscriptions WHERE id = ?").get(id) as SubDbRow | undefined,
    );
  }

  async subscriptionsOf(org: string): Promise<SubscriptionRow<S>[]> {
    return (
      this.db
        .prepare("SELECT * FROM subscriptions WHERE org = ? AND status != 'off' ORDER BY created_at")
        .all(org) as SubDbRow[]
    ).map((r) => subOf<S>(r)!);
  }

  async requestedSubscriptions(): Promise<SubscriptionRow<S>[]> {
    return (
      this.db
        .prepare("SELECT * FROM subscriptions WHERE status = 'requested' ORDER BY created_at")
        .all() as SubDbRow[]
    ).map((r) => subOf<S>(r)!);
  }

  async nextEvent(id: string): Promise<number> {
    const r = this.db
      .prepare("UPDATE subscriptions SET events = events + 1 WHERE id = ? RETURNING events")
      .get(id) as { events: number } | undefined;
    return r?.events ?? 0;
  }

  async setSubscriptionStatus(
    id: string,
    status: SubscriptionRow<S>["status"],
    error?: string,
  ): Promise<void> {
    this.db
      .prepare("UPDATE subscriptions SET status = ?, error = ? WHERE id = ? AND status != 'off'")
      .run(status, error ?? null, id);
  }

  async deleteSubscription(id: string): Promise<boolean> {
    return (
      this.db.prepare("UPDATE subscriptions SET status = 'off' WHERE id = ? AND status != 'off'").run(id)
        .changes > 0
    );
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/**
 * The same tables in PostgreSQL, beside the request store's (same URL, schema and migration lock).
 * `seq` stands in for SQLite's rowid: it breaks ties between rows created in the same millisecond.
 */
const PG_SCHEMA = schemaWith("\n  seq BIGINT GENERATED ALWAYS AS IDENTITY,");

const CLAIM_COLUMNS = "c.org, c.idem_key, c.request_id, c.context, c.created_at";
const SUB_COLUMNS = "id, org, resource, created_at, events, status, error";

/** The state in PostgreSQL, so every server process on the database sees it. Create with `open`. */
export class PostgresFhirState<C = unknown, S = unknown> implements FhirState<C, S> {
  private closed = false;

  private constructor(private readonly pool: pg.Pool) {}

  static async open<C, S>(url: string): Promise<PostgresFhirState<C, S>> {
    // A small pool: the FHIR state sees a few short queries per PAS call.
    return new PostgresFhirState<C, S>(await openPool(url, PG_SCHEMA, 4));
  }

  async putClaim(
    org: string,
    key: string,
    identifiers: string[],
    context: C,
    at: string,
    requestId?: string,
  ): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query("BEGIN");
      await c.query(
        `INSERT INTO pas_claims (org, idem_key, request_id, context, created_at) VALUES ($1, $2, $5, $3, $4)
         ON CONFLICT (org, idem_key) DO UPDATE SET context = EXCLUDED.context,
           request_id = COALESCE(EXCLUDED.request_id, pas_claims.request_id)`,
        [org, key, JSON.stringify(context), at, requestId ?? null],
      );
      if (identifiers.length > 0) {
        await c.query(
          `INSERT INTO pas_identifiers (org, identifier, idem_key, created_at)
           SELECT $1, i, $3, $4 FROM unnest($2::text[]) AS i ON CONFLICT DO NOTHING`,
          [org, identifiers, key, at],
        );
      }
      await c.query("COMMIT");
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  async linkRequest(org: string, key: string, requestId: string): Promise<void> {
    await this.pool.query("UPDATE pas_claims SET request_id = $1 WHERE org = $2 AND idem_key = $3", [
      requestId,
      org,
      key,
    ]);
  }

  async claimByRequest(requestId: string): Promise<ClaimRow<C> | undefined> {
    const r = await this.pool.query<ClaimDbRow>(
      `SELECT ${CLAIM_COLUMNS} FROM pas_claims c WHERE c.request_id = $1 ORDER BY c.seq LIMIT 1`,
      [requestId],
    );
    return claimOf<C>(r.rows[0]);
  }

  async claimsByIdentifier(org: string, identifiers: string[], limit: number): Promise<ClaimRow<C>[]> {
    if (identifiers.length === 0) return [];
    const r = await this.pool.query<ClaimDbRow>(
      `SELECT ${CLAIM_COLUMNS} FROM pas_claims c WHERE c.org = $1 AND c.idem_key IN (
         SELECT i.idem_key FROM pas_identifiers i WHERE i.org = $1 AND i.identifier = ANY($2::text[]))
       ORDER BY c.created_at DESC, c.seq DESC LIMIT $3`,
      [org, identifiers, limit],
    );
    return r.rows.map((row) => claimOf<C>(row)!);
  }

  async claimByIdentifier(org: string, identifiers: string[]): Promise<ClaimRow<C> | undefined> {
    if (identifiers.length === 0) return undefined;
    const r = await this.pool.query<ClaimDbRow>(
      `SELECT ${CLAIM_COLUMNS} FROM pas_identifiers i JOIN pas_claims c ON c.org = i.org AND c.idem_key = i.idem_key
       WHERE i.org = $1 AND i.identifier = ANY($2::text[]) ORDER BY c.created_at DESC, c.seq DESC LIMIT 1`,
      [org, identifiers],
    );
    return claimOf<C>(r.rows[0]);
  }

  async putSubscription(
    id: string,
    org: string,
    resource: S,
    at: string,
    status: "requested" | "active" = "active",
  ): Promise<void> {
    await this.pool.query(
      "INSERT INTO subscriptions (id, org, resource, created_at, status) VALUES ($1, $2, $3, $4, $5)",
      [id, org, JSON.stringify(resource), at, status],
    );
  }

  async updateSubscription(id: string, resource: S, status: "requested" | "active"): Promise<boolean> {
    const r = await this.pool.query(
      "UPDATE subscriptions SET resource = $1, status = $2, error = NULL WHERE id = $3 AND status != 'off'",
      [JSON.stringify(resource), status, id],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async subscription(id: string): Promise<SubscriptionRow<S> | undefined> {
    const r = await this.pool.query<SubDbRow>(`SELECT ${SUB_COLUMNS} FROM subscriptions WHERE id = $1`, [id]);
    return subOf<S>(r.rows[0]);
  }

  async subscriptionsOf(org: string): Promise<SubscriptionRow<S>[]> {
    const r = await this.pool.query<SubDbRow>(
      `SELECT ${SUB_COLUMNS} FROM subscriptions WHERE org = $1 AND status != 'off' ORDER BY created_at, seq`,
      [org],
    );
    return r.rows.map((row) => subOf<S>(row)!);
  }

  async requestedSubscriptions(): Promise<SubscriptionRow<S>[]> {
    const r = await this.pool.query<SubDbRow>(
      `SELECT ${SUB_COLUMNS} FROM subscriptions WHERE status = 'requested' ORDER BY created_at, seq`,
    );
    return r.rows.map((row) => subOf<S>(row)!);
  }

  async nextEvent(id: string): Promise<number> {
    // One statement under the row lock: concurrent processes never hand out the same number.
    const r = await this.pool.query<{ events: number }>(
      "UPDATE subscriptions SET events = events + 1 WHERE id = $1 RETURNING events",
      [id],
    );
    return r.rows[0]?.events ?? 0;
  }

  async setSubscriptionStatus(
    id: string,
    status: SubscriptionRow<S>["status"],
    error?: string,
  ): Promise<void> {
    await this.pool.query(
      "UPDATE subscriptions SET status = $1, error = $2 WHERE id = $3 AND status != 'off'",
      [status, error ?? null, id],
    );
  }

  async deleteSubscription(id: string): Promise<boolean> {
    const r = await this.pool.query(
      "UPDATE subscriptions SET status = 'off' WHERE id = $1 AND status != 'off'",
      [id],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async close(): Promise<void> {
    // pg rejects a second end(); closing twice is harmless here as it is for SQLite.
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
