/**
 * Issue 13: a database created by the schema before it (which stored every determination's JSON and a
 * second copy of the case) still opens, on SQLite and PostgreSQL: the store adds its new columns, a
 * request stored before reads back with its stored bytes, `reproduce` compares against them, an
 * idempotent replay of it is recognised, and new requests are stored the new way beside it.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { loadLibrary } from "../../src/library/index.js";
import { canonicalJson, MedpolicyError } from "../../src/model/index.js";
import { libraryEngine } from "../../src/server/engine.js";
import { DEMO_USERS } from "../../src/server/index.js";
import { RequestService } from "../../src/server/service.js";
import { encodeCase } from "../../src/store/case-codec.js";
import { openStore } from "../../src/store/index.js";
import { UNINDEXED_SQL } from "../../src/store/rows.js";
import { DATABASES, freshDatabase, loadCase, postgresAvailable } from "./helpers.js";

const OLD_SCHEMA = readFileSync(new URL("./fixtures/schema-before-issue-13.sql", import.meta.url), "utf8");
const lib = loadLibrary();
const engine = libraryEngine(lib);
const provider = DEMO_USERS.provider!;
const reviewer = DEMO_USERS.reviewer!;

/** A request as the earlier schema stored it: both copies of the case, the determination's bytes. */
function legacyRows() {
  const c = loadCase("trial-nonmalignant-not-weaned");
  (c.member as Record<string, unknown>).id = "M-LEGACY-7";
  const caseJson = canonicalJson(c);
  const today = "2026-02-20";
  const determination = engine.decide(engine.parseCase(JSON.parse(caseJson)), { today });
  const json = canonicalJson(determination);
  const actor = JSON.stringify({
    sub: provider.sub,
    name: provider.name,
    role: provider.role,
    org: provider.org,
  });
  const at = "2026-02-20T10:00:00.000Z";
  return {
    caseJson,
    json,
    request: [
      "legacy-1",
      provider.org,
      "legacy-key",
      caseJson,
      at,
      0,
      "2026-02-27T10:00:00.000Z",
      "awaiting-review",
      0,
      determination.outcome,
      null,
      null,
      1,
    ],
    determination: [
      "legacy-1",
      1,
      at,
      "submit",
      actor,
      caseJson,
      today,
      determination.policy?.id ?? null,
      determination.policy?.version ?? null,
      determination.policy?.hash ?? null,
      determination.engine,
      determination.outcome,
      json,
    ],
    event: ["legacy-1", 1, at, "submitted", actor, JSON.stringify({ engineOutcome: determination.outcome })],
  };
}

const INSERTS = {
  request:
    "INSERT INTO requests (id, org, idem_key, submitted_case, received_at, expedited, due_at, status, md_only, engine_outcome, decision, decided_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  determination:
    "INSERT INTO determinations (request_id, seq, created_at, trigger, actor, case_json, today, policy_id, policy_version, policy_hash, engine, outcome, determination) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  event: "INSERT INTO events (request_id, seq, at, action, actor, detail) VALUES (?, ?, ?, ?, ?, ?)",
};

const numbered = (sql: string) => {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
};

/** Creates the earlier schema with one legacy request in the fresh database. */
async function seedOld(
  dataDir: string,
  databaseUrl: string | undefined,
  rows: ReturnType<typeof legacyRows>,
) {
  if (!databaseUrl) {
    const db = new Database(join(dataDir, "medpolicy.db"));
    try {
      db.exec(OLD_SCHEMA);
      db.prepare(INSERTS.request).run(...rows.request);
      db.prepare(INSERTS.determination).run(...rows.determination);
      db.prepare(INSERTS.event).run(...rows.event);
    } finally {
      db.close();
    }
    return;
  }
  const u = new URL(databaseUrl);
  const schema = u.searchParams.get("schema")!;
  u.searchParams.delete("schema");
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.query(`SET search_path = ${schema}`);
    await c.query(OLD_SCHEMA);
    await c.query(numbered(INSERTS.request), rows.request);
    await c.query(numbered(INSERTS.determination), rows.determination);
    await c.query(numbered(INSERTS.event), rows.event);
  } finally {
    await c.end();
  }
}

