/**
 * Issue 13: the audit trail of PHI reads (who read which request, when, through what) and the
 * registry of service instances sharing a database (so instances that disagree on the token secret
 * are detected at start). Tables, SQL and row mapping for both stores; the stores' methods are thin
 * wrappers over the functions here, so SQLite and PostgreSQL behave the same (SPEC 4).
 */
import type Database from "better-sqlite3";
import type pg from "pg";
import type { InstanceRecord, ReadEntry, ReadQuery, ReadRecord } from "./types.js";

/** `phi_reads` is append-only; `service_instances` one row per live process. */
function accessDdl(seq: string): string {
  return `
CREATE TABLE IF NOT EXISTS phi_reads (
  seq ${seq} PRIMARY KEY,
  at TEXT NOT NULL,
  sub TEXT NOT NULL,
  role TEXT NOT NULL,
  org TEXT,
  request_id TEXT NOT NULL,
  action TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS phi_reads_request ON phi_reads (request_id, seq);
CREATE INDEX IF NOT EXISTS phi_reads_sub ON phi_reads (sub, seq);
CREATE TABLE IF NOT EXISTS service_instances (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  seen_at TEXT NOT NULL,
  signing TEXT NOT NULL,
  verifying TEXT NOT NULL,
  secret_source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS client_nonces (
  client TEXT NOT NULL,
  jti TEXT NOT NULL,
  expires BIGINT NOT NULL,
  PRIMARY KEY (client, jti)
);
CREATE INDEX IF NOT EXISTS client_nonces_expires ON client_nonces (expires);`;
}

/**
 * Issue 16: a client JWT's `jti`, recorded until it expires — new, or replacing an expired record —
 * and refused (no row changed) while a live record holds it: one statement, so two instances on one
 * database cannot both accept the same JWT.
 */
const NONCE_UPSERT = (m: (i: number) => string) =>
  `INSERT INTO client_nonces (client, jti, expires) VALUES (${m(1)}, ${m(2)}, ${m(3)})
   ON CONFLICT (client, jti) DO UPDATE SET expires = excluded.expires WHERE client_nonces.expires <= ${m(4)}`;
/** Expired records are swept every this many recorded nonces (per process). */
const NONCE_SWEEP_EVERY = 1000;
let noncesSinceSweep = 0;

/** Idempotent DDL, per dialect (they differ only in the sequence column's type). */
export const ACCESS_SCHEMA = {
  sqlite: accessDdl("INTEGER"),
  // Issue 15: `detail` added to a table made before it (SQLite: see sqliteAccess.migrate).
  postgres: `${accessDdl("BIGSERIAL")}\nALTER TABLE phi_reads ADD COLUMN IF NOT EXISTS detail TEXT;`,
};

interface ReadRow {
  seq: number | string;
  at: string;
  sub: string;
  role: string;
  org: string | null;
  request_id: string;
  action: string;
  detail?: string | null;
}

interface InstanceRow {
  id: string;
  host: string;
  pid: number | string;
  started_at: string;
  seen_at: string;
  signing: string;
  verifying: string;
  secret_source: string;
}

function toEntry(r: ReadRow): ReadEntry {
  return {
    seq: Number(r.seq),
    at: r.at,
    sub: r.sub,
    role: r.role,
    ...(r.org !== null && { org: r.org }),
    requestId: r.request_id,
    action: r.action,
    ...(r.detail !== null && r.detail !== undefined && { detail: r.detail }),
  };
}

function toInstance(r: InstanceRow): InstanceRecord {
  return {
    id: r.id,
    host: r.host,
    pid: Number(r.pid),
    startedAt: r.started_at,
    seenAt: r.seen_at,
    signing: r.signing,
    verifying: r.verifying.split(",").filter(Boolean),
    secretSource: r.secret_source === "file" ? "file" : "env",
  };
}

/** `WHERE` of a read query, in either placeholder syntax; `$n` numbering starts at 1. */
function readWhere(q: ReadQuery, mark: (i: number) => string): { sql: string; values: unknown[] } {
  const conds: string[] = [];
  const values: unknown[] = [];
  const add = (cond: string, v: unknown) => {
    values.push(v);
    conds.push(cond.replace("?", mark(values.length)));
  };
  if (q.requestId !== undefined) add("request_id = ?", q.requestId);
  if (q.sub !== undefined) add("sub = ?", q.sub);
  if (q.action !== undefined) add("action = ?", q.action);
  if (q.since !== undefined) add("at >= ?", q.since);
  values.push(q.limit);
  const where = conds.length > 0 ? `WHERE ${conds.join(" AND ")}` : "";
  return { sql: `SELECT * FROM phi_reads ${where} ORDER BY seq DESC LIMIT ${mark(values.length)}`, values };
}

const INSTANCE_COLUMNS = "id, host, pid, started_at, seen_at, signing, verifying, secret_source";

function instanceValues(me: InstanceRecord): unknown[] {
  return [
    me.id,
    me.host,
    me.pid,
    me.startedAt,
    me.seenAt,
    me.signing,
    me.verifying.join(","),
    me.secretSource,
  ];
}

