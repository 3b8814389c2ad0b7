/**
 * PDF → the ingester's text form, synchronously. PDF.js (`pdfjs-dist`, Mozilla's PDF reader) is
 * asynchronous, so it runs in a worker thread (`pdf-worker.ts`, started once and kept, not holding the
 * process open); the caller blocks on a shared flag until the worker answers or the time limit passes
 * (then the worker is ended and the document refused). The worker's heap is capped. The layout
 * (`pdf-layout.ts`) runs here.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import {
  type ConvertOptions,
  DEFAULT_MAX_PAGES,
  DEFAULT_MAX_TEXT,
  DEFAULT_PDF_TIMEOUT_MS,
  inputError,
} from "./common.js";
import { layoutPdf, type PdfPage, type PdfRequest, type PdfResponse } from "./pdf-layout.js";

/** The worker's heap limit. */
const WORKER_HEAP_MB = 1024;
/** How long a new worker may take to start. */
const START_MS = 60_000;

let current: { worker: Worker; port: MessagePort } | undefined;

/**
 * The worker's code. Built, `pdf-worker.js` beside this module. Under a TypeScript loader (tests, tsx)
 * this module is `pdf.ts`: Node 20 does not pass module hooks on to worker threads, so a small
 * bootstrap loads PDF.js first (plain JavaScript, quicker without the loader), then registers tsx and
 * imports `pdf-worker.ts`.
 */
function workerSource(): { code: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith(".ts"))
    return { code: new URL("./pdf-worker.js", import.meta.url), eval: false };
  const resolve = (spec: string) =>
    typeof import.meta.resolve === "function"
      ? import.meta.resolve(spec)
      : pathToFileURL(createRequire(import.meta.url).resolve(spec)).href;
  const [lib, worker, api] = [
    resolve("pdfjs-dist/legacy/build/pdf.mjs"),
    resolve("pdfjs-dist/legacy/build/pdf.worker.mjs"),
    resolve("tsx/esm/api"),
  ].map((u) => JSON.stringify(u));
  const target = JSON.stringify(new URL("./pdf-worker.ts", import.meta.url).href);
  return {
    code: `Promise.all([import(${lib}), import(${worker})]).then(() => import(${api})).then((m) => { m.register(); return import(${target}); });`,
    eval: true,
  };
}

function start(opts: ConvertOptions): { worker: Worker; port: MessagePort } {
  if (current) return current;
  const { port1, port2 } = new MessageChannel();
  const ready = new Int32Array(new SharedArrayBuffer(4));
  const src = workerSource();
  const worker = new Worker(src.code, {
    eval: src.eval,
    workerData: { port: port2, ready },
    transferList: [port2],
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    stdout: false,
    stderr: false,
  });
  worker.unref();
  port1.unref();
  if (Atomics.wait(ready, 0, 0, START_MS) === "timed-out") {
    void worker.terminate();
    throw inputError("cannot read the PDF: the PDF reader did not start", opts);
  }
  current = { worker, port: port1 };
  return current;
}

function stop(): void {
  if (!current) return;
  const { worker, port } = current;
  current = undefined;
  port.close();
  void worker.terminate();
}

/** Extracts the pages' text items (blocking). */
export function extractPdf(bytes: Uint8Array, opts: ConvertOptions): PdfPage[] {
  const w = start(opts);
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const req: PdfRequest = {
    signal,
    data: new Uint8Array(bytes),
    maxPages: opts.maxPages ?? DEFAULT_MAX_PAGES,
    maxChars: opts.maxText ?? DEFAULT_MAX_TEXT,
  };
  w.port.postMessage(req, [req.data.buffer as ArrayBuffer]);
  const timeout = opts.timeoutMs ?? DEFAULT_PDF_TIMEOUT_MS;
  if (Atomics.wait(signal, 0, 0, timeout) === "timed-out") {
    stop();
    throw inputError(
      `cannot read the PDF: it took longer than ${Math.round(timeout / 1000)} s (or exhausted the reader's memory)`,
      opts,
    );
  }
  const msg = receiveMessageOnPort(w.port);
  if (!msg) {
    stop();
    throw inputError("cannot read the PDF: the PDF reader gave no answer", opts);
  }
  const res = msg.message as PdfResponse;
  if (res.ok) return res.pages;
  if (res.kind === "encrypted") {
    throw inputError("cannot read the PDF: it is encrypted and needs a password", opts);
  }
  if (res.kind === "too-large") throw inputError(`the document is too large: ${res.message}`, opts);
  throw inputError(`not a readable PDF: ${res.message}`, opts);
}

/** Reads a PDF into the ingester's text form. */
export function pdfToText(bytes: Uint8Array, opts: ConvertOptions): { text: string; notes: string[] } {
  const pages = extractPdf(bytes, opts);
  const laid = layoutPdf(pages);
  if (!/\S/.test(laid.text)) {
    throw inputError(
      `the PDF has no text to read (${pages.length} page${pages.length === 1 ? "" : "s"} of images?): run it through OCR first`,
      opts,
    );
  }
  return laid;
}
