/**
 * The audit trail of PHI reads (issue 13: "reads of PHI are not audited"). Every read of a request's
 * case, determinations, decision or letter — JSON API, FHIR (ClaimResponse read, PAS `$inquire`) and
 * the web app's views — records who (sub, role, org), which request, through what action, and when.
 * Admins query it with `GET /api/audit`.
 *
 * Writes are buffered: rows are kept in memory and written in one transaction at most
 * {@link AUDIT_FLUSH_MS} after the first of them (or at once when {@link AUDIT_BATCH} are waiting),
 * and on close. A crash (SIGKILL, power loss) can therefore lose the reads of the last ~100 ms; a
 * failing database keeps rows for the next flush up to {@link AUDIT_MAX_PENDING}, beyond which reads
 * are counted as lost and a warning is logged (with the count only, no PHI).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { InputError } from "../model/index.js";
import type { ReadEntry, ReadRecord, Store } from "../store/index.js";
import type { Principal } from "./auth.js";

/** Longest a read waits in memory before it is written. */
export const AUDIT_FLUSH_MS = 100;
/** Reads written at once as soon as this many wait. */
export const AUDIT_BATCH = 500;
/** Bound of the in-memory buffer while the database fails. */
export const AUDIT_MAX_PENDING = 50_000;

/** What mounted plugins call (`ctx.audit`): records reads; never throws, never waits on the database. */
export interface AuditSink {
  /** Records that `who` read request `requestId` through `action` (e.g. `fhir.claimresponse.read`). */
  read(who: Principal, requestId: string, action: string): void;
  /** The same for every request in a list view that shows member data. */
  readMany(who: Principal, requestIds: readonly string[], action: string): void;
}

/** The buffered writer behind {@link AuditSink}. */
export class AuditTrail implements AuditSink {
  private pending: ReadRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** Reads that could not be recorded (buffer full while the database failed, or after close). */
  lost = 0;

  constructor(
    private readonly store: Pick<Store, "recordReads" | "listReads">,
    private readonly clock: () => Date = () => new Date(),
    /** Where write failures go (counts and error names only). */
    private readonly warn: (msg: string, data: Record<string, unknown>) => void = () => {},
  ) {}

  read(who: Principal, requestId: string, action: string): void {
    this.readMany(who, [requestId], action);
  }

  readMany(who: Principal, requestIds: readonly string[], action: string): void {
    if (requestIds.length === 0) return;
    const at = this.clock().toISOString();
    for (const requestId of requestIds) {
      if (this.closed || this.pending.length >= AUDIT_MAX_PENDING) {
        this.lost++;
        continue;
      }
      this.pending.push({
        at,
        sub: who.sub,
        role: who.role,
        ...(who.org !== undefined && { org: who.org }),
        requestId,
        action,
      });
    }
    if (this.pending.length >= AUDIT_BATCH) void this.flush();
    else if (!this.timer && this.pending.length > 0) {
      this.timer = setTimeout(() => void this.flush(), AUDIT_FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Writes every waiting read; resolves once they are stored (or kept for a retry). Never rejects. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.chain = this.chain.then(() => this.write());
    return this.chain;
  }

  private async write(): Promise<void> {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    try {
      await this.store.recordReads(batch);
    } catch (err) {
      // Keep them for the next flush, within the bound; the oldest are the ones lost.
      const kept = batch.concat(this.pending);
      const over = Math.max(0, kept.length - AUDIT_MAX_PENDING);
      this.lost += over;
      this.pending = kept.slice(over);
      this.warn("audit trail write failed; reads kept for retry", {
        error: (err as Error).name,
        pending: this.pending.length,
        lost: this.lost,
      });
      if (!this.closed && !this.timer) {
        this.timer = setTimeout(() => void this.flush(), 1000);
        this.timer.unref();
      }
    }
  }

  /** Writes what waits and stops accepting reads (server close, before the store closes). */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length > 0) {
      this.lost += this.pending.length;
      this.warn("audit trail: reads not recorded at close", { lost: this.pending.length });
      this.pending = [];
    }
  }

  /** The trail, newest first, after writing what waits (so an admin sees reads up to now). */
  async query(q: AuditQuery): Promise<ReadEntry[]> {
    await this.flush();
    return this.store.listReads({
      ...(q.request !== undefined && { requestId: q.request }),
      ...(q.principal !== undefined && { sub: q.principal }),
      ...(q.since !== undefined && { since: q.since }),
      limit: q.limit,
    });
  }
}

