/**
 * Lead-ins (SPEC 1.3): what a group's introductory text says about its logic — `all`, `any`, `none`,
 * `atLeast(n)` — its own condition where it states one before a connector ("Chronic intractable pain
 * of malignant origin when all of the following…"), and references to another section ("when the
 * above criteria for the preliminary trial are met").
 */

import { execUpTo } from "./inline.js";

export type GroupKind = "all" | "any" | "none" | "atLeast";

export interface LeadIn {
  kind: GroupKind;
  n?: number;
  /** Whether a quantifier phrase was found (else `all` is assumed). */
  found: boolean;
  condition?: string;
  /** "the above criteria for the X are met": X, to be resolved to an earlier section. */
  refSubject?: string;
  /** "criteria in section II are met": the section id itself. */
  refSection?: string;
  refText?: string;
  /**
   * "… when criteria 1 and 2 above are met": the earlier sections a reference by several labels names
   * (resolved by the reader), all of them required — or, `refAny`, one of them ("criteria A or B above").
   */
  refTargets?: string[];
  refAny?: true;
  /**
   * A quantifier the model cannot express ("no more than one of the following", "exactly two of"):
   * the phrase. The group is read as "all" and its section is uncertain (it decides review).
   */
  unsupported?: string;
  /** The quantifier says no "all" ("when the following criteria are met"): the items' "or" decides doubt. */
  weak?: true;
  /**
   * Words after the quantifier that qualify every item — a time window ("ONE of the following within
   * the preceding 12 months:") — which no item asks: the section is uncertain (it decides review).
   */
  qualified?: string;
}

const NUMBER_WORDS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
};

/** A count in digits (up to 3) or words ("one" … "twenty"), as leads-ins and durations print it. */
export function numberOf(word: string): number | undefined {
  if (/^\d{1,3}$/.test(word)) return Number(word);
  return NUMBER_WORDS[word.toLowerCase()];
}

interface Quantifier {
  kind: GroupKind | "unsupported";
  n?: number;
  index: number;
  phrase: string;
  /** Says no "all"/"any" ("when the following criteria are met"): read as all, but not over "or". */
  weak?: true;
  /** An exception over the list ("except when any of"): its words before it are not the condition's. */
  exception?: true;
}

/** Number words of a count ("two or more of", "any three of"): not "one" (that is `any`). */
const COUNT = String.raw`(two|three|four|five|six|seven|eight|nine|ten|\d{1,2})(?: \(\d{1,2}\))?`;

const QUANTIFIERS: { re: RegExp; kind: GroupKind | "unsupported"; exception?: true; weak?: true }[] = [
  // An upper bound or an exact count ("no more than one of the following", "exactly two of"): no
  // group of the model says it, and the "one of the following" inside must not read as `any`.
  // A lower bound in other words: "no fewer than two of", "a minimum of three of".
  {
    re: new RegExp(
      String.raw`\b(?:no fewer than|not fewer than|no less than|not less than|a minimum of|minimum of) ${COUNT} of the following\b`,
      "i",
    ),
    kind: "atLeast",
  },
  {
    re: /\b(?:no more than|not more than|at most|fewer than|less than|(?:a )?maximum of|exactly|up to|more than|greater than) (?:\w+)(?: \(\d{1,2}\))? of the following\b/i,
    kind: "unsupported",
  },
  // Exceptions over the list: "medically necessary EXCEPT when any of the following apply", "unless
  // any of the following are present", "with the exception of the following", "neither of".
  {
    // The excepted population in any of its wordings: "except those with", "except in members with",
    // "except for members who have", "excluding members with" (QA pass 6: read as `any`, inverting the
    // list — an infection present approved).
    re: /\b(?:except|unless|excluding|barring)(?: (?:when|if|where|for|in(?: the (?:case|presence) of)?|there (?:is|are)))?(?: (?:those|(?:the )?(?:members?|patients?|individuals?|beneficiar(?:y|ies)|enrollees?|persons?|children|adults?))(?: (?:who|that))?(?: (?:has|have|meets?|with|presents? with|presenting with|having)))? (?:any|any one|one or more|either|one) of the following\b/i,
    kind: "none",
    exception: true,
  },
  {
    re: /\bexcept (?:(?:for|in|when|where|under|if) )?(?:(?:any|each) of )?the following\b/i,
    kind: "none",
    exception: true,
  },
  {
    re: /\bwith the exception of (?:(?:any|each|all|one) of )?the following\b/i,
    kind: "none",
    exception: true,
  },
  { re: /\bneither of the following\b/i, kind: "none" },
  { re: /\bnone of the following\b/i, kind: "none" },
  // Exclusions stated as a negated requirement over the list: "Patients must not have:", "absence of".
  {
    re: /\b(?:must|should|shall|does|do|did|may) not (?:have|be|include|exhibit|experience)(?: had)?(?: any of(?: the following)?)?\s*[:*]?\s*$/i,
    kind: "none",
  },
  {
    re: /\b(?:no |without (?:any )?)(?:history of |evidence of )?(?:any )?of the following\b/i,
    kind: "none",
  },
  { re: /\b(?:absence|exclusion) of (?:all )?(?:of )?the following\b/i, kind: "none" },
  { re: /\b(?:any|none) of the following (?:contraindications|exclusions)\b/i, kind: "none" },
  // "Contraindications (any of the following precludes the procedure)": one present rules it out.
  {
    re: /\b(?:any|either|one) of the following (?:(?:is|are|would|will) )?(?:precludes?|excludes?|disqualif(?:y|ies)|rules? out|prohibits?)\b/i,
    kind: "none",
  },
  { re: /\bat least (\w+)(?: \(\d{1,3}\))? of the following\b/i, kind: "atLeast" },
  { re: /\b(?:either|any|any one|one|one or more) of the following\b/i, kind: "any" },
  // "two or more of the following", "any three of the following", "established by three of the following".
  { re: new RegExp(String.raw`\b${COUNT} or more of the following\b`, "i"), kind: "atLeast" },
  { re: new RegExp(String.raw`\bany ${COUNT} of the following\b`, "i"), kind: "atLeast" },
  { re: new RegExp(String.raw`\b${COUNT} of the following\b`, "i"), kind: "atLeast" },
  { re: /\b(?:meets?|meeting|with|has|have|having|for) (?:one|either|any) of\b/i, kind: "any" },
  { re: /\beither of\b/i, kind: "any" },
  {
    re: /\bmeets? (?:all )?(?:of )?the following(?: \w+)? (?:criteria|conditions|requirements|standards)\b/i,
    kind: "all",
  },
  // "The team must include, at a minimum:": every member listed is required.
  { re: /\b(?:must|shall) include,? at a minimum\b|\bat a minimum,? (?:must )?include\b/i, kind: "all" },
  {
    re: /\b(?:only )?(?:under|subject to) (?:all )?(?:of )?the following (?:criteria|criterion|conditions?|requirements?|circumstances?|situations?)\b/i,
    kind: "all",
  },
  {
    re: /\bthe following (?:\w+ ){0,2}(?:criteria|conditions|requirements) (?:must|shall|should) (?:also )?be (?:met|satisfied)\b/i,
    kind: "all",
  },
  { re: /\ball (?:of )?the following\b/i, kind: "all" },
  // "determine if they meet the 13 criteria listed below"
  {
    re: /\bmeets? (?:all )?(?:of )?the (?:\d{1,3} |\w+ )?(?:criteria|conditions|requirements|standards) (?:listed |stated |given )?below\b/i,
    kind: "all",
  },
  // "unless all of the conditions listed below have been met"
  {
    re: /\ball (?:of )?the (?:\w+ )?(?:criteria|conditions|requirements|standards) (?:listed |stated |given )?below\b/i,
    kind: "all",
  },
  { re: /\b(?:both|each) of the following\b/i, kind: "all" },
  { re: /\bmeet(?:s|ing)? all\b/i, kind: "all" },
  { re: /\bthe following (?:criteria|conditions|requirements) (?:are|is) met\b/i, kind: "all", weak: true },
  // "… when the criteria below are met." (a statement whose list comes after a heading or another sentence).
  {
    re: /\bthe (?:criteria|conditions|requirements) (?:listed |stated |given |outlined )?below (?:are|is|have been) met\b/i,
    kind: "all",
    weak: true,
  },
  // DME MAC LCDs: "… is covered if criteria A - C are met:", "criteria A, B, and C", "either criterion A
  // or B is met" (QA pass 5: read as no quantifier, the criteria taken for the statement's condition).
  {
    re: /\b(?:[Aa]ll )?[Cc]riteria [A-Z0-9]{1,2} ?(?:-|–|—|through|to) ?[A-Z0-9]{1,2} (?:are|is|have been) met\b/,
    kind: "all",
  },
  {
    re: /\b(?:[Aa]ll )?[Cc]riteria (?:[A-Z0-9]{1,2}, )+(?:and )?[A-Z0-9]{1,2} (?:are|is|have been) met\b/,
    kind: "all",
  },
  { re: /\b[Ee]ither [Cc]riterion [A-Z0-9]{1,2} or [A-Z0-9]{1,2} (?:is|are|has been) met\b/, kind: "any" },
];

