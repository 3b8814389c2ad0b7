/**
 * PAS (SPEC 2.1, 2.4, 4): the pure mappings — request Bundle → case, request state → ClaimResponse —
 * and the operations' edges: idempotent retransmission, a date no policy version covers, drugs another
 * policy governs, answers that do not fit, ClaimResponse reads, Subscription validation and failing
 * endpoints, reviewer approval notified.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Bundle, MedicationRequest, QuestionnaireResponse, Resource } from "@medplum/fhirtypes";
import { FACTS_EXTENSION } from "../../src/server/fhir/dtr.js";
import { capabilityStatement } from "../../src/server/fhir/index.js";
import {
  type ClaimContext,
  claimBundleOf,
  claimResponseBundle,
  inquiryMatches,
  PAS_EXT,
  parsePasRequest,
  type ResponseState,
} from "../../src/server/fhir/pas.js";
import { inquiryAnswer, inquiryBundles } from "../../src/server/fhir/pas-inquire.js";
import { handshakeBundle, statusBundle } from "../../src/server/fhir/subscriptions.js";
import { checkOperationOutcome, checkPasResponse, reviewCodes } from "./conformance.js";
import { dateOfService, PROVIDER_NPI, pasBundle } from "./fixtures.js";
import {
  call,
  library,
  listener,
  notifiedClaimResponse,
  SHARED_FHIR,
  signApproved,
  startFhirServer,
  type TestServer,
} from "./helpers.js";
import { type FhirContext, formatIssues, igAvailable, validateFhir } from "./ig/validator.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;
const today = new Date().toISOString().slice(0, 10);
const opts = { today, baseUrl: "http://payer.example" };
const Q = "http://medpolicy.example/Questionnaire/CP.MP.173-2025-11-II";

function qr(answers: Record<string, boolean>, questionnaire = Q, facts?: unknown): QuestionnaireResponse {
  return {
    resourceType: "QuestionnaireResponse",
    id: "qr1",
    questionnaire,
    status: "completed",
    // DTR 2.0.1: subject 1..1, the claim's patient (pasBundle's Patient/pat1).
    subject: { reference: "Patient/pat1" },
    ...(facts !== undefined && { extension: [{ url: FACTS_EXTENSION, valueString: JSON.stringify(facts) }] }),
    item: Object.entries(answers).map(([linkId, v]) => ({ linkId, answer: [{ valueBoolean: v }] })),
  };
}

describe("PAS request Bundle → case (SPEC 2.1)", () => {
  test("member, codes, date of service, answers and facts from an attached QuestionnaireResponse", () => {
    const b = pasBundle(
      "U1",
      ["62362", "99213"],
      qr({ "I.A.1": true, "I.B.4": false }, Q, { lifeExpectancyMonths: 14 }),
      "NC",
    );
    // NC's variant governs an NC member: a response to the corporate questionnaire is not used.
    const nc = parsePasRequest(b, library(), opts);
    assert.deepEqual(nc.caseInput?.answers, {});
    assert.match(
      nc.context.notes.join(),
      /answers CP\.MP\.173@2025-11, which does not govern this request \(NC\.CP\.MP\.173@2026-01\)/,
    );
    const tx = parsePasRequest(
      pasBundle(
        "U1",
        ["62362", "99213"],
        qr({ "I.A.1": true, "I.B.4": false }, Q, { lifeExpectancyMonths: 14 }),
      ),
      library(),
      opts,
    );
    assert.deepEqual(tx.caseInput, {
      id: "U1",
      // Issue 14: the member's name and postal address, and the requesting provider by NPI.
      member: {
        state: "TX",
        birthDate: "1961-03-02",
        name: "Test Example",
        address: { lines: ["1 Main St"], city: "Austin", state: "TX", postalCode: "78701" },
      },
      service: { codes: ["62362", "99213"], dateOfService: dateOfService() },
      answers: { "I.A.1": true, "I.B.4": false },
      facts: { lifeExpectancyMonths: 14 },
      providers: { requesting: { npi: PROVIDER_NPI, name: "Northside Pain Clinic" } },
    });
    assert.deepEqual(
      tx.context.items.map((i) => [i.sequence, i.code?.code]),
      [
        [1, "62362"],
        [2, "99213"],
      ],
    );
    assert.deepEqual(tx.context.providerIdentifiers, [PROVIDER_NPI]);
    assert.equal(tx.context.claimId, "claim-U1");
    // A retransmission has the same idempotency key; other content a different one.
    assert.equal(
      parsePasRequest(
        pasBundle(
          "U1",
          ["62362", "99213"],
          qr({ "I.A.1": true, "I.B.4": false }, Q, { lifeExpectancyMonths: 14 }),
        ),
        library(),
        opts,
      ).key,
      tx.key,
    );
    assert.notEqual(parsePasRequest(pasBundle("U1", ["62362"]), library(), opts).key, tx.key);
  });

  test("a QuestionnaireResponse entered in error, stopped, about another patient or about no one documents nothing", () => {
    const answers = { "I.A.1": true, "I.B.4": false };
    const parse = (r: QuestionnaireResponse) =>
      parsePasRequest(pasBundle("U9", ["62362"], r), library(), opts);
    // Control: completed and about the claim's patient (by id, as a DTR client's reference) is used.
    const own = parse({ ...qr(answers), subject: { reference: "Patient/pat1" } });
    assert.deepEqual(own.caseInput?.answers, answers);
    for (const [r, why] of [
      [{ ...qr(answers), status: "entered-in-error" }, /has status "entered-in-error"/],
      [{ ...qr(answers), status: "stopped" }, /has status "stopped"/],
      // DTR 2.0.1 requires the subject: answers about nobody in particular certify no one.
      [(({ subject: _s, ...r }) => r)(qr(answers)), /names no subject/],
      [
        { ...qr(answers), subject: { reference: "Patient/examplepatient" } },
        /is about Patient\/examplepatient, not the claim's patient/,
      ],
      [
        { ...qr(answers), subject: { reference: "http://ehr.example/fhir/Patient/other/_history/2" } },
        /is about Patient\/other/,
      ],
    ] as [QuestionnaireResponse, RegExp][]) {
      const p = parse(r);
      assert.deepEqual(p.caseInput?.answers, {}, JSON.stringify(r.subject ?? r.status));
      assert.match(p.context.notes.join("\n"), why);
    }
  });

  test("$inquire matches the patient and the services, not the identifier alone", () => {
    const stored = parsePasRequest(pasBundle("U7", ["62362"]), library(), opts).context;
    const ask = (mutate: (b: J) => void) => {
      const b = pasBundle("U7", ["62362"]) as J;
      mutate(b);
      const { claim, index } = claimBundleOf(b);
      return inquiryMatches(stored, claim, index);
    };
    const patientOf = (b: J) => b.entry.find((e: J) => e.resource.resourceType === "Patient").resource;
    const claimOf = (b: J) => b.entry.find((e: J) => e.resource.resourceType === "Claim").resource;
    assert.equal(
      ask(() => {}),
      true,
    );
    assert.equal(
      ask((b) => {
        delete claimOf(b).item;
      }),
      true,
      "no services named: the patient decides",
    );
    assert.equal(
      ask((b) => {
        Object.assign(patientOf(b), { name: [{ family: "Other" }], birthDate: "1990-01-01" });
      }),
      false,
      "another patient under the same identifier",
    );
    assert.equal(
      ask((b) => {
        Object.assign(patientOf(b), { name: [{ family: "Other" }], identifier: [{ value: "M-1" }] });
      }),
      false,
    );
    assert.equal(
      ask((b) => {
        claimOf(b).item[0].productOrService.coding[0].code = "27279";
      }),
      false,
      "another service under the same identifier",
    );
    // Twins: one name and birth date, each identified, by different identifiers.
    const withId = (value: string) => {
      const b = pasBundle("U7", ["62362"]) as J;
      patientOf(b).identifier = [{ system: "urn:member", value }];
      return b;
    };
    const stored2 = parsePasRequest(withId("M-1"), library(), opts).context;
    const twin = claimBundleOf(withId("M-2"));
    assert.equal(inquiryMatches(stored2, twin.claim, twin.index), false, "a twin is another patient");
    const same = claimBundleOf(withId("M-1"));
    assert.equal(inquiryMatches(stored2, same.claim, same.index), true);
    assert.equal(
      ask((b) => {
        b.entry = b.entry.filter((e: J) => e.resource.resourceType !== "Patient");
      }),
      false,
      "no beneficiary in the inquiry: nothing is disclosed",
    );
  });

  test("items whose own dates choose different versions are not decided on the first one's date (57)", () => {
    const b = pasBundle("U10", ["62322", "62362"]) as J;
    const claim = b.entry.find((e: J) => e.resource.resourceType === "Claim").resource;
    claim.item[0].servicedDate = "2025-10-15"; // CP.MP.173@2024-11 in force
    claim.item[1].servicedDate = "2026-01-15"; // CP.MP.173@2025-11 in force
    const p = parsePasRequest(b, library(), opts);
    assert.equal(p.caseInput, undefined);
    assert.equal(p.problem?.code, "57");
    assert.equal(p.problem?.expression, "Claim.item[1].servicedDate");
    assert.match(p.problem?.text ?? "", /CP\.MP\.173@2025-11.*CP\.MP\.173@2024-11/);
    // Dated apart within one version: one request, decided on the first governed item's date.
    claim.item[0].servicedDate = "2026-01-10";
    const same = parsePasRequest(b, library(), opts);
    assert.equal(same.problem, undefined);
    assert.equal(same.caseInput?.service.dateOfService, "2026-01-10");
  });

  test("answers for one policy are never read by another policy governing the same claim (33)", () => {
    const sij = "http://medpolicy.example/Questionnaire/CP.MP.126-2025-04-II";
    const two = (...r: QuestionnaireResponse[]) => {
      const b = pasBundle("U11", ["62362", "27279"], r[0]) as J;
      const claim = b.entry.find((e: J) => e.resource.resourceType === "Claim").resource;
      for (const [k, x] of r.slice(1).entries()) {
        const extra = { ...x, id: `qr-extra-${k}` };
        b.entry.push({
          fullUrl: `http://ehr.example/fhir/QuestionnaireResponse/${extra.id}`,
          resource: extra,
        });
        claim.supportingInfo = [
          ...(claim.supportingInfo ?? []),
          {
            sequence: 90 + k,
            category: {
              coding: [
                {
                  system: "http://hl7.org/us/davinci-pas/CodeSystem/PASSupportingInfoType",
                  code: "questionnaire",
                },
              ],
            },
            valueReference: { reference: `QuestionnaireResponse/${extra.id}` },
          },
        ];
      }
      return parsePasRequest(b, library(), opts);
    };
    // CP.MP.173's II.A.2 (non-malignant pain) would be read as CP.MP.126's II.A.2 (activity modification).
    const p = two(qr({ "I.A.1": true, "II.A.2": false }), qr({ "II.A.2": true }, sij));
    assert.equal(p.caseInput, undefined);
    assert.equal(p.problem?.code, "33");
    assert.match(p.problem?.text ?? "", /II\.A\.2/);
    // One policy's items alone: decided as before.
    const alone = parsePasRequest(
      pasBundle("U12", ["62362"], qr({ "I.A.1": true, "II.A.2": false })),
      library(),
      opts,
    );
    assert.equal(alone.problem, undefined);
    assert.deepEqual(alone.caseInput?.answers, { "I.A.1": true, "II.A.2": false });
  });

  test("urgent level of service → expedited; a questionnaire not ours is noted and not used", () => {
    const b = pasBundle(
      "U2",
      ["62362"],
      qr({ "1.1": true }, "http://example.org/Questionnaire/home-o2"),
    ) as J;
    b.entry[0].resource.extension = [
      {
        url: "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-levelOfServiceCode",
        valueCodeableConcept: { coding: [{ system: "https://codesystem.x12.org/005010/1338", code: "U" }] },
      },
    ];
    const p = parsePasRequest(b, library(), opts);
    assert.equal(p.caseInput?.service.expedited, true);
    assert.deepEqual(p.caseInput?.answers, {});
    assert.match(p.context.notes.join(), /not for a medpolicy Questionnaire/);
  });

  test("no state with a governed code → problem 15; nothing governed → no case; malformed → 400", () => {
    const b = pasBundle("U3", ["62362"]) as J;
    delete b.entry[1].resource.address;
    const p = parsePasRequest(b, library(), opts);
    assert.equal(p.problem?.code, "15");
    assert.equal(p.caseInput, undefined);
    assert.equal(parsePasRequest(pasBundle("U4", ["99213"]), library(), opts).caseInput, undefined);
    const bad: [unknown, RegExp][] = [
      [{ resourceType: "Claim" }, /PAS request Bundle/],
      [
        { resourceType: "Bundle", type: "collection", entry: [{ resource: { resourceType: "Patient" } }] },
        /first entry .* must be the Claim/,
      ],
      [
        (() => {
          const x = pasBundle("U5", ["62362"]) as J;
          x.entry[0].resource.use = "claim";
          return x;
        })(),
        /Claim\.use is claim/,
      ],
      [
        (() => {
          const x = pasBundle("U6", ["62362"]) as J;
          delete x.entry[0].resource.patient;
          return x;
        })(),
        /Claim\.patient/,
      ],
      [
        (() => {
          const x = pasBundle("U7", ["62362"]) as J;
          x.entry[0].resource.item = "x";
          return x;
        })(),
        /resource\.item: must be an array/,
      ],
      // PAS profile-insurer / profile-requestor: Organization.active is fixed to true (an inactive one
      // was stored and echoed into every answer, invalid against the IG: the fuzz suite found it).
      ...(["insurer", "provider"] as const).map((k, i): [unknown, RegExp] => {
        const x = structuredClone(pasBundle(`U${8 + i}`, ["62362"])) as J; // the fixtures share resources
        const ref = x.entry[0].resource[k].reference as string;
        const org = x.entry.find((e: J) => `${e.resource.resourceType}/${e.resource.id}` === ref).resource;
        org.active = false;
        return [x, new RegExp(`Claim\\.${k}: the .* Organization is marked inactive`)];
      }),
    ];
    for (const [body, message] of bad) {
      assert.throws(
        () => parsePasRequest(body, library(), opts),
        (e: Error & { status?: number }) => e.status === 400 && message.test(e.message),
      );
    }
  });
});

/** The `administrationReferenceNumber` values of a ClaimResponse item. */
const adminRefs = (item: J): string[] =>
  (item.extension ?? [])
    .filter((e: J) => e.url.endsWith("/extension-administrationReferenceNumber"))
    .map((e: J) => e.valueString);

