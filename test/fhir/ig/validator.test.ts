/**
 * The IG validator itself (issue 16, "Validation in the test suite"): the packages load, the IGs' own
 * examples validate with 0 errors, and each kind of violation — a missing required element, a wrong
 * fixed value, a wrong pattern, a broken invariant, a code outside a required binding, a missing slice,
 * a narrowed choice type — is reported at the right instance path. Skips when ../shared is absent.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Resource } from "@medplum/fhirtypes";
import {
  expandValueSet,
  formatIssues,
  IG_DIR,
  type IgIssue,
  igAvailable,
  igExamples,
  loadIg,
  type PasVersion,
  pickProfiles,
  readTgz,
  validateAgainst,
  validateFhir,
} from "./validator.js";

// biome-ignore lint/suspicious/noExplicitAny: examples are mutated structurally
type J = any;
const skip = igAvailable ? false : "../shared/fhir/ig is absent";

/** A deep copy of an IG example (package suffix such as `pas#2.2.1`, file name). */
function example(pkg: string, name: string): J {
  const hit = igExamples().find((e) => e.pkg.endsWith(pkg) && e.name === name);
  assert.ok(hit, `${pkg} ${name} not in the packages`);
  return structuredClone(hit.resource);
}

function pasOf(pkg: string): PasVersion | undefined {
  return pkg.includes("davinci-pas") ? (pkg.split("#")[1] as PasVersion) : undefined;
}

/** The errors, as `code path` lines (exact, so a test fails on any other finding). */
function errorsOf(r: Resource, pas: PasVersion = "2.2.1"): string[] {
  return validateFhir(r, { declaredOnly: true, pas }).errors.map((i) => `${i.code} ${i.path}`);
}

function only(issues: IgIssue[]): IgIssue {
  const errors = issues.filter((i) => i.severity === "error");
  assert.equal(errors.length, 1, formatIssues(errors));
  return errors[0]!;
}

const RESPONSE = "Bundle-ReferralAuthorizationResponseBundleExample.json";

describe("IG packages", { skip }, () => {
  test("the four packages load from their tgz (a minimal tar reader), with snapshots, once per process", (t) => {
    const files = readTgz(`${IG_DIR}/davinci_pas_2.2.1.tgz`);
    assert.ok(files.has("package/package.json"));
    assert.ok(files.has("package/StructureDefinition-profile-claimresponse.json"));
    const ix = loadIg();
    assert.deepEqual(
      ix.packages.map((p) => `${p.id}#${p.version}`),
      [
        "hl7.fhir.us.davinci-crd#2.0.1",
        "hl7.fhir.us.davinci-dtr#2.0.1",
        "hl7.fhir.us.davinci-pas#2.0.1",
        "hl7.fhir.us.davinci-pas#2.2.1",
      ],
    );
    // Both PAS versions define the Claim Response profile under one canonical.
    const cr = ix.sds.get("http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-claimresponse");
    assert.deepEqual(
      cr?.map((e) => e.sd.version),
      ["2.0.1", "2.2.1"],
    );
    assert.equal(loadIg(), ix, "loaded once");
    t.diagnostic(`load: ${Math.round(ix.loadMs)} ms; ${igExamples().length} examples`);
  });

  test("terminology: enumerable value sets expand; X12 and filtered ones say why they cannot", () => {
    const use = expandValueSet("http://hl7.org/fhir/ValueSet/identifier-use|4.0.1");
    assert.ok(use.ok);
    assert.deepEqual(
      [...use.codes].sort(),
      ["official", "old", "secondary", "temp", "usual"].map((c) => `http://hl7.org/fhir/identifier-use|${c}`),
    );
    const outcome = expandValueSet("http://hl7.org/fhir/us/davinci-pas/ValueSet/ClaimResponseOutcome");
    assert.ok(outcome.ok && outcome.codes.has("http://hl7.org/fhir/remittance-outcome|complete"));
    const x12 = expandValueSet("http://hl7.org/fhir/us/davinci-pas/ValueSet/X12278RequestedServiceType");
    assert.deepEqual(x12, {
      ok: false,
      reason:
        "CodeSystem https://codesystem.x12.org/005010/1365 is not in the packages (ValueSet http://hl7.org/fhir/us/davinci-pas/ValueSet/X12278RequestedServiceType)",
    });
  });
});

describe("the IGs' own examples validate with 0 errors", { skip }, () => {
  for (const pkg of ["davinci-crd#2.0.1", "davinci-dtr#2.0.1", "davinci-pas#2.0.1", "davinci-pas#2.2.1"]) {
    test(pkg, (t) => {
      const failed: string[] = [];
      let ms = 0;
      let n = 0;
      for (const ex of igExamples().filter((e) => e.pkg.endsWith(pkg))) {
        const pas = pasOf(ex.pkg);
        // Only what each example claims (meta.profile), nothing implied.
        const v = validateFhir(ex.resource, { declaredOnly: true, ...(pas && { pas }) });
        ms += v.ms;
        n++;
        if (v.errors.length) failed.push(`${ex.name}\n${formatIssues(v.errors)}`);
      }
      assert.ok(n > 10, `${pkg}: only ${n} examples`);
      assert.deepEqual(failed, []);
      t.diagnostic(`${n} examples, ${(ms / n).toFixed(1)} ms per example`);
    });
  }
});

