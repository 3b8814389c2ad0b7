import { closeSync, createReadStream, openSync, type Stats, statSync } from "node:fs";
import { decide, type Library } from "../library/index.js";
import type { Determination } from "../model/index.js";
import { describeWhere, exitCodeOf, InputError, MedpolicyError } from "../model/index.js";
import { type BatchResult, evaluateLine, MAX_LINE, parseJson } from "./evaluate-lines.js";
import { ParallelEvaluator } from "./evaluate-parallel.js";
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
  /**
   * Threads deciding an NDJSON file, this one included (evaluate-parallel.ts); 1 or absent: this thread
   * alone. Workers need {@link libraryDir}: each loads the library itself.
   */
  threads?: number;
  libraryDir?: string;
  /** Files at least this large are decided on {@link threads} threads (default 64 MiB ≈ 190,000 cases). */
  parallelFrom?: number;
  /** Lines per batch handed to a thread (default 1,000). */
  batch?: number;
  /** False: only worker threads decide (tests); default: this thread too. */
  localWork?: boolean;
}

/** Largest single (non-NDJSON) document accepted. */
const MAX_SINGLE = 10 * 1024 * 1024;
/**
 * Below this, one thread. Measured on 2 cores (issue 13 note): a worker takes 1–3 s to start while
 * this thread works (its modules and the library, sharing the cores), and two busy threads each run at
 * about 70% of one alone; 100,000 cases (34 MB) ran slower on two threads than on one, 500,000 (170 MB)
 * 10–16% faster.
 */
const PARALLEL_FROM = 64 * 1024 * 1024;

/** The size of the case file; InputError when it cannot be read as a file (missing, a folder, no access). */
function sizeOf(file: string): number {
  const refuse = (e: unknown) =>
    new InputError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      file,
    });
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw refuse(e);
  }
  if (!st.isFile() && !st.isFIFO() && !st.isCharacterDevice())
    throw new InputError(`cannot read ${file}: not a file (a folder?)`, { file });
  if (st.isFile()) {
    // Opened once here, so a file that may not be read is bad input too, not a stream error later.
    try {
      closeSync(openSync(file, "r"));
    } catch (e) {
      throw refuse(e);
    }
  }
  return st.isFile() ? st.size : 0;
}

/**
 * `medpolicy evaluate FILE|-` (SPEC 3): one JSON case (possibly pretty-printed) or NDJSON, one
 * determination per line. Streams line by line so memory stays flat on a multi-gigabyte file; writes in
 * batches honouring back-pressure; a progress bar on stderr when it is a terminal. Returns the exit code:
 * 0, or for NDJSON the worst of the lines (2 bad input, 1 determination error).
 */