describe("request state → ClaimResponse (SPEC 2.4)", () => {
  const ctx: ClaimContext = parsePasRequest(pasBundle("S1", ["62362", "62369"]), library(), opts).context;
  const base = {
    requestId: "req-1",
    receivedAt: "2026-01-01T00:00:00Z",
    dueAt: "2026-01-08T00:00:00Z",
    needed: [],
  };
  const line = (outcome: string, extra: object = {}) => ({
    code: "62362",
    outcome,
    policy: { id: "CP.MP.173", version: "2025-11", hash: "h", title: "t", section: "II" },
    basis: "b",
    reasons: [],
    needed: [],
    ...extra,
  });
  const coding = {
    code: "62369",
    outcome: "not-applicable",
    policy: line("x").policy,
    basis: "62369 is listed for coding only",
    reasons: [],
    needed: [],
  };
  const build = (st: Partial<ResponseState>) =>
    claimResponseBundle(
      ctx,
      { ...base, status: "awaiting-review", lines: [], ...st } as ResponseState,
      "2026-01-02T00:00:00Z",
    );

  test("pended for open questions: A4 with the documentation needed; coding-only line NA", () => {
    const needed = [{ criterion: "I.B.1", text: "Known allergies to materials in the implant;" }];
    const b = build({
      lines: [line("pended", { needed }), coding] as never,
      engineOutcome: "pended",
      needed,
    });
    assert.deepEqual(checkPasResponse(b, [1, 2]), []);
    const cr = b.entry![0]!.resource as J;
    assert.deepEqual(reviewCodes(cr.item[0]), ["A4"]);
    assert.deepEqual(reviewCodes(cr.item[1]), ["NA"]);
    // PAS 2.2.1's pending example: the pended item carries the UMO's administration reference number;
    // an item not reviewed (NA) has none.
    assert.deepEqual(adminRefs(cr.item[0]), ["req-1"]);
    assert.deepEqual(adminRefs(cr.item[1]), []);
    const notes = cr.processNote.map((n: J) => n.text).join("\n");
    assert.match(notes, /Documentation needed — I\.B\.1: Known allergies/);
    assert.match(notes, /due by 2026-01-08/);
  });

  test("an engine denial awaiting signature: A4, and its reasons are not shown", () => {
    const reasons = [{ criterion: "I.B.4", text: "Active systemic infection;", status: "present" }];
    const b = build({ lines: [line("denied", { reasons }), coding] as never, engineOutcome: "denied" });
    const cr = b.entry![0]!.resource as J;
    assert.deepEqual(reviewCodes(cr.item[0]), ["A4"]);
    assert.ok(!JSON.stringify(cr).includes("systemic infection"));
    assert.equal(cr.preAuthRef, undefined);
  });

  test("a signed denial: A3, reason codings and notes citing each criterion, human-reviewed flag", () => {
    const decision = {
      outcome: "denied" as const,
      reason: "Contraindicated.",
      criteria: [{ criterion: "I.B.4", text: "Active systemic infection;", status: "present" }],
      signedBy: { sub: "rn", name: "Casey Chen, RN", role: "reviewer" },
      signedAt: "2026-01-03T00:00:00Z",
      automatic: false,
      determinationSeq: 1,
    };
    const b = build({
      status: "decided",
      decision,
      decidedAt: decision.signedAt,
      lines: [line("denied"), coding] as never,
    });
    assert.deepEqual(checkPasResponse(b, [1, 2]), []);
    const cr = b.entry![0]!.resource as J;
    assert.deepEqual(reviewCodes(cr.item[0]), ["A3"]);
    assert.deepEqual(reviewCodes(cr.item[1]), ["NA"]);
    assert.deepEqual(adminRefs(cr.item[0]), ["req-1"]);
    assert.deepEqual(cr.item[0].adjudication[0].reason.coding[0], {
      system: "http://medpolicy.example/fhir/CodeSystem/CP.MP.173",
      version: "2025-11",
      code: "I.B.4",
      display: "Active systemic infection;",
    });
    assert.match(
      cr.processNote.map((n: J) => n.text).join("\n"),
      /Criterion I\.B\.4 \(present\): Active systemic infection/,
    );
    assert.equal(cr.extension[0].extension[0].valueBoolean, true);
    assert.equal(cr.disposition, "Not certified.");
  });

  test("a decision made code by code: the approved item A1 with the auth number, the denied one A3 citing its own criteria", () => {
    const two: ClaimContext = parsePasRequest(pasBundle("S2", ["62350", "62362"]), library(), opts).context;
    const decision = {
      outcome: "denied" as const,
      reason: "The pump is contraindicated; the catheter is approved.",
      criteria: [{ criterion: "II.B.4", text: "Active systemic infection;", status: "present" }],
      signedBy: { sub: "md", name: "Dana Diaz, MD", role: "medical-director" },
      signedAt: "2026-01-03T00:00:00Z",
      automatic: false,
      determinationSeq: 1,
      lines: [
        { code: "62350", outcome: "approved" as const },
        {
          code: "62362",
          outcome: "denied" as const,
          criteria: [{ criterion: "II.B.4", text: "Active systemic infection;", status: "present" }],
        },
      ],
    };
    const b = claimResponseBundle(
      two,
      {
        ...base,
        status: "decided",
        decision,
        decidedAt: decision.signedAt,
        lines: [line("approved", { code: "62350" }), line("denied")],
      } as ResponseState,
      "2026-01-03T00:00:00Z",
    );
    assert.deepEqual(checkPasResponse(b, [1, 2]), []);
    const cr = b.entry![0]!.resource as J;
    assert.deepEqual(reviewCodes(cr.item[0]), ["A1"]);
    assert.deepEqual(reviewCodes(cr.item[1]), ["A3"]);
    assert.deepEqual(adminRefs(cr.item[0]), [], "a certified item has its authorization number instead");
    assert.deepEqual(adminRefs(cr.item[1]), ["req-1"]);
    assert.equal(cr.preAuthRef, "req-1", "the certified item's authorization number");
    assert.equal(cr.preAuthPeriod.start, dateOfService());
    assert.match(JSON.stringify(cr.item[0].adjudication[0].extension), /"req-1"/, "the number on A1");
    assert.doesNotMatch(JSON.stringify(cr.item[1].adjudication[0].extension), /"req-1"/);
    assert.match(cr.disposition, /^Certified in part/);
    // The certified item's note does not repeat the reason the other was denied.
    const notesOf = (item: J) => item.noteNumber.map((n: number) => cr.processNote[n - 1].text).join("\n");
    assert.match(notesOf(cr.item[0]), /Item 1 \(62350\): certified by Dana Diaz, MD/);
    assert.doesNotMatch(notesOf(cr.item[0]), /contraindicated/);
    // The denied item cites its own criterion, not the other line's.
    assert.deepEqual(
      cr.item[1].adjudication.map((a: J) => a.reason?.coding[0].code),
      ["II.B.4"],
    );
    assert.equal(cr.item[0].adjudication[0].reason, undefined);
  });

  test("approved: A1 with preAuthRef, the auth number on the review action, and the period", () => {
    const decision = {
      outcome: "approved" as const,
      reason: "Every criterion is met.",
      criteria: [],
      signedBy: { sub: "medpolicy", name: "automatic", role: "engine" },
      signedAt: "2026-01-02T00:00:00Z",
      automatic: true,
      determinationSeq: 1,
    };
    const b = build({ status: "approved", decision, lines: [line("approved"), coding] as never });
    const cr = b.entry![0]!.resource as J;
    assert.deepEqual(reviewCodes(cr.item[0]), ["A1"]);
    assert.equal(cr.preAuthRef, "req-1");
    assert.equal(cr.preAuthPeriod.start, dateOfService());
    assert.equal(
      cr.item[0].extension.find((e: J) => e.url.endsWith("itemPreAuthPeriod")).valuePeriod.start,
      dateOfService(),
    );
    assert.equal(cr.extension, undefined, "not human reviewed");
  });

  test("an error (cannot be decided as sent): outcome error with the X12 reject reason", () => {
    const b = build({
      status: "error",
      problem: { code: "15", text: "state needed", expression: "Patient.address.state" },
    });
    assert.deepEqual(checkPasResponse(b), []);
    const cr = b.entry![0]!.resource as J;
    assert.equal(cr.outcome, "error");
    assert.equal(cr.error[0].code.coding[0].code, "15");
    assert.equal(cr.item, undefined);
  });
});

