/**
 * The hostile FHIR bodies of issue 13's findings, kept as fixtures (built from the valid fixtures in
 * `fixtures.ts` so they stay in step with them): each names the endpoint, the body, and the status and
 * OperationOutcome `expression` the service must answer with.
 */
import type { Bundle } from "@medplum/fhirtypes";
import { FACTS_EXTENSION } from "../../src/server/fhir/dtr.js";
import { hookRequest, order, pasBundle, patient } from "./fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: hostile bodies are built structurally
type J = any;

export interface HostileBody {
  name: string;
  path: string;
  body: unknown;
  status: number;
  /** The OperationOutcome issue code and expression expected. */
  code: string;
  expression: string;
}

const pas = (mutate: (b: J) => void, id = "H1"): Bundle => {
  // A deep copy: the valid fixtures share objects (the Coverage) that must not change.
  const b = structuredClone(pasBundle(id, ["62362"])) as J;
  mutate(b);
  return b;
};
const hook = (mutate: (h: J) => void) => {
  const h = structuredClone(hookRequest("order-sign", [order()])) as J;
  mutate(h);
  return h;
};
const Q = "http://medpolicy.example/Questionnaire/CP.MP.173-2025-11-II";
const adaptive = (mutate: (qr: J) => void) => {
  const qr: J = {
    resourceType: "QuestionnaireResponse",
    id: "qr-h",
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
    extension: [{ url: FACTS_EXTENSION, valueString: "{}" }],
    status: "in-progress",
    item: [{ linkId: "I.A.1", answer: [{ valueBoolean: true }] }],
  };
  mutate(qr);
  return qr;
};

const SUBMIT = "/fhir/Claim/$submit";
const CRD = "/cds-services/order-sign-crd";
const NEXT = "/fhir/Questionnaire/$next-question";

/** Wrong-typed input (issue 13: 32 × HTTP 500), one per kind the report names, and then some. */
export const WRONG_TYPED: HostileBody[] = [
  {
    name: "PAS: a number where a code string belongs (Coding.code)",
    path: SUBMIT,
    body: pas((b) => {
      b.entry[0].resource.item[0].productOrService.coding[0].code = 62362;
    }),
    status: 400,
    code: "structure",
    expression: "Bundle.entry[0].resource.item[0].productOrService.coding[0].code",
  },
  {
    name: 'PAS: address: "TX"',
    path: SUBMIT,
    body: pas((b) => {
      b.entry[1].resource.address = "TX";
    }),
    status: 400,
    code: "structure",
    expression: "Bundle.entry[1].resource.address",
  },
  {
    name: 'PAS: identifier: "abc"',
    path: SUBMIT,
    body: pas((b) => {
      b.entry[0].resource.identifier = "abc";
    }),
    status: 400,
    code: "structure",
    expression: "Bundle.entry[0].resource.identifier",
  },
  {
    name: "PAS: extension: 0",
    path: SUBMIT,
    body: pas((b) => {
      b.entry[0].resource.item[0].extension = 0;
    }),
    status: 400,
    code: "structure",
    expression: "Bundle.entry[0].resource.item[0].extension",
  },
  {
    name: "PAS: address[0].state a number",
    path: SUBMIT,
    body: pas((b) => {
      b.entry[1].resource.address[0].state = 48;
    }),
    status: 400,
    code: "structure",
    expression: "Bundle.entry[1].resource.address[0].state",
  },
  {
    name: "PAS: Claim.priority a string",
    path: SUBMIT,
    body: pas((b) => {
      b.entry[0].resource.priority = "stat";
    }),
    status: 400,
    code: "structure",
    expression: "Bundle.entry[0].resource.priority",
  },
  {
    name: "PAS: a null entry",
    path: SUBMIT,
    body: pas((b) => {
      b.entry.push(null);
    }),
    status: 400,
    code: "structure",
    expression: "Bundle.entry[5]",
  },
  {
    name: "CRD: Patient.address an object, not an array",
    path: CRD,
    body: hook((h) => {
      h.prefetch.patient.address = { state: "TX" };
    }),
    status: 400,
    code: "structure",
    expression: "prefetch.patient.address",
  },
  {
    name: "CRD: ServiceRequest.code.coding[0].code a number",
    path: CRD,
    body: hook((h) => {
      h.context.draftOrders.entry[0].resource.code.coding[0].code = 62362;
    }),
    status: 400,
    code: "structure",
    expression: "context.draftOrders.entry[0].resource.code.coding[0].code",
  },
  {
    name: "CRD: extension: 0 on the order",
    path: CRD,
    body: hook((h) => {
      h.context.draftOrders.entry[0].resource.extension = 0;
    }),
    status: 400,
    code: "structure",
    expression: "context.draftOrders.entry[0].resource.extension",
  },
  {
    name: "CRD: Coverage.payor a string",
    path: CRD,
    body: hook((h) => {
      h.prefetch.coverage.entry[0].resource.payor = "Organization/ins1";
    }),
    status: 400,
    code: "structure",
    expression: "prefetch.coverage.entry[0].resource.payor",
  },
  {
    name: "CRD: birthDate a number",
    path: CRD,
    body: hook((h) => {
      h.prefetch.patient.birthDate = 19610302;
    }),
    status: 400,
    code: "structure",
    expression: "prefetch.patient.birthDate",
  },
  {
    name: "$next-question: item an object",
    path: NEXT,
    body: adaptive((qr) => {
      qr.item = { linkId: "I.A.1" };
    }),
    status: 400,
    code: "structure",
    expression: "QuestionnaireResponse.item",
  },
  {
    name: "$next-question: extension: 0",
    path: NEXT,
    body: adaptive((qr) => {
      qr.extension = 0;
    }),
    status: 400,
    code: "structure",
    expression: "QuestionnaireResponse.extension",
  },
  {
    name: "$next-question: contained Questionnaire.derivedFrom a string",
    path: NEXT,
    body: adaptive((qr) => {
      qr.contained[0].derivedFrom = Q;
    }),
    status: 400,
    code: "structure",
    expression: "QuestionnaireResponse.contained[0].derivedFrom",
  },
  {
    name: "$next-question: answer valueBoolean a string",
    path: NEXT,
    body: adaptive((qr) => {
      qr.item[0].answer[0].valueBoolean = "yes";
    }),
    status: 400,
    code: "structure",
    expression: "QuestionnaireResponse.item[0].answer[0].valueBoolean",
  },
];