for (const kind of DATABASES) {
  test(`a database of the schema before issue 13 opens and reads as before (${kind})`, async (t) => {
    if (kind === "postgres" && !(await postgresAvailable())) return t.skip("PostgreSQL not reachable");
    const db = await freshDatabase(kind);
    const rows = legacyRows();
    await seedOld(db.dataDir, db.databaseUrl, rows);
    const store = await openStore({
      dataDir: db.dataDir,
      ...(db.databaseUrl && { databaseUrl: db.databaseUrl }),
    });
    const service = new RequestService(store, engine, () => new Date("2026-03-02T12:00:00Z"));
    try {
      const old = await service.get("legacy-1", reviewer);
      assert.equal(old.determinations[0]!.determinationJson, rows.json, "the stored bytes, as stored");
      assert.equal(old.determinations[0]!.caseJson, rows.caseJson);
      const rep = await service.reproduce("legacy-1", reviewer);
      assert.equal(rep.identical, true);
      // Issue 14: indexed when the database was opened, so the queue's search finds it by member id.
      const found = await service.queue({ q: "m-legacy-7" });
      assert.deepEqual(
        found.map((r) => [r.id, r.index?.memberId]),
        [["legacy-1", "M-LEGACY-7"]],
      );

      // The replay of the legacy key with the same case is the legacy request; with another, a conflict.
      const replay = await service.submit(JSON.parse(rows.caseJson), provider, {
        idempotencyKey: "legacy-key",
      });
      assert.equal(replay.created, false);
      assert.equal(replay.record.id, "legacy-1");
      await assert.rejects(
        service.submit(loadCase("trial-malignant-met"), provider, { idempotencyKey: "legacy-key" }),
        (e: unknown) => e instanceof MedpolicyError && e.kind === "conflict",
      );

      // New requests beside it: stored the new way, read back (recomputed) identical.
      const fresh = await service.submit(loadCase("trial-malignant-met"), provider, {
        idempotencyKey: "new-key",
      });
      assert.equal(fresh.created, true);
      const again = await service.get(fresh.record.id, reviewer);
      assert.equal(
        again.determinations[0]!.determinationJson,
        fresh.record.determinations[0]!.determinationJson,
      );
      assert.equal((await service.reproduce(fresh.record.id, reviewer)).identical, true);
      const replayNew = await service.submit(loadCase("trial-malignant-met"), provider, {
        idempotencyKey: "new-key",
      });
      assert.equal(replayNew.created, false);
      assert.equal(replayNew.record.id, fresh.record.id);
      // Issue 15: the scan of the impact replay reads the legacy row (its plain case, its first
      // determination) beside the new one, in the order received, on the index built at open.
      const scanned: [string, string][] = [];
      for await (const page of store.scanDeterminations({}))
        for (const r of page) scanned.push([r.requestId, r.determination.caseJson]);
      assert.deepEqual(scanned, [
        ["legacy-1", rows.caseJson],
        [fresh.record.id, fresh.record.determinations[0]!.caseJson],
      ]);
      const keys: string[] = [];
      for await (const k of store.scanBoundaries(1)) keys.push(k.id);
      assert.deepEqual(keys, ["legacy-1", fresh.record.id]);
    } finally {
      await store.close();
      await db.cleanup();
    }
    // Opening again (columns already there) is a no-op.
    if (kind === "sqlite") {
      const db2 = await freshDatabase(kind);
      await seedOld(db2.dataDir, undefined, rows);
      for (let i = 0; i < 2; i++) {
        const s = await openStore({ dataDir: db2.dataDir });
        await s.close();
      }
      // The check every open makes for unindexed requests reads a partial index (empty once all are
      // indexed), not the whole requests table: it cost 7% of an impact over 100,000 requests.
      const raw = new Database(join(db2.dataDir, "medpolicy.db"), { readonly: true });
      try {
        const plan = raw.prepare(`EXPLAIN QUERY PLAN ${UNINDEXED_SQL}`).all() as { detail: string }[];
        assert.match(plan.map((p) => p.detail).join("; "), /USING INDEX requests_unindexed/);
      } finally {
        raw.close();
      }
      await db2.cleanup();
    }
  });
}

test("a stored case that today's validation refuses still reads: marked not reproducible, no crash", async () => {
  const db = await freshDatabase("sqlite");
  const store = await openStore({ dataDir: db.dataDir });
  const service = new RequestService(store, engine, () => new Date("2026-03-02T12:00:00Z"));
  try {
    const { record } = await service.submit(loadCase("trial-nonmalignant-not-weaned"), provider);
    // As if it had been decided before the state list (issue 13): a member state no longer accepted.
    const bad = JSON.parse(record.determinations[0]!.caseJson) as { member: { state: string } };
    bad.member.state = "ZZ";
    const raw = new Database(join(db.dataDir, "medpolicy.db"));
    raw
      .prepare("UPDATE determinations SET case_json = '', case_z = ? WHERE request_id = ?")
      .run(encodeCase(canonicalJson(bad)), record.id);
    raw.close();
    const again = await service.get(record.id, reviewer);
    const view = service.view(again, reviewer) as {
      review: { determinations: { reproducible?: boolean; determination: { error?: string } }[] };
    };
    assert.equal(view.review.determinations[0]!.reproducible, false);
    assert.match(view.review.determinations[0]!.determination.error ?? "", /not reproducible/);
    assert.equal((await service.reproduce(record.id, reviewer)).identical, false);
  } finally {
    await store.close();
    await db.cleanup();
  }
});
