/**
 * FHIR resources an EHR would send in the tests (issue 5): a member in Texas (no state variant, so the
 * corporate CP.MP.173 applies), her coverage, a draft order for a programmable pump (CPT 62362), the
 * CRD hook request around it, the DTR package request, and the PAS request Bundle.
 */
import type {
  Bundle,
  Claim,
  Coverage,
  Organization,
  Patient,
  QuestionnaireResponse,
  Resource,
  ServiceRequest,
} from "@medplum/fhirtypes";

export const CPT = "http://www.ama-assn.org/go/cpt";
export const PROVIDER_NPI = "1234567893";

export function dateOfService(): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + 20);
  return d.toISOString().slice(0, 10);
}

export function patient(state = "TX"): Patient {
  return {
    resourceType: "Patient",
    id: "pat1",
    name: [{ family: "Example", given: ["Test"] }],
    birthDate: "1961-03-02",
    address: [{ use: "home", line: ["1 Main St"], city: "Austin", state, postalCode: "78701" }],
  };
}

export const coverage: Coverage = {
  resourceType: "Coverage",
  id: "cov1",
  status: "active",
  beneficiary: { reference: "Patient/pat1" },
  payor: [{ reference: "Organization/ins1", display: "Example Health Plan" }],
};

export function order(code = "62362", id = "sr1"): ServiceRequest {
  return {
    resourceType: "ServiceRequest",
    id,
    status: "draft",
    intent: "original-order",
    code: { coding: [{ system: CPT, code, display: "Implantation of programmable pump" }] },
    subject: { reference: "Patient/pat1" },
    occurrenceDateTime: dateOfService(),
    // CRD's ServiceRequest profile (echoed in coverage information) requires both.
    authoredOn: dateOfService(),
    requester: { reference: "Practitioner/dr1" },
  };
}

export function hookRequest(
  hook: string,
  orders: Resource[],
  extra: Record<string, unknown> = {},
  state = "TX",
) {
  const bundle: Bundle = {
    resourceType: "Bundle",
    type: "collection",
    entry: orders.map((resource) => ({ resource })),
  };
  const context: Record<string, unknown> = {
    userId: "Practitioner/dr1",
    patientId: "pat1",
    encounterId: "enc1",
  };
  if (hook === "appointment-book") context.appointments = bundle;
  else context.draftOrders = bundle;
  if (hook === "order-select") context.selections = orders.map((o) => `${o.resourceType}/${o.id}`);
  return {
    hookInstance: crypto.randomUUID(),
    hook,
    fhirServer: "http://ehr.example/fhir",
    context,
    prefetch: {
      patient: patient(state),
      coverage: { resourceType: "Bundle", type: "searchset", entry: [{ resource: coverage }] },
    },
    ...extra,
  };
}

/** The patient's record DTR pre-populates from: metastatic cancer, 14 months' life expectancy. */
export const patientData: Bundle = {
  resourceType: "Bundle",
  type: "collection",
  entry: [
    {
      resource: {
        resourceType: "Condition",
        id: "cond1",
        clinicalStatus: {
          coding: [{ system: "http://terminology.hl7.org/CodeSystem/condition-clinical", code: "active" }],
        },
        code: {
          coding: [
            {
              system: "http://hl7.org/fhir/sid/icd-10-cm",
              code: "C79.51",
              display: "Secondary malignant neoplasm of bone",
            },
          ],
        },
        subject: { reference: "Patient/pat1" },
      },
    },
    {
      resource: {
        resourceType: "Observation",
        id: "obs1",
        status: "final",
        code: { text: "Life expectancy" },
        subject: { reference: "Patient/pat1" },
        effectiveDateTime: "2026-10-01",
        valueQuantity: { value: 14, unit: "months", system: "http://unitsofmeasure.org", code: "mo" },
      },
    },
  ],
};

const insurer: Organization = {
  resourceType: "Organization",
  id: "ins1",
  name: "Example Health Plan",
  identifier: [{ system: "http://hl7.org/fhir/sid/us-npi", value: "1999999984" }],
};
const provider: Organization = {
  resourceType: "Organization",
  id: "prov1",
  name: "Northside Pain Clinic",
  identifier: [{ system: "http://hl7.org/fhir/sid/us-npi", value: PROVIDER_NPI }],
};

/** A PAS request Bundle for `codes`, with the completed QuestionnaireResponse attached. */
export function pasBundle(
  identifier: string,
  codes: string[],
  qr?: QuestionnaireResponse,
  state = "TX",
): Bundle {
  const dos = dateOfService();
  const claim: Claim = {
    resourceType: "Claim",
    id: `claim-${identifier}`,
    identifier: [{ system: "urn:trnorg:medpolicy-test", value: identifier }],
    status: "active",
    type: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/claim-type", code: "professional" }] },
    use: "preauthorization",
    patient: { reference: "Patient/pat1" },
    created: new Date().toISOString(),
    insurer: { reference: "Organization/ins1" },
    provider: { reference: "Organization/prov1" },
    priority: {
      coding: [{ system: "http://terminology.hl7.org/CodeSystem/processpriority", code: "normal" }],
    },
    insurance: [{ sequence: 1, focal: true, coverage: { reference: "Coverage/cov1" } }],
    ...(qr && {
      supportingInfo: [
        {
          sequence: 1,
          category: {
            coding: [
              {
                system: "http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASTempCodes",
                code: "additionalInformation",
              },
            ],
          },
          valueReference: { reference: `QuestionnaireResponse/${qr.id}` },
        },
      ],
    }),
    item: codes.map((code, i) => ({
      sequence: i + 1,
      productOrService: { coding: [{ system: CPT, code }] },
      servicedDate: dos,
    })),
  };
  const entry = [claim, patient(state), insurer, provider, coverage, ...(qr ? [qr] : [])].map((resource) => ({
    fullUrl: `http://ehr.example/fhir/${resource.resourceType}/${resource.id}`,
    resource,
  }));
  return {
    resourceType: "Bundle",
    identifier: { system: "urn:ietf:rfc:3986", value: `urn:uuid:${crypto.randomUUID()}` },
    type: "collection",
    timestamp: new Date().toISOString(),
    entry,
  };
}
