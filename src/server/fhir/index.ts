/**
 * The HL7 FHIR R4 Da Vinci interfaces (SPEC 4) as a server plugin: CRD (CDS Hooks, `/cds-services`),
 * DTR (`/fhir/Questionnaire…`), PAS (`/fhir/Claim/$submit`, `/fhir/Claim/$inquire`,
 * `/fhir/ClaimResponse/:id`) and PAS notifications (`/fhir/Subscription`). All decide with the same
 * library and engine as the JSON API, and PAS requests are stored through the service, so reviewers
 * see them in their queue and a signed decision notifies the submitter's subscriptions.
 *
 * Mount with `startServer({ …, plugins: [fhirPlugin()] })`. Every route but discovery, the
 * CapabilityStatement and Questionnaire reads needs a medpolicy bearer token; errors are
 * OperationOutcomes.
 */
import { randomUUID } from "node:crypto";
import type { CapabilityStatement, Subscription } from "@medplum/fhirtypes";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { DeterminationError, NotFoundError } from "../../model/index.js";
import type { RequestRecord } from "../../store/index.js";
import type { Principal } from "../auth.js";
import type { MedpolicyPlugin, ServerContext } from "../index.js";
import { requireRole } from "../routes.js";
import {
  FhirError,
  fhirErrorHandler,
  isResource,
  Operations,
  operationOutcome,
  publicBaseUrl,
  sendFhir,
} from "./common.js";
import { registerCrd } from "./crd.js";
import { registerDtr } from "./dtr.js";
import { EndpointPolicy } from "./endpoint.js";
import {
  type ClaimContext,
  claimBundleOf,
  claimResponseBundle,
  inquiryIdentifiers,
  parsePasRequest,
  type ResponseState,
  stateOf,
  storePasAttachments,
} from "./pas.js";
import { type FhirState, openFhirState } from "./state.js";
import {
  type DeliveryOptions,
  Notifier,
  notificationBundle,
  type StoredSubscription,
  subscriptionView,
  vetSubscription,
} from "./subscriptions.js";
import { validateResource } from "./validate.js";

export {
  answerHook,
  assessCodes,
  COVERAGE_INFORMATION,
  coverageInformation,
  discovery,
  parseHookRequest,
} from "./crd.js";
export { nextQuestion, questionnairePackage } from "./dtr.js";
export { addressClass, EndpointPolicy } from "./endpoint.js";
export { claimResponseBundle, parsePasRequest, stateOf } from "./pas.js";
export { prepopulate } from "./prepopulate.js";
export { notificationBundle, PAS_TOPIC, parseSubscription, vetSubscription } from "./subscriptions.js";

export interface FhirPluginOptions {
  /** Notification delivery (tests inject a fake DNS and short retry delays). */
  delivery?: DeliveryOptions;
  /** Subscription endpoints https only; default `NODE_ENV === "production"` (issue 13). */
  httpsOnly?: boolean;
  /** Wraps the opened FHIR state (tests simulate a failing write). */
  wrapState?: (
    state: FhirState<ClaimContext, StoredSubscription>,
  ) => FhirState<ClaimContext, StoredSubscription>;
}

const orgOf = (p: Principal) => p.org ?? `internal:${p.sub}`;

