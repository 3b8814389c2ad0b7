/** Appeal rights by line of business and state (issue 14, SPEC 2.4): the table and its resolution. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LINES_OF_BUSINESS } from "../model/index.js";
import {
  APPEAL_RULES,
  type AppealContext,
  appealProgram,
  appealRights,
  COMMON_PARAGRAPHS,
  STATE_CONTACTS,
} from "./appeal-rights.js";

const base: AppealContext = {
  plan: "Acme Health",
  phone: "1-800-555-0100",
  hasAddress: true,
  reference: "req-9",
  state: "TX",
};
const PROGRAMS = [...LINES_OF_BUSINESS, undefined] as const;
const STATES = ["NC", "LA", "TX", "PR"];

function text(ctx: Partial<AppealContext>): string {
  return appealRights({ ...base, ...ctx }).paragraphs.join("\n");
}

test("the table holds each program's periods and next level", () => {
  assert.equal(APPEAL_RULES.medicaid.appealDays, 60);
  assert.equal(APPEAL_RULES.medicaid.hearingDays, 120);
  assert.equal(APPEAL_RULES.medicaid.nextLevel, "state-fair-hearing");
  assert.equal(APPEAL_RULES.medicare.appealDays, 65);
  assert.equal(APPEAL_RULES.medicare.nextLevel, "independent-review-entity");
  assert.equal(APPEAL_RULES.commercial.appealDays, 180);
  assert.equal(APPEAL_RULES.commercial.nextLevel, "external-review");
  assert.equal(APPEAL_RULES.marketplace.appealDays, 180);
  assert.equal(APPEAL_RULES.unknown.nextLevel, "unspecified");
  for (const rule of Object.values(APPEAL_RULES)) assert.equal(rule.expeditedHours, 72);
});

test("every program and state resolves: no placeholder is left, the numbers are printed", () => {
  for (const lob of PROGRAMS) {
    for (const state of STATES) {
      const r = appealRights({ ...base, state, ...(lob ? { lineOfBusiness: lob } : {}) });
      const all = r.paragraphs.join("\n");
      assert.doesNotMatch(all, /[{}]/, `${lob}/${state}`);
      assert.ok(all.includes(`within ${r.rule.appealDays} calendar days`), `${lob}/${state}`);
      assert.ok(all.includes(`within ${r.rule.expeditedHours} hours`), `${lob}/${state}`);
      assert.ok(all.includes("reference number req-9"));
      // The common paragraphs close every program's.
      assert.equal(r.paragraphs.length, r.rule.paragraphs.length + COMMON_PARAGRAPHS.length);
    }
  }
});

test("State Fair Hearing only for Medicaid; the IRE only for Medicare; external review only under the ACA", () => {
  for (const lob of PROGRAMS) {
    const all = text(lob ? { lineOfBusiness: lob } : {});
    assert.equal(/Fair Hearing/i.test(all), lob === "medicaid", String(lob));
    assert.equal(/Independent Review Entity/.test(all), lob === "medicare", String(lob));
    assert.equal(/45 CFR 147\.136/.test(all), lob === "commercial" || lob === "marketplace", String(lob));
  }
});

test("Medicaid: fair hearing within 120 days after the plan's appeal, the state's agency, no continuation of benefits", () => {
  const nc = text({ lineOfBusiness: "medicaid", state: "NC" });
  assert.match(nc, /State Fair Hearing/);
  assert.match(nc, /within 120 calendar days of the date of Acme Health's appeal decision/);
  assert.ok(nc.includes("NC Medicaid (Division of Health Benefits)"));
  assert.ok(nc.includes("NC Office of Administrative Hearings"));
  assert.doesNotMatch(nc, /continu/i);
  assert.ok(text({ lineOfBusiness: "medicaid", state: "LA" }).includes("Louisiana Department of Health"));
  const tx = text({ lineOfBusiness: "medicaid", state: "TX" });
  assert.ok(tx.includes("your state Medicaid agency"));
  assert.doesNotMatch(tx, /NC Medicaid|Louisiana/);
});

test("Medicare Advantage: reconsideration in 65 days, automatic forwarding to the IRE, Medicare's number", () => {
  const m = text({ lineOfBusiness: "medicare" });
  assert.match(m, /reconsider/);
  assert.match(m, /within 65 calendar days/);
  assert.match(m, /automatically send your case to the Independent Review Entity/);
  assert.match(m, /1-800-MEDICARE/);
  assert.doesNotMatch(m, /Medicaid/);
});

test("commercial and Marketplace: internal appeal in 180 days, external review, the insurance department", () => {
  const c = text({ lineOfBusiness: "commercial", state: "NC" });
  assert.match(c, /internal appeal/);
  assert.match(c, /independent review organization/);
  assert.match(c, /within four months/);
  assert.ok(c.includes("North Carolina Department of Insurance"));
  assert.match(c, /ERISA/);
  const m = text({ lineOfBusiness: "marketplace", state: "TX" });
  assert.ok(m.includes("your state's department of insurance"));
  assert.doesNotMatch(m, /ERISA/, "Marketplace plans are not employer plans");
});

test("an unknown line of business names no program", () => {
  const u = text({});
  assert.doesNotMatch(u, /Medicaid|Medicare|Fair Hearing|Marketplace|ERISA|Affordable Care Act/);
  assert.match(u, /may appeal this decision/);
  assert.equal(appealProgram("bogus"), "unknown");
  assert.equal(appealProgram("constructor"), "unknown", "no prototype keys");
  assert.equal(appealProgram(undefined), "unknown");
});

test("every adverse letter keeps peer-to-peer, the free copy and an uninvolved reviewer", () => {
  for (const lob of PROGRAMS) {
    const all = text(lob ? { lineOfBusiness: lob } : {});
    assert.match(all, /peer-to-peer/);
    assert.match(all, /free of charge, for a copy of the clinical policy/);
    assert.match(all, /did not take part in this decision/);
  }
});

test("how to reach the plan: the phone when known, else the address, else nothing invented", () => {
  assert.match(text({}), /contact Acme Health at 1-800-555-0100\./);
  const { phone: _, ...noPhone } = base;
  assert.match(
    appealRights(noPhone).paragraphs.join("\n"),
    /contact Acme Health at the address at the top of this letter\./,
  );
  const bare = appealRights({ ...noPhone, hasAddress: false }).paragraphs.join("\n");
  assert.match(bare, /contact Acme Health\./);
  assert.doesNotMatch(bare, / at \./);
});

test("a value with braces is not expanded again", () => {
  const r = appealRights({ ...base, plan: "{agency} Plan", lineOfBusiness: "medicaid" });
  assert.ok(r.paragraphs[0]!.includes("{agency} Plan"));
});

test("the state table keys are USPS codes", () => {
  for (const k of Object.keys(STATE_CONTACTS)) assert.match(k, /^[A-Z]{2}$/);
});
