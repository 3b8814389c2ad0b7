/**
 * Issue 16, PAS Subscriptions in the R4 Subscriptions Backport form (PAS IntermediaryCapabilities:
 * Subscription create, update, delete on the PAS topic):
 * - create answers `requested` and sends a `handshake` notification (no event, no PHI) to the
 *   endpoint; answered, the subscription turns `active`; unanswered, `error` ("delivery failed");
 * - update (PUT) re-vets the body as a create does, keeps the id, goes back to `requested` and
 *   handshakes the (new) endpoint; `status: off` turns it off; another organization's is 404;
 * - `$status` (GET or POST, `$` plain or percent-encoded) answers a searchset Bundle with the
 *   SubscriptionStatus (`query-status`): status, topic, events since start;
 * - notifications stay id-only (issue 13).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { openFhirState } from "../../src/server/fhir/state.js";
import { handshakeBundle, statusBundle } from "../../src/server/fhir/subscriptions.js";
import { freshDatabase, postgresAvailable } from "../service/helpers.js";
import { reviewCodes } from "./conformance.js";
import { pasBundle } from "./fixtures.js";
import {
  call,
  listener,
  notifiedClaimResponse,
  signApproved,
  startFhirServer,
  type TestServer,
} from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;

const TOPIC = "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic";
const STATUS_PROFILE =
  "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4";

const subscription = (endpoint: string, extra: object = {}) => ({
  resourceType: "Subscription",
  status: "requested",
  reason: "PAS decisions",
  criteria: TOPIC,
  channel: { type: "rest-hook", endpoint, payload: "application/fhir+json" },
  ...extra,
});

/** The parameter `name` of a SubscriptionStatus. */
const param = (status: J, name: string) => status.parameter.find((p: J) => p.name === name);

describe("backport bundles (pure)", () => {
  test("the handshake: history Bundle, one SubscriptionStatus of type handshake, requested, 0 events", () => {
    const b = handshakeBundle("s1", { baseUrl: "https://payer.example", now: "2026-01-01T00:00:00Z" }) as J;
    assert.equal(b.type, "history");
    assert.equal(b.entry.length, 1);
    const st = b.entry[0].resource;
    assert.deepEqual(st.meta.profile, [STATUS_PROFILE]);
    assert.deepEqual(
      st.parameter.map((p: J) => [
        p.name,
        p.valueReference?.reference ?? p.valueCanonical ?? p.valueCode ?? p.valueString,
      ]),
      [
        ["subscription", "https://payer.example/fhir/Subscription/s1"],
        ["topic", TOPIC],
        ["status", "requested"],
        ["type", "handshake"],
        ["events-since-subscription-start", "0"],
      ],
    );
    assert.deepEqual(b.entry[0].request, {
      method: "GET",
      url: "https://payer.example/fhir/Subscription/s1/$status",
    });
  });

  test("$status: searchset Bundle, query-status, the current status, events and the one error text", () => {
    const b = statusBundle(
      { id: "s2", status: "error", error: "delivery failed", events: 3 },
      { baseUrl: "https://payer.example", now: "2026-01-01T00:00:00Z" },
    ) as J;
    assert.equal(b.type, "searchset");
    assert.equal(b.total, 1);
    assert.deepEqual(b.entry[0].search, { mode: "match" });
    const st = b.entry[0].resource;
    assert.equal(param(st, "type").valueCode, "query-status");
    assert.equal(param(st, "status").valueCode, "error");
    assert.equal(param(st, "events-since-subscription-start").valueString, "3");
    assert.deepEqual(param(st, "error").valueCodeableConcept, { text: "delivery failed" });
    assert.equal(param(st, "notification-event"), undefined);
  });
});

