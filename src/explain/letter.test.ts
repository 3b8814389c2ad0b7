/**
 * The determination letter (SPEC 2.4, 4; issue 14): sent by the plan to the member with copies to the
 * providers, human dates in the plan's time zone, the services and diagnoses, the criteria with the
 * server's statuses, appeal rights by line of business and state; pure, escaped, deterministic.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type Case, type Determination, InputError, LINES_OF_BUSINESS } from "../model/index.js";
import {
  DEFAULT_PLAN,
  escapeHtml,
  type LetterDecision,
  type LetterInput,
  type LetterPlan,
  planFromEnv,
  renderLetter,
} from "./letter.js";

const policy = {
  id: "CP.MP.173",
  version: "2025-11",
  hash: "0123456789abcdef0123456789abcdef",
  title: "Implantable Intrathecal or Epidural Pain Pump",
  section: "I",
};
const weanText = "Prior to the trial, systemic opioids have been weaned by at least 50%";
const determination: Determination = {
  outcome: "denied",
  policy,
  reasons: [{ criterion: "I.A.2.g", text: weanText, status: "not-met" }],
  needed: [],
  lines: [{ code: "62323", outcome: "denied", policy, basis: "section I not met", reasons: [], needed: [] }],
  engine: "medpolicy-engine/0.1.0",
};
const plan: LetterPlan = {
  name: "Acme Health Plan",
  address: ["PO Box 100", "Raleigh, NC 27601"],
  phone: "1-800-555-0100",
  timeZone: "America/New_York",
};
const caseNC: Case = {
  member: {
    id: "M-1",
    name: "Pat Doe",
    address: { lines: ["12 Elm St", "Apt 3"], city: "Durham", state: "NC", postalCode: "27701" },
    state: "NC",
    birthDate: "1960-05-01",
    lineOfBusiness: "medicaid",
  },
  service: { codes: ["62323"], dateOfService: "2026-03-01", drug: "morphine" },
  answers: {},
  facts: {},
  diagnoses: [
    { code: "G89.4", display: "Chronic pain syndrome" },
    { code: "M54.16", display: "Radiculopathy, lumbar region" },
  ],
  providers: {
    requesting: {
      npi: "1234567893",
      name: "Dr. Ann Lee",
      address: { lines: ["1 Clinic Way"], city: "Cary", state: "NC", postalCode: "27511" },
      phone: "919-555-0101",
    },
    servicing: { npi: "1245319599", name: "Triangle Surgery Center" },
  },
};
const denial: LetterDecision = {
  outcome: "denied",
  reason: "Systemic opioids were not weaned by 50% before the trial.",
  criteria: [{ criterion: "I.A.2.g", text: weanText, status: "not-met" }],
  signedBy: { sub: "md-ross", name: "Dr. Sam Ross", role: "medical-director" },
  signedAt: "2026-03-02T14:30:00.000Z",
  automatic: false,
};
const input: LetterInput = {
  request: { id: "req-1", receivedAt: "2026-03-01T15:00:00.000Z", expedited: false },
  case: caseNC,
  determination,
  decision: denial,
  plan,
  services: { "62323": "Injection of anesthetic or steroid, epidural, lumbar" },
};

function withLob(lob: Case["member"]["lineOfBusiness"] | undefined, state = "NC"): LetterInput {
  const { lineOfBusiness: _, ...member } = input.case.member;
  return {
    ...input,
    case: { ...input.case, member: { ...member, state, ...(lob ? { lineOfBusiness: lob } : {}) } },
  };
}

const approval: LetterDecision = {
  outcome: "approved",
  reason: "The trial met every criterion.",
  criteria: [
    { criterion: "I.A.2.g", text: weanText, status: "met" },
    { criterion: "I.B.4", text: "Active systemic infection", status: "absent" },
  ],
  signedBy: { sub: "rn-chen", name: "Casey Chen, RN", role: "reviewer" },
  signedAt: "2026-03-02T14:30:00.000Z",
  automatic: false,
};

test("a denial letter comes from the plan, to the member, and cites the criterion, policy and signer", () => {
  const html = renderLetter(input);
  assert.match(html, /^<!doctype html>/);
  assert.match(
    html,
    /<strong>Acme Health Plan<\/strong><br>PO Box 100<br>Raleigh, NC 27601<br>Telephone 1-800-555-0100/,
  );
  assert.match(
    html,
    /<address class="recipient">Pat Doe<br>12 Elm St<br>Apt 3<br>Durham, NC 27701<\/address>/,
  );
  assert.match(html, /Dear Pat Doe,/);
  assert.match(html, /Member ID: M-1/);
  assert.match(html, /Coverage: Medicaid/);
  assert.match(html, /<h2>Why: the policy criteria not met<\/h2>/);
  assert.match(html, /<td class="id">I\.A\.2\.g<\/td><td>[^<]*weaned[^<]*<\/td><td>not met<\/td>/);
  assert.match(html, /CP\.MP\.173<\/strong> Implantable[^<]*, version 2025-11, section I/);
  assert.match(html, /Signed by Dr\. Sam Ross, Medical Director, on March 2, 2026\./);
  assert.match(html, /Denied — not medically necessary/);
  assert.match(html, /Your right to appeal/);
  assert.match(html, /req-1/);
});

test("services with descriptions, drug, date of service and diagnoses; copies to both providers", () => {
  const html = renderLetter(input);
  assert.match(
    html,
    /<td class="id">62323<\/td><td>Injection of anesthetic or steroid, epidural, lumbar<\/td>/,
  );
  assert.match(html, /Drug: morphine/);
  assert.match(html, /Date of service: March 1, 2026/);
  assert.match(html, /G89\.4<\/span> Chronic pain syndrome/);
  assert.match(html, /M54\.16<\/span> Radiculopathy, lumbar region/);
  assert.match(
    html,
    /Requesting provider<\/em><br>Dr\. Ann Lee, NPI 1234567893<br>1 Clinic Way<br>Cary, NC 27511<br>Telephone 919-555-0101/,
  );
  assert.match(html, /Servicing provider<\/em><br>Triangle Surgery Center, NPI 1245319599/);
});

test("the servicing provider gets no second copy when it is the requesting one", () => {
  const req = input.case.providers!.requesting!;
  const html = renderLetter({
    ...input,
    case: { ...input.case, providers: { requesting: req, servicing: req } },
  });
  assert.match(html, /Requesting provider/);
  assert.doesNotMatch(html, /Servicing provider/);
  // Only a servicing provider: still copied.
  const only = renderLetter({ ...input, case: { ...input.case, providers: { servicing: req } } });
  assert.match(only, /Servicing provider<\/em><br>Dr\. Ann Lee, NPI 1234567893/);
});

test("a member without a name is addressed by member id, never by an invented name", () => {
  const { name: _n, address: _a, ...member } = input.case.member;
  const html = renderLetter({ ...input, case: { ...input.case, member } });
  assert.match(html, /<address class="recipient">Member ID M-1<\/address>/);
  assert.match(html, /Dear Member,/);
});

test("commercial: no Fair Hearing; internal appeal and external review under the ACA", () => {
  const html = renderLetter(withLob("commercial"));
  assert.doesNotMatch(html, /Fair Hearing/i);
  assert.match(html, /internal appeal/);
  assert.match(html, /independent review organization/);
  assert.match(html, /45 CFR 147\.136/);
  assert.match(html, /within 180 calendar days/);
  assert.match(html, /Coverage: Commercial health coverage/);
});

test("Medicaid NC: the State Fair Hearing and the state agency by name", () => {
  const html = renderLetter(input);
  assert.match(html, /State Fair Hearing/);
  assert.match(html, /within 120 calendar days/);
  assert.match(html, /NC Medicaid \(Division of Health Benefits\)/);
  assert.match(html, /within 60 calendar days/);
  assert.match(html, /within 72 hours/);
  assert.doesNotMatch(html, /continuation|continue to receive/i);
});

test("Medicare Advantage: the Independent Review Entity, no fair hearing", () => {
  const html = renderLetter(withLob("medicare", "TX"));
  assert.match(html, /Independent Review Entity/);
  assert.match(html, /reconsideration/);
  assert.match(html, /within 65 calendar days/);
  assert.doesNotMatch(html, /Fair Hearing/i);
  assert.doesNotMatch(html, /Medicaid/);
});

test("an unknown line of business: generic appeal language naming no program", () => {
  const html = renderLetter(withLob(undefined, "TX"));
  assert.match(html, /may appeal this decision/);
  assert.doesNotMatch(html, /Medicaid|Medicare|Fair Hearing|Marketplace|ERISA|Coverage:/);
});

test("every adverse letter offers peer-to-peer, a free copy, and an uninvolved appeal reviewer", () => {
  for (const lob of [...LINES_OF_BUSINESS, undefined]) {
    for (const outcome of ["denied", "not-covered"] as const) {
      const html = renderLetter({ ...withLob(lob), decision: { ...denial, outcome } });
      assert.match(html, /peer-to-peer/, `${lob} ${outcome}`);
      assert.match(html, /free of charge/, `${lob} ${outcome}`);
      assert.match(html, /did not take part in this decision/, `${lob} ${outcome}`);
    }
  }
});

test("no ISO timestamp and no UTC in any letter", () => {
  for (const lob of [...LINES_OF_BUSINESS, undefined]) {
    for (const decision of [denial, approval]) {
      for (const timeZone of ["America/New_York", "UTC", "Pacific/Honolulu"]) {
        const html = renderLetter({ ...withLob(lob), decision, plan: { ...plan, timeZone } });
        assert.doesNotMatch(html, /\d{4}-\d{2}-\d{2}T/, `${lob} ${decision.outcome} ${timeZone}`);
        assert.doesNotMatch(html, /\d{4}-\d{2}-\d{2}/, "no machine dates at all");
        assert.doesNotMatch(html, /UTC/);
      }
    }
  }
});

test("dates are written in the plan's time zone; the date of service is not shifted", () => {
  const at = "2026-12-06T03:00:00Z";
  const late = (timeZone: string) =>
    renderLetter({
      ...input,
      request: { ...input.request, receivedAt: at },
      decision: { ...denial, signedAt: at },
      plan: { ...plan, timeZone },
    });
  const ny = late("America/New_York");
  assert.match(ny, /<p class="date">December 5, 2026<\/p>/);
  assert.match(ny, /Received: December 5, 2026/);
  assert.match(ny, /on December 5, 2026\./);
  assert.doesNotMatch(ny, /December 6/);
  const tokyo = late("Asia/Tokyo");
  assert.match(tokyo, /<p class="date">December 6, 2026<\/p>/);
  // A calendar date has no time zone: March 1 stays March 1 west and east of Greenwich.
  assert.match(late("Pacific/Honolulu"), /Date of service: March 1, 2026/);
  assert.match(tokyo, /Date of service: March 1, 2026/);
});

test("an approval letter: 'Criteria met', each with its status, never 'not met', no appeal section", () => {
  const html = renderLetter({ ...input, decision: approval });
  assert.match(html, /<h2>Criteria met<\/h2>/);
  assert.match(html, /<td class="id">I\.A\.2\.g<\/td><td>[^<]*<\/td><td>met<\/td>/);
  assert.match(html, /<td class="id">I\.B\.4<\/td><td>Active systemic infection<\/td><td>not present<\/td>/);
  assert.doesNotMatch(html, /not met/i);
  assert.doesNotMatch(html, /appeal/i);
  assert.match(html, /Signed by Casey Chen, RN, Utilization Management Reviewer/);
  assert.match(html, /data-outcome="approved">Approved</);
});

test("an automatic approval names the engine and says every criterion was met", () => {
  const html = renderLetter({
    ...input,
    determination: { ...determination, outcome: "approved", reasons: [] },
    decision: {
      outcome: "approved",
      reason: "Every criterion is met.",
      criteria: [],
      signedBy: { name: "medpolicy automatic approval", role: "engine" },
      signedAt: "2026-03-01T15:00:00.000Z",
      automatic: true,
    },
  });
  assert.match(
    html,
    /Issued automatically on March 1, 2026: every criterion of the policy was met \(engine medpolicy-engine\/0\.1\.0\)/,
  );
  assert.match(html, /<h2>Criteria met<\/h2><p>Every criterion/);
  assert.doesNotMatch(html, /not met|appeal/i);
});

test("each status the server gives reads as words; an unknown status is not guessed as 'not met'", () => {
  const html = renderLetter({
    ...input,
    decision: {
      ...denial,
      outcome: "not-covered",
      criteria: [
        { criterion: "I.B.4", text: "Active systemic infection", status: "present" },
        { criterion: "III", text: "Open fusion without an indication", status: "section" },
        { criterion: "X.1", text: "Legacy citation" },
        { criterion: "X.2", text: "Odd status", status: "constructor" },
      ],
    },
  });
  assert.match(html, /Active systemic infection<\/td><td>present \(contraindication\)<\/td>/);
  assert.match(
    html,
    /Open fusion without an indication<\/td><td>the policy section this decision rests on<\/td>/,
  );
  assert.match(html, /Legacy citation<\/td><td>—<\/td>/);
  assert.match(html, /Odd status<\/td><td>—<\/td>/);
  assert.match(html, /data-outcome="not-covered">Not covered</);
});

test("an override is internal: the letter renders without it", () => {
  const reason = "Engine missed the second trial documented in the notes";
  const html = renderLetter({ ...input, decision: { ...denial, override: { from: "approved", reason } } });
  assert.ok(!html.includes(reason));
  assert.doesNotMatch(html, /override/i);
});

test("a multi-code request names the policy applied to each code", () => {
  const html = renderLetter({
    ...input,
    case: { ...input.case, service: { codes: ["62323", "62369"], dateOfService: "2026-03-01" } },
    determination: {
      ...determination,
      lines: [
        ...determination.lines,
        { code: "62369", outcome: "not-applicable", basis: "coding only", reasons: [], needed: [] },
      ],
    },
  });
  assert.match(html, /<td class="id">62323<\/td><td>Injection[^<]*<\/td><td>CP\.MP\.173, section I<\/td>/);
  assert.match(html, /<td class="id">62369<\/td><td>—<\/td><td>no policy criteria apply to this code<\/td>/);
});

test("pure: the same input gives the same bytes", () => {
  const a = renderLetter(input);
  assert.equal(renderLetter(input), a);
  assert.equal(renderLetter(structuredClone(input)), a);
});

test("every dynamic value is escaped", () => {
  const evil = `<script>alert("x")</script>`;
  const addr = { lines: [evil], city: evil, state: "NC", postalCode: "27701" };
  const html = renderLetter({
    ...input,
    request: { ...input.request, id: evil },
    case: {
      ...input.case,
      member: { ...input.case.member, name: evil, id: evil, address: addr },
      service: { ...input.case.service, drug: evil },
      diagnoses: [{ code: "G89.4", display: evil }],
      providers: { requesting: { npi: "1234567893", name: evil, address: addr, phone: evil } },
    },
    decision: {
      ...denial,
      reason: evil,
      criteria: [{ criterion: evil, text: evil, status: evil }],
      signedBy: { name: evil, role: evil },
    },
    plan: { name: evil, address: [evil], phone: evil, timeZone: "America/New_York" },
    services: { "62323": evil },
  });
  assert.doesNotMatch(html, /<script>/);
  assert.match(html, /Dear &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;,/);
  assert.match(html, /Requesting provider<\/em><br>&lt;script&gt;/);
});

test("a time zone that is not one fails loudly instead of dating a letter wrongly", () => {
  assert.throws(() => renderLetter({ ...input, plan: { ...plan, timeZone: "Mars/Olympus" } }), RangeError);
});

test("planFromEnv: defaults, address lines, validation naming the variable", () => {
  assert.deepEqual(planFromEnv({}), { name: DEFAULT_PLAN.name, timeZone: "America/New_York" });
  assert.deepEqual(
    planFromEnv({
      MEDPOLICY_PLAN_NAME: " Acme ",
      MEDPOLICY_PLAN_ADDRESS: "PO Box 1 | Raleigh, NC 27601\n",
      MEDPOLICY_PLAN_PHONE: "1-800-555-0100",
      MEDPOLICY_TIME_ZONE: "America/Chicago",
      MEDPOLICY_OTHER: "ignored",
    }),
    {
      name: "Acme",
      address: ["PO Box 1", "Raleigh, NC 27601"],
      phone: "1-800-555-0100",
      timeZone: "America/Chicago",
    },
  );
  assert.equal(planFromEnv({ MEDPOLICY_TIME_ZONE: "" }).timeZone, "America/New_York");
  assert.throws(
    () => planFromEnv({ MEDPOLICY_TIME_ZONE: "Mars/Olympus" }),
    (e: unknown) => e instanceof InputError && e.where.field === "MEDPOLICY_TIME_ZONE",
  );
  assert.throws(
    () => planFromEnv({ MEDPOLICY_PLAN_PHONE: "<call us>" }),
    (e: unknown) => e instanceof InputError && e.where.field === "MEDPOLICY_PLAN_PHONE",
  );
});

// ---- property ----------------------------------------------------------------------------------------

// Text from an alphabet with every HTML-special character but no digits, so it can neither form a
// date nor spell "Fair Hearing", "UTC" or "not met" by chance.
const txt = fc.string({
  unit: fc.constantFrom("<", ">", "&", '"', "'", "/", " ", "a", "Z", "é", "\n", "{", "}"),
  minLength: 1,
  maxLength: 12,
});
const addressArb = fc.record({
  lines: fc.array(txt, { minLength: 1, maxLength: 4 }),
  city: txt,
  state: fc.constantFrom("NC", "LA", "TX"),
  postalCode: fc.constantFrom("27701", "70112-1234"),
});
const providerArb = fc.record(
  {
    npi: fc.constantFrom("1234567893", "1245319599", "1003000126"),
    name: txt,
    address: addressArb,
    phone: fc.constantFrom("919-555-0101", "(504) 555-0199"),
  },
  { requiredKeys: ["npi"] },
);
const instant = fc
  .integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) })
  .map((t) => new Date(t).toISOString());
const status = fc.constantFrom("met", "not-met", "present", "absent", "section", undefined);
const letterArb = fc.record({
  id: txt,
  expedited: fc.boolean(),
  receivedAt: instant,
  signedAt: instant,
  lob: fc.constantFrom(...LINES_OF_BUSINESS, undefined),
  state: fc.constantFrom("NC", "LA", "TX", "CA"),
  member: fc.record({ id: txt, name: txt, address: addressArb }, { requiredKeys: [] }),
  codes: fc.uniqueArray(fc.constantFrom("62323", "62362", "0775T", "E0782"), { minLength: 1, maxLength: 3 }),
  drug: fc.option(txt, { nil: undefined }),
  diagnoses: fc.array(fc.record({ code: fc.constantFrom("G89.4", "M54.16"), display: txt }), {
    maxLength: 3,
  }),
  providers: fc.record({ requesting: providerArb, servicing: providerArb }, { requiredKeys: [] }),
  outcome: fc.constantFrom("approved", "denied", "not-covered") as fc.Arbitrary<LetterDecision["outcome"]>,
  reason: txt,
  criteria: fc.array(fc.record({ criterion: txt, text: txt, status }), { maxLength: 4 }),
  signer: fc.record({ name: txt, role: fc.constantFrom("medical-director", "reviewer", "engine") }),
  automatic: fc.boolean(),
  plan: fc.record(
    {
      name: txt,
      address: fc.array(txt, { minLength: 1, maxLength: 3 }),
      phone: txt,
      timeZone: fc.constantFrom("America/New_York", "America/Chicago", "UTC", "Asia/Tokyo"),
    },
    { requiredKeys: ["name", "timeZone"] },
  ),
  descriptions: fc.dictionary(fc.constantFrom("62323", "62362", "0775T"), txt),
});

function build(r: typeof letterArb extends fc.Arbitrary<infer T> ? T : never): LetterInput {
  const line = (code: string) => ({
    code,
    outcome: "denied" as const,
    policy,
    basis: "b",
    reasons: [],
    needed: [],
  });
  return {
    request: { id: r.id, receivedAt: r.receivedAt, expedited: r.expedited },
    case: {
      member: { ...r.member, state: r.state, ...(r.lob ? { lineOfBusiness: r.lob } : {}) },
      service: { codes: r.codes, dateOfService: "2026-03-01", ...(r.drug ? { drug: r.drug } : {}) },
      answers: {},
      facts: {},
      diagnoses: r.diagnoses,
      providers: r.providers,
    },
    determination: { ...determination, lines: r.codes.map(line) },
    decision: {
      outcome: r.outcome,
      reason: r.reason,
      criteria: r.criteria.map(({ status: s, ...c }) => (s ? { ...c, status: s } : c)),
      signedBy: r.signer,
      signedAt: r.signedAt,
      automatic: r.automatic,
    },
    plan: r.plan,
    services: r.descriptions,
  };
}

/** The input with every "<" in its strings replaced by "_": same shape, same lengths, no markup. */
function defang<T>(v: T): T {
  return JSON.parse(JSON.stringify(v), (_k, x) => (typeof x === "string" ? x.replaceAll("<", "_") : x)) as T;
}

test("property: no '<' from input reaches the letter; Fair Hearing only for Medicaid; no machine dates", () => {
  fc.assert(
    fc.property(letterArb, (r) => {
      const inp = build(r);
      const html = renderLetter(inp);
      // Markup comes from the template only: replacing every "<" of the input changes no "<" of the output.
      const count = (s: string) => s.split("<").length - 1;
      assert.equal(count(html), count(renderLetter(defang(inp))));
      assert.equal(/Fair Hearing/.test(html), r.lob === "medicaid" && r.outcome !== "approved");
      assert.doesNotMatch(html, /\d{4}-\d{2}-\d{2}T|UTC/);
      if (r.outcome === "approved" && inp.decision.criteria.every((c) => c.status === "met")) {
        assert.doesNotMatch(html, /not met/);
      }
      assert.equal(renderLetter(structuredClone(inp)), html);
    }),
    { numRuns: 300 },
  );
});

test("escapeHtml escapes the five HTML-special characters", () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
});
