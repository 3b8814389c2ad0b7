/**
 * The HL7 FHIR R4 Da Vinci interfaces (SPEC 4) as a server plugin: CRD (CDS Hooks, `/cds-services`),
 * DTR (`/fhir/Questionnaire…`), PAS (`/fhir/Claim/$submit`, `/fhir/Claim/$inquire`,
 * `/fhir/ClaimResponse/:id`) and PAS notifications (`/fhir/Subscription`). All decide with the same
 * library and engine as the JSON API, and PAS requests are stored through the service, so reviewers
 * see them in their queue and a signed decision notifies the submitter's subscriptions.
 *
 * Mount with `startServer({ …, plugins: [fhirPlugin()] })`. Every route but discovery, the
 * CapabilityStatement and Questionnaire reads needs a medpolicy token, or a SMART token or signed CDS
 * Hooks JWT from a registered client (docs/clients.md); errors are OperationOutcomes.
 */
import { randomUUID } from "node:crypto";
import type { CapabilityStatement, Subscription } from "@medplum/fhirtypes";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DeterminationError, MedpolicyError, NotFoundError } from "../../model/index.js";
import type { RequestRecord } from "../../store/index.js";
import type { Principal } from "../auth.js";
import type { MedpolicyPlugin, ServerContext } from "../index.js";
import { requireRole } from "../routes.js";
import {
  FhirError,
  fhirErrorHandler,
  invalid,
  isObject,
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
  inquiryMatches,
  inquiryPatient,
  parsePasRequest,
  patientKeys,
  type ResponseState,
  stateOf,
  storedPatient,
  storePasAttachments,
} from "./pas.js";
import { inquiryAnswer, inquiryVersion } from "./pas-inquire.js";
import { type FhirState, openFhirState, type SubscriptionRow } from "./state.js";
import {
  type DeliveryOptions,
  handshakeBundle,
  Notifier,
  notificationBundle,
  PAS_TOPIC,
  type StoredSubscription,
  SWEEP_MS,
  statusBundle,
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
export { inquiryAnswer, inquiryBundles, inquiryVersion } from "./pas-inquire.js";
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
        now: () => ctx.clock().getTime(),
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
        const mine = (await state.subscriptionsOf(record.org)).filter(
          (s) =>
            s.resource.hook.orgIdentifiers.length === 0 ||
            s.resource.hook.orgIdentifiers.some((id) => claim.context.providerIdentifiers.includes(id)),
        );
        // Only active subscriptions (R4 Backport: `requested` awaits its handshake, `error` its
        // repair); an event during a handshake, delivered by this process or by another instance on
        // the same store, waits for its outcome, below.
        const subs = mine.filter((s) => s.status === "active");
        const handshaking = mine.filter((s) => s.status === "requested");
        if (subs.length === 0 && handshaking.length === 0) return;
        const now = ctx.clock().toISOString();
        // Issue 13: id-only — the ClaimResponse's URL, which the subscriber reads with its own token.
        const focus = `${claim.context.baseUrl}/fhir/ClaimResponse/${requestId}`;
        const send = async (s: (typeof mine)[number]) => {
          const event = await state.nextEvent(s.id);
          notifier.send(
            s,
            notificationBundle({ id: s.id, content: s.resource.hook.content }, event, focus, {
              baseUrl: claim.context.baseUrl,
              now,
            }),
          );
        };
        for (const s of subs) await send(s);
        for (const s of handshaking) {
          const after = await notifier.settled(s.id);
          if (after?.status === "active") await send(after);
          else if (after?.status === "requested")
            app.log.warn(
              { requestId, subscription: s.id },
              "PAS notification not sent: handshake unfinished",
            );
        }
      };
      // Tracked so that closing waits for them before the state goes away.
      const pending = new Set<Promise<void>>();
      const track = (p: Promise<void>) => {
        const t = p.finally(() => pending.delete(t));
        pending.add(t);
      };
      // R4 Backport handshake: one cut short by a crash (a shutdown marks it `error`) leaves its
      // subscription `requested` with nothing under way; at start, and then every `sweepMs` (so that
      // the instances still running take over a crashed one's, without waiting for a restart), each
      // whose attempts can no longer be running anywhere is handshaken again (re-stamped first, so that
      // instances sweeping together rarely both send one; a second handshake is harmless: no event, no
      // PHI).
      let stopping = false;
      const sweep = async () => {
        for (const row of await state.requestedSubscriptions()) {
          // Shutting down: a handshake started now would be cut short and leave the subscription in
          // error, where the next instance's sweep would have recovered it.
          if (stopping) return;
          if (!notifier.handshakeOver(row, Date.parse(row.createdAt))) continue;
          const handshakeAt = ctx.clock().toISOString();
          if (await state.updateSubscription(row.id, { ...row.resource, handshakeAt }, "requested"))
            await sendHandshake(ctx, state, notifier, row.id);
        }
      };
      let sweeping = false;
      const sweepNow = () => {
        if (sweeping) return; // one sweep at a time: a slow store is not swept twice over
        sweeping = true;
        track(
          sweep()
            .catch((err: unknown) =>
              app.log.warn({ error: (err as Error)?.name }, "subscription handshake sweep failed"),
            )
            .finally(() => {
              sweeping = false;
            }),
        );
      };
      let sweeps: NodeJS.Timeout | undefined;
      app.addHook("onReady", async () => {
        sweepNow();
        const every = options.delivery?.sweepMs ?? SWEEP_MS;
        if (every > 0) {
          sweeps = setInterval(sweepNow, every);
          sweeps.unref();
        }
      });
      const unsubscribe = ctx.onDecision((requestId, _determination, record) => {
        track(
          notify(requestId, record).catch((err: unknown) =>
            // No PHI: the request id and the error's name only.
            app.log.warn({ requestId, error: (err as Error)?.name }, "PAS notification failed"),
          ),
        );
      });
      app.addHook("onClose", async () => {
        stopping = true;
        clearInterval(sweeps);
        unsubscribe();
        // Aborted first: a notification waiting on another instance's handshake stops waiting.
        const closing = notifier.close();
        while (pending.size > 0) await Promise.allSettled([...pending]);
        await closing;
        await notifier.idle();
        await state.close();
      });

      app.register(
        async (scope) => {
          scope.setErrorHandler(fhirErrorHandler);
          // The plugin's own endpoint policy (its https rule, allow-list and resolver) for CRD's FHIR reads.
          registerCrd(scope, ctx, { policy });
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
          // Only FHIR R4 JSON is served: a client asking for XML, Turtle or another FHIR version is told
          // so (406) rather than sent JSON R4 with 200 (found by a QA pass).
          fhir.addHook("onRequest", async (req) => {
            const why = unservedFormat(
              (req.query as Record<string, unknown> | undefined)?._format,
              req.headers.accept,
            );
            if (why) throw new FhirError(406, "not-supported", why);
          });
          fhir.get("/metadata", async (_req, reply) =>
            sendFhir(reply, 200, capabilityStatement(publicBaseUrl(ctx.config), ctx.config.version)),
          );
          const ops = new Operations();
          registerDtr(fhir, ctx, ops);
          registerPas(fhir, ctx, state, ops);
          registerSubscriptions(fhir, ctx, state, policy, notifier, ops);
          ops.registerEncoded(fhir);
        },
        { prefix: "/fhir" },
      );
    },
  };
}

