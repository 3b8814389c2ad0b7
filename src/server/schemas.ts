/**
 * The JSON API's request and response schemas (zod), the one place they are written: request bodies
 * are validated with them, and `/openapi.json` is generated from them with `z.toJSONSchema` (SPEC 4
 * "JSON HTTP API with an OpenAPI document").
 */
import { z } from "zod";
import { caseSchema, factsSchema, freeTextProblem, InputError, OUTCOME_SEVERITY } from "../model/index.js";
import { MAX_TOKEN_TTL_SECONDS, ROLES } from "./auth.js";

/** Turns a zod error into an InputError whose message names the field (SPEC 2.1). */
export function inputErrorOf(err: z.ZodError, prefix = ""): InputError {
  const issues = err.issues.map((i) => {
    const field = [prefix, ...i.path.map(String)].filter((s) => s !== "").join(".");
    return { message: field ? `${field}: ${i.message}` : i.message, where: field ? { field } : {} };
  });
  const first = issues[0] ?? { message: "invalid request body", where: {} };
  return new InputError(first.message, first.where, issues);
}

/** Parses `value` with `schema`, throwing an InputError that names the field. */
export function parseBody<T extends z.ZodType>(schema: T, value: unknown, prefix = ""): z.output<T> {
  if (value === undefined || value === null) {
    throw new InputError("request body is required: send a JSON object with Content-Type: application/json");
  }
  const r = schema.safeParse(value);
  if (!r.success) throw inputErrorOf(r.error, prefix);
  return r.data;
}

const criterionId = z.string().min(1).max(100);

/**
 * Free text a person signs or reads (issue 13): `minVisible` characters that show, no control
 * characters, no lone surrogates; leading and trailing white space trimmed.
 */
function freeText(minVisible: number, max: number) {
  return z
    .string()
    .trim()
    .max(max)
    .superRefine((s, ctx) => {
      const problem = freeTextProblem(s, minVisible);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });
}

/** `POST /api/requests/:id/answers`: answers to open criteria and/or facts, merged into the case. */
export const answersBodySchema = z
  .strictObject({
    answers: z.record(criterionId, z.boolean({ error: "must be true or false" })).optional(),
    facts: factsSchema.optional(),
  })
  .refine((b) => Object.keys(b.answers ?? {}).length + Object.keys(b.facts ?? {}).length > 0, {
    error: "give at least one answer or fact",
  });

/** The most severe of signed `outcomes` (SPEC 2.2 precedence, `OUTCOME_SEVERITY`): a request's is its worst line's. */
export function mostSevere<O extends "approved" | "denied" | "not-covered">(
  outcomes: readonly O[],
): O | "approved" {
  let worst: O | "approved" = "approved";
  for (const o of outcomes) if (OUTCOME_SEVERITY[o] > OUTCOME_SEVERITY[worst]) worst = o;
  return worst;
}

/** `POST /api/requests/:id/decision`: what the reviewer signs (SPEC 2.4: who, what, when, why). */
export const decisionBodySchema = z
  .strictObject({
    outcome: z.enum(["approved", "denied", "not-covered"]),
    reason: freeText(3, 4000),
    criteria: z.array(criterionId).max(50).default([]),
    /**
     * A decision per service (code), where they differ: every reviewed code once, and `outcome` the
     * most severe of them (SPEC 2.2 precedence). Without it the outcome is every reviewed code's.
     */
    lines: z
      .array(
        z.strictObject({
          code: z.string().min(1).max(20),
          outcome: z.enum(["approved", "denied", "not-covered"]),
        }),
      )
      .min(1)
      .max(100)
      .optional(),
    /** The request version the reviewer saw (optimistic check): a stale one gets 409. */
    version: z.number().int().min(1).optional(),
    /** Issue 14: why the signed outcome differs from the engine's recommendation (required then). */
    overrideReason: freeText(10, 4000).optional(),
    /** Issue 14: sha256 (hex) of the previewed letter: a signature whose letter would differ gets 409. */
    letterSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, { error: "must be the x-letter-sha256 of a preview (64 hex digits)" })
      .optional(),
  })
  .superRefine((b, ctx) => {
    // Issue 13: an adverse decision names what it rests on, and each citation once.
    if (b.outcome !== "approved" && b.criteria.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["criteria"],
        message: `a ${b.outcome} decision must cite at least one criterion or the policy section it rests on (SPEC 2.4)`,
      });
    }
    const seen = new Set<string>();
    b.criteria.forEach((c, i) => {
      if (seen.has(c)) {
        ctx.addIssue({ code: "custom", path: ["criteria", i], message: `${c} is cited twice` });
      }
      seen.add(c);
    });
    if (b.lines) {
      const codes = new Set<string>();
      b.lines.forEach((l, i) => {
        if (codes.has(l.code)) {
          ctx.addIssue({ code: "custom", path: ["lines", i, "code"], message: `${l.code} is decided twice` });
        }
        codes.add(l.code);
      });
      const worst = mostSevere(b.lines.map((l) => l.outcome));
      if (worst !== b.outcome) {
        ctx.addIssue({
          code: "custom",
          path: ["outcome"],
          message: `must be the most severe of the lines' outcomes (${worst}), not ${b.outcome}`,
        });
      }
    }
  });
