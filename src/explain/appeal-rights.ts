/**
 * Appeal rights for an adverse determination letter, by line of business and state (SPEC 2.4, issue 14:
 * "its language follows the line of business and state (Medicaid fair hearing, Medicare Advantage,
 * commercial external review)"). The rules are DATA — one row per program, one row per state's contacts —
 * so that the letter renderer holds no program logic and a reviewer of this file can check each row
 * against its regulation:
 *
 * - Medicaid managed care: appeal to the plan within 60 days (42 CFR 438.402(c)(2)(ii)); expedited
 *   appeals decided within 72 hours (438.408(b)(3)); after the plan's appeal decision (or when the plan
 *   misses its deadline, 438.408(c)(3)) a State Fair Hearing within 120 days (438.408(f)(2)).
 * - Medicare Advantage: reconsideration within 65 days (42 CFR 422.582(b)); expedited within 72 hours
 *   (422.590(e)); an upheld adverse decision goes automatically to the Independent Review Entity
 *   (422.592).
 * - Commercial and Marketplace coverage: internal appeal within 180 days (45 CFR 147.136(b), 29 CFR
 *   2560.503-1(h)(3)(i)); expedited within 72 hours; external review by an independent review
 *   organization (45 CFR 147.136(c)–(d)), generally requested within four months.
 * - Unknown line of business: generic language that names no program the member may not be in.
 *
 * Every string here is plain text: the renderer HTML-escapes the resolved paragraphs.
 */
import type { LINES_OF_BUSINESS } from "../model/case.js";

export type LineOfBusiness = (typeof LINES_OF_BUSINESS)[number];

/** The programs the table knows; `unknown` when the case names no line of business. */
export type AppealProgram = LineOfBusiness | "unknown";

/** What follows the plan's own appeal, as the program's rules have it. */
export type NextLevel =
  /** Medicaid: the member asks the state for a State Fair Hearing. */
  | "state-fair-hearing"
  /** Medicare Advantage: the plan forwards an upheld decision to the Independent Review Entity itself. */
  | "independent-review-entity"
  /** ACA: the member may ask for external review by an independent review organization. */
  | "external-review"
  /** Unknown program: a further review may exist; the appeal decision says which. */
  | "unspecified";

/**
 * One program's appeal rules. `paragraphs` are templates whose `{name}` placeholders are filled by
 * {@link appealRights}: plan, contactAt, agency, hearingHow, insuranceDepartment, appealDays,
 * expeditedHours, hearingDays, externalReviewMonths.
 */
export interface AppealRule {
  /** How the letter names the member's coverage; absent when the program is not known. */
  coverage?: string;
  heading: string;
  /** Calendar days the member has to ask for the plan's (first-level) appeal. */
  appealDays: number;
  /** Hours within which an expedited appeal is decided. */
  expeditedHours: number;
  nextLevel: NextLevel;
  /** Medicaid: calendar days from the plan's appeal decision to ask for a State Fair Hearing. */
  hearingDays?: number;
  /** ACA: months after the final internal appeal decision to ask for external review (generally). */
  externalReviewMonths?: number;
  /** The regulations the row follows (documentation and tests; not printed). */
  authority: readonly string[];
  paragraphs: readonly string[];
}

const EXPEDITED_MEDICAL =
  "If waiting for a standard appeal could seriously jeopardize your life, physical or mental health, or " +
  "ability to attain, maintain or regain maximum function, you or your provider may ask for an expedited " +
  "(fast) appeal; {plan} will decide it within {expeditedHours} hours.";

/** Internal appeal and external review under the Affordable Care Act (commercial and Marketplace plans). */
const ACA_PARAGRAPHS: readonly string[] = [
  "You, or someone you authorize to act for you (such as your provider), may ask {plan} for an " +
    "internal appeal of this decision. Ask within {appealDays} calendar days of the date you receive " +
    "this letter: contact {plan}{contactAt}.",
  "If waiting for a standard appeal could seriously jeopardize your life, health or ability to regain " +
    "maximum function, you or your provider may ask for an expedited (urgent) internal appeal; {plan} " +
    "will decide it within {expeditedHours} hours. In an urgent situation you may ask for an expedited " +
    "external review at the same time.",
  "If {plan} upholds this decision after the internal appeal, and the decision involves medical " +
    "judgment (such as medical necessity, or whether a treatment is experimental or investigational), " +
    "you have the right to an external review by an independent review organization that is not part " +
    "of {plan} (Affordable Care Act, 45 CFR 147.136). Ask generally within {externalReviewMonths} " +
    "months of the date of the final internal appeal decision. The independent review organization's " +
    "decision is binding on {plan}.",
  "For help with an appeal or an external review, you may also contact {insuranceDepartment}.",
];

