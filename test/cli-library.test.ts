/**
 * A payer's own library through the real CLI (issue 15, item 1): `bin/medpolicy.js` (run
 * `npm run build` first) — `init`, `add` three CMS NCDs from `../shared/corpus/cms-ncd/`, then
 * `policies`/`show`/`lint`/`diff`/`questionnaire`/`evaluate`/`serve` with `--library` (and
 * `MEDPOLICY_LIBRARY`, and the deprecated `MEDPOLICY_POLICIES`); bad input exits 2 naming the problem;
 * the seed library is unchanged by all of it.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ROOT, SHARED } from "./suite/cases.js";
import { snapshot } from "./support/snapshot.js";

const BIN = join(ROOT, "bin", "medpolicy.js");
const SEED = join(ROOT, "policies");
const CORPUS = join(SHARED, "corpus", "cms-ncd");
const HBO = join(CORPUS, "20.29_hyperbaric_oxygen_therapy.txt");
const ACU = join(CORPUS, "30.3.3_acupuncture_chronic_low_back_pain.txt");
const ICD = join(CORPUS, "20.4_implantable_cardioverter_defibrillators.txt");

const root = mkdtempSync(join(tmpdir(), "medpolicy-cli-library-"));
const LIB = join(root, "lib");
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

/** The environment without any library setting of the person running the tests. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.MEDPOLICY_LIBRARY;
  delete e.MEDPOLICY_POLICIES;
  return { ...e, ...extra };
}

function cli(args: string[], opts: { env?: Record<string, string>; input?: string } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: root,
    env: env(opts.env),
    input: opts.input ?? "",
    encoding: "utf8",
    maxBuffer: 1 << 26,
    // A command that does not exit (a server that started) fails here, with what it said.
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 0, else fail showing what the CLI said. */
function ok(args: string[], opts: { env?: Record<string, string>; input?: string } = {}) {
  const r = cli(args, opts);
  assert.equal(r.code, 0, `${args.join(" ")}\n${r.stderr}${r.stdout.slice(0, 2000)}`);
  return r;
}

