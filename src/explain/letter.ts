/**
 * The determination letter (SPEC 4 "a determination letter with the specific cited reason"): a pure
 * function from the stored request, the determination it was signed against and the signed decision to
 * a self-contained HTML page. It cites each criterion by id and text, names the policy id, version and
 * hash, the signer and time, and states the appeal rights for an adverse decision (SPEC 2.4).
 */
import type { Case, Determination, Line, Outcome } from "../model/index.js";

/** The signed decision as the letter needs it (structurally the store's `Decision`). */
export interface LetterDecision {
  outcome: "approved" | "denied" | "not-covered";
  reason: string;
  criteria: { criterion: string; text: string; status?: string }[];
  signedBy: { name: string; role: string; sub?: string };
  signedAt: string;
  automatic: boolean;
}

export interface LetterInput {
  request: { id: string; receivedAt: string; expedited: boolean };
  /** The case as decided (validated). */
  case: Case;
  /** The determination the decision was signed against. */
  determination: Determination;
  decision: LetterDecision;
  /** Who sends the letter; defaults to a generic utilization-management department. */
  sender?: string;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML: every dynamic value in the letter goes through this. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const OUTCOME_TITLE: Record<LetterDecision["outcome"], string> = {
  approved: "Approved",
  denied: "Denied — not medically necessary",
  "not-covered": "Not covered",
};

const ROLE_TITLE: Record<string, string> = {
  "medical-director": "Medical Director",
  reviewer: "Utilization Management Reviewer",
  engine: "Automated determination",
};

const LINE_OUTCOME: Record<Outcome, string> = {
  approved: "approved",
  denied: "denied",
  "not-covered": "not covered",
  review: "medical-director review",
  pended: "pended",
  "not-applicable": "not applicable",
};

function dateOnly(iso: string): string {
  return iso.slice(0, 10);
}

function policyBlock(d: Determination): string {
  // A multi-code request may be decided under more than one policy: name each once.
  const seen = new Map<string, NonNullable<Determination["policy"]>>();
  for (const p of [d.policy, ...d.lines.map((l) => l.policy)]) {
    if (p) seen.set(`${p.id}@${p.version}#${p.section ?? ""}`, p);
  }
  if (seen.size === 0) return "<p>No clinical policy governed this request.</p>";
  const rows = [...seen.values()].map(
    (p) =>
      `<li><strong>${escapeHtml(p.id)}</strong> ${escapeHtml(p.title)}, version ${escapeHtml(p.version)}` +
      `${p.section ? `, section ${escapeHtml(p.section)}` : ""} <span class="hash">(content hash ${escapeHtml(p.hash.slice(0, 16))})</span></li>`,
  );
  return `<ul class="policies">${rows.join("")}</ul>`;
}

function linesBlock(lines: Line[], final: LetterDecision["outcome"]): string {
  if (lines.length <= 1) return "";
  // The signed decision covers the whole request; the per-code engine outcomes are shown for context.
  const rows = lines.map(
    (l) =>
      `<tr><td>${escapeHtml(l.code)}</td><td>${escapeHtml(LINE_OUTCOME[l.outcome] ?? l.outcome)}</td></tr>`,
  );
  return (
    `<h2>Services requested</h2><p>Decision for the request as a whole: ${escapeHtml(OUTCOME_TITLE[final])}.</p>` +
    `<table><thead><tr><th>Code</th><th>Criteria review</th></tr></thead><tbody>${rows.join("")}</tbody></table>`
  );
}

function criteriaBlock(decision: LetterDecision): string {
  if (decision.criteria.length === 0) return "";
  const rows = decision.criteria.map((c) => {
    const st = c.status === "present" ? "present (contraindication)" : c.status === "met" ? "met" : "not met";
    return `<tr><td class="id">${escapeHtml(c.criterion)}</td><td>${escapeHtml(c.text)}</td><td>${escapeHtml(st)}</td></tr>`;
  });
  const heading = decision.outcome === "approved" ? "Criteria cited" : "Criteria not met";
  return (
    `<h2>${heading}</h2><table class="criteria"><thead><tr><th>Criterion</th><th>Policy text</th><th>Finding</th></tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table>`
  );
}

function appealBlock(decision: LetterDecision, expedited: boolean): string {
  if (decision.outcome === "approved") return "";
  return `<h2>Your right to appeal</h2>
<p>You, or your provider acting for you with your consent, may appeal this decision. Send your appeal
within 60 calendar days of the date of this letter. Include this letter's reference number and any
information that supports the request. A physician who did not take part in this decision will review it.</p>
<p>If waiting for a standard appeal could seriously jeopardize your life, health or ability to regain
maximum function, you may ask for an <strong>expedited appeal</strong>; we will decide it within 72 hours.${
    expedited ? " This request was handled as expedited." : ""
  }</p>
<p>Your provider may ask to discuss this decision with the reviewer (peer-to-peer review). You may ask,
free of charge, for a copy of the policy and of every document used to make this decision. You may also
have the right to an external review by an independent organization and, for Medicaid, to a State Fair
Hearing after the plan's appeal.</p>`;
}

/**
 * Renders the determination letter as HTML (SPEC 2.4, 4). Pure: the same stored input gives the same
 * bytes, so a letter can be re-issued identically later.
 */
export function renderLetter(input: LetterInput): string {
  const { request, decision, determination } = input;
  const c = input.case;
  const sender = input.sender ?? "Utilization Management";
  const title = `Prior authorization determination ${request.id}`;
  const signer = decision.automatic
    ? `Issued automatically: every criterion of the policy was met (engine ${escapeHtml(determination.engine)}).`
    : `Signed by ${escapeHtml(decision.signedBy.name)}, ${escapeHtml(ROLE_TITLE[decision.signedBy.role] ?? decision.signedBy.role)}, on ${escapeHtml(decision.signedAt)}.`;
  const member = [
    c.member.id ? `Member ID ${escapeHtml(c.member.id)}` : undefined,
    `state ${escapeHtml(c.member.state)}`,
    c.member.lineOfBusiness ? escapeHtml(c.member.lineOfBusiness) : undefined,
  ]
    .filter((x) => x !== undefined)
    .join(", ");
  const referral = determination.referral
    ? `<p class="referral">See also ${escapeHtml(determination.referral.target)} ${escapeHtml(determination.referral.title)}.</p>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:Georgia,serif;max-width:46rem;margin:2rem auto;line-height:1.45}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.id{white-space:nowrap;font-family:monospace}.hash{color:#555;font-size:.85em}.decision{font-size:1.2em}</style></head>
<body>
<header><p>${escapeHtml(sender)}</p><p>Date: ${escapeHtml(dateOnly(decision.signedAt))}</p>
<p>Reference: <strong>${escapeHtml(request.id)}</strong> · received ${escapeHtml(request.receivedAt)} · ${request.expedited ? "expedited" : "standard"} review</p></header>
<h1>${escapeHtml(title)}</h1>
<p>Member: ${member}. Service: ${c.service.codes.map(escapeHtml).join(", ")}${c.service.drug ? ` (${escapeHtml(c.service.drug)})` : ""}, date of service ${escapeHtml(c.service.dateOfService)}.</p>
<p class="decision">Decision: <strong data-outcome="${escapeHtml(decision.outcome)}">${escapeHtml(OUTCOME_TITLE[decision.outcome])}</strong></p>
<h2>Reason</h2><p class="reason">${escapeHtml(decision.reason)}</p>
${criteriaBlock(decision)}
<h2>Policy applied</h2>${policyBlock(determination)}${referral}
${linesBlock(determination.lines, decision.outcome)}
<p class="signer">${signer}</p>
${appealBlock(decision, request.expedited)}
</body></html>
`;
}
