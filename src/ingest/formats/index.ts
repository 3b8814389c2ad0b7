/**
 * ingest/formats/: the documents themselves — PDF, Word (DOCX) and HTML — read into the plain-text
 * line form the ingester reads (SPEC 1.2), with layout artefacts removed. Text and markdown pass
 * through untouched (byte for byte: the ingester decodes them as before).
 *
 * The format is told by content, never by file name: `%PDF-` in the first kilobyte is a PDF; a ZIP
 * holding `word/document.xml` is a DOCX; a document that opens with HTML markup (`<!doctype html>`,
 * `<html>`, `<body>`, or a block tag such as `<p>`, `<ol>`, `<div>`, `<h1>`, `<table>`) is HTML;
 * anything else is text. Unreadable files — a damaged or encrypted PDF, a broken ZIP, another kind of
 * ZIP, a legacy `.doc` — are an {@link InputError} (exit 2) that says what is wrong.
 *
 * Libraries (npm; each the established one for its job, synchronous where it can be):
 * - `pdfjs-dist` — Mozilla's PDF.js (legacy build, for Node): text items with positions from any PDF
 *   (fonts, encodings, CMaps, marked content); run in a worker thread (`pdf.ts`).
 * - `fflate` — ZIP reading for the DOCX package: small, fast, synchronous, inflates only the XML parts
 *   (each bounded by its declared size).
 * - `@xmldom/xmldom` — the W3C DOM parser for the WordprocessingML parts (the one mammoth uses).
 * - `parse5` — the WHATWG-conformant HTML parser (the tree a browser builds, omitted end tags
 *   included).
 * Layout (headers, footers, sidebars, watermarks, hyphenation, reading order) and the rendering of
 * lists are ours: `pdf-layout.ts`, `docx.ts`, `html.ts`.
 */
import { createHash } from "node:crypto";
import { unzipSync } from "fflate";
import { InputError } from "../../model/index.js";
import { DEFAULT_MAX_BYTES } from "../input.js";
import { type Converted, type ConvertOptions, type DocumentFormat, inputError } from "./common.js";
import { docxToText } from "./docx.js";
import { htmlToText } from "./html.js";
import { pdfToText } from "./pdf.js";

export type { Converted, ConvertOptions, DocumentFormat } from "./common.js";
export { htmlToText } from "./html.js";
export { layoutPdf } from "./pdf-layout.js";

const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const EMPTY_ZIP = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
const OLE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

const HTML_START =
  /^(?:\s|<!--[\s\S]*?-->|<\?xml[^>]*>)*<(?:!doctype\s+html|html|head|body|p|ol|ul|div|h[1-6]|table|section|article|main|header|meta|title|style|span|br|dl|blockquote|center|font)\b/i;
const HTML_ANYWHERE = /<!doctype\s+html|<html[\s>]|<body[\s>]/i;

/** Whether text is an HTML document: it opens with markup, or declares itself in its first kilobyte. */
export function isHtml(text: string): boolean {
  const head = text.slice(0, 1024).replace(/^\ufeff/, "");
  return HTML_START.test(head) || HTML_ANYWHERE.test(head);
}

type Kind = DocumentFormat | "zip" | "ole";

function kindOf(input: string | Buffer): Kind {
  if (typeof input === "string") return isHtml(input) ? "html" : "text";
  if (input.subarray(0, 1024).includes("%PDF-")) return "pdf";
  if (input.subarray(0, 4).equals(ZIP) || input.subarray(0, 4).equals(EMPTY_ZIP)) {
    return input.includes("word/document.xml") ? "docx" : "zip";
  }
  if (input.subarray(0, 8).equals(OLE)) return "ole";
  const utf16 = utf16Of(input);
  if (utf16) return isHtml(new TextDecoder(utf16).decode(input.subarray(0, 2048))) ? "html" : "text";
  // A text or HTML file: the HTML test reads only its first kilobyte (as Latin-1, enough for tags).
  return isHtml(input.subarray(0, 1024).toString("latin1")) ? "html" : "text";
}