/** The appeal rules per program (see the module comment for the sources of each number). */
export const APPEAL_RULES: Readonly<Record<AppealProgram, AppealRule>> = {
  medicaid: {
    coverage: "Medicaid",
    heading: "Your right to appeal",
    appealDays: 60,
    expeditedHours: 72,
    nextLevel: "state-fair-hearing",
    hearingDays: 120,
    authority: ["42 CFR 438.402", "42 CFR 438.408", "42 CFR 438.410"],
    // No continuation-of-benefits sentence (42 CFR 438.420): it concerns the termination, suspension or
    // reduction of a service already authorized, and every letter here answers a new request.
    paragraphs: [
      "You, or someone you choose to act for you (such as your provider, with your written consent), may " +
        "appeal this decision to {plan}. Ask for an appeal within {appealDays} calendar days of the date of " +
        "this letter, by phone or in writing: contact {plan}{contactAt}.",
      EXPEDITED_MEDICAL,
      "If {plan} upholds this decision after your appeal, or does not decide your appeal in time, you may " +
        "ask for a State Fair Hearing. Ask within {hearingDays} calendar days of the date of {plan}'s " +
        "appeal decision. {hearingHow}",
    ],
  },
  medicare: {
    coverage: "Medicare Advantage",
    heading: "Your right to appeal (reconsideration)",
    appealDays: 65,
    expeditedHours: 72,
    nextLevel: "independent-review-entity",
    authority: ["42 CFR 422.578", "42 CFR 422.582", "42 CFR 422.584", "42 CFR 422.590", "42 CFR 422.592"],
    paragraphs: [
      "You have the right to ask {plan} to reconsider this decision (a reconsideration, the first level of " +
        "appeal in Medicare). You, your representative or your doctor may ask. Ask within {appealDays} " +
        "calendar days of the date of this notice: contact {plan}{contactAt}.",
      "If you or your doctor believe that waiting for a standard decision could seriously harm your life, " +
        "your health or your ability to regain maximum function, you can ask for a fast (expedited) " +
        "reconsideration. If your doctor asks for it or supports your request, {plan} will decide it " +
        "within {expeditedHours} hours.",
      "If {plan} upholds this decision, in whole or in part, {plan} will automatically send your case to " +
        "the Independent Review Entity, an organization contracted by Medicare that is not part of {plan}. " +
        "If the Independent Review Entity also decides against you, its decision will explain the further " +
        "levels of appeal.",
      "For help with Medicare, you can call 1-800-MEDICARE (1-800-633-4227), 24 hours a day, 7 days a " +
        "week. TTY users should call 1-877-486-2048.",
    ],
  },
  commercial: {
    coverage: "Commercial health coverage",
    heading: "Your right to appeal",
    appealDays: 180,
    expeditedHours: 72,
    nextLevel: "external-review",
    externalReviewMonths: 4,
    authority: ["45 CFR 147.136", "29 CFR 2560.503-1"],
    paragraphs: [
      ...ACA_PARAGRAPHS,
      // ERISA § 503 notices (29 CFR 2560.503-1(g)(1)(iv)): employer plans only, hence not Marketplace.
      "If your coverage is through an employer plan governed by ERISA, you may also have the right to " +
        "bring a civil action under section 502(a) of ERISA after your appeal.",
    ],
  },
  marketplace: {
    coverage: "Health Insurance Marketplace coverage",
    heading: "Your right to appeal",
    appealDays: 180,
    expeditedHours: 72,
    nextLevel: "external-review",
    externalReviewMonths: 4,
    authority: ["45 CFR 147.136"],
    paragraphs: [...ACA_PARAGRAPHS],
  },
  unknown: {
    heading: "Your right to appeal",
    // The shortest of the programs' periods: an appeal sent within it is timely under any of them.
    appealDays: 60,
    expeditedHours: 72,
    nextLevel: "unspecified",
    authority: [],
    paragraphs: [
      "You, or someone you choose to act for you (such as your provider, with your consent), may appeal " +
        "this decision to {plan}. Send your appeal within {appealDays} calendar days of the date of this " +
        "letter (your coverage documents may allow longer): contact {plan}{contactAt}.",
      EXPEDITED_MEDICAL,
      "After {plan}'s appeal decision you may have the right to a further review by an independent " +
        "reviewer or a government agency; the appeal decision will explain how to ask for it.",
    ],
  },
};

/**
 * What every adverse letter says whatever the program (issue 14): include the reference, who decides
 * the appeal (42 CFR 438.406(b)(2), 422.590(h)(2), 29 CFR 2560.503-1(h)(3)(ii)), the peer-to-peer offer
 * and the free copy of the policy and documents.
 */
export const COMMON_PARAGRAPHS: readonly string[] = [
  "With your appeal, include the reference number {reference} and any information that supports the " +
    "request.",
  "A physician or other appropriate clinical reviewer who did not take part in this decision, and who " +
    "is not the subordinate of anyone who did, will decide the appeal.",
  "Your provider may ask to discuss this decision with our physician reviewer (a peer-to-peer " +
    "conversation): contact {plan}{contactAt}.",
  "You may ask, free of charge, for a copy of the clinical policy named in this letter and of every " +
    "document, record and other information relevant to this decision.",
];

