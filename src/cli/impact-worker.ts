/**
 * One worker of `medpolicy impact`'s parallel replay (issue 15 item 4, impact-parallel.ts): loads the
 * library and opens the store on its own (a reader: impact-store.ts), then replays the ranges of
 * requests it is sent, one after the other, answering each with the changes found and the range's
 * counts. It reads, never writes.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ImpactReplay } from "../library/impact.js";
import { MedpolicyError } from "../model/index.js";
import { type RangeTask, replayRange, type WorkerData, type WorkerMessage } from "./impact-parallel.js";
import { openImpactScanner } from "./impact-store.js";
import { loadHandedLibrary } from "./threads.js";

const port = parentPort;
if (port === null) throw new Error("impact-worker.js runs as a worker thread of medpolicy impact");
const data = workerData as WorkerData;

const post = (m: WorkerMessage) => port.postMessage(m);
const fail = (e: unknown) =>
  post({
    type: "error",
    kind: e instanceof MedpolicyError ? e.kind : "internal",
    message: e instanceof Error ? e.message : String(e),
    where: e instanceof MedpolicyError ? e.where : {},
  });

try {
  const lib = loadHandedLibrary(data);
  if (lib === undefined)
    throw new MedpolicyError("conflict", "the library changed while the impact was starting; run it again", {
      field: "--library",
    });
  const version = lib.get(data.ref);
  const store = await openImpactScanner(data.store);
  const replay = new ImpactReplay(lib, version, {
    ...(data.from !== undefined && { from: data.from }),
    ...(data.to !== undefined && { to: data.to }),
  });
  // Two ranges may be in flight; they are replayed one after the other, so each take() holds one range.
  let queue = Promise.resolve();
  // The main thread terminates the worker when the replay ends (the store is read-only: nothing to flush).
  port.on("message", (task: RangeTask) => {
    queue = queue
      .then(async () => {
        post({ type: "done", index: task.index, ...(await replayRange(replay, store, task, data.pageSize)) });
      })
      .catch(fail);
  });
  post({ type: "ready" });
} catch (e) {
  fail(e);
}
