/**
 * Issue 13: what the access log costs. The same server (`src/server/main.ts`, embedded store, no
 * rate limit) with the access log at `info` (the default; stderr drained as a log shipper would)
 * and with `--log-level off`, alternated over several rounds, at saturation (autocannon, 16
 * connections) on `POST /api/evaluate` and on `GET /api/health` (the cheapest route: where the
 * log's share is largest). Besides requests/s (noisy on a shared 2-core machine) it reports the
 * server process's CPU time per request (from /proc), which other load disturbs far less.
 * Run alone: `node --import tsx bench/access-log.ts [rounds] [seconds]`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Auth, DEMO_USERS } from "../src/server/auth.js";

type Autocannon = (
  opts: Record<string, unknown>,
) => Promise<{ requests: { total: number }; duration: number; non2xx: number }>;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** CPU time (user + system) of process `pid` in ms, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid: number): number {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return Number.NaN;
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const rest = readFileSync(file, "utf8").split(") ")[1]!.split(" ");
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100; // utime, stime in clock ticks (100/s)
}

async function start(
  secret: string,
  level: string,
): Promise<{ url: string; proc: ChildProcess; dir: string; logged: () => number }> {
  const dir = mkdtempSync(join(tmpdir(), "medpolicy-logbench-"));
  const proc = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(ROOT, "src/server/main.ts"),
      "--data",
      dir,
      "--no-rate-limit",
      "--log-level",
      level,
    ],
    { cwd: ROOT, env: { ...process.env, MEDPOLICY_JWT_SECRET: secret }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let bytes = 0;
  proc.stderr!.on("data", (d: Buffer) => {
    bytes += d.length;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = "";
    proc.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /\{"url":"([^"]+)"/.exec(buf);
      if (m) resolve(m[1]!);
    });
    proc.once("exit", (c) => reject(new Error(`server exited ${c}`)));
  });
  return { url, proc, dir, logged: () => bytes };
}

export async function run(rounds = 3, seconds = 5): Promise<void> {
  const secret = randomBytes(32).toString("hex");
  const token = await new Auth(new TextEncoder().encode(secret)).issue(DEMO_USERS.provider!);
  const body = readFileSync(join(ROOT, "test/service/fixtures/trial-nonmalignant-not-weaned.json"), "utf8");
  const routes = {
    evaluate: { path: "/api/evaluate", method: "POST", body },
    health: { path: "/api/health", method: "GET" },
  };
  const results: Record<string, { on: number[]; off: number[]; cpuOn: number[]; cpuOff: number[] }> = {
    evaluate: { on: [], off: [], cpuOn: [], cpuOff: [] },
    health: { on: [], off: [], cpuOn: [], cpuOff: [] },
  };
  for (let r = 0; r < rounds; r++) {
    for (const level of r % 2 === 0 ? ["info", "off"] : ["off", "info"]) {
      const s = await start(secret, level);
      try {
        for (const [name, route] of Object.entries(routes)) {
          const opts = {
            url: s.url + route.path,
            method: route.method,
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
            ...("body" in route && { body: route.body }),
            connections: 16,
          };
          await autocannon({ ...opts, duration: 2 }); // warm-up
          const cpu0 = cpuMs(s.proc.pid!);
          const res = await autocannon({ ...opts, duration: seconds });
          const cpu = ((cpuMs(s.proc.pid!) - cpu0) * 1000) / res.requests.total;
          const rps = Math.round(res.requests.total / res.duration);
          const r = results[name]!;
          (level === "info" ? r.on : r.off).push(rps);
          (level === "info" ? r.cpuOn : r.cpuOff).push(Math.round(cpu * 10) / 10);
        }
        if (level === "info" && s.logged() === 0) throw new Error("no access log written");
      } finally {
        s.proc.kill("SIGTERM");
        await new Promise((res) => s.proc.once("exit", res));
        rmSync(s.dir, { recursive: true, force: true });
      }
    }
  }
  for (const [name, { on, off, cpuOn, cpuOff }] of Object.entries(results)) {
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `access log, ${name}: on ${on.join("/")} req/s, off ${off.join("/")} req/s (median on/off ${(med(on) / med(off)).toFixed(3)}); ` +
        `server CPU µs/request on ${cpuOn.join("/")}, off ${cpuOff.join("/")} (median on/off ${(med(cpuOn) / med(cpuOff)).toFixed(3)})`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run(Number(process.argv[2] ?? 3), Number(process.argv[3] ?? 5));
}