/** The state agencies a letter names, per state (USPS code). Missing fields fall back to generic names. */
export interface StateContacts {
  /** The state Medicaid agency, as it reads mid-sentence. */
  medicaidAgency?: string;
  /** Who holds the state's Medicaid fair hearings, when not the agency itself. */
  fairHearingBody?: string;
  /** The state insurance regulator (commercial and Marketplace appeals and external review). */
  insuranceDepartment?: string;
}

/** Per-state overrides: the states of the seed library's variants (NC, LA). */
export const STATE_CONTACTS: Readonly<Record<string, StateContacts>> = {
  NC: {
    medicaidAgency: "NC Medicaid (Division of Health Benefits)",
    fairHearingBody: "the NC Office of Administrative Hearings",
    insuranceDepartment: "the North Carolina Department of Insurance (Smart NC)",
  },
  LA: {
    medicaidAgency: "the Louisiana Department of Health",
    fairHearingBody: "the Louisiana Division of Administrative Law",
    insuranceDepartment: "the Louisiana Department of Insurance",
  },
};

export const FALLBACK_CONTACTS: Required<Pick<StateContacts, "medicaidAgency" | "insuranceDepartment">> = {
  medicaidAgency: "your state Medicaid agency",
  insuranceDepartment: "your state's department of insurance",
};

export interface AppealContext {
  /** The plan's name (the sender). */
  plan: string;
  phone?: string;
  /** Whether the letter's header carries the plan's postal address. */
  hasAddress: boolean;
  /** The request's reference number. */
  reference: string;
  /** The member's state (USPS code). */
  state: string;
  lineOfBusiness?: LineOfBusiness;
}

export interface AppealRights {
  program: AppealProgram;
  rule: AppealRule;
  heading: string;
  /** Plain text (not HTML), in order: the program's paragraphs, then the common ones. */
  paragraphs: string[];
}

/** The line of business as a key of {@link APPEAL_RULES}; anything unrecognized is `unknown`. */
export function appealProgram(lineOfBusiness: string | undefined): AppealProgram {
  return lineOfBusiness !== undefined && Object.hasOwn(APPEAL_RULES, lineOfBusiness)
    ? (lineOfBusiness as AppealProgram)
    : "unknown";
}

/**
 * The appeal rights an adverse letter states for a member (issue 14, SPEC 2.4): the program's row of
 * {@link APPEAL_RULES} with the state's contacts ({@link STATE_CONTACTS}, else the fallbacks) filled in,
 * followed by {@link COMMON_PARAGRAPHS}. Pure; returns plain text for the renderer to escape.
 */
export function appealRights(ctx: AppealContext): AppealRights {
  const program = appealProgram(ctx.lineOfBusiness);
  const rule = APPEAL_RULES[program];
  const state = Object.hasOwn(STATE_CONTACTS, ctx.state) ? STATE_CONTACTS[ctx.state] : undefined;
  const agency = state?.medicaidAgency ?? FALLBACK_CONTACTS.medicaidAgency;
  const hearingHow = state?.fairHearingBody
    ? `State Fair Hearings for ${agency} are held by ${state.fairHearingBody}; the appeal decision will explain how to ask.`
    : `To ask for one, contact ${agency}; the appeal decision will explain how.`;
  const contactAt = ctx.phone
    ? ` at ${ctx.phone}`
    : ctx.hasAddress
      ? " at the address at the top of this letter"
      : "";
  const values: Record<string, string> = {
    plan: ctx.plan,
    contactAt,
    agency,
    hearingHow,
    insuranceDepartment: state?.insuranceDepartment ?? FALLBACK_CONTACTS.insuranceDepartment,
    reference: ctx.reference,
    appealDays: String(rule.appealDays),
    expeditedHours: String(rule.expeditedHours),
    hearingDays: String(rule.hearingDays ?? ""),
    externalReviewMonths: inWords(rule.externalReviewMonths),
  };
  const paragraphs = [...rule.paragraphs, ...COMMON_PARAGRAPHS].map((t) => fill(t, values));
  return { program, rule, heading: rule.heading, paragraphs };
}

const SMALL_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

/** Small counts in words, as a letter writes them ("four months"). */
function inWords(n: number | undefined): string {
  if (n === undefined) return "";
  return SMALL_NUMBERS[n] ?? String(n);
}

/**
 * Replaces `{name}` placeholders of a constant template in one pass, so a value that itself contains
 * `{…}` (a plan name from configuration) is never expanded again. An unknown placeholder is a bug in
 * the table above: it throws rather than print braces to a member.
 */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{([a-zA-Z]+)\}/g, (_, name: string) => {
    if (!Object.hasOwn(values, name)) throw new Error(`appeal-rights: unknown placeholder {${name}}`);
    return values[name]!;
  });
}
