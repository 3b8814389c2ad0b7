/**
 * Issue 15 item 3: the service picks up a published change without a restart. The service runs on a
 * payer's library with a short poll interval; `medpolicy publish` (the CLI's `main`, in process)
 * publishes a draft; the test asks the service until it serves the new version (a bounded loop, no
 * timing assertions), then finds the publication in the audit trail. Requests made meanwhile see the
 * old library or the new, never anything else; a library that stops loading keeps the old one, with
 * a warning.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { addDocument, initLibrary } from "../../src/cli/library-commands.js";
import { main } from "../../src/cli/main.js";
import { loadLibrary } from "../../src/library/library.js";
import { snapshotHash } from "../../src/library/snapshot.js";
import { SHARED } from "../suite/cases.js";
import { call, type Res, startTest, tempDir } from "./helpers.js";

const HBO = join(SHARED, "corpus", "cms-ncd", "20.29_hyperbaric_oxygen_therapy.txt");

/** Asks `f` until `done` holds for its answer, at most `tries` times; the last answer. */
async function until<T>(f: () => Promise<T>, done: (t: T) => boolean, tries = 400): Promise<T> {
  let last = await f();
  for (let i = 0; i < tries && !done(last); i++) {
    await sleep(25);
    last = await f();
  }
  return last;
}

/** A log stream for the service, and the lines written to it so far. */
function logLines(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      cb();
    },
  });
  return { lines, stream };
}

test("a publication is served without a restart, whole, and is in the audit trail", async () => {
  const tmp = tempDir("medpolicy-publish-service-");
  const lib = join(tmp.dir, "lib");
  initLibrary(lib);
  addDocument(lib, readFileSync(HBO), { fileName: HBO, now: new Date() });
  const bindingsPath = join(lib, "NCD.20.29", "bindings.json");
  const bindings = JSON.parse(readFileSync(bindingsPath, "utf8"));
  bindings.codes = [{ codes: ["99183"], section: "A" }];
  writeFileSync(bindingsPath, JSON.stringify(bindings, null, 2));

  const { lines, stream } = logLines();
  const s = await startTest("sqlite", {
    library: loadLibrary(lib),
    libraryPollMs: 20,
    logger: { level: "info", stream },
  });
  const t = s.tokens;
  const kase = {
    member: { state: "TX", birthDate: "1950-01-01", lineOfBusiness: "medicare" },
    service: { codes: ["99183"], dateOfService: "2026-03-01" },
    answers: { "A.2": true },
  };
  const evaluate = () => call(s.url, "POST", "/api/evaluate", { token: t.reviewer, body: kase });
  const status = async () => {
    const r = await call(s.url, "GET", "/api/policies", { token: t.reviewer });
    return (r.body as { id: string; version: string; status: string; approvedBy?: string }[]).find(
      (p) => p.id === "NCD.20.29",
    );
  };
  try {
    assert.equal((await status())?.status, "draft");
    const before = await evaluate();
    // A draft routes no code (issue 15 review): nothing in force governs the code yet.
    assert.equal(before.status, 200, before.text);
    assert.equal(before.body.outcome, "not-applicable");

    // Requests keep coming while the library is published and swapped: each sees one library whole.
    const answers: Res[] = [];
    let stop = false;
    const load = (async () => {
      while (!stop) answers.push(await evaluate());
    })();

    const out: string[] = [];
    const io = {
      out: new Writable({
        write(c: Buffer, _e, cb) {
          out.push(c.toString());
          cb();
        },
      }),
      err: new Writable({
        write(c: Buffer, _e, cb) {
          out.push(c.toString());
          cb();
        },
      }),
    };
    const code = await main(["publish", "NCD.20.29@2017-04", "--by", "Dr. Ada Quill", "--library", lib], io);
    assert.equal(code, 0, out.join(""));

    const served = await until(status, (p) => p?.status === "effective");
    assert.deepEqual([served?.status, served?.approvedBy], ["effective", "Dr. Ada Quill"]);
    stop = true;
    await load;
    const after = await evaluate();
    assert.equal(after.status, 200, after.text);
    assert.deepEqual([after.body.outcome, after.body.policy.version], ["approved", "2017-04"]);
    for (const a of answers) {
      const seen =
        a.status !== 200
          ? "other"
          : a.body.outcome === "not-applicable"
            ? "old"
            : a.body.outcome === "approved"
              ? "new"
              : "other";
      assert.notEqual(seen, "other", a.text);
    }
    // Once the new library answered, the old one never did again.
    const firstNew = answers.findIndex((a) => a.status === 200);
    if (firstNew >= 0) assert.ok(answers.slice(firstNew).every((a) => a.status === 200));

    // The audit trail: who published what, when (an admin reads it).
    const trail = await until(
      () => call(s.url, "GET", "/api/audit?request=NCD.20.29@2017-04", { token: t.admin }),
      (r) => (r.body.entries ?? []).length > 0,
    );
    assert.equal(trail.status, 200, trail.text);
    const published = JSON.parse(readFileSync(join(lib, "NCD.20.29", "publications.ndjson"), "utf8"));
    assert.deepEqual(
      (
        trail.body.entries as { sub: string; role: string; requestId: string; action: string; at: string }[]
      ).map((e) => [e.sub, e.role, e.requestId, e.action, e.at]),
      [["Dr. Ada Quill", "publisher", "NCD.20.29@2017-04", "library.publish", published.at]],
    );
    assert.ok(lines.some((l) => /policy library reloaded/.test(l) && /NCD\.20\.29@2017-04/.test(l)));

    // A library that no longer loads (a snapshot changed by hand) keeps the one in force, with a warning.
    const snapPath = join(lib, "NCD.20.29", "published", "2017-04.json");
    const snap = JSON.parse(readFileSync(snapPath, "utf8"));
    snap.bindings.codes = [];
    writeFileSync(snapPath, JSON.stringify(snap));
    await until(
      async () => lines.some((l) => /policy library reload failed/.test(l)),
      (warned) => warned,
    );
    const warning = lines.find((l) => /policy library reload failed/.test(l))!;
    assert.match(warning, /does not match its sha256/);
    assert.ok(!warning.includes("1950-01-01"), "no PHI in the warning");
    const still = await evaluate();
    assert.deepEqual([still.status, still.body.outcome], [200, "approved"]);
    // Audited once, whatever the polls since.
    const again = await call(s.url, "GET", "/api/audit?request=NCD.20.29@2017-04", { token: t.admin });
    assert.equal(again.body.entries.length, 1);
  } finally {
    await s.close();
    tmp.remove();
  }
});

