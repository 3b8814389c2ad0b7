/**
 * Issue 13 "POST /api/requests on PostgreSQL saturates near 420/s" (and SQLite near 240/s): the cause
 * was the number of synchronous commits and round trips per stored request. These hold the fixes:
 *
 * - PostgreSQL: a new request is one statement (one round trip, one fsync'd commit), not BEGIN, three
 *   inserts, three reads and COMMIT;
 * - SQLite: the writes that arrive together share one transaction (group commit: one fsync), each in
 *   its own savepoint, so a write that fails (a conflict) fails alone and the others are stored.
 *
 * Counted, not timed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import type { Outcome } from "../../src/model/index.js";
import {
  hashDetermination,
  type NewDetermination,
  type NewEvent,
  type NewRequest,
  openStore,
} from "../../src/store/index.js";
import { freshDatabase, postgresAvailable } from "./helpers.js";

const actor = { sub: "u", name: "U", role: "provider", org: "org" };
const at = "2026-03-01T00:00:00.000Z";
const det = (outcome: Outcome): NewDetermination => ({
  createdAt: at,
  trigger: "submit",
  actor,
  caseJson: '{"x":1}',
  today: "2026-03-01",
  engine: "e",
  outcome,
  determinationJson: `{"outcome":"${outcome}"}`,
  determinationHash: hashDetermination(`{"outcome":"${outcome}"}`),
});
const ev: NewEvent = { at, action: "submitted", actor };
const req = (id: string, key?: string): NewRequest => ({
  id,
  org: "org",
  ...(key !== undefined && { idempotencyKey: key }),
  submittedCaseJson: '{"x":1}',
  receivedAt: at,
  expedited: false,
  dueAt: "2026-03-08T00:00:00.000Z",
  status: "awaiting-review",
  medicalDirectorOnly: false,
  engineOutcome: "pended",
});

test("PostgreSQL stores a new request in one round trip", async (t) => {
  if (!(await postgresAvailable())) return t.skip("PostgreSQL not reachable");
  const db = await freshDatabase("postgres");
  const store = await openStore({ dataDir: db.dataDir, databaseUrl: db.databaseUrl! });
  store.setReproducer(() => ({ json: "{}", hash: "" }));
  const original = pg.Client.prototype.query;
  let queries = 0;
  try {
    // Every statement a pooled client sends goes through Client#query.
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      queries++;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    const r = await store.createRequest(req("pg-1", "k"), det("pended"), ev);
    assert.equal(r.created, true);
    assert.equal(queries, 1, "one statement for request, determination and event");
    pg.Client.prototype.query = original;
    const back = await store.getRequest("pg-1");
    assert.equal(back?.determinations.length, 1);
    assert.equal(back?.events.length, 1);
    assert.equal(back?.determinations[0]?.caseJson, '{"x":1}');
    // A replay of the key inserts nothing and returns the first request.
    const replay = await store.createRequest(req("pg-2", "k"), det("denied"), ev);
    assert.equal(replay.created, false);
    assert.equal(replay.record.id, "pg-1");
    assert.equal(replay.submittedCaseJson, '{"x":1}');
    assert.equal(await store.getRequest("pg-2"), undefined);
  } finally {
    pg.Client.prototype.query = original;
    await store.close();
    await db.cleanup();
  }
});

test("SQLite commits writes that arrive together once, and a failing one fails alone", async () => {
  const db = await freshDatabase("sqlite");
  const proto = Database.prototype as unknown as {
    transaction: (fn: (...a: unknown[]) => unknown) => { immediate: (...a: unknown[]) => unknown };
  };
  const original = proto.transaction;
  let commits = 0;
  proto.transaction = function (this: unknown, fn) {
    const tx = original.call(this, fn) as ((...a: unknown[]) => unknown) & {
      immediate: (...a: unknown[]) => unknown;
    };
    // Top-level write transactions are BEGIN IMMEDIATE (nested ones are savepoints).
    return Object.assign((...a: unknown[]) => tx(...a), {
      immediate: (...a: unknown[]) => {
        commits++;
        return tx.immediate(...a);
      },
    });
  };
  const store = await openStore({ dataDir: db.dataDir });
  store.setReproducer(() => ({ json: "{}", hash: "" }));
  try {
    await store.createRequest(req("s-0"), det("pended"), ev);
    commits = 0;
    const results = await Promise.allSettled([
      store.createRequest(req("s-1"), det("pended"), ev),
      // A conflict (stale version) in the middle of the batch.
      store.appendDetermination(
        "s-0",
        99,
        det("denied"),
        { engineOutcome: "denied", medicalDirectorOnly: false },
        ev,
      ),
      store.createRequest(req("s-2"), det("pended"), ev),
      store.createRequest(req("s-3", "dup"), det("pended"), ev),
      store.createRequest(req("s-4", "dup"), det("pended"), ev),
    ]);
    assert.equal(commits, 1, "one commit for the five writes");
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "rejected", "fulfilled", "fulfilled", "fulfilled"],
    );
    assert.match(String((results[1] as PromiseRejectedResult).reason), /changed since it was read/);
    const dup = (results[4] as PromiseFulfilledResult<{ created: boolean; record: { id: string } }>).value;
    assert.equal(dup.created, false, "the second use of a key in the same batch sees the first");
    assert.equal(dup.record.id, "s-3");
    for (const id of ["s-1", "s-2", "s-3"]) assert.ok(await store.getRequest(id), id);
    assert.equal(await store.getRequest("s-4"), undefined);
    assert.equal((await store.getRequest("s-0"))?.version, 1, "the failed append left nothing behind");
  } finally {
    proto.transaction = original;
    await store.close();
    await db.cleanup();
  }
});
