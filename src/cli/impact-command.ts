/**
 * `medpolicy impact ID@VERSION` (issue 15 item 4): replays the stored requests a version (a draft) would
 * have decided — dates of service in `--from`…`--to` — and reports how many outcomes change, which way
 * and through which criteria, with the requests listed (request ids only: no member data). Streams: the
 * store is read a page at a time, changes are written as they are found, progress goes to stderr.
 */
import { type ImpactChange, type ImpactCounts, type ImpactSummary, replayImpact } from "../library/impact.js";
import { type Library, type LibraryEntry, todayIso } from "../library/index.js";
import { InputError, isIsoDate, NotFoundError } from "../model/index.js";
import type { Store } from "../store/index.js";
import { parallelImpact } from "./impact-parallel.js";
import { openImpactStore } from "./impact-store.js";
import { defaultThreads, MAX_THREADS } from "./threads.js";

type Out = NodeJS.WritableStream & { isTTY?: boolean };

/**
 * Requests per range of the parallel replay: large enough that a range's round trip to a worker is
 * noise, small enough that the ranges spread evenly and progress shows often.
 */
const RANGE = 5000;

/**
 * Ranges (of {@link RANGE} requests) from which the replay goes on every core by default. Measured on
 * 2 cores (issue 15 note): a worker takes 0.6–0.8 s to start and two busy threads each run at about
 * 70% of one alone; 100,000 requests replayed no faster on two threads, 400,000 1.15–1.45× faster.
 */
const AUTO_RANGES = 40;

/** `medpolicy impact`, in the shape of main.ts's commands (registered there). */
export const impactCommand = {
  summary: "replay stored requests under a (draft) version: how many outcomes change, which way, why",
  usage:
    "medpolicy impact ID@VERSION [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--store sqlite:PATH|postgres://…] [--library DIR] [--workers N] [--json]",
  options: {
    json: {
      type: "boolean" as const,
      description: "NDJSON: one line per request whose outcome changes, then a summary line",
    },
    from: {
      type: "string" as const,
      description: "first date of service replayed (YYYY-MM-DD, inclusive; default: the earliest stored)",
    },
    to: {
      type: "string" as const,
      description: "last date of service replayed (YYYY-MM-DD, inclusive; default: the latest stored)",
    },
    store: {
      type: "string" as const,
      description:
        "the requests: sqlite:PATH (the service's data folder, or its medpolicy.db) or a postgres:// URL (default $DATABASE_URL, else sqlite:$MEDPOLICY_DATA, else sqlite:./data)",
    },
    library: {
      type: "string" as const,
      description:
        "the policy library folder (default $MEDPOLICY_LIBRARY, else the seed library shipped with medpolicy)",
    },
    "progress-every": {
      type: "string" as const,
      description: "a progress line on stderr every N requests read (default 10000; 0: only at the end)",
    },
    "page-size": {
      type: "string" as const,
      description: "requests read from the store per query (default 1000)",
    },
    "range-size": {
      type: "string" as const,
      description: `requests per range handed to a thread (default ${RANGE})`,
    },
    workers: {
      type: "string" as const,
      description: `threads replaying at once, this one included (default: one per core, at most ${MAX_THREADS}, for a store of ${AUTO_RANGES} ranges or more, else 1; 1: this thread alone)`,
    },
  },
  async run(
    args: string[],
    values: Record<string, string | boolean | undefined>,
    io: { out: Out; err: Out },
    ctx: { lib(): Library; location?(): { dir: string } },
  ): Promise<number> {
    const ref = args[0];
    if (!ref || args.length > 1 || !ref.includes("@"))
      throw new InputError("impact needs one version, e.g. medpolicy impact LA.CP.MP.173@2025-02", {
        field: "ID@VERSION",
      });
    const from = dateOption(values.from, "--from");
    const to = dateOption(values.to, "--to");
    if (from !== undefined && to !== undefined && from > to)
      throw new InputError(`--from ${from} is after --to ${to}`, { field: "--from" });
    const every = countOption(values["progress-every"], "--progress-every", 10_000, 0);
    const pageSize = countOption(values["page-size"], "--page-size", 1000, 1);
    const rangeSize = countOption(values["range-size"], "--range-size", RANGE, 1);
    const workers = Math.min(countOption(values.workers, "--workers", defaultThreads(), 1), 64);
    // Asked for: threads from 3 ranges; by default, from AUTO_RANGES (below, one thread is as fast).
    const minRanges = values.workers === undefined ? AUTO_RANGES : 3;
    const lib = ctx.lib();
    let version: LibraryEntry;
    try {
      version = lib.get(ref);
    } catch (e) {
      // The version is the command's argument: one the library lacks is bad input (exit 2).
      if (e instanceof NotFoundError) throw new InputError(e.message, { ...e.where, field: "ID@VERSION" });
      throw e;
    }
    const store = await openImpactStore(values.store as string | undefined);
    try {
      const status = lib.statusOf(version, todayIso());
      const started = Date.now();
      const progress = (c: Readonly<ImpactCounts>, done: boolean) => {
        const s = (Date.now() - started) / 1000;
        const rate = Math.round(c.read / Math.max(s, 0.001));
        io.err.write(
          `medpolicy impact: ${done ? "done: " : ""}${n(c.read)} read · ${n(c.ofPolicy)} of the policy · ${n(c.inWindow)} in the window · ${n(c.replayed)} replayed · ${n(c.changed)} changed${c.unreadable ? ` · ${n(c.unreadable)} unreadable` : ""}${done ? ` in ${s.toFixed(1)} s${threads > 1 ? ` on ${threads} threads` : ""}` : ""} (${n(rate)} requests/s)\n`,
        );
      };
      // A progress line each time the count read passes a multiple of N; the final counts are written
      // once, with the summary.
      let shown = 0;
      const onProgress = (c: Readonly<ImpactCounts>) => {
        if (every === 0 || Math.floor(c.read / every) <= Math.floor(shown / every)) return;
        shown = c.read;
        progress(c, false);
        due = true;
      };
      const window = { ...(from !== undefined && { from }), ...(to !== undefined && { to }) };
      const dir = ctx.location?.().dir;
      // Below two full ranges, one thread (a worker costs more to start than it saves); never more
      // threads than ranges.
      const ranges =
        dir !== undefined && workers > 1
          ? (await fullRanges(store, rangeSize, Math.max(workers, minRanges))) + 1
          : 1;
      const threads = ranges >= minRanges ? Math.min(workers, ranges) : 1;
      const items =
        dir !== undefined && threads > 1
          ? parallelImpact(lib, version, store, {
              ...window,
              libraryDir: dir,
              store: values.store as string | undefined,
              ref,
              pageSize,
              workers: workers - 1,
              rangeSize,
              onProgress,
            })
          : replayImpact(lib, version, store.scanDeterminations({ pageSize }), {
              ...window,
              progressEvery: every === 0 ? Number.MAX_SAFE_INTEGER : every,
              onProgress,
            });
      // Lines are gathered and written 64 KiB at a time, and with each progress line (so what is found
      // shows as it is found), honouring back-pressure.
      let pending = "";
      let due = false;
      const flush = async () => {
        due = false;
        if (pending === "") return;
        const chunk = pending;
        pending = "";
        if (!io.out.write(chunk)) await new Promise<void>((r) => io.out.once("drain", () => r()));
      };
      const write = async (text: string) => {
        pending += text;
        if (pending.length >= 1 << 16 || due) await flush();
      };
      const text = !values.json;
      if (text) {
        await write(`${header(ref, status, from, to)}\n`);
        await flush();
      }
      let listed = 0;
      for await (const item of items) {
        if (item.type === "change") {
          if (text && listed++ === 0) await write(`\n${CHANGE_HEAD}\n`);
          await write(text ? `${changeLine(item)}\n` : `${JSON.stringify(item)}\n`);
        } else {
          progress(item, true);
          await write(text ? `\n${renderSummary(item, status)}\n` : `${JSON.stringify(item)}\n`);
        }
      }
      await flush();
      return 0;
    } finally {
      await store.close();
    }
  },
};

