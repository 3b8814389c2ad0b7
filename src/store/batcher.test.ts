import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type Settled, WriteBatcher } from "./batcher.js";

interface Item {
  n: number;
  key?: string;
  fail?: boolean;
}

/** A run whose batches finish when the test says, recorded in the order they started. */
function manual() {
  const started: { items: readonly Item[]; finish(): void; throws(e: unknown): void }[] = [];
  let running = 0;
  let maxRunning = 0;
  // Keys of the batches running now: a batch that starts holding one of them is an overlap.
  const runningKeys = new Map<string, number>();
  let overlaps = 0;
  const keysOf = (items: readonly Item[]) => items.flatMap((i) => (i.key === undefined ? [] : [i.key]));
  const run = (items: readonly Item[]) =>
    new Promise<Settled<string>[]>((resolve, reject) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      for (const k of keysOf(items)) {
        if (runningKeys.has(k)) overlaps++;
        runningKeys.set(k, (runningKeys.get(k) ?? 0) + 1);
      }
      const done = () => {
        for (const k of keysOf(items)) {
          const n = runningKeys.get(k)! - 1;
          if (n === 0) runningKeys.delete(k);
          else runningKeys.set(k, n);
        }
      };
      started.push({
        items,
        finish: () => {
          done();
          running--;
          resolve(
            items.map((i) =>
              i.fail ? { ok: false, error: new Error(`bad ${i.n}`) } : { ok: true, value: `w${i.n}` },
            ),
          );
        },
        throws: (e) => {
          done();
          running--;
          reject(e);
        },
      });
    });
  return { run, started, maxRunning: () => maxRunning, overlaps: () => overlaps };
}

const tick = () => new Promise((r) => setImmediate(r));
/** The items of each batch started so far, by number. */
const batches = (m: ReturnType<typeof manual>) => m.started.map((s) => s.items.map((i) => i.n));

test("WriteBatcher: writes at once while slots are free; what arrives meanwhile goes in one batch", async () => {
  const m = manual();
  const b = new WriteBatcher<Item, string>(m.run, { inFlight: 2, maxBatch: 100 });
  const results = Array.from({ length: 7 }, (_, n) => b.submit({ n }));
  assert.deepEqual(batches(m), [[0], [1]], "two slots: the first two go alone, at once");
  assert.equal(b.pending, 7);
  m.started[0]!.finish();
  await tick();
  assert.deepEqual(
    m.started[2]!.items.map((i) => i.n),
    [2, 3, 4, 5, 6],
    "the five that waited: one batch",
  );
  m.started[1]!.finish();
  m.started[2]!.finish();
  assert.deepEqual(await Promise.all(results), ["w0", "w1", "w2", "w3", "w4", "w5", "w6"]);
  assert.equal(b.pending, 0);
});

test("WriteBatcher: a key is never twice in one batch, and its second use waits for the first", async () => {
  const m = manual();
  const b = new WriteBatcher<Item, string>(m.run, { inFlight: 1, maxBatch: 3, key: (i) => i.key });
  const done = [
    b.submit({ n: 0 }),
    b.submit({ n: 1, key: "a" }),
    b.submit({ n: 2, key: "b" }),
    b.submit({ n: 3, key: "a" }),
    b.submit({ n: 4 }),
    b.submit({ n: 5 }),
    b.submit({ n: 6 }),
    b.submit({ n: 7 }),
  ];
  for (let i = 0; i < 4; i++) {
    m.started[i]!.finish();
    await tick();
  }
  assert.deepEqual(
    batches(m),
    [[0], [1, 2], [3, 4, 5], [6, 7]],
    "stops before the repeated key; at most maxBatch",
  );
  await Promise.all(done);
});

test("WriteBatcher: a key waits while a batch being written holds it, even with slots free", async () => {
  const m = manual();
  const b = new WriteBatcher<Item, string>(m.run, { inFlight: 4, maxBatch: 10, key: (i) => i.key });
  const done = [b.submit({ n: 0, key: "a" }), b.submit({ n: 1, key: "a" }), b.submit({ n: 2, key: "b" })];
  assert.deepEqual(batches(m), [[0]], "1 waits for 0's batch (same key), and 2 behind it, in order");
  assert.equal(b.pending, 3);
  m.started[0]!.finish();
  await tick();
  assert.deepEqual(
    m.started[1]!.items.map((i) => i.n),
    [1, 2],
  );
  m.started[1]!.finish();
  assert.deepEqual(await Promise.all(done), ["w0", "w1", "w2"]);
});

test("WriteBatcher: a key or weight function that throws fails that item alone", async () => {
  const m = manual();
  const b = new WriteBatcher<Item, string>(m.run, {
    inFlight: 1,
    maxBatch: 10,
    key: (i) => {
      if (i.n === 1) throw new Error("no key");
      return undefined;
    },
  });
  const first = b.submit({ n: 0 });
  await assert.rejects(b.submit({ n: 1 }), /no key/);
  const third = b.submit({ n: 2 });
  m.started[0]!.finish();
  await tick();
  m.started[1]!.finish();
  assert.deepEqual(await Promise.all([first, third]), ["w0", "w2"]);
  await b.drained();
});

