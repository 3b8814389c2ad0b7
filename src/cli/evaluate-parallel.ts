/**
 * `medpolicy evaluate` on every core (issue 13: NDJSON ≥ 100k cases/s). The main thread reads and
 * splits the input as it always does; instead of deciding each line at once it gathers them into
 * batches. A batch goes to a worker thread (evaluate-worker.ts: the library loaded on its own) that
 * has room, else the main thread decides it itself — so it starts at once, while the workers load, and
 * is never idle. Results are written back in input order: the output, the messages on stderr and the
 * exit code are the ones the main thread alone gives (a test holds them byte-equal).
 *
 * Memory stays bounded: the reader waits while more than {@link AHEAD} batches per thread are decided
 * but not yet written.
 */
import type { Worker } from "node:worker_threads";
import type { Library } from "../library/index.js";
import { MedpolicyError } from "../model/index.js";
import {
  type BatchResult,
  type EvaluateWorkerData,
  type EvaluateWorkerMessage,
  evaluateBatch,
  evaluatePiece,
  type LineOptions,
  type WireTask,
} from "./evaluate-lines.js";
import { handOff, startWorker } from "./threads.js";

/** Characters of input per piece (≈ 750 cases of the bench): a few milliseconds of work. */
const PIECE = 256 * 1024;

/** Decides a task here, as a worker would. */
function decideTask(lib: Library, task: WireTask, opts: LineOptions): BatchResult {
  return "at" in task
    ? evaluateBatch(lib, task.text.split("\n"), task.at, opts)
    : evaluatePiece(lib, task.text, task.first, opts);
}

/** Batches a thread may be ahead of the output. */
const AHEAD = 4;
/** Batches in flight per worker: it starts the next while the main thread reads the last answer. */
const IN_FLIGHT = 3;

export interface ParallelEvaluateOptions {
  libraryDir: string;
  opts: LineOptions;
  /** Worker threads beside the main thread (1 or more). */
  workers: number;
  /** Lines per batch. */
  batch: number;
  /**
   * Whether the main thread decides work no worker has room for (default true: it starts at once, while
   * the workers load); false waits for a worker (a test sees every line decided by one).
   */
  local?: boolean;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  inFlight: number;
}

/** Lines in, results out in input order (to `sink`), decided on the main thread and `workers` others. */
export class ParallelEvaluator {
  private readonly slots: Slot[] = [];
  private readonly results = new Map<number, BatchResult>();
  private lines: string[] = [];
  private at: number[] = [];
  /** Work no worker had room for: decided here between two chunks of input, unless one has room by then. */
  private readonly local: WireTask[] = [];
  private dispatched = 0;
  private written = 0;
  private failure: Error | undefined;
  private closing = false;
  private wake = () => {};

  constructor(
    private readonly lib: Library,
    private readonly o: ParallelEvaluateOptions,
    private readonly sink: (r: BatchResult) => void,
  ) {
    const data: EvaluateWorkerData = { ...handOff(lib, o.libraryDir), opts: o.opts };
    for (let k = 0; k < o.workers; k++) {
      const slot: Slot = { worker: startWorker("evaluate-worker", data), ready: false, inFlight: 0 };
      slot.worker.on("message", (m: EvaluateWorkerMessage) => {
        if (m.type === "ready") {
          slot.ready = true;
          this.wake();
        } else if (m.type === "done") {
          slot.inFlight--;
          this.finished(m.index, m);
        } else this.fail(new MedpolicyError("internal", `an evaluate worker failed: ${m.message}`));
      });
      slot.worker.on("error", (e) =>
        this.fail(new MedpolicyError("internal", `an evaluate worker failed: ${e.message}`)),
      );
      slot.worker.on("exit", (code) => {
        // A worker gone before the end (idle or not) takes no more work, and the run fails: whatever
        // it held is lost.
        slot.ready = false;
        if (!this.closing)
          this.fail(new MedpolicyError("internal", `an evaluate worker stopped (exit code ${code})`));
      });
      this.slots.push(slot);
    }
  }

