/**
 * FHIR R4 input validated by type before use (issue 13: wrong-typed input answered 500). Every
 * resource the FHIR layer reads — a PAS request Bundle, a CDS Hooks prefetch and context, DTR
 * Parameters, a QuestionnaireResponse, a Subscription — is walked once against the R4 datatypes of
 * the elements this service reads (string, code, id, uri, date, dateTime, boolean, integer, decimal,
 * Reference, Identifier, CodeableConcept, Coding, Address, HumanName, Period, Quantity, Extension, …;
 * arrays where R4 says 0..*). Elements the service never reads are left as sent. The first problem is
 * a 400 OperationOutcome (`structure` for a wrong JSON type, `value` for a primitive that does not
 * match its R4 format) whose `expression` names the element from the body's root
 * (`Bundle.entry[2].resource.address[0]`); messages never echo the value (no PHI in logs).
 *
 * Written by hand rather than with a general validator: the schemas are small, the walk is linear in
 * the body (every primitive check bounds the length before any regex, the regexes are anchored with
 * no nested quantifiers), and a 50-entry PAS bundle takes well under a millisecond. Within one Bundle
 * a repeated `fullUrl` or `Type/id` is refused (R4 bdl-7; issue 13: a second `Patient/pat1` silently
 * switched the governing state policy).
 */
import { FhirError } from "./common.js";

/** An element's type: a datatype or backbone name; `*` at the end: 0..* (a JSON array). */
type Shape = Readonly<Record<string, string>>;

/** Longest string element accepted (R4: strings SHALL NOT exceed 1 MB; the body limit is lower). */
export const MAX_STRING = 1024 * 1024;
/** Longest `uri`/`url`/`canonical` (no real one is longer; bounds every later parse of it). */
export const MAX_URI = 8192;
/** Longest `code`. */
export const MAX_CODE = 1024;

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
// R4 date and dateTime formats (anchored, no nested quantifiers; the length is bounded first).
const DATE = /^(\d{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;
const DATE_TIME =
  /^(\d{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,9})?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$/;
const INSTANT =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,9})?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$/;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{0,63}$/;

/** Whether `YYYY-MM-DD` at the start of `s` is a day of the calendar (R4's regex allows Feb 30). */
function realDay(s: string): boolean {
  if (s.length < 10) return true;
  const y = Number(s.slice(0, 4));
  const m = Number(s.slice(5, 7));
  const d = Number(s.slice(8, 10));
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 0;
  return d >= 1 && d <= days;
}

/** Whether `s` has a whitespace character (uri and id allow none); a plain loop, linear. */
function hasSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 0x85 || c === 0xa0 || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

/** A primitive check: the problem (`structure` or `value`), or undefined when `v` is fine. */
type Primitive = (v: unknown) => { code: "structure" | "value"; text: string } | undefined;
const wrongType = (what: string) => ({ code: "structure" as const, text: `must be ${what}` });
const badValue = (text: string) => ({ code: "value" as const, text });

const str =
  (max: number, what: string, extra?: (s: string) => string | undefined): Primitive =>
  (v) => {
    if (typeof v !== "string") return wrongType(what);
    if (v.length > max) return badValue(`is longer than ${max} characters`);
    const e = extra?.(v);
    return e === undefined ? undefined : badValue(e);
  };

const PRIMITIVES: Readonly<Record<string, Primitive>> = {
  string: str(MAX_STRING, "a string"),
  markdown: str(MAX_STRING, "a string"),
  code: str(MAX_CODE, "a code (a string)", (s) =>
    s === "" || s.trim() !== s || /\s\s/.test(s) ? "is not a valid code" : undefined,
  ),
  id: str(64, "an id (a string)", (s) => (ID.test(s) ? undefined : "is not a valid id")),
  uri: str(MAX_URI, "a uri (a string)", (s) => (s === "" || hasSpace(s) ? "is not a valid uri" : undefined)),
  url: str(MAX_URI, "a url (a string)", (s) => (s === "" || hasSpace(s) ? "is not a valid url" : undefined)),
  canonical: str(MAX_URI, "a canonical (a string)", (s) =>
    s === "" || hasSpace(s) ? "is not a valid canonical" : undefined,
  ),
  date: str(10, "a date (a string)", (s) =>
    DATE.test(s) && realDay(s) ? undefined : "is not a valid date (YYYY, YYYY-MM or YYYY-MM-DD)",
  ),
  dateTime: str(35, "a dateTime (a string)", (s) =>
    DATE_TIME.test(s) && realDay(s) ? undefined : "is not a valid dateTime",
  ),
  instant: str(35, "an instant (a string)", (s) =>
    INSTANT.test(s) && realDay(s) ? undefined : "is not a valid instant",
  ),
  boolean: (v) => (typeof v === "boolean" ? undefined : wrongType("a boolean (true or false)")),
  integer: (v) =>
    typeof v !== "number"
      ? wrongType("an integer (a number)")
      : Number.isInteger(v) && Math.abs(v) <= 2147483647
        ? undefined
        : badValue("is not a 32-bit integer"),
  positiveInt: (v) =>
    typeof v !== "number"
      ? wrongType("a positiveInt (a number)")
      : Number.isInteger(v) && v >= 1 && v <= 2147483647
        ? undefined
        : badValue("is not a positive integer"),
  unsignedInt: (v) =>
    typeof v !== "number"
      ? wrongType("an unsignedInt (a number)")
      : Number.isInteger(v) && v >= 0 && v <= 2147483647
        ? undefined
        : badValue("is not a non-negative integer"),
  decimal: (v) =>
    typeof v !== "number"
      ? wrongType("a decimal (a number)")
      : Number.isFinite(v)
        ? undefined
        : badValue("is not finite"),
};

