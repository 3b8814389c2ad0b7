/**
 * The embedded store (SPEC 4 "an embedded database by default (no server to install)"): SQLite through
 * better-sqlite3 in WAL mode with `synchronous=FULL`, so a write is on disk before the call returns and
 * no acknowledged write survives only in memory (SPEC 4 "Nothing acknowledged is ever lost").
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import Database from "better-sqlite3";
import { ACCESS_SCHEMA, sqliteAccess } from "./access.js";
import type { Settled } from "./batcher.js";
import {
  ADDED_COLUMNS,
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
  UNINDEXED_INDEX,
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

/** A new request's row ({@link requestValues}); the case is stored once, with the first determination. */
const NEW_REQUEST_SQL = `INSERT INTO requests (${ROW_COLUMNS.requests.join(", ")}, submitted_case, version)
  VALUES (${ROW_COLUMNS.requests.map(() => "?").join(", ")}, '', 1)`;

/** SQLite implementation of {@link Store}; `dir/medpolicy.db`. */
export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  private readonly db: Database.Database;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.db = new Database(join(dir, "medpolicy.db"));
    this.db.pragma("journal_mode = WAL");
    // FULL: the WAL is fsynced at every commit, so a SIGKILL or power loss after the reply loses nothing.
    this.db.pragma("synchronous = FULL");
    this.db.pragma("foreign_keys = ON");
    // Another process on the same file (a second server, the CLI) waits instead of failing.
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
    this.migrate();
    this.db.exec(ACCESS_SCHEMA.sqlite);
    sqliteAccess.migrate(this.db);
  }

  private reproducer: Reproducer | undefined;

  /** Writes waiting for the next group commit. */
  private pending: { tx: () => unknown; resolve(v: unknown): void; reject(e: unknown): void }[] = [];
  private flushScheduled = false;

  /**
   * Group commit (issue 13): the writes that arrive in one turn of the event loop run in one
   * transaction, each in its own savepoint (a write that fails — a conflict — is undone alone and
   * rejects alone), and are committed with one fsync. Every promise settles only after that commit, so
   * an acknowledged write is on disk (synchronous=FULL) as before; only the number of fsyncs changes
   * (one per batch instead of one per write, the bound that kept POST /api/requests near 240/s).
   */
  private group<T>(tx: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ tx, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    const results: Settled<unknown>[] = [];
    try {
      // IMMEDIATE: take the write lock up front so a concurrent writer process cannot interleave.
      this.db
        .transaction(() => {
          for (const w of batch) {
            try {
              // A better-sqlite3 transaction function called inside another runs as a SAVEPOINT.
              results.push({ ok: true, value: w.tx() });
            } catch (error) {
              results.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (error) {
      // The commit itself failed (disk full, busy past the timeout): nothing of the batch is stored.
      for (const w of batch) w.reject(error);
      return;
    }
    batch.forEach((w, i) => {
      const r = results[i]!;
      if (r.ok) w.resolve(r.value);
      else w.reject(r.error);
    });
  }

  setReproducer(reproduce: Reproducer): void {
    this.reproducer = reproduce;
  }

  /** Adds the columns a database of an earlier schema lacks (issue 13; additive, in one transaction). */
  private migrate(): void {
    this.db
      .transaction(() => {
        for (const [table, columns] of Object.entries(ADDED_COLUMNS)) {
          const have = new Set(
            (this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name),
          );
          for (const [column, type] of Object.entries(columns)) {
            if (!have.has(column)) this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
          }
        }
        this.db.exec(UNINDEXED_INDEX);
        // Issue 14: requests stored before the queue's index get one (once: then none is NULL).
        const update = this.db.prepare("UPDATE requests SET summary = ?, search = ? WHERE id = ?");
        for (const row of this.db.prepare(UNINDEXED_SQL).all() as {
          id: string;
          case_json: string;
          case_z: Uint8Array | null;
        }[]) {
          update.run(...backfillValues(row), row.id);
        }
      })
      .immediate();
  }

  async createRequest(req: NewRequest, first: NewDetermination, event: NewEvent): Promise<CreateResult> {
    const tx = this.db.transaction((): CreateResult => {
      if (req.idempotencyKey !== undefined) {
        const existing = this.stmt(
          "SELECT id, submitted_case FROM requests WHERE org = ? AND idem_key = ?",
        ).get(req.org, req.idempotencyKey) as { id: string; submitted_case: string } | undefined;
        if (existing) {
          const record = this.read(existing.id)!;
          return {
            record,
            created: false,
            // Stored once, with the first determination (issue 13); rows of the earlier schema had a copy here.
            submittedCaseJson: existing.submitted_case || record.determinations[0]!.caseJson,
          };
        }
      }
      this.stmt(NEW_REQUEST_SQL).run(...requestValues(req));
      this.insertDetermination(req.id, 1, first);
      this.insertEvent(req.id, 1, event);
      return {
        record: newRecord(req, first, event),
        created: true,
        submittedCaseJson: req.submittedCaseJson,
      };
    });
    return this.group(tx);
  }

  async getRequest(id: string): Promise<RequestRecord | undefined> {
    return this.read(id);
  }

  async appendDetermination(
    id: string,
    expectedVersion: number,
    det: NewDetermination,
    patch: DeterminationPatch,
    event: NewEvent,
  ): Promise<RequestRecord> {
    const tx = this.db.transaction((): RequestRecord => {
      const r =
        patch.workflow === undefined
          ? this.stmt(
              `UPDATE requests SET engine_outcome = ?, md_only = ?, version = version + 1
                 WHERE id = ? AND version = ? AND status = 'awaiting-review'`,
            ).run(patch.engineOutcome, patch.medicalDirectorOnly ? 1 : 0, id, expectedVersion)
          : this.stmt(
              `UPDATE requests SET engine_outcome = ?, md_only = ?, workflow = ?, version = version + 1
                 WHERE id = ? AND version = ? AND status = 'awaiting-review'`,
            ).run(
              patch.engineOutcome,
              patch.medicalDirectorOnly ? 1 : 0,
              workflowValue(patch.workflow),
              id,
              expectedVersion,
            );
      if (r.changes !== 1) throw conflictOrMissing(id, this.statusOf(id), "its answers can no longer change");
      const seq = this.nextSeq("determinations", id);
      this.insertDetermination(id, seq, det);
      this.insertEvent(id, this.nextSeq("events", id), event);
      return knownDetermination(this.read(id)!, seq, det);
    });
    return this.group(tx);
  }

  async sign(
    id: string,
    decision: Decision,
    event: NewEvent,
    expectedVersion?: number,
    extra: { letterHtml?: string; workflow?: Workflow } = {},
  ): Promise<RequestRecord> {
    const tx = this.db.transaction((): RequestRecord => {
      const r = this.stmt(
        `UPDATE requests SET status = 'decided', decision = ?, decided_at = ?, version = version + 1,
             letter = COALESCE(?, letter), workflow = CASE WHEN ? = 1 THEN ? ELSE workflow END
           WHERE id = ? AND status = 'awaiting-review' AND (? IS NULL OR version = ?)`,
      ).run(
        JSON.stringify(decision),
        decision.signedAt,
        extra.letterHtml === undefined ? null : deflateRawSync(extra.letterHtml),
        extra.workflow === undefined ? 0 : 1,
        extra.workflow === undefined ? null : workflowValue(extra.workflow),
        id,
        expectedVersion ?? null,
        expectedVersion ?? null,
      );
      if (r.changes !== 1) throw conflictOrMissing(id, this.statusOf(id), "it was already decided");
      this.insertEvent(id, this.nextSeq("events", id), event);
      return this.read(id)!;
    });
    return this.group(tx);
  }

  async getLetter(id: string): Promise<string | undefined> {
    const row = this.stmt("SELECT letter FROM requests WHERE id = ?").get(id) as
      | { letter: Uint8Array | null }
      | undefined;
    return row?.letter ? inflateRawSync(row.letter).toString("utf8") : undefined;
  }

  async updateWorkflow(id: string, change: WorkflowChange): Promise<RequestRecord> {
    const tx = this.db.transaction((): RequestRecord => {
      const r = this.stmt(
        `UPDATE requests SET workflow = ?, assignee = ?, md_only = CASE WHEN ? = 1 THEN 1 ELSE md_only END,
             status = CASE WHEN ? = 1 THEN 'withdrawn' ELSE status END, version = version + 1
           WHERE id = ? AND (? = 0 OR status = 'awaiting-review') AND (? IS NULL OR version = ?)`,
      ).run(
        workflowValue(change.workflow),
        change.workflow.assignee?.sub ?? null,
        change.medicalDirectorOnly ? 1 : 0,
        change.withdraw ? 1 : 0,
        id,
        change.requireOpen ? 1 : 0,
        change.expectedVersion ?? null,
        change.expectedVersion ?? null,
      );
      if (r.changes !== 1) throw conflictOrMissing(id, this.statusOf(id), "its review can no longer change");
      this.insertEvent(id, this.nextSeq("events", id), change.event);
      return this.read(id)!;
    });
    return this.group(tx);
  }

  async addEvent(id: string, event: NewEvent): Promise<RequestRecord> {
    const tx = this.db.transaction((): RequestRecord => {
      if (!this.statusOf(id)) throw conflictOrMissing(id, undefined, "");
      this.insertEvent(id, this.nextSeq("events", id), event);
      return this.read(id)!;
    });
    return this.group(tx);
  }

  async addAttachment(id: string, a: NewAttachment, max: number, event: NewEvent): Promise<RequestRecord> {
    const tx = this.db.transaction((): RequestRecord => {
      if (!this.statusOf(id)) throw conflictOrMissing(id, undefined, "");
      const { n } = this.stmt("SELECT COUNT(*) AS n FROM attachments WHERE request_id = ?").get(id) as {
        n: number;
      };
      if (n >= max) throw tooManyAttachments(id, max);
      this.stmt(
        `INSERT INTO attachments (request_id, ${ATTACHMENT_COLUMNS}, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
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
      );
      this.insertEvent(id, this.nextSeq("events", id), event);
      return this.read(id)!;
    });
    return this.group(tx);
  }

  async getAttachment(
    id: string,
    attachmentId: string,
  ): Promise<{ meta: AttachmentMeta; data: Uint8Array } | undefined> {
    const row = this.stmt(
      `SELECT ${ATTACHMENT_COLUMNS}, data FROM attachments WHERE request_id = ? AND id = ?`,
    ).get(id, attachmentId) as (AttachmentRow & { data: Uint8Array }) | undefined;
    return row ? { meta: toAttachment(row), data: row.data } : undefined;
  }

  async queue(opts: QueueOptions = {}): Promise<RequestSummary[]> {
    const q = opts.q?.trim() ? opts.q : undefined;
    const rows = this.stmt(
      `SELECT ${SUMMARY_COLUMNS} FROM requests WHERE status = 'awaiting-review'
         AND (? IS NULL OR id = ? OR search LIKE ? ESCAPE '\\')
         AND (? = 0 OR (? IS NULL AND assignee IS NULL) OR assignee = ?)
         ORDER BY due_at, id`,
    ).all(
      q ?? null,
      q?.trim().toLowerCase() ?? null,
      q === undefined ? null : likePattern(q),
      opts.assignee === undefined ? 0 : 1,
      opts.assignee ?? null,
      opts.assignee ?? null,
    ) as RequestRow[];
    return rows.map(toSummary);
  }

  async list(opts: ListOptions = {}): Promise<RequestSummary[]> {
    const rows = this.stmt(
      `SELECT ${SUMMARY_COLUMNS} FROM requests
         WHERE (? IS NULL OR org = ?) AND (? IS NULL OR status = ?)
         ORDER BY received_at DESC, id LIMIT ?`,
    ).all(
      opts.org ?? null,
      opts.org ?? null,
      opts.status ?? null,
      opts.status ?? null,
      opts.limit ?? 100,
    ) as RequestRow[];
    return rows.map(toSummary);
  }

  async metricsRows(): Promise<MetricsRow[]> {
    const rows = this.stmt(`SELECT ${SUMMARY_COLUMNS} FROM requests`).all() as RequestRow[];
    return rows.map(toMetricsRow);
  }

  async *scanDeterminations(opts: ScanOptions = {}): AsyncIterable<ScannedDetermination[]> {
    yield* this.scans().scanDeterminations(opts);
  }

  async *scanBoundaries(size: number): AsyncIterable<ScanKey> {
    yield* this.scans().scanBoundaries(size);
  }

  private scanner: SqliteScanner | undefined;

  /** The scans' connection of their own (see {@link SqliteScanner}), opened once and kept. */
  private scans(): SqliteScanner {
    if (this.scanner?.open) return this.scanner;
    this.scanner = new SqliteScanner(this.db.name);
    return this.scanner;
  }

  // Issue 13: the PHI-read audit trail and the instance registry (SQL in access.ts).
  async useNonce(client: string, jti: string, expires: number, now: number): Promise<boolean> {
    return sqliteAccess.useNonce(this.db, client, jti, expires, now);
  }

  async recordReads(rows: readonly ReadRecord[]): Promise<void> {
    sqliteAccess.recordReads(this.db, rows);
  }

  async listReads(q: ReadQuery): Promise<ReadEntry[]> {
    return sqliteAccess.listReads(this.db, q);
  }

  async registerInstance(me: InstanceRecord, liveSince: string): Promise<InstanceRecord[]> {
    return sqliteAccess.registerInstance(this.db, me, liveSince);
  }

  async touchInstance(id: string, at: string): Promise<void> {
    if (this.db.open) sqliteAccess.touchInstance(this.db, id, at);
  }

  async removeInstance(id: string): Promise<void> {
    if (this.db.open) sqliteAccess.removeInstance(this.db, id);
  }

  async close(): Promise<void> {
    // Writes still waiting for their group commit are committed (and their callers answered) first.
    if (this.pending.length > 0 && this.db.open) this.flush();
    await this.scanner?.close();
    if (this.db.open) this.db.close();
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** Prepared statements are cached: preparing costs more than running these small queries. */
  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private read(id: string): RequestRecord | undefined {
    const row = this.stmt(`SELECT ${SUMMARY_COLUMNS} FROM requests WHERE id = ?`).get(id) as
      | RequestRow
      | undefined;
    if (!row) return undefined;
    const dets = this.stmt("SELECT * FROM determinations WHERE request_id = ? ORDER BY seq").all(
      id,
    ) as DeterminationRow[];
    const events = this.stmt("SELECT * FROM events WHERE request_id = ? ORDER BY seq").all(id) as EventRow[];
    const attachments = this.stmt(
      `SELECT ${ATTACHMENT_COLUMNS} FROM attachments WHERE request_id = ? ORDER BY added_at, id`,
    ).all(id) as AttachmentRow[];
    return toRecord(row, dets, events, this.reproducer, attachments);
  }

  private statusOf(id: string): { status: string } | undefined {
    return this.stmt("SELECT status FROM requests WHERE id = ?").get(id) as { status: string } | undefined;
  }

  private nextSeq(table: "determinations" | "events", id: string): number {
    const r = this.stmt(`SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM ${table} WHERE request_id = ?`).get(
      id,
    ) as {
      n: number;
    };
    return r.n;
  }

  private insertDetermination(id: string, seq: number, d: NewDetermination): void {
    const values = determinationValues(id, seq, d);
    this.stmt(INSERT_SQL.sqlite.determinations).run(...values);
  }

  private insertEvent(id: string, seq: number, e: NewEvent): void {
    const values = eventValues(id, seq, e);
    this.stmt(INSERT_SQL.sqlite.events).run(...values);
  }
}

/**
 * Issue 15 (impact): the scans of a SQLite store, on a read-only connection of their own — what
 * `medpolicy impact` and each of its worker threads read, without the store's schema checks and
 * migrations (a reader never writes). Memory-mapped: a scan reads the whole file, and mapped pages cost
 * half the CPU of pages copied by read(2). Kept open across scans: a parallel impact scans many
 * ranges, and each new connection maps and faults the file in again.
 */
export class SqliteScanner implements Pick<Store, "scanDeterminations" | "scanBoundaries" | "close"> {
  private readonly db: Database.Database;

  /** `file`: the store's medpolicy.db, which must exist. */
  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.db.pragma("busy_timeout = 5000");
    this.db.pragma(`mmap_size = ${1 << 30}`);
  }

  get open(): boolean {
    return this.db.open;
  }

  async *scanDeterminations(opts: ScanOptions = {}): AsyncIterable<ScannedDetermination[]> {
    const limit = Math.max(1, opts.pageSize ?? 1000);
    const through = opts.through;
    const page = this.db.prepare(through === undefined ? SCAN_SQL.sqlite : SCAN_RANGE_SQL.sqlite).raw();
    let after = opts.after ?? SCAN_START;
    for (;;) {
      const rows = (
        through === undefined
          ? page.all(...keyParams(after), limit)
          : page.all(...keyParams(after), ...keyParams(through), limit)
      ) as ScanRow[];
      if (rows.length === 0) return;
      after = scanRowKey(rows[rows.length - 1]!);
      yield toScanned(rows);
      if (rows.length < limit) return;
    }
  }

  async *scanBoundaries(size: number): AsyncIterable<ScanKey> {
    const next = this.db.prepare(BOUNDARY_SQL.sqlite).raw();
    let after = SCAN_START;
    for (;;) {
      const row = next.get(...keyParams(after), Math.max(1, size) - 1) as [string, string] | undefined;
      if (row === undefined) return;
      after = boundaryKey(row);
      yield after;
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
