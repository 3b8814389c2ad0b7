/**
 * `medpolicy impact` through the real CLI (`bin/medpolicy.js`; run `npm run build` first), issue 15
 * item 4: requests submitted through the real service into a temporary SQLite store (and a fresh
 * PostgreSQL schema when the test database answers), then replayed under a draft that tightens a
 * threshold — NDJSON and text output, progress on stderr, the window, bad input, and no member data in
 * anything printed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parallelImpact } from "../src/cli/impact-parallel.js";
import { replayImpact } from "../src/library/impact.js";
import { loadLibrary } from "../src/library/index.js";
import type { MedpolicyError } from "../src/model/index.js";
import { libraryEngine } from "../src/server/engine.js";
import { DEMO_USERS, RequestService } from "../src/server/index.js";
import { openStore, SqliteStore } from "../src/store/index.js";
import { freshSchema, postgresAvailable } from "./service/helpers.js";
import { ROOT } from "./suite/cases.js";
import { gizmoDoc, writeGizmoLibrary } from "./support/impact-fixture.js";

const BIN = join(ROOT, "bin", "medpolicy.js");
const root = mkdtempSync(join(tmpdir(), "medpolicy-cli-impact-"));
const LIB = join(root, "lib");
const DATA = join(root, "data");
after(() => rmSync(root, { recursive: true, force: true }));

// MP-9: in force from 2025-01 (BMI of 35 or more); the draft 2026-03 asks for 40.
function writeLibrary(): void {
  writeGizmoLibrary(LIB, [
    ["v2025.txt", gizmoDoc(35, "Effective Date: 01/01/2025")],
    ["draft.txt", gizmoDoc(40, "Date of Last Revision: 03/2026")],
  ]);
}

const MEMBER_NAME = "Jane Q. Impactson";
const MEMBER_ID = "MBR-7731-SECRET";
const gizmo = (bmi: number | undefined, dos: string, order?: boolean) => ({
  member: {
    id: MEMBER_ID,
    name: MEMBER_NAME,
    state: "TX",
    birthDate: "1960-01-01",
    lineOfBusiness: "commercial",
  },
  service: { codes: ["99950"], dateOfService: dos },
  answers: order === undefined ? {} : { "I.B": order },
  facts: bmi === undefined ? {} : { bmi },
});

interface Filled {
  /** Request ids by name. */
  ids: Record<string, string>;
}

/**
 * Submits the requests through the real service (and one reviewer's answers, so its newest
 * determination is not its first): the ids by name.
 */
async function fill(opts: { dataDir: string; databaseUrl?: string }): Promise<Filled> {
  const store = await openStore(opts);
  const lib = loadLibrary(LIB);
  // A clock that moves a millisecond every second reading: requests received one after another, some
  // in the same millisecond, so a scan's order (received, then id) and its ranges meet both.
  let tick = 0;
  const t0 = Date.parse("2026-02-01T12:00:00Z");
  const service = new RequestService(store, libraryEngine(lib), () => new Date(t0 + (tick++ >> 1)));
  const provider = DEMO_USERS.provider!;
  const ids: Record<string, string> = {};
  try {
    const submit = async (name: string, c: unknown) => {
      ids[name] = (await service.submit(c, provider)).record.id;
    };
    await submit("tight", gizmo(37, "2025-06-01", true));
    await submit("high", gizmo(42, "2025-06-02", true));
    await submit("noOrder", gizmo(37, "2025-06-03", false));
    await submit("early", gizmo(36, "2025-02-01", true));
    await submit("late", gizmo(38, "2025-12-01", true));
    // Pended at submission (no answer about the order); the reviewer's answer approves it.
    await submit("answered", gizmo(39, "2025-06-04"));
    await service.answer(ids.answered!, { answers: { "I.B": true } }, DEMO_USERS.reviewer!);
    await submit("other", {
      ...gizmo(37, "2025-06-05", true),
      service: { codes: ["99999"], dateOfService: "2025-06-05" },
    });
  } finally {
    await store.close();
  }
  return { ids };
}

function cli(args: string[], env: Record<string, string> = {}) {
  const e = { ...process.env, ...env };
  delete e.MEDPOLICY_LIBRARY;
  delete e.DATABASE_URL;
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, env: e, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function noPhi(...texts: string[]) {
  for (const t of texts) {
    assert.ok(!t.includes(MEMBER_NAME), "the member's name is printed");
    assert.ok(!t.includes(MEMBER_ID), "the member's id is printed");
    assert.ok(!t.includes("1960-01-01"), "the member's birth date is printed");
  }
}

interface Line {
  type: string;
  request?: string;
  from?: string;
  to?: string;
  criteria?: string[];
  [k: string]: unknown;
}

/** `medpolicy impact MP-9@2026-03` over the test library and `store`, with `more` arguments. */
function impact(store: string, ...more: string[]) {
  return cli(["impact", "MP-9@2026-03", "--library", LIB, "--store", store, ...more]);
}

/** The NDJSON lines printed: the changes, and the summary last (popped off). */
function jsonLines(stdout: string): { lines: Line[]; summary: Line } {
  const lines = stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line);
  const summary = lines.pop()!;
  return { lines, summary };
}