/** The FHIR plugin: CRD, DTR, PAS and PAS subscriptions over the server's library, engine and store. */
export function fhirPlugin(options: FhirPluginOptions = {}): MedpolicyPlugin {
  return {
    name: "fhir",
    async register(app: FastifyInstance, ctx: ServerContext) {
      const opened = await openFhirState<ClaimContext, StoredSubscription>(ctx.config);
      const state = options.wrapState ? options.wrapState(opened) : opened;
      // Issue 13: where notifications may go (allow-list from StartOptions / MEDPOLICY_SUBSCRIPTION_ALLOW).
      const policy = new EndpointPolicy({
        allow: ctx.config.subscriptionAllow ?? [],
        production: options.httpsOnly ?? process.env.NODE_ENV === "production",
        ...(options.delivery?.resolve && { resolve: options.delivery.resolve }),
      });
      const notifier = new Notifier(state, policy, {
        ...options.delivery,
        log: options.delivery?.log ?? ((msg, data) => app.log.info(data, msg)),
        debug: options.delivery?.debug ?? ((msg, data) => app.log.debug(data, msg)),
      });

      // A signed decision on a PAS request notifies the submitting organization's subscriptions.
      const notify = async (requestId: string, record: RequestRecord) => {
        // A signed decision, or (issue 14) a reviewer's request for more information just opened.
        const signed =
          record.status === "decided" && record.decision !== undefined && !record.decision.automatic;
        const asked =
          record.status === "awaiting-review" &&
          record.workflow?.infoRequest !== undefined &&
          record.events.at(-1)?.action === "information-requested";
        if (!signed && !asked) return;
        const claim = await state.claimByRequest(requestId);
        if (!claim) return;
        const subs = (await state.subscriptionsOf(record.org)).filter(
          (s) =>
            s.resource.hook.orgIdentifiers.length === 0 ||
            s.resource.hook.orgIdentifiers.some((id) => claim.context.providerIdentifiers.includes(id)),
        );
        if (subs.length === 0) return;
        const now = ctx.clock().toISOString();
        // Issue 13: id-only — the ClaimResponse's URL, which the subscriber reads with its own token.
        const focus = `${claim.context.baseUrl}/fhir/ClaimResponse/${requestId}`;
        for (const s of subs) {
          const event = await state.nextEvent(s.id);
          notifier.send(
            s,
            notificationBundle({ id: s.id, content: s.resource.hook.content }, event, focus, {
              baseUrl: claim.context.baseUrl,
              now,
            }),
          );
        }
      };
      // Tracked so that closing waits for them before the state goes away.
      const pending = new Set<Promise<void>>();
      const unsubscribe = ctx.onDecision((requestId, _determination, record) => {
        const p = notify(requestId, record)
          .catch((err: unknown) =>
            // No PHI: the request id and the error's name only.
            app.log.warn({ requestId, error: (err as Error)?.name }, "PAS notification failed"),
          )
          .finally(() => pending.delete(p));
        pending.add(p);
      });
      app.addHook("onClose", async () => {
        unsubscribe();
        while (pending.size > 0) await Promise.allSettled([...pending]);
        await notifier.close();
        await state.close();
      });

      app.register(
        async (scope) => {
          scope.setErrorHandler(fhirErrorHandler);
          registerCrd(scope, ctx);
        },
        { prefix: "" },
      );

      app.register(
        async (fhir) => {
          fhir.setErrorHandler(fhirErrorHandler);
          fhir.setNotFoundHandler((req, reply) =>
            fhirErrorHandler(
              new FhirError(
                404,
                "not-supported",
                `no FHIR interaction ${req.method} ${req.url.split("?")[0]}`,
              ),
              req,
              reply,
            ),
          );
          fhir.get("/metadata", async (_req, reply) =>
            sendFhir(reply, 200, capabilityStatement(publicBaseUrl(ctx.config), ctx.config.version)),
          );
          const ops = new Operations();
          registerDtr(fhir, ctx, ops);
          registerPas(fhir, ctx, state, ops);
          registerSubscriptions(fhir, ctx, state, policy);
          ops.registerEncoded(fhir);
        },
        { prefix: "/fhir" },
      );
    },
  };
}

