/**
 * Notifier.settled (issue 13, instances on one database; R4 Backport handshake): a `requested`
 * subscription another instance is handshaking is watched in the store while its handshake may still
 * be under way — counted from when it started — and not once that time is past (its instance crashed).
 * A fake store and clock: nothing here is timed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { EndpointPolicy } from "./endpoint.js";
import type { FhirState, SubscriptionRow } from "./state.js";
import { Notifier, type StoredSubscription } from "./subscriptions.js";

const T0 = Date.parse("2026-03-02T12:00:00Z");

function fixture(handshakeAt: string | undefined, activeAfterReads: number) {
  let reads = 0;
  let clock = T0;
  const row = (): SubscriptionRow<StoredSubscription> => ({
    id: "s1",
    org: "northside",
    createdAt: "2026-03-01T00:00:00Z",
    events: 0,
    status: reads > activeAfterReads ? "active" : "requested",
    resource: {
      resource: {
        resourceType: "Subscription",
        status: "requested",
        reason: "r",
        criteria: "c",
        channel: { type: "rest-hook" },
      },
      hook: { endpoint: "https://example.org/n", headers: {}, content: "id-only", orgIdentifiers: [] },
      ...(handshakeAt !== undefined && { handshakeAt }),
    },
  });
  const state = {
    async subscription() {
      reads++;
      return row();
    },
  } as unknown as FhirState<unknown, StoredSubscription>;
  // Every poll moves the clock 1 s (a poll's wait, 1 ms here, stands for it).
  const notifier = new Notifier(state, {} as EndpointPolicy, {
    retryDelaysMs: [500],
    timeoutMs: 2000,
    pollMs: 1,
    now: () => {
      clock += 1000;
      return clock;
    },
  });
  return { notifier, reads: () => reads };
}

test("a handshake started just now is waited for: the event goes once the subscription is active", async () => {
  const f = fixture(new Date(T0).toISOString(), 3);
  const row = await f.notifier.settled("s1");
  assert.equal(row?.status, "active");
  assert.equal(f.reads(), 4);
});

test("a handshake that started longer ago than its attempts can take is not waited for", async () => {
  // Bound: 0.5 s + 2 × 2 s + 1 s = 5.5 s; started a minute ago.
  const f = fixture(new Date(T0 - 60_000).toISOString(), 1000);
  const row = await f.notifier.settled("s1");
  assert.equal(row?.status, "requested");
  assert.equal(f.reads(), 1, "one read, no polling");
});

test("stored without its start: watched for the bound from the first wait, then given up", async () => {
  const f = fixture(undefined, 1000);
  const row = await f.notifier.settled("s1");
  assert.equal(row?.status, "requested");
  // The clock moves 1 s a reading: the 5.5 s bound is passed after a handful of polls, not never.
  assert.ok(f.reads() > 1 && f.reads() < 10, `${f.reads()} reads`);
});

test("decisions meanwhile share one watch", async () => {
  const f = fixture(new Date(T0).toISOString(), 3);
  const [a, b] = await Promise.all([f.notifier.settled("s1"), f.notifier.settled("s1")]);
  assert.equal(a, b);
  assert.equal(f.reads(), 4);
});