/** The checks both stores pass: `store` as `--store` takes it. */
function expectImpact(storeOf: () => string, filled: () => Filled) {
  it("--json: one line per changed request (approved → denied through I.A), then the summary", () => {
    const { ids } = filled();
    const r = impact(storeOf(), "--json");
    assert.equal(r.code, 0, r.stderr);
    const { lines, summary } = jsonLines(r.stdout);
    const byRequest = new Map(lines.map((l) => [l.request, l]));
    const changed = ["tight", "early", "late", "answered"].map((n) => ids[n]!).sort();
    assert.deepEqual([...byRequest.keys()].sort(), changed);
    for (const l of lines) {
      assert.deepEqual(
        { ...l },
        { type: "change", request: l.request, from: "approved", to: "denied", criteria: ["I.A"] },
      );
    }
    assert.equal(summary.type, "summary");
    assert.equal(summary.policy, "MP-9@2026-03");
    assert.equal(summary.read, 7);
    assert.equal(summary.replayed, 6);
    assert.equal(summary.changed, 4);
    assert.equal(summary.unchanged, 2);
    assert.deepEqual(summary.transitions, [{ from: "approved", to: "denied", count: 4 }]);
    assert.deepEqual(summary.criteria, [{ criterion: "I.A", count: 4 }]);
    assert.match(
      r.stderr,
      /medpolicy impact: done: 7 read · 6 of the policy · 6 in the window · 6 replayed · 4 changed in [\d.]+ s/,
    );
    noPhi(r.stdout, r.stderr);
  });

  it("the window (dates of service) and progress every N requests", () => {
    const { ids } = filled();
    const r = impact(
      storeOf(),
      "--json",
      "--from",
      "2025-06-01",
      "--to",
      "2025-06-30",
      "--progress-every",
      "2",
      "--page-size",
      "3",
    );
    assert.equal(r.code, 0, r.stderr);
    const { lines, summary } = jsonLines(r.stdout);
    assert.deepEqual(lines.map((l) => l.request).sort(), [ids.tight!, ids.answered!].sort());
    // The request for another policy's code is passed over unparsed (its date is not known).
    assert.equal(summary.ofPolicy, 6);
    assert.equal(summary.inWindow, 4);
    assert.equal(summary.from, "2025-06-01");
    const progress = r.stderr.split("\n").filter((l) => l.startsWith("medpolicy impact: "));
    assert.deepEqual(
      progress.map((l) => /: (?:done: )?(\d+) read/.exec(l)?.[1]),
      ["2", "4", "6", "7"],
    );
  });

  it("in parallel (worker threads, ranges of 2 requests): the same lines, in the same order, as one thread", () => {
    const one = impact(storeOf(), "--json", "--workers", "1");
    assert.equal(one.code, 0, one.stderr);
    assert.doesNotMatch(one.stderr, /threads/);
    const many = impact(storeOf(), "--json", "--workers", "3", "--range-size", "2", "--progress-every", "3");
    assert.equal(many.code, 0, many.stderr);
    assert.equal(many.stdout, one.stdout);
    // Progress as the ranges are written, in order (2, 4, 6, 7 read): a line each time a multiple of 3
    // is passed, and the end on three threads.
    const progress = many.stderr.split("\n").filter((l) => l.startsWith("medpolicy impact: "));
    assert.deepEqual(
      progress.map((l) => /: (?:done: )?(\d+) read/.exec(l)?.[1]),
      ["4", "6", "7"],
    );
    assert.match(progress.at(-1)!, / on 3 threads /);
    // Fewer than two full ranges: one thread is faster than starting workers.
    const few = impact(storeOf(), "--json", "--workers", "3", "--range-size", "4");
    assert.equal(few.stdout, one.stdout);
    assert.doesNotMatch(few.stderr, /threads/);
    noPhi(many.stdout, many.stderr);
  });

  it("text: the requests listed, which way, through which criteria", () => {
    const { ids } = filled();
    const r = impact(storeOf());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Replaying stored requests under MP-9@2026-03 \(draft\)/);
    assert.ok(r.stdout.includes(`  ${ids.tight}  approved → denied  I.A\n`), r.stdout);
    assert.ok(!r.stdout.includes(ids.high!), "an unchanged request is listed");
    assert.match(r.stdout, /4 outcomes change \(66\.7% of those replayed\); 2 unchanged\./);
    assert.match(r.stdout, /Which way:\n {4}approved → denied {2}4\n/);
    assert.match(r.stdout, /Through criteria:\n {4}I\.A {2}4\n/);
    noPhi(r.stdout, r.stderr);
  });
}

