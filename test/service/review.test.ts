/**
 * Issue 14 acceptance at the API, on both databases: who may decide what (a nurse cannot sign a
 * medical-necessity denial, a medical director can, a benefit-rule not-covered is a nurse's too);
 * citations that cannot misstate (an unanswered or met criterion is never a denial's reason, a failed
 * one never an approval's); override reasons; a letter previewed is the letter signed, byte for byte;
 * requests for more information pend to the provider with the questions and close on their answers;
 * notes, assignment, queue search and attachments.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { call, DATABASES, loadCase, postgresAvailable, type Res, startTest, type Tokens } from "./helpers.js";

/** A case with the clinical picture of a UM file (issue 14). */
function clinicalCase(name: string, memberName: string, npi: string): Record<string, unknown> {
  const c = loadCase(name);
  const member = c.member as Record<string, unknown>;
  member.name = memberName;
  member.id = `M-${memberName.length}-0042`;
  c.diagnoses = [{ code: "g893", display: "Neoplasm related pain" }];
  c.providers = { requesting: { npi, name: "Northside Pain Clinic" } };
  return c;
}

async function html(
  url: string,
  path: string,
  token: string | undefined,
  body: unknown,
): Promise<{ status: number; text: string; sha: string }> {
  const r = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token ?? ""}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, text: await r.text(), sha: r.headers.get("x-letter-sha256") ?? "" };
}

function field(r: Res): string | undefined {
  return r.body?.error?.where?.field;
}

