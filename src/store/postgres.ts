/**
 * The PostgreSQL store (SPEC 4 "PostgreSQL when a URL is given, same behaviour"). Several server
 * processes may share one database: the queue is shared, and signing is an optimistic
 * `UPDATE … WHERE status = 'awaiting-review'` under PostgreSQL's row lock, so a request is never
 * signed twice (the loser gets a conflict → HTTP 409).
 */
import pg from "pg";
import {
  conflictOrMissing,
  type DeterminationRow,
  determinationValues,
  type EventRow,
  eventValues,
  INSERT_SQL,
  type RequestRow,
  SCHEMA,
  SUMMARY_COLUMNS,
  toMetricsRow,
  toRecord,
  toSummary,
} from "./rows.js";
import type {
  CreateResult,
  Decision,
  DeterminationPatch,
  ListOptions,
  MetricsRow,
  NewDetermination,
  NewEvent,
  NewRequest,
  RequestRecord,
  RequestSummary,
  Store,
} from "./types.js";

/** Arbitrary constant key for the advisory lock that serialises schema creation across processes. */
const MIGRATION_LOCK = 0x6d6564706f6c;

/**
 * Splits the non-standard `schema` query parameter off a connection URL
 * (`postgres://host/db?schema=medpolicy_test_1`): tests and tenants use one schema each.
 */
export function parseDatabaseUrl(url: string): { connectionString: string; schema?: string } {
  const u = new URL(url);
  const schema = u.searchParams.get("schema") ?? undefined;
  u.searchParams.delete("schema");
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`invalid schema name in database URL: must be a plain SQL identifier`);
  }
  return { connectionString: u.toString(), ...(schema !== undefined && { schema }) };
}

type Queryable = pg.Pool | pg.PoolClient;

/**
 * Opens a pool on `url` and runs `schemaSql` (idempotent DDL) in the URL's schema. Shared by the store
 * and the FHIR state so both use one database, one schema and one migration lock.
 */
export async function openPool(url: string, schemaSql: string, max = 10): Promise<pg.Pool> {
  const { connectionString, schema } = parseDatabaseUrl(url);
  const pool = new pg.Pool({
    connectionString,
    max,
    ...(schema !== undefined && { options: `-c search_path=${schema}` }),
  });
  // A dropped idle connection must not crash the process (SPEC 5 "never crashes a process").
  pool.on("error", () => {});
  let client: pg.PoolClient | undefined;
  try {
    client = await pool.connect();
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(schemaSql);
    await client.query("COMMIT");
    client.release();
    return pool;
  } catch (err) {
    if (client) {
      await client.query("ROLLBACK").catch(() => {});
      client.release();
    }
    await pool.end();
    throw err;
  }
}

/** PostgreSQL implementation of {@link Store}. Create with {@link PostgresStore.open}. */
export class PostgresStore implements Store {
  readonly kind = "postgres" as const;

  private constructor(private readonly pool: pg.Pool) {}

  /** Connects, selects (and creates) the schema named in the URL, and creates the tables. */
  static async open(url: string): Promise<PostgresStore> {
    return new PostgresStore(await openPool(url, SCHEMA));
  }

  async createRequest(req: NewRequest, first: NewDetermination, event: NewEvent): Promise<CreateResult> {
    return this.tx(async (c) => {
      // ON CONFLICT waits for a concurrent insert of the same key and then yields nothing: the replay
      // below reads the winner's committed row.
      const ins = await c.query(
        `INSERT INTO requests (id, org, idem_key, submitted_case, received_at, expedited, due_at, status, md_only,
           engine_outcome, decision, decided_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1)
         ON CONFLICT (org, idem_key) DO NOTHING RETURNING id`,
        [
          req.id,
          req.org,
          req.idempotencyKey ?? null,
          req.submittedCaseJson,
          req.receivedAt,
          req.expedited ? 1 : 0,
          req.dueAt,
          req.status,
          req.medicalDirectorOnly ? 1 : 0,
          req.engineOutcome,
          req.decision ? JSON.stringify(req.decision) : null,
          req.decidedAt ?? null,
        ],
      );
      if (ins.rowCount === 0) {
        const ex = await c.query<{ id: string; submitted_case: string }>(
          "SELECT id, submitted_case FROM requests WHERE org = $1 AND idem_key = $2",
          [req.org, req.idempotencyKey ?? null],
        );
        const row = ex.rows[0]!;
        return {
          record: (await this.read(c, row.id))!,
          created: false,
          submittedCaseJson: row.submitted_case,
        };
      }
      await this.insertDetermination(c, req.id, 1, first);
      await this.insertEvent(c, req.id, 1, event);
      return {
        record: (await this.read(c, req.id))!,
        created: true,
        submittedCaseJson: req.submittedCaseJson,
      };
    });
  }

