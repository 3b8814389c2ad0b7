/**
 * PAS notifications (SPEC 4 "pended requests notify by rest-hook Subscription"; id-only per issue 13):
 * R4 Subscriptions (the Subscriptions Backport form the PAS IG uses) on the PAS topic, and their
 * delivery when a reviewer decides a pended request.
 *
 * A Subscription belongs to the organization that created it and only ever hears about that
 * organization's requests (SPEC 4 "a provider sees only its own requests"); the backport filter
 * `orgIdentifier=…` narrows it further to requests from a provider with that identifier.
 *
 * Issue 13 (SSRF, PHI in notifications):
 * - The endpoint passes `EndpointPolicy` (./endpoint.ts) at create and again before every delivery,
 *   and the connection goes to the address vetted, without redirects, with a deadline and a cap on
 *   what is read.
 * - Only an `Authorization` header may be set: it is what a receiver needs to authenticate us, and
 *   every other header (Host, Cookie, hop-by-hop, X-Forwarded-*) would let a provider steer the
 *   request or impersonate a proxy.
 * - A notification carries ids, never PHI: the backport `id-only` payload (the PAS profile requires
 *   a payload-content code but does not fix it; the backport IG warns that full payloads are the
 *   server's to secure). A `full-resource` request is accepted and downgraded to `id-only`, with an
 *   OperationOutcome warning (`Prefer: return=OperationOutcome`) and the stored resource saying
 *   `id-only`; the receiver reads the ClaimResponse it is pointed at with its own token.
 * - What a provider can read of a failed delivery is "delivery failed", whatever the cause (closed
 *   port, timeout, DNS, refusal, HTTP status); the cause goes to the server's debug log.
 */
import { randomUUID } from "node:crypto";
import type { Bundle, Extension, Parameters, Subscription } from "@medplum/fhirtypes";
import { invalid, isResource } from "./common.js";
import { DeliveryFailure, EndpointPolicy, EndpointRefused, postToVetted, type Resolver } from "./endpoint.js";
import type { FhirState, SubscriptionRow } from "./state.js";

export const PAS_TOPIC = "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic";
const BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition";
const FILTER = `${BACKPORT}/backport-filter-criteria`;
const PAYLOAD = `${BACKPORT}/backport-payload-content`;
const ENDPOINT = "Subscription.channel.endpoint";

/** What a subscriber may ask for; what is sent is `id-only` or `empty` (`DeliveredContent`). */
export type PayloadContent = "full-resource" | "id-only" | "empty";
/** What a notification carries (issue 13: ids, never the resources). */
export type DeliveredContent = "id-only" | "empty";

/** The text a provider reads on a subscription whose delivery failed (issue 13: nothing more specific). */
export const DELIVERY_FAILED = "delivery failed";
/** The error of a subscription whose handshake this server's shutdown cut short. */
export const HANDSHAKE_INTERRUPTED = "handshake interrupted (server stopped)";

/** A validated rest-hook subscription. */
export interface RestHook {
  endpoint: string;
  headers: Record<string, string>;
  content: PayloadContent;
  /** `orgIdentifier` filter values; empty = every request of the owning organization. */
  orgIdentifiers: string[];
}

/** Headers a subscriber may have sent with its notifications (see the module comment). */
const ALLOWED_HEADERS: ReadonlySet<string> = new Set(["authorization"]);
const MAX_HEADER_VALUE = 4096;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
/** Visible ASCII and space only: no CR/LF (header injection), no other controls. */
const HEADER_VALUE = /^[\x20-\x7e]*$/;

/**
 * The channel headers as sent (issue 13 "headers restricted"): `Authorization` only, once, at most
 * 4096 visible ASCII characters. Throws a message naming the offending entry; `where` is its index.
 */
