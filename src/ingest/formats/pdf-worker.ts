/**
 * The PDF reader's worker thread: Mozilla's `pdfjs-dist` (legacy build, the one for Node) extracts each
 * page's text items with their positions, font sizes and angles, and whether they are marked as
 * artifacts (a tagged PDF's running headers, footers and watermarks). PDF.js is asynchronous; this
 * thread lets `pdf.ts` offer a synchronous reader (the caller waits on a shared flag, then takes the
 * answer from the message port).
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type MessagePort, workerData } from "node:worker_threads";
import type { PdfPage, PdfRequest, PdfResponse, RawItem } from "./pdf-layout.js";

type PdfJs = typeof import("pdfjs-dist/legacy/build/pdf.mjs");

const port = (workerData as { port: MessagePort }).port;
const ready = (workerData as { ready: Int32Array }).ready;

let pdfjs: Promise<PdfJs> | undefined;
/** PDF.js and its "worker" code, loaded in this thread (PDF.js then runs no worker of its own). */
function load(): Promise<PdfJs> {
  const workerModule: string = "pdfjs-dist/legacy/build/pdf.worker.mjs";
  pdfjs ??= import(workerModule).then((handler: unknown) => {
    (globalThis as { pdfjsWorker?: unknown }).pdfjsWorker = handler;
    return import("pdfjs-dist/legacy/build/pdf.mjs");
  });
  return pdfjs;
}

function assetDirs(): { fonts: string; cmaps: string } {
  const root = dirname(createRequire(import.meta.url).resolve("pdfjs-dist/package.json"));
  return { fonts: `${join(root, "standard_fonts")}/`, cmaps: `${join(root, "cmaps")}/` };
}

interface MarkedItem {
  type: string;
  tag?: string | null;
}

interface TextItemLike {
  str: string;
  transform: number[];
  width: number;
  height: number;
  fontName: string;
}

async function extract(req: PdfRequest): Promise<PdfPage[]> {
  const lib = await load();
  const dirs = assetDirs();
  const task = lib.getDocument({
    data: req.data,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    standardFontDataUrl: dirs.fonts,
    cMapUrl: dirs.cmaps,
    cMapPacked: true,
    verbosity: 0,
    stopAtErrors: false,
  });
  const doc = await task.promise;
  try {
    if (doc.numPages > req.maxPages) {
      throw Object.assign(new Error(`the PDF has ${doc.numPages} pages, the limit is ${req.maxPages}`), {
        name: "TooLarge",
      });
    }
    const pages: PdfPage[] = [];
    let chars = 0;
    for (let p = 1; p <= doc.numPages; p++) {
      const page = await doc.getPage(p);
      const vp = page.getViewport({ scale: 1 });
      const content = await page.getTextContent({ includeMarkedContent: true });
      const items: RawItem[] = [];
      const marks: boolean[] = [];
      let artifact = 0;
      for (const raw of content.items as (TextItemLike | MarkedItem)[]) {
        if ("type" in raw) {
          if (raw.type === "endMarkedContent") {
            if (marks.pop()) artifact--;
          } else {
            const a = raw.tag === "Artifact";
            marks.push(a);
            if (a) artifact++;
          }
          continue;
        }
        if (raw.str === "" || !/\S/.test(raw.str)) continue;
        const m = lib.Util.transform(vp.transform, raw.transform) as number[];
        const [a, b, c, d, e, f] = m as [number, number, number, number, number, number];
        const size = Math.hypot(c, d);
        const angle = (Math.atan2(b, a) * 180) / Math.PI;
        chars += raw.str.length;
        if (chars > req.maxChars) {
          throw Object.assign(new Error(`the PDF's text is over ${req.maxChars} characters`), {
            name: "TooLarge",
          });
        }
        items.push({
          s: raw.str,
          x: e,
          y: f,
          w: raw.width,
          size,
          angle,
          font: raw.fontName,
          ...(artifact > 0 ? { artifact: true } : {}),
        });
      }
      pages.push({ width: vp.width, height: vp.height, items });
      page.cleanup();
    }
    return pages;
  } finally {
    await doc.destroy();
  }
}

function describe(e: unknown): PdfResponse {
  const err = e as { name?: string; message?: string };
  const name = err?.name ?? "Error";
  const message = String(err?.message ?? e);
  if (name === "PasswordException") return { ok: false, kind: "encrypted", message };
  if (name === "TooLarge") return { ok: false, kind: "too-large", message };
  return { ok: false, kind: "invalid", message: `${name === "Error" ? "" : `${name}: `}${message}` };
}

let busy: Int32Array | undefined;
function answer(signal: Int32Array, res: PdfResponse): void {
  port.postMessage(res);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
  busy = undefined;
}

process.on("uncaughtException", (e) => {
  if (busy) answer(busy, describe(e));
});
process.on("unhandledRejection", (e) => {
  if (busy) answer(busy, describe(e));
});

port.on("message", (req: PdfRequest) => {
  busy = req.signal;
  extract(req).then(
    (pages) => answer(req.signal, { ok: true, pages }),
    (e) => answer(req.signal, describe(e)),
  );
});

Atomics.store(ready, 0, 1);
Atomics.notify(ready, 0);
