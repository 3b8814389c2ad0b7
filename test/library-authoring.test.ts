/**
 * Issue 15 acceptance, end to end through the real CLI (`npm run build` first) and the real service:
 * from an empty directory, `init`, `add` three CMS NCDs from `../shared/corpus/cms-ncd/`, author their
 * bindings with numeric, enum, date and diagnosis-code-set facts (test/fixtures/ncd-authoring/),
 * `publish`, then decide cases through the CLI and the JSON API — the same determinations by both,
 * and bad facts refused (exit 2 / HTTP 400) naming the fact and the policy. The README walkthrough
 * shows the same path. (The web app's facts form on such a library: test/web/facts.test.ts.)
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ACUPUNCTURE_ANSWERS, dos, member } from "./support/ncd-cases.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SHARED = join(ROOT, "..", "shared");
const BIN = join(ROOT, "bin", "medpolicy.js");
const CORPUS = join(SHARED, "corpus", "cms-ncd");
const FIXTURES = join(ROOT, "test", "fixtures", "ncd-authoring");
const DOCS = {
  "NCD.240.4": "240.4_cpap_obstructive_sleep_apnea.txt",
  "NCD.30.3.3": "30.3.3_acupuncture_chronic_low_back_pain.txt",
  "NCD.20.29": "20.29_hyperbaric_oxygen_therapy.txt",
} as const;
const skip = existsSync(join(CORPUS, DOCS["NCD.240.4"])) ? false : "../shared/corpus/cms-ncd is not here";

const root = mkdtempSync(join(tmpdir(), "medpolicy-authoring-"));
const LIB = join(root, "lib");
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

function cli(args: string[], input = "") {
  const e = { ...process.env };
  delete e.MEDPOLICY_LIBRARY;
  delete e.MEDPOLICY_POLICIES;
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, env: e, input, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function ok(args: string[], input = "") {
  const r = cli(args, input);
  assert.equal(r.code, 0, `${args.join(" ")}\n${r.stderr}${r.stdout.slice(0, 2000)}`);
  return r;
}

interface Trace {
  id: string;
  status: string;
  source?: { kind: string; facts?: string[] };
  children?: Trace[];
}
interface Det {
  outcome: string;
  policy?: { id: string; version: string };
  trace?: Trace;
  lines?: unknown[];
}
/** Each criterion's status in a determination's trace, by id. */
function statuses(d: Det): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (n: Trace | undefined) => {
    if (!n) return;
    out[n.id] = n.status;
    for (const c of n.children ?? []) walk(c);
  };
  walk(d.trace);
  return out;
}

const CPAP_ANSWERS = {
  // Section B's own condition: its statement covers CPAP "when used in adult patients with OSA".
  B: true,
  "B.1": true,
  "B.2": true,
  "B.3": true,
  "B.3.a": true,
  "B.4": true,
  "B.5": true,
  "B.6": true,
  "B.7": true,
};
/** Cases decided through both paths, with what each must show. */
const CASES = [
  {
    name: "CPAP, AHI 20: the ≥ 15 indication met from the fact; section B is uncertain (lint): review, never approved",
    body: {
      member,
      service: { codes: ["E0601"], dateOfService: dos },
      answers: CPAP_ANSWERS,
      facts: { ahi: 20 },
    },
    outcome: "review",
    met: ["B.5.a", "B.5", "B"],
    notMet: ["B.5.b"],
  },
  {
    name: "CPAP, AHI 9 with hypertension: the mild indication met",
    body: {
      member,
      service: { codes: ["E0601"], dateOfService: dos },
      answers: CPAP_ANSWERS,
      facts: { ahi: 9, osaFindings: ["hypertension"] },
    },
    outcome: "review",
    met: ["B.5.b", "B.5"],
    notMet: ["B.5.a"],
  },
  {
    name: "HBO, diabetic foot ulcer (E11.621), Wagner 3, 45 days of wound care: A.15 met from facts: approved",
    body: {
      member,
      service: { codes: ["99183"], dateOfService: dos },
      answers: { "A.15": true, "A.15.d": true },
      facts: { diagnoses: ["e11621", "I10"], wagnerGrade: 3, standardWoundCareDays: 45 },
    },
    outcome: "approved",
    met: ["A.15.a", "A.15.b", "A.15.c", "A.15", "A"],
    notMet: [],
  },
  {
    name: "HBO, Wagner 2: A.15 not met; the other conditions unanswered: pended",
    body: {
      member,
      service: { codes: ["99183"], dateOfService: dos },
      facts: { diagnoses: ["E11.621"], wagnerGrade: 2, standardWoundCareDays: 45 },
    },
    outcome: "pended",
    met: ["A.15.a", "A.15.c"],
    notMet: ["A.15.b"],
  },
  {
    name: "acupuncture, onset 2025-10-01 (over 12 weeks by date), no pregnancy diagnosis: only B.1.d left open",
    body: {
      member,
      service: { codes: ["97810"], dateOfService: dos },
      answers: ACUPUNCTURE_ANSWERS,
      facts: { painOnset: "2025-10-01", diagnoses: ["M54.50"] },
    },
    outcome: "pended",
    met: ["B.1.a"],
    notMet: [],
  },
  {
    name: "acupuncture, 8 weeks of pain during a pregnancy (O26.891): not met, proposed denial for a physician",
    body: {
      member,
      service: { codes: ["97810"], dateOfService: dos },
      facts: { painWeeks: 8, diagnoses: ["O26.891"] },
    },
    outcome: "denied",
    met: [],
    notMet: ["B.1.a", "B.1.d", "B.1"],
  },
];

