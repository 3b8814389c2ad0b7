/**
 * Issue 16 acceptance: the official PAS test kit's request fixtures (./testkit/pas, see
 * PROVENANCE.md) replayed against medpolicy, each answered as PAS 2.2.1 requires:
 * - the conformant request Bundle → a PAS response Bundle (identifier echoed, every entry with a
 *   fullUrl, ClaimResponse first, one item per Claim item with its trace number, a review action);
 * - the conformant inquiry → PAS 2.2.1 Parameters with one `return` inquiry response Bundle (2.0.1:
 *   the Bundle itself when the inquiry declares a 2.0.1 profile); another organization: no match;
 * - the kit's non-conformant Bundle (no entries) → 400 OperationOutcome;
 * - the kit's 2.2.1 Subscription → refused for its endpoint as it stands (issue 13), accepted with
 *   an allow-listed one: `requested`, id-only, its `org-identifier` filter kept, a handshake sent.
 * The calls carry medpolicy provider tokens (helpers.ts) until client JWTs are wired in.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { inquiryBundles } from "../../src/server/fhir/pas-inquire.js";
import { makeClient } from "./clients.js";
import { checkOperationOutcome, checkPasResponse, reviewCodes } from "./conformance.js";
import { call, listener, startFhirServer, type TestServer } from "./helpers.js";
import { type FhirContext, formatIssues, igAvailable, validateFhir } from "./ig/validator.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;

const fixture = (name: string): J =>
  JSON.parse(readFileSync(new URL(`./testkit/pas/${name}`, import.meta.url), "utf8"));
const PAS_SD = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition";

/** 0 errors against the IG packages (issue 16), when ../shared is present. */
function assertIgValid(body: J, fc: FhirContext, what: string): void {
  if (!igAvailable) return;
  const v = validateFhir(body, fc);
  assert.deepEqual(v.errors, [], `${what}:\n${formatIssues(v.errors)}`);
}

