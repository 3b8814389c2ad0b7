/**
 * Impact before publishing (issue 15 item 4): a draft replayed over stored determinations — which
 * requests it would have decided, which outcomes change, which way and through which criteria. A
 * hand-written library: MP-9 in force from 2025-01 (BMI of 35 or more), a draft 2026-03 tightening the
 * threshold to 40, a draft 2026-06 adding a criterion.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { gizmoDoc, writeGizmoLibrary } from "../../test/support/impact-fixture.js";
import { canonicalJson, type TraceNode } from "../model/index.js";
import { decide } from "./decide.js";
import {
  changesBetween,
  changesByIds,
  type ImpactChange,
  type ImpactCounts,
  type ImpactItem,
  ImpactReplay,
  type ImpactSummary,
  inForceView,
  mayRequest,
  replayImpact,
  type StoredRequest,
} from "./impact.js";
import { loadLibrary } from "./library.js";

const dir = mkdtempSync(join(tmpdir(), "medpolicy-impact-"));
after(() => rmSync(dir, { recursive: true, force: true }));

writeGizmoLibrary(dir, [
  ["v2025.txt", gizmoDoc(35, "Effective Date: 01/01/2025")],
  ["draft-2026-03.txt", gizmoDoc(40, "Date of Last Revision: 03/2026")],
  ["draft-2026-06.txt", gizmoDoc(35, "Date of Last Revision: 06/2026", "A supervised diet of six months.")],
]);
const lib = loadLibrary(dir);

/** A request stored as the service stores it: the case as decided, the day, the outcome. */
function stored(
  requestId: string,
  opts: { bmi?: number; dos: string; order?: boolean; codes?: string[]; policy?: string },
): StoredRequest {
  const c = {
    member: { state: "TX", birthDate: "1960-01-01", lineOfBusiness: "commercial" },
    service: { codes: opts.codes ?? ["99950"], dateOfService: opts.dos },
    answers: { "I.B": opts.order ?? true },
    facts: opts.bmi === undefined ? {} : { bmi: opts.bmi },
    ...(opts.policy && { policy: opts.policy }),
  };
  const caseJson = canonicalJson(c);
  const today = opts.dos;
  return {
    requestId,
    determination: {
      caseJson,
      today,
      outcome: decide(lib, JSON.parse(caseJson), { today, trace: false }).outcome,
    },
  };
}

async function run(
  version: string,
  requests: Parameters<typeof replayImpact>[2],
  opts: Parameters<typeof replayImpact>[3] = {},
): Promise<{ changes: ImpactChange[]; summary: ImpactSummary }> {
  const items: ImpactItem[] = [];
  for await (const x of replayImpact(lib, lib.get(version), requests, opts)) items.push(x);
  const summary = items.pop();
  assert.equal(summary?.type, "summary");
  assert.ok(items.every((x) => x.type === "change"));
  return { changes: items as ImpactChange[], summary: summary as ImpactSummary };
}

const requests = [
  stored("r-tight", { bmi: 37, dos: "2025-06-01" }),
  stored("r-high", { bmi: 42, dos: "2025-06-02" }),
  stored("r-no-order", { bmi: 37, dos: "2025-06-03", order: false }),
  stored("r-unknown", { dos: "2025-06-04" }),
  stored("r-early", { bmi: 36, dos: "2025-02-01" }),
  stored("r-late", { bmi: 38, dos: "2025-12-01" }),
  stored("r-other-code", { bmi: 37, dos: "2025-06-05", codes: ["99999"] }),
  stored("r-named-old", { bmi: 37, dos: "2025-06-06", policy: "MP-9@2025-01" }),
  stored("r-named-draft", { bmi: 37, dos: "2025-06-07", policy: "MP-9@2026-03" }),
];