/**
 * ISO-8601 date or date-time (`2026-03-01`, `2026-03-01T12:00:00Z`, `…+02:00`). Anchored, bounded
 * quantifiers only: linear on any input.
 */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

const text = z.string().min(1).max(200);

/** `GET /api/audit` query: filters and a bounded page. */
export const auditQuerySchema = z.strictObject({
  request: text.optional(),
  principal: text.optional(),
  since: z
    .string()
    .max(40)
    .regex(ISO_INSTANT, { error: "must be an ISO-8601 date or date-time (2026-03-01T12:00:00Z)" })
    .refine((s) => !Number.isNaN(Date.parse(s)), { error: "is not a valid date" })
    // Stored instants are UTC `…Z` text: compare like with like.
    .transform((s) => new Date(s).toISOString())
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type AuditQuery = z.output<typeof auditQuerySchema>;

/**
 * Registers `GET /api/audit`; `adminOnly` is the server's `requireRole("admin")` (anyone else 403, no
 * token 401), passed in so this module does not import the routes.
 */
export function registerAuditRoute(
  app: FastifyInstance,
  trail: AuditTrail,
  adminOnly: (req: FastifyRequest) => Promise<void>,
): void {
  app.get("/api/audit", { preHandler: adminOnly }, async (req) => {
    const r = auditQuerySchema.safeParse(req.query ?? {});
    if (!r.success) {
      const issue = r.error.issues[0]!;
      const field = issue.path.length > 0 ? String(issue.path[0]) : "query";
      throw new InputError(`${field}: ${issue.message}`, { field });
    }
    const entries = await trail.query(r.data);
    return { entries, count: entries.length, limit: r.data.limit };
  });
}

/** The OpenAPI path item of `GET /api/audit` (merged into the document `/openapi.json` serves). */
export const AUDIT_OPENAPI = {
  "/api/audit": {
    get: {
      summary:
        "Audit trail of PHI reads (admin only): who read which request, when, through what action; newest first",
      description:
        "Reads of a request's case, determinations, decision or letter are recorded through every API: " +
        "`request.read`, `letter.read`, `request.reproduce` (JSON API), `fhir.claimresponse.read`, " +
        "`fhir.pas.inquire` (FHIR), `ui.requests.list` (the web app's list, which shows member state and " +
        "service codes). Writes are batched within 100 ms.",
      security: [{ bearer: [] }],
      parameters: [
        { name: "request", in: "query", required: false, schema: { type: "string", maxLength: 200 } },
        {
          name: "principal",
          in: "query",
          required: false,
          description: "The reader's token subject (`sub`).",
          schema: { type: "string", maxLength: 200 },
        },
        {
          name: "since",
          in: "query",
          required: false,
          description: "ISO-8601 date or date-time: entries at or after it.",
          schema: { type: "string", format: "date-time" },
        },
        {
          name: "limit",
          in: "query",
          required: false,
          schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
        },
      ],
      responses: {
        "200": {
          description: "Entries",
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["entries", "count", "limit"],
                properties: {
                  entries: {
                    type: "array",
                    items: {
                      type: "object",
                      required: ["seq", "at", "sub", "role", "requestId", "action"],
                      properties: {
                        seq: { type: "integer" },
                        at: { type: "string", format: "date-time" },
                        sub: { type: "string" },
                        role: { type: "string" },
                        org: { type: "string" },
                        requestId: { type: "string" },
                        action: { type: "string" },
                        detail: {
                          type: "string",
                          description: "A publication's seal: the sha256 of the snapshot published",
                        },
                      },
                    },
                  },
                  count: { type: "integer" },
                  limit: { type: "integer" },
                },
              },
            },
          },
        },
        "400": {
          description: "400",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
        "401": {
          description: "401",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
        "403": {
          description: "403",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
      },
    },
  },
};

/** Adds {@link AUDIT_OPENAPI} to an OpenAPI document's paths. */
export function withAuditPaths(doc: Record<string, unknown>): Record<string, unknown> {
  const paths = (doc.paths ?? {}) as Record<string, unknown>;
  return { ...doc, paths: { ...paths, ...AUDIT_OPENAPI } };
}
