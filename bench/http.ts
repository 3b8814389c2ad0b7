/**
 * SPEC 5: "HTTP evaluate p99 under 20 ms at 1,000 requests/s on this 2-core machine, with the load
 * generator on the same machine". The server runs as its own process (as deployed: embedded store,
 * no request logging, no rate limit so the load generator's single token is not throttled); autocannon
 * drives `POST /api/evaluate` on loopback at a fixed 1,000 requests/s for a bounded time.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Auth, DEMO_USERS } from "../src/server/auth.js";

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

export interface HttpBenchResult {
  rate: number;
  seconds: number;
  achievedRps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
}

/** Runs the bench: `rate` requests/s for `seconds` (default 1,000/s for 10 s, after a 5 s warm-up). */
export async function run(opts: { rate?: number; seconds?: number } = {}): Promise<HttpBenchResult> {
  const rate = opts.rate ?? 1000;
  const seconds = opts.seconds ?? 10;
  const secret = randomBytes(24).toString("hex");
  const dataDir = mkdtempSync(join(tmpdir(), "medpolicy-bench-"));
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "src/server/main.ts"), "--data", dataDir, "--no-rate-limit"],
    {
      cwd: ROOT,
      env: { ...process.env, MEDPOLICY_JWT_SECRET: secret },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let buf = "";
      child.stdout!.on("data", (d: Buffer) => {
        buf += d.toString();
        const m = /\{"url":"([^"]+)"/.exec(buf);
        if (m) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`server exited (${code}) before listening`)));
    });
    const token = await new Auth(new TextEncoder().encode(secret)).issue(DEMO_USERS.provider!);
    const body = readFileSync(join(ROOT, "test/service/fixtures/trial-nonmalignant-not-weaned.json"), "utf8");
    const common = {
      url: `${url}/api/evaluate`,
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body,
      connections: 8,
      overallRate: rate,
    };
    await autocannon({ ...common, duration: 5 }); // warm-up: JIT, lazily compiled policies, caches
    const r = await autocannon({ ...common, duration: seconds });
    const res: HttpBenchResult = {
      rate,
      seconds,
      achievedRps: Math.round(r.requests.total / r.duration),
      p50Ms: r.latency.p50,
      p90Ms: r.latency.p90,
      p99Ms: r.latency.p99,
      maxMs: r.latency.max,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
    };
    console.log(
      `http evaluate: ${res.achievedRps} req/s for ${seconds} s (target ${rate}) — p50 ${res.p50Ms} ms, p90 ${res.p90Ms} ms, ` +
        `p99 ${res.p99Ms} ms, max ${res.maxMs} ms; non-2xx ${res.non2xx}, errors ${res.errors} ` +
        `(goal p99 < 20 ms) ${res.p99Ms < 20 && res.non2xx === 0 && res.errors === 0 ? "OK" : "MISSED"}`,
    );
    return res;
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run();
}