function registerPas(
  app: FastifyInstance,
  ctx: ServerContext,
  state: FhirState<ClaimContext, StoredSubscription>,
  ops: Operations,
): void {
  const library = () => {
    if (!ctx.library)
      throw new FhirError(501, "not-supported", "prior authorization needs the policy library");
    return ctx.library;
  };

  /**
   * `Claim/$submit` (issue 13: validate everything before any write; no claim context without its
   * request). The body is validated by type and mapped to a case first; the request is stored by the
   * service; only then are the claim context, its identifiers and the request id written, in one
   * transaction. A crash (or a failed write) between the two leaves a stored request with no claim
   * context: `$inquire` answers 404 and the retransmission — the same idempotency key, so the same
   * request — writes the context. A body that cannot be decided stores nothing.
   */
  const submit = async (req: FastifyRequest) => {
    const who = req.principal!;
    const nowDate = ctx.clock();
    const now = nowDate.toISOString();
    const today = now.slice(0, 10);
    const parsed = parsePasRequest(req.body, library(), { today, baseUrl: publicBaseUrl(ctx.config) });
    const { context } = parsed;
    const idents = context.identifiers.map((i) => `${i.system ?? ""}|${i.value ?? ""}`);
    const answer = (st: ResponseState) => claimResponseBundle(context, st, now);
    if (parsed.problem) {
      return answer({ status: "error", lines: [], needed: [], receivedAt: now, problem: parsed.problem });
    }
    const org = orgOf(who);
    if (!parsed.caseInput) {
      // No item is governed by any policy: nothing for a reviewer; the answer is "no action required".
      await state.putClaim(org, parsed.key, idents, { ...context, unstored: true }, now);
      return answer({ status: "unstored", lines: [], needed: [], receivedAt: now });
    }
    let stored: Awaited<ReturnType<typeof ctx.service.submit>>;
    try {
      stored = await ctx.service.submit(parsed.caseInput, who, { idempotencyKey: parsed.key });
    } catch (err) {
      if (err instanceof DeterminationError) {
        return answer({
          status: "error",
          lines: [],
          needed: [],
          receivedAt: now,
          problem: { code: "57", text: err.message, expression: "Claim.item.servicedDate" },
        });
      }
      throw err;
    }
    const { record, created } = stored;
    // Issue 14: the Bundle's documents, stored with the request before the claim context (so notes
    // about documents not stored are kept); each once, so a retransmission completes what a crash
    // between the two writes left undone.
    await storePasAttachments(ctx.service, record, parsed.attachments, who, context.notes);
    await state.putClaim(org, parsed.key, idents, context, now, record.id);
    req.log.info({ requestId: record.id, status: record.status, created }, "PAS request submitted");
    return answer(stateOf(record));
  };

  /** A claim row without a request: answered "no action required" only if nothing in it needs one. */
  const unstoredOk = (c: ClaimContext) =>
    c.unstored === true ||
    // Rows written before issue 13 carry no marker: none of their codes may be governed.
    (c.unstored === undefined &&
      !c.items.some((i) => i.code && (ctx.library?.policiesForCode(i.code.code).length ?? 0) > 0));

  ops.add(app, "/Claim/$submit", ["provider", "admin"], async (req, reply) =>
    sendFhir(reply, 200, await submit(req)),
  );

  ops.add(app, "/Claim/$inquire", [], async (req, reply) => {
    const who = req.principal!;
    const { claim } = claimBundleOf(req.body);
    const idents = inquiryIdentifiers(claim);
    if (idents.length === 0)
      throw new FhirError(
        400,
        "required",
        "Claim.identifier is required to find the request",
        "Claim.identifier",
      );
    const row = await state.claimByIdentifier(orgOf(who), idents);
    if (!row) {
      throw new FhirError(
        404,
        "not-found",
        "no prior authorization request of your organization has that Claim.identifier",
      );
    }
    const now = ctx.clock().toISOString();
    let st: ResponseState;
    if (row.requestId) {
      st = stateOf(await ctx.service.get(row.requestId, who));
      ctx.audit.read(who, row.requestId, "fhir.pas.inquire"); // issue 13: PHI read on record
    } else if (unstoredOk(row.context))
      st = { status: "unstored", lines: [], needed: [], receivedAt: row.createdAt };
    else {
      throw new FhirError(
        404,
        "not-found",
        "no prior authorization request of your organization has that Claim.identifier",
      );
    }
    return sendFhir(reply, 200, claimResponseBundle(row.context, st, now, "inquire"));
  });

  app.get("/ClaimResponse/:id", { preHandler: requireRole() }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const row = await state.claimByRequest(id);
    if (!row) throw new FhirError(404, "not-found", `no ClaimResponse ${id}`);
    let rec: RequestRecord;
    try {
      rec = await ctx.service.get(id, req.principal!);
      ctx.audit.read(req.principal!, rec.id, "fhir.claimresponse.read"); // issue 13: PHI read on record
    } catch (err) {
      if (err instanceof NotFoundError) throw new FhirError(404, "not-found", `no ClaimResponse ${id}`);
      throw err;
    }
    const bundle = claimResponseBundle(row.context, stateOf(rec), ctx.clock().toISOString());
    return sendFhir(reply, 200, bundle.entry![0]!.resource);
  });
}

