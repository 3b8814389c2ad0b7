/**
 * SPEC 5 and issue 13: the HTTP service under load, side by side with its floor, in one run:
 *
 * - `bare`: a bare Fastify route (bench/http-bare.ts: Fastify's defaults, its own JSON parser) taking
 *   the same payload and answering the same bytes as `/api/evaluate` — what HTTP alone costs here;
 * - `evaluate`: `POST /api/evaluate`; `evaluate (no log)`: the same with the access log off, for its cost;
 * - `requests sqlite` / `requests postgres`: `POST /api/requests` (each call stores a new request).
 *
 * Each target is measured at a fixed 1,000 requests/s (p50/p99; goal p99 < 20 ms) and at saturation
 * (req/s with 32 connections, three interleaved rounds; goal: evaluate within 10% of bare). Then the bytes on disk per stored
 * request (goal ≤ 2 KB). Every server is its own process in its default configuration (as
 * `medpolicy serve` runs it: access logs as shipped, embedded store or PostgreSQL) except for the rate
 * limit, which would throttle the load generator's single token. Loopback only; bounded in time
 * (about two minutes). Options through the environment: `BENCH_HTTP_SECONDS` (fixed-rate phase, default
 * 10), `BENCH_HTTP_ONLY` (comma-separated target names), `BENCH_HTTP_NODE_ARGS` (Node options for the servers, e.g. to
 * profile them), `MEDPOLICY_BENCH_DATABASE_URL` (default: the tests' PostgreSQL; skipped when
 * unreachable).
 *
 * Floors, side by side in the same minutes (issue 13: what the goals are measured against):
 * - PostgreSQL at the same fixed rate and concurrency (16 in flight), no HTTP and no decision: the
 *   store's own `createRequest` (the one-statement insert and its commit, through the store's pool),
 *   and a one-row insert and commit on a pool of the same size (what a durable commit costs here);
 * - the decision and its encoding alone, in process (CPU per request), beside bare's CPU per request:
 *   the highest evaluate/bare ratio that any HTTP plumbing could reach.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import { loadLibrary } from "../src/library/index.js";
import { Auth, DEMO_USERS } from "../src/server/auth.js";
import { libraryEngine } from "../src/server/engine.js";
import { RequestService } from "../src/server/service.js";
import { PostgresStore } from "../src/store/postgres.js";
import type { NewDetermination, NewEvent, NewRequest, Store } from "../src/store/types.js";

interface Histogram {
  average: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}
interface AutocannonResult {
  latency: Histogram;
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SATURATION_ROUNDS = 3;
const SATURATION_SECONDS = 3;
/** USER_HZ: the unit of /proc/PID/stat times (100 on Linux). */
const CLOCK_TICKS = 100;
const PG_URL =
  process.env.MEDPOLICY_BENCH_DATABASE_URL ??
  process.env.MEDPOLICY_TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/test";

export interface TargetResult {
  name: string;
  /** Fixed-rate phase. */
  rate: number;
  achievedRps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Saturation: requests/s with 32 connections, median of the rounds. */
  saturationRps: number;
  saturationRounds: number[];
  /**
   * The server process's CPU time per request at saturation (per round): what saturation would be on a
   * core of its own (1 / this), steady however busy the machine's other core is.
   */
  cpuUsPerRequest: number[];
  non2xx: number;
  errors: number;
}

/** A floor measured at the targets' fixed rate and concurrency, without HTTP (see the header). */
export interface FloorResult {
  name: string;
  rate: number;
  achievedRps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
}

export interface HttpBenchResult {
  targets: TargetResult[];
  /** PostgreSQL floors (store insert, one-row commit), when PostgreSQL is reachable. */
  floors: FloorResult[];
  /** CPU µs of the decision and its encoding alone (median of rounds), in process. */
  decideEncodeCpuUs?: number;
  /** Saturation of evaluate over bare (goal ≥ 0.9). */
  evaluateOverBare?: number;
  /** Bytes on disk per stored request, per database. */
  bytesPerRequest: Record<string, number>;
}

