/**
 * `medpolicy impact` on every core (issue 15 item 4: "at NDJSON speed"). The store's requests are cut
 * into ranges ({@link Store.scanBoundaries}, read from the index of the order received); each worker
 * thread loads the library, opens the store on a connection of its own and replays whole ranges
 * (scan, decode, decide: the work that costs), and the main thread puts the ranges' changes back in
 * the store's scan order (the order received) — the order the single-threaded replay yields them — and
 * adds up their counts.
 *
 * Memory stays bounded: a worker takes a new range only while fewer than {@link AHEAD} ranges per
 * worker wait to be written, so a slow reader of the output holds the workers back.
 */
import type { Worker } from "node:worker_threads";
import {
  type ImpactChange,
  type ImpactCounts,
  type ImpactItem,
  type ImpactPart,
  ImpactReplay,
} from "../library/impact.js";
import type { Library, LibraryEntry } from "../library/index.js";
import { type ErrorKind, type ErrorWhere, MedpolicyError } from "../model/index.js";
import type { ScanKey, Store } from "../store/index.js";
import { handOff, type LibraryHandoff, startWorker } from "./threads.js";

/** Ranges a worker may run ahead of the output, per worker. */
const AHEAD = 4;

/** What a worker is started with. */
export interface WorkerData extends LibraryHandoff {
  /** `--store` as given (undefined: the default the command resolves). */
  store: string | undefined;
  ref: string;
  from?: string;
  to?: string;
  pageSize: number;
}

/**
 * One range of requests in the order the store is scanned: after `after` (from the first when absent),
 * up to `through` (to the last when absent).
 */
export interface RangeTask {
  type: "range";
  index: number;
  after?: ScanKey;
  through?: ScanKey;
}

export type WorkerMessage =
  | { type: "ready" }
  | { type: "done"; index: number; changes: ImpactChange[]; part: ImpactPart }
  | { type: "error"; kind: ErrorKind; message: string; where: ErrorWhere };

export interface ParallelOptions extends Omit<WorkerData, "signature" | "ingested"> {
  /** Worker threads beside the main thread (1 or more). */
  workers: number;
  /** Requests per range. */
  rangeSize: number;
  /**
   * Whether the main thread replays ranges too (default true: it starts at once, while the workers
   * load); false leaves it free for other work (and lets a test see every range go to a worker).
   */
  local?: boolean;
  /** Called after each range is written, with the counts so far. */
  onProgress?: (counts: Readonly<ImpactCounts>) => void;
}

/**
 * Replays `store` under `version` on `opts.workers` threads: the same items, in the same order, as
 * {@link replayImpact} over `store.scanDeterminations()`.
 */
