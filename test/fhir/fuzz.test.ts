/**
 * FHIR fuzz suite (issue 13: "a fuzz suite (fast-check) over every endpoint with typed-wrong, deep,
 * long and duplicate inputs: 0 × 5xx"). Every FHIR endpoint — the CRD hooks as registered, DTR
 * `$questionnaire-package` and `$next-question`, PAS `$submit` and `$inquire`, the ClaimResponse read,
 * Subscription create and read — gets the valid bodies of `fixtures.ts` and `../shared/fhir` with one
 * element replaced by a value of the wrong type, a deep or long value, a repeated array item or JSON
 * key, or removed. Every answer is below 500, and every 4xx is an OperationOutcome (R4 RESTful API);
 * a 200 from PAS is a conformant response Bundle. Bounded: 100 runs per endpoint, about 1,100 requests (~20 s on 2 busy cores).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Appointment, DeviceRequest } from "@medplum/fhirtypes";
import fc from "fast-check";
import { CRD_SERVICES } from "../../src/server/fhir/crd.js";
import { FACTS_EXTENSION } from "../../src/server/fhir/dtr.js";
import { checkOperationOutcome, checkPasResponse } from "./conformance.js";
import {
  CPT,
  coverage,
  dateOfService,
  hookRequest,
  order,
  pasBundle,
  patient,
  patientData,
} from "./fixtures.js";
import { call, sharedFiles, startFhirServer, type TestServer } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: fuzzed JSON is built structurally
type J = any;

/** A fresh seed each run (printed with any counterexample); `FUZZ_SEED`/`FUZZ_RUNS` replay or widen. */
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);

const Q = "http://medpolicy.example/Questionnaire/CP.MP.173-2025-11-II";
const appointment: Appointment = {
  resourceType: "Appointment",
  id: "ap1",
  status: "proposed",
  serviceType: [{ coding: [{ system: CPT, code: "27279" }] }],
  start: `${dateOfService()}T09:00:00Z`,
  participant: [{ actor: { reference: "Patient/pat1" }, status: "accepted" }],
};
const device: DeviceRequest = {
  resourceType: "DeviceRequest",
  id: "dr1",
  status: "active",
  intent: "order",
  codeCodeableConcept: {
    coding: [{ system: "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", code: "E0783" }],
  },
  subject: { reference: "Patient/pat1" },
};

interface Target {
  name: string;
  method: "POST" | "GET";
  /** The path, or for reads a function of a fuzzed id. */
  path: string | ((id: string) => string);
  bodies: unknown[];
}

