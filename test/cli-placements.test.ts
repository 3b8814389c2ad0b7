/**
 * Issue 15 (left from the last session): a version whose document has text the ingester could not
 * place could not be published, and nothing short of editing the source resolved it. Authored
 * placements (`placements` in bindings.json) resolve it: `narrative` (not criteria: DBS NCD 160.24's
 * cautions) or `section` (bears on a section's criteria: ICD NCD 20.4's exceptions to the waiting
 * periods, which the tree does not encode — the section then decides `review`, never approves or
 * denies on its own). Through the real CLI (`npm run build` first), on an `init`ed library.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { dos, member } from "./support/ncd-cases.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "bin", "medpolicy.js");
const CORPUS = join(ROOT, "..", "shared", "corpus", "cms-ncd");
const ICD = join(CORPUS, "20.4_implantable_cardioverter_defibrillators.txt");
const DBS = join(CORPUS, "160.24_deep_brain_stimulation_et_pd.txt");
const skip = existsSync(ICD) && existsSync(DBS) ? false : "../shared/corpus/cms-ncd is not here";

const root = mkdtempSync(join(tmpdir(), "medpolicy-placements-"));
const LIB = join(root, "lib");
after(() => rmSync(root, { recursive: true, force: true }));

function cli(args: string[], input = "") {
  const env = { ...process.env };
  delete env.MEDPOLICY_LIBRARY;
  delete env.MEDPOLICY_POLICIES;
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, env, input, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function ok(args: string[], input = "") {
  const r = cli(args, input);
  assert.equal(r.code, 0, `${args.join(" ")}\n${r.stderr}${r.stdout.slice(0, 2000)}`);
  return r;
}
interface LintRow {
  code: string;
  severity: string;
  line?: number;
  message: string;
}
const lint = (ref: string) =>
  JSON.parse(cli(["lint", ref, "--library", LIB, "--json"]).stdout) as LintRow[] | { findings: LintRow[] };
const rows = (x: ReturnType<typeof lint>) => (Array.isArray(x) ? x : x.findings);
const bindingsFile = (id: string) => join(LIB, id, "bindings.json");
const writeBindings = (id: string, extra: Record<string, unknown>) =>
  writeFileSync(
    bindingsFile(id),
    JSON.stringify({ ...(JSON.parse(readFileSync(bindingsFile(id), "utf8")) as object), ...extra }, null, 2),
  );

/** ICD insertion (CPT 33249) routed to section B; every indication answered no: section B not met. */
const ICD_CASE = {
  member,
  service: { codes: ["33249"], dateOfService: dos },
  answers: Object.fromEntries(["B.1.a", "B.1.b", "B.2", "B.3", "B.4", "B.5", "B.6"].map((id) => [id, false])),
};
/** The same, naming the draft version (SPEC 1.4: a draft decides only when named). */
const DRAFT_CASE = { ...ICD_CASE, policy: "NCD.20.4@2023-07" };
const ICD_LINE_68 = "Exceptions to waiting periods for patients that have had a CABG";

