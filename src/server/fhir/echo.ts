/**
 * The parties a PAS response Bundle carries (issue 16: the ClaimResponse's patient, insurer and
 * requestor must resolve inside it), copied from the request as the minimum that identifies them —
 * not the client's whole record. Two reasons:
 *
 * - Minimum necessary (HIPAA 45 CFR 164.502(b)): a response names the member, it does not repeat the
 *   race, ethnicity, contacts or narrative the EHR sent.
 * - Every answer valid against the IG (issue 16): what is echoed is rebuilt from the elements of
 *   known type, so an element the client added (an unknown property, a duplicated extension) is not
 *   stored and later served to an `$inquire` (found by the fuzz suite's IG check).
 *
 * Kept per type (R4): `id`, `meta.profile` (PAS and US Core profiles only), `identifier` (use, type,
 * system, value), and Patient `active name telecom gender birthDate address`; Organization `active type
 * name telecom address`; Practitioner `active name telecom address gender`; PractitionerRole `active
 * practitioner organization code specialty telecom endpoint`; a name's data-absent-reason. Other
 * resource types are echoed as sent.
 */
import type { Extension, Identifier, Period, Resource } from "@medplum/fhirtypes";
import { isObject } from "./common.js";

type J = Record<string, unknown>;

const str = (v: unknown): v is string => typeof v === "string" && v !== "";
const strings = (v: unknown): string[] | undefined => {
  const out = Array.isArray(v) ? v.filter(str) : [];
  return out.length > 0 ? out : undefined;
};

