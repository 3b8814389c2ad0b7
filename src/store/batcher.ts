/**
 * Group commit for a store whose writes are round trips to a server (issue 13: `POST /api/requests`
 * on PostgreSQL held p99 < 20 ms at 1,000/s only on a quiet machine, and each new request cost its
 * own statement, commit and socket write). Writes go out at once while fewer than `inFlight` batches
 * are running; the ones that arrive meanwhile wait and go out together in the next batch, one
 * statement and one commit for all of them. Under light load nothing waits (a batch of one); under a
 * burst, or behind a stalled commit, the backlog leaves in a few large batches instead of one by one.
 *
 * Items with the same `key` (an idempotency key) are written one after the other: an item whose key
 * is in the batch being formed, or in one being written, waits (and the items behind it with it) until
 * that batch is settled. So the later one's insert finds the earlier committed and replays it, as when
 * the two come one after the other, and two batches running at once never hold one key (they cannot
 * wait on each other's uncommitted rows).
 */

/** What a batch's run says of each item, in the batch's order. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface BatcherOptions<T> {
  /** Batches running at once (at least 1). */
  inFlight: number;
  /** Items in one batch at most (at least 1). */
  maxBatch: number;
  /** Items with the same key go in different batches, in the order submitted; undefined: no key. */
  key?: (item: T) => string | undefined;
  /**
   * An item's size (bytes it puts in the statement): a batch stops before `maxWeight` would be passed,
   * so a burst of large items is not sent as one huge statement. A batch always takes one item.
   */
  weight?: (item: T) => number;
  maxWeight?: number;
}

interface Waiting<T, R> {
  item: T;
  key: string | undefined;
  weight: number;
  resolve(value: R): void;
  reject(error: unknown): void;
}

export class WriteBatcher<T, R> {
  private queue: Waiting<T, R>[] = [];
  /** Items in the batches being written. */
  private writing = 0;
  private batches = 0;
  /** Keys of the items in the batches being written. */
  private readonly busy = new Set<string>();
  private idle: (() => void)[] = [];

  /**
   * `run` writes a batch and settles each of its items (in order; a run that rejects fails every item
   * of its batch with that error).
   */
  constructor(
    private readonly run: (batch: readonly T[]) => Promise<Settled<R>[]>,
    private readonly opts: BatcherOptions<T>,
  ) {}

  /** Queues `item`; resolves with its result once its batch is written. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let key: string | undefined;
      let weight = 0;
      try {
        // Computed once, here: a `key` or `weight` that throws fails this item alone.
        key = this.opts.key?.(item);
        weight = this.opts.weight?.(item) ?? 0;
      } catch (e) {
        reject(e);
        return;
      }
      this.queue.push({ item, key, weight, resolve, reject });
      this.pump();
    });
  }

  /** Items queued or being written. */
  get pending(): number {
    return this.queue.length + this.writing;
  }

  /** Resolves once every item submitted so far is settled (a store closes after this). */
  drained(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.batches < Math.max(1, this.opts.inFlight) && this.queue.length > 0) {
      const batch = this.take();
      // The item at the front waits for its key's batch.
      if (batch.length === 0) return;
      this.batches++;
      this.writing += batch.length;
      for (const w of batch) if (w.key !== undefined) this.busy.add(w.key);
      this.write(batch).finally(() => {
        this.batches--;
        this.writing -= batch.length;
        for (const w of batch) if (w.key !== undefined) this.busy.delete(w.key);
        this.pump();
        if (this.pending === 0) for (const f of this.idle.splice(0)) f();
      });
    }
  }

  /**
   * The next batch: from the front, up to `maxBatch` items and `maxWeight` (at least one item),
   * stopping before a key already in it or in a batch being written (then possibly empty).
   */
  private take(): Waiting<T, R>[] {
    const maxWeight = this.opts.maxWeight ?? Number.POSITIVE_INFINITY;
    const max = Math.max(1, this.opts.maxBatch);
    const keys = new Set<string>();
    let n = 0;
    let total = 0;
    for (; n < this.queue.length && n < max; n++) {
      const w = this.queue[n]!;
      total += w.weight;
      if (n > 0 && total > maxWeight) break;
      if (w.key !== undefined) {
        if (keys.has(w.key) || this.busy.has(w.key)) break;
        keys.add(w.key);
      }
    }
    return this.queue.splice(0, n);
  }

  private async write(batch: Waiting<T, R>[]): Promise<void> {
    let settled: Settled<R>[];
    try {
      settled = await this.run(batch.map((w) => w.item));
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    batch.forEach((w, i) => {
      const s = settled[i];
      if (s === undefined) w.reject(new Error("a batched write was not settled"));
      else if (s.ok) w.resolve(s.value);
      else w.reject(s.error);
    });
  }
}