interface Server {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Spawns `script` with `args` and waits for its `{"url": …}` line. */
async function spawnServer(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Server> {
  // BENCH_HTTP_NODE_ARGS: extra Node options for every server (e.g. `--cpu-prof --cpu-prof-dir=DIR`).
  const nodeArgs = process.env.BENCH_HTTP_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const proc = spawn(process.execPath, [...nodeArgs, "--import", "tsx", join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    // Access logs (stderr) are drained, as a log shipper would: writing them is part of what is measured.
    stdio: ["ignore", "pipe", "pipe"],
  });
  let tail = "";
  proc.stderr!.on("data", (d: Buffer) => {
    tail = (tail + d.toString()).slice(-2000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = "";
    const onData = (d: Buffer) => {
      if (buf.length < 1 << 16) buf += d.toString();
      const m = /\{"url":"([^"]+)"/.exec(buf);
      if (m) resolve(m[1]!);
    };
    proc.stdout!.on("data", onData);
    proc.once("exit", (code) => reject(new Error(`${script} exited (${code}) before listening:\n${tail}`)));
  });
  return {
    url,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
      }),
  };
}

async function postgresReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

async function withPg<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The server process, whose CPU time per request is read from /proc (Linux). */
  pid?: number;
}

/** CPU time (user + system) of process `pid` in ms, from /proc; undefined where there is none. */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name: utime is the 12th, stime the 13th (clock ticks).
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Measures the targets side by side: a warm-up each, then each at a fixed rate, then saturation in
 * interleaved rounds (bare, evaluate, …, then again), so that a neighbour's burst of work on this shared
 * machine falls on all of them alike; the evaluate/bare ratio is the median of the rounds' ratios.
 */
async function measureAll(
  targets: Target[],
  body: string,
  rate: number,
  seconds: number,
  /** Run between the fixed-rate phase and saturation (the floors, in the same minutes). */
  afterFixed?: () => Promise<void>,
): Promise<TargetResult[]> {
  const common = (t: Target) => ({
    url: t.url,
    method: "POST",
    headers: { "content-type": "application/json", ...t.headers },
    body,
  });
  // Warm-up: JIT, lazily compiled policies, connection pools.
  for (const t of targets) await autocannon({ ...common(t), connections: 8, duration: 3 });
  const results: TargetResult[] = [];
  for (const t of targets) {
    const fixed = await autocannon({ ...common(t), connections: 16, overallRate: rate, duration: seconds });
    const r: TargetResult = {
      name: t.name,
      rate,
      achievedRps: Math.round(fixed.requests.total / fixed.duration),
      p50Ms: fixed.latency.p50,
      p99Ms: fixed.latency.p99,
      maxMs: fixed.latency.max,
      saturationRps: 0,
      saturationRounds: [],
      cpuUsPerRequest: [],
      non2xx: fixed.non2xx,
      errors: fixed.errors + fixed.timeouts,
    };
    console.log(
      `http ${t.name.padEnd(17)} ${rate}/s → ${r.achievedRps}/s: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms ` +
        `(goal p99 < 20 ms) ${r.p99Ms < 20 ? "OK" : "MISSED"}` +
        (r.non2xx || r.errors ? ` · non-2xx ${r.non2xx}, errors ${r.errors}` : ""),
    );
    results.push(r);
  }
  await afterFixed?.();
  for (let round = 0; round < SATURATION_ROUNDS; round++) {
    for (const [i, t] of targets.entries()) {
      const cpu0 = cpuMs(t.pid);
      const sat = await autocannon({ ...common(t), connections: 32, duration: SATURATION_SECONDS });
      const cpu1 = cpuMs(t.pid);
      results[i]!.saturationRounds.push(Math.round(sat.requests.total / sat.duration));
      if (cpu0 !== undefined && cpu1 !== undefined && sat.requests.total > 0) {
        results[i]!.cpuUsPerRequest.push(Math.round(((cpu1 - cpu0) * 1000) / sat.requests.total));
      }
      results[i]!.non2xx += sat.non2xx;
      results[i]!.errors += sat.errors + sat.timeouts;
    }
  }
  for (const r of results) {
    r.saturationRps = median(r.saturationRounds);
    const cpu = r.cpuUsPerRequest.length
      ? ` · server CPU ${median(r.cpuUsPerRequest)} µs/request (rounds ${r.cpuUsPerRequest.join(", ")})`
      : "";
    console.log(
      `http ${r.name.padEnd(17)} saturation: median ${r.saturationRps} req/s (rounds ${r.saturationRounds.join(", ")})${cpu}` +
        (r.non2xx || r.errors ? ` · non-2xx ${r.non2xx}, errors ${r.errors}` : ""),
    );
  }
  return results;
}

