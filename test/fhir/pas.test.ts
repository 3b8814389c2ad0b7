/**
 * PAS (SPEC 2.1, 2.4, 4): the pure mappings — request Bundle → case, request state → ClaimResponse —
 * and the operations' edges: idempotent retransmission, a date no policy version covers, drugs another
 * policy governs, answers that do not fit, ClaimResponse reads, Subscription validation and failing
 * endpoints, reviewer approval notified.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Bundle, MedicationRequest, QuestionnaireResponse } from "@medplum/fhirtypes";
import { FACTS_EXTENSION } from "../../src/server/fhir/dtr.js";
import {
  type ClaimContext,
  claimResponseBundle,
  parsePasRequest,
  type ResponseState,
} from "../../src/server/fhir/pas.js";
import { checkOperationOutcome, checkPasResponse, reviewCodes } from "./conformance.js";
import { dateOfService, PROVIDER_NPI, pasBundle } from "./fixtures.js";
import {
  call,
  library,
  listener,
  notifiedClaimResponse,
  startFhirServer,
  type TestServer,
} from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;
const today = new Date().toISOString().slice(0, 10);
const opts = { today, baseUrl: "http://payer.example" };
const Q = "http://medpolicy.example/Questionnaire/CP.MP.173-2025-11-II";

function qr(answers: Record<string, boolean>, questionnaire = Q, facts?: unknown): QuestionnaireResponse {
  return {
    resourceType: "QuestionnaireResponse",
    id: "qr1",
    questionnaire,
    status: "completed",
    ...(facts !== undefined && { extension: [{ url: FACTS_EXTENSION, valueString: JSON.stringify(facts) }] }),
    item: Object.entries(answers).map(([linkId, v]) => ({ linkId, answer: [{ valueBoolean: v }] })),
  };
}

describe("PAS request Bundle → case (SPEC 2.1)", () => {
  test("member, codes, date of service, answers and facts from an attached QuestionnaireResponse", () => {
    const b = pasBundle(
      "U1",
      ["62362", "99213"],
      qr({ "I.A.1": true, "I.B.4": false }, Q, { lifeExpectancyMonths: 14 }),
      "NC",
    );
    // NC's variant governs an NC member: a response to the corporate questionnaire is not used.
    const nc = parsePasRequest(b, library(), opts);
    assert.deepEqual(nc.caseInput?.answers, {});
    assert.match(
      nc.context.notes.join(),
      /answers CP\.MP\.173@2025-11, which does not govern this request \(NC\.CP\.MP\.173@2026-01\)/,
    );
    const tx = parsePasRequest(
      pasBundle(
        "U1",
        ["62362", "99213"],
        qr({ "I.A.1": true, "I.B.4": false }, Q, { lifeExpectancyMonths: 14 }),
      ),
      library(),
      opts,
    );
    assert.deepEqual(tx.caseInput, {
      id: "U1",
      // Issue 14: the member's name and postal address, and the requesting provider by NPI.
      member: {
        state: "TX",
        birthDate: "1961-03-02",
        name: "Test Example",
        address: { lines: ["1 Main St"], city: "Austin", state: "TX", postalCode: "78701" },
      },
      service: { codes: ["62362", "99213"], dateOfService: dateOfService() },
      answers: { "I.A.1": true, "I.B.4": false },
      facts: { lifeExpectancyMonths: 14 },
      providers: { requesting: { npi: PROVIDER_NPI, name: "Northside Pain Clinic" } },
    });
    assert.deepEqual(
      tx.context.items.map((i) => [i.sequence, i.code?.code]),
      [
        [1, "62362"],
        [2, "99213"],
      ],
    );
    assert.deepEqual(tx.context.providerIdentifiers, [PROVIDER_NPI]);
    assert.equal(tx.context.claimId, "claim-U1");
    // A retransmission has the same idempotency key; other content a different one.
    assert.equal(
      parsePasRequest(
        pasBundle(
          "U1",
          ["62362", "99213"],
          qr({ "I.A.1": true, "I.B.4": false }, Q, { lifeExpectancyMonths: 14 }),
        ),
        library(),
        opts,
      ).key,
      tx.key,
    );
    assert.notEqual(parsePasRequest(pasBundle("U1", ["62362"]), library(), opts).key, tx.key);
  });

  test("urgent level of service → expedited; a questionnaire not ours is noted and not used", () => {
    const b = pasBundle(
      "U2",
      ["62362"],
      qr({ "1.1": true }, "http://example.org/Questionnaire/home-o2"),
    ) as J;
    b.entry[0].resource.extension = [
      {
        url: "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-levelOfServiceCode",
        valueCodeableConcept: { coding: [{ system: "https://codesystem.x12.org/005010/1338", code: "U" }] },
      },
    ];
    const p = parsePasRequest(b, library(), opts);
    assert.equal(p.caseInput?.service.expedited, true);
    assert.deepEqual(p.caseInput?.answers, {});
    assert.match(p.context.notes.join(), /not for a medpolicy Questionnaire/);
  });

  test("no state with a governed code → problem 15; nothing governed → no case; malformed → 400", () => {
    const b = pasBundle("U3", ["62362"]) as J;
    delete b.entry[1].resource.address;
    const p = parsePasRequest(b, library(), opts);
    assert.equal(p.problem?.code, "15");
    assert.equal(p.caseInput, undefined);
    assert.equal(parsePasRequest(pasBundle("U4", ["99213"]), library(), opts).caseInput, undefined);
    const bad: [unknown, RegExp][] = [
      [{ resourceType: "Claim" }, /PAS request Bundle/],
      [
        { resourceType: "Bundle", type: "collection", entry: [{ resource: { resourceType: "Patient" } }] },
        /first entry .* must be the Claim/,
      ],
      [
        (() => {
          const x = pasBundle("U5", ["62362"]) as J;
          x.entry[0].resource.use = "claim";
          return x;
        })(),
        /Claim\.use is claim/,
      ],
      [
        (() => {
          const x = pasBundle("U6", ["62362"]) as J;
          delete x.entry[0].resource.patient;
          return x;
        })(),
        /Claim\.patient/,
      ],
      [
        (() => {
          const x = pasBundle("U7", ["62362"]) as J;
          x.entry[0].resource.item = "x";
          return x;
        })(),
        /resource\.item: must be an array/,
      ],
    ];
    for (const [body, message] of bad) {
      assert.throws(
        () => parsePasRequest(body, library(), opts),
        (e: Error & { status?: number }) => e.status === 400 && message.test(e.message),
      );
    }
  });
});

describe("request state → ClaimResponse (SPEC 2.4)", () => {
  const ctx: ClaimContext = parsePasRequest(pasBundle("S1", ["62362", "62369"]), library(), opts).context;
  const base = {
    requestId: "req-1",
    receivedAt: "2026-01-01T00:00:00Z",
    dueAt: "2026-01-08T00:00:00Z",
    needed: [],
  };
  const line = (outcome: string, extra: object = {}) => ({
    code: "62362",
    outcome,
    policy: { id: "CP.MP.173", version: "2025-11", hash: "h", title: "t", section: "II" },
    basis: "b",
    reasons: [],
    needed: [],
    ...extra,
  });
  const coding = {
    code: "62369",
    outcome: "not-applicable",
    policy: line("x").policy,
    basis: "62369 is listed for coding only",
    reasons: [],
    needed: [],
  };
  const build = (st: Partial<ResponseState>) =>
    claimResponseBundle(
      ctx,
      { ...base, status: "awaiting-review", lines: [], ...st } as ResponseState,
      "2026-01-02T00:00:00Z",
    );

  test("pended for open questions: A4 with the documentation needed; coding-only line NA", () => {
    const needed = [{ criterion: "I.B.1", text: "Known allergies to materials in the implant;" }];
    const b = build({
      lines: [line("pended", { needed }), coding] as never,
      engineOutcome: "pended",
      needed,
    });
    assert.deepEqual(checkPasResponse(b, [1, 2]), []);
    const cr = b.entry![0]!.resource as J;
    assert.deepEqual(reviewCodes(cr.item[0]), ["A4"]);
    assert.deepEqual(reviewCodes(cr.item[1]), ["NA"]);
    const notes = cr.processNote.map((n: J) => n.text).join("\n");
    assert.match(notes, /Documentation needed — I\.B\.1: Known allergies/);
    assert.match(notes, /due by 2026-01-08/);
  });

  test("an engine denial awaiting signature: A4, and its reasons are not shown", () => {
    const reasons = [{ criterion: "I.B.4", text: "Active systemic infection;", status: "present" }];
    const b = build({ lines: [line("denied", { reasons }), coding] as never, engineOutcome: "denied" });
    const cr = b.entry![0]!.resource as J;
    assert.deepEqual(reviewCodes(cr.item[0]), ["A4"]);
    assert.ok(!JSON.stringify(cr).includes("systemic infection"));
    assert.equal(cr.preAuthRef, undefined);
  });

  test("a signed denial: A3, reason codings and notes citing each criterion, human-reviewed flag", () => {
    const decision = {
      outcome: "denied" as const,
      reason: "Contraindicated.",
      criteria: [{ criterion: "I.B.4", text: "Active systemic infection;", status: "present" }],
      signedBy: { sub: "rn", name: "Casey Chen, RN", role: "reviewer" },
      signedAt: "2026-01-03T00:00:00Z",
      automatic: false,
      determinationSeq: 1,
    };
    const b = build({
      status: "decided",
      decision,
      decidedAt: decision.signedAt,
      lines: [line("denied"), coding] as never,
    });
    assert.deepEqual(checkPasResponse(b, [1, 2]), []);
    const cr = b.entry![0]!.resource as J;
    assert.deepEqual(reviewCodes(cr.item[0]), ["A3"]);
    assert.deepEqual(reviewCodes(cr.item[1]), ["NA"]);
    assert.deepEqual(cr.item[0].adjudication[0].reason.coding[0], {
      system: "http://medpolicy.example/fhir/CodeSystem/CP.MP.173",
      version: "2025-11",
      code: "I.B.4",
      display: "Active systemic infection;",
    });
    assert.match(
      cr.processNote.map((n: J) => n.text).join("\n"),
      /Criterion I\.B\.4 \(present\): Active systemic infection/,
    );
    assert.equal(cr.extension[0].extension[0].valueBoolean, true);
    assert.equal(cr.disposition, "Not certified.");
  });

  test("approved: A1 with preAuthRef, the auth number on the review action, and the period", () => {
    const decision = {
      outcome: "approved" as const,
      reason: "Every criterion is met.",
      criteria: [],
      signedBy: { sub: "medpolicy", name: "automatic", role: "engine" },
      signedAt: "2026-01-02T00:00:00Z",
      automatic: true,
      determinationSeq: 1,
    };
    const b = build({ status: "approved", decision, lines: [line("approved"), coding] as never });
    const cr = b.entry![0]!.resource as J;
    assert.deepEqual(reviewCodes(cr.item[0]), ["A1"]);
    assert.equal(cr.preAuthRef, "req-1");
    assert.equal(cr.preAuthPeriod.start, dateOfService());
    assert.equal(
      cr.item[0].extension.find((e: J) => e.url.endsWith("itemPreAuthPeriod")).valuePeriod.start,
      dateOfService(),
    );
    assert.equal(cr.extension, undefined, "not human reviewed");
  });

  test("an error (cannot be decided as sent): outcome error with the X12 reject reason", () => {
    const b = build({
      status: "error",
      problem: { code: "15", text: "state needed", expression: "Patient.address.state" },
    });
    assert.deepEqual(checkPasResponse(b), []);
    const cr = b.entry![0]!.resource as J;
    assert.equal(cr.outcome, "error");
    assert.equal(cr.error[0].code.coding[0].code, "15");
    assert.equal(cr.item, undefined);
  });
});

describe("PAS operations", () => {
  let s: TestServer;
  before(async () => {
    s = await startFhirServer();
  });
  after(() => s.close());
  const submit = (body: unknown, token = s.tokens.provider) =>
    call(s.url, "POST", "/fhir/Claim/$submit", { token, body });

  test("a retransmission is the same request; providers only; the ClaimResponse reads back for its org", async () => {
    const b = pasBundle("P1", ["62362"]);
    const a = await submit(b);
    const again = await submit(b);
    assert.equal(a.status, 200, a.text);
    const id = a.body.entry[0].resource.id;
    assert.equal(again.body.entry[0].resource.id, id);
    // A percent-encoded operation name is the same operation.
    const encoded = await call(s.url, "POST", "/fhir/Claim/%24submit", { token: s.tokens.provider, body: b });
    assert.equal(encoded.status, 200, encoded.text);
    assert.equal(encoded.body.entry[0].resource.id, id);
    const noOp = await call(s.url, "POST", "/fhir/Claim/%24nothing", { token: s.tokens.provider, body: b });
    assert.equal(noOp.status, 404);
    assert.equal((await submit(b, s.tokens.reviewer)).status, 403);
    const read = await call(s.url, "GET", `/fhir/ClaimResponse/${id}`, { token: s.tokens.provider });
    assert.equal(read.status, 200);
    assert.equal(read.body.resourceType, "ClaimResponse");
    const other = await call(s.url, "GET", `/fhir/ClaimResponse/${id}`, { token: s.tokens.otherProvider });
    assert.equal(other.status, 404);
    assert.deepEqual(checkOperationOutcome(other.body), []);
  });

  test("a date of service before any policy version → error ClaimResponse; a wrong answer id → 400", async () => {
    const b = pasBundle("P2", ["62362"]) as J;
    b.entry[0].resource.item[0].servicedDate = "2010-01-01";
    const r = await submit(b);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkPasResponse(r.body), []);
    assert.equal(r.body.entry[0].resource.outcome, "error");
    assert.match(r.body.entry[0].resource.error[0].code.text, /effective on 2010-01-01/);
    const wrong = await submit(pasBundle("P3", ["62362"], qr({ "II.Z.9": true })));
    assert.equal(wrong.status, 400, wrong.text);
    assert.deepEqual(checkOperationOutcome(wrong.body), []);
    assert.match(wrong.body.issue[0].details.text, /II\.Z\.9/);
  });

  test("a baclofen pump refill is governed by another policy: NA naming it", async () => {
    const b = pasBundle("P4", ["62362"]) as J;
    const mr: MedicationRequest = {
      resourceType: "MedicationRequest",
      id: "mr1",
      status: "active",
      intent: "order",
      medicationCodeableConcept: { text: "Baclofen intrathecal" },
      subject: { reference: "Patient/pat1" },
    };
    b.entry.push({ fullUrl: "http://ehr.example/fhir/MedicationRequest/mr1", resource: mr });
    b.entry[0].resource.item[0].extension = [
      {
        url: "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-requestedService",
        valueReference: { reference: "MedicationRequest/mr1" },
      },
    ];
    const r = await submit(b);
    assert.equal(r.status, 200, r.text);
    const cr = r.body.entry[0].resource;
    assert.deepEqual(reviewCodes(cr.item[0]), ["NA"]);
    assert.match(cr.processNote.map((n: J) => n.text).join(), /CP\.PHAR\.149/);
  });

  test("Subscriptions: validated; a reviewer's approval is notified; an endpoint that fails turns the subscription to error", async () => {
    const sub = (endpoint: string, extra: object = {}) => ({
      resourceType: "Subscription",
      status: "requested",
      reason: "test",
      criteria: "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic",
      channel: { type: "rest-hook", endpoint, payload: "application/fhir+json" },
      ...extra,
    });
    const bad: [unknown, RegExp][] = [
      [{ ...sub("http://127.0.0.1:1/x"), criteria: "Claim?status=active" }, /PAS topic/],
      [sub("ftp://127.0.0.1/x"), /http or https/],
      [sub("not a url"), /absolute http\(s\) URL|endpoint: is not a valid url/],
      [
        { ...sub("http://127.0.0.1:1/x"), channel: { type: "websocket", endpoint: "http://127.0.0.1:1/x" } },
        /rest-hook/,
      ],
    ];
    for (const [body, message] of bad) {
      const r = await call(s.url, "POST", "/fhir/Subscription", { token: s.tokens.provider, body });
      assert.equal(r.status, 400, r.text);
      assert.match(r.body.issue[0].details.text, message);
    }

    const hook = await listener();
    try {
      const good = await call(s.url, "POST", "/fhir/Subscription", {
        token: s.tokens.provider,
        body: sub(hook.url),
      });
      assert.equal(good.status, 201, good.text);
      // Nothing listens on port 1: delivery fails and the subscription reports it.
      const dead = await call(s.url, "POST", "/fhir/Subscription", {
        token: s.tokens.provider,
        body: sub("http://127.0.0.1:1/none"),
      });
      assert.equal(dead.status, 201);

      // A pended request (open questions) that a medical director approves.
      const pended = await submit(pasBundle("P5", ["62322"]));
      const cr = pended.body.entry[0].resource;
      assert.deepEqual(reviewCodes(cr.item[0]), ["A4"]);
      const requestId = cr.identifier.find((i: J) => i.system.endsWith("/request")).value;
      const signed = await call(s.url, "POST", `/api/requests/${requestId}/decision`, {
        token: s.tokens.medicalDirector,
        headers: { "content-type": "application/json" },
        body: { outcome: "approved", reason: "Documentation reviewed by phone: every criterion met." },
      });
      assert.equal(signed.status, 200, signed.text);
      const note = await hook.next();
      // Issue 13: id-only; the subscriber reads the ClaimResponse it is pointed to.
      const approved = await notifiedClaimResponse(s.url, note, s.tokens.provider);
      assert.deepEqual(reviewCodes(approved.item[0]), ["A1"]);
      assert.equal(approved.preAuthRef, requestId);
      assert.match(approved.processNote[0].text, /Certified by Dana Diaz, MD/);
      assert.equal(
        note.body.entry[0].resource.parameter.find((p: J) => p.name === "events-since-subscription-start")
          .valueString,
        "1",
      );

      await s.server.app.inject({ method: "GET", url: "/api/health" });
      let status = "";
      for (let i = 0; i < 50 && status !== "error"; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (
          await call(s.url, "GET", `/fhir/Subscription/${dead.body.id}`, { token: s.tokens.provider })
        ).body.status;
      }
      assert.equal(status, "error");
      const gone = await call(s.url, "DELETE", `/fhir/Subscription/${dead.body.id}`, {
        token: s.tokens.provider,
      });
      assert.equal(gone.status, 204);
      assert.equal(
        (await call(s.url, "GET", `/fhir/Subscription/${dead.body.id}`, { token: s.tokens.provider })).status,
        404,
      );
    } finally {
      await hook.close();
    }
  });

  test("response bundle references resolve to the resources copied from the request", async () => {
    const r = await submit(pasBundle("P6", ["62362"]));
    const b = r.body as Bundle;
    const urls = b.entry!.map((e) => e.fullUrl);
    assert.ok(urls.includes("http://ehr.example/fhir/Patient/pat1"));
    assert.ok(urls.includes("http://ehr.example/fhir/Organization/prov1"));
    assert.ok(urls.includes("http://ehr.example/fhir/Organization/ins1"));
  });
});