/** A time window ("within the preceding 12 months", "in the past 6 weeks"); linear, bounded input. */
const WINDOW =
  /\b(?:within|in|during|over)\s+(?:the\s+)?(?:(?:past|last|preceding|previous|prior)\s+)?(?:\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen|twenty-four|thirty|sixty|ninety)(?:\s*\(\d{1,3}\))?\s+(?:days?|weeks?|months?|years?)\b|\b(?:within|in|during) the (?:past|last|preceding|previous|prior) (?:days?|weeks?|months?|year)\b/i;

/** A further list quantifier after the first, in the same lead-in (bounded input: one clause). */
const SECOND_QUANTIFIER =
  /\b(?:all|any|one|either|both|each|none|two|three|four|five|\d{1,2})(?: \(\d{1,2}\))?(?: or more)? of the following\b/i;

/**
 * Words after the quantifier restricting which items may count: "one of which must be", "at least one of
 * them", "including at least one", "from (two) different (drug) classes", "with different mechanisms of
 * action", "in the same class". Each run bounded, no nested quantifiers.
 */
const ITEMS_RESTRICTED =
  /\b(?:at least )?(?:one|two|\d{1,2}) of (?:which|them|these)\b|\bincluding (?:at least|a minimum of) (?:one|two|\d{1,2})\b|\b(?:from|of|in|across|with|representing) (?:at least )?(?:two |three |2 |3 )?(?:different|distinct|separate) (?:[\w-]+ ){0,2}?(?:class(?:es)?|mechanisms?|categories|groups|families)\b|\b(?:in|from|of) the same (?:[\w-]+ ){0,2}?class\b/i;

/** A duration after the quantifier: "for at least 3 months", "each for a minimum of 30 days", "of at least 8 weeks". */
const DURATION_AFTER =
  /\b(?:(?:for|lasting)\s+(?:(?:at least|a minimum of|a total of|no (?:less|fewer) than|not less than|a period of|a duration of|≥)\s*)?|of\s+(?:at least|a minimum of|no (?:less|fewer) than|not less than)\s+)(?:\d{1,3}|one|two|three|four|five|six|eight|ten|twelve|sixteen)(?:\s*\(\d{1,3}\))?[\s-]+(?:consecutive\s+)?(?:days?|weeks?|months?|years?)\b/i;

/**
 * A duration after the quantifier that each item must have lasted; not an approval's own length
 * ("(approve for 6 months)", "authorization for 12 months"), which the duration readings report.
 */
function itemDuration(clause: string): RegExpExecArray | null {
  const m = DURATION_AFTER.exec(clause);
  if (!m) return null;
  return /\b(?:approv\w*|authori[sz]\w*|renew\w*|grant\w*|reauthori[sz]\w*)\W*$/i.test(
    clause.slice(Math.max(0, m.index - 30), m.index),
  )
    ? null
    : m;
}

/** A population right after the quantifier: "(criteria are met) for members between the ages of …". */
const LATER_POPULATION =
  /^(?:\s+(?:criteria|conditions|requirements))?(?:\s+(?:are|is)\s+met)?\s*,?\s+(?:for|in|among)\s+(?:(?:the|all)\s+)?(?:members?|patients?|individuals?|beneficiar(?:y|ies)|enrollees?|children|adults?|adolescents?|persons?|infants?|neonates?)\b/i;

/**
 * Items named by a range of their numbers: "criteria (1-2)", "one of (3-4)", "(criteria 1–3)", "items 3
 * through 5" — never a bare "(18-64)", an age.
 */