/** PAS `$submit` with a date that is no day (issue 13: its claim context was stored before the 400). */
export function badServicedDate(id: string): Bundle {
  return pas((b) => {
    b.entry[0].resource.item[0].servicedDate = "2026-13-45";
  }, id);
}

/** A PAS bundle with a second `Patient/pat1` in another state (issue 13: the last one won silently). */
export function twoPatients(id: string): Bundle {
  return pas((b) => {
    b.entry.push({ fullUrl: "urn:uuid:8d1bd4f6-3f7b-4c52-9d3c-0a6c2d1f0a11", resource: patient("NC") });
  }, id);
}

/** A PAS bundle whose last entry repeats the Patient's fullUrl (R4 bdl-7). */
export function duplicateFullUrl(id: string): Bundle {
  return pas((b) => {
    b.entry.push({
      fullUrl: b.entry[1].fullUrl,
      resource: { resourceType: "Organization", id: "other", name: "x" },
    });
  }, id);
}

/** A CRD request whose prefetch sends two different `Patient/pat1` (patient in TX, a bundle in NC). */
export function crdTwoPatients(): unknown {
  return hook((h) => {
    h.prefetch.others = { resourceType: "Bundle", type: "searchset", entry: [{ resource: patient("NC") }] };
  });
}

/** A CRD hook whose `context.patientId` is 100,000 characters (issue 13: blocked the loop 17 s). */
export function crdLongPatientId(): unknown {
  return hook((h) => {
    h.context.patientId = "a".repeat(100_000);
  });
}

/** A PAS bundle whose `Claim.patient.reference` is 100,000 letters (issue 13: 28 s). */
export function pasLongPatientReference(id: string): Bundle {
  return pas((b) => {
    b.entry[0].resource.patient.reference = "a".repeat(100_000);
  }, id);
}