function targets(): Target[] {
  const shared = (folder: string, match: RegExp) =>
    sharedFiles(folder)
      .filter((f) => match.test(f.name))
      .map((f) => f.json);
  const select = hookRequest("order-select", [order("62362", "x"), order("62322", "y")]) as J;
  select.context.selections = ["ServiceRequest/y"];
  const adaptiveQr = {
    resourceType: "QuestionnaireResponse",
    id: "qr-f",
    questionnaire: "#adaptive",
    contained: [
      {
        resourceType: "Questionnaire",
        id: "adaptive",
        derivedFrom: [Q],
        status: "active",
        item: [{ linkId: "I.A.1", type: "boolean", text: "q" }],
      },
    ],
    extension: [{ url: FACTS_EXTENSION, valueString: '{"lifeExpectancyMonths":14}' }],
    status: "in-progress",
    item: [{ linkId: "I.A.1", answer: [{ valueBoolean: true }] }],
  };
  const inquiry = {
    resourceType: "Bundle",
    type: "collection",
    entry: [
      {
        fullUrl: "urn:uuid:0b8c8f9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        resource: {
          resourceType: "Claim",
          identifier: [{ system: "urn:trnorg:medpolicy-test", value: "F1" }],
          use: "preauthorization",
          patient: { reference: "Patient/pat1" },
        },
      },
    ],
  };
  const subscription = {
    resourceType: "Subscription",
    status: "requested",
    reason: "PAS updates",
    criteria: "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic",
    channel: { type: "rest-hook", endpoint: "http://127.0.0.1:9/notify", payload: "application/fhir+json" },
  };
  // Valid hook requests by hook: ours, and the CRD IG's samples (by the hook each names).
  const hookBodies: Record<string, unknown[]> = {
    "order-sign": [hookRequest("order-sign", [order()])],
    "order-select": [select],
    "order-dispatch": [
      {
        hookInstance: "f0f0f0f0-0000-4000-8000-000000000001",
        hook: "order-dispatch",
        context: {
          patientId: "pat1",
          dispatchedOrders: ["DeviceRequest/dr1"],
          performer: "Organization/dme1",
        },
        prefetch: {
          patient: patient(),
          coverage,
          deviceRequests: { resourceType: "Bundle", type: "searchset", entry: [{ resource: device }] },
        },
      },
    ],
    "appointment-book": [hookRequest("appointment-book", [appointment])],
    // Issue 16: the encounter hooks (an Encounter and an order of it, prefetched).
    ...Object.fromEntries(
      (["encounter-start", "encounter-discharge"] as const).map((h) => [
        h,
        [
          {
            hookInstance: crypto.randomUUID(),
            hook: h,
            context: { userId: "Practitioner/dr1", patientId: "pat1", encounterId: "enc1" },
            prefetch: {
              patient: patient(),
              coverage,
              encounter: {
                resourceType: "Encounter",
                id: "enc1",
                status: h === "encounter-start" ? "in-progress" : "finished",
                class: { system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: "AMB" },
                subject: { reference: "Patient/pat1" },
              },
              serviceRequests: {
                resourceType: "Bundle",
                type: "searchset",
                entry: [
                  { resource: { ...order("62362", "e-sr"), encounter: { reference: "Encounter/enc1" } } },
                ],
              },
            },
          },
        ],
      ]),
    ),
  };
  // The CRD IG's samples, by the hook each names: only those with a Coverage prefetched (without one,
  // and with a FHIR server not on the allow-list, the answer is 412 — issue 16 — not a valid body).
  for (const j of shared("crd", /CRDServiceRequest\d*\.json$/) as J[]) {
    if (j.prefetch?.coverage) hookBodies[j.hook]?.push(j);
  }
  return [
    // Every CDS service as registered (a new hook without a body here fails the suite).
    ...CRD_SERVICES.map(
      (svc): Target => ({
        name: `CRD ${svc.hook}`,
        method: "POST",
        path: `/cds-services/${svc.id}`,
        bodies: hookBodies[svc.hook] ?? [],
      }),
    ),
    {
      name: "DTR $questionnaire-package",
      method: "POST",
      path: "/fhir/Questionnaire/$questionnaire-package",
      bodies: [
        {
          resourceType: "Parameters",
          parameter: [
            { name: "coverage", resource: coverage },
            { name: "order", resource: order() },
            { name: "patient", resource: patient() },
            { name: "patientData", resource: patientData },
          ],
        },
        ...shared("dtr-2.0.1", /QuestionnairePackageInputParams/),
      ],
    },
    {
      name: "DTR $next-question",
      method: "POST",
      path: "/fhir/Questionnaire/$next-question",
      bodies: [adaptiveQr],
    },
    {
      name: "PAS $submit",
      method: "POST",
      path: "/fhir/Claim/$submit",
      bodies: [
        pasBundle("F1", ["62362", "99213"]),
        {
          resourceType: "Parameters",
          parameter: [{ name: "resource", resource: pasBundle("F2", ["62362"]) }],
        },
        ...shared("pas-2.2.1", /Bundle-(MedicalServices|Referral)AuthorizationBundleExample/),
      ],
    },
    {
      name: "PAS $inquire",
      method: "POST",
      path: "/fhir/Claim/$inquire",
      bodies: [inquiry, ...shared("pas-2.2.1", /PASClaimInquiryBundleExample/)],
    },
    {
      name: "Subscription create",
      method: "POST",
      path: "/fhir/Subscription",
      // The PAS IG's example (filter and payload extensions), pointed at a loopback endpoint.
      bodies: [
        subscription,
        ...(shared("pas-2.2.1", /Subscription-PASSubscriptionExample/) as J[]).map((x) => ({
          ...x,
          channel: { ...x.channel, endpoint: "http://127.0.0.1:9/notify" },
        })),
      ],
    },
  ];
}

/** Every path (keys and array indexes) into a JSON value, at most `max` of them, breadth first. */
function pathsOf(v: unknown, max = 400): (string | number)[][] {
  const out: (string | number)[][] = [];
  const queue: [unknown, (string | number)[]][] = [[v, []]];
  while (queue.length > 0 && out.length < max) {
    const [x, p] = queue.shift()!;
    if (Array.isArray(x)) for (const [i, y] of x.entries()) queue.push([y, [...p, i]]);
    else if (x !== null && typeof x === "object")
      for (const [k, y] of Object.entries(x)) queue.push([y, [...p, k]]);
    if (p.length > 0) out.push(p);
  }
  return out;
}

const deep = (levels: number, leaf: unknown): unknown => {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { a: v };
  return v;
};

/** Values of the wrong type, deep and long values (16 KB and 200 KB strings: the body limit is 256 KB). */
const hostileValue = fc.oneof(
  fc.constantFrom<unknown>(
    0,
    -1,
    1.5,
    62362,
    1e308,
    true,
    false,
    null,
    "",
    "abc",
    "TX",
    " a  b ",
    {},
    [],
    [null],
    [0],
    { url: 0 },
  ),
  fc.constantFrom<unknown>(
    "2026-13-45",
    "2026-02-30",
    "Patient/",
    "#",
    "a/".repeat(4000),
    `Patient/${"a".repeat(70)}`,
  ),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.constantFrom(16 * 1024, 200 * 1024).map((n) => "a".repeat(n)),
  fc.integer({ min: 10, max: 70 }).map((n) => deep(n, "x")),
  fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.constant(null)), { maxLength: 4 }),
);