describe("PAS operations", () => {
  let s: TestServer;
  before(async () => {
    s = await startFhirServer();
  });
  after(() => s.close());
  const submit = (body: unknown, token = s.tokens.provider) =>
    call(s.url, "POST", "/fhir/Claim/$submit", { token, body });

  test("a retransmission is the same request; providers only; the ClaimResponse reads back for its org", async () => {
    const b = pasBundle("P1", ["62362"]);
    const a = await submit(b);
    const again = await submit(b);
    assert.equal(a.status, 200, a.text);
    const id = a.body.entry[0].resource.id;
    assert.equal(again.body.entry[0].resource.id, id);
    // A percent-encoded operation name is the same operation.
    const encoded = await call(s.url, "POST", "/fhir/Claim/%24submit", { token: s.tokens.provider, body: b });
    assert.equal(encoded.status, 200, encoded.text);
    assert.equal(encoded.body.entry[0].resource.id, id);
    const noOp = await call(s.url, "POST", "/fhir/Claim/%24nothing", { token: s.tokens.provider, body: b });
    assert.equal(noOp.status, 404);
    assert.equal((await submit(b, s.tokens.reviewer)).status, 403);
    const read = await call(s.url, "GET", `/fhir/ClaimResponse/${id}`, { token: s.tokens.provider });
    assert.equal(read.status, 200);
    assert.equal(read.body.resourceType, "ClaimResponse");
    const other = await call(s.url, "GET", `/fhir/ClaimResponse/${id}`, { token: s.tokens.otherProvider });
    assert.equal(other.status, 404);
    assert.deepEqual(checkOperationOutcome(other.body), []);
  });

  test("a date of service before any policy version → error ClaimResponse; a wrong answer id → 400", async () => {
    const b = pasBundle("P2", ["62362"]) as J;
    b.entry[0].resource.item[0].servicedDate = "2010-01-01";
    const r = await submit(b);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkPasResponse(r.body), []);
    assert.equal(r.body.entry[0].resource.outcome, "error");
    assert.match(r.body.entry[0].resource.error[0].code.text, /effective on 2010-01-01/);
    const wrong = await submit(pasBundle("P3", ["62362"], qr({ "II.Z.9": true })));
    assert.equal(wrong.status, 400, wrong.text);
    assert.deepEqual(checkOperationOutcome(wrong.body), []);
    assert.match(wrong.body.issue[0].details.text, /II\.Z\.9/);
  });

  test("a baclofen pump refill is governed by another policy: NA naming it", async () => {
    const b = pasBundle("P4", ["62362"]) as J;
    const mr: MedicationRequest = {
      resourceType: "MedicationRequest",
      id: "mr1",
      status: "active",
      intent: "order",
      medicationCodeableConcept: { text: "Baclofen intrathecal" },
      subject: { reference: "Patient/pat1" },
    };
    b.entry.push({ fullUrl: "http://ehr.example/fhir/MedicationRequest/mr1", resource: mr });
    b.entry[0].resource.item[0].extension = [
      {
        url: "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-requestedService",
        valueReference: { reference: "MedicationRequest/mr1" },
      },
    ];
    const r = await submit(b);
    assert.equal(r.status, 200, r.text);
    const cr = r.body.entry[0].resource;
    assert.deepEqual(reviewCodes(cr.item[0]), ["NA"]);
    assert.match(cr.processNote.map((n: J) => n.text).join(), /CP\.PHAR\.149/);
  });

  test("Subscriptions: validated; a reviewer's approval is notified; an endpoint that fails turns the subscription to error", async () => {
    const sub = (endpoint: string, extra: object = {}) => ({
      resourceType: "Subscription",
      status: "requested",
      reason: "test",
      criteria: "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic",
      channel: { type: "rest-hook", endpoint, payload: "application/fhir+json" },
      ...extra,
    });
    const bad: [unknown, RegExp][] = [
      [{ ...sub("http://127.0.0.1:1/x"), criteria: "Claim?status=active" }, /PAS topic/],
      [sub("ftp://127.0.0.1/x"), /http or https/],
      [sub("not a url"), /absolute http\(s\) URL|endpoint: is not a valid url/],
      [
        { ...sub("http://127.0.0.1:1/x"), channel: { type: "websocket", endpoint: "http://127.0.0.1:1/x" } },
        /rest-hook/,
      ],
    ];
    for (const [body, message] of bad) {
      const r = await call(s.url, "POST", "/fhir/Subscription", { token: s.tokens.provider, body });
      assert.equal(r.status, 400, r.text);
      assert.match(r.body.issue[0].details.text, message);
    }

    const hook = await listener();
    try {
      const good = await call(s.url, "POST", "/fhir/Subscription", {
        token: s.tokens.provider,
        body: sub(hook.url),
      });
      assert.equal(good.status, 201, good.text);
      // Issue 16 (R4 Subscriptions Backport): the handshake comes first, before any event.
      const hs = await hook.next();
      assert.equal(
        hs.body.entry[0].resource.parameter.find((p: J) => p.name === "type").valueCode,
        "handshake",
      );
      // Nothing listens on port 1: delivery fails and the subscription reports it.
      const dead = await call(s.url, "POST", "/fhir/Subscription", {
        token: s.tokens.provider,
        body: sub("http://127.0.0.1:1/none"),
      });
      assert.equal(dead.status, 201);

      // A pended request (open questions) that a medical director approves.
      const pended = await submit(pasBundle("P5", ["62322"]));
      const cr = pended.body.entry[0].resource;
      assert.deepEqual(reviewCodes(cr.item[0]), ["A4"]);
      const requestId = cr.identifier.find((i: J) => i.system.endsWith("/request")).value;
      await signApproved(s.url, s.tokens.medicalDirector, requestId);
      const note = await hook.next();
      // Issue 13: id-only; the subscriber reads the ClaimResponse it is pointed to.
      const approved = await notifiedClaimResponse(s.url, note, s.tokens.provider);
      assert.deepEqual(reviewCodes(approved.item[0]), ["A1"]);
      assert.equal(approved.preAuthRef, requestId);
      assert.match(approved.processNote[0].text, /Certified by Dana Diaz, MD/);
      assert.equal(
        note.body.entry[0].resource.parameter.find((p: J) => p.name === "events-since-subscription-start")
          .valueString,
        "1",
      );

      await s.server.app.inject({ method: "GET", url: "/api/health" });
      let status = "";
      for (let i = 0; i < 50 && status !== "error"; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (
          await call(s.url, "GET", `/fhir/Subscription/${dead.body.id}`, { token: s.tokens.provider })
        ).body.status;
      }
      assert.equal(status, "error");
      const gone = await call(s.url, "DELETE", `/fhir/Subscription/${dead.body.id}`, {
        token: s.tokens.provider,
      });
      assert.equal(gone.status, 204);
      assert.equal(
        (await call(s.url, "GET", `/fhir/Subscription/${dead.body.id}`, { token: s.tokens.provider })).status,
        404,
      );
    } finally {
      await hook.close();
    }
  });

  test("response bundle references resolve to the resources copied from the request", async () => {
    const r = await submit(pasBundle("P6", ["62362"]));
    const b = r.body as Bundle;
    const urls = b.entry!.map((e) => e.fullUrl);
    assert.ok(urls.includes("http://ehr.example/fhir/Patient/pat1"));
    assert.ok(urls.includes("http://ehr.example/fhir/Organization/prov1"));
    assert.ok(urls.includes("http://ehr.example/fhir/Organization/ins1"));
  });
});

