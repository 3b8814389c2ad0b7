/**
 * Issue 15 item 4: `medpolicy impact` end to end — the real CLI process reading a SQLite store of
 * 100,000 requests submitted through the real service — beside `medpolicy evaluate --no-trace` on the
 * same cases as NDJSON (the speed the impact should keep), measured in the same minutes.
 *
 * Two stores:
 * - seed: the varied cases of the NDJSON bench (every seed case, answers dropped and flipped) under the
 *   seed library, replayed under the LA draft `LA.CP.MP.173@2025-02` and under `CP.MP.173@2024-11` as if
 *   in force (most requests replayed, few changed: the fast path);
 * - tightened: a synthetic policy (BMI of 35 or more) and a draft asking for 40, requests with a BMI
 *   from 30 to 45 — about a third change, each decided again with its trace and its stored
 *   determination recomputed (the slow path).
 *
 * Each version is replayed on one thread (`--workers 1`) and on every core (the default, at most 8:
 * the main thread and worker threads, impact-parallel.ts), side by side.
 *
 * Best of three runs; each child reports its CPU time (user + system) so the rate per CPU-second says
 * what the code costs on a loaded machine where the wall clock says what the machine gave it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { loadLibrary } from "../src/library/index.js";
import { libraryEngine } from "../src/server/engine.js";
import { DEMO_USERS, RequestService } from "../src/server/index.js";
import { openStore } from "../src/store/index.js";
import { gizmoDoc, writeGizmoLibrary } from "../test/support/impact-fixture.js";
import { benchCases, CPU_PRELOAD, cpuOf, loadNote } from "./ndjson.js";

const ROOT = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const BIN = join(ROOT, "bin", "medpolicy.js");

const fmt = (x: number) => Math.round(x).toLocaleString("en-US");

/** The synthetic library: MP-9 in force from 2025-01 (BMI of 35 or more), a draft 2026-03 asking 40. */
export function tightenedLibrary(dir: string): void {
  const diet = "A supervised diet of at least six months.";
  writeGizmoLibrary(
    dir,
    [
      ["v2025.txt", gizmoDoc(35, "Effective Date: 01/01/2025", diet)],
      ["draft.txt", gizmoDoc(40, "Date of Last Revision: 03/2026", diet)],
    ],
    "bench",
  );
}

/** `n` synthetic MP-9 requests (seeded): BMI 30–45, the order and the diet mostly documented. */
export function tightenedCases(n: number, seed = 7): string[] {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const day = 1 + Math.floor(rnd() * 365);
    const dos = new Date(Date.UTC(2025, 0, day)).toISOString().slice(0, 10);
    out.push(
      JSON.stringify({
        id: `gizmo-${i}`,
        member: { state: "TX", birthDate: "1960-01-01", lineOfBusiness: "commercial" },
        service: { codes: ["99950"], dateOfService: dos },
        answers: { "I.B": rnd() < 0.9, "I.C": rnd() < 0.9 },
        facts: { bmi: Math.round((30 + rnd() * 15) * 10) / 10 },
      }),
    );
  }
  return out;
}

/** Submits `lines` through the real service into a new SQLite store in `dataDir`; requests per second. */
export async function fill(dataDir: string, library: string, lines: string[]): Promise<number> {
  const store = await openStore({ dataDir });
  // A clock that moves (a millisecond a reading), as a service's does: requests are received one after
  // another, and a store is scanned in the order received. Every request stays on the same day.
  let now = Date.parse("2026-02-01T12:00:00Z");
  const service = new RequestService(store, libraryEngine(loadLibrary(library)), () => new Date(now++));
  const provider = DEMO_USERS.provider!;
  const t0 = performance.now();
  let stored = 0;
  try {
    // A batch per turn of the event loop: the store commits each batch with one fsync (group commit).
    for (let i = 0; i < lines.length; i += 1000) {
      const done = await Promise.all(
        lines.slice(i, i + 1000).map((l) =>
          service.submit(JSON.parse(l), provider).then(
            () => 1,
            () => 0,
          ),
        ),
      );
      for (const d of done) stored += d;
    }
  } finally {
    await store.close();
  }
  const rate = stored / ((performance.now() - t0) / 1000);
  console.log(
    `  filled: ${fmt(stored)} requests through the service in ${((performance.now() - t0) / 1000).toFixed(1)} s (${fmt(rate)}/s)`,
  );
  return stored;
}

interface Timed {
  wall: number;
  cpu: number;
  stderr: string;
}