describe("violations are reported at the right path", { skip }, () => {
  test("untouched: the PAS 2.2.1 response Bundle has no error; the input is not modified", () => {
    const b = example("pas#2.2.1", RESPONSE);
    const before = JSON.stringify(b);
    assert.deepEqual(errorsOf(b), []);
    assert.equal(JSON.stringify(b), before);
  });

  test("a missing element the profile requires, nested in an entry (medplum alone checks only the top level)", () => {
    const b = example("pas#2.2.1", RESPONSE);
    delete b.entry[0].resource.identifier[0].system; // PAS Identifier: system 1..1 (base 0..1)
    const i = only(validateFhir(b, { declaredOnly: true }).issues);
    assert.equal(i.path, "Bundle.entry[0].resource.identifier[0].system");
    assert.equal(i.message, "Missing required property");
    // Without its own meta.profile the entry is still held to PAS ClaimResponse: the Bundle
    // profile's entry slice types `resource` with that profile.
    delete b.entry[0].resource.meta;
    assert.deepEqual(errorsOf(b), ["structure Bundle.entry[0].resource.identifier[0].system"]);
  });

  test("a wrong fixed value", () => {
    const b = example("pas#2.2.1", RESPONSE);
    b.type = "searchset";
    const i = only(validateFhir(b, { declaredOnly: true }).issues);
    assert.equal(`${i.code} ${i.path}`, "value Bundle.type");
    assert.match(i.message, /fixed value "collection"/);
  });

  test("a wrong pattern three levels down", () => {
    const b = example("pas#2.2.1", RESPONSE);
    b.entry[0].resource.item[0].adjudication[0].category.coding[0].code = "benefit";
    assert.deepEqual(errorsOf(b), ["value Bundle.entry[0].resource.item[0].adjudication[0].category"]);
  });

  test("a broken invariant of an extension (CRD crd-ci-q5), evaluated with fhirpath.js", () => {
    const mr = example("crd#2.0.1", "MedicationRequest-annotated-example.json");
    const ci = mr.extension[0];
    ci.extension = ci.extension.filter((e: J) => e.url !== "satisfied-pa-id");
    const i = only(validateFhir(mr, { declaredOnly: true }).issues);
    assert.equal(`${i.code} ${i.path}`, "invariant MedicationRequest.extension[0]");
    assert.match(i.message, /^Constraint crd-ci-q5 not met/);
  });

  test("an invariant medplum's engine refuses (crd-ci-q2: a one-item collection before implies)", () => {
    const mr = example("crd#2.0.1", "MedicationRequest-annotated-example.json");
    assert.deepEqual(errorsOf(mr), [], "holds on the example");
    // covered stays `conditional` (not `not-covered`): pa-needed must then exist. Without it (and
    // without satisfied-pa-id, which crd-ci-q5 ties to it) only crd-ci-q2 fails.
    const ci = mr.extension[0];
    ci.extension = ci.extension.filter((e: J) => e.url !== "pa-needed" && e.url !== "satisfied-pa-id");
    const i = only(validateFhir(mr, { declaredOnly: true }).issues);
    assert.equal(`${i.code} ${i.path}`, "invariant MedicationRequest.extension[0]");
    assert.match(i.message, /^Constraint crd-ci-q2 not met/);
  });

  test("codes outside required bindings (R4 and PAS value sets)", () => {
    const b = example("pas#2.2.1", RESPONSE);
    b.entry[0].resource.identifier[0].use = "bogus";
    b.entry[0].resource.outcome = "maybe";
    const v = validateFhir(b, { declaredOnly: true });
    assert.deepEqual(
      v.errors.map((i) => `${i.code} ${i.path} ${i.message}`),
      [
        "code-invalid Bundle.entry[0].resource.identifier[0].use code 'bogus' is not in the required value set http://hl7.org/fhir/ValueSet/identifier-use",
        "code-invalid Bundle.entry[0].resource.outcome code 'maybe' is not in the required value set http://hl7.org/fhir/us/davinci-pas/ValueSet/ClaimResponseOutcome",
      ],
    );
  });

  test("a value set that cannot be enumerated (X12) is reported as not checked, never as passed", () => {
    const b = example("pas#2.2.1", RESPONSE);
    const v = validateFhir(b, { declaredOnly: true });
    const x12 = v.issues.filter((i) => i.code === "not-checked" && i.message.includes("codesystem.x12.org"));
    assert.ok(x12.length > 0);
    assert.ok(x12.every((i) => i.severity === "information"));
  });

  test("a missing required slice: the PAS response Bundle without its ClaimResponse entry", () => {
    const b = example("pas#2.2.1", RESPONSE);
    b.entry[0].resource = {
      resourceType: "OperationOutcome",
      issue: [{ severity: "error", code: "invalid" }],
    };
    const v = validateFhir(b, { declaredOnly: true });
    assert.deepEqual(
      v.errors.map((i) => `${i.code} ${i.path} ${i.message}`),
      [
        "invariant Bundle Constraint ClaimResponseFirst not met: A Prior Authorization Response Bundle must have the PAS Response as the first resource",
        "structure Bundle.entry slice 'ClaimResponse' of Bundle.entry: expected 1..1, found 0",
      ],
    );
  });

  test("a missing required slice inside an extension (coverage-information without coverage)", () => {
    const mr = example("crd#2.0.1", "MedicationRequest-annotated-example.json");
    mr.extension[0].extension = mr.extension[0].extension.filter((e: J) => e.url !== "coverage");
    const i = only(validateFhir(mr, { declaredOnly: true }).issues);
    assert.equal(i.path, "MedicationRequest.extension[0].extension");
    assert.equal(i.message, "slice 'coverage' of Extension.extension: expected 1..1, found 0");
  });

  test("an extension's value of a type its definition does not allow", () => {
    const b = example("pas#2.2.1", RESPONSE);
    const ext = b.entry[0].resource.item[0].extension[1];
    assert.match(ext.url, /extension-itemPreAuthIssueDate$/);
    ext.valueString = ext.valueDate;
    delete ext.valueDate;
    assert.deepEqual(errorsOf(b), ["structure Bundle.entry[0].resource.item[0].extension[1].valueString"]);
  });

  test("base R4 structure everywhere: unknown properties, a bad date, a wrong cardinality", () => {
    const oo = {
      resourceType: "OperationOutcome",
      issue: [{ severity: "error", code: "invalid", detail: { text: "x" } }],
      when: "yesterday",
    } as unknown as Resource;
    assert.deepEqual(errorsOf(oo), [
      "structure OperationOutcome.issue[0].detail",
      "structure OperationOutcome.when",
    ]);
    const sub = {
      resourceType: "Subscription",
      status: "active",
      reason: "r",
      criteria: "c",
      end: "soon",
      channel: { type: "rest-hook" },
    };
    assert.deepEqual(errorsOf(sub as Resource, "2.0.1"), ["structure Subscription.end"]);
    const none = { resourceType: "OperationOutcome", issue: [] } as unknown as Resource;
    assert.ok(
      errorsOf(none).some((e) => e.startsWith("structure OperationOutcome.issue")),
      errorsOf(none).join(),
    );
  });

  test("validateAgainst: one named profile, with version", () => {
    const cr = example("pas#2.2.1", "ClaimResponse-PractitionerRequestorResponseExample.json");
    assert.deepEqual(
      validateAgainst(
        cr,
        "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-claimresponse|2.2.1",
      ).filter((i) => i.severity === "error"),
      [],
    );
    const wrong = validateAgainst(
      cr,
      "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-claim|2.2.1",
    );
    assert.equal(
      only(wrong).message,
      "profile http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-claim|2.2.1 is for Claim, not ClaimResponse",
    );
  });
});

