/**
 * Publishing (issue 15 item 3), below the CLI: a document added to a payer's library is a draft, never
 * chosen by date; `publishVersion` refuses what may not be published, writes the snapshot and the log;
 * a published version decides with its snapshot whatever bindings.json says later; a changed snapshot
 * or source document is refused on load, naming policy, version and file.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { snapshot } from "../../test/support/snapshot.js";
import { addDocument, initLibrary } from "../cli/library-commands.js";
import { DeterminationError, InputError, NotFoundError } from "../model/index.js";
import { decide } from "./decide.js";
import { defaultPoliciesDir, loadLibrary } from "./library.js";
import { publishVersion } from "./publish.js";
import { PUBLICATIONS_LOG, snapshotHash, snapshotSchema } from "./snapshot.js";

const CORPUS = join(defaultPoliciesDir(), "..", "..", "shared", "corpus", "cms-ncd");
const HBO = join(CORPUS, "20.29_hyperbaric_oxygen_therapy.txt");
const ICD = join(CORPUS, "20.4_implantable_cardioverter_defibrillators.txt");
const SIJ = join(defaultPoliciesDir(), "CP.MP.126", "004_13f8f8ece4477aa0.txt");
const ADDED = new Date("2026-03-01T09:00:00.000Z");
const NOW = new Date("2026-03-02T10:00:00.000Z");
const TODAY = "2026-03-02";

const root = mkdtempSync(join(tmpdir(), "medpolicy-publish-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function add(dir: string, file: string, bytes?: Buffer) {
  return addDocument(dir, bytes ?? readFileSync(file), { fileName: file, now: ADDED });
}

/** A library holding HBO (NCD.20.29@2017-04) with CPT 99183 bound to section A, a draft. */
function hboLibrary(): string {
  const dir = join(root, `lib-${n++}`);
  initLibrary(dir);
  add(dir, HBO);
  setBindings(dir, "NCD.20.29", (b) => {
    b.codes = [{ codes: ["99183"], section: "A" }];
  });
  return dir;
}

function setBindings(dir: string, id: string, f: (b: Record<string, unknown>) => void): void {
  const path = join(dir, id, "bindings.json");
  const b = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  f(b);
  writeFileSync(path, JSON.stringify(b, null, 2));
}

function publish(dir: string, ref: string, opts: { by?: string; effective?: string; now?: Date } = {}) {
  return publishVersion(dir, ref, {
    by: opts.by ?? "Dr. Ada Quill",
    now: opts.now ?? NOW,
    ...(opts.effective !== undefined && { effective: opts.effective }),
  });
}

/** The InputError `f` throws, its message matching every pattern; returns it. */
function refuses(f: () => unknown, ...patterns: RegExp[]): InputError {
  let err: InputError | undefined;
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof InputError, `InputError, got ${String(e)}`);
    for (const re of patterns) assert.match(e.message, re);
    err = e;
    return true;
  });
  return err!;
}

const hboCase = (extra: Record<string, unknown> = {}) => ({
  member: { state: "TX", birthDate: "1950-01-01", lineOfBusiness: "medicare" as const },
  service: { codes: ["99183"], dateOfService: "2026-03-01" },
  answers: { "A.2": true },
  ...extra,
});

describe("a document added to a payer's library is a draft", () => {
  it("whatever its revision log says: status draft on its provenance, never chosen by date", () => {
    const dir = hboLibrary();
    const sources = JSON.parse(readFileSync(join(dir, "NCD.20.29", "sources.json"), "utf8"));
    assert.equal(sources[0].status, "draft");
    const lib = loadLibrary(dir);
    const e = lib.get("NCD.20.29@2017-04");
    assert.equal(e.policy.identity.approved, "2017-04-03", "the document's log approves it");
    assert.equal(lib.statusOf(e, TODAY), "draft");
    assert.equal(lib.inForce("NCD.20.29", TODAY), undefined);
    const [row] = lib.policies(TODAY);
    assert.equal(row!.status, "draft");
    assert.equal(row!.approved, undefined);
    // By code and date: a draft routes no code (issue 15 review: it must not change production), so
    // nothing in force governs the code.
    assert.equal(decide(lib, hboCase(), { today: TODAY }).outcome, "not-applicable");
    // Named by bare id: the version in force, and there is none.
    refuses(() => decide(lib, hboCase({ policy: "NCD.20.29" }), { today: TODAY }), /no published version/);
    // Named by version, a draft decides (an author tries it).
    assert.equal(decide(lib, hboCase({ policy: "NCD.20.29@2017-04" }), { today: TODAY }).outcome, "approved");
  });

  it("the seed library's versions are approved by their documents' logs, as before", () => {
    const lib = loadLibrary();
    const rows = lib.policies("2026-03-01");
    assert.deepEqual(
      rows.map((r) => `${r.id}@${r.version} ${r.status}`),
      [
        "CP.MP.126@2025-04 effective",
        "CP.MP.173@2024-11 superseded",
        "CP.MP.173@2025-11 effective",
        "LA.CP.MP.173@2024-02 effective",
        "LA.CP.MP.173@2025-02 draft",
        "NC.CP.MP.173@2026-01 effective",
      ],
    );
    assert.ok(rows.every((r) => r.approvedBy === undefined && r.published === undefined));
    assert.equal(lib.publications().length, 0);
  });
});