const ITEM_RANGE =
  /\b(?:criteria|criterion|items?|following|of)\s*\(\s*#?\d{1,2}\s*(?:-|–|through|to)\s*#?\d{1,2}\s*\)|\(\s*(?:criteria|criterion|items?)\s*#?\d{1,2}\s*(?:-|–|through|to)\s*#?\d{1,2}\s*\)|\b(?:criteria|items)\s+#?\d{1,2}\s*(?:-|–|through|to)\s*#?\d{1,2}\b/i;

/** An exception after the quantifier ("ONE of the following, unless all are contraindicated:"). */
const EXCEPTION_AFTER = /\b(?:unless|except|other than|excluding)\b[^:]{0,80}/i;

/** Words right before a count that negate or bound it (bounded look-behind on 40 characters). */
const LIMITED =
  /\b(?:not|no|never|without|absence of|absent|fails? to|up to|maximum of|only)(?:\s+[\w()-]+){0,3}\s*$/i;
/** Where the count's own clause starts: after the last "and"/"or"/"with"/"who"/comma before it. */
const CLAUSE_BREAK =
  /(?:,|;|\b(?:and|or|with|who|which|when|where|that|if)\b)(?![\s\S]*(?:,|;|\b(?:and|or|with|who|which|when|where|that|if)\b))/i;

/** Whether a count is negated or bounded within its own clause ("must not have two or more of"). */
function limitedCount(before: string): boolean {
  const window = before.slice(-40);
  const cut = CLAUSE_BREAK.exec(window);
  return LIMITED.test(cut ? window.slice(cut.index + cut[0].length) : window);
}

/** A statement of non-coverage before an exception (bounded: the 200 characters before it). */
const PREDICATE =
  /\b(?:(not (?:be )?(?:(?:considered|deemed) (?:to be )?)?)?(?:covered|medically (?:reasonable and )?necessary|reasonable and necessary)|(non-?covered|investigational|experimental|unproven))\b/gi;

/**
 * Whether the statement an exception qualifies is negative: the last coverage predicate of the
 * exception's own sentence ("… is not covered unless any of"), not any negative word before it ("for
 * members who are not eligible for clinic infusion, unless any of" qualifies "medically necessary").
 */
function negativeStatement(before: string): boolean {
  const stop = Math.max(before.lastIndexOf(". "), before.lastIndexOf("; "));
  const sentence = stop >= 0 ? before.slice(stop + 2) : before;
  let last: RegExpExecArray | undefined;
  PREDICATE.lastIndex = 0;
  for (let m = PREDICATE.exec(sentence); m; m = PREDICATE.exec(sentence)) last = m;
  return last !== undefined && (last[1] !== undefined || last[2] !== undefined);
}
/** A limit before an exception: the exception lifts it. */
const LIMITS = /\b(?:only|limited to|once|twice|no more (?:often|frequently) than|per lifetime|maximum)\b/i;

function findQuantifier(text: string): Quantifier | undefined {
  let best: Quantifier | undefined;
  for (const q of QUANTIFIERS) {
    const m = q.re.exec(text);
    if (!m) continue;
    if (q.kind === "atLeast") {
      const n = numberOf(m[1] as string);
      if (n === undefined) continue;
      // A count under a negation or a limit ("must not have two or more of", "up to two of", "only
      // two of", "has 0 of") is not a lower bound: the model cannot say it, so the section is uncertain.
      const kind =
        n < 1 || limitedCount(text.slice(Math.max(0, m.index - 40), m.index)) ? "unsupported" : "atLeast";
      if (!best || m.index < best.index) best = { kind, n, index: m.index, phrase: m[0] };
      continue;
    }
    let kind = q.kind;
    if (q.exception) {
      const before = text.slice(Math.max(0, m.index - 200), m.index);
      // After a negative statement ("not covered unless any of …") the exceptions are the ways in:
      // left to the other patterns (any). After a limit ("only once per lifetime, except when …") the
      // list lifts the limit, which no group says: uncertain.
      if (negativeStatement(before)) continue;
      if (LIMITS.test(before)) kind = "unsupported";
    }
    if (!best || m.index < best.index)
      best = {
        kind,
        index: m.index,
        phrase: m[0],
        ...(q.weak && { weak: q.weak }),
        ...(q.exception && { exception: true as const }),
      };
  }
  return best;
}

/** Connectors that separate a stated condition from the list it introduces, anywhere before it. */
const CONNECTORS =
  /\s(?:when|where|that includes?|which includes?|who (?:has|have|meets?))\s|(?<!\b(?:determine|decide|assess|check|see|ask|know|whether)[sd]?)\sif\s/i;
/**
 * Connectors that only count right before the quantifier: "Chronic pain and all of the following",
 * "severe neuropathic pain for 6 months, resulting from any of the following", "severe obesity,
 * defined as any of the following" (the condition, and the list of what establishes it).
 */
const NEAR_CONNECTORS =
  /(?:,?\s+(?:resulting from|due to|caused by|secondary to|attributable to|(?:as )?(?:defined|evidenced|documented|demonstrated|shown|manifested|characterized|confirmed) (?:as|by))|,?\s+and(?: also)?|\s+with|\s+including|,\s*(?:the )?(?:patients?|members?|beneficiar(?:y|ies)|individuals?|enrollees?) (?:must|should|shall|will need to)|\s+in (?:patients|members|beneficiaries|individuals) who)\s*$/i;

const REF = /\b(?:the )?above criteria (?:for|in|of) (?:the )?(.+?) (?:are|is|have been|has been) met\b/i;
/** Where a match of REF ends (see `execUpTo`). */
const REF_END = / (?:are|is|have been|has been) met\b/gi;
const REF_SECTION =
  /\b(?:the )?criteria (?:in|of|for) section ([IVX]{1,6}) (?:above )?(?:are|is|have been|has been) met\b/i;

function tidyCondition(s: string): string | undefined {
  const t = s
    .replace(/(?<![\s,;:])[\s,;:]+$/, "") // (?<!…): each run tried once, not from each character
    .replace(/^[\s,;:]+/, "")
    .trim();
  return t.length >= 2 ? t : undefined;
}

/**
 * Reads a lead-in. For a section's root (`root`), the statement's words before the connector are the
 * policy sentence, not a condition, so no condition is taken.
 */
export function readLeadIn(text: string, root: boolean): LeadIn {
  // "Selection Criteria for Bariatric Surgery. The member has presented with obesity that meets one of
  // the following:": a caption before the lead-in's sentence is a title, not the group's condition.
  if (!root) {
    const rest = afterCaption(text);
    if (rest !== undefined) return readLeadIn(rest, false);
  }
  const q = findQuantifier(text);
  const out: LeadIn =
    q && q.kind !== "unsupported" ? { kind: q.kind, found: true } : { kind: "all", found: q !== undefined };
  if (q?.kind === "unsupported") out.unsupported = q.phrase;
  // A quantifier scoped to some of the items by their numbers ("one of the following (criteria 1-3) is
  // met, and criterion 4", "all of the following criteria (1-2) and one of (3-4)"): the list's logic
  // is per range, which one group cannot say (QA pass 6: one quantifier over every item, certain).
  const scoped = q ? ITEM_RANGE.exec(text.slice(0, 600)) : null;
  // "… based on criteria 1-7 above": a reference to other criteria, the reference readings' to read.
  const refers =
    scoped !== null &&
    /^\s*(?:above|below|previously|earlier|of section|in section)\b/i.test(
      text.slice(scoped.index + scoped[0].length, scoped.index + scoped[0].length + 20),
    );
  if (scoped && !refers && out.unsupported === undefined) {
    out.kind = "all";
    out.unsupported = scoped[0];
  }
  if (q?.weak) out.weak = true;
  // What follows the quantifier up to the list (bounded): "… of the following within the preceding 12
  // months:" qualifies each item (QA pass 5: the window was lost, an MI years ago approved).
  const after = q ? text.slice(q.index + q.phrase.length, q.index + q.phrase.length + 200) : "";
  const window = after ? (WINDOW.exec(after) ?? EXCEPTION_AFTER.exec(after.split(":")[0] ?? "")) : null;
  if (window) out.qualified = window[0];
  const clause = after.split(":")[0] ?? "";
  // A second quantifier over the same list ("one of the following agents AND one of the following
  // regimens", "ONE of the following OR is intolerant to TWO of the following"): two groups whose
  // items the list does not part (QA pass 7: read as `any` of all, one agent alone approved).
  const second = clause ? SECOND_QUANTIFIER.exec(clause) : null;
  if (q && second && /\bof the following$/i.test(q.phrase) && out.unsupported === undefined) {
    out.kind = "all";
    out.unsupported = `${q.phrase}${clause.slice(0, second.index + second[0].length)}`;
  }
  // Which items count or how long each lasted, after the quantifier ("two of the following, one of
  // which must be a topical corticosteroid", "from different drug classes", "each for at least 30
  // days"): no item asks it (QA pass 7: two agents of one class, or a one-week trial, approved).
  const restricted =
    !out.qualified && clause ? (ITEMS_RESTRICTED.exec(clause) ?? itemDuration(clause)) : null;
  if (restricted) out.qualified = restricted[0];
  if (!root && q && (q.kind === "any" || q.kind === "all")) {
    // "No history of any of the following", "Member is not a candidate if any of the following are
    // present": a negation over the list (a QA pass on other payers' wording read these as `any`, so a
    // contraindication present met the criterion).
    const negated = negationOver(text.slice(0, q.index));
    if (negated !== undefined) {
      if (negated === "clear" && q.kind === "any") out.kind = "none";
      else {
        // "does not meet all of", "inadequate response to, or not a candidate for, any of": what the
        // negation covers is not one group of the model.
        out.kind = "all";
        out.unsupported = `${text.slice(Math.max(0, q.index - 40), q.index).trimStart()}${q.phrase}`;
      }
      const brk = lastSentenceBreak(text.slice(0, q.index));
      const cond = brk > 0 ? tidyCondition(text.slice(0, brk + 1)) : undefined;
      if (cond) out.condition = cond;
      return out;
    }
  }
  if (q?.n !== undefined) out.n = q.n;
  const ref = execUpTo(REF, REF_END, text);
  const refSec = ref ? null : REF_SECTION.exec(text);
  if (ref) {
    out.refSubject = (ref[1] as string).trim();
    out.refText = ref[0];
  } else if (refSec) {
    out.refSection = (refSec[1] as string).toUpperCase();
    out.refText = refSec[0];
  }
  if (root) {
    let pre = q ? text.slice(0, q.index) : text;
    if (q?.exception) {
      // "… for all members with X except those with any of": the exception's words are not X's.
      const at = pre.slice(-120).search(/\b(?:except|unless|excluding|barring)\b/i);
      if (at >= 0) pre = pre.slice(0, Math.max(0, pre.length - 120) + at);
    } else if (q?.kind === "any") {
      // A statement that negates its list: "medically necessary in the absence of any of the following",
      // "… has X and does not have either of the following" (QA pass 6: read as `any`, an infection
      // present approved). A negation shared with another predicate is not one group: uncertain.
      // Only a negation right before the quantifier governs the list: "for individuals without a
      // personal history of cancer who meet any of" names a population (a second reading: read as
      // `none`, a request meeting none of the list approved).
      const negated = NEGATION_TAIL.test(pre.slice(-80)) ? negationOver(pre) : undefined;
      if (negated === "clear") {
        out.kind = "none";
        pre = withoutNegation(pre);
      } else if (negated === "unclear") {
        out.kind = "all";
        out.unsupported = `${pre.slice(-40).trimStart()}${q.phrase}`;
      }
    }
    // Both the population and the statement's own condition ("for adults 18 years and older when the
    // patient has symptoms of OSA and …"): keeping one dropped the other (QA pass 2).
    const who = bothConditions(populationOf(pre), !ref && !refSec ? statementCondition(pre) : undefined);
    // "… when all of the following are met for members between the ages of 3 and 20:" (QA pass 5).
    // Only "… are met for members/patients/children …" right after the quantifier: "…, as documented in
    // the child's medical record" names no population (a second reading).
    const later = after && LATER_POPULATION.test(after) ? populationOf(after) : undefined;
    const all = later && who ? (who.includes(later) ? who : `${who} and ${later}`) : (later ?? who);
    if (all) out.condition = all;
    return out;
  }
  if (!q) {
    // "Patients with a prior MI and LVEF ≤ 0.30. Patients must have demonstrated:": the sentences
    // before the lead-in's own sentence are the group's condition.
    const cut = lastSentenceBreak(text);
    if (cut > 0) {
      const cond = tidyCondition(text.slice(0, cut + 1));
      if (cond) out.condition = cond;
    } else {
      const cond = requiredBeside(text);
      if (cond) out.condition = cond;
    }
    return out;
  }
  const before = text.slice(0, q.index);
  const brk = lastSentenceBreak(before);
  if (brk > 0 && !ref && !refSec) {
    const cond = tidyCondition(before.slice(0, brk + 1));
    if (cond) {
      out.condition = cond;
      return out;
    }
  }
  const refAt = ref?.index ?? refSec?.index ?? -1;
  const scope = refAt >= 0 && refAt < before.length ? before.slice(0, refAt) : before;
  const c = CONNECTORS.exec(scope);
  if (c) {
    const cond = tidyCondition(scope.slice(0, c.index));
    if (cond) out.condition = cond;
    return out;
  }
  if (refAt >= 0 && refAt < before.length) {
    // "X when the above criteria … are met": the connector sits right before the reference.
    const pre = scope.replace(/\s+(?:when|if|and|where)\s*$/i, "");
    if (pre !== scope) {
      const cond = tidyCondition(pre);
      if (cond) out.condition = cond;
    }
    return out;
  }
  const near = NEAR_CONNECTORS.exec(before);
  if (near) {
    const cond = tidyCondition(before.slice(0, near.index));
    if (cond) out.condition = cond;
    return out;
  }
  // "Rheumatoid Arthritis: all of the following", "For patients 6 to 17 years of age, all of the
  // following:": the caption names whom (or what) the group is for — its condition. Unasked, one
  // diagnosis's criteria approved another's patient (a QA pass on pharmacy forms and UHC). A title
  // ("Selection Criteria:") is not one.
  const cap = SCOPE_CAPTION.exec(before);
  // "For each of the covered indications above," refers to other criteria: no scope of its own.
  if (
    cap &&
    !CAPTION_WORDS.test(cap[1] as string) &&
    !/\b(?:each|above|below|previous|preceding|these|those)\b/i.test(cap[1] as string)
  ) {
    const cond = tidyCondition(cap[1] as string);
    if (cond && /[A-Za-z]{3}/.test(cond)) out.condition = cond;
  }
  return out;
}

/** A group's scope before its quantifier: "Rheumatoid Arthritis:" / "For plaque psoriasis," (linear). */
const SCOPE_CAPTION = /^\s*(?:for\s+)?([^:;,.]{3,120})[:,]\s*$/i;

/** A negation word ("no", "not", "without", "absence of", "lack of", "free of", "denies", "never"). */
const NEGATION =
  /\b(?:no|not|never|without|absence|absent|lack(?:s|ing)?|free (?:of|from)|denies|denied)\b|n't\b/i;
/** Where the clause a list quantifier belongs to starts: the last ";", "and", "or", "but" before it. */
const CLAUSE_START = /(?:;|\b(?:and|or|but)\b)(?![\s\S]*(?:;|\b(?:and|or|but)\b))/i;
/** An exception's words: the exception patterns read those. */
const EXCEPTION_WORDS = /\b(?:unless|except|excluding|barring)\b/i;

/**
 * Whether the clause right before a list quantifier negates it (`before`: the lead-in up to the
 * quantifier; at most its last 80 characters are read, so the scan is bounded): `clear` where the
 * negation governs the list ("no history of", "absence of", "does not have", "not a candidate if"),
 * `unclear` where the list is shared with another predicate (", or is not a candidate for, any of"),
 * undefined where no negation is in its clause.
 */
function negationOver(before: string): "clear" | "unclear" | undefined {
  let window = before.slice(-80);
  const brk = lastSentenceBreak(window);
  if (brk >= 0) window = window.slice(brk + 1);
  const cut = CLAUSE_START.exec(window);
  const clause = cut ? window.slice(cut.index + cut[0].length) : window;
  if (EXCEPTION_WORDS.test(clause) || !NEGATION.test(clause)) return undefined;
  // A coverage verdict ("not medically necessary for members with any of"): the section's kind says it,
  // and the list says when it applies.
  if (COVERAGE_VERDICT.test(clause)) return undefined;
  // "Low back pain without red flag features, when ALL of the following": the negation is the group's
  // condition, before its ", when" — not over the list (eviCore; it sent the section to review).
  const when = /,\s*(?:when|where|if)\s+(?![\s\S]*,\s*(?:when|where|if)\s)/i.exec(clause);
  if (when && !NEGATION.test(clause.slice(when.index)) && !CANDIDACY.test(clause.slice(0, when.index)))
    return undefined;
  // A verdict on the patient ("not a candidate if any of"): in a covered section the list says when it
  // is not met, in a not-covered one when it is — the lead-in alone cannot tell which.
  if (CANDIDACY.test(clause)) return "unclear";
  // A list shared by two predicates ("inadequate response to, or not a candidate for, any of").
  return /,\s*$/.test(clause) && cut !== null ? "unclear" : "clear";
}

/**
 * The lead-in before its quantifier without the negation that governs the list ("… has X and does not
 * have" → "… has X"; "… necessary in the absence of" → "… necessary"): the negation is the group's
 * kind, not a condition's words. Reads only the last 80 characters.
 */
function withoutNegation(pre: string): string {
  const head = pre.slice(0, Math.max(0, pre.length - 80));
  const tail = pre.slice(head.length);
  const m = NEGATION_TAIL.exec(tail);
  return m ? head + tail.slice(0, m.index) : pre;
}
const NEGATION_TAIL =
  /(?:,?\s+(?:and|but)\b)?(?:\s+(?:who|that))?\s+(?:(?:in the )?(?:absence|lack) of|(?:does|do|did|has|have|had) not (?:have|had|experienced?|exhibit)(?: any)?|(?:does|do|did) not|without(?: any)?|not having|free (?:of|from)|no(?: history of| evidence of)?)\s*$/i;

/** A negated coverage verdict, not a negated condition of the patient. */
const COVERAGE_VERDICT =
  /\b(?:not|never)\s+(?:be\s+)?(?:considered\s+)?(?:covered|medically|reasonable|eligible|necessary|proven|payable|approved)\b|\bnon-?covered\b/i;
/** A negated verdict on the patient's candidacy. */
const CANDIDACY =
  /\b(?:not|never)\s+(?:be\s+)?(?:considered\s+)?(?:an?\s+)?(?:appropriate\s+|suitable\s+|good\s+)?(?:candidates?|indicated|appropriate|suitable|recommended)\b/i;

/** The last coverage predicate of a statement ("is considered medically necessary", "is covered"). */
const COVERAGE_PREDICATE =
  /\b(?:covers|covered|medically necessary|reasonable and necessary|eligible (?:for coverage|under)|investigational|experimental|unproven|indicated|approved|coverage is (?:provided|available|allowed)|criteria for coverage|definition of medical necessity)\b(?![\s\S]*\b(?:covers|covered|medically necessary|reasonable and necessary|eligible (?:for coverage|under)|investigational|experimental|unproven|indicated|approved|coverage is (?:provided|available|allowed)|criteria for coverage|definition of medical necessity)\b)/i;
/**
 * "Humana covers …", "The Department covers …": the statement's own verb, before any later coverage
 * word inside its condition ("for members with an FDA-approved indication": the last coverage word
 * would be "approved", and the condition lost).
 */
const PAYER_COVERS_VERB =
  /(?<![\w-])(?:[Tt]he (?:[Pp]lan|[Dd]epartment|[Pp]rogram|[Ss]tate|[Aa]gency|[Dd]ivision)|(?!(?:This|That|These|Those|It|Its|Each|Every|A|An|Our|Which|What|Who|No|The)\b)[A-Z][\w&'’.-]*(?: [A-Z][\w&'’.-]*){0,3}) (?:(?:also|only|generally|typically) )?(?=covers\b)/;

