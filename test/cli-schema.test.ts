/**
 * `medpolicy schema POLICY[@VERSION]` through the real CLI (issue 15 item 2): `bin/medpolicy.js` (run
 * `npm run build` first) prints the JSON Schema of a case for the version, 2-space indented, exactly
 * `caseSchemaFor`'s; `--library DIR` (and `MEDPOLICY_LIBRARY`) choose the library; an unknown policy
 * or version, or no policy, exits 2 naming it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { caseSchemaFor, loadLibrary } from "../src/library/index.js";
import { ROOT } from "./suite/cases.js";

const BIN = join(ROOT, "bin", "medpolicy.js");
const root = mkdtempSync(join(tmpdir(), "medpolicy-cli-schema-"));
// A library of one policy, in the seed layout (policy folders with sources.json).
const LIB = join(root, "lib");
cpSync(join(ROOT, "policies", "CP.MP.126"), join(LIB, "CP.MP.126"), { recursive: true });
after(() => rmSync(root, { recursive: true, force: true }));

function cli(args: string[], extraEnv: Record<string, string> = {}) {
  const env = { ...process.env };
  delete env.MEDPOLICY_LIBRARY;
  delete env.MEDPOLICY_POLICIES;
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: root,
    env: { ...env, ...extraEnv },
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const seed = loadLibrary();
const text = (x: unknown) => `${JSON.stringify(x, null, 2)}\n`;

describe("medpolicy schema (issue 15 item 2)", () => {
  it("prints caseSchemaFor's document, 2-space indented: ID@VERSION and the version in force", () => {
    const r = cli(["schema", "CP.MP.173@2024-11"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, text(caseSchemaFor(seed.get("CP.MP.173@2024-11"))));
    const then = cli(["schema", "CP.MP.173", "--today", "2025-01-15"]);
    assert.equal(then.code, 0, then.stderr);
    assert.equal(JSON.parse(then.stdout).$id, "http://medpolicy.example/schema/case/CP.MP.173/2024-11");
    const now = cli(["schema", "CP.MP.173", "--today", "2026-03-01"]);
    assert.equal(now.stdout, text(caseSchemaFor(seed.get("CP.MP.173@2025-11"))));
    const s = JSON.parse(now.stdout);
    assert.equal(s.properties.answers.properties["II.B.4"]["x-sameQuestionAs"], "I.B.4");
    assert.equal(s.properties.facts.properties.lifeExpectancyMonths.type, "number");
    assert.equal(s.properties.facts.additionalProperties, false);
  });

  it("reads the library --library or MEDPOLICY_LIBRARY names", () => {
    const mine = loadLibrary(LIB);
    const r = cli(["schema", "CP.MP.126@2025-04", "--library", LIB]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, text(caseSchemaFor(mine.get("CP.MP.126@2025-04"))));
    const env = cli(["schema", "CP.MP.126@2025-04"], { MEDPOLICY_LIBRARY: LIB });
    assert.equal(env.stdout, r.stdout);
    // CP.MP.173 is in the seed library, not in this one.
    const other = cli(["schema", "CP.MP.173", "--library", LIB]);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /bad input: no policy CP\.MP\.173 in the library \(known: CP\.MP\.126\)/);
  });

  it("exits 2 on an unknown policy or version, or none, naming it", () => {
    const none = cli(["schema", "XX.NOPE"]);
    assert.equal(none.code, 2);
    assert.equal(none.stdout, "");
    assert.match(none.stderr, /^medpolicy schema: bad input: no policy XX\.NOPE in the library/);
    const version = cli(["schema", "CP.MP.173@1999-01"]);
    assert.equal(version.code, 2);
    assert.match(version.stderr, /no version 1999-01 of CP\.MP\.173 \(versions: 2024-11, 2025-11\)/);
    const missing = cli(["schema"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /schema needs one policy/);
    assert.equal(cli(["schema", "CP.MP.173", "--library", join(root, "no-such-dir")]).code, 2);
  });

  it("is in the help", () => {
    const all = cli(["--help"]);
    assert.match(all.stdout, /^ {2}schema\s+print the JSON Schema of a case/m);
    const one = cli(["schema", "--help"]);
    assert.equal(one.code, 0);
    assert.match(one.stdout, /Usage: medpolicy schema ID\[@VERSION\] \[--library DIR\]/);
  });
});
