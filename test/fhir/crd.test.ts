/**
 * CRD (CDS Hooks 2.0, SPEC 4): discovery; coverage information as systemActions in the 2.2 form and,
 * when asked, the 2.0.1 form; decisions from the policy bindings (SPEC 1.5, 2.2); the four hooks;
 * malformed requests → 400 OperationOutcome.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Appointment, DeviceRequest } from "@medplum/fhirtypes";
import {
  COVERAGE_INFORMATION,
  checkCoverageInformation,
  checkHookResponse,
  checkOperationOutcome,
} from "./conformance.js";
import { CPT, coverage, dateOfService, hookRequest, order, patient } from "./fixtures.js";
import { call, startFhirServer, type TestServer } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;

/** The coverage-information slices of the n-th system action, as url → value. */
function info(body: J, n = 0): Record<string, string | undefined> {
  const ext = body.systemActions[n].resource.extension.find((e: J) => e.url === COVERAGE_INFORMATION);
  const out: Record<string, string> = {};
  for (const e of ext.extension) {
    out[e.url] =
      e.valueCode ??
      e.valueCanonical ??
      e.valueCoding?.code ??
      e.valueCodeableConcept?.text ??
      e.valueDate ??
      e.valueString ??
      "ref";
  }
  return out;
}

describe("CRD", () => {
  let s: TestServer;
  before(async () => {
    s = await startFhirServer();
  });
  after(() => s.close());
  const hook = (service: string, body: unknown, query = "", headers: Record<string, string> = {}) =>
    call(s.url, "POST", `/cds-services/${service}${query}`, { token: s.tokens.provider, body, headers });

  test("discovery (public): the four hooks with prefetch and the CRD version extension", async () => {
    const r = await call(s.url, "GET", "/cds-services");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.services.map((x: J) => x.hook).sort(), [
      "appointment-book",
      "order-dispatch",
      "order-select",
      "order-sign",
    ]);
    for (const svc of r.body.services) {
      assert.equal(svc.prefetch.patient, "Patient/{{context.patientId}}");
      assert.ok(svc.prefetch.coverage);
      assert.deepEqual(svc.extension["davinci-crd.version"], ["2.0", "2.2"]);
    }
  });

  test("order-sign 62362: covered, auth needed, clinical documentation with the section II questionnaire", async () => {
    const r = await hook("order-sign-crd", hookRequest("order-sign", [order()]));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
    assert.deepEqual(r.body.cards, []);
    const a = r.body.systemActions[0];
    assert.equal(a.type, "update");
    assert.equal(a.resource.resourceType, "ServiceRequest");
    assert.equal(a.resource.id, "sr1");
    assert.deepEqual(a.resource.code, order().code, "the order is returned whole, with the extension added");
    const i = info(r.body);
    assert.equal(i.covered, "covered");
    assert.equal(i["pa-needed"], "auth-needed");
    assert.equal(i["doc-needed"], "clinical");
    assert.equal(i["doc-purpose"], "withpa");
    assert.equal(i.questionnaire, "http://medpolicy.example/Questionnaire/CP.MP.173-2025-11-II");
    assert.equal(i.billingCode, "62362");
    assert.equal(i.date, new Date().toISOString().slice(0, 10));
    assert.ok(i["coverage-assertion-id"]);
  });

  test("the 2.0.1 form on request: ?crd=2.0.1, X-CRD-Version, or extension davinci-crd.requestedVersion", async () => {
    const asks = [
      () => hook("order-sign-crd", hookRequest("order-sign", [order("62369")]), "?crd=2.0.1"),
      () =>
        hook("order-sign-crd", hookRequest("order-sign", [order("62369")]), "", { "x-crd-version": "2.0.1" }),
      () =>
        hook(
          "order-sign-crd",
          hookRequest("order-sign", [order("62369")], {
            extension: { "davinci-crd.requestedVersion": "2.0.1" },
          }),
        ),
    ];
    for (const ask of asks) {
      const r = await ask();
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(checkHookResponse(r.body, "2.0.1"), []);
      // Coding only: no prior authorization; 2.0.1 states "no documentation" as no-doc.
      assert.equal(info(r.body)["pa-needed"], "no-auth");
      assert.equal(info(r.body)["doc-needed"], "no-doc");
    }
    const v22 = await hook("order-sign-crd", hookRequest("order-sign", [order("62369")]));
    assert.deepEqual(checkHookResponse(v22.body, "2.2"), []);
    assert.equal(info(v22.body)["doc-needed"], undefined, "2.2 has no no-doc code: the slice is absent");
    assert.match(info(v22.body).reason ?? "", /coding only/);
  });

  test("not covered: a does-not-support code, and LA's off-fee-schedule code for an adult (no pa-needed)", async () => {
    const sij = await hook("order-sign-crd", hookRequest("order-sign", [order("27278")]));
    assert.deepEqual(checkHookResponse(sij.body, "2.2"), []);
    assert.equal(info(sij.body).covered, "not-covered");
    assert.equal(info(sij.body)["pa-needed"], undefined);
    assert.match(info(sij.body).reason ?? "", /do not support coverage/);
    const la = await hook(
      "order-sign-crd",
      hookRequest("order-sign", [order("A4300")], {}, "LA"),
      "?crd=2.0.1",
    );
    assert.deepEqual(checkHookResponse(la.body, "2.0.1"), []);
    assert.equal(info(la.body).covered, "not-covered");
    assert.match(info(la.body).reason ?? "", /fee schedule/);
  });

  test("open SIJ fusion → section I's questionnaire; a code in no policy → no coverage information", async () => {
    const r = await hook(
      "order-sign-crd",
      hookRequest("order-sign", [order("27280", "a"), order("99213", "b")]),
    );
    assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
    assert.equal(r.body.systemActions.length, 1);
    assert.equal(r.body.systemActions[0].resource.id, "a");
    assert.equal(info(r.body).questionnaire, "http://medpolicy.example/Questionnaire/CP.MP.126-2025-04-I");
  });

  test("the member's state picks the variant: NC → NC.CP.MP.173's questionnaire", async () => {
    const r = await hook("order-sign-crd", hookRequest("order-sign", [order()], {}, "NC"));
    assert.equal(
      info(r.body).questionnaire,
      "http://medpolicy.example/Questionnaire/NC.CP.MP.173-2026-01-II",
    );
  });

  test("order-select answers only the selected orders; appointment-book and order-dispatch read their orders", async () => {
    const sel = hookRequest("order-select", [order("62362", "x"), order("62322", "y")]) as J;
    sel.context.selections = ["ServiceRequest/y"];
    const r1 = await hook("order-select-crd", sel);
    assert.deepEqual(checkHookResponse(r1.body, "2.2"), []);
    assert.deepEqual(
      r1.body.systemActions.map((a: J) => a.resource.id),
      ["y"],
    );
    assert.equal(info(r1.body).questionnaire, "http://medpolicy.example/Questionnaire/CP.MP.173-2025-11-I");

    const appt: Appointment = {
      resourceType: "Appointment",
      id: "ap1",
      status: "proposed",
      serviceType: [{ coding: [{ system: CPT, code: "27279" }] }],
      start: `${dateOfService()}T09:00:00Z`,
      participant: [{ actor: { reference: "Patient/pat1" }, status: "accepted" }],
    };
    const r2 = await hook("appointment-book-crd", hookRequest("appointment-book", [appt]));
    assert.deepEqual(checkHookResponse(r2.body, "2.2"), []);
    assert.equal(r2.body.systemActions[0].resource.resourceType, "Appointment");
    assert.equal(info(r2.body).questionnaire, "http://medpolicy.example/Questionnaire/CP.MP.126-2025-04-II");

    const device: DeviceRequest = {
      resourceType: "DeviceRequest",
      id: "dr1",
      status: "active",
      intent: "order",
      codeCodeableConcept: {
        coding: [{ system: "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", code: "E0783" }],
      },
      subject: { reference: "Patient/pat1" },
    };
    const dispatch = {
      hookInstance: crypto.randomUUID(),
      hook: "order-dispatch",
      context: { patientId: "pat1", dispatchedOrders: ["DeviceRequest/dr1"], performer: "Organization/dme1" },
      prefetch: {
        patient: patient(),
        coverage,
        deviceRequests: { resourceType: "Bundle", type: "searchset", entry: [{ resource: device }] },
      },
    };
    const r3 = await hook("order-dispatch-crd", dispatch);
    assert.equal(r3.status, 200, r3.text);
    assert.deepEqual(checkHookResponse(r3.body, "2.2"), []);
    assert.equal(r3.body.systemActions[0].resource.id, "dr1");
    assert.equal(info(r3.body)["pa-needed"], "auth-needed");
  });

  test("no coverage information when the client turns it off, or without a Coverage", async () => {
    const off = await hook(
      "order-sign-crd",
      hookRequest("order-sign", [order()], {
        extension: { "davinci-crd.configuration": { "coverage-info": false } },
      }),
    );
    assert.deepEqual(off.body, { cards: [], systemActions: [] });
    const req = hookRequest("order-sign", [order()]) as J;
    delete req.prefetch.coverage;
    const none = await hook("order-sign-crd", req);
    assert.deepEqual(none.body, { cards: [], systemActions: [] });
  });

  test("without the member's state the corporate policy answers, and says so", async () => {
    const req = hookRequest("order-sign", [order()]) as J;
    delete req.prefetch.patient.address;
    const r = await hook("order-sign-crd", req);
    assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
    assert.equal(info(r.body).questionnaire, "http://medpolicy.example/Questionnaire/CP.MP.173-2025-11-II");
    assert.match(info(r.body).reason ?? "", /state of residence unknown: CP\.MP\.173 applied/);
  });

  test("malformed requests → 400 OperationOutcome naming the problem; unknown service → 404; no token → 401", async () => {
    const noOrders = hookRequest("order-sign", [order()]) as J;
    delete noOrders.context.draftOrders;
    const cases: [unknown, RegExp][] = [
      [noOrders, /context\.draftOrders/],
      [{ ...hookRequest("order-sign", [order()]), hook: "order-select" }, /answers the order-sign hook/],
      [{ ...hookRequest("order-sign", [order()]), hookInstance: undefined }, /hookInstance/],
      [[1, 2], /JSON object/],
      ["text", /JSON object/],
    ];
    for (const [body, message] of cases) {
      const r = await hook("order-sign-crd", body);
      assert.equal(r.status, 400, r.text);
      assert.deepEqual(checkOperationOutcome(r.body), []);
      assert.match(r.body.issue[0].details.text, message);
    }
    const bad = await call(s.url, "POST", "/cds-services/order-sign-crd", {
      token: s.tokens.provider,
      raw: "{not json",
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(checkOperationOutcome(bad.body), []);
    const unknown = await hook("no-such-service", hookRequest("order-sign", [order()]));
    assert.equal(unknown.status, 404);
    assert.deepEqual(checkOperationOutcome(unknown.body), []);
    const anon = await call(s.url, "POST", "/cds-services/order-sign-crd", {
      body: hookRequest("order-sign", [order()]),
    });
    assert.equal(anon.status, 401);
    assert.deepEqual(checkOperationOutcome(anon.body), []);
  });

  test("the extension alone validates in both forms for every kind of assertion", async () => {
    const r = await hook(
      "order-sign-crd",
      hookRequest("order-sign", [order("62362", "a"), order("62369", "b"), order("27278", "c")]),
    );
    for (const a of r.body.systemActions) {
      const ext = a.resource.extension.find((e: J) => e.url === COVERAGE_INFORMATION);
      assert.deepEqual(checkCoverageInformation(ext, "2.2"), []);
    }
  });
});