test("WriteBatcher: a batch stops before its weight would pass the bound, and takes one item whatever it weighs", async () => {
  const m = manual();
  const b = new WriteBatcher<Item, string>(m.run, {
    inFlight: 1,
    maxBatch: 100,
    weight: (i) => i.n,
    maxWeight: 10,
  });
  // 0 goes alone at once; then 4+5 (9; +6 would be 15), 6 alone-ish (6; +20 would pass), 20 alone, 1+2.
  const done = [0, 4, 5, 6, 20, 1, 2].map((n) => b.submit({ n }));
  for (let i = 0; i < 5; i++) {
    m.started[i]!.finish();
    await tick();
  }
  assert.deepEqual(batches(m), [[0], [4, 5], [6], [20], [1, 2]]);
  await Promise.all(done);
});

test("WriteBatcher: a failed item fails alone; a run that throws fails its batch only", async () => {
  const m = manual();
  const b = new WriteBatcher<Item, string>(m.run, { inFlight: 1, maxBatch: 10 });
  const first = b.submit({ n: 0 });
  const batch = [b.submit({ n: 1 }), b.submit({ n: 2, fail: true }), b.submit({ n: 3 })];
  m.started[0]!.throws(new Error("connection lost"));
  await assert.rejects(first, /connection lost/);
  await tick();
  m.started[1]!.finish();
  const settled = await Promise.allSettled(batch);
  assert.deepEqual(
    settled.map((s) => s.status),
    ["fulfilled", "rejected", "fulfilled"],
  );
  assert.match(String((settled[1] as PromiseRejectedResult).reason), /bad 2/);
  // And the batcher goes on.
  const after = b.submit({ n: 4 });
  m.started[2]!.finish();
  assert.equal(await after, "w4");
});

test("WriteBatcher: drained waits for every write submitted, queued ones included", async () => {
  const m = manual();
  const b = new WriteBatcher<Item, string>(m.run, { inFlight: 1, maxBatch: 10 });
  await b.drained(); // nothing pending: at once
  const settled: number[] = [];
  for (let n = 0; n < 4; n++) void b.submit({ n }).then(() => settled.push(n));
  let drained = false;
  const d = b.drained().then(() => {
    drained = true;
  });
  m.started[0]!.finish();
  await tick();
  assert.equal(drained, false, "three still queued behind the first");
  m.started[1]!.finish();
  await d;
  assert.deepEqual(settled, [0, 1, 2, 3]);
});

test("WriteBatcher: every item settled once with its own result, slots and keys respected (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({ key: fc.option(fc.constantFrom("a", "b", "c"), { nil: undefined }), fail: fc.boolean() }),
        {
          minLength: 1,
          maxLength: 40,
        },
      ),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 1, max: 60 }),
      async (specs, inFlight, maxBatch, order, maxWeight) => {
        const m = manual();
        const weight = (i: Item) => i.n % 17;
        const b = new WriteBatcher<Item, string>(m.run, {
          inFlight,
          maxBatch,
          key: (i) => i.key,
          weight,
          maxWeight,
        });
        const finished = new Set<number>();
        const outcomes = specs.map((s, n) =>
          b.submit({ n, ...(s.key !== undefined && { key: s.key }), fail: s.fail }).then(
            (v) => ({ n, v }),
            (e: Error) => ({ n, e: e.message }),
          ),
        );
        // Finish running batches in an order the property chooses, until none is left.
        for (let step = 0; finished.size < m.started.length || b.pending > 0; step++) {
          const open = m.started.map((_, i) => i).filter((i) => !finished.has(i));
          const pick = open[order[step % order.length]! % open.length]!;
          finished.add(pick);
          m.started[pick]!.finish();
          await tick();
        }
        const got = await Promise.all(outcomes);
        got.forEach((g, n) => {
          if (specs[n]!.fail) assert.deepEqual(g, { n, e: `bad ${n}` });
          else assert.deepEqual(g, { n, v: `w${n}` });
        });
        assert.ok(m.maxRunning() <= inFlight, "never more batches at once than slots");
        assert.equal(m.overlaps(), 0, "no key in two batches running at once");
        const seen = m.started.flatMap((s) => s.items.map((i) => i.n));
        assert.deepEqual(
          seen,
          specs.map((_, n) => n),
          "each item in exactly one batch, in the order submitted",
        );
        for (const s of m.started) {
          assert.ok(s.items.length <= maxBatch);
          const w = s.items.reduce((a, i) => a + weight(i), 0);
          assert.ok(s.items.length === 1 || w <= maxWeight, `weight ${w} over ${maxWeight}`);
          const keys = s.items.flatMap((i) => (i.key === undefined ? [] : [i.key]));
          assert.equal(new Set(keys).size, keys.length, "no key twice in a batch");
        }
      },
    ),
    { numRuns: 200 },
  );
});
