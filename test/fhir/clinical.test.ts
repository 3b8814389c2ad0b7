/**
 * Issue 14, the clinical picture from FHIR: what a UM file holds — the member's name, id and address,
 * ICD-10-CM diagnoses, requesting and servicing providers by NPI, supporting documents — carried
 * from a PAS `Claim/$submit` Bundle and a CRD hook into the case, each validated with the case
 * schema's own rules and left out (never refusing the request) when invalid, but for a requesting
 * provider's NPI that fails the check digit; and an open information request answered pended (A4)
 * with the reviewer's message and questions by `$inquire` and the ClaimResponse read, valid against
 * the PAS 2.2.1 profiles of the IG package in `../shared/fhir/ig`.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import type { Bundle, Condition, Practitioner, Resource } from "@medplum/fhirtypes";
import { caseSchema } from "../../src/model/index.js";
import { DEMO_USERS } from "../../src/server/auth.js";
import { ResourceIndex } from "../../src/server/fhir/common.js";
import { answerHook, caseForCode, ordersOfResources, parseHookRequest } from "../../src/server/fhir/crd.js";
import {
  base64Length,
  claimResponseBundle,
  parsePasRequest,
  type ResponseState,
  storePasAttachments,
} from "../../src/server/fhir/pas.js";
import { inquiryBundles } from "../../src/server/fhir/pas-inquire.js";
import { checkHookResponse, checkOperationOutcome, checkPasResponse, reviewCodes } from "./conformance.js";
import { coverage, hookRequest, order, PROVIDER_NPI, pasBundle } from "./fixtures.js";
import {
  call,
  library,
  listener,
  notifiedClaimResponse,
  SHARED_FHIR,
  startFhirServer,
  type TestServer,
} from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;
const today = new Date().toISOString().slice(0, 10);
const opts = { today, baseUrl: "http://payer.example" };
const ICD = "http://hl7.org/fhir/sid/icd-10-cm";
const NPI = "http://hl7.org/fhir/sid/us-npi";
const SERVICING_NPI = "1245319599";
/** A small but real PDF (header, one empty page, trailer): the bytes must come back unchanged. */
const PDF = Buffer.from(
  "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj 3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
);

const surgeon: Practitioner = {
  resourceType: "Practitioner",
  id: "dr-surgeon",
  identifier: [{ system: NPI, value: SERVICING_NPI }],
  name: [{ use: "official", family: "Okafor", given: ["Ngozi", "A."] }],
  address: [
    { use: "work", line: ["200 Spine Way", "Suite 4"], city: "Austin", state: "TX", postalCode: "78705" },
  ],
  telecom: [{ system: "phone", value: "512-555-0100" }],
} as Practitioner;

/**
 * The fixture PAS Bundle with what a UM file holds: the member's member number (Coverage MB), an old
 * name beside the current one, two ICD-10-CM diagnoses (the principal one second in the array and by
 * sequence), a surgeon in the care team, and optionally `supportingInfo` documents.
 */
function clinicalBundle(
  id: string,
  codes = ["62362"],
  supportingInfo?: unknown[],
  extra: Resource[] = [],
): J {
  // A deep copy: the fixture shares its Organization objects between bundles, and tests change them.
  const b = structuredClone(pasBundle(id, codes)) as J;
  const claim = b.entry[0].resource;
  const patient = b.entry[1].resource;
  patient.name = [
    { use: "old", family: "Maiden", given: ["Test"] },
    { use: "official", family: "Example", given: ["Test", "Q."] },
  ];
  const cov = b.entry.find((e: J) => e.resource.resourceType === "Coverage").resource;
  b.entry.find((e: J) => e.resource.resourceType === "Coverage").resource = {
    ...cov,
    identifier: [
      {
        type: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/v2-0203", code: "MB" }] },
        value: "M-123456",
      },
    ],
    subscriberId: "SUB-1",
  };
  claim.diagnosis = [
    {
      sequence: 2,
      diagnosisCodeableConcept: { coding: [{ system: ICD, code: "g893", display: "Neoplasm related pain" }] },
    },
    {
      sequence: 1,
      diagnosisCodeableConcept: { coding: [{ system: ICD, code: "C79.51" }], text: "Bone metastases" },
      type: [{ coding: [{ system: "https://codesystem.x12.org/005010/1270", code: "ABK" }] }],
    },
  ];
  claim.careTeam = [
    {
      extension: [
        {
          url: "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-careTeamClaimScope",
          valueBoolean: true,
        },
      ],
      sequence: 1,
      provider: { reference: "Practitioner/dr-surgeon" },
    },
  ];
  if (supportingInfo) claim.supportingInfo = supportingInfo;
  for (const resource of structuredClone([surgeon, ...extra])) {
    b.entry.push({ fullUrl: `http://ehr.example/fhir/${resource.resourceType}/${resource.id}`, resource });
  }
  return b;
}