test("without polling, a version published while the service was down is recorded in the audit trail at start", async () => {
  const tmp = tempDir("medpolicy-publish-nopoll-");
  const lib = join(tmp.dir, "lib");
  initLibrary(lib);
  addDocument(lib, readFileSync(HBO), { fileName: HBO, now: new Date() });
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  const code = await main(["publish", "NCD.20.29@2017-04", "--by", "Dr. Ada Quill", "--library", lib], {
    out: quiet,
    err: quiet,
  });
  assert.equal(code, 0);
  const s = await startTest("sqlite", { library: loadLibrary(lib), libraryPollMs: 0 });
  try {
    const trail = await until(
      () => call(s.url, "GET", "/api/audit?request=NCD.20.29@2017-04", { token: s.tokens.admin }),
      (r) => (r.body.entries ?? []).length > 0,
    );
    assert.deepEqual(
      (trail.body.entries as { sub: string; action: string }[]).map((e) => [e.sub, e.action]),
      [["Dr. Ada Quill", "library.publish"]],
    );
  } finally {
    await s.close();
    tmp.remove();
  }
});

test("a snapshot changed behind the audit trail's back does not decide: refused at start, and by a reload", async () => {
  // The snapshot's checksum and the library's publication log are in the folder with it: edited
  // together they load. The audit trail's seal (the snapshot's sha256, recorded when the service
  // first decided with it) is in the database, out of the folder's reach.
  const tmp = tempDir("medpolicy-publish-seal-");
  const lib = join(tmp.dir, "lib");
  const data = join(tmp.dir, "data");
  initLibrary(lib);
  addDocument(lib, readFileSync(HBO), { fileName: HBO, now: new Date() });
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  assert.equal(
    await main(["publish", "NCD.20.29@2017-04", "--by", "Dr. Ada Quill", "--library", lib], {
      out: quiet,
      err: quiet,
    }),
    0,
  );
  const snapPath = join(lib, "NCD.20.29", "published", "2017-04.json");
  const sealed = JSON.parse(readFileSync(snapPath, "utf8")).sha256 as string;
  /** Moves the version's effective date and rewrites its checksum and log line to match. */
  const tamper = () => {
    const snap = JSON.parse(readFileSync(snapPath, "utf8"));
    snap.effective = "2010-01-01";
    snap.sha256 = snapshotHash(snap);
    writeFileSync(snapPath, JSON.stringify(snap, null, 2));
    const logPath = join(lib, "NCD.20.29", "publications.ndjson");
    const log = readFileSync(logPath, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    for (const l of log) if (l.version === "2017-04") l.sha256 = snap.sha256;
    writeFileSync(logPath, `${log.map((l) => JSON.stringify(l)).join("\n")}\n`);
    // Consistent in the folder: the library loads.
    assert.equal(loadLibrary(lib).get("NCD.20.29@2017-04").effective, "2010-01-01");
  };

  const { lines, stream } = logLines();
  const s = await startTest("sqlite", {
    dataDir: data,
    library: loadLibrary(lib),
    libraryPollMs: 20,
    logger: { level: "info", stream },
  });
  try {
    const trail = await until(
      () => call(s.url, "GET", "/api/audit?request=NCD.20.29@2017-04", { token: s.tokens.admin }),
      (r) => (r.body.entries ?? []).length > 0,
    );
    assert.deepEqual(
      (trail.body.entries as { action: string; detail?: string }[]).map((e) => [e.action, e.detail]),
      [["library.publish", sealed]],
    );
    // Changed while the service runs: the reload is refused, the sealed version still decides.
    tamper();
    await until(
      async () => lines.some((l) => /policy library reload refused/.test(l)),
      (x) => x,
    );
    const warning = lines.find((l) => /policy library reload refused/.test(l))!;
    assert.match(warning, /NCD\.20\.29@2017-04: its snapshot .* is not the one published and sealed/);
    const versions = await call(s.url, "GET", "/api/policies/NCD.20.29@2017-04", { token: s.tokens.admin });
    assert.equal(versions.status, 200);
    assert.ok(!JSON.stringify(versions.body).includes("2010-01-01"), "the sealed effective date still holds");
  } finally {
    await s.close();
  }
  // Started again on the same database: refused, naming the version.
  await assert.rejects(
    startTest("sqlite", { dataDir: data, library: loadLibrary(lib), libraryPollMs: 0 }),
    /does not match the audit trail: NCD\.20\.29@2017-04: its snapshot/,
  );
  tmp.remove();
});

test("a version sealed in the audit trail is not published again through the API when its publication left the folder", async () => {
  const tmp = tempDir("medpolicy-publish-resealed-");
  const lib = join(tmp.dir, "lib");
  initLibrary(lib);
  addDocument(lib, readFileSync(HBO), { fileName: HBO, now: new Date() });
  const s = await startTest("sqlite", { library: loadLibrary(lib), libraryPollMs: 20 });
  const author = { token: s.tokens.policyAuthor };
  const path = "/api/authoring/policies/NCD.20.29/versions/2017-04/publish";
  const statusOf = async () =>
    (
      (await call(s.url, "GET", "/api/authoring/policies", author)).body as {
        versions: { version: string; status: string }[];
      }[]
    )[0]!.versions.find((v) => v.version === "2017-04")!.status;
  try {
    const first = await call(s.url, "POST", path, { ...author, body: {} });
    assert.equal(first.status, 200, first.text);
    // Its snapshot and log line removed by hand: the folder loads, the version reads as a draft again.
    rmSync(join(lib, "NCD.20.29", "published", "2017-04.json"));
    writeFileSync(join(lib, "NCD.20.29", "publications.ndjson"), "");
    // The service reloads on its own (a bounded wait for the watcher's next look, not a timing check).
    assert.equal(await until(statusOf, (st) => st === "draft"), "draft");
    const again = await call(s.url, "POST", path, { ...author, body: {} });
    assert.equal(again.status, 409, again.text);
    assert.match(again.text, /sealed in the audit trail/);
    assert.ok(!existsSync(join(lib, "NCD.20.29", "published", "2017-04.json")), "no snapshot written");
    assert.equal(readFileSync(join(lib, "NCD.20.29", "publications.ndjson"), "utf8"), "", "no log line");
  } finally {
    await s.close();
    tmp.remove();
  }
});
