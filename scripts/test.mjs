#!/usr/bin/env node
// The one test command (README, .ci/run): format+lint, typecheck, build, then every test file with
// node's test runner (unit tests beside the code, suites under test/). Exits non-zero on any failure.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", ...opts });
  if (r.status !== 0) {
    process.stderr.write(`\n${cmd} ${args.join(" ")} failed (exit ${r.status})\n`);
    process.exit(r.status ?? 1);
  }
}

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
if (only.length === 0) {
  run("npx", ["--no-install", "biome", "check", "."]);
  run("npx", ["--no-install", "tsc", "-p", "tsconfig.json", "--noEmit"]);
  run("npm", ["run", "--silent", "build"]);
}
const files = only.length ? only : [...find("src"), ...find("test")].sort();
const concurrency = process.env.TEST_CONCURRENCY ?? "2";
run("node", ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...files]);
