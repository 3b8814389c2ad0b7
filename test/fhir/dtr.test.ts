/**
 * DTR (SPEC 4): every Questionnaire of the shipped library validates structurally; reads and search;
 * `$questionnaire-package` from orders or canonicals, pre-populated from the record (FHIRPath);
 * adaptive `$next-question`: only needed questions, most decisive first, answers checked.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Resource } from "@medplum/fhirtypes";
import { renderQuestionnaire, validateQuestionnaire } from "../../src/explain/questionnaire.js";
import { fhirPathProblem, isCancerCode, prepopulate } from "../../src/server/fhir/prepopulate.js";
import { checkOperationOutcome, checkPackage } from "./conformance.js";
import { order, patient, patientData } from "./fixtures.js";
import { call, library, startFhirServer, type TestServer } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;

describe("DTR questionnaires of the library", () => {
  test("every version × section (and all sections) validates structurally, each question once", () => {
    let n = 0;
    for (const e of library().entries) {
      const sections = e.evaluated.sections.filter((x) => x.tree).map((x) => x.id);
      for (const section of [undefined, ...sections]) {
        const r = renderQuestionnaire(e, section);
        assert.deepEqual(
          validateQuestionnaire(r.questionnaire),
          [],
          `${e.policy.identity.id}@${e.policy.identity.version} ${section}`,
        );
        const compiled = e.compiled();
        // Every answerable id of the rendered sections maps to exactly one item.
        for (const q of compiled.questions) {
          const linkIds = new Set(q.ids.map((id) => r.linkIdOf.get(id)).filter(Boolean));
          assert.ok(linkIds.size <= 1, `question ${q.id} maps to one item`);
        }
        n++;
      }
    }
    assert.ok(n >= 18);
  });

  test("pre-population rules (FHIRPath): cancer codes, active conditions, life expectancy units", () => {
    assert.ok(isCancerCode("C79.51") && isCancerCode("D03.9") && isCancerCode("D48.1"));
    assert.ok(!isCancerCode("D17.1") && !isCancerCode("G89.4") && !isCancerCode("E11"));
    const entry = library().get("CP.MP.173@2025-11");
    const r = renderQuestionnaire(entry, "II");
    const facts = entry.vocabulary;
    const resolved: Resource = {
      resourceType: "Condition",
      id: "old",
      clinicalStatus: { coding: [{ code: "resolved" }] },
      code: { coding: [{ system: "http://hl7.org/fhir/sid/icd-10-cm", code: "C50.911" }] },
      subject: { reference: "Patient/pat1" },
    };
    const years: Resource = {
      resourceType: "Observation",
      id: "le",
      status: "final",
      code: { coding: [{ system: "http://loinc.org", code: "x", display: "Life expectancy estimate" }] },
      valueQuantity: { value: 2, code: "a" },
    };
    const benign: Resource = {
      resourceType: "Condition",
      id: "lipoma",
      code: { coding: [{ system: "http://hl7.org/fhir/sid/icd-10-cm", code: "D17.1" }] },
      subject: { reference: "Patient/pat1" },
    };
    const p = prepopulate([resolved, years, benign], r.questions, { facts });
    assert.deepEqual(p.answers, {}, "a resolved cancer or a benign tumour answers nothing");
    assert.deepEqual(p.facts, { lifeExpectancyMonths: 24 });
    const q = prepopulate(
      (patientData.entry ?? []).map((e) => e.resource!),
      r.questions,
      { facts },
    );
    assert.deepEqual(q.answers, { "I.A.1": true });
    assert.deepEqual(q.sources["I.A.1"], ["Condition/cond1"]);
  });

  test("the seed facts come from their declared fhirPath: every expression compiles; units and sources", () => {
    for (const e of library().entries) {
      for (const d of e.vocabulary.values()) {
        if (d.fhirPath === undefined) continue;
        assert.equal(fhirPathProblem(d.fhirPath), undefined, `${e.policy.identity.id} ${d.name}`);
      }
    }
    const entry = library().get("CP.MP.173@2025-11");
    const r = renderQuestionnaire(entry, "I");
    const obs = (id: string, label: string, value: Record<string, unknown>, at: string): Resource =>
      ({
        resourceType: "Observation",
        id,
        status: "final",
        code: { text: label },
        effectiveDateTime: at,
        ...value,
      }) as Resource;
    const record = [
      obs("le-old", "Life expectancy", { valueQuantity: { value: 2, unit: "months" } }, "2025-01-01"),
      obs(
        "le-new",
        "Estimated life expectancy",
        { valueQuantity: { value: 1.5, unit: "years" } },
        "2026-01-01",
      ),
      obs("wean", "Opioid wean achieved", { valueQuantity: { value: 60, unit: "%" } }, "2026-01-02"),
    ];
    const p = prepopulate(record, r.questions, { facts: entry.vocabulary, dateOfService: "2026-02-01" });
    assert.deepEqual(p.facts, { lifeExpectancyMonths: 18, opioidWeanPercent: 60 });
    assert.deepEqual(p.sources, {
      lifeExpectancyMonths: ["Observation/le-new"],
      opioidWeanPercent: ["Observation/wean"],
    });
    // The wrong type (text for a number, a percentage above 100) is not pre-populated.
    const wrong = prepopulate(
      [
        obs("le", "Life expectancy", { valueString: "about a year" }, "2026-01-01"),
        obs("wean", "Opioid wean", { valueQuantity: { value: 160, unit: "%" } }, "2026-01-01"),
      ],
      r.questions,
      { facts: entry.vocabulary },
    );
    assert.deepEqual(wrong.facts, {});
    // Without the version's vocabulary nothing is read as a fact (no rule is hard-coded).
    assert.deepEqual(prepopulate(record, r.questions).facts, {});
  });
});

describe("DTR operations", () => {
  let s: TestServer;
  before(async () => {
    s = await startFhirServer();
  });
  after(() => s.close());
  const pkg = (parameter: unknown[]) =>
    call(s.url, "POST", "/fhir/Questionnaire/$questionnaire-package", {
      token: s.tokens.provider,
      body: { resourceType: "Parameters", parameter },
    });
  const next = (body: unknown, query = "") =>
    call(s.url, "POST", `/fhir/Questionnaire/$next-question${query}`, { token: s.tokens.provider, body });

  test("read and search a Questionnaire (public); unknown ids are 404 OperationOutcomes", async () => {
    const r = await call(s.url, "GET", "/fhir/Questionnaire/NC.CP.MP.173-2026-01-II");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /application\/fhir\+json/);
    assert.deepEqual(validateQuestionnaire(r.body), []);
    const found = await call(
      s.url,
      "GET",
      "/fhir/Questionnaire?url=http://medpolicy.example/Questionnaire/CP.MP.126-2025-04-II",
    );
    assert.equal(found.body.total, 1);
    for (const id of ["CP.MP.173-1999-01-II", "CP.MP.173-2025-11-IX", "home-o2"]) {
      const nf = await call(s.url, "GET", `/fhir/Questionnaire/${id}`);
      assert.equal(nf.status, 404, id);
      assert.deepEqual(checkOperationOutcome(nf.body), []);
    }
    const meta = await call(s.url, "GET", "/fhir/metadata");
    assert.equal(meta.body.resourceType, "CapabilityStatement");
  });

  test("$questionnaire-package from the orders: the variant's section questionnaires; nothing for coding-only", async () => {
    const r = await pkg([
      { name: "order", resource: order("62362", "a") },
      { name: "order", resource: order("62322", "b") },
      { name: "order", resource: order("62369", "c") },
      { name: "patient", resource: patient("NC") },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkPackage(r.body), []);
    const urls = r.body.parameter
      .filter((p: J) => p.name === "PackageBundle")
      .map((p: J) => p.resource.entry[0].resource.url)
      .sort();
    assert.deepEqual(urls, [
      "http://medpolicy.example/Questionnaire/NC.CP.MP.173-2026-01-I",
      "http://medpolicy.example/Questionnaire/NC.CP.MP.173-2026-01-II",
    ]);
    const outcome = r.body.parameter.find((p: J) => p.name === "outcome").resource;
    assert.match(
      outcome.issue[0].details.text,
      /ServiceRequest\/c: no policy in this library requires documentation for 62369/,
    );
    const bad = await call(s.url, "POST", "/fhir/Questionnaire/$questionnaire-package", {
      token: s.tokens.provider,
      body: { resourceType: "Patient" },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(checkOperationOutcome(bad.body), []);
  });

  test("$questionnaire-package pre-populates the version's declared facts from patientData", async () => {
    const r = await pkg([
      { name: "questionnaire", valueCanonical: "http://medpolicy.example/Questionnaire/CP.MP.173-2025-11-I" },
      { name: "patientData", resource: patientData },
    ]);
    assert.equal(r.status, 200, r.text);
    const qr = r.body.parameter[0].resource.entry[1].resource;
    const facts = qr.extension.find((e: J) => e.url.endsWith("/StructureDefinition/facts"));
    assert.deepEqual(JSON.parse(facts.valueString), { lifeExpectancyMonths: 14 });
  });

  test("$next-question: most decisive first, only what is needed; completes when decided", async () => {
    const r = await pkg([
      { name: "questionnaire", valueCanonical: "http://medpolicy.example/Questionnaire/CP.MP.173-2025-11-I" },
      { name: "patientData", resource: patientData },
    ]);
    let qr = r.body.parameter[0].resource.entry[1].resource;
    // Three at a time.
    const three = await next(qr, "?max=3");
    assert.equal(three.status, 200, three.text);
    const adaptive = three.body.contained.find((c: J) => c.id === "adaptive");
    assert.deepEqual(
      adaptive.item.map((i: J) => i.linkId),
      ["I.A.1", "I.B.1", "I.B.2", "I.B.3"],
      "the pre-populated answer, then the contraindications (each decides alone)",
    );
    assert.equal(adaptive.derivedFrom[0], "http://medpolicy.example/Questionnaire/CP.MP.173-2025-11-I");
    // A contraindication present decides the section: the form completes, as review (SPEC 2.4).
    qr = three.body;
    qr.item.push({ linkId: "I.B.1", answer: [{ valueBoolean: true }] });
    const done = await next(qr);
    assert.equal(done.body.status, "completed");
    const outcome = done.body.extension.find((e: J) => e.url.endsWith("documentation-outcome"));
    assert.equal(outcome.valueCodeableConcept.coding[0].code, "review-required");
    assert.ok(
      !done.body.contained[0].item.some((i: J) => i.linkId === "I.B.2"),
      "questions no longer needed are dropped",
    );
  });

  test("$next-question checks its input: answers are booleans to questions of the form; 400/404 otherwise", async () => {
    const r = await pkg([
      {
        name: "questionnaire",
        valueCanonical: "http://medpolicy.example/Questionnaire/CP.MP.173-2025-11-II",
      },
    ]);
    const qr = r.body.parameter[0].resource.entry[1].resource;
    const cases: [unknown, number, RegExp][] = [
      [
        { ...qr, item: [{ linkId: "I.B.1", answer: [{ valueString: "no" }] }] },
        400,
        /I\.B\.1 must be valueBoolean/,
      ],
      [{ ...qr, item: [{ linkId: "Z.9", answer: [{ valueBoolean: true }] }] }, 400, /Z\.9 is not a question/],
      [
        { ...qr, contained: [], questionnaire: "http://example.org/Questionnaire/home-o2" },
        404,
        /not a Questionnaire of this service/,
      ],
      [
        { ...qr, contained: [], questionnaire: "http://medpolicy.example/Questionnaire/CP.MP.173-2025-11" },
        400,
        /adaptive session is per section/,
      ],
      [{ resourceType: "Patient" }, 400, /takes a QuestionnaireResponse/],
      [
        {
          ...qr,
          extension: [
            {
              url: "http://medpolicy.example/fhir/StructureDefinition/facts",
              valueString: '{"lifeExpectancyMonths":"x"}',
            },
          ],
        },
        400,
        /lifeExpectancyMonths/,
      ],
    ];
    for (const [body, status, message] of cases) {
      const res = await next(body);
      assert.equal(res.status, status, res.text);
      assert.deepEqual(checkOperationOutcome(res.body), []);
      assert.match(res.body.issue[0].details.text, message);
    }
    // Parameters-wrapped input (SDC `in`) works too.
    const wrapped = await next({ resourceType: "Parameters", parameter: [{ name: "in", resource: qr }] });
    assert.equal(wrapped.status, 200, wrapped.text);
    assert.equal(wrapped.body.resourceType, "QuestionnaireResponse");
  });
});
