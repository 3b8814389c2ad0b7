/**
 * One NDJSON line of `medpolicy evaluate` decided (SPEC 3), and a batch of them: what the main thread
 * does line by line, and a worker thread of the parallel evaluation (evaluate-parallel.ts) batch by
 * batch — the same bytes, the same messages, the same exit codes either way.
 */
import { type DecideOptions, decide, JsonLinesWriter, type Library } from "../library/index.js";
import type { Determination } from "../model/index.js";
import { checkJson, exitCodeOf, InputError, MedpolicyError } from "../model/index.js";
import type { LibraryHandoff } from "./threads.js";

/** What `evaluate` decides with: the trace or not, and the day (read once for the whole input). */
export type LineOptions = Pick<DecideOptions, "trace" | "today">;

/**
 * Parses a case's JSON as the service parses a body (SPEC 5, issue 13: {@link checkJson} — a repeated
 * key, deep nesting, a prototype-poisoning key are refused, not resolved by the last one), each
 * refusal an InputError that says where (line of the input, and the field).
 */
export function parseJson(text: string, line: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(`malformed JSON at line ${line}: ${(e as Error).message}`, { line });
  }
  try {
    checkJson(text, value, "the case");
  } catch (e) {
    if (e instanceof InputError) throw new InputError(e.message, { ...e.where, line });
    throw e;
  }
  return value;
}

export function errorObject(e: unknown): { kind: string; message: string; where?: object } {
  if (e instanceof MedpolicyError) return { kind: e.kind, message: e.message, where: e.where };
  return { kind: "internal", message: (e as Error)?.message ?? String(e) };
}

/** Largest NDJSON line accepted (characters). */
export const MAX_LINE = 1024 * 1024;

/** One line's result: its exit code (0, 1 error, 2 bad input), its determination, its stderr message. */
export interface LineResult {
  code: number;
  determination?: Determination;
  message?: string;
}

/**
 * Decides the case on line `at` into `out`: its determination, or `{"line","error"}` and the message
 * for stderr (SPEC 3: a bad line does not stop the others).
 */
export function evaluateLine(
  lib: Library,
  text: string,
  at: number,
  opts: LineOptions,
  out: JsonLinesWriter,
): LineResult {
  // A whole line over the limit (the reader refuses one that spans chunks before it ends; one that
  // ends inside a chunk arrives here).
  if (text.length > MAX_LINE) {
    out.line({ line: at, error: { kind: "input", message: "line longer than 1 MiB" } });
    return { code: 2, message: `medpolicy evaluate: bad input at line ${at}: line longer than 1 MiB\n` };
  }
  try {
    const d = decide(lib, parseJson(text, at), opts);
    out.determination(d);
    return { code: 0, determination: d };
  } catch (e) {
    out.line({ line: at, error: errorObject(e) });
    const kind = e instanceof MedpolicyError && e.kind === "input" ? "bad input" : "error";
    return {
      code: exitCodeOf(e),
      message: `medpolicy evaluate: ${kind} at line ${at}: ${(e as Error).message}\n`,
    };
  }
}

/**
 * This thread's writer for batches: one for all, so the encodings it remembers (the frozen parts of
 * determinations, recurring strings) serve every batch, not one.
 */
const writer = new JsonLinesWriter(1 << 18);

/** A batch of lines decided: the NDJSON bytes, the stderr text, the worst exit code, the lines. */
export interface BatchResult {
  /** The bytes, in chunks of about 256 KiB (each a buffer of its own: a worker moves them, not copies). */
  out: Uint8Array[];
  err: string;
  worst: number;
  count: number;
}

/** Decides `lines` (numbered `at`) in order, as {@link evaluateLine} one by one. */
export function evaluateBatch(
  lib: Library,
  lines: readonly string[],
  at: ArrayLike<number>,
  opts: LineOptions,
): BatchResult {
  const out: Uint8Array[] = [];
  let err = "";
  let worst = 0;
  for (let i = 0; i < lines.length; i++) {
    const r = evaluateLine(lib, lines[i]!, at[i]!, opts, writer);
    if (r.code > worst) worst = r.code;
    if (r.message !== undefined) err += r.message;
    if (writer.full) out.push(writer.take());
  }
  if (writer.length > 0) out.push(writer.take());
  return { out, err, worst, count: lines.length };
}

/** What an evaluate worker is started with. */
export interface EvaluateWorkerData extends LibraryHandoff {
  opts: LineOptions;
}

/** A batch of lines, numbered. */
export interface BatchTask {
  index: number;
  lines: string[];
  at: number[];
}

/**
 * Work as sent to a worker: a batch of case lines joined by newlines (a line holds none), numbered by
 * `at`; or a piece of the input — whole lines as read, blank ones included — whose first is line `first`.
 */
export type WireTask = { index: number; text: string } & ({ at: number[] } | { first: number });

/**
 * A piece of NDJSON input decided: its lines split as `evaluate` splits them (a CR before the newline
 * dropped; a blank line skipped, though counted), the first numbered `first`.
 */
export function evaluatePiece(lib: Library, text: string, first: number, opts: LineOptions): BatchResult {
  const out: Uint8Array[] = [];
  let err = "";
  let worst = 0;
  let count = 0;
  let at = first;
  for (let from = 0; ; at++) {
    const nl = text.indexOf("\n", from);
    const stop = nl === -1 ? text.length : nl;
    const end = stop > from && text.charCodeAt(stop - 1) === 13 ? stop - 1 : stop;
    const raw = text.slice(from, end);
    // As evaluate.ts: a case line starts with `{`; the pattern only runs on the others.
    if (raw.charCodeAt(0) === 123 || /\S/.test(raw)) {
      const r = evaluateLine(lib, raw, at, opts, writer);
      if (r.code > worst) worst = r.code;
      if (r.message !== undefined) err += r.message;
      if (writer.full) out.push(writer.take());
      count++;
    }
    if (nl === -1) break;
    from = nl + 1;
  }
  if (writer.length > 0) out.push(writer.take());
  return { out, err, worst, count };
}

/** A worker's answers. */
export type EvaluateWorkerMessage =
  | { type: "ready" }
  | ({ type: "done"; index: number } & BatchResult)
  | { type: "error"; message: string };