function registerSubscriptions(
  app: FastifyInstance,
  ctx: ServerContext,
  state: FhirState<ClaimContext, StoredSubscription>,
  policy: EndpointPolicy,
): void {
  const mine = async (id: string, who: Principal) => {
    const row = await state.subscription(id);
    if (!row || row.status === "off" || (who.role !== "admin" && row.org !== orgOf(who))) {
      throw new FhirError(404, "not-found", `no Subscription ${id}`);
    }
    return row;
  };

  app.post("/Subscription", { preHandler: requireRole("provider", "admin") }, async (req, reply) => {
    // Typed before the channel is read (issue 13: wrong-typed input is a 400, never a 500).
    if (isResource(req.body, "Subscription")) validateResource(req.body);
    // Issue 13: endpoint policy (scheme, allow-list, addresses), Authorization-only headers, id-only.
    const { resource, hook, warnings } = await vetSubscription(req.body, policy, (msg, data) =>
      req.log.debug(data, msg),
    );
    const id = randomUUID();
    const org = orgOf(req.principal!);
    const stored: Subscription = { ...resource, id, status: "active" };
    delete (stored as { meta?: unknown }).meta;
    await state.putSubscription(id, org, { resource: stored, hook }, ctx.clock().toISOString());
    req.log.info({ subscription: id }, "subscription created");
    reply.header("location", `/fhir/Subscription/${id}`);
    // FHIR R4 http "Prefer: return=OperationOutcome": the create's warnings (a downgraded payload).
    if (/return=OperationOutcome/i.test(String(req.headers.prefer ?? "").slice(0, 200))) {
      return sendFhir(
        reply,
        201,
        operationOutcome(
          warnings.length > 0
            ? warnings.map((text) => ({
                severity: "warning" as const,
                code: "business-rule" as const,
                text,
                expression: "Subscription.channel.payload",
              }))
            : [{ severity: "information", code: "informational", text: `Subscription ${id} created` }],
        ),
      );
    }
    return sendFhir(reply, 201, subscriptionView((await state.subscription(id))!));
  });

  app.get("/Subscription/:id", { preHandler: requireRole() }, async (req, reply) =>
    sendFhir(reply, 200, subscriptionView(await mine((req.params as { id: string }).id, req.principal!))),
  );

  app.delete("/Subscription/:id", { preHandler: requireRole() }, async (req, reply) => {
    const row = await mine((req.params as { id: string }).id, req.principal!);
    await state.deleteSubscription(row.id);
    return reply.code(204).send();
  });
}

/** The server's CapabilityStatement (`GET /fhir/metadata`). */
export function capabilityStatement(baseUrl: string, version: string): CapabilityStatement {
  const op = (name: string, definition: string) => ({ name, definition });
  return {
    resourceType: "CapabilityStatement",
    status: "active",
    date: "2026-01-01",
    kind: "instance",
    software: { name: "medpolicy", version },
    implementation: {
      description: "medpolicy: computable clinical policies (CRD, DTR, PAS)",
      url: `${baseUrl}/fhir`,
    },
    fhirVersion: "4.0.1",
    format: ["application/fhir+json", "json"],
    instantiates: [
      "http://hl7.org/fhir/us/davinci-pas/CapabilityStatement/EHRCapabilities",
      "http://hl7.org/fhir/us/davinci-dtr/CapabilityStatement/light-dtr-payer",
    ],
    rest: [
      {
        mode: "server",
        security: { description: "Bearer tokens issued by this medpolicy service (POST /api/tokens)." },
        resource: [
          {
            type: "Questionnaire",
            interaction: [{ code: "read" }, { code: "search-type" }],
            searchParam: [{ name: "url", type: "uri" }],
            operation: [
              op(
                "questionnaire-package",
                "http://hl7.org/fhir/us/davinci-dtr/OperationDefinition/questionnaire-package",
              ),
              op(
                "next-question",
                "http://hl7.org/fhir/uv/sdc/OperationDefinition/Questionnaire-next-question",
              ),
            ],
          },
          {
            type: "Claim",
            operation: [
              op("submit", "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-submit"),
              op("inquire", "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-inquiry"),
            ],
          },
          { type: "ClaimResponse", interaction: [{ code: "read" }] },
          { type: "Subscription", interaction: [{ code: "create" }, { code: "read" }, { code: "delete" }] },
        ],
      },
    ],
  };
}