export function channelHeaders(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (!Array.isArray(raw))
    throw invalid("Subscription.channel.header must be a list", "Subscription.channel.header");
  const headers: Record<string, string> = {};
  for (const [i, h] of raw.entries()) {
    const at = `Subscription.channel.header[${i}]`;
    const colon = typeof h === "string" ? h.indexOf(":") : -1;
    if (typeof h !== "string" || colon < 1 || h.length > MAX_HEADER_VALUE + 120) {
      throw invalid(`${at} must be "Name: value" (at most ${MAX_HEADER_VALUE} characters of value)`, at);
    }
    const name = h.slice(0, colon);
    const value = h.slice(colon + 1).trim();
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value) || value.length === 0) {
      throw invalid(`${at} must be "Name: value" in visible ASCII, without line breaks`, at);
    }
    const key = name.toLowerCase();
    if (!ALLOWED_HEADERS.has(key)) {
      throw invalid(`${at}: only an Authorization header may be set on notifications`, at);
    }
    if (value.length > MAX_HEADER_VALUE) {
      throw invalid(`${at}: the value is longer than ${MAX_HEADER_VALUE} characters`, at);
    }
    if (headers[key] !== undefined) throw invalid(`${at}: ${name} is given twice`, at);
    headers[key] = value;
  }
  return headers;
}

type PayloadElement = { extension?: Extension[] };

/** R4 Subscription's elements (with their `_` primitive extensions). */
const SUBSCRIPTION_ELEMENTS = new Set([
  "resourceType",
  "id",
  "meta",
  "implicitRules",
  "_implicitRules",
  "language",
  "_language",
  "extension",
  "modifierExtension",
  "status",
  "_status",
  "contact",
  "end",
  "_end",
  "reason",
  "_reason",
  "criteria",
  "_criteria",
  "error",
  "_error",
  "channel",
]);
/** R4 Subscription.channel's elements. */
const CHANNEL_ELEMENTS = new Set([
  "id",
  "extension",
  "modifierExtension",
  "type",
  "_type",
  "endpoint",
  "_endpoint",
  "payload",
  "_payload",
  "header",
  "_header",
]);

/** 400 naming the first element of `o` that R4 does not define at `at` (never its value). */
function unknownElement(o: Record<string, unknown>, known: ReadonlySet<string>, at: string): void {
  for (const k of Object.keys(o))
    if (!known.has(k))
      throw invalid(
        `${at}.${k.slice(0, 64)} is not an element of ${at} in FHIR R4 (not stored, not sent)`,
        `${at}.${k.slice(0, 64)}`,
      );
}

/**
 * Validates a Subscription for the PAS topic (400 OperationOutcome naming the element otherwise),
 * with the endpoint's syntax, scheme and allow-list checked by `policy` (no network: `vetSubscription`
 * adds the addresses). `warnings` are for the OperationOutcome of the create.
 */