/** The match of "covers" after a payer named as its subject, or null. */
function payerCovers(window: string): RegExpExecArray | null {
  const m = PAYER_COVERS_VERB.exec(window);
  if (!m) return null;
  return /^covers/.exec(window.slice(m.index + m[0].length)) === null
    ? null
    : coversAt(window, m.index + m[0].length);
}

/** A match of "covers" at `at` in `window` (its index the statement's, as COVERAGE_PREDICATE's is). */
function coversAt(window: string, at: number): RegExpExecArray {
  const re = /covers/y;
  re.lastIndex = at;
  return re.exec(window) as RegExpExecArray;
}

/** The first copula-led coverage predicate of a statement: "is considered medically necessary", "are covered". */
const COPULA_PREDICATE =
  /\b(?:is|are|be)\s+(?:(?:considered|deemed|also|only|generally)\s+){0,2}(?:medically necessary|reasonable and necessary|covered|eligible(?: for coverage)?|indicated|approved|investigational|experimental|unproven)\b/i;
/** A condition before the statement: "For members with X, …" / "In adults with Y, …" at its start. */
const LEADING_CONDITION = /^(?:for|in|among)\s+([^,;:]{3,200}),\s/i;
/** Where the statement's own condition starts after its predicate: "for", "in", "when", "if", "where". */
const CONDITION_OPEN =
  /^\s*,?\s*(?:only\s+)?(?:(?:for|in|when|if|where|provided(?: that)?|as(?= (?:an? )?(?:[\w-]+ ){0,2}(?:treatment|therapy|management) (?:of|for)\b))\s+|(?=to treat\b))/i;
