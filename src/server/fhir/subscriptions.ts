/**
 * PAS notifications (SPEC 4 "pended requests notify by rest-hook Subscription with the full response
 * bundle"): R4 Subscriptions (the Subscriptions Backport form the PAS IG uses) on the PAS topic, and
 * their delivery when a reviewer decides a pended request.
 *
 * A Subscription belongs to the organization that created it and only ever hears about that
 * organization's requests (SPEC 4 "a provider sees only its own requests"); the backport filter
 * `orgIdentifier=…` narrows it further to requests from a provider with that identifier. A
 * notification is a `history` Bundle: the SubscriptionStatus Parameters (event number, focus), then —
 * for `full-resource` payloads, the default — the full PAS response Bundle with the ClaimResponse.
 */
import { randomUUID } from "node:crypto";
import type { Bundle, Parameters, Subscription } from "@medplum/fhirtypes";
import { invalid, isResource } from "./common.js";
import type { FhirState, SubscriptionRow } from "./state.js";

export const PAS_TOPIC = "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic";
const BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition";
const FILTER = `${BACKPORT}/backport-filter-criteria`;
const PAYLOAD = `${BACKPORT}/backport-payload-content`;

export type PayloadContent = "full-resource" | "id-only" | "empty";

/** A validated rest-hook subscription. */
export interface RestHook {
  endpoint: string;
  headers: Record<string, string>;
  content: PayloadContent;
  /** `orgIdentifier` filter values; empty = every request of the owning organization. */
  orgIdentifiers: string[];
}

const HEADER = /^([A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}):\s?([\x20-\x7e]{0,2000})$/;

/** Validates a Subscription for the PAS topic (400 OperationOutcome naming the element otherwise). */
export function parseSubscription(body: unknown): { resource: Subscription; hook: RestHook } {
  if (!isResource<Subscription>(body, "Subscription")) throw invalid("expected a Subscription resource");
  const s = body;
  if (s.criteria !== PAS_TOPIC) {
    throw invalid(`Subscription.criteria must be the PAS topic ${PAS_TOPIC}`, "Subscription.criteria");
  }
  const ch = s.channel;
  if (ch?.type !== "rest-hook")
    throw invalid("only rest-hook channels are supported", "Subscription.channel.type");
  let url: URL;
  try {
    url = new URL(String(ch.endpoint ?? ""));
  } catch {
    throw invalid(
      "Subscription.channel.endpoint must be an absolute http(s) URL",
      "Subscription.channel.endpoint",
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw invalid("Subscription.channel.endpoint must use http or https", "Subscription.channel.endpoint");
  }
  if (ch.payload !== undefined && !/^application\/(fhir\+)?json$/.test(ch.payload)) {
    throw invalid(
      "Subscription.channel.payload must be application/fhir+json",
      "Subscription.channel.payload",
    );
  }
  const headers: Record<string, string> = {};
  for (const [i, h] of (ch.header ?? []).entries()) {
    const m = typeof h === "string" ? HEADER.exec(h) : null;
    if (!m)
      throw invalid(
        `Subscription.channel.header[${i}] must be "Name: value"`,
        `Subscription.channel.header[${i}]`,
      );
    headers[m[1]!.toLowerCase()] = m[2]!;
  }
  const raw = (
    s as { _payload?: { extension?: { url?: string; valueCode?: string }[] } }
  )._payload?.extension?.find((e) => e?.url === PAYLOAD)?.valueCode;
  const content: PayloadContent = raw === "id-only" || raw === "empty" ? raw : "full-resource";
  const filters = (
    (s as { _criteria?: { extension?: { url?: string; valueString?: string }[] } })._criteria?.extension ?? []
  )
    .filter((e) => e?.url === FILTER && typeof e.valueString === "string")
    .map((e) => e.valueString!);
  const orgIdentifiers: string[] = [];
  for (const f of filters) {
    const m = /^orgIdentifier=(.{1,200})$/.exec(f.trim());
    if (!m)
      throw invalid(`unsupported filter "${f}" (supported: orgIdentifier=<value>)`, "Subscription._criteria");
    orgIdentifiers.push(m[1]!.includes("|") ? m[1]!.split("|")[1]! : m[1]!);
  }
  return { resource: s, hook: { endpoint: url.toString(), headers, content, orgIdentifiers } };
}

/** The stored form of a subscription: the resource as accepted, and its parsed channel. */
export interface StoredSubscription {
  resource: Subscription;
  hook: RestHook;
}

/** The resource as the server shows it: its id, and its current status and error. */
export function subscriptionView(row: SubscriptionRow<StoredSubscription>): Subscription {
  return {
    ...row.resource.resource,
    id: row.id,
    status: row.status === "off" ? "off" : row.status,
    ...(row.error !== undefined && { error: row.error }),
  };
}

/** The R4 backport notification Bundle (`history`): SubscriptionStatus, then the focus (PAS IG). */
export function notificationBundle(
  sub: { id: string; content: PayloadContent },
  event: number,
  focus: Bundle,
  o: { baseUrl: string; now: string },
): Bundle {
  const focusUrl = `${o.baseUrl}/fhir/Bundle/${focus.id}`;
  const status: Parameters = {
    resourceType: "Parameters",
    id: randomUUID(),
    meta: {
      profile: [
        "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4",
      ],
    },
    parameter: [
      { name: "subscription", valueReference: { reference: `${o.baseUrl}/fhir/Subscription/${sub.id}` } },
      { name: "topic", valueCanonical: PAS_TOPIC },
      { name: "status", valueCode: "active" },
      { name: "type", valueCode: "event-notification" },
      { name: "events-since-subscription-start", valueString: String(event) },
      {
        name: "notification-event",
        part: [
          { name: "event-number", valueString: String(event) },
          { name: "timestamp", valueInstant: o.now },
          ...(sub.content !== "empty" ? [{ name: "focus", valueReference: { reference: focusUrl } }] : []),
        ],
      },
    ],
  };
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
      {
        fullUrl: `urn:uuid:${status.id}`,
        resource: status,
        request: { method: "GET", url: `${o.baseUrl}/fhir/Subscription/${sub.id}/$status` },
        response: { status: "200" },
      },
      ...(sub.content === "full-resource"
        ? [
            {
              fullUrl: focusUrl,
              resource: focus,
              request: { method: "POST" as const, url: "Bundle" },
              response: { status: "201" },
            },
          ]
        : []),
    ],
  };
}