for (const db of DATABASES) {
  describe(`utilization review (${db})`, async () => {
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

    /** Submits `body` as the provider and answers `answers` as the nurse; returns the request id. */
    async function pended(body: Record<string, unknown>, answers?: Record<string, boolean>): Promise<string> {
      const sub = await call(url, "POST", "/api/requests", { token: t.provider, body });
      assert.equal(sub.status, 201, sub.text);
      const id = sub.body.id as string;
      if (answers) {
        const a = await call(url, "POST", `/api/requests/${id}/answers`, {
          token: t.reviewer,
          body: { answers },
        });
        assert.equal(a.status, 200, a.text);
      }
      return id;
    }

    test("a nurse cannot sign a medical-necessity denial; a medical director can", { skip }, async () => {
      const id = await pended(loadCase("trial-nonmalignant-open-questions"), {
        "I.A.2.g": false,
        "I.A.2.h": true,
      });
      const denial = {
        outcome: "denied",
        reason: "Opioids were not weaned before the trial.",
        criteria: ["I.A.2.g"],
      };
      const nurse = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.reviewer,
        body: denial,
      });
      assert.equal(nurse.status, 403, nurse.text);
      // Nor its letter preview: the nurse never sees a denial letter over her name.
      assert.equal((await html(url, `/api/requests/${id}/letter-preview`, t.reviewer, denial)).status, 403);
      const view = await call(url, "GET", `/api/requests/${id}`, { token: t.reviewer });
      assert.deepEqual(
        { approve: view.body.review.authority.approve, deny: view.body.review.authority.deny },
        { approve: true, deny: false },
      );
      const md = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.medicalDirector,
        body: denial,
      });
      assert.equal(md.status, 200, md.text);
      assert.equal(md.body.decision.signedBy.role, "medical-director");
    });

    test("a denial may cite only failed criteria: unanswered or met ones are refused (400)", {
      skip,
    }, async () => {
      // I.B.1 is answered false (no allergy); I.A.2.h is never answered; I.A.2.g fails.
      const c = loadCase("trial-nonmalignant-open-questions");
      delete (c.answers as Record<string, boolean>)["I.B.1"];
      const id = await pended(c, { "I.A.2.g": false });
      const view = await call(url, "GET", `/api/requests/${id}`, { token: t.medicalDirector });
      const denials = (view.body.review.citable.denied as { criterion: string }[]).map((x) => x.criterion);
      assert.ok(denials.includes("I.A.2.g"), denials.join());
      for (const never of ["I.B.1", "I.A.2.h", "I.A.2.a"]) {
        assert.ok(!denials.includes(never), `${never} is not citable for a denial`);
        const r = await call(url, "POST", `/api/requests/${id}/decision`, {
          token: t.medicalDirector,
          body: { outcome: "denied", reason: "Not medically necessary.", criteria: ["I.A.2.g", never] },
        });
        assert.equal(r.status, 400, r.text);
        assert.equal(field(r), "criteria.1");
        assert.match(r.body.error.message, new RegExp(never.replace(/\./g, "\\.")));
      }
      assert.match(
        (
          await call(url, "POST", `/api/requests/${id}/decision`, {
            token: t.medicalDirector,
            body: { outcome: "denied", reason: "Not medically necessary.", criteria: ["I.B.1"] },
          })
        ).body.error.message,
        /unanswered/,
      );
      // An approval may not cite a failed criterion as if it were met.
      const approval = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.medicalDirector,
        body: {
          outcome: "approved",
          reason: "Approved.",
          criteria: ["I.A.2.g"],
          overrideReason: "Peer to peer call.",
        },
      });
      assert.equal(approval.status, 400, approval.text);
      assert.equal(field(approval), "criteria.0");
    });

    test("overriding the engine's recommendation needs a reason, kept in the audit trail", {
      skip,
    }, async () => {
      const id = await pended(loadCase("trial-nonmalignant-not-weaned"));
      const body = { outcome: "approved", reason: "Weaning confirmed by phone with the prescriber." };
      const bare = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.medicalDirector,
        body,
      });
      assert.equal(bare.status, 400, bare.text);
      assert.equal(field(bare), "overrideReason");
      const ok = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.medicalDirector,
        body: { ...body, overrideReason: "Pharmacy records show a 60% wean before the trial." },
      });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.decision.override.from, "denied");
      const signed = (ok.body.review.events as { action: string; detail: { override?: unknown } }[]).find(
        (e) => e.action === "signed",
      );
      assert.deepEqual(signed?.detail.override, ok.body.decision.override);
      // The member's letter does not carry the internal override.
      const letter = await call(url, "GET", `/api/requests/${id}/letter`, { token: t.provider });
      assert.ok(!letter.text.includes("Pharmacy records"), "the override reason is internal");
    });

    test("the letter preview is the signed letter, byte for byte; a stale preview signs nothing (409)", {
      skip,
    }, async () => {
      const id = await pended(clinicalCase("trial-nonmalignant-not-weaned", "Jane <Roe>", "1234567893"));
      const denial = {
        outcome: "denied",
        reason: "Systemic opioids were not weaned by 50%.",
        criteria: ["I.A.2.g"],
      };
      const p = await html(url, `/api/requests/${id}/letter-preview`, t.medicalDirector, denial);
      assert.equal(p.status, 200, p.text);
      assert.match(p.sha, /^[0-9a-f]{64}$/);
      assert.ok(p.text.includes("Jane &lt;Roe&gt;"), "member named, escaped");
      assert.match(p.text, /1234567893/);
      assert.match(p.text, /G89\.3/);
      // A preview of another wording is another letter: signing with the first preview's hash fails.
      const stale = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.medicalDirector,
        body: { ...denial, reason: "Reworded after the preview.", letterSha256: p.sha },
      });
      assert.equal(stale.status, 409, stale.text);
      assert.equal(
        (await call(url, "GET", `/api/requests/${id}`, { token: t.provider })).body.status,
        "pended",
      );
      const signed = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.medicalDirector,
        body: { ...denial, letterSha256: p.sha },
      });
      assert.equal(signed.status, 200, signed.text);
      assert.equal(signed.body.decision.letterSha256, p.sha);
      const letter = await call(url, "GET", `/api/requests/${id}/letter`, { token: t.provider });
      assert.equal(letter.text, p.text);
    });

    test("requesting more information pends to the provider with the questions; their answers close it", {
      skip,
    }, async () => {
      const id = await pended(loadCase("trial-nonmalignant-open-questions"));
      // A provider cannot answer until asked.
      const early = await call(url, "POST", `/api/requests/${id}/answers`, {
        token: t.provider,
        body: { answers: { "I.A.2.g": true } },
      });
      assert.equal(early.status, 403, early.text);
      const bad = await call(url, "POST", `/api/requests/${id}/information-request`, {
        token: t.reviewer,
        body: { message: "Please send the weaning record.", criteria: ["I.A.2.a"] },
      });
      assert.equal(bad.status, 400, "I.A.2.a is answered: not a question");
      const asked = await call(url, "POST", `/api/requests/${id}/information-request`, {
        token: t.reviewer,
        body: { message: "Please send the opioid weaning record." },
      });
      assert.equal(asked.status, 200, asked.text);
      const pv = await call(url, "GET", `/api/requests/${id}`, { token: t.provider });
      assert.equal(pv.body.status, "pended");
      assert.equal(pv.body.statusText, "pended: more information requested");
      assert.equal(pv.body.informationRequest.message, "Please send the opioid weaning record.");
      const questions = (pv.body.informationRequest.questions as { criterion: string }[]).map(
        (q) => q.criterion,
      );
      assert.ok(questions.includes("I.A.2.g"), questions.join());
      assert.equal(pv.body.review, undefined);
      const q = await call(url, "GET", "/api/queue", { token: t.reviewer });
      assert.equal(
        (q.body as { id: string; infoRequested: boolean }[]).find((x) => x.id === id)?.infoRequested,
        true,
      );
      // Another organization's provider cannot answer it.
      const other = await call(url, "POST", `/api/requests/${id}/answers`, {
        token: t.otherProvider,
        body: { answers: { "I.A.2.g": true } },
      });
      assert.equal(other.status, 404);
      const answered = await call(url, "POST", `/api/requests/${id}/answers`, {
        token: t.provider,
        body: { answers: { "I.A.2.g": true, "I.A.2.h": true } },
      });
      assert.equal(answered.status, 200, answered.text);
      assert.equal(answered.body.informationRequest, undefined, "closed by the answers");
      const rv = await call(url, "GET", `/api/requests/${id}`, { token: t.reviewer });
      assert.equal(rv.body.review.workflow.infoRequest, undefined);
      assert.deepEqual(
        (rv.body.review.events as { action: string }[]).map((e) => e.action),
        ["submitted", "information-requested", "information-received"],
      );
    });

    test("notes: evidence per criterion and internal notes, never shown to the provider", {
      skip,
    }, async () => {
      const id = await pended(loadCase("trial-nonmalignant-open-questions"));
      const noCriterion = await call(url, "POST", `/api/requests/${id}/notes`, {
        token: t.reviewer,
        body: { kind: "evidence", text: "Chart p. 3" },
      });
      assert.equal(noCriterion.status, 400);
      assert.equal(field(noCriterion), "criterion");
      const unknown = await call(url, "POST", `/api/requests/${id}/notes`, {
        token: t.reviewer,
        body: { kind: "evidence", criterion: "IX.Z.9", text: "Chart p. 3" },
      });
      assert.equal(unknown.status, 400);
      const ev = await call(url, "POST", `/api/requests/${id}/notes`, {
        token: t.reviewer,
        body: { kind: "evidence", criterion: "I.A.2.g", text: "Pharmacy fill history, pp. 3-4" },
      });
      assert.equal(ev.status, 200, ev.text);
      const internal = await call(url, "POST", `/api/requests/${id}/notes`, {
        token: t.medicalDirector,
        body: { kind: "internal", text: "Call the prescriber before deciding." },
      });
      assert.equal(internal.status, 200, internal.text);
      const notes = internal.body.review.notes as { kind: string; criterion?: string; by: { sub: string } }[];
      assert.deepEqual(
        notes.map((n) => [n.kind, n.criterion ?? null, n.by.sub]),
        [
          ["evidence", "I.A.2.g", "rn-chen"],
          ["internal", null, "md-diaz"],
        ],
      );
      const pv = await call(url, "GET", `/api/requests/${id}`, { token: t.provider });
      assert.ok(!pv.text.includes("prescriber") && !pv.text.includes("Pharmacy fill"), "notes are internal");
      assert.equal(
        (
          await call(url, "POST", `/api/requests/${id}/notes`, {
            token: t.provider,
            body: { kind: "internal", text: "x" },
          })
        ).status,
        403,
      );
    });

    test("queue: search by member, NPI and request id; assignment and its filters", { skip }, async () => {
      const id = await pended(
        clinicalCase("trial-nonmalignant-open-questions", `Zelda Quintero ${db}`, "1245319599"),
      );
      const other = await pended(loadCase("trial-nonmalignant-open-questions"));
      const search = async (q: string, assignee?: string) =>
        (
          await call(
            url,
            "GET",
            `/api/queue?q=${encodeURIComponent(q)}${assignee ? `&assignee=${assignee}` : ""}`,
            { token: t.reviewer },
          )
        ).body as {
          id: string;
          memberName?: string;
          providerNpi?: string;
          minutesLeft: number;
          codes: string[];
        }[];
      const byName = await search(`zelda quintero ${db}`);
      assert.deepEqual(
        byName.map((x) => x.id),
        [id],
      );
      assert.equal(byName[0]!.memberName, `Zelda Quintero ${db}`);
      assert.deepEqual(byName[0]!.codes, ["62326"]);
      assert.ok(byName[0]!.minutesLeft > 7 * 24 * 60 - 5);
      assert.ok((await search("1245319599")).some((x) => x.id === id));
      assert.deepEqual(
        (await search(id)).map((x) => x.id),
        [id],
      );
      // LIKE wildcards in a query are literal.
      assert.deepEqual(await search("%"), []);
      assert.deepEqual(await search("_"), []);
      const a = await call(url, "POST", `/api/requests/${id}/assign`, {
        token: t.reviewer,
        body: { assignee: { sub: "rn-chen", name: "Casey Chen, RN" } },
      });
      assert.equal(a.status, 200, a.text);
      const mine = await search("", "me");
      assert.ok(mine.some((x) => x.id === id));
      assert.ok(!mine.some((x) => x.id === other));
      const unassigned = await search("", "unassigned");
      assert.ok(unassigned.some((x) => x.id === other) && !unassigned.some((x) => x.id === id));
      const un = await call(url, "POST", `/api/requests/${id}/assign`, {
        token: t.reviewer,
        body: { assignee: null },
      });
      assert.equal(un.body.review.workflow.assignee, undefined);
      assert.equal(
        (await search("", "me")).some((x) => x.id === id),
        false,
      );
    });

    test("attachments: the provider uploads, the reviewer downloads the same bytes; bad ones are refused", {
      skip,
    }, async () => {
      const id = await pended(loadCase("trial-nonmalignant-open-questions"));
      const bytes = Buffer.from("%PDF-1.4\n% weaning record\n");
      const up = await call(url, "POST", `/api/requests/${id}/attachments`, {
        token: t.provider,
        body: { title: "Weaning record", contentType: "application/pdf", data: bytes.toString("base64") },
      });
      assert.equal(up.status, 201, up.text);
      const view = await call(url, "GET", `/api/requests/${id}`, { token: t.reviewer });
      const listed = view.body.review.attachments as { url: string; size: number; title: string }[];
      assert.equal(listed.length, 1);
      assert.equal(listed[0]!.size, bytes.length);
      const get = await fetch(`${url}${listed[0]!.url}`, {
        headers: { authorization: `Bearer ${t.reviewer}` },
      });
      assert.equal(get.status, 200);
      assert.match(get.headers.get("content-disposition") ?? "", /^attachment/);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), bytes);
      const otherOrg = await fetch(`${url}${listed[0]!.url}`, {
        headers: { authorization: `Bearer ${t.otherProvider}` },
      });
      assert.equal(otherOrg.status, 404);
      for (const [body, f] of [
        [{ title: "x", contentType: "application/x-msdownload", data: "AAAA" }, "contentType"],
        [{ title: "x", contentType: "application/pdf", data: "not base64!" }, "data"],
        [{ title: "x", contentType: "application/pdf", data: "" }, "data"],
      ] as const) {
        const r = await call(url, "POST", `/api/requests/${id}/attachments`, { token: t.provider, body });
        assert.equal(r.status, 400, r.text);
        assert.equal(field(r), f);
      }
    });

    test("a not-covered decision that rests on a benefit rule is a nurse's to sign", { skip }, async () => {
      // LA: C1772 is off the state fee schedule; the member is 21 on the date of service.
      const id = await pended({
        member: { state: "LA", lineOfBusiness: "medicaid", birthDate: "2005-03-01" },
        service: { codes: ["C1772"], dateOfService: "2026-03-01" },
      });
      const view = await call(url, "GET", `/api/requests/${id}`, { token: t.reviewer });
      assert.equal(view.body.review.authority.notCover, true);
      assert.equal(view.body.review.authority.deny, false);
      const cites = view.body.review.citable["not-covered"] as { criterion: string; status: string }[];
      assert.deepEqual(
        cites.map((c) => [c.criterion, c.status]),
        [["C1772", "rule"]],
      );
      const r = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.reviewer,
        body: {
          outcome: "not-covered",
          reason: "C1772 is not on the Louisiana fee schedule.",
          criteria: ["C1772"],
        },
      });
      assert.equal(r.status, 200, r.text);
    });

    test("a benefit rule on one code does not let a nurse sign not-covered over another code's denial", {
      skip,
    }, async () => {
      // LA adult: A4300 is off the fee schedule (not covered); 62362 is denied (systemic infection).
      const id = await pended({
        member: { state: "LA", lineOfBusiness: "medicaid", birthDate: "1980-03-01" },
        service: { codes: ["A4300", "62362"], dateOfService: "2026-03-01" },
        answers: { "I.B.4": true },
      });
      const view = await call(url, "GET", `/api/requests/${id}`, { token: t.reviewer });
      assert.equal(view.body.review.authority.notCover, false, view.text);
      const r = await call(url, "POST", `/api/requests/${id}/decision`, {
        token: t.reviewer,
        body: { outcome: "not-covered", reason: "Not covered.", criteria: ["A4300"] },
      });
      assert.equal(r.status, 403, r.text);
    });

    test("a provider answers only the questions asked, and never over the file's answers or facts", {
      skip,
    }, async () => {
      const id = await pended(loadCase("trial-nonmalignant-open-questions"), { "I.B.4": true });
      const asked = await call(url, "POST", `/api/requests/${id}/information-request`, {
        token: t.reviewer,
        body: { message: "Send the weaning record.", criteria: ["I.A.2.g"] },
      });
      assert.equal(asked.status, 200, asked.text);
      for (const answers of [{ "I.B.4": false }, { "I.A.2.h": true }, { "I.A.2.a": false }]) {
        const r = await call(url, "POST", `/api/requests/${id}/answers`, {
          token: t.provider,
          body: { answers: { "I.A.2.g": true, ...answers } },
        });
        assert.equal(r.status, 400, `${JSON.stringify(answers)}: ${r.text}`);
        assert.match(field(r) ?? "", /^answers\./);
      }
      const ok = await call(url, "POST", `/api/requests/${id}/answers`, {
        token: t.provider,
        body: { answers: { "I.A.2.g": true } },
      });
      assert.equal(ok.status, 200, ok.text);
      const rv = await call(url, "GET", `/api/requests/${id}`, { token: t.reviewer });
      assert.equal(rv.body.review.case.answers["I.B.4"], true, "the reviewer's finding stands");
    });

    test("concurrent workflow changes are never lost (optimistic check)", { skip }, async () => {
      const id = await pended(loadCase("trial-nonmalignant-not-weaned"));
      const [rec, asg] = await Promise.all([
        call(url, "POST", `/api/requests/${id}/recommendation`, {
          token: t.reviewer,
          body: { outcome: "denied", reason: "Not weaned.", criteria: ["I.A.2.g"] },
        }),
        call(url, "POST", `/api/requests/${id}/assign`, {
          token: t.reviewer,
          body: { assignee: { sub: "rn-chen", name: "Casey Chen, RN" } },
        }),
      ]);
      assert.ok(
        [rec.status, asg.status].every((s) => s === 200 || s === 409),
        `${rec.status} ${asg.status}`,
      );
      const v = await call(url, "GET", `/api/requests/${id}`, { token: t.reviewer });
      const w = v.body.review.workflow;
      if (rec.status === 200) assert.equal(w.recommendation?.outcome, "denied", JSON.stringify(w));
      if (asg.status === 200) assert.equal(w.assignee?.sub, "rn-chen", JSON.stringify(w));
    });

    test("attachments: at most 20 per request even when uploaded at once; none after a decision", {
      skip,
    }, async () => {
      const id = await pended(loadCase("trial-nonmalignant-not-weaned"));
      const body = (i: number) => ({
        title: `Page ${i}`,
        contentType: "text/plain",
        data: Buffer.from(`page ${i}`).toString("base64"),
      });
      const results = await Promise.all(
        Array.from({ length: 26 }, (_, i) =>
          call(url, "POST", `/api/requests/${id}/attachments`, { token: t.provider, body: body(i) }),
        ),
      );
      assert.equal(results.filter((r) => r.status === 201).length, 20);
      assert.ok(results.every((r) => r.status === 201 || r.status === 400));
      const v = await call(url, "GET", `/api/requests/${id}`, { token: t.reviewer });
      assert.equal(v.body.review.attachments.length, 20);
      const done = await pended(loadCase("trial-malignant-met"));
      const late = await call(url, "POST", `/api/requests/${done}/attachments`, {
        token: t.provider,
        body: body(0),
      });
      assert.equal(late.status, 409, late.text);
    });

    test("the fact vocabulary for typed inputs", { skip }, async () => {
      // Issue 15: facts are each policy's declarations (bindings.json), served per policy version.
      const r = await call(url, "GET", "/api/facts", { token: t.reviewer });
      assert.equal(r.status, 200);
      type Vocab = {
        policy: string;
        version: string;
        facts: { name: string; type: string; unit?: string }[];
      };
      const of = (id: string) => (r.body as Vocab[]).find((v) => v.policy === id)?.facts ?? [];
      const byName = new Map([...of("CP.MP.173"), ...of("CP.MP.126")].map((f) => [f.name, f]));
      assert.equal(byName.get("lifeExpectancyMonths")?.type, "number");
      assert.equal(byName.get("lifeExpectancyMonths")?.unit, "mo");
      assert.equal(byName.get("sijImagingDate")?.type, "date");
      assert.equal(byName.get("trialFunctionImproved")?.type, "boolean");
      assert.equal(byName.get("provocativeTestsPositive")?.type, "set");
      // A state variant inherits its corporate policy's facts.
      assert.ok(of("NC.CP.MP.173").some((f) => f.name === "lifeExpectancyMonths"));
      const one = await call(url, "GET", "/api/facts?policy=CP.MP.126", { token: t.reviewer });
      assert.deepEqual(
        (one.body as Vocab[]).map((v) => v.policy),
        ["CP.MP.126"],
      );
      const none = await call(url, "GET", "/api/facts?policy=NO.SUCH", { token: t.reviewer });
      assert.equal(none.status, 404);
    });
  });
}

