/**
 * Issue 16: the `$inquire` answer forms of PAS 2.2.1 (Parameters of `return` Bundles, 0..*) and
 * 2.0.1 (a Bundle, or an OperationOutcome when nothing matches), and how a request picks its form.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Bundle } from "@medplum/fhirtypes";
import { inquiryAnswer, inquiryBundles, inquiryVersion } from "./pas-inquire.js";

const SD = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition";
const inquiry = (bundleProfiles?: string[], claimProfiles?: string[]) => ({
  resourceType: "Bundle",
  ...(bundleProfiles && { meta: { profile: bundleProfiles } }),
  type: "collection",
  entry: [
    {
      fullUrl: "http://ehr.example/fhir/Claim/c1",
      resource: {
        resourceType: "Claim",
        id: "c1",
        ...(claimProfiles && { meta: { profile: claimProfiles } }),
      },
    },
  ],
});
const response = (id: string): Bundle => ({ resourceType: "Bundle", id, type: "collection", entry: [] });

describe("inquiryVersion", () => {
  test("2.2.1 unless a PAS profile of version 2.0.x is declared on the Bundle or its Claim", () => {
    const cases: [unknown, string][] = [
      [inquiry(), "2.2.1"],
      [inquiry([`${SD}/profile-pas-inquiry-request-bundle`]), "2.2.1"],
      [inquiry([`${SD}/profile-pas-inquiry-request-bundle|2.2.1`]), "2.2.1"],
      [inquiry([`${SD}/profile-pas-inquiry-request-bundle|2.0.1`]), "2.0.1"],
      [inquiry([`${SD}/profile-pas-inquiry-request-bundle|2.0`]), "2.0.1"],
      [inquiry(undefined, [`${SD}/profile-claim-inquiry|2.0.1`]), "2.0.1"],
      // Only PAS canonicals count; a version elsewhere says nothing about PAS.
      [inquiry(["http://example.org/StructureDefinition/x|2.0.1"]), "2.2.1"],
      [inquiry([`${SD}/profile-pas-inquiry-request-bundle|2.01`]), "2.2.1"],
      [
        {
          resourceType: "Parameters",
          parameter: [
            { name: "resource", resource: inquiry([`${SD}/profile-pas-inquiry-request-bundle|2.0.1`]) },
          ],
        },
        "2.0.1",
      ],
      // Not a request at all: the default (claimBundleOf refuses it with a 400 afterwards).
      [null, "2.2.1"],
      [{ resourceType: "Bundle", meta: { profile: "x" }, entry: "y" }, "2.2.1"],
      [{ resourceType: "Parameters", parameter: {} }, "2.2.1"],
    ];
    for (const [body, want] of cases) assert.equal(inquiryVersion(body), want, JSON.stringify(body));
  });
});

describe("inquiryAnswer", () => {
  test("2.2.1: Parameters with one `return` per Bundle; none: no parameter at all", () => {
    assert.deepEqual(inquiryAnswer("2.2.1", [response("a"), response("b")]), {
      resourceType: "Parameters",
      parameter: [
        { name: "return", resource: response("a") },
        { name: "return", resource: response("b") },
      ],
    });
    assert.deepEqual(inquiryAnswer("2.2.1", []), { resourceType: "Parameters" });
  });

  test("2.0.1: the Bundle itself; none: an informational not-found OperationOutcome", () => {
    assert.deepEqual(inquiryAnswer("2.0.1", [response("a")]), response("a"));
    const none = inquiryAnswer("2.0.1", []);
    assert.equal(none.resourceType, "OperationOutcome");
    assert.deepEqual(
      (none as { issue: { severity: string; code: string }[] }).issue.map((i) => [i.severity, i.code]),
      [["information", "not-found"]],
    );
  });

  test("inquiryBundles reads either form back", () => {
    assert.deepEqual(inquiryBundles(inquiryAnswer("2.2.1", [response("a")])), [response("a")]);
    assert.deepEqual(inquiryBundles(inquiryAnswer("2.0.1", [response("a")])), [response("a")]);
    assert.deepEqual(inquiryBundles(inquiryAnswer("2.0.1", [])), []);
    assert.deepEqual(
      inquiryBundles({ resourceType: "Parameters", parameter: [{ name: "other", resource: response("x") }] }),
      [],
    );
  });
});
