/**
 * The PostgreSQL store (SPEC 4 "PostgreSQL when a URL is given, same behaviour"). Several server
 * processes may share one database: the queue is shared, and signing is an optimistic
 * `UPDATE … WHERE status = 'awaiting-review'` under PostgreSQL's row lock, so a request is never
 * signed twice (the loser gets a conflict → HTTP 409).
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import pg from "pg";
import { ACCESS_SCHEMA, postgresAccess } from "./access.js";
import { type Settled, WriteBatcher } from "./batcher.js";
import {
  ATTACHMENT_COLUMNS,
  type AttachmentRow,
  BOUNDARY_SQL,
  backfillValues,
  boundaryKey,
  conflictOrMissing,
  type DeterminationRow,
  determinationValues,
  type EventRow,
  eventValues,
  INSERT_SQL,
  keyParams,
  knownDetermination,
  likePattern,
  newRecord,
  POSTGRES_MIGRATION,
  type RequestRow,
  ROW_COLUMNS,
  requestValues,
  SCAN_RANGE_SQL,
  SCAN_SQL,
  SCAN_START,
  SCHEMA,
  type ScanRow,
  SUMMARY_COLUMNS,
  scanRowKey,
  toAttachment,
  toMetricsRow,
  tooManyAttachments,
  toRecord,
  toScanned,
  toSummary,
  UNINDEXED_SQL,
  workflowValue,
} from "./rows.js";
import type {
  AttachmentMeta,
  CreateResult,
  Decision,
  DeterminationPatch,
  InstanceRecord,
  ListOptions,
  MetricsRow,
  NewAttachment,
  NewDetermination,
  NewEvent,
  NewRequest,
  QueueOptions,
  ReadEntry,
  ReadQuery,
  ReadRecord,
  Reproducer,
  RequestRecord,
  RequestSummary,
  ScanKey,
  ScannedDetermination,
  ScanOptions,
  Store,
  Workflow,
  WorkflowChange,
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
 * A pool of `max` connections on `url`, in the URL's schema; nothing run yet. `min` of them, once
 * opened, stay open while idle (the others close after 10 s idle).
 */
function newPool(url: string, max: number, min = 0): pg.Pool {
  const { connectionString, schema } = parseDatabaseUrl(url);
  const pool = new pg.Pool({
    connectionString,
    max,
    min,
    ...(schema !== undefined && { options: `-c search_path=${schema}` }),
  });
  // A dropped idle connection must not crash the process (SPEC 5 "never crashes a process").
  pool.on("error", () => {});
  return pool;
}

/**
 * Opens a pool on `url` and runs `schemaSql` (idempotent DDL) in the URL's schema. Shared by the store
 * and the FHIR state so both use one database, one schema and one migration lock.
 */
