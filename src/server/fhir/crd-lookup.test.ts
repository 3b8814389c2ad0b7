/**
 * CRD FHIR lookup (issue 16): the endpoint policy decides which hosts are called; a deadline, a size
 * cap, no redirects; 404 is "absent"; the access token is sent as a Bearer token and checked first.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { accessTokenOf, LookupFailure, lookupResources } from "./crd-lookup.js";
import { EndpointPolicy } from "./endpoint.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe("CRD FHIR lookup", () => {
  let handler: Handler = (_req, res) => res.writeHead(404).end();
  const seen: string[] = [];
  const srv = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
    handler(req, res);
  });
  let base = "";
  let port = 0;
  before(async () => {
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    port = (srv.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}/r4`;
  });
  after(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  const policy = new EndpointPolicy({ allow: ["127.0.0.1"] });
  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { "content-type": "application/fhir+json" }).end(JSON.stringify(body));

  test("reads and the Coverage search, with the Bearer token; 404 is absent; bundles are flattened", async () => {
    seen.length = 0;
    handler = (req, res) => {
      if (req.url === "/r4/Patient/p1") return json(res, 200, { resourceType: "Patient", id: "p1" });
      if (req.url === "/r4/Coverage?patient=p1&status=active")
        return json(res, 200, {
          resourceType: "Bundle",
          type: "searchset",
          entry: [{ resource: { resourceType: "Coverage", id: "c1" } }],
        });
      return json(res, 404, { resourceType: "OperationOutcome" });
    };
    const got = await lookupResources(
      base,
      "tok",
      { reads: ["Patient/p1", "Practitioner/gone", "bad ref/../x"], coverageOfPatient: "p1" },
      { policy },
    );
    assert.deepEqual(
      got.map((r) => `${r.resourceType}/${r.id}`),
      ["Coverage/c1", "Patient/p1"],
    );
    assert.deepEqual(seen, [
      "GET /r4/Coverage?patient=p1&status=active Bearer tok",
      "GET /r4/Patient/p1 Bearer tok",
      "GET /r4/Practitioner/gone Bearer tok",
    ]);
  });

  test("a host off the allow-list is never called", async () => {
    seen.length = 0;
    await assert.rejects(
      lookupResources(`http://localhost:${port}/r4`, "tok", { reads: ["Patient/p1"] }, { policy }),
      (e: unknown) => e instanceof LookupFailure && e.code === "refused" && /not permitted/.test(e.message),
    );
    assert.deepEqual(seen, []);
    // An empty allow-list admits only public addresses: loopback is refused too.
    await assert.rejects(
      lookupResources(base, "tok", { reads: ["Patient/p1"] }, { policy: new EndpointPolicy() }),
      (e: unknown) => e instanceof LookupFailure && e.code === "refused",
    );
    assert.deepEqual(seen, []);
  });

  test("deadline, size cap, redirect and non-JSON answers fail without detail for the client", async () => {
    handler = () => {}; // never answers
    await assert.rejects(
      lookupResources(base, "t", { reads: ["Patient/p1"] }, { policy, timeoutMs: 150 }),
      (e: unknown) => e instanceof LookupFailure && e.code === "timeout" && !/127\.0\.0\.1/.test(e.message),
    );
    handler = (_req, res) => json(res, 200, { resourceType: "Patient", id: "p1", text: "x".repeat(5000) });
    await assert.rejects(
      lookupResources(base, "t", { reads: ["Patient/p1"] }, { policy, maxResponseBytes: 1000 }),
      (e: unknown) => e instanceof LookupFailure && e.code === "body" && e.detail === "too-large",
    );
    handler = (_req, res) => res.writeHead(302, { location: "http://169.254.169.254/" }).end();
    await assert.rejects(
      lookupResources(base, "t", { reads: ["Patient/p1"] }, { policy }),
      (e: unknown) => e instanceof LookupFailure && e.code === "status" && e.detail === "302",
    );
    handler = (_req, res) => res.writeHead(200).end("<html>");
    await assert.rejects(
      lookupResources(base, "t", { reads: ["Patient/p1"] }, { policy }),
      (e: unknown) => e instanceof LookupFailure && e.code === "body",
    );
  });

  test("all the reads of one call share a deadline: a slow server cannot hold the hook for reads × timeout", async () => {
    handler = (req, res) => {
      setTimeout(
        () => json(res, 200, { resourceType: "Patient", id: String(req.url).split("/").pop() }),
        120,
      );
    };
    const t0 = Date.now();
    await assert.rejects(
      lookupResources(
        base,
        "t",
        { reads: ["Patient/a", "Patient/b", "Patient/c", "Patient/d", "Patient/e"] },
        { policy, timeoutMs: 1000, totalTimeoutMs: 300 },
      ),
      (e: unknown) => e instanceof LookupFailure && e.code === "timeout",
    );
    assert.ok(Date.now() - t0 < 800, `took ${Date.now() - t0} ms`);
  });

  test("the access token: a Bearer access_token of visible ASCII, else none", () => {
    assert.equal(accessTokenOf({ access_token: "abc.def", token_type: "Bearer" }), "abc.def");
    assert.equal(accessTokenOf({ access_token: "abc" }), "abc");
    assert.equal(accessTokenOf({ access_token: "a\r\nX-Evil: 1", token_type: "Bearer" }), undefined);
    assert.equal(accessTokenOf({ access_token: "abc", token_type: "MAC" }), undefined);
    assert.equal(accessTokenOf({ access_token: "" }), undefined);
    assert.equal(accessTokenOf(null), undefined);
    assert.equal(accessTokenOf({ access_token: "x".repeat(9000) }), undefined);
  });
});
