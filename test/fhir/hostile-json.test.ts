/**
 * Issue 13: the JSON body parser (src/server/http.ts) serves the FHIR scopes too, and its refusals
 * become OperationOutcomes there: 10,000-level nesting in CRD, PAS and `$next-question` was a 500
 * (stack overflow), and a repeated key was resolved silently by the last one.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { hookRequest, order, pasBundle } from "./fixtures.js";
import { call, startFhirServer, type TestServer } from "./helpers.js";

describe("hostile JSON on the FHIR interfaces", () => {
  let s: TestServer;
  before(async () => {
    s = await startFhirServer();
  });
  after(() => s.close());

  test("10,000-level nesting in CRD, PAS and DTR → 400 OperationOutcome", async () => {
    const hook = JSON.stringify(hookRequest("order-sign", [order()]));
    const bundle = JSON.stringify(pasBundle("deep-1", ["62362"]));
    const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    const bodies: [string, string][] = [
      ["/cds-services/order-sign-crd", hook.replace('"hookInstance"', `"x":${deep},"hookInstance"`)],
      ["/fhir/Claim/$submit", bundle.replace('"resourceType"', `"x":${deep},"resourceType"`)],
      ["/fhir/Claim/$inquire", bundle.replace('"resourceType"', `"x":${deep},"resourceType"`)],
      ["/fhir/Questionnaire/$next-question", `{"resourceType":"Parameters","parameter":${deep}}`],
      ["/fhir/Questionnaire/$questionnaire-package", `{"resourceType":"Parameters","parameter":${deep}}`],
      ["/fhir/Subscription", `{"resourceType":"Subscription","x":${deep}}`],
    ];
    for (const [path, raw] of bodies) {
      const r = await call(s.url, "POST", path, { token: s.tokens.provider, raw });
      assert.equal(r.status, 400, `${path}: ${r.text.slice(0, 300)}`);
      assert.equal(r.body?.resourceType, "OperationOutcome", `${path}: ${r.text.slice(0, 300)}`);
      assert.match(JSON.stringify(r.body.issue), /nested deeper than 64 levels/, path);
    }
  });

  test("a repeated key → 400 OperationOutcome naming it (was: the last one won)", async () => {
    const bundle = JSON.stringify(pasBundle("dup-1", ["62362"])).replace(
      '"patient":{',
      '"patient":{"reference":"Patient/other"},"patient":{',
    );
    const r = await call(s.url, "POST", "/fhir/Claim/$submit", { token: s.tokens.provider, raw: bundle });
    assert.equal(r.status, 400, r.text.slice(0, 300));
    assert.equal(r.body?.resourceType, "OperationOutcome");
    assert.match(JSON.stringify(r.body.issue), /\\"patient\\" appears twice/);
    const hook = JSON.stringify(hookRequest("order-sign", [order()])).replace(
      '"hook":',
      '"hook":"order-select","hook":',
    );
    const h = await call(s.url, "POST", "/cds-services/order-sign-crd", {
      token: s.tokens.provider,
      raw: hook,
    });
    assert.equal(h.status, 400, h.text.slice(0, 300));
    assert.match(JSON.stringify(h.body), /"hook\\" appears twice|hook/);
  });
});
