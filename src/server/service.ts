/**
 * The review workflow (SPEC 2.4, 4): submit, answer, sign, queue, metrics, reproduce, letters. Transport
 * independent — the JSON routes and the FHIR layer both call it — and it enforces the rules that must
 * hold whatever the transport: a provider sees only its organization's requests; adverse outcomes are
 * recommendations until a human signs; medical-director-only items; one signature per request.
 */
import { createHash, randomUUID } from "node:crypto";
import { DEFAULT_PLAN, type LetterPlan, renderLetter } from "../explain/letter.js";
import {
  type Case,
  canonicalJson,
  type Determination,
  InputError,
  MedpolicyError,
  NotFoundError,
  neededOnce,
  type TraceNode,
} from "../model/index.js";
import {
  type Actor,
  type AttachmentMeta,
  type CitedCriterion,
  type Decision,
  type DecisionLine,
  type DeterminationRecord,
  hashDetermination,
  indexOfCase,
  type MetricsRow,
  type NewDetermination,
  type Question,
  type QueueOptions,
  type RequestRecord,
  type RequestStatus,
  type RequestSummary,
  type Store,
  timeOrderedId,
  type Workflow,
} from "../store/index.js";
import type { Principal } from "./auth.js";
import {
  type Authority,
  type AuthorityConfig,
  authorityOf,
  type Citable,
  citable,
  DEFAULT_AUTHORITY,
  lineCitable,
  notCoveredIsBenefitRule,
  REVIEW_ROLES,
  reviewedLines,
  signingRefusal,
} from "./authority.js";
import type { Engine } from "./engine.js";
import type {
  AttachmentBody,
  DecisionBody,
  InformationRequestBody,
  NoteBody,
  RecommendationBody,
} from "./schemas.js";

const HOUR = 3600_000;
const DAY_MS = 24 * HOUR;
/** SPEC 4: 72 hours for expedited requests, 7 calendar days for standard ones, from receipt. */
export const DUE_EXPEDITED_MS = 72 * HOUR;
export const DUE_STANDARD_MS = 7 * 24 * HOUR;

/** What the provider sees (SPEC 2.4). */
export type ProviderStatus =
  | "approved"
  | "pended"
  | "denied"
  | "not-covered"
  | "not-applicable"
  | "withdrawn";

/** Called after every stored determination and signature (FHIR subscriptions, SPEC 4 "notify"). */
export type DecisionListener = (
  requestId: string,
  determination: Determination,
  record: RequestRecord,
) => void | Promise<void>;

export interface ReproduceResult {
  identical: boolean;
  determinations: { seq: number; identical: boolean; policyHash?: string; engine: string; error?: string }[];
}

function hasReview(d: Determination): boolean {
  return d.outcome === "review" || d.lines.some((l) => l.outcome === "review");
}

function actorOf(p: Principal): Actor {
  return { sub: p.sub, name: p.name, role: p.role, ...(p.org !== undefined && { org: p.org }) };
}

function* walk(n: TraceNode | undefined): Generator<TraceNode> {
  if (!n) return;
  yield n;
  for (const c of n.children ?? []) yield* walk(c);
}

/**
 * Finds a criterion's text and status in a determination: the reasons first (they carry the
 * contraindication status), then the needed list, then any trace (leaves and conditions before groups).
 */
export function findCriterion(d: Determination, id: string): CitedCriterion | undefined {
  for (const r of [...d.reasons, ...d.lines.flatMap((l) => l.reasons)]) {
    if (r.criterion === id) return { criterion: id, text: r.text, status: r.status };
  }
  for (const n of [...d.needed, ...d.lines.flatMap((l) => l.needed)]) {
    if (n.criterion === id) return { criterion: id, text: n.text, status: "unknown" };
  }
  let group: TraceNode | undefined;
  for (const t of [d.trace, ...d.lines.map((l) => l.trace)]) {
    for (const n of walk(t)) {
      if (n.id !== id) continue;
      if (n.kind === "leaf" || n.kind === "condition" || n.kind === "note") {
        return { criterion: id, text: n.text, status: n.status };
      }
      group ??= n;
    }
  }
  if (group) return { criterion: id, text: group.text, status: group.status };
  // The governing section itself, for a line decided by the section's code list with no criterion to
  // cite (CP.MP.126 IV: "27278 is listed among the codes that do not support coverage"; issue 13
  // requires an adverse decision to cite something).
  for (const l of d.lines) {
    if (l.policy?.section === id) return { criterion: id, text: l.basis, status: "not-met" };
  }
  return undefined;
}

/** Issue 14: the service's configuration of review authority and of the letters' sender. */
export interface ReviewConfig {
  authority?: AuthorityConfig;
  plan?: LetterPlan;
}

/** Issue 14: attachments — at most this many per request, each at most this size. */
export const MAX_ATTACHMENTS = 20;
export const MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024;

const OUTCOME_WORD: Record<Decision["outcome"], string> = {
  approved: "an approval",
  denied: "a denial",
  "not-covered": "a not-covered decision",
};

/** Why `id` cannot be cited for `outcome`, in the words a reviewer needs (issue 14). */
function citationProblem(d: Determination, id: string, outcome: Decision["outcome"]): string {
  const found = findCriterion(d, id);
  if (!found) return `${id} is not a criterion of the determination being signed`;
  if (found.status === "unknown") {
    return `${id} is unanswered in the determination being signed: ${OUTCOME_WORD[outcome]} may cite only criteria ${outcome === "approved" ? "that were met" : "that failed"} (answer it first)`;
  }
  return outcome === "approved"
    ? `${id} is ${found.status} in the determination being signed: an approval may cite only criteria that were met`
    : `${id} is ${found.status} in the determination being signed: ${OUTCOME_WORD[outcome]} may cite only criteria that failed`;
}

export class RequestService {
  private readonly listeners = new Set<DecisionListener>();
  private readonly authorityConfig: AuthorityConfig;
  private readonly plan: LetterPlan;

  constructor(
    readonly store: Store,
    readonly engine: Engine,
    private readonly clock: () => Date = () => new Date(),
    /** Where listener failures go (no PHI: request id and error name only). */
    private readonly warn: (msg: string, data: Record<string, unknown>) => void = () => {},
    review: ReviewConfig = {},
  ) {
    this.authorityConfig = review.authority ?? DEFAULT_AUTHORITY;
    this.plan = review.plan ?? DEFAULT_PLAN;
    // The store keeps a hash in place of each determination (issue 13): it recomputes them with this
    // engine, as `reproduce` does.
    store.setReproducer((caseJson, today) => this.recompute(caseJson, today));
  }

