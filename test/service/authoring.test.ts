/**
 * Issue 15 item 5: the authoring API, on SQLite and PostgreSQL. The service runs on a payer's library
 * made with `initLibrary` (polling off: every write must be served at once, not at a poll). A policy
 * author uploads a CMS NCD, reads it back beside its source text, replaces its bindings (an etag
 * guards them; a predicate on an undeclared fact is refused naming the fact), tries cases against the
 * draft, replays the stored requests under it, publishes it — and `POST /api/evaluate` then decides by
 * date with the published version. Reviewers get 403, the seed library 409; every write is audited.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { initLibrary } from "../../src/library/add.js";
import { loadLibrary } from "../../src/library/library.js";
import { InputError } from "../../src/model/index.js";
import { LibraryWatcher, LiveLibrary } from "../../src/server/library-watch.js";
import type { ReadEntry, ReadQuery, ReadRecord } from "../../src/store/index.js";
import { SHARED } from "../suite/cases.js";
import { ACUPUNCTURE_ANSWERS, dos, member } from "../support/ncd-cases.js";
import { call, DATABASES, postgresAvailable, ROOT, startTest, tempDir } from "./helpers.js";

const DOC = join(SHARED, "corpus", "cms-ncd", "30.3.3_acupuncture_chronic_low_back_pain.txt");
const FIXTURE = join(ROOT, "test", "fixtures", "ncd-authoring", "NCD.30.3.3.json");
const REF = "NCD.30.3.3@2020-01";
const VERSION_PATH = "/api/authoring/policies/NCD.30.3.3/versions/2020-01";
const pgUp = await postgresAvailable();
const skipDoc = existsSync(DOC) ? false : "../shared/corpus/cms-ncd is not here";

const acupuncture = (extra: Record<string, unknown> = {}) => ({
  member,
  service: { codes: ["97810"], dateOfService: dos },
  answers: ACUPUNCTURE_ANSWERS,
  ...extra,
});

for (const kind of DATABASES) {
  test(`${kind}: upload, bindings, try, impact and publish through the authoring API`, {
    skip: (kind === "postgres" && !pgUp && "PostgreSQL not reachable") || skipDoc,
  }, async () => {
    const tmp = tempDir("medpolicy-authoring-api-");
    const lib = join(tmp.dir, "lib");
    initLibrary(lib);
    const s = await startTest(kind, { library: loadLibrary(lib), libraryPollMs: 0 });
    const t = s.tokens;
    const author = { token: t.policyAuthor };
    try {
      // Roles: a reviewer may not author; a policy author reads no member's request.
      assert.equal((await call(s.url, "GET", "/api/authoring/policies", { token: t.reviewer })).status, 403);
      assert.equal((await call(s.url, "GET", "/api/authoring/policies")).status, 401);
      assert.deepEqual((await call(s.url, "GET", "/api/authoring/policies", author)).body, []);
      assert.equal((await call(s.url, "GET", "/api/requests", author)).status, 403);

      // Upload: base64 checked before it is decoded.
      const bytes = readFileSync(DOC);
      const upload = {
        fileName: "30.3.3_acupuncture_chronic_low_back_pain.txt",
        contentBase64: bytes.toString("base64"),
      };
      const refused = await call(s.url, "POST", "/api/authoring/documents", {
        token: t.reviewer,
        body: upload,
      });
      assert.equal(refused.status, 403, refused.text);
      const bad = await call(s.url, "POST", "/api/authoring/documents", {
        ...author,
        body: { ...upload, contentBase64: "abcde" },
      });
      assert.deepEqual([bad.status, bad.body.error.where.field], [400, "contentBase64"], bad.text);
      const big = await call(s.url, "POST", "/api/authoring/documents", {
        ...author,
        body: { ...upload, contentBase64: "A".repeat(Math.ceil((8 * 1024 * 1024) / 3) * 4 + 4) },
      });
      assert.equal(big.status, 400, big.text);
      assert.match(big.body.error.message, /at most 8 MB/);
      const added = await call(s.url, "POST", "/api/authoring/documents", { ...author, body: upload });
      assert.equal(added.status, 201, added.text);
      assert.equal(added.body.status, "added");
      assert.deepEqual(
        added.body.versions.map(
          (v: { id: string; version: string; status: string }) => `${v.id}@${v.version} ${v.status}`,
        ),
        [`${REF} draft`],
      );
      assert.ok(!added.body.findings.some((f: { severity: string }) => f.severity === "error"), added.text);
      const again = await call(s.url, "POST", "/api/authoring/documents", { ...author, body: upload });
      assert.deepEqual([again.status, again.body.status], [201, "unchanged"]);

      // Served at once (no poll): the draft is listed.
      const listed = await call(s.url, "GET", "/api/authoring/policies", { token: t.admin });
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(listed.body, [
        {
          id: "NCD.30.3.3",
          title: "Acupuncture for Chronic Lower Back Pain (cLBP)",
          versions: [{ version: "2020-01", status: "draft", effective: "2020-01-21" }],
          openProposals: 0,
        },
      ]);

      // Read back: the source text, numbered as the tree is.
      const read = await call(s.url, "GET", VERSION_PATH, author);
      assert.equal(read.status, 200, read.text);
      const v = read.body;
      assert.deepEqual([v.id, v.version, v.status], ["NCD.30.3.3", "2020-01", "draft"]);
      assert.equal(v.sourceText, bytes.toString("utf8"));
      const lines = (v.sourceText as string).split(/\r\n|\r|\n/);
      const b1a = v.criteria.find((c: { id: string }) => c.id === "B.1.a");
      assert.deepEqual([b1a.kind, b1a.section, b1a.facts], ["leaf", "B", []]);
      assert.match(lines[b1a.line - 1]!, /Lasting 12 weeks or longer/);
      assert.ok(Array.isArray(v.policy.sections) && Array.isArray(v.findings));
      assert.deepEqual(v.bindings, {
        authored: {
          policy: "NCD.30.3.3",
          codes: [],
          facts: [],
          predicates: [],
          corrections: [],
          placements: [],
        },
        proposed: [],
      });
      assert.deepEqual(v.vocabulary, []);
      assert.match(v.bindingsEtag, /^[0-9a-f]{64}$/);

      // Requests stored while the version is a draft: a draft decides no stored request (a provider's
      // request naming it is refused) and routes no code, so they are not-applicable; with one no policy
      // could govern, they are what the impact replays later.
      const named = await call(s.url, "POST", "/api/requests", {
        token: t.provider,
        body: acupuncture({ policy: REF }),
      });
      assert.equal(named.status, 400, named.text);
      assert.match(named.text, /decided by the policy in force/);
      const stored: string[] = [];
      for (const body of [
        acupuncture(),
        acupuncture({ answers: { ...ACUPUNCTURE_ANSWERS, "B.1.a": true, "B.1.d": true } }),
        { member, service: { codes: ["99999"], dateOfService: dos } },
      ]) {
        const r = await call(s.url, "POST", "/api/requests", { token: t.provider, body });
        assert.equal(r.status, 201, r.text);
        stored.push(r.body.id as string);
      }
      // A policy author reads no member's request.
      assert.equal((await call(s.url, "GET", `/api/requests/${stored[0]}`, author)).status, 404);

      // Bindings: the fixture's codes, facts and predicates.
      const fixture = JSON.parse(readFileSync(FIXTURE, "utf8"));
      const put = (body: unknown, etag: string | undefined, token = t.policyAuthor) =>
        call(s.url, "PUT", "/api/authoring/policies/NCD.30.3.3/bindings", {
          token,
          body,
          ...(etag !== undefined && { headers: { "if-match": `"${etag}"` } }),
        });
      assert.equal((await put({ ...fixture, proposed: [] }, undefined)).status, 428);
      assert.equal((await put({ ...fixture, proposed: [] }, v.bindingsEtag, t.reviewer)).status, 403);
      const undeclared = await put(
        {
          ...fixture,
          predicates: [
            ...fixture.predicates,
            { match: "An additional 8 sessions", when: { fact: "bmi", op: ">=", value: 35 } },
          ],
        },
        v.bindingsEtag,
      );
      assert.equal(undeclared.status, 400, undeclared.text);
      assert.match(undeclared.body.error.message, /fact "bmi" is not declared/);
      assert.match(undeclared.body.error.message, /NCD\.30\.3\.3/);
      assert.equal(undeclared.body.error.where.field, "facts.bmi");
      // Named as the library's file, not the throwaway copy checked.
      assert.ok(
        undeclared.body.error.message.includes(join(lib, "NCD.30.3.3", "bindings.json")),
        undeclared.text,
      );
      const wrongPolicy = await put({ ...fixture, policy: "NCD.20.29" }, v.bindingsEtag);
      assert.deepEqual([wrongPolicy.status, wrongPolicy.body.error.where.field], [400, "policy"]);
      const ok = await put({ ...fixture, proposed: [] }, v.bindingsEtag);
      assert.equal(ok.status, 200, ok.text);
      assert.notEqual(ok.body.bindingsEtag, v.bindingsEtag);
      assert.ok(Array.isArray(ok.body.findings));
      const stale = await put({ ...fixture, proposed: [] }, v.bindingsEtag);
      assert.equal(stale.status, 412, stale.text);
      // Nothing of the refused writes reached the file.
      assert.deepEqual(JSON.parse(readFileSync(join(lib, "NCD.30.3.3", "bindings.json"), "utf8")), {
        ...fixture,
        proposed: [],
      });

      const reread = (await call(s.url, "GET", VERSION_PATH, author)).body;
      assert.equal(reread.bindingsEtag, ok.body.bindingsEtag);
      assert.deepEqual(
        reread.vocabulary.map((f: { name: string }) => f.name),
        ["painWeeks", "painOnset", "diagnoses"],
      );
      assert.deepEqual(reread.criteria.find((c: { id: string }) => c.id === "B.1.a").facts, [
        "painWeeks",
        "painOnset",
      ]);
      assert.deepEqual(reread.criteria.find((c: { id: string }) => c.id === "B.1.d").facts, ["diagnoses"]);

      // Try: two cases against the draft; nothing is in force yet.
      const tried = await call(s.url, "POST", `${VERSION_PATH}/try`, {
        ...author,
        body: {
          today: dos,
          cases: [
            acupuncture({ facts: { painWeeks: 20, diagnoses: ["M54.50"] } }),
            {
              member,
              service: { codes: ["97810"], dateOfService: dos },
              facts: { painWeeks: 8, diagnoses: ["O26.891"] },
            },
            acupuncture({ facts: { bmi: 41 } }),
          ],
        },
      });
      assert.equal(tried.status, 200, tried.text);
      const [pended, denied, unknownFact] = tried.body.results;
      assert.deepEqual(
        [pended.draft.outcome, pended.draft.policy.version, pended.inForce],
        ["pended", "2020-01", null],
      );
      assert.deepEqual([denied.draft.outcome, denied.inForce], ["denied", null]);
      assert.match(unknownFact.draft.error.message, /facts\.bmi: unknown fact for NCD\.30\.3\.3@2020-01/);
      assert.equal(tried.body.diff, null);
      const tooMany = await call(s.url, "POST", `${VERSION_PATH}/try`, {
        ...author,
        body: { cases: Array.from({ length: 51 }, () => acupuncture()) },
      });
      assert.equal(tooMany.status, 400, tooMany.text);

      // Impact: the stored requests replayed under the draft as it is now bound.
      const impact = await call(s.url, "POST", `${VERSION_PATH}/impact`, { ...author, body: {} });
      assert.equal(impact.status, 200, impact.text);
      const sum = impact.body.summary;
      assert.deepEqual(
        [sum.policy, sum.read, sum.replayed, sum.changed, sum.unchanged],
        [REF, 3, 2, 2, 0],
        impact.text,
      );
      assert.deepEqual(
        sum.transitions
          .map((x: { from: string; to: string; count: number }) => `${x.from}→${x.to} ${x.count}`)
          .sort(),
        ["not-applicable→approved 1", "not-applicable→pended 1"],
      );
      assert.deepEqual(
        impact.body.changes.map((c: { request: string }) => c.request).sort(),
        stored.slice(0, 2).sort(),
      );
      assert.equal(impact.body.truncated, false);
      assert.ok(!impact.text.includes("1955-04-02"), "no member data in the impact report");
      const window = await call(s.url, "POST", `${VERSION_PATH}/impact`, {
        ...author,
        body: { from: "2026-04-01" },
      });
      assert.deepEqual([window.body.summary.inWindow, window.body.changes], [0, []]);
      const backwards = await call(s.url, "POST", `${VERSION_PATH}/impact`, {
        ...author,
        body: { from: "2026-04-01", to: "2026-03-01" },
      });
      assert.equal(backwards.status, 400, backwards.text);

      // Publish: the published version decides by date at once.
      const kase = {
        member,
        service: { codes: ["97810"], dateOfService: dos },
        answers: { ...ACUPUNCTURE_ANSWERS, "B.1.d": true },
        facts: { painWeeks: 20 },
      };
      const before = await call(s.url, "POST", "/api/evaluate", { token: t.reviewer, body: kase });
      // Before publication nothing in force governs 97810 (a draft routes no code).
      assert.equal(before.status, 200, before.text);
      assert.equal(before.body.outcome, "not-applicable");
      assert.equal(
        (await call(s.url, "POST", `${VERSION_PATH}/publish`, { token: t.reviewer, body: {} })).status,
        403,
      );
      const published = await call(s.url, "POST", `${VERSION_PATH}/publish`, {
        ...author,
        body: { effective: "2026-01-01" },
      });
      assert.equal(published.status, 200, published.text);
      assert.deepEqual(
        [
          published.body.policy,
          published.body.version,
          published.body.by,
          published.body.effective,
          published.body.status,
        ],
        ["NCD.30.3.3", "2020-01", "Dr. Ife Okafor", "2026-01-01", "effective"],
      );
      const after = await call(s.url, "POST", "/api/evaluate", { token: t.reviewer, body: kase });
      assert.equal(after.status, 200, after.text);
      assert.deepEqual([after.body.outcome, after.body.policy.version], ["approved", "2020-01"]);
      const earlier = await call(s.url, "POST", "/api/evaluate", {
        token: t.reviewer,
        body: { ...kase, service: { ...kase.service, dateOfService: "2025-12-31" } },
      });
      assert.equal(earlier.status, 422, earlier.text);
      const twice = await call(s.url, "POST", `${VERSION_PATH}/publish`, { ...author, body: {} });
      assert.equal(twice.status, 409, twice.text);
      const now = (await call(s.url, "GET", "/api/authoring/policies", author)).body[0].versions[0];
      assert.deepEqual([now.status, now.approvedBy], ["effective", "Dr. Ife Okafor"]);

      // Try once more: the version in force now decides too.
      const tried2 = await call(s.url, "POST", `${VERSION_PATH}/try`, {
        ...author,
        body: { today: dos, cases: [kase] },
      });
      assert.deepEqual(
        [tried2.body.results[0].draft.outcome, tried2.body.results[0].inForce.outcome, tried2.body.diff],
        ["approved", "approved", null],
      );

      // The audit trail: every write, the publication once — also for another watcher of the library
      // on the same database (it finds the row the service wrote under the author's token).
      const other = new LibraryWatcher(new LiveLibrary(loadLibrary(lib)), {
        intervalMs: 60_000,
        store: s.server.ctx.store,
        warn: () => {},
      });
      other.start();
      await other.poll();
      await other.stop();
      const trail = await call(s.url, "GET", `/api/audit?request=${REF}`, { token: t.admin });
      assert.equal(trail.status, 200, trail.text);
      const rows = (trail.body.entries as { sub: string; role: string; action: string; at: string }[]).map(
        (e) => [e.sub, e.role, e.action],
      );
      assert.deepEqual(
        rows.filter((r) => r[2] === "library.publish"),
        [["pa-okafor", "policy-author", "library.publish"]],
      );
      assert.equal(
        (trail.body.entries as { action: string; at: string }[]).find((e) => e.action === "library.publish")!
          .at,
        published.body.at,
      );
      assert.ok(rows.some((r) => r[2] === "library.add" && r[0] === "pa-okafor"));
      assert.ok(rows.some((r) => r[2] === "library.impact" && r[0] === "pa-okafor"));
      const bindingsTrail = await call(s.url, "GET", "/api/audit?request=NCD.30.3.3", { token: t.admin });
      assert.deepEqual(
        (bindingsTrail.body.entries as { sub: string; action: string }[]).map((e) => [e.sub, e.action]),
        [["pa-okafor", "library.bindings"]],
      );

      // The OpenAPI document lists the routes and the role.
      const doc = (await call(s.url, "GET", "/openapi.json")).body;
      for (const p of [
        "/api/authoring/policies",
        "/api/authoring/documents",
        "/api/authoring/policies/{id}/versions/{version}",
        "/api/authoring/policies/{id}/bindings",
        "/api/authoring/policies/{id}/versions/{version}/try",
        "/api/authoring/policies/{id}/versions/{version}/impact",
        "/api/authoring/policies/{id}/versions/{version}/publish",
      ])
        assert.ok(doc.paths[p], p);
      assert.ok(doc.components.schemas.AuthoringDocument.properties.contentBase64);
      assert.ok(doc.components.schemas.Token.properties.role.enum.includes("policy-author"));
    } finally {
      await s.close();
      tmp.remove();
    }
  });
}

test("the seed library is read-only: every write answers 409", async () => {
  const s = await startTest("sqlite");
  const author = { token: s.tokens.policyAuthor };
  try {
    const list = await call(s.url, "GET", "/api/authoring/policies", author);
    assert.equal(list.status, 200, list.text);
    assert.ok(list.body.some((p: { id: string }) => p.id === "CP.MP.173"));
    const version = list.body.find((p: { id: string }) => p.id === "CP.MP.173").versions.at(-1).version;
    const read = await call(s.url, "GET", `/api/authoring/policies/CP.MP.173/versions/${version}`, author);
    assert.equal(read.status, 200, read.text);
    const writes = [
      call(s.url, "POST", "/api/authoring/documents", {
        ...author,
        body: { fileName: "x.txt", contentBase64: Buffer.from("Coverage criteria").toString("base64") },
      }),
      call(s.url, "PUT", "/api/authoring/policies/CP.MP.173/bindings", {
        ...author,
        body: read.body.bindings.authored,
        headers: { "if-match": read.body.bindingsEtag },
      }),
      call(s.url, "POST", `/api/authoring/policies/CP.MP.173/versions/${version}/publish`, {
        ...author,
        body: {},
      }),
    ];
    for (const r of await Promise.all(writes)) {
      assert.equal(r.status, 409, r.text);
      assert.equal(r.body.error.code, "read-only-library");
    }
    const missing = await call(s.url, "GET", "/api/authoring/policies/NO.SUCH/versions/2020-01", author);
    assert.equal(missing.status, 404, missing.text);
  } finally {
    await s.close();
  }
});

test("a reload that fails leaves the library in force serving", async () => {
  const tmp = tempDir("medpolicy-authoring-reload-");
  try {
    const dir = join(tmp.dir, "lib");
    initLibrary(dir);
    const first = loadLibrary(dir);
    const live = new LiveLibrary(first);
    const warnings: string[] = [];
    const watcher = new LibraryWatcher(live, {
      intervalMs: 0,
      warn: (msg) => warnings.push(msg),
      load: () => {
        throw new InputError("broken on purpose");
      },
    });
    // A change the watcher sees (the marker's modification time).
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, "library.json"), later, later);
    assert.equal(await watcher.reload(), "failed");
    assert.equal(live.current, first);
    assert.match(warnings.join("\n"), /reload failed/);
    await watcher.stop();
  } finally {
    tmp.remove();
  }
});

test("a publication whose audit write failed is recorded by the watcher, with its instant and its seal", async () => {
  const tmp = tempDir("medpolicy-authoring-retry-");
  try {
    const dir = join(tmp.dir, "lib");
    initLibrary(dir);
    const rows: ReadRecord[] = [];
    const store = {
      async recordReads(r: readonly ReadRecord[]) {
        rows.push(...r);
      },
      async listReads(q: ReadQuery): Promise<ReadEntry[]> {
        return rows
          .map((r, i) => ({ ...r, seq: i + 1 }))
          .filter((r) => r.requestId === q.requestId && (q.action === undefined || r.action === q.action))
          .reverse();
      },
    };
    const watcher = new LibraryWatcher(new LiveLibrary(loadLibrary(dir)), {
      intervalMs: 0,
      store,
      warn: () => {},
    });
    const pub = {
      policy: "X.1",
      version: "2026-01",
      by: "Dr. Ada Quill",
      at: "2026-03-02T10:00:00.000Z",
      effective: "2026-03-02",
      sha256: "b".repeat(64),
      snapshot: "X.1/published/2026-01.json",
    };
    // What the API path does: marked recorded, the write fails, handed over.
    watcher.recorded(pub);
    watcher.retry(pub);
    await watcher.poll();
    assert.deepEqual(
      rows.map((r) => [r.requestId, r.action, r.at, r.sub, r.detail]),
      [["X.1@2026-01", "library.publish", pub.at, "Dr. Ada Quill", pub.sha256]],
    );
    await watcher.stop();
  } finally {
    tmp.remove();
  }
});
