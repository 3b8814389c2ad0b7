/**
 * The JSON API routes (SPEC 4, issue 4). Thin: authenticate, validate with the zod schemas, call the
 * {@link RequestService}, shape the view. Errors are thrown and mapped in one place (`http.ts`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from "fastify";
import { InputError, MedpolicyError, NotFoundError } from "../model/index.js";
import { withAuditPaths } from "./audit.js";
import { DEMO_TOKEN_TTL_SECONDS, DEMO_USERS, demoRefusal, type Role } from "./auth.js";
import { withAuthoringPaths } from "./authoring.js";
import { PAS_KEY_PREFIX } from "./channel.js";
import { HttpError } from "./http.js";
import type { ServerContext } from "./index.js";
import {
  answersBodySchema,
  assignBodySchema,
  attachmentBodySchema,
  decisionBodySchema,
  idempotencyKeySchema,
  informationRequestBodySchema,
  inputErrorOf,
  noteBodySchema,
  openApiDocument,
  parseBody,
  recommendationBodySchema,
  submitEnvelopeSchema,
  tokenBodySchema,
  withdrawBodySchema,
} from "./schemas.js";
import { MAX_ATTACHMENT_BYTES, providerStatusOf, statusTextOf } from "./service.js";

const REVIEWERS: Role[] = ["reviewer", "medical-director", "admin"];
/** The content type Fastify gives JSON replies: pre-encoded replies say the same. */
const JSON_TYPE = "application/json; charset=utf-8";
const SIGNERS: Role[] = ["reviewer", "medical-director"];
/** `POST /api/evaluate`'s options, made once. */
const TRACE = { trace: true } as const;
const NO_TRACE = { trace: false } as const;

/**
 * A role check: as a route's `preHandler` (Fastify calls it with `done`) it runs synchronously —
 * an async hook costs a promise and a microtask turn per request (issue 13: evaluate within 10% of a
 * bare route); called with the request alone (FHIR's encoded-operation route, `GET /api/audit`) it
 * returns a promise, as before.
 */
export interface RoleCheck {
  (req: FastifyRequest): Promise<void>;
  (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void;
}

/**
 * Why `req` may not go on (401 without a principal, 403 without one of `roles`), or undefined (SPEC 4;
 * issue 16 item 7: under the FHIR scopes these errors become OperationOutcomes `login` / `forbidden`,
 * the 401 with `WWW-Authenticate: Bearer`). SMART scopes are checked before this, in the server's
 * request hook (src/server/scopes.ts).
 */
export function authRefusal(req: FastifyRequest, roles: readonly Role[]): Error | undefined {
  const p = req.principal;
  if (!p) {
    return new HttpError(401, "unauthorized", "authentication required: send Authorization: Bearer <token>", {
      "www-authenticate": 'Bearer realm="medpolicy"',
    });
  }
  if (roles.length > 0 && !roles.includes(p.role)) {
    return new MedpolicyError("forbidden", `role ${p.role} may not do this (needs ${roles.join(" or ")})`);
  }
  return undefined;
}

/**
 * A preHandler that requires an authenticated caller with one of `roles` (any role when empty): 401
 * without a principal, 403 with another role (SPEC 4). Exported for mounted plugins (FHIR, web) so
 * they apply the same rules.
 */
export function requireRole(...roles: Role[]): RoleCheck {
  function check(req: FastifyRequest): Promise<void>;
  function check(req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void;
  function check(
    req: FastifyRequest,
    _reply?: FastifyReply,
    done?: HookHandlerDoneFunction,
  ): Promise<void> | void {
    const err = authRefusal(req, roles);
    if (done === undefined) return err ? Promise.reject(err) : Promise.resolve();
    if (err) done(err);
    else done();
  }
  return check;
}

export async function registerRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { service } = ctx;
  const any = requireRole();
  const doc = withAuthoringPaths(withAuditPaths(openApiDocument(ctx.config.version)));
  const today = () => ctx.clock().toISOString().slice(0, 10);
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;

  app.get("/openapi.json", async () => doc);
  app.get("/api/health", async () => ({ ok: true, store: ctx.store.kind, demo: ctx.config.demo }));

  app.get("/api/demo-tokens", async (req) => {
    // Demo tokens include an admin's: only in demo mode (--demo), only to a caller on this machine that
    // is not a proxy (issue 13), and short-lived.
    if (demoRefusal(ctx.config.demo, req) !== undefined) throw new NotFoundError("not found");
    const tokens: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(DEMO_USERS)) {
      tokens[k] = { ...p, token: await ctx.auth.issue(p, DEMO_TOKEN_TTL_SECONDS) };
    }
    return { note: "demo mode: send Authorization: Bearer <token>", tokens };
  });

