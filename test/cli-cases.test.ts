/** Every case (project + shared examples) through the real CLI: `medpolicy evaluate - --json` (SPEC 2). */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { checkExpectation, loadCases, ROOT, SHARED } from "./suite/cases.js";

function runCli(stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, "bin", "medpolicy.js"), "evaluate", "-", "--json"], {
      cwd: ROOT,
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    p.stdin.end(stdin);
  });
}

describe("cases through the CLI", () => {
  for (const c of loadCases()) {
    it(c.name, async () => {
      const r = await runCli(c.raw ?? JSON.stringify(c.input));
      let out: unknown;
      try {
        out = r.code === 0 ? JSON.parse(r.stdout) : undefined;
      } catch {
        out = undefined;
      }
      const problems = checkExpectation(c.expect, r.code, out);
      assert.deepEqual(problems, [], `${c.file}\nstderr: ${r.stderr.slice(-400)}`);
      if (r.code === 2)
        assert.match(r.stderr, /bad input|input/, "a bad-input exit names the problem on stderr");
    });
  }
});

const checker = join(SHARED, "tools", "check_cases.py");
describe("shared/tools/check_cases.py", {
  skip: !existsSync(checker) && "shared/ not beside the checkout",
}, () => {
  it("passes every shared example case", () => {
    const r = spawnSync("python3", [checker, ROOT, join(SHARED, "cases")], {
      encoding: "utf8",
      timeout: 300_000,
      // The checker runs `npx --no-install medpolicy`. The first time for a checkout, npx links this
      // folder into its cache and runs its `prepare` (a full build). That rewrote dist/ while other
      // test files were spawning the CLI, which then failed to load a half-written module. This
      // failed CI twice ("does not provide an export named …"). The build is done before the tests.
      env: { ...process.env, npm_config_ignore_scripts: "true" },
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, / 0 failed/);
  });
});
