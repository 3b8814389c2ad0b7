/**
 * The service's storage contract (SPEC 4 "Persistence"): one async interface, two implementations with
 * the same behaviour — SQLite (embedded default) and PostgreSQL (when a URL is given). Everything the
 * review workflow needs to be crash-safe and auditable lives here; policy logic does not.
 */
import type { Determination, Outcome } from "../model/index.js";

/**
 * Where a request stands in the review workflow (SPEC 2.4):
 * - `approved`: the engine approved it automatically (final; SPEC 2.4 allows it);
 * - `not-applicable`: no policy in the library governs it (final, informational);
 * - `awaiting-review`: the engine's outcome is pended / review / denied / not-covered — a human must sign;
 * - `decided`: a human signed a decision;
 * - `withdrawn`: the submitter cancelled it (a PAS Claim update cancelling every service) before anyone
 *   signed: final, nothing left to decide.
 */
export type RequestStatus = "approved" | "not-applicable" | "awaiting-review" | "decided" | "withdrawn";

/** Who did something (from the signed token, SPEC 4 "Authentication and roles"). */
export interface Actor {
  sub: string;
  name: string;
  role: string;
  org?: string;
}

/** A criterion cited in a decision, with the text it had in the determination it was signed against. */
export interface CitedCriterion {
  criterion: string;
  text: string;
  status?: string;
}

/** A signed decision: who signed what, when and why (SPEC 2.4). */
export interface Decision {
  outcome: "approved" | "denied" | "not-covered";
  reason: string;
  criteria: CitedCriterion[];
  signedBy: Actor;
  signedAt: string;
  /** True when the engine issued it (automatic approval), not a person. */
  automatic: boolean;
  /** The determination (`seq`) the decision was signed against. */
  determinationSeq: number;
  /**
   * Issue 14: the signed outcome differs from the engine's recommendation (`from`): why. Internal (the
   * audit trail and the reviewer see it; the member's letter does not).
   */
  override?: {
    from: string;
    reason: string;
    /** A decision made code by code: every code whose signed outcome departs from the engine's for it. */
    lines?: { code: string; from: string; to: string }[];
  };
  /** Issue 14: sha256 (hex) of the letter as signed (stored with the request). */
  letterSha256?: string;
  /**
   * The decision per service where a reviewer decided the codes apart (an approved code beside a
   * denied one): every reviewed code once, `outcome` the most severe. Absent: `outcome` is every
   * reviewed code's.
   */
  lines?: DecisionLine[];
}

/** One service's signed outcome in a decision made code by code. */
export interface DecisionLine {
  code: string;
  outcome: Decision["outcome"];
  /**
   * The cited criteria this code's outcome rests on, each with the text and status it has in this
   * code's own line (ids repeat across policies: CP.MP.126 II is not CP.MP.173 II); adverse lines only.
   */
  criteria?: CitedCriterion[];
}

/** Issue 14: a question put to the provider (a criterion of the determination, and its text). */
export interface Question {
  criterion: string;
  text: string;
}

/** Issue 14: an open request to the provider for more information (the request pends to them). */
export interface InformationRequest {
  at: string;
  by: Actor;
  message: string;
  questions: Question[];
}

/** Issue 14: a nurse reviewer's recommendation of an adverse outcome, for a medical director to decide. */
export interface Recommendation {
  at: string;
  by: Actor;
  outcome: Decision["outcome"];
  reason: string;
  criteria: CitedCriterion[];
  determinationSeq: number;
}

/** Issue 14: the review work on a request beyond its determinations. */
export interface Workflow {
  assignee?: { sub: string; name: string };
  infoRequest?: InformationRequest;
  recommendation?: Recommendation;
  /** Who withdrew the request, when and why (status `withdrawn`). */
  withdrawn?: { at: string; by: Actor; reason: string };
}

/**
 * Issue 14: what the queue shows and searches without reading the case (the member, the providers,
 * the codes), taken from the case at submission.
 */
export interface RequestIndex {
  memberName?: string;
  memberId?: string;
  providerName?: string;
  providerNpi?: string;
  codes: string[];
  /** The case's date of service (YYYY-MM-DD); absent on requests indexed before it was kept. */
  dateOfService?: string;
}

/** Issue 14: a document attached to a request (uploaded, or carried in a PAS bundle). */
export interface AttachmentMeta {
  id: string;
  title: string;
  contentType: string;
  size: number;
  sha256: string;
  source: "upload" | "pas";
  addedAt: string;
  addedBy: Actor;
}

