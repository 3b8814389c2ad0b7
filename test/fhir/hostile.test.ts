/**
 * Issue 13's FHIR findings, one test each (bodies in `hostile-fixtures.ts`): linear reference
 * resolution, wrong-typed input → 400 OperationOutcome naming the element, PAS `$submit` validated
 * before any write (and a failing second write leaves no claim context), duplicate fullUrls and
 * `Type/id`s refused, the public base URL configured and never taken from `Host`, and the body
 * parser's depth and duplicate-key refusals answered as OperationOutcomes under /fhir.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ResourceIndex, typeIdOf } from "../../src/server/fhir/common.js";
import { unservedFormat } from "../../src/server/fhir/index.js";
import { type FhirState, SqliteFhirState } from "../../src/server/fhir/state.js";
import { validateResource } from "../../src/server/fhir/validate.js";
import { startServer } from "../../src/server/index.js";
import { checkOperationOutcome, checkPasResponse } from "./conformance.js";
import { pasBundle, patient } from "./fixtures.js";
import { call, library, startFhirServer, type TestServer } from "./helpers.js";
import {
  badServicedDate,
  crdLongPatientId,
  crdTwoPatients,
  duplicateFullUrl,
  pasLongPatientReference,
  twoPatients,
  WRONG_TYPED,
} from "./hostile-fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;

const inquiry = (identifier: string) => ({
  resourceType: "Bundle",
  type: "collection",
  entry: [
    {
      fullUrl: "urn:uuid:0b8c8f9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
      resource: {
        resourceType: "Claim",
        identifier: [{ system: "urn:trnorg:medpolicy-test", value: identifier }],
        use: "preauthorization",
        patient: { reference: "Patient/pat1" },
      },
    },
    // $inquire matches the patient too (identifiers collide): the inquiry carries the beneficiary.
    { fullUrl: "http://ehr.example/fhir/Patient/pat1", resource: patient() },
  ],
});

function assertOutcome(
  r: { status: number; body: J; text: string },
  status: number,
  code: string,
  expression?: string,
) {
  assert.equal(r.status, status, r.text.slice(0, 500));
  assert.deepEqual(checkOperationOutcome(r.body), [], r.text.slice(0, 500));
  assert.equal(r.body.issue[0].code, code, r.text.slice(0, 500));
  if (expression !== undefined) assert.deepEqual(r.body.issue[0].expression, [expression]);
}

describe("reference resolution is linear (issue 13)", () => {
  test("typeIdOf reads Type/id from the end, with or without a base and a version", () => {
    assert.equal(typeIdOf("Patient/p1"), "Patient/p1");
    assert.equal(typeIdOf("http://ehr.example/fhir/Patient/p1"), "Patient/p1");
    assert.equal(typeIdOf("http://ehr.example/fhir/Patient/p1/_history/3"), "Patient/p1");
    assert.equal(typeIdOf("urn:x:Patient/p1"), "Patient/p1");
    assert.equal(typeIdOf("Patient/"), undefined);
    assert.equal(typeIdOf("p1"), undefined);
    assert.equal(typeIdOf(`Patient/${"a".repeat(65)}`), undefined);
    assert.equal(typeIdOf("Patient/a b"), undefined);
  });

  test("a 1,000,000-character reference resolves to nothing, in one pass", { timeout: 10_000 }, () => {
    const index = new ResourceIndex();
    index.add({ resourceType: "Patient", id: "p1" });
    for (const s of [
      "a".repeat(1_000_000),
      `${"a/".repeat(500_000)}`,
      `${"Patient/".repeat(100_000)}p1x y`,
    ]) {
      assert.equal(index.resolve(s), undefined);
    }
    assert.equal(index.resolve(`${"x".repeat(100_000)}/Patient/p1`)?.id, "p1");
  });
});

describe("FHIR findings over HTTP (issue 13)", () => {
  let s: TestServer;
  let failNextClaimWrite = false;
  before(async () => {
    s = await startFhirServer({
      wrapState: (state) =>
        new Proxy(state, {
          get(target, prop, receiver) {
            if (prop === "putClaim") {
              return (...args: Parameters<FhirState["putClaim"]>) => {
                if (failNextClaimWrite) {
                  failNextClaimWrite = false;
                  return Promise.reject(new Error("simulated crash before the claim context is written"));
                }
                return target.putClaim(...(args as Parameters<typeof target.putClaim>));
              };
            }
            const v = Reflect.get(target, prop, receiver);
            return typeof v === "function" ? v.bind(target) : v;
          },
        }),
    });
  });
  after(async () => {
    await s?.close();
  });

  test("a 100,000-character context.patientId is a 400 naming it", { timeout: 20_000 }, async () => {
    const r = await call(s.url, "POST", "/cds-services/order-sign-crd", {
      token: s.tokens.provider,
      body: crdLongPatientId(),
    });
    assertOutcome(r, 400, "invalid", "context.patientId");
  });

  test("a 100,000-letter Claim.patient.reference is a 400 at once: it names no Patient of the Bundle", {
    timeout: 20_000,
  }, async () => {
    const r = await call(s.url, "POST", "/fhir/Claim/$submit", {
      token: s.tokens.provider,
      body: pasLongPatientReference("H-long"),
    });
    assertOutcome(r, 400, "invalid", "Claim.patient");
  });

  for (const h of WRONG_TYPED) {
    test(`wrong type → 400 OperationOutcome: ${h.name}`, async () => {
      const r = await call(s.url, "POST", h.path, { token: s.tokens.provider, body: h.body });
      assertOutcome(r, h.status, h.code, h.expression);
      assert.ok(!r.text.includes("Example"), "no PHI echoed in the message");
    });
  }

  test('servicedDate "2026-13-45": 400, and nothing stored: $inquire finds no request', async () => {
    const r = await call(s.url, "POST", "/fhir/Claim/$submit", {
      token: s.tokens.provider,
      body: badServicedDate("H-date"),
    });
    assertOutcome(r, 400, "value", "Bundle.entry[0].resource.item[0].servicedDate");
    const q = await call(s.url, "POST", "/fhir/Claim/$inquire", {
      token: s.tokens.provider,
      body: inquiry("H-date"),
    });
    // Issue 16: no match is an empty PAS 2.2.1 answer, not a 404.
    assert.equal(q.status, 200, q.text);
    assert.deepEqual(q.body, { resourceType: "Parameters" });
  });

  test("a failed claim-context write after the request is stored: $inquire 404, the retransmission recovers", async () => {
    const body = pasBundle("H-crash", ["62362"]);
    failNextClaimWrite = true;
    const first = await call(s.url, "POST", "/fhir/Claim/$submit", { token: s.tokens.provider, body });
    assert.equal(first.status, 500, first.text.slice(0, 300));
    assert.equal(first.body.resourceType, "OperationOutcome");
    const q = await call(s.url, "POST", "/fhir/Claim/$inquire", {
      token: s.tokens.provider,
      body: inquiry("H-crash"),
    });
    // Issue 16: no match is an empty PAS 2.2.1 answer, not a 404.
    assert.equal(q.status, 200, q.text);
    assert.deepEqual(q.body, { resourceType: "Parameters" });
    const again = await call(s.url, "POST", "/fhir/Claim/$submit", { token: s.tokens.provider, body });
    assert.equal(again.status, 200, again.text.slice(0, 300));
    assert.deepEqual(checkPasResponse(again.body), []);
    const id = again.body.entry[0].resource.id;
    const q2 = await call(s.url, "POST", "/fhir/Claim/$inquire", {
      token: s.tokens.provider,
      body: inquiry("H-crash"),
    });
    assert.equal(q2.status, 200, q2.text.slice(0, 300));
    assert.equal(
      q2.body.parameter[0].resource.entry[0].resource.id,
      id,
      "the inquiry finds the request the retransmission stored",
    );
  });

  test("two Patient/pat1 entries in a PAS bundle: 400, nothing stored", async () => {
    const r = await call(s.url, "POST", "/fhir/Claim/$submit", {
      token: s.tokens.provider,
      body: twoPatients("H-two"),
    });
    assertOutcome(r, 400, "invalid", "Bundle.entry[5].resource.id");
    const q = await call(s.url, "POST", "/fhir/Claim/$inquire", {
      token: s.tokens.provider,
      body: inquiry("H-two"),
    });
    // Issue 16: no match is an empty PAS 2.2.1 answer, not a 404.
    assert.equal(q.status, 200, q.text);
    assert.deepEqual(q.body, { resourceType: "Parameters" });
  });

  test("a repeated fullUrl in a PAS bundle: 400", async () => {
    const r = await call(s.url, "POST", "/fhir/Claim/$submit", {
      token: s.tokens.provider,
      body: duplicateFullUrl("H-url"),
    });
    assertOutcome(r, 400, "invalid", "Bundle.entry[5].fullUrl");
  });

  test("two different Patient/pat1 across a CRD prefetch: 400", async () => {
    const r = await call(s.url, "POST", "/cds-services/order-sign-crd", {
      token: s.tokens.provider,
      body: crdTwoPatients(),
    });
    assertOutcome(r, 400, "invalid", "prefetch.others.entry[0].resource");
  });

  test("the body parser's depth limit and duplicate-key refusal answer as OperationOutcomes", async () => {
    const deep = `{"resourceType":"Bundle","entry":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    const r = await call(s.url, "POST", "/fhir/Claim/$submit", { token: s.tokens.provider, raw: deep });
    assertOutcome(r, 400, "invalid");
    const dup = '{"resourceType":"Bundle","type":"collection","type":"batch"}';
    const d = await call(s.url, "POST", "/fhir/Claim/$submit", { token: s.tokens.provider, raw: dup });
    assertOutcome(d, 400, "invalid");
    const crd = await call(s.url, "POST", "/cds-services/order-sign-crd", {
      token: s.tokens.provider,
      raw: deep,
    });
    assertOutcome(crd, 400, "invalid");
  });
});

/** POST with a chosen Host header (fetch does not let a caller set it). */
function postWithHost(url: string, path: string, host: string, token: string, body: unknown): Promise<J> {
  const u = new URL(url);
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: "POST",
        headers: {
          host,
          authorization: `Bearer ${token}`,
          "content-type": "application/fhir+json",
          "content-length": Buffer.byteLength(data),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => {
          text += d.toString();
        });
        res.on("end", () => resolve(JSON.parse(text)));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

describe("the public base URL (issue 13: never the Host header)", () => {
  test("configured: fullUrls and the CapabilityStatement use it whatever Host says", async () => {
    const s = await startFhirServer({}, undefined, { publicUrl: "https://payer.example/medpolicy/" });
    try {
      assert.equal(s.server.ctx.config.publicUrl, "https://payer.example/medpolicy");
      const b = await postWithHost(
        s.url,
        "/fhir/Claim/$submit",
        "evil.example",
        s.tokens.provider!,
        pasBundle("P1", ["62362"]),
      );
      assert.match(b.entry[0].fullUrl, /^https:\/\/payer\.example\/medpolicy\/fhir\/ClaimResponse\//);
      const m = await call(s.url, "GET", "/fhir/metadata", {
        headers: { "x-forwarded-host": "evil.example" },
      });
      assert.equal(m.body.implementation.url, "https://payer.example/medpolicy/fhir");
    } finally {
      await s.close();
    }
  });

  test("by default the listening address, not the Host header", async () => {
    const s = await startFhirServer();
    try {
      const b = await postWithHost(
        s.url,
        "/fhir/Claim/$submit",
        "evil.example",
        s.tokens.provider!,
        pasBundle("P2", ["62362"]),
      );
      assert.ok(b.entry[0].fullUrl.startsWith(`${s.url}/fhir/ClaimResponse/`), b.entry[0].fullUrl);
      assert.ok(!JSON.stringify(b).includes("evil.example"));
    } finally {
      await s.close();
    }
  });

  test("MEDPOLICY_PUBLIC_URL is read; a URL with a query refuses to start", async () => {
    const before = process.env.MEDPOLICY_PUBLIC_URL;
    process.env.MEDPOLICY_PUBLIC_URL = "https://env.example";
    try {
      const s = await startFhirServer();
      assert.equal(s.server.ctx.config.publicUrl, "https://env.example");
      await s.close();
    } finally {
      if (before === undefined) delete process.env.MEDPOLICY_PUBLIC_URL;
      else process.env.MEDPOLICY_PUBLIC_URL = before;
    }
    await assert.rejects(
      startServer({
        port: 0,
        library: library(),
        quiet: true,
        publicUrl: "https://x.example/?a=1",
        dataDir: "/tmp/medpolicy-never",
      }),
      /public URL/,
    );
  });
});

describe("the claim context and its request: one write (issue 13)", () => {
  test("SQLite: putClaim stores the request id with the context; a rewrite keeps it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "medpolicy-fhir-state-"));
    const st = new SqliteFhirState<{ n: number }>(dir);
    try {
      const at = "2026-01-01T00:00:00.000Z";
      await st.putClaim("org", "k1", ["sys|A"], { n: 1 }, at, "req-1");
      assert.equal((await st.claimByRequest("req-1"))?.context.n, 1);
      await st.putClaim("org", "k1", ["sys|A"], { n: 2 }, at);
      const row = await st.claimByIdentifier("org", ["sys|A"]);
      assert.equal(row?.requestId, "req-1");
      assert.equal(row?.context.n, 2);
    } finally {
      await st.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the validator's reach", () => {
  test("a 50-entry PAS bundle validates; R4 formats are checked", () => {
    const b = pasBundle("V1", ["62362"]) as J;
    for (let i = 0; i < 45; i++)
      b.entry.push({
        fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
        resource: {
          resourceType: "Observation",
          id: `o${i}`,
          status: "final",
          code: { text: "x" },
          valueQuantity: { value: i },
        },
      });
    validateResource(b);
    const bad: [unknown, string][] = [
      [{ resourceType: "Patient", birthDate: "2026-02-30" }, "Patient.birthDate"],
      [{ resourceType: "Patient", id: "a b" }, "Patient.id"],
      [{ resourceType: "Claim", created: "yesterday" }, "Claim.created"],
      [{ resourceType: "Claim", item: [{ sequence: 0 }] }, "Claim.item[0].sequence"],
      [{ resourceType: "Observation", valueQuantity: { value: "1" } }, "Observation.valueQuantity.value"],
      [{ resourceType: "Patient", name: [{ given: "Ann" }] }, "Patient.name[0].given"],
      [
        { resourceType: "Patient", extension: [{ url: "x", valuePeriod: { start: 1 } }] },
        "Patient.extension[0].valuePeriod.start",
      ],
    ];
    for (const [r, at] of bad) {
      assert.throws(
        () => validateResource(r),
        (e: J) => e.status === 400 && e.expression === at,
        at,
      );
    }
  });
});

describe("format negotiation: FHIR R4 JSON only, said with 406", () => {
  test("unservedFormat: JSON and wildcards pass; XML, Turtle and other FHIR versions do not", () => {
    for (const [format, accept] of [
      [undefined, undefined],
      [undefined, "*/*"],
      [undefined, "application/fhir+json"],
      [undefined, "application/fhir+json; fhirVersion=4.0"],
      [undefined, "application/fhir+xml;q=0.9, application/json;q=0.5"],
      [undefined, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
      ["json", undefined],
      ["application/fhir+json", "*/*"],
      // _format overrides Accept; an unencoded "+" arrives as a space; the DSTU2-era type; quoted values.
      ["json", "application/fhir+xml"],
      ["application/fhir json", undefined],
      [undefined, "application/json+fhir;charset=UTF-8"],
      [undefined, 'application/fhir+json; fhirVersion="4.0"'],
      [undefined, "application/fhir+json;q=1"],
    ] as [string | undefined, string | undefined][])
      assert.equal(unservedFormat(format, accept), undefined, `${format} ${accept}`);
    for (const [format, accept] of [
      ["xml", undefined],
      ["application/fhir+xml", undefined],
      ["ttl", undefined],
      [undefined, "application/fhir+xml"],
      [undefined, "application/fhir+json; fhirVersion=5.0"],
      [undefined, "application/json;q=0, application/fhir+xml"],
      [undefined, "application/json;q=0.000, text/plain"],
    ] as [string | undefined, string | undefined][])
      assert.match(unservedFormat(format, accept) ?? "", /FHIR R4 JSON only/, `${format} ${accept}`);
  });

  test("over HTTP: 406 OperationOutcome for XML; JSON as before", async () => {
    const s = await startFhirServer();
    try {
      const xml = await call(s.url, "GET", "/fhir/metadata?_format=xml");
      assertOutcome(xml, 406, "not-supported");
      const accept = await call(s.url, "GET", "/fhir/metadata", {
        headers: { accept: "application/fhir+xml" },
      });
      assertOutcome(accept, 406, "not-supported");
      const json = await call(s.url, "GET", "/fhir/metadata", {
        headers: { accept: "application/fhir+json" },
      });
      assert.equal(json.status, 200);
      assert.equal(json.body.resourceType, "CapabilityStatement");
    } finally {
      await s.close();
    }
  });
});