// ---------------------------------------------------------------------------------------------
// Issue 16: PAS 2.2.1 (and 2.0.1) to the letter
// ---------------------------------------------------------------------------------------------

const CANCELLED = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/modifierextension-infoCancelled";
const CERT_TYPE = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-certificationType";
const X12_886 = "https://codesystem.x12.org/external/886";
const REVIEW_ACTION = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewAction";

/** The `reasonCode` sub-extension of an adjudication's review action, if any. */
function reasonCodeOf(adjudication: J): J | undefined {
  const ra = (adjudication.extension ?? []).find((e: J) => e.url === REVIEW_ACTION);
  return ra?.extension.find((e: J) => e.url === "reasonCode")?.valueCodeableConcept;
}

describe("issue 16: items — none is a 400; cancelled ones are not adjudicated", () => {
  test("a Claim with no items (absent or empty) is refused with 400 naming Claim.item", () => {
    for (const items of [undefined, []]) {
      const b = pasBundle("N1", ["62362"]) as J;
      if (items === undefined) delete b.entry[0].resource.item;
      else b.entry[0].resource.item = items;
      assert.throws(
        () => parsePasRequest(b, library(), opts),
        (e: Error & { status?: number; expression?: string }) =>
          e.status === 400 &&
          e.expression === "Bundle.entry[0].resource.item" &&
          /Claim\.item is required/.test(e.message),
      );
    }
  });

  test("a cancelled item (infoCancelled, or certification type 3) is answered C and left out of the case", () => {
    const b = pasBundle("C1", ["62362", "62322", "99213"]) as J;
    b.entry[0].resource.item[1].modifierExtension = [{ url: CANCELLED, valueBoolean: true }];
    b.entry[0].resource.item[2].extension = [
      {
        url: CERT_TYPE,
        valueCodeableConcept: { coding: [{ system: "https://codesystem.x12.org/005010/1322", code: "3" }] },
      },
    ];
    const p = parsePasRequest(b, library(), opts);
    assert.deepEqual(p.caseInput?.service.codes, ["62362"], "only the live item is decided");
    assert.deepEqual(
      p.context.items.map((i) => [i.sequence, i.cancelled ?? false]),
      [
        [1, false],
        [2, true],
        [3, true],
      ],
    );
    const bundle = claimResponseBundle(
      p.context,
      { status: "awaiting-review", lines: [], needed: [], receivedAt: "2026-01-01T00:00:00Z" },
      "2026-01-02T00:00:00Z",
    );
    const cr = bundle.entry![0]!.resource as J;
    assert.deepEqual(
      cr.item.map((i: J) => reviewCodes(i)),
      [["NA"], ["C"], ["C"]],
    );
    const display = cr.item[1].adjudication[0].extension[0].extension.find((e: J) =>
      e.url.endsWith("extension-reviewActionCode"),
    ).valueCodeableConcept.coding[0];
    assert.deepEqual(display, {
      system: "https://codesystem.x12.org/005010/306",
      code: "C",
      display: "Cancelled",
    });
    assert.match(
      cr.processNote.map((n: J) => n.text).join("\n"),
      /Item 2 \(62322\): cancelled by the submitter; not reviewed\./,
    );
  });

  test("a Claim-level cancel cancels every item: nothing is decided, the disposition says cancelled", () => {
    const b = pasBundle("C2", ["62362"]) as J;
    b.entry[0].resource.extension = [
      {
        url: CERT_TYPE,
        valueCodeableConcept: { coding: [{ system: "https://codesystem.x12.org/005010/1322", code: "3" }] },
      },
    ];
    const p = parsePasRequest(b, library(), opts);
    assert.equal(p.caseInput, undefined);
    const cr = claimResponseBundle(
      p.context,
      { status: "unstored", lines: [], needed: [], receivedAt: "2026-01-01T00:00:00Z" },
      "2026-01-02T00:00:00Z",
    ).entry![0]!.resource as J;
    assert.deepEqual(reviewCodes(cr.item[0]), ["C"]);
    assert.equal(cr.disposition, "Cancelled: no requested service was reviewed.");
  });
});