/**
 * Runs `op` at `rate` per second overall with at most `inFlight` at once, as autocannon's `overallRate`
 * does with that many connections: each worker takes the next slot of the schedule, waits for its time
 * (or goes at once when late), and times the operation alone (from its start, as autocannon does).
 */
async function fixedRate(
  name: string,
  op: () => Promise<unknown>,
  rate: number,
  seconds: number,
  inFlight = 16,
): Promise<FloorResult> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < total; i = next++) {
        const due = t0 + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        const start = performance.now();
        try {
          await op();
          latencies.push(performance.now() - start);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const ms = (v: number) => Math.round(v * 10) / 10;
  const r: FloorResult = {
    name,
    rate,
    achievedRps: Math.round(latencies.length / elapsed),
    p50Ms: ms(at(0.5)),
    p99Ms: ms(at(0.99)),
    maxMs: ms(latencies[latencies.length - 1] ?? 0),
    errors,
  };
  console.log(
    `floor ${name.padEnd(30)} ${rate}/s → ${r.achievedRps}/s: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms` +
      (errors ? ` · errors ${errors}` : ""),
  );
  return r;
}

/**
 * A request as `POST /api/requests` hands it to the store (decided, encoded, indexed), captured once
 * from the service itself with the bench's body, so the store floor writes what the server writes.
 */
function capturedSubmission(body: string): Promise<[NewRequest, NewDetermination, NewEvent]> {
  let got: [NewRequest, NewDetermination, NewEvent] | undefined;
  const capture = {
    setReproducer() {},
    async createRequest(req: NewRequest, first: NewDetermination, event: NewEvent) {
      got = [req, first, event];
      throw new Error("captured");
    },
  } as unknown as Store;
  const service = new RequestService(capture, libraryEngine(loadLibrary()));
  return service.submit(JSON.parse(body), DEMO_USERS.provider!).then(
    () => Promise.reject(new Error("the capturing store did not see the request")),
    () => (got ? got : Promise.reject(new Error("the capturing store did not see the request"))),
  );
}

/**
 * The PostgreSQL floors at `rate` (see the header): the store's `createRequest` through its own pool,
 * then a one-row insert and commit on a pool of the store's size, each in `schema`.
 */
async function postgresFloors(
  url: string,
  schema: string,
  body: string,
  rate: number,
  seconds: number,
): Promise<FloorResult[]> {
  const [req, first, event] = await capturedSubmission(body);
  const out: FloorResult[] = [];
  const store = await PostgresStore.open(url);
  try {
    const write = () => store.createRequest({ ...req, id: randomUUID() }, first, event);
    for (let i = 0; i < 200; i++) await write(); // warm: connections, prepared statement
    out.push(await fixedRate("postgres store insert", write, rate, seconds));
  } finally {
    await store.close();
  }
  const pool = new pg.Pool({ connectionString: PG_URL, max: 20, options: `-c search_path=${schema}` });
  try {
    await pool.query("CREATE TABLE IF NOT EXISTS bench_commit (x integer)");
    let n = 0;
    const commit = () =>
      pool.query({ name: "bench_commit", text: "INSERT INTO bench_commit (x) VALUES ($1)", values: [n++] });
    for (let i = 0; i < 200; i++) await commit();
    out.push(await fixedRate("postgres one-row commit", commit, rate, seconds));
  } finally {
    await pool.end();
  }
  return out;
}

/** CPU µs per call of the decision and its encoding alone (`POST /api/evaluate`'s work, no HTTP). */
function decideEncodeCpu(body: string): number {
  const service = new RequestService(
    { setReproducer() {} } as unknown as Store,
    libraryEngine(loadLibrary()),
  );
  const input = JSON.parse(body) as unknown;
  const opts = { trace: true };
  const rounds: number[] = [];
  for (let i = 0; i < 5000; i++) service.evaluateJson(input, opts);
  for (let r = 0; r < 5; r++) {
    const n = 20_000;
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) service.evaluateJson(input, opts);
    const c = process.cpuUsage(c0);
    rounds.push((c.user + c.system) / n);
  }
  return Math.round(median(rounds) * 10) / 10;
}

/** SQLite: pages × page size over requests, after a checkpoint (what the data folder holds). */
function sqliteBytesPerRequest(dataDir: string): number {
  const db = new Database(join(dataDir, "medpolicy.db"));
  try {
    db.pragma("wal_checkpoint(TRUNCATE)");
    const pages = db.pragma("page_count", { simple: true }) as number;
    const size = db.pragma("page_size", { simple: true }) as number;
    const n = (db.prepare("SELECT COUNT(*) AS n FROM requests").get() as { n: number }).n;
    return n ? Math.round((pages * size) / n) : 0;
  } finally {
    db.close();
  }
}