describe("replayImpact (issue 15 item 4)", () => {
  it("the stored requests decide as the library in force says", () => {
    const outcome = (id: string) => requests.find((r) => r.requestId === id)!.determination.outcome;
    assert.equal(outcome("r-tight"), "approved");
    assert.equal(outcome("r-high"), "approved");
    assert.equal(outcome("r-no-order"), "denied");
    assert.equal(outcome("r-unknown"), "pended");
    assert.equal(outcome("r-named-draft"), "denied");
  });

  it("a draft tightening a threshold: approved → denied through its criterion; unchanged requests not listed", async () => {
    const { changes, summary } = await run("MP-9@2026-03", [requests]);
    assert.deepEqual(
      changes.map((c) => [c.request, c.from, c.to, c.criteria]),
      [
        ["r-tight", "approved", "denied", ["I.A"]],
        ["r-early", "approved", "denied", ["I.A"]],
        ["r-late", "approved", "denied", ["I.A"]],
      ],
    );
    assert.equal(summary.policy, "MP-9@2026-03");
    assert.equal(summary.read, 9);
    assert.equal(summary.ofPolicy, 8);
    assert.equal(summary.inWindow, 8);
    // Not replayed: the code no policy governs, the case that names the version in force.
    assert.equal(summary.replayed, 7);
    assert.equal(summary.changed, 3);
    assert.equal(summary.unchanged, 4);
    assert.deepEqual(summary.transitions, [{ from: "approved", to: "denied", count: 3 }]);
    assert.deepEqual(summary.criteria, [{ criterion: "I.A", count: 3 }]);
  });

  it("replays split into parts and added up (the parallel CLI's workers) sum to one replay", async () => {
    for (const version of ["MP-9@2026-03", "MP-9@2026-06"]) {
      const whole = await run(version, [requests], { from: "2025-03-01" });
      const total = new ImpactReplay(lib, lib.get(version), { from: "2025-03-01" });
      const worker = new ImpactReplay(lib, lib.get(version), { from: "2025-03-01" });
      const changes: ImpactChange[] = [];
      // Uneven parts, one worker reused across them (take() starts it again from zero).
      for (const part of [requests.slice(0, 2), requests.slice(2, 7), requests.slice(7)]) {
        for (const r of part) {
          const c = worker.replay(r);
          if (c) changes.push(c);
        }
        total.add(worker.take());
        assert.equal(worker.counts.read, 0);
      }
      assert.deepEqual(changes, whole.changes);
      assert.deepEqual(total.summary(), whole.summary);
      assert.ok(whole.summary.changed > 0, `${version}: nothing changed, the test proves nothing`);
    }
  });

  it("the window is on the date of service, both ends inclusive", async () => {
    const { changes, summary } = await run("MP-9@2026-03", requests, {
      from: "2025-06-01",
      to: "2025-06-30",
    });
    assert.deepEqual(
      changes.map((c) => c.request),
      ["r-tight"],
    );
    assert.equal(summary.inWindow, 6);
    assert.equal(summary.replayed, 5);
    assert.equal(summary.from, "2025-06-01");
    assert.equal(summary.to, "2025-06-30");
    const edge = await run("MP-9@2026-03", requests, { from: "2025-12-01", to: "2025-12-01" });
    assert.deepEqual(
      edge.changes.map((c) => c.request),
      ["r-late"],
    );
  });

  it("a stored outcome the library in force no longer reproduces is said so", async () => {
    const r = stored("r-drift", { bmi: 37, dos: "2025-06-01" });
    const drift: StoredRequest = { ...r, determination: { ...r.determination, outcome: "review" } };
    const { changes } = await run("MP-9@2026-03", [drift, requests[0]!]);
    assert.deepEqual(
      changes.map((c) => [c.request, c.from, c.to, c.reproduced, c.criteria]),
      [
        ["r-drift", "review", "denied", "approved", ["I.A"]],
        ["r-tight", "approved", "denied", undefined, ["I.A"]],
      ],
    );
  });

  it("a request whose case names none of the policy's codes is passed over unparsed", async () => {
    // Text no JSON parser reads: passed over all the same, so never parsed (not counted unreadable).
    const unparsed = (requestId: string, caseJson: string, policyId?: string): StoredRequest => ({
      requestId,
      determination: { today: "2025-06-01", outcome: "approved", ...(policyId && { policyId }), caseJson },
    });
    // Decided by the version's policy, though for another code: read.
    const named = stored("r-named-draft", { bmi: 37, dos: "2025-06-07", policy: "MP-9@2026-03" });
    const namedOther = stored("r-named-other", {
      bmi: 37,
      dos: "2025-06-07",
      policy: "MP-9@2026-03",
      codes: ["99999"],
    });
    const { changes, summary } = await run("MP-9@2026-03", [
      unparsed("x", '{"service":{"codes":["99999"]},"trailing'),
      unparsed("y", '{"facts":{"codes":[]},"service":{"codes":["12345","99998"]},', "XX-1"),
      stored("r-tight", { bmi: 37, dos: "2025-06-01" }),
      { ...namedOther, determination: { ...namedOther.determination, policyId: "MP-9" } },
      named,
      // Named by its text, but not JSON: read and counted unreadable.
      unparsed("z", '{"service":{"codes":["99950"]},'),
    ]);
    assert.deepEqual(
      changes.map((c) => c.request),
      ["r-tight"],
    );
    assert.deepEqual([summary.read, summary.ofPolicy, summary.replayed, summary.unreadable], [6, 3, 3, 1]);
  });

  it("mayRequest: false only when every codes array in the text is read and names none", () => {
    const codes = new Set(["99950", "99951", "E0782"]);
    const no = [
      '{"service":{"codes":["99999"]}}',
      '{"service":{"codes":[]}}',
      '{"facts":{"codes":["1"]},"service":{"codes":["2","3"]}}',
      '{"note":"\\"codes\\":[\\"99950\\"]","service":{"codes":["1"]}}',
    ];
    const yes = [
      '{"service":{"codes":["99999","99951"]}}',
      '{"service":{"codes":["e0782"]}}', // parsed as E0782
      '{"service":{"codes": ["99999"]}}', // not canonical: cannot tell
      '{"service":{"codes":["99\\u0039"]}}', // an escape: cannot tell
      '{"service":{"codes":[1]}}',
      '{"service":{"codes":"99999"}}',
      '{"service":{}}', // no codes at all: parsed (and refused there)
      '{"service":{"codes":["99999"',
      '{"x":"codes","service":{"codes":["1"]}}',
    ];
    for (const j of no) assert.equal(mayRequest(j, codes), false, j);
    for (const j of yes) assert.equal(mayRequest(j, codes), true, j);
  });

  it("mayRequest agrees with the parsed case on any canonical case (property)", () => {
    const code = fc.constantFrom("99950", "0775T", "0775t", "12345", "e0782", 'a"b', "c\\d", "");
    fc.assert(
      fc.property(
        fc.array(code, { maxLength: 4 }),
        fc.dictionary(
          fc.constantFrom("codes", "x", "y"),
          fc.oneof(fc.array(code), fc.string(), fc.integer()),
        ),
        (service, facts) => {
          const json = canonicalJson({ facts, service: { codes: service, dateOfService: "2025-01-01" } });
          const policy = new Set(["99950", "0775T", "E0782"]);
          // As the case is read: codes upper-cased.
          const names = service.some((c) => policy.has(c.toUpperCase()));
          // Never passes over a case that names one (what would be wrong); mostly tells the others.
          if (names) assert.equal(mayRequest(json, policy), true, json);
        },
      ),
    );
  });

  it("a criterion the draft adds is named where the difference starts", async () => {
    const { changes, summary } = await run("MP-9@2026-06", requests);
    const high = changes.find((c) => c.request === "r-high");
    assert.deepEqual([high?.from, high?.to, high?.criteria], ["approved", "pended", ["I.C"]]);
    assert.ok(summary.criteria.some((c) => c.criterion === "I.C"));
    assert.ok(!summary.criteria.some((c) => c.criterion === "I" || c.criterion === "I.A"));
  });

  it("progress every N requests read, and once at the end", async () => {
    const seen: ImpactCounts[] = [];
    const many = Array.from({ length: 5 }, () => requests).flat();
    async function* pages() {
      for (let i = 0; i < many.length; i += 7) yield many.slice(i, i + 7);
    }
    await run("MP-9@2026-03", pages(), { progressEvery: 10, onProgress: (c) => seen.push({ ...c }) });
    assert.deepEqual(
      seen.map((c) => c.read),
      [10, 20, 30, 40, 45],
    );
    assert.equal(seen.at(-1)!.changed, 15);
  });

  it("a stored case today's validation refuses is counted, not replayed", async () => {
    const broken: StoredRequest = {
      requestId: "r-broken",
      determination: {
        caseJson: '{"member":{}}',
        today: "2025-06-01",
        outcome: "approved",
      },
    };
    const { changes, summary } = await run("MP-9@2026-03", [broken, requests[0]!]);
    assert.equal(summary.unreadable, 1);
    assert.deepEqual(
      changes.map((c) => c.request),
      ["r-tight"],
    );
  });
});

