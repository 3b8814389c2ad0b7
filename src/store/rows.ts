/**
 * Row ↔ record mapping shared by both stores, so SQLite and PostgreSQL return identical records
 * (SPEC 4 "same behaviour"). Both keep timestamps as ISO-8601 text and flags as 0/1 integers.
 */
import { createHash } from "node:crypto";
import { InputError, MedpolicyError, NotFoundError, type Outcome } from "../model/index.js";
import { storeCase, storedCase } from "./case-codec.js";
import type {
  Actor,
  AttachmentMeta,
  AuditEvent,
  Decision,
  DeterminationRecord,
  MetricsRow,
  NewDetermination,
  NewEvent,
  NewRequest,
  Reproducer,
  RequestIndex,
  RequestRecord,
  RequestStatus,
  RequestSummary,
  ScanKey,
  ScannedDetermination,
  Workflow,
} from "./types.js";

/** sha256 (hex) of a determination's JSON (see `DeterminationRecord.determinationHash`). */
export function hashDetermination(json: string | Uint8Array): string {
  return createHash("sha256").update(json).digest("hex");
}

/**
 * A determination's record fields copied onto `target` as they are: getters stay getters (a JSON
 * computed lazily stays lazy), the in-memory determination stays non-enumerable.
 */
function copyDetermination(target: { seq: number }, d: NewDetermination): DeterminationRecord {
  return Object.defineProperties(target, Object.getOwnPropertyDescriptors(d)) as DeterminationRecord;
}

/**
 * The values of a determination row, in the column order of {@link INSERT_SQL}. The determination's
 * JSON is not stored (`''`, kept for the column of the earlier schema): it is recomputed from the case
 * on read, and its hash kept to tell whether a recomputation is the same (issue 13). The case is kept
 * as {@link storeCase} says: plain in `case_json`, or deflated in `case_z` when large.
 */
export function determinationValues(id: string, seq: number, d: NewDetermination): unknown[] {
  const kept = storeCase(d.caseJson);
  return [
    id,
    seq,
    d.createdAt,
    d.trigger,
    JSON.stringify(d.actor),
    kept.caseJson,
    d.today,
    d.policyId ?? null,
    d.policyVersion ?? null,
    d.policyHash ?? null,
    d.engine,
    d.outcome,
    "",
    d.determinationHash,
    kept.caseZ,
  ];
}

/** The values of a new request's row, in the order of {@link ROW_COLUMNS}`.requests`. */
export function requestValues(req: NewRequest): unknown[] {
  return [
    req.id,
    req.org,
    req.idempotencyKey ?? null,
    req.receivedAt,
    req.expedited ? 1 : 0,
    req.dueAt,
    req.status,
    req.medicalDirectorOnly ? 1 : 0,
    req.engineOutcome,
    req.decision ? JSON.stringify(req.decision) : null,
    req.decidedAt ?? null,
    req.index ? JSON.stringify(req.index) : null,
    searchTextOf(req.index),
  ];
}

/** The values of an event row, in the column order of {@link INSERT_SQL}. */
export function eventValues(id: string, seq: number, e: NewEvent): unknown[] {
  return [
    id,
    seq,
    e.at,
    e.action,
    JSON.stringify(e.actor),
    e.detail === undefined ? null : JSON.stringify(e.detail),
  ];
}

/**
 * The columns of a new request's row, a determination's and an event's: the order of
 * {@link requestValues}, {@link determinationValues} and {@link eventValues}. A new request's other
 * columns are constants: `submitted_case` `''` (the case is stored once, with the first determination:
 * issue 13) and `version` 1.
 */
export const ROW_COLUMNS = {
  requests: [
    "id",
    "org",
    "idem_key",
    "received_at",
    "expedited",
    "due_at",
    "status",
    "md_only",
    "engine_outcome",
    "decision",
    "decided_at",
    "summary",
    "search",
  ],
  determinations: [
    "request_id",
    "seq",
    "created_at",
    "trigger",
    "actor",
    "case_json",
    "today",
    "policy_id",
    "policy_version",
    "policy_hash",
    "engine",
    "outcome",
    "determination",
    "det_hash",
    "case_z",
  ],
  events: ["request_id", "seq", "at", "action", "actor", "detail"],
} as const;