describe("Subscriptions over HTTP (issue 16)", () => {
  let s: TestServer;
  before(async () => {
    s = await startFhirServer();
  });
  after(() => s.close());
  const get = (path: string, token = s.tokens.provider) => call(s.url, "GET", path, { token });
  const untilStatus = async (id: string, want: string) => {
    let got = "";
    for (let i = 0; i < 100 && got !== want; i++) {
      got = (await get(`/fhir/Subscription/${id}`)).body.status;
      if (got !== want) await new Promise((r) => setTimeout(r, 50));
    }
    return got;
  };

  test("create: requested, a handshake to the endpoint, then active; a dead endpoint: error", async () => {
    const hook = await listener();
    try {
      const r = await call(s.url, "POST", "/fhir/Subscription", {
        token: s.tokens.provider,
        body: subscription(hook.url, {
          channel: { ...subscription(hook.url).channel, header: ["Authorization: Bearer x"] },
        }),
      });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.status, "requested");
      const hs = await hook.next();
      assert.equal(hs.headers.authorization, "Bearer x");
      const st = hs.body.entry[0].resource;
      assert.equal(param(st, "type").valueCode, "handshake");
      assert.equal(
        param(st, "subscription").valueReference.reference,
        `${s.url}/fhir/Subscription/${r.body.id}`,
      );
      assert.equal(hs.body.entry.length, 1, "a handshake carries no focus");
      assert.equal(await untilStatus(r.body.id, "active"), "active");

      const dead = await call(s.url, "POST", "/fhir/Subscription", {
        token: s.tokens.provider,
        body: subscription("http://127.0.0.1:1/none"),
      });
      assert.equal(dead.status, 201);
      assert.equal(await untilStatus(dead.body.id, "error"), "error");
    } finally {
      await hook.close();
    }
  });

  test("$status: GET and POST, plain or encoded; the owner only; counts events", async () => {
    const hook = await listener();
    try {
      const r = await call(s.url, "POST", "/fhir/Subscription", {
        token: s.tokens.provider,
        body: subscription(hook.url),
      });
      const id = r.body.id;
      await hook.next();
      await untilStatus(id, "active");
      for (const [method, path] of [
        ["GET", `/fhir/Subscription/${id}/$status`],
        ["POST", `/fhir/Subscription/${id}/$status`],
        ["GET", `/fhir/Subscription/${id}/%24status`],
      ] as const) {
        const q = await call(s.url, method, path, {
          token: s.tokens.provider,
          ...(method === "POST" && { body: { resourceType: "Parameters" } }),
        });
        assert.equal(q.status, 200, `${method} ${path}: ${q.text}`);
        assert.equal(q.body.type, "searchset");
        const st = q.body.entry[0].resource;
        assert.equal(param(st, "type").valueCode, "query-status");
        assert.equal(param(st, "status").valueCode, "active");
        assert.equal(param(st, "topic").valueCanonical, TOPIC);
        assert.equal(param(st, "events-since-subscription-start").valueString, "0");
      }
      const other = await get(`/fhir/Subscription/${id}/$status`, s.tokens.otherProvider);
      assert.equal(other.status, 404);
      assert.equal(other.body.resourceType, "OperationOutcome");
      const unknownOp = await get(`/fhir/Subscription/${id}/$events`);
      assert.equal(unknownOp.status, 404);
      assert.equal(unknownOp.body.resourceType, "OperationOutcome");

      // A decision on one of the org's requests is an event: counted, and notified id-only.
      const pended = await call(s.url, "POST", "/fhir/Claim/$submit", {
        token: s.tokens.provider,
        body: pasBundle("SB-1", ["62322"]),
      });
      const requestId = pended.body.entry[0].resource.id;
      await signApproved(s.url, s.tokens.medicalDirector, requestId);
      const note = await hook.next();
      const cr = await notifiedClaimResponse(s.url, note, s.tokens.provider);
      assert.deepEqual(reviewCodes(cr.item[0]), ["A1"]);
      const after1 = await get(`/fhir/Subscription/${id}/$status`);
      assert.equal(param(after1.body.entry[0].resource, "events-since-subscription-start").valueString, "1");
    } finally {
      await hook.close();
    }
  });

  test("an event during the handshake waits for it, and is delivered once the subscription is active", async () => {
    const hook = await listener({ delayFirstMs: 800 });
    try {
      const r = await call(s.url, "POST", "/fhir/Subscription", {
        token: s.tokens.provider,
        body: subscription(hook.url),
      });
      assert.equal(r.body.status, "requested");
      await hook.next(); // the handshake has arrived; its answer is 800 ms away
      const pended = await call(s.url, "POST", "/fhir/Claim/$submit", {
        token: s.tokens.provider,
        body: pasBundle("SB-HS", ["62322"]),
      });
      const requestId = pended.body.entry[0].resource.id;
      await signApproved(s.url, s.tokens.medicalDirector, requestId);
      // Decided while the subscription was still `requested`: not dropped, sent after the handshake.
      const note = await hook.next();
      assert.equal(param(note.body.entry[0].resource, "type").valueCode, "event-notification");
      const cr = await notifiedClaimResponse(s.url, note, s.tokens.provider);
      assert.equal(cr.id, requestId);
    } finally {
      await hook.close();
    }
  });

  test("$status at type level: the caller's subscriptions, filtered by id and status; GET, POST, encoded", async () => {
    const hook = await listener();
    try {
      const made: string[] = [];
      for (const endpoint of [hook.url, "http://127.0.0.1:1/none"]) {
        const r = await call(s.url, "POST", "/fhir/Subscription", {
          token: s.tokens.otherProvider,
          body: subscription(endpoint),
        });
        assert.equal(r.status, 201, r.text);
        made.push(r.body.id);
      }
      const [live, dead] = made as [string, string];
      await hook.next();
      const other = s.tokens.otherProvider;
      const until = async (id: string, want: string) => {
        for (let i = 0; i < 100; i++) {
          if ((await get(`/fhir/Subscription/${id}`, other)).body.status === want) return;
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.fail(`${id} never ${want}`);
      };
      await until(live, "active");
      await until(dead, "error");
      const statusOfEach = (b: J) =>
        Object.fromEntries(
          b.entry.map((e: J) => [
            param(e.resource, "subscription").valueReference.reference.split("/").at(-1),
            param(e.resource, "status").valueCode,
          ]),
        );
      const all = await get("/fhir/Subscription/$status", other);
      assert.equal(all.status, 200, all.text);
      assert.equal(all.body.type, "searchset");
      // Only this organization's: every subscription another test made under `provider` is absent.
      assert.deepEqual(statusOfEach(all.body), { [live]: "active", [dead]: "error" });
      const encoded = await get(`/fhir/Subscription/%24status?status=error`, other);
      assert.equal(encoded.status, 200, encoded.text);
      assert.deepEqual(statusOfEach(encoded.body), { [dead]: "error" });
      const byId = await call(s.url, "POST", "/fhir/Subscription/$status", {
        token: other,
        body: { resourceType: "Parameters", parameter: [{ name: "id", valueString: live }] },
      });
      assert.equal(byId.status, 200, byId.text);
      assert.deepEqual(statusOfEach(byId.body), { [live]: "active" });
      const none = await call(s.url, "POST", "/fhir/Subscription/%24status", {
        token: other,
        body: { resourceType: "Parameters", parameter: [{ name: "id", valueString: "nope" }] },
      });
      assert.equal(none.status, 200, none.text);
      assert.deepEqual([none.body.total, none.body.entry], [0, undefined]);
      const bad = await call(s.url, "POST", "/fhir/Subscription/$status", {
        token: other,
        body: { resourceType: "Parameters", parameter: [{ name: "id", valueInteger: 5 }] },
      });
      assert.equal(bad.status, 400, bad.text);
      assert.equal(bad.body.resourceType, "OperationOutcome");
      assert.equal((await get("/fhir/Subscription/$status", "")).status, 401);
    } finally {
      await hook.close();
    }
  });

  test("update: vetted like a create, same id, handshake to the new endpoint; off turns it off", async () => {
    const first = await listener();
    const second = await listener();
    try {
      const r = await call(s.url, "POST", "/fhir/Subscription", {
        token: s.tokens.provider,
        body: subscription(first.url),
      });
      const id = r.body.id;
      await first.next();
      await untilStatus(id, "active");

      const put = (body: unknown, token = s.tokens.provider) =>
        call(s.url, "PUT", `/fhir/Subscription/${id}`, { token, body });
      // The id must be the URL's; the endpoint is vetted (issue 13); another org cannot touch it.
      const wrongId = await put({ ...subscription(second.url), id: "other" });
      assert.equal(wrongId.status, 400, wrongId.text);
      assert.deepEqual(wrongId.body.issue[0].expression, ["Subscription.id"]);
      const badEndpoint = await put({ ...subscription("http://10.0.0.7/hook"), id });
      assert.equal(badEndpoint.status, 400, badEndpoint.text);
      assert.deepEqual(badEndpoint.body.issue[0].expression, ["Subscription.channel.endpoint"]);
      const notMine = await put({ ...subscription(second.url), id }, s.tokens.otherProvider);
      assert.equal(notMine.status, 404);
      const reviewer = await put({ ...subscription(second.url), id }, s.tokens.reviewer);
      assert.equal(reviewer.status, 403);
      // Wrong-typed bodies are 400 OperationOutcomes, never 500 (issue 13).
      for (const body of [
        [],
        "x",
        { ...subscription(second.url), id, channel: 5 },
        { ...subscription(second.url), id, status: 7 },
      ]) {
        const bad = await put(body);
        assert.equal(bad.status, 400, `${JSON.stringify(body).slice(0, 60)}: ${bad.text}`);
        assert.equal(bad.body.resourceType, "OperationOutcome");
      }

      const moved = await put({ ...subscription(second.url), id, reason: "moved" });
      assert.equal(moved.status, 200, moved.text);
      assert.equal(moved.body.id, id);
      assert.equal(moved.body.status, "requested");
      assert.equal(moved.body.channel.endpoint, second.url);
      assert.equal(moved.body.reason, "moved");
      const hs = await second.next();
      assert.equal(param(hs.body.entry[0].resource, "type").valueCode, "handshake");
      assert.equal(await untilStatus(id, "active"), "active");
      assert.equal(first.received.length, 1, "only the create's handshake went to the old endpoint");

      const off = await put({ ...subscription(second.url), id, status: "off" });
      assert.equal(off.status, 200, off.text);
      assert.equal(off.body.status, "off");
      assert.equal((await get(`/fhir/Subscription/${id}`)).status, 404);
      assert.equal((await put({ ...subscription(second.url), id })).status, 404);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe("subscription rows (issue 16): requested, update, no revival once off", () => {
  for (const kind of ["sqlite", "postgres"] as const) {
    test(`${kind}`, async (t) => {
      if (kind === "postgres" && !(await postgresAvailable())) {
        t.skip("PostgreSQL not reachable");
        return;
      }
      const db = await freshDatabase(kind);
      const state = await openFhirState<unknown, { v: number }>({
        dataDir: db.dataDir,
        ...(db.databaseUrl && { databaseUrl: db.databaseUrl }),
      });
      try {
        const at = "2026-01-01T00:00:00.000Z";
        await state.putSubscription("s1", "org", { v: 1 }, at, "requested");
        assert.equal((await state.subscription("s1"))?.status, "requested");
        await state.putSubscription("s2", "org", { v: 1 }, at);
        assert.equal((await state.subscription("s2"))?.status, "active", "active unless told");
        await state.setSubscriptionStatus("s1", "error", "delivery failed");
        assert.equal(await state.updateSubscription("s1", { v: 2 }, "requested"), true);
        const s1 = await state.subscription("s1");
        assert.deepEqual([s1?.status, s1?.error, s1?.resource.v], ["requested", undefined, 2]);
        assert.equal(await state.updateSubscription("nope", { v: 1 }, "requested"), false);
        assert.equal(await state.deleteSubscription("s1"), true);
        // A delivery that ends after the delete does not bring it back, nor does an update.
        await state.setSubscriptionStatus("s1", "active");
        assert.equal((await state.subscription("s1"))?.status, "off");
        assert.equal(await state.updateSubscription("s1", { v: 3 }, "requested"), false);
        assert.equal((await state.subscription("s1"))?.resource.v, 2);
      } finally {
        await state.close();
        await db.cleanup();
      }
    });
  }
});
