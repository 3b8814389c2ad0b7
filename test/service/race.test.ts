/**
 * Issue 4 / SPEC 4: two server processes on one PostgreSQL database share the queue, and racing
 * reviewers never sign one request twice — exactly one signature wins, the other gets 409.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Auth } from "../../src/server/auth.js";
import { DEMO_USERS } from "../../src/server/index.js";
import { call, freshDatabase, JWT_SECRET, loadCase, postgresAvailable, spawnServer } from "./helpers.js";

const auth = new Auth(new TextEncoder().encode(JWT_SECRET));
const N = 40;

test("two processes on one PostgreSQL: shared queue, no decision signed twice", async (t) => {
  if (!(await postgresAvailable())) return t.skip("PostgreSQL not reachable");
  const db = await freshDatabase("postgres");
  const args = ["--data", db.dataDir, "--database-url", db.databaseUrl!, "--no-rate-limit"];
  const [a, b] = await Promise.all([spawnServer(args), spawnServer(args)]);
  try {
    const provider = await auth.issue(DEMO_USERS.provider!);
    const reviewer = await auth.issue(DEMO_USERS.reviewer!);
    const md = await auth.issue(DEMO_USERS.medicalDirector!);
    // Issue 14: a denial is a medical director's; a second one races the first.
    const md2 = await auth.issue({ sub: "md-evans", name: "Eli Evans, MD", role: "medical-director" });

    // Submits spread over both processes.
    const ids = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const r = await call(i % 2 ? a.url : b.url, "POST", "/api/requests", {
          token: provider,
          body: loadCase("trial-nonmalignant-not-weaned"),
        });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.body.status, "pended");
        return r.body.id as string;
      }),
    );
    // One queue: each process lists every request, whichever received it.
    for (const s of [a, b]) {
      const q = await call(s.url, "GET", "/api/queue", { token: reviewer });
      const inQueue = new Set((q.body as { id: string }[]).map((x) => x.id));
      assert.ok(
        ids.every((id) => inQueue.has(id)),
        "both processes see the whole queue",
      );
    }

    // Race: for every request, a medical director on A and another on B sign at the same moment.
    const results = await Promise.all(
      ids.map(async (id) => {
        const [ra, rb] = await Promise.all([
          call(a.url, "POST", `/api/requests/${id}/decision`, {
            token: md2,
            body: {
              outcome: "denied",
              reason: "Opioids not weaned before the trial.",
              criteria: ["I.A.2.g"],
            },
          }),
          call(b.url, "POST", `/api/requests/${id}/decision`, {
            token: md,
            body: {
              outcome: "approved",
              reason: "Approved on medical-director review.",
              overrideReason: "Weaning documented in the chart after submission.",
            },
          }),
        ]);
        return {
          id,
          statuses: [ra.status, rb.status].sort(),
          winner: ra.status === 200 ? "md-evans" : "md-diaz",
        };
      }),
    );
    for (const r of results) assert.deepEqual(r.statuses, [200, 409], `request ${r.id}: ${r.statuses}`);
    const winners = new Set(results.map((r) => r.winner));

    // The stored record has exactly one signature, and it is the winner's.
    for (const r of results) {
      const v = await call(a.url, "GET", `/api/requests/${r.id}`, { token: reviewer });
      const signed = (v.body.review.events as { action: string }[]).filter((e) => e.action === "signed");
      assert.equal(signed.length, 1);
      assert.equal(v.body.decision.signedBy.sub, r.winner);
    }
    const q = await call(b.url, "GET", "/api/queue", { token: reviewer });
    assert.ok(
      !(q.body as { id: string }[]).some((x) => ids.includes(x.id)),
      "signed requests left the queue",
    );
    t.diagnostic(`winners: ${[...winners].join(", ")}`);

    // Concurrent answers on the same request from both processes: one wins, the other gets 409 or
    // applies after it — never a lost update (each appended determination is on the latest case).
    const sub = await call(a.url, "POST", "/api/requests", {
      token: provider,
      body: loadCase("trial-nonmalignant-open-questions"),
    });
    const id = sub.body.id as string;
    const [x, y] = await Promise.all([
      call(a.url, "POST", `/api/requests/${id}/answers`, {
        token: reviewer,
        body: { answers: { "I.A.2.g": true } },
      }),
      call(b.url, "POST", `/api/requests/${id}/answers`, {
        token: md,
        body: { answers: { "I.A.2.h": true } },
      }),
    ]);
    const codes = [x.status, y.status].sort();
    assert.ok(codes[0] === 200 && (codes[1] === 200 || codes[1] === 409), String(codes));
    const v = await call(a.url, "GET", `/api/requests/${id}`, { token: reviewer });
    assert.equal(v.body.review.determinations.length, 1 + codes.filter((c) => c === 200).length);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await db.cleanup();
  }
});