describe("PAS test kit fixtures (issue 16)", () => {
  let s: TestServer;
  let ehrToken: string;
  let otherToken: string;
  // Replayed as an EHR sends them: SMART Backend Services tokens of registered clients (issue 16).
  before(async () => {
    const ehr = await makeClient("backend", { org: "northside" });
    const other = await makeClient("backend", { org: "lakeside", alg: "ES384" });
    s = await startFhirServer({}, undefined, { clients: [ehr.registration, other.registration] });
    const scope = "system/Claim.crs system/ClaimResponse.rs system/Subscription.cruds";
    ehrToken = await ehr.backendToken(s.url, scope);
    otherToken = await other.backendToken(s.url, scope);
  });
  after(() => s.close());
  const post = (path: string, body: unknown, token = ehrToken) => call(s.url, "POST", path, { token, body });

  test("$submit of the conformant request Bundle: a conformant PAS response Bundle", async () => {
    const req = fixture("conformant_pas_bundle_v110.json");
    const r = await post("/fhir/Claim/$submit", req);
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.deepEqual(checkPasResponse(r.body, [1]), []);
    assertIgValid(r.body, { pas: "2.2.1", operation: "submit" }, "$submit");
    assert.deepEqual(r.body.identifier, req.identifier, "the submitter's transaction identifier is echoed");
    assert.match(r.body.meta.profile[0], /profile-pas-response-bundle$/);
    assert.ok(r.body.entry.every((e: J) => typeof e.fullUrl === "string" && e.fullUrl.length > 0));
    const cr = r.body.entry[0].resource;
    // Every reference of the ClaimResponse resolves in the Bundle by R4's rules (a relative one
    // against the ClaimResponse's own base): the kit's resources live at the submitter's server.
    const crBase = r.body.entry[0].fullUrl.replace(/ClaimResponse\/[^/]+$/, "");
    const resolve = (ref: string) => (/^[a-z]+:/i.test(ref) ? ref : `${crBase}${ref}`);
    const fullUrls = r.body.entry.map((e: J) => e.fullUrl);
    for (const at of ["patient", "requestor", "insurer"])
      if (cr[at]?.reference)
        assert.ok(fullUrls.includes(resolve(cr[at].reference)), `${at} ${cr[at].reference}`);
    const claimUrl = req.entry[0].fullUrl;
    assert.equal(
      cr.request.reference,
      /^https?:/.test(claimUrl) ? claimUrl : "Claim/ReferralAuthorizationExample",
    );
    assert.deepEqual(cr.identifier[0].value, "111099");
    // The X12 1365 "Consultation" code is no CPT/HCPCS code this library governs: no action required.
    assert.deepEqual(reviewCodes(cr.item[0]), ["NA"]);
    const trace = cr.item[0].extension.find((e: J) => e.url === `${PAS_SD}/extension-itemTraceNumber`);
    assert.deepEqual(trace.valueIdentifier.value, "1122334");
    // The requestor and the insurer the ClaimResponse names are in the Bundle.
    const urls = r.body.entry.map((e: J) => e.fullUrl);
    assert.ok(urls.includes("https://prior-auth.davinci.hl7.org/fhir/Organization/UMOExample"));
    assert.ok(urls.includes("https://prior-auth.davinci.hl7.org/fhir/Organization/InsurerExample"));
    // The kit's insurer carries a 6-digit "NPI" (us-core-16/17): not echoed, and said so.
    const insurer = r.body.entry.find((e: J) => e.resource.id === "InsurerExample").resource;
    assert.equal(insurer.identifier, undefined);
    assert.equal(insurer.name, "MARYLAND CAPITAL INSURANCE COMPANY");
    assert.ok(
      cr.processNote.some(
        (n: J) =>
          n.text ===
          "Organization/InsurerExample: an identifier in the NPI system that is not a valid NPI (10 digits with its check digit) is not echoed.",
      ),
    );
  });

  test("$inquire of the conformant inquiry: 2.2.1 Parameters with the one match; 2.0.1 the Bundle; others none", async () => {
    await post("/fhir/Claim/$submit", fixture("conformant_pas_bundle_v110.json"));
    const inq = fixture("conformant_pas_inquire_bundle_v110.json");
    const r = await post("/fhir/Claim/$inquire", inq);
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.equal(r.body.resourceType, "Parameters");
    assert.deepEqual(
      r.body.parameter.map((p: J) => p.name),
      ["return"],
    );
    assertIgValid(r.body, { pas: "2.2.1", operation: "inquire" }, "$inquire 2.2.1");
    const [bundle] = inquiryBundles(r.body);
    assert.deepEqual(checkPasResponse(bundle, [1]), []);
    assert.match(bundle!.meta!.profile![0]!, /profile-pas-inquiry-response-bundle$/);
    const cr = bundle!.entry![0]!.resource as J;
    assert.match(cr.meta.profile[0], /profile-claiminquiryresponse$/);
    assert.equal(cr.identifier[0].value, "111099");

    const v201 = structuredClone(inq);
    v201.meta.profile = [`${PAS_SD}/profile-pas-inquiry-request-bundle|2.0.1`];
    const r201 = await post("/fhir/Claim/$inquire", v201);
    assert.equal(r201.status, 200, r201.text.slice(0, 300));
    assert.equal(r201.body.resourceType, "Bundle");
    assertIgValid(r201.body, { pas: "2.0.1", operation: "inquire" }, "$inquire 2.0.1");
    assert.deepEqual(checkPasResponse(r201.body, [1]), []);

    const other = await post("/fhir/Claim/$inquire", inq, otherToken);
    assert.equal(other.status, 200);
    assert.deepEqual(other.body, { resourceType: "Parameters" });
  });

  test("the non-conformant Bundle (no entries): 400 OperationOutcome", async () => {
    for (const op of ["$submit", "$inquire"]) {
      const r = await post(`/fhir/Claim/${op}`, fixture("nonconformant_pas_bundle.json"));
      assert.equal(r.status, 400, `${op}: ${r.text.slice(0, 300)}`);
      assert.deepEqual(checkOperationOutcome(r.body), [], op);
      assert.deepEqual(r.body.issue[0].expression, ["Bundle.entry[0].resource"], op);
    }
  });

  test("the 2.2.1 Subscription: its own endpoint refused (issue 13); allow-listed, accepted and handshaken", async () => {
    const sub = fixture("PAS_Subscription_example_v221_good.json");
    const refused = await post("/fhir/Subscription", sub);
    assert.equal(refused.status, 400, refused.text);
    assert.deepEqual(refused.body.issue[0].expression, ["Subscription.channel.endpoint"]);
    const hook = await listener();
    try {
      const local = structuredClone(sub);
      local.channel.endpoint = hook.url;
      const r = await post("/fhir/Subscription", local);
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.status, "requested");
      assert.equal(r.body.channel._payload.extension.at(-1).valueCode, "id-only");
      assert.equal(r.body._criteria.extension[0].valueString, "org-identifier=8189991234");
      const hs = await hook.next();
      const st = hs.body.entry[0].resource;
      assert.equal(st.parameter.find((p: J) => p.name === "type").valueCode, "handshake");
      assert.equal(st.parameter.find((p: J) => p.name === "topic").valueCanonical, sub.criteria);
    } finally {
      await hook.close();
    }
  });
});
