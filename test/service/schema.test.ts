/**
 * Issue 15 item 2: `GET /api/policies/:id/schema` serves the JSON Schema of a case for a policy
 * version — the same document `caseSchemaFor` (and `medpolicy schema`) gives — to any authenticated
 * role; `ID@VERSION` or `?version=` names a version, else the one in force; 404 for an unknown policy
 * or version, 401 without a token; listed in the OpenAPI document.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { caseSchemaFor, type Library, loadLibrary } from "../../src/library/index.js";
import { call, startTest } from "./helpers.js";

const TODAY = new Date("2026-03-02T12:00:00Z");

describe("GET /api/policies/:id/schema (issue 15 item 2)", () => {
  let t: Awaited<ReturnType<typeof startTest>>;
  let lib: Library;
  before(async () => {
    lib = loadLibrary();
    t = await startTest("sqlite", { library: lib, clock: () => TODAY });
  });
  after(async () => {
    await t.close();
  });
  const expected = (ref: string) => JSON.parse(JSON.stringify(caseSchemaFor(lib.get(ref, "2026-03-02"))));

  it("200 for every role: the version in force, ID@VERSION and ?version=", async () => {
    for (const [role, token] of Object.entries(t.tokens)) {
      const r = await call(t.url, "GET", "/api/policies/CP.MP.173/schema", { token });
      assert.equal(r.status, 200, `${role}: ${r.text}`);
      assert.deepEqual(r.body, expected("CP.MP.173@2025-11"), role);
    }
    const tok = { token: t.tokens.reviewer };
    const at = await call(t.url, "GET", "/api/policies/CP.MP.173@2024-11/schema", tok);
    assert.equal(at.status, 200, at.text);
    assert.deepEqual(at.body, expected("CP.MP.173@2024-11"));
    assert.equal(at.body.$id, "http://medpolicy.example/schema/case/CP.MP.173/2024-11");
    const q = await call(t.url, "GET", "/api/policies/LA.CP.MP.173/schema?version=2024-02", tok);
    assert.equal(q.status, 200, q.text);
    assert.deepEqual(q.body, expected("LA.CP.MP.173@2024-02"));
    assert.ok("I.A.2.i" in q.body.properties.answers.properties);
    const sij = await call(t.url, "GET", "/api/policies/CP.MP.126/schema", tok);
    assert.equal(sij.status, 200, sij.text);
    assert.equal(sij.body.properties.facts.properties.therapeuticInjectionFailed.type, "boolean");
    assert.equal(sij.body.properties.answers.additionalProperties, false);
  });

  it("404 for an unknown policy or version, 401 without a token", async () => {
    const tok = { token: t.tokens.reviewer };
    const none = await call(t.url, "GET", "/api/policies/XX.NOPE/schema", tok);
    assert.equal(none.status, 404, none.text);
    assert.match(none.text, /XX\.NOPE/);
    for (const path of [
      "/api/policies/CP.MP.173@1999-01/schema",
      "/api/policies/CP.MP.173/schema?version=1999-01",
      "/api/policies/CP.MP.173/schema?version=2025-11@x",
    ]) {
      const r = await call(t.url, "GET", path, tok);
      assert.equal(r.status, 404, `${path}: ${r.text}`);
    }
    assert.equal((await call(t.url, "GET", "/api/policies/CP.MP.173/schema")).status, 401);
  });

  it("is in the OpenAPI document", async () => {
    const doc = await call(t.url, "GET", "/openapi.json");
    assert.ok(doc.body.paths["/api/policies/{id}/schema"]?.get);
  });
});