describe("inForceView: the library as if a version were in force (SPEC 1.4 resolution)", () => {
  const seed = loadLibrary();
  it("a corporate version replaces its policy's versions, not a state variant in force for the state", () => {
    const v = seed.get("CP.MP.173@2024-11");
    const view = inForceView(seed, v);
    assert.equal(view.resolve("CP.MP.173", "TX", "2026-02-01"), v);
    // LA's own variant is in force from 2024-09-16: it still decides LA's requests.
    assert.equal(view.resolve("CP.MP.173", "LA", "2025-06-01")?.policy.identity.id, "LA.CP.MP.173");
    // NC's variant is not yet in force in 2025: the corporate version decides.
    assert.equal(view.resolve("CP.MP.173", "NC", "2025-06-01"), v);
    assert.equal(
      view.resolve("CP.MP.126", "TX", "2026-02-01"),
      seed.resolve("CP.MP.126", "TX", "2026-02-01"),
    );
  });
  it("a state variant's draft decides its state only", () => {
    const v = seed.get("LA.CP.MP.173@2025-02");
    const view = inForceView(seed, v);
    assert.equal(view.resolve("CP.MP.173", "LA", "2025-06-01"), v);
    assert.equal(
      view.resolve("CP.MP.173", "TX", "2025-06-01"),
      seed.resolve("CP.MP.173", "TX", "2025-06-01"),
    );
    assert.equal(view.get("LA.CP.MP.173"), v);
    assert.equal(seed.get("LA.CP.MP.173", "2025-06-01").policy.identity.version, "2024-02");
  });
});