  app.post("/api/tokens", { preHandler: requireRole("admin") }, async (req) => {
    const b = parseBody(tokenBodySchema, req.body);
    const { ttlSeconds, ...p } = b;
    return { token: await ctx.auth.issue(p, ttlSeconds), principal: p };
  });

  // Synchronous (a throw still reaches the error handler): an async handler costs a promise and a
  // microtask turn per request (issue 13: evaluate within 10% of a bare route).
  app.post("/api/evaluate", { preHandler: any }, (req, reply) => {
    const trace = (req.query as { trace?: string }).trace !== "false";
    // Pre-encoded with the content type set, so Fastify sends the bytes as they are (issue 13).
    reply.type(JSON_TYPE).send(service.evaluateJson(req.body, trace ? TRACE : NO_TRACE));
  });

  app.post("/api/requests", { preHandler: requireRole("provider", "admin") }, async (req, reply) => {
    let input: unknown = req.body;
    let key: string | undefined;
    const header = req.headers["idempotency-key"];
    if (header !== undefined) {
      const r = idempotencyKeySchema.safeParse(Array.isArray(header) ? header[0] : header);
      if (!r.success) throw inputErrorOf(r.error, "Idempotency-Key");
      key = r.data;
    }
    if (input !== null && typeof input === "object" && !Array.isArray(input) && "case" in input) {
      const env = parseBody(submitEnvelopeSchema, input);
      input = env.case;
      key ??= env.idempotencyKey;
    }
    // `pas-` keys are the FHIR PAS API's (src/server/fhir/pas.ts), and mark a request as submitted
    // through it: a JSON API client may not claim one.
    if (key?.startsWith(PAS_KEY_PREFIX)) {
      throw new InputError(
        `Idempotency-Key: keys beginning with "${PAS_KEY_PREFIX}" are reserved for requests submitted through FHIR PAS (Claim/$submit)`,
        { field: "Idempotency-Key" },
      );
    }
    const { record, created } = await service.submit(
      input,
      req.principal!,
      key !== undefined ? { idempotencyKey: key } : {},
    );
    req.log.info(
      { requestId: record.id, engineOutcome: record.engineOutcome, status: record.status, created },
      "request submitted",
    );
    reply.code(created ? 201 : 200).header("location", `/api/requests/${record.id}`);
    return service.view(record, req.principal!);
  });

  app.get("/api/requests", { preHandler: any }, async (req) => {
    const status = (req.query as { status?: string }).status;
    const allowed = ["approved", "not-applicable", "awaiting-review", "decided", "withdrawn"] as const;
    const st = allowed.find((s) => s === status);
    if (status !== undefined && !st)
      throw new MedpolicyError("input", `status must be one of ${allowed.join(", ")}`);
    const rows = await service.list(req.principal!, st);
    if (req.principal!.role !== "provider") return rows;
    // Providers get their own list in provider terms (SPEC 2.4).
    return rows.map((r) => {
      const status = providerStatusOf({
        status: r.status,
        ...(r.decisionOutcome && { decision: { outcome: r.decisionOutcome } }),
      });
      // Issue 14: a request the plan asked more information about says so in the provider's list.
      const asked = r.status === "awaiting-review" && r.workflow.infoRequest !== undefined;
      return {
        id: r.id,
        status,
        statusText: asked ? "pended: more information requested" : statusTextOf(status),
        informationRequested: asked,
        receivedAt: r.receivedAt,
        dueAt: r.dueAt,
        expedited: r.expedited,
        // What an office finds its request by: the patient, the services and their date.
        ...(r.index?.memberName !== undefined && { memberName: r.index.memberName }),
        ...(r.index?.memberId !== undefined && { memberId: r.index.memberId }),
        codes: r.index?.codes ?? [],
        ...(r.index?.dateOfService !== undefined && { dateOfService: r.index.dateOfService }),
      };
    });
  });

  app.get("/api/requests/:id", { preHandler: any }, async (req) => {
    const rec = await service.get(idOf(req), req.principal!);
    ctx.audit.read(req.principal!, rec.id, "request.read"); // issue 13: PHI read on record
    return service.view(rec, req.principal!);
  });

  // Issue 14: a provider answers too, while the plan's information request is open (the service checks).
  app.post("/api/requests/:id/answers", { preHandler: requireRole(...SIGNERS, "provider") }, async (req) => {
    const b = parseBody(answersBodySchema, req.body);
    const rec = await service.answer(idOf(req), b, req.principal!);
    req.log.info({ requestId: rec.id, engineOutcome: rec.engineOutcome }, "answers recorded");
    return service.view(rec, req.principal!);
  });

  app.post("/api/requests/:id/decision", { preHandler: requireRole(...SIGNERS) }, async (req) => {
    const b = parseBody(decisionBodySchema, req.body);
    const rec = await service.sign(idOf(req), b, req.principal!);
    req.log.info({ requestId: rec.id, outcome: rec.decision?.outcome }, "decision signed");
    return service.view(rec, req.principal!);
  });