function insert(table: "determinations" | "events", dialect: "sqlite" | "postgres"): string {
  const columns = ROW_COLUMNS[table];
  const marks = columns.map((_, i) => (dialect === "sqlite" ? "?" : `$${i + 1}`));
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${marks.join(", ")})`;
}

/** The inserts both stores run, in each one's placeholder syntax (`?` or `$n`). */
export const INSERT_SQL = {
  sqlite: { determinations: insert("determinations", "sqlite"), events: insert("events", "sqlite") },
  postgres: { determinations: insert("determinations", "postgres"), events: insert("events", "postgres") },
};

/** Columns of `requests` read for a summary (everything but the submitted case and the letter). */
export const SUMMARY_COLUMNS =
  "id, org, idem_key, received_at, expedited, due_at, status, md_only, engine_outcome, decision, decided_at, version, workflow, summary";

/**
 * Issue 14: the lower-cased text the queue's search matches (member name and id, provider name and
 * NPI), or null when the case names none of them; the request id is matched on its own column.
 */
export function searchTextOf(index: RequestIndex | undefined): string | null {
  if (!index) return null;
  const parts = [index.memberName, index.memberId, index.providerName, index.providerNpi].filter(
    (x): x is string => x !== undefined && x !== "",
  );
  // A separator no query can contain across two fields (queries are trimmed and single-line).
  return parts.length === 0 ? null : parts.join("\n").toLowerCase();
}

/**
 * Issue 14: what the queue shows and searches of a case — member name and id, the requesting (else
 * servicing) provider, the codes — from the case as validated, or as stored (read defensively: a
 * request stored before issue 14 is indexed when its database is opened).
 */
export function indexOfCase(c: unknown): RequestIndex {
  const o = (x: unknown): Record<string, unknown> =>
    typeof x === "object" && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : {};
  const str = (x: unknown) => (typeof x === "string" && x !== "" ? x : undefined);
  const member = o(o(c).member);
  const providers = o(o(c).providers);
  const p = o(providers.requesting ?? providers.servicing);
  const service = o(o(c).service);
  const codes = service.codes;
  const dateOfService = str(service.dateOfService);
  const memberName = str(member.name);
  const memberId = str(member.id);
  const providerName = str(p.name);
  const providerNpi = str(p.npi);
  return {
    ...(memberName !== undefined && { memberName }),
    ...(memberId !== undefined && { memberId }),
    ...(providerName !== undefined && { providerName }),
    ...(providerNpi !== undefined && { providerNpi }),
    codes: Array.isArray(codes) ? codes.filter((x): x is string => typeof x === "string") : [],
    ...(dateOfService !== undefined && { dateOfService }),
  };
}

/** Issue 14: requests stored before the queue's index, with their first case (to index them). */
/**
 * A partial index of the requests {@link UNINDEXED_SQL} looks for: empty once every row is indexed, so
 * the check every start makes costs nothing instead of a scan of the whole table (it cost 7% of a
 * `medpolicy impact` over 100,000 requests). Made after the `summary` column exists (migrations).
 */
export const UNINDEXED_INDEX =
  "CREATE INDEX IF NOT EXISTS requests_unindexed ON requests (id) WHERE summary IS NULL";

export const UNINDEXED_SQL = `SELECT r.id AS id, d.case_json AS case_json, d.case_z AS case_z
  FROM requests r JOIN determinations d ON d.request_id = r.id AND d.seq = 1 WHERE r.summary IS NULL`;

/** The index and search text of an unindexed row (its case stored plain, or compressed). */
export function backfillValues(row: {
  case_json: string;
  case_z: Uint8Array | null;
}): [string, string | null] {
  const json = storedCase(row.case_json, row.case_z);
  let c: unknown;
  try {
    c = JSON.parse(json);
  } catch {
    c = {};
  }
  const index = indexOfCase(c);
  return [JSON.stringify(index), searchTextOf(index)];
}

/** Issue 14: a workflow as stored: null when empty (most requests are never assigned nor asked). */
export function workflowValue(w: Workflow): string | null {
  return Object.keys(w).length === 0 ? null : JSON.stringify(w);
}

/**
 * Issue 14: a queue search as a LIKE pattern (`%…%`, with `\` escaping the pattern's own wildcards),
 * lower-cased as the stored search text is.
 */
export function likePattern(q: string): string {
  let out = "%";
  for (const ch of q.trim().toLowerCase()) out += ch === "%" || ch === "_" || ch === "\\" ? `\\${ch}` : ch;
  return `${out}%`;
}

/** Issue 14: the error for a request already holding its most documents. */
export function tooManyAttachments(id: string, max: number): Error {
  return new InputError(`request ${id} already has ${max} attachments, the most it may hold`, {
    field: "data",
  });
}

/** Attachment rows as metadata (no bytes). */
export const ATTACHMENT_COLUMNS = "id, title, content_type, size, sha256, source, added_at, added_by";

export interface AttachmentRow {
  id: string;
  title: string;
  content_type: string;
  size: number | string;
  sha256: string;
  source: string;
  added_at: string;
  added_by: string;
}

export function toAttachment(r: AttachmentRow): AttachmentMeta {
  return {
    id: r.id,
    title: r.title,
    contentType: r.content_type,
    size: Number(r.size),
    sha256: r.sha256,
    source: r.source as AttachmentMeta["source"],
    addedAt: r.added_at,
    addedBy: JSON.parse(r.added_by) as Actor,
  };
}

export interface RequestRow {
  id: string;
  org: string;
  idem_key: string | null;
  received_at: string;
  expedited: number;
  due_at: string;
  status: string;
  md_only: number;
  engine_outcome: string;
  decision: string | null;
  decided_at: string | null;
  version: number | string;
  workflow: string | null;
  summary: string | null;
}

export interface DeterminationRow {
  seq: number | string;
  created_at: string;
  trigger: string;
  actor: string;
  case_json: string;
  today: string;
  policy_id: string | null;
  policy_version: string | null;
  policy_hash: string | null;
  engine: string;
  outcome: string;
  /** `''` since issue 13 (recomputed on read); the canonical JSON in rows written before. */
  determination: string;
  /** Null in rows written before issue 13. */
  det_hash: string | null;
  /**
   * The case deflated (case-codec.ts), `case_json` then `''`; null when `case_json` holds the case: a
   * case of up to 768 bytes, or any row written before issue 13.
   */
  case_z: Uint8Array | null;
}

export interface EventRow {
  seq: number | string;
  at: string;
  action: string;
  actor: string;
  detail: string | null;
}

/**
 * A stored decision as read. Decisions signed code by code between 0532293 and 99ffcd5 hold each
 * line's criteria as bare ids: read as the decision's cited criteria of those ids, so every reader
 * (letters, PAS, the web app) sees one shape.
 */
export function decisionOf(json: string): Decision {
  const d = JSON.parse(json) as Decision;
  if (!d.lines?.some((l) => l.criteria?.some((c) => typeof c === "string"))) return d;
  const byId = new Map(d.criteria.map((c) => [c.criterion, c]));
  return {
    ...d,
    lines: d.lines.map((l) =>
      l.criteria
        ? {
            ...l,
            criteria: l.criteria.map((c) =>
              typeof c === "string" ? (byId.get(c) ?? { criterion: c, text: c }) : c,
            ),
          }
        : l,
    ),
  };
}

export function toSummary(r: RequestRow): RequestSummary {
  const decision = r.decision ? decisionOf(r.decision) : undefined;
  return {
    id: r.id,
    org: r.org,
    ...(r.idem_key !== null && { idempotencyKey: r.idem_key }),
    receivedAt: r.received_at,
    expedited: Number(r.expedited) === 1,
    dueAt: r.due_at,
    status: r.status as RequestStatus,
    medicalDirectorOnly: Number(r.md_only) === 1,
    engineOutcome: r.engine_outcome as Outcome,
    ...(r.decided_at !== null && { decidedAt: r.decided_at }),
    ...(decision && { decisionOutcome: decision.outcome }),
    version: Number(r.version),
    workflow: r.workflow ? (JSON.parse(r.workflow) as Workflow) : {},
    ...(r.summary && { index: JSON.parse(r.summary) as RequestIndex }),
  };
}

export function toRecord(
  r: RequestRow,
  dets: DeterminationRow[],
  events: EventRow[],
  reproduce: Reproducer | undefined,
  attachments: AttachmentRow[] = [],
): RequestRecord {
  const { decisionOutcome: _omit, ...summary } = toSummary(r);
  return {
    ...summary,
    ...(r.decision !== null && { decision: decisionOf(r.decision) }),
    determinations: dets.map((d) => toDetermination(d, reproduce)),
    events: events.map(toEvent),
    attachments: attachments.map(toAttachment),
  };
}

/**
 * A stored row as a record. Its JSON is recomputed lazily (only when read: lists and the queue never
 * pay for it) and once per record object; a row from before issue 13 gives its stored bytes.
 */
function toDetermination(d: DeterminationRow, reproduce: Reproducer | undefined): DeterminationRecord {
  const caseJson = storedCase(d.case_json, d.case_z);
  const rec = {
    seq: Number(d.seq),
    createdAt: d.created_at,
    trigger: d.trigger as DeterminationRecord["trigger"],
    actor: JSON.parse(d.actor) as Actor,
    caseJson,
    today: d.today,
    ...(d.policy_id !== null && { policyId: d.policy_id }),
    ...(d.policy_version !== null && { policyVersion: d.policy_version }),
    ...(d.policy_hash !== null && { policyHash: d.policy_hash }),
    engine: d.engine,
    outcome: d.outcome as Outcome,
  } as DeterminationRecord;
  const stored = d.determination !== "" ? d.determination : undefined;
  let json = stored;
  let hash = d.det_hash ?? undefined;
  Object.defineProperty(rec, "determinationJson", {
    enumerable: true,
    configurable: true,
    get(): string {
      if (json === undefined) {
        if (!reproduce) {
          throw new MedpolicyError(
            "internal",
            "the store has no reproducer: cannot recompute a determination",
          );
        }
        let again: { json: string; hash: string } | undefined;
        try {
          again = reproduce(caseJson, d.today);
        } catch (err) {
          // A case decided under earlier rules that today's validation refuses (a state code, a birth
          // date): the request stays readable, its determination marked as not reproducible, with
          // what was stored about it (issue 13: such reads were errors).
          json = JSON.stringify({
            outcome: d.outcome,
            ...(d.policy_id !== null && {
              policy: { id: d.policy_id, version: d.policy_version, hash: d.policy_hash, title: "" },
            }),
            reasons: [],
            needed: [],
            lines: [],
            engine: d.engine,
            error: `not reproducible: ${(err as Error).message}`,
          });
          Object.defineProperty(rec, "recomputedDiffers", { value: true, enumerable: true });
          return json;
        }
        json = again.json;
        // Only hashes of the engine's own output ("e:") are comparable with a recomputation's.
        if (d.det_hash?.startsWith("e:") && again.hash !== d.det_hash) {
          Object.defineProperty(rec, "recomputedDiffers", { value: true, enumerable: true });
        }
      }
      return json;
    },
  });
  Object.defineProperty(rec, "determinationHash", {
    enumerable: true,
    configurable: true,
    get(): string {
      hash ??= hashDetermination(stored ?? "");
      return hash;
    },
  });
  return rec;
}

/** Gives a record's determination `seq` what it was just decided with (no recomputation). */
export function knownDetermination(rec: RequestRecord, seq: number, det: NewDetermination): RequestRecord {
  const read = rec.determinations.find((x) => x.seq === seq);
  if (read) {
    // Descriptors, not values: reading the record's lazy JSON here would recompute it.
    for (const k of ["determinationJson", "determinationHash", "determination"] as const) {
      const desc = Object.getOwnPropertyDescriptor(det, k);
      if (desc) Object.defineProperty(read, k, { ...desc, configurable: true });
    }
  }
  return rec;
}

/**
 * The record of a request just created (issue 13): built from what was written, so a create costs no
 * read back (one round trip on PostgreSQL) and the new determination is not recomputed.
 */
export function newRecord(req: NewRequest, first: NewDetermination, event: NewEvent): RequestRecord {
  return {
    id: req.id,
    org: req.org,
    ...(req.idempotencyKey !== undefined && { idempotencyKey: req.idempotencyKey }),
    receivedAt: req.receivedAt,
    expedited: req.expedited,
    dueAt: req.dueAt,
    status: req.status,
    medicalDirectorOnly: req.medicalDirectorOnly,
    engineOutcome: req.engineOutcome,
    ...(req.decidedAt !== undefined && { decidedAt: req.decidedAt }),
    version: 1,
    workflow: {},
    ...(req.index !== undefined && { index: JSON.parse(JSON.stringify(req.index)) as RequestIndex }),
    // Key order as `toRecord` gives it; a copy, as a read would give (the caller's objects stay its own).
    ...(req.decision !== undefined && { decision: JSON.parse(JSON.stringify(req.decision)) as Decision }),
    determinations: [Object.assign(copyDetermination({ seq: 1 }, first), { actor: { ...first.actor } })],
    events: [
      {
        seq: 1,
        ...event,
        actor: { ...event.actor },
        ...(event.detail !== undefined && { detail: JSON.parse(JSON.stringify(event.detail)) as unknown }),
      },
    ],
    attachments: [],
  };
}

function toEvent(e: EventRow): AuditEvent {
  return {
    seq: Number(e.seq),
    at: e.at,
    action: e.action as AuditEvent["action"],
    actor: JSON.parse(e.actor) as Actor,
    ...(e.detail !== null && { detail: JSON.parse(e.detail) as unknown }),
  };
}

export function toMetricsRow(r: RequestRow): MetricsRow {
  const s = toSummary(r);
  return {
    status: s.status,
    expedited: s.expedited,
    receivedAt: s.receivedAt,
    ...(s.decidedAt !== undefined && { decidedAt: s.decidedAt }),
    ...(s.decisionOutcome !== undefined && { decisionOutcome: s.decisionOutcome }),
  };
}

/** The error for a lost optimistic check: tells the caller whether the request moved on or vanished. */
export function conflictOrMissing(id: string, row: { status: string } | undefined, what: string): Error {
  if (!row) return new NotFoundError(`request ${id} not found`);
  if (row.status !== "awaiting-review") {
    return new MedpolicyError(
      "conflict",
      `request ${id} is no longer awaiting review (it is ${row.status}); ${what}`,
    );
  }
  return new MedpolicyError(
    "conflict",
    `request ${id} changed since it was read (another reviewer acted on it); reload and retry`,
  );
}

/**
 * The tables, in SQL both stores accept unchanged (SQLite and PostgreSQL), so the two keep one schema
 * and the same behaviour (SPEC 4).
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS requests (
  id TEXT PRIMARY KEY,
  org TEXT NOT NULL,
  idem_key TEXT,
  submitted_case TEXT NOT NULL,
  received_at TEXT NOT NULL,
  expedited INTEGER NOT NULL,
  due_at TEXT NOT NULL,
  status TEXT NOT NULL,
  md_only INTEGER NOT NULL,
  engine_outcome TEXT NOT NULL,
  decision TEXT,
  decided_at TEXT,
  version INTEGER NOT NULL,
  workflow TEXT,
  summary TEXT,
  search TEXT,
  assignee TEXT,
  letter BYTEA,
  UNIQUE (org, idem_key)
);
CREATE INDEX IF NOT EXISTS requests_queue ON requests (status, due_at);
CREATE INDEX IF NOT EXISTS requests_org ON requests (org, received_at);
CREATE INDEX IF NOT EXISTS requests_received ON requests (received_at, id);
CREATE TABLE IF NOT EXISTS determinations (
  request_id TEXT NOT NULL REFERENCES requests (id),
  seq INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  trigger TEXT NOT NULL,
  actor TEXT NOT NULL,
  case_json TEXT NOT NULL,
  today TEXT NOT NULL,
  policy_id TEXT,
  policy_version TEXT,
  policy_hash TEXT,
  engine TEXT NOT NULL,
  outcome TEXT NOT NULL,
  determination TEXT NOT NULL,
  det_hash TEXT,
  case_z BYTEA,
  PRIMARY KEY (request_id, seq)
);
CREATE TABLE IF NOT EXISTS attachments (
  request_id TEXT NOT NULL REFERENCES requests (id),
  id TEXT NOT NULL,
  title TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  source TEXT NOT NULL,
  added_at TEXT NOT NULL,
  added_by TEXT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (request_id, id)
);
CREATE TABLE IF NOT EXISTS events (
  request_id TEXT NOT NULL REFERENCES requests (id),
  seq INTEGER NOT NULL,
  at TEXT NOT NULL,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT,
  PRIMARY KEY (request_id, seq)
);
`;

