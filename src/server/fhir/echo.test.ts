import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Resource } from "@medplum/fhirtypes";
import { minimalParty } from "./echo.js";

describe("minimalParty: the parties a PAS response echoes (issue 16)", () => {
  it("keeps what identifies a Patient and drops the rest, unknown properties included", () => {
    const given = {
      resourceType: "Patient",
      id: "pat1",
      meta: { profile: ["http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-beneficiary", 7] },
      text: { status: "generated" },
      extension: [{ url: "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race" }],
      identifier: [
        { system: "urn:mbi", value: "1EG4-TE5-MK73", a: "fuzz", period: { start: "2020" } },
        { system: "urn:mbi" },
      ],
      name: [{ family: "Doe", given: ["Jane", 5], a: 1 }, { b: 2 }],
      gender: "female",
      birthDate: "1970-01-01",
      address: [{ state: "TX", line: ["1 Main St"], _state: { extension: [] } }],
      maritalStatus: { text: "M" },
      contact: [{ name: { family: "Roe" } }],
    } as unknown as Resource;
    assert.deepEqual(minimalParty(given), {
      resourceType: "Patient",
      id: "pat1",
      meta: { profile: ["http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-beneficiary"] },
      identifier: [{ system: "urn:mbi", value: "1EG4-TE5-MK73" }],
      name: [{ family: "Doe", given: ["Jane"] }],
      gender: "female",
      birthDate: "1970-01-01",
      address: [{ state: "TX", line: ["1 Main St"] }],
    });
  });

  it("keeps an Organization's name, type and NPI; a PractitionerRole's references", () => {
    const org = {
      resourceType: "Organization",
      id: "ins",
      identifier: [
        {
          system: "http://hl7.org/fhir/sid/us-npi",
          value: "1234567893",
          type: { coding: [{ code: "NPI", x: 1 }] },
        },
      ],
      name: "Acme Health",
      type: [
        { coding: [{ system: "http://terminology.hl7.org/CodeSystem/organization-type", code: "ins" }] },
      ],
      contact: [{ purpose: { text: "billing" } }],
    } as unknown as Resource;
    assert.deepEqual(minimalParty(org), {
      resourceType: "Organization",
      id: "ins",
      identifier: [
        {
          type: { coding: [{ code: "NPI" }] },
          system: "http://hl7.org/fhir/sid/us-npi",
          value: "1234567893",
        },
      ],
      name: "Acme Health",
      type: [
        { coding: [{ system: "http://terminology.hl7.org/CodeSystem/organization-type", code: "ins" }] },
      ],
    });
    const role = {
      resourceType: "PractitionerRole",
      id: "r1",
      practitioner: { reference: "Practitioner/p1", extra: true },
      organization: { reference: "Organization/o1" },
      availableTime: [{ allDay: true }],
    } as unknown as Resource;
    assert.deepEqual(minimalParty(role), {
      resourceType: "PractitionerRole",
      id: "r1",
      practitioner: { reference: "Practitioner/p1" },
      organization: { reference: "Organization/o1" },
    });
  });

  it("keeps a name's data-absent-reason, a role's endpoint, and only PAS or US Core profiles", () => {
    const DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";
    const pat = {
      resourceType: "Patient",
      meta: {
        profile: [
          "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient",
          "http://example.org/mine",
        ],
      },
      identifier: [{ system: "urn:mbi", value: "X" }],
      name: [
        {
          extension: [
            { url: DAR, valueCode: "masked" },
            { url: "urn:other", valueString: "x" },
          ],
        },
      ],
      gender: "unknown",
    } as unknown as Resource;
    assert.deepEqual(minimalParty(pat), {
      resourceType: "Patient",
      meta: { profile: ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"] },
      identifier: [{ system: "urn:mbi", value: "X" }],
      name: [{ extension: [{ url: DAR, valueCode: "masked" }] }],
      gender: "unknown",
    });
    const role = {
      resourceType: "PractitionerRole",
      meta: { profile: ["http://example.org/only-mine"] },
      practitioner: { reference: "Practitioner/p1" },
      endpoint: [{ reference: "Endpoint/e1", x: 1 }],
    } as unknown as Resource;
    assert.deepEqual(minimalParty(role), {
      resourceType: "PractitionerRole",
      practitioner: { reference: "Practitioner/p1" },
      endpoint: [{ reference: "Endpoint/e1" }],
    });
  });

  it("keeps an identifier without its value where the Patient has no other (dropped, the copy had none: US Core 1..*)", () => {
    const got = minimalParty({
      resourceType: "Patient",
      id: "p",
      identifier: [{ system: "http://example.org/MIN", period: { start: "2020" } }],
    } as unknown as Resource) as unknown as { identifier: unknown };
    assert.deepEqual(got.identifier, [{ system: "http://example.org/MIN" }]);
  });

  it("returns another resource type as given", () => {
    const dev = { resourceType: "Device", id: "d1", text: { status: "empty" } } as unknown as Resource;
    assert.equal(minimalParty(dev), dev);
  });
});