  // Issue 14: the letter a decision would have, before it is signed (same checks, nothing written).
  app.post(
    "/api/requests/:id/letter-preview",
    { preHandler: requireRole(...SIGNERS) },
    async (req, reply) => {
      const b = parseBody(decisionBodySchema, req.body);
      const { html, sha256 } = await service.preview(idOf(req), b, req.principal!);
      ctx.audit.read(req.principal!, idOf(req), "letter.preview");
      return reply.type("text/html; charset=utf-8").header("x-letter-sha256", sha256).send(html);
    },
  );

  app.post("/api/requests/:id/recommendation", { preHandler: requireRole(...SIGNERS) }, async (req) => {
    const b = parseBody(recommendationBodySchema, req.body);
    const rec = await service.recommend(idOf(req), b, req.principal!);
    req.log.info({ requestId: rec.id, outcome: b.outcome }, "recommendation recorded");
    return service.view(rec, req.principal!);
  });

  app.post("/api/requests/:id/information-request", { preHandler: requireRole(...SIGNERS) }, async (req) => {
    const b = parseBody(informationRequestBodySchema, req.body);
    const rec = await service.requestInformation(idOf(req), b, req.principal!);
    req.log.info({ requestId: rec.id }, "information requested");
    return service.view(rec, req.principal!);
  });

  app.post("/api/requests/:id/notes", { preHandler: requireRole(...SIGNERS) }, async (req) => {
    const b = parseBody(noteBodySchema, req.body);
    const rec = await service.addNote(idOf(req), b, req.principal!);
    return service.view(rec, req.principal!);
  });

  app.post("/api/requests/:id/assign", { preHandler: requireRole(...SIGNERS) }, async (req) => {
    const b = parseBody(assignBodySchema, req.body);
    const rec = await service.assign(idOf(req), b.assignee, req.principal!);
    return service.view(rec, req.principal!);
  });

  // The submitter withdraws a request no one has decided yet (PAS: a Claim update cancelling it).
  app.post("/api/requests/:id/withdraw", { preHandler: requireRole("provider", "admin") }, async (req) => {
    const b = parseBody(withdrawBodySchema, req.body);
    const rec = await service.withdraw(idOf(req), b.reason, req.principal!);
    return service.view(rec, req.principal!);
  });

  app.post(
    "/api/requests/:id/attachments",
    // A document of up to 5 MB, base64 (4/3) in JSON.
    {
      preHandler: requireRole(...SIGNERS, "provider"),
      bodyLimit: Math.ceil((MAX_ATTACHMENT_BYTES * 4) / 3) + 64 * 1024,
    },
    async (req, reply) => {
      const b = parseBody(attachmentBodySchema, req.body);
      const data = Buffer.from(b.data, "base64");
      const { attachment } = await service.addAttachment(
        idOf(req),
        { title: b.title, contentType: b.contentType, data, source: "upload" },
        req.principal!,
      );
      reply.code(201);
      return {
        id: attachment.id,
        title: attachment.title,
        contentType: attachment.contentType,
        size: attachment.size,
        addedAt: attachment.addedAt,
        source: attachment.source,
        url: `/api/requests/${idOf(req)}/attachments/${attachment.id}`,
      };
    },
  );