export type DecisionBody = z.infer<typeof decisionBodySchema>;

/** Issue 14, `POST /api/requests/:id/recommendation`: a nurse reviewer's recommendation. */
export const recommendationBodySchema = z.strictObject({
  outcome: z.enum(["approved", "denied", "not-covered"]),
  reason: freeText(3, 4000),
  criteria: z.array(criterionId).max(50).default([]),
  version: z.number().int().min(1).optional(),
});
export type RecommendationBody = z.infer<typeof recommendationBodySchema>;

/** Issue 14, `POST /api/requests/:id/information-request`: pend to the provider with questions. */
export const informationRequestBodySchema = z.strictObject({
  message: freeText(3, 4000),
  /** The open criteria to ask; default every criterion the determination still needs. */
  criteria: z.array(criterionId).min(1).max(100).optional(),
  version: z.number().int().min(1).optional(),
});
export type InformationRequestBody = z.infer<typeof informationRequestBodySchema>;

/** Issue 14, `POST /api/requests/:id/notes`: an evidence note on a criterion, or an internal note. */
export const noteBodySchema = z
  .strictObject({
    kind: z.enum(["evidence", "internal"]),
    criterion: criterionId.optional(),
    text: freeText(1, 4000),
  })
  .refine((b) => b.kind !== "evidence" || b.criterion !== undefined, {
    path: ["criterion"],
    error: "an evidence note names the criterion it supports",
  });
export type NoteBody = z.infer<typeof noteBodySchema>;

/** Issue 14, `POST /api/requests/:id/assign`. */
export const assignBodySchema = z.strictObject({
  assignee: z.strictObject({ sub: freeText(1, 200), name: freeText(1, 200) }).nullable(),
});

/** `POST /api/requests/:id/withdraw`: why the submitter withdraws its request (kept in its history). */
export const withdrawBodySchema = z.strictObject({ reason: freeText(1, 500) });

/** Issue 14: the content types a document may have (stored, and served as a download only). */
export const ATTACHMENT_TYPES = [
  "application/pdf",
  "image/png",
  "image/jpeg",
  "image/tiff",
  "image/gif",
  "text/plain",
  "text/html",
  "application/xml",
  "text/xml",
  "application/json",
  "application/dicom",
] as const;

/** Issue 14, `POST /api/requests/:id/attachments`: a document, base64 in JSON. */
export const attachmentBodySchema = z.strictObject({
  title: freeText(1, 200),
  contentType: z.enum(ATTACHMENT_TYPES, {
    error: `must be one of ${ATTACHMENT_TYPES.join(", ")}`,
  }),
  // 5 MB decoded is at most 6,990,508 base64 characters; the regex is a single class (linear).
  data: z
    .string()
    .max(6_990_508, { error: "a document is at most 5 MB" })
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, { error: "must be base64" }),
});
export type AttachmentBody = Omit<z.infer<typeof attachmentBodySchema>, "data">;

/** `POST /api/requests` accepts a bare case, or a case wrapped with a client idempotency key. */
export const submitEnvelopeSchema = z.strictObject({
  case: z.unknown(),
  idempotencyKey: z.string().min(1).max(200).optional(),
});