describe("adverse signers are configuration", async () => {
  let s: Awaited<ReturnType<typeof startTest>> | undefined;
  before(async () => {
    // A plan whose reviewers are all physicians lets them sign denials.
    s = await startTest("sqlite", { authority: { adverseSigners: ["medical-director", "reviewer"] } });
  });
  after(() => s?.close());

  test("with reviewer among the adverse signers, a reviewer signs a denial", async () => {
    const sub = await call(s!.url, "POST", "/api/requests", {
      token: s!.tokens.provider,
      body: loadCase("trial-nonmalignant-not-weaned"),
    });
    const r = await call(s!.url, "POST", `/api/requests/${sub.body.id}/decision`, {
      token: s!.tokens.reviewer,
      body: { outcome: "denied", reason: "Opioids were not weaned.", criteria: ["I.A.2.g"] },
    });
    assert.equal(r.status, 200, r.text);
  });
});

describe("the queue's member names are PHI reads (issue 14)", async () => {
  let s: Awaited<ReturnType<typeof startTest>> | undefined;
  before(async () => {
    s = await startTest("sqlite");
  });
  after(() => s?.close());

  test("a queue listing that names a member is in the audit trail; one that names none is not", async () => {
    const named = await call(s!.url, "POST", "/api/requests", {
      token: s!.tokens.provider,
      body: clinicalCase("trial-nonmalignant-open-questions", "Nora Named", "1234567893"),
    });
    const plain = await call(s!.url, "POST", "/api/requests", {
      token: s!.tokens.provider,
      body: loadCase("trial-nonmalignant-open-questions"),
    });
    assert.equal((await call(s!.url, "GET", "/api/queue", { token: s!.tokens.reviewer })).status, 200);
    // Reads are written in batches (within 100 ms): wait for the entry, up to 5 s.
    let entries: { requestId: string; action: string }[] = [];
    for (let i = 0; i < 50; i++) {
      const trail = await call(s!.url, "GET", "/api/audit?principal=rn-chen", { token: s!.tokens.admin });
      entries = (trail.body as { entries: { requestId: string; action: string }[] }).entries;
      if (entries.some((e) => e.action === "queue.list")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(
      entries.some((e) => e.requestId === named.body.id && e.action === "queue.list"),
      JSON.stringify(entries),
    );
    assert.ok(!entries.some((e) => e.requestId === plain.body.id && e.action === "queue.list"));
  });
});