  app.get("/api/requests/:id/attachments/:aid", { preHandler: any }, async (req, reply) => {
    const { aid } = req.params as { aid: string };
    const { meta, data } = await service.attachment(idOf(req), aid, req.principal!);
    ctx.audit.read(req.principal!, idOf(req), "attachment.read");
    // Always a download, never rendered in the app's origin (an HTML or SVG document could script it).
    return reply
      .type(meta.contentType)
      .header("content-disposition", `attachment; filename="attachment-${meta.id}"`)
      .header("x-content-type-options", "nosniff")
      .header("content-security-policy", "sandbox; default-src 'none'")
      .send(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });

  // Issue 15: the facts each policy version declares (SPEC 2.3), for typed inputs: `?policy=ID[@VERSION]`
  // for one version (the one in force when no version is named), else every policy in force.
  app.get("/api/facts", { preHandler: any }, async (req) => {
    const { policy } = req.query as { policy?: string };
    const refs =
      typeof policy === "string" && policy !== ""
        ? [policy]
        : [
            ...new Set(
              ctx.engine
                .policies(today())
                .filter((s) => s.status === "effective")
                .map((s) => s.id),
            ),
          ];
    return refs.map((ref) => {
      const v = ctx.engine.version(ref, today());
      return { policy: v.policy.identity.id, version: v.policy.identity.version, facts: v.facts ?? [] };
    });
  });

  app.get("/api/requests/:id/letter", { preHandler: any }, async (req, reply: FastifyReply) => {
    const html = await service.letter(idOf(req), req.principal!);
    ctx.audit.read(req.principal!, idOf(req), "letter.read"); // issue 13: PHI read on record
    return reply.type("text/html; charset=utf-8").send(html);
  });

  app.post("/api/requests/:id/reproduce", { preHandler: requireRole(...REVIEWERS) }, async (req) => {
    const result = await service.reproduce(idOf(req), req.principal!);
    ctx.audit.read(req.principal!, idOf(req), "request.reproduce"); // issue 13: the case was read
    return result;
  });

  app.get("/api/queue", { preHandler: requireRole(...REVIEWERS) }, async (req) => {
    const query = req.query as { q?: unknown; assignee?: unknown };
    const q = typeof query.q === "string" ? query.q : undefined;
    if (q !== undefined && q.length > 200) throw new InputError("q: at most 200 characters", { field: "q" });
    const a = typeof query.assignee === "string" ? query.assignee : undefined;
    const assignee =
      a === undefined || a === "" || a === "all"
        ? undefined
        : a === "unassigned"
          ? null
          : a === "me"
            ? req.principal!.sub
            : a;
    const rows = await service.queue({
      ...(q !== undefined && { q }),
      ...(assignee !== undefined && { assignee }),
    });
    // Issue 14: queue rows name the member (and provider) where the case does: a PHI read of each such
    // request, in the audit trail (issue 13).
    const named = rows.filter((r) => r.index?.memberName !== undefined || r.index?.memberId !== undefined);
    if (named.length > 0)
      ctx.audit.readMany(
        req.principal!,
        named.map((r) => r.id),
        "queue.list",
      );
    return rows.map((r) => ({
      id: r.id,
      org: r.org,
      receivedAt: r.receivedAt,
      dueAt: r.dueAt,
      expedited: r.expedited,
      overdue: r.overdue,
      hoursLeft: r.hoursLeft,
      engineOutcome: r.engineOutcome,
      medicalDirectorOnly: r.medicalDirectorOnly,
      version: r.version,
      minutesLeft: r.minutesLeft,
      ...(r.index?.memberName !== undefined && { memberName: r.index.memberName }),
      ...(r.index?.memberId !== undefined && { memberId: r.index.memberId }),
      ...(r.index?.providerName !== undefined && { providerName: r.index.providerName }),
      ...(r.index?.providerNpi !== undefined && { providerNpi: r.index.providerNpi }),
      codes: r.index?.codes ?? [],
      ...(r.workflow.assignee && { assignee: r.workflow.assignee }),
      infoRequested: r.workflow.infoRequest !== undefined,
      ...(r.workflow.recommendation && { recommendation: r.workflow.recommendation.outcome }),
    }));
  });

  app.get("/api/metrics", { preHandler: requireRole(...REVIEWERS) }, async () => service.metrics());

  app.get("/api/policies", { preHandler: any }, async () => ctx.engine.policies(today()));

  app.get("/api/policies/:id", { preHandler: any }, async (req) => {
    const raw = idOf(req);
    const [id, atVersion] = raw.split("@", 2) as [string, string | undefined];
    const version = (req.query as { version?: string }).version ?? atVersion;
    const versions = ctx.engine.policies(today()).filter((s) => s.id === id);
    if (versions.length === 0) throw new NotFoundError(`policy ${id} not found`, { policy: id });
    const loaded = ctx.engine.version(version ? `${id}@${version}` : id, today());
    return {
      id,
      versions,
      status: loaded.status,
      policy: loaded.policy,
      bindings: loaded.bindings,
      facts: loaded.facts ?? [],
    };
  });

  // Issue 15 item 2: the JSON Schema of a case for one version (`ID@VERSION` or `?version=`; else in force).
  app.get("/api/policies/:id/schema", { preHandler: any }, async (req) => {
    if (!ctx.engine.caseSchema)
      throw new HttpError(501, "not-implemented", "case schemas are not available in this build");
    const [id, atVersion] = idOf(req).split("@", 2) as [string, string | undefined];
    const version = (req.query as { version?: string }).version || atVersion;
    if (version?.includes("@")) throw new NotFoundError(`no version ${version} of ${id}`, { policy: id });
    return ctx.engine.caseSchema(version ? `${id}@${version}` : id, today());
  });

  app.get("/api/diff", { preHandler: any }, async (req) => {
    const { a, b } = req.query as { a?: string; b?: string };
    if (!a || !b)
      throw new MedpolicyError("input", "give both versions to compare: /api/diff?a=ID@VERSION&b=ID@VERSION");
    if (!ctx.engine.diff)
      throw new HttpError(501, "not-implemented", "semantic diff is not available in this build");
    return ctx.engine.diff(a, b, today());
  });
}