/**
 * Brings a database created by an earlier schema up to this one (issue 13), in SQL PostgreSQL runs
 * as is; SQLite has no `ADD COLUMN IF NOT EXISTS`, so the SQLite store adds the same columns when
 * `PRAGMA table_info` lacks them ({@link ADDED_COLUMNS}). Additive only: rows written before keep
 * their stored determination bytes and are read as they were.
 */
export const POSTGRES_MIGRATION = `
ALTER TABLE determinations ADD COLUMN IF NOT EXISTS det_hash TEXT;
ALTER TABLE determinations ADD COLUMN IF NOT EXISTS case_z BYTEA;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS workflow TEXT;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS summary TEXT;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS search TEXT;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS assignee TEXT;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS letter BYTEA;
${UNINDEXED_INDEX};
`;

/** Columns added since the first schema: table → column → type. */
export const ADDED_COLUMNS: Record<string, Record<string, string>> = {
  // BYTEA: PostgreSQL's binary type; to SQLite a name like any other (a Buffer is stored as a BLOB).
  determinations: { det_hash: "TEXT", case_z: "BYTEA" },
  // Issue 14: the review work, the queue's index and search, the signed letter.
  requests: { workflow: "TEXT", summary: "TEXT", search: "TEXT", assignee: "TEXT", letter: "BYTEA" },
};