/**
 * Why a FHIR request asks for a format this server does not produce, or undefined: `_format` other
 * than JSON, an Accept header that admits no JSON type, or a `fhirVersion` other than 4.0 (R4). Linear:
 * the header is split on commas and semicolons, at most 20 media ranges looked at.
 */
export function unservedFormat(format: unknown, accept: string | undefined): string | undefined {
  if (typeof format === "string" && format !== "") {
    // A "+" written unencoded in the query arrives as a space; parameters (";charset=…") do not matter.
    const f = format.replace(/ /g, "+").split(";")[0]!.trim().toLowerCase();
    if (!isJsonType(f) && f !== "json")
      return `_format ${format.slice(0, 40)}: this server produces FHIR R4 JSON only (_format=json)`;
    // R4: _format overrides Accept, for clients that cannot set the header.
    return undefined;
  }
  if (typeof accept !== "string" || accept.trim() === "") return undefined;
  const ranges = accept.split(",");
  // Many ranges: not a client this check is for; answered as it asks, in JSON.
  if (ranges.length > 50) return undefined;
  for (const range of ranges) {
    const [type = "", ...params] = range.split(";").map((x) => x.trim().toLowerCase());
    const param = (name: string) =>
      params
        .find((p) => p.startsWith(`${name}=`))
        ?.slice(name.length + 1)
        .replace(/^"|"$/g, "");
    const version = param("fhirversion");
    if (version !== undefined && version !== "4.0" && version !== "4.0.1") continue;
    const q = param("q");
    if (q !== undefined && Number(q) === 0) continue;
    if (type === "*/*" || type === "application/*" || isJsonType(type)) return undefined;
  }
  return `Accept ${accept.slice(0, 80)}: this server produces FHIR R4 JSON only (application/fhir+json; fhirVersion=4.0)`;
}