/** Exit 2 with a message on stderr matching every pattern. */
function bad(args: string[], ...patterns: RegExp[]) {
  const r = cli(args);
  assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}${r.stdout.slice(0, 500)}`);
  for (const p of patterns)
    assert.match(r.stderr, p, `${args.join(" ")}: stderr ${JSON.stringify(r.stderr.slice(0, 600))}`);
  return r;
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function gitStatus(): string | undefined {
  const r = spawnSync("git", ["status", "--porcelain", "--", "policies"], { cwd: ROOT, encoding: "utf8" });
  return r.status === 0 ? r.stdout : undefined;
}

let seedBefore: Record<string, string>;
let gitBefore: string | undefined;
before(() => {
  assert.ok(statSync(join(ROOT, "dist", "cli", "main.js")).isFile(), "run npm run build first");
  seedBefore = snapshot(SEED);
  gitBefore = gitStatus();
});

const member = { state: "TX", birthDate: "1950-01-01", lineOfBusiness: "medicare" };
function caseFile(name: string, c: Record<string, unknown>): string {
  const p = join(root, name);
  writeFileSync(p, JSON.stringify({ member, answers: {}, ...c }));
  return p;
}

describe("a payer's library from an empty folder", () => {
  it("init makes an empty library: library.json and nothing else; again, nothing changes", () => {
    const r = ok(["init", LIB]);
    assert.match(r.stdout, new RegExp(`empty policy library in ${reEscape(LIB)}`));
    assert.deepEqual(readdirSync(LIB), ["library.json"]);
    const again = ok(["init", LIB, "--json"]);
    assert.deepEqual(JSON.parse(again.stdout), { library: LIB, status: "exists" });
    const empty = ok(["policies", "--library", LIB]);
    assert.match(empty.stdout, /no policies yet/);
  });

  it("add three CMS NCDs (--library and MEDPOLICY_LIBRARY): source, provenance, bindings skeleton, lint", () => {
    for (const file of [HBO, ACU]) {
      const r = ok(["add", file, "--library", LIB]);
      assert.match(r.stdout, /^Added /);
      assert.match(r.stdout, /\nLint:\n/);
    }
    const r = ok(["add", ICD, "--json"], { env: { MEDPOLICY_LIBRARY: LIB } });
    const out = JSON.parse(r.stdout) as {
      status: string;
      policy: string;
      file: string;
      source: { sha256: string; origin: string };
      findings: { code: string; policy: string }[];
    };
    assert.equal(out.status, "added");
    assert.equal(out.policy, "NCD.20.4");
    assert.equal(out.source.origin, "20.4_implantable_cardioverter_defibrillators.txt");
    assert.equal(out.source.sha256, createHash("sha256").update(readFileSync(ICD)).digest("hex"));
    assert.deepEqual(readFileSync(join(LIB, out.file)), readFileSync(ICD));
    // The ICD NCD has a paragraph the ingester cannot place: lint says so, with its line.
    assert.ok(out.findings.some((f) => f.code === "unplaced" && f.policy === "NCD.20.4"));
    assert.deepEqual(readdirSync(LIB).sort(), ["NCD.20.29", "NCD.20.4", "NCD.30.3.3", "library.json"]);
  });

  it("the same document again is a no-op that says so", () => {
    const before = snapshot(LIB);
    const r = ok(["add", HBO, "--library", LIB]);
    assert.match(r.stdout, /already in .* nothing changed/);
    assert.deepEqual(snapshot(LIB), before);
  });

  it("policies, show and lint read the library", () => {
    const rows = JSON.parse(ok(["policies", "--library", LIB, "--json"]).stdout) as {
      id: string;
      version: string;
      status: string;
      source: string;
    }[];
    assert.deepEqual(
      rows.map((r) => `${r.id}@${r.version} ${r.status}`),
      // Issue 15 item 3: drafts until published, whatever their revision logs say.
      ["NCD.20.29@2017-04 draft", "NCD.20.4@2023-07 draft", "NCD.30.3.3@2020-01 draft"],
    );
    for (const r of rows) assert.ok(r.source.startsWith(join(LIB, r.id)), r.source);
    for (const [id, title] of [
      ["NCD.20.29", "Hyperbaric Oxygen Therapy"],
      ["NCD.20.4", "Implantable Cardioverter Defibrillators (ICDs)"],
      ["NCD.30.3.3", "Acupuncture for Chronic Lower Back Pain (cLBP)"],
    ] as const) {
      const shown = ok(["show", id, "--library", LIB]);
      assert.equal(shown.stdout.split("\n")[0], `${id}@${rows.find((r) => r.id === id)!.version} — ${title}`);
      const findings = JSON.parse(ok(["lint", id, "--library", LIB, "--json"]).stdout) as {
        policy: string;
      }[];
      assert.ok(findings.length > 0 && findings.every((f) => f.policy === id));
    }
    // Not in the seed library: the same commands without --library do not know it.
    assert.equal(cli(["show", "NCD.20.29"]).code, 2);
  });

  it("a case evaluates: review while no code is bound; by its criteria once the author binds the code", () => {
    const named = caseFile("named.json", {
      policy: "NCD.20.29@2017-04",
      service: { codes: ["99183"], dateOfService: "2026-03-01" },
      answers: { "A.2": true },
    });
    const d0 = JSON.parse(ok(["evaluate", named, "--library", LIB, "--json"]).stdout);
    assert.equal(d0.outcome, "review");
    assert.equal(d0.policy.id, "NCD.20.29");

    const unnamed = caseFile("unnamed.json", {
      service: { codes: ["99183"], dateOfService: "2026-03-01" },
      answers: { "A.2": true },
    });
    assert.equal(
      JSON.parse(ok(["evaluate", unnamed, "--library", LIB, "--json"]).stdout).outcome,
      "not-applicable",
    );

    // The author binds CPT 99183 (hyperbaric oxygen) to section A, the covered conditions.
    const path = join(LIB, "NCD.20.29", "bindings.json");
    const bindings = JSON.parse(readFileSync(path, "utf8"));
    bindings.codes = [{ codes: ["99183"], section: "A", why: "HBO therapy: covered conditions" }];
    writeFileSync(path, JSON.stringify(bindings, null, 2));
    // Issue 15 item 3: chosen by date of service once published.
    ok(["publish", "NCD.20.29@2017-04", "--by", "Dr. Test Author", "--library", LIB]);
    const d1 = JSON.parse(ok(["evaluate", unnamed, "--library", LIB, "--json"]).stdout);
    assert.equal(d1.outcome, "approved");
    assert.deepEqual([d1.policy.id, d1.policy.version, d1.policy.section], ["NCD.20.29", "2017-04", "A"]);
    const open = caseFile("open.json", { service: { codes: ["99183"], dateOfService: "2026-03-01" } });
    assert.equal(JSON.parse(ok(["evaluate", open, "--library", LIB, "--json"]).stdout).outcome, "pended");
    // The same case against the seed library: no policy there governs 99183, and none knows A.2 — an
    // answer no policy can read is bad input, named (SPEC 2.1), not a silent not-applicable.
    const seed = cli(["evaluate", unnamed, "--json"]);
    assert.equal(seed.code, 2);
    assert.match(seed.stderr, /answers\.A\.2: unknown criterion id in every policy of the library/);
    assert.equal(JSON.parse(ok(["evaluate", open, "--json"]).stdout).outcome, "not-applicable");
    // Standard input, as NDJSON.
    const nd = ok(["evaluate", "-", "--library", LIB, "--json"], {
      input: `${readFileSync(unnamed, "utf8")}\n`,
    });
    assert.equal(JSON.parse(nd.stdout.trim()).outcome, "approved");
  });

  it("a revision is added beside the first; diff and questionnaire read the library", () => {
    const revised = join(root, "hbo-2025.txt");
    writeFileSync(
      revised,
      readFileSync(HBO, "utf8")
        .replace("Effective Date of this Version: 04/03/2017", "Effective Date of this Version: 01/15/2025")
        .replace("4. Gas gangrene", "4. Gas gangrene (clostridial myositis and myonecrosis)"),
    );
    ok(["add", revised, "--library", LIB]);
    assert.equal(
      readdirSync(join(LIB, "NCD.20.29")).filter((f) => /^\d{3}_[0-9a-f]{16}\.txt$/.test(f)).length,
      2,
    );
    const d = JSON.parse(
      ok(["diff", "NCD.20.29@2017-04", "NCD.20.29@2025-01", "--library", LIB, "--json"]).stdout,
    ) as { summary: string[] };
    assert.ok(
      d.summary.some((s) => /A\.4/.test(s)),
      d.summary.join("\n"),
    );
    const q = JSON.parse(ok(["questionnaire", "NCD.20.29", "--library", LIB]).stdout);
    assert.equal(q.resourceType, "Questionnaire");
  });

  it("MEDPOLICY_POLICIES still works, with a deprecation warning", () => {
    const r = ok(["policies", "--json"], { env: { MEDPOLICY_POLICIES: LIB } });
    assert.ok((JSON.parse(r.stdout) as { id: string }[]).some((p) => p.id === "NCD.20.29"));
    assert.match(r.stderr, /MEDPOLICY_POLICIES is deprecated.*MEDPOLICY_LIBRARY/);
  });

  it("serve --library serves the payer's library", async () => {
    const data = join(root, "data");
    const child = spawn(
      process.execPath,
      [BIN, "serve", "--port", "0", "--data", data, "--library", LIB, "--log-level", "off"],
      { cwd: root, env: env(), stdio: ["ignore", "pipe", "pipe"] },
    );
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      let err = "";
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 30_000);
      child.stdout!.on("data", (b: Buffer) => {
        out += b.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.stderr!.on("data", (b: Buffer) => {
        err += b.toString();
      });
      child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    try {
      const token = ok(["token", "--role", "reviewer", "--sub", "t1", "--data", data]).stdout.trim();
      const res = await fetch(`${url}/api/policies`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      const ids = ((await res.json()) as { id: string }[]).map((p) => p.id);
      assert.ok(ids.includes("NCD.20.29") && !ids.includes("CP.MP.126"), ids.join(", "));
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
});

describe("bad input exits 2 naming the problem", () => {
  it("add to a folder that is no library, or with no library named", () => {
    const plain = join(root, "plain");
    mkdirSync(plain);
    writeFileSync(join(plain, "notes.txt"), "x");
    bad(["add", HBO, "--library", plain], new RegExp(`${reEscape(plain)} is not a policy library`));
    assert.deepEqual(readdirSync(plain), ["notes.txt"]);
    bad(["add", HBO], /--library DIR or MEDPOLICY_LIBRARY/, /seed library/);
  });

  it("init on a non-empty folder that is no library", () => {
    const full = join(root, "full");
    mkdirSync(full);
    writeFileSync(join(full, "report.pdf"), "x");
    bad(["init", full], new RegExp(`${reEscape(full)}.*not empty`));
    assert.deepEqual(readdirSync(full), ["report.pdf"]);
  });

  it("a file that cannot be read", () => {
    const missing = join(root, "no-such-policy.pdf");
    bad(["add", missing, "--library", LIB], new RegExp(`cannot read ${reEscape(missing)}: ENOENT`));
    bad(["add", root, "--library", LIB], new RegExp(`cannot read ${reEscape(root)}: EISDIR`));
    const binary = join(root, "blob.bin");
    writeFileSync(binary, Buffer.from([0, 1, 2, 3, 0, 255, 254, 0, 0, 7]));
    bad(["add", binary, "--library", LIB], /blob\.bin/);
  });

  it("a document that names no policy id, without --id", () => {
    const headerless = join(root, "headerless.txt");
    writeFileSync(headerless, readFileSync(HBO, "utf8").replace(/^Manual Section (Number|Title): .*$/gm, ""));
    const before = snapshot(LIB);
    bad(["add", headerless, "--library", LIB], /headerless\.txt prints no policy id/, /--id ID/);
    assert.deepEqual(snapshot(LIB), before);
  });

  it("--library naming a folder that does not exist or is no library, on every command", () => {
    const missing = join(root, "nowhere");
    const plain = join(root, "plain");
    for (const args of [
      ["policies"],
      ["show", "NCD.20.29"],
      ["lint"],
      ["diff", "A@2024-01", "B@2024-01"],
      ["evaluate", caseFile("any.json", { service: { codes: ["99183"], dateOfService: "2026-03-01" } })],
      ["questionnaire", "NCD.20.29"],
      ["serve", "--port", "0", "--data", join(root, "data2")],
    ]) {
      bad([...args, "--library", missing], new RegExp(`${reEscape(missing)} does not exist`));
      bad([...args, "--library", plain], new RegExp(`${reEscape(plain)} is not a policy library`));
    }
    const r = cli(["policies"], { env: { MEDPOLICY_LIBRARY: missing } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(reEscape(missing)));
  });

  it("the service entry (src/server/main.ts) refuses a missing library", () => {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", join(ROOT, "src", "server", "main.ts"), "--library", join(root, "nowhere")],
      { cwd: ROOT, env: env(), encoding: "utf8" },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /nowhere does not exist/);
  });
});

describe("the seed library", () => {
  it("is unchanged by all of the above", () => {
    assert.deepEqual(snapshot(SEED), seedBefore);
    assert.equal(gitStatus(), gitBefore);
  });
});
