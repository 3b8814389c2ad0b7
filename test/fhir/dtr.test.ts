/**
 * DTR (SPEC 4): every Questionnaire of the shipped library validates structurally; reads and search;
 * `$questionnaire-package` from orders or canonicals, pre-populated from the record (FHIRPath);
 * adaptive `$next-question`: only needed questions, most decisive first, answers checked.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Resource } from "@medplum/fhirtypes";
import { renderQuestionnaire, validateQuestionnaire } from "../../src/explain/questionnaire.js";
import { loadLibrary } from "../../src/library/library.js";
import { populateFromBundle } from "../../src/server/fhir/dtr-population.js";
import { fhirPathProblem, isCancerCode, prepopulate } from "../../src/server/fhir/prepopulate.js";
import { dbsLibrary } from "../support/dbs-library.js";
import { checkOperationOutcome, checkPackage } from "./conformance.js";
import { coverage, order, patient, patientData } from "./fixtures.js";
import { call, library, SHARED_FHIR, sharedAvailable, startFhirServer, type TestServer } from "./helpers.js";
import { formatIssues, igAvailable, validateFhir } from "./ig/validator.js";

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
    // Issue 16: the canonical is `<publicBaseUrl>/fhir/Questionnaire/<id>` and resolves here by url.
    const canonical = `${s.url}/fhir/Questionnaire/CP.MP.126-2025-04-II`;
    assert.equal(r.body.url, `${s.url}/fhir/Questionnaire/NC.CP.MP.173-2026-01-II`);
    const found = await call(s.url, "GET", `/fhir/Questionnaire?url=${encodeURIComponent(canonical)}`);
    assert.equal(found.body.total, 1);
    assert.equal(found.body.entry[0].resource.url, canonical);
    assert.equal(found.body.entry[0].fullUrl, canonical);
    // A canonical of another host (the pre-issue-16 one) is not this server's.
    const other = await call(
      s.url,
      "GET",
      "/fhir/Questionnaire?url=http://medpolicy.example/Questionnaire/CP.MP.126-2025-04-II",
    );
    assert.equal(other.body.total, 0);
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
      `${s.url}/fhir/Questionnaire/NC.CP.MP.173-2026-01-I`,
      `${s.url}/fhir/Questionnaire/NC.CP.MP.173-2026-01-II`,
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

  test("the package's response names its subject (DTR: 1..1) as the EHR referred to the patient, without a Patient resource", async () => {
    for (const reference of [
      "Patient/pat1",
      "https://ehr.example.org/fhir/Patient/pat1",
      "Patient/pat1/_history/2",
    ]) {
      const r = await pkg([
        { name: "coverage", resource: { ...coverage, beneficiary: { reference } } },
        { name: "order", resource: { ...order("62362", "s1"), subject: { reference } } },
      ]);
      assert.equal(r.status, 200, r.text);
      const qr = r.body.parameter
        .find((p: J) => p.name === "PackageBundle")
        .resource.entry.find((e: J) => e.resource.resourceType === "QuestionnaireResponse").resource;
      assert.deepEqual(qr.subject, { reference }, reference);
    }
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
    assert.equal(adaptive.derivedFrom[0], `${s.url}/fhir/Questionnaire/CP.MP.173-2025-11-I`);
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

  // ------------------------------------------------------------------------------------------------
  // Issue 16: DTR 2.0.1 to the letter.

  const ext = (r: J, url: string): J[] => (r.extension ?? []).filter((e: J) => e.url === url);
  const LAUNCH = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-launchContext";
  const VARIABLE = "http://hl7.org/fhir/StructureDefinition/variable";
  const INITIAL = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-initialExpression";
  const items = (q: J): J[] => (q.item ?? []).flatMap((i: J) => [i, ...items(i)]);

  test("issue 16: served Questionnaires carry SDC population logic in FHIRPath from the declared facts, and a narrative", async () => {
    const r = await call(s.url, "GET", "/fhir/Questionnaire/CP.MP.173-2025-11-II");
    assert.equal(r.status, 200, r.text);
    const q = r.body;
    assert.deepEqual(q.meta.profile, [
      "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/dtr-std-questionnaire",
    ]);
    assert.equal(q.text.status, "generated");
    assert.match(q.text.div, /^<div xmlns="http:\/\/www.w3.org\/1999\/xhtml">/);
    assert.match(q.text.div, /Estimated life expectancy, in months/);
    const launch = ext(q, LAUNCH).map(
      (e: J) => e.extension.find((x: J) => x.url === "name").valueCoding.code,
    );
    assert.deepEqual(launch, ["patient", "encounter", "user", "coverage", "order"]);
    const vars = Object.fromEntries(
      ext(q, VARIABLE).map((e: J) => [e.valueExpression.name, e.valueExpression]),
    );
    assert.deepEqual(Object.keys(vars), ["recordObservation", "record", "dateOfService"]);
    assert.equal(vars.recordObservation.language, "application/x-fhir-query");
    assert.equal(vars.recordObservation.expression, "Observation?patient={{%patient.id}}");
    assert.equal(vars.record.language, "text/fhirpath");
    assert.equal(vars.dateOfService.language, "text/fhirpath");
    // One item per declared fact; the fact's own fhirPath is its initialExpression; none without one.
    const byLink = new Map(items(q).map((i: J) => [i.linkId, i]));
    const decls = library().get("CP.MP.173@2025-11").vocabulary;
    for (const d of decls.values()) {
      const item = byLink.get(`fact:${d.name}`);
      assert.ok(item, d.name);
      const init = ext(item, INITIAL);
      if (d.fhirPath === undefined) assert.equal(init.length, 0, d.name);
      else {
        assert.equal(init[0].valueExpression.language, "text/fhirpath");
        assert.ok(init[0].valueExpression.expression.startsWith(`%record.select(${d.fhirPath})`), d.name);
      }
    }
    assert.equal(byLink.get("fact:lifeExpectancyMonths").type, "decimal");
    assert.equal(byLink.get("fact:trialFunctionImproved").type, "boolean");
    assert.deepEqual(
      checkPackage({
        resourceType: "Parameters",
        parameter: [
          {
            name: "PackageBundle",
            resource: { resourceType: "Bundle", type: "collection", entry: [{ resource: q }] },
          },
        ],
      }),
      [],
    );
  });

  test("issue 16: pre-population by the Questionnaire's own expressions gives what the service pre-populates", async () => {
    const r = await pkg([
      { name: "coverage", resource: coverage },
      { name: "questionnaire", valueCanonical: `${s.url}/fhir/Questionnaire/CP.MP.173-2025-11-I` },
      { name: "patientData", resource: patientData },
    ]);
    assert.equal(r.status, 200, r.text);
    const bundle = r.body.parameter.find((p: J) => p.name === "PackageBundle").resource;
    const q = bundle.entry[0].resource;
    const qr = bundle.entry[1].resource;
    const served = JSON.parse(qr.extension.find((e: J) => e.url.endsWith("/facts")).valueString);
    const pop = populateFromBundle(q, {
      record: patientData,
      launch: { patient: patient(), coverage, order: order() },
    });
    assert.deepEqual(pop.problems, []);
    assert.deepEqual(pop.answers, { "fact:lifeExpectancyMonths": [served.lifeExpectancyMonths] });
    assert.equal(served.lifeExpectancyMonths, 14);
    // The adaptive form contained in the response: DTR Adaptive Questionnaire with narrative and launch contexts.
    const adaptive = qr.contained.find((c: J) => c.id === "adaptive");
    assert.deepEqual(adaptive.meta.profile, [
      "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/dtr-questionnaire-adapt",
    ]);
    assert.equal(adaptive.text.status, "generated");
    assert.equal(ext(adaptive, LAUNCH).length, 5);
    assert.equal(adaptive.derivedFrom[0], q.url);
  });

  test("issue 16: $next-question takes the facts the clinician answers in fact: items", async () => {
    const r = await pkg([
      { name: "questionnaire", valueCanonical: `${s.url}/fhir/Questionnaire/CP.MP.173-2025-11-II` },
    ]);
    const qr = r.body.parameter[0].resource.entry[1].resource;
    // A fact answered in its item is checked like the facts extension: the wrong value is a 400.
    const wrong = await next({
      ...qr,
      item: [{ linkId: "fact:trialPainReductionPercent", answer: [{ valueDecimal: 140 }] }],
    });
    assert.equal(wrong.status, 400, wrong.text);
    assert.deepEqual(checkOperationOutcome(wrong.body), []);
    assert.match(
      wrong.body.issue[0].details.text,
      /facts\.trialPainReductionPercent: must be a number \(%, 0–100\)/,
    );
    const unknown = await next({ ...qr, item: [{ linkId: "fact:bmi", answer: [{ valueDecimal: 40 }] }] });
    assert.equal(unknown.status, 400, unknown.text);
    assert.match(unknown.body.issue[0].details.text, /facts\.bmi: unknown fact/);
    const without = await next(qr);
    const res = await next({
      ...qr,
      item: [{ linkId: "fact:trialPainReductionPercent", answer: [{ valueDecimal: 20 }] }],
    });
    assert.equal(res.status, 200, res.text);
    // The trial's ≥ 50% pain reduction is refuted by the answered fact: it is not asked.
    const adaptive = res.body.contained.find((c: J) => c.id === "adaptive");
    const before = without.body.contained.find((c: J) => c.id === "adaptive");
    assert.notDeepEqual(
      adaptive.item.map((i: J) => i.linkId),
      before.item.map((i: J) => i.linkId),
    );
  });

  test("issue 16: the referenced input gives the orders' Patient (the state variant's questionnaires)", async () => {
    const nc = { ...patient("NC"), id: "pat1" };
    const r = await pkg([
      { name: "coverage", resource: coverage },
      { name: "order", resource: order("62362", "a") },
      { name: "referenced", resource: nc },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkPackage(r.body), []);
    const urls = r.body.parameter
      .filter((p: J) => p.name === "PackageBundle")
      .map((p: J) => p.resource.entry[0].resource.url);
    assert.deepEqual(urls, [`${s.url}/fhir/Questionnaire/NC.CP.MP.173-2026-01-II`]);
    const qr = r.body.parameter[0].resource.entry[1].resource;
    assert.deepEqual(qr.subject, { reference: "Patient/pat1" });
    // An order given by reference to a referenced resource is read too.
    const byRef = await pkg([
      { name: "coverage", resource: coverage },
      { name: "order", valueReference: { reference: "ServiceRequest/a" } },
      { name: "referenced", resource: order("62362", "a") },
      { name: "referenced", resource: nc },
    ]);
    assert.equal(byRef.status, 200, byRef.text);
    assert.equal(
      byRef.body.parameter.find((p: J) => p.name === "PackageBundle").resource.entry[0].resource.url,
      `${s.url}/fhir/Questionnaire/NC.CP.MP.173-2026-01-II`,
    );
  });

  test("changedsince: a package served before that moment is left out; none left, 200 'nothing has changed'", async (t) => {
    // A server of its own: what counts is what this process has served, and no other test's calls.
    const own = await startFhirServer();
    t.after(() => own.close());
    const ask = (codes: string[], changedsince?: unknown) =>
      call(own.url, "POST", "/fhir/Questionnaire/$questionnaire-package", {
        token: own.tokens.provider,
        body: {
          resourceType: "Parameters",
          parameter: [
            { name: "coverage", resource: coverage },
            ...codes.map((c, i) => ({ name: "order", resource: order(c, `o${i}`) })),
            { name: "patient", resource: patient("TX") },
            ...(changedsince === undefined ? [] : [{ name: "changedsince", ...(changedsince as object) }]),
          ],
        },
      });
    const bundles = (r: { body: J }) => r.body.parameter.filter((p: J) => p.name === "PackageBundle");
    const urls = (r: { body: J }) => bundles(r).map((p: J) => p.resource.entry[0].resource.url);
    const first = await ask(["62362"]);
    assert.equal(first.status, 200, first.text);
    assert.equal(bundles(first).length, 1);
    // Since before it was first served: sent again.
    const before = await ask(["62362"], { valueDateTime: "2020-01-01" });
    assert.equal(before.status, 200, before.text);
    assert.deepEqual(checkPackage(before.body), []);
    assert.deepEqual(urls(before), urls(first));
    // Since the bundle's own timestamp (and any later moment): nothing has changed.
    const at = bundles(first)[0].resource.timestamp as string;
    for (const since of [{ valueDateTime: at }, { valueDateTime: "2999" }, { valueInstant: at }]) {
      const same = await ask(["62362"], since);
      assert.equal(same.status, 200, same.text);
      assert.deepEqual(
        same.body.parameter.map((p: J) => p.name),
        ["outcome"],
        JSON.stringify(since),
      );
      assert.equal(same.body.meta, undefined, "no PackageBundle: the output profile is not claimed");
      assert.deepEqual(checkOperationOutcome(same.body.parameter[0].resource), []);
      assert.match(JSON.stringify(same.body.parameter[0].resource), /nothing has changed since /);
      if (igAvailable) {
        const v = validateFhir(same.body);
        assert.deepEqual(v.errors, [], formatIssues(v.errors));
      }
    }
    // A package never served before (another section, for another order) is sent; the held one is not.
    await new Promise((r) => setTimeout(r, 5)); // served strictly after `at` (ordering, not timing)
    const more = await ask(["62362", "62322"], { valueDateTime: at });
    assert.equal(more.status, 200, more.text);
    assert.deepEqual(checkPackage(more.body), []);
    assert.equal(bundles(more).length, 1);
    assert.notDeepEqual(urls(more), urls(first));
    // Not a dateTime: 400 naming the parameter.
    for (const bad of [
      { valueString: "2020-01-01" },
      { valueDateTime: "2026-02-30" },
      { valueDateTime: 5 },
    ]) {
      const r = await ask(["62362"], bad);
      assert.equal(r.status, 400, `${JSON.stringify(bad)} ${r.text}`);
      assert.deepEqual(checkOperationOutcome(r.body), []);
    }
  });

  test("issue 16: an empty package still answers a PackageBundle; the outcome is the OperationDefinition's `outcome`", async () => {
    const r = await pkg([
      { name: "coverage", resource: coverage },
      { name: "order", resource: order("62369", "c") },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkPackage(r.body), []);
    assert.deepEqual(r.body.meta.profile, [
      "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/dtr-qpackage-output-parameters",
    ]);
    assert.deepEqual(
      r.body.parameter.map((p: J) => p.name),
      ["PackageBundle", "outcome"],
    );
    const bundle = r.body.parameter[0].resource;
    assert.equal(bundle.type, "collection");
    assert.equal(bundle.entry[0].resource.resourceType, "Questionnaire", "dtrb-1");
    const url = bundle.entry[0].resource.url;
    assert.equal(url, `${s.url}/fhir/Questionnaire/no-documentation-required`);
    const read = await call(s.url, "GET", "/fhir/Questionnaire/no-documentation-required");
    assert.equal(read.status, 200);
    assert.equal(read.body.url, url);
    const found = await call(s.url, "GET", `/fhir/Questionnaire?url=${encodeURIComponent(url)}`);
    assert.equal(found.body.total, 1);
    assert.match(r.body.parameter[1].resource.issue[0].details.text, /ServiceRequest\/c: no policy/);
  });

  test("issue 16: ValueSet/$expand expands the answer value sets the questionnaires reference", async () => {
    const q = (await call(s.url, "GET", "/fhir/Questionnaire/CP.MP.126-2025-04-II")).body;
    const item = items(q).find((i: J) => i.linkId === "fact:provocativeTestsPositive");
    assert.equal(item.type, "open-choice");
    assert.equal(item.repeats, true);
    const vsUrl = item.answerValueSet;
    assert.equal(vsUrl, `${s.url}/fhir/ValueSet/CP.MP.126-2025-04-provocativeTestsPositive`);
    const all = await call(s.url, "GET", `/fhir/ValueSet/$expand?url=${encodeURIComponent(vsUrl)}`);
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.resourceType, "ValueSet");
    assert.equal(all.body.url, vsUrl);
    assert.equal(all.body.expansion.total, 6);
    assert.deepEqual(
      all.body.expansion.contains.map((c: J) => c.code),
      ["thigh thrust", "compression", "sacral thrust", "distraction", "gaenslen", "patrick/faber"],
    );
    const filtered = await call(
      s.url,
      "GET",
      `/fhir/ValueSet/$expand?url=${encodeURIComponent(vsUrl)}&filter=THRUST&count=1&offset=1`,
    );
    assert.equal(filtered.status, 200, filtered.text);
    assert.equal(filtered.body.expansion.total, 2);
    assert.equal(filtered.body.expansion.offset, 1);
    assert.deepEqual(
      filtered.body.expansion.contains.map((c: J) => c.code),
      ["sacral thrust"],
    );
    const post = await call(s.url, "POST", "/fhir/ValueSet/$expand", {
      token: s.tokens.provider,
      body: {
        resourceType: "Parameters",
        parameter: [
          { name: "url", valueUri: vsUrl },
          { name: "filter", valueString: "gaen" },
        ],
      },
    });
    assert.equal(post.status, 200, post.text);
    assert.deepEqual(
      post.body.expansion.contains.map((c: J) => c.code),
      ["gaenslen"],
    );
    const inline = await call(s.url, "POST", "/fhir/ValueSet/$expand", {
      token: s.tokens.provider,
      body: {
        resourceType: "Parameters",
        parameter: [
          {
            name: "valueSet",
            resource: {
              resourceType: "ValueSet",
              status: "active",
              compose: { include: [{ system: "http://x", concept: [{ code: "a" }, { code: "b" }] }] },
            },
          },
          { name: "count", valueInteger: 1 },
        ],
      },
    });
    assert.equal(inline.status, 200, inline.text);
    assert.equal(inline.body.expansion.total, 2);
    assert.deepEqual(inline.body.expansion.contains, [{ system: "http://x", code: "a" }]);
    const read = await call(s.url, "GET", "/fhir/ValueSet/CP.MP.126-2025-04-provocativeTestsPositive");
    assert.equal(read.status, 200);
    const cases: [string, number][] = [
      [
        `/fhir/ValueSet/$expand?url=${encodeURIComponent(`${s.url}/fhir/ValueSet/CP.MP.126-2025-04-nothing`)}`,
        404,
      ],
      [
        "/fhir/ValueSet/$expand?url=http://example.org/ValueSet/CP.MP.126-2025-04-provocativeTestsPositive",
        404,
      ],
      [`/fhir/ValueSet/$expand?url=${encodeURIComponent(vsUrl)}&count=-1`, 400],
      ["/fhir/ValueSet/$expand", 400],
      ["/fhir/ValueSet/CP.MP.126-2025-04-bmi", 404],
    ];
    for (const [path, status] of cases) {
      const res = await call(s.url, "GET", path);
      assert.equal(res.status, status, path);
      assert.deepEqual(checkOperationOutcome(res.body), [], path);
    }
  });

  test("issue 16: $log-questionnaire-errors accepts the IG's input for one of this service's questionnaires", async () => {
    const log = (body: unknown) =>
      call(s.url, "POST", "/fhir/Questionnaire/$log-questionnaire-errors", {
        token: s.tokens.provider,
        body,
      });
    const example = sharedAvailable
      ? JSON.parse(
          readFileSync(
            join(SHARED_FHIR, "dtr-2.0.1", "Parameters-LogQuestionnaireErrorsInputParamsExample.json"),
            "utf8",
          ),
        )
      : {
          resourceType: "Parameters",
          parameter: [
            {
              name: "questionnaire",
              valueCanonical: "http://hl7.org/fhir/us/davinci-dtr/Questionnaire/home-o2-std-questionnaire",
            },
            {
              name: "operationOutcome",
              resource: {
                resourceType: "OperationOutcome",
                issue: [{ severity: "error", code: "not-found" }],
              },
            },
          ],
        };
    // As published it names the IG's own Questionnaire, which this service does not serve.
    const foreign = await log(example);
    assert.equal(foreign.status, 404, foreign.text);
    assert.deepEqual(checkOperationOutcome(foreign.body), []);
    const ours = structuredClone(example);
    ours.parameter[0].valueCanonical = `${s.url}/fhir/Questionnaire/CP.MP.173-2025-11-II|2025-11`;
    ours.parameter[1].resource.issue.push({
      severity: "warning",
      code: "processing",
      diagnostics: "Jane Doe",
    });
    const ok = await log(ours);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.resourceType, "OperationOutcome");
    assert.equal(ok.body.issue[0].severity, "information");
    assert.match(ok.body.issue[0].details.text, /recorded 2 issue\(s\)/);
    assert.ok(!ok.text.includes("Jane"), "the reported text is not echoed");
    const bad: [unknown, RegExp][] = [
      [{ resourceType: "Parameters", parameter: [ours.parameter[0]] }, /exactly one OperationOutcome/],
      [{ resourceType: "Parameters", parameter: [ours.parameter[1]] }, /exactly one questionnaire/],
      [
        {
          resourceType: "Parameters",
          parameter: [
            ours.parameter[0],
            {
              name: "operationOutcome",
              resource: { resourceType: "OperationOutcome", issue: [{ severity: "bad", code: "x" }] },
            },
          ],
        },
        /severity/,
      ],
      [{ resourceType: "Patient" }, /takes a Parameters/],
    ];
    for (const [body, message] of bad) {
      const res = await log(body);
      assert.equal(res.status, 400, res.text);
      assert.deepEqual(checkOperationOutcome(res.body), []);
      assert.match(res.body.issue[0].details.text, message);
    }
  });

  test("issue 16: the new DTR endpoints answer wrong input with 4xx OperationOutcomes, never 5xx", async () => {
    const vs = encodeURIComponent(`${s.url}/fhir/ValueSet/CP.MP.126-2025-04-provocativeTestsPositive`);
    // The percent-encoded operation name reaches the same operation.
    const encoded = await call(s.url, "GET", `/fhir/ValueSet/%24expand?url=${vs}&count=2`);
    assert.equal(encoded.status, 200, encoded.text);
    assert.equal(encoded.body.expansion.contains.length, 2);
    const gets = [
      `/fhir/ValueSet/$expand?url=${vs}&url=${vs}`,
      `/fhir/ValueSet/$expand?url=${vs}&offset=1e9`,
      `/fhir/ValueSet/$expand?url=${vs}&filter=${"x".repeat(300)}`,
      `/fhir/ValueSet/$expand?url=${"%7B".repeat(3000)}`,
      "/fhir/Questionnaire?url=" + "a/Questionnaire/".repeat(200),
    ];
    for (const path of gets) {
      const r = await call(s.url, "GET", path);
      assert.ok(r.status < 500, `${path.slice(0, 80)}: ${r.status}`);
      if (r.status >= 400) assert.deepEqual(checkOperationOutcome(r.body), [], path.slice(0, 80));
    }
    const posts: [string, unknown][] = [
      [
        "/fhir/ValueSet/$expand",
        {
          resourceType: "Parameters",
          parameter: [
            {
              name: "valueSet",
              resource: { resourceType: "ValueSet", status: "active", compose: { include: "x" } },
            },
          ],
        },
      ],
      [
        "/fhir/ValueSet/$expand",
        {
          resourceType: "Parameters",
          parameter: [
            { name: "count", valueInteger: -3 },
            { name: "url", valueUri: "x" },
          ],
        },
      ],
      ["/fhir/ValueSet/$expand", { resourceType: "Parameters", parameter: "x" }],
      ["/fhir/ValueSet/%24expand", [1, 2]],
      [
        "/fhir/Questionnaire/$log-questionnaire-errors",
        { resourceType: "Parameters", parameter: [{ name: "questionnaire", valueCanonical: 5 }] },
      ],
      [
        "/fhir/Questionnaire/%24log-questionnaire-errors",
        {
          resourceType: "Parameters",
          parameter: [{ name: "questionnaire", valueCanonical: "x".repeat(5000) }],
        },
      ],
      [
        "/fhir/Questionnaire/$log-questionnaire-errors",
        {
          resourceType: "Parameters",
          parameter: [
            { name: "operationOutcome", resource: { resourceType: "OperationOutcome", issue: "x" } },
          ],
        },
      ],
      [
        "/fhir/Questionnaire/$questionnaire-package",
        { resourceType: "Parameters", parameter: [{ name: "order", valueReference: { reference: 7 } }] },
      ],
      [
        "/fhir/Questionnaire/$questionnaire-package",
        {
          resourceType: "Parameters",
          parameter: [{ name: "referenced", resource: { resourceType: "Patient", birthDate: "yesterday" } }],
        },
      ],
    ];
    for (const [path, body] of posts) {
      const r = await call(s.url, "POST", path, { token: s.tokens.provider, body });
      assert.ok(
        r.status >= 400 && r.status < 500,
        `${path} ${JSON.stringify(body).slice(0, 80)}: ${r.status} ${r.text.slice(0, 200)}`,
      );
      assert.deepEqual(checkOperationOutcome(r.body), [], path);
    }
  });

  test("issue 16: round trip as a DTR app drives it — the standard form's own expressions populate the facts, the adaptive form decides", async () => {
    const canonical = `${s.url}/fhir/Questionnaire/CP.MP.173-2025-11-I`;
    const r = await pkg([
      { name: "coverage", resource: coverage },
      { name: "order", resource: order() },
      { name: "questionnaire", valueCanonical: canonical },
    ]);
    assert.equal(r.status, 200, r.text);
    const bundle = r.body.parameter.find((p: J) => p.name === "PackageBundle").resource;
    const std = bundle.entry[0].resource;
    // Nothing was sent to the payer but the order: the app populates from the EHR by the form's logic.
    let qr = bundle.entry[1].resource;
    assert.equal(
      qr.extension.find((e: J) => e.url.endsWith("/facts")),
      undefined,
    );
    const pop = populateFromBundle(std, {
      record: patientData,
      launch: { patient: patient(), order: order() },
    });
    assert.deepEqual(pop.answers, { "fact:lifeExpectancyMonths": [14] });
    qr.item = [
      {
        linkId: "facts",
        item: Object.entries(pop.answers).map(([linkId, v]) => ({
          linkId,
          answer: [
            {
              valueDecimal: v[0],
              extension: [
                {
                  url: "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/information-origin",
                  extension: [{ url: "source", valueCode: "auto" }],
                },
              ],
            },
          ],
        })),
      },
    ];
    const asked: string[] = [];
    for (let round = 0; round < 40 && qr.status !== "completed"; round++) {
      const res = await next(qr);
      assert.equal(res.status, 200, res.text);
      qr = res.body;
      const adaptive = qr.contained.find((c: J) => c.id === "adaptive");
      // The populated facts stay questions of the adaptive form.
      assert.deepEqual(
        adaptive.item.find((i: J) => i.linkId === "facts")?.item.map((i: J) => i.linkId),
        ["fact:lifeExpectancyMonths"],
      );
      if (qr.status === "completed") break;
      const answered = new Set(qr.item.map((i: J) => i.linkId));
      const open = adaptive.item.filter((i: J) => !answered.has(i.linkId));
      assert.equal(open.length, 1, JSON.stringify(open));
      asked.push(open[0].linkId);
      // Every indication holds, every contraindication is absent.
      const present = /contraindication/i.test(open[0].text);
      qr.item.push({ linkId: open[0].linkId, answer: [{ valueBoolean: !present }] });
    }
    assert.equal(qr.status, "completed");
    const outcome = qr.extension.find((e: J) => e.url.endsWith("/documentation-outcome"));
    assert.equal(outcome.valueCodeableConcept.coding[0].code, "criteria-met");
    // The life expectancy criterion was decided by the populated fact: never asked.
    const lifeExpectancy = items(std).find(
      (i: J) => /life expectancy/i.test(i.text ?? "") && i.type === "boolean",
    );
    assert.ok(lifeExpectancy, "the form asks about life expectancy");
    assert.ok(!asked.includes(lifeExpectancy.linkId), `${lifeExpectancy.linkId} in ${asked.join(", ")}`);
    assert.ok(asked.length > 0);
  });
});

describe("DTR with an exclusion list no binding makes the code's criteria", () => {
  let s: TestServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "medpolicy-dtr-dbs-"));
    s = await startFhirServer({}, undefined, { library: loadLibrary(await dbsLibrary(join(dir, "lib"))) });
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the package for the code brings the list's questionnaire beside its section's (the engine asks both)", async () => {
    const r = await call(s.url, "POST", "/fhir/Questionnaire/$questionnaire-package", {
      token: s.tokens.provider,
      body: {
        resourceType: "Parameters",
        parameter: [
          { name: "order", resource: order("61863", "dbs") },
          { name: "patient", resource: patient("TX") },
          { name: "coverage", resource: coverage },
        ],
      },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(checkPackage(r.body), []);
    const urls = r.body.parameter
      .filter((p: J) => p.name === "PackageBundle")
      .map((p: J) => p.resource.entry[0].resource.url);
    assert.deepEqual(urls, [
      `${s.url}/fhir/Questionnaire/NCD.160.24-2003-04-I`,
      `${s.url}/fhir/Questionnaire/NCD.160.24-2003-04-II`,
    ]);
  });
});