/** The environment without the library or database of the person running the bench. */
const ENV = (() => {
  const e = { ...process.env };
  delete e.MEDPOLICY_LIBRARY;
  delete e.DATABASE_URL;
  return e;
})();

/** Runs the CLI with `args`, best of three (wall and CPU, each the least). */
function best(args: string[]): Timed {
  let wall = Number.POSITIVE_INFINITY;
  let cpu = Number.POSITIVE_INFINITY;
  let stderr = "";
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [CPU_PRELOAD, BIN, ...args], {
      stdio: ["ignore", "ignore", "pipe", "pipe"],
      env: ENV,
      maxBuffer: 1 << 26,
    });
    const w = performance.now() - t0;
    if (r.status !== 0)
      throw new Error(`medpolicy ${args.join(" ")} exited ${r.status}: ${String(r.output[2])}`);
    if (w < wall) {
      wall = w;
      stderr = String(r.output[2]);
    }
    const c = cpuOf(r.output[3]);
    if (c > 0 && c < cpu) cpu = c;
  }
  return { wall, cpu, stderr };
}

export async function run(n = 100_000): Promise<Record<string, number>> {
  const tmp = mkdtempSync(join(tmpdir(), "medpolicy-bench-impact-"));
  const results: Record<string, number> = {};
  try {
    const seedLib = join(ROOT, "policies");
    const tightLib = join(tmp, "lib");
    tightenedLibrary(tightLib);
    const scenarios = [
      {
        name: "seed",
        library: seedLib,
        lines: benchCases(n),
        versions: ["LA.CP.MP.173@2025-02", "CP.MP.173@2024-11"],
      },
      { name: "tightened", library: tightLib, lines: tightenedCases(n), versions: ["MP-9@2026-03"] },
    ];
    for (const s of scenarios) {
      console.log(`${s.name} store (${s.library === seedLib ? "seed library" : "synthetic MP-9 library"}):`);
      const data = join(tmp, `data-${s.name}`);
      const stored = await fill(data, s.library, s.lines);
      const ndjson = join(tmp, `${s.name}.ndjson`);
      writeFileSync(ndjson, `${s.lines.join("\n")}\n`);
      // Start-up (modules, library) measured apart, so the rates are the steady state's.
      const start = best(["policies", "--json", "--library", s.library]);
      const base = best([
        "evaluate",
        ndjson,
        "--json",
        "--no-trace",
        "--no-progress",
        "--library",
        s.library,
      ]);
      const baseRate = s.lines.length / ((base.wall - start.wall) / 1000);
      const baseCpu = s.lines.length / ((base.cpu - start.cpu) / 1000);
      console.log(
        `  baseline evaluate NDJSON --no-trace: ${fmt(s.lines.length)} cases in ${fmt(base.wall)} ms (start-up ${fmt(start.wall)} ms) → ${fmt(baseRate)} cases/s; ${fmt(baseCpu)} per CPU-second`,
      );
      results[`${s.name}BaselinePerSec`] = baseRate;
      for (const [v, threads] of s.versions.flatMap((v) => [
        [v, "1"],
        [v, String(Math.min(availableParallelism(), 8))],
      ])) {
        const t = best([
          "impact",
          v!,
          "--json",
          "--library",
          s.library,
          "--store",
          `sqlite:${data}`,
          "--progress-every",
          "0",
          "--workers",
          threads!,
        ]);
        const done =
          /done: ([\d,]+) read · [\d,]+ of the policy · [\d,]+ in the window · ([\d,]+) replayed · ([\d,]+) changed in ([\d.]+) s/.exec(
            t.stderr,
          );
        const num = (x: string | undefined) => Number((x ?? "0").replaceAll(",", ""));
        const read = num(done?.[1]);
        const scan = Number(done?.[4] ?? Number.NaN);
        const rate = stored / ((t.wall - start.wall) / 1000);
        const cpuRate = stored / ((t.cpu - start.cpu) / 1000);
        console.log(
          `  impact ${v} on ${threads} thread${threads === "1" ? "" : "s"}: ${fmt(read)} read, ${fmt(num(done?.[2]))} replayed, ${fmt(num(done?.[3]))} changed in ${fmt(t.wall)} ms → ${fmt(rate)} requests/s end to end (scan alone ${fmt(read / scan)}/s); ${fmt(cpuRate)} per CPU-second`,
        );
        results[`${s.name}:${v}:${threads}PerSec`] = rate;
        results[`${s.name}:${v}:${threads}PerCpuSec`] = cpuRate;
      }
    }
    console.log(`  (${loadNote()})`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 100_000);
  await run(n);
}
