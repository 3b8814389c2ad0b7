/**
 * Issue 16: the CRD test kit's hook requests (inferno-framework/davinci-crd-test-kit) and requests in
 * the shape HL7-DaVinci/crd-request-generator sends, replayed against the service in both the 2.2 and
 * 2.0.1 forms. Data missing from prefetch is read from a loopback EHR FHIR server (the fixtures'
 * placeholder `fhirServer` is pointed at it). Every 200 is a conformant CDS Hooks response whose
 * coverage information passes the IG's invariants; on primary hooks every order carries some.
 * Provenance: test/fhir/testkit/crd/PROVENANCE.md.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { PRIMARY_HOOKS } from "../../src/server/fhir/crd.js";
import { makeClient, type TestClient } from "./clients.js";
import { COVERAGE_INFORMATION, checkHookResponse, checkOperationOutcome } from "./conformance.js";
import { call, startFhirServer, type TestServer } from "./helpers.js";
import { declareClientResources } from "./ig/collect.js";
import { formatIssues, igAvailable, validateFhir } from "./ig/validator.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;

const DIR = fileURLToPath(new URL("./testkit/crd", import.meta.url));
const read = (p: string): J => JSON.parse(readFileSync(join(DIR, p), "utf8"));
const requests = readdirSync(join(DIR, "requests"))
  .filter((f) => f.endsWith(".json"))
  .sort();

/** What each fixture must get (status; for 200, per order `Type/id` → covered/pa-needed). */
const EXPECTED: Record<string, { status: number; orders?: Record<string, string>; message?: RegExp }> = {
  // Nutrition and RxNorm orders: no CPT/HCPCS code → conditional, never silence on a primary hook.
  "order_sign_hook_request.json": {
    status: 200,
    orders: {
      "NutritionOrder/pureeddiet-simple": "conditional/conditional",
      "MedicationRequest/smart-MedicationRequest-103": "conditional/conditional",
    },
  },
  // The fixture's first Appointment has `end` "2019-08-10T09:10:00:00-06:00", not an R4 instant.
  "appointment_book_hook_request.json": {
    status: 400,
    message: /appointments\.entry\[0\]\.resource\.end: is not a valid instant/,
  },
  // No prefetch at all: the Encounter, Patient and Coverage are read from fhirServer.
  "encounter_start_hook_request.json": {
    status: 200,
    orders: { "Encounter/example": "conditional/conditional" },
  },
  // The dispatched orders are read from fhirServer (SNOMED / RxNorm coded → conditional).
  "order_dispatch_hook_v221_request.json": {
    status: 200,
    orders: {
      "ServiceRequest/example": "conditional/conditional",
      "MedicationRequest/smart-MedicationRequest-103": "conditional/conditional",
    },
  },
  // A pre-CDS-Hooks-2.0 order-dispatch context (`order`, `task`): dispatchedOrders is required.
  "order_dispatch_hook_request.json": { status: 400, message: /context\.dispatchedOrders/ },
  // Hook-16 style: HCPCS in the Blue Button system, no policy for E0424 → conditional.
  "request-generator_order-sign_E0424.json": {
    status: 200,
    orders: { "DeviceRequest/devreq-e0424": "conditional/conditional" },
  },
  // order-select (secondary): E0783 is governed → covered, auth-needed, no documentation stated.
  "request-generator_order-select_E0783.json": {
    status: 200,
    orders: { "DeviceRequest/devreq-e0783": "covered/auth-needed" },
  },
};

