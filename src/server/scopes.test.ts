/** Issue 16 item 5: SMART scope parsing, grants, and the FHIR route → scope table. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Principal } from "./auth.js";
import {
  grantScopes,
  parseScope,
  routeSegments,
  scopeAllows,
  scopeRefusal,
  scopeRequirement,
} from "./scopes.js";

describe("parseScope", () => {
  test("v1 and v2 resource scopes", () => {
    assert.deepEqual(parseScope("system/*.read"), {
      context: "system",
      type: "*",
      perms: "rs",
      version: 1,
      raw: "system/*.read",
    });
    assert.equal(parseScope("user/Claim.write")?.perms, "cud");
    assert.equal(parseScope("patient/Observation.*")?.perms, "cruds");
    assert.equal(parseScope("system/Claim.c")?.version, 2);
    assert.equal(parseScope("user/*.rs")?.perms, "rs");
    assert.equal(parseScope("patient/Observation.rs?category=laboratory")?.query, "category=laboratory");
  });
  test("anything else is not a resource scope", () => {
    for (const s of [
      "launch",
      "openid",
      "launch/patient",
      "system/Claim.sr", // v2 letters out of order
      "system/Claim.cc",
      "system/Claim.x",
      "system/Claim.",
      "system/.rs",
      "admin/Claim.rs",
      "system/Cl-aim.rs",
      "system/Claim.rs?",
      `system/${"A".repeat(300)}.rs`,
    ]) {
      assert.equal(parseScope(s), undefined, s);
    }
  });
});

describe("grantScopes: ⊆ registered ∩ requested", () => {
  const reg = ["system/Claim.crs", "system/ClaimResponse.r", "system/Questionnaire.read", "launch"];
  test("covered scopes as written, partial ones as the covered part", () => {
    assert.deepEqual(grantScopes(["system/Claim.c"], reg), ["system/Claim.c"]);
    assert.deepEqual(grantScopes(["system/Claim.read"], reg), ["system/Claim.read"]);
    assert.deepEqual(grantScopes(["system/*.rs"], reg), [
      "system/Claim.rs",
      "system/ClaimResponse.r",
      "system/Questionnaire.rs",
    ]);
    assert.deepEqual(grantScopes(["system/Claim.cruds"], reg), ["system/Claim.crs"]);
    assert.deepEqual(grantScopes(["system/Claim.d", "system/Patient.r", "openid"], reg), []);
    assert.deepEqual(grantScopes(["launch", "user/Claim.c"], reg), ["launch"]);
    assert.deepEqual(grantScopes(["system/Claim.c"], ["system/*.cruds"]), ["system/Claim.c"]);
  });
  test("contexts: Backend Services grants system/ only", () => {
    assert.deepEqual(grantScopes(["user/Claim.c"], ["user/Claim.c"], new Set(["system"])), []);
  });
  test("restricted scopes: granted only when registered as written or covered", () => {
    assert.deepEqual(grantScopes(["system/Claim.rs?status=active"], ["system/Claim.rs"]), [
      "system/Claim.rs?status=active",
    ]);
    assert.deepEqual(grantScopes(["system/Claim.rs"], ["system/Claim.rs?status=active"]), []);
  });
});

describe("scope enforcement on FHIR routes", () => {
  test("the route table", () => {
    assert.deepEqual(scopeRequirement("POST", ["Claim", "$submit"]), { type: "Claim", anyOf: "c" });
    assert.deepEqual(scopeRequirement("POST", ["Claim", "%24inquire"]), { type: "Claim", anyOf: "rs" });
    assert.deepEqual(scopeRequirement("POST", ["Questionnaire", "$questionnaire-package"]), {
      type: "Questionnaire",
      anyOf: "r",
    });
    assert.deepEqual(scopeRequirement("GET", ["ClaimResponse", "x"]), { type: "ClaimResponse", anyOf: "r" });
    assert.deepEqual(scopeRequirement("POST", ["Subscription"]), { type: "Subscription", anyOf: "c" });
    assert.deepEqual(scopeRequirement("PUT", ["Subscription", "s"]), { type: "Subscription", anyOf: "u" });
    assert.deepEqual(scopeRequirement("DELETE", ["Subscription", "s"]), { type: "Subscription", anyOf: "d" });
    assert.deepEqual(scopeRequirement("GET", ["Subscription", "s", "$status"]), {
      type: "Subscription",
      anyOf: "r",
    });
    assert.deepEqual(scopeRequirement("GET", ["Questionnaire"]), { type: "Questionnaire", anyOf: "s" });
    assert.equal(scopeRequirement("GET", ["metadata"]), "public");
    assert.equal(scopeRequirement("POST", ["$unknown-op"]), undefined);
    assert.equal(scopeRequirement("OPTIONS", ["Claim"]), undefined);
  });
  test("scopeAllows: any of the interactions; type or *; restricted scopes never", () => {
    assert.equal(scopeAllows("system/Claim.c", "Claim", "c"), true);
    assert.equal(scopeAllows("system/Claim.rs", "Claim", "c"), false);
    assert.equal(scopeAllows("system/*.write", "Claim", "c"), true);
    assert.equal(scopeAllows("system/Claim.s", "Claim", "rs"), true);
    assert.equal(scopeAllows("system/ClaimResponse.r", "Claim", "r"), false);
    assert.equal(scopeAllows("system/Claim.c?status=active", "Claim", "c"), false);
  });
  const scoped: Principal = { sub: "c", name: "c", role: "provider", org: "o", scope: "system/Claim.rs" };
  test("scopeRefusal: FHIR only; own tokens (no scope) unchecked", () => {
    assert.equal(scopeRefusal(scoped, "POST", ["fhir", "Claim", "$inquire"]), undefined);
    assert.match(scopeRefusal(scoped, "POST", ["fhir", "Claim", "$submit"]) ?? "", /needs system\/Claim\.c/);
    assert.match(scopeRefusal(scoped, "GET", ["api", "requests"]) ?? "", /FHIR API \(\/fhir\) only/);
    assert.match(scopeRefusal(scoped, "POST", ["cds-services", "order-sign-crd"]) ?? "", /FHIR API/);
    assert.equal(scopeRefusal(scoped, "GET", [".well-known", "smart-configuration"]), undefined);
    assert.equal(scopeRefusal(scoped, "GET", ["fhir", "metadata"]), undefined);
    const own: Principal = { sub: "u", name: "u", role: "provider", org: "o" };
    assert.equal(scopeRefusal(own, "POST", ["fhir", "Claim", "$submit"]), undefined);
  });
  test("routeSegments uses the matched route's decoded parameters, not the raw URL", () => {
    assert.deepEqual(
      routeSegments({
        url: "/fhir/Cl%61im/%24submit?x=1",
        params: { type: "Claim", operation: "$submit" },
        routeOptions: { url: "/fhir/:type/:operation" },
      }),
      ["fhir", "Claim", "$submit"],
    );
    assert.deepEqual(routeSegments({ url: "/nowhere/a?b", params: {}, routeOptions: {} }), ["nowhere", "a"]);
  });
});