export function parseSubscription(
  body: unknown,
  policy: EndpointPolicy = new EndpointPolicy(),
): { resource: Subscription; hook: RestHook; warnings: string[] } {
  if (!isResource<Subscription>(body, "Subscription")) throw invalid("expected a Subscription resource");
  // Stored and shown back as accepted (issue 16: every answer valid against R4 and the IGs): what R4
  // requires is required here too, a modifier this service does not know is refused, and a narrative
  // or contained resource it never reads is not kept.
  const { text: _text, contained: _contained, ...s } = body;
  // Every element is one R4 defines: this resource is stored and shown back, so an element it does not
  // define (a root-level `header` holding a bearer token, say) is refused rather than kept verbatim — a
  // client that misplaced it learns so instead of believing it is sent (a QA pass found it echoed).
  unknownElement(s as unknown as Record<string, unknown>, SUBSCRIPTION_ELEMENTS, "Subscription");
  if (typeof s.channel === "object" && s.channel !== null && !Array.isArray(s.channel))
    unknownElement(s.channel as unknown as Record<string, unknown>, CHANNEL_ELEMENTS, "Subscription.channel");
  if (typeof s.reason !== "string" || s.reason.trim() === "")
    throw invalid("Subscription.reason is required (R4 1..1)", "Subscription.reason");
  if (Array.isArray((s as { modifierExtension?: unknown }).modifierExtension))
    throw invalid(
      "Subscription.modifierExtension is not understood by this server",
      "Subscription.modifierExtension",
    );
  if (s.criteria !== PAS_TOPIC) {
    throw invalid(`Subscription.criteria must be the PAS topic ${PAS_TOPIC}`, "Subscription.criteria");
  }
  const ch = s.channel as (Subscription["channel"] & { _payload?: PayloadElement }) | undefined;
  if (typeof ch !== "object" || ch === null || ch.type !== "rest-hook")
    throw invalid("only rest-hook channels are supported", "Subscription.channel.type");
  let url: URL;
  try {
    url = policy.check(ch.endpoint).url;
  } catch (err) {
    if (err instanceof EndpointRefused) throw invalid(err.message, ENDPOINT);
    throw err;
  }
  if (
    ch.payload !== undefined &&
    !(typeof ch.payload === "string" && /^application\/(fhir\+)?json$/.test(ch.payload))
  ) {
    throw invalid(
      "Subscription.channel.payload must be application/fhir+json",
      "Subscription.channel.payload",
    );
  }
  const headers = channelHeaders(ch.header);
  const warnings: string[] = [];
  const payloadExt = Array.isArray(ch._payload?.extension) ? ch._payload.extension : [];
  const asked = payloadExt.find((e) => e?.url === PAYLOAD)?.valueCode;
  let content: PayloadContent;
  if (asked === undefined || asked === "id-only") content = "id-only";
  else if (asked === "empty") content = "empty";
  else if (asked === "full-resource") {
    // Downgraded, not refused: the PAS IG's own example asks for full-resource, and id-only serves it.
    content = "id-only";
    warnings.push(
      "Subscription.channel.payload: full-resource is not offered (notifications carry no PHI); notifications will be id-only — read the ClaimResponse they point to",
    );
  } else {
    throw invalid(
      "Subscription.channel.payload content must be id-only, empty or full-resource",
      "Subscription.channel.payload",
    );
  }
  const criteriaExt = (s as { _criteria?: { extension?: unknown } })._criteria?.extension;
  const filters = (
    Array.isArray(criteriaExt) ? (criteriaExt as { url?: unknown; valueString?: unknown }[]) : []
  )
    .filter((e) => e?.url === FILTER && typeof e.valueString === "string")
    .map((e) => e.valueString as string);
  const orgIdentifiers: string[] = [];
  for (const f of filters) {
    // The PAS topic's filter is `orgIdentifier`; the PAS test kit's 2.2.1 example writes it in
    // search-parameter form, `org-identifier` (issue 16): both name the same filter.
    const m = /^(?:orgIdentifier|org-identifier)=(.{1,200})$/.exec(f.trim());
    if (!m)
      throw invalid(
        `unsupported filter "${f.slice(0, 100)}" (supported: orgIdentifier=<value>)`,
        "Subscription._criteria",
      );
    orgIdentifiers.push(m[1]!.includes("|") ? m[1]!.split("|")[1]! : m[1]!);
  }
  // The stored resource says what will be sent.
  const resource: Subscription = {
    ...s,
    channel: {
      ...ch,
      endpoint: url.toString(),
      _payload: {
        ...(typeof ch._payload === "object" &&
          ch._payload !== null &&
          !Array.isArray(ch._payload) &&
          ch._payload),
        extension: [...payloadExt.filter((e) => e?.url !== PAYLOAD), { url: PAYLOAD, valueCode: content }],
      },
    } as Subscription["channel"],
  };
  return { resource, hook: { endpoint: url.toString(), headers, content, orgIdentifiers }, warnings };
}

/**
 * `parseSubscription`, then the endpoint's addresses (issue 13): a loopback, private, link-local …
 * endpoint is refused with 400 naming `Subscription.channel.endpoint` unless allow-listed.
 */
export async function vetSubscription(
  body: unknown,
  policy: EndpointPolicy,
  /** Why an endpoint was refused (debug level; no URL, no PHI). */
  debug?: (msg: string, data: Record<string, unknown>) => void,
): Promise<{ resource: Subscription; hook: RestHook; warnings: string[] }> {
  const parsed = parseSubscription(body, policy);
  try {
    await policy.vet(parsed.hook.endpoint);
  } catch (err) {
    if (err instanceof EndpointRefused) {
      debug?.("subscription endpoint refused", { reason: err.code, class: err.detail });
      throw invalid(err.message, ENDPOINT);
    }
    throw err;
  }
  return parsed;
}