/** The listed string fields of `o` that are non-empty strings; undefined when none is. */
function pick(o: unknown, fields: readonly string[], lists: readonly string[] = []): J | undefined {
  if (!isObject(o)) return undefined;
  const out: J = {};
  for (const f of fields) if (str(o[f])) out[f] = o[f];
  for (const f of lists) {
    const l = strings(o[f]);
    if (l) out[f] = l;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A list of `each(x)` over an array, without the undefined ones; undefined when empty. */
function list(v: unknown, each: (x: unknown) => J | undefined): J[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.map(each).filter((x): x is J => x !== undefined);
  return out.length > 0 ? out : undefined;
}

const coding = (c: unknown) => pick(c, ["system", "version", "code", "display"]);

/** A CodeableConcept from its codings' and text's strings; undefined when nothing is left. */
export function codeableConcept(cc: unknown): J | undefined {
  if (!isObject(cc)) return undefined;
  const out: J = {};
  const codings = list(cc.coding, coding);
  if (codings) out.coding = codings;
  if (str(cc.text)) out.text = cc.text;
  return Object.keys(out).length > 0 ? out : undefined;
}

function identifier(i: unknown): J | undefined {
  if (!isObject(i) || !str(i.value)) return undefined;
  return partialIdentifier(i);
}

/**
 * An identifier's strings, with or without its value: what a copy keeps where no identifier of the
 * client's has a value. Dropped, the copy lost its only identifier — an error of the answer's own (US
 * Core Patient `identifier` 1..*) where the client's resource has one in its identifier (the fuzz
 * suite's IG check, about 1 run in 10).
 */
function partialIdentifier(i: unknown): J | undefined {
  if (!isObject(i) || (!str(i.value) && !str(i.system))) return undefined;
  const type = codeableConcept(i.type);
  return {
    ...(str(i.use) && { use: i.use }),
    ...(type && { type }),
    ...(str(i.system) && { system: i.system }),
    ...(str(i.value) && { value: i.value }),
  };
}

const DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";

/**
 * An element's data-absent-reason extension, kept: US Core lets a required name say why it is missing
 * instead (without it the copy would have an empty required element).
 */
function absentReason(x: unknown): J | undefined {
  if (!isObject(x) || !Array.isArray(x.extension)) return undefined;
  const e = x.extension.find((e) => isObject(e) && e.url === DATA_ABSENT && str(e.valueCode)) as
    | J
    | undefined;
  return e ? { extension: [{ url: DATA_ABSENT, valueCode: e.valueCode }] } : undefined;
}

const name = (n: unknown) => {
  const picked = pick(n, ["use", "text", "family"], ["given", "prefix", "suffix"]);
  const absent = absentReason(n);
  return picked || absent ? { ...absent, ...picked } : undefined;
};
const telecom = (t: unknown) => pick(t, ["system", "value", "use"]);
const address = (a: unknown) =>
  pick(a, ["use", "type", "text", "city", "district", "state", "postalCode", "country"], ["line"]);
/** A Reference as `reference` and `display` strings; undefined when neither is one. */
export const reference = (r: unknown) => pick(r, ["reference", "display"]);

/** The elements kept per resource type beside `id`, `meta.profile` and `identifier`. */
const KEPT: Record<string, Record<string, (v: unknown) => unknown>> = {
  Patient: {
    active: (v) => (typeof v === "boolean" ? v : undefined),
    name: (v) => list(v, name),
    telecom: (v) => list(v, telecom),
    gender: (v) => (str(v) ? v : undefined),
    birthDate: (v) => (str(v) ? v : undefined),
    address: (v) => list(v, address),
  },
  Organization: {
    active: (v) => (typeof v === "boolean" ? v : undefined),
    type: (v) => list(v, codeableConcept),
    name: (v) => (str(v) ? v : undefined),
    telecom: (v) => list(v, telecom),
    address: (v) => list(v, address),
  },
  Practitioner: {
    active: (v) => (typeof v === "boolean" ? v : undefined),
    name: (v) => list(v, name),
    telecom: (v) => list(v, telecom),
    address: (v) => list(v, address),
    gender: (v) => (str(v) ? v : undefined),
  },
  PractitionerRole: {
    active: (v) => (typeof v === "boolean" ? v : undefined),
    practitioner: reference,
    organization: reference,
    code: (v) => list(v, codeableConcept),
    specialty: (v) => list(v, codeableConcept),
    telecom: (v) => list(v, telecom),
    // US Core pd-1: a PractitionerRole has telecom or an endpoint.
    endpoint: (v) => list(v, reference),
  },
};

/** Profiles a copy may claim: PAS's and US Core's (the copy was checked against neither by us). */
const ECHOED_PROFILES = ["http://hl7.org/fhir/us/davinci-pas/", "http://hl7.org/fhir/us/core/"];

/**
 * The copy of a request's party (Patient, Organization, Practitioner, PractitionerRole) a PAS
 * response carries: see the module comment. Other resource types are returned as given.
 */
export function minimalParty(r: Resource): Resource {
  const kept = KEPT[r.resourceType];
  if (!kept) return r;
  const src = r as unknown as J;
  const out: J = { resourceType: r.resourceType };
  if (str(src.id)) out.id = src.id;
  const profile = isObject(src.meta)
    ? strings(src.meta.profile)?.filter((p) => ECHOED_PROFILES.some((base) => p.startsWith(base)))
    : undefined;
  if (profile && profile.length > 0) out.meta = { profile };
  const ids = list(src.identifier, identifier) ?? list(src.identifier, partialIdentifier);
  if (ids) out.identifier = ids;
  for (const [k, f] of Object.entries(kept)) {
    const v = f(src[k]);
    if (v !== undefined) out[k] = v;
  }
  return out as unknown as Resource;
}

/** A Period from its string `start` and `end`; undefined when neither is one. */
export function echoPeriod(p: unknown): Period | undefined {
  return pick(p, ["start", "end"]) as Period | undefined;
}

/** An Identifier that has both its `system` and `value` (PAS profile-identifier: 1..1 each), as just those. */
export function echoSystemValue(i: unknown): Identifier | undefined {
  const out = pick(i, ["system", "value"]);
  return out?.system !== undefined && out.value !== undefined ? (out as Identifier) : undefined;
}

const IDENTIFIER_EXT = {
  subDepartment: "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-identifierSubDepartment",
  jurisdiction: "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-identifierJurisdiction",
};

/**
 * A Claim identifier as the ClaimResponse echoes it: its use, system and value, and at most one of each
 * extension PAS defines on an identifier (profile-identifier: sub-department and jurisdiction, 0..1),
 * its value rebuilt from typed parts (the fuzz suite's IG check met two sub-departments echoed).
 */
export function echoIdentifier(i: Identifier): Identifier {
  const out: Identifier = {
    ...(str(i.use) && { use: i.use }),
    ...(str(i.system) && { system: i.system }),
    value: i.value as string,
  };
  const raw: unknown[] = Array.isArray(i.extension) ? i.extension : [];
  const first = (url: string) => raw.find((e) => isObject(e) && e.url === url) as J | undefined;
  const ext: Extension[] = [];
  const sub = first(IDENTIFIER_EXT.subDepartment)?.valueString;
  if (typeof sub === "string" && sub.trim() !== "")
    ext.push({ url: IDENTIFIER_EXT.subDepartment, valueString: sub });
  const jur = codeableConcept(first(IDENTIFIER_EXT.jurisdiction)?.valueCodeableConcept);
  if (jur) ext.push({ url: IDENTIFIER_EXT.jurisdiction, valueCodeableConcept: jur });
  if (ext.length > 0) out.extension = ext;
  return out;
}