/** value[x] of an Extension (and of Parameters.parameter): the R4 types this service may read. */
const VALUE_X: Shape = {
  valueString: "string",
  valueCode: "code",
  valueId: "id",
  valueUri: "uri",
  valueUrl: "url",
  valueCanonical: "canonical",
  valueMarkdown: "markdown",
  valueBoolean: "boolean",
  valueInteger: "integer",
  valuePositiveInt: "positiveInt",
  valueUnsignedInt: "unsignedInt",
  valueDecimal: "decimal",
  valueDate: "date",
  valueDateTime: "dateTime",
  valueInstant: "instant",
  valueReference: "Reference",
  valueIdentifier: "Identifier",
  valueCodeableConcept: "CodeableConcept",
  valueCoding: "Coding",
  valuePeriod: "Period",
  valueQuantity: "Quantity",
  valueAddress: "Address",
  valueHumanName: "HumanName",
};

const ELEMENT: Shape = { id: "string", extension: "Extension*" };
const BACKBONE: Shape = { ...ELEMENT, modifierExtension: "Extension*" };

/** Complex datatypes and backbone elements (R4), by the elements this service reads. */
const COMPLEX: Readonly<Record<string, Shape>> = {
  /** A primitive's extensions (`_criteria`, `_payload`: the R4 Subscriptions Backport uses them). */
  Element: ELEMENT,
  Extension: { ...ELEMENT, url: "uri", ...VALUE_X },
  Coding: {
    ...ELEMENT,
    system: "uri",
    version: "string",
    code: "code",
    display: "string",
    userSelected: "boolean",
  },
  CodeableConcept: { ...ELEMENT, coding: "Coding*", text: "string" },
  Period: { ...ELEMENT, start: "dateTime", end: "dateTime" },
  Identifier: {
    ...ELEMENT,
    use: "code",
    type: "CodeableConcept",
    system: "uri",
    value: "string",
    period: "Period",
    assigner: "Reference",
  },
  Reference: { ...ELEMENT, reference: "string", type: "uri", identifier: "Identifier", display: "string" },
  Quantity: { ...ELEMENT, value: "decimal", comparator: "code", unit: "string", system: "uri", code: "code" },
  Address: {
    ...ELEMENT,
    use: "code",
    type: "code",
    text: "string",
    line: "string*",
    city: "string",
    district: "string",
    state: "string",
    postalCode: "string",
    country: "string",
    period: "Period",
  },
  HumanName: {
    ...ELEMENT,
    use: "code",
    text: "string",
    family: "string",
    given: "string*",
    prefix: "string*",
    suffix: "string*",
    period: "Period",
  },
  ContactPoint: {
    ...ELEMENT,
    system: "code",
    value: "string",
    use: "code",
    rank: "positiveInt",
    period: "Period",
  },
  Meta: {
    ...ELEMENT,
    versionId: "id",
    lastUpdated: "instant",
    source: "uri",
    profile: "canonical*",
    security: "Coding*",
    tag: "Coding*",
  },
  Narrative: { ...ELEMENT, status: "code", div: "string" },
  Timing: { ...BACKBONE, event: "dateTime*", repeat: "Timing.repeat", code: "CodeableConcept" },
  "Timing.repeat": { ...ELEMENT, boundsPeriod: "Period" },
  "Bundle.entry": { ...BACKBONE, fullUrl: "uri", resource: "Resource" },
  "Parameters.parameter": {
    ...BACKBONE,
    name: "string",
    ...VALUE_X,
    resource: "Resource",
    part: "Parameters.parameter*",
  },
  "Claim.supportingInfo": {
    ...BACKBONE,
    sequence: "positiveInt",
    category: "CodeableConcept",
    code: "CodeableConcept",
    timingDate: "date",
    timingPeriod: "Period",
    valueBoolean: "boolean",
    valueString: "string",
    valueQuantity: "Quantity",
    valueReference: "Reference",
    reason: "CodeableConcept",
  },
  "Claim.insurance": {
    ...BACKBONE,
    sequence: "positiveInt",
    focal: "boolean",
    identifier: "Identifier",
    coverage: "Reference",
    preAuthRef: "string*",
  },
  "Claim.item": {
    ...BACKBONE,
    sequence: "positiveInt",
    revenue: "CodeableConcept",
    category: "CodeableConcept",
    productOrService: "CodeableConcept",
    modifier: "CodeableConcept*",
    servicedDate: "date",
    servicedPeriod: "Period",
    locationCodeableConcept: "CodeableConcept",
    locationReference: "Reference",
    quantity: "Quantity",
    unitPrice: "Quantity",
    net: "Quantity",
  },
  "QuestionnaireResponse.item": {
    ...BACKBONE,
    linkId: "string",
    definition: "uri",
    text: "string",
    answer: "QuestionnaireResponse.item.answer*",
    item: "QuestionnaireResponse.item*",
  },
  "QuestionnaireResponse.item.answer": {
    ...BACKBONE,
    ...VALUE_X,
    item: "QuestionnaireResponse.item*",
  },
  "Questionnaire.item": {
    ...BACKBONE,
    linkId: "string",
    definition: "uri",
    prefix: "string",
    text: "string",
    type: "code",
    required: "boolean",
    repeats: "boolean",
    item: "Questionnaire.item*",
  },
  "MedicationRequest.dispenseRequest": { ...BACKBONE, validityPeriod: "Period" },
  "Subscription.channel": {
    ...BACKBONE,
    type: "code",
    endpoint: "url",
    payload: "code",
    _payload: "Element",
    header: "string*",
  },
};

