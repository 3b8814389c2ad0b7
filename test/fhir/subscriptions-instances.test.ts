/**
 * Issue 13 (instances on one database) with issue 16 (R4 Subscriptions Backport "Handshake"): an
 * event that happens on one instance while another instance sharing the store is delivering the
 * subscription's handshake waits for the handshake's outcome and is delivered once the subscription is
 * `active` — not dropped because this instance did not start the handshake. A handshake cut short by
 * its instance's shutdown leaves the subscription `error`, not `requested` for the others to wait on;
 * one a crash left `requested` is handshaken again when an instance starts, or by one already running
 * (its periodic sweep). On SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { openFhirState } from "../../src/server/fhir/state.js";
import type { StoredSubscription } from "../../src/server/fhir/subscriptions.js";
import { type DbKind, freshDatabase, postgresAvailable } from "../service/helpers.js";
import { pasBundle } from "./fixtures.js";
import {
  call,
  listener,
  notifiedClaimResponse,
  signApproved,
  startFhirServer,
  type TestServer,
} from "./helpers.js";

const available = await postgresAvailable();
const PUBLIC = "https://payer.example";
const TOPIC = "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic";

/** A rest-hook Subscription on the PAS topic to `endpoint`. */
const subscription = (endpoint: string) => ({
  resourceType: "Subscription",
  status: "requested",
  reason: "PAS decisions",
  criteria: TOPIC,
  channel: { type: "rest-hook", endpoint, payload: "application/fhir+json" },
});

/** Two instances on `db` behind one public URL, with `delivery` options; pushed to `servers`. */
async function twoInstances(
  db: { dataDir: string; databaseUrl?: string },
  delivery: { timeoutMs: number; retryDelaysMs: number[] },
  servers: TestServer[],
): Promise<[TestServer, TestServer]> {
  for (let i = 0; i < 2; i++) {
    servers.push(
      await startFhirServer({ delivery }, undefined, {
        dataDir: db.dataDir,
        ...(db.databaseUrl && { databaseUrl: db.databaseUrl }),
        publicUrl: PUBLIC,
      }),
    );
  }
  return servers as [TestServer, TestServer];
}

/** Creates a subscription to `endpoint` on `server` (201), its id. */
async function subscribe(server: TestServer, endpoint: string): Promise<string> {
  const created = await call(server.url, "POST", "/fhir/Subscription", {
    token: server.tokens.provider,
    body: subscription(endpoint),
  });
  assert.equal(created.status, 201, created.text);
  return created.body.id;
}

for (const kind of ["sqlite", "postgres"] as DbKind[]) {
  test(`${kind}: an event on one instance during another's handshake is delivered once active`, {
    skip: kind === "postgres" && !available && "PostgreSQL not reachable",
  }, async () => {
    const db = await freshDatabase(kind);
    // The handshake is answered 2.5 s late (an attempt may take 10 s): long enough for the other
    // instance to take and sign the request while the subscription is still `requested`.
    const hook = await listener({ delayFirstMs: 2500 });
    const servers: TestServer[] = [];
    try {
      const [a, b] = await twoInstances(db, { timeoutMs: 10_000, retryDelaysMs: [50] }, servers);
      const id = await subscribe(a, hook.url);
      await hook.next(); // instance A's handshake has arrived; its answer is 2.5 s away

      const pended = await call(b.url, "POST", "/fhir/Claim/$submit", {
        token: b.tokens.provider,
        body: pasBundle("SB-INST", ["62322"]),
      });
      assert.equal(pended.status, 200, pended.text);
      const requestId = pended.body.entry[0].resource.id;
      await signApproved(b.url, b.tokens.medicalDirector, requestId);
      // The case this test is about: B decided while A's handshake was still under way.
      const during = await call(b.url, "GET", `/fhir/Subscription/${id}`, {
        token: b.tokens.provider,
      });
      assert.equal(during.body.status, "requested", "the handshake ended before the decision");

      const note = await hook.next(15_000);
      const status = note.body.entry[0].resource;
      const type = status.parameter.find((p: { name: string }) => p.name === "type");
      assert.equal(type.valueCode, "event-notification");
      const cr = await notifiedClaimResponse(b.url, note, b.tokens.provider);
      assert.equal(cr.id, requestId);
      const after = await call(a.url, "GET", `/fhir/Subscription/${id}`, {
        token: a.tokens.provider,
      });
      assert.equal(after.body.status, "active");
    } finally {
      await Promise.all(servers.map((s) => s.close()));
      await hook.close();
      await db.cleanup();
    }
  });
}

