/**
 * CRD (CDS Hooks 2.0, SPEC 4): discovery; coverage information as systemActions in the 2.2 form and,
 * when asked, the 2.0.1 form; decisions from the policy bindings (SPEC 1.5, 2.2); the four hooks;
 * malformed requests → 400 OperationOutcome.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { Appointment, DeviceRequest, Resource } from "@medplum/fhirtypes";
import { questionnaireUrl } from "../../src/explain/questionnaire.js";
import { answerHook, CRD_TEMP, parseHookRequest } from "../../src/server/fhir/crd.js";
import {
  COVERAGE_INFORMATION,
  checkCoverageInformation,
  checkHookResponse,
  checkOperationOutcome,
} from "./conformance.js";
import { CPT, coverage, dateOfService, hookRequest, order, pasBundle, patient } from "./fixtures.js";
import { call, library, startFhirServer, type TestServer } from "./helpers.js";
import { formatIssues, igAvailable, validateFhir } from "./ig/validator.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;

/** Every coverage-information extension of the n-th system action. */
function infos(body: J, n = 0): J[] {
  return body.systemActions[n].resource.extension.filter((e: J) => e.url === COVERAGE_INFORMATION);
}

/** A loopback FHIR server (the EHR's), serving `resources` by read and Coverage search. */
async function ehrFhir(resources: Resource[], delayMs = 0) {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const srv = createServer((req, res) => {
    seen.push({ url: req.url ?? "", headers: req.headers });
    const path = (req.url ?? "").replace(/^\/fhir\//, "");
    const send = (status: number, body: unknown) =>
      setTimeout(
        () => res.writeHead(status, { "content-type": "application/fhir+json" }).end(JSON.stringify(body)),
        delayMs,
      );
    if (path.startsWith("Coverage?")) {
      const entry = resources.filter((r) => r.resourceType === "Coverage").map((resource) => ({ resource }));
      return send(200, { resourceType: "Bundle", type: "searchset", entry });
    }
    const hit = resources.find((r) => `${r.resourceType}/${r.id}` === path);
    return hit ? send(200, hit) : send(404, { resourceType: "OperationOutcome", issue: [] });
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}/fhir`,
    port,
    seen,
    close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  };
}

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
  /** The section Questionnaire's canonical as this server's DTR serves it (its public base URL). */
  const Q = (policy: string, version: string, section: string) =>
    questionnaireUrl(policy, version, section, s.url);
  const hook = (service: string, body: unknown, query = "", headers: Record<string, string> = {}) =>
    call(s.url, "POST", `/cds-services/${service}${query}`, { token: s.tokens.provider, body, headers });

  test("discovery (public): the six hooks (encounter-start/discharge too) with prefetch and the CRD version extension", async () => {
    const r = await call(s.url, "GET", "/cds-services");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.services.map((x: J) => x.hook).sort(), [
      "appointment-book",
      "encounter-discharge",
      "encounter-start",
      "order-dispatch",
      "order-select",
      "order-sign",
    ]);
    // The CRD IG's own discovery document (CRDServices.json): every prefetch key we declare that it
    // declares too is written as it writes it — a client evaluates these templates (context.appointments
    // is a Bundle, context.dispatchedOrders a list of references).
    const ig = JSON.parse(
      readFileSync(new URL("../../../shared/fhir/crd/CRDServices.json", import.meta.url), "utf8"),
    );
    for (const svc of r.body.services) {
      assert.equal(svc.prefetch.patient, "Patient/{{context.patientId}}");
      assert.ok(svc.prefetch.coverage);
      assert.deepEqual(svc.extension["davinci-crd.version"], ["2.0", "2.2"]);
      const theirs = ig.services.find((x: J) => x.hook === svc.hook)?.prefetch ?? {};
      for (const [k, v] of Object.entries(svc.prefetch))
        if (k in theirs && /_id=\{\{context\./.test(String(v)))
          assert.equal(v, theirs[k], `${svc.hook} prefetch ${k}`);
    }
  });

  test("order-sign 62362: covered, auth needed, clinical documentation with the section II questionnaire", async () => {
    const r = await hook("order-sign-crd", hookRequest("order-sign", [order()]));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
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
    assert.equal(i.questionnaire, Q("CP.MP.173", "2025-11", "II"));
    assert.equal(i.billingCode, "62362");
    assert.equal(i.date, new Date().toISOString().slice(0, 10));
    assert.ok(i["coverage-assertion-id"]);
    // crd-ci-q8: doc-purpose withpa needs a reason — coded (CRD temp) and with text (crd-ci-q7).
    const reason = infos(r.body)[0].extension.find((e: J) => e.url === "reason").valueCodeableConcept;
    assert.deepEqual(reason.coding, [
      { system: CRD_TEMP, code: "reason-prior-auth", display: "Prior authorization" },
    ]);
    assert.match(
      reason.text,
      /^Prior authorization with clinical documentation is required by CP\.MP\.173 section II/,
    );
    // CRD "Launch SMART application": a DTR card whose appContext names the form and the assertion.
    assert.equal(r.body.cards.length, 1);
    const card = r.body.cards[0];
    assert.equal(card.indicator, "info");
    assert.deepEqual(card.source.topic, {
      system: "http://terminology.hl7.org/CodeSystem/cdshooks-card-type",
      code: "coverage-info",
      display: "Coverage Information",
    });
    // CRD 2.2 launchSMART: a labelled suggestion (no actions) with selectionBehavior beside the link.
    assert.equal(card.suggestions.length, 1);
    assert.equal(card.suggestions[0].actions, undefined);
    assert.equal(card.selectionBehavior, "any");
    const old = await hook("order-sign-crd", hookRequest("order-sign", [order()]), "?crd=2.0.1");
    assert.equal(old.body.cards.length, 1);
    assert.equal(old.body.cards[0].suggestions, undefined, "2.0.1 SMART card: suggestions 0..0");
    assert.deepEqual(old.body.cards[0].source.topic, {
      system: CRD_TEMP,
      code: "coverage-info",
      display: "Coverage Information",
    });
    assert.equal(card.links.length, 1);
    assert.equal(card.links[0].type, "smart");
    assert.deepEqual(JSON.parse(card.links[0].appContext), {
      questionnaire: [Q("CP.MP.173", "2025-11", "II")],
      order: "ServiceRequest/sr1",
      coverage: "Coverage/cov1",
      coverageAssertionId: i["coverage-assertion-id"],
    });
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
      // Coding only: no prior authorization; no documentation is stated by leaving doc-needed out —
      // `no-doc` is not in the 2.0.1 package's required AdditionalDocumentation value set (issue 16).
      assert.equal(info(r.body)["pa-needed"], "no-auth");
      assert.equal(info(r.body)["doc-needed"], undefined);
    }
    const v22 = await hook("order-sign-crd", hookRequest("order-sign", [order("62369")]));
    assert.deepEqual(checkHookResponse(v22.body, "2.2"), []);
    assert.equal(info(v22.body)["doc-needed"], undefined, "no documentation: the slice is absent");
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

  test("open SIJ fusion → section I's questionnaire; a code in no policy → conditional, never covered (primary hook)", async () => {
    const r = await hook(
      "order-sign-crd",
      hookRequest("order-sign", [order("27280", "a"), order("99213", "b")]),
    );
    assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
    assert.equal(r.body.systemActions.length, 2);
    assert.equal(r.body.systemActions[0].resource.id, "a");
    assert.equal(info(r.body).questionnaire, Q("CP.MP.126", "2025-04", "I"));
    const b = info(r.body, 1);
    assert.equal(r.body.systemActions[1].resource.id, "b");
    assert.equal(b.covered, "conditional");
    assert.equal(b["pa-needed"], "conditional");
    assert.equal(b["info-needed"], "OTH");
    assert.equal(b.billingCode, "99213");
    assert.match(b.reason ?? "", /No clinical policy of this plan governs 99213/);
    assert.equal(b.questionnaire, undefined);
    assert.equal(r.body.cards.length, 1, "a card only for the order needing documentation");
    // The 2.0.1 form states the same (OTH is in its informationNeeded value set; pa-needed present).
    const old = await hook("order-sign-crd", hookRequest("order-sign", [order("99213", "b")]), "?crd=2.0.1");
    assert.deepEqual(checkHookResponse(old.body, "2.0.1"), []);
    assert.equal(info(old.body).covered, "conditional");
  });

  test("the member's state picks the variant: NC → NC.CP.MP.173's questionnaire", async () => {
    const r = await hook("order-sign-crd", hookRequest("order-sign", [order()], {}, "NC"));
    assert.equal(info(r.body).questionnaire, Q("NC.CP.MP.173", "2026-01", "II"));
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
    // order-select is a secondary hook: coverage and prior authorization, no documentation needs, no card.
    assert.equal(info(r1.body)["pa-needed"], "auth-needed");
    assert.equal(info(r1.body)["doc-needed"], undefined);
    assert.equal(info(r1.body)["doc-purpose"], undefined);
    assert.equal(info(r1.body).questionnaire, undefined);
    assert.deepEqual(r1.body.cards, []);
    // …and what it cannot decide it does not state at all.
    const sel2 = hookRequest("order-select", [order("99213", "z")]);
    const r1b = await hook("order-select-crd", sel2);
    assert.deepEqual(r1b.body, { cards: [], systemActions: [] });

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
    assert.equal(info(r2.body).questionnaire, Q("CP.MP.126", "2025-04", "II"));

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

  test("coverage-info off → empty; no Coverage and no way to read one → 412; none active → 400", async () => {
    const off = await hook(
      "order-sign-crd",
      hookRequest("order-sign", [order()], {
        extension: { "davinci-crd.configuration": { "coverage-info": false } },
      }),
    );
    assert.deepEqual(off.body, { cards: [], systemActions: [] });
    // CDS Hooks 2.0: the data needed is neither prefetched nor readable (no fhirAuthorization) → 412.
    const req = hookRequest("order-sign", [order()]) as J;
    delete req.prefetch.coverage;
    const missing = await hook("order-sign-crd", req);
    assert.equal(missing.status, 412, missing.text);
    assert.deepEqual(checkOperationOutcome(missing.body), []);
    assert.match(missing.body.issue[0].details.text, /missing from prefetch/);
    // The prefetch says the patient has no active Coverage (an empty search) → 400, not "nothing needed".
    const empty = hookRequest("order-sign", [order()]) as J;
    empty.prefetch.coverage = { resourceType: "Bundle", type: "searchset", entry: [] };
    const none = await hook("order-sign-crd", empty);
    assert.equal(none.status, 400, none.text);
    assert.deepEqual(checkOperationOutcome(none.body), []);
    assert.match(none.body.issue[0].details.text, /no active Coverage/);
  });

  test("without the member's state the corporate policy answers, and says so", async () => {
    const req = hookRequest("order-sign", [order()]) as J;
    delete req.prefetch.patient.address;
    const r = await hook("order-sign-crd", req);
    assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
    assert.equal(info(r.body).questionnaire, Q("CP.MP.173", "2025-11", "II"));
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
      [
        {
          ...hookRequest("order-sign", [order()]),
          fhirServer: null,
          fhirAuthorization: { access_token: "t" },
        },
        /cds-r-1/,
      ],
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
  test("an old date of service → conditional with a reason, not silence (primary hook)", async () => {
    const old = { ...order("62362", "o1"), occurrenceDateTime: "1990-01-15" };
    const r = await hook("order-sign-crd", hookRequest("order-sign", [old]));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
    const i = info(r.body);
    assert.equal(i.covered, "conditional");
    assert.equal(i["pa-needed"], "conditional");
    assert.equal(i["info-needed"], "OTH");
    assert.match(i.reason ?? "", /date of service 1990-01-15/);
  });

  test("an order with no CPT/HCPCS code (SNOMED only) → conditional on primary hooks", async () => {
    const snomed = {
      ...order("62362", "s1"),
      code: { coding: [{ system: "http://snomed.info/sct", code: "182777000" }] },
    };
    const r = await hook("order-sign-crd", hookRequest("order-sign", [snomed]));
    assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
    const i = info(r.body);
    assert.equal(i.covered, "conditional");
    assert.equal(i.billingCode, undefined);
    assert.match(i.reason ?? "", /no CPT or HCPCS code/);
  });

  test("hook-16: a DeviceRequest coded in the Blue Button HCPCS system is assessed, echoed in its system", async () => {
    const BB = "https://bluebutton.cms.gov/resources/codesystem/hcpcs";
    const device: DeviceRequest = {
      resourceType: "DeviceRequest",
      id: "bb1",
      status: "draft",
      intent: "order",
      codeCodeableConcept: { coding: [{ system: BB, code: "E0783", display: "Infusion pump, implantable" }] },
      subject: { reference: "Patient/pat1" },
    };
    const r = await hook("order-sign-crd", hookRequest("order-sign", [device]));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
    assert.equal(info(r.body).covered, "covered");
    assert.equal(info(r.body)["pa-needed"], "auth-needed");
    const billing = infos(r.body)[0].extension.find((e: J) => e.url === "billingCode").valueCoding;
    assert.deepEqual(billing, { system: BB, code: "E0783" });
  });

  test("one coverage-assertion-id per order and Coverage (shared by its codes), distinct across orders", async () => {
    const two = order("62362", "t1");
    two.code!.coding!.push({ system: CPT, code: "62369" });
    const r = await hook("order-sign-crd", hookRequest("order-sign", [two, order("62362", "t2")]));
    assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
    const ids = (n: number) =>
      infos(r.body, n).map(
        (e: J) => e.extension.find((x: J) => x.url === "coverage-assertion-id").valueString,
      );
    assert.equal(ids(0).length, 2);
    assert.equal(new Set(ids(0)).size, 1, "the two codes of one order share the id");
    assert.notEqual(ids(0)[0], ids(1)[0], "another order has its own");
  });

  test("a null fhirServer is accepted (CDS Hooks: optional)", async () => {
    const r = await hook("order-sign-crd", hookRequest("order-sign", [order()], { fhirServer: null }));
    assert.equal(r.status, 200, r.text);
    assert.equal(info(r.body)["pa-needed"], "auth-needed");
  });

  test("encounter-start and encounter-discharge: the Encounter and its orders get coverage information", async () => {
    for (const h of ["encounter-start", "encounter-discharge"]) {
      const enc = {
        resourceType: "Encounter",
        id: "enc1",
        status: h === "encounter-start" ? "in-progress" : "finished",
        class: { system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: "AMB" },
        type: [{ coding: [{ system: CPT, code: "99213" }] }],
        subject: { reference: "Patient/pat1" },
      };
      const sr = { ...order("62362", "e-sr"), encounter: { reference: "Encounter/enc1" } };
      const body = {
        hookInstance: crypto.randomUUID(),
        hook: h,
        fhirServer: null,
        context: { userId: "Practitioner/dr1", patientId: "pat1", encounterId: "enc1" },
        prefetch: {
          patient: patient(),
          coverage: { resourceType: "Bundle", type: "searchset", entry: [{ resource: coverage }] },
          encounter: enc,
          serviceRequests: { resourceType: "Bundle", type: "searchset", entry: [{ resource: sr }] },
        },
      };
      const r = await hook(`${h}-crd`, body);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
      assert.deepEqual(
        r.body.systemActions.map((a: J) => `${a.resource.resourceType}/${a.resource.id}`),
        ["Encounter/enc1", "ServiceRequest/e-sr"],
      );
      assert.equal(info(r.body, 0).covered, "conditional");
      assert.equal(info(r.body, 1)["pa-needed"], "auth-needed");
      // Without the encounter and no way to read it → 412.
      const { encounter: _e, ...rest } = body.prefetch;
      const miss = await hook(`${h}-crd`, { ...body, prefetch: rest });
      assert.equal(miss.status, 412, miss.text);
    }
  });

  test("missing prefetch → read from fhirServer with the access token (allow-listed loopback host)", async () => {
    const ehr = await ehrFhir([patient(), coverage]);
    try {
      const req = hookRequest("order-sign", [order()], {
        fhirServer: ehr.base,
        fhirAuthorization: {
          access_token: "ehr-token-1",
          token_type: "Bearer",
          expires_in: 300,
          scope: "user/Coverage.read",
          subject: "medpolicy",
        },
      }) as J;
      delete req.prefetch;
      const r = await hook("order-sign-crd", req);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
      assert.equal(info(r.body)["pa-needed"], "auth-needed");
      assert.equal(
        info(r.body).questionnaire,
        Q("CP.MP.173", "2025-11", "II"),
        "the Patient's state (TX) was read too",
      );
      const urls = ehr.seen.map((x) => x.url).sort();
      assert.deepEqual(
        urls,
        ["/fhir/Coverage?patient=pat1&status=active", "/fhir/Patient/pat1", "/fhir/Practitioner/dr1"].sort(),
      );
      for (const x of ehr.seen) assert.equal(x.headers.authorization, "Bearer ehr-token-1");
      // A host not on the allow-list (localhost is not 127.0.0.1 to the policy) is never called → 412.
      const before = ehr.seen.length;
      const refused = await hook("order-sign-crd", {
        ...req,
        fhirServer: `http://localhost:${ehr.port}/fhir`,
      });
      assert.equal(refused.status, 412, refused.text);
      assert.deepEqual(checkOperationOutcome(refused.body), []);
      assert.match(refused.body.issue[0].details.text, /not permitted/);
      assert.equal(ehr.seen.length, before);
      // fhirServer without fhirAuthorization → 412 naming what is missing.
      const noAuth = await hook("order-sign-crd", { ...req, fhirAuthorization: null });
      assert.equal(noAuth.status, 412);
    } finally {
      await ehr.close();
    }
  });

  test("lookup that finds no Coverage → 400", async () => {
    const ehr = await ehrFhir([patient()]);
    try {
      const req = hookRequest("order-sign", [order()], {
        fhirServer: ehr.base,
        fhirAuthorization: { access_token: "t", token_type: "Bearer" },
      }) as J;
      delete req.prefetch.coverage;
      const r = await hook("order-sign-crd", req);
      assert.equal(r.status, 400, r.text);
      assert.match(r.body.issue[0].details.text, /no active Coverage/);
    } finally {
      await ehr.close();
    }
  });

  test("pa-needed satisfied with satisfied-pa-id when an approved prior authorization matches (crd-ci-q4, q5)", () => {
    const req = parseHookRequest(hookRequest("order-sign", [order()]), "order-sign");
    const today = new Date().toISOString().slice(0, 10);
    const memberCoverage = {
      ...coverage,
      identifier: [
        {
          type: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/v2-0203", code: "MB" }] },
          value: "M-1",
        },
      ],
    };
    (req.prefetch as J).coverage = {
      resourceType: "Bundle",
      type: "searchset",
      entry: [{ resource: memberCoverage }],
    };
    const asked: string[] = [];
    const res = answerHook(library(), req, "2.2", today, {
      satisfiedPa: (memberId, code) => {
        asked.push(`${memberId}:${code}`);
        return memberId === "M-1" && code === "62362" ? "PA-123" : undefined;
      },
    });
    assert.deepEqual(asked, ["M-1:62362"]);
    assert.deepEqual(checkHookResponse(res, "2.2"), []);
    const i = info(res);
    assert.equal(i["pa-needed"], "satisfied");
    assert.equal(i["satisfied-pa-id"], "PA-123");
    assert.equal(i["doc-purpose"], undefined, "no withpa once satisfied (crd-ci-q4)");
    assert.equal(i.questionnaire, undefined);
    assert.deepEqual(res.cards, []);
    assert.deepEqual(
      checkHookResponse(answerHook(library(), req, "2.0.1", today, { satisfiedPa: () => "PA-123" }), "2.0.1"),
      [],
    );
  });

  test("conformance checks can fail: q8 without reason, no-doc in 2.0.1, q6 OTH without reason", () => {
    const base = (extra: J[]) => ({
      url: COVERAGE_INFORMATION,
      extension: [
        { url: "coverage", valueReference: { reference: "Coverage/c" } },
        { url: "date", valueDate: "2026-01-01" },
        { url: "coverage-assertion-id", valueString: "x" },
        ...extra,
      ],
    });
    assert.ok(
      checkCoverageInformation(
        base([
          { url: "covered", valueCode: "covered" },
          { url: "pa-needed", valueCode: "auth-needed" },
          { url: "doc-needed", valueCode: "clinical" },
          { url: "doc-purpose", valueCode: "withpa" },
        ]),
        "2.2",
      ).includes("crd-ci-q8: doc-purpose without a reason"),
    );
    assert.ok(
      checkCoverageInformation(
        base([
          { url: "covered", valueCode: "covered" },
          { url: "pa-needed", valueCode: "no-auth" },
          { url: "doc-needed", valueCode: "no-doc" },
        ]),
        "2.0.1",
      ).includes("doc-needed=no-doc not in the 2.0.1 codes"),
    );
    assert.ok(
      checkCoverageInformation(
        base([
          { url: "covered", valueCode: "conditional" },
          { url: "pa-needed", valueCode: "conditional" },
          { url: "info-needed", valueCode: "OTH" },
        ]),
        "2.2",
      ).includes("crd-ci-q6: info-needed OTH without a reason"),
    );
  });
  test("the 2.0.1 form validates against the CRD 2.0.1 package (profiles, bindings, crd-ci-q1…q5): 0 errors", {
    skip: igAvailable ? false : "IG packages not found",
  }, async () => {
    const two = order("62362", "v1");
    two.code!.coding!.push({ system: CPT, code: "62369" });
    const orders = [two, order("99213", "v2"), order("27278", "v3"), order("62369", "v4")];
    const r = await hook("order-sign-crd", hookRequest("order-sign", orders), "?crd=2.0.1");
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.systemActions.length, 4);
    for (const a of r.body.systemActions) {
      const v = validateFhir(a.resource);
      assert.deepEqual(v.errors, [], `${a.resource.id}: ${formatIssues(v.errors)}`);
    }
    // The not-covered order states pa-needed (no-auth) in 2.0.1: the package's crd-ci-q2 needs it.
    assert.equal(info(r.body, 2).covered, "not-covered");
    assert.equal(info(r.body, 2)["pa-needed"], "no-auth");
  });

  test("over HTTP: a prior authorization approved through PAS makes pa-needed satisfied (its request id)", async () => {
    const MB = { coding: [{ system: "http://terminology.hl7.org/CodeSystem/v2-0203", code: "MB" }] };
    const member = {
      ...coverage,
      identifier: [{ type: MB, system: "urn:example:members", value: "M-SAT-1" }],
    };
    const bundle = pasBundle(`SAT-${Date.now()}`, ["62362"]) as J;
    for (const e of bundle.entry) if (e.resource.resourceType === "Coverage") e.resource = member;
    const submitted = await call(s.url, "POST", "/fhir/Claim/$submit", {
      token: s.tokens.provider,
      body: bundle,
    });
    assert.equal(submitted.status, 200, submitted.text);
    const requestId = submitted.body.entry[0].resource.identifier.find((i: J) =>
      i.system.endsWith("/request"),
    ).value;
    const signed = await call(s.url, "POST", `/api/requests/${requestId}/decision`, {
      token: s.tokens.medicalDirector,
      headers: { "content-type": "application/json" },
      body: { outcome: "approved", reason: "Criteria met on review.", criteria: [] },
    });
    assert.equal(signed.status, 200, signed.text);

    const req = hookRequest("order-sign", [order()]) as J;
    req.prefetch.coverage.entry[0].resource = member;
    const r = await hook("order-sign-crd", req);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
    assert.equal(info(r.body)["pa-needed"], "satisfied");
    assert.equal(info(r.body)["satisfied-pa-id"], requestId);
    assert.deepEqual(r.body.cards, [], "nothing to document once authorized");
    // Another member: still auth-needed.
    const other = hookRequest("order-sign", [order()]) as J;
    other.prefetch.coverage.entry[0].resource = { ...member, identifier: [{ type: MB, value: "M-OTHER" }] };
    const r2 = await hook("order-sign-crd", other);
    assert.equal(info(r2.body)["pa-needed"], "auth-needed");
  });
});