/** A determination line of CP.MP.173 section II for CPT 62362 (the ClaimResponse builder's input). */
const policy = { id: "CP.MP.173", version: "2025-11", hash: "h", title: "t", section: "II" };
const line = (outcome: string, extra: object = {}) => ({
  code: "62362",
  outcome,
  policy,
  basis: "b",
  reasons: [],
  needed: [],
  ...extra,
});

describe("issue 16: denials and pends carry the X12 886 reason and the criteria (CMS-0057-F)", () => {
  const ctx: ClaimContext = parsePasRequest(pasBundle("R1", ["62362"]), library(), opts).context;
  const build = (st: Partial<ResponseState>) =>
    claimResponseBundle(
      ctx,
      {
        requestId: "req-9",
        receivedAt: "2026-01-01T00:00:00Z",
        dueAt: "2026-01-08T00:00:00Z",
        needed: [],
        status: "awaiting-review",
        lines: [],
        ...st,
      } as ResponseState,
      "2026-01-02T00:00:00Z",
    ).entry![0]!.resource as J;
  const decision = (outcome: "denied" | "not-covered") => ({
    outcome,
    reason: "Contraindicated.",
    criteria: [
      { criterion: "I.B.4", text: "Active systemic infection;", status: "present" },
      { criterion: "I.B.1", text: "Known allergies to materials in the implant;", status: "present" },
    ],
    signedBy: { sub: "md", name: "Dana Diaz, MD", role: "medical-director" },
    signedAt: "2026-01-03T00:00:00Z",
    automatic: false,
    determinationSeq: 1,
  });

  test("a signed medical-necessity denial: 886 0F naming the policy and each failed criterion", () => {
    const d = decision("denied");
    const cr = build({
      status: "decided",
      decision: d,
      decidedAt: d.signedAt,
      lines: [line("denied")] as never,
    });
    const adj = cr.item[0].adjudication;
    const rc = reasonCodeOf(adj[0]);
    assert.deepEqual(rc.coding, [{ system: X12_886, code: "0F", display: "Not Medically Necessary" }]);
    assert.equal(
      rc.text,
      "Not medically necessary under CP.MP.173 (2025-11): criteria failed: I.B.4 (Active systemic infection; — present); I.B.1 (Known allergies to materials in the implant; — present). Contraindicated.",
    );
    // The failed criteria themselves, coded by the policy's criterion system, one per adjudication.
    assert.deepEqual(
      adj.map((a: J) => a.reason.coding[0].code),
      ["I.B.4", "I.B.1"],
    );
    assert.equal(adj[0].reason.coding[0].system, "http://medpolicy.example/fhir/CodeSystem/CP.MP.173");
  });

  test("a not-covered decision: 886 0M", () => {
    const d = decision("not-covered");
    const cr = build({
      status: "decided",
      decision: d,
      decidedAt: d.signedAt,
      lines: [line("denied")] as never,
    });
    const rc = reasonCodeOf(cr.item[0].adjudication[0]);
    assert.deepEqual(rc.coding, [{ system: X12_886, code: "0M", display: "Non-covered Service" }]);
    assert.match(rc.text, /^Not covered under CP\.MP\.173 \(2025-11\): Contraindicated\. Criteria: I\.B\.4/);
  });

  test("pended for documentation: 886 0U with the criteria needed, coded", () => {
    const needed = [{ criterion: "II.A.1", text: "A successful trial;" }];
    const cr = build({ engineOutcome: "pended", needed, lines: [line("pended", { needed })] as never });
    const adj = cr.item[0].adjudication;
    assert.deepEqual(reviewCodes(cr.item[0]), ["A4"]);
    const rc = reasonCodeOf(adj[0]);
    assert.equal(rc.coding[0].code, "0U");
    assert.equal(rc.text, "Documentation needed on II.A.1");
    assert.equal(adj[0].reason.coding[0].code, "II.A.1");
  });

  test("an adverse recommendation awaiting signature: 886 0V, and still no reason shown", () => {
    const reasons = [{ criterion: "I.B.4", text: "Active systemic infection;", status: "present" }];
    const cr = build({ engineOutcome: "denied", lines: [line("denied", { reasons })] as never });
    const rc = reasonCodeOf(cr.item[0].adjudication[0]);
    assert.deepEqual(rc.coding, [{ system: X12_886, code: "0V", display: "Requires Medical Review" }]);
    assert.ok(!JSON.stringify(cr).includes("I.B.4"), "the unsigned reasons are the reviewer's to give");
  });

  test("more information requested: 886 0U naming the criteria asked about", () => {
    const cr = build({
      infoRequest: {
        at: "2026-01-02T10:00:00Z",
        message: "Send the trial results.",
        questions: [{ criterion: "II.A.1", text: "A successful trial;" }],
      },
      lines: [line("pended")] as never,
    });
    const rc = reasonCodeOf(cr.item[0].adjudication[0]);
    assert.equal(rc.coding[0].code, "0U");
    assert.equal(rc.text, "More information requested on II.A.1: Send the trial results.");
  });

  test("an approval and an NA carry no reason code", () => {
    const cr = build({ status: "approved", lines: [line("approved")] as never });
    assert.equal(reasonCodeOf(cr.item[0].adjudication[0]), undefined);
  });
});