export async function openPool(url: string, schemaSql: string, max = 10, min = 0): Promise<pg.Pool> {
  const { schema } = parseDatabaseUrl(url);
  const pool = newPool(url, max, min);
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

/**
 * Connections of the store's pool. Concurrent commits share a WAL flush (PostgreSQL's group commit);
 * new requests are also batched here ({@link CREATES_IN_FLIGHT}).
 */
const POOL_SIZE = 20;

/**
 * New requests written at once (issue 13): a request arriving while this many batches are being
 * written waits for the next batch (see {@link WriteBatcher}). 4: under light load every request still
 * goes out at once; under load the batches grow, and the cost per request falls (`npm run bench --
 * http`, PostgreSQL alone, three interleaved pairs: server CPU per request at saturation 354–439 →
 * 231–279 µs, saturation 1,869–2,452 → 2,964–3,818/s, p99 at 1,000/s 13–17 → 9–10 ms).
 */
const CREATES_IN_FLIGHT = 4;
/** New requests in one statement at most, and their cases' characters at most (a burst of large cases). */
const CREATES_PER_BATCH = 256;
const CREATE_BYTES_PER_BATCH = 4 * 1024 * 1024;
/**
 * Connections kept open while idle: the batches of new requests' (and a read or two beside them). A
 * request after a quiet spell then finds a connection with its statements prepared, instead of
 * paying for a connection (TCP, authentication, search_path) and a parse in its latency (`npm run
 * bench -- http`, whose PostgreSQL phase comes 40 s after its warm-up: p99 21–22 → 14–18 ms).
 */
const POOL_WARM = CREATES_IN_FLIGHT + 2;

const REQUEST_COLUMNS = ROW_COLUMNS.requests;
/** A determination's and an event's columns after `request_id, seq` (which the statement fills). */
const DETERMINATION_COLUMNS = ROW_COLUMNS.determinations.slice(2);
const EVENT_COLUMNS = ROW_COLUMNS.events.slice(2);
const CASE_Z = DETERMINATION_COLUMNS.indexOf("case_z");

/**
 * The one statement of {@link PostgresStore.createRequest}: a batch of new requests, each with its
 * first determination and first event, as data-modifying CTEs of one statement (atomic as a
 * transaction is; one round trip and one fsync'd commit for the batch — it was eight round trips per
 * request in a transaction, and saturated near 420/s). `$1` is a JSON array of rows (one parameter
 * whatever the batch's size, so one prepared statement; jsonb, as its elements are read by position
 * once parsed, where json would be scanned again for every field). A request whose (org, idempotency
 * key) is already stored is not inserted, nor are its determination and event; the ids inserted are
 * returned. Rows are inserted in key order, so two instances' batches that share keys take their
 * locks in one order and cannot deadlock on each other.
 */
const CREATE_SQL = (() => {
  const cast: Record<string, string> = { expedited: "::integer", md_only: "::integer", d_case_z: "::bytea" };
  const input = [
    ...REQUEST_COLUMNS,
    ...DETERMINATION_COLUMNS.map((c) => `d_${c}`),
    ...EVENT_COLUMNS.map((c) => `e_${c}`),
  ];
  const fields = input.map((c, i) => `(x ->> ${i})${cast[c] ?? ""} AS ${c}`).join(", ");
  return `WITH x AS (SELECT ${fields} FROM jsonb_array_elements($1::jsonb) AS x),
r AS (
  INSERT INTO requests (${REQUEST_COLUMNS.join(", ")}, submitted_case, version)
  SELECT ${REQUEST_COLUMNS.join(", ")}, '', 1 FROM x ORDER BY org, idem_key
  ON CONFLICT (org, idem_key) DO NOTHING RETURNING id
), d AS (
  INSERT INTO determinations (request_id, seq, ${DETERMINATION_COLUMNS.join(", ")})
  SELECT x.id, 1, ${DETERMINATION_COLUMNS.map((c) => `x.d_${c}`).join(", ")} FROM x JOIN r ON r.id = x.id
), e AS (
  INSERT INTO events (request_id, seq, ${EVENT_COLUMNS.join(", ")})
  SELECT x.id, 1, ${EVENT_COLUMNS.map((c) => `x.e_${c}`).join(", ")} FROM x JOIN r ON r.id = x.id
)
SELECT id FROM r`;
})();

/** A new request and its first rows, as {@link PostgresStore.createRequest} was given them. */
interface NewRequestRows {
  req: NewRequest;
  first: NewDetermination;
  event: NewEvent;
}

/** One row of {@link CREATE_SQL}'s input: the values in the order of its columns (bytea in hex, `\x…`). */
function createRow({ req, first, event }: NewRequestRows): unknown[] {
  const det = determinationValues(req.id, 1, first).slice(2);
  const z = det[CASE_Z] as Uint8Array | null;
  if (z !== null) det[CASE_Z] = `\\x${Buffer.from(z.buffer, z.byteOffset, z.byteLength).toString("hex")}`;
  return [...requestValues(req), ...det, ...eventValues(req.id, 1, event).slice(2)];
}

/** PostgreSQL implementation of {@link Store}. Create with {@link PostgresStore.open}. */
export class PostgresStore implements Store {
  readonly kind = "postgres" as const;

  private constructor(private readonly pool: pg.Pool) {}

  /**
   * Issue 15 (impact's worker threads): a reader of an existing store — connects and selects the
   * schema named in the URL, without creating or migrating anything (a reader never writes, and takes
   * no lock a live service would wait on), with a pool of `max` connections.
   */
  static async openReader(url: string, max = 2): Promise<PostgresStore> {
    const pool = newPool(url, max);
    try {
      await pool.query("SELECT 1 FROM requests LIMIT 0");
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PostgresStore(pool);
  }

  /** Connects, selects (and creates) the schema named in the URL, and creates the tables. */
  static async open(url: string): Promise<PostgresStore> {
    const pool = await openPool(
      url,
      SCHEMA + POSTGRES_MIGRATION + ACCESS_SCHEMA.postgres,
      POOL_SIZE,
      POOL_WARM,
    );
    // Issue 14: requests stored before the queue's index get one (once: then none is NULL; a second
    // process doing the same at once writes the same values).
    const rows = await pool.query<{ id: string; case_json: string; case_z: Buffer | null }>(UNINDEXED_SQL);
    for (const row of rows.rows) {
      await pool.query("UPDATE requests SET summary = $1, search = $2 WHERE id = $3", [
        ...backfillValues(row),
        row.id,
      ]);
    }
    return new PostgresStore(pool);
  }

  private reproducer: Reproducer | undefined;

  setReproducer(reproduce: Reproducer): void {
    this.reproducer = reproduce;
  }

  /** New requests, written in batches (see {@link CREATE_SQL} and {@link WriteBatcher}). */
  private readonly creates = new WriteBatcher<NewRequestRows, CreateResult>(
    (batch) => this.createBatch(batch),
    {
      inFlight: CREATES_IN_FLIGHT,
      maxBatch: CREATES_PER_BATCH,
      // Two submissions of one key are written one after the other: the second replays the first.
      // The case is most of a row's bytes (at most the body limit); the rest is under a kilobyte.
      weight: (w) => w.first.caseJson.length + 1024,
      maxWeight: CREATE_BYTES_PER_BATCH,
      key: (w) =>
        w.req.idempotencyKey === undefined ? undefined : JSON.stringify([w.req.org, w.req.idempotencyKey]),
    },
  );

  /**
   * Stores a new request with its first determination and event (issue 13: batched with the others
   * arriving meanwhile, one statement and one commit per batch); the record is built from what was
   * written, not read back. Resolves once committed.
   */
  async createRequest(req: NewRequest, first: NewDetermination, event: NewEvent): Promise<CreateResult> {
    return this.creates.submit({ req, first, event });
  }

  private async createBatch(batch: readonly NewRequestRows[]): Promise<Settled<CreateResult>[]> {
    let inserted: Set<string>;
    try {
      // Named: each connection parses and plans the statement once, not on every batch.
      const res = await this.pool.query<{ id: string }>({
        name: "medpolicy_create_requests",
        text: CREATE_SQL,
        values: [JSON.stringify(batch.map(createRow))],
      });
      inserted = new Set(res.rows.map((r) => r.id));
    } catch (error) {
      if (batch.length === 1) return [{ ok: false, error }];
      // One bad write must not fail the others: each is tried again alone, and fails alone.
      return (await Promise.all(batch.map((w) => this.createBatch([w])))).flat();
    }
    return Promise.all(
      batch.map(async (w): Promise<Settled<CreateResult>> => {
        if (inserted.has(w.req.id)) {
          const record = newRecord(w.req, w.first, w.event);
          return { ok: true, value: { record, created: true, submittedCaseJson: w.req.submittedCaseJson } };
        }
        try {
          return { ok: true, value: await this.earlier(w.req) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
  }

  /**
   * The request stored earlier under `req`'s (org, idempotency key): ON CONFLICT waits for a
   * concurrent insert of the same key and then inserts nothing, and this reads the winner's row.
   */
  private async earlier(req: NewRequest): Promise<CreateResult> {
    const ex = await this.pool.query<{ id: string; submitted_case: string }>(
      "SELECT id, submitted_case FROM requests WHERE org = $1 AND idem_key = $2",
      [req.org, req.idempotencyKey ?? null],
    );
    const row = ex.rows[0];
    const record = row && (await this.read(this.pool, row.id));
    if (!row || !record)
      throw new Error("request insert yielded nothing and no earlier request holds its key");
    return {
      record,
      created: false,
      // Stored once, with the first determination (issue 13); rows of the earlier schema had a copy here.
      submittedCaseJson: row.submitted_case || record.determinations[0]!.caseJson,
    };
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
        `UPDATE requests SET engine_outcome = $1, md_only = $2, version = version + 1,
           workflow = CASE WHEN $5::integer = 1 THEN $6::text ELSE workflow END
         WHERE id = $3 AND version = $4 AND status = 'awaiting-review'`,
        [
          patch.engineOutcome,
          patch.medicalDirectorOnly ? 1 : 0,
          id,
          expectedVersion,
          patch.workflow === undefined ? 0 : 1,
          patch.workflow === undefined ? null : workflowValue(patch.workflow),
        ],
      );
      if (r.rowCount !== 1)
        throw conflictOrMissing(id, await this.statusOf(c, id), "its answers can no longer change");
      // The row lock taken by the UPDATE serialises writers of this request, so MAX(seq)+1 is safe.
      const seq = await this.nextSeq(c, "determinations", id);
      await this.insertDetermination(c, id, seq, det);
      await this.insertEvent(c, id, await this.nextSeq(c, "events", id), event);
      return knownDetermination((await this.read(c, id))!, seq, det);
    });
  }

  async sign(
    id: string,
    decision: Decision,
    event: NewEvent,
    expectedVersion?: number,
    extra: { letterHtml?: string; workflow?: Workflow } = {},
  ): Promise<RequestRecord> {
    return this.tx(async (c) => {
      const r = await c.query(
        `UPDATE requests SET status = 'decided', decision = $1, decided_at = $2, version = version + 1,
           letter = COALESCE($5::bytea, letter),
           workflow = CASE WHEN $6::integer = 1 THEN $7::text ELSE workflow END
         WHERE id = $3 AND status = 'awaiting-review' AND ($4::integer IS NULL OR version = $4::integer)`,
        [
          JSON.stringify(decision),
          decision.signedAt,
          id,
          expectedVersion ?? null,
          extra.letterHtml === undefined ? null : deflateRawSync(extra.letterHtml),
          extra.workflow === undefined ? 0 : 1,
          extra.workflow === undefined ? null : workflowValue(extra.workflow),
        ],
      );
      if (r.rowCount !== 1) throw conflictOrMissing(id, await this.statusOf(c, id), "it was already decided");
      await this.insertEvent(c, id, await this.nextSeq(c, "events", id), event);
      return (await this.read(c, id))!;
    });
  }

  async getLetter(id: string): Promise<string | undefined> {
    const r = await this.pool.query<{ letter: Buffer | null }>("SELECT letter FROM requests WHERE id = $1", [
      id,
    ]);
    const z = r.rows[0]?.letter;
    return z ? inflateRawSync(z).toString("utf8") : undefined;
  }

  async updateWorkflow(id: string, change: WorkflowChange): Promise<RequestRecord> {
    return this.tx(async (c) => {
      const r = await c.query(
        `UPDATE requests SET workflow = $1, assignee = $2,
           md_only = CASE WHEN $3::integer = 1 THEN 1 ELSE md_only END,
           status = CASE WHEN $7::integer = 1 THEN 'withdrawn' ELSE status END, version = version + 1
         WHERE id = $4 AND ($5::integer = 0 OR status = 'awaiting-review')
           AND ($6::integer IS NULL OR version = $6::integer)`,
        [
          workflowValue(change.workflow),
          change.workflow.assignee?.sub ?? null,
          change.medicalDirectorOnly ? 1 : 0,
          id,
          change.requireOpen ? 1 : 0,
          change.expectedVersion ?? null,
          change.withdraw ? 1 : 0,
        ],
      );
      if (r.rowCount !== 1)
        throw conflictOrMissing(id, await this.statusOf(c, id), "its review can no longer change");
      await this.insertEvent(c, id, await this.nextSeq(c, "events", id), change.event);
      return (await this.read(c, id))!;
    });
  }

  async addEvent(id: string, event: NewEvent): Promise<RequestRecord> {
    return this.tx(async (c) => {
      // Locks the request row: events of one request are numbered one at a time.
      const r = await c.query("SELECT id FROM requests WHERE id = $1 FOR UPDATE", [id]);
      if (r.rowCount !== 1) throw conflictOrMissing(id, undefined, "");
      await this.insertEvent(c, id, await this.nextSeq(c, "events", id), event);
      return (await this.read(c, id))!;
    });
  }

  async addAttachment(id: string, a: NewAttachment, max: number, event: NewEvent): Promise<RequestRecord> {
    return this.tx(async (c) => {
      const r = await c.query("SELECT id FROM requests WHERE id = $1 FOR UPDATE", [id]);
      if (r.rowCount !== 1) throw conflictOrMissing(id, undefined, "");
      // Counted under the request's row lock: concurrent uploads cannot pass the limit together.
      const count = await c.query<{ n: string }>(
        "SELECT COUNT(*) AS n FROM attachments WHERE request_id = $1",
        [id],
      );
      if (Number(count.rows[0]!.n) >= max) throw tooManyAttachments(id, max);
      await c.query(
        `INSERT INTO attachments (request_id, ${ATTACHMENT_COLUMNS}, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          id,
          a.id,
          a.title,
          a.contentType,
          a.size,
          a.sha256,
          a.source,
          a.addedAt,
          JSON.stringify(a.addedBy),
          Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength),
        ],
      );
      await this.insertEvent(c, id, await this.nextSeq(c, "events", id), event);
      return (await this.read(c, id))!;
    });
  }

  async getAttachment(
    id: string,
    attachmentId: string,
  ): Promise<{ meta: AttachmentMeta; data: Uint8Array } | undefined> {
    const r = await this.pool.query<AttachmentRow & { data: Buffer }>(
      `SELECT ${ATTACHMENT_COLUMNS}, data FROM attachments WHERE request_id = $1 AND id = $2`,
      [id, attachmentId],
    );
    const row = r.rows[0];
    return row ? { meta: toAttachment(row), data: row.data } : undefined;
  }

  async queue(opts: QueueOptions = {}): Promise<RequestSummary[]> {
    const q = opts.q?.trim() ? opts.q : undefined;
    const r = await this.pool.query<RequestRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM requests WHERE status = 'awaiting-review'
         AND ($1::text IS NULL OR id = $2::text OR search LIKE $3::text ESCAPE '\\')
         AND ($4::integer = 0 OR ($5::text IS NULL AND assignee IS NULL) OR assignee = $5::text)
       ORDER BY due_at, id`,
      [
        q ?? null,
        q?.trim().toLowerCase() ?? null,
        q === undefined ? null : likePattern(q),
        opts.assignee === undefined ? 0 : 1,
        opts.assignee ?? null,
      ],
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

  async *scanDeterminations(opts: ScanOptions = {}): AsyncIterable<ScannedDetermination[]> {
    const limit = Math.max(1, opts.pageSize ?? 1000);
    const through = opts.through;
    const page = (after: ScanKey) => {
      const config: pg.QueryArrayConfig =
        through === undefined
          ? {
              name: "medpolicy_scan",
              text: SCAN_SQL.postgres,
              values: [...keyParams(after), limit],
              rowMode: "array",
            }
          : {
              name: "medpolicy_scan_range",
              text: SCAN_RANGE_SQL.postgres,
              values: [...keyParams(after), ...keyParams(through), limit],
              rowMode: "array",
            };
      const q = this.pool.query(config).then((r) => r.rows as unknown as ScanRow[]);
      // Awaited below; a scan abandoned with a page in flight must not leave an unhandled rejection.
      q.catch(() => {});
      return q;
    };
    let next = page(opts.after ?? SCAN_START);
    for (;;) {
      const rows = await next;
      if (rows.length === 0) return;
      // The next page is fetched while the caller works through this one.
      if (rows.length === limit) next = page(scanRowKey(rows[rows.length - 1]!));
      yield toScanned(rows);
      if (rows.length < limit) return;
    }
  }

  async *scanBoundaries(size: number): AsyncIterable<ScanKey> {
    let after = SCAN_START;
    for (;;) {
      const r = await this.pool.query<[string, string]>({
        name: "medpolicy_scan_boundary",
        text: BOUNDARY_SQL.postgres,
        values: [...keyParams(after), Math.max(1, size) - 1],
        rowMode: "array",
      });
      const row = r.rows[0];
      if (row === undefined) return;
      after = boundaryKey(row);
      yield after;
    }
  }

  // Issue 13: the PHI-read audit trail and the instance registry (SQL in access.ts).
  async useNonce(client: string, jti: string, expires: number, now: number): Promise<boolean> {
    return postgresAccess.useNonce(this.pool, client, jti, expires, now);
  }

  async recordReads(rows: readonly ReadRecord[]): Promise<void> {
    await postgresAccess.recordReads(this.pool, rows);
  }

  async listReads(q: ReadQuery): Promise<ReadEntry[]> {
    return postgresAccess.listReads(this.pool, q);
  }

  async registerInstance(me: InstanceRecord, liveSince: string): Promise<InstanceRecord[]> {
    return postgresAccess.registerInstance(this.pool, me, liveSince);
  }

  async touchInstance(id: string, at: string): Promise<void> {
    await postgresAccess.touchInstance(this.pool, id, at);
  }

  async removeInstance(id: string): Promise<void> {
    await postgresAccess.removeInstance(this.pool, id);
  }

  async close(): Promise<void> {
    // New requests still waiting for their batch are written (and their callers answered) first.
    await this.creates.drained();
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
    const attachments = await c.query<AttachmentRow>(
      `SELECT ${ATTACHMENT_COLUMNS} FROM attachments WHERE request_id = $1 ORDER BY added_at, id`,
      [id],
    );
    return toRecord(row, dets.rows, events.rows, this.reproducer, attachments.rows);
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