const pdfInfo = (sequence: number, title = "Operative plan") => ({
  sequence,
  category: {
    coding: [
      { system: "http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASTempCodes", code: "additionalInformation" },
    ],
  },
  valueAttachment: { contentType: "application/pdf", title, data: PDF.toString("base64") },
});

describe("PAS Bundle → the case's clinical picture (issue 14)", () => {
  test("member name, id and address; diagnoses principal first; requesting and servicing providers", () => {
    const p = parsePasRequest(clinicalBundle("C1"), library(), opts);
    const c = p.caseInput!;
    assert.equal(c.member.name, "Test Q. Example", "the official name, not the old one");
    assert.equal(c.member.id, "M-123456", "the Coverage's member number before its subscriberId");
    assert.deepEqual(c.member.address, {
      lines: ["1 Main St"],
      city: "Austin",
      state: "TX",
      postalCode: "78701",
    });
    assert.deepEqual(c.diagnoses, [
      { code: "C79.51", display: "Bone metastases" },
      { code: "G89.3", display: "Neoplasm related pain" },
    ]);
    assert.deepEqual(c.providers, {
      requesting: { npi: PROVIDER_NPI, name: "Northside Pain Clinic" },
      servicing: {
        npi: SERVICING_NPI,
        name: "Ngozi A. Okafor",
        address: { lines: ["200 Spine Way", "Suite 4"], city: "Austin", state: "TX", postalCode: "78705" },
        phone: "512-555-0100",
      },
    });
    // What the service stores is what the case schema accepts, unchanged.
    const parsed = caseSchema.parse(c);
    assert.deepEqual(parsed.diagnoses, c.diagnoses);
    assert.deepEqual(parsed.providers, c.providers);
  });

  test("invalid optional parts are left out, with a note where the submitter should know; the request stands", () => {
    const b = clinicalBundle("C2");
    const patient = b.entry[1].resource;
    patient.address[0].postalCode = "7870"; // not a ZIP: no address, but the state still decides the variant
    b.entry[0].resource.diagnosis.push({
      sequence: 3,
      diagnosisCodeableConcept: { coding: [{ system: ICD, code: "NOT-A-CODE" }] },
    });
    b.entry[0].resource.diagnosis.push({
      sequence: 4,
      diagnosisCodeableConcept: { coding: [{ system: "http://snomed.info/sct", code: "22253000" }] },
    });
    b.entry.find((e: J) => e.resource.id === "dr-surgeon").resource.identifier[0].value = "987654321";
    const p = parsePasRequest(b, library(), opts);
    const c = p.caseInput!;
    assert.equal(c.member.state, "TX");
    assert.equal(c.member.address, undefined);
    assert.deepEqual(
      c.diagnoses?.map((d) => d.code),
      ["C79.51", "G89.3"],
      "a malformed ICD-10-CM code and a SNOMED code are not diagnoses of the case",
    );
    assert.equal(c.providers?.servicing, undefined);
    assert.equal(c.providers?.requesting?.npi, PROVIDER_NPI);
    const notes = p.context.notes.join("\n");
    assert.match(notes, /Claim\.diagnosis\[2\] is not a well-formed ICD-10-CM code/);
    assert.match(notes, /Claim\.careTeam\[0\]\.provider: the NPI fails the NPI check digit/);
    assert.ok(!notes.includes("987654321"), "notes do not echo the value");
    caseSchema.parse(c);
  });

  test("a requesting provider's NPI that fails the check digit: 400 naming the element", () => {
    const b = clinicalBundle("C3");
    const org = b.entry.findIndex((e: J) => e.resource.id === "prov1");
    b.entry[org].resource.identifier[0].value = "1234567890";
    assert.throws(
      () => parsePasRequest(b, library(), opts),
      (e: Error & { status?: number; expression?: string }) =>
        e.status === 400 &&
        e.expression === `Bundle.entry[${org}].resource.identifier[0].value` &&
        /requesting provider's NPI .* fails the NPI check digit/.test(e.message),
    );
    // The same value under another identifier system (a TIN) claims no NPI: not refused, not recorded.
    b.entry[org].resource.identifier[0].system = "urn:oid:2.16.840.1.113883.4.4";
    const p = parsePasRequest(b, library(), opts);
    assert.equal(p.caseInput?.providers?.requesting, undefined);
    assert.equal(p.caseInput?.providers?.servicing?.npi, SERVICING_NPI);
  });

  test("documents: inline PDF, DocumentReference content, Binary; URL-only, unaccepted types and bad base64", () => {
    const docRef = {
      resourceType: "DocumentReference",
      id: "doc1",
      status: "current",
      description: "Trial results",
      content: [
        {
          attachment: {
            contentType: "text/plain; charset=utf-8",
            data: Buffer.from("trial: 80% relief").toString("base64"),
          },
        },
        {
          attachment: {
            contentType: "application/pdf",
            url: "https://ehr.example/docs/1.pdf",
            title: "Imaging report",
          },
        },
      ],
    };
    const binary = { resourceType: "Binary", id: "bin1", contentType: "image/png", data: "iVBORw0KGgo=" };
    const exe = { contentType: "application/x-msdownload", title: "setup.exe", data: "TVqQAAMAAAAEAAAA" };
    const infos = [
      pdfInfo(1),
      { sequence: 2, valueReference: { reference: "DocumentReference/doc1" } },
      { sequence: 3, valueReference: { reference: "Binary/bin1" } },
      { sequence: 4, valueAttachment: exe },
      { sequence: 5, valueReference: { reference: "DocumentReference/doc1" } }, // the same document again
    ];
    const p = parsePasRequest(
      clinicalBundle("C4", ["62362"], infos, [docRef, binary] as Resource[]),
      library(),
      opts,
    );
    assert.deepEqual(
      p.attachments.map((a) => [a.title, a.contentType, a.data.length]),
      [
        ["Operative plan", "application/pdf", PDF.length],
        ["Trial results", "text/plain", 17],
        ["Supporting document 3", "image/png", 8],
      ],
    );
    assert.ok(p.attachments[0]!.data.equals(PDF));
    assert.deepEqual(p.unfetched, [{ title: "Imaging report" }]);
    const notes = p.context.notes.join("\n");
    assert.match(notes, /"Imaging report" .* referenced by URL only; it was not fetched/);
    assert.match(notes, /"setup\.exe" .* content type is not accepted/);

    const bad = clinicalBundle(
      "C5",
      ["62362"],
      [{ sequence: 1, valueAttachment: { contentType: "application/pdf", data: "not base64!" } }],
    );
    assert.throws(
      () => parsePasRequest(bad, library(), opts),
      (e: Error & { status?: number; expression?: string }) =>
        e.status === 400 && e.expression === "Claim.supportingInfo[0].valueAttachment.data",
    );
    // Over 5 MB decoded, or beyond the 20th: left out with a note; the request is still decided.
    const big = Buffer.alloc(5 * 1024 * 1024 + 1).toString("base64");
    const many = [
      { sequence: 1, valueAttachment: { contentType: "application/pdf", title: "Huge scan", data: big } },
      ...Array.from({ length: 21 }, (_, i) => pdfInfo(i + 2, `Page ${i + 1}`)),
    ];
    const q = parsePasRequest(clinicalBundle("C6", ["62362"], many), library(), opts);
    assert.equal(q.attachments.length, 20);
    assert.ok(q.caseInput);
    assert.match(q.context.notes.join("\n"), /"Huge scan" .* larger than 5 MB/);
    assert.match(q.context.notes.join("\n"), /"Page 21" .* at most 20 documents/);
  });

  test("base64 is read in one pass: length of valid text, undefined for anything else", () => {
    assert.equal(base64Length("TWFu"), 3);
    assert.equal(base64Length("TWE="), 2);
    assert.equal(base64Length("TQ=="), 1);
    assert.equal(base64Length("TW Fu\n"), 3);
    for (const bad of ["TWF", "TQ=a", "T===", "TW*u", "TQ==="])
      assert.equal(base64Length(bad), undefined, bad);
    // Linear: a megabyte of input is read in a few milliseconds (no backtracking).
    const long = "A".repeat(1 << 20);
    const t = performance.now();
    assert.equal(base64Length(`${long}!`), undefined);
    assert.ok(performance.now() - t < 500);
  });
});