/** The stored form of a subscription: the resource as accepted, and its parsed channel. */
export interface StoredSubscription {
  resource: Subscription;
  hook: RestHook;
  /**
   * When its last handshake started (ISO), set with `requested` by a create or an update: another
   * instance waits on a `requested` subscription only while its handshake may still be under way
   * ({@link Notifier.settled}). Absent on subscriptions stored before.
   */
  handshakeAt?: string;
}

/** The resource as the server shows it: its id, and its current status and error. */
export function subscriptionView(row: SubscriptionRow<StoredSubscription>): Subscription {
  const resource = row.resource.resource;
  const header = resource.channel?.header;
  return {
    ...resource,
    // The endpoint's credential is for the endpoint: a read of the Subscription (by its owner or an
    // admin) names the header, never its value (issue 13).
    ...(header && {
      channel: {
        ...resource.channel,
        header: header.map((h) => {
          const colon = h.indexOf(":");
          return colon < 0 ? "[redacted]" : `${h.slice(0, colon)}: [redacted]`;
        }),
      },
    }),
    id: row.id,
    status: row.status === "off" ? "off" : row.status,
    // Whatever an older version recorded ("endpoint answered HTTP 502", an error name), one text now.
    ...(row.error !== undefined && row.error !== null && { error: DELIVERY_FAILED }),
  };
}

/** What is sent for what was stored: `full-resource` (accepted before issue 13) is sent as `id-only`. */
export const deliveredContent = (c: PayloadContent): DeliveredContent =>
  c === "empty" ? "empty" : "id-only";

const STATUS_PROFILE = `${BACKPORT}/backport-subscription-status-r4`;

/** The R4 backport SubscriptionStatus notification types (`backport-notification-type`). */
export type NotificationType =
  | "handshake"
  | "heartbeat"
  | "event-notification"
  | "query-status"
  | "query-event";

/** A subscription's status as the backport SubscriptionStatus reports it (`off` never reaches one). */
export type ReportedStatus = "requested" | "active" | "error" | "off";

/**
 * The R4 backport SubscriptionStatus (a Parameters with profile `backport-subscription-status-r4`,
 * Subscriptions Backport IG): which subscription and topic, its status, the notification type, the
 * events since the subscription started, and — for an event — the event with its focus (ids only).
 */
export function subscriptionStatus(
  sub: { id: string; status: ReportedStatus; error?: string },
  type: NotificationType,
  events: number,
  o: { baseUrl: string; event?: { number: number; timestamp: string; focus?: string } },
): Parameters {
  return {
    resourceType: "Parameters",
    id: randomUUID(),
    meta: { profile: [STATUS_PROFILE] },
    parameter: [
      { name: "subscription", valueReference: { reference: `${o.baseUrl}/fhir/Subscription/${sub.id}` } },
      { name: "topic", valueCanonical: PAS_TOPIC },
      { name: "status", valueCode: sub.status },
      { name: "type", valueCode: type },
      { name: "events-since-subscription-start", valueString: String(events) },
      ...(o.event
        ? [
            {
              name: "notification-event",
              part: [
                { name: "event-number", valueString: String(o.event.number) },
                { name: "timestamp", valueInstant: o.event.timestamp },
                ...(o.event.focus ? [{ name: "focus", valueReference: { reference: o.event.focus } }] : []),
              ],
            },
          ]
        : []),
      // Issue 13: the one text a provider reads of a failed delivery.
      ...(sub.status === "error" ? [{ name: "error", valueCodeableConcept: { text: DELIVERY_FAILED } }] : []),
    ],
  };
}

/** The first entry of a notification Bundle: the SubscriptionStatus, as a GET of `$status`. */
function statusEntry(status: Parameters, baseUrl: string, subId: string) {
  return {
    fullUrl: `urn:uuid:${status.id}`,
    resource: status,
    request: { method: "GET" as const, url: `${baseUrl}/fhir/Subscription/${subId}/$status` },
    response: { status: "200" },
  };
}