/**
 * One stored determination (SPEC 4 "reproduced byte for byte"): the exact case it decided, the "today"
 * it was decided with, the policy id/version/hash and engine, and the hash of the canonical JSON of the
 * result. The result itself is not stored (issue 13: ≤ 2 KB per request, what is reproducible is
 * recomputed): `determinationJson` is recomputed from the case on first read by the store's
 * {@link Reproducer}; rows written before issue 13 still carry their bytes and return those.
 */
export interface DeterminationRecord {
  seq: number;
  createdAt: string;
  /** What produced it: the submission, or a reviewer's answers. */
  trigger: "submit" | "answers";
  actor: Actor;
  /** Canonical JSON of the case input exactly as decided. */
  caseJson: string;
  today: string;
  policyId?: string;
  policyVersion?: string;
  policyHash?: string;
  engine: string;
  outcome: Outcome;
  /**
   * Canonical JSON of the determination. On a record read back, recomputed from `caseJson` and `today`
   * on first access (or the stored bytes of a row written before issue 13).
   */
  determinationJson: string;
  /**
   * What `reproduce` compares a recomputation against (issue 13): `e:` + sha256 (hex) of the engine's
   * own encoding of the determination (`JSON.stringify`, keys in the order `decide` builds them) for
   * determinations stored since issue 13; sha256 (hex) of the stored canonical JSON for those before.
   */
  determinationHash: string;
  /**
   * Set (true) once a recomputed `determinationJson` was read whose hash is not the stored one: the
   * policy or the engine changed since it was decided, so what is shown is not what was decided.
   */
  readonly recomputedDiffers?: boolean;
  /**
   * The determination object itself, on the record returned by the write that stored it (so the reply
   * needs no recomputation and no parse); never stored, absent on records read back. Not enumerable.
   */
  determination?: Determination;
}

/**
 * Recomputes a stored determination (issue 13): canonical JSON of the decision of `caseJson` as of
 * `today`, and its hash in the form `determinationHash` is stored in (so a read can tell whether the
 * recomputation is what was decided). The service gives the store one (the store does not import the
 * library).
 */
export type Reproducer = (caseJson: string, today: string) => { json: string; hash: string };

/** An audit-log entry: every state change, with who and why. */
export interface AuditEvent {
  seq: number;
  at: string;
  action:
    | "submitted"
    | "answered"
    | "signed"
    | "auto-approved"
    | "not-applicable"
    // Issue 14: the review work, in the same trail.
    | "assigned"
    | "information-requested"
    | "information-received"
    | "recommended"
    | "note"
    | "attachment-added"
    | "withdrawn";
  actor: Actor;
  detail?: unknown;
}

export interface RequestRecord {
  id: string;
  org: string;
  idempotencyKey?: string;
  receivedAt: string;
  expedited: boolean;
  /** Receipt + 72 h (expedited) or + 7 calendar days (standard), SPEC 4. */
  dueAt: string;
  status: RequestStatus;
  /** Set once any determination had outcome `review`: only a medical director may sign it. */
  medicalDirectorOnly: boolean;
  /** Outcome of the newest determination (the engine's current recommendation). */
  engineOutcome: Outcome;
  decision?: Decision;
  decidedAt?: string;
  /** Optimistic-concurrency counter: bumped by every change. */
  version: number;
  /** Issue 14: assignment, open information request, recommendation (empty object when none). */
  workflow: Workflow;
  /** Issue 14: the member, providers and codes, for the queue and its search. */
  index?: RequestIndex;
  determinations: DeterminationRecord[];
  events: AuditEvent[];
  /** Issue 14: documents attached to the request (metadata; the bytes by `getAttachment`). */
  attachments: AttachmentMeta[];
}

/** The queue/list view of a request: no case, no determinations. */
export type RequestSummary = Omit<RequestRecord, "determinations" | "events" | "decision" | "attachments"> & {
  decisionOutcome?: Decision["outcome"];
};

export type NewDetermination = Omit<DeterminationRecord, "seq">;
export type NewEvent = Omit<AuditEvent, "seq">;

export interface NewRequest {
  id: string;
  org: string;
  idempotencyKey?: string;
  /**
   * Canonical JSON of the submitted case: an idempotent replay must carry the same one. It is the first
   * determination's `caseJson`, and stored once, there.
   */
  submittedCaseJson: string;
  receivedAt: string;
  expedited: boolean;
  dueAt: string;
  status: RequestStatus;
  medicalDirectorOnly: boolean;
  engineOutcome: Outcome;
  decision?: Decision;
  decidedAt?: string;
  /** Issue 14: the queue's view of the case. */
  index?: RequestIndex;
}

