/**
 * SPEC 4 "same behaviour": the one Store contract, run on SQLite and on PostgreSQL — idempotent
 * create, optimistic appends, single signature, queue order, metrics rows — with identical results.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Outcome } from "../../src/model/index.js";
import {
  hashDetermination,
  type NewDetermination,
  type NewEvent,
  openStore,
  type Store,
} from "../../src/store/index.js";
import { DATABASES, type DbKind, freshDatabase, postgresAvailable } from "./helpers.js";

const actor = { sub: "u", name: "U", role: "reviewer" };
const det = (outcome: Outcome, at: string): NewDetermination => ({
  createdAt: at,
  trigger: "submit",
  actor,
  caseJson: '{"x":1}',
  today: at.slice(0, 10),
  policyId: "CP.MP.173",
  policyVersion: "2025-11",
  policyHash: "h",
  engine: "e",
  outcome,
  determinationJson: `{"outcome":"${outcome}"}`,
  determinationHash: hashDetermination(`{"outcome":"${outcome}"}`),
});
/** Stands in for the engine: the stores keep hashes, not determinations (issue 13). */
const reproducer = (caseJson: string, today: string) => ({
  json: `{"case":${caseJson},"today":"${today}"}`,
  hash: "",
});
const BIG_CASE = JSON.stringify({ answers: { "I.A.1": true }, note: "é".repeat(400), x: 2 });
const ev = (at: string): NewEvent => ({ at, action: "submitted", actor, detail: { n: 1 } });

async function scenario(store: Store) {
  store.setReproducer(reproducer);
  const base = {
    org: "org",
    submittedCaseJson: '{"x":1}',
    expedited: false,
    status: "awaiting-review" as const,
    medicalDirectorOnly: false,
    engineOutcome: "denied" as const,
  };
  const a = await store.createRequest(
    {
      ...base,
      id: "a",
      idempotencyKey: "k",
      receivedAt: "2026-01-01T00:00:00.000Z",
      dueAt: "2026-01-08T00:00:00.000Z",
    },
    det("denied", "2026-01-01T00:00:00.000Z"),
    ev("2026-01-01T00:00:00.000Z"),
  );
  const replay = await store.createRequest(
    {
      ...base,
      id: "a2",
      idempotencyKey: "k",
      receivedAt: "2026-01-02T00:00:00.000Z",
      dueAt: "2026-01-09T00:00:00.000Z",
    },
    det("denied", "2026-01-02T00:00:00.000Z"),
    ev("2026-01-02T00:00:00.000Z"),
  );
  assert.equal(a.created, true);
  assert.equal(replay.created, false);
  assert.equal(replay.record.id, "a");
  await store.createRequest(
    {
      ...base,
      id: "b",
      expedited: true,
      receivedAt: "2026-01-02T00:00:00.000Z",
      dueAt: "2026-01-05T00:00:00.000Z",
    },
    det("pended", "2026-01-02T00:00:00.000Z"),
    ev("2026-01-02T00:00:00.000Z"),
  );
  assert.deepEqual(
    (await store.queue()).map((r) => r.id),
    ["b", "a"],
    "soonest due first",
  );
  // b's second case is over the 768 bytes kept as plain JSON: stored deflated, read back the same.
  const appended = await store.appendDetermination(
    "b",
    1,
    { ...det("denied", "2026-01-03T00:00:00.000Z"), caseJson: BIG_CASE },
    { engineOutcome: "denied", medicalDirectorOnly: true },
    { ...ev("2026-01-03T00:00:00.000Z"), action: "answered" },
  );
  assert.equal(appended.version, 2);
  assert.equal(appended.determinations.length, 2);
  await assert.rejects(
    store.appendDetermination(
      "b",
      1,
      det("denied", "x"),
      { engineOutcome: "denied", medicalDirectorOnly: true },
      ev("x"),
    ),
    /changed since it was read/,
  );
  const decision = {
    outcome: "denied" as const,
    reason: "r",
    criteria: [{ criterion: "I.A.2.g", text: "t" }],
    signedBy: actor,
    signedAt: "2026-01-04T00:00:00.000Z",
    automatic: false,
    determinationSeq: 2,
  };
  await assert.rejects(store.sign("b", decision, ev("y"), 1), /changed since it was read/);
  const signed = await store.sign("b", decision, { ...ev("2026-01-04T00:00:00.000Z"), action: "signed" }, 2);
  assert.equal(signed.status, "decided");
  await assert.rejects(store.sign("b", decision, ev("z")), /no longer awaiting review/);
  await assert.rejects(store.sign("nope", decision, ev("z")), /not found/);
  const list = await store.list({ org: "org" });
  const rows = (await store.metricsRows()).sort((x, y) => x.receivedAt.localeCompare(y.receivedAt));
  const b = await store.getRequest("b");
  // Issue 13: the determination is recomputed on read; its hash is the one stored when it was decided.
  assert.equal(b!.determinations[0]!.determinationJson, reproducer('{"x":1}', "2026-01-02").json);
  assert.equal(b!.determinations[1]!.determinationHash, hashDetermination('{"outcome":"denied"}'));
  // Issue 15 (impact in parallel): the requests cut into ranges, each range scanned on its own, every
  // request with its newest determination (b's second).
  const boundaries = async (size: number) => {
    const out: string[] = [];
    for await (const key of store.scanBoundaries(size)) out.push(key.id);
    return out;
  };
  assert.deepEqual(await boundaries(1), ["a", "b"]);
  assert.deepEqual(await boundaries(2), ["b"]);
  assert.deepEqual(await boundaries(3), []);
  const scan = async (o: Parameters<Store["scanDeterminations"]>[0]) => {
    const out: [string, string, string][] = [];
    for await (const page of store.scanDeterminations(o))
      for (const r of page) out.push([r.requestId, r.determination.today, r.determination.outcome]);
    return out;
  };
  // Every field a replay reads, the case whichever way it was stored (plain for a, deflated for b).
  const scanned: unknown[] = [];
  for await (const page of store.scanDeterminations({}))
    for (const r of page) {
      const d = r.determination;
      scanned.push([r.requestId, r.receivedAt, d.today, d.policyId, d.caseJson]);
    }
  assert.deepEqual(scanned, [
    ["a", "2026-01-01T00:00:00.000Z", "2026-01-01", "CP.MP.173", '{"x":1}'],
    ["b", "2026-01-02T00:00:00.000Z", "2026-01-03", "CP.MP.173", BIG_CASE],
  ]);
  const all = await scan({});
  assert.deepEqual(
    all.map(([id, , outcome]) => [id, outcome]),
    [
      ["a", "denied"],
      ["b", "denied"],
    ],
  );
  assert.equal(all[1]![1], "2026-01-03", "b's newest determination is its second");
  // Keys of the order received (each request's own receipt time and id).
  const keyA = { receivedAt: "2026-01-01T00:00:00.000Z", id: "a" };
  const keyB = { receivedAt: "2026-01-02T00:00:00.000Z", id: "b" };
  assert.deepEqual(await scan({ through: keyA, pageSize: 1 }), all.slice(0, 1));
  assert.deepEqual(await scan({ after: keyA, pageSize: 1 }), all.slice(1));
  assert.deepEqual(await scan({ after: keyA, through: keyB, pageSize: 1 }), all.slice(1));
  assert.deepEqual(await scan({ after: keyB }), []);
  return { queue: await store.queue(), list, rows, b, all };
}