export async function evaluateCommand(lib: Library, file: string, o: EvaluateCliOptions): Promise<number> {
  // Looked at before it is opened: a missing file or a folder is bad input naming it (exit 2).
  const total = file === "-" ? 0 : sizeOf(file);
  const input = file === "-" ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
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
  let shown = 0;
  const progress = () => {
    // A line each time the count passes a multiple of 5,000 (in batches when decided in parallel).
    if (!o.progress || Math.floor(count / 5000) <= Math.floor(shown / 5000)) return;
    shown = count;
    const rate = Math.round(count / Math.max(0.001, (Date.now() - started) / 1000));
    const pct = total ? ` ${Math.min(100, Math.round((bytes / total) * 100))}%` : "";
    o.err.write(`\r${count.toLocaleString()} cases${pct} · ${rate.toLocaleString()}/s   `);
  };
  const tooLarge = () => {
    o.err.write(`medpolicy evaluate: bad input: a single case larger than ${MAX_SINGLE} bytes\n`);
    return 2;
  };
  // Issue 13: a large NDJSON file is decided on every core; lines then go to `parallel` in batches.
  let parallel: ParallelEvaluator | undefined;
  let firstCase: { text: string; at: number } | undefined;
  // Written only once a second case is decided: one case alone is printed in words (below), its line
  // never written — as on one thread, where it waits in `out`.
  const held: Buffer[] = [];
  const gathered = (r: BatchResult) => {
    count += r.count;
    const to = !o.json && count < 2 ? held : ready;
    if (to === ready && held.length > 0) ready.push(...held.splice(0));
    for (const b of r.out) to.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    if (r.err !== "") o.err.write(r.err);
    if (r.worst > worst) worst = r.worst;
    progress();
  };
  const goParallel = () => {
    // A thread per MiB of input at most: more would start without work to take.
    const threads = Math.min(o.threads ?? 1, Math.max(2, Math.ceil(total / (1 << 20))));
    if (threads < 2 || o.libraryDir === undefined || total < (o.parallelFrom ?? PARALLEL_FROM)) return;
    // What this thread already wrote (a first line over the size limit) goes out before the rest.
    if (out.length > 0) (o.json ? ready : held).push(out.take());
    parallel = new ParallelEvaluator(
      lib,
      {
        libraryDir: o.libraryDir,
        opts,
        workers: threads - 1,
        batch: o.batch ?? 1000,
        ...(o.localWork === false && { local: false }),
      },
      gathered,
    );
  };
  const one = (text: string, at: number) => {
    firstCase ??= { text, at };
    if (parallel !== undefined) {
      parallel.push(text, at);
      return;
    }
    const r = evaluateLine(lib, text, at, opts, out);
    if (r.determination !== undefined) last = r.determination;
    else {
      worst = Math.max(worst, r.code);
      o.err.write(r.message!);
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
      } catch {
        mode = "single";
      }
      if (mode === "unknown") {
        mode = "ndjson";
        goParallel();
        one(raw, lineNo);
        return true;
      }
    }
    pending.push(raw);
    pendingBytes += raw.length + 1;
    return pendingBytes <= MAX_SINGLE;
  };

  try {
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
      if (parallel !== undefined) {
        // Every core at work (issue 13): the whole lines of the chunk go as they are, split by the threads.
        const last = text.lastIndexOf("\n");
        if (last >= from) {
          const piece = text.slice(from, last);
          lineNo += parallel.piece(piece, lineNo + 1);
          bytes += piece.length + 1;
          from = last + 1;
        }
      }
      for (let nl = text.indexOf("\n", from); nl !== -1; nl = text.indexOf("\n", from)) {
        const end = nl > from && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        if (!handle(text.slice(from, end))) return tooLarge();
        from = nl + 1;
      }
      text = text.slice(from);
      if (text.length > MAX_LINE && mode !== "single") {
        lineNo++;
        const message = `medpolicy evaluate: bad input at line ${lineNo}: line longer than 1 MiB\n`;
        const error = { line: lineNo, error: { kind: "input", message: "line longer than 1 MiB" } };
        if (parallel !== undefined) {
          const w = new JsonLinesWriter(256);
          w.line(error);
          parallel.literal({ out: [w.take()], err: message, worst: 2, count: 0 });
        } else {
          worst = 2;
          out.line(error);
          o.err.write(message);
        }
        skipping = true;
        text = "";
      }
      carry = text;
      if (parallel !== undefined) await parallel.pace();
      await flush();
    }
    const rest = skipping ? "" : carry + decoder.end();
    if (rest !== "" && !handle(rest.endsWith("\r") ? rest.slice(0, -1) : rest)) return tooLarge();
    if (parallel !== undefined) {
      await parallel.drain();
      // One case in a large file (the rest blank): the words of its determination, as below.
      if (count === 1 && worst === 0 && firstCase !== undefined)
        last = decide(lib, parseJson(firstCase.text, firstCase.at), opts);
    }
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
      held.length = 0;
      if (worst === 0 && last) o.out.write(`${renderDetermination(last)}\n`);
      return worst;
    }
    ready.push(...held.splice(0));
    await flush(true);
    return worst;
  } finally {
    await parallel?.close();
  }
}
