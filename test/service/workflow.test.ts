/**
 * Issue 4 acceptance — the review workflow over HTTP on both databases (SPEC 2.4, 4): automatic
 * approval; pended for review → answers → signed denial → letter citing the failed criteria;
 * organizations isolated; medical-director-only items; idempotent submits; reproducible determinations.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { loadLibrary } from "../../src/library/index.js";
import { libraryEngine } from "../../src/server/engine.js";
import { DEMO_USERS } from "../../src/server/index.js";
import { RequestService } from "../../src/server/service.js";
import { openStore } from "../../src/store/index.js";
import {
  call,
  DATABASES,
  freshDatabase,
  loadCase,
  postgresAvailable,
  startTest,
  type Tokens,
} from "./helpers.js";

for (const db of DATABASES) {
  describe(`service workflow (${db})`, async () => {
    const skip = db === "postgres" && !(await postgresAvailable()) ? "PostgreSQL not reachable" : false;
    let url = "";
    let t: Tokens;
    let close = async () => {};

    before(async () => {
      if (skip) return;
      const s = await startTest(db);
      url = s.url;
      t = s.tokens;
      close = s.close;
    });
    after(() => close());

    /** A request the engine pends for review (open questions), submitted by the provider. */
    const submitPended = async () => {
      const sub = await call(url, "POST", "/api/requests", {
        token: t.provider,
        body: loadCase("trial-nonmalignant-open-questions"),
      });
      assert.equal(sub.status, 201, sub.text);
      return sub;
    };

    test("a clearly met request is approved automatically, with a letter", { skip }, async () => {
      const r = await call(url, "POST", "/api/requests", {
        token: t.provider,
        body: loadCase("trial-malignant-met"),
      });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.status, "approved");
      assert.equal(r.body.decision.automatic, true);
      assert.equal(r.body.policy.id, "CP.MP.173");
      assert.equal(r.body.review, undefined, "providers do not see the reviewer view");
      const letter = await call(url, "GET", `/api/requests/${r.body.id}/letter`, { token: t.provider });
      assert.equal(letter.status, 200);
      assert.match(letter.headers.get("content-type") ?? "", /text\/html/);
      assert.match(letter.text, /Approved/);
      assert.match(letter.text, /CP\.MP\.173/);
    });

    test("idempotent submit: same key → same request (200); other body under the key → 409", {
      skip,
    }, async () => {
      const body = loadCase("trial-malignant-met");
      const headers = { "idempotency-key": `k-${db}-1` };
      const a = await call(url, "POST", "/api/requests", { token: t.provider, body, headers });
      const b = await call(url, "POST", "/api/requests", { token: t.provider, body, headers });
      assert.equal(a.status, 201);
      assert.equal(b.status, 200);
      assert.equal(b.body.id, a.body.id);
      const wrapped = await call(url, "POST", "/api/requests", {
        token: t.provider,
        body: { case: body, idempotencyKey: `k-${db}-1` },
      });
      assert.equal(wrapped.status, 200);
      assert.equal(wrapped.body.id, a.body.id);
      const other = loadCase("trial-nonmalignant-open-questions");
      const c = await call(url, "POST", "/api/requests", { token: t.provider, body: other, headers });
      assert.equal(c.status, 409, c.text);
      // The key is scoped to the organization: another org's same key is a new request.
      const d = await call(url, "POST", "/api/requests", { token: t.otherProvider, body, headers });
      assert.equal(d.status, 201);
      assert.notEqual(d.body.id, a.body.id);
      // `pas-` keys mark FHIR PAS submissions (the reviewer app shows the channel): not the API's to use.
      for (const opts of [
        { headers: { "idempotency-key": "pas-0123" }, body },
        { body: { case: body, idempotencyKey: "pas-0123" } },
      ]) {
        const e = await call(url, "POST", "/api/requests", { token: t.provider, ...opts });
        assert.equal(e.status, 400, e.text);
        assert.equal(e.body.error.where?.field, "Idempotency-Key", e.text);
        assert.match(e.body.error.message, /reserved for requests submitted through FHIR PAS/);
      }
    });

    test("pended for review → reviewer answers → signs a denial → the letter cites the failed criterion", {
      skip,
    }, async () => {
      const sub = await submitPended();
      const id = sub.body.id as string;
      assert.equal(sub.body.status, "pended");
      assert.equal(sub.body.statusText, "pended for review");
      assert.deepEqual((sub.body.needed as { criterion: string }[]).map((n) => n.criterion).sort(), [
        "I.A.2.g",
        "I.A.2.h",
      ]);

      // Another organization's provider cannot see it; a provider cannot see the queue.
      assert.equal((await call(url, "GET", `/api/requests/${id}`, { token: t.otherProvider })).status, 404);
      assert.equal(
        (await call(url, "GET", `/api/requests/${id}/letter`, { token: t.otherProvider })).status,
        404,
      );
      assert.equal((await call(url, "GET", "/api/queue", { token: t.provider })).status, 403);
      const mine = await call(url, "GET", "/api/requests", { token: t.otherProvider });
      assert.ok(!(mine.body as { id: string }[]).some((r) => r.id === id));
      // The office's own list names what it finds a request by: the services and their date.
      const own = (
        (await call(url, "GET", "/api/requests", { token: t.provider })).body as {
          id: string;
          codes: string[];
          dateOfService?: string;
        }[]
      ).find((r) => r.id === id);
      assert.deepEqual([own?.codes, own?.dateOfService], [["62326"], "2026-03-01"]);

      const q = await call(url, "GET", "/api/queue", { token: t.reviewer });
      assert.equal(q.status, 200);
      const item = (q.body as { id: string; dueAt: string; receivedAt: string; overdue: boolean }[]).find(
        (x) => x.id === id,
      );
      assert.ok(item, "in the reviewers' queue");
      assert.equal(Date.parse(item.dueAt) - Date.parse(item.receivedAt), 7 * 24 * 3600_000);
      assert.equal(item.overdue, false);
      const dues = (q.body as { dueAt: string }[]).map((x) => x.dueAt);
      assert.deepEqual(dues, [...dues].sort(), "sorted by due time");

      // A provider cannot answer or sign.
      assert.equal(
        (
          await call(url, "POST", `/api/requests/${id}/answers`, {
            token: t.provider,
            body: { answers: { "I.A.2.g": true } },
          })
        ).status,
        403,
      );
      const ans = await call(url, "POST", `/api/requests/${id}/answers`, {
        token: t.reviewer,
        body: { answers: { "I.A.2.g": false, "I.A.2.h": true } },
      });
      assert.equal(ans.status, 200, ans.text);
      assert.equal(ans.body.review.engineOutcome, "denied");
      assert.equal(ans.body.review.determinations.length, 2);
      const reasons = ans.body.review.determinations[1].determination.reasons as {
        criterion: string;
        text: string;
      }[];
      assert.deepEqual(
        reasons.map((r) => r.criterion),
        ["I.A.2.g"],
      );

      // SPEC 2.4: the denial is a recommendation; the provider still sees pended, and not the reasons.
      const pv = await call(url, "GET", `/api/requests/${id}`, { token: t.provider });
      assert.equal(pv.body.status, "pended");
      assert.ok(!pv.text.includes("denied"), "no unsigned adverse recommendation reaches the provider");
      assert.equal((await call(url, "GET", `/api/requests/${id}/letter`, { token: t.provider })).status, 409);

      // A denial must cite criteria of the determination.
      const bad = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.medicalDirector,
        body: { outcome: "denied", reason: "Opioids were not weaned before the trial.", criteria: ["I.Z.9"] },
      });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /I\.Z\.9/);

      // Issue 14: a nurse reviewer may not sign a medical-necessity denial; she recommends it, and the
      // request goes to a medical director, who previews the letter and signs.
      const denial = {
        outcome: "denied",
        reason: "Systemic opioids were not weaned by 50% before the trial.",
        criteria: ["I.A.2.g"],
      };
      const byNurse = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.reviewer,
        body: denial,
      });
      assert.equal(byNurse.status, 403, byNurse.text);
      assert.match(byNurse.body.error.message, /medical director/);
      const nurseView = await call(url, "GET", `/api/requests/${id}`, { token: t.reviewer });
      assert.equal(nurseView.body.review.authority.deny, false);
      assert.equal(nurseView.body.review.authority.recommend, true);
      const rec = await call(url, "POST", `/api/requests/${id}/recommendation`, {
        token: t.reviewer,
        body: denial,
      });
      assert.equal(rec.status, 200, rec.text);
      assert.equal(rec.body.review.workflow.recommendation.outcome, "denied");
      assert.equal(rec.body.review.medicalDirectorOnly, true);
      const preview = await fetch(`${url}/api/requests/${id}/letter-preview`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.medicalDirector}`, "content-type": "application/json" },
        body: JSON.stringify(denial),
      });
      const previewHtml = await preview.text();
      assert.equal(preview.status, 200, previewHtml);
      const sha = preview.headers.get("x-letter-sha256") ?? "";
      assert.match(sha, /^[0-9a-f]{64}$/);
      const signed = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.medicalDirector,
        body: { ...denial, letterSha256: sha },
      });
      assert.equal(signed.status, 200, signed.text);
      assert.equal(signed.body.status, "denied");
      assert.equal(signed.body.decision.signedBy.sub, "md-diaz");
      const again = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.medicalDirector,
        body: { outcome: "approved", reason: "Second opinion" },
      });
      assert.equal(again.status, 409, "one signature per request");

      const pv2 = await call(url, "GET", `/api/requests/${id}`, { token: t.provider });
      assert.equal(pv2.body.status, "denied");
      const letter = await call(url, "GET", `/api/requests/${id}/letter`, { token: t.provider });
      assert.equal(letter.status, 200);
      assert.equal(letter.text, previewHtml, "the signed letter is the previewed one, byte for byte");
      assert.match(letter.text, /I\.A\.2\.g/);
      const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
      assert.ok(letter.text.includes(esc(reasons[0]!.text)), "the failed criterion's text is cited");
      assert.match(letter.text, /CP\.MP\.173/);
      assert.match(letter.text, new RegExp(`version ${signed.body.policy.version}`));
      assert.match(letter.text, /Dana Diaz, MD/);
      assert.match(letter.text, /right to appeal/i);

      // Audit trail: who did what, when.
      const rv = await call(url, "GET", `/api/requests/${id}`, { token: t.reviewer });
      assert.deepEqual(
        (rv.body.review.events as { action: string }[]).map((e) => e.action),
        ["submitted", "answered", "recommended", "signed"],
      );
      // Every stored determination re-runs to the same bytes.
      const rep = await call(url, "POST", `/api/requests/${id}/reproduce`, { token: t.reviewer });
      assert.equal(rep.status, 200, rep.text);
      assert.equal(rep.body.identical, true, rep.text);
      assert.equal(rep.body.determinations.length, 2);
    });

    test("a medical-director-only item cannot be signed by a reviewer", { skip }, async () => {
      const sub = await call(url, "POST", "/api/requests", {
        token: t.provider,
        body: loadCase("implant-malignant-trial-waiver"),
      });
      assert.equal(sub.status, 201, sub.text);
      assert.equal(sub.body.status, "pended");
      const id = sub.body.id as string;
      const rv = await call(url, "GET", `/api/requests/${id}`, { token: t.reviewer });
      assert.equal(rv.body.review.engineOutcome, "review");
      assert.equal(rv.body.review.medicalDirectorOnly, true);
      const byReviewer = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.reviewer,
        body: { outcome: "approved", reason: "Limited survival; trial waived per policy note." },
      });
      assert.equal(byReviewer.status, 403, byReviewer.text);
      assert.match(byReviewer.body.error.message, /medical director/);
      const unanswered = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.medicalDirector,
        body: { outcome: "approved", reason: "Trial waived.", criteria: ["II.A.1.a"] },
      });
      assert.equal(unanswered.status, 400, unanswered.text);
      assert.match(unanswered.body.error.message, /II\.A\.1\.a is unanswered/);
      const byMd = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.medicalDirector,
        body: {
          outcome: "approved",
          reason: "Limited survival; trial waived per policy note.",
          // The note that sent it to review, which holds; not the unanswered criterion it excuses.
          criteria: ["II.A.1.a.note"],
        },
      });
      assert.equal(byMd.status, 200, byMd.text);
      assert.equal(byMd.body.status, "approved");
      assert.equal(byMd.body.decision.signedBy.role, "medical-director");
    });

    test("expedited requests are due in 72 hours; metrics split standard and expedited", {
      skip,
    }, async () => {
      const c = loadCase("sij-allograft-not-covered");
      (c.service as Record<string, unknown>).expedited = true;
      const sub = await call(url, "POST", "/api/requests", { token: t.provider, body: c });
      assert.equal(sub.status, 201, sub.text);
      assert.equal(sub.body.status, "pended");
      assert.equal(Date.parse(sub.body.dueAt) - Date.parse(sub.body.receivedAt), 72 * 3600_000);
      // Not covered by a "does not support coverage" code list: a medical judgment, a medical director's.
      const notCovered = {
        outcome: "not-covered",
        reason: "SI joint fusion with allograft (27278) is not covered by CP.MP.126.",
        criteria: ["IV"],
      };
      const byNurse = await call(url, "POST", `/api/requests/${sub.body.id}/decision`, {
        token: t.reviewer,
        body: notCovered,
      });
      assert.equal(byNurse.status, 403, byNurse.text);
      const signed = await call(url, "POST", `/api/requests/${sub.body.id}/decision`, {
        token: t.medicalDirector,
        body: {
          outcome: "not-covered",
          reason: "SI joint fusion with allograft (27278) is not covered by CP.MP.126.",
          // Decided by section IV's code list, with no criterion: the section is what is cited.
          criteria: ["IV"],
        },
      });
      assert.equal(signed.status, 200, signed.text);
      const m = await call(url, "GET", "/api/metrics", { token: t.reviewer });
      assert.equal(m.status, 200);
      assert.equal(m.body.expedited.denied.count, 1);
      assert.equal(m.body.expedited.total, 1);
      assert.ok(m.body.standard.approved.count >= 2);
      assert.ok(m.body.standard.denied.count >= 1);
      assert.equal(typeof m.body.standard.timeToDecisionHours.median, "number");
      assert.equal((await call(url, "GET", "/api/metrics", { token: t.provider })).status, 403);
    });

    test("stateless evaluate, errors mapped by httpStatusOf, authentication", { skip }, async () => {
      const ok = await call(url, "POST", "/api/evaluate", {
        token: t.provider,
        body: loadCase("trial-malignant-met"),
      });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.outcome, "approved");
      const denied = await call(url, "POST", "/api/evaluate", {
        token: t.provider,
        body: loadCase("trial-nonmalignant-not-weaned"),
      });
      assert.equal(denied.body.outcome, "denied", "evaluate shows the engine's recommendation");
      const unknownId = loadCase("trial-malignant-met");
      (unknownId.answers as Record<string, boolean>)["I.Z.9"] = true;
      const r400 = await call(url, "POST", "/api/evaluate", { token: t.provider, body: unknownId });
      assert.equal(r400.status, 400);
      assert.match(r400.body.error.message, /I\.Z\.9/);
      const early = loadCase("trial-malignant-met");
      (early.service as Record<string, unknown>).dateOfService = "2024-01-15";
      const r422 = await call(url, "POST", "/api/evaluate", { token: t.provider, body: early });
      assert.equal(r422.status, 422, r422.text);
      assert.equal(
        (await call(url, "POST", "/api/evaluate", { body: loadCase("trial-malignant-met") })).status,
        401,
      );
      assert.equal(
        (
          await call(url, "POST", "/api/evaluate", {
            token: `${t.provider}x`,
            body: loadCase("trial-malignant-met"),
          })
        ).status,
        401,
      );
      assert.equal((await call(url, "GET", "/api/requests/no-such-id", { token: t.reviewer })).status, 404);
    });

    test("OpenAPI document, policies and diff", { skip }, async () => {
      const doc = await call(url, "GET", "/openapi.json");
      assert.equal(doc.status, 200);
      assert.equal(doc.body.openapi, "3.1.0");
      assert.ok(doc.body.paths["/api/requests/{id}/decision"]);
      assert.equal(doc.body.components.schemas.Case.type, "object");
      const pol = await call(url, "GET", "/api/policies", { token: t.reviewer });
      assert.equal(pol.status, 200);
      assert.ok((pol.body as { id: string }[]).some((p) => p.id === "CP.MP.173"));
      const one = await call(url, "GET", "/api/policies/CP.MP.173", { token: t.reviewer });
      assert.equal(one.status, 200, one.text);
      assert.ok(one.body.versions.length >= 2);
      assert.equal((await call(url, "GET", "/api/policies/XX.NOPE", { token: t.reviewer })).status, 404);
      const diff = await call(url, "GET", "/api/diff?a=LA.CP.MP.173@2024-02&b=LA.CP.MP.173@2025-02", {
        token: t.reviewer,
      });
      assert.equal(diff.status, 200, diff.text);
      assert.match(diff.text, /I\.A\.2\.f/, "LA's removed criterion shows in the semantic diff");
      assert.equal(
        (await call(url, "GET", "/api/diff?a=CP.MP.173@2024-11&b=CP.MP.173@1999-01", { token: t.reviewer }))
          .status,
        404,
      );
      assert.equal((await call(url, "GET", "/api/diff?a=CP.MP.173", { token: t.reviewer })).status, 400);
    });

    test("the submitter withdraws an undecided request: final, out of the queue, nothing signed on it", {
      skip,
    }, async () => {
      const sub = await submitPended();
      const id = sub.body.id as string;
      const withdraw = (
        token: string | undefined,
        body: unknown = { reason: "the member chose another treatment" },
      ) => call(url, "POST", `/api/requests/${id}/withdraw`, { token, body });
      assert.equal((await withdraw(t.reviewer)).status, 403, "a reviewer does not withdraw");
      assert.equal((await withdraw(t.otherProvider)).status, 404, "another organization's request");
      assert.equal((await withdraw(t.provider, { reason: "" })).status, 400);
      const w = await withdraw(t.provider);
      assert.equal(w.status, 200, w.text);
      assert.equal(w.body.status, "withdrawn");
      assert.equal(w.body.statusText, "withdrawn by the submitter: no decision was made");
      assert.equal((await withdraw(t.provider)).status, 409, "already withdrawn");
      const signed = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.medicalDirector,
        body: { outcome: "denied", reason: "Not met.", criteria: ["I.A"] },
      });
      assert.equal(signed.status, 409, signed.text);
      const queue = await call(url, "GET", "/api/requests?status=awaiting-review", { token: t.reviewer });
      assert.ok(!(queue.body as { id: string }[]).some((r) => r.id === id));
      const gone = await call(url, "GET", "/api/requests?status=withdrawn", { token: t.reviewer });
      assert.ok((gone.body as { id: string }[]).some((r) => r.id === id));
      const view = await call(url, "GET", `/api/requests/${id}`, { token: t.reviewer });
      assert.equal(view.body.review.workflowStatus, "withdrawn");
      assert.equal(view.body.review.events.at(-1).action, "withdrawn");
    });
  });
}

test("per-token rate limit answers 429 with Retry-After", async () => {
  const s = await startTest("sqlite", { rateLimit: { perSecond: 1, burst: 3 } });
  try {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push((await call(s.url, "GET", "/api/policies", { token: s.tokens.reviewer })).status);
    assert.deepEqual(codes.slice(0, 3), [200, 200, 200]);
    assert.equal(codes[4], 429);
    const r = await call(s.url, "GET", "/api/policies", { token: s.tokens.reviewer });
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get("retry-after")) >= 1);
    // Another token has its own bucket.
    assert.equal((await call(s.url, "GET", "/api/policies", { token: s.tokens.admin })).status, 200);
  } finally {
    await s.close();
  }
});

test("demo tokens are served in demo mode only", async () => {
  const demo = await startTest("sqlite", { demo: true });
  const prod = await startTest("sqlite", { demo: false });
  try {
    const r = await call(demo.url, "GET", "/api/demo-tokens");
    assert.equal(r.status, 200);
    const tok = r.body.tokens.reviewer.token as string;
    assert.equal((await call(demo.url, "GET", "/api/queue", { token: tok })).status, 200);
    assert.equal((await call(prod.url, "GET", "/api/demo-tokens")).status, 404);
    const minted = await call(prod.url, "POST", "/api/tokens", {
      token: prod.tokens.admin,
      body: { sub: "rn-x", name: "X", role: "reviewer" },
    });
    assert.equal(minted.status, 200, minted.text);
    assert.equal((await call(prod.url, "GET", "/api/queue", { token: minted.body.token })).status, 200);
    assert.equal(
      (
        await call(prod.url, "POST", "/api/tokens", {
          token: prod.tokens.reviewer,
          body: { sub: "a", name: "a", role: "admin" },
        })
      ).status,
      403,
    );
  } finally {
    await demo.close();
    await prod.close();
  }
});

test("queue due times: overdue once past 7 days (standard) / 72 hours (expedited)", async () => {
  let now = Date.parse("2026-03-01T12:00:00.000Z");
  const s = await startTest("sqlite", { clock: () => new Date(now) });
  try {
    const std = await call(s.url, "POST", "/api/requests", {
      token: s.tokens.provider,
      body: loadCase("trial-nonmalignant-open-questions"),
    });
    const exp = loadCase("trial-nonmalignant-not-weaned");
    (exp.service as Record<string, unknown>).expedited = true;
    const ex = await call(s.url, "POST", "/api/requests", { token: s.tokens.provider, body: exp });
    assert.equal(std.body.dueAt, "2026-03-08T12:00:00.000Z");
    assert.equal(ex.body.dueAt, "2026-03-04T12:00:00.000Z");
    const queue = async () =>
      (await call(s.url, "GET", "/api/queue", { token: s.tokens.reviewer })).body as {
        id: string;
        overdue: boolean;
        hoursLeft: number;
      }[];
    let q = await queue();
    assert.deepEqual(
      q.map((x) => x.id),
      [ex.body.id, std.body.id],
      "the expedited one is due first",
    );
    assert.deepEqual(
      q.map((x) => x.overdue),
      [false, false],
    );
    assert.equal(q[0]!.hoursLeft, 72);
    now += 4 * 24 * 3600_000; // day 4: expedited overdue, standard not
    q = await queue();
    assert.deepEqual(
      q.map((x) => x.overdue),
      [true, false],
    );
    now += 4 * 24 * 3600_000; // day 8: both overdue
    q = await queue();
    assert.deepEqual(
      q.map((x) => x.overdue),
      [true, true],
    );
    const rv = await call(s.url, "GET", `/api/requests/${std.body.id}`, { token: s.tokens.reviewer });
    assert.equal(rv.body.review.overdue, true);
    const list = await call(s.url, "GET", "/api/requests", { token: s.tokens.provider });
    assert.deepEqual(
      (list.body as { status: string }[]).map((r) => r.status),
      ["pended", "pended"],
    );
  } finally {
    await s.close();
  }
});

test("withdraw retries over a reviewer's concurrent step and keeps it", async () => {
  const db = await freshDatabase("sqlite");
  const store = await openStore({ dataDir: db.dataDir });
  const service = new RequestService(
    store,
    libraryEngine(loadLibrary()),
    () => new Date("2026-03-02T12:00:00Z"),
  );
  const provider = DEMO_USERS.provider!;
  const reviewer = DEMO_USERS.reviewer!;
  try {
    const { record } = await service.submit(loadCase("trial-nonmalignant-open-questions"), provider);
    // The first write of the withdrawal meets a reviewer's assignment that landed just before it.
    const updateWorkflow = store.updateWorkflow.bind(store);
    let raced = false;
    store.updateWorkflow = async (id, change) => {
      if (!raced && change.withdraw) {
        raced = true;
        await service.assign(id, { sub: reviewer.sub, name: reviewer.name }, reviewer);
      }
      return updateWorkflow(id, change);
    };
    const out = await service.withdraw(record.id, "the member moved", provider);
    assert.equal(raced, true);
    assert.equal(out.status, "withdrawn");
    assert.equal(out.workflow.assignee?.sub, reviewer.sub, "the concurrent assignment is kept");
    assert.deepEqual(out.events.map((e) => e.action).slice(-2), ["assigned", "withdrawn"]);
  } finally {
    await store.close();
    await db.cleanup();
  }
});