type Mutation =
  | { kind: "set"; at: number; value: unknown }
  | { kind: "delete"; at: number }
  | { kind: "wrap"; at: number; inArray: boolean }
  | { kind: "duplicate"; at: number }
  | { kind: "duplicateKey"; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: hostileValue }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("wrap" as const), at: fc.nat(), inArray: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("duplicateKey" as const), at: fc.nat() }) },
);

/** The body as text after the mutation (text, so a repeated JSON key can be sent). */
function mutate(body: unknown, m: Mutation): string {
  const b = structuredClone(body) as J;
  if (m.kind === "duplicateKey") {
    const text = JSON.stringify(b);
    const opens: number[] = [];
    for (let i = text.indexOf('{"'); i >= 0 && opens.length < 500; i = text.indexOf('{"', i + 1))
      opens.push(i);
    const i = opens[m.at % opens.length]!;
    // Repeat the object's first member: `{"k":v,…}` → `{"k":"dup","k":v,…}`.
    const end = text.indexOf('"', i + 2);
    const key = text.slice(i + 1, end + 1);
    return `${text.slice(0, i + 1)}${key}:"dup",${text.slice(i + 1)}`;
  }
  const paths = pathsOf(b);
  if (paths.length === 0) return JSON.stringify(b);
  const p = paths[m.at % paths.length]!;
  let parent = b;
  for (const k of p.slice(0, -1)) parent = parent[k];
  const last = p.at(-1)!;
  switch (m.kind) {
    case "set":
      parent[last] = m.value;
      break;
    case "delete":
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
      break;
    case "wrap":
      parent[last] = m.inArray ? [parent[last]] : { value: parent[last] };
      break;
    case "duplicate": {
      // Repeat an array item (an entry, a coding, an identifier) — or the nearest array's.
      let q = p;
      let arr: J;
      for (;;) {
        let x = b;
        for (const k of q.slice(0, -1)) x = x[k];
        if (Array.isArray(x) || q.length <= 1) {
          arr = Array.isArray(x) ? x : undefined;
          break;
        }
        q = q.slice(0, -1);
      }
      if (arr) arr.push(structuredClone(arr[Number(q.at(-1))]));
      break;
    }
  }
  return JSON.stringify(b);
}

/** `fc.assert`, with the failing answer in the message (fast-check keeps it only as the cause). */
async function holds<T>(p: fc.IAsyncProperty<T>, o: fc.Parameters<T>): Promise<void> {
  const out = await fc.check(p, o);
  if (out.failed)
    assert.fail(
      `counterexample ${JSON.stringify(out.counterexample).slice(0, 500)} (seed ${out.seed}, path ${out.counterexamplePath}): ${String((out.errorInstance as Error)?.message ?? out.errorInstance)}`,
    );
}

describe("FHIR fuzz: typed-wrong, deep, long and duplicate input → never 5xx (issue 13)", () => {
  let s: TestServer;
  before(async () => {
    s = await startFhirServer({ delivery: { retryDelaysMs: [10], timeoutMs: 200 } });
  });
  after(async () => {
    await s?.close();
  });

  const check = (name: string, r: { status: number; body: J; text: string }, raw: string) => {
    const where = `${name}: ${r.status} ${r.text.slice(0, 300)}\nbody: ${raw.slice(0, 400)}`;
    assert.ok(r.status < 500, where);
    if (r.status >= 400) {
      assert.equal(r.body?.resourceType, "OperationOutcome", where);
      assert.deepEqual(checkOperationOutcome(r.body), [], where);
    }
  };

  for (const t of targets()) {
    test(`${t.name}: ${t.bodies.length} valid bodies, mutated`, { timeout: 60_000 }, async () => {
      const token = s.tokens.provider!;
      assert.ok(t.bodies.length > 0, `${t.name}: no valid body to fuzz`);
      // The valid bodies themselves answer below 400 (a fuzz of nothing would prove nothing).
      for (const body of t.bodies) {
        const r = await call(s.url, t.method, t.path as string, { token, raw: JSON.stringify(body) });
        assert.ok(
          r.status < 300 || t.name === "Subscription create",
          `${t.name} valid: ${r.status} ${r.text.slice(0, 300)}`,
        );
      }
      await holds(
        fc.asyncProperty(fc.nat(t.bodies.length - 1), mutation, async (which, m) => {
          const raw = mutate(t.bodies[which], m);
          const r = await call(s.url, t.method, t.path as string, { token, raw });
          check(t.name, r, raw);
          if (t.name === "PAS $submit" && r.status === 200)
            assert.deepEqual(checkPasResponse(r.body), [], r.text.slice(0, 300));
        }),
        { numRuns: RUNS, seed: SEED },
      );
    });
  }

  test("reads: ClaimResponse and Subscription by any id", async () => {
    const token = s.tokens.provider!;
    await holds(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 90 }),
          fc.constantFrom("a".repeat(95), "%00", "..%2F..", "%24x", "ClaimResponse/1"),
        ),
        async (id) => {
          for (const path of [
            `/fhir/ClaimResponse/${encodeURIComponent(id)}`,
            `/fhir/Subscription/${encodeURIComponent(id)}`,
          ]) {
            const r = await call(s.url, "GET", path, { token });
            check(path, r, id);
          }
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