  async getRequest(id: string): Promise<RequestRecord | undefined> {
    return this.read(this.pool, id);
  }

  async appendDetermination(
    id: string,
    expectedVersion: number,
    det: NewDetermination,
    patch: DeterminationPatch,
    event: NewEvent,
  ): Promise<RequestRecord> {
    return this.tx(async (c) => {
      const r = await c.query(
        `UPDATE requests SET engine_outcome = $1, md_only = $2, version = version + 1
         WHERE id = $3 AND version = $4 AND status = 'awaiting-review'`,
        [patch.engineOutcome, patch.medicalDirectorOnly ? 1 : 0, id, expectedVersion],
      );
      if (r.rowCount !== 1)
        throw conflictOrMissing(id, await this.statusOf(c, id), "its answers can no longer change");
      // The row lock taken by the UPDATE serialises writers of this request, so MAX(seq)+1 is safe.
      await this.insertDetermination(c, id, await this.nextSeq(c, "determinations", id), det);
      await this.insertEvent(c, id, await this.nextSeq(c, "events", id), event);
      return (await this.read(c, id))!;
    });
  }

  async sign(
    id: string,
    decision: Decision,
    event: NewEvent,
    expectedVersion?: number,
  ): Promise<RequestRecord> {
    return this.tx(async (c) => {
      const r = await c.query(
        `UPDATE requests SET status = 'decided', decision = $1, decided_at = $2, version = version + 1
         WHERE id = $3 AND status = 'awaiting-review' AND ($4::integer IS NULL OR version = $4::integer)`,
        [JSON.stringify(decision), decision.signedAt, id, expectedVersion ?? null],
      );
      if (r.rowCount !== 1) throw conflictOrMissing(id, await this.statusOf(c, id), "it was already decided");
      await this.insertEvent(c, id, await this.nextSeq(c, "events", id), event);
      return (await this.read(c, id))!;
    });
  }

  async queue(): Promise<RequestSummary[]> {
    const r = await this.pool.query<RequestRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM requests WHERE status = 'awaiting-review' ORDER BY due_at, id`,
    );
    return r.rows.map(toSummary);
  }

  async list(opts: ListOptions = {}): Promise<RequestSummary[]> {
    const r = await this.pool.query<RequestRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM requests
       WHERE ($1::text IS NULL OR org = $1::text) AND ($2::text IS NULL OR status = $2::text)
       ORDER BY received_at DESC, id LIMIT $3`,
      [opts.org ?? null, opts.status ?? null, opts.limit ?? 100],
    );
    return r.rows.map(toSummary);
  }

  async metricsRows(): Promise<MetricsRow[]> {
    const r = await this.pool.query<RequestRow>(`SELECT ${SUMMARY_COLUMNS} FROM requests`);
    return r.rows.map(toMetricsRow);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query("BEGIN");
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  private async read(c: Queryable, id: string): Promise<RequestRecord | undefined> {
    const r = await c.query<RequestRow>(`SELECT ${SUMMARY_COLUMNS} FROM requests WHERE id = $1`, [id]);
    const row = r.rows[0];
    if (!row) return undefined;
    const dets = await c.query<DeterminationRow>(
      "SELECT * FROM determinations WHERE request_id = $1 ORDER BY seq",
      [id],
    );
    const events = await c.query<EventRow>("SELECT * FROM events WHERE request_id = $1 ORDER BY seq", [id]);
    return toRecord(row, dets.rows, events.rows);
  }

  private async statusOf(c: Queryable, id: string): Promise<{ status: string } | undefined> {
    const r = await c.query<{ status: string }>("SELECT status FROM requests WHERE id = $1", [id]);
    return r.rows[0];
  }

  private async nextSeq(c: Queryable, table: "determinations" | "events", id: string): Promise<number> {
    const r = await c.query<{ n: number }>(
      `SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM ${table} WHERE request_id = $1`,
      [id],
    );
    return Number(r.rows[0]!.n);
  }

  private async insertDetermination(
    c: Queryable,
    id: string,
    seq: number,
    d: NewDetermination,
  ): Promise<void> {
    const values = determinationValues(id, seq, d);
    await c.query(INSERT_SQL.postgres.determinations, values);
  }

  private async insertEvent(c: Queryable, id: string, seq: number, e: NewEvent): Promise<void> {
    const values = eventValues(id, seq, e);
    await c.query(INSERT_SQL.postgres.events, values);
  }
}