/**
 * Issue 15 (impact): one page of {@link Store.scanDeterminations} — each request's newest determination
 * with its receipt, requests after a given {@link ScanKey} in the order received (keyset on the
 * `requests_received` index, so every page costs the same however far the scan is). The order received
 * is the order the rows were written: the table is read front to back rather than at random, as the
 * id order (random UUIDs) read it — 1.5 µs less a request in memory, and the difference between
 * sequential and random reads on a store larger than memory. Only what a replay reads: the case as
 * stored, the day, the outcome, the policy — and of the request only its key, which the
 * `requests_received` index holds, so the request's row itself is not read (the replay tells a case's
 * codes from its text, impact.ts `mayRequest`: reading them from the queue's index cost 0.7 µs a row
 * in SQL alone, issue 15). Parameters: SQLite's in the order they appear (after's two, limit); PostgreSQL's
 * numbered the same.
 */
export const SCAN_SQL = {
  sqlite: scanSql("sqlite", false),
  postgres: scanSql("postgres", false),
};

/**
 * {@link SCAN_SQL} for a range: after one key and up to another (inclusive). Parameters: after's two,
 * through's two, the limit.
 */
export const SCAN_RANGE_SQL = {
  sqlite: scanSql("sqlite", true),
  postgres: scanSql("postgres", true),
};