describe("changesBetween: where two traces' differences start", () => {
  const status = fc.constantFrom("met", "not-met", "unknown") as fc.Arbitrary<TraceNode["status"]>;
  // Few ids, so that trees share them, repeat them, and differ in shape.
  const id = fc.constantFrom("I", "I.A", "I.B", "I.C", "I.C.1", "II", "II.A");
  const { tree } = fc.letrec<{ tree: TraceNode }>((t) => ({
    tree: fc.record({
      id,
      status,
      children: fc.oneof({ depthSize: "small" }, fc.constant([]), fc.array(t("tree"), { maxLength: 3 })),
    }) as unknown as fc.Arbitrary<TraceNode>,
  }));
  /** The same tree, its statuses drawn again (a version that changes no structure). */
  const restatus = (n: TraceNode, pick: () => TraceNode["status"]): TraceNode => ({
    ...n,
    status: pick(),
    children: (n.children ?? []).map((c) => restatus(c, pick)),
  });

  it("node by node, as by id, for trees of the same shape and any others (property)", () => {
    fc.assert(
      fc.property(
        fc.array(tree, { minLength: 1, maxLength: 2 }),
        fc.array(tree, { maxLength: 2 }),
        fc.infiniteStream(status),
        fc.boolean(),
        (before, other, statuses, sameShape) => {
          const it = statuses[Symbol.iterator]();
          const after = sameShape ? before.map((t) => restatus(t, () => it.next().value)) : other;
          assert.deepEqual(changesBetween(before, after), changesByIds(before, after));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("a leaf whose status changed is named, not the groups above it", () => {
    const leaf = (id: string, status: TraceNode["status"]): TraceNode =>
      ({ id, status, children: [] }) as unknown as TraceNode;
    const tree = (s: TraceNode["status"]) =>
      ({ id: "I", status: s, children: [leaf("I.A", s), leaf("I.B", "met")] }) as unknown as TraceNode;
    assert.deepEqual(changesBetween([tree("met")], [tree("not-met")]), ["I.A"]);
    assert.deepEqual(changesBetween([tree("met")], [tree("met")]), []);
  });
});