describe("issue 16: response Bundles always have identifier and fullUrls", () => {
  test("a request without Bundle.identifier or fullUrls: urn:uuid identifier; every entry a fullUrl", () => {
    for (const identifier of [undefined, { system: "urn:x" }, { system: "urn:x", value: "  " }]) {
      const b = pasBundle("I1", ["62362"]) as J;
      if (identifier === undefined) delete b.identifier;
      else b.identifier = identifier;
      for (const e of b.entry) delete e.fullUrl;
      const p = parsePasRequest(b, library(), opts);
      for (const status of ["awaiting-review", "unstored", "error"] as const) {
        const out = claimResponseBundle(
          p.context,
          {
            status,
            lines: [],
            needed: [],
            receivedAt: "2026-01-01T00:00:00Z",
            ...(status === "error" && { problem: { code: "15", text: "x", expression: "Claim" } }),
          },
          "2026-01-02T00:00:00Z",
        );
        assert.deepEqual(out.identifier, { system: "urn:ietf:rfc:3986", value: `urn:uuid:${out.id}` });
        for (const e of out.entry ?? [])
          assert.equal(typeof e.fullUrl, "string", JSON.stringify(e).slice(0, 80));
        assert.equal(
          out.entry![0]!.fullUrl,
          `http://payer.example/fhir/ClaimResponse/${out.entry![0]!.resource!.id}`,
        );
      }
    }
  });

  test("the request's identifier (with a value) is echoed", () => {
    const b = pasBundle("I2", ["62362"]) as J;
    b.identifier = { system: "http://example.org/SUBMITTER_TRANSACTION_IDENTIFIER", value: "A12345" };
    const out = claimResponseBundle(
      parsePasRequest(b, library(), opts).context,
      { status: "unstored", lines: [], needed: [], receivedAt: "2026-01-01T00:00:00Z" },
      "2026-01-02T00:00:00Z",
    );
    assert.deepEqual(out.identifier, {
      system: "http://example.org/SUBMITTER_TRANSACTION_IDENTIFIER",
      value: "A12345",
    });
  });

  test("an item's requested period and trace numbers are echoed from their typed parts only", () => {
    const b = pasBundle("I5", ["62362"]) as J;
    const claim = b.entry.find((e: J) => e.resource.resourceType === "Claim").resource;
    claim.item[0].extension = [
      { url: PAS_EXT.requestedServiceDate, valuePeriod: { start: "2026-03-01", a: "x" } },
      { url: PAS_EXT.itemTraceNumber, valueIdentifier: { value: "no-system" } },
      { url: PAS_EXT.itemTraceNumber, valueIdentifier: { system: "urn:trn", value: "T-1", b: 1 } },
    ];
    const cr = claimResponseBundle(
      parsePasRequest(b, library(), opts).context,
      { status: "unstored", lines: [], needed: [], receivedAt: "2026-01-01T00:00:00Z" },
      "2026-01-02T00:00:00Z",
    ).entry![0]!.resource as J;
    const ext = cr.item[0].extension as J[];
    assert.deepEqual(
      ext.filter((e) => e.url === PAS_EXT.requestedServiceDate).map((e) => e.valuePeriod),
      [{ start: "2026-03-01" }],
    );
    assert.deepEqual(
      ext.filter((e) => e.url === PAS_EXT.itemTraceNumber).map((e) => e.valueIdentifier),
      [{ system: "urn:trn", value: "T-1" }],
    );
  });

  test("the Claim's type, insurer and provider are echoed from their typed parts only", () => {
    const b = pasBundle("I6", ["62362"]) as J;
    const claim = b.entry.find((e: J) => e.resource.resourceType === "Claim").resource;
    claim.type = {
      coding: [{ system: "http://terminology.hl7.org/CodeSystem/claim-type", code: "professional", x: 1 }],
    };
    claim.insurer = { ...claim.insurer, y: 2 };
    claim.provider = { ...claim.provider, z: 3 };
    const cr = claimResponseBundle(
      parsePasRequest(b, library(), opts).context,
      { status: "unstored", lines: [], needed: [], receivedAt: "2026-01-01T00:00:00Z" },
      "2026-01-02T00:00:00Z",
    ).entry![0]!.resource as J;
    assert.deepEqual(cr.type, {
      coding: [{ system: "http://terminology.hl7.org/CodeSystem/claim-type", code: "professional" }],
    });
    assert.deepEqual(Object.keys(cr.insurer), ["reference"]);
    assert.deepEqual(Object.keys(cr.requestor), ["reference"]);
  });

  test("a Claim identifier without a system is not echoed (PAS profile-identifier: system 1..1)", () => {
    const b = pasBundle("I4", ["62362"]) as J;
    const claim = b.entry.find((e: J) => e.resource.resourceType === "Claim").resource;
    claim.identifier = [{ value: "NO-SYSTEM" }, { system: "urn:x", value: "T2" }];
    delete claim.id;
    const cr = claimResponseBundle(
      parsePasRequest(b, library(), opts).context,
      { status: "unstored", lines: [], needed: [], receivedAt: "2026-01-01T00:00:00Z" },
      "2026-01-02T00:00:00Z",
    ).entry![0]!.resource as J;
    assert.deepEqual(cr.identifier, [{ system: "urn:x", value: "T2" }]);
    assert.deepEqual(cr.request, { identifier: { system: "urn:x", value: "T2" } });
  });

  test("Claim identifiers are echoed with system, value and at most one of each PAS identifier extension", () => {
    // Found by the fuzz suite's IG check: two sub-departments (0..1) were echoed into the ClaimResponse.
    const b = pasBundle("I3", ["62362"]) as J;
    const claim = b.entry.find((e: J) => e.resource.resourceType === "Claim").resource;
    const SUB = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-identifierSubDepartment";
    const JUR = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-identifierJurisdiction";
    claim.identifier = [
      {
        system: "urn:x",
        value: "T1",
        period: { start: "2026-01-01" },
        extension: [
          { url: SUB, valueString: "first" },
          { url: SUB, valueString: "second" },
          { url: JUR, valueCodeableConcept: { coding: [{ system: "urn:s", code: "TX" }] } },
          { url: JUR, valueCodeableConcept: { coding: [{ system: "urn:s", code: "CA" }] } },
          { url: "urn:other", valueString: "not ours to repeat" },
        ],
      },
    ];
    const out = claimResponseBundle(
      parsePasRequest(b, library(), opts).context,
      { status: "unstored", lines: [], needed: [], receivedAt: "2026-01-01T00:00:00Z" },
      "2026-01-02T00:00:00Z",
    );
    const cr = out.entry![0]!.resource as J;
    assert.deepEqual(cr.identifier[0], {
      system: "urn:x",
      value: "T1",
      extension: [
        { url: SUB, valueString: "first" },
        { url: JUR, valueCodeableConcept: { coding: [{ system: "urn:s", code: "TX" }] } },
      ],
    });
  });
});