function scanSql(dialect: "sqlite" | "postgres", bounded: boolean): string {
  const p = (n: number) => (dialect === "sqlite" ? "?" : `$${n}`);
  const key = "(r.received_at, r.id)";
  const where = `WHERE ${key} > (${p(1)}, ${p(2)})${bounded ? ` AND ${key} <= (${p(3)}, ${p(4)})` : ""}
  ORDER BY r.received_at, r.id LIMIT ${p(bounded ? 5 : 3)}`;
  const columns = "d.today, d.outcome, d.policy_id, d.case_json, d.case_z";
  if (dialect === "sqlite") {
    // INDEXED BY: with statistics (ANALYZE, PRAGMA optimize) SQLite took a range on requests_org and
    // sorted the whole range for every page. The newest determination by its rowid, found in the
    // primary key's index (which holds it): one seek fewer than matching (request_id, MAX(seq)) there
    // again, 0.4 of 2.9 µs a request. A rowid read and used within one statement, never kept.
    return `SELECT r.id AS request_id, r.received_at, ${columns}
  FROM requests r INDEXED BY requests_received JOIN determinations d ON d.rowid = (
    SELECT m.rowid FROM determinations m WHERE m.request_id = r.id ORDER BY m.seq DESC LIMIT 1)
  ${where}`;
  }
  // PostgreSQL: the newest determination by a LATERAL subquery, one index probe per request. With the
  // join on MAX(seq) its planner expected a few hundred matches where every request matches, so it
  // read both tables whole and sorted them for every page (1.3–1.9 s a page of 1,000 at 200k
  // requests: a scan quadratic in the store); this way it walks requests_received and stops at LIMIT
  // (test/service/scan-plan.test.ts holds the plan).
  return `SELECT r.id AS request_id, r.received_at, ${columns}
  FROM requests r CROSS JOIN LATERAL (
    SELECT m.today, m.outcome, m.policy_id, m.case_json, m.case_z
    FROM determinations m WHERE m.request_id = r.id ORDER BY m.seq DESC LIMIT 1) d
  ${where}`;
}