/**
 * The R4 backport handshake (issue 16; Subscriptions Backport "Handshake"): a `history` Bundle
 * whose only entry is a SubscriptionStatus of type `handshake`, status `requested`, 0 events, sent
 * to the endpoint when a rest-hook subscription is created (or updated) so the endpoint is known
 * to answer before any event; its success turns the subscription `active`, its failure `error`.
 * It carries no focus and no PHI.
 */
export function handshakeBundle(subId: string, o: { baseUrl: string; now: string }): Bundle {
  const status = subscriptionStatus({ id: subId, status: "requested" }, "handshake", 0, o);
  return {
    resourceType: "Bundle",
    id: randomUUID(),
    meta: { profile: [`${BACKPORT}/backport-subscription-notification-r4`] },
    type: "history",
    timestamp: o.now,
    entry: [statusEntry(status, o.baseUrl, subId)],
  };
}

/** What a SubscriptionStatus reports of one subscription. */
export interface StatusOf {
  id: string;
  status: ReportedStatus;
  error?: string;
  events: number;
}

/**
 * The answer of `$status` (issue 16; Subscriptions Backport OperationDefinition
 * `backport-subscription-status`): a `searchset` Bundle holding one SubscriptionStatus of type
 * `query-status` per subscription — the instance's (`Subscription/:id/$status`), or the caller's at
 * type level — with its current status and the number of events so far.
 */
export function statusBundle(subs: StatusOf | StatusOf[], o: { baseUrl: string; now: string }): Bundle {
  const list = Array.isArray(subs) ? subs : [subs];
  const entry = list.map((sub) => {
    const status = subscriptionStatus(sub, "query-status", sub.events, o);
    return { fullUrl: `urn:uuid:${status.id}`, resource: status, search: { mode: "match" as const } };
  });
  return {
    resourceType: "Bundle",
    id: randomUUID(),
    meta: { lastUpdated: o.now },
    type: "searchset",
    total: entry.length,
    ...(entry.length > 0 && { entry }),
  };
}

/**
 * The R4 backport notification Bundle (`history`): the SubscriptionStatus, then — `id-only` — an
 * entry with the focus's `fullUrl` and no resource (Subscriptions Backport "id-only" payloads). The
 * focus is the ClaimResponse the subscriber reads with its own token (`GET /fhir/ClaimResponse/:id`),
 * so a notification carries ids only: no patient, member or clinical content (issue 13).
 */
export function notificationBundle(
  sub: { id: string; content: PayloadContent },
  event: number,
  focusUrl: string,
  o: { baseUrl: string; now: string },
): Bundle {
  const content = deliveredContent(sub.content);
  const status = subscriptionStatus({ id: sub.id, status: "active" }, "event-notification", event, {
    baseUrl: o.baseUrl,
    event: { number: event, timestamp: o.now, ...(content === "id-only" && { focus: focusUrl }) },
  });
  return {
    resourceType: "Bundle",
    id: randomUUID(),
    meta: {
      profile: [
        "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-notification-r4",
      ],
    },
    type: "history",
    timestamp: o.now,
    entry: [
      statusEntry(status, o.baseUrl, sub.id),
      ...(content === "id-only"
        ? [
            {
              fullUrl: focusUrl,
              request: { method: "PUT" as const, url: focusUrl.slice(focusUrl.indexOf("/fhir/") + 6) },
              response: { status: "200" },
            },
          ]
        : []),
    ],
  };
}