export interface CreateResult {
  record: RequestRecord;
  /** False when an earlier request with the same (org, idempotency key) was returned instead. */
  created: boolean;
  /** For a replay: the case JSON first submitted under the key (to refuse a different body). */
  submittedCaseJson: string;
}

/** Changes applied with a new determination (reviewer answers). */
export interface DeterminationPatch {
  engineOutcome: Outcome;
  medicalDirectorOnly: boolean;
  /** Issue 14: the workflow after the answers (a provider's answers close the information request). */
  workflow?: Workflow;
}

/** Issue 14: a change of a request's workflow, with the event that records it. */
export interface WorkflowChange {
  workflow: Workflow;
  event: NewEvent;
  /** Only while the request awaits review (assignment, information requests, recommendations). */
  requireOpen: boolean;
  /** Optimistic check against the version the caller saw (the workflow written replaces the one read). */
  expectedVersion: number;
  /** Set to route the request to a medical director (a recommendation does). */
  medicalDirectorOnly?: boolean;
  /** Ends the review: the status becomes `withdrawn` (with `requireOpen`: only an open request). */
  withdraw?: boolean;
}

/** Issue 14: the queue's filters. */
export interface QueueOptions {
  /** Case-insensitive substring of the request id, member name or id, provider name or NPI. */
  q?: string;
  /** `sub` of the assignee; `null`: unassigned only. */
  assignee?: string | null;
}

/** Issue 14: an attachment to store. */
export interface NewAttachment extends AttachmentMeta {
  data: Uint8Array;
}

/** Rows for the CMS-0057-F metrics (SPEC 4, issue 4). */
export interface MetricsRow {
  status: RequestStatus;
  expedited: boolean;
  receivedAt: string;
  decidedAt?: string;
  decisionOutcome?: Decision["outcome"];
}

export interface ListOptions {
  org?: string;
  status?: RequestStatus;
  limit?: number;
}

/**
 * The storage interface. Every write is durable before its promise resolves (SPEC 4 "Nothing
 * acknowledged is ever lost"); conflicting writes reject with a `conflict` MedpolicyError (HTTP 409).
 */
export interface Store {
  readonly kind: "sqlite" | "postgres";
  /**
   * Sets how determinations read back are recomputed (issue 13). Until one is set, reading a
   * recomputable determination's `determinationJson` throws.
   */
  setReproducer(reproduce: Reproducer): void;
  /** Inserts a request with its first determination and event; idempotent on (org, idempotencyKey). */
  createRequest(req: NewRequest, first: NewDetermination, event: NewEvent): Promise<CreateResult>;
  getRequest(id: string): Promise<RequestRecord | undefined>;
  /**
   * Appends a determination if the request is still `awaiting-review` and at `expectedVersion`
   * (optimistic check; a concurrent change → conflict).
   */
  appendDetermination(
    id: string,
    expectedVersion: number,
    det: NewDetermination,
    patch: DeterminationPatch,
    event: NewEvent,
  ): Promise<RequestRecord>;
  /**
   * Signs a decision if and only if the request is still `awaiting-review` (and, when given, at
   * `expectedVersion`): across processes, exactly one signer wins; the others get a conflict.
   */
  sign(
    id: string,
    decision: Decision,
    event: NewEvent,
    expectedVersion?: number,
    extra?: { letterHtml?: string; workflow?: Workflow },
  ): Promise<RequestRecord>;
  /** Issue 14: the letter stored when the decision was signed (undefined for letters rendered on read). */
  getLetter(id: string): Promise<string | undefined>;
  /** Issue 14: changes the workflow (assignment, information request, recommendation) with its event. */
  updateWorkflow(id: string, change: WorkflowChange): Promise<RequestRecord>;
  /** Issue 14: appends an event that changes nothing else (a note). */
  addEvent(id: string, event: NewEvent): Promise<RequestRecord>;
  /**
   * Issue 14: stores a document with the request, and its event, in one transaction — unless the
   * request already holds `max` documents (counted in the transaction: an InputError).
   */
  addAttachment(id: string, attachment: NewAttachment, max: number, event: NewEvent): Promise<RequestRecord>;
  getAttachment(
    id: string,
    attachmentId: string,
  ): Promise<{ meta: AttachmentMeta; data: Uint8Array } | undefined>;
  /** Requests awaiting review, soonest due first. */
  queue(opts?: QueueOptions): Promise<RequestSummary[]>;
  list(opts?: ListOptions): Promise<RequestSummary[]>;
  metricsRows(): Promise<MetricsRow[]>;
  /**
   * Issue 15 (impact): every request's newest determination, in the order received ({@link ScanKey}),
   * a page (one query) at a time by keyset (after the page's last key): a scan holds one page in memory
   * whatever the store holds. A request created during a scan is read if its key sorts after the page
   * being read (received later: the usual case), else missed.
   */
  scanDeterminations(opts?: ScanOptions): AsyncIterable<ScannedDetermination[]>;
  /**
   * Issue 15 (impact, in parallel): the keys that cut the requests, in the order
   * {@link scanDeterminations} reads them, into ranges of `size`: the last key of each full range.
   * Read from the index alone; with {@link ScanOptions.after}/{@link ScanOptions.through} each range is
   * then scanned on its own (by another worker, on another connection).
   */
  scanBoundaries(size: number): AsyncIterable<ScanKey>;
  /**
   * Issue 16: records a client JWT's `jti` for `client` until `expires` (seconds since the epoch);
   * false when a live record already holds it — a replay, whichever instance on this database saw it
   * first. Optional: a store without it leaves replay checks to each process.
   */
  useNonce?(client: string, jti: string, expires: number, now: number): Promise<boolean>;
  /** Issue 13: appends PHI reads to the audit trail (one transaction per batch). */
  recordReads(rows: readonly ReadRecord[]): Promise<void>;
  /** Issue 13: audit-trail entries matching `q`, newest first. */
  listReads(q: ReadQuery): Promise<ReadEntry[]>;
  /**
   * Issue 13: records this instance (or refreshes it), forgets instances not seen since `liveSince`,
   * and returns the other live ones — atomically, so two instances starting together see each other.
   */
  registerInstance(me: InstanceRecord, liveSince: string): Promise<InstanceRecord[]>;
  /** Issue 13: the instance's heartbeat. */
  touchInstance(id: string, at: string): Promise<void>;
  /** Issue 13: forgets the instance (on close). */
  removeInstance(id: string): Promise<void>;
  close(): Promise<void>;
}

