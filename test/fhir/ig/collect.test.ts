/**
 * The answer collector (issue 16, "Validation in the test suite"): answer kinds by route, the FHIR
 * resources inside CDS Hooks responses, and the per-kind report of distinct errors.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  contextOf,
  embeddedAt,
  fhirResourcesOf,
  igReport,
  igReportJson,
  inheritedErrors,
  pasVersionOf,
  recordFhirAnswer,
  resetIgReport,
  routeKind,
} from "./collect.js";
import { igAvailable } from "./validator.js";

describe("IG answer collector", () => {
  test("routes become kinds: ids, uuids and queries dropped, operations and services kept", () => {
    assert.equal(
      routeKind("GET /fhir/ClaimResponse/3c80389c-7ea8-4dcf-80f4-d818de3a5bcd"),
      "GET /fhir/ClaimResponse/:id",
    );
    assert.equal(
      routeKind("GET /fhir/Questionnaire/CP.MP.173-2025-11-II?x=1"),
      "GET /fhir/Questionnaire/:id",
    );
    assert.equal(routeKind("POST /fhir/Claim/%24submit"), "POST /fhir/Claim/$submit");
    assert.equal(
      routeKind("POST /cds-services/order-sign-crd?crd=2.0.1"),
      "POST /cds-services/order-sign-crd",
    );
    assert.equal(routeKind("GET /fhir/metadata"), "GET /fhir/metadata");
  });

  test("the context follows the operation", () => {
    assert.deepEqual(contextOf("POST /fhir/Claim/$inquire"), { pas: "2.2.1", operation: "inquire" });
    assert.deepEqual(contextOf("POST /fhir/Claim/%24submit", "2.0.1"), { pas: "2.0.1", operation: "submit" });
    assert.deepEqual(contextOf("POST /cds-services/order-sign-crd"), { pas: "2.2.1", operation: "crd-hook" });
    assert.deepEqual(contextOf("GET /fhir/metadata"), { pas: "2.2.1" });
  });

  test("the PAS version a request declares", () => {
    const P = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/";
    assert.equal(
      pasVersionOf({ resourceType: "Bundle", meta: { profile: [`${P}profile-pas-request-bundle|2.0.1`] } }),
      "2.0.1",
    );
    const claim20 = { resourceType: "Claim", meta: { profile: [`${P}profile-claim-inquiry|2.0.1`] } };
    assert.equal(pasVersionOf({ resourceType: "Bundle", entry: [{ resource: claim20 }] }), "2.0.1");
    const wrapped = {
      resourceType: "Parameters",
      parameter: [{ name: "resource", resource: { entry: [{ resource: claim20 }] } }],
    };
    assert.equal(pasVersionOf(wrapped), "2.0.1");
    assert.equal(
      pasVersionOf({ resourceType: "Bundle", meta: { profile: [`${P}profile-pas-request-bundle`] } }),
      "2.2.1",
    );
    assert.equal(pasVersionOf(undefined), "2.2.1");
  });

  test("a CDS Hooks response's FHIR resources: system actions and card suggestions", () => {
    const sr = { resourceType: "ServiceRequest", id: "a" };
    const found = fhirResourcesOf({
      cards: [{ summary: "x", suggestions: [{ label: "y", actions: [{ type: "create", resource: sr }] }] }],
      systemActions: [{ type: "update", resource: sr }, { type: "update" }],
    });
    assert.deepEqual(
      found.map((f) => f.where),
      ["systemActions[0].resource", "cards[0].suggestions[0].actions[0].resource"],
    );
    assert.deepEqual(fhirResourcesOf({ services: [] }), []);
    assert.deepEqual(fhirResourcesOf("text"), []);
  });

  test("recording validates and reports distinct errors per kind", { skip: !igAvailable }, () => {
    resetIgReport();
    const good = { resourceType: "OperationOutcome", issue: [{ severity: "error", code: "invalid" }] };
    const bad = { ...good, when: "now" };
    assert.deepEqual(recordFhirAnswer("GET /fhir/Nothing/1", good)[0]?.errors, []);
    assert.equal(recordFhirAnswer("GET /fhir/Nothing/2", bad)[0]?.errors.length, 1);
    recordFhirAnswer("GET /fhir/Nothing/3", bad);
    assert.deepEqual(recordFhirAnswer("GET /api/health", { ok: true }), []);
    const [kind] = igReportJson();
    assert.equal(kind?.kind, "GET /fhir/Nothing/:id → OperationOutcome");
    assert.equal(kind?.answers, 3);
    assert.equal(kind?.withErrors, 2);
    assert.deepEqual(kind?.errors, [
      { error: 'OperationOutcome.when: Invalid additional property "when"', times: 2 },
    ]);
    assert.match(igReport(), /^IG validation: 3 FHIR answers, 2 with errors \(0 errors carried over/);
    resetIgReport();
  });

  test("an error the request's own resource has is carried over, not the answer's; one the answer adds is", {
    skip: !igAvailable,
  }, () => {
    resetIgReport();
    const sent = { resourceType: "Basic", code: { text: "x" }, when: "now" };
    const request = {
      hook: "order-sign",
      context: { draftOrders: { resourceType: "Bundle", type: "collection", entry: [{ resource: sent }] } },
    };
    const echoed = { systemActions: [{ type: "update", resource: sent }] };
    assert.deepEqual(recordFhirAnswer("POST /cds-services/x", echoed, undefined, request)[0]?.errors, []);
    const added = { systemActions: [{ type: "update", resource: { ...sent, also: 1 } }] };
    const [v] = recordFhirAnswer("POST /cds-services/x", added, undefined, request);
    assert.deepEqual(
      v?.errors.map((e) => e.path),
      ["Basic.also"],
    );
    assert.ok(inheritedErrors() >= 2, String(inheritedErrors()));
    resetIgReport();
  });

  test("an envelope error the request shares is still the answer's; an embedded resource's is carried over", {
    skip: !igAvailable,
  }, () => {
    resetIgReport();
    const patient = { resourceType: "Patient", id: "p1", when: "now" };
    // Both Bundles lack `identifier` and carry the same (invalid) Patient.
    const request = {
      resourceType: "Bundle",
      type: "collection",
      entry: [{ fullUrl: "urn:uuid:1", resource: patient }],
    };
    const answer = {
      resourceType: "Bundle",
      type: "collection",
      entry: [{ fullUrl: "urn:uuid:2", resource: patient }],
    };
    const [v] = recordFhirAnswer("POST /fhir/Nothing", answer, undefined, request);
    const paths = v?.errors.map((e) => e.path) ?? [];
    assert.ok(
      !paths.some((p) => p.includes("when")),
      `the Patient's error is the request's: ${paths.join(", ")}`,
    );
    assert.equal(
      embeddedAt(answer as never, "Bundle.entry[0].resource.when")?.resource.resourceType,
      "Patient",
    );
    assert.equal(embeddedAt(answer as never, "Bundle.identifier"), undefined);
    resetIgReport();
  });
});
