/**
 * SPEC 4 "PostgreSQL when a URL is given, same behaviour": the FHIR state (PAS claim context,
 * Subscriptions) lives in the request store's database, so two servers sharing one PostgreSQL answer
 * for each other — a claim submitted to one is inquired on the other, a subscription made on one is
 * read, notified and deleted through the other.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fhirPlugin } from "../../src/server/fhir/index.js";
import { PostgresFhirState } from "../../src/server/fhir/state.js";
import { DEMO_USERS, type RunningServer, startServer } from "../../src/server/index.js";
import { freshDatabase, postgresAvailable, tempDir } from "../service/helpers.js";
import { reviewCodes } from "./conformance.js";
import { pasBundle } from "./fixtures.js";
import { call, library, listener, notifiedClaimResponse, signApproved } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;

const available = await postgresAvailable();

describe("FHIR state on PostgreSQL", { skip: !available && "PostgreSQL not reachable" }, () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  const otherDir = tempDir();
  let a: RunningServer;
  let b: RunningServer;
  const tokens: Record<string, string> = {};

  before(async () => {
    db = await freshDatabase("postgres");
    const start = (dataDir: string) =>
      startServer({
        port: 0,
        dataDir,
        databaseUrl: db.databaseUrl!,
        library: library(),
        quiet: true,
        rateLimit: false,
        subscriptionAllow: ["127.0.0.1"],
        plugins: [fhirPlugin({ delivery: { retryDelaysMs: [50, 100], timeoutMs: 2000 } })],
      });
    // Two servers with their own data directories, started at once (the migration lock serialises them).
    [a, b] = await Promise.all([start(db.dataDir), start(otherDir.dir)]);
    for (const [k, p] of Object.entries(DEMO_USERS)) tokens[k] = await a.ctx.auth.issue(p);
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    otherDir.remove();
    await db?.cleanup();
  });

  test("a claim submitted to one server is inquired, read and notified through the other", async () => {
    const hook = await listener();
    try {
      // Subscription created on B, visible on A.
      const sub = await call(b.url, "POST", "/fhir/Subscription", {
        token: tokens.provider,
        body: {
          resourceType: "Subscription",
          status: "requested",
          reason: "PAS decisions",
          criteria: "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic",
          channel: { type: "rest-hook", endpoint: hook.url, payload: "application/fhir+json" },
        },
      });
      assert.equal(sub.status, 201, sub.text);
      const seen = await call(a.url, "GET", `/fhir/Subscription/${sub.body.id}`, { token: tokens.provider });
      assert.equal(seen.status, 200, seen.text);
      assert.equal(seen.body.id, sub.body.id);
      // Issue 16: requested until the backport handshake reaches the endpoint, then active.
      assert.ok(["requested", "active"].includes(seen.body.status), seen.body.status);
      const handshake = await hook.next();
      assert.equal(
        handshake.body.entry[0].resource.parameter.find((p: J) => p.name === "type").valueCode,
        "handshake",
      );

      // Submitted to A (pended: open questions), inquired and read on B.
      const bundle = pasBundle("PG-1", ["62322"]);
      const r = await call(a.url, "POST", "/fhir/Claim/$submit", { token: tokens.provider, body: bundle });
      assert.equal(r.status, 200, r.text);
      const cr = r.body.entry[0].resource;
      assert.deepEqual(reviewCodes(cr.item[0]), ["A4"]);
      const requestId = cr.identifier.find((i: J) => i.system.endsWith("/request")).value;
      const inq = await call(b.url, "POST", "/fhir/Claim/$inquire", { token: tokens.provider, body: bundle });
      assert.equal(inq.status, 200, inq.text);
      assert.deepEqual(reviewCodes(inq.body.parameter[0].resource.entry[0].resource.item[0]), ["A4"]);
      const read = await call(b.url, "GET", `/fhir/ClaimResponse/${requestId}`, { token: tokens.provider });
      assert.equal(read.status, 200, read.text);
      assert.equal(read.body.id, requestId);
      // A retransmission to B is the same request.
      const again = await call(b.url, "POST", "/fhir/Claim/$submit", {
        token: tokens.provider,
        body: bundle,
      });
      assert.equal(again.status, 200, again.text);
      assert.equal(
        again.body.entry[0].resource.identifier.find((i: J) => i.system.endsWith("/request")).value,
        requestId,
      );

      // Signed on B: B finds A's claim and B's subscription, and notifies.
      await signApproved(b.url, tokens.medicalDirector, requestId);
      // Delivery is at least once: with two instances on one database a handshake may arrive twice
      // (a subscriber tells them apart by events-since-subscription-start); the event follows.
      const typeOf = (n: { body: J }) =>
        n.body.entry[0].resource.parameter.find((p: J) => p.name === "type").valueCode;
      let note = await hook.next();
      for (let i = 0; i < 5 && typeOf(note) === "handshake"; i++) note = await hook.next();
      const approved = await notifiedClaimResponse(a.url, note, tokens.provider);
      assert.deepEqual(reviewCodes(approved.item[0]), ["A1"]);
      assert.equal(approved.preAuthRef, requestId);
      assert.equal(
        note.body.entry[0].resource.parameter.find((p: J) => p.name === "events-since-subscription-start")
          .valueString,
        "1",
      );
      const inqA = await call(a.url, "POST", "/fhir/Claim/$inquire", {
        token: tokens.provider,
        body: bundle,
      });
      assert.deepEqual(reviewCodes(inqA.body.parameter[0].resource.entry[0].resource.item[0]), ["A1"]);

      // Deleted on A, gone on B.
      const del = await call(a.url, "DELETE", `/fhir/Subscription/${sub.body.id}`, {
        token: tokens.provider,
      });
      assert.equal(del.status, 204);
      const gone = await call(b.url, "GET", `/fhir/Subscription/${sub.body.id}`, { token: tokens.provider });
      assert.equal(gone.status, 404);

      // Nothing went to SQLite.
      assert.ok(!existsSync(join(db.dataDir, "fhir.db")));
      assert.ok(!existsSync(join(otherDir.dir, "fhir.db")));
    } finally {
      await hook.close();
    }
  });

  test("event numbers are taken atomically across connections; the newest claim answers an identifier", async () => {
    const [s1, s2] = await Promise.all([
      PostgresFhirState.open<{ n: number }, { x: number }>(db.databaseUrl!),
      PostgresFhirState.open<{ n: number }, { x: number }>(db.databaseUrl!),
    ]);
    try {
      await s1.putSubscription("sub-atomic", "org-x", { x: 1 }, "2026-01-01T00:00:00.000Z");
      const numbers = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? s1 : s2).nextEvent("sub-atomic")),
      );
      assert.deepEqual(
        numbers.sort((x, y) => x - y),
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      assert.equal(await s2.nextEvent("no-such-subscription"), 0);

      const at = "2026-01-01T00:00:00.000Z";
      await s1.putClaim("org-x", "k1", ["sys|A", "sys|B"], { n: 1 }, at);
      await s2.putClaim("org-x", "k2", ["sys|B"], { n: 2 }, at);
      // Same key again: the context is replaced, identifiers already there are kept once.
      await s1.putClaim("org-x", "k1", ["sys|A"], { n: 3 }, at);
      assert.equal((await s2.claimByIdentifier("org-x", ["sys|B"]))?.context.n, 2, "ties: the later insert");
      assert.equal((await s2.claimByIdentifier("org-x", ["sys|A"]))?.context.n, 3);
      assert.equal(await s2.claimByIdentifier("org-y", ["sys|A"]), undefined);
      await s2.linkRequest("org-x", "k1", "req-1");
      assert.equal((await s1.claimByRequest("req-1"))?.key, "k1");
      // Issue 13: the context and its request in one write; rewriting the context keeps the request.
      await s1.putClaim("org-x", "k3", ["sys|C"], { n: 4 }, at, "req-3");
      assert.equal((await s2.claimByRequest("req-3"))?.context.n, 4);
      await s2.putClaim("org-x", "k3", ["sys|C"], { n: 5 }, at);
      assert.equal((await s1.claimByIdentifier("org-x", ["sys|C"]))?.requestId, "req-3");
    } finally {
      await Promise.all([s1.close(), s2.close()]);
    }
  });
});