export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, { error: "must be printable ASCII without spaces" });

/** `POST /api/tokens` (admin): issue a token for a user. */
export const tokenBodySchema = z
  .strictObject({
    sub: freeText(1, 200),
    name: freeText(1, 200),
    role: z.enum(ROLES),
    org: freeText(1, 200).optional(),
    ttlSeconds: z
      .number()
      .int()
      .min(60)
      // Issue 13: tokens live at most 24 h (auth.ts refuses longer ones at verification too).
      .max(MAX_TOKEN_TTL_SECONDS)
      .optional(),
  })
  // A provider acts for an organisation (its requests are its org's): none is bad input, not a 500.
  .refine((b) => b.role !== "provider" || b.org !== undefined, {
    error: "a provider token needs the provider's organisation (org)",
    path: ["org"],
  });

// ---- Response schemas: documentation of what the routes return (kept in step with the TS types). ----

const outcome = z.enum(["not-applicable", "not-covered", "denied", "review", "pended", "approved"]);
const policyRef = z.object({
  id: z.string(),
  version: z.string(),
  hash: z.string(),
  title: z.string(),
  section: z.string().optional(),
});
const reason = z.object({ criterion: z.string(), text: z.string(), status: z.enum(["not-met", "present"]) });
const needed = z.object({ criterion: z.string(), text: z.string() });
const traceNode: z.ZodType = z.lazy(() =>
  z.object({
    id: z.string(),
    kind: z.enum(["all", "any", "none", "atLeast", "leaf", "ref", "condition", "note"]),
    text: z.string(),
    status: z.enum(["met", "not-met", "unknown"]),
    source: z.object({ kind: z.enum(["answer", "fact", "computed", "none"]) }).passthrough(),
    question: z.string().optional(),
    children: z.array(traceNode).optional(),
  }),
);
const referral = z.object({ target: z.string(), title: z.string(), text: z.string() });
const line = z.object({
  code: z.string(),
  outcome,
  policy: policyRef.optional(),
  basis: z.string(),
  reasons: z.array(reason),
  needed: z.array(needed),
  trace: traceNode.optional(),
  referral: referral.optional(),
});
export const determinationSchema = z.object({
  id: z.string().optional(),
  outcome,
  policy: policyRef.optional(),
  reasons: z.array(reason),
  needed: z.array(needed),
  trace: traceNode.optional(),
  lines: z.array(line),
  referral: referral.optional(),
  engine: z.string(),
});

const actor = z.object({ sub: z.string(), name: z.string(), role: z.string(), org: z.string().optional() });
const decision = z.object({
  outcome: z.enum(["approved", "denied", "not-covered"]),
  reason: z.string(),
  criteria: z.array(z.object({ criterion: z.string(), text: z.string(), status: z.string().optional() })),
  signedBy: actor,
  signedAt: z.string(),
  automatic: z.boolean(),
  determinationSeq: z.number(),
  override: z.object({ from: z.string(), reason: z.string() }).optional(),
  letterSha256: z.string().optional(),
});
const providerStatus = z.enum(["approved", "pended", "denied", "not-covered", "not-applicable", "withdrawn"]);

