/**
 * `medpolicy evaluate` on every core (issue 13, src/cli/evaluate-parallel.ts): an NDJSON file decided
 * by the main thread and worker threads gives, byte for byte, the output, the messages on stderr and
 * the exit code the main thread alone gives — whatever the input holds: bad lines, blank lines, CRLF,
 * a byte-order mark, a line over the size limit, no final newline. In-process (evaluateCommand, with a
 * threshold of 0 and small batches, so a small input crosses many batches and pieces) and through the
 * real CLI with `--workers 2` (threads asked for: used whatever the size; `npm run build` first).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, describe, it } from "node:test";
import { benchCases } from "../bench/ndjson.js";
import { evaluateCommand } from "../src/cli/evaluate.js";
import { defaultPoliciesDir, loadLibrary } from "../src/library/index.js";
import { ROOT } from "./suite/cases.js";

const root = mkdtempSync(join(tmpdir(), "medpolicy-evaluate-parallel-"));
after(() => rmSync(root, { recursive: true, force: true }));
const LIB_DIR = defaultPoliciesDir();
const lib = loadLibrary(LIB_DIR);

class Sink extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  text() {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

async function run(file: string, threads: number, json = true, localWork = true) {
  const out = new Sink();
  const err = new Sink();
  const code = await evaluateCommand(lib, file, {
    json,
    trace: false,
    today: "2026-03-01",
    out,
    err,
    progress: false,
    threads,
    libraryDir: LIB_DIR,
    parallelFrom: 0,
    batch: 7,
    localWork,
  });
  return { code, out: out.text(), err: err.text() };
}

/** `n` cases of the bench with bad, blank and CRLF lines among them. */
function messy(
  n: number,
  opts: { bom?: boolean; longLineAt?: number; longLine?: number; finalNewline?: boolean } = {},
) {
  const lines = benchCases(n, 7);
  const out: string[] = [];
  lines.forEach((l, i) => {
    if (i === opts.longLineAt) out.push(`{"id":"long","pad":"${"x".repeat(opts.longLine ?? 2600 * 1024)}"}`);
    if (i % 97 === 5) out.push("");
    if (i % 89 === 3) out.push("   \t ");
    if (i % 211 === 7) out.push('{"id":"broken",');
    if (i % 173 === 11)
      out.push('{"id":"bad","member":{"state":"TX"},"service":{"codes":["62350"]},"answers":{}}');
    out.push(i % 13 === 0 ? `${l}\r` : l);
  });
  const text = out.join("\n") + (opts.finalNewline === false ? "" : "\n");
  return (opts.bom ? "\ufeff" : "") + text;
}

describe("evaluate on worker threads: the same bytes as one thread (issue 13)", () => {
  const inputs: [string, string][] = [
    ["bad, blank and CRLF lines", messy(9000)],
    ["a byte-order mark, no final newline", messy(4000, { bom: true, finalNewline: false })],
    ["a line over 1 MiB in the middle", messy(6000, { longLineAt: 3500 })],
    ["a first line over 1 MiB", messy(3000, { longLineAt: 0 })],
    // 1.2 MiB: it can end inside the chunk that holds its end, and is refused there too.
    ["a line just over 1 MiB", messy(5000, { longLineAt: 100, longLine: 1200 * 1024 })],
  ];
  for (const [name, text] of inputs) {
    it(name, async () => {
      const file = join(root, `${name.replace(/\W+/g, "-")}.ndjson`);
      writeFileSync(file, text);
      const one = await run(file, 1);
      const many = await run(file, 3);
      // Every line decided by a worker thread (the main thread only reads and writes).
      const workers = await run(file, 2, true, false);
      // Without --json (the words are only for a single case: many cases stay NDJSON).
      assert.deepEqual(await run(file, 3, false), await run(file, 1, false));
      assert.ok(one.out.split("\n").length > 1000, "the input decided too few lines to prove anything");
      assert.match(one.err, /bad input at line \d+/, "no bad line: the test proves nothing about errors");
      assert.equal(one.code, 2);
      if (name.includes("over 1 MiB")) assert.match(one.err, /line longer than 1 MiB/);
      assert.equal(many.code, one.code);
      assert.equal(many.err, one.err);
      assert.ok(many.out === one.out, "the output differs between one thread and three");
      assert.deepEqual([workers.code, workers.err], [one.code, one.err]);
      assert.ok(workers.out === one.out, "the output differs between this thread and the workers");
    });
  }

  it("one case in an input of several chunks (the rest blank): its determination in words, as on one thread", async () => {
    for (const [name, first] of [
      ["good", benchCases(1)[0]!],
      ["bad", '{"id":"bad","member":{"state":"TX"}}'],
    ]) {
      const file = join(root, `one-case-${name}.ndjson`);
      // 3 MiB of blank lines after it: read in several chunks, decided in several pieces.
      writeFileSync(file, `${first}\n${"\n".repeat(3 << 20)}`);
      const one = await run(file, 1, false);
      const many = await run(file, 3, false);
      const workers = await run(file, 2, false, false);
      if (name === "good") {
        assert.equal(one.code, 0);
        assert.match(one.out, /^[A-Z-]+ — CP\.MP\.\d+@/);
      } else {
        assert.equal(one.code, 2);
        assert.equal(one.out, "");
      }
      assert.deepEqual(many, one);
      assert.deepEqual(workers, one);
    }
  });
});

describe("medpolicy evaluate --workers through the CLI", () => {
  const BIN = join(ROOT, "bin", "medpolicy.js");
  it("--workers 2 (asked for, whatever the size): the same output and exit code as --workers 1", () => {
    assert.ok(statSync(join(ROOT, "dist", "cli", "evaluate-worker.js")).isFile(), "run npm run build first");
    const file = join(root, "big.ndjson");
    writeFileSync(file, messy(28000));
    const cli = (workers: string) =>
      spawnSync(
        process.execPath,
        [BIN, "evaluate", file, "--json", "--no-trace", "--today", "2026-03-01", "--workers", workers],
        {
          encoding: "utf8",
          maxBuffer: 1 << 28,
        },
      );
    const one = cli("1");
    const two = cli("2");
    assert.equal(one.status, 2, one.stderr.slice(0, 500));
    assert.equal(two.status, one.status);
    assert.equal(two.stderr, one.stderr);
    assert.ok(two.stdout === one.stdout, "the output differs between --workers 1 and 2");
    const bad = spawnSync(process.execPath, [BIN, "evaluate", file, "--workers", "0"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--workers must be a whole number from 1/);
  });
});
