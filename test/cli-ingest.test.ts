/**
 * `medpolicy ingest` through the CLI (issue 12): `--json` always writes one JSON document on stdout —
 * the model with its proposed code bindings, or `{"error": {"kind", "message", "where"}}` with exit 2
 * for bad input — and the human output stays as it was.
 *
 * The CLI is run from the sources (tsx), as `bin/medpolicy.js` runs `dist/`: the same `main()`, the same
 * exit codes and streams, without needing a build first.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ROOT } from "./suite/cases.js";

const MAIN = join(ROOT, "src", "cli", "main.ts");
const ENTRY = `import(${JSON.stringify(MAIN)}).then((m) => m.main(process.argv.slice(1))).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write("medpolicy: internal error: " + (err && err.message ? err.message : String(err)) + "\\n"); process.exitCode = 70; },
);`;

function cli(args: string[], input?: string | Buffer) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", ENTRY, "--", ...args], {
    cwd: ROOT,
    input: input ?? "",
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The one JSON document on stdout (throws if stdout is anything else). */
function json(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout) as Record<string, unknown>;
}

const dir = mkdtempSync(join(tmpdir(), "medpolicy-cli-ingest-"));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const HEAD = `## Clinical Policy: Sacroiliac Joint Fusion

Reference Number: CP.MP.999

Date of Last Revision: 04/25

### Description

Sacroiliac joint (SIJ) fusion fuses the iliac bone to the sacrum.

### Policy/Criteria

I. It is the policy of health plans affiliated with Centene Corporation that open sacroiliac joint fusion (CPT 27280) is **medically necessary** for any of the following indications:
  A. Stabilization of a traumatic disruption of the pelvic ring;
  B. As an adjunct to sacrectomy for sacral tumors.
II. It is the policy of health plans affiliated with Centene Corporation that minimally invasive SIJ fusion is **medically necessary** when meeting all of the following:
  A. Failure of at least six months of conservative treatment;
  B. Positive response to at least three provocative tests.
III. It is the policy of health plans affiliated with Centene Corporation that current evidence does not support SIJ fusion using implants placed without transfixation.

### Coding Implications
`;

/** Centene's own tables: every line placed, exit 0. */
const CENTENE = `${HEAD}
**Codes that support coverage criteria**

CPT® Codes\tDescription
27279\tArthrodesis, sacroiliac joint, percutaneous or minimally invasive, with placement of transfixation device

**Codes that do not support coverage criteria**

CPT® Codes\tDescription
27278\tArthrodesis, sacroiliac joint, percutaneous, with intra-articular implant(s), without placement of transfixation device

Reviews, Revisions, and Approvals\tRevision Date\tApproval Date
New policy.\t04/25\t04/25
`;

/** Aetna-style lists under the same policy. */
const AETNA_LISTS = `${HEAD}
CPT codes covered if selection criteria are met:
27279\tArthrodesis, sacroiliac joint, percutaneous or minimally invasive, with placement of transfixation device
CPT codes not covered for indications listed in the CPB:
27278\tArthrodesis, sacroiliac joint, percutaneous, with intra-articular implant(s), without placement of transfixation device
0809T, 0810T
`;

interface Binding {
  codes: string[];
  system: string;
  section?: string;
  coverage: string;
  basis: string;
  line: number;
  confidence: string;
}