describe("publish", () => {
  it("writes the snapshot (sealed by its sha256) and the log; the version is effective, chosen by date", () => {
    const dir = hboLibrary();
    const r = publish(dir, "NCD.20.29@2017-04");
    assert.deepEqual(
      [r.policy, r.version, r.by, r.at, r.effective, r.status],
      ["NCD.20.29", "2017-04", "Dr. Ada Quill", NOW.toISOString(), "2017-04-03", "effective"],
    );
    assert.equal(r.snapshot, join("NCD.20.29", "published", "2017-04.json"));
    const raw = JSON.parse(readFileSync(join(dir, r.snapshot), "utf8"));
    const snap = snapshotSchema.parse(raw);
    assert.equal(snap.sha256, r.sha256);
    assert.equal(snapshotHash(raw), snap.sha256);
    const bytes = readFileSync(HBO);
    assert.equal(snap.source.sha256, createHash("sha256").update(bytes).digest("hex"));
    const lib = loadLibrary(dir);
    const e = lib.get("NCD.20.29@2017-04");
    assert.equal(snap.policyHash, e.policy.hash);
    assert.deepEqual(snap.bindings, {
      codes: [{ codes: ["99183"], section: "A" }],
      predicates: [],
      facts: [],
      corrections: [],
    });
    assert.deepEqual(
      readFileSync(join(dir, r.log), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
      [
        {
          at: NOW.toISOString(),
          by: "Dr. Ada Quill",
          policy: "NCD.20.29",
          version: "2017-04",
          effective: "2017-04-03",
          sha256: r.sha256,
          snapshot: join("published", "2017-04.json"),
        },
      ],
    );
    assert.equal(lib.statusOf(e, TODAY), "effective");
    assert.deepEqual(e.publication, {
      by: "Dr. Ada Quill",
      at: NOW.toISOString(),
      effective: "2017-04-03",
      sha256: r.sha256,
      snapshot: r.snapshot,
    });
    const [row] = lib.policies(TODAY);
    assert.deepEqual(
      [row!.status, row!.approved, row!.approvedBy, row!.published, row!.effective],
      ["effective", TODAY, "Dr. Ada Quill", NOW.toISOString(), "2017-04-03"],
    );
    const d = decide(lib, hboCase(), { today: TODAY });
    assert.equal(d.outcome, "approved");
    assert.deepEqual([d.policy?.id, d.policy?.version], ["NCD.20.29", "2017-04"]);
    assert.deepEqual(lib.publications(), [{ policy: "NCD.20.29", version: "2017-04", ...e.publication! }]);
    assert.ok(!lib.findings.some((f) => f.code === "publication-unlogged"));
  });

  it("--effective in the future: future until then, not chosen before it", () => {
    const dir = hboLibrary();
    const r = publish(dir, "NCD.20.29@2017-04", { effective: "2026-07-01" });
    assert.equal(r.status, "future");
    const lib = loadLibrary(dir);
    const e = lib.get("NCD.20.29@2017-04");
    assert.equal(lib.statusOf(e, TODAY), "future");
    assert.equal(lib.statusOf(e, "2026-07-01"), "effective");
    assert.throws(() => decide(lib, hboCase(), { today: TODAY }), DeterminationError);
    const later = hboCase({ service: { codes: ["99183"], dateOfService: "2026-07-02" } });
    assert.equal(decide(lib, later, { today: TODAY }).outcome, "approved");
  });

  it("refuses, writing nothing: bare id, a malformed --by or --effective, the seed library, an unknown version", () => {
    const dir = hboLibrary();
    const before = snapshot(dir);
    refuses(() => publish(dir, "NCD.20.29"), /ID@VERSION/);
    refuses(() => publish(dir, "NCD.20.29@2017-04", { by: "  " }), /--by/);
    refuses(() => publish(dir, "NCD.20.29@2017-04", { by: "Ada\nQuill" }), /--by/);
    refuses(() => publish(dir, "NCD.20.29@2017-04", { effective: "2026-02-30" }), /--effective/);
    refuses(() => publish(defaultPoliciesDir(), "CP.MP.126@2025-04"), /seed library/);
    assert.throws(() => publish(dir, "NCD.20.29@2030-01"), NotFoundError);
    assert.deepEqual(snapshot(dir), before);
  });

  it("refuses a version already published: it is immutable", () => {
    const dir = hboLibrary();
    publish(dir, "NCD.20.29@2017-04");
    const before = snapshot(dir);
    refuses(
      () => publish(dir, "NCD.20.29@2017-04", { by: "Someone Else" }),
      /published by Dr\. Ada Quill/,
      /immutable/,
    );
    assert.deepEqual(snapshot(dir), before);
  });

  it("refuses a version lint finds errors in, naming them", () => {
    const dir = join(root, `lib-${n++}`);
    initLibrary(dir);
    add(dir, ICD);
    const before = snapshot(dir);
    const e = refuses(() => publish(dir, "NCD.20.4@2023-07"), /lint finds \d+ error/, /unplaced/);
    assert.deepEqual([e.where.policy, e.where.version], ["NCD.20.4", "2023-07"]);
    assert.deepEqual(snapshot(dir), before);
  });

  it("refuses while a proposed code binding is neither confirmed nor dismissed; publishes once each is", () => {
    const dir = join(root, `lib-${n++}`);
    initLibrary(dir);
    const added = add(dir, SIJ);
    const ref = `CP.MP.126@${added.versions[0]!.version}`;
    assert.equal(added.proposed.length, 3);
    const before = snapshot(dir);
    refuses(() => publish(dir, ref), /3 proposed code bindings are neither confirmed nor dismissed/, /27279/);
    assert.deepEqual(snapshot(dir), before);
    // The author confirms two and dismisses the third.
    setBindings(dir, "CP.MP.126", (b) => {
      b.codes = [
        { codes: ["27279"], section: "II" },
        { codes: ["27280"], section: "I" },
      ];
      const proposed = b.proposed as { codes: string[]; status: string }[];
      refuses(() => publish(dir, ref), /proposed code binding/);
      for (const p of proposed) if (p.codes.includes("27278")) p.status = "dismissed";
    });
    const lib = loadLibrary(dir);
    assert.equal(lib.openProposals.size, 0);
    assert.ok(!lib.findings.some((f) => f.code === "binding-proposed"));
    const r = publish(dir, ref);
    assert.equal(r.bindings.codes, 2);
  });

  it("a published version decides with its snapshot: later bindings.json edits change drafts only", () => {
    const dir = hboLibrary();
    publish(dir, "NCD.20.29@2017-04");
    // A revision, added as a draft beside it.
    const revised = Buffer.from(
      readFileSync(HBO, "utf8").replace(
        "Effective Date of this Version: 04/03/2017",
        "Effective Date of this Version: 01/15/2025",
      ),
    );
    add(dir, "hbo-2025.txt", revised);
    // The author now binds 99183 to the noncovered section and declares a fact with a predicate.
    setBindings(dir, "NCD.20.29", (b) => {
      b.codes = [{ codes: ["99183"], section: "B" }];
      b.facts = [{ name: "woundGrade", type: "integer", min: 0, max: 5, description: "Wagner grade" }];
      b.predicates = [
        { match: "Wagner grade III or higher", when: { fact: "woundGrade", op: ">=", value: 3 } },
      ];
    });
    const lib = loadLibrary(dir);
    const pub = lib.get("NCD.20.29@2017-04");
    assert.deepEqual(pub.codes, [{ codes: ["99183"], section: "A" }]);
    assert.equal(pub.vocabulary.size, 0);
    assert.deepEqual(pub.predicates, []);
    const draft = lib.get("NCD.20.29@2025-01");
    assert.equal(lib.statusOf(draft, TODAY), "draft");
    assert.deepEqual(draft.codes, [{ codes: ["99183"], section: "B" }]);
    assert.ok(draft.vocabulary.has("woundGrade"));
    // By date, the published version still decides, as published.
    const d = decide(lib, hboCase(), { today: TODAY });
    assert.deepEqual([d.outcome, d.policy?.version, d.policy?.section], ["approved", "2017-04", "A"]);
    // Its facts are those published: one declared since is not its to read.
    refuses(() => decide(lib, hboCase({ facts: { woundGrade: 4 } }), { today: TODAY }), /woundGrade/);
    // The draft, named, reads the new bindings.
    assert.equal(
      decide(lib, hboCase({ policy: "NCD.20.29@2025-01" }), { today: TODAY }).policy?.section,
      "B",
    );
    // Published, the revision supersedes the first from its effective date.
    publish(dir, "NCD.20.29@2025-01");
    const next = loadLibrary(dir);
    assert.equal(next.statusOf(next.get("NCD.20.29@2017-04"), TODAY), "superseded");
    assert.equal(decide(next, hboCase(), { today: TODAY }).policy?.version, "2025-01");
  });
});

describe("a published version is immutable: load refuses what changed, naming policy, version and file", () => {
  function published(): { dir: string; snapshot: string; source: string } {
    const dir = hboLibrary();
    const r = publish(dir, "NCD.20.29@2017-04");
    const lib = loadLibrary(dir);
    const e = lib.get("NCD.20.29@2017-04");
    return { dir, snapshot: join(dir, r.snapshot), source: join(dir, e.folder, e.source.file) };
  }
  const named = (e: InputError, file: string) => {
    assert.deepEqual([e.where.policy, e.where.version, e.where.file], ["NCD.20.29", "2017-04", file]);
  };

  it("a snapshot edited after publishing", () => {
    const { dir, snapshot } = published();
    const raw = JSON.parse(readFileSync(snapshot, "utf8"));
    raw.bindings.codes = [{ codes: ["99183"], section: "B" }];
    writeFileSync(snapshot, JSON.stringify(raw, null, 2));
    named(
      refuses(() => loadLibrary(dir), /does not match its sha256/, /NCD\.20\.29@2017-04/),
      snapshot,
    );
  });

  it("a snapshot edited and resealed with a new sha256: the log's record refuses it", () => {
    const { dir, snapshot } = published();
    const raw = JSON.parse(readFileSync(snapshot, "utf8"));
    raw.by = "Mallory";
    raw.sha256 = snapshotHash(raw);
    writeFileSync(snapshot, JSON.stringify(raw, null, 2));
    named(
      refuses(() => loadLibrary(dir), /publications\.ndjson records .* snapshot is another one/),
      snapshot,
    );
  });

  it("a source document changed after publishing", () => {
    const { dir, source } = published();
    appendFileSync(source, "\nAn added line.\n");
    named(
      refuses(() => loadLibrary(dir), /source document of published NCD\.20\.29@2017-04 changed/),
      source,
    );
  });

  it("a snapshot deleted while the log records it", () => {
    const { dir, snapshot } = published();
    rmSync(snapshot);
    named(
      refuses(() => loadLibrary(dir), /snapshot is missing/),
      snapshot,
    );
  });

  it("a published document removed from sources.json", () => {
    const { dir, snapshot } = published();
    writeFileSync(join(dir, "NCD.20.29", "sources.json"), "[]");
    named(
      refuses(() => loadLibrary(dir), /not in the library any more/),
      snapshot,
    );
  });

  it("a snapshot the log lacks (a publish interrupted between its two writes) loads, with a finding", () => {
    const { dir } = published();
    writeFileSync(join(dir, "NCD.20.29", PUBLICATIONS_LOG), "");
    const lib = loadLibrary(dir);
    assert.equal(lib.statusOf(lib.get("NCD.20.29@2017-04"), TODAY), "effective");
    assert.ok(lib.findings.some((f) => f.code === "publication-unlogged"));
  });
});

describe("reloading", () => {
  it("reuses what it ingested before for unchanged documents, and reads the same library", () => {
    const dir = hboLibrary();
    const first = loadLibrary(dir);
    publish(dir, "NCD.20.29@2017-04");
    const again = loadLibrary(dir, { reuse: first });
    const fresh = loadLibrary(dir);
    assert.equal(again.entries[0]!.policy, first.entries[0]!.policy, "the ingested version is reused");
    assert.deepEqual(again.policies(TODAY), fresh.policies(TODAY));
    assert.ok(existsSync(join(dir, "NCD.20.29", PUBLICATIONS_LOG)));
  });
});