/**
 * The use a statement names — "for the treatment of giant cell arteritis", "to treat Crohn's disease",
 * "in the management of severe asthma": its object is the diagnosis the criteria are written for.
 */
const USE_OF =
  /^(?:(?:the|an?)\s+)?(?:(?:(?:add-on|adjunctive|first-line|second-line|maintenance)\s+){0,2}(?:treatment|management|prevention|therapy)\s+(?:of|for)|(?:to\s+)?treat(?:ing)?)\s+/i;
/**
 * A use's diagnoses listed with commas ("rheumatoid arthritis, psoriatic arthritis, and ankylosing
 * spondylitis"): the statement covers each, so the question asks for one of them — asked as printed, a
 * patient with one would answer no (a second reading).
 */
function alternativesOf(dx: string): string {
  if (!dx.includes(",")) return dx;
  const items = dx
    .split(/\s*,\s*(?:(?:and|or)\s+)?|\s+(?:and|or)\s+(?=[^,]*$)/)
    .map((x) => x.trim())
    .filter((x) => x !== "");
  return items.length >= 2 ? `one of: ${items.join("; ")}` : dx;
}

/**
 * Objects of a use that name no diagnosis: "the treatment of the following conditions"; and pain ("for
 * the treatment of low back/buttock pain", "chronic pain"): a symptom the procedure treats, whose kind,
 * duration and severity its criteria establish (the seeds' CP.MP.126 II) — a named disease is not
 * established again by a drug's criteria, so it is asked.
 */
const NO_DIAGNOSIS =
  /^(?:(?:the|a|an|this|these|those|such|any|all|other|certain)\s+)?(?:following\b.*|conditions?|indications?|diagnos[ie]s|disorders?|diseases?|symptoms?|patients?|members?|individuals?)$|\bpain$|^(?:(?:the|a|an|its|any)\s+)?(?:fda[- ]approved|approved|labeled|covered|listed)\s+(?:indications?|uses?|conditions?)\b|^(?:an?|the)\s+(?:indications?|conditions?|diagnos[ie]s)\s+(?:listed|shown|in)\b/i;
/** Splits a statement's tail into its conditions: "for members with X when …" → "members with X". */
const CONDITION_SPLIT = /\s+(?:when|if|where|provided(?: that)?)\s+/i;
/** The words that lead into the list, not part of the condition: "and the patient meets", "who meet". */
const LEAD_INTO_LIST =
  /(?:,?\s*\b(?:and|or)\b(?:\s+(?:the\s+)?(?:patient|member|individual|beneficiary|enrollee|child|adult)s?\b)?(?:\s+(?:who|that))?|\s+(?:who|that))?(?:\s+(?:meets?|has|have|satisf(?:y|ies)|fulfills?|presents? with|demonstrates?)\b)?(?:\s+(?:all|both|each|either)\b)?\s*[,:]?\s*$/i;
/** A part that names only who, or trails into the list ("members with", "the presence of"). */
const NO_CONDITION =
  /^(?:the|these|those) following\b|^(?:the\s+)?(?:treatment|management|relief|evaluation|diagnosis|prevention|purpose)\s+of\b|^(?:(?:the|all|any|those|these|such)\s+)?(?:(?:medicare|medicaid|chip|commercial|eligible|enrolled|covered|plan|health plan)\s+)?(?:members?|patients?|individuals?|beneficiar(?:y|ies)|enrollees?|persons?|people|adults?|children|requests?|use|treatment)?(?:\s+(?:with|who|having|in|of|for))?$|\b(?:of|with|to|for|in|by|the|a|an|presence|following|criteria|requirements?)$/i;

/** A length of coverage, not a condition: "for up to 2 years", "for a period of 6 months". */
const DURATION_ONLY =
  /^(?:up to|a period of|a maximum of|no more than|not more than|at most)\s+(?:\w+\s+)?(?:\(\d{1,3}\)\s+)?(?:days?|weeks?|months?|years?)\b/i;

