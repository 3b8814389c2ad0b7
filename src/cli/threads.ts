/**
 * Worker threads for the CLI's bulk commands (`evaluate` on NDJSON, `impact`): how one is started,
 * from the compiled JavaScript or, run from source (the tests, under tsx), from TypeScript through tsx
 * — a loader registered by `--import` in the main thread does not reach worker threads.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** Threads by default at most (beyond, the reader or the writer of the main thread bounds them). */
export const MAX_THREADS = 8;

/** The default number of threads: one per core, at most {@link MAX_THREADS}. */
export function defaultThreads(): number {
  return Math.min(availableParallelism(), MAX_THREADS);
}

/** Starts the worker module `name` (a file beside this one, without extension) with `workerData`. */
export function startWorker(name: string, workerData: unknown): Worker {
  const fromSource = import.meta.url.endsWith(".ts");
  const url = new URL(`./${name}.${fromSource ? "ts" : "js"}`, import.meta.url);
  if (!fromSource) return new Worker(url, { workerData });
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const code = `import(${tsx}).then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(code, { eval: true, workerData });
}
