/**
 * Issue 16: the official DTR test kit's request fixtures (test/fhir/testkit/dtr/, PROVENANCE.md) and the
 * DTR 2.0.1 IG's example inputs replayed against the payer service, each answered as the IG says:
 * `$questionnaire-package` always answers Parameters with at least one PackageBundle (output profile
 * dtr-qpackage-output-parameters), with the reasons in `outcome`; `$next-question` for a Questionnaire
 * this payer does not serve is a 404 OperationOutcome.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeClient } from "./clients.js";
import { checkOperationOutcome, checkPackage } from "./conformance.js";
import { call, ROOT, SHARED_FHIR, sharedAvailable, startFhirServer, type TestServer } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;

const kit = (name: string): J =>
  JSON.parse(readFileSync(join(ROOT, "test", "fhir", "testkit", "dtr", name), "utf8"));

describe("DTR test kit fixtures (issue 16)", () => {
  let s: TestServer;
  let token: string;
  // Replayed as the DTR app sends them: a SMART App Launch token of a registered issuer (issue 16).
  before(async () => {
    const app = await makeClient("smart-issuer");
    s = await startFhirServer({}, undefined, { clients: [app.registration] });
    token = await app.accessToken(`${s.url}/fhir`, "launch user/*.rs patient/*.rs");
  });
  after(() => s.close());
  const post = (path: string, body: unknown) => call(s.url, "POST", path, { token, body });

  for (const [file, order] of [
    ["questionnaire_package_input_params_conformant.json", "ServiceRequest/ServiceRequestExample"],
    ["questionnaire_package_input_params_ri.json", "DeviceRequest/dr1"],
  ] as const) {
    test(`${file}: a PackageBundle (nothing to document) and the reason in outcome`, async () => {
      const r = await post("/fhir/Questionnaire/$questionnaire-package", kit(file));
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(checkPackage(r.body), []);
      assert.deepEqual(
        r.body.parameter.map((p: J) => p.name),
        ["PackageBundle", "outcome"],
      );
      const q = r.body.parameter[0].resource.entry[0].resource;
      assert.equal(q.url, `${s.url}/fhir/Questionnaire/no-documentation-required`);
      const issue = r.body.parameter[1].resource.issue[0];
      assert.equal(issue.severity, "information");
      assert.match(
        issue.details.text,
        new RegExp(`^${order.replace("/", "\\/")}: no policy in this library`),
      );
    });
  }

  test("next_question_initial_input_params_conformant.json: a Questionnaire of another payer is a 404 OperationOutcome", async () => {
    const r = await post(
      "/fhir/Questionnaire/$next-question",
      kit("next_question_initial_input_params_conformant.json"),
    );
    assert.equal(r.status, 404, r.text);
    assert.deepEqual(checkOperationOutcome(r.body), []);
  });

  test("the IG's $questionnaire-package input example: nothing to document for its order; with one of our canonicals, that form", {
    skip: sharedAvailable ? false : "shared examples absent",
  }, async () => {
    const example = JSON.parse(
      readFileSync(
        join(SHARED_FHIR, "dtr-2.0.1", "Parameters-QuestionnairePackageInputParamsExample.json"),
        "utf8",
      ),
    );
    const r = await post("/fhir/Questionnaire/$questionnaire-package", example);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkPackage(r.body), []);
    assert.deepEqual(
      r.body.parameter.map((p: J) => p.name),
      ["PackageBundle", "outcome"],
    );
    const outcome = r.body.parameter[1].resource;
    assert.match(outcome.issue[0].details.text, /^ServiceRequest\/ServiceRequestExample: no policy/);
    // The IG's own Questionnaire is another payer's: a warning; ours is packaged.
    const canonical = `${s.url}/fhir/Questionnaire/CP.MP.173-2025-11-II`;
    const ours = structuredClone(example);
    ours.parameter.push(
      {
        name: "questionnaire",
        valueCanonical: "http://hl7.org/fhir/us/davinci-dtr/Questionnaire/home-o2-std-questionnaire",
      },
      { name: "questionnaire", valueCanonical: canonical },
    );
    const served = await post("/fhir/Questionnaire/$questionnaire-package", ours);
    assert.equal(served.status, 200, served.text);
    assert.deepEqual(checkPackage(served.body), []);
    assert.deepEqual(
      served.body.parameter.map((p: J) => p.name),
      ["PackageBundle", "outcome"],
    );
    assert.equal(served.body.parameter[0].resource.entry[0].resource.url, canonical);
    const warning = served.body.parameter[1].resource.issue[0];
    assert.equal(warning.severity, "warning");
    assert.equal(warning.code, "not-found");
    assert.match(warning.details.text, /home-o2-std-questionnaire/);
  });
});