export interface DeliveryOptions {
  fetch?: typeof fetch;
  /** Per attempt; default 5 s. */
  timeoutMs?: number;
  /** Waits before the 2nd, 3rd… attempt; default 0.5 s, 2 s. */
  retryDelaysMs?: number[];
  /** Records the outcome (no PHI: subscription id, status code, error name only). */
  log?: (msg: string, data: Record<string, unknown>) => void;
}

/**
 * Delivers notifications with retries; the subscription's status turns `error` (with the reason) when
 * every attempt fails, and back to `active` on the next success. Never throws.
 */
export class Notifier {
  private readonly inflight = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(
    private readonly state: FhirState<unknown, StoredSubscription>,
    private readonly opts: DeliveryOptions = {},
  ) {}

  /** Queues a notification to `sub` (returns at once; `idle()` waits for every queued delivery). */
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
    const f = this.opts.fetch ?? fetch;
    const delays = this.opts.retryDelaysMs ?? [500, 2000];
    const { hook } = sub.resource;
    let lastError = "";
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      if (this.abort.signal.aborted) return;
      if (attempt > 0) await sleep(delays[attempt - 1]!, this.abort.signal);
      let status: number;
      try {
        const res = await f(hook.endpoint, {
          method: "POST",
          headers: { ...hook.headers, "content-type": "application/fhir+json" },
          body: JSON.stringify(bundle),
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.opts.timeoutMs ?? 5000)]),
        });
        await res.arrayBuffer().catch(() => undefined);
        status = res.status;
        if (!res.ok) {
          lastError = `endpoint answered HTTP ${res.status}`;
          continue;
        }
      } catch (err) {
        lastError = `delivery failed (${(err as Error).name})`;
        continue;
      }
      // Outside the try: failing to record the status must not send the notification again.
      if (sub.status !== "active") await this.state.setSubscriptionStatus(sub.id, "active");
      this.opts.log?.("subscription notified", { subscription: sub.id, status });
      return;
    }
    if (this.abort.signal.aborted) return;
    await this.state.setSubscriptionStatus(sub.id, "error", lastError);
    this.opts.log?.("subscription notification failed", { subscription: sub.id, error: lastError });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}