export async function* parallelImpact(
  lib: Library,
  version: LibraryEntry,
  store: Store,
  opts: ParallelOptions,
): AsyncGenerator<ImpactItem, void, undefined> {
  const window = {
    ...(opts.from !== undefined && { from: opts.from }),
    ...(opts.to !== undefined && { to: opts.to }),
  };
  const total = new ImpactReplay(lib, version, window);
  const { workers: _w, rangeSize: _r, local: _l, onProgress, ...rest } = opts;
  const data: WorkerData = { ...rest, ...handOff(lib, rest.libraryDir) };
  const pool: Worker[] = [];
  const results = new Map<number, { changes: ImpactChange[]; part: ImpactPart }>();
  let failure: MedpolicyError | undefined;
  // Wakes the generator (a result arrived, or a failure) and the workers' loops (a range was written).
  let wake = () => {};
  let room = () => {};
  const fail = (e: MedpolicyError) => {
    failure ??= e;
    wake();
    room();
  };

  const bounds = store.scanBoundaries(opts.rangeSize)[Symbol.asyncIterator]();
  let dispatched = 0;
  let written = 0;
  let after: ScanKey | undefined;
  let last = false;
  let ranges = Number.POSITIVE_INFINITY;
  // One range at a time from the boundaries (each a short index read), handed to whichever asks.
  let cutting = Promise.resolve();
  const nextRange = () => {
    const p = cutting.then(async (): Promise<RangeTask | undefined> => {
      if (last) return undefined;
      const b = await bounds.next();
      const task: RangeTask = {
        type: "range",
        index: dispatched++,
        ...(after !== undefined && { after }),
        ...(!b.done && { through: b.value }),
      };
      if (b.done) {
        last = true;
        ranges = dispatched;
      } else after = b.value;
      return task;
    });
    cutting = p.then(
      () => {},
      () => {},
    );
    return p;
  };

  // Waits while the output lags: a runner takes a new range only when fewer than AHEAD ranges per
  // runner wait to be written.
  const roomAhead = async () => {
    while (failure === undefined && dispatched - written >= AHEAD * (opts.workers + 1))
      await new Promise<void>((r) => {
        const prev = room;
        room = () => {
          prev();
          r();
        };
      });
  };
  /** The next range for a runner, once the output has room; undefined when none is left (or failed). */
  const nextTask = async (): Promise<RangeTask | undefined> => {
    await roomAhead();
    return failure === undefined ? nextRange() : undefined;
  };
  const finished = (index: number, result: { changes: ImpactChange[]; part: ImpactPart }) => {
    results.set(index, result);
    wake();
  };

  const guard = (p: Promise<unknown>) =>
    p.catch((e) => fail(e instanceof MedpolicyError ? e : new MedpolicyError("internal", String(e))));

  /** Starts a worker; once it has loaded the library and opened the store, it takes ranges. */
  const start = () => {
    const w = startWorker("impact-worker", data);
    pool.push(w);
    const pending = new Map<number, () => void>();
    // Two ranges in flight per worker: it starts the next while the main thread, busy with a range
    // of its own, has not yet read the last one's answer.
    const loop = async () => {
      for (let task = await nextTask(); task !== undefined; task = await nextTask()) {
        const t = task;
        await new Promise<void>((r) => {
          pending.set(t.index, r);
          w.postMessage(t);
        });
      }
    };
    w.on("message", (m: WorkerMessage) => {
      if (m.type === "ready") guard(Promise.all([loop(), loop()]));
      else if (m.type === "done") {
        finished(m.index, m);
        pending.get(m.index)?.();
        pending.delete(m.index);
      } else fail(new MedpolicyError(m.kind, m.message, m.where));
    });
    w.on("error", (err) => fail(new MedpolicyError("internal", `an impact worker failed: ${err.message}`)));
    w.on("exit", (code) => {
      if (failure === undefined && written < ranges)
        fail(new MedpolicyError("internal", `an impact worker stopped (exit code ${code})`));
    });
  };

  // The main thread replays ranges too: from the start, while the workers load, and beside them after.
  const here = new ImpactReplay(lib, version, window);
  const runLocal = async () => {
    for (let task = await nextTask(); task !== undefined; task = await nextTask()) {
      // The workers' messages (ready, done: each wants its next range) are read between two pages,
      // not only between two ranges: a worker otherwise idles while this thread replays a range.
      finished(task.index, await replayRange(here, store, task, opts.pageSize, true));
    }
  };

  try {
    for (let k = 0; k < opts.workers; k++) start();
    if (opts.local !== false) guard(runLocal());
    while (written < ranges) {
      const r = results.get(written);
      if (r === undefined) {
        if (failure !== undefined) throw failure;
        await new Promise<void>((res) => {
          wake = res;
        });
        continue;
      }
      results.delete(written);
      written++;
      const free = room;
      room = () => {};
      free();
      total.add(r.part);
      for (const change of r.changes) yield change;
      onProgress?.(total.counts);
    }
    if (failure !== undefined) throw failure;
    yield total.summary();
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
    await bounds.return?.();
  }
}

/**
 * Replays one range of the store (the main thread's and every worker's work): the changes, in order,
 * and the range's counts ({@link ImpactReplay.take}: `replay` must replay nothing else meanwhile).
 */
export async function replayRange(
  replay: ImpactReplay,
  store: Pick<Store, "scanDeterminations">,
  task: RangeTask,
  pageSize: number,
  /** Let the event loop run after each page (the main thread, which hands the workers their ranges). */
  yieldEachPage = false,
): Promise<{ changes: ImpactChange[]; part: ImpactPart }> {
  const changes: ImpactChange[] = [];
  for await (const page of store.scanDeterminations({
    pageSize,
    ...(task.after !== undefined && { after: task.after }),
    ...(task.through !== undefined && { through: task.through }),
  })) {
    for (const r of page) {
      const change = replay.replay(r);
      if (change) changes.push(change);
    }
    if (yieldEachPage) await new Promise<void>((r) => setImmediate(r));
  }
  return { changes, part: replay.take() };
}