/** The document's format, by content. */
export function detectFormat(input: string | Buffer): DocumentFormat {
  const k = kindOf(input);
  return k === "zip" || k === "ole" ? "docx" : k;
}

function mb(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(n < 1024 * 1024 ? 2 : 1)} MB`;
}

function withFindings(format: Converted["format"], text: string, notes: string[]): Converted {
  const label = format.toUpperCase();
  return {
    format,
    text,
    notes,
    findings: notes.map((n) => ({ code: "layout", severity: "info" as const, message: `${label}: ${n}` })),
  };
}

/** One converted document remembered: the CLI reads a file twice when it identifies a policy by content. */
let last: { key: string; result: Converted } | undefined;

/** A UTF-16 byte-order mark (web pages saved by some Windows programs). */
function utf16Of(input: Buffer): "utf-16le" | "utf-16be" | undefined {
  if (input[0] === 0xff && input[1] === 0xfe) return "utf-16le";
  if (input[0] === 0xfe && input[1] === 0xff) return "utf-16be";
  return undefined;
}

function decodeHtml(input: Buffer): string {
  const utf16 = utf16Of(input);
  if (utf16) return new TextDecoder(utf16).decode(input).replace(/^\ufeff/, "");
  let text = new TextDecoder("utf-8").decode(input);
  const bad = (text.match(/\ufffd/g) ?? []).length;
  const charset = /<meta[^>]+charset\s*=\s*["']?([\w-]+)/i.exec(input.subarray(0, 4096).toString("latin1"));
  if (bad > 0 && (charset === null || !/^utf-?8$/i.test(charset[1] as string))) {
    // A page saved in Windows-1252 (what browsers read ISO-8859-1 as).
    text = new TextDecoder("windows-1252").decode(input);
  }
  return text.replace(/^\ufeff/, "");
}

/**
 * Converts a PDF, DOCX or HTML document to the ingester's text form; returns undefined for text (which
 * the ingester reads as it is).
 *
 * @throws InputError for a document of a known format that cannot be read (damaged, encrypted, too
 *   large, no text), naming what is wrong.
 */
export function convertDocument(input: string | Buffer, opts: ConvertOptions = {}): Converted | undefined {
  const kind = kindOf(input);
  if (kind === "text") return undefined;
  if (kind === "ole") {
    throw inputError(
      "cannot read a legacy Word (.doc) or password-protected Office file: save it as .docx (unprotected) or PDF",
      opts,
    );
  }
  if (kind === "zip") {
    try {
      unzipSync(input as Buffer, { filter: () => false });
    } catch (e) {
      throw inputError(`not a readable Word document: a broken ZIP archive (${(e as Error).message})`, opts);
    }
    throw inputError(
      "not a Word document: a ZIP archive without word/document.xml (only .docx is read)",
      opts,
    );
  }
  const size = typeof input === "string" ? input.length : input.length;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (size > maxBytes) {
    throw inputError(`the document is too large: ${mb(size)}, the limit is ${mb(maxBytes)}`, opts);
  }
  const key =
    typeof input === "string"
      ? undefined
      : `${kind}:${input.length}:${createHash("sha256").update(input).digest("hex")}:${opts.maxPages}:${opts.maxText}`;
  if (key && last?.key === key) return last.result;
  let result: Converted;
  try {
    if (kind === "html") {
      const text = typeof input === "string" ? input : decodeHtml(input);
      result = withFindings("html", htmlToText(text, opts.maxText), []);
    } else if (kind === "docx") {
      const r = docxToText(input as Buffer, opts, opts.maxText);
      result = withFindings("docx", r.text, r.notes);
    } else {
      const r = pdfToText(input as Buffer, opts);
      result = withFindings("pdf", r.text, r.notes);
    }
  } catch (e) {
    if (e instanceof InputError) {
      if (opts.fileName && !e.where.file)
        throw new InputError(e.message, { ...e.where, file: opts.fileName });
      throw e;
    }
    throw inputError(`cannot read the ${kind.toUpperCase()} document: ${(e as Error).message}`, opts);
  }
  if (key) last = { key, result };
  return result;
}