/** Issue 13: one read of a request's PHI (case, determinations, decision, letter, claim response). */
export interface ReadRecord {
  at: string;
  sub: string;
  role: string;
  org?: string;
  requestId: string;
  /** What was read and how: `request.read`, `letter.read`, `fhir.claimresponse.read`, … */
  action: string;
  /**
   * Issue 15: what the entry seals — for a publication (`library.publish`), the sha256 of the
   * snapshot the service began deciding with; a later snapshot of that version must match it.
   */
  detail?: string;
}

/** A stored {@link ReadRecord}, with its position in the trail. */
export interface ReadEntry extends ReadRecord {
  seq: number;
}

/** Filters of `GET /api/audit`. */
export interface ReadQuery {
  requestId?: string;
  sub?: string;
  /** Only entries of this action (e.g. `library.publish`). */
  action?: string;
  /** ISO-8601 instant: entries at or after it. */
  since?: string;
  limit: number;
}

/** Issue 13: a service instance on this database, with fingerprints (never secrets) of its token keys. */
export interface InstanceRecord {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  seenAt: string;
  /** Fingerprint of the key it signs with. */
  signing: string;
  /** Fingerprints of every key it accepts. */
  verifying: string[];
  /** `env`: MEDPOLICY_JWT_SECRET(S); `file`: the data folder's generated secret. */
  secretSource: "env" | "file";
}

/**
 * Issue 15 (impact): where a request stands in the order a scan reads the store — the order received,
 * ties (requests received in the same millisecond) by id. Stable: it is the request's own data.
 */
export interface ScanKey {
  receivedAt: string;
  id: string;
}

/** Issue 15 (impact): {@link Store.scanDeterminations}' options. */
export interface ScanOptions {
  /** Requests per page (one query each); default 1000. */
  pageSize?: number;
  /** Only requests after this key (exclusive); default: from the first. */
  after?: ScanKey;
  /** Only requests up to this key (inclusive); default: to the last. */
  through?: ScanKey;
}

/**
 * Issue 15 (impact): a request's newest determination — the case as decided (decoded as
 * {@link Store.getRequest} decodes it), the day, the outcome, the policy — without the workflow, the
 * member's data or the determination's JSON.
 */
export interface ScannedDetermination {
  requestId: string;
  receivedAt: string;
  /** What a replay reads of the determination; its `caseJson` is decoded on first read. */
  determination: Pick<DeterminationRecord, "today" | "outcome" | "caseJson" | "policyId">;
}