/** SQLite side: every call is synchronous under better-sqlite3. */
export const sqliteAccess = {
  /** Issue 15: the `detail` column, added to a `phi_reads` made before it (idempotent). */
  migrate(db: Database.Database): void {
    const have = (db.prepare("PRAGMA table_info(phi_reads)").all() as { name: string }[]).some(
      (c) => c.name === "detail",
    );
    if (!have) db.exec("ALTER TABLE phi_reads ADD COLUMN detail TEXT");
  },

  recordReads(db: Database.Database, rows: readonly ReadRecord[]): void {
    if (rows.length === 0) return;
    const ins = db.prepare(
      "INSERT INTO phi_reads (at, sub, role, org, request_id, action, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    // One transaction (one fsync) per batch: that is what makes buffered audit writes cheap.
    db.transaction(() => {
      for (const r of rows)
        ins.run(r.at, r.sub, r.role, r.org ?? null, r.requestId, r.action, r.detail ?? null);
    })();
  },

  listReads(db: Database.Database, q: ReadQuery): ReadEntry[] {
    const { sql, values } = readWhere(q, () => "?");
    return (db.prepare(sql).all(...values) as ReadRow[]).map(toEntry);
  },

  registerInstance(db: Database.Database, me: InstanceRecord, liveSince: string): InstanceRecord[] {
    const tx = db.transaction((): InstanceRecord[] => {
      db.prepare("DELETE FROM service_instances WHERE seen_at < ? AND id <> ?").run(liveSince, me.id);
      db.prepare(
        `INSERT INTO service_instances (${INSTANCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`,
      ).run(...instanceValues(me));
      return (
        db
          .prepare(`SELECT ${INSTANCE_COLUMNS} FROM service_instances WHERE id <> ?`)
          .all(me.id) as InstanceRow[]
      ).map(toInstance);
    });
    // IMMEDIATE: two processes starting together see each other (one waits for the other's commit).
    return tx.immediate();
  },

  touchInstance(db: Database.Database, id: string, at: string): void {
    db.prepare("UPDATE service_instances SET seen_at = ? WHERE id = ?").run(at, id);
  },

  removeInstance(db: Database.Database, id: string): void {
    db.prepare("DELETE FROM service_instances WHERE id = ?").run(id);
  },

  useNonce(db: Database.Database, client: string, jti: string, expires: number, now: number): boolean {
    if (++noncesSinceSweep >= NONCE_SWEEP_EVERY) {
      noncesSinceSweep = 0;
      db.prepare("DELETE FROM client_nonces WHERE expires <= ?").run(Math.floor(now));
    }
    const r = db.prepare(NONCE_UPSERT(() => "?")).run(client, jti, Math.ceil(expires), Math.floor(now));
    return r.changes === 1;
  },
};

/** Arbitrary constant key of the advisory lock that serialises instance registration. */
const INSTANCE_LOCK = 0x6d70696e7374;

/** PostgreSQL side. */
export const postgresAccess = {
  async recordReads(pool: pg.Pool, rows: readonly ReadRecord[]): Promise<void> {
    if (rows.length === 0) return;
    // One statement per batch: arrays unnested server-side.
    await pool.query(
      `INSERT INTO phi_reads (at, sub, role, org, request_id, action, detail)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
      [
        rows.map((r) => r.at),
        rows.map((r) => r.sub),
        rows.map((r) => r.role),
        rows.map((r) => r.org ?? null),
        rows.map((r) => r.requestId),
        rows.map((r) => r.action),
        rows.map((r) => r.detail ?? null),
      ],
    );
  },

  async listReads(pool: pg.Pool, q: ReadQuery): Promise<ReadEntry[]> {
    const { sql, values } = readWhere(q, (i) => `$${i}`);
    return (await pool.query<ReadRow>(sql, values)).rows.map(toEntry);
  },

  async registerInstance(pool: pg.Pool, me: InstanceRecord, liveSince: string): Promise<InstanceRecord[]> {
    const c = await pool.connect();
    try {
      await c.query("BEGIN");
      // Serialises registrations: two instances starting together see each other.
      await c.query("SELECT pg_advisory_xact_lock($1)", [INSTANCE_LOCK]);
      await c.query("DELETE FROM service_instances WHERE seen_at < $1 AND id <> $2", [liveSince, me.id]);
      await c.query(
        `INSERT INTO service_instances (${INSTANCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`,
        instanceValues(me),
      );
      const r = await c.query<InstanceRow>(
        `SELECT ${INSTANCE_COLUMNS} FROM service_instances WHERE id <> $1`,
        [me.id],
      );
      await c.query("COMMIT");
      return r.rows.map(toInstance);
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  },

  async touchInstance(pool: pg.Pool, id: string, at: string): Promise<void> {
    await pool.query("UPDATE service_instances SET seen_at = $1 WHERE id = $2", [at, id]);
  },

  async removeInstance(pool: pg.Pool, id: string): Promise<void> {
    await pool.query("DELETE FROM service_instances WHERE id = $1", [id]);
  },
  async useNonce(pool: pg.Pool, client: string, jti: string, expires: number, now: number): Promise<boolean> {
    if (++noncesSinceSweep >= NONCE_SWEEP_EVERY) {
      noncesSinceSweep = 0;
      await pool.query("DELETE FROM client_nonces WHERE expires <= $1", [Math.floor(now)]);
    }
    const r = await pool.query(
      NONCE_UPSERT((i) => `$${i}`),
      [client, jti, Math.ceil(expires), Math.floor(now)],
    );
    return r.rowCount === 1;
  },
};