/**
 * Issue 15: the key `size` requests after the given one (the next boundary of
 * {@link Store.scanBoundaries}), from the `requests_received` index alone. Parameters: after's two,
 * the offset.
 */
export const BOUNDARY_SQL = {
  sqlite: `SELECT received_at, id FROM requests INDEXED BY requests_received
  WHERE (received_at, id) > (?, ?) ORDER BY received_at, id LIMIT 1 OFFSET ?`,
  postgres: `SELECT received_at, id FROM requests
  WHERE (received_at, id) > ($1, $2) ORDER BY received_at, id LIMIT 1 OFFSET $3`,
};

/** The key a row of {@link BOUNDARY_SQL} (as an array) names. */
export const boundaryKey = (r: readonly [receivedAt: string, id: string]): ScanKey => ({
  receivedAt: r[0],
  id: r[1],
});

/** Where a scan starts: before every request (no receipt time is empty). */
export const SCAN_START: ScanKey = Object.freeze({ receivedAt: "", id: "" });

/** The key of a page's last row: where the next page starts. */
export const scanRowKey = (r: ScanRow): ScanKey => ({ receivedAt: r[1], id: r[0] });

/** A key's two parameters, in the order the SQL above takes them. */
export const keyParams = (k: ScanKey): [string, string] => [k.receivedAt, k.id];

