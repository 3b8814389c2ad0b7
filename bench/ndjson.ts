/**
 * SPEC 5: `medpolicy evaluate` on an NDJSON file end to end (parse, validate, decide, write), on one
 * core, through the real CLI process. Goal: ≥ 100,000 cases/s.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const ROOT = join(fileURLToPath(new URL(".", import.meta.url)), "..");

export async function run(n = 200_000): Promise<Record<string, number>> {
  const dir = join(ROOT, "test", "cases");
  const cases: string[] = [];
  for (const folder of readdirSync(dir)) {
    for (const f of readdirSync(join(dir, folder))) {
      const spec = JSON.parse(readFileSync(join(dir, folder, f), "utf8"));
      if ((spec.expect.exit ?? 0) === 0) cases.push(JSON.stringify(spec.case));
    }
  }
  const tmp = mkdtempSync(join(tmpdir(), "medpolicy-bench-"));
  const file = join(tmp, "cases.ndjson");
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(cases[i % cases.length]!);
  writeFileSync(file, `${lines.join("\n")}\n`);
  const results: Record<string, number> = {};
  for (const trace of [false, true]) {
    const args = [join(ROOT, "bin", "medpolicy.js"), "evaluate", file, "--json", "--no-progress"];
    if (!trace) args.push("--no-trace");
    // Start-up (library load) measured separately so the rate is the steady state.
    const t0 = performance.now();
    spawnSync(process.execPath, [join(ROOT, "bin", "medpolicy.js"), "policies", "--json"], {
      stdio: "ignore",
    });
    const startup = performance.now() - t0;
    const t1 = performance.now();
    const r = spawnSync(process.execPath, args, {
      stdio: ["ignore", "ignore", "inherit"],
      maxBuffer: 1 << 30,
    });
    const total = performance.now() - t1;
    if (r.status !== 0) throw new Error(`evaluate exited ${r.status}`);
    const rate = n / ((total - startup) / 1000);
    const key = trace ? "ndjsonWithTracePerSec" : "ndjsonPerSec";
    results[key] = rate;
    console.log(
      `evaluate NDJSON ${trace ? "with trace" : "without trace"}: ${n.toLocaleString()} cases in ${total.toFixed(0)} ms (start-up ${startup.toFixed(0)} ms) → ${Math.round(rate).toLocaleString()} cases/s (goal ≥ 100,000)`,
    );
  }
  return results;
}