describe("issue 16: PAS operations over HTTP", () => {
  let s: TestServer;
  before(async () => {
    s = await startFhirServer();
  });
  after(() => s.close());
  const post = (path: string, body: unknown, token = s.tokens.provider) =>
    call(s.url, "POST", path, { token, body });
  const PAS20_BUNDLE =
    "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-pas-inquiry-request-bundle|2.0.1";

  test("$submit with no items: 400 OperationOutcome, nothing stored", async () => {
    const b = pasBundle("H1", ["62362"]) as J;
    b.entry[0].resource.item = [];
    const r = await post("/fhir/Claim/$submit", b);
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(checkOperationOutcome(r.body), []);
    assert.deepEqual(r.body.issue[0].expression, ["Bundle.entry[0].resource.item"]);
    const q = await post("/fhir/Claim/$inquire", pasBundle("H1", ["62362"]));
    assert.equal(q.status, 200);
    assert.deepEqual(q.body, { resourceType: "Parameters" }, "nothing was stored");
  });

  test("$submit with a cancelled item: C for it, the other decided", async () => {
    const b = pasBundle("H2", ["62322", "62362"]) as J;
    b.entry[0].resource.item[1].modifierExtension = [{ url: CANCELLED, valueBoolean: true }];
    const r = await post("/fhir/Claim/$submit", b);
    assert.equal(r.status, 200, r.text);
    const cr = r.body.entry[0].resource;
    assert.deepEqual(
      cr.item.map((i: J) => reviewCodes(i)),
      [["A4"], ["C"]],
    );
  });

  test("a Claim update cancelling every service withdraws the pending request it names; a decided one keeps its decision", async () => {
    const cancelOf = (ident: string, codes: string[]) => {
      const b = pasBundle(ident, codes) as J;
      b.entry[0].resource.extension = [
        {
          url: CERT_TYPE,
          valueCodeableConcept: { coding: [{ system: "https://codesystem.x12.org/005010/1322", code: "3" }] },
        },
      ];
      return b;
    };
    const notesOf = (cr: J) => cr.processNote.map((n: J) => n.text).join("\n");
    const inquired = async (ident: string, codes: string[]) => {
      const q = await post("/fhir/Claim/$inquire", pasBundle(ident, codes));
      assert.equal(q.status, 200, q.text);
      return q.body.parameter[0].resource.entry[0].resource;
    };

    // Pending: withdrawn, out of the queue, nothing can be signed on it; $inquire answers C.
    const sub = await post("/fhir/Claim/$submit", pasBundle("W1", ["62322"]));
    assert.equal(sub.status, 200, sub.text);
    const id = sub.body.entry[0].resource.id as string;
    assert.deepEqual(reviewCodes(sub.body.entry[0].resource.item[0]), ["A4"]);
    const cancel = await post("/fhir/Claim/$submit", cancelOf("W1", ["62322"]));
    assert.equal(cancel.status, 200, cancel.text);
    const ccr = cancel.body.entry[0].resource;
    assert.deepEqual(reviewCodes(ccr.item[0]), ["C"]);
    assert.match(notesOf(ccr), new RegExp(`request ${id} is withdrawn: it will not be reviewed`));
    const after = await inquired("W1", ["62322"]);
    assert.equal(after.id, id);
    assert.deepEqual(reviewCodes(after.item[0]), ["C"]);
    assert.equal(after.disposition, "Cancelled: no requested service was reviewed.");
    const view = await call(s.url, "GET", `/api/requests/${id}`, { token: s.tokens.reviewer });
    assert.equal(view.body.review.workflowStatus, "withdrawn");
    const last = (view.body.review.events as J[]).at(-1);
    assert.deepEqual(
      [last.action, last.detail],
      ["withdrawn", { reason: "cancelled by the submitter (PAS Claim update)" }],
    );
    const sign = await call(s.url, "POST", `/api/requests/${id}/decision`, {
      token: s.tokens.medicalDirector,
      body: { outcome: "approved", reason: "Documentation reviewed: every criterion met." },
    });
    assert.equal(sign.status, 409, sign.text);
    const queue = await call(s.url, "GET", "/api/requests?status=awaiting-review", {
      token: s.tokens.reviewer,
    });
    assert.ok(!(queue.body as J[]).some((r) => r.id === id), "not in the queue");
    const mine = await call(s.url, "GET", "/api/requests", { token: s.tokens.provider });
    assert.equal((mine.body as J[]).find((r) => r.id === id)?.status, "withdrawn");
    const again = await post("/fhir/Claim/$submit", cancelOf("W1", ["62322"]));
    assert.match(notesOf(again.body.entry[0].resource), new RegExp(`request ${id} was already withdrawn`));

    // Decided: the cancellation changes nothing; the answer says so.
    const sub2 = await post("/fhir/Claim/$submit", pasBundle("W2", ["62322"]));
    const id2 = sub2.body.entry[0].resource.id as string;
    await signApproved(s.url, s.tokens.medicalDirector, id2);
    const cancel2 = await post("/fhir/Claim/$submit", cancelOf("W2", ["62322"]));
    assert.match(
      notesOf(cancel2.body.entry[0].resource),
      new RegExp(`request ${id2} was already decided; the cancellation does not change it`),
    );
    assert.deepEqual(reviewCodes((await inquired("W2", ["62322"])).item[0]), ["A1"]);
  });

  test("$inquire: PAS 2.2.1 answers Parameters of `return` Bundles; 2.0.1 (declared by profile) a Bundle", async () => {
    const sub = await post("/fhir/Claim/$submit", pasBundle("H3", ["62362"]));
    assert.equal(sub.status, 200, sub.text);
    const id = sub.body.entry[0].resource.id;

    const v221 = await post("/fhir/Claim/$inquire", pasBundle("H3", ["62362"]));
    assert.equal(v221.status, 200, v221.text);
    assert.equal(v221.body.resourceType, "Parameters");
    assert.equal(v221.body.parameter.length, 1);
    assert.equal(v221.body.parameter[0].name, "return");
    const inner = v221.body.parameter[0].resource;
    assert.deepEqual(checkPasResponse(inner, [1]), []);
    assert.equal(inner.entry[0].resource.id, id);
    assert.match(inner.meta.profile[0], /profile-pas-inquiry-response-bundle$/);
    assert.match(inner.entry[0].resource.meta.profile[0], /profile-claiminquiryresponse$/);
    assert.deepEqual(inquiryBundles(v221.body), [inner]);

    const b20 = pasBundle("H3", ["62362"]) as J;
    b20.meta = { profile: [PAS20_BUNDLE] };
    const v201 = await post("/fhir/Claim/$inquire", b20);
    assert.equal(v201.status, 200, v201.text);
    assert.equal(v201.body.resourceType, "Bundle");
    assert.equal(v201.body.entry[0].resource.id, id);
    // A 2.0.1 profile on the Claim says the same; wrapped in Parameters the Bundle is read as well.
    const c20 = pasBundle("H3", ["62362"]) as J;
    c20.entry[0].resource.meta = {
      profile: ["http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-claim-inquiry|2.0.1"],
    };
    const wrapped = await post("/fhir/Claim/$inquire", {
      resourceType: "Parameters",
      parameter: [{ name: "resource", resource: c20 }],
    });
    assert.equal(wrapped.status, 200, wrapped.text);
    assert.equal(wrapped.body.resourceType, "Bundle");
  });

  test("$inquire without Claim.identifier (0..1 in PAS 2.0.1) finds the request by its patient's identifier and services", async () => {
    const withMember = (ident: string, member: string) => {
      const b = pasBundle(ident, ["62362"]) as J;
      const pat = b.entry.find((e: J) => e.resource.resourceType === "Patient").resource;
      pat.identifier = [{ system: "http://payer.example/member", value: member }];
      return b;
    };
    const sub = await post("/fhir/Claim/$submit", withMember("H5", "M-5501"));
    assert.equal(sub.status, 200, sub.text);
    const id = sub.body.entry[0].resource.id;
    const ask = (member: string, codes = ["62362"]) => {
      const b = withMember("unused", member);
      b.meta = { profile: [PAS20_BUNDLE] };
      delete b.entry[0].resource.identifier;
      b.entry[0].resource.item = (pasBundle("x", codes) as J).entry[0].resource.item;
      return post("/fhir/Claim/$inquire", b);
    };
    const found = await ask("M-5501");
    assert.equal(found.status, 200, found.text);
    assert.equal(found.body.resourceType, "Bundle");
    assert.equal(found.body.entry[0].resource.id, id);
    // Another member, or a service not requested: no match.
    assert.equal((await ask("M-9999")).body.resourceType, "OperationOutcome");
    assert.equal((await ask("M-5501", ["99213"])).body.resourceType, "OperationOutcome");
    // No Claim.identifier and a patient with no identifier: 400 naming Claim.identifier.
    const bare = pasBundle("unused", ["62362"]) as J;
    delete bare.entry[0].resource.identifier;
    const r = await post("/fhir/Claim/$inquire", bare);
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(r.body.issue[0].expression, ["Claim.identifier"]);
  });

  test("$inquire with no match: not 404 — 2.2.1 an empty Parameters, 2.0.1 an informational OperationOutcome", async () => {
    const none = await post("/fhir/Claim/$inquire", pasBundle("H-none", ["62362"]));
    assert.equal(none.status, 200, none.text);
    assert.deepEqual(none.body, { resourceType: "Parameters" });
    const b20 = pasBundle("H-none", ["62362"]) as J;
    b20.meta = { profile: [PAS20_BUNDLE] };
    const none20 = await post("/fhir/Claim/$inquire", b20);
    assert.equal(none20.status, 200, none20.text);
    assert.equal(none20.body.resourceType, "OperationOutcome");
    assert.deepEqual(
      none20.body.issue.map((i: J) => [i.severity, i.code]),
      [["information", "not-found"]],
    );
    // Another organization's request is no match either (SPEC 4: a provider sees only its own).
    await post("/fhir/Claim/$submit", pasBundle("H-mine", ["62362"]));
    const other = await post("/fhir/Claim/$inquire", pasBundle("H-mine", ["62362"]), s.tokens.otherProvider);
    assert.equal(other.status, 200);
    assert.deepEqual(other.body, { resourceType: "Parameters" });
  });

  test("$submit without Bundle.identifier and fullUrls: the answer has both", async () => {
    const b = pasBundle("H4", ["62362"]) as J;
    delete b.identifier;
    for (const e of b.entry) delete e.fullUrl;
    const r = await post("/fhir/Claim/$submit", b);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.identifier.system, "urn:ietf:rfc:3986");
    assert.equal(r.body.identifier.value, `urn:uuid:${r.body.id}`);
    assert.ok(r.body.entry.every((e: J) => typeof e.fullUrl === "string" && e.fullUrl.length > 0));
    assert.deepEqual(checkPasResponse(r.body, [1]), []);
  });
});

