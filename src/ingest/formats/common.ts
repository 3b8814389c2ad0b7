/**
 * What the format readers share: their result, their limits, list-label numbering (browsers' and
 * Word's), and the writer of the plain-text line form the ingester reads (SPEC 1.2): one line per
 * paragraph or list item, list items indented 4 spaces per nesting level, a blank line around
 * paragraphs, tables as tab-separated rows.
 */
import { type Finding, InputError } from "../../model/index.js";

export type DocumentFormat = "pdf" | "docx" | "html" | "text";

/** A document converted to the ingester's text form. */
export interface Converted {
  format: Exclude<DocumentFormat, "text">;
  text: string;
  /** What a reader removed or could not read (running headers, watermark debris, sidebars…), for the report. */
  notes: string[];
  /** The notes as findings of the ingest report (code `layout`, severity info). */
  findings: Finding[];
}

export interface ConvertOptions {
  /** Named in error messages. */
  fileName?: string;
  /** Refuse a larger document before reading it (the ingester's limit, default 20 MB). */
  maxBytes?: number;
  /** Refuse a PDF with more pages (default {@link DEFAULT_MAX_PAGES}). */
  maxPages?: number;
  /** Refuse when a DOCX part or the converted text would be larger (default {@link DEFAULT_MAX_TEXT}). */
  maxText?: number;
  /** Give up on a PDF after this long (default {@link DEFAULT_PDF_TIMEOUT_MS}). */
  timeoutMs?: number;
}

export const DEFAULT_MAX_PAGES = 2000;
export const DEFAULT_MAX_TEXT = 64 * 1024 * 1024;
export const DEFAULT_PDF_TIMEOUT_MS = 120_000;

export function inputError(message: string, opts: ConvertOptions): InputError {
  return new InputError(message, opts.fileName ? { file: opts.fileName } : {});
}

// ---------------------------------------------------------------------------------------------------
// List numbering

export type NumberStyle = "decimal" | "lower-alpha" | "upper-alpha" | "lower-roman" | "upper-roman";

const ROMAN: [number, string][] = [
  [1000, "m"],
  [900, "cm"],
  [500, "d"],
  [400, "cd"],
  [100, "c"],
  [90, "xc"],
  [50, "l"],
  [40, "xl"],
  [10, "x"],
  [9, "ix"],
  [5, "v"],
  [4, "iv"],
  [1, "i"],
];

function roman(n: number): string {
  let out = "";
  let rest = n;
  for (const [v, s] of ROMAN) {
    while (rest >= v) {
      out += s;
      rest -= v;
    }
  }
  return out;
}

/**
 * Browser letters run a, …, z, aa, ab, … (CSS `lower-alpha`); Word's run a, …, z, aa, bb, …
 * (`lowerLetter`).
 */
function letters(n: number, word: boolean): string {
  if (word) return String.fromCharCode(97 + ((n - 1) % 26)).repeat(Math.floor((n - 1) / 26) + 1);
  let out = "";
  let rest = n;
  while (rest > 0) {
    rest--;
    out = String.fromCharCode(97 + (rest % 26)) + out;
    rest = Math.floor(rest / 26);
  }
  return out;
}

/** The printed form of position `n` in a numbering style; out-of-range values fall back to decimal. */
export function formatNumber(n: number, style: NumberStyle, word = false): string {
  if (!Number.isFinite(n)) return "0";
  if (style === "decimal" || n < 1 || n > 3999) return String(Math.trunc(n));
  switch (style) {
    case "lower-alpha":
      return letters(n, word);
    case "upper-alpha":
      return letters(n, word).toUpperCase();
    case "lower-roman":
      return roman(n);
    case "upper-roman":
      return roman(n).toUpperCase();
  }
}

// ---------------------------------------------------------------------------------------------------
// The text form

/** Collapses white space as a browser does; non-breaking spaces stay (as ordinary spaces). */
export function collapseSpace(s: string): string {
  return s.replace(/[ \t\n\r\f]+/g, " ").replace(/[\u00a0\u2007\u202f]/g, " ");
}

/**
 * Builds the text form line by line. A line is started by the first visible text after a break and
 * takes the indentation (and list label) in force then; `blank()` asks for one blank line before the
 * next line (margins collapse, as in a browser); `br()` ends the line, or writes an empty line when
 * none was started.
 */
/** Rendered text on one line (a table cell): its lines trimmed and joined by spaces, tabs as spaces. */
export function oneLine(text: string): string {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .join(" ")
    .replace(/\t/g, " ");
}

export class TextWriter {
  readonly lines: string[] = [];
  private cur: string | null = null;
  private curIndent = 0;
  private blankPending = false;
  private chars = 0;
  /** The label of a list item that has not printed its first line yet, and where it goes. */
  private label: { text: string; indent: number } | null = null;

  constructor(private readonly maxChars = DEFAULT_MAX_TEXT) {}

  /** Inline text, white space already collapsed. `indent` applies if this starts a new line. */
  text(s: string, indent: number): void {
    if (s === "") return;
    if (this.cur === null) {
      const t = s.replace(/^ +/, "");
      if (t === "") return;
      if (this.label) {
        this.curIndent = this.label.indent;
        this.cur = `${this.label.text} ${t}`;
        this.label = null;
      } else {
        this.curIndent = indent;
        this.cur = t;
      }
      return;
    }
    this.cur += this.cur.endsWith(" ") && s.startsWith(" ") ? s.slice(1) : s;
  }

  /** Starts a list item: its label prints before the item's first text. */
  item(label: string, indent: number): void {
    this.flush();
    this.flushLabel();
    this.label = label === "" ? null : { text: label, indent };
  }

  /** Ends the current line, if one was started. */
  flush(): void {
    if (this.cur === null) return;
    const t = this.cur.trimEnd();
    this.cur = null;
    if (t !== "") this.push(" ".repeat(this.curIndent) + t);
  }

  /** A list item that ended without text still prints its label. */
  flushLabel(): void {
    if (!this.label) return;
    const { text, indent } = this.label;
    this.label = null;
    this.push(" ".repeat(indent) + text);
  }

  /** `<br>`: ends the line, or makes an empty one. */
  br(): void {
    if (this.cur !== null) this.flush();
    else if (this.label) this.flushLabel();
    else this.push("", true);
  }

  /** A margin: one blank line before the next line (a pending list label stays, to print with its text). */
  blank(): void {
    this.flush();
    if (this.lines.length > 0) this.blankPending = true;
  }

  /** A whole line as it stands (a table row, a preformatted line). */
  line(s: string): void {
    this.flush();
    this.flushLabel();
    this.push(s);
  }

  private push(line: string, emptyOk = false): void {
    if (this.blankPending) {
      this.blankPending = false;
      if (this.lines.length > 0 && this.lines[this.lines.length - 1] !== "") this.lines.push("");
    }
    if (line === "" && !emptyOk) return;
    this.chars += line.length + 1;
    if (this.chars > this.maxChars) {
      throw new InputError(`the document's text is too large: over ${this.maxChars} characters`);
    }
    this.lines.push(line);
  }

  finish(): string {
    this.flush();
    this.flushLabel();
    while (this.lines.length > 0 && this.lines[this.lines.length - 1] === "") this.lines.pop();
    return this.lines.length === 0 ? "" : `${this.lines.join("\n")}\n`;
  }
}
