/**
 * The determination letter (SPEC 4 "a determination letter with the specific cited reason", issue 14):
 * a pure function from the stored request, the determination it was signed against, the signed
 * decision and the plan's identity to a self-contained HTML page. It is sent by the plan (name, address,
 * phone) to the member (name and address) with copies to the requesting and servicing providers; it
 * names the services with their descriptions and the diagnoses, cites each criterion with the status the
 * server gave it, names the policy id, version and hash, the signer, and for an adverse decision the
 * appeal rights of the member's line of business and state (SPEC 2.4, ./appeal-rights.ts).
 *
 * Dates are written for people ("December 5, 2026") in the plan's time zone; the letter carries no ISO
 * timestamp. Pure and deterministic: no clock, no environment — the same input gives the same bytes, so
 * a previewed letter is byte for byte the signed one and can be re-issued identically later.
 */
import { z } from "zod";
import type { Address, Case, Determination, Provider } from "../model/index.js";
import { InputError } from "../model/index.js";
import { APPEAL_RULES, appealProgram, appealRights } from "./appeal-rights.js";

/** The plan that sends the letter (issue 14: configured by MEDPOLICY_PLAN_* and MEDPOLICY_TIME_ZONE). */
export interface LetterPlan {
  name: string;
  /** Postal address lines, as printed under the name. */
  address?: string[];
  phone?: string;
  /** IANA time zone in which the letter's dates are written (America/New_York). */
  timeZone: string;
}

/** The plan when nothing is configured. */
export const DEFAULT_PLAN: LetterPlan = Object.freeze({
  name: "medpolicy Health Plan",
  timeZone: "America/New_York",
});

/** The signed decision as the letter needs it (structurally the store's `Decision`). */
export interface LetterDecision {
  outcome: "approved" | "denied" | "not-covered";
  reason: string;
  /** The cited criteria with the status the server gave each (met, not-met, present, absent, section). */
  criteria: { criterion: string; text: string; status?: string }[];
  signedBy: { name: string; role: string; sub?: string };
  /** ISO 8601 instant. */
  signedAt: string;
  automatic: boolean;
  /** An override of the engine's recommendation: internal (audit trail), never shown to the member. */
  override?: { from: string; reason: string };
  /**
   * The decision per service, where the codes were decided apart; an adverse one with the ids of the
   * cited criteria it rests on. Absent: `outcome` is every reviewed service's.
   */
  lines?: {
    code: string;
    outcome: LetterDecision["outcome"];
    criteria?: { criterion: string; text: string; status?: string }[];
  }[];
}

export interface LetterInput {
  request: { id: string; receivedAt: string; expedited: boolean };
  /** The case as decided (validated). */
  case: Case;
  /** The determination the decision was signed against. */
  determination: Determination;
  decision: LetterDecision;
  plan: LetterPlan;
  /** Service code → its description (from the policies' coding tables). */
  services?: Record<string, string>;
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

/** Whether `tz` is a time zone `Intl.DateTimeFormat` accepts (an IANA name such as America/Chicago). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const planEnvSchema = z.object({
  MEDPOLICY_PLAN_NAME: z.string().trim().min(1).max(200).optional(),
  MEDPOLICY_PLAN_ADDRESS: z.string().max(1000).optional(),
  MEDPOLICY_PLAN_PHONE: z
    .string()
    .trim()
    .regex(/^[0-9A-Za-z+() .-]{7,40}$/, { error: "must be a telephone number" })
    .optional(),
  MEDPOLICY_TIME_ZONE: z
    .string()
    .trim()
    .refine(isTimeZone, { error: "must be an IANA time zone (America/New_York)" })
    .optional(),
});

/**
 * The letter's plan from configuration (issue 14): MEDPOLICY_PLAN_NAME, MEDPOLICY_PLAN_ADDRESS (lines
 * separated by `|` or new lines), MEDPOLICY_PLAN_PHONE, MEDPOLICY_TIME_ZONE; unset or empty values take
 * {@link DEFAULT_PLAN}'s. Takes the environment as an argument (call it at startup with `process.env`);
 * a malformed value throws an {@link InputError} naming the variable, so a bad time zone stops the
 * service instead of dating letters wrongly.
 */
export function planFromEnv(env: Record<string, string | undefined>): LetterPlan {
  const pick = (k: string) => (env[k]?.trim() ? env[k] : undefined);
  const parsed = planEnvSchema.safeParse({
    MEDPOLICY_PLAN_NAME: pick("MEDPOLICY_PLAN_NAME"),
    MEDPOLICY_PLAN_ADDRESS: pick("MEDPOLICY_PLAN_ADDRESS"),
    MEDPOLICY_PLAN_PHONE: pick("MEDPOLICY_PLAN_PHONE"),
    MEDPOLICY_TIME_ZONE: pick("MEDPOLICY_TIME_ZONE"),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0]);
    throw new InputError(`${field} ${issue.message}`, { field });
  }
  const e = parsed.data;
  const address = e.MEDPOLICY_PLAN_ADDRESS?.split(/[|\n]/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (address && address.length > 6) {
    throw new InputError("MEDPOLICY_PLAN_ADDRESS has more than 6 lines", { field: "MEDPOLICY_PLAN_ADDRESS" });
  }
  return {
    name: e.MEDPOLICY_PLAN_NAME ?? DEFAULT_PLAN.name,
    ...(address && address.length > 0 ? { address } : {}),
    ...(e.MEDPOLICY_PLAN_PHONE ? { phone: e.MEDPOLICY_PLAN_PHONE } : {}),
    timeZone: e.MEDPOLICY_TIME_ZONE ?? DEFAULT_PLAN.timeZone,
  };
}

// ---- dates ------------------------------------------------------------------------------------------

// Formatters are costly to build; one per time zone. Caching does not affect the output (still pure).
const dateFormatters = new Map<string, Intl.DateTimeFormat>();
function dateFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = dateFormatters.get(timeZone);
  if (!f) {
    // en-US and the Gregorian calendar explicitly: the process's default locale must not change bytes.
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      calendar: "gregory",
      year: "numeric",
      month: "long",
      day: "numeric",
    });
    dateFormatters.set(timeZone, f);
  }
  return f;
}