export const requestViewSchema = z.object({
  id: z.string(),
  status: providerStatus.describe(
    "What the provider sees (SPEC 2.4): adverse outcomes stay pended until signed",
  ),
  statusText: z.string(),
  receivedAt: z.string(),
  dueAt: z.string(),
  expedited: z.boolean(),
  policy: policyRef.optional(),
  needed: z.array(needed).optional().describe("Documentation still needed (engine outcome pended)"),
  decision: decision.optional(),
  letter: z.string().optional().describe("URL of the determination letter, once there is a decision"),
  informationRequest: z
    .object({
      at: z.string(),
      message: z.string(),
      questions: z.array(z.object({ criterion: z.string(), text: z.string() })),
    })
    .optional()
    .describe("Issue 14: the plan's open request for more information"),
  attachments: z.array(z.unknown()).optional(),
  review: z
    .object({
      workflowStatus: z.enum(["approved", "not-applicable", "awaiting-review", "decided", "withdrawn"]),
      engineOutcome: outcome,
      medicalDirectorOnly: z.boolean(),
      overdue: z.boolean(),
      org: z.string(),
      version: z.number(),
      case: z.unknown(),
      determinations: z.array(
        z.object({
          seq: z.number(),
          createdAt: z.string(),
          trigger: z.enum(["submit", "answers"]),
          actor,
          today: z.string(),
          engine: z.string(),
          outcome,
          determination: determinationSchema,
        }),
      ),
      events: z.array(
        z.object({ seq: z.number(), at: z.string(), action: z.string(), actor, detail: z.unknown() }),
      ),
      workflow: z
        .object({
          assignee: z.unknown().optional(),
          infoRequest: z.unknown().optional(),
          recommendation: z.unknown().optional(),
        })
        .describe("Issue 14: assignment, open information request, nurse recommendation"),
      notes: z.array(z.unknown()).describe("Issue 14: evidence and internal notes"),
      attachments: z.array(z.unknown()),
      authority: z
        .object({
          approve: z.boolean(),
          deny: z.boolean(),
          notCover: z.boolean(),
          recommend: z.boolean(),
          note: z.string().optional(),
        })
        .optional()
        .describe("Issue 14: what this caller may sign now"),
      citable: z
        .record(z.string(), z.array(z.unknown()))
        .optional()
        .describe("Issue 14: what each outcome may cite"),
    })
    .optional()
    .describe("Reviewer-only: the determination history and audit log"),
});

export const queueItemSchema = z.object({
  id: z.string(),
  org: z.string(),
  receivedAt: z.string(),
  dueAt: z.string(),
  expedited: z.boolean(),
  overdue: z.boolean(),
  hoursLeft: z.number(),
  engineOutcome: outcome,
  medicalDirectorOnly: z.boolean(),
  version: z.number(),
  minutesLeft: z.number(),
  memberName: z.string().optional(),
  memberId: z.string().optional(),
  providerName: z.string().optional(),
  providerNpi: z.string().optional(),
  codes: z.array(z.string()),
  assignee: z.object({ sub: z.string(), name: z.string() }).optional(),
  infoRequested: z.boolean(),
  recommendation: z.enum(["approved", "denied", "not-covered"]).optional(),
});

const rate = z.object({ count: z.number(), percent: z.number() });
const metricsGroup = z.object({
  total: z.number(),
  approved: rate,
  denied: rate,
  pended: rate,
  notApplicable: z.number(),
  withdrawn: z.number(),
  timeToDecisionHours: z.object({
    decided: z.number(),
    average: z.number().nullable(),
    median: z.number().nullable(),
  }),
});
export const metricsSchema = z.object({
  generatedAt: z.string(),
  standard: metricsGroup,
  expedited: metricsGroup,
});

export const errorSchema = z.object({
  error: z.object({
    status: z.number(),
    code: z.string(),
    message: z.string(),
    where: z.record(z.string(), z.unknown()).optional(),
    issues: z.array(z.object({ message: z.string(), where: z.unknown() })).optional(),
  }),
});

const reproduceSchema = z.object({
  identical: z.boolean(),
  determinations: z.array(
    z.object({
      seq: z.number(),
      identical: z.boolean(),
      policyHash: z.string().optional(),
      engine: z.string(),
      error: z.string().optional(),
    }),
  ),
});

function jsonSchema(s: z.ZodType, io: "input" | "output" = "output"): Record<string, unknown> {
  const out = z.toJSONSchema(s, { io, unrepresentable: "any" }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ content: { "application/json": { schema: ref(name) } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: String(c), ...json("Error") }]));
const idParam = [{ name: "id", in: "path", required: true, schema: { type: "string" } }];