/** JSON media types, the old DSTU2/STU3 `application/json+fhir` included. */
function isJsonType(t: string): boolean {
  return t === "application/json" || t.endsWith("+json") || t === "application/json+fhir";
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
    // Stored with the patient's identifiers too: an inquiry may name the patient and not the claim.
    const keys = [...idents, ...patientKeys(storedPatient(context))];
    const answer = (st: ResponseState) => claimResponseBundle(context, st, now);
    if (parsed.problem) {
      return answer({ status: "error", lines: [], needed: [], receivedAt: now, problem: parsed.problem });
    }
    const org = orgOf(who);
    // A Claim update that cancels every service withdraws the request it updates (the one holding its
    // Claim.identifier) while no one has decided it; a decided request keeps its decision.
    // It is answered, and not stored: `$inquire` on those identifiers keeps finding the request itself.
    let updates = false;
    if (context.items.length > 0 && context.items.every((i) => i.cancelled)) {
      const note = await withdrawOriginal(org, idents, who);
      if (note) context.notes.push(note);
      updates = note !== undefined;
    }
    if (!parsed.caseInput) {
      // No item is governed by any policy: nothing for a reviewer; the answer is "no action required".
      if (!updates) await state.putClaim(org, parsed.key, keys, { ...context, unstored: true }, now);
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
    await state.putClaim(org, parsed.key, keys, context, now, record.id);
    req.log.info({ requestId: record.id, status: record.status, created }, "PAS request submitted");
    return answer(stateOf(record));
  };

  /**
   * Withdraws the stored request a cancelling Claim update names by its identifiers (same organization);
   * the note the answer carries, or undefined when no stored request matches.
   */
  const withdrawOriginal = async (org: string, idents: string[], who: Principal) => {
    const row = idents.length > 0 ? await state.claimByIdentifier(org, idents) : undefined;
    if (!row?.requestId) return undefined;
    try {
      await ctx.service.withdraw(row.requestId, "cancelled by the submitter (PAS Claim update)", who);
      return `Prior authorization request ${row.requestId} is withdrawn: it will not be reviewed.`;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      if (err instanceof MedpolicyError && err.kind === "conflict") {
        const rec = await ctx.service.get(row.requestId, who);
        // Still open: the review kept moving under every retry. Not dropped silently: the client retries.
        if (rec.status === "awaiting-review") {
          throw new FhirError(
            409,
            "conflict",
            `Prior authorization request ${row.requestId} is being reviewed right now and could not be withdrawn; send the cancellation again`,
          );
        }
        const was: Record<string, string> = {
          withdrawn: "withdrawn",
          decided: "decided",
          approved: "approved automatically",
          "not-applicable": "closed: no policy in this library governs it",
        };
        const status = was[rec.status] ?? rec.status;
        const keeps =
          rec.status === "decided" || rec.status === "approved"
            ? " (contact the plan to void a decision)"
            : "";
        return `Prior authorization request ${row.requestId} was already ${status}; the cancellation does not change it${keeps}.`;
      }
      throw err;
    }
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

  /**
   * `Claim/$inquire` (issue 16): the answer's form is the PAS version of the inquiry (`pas-inquire.ts`:
   * 2.2.1 Parameters of `return` Bundles by default; a Bundle when the inquiry declares a 2.0.x
   * profile). Nothing matching is an empty result (2.2.1: no `return`; 2.0.1: an informational
   * OperationOutcome), HTTP 200 — never 404: the inquiry was processed and matched nothing.
   */
  ops.add(app, "/Claim/$inquire", [], async (req, reply) => {
    const who = req.principal!;
    const version = inquiryVersion(req.body);
    const { claim, index } = claimBundleOf(req.body);
    // By Claim.identifier; without one (0..1 in PAS 2.0.1's inquiry profile), by the patient's
    // identifiers — either way the patient and the services must match (inquiryMatches).
    const claimIdents = inquiryIdentifiers(claim);
    const idents = claimIdents.length > 0 ? claimIdents : patientKeys(inquiryPatient(claim, index));
    if (idents.length === 0)
      throw new FhirError(
        400,
        "required",
        "Claim.identifier, or an identifier of the Claim's patient, is required to find the request",
        "Claim.identifier",
      );
    // Identifiers collide across submissions: the newest one whose patient and services match.
    const row = (await state.claimsByIdentifier(orgOf(who), idents, 50)).find((r) =>
      inquiryMatches(r.context, claim, index),
    );
    const now = ctx.clock().toISOString();
    let st: ResponseState | undefined;
    if (row?.requestId) {
      st = stateOf(await ctx.service.get(row.requestId, who));
      ctx.audit.read(who, row.requestId, "fhir.pas.inquire"); // issue 13: PHI read on record
    } else if (row && unstoredOk(row.context)) {
      st = { status: "unstored", lines: [], needed: [], receivedAt: row.createdAt };
    }
    const bundles = row && st ? [claimResponseBundle(row.context, st, now, "inquire")] : [];
    return sendFhir(reply, 200, inquiryAnswer(version, bundles));
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

/**
 * Issue 16, R4 Subscriptions Backport "Handshake": a `requested` subscription gets a handshake (no
 * event, no PHI) at its endpoint; delivered, it turns `active`; failed, `error` (Notifier).
 */
async function sendHandshake(
  ctx: ServerContext,
  state: FhirState<ClaimContext, StoredSubscription>,
  notifier: Notifier,
  id: string,
): Promise<void> {
  const row = await state.subscription(id);
  if (row && row.status !== "off") {
    const now = ctx.clock().toISOString();
    notifier.send(row, handshakeBundle(id, { baseUrl: publicBaseUrl(ctx.config), now }));
  }
}

function registerSubscriptions(
  app: FastifyInstance,
  ctx: ServerContext,
  state: FhirState<ClaimContext, StoredSubscription>,
  policy: EndpointPolicy,
  notifier: Notifier,
  ops: Operations,
): void {
  const mine = async (id: string, who: Principal) => {
    const row = await state.subscription(id);
    if (!row || row.status === "off" || (who.role !== "admin" && row.org !== orgOf(who))) {
      throw new FhirError(404, "not-found", `no Subscription ${id}`);
    }
    return row;
  };
  const baseUrl = () => publicBaseUrl(ctx.config);

  const handshake = (id: string) => sendHandshake(ctx, state, notifier, id);

  /** The body of a create or update, vetted (issue 13: endpoint policy, headers, id-only). */
  const vet = async (req: FastifyRequest) => {
    // Typed before the channel is read (issue 13: wrong-typed input is a 400, never a 500).
    if (isResource(req.body, "Subscription")) validateResource(req.body);
    return vetSubscription(req.body, policy, (msg, data) => req.log.debug(data, msg));
  };

  /** `Prefer: return=OperationOutcome` (FHIR R4 http): the warnings of a create or update. */
  const wantsOutcome = (req: FastifyRequest) =>
    String(req.headers.prefer ?? "")
      .slice(0, 200)
      .toLowerCase()
      .includes("return=operationoutcome");
  const outcomeOf = (warnings: string[], text: string) =>
    operationOutcome(
      warnings.length > 0
        ? warnings.map((w) => ({
            severity: "warning" as const,
            code: "business-rule" as const,
            text: w,
            expression: "Subscription.channel.payload",
          }))
        : [{ severity: "information", code: "informational", text }],
    );

  app.post("/Subscription", { preHandler: requireRole("provider", "admin") }, async (req, reply) => {
    const { resource, hook, warnings } = await vet(req);
    const id = randomUUID();
    const org = orgOf(req.principal!);
    // Backport: `requested` until the handshake reaches the endpoint (issue 16).
    const stored: Subscription = { ...resource, id, status: "requested" };
    delete (stored as { meta?: unknown }).meta;
    const at = ctx.clock().toISOString();
    await state.putSubscription(id, org, { resource: stored, hook, handshakeAt: at }, at, "requested");
    req.log.info({ subscription: id }, "subscription created");
    const view = subscriptionView((await state.subscription(id))!);
    await handshake(id);
    reply.header("location", `/fhir/Subscription/${id}`);
    if (wantsOutcome(req)) return sendFhir(reply, 201, outcomeOf(warnings, `Subscription ${id} created`));
    return sendFhir(reply, 201, view);
  });

  app.get("/Subscription/:id", { preHandler: requireRole() }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    // `GET /Subscription/%24status`: the router decodes the name into the id.
    if (id === "$status") return typeStatus(req, reply);
    return sendFhir(reply, 200, subscriptionView(await mine(id, req.principal!)));
  });

  /**
   * FHIR update (issue 16; PAS IntermediaryCapabilities: Subscription create, update, delete). The
   * body is vetted as a create is (issue 13); its id must be the URL's. The subscription goes back to
   * `requested` with a new handshake, so a corrected endpoint is confirmed before it is `active`
   * again. A client setting `status: off` turns it off (as DELETE does).
   */
  app.put("/Subscription/:id", { preHandler: requireRole("provider", "admin") }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const row = await mine(id, req.principal!);
    const body = req.body as { id?: unknown; status?: unknown } | undefined;
    if (isResource(body, "Subscription") && body.id !== id) {
      throw new FhirError(
        400,
        "invalid",
        "Subscription.id must be the id in the URL (FHIR R4 update)",
        "Subscription.id",
      );
    }
    const { resource, hook, warnings } = await vet(req);
    if (body?.status === "off") {
      await state.deleteSubscription(row.id);
      req.log.info({ subscription: id }, "subscription turned off");
      return sendFhir(reply, 200, subscriptionView({ ...row, status: "off" }));
    }
    const stored: Subscription = { ...resource, id, status: "requested" };
    delete (stored as { meta?: unknown }).meta;
    const handshakeAt = ctx.clock().toISOString();
    if (!(await state.updateSubscription(id, { resource: stored, hook, handshakeAt }, "requested"))) {
      throw new FhirError(404, "not-found", `no Subscription ${id}`);
    }
    req.log.info({ subscription: id }, "subscription updated");
    const view = subscriptionView((await state.subscription(id))!);
    await handshake(id);
    if (wantsOutcome(req)) return sendFhir(reply, 200, outcomeOf(warnings, `Subscription ${id} updated`));
    return sendFhir(reply, 200, view);
  });

  app.delete("/Subscription/:id", { preHandler: requireRole() }, async (req, reply) => {
    const row = await mine((req.params as { id: string }).id, req.principal!);
    await state.deleteSubscription(row.id);
    return reply.code(204).send();
  });

  const statusOf = (row: SubscriptionRow<StoredSubscription>) => ({
    id: row.id,
    status: row.status,
    events: row.events,
    ...(row.error !== undefined && { error: row.error }),
  });
  const now = () => ({ baseUrl: baseUrl(), now: ctx.clock().toISOString() });

  /**
   * `Subscription/:id/$status` (issue 16; Subscriptions Backport OperationDefinition
   * `backport-subscription-status`), GET or POST, the operation name plain or percent-encoded: a
   * searchset Bundle with the subscription's SubscriptionStatus (`query-status`). Only the owner (or an
   * admin) sees it; the error text is the one "delivery failed" (issue 13).
   */
  const status = async (req: FastifyRequest, reply: FastifyReply) => {
    const { id, op } = req.params as { id: string; op: string };
    if (op !== "$status") {
      throw new FhirError(404, "not-supported", `no FHIR operation ${op.slice(0, 50)} on Subscription`);
    }
    const row = await mine(id, req.principal!);
    return sendFhir(reply, 200, statusBundle(statusOf(row), now()));
  };
  app.get("/Subscription/:id/:op", { preHandler: requireRole() }, status);
  app.post("/Subscription/:id/:op", { preHandler: requireRole() }, status);

  /**
   * `Subscription/$status` at type level (issue 16; backport `id` 0..* and `status` 0..* inputs, from
   * the query of a GET or the Parameters of a POST): the statuses of the caller's organization's
   * subscriptions, those named and in the statuses asked for when given.
   */
  async function typeStatus(req: FastifyRequest, reply: FastifyReply) {
    const { ids, statuses } = statusFilters(req);
    const rows = (await state.subscriptionsOf(orgOf(req.principal!))).filter(
      (r) =>
        (ids.length === 0 || ids.includes(r.id)) && (statuses.length === 0 || statuses.includes(r.status)),
    );
    return sendFhir(reply, 200, statusBundle(rows.slice(0, 100).map(statusOf), now()));
  }
  app.get("/Subscription/$status", { preHandler: requireRole() }, typeStatus);
  ops.add(app, "/Subscription/$status", [], typeStatus);
}

/**
 * The `id` and `status` inputs of a type-level `$status` (issue 16): repeated query parameters of a
 * GET, or `valueString`/`valueId`/`valueCode` parameters of a POSTed Parameters. At most 100 of each;
 * anything else is a 400 naming the input.
 */
function statusFilters(req: FastifyRequest): { ids: string[]; statuses: string[] } {
  const out = { ids: [] as string[], statuses: [] as string[] };
  const add = (name: string, v: unknown) => {
    const list = name === "id" ? out.ids : name === "status" ? out.statuses : undefined;
    if (!list) return;
    if (typeof v !== "string" || v.length === 0 || v.length > 200 || list.length >= 100) {
      throw invalid(`the $status input ${name} must be at most 100 strings of at most 200 characters`, name);
    }
    list.push(v);
  };
  if (req.method === "GET") {
    const q = (req.query ?? {}) as Record<string, unknown>;
    for (const name of ["id", "status"]) {
      const v = q[name];
      for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) add(name, x);
    }
    return out;
  }
  const body = req.body;
  if (body === undefined || body === null || (isObject(body) && Object.keys(body).length === 0)) return out;
  if (!isResource(body, "Parameters")) throw invalid("$status takes a Parameters resource (or no body)");
  const params = (body as { parameter?: unknown }).parameter;
  if (params !== undefined && !Array.isArray(params)) throw invalid("Parameters.parameter must be an array");
  for (const p of (params ?? []) as unknown[]) {
    if (!isObject(p) || typeof p.name !== "string") continue;
    add(p.name, p.valueString ?? p.valueId ?? p.valueCode);
  }
  return out;
}

/** The published canonicals this server's CapabilityStatement instantiates (issue 16). */
export const INSTANTIATES = [
  // PAS: the server role is the intermediary/payer's (IntermediaryCapabilities, rest mode server),
  // in both versions served; EHRCapabilities is the EHR client's.
  "http://hl7.org/fhir/us/davinci-pas/CapabilityStatement/IntermediaryCapabilities|2.2.1",
  "http://hl7.org/fhir/us/davinci-pas/CapabilityStatement/IntermediaryCapabilities|2.0.1",
  // DTR 2.0.1: the payer service (questionnaire-package, ValueSet $expand, next-question).
  "http://hl7.org/fhir/us/davinci-dtr/CapabilityStatement/dtr-payer-service|2.0.1",
  // CRD 2.0.1: the CRD server role (the CDS Hooks service, a FHIR client of the EHR).
  "http://hl7.org/fhir/us/davinci-crd/CapabilityStatement/crd-server|2.0.1",
] as const;

/** The SMART on FHIR security service code (HL7 terminology `restful-security-service`). */
const SMART_SERVICE = {
  system: "http://terminology.hl7.org/CodeSystem/restful-security-service",
  code: "SMART-on-FHIR",
  display: "SMART-on-FHIR",
};
const OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";

/**
 * The server's CapabilityStatement (`GET /fhir/metadata`; issue 16): the Da Vinci roles it
 * instantiates ({@link INSTANTIATES}), the SMART security service with its token endpoint
 * (`<base>/auth/token`, SMART App Launch `oauth-uris`), and per resource the interactions and
 * operations served — PAS `$submit`/`$inquire`, DTR `$questionnaire-package`, `$next-question`,
 * `$log-questionnaire-errors` and ValueSet `$expand`, and the backport Subscriptions (create, read,
 * update, delete, `$status`) on the PAS topic.
 */
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
    instantiates: [...INSTANTIATES],
    // The IGs this server implements (R4 CapabilityStatement.implementationGuide), by their canonical.
    implementationGuide: [
      "http://hl7.org/fhir/us/davinci-pas/ImplementationGuide/hl7.fhir.us.davinci-pas",
      "http://hl7.org/fhir/us/davinci-dtr/ImplementationGuide/hl7.fhir.us.davinci-dtr",
      "http://hl7.org/fhir/us/davinci-crd/ImplementationGuide/hl7.fhir.us.davinci-crd",
    ],
    rest: [
      {
        mode: "server",
        security: {
          extension: [
            {
              url: OAUTH_URIS,
              extension: [{ url: "token", valueUri: `${baseUrl}/auth/token` }],
            },
          ],
          cors: false,
          service: [{ coding: [SMART_SERVICE], text: "SMART on FHIR Backend Services (client credentials)" }],
          description:
            "SMART on FHIR bearer tokens (Backend Services: client_credentials with private_key_jwt — no App Launch, no authorize endpoint; discovery at /fhir/.well-known/smart-configuration, also /.well-known/smart-configuration; tokens at /auth/token), and bearer tokens issued by this medpolicy service for its own app.",
        },
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
              op(
                "log-questionnaire-errors",
                "http://hl7.org/fhir/us/davinci-dtr/OperationDefinition/log-questionnaire-errors",
              ),
            ],
          },
          {
            type: "ValueSet",
            interaction: [{ code: "read" }],
            operation: [op("expand", "http://hl7.org/fhir/OperationDefinition/ValueSet-expand")],
          },
          {
            type: "Claim",
            operation: [
              op("submit", "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-submit"),
              op("inquire", "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-inquiry"),
            ],
          },
          { type: "ClaimResponse", interaction: [{ code: "read" }] },
          {
            extension: [
              {
                url: "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical",
                valueCanonical: PAS_TOPIC,
              },
            ],
            type: "Subscription",
            // The PAS IG's notifications are R4 Subscriptions as the backport IG profiles them.
            supportedProfile: [
              "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription",
            ],
            interaction: [{ code: "create" }, { code: "read" }, { code: "update" }, { code: "delete" }],
            operation: [
              op(
                "status",
                "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status",
              ),
            ],
          },
        ],
      },
    ],
  };
}
