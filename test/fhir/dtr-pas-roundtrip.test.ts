/**
 * Issue 16 acceptance: a DTR round trip driven as the DTR reference app drives it, into PAS, in one
 * test, with real client authentication — no medpolicy token anywhere:
 *
 * 1. the DTR app (a SMART App Launch app; its EHR's authorization server is a registered
 *    `smart-issuer`) asks `$questionnaire-package` for the order and coverage;
 * 2. it pre-populates the standard Questionnaire from the patient's record by the Questionnaire's own
 *    expressions (launchContext, variables, initialExpression in FHIRPath) — what the app does;
 * 3. it walks `$next-question` until the adaptive form is completed (criteria met);
 * 4. the EHR (a SMART Backend Services client, token from `/auth/token`) submits the PAS request with
 *    the completed QuestionnaireResponse attached, and then `$inquire`s it.
 *
 * Every answer is validated against the IG packages by helpers.ts's `call` (0 errors, or the file fails).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { populateFromBundle } from "../../src/server/fhir/dtr-population.js";
import { makeClient, type TestClient } from "./clients.js";
import { reviewCodes } from "./conformance.js";
import { coverage, order, pasBundle, patient, patientData } from "./fixtures.js";
import { call, startFhirServer, type TestServer } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;

const INFORMATION_ORIGIN = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/information-origin";

describe("DTR round trip into PAS, with registered clients (issue 16 acceptance)", () => {
  let s: TestServer;
  let app: TestClient;
  let ehr: TestClient;
  before(async () => {
    app = await makeClient("smart-issuer", { alg: "ES384" });
    ehr = await makeClient("backend", { alg: "RS384" });
    s = await startFhirServer({}, undefined, { clients: [app.registration, ehr.registration] });
  });
  after(async () => {
    await s.close();
  });

  test("package → populate by the form's own expressions → next-question → PAS $submit with the response → $inquire", async () => {
    const appToken = await app.accessToken(`${s.url}/fhir`, "launch user/*.rs patient/*.rs");
    const dtr = (path: string, body: unknown) =>
      call(s.url, "POST", `/fhir/Questionnaire/${path}`, { token: appToken, body });

    // 1. The package for the order (CPT 62362, intrathecal pump) under the member's coverage.
    const pkg = await dtr("$questionnaire-package", {
      resourceType: "Parameters",
      parameter: [
        { name: "coverage", resource: coverage },
        { name: "order", resource: order() },
      ],
    });
    assert.equal(pkg.status, 200, pkg.text);
    const bundle = pkg.body.parameter.find((p: J) => p.name === "PackageBundle").resource;
    const std = bundle.entry.find((e: J) => e.resource.resourceType === "Questionnaire").resource;
    assert.match(std.url, new RegExp(`^${s.url}/fhir/Questionnaire/`), "a canonical this server resolves");
    const resolved = await call(s.url, "GET", `/fhir/Questionnaire?url=${encodeURIComponent(std.url)}`, {
      token: appToken,
    });
    assert.equal(resolved.body.entry?.length, 1, resolved.text);

    // 2. Populated as the app does: the Questionnaire's expressions over the EHR's record.
    assert.ok(
      std.extension.some((e: J) => e.url.endsWith("sdc-questionnaire-launchContext")),
      "the form declares its launch context",
    );
    const pop = populateFromBundle(std, {
      record: patientData,
      launch: { patient: patient(), order: order() },
    });
    assert.deepEqual(pop.answers, { "fact:lifeExpectancyMonths": [14] });
    let qr: J = bundle.entry.find((e: J) => e.resource.resourceType === "QuestionnaireResponse").resource;
    qr.item = [
      {
        linkId: "facts",
        item: Object.entries(pop.answers).map(([linkId, v]) => ({
          linkId,
          answer: [
            {
              valueDecimal: v[0] as number,
              extension: [{ url: INFORMATION_ORIGIN, extension: [{ url: "source", valueCode: "auto" }] }],
            },
          ],
        })),
      },
    ];

    // 3. The adaptive form, one question at a time, until the payer says the criteria are met.
    for (let round = 0; round < 40 && qr.status !== "completed"; round++) {
      const res = await dtr("$next-question", qr);
      assert.equal(res.status, 200, res.text);
      qr = res.body;
      if (qr.status === "completed") break;
      const adaptive = qr.contained!.find((c: J) => c.id === "adaptive") as J;
      const answered = new Set((qr.item ?? []).map((i: J) => i.linkId));
      const open = adaptive.item.filter((i: J) => !answered.has(i.linkId) && i.type === "boolean");
      assert.equal(open.length, 1, JSON.stringify(open).slice(0, 300));
      qr.item!.push({
        linkId: open[0].linkId,
        answer: [{ valueBoolean: !/contraindication/i.test(open[0].text) }],
      });
    }
    assert.equal(qr.status, "completed");
    const outcome = qr.extension.find((e: J) => e.url.endsWith("/documentation-outcome"));
    assert.equal(outcome?.valueCodeableConcept?.coding?.[0]?.code, "criteria-met");

    // 4. The EHR submits the prior authorization with the completed response, then inquires.
    const ehrToken = await ehr.backendToken(s.url, "system/Claim.crs system/ClaimResponse.rs");
    qr.id = "dtr-qr-1";
    const request = pasBundle("DTR-ROUNDTRIP-1", ["62362"], qr);
    const submitted = await call(s.url, "POST", "/fhir/Claim/$submit", { token: ehrToken, body: request });
    assert.equal(submitted.status, 200, submitted.text);
    const cr = submitted.body.entry[0].resource;
    assert.equal(cr.resourceType, "ClaimResponse");
    assert.deepEqual(reviewCodes(cr.item[0]), ["A1"], "certified in total: the response decided it");
    assert.ok(cr.preAuthRef, "an authorization number");

    const inquiry = await call(s.url, "POST", "/fhir/Claim/$inquire", { token: ehrToken, body: request });
    assert.equal(inquiry.status, 200, inquiry.text);
    assert.equal(inquiry.body.resourceType, "Parameters");
    const found = inquiry.body.parameter.filter((p: J) => p.name === "return");
    assert.equal(found.length, 1);
    const again = found[0].resource.entry[0].resource;
    assert.deepEqual([again.preAuthRef, reviewCodes(again.item[0])], [cr.preAuthRef, ["A1"]]);

    // The app's token cannot submit for the EHR (no Claim create scope granted to a read-only app
    // token), and neither works without a token.
    const noScope = await call(s.url, "POST", "/fhir/Claim/$submit", { token: appToken, body: request });
    assert.equal(noScope.status, 403, noScope.text);
    assert.equal(noScope.body.resourceType, "OperationOutcome");
    const none = await call(s.url, "POST", "/fhir/Claim/$inquire", { body: request });
    assert.equal(none.status, 401);
    assert.equal(none.body.issue[0].code, "login");
  });
});