/**
 * A section statement's own condition beyond age (a QA pass on Kaiser, Molina and Aetna wording): the
 * words between its coverage predicate and its list — "Replacement is covered when the battery is
 * depleted and the patient meets both:", "medically necessary if at least 6 months have passed since
 * the last injection and all of the following", "for members with radiographic grade 4 osteoarthritis
 * when ALL of the following" — which a request must meet besides the list. Dropping them approved
 * requests nobody had asked them of. Centene's "… medically necessary when all of the following
 * criteria are met" states none. The use a statement names ("for the treatment of giant cell arteritis
 * when …", "to treat Crohn's disease in adults") is asked by its diagnosis: read as the service's purpose
 * and dropped, it approved a patient with another diagnosis on the criteria written for this one (QA
 * pass 5). Bounded: the predicate is looked for in the last 400 characters.
 */
function statementCondition(pre: string): string | undefined {
  const window = pre.slice(-400);
  // A not-covered statement's words say when it applies; its kind carries the negation (a list of the
  // patient's conditions keeps no condition of its own: src/library/exclusions.ts).
  if (negativeStatement(window)) return undefined;
  // The statement's own predicate: the first "is (considered) medically necessary / covered / …" — a
  // later "who are eligible for surgery", "not indicated", "a joint covered by the plan" is inside the
  // condition (a second reading found the condition lost after them); else the last coverage word
  // ("Aetna considers X medically necessary for …").
  const copula = COPULA_PREDICATE.exec(window);
  const covers = payerCovers(window);
  const p =
    (covers && (!copula || covers.index < copula.index) ? covers : copula) ?? COVERAGE_PREDICATE.exec(window);
  const parts: string[] = [];
  // "For members with grade 4 osteoarthritis, Gizmab is considered medically necessary when …".
  const lead = LEADING_CONDITION.exec(window);
  if (lead && p && lead.index + lead[0].length <= p.index) {
    const part = tidyCondition(lead[1] as string);
    if (part !== undefined && !NO_CONDITION.test(part) && !DURATION_ONLY.test(part)) parts.push(part);
  }
  if (!p) return parts.length > 0 ? parts.join(" and ") : undefined;
  let tail = window.slice(p.index + p[0].length);
  // "Humana covers gizmo stimulation for members with X when …": the verb's object (the service) comes
  // before the condition (QA pass 7).
  if (/^covers$/i.test(p[0])) {
    const at = /\s(?=(?:for|in|when|if|where|provided|only)\s)/i.exec(tail.slice(0, 160));
    if (at) tail = tail.slice(at.index);
  }
  const open = CONDITION_OPEN.exec(tail);
  if (open) {
    // "as first-line therapy of X when all are met": after "as", only the use is a condition (the
    // words after its "when" lead into the list).
    const asUse = /\bas\s*$/i.test(open[0]);
    const raws = tail.slice(open[0].length).split(CONDITION_SPLIT);
    for (const raw of asUse ? raws.slice(0, 1) : raws) {
      const stated = tidyCondition(raw.replace(LEAD_INTO_LIST, ""));
      // "for the treatment of giant cell arteritis": the diagnosis is asked (QA pass 5: read as the
      // service's use and dropped, a patient with another diagnosis was approved on its criteria).
      const use = stated === undefined ? null : USE_OF.exec(stated);
      if (use && stated !== undefined) {
        const dx = tidyCondition(stated.slice(use[0].length));
        if (dx !== undefined && !NO_DIAGNOSIS.test(dx) && !NO_CONDITION.test(dx) && !DURATION_ONLY.test(dx))
          parts.push(alternativesOf(dx));
        continue;
      }
      const part = stated;
      // Two words can name a condition ("Crohn's disease"); one word must not be a connective.
      if (
        part === undefined ||
        NO_CONDITION.test(part) ||
        DURATION_ONLY.test(part) ||
        part.split(/\s+/).length < 2
      )
        continue;
      parts.push(part);
    }
  }
  return parts.length > 0 ? parts.join(" and ") : undefined;
}

/**
 * A statement's population and its own condition, both asked. Where they are one phrase read twice
 * (they start alike), the reading that keeps the population's words whole.
 */
function bothConditions(population: string | undefined, own: string | undefined): string | undefined {
  if (population === undefined || own === undefined) return population ?? own;
  // "Crohn's disease in adults" holds the population "adults": asked once.
  if (own.includes(population)) return own;
  if (own.slice(0, 12) !== population.slice(0, 12)) return `${population} and ${own}`;
  return own.includes(population) ? own : population;
}

/** Words that limit a covered population by age or maturity ("adults aged 18 years or older"). */
const POPULATION =
  /\b(?:ag(?:ed?|es) \d{1,3}|\d{1,3}(?:-| )(?:years?|yrs?)(?: of age| old)(?: (?:and|or) (?:older|over|younger|under|above|below|greater))?|\d{1,3}(?:-| )(?:years?|yrs?) (?:and|or) (?:older|over|younger|under|above|below|greater|more)|at least \d{1,3} years of age|(?:younger|older) than \d{1,3}|under (?:the )?age|(?:under|over) \d{1,3}(?= (?:years|yrs|who|and|or|with|when|that|if)\b|[,;:).]|$)|between (?:the )?ages? (?:of )?\d{1,3}|adults?|children|child|adolescents?|pediatric|skeletally (?:mature|immature))\b/gi;
/** Words before a number of years that make it a duration ("symptoms for 2 years or more"). */
const DURATION =
  /\b(?:for|lasting|past|last|within|after|during|over|since|symptoms?|history of)\s+(?:the\s+)?(?:up to\s+|at least\s+|more than\s+)?$/i;
/**
 * ", or …" / ", and in …" going on with another population, not into the list ("and the member meets
 * all of", "or any of the following").
 */
const ALTERNATIVE_POPULATION =
  /^,?\s+(?:or|and)\s+(?!(?:the\s+)?(?:patients?|members?|individuals?|beneficiar(?:y|ies)|enrollees?)(?:\s+(?:who\s+)?(?:meets?|has|have|satisf)|\s*$)|(?:all|any|one|both|either|each|none|at least)\b|(?:meets?|has|have|satisf))/i;