describe("issue 16: CapabilityStatement", () => {
  test("instantiates the PAS intermediary, DTR payer service and CRD server roles; SMART; the operations", () => {
    const cs = capabilityStatement("https://payer.example", "1.0.0") as J;
    assert.deepEqual(cs.instantiates, [
      "http://hl7.org/fhir/us/davinci-pas/CapabilityStatement/IntermediaryCapabilities|2.2.1",
      "http://hl7.org/fhir/us/davinci-pas/CapabilityStatement/IntermediaryCapabilities|2.0.1",
      "http://hl7.org/fhir/us/davinci-dtr/CapabilityStatement/dtr-payer-service|2.0.1",
      "http://hl7.org/fhir/us/davinci-crd/CapabilityStatement/crd-server|2.0.1",
    ]);
    const sec = cs.rest[0].security;
    assert.deepEqual(sec.service[0].coding, [
      {
        system: "http://terminology.hl7.org/CodeSystem/restful-security-service",
        code: "SMART-on-FHIR",
        display: "SMART-on-FHIR",
      },
    ]);
    const oauth = sec.extension.find(
      (e: J) => e.url === "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
    );
    assert.deepEqual(oauth.extension, [{ url: "token", valueUri: "https://payer.example/auth/token" }]);
    const ops = (type: string) =>
      cs.rest[0].resource
        .find((r: J) => r.type === type)
        .operation.map((o: J) => `${o.name} ${o.definition}`);
    assert.deepEqual(ops("ValueSet"), ["expand http://hl7.org/fhir/OperationDefinition/ValueSet-expand"]);
    assert.ok(
      ops("Questionnaire").includes(
        "log-questionnaire-errors http://hl7.org/fhir/us/davinci-dtr/OperationDefinition/log-questionnaire-errors",
      ),
    );
    const sub = cs.rest[0].resource.find((r: J) => r.type === "Subscription");
    assert.deepEqual(
      sub.interaction.map((i: J) => i.code),
      ["create", "read", "update", "delete"],
    );
    assert.equal(
      sub.extension[0].valueCanonical,
      "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic",
    );
    assert.deepEqual(sub.supportedProfile, [
      "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription",
    ]);
    assert.ok(
      cs.implementationGuide.includes(
        "http://hl7.org/fhir/us/davinci-pas/ImplementationGuide/hl7.fhir.us.davinci-pas",
      ),
    );
    // Only what the discovery document offers: Backend Services, no App Launch (no authorize endpoint).
    assert.doesNotMatch(sec.service[0].text, /App Launch/);
    assert.match(sec.description, /no App Launch/);
  });

  test("every canonical instantiated is a CapabilityStatement in the IG packages", async () => {
    const { execFileSync } = await import("node:child_process");
    const { existsSync } = await import("node:fs");
    const { join } = await import("node:path");
    const ig = join(SHARED_FHIR, "ig");
    const packages: Record<string, string> = {
      "davinci-pas|2.2.1": "davinci_pas_2.2.1.tgz",
      "davinci-pas|2.0.1": "davinci_pas_2.0.1.tgz",
      "davinci-dtr|2.0.1": "davinci_dtr_2.0.1.tgz",
      "davinci-crd|2.0.1": "davinci-crd-2.0.1.tgz",
    };
    for (const canonical of capabilityStatement("https://payer.example", "1").instantiates ?? []) {
      const [url, version] = canonical.split("|") as [string, string];
      const ig0 = /davinci-(pas|dtr|crd)/.exec(url)![0];
      const file = join(ig, packages[`${ig0}|${version}`]!);
      if (!existsSync(file)) continue; // the shared folder is optional (helpers.ts)
      const name = `package/CapabilityStatement-${url.split("/").at(-1)}.json`;
      const json = JSON.parse(execFileSync("tar", ["-xzOf", file, name], { encoding: "utf8" }));
      assert.equal(json.url, url, canonical);
      assert.equal(json.version, version, canonical);
      assert.equal(json.resourceType, "CapabilityStatement");
    }
  });
});

describe("issue 16: the new answers validate against the IG packages (test/fhir/ig/validator.ts)", {
  skip: !igAvailable && "../shared/fhir/ig is absent",
}, () => {
  test("cancelled, denied with its 886 reason, pended, both $inquire forms, no match, backport bundles, metadata: 0 errors", () => {
    const b = pasBundle("V1", ["62362", "62322", "99213"]) as J;
    b.entry[0].resource.item[1].modifierExtension = [{ url: CANCELLED, valueBoolean: true }];
    const { context } = parsePasRequest(b, library(), opts);
    const d = {
      outcome: "denied" as const,
      reason: "Contraindicated.",
      criteria: [{ criterion: "I.B.4", text: "Active systemic infection;", status: "present" }],
      signedBy: { sub: "md", name: "Dana Diaz, MD", role: "medical-director" },
      signedAt: "2026-01-03T00:00:00Z",
      automatic: false,
      determinationSeq: 1,
    };
    const base = {
      requestId: "req-v",
      receivedAt: "2026-01-01T00:00:00Z",
      dueAt: "2026-01-08T00:00:00Z",
      needed: [],
    };
    const denied = {
      ...base,
      status: "decided",
      decision: d,
      decidedAt: d.signedAt,
      lines: [line("denied")],
    };
    const pended = {
      ...base,
      status: "awaiting-review",
      engineOutcome: "pended",
      lines: [line("pended", { needed: [{ criterion: "II.A.1", text: "A successful trial;" }] })],
    };
    const now = "2026-01-02T00:00:00Z";
    const build = (st: object, kind: "submit" | "inquire" = "submit") =>
      claimResponseBundle(context, st as ResponseState, now, kind);
    const o = { baseUrl: "http://payer.example", now };
    const cases: [string, unknown, FhirContext][] = [
      ["denied + cancelled ($submit)", build(denied), { pas: "2.2.1", operation: "submit" }],
      ["pended for documentation ($submit)", build(pended), { pas: "2.2.1", operation: "submit" }],
      [
        "2.2.1 $inquire Parameters",
        inquiryAnswer("2.2.1", [build(denied, "inquire")]),
        { pas: "2.2.1", operation: "inquire" },
      ],
      [
        "2.0.1 $inquire Bundle",
        inquiryAnswer("2.0.1", [build(pended, "inquire")]),
        { pas: "2.0.1", operation: "inquire" },
      ],
      ["2.2.1 no match", inquiryAnswer("2.2.1", []), { pas: "2.2.1", operation: "inquire" }],
      ["2.0.1 no match", inquiryAnswer("2.0.1", []), { pas: "2.0.1", operation: "inquire" }],
      ["handshake", handshakeBundle("s1", o), {}],
      ["$status", statusBundle({ id: "s1", status: "error", error: "delivery failed", events: 2 }, o), {}],
      ["CapabilityStatement", capabilityStatement("http://payer.example", "1"), {}],
    ];
    for (const [name, resource, fc] of cases) {
      const v = validateFhir(resource as Resource, fc);
      assert.deepEqual(v.errors, [], `${name}:\n${formatIssues(v.errors)}`);
    }
  });
});