/** An instant (ISO 8601) as the calendar date in the plan's time zone: "December 5, 2026". */
function instantDate(iso: string, timeZone: string): string {
  const t = Date.parse(iso);
  // Not an instant: print it as given rather than invent a date (the store always writes ISO instants).
  return Number.isNaN(t) ? iso : dateFormatter(timeZone).format(t);
}

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar date (YYYY-MM-DD, no time zone: a date of service) as "March 1, 2026", unshifted. */
function calendarDate(d: string): string {
  const m = CALENDAR_DATE.exec(d);
  if (!m) return d;
  return dateFormatter("UTC").format(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
}

// ---- blocks -----------------------------------------------------------------------------------------

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

/** What each status the server gives a cited criterion means in words (issue 14 contract, `Cite`). */
const FINDING: Record<string, string> = {
  "not-met": "not met",
  present: "present (contraindication)",
  met: "met",
  absent: "not present",
  section: "the policy section this decision rests on",
  rule: "the coverage rule for this code",
};

function lookup(table: Record<string, string>, key: string | undefined): string | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

function lines(parts: string[]): string {
  return parts.map(escapeHtml).join("<br>");
}

function addressLines(a: Address): string[] {
  return [...a.lines, `${a.city}, ${a.state} ${a.postalCode}`];
}

function planHeader(plan: LetterPlan): string {
  const parts = [`<strong>${escapeHtml(plan.name)}</strong>`];
  if (plan.address?.length) parts.push(lines(plan.address));
  if (plan.phone) parts.push(`Telephone ${escapeHtml(plan.phone)}`);
  return `<p class="plan">${parts.join("<br>")}</p>`;
}

function recipientBlock(c: Case): string {
  const first = c.member.name ?? (c.member.id ? `Member ID ${c.member.id}` : "Member");
  const parts = [first, ...(c.member.address ? addressLines(c.member.address) : [])];
  return `<address class="recipient">${lines(parts)}</address>`;
}

function providerLines(p: Provider): string[] {
  return [
    p.name ? `${p.name}, NPI ${p.npi}` : `NPI ${p.npi}`,
    ...(p.address ? addressLines(p.address) : []),
    ...(p.phone ? [`Telephone ${p.phone}`] : []),
  ];
}

function copiesBlock(c: Case): string {
  const req = c.providers?.requesting;
  const svc = c.providers?.servicing;
  const copies: string[] = [];
  if (req) copies.push(`<p><em>Requesting provider</em><br>${lines(providerLines(req))}</p>`);
  // The same provider twice is one copy.
  if (svc && svc.npi !== req?.npi) {
    copies.push(`<p><em>Servicing provider</em><br>${lines(providerLines(svc))}</p>`);
  }
  return copies.length ? `<section class="copies"><h2>Copies sent to</h2>${copies.join("")}</section>` : "";
}

function servicesBlock(input: LetterInput): string {
  const c = input.case;
  const det = input.determination;
  const multi = c.service.codes.length > 1;
  const decided = input.decision.lines;
  const rows = c.service.codes.map((code) => {
    const desc = input.services && Object.hasOwn(input.services, code) ? input.services[code]! : "—";
    let review = "";
    if (multi) {
      // Per code, the policy that governed it; where the reviewer decided the codes apart, each
      // code's own decision and the criteria it rests on (never the engine's per-line outcome, which
      // the signed decision may differ from).
      const line = det.lines.find((l) => l.code === code);
      const p = line?.policy;
      const text =
        !line || line.outcome === "not-applicable" || !p
          ? "no policy criteria apply to this code"
          : `${p.id}${p.section ? `, section ${p.section}` : ""}`;
      review = `<td>${escapeHtml(text)}</td>`;
      if (decided) {
        const d = decided.find((l) => l.code === code);
        const cell = d
          ? `<strong data-outcome="${escapeHtml(d.outcome)}">${escapeHtml(OUTCOME_TITLE[d.outcome])}</strong>${
              d.criteria?.length
                ? `<br>Criteria: ${d.criteria.map((c) => escapeHtml(c.criterion)).join(", ")}`
                : ""
            }`
          : "No decision: no prior authorization is required";
        review += `<td class="line-decision">${cell}</td>`;
      }
    }
    return `<tr><td class="id">${escapeHtml(code)}</td><td>${escapeHtml(desc)}</td>${review}</tr>`;
  });
  const head = `<tr><th>Code</th><th>Service</th>${multi ? "<th>Policy applied</th>" : ""}${
    multi && decided ? "<th>Decision</th>" : ""
  }</tr>`;
  const facts = [
    ...(c.service.drug ? [`<li>Drug: ${escapeHtml(c.service.drug)}</li>`] : []),
    `<li>Date of service: ${escapeHtml(calendarDate(c.service.dateOfService))}</li>`,
  ];
  const dx = c.diagnoses?.length
    ? `<h3>Diagnoses</h3><ul class="diagnoses">${c.diagnoses
        .map(
          (d) =>
            `<li><span class="id">${escapeHtml(d.code)}</span>${d.display ? ` ${escapeHtml(d.display)}` : ""}</li>`,
        )
        .join("")}</ul>`
    : "";
  return (
    `<h2>Services requested</h2><table class="services"><thead>${head}</thead><tbody>${rows.join("")}</tbody></table>` +
    `<ul class="service">${facts.join("")}</ul>${dx}`
  );
}

/**
 * Where the services were decided apart and not alike: which were approved, so the heading's adverse
 * outcome is not read as every service's (CMS-0057-F: the decision on each item).
 */
function inPart(decision: LetterDecision): string {
  const lines = decision.lines ?? [];
  const approved = lines.filter((l) => l.outcome === "approved").map((l) => l.code);
  if (approved.length === 0 || approved.length === lines.length) return "";
  const list = approved.map(escapeHtml).join(", ");
  return ` <span class="in-part">for some services: ${list} ${approved.length === 1 ? "is" : "are"} approved (see each service below)</span>`;
}

function criteriaBlock(decision: LetterDecision): string {
  const adverse = (decision.lines ?? []).filter((l) => l.outcome !== "approved" && l.criteria?.length);
  if (adverse.length > 0) {
    // Decided code by code: each service's criteria with the text of its own policy (ids repeat
    // across policies), so no reason is stated for a service it does not concern.
    const rows = adverse.flatMap((l) =>
      l.criteria!.map(
        (c) =>
          `<tr><td class="id">${escapeHtml(l.code)}</td><td class="id">${escapeHtml(c.criterion)}</td><td>${escapeHtml(c.text)}</td><td>${escapeHtml(lookup(FINDING, c.status) ?? "—")}</td></tr>`,
      ),
    );
    return (
      `<h2>Why: the policy criteria not met</h2><table class="criteria"><thead><tr><th>Service</th><th>Criterion</th><th>Policy text</th><th>Finding</th></tr></thead>` +
      `<tbody>${rows.join("")}</tbody></table>`
    );
  }
  const approved = decision.outcome === "approved";
  const heading = approved ? "Criteria met" : "Why: the policy criteria not met";
  if (decision.criteria.length === 0) {
    // An automatic approval exists only when every criterion of the governing section was met (SPEC 2.4).
    return approved && decision.automatic
      ? `<h2>${heading}</h2><p>Every criterion of the governing policy section was met.</p>`
      : "";
  }
  const rows = decision.criteria.map((c) => {
    // A status the letter does not know is not guessed (issue 14: an approval showed "not met").
    const finding = lookup(FINDING, c.status) ?? "—";
    return `<tr><td class="id">${escapeHtml(c.criterion)}</td><td>${escapeHtml(c.text)}</td><td>${escapeHtml(finding)}</td></tr>`;
  });
  return (
    `<h2>${heading}</h2><table class="criteria"><thead><tr><th>Criterion</th><th>Policy text</th><th>Finding</th></tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table>`
  );
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

function signatureBlock(input: LetterInput): string {
  const { decision, determination, plan } = input;
  const on = escapeHtml(instantDate(decision.signedAt, plan.timeZone));
  // decision.override is internal (the audit trail's); the member's letter states the decision only.
  return decision.automatic
    ? `Issued automatically on ${on}: every criterion of the policy was met (engine ${escapeHtml(determination.engine)}).`
    : `Signed by ${escapeHtml(decision.signedBy.name)}, ${escapeHtml(lookup(ROLE_TITLE, decision.signedBy.role) ?? decision.signedBy.role)}, on ${on}.`;
}

function appealBlock(input: LetterInput): string {
  if (input.decision.outcome === "approved") return "";
  const rights = appealRights({
    plan: input.plan.name,
    ...(input.plan.phone ? { phone: input.plan.phone } : {}),
    hasAddress: (input.plan.address?.length ?? 0) > 0,
    reference: input.request.id,
    state: input.case.member.state,
    ...(input.case.member.lineOfBusiness ? { lineOfBusiness: input.case.member.lineOfBusiness } : {}),
  });
  const paras = rights.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`);
  const expedited = input.request.expedited ? "<p>This request was reviewed as expedited.</p>" : "";
  return `<section class="appeal"><h2>${escapeHtml(rights.heading)}</h2>${paras.join("\n")}${expedited}</section>`;
}

/**
 * Renders the determination letter as HTML (SPEC 2.4, 4; issue 14). Pure and deterministic: no clock,
 * no environment; dates in `input.plan.timeZone` (throws a RangeError when it is not a time zone:
 * validate configuration with {@link planFromEnv}). Every dynamic value is HTML-escaped.
 */
export function renderLetter(input: LetterInput): string {
  const { request, decision, determination, plan } = input;
  const c = input.case;
  const title = `Prior authorization determination ${request.id}`;
  const coverage = APPEAL_RULES[appealProgram(c.member.lineOfBusiness)].coverage;
  const reference = [
    `Reference: <strong>${escapeHtml(request.id)}</strong>`,
    ...(c.member.id ? [`Member ID: ${escapeHtml(c.member.id)}`] : []),
    ...(coverage ? [`Coverage: ${escapeHtml(coverage)}`] : []),
    `Received: ${escapeHtml(instantDate(request.receivedAt, plan.timeZone))}`,
    request.expedited ? "Expedited review" : "Standard review",
  ];
  const referral = determination.referral
    ? `<p class="referral">See also ${escapeHtml(determination.referral.target)} ${escapeHtml(determination.referral.title)}.</p>`
    : "";
  const reason = escapeHtml(decision.reason).replace(/\r?\n/g, "<br>");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:Georgia,serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.45;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}
address{font-style:normal;margin:1rem 0}.id{white-space:nowrap;font-family:monospace}.hash{color:#555;font-size:.85em}.decision{font-size:1.2em}</style></head>
<body>
<header>${planHeader(plan)}
<p class="date">${escapeHtml(instantDate(decision.signedAt, plan.timeZone))}</p>
${recipientBlock(c)}
<p class="reference">${reference.join("<br>")}</p></header>
<h1>${escapeHtml(title)}</h1>
<p>Dear ${escapeHtml(c.member.name ?? "Member")},</p>
<p>${escapeHtml(plan.name)} has reviewed the request for prior authorization of the services below.</p>
<p class="decision">Decision: <strong data-outcome="${escapeHtml(decision.outcome)}">${escapeHtml(OUTCOME_TITLE[decision.outcome])}</strong>${inPart(decision)}</p>
${servicesBlock(input)}
<h2>Reason</h2><p class="reason">${reason}</p>
${criteriaBlock(decision)}
<h2>Policy applied</h2>${policyBlock(determination)}${referral}
<p class="signer">${signatureBlock(input)}</p>
${appealBlock(input)}
${copiesBlock(c)}
</body></html>
`;
}
