/**
 * Worker threads for the CLI's bulk commands (`evaluate` on NDJSON, `impact`): how one is started,
 * from the compiled JavaScript or, run from source (the tests, under tsx), from TypeScript through tsx
 * — a loader registered by `--import` in the main thread does not reach worker threads.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { type Library, loadLibrary } from "../library/library.js";

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

/** What a worker thread needs to load the main thread's library. */
export interface LibraryHandoff {
  libraryDir: string;
  /** The library's signature in the main thread: a worker reading another refuses to start. */
  signature: string;
  /** What the main thread ingested ({@link Library.ingested}), so a worker does not ingest it again. */
  ingested: Library["ingested"];
}

/** The handoff of `lib`, loaded from `libraryDir`. */
export function handOff(lib: Library, libraryDir: string): LibraryHandoff {
  return { libraryDir, signature: lib.signature, ingested: lib.ingested };
}

/**
 * In a worker thread: the main thread's library, loaded from its folder without ingesting again the
 * documents the main thread ingested (each is still read and hashed: one changed since is ingested
 * anew). Undefined when the folder reads otherwise than the main thread read it (edited meanwhile):
 * every thread must decide with one library, so the caller refuses the run.
 */
export function loadHandedLibrary(h: LibraryHandoff): Library | undefined {
  const lib = loadLibrary(h.libraryDir, { reuse: { dir: h.libraryDir, ingested: h.ingested } });
  return lib.signature === h.signature ? lib : undefined;
}