/** Elements of every resource (R4 Resource and DomainResource). */
const RESOURCE: Shape = {
  id: "id",
  meta: "Meta",
  implicitRules: "uri",
  language: "code",
  text: "Narrative",
  contained: "Resource*",
  extension: "Extension*",
  modifierExtension: "Extension*",
};

/** The resources this service reads, by the elements it reads (R4). Other types: RESOURCE only. */
const RESOURCES: Readonly<Record<string, Shape>> = {
  Bundle: {
    id: "id",
    meta: "Meta",
    identifier: "Identifier",
    type: "code",
    timestamp: "instant",
    total: "unsignedInt",
    entry: "Bundle.entry*",
  },
  Parameters: { id: "id", meta: "Meta", parameter: "Parameters.parameter*" },
  Patient: {
    identifier: "Identifier*",
    active: "boolean",
    name: "HumanName*",
    telecom: "ContactPoint*",
    gender: "code",
    birthDate: "date",
    deceasedBoolean: "boolean",
    deceasedDateTime: "dateTime",
    address: "Address*",
    managingOrganization: "Reference",
  },
  Coverage: {
    identifier: "Identifier*",
    status: "code",
    type: "CodeableConcept",
    subscriber: "Reference",
    subscriberId: "string",
    beneficiary: "Reference",
    relationship: "CodeableConcept",
    period: "Period",
    payor: "Reference*",
  },
  Organization: {
    identifier: "Identifier*",
    active: "boolean",
    type: "CodeableConcept*",
    name: "string",
    address: "Address*",
  },
  Practitioner: { identifier: "Identifier*", name: "HumanName*", address: "Address*" },
  PractitionerRole: { identifier: "Identifier*", practitioner: "Reference", organization: "Reference" },
  ServiceRequest: {
    identifier: "Identifier*",
    basedOn: "Reference*",
    status: "code",
    intent: "code",
    category: "CodeableConcept*",
    priority: "code",
    code: "CodeableConcept",
    quantityQuantity: "Quantity",
    subject: "Reference",
    encounter: "Reference",
    occurrenceDateTime: "dateTime",
    occurrencePeriod: "Period",
    occurrenceTiming: "Timing",
    authoredOn: "dateTime",
    requester: "Reference",
    performer: "Reference*",
    reasonCode: "CodeableConcept*",
    insurance: "Reference*",
  },
  DeviceRequest: {
    identifier: "Identifier*",
    basedOn: "Reference*",
    status: "code",
    intent: "code",
    codeReference: "Reference",
    codeCodeableConcept: "CodeableConcept",
    subject: "Reference",
    occurrenceDateTime: "dateTime",
    occurrencePeriod: "Period",
    occurrenceTiming: "Timing",
    authoredOn: "dateTime",
    insurance: "Reference*",
  },
  MedicationRequest: {
    identifier: "Identifier*",
    status: "code",
    intent: "code",
    medicationCodeableConcept: "CodeableConcept",
    medicationReference: "Reference",
    subject: "Reference",
    authoredOn: "dateTime",
    basedOn: "Reference*",
    dispenseRequest: "MedicationRequest.dispenseRequest",
    insurance: "Reference*",
  },
  Appointment: {
    identifier: "Identifier*",
    status: "code",
    serviceCategory: "CodeableConcept*",
    serviceType: "CodeableConcept*",
    appointmentType: "CodeableConcept",
    reasonCode: "CodeableConcept*",
    start: "instant",
    end: "instant",
    basedOn: "Reference*",
    requestedPeriod: "Period*",
  },
  Procedure: {
    identifier: "Identifier*",
    basedOn: "Reference*",
    status: "code",
    code: "CodeableConcept",
    subject: "Reference",
    performedDateTime: "dateTime",
    performedPeriod: "Period",
  },
  Task: { identifier: "Identifier*", status: "code", intent: "code", focus: "Reference", for: "Reference" },
  Condition: {
    identifier: "Identifier*",
    clinicalStatus: "CodeableConcept",
    verificationStatus: "CodeableConcept",
    category: "CodeableConcept*",
    code: "CodeableConcept",
    subject: "Reference",
    onsetDateTime: "dateTime",
    recordedDate: "dateTime",
  },
  Observation: {
    identifier: "Identifier*",
    status: "code",
    category: "CodeableConcept*",
    code: "CodeableConcept",
    subject: "Reference",
    effectiveDateTime: "dateTime",
    effectivePeriod: "Period",
    effectiveInstant: "instant",
    issued: "instant",
    valueQuantity: "Quantity",
    valueCodeableConcept: "CodeableConcept",
    valueString: "string",
    valueBoolean: "boolean",
    valueInteger: "integer",
  },
  Claim: {
    identifier: "Identifier*",
    status: "code",
    type: "CodeableConcept",
    subType: "CodeableConcept",
    use: "code",
    patient: "Reference",
    billablePeriod: "Period",
    created: "dateTime",
    enterer: "Reference",
    insurer: "Reference",
    provider: "Reference",
    priority: "CodeableConcept",
    referral: "Reference",
    supportingInfo: "Claim.supportingInfo*",
    insurance: "Claim.insurance*",
    item: "Claim.item*",
  },
  QuestionnaireResponse: {
    identifier: "Identifier",
    basedOn: "Reference*",
    questionnaire: "canonical",
    status: "code",
    subject: "Reference",
    encounter: "Reference",
    authored: "dateTime",
    author: "Reference",
    source: "Reference",
    item: "QuestionnaireResponse.item*",
  },
  Questionnaire: {
    url: "uri",
    identifier: "Identifier*",
    version: "string",
    name: "string",
    title: "string",
    derivedFrom: "canonical*",
    status: "code",
    subjectType: "code*",
    item: "Questionnaire.item*",
  },
  Subscription: {
    status: "code",
    contact: "ContactPoint*",
    end: "instant",
    reason: "string",
    criteria: "string",
    _criteria: "Element",
    error: "string",
    channel: "Subscription.channel",
  },
};

