/**
 * One worker of `medpolicy evaluate`'s parallel NDJSON evaluation (evaluate-parallel.ts): loads the
 * library on its own, then decides the batches of lines it is sent, one at a time, answering each with
 * the NDJSON bytes, the stderr text and the worst exit code.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type EvaluateWorkerData, evaluateBatch, evaluatePiece, type WireTask } from "./evaluate-lines.js";
import { loadHandedLibrary } from "./threads.js";

const port = parentPort;
if (port === null) throw new Error("evaluate-worker.js runs as a worker thread of medpolicy evaluate");
const data = workerData as EvaluateWorkerData;

try {
  const lib = loadHandedLibrary(data);
  if (lib === undefined)
    throw new Error("the library changed while the evaluation was starting; run it again");
  port.on("message", (task: WireTask) => {
    try {
      const r =
        "at" in task
          ? evaluateBatch(lib, task.text.split("\n"), task.at, data.opts)
          : evaluatePiece(lib, task.text, task.first, data.opts);
      // The bytes are the worker's own (a buffer of their own, JsonLinesWriter.take): moved, not copied.
      port.postMessage(
        { type: "done", index: task.index, ...r },
        r.out.map((b) => b.buffer as ArrayBuffer),
      );
    } catch (e) {
      port.postMessage({ type: "error", message: (e as Error)?.message ?? String(e) });
    }
  });
  port.postMessage({ type: "ready" });
} catch (e) {
  port.postMessage({ type: "error", message: (e as Error)?.message ?? String(e) });
}