  /** Canonical JSON of the decision of a stored case as of `today` (SPEC 4 "reproduced byte for byte"). */
  recompute(caseJson: string, today: string): { json: string; hash: string } {
    const d = this.redecide(caseJson, today);
    return { json: canonicalJson(d), hash: this.hashOf(d) };
  }

  private redecide(caseJson: string, today: string): Determination {
    return this.engine.decide(this.engine.parseCase(JSON.parse(caseJson)), { today });
  }

  /**
   * The hash stored for a determination (issue 13): of the engine's own encoding, which is byte for
   * byte what `decide` produced (its key order included) and far cheaper than the canonical JSON.
   */
  private hashOf(d: Determination): string {
    return `e:${hashDetermination(this.engine.encode(d))}`;
  }

  /** Subscribes to new determinations and signatures; returns the unsubscribe function. */
  onDecision(listener: DecisionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private now(): { iso: string; today: string; ms: number } {
    const d = this.clock();
    const iso = d.toISOString();
    return { iso, today: iso.slice(0, 10), ms: d.getTime() };
  }

  /** The UTC day (`YYYY-MM-DD`) the clock shows, formatted once per day (issue 13: per-request cost). */
  private today(): string {
    const ms = this.clock().getTime();
    if (ms < this.dayStart || ms >= this.dayStart + DAY_MS || Number.isNaN(ms)) {
      this.day = new Date(ms).toISOString().slice(0, 10);
      this.dayStart = ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
    }
    return this.day;
  }
  private day = "";
  private dayStart = Number.NaN;

  /** Stateless evaluation (`POST /api/evaluate`). */
  evaluate(input: unknown, opts: { trace?: boolean } = {}): Determination {
    return this.engine.decide(this.parseCase(input), { today: this.today(), trace: opts.trace });
  }

  /**
   * {@link evaluate}, encoded: the reply's bytes, as `JSON.stringify` would write them (issue 13: the
   * reply's encoding cost several times the decision, so it is the engine's fast encoder, not Fastify's).
   */
  evaluateJson(input: unknown, opts: { trace?: boolean } = {}): string | Buffer {
    return this.engine.encode(this.evaluate(input, opts));
  }

  /** Validates a case (SPEC 2.1); the error names the field. */
  parseCase(input: unknown): Case {
    if (input === undefined || input === null) {
      throw new InputError("request body is required: a case as a JSON object");
    }
    return this.engine.parseCase(input);
  }

  private decideForStore(
    input: unknown,
    today: string,
    at: string,
    actor: Actor,
    trigger: DeterminationRecord["trigger"],
  ) {
    if (input === undefined || input === null) this.parseCase(input); // the error naming the body
    // Decide exactly the bytes that are stored, so a replay of the stored case sees the same input
    // (key order included) and can be compared byte for byte (SPEC 4). Validated once, on those bytes
    // (issue 13: it was parsed twice).
    const caseJson = canonicalJson(input);
    const c = this.parseCase(JSON.parse(caseJson));
    // SPEC 1.4: the state's variant in force on the date of service decides a request. A submitter
    // naming a version (another state's, a superseded one, the corporate one over its state's) would
    // choose its own rules and could be approved automatically where the governing policy would not:
    // naming one is for trying a version (`POST /api/evaluate`), never for a stored request.
    if (trigger === "submit" && c.policy !== undefined)
      throw new InputError(
        `policy: a stored request is decided by the policy in force for the member's state and date of service; naming one ("${c.policy.slice(0, 100)}") is for trying a version with POST /api/evaluate`,
        { field: "policy" },
      );
    // A stored request is acted on: never decided by an unpublished draft it names (issue 15 review).
    const determination = this.engine.decide(c, { today, refuseDrafts: true });
    const det = {
      createdAt: at,
      trigger,
      actor,
      caseJson,
      today,
      ...(determination.policy && {
        policyId: determination.policy.id,
        policyVersion: determination.policy.version,
        policyHash: determination.policy.hash,
      }),
      engine: determination.engine,
      outcome: determination.outcome,
      determinationHash: this.hashOf(determination),
    } as NewDetermination;
    // The canonical JSON (what reads give) only if something asks for it: the reply to a provider is
    // built from the object (issue 13: the canonical encoding cost more than the decision).
    let json: string | undefined;
    Object.defineProperty(det, "determinationJson", {
      enumerable: true,
      configurable: true,
      get: () => {
        json ??= canonicalJson(determination);
        return json;
      },
    });
    Object.defineProperty(det, "determination", { value: determination, configurable: true });
    return { determination, det, c };
  }

  /**
   * Stores a request (`POST /api/requests`). `approved` is issued automatically, `not-applicable` is
   * final; anything else awaits a reviewer (SPEC 2.4). Same (org, key) → the earlier request.
   */
  async submit(
    input: unknown,
    who: Principal,
    opts: { idempotencyKey?: string } = {},
  ): Promise<{ record: RequestRecord; created: boolean }> {
    if (who.role === "provider" && !who.org)
      throw new MedpolicyError("forbidden", "provider token without an org");
    const now = this.now();
    const actor = actorOf(who);
    const { determination, det, c } = this.decideForStore(input, now.today, now.iso, actor, "submit");
    const outcome = determination.outcome;
    const status: RequestStatus =
      outcome === "approved"
        ? "approved"
        : outcome === "not-applicable"
          ? "not-applicable"
          : "awaiting-review";
    const expedited = c.service.expedited === true;
    const decision: Decision | undefined =
      status === "approved"
        ? {
            outcome: "approved",
            reason: determination.policy
              ? `Every criterion of ${determination.policy.id} version ${determination.policy.version}${
                  determination.policy.section ? ` section ${determination.policy.section}` : ""
                } is met.`
              : "Every criterion of the governing policy is met.",
            criteria: [],
            signedBy: { sub: "medpolicy", name: "medpolicy automatic approval", role: "engine" },
            signedAt: now.iso,
            automatic: true,
            determinationSeq: 1,
          }
        : undefined;
    const result = await this.store.createRequest(
      {
        id: timeOrderedId(now.ms),
        org: who.org ?? `internal:${who.sub}`,
        ...(opts.idempotencyKey !== undefined && { idempotencyKey: opts.idempotencyKey }),
        submittedCaseJson: det.caseJson,
        receivedAt: now.iso,
        expedited,
        dueAt: new Date(now.ms + (expedited ? DUE_EXPEDITED_MS : DUE_STANDARD_MS)).toISOString(),
        status,
        medicalDirectorOnly: hasReview(determination),
        engineOutcome: outcome,
        ...(decision && { decision, decidedAt: now.iso }),
        ...(status === "not-applicable" && { decidedAt: now.iso }),
        index: indexOfCase(c),
      },
      det,
      { at: now.iso, action: "submitted", actor, detail: { engineOutcome: outcome, status } },
    );
    if (!result.created && result.submittedCaseJson !== det.caseJson) {
      throw new MedpolicyError(
        "conflict",
        `Idempotency-Key "${opts.idempotencyKey}" was already used for a different request (${result.record.id}); use a new key`,
      );
    }
    if (result.created) this.emit(result.record.id, determination, result.record);
    return { record: result.record, created: result.created };
  }

  /** A request, if `who` may see it. A provider asking for another organization's gets 404 (no leak). */
  async get(id: string, who: Principal): Promise<RequestRecord> {
    const rec = await this.store.getRequest(id);
    if (!rec || !this.canSee(rec, who)) throw new NotFoundError(`request ${id} not found`);
    return rec;
  }

  canSee(rec: Pick<RequestRecord, "org">, who: Principal): boolean {
    // Issue 15 item 5: a policy author works on the library, never on members' requests.
    if (who.role === "policy-author") return false;
    return who.role !== "provider" || rec.org === who.org;
  }

  async list(who: Principal, status?: RequestStatus): Promise<RequestSummary[]> {
    if (who.role === "policy-author") {
      throw new MedpolicyError("forbidden", "role policy-author may not list requests");
    }
    return this.store.list({
      ...(who.role === "provider" && { org: who.org ?? "" }),
      ...(status !== undefined && { status }),
      limit: 200,
    });
  }

  /**
   * Answers to open criteria (`POST …/answers`): merged into the newest case, re-evaluated, a new
   * determination appended. A reviewer may answer while the request awaits review; a provider (its own
   * organization's request) only while an information request is open, and its answers close it
   * (issue 14). Under the optimistic check, a concurrent change gets 409.
   */
  async answer(
    id: string,
    body: { answers?: Record<string, boolean>; facts?: Record<string, unknown> },
    who: Principal,
  ): Promise<RequestRecord> {
    const rec = await this.get(id, who);
    if (rec.status !== "awaiting-review") {
      throw new MedpolicyError(
        "conflict",
        `request ${id} is ${rec.status}: its answers can no longer change`,
      );
    }
    const fromProvider = who.role === "provider";
    if (fromProvider && !rec.workflow.infoRequest) {
      throw new MedpolicyError(
        "forbidden",
        `request ${id} has no open request for more information: a provider answers only what the plan asked`,
      );
    }
    if (!fromProvider && !REVIEW_ROLES.includes(who.role)) {
      throw new MedpolicyError("forbidden", `role ${who.role} may not answer criteria`);
    }
    const latest = rec.determinations.at(-1)!;
    // A version the submitter named (`policy`) is not carried into the new determination: a stored
    // request is decided by the policy in force for its member and date. Requests stored before
    // submissions naming one were refused (a provider chose its own rules) are re-decided correctly.
    const { policy: named, ...prev } = JSON.parse(latest.caseJson) as Record<string, unknown>;
    if (fromProvider) this.assertAsked(rec, prev, body);
    const merged = {
      ...prev,
      answers: { ...((prev.answers as object | undefined) ?? {}), ...(body.answers ?? {}) },
      facts: { ...((prev.facts as object | undefined) ?? {}), ...(body.facts ?? {}) },
    };
    const now = this.now();
    const actor = actorOf(who);
    const { determination, det } = this.decideForStore(merged, now.today, now.iso, actor, "answers");
    let workflow: Workflow | undefined;
    if (fromProvider) {
      const { infoRequest: _closed, ...rest } = rec.workflow;
      workflow = rest;
    }
    const updated = await this.store.appendDetermination(
      id,
      rec.version,
      det,
      {
        engineOutcome: determination.outcome,
        // Once a note sent it to a medical director it stays theirs: answers cannot route around that.
        medicalDirectorOnly: rec.medicalDirectorOnly || hasReview(determination),
        ...(workflow && { workflow }),
      },
      {
        at: now.iso,
        action: fromProvider ? "information-received" : "answered",
        actor,
        detail: {
          criteria: Object.keys(body.answers ?? {}),
          facts: Object.keys(body.facts ?? {}),
          engineOutcome: determination.outcome,
          ...(typeof named === "string" && { ignoredPolicy: named.slice(0, 100) }),
        },
      },
    );
    this.emit(id, determination, updated);
    return updated;
  }

  /**
   * A provider answers what the plan asked, and nothing the file already holds (issue 14 review: the
   * provider could otherwise overwrite a reviewer's finding — a contraindication — and turn a denial
   * into an approval). New facts are welcome (documentation); a fact already recorded is not replaced.
   */
  private assertAsked(
    rec: RequestRecord,
    prev: Record<string, unknown>,
    body: { answers?: Record<string, boolean>; facts?: Record<string, unknown> },
  ): void {
    const asked = new Set(rec.workflow.infoRequest?.questions.map((q) => q.criterion) ?? []);
    const answered = (prev.answers ?? {}) as Record<string, unknown>;
    const known = (prev.facts ?? {}) as Record<string, unknown>;
    for (const id of Object.keys(body.answers ?? {})) {
      if (!asked.has(id) || Object.hasOwn(answered, id)) {
        throw new InputError(
          `answers.${id}: the plan did not ask this question${Object.hasOwn(answered, id) ? " (it is already answered)" : ""}; answer the questions of the information request`,
          { field: `answers.${id}` },
        );
      }
    }
    for (const f of Object.keys(body.facts ?? {})) {
      if (Object.hasOwn(known, f)) {
        throw new InputError(`facts.${f}: already recorded in the request; a reviewer may change it`, {
          field: `facts.${f}`,
        });
      }
    }
  }

  /** The policy versions the library holds, for the rules that read the model (issue 14). */
  private versionOf = (id: string, version: string) => {
    try {
      return this.engine.version(`${id}@${version}`, this.today()).policy;
    } catch {
      return undefined;
    }
  };

  /** What `who` may sign on `rec` now, and what each outcome may cite (issue 14). */
  review(
    rec: RequestRecord,
    who: Principal,
  ): { authority: Authority; citable: Citable; determination: Determination; recommendable: Citable } {
    const latest = rec.determinations.at(-1)!;
    const determination = JSON.parse(latest.determinationJson) as Determination;
    const authority = authorityOf(who.role, this.authorityConfig, {
      medicalDirectorOnly: rec.medicalDirectorOnly,
      notCoveredIsBenefit: notCoveredIsBenefitRule(determination, this.versionOf),
      open: rec.status === "awaiting-review",
    });
    const all = citable(determination);
    // One who signs a not-covered only as a benefit rule cites the rule, never a clinical finding
    // (issue 14 review: a nurse's not-covered must not carry a medical-necessity reason).
    const adverse = this.authorityConfig.adverseSigners.includes(who.role);
    const allowed =
      authority.notCover && !adverse
        ? { ...all, "not-covered": all["not-covered"].filter((c) => c.status === "rule") }
        : all;
    return { authority, citable: allowed, determination, recommendable: all };
  }

  /** The JSON view of `rec` for `who`, with what they may do on it (issue 14). */
  view(rec: RequestRecord, who: Principal): Record<string, unknown> {
    if (who.role === "provider") return requestView(rec, who, this.now().ms);
    const { authority, citable: allowed } = this.review(rec, who);
    return requestView(rec, who, this.now().ms, { authority, citable: allowed });
  }

  /** Checks the citations of a decision or recommendation against the determination (issue 14). */
  private cite(
    determination: Determination,
    allowed: Citable,
    body: { outcome: Decision["outcome"]; criteria: string[] },
  ): CitedCriterion[] {
    const byId = new Map(allowed[body.outcome].map((c) => [c.criterion, c]));
    const criteria: CitedCriterion[] = [];
    const issues: { message: string; where: { field: string } }[] = [];
    body.criteria.forEach((cid, i) => {
      const found = byId.get(cid);
      if (found) criteria.push({ criterion: found.criterion, text: found.text, status: found.status });
      else
        issues.push({
          message: `criteria.${i}: ${citationProblem(determination, cid, body.outcome)}`,
          where: { field: `criteria.${i}` },
        });
    });
    if (issues.length > 0) throw new InputError(issues[0]!.message, issues[0]!.where, issues);
    if (body.outcome !== "approved" && criteria.length === 0) {
      throw new InputError(
        `a ${body.outcome} decision must cite at least one criterion that failed (SPEC 2.4: a specific, cited reason)`,
        { field: "criteria" },
      );
    }
    return criteria;
  }

  /**
   * Everything a signature checks and produces, without writing (issue 14): who may sign it, what it
   * may cite, the override reason, and the letter as it will be stored — so a preview is byte for byte
   * the signed letter.
   */
  private async prepare(
    id: string,
    body: DecisionBody,
    who: Principal,
  ): Promise<{
    rec: RequestRecord;
    decision: Decision;
    html: string;
    sha256: string;
    seq: number;
    determination: Determination;
  }> {
    if (!REVIEW_ROLES.includes(who.role)) {
      throw new MedpolicyError("forbidden", "only a reviewer or a medical director may sign a decision");
    }
    const rec = await this.get(id, who);
    if (rec.status !== "awaiting-review") {
      throw new MedpolicyError("conflict", `request ${id} is ${rec.status}: it cannot be signed again`);
    }
    // A request stored before naming a policy was refused (SPEC 1.4) was decided by the rules its
    // submitter chose: it is signed only once the policy in force has decided it (any answer re-decides).
    const named = (JSON.parse(rec.determinations.at(-1)!.caseJson) as { policy?: unknown }).policy;
    if (named !== undefined) {
      throw new MedpolicyError(
        "conflict",
        `request ${id} was decided by the policy its submitter named (${String(named).slice(0, 100)}), not by the policy in force for its member and date: record an answer (it re-decides the request) before signing`,
      );
    }
    const { authority, citable: allowed, determination } = this.review(rec, who);
    const refusal = signingRefusal(authority, body.outcome);
    if (refusal) throw new MedpolicyError("forbidden", `request ${id}: ${refusal}`);
    const criteria = this.cite(determination, allowed, body);
    const { lines, departures } = decisionLines(determination, allowed, body, authority, id);
    const engine = rec.engineOutcome;
    const perLine = lines !== undefined && departures.length > 0;
    const overrides =
      ((engine === "approved" || engine === "denied" || engine === "not-covered") &&
        engine !== body.outcome) ||
      perLine;
    if (overrides && body.overrideReason === undefined) {
      const first = departures[0];
      throw new InputError(
        perLine && first
          ? `overrideReason: the engine's outcome for ${first.code} is ${first.from}; signing ${first.to} for it overrides it and needs a reason`
          : `overrideReason: the engine recommends ${engine}; signing ${body.outcome} overrides it and needs a reason`,
        { field: "overrideReason" },
      );
    }
    const latest = rec.determinations.at(-1)!;
    const now = this.now();
    const decision: Decision = {
      outcome: body.outcome,
      reason: body.reason,
      criteria,
      signedBy: actorOf(who),
      signedAt: now.iso,
      automatic: false,
      determinationSeq: latest.seq,
      ...(overrides && {
        override: {
          from: engine,
          reason: body.overrideReason!,
          ...(perLine && { lines: departures }),
        },
      }),
      ...(lines && { lines }),
    };
    const html = this.renderFor(rec, latest, determination, decision);
    const sha256 = createHash("sha256").update(html).digest("hex");
    return {
      rec,
      decision: { ...decision, letterSha256: sha256 },
      html,
      sha256,
      seq: latest.seq,
      determination,
    };
  }

  /**
   * The letter a decision would have if signed now (`POST …/letter-preview`, issue 14): the same checks
   * as signing, nothing written; `sha256` is what `letterSha256` of the signature compares.
   */
  async preview(id: string, body: DecisionBody, who: Principal): Promise<{ html: string; sha256: string }> {
    const { html, sha256 } = await this.prepare(id, body, who);
    return { html, sha256 };
  }

  /**
   * Signs a decision (`POST …/decision`, SPEC 2.4, issue 14): records who, what, when and why, citing
   * only criteria whose status supports the outcome, and stores the letter generated from the trace.
   * Exactly one signature per request, across processes (store's check). With `letterSha256` (from a
   * preview), a letter that would differ from the previewed one is refused (409): nothing is signed.
   */
  async sign(id: string, body: DecisionBody, who: Principal): Promise<RequestRecord> {
    const { rec, decision, html, sha256, determination } = await this.prepare(id, body, who);
    if (body.letterSha256 !== undefined && body.letterSha256 !== sha256) {
      throw new MedpolicyError(
        "conflict",
        `request ${id}: the letter would differ from the one previewed (the request or the date changed): preview it again`,
      );
    }
    const { infoRequest: _closed, ...workflow } = rec.workflow;
    const signed = await this.store.sign(
      id,
      decision,
      {
        at: decision.signedAt,
        action: "signed",
        actor: actorOf(who),
        detail: {
          outcome: body.outcome,
          criteria: body.criteria,
          ...(decision.lines && {
            lines: decision.lines.map((l) => ({ code: l.code, outcome: l.outcome })),
          }),
          determinationSeq: decision.determinationSeq,
          engineOutcome: rec.engineOutcome,
          ...(decision.override && { override: decision.override }),
          ...(rec.workflow.recommendation && { recommendation: rec.workflow.recommendation.outcome }),
          letterSha256: sha256,
        },
      },
      body.version ?? rec.version,
      { letterHtml: html, ...(rec.workflow.infoRequest && { workflow }) },
    );
    this.emit(id, determination, signed);
    return signed;
  }

  /**
   * A nurse reviewer's recommendation of an outcome they may not sign (issue 14): checked like a
   * signature's citations, recorded, and the request routed to a medical director.
   */
  async recommend(id: string, body: RecommendationBody, who: Principal): Promise<RequestRecord> {
    if (!REVIEW_ROLES.includes(who.role)) {
      throw new MedpolicyError("forbidden", "only a reviewer may record a recommendation");
    }
    const rec = await this.get(id, who);
    this.assertOpen(rec);
    const { authority, recommendable: allowed, determination } = this.review(rec, who);
    if (!authority.recommend) {
      throw new MedpolicyError(
        "forbidden",
        `request ${id}: ${authority.note ?? "you may sign this decision yourself; a recommendation is for those who may not"}`,
      );
    }
    const criteria = this.cite(determination, allowed, body);
    const now = this.now();
    const latest = rec.determinations.at(-1)!;
    const recommendation = {
      at: now.iso,
      by: actorOf(who),
      outcome: body.outcome,
      reason: body.reason,
      criteria,
      determinationSeq: latest.seq,
    };
    return this.store.updateWorkflow(id, {
      workflow: { ...rec.workflow, recommendation },
      requireOpen: true,
      expectedVersion: body.version ?? rec.version,
      medicalDirectorOnly: body.outcome !== "approved",
      event: {
        at: now.iso,
        action: "recommended",
        actor: actorOf(who),
        detail: { outcome: body.outcome, criteria: body.criteria, determinationSeq: latest.seq },
      },
    });
  }

  /**
   * Asks the provider for more information (issue 14): the request pends to them with the message and
   * the questions (by default every criterion still needed); PAS answers pended with them.
   */
  async requestInformation(id: string, body: InformationRequestBody, who: Principal): Promise<RequestRecord> {
    if (!REVIEW_ROLES.includes(who.role)) {
      throw new MedpolicyError("forbidden", "only a reviewer may request more information");
    }
    const rec = await this.get(id, who);
    this.assertOpen(rec);
    const determination = JSON.parse(rec.determinations.at(-1)!.determinationJson) as Determination;
    const needed: Question[] = neededOnce(determination);
    let questions: Question[];
    if (body.criteria === undefined) {
      questions = needed;
    } else {
      const open = new Map(needed.map((q) => [q.criterion, q]));
      questions = [];
      const issues: { message: string; where: { field: string } }[] = [];
      body.criteria.forEach((cid, i) => {
        const q = open.get(cid) ?? this.unknownCriterion(determination, cid);
        if (q) questions.push(q);
        else
          issues.push({
            message: `criteria.${i}: ${cid} is not an open question of this request (it is answered, or not a criterion of it)`,
            where: { field: `criteria.${i}` },
          });
      });
      if (issues.length > 0) throw new InputError(issues[0]!.message, issues[0]!.where, issues);
    }
    const now = this.now();
    const updated = await this.store.updateWorkflow(id, {
      workflow: {
        ...rec.workflow,
        infoRequest: { at: now.iso, by: actorOf(who), message: body.message, questions },
      },
      requireOpen: true,
      // Optimistic: the workflow written is the one read (a concurrent change gets 409, not lost).
      expectedVersion: body.version ?? rec.version,
      event: {
        at: now.iso,
        action: "information-requested",
        actor: actorOf(who),
        detail: { criteria: questions.map((q) => q.criterion) },
      },
    });
    this.emit(id, determination, updated);
    return updated;
  }

  private unknownCriterion(d: Determination, id: string): Question | undefined {
    const f = findCriterion(d, id);
    return f && f.status === "unknown" ? { criterion: id, text: f.text } : undefined;
  }

  /**
   * The submitter withdraws its own request before anyone signed (a PAS Claim update cancelling every
   * service): the request leaves the queue as `withdrawn`, final, and nothing can be signed on it. Only
   * a provider of the request's organization (or an admin); a request already decided is a conflict —
   * its decision stands.
   */
  async withdraw(id: string, reason: string, who: Principal): Promise<RequestRecord> {
    if (who.role !== "provider" && who.role !== "admin") {
      throw new MedpolicyError("forbidden", "only the submitting provider may withdraw a request");
    }
    // A reviewer's concurrent step (an assignment, an information request) moves the version: read again and retry
    // while the request is still open; a decision in between ends it (409 naming the status).
    for (let attempt = 0; ; attempt++) {
      const rec = await this.get(id, who);
      this.assertOpen(rec);
      const now = this.now();
      try {
        const updated = await this.store.updateWorkflow(id, {
          workflow: { ...rec.workflow, withdrawn: { at: now.iso, by: actorOf(who), reason } },
          requireOpen: true,
          withdraw: true,
          expectedVersion: rec.version,
          event: { at: now.iso, action: "withdrawn", actor: actorOf(who), detail: { reason } },
        });
        const latest = JSON.parse(updated.determinations.at(-1)!.determinationJson) as Determination;
        this.emit(id, latest, updated);
        return updated;
      } catch (err) {
        if (!(err instanceof MedpolicyError && err.kind === "conflict") || attempt >= 4) throw err;
      }
    }
  }

  /** Assigns the request to a reviewer, or unassigns it (`null`) (issue 14). */
  async assign(
    id: string,
    assignee: { sub: string; name: string } | null,
    who: Principal,
  ): Promise<RequestRecord> {
    if (!REVIEW_ROLES.includes(who.role)) {
      throw new MedpolicyError("forbidden", "only a reviewer or a medical director may assign requests");
    }
    const rec = await this.get(id, who);
    this.assertOpen(rec);
    const { assignee: _was, ...rest } = rec.workflow;
    const now = this.now();
    return this.store.updateWorkflow(id, {
      workflow: assignee ? { ...rest, assignee } : rest,
      requireOpen: true,
      expectedVersion: rec.version,
      event: {
        at: now.iso,
        action: "assigned",
        actor: actorOf(who),
        detail: { assignee: assignee ? { sub: assignee.sub, name: assignee.name } : null },
      },
    });
  }

  /**
   * An evidence note on a criterion, or an internal note between reviewers (issue 14): kept in the
   * request's audit trail, never shown to the provider.
   */
  async addNote(id: string, body: NoteBody, who: Principal): Promise<RequestRecord> {
    if (!REVIEW_ROLES.includes(who.role)) {
      throw new MedpolicyError("forbidden", "only a reviewer or a medical director may write notes");
    }
    const rec = await this.get(id, who);
    if (body.criterion !== undefined) {
      const d = JSON.parse(rec.determinations.at(-1)!.determinationJson) as Determination;
      if (!findCriterion(d, body.criterion)) {
        throw new InputError(
          `criterion: ${body.criterion} is not a criterion of this request's determination`,
          {
            field: "criterion",
          },
        );
      }
    }
    return this.store.addEvent(id, {
      at: this.now().iso,
      action: "note",
      actor: actorOf(who),
      detail: {
        kind: body.kind,
        ...(body.criterion !== undefined && { criterion: body.criterion }),
        text: body.text,
      },
    });
  }

  /**
   * Stores a document with a request (issue 14): uploaded by the provider (its own organization's
   * request) or a reviewer, or carried in a PAS bundle.
   */
  async addAttachment(
    id: string,
    body: AttachmentBody & { data: Uint8Array; source: AttachmentMeta["source"] },
    who: Principal,
  ): Promise<{ record: RequestRecord; attachment: AttachmentMeta }> {
    if (who.role !== "provider" && !REVIEW_ROLES.includes(who.role)) {
      throw new MedpolicyError("forbidden", `role ${who.role} may not attach documents`);
    }
    const rec = await this.get(id, who);
    if (who.role === "provider" && body.source === "upload" && rec.status !== "awaiting-review") {
      throw new MedpolicyError(
        "conflict",
        `request ${id} is ${rec.status}: documents for it go with an appeal or a new request`,
      );
    }
    if (rec.attachments.length >= MAX_ATTACHMENTS) {
      throw new InputError(`request ${id} already has ${MAX_ATTACHMENTS} attachments, the most it may hold`, {
        field: "data",
      });
    }
    if (body.data.byteLength === 0 || body.data.byteLength > MAX_ATTACHMENT_BYTES) {
      throw new InputError(
        `data: a document of 1 byte to ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB is required (got ${body.data.byteLength} bytes)`,
        { field: "data" },
      );
    }
    const now = this.now();
    const attachment: AttachmentMeta = {
      id: randomUUID(),
      title: body.title,
      contentType: body.contentType,
      size: body.data.byteLength,
      sha256: createHash("sha256").update(body.data).digest("hex"),
      source: body.source,
      addedAt: now.iso,
      addedBy: actorOf(who),
    };
    const record = await this.store.addAttachment(id, { ...attachment, data: body.data }, MAX_ATTACHMENTS, {
      at: now.iso,
      action: "attachment-added",
      actor: actorOf(who),
      detail: { id: attachment.id, contentType: attachment.contentType, size: attachment.size },
    });
    return { record, attachment };
  }

  /** An attachment's bytes, if `who` may see the request. */
  async attachment(
    id: string,
    attachmentId: string,
    who: Principal,
  ): Promise<{ meta: AttachmentMeta; data: Uint8Array }> {
    await this.get(id, who);
    const a = await this.store.getAttachment(id, attachmentId);
    if (!a) throw new NotFoundError(`attachment ${attachmentId} of request ${id} not found`);
    return a;
  }

  private assertOpen(rec: RequestRecord): void {
    if (rec.status !== "awaiting-review") {
      throw new MedpolicyError("conflict", `request ${rec.id} is ${rec.status}: its review is closed`);
    }
  }

  /** Requests awaiting review, soonest due first, with overdue flags and time left (SPEC 4, issue 14). */
  async queue(
    opts: QueueOptions = {},
  ): Promise<(RequestSummary & { overdue: boolean; hoursLeft: number; minutesLeft: number })[]> {
    const now = this.now().ms;
    return (await this.store.queue(opts)).map((r) => {
      const left = Date.parse(r.dueAt) - now;
      return {
        ...r,
        overdue: left < 0,
        hoursLeft: Math.round((left / HOUR) * 10) / 10,
        minutesLeft: Math.floor(left / 60_000),
      };
    });
  }

  /** CMS-0057-F metrics, standard and expedited separately. */
  async metrics(): Promise<ReturnType<typeof computeMetrics>> {
    return computeMetrics(await this.store.metricsRows(), this.now().iso);
  }

  /**
   * Re-runs every stored determination of a request and compares canonical JSON byte for byte (SPEC 4):
   * the hash of the recomputation against the hash stored when it was decided (issue 13), or the stored
   * bytes' hash for a determination written before.
   */
  async reproduce(id: string, who: Principal): Promise<ReproduceResult> {
    const rec = await this.get(id, who);
    const determinations = rec.determinations.map((d) => {
      try {
        const again = this.redecide(d.caseJson, d.today);
        const hash = d.determinationHash.startsWith("e:")
          ? this.hashOf(again)
          : hashDetermination(canonicalJson(again)); // stored before issue 13: its canonical bytes
        return {
          seq: d.seq,
          identical: hash === d.determinationHash,
          ...(d.policyHash !== undefined && { policyHash: d.policyHash }),
          engine: d.engine,
        };
      } catch (err) {
        return { seq: d.seq, identical: false, engine: d.engine, error: (err as Error).message };
      }
    });
    return { identical: determinations.every((d) => d.identical), determinations };
  }

  /**
   * The determination letter (HTML), once there is a decision: the letter stored when it was signed
   * (issue 14: the letter on file is the letter sent), else — automatic approvals, decisions signed
   * before issue 14 — rendered from the stored decision and its determination.
   */
  async letter(id: string, who: Principal): Promise<string> {
    const rec = await this.get(id, who);
    if (!rec.decision) {
      throw new MedpolicyError(
        "conflict",
        rec.status === "not-applicable"
          ? `request ${id} needed no determination under these policies: there is no letter`
          : rec.status === "withdrawn"
            ? `request ${id} was withdrawn by the submitter before a decision: there is no letter`
            : `request ${id} is pended for review: the letter is issued once a decision is signed`,
      );
    }
    const stored = await this.store.getLetter(id);
    if (stored !== undefined) return stored;
    const det =
      rec.determinations.find((d) => d.seq === rec.decision!.determinationSeq) ?? rec.determinations.at(-1)!;
    const determination = JSON.parse(det.determinationJson) as Determination;
    if (det.recomputedDiffers) {
      // The determination is recomputed on read (issue 13); a letter must state what was decided.
      throw new MedpolicyError(
        "conflict",
        `request ${id}: determination ${det.seq} no longer reproduces (the policy or engine changed since it was decided), so no letter is rendered from it`,
      );
    }
    return this.renderFor(rec, det, determination, rec.decision);
  }

  /** Renders the letter of `decision` on `rec` (issue 14: plan, member, providers, services). */
  private renderFor(
    rec: RequestRecord,
    det: DeterminationRecord,
    determination: Determination,
    decision: Decision,
  ): string {
    return renderLetter({
      request: { id: rec.id, receivedAt: rec.receivedAt, expedited: rec.expedited },
      case: this.engine.parseCase(JSON.parse(det.caseJson)),
      determination,
      decision,
      plan: this.plan,
      services: this.serviceDescriptions(determination),
    });
  }

  /** Code → description from the code tables of the policy versions that decided the lines. */
  private serviceDescriptions(d: Determination): Record<string, string> {
    const out: Record<string, string> = {};
    for (const l of d.lines) {
      if (!l.policy) continue;
      const v = this.versionOf(l.policy.id, l.policy.version);
      const row = v?.codeTables.flatMap((t) => t.rows).find((r) => r.code === l.code && r.description);
      if (row) out[l.code] = row.description;
    }
    return out;
  }

  private emit(id: string, determination: Determination, rec: RequestRecord): void {
    for (const l of this.listeners) {
      // A failing subscriber must neither fail the request nor crash the process.
      Promise.resolve()
        .then(() => l(id, determination, rec))
        .catch((err: unknown) =>
          this.warn("decision listener failed", { requestId: id, error: (err as Error)?.name }),
        );
    }
  }
}

/**
 * The decision of each reviewed service (a request of several codes, SPEC 2.2 lines): `body.lines`
 * where the reviewer decided the codes apart, else `body.outcome` for every one. Checked before
 * anything is written: each reviewed code decided once and no other; each outcome one the signer may
 * sign; each adverse code resting on a cited criterion of its own line, stored with the text it has
 * there (CMS-0057-F: a specific reason for each denied service; ids repeat across policies, so a
 * citation from another code's policy is not one); and, where any code is decided adversely, no
 * citation that no adverse code rests on (the letter would state it as a reason). Returns the lines
 * to store (undefined for a request of one reviewed code, whose decision is the request's) and every
 * code whose decision departs from the engine's outcome for it.
 */
function decisionLines(
  d: Determination,
  allowed: Citable,
  body: DecisionBody,
  authority: Authority,
  id: string,
): { lines: DecisionLine[] | undefined; departures: Departure[] } {
  const reviewed = reviewedLines(d);
  const codes = reviewed.map((l) => l.code);
  const chosen = new Map<string, Decision["outcome"]>();
  if (body.lines) {
    body.lines.forEach((l, i) => {
      if (!codes.includes(l.code)) {
        throw new InputError(
          `lines.${i}.code: ${l.code} is not a reviewed service of request ${id} (${codes.join(", ") || "none"})`,
          { field: `lines.${i}.code` },
        );
      }
      chosen.set(l.code, l.outcome);
    });
    const missing = codes.filter((c) => !chosen.has(c));
    if (missing.length > 0) {
      throw new InputError(
        `lines: ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not decided: give every reviewed service (${codes.join(", ")}) its outcome`,
        { field: "lines" },
      );
    }
    for (const o of new Set(chosen.values())) {
      const refusal = signingRefusal(authority, o);
      if (refusal) throw new MedpolicyError("forbidden", `request ${id}: ${refusal}`);
    }
  }
  const departures: Departure[] = [];
  const depart = (l: Determination["lines"][number], to: Decision["outcome"]) => {
    const e = l.outcome;
    if ((e === "approved" || e === "denied" || e === "not-covered") && e !== to) {
      departures.push({ code: l.code, from: e, to });
    }
  };
  if (reviewed.length <= 1) {
    // One reviewed code: the request's decision is the code's, its citations checked as such (`cite`).
    if (reviewed[0]) depart(reviewed[0], body.outcome);
    return { lines: undefined, departures };
  }
  const cited = new Set(body.criteria);
  const restsOn = new Set<string>();
  const lines: DecisionLine[] = [];
  for (const l of reviewed) {
    const outcome = chosen.get(l.code) ?? body.outcome;
    depart(l, outcome);
    if (outcome === "approved") {
      lines.push({ code: l.code, outcome });
      continue;
    }
    // What the signer may cite for this outcome (`allowed`), as far as this code's own line supports it.
    const mayCite = new Set(allowed[outcome].map((c) => c.criterion));
    const own = lineCitable(d, l)[outcome].filter((c) => mayCite.has(c.criterion));
    const rests = own.filter((c) => cited.has(c.criterion));
    if (rests.length === 0) {
      const field = body.lines ? `lines.${body.lines.findIndex((b) => b.code === l.code)}` : "criteria";
      throw new InputError(
        own.length === 0
          ? `${field}: nothing in the determination supports ${outcome} for ${l.code} (the engine's outcome for it is ${l.outcome}): decide each service on its own (lines), answer its open criteria, or request more information`
          : `${field}: ${l.code} is ${outcome} but no cited criterion is one of its own: cite one of ${own
              .slice(0, 10)
              .map((c) => c.criterion)
              .join(", ")}`,
        { field },
      );
    }
    for (const c of rests) restsOn.add(c.criterion);
    lines.push({
      code: l.code,
      outcome,
      criteria: rests.map((c) => ({ criterion: c.criterion, text: c.text, status: c.status })),
    });
  }
  if (restsOn.size > 0) {
    const i = body.criteria.findIndex((c) => !restsOn.has(c));
    if (i >= 0) {
      const approved = lines.filter((l) => l.outcome === "approved").map((l) => l.code);
      throw new InputError(
        `criteria.${i}: ${body.criteria[i]} is not a reason of any service decided adversely${
          approved.length ? ` (${approved.join(", ")} ${approved.length === 1 ? "is" : "are"} approved)` : ""
        }: the letter would state it as one; leave it out`,
        { field: `criteria.${i}` },
      );
    }
  }
  return { lines, departures };
}

/** A code whose signed outcome departs from the engine's outcome for it (an override needs a reason). */
interface Departure {
  code: string;
  from: string;
  to: string;
}

/** The provider-facing status (SPEC 2.4): adverse or open outcomes show as pended until signed. */
export function providerStatusOf(r: {
  status: RequestStatus;
  decision?: { outcome: Decision["outcome"] };
}): ProviderStatus {
  switch (r.status) {
    case "approved":
      return "approved";
    case "not-applicable":
      return "not-applicable";
    case "decided":
      return r.decision?.outcome ?? "pended";
    case "withdrawn":
      return "withdrawn";
    default:
      return "pended";
  }
}

const STATUS_TEXT: Record<ProviderStatus, string> = {
  approved: "approved",
  pended: "pended for review",
  denied: "denied",
  "not-covered": "not covered",
  "not-applicable": "no policy in this library governs the service: no determination was made",
  withdrawn: "withdrawn by the submitter: no decision was made",
};

/**
 * The provider's words for `s`; for a decision made code by code that approved some services and not
 * others, which were approved ("denied in part: 27280 approved"), so the office does not read the
 * request's most severe outcome as every service's.
 */
export function statusTextOf(s: ProviderStatus, decision?: Pick<Decision, "lines">): string {
  const approved = (decision?.lines ?? []).filter((l) => l.outcome === "approved").map((l) => l.code);
  if ((s === "denied" || s === "not-covered") && approved.length > 0) {
    return `${STATUS_TEXT[s]} in part: ${approved.join(", ")} approved`;
  }
  return STATUS_TEXT[s];
}

/** JSON view of a request for `who` (SPEC 2.4: providers never see an unsigned adverse recommendation). */
/** Canonical key order, as parts of the parsed canonical JSON have it. */
function canonical<T>(v: T): T {
  return JSON.parse(canonicalJson(v)) as T;
}

/**
 * The parts of a determination a view shows to everyone, as the parsed canonical JSON has them; from
 * the object itself when the record carries it (a fresh write: only these small parts are encoded).
 */
function sharedParts(d: DeterminationRecord): Pick<Determination, "policy" | "needed" | "referral"> {
  const live = d.determination;
  if (!live) return JSON.parse(d.determinationJson) as Determination;
  return {
    ...(live.policy !== undefined && { policy: canonical(live.policy) }),
    needed: canonical(live.needed),
    ...(live.referral !== undefined && { referral: canonical(live.referral) }),
  };
}

export function requestView(
  rec: RequestRecord,
  who: Principal,
  nowMs: number,
  review?: { authority: Authority; citable: Citable },
): Record<string, unknown> {
  const latest = rec.determinations.at(-1)!;
  const det = sharedParts(latest);
  const status = providerStatusOf(rec);
  const info = rec.status === "awaiting-review" ? rec.workflow.infoRequest : undefined;
  const view: Record<string, unknown> = {
    id: rec.id,
    status,
    // Issue 14: a request pended to the provider says so, and what it waits for.
    statusText: info ? "pended: more information requested" : statusTextOf(status, rec.decision),
    receivedAt: rec.receivedAt,
    dueAt: rec.dueAt,
    expedited: rec.expedited,
    ...(det.policy && { policy: det.policy }),
    // What documentation is still needed: only when the engine is waiting for information, never a
    // denied recommendation's reasons.
    ...(rec.status === "awaiting-review" && latest.outcome === "pended" && { needed: det.needed }),
    ...(det.referral && { referral: det.referral }),
    ...(rec.decision && {
      decision: {
        ...rec.decision,
        signedBy: { name: rec.decision.signedBy.name, role: rec.decision.signedBy.role },
      },
    }),
    ...(rec.decision && { letter: `/api/requests/${rec.id}/letter` }),
    ...(info && {
      informationRequest: {
        at: info.at,
        message: info.message,
        questions: info.questions,
      },
    }),
    // Issue 14: the provider sees the documents of its request (its own and those the plan added).
    attachments: rec.attachments.map((a) => attachmentView(rec.id, a)),
  };
  if (who.role === "provider") return view;
  view.decision = rec.decision;
  view.review = {
    workflowStatus: rec.status,
    engineOutcome: rec.engineOutcome,
    medicalDirectorOnly: rec.medicalDirectorOnly,
    overdue: rec.status === "awaiting-review" && Date.parse(rec.dueAt) < nowMs,
    org: rec.org,
    version: rec.version,
    case: JSON.parse(latest.caseJson) as unknown,
    determinations: rec.determinations.map((d) => ({
      seq: d.seq,
      createdAt: d.createdAt,
      trigger: d.trigger,
      actor: d.actor,
      today: d.today,
      engine: d.engine,
      outcome: d.outcome,
      determination: JSON.parse(d.determinationJson) as unknown,
      // Read after determinationJson (which recomputes): the recomputation is not what was decided.
      ...(d.recomputedDiffers && { reproducible: false }),
    })),
    events: rec.events,
    // Issue 14: the review work.
    workflow: rec.workflow,
    notes: rec.events
      .filter((e) => e.action === "note")
      .map((e) => ({ seq: e.seq, at: e.at, by: e.actor, ...(e.detail as object) })),
    attachments: rec.attachments.map((a) => attachmentView(rec.id, a)),
    ...(review && { authority: review.authority, citable: review.citable }),
  };
  return view;
}

/** An attachment as views list it: metadata and where its bytes are. */
function attachmentView(requestId: string, a: AttachmentMeta): Record<string, unknown> {
  return {
    id: a.id,
    title: a.title,
    contentType: a.contentType,
    size: a.size,
    addedAt: a.addedAt,
    source: a.source,
    url: `/api/requests/${requestId}/attachments/${a.id}`,
  };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * CMS-0057-F prior-authorization metrics: share approved / denied / still pended, and average and
 * median time from receipt to decision, for standard and expedited requests separately. Requests no
 * policy governs (`not-applicable`) are counted apart, not as decisions.
 */
export function computeMetrics(rows: MetricsRow[], generatedAt: string) {
  const group = (expedited: boolean) => {
    const rs = rows.filter((r) => r.expedited === expedited);
    const approved = rs.filter((r) => r.status === "approved" || r.decisionOutcome === "approved").length;
    const denied = rs.filter(
      (r) => r.decisionOutcome === "denied" || r.decisionOutcome === "not-covered",
    ).length;
    const pended = rs.filter((r) => r.status === "awaiting-review").length;
    const notApplicable = rs.filter((r) => r.status === "not-applicable").length;
    // Withdrawn by the submitter before a decision: neither a decision nor pending.
    const withdrawn = rs.filter((r) => r.status === "withdrawn").length;
    const total = approved + denied + pended;
    const pct = (n: number) => (total === 0 ? 0 : round2((100 * n) / total));
    const hours = rs
      .filter((r) => (r.status === "approved" || r.status === "decided") && r.decidedAt)
      .map((r) => (Date.parse(r.decidedAt!) - Date.parse(r.receivedAt)) / HOUR);
    const avg = hours.length ? round2(hours.reduce((a, b) => a + b, 0) / hours.length) : null;
    const med = median(hours);
    return {
      total,
      approved: { count: approved, percent: pct(approved) },
      denied: { count: denied, percent: pct(denied) },
      pended: { count: pended, percent: pct(pended) },
      notApplicable,
      withdrawn,
      timeToDecisionHours: { decided: hours.length, average: avg, median: med === null ? null : round2(med) },
    };
  };
  return { generatedAt, standard: group(false), expedited: group(true) };
}