describe("authored placements of unplaced text (issue 15)", { skip }, () => {
  before(() => {
    ok(["init", LIB]);
    ok(["add", ICD, "--library", LIB]);
    ok(["add", DBS, "--library", LIB]);
    writeBindings("NCD.20.4", { codes: [{ codes: ["33249"], section: "B", why: "ICD insertion" }] });
  });

  it("an unplaced paragraph is a lint error and refuses publication", () => {
    const found = rows(lint("NCD.20.4")).filter((f) => f.code === "unplaced");
    assert.deepEqual(
      found.map((f) => [f.severity, f.line]),
      [["error", 68]],
    );
    const r = cli(["publish", "NCD.20.4@2023-07", "--by", "Dr. Ada Author", "--library", LIB]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /lint finds 1 error/);
  });

  it("unplaced, section B decides review (safe by default); placed as narrative the tree decides; placed on B, review with the author's reason", () => {
    const decide = () =>
      JSON.parse(ok(["evaluate", "-", "--library", LIB, "--json"], JSON.stringify(DRAFT_CASE)).stdout) as {
        outcome: string;
        lines: { basis?: string }[];
      };
    const unplaced = decide();
    assert.equal(unplaced.outcome, "review");
    assert.match(unplaced.lines[0]!.basis!, /could not be placed \(line 68\)/);

    writeBindings("NCD.20.4", {
      placements: [{ line: 68, text: ICD_LINE_68, as: "narrative", why: "read as a remark" }],
    });
    const narrative = decide();
    assert.equal(narrative.outcome, "denied", "the author said line 68 is no criterion: B's tree decides");

    writeBindings("NCD.20.4", {
      placements: [
        {
          line: 68,
          text: ICD_LINE_68,
          as: "section",
          section: "B",
          why: "exceptions to the waiting periods of B.2–B.4, which the criteria tree does not encode",
        },
      ],
    });
    const placed = rows(lint("NCD.20.4"));
    assert.equal(placed.filter((f) => f.code === "unplaced").length, 0);
    const info = placed.find((f) => f.code === "placed");
    assert.equal(info?.severity, "info");
    assert.equal(info?.line, 68);
    assert.match(info!.message, /section B/);
    const onB = decide();
    assert.equal(onB.outcome, "review");
    assert.match(onB.lines[0]!.basis!, /line 68 bears on this section's criteria, placed by an author/);
    assert.doesNotMatch(onB.lines[0]!.basis!, /could not be placed/);
  });

  it("a placement whose text does not start the unplaced line places nothing, and lint says so", () => {
    const saved = readFileSync(bindingsFile("NCD.20.4"), "utf8");
    writeBindings("NCD.20.4", {
      placements: [{ line: 68, text: "Replacement of ICDs: patients", as: "narrative", why: "moved text" }],
    });
    const found = rows(lint("NCD.20.4"));
    assert.ok(found.some((f) => f.code === "unplaced" && f.severity === "error"));
    assert.ok(found.some((f) => f.code === "placement-unmatched" && f.severity === "error"));
    writeFileSync(bindingsFile("NCD.20.4"), saved);
  });

  it("a placed version publishes, and its snapshot keeps the placement", () => {
    ok(["publish", "NCD.20.4@2023-07", "--by", "Dr. Ada Author", "--library", LIB]);
    const snapshot = JSON.parse(readFileSync(join(LIB, "NCD.20.4", "published", "2023-07.json"), "utf8")) as {
      bindings: { placements?: { line: number; as: string }[] };
    };
    assert.deepEqual(
      snapshot.bindings.placements?.map((p) => [p.line, p.as]),
      [[68, "section"]],
    );
    const d = JSON.parse(
      ok(["evaluate", "-", "--library", LIB, "--json"], JSON.stringify(ICD_CASE)).stdout,
    ) as {
      outcome: string;
    };
    assert.equal(d.outcome, "review");
  });

  it("narrative placements (DBS cautions) clear both lines and the version publishes", () => {
    const cautions = [
      [42, "Patients who undergo DBS implantation should not be exposed to diathermy"],
      [44, "The DBS should be performed with extreme caution"],
    ] as const;
    writeBindings("NCD.160.24", {
      placements: cautions.map(([line, text]) => ({
        line,
        text,
        as: "narrative",
        why: "a clinical caution, not a coverage criterion",
      })),
    });
    const found = rows(lint("NCD.160.24"));
    assert.deepEqual(
      found.filter((f) => f.code === "placed").map((f) => f.line),
      [42, 44],
    );
    assert.equal(found.filter((f) => f.severity === "error").length, 0);
    ok(["publish", "NCD.160.24@2003-04", "--by", "Dr. Ada Author", "--library", LIB]);
  });

  it("a placement without a reason, or naming no section, is refused naming the field", () => {
    writeBindings("NCD.160.24", {
      placements: [{ line: 42, text: "Patients who undergo DBS", as: "section" }],
    });
    const r = cli(["lint", "NCD.160.24", "--library", LIB]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /placements/);
  });
});