describe("ingest --json: the model with proposed code bindings", () => {
  it("Centene tables: exit 0, one JSON document, a proposal per table and statement", () => {
    const r = cli(["ingest", file("centene.md", CENTENE), "--json"]);
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(0, 2000));
    const out = json(r.stdout);
    assert.deepEqual(Object.keys(out), [
      "versions",
      "unplaced",
      "findings",
      "proposedBindings",
      "identifiedBy",
    ]);
    const ps = out.proposedBindings as Binding[];
    const pick = (code: string) => {
      const p = ps.find((b) => b.codes.includes(code));
      assert.ok(p, `${code} in ${JSON.stringify(ps)}`);
      return { section: p.section, coverage: p.coverage, confidence: p.confidence, system: p.system };
    };
    assert.deepEqual(pick("27280"), {
      section: "I",
      coverage: "supports",
      confidence: "stated",
      system: "CPT",
    });
    assert.deepEqual(pick("27279"), {
      section: "II",
      coverage: "supports",
      confidence: "inferred",
      system: "CPT",
    });
    assert.deepEqual(pick("27278"), {
      section: "III",
      coverage: "does-not-support",
      confidence: "inferred",
      system: "CPT",
    });
    for (const p of ps) {
      assert.equal(typeof p.basis, "string");
      assert.ok(Number.isInteger(p.line) && p.line > 0);
    }
    // Proposals are not part of the version (nor of its hash).
    const v = (out.versions as Record<string, unknown>[])[0] as Record<string, unknown>;
    assert.ok(!("proposedBindings" in v));
  });

  it("Aetna-style lists: covered / not covered, a comma list; from standard input too", () => {
    const byFile = cli(["ingest", file("aetna.md", AETNA_LISTS), "--json"]);
    const byStdin = cli(["ingest", "-", "--json"], AETNA_LISTS);
    for (const r of [byFile, byStdin]) {
      assert.ok(r.code === 0 || r.code === 2, r.stderr);
      const ps = json(r.stdout).proposedBindings as Binding[];
      const not = ps.find((b) => b.codes.includes("27278"));
      assert.deepEqual(not?.codes, ["27278", "0809T", "0810T"]);
      assert.equal(not?.section, "III");
      assert.equal(not?.coverage, "does-not-support");
      assert.equal(ps.find((b) => b.codes.includes("27279"))?.section, "II");
    }
    assert.deepEqual(json(byStdin.stdout).proposedBindings, json(byFile.stdout).proposedBindings);
  });

  it("the human output stays: the tree and the placement report, not JSON", () => {
    const r = cli(["ingest", file("centene-human.md", CENTENE)]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.trimStart().startsWith("{"));
    assert.match(r.stdout, /Every line placed\./);
    assert.match(r.stdout, /Identified by header\./);
  });

  it("a section's own condition is printed with it", () => {
    const doc = [
      "Medical Policy: Gizmo",
      "Policy Number: MP-1",
      "Effective Date: 01/01/2026",
      "",
      "Policy",
      "",
      "Gizmo therapy is medically necessary for adults 18 years and older when all of the following are met:",
      "1. Pain; and",
      "2. Failed therapy.",
    ].join("\n");
    const r = cli(["ingest", file("condition.txt", doc)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}I {2}only if: adults 18 years and older$/m);
  });
});

describe("ingest --json: errors are one JSON document too", () => {
  const cases: [string, () => ReturnType<typeof cli>, RegExp, Record<string, unknown> | undefined][] = [
    [
      "a document with no policy in it",
      () => cli(["ingest", file("recipe.txt", "Pancakes\n\nMix flour, eggs and milk.\nFry.\n"), "--json"]),
      /./,
      { file: join(dir, "recipe.txt") },
    ],
    [
      "a binary file",
      () => cli(["ingest", file("blob.bin", Buffer.from([0, 1, 2, 3, 0, 255, 254, 0, 0, 7])), "--json"]),
      /./,
      undefined,
    ],
    ["an empty document", () => cli(["ingest", file("empty.md", ""), "--json"]), /./, undefined],
    [
      "a file that does not exist",
      () => cli(["ingest", join(dir, "nope.md"), "--json"]),
      /cannot read .*nope\.md: ENOENT/,
      { file: join(dir, "nope.md") },
    ],
    ["no FILE", () => cli(["ingest", "--json"]), /needs a FILE/, { field: "FILE" }],
    ["an unknown option", () => cli(["ingest", "x.md", "--json", "--frobnicate"]), /frobnicate/, undefined],
    ["empty standard input", () => cli(["ingest", "-", "--json"], ""), /./, undefined],
  ];
  for (const [name, run, message, where] of cases) {
    it(name, () => {
      const r = run();
      assert.equal(r.code, 2, `${r.stderr}\n${r.stdout}`);
      const out = json(r.stdout);
      assert.deepEqual(Object.keys(out), ["error"]);
      const error = out.error as { kind: string; message: string; where: Record<string, unknown> };
      assert.equal(error.kind, "input");
      assert.match(error.message, message);
      assert.equal(typeof error.where, "object");
      if (where) assert.deepEqual(error.where, where);
      // The human message still goes to stderr.
      assert.match(r.stderr, /bad input|medpolicy ingest:/);
    });
  }

  it("without --json an error stays on stderr only", () => {
    const r = cli(["ingest", join(dir, "nope.md")]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /bad input: cannot read/);
  });
});