describe("CRD hook → the case's clinical picture (issue 14)", () => {
  const condition = (id: string, code: string, extra: Partial<Condition> = {}): Condition => ({
    resourceType: "Condition",
    id,
    code: { coding: [{ system: ICD, code }] },
    subject: { reference: "Patient/pat1" },
    ...extra,
  });
  const requestWith = () => {
    const sr = order() as J;
    sr.reasonCode = [{ coding: [{ system: ICD, code: "G89.3", display: "Neoplasm related pain" }] }];
    sr.requester = { reference: "Practitioner/dr1" };
    sr.performer = [{ reference: "Practitioner/dr-surgeon" }];
    const r = hookRequest("order-sign", [sr]) as J;
    r.prefetch.coverage.entry[0].resource = {
      ...coverage,
      identifier: [
        {
          type: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/v2-0203", code: "MB" }] },
          value: "M-777",
        },
      ],
    };
    r.prefetch.conditions = {
      resourceType: "Bundle",
      type: "searchset",
      entry: [
        { resource: condition("c1", "C79.51") },
        {
          resource: condition("c2", "M54.16", {
            clinicalStatus: {
              coding: [
                { system: "http://terminology.hl7.org/CodeSystem/condition-clinical", code: "resolved" },
              ],
            },
          }),
        },
        { resource: condition("c3", "not-icd") }, // malformed: not a diagnosis
      ],
    };
    r.prefetch.practitioners = {
      resourceType: "Bundle",
      type: "searchset",
      entry: [
        {
          resource: {
            resourceType: "Practitioner",
            id: "dr1",
            identifier: [{ system: NPI, value: "1003000126" }],
            name: [{ family: "Alvarez", given: ["Ana"] }],
          },
        },
        { resource: { ...surgeon, identifier: [{ system: NPI, value: "1245319598" }] } }, // bad check digit
      ],
    };
    return r;
  };

  test("order-sign with Conditions: diagnoses (the order's reason first, active ICD-10-CM only) and providers", () => {
    const req = parseHookRequest(requestWith(), "order-sign");
    const index = new ResourceIndex();
    for (const v of Object.values(req.prefetch ?? {})) {
      if ((v as J)?.resourceType === "Bundle") index.addBundle(v as Bundle);
      else if (v) index.add(v as Resource);
    }
    const [info] = ordersOfResources([(req.context as J).draftOrders.entry[0].resource], index, today, {
      userId: "Practitioner/dr1",
    });
    assert.deepEqual(
      info!.diagnoses.map((d) => d.code),
      ["G89.3", "C79.51"],
      "resolved and non-ICD-10-CM Conditions are not diagnoses",
    );
    assert.deepEqual(info!.providers.requesting, { npi: "1003000126", name: "Ana Alvarez" });
    assert.equal(info!.providers.servicing, undefined, "an NPI failing the check digit is left out");
    const built = caseForCode(
      library(),
      info!.codes[0]!,
      { state: "TX", birthDate: "1961-03-02", name: "Test Example", id: "M-777" },
      info!.dateOfService,
      undefined,
      info,
    );
    assert.ok(built);
    assert.deepEqual(built.case.diagnoses?.[0], { code: "G89.3", display: "Neoplasm related pain" });
    assert.equal(built.case.providers?.requesting?.npi, "1003000126");
    assert.equal(built.case.member.id, "M-777");
    caseSchema.parse(built.case);
    // The answer itself is unchanged by the clinical picture: prior authorization needed, as before.
    const res = answerHook(library(), req, "2.2", today);
    assert.deepEqual(checkHookResponse(res, "2.2"), []);
    assert.equal(res.systemActions.length, 1);
  });

  test("over HTTP: no crash, a conformant answer", async () => {
    const s = await startFhirServer();
    try {
      const r = await call(s.url, "POST", "/cds-services/order-sign-crd", {
        token: s.tokens.provider,
        body: requestWith(),
      });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(checkHookResponse(r.body, "2.2"), []);
      assert.equal(r.body.systemActions.length, 1);
    } finally {
      await s.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The PAS 2.2.1 profiles of the IG package (../shared/fhir/ig), applied to what the service answers
// ---------------------------------------------------------------------------------------------

const IG = join(SHARED_FHIR, "ig", "davinci_pas_2.2.1.tgz");

/** The files of a gzipped tar (ustar; the IG packages are). */
function untar(file: string): Map<string, Buffer> {
  const tar = gunzipSync(readFileSync(file));
  const out = new Map<string, Buffer>();
  const str = (a: number, b: number) => {
    const s = tar.toString("utf8", a, b);
    const z = s.indexOf("\0");
    return z < 0 ? s : s.slice(0, z);
  };
  for (let off = 0; off + 512 <= tar.length; ) {
    const name = str(off, off + 100);
    if (!name) break;
    const size = Number.parseInt(str(off + 124, off + 136).trim() || "0", 8);
    const prefix = str(off + 345, off + 500);
    out.set(prefix ? `${prefix}/${name}` : name, tar.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

interface Element {
  id: string;
  path: string;
  min?: number;
  max?: string;
  type?: { code: string; profile?: string[] }[];
  fixedCode?: string;
  fixedUri?: string;
  patternCodeableConcept?: { coding?: { system?: string; code?: string }[] };
  binding?: { strength: string; valueSet?: string };
}

/**
 * Checks a PAS response Bundle against the package's profiles, by their snapshots: cardinalities
 * (min ≥ 1, max 0), fixed codes, CodeableConcept patterns, required bindings to value sets the
 * package defines, extensions only as the profiles slice them (with the reviewAction's own parts,
 * its `reasonCode` from X12 886), the first entry a ClaimResponse of the profile the bundle names.
 */
class PasProfiles {
  private readonly files = untar(IG);
  private readonly valueSets = new Map<string, { system?: string; concept?: { code: string }[] }[]>();

  constructor() {
    for (const [name, buf] of this.files) {
      if (!/\/ValueSet-[^/]+\.json$/.test(name)) continue;
      const vs = JSON.parse(buf.toString());
      this.valueSets.set(vs.url, vs.compose?.include ?? []);
    }
  }

  private sd(name: string): { url: string; snapshot: { element: Element[] } } {
    const f = this.files.get(`package/StructureDefinition-${name}.json`);
    assert.ok(f, `the IG package has ${name}`);
    return JSON.parse(f.toString());
  }

  /** The values at a dotted path under `root` (arrays flattened). */
  private at(root: unknown, path: string[]): unknown[] {
    let cur: unknown[] = [root];
    for (const p of path) {
      cur = cur.flatMap((x) => {
        const v = x !== null && typeof x === "object" ? (x as J)[p] : undefined;
        return v === undefined ? [] : Array.isArray(v) ? v : [v];
      });
    }
    return cur;
  }

  private inSet(url: string, value: unknown): boolean {
    const includes = this.valueSets.get(url.split("|")[0]!);
    if (!includes) return true; // an external value set (X12): not expandable here
    const codings: { system?: string; code?: string }[] =
      typeof value === "string"
        ? [{ code: value }]
        : ((value as J)?.coding ?? ((value as J)?.code !== undefined ? [value] : []));
    return codings.some((c) =>
      includes.some(
        (i) =>
          (c.system === undefined || i.system === undefined || c.system === i.system) &&
          (i.concept === undefined || i.concept.some((k) => k.code === c.code)),
      ),
    );
  }

  /** Problems of `resource` against the profile `name` (snapshot rules; slices by extension URL). */
  private check(resource: J, name: string, where: string): string[] {
    const out: string[] = [];
    const els = this.sd(name).snapshot.element;
    const allowed = new Map<string, Set<string>>();
    for (const e of els) {
      const m = /^(.*)\.extension:[^.]+$/.exec(e.id);
      const url = e.type?.[0]?.profile?.[0]?.split("|")[0];
      if (m && url && !m[1]!.includes(":")) {
        if (!allowed.has(m[1]!)) allowed.set(m[1]!, new Set());
        allowed.get(m[1]!)!.add(url);
      }
    }
    for (const e of els) {
      if (e.id.includes(":") || e.id.includes("[x]")) continue;
      const parts = e.id.split(".").slice(1);
      if (parts.length === 0) continue;
      const parents = this.at(resource, parts.slice(0, -1));
      const last = parts.at(-1)!;
      for (const p of parents) {
        const v = (p as J)?.[last];
        const values = v === undefined ? [] : Array.isArray(v) ? v : [v];
        if ((e.min ?? 0) > 0 && values.length === 0) out.push(`${where}: ${e.id} is required`);
        if (e.max === "0" && values.length > 0) out.push(`${where}: ${e.id} is not allowed`);
        for (const x of values) {
          if (e.fixedCode !== undefined && x !== e.fixedCode)
            out.push(`${where}: ${e.id} must be ${e.fixedCode}`);
          for (const c of e.patternCodeableConcept?.coding ?? []) {
            if (!(x as J)?.coding?.some((y: J) => y.system === c.system && y.code === c.code))
              out.push(`${where}: ${e.id} must carry ${c.system}|${c.code}`);
          }
          if (e.binding?.strength === "required" && e.binding.valueSet && !this.inSet(e.binding.valueSet, x))
            out.push(`${where}: ${e.id} ${JSON.stringify(x)} is not in ${e.binding.valueSet}`);
        }
      }
    }
    for (const [path, urls] of allowed) {
      for (const ext of this.at(resource, [...path.split(".").slice(1), "extension"])) {
        const url = (ext as J)?.url;
        if (!urls.has(url)) out.push(`${where}: ${path}.extension ${url} is not a slice of ${name}`);
        if (url?.endsWith("/extension-reviewAction")) out.push(...this.reviewAction(ext as J, where));
      }
    }
    return out;
  }

  private reviewAction(ext: J, where: string): string[] {
    const out: string[] = [];
    const els = this.sd("extension-reviewAction").snapshot.element;
    const parts = new Set(
      els.flatMap((e) => (/^Extension\.extension:[^.]+\.url$/.test(e.id) && e.fixedUri ? [e.fixedUri] : [])),
    );
    for (const e of els)
      if (/^Extension\.extension:[^.]+$/.test(e.id) && e.type?.[0]?.profile)
        parts.add(e.type[0].profile[0]!.split("|")[0]!);
    for (const s of ext.extension ?? []) {
      if (!parts.has(s.url)) out.push(`${where}: reviewAction part ${s.url} is not defined`);
      if (
        s.url === "reasonCode" &&
        !s.valueCodeableConcept?.coding?.some(
          (c: J) => c.system === "https://codesystem.x12.org/external/886",
        )
      )
        out.push(`${where}: reviewAction reasonCode must be an X12 886 code`);
    }
    return out;
  }

  /** Problems of a PAS response Bundle (`$submit`) or inquiry response Bundle (`$inquire`). */
  bundle(b: J): string[] {
    const inquiry = b?.meta?.profile?.[0]?.endsWith("/profile-pas-inquiry-response-bundle");
    const bundleName = inquiry ? "profile-pas-inquiry-response-bundle" : "profile-pas-response-bundle";
    const crName = inquiry ? "profile-claiminquiryresponse" : "profile-claimresponse";
    const out = this.check(b, bundleName, "Bundle");
    const cr = b?.entry?.[0]?.resource;
    if (cr?.resourceType !== "ClaimResponse")
      return [...out, "Bundle: the first entry must be the ClaimResponse"];
    if (cr.meta?.profile?.[0] !== this.sd(crName).url) out.push(`ClaimResponse must claim ${crName}`);
    return [...out, ...this.check(cr, crName, "ClaimResponse")];
  }
}

describe("information requests answered over PAS (issue 14)", {
  skip: !existsSync(IG) && `no IG package at ${IG}`,
}, () => {
  let s: TestServer;
  let profiles: PasProfiles;
  before(async () => {
    s = await startFhirServer();
    profiles = new PasProfiles();
  });
  after(() => s.close());
  const submit = (body: unknown) =>
    call(s.url, "POST", "/fhir/Claim/$submit", { token: s.tokens.provider, body });
  const requestIdOf = (r: J): string =>
    r.body.entry[0].resource.identifier.find((i: J) => i.system.endsWith("/request")).value;
  // An inquiry names the request by the Claim's identifier (the fixture's, as submitted).
  const inquiry = (id: string): J => pasBundle(id, ["62362"]);

  test("the profile check finds what the IG forbids (it can fail)", () => {
    const ok = claimResponseBundle(
      parsePasRequest(pasBundle("V1", ["62362"]), library(), opts).context,
      {
        status: "awaiting-review",
        lines: [],
        needed: [],
        receivedAt: "2026-01-01T00:00:00Z",
      } as ResponseState,
      "2026-01-02T00:00:00Z",
    ) as J;
    assert.deepEqual(profiles.bundle(ok), []);
    const broken = structuredClone(ok);
    delete broken.identifier;
    delete broken.entry[1].fullUrl;
    broken.entry[0].resource.outcome = "queued";
    broken.entry[0].resource.item[0].adjudication[0].category.coding[0].code = "eligible";
    broken.entry[0].resource.item[0].adjudication[0].extension[0].extension.push({
      url: "reasonCode",
      valueCodeableConcept: { text: "free text" },
    });
    broken.entry[0].resource.item[0].extension = [{ url: "http://example.org/unknown", valueString: "x" }];
    const problems = profiles.bundle(broken).join("\n");
    assert.match(problems, /Bundle\.identifier is required/);
    assert.match(problems, /Bundle\.entry\.fullUrl is required/);
    assert.match(problems, /ClaimResponse\.outcome "queued" is not in/);
    assert.match(problems, /adjudication\.category must carry/);
    assert.match(problems, /reasonCode must be an X12 886 code/);
    assert.match(problems, /http:\/\/example\.org\/unknown is not a slice/);
  });

  test("the stored case has the clinical picture: reviewer sees member name, diagnoses, requesting NPI", async () => {
    const r = await submit(clinicalBundle("H1"));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(profiles.bundle(r.body), []);
    const got = await call(s.url, "GET", `/api/requests/${requestIdOf(r)}`, { token: s.tokens.reviewer });
    assert.equal(got.status, 200, got.text);
    const c = got.body.review.case;
    assert.equal(c.member.name, "Test Q. Example");
    assert.equal(c.member.id, "M-123456");
    assert.deepEqual(
      c.diagnoses.map((d: J) => d.code),
      ["C79.51", "G89.3"],
    );
    assert.equal(c.providers.requesting.npi, PROVIDER_NPI);
    assert.equal(c.providers.servicing.npi, SERVICING_NPI);
    // The requesting provider's NPI failing the check digit: 400 naming the element, nothing stored.
    const bad = clinicalBundle("H2");
    const org = bad.entry.findIndex((e: J) => e.resource.id === "prov1");
    bad.entry[org].resource.identifier[0].value = "1234567890";
    const refused = await submit(bad);
    assert.equal(refused.status, 400, refused.text);
    assert.deepEqual(checkOperationOutcome(refused.body), []);
    assert.deepEqual(refused.body.issue[0].expression, [`Bundle.entry[${org}].resource.identifier[0].value`]);
  });

  test("a PDF in supportingInfo: stored with the request; the reviewer lists it and reads its bytes", async () => {
    const b = clinicalBundle("H3", ["62362"], [pdfInfo(1)]);
    const r = await submit(b);
    assert.equal(r.status, 200, r.text);
    const id = requestIdOf(r);
    const view = await call(s.url, "GET", `/api/requests/${id}`, { token: s.tokens.reviewer });
    const listed = view.body.review.attachments as J[];
    assert.equal(listed.length, 1, JSON.stringify(listed));
    assert.deepEqual(
      {
        title: listed[0].title,
        contentType: listed[0].contentType,
        size: listed[0].size,
        source: listed[0].source,
      },
      { title: "Operative plan", contentType: "application/pdf", size: PDF.length, source: "pas" },
    );
    const bytes = await fetch(s.url + listed[0].url, {
      headers: { authorization: `Bearer ${s.tokens.reviewer}` },
    });
    assert.equal(bytes.status, 200);
    assert.ok(Buffer.from(await bytes.arrayBuffer()).equals(PDF));
    // A retransmission stores nothing twice.
    assert.equal((await submit(b)).status, 200);
    const again = await call(s.url, "GET", `/api/requests/${id}`, { token: s.tokens.reviewer });
    assert.equal(again.body.review.attachments.length, 1);
  });

  test("storing documents: once each (by content), so a retransmission completes an interrupted one", async () => {
    const b = clinicalBundle("H4", ["62362"], [pdfInfo(1), pdfInfo(2, "Same bytes, other title")]);
    const parsed = parsePasRequest(b, library(), opts);
    const r = await submit(b);
    const id = requestIdOf(r);
    const svc = s.server.ctx.service;
    const who = DEMO_USERS.provider!; // the submitter
    const rec = await svc.get(id, who);
    const before = rec.attachments.length;
    const notes: string[] = [];
    const n = await storePasAttachments(svc, rec, parsed.attachments, who, notes);
    const after = await svc.get(id, who);
    assert.equal(n + before, after.attachments.length);
    assert.equal(after.attachments.length, 1, "the same bytes are one document");
    assert.equal(await storePasAttachments(svc, after, parsed.attachments, who, notes), 0);
    assert.deepEqual(notes, []);
  });

  test("a reviewer requests information: $inquire and the ClaimResponse answer A4 with the questions, profile-valid", async () => {
    const r = await submit(clinicalBundle("H5"));
    assert.equal(r.status, 200, r.text);
    const id = requestIdOf(r);
    assert.deepEqual(reviewCodes(r.body.entry[0].resource.item[0]), ["A4"]);
    const view = await call(s.url, "GET", `/api/requests/${id}`, { token: s.tokens.reviewer });
    const needed = view.body.review.determinations.at(-1).determination.needed as {
      criterion: string;
      text: string;
    }[];
    assert.ok(needed.length >= 2, "the request has open questions");
    const asked = needed.slice(0, 2);
    const message = "Please send the trial results and the imaging report.";
    const ir = await call(s.url, "POST", `/api/requests/${id}/information-request`, {
      token: s.tokens.reviewer,
      headers: { "content-type": "application/json" },
      body: { message, criteria: asked.map((q) => q.criterion) },
    });
    assert.equal(ir.status, 200, ir.text);

    const inq = await call(s.url, "POST", "/fhir/Claim/$inquire", {
      token: s.tokens.provider,
      body: inquiry("H5"),
    });
    assert.equal(inq.status, 200, inq.text);
    // Issue 16: PAS 2.2.1 answers Parameters of `return` Bundles.
    const inqBundle = inquiryBundles(inq.body)[0] as J;
    assert.deepEqual(checkPasResponse(inqBundle, [1]), []);
    assert.deepEqual(profiles.bundle(inqBundle), []);
    const cr = inqBundle.entry[0].resource;
    assert.deepEqual(reviewCodes(cr.item[0]), ["A4"]);
    assert.equal(cr.disposition, "Pended: more information requested.");
    const itemNotes = cr.item[0].noteNumber.map(
      (n: number) => cr.processNote.find((x: J) => x.number === n).text,
    );
    assert.ok(
      itemNotes.some((t: string) => t.includes(message)),
      itemNotes.join("\n"),
    );
    for (const q of asked)
      assert.ok(itemNotes.includes(`Information requested — ${q.criterion}: ${q.text}`), q.criterion);
    assert.ok(
      !itemNotes.some((t: string) => t.startsWith("Documentation needed")),
      "the reviewer's questions, not the engine's whole list",
    );
    assert.deepEqual(
      cr.item[0].adjudication.map((a: J) => a.reason?.coding[0].code),
      asked.map((q) => q.criterion),
    );
    assert.ok(!JSON.stringify(cr).includes("Casey Chen"), "the provider is not told who asked");
    // The ClaimResponse read (what a notification points to) says the same.
    const read = await call(s.url, "GET", `/fhir/ClaimResponse/${id}`, { token: s.tokens.provider });
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.disposition, "Pended: more information requested.");
    assert.match(read.body.processNote.map((n: J) => n.text).join("\n"), /Information requested — /);
    // The submit replay too.
    const replay = await submit(clinicalBundle("H5"));
    assert.equal(replay.body.entry[0].resource.disposition, "Pended: more information requested.");
    assert.deepEqual(profiles.bundle(replay.body), []);
  });

  test("the request for information is notified to the submitter's Subscription (id-only)", async () => {
    const hook = await listener();
    try {
      const sub = await call(s.url, "POST", "/fhir/Subscription", {
        token: s.tokens.provider,
        body: {
          resourceType: "Subscription",
          status: "requested",
          reason: "PAS updates",
          criteria: "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic",
          channel: { type: "rest-hook", endpoint: hook.url, payload: "application/fhir+json" },
        },
      });
      assert.equal(sub.status, 201, sub.text);
      const r = await submit(clinicalBundle("H6"));
      const id = requestIdOf(r);
      const ir = await call(s.url, "POST", `/api/requests/${id}/information-request`, {
        token: s.tokens.reviewer,
        headers: { "content-type": "application/json" },
        body: { message: "Please send the psychological evaluation." },
      });
      assert.equal(ir.status, 200, ir.text);
      await hook.next(); // issue 16: the R4 backport handshake comes first
      const cr = await notifiedClaimResponse(s.url, await hook.next(), s.tokens.provider);
      assert.equal(cr.id, id);
      assert.deepEqual(reviewCodes(cr.item[0]), ["A4"]);
      assert.equal(cr.disposition, "Pended: more information requested.");
      assert.match(
        cr.processNote.map((n: J) => n.text).join("\n"),
        /Please send the psychological evaluation\./,
      );
    } finally {
      await hook.close();
    }
  });

  test("PAS responses to the public example requests are profile-valid too", async () => {
    const dir = join(SHARED_FHIR, "pas-2.2.1");
    for (const f of [
      // The inquiry example asks about its items (G0154, B4184): the Homecare request's, submitted
      // first, so that the newest submission under the same identifier (111099) is another one.
      "Bundle-HomecareAuthorizationBundleExample.json",
      "Bundle-ReferralAuthorizationBundleExample.json",
      "Bundle-MedicalServicesAuthorizationBundleExample.json",
    ]) {
      const body = JSON.parse(readFileSync(join(dir, f), "utf8"));
      const r = await submit(body);
      assert.equal(r.status, 200, `${f}: ${r.text.slice(0, 300)}`);
      assert.deepEqual(profiles.bundle(r.body), [], f);
    }
    const inq = JSON.parse(readFileSync(join(dir, "Bundle-PASClaimInquiryBundleExample.json"), "utf8"));
    const r = await call(s.url, "POST", "/fhir/Claim/$inquire", { token: s.tokens.provider, body: inq });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    const found = inquiryBundles(r.body)[0];
    assert.ok(found, "the inquiry finds the Homecare request");
    assert.deepEqual(profiles.bundle(found), []);
    // Every example reuses identifier 111099: the match is by patient and services too, so the
    // newest submission (MedicalServices, 99212) is not the answer.
    assert.equal((found as J).entry[0].resource.item.length, 2, "the Homecare request's two items");
  });
});

describe("ClaimResponse with an open information request (unit)", () => {
  test("A4 on governed lines only; NA stays NA; reasons coded by criterion", () => {
    const ctx = parsePasRequest(pasBundle("U1", ["62362", "62369"]), library(), opts).context;
    const policy = { id: "CP.MP.173", version: "2025-11", hash: "h", title: "t", section: "II" };
    const st = {
      requestId: "req-9",
      status: "awaiting-review",
      receivedAt: "2026-01-01T00:00:00Z",
      dueAt: "2026-01-08T00:00:00Z",
      needed: [],
      engineOutcome: "pended",
      lines: [
        {
          code: "62362",
          outcome: "pended",
          policy,
          basis: "b",
          reasons: [],
          needed: [{ criterion: "I.B.1", text: "x" }],
        },
        { code: "62369", outcome: "not-applicable", policy, basis: "coding only", reasons: [], needed: [] },
      ],
      infoRequest: {
        at: "2026-01-03T10:00:00Z",
        message: "Send the trial notes.",
        questions: [{ criterion: "I.A.2.g", text: "Systemic opioids weaned by at least 50%" }],
      },
    } as unknown as ResponseState;
    const b = claimResponseBundle(ctx, st, "2026-01-03T11:00:00Z", "inquire") as J;
    assert.deepEqual(checkPasResponse(b, [1, 2]), []);
    const cr = b.entry[0].resource;
    assert.deepEqual(reviewCodes(cr.item[0]), ["A4"]);
    assert.deepEqual(reviewCodes(cr.item[1]), ["NA"]);
    assert.deepEqual(cr.item[0].adjudication[0].reason.coding[0], {
      system: "http://medpolicy.example/fhir/CodeSystem/CP.MP.173",
      version: "2025-11",
      code: "I.A.2.g",
      display: "Systemic opioids weaned by at least 50%",
    });
    const notes = cr.processNote.map((n: J) => n.text).join("\n");
    assert.match(
      notes,
      /more information requested on 2026-01-03; a decision is due by 2026-01-08T00:00:00Z\. Send the trial notes\./,
    );
    assert.match(notes, /POST \/api\/requests\/req-9\/answers/);
    assert.ok(!notes.includes("Documentation needed — I.B.1"));
    assert.match(b.meta.profile[0], /profile-pas-inquiry-response-bundle$/);
    // Decided: the decision answers, whatever the workflow still holds.
    const decided = claimResponseBundle(
      ctx,
      {
        ...st,
        status: "decided",
        decision: {
          outcome: "approved",
          reason: "Met.",
          criteria: [],
          signedBy: { sub: "md", name: "Dana Diaz, MD", role: "medical-director" },
          signedAt: "2026-01-04T00:00:00Z",
          automatic: false,
          determinationSeq: 1,
        },
      } as ResponseState,
      "2026-01-04T00:00:00Z",
    ) as J;
    assert.deepEqual(reviewCodes(decided.entry[0].resource.item[0]), ["A1"]);
  });
});
