import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { decide, type Library } from "../library/index.js";
import { describeWhere, exitCodeOf, InputError, MedpolicyError } from "../model/index.js";
import { renderDetermination } from "./render.js";

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
  const input = file === "-" ? process.stdin : createReadStream(file);
  const total = file === "-" ? 0 : statSync(file).size;
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const opts = { trace: o.trace, ...(o.today ? { today: o.today } : {}) };

  let mode: "unknown" | "single" | "ndjson" = "unknown";
  let pending: string[] = [];
  let pendingBytes = 0;
  let lineNo = 0;
  let worst = 0;
  let count = 0;
  let bytes = 0;
  let buf = "";
  const started = Date.now();

  const flush = async (force = false) => {
    if (buf.length === 0 || (!force && buf.length < 65536)) return;
    const chunk = buf;
    buf = "";
    if (!o.out.write(chunk)) await new Promise<void>((r) => o.out.once("drain", () => r()));
  };
  const progress = () => {
    if (!o.progress || count % 5000 !== 0) return;
    const rate = Math.round(count / Math.max(0.001, (Date.now() - started) / 1000));
    const pct = total ? ` ${Math.min(100, Math.round((bytes / total) * 100))}%` : "";
    o.err.write(`\r${count.toLocaleString()} cases${pct} · ${rate.toLocaleString()}/s   `);
  };
  const one = (text: string, at: number) => {
    try {
      const d = decide(lib, parseJson(text, at), opts);
      buf += `${JSON.stringify(d)}\n`;
    } catch (e) {
      worst = Math.max(worst, exitCodeOf(e));
      buf += `${JSON.stringify({ line: at, error: errorObject(e) })}\n`;
      const kind = e instanceof MedpolicyError && e.kind === "input" ? "bad input" : "error";
      o.err.write(`medpolicy evaluate: ${kind} at line ${at}: ${(e as Error).message}\n`);
    }
    count++;
    progress();
  };

  for await (const raw of rl) {
    lineNo++;
    bytes += raw.length + 1;
    if (mode === "ndjson") {
      if (raw.trim() === "") continue;
      if (raw.length > MAX_LINE) {
        worst = 2;
        buf += `${JSON.stringify({ line: lineNo, error: { kind: "input", message: "line longer than 1 MiB" } })}\n`;
        continue;
      }
      one(raw, lineNo);
      await flush();
      continue;
    }
    if (mode === "unknown") {
      if (raw.trim() === "") continue;
      // A first line that is a whole JSON value means NDJSON (one case per line).
      try {
        JSON.parse(raw);
        mode = "ndjson";
        one(raw, lineNo);
        continue;
      } catch {
        mode = "single";
      }
    }
    pending.push(raw);
    pendingBytes += raw.length + 1;
    if (pendingBytes > MAX_SINGLE) {
      o.err.write(`medpolicy: input: a single case larger than ${MAX_SINGLE} bytes\n`);
      rl.close();
      return 2;
    }
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
  if (count === 1 && !o.json && worst === 0) {
    const d = JSON.parse(buf);
    buf = `${renderDetermination(d)}\n`;
  }
  await flush(true);
  return worst;
}
