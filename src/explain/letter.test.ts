/** The determination letter (SPEC 2.4, 4): a pure function citing criteria, policy, signer, appeal rights. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Determination } from "../model/index.js";
import { escapeHtml, type LetterInput, renderLetter } from "./letter.js";

const policy = {
  id: "CP.MP.173",
  version: "2025-11",
  hash: "0123456789abcdef0123456789abcdef",
  title: "Implantable Intrathecal or Epidural Pain Pump",
  section: "I",
};
const determination: Determination = {
  outcome: "denied",
  policy,
  reasons: [
    {
      criterion: "I.A.2.g",
      text: "Prior to the trial, systemic opioids have been weaned by at least 50%",
      status: "not-met",
    },
  ],
  needed: [],
  lines: [{ code: "62323", outcome: "denied", policy, basis: "section I not met", reasons: [], needed: [] }],
  engine: "medpolicy-engine/0.1.0",
};
const input: LetterInput = {
  request: { id: "req-1", receivedAt: "2026-03-01T10:00:00.000Z", expedited: false },
  case: {
    member: { state: "TX", birthDate: "1960-05-01", lineOfBusiness: "medicaid", id: "M-1" },
    service: { codes: ["62323"], dateOfService: "2026-03-01" },
    answers: {},
    facts: {},
  },
  determination,
  decision: {
    outcome: "denied",
    reason: "Systemic opioids were not weaned by 50% before the trial.",
    criteria: [{ criterion: "I.A.2.g", text: determination.reasons[0]!.text, status: "not-met" }],
    signedBy: { sub: "rn-chen", name: "Casey Chen, RN", role: "reviewer" },
    signedAt: "2026-03-02T09:30:00.000Z",
    automatic: false,
  },
};

test("a denial letter cites each criterion, the policy version, the signer and appeal rights", () => {
  const html = renderLetter(input);
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /I\.A\.2\.g/);
  assert.ok(html.includes(escapeHtml(determination.reasons[0]!.text)));
  assert.match(html, /CP\.MP\.173/);
  assert.match(html, /version 2025-11/);
  assert.match(html, /section I/);
  assert.match(html, /Casey Chen, RN/);
  assert.match(html, /Utilization Management Reviewer/);
  assert.match(html, /2026-03-02T09:30:00.000Z/);
  assert.match(html, /right to appeal/i);
  assert.match(html, /expedited appeal/);
  assert.match(html, /req-1/);
});

test("pure: the same input gives the same bytes", () => {
  assert.equal(renderLetter(input), renderLetter(structuredClone(input)));
});

test("an automatic approval names the engine and carries no appeal section", () => {
  const html = renderLetter({
    ...input,
    determination: { ...determination, outcome: "approved", reasons: [] },
    decision: {
      outcome: "approved",
      reason: "Every criterion is met.",
      criteria: [],
      signedBy: { name: "medpolicy automatic approval", role: "engine" },
      signedAt: "2026-03-01T10:00:00.000Z",
      automatic: true,
    },
  });
  assert.match(html, /Approved/);
  assert.match(html, /Issued automatically/);
  assert.match(html, /medpolicy-engine\/0\.1\.0/);
  assert.doesNotMatch(html, /right to appeal/i);
});

test("every dynamic value is escaped", () => {
  const evil = `<script>alert("x")</script>`;
  const html = renderLetter({
    ...input,
    request: { ...input.request, id: evil },
    decision: {
      ...input.decision,
      reason: evil,
      criteria: [{ criterion: evil, text: evil }],
      signedBy: { name: evil, role: evil },
    },
  });
  assert.doesNotMatch(html, /<script>/);
  assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
});

test("a multi-code request lists each code's review outcome", () => {
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
  assert.match(html, /<td>62369<\/td><td>not applicable<\/td>/);
});