/**
 * A row of {@link SCAN_SQL} as the drivers hand it over without naming its columns (better-sqlite3's
 * `raw()`, pg's `rowMode: "array"`): a scan reads every request of the store, and a row as an array
 * costs 0.7 µs less than one as an object (issue 15). In the SELECT's order: request id, received at,
 * today, outcome, policy id, case JSON, case bytes (each value costs: nothing a replay does not read).
 */
export type ScanRow = readonly [
  requestId: string,
  receivedAt: string,
  today: string,
  outcome: string,
  policyId: string | null,
  caseJson: string,
  caseZ: Uint8Array | null,
];

/**
 * A scanned determination: its case decoded as `getRequest` decodes it (case-codec.ts, or the plain
 * JSON of a row written before issue 13) on first read, so a scan that passes a request over by its
 * codes never decodes it. A class, its getter on the prototype: an object literal with a getter of
 * its own per row cost 0.5 µs more.
 */
class ScannedCase {
  readonly today: string;
  readonly outcome: Outcome;
  // Declared, not initialized: absent (not undefined) when the row has none, as before.
  declare readonly policyId?: string;
  #json: string;
  #z: Uint8Array | null;

  constructor(r: ScanRow) {
    this.today = r[2];
    this.outcome = r[3] as Outcome;
    if (r[4] !== null) (this as { policyId?: string }).policyId = r[4];
    this.#json = r[5];
    this.#z = r[6];
  }

  /**
   * The case's JSON. On the prototype, not the record: a copy of the record (spread, structured
   * clone, JSON) has no case — read it here and pass the string.
   */
  get caseJson(): string {
    if (this.#z !== null) {
      this.#json = storedCase(this.#json, this.#z);
      this.#z = null;
    }
    return this.#json;
  }
}

/** Rows of {@link SCAN_SQL} as records (see {@link ScannedCase}). */
export function toScanned(rows: readonly ScanRow[]): ScannedDetermination[] {
  const out: ScannedDetermination[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    out[i] = { requestId: r[0], receivedAt: r[1], determination: new ScannedCase(r) };
  }
  return out;
}