before(() => {
  assert.ok(statSync(join(ROOT, "dist", "cli", "main.js")).isFile(), "run npm run build first");
  writeLibrary();
});

describe("medpolicy impact on SQLite (issue 15 item 4)", () => {
  let filled: Filled | undefined;
  before(async () => {
    filled = await fill({ dataDir: DATA });
  });
  expectImpact(
    () => `sqlite:${DATA}`,
    () => filled!,
  );

  it("sqlite: may name the database file itself", () => {
    const r = impact(`sqlite:${join(DATA, "medpolicy.db")}`, "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"changed":4/);
  });

  it("bad input exits 2 naming it; nothing is created where no store is", () => {
    const bad = (args: string[], pattern: RegExp) => {
      const r = cli(["impact", ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
    };
    const s = ["--library", LIB, "--store", `sqlite:${DATA}`];
    bad(["MP-9", ...s], /impact needs one version/);
    bad(["MP-9@2027-01", ...s], /no version 2027-01 of MP-9/);
    bad(["MP-9@2026-03", ...s, "--from", "2025-13-01"], /--from must be a date/);
    bad(
      ["MP-9@2026-03", ...s, "--from", "2025-07-01", "--to", "2025-06-01"],
      /--from 2025-07-01 is after --to/,
    );
    bad(["MP-9@2026-03", ...s, "--progress-every", "x"], /--progress-every must be a whole number/);
    bad(["MP-9@2026-03", ...s, "--workers", "0"], /--workers must be a whole number from 1/);
    bad(["MP-9@2026-03", ...s, "--range-size", "0"], /--range-size must be a whole number from 1/);
    const none = join(root, "no-store");
    bad(["MP-9@2026-03", "--library", LIB, "--store", `sqlite:${none}`], /no medpolicy store at/);
    assert.throws(() => statSync(none));
    bad(
      ["MP-9@2026-03", "--library", LIB, "--store", "mysql://x"],
      /--store must be sqlite:PATH or a postgres/,
    );
  });
});

describe("the parallel replay's workers (impact-parallel.ts)", () => {
  it("every range replayed by a worker: the same items, in the same order, as one thread", async () => {
    const store = new SqliteStore(DATA);
    const lib = loadLibrary(LIB);
    const version = lib.get("MP-9@2026-03");
    const collect = async (items: AsyncIterable<unknown>) => {
      const out: unknown[] = [];
      for await (const x of items) out.push(x);
      return out;
    };
    try {
      const one = await collect(replayImpact(lib, version, store.scanDeterminations({ pageSize: 2 })));
      for (const workers of [1, 3]) {
        const many = await collect(
          parallelImpact(lib, version, store, {
            libraryDir: LIB,
            store: `sqlite:${DATA}`,
            ref: "MP-9@2026-03",
            pageSize: 2,
            workers,
            rangeSize: 2,
            local: false,
          }),
        );
        assert.deepEqual(many, one);
      }
      assert.ok((one.at(-1) as { changed: number }).changed > 0, "nothing changed: the test proves nothing");
    } finally {
      await store.close();
    }
  });

  it("a worker that reads another library than the main thread refuses, and the replay fails naming why", async () => {
    const store = new SqliteStore(DATA);
    const lib = loadLibrary(LIB);
    // As if the folder had been edited between the main thread's read and the workers'.
    const edited = Object.create(lib) as typeof lib;
    edited.signature = `${lib.signature}-edited`;
    try {
      const run = async () => {
        for await (const _ of parallelImpact(edited, lib.get("MP-9@2026-03"), store, {
          libraryDir: LIB,
          store: `sqlite:${DATA}`,
          ref: "MP-9@2026-03",
          pageSize: 2,
          workers: 2,
          rangeSize: 1,
          local: false,
        }));
      };
      await assert.rejects(run, (e: MedpolicyError) => {
        assert.equal(e.kind, "conflict", e.message);
        assert.match(e.message, /the library changed/);
        return true;
      });
    } finally {
      await store.close();
    }
  });
});

describe("medpolicy impact on PostgreSQL (issue 15 item 4)", async () => {
  const available = await postgresAvailable();
  let schema: Awaited<ReturnType<typeof freshSchema>> | undefined;
  let filled: Filled | undefined;
  before(async () => {
    if (!available) return;
    schema = await freshSchema();
    filled = await fill({ dataDir: join(root, "pg-unused"), databaseUrl: schema.url });
  });
  after(async () => {
    await schema?.drop();
  });
  if (!available) {
    it("skipped: PostgreSQL not reachable (MEDPOLICY_TEST_DATABASE_URL)", (t) =>
      t.skip("PostgreSQL not reachable"));
    return;
  }
  // The URL is known once the schema is made: read when the tests run.
  expectImpact(
    () => schema!.url,
    () => filled!,
  );
});
