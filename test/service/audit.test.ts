/**
 * Issue 13: "reads of PHI are not audited". Every read of a request (JSON API, letter, reproduce,
 * FHIR ClaimResponse and PAS $inquire) is recorded with who, what and when, and only an admin can
 * query the trail (`GET /api/audit`). On SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AUDIT_MAX_PENDING, AuditTrail } from "../../src/server/audit.js";
import { fhirPlugin } from "../../src/server/fhir/index.js";
import { DEMO_USERS } from "../../src/server/index.js";
import type { ReadEntry, ReadQuery, ReadRecord } from "../../src/store/index.js";
import { openStore } from "../../src/store/index.js";
import { pasBundle } from "../fhir/fixtures.js";
import { call, DATABASES, freshDatabase, loadCase, postgresAvailable, startTest } from "./helpers.js";

const pgUp = await postgresAvailable();

for (const kind of DATABASES) {
  test(`${kind}: reads of a request are on record; only an admin reads the trail`, {
    skip: kind === "postgres" && !pgUp && "PostgreSQL not reachable",
  }, async () => {
    const s = await startTest(kind);
    const t = s.tokens;
    try {
      const sub = await call(s.url, "POST", "/api/requests", {
        token: t.provider,
        body: loadCase("trial-nonmalignant-open-questions"),
      });
      assert.equal(sub.status, 201, sub.text);
      const id = sub.body.id as string;
      const other = await call(s.url, "POST", "/api/requests", {
        token: t.provider,
        body: loadCase("trial-malignant-met"),
      });
      const otherId = other.body.id as string;
      const before = new Date().toISOString();
      assert.equal((await call(s.url, "GET", `/api/requests/${id}`, { token: t.reviewer })).status, 200);
      assert.equal((await call(s.url, "GET", `/api/requests/${id}`, { token: t.provider })).status, 200);
      assert.equal((await call(s.url, "GET", `/api/requests/${otherId}`, { token: t.admin })).status, 200);
      // Not found for another organization: nothing was read, nothing recorded.
      assert.equal((await call(s.url, "GET", `/api/requests/${id}`, { token: t.otherProvider })).status, 404);
      const rep = await call(s.url, "POST", `/api/requests/${id}/reproduce`, { token: t.reviewer });
      assert.equal(rep.status, 200, rep.text);
      const letter = await call(s.url, "GET", `/api/requests/${otherId}/letter`, { token: t.provider });
      assert.equal(letter.status, 200, letter.text);

      const trail = await call(s.url, "GET", `/api/audit?request=${id}`, { token: t.admin });
      assert.equal(trail.status, 200, trail.text);
      const rows = trail.body.entries as ReadEntry[];
      assert.deepEqual(
        rows.map((r) => [r.sub, r.role, r.org ?? null, r.requestId, r.action]),
        [
          ["rn-chen", "reviewer", null, id, "request.reproduce"],
          ["dr-alvarez", "provider", "northside", id, "request.read"],
          ["rn-chen", "reviewer", null, id, "request.read"],
        ],
        "newest first; the other organization's 404 is not a read",
      );
      assert.ok(rows.every((r) => r.at >= before.slice(0, 19) && typeof r.seq === "number"));
      // No names: subjects and roles only.
      assert.ok(!trail.text.includes(DEMO_USERS.reviewer!.name));

      const byLetter = await call(s.url, "GET", `/api/audit?request=${otherId}`, { token: t.admin });
      assert.deepEqual(
        (byLetter.body.entries as ReadEntry[]).map((r) => [r.sub, r.action]),
        [
          ["dr-alvarez", "letter.read"],
          ["admin", "request.read"],
        ],
      );
      const byPrincipal = await call(s.url, "GET", "/api/audit?principal=rn-chen&limit=1", {
        token: t.admin,
      });
      assert.equal(byPrincipal.body.entries.length, 1);
      assert.equal(byPrincipal.body.entries[0].action, "request.reproduce");
      const future = await call(s.url, "GET", "/api/audit?since=2999-01-01T00:00:00Z", { token: t.admin });
      assert.equal(future.body.count, 0);
      const since = await call(s.url, "GET", `/api/audit?since=${encodeURIComponent(before)}`, {
        token: t.admin,
      });
      assert.equal(since.body.count, 5);

      // Admin only.
      for (const who of ["reviewer", "medicalDirector", "provider"] as const) {
        const r = await call(s.url, "GET", "/api/audit", { token: t[who] });
        assert.equal(r.status, 403, `${who}: ${r.text}`);
      }
      assert.equal((await call(s.url, "GET", "/api/audit")).status, 401);
      // Bad filters are 400s naming the parameter, in linear time.
      for (const q of [
        "since=yesterday",
        "limit=0",
        "limit=5000",
        "colour=red",
        `since=${"1".repeat(8_000)}`,
      ]) {
        const r = await call(s.url, "GET", `/api/audit?${q}`, { token: t.admin });
        assert.equal(r.status, 400, `${q.slice(0, 40)}: ${r.text.slice(0, 200)}`);
      }
      const doc = await call(s.url, "GET", "/openapi.json");
      assert.ok(doc.body.paths["/api/audit"]?.get, "documented in the OpenAPI document");
    } finally {
      await s.close();
    }
  });
}

test("FHIR reads are on record: ClaimResponse read and PAS $inquire", async () => {
  const s = await startTest("sqlite", { plugins: [fhirPlugin()] });
  const t = s.tokens;
  try {
    const bundle = pasBundle("AUDIT-1", ["62322"]);
    const r = await call(s.url, "POST", "/fhir/Claim/$submit", {
      token: t.provider,
      body: bundle,
      headers: { "content-type": "application/fhir+json" },
    });
    assert.equal(r.status, 200, r.text);
    const cr = r.body.entry[0].resource;
    const id = cr.identifier.find((i: { system: string }) => i.system.endsWith("/request")).value as string;
    const read = await call(s.url, "GET", `/fhir/ClaimResponse/${id}`, { token: t.reviewer });
    assert.equal(read.status, 200, read.text);
    const inq = await call(s.url, "POST", "/fhir/Claim/$inquire", {
      token: t.provider,
      body: bundle,
      headers: { "content-type": "application/fhir+json" },
    });
    assert.equal(inq.status, 200, inq.text);
    const trail = await call(s.url, "GET", `/api/audit?request=${id}`, { token: t.admin });
    assert.deepEqual(
      (trail.body.entries as ReadEntry[]).map((e) => [e.sub, e.action]),
      [
        ["dr-alvarez", "fhir.pas.inquire"],
        ["rn-chen", "fhir.claimresponse.read"],
      ],
    );
  } finally {
    await s.close();
  }
});

test("the buffered trail: written on flush and close, kept while the database fails, bounded", async () => {
  const stored: ReadRecord[] = [];
  let failing = true;
  const warnings: Record<string, unknown>[] = [];
  const store = {
    async recordReads(rows: readonly ReadRecord[]) {
      if (failing) throw new Error("database down");
      stored.push(...rows);
    },
    async listReads(_q: ReadQuery): Promise<ReadEntry[]> {
      return stored.map((r, i) => ({ ...r, seq: i + 1 }));
    },
  };
  const trail = new AuditTrail(
    store,
    () => new Date("2026-03-01T12:00:00Z"),
    (_m, d) => warnings.push(d),
  );
  const who = DEMO_USERS.reviewer!;
  trail.read(who, "r1", "request.read");
  await trail.flush();
  assert.equal(stored.length, 0);
  assert.equal(warnings.length, 1);
  assert.deepEqual(Object.keys(warnings[0]!).sort(), ["error", "lost", "pending"], "counts only, no PHI");
  failing = false;
  trail.readMany(who, ["r2", "r3"], "ui.requests.list");
  await trail.close();
  assert.deepEqual(
    stored.map((r) => r.requestId),
    ["r1", "r2", "r3"],
    "the failed batch was kept and written first",
  );
  // After close nothing is accepted silently: it is counted as lost.
  trail.read(who, "r4", "request.read");
  assert.equal(trail.lost, 1);
  // Bounded while the database fails.
  failing = true;
  const t2 = new AuditTrail(store, undefined, () => {});
  t2.readMany(
    who,
    Array.from({ length: AUDIT_MAX_PENDING + 10 }, (_, i) => `x${i}`),
    "ui.requests.list",
  );
  await t2.flush();
  assert.equal(t2.lost, 10);
  failing = false;
  await t2.close();
});

for (const kind of DATABASES) {
  test(`${kind}: an entry's detail (a publication's seal) is kept; entries without one have none`, {
    skip: kind === "postgres" && !pgUp && "PostgreSQL not reachable",
  }, async () => {
    const db = await freshDatabase(kind);
    const store = await openStore({
      dataDir: db.dataDir,
      ...(db.databaseUrl && { databaseUrl: db.databaseUrl }),
    });
    try {
      const at = "2026-03-01T00:00:00.000Z";
      await store.recordReads!([
        {
          at,
          sub: "Dr. Ada",
          role: "publisher",
          requestId: "X@1",
          action: "library.publish",
          detail: "a".repeat(64),
        },
        { at, sub: "u1", role: "reviewer", requestId: "X@1", action: "request.read" },
      ]);
      const got = await store.listReads!({ requestId: "X@1", limit: 10 });
      assert.deepEqual(
        got.map((e) => [e.action, e.detail]),
        [
          ["request.read", undefined],
          ["library.publish", "a".repeat(64)],
        ],
      );
    } finally {
      await store.close();
      await db.cleanup();
    }
  });
}