/** A statement's connective left at the end of a phrase cut before the list's quantifier ("…, when"). */
const TRAILING_CONNECTIVE = /(?:,?\s+(?:when|where|if|provided(?: that)?|once))+\s*$/i;
/** Where the population phrase ends: a verb of the statement, a connector, a clause break. */
const POPULATION_END =
  /(?<!\b(?:who|that))\s(?:is|are)\s|\s(?:when|where|if|who meets?|that meets?|meeting|provided|only)\s|[,;:]|\((?!\d)/i;

/**
 * A section statement's own condition on who is covered, where it states one by age or maturity
 * ("Bariatric surgery is considered medically necessary for adults aged 18 years or older when all
 * of the following…", "CPAP therapy when used in adult patients with OSA is considered…"): the phrase
 * after its "for"/"in" up to the statement's next verb or connector. Other payers' documents put such
 * limits in the statement itself; dropping it would approve a child on the adult criteria. Centene's
 * statements ("It is the policy of … that X is medically necessary when …") state none.
 */
function populationOf(statement: string): string | undefined {
  // The first age or maturity phrase that is not a duration (at most 8 looked at).
  let m: RegExpExecArray | null = null;
  POPULATION.lastIndex = 0;
  for (let k = 0; k < 8; k++) {
    const x = POPULATION.exec(statement);
    if (!x) break;
    if (/^\d/.test(x[0]) && DURATION.test(statement.slice(Math.max(0, x.index - 30), x.index))) continue;
    m = x;
    break;
  }
  if (!m) return undefined;
  // The preposition that opens the phrase: the last " for "/" in "/" among " within 80 characters before.
  const from = Math.max(0, m.index - 80);
  const window = statement.slice(from, m.index + 1);
  let open = -1;
  for (const p of [" for ", " in ", " among "]) open = Math.max(open, window.lastIndexOf(p));
  if (open < 0) return undefined;
  const start = from + open + 1;
  // "… except in children under 12": the phrase names who is left out, which no condition says.
  if (
    /\b(?:except|excluding|other than|unless|not)\s*$/i.test(statement.slice(Math.max(0, start - 20), start))
  )
    return undefined;
  const rest = statement.slice(m.index + m[0].length);
  const end = POPULATION_END.exec(rest);
  let stop = m.index + m[0].length + (end ? end.index : rest.length);
  // An alternative population after a comma ("adults with a BMI of 40 or more, or a BMI of 35 or more
  // with a comorbidity"; "in adults, and in adolescents with closed growth plates") belongs to the
  // condition: cut at the comma, it required the first alternative only (a QA pass; at most 3 more).
  let extended = false;
  for (let k = 0; k < 3; k++) {
    const alt = ALTERNATIVE_POPULATION.exec(statement.slice(stop, stop + 200));
    if (!alt) break;
    // An alternative keeps its own qualifier ("or for adolescents … if their growth plates are closed",
    // "or in children only when prescribed by …"): it runs to the next comma, not to its "if"/"when"
    // (a second reading found the qualifier cut, so an adolescent with open growth plates answered yes).
    const more = statement.slice(stop + alt[0].length);
    const e2 = /[,;:(]/.exec(more);
    stop += alt[0].length + (e2 ? e2.index : more.length);
    extended = true;
  }
  let phrase = statement.slice(start, stop);
  // "for members under 21 who" + "meet all of the following": the words leading into the list go.
  phrase = phrase.replace(LEAD_INTO_LIST, "").replace(/\s+(?:with|having)\s*$/i, "");
  if (extended) phrase = phrase.replace(TRAILING_CONNECTIVE, "");
  return tidyCondition(phrase.replace(/^(?:for|in|among) /i, ""));
}

/** A title-case caption of at most eight words ending in a period, then a sentence. */
const CAPTION =
  /^[A-Z][\w/&-]*(?: (?:[A-Z0-9][\w/&()-]*|of|and|or|for|the|to|in|a|an|with|on|by)){0,7}\. (?=[A-Z])/;

/** Words of a title, not of a condition. */
const CAPTION_WORDS =
  /\b(?:Criteria|Requirements|Evaluation|Selection|Indications|Guidelines|Documentation|Assessment|Considerations|Overview|Definitions|Coverage|Policy|Initial|Continuation|Continued|Approval|Authorization)\b/;

/** The text after a leading caption ("Pre-operative Evaluation. The member has…"), or undefined. */
function afterCaption(text: string): string | undefined {
  const m = CAPTION.exec(text.slice(0, 120));
  // Only a title ("Selection Criteria for …", "Pre-operative Evaluation"): a short first sentence that
  // states something ("Chronic Pain.", "Patients with COPD.") is the group's condition.
  if (!m || !CAPTION_WORDS.test(m[0]) || CAPTION.test(text.slice(m[0].length, m[0].length + 120)))
    return undefined;
  const rest = text.slice(m[0].length);
  return rest.length >= 10 ? rest : undefined;
}

/** A requirement verb: what a lead-in says must hold ("must include", "requires"). */
const REQUIRES = /\b(?:must|shall) (?:include|have|be|consist of)\b|\brequires?\b/i;

/**
 * "A positive diagnosis … must include a clinical evaluation and a positive:" (CMS NCD 240.4): a
 * requirement lead-in whose list only completes its last words ("a positive: a. PSG; or b. …") also
 * requires what it names before that "and" — the group's condition (the lead-in's words up to the
 * "and"). Only where what follows the "and" is a few words with no verb of its own.
 */
function requiredBeside(text: string): string | undefined {
  const t = text.replace(/(?<![\s:])[\s:]+$/, "");
  const at = t.lastIndexOf(" and ");
  if (at < 0 || t.length - at > 40) return undefined;
  const rest = t.slice(at + 5).trim();
  const words = rest.split(" ");
  if (words.length > 3 || !/^(?:(?:an?|the|one|some) )?[\w-]+(?: [\w-]+)?$/i.test(rest)) return undefined;
  if (/\b(?:is|are|be|has|have|must|the following|following)\b/i.test(rest)) return undefined;
  const before = t.slice(0, at);
  return REQUIRES.test(before) ? tidyCondition(before) : undefined;
}

/** Index of the last sentence end (". " before a capital) in `text`, or -1. Linear scan, no regex. */
function lastSentenceBreak(text: string): number {
  for (let i = text.length - 2; i > 0; i--) {
    const c = text.charCodeAt(i);
    if (c !== 46 /* . */ || text.charCodeAt(i + 1) !== 32) continue;
    const next = text.charCodeAt(i + 2);
    const prev = text.charCodeAt(i - 1);
    // "e.g. X", "i.e. X", "Dr. X", "No. 5": an abbreviation, not a sentence end.
    if (text.charCodeAt(i - 2) === 46 || (prev >= 65 && prev <= 90 && text.charCodeAt(i - 2) === 32))
      continue;
    if (next >= 65 && next <= 90) return i;
  }
  return -1;
}

/**
 * A list item that is itself a reference to other criteria (a QA pass on Medicaid and BCBS styles):
 * "The member met all criteria for the trial above", "Meets the initial approval criteria", "All
 * criteria in Section I are met", "The above criteria for the trial have been met". Its subject or
 * section, to be resolved to an earlier section; undefined for an ordinary criterion. Bounded,
 * linear patterns on one item's text.
 */
export function itemReference(text: string): ItemReference | undefined {
  if (text.length > 300) return undefined;
  const found = referenceIn(text);
  if (!found?.refText || found.doubt) return found;
  const at = text.indexOf(found.refText);
  const before = text.slice(0, Math.max(0, at));
  const after = text.slice(at + found.refText.length);
  // After the reference only punctuation, "are met", or "(see Section I)" may follow: "… and has
  // experienced a positive response" or ", with substantial pain relief" adds a requirement of its own.
  const tail = after.replace(/\(see [^()]{0,40}\)/i, "").trim();
  if (
    !/^(?:(?:are|is|have been|has been|were|was) (?:met|satisfied))?[.;,:]*$/i.test(tail) ||
    /\b(?:or|either)\b|\bsection [IVX]{1,6}\b/i.test(before)
  )
    return { ...found, doubt: SAYS_MORE };
  return found;
}

/** `itemReference`'s doubt where words of their own follow or precede the reference. */
export const SAYS_MORE = "it says more than that those criteria are met";

/** An item that refers to other criteria: what `itemReference` found. */
export type ItemReference = LeadIn & {
  /** Why it is not simply "those criteria are met" (a negation, alternatives, more words). */
  doubt?: string;
  /**
   * The labels a reference by number names ("criteria 1.a and 1.b above" → 1.a, 1.b; "#1 above" → 1),
   * to be resolved to earlier sections; a single one is also `refSection`.
   */
  refLabels?: string[];
  /** How the labels are joined where not all are required ("1 or 2", "1 through 4"). */
  labelDoubt?: string;
};

/**
 * A reference to other criteria anywhere in `text` (an item's, or a lead-in's words before its list):
 * what `itemReference` reads, with doubt where the words before it negate it ("does not meet the
 * criteria for the trial above") or its labels are alternatives or a range — but not whether more
 * words follow it.
 */
export function referenceIn(text: string): ItemReference | undefined {
  if (!/\b(?:criteri(?:a|on)|requirements?)\b/i.test(text)) return undefined;
  const found = findReference(text);
  if (!found?.refText) return found;
  // Where the item says more than "those criteria are met" — a negation before ("does not meet the
  // criteria for the trial above"), alternatives or limits after ("in section I, II, or III", "except",
  // a number) — it is not that section's tree: it stays a question and its section is uncertain.
  const before = text.slice(0, Math.max(0, text.indexOf(found.refText)));
  if (/\b(?:not|never|no longer|fails?|failed|unable|neither|nor)\b/i.test(before))
    return { ...found, doubt: "it says the criteria are not met" };
  if (found.labelDoubt) return { ...found, doubt: found.labelDoubt };
  return found;
}

/** What follows a reference that ends it: the end, punctuation, or "are/have been met". */
const REF_TAIL = String.raw`(?=\s*(?:$|[.;,:]|(?:are|is|have been|has been|were|was) (?:met|satisfied)\b))`;
const ITEM_SECTION = new RegExp(
  String.raw`\b(?:criteria|requirements) (?:in|of|under|for) section ([IVX]{1,6}|\d{1,2})(?: above)?${REF_TAIL}`,
  "i",
);
/**
 * A criterion's label as a reference prints it: "1", "1.", "1.a", "#2", "I", "I.A.3", "B", "B.2". Bounded
 * repetitions only, and alternatives that start differently (the text is untrusted: a label can be read
 * one way only, so a failed match does not retry each split).
 */
const LABEL = String.raw`(?:#\s?\d{1,2}|\d{1,2}(?:\.(?:\d{1,2}|[a-z]{1,2}|[ivx]{3,4})){0,3}\.?|[IVX]{1,6}(?:\.(?:[A-Z]|\d{1,2}|[a-z]{1,2})){0,3}\.?|[A-HJ-UWYZ](?:\.\d{1,2}(?:\.[a-z]{1,2})?)?\.?)(?![\w#%/-])`;
/** Between two labels of one reference. */
const LABEL_JOIN = String.raw`(?:, and |, or |, | and | or | & | through | to | ?[-\u2013] ?)(?:section |#)?`;
/**
 * "criteria in 1. above", "criteria in #1 above", "criteria 1.a and 1.b above", "criteria 1, 2, and 4
 * above", "criterion 5 is met", "requirements of item 3": other criteria named by their labels (a QA
 * pass found each read as a criterion the requester answers). Only where the labels end the reference
 * ("above", "below", the end, punctuation, "is met"): "criterion A for PTSD" is the DSM's. Case matters
 * (a lower-case "a" is an article); the words around the labels are matched in lower case as printed.
 */
const ITEM_NUMBERED = new RegExp(
  String.raw`\b(?:[Cc]riteri(?:a|on)|[Rr]equirements?)(?: (?:listed |stated |outlined |described |set out )?(?:in|of|under|from|at))?(?: (?:[Ss]ection|[Ii]tem|[Nn]umber|[Nn]o\.|[Pp]art))? ?(${LABEL}(?:${LABEL_JOIN}${LABEL}){0,12})(?:(?: (?:above|below))(?=\s+and\s)|(?: (?:above|below|of this policy|in this policy))?${REF_TAIL})`,
);
const ONE_LABEL = new RegExp(LABEL, "g");
/**
 * Criteria of the policy named by what they are for, with no section to resolve them to ("continues to
 * meet admission criteria", "meets medical necessity criteria"): a reference no reading can evaluate.
 */
const ITEM_UNNAMED =
  /\b(?:meets?|met|meeting|satisf(?:y|ies|ied)|fulfill?s?|fulfilled) (?:all )?(?:of )?(?:the )?(?:admission|continued stay|continuation|coverage|medical necessity|approval|authorization|reauthorization|renewal|policy)(?: \w+)? (?:criteria|requirements)\b/i;

/** The labels of a numbered reference ("1.a and 1.b" → 1.a, 1.b), and doubt where not all are required. */
function labelsOf(list: string): { labels: string[]; doubt?: string } {
  const labels = (list.match(ONE_LABEL) ?? []).map((l) => l.replace(/[#\s]/g, "").replace(/\.$/, ""));
  if (/ or /.test(list)) return { labels, doubt: "it names alternatives" };
  if (/ through | to |[-\u2013]/.test(list)) return { labels, doubt: "it names a range" };
  return { labels };
}
const ITEM_ABOVE = new RegExp(
  String.raw`\b(?:criteria|requirements) (?:for|in|of|under) (?:the )?([a-z][\w -]{0,60}?) (?:(?:listed|stated|described|outlined) )?above${REF_TAIL}`,
  "i",
);

function findReference(text: string): ItemReference | undefined {
  const lead = readLeadIn(text, false);
  if (lead.refText) return { kind: "all", found: false, ...pick(lead) };
  const sec = ITEM_SECTION.exec(text);
  if (sec)
    return { kind: "all", found: false, refSection: (sec[1] as string).toUpperCase(), refText: sec[0] };
  const hit = ITEM_NUMBERED.exec(text);
  // "Exposure meeting DSM-5 Criterion A", "criterion B for PTSD": a bare letter names another
  // instrument's criterion unless the words say where ("above", "in section B"): a second reading found
  // it read as a reference to section A, and an adolescent denied for not being an adult.
  const numbered =
    hit &&
    /^[A-Za-z]$/.test((hit[1] as string).replace(/[.#\s]/g, "")) &&
    !/\b(?:above|below|section|item|part)\b/i.test(hit[0])
      ? null
      : hit;
  if (numbered) {
    const { labels, doubt } = labelsOf(numbered[1] as string);
    return {
      kind: "all",
      found: false,
      refText: numbered[0],
      refLabels: labels,
      ...(labels.length === 1 && { refSection: labels[0] as string }),
      ...(doubt !== undefined && { labelDoubt: doubt }),
    };
  }
  const above = ITEM_ABOVE.exec(text);
  if (above) return { kind: "all", found: false, refSubject: (above[1] as string).trim(), refText: above[0] };
  const named =
    /\b(?:meets?|met|meeting|satisf(?:y|ies|ied)|fulfill?s?|fulfilled) (?:all )?(?:of )?(?:the )?(initial|original|preliminary trial|trial)(?: \w+)? (?:criteria|requirements)\b/i.exec(
      text,
    );
  if (named)
    return { kind: "all", found: false, refSubject: (named[1] as string).toLowerCase(), refText: named[0] };
  const unnamed = ITEM_UNNAMED.exec(text);
  if (unnamed) return { kind: "all", found: false, refText: unnamed[0] };
  return undefined;
}

function pick(l: LeadIn): Pick<LeadIn, "refSubject" | "refSection" | "refText"> {
  return {
    ...(l.refSubject !== undefined && { refSubject: l.refSubject }),
    ...(l.refSection !== undefined && { refSection: l.refSection }),
    ...(l.refText !== undefined && { refText: l.refText }),
  };
}

/** Whether an item's text introduces a list ("…all of the following:"). */
export function looksLikeLeadIn(text: string): boolean {
  return /:\s*[*\uE000†‡]*\s*$/.test(text) || /\bthe following\b/i.test(text);
}

/**
 * A lead-in over a list of alternatives it does not quantify: "limited to the following conditions:",
 * "in the following circumstances:", "for the following indications:". One listed condition suffices
 * (the list names covered — or excluded — situations, not requirements that must all hold).
 */
const ALTERNATIVES =
  /\b(?:(?:the following|these|following) (?:\w+ ){0,2}(?:conditions|indications|diagnoses|circumstances|situations|clinical situations|populations|disorders|diseases|uses)|covered (?:indications|conditions)|there (?:are|is) (?:\w+ )?(?:types|kinds|forms|categories) of)\b/i;

/** Whether an unquantified lead-in lists alternatives (`any`). */
export function listsAlternatives(text: string): boolean {
  return ALTERNATIVES.test(text) && !/\bcriteria\b|\brequirements\b/i.test(text);
}