  /** A case line, numbered `at` in the input. */
  push(text: string, at: number): void {
    this.lines.push(text);
    this.at.push(at);
    if (this.lines.length >= this.o.batch) this.dispatch();
  }

  /**
   * Whole lines of input as read (`text` holds no partial line; blank lines included), the first
   * numbered `first`, cut into pieces of about {@link PIECE} characters at newlines: the main thread
   * splits nothing, the threads do. Returns the number of lines.
   */
  piece(text: string, first: number): number {
    this.dispatch();
    let at = first;
    let from = 0;
    while (from <= text.length) {
      let end = from + PIECE >= text.length ? text.length : text.lastIndexOf("\n", from + PIECE);
      if (end < from) {
        end = text.indexOf("\n", from + PIECE);
        if (end === -1) end = text.length;
      }
      const part = text.slice(from, end);
      let lines = 1;
      for (let nl = part.indexOf("\n"); nl !== -1; nl = part.indexOf("\n", nl + 1)) lines++;
      this.send({ index: this.dispatched++, text: part, first: at });
      at += lines;
      from = end + 1;
    }
    return at - first;
  }

  /** A result made by the reader itself (a line over the size limit), written in its place. */
  literal(r: BatchResult): void {
    this.dispatch();
    this.finished(this.dispatched++, r);
  }

  /**
   * Called between two chunks of input: decides the batches no worker took (letting the workers'
   * answers in before each, so a worker with room takes it instead), then waits while the output lags
   * (back-pressure); throws a worker's failure.
   */
  async pace(): Promise<void> {
    await this.runLocal();
    while (this.failure === undefined && this.dispatched - this.written > AHEAD * (this.o.workers + 1))
      await this.next();
    if (this.failure) throw this.failure;
  }

  /** Every line pushed decided and given to the sink, in order. */
  async drain(): Promise<void> {
    this.dispatch();
    await this.runLocal();
    while (this.failure === undefined && this.written < this.dispatched) await this.next();
    if (this.failure) throw this.failure;
  }

  private async runLocal(): Promise<void> {
    while (this.local.length > 0) {
      await new Promise<void>((r) => setImmediate(r));
      if (this.failure) return;
      const task = this.local[0]!;
      if (this.post(task)) this.local.shift();
      else if (this.o.local === false) await this.next();
      else {
        this.local.shift();
        this.finished(task.index, decideTask(this.lib, task, this.o.opts));
      }
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private next(): Promise<void> {
    return new Promise<void>((r) => {
      this.wake = r;
    });
  }

  private dispatch(): void {
    if (this.lines.length === 0) return;
    // One string for the batch: cloned in one copy, where an array of lines is cloned line by line.
    const task: WireTask = { index: this.dispatched++, text: this.lines.join("\n"), at: this.at };
    this.lines = [];
    this.at = [];
    this.send(task);
  }

  private send(task: WireTask): void {
    // No worker has room (or none is ready yet): this thread decides it at the next pace.
    if (!this.post(task)) this.local.push(task);
  }

  /** Sends `task` to the worker with the most room, if one has room. */
  private post(task: WireTask): boolean {
    let free: Slot | undefined;
    for (const s of this.slots)
      if (s.ready && s.inFlight < IN_FLIGHT && (free === undefined || s.inFlight < free.inFlight)) free = s;
    if (free === undefined) return false;
    free.inFlight++;
    free.worker.postMessage(task);
    return true;
  }

  private finished(index: number, r: BatchResult): void {
    this.results.set(index, r);
    for (let x = this.results.get(this.written); x !== undefined; x = this.results.get(this.written)) {
      this.results.delete(this.written);
      this.written++;
      this.sink(x);
    }
    this.wake();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake();
  }
}