/** The full ranges the store holds, counted up to `most` (the cuts are read from the index alone). */
async function fullRanges(store: Store, size: number, most: number): Promise<number> {
  let seen = 0;
  for await (const _ of store.scanBoundaries(size)) if (++seen >= most) break;
  return seen;
}

function n(x: number): string {
  return x.toLocaleString("en-US");
}

function dateOption(v: string | boolean | undefined, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !isIsoDate(v))
    throw new InputError(`${name} must be a date YYYY-MM-DD, not "${String(v)}"`, { field: name });
  return v;
}

function countOption(v: string | boolean | undefined, name: string, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (typeof v !== "string" || !/^\d+$/.test(v) || x < min || x > 1_000_000)
    throw new InputError(`${name} must be a whole number from ${min} to 1000000, not "${String(v)}"`, {
      field: name,
    });
  return x;
}

function header(ref: string, status: string, from?: string, to?: string): string {
  const window =
    from === undefined && to === undefined
      ? "every date of service"
      : `dates of service ${from ?? "(first)"} to ${to ?? "(last)"}`;
  return `Replaying stored requests under ${ref} (${status}), as if in force on ${window}.`;
}

const CHANGE_HEAD = "Requests whose outcome changes (request, from → to, criteria):";

function changeLine(c: ImpactChange): string {
  const why = c.criteria.length ? c.criteria.join(", ") : "—";
  const error = c.error ? ` (${c.error.kind}${c.error.field ? ` at ${c.error.field}` : ""})` : "";
  const drift = c.reproduced ? ` [the library in force now decides ${c.reproduced}]` : "";
  return `  ${c.request}  ${c.from} → ${c.to}  ${why}${error}${drift}`;
}

function renderSummary(s: ImpactSummary, status: string): string {
  const pct = s.replayed ? ` (${((s.changed / s.replayed) * 100).toFixed(1)}% of those replayed)` : "";
  const lines = [
    `Impact of ${s.policy} (${status}):`,
    `  ${n(s.read)} requests read, ${n(s.ofPolicy)} of them for the policy's codes (or naming it), ${n(s.inWindow)} of those with a date of service in the window, ${n(s.replayed)} the version would have decided (replayed)${s.unreadable ? `; ${n(s.unreadable)} unreadable (stored cases today's validation refuses)` : ""}.`,
    `  ${n(s.changed)} outcome${s.changed === 1 ? "" : "s"} change${s.changed === 1 ? "s" : ""}${pct}; ${n(s.unchanged)} unchanged.`,
  ];
  if (s.transitions.length) {
    const w = Math.max(...s.transitions.map((t) => `${t.from} → ${t.to}`.length));
    lines.push("  Which way:");
    for (const t of s.transitions) lines.push(`    ${`${t.from} → ${t.to}`.padEnd(w)}  ${n(t.count)}`);
  }
  if (s.criteria.length) {
    const w = Math.max(...s.criteria.map((c) => c.criterion.length));
    lines.push("  Through criteria:");
    for (const c of s.criteria) lines.push(`    ${c.criterion.padEnd(w)}  ${n(c.count)}`);
  }
  return lines.join("\n");
}
