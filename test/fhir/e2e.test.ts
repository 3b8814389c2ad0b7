/**
 * Issue 5 acceptance, as an EHR would use the service: CRD `order-sign` for 62362 says prior
 * authorization is needed and links the section's Questionnaire → DTR `$questionnaire-package` (pre-
 * populated from the record) → adaptive `$next-question`, asking only what the engine still needs →
 * PAS `Claim/$submit` → certified (A1) with a preAuthRef. And the adverse path: the answers fail a
 * criterion → submitted, pended (A4, SPEC 2.4) → a reviewer signs the denial through the JSON API →
 * the subscriber is notified with the ClaimResponse (A3) citing the failed criterion.
 *
 * Issue 16: `$inquire` answers in the PAS 2.2.1 form (Parameters of `return` Bundles); the
 * subscription is `requested` until its R4 backport handshake reaches the endpoint, then `active`;
 * the signed denial carries the X12 886 reason code naming the failed criterion.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { QuestionnaireResponse } from "@medplum/fhirtypes";
import { inquiryBundles } from "../../src/server/fhir/pas-inquire.js";
import {
  COVERAGE_INFORMATION,
  checkHookResponse,
  checkPackage,
  checkPasResponse,
  reviewCodes,
} from "./conformance.js";
import {
  coverage,
  dateOfService,
  hookRequest,
  order,
  PROVIDER_NPI,
  pasBundle,
  patient,
  patientData,
} from "./fixtures.js";
import { call, listener, notifiedClaimResponse, startFhirServer, type TestServer } from "./helpers.js";

const QUESTIONNAIRE = "/Questionnaire/CP.MP.173-2025-11-II";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;

describe("EHR journey: CRD → DTR → PAS", () => {
  let s: TestServer;
  before(async () => {
    s = await startFhirServer();
  });
  after(() => s.close());

  /** The member's case as the JSON API takes it, to check each asked question against `needed`. */
  const caseWith = (answers: Record<string, boolean>, facts: Record<string, unknown>) => ({
    member: { state: "TX", birthDate: "1961-03-02" },
    service: { codes: ["62362"], dateOfService: dateOfService() },
    answers,
    facts,
  });

  async function crdQuestionnaire(): Promise<string> {
    const r = await call(s.url, "POST", "/cds-services/order-sign-crd", {
      token: s.tokens.provider,
      body: hookRequest("order-sign", [order()]),
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
    // Coverage information is never a card (checkHookResponse); a card may offer the DTR launch (issue 16).
    for (const c of r.body.cards) assert.ok(!JSON.stringify(c).includes(COVERAGE_INFORMATION));
    const ext = r.body.systemActions[0].resource.extension.find((e: J) => e.url === COVERAGE_INFORMATION);
    const v = (url: string) => ext.extension.find((e: J) => e.url === url);
    assert.equal(v("covered").valueCode, "covered");
    assert.equal(v("pa-needed").valueCode, "auth-needed");
    assert.equal(v("doc-needed").valueCode, "clinical");
    // The section's Questionnaire, at this server's FHIR base (issue 16: a canonical that resolves).
    assert.ok(
      String(v("questionnaire").valueCanonical).endsWith(QUESTIONNAIRE),
      v("questionnaire").valueCanonical,
    );
    return v("questionnaire").valueCanonical;
  }

  async function packageResponse(canonical: string): Promise<QuestionnaireResponse> {
    const r = await call(s.url, "POST", "/fhir/Questionnaire/$questionnaire-package", {
      token: s.tokens.provider,
      body: {
        resourceType: "Parameters",
        parameter: [
          { name: "coverage", resource: coverage },
          { name: "order", resource: order() },
          { name: "questionnaire", valueCanonical: canonical },
          { name: "patient", resource: patient() },
          { name: "patientData", resource: patientData },
        ],
      },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkPackage(r.body), []);
    const bundle = r.body.parameter.find((p: J) => p.name === "PackageBundle").resource;
    const q = bundle.entry.find((e: J) => e.resource.resourceType === "Questionnaire").resource;
    assert.equal(q.url, canonical);
    const qr = bundle.entry.find((e: J) => e.resource.resourceType === "QuestionnaireResponse").resource;
    // Pre-populated from the record: the cancer diagnosis answers "pain of malignant origin".
    assert.equal(qr.item.find((i: J) => i.linkId === "I.A.1")?.answer[0].valueBoolean, true);
    return qr;
  }

  /**
   * Answers `$next-question` until the form completes; `answer(linkId)` decides each answer. Checks
   * that every question asked was the engine's most decisive needed question at that point.
   */
  async function adaptive(qr0: QuestionnaireResponse, answer: (linkId: string) => boolean) {
    let qr: J = qr0;
    const asked: string[] = [];
    const facts = JSON.parse(qr0.extension!.find((e) => e.url.endsWith("/facts"))!.valueString!);
    for (let round = 0; round < 60; round++) {
      const r = await call(s.url, "POST", "/fhir/Questionnaire/$next-question", {
        token: s.tokens.provider,
        body: qr,
      });
      assert.equal(r.status, 200, r.text);
      qr = r.body;
      if (qr.status === "completed") return { qr, asked };
      const contained = qr.contained.find((c: J) => c.id === "adaptive");
      const answered = new Set((qr.item ?? []).map((i: J) => i.linkId));
      const open = contained.item.filter((i: J) => !answered.has(i.linkId));
      assert.equal(open.length, 1, "one question at a time");
      const linkId = open[0].linkId as string;
      // The engine (through the JSON API) agrees this is the most decisive open question.
      const answers = Object.fromEntries((qr.item ?? []).map((i: J) => [i.linkId, i.answer[0].valueBoolean]));
      const ev = await call(s.url, "POST", "/api/evaluate", {
        token: s.tokens.provider,
        body: caseWith(answers, facts),
      });
      assert.equal(ev.status, 200, ev.text);
      assert.equal(
        ev.body.needed[0]?.criterion,
        linkId,
        `asked ${linkId}, engine needs ${JSON.stringify(ev.body.needed)}`,
      );
      asked.push(linkId);
      qr.item = [...(qr.item ?? []), { linkId, answer: [{ valueBoolean: answer(linkId) }] }];
    }
    assert.fail("the adaptive form did not complete");
  }

  test("order-sign → questionnaire → decisive questions only → submit → A1 with a preAuthRef", async () => {
    const canonical = await crdQuestionnaire();
    const qr0 = await packageResponse(canonical);
    const favourable = (id: string) => !/^I+\.B\./.test(id); // contraindications absent, everything else met
    const { qr, asked } = await adaptive(qr0, favourable);
    assert.equal(qr.status, "completed");
    assert.ok(asked.length > 0);
    // Only what can change the outcome: the malignant path is established by the record, so no
    // question of the nonmalignant indications, and life expectancy is decided by the fact (14 months).
    assert.ok(!asked.some((id) => /^I\.A\.2|^II\.A\.2\./.test(id)), `asked ${asked}`);
    assert.ok(!asked.includes("I.A.1.b"), "life expectancy comes from the observation");
    assert.ok(!asked.includes("I.A.1"), "pre-populated");
    assert.ok(!asked.includes("II.A.1.a.note"), "the note is not needed once the trial criterion is met");
    assert.equal(new Set(asked).size, asked.length, "no question asked twice");
    const outcome = qr.extension.find((e: J) => e.url.endsWith("/documentation-outcome"));
    assert.equal(outcome.valueCodeableConcept.coding[0].code, "criteria-met");

    qr.id = "qr-approved";
    const bundle = pasBundle("E2E-APPROVED", ["62362"], qr);
    const r = await call(s.url, "POST", "/fhir/Claim/$submit", { token: s.tokens.provider, body: bundle });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkPasResponse(r.body, [1]), []);
    const cr = r.body.entry[0].resource;
    assert.deepEqual(reviewCodes(cr.item[0]), ["A1"]);
    assert.ok(cr.preAuthRef, "an approval carries the authorization number");
    assert.equal(cr.preAuthPeriod.start, dateOfService());
    const number = cr.item[0].adjudication[0].extension[0].extension.find(
      (e: J) => e.url === "number",
    ).valueString;
    assert.equal(number, cr.preAuthRef);

    // Claim/$inquire answers the same state, in the PAS 2.2.1 form: Parameters, one `return` Bundle.
    const inq = await call(s.url, "POST", "/fhir/Claim/$inquire", { token: s.tokens.provider, body: bundle });
    assert.equal(inq.status, 200, inq.text);
    assert.equal(inq.body.resourceType, "Parameters");
    assert.deepEqual(
      inq.body.parameter.map((p: J) => [p.name, p.resource.resourceType]),
      [["return", "Bundle"]],
    );
    assert.deepEqual(checkPasResponse(inquiryBundles(inq.body)[0], [1]), []);
    assert.deepEqual(reviewCodes((inquiryBundles(inq.body)[0]!.entry![0]!.resource as J).item[0]), ["A1"]);
  });

  test("a failed criterion: pended (A4) → reviewer signs a denial → subscriber gets A3 citing it", async () => {
    const hook = await listener();
    try {
      const sub = await call(s.url, "POST", "/fhir/Subscription", {
        token: s.tokens.provider,
        body: {
          resourceType: "Subscription",
          status: "requested",
          reason: "PAS decisions for Northside",
          criteria: "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic",
          _criteria: {
            extension: [
              {
                url: "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria",
                valueString: `orgIdentifier=${PROVIDER_NPI}`,
              },
            ],
          },
          channel: {
            type: "rest-hook",
            endpoint: hook.url,
            payload: "application/fhir+json",
            header: ["Authorization: Bearer subscriber-secret"],
          },
        },
      });
      assert.equal(sub.status, 201, sub.text);
      // R4 Subscriptions Backport: requested until the handshake reaches the endpoint.
      assert.equal(sub.body.status, "requested");
      const handshake = await hook.next();
      assert.equal(handshake.headers.authorization, "Bearer subscriber-secret");
      assert.equal(handshake.body.type, "history");
      assert.equal(handshake.body.entry.length, 1);
      const hs = handshake.body.entry[0].resource;
      assert.equal(hs.parameter.find((p: J) => p.name === "type").valueCode, "handshake");
      assert.equal(
        hs.parameter.find((p: J) => p.name === "events-since-subscription-start").valueString,
        "0",
      );
      let subStatus = "";
      for (let i = 0; i < 50 && subStatus !== "active"; i++) {
        subStatus = (
          await call(s.url, "GET", `/fhir/Subscription/${sub.body.id}`, { token: s.tokens.provider })
        ).body.status;
        if (subStatus !== "active") await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(subStatus, "active", "the handshake was answered: active");

      const qr0 = await packageResponse(await crdQuestionnaire());
      // An active systemic infection is present (a contraindication); everything else favourable.
      const { qr, asked } = await adaptive(qr0, (id) => id === "I.B.4" || !/^I+\.B\./.test(id));
      assert.ok(asked.includes("I.B.4"));
      const outcome = qr.extension.find((e: J) => e.url.endsWith("/documentation-outcome"));
      assert.equal(
        outcome.valueCodeableConcept.coding[0].code,
        "review-required",
        "never a final denial to the provider",
      );

      qr.id = "qr-denied";
      const r = await call(s.url, "POST", "/fhir/Claim/$submit", {
        token: s.tokens.provider,
        body: pasBundle("E2E-DENIED", ["62362"], qr),
      });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(checkPasResponse(r.body, [1]), []);
      const pended = r.body.entry[0].resource;
      assert.deepEqual(
        reviewCodes(pended.item[0]),
        ["A4"],
        "an adverse recommendation stays pended until signed",
      );
      assert.equal(pended.preAuthRef, undefined);
      assert.ok(
        !JSON.stringify(pended).includes("Active systemic infection"),
        "the unsigned reason is not shown",
      );
      const requestId = pended.identifier.find((i: J) => i.system.endsWith("/NamingSystem/request")).value;

      // The reviewer queue sees it; the reviewer signs a denial citing the engine's reasons.
      const queue = await call(s.url, "GET", "/api/queue", { token: s.tokens.reviewer });
      assert.ok(queue.body.some((q: J) => q.id === requestId));
      const view = await call(s.url, "GET", `/api/requests/${requestId}`, { token: s.tokens.reviewer });
      const reasons = view.body.review.determinations.at(-1).determination.reasons as {
        criterion: string;
        text: string;
      }[];
      assert.ok(reasons.length > 0);
      const signed = await call(s.url, "POST", `/api/requests/${requestId}/decision`, {
        // Issue 14: a medical-necessity denial is a medical director's.
        token: s.tokens.medicalDirector,
        headers: { "content-type": "application/json" },
        body: {
          outcome: "denied",
          reason: "Active systemic infection contraindicates implantation.",
          criteria: reasons.map((x) => x.criterion),
        },
      });
      assert.equal(signed.status, 200, signed.text);

      const note = await hook.next();
      assert.equal(note.headers.authorization, "Bearer subscriber-secret");
      assert.match(String(note.headers["content-type"]), /application\/fhir\+json/);
      assert.equal(note.body.resourceType, "Bundle");
      assert.equal(note.body.type, "history");
      const status = note.body.entry[0].resource;
      assert.equal(status.resourceType, "Parameters");
      assert.equal(status.parameter.find((p: J) => p.name === "type").valueCode, "event-notification");
      // Issue 13: id-only — no patient in the notification; the subscriber reads the ClaimResponse.
      assert.ok(!JSON.stringify(note.body).includes("Patient"), "no patient in the notification");
      const cr = await notifiedClaimResponse(s.url, note, s.tokens.provider);
      assert.equal(cr.id, requestId);
      assert.deepEqual(reviewCodes(cr.item[0]), ["A3"]);
      const notes = cr.processNote.map((n: J) => n.text).join("\n");
      for (const r0 of reasons) {
        assert.ok(notes.includes(r0.criterion), `the note cites ${r0.criterion}`);
        assert.ok(notes.includes(r0.text.replace(/[;.]$/, "")), "and its text");
      }
      assert.match(notes, /Active systemic infection/);
      const reason = cr.item[0].adjudication[0].reason;
      assert.equal(reason.coding[0].code, reasons[0]!.criterion);
      assert.equal(reason.coding[0].system, "http://medpolicy.example/fhir/CodeSystem/CP.MP.173");
      assert.equal(cr.extension[0].extension[0].valueBoolean, true, "human reviewed");
      // Issue 16 (CMS-0057-F): the coded X12 886 reason, its text naming the failed criteria.
      const reasonCode = cr.item[0].adjudication[0].extension[0].extension.find(
        (e: J) => e.url === "reasonCode",
      ).valueCodeableConcept;
      assert.deepEqual(reasonCode.coding, [
        { system: "https://codesystem.x12.org/external/886", code: "0F", display: "Not Medically Necessary" },
      ]);
      for (const r0 of reasons) assert.ok(reasonCode.text.includes(r0.criterion), reasonCode.text);

      // $inquire now answers the signed decision too.
      const inq = await call(s.url, "POST", "/fhir/Claim/$inquire", {
        token: s.tokens.provider,
        body: pasBundle("E2E-DENIED", ["62362"]),
      });
      assert.equal(inq.status, 200, inq.text);
      const [answered] = inquiryBundles(inq.body);
      assert.equal(inq.body.resourceType, "Parameters");
      assert.deepEqual(reviewCodes((answered!.entry![0]!.resource as J).item[0]), ["A3"]);
    } finally {
      await hook.close();
    }
  });
});