export interface DeliveryOptions {
  /** Per attempt (connect, send, answer); default 5 s. */
  timeoutMs?: number;
  /** Waits before the 2nd, 3rd… attempt; default 0.5 s, 2 s. */
  retryDelaysMs?: number[];
  /** At most this much of an endpoint's answer is read; default 64 KiB. */
  maxResponseBytes?: number;
  /** DNS for the endpoint policy (tests: a fake resolver); default the OS resolver. */
  resolve?: Resolver;
  /** Records the outcome (no PHI: subscription id, status code only). */
  log?: (msg: string, data: Record<string, unknown>) => void;
  /** Why an attempt failed (no PHI, no URL: subscription id, failure code, errno/status). Debug level. */
  debug?: (msg: string, data: Record<string, unknown>) => void;
  /**
   * How often the store is read for the outcome of a handshake another instance is delivering
   * ({@link Notifier.settled}); default 250 ms.
   */
  pollMs?: number;
  /** The service's clock, in ms (what `handshakeAt` is written with); default `Date.now`. */
  now?: () => number;
  /**
   * How often the service looks for subscriptions a crashed instance left `requested` and handshakes
   * them again, besides at start; default {@link SWEEP_MS}; 0: at start only.
   */
  sweepMs?: number;
}

/** Default {@link DeliveryOptions.sweepMs}: a minute (a handshake's attempts take at most about 20 s). */
export const SWEEP_MS = 60_000;

/**
 * Delivers notifications with retries; the subscription's status turns `error` ("delivery failed",
 * whatever the cause) when every attempt fails, and back to `active` on the next success. Each
 * attempt vets the endpoint again (a host's DNS may have changed since the create) and connects to
 * the address vetted. Never throws.
 */
export class Notifier {
  private readonly inflight = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(
    private readonly state: FhirState<unknown, StoredSubscription>,
    private readonly policy: EndpointPolicy,
    private readonly opts: DeliveryOptions = {},
  ) {}

  /** Queues a notification to `sub` (returns at once; `idle()` waits for every queued delivery). */
  private readonly handshakes = new Map<string, Promise<void>>();

  send(sub: SubscriptionRow<StoredSubscription>, bundle: Bundle): void {
    const p = this.deliver(sub, bundle)
      // Recording the status can fail (database gone); delivery itself already did its best.
      .catch((err: unknown) =>
        this.opts.log?.("subscription status not recorded", {
          subscription: sub.id,
          error: (err as Error)?.name,
        }),
      )
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    if (isHandshake(bundle)) {
      this.handshakes.set(sub.id, p);
      void p.finally(() => {
        if (this.handshakes.get(sub.id) === p) this.handshakes.delete(sub.id);
      });
    }
  }

  /**
   * Subscription `id` once its handshake is over (R4 Backport: an event for a `requested` subscription
   * goes only once the handshake has made it `active`). A handshake this process delivers is awaited;
   * one that another instance sharing the store delivers (issue 13: instances on one database) is
   * watched in the store, every {@link DeliveryOptions.pollMs}, for at most as long as a handshake's
   * attempts can take. Still `requested` then (its instance crashed mid-handshake; one shut down marks
   * it `error`): returned as it is. Undefined once this notifier is closing.
   */
  settled(id: string): Promise<SubscriptionRow<StoredSubscription> | undefined> {
    // Decisions meanwhile share one watch of a subscription.
    let w = this.watches.get(id);
    if (w === undefined) {
      w = this.watch(id).finally(() => this.watches.delete(id));
      this.watches.set(id, w);
    }
    return w;
  }

  private readonly watches = new Map<string, Promise<SubscriptionRow<StoredSubscription> | undefined>>();