describe("CRD test-kit and request-generator fixtures", () => {
  let s: TestServer;
  let cds: TestClient;
  const jwt = (service: string) => cds.signHookJwt(`${s.url}/cds-services/${service}`);
  let ehr: { base: string; seen: { url: string; headers: IncomingHttpHeaders }[]; close(): Promise<void> };
  before(async () => {
    // Replayed as an EHR sends them: each hook call carries a JWT signed by a registered CDS client.
    cds = await makeClient("cds-client", { alg: "ES384" });
    s = await startFhirServer({}, undefined, { clients: [cds.registration] });
    const served: J[] = [
      ...readdirSync(join(DIR, "ehr")).map((f) => read(join("ehr", f))),
      read("requests/order_sign_hook_request.json").context.draftOrders.entry[1].resource,
    ];
    // What this EHR serves is the test kit's, some of it not valid against CRD's profiles: the IG
    // check of every answer (helpers.ts) counts only what the service adds to it.
    declareClientResources(served);
    const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
    const srv = createServer((req, res) => {
      seen.push({ url: req.url ?? "", headers: req.headers });
      const path = (req.url ?? "").replace(/^\/r4\//, "");
      const send = (status: number, body: unknown) =>
        res.writeHead(status, { "content-type": "application/fhir+json" }).end(JSON.stringify(body));
      if (path.startsWith("Coverage?")) {
        return send(200, {
          resourceType: "Bundle",
          type: "searchset",
          entry: served.filter((r) => r.resourceType === "Coverage").map((resource) => ({ resource })),
        });
      }
      const hit = served.find((r) => `${r.resourceType}/${r.id}` === path);
      return hit ? send(200, hit) : send(404, { resourceType: "OperationOutcome", issue: [] });
    });
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    ehr = {
      base: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/r4`,
      seen,
      close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
    };
  });
  after(async () => {
    await ehr.close();
    await s.close();
  });

  test("every fixture has an expectation", () => {
    assert.deepEqual(requests, Object.keys(EXPECTED).sort());
  });

  test("the appointments fixture with its invalid `end` repaired: every Appointment gets coverage information", async () => {
    const body = read("requests/appointment_book_hook_request.json");
    body.fhirServer = ehr.base;
    body.context.appointments.entry[0].resource.end = "2019-08-10T09:10:00-06:00";
    body.context.appointments.entry[1].resource.end = "2020-08-01T13:30:00-06:00";
    const r = await call(s.url, "POST", "/cds-services/appointment-book-crd", {
      token: await jwt("appointment-book-crd"),
      body,
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
    assert.deepEqual(
      r.body.systemActions.map((a: J) => a.resource.id),
      ["apt1", "apt2"],
    );
  });

  for (const file of requests) {
    for (const form of ["2.2", "2.0.1"] as const) {
      test(`${file} (${form} form)`, async () => {
        const body = read(join("requests", file));
        if (body.fhirServer === "https://example/r4") body.fhirServer = ehr.base;
        const want = EXPECTED[file]!;
        const r = await call(
          s.url,
          "POST",
          `/cds-services/${body.hook}-crd${form === "2.0.1" ? "?crd=2.0.1" : ""}`,
          {
            token: await jwt(`${body.hook}-crd`),
            body,
          },
        );
        assert.equal(r.status, want.status, r.text);
        if (r.status !== 200) {
          assert.deepEqual(checkOperationOutcome(r.body), []);
          if (want.message) assert.match(r.body.issue[0].details.text, want.message);
          return;
        }
        assert.deepEqual(checkHookResponse(r.body, form), []);
        const got: Record<string, string> = {};
        for (const a of r.body.systemActions) {
          const ext = a.resource.extension.find((e: J) => e.url === COVERAGE_INFORMATION);
          const v = (u: string) => ext.extension.find((x: J) => x.url === u)?.valueCode;
          got[`${a.resource.resourceType}/${a.resource.id}`] = `${v("covered")}/${v("pa-needed")}`;
          if (!PRIMARY_HOOKS.has(body.hook)) assert.equal(v("doc-needed"), undefined, "secondary hook");
        }
        assert.deepEqual(got, want.orders);
        // The 2.0.1 form against the CRD 2.0.1 package (the one we have): 0 errors from what the service
        // adds. The orders are returned whole, and some test-kit orders are not valid R4 themselves
        // (NutritionOrder without `intent`, `doseAndRate` not an array): those errors are the
        // fixture's, present without the coverage information too, and are not counted.
        if (form === "2.0.1" && igAvailable) {
          for (const a of r.body.systemActions) {
            const key = (i: { path: string; message: string }) => `${i.path}|${i.message}`;
            const without = {
              ...a.resource,
              extension: a.resource.extension.filter((e: J) => e.url !== COVERAGE_INFORMATION),
            };
            if (without.extension.length === 0) delete without.extension;
            const theirs = new Set(validateFhir(without).errors.map(key));
            const ours = validateFhir(a.resource).errors.filter((i) => !theirs.has(key(i)));
            assert.deepEqual(ours, [], `${a.resource.resourceType}/${a.resource.id}: ${formatIssues(ours)}`);
          }
        }
        // The lookups carried the fixture's access token.
        for (const x of ehr.seen) assert.equal(x.headers.authorization, "Bearer SAMPLE_TOKEN");
      });
    }
  }
});