for (const kind of ["sqlite", "postgres"] as DbKind[]) {
  test(`${kind}: a handshake cut short by its instance's shutdown leaves the subscription in error`, {
    skip: kind === "postgres" && !available && "PostgreSQL not reachable",
  }, async () => {
    const db = await freshDatabase(kind);
    const hook = await listener({ delayFirstMs: 5000 });
    const servers: TestServer[] = [];
    try {
      const [a, b] = await twoInstances(db, { timeoutMs: 30_000, retryDelaysMs: [] }, servers);
      const id = await subscribe(a, hook.url);
      await hook.next(); // the handshake is at the endpoint, unanswered
      await a.close();
      servers.shift();
      const after = await call(b.url, "GET", `/fhir/Subscription/${id}`, {
        token: b.tokens.provider,
      });
      assert.equal(after.body.status, "error", after.text);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
      await hook.close();
      await db.cleanup();
    }
  });
}

for (const kind of ["sqlite", "postgres"] as DbKind[]) {
  for (const when of ["at start", "by an instance already running"] as const) {
    test(`${kind}: a subscription left requested by a crashed instance is handshaken again ${when}`, {
      skip: kind === "postgres" && !available && "PostgreSQL not reachable",
    }, async () => {
      const db = await freshDatabase(kind);
      const hook = await listener();
      const where = { dataDir: db.dataDir, ...(db.databaseUrl && { databaseUrl: db.databaseUrl }) };
      let server: TestServer | undefined;
      // A running instance sweeps every 200 ms here (a minute by default).
      const start = () =>
        startFhirServer({ delivery: { sweepMs: 200 } }, undefined, { ...where, publicUrl: PUBLIC });
      try {
        if (when !== "at start") server = await start();
        await seedCrashed(where, hook.url);
        if (when === "at start") server = await start();
        const hs = await hook.next();
        const status = hs.body.entry[0].resource;
        assert.equal(
          status.parameter.find((p: { name: string }) => p.name === "type").valueCode,
          "handshake",
        );
        assert.equal(await settledStatus(where, "crashed-1"), "active");
      } finally {
        await server?.close();
        await hook.close();
        await db.cleanup();
      }
    });
  }
}

type Where = { dataDir: string; databaseUrl?: string };

/** What a crash mid-handshake leaves: `crashed-1` `requested`, its handshake started long ago, none under way. */
async function seedCrashed(where: Where, endpoint: string): Promise<void> {
  const seeded = await openFhirState<unknown, StoredSubscription>(where);
  const resource = { ...subscription(endpoint), id: "crashed-1" } as StoredSubscription["resource"];
  const long = "2026-01-01T00:00:00.000Z";
  try {
    await seeded.putSubscription(
      "crashed-1",
      "northside",
      {
        resource,
        hook: { endpoint, headers: {}, content: "id-only", orgIdentifiers: [] },
        handshakeAt: long,
      },
      long,
      "requested",
    );
  } finally {
    await seeded.close();
  }
}

/** The subscription's status once it is no longer `requested` (or after 5 s). */
async function settledStatus(where: Where, id: string): Promise<string | undefined> {
  const state = await openFhirState<unknown, StoredSubscription>(where);
  try {
    let row = await state.subscription(id);
    for (let i = 0; i < 100 && row?.status === "requested"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      row = await state.subscription(id);
    }
    return row?.status;
  } finally {
    await state.close();
  }
}