/** The OpenAPI 3.1 document served at `/openapi.json`, generated from the schemas above. */
export function openApiDocument(version: string): Record<string, unknown> {
  const secured = { security: [{ bearer: [] }] };
  /** A reviewer's or submitter's action on a request: a JSON body in, the request as it now is out. */
  const action = (summary: string, body: string, codes = [400, 403, 404, 409]) => ({
    post: {
      summary,
      ...secured,
      parameters: idParam,
      requestBody: { required: true, ...json(body) },
      responses: { "200": { description: "The request", ...json("RequestView") }, ...errors(...codes) },
    },
  });
  return {
    openapi: "3.1.0",
    info: {
      title: "medpolicy",
      version,
      description:
        "Computable clinical policies: evaluate prior-authorization requests, store them, review and sign decisions (SPEC 4). " +
        "Adverse outcomes are recommendations until a reviewer signs (SPEC 2.4).",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: {
        Case: jsonSchema(caseSchema, "input"),
        Determination: jsonSchema(determinationSchema),
        RequestView: jsonSchema(requestViewSchema),
        QueueItem: jsonSchema(queueItemSchema),
        Answers: jsonSchema(answersBodySchema, "input"),
        Decision: jsonSchema(decisionBodySchema, "input"),
        Metrics: jsonSchema(metricsSchema),
        Reproduce: jsonSchema(reproduceSchema),
        Token: jsonSchema(tokenBodySchema, "input"),
        Recommendation: jsonSchema(recommendationBodySchema, "input"),
        InformationRequest: jsonSchema(informationRequestBodySchema, "input"),
        Note: jsonSchema(noteBodySchema, "input"),
        Assign: jsonSchema(assignBodySchema, "input"),
        Withdraw: jsonSchema(withdrawBodySchema, "input"),
        Attachment: jsonSchema(attachmentBodySchema, "input"),
        Error: jsonSchema(errorSchema),
      },
    },
    paths: {
      "/api/evaluate": {
        post: {
          summary: "Decide a case without storing it",
          ...secured,
          requestBody: { required: true, ...json("Case") },
          responses: {
            "200": { description: "The determination", ...json("Determination") },
            ...errors(400, 401, 413, 422, 429),
          },
        },
      },
      "/api/requests": {
        post: {
          summary: "Submit a prior-authorization request (stored; idempotent on Idempotency-Key)",
          ...secured,
          parameters: [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              description:
                "Printable ASCII, 1–200 characters, scoped to the caller's organization; keys beginning with `pas-` are reserved for FHIR PAS submissions.",
              schema: { type: "string", minLength: 1, maxLength: 200 },
            },
          ],
          requestBody: { required: true, ...json("Case") },
          responses: {
            "201": { description: "Created", ...json("RequestView") },
            "200": {
              description: "Replay of an earlier submission with the same key",
              ...json("RequestView"),
            },
            ...errors(400, 401, 403, 409, 413, 422, 429),
          },
        },
        get: {
          summary: "List requests (a provider sees its own organization's)",
          ...secured,
          responses: { "200": { description: "Requests" }, ...errors(401) },
        },
      },
      "/api/requests/{id}": {
        get: {
          summary: "A request, its provider-facing status and (reviewers) its determination history",
          ...secured,
          parameters: idParam,
          responses: { "200": { description: "The request", ...json("RequestView") }, ...errors(401, 404) },
        },
      },
      "/api/requests/{id}/answers": action(
        "Answer open criteria: the case is re-evaluated and a determination appended",
        "Answers",
      ),
      "/api/requests/{id}/decision": action(
        "Sign a decision (medical-director-only items need role medical-director)",
        "Decision",
      ),
      "/api/requests/{id}/letter": {
        get: {
          summary: "The determination letter (HTML)",
          ...secured,
          parameters: idParam,
          responses: { "200": { description: "HTML", content: { "text/html": {} } }, ...errors(404, 409) },
        },
      },
      "/api/requests/{id}/letter-preview": {
        post: {
          summary:
            "The letter a decision would have if signed now (same checks as signing, nothing written); header x-letter-sha256",
          ...secured,
          parameters: idParam,
          requestBody: { required: true, ...json("Decision") },
          responses: {
            "200": { description: "HTML", content: { "text/html": {} } },
            ...errors(400, 403, 404, 409),
          },
        },
      },
      "/api/requests/{id}/recommendation": action(
        "A nurse reviewer's recommendation of an outcome they may not sign; routes the request to a medical director",
        "Recommendation",
      ),
      "/api/requests/{id}/information-request": action(
        "Ask the provider for more information (pends to them with the questions; PAS answers accordingly)",
        "InformationRequest",
      ),
      "/api/requests/{id}/notes": action(
        "An evidence note on a criterion, or an internal note (never shown to the provider)",
        "Note",
        [400, 403, 404],
      ),
      "/api/requests/{id}/assign": action(
        "Assign the request to a reviewer, or unassign it (null)",
        "Assign",
      ),
      "/api/requests/{id}/withdraw": action(
        "The submitter withdraws a request no one has decided yet (final: status withdrawn)",
        "Withdraw",
      ),
      "/api/requests/{id}/attachments": {
        post: {
          summary: "Attach a document (base64, at most 5 MB; at most 20 per request)",
          ...secured,
          parameters: idParam,
          requestBody: { required: true, ...json("Attachment") },
          responses: { "201": { description: "The attachment" }, ...errors(400, 403, 404, 413) },
        },
      },
      "/api/requests/{id}/attachments/{aid}": {
        get: {
          summary: "An attachment's bytes (always a download)",
          ...secured,
          parameters: [...idParam, { name: "aid", in: "path", required: true, schema: { type: "string" } }],
          responses: { "200": { description: "The document" }, ...errors(404) },
        },
      },
      "/api/facts": {
        get: {
          summary: "The fact vocabulary (SPEC 2.3) with each fact's type and bounds, for typed inputs",
          ...secured,
          responses: { "200": { description: "Facts" } },
        },
      },
      "/api/requests/{id}/reproduce": {
        post: {
          summary: "Re-run every stored determination and compare byte for byte",
          ...secured,
          parameters: idParam,
          responses: { "200": { description: "Comparison", ...json("Reproduce") }, ...errors(403, 404) },
        },
      },
      "/api/queue": {
        get: {
          summary: "Reviewers' queue, soonest due first (72 h expedited, 7 days standard)",
          ...secured,
          parameters: [
            {
              name: "q",
              in: "query",
              required: false,
              description: "Request id, member name or id, provider name or NPI (case-insensitive substring)",
              schema: { type: "string", maxLength: 200 },
            },
            {
              name: "assignee",
              in: "query",
              required: false,
              description: "`me`, `unassigned`, or a reviewer's sub",
              schema: { type: "string" },
            },
          ],
          responses: {
            "200": {
              description: "Queue",
              content: { "application/json": { schema: { type: "array", items: ref("QueueItem") } } },
            },
            ...errors(401, 403),
          },
        },
      },
      "/api/policies": {
        get: {
          summary: "Every policy, variant and version",
          ...secured,
          responses: { "200": { description: "Versions" } },
        },
      },
      "/api/policies/{id}": {
        get: {
          summary: "A policy's versions and the model of one (`?version=YYYY-MM`, default in force)",
          ...secured,
          parameters: idParam,
          responses: { "200": { description: "Policy" }, ...errors(404) },
        },
      },
      "/api/policies/{id}/schema": {
        get: {
          summary:
            "The JSON Schema of a case for one version (`ID@VERSION` or `?version=YYYY-MM`, default in force): its criterion ids as boolean answers, its declared facts",
          ...secured,
          parameters: [
            ...idParam,
            { name: "version", in: "query", required: false, schema: { type: "string" } },
          ],
          responses: { "200": { description: "JSON Schema (draft 2020-12)" }, ...errors(401, 404) },
        },
      },
      "/api/diff": {
        get: {
          summary: "Semantic diff of two versions or variants (`a`, `b` as ID@VERSION)",
          ...secured,
          parameters: [
            { name: "a", in: "query", required: true, schema: { type: "string" } },
            { name: "b", in: "query", required: true, schema: { type: "string" } },
          ],
          responses: { "200": { description: "Diff" }, ...errors(400, 404, 501) },
        },
      },
      "/api/metrics": {
        get: {
          summary: "CMS-0057-F metrics: approved/denied/pended, time to decision (standard and expedited)",
          ...secured,
          responses: { "200": { description: "Metrics", ...json("Metrics") }, ...errors(401, 403) },
        },
      },
      "/api/tokens": {
        post: {
          summary: "Issue a token (admin)",
          ...secured,
          requestBody: { required: true, ...json("Token") },
          responses: { "200": { description: "Token" }, ...errors(400, 403) },
        },
      },
      "/api/demo-tokens": {
        get: {
          summary: "Demo tokens for every role (demo mode, loopback only)",
          responses: { "200": { description: "Tokens" } },
        },
      },
    },
  };
}