const problem = (
  code: "structure" | "value" | "invalid" | "required" | "invariant",
  text: string,
  at: string,
) => new FhirError(400, code, `${at}: ${text}`, at);

const describe = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v);

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

function checkValue(v: unknown, type: string, at: string): void {
  const prim = PRIMITIVES[type];
  if (prim) {
    const p = prim(v);
    if (p) throw problem(p.code, p.text, at);
    return;
  }
  if (type === "Resource") {
    checkResourceAt(v, at);
    return;
  }
  if (!isPlainObject(v)) throw problem("structure", `must be an object (${type}), not ${describe(v)}`, at);
  checkShape(v, COMPLEX[type]!, at);
  if (type === "Extension") checkExtension(v, at);
  else if (type === "Element") {
    // A primitive's element (`_criteria`) holds only `id` and `extension` (R4 JSON): anything else
    // would be stored and echoed, and the answer would not be valid FHIR (issue 16).
    for (const key in v)
      if (key !== "id" && key !== "extension")
        throw problem(
          "structure",
          `a primitive's element has only id and extension, not ${key.slice(0, 40)}`,
          at,
        );
  }
}

/**
 * R4 Extension: `url` 1..1, and ext-1 (either sub-extensions or a value, not both). Issue 16: an
 * extension without them was accepted, stored and echoed, and the answer was then not valid FHIR.
 */
