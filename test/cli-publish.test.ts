/**
 * Publishing through the real CLI (issue 15 item 3): `bin/medpolicy.js` (run `npm run build` first) —
 * `init`, `add` a CMS NCD from `../shared/corpus/cms-ncd/` (a draft, never chosen by date), bind its
 * code, `publish ID@VERSION --by NAME`, then decide cases naming the published version and by date;
 * `policies` shows who approved it; later bindings.json edits do not change it; what may not be
 * published, and a changed snapshot, exit 2 naming the problem.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ROOT, SHARED } from "./suite/cases.js";

const BIN = join(ROOT, "bin", "medpolicy.js");
const CORPUS = join(SHARED, "corpus", "cms-ncd");
const HBO = join(CORPUS, "20.29_hyperbaric_oxygen_therapy.txt");
const ICD = join(CORPUS, "20.4_implantable_cardioverter_defibrillators.txt");

const root = mkdtempSync(join(tmpdir(), "medpolicy-cli-publish-"));
const LIB = join(root, "lib");
after(() => rmSync(root, { recursive: true, force: true }));
before(() => {
  assert.ok(statSync(join(ROOT, "dist", "cli", "main.js")).isFile(), "run npm run build first");
});

function cli(args: string[]) {
  const env = { ...process.env };
  delete env.MEDPOLICY_LIBRARY;
  delete env.MEDPOLICY_POLICIES;
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, env, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[]) {
  const r = cli(args);
  assert.equal(r.code, 0, `${args.join(" ")}\n${r.stderr}${r.stdout.slice(0, 2000)}`);
  return r;
}

/** Exits `code` (2: bad input) with stderr matching every pattern. */
function fails(code: number, args: string[], ...patterns: RegExp[]) {
  const r = cli(args);
  assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}${r.stdout.slice(0, 500)}`);
  for (const p of patterns) assert.match(r.stderr, p);
  return r;
}

const member = { state: "TX", birthDate: "1950-01-01", lineOfBusiness: "medicare" };
function caseFile(name: string, c: Record<string, unknown>): string {
  const p = join(root, name);
  writeFileSync(p, JSON.stringify({ member, answers: { "A.2": true }, ...c }));
  return p;
}
const service = { codes: ["99183"], dateOfService: "2026-03-01" };

interface Row {
  id: string;
  version: string;
  status: string;
  approved?: string;
  approvedBy?: string;
}
const rows = () => JSON.parse(ok(["policies", "--library", LIB, "--json"]).stdout) as Row[];

function setBindings(f: (b: Record<string, unknown>) => void): void {
  const path = join(LIB, "NCD.20.29", "bindings.json");
  const b = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  f(b);
  writeFileSync(path, JSON.stringify(b, null, 2));
}

describe("publish through the CLI", () => {
  it("init and add: the document is a draft, decided only when named by version", () => {
    ok(["init", LIB]);
    ok(["add", HBO, "--library", LIB]);
    ok(["add", ICD, "--library", LIB]);
    assert.deepEqual(
      rows().map((r) => `${r.id}@${r.version} ${r.status} ${r.approved ?? "-"}`),
      ["NCD.20.29@2017-04 draft -", "NCD.20.4@2023-07 draft -"],
    );
    setBindings((b) => {
      b.codes = [{ codes: ["99183"], section: "A", why: "HBO therapy: covered conditions" }];
    });
    // show says what policies says: a draft, whatever dates its document prints.
    assert.match(
      ok(["show", "NCD.20.29@2017-04", "--library", LIB]).stdout.split("\n")[1]!,
      /status draft · effective \S+ · draft \(not approved\)/,
    );
    // By code and date: a draft routes no code (issue 15 review), so nothing in force governs 99183.
    assert.equal(
      JSON.parse(ok(["evaluate", caseFile("unnamed.json", { service }), "--library", LIB, "--json"]).stdout)
        .outcome,
      "not-applicable",
    );
    // Named by bare id: the version in force, and there is none.
    fails(
      2,
      ["evaluate", caseFile("bare.json", { policy: "NCD.20.29", service }), "--library", LIB],
      /no published version/,
    );
    const d = JSON.parse(
      ok([
        "evaluate",
        caseFile("draft.json", { policy: "NCD.20.29@2017-04", service }),
        "--library",
        LIB,
        "--json",
      ]).stdout,
    );
    assert.equal(d.outcome, "approved");
  });

  it("refuses what may not be published (exit 2), writing nothing", () => {
    fails(2, ["publish", "NCD.20.29@2017-04", "--library", LIB], /--by NAME/);
    fails(2, ["publish", "NCD.20.29", "--by", "Dr. Ada Quill", "--library", LIB], /ID@VERSION/);
    fails(2, ["publish", "NCD.20.29@2017-04", "--by", "Dr. Ada Quill"], /your library/, /seed library/);
    fails(
      2,
      ["publish", "NCD.20.29@2017-04", "--by", "X", "--effective", "03/01/2026", "--library", LIB],
      /--effective/,
    );
    fails(
      2,
      ["publish", "NCD.20.4@2023-07", "--by", "Dr. Ada Quill", "--library", LIB],
      /lint finds \d+ errors?/,
      /unplaced/,
    );
    fails(
      2,
      ["publish", "NCD.20.29@2030-01", "--by", "Dr. Ada Quill", "--library", LIB],
      /no version 2030-01/,
    );
    assert.ok(!existsSync(join(LIB, "NCD.20.29", "published")));
    assert.ok(!existsSync(join(LIB, "NCD.20.4", "published")));
  });

  it("publish: the version is effective, approved by a person; cases naming it, and by date, decide with it", () => {
    // Named relatively, as the README's walkthrough names it (the trial load once linked it wrongly).
    const r = ok(["publish", "NCD.20.29@2017-04", "--by", "Dr. Ada Quill", "--library", "lib"]);
    assert.match(r.stdout, /^Published NCD\.20\.29@2017-04 — Hyperbaric Oxygen Therapy\n/);
    assert.match(r.stdout, /approved by Dr\. Ada Quill at \S+ · effective 2017-04-03 · status effective/);
    assert.ok(existsSync(join(LIB, "NCD.20.29", "published", "2017-04.json")));
    assert.match(
      ok(["show", "NCD.20.29@2017-04", "--library", LIB]).stdout.split("\n")[1]!,
      /status effective · effective 2017-04-03 · approved \d{4}-\d\d-\d\d by Dr\. Ada Quill/,
    );
    assert.equal(
      readFileSync(join(LIB, "NCD.20.29", "publications.ndjson"), "utf8")
        .trim()
        .split("\n").length,
      1,
    );

    const [row] = rows();
    assert.deepEqual([row!.status, row!.approvedBy], ["effective", "Dr. Ada Quill"]);
    assert.match(
      ok(["policies", "--library", LIB]).stdout,
      /NCD\.20\.29\s+2017-04\s+effective\s+2017-04-03\s+\S+ by Dr\. Ada Quill/,
    );

    const named = JSON.parse(
      ok([
        "evaluate",
        caseFile("named.json", { policy: "NCD.20.29@2017-04", service }),
        "--library",
        LIB,
        "--json",
      ]).stdout,
    );
    assert.deepEqual(
      [named.outcome, named.policy.id, named.policy.version],
      ["approved", "NCD.20.29", "2017-04"],
    );
    const byDate = JSON.parse(
      ok(["evaluate", join(root, "unnamed.json"), "--library", LIB, "--json"]).stdout,
    );
    assert.deepEqual(
      [byDate.outcome, byDate.policy.version, byDate.policy.section],
      ["approved", "2017-04", "A"],
    );
  });

  it("a later bindings.json edit leaves the published version as published", () => {
    setBindings((b) => {
      b.codes = [{ codes: ["99183"], section: "B" }];
    });
    const d = JSON.parse(ok(["evaluate", join(root, "unnamed.json"), "--library", LIB, "--json"]).stdout);
    assert.deepEqual([d.outcome, d.policy.section], ["approved", "A"]);
    fails(2, ["publish", "NCD.20.29@2017-04", "--by", "Someone Else", "--library", LIB], /immutable/);
  });

  it("a changed snapshot: every command refuses the library, naming policy, version and file", () => {
    const path = join(LIB, "NCD.20.29", "published", "2017-04.json");
    const snap = JSON.parse(readFileSync(path, "utf8"));
    snap.effective = "2010-01-01";
    writeFileSync(path, JSON.stringify(snap, null, 2));
    const r = fails(2, ["policies", "--library", LIB], /does not match its sha256/);
    assert.ok(r.stderr.includes(path) && r.stderr.includes("NCD.20.29@2017-04"), r.stderr);
  });
});
