import { createReadStream, statSync } from "node:fs";
import { decide, type Library } from "../library/index.js";
import type { Determination } from "../model/index.js";
import { describeWhere, exitCodeOf, InputError, MedpolicyError } from "../model/index.js";
import { JsonLinesWriter } from "./json-lines.js";
import { renderDetermination } from "./render.js";
import { Utf8Chunks } from "./utf8-chunks.js";

export interface EvaluateCliOptions {
  json: boolean;
  trace: boolean;
  today?: string;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  progress: boolean;
}

/** Largest single (non-NDJSON) document accepted. */
const MAX_SINGLE = 10 * 1024 * 1024;
/** Largest NDJSON line accepted. */
const MAX_LINE = 1024 * 1024;

function errorObject(e: unknown): { kind: string; message: string; where?: object } {
  if (e instanceof MedpolicyError) return { kind: e.kind, message: e.message, where: e.where };
  return { kind: "internal", message: (e as Error)?.message ?? String(e) };
}

/** Parses JSON, turning a SyntaxError into an InputError that says where (line of the input). */
function parseJson(text: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`malformed JSON at line ${line}: ${(e as Error).message}`, { line });
  }
}

/**
 * `medpolicy evaluate FILE|-` (SPEC 3): one JSON case (possibly pretty-printed) or NDJSON, one
 * determination per line. Streams line by line so memory stays flat on a multi-gigabyte file; writes in
 * batches honouring back-pressure; a progress bar on stderr when it is a terminal. Returns the exit code:
 * 0, or for NDJSON the worst of the lines (2 bad input, 1 determination error).
 */
export async function evaluateCommand(lib: Library, file: string, o: EvaluateCliOptions): Promise<number> {
  const input = file === "-" ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
  const total = file === "-" ? 0 : statSync(file).size;
  const opts = { trace: o.trace, ...(o.today ? { today: o.today } : {}) };

  let mode = "unknown" as "unknown" | "single" | "ndjson";
  let pending: string[] = [];
  let pendingBytes = 0;
  let lineNo = 0;
  let worst = 0;
  let count = 0;
  let bytes = 0;
  // 1 MiB batches: fewer, larger writes; encoded straight to bytes (json-lines.ts).
  const out = new JsonLinesWriter(1 << 20);
  let last: Determination | undefined;
  const started = Date.now();

  /** Full batches, taken as soon as they fill (the buffer never grows), written at the next flush. */
  const ready: Buffer[] = [];
  const flush = async (force = false) => {
    if (force && out.length > 0) ready.push(out.take());
    for (const chunk of ready.splice(0)) {
      if (!o.out.write(chunk)) await new Promise<void>((r) => o.out.once("drain", () => r()));
    }
  };
  const progress = () => {
    if (!o.progress || count % 5000 !== 0) return;
    const rate = Math.round(count / Math.max(0.001, (Date.now() - started) / 1000));
    const pct = total ? ` ${Math.min(100, Math.round((bytes / total) * 100))}%` : "";
    o.err.write(`\r${count.toLocaleString()} cases${pct} · ${rate.toLocaleString()}/s   `);
  };
  const tooLarge = () => {
    o.err.write(`medpolicy evaluate: bad input: a single case larger than ${MAX_SINGLE} bytes\n`);
    return 2;
  };
  const one = (text: string, at: number) => {
    try {
      const d = decide(lib, parseJson(text, at), opts);
      out.determination(d);
      last = d;
    } catch (e) {
      worst = Math.max(worst, exitCodeOf(e));
      out.line({ line: at, error: errorObject(e) });
      const kind = e instanceof MedpolicyError && e.kind === "input" ? "bad input" : "error";
      o.err.write(`medpolicy evaluate: ${kind} at line ${at}: ${(e as Error).message}\n`);
    }
    if (out.full) ready.push(out.take());
    count++;
    progress();
  };

  /** One input line; false aborts (a single document over the size limit). */
  const handle = (raw: string): boolean => {
    lineNo++;
    bytes += raw.length + 1;
    if (mode === "ndjson") {
      // Blank lines are skipped; checking for a non-space character avoids a trimmed copy per line.
      // A case line starts with `{`: the pattern only runs on the others.
      if (raw.charCodeAt(0) === 123 || /\S/.test(raw)) one(raw, lineNo);
      return true;
    }
    if (mode === "unknown") {
      if (raw.trim() === "") return true;
      // A first line that is a whole JSON value means NDJSON (one case per line).
      try {
        JSON.parse(raw);
        mode = "ndjson";
        one(raw, lineNo);
        return true;
      } catch {
        mode = "single";
      }
    }
    pending.push(raw);
    pendingBytes += raw.length + 1;
    return pendingBytes <= MAX_SINGLE;
  };

  // Chunks split into lines by hand: far cheaper per line than readline's async iterator (SPEC 5).
  const decoder = new Utf8Chunks();
  let carry = "";
  let skipping = false;
  let first = true;
  for await (const chunk of input) {
    let text = carry + decoder.write(chunk as Buffer);
    if (first && text.length > 0) {
      // A byte-order mark (editors on Windows write one) is not part of the first case (RFC 8259 §8.1).
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    let from = 0;
    if (skipping) {
      const nl = text.indexOf("\n");
      if (nl === -1) {
        carry = "";
        continue;
      }
      skipping = false;
      from = nl + 1;
    }
    for (let nl = text.indexOf("\n", from); nl !== -1; nl = text.indexOf("\n", from)) {
      const end = nl > from && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (!handle(text.slice(from, end))) return tooLarge();
      from = nl + 1;
    }
    text = text.slice(from);
    if (text.length > MAX_LINE && mode !== "single") {
      lineNo++;
      worst = 2;
      out.line({ line: lineNo, error: { kind: "input", message: "line longer than 1 MiB" } });
      o.err.write(`medpolicy evaluate: bad input at line ${lineNo}: line longer than 1 MiB\n`);
      skipping = true;
      text = "";
    }
    carry = text;
    await flush();
  }
  const rest = skipping ? "" : carry + decoder.end();
  if (rest !== "" && !handle(rest.endsWith("\r") ? rest.slice(0, -1) : rest)) return tooLarge();
  if (o.progress && count > 0) o.err.write("\n");

  if (mode === "single") {
    try {
      const d = decide(lib, parseJson(pending.join("\n"), 1), opts);
      o.out.write(o.json ? `${JSON.stringify(d)}\n` : `${renderDetermination(d)}\n`);
      return 0;
    } catch (e) {
      const where = e instanceof MedpolicyError ? describeWhere(e.where) : "";
      o.err.write(
        `medpolicy: ${e instanceof MedpolicyError ? e.kind : "error"}: ${(e as Error).message}${where ? ` (${where})` : ""}\n`,
      );
      return exitCodeOf(e);
    } finally {
      pending = [];
    }
  }
  if (mode === "unknown") {
    o.err.write("medpolicy: input: no case given (empty input)\n");
    return 2;
  }
  // NDJSON with a single line behaves like a single case for exit codes and human output.
  if (count === 1 && !o.json) {
    // A person at a terminal: the determination in words, or (on error) only the message on stderr.
    out.take();
    ready.length = 0;
    if (worst === 0 && last) o.out.write(`${renderDetermination(last)}\n`);
    return worst;
  }
  await flush(true);
  return worst;
}