/** PostgreSQL: `pg_total_relation_size` (heap, TOAST, indexes) of the store's tables over requests. */
async function postgresBytesPerRequest(schema: string): Promise<number> {
  return withPg(async (c) => {
    // As autovacuum would: inserts from many connections extend a table by many empty pages at once
    // (relation extension under contention); VACUUM returns the trailing empty ones.
    await c.query(`VACUUM ${schema}.requests, ${schema}.determinations, ${schema}.events`);
    const r = await c.query<{ bytes: string; n: string }>(
      `SELECT (SELECT SUM(pg_total_relation_size(format('%I.%I', schemaname, tablename)))
                 FROM pg_tables WHERE schemaname = $1 AND tablename IN ('requests', 'determinations', 'events')) AS bytes,
              (SELECT COUNT(*) FROM ${schema}.requests) AS n`,
      [schema],
    );
    const n = Number(r.rows[0]!.n);
    return n ? Math.round(Number(r.rows[0]!.bytes) / n) : 0;
  });
}

/** Runs the bench (see the header). */
export async function run(opts: { rate?: number; seconds?: number } = {}): Promise<HttpBenchResult> {
  const rate = opts.rate ?? 1000;
  const seconds = opts.seconds ?? Number(process.env.BENCH_HTTP_SECONDS ?? 10);
  const only = process.env.BENCH_HTTP_ONLY?.split(",");
  const wanted = (n: string) => !only || only.includes(n);
  const secret = randomBytes(24).toString("hex");
  const env = { MEDPOLICY_JWT_SECRET: secret, NODE_ENV: process.env.NODE_ENV ?? "" };
  const tmp = mkdtempSync(join(tmpdir(), "medpolicy-bench-"));
  const auth = new Auth(new TextEncoder().encode(secret));
  const provider = `Bearer ${await auth.issue(DEMO_USERS.provider!)}`;
  const body = readFileSync(join(ROOT, "test/service/fixtures/trial-nonmalignant-not-weaned.json"), "utf8");
  const targets: TargetResult[] = [];
  const bytesPerRequest: Record<string, number> = {};
  const servers: Server[] = [];
  const start = async (script: string, args: string[]) => {
    const s = await spawnServer(script, args, env);
    servers.push(s);
    return s;
  };
  let schema: string | undefined;
  let pgUrl: string | undefined;
  const floors: FloorResult[] = [];
  try {
    // The evaluate server first: its reply is what the bare route answers.
    const sqliteDir = join(tmp, "sqlite");
    const main = await start("src/server/main.ts", ["--data", sqliteDir, "--no-rate-limit"]);
    const res = await fetch(`${main.url}/api/evaluate`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: provider },
      body,
    });
    const reply = await res.text();
    if (res.status !== 200) throw new Error(`evaluate answered ${res.status}`);
    console.log(`payload ${Buffer.byteLength(body)} B in, ${Buffer.byteLength(reply)} B out`);
    const replyFile = join(tmp, "reply.json");
    writeFileSync(replyFile, reply);
    // Every server runs throughout (an idle one costs nothing), so the rounds can interleave.
    const auth = { authorization: provider };
    const list: Target[] = [];
    if (wanted("bare")) {
      const bare = await start("bench/http-bare.ts", [replyFile]);
      list.push({ name: "bare", url: `${bare.url}/bare`, headers: {}, pid: bare.proc.pid });
    }
    if (wanted("evaluate")) {
      list.push({ name: "evaluate", url: `${main.url}/api/evaluate`, headers: auth, pid: main.proc.pid });
    }
    if (wanted("evaluate-nolog")) {
      // The cost of the access log: the same server with logging off (`--log-level silent`).
      const quiet = await start("src/server/main.ts", [
        "--data",
        join(tmp, "nolog"),
        "--no-rate-limit",
        "--log-level",
        "silent",
      ]);
      list.push({
        name: "evaluate (no log)",
        url: `${quiet.url}/api/evaluate`,
        headers: auth,
        pid: quiet.proc.pid,
      });
    }
    if (wanted("requests-sqlite")) {
      list.push({
        name: "requests sqlite",
        url: `${main.url}/api/requests`,
        headers: auth,
        pid: main.proc.pid,
      });
    }
    if (wanted("requests-postgres")) {
      if (!(await postgresReachable()))
        console.log(`http requests postgres: skipped (${PG_URL} unreachable)`);
      else {
        schema = `mp_bench_${process.pid}_${randomBytes(3).toString("hex")}`;
        const url = `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}schema=${schema}`;
        pgUrl = url;
        const pgServer = await start("src/server/main.ts", [
          "--data",
          join(tmp, "pg"),
          "--database-url",
          url,
          "--no-rate-limit",
        ]);
        list.push({
          name: "requests postgres",
          url: `${pgServer.url}/api/requests`,
          headers: auth,
          pid: pgServer.proc.pid,
        });
      }
    }
    const runFloors = async () => {
      if (pgUrl && schema) floors.push(...(await postgresFloors(pgUrl, schema, body, rate, seconds)));
    };
    targets.push(...(await measureAll(list, body, rate, seconds, runFloors)));
    for (const s of servers) await s.stop();
    if (wanted("requests-sqlite")) bytesPerRequest.sqlite = sqliteBytesPerRequest(sqliteDir);
    if (schema) bytesPerRequest.postgres = await postgresBytesPerRequest(schema);
  } finally {
    for (const s of servers) await s.stop();
    if (schema) await withPg((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  }
  const bare = targets.find((t) => t.name === "bare");
  const ratio = (name: string) => {
    const t = targets.find((x) => x.name === name);
    if (!bare || !t) return undefined;
    // Round by round (each pair measured moments apart), then the median.
    const rs = t.saturationRounds.map((v, i) => v / bare.saturationRounds[i]!);
    return { value: Math.round(median(rs) * 100) / 100, rounds: rs.map((r) => r.toFixed(2)).join(", ") };
  };
  const evaluate = ratio("evaluate");
  const evaluateOverBare = evaluate?.value;
  if (evaluate) {
    console.log(
      `http evaluate/bare saturation: median ${evaluate.value} (rounds ${evaluate.rounds}) ` +
        `(goal ≥ 0.9) ${evaluate.value >= 0.9 ? "OK" : "MISSED"}`,
    );
  }
  const nolog = ratio("evaluate (no log)");
  if (nolog)
    console.log(`http evaluate (no log)/bare saturation: median ${nolog.value} (rounds ${nolog.rounds})`);
  // The same ratio from CPU per request (bare's cost over evaluate's): unaffected by other processes.
  const cpuOf = (name: string) => {
    const t = targets.find((x) => x.name === name);
    return t?.cpuUsPerRequest.length ? median(t.cpuUsPerRequest) : undefined;
  };
  const bareCpu = cpuOf("bare");
  let decideEncodeCpuUs: number | undefined;
  if (bareCpu !== undefined && targets.some((t) => t.name === "evaluate")) {
    // What no HTTP plumbing can remove: the decision and its encoding, beside bare's whole request.
    decideEncodeCpuUs = decideEncodeCpu(body);
    const ceiling = Math.round((bareCpu / (bareCpu + decideEncodeCpuUs)) * 100) / 100;
    console.log(
      `http evaluate floor: the decision and its encoding alone cost ${decideEncodeCpuUs} µs CPU per request ` +
        `(in process); beside bare's ${bareCpu} µs, evaluate/bare by CPU can be at most ${ceiling}`,
    );
  }
  for (const name of ["evaluate", "evaluate (no log)"]) {
    const c = cpuOf(name);
    if (bareCpu !== undefined && c !== undefined) {
      const r = Math.round((bareCpu / c) * 100) / 100;
      console.log(
        `http ${name}/bare by CPU per request: ${bareCpu} / ${c} µs = ${r}` +
          (name === "evaluate" ? ` (goal ≥ 0.9) ${r >= 0.9 ? "OK" : "MISSED"}` : ""),
      );
    }
  }
  for (const [db, b] of Object.entries(bytesPerRequest)) {
    console.log(`stored ${db}: ${b} B per request on disk (goal ≤ 2048) ${b <= 2048 ? "OK" : "MISSED"}`);
  }
  return {
    targets,
    floors,
    ...(decideEncodeCpuUs !== undefined && { decideEncodeCpuUs }),
    ...(evaluateOverBare !== undefined && { evaluateOverBare }),
    bytesPerRequest,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run();
}