describe("profiles by context (answers name no meta.profile)", { skip }, () => {
  test("PAS response and inquiry Bundles, ClaimResponse, DTR resources, Subscription; base R4 otherwise", () => {
    const P = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/";
    const bundle = {
      resourceType: "Bundle",
      type: "collection",
      entry: [{ resource: { resourceType: "ClaimResponse" } }],
    } as Resource;
    assert.deepEqual(pickProfiles(bundle, { pas: "2.2.1" }), [`${P}profile-pas-response-bundle|2.2.1`]);
    assert.deepEqual(pickProfiles(bundle, { pas: "2.0.1", operation: "inquire" }), [
      `${P}profile-pas-inquiry-response-bundle|2.0.1`,
    ]);
    assert.deepEqual(pickProfiles({ resourceType: "ClaimResponse" } as Resource), [
      `${P}profile-claimresponse`,
    ]);
    assert.deepEqual(pickProfiles({ resourceType: "QuestionnaireResponse" } as Resource), [
      "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/dtr-questionnaireresponse",
    ]);
    assert.deepEqual(pickProfiles({ resourceType: "OperationOutcome" } as Resource), []);
    assert.deepEqual(pickProfiles({ resourceType: "ClaimResponse" } as Resource, { declaredOnly: true }), []);
  });

  test("a ClaimResponse without meta.profile is held to PAS: a missing outcome is an error there", () => {
    const cr = example("pas#2.2.1", "ClaimResponse-PractitionerRequestorResponseExample.json");
    delete cr.meta;
    assert.deepEqual(validateFhir(cr, { pas: "2.2.1" }).errors, []);
    delete cr.outcome;
    const v = validateFhir(cr, { pas: "2.2.1" });
    assert.deepEqual(v.profiles, [
      "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-claimresponse|2.2.1",
    ]);
    assert.deepEqual(
      v.errors.map((i) => `${i.path} ${i.message}`),
      ["ClaimResponse.outcome Missing required property"],
    );
  });

  test("not a resource at all", () => {
    assert.equal(validateFhir({} as Resource).errors[0]?.message, "not a FHIR resource (no resourceType)");
  });
});