describe("a payer's own library, authored and published (issue 15 acceptance)", { skip }, () => {
  before(() => {
    ok(["init", LIB]);
    for (const doc of Object.values(DOCS)) ok(["add", join(CORPUS, doc), "--library", LIB]);
  });

  it("bindings with undeclared facts are refused, naming the fact and the policy", () => {
    const file = join(LIB, "NCD.240.4", "bindings.json");
    writeFileSync(
      file,
      JSON.stringify({
        policy: "NCD.240.4",
        predicates: [
          { match: "AHI or RDI greater than or equal to 15", when: { fact: "ahi", op: ">=", value: 15 } },
        ],
      }),
    );
    const r = cli(["lint", "NCD.240.4", "--library", LIB]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /fact "ahi" is not declared/);
    assert.match(r.stderr, /NCD\.240\.4/);
  });

  it("authored bindings load and lint clean; drafts decide nothing by date; publishing makes each version effective", () => {
    for (const id of Object.keys(DOCS))
      copyFileSync(join(FIXTURES, `${id}.json`), join(LIB, id, "bindings.json"));
    const draft = cli(["evaluate", "-", "--library", LIB, "--json"], JSON.stringify(CASES[0]!.body));
    // A draft routes no code: until it is published nothing in force governs E0601.
    assert.equal(draft.code, 0, draft.stderr);
    assert.equal((JSON.parse(draft.stdout) as Det).outcome, "not-applicable");
    for (const id of Object.keys(DOCS)) {
      const lint = cli(["lint", id, "--library", LIB, "--json"]);
      assert.notEqual(lint.code, 2, lint.stderr);
      const versions = (
        JSON.parse(ok(["policies", "--library", LIB, "--json"]).stdout) as {
          id: string;
          version: string;
        }[]
      ).filter((p) => p.id === id);
      assert.equal(versions.length, 1, id);
      ok([
        "publish",
        `${id}@${versions[0]!.version}`,
        "--by",
        "Dr. Ada Author",
        "--effective",
        "2026-01-01",
        "--library",
        LIB,
      ]);
    }
    const rows = JSON.parse(ok(["policies", "--library", LIB, "--json"]).stdout) as {
      id: string;
      status: string;
    }[];
    assert.deepEqual(rows.map((r) => `${r.id} ${r.status}`).sort(), [
      "NCD.20.29 effective",
      "NCD.240.4 effective",
      "NCD.30.3.3 effective",
    ]);
  });

  it("a document lint finds errors in is not published (the ICD NCD's unplaced paragraph)", () => {
    ok(["add", join(CORPUS, "20.4_implantable_cardioverter_defibrillators.txt"), "--library", LIB]);
    const r = cli(["publish", "NCD.20.4@2023-07", "--by", "Dr. Ada Author", "--library", LIB]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot be published: lint finds 1 error/);
  });

  const viaCli: Det[] = [];
  it("decides the cases through the CLI, facts deciding their criteria", () => {
    for (const c of CASES) {
      const d = JSON.parse(
        ok(["evaluate", "-", "--library", LIB, "--json"], JSON.stringify(c.body)).stdout,
      ) as Det;
      viaCli.push(d);
      const s = statuses(d);
      assert.equal(d.outcome, c.outcome, `${c.name}: ${JSON.stringify(s)}`);
      for (const id of c.met) assert.equal(s[id], "met", `${c.name}: ${id}`);
      for (const id of c.notMet) assert.equal(s[id], "not-met", `${c.name}: ${id}`);
    }
  });

  it("bad facts through the CLI: exit 2 naming the fact, the policy and the expected type", () => {
    const base = CASES[0]!.body;
    const wrong = cli(["evaluate", "-", "--library", LIB], JSON.stringify({ ...base, facts: { ahi: "20" } }));
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /facts\.ahi: must be a number \(\/h, 0–200\) for NCD\.240\.4@/);
    const unknown = cli(["evaluate", "-", "--library", LIB], JSON.stringify({ ...base, facts: { bmi: 41 } }));
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /facts\.bmi: unknown fact for NCD\.240\.4@.*it reads ahi, osaFindings/);
    const set = cli(
      ["evaluate", "-", "--library", LIB],
      JSON.stringify({ ...CASES[1]!.body, facts: { ahi: 9, osaFindings: ["snoring"] } }),
    );
    assert.equal(set.code, 2);
    assert.match(
      set.stderr,
      /facts\.osaFindings: must be a list of values of "excessive daytime sleepiness".* for NCD\.240\.4@/,
    );
    const date = cli(
      ["evaluate", "-", "--library", LIB],
      JSON.stringify({ ...CASES[4]!.body, facts: { painOnset: "2025-02-30" } }),
    );
    assert.equal(date.code, 2);
    assert.match(date.stderr, /facts\.painOnset: must be a date YYYY-MM-DD for NCD\.30\.3\.3@2020-01/);
  });

  it("the service on the same library decides them the same way (JSON API), and refuses bad facts with 400", async () => {
    const data = join(root, "data");
    const child = spawn(
      process.execPath,
      [BIN, "serve", "--port", "0", "--data", data, "--library", LIB, "--log-level", "off"],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
    );
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      let err = "";
      child.stdout!.on("data", (b: Buffer) => {
        out += b.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.stderr!.on("data", (b: Buffer) => {
        err += b.toString();
      });
      child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    try {
      const token = ok([
        "token",
        "--role",
        "provider",
        "--sub",
        "p1",
        "--org",
        "clinic-1",
        "--data",
        data,
      ]).stdout.trim();
      const post = (path: string, body: unknown) =>
        fetch(`${url}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      for (const [i, c] of CASES.entries()) {
        const res = await post("/api/evaluate", c.body);
        assert.equal(res.status, 200, c.name);
        const d = (await res.json()) as Det;
        assert.equal(d.outcome, viaCli[i]!.outcome, c.name);
        assert.deepEqual(statuses(d), statuses(viaCli[i]!), c.name);
      }
      const bad = await post("/api/evaluate", { ...CASES[2]!.body, facts: { diagnoses: ["not-a-code"] } });
      assert.equal(bad.status, 400);
      const body = (await bad.json()) as { error?: { message?: string } } & { message?: string };
      assert.match(
        JSON.stringify(body),
        /facts\.diagnoses: must be a list of codes of ICD-10-CM \(M43\.16\), each once for NCD\.20\.29@/,
      );
      const facts = await fetch(`${url}/api/facts?policy=NCD.20.29`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(facts.status, 200);
      const [v] = (await facts.json()) as { policy: string; facts: { name: string; type: string }[] }[];
      assert.deepEqual(
        v!.facts.map((f) => `${f.name}:${f.type}`),
        ["diagnoses:set", "wagnerGrade:integer", "standardWoundCareDays:integer"],
      );
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
});