  /** Waits before the 2nd, 3rd… attempt of a delivery. */
  private get delays(): number[] {
    return this.opts.retryDelaysMs ?? [500, 2000];
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /**
   * Whether the handshake of `row` (a `requested` subscription) can no longer be under way anywhere:
   * its attempts (their waits, their time-outs, a second more), counted from when it started
   * (`handshakeAt`; `since`, ms, for one stored without it), are over.
   */
  handshakeOver(row: SubscriptionRow<StoredSubscription>, since: number): boolean {
    const d = this.delays;
    const bound = d.reduce((a, b) => a + b, 0) + (d.length + 1) * (this.opts.timeoutMs ?? 5000) + 1000;
    const started = Date.parse(row.resource.handshakeAt ?? "");
    return this.now() >= (Number.isFinite(started) ? started : since) + bound;
  }

  private async watch(id: string): Promise<SubscriptionRow<StoredSubscription> | undefined> {
    const waitedFrom = this.now();
    for (;;) {
      // Shutting down: nothing more is sent (an event number taken now would go unused).
      if (this.abort.signal.aborted) return undefined;
      const row = await this.state.subscription(id);
      if (row?.status !== "requested") return row;
      const mine = this.handshakes.get(id);
      if (mine !== undefined) {
        await mine;
        continue;
      }
      // Another instance's handshake, counted from when it started (a subscription whose instance
      // crashed mid-handshake is not waited on again and again), or from when this wait began.
      if (this.handshakeOver(row, waitedFrom)) return row;
      await sleep(this.opts.pollMs ?? 250, this.abort.signal);
    }
  }

  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Stops retrying and aborts deliveries in flight (server shutdown). */
  async close(): Promise<void> {
    this.abort.abort();
    await this.idle();
  }

  private async deliver(sub: SubscriptionRow<StoredSubscription>, bundle: Bundle): Promise<void> {
    const delays = this.delays;
    const { hook } = sub.resource;
    const body = JSON.stringify(bundle);
    // A handshake's outcome is recorded only while the subscription is still `requested` with the
    // endpoint the handshake went to: an update meanwhile (a new endpoint, its own handshake) is not
    // concluded by this one (review of issue 16).
    const conclude = async (status: "active" | "error", error?: string) => {
      if (!isHandshake(bundle)) return;
      const now = await this.state.subscription(sub.id);
      if (now?.status === "requested" && now.resource.hook.endpoint === hook.endpoint)
        await this.state.setSubscriptionStatus(sub.id, status, error);
    };
    // Cut short by shutdown: `error` (its client updates it to try again), not `requested` for good,
    // which other instances would wait on (settled).
    const interrupted = () => conclude("error", HANDSHAKE_INTERRUPTED);
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      if (this.abort.signal.aborted) return interrupted();
      if (attempt > 0) await sleep(delays[attempt - 1]!, this.abort.signal);
      if (this.abort.signal.aborted) return interrupted();
      let status: number;
      try {
        // Headers stored before issue 13 are held to today's rule too.
        const headers = channelHeaders(Object.entries(hook.headers).map(([k, v]) => `${k}: ${v}`));
        const target = await this.policy.vet(hook.endpoint);
        status = await postToVetted(target, headers, body, {
          timeoutMs: this.opts.timeoutMs ?? 5000,
          maxResponseBytes: this.opts.maxResponseBytes ?? 64 * 1024,
          signal: this.abort.signal,
          // The payload's media type as the subscriber named it (R4 channel.payload).
          contentType:
            sub.resource.resource.channel?.payload === "application/json"
              ? "application/json"
              : "application/fhir+json",
        });
      } catch (err) {
        const refused = !(err instanceof DeliveryFailure);
        this.opts.debug?.("subscription delivery attempt failed", {
          subscription: sub.id,
          attempt: attempt + 1,
          reason: err instanceof DeliveryFailure ? err.code : "refused-by-policy",
          detail:
            err instanceof DeliveryFailure
              ? err.detail
              : err instanceof EndpointRefused
                ? `${err.code}${err.detail ? `:${err.detail}` : ""}`
                : "header",
        });
        // A refusal will not change in the seconds between attempts.
        if (refused) break;
        continue;
      }
      // Outside the try: failing to record the status must not send the notification again. Only a
      // delivered handshake makes a subscription active (R4 Backport).
      await conclude("active");
      this.opts.log?.("subscription notified", { subscription: sub.id, status });
      return;
    }
    if (this.abort.signal.aborted) return interrupted();
    await this.state.setSubscriptionStatus(sub.id, "error", DELIVERY_FAILED);
    this.opts.log?.("subscription notification failed", { subscription: sub.id });
  }
}

/** Whether a notification Bundle is a Backport handshake (its SubscriptionStatus's `type`). */
function isHandshake(bundle: Bundle): boolean {
  const status = bundle.entry?.[0]?.resource as
    | { parameter?: { name?: string; valueCode?: string }[] }
    | undefined;
  return status?.parameter?.some((p) => p.name === "type" && p.valueCode === "handshake") === true;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    // Removed when the wait ends, so a long-lived server's shutdown signal does not gather listeners.
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