function checkExtension(ext: Record<string, unknown>, at: string): void {
  if (typeof ext.url !== "string")
    throw problem("required", "an extension needs its url (1..1)", `${at}.url`);
  let values = 0;
  for (const key in ext) if (key.startsWith("value")) values++;
  const subs = Array.isArray(ext.extension) && ext.extension.length > 0;
  if (values > 1) throw problem("structure", "an extension has at most one value[x]", at);
  if (subs === (values === 1))
    throw problem("invariant", "ext-1: an extension has either extensions or a value[x], not both", at);
}

function checkShape(obj: Record<string, unknown>, shape: Shape, at: string): void {
  for (const key in obj) {
    if (!Object.hasOwn(shape, key)) continue;
    const spec = shape[key]!;
    const v = obj[key];
    const path = `${at}.${key}`;
    if (spec.endsWith("*")) {
      if (!Array.isArray(v)) throw problem("structure", `must be an array (0..*), not ${describe(v)}`, path);
      const type = spec.slice(0, -1);
      for (let i = 0; i < v.length; i++) {
        if (v[i] === null || v[i] === undefined)
          throw problem(
            "structure",
            "must not be null (an array of FHIR JSON has no empty items)",
            `${path}[${i}]`,
          );
        checkValue(v[i], type, `${path}[${i}]`);
      }
    } else {
      if (Array.isArray(v)) throw problem("structure", "must be a single value (0..1), not an array", path);
      if (v === null) throw problem("structure", "must not be null", path);
      checkValue(v, spec, path);
    }
  }
}

/** Each resource type's elements with the common ones, merged once. */
const MERGED: ReadonlyMap<string, Shape> = new Map(
  Object.entries(RESOURCES).map(([type, own]) => [type, { ...RESOURCE, ...own }]),
);

function checkResourceAt(v: unknown, at: string): void {
  if (!isPlainObject(v))
    throw problem("structure", `must be a resource (a JSON object), not ${describe(v)}`, at);
  const type = v.resourceType;
  if (typeof type !== "string" || !RESOURCE_TYPE.test(type))
    throw problem("structure", "resourceType must name a FHIR resource type", `${at}.resourceType`);
  checkShape(v, MERGED.get(type) ?? RESOURCE, at);
  if (type === "Bundle") checkBundleEntries(v, at);
}

/**
 * Within one Bundle: a `fullUrl` twice, or the same `Type/id` twice, is refused (R4 bdl-7; issue 13).
 * History bundles may repeat a resource under different `meta.versionId`s.
 */
function checkBundleEntries(bundle: Record<string, unknown>, at: string): void {
  const entries = bundle.entry as
    | { fullUrl?: string; resource?: { resourceType: string; id?: string; meta?: { versionId?: string } } }[]
    | undefined;
  if (!entries) return;
  const history = bundle.type === "history";
  const urls = new Map<string, number>();
  const ids = new Map<string, number>();
  entries.forEach((e, i) => {
    const version = history ? `|${e.resource?.meta?.versionId ?? ""}` : "";
    if (e.fullUrl !== undefined) {
      const k = `${e.fullUrl}${version}`;
      const first = urls.get(k);
      if (first !== undefined)
        throw problem(
          "invalid",
          `repeats the fullUrl of entry[${first}] (a Bundle's fullUrls are unique)`,
          `${at}.entry[${i}].fullUrl`,
        );
      urls.set(k, i);
    }
    const r = e.resource;
    if (r?.id !== undefined) {
      const k = `${r.resourceType}/${r.id}${version}`;
      const first = ids.get(k);
      if (first !== undefined)
        throw problem(
          "invalid",
          `${r.resourceType} with this id is already entry[${first}]: one resource per Type/id in a Bundle`,
          `${at}.entry[${i}].resource.id`,
        );
      ids.set(k, i);
    }
  });
}

/**
 * Validates a resource (and every resource inside it: Bundle entries, Parameters, contained) by the
 * R4 types of the elements this service reads; throws a 400 {@link FhirError} naming the element.
 * `at` is the expression of `v` itself (default: its resourceType, as FHIRPath starts).
 */
export function validateResource(v: unknown, at?: string): void {
  const root =
    at ??
    (isPlainObject(v) && typeof v.resourceType === "string" && RESOURCE_TYPE.test(v.resourceType)
      ? v.resourceType
      : "(body)");
  checkResourceAt(v, root);
}
