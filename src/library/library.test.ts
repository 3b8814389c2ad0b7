/** The seed library (issue 2 acceptance): versions, statuses, resolution, lint, semantic diff, round trip. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ingest, renderMarkdown } from "../ingest/index.js";
import { diffPolicies } from "./diff.js";
import { loadLibrary } from "./library.js";
import { lintVersion } from "./lint.js";
import { withVersion } from "./versions.js";

const lib = loadLibrary();
const TODAY = "2026-11-25";

describe("policies", () => {
  it("lists exactly the seed versions with status and effective dates (SPEC 1.4)", () => {
    const rows = lib.policies(TODAY).map((r) => `${r.id}@${r.version} ${r.status} ${r.effective}`);
    assert.deepEqual(rows.sort(), [
      "CP.MP.126@2025-04 effective 2025-04-01",
      "CP.MP.173@2024-11 superseded 2024-11-01",
      "CP.MP.173@2025-11 effective 2025-11-01",
      "LA.CP.MP.173@2024-02 effective 2024-09-16",
      "LA.CP.MP.173@2025-02 draft 2025-02-01",
      "NC.CP.MP.173@2026-01 effective 2026-01-01",
    ]);
  });

  it("resolves by state and date of service: variant, else corporate, else none", () => {
    assert.equal(lib.resolve("CP.MP.173", "NC", "2026-03-01")?.policy.identity.id, "NC.CP.MP.173");
    assert.equal(lib.resolve("CP.MP.173", "NC", "2025-12-31")?.policy.identity.id, "CP.MP.173");
    assert.equal(lib.resolve("CP.MP.173", "LA", "2026-03-01")?.policy.identity.version, "2024-02");
    assert.equal(lib.resolve("CP.MP.173", "TX", "2025-01-01")?.policy.identity.version, "2024-11");
    assert.equal(lib.resolve("CP.MP.173", "TX", "2024-10-31"), undefined);
  });

  it("identifies the headerless corporate document by content", () => {
    const e = lib.get("CP.MP.173@2024-11");
    const bare = ingest(readFileSync(join(lib.dir, e.folder, e.source.file), "utf8")).versions[0]!;
    assert.equal(lib.identify(bare)?.id, "CP.MP.173");
  });
});

describe("lint", () => {
  const nc = lintVersion(lib, lib.get("NC.CP.MP.173").policy);
  const has = (pred: (f: (typeof nc)[number]) => boolean, what: string) =>
    assert.ok(nc.some(pred), `${what}\n${JSON.stringify(nc, null, 1)}`);
  it("NC: repeated labels in I.B and II.A.1, each with its line", () => {
    has(
      (f) => f.code === "label-repeated" && !!f.criterion?.startsWith("I.B") && f.line !== undefined,
      "I.B repeated label",
    );
    has(
      (f) => f.code === "label-repeated" && !!f.criterion?.startsWith("II.A.1") && f.line !== undefined,
      "II.A.1 repeated label",
    );
  });
  it("NC: section I's lead-in", () => {
    has(
      (f) =>
        (f.criterion === "I" || f.criterion?.startsWith("I.") === true || /section I\b/.test(f.message)) &&
        /lead-in|either/i.test(f.message + f.code),
      "section I lead-in",
    );
  });
  it("NC: wording that differs from the corporate version (I.A.2.c typo, I.B.3 and II.B.2 meaning)", () => {
    has((f) => f.criterion === "I.A.2.c" && f.code === "variant-typo", "I.A.2.c typo");
    has((f) => f.criterion === "I.B.3" && f.code === "variant-wording", "I.B.3 wording");
    has((f) => f.criterion === "II.B.2" && f.code === "variant-wording", "II.B.2 wording");
  });
});

describe("lint: what the evaluator reads with care", () => {
  it("a reference under a none is reported, with the seeds reporting none", () => {
    for (const e of lib.entries) {
      assert.deepEqual(
        lintVersion(lib, e.policy).filter((f) => f.code === "evaluation"),
        [],
        e.policy.identity.id,
      );
    }
    const v = structuredClone(lib.get("CP.MP.173").policy);
    const two = v.sections.find((s) => s.id === "II")!.tree!;
    // II.B (the contraindications, a `none`) made to hold "the above criteria" too.
    const none = two.children.find((c) => c.kind === "none")!;
    if (none.kind !== "none") throw new Error("II.B is a none");
    none.children.push({ kind: "ref", id: "II.B.6", text: "the above criteria", target: "I", line: 1 });
    const findings = lintVersion(lib, v).filter((f) => f.code === "evaluation");
    assert.equal(findings.length, 1, JSON.stringify(findings));
    assert.match(findings[0]!.message, /II\.B\.6 stands under a "none"/);
  });
});

describe("diff", () => {
  it("LA 2024-02 → 2025-02: I.A.2.f removed, g/h/i renumbered to f/g/h, nothing else", () => {
    const d = diffPolicies(lib.get("LA.CP.MP.173@2024-02").policy, lib.get("LA.CP.MP.173@2025-02").policy);
    assert.deepEqual(
      d.criteria.removed.map((c) => c.from),
      ["I.A.2.f"],
    );
    assert.deepEqual(
      d.criteria.renumbered.map((c) => `${c.from}→${c.to}`),
      ["I.A.2.g→I.A.2.f", "I.A.2.h→I.A.2.g", "I.A.2.i→I.A.2.h"],
    );
    assert.deepEqual(
      [d.criteria.added, d.criteria.reworded, d.criteria.logic, d.criteria.notes],
      [[], [], [], []],
    );
  });
  it("CP.MP.173 2024-11 → 2025-11: no criterion change", () => {
    const d = diffPolicies(lib.get("CP.MP.173@2024-11").policy, lib.get("CP.MP.173@2025-11").policy);
    assert.equal(d.criteriaUnchanged, true, d.summary.join("\n"));
  });
  it("NC vs corporate: reworded criteria and section I logic", () => {
    const d = diffPolicies(lib.get("CP.MP.173@2025-11").policy, lib.get("NC.CP.MP.173@2026-01").policy);
    assert.ok(
      d.criteria.reworded.some((c) => c.to === "I.B.3"),
      d.summary.join("\n"),
    );
    assert.ok(
      d.criteria.logic.some((c) => c.to === "I"),
      d.summary.join("\n"),
    );
  });
});

describe("round trip", () => {
  for (const e of lib.entries) {
    const { id, version } = e.policy.identity;
    it(`${id}@${version}: ingest → render → ingest keeps the hash`, () => {
      const again = ingest(renderMarkdown(e.policy), { policyId: id }).versions;
      assert.equal(again.length, 1);
      const v = e.source.version ? withVersion(again[0]!, e.source.version).version : again[0]!;
      assert.equal(v.hash, e.policy.hash);
    });
  }
});