/** Runs `f` on a fresh store of each database (PostgreSQL when reachable); its results by kind. */
async function eachStore<R>(
  t: { diagnostic(m: string): void },
  f: (store: Store, kind: DbKind) => Promise<R>,
): Promise<Partial<Record<DbKind, R>>> {
  const results: Partial<Record<DbKind, R>> = {};
  for (const kind of DATABASES as DbKind[]) {
    if (kind === "postgres" && !(await postgresAvailable())) {
      t.diagnostic("PostgreSQL not reachable: SQLite only");
      continue;
    }
    const db = await freshDatabase(kind);
    const store = await openStore({
      dataDir: db.dataDir,
      ...(db.databaseUrl && { databaseUrl: db.databaseUrl }),
    });
    try {
      results[kind] = await f(store, kind);
    } finally {
      await store.close();
      await db.cleanup();
    }
  }
  return results;
}

test("both stores behave the same", async (t) => {
  const results = await eachStore(t, (store) => scenario(store));
  if (results.sqlite && results.postgres) assert.deepEqual(results.postgres, results.sqlite);
});

test("a scan reads the requests in the order received, ties by id, whole or cut into ranges (both stores)", async (t) => {
  await eachStore(t, async (store, kind) => {
    store.setReproducer(reproducer);
    // Ids against the order received: id order would read a, b, c, d.
    const received: [string, string][] = [
      ["d", "2026-01-01T00:00:00.000Z"],
      ["c", "2026-01-02T00:00:00.000Z"],
      ["b", "2026-01-02T00:00:00.000Z"],
      ["a", "2026-01-03T00:00:00.000Z"],
    ];
    for (const [id, at] of received) {
      await store.createRequest(
        {
          id,
          org: "org",
          submittedCaseJson: '{"x":1}',
          expedited: false,
          status: "awaiting-review",
          medicalDirectorOnly: false,
          engineOutcome: "denied",
          receivedAt: at,
          dueAt: "2026-02-01T00:00:00.000Z",
        },
        det("denied", at),
        ev(at),
      );
    }
    const ids = async (o: Parameters<Store["scanDeterminations"]>[0]) => {
      const out: string[] = [];
      for await (const page of store.scanDeterminations(o)) for (const r of page) out.push(r.requestId);
      return out;
    };
    const order = ["d", "b", "c", "a"];
    assert.deepEqual(await ids({}), order, kind);
    assert.deepEqual(await ids({ pageSize: 1 }), order, `${kind}, a page per request`);
    // Cut into ranges of 1 and of 3, each range scanned on its own: the same requests, once each.
    for (const size of [1, 3]) {
      const keys = [];
      for await (const k of store.scanBoundaries(size)) keys.push(k);
      const parts: string[] = [];
      for (let i = 0; i <= keys.length; i++) {
        parts.push(
          ...(await ids({
            ...(i > 0 && { after: keys[i - 1]! }),
            ...(i < keys.length && { through: keys[i]! }),
            pageSize: 2,
          })),
        );
      }
      assert.deepEqual(parts, order, `${kind}, ranges of ${size}`);
      assert.equal(keys.length, Math.floor(order.length / size), `${kind}, ranges of ${size}`);
    }
  });
});
