/**
 * The policy/criteria region → sections and criteria trees (SPEC 1.3, 1.4). The hierarchy comes from
 * the label STYLE and sequence of each item (I → A → 1 → a → i), with indentation only as a
 * tie-breaker, because documents converted from PDF or Word print nesting inconsistently. Ids are
 * list positions written in each level's style; printed labels that repeat, skip or restart become
 * findings.
 */
import type {
  BranchNode,
  CriterionNode,
  CriterionNote,
  Finding,
  LabelStyle,
  Section,
  SectionKind,
  SubPolicy,
  Unplaced,
} from "../model/index.js";
import { unplacedInsideReason } from "../model/index.js";
import { collapse, criterionText, ESC_STAR, finishText, takeMarker } from "./inline.js";
import { decimalNumbers, formatLabel, type LabelCandidate, parseLabel, STYLE_ORDER } from "./labels.js";
import {
  type ItemReference,
  itemReference,
  type LeadIn,
  listsAlternatives,
  looksLikeLeadIn,
  numberOf,
  readLeadIn,
  referenceIn,
  SAYS_MORE,
} from "./leadin.js";
import {
  CONNECTOR_LINE,
  cellsOf,
  type Line,
  titleCased,
  VERDICT_COLUMN,
  VERDICT_NO,
  VERDICT_YES,
} from "./lines.js";

interface RawItem {
  token: string;
  /** The line as printed (label included), should the label turn out to be wrapped text. */
  printed: string;
  cands: LabelCandidate[];
  texts: string[];
  line: number;
  indent: number;
  style?: LabelStyle;
  value?: number;
  children: RawItem[];
  issue?: { code: string; expected: number };
  /** Its words once read (cached: the text is needed for the node and for its parent's lint). */
  read?: ReturnType<typeof criterionText>;
  /**
   * An unlabeled bullet: the item whose lead-in it is listed under. Its id is its position, written
   * in the label style of the level below that item (SPEC 1.4: position, not the printed label).
   */
  bulletOf?: RawItem;
  /**
   * A paragraph lead-in that opens a further list inside a section ("For each of the covered indications
   * above, the following additional criteria must also be met:"): a group `<section>-<k>` (issue 12).
   */
  block?: boolean;
  /**
   * A block whose lead-in is a caption over a list that starts its labels again ("Rheumatoid Arthritis",
   * then "A. …"): the list is the caption's (a diagnosis of a pharmacy form), see {@link captionGroups}.
   */
  caption?: string;
  /** The first labelled item read under this section or block (where its list's labels started). */
  first?: RawItem;
  /** A caption read right after an item ending in "and"/"or" (an "AND" line): its list may be required too. */
  joinedBefore?: boolean;
  /** How many of `children` are blocks, and how many requirement paragraphs (counted as placed). */
  blocks?: number;
  unlisted?: number;
  /** A section found from its statement or heading, not from a printed label (numbered I, II, … by position). */
  synthetic?: boolean;
  /** A requirement paragraph: a criterion of this item (or section), after its list (issue 12). */
  paraOf?: RawItem;
  /** A lettered heading ("D. Other"): after a finished list it is the next section, not the next item. */
  heading?: boolean;
  /** A line of its own, "OR" / "-AND-", stood after this item (its line and word): groups the tree cannot show. */
  joinLine?: { line: number; word: string; placed?: boolean };
  /** Where in `texts` each paragraph after the first line starts, and its line (statement paragraphs). */
  paras?: { at: number; line: number }[];
  /**
   * Decimal numbering ("1." → "1.2" → "1.2.1"): the item's printed numbers, and for a decimal label the
   * item it nests under — told by its numbers, not by the style order (a list of digits in digits).
   */
  path?: number[];
  decimalOf?: RawItem;
  /** Why a decimal label's place is not certain (it skips, goes back, or names another parent). */
  decimalDoubt?: string;
}

/** Adds a paragraph's first line to an item's text, remembering where (and on which line) it starts. */
function pushParagraph(item: RawItem, text: string, line: number): void {
  item.paras ??= [];
  item.paras.push({ at: item.texts.length, line });
  item.texts.push(text);
}

/** Whether a paragraph speaks of coverage (issue 12): covered or not-covered language. */
export function statesCoverage(text: string): boolean {
  const t = withoutBoilerplate(text);
  return COVERED.test(t) || NOT_COVERED.test(t) || PAYER_COVERS.test(t) || PAYER_NOT_COVERS.test(t);
}

/**
 * Whether a labeled item opens a section: a top-level roman item with a policy statement (Centene), or
 * a lettered heading such as CMS's "B. Nationally Covered Indications" (short, no closing punctuation).
 */
function opensSection(cands: readonly LabelCandidate[], rest: string, indent: number): boolean {
  if (indent > 1) return false;
  const t = finishText(rest);
  if (cands.some((c) => c.style === "roman") && (STATEMENT.test(t) || statementCoverage(t))) return true;
  return (
    cands.some((c) => c.style === "upper") &&
    t.length > 0 &&
    t.length <= 80 &&
    !/[.;,:]$/.test(t) &&
    /^[A-Z]/.test(t) &&
    !/\b(?:and|or)$/i.test(t)
  );
}

/** How many of `items` are synthetic sections, counted as items are added (not again per section). */
const counted = new WeakMap<readonly RawItem[], { n: number; synthetic: number }>();

function syntheticCount(items: readonly RawItem[]): number {
  let c = counted.get(items);
  if (!c) {
    c = { n: 0, synthetic: 0 };
    counted.set(items, c);
  }
  for (; c.n < items.length; c.n++) if (items[c.n]?.synthetic) c.synthetic++;
  return c.synthetic;
}

/** A leading statement (read before any list) as section I, once a list shows it leads one. */
function sectionFromLead(lead: { texts: string[]; line: number; indent: number }): RawItem {
  return {
    token: "",
    printed: lead.texts.join(" "),
    cands: [{ style: "roman", value: 1 }],
    texts: lead.texts,
    line: lead.line,
    indent: lead.indent,
    children: [],
    synthetic: true,
  };
}

/** An item with no printed label: a bullet, a further lead-in (block) or a requirement paragraph. */
function unlabeled(text: string, ln: Line, kind: Pick<RawItem, "block" | "bulletOf" | "paraOf">): RawItem {
  return {
    token: "",
    printed: text,
    cands: [],
    texts: [text],
    line: ln.no,
    indent: ln.indent,
    children: [],
    ...kind,
  };
}

function syntheticSection(text: string, ln: Line, n: number): RawItem {
  return {
    token: "",
    printed: text,
    cands: [{ style: "roman", value: n }],
    texts: [text],
    line: ln.no,
    indent: ln.indent,
    children: [],
    synthetic: true,
  };
}

/**
 * The connector after an item in its list: a leaf's own ("…; or"); for an item with a nested list, the
 * one printed after the nested list's last item ("v. …; or" then "b. …": the "or" joins a. and b.).
 */
function trailingJoiner(item: RawItem): "and" | "or" | undefined {
  let it = item;
  for (let d = 0; d < MAX_DEPTH * 4 && it.children.length > 0; d++)
    it = it.children[it.children.length - 1] as RawItem;
  return it.children.length === 0 ? readItem(it).joiner : undefined;
}

function readItem(item: RawItem): ReturnType<typeof criterionText> {
  item.read ??= criterionText(collapse(item.texts.join(" ")));
  return item.read;
}

interface RawNote {
  marker?: string;
  texts: string[];
  line: number;
}

export interface Paragraph {
  text: string;
  line: number;
}

export interface CriteriaResult {
  sections: Section[];
  findings: Finding[];
  unplaced: Unplaced[];
  /** "Refer to …" paragraphs met in the criteria region (cross-references). */
  referParagraphs: Paragraph[];
}

/** Deeper nesting than this is not a policy list but a mis-read; such items are reported. */
const MAX_DEPTH = 8;

/** An unlabeled policy statement ("It is the policy of … that … is medically necessary when…"). */
const STATEMENT = /\bit is the policy\b|\bmedically necessary\b|\bhas not been proven\b|\binvestigational\b/i;

// Each run of white space can be read one way only: with `\s*` next to `\s*` (or `\s` inside a starred
// group after `^\s*`), a line of spaces without a note is retried in every split (cubic in its length).
const NOTE_START =
  /^\s*((?:(?:\*|\\\*|_|†|‡|<\/?(?:b|i|em|strong)>)\s*)*)note(?:\s*\d{1,2})?\s*(?:(?:\*|_|<\/?(?:b|i|em|strong)>)+\s*)?:/i;

/** Recognizes a note paragraph ("*Note: …", "**Note:* …", "*\*Note:* …", "†Note: …") and its marker. */
export function readNoteStart(ln: Line): RawNote | undefined {
  const m = NOTE_START.exec(ln.raw);
  if (!m) return undefined;
  const prefix = m[1] ?? "";
  let marker: string | undefined;
  if (prefix.includes("\\*")) marker = "*";
  else if (prefix.includes("†")) marker = "†";
  else if (prefix.includes("‡")) marker = "‡";
  else {
    // Emphasis comes in pairs; an odd star count means one of them is the note's marker.
    const stars = (ln.raw.replace(/\\\*/g, "").match(/\*/g) ?? []).length;
    if (stars % 2 === 1) marker = "*";
  }
  const body = ln.text.replace(/^[\s*†‡\uE000_]*note\s*\d{0,2}\s*[*_]*\s*:\s*/i, "");
  return marker === undefined ? { texts: [body], line: ln.no } : { marker, texts: [body], line: ln.no };
}

/**
 * White space and markers at the end. `(?<!…)`: the run is tried from its start only — from each of its
 * characters, a long run not at the end would be scanned again and again (quadratic in its length).
 */
const TRAILING_MARKS = /(?<![\s*†‡])[\s*†‡]+$/;

/** The last text asked about and its answer: the loop asks about the same item's tail line after line. */
let lastTerminal: { text: string; ends: boolean } | undefined;

function endsTerminal(text: string): boolean {
  if (lastTerminal?.text === text) return lastTerminal.ends;
  const t = finishText(text).replace(TRAILING_MARKS, "");
  const ends = /[.;:!?]$/.test(t);
  lastTerminal = { text, ends };
  return ends;
}

/** Text that stops mid-sentence: no closing punctuation and no joiner. */
function unfinished(text: string): boolean {
  const t = finishText(text).replace(TRAILING_MARKS, "");
  return t !== "" && !/[.;:!?]$/.test(t) && !/\b(?:and|or)$/i.test(t);
}

/** A character other than white space and note markers. */
const SOLID = /[^\s*\uE000†‡]/;
/** The part of `looksLikeLeadIn` that is not anchored at the text's end. */
const THE_FOLLOWING = /\bthe following\b/i;

/** What the tests below need of a wrapped text, kept as its lines are added (they are only appended). */
interface TextScan {
  /** Lines read. */
  n: number;
  /** The last line with a solid character (-1: none). */
  solid: number;
  /** Whether the text says "the following". */
  following: boolean;
}
const scans = new WeakMap<readonly string[], TextScan>();

function scanOf(texts: readonly string[]): TextScan {
  let scan = scans.get(texts);
  if (!scan) {
    scan = { n: 0, solid: -1, following: false };
    scans.set(texts, scan);
  }
  for (; scan.n < texts.length; scan.n++) {
    const t = texts[scan.n] as string;
    if (SOLID.test(t)) scan.solid = scan.n;
    if (!scan.following) scan.following = THE_FOLLOWING.test(scan.n > 0 ? `${texts[scan.n - 1]} ${t}` : t);
  }
  return scan;
}

/**
 * The end of a wrapped text (`texts.join(" ")`) that the tests anchored at its end read (`endsTerminal`,
 * `unfinished`, a lead-in's closing colon): from its last line with a solid character, with at most
 * two lines of markers after it (two marker lines after a colon end no lead-in; the punctuation tests
 * skip markers). A text grows line by line and is tested after each line: joining and scanning it
 * whole each time is quadratic. The lines are cleaned text: trimmed, only the first may be empty.
 */
function tailOf(texts: readonly string[]): string {
  const from = Math.max(0, scanOf(texts).solid);
  return from === texts.length - 1 ? (texts[from] as string) : texts.slice(from, from + 3).join(" ");
}

/** `looksLikeLeadIn(texts.join(" "))`, read from the cached scan and the tail (see `tailOf`). */
function leadsIn(texts: readonly string[]): boolean {
  return scanOf(texts).following || looksLikeLeadIn(tailOf(texts));
}

/** An item that leads in a list, or a table row read as an item (the rows after it are its siblings). */
function leadsInOrRow(item: RawItem): boolean {
  return leadsIn(item.texts) || (item.bulletOf !== undefined && item.children.length === 0);
}

function startsLower(text: string): boolean {
  return /^[a-z(]/.test(text);
}

interface Level {
  style: LabelStyle;
  last: number;
  seen: Set<number>;
  indent: number;
  items: RawItem[];
  /** A level of decimal labels: only decimal labels naming its parent join it. */
  decimal?: boolean;
}

function seqCost(lvl: Level, v: number): number {
  if (v === lvl.last + 1) return 0;
  if (v === 1) return 3;
  if (lvl.seen.has(v)) return v === lvl.last ? 2 : 3.5;
  if (v > lvl.last + 1) return 1 + Math.min(10, (v - lvl.last - 2) * 0.5);
  return 4;
}

/** The stack level of a block lead-in: no printed label has this style. */
const BLOCK_LEVEL = "block" as LabelStyle;

function orderOf(style: LabelStyle): number {
  return STYLE_ORDER.indexOf(style);
}

/**
 * Places an unlabeled bullet under `owner` (whose lead-in it follows): after a sibling bullet of the
 * same lead-in, next in that level; else first of a new level, in the style that follows the owner's.
 */
function placeBullet(item: RawItem, owner: RawItem, stack: Level[]): boolean {
  const k = stack.findIndex((l) => l.items[l.items.length - 1] === owner);
  if (k < 0 || owner.style === undefined) return false;
  const below = stack[k + 1];
  if (below && below.items[below.items.length - 1]?.bulletOf === owner) {
    stack.length = k + 2;
    below.last++;
    below.seen.add(below.last);
    below.items.push(item);
    item.style = below.style;
    item.value = below.last;
    owner.children.push(item);
    return true;
  }
  const style = STYLE_ORDER[orderOf(owner.style) + 1];
  if (style === undefined || k + 1 >= MAX_DEPTH || stack.slice(0, k + 1).some((l) => l.style === style))
    return false;
  stack.length = k + 1;
  stack.push({ style, last: 1, seen: new Set([1]), indent: item.indent, items: [item] });
  item.style = style;
  item.value = 1;
  owner.children.push(item);
  return true;
}

/**
 * Places a decimal label's item under the item its numbers name (`owner`, open in the stack): after a
 * decimal sibling, next in that level; else first of a new level. Its value is its position (ids are
 * positions, SPEC 1.4; a printed number that skips or goes back was made a doubt when it was read).
 */
function placeDecimal(item: RawItem, owner: RawItem, stack: Level[]): boolean {
  const k = stack.findIndex((l) => l.items[l.items.length - 1] === owner);
  if (k < 0) return false;
  const below = stack[k + 1];
  if (below?.decimal && below.items[below.items.length - 1]?.decimalOf === owner) {
    stack.length = k + 2;
    below.last++;
    below.seen.add(below.last);
    below.items.push(item);
    item.value = below.last;
  } else {
    if (k + 1 >= MAX_DEPTH) return false;
    stack.length = k + 1;
    stack.push({
      style: "digit",
      last: 1,
      seen: new Set([1]),
      indent: item.indent,
      items: [item],
      decimal: true,
    });
    item.value = 1;
  }
  item.style = "digit";
  owner.children.push(item);
  return true;
}

/** Places each item in the list hierarchy by label style and sequence (cheapest reading wins). */
function buildHierarchy(items: RawItem[], unplaced: Unplaced[]): RawItem[] {
  const roots: RawItem[] = [];
  /** The item whose text the document flowed through last. */
  let prev: RawItem | undefined;
  const stack: Level[] = [];
  const useIndent = items.some((i) => i.indent > 0);
  for (const item of items) {
    if (item.paraOf) {
      item.paraOf.children.push(item);
      item.paraOf.unlisted = (item.paraOf.unlisted ?? 0) + 1;
      prev = item;
      continue;
    }
    if (item.block) {
      // A further list of the open section: a child of the section, with a level of its own below which
      // its items restart (the level's style matches no printed label, so nothing joins it as a sibling).
      const root = stack[0]?.items[stack[0].items.length - 1];
      if (!root || root.style === undefined) {
        unplaced.push({
          line: item.line,
          text: finishText(item.texts.join(" ")),
          reason: "lead-in paragraph before any section of the criteria",
        });
        continue;
      }
      stack.length = 1;
      item.style = root.style;
      // The first list is `<id>-1`; captions over every list of a section number from 1 (no first list).
      // Counted as they are added: a filter over the section's children per block was quadratic.
      const blocks = root.blocks ?? 0;
      const listed = root.children.length > blocks + (root.unlisted ?? 0);
      item.value = blocks + (item.caption && !listed ? 1 : 2);
      root.blocks = blocks + 1;
      root.children.push(item);
      stack.push({ style: BLOCK_LEVEL, last: 0, seen: new Set(), indent: item.indent, items: [item] });
      prev = item;
      continue;
    }
    if (item.decimalOf) {
      if (placeDecimal(item, item.decimalOf, stack)) prev = item;
      else
        unplaced.push({
          line: item.line,
          text: finishText(item.texts.join(" ")),
          reason: `decimal label "${item.token}" whose parent item is not in the list`,
        });
      continue;
    }
    if (item.bulletOf) {
      if (placeBullet(item, item.bulletOf, stack)) prev = item;
      else
        unplaced.push({
          line: item.line,
          text: finishText(item.texts.join(" ")),
          reason: "bulleted item with no list level left below its lead-in",
        });
      continue;
    }
    const top = stack[stack.length - 1];
    const topItem = top?.items[top.items.length - 1];
    // A lettered heading ("B. Nationally Covered Indications") introduces the list under it, as a lead-in does.
    const openLeadIn =
      topItem !== undefined &&
      topItem.children.length === 0 &&
      (leadsIn(topItem.texts) ||
        topItem.caption !== undefined ||
        (topItem.heading === true && stack.length === 1));
    let best: { cost: number; k: number; cand: LabelCandidate } | undefined;
    for (let k = stack.length - 1; k >= 0; k--) {
      const lvl = stack[k] as Level;
      // "3." after "1.1", "1.2": the next item of the outer list, never a sibling of 1.2.
      if (lvl.decimal) continue;
      const cand = item.cands.find((c) => c.style === lvl.style);
      if (!cand) continue;
      let cost = seqCost(lvl, cand.value) + 0.25 * (stack.length - 1 - k);
      if (openLeadIn) cost += 4;
      // "D. Other" after "C. …." closed a list of lettered exclusions: a heading, so the top level.
      if (item.heading && k > 0 && prev && !unfinished(tailOf(prev.texts)) && !readItem(prev).joiner)
        cost += 2;
      if (useIndent) cost += item.indent === lvl.indent ? -0.3 : 0.3;
      if (!best || cost < best.cost) best = { cost, k, cand };
    }
    if (stack.length < MAX_DEPTH) {
      for (const cand of item.cands) {
        let cost = cand.value === 1 ? 0 : 1 + Math.min(10, (cand.value - 2) * 0.5);
        if (!top) cost += cand.style === "roman" ? 0 : 1;
        else {
          if (!openLeadIn) cost += 3;
          if (orderOf(cand.style) <= orderOf(top.style)) cost += 2;
          if (stack.some((l) => l.style === cand.style)) cost += 3;
          if (useIndent) cost += item.indent > top.indent ? -0.3 : 0.3;
        }
        if (!best || cost < best.cost) best = { cost, k: stack.length, cand };
      }
    }
    const headingOpen = prev !== undefined && prev.heading === true && stack.length === 1 && topItem === prev;
    if (best && best.cost >= 3 && prev && !headingOpen && !prev.caption && unfinished(tailOf(prev.texts))) {
      // "…deficiency of vitamin" / "A. or B": a wrapped line that starts like a label but fits the list
      // badly, right after text that has not ended, continues that text.
      prev.texts.push(item.printed, ...item.texts.slice(1));
      continue;
    }
    if (!best) {
      unplaced.push({
        line: item.line,
        text: finishText(item.texts.join(" ")),
        reason: "list item whose label fits no level of the list",
      });
      continue;
    }
    const { k, cand } = best;
    prev = item;
    item.style = cand.style;
    item.value = cand.value;
    if (k < stack.length) {
      stack.length = k + 1;
      const lvl = stack[k] as Level;
      const expected = lvl.items.length + 1;
      if (cand.value !== lvl.last + 1) {
        // Classified against the label just before, as a reader sees it: 1,2,2 repeats; a,b,d skips.
        const code =
          cand.value === lvl.last
            ? "label-repeated"
            : cand.value === 1
              ? "label-restarted"
              : cand.value > lvl.last + 1
                ? "label-skipped"
                : lvl.seen.has(cand.value)
                  ? "label-repeated"
                  : "label-out-of-order";
        item.issue = { code, expected };
      }
      lvl.last = cand.value;
      lvl.seen.add(cand.value);
      lvl.items.push(item);
      const parentLvl = stack[k - 1];
      const parent = parentLvl?.items[parentLvl.items.length - 1];
      if (parent) parent.children.push(item);
      else roots.push(item);
    } else {
      if (cand.value !== 1) item.issue = { code: "label-skipped", expected: 1 };
      stack.push({
        style: cand.style,
        last: cand.value,
        seen: new Set([cand.value]),
        indent: item.indent,
        items: [item],
      });
      if (topItem) topItem.children.push(item);
      else roots.push(item);
    }
  }
  return roots;
}

/** "not considered / not deemed (to be) medically necessary / reasonable and necessary / covered". */
const NOT_CONSIDERED = String.raw`not (?:be )?(?:considered|deemed)(?: to be)? (?:(?:medically )?(?:reasonable and )?necessary|covered)`;
/** Humana's "may (NOT) be eligible under the Plan", Wellmark's "eligible for coverage". */
const ELIGIBLE = String.raw`(?:may|will|is|are) (?:be )?(?:considered |deemed )?eligible (?:for coverage|under the (?:plan|benefit|contract|policy))`;
const NOT_ELIGIBLE = String.raw`(?:may|will|is|are) not (?:be )?(?:considered |deemed )?eligible (?:for coverage|under the (?:plan|benefit|contract|policy))`;

const NOT_PROVEN = new RegExp(
  String.raw`\b(?:ha(?:s|ve) not been proven|not been (?:proven|established)|not medically necessary|${NOT_CONSIDERED}|investigational|experimental|current evidence does not support|(?:is|are) not covered|unproven)\b`,
  "i",
);
const MEDICALLY_NECESSARY = /\bmedically necessary\b/i;

/** Language of coverage (issue 12): a covered section's statement says one of these. */
const COVERED = new RegExp(
  String.raw`\b(?:medically necessary|reasonable and necessary|(?<!\bnot )(?:is|are|be|considered|remains?) (?:nationally )?covered|coverage is (?:provided|allowed|available)|(?:will|may) (?:be )?cover(?:ed)?|covered (?:indications|conditions|services)|nationally covered|(?:is|are) (?:considered )?established|considered (?:medically )?(?:necessary|appropriate)|proven and medically necessary|payment (?:may|will|shall|can) be made|(?:may|can) (?:also )?receive|(?:we|the plan) (?:will )?covers?|meets? (?:our|the plan's) (?:medical )?criteria for coverage|meets? the definition of medical necessity|${ELIGIBLE}|(?:will|may|shall) be approved|^approve (?:for|if|when)|(?:authorization|approval|coverage)(?: of \d{1,3} (?:days|weeks|months))? (?:may|will|shall) be granted|(?:medicaid|medicare|the (?:program|state|department)) (?:shall|will) cover|(?:is|are) a (?:covered )?benefit (?:of|for|under))\b`,
  "i",
);
/** Language of non-coverage: these decide `not-proven` where they come first in the statement. */
const NOT_COVERED = new RegExp(
  String.raw`\b(?:not medically necessary|not reasonable and necessary|${NOT_CONSIDERED}|(?:ha(?:s|ve) )?not (?:been )?(?:proven|established)|investigational|experimental|unproven|current evidence does not support|does not support|do not support|non-?covered|(?:is|are|remains?) not (?:nationally )?covered|(?:will|shall|may|might|should|must|can|could|would) not (?:be )?cover(?:ed)?|cannot (?:be )?cover(?:ed)?|(?:is|are|be) never covered|not covered|coverage (?:is|will be) not (?:provided|allowed|available)|not (?:a )?covered (?:service|benefit|procedure|item|drug|indication)s?|not payable|(?:is|are) not (?:considered )?approv(?:ed(?! by)|able)|no (?:program )?payment (?:may|will|shall) be made|excluded from coverage|exclusions?|(?:we|the plan) (?:do|does|will) not cover|(?:is|are) not (?:medically )?indicated (?:for|in|when|if)|(?:do|does) not meet (?:our|the plan's) (?:medical )?criteria for coverage|(?:do|does) not meet the definition of medical necessity|${NOT_ELIGIBLE}|(?:will|may|shall) not be (?:approved|granted)|(?:medicaid|medicare|the (?:plan|program|state|department)) (?:shall|will|does|do) not cover|(?:is|are) not a (?:covered )?benefit)\b`,
  "i",
);
/** Every not-covered phrase of a statement (to find covered language outside them). */
const NOT_COVERED_ALL = new RegExp(NOT_COVERED.source, "gi");
/**
 * A statement's own verbs of coverage that an item may use of something else: "Gizmab is approved when
 * …", "Gizmab is indicated for the treatment of X when …" (QA pass 7: such a section was uncertain). A
 * statement's (sectionKind, a section's opening) — not an item's: "A. Surgery is indicated when one of
 * the following" inside a list does not make its items alternative ways in (a second reading).
 */
const VERB_COVERED =
  /\b(?:is|are) (?:considered |generally )?(?:approved|(?:medically )?indicated) (?:(?:for|in) [^.;:]{1,150}? )?(?:when|if|provided)\b/i;

/**
 * A payer named as the subject of "covers" ("Humana covers …", "The plan covers …", "Medica covers …"):
 * case matters, so only a capitalised name (not "This policy", not "the dressing covers the wound").
 * After "The" only a payer's noun ("The Plan", "The Department", "The Texas Medicaid Program"): "The Gizmo
 * Patch covers the wound bed" names a product, and so does a name whose object is a body's or a wound's
 * ("Gizmo Shield covers the incision": a second reading of QA pass 7 found both read as covered sections,
 * approved on their "when …"). A name is read from its first capitalised word (not from inside one).
 * Bounded: at most four capitalised words before the verb.
 */
const PAYER_SUBJECT = String.raw`(?<![\w-])(?<!\b(?:[Tt]he|[Aa]n?|[Tt]his|[Tt]hat|[Ii]ts|[Oo]ur|[Yy]our|[A-Z][\w&'’.-]*) )(?:The (?:[A-Z][\w&'’.-]* ){0,2}(?:Plan|Health Plan|Department|Program|State|Agency|Division|Company|Corporation|Administration|Authority)|(?!(?:The|This|That|These|Those|It|Its|Each|Every|A|An|Our|Which|What|Who|No)\b)[A-Z][\w&'’.-]*(?: [A-Z][\w&'’.-]*){0,3})`;
/** What a product, not a payer, covers: a body part, a wound, a surface ("covers the entire ulcer"). */
const PHYSICAL_OBJECT = String.raw`\s+(?:the |an? |its |their |each |both |all )?(?:entire |whole |affected |open |surgical |treated )?(?:wound|ulcer|incision|skin|defect|area|site|surface|opening|lesion|graft|implant|stoma|burn|tissue|eye|tooth|teeth|scalp|face|body|limb|foot|feet|leg|arm|hand|finger|toe|knee|heel|ankle)(?:s|es)?\b`;
const PAYER_COVERS = new RegExp(
  String.raw`${PAYER_SUBJECT} (?:(?:also|only|generally|typically) )?covers\b(?=\s+[\w(])(?!${PHYSICAL_OBJECT})`,
);
/** "Humana does not cover …", "Medica will not cover …": the negative of PAYER_COVERS ("a brace that does not cover the knee" is none). */
const PAYER_NOT_COVERS = new RegExp(
  String.raw`${PAYER_SUBJECT} (?:does|do|will|shall|generally does|typically does) not cover\b(?!${PHYSICAL_OBJECT})`,
);

/**
 * Payer boilerplate that says neither way: "Services may or may not be covered by all [Plan] plans",
 * "Please refer to the member's plan document …", "Benefit coverage … is determined by the member
 * specific benefit plan document". Its "be covered" / "not be covered" is no statement of this
 * policy's coverage (QA pass 7: it became a covered section, or made one not-covered).
 */
const PLAN_BOILERPLATE =
  /\b(?:may|might|will) or (?:may|might|will) not be covered\b|\brefer to (?:the )?(?:member|enrollee|patient|individual|beneficiary|customer)(?:['’]s)? (?:specific )?(?:benefit |health |individual )?(?:plan|benefit|coverage|certificate|contract|evidence of coverage|summary plan|policy)\b|\bdetermined by the (?:member|enrollee)(?:['’]s)? (?:specific )?benefit plan\b/gi;

/** A statement's words without payer boilerplate, which states no coverage either way. */
function withoutBoilerplate(text: string): string {
  PLAN_BOILERPLATE.lastIndex = 0;
  return PLAN_BOILERPLATE.test(text) ? text.replace(PLAN_BOILERPLATE, (m) => " ".repeat(m.length)) : text;
}

/** The first non-coverage phrase of a statement (NOT_COVERED, or a payer that "does not cover"). */
function notCovered(text: string): RegExpExecArray | null {
  const a = NOT_COVERED.exec(text);
  const b = PAYER_NOT_COVERS.exec(text);
  return a && b ? (b.index < a.index ? b : a) : (a ?? b);
}

/**
 * A covered statement that announces criteria further on and lists none ("… when the criteria below
 * are met.", "… subject to the following requirements."): the statement over the list that follows
 * is its second sentence.
 */
function announcesBelow(text: string): boolean {
  return (
    /[.]$/.test(text) &&
    !/:$/.test(text) &&
    coveredAt(text) >= 0 &&
    notCovered(text) === null &&
    ANNOUNCES_BELOW.test(text)
  );
}
const ANNOUNCES_BELOW =
  /\b(?:criteria|requirements|conditions|guidelines)\b[^.;:]{0,60}?\b(?:below|that follow|as follows)\b|\bthe following (?:criteria|requirements|conditions)\b/i;

/** Where covered language first appears in a statement, or -1 (COVERED, or a payer that "covers"). */
function coveredAt(text: string): number {
  let at = -1;
  for (const re of [COVERED, PAYER_COVERS, VERB_COVERED]) {
    const i = re.exec(text)?.index ?? -1;
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

/** Whether a paragraph opens a statement of coverage: statesCoverage, or a statement's own verbs (VERB_COVERED). */
function statementCoverage(text: string): boolean {
  return statesCoverage(text) || VERB_COVERED.test(withoutBoilerplate(text));
}

/**
 * After a non-coverage phrase, an exception that leads into the list: "… unless all of the following
 * criteria are met", "… unless the following criteria are met", "… except when all of the following".
 * Anchored, each run bounded (no nested quantifiers).
 */
const WAY_IN =
  /^[^.;:]{0,100}?\b(?:unless|except (?:when|if|where|in the following)|other than when)\b[^.;:]{0,120}?\b(?:the following|(?:criteria|conditions|requirements) (?:listed |stated |given )?below)\b/i;
/** A limit before the exception ("not covered more than once per lifetime unless …"): the list lifts it. */
const LIMIT_BEFORE =
  /\b(?:more (?:than|often|frequently)|once|twice|per (?:lifetime|year)|limited to|only|repeat(?:ed)?|maximum|exceed\w*)\b/i;

/** Whether the words after a statement's non-coverage phrase make its list the way in (see WAY_IN). */
function wayIn(after: string): boolean {
  if (!WAY_IN.test(after)) return false;
  // "not medically necessary for the following conditions unless the member meets the criteria listed
  // below": the list comes before the exception and is what is not covered (a second reading).
  const at = after.search(/\b(?:unless|except|other than when)\b/i);
  return !/\bthe following\b/i.test(after.slice(0, Math.max(0, at)));
}

/**
 * Why a statement whose list is the way in (see {@link sectionKind}) is not read with certainty: a limit
 * before its exception, which the list lifts and no criterion asks.
 */
function wayInLimited(text: string): boolean {
  const m = NOT_COVERED.exec(text);
  if (!m) return false;
  const after = text.slice(m.index + m[0].length);
  const at = /\b(?:unless|except|other than)\b/i.exec(after);
  return at !== null && wayIn(after) && LIMIT_BEFORE.test(after.slice(0, at.index));
}

/**
 * A section's kind from its language (SPEC 1.3, issue 12): whichever of the covered and not-covered
 * phrases comes first decides ("X is not medically necessary" is negative although it contains
 * "medically necessary"). A covered statement without criteria, or criteria under no coverage
 * language, cannot be read safely: `other` and `uncertain`.
 */
export function sectionKind(raw: string, hasChildren: boolean): SectionKind {
  // "C. Nationally Non-Covered Indications — N/A": a heading over nothing states nothing.
  if (!hasChildren && /(?:^|\s)(?:n\/a|none|reserved|not applicable)\.?$/i.test(raw)) return "other";
  // Boilerplate blanked out (same length: the positions below are the statement's).
  const text = withoutBoilerplate(raw);
  const pos = coveredAt(text);
  const negM = notCovered(text);
  const neg = negM?.index ?? -1;
  // "X is not covered unless ALL of the following criteria are met:": the list is the way in — covered
  // when it is met (QA pass 6: read as a non-coverage list, every request was denied).
  if (hasChildren && negM && (pos < 0 || neg <= pos) && wayIn(text.slice(neg + negM[0].length)))
    return "medically-necessary";
  if (neg >= 0 && (pos < 0 || neg <= pos)) return "not-proven";
  if (pos >= 0) return hasChildren ? "medically-necessary" : "other";
  if (NOT_PROVEN.test(text)) return "not-proven";
  return hasChildren ? "uncertain" : "other";
}

interface Ctx {
  unplaced: Unplaced[];
  /** Why the section being read is uncertain (a list's logic assumed, …); reset per section. */
  uncertain: string[];
  findings: Finding[];
  earlier: { id: string; text: string }[];
  earlierIds: Set<string>;
  marked: { node: CriterionNode & { note?: CriterionNote }; marker: string; line: number }[];
  /** Criterion paragraphs of the section already numbered from its statement (README rule 1). */
  paraOffset: number;
}

/** The earlier sections' texts in lower case, added to as sections are (not lower-cased per reference). */
const lowered = new WeakMap<Ctx["earlier"], string[]>();

function loweredOf(earlier: Ctx["earlier"]): string[] {
  let texts = lowered.get(earlier);
  if (!texts) {
    texts = [];
    lowered.set(earlier, texts);
  }
  for (let i = texts.length; i < earlier.length; i++)
    texts.push((earlier[i] as { text: string }).text.toLowerCase());
  return texts;
}

/**
 * How far back a reference by subject ("the above criteria for the preliminary trial") looks: the
 * sections just before it. Bounded so that a document of thousands of sections, each referring back,
 * stays linear (issue 12); a reference by section id ("section II") reaches any earlier section.
 */
const REF_REACH = 64;

function resolveRef(lead: LeadIn, ctx: Ctx): string | undefined {
  if (lead.refSection) return ctx.earlierIds.has(lead.refSection) ? lead.refSection : undefined;
  const subject = lead.refSubject?.toLowerCase();
  if (!subject) return undefined;
  const texts = loweredOf(ctx.earlier);
  const from = Math.max(0, ctx.earlier.length - REF_REACH);
  for (let i = ctx.earlier.length - 1; i >= from; i--) {
    const s = ctx.earlier[i] as { id: string; text: string };
    if ((texts[i] as string).includes(subject)) return s.id;
  }
  // Reworded subject ("the trial" for "a preliminary trial"): the earlier section sharing most words.
  const words = subject.split(/\W+/).filter((w) => w.length > 3);
  let bestId: string | undefined;
  let bestScore = 0;
  for (let i = from; i < ctx.earlier.length; i++) {
    const s = ctx.earlier[i] as { id: string; text: string };
    const t = texts[i] as string;
    const score = words.filter((w) => t.includes(w)).length;
    if (score > bestScore) {
      bestScore = score;
      bestId = s.id;
    }
  }
  return words.length > 0 && bestScore * 2 >= words.length ? bestId : undefined;
}

function labelFindings(item: RawItem, id: string, style: LabelStyle, ctx: Ctx): void {
  if (item.decimalDoubt) {
    // Decimal numbers that skip, go back or name another parent: the list's shape is not certain (an
    // item may be missing, or belong elsewhere) — the section decides review.
    ctx.uncertain.push(`${id} (line ${item.line}): ${item.decimalDoubt}`);
    ctx.findings.push({
      code: "label-decimal",
      severity: "warning",
      message: `${item.decimalDoubt}: read by position as ${id}`,
      line: item.line,
      criterion: id,
    });
    return;
  }
  if (!item.issue) return;
  const expected = formatLabel(style, item.issue.expected);
  const what: Record<string, string> = {
    "label-repeated": "repeats an earlier label",
    "label-skipped": "skips a label",
    "label-restarted": "restarts the list",
    "label-out-of-order": "is out of order",
  };
  ctx.findings.push({
    code: item.issue.code,
    severity: "warning",
    message: `label "${item.token}" ${what[item.issue.code] ?? "is unexpected"}: by position this is ${expected} (${id})`,
    line: item.line,
    criterion: id,
  });
  // A list that starts at "2." or "B.": its first item was read as the words of the line before
  // ("B. Nationally Covered Indications" then "1. Heart Team" glued into the heading; QA pass 4), a
  // requirement no criterion asks.
  if (item.issue.code === "label-skipped" && item.issue.expected === 1)
    ctx.uncertain.push(`the list at ${id} starts at "${item.token}": the item before it was not read as one`);
}

/**
 * An item whose text is two statements with a connector line between them (20.9.1: "Are inotrope
 * dependent / OR / have a Cardiac Index < 2.2 …, and also meet one of the following:"): a group of the
 * two, `<id>-p1` and `<id>-p2`; the item's list belongs to the second, and keeps its ids (`<id>.i`).
 */
function splitAtConnector(item: RawItem, id: string, at: number, ctx: Ctx): CriterionNode {
  const { read: _read, ...plain } = item;
  const first = toNode({ ...plain, texts: item.texts.slice(0, at), children: [] }, id, ctx);
  const second = toNode({ ...plain, texts: item.texts.slice(at + 1) }, id, ctx);
  const kind = /or/i.test(item.texts[at] as string) ? "any" : "all";
  return {
    kind,
    id,
    label: item.token,
    text: readItem(item).text,
    line: item.line,
    children: [renamed(first, `${id}-p1`), renamed(second, `${id}-p2`)],
  };
}

/** The node under another id (its children keep theirs). */
function renamed(n: CriterionNode, id: string): CriterionNode {
  return n.kind === "ref" ? { ...n, id } : { ...n, id, label: "" };
}

function toNode(item: RawItem, id: string, ctx: Ctx): CriterionNode {
  const at = item.texts.findIndex((t, k) => k > 0 && k < item.texts.length - 1 && CONNECTOR_LINE.test(t));
  if (at > 0) return splitAtConnector(item, id, at, ctx);
  const { text, marker } = readItem(item);
  if (item.children.length === 0) {
    const ref = itemReference(text);
    if (ref) {
      // "The member met all criteria for the trial above": that section's tree on the same answers
      // (SPEC 2.2), never a yes/no the requester attests. Unresolved, it stays a question, and the
      // section is uncertain: an attestation must not stand in for criteria checked elsewhere.
      const target = ref.doubt ? undefined : resolveRef(ref, ctx);
      if (target) return { kind: "ref", id, target, text, line: item.line };
      // "meets criteria 1, 2, and 4 above" where each is an earlier section: all of their trees.
      const labels = ref.refLabels ?? [];
      if (!ref.doubt && labels.length > 1 && labels.every((l) => ctx.earlierIds.has(l)))
        return {
          kind: "all",
          id,
          label: item.token,
          text,
          line: item.line,
          children: labels.map((l, k) => ({
            kind: "ref" as const,
            id: `${id}.ref${k + 1}`,
            target: l,
            text: ref.refText ?? text,
            line: item.line,
          })),
        };
      const why = ref.doubt
        ? `${id} refers to other criteria ("${ref.refText}") but ${ref.doubt}`
        : ref.refLabels
          ? `${id} refers to other criteria by their labels ("${ref.refText}") that are not earlier sections: a reference to single criteria, or to labels not in the document, is not evaluated`
          : `${id} refers to other criteria ("${ref.refText}") that name no earlier section`;
      ctx.uncertain.push(why);
      ctx.findings.push({
        code: ref.doubt ? "ref-qualified" : "ref-unresolved",
        severity: "warning",
        message: `${why}: read as a question, and the section decides review`,
        line: item.line,
        criterion: id,
      });
    }
    // "• Cardiac catheterization lab" then "and all of the following:" (an <li>'s words between its two
    // inner lists) glued into the bullet: a criterion that leads into a list it does not have, its
    // quantifier unread (QA pass 7: the second list became alternatives of the first, a hospital with
    // neither approved). The section decides review.
    if (LEADS_INTO_LIST.test(tailOf(item.texts)) && readLeadIn(text, false).found) {
      const why = `${id} leads into a list ("… of the following:") that is not read under it`;
      ctx.uncertain.push(why);
      ctx.findings.push({
        code: "leadin-no-list",
        severity: "warning",
        message: `${why}: which items it governs is not read, and the section decides review`,
        line: item.line,
        criterion: id,
      });
    }
    const leaf: CriterionNode = { kind: "leaf", id, label: item.token, text, line: item.line };
    if (marker) ctx.marked.push({ node: leaf, marker, line: item.line });
    return leaf;
  }
  const lead = readLeadIn(text, false);
  const group = makeGroup(item, id, text, lead, ctx);
  if (marker) ctx.marked.push({ node: group, marker, line: item.line });
  return group;
}

/**
 * Whether a paragraph after a finished statement with no list ("… when there is a documented response.")
 * turns to the other kind: a covered statement followed by a not-covered one, or a not-covered one
 * followed by anything that is not (a covered statement, a list's lead-in) — but the examples of what
 * it does not cover ("Examples include, but are not limited to, the following:"). A statement that goes on
 * in the same kind ("X is medically necessary for Y." then "The following criteria must be met:") stays
 * one.
 */
function kindTurns(before: readonly string[], para: string): boolean {
  if (!/\.$/.test(finishText(tailOf(before)))) return false;
  const was = sectionKind(collapse(before.join(" ")), true);
  const next = sectionKind(para, true);
  return (
    (was === "medically-necessary" && next === "not-proven") ||
    // A lead-in of no kind ("Examples include, but are not limited to, the following:") goes on with the
    // not-covered statement it follows (a second reading of QA pass 7: its list became a section of no
    // coverage language, review, and the statement lost its examples).
    (was === "not-proven" && next !== "not-proven" && !EXAMPLES_LEADIN.test(para))
  );
}

/** A lead-in listing examples of the statement before it: "Examples include the following:", "Such uses include:". */
const EXAMPLES_LEADIN =
  /^(?:(?:for )?examples?\b|such as\b)|\binclud(?:e|es|ing)\b,?(?: but (?:are |is )?not limited to)?,?(?: the following)?[^.;]{0,30}:\s*$/i;

/** A line ending in a list quantifier and a colon ("… and all of the following:"); bounded, linear. */
const LEADS_INTO_LIST = /\bof the following\b[^.;:]{0,60}:\s*$/i;

/** Words around a reference in a lead-in's condition that require nothing of their own. */
const REF_FILLER =
  /^(?:(?:when|if|where|and|the|member|patient|individual|beneficiary|has|have|had|continues|continue|to|meets?|met|all|of)[\s,]{0,3}){0,8}$/i;

/**
 * A lead-in that names other criteria by label or by what they are for ("… when the criteria in #1 above
 * are met and all of the following:", "… if the member meets all criteria in 1. above and all of the
 * following:", "… when criterion 1.b is met and …"): the referenced section's tree beside the list, as
 * "the above criteria for the trial" is — not a condition the requester answers, nor words dropped
 * (QA pass 6). Words of their own before it keep the condition asked too; a reference no reading
 * resolves, or one with doubt, leaves the section uncertain.
 */
function leadReference(lead: LeadIn, text: string, id: string, line: number, ctx: Ctx): LeadIn {
  const condition = lead.condition;
  let r = condition === undefined ? undefined : itemReference(condition);
  if (!r?.refText) {
    // Elsewhere in the lead-in (its condition was not read, or is another one): only a reference by
    // label or an unnamed one — a subject ("criteria for the trial") is the lead-in reading's own.
    const inText = referenceIn(text.slice(0, 400));
    if (!inText?.refText || (inText.refSubject !== undefined && !inText.refLabels)) return lead;
    r = inText;
  }
  const target = r.doubt ? undefined : resolveRef(r, ctx);
  if (!target) {
    const why = r.doubt
      ? `the lead-in of ${id} refers to other criteria ("${r.refText}") but ${r.doubt}`
      : `the lead-in of ${id} refers to other criteria ("${r.refText}") that are no earlier section`;
    ctx.uncertain.push(why);
    ctx.findings.push({
      code: r.doubt ? "ref-qualified" : "ref-unresolved",
      severity: "warning",
      message: `${why}: not evaluated, and the section decides review`,
      line,
      criterion: id,
    });
    return lead;
  }
  const { condition: _c, ...rest } = lead;
  const refText = r.refText as string;
  const at = condition?.indexOf(refText) ?? -1;
  const only = at >= 0 && REF_FILLER.test((condition as string).slice(0, at));
  return {
    ...rest,
    refText,
    refSection: target,
    ...(condition !== undefined && !only && { condition }),
  };
}

/** A group's condition that is a conditional clause ("If the member is female …" of "If X, ONE of the following:"). */
const IF_CLAUSE = /^(?:if|only if|where|in cases where)\s+(\S.*)$/i;

/**
 * "2. If the member is female and of childbearing potential, ONE of the following: a. …; b. …": the list
 * is required only where X holds — the item is met when X does not hold (QA pass 6: X was the group's
 * condition, required in addition to its list, and a male member was denied). The item becomes
 * any(none(X), list): the group `<id>` (any) over `<id>-1` (none of the leaf `<id>-if`, the question X)
 * and `<id>-2` (the list, its items keeping their ids `<id>.a`, …).
 */
function conditional(group: BranchNode): BranchNode {
  const m = group.condition === undefined ? null : IF_CLAUSE.exec(group.condition);
  if (!m) return group;
  const { condition: _c, ...list } = group;
  const { id, line } = group;
  const asked = (m[1] as string).replace(/[\s,]+$/, "");
  return {
    kind: "any",
    id,
    label: group.label,
    text: group.text,
    line,
    children: [
      {
        kind: "none",
        id: `${id}-1`,
        label: "",
        text: group.condition as string,
        line,
        children: [{ kind: "leaf", id: `${id}-if`, label: "", text: asked, line }],
      },
      { ...list, id: `${id}-2`, label: "" },
    ],
  };
}

function makeGroup(
  item: RawItem,
  id: string,
  text: string,
  lead: LeadIn,
  ctx: Ctx,
  root = false,
): BranchNode {
  if (!lead.refText) lead = leadReference(lead, text, id, item.line, ctx);
  if (!root && item.children.some((c) => c.paraOf)) return withParagraphs(item, id, text, lead, ctx);
  const children: CriterionNode[] = [];
  if (lead.refText && lead.refTargets) {
    // "… when criteria 1 and 2 above are met" (each an earlier section): all of their trees; "criteria A
    // or B above": one of them.
    const refText = lead.refText;
    const refs: CriterionNode[] = lead.refTargets.map((target, k) => ({
      kind: "ref" as const,
      id: `${id}.ref${k + 1}`,
      target,
      text: refText,
      line: item.line,
    }));
    if (lead.refAny)
      children.push({
        kind: "any",
        id: `${id}.ref`,
        label: "",
        text: refText,
        line: item.line,
        children: refs,
      });
    else for (const r of refs) children.push(r);
  } else if (lead.refText) {
    const target = resolveRef(lead, ctx);
    if (target) children.push({ kind: "ref", id: `${id}.ref`, target, text: lead.refText, line: item.line });
    else
      ctx.findings.push({
        code: "ref-unresolved",
        severity: "warning",
        message: `"${lead.refText}" names no earlier section`,
        line: item.line,
        criterion: id,
      });
  }
  if (item.children.some((c) => c.block || c.paraOf)) return makeBlocks(item, id, text, lead, ctx, children);
  const joiners: ("and" | "or" | undefined)[] = [];
  const nodes: CriterionNode[] = [];
  item.children.forEach((child, i) => {
    const style = child.style as LabelStyle;
    const cid = `${id}.${formatLabel(style, i + 1)}`;
    labelFindings(child, cid, style, ctx);
    nodes.push(toNode(child, cid, ctx));
    joiners.push(trailingJoiner(child));
  });
  // An item that introduces the siblings after it (README rule 5): the lead-in's logic covers the
  // items before it only.
  const h = headsSiblings(item.children);
  if (h < 0 && !(lead.found && lead.kind !== "any")) orLinesBetween(item.children, joiners);
  const listed = h > 0 ? { ...item, children: item.children.slice(0, h) } : item;
  // No list (a statement alone: its condition or reference): no logic to read.
  const read = lead.found
    ? lead.kind
    : listed.children.length === 0
      ? "all"
      : logicOf(listed, id, text, joiners.slice(0, h > 0 ? h : undefined), ctx);
  unsupportedLogic(
    lead,
    id,
    item.line,
    ctx,
    listed.children.map((c) => collapse(c.texts.join(" "))),
  );
  const own = h > 0 ? nodes.slice(0, h) : nodes;
  // An explicit "ALL of the following" over items that each state coverage stays all (a second reading:
  // patient and facility requirements were read as alternatives).
  const saysAll =
    lead.found &&
    lead.kind === "all" &&
    /\b(?:all|each|every|both)\b[^.:;]{0,30}\b(?:following|criteria|requirements)\b/i.test(text);
  const kind = h > 0 || saysAll ? read : byPopulation(item, own, read, id, ctx);
  // One by one: a list of many thousand items must not become a call's argument list.
  // "If X, ONE of the following" among required items is met where X does not hold; among alternatives
  // ("ONE of the following: A. If X, ALL of …; B. If Y, …") X is the item's condition (a second reading:
  // read as any(not X, list) there too, a continuing member was approved on "not an initial request").
  const required =
    kind === "all" ? own.map((c) => (c.kind === "leaf" || c.kind === "ref" ? c : conditional(c))) : own;
  for (const c of kind === "all" ? alternativeBranches(required, id) : required) children.push(c);
  const base = { id, label: item.token, text, line: item.line, children };
  let group: BranchNode =
    kind === "atLeast" ? { ...base, kind: "atLeast", n: lead.n ?? 1 } : { ...base, kind };
  if (lead.condition) {
    group.condition = lead.condition;
    // "Atopic Dermatitis 1." — a list's label read as the end of a sentence: the words after it (the
    // item "1." itself) are asked by no criterion (QA pass 2, Molina): the reading is unsure.
    if (/(?:^|\s)(?:\d{1,3}|[a-zA-Z])[.)]$/.test(lead.condition))
      ctx.uncertain.push(
        `the condition of ${id} ends with a list label ("${lead.condition.slice(-40)}"): a list item was read as its words`,
      );
  }
  lintGroup(group, joiners, ctx);
  // "… when the following criteria are met: 1. …; 2. …; or 3. …": the lead-in says no "all", and the
  // items say "or" (QA pass 5: read as all with certainty, hardware failure alone was denied).
  if (lead.weak && kind === "all" && joiners.slice(0, own.length - 1).includes("or"))
    ctx.uncertain.push(
      `the lead-in of ${id} says "the following … are met" without "all", and its items are joined with "or"`,
    );
  if (h > 0) group = withHeadedSiblings(group, item, h, nodes, joiners, ctx);
  return alternativeToRange(group, ctx);
}

/**
 * Items that each state coverage of their own ("1. Adults (18 years of age and older). Widget
 * implantation is covered when all of the following criteria are met: A. …", "2. Children (…). … is
 * covered when …"): alternative ways in, each for its population — never all required (QA pass 6: an
 * adult meeting every adult criterion was denied for not being a child). Where every item of the list
 * is such a group with its population as its condition, the list is `any`; where only some are, how
 * they combine is not read and the section is uncertain.
 */
function byPopulation(
  item: RawItem,
  nodes: readonly CriterionNode[],
  kind: BranchNode["kind"],
  id: string,
  ctx: Ctx,
): BranchNode["kind"] {
  if (kind === "any" || item.children.length < 2) return kind;
  // Items scoped "For VIM DBS …, …" are alternatives already (alternativeBranches: `<id>-g1`).
  const covering = item.children.filter(
    (c, i) =>
      c.children.length > 0 && statesCoverage(readItem(c).text) && !APPLIES_TO.test(nodes[i]?.text ?? ""),
  );
  if (covering.length < 2) return kind;
  const conditioned = nodes.every((n) => n.kind !== "leaf" && n.kind !== "ref" && n.condition !== undefined);
  if (kind === "all" && covering.length === item.children.length && conditioned) return "any";
  ctx.uncertain.push(
    `items of ${id} each state coverage of their own (alternative ways in), but how the list combines them is not read`,
  );
  return kind;
}

/**
 * The position of a list item that introduces the siblings printed after it at its own level (README
 * rule 5 of the NCD corpus: "c. The study must meet the following additional standards:" then d.–p.):
 * an item with no list of its own whose text ends in a lead-in's colon, not first and not last. -1: none.
 */
function headsSiblings(items: readonly RawItem[]): number {
  for (let i = 1; i < items.length - 1; i++) {
    const it = items[i] as RawItem;
    if (it.children.length > 0 || it.bulletOf || it.paraOf || it.block) continue;
    const raw = tailOf(it.texts);
    // Most items have no colon at all: their text is not cleaned for this question.
    if (!raw.includes(":")) continue;
    const tail = finishText(raw).replace(TRAILING_MARKS, "");
    if (/:$/.test(tail) && looksLikeLeadIn(tail)) return i;
  }
  return -1;
}

/** Words by which a further list says it adds to the one before it (both are required). */
const ADDS_TO = /\b(?:additional|also|in addition|further|as well)\b/i;

/**
 * `group` (the lead-in's logic over the items before position `h`) with the item at `h` made the group
 * of the siblings after it (README rule 5); those keep their printed-position ids. Where the lead-in's
 * logic is not "all", the items before `h` become the implied group `<id>-g<k>` (README rule 4) and
 * both parts are required — certain only where the heading item says it adds ("additional standards").
 */
function withHeadedSiblings(
  group: BranchNode,
  item: RawItem,
  h: number,
  nodes: readonly CriterionNode[],
  joiners: readonly ("and" | "or" | undefined)[],
  ctx: Ctx,
): BranchNode {
  const head = item.children[h] as RawItem;
  const hid = (nodes[h] as CriterionNode).id;
  const htext = readItem(head).text;
  const hlead = readLeadIn(htext, false);
  const after = item.children.slice(h + 1);
  const hkind = hlead.found
    ? hlead.kind
    : logicOf({ ...head, children: after }, hid, htext, joiners.slice(h + 1), ctx);
  unsupportedLogic(hlead, hid, head.line, ctx);
  const hbase = { id: hid, label: head.token, text: htext, line: head.line, children: nodes.slice(h + 1) };
  const headed: BranchNode =
    hkind === "atLeast" ? { ...hbase, kind: "atLeast", n: hlead.n ?? 1 } : { ...hbase, kind: hkind };
  if (hlead.condition) headed.condition = hlead.condition;
  if (group.kind === "all") return { ...group, children: [...group.children, headed] };
  if (!ADDS_TO.test(htext))
    ctx.uncertain.push(
      `${hid} introduces the items after it but does not say how they combine with the ones before: read as both required`,
    );
  const { condition, label: _l, text: _t, line, id, ...logic } = group;
  const implied = {
    ...logic,
    id: `${id}-g${impliedCount(group) + 1}`,
    label: "",
    text: "",
    line,
  } as BranchNode;
  const outer: BranchNode = {
    kind: "all",
    id,
    label: group.label,
    text: group.text,
    line,
    children: [implied, headed],
  };
  if (condition) outer.condition = condition;
  return outer;
}

/** How many implied groups (`<id>-g<k>`) a group already has among its children. */
function impliedCount(group: BranchNode): number {
  return group.children.filter((c) => c.id.startsWith(`${group.id}-g`)).length;
}

/** A statement of who the item is for: those who do not qualify under (or meet) the items before it. */
const NOT_QUALIFYING =
  /\b(?:do|does|did|who|which) not (?:otherwise )?(?:qualify|meet|satisfy|fulfil|fulfill)\b/i;
/** "criteria 1-7", "items 1 through 7": a range of the list's own positions. */
const POSITION_RANGE =
  /\b(?:criteria|criterion|items?|indications?|requirements?|conditions?|numbers?) (\d{1,2}) ?(?:-|–|—|to|through) ?(\d{1,2})\b/i;

/**
 * The last item of a list that is for those who do not qualify under the items before it ("… limited
 * coverage … in beneficiaries who do not qualify for CPAP coverage based on criteria 1-7 above", CMS
 * NCD 240.4) is another way in, not one more requirement: requiring it with them would deny everyone.
 * The items it names (exactly the ones before it) become the implied group `<id>-g<k>` with the list's
 * logic (README rule 4), and the group is any of that and the last item. The document does not say
 * so in words a parser can be sure of: the section is uncertain (it decides review).
 */
function alternativeToRange(group: BranchNode, ctx: Ctx): BranchNode {
  const n = group.children.length;
  const last = group.children[n - 1];
  if (n < 3 || !last || last.kind === "ref" || group.kind === "none") return group;
  const neg = NOT_QUALIFYING.exec(last.text);
  if (!neg) return group;
  const range = POSITION_RANGE.exec(last.text.slice(neg.index, neg.index + 200));
  if (!range || Number(range[1]) !== 1 || Number(range[2]) !== n - 1) return group;
  const { condition, label, text, line, id, ...logic } = group;
  const implied = {
    ...logic,
    id: `${id}-g${impliedCount(group) + 1}`,
    label: "",
    text: "",
    line,
    children: group.children.slice(0, n - 1),
  } as BranchNode;
  ctx.uncertain.push(
    `${last.id} is for those who do not qualify under items 1-${n - 1} of ${id}: read as (all of 1-${n - 1}) or ${last.id}`,
  );
  const outer: BranchNode = { kind: "any", id, label, text, line, children: [implied, last] };
  if (condition) outer.condition = condition;
  return outer;
}

/** "For thalamic VIM DBS to be considered reasonable and necessary, patients must …": a branch's scope. */
const APPLIES_TO = /^for (?!(?:at least|a period|the (?:past|last))\b)[^,]{3,160},/i;

/**
 * Items of an all-of list that each state their own scope ("For VIM DBS …, patients must meet all of
 * the following"; "For STN or GPi DBS …, …") are alternatives: a request is for one of them. Two or
 * more such items in a row are an implied `any` group `<id>-g<k>` (README rule 4 of the NCD corpus);
 * their ids are kept.
 */
function alternativeBranches(children: CriterionNode[], id: string): CriterionNode[] {
  const scoped = (c: CriterionNode) => c.kind !== "leaf" && c.kind !== "ref" && APPLIES_TO.test(c.text);
  if (children.filter(scoped).length < 2) return children;
  const out: CriterionNode[] = [];
  let k = 0;
  for (let i = 0; i < children.length; ) {
    let j = i;
    while (j < children.length && scoped(children[j] as CriterionNode)) j++;
    if (j - i >= 2) {
      const run = children.slice(i, j);
      k++;
      out.push({
        kind: "any",
        id: `${id}-g${k}`,
        label: "",
        text: "",
        line: run[0]?.line ?? 0,
        children: run,
      });
      i = j;
    } else {
      out.push(children[i] as CriterionNode);
      i++;
    }
  }
  return out;
}

/**
 * The logic of a list whose lead-in has no quantifier (issue 12): the trailing connectors between its
 * items ("; or", ", OR", "; and"), else a lead-in that lists alternatives ("the following conditions:"),
 * else unknown — read as "all" and the section is uncertain (it decides `review`, never `approved`).
 */
function logicOf(
  item: RawItem,
  id: string,
  text: string,
  joiners: readonly ("and" | "or" | undefined)[],
  ctx: Ctx,
): "all" | "any" {
  // One item: "all" and "any" of it are the same; there is nothing to be unsure of.
  if (joiners.length === 1 && item.children.length === 1) return "all";
  const inner = joiners.slice(0, -1).filter((j) => j !== undefined);
  const ors = inner.filter((j) => j === "or").length;
  const ands = inner.length - ors;
  if (inner.length > 0 && ors > 0 && ands === 0) return "any";
  if (inner.length > 0 && ands > 0 && ors === 0) return "all";
  // A list of requirements ("… must …") is not a list of alternatives, whatever its lead-in calls it.
  const leaves = item.children.filter((c) => c.children.length === 0);
  const demands = leaves.filter((c) => REQUIREMENT.test(readItem(c).text)).length;
  if (inner.length === 0 && listsAlternatives(text) && (demands === 0 || demands * 2 < leaves.length)) {
    ctx.findings.push({
      code: "leadin-alternatives",
      severity: "info",
      message: `lead-in lists alternatives ("${text.slice(0, 60)}…"): read as "any of the following"`,
      line: item.line,
      criterion: id,
    });
    return "any";
  }
  const why =
    ors > 0 && ands > 0
      ? `the items of ${id} are joined by both "and" and "or" and the lead-in does not say how they combine`
      : `the lead-in of ${id} does not say how its items combine`;
  ctx.uncertain.push(`${why}: read as "all of the following"`);
  ctx.findings.push({
    code: "leadin-unknown",
    severity: "warning",
    message: `${why}; read as "all of the following" and the section decides review`,
    line: item.line,
    criterion: id,
  });
  return "all";
}

/**
 * A section with several lists (issue 12 id scheme): the first list is group `<id>-1` whose items keep
 * the section's path (`B.1` …, as CMS cites "B2"); each further list is group `<id>-<k>` with items
 * `<id>-<k>.1` …; the section's root requires every list. Where a further list's lead-in does not say
 * it adds to the ones before ("additional", "also", "in addition", or exclusions), that is uncertain.
 */
/**
 * How long an approval lasts ("Approval duration: 6 months", "Initial authorization will be approved for
 * up to 6 months", "Length of authorization: 1 year", "Reauthorization every 12 months"): a line of its
 * own under the criteria. Anchored at the start, no nested quantifiers.
 */
const AUTH_DURATION =
  /^(?:(?:initial |continued |continuation |re-?)?(?:approval|authorization|auth)(?: duration| period| length| limit)?\s*:|(?:duration|length|period) of (?:approval|authorization|coverage)\b|(?:the )?(?:initial |continued )?(?:authorization|approval|re-?authorization)s? (?:will|may|shall|can) be (?:approved |granted |given |issued |authorized )?(?:for|up to)\b|re-?authorization (?:is required |will be required )?every\b)/i;
/** A number of days, weeks, months or years ("6 months", "12-month", "one year"), or "lifetime". */
const DURATION_WORDS =
  /\b(?:\d{1,3}|one|two|three|four|six|twelve)[\s-]*(?:calendar\s+)?(?:days?|weeks?|months?|years?)\b|\blifetime\b/i;
/** Words of a requirement or a lead-in: such a line asks something, whatever it says about authorization. */
const ASKS =
  /\b(?:requires?|required|must|meets?|met|criteria|following|documented|documentation|improvement|response|if|when|who|whom|provided|unless|showing|demonstrat\w*)\b/i;

/**
 * A line that only states how long an approval lasts: it starts as one (capitalised: a lower-case line
 * continues a sentence), names a duration, asks nothing (no "requires", "meets", "if", "following"),
 * does not lead into a list and is short (a second reading found the pattern alone took lead-ins such
 * as "Continued approval may be granted for members who meet all of the following:").
 */
function authDuration(t: string): boolean {
  return (
    t.length <= 120 &&
    /^[A-Z]/.test(t) &&
    !/:\s*$/.test(t) &&
    AUTH_DURATION.test(t) &&
    DURATION_WORDS.test(t) &&
    !ASKS.test(t)
  );
}
/**
 * "If all criteria are met, the request will be authorized for 12 months.", "If the above criteria are
 * met, approval will be granted for 6 months.": how long an approval lasts, said after the criteria —
 * its "if … criteria are met" restates them and asks nothing new. Anchored, bounded runs only.
 */
const DURATION_IF =
  /^(?:if|when|once) (?:[\w-]+ ){0,5}?(?:criteria|requirements|conditions)(?: [\w-]+){0,3}? (?:are|is|have been|has been) (?:met|satisfied),?\s+(.{3,140})$/i;
/** What a duration sentence grants: "the request will be authorized for", "approval may be granted for up to". */
const GRANTS =
  /^(?:(?:the|an?|initial|continued) )?(?:[\w-]+ ){0,3}?(?:will|may|can|shall|should) be (?:authorized|approved|granted|issued|given|provided|covered)\b|^(?:approve|authorize|grant)\b/i;
/** Words that make a sentence more than a duration: a negation, an exception, another requirement. */
const NOT_ONLY_DURATION =
  /\b(?:not|no|never|unless|except|denied|must|requires?|required|following|when|if|who|provided|only|and the)\b/i;

/**
 * A sentence that only states how long an approval lasts: an authorization-duration line (see
 * {@link authDuration}) or "If all criteria are met, the request will be authorized for 12 months"
 * (QA pass 7: glued into the last criterion it was asked; on its own it sent the section to review).
 * The sentence in parentheses too: "(Initial approval: 6 months)".
 */
export function durationSentence(text: string): boolean {
  const t = text
    .trim()
    .replace(/^\((.*)\)\.?$/, "$1")
    .trim();
  if (t.length > 200 || !/^[A-Z]/.test(t)) return false;
  if (authDuration(t.replace(/\.$/, ""))) return true;
  const m = DURATION_IF.exec(t);
  if (!m) return false;
  const rest = (m[1] as string).replace(/\.$/, "");
  return GRANTS.test(rest) && DURATION_WORDS.test(rest) && !NOT_ONLY_DURATION.test(rest);
}

/**
 * A paragraph beside the criteria that is none of them: payer boilerplate (every sentence of it, see
 * PLAN_BOILERPLATE) or a duration sentence. Its reason for the report, or undefined.
 */
function asideParagraph(para: string): string | undefined {
  if (para.length > 400 || /\bthe following\b/i.test(para)) return undefined;
  if (durationSentence(para)) return DURATION_REASON;
  const sentences = para.split(/(?<=[.!?])\s+(?=[A-Z])/);
  const boiler = (x: string) => {
    PLAN_BOILERPLATE.lastIndex = 0;
    return PLAN_BOILERPLATE.test(x);
  };
  return sentences.every(boiler) ? BOILERPLATE_REASON : undefined;
}

/** A line that may open an aside paragraph (checked before the paragraph is read: most lines are not). */
const ASIDE_START =
  /^\(?(?:if|when|once|services|please|refer|benefit|coverage|approval|authorization|initial|continued|duration|length|re-?authorization)\b/i;

/** Where a sentence (or a parenthesis) may start in an item's words: after ". " / "; ", or at " (". */
const SENTENCE_START = /[.;]\s+(?=[A-Z(])|\s(?=\()/g;

/**
 * An item whose words end with a duration sentence ("… corticosteroids. If all criteria are met, the
 * request will be authorized for 12 months.", "… (Initial approval: 6 months)"): a PDF paragraph or a
 * wrapped line glued it on. The sentence is cut off and reported (QA pass 7: it was asked as part of the
 * criterion). Only the item's last lines are read, and the words before it must remain.
 */
function cutDurationTail(item: RawItem, unplaced: Unplaced[]): void {
  const from = Math.max(0, item.texts.length - 3);
  const raw = item.texts.slice(from).join(" ");
  if (raw.length > 600 || !DURATION_WORDS.test(raw)) return;
  const starts: number[] = [];
  SENTENCE_START.lastIndex = 0;
  for (let m = SENTENCE_START.exec(raw); m; m = SENTENCE_START.exec(raw)) starts.push(m.index + m[0].length);
  for (let k = starts.length - 1; k >= 0; k--) {
    const at = starts[k] as number;
    const tail = raw.slice(at).trim();
    if (!durationSentence(tail)) continue;
    const head = raw.slice(0, at).replace(/\s+$/, "");
    if (!/[A-Za-z]{3}/.test(head.slice(-200)) && from === 0) return;
    // Back to lines: the texts up to the one the sentence starts in, that one cut.
    let pos = 0;
    const kept = item.texts.slice(0, from);
    for (let j = from; j < item.texts.length; j++) {
      const t = item.texts[j] as string;
      if (pos + t.length >= at) {
        const part = t.slice(0, Math.max(0, at - pos)).replace(/\s+$/, "");
        if (part !== "") kept.push(part);
        break;
      }
      kept.push(t);
      pos += t.length + 1;
    }
    if (kept.length === 0) return;
    if (item.paras) item.paras = item.paras.filter((p) => p.at < kept.length);
    item.texts = kept;
    item.read = undefined;
    unplaced.push({ line: item.line, text: finishText(tail), reason: DURATION_REASON });
    return;
  }
}

/** A quantity or dosing limit line: "Quantity Limit: 2 pens per 28 days", "Dosing limits (max daily dose):". */
const QUANTITY_LIMIT =
  /^(?:(?:quantity|dosing|dose|dispensing|supply) limits?\b[^:]{0,60}:|(?:maximum |max\.? |recommended |approved )?(?:dosing|dose|dosage)(?: limits?| regimen)?\s*:)/i;
/** The words that open a quantity or dosing limit's heading ("Quantity Limit", "Dispensing Limits"). */
const QUANTITY_WORDS = String.raw`^(?:quantity|dosing|dispensing|supply) limits?`;
/** A quantity or dosing limit's heading on a line of its own ("Quantity Limit", "Quantity Limits:"). */
const QUANTITY_HEADING = new RegExp(String.raw`${QUANTITY_WORDS}\s*:?$`, "i");
/** A region heading over quantity or dosing limits ("Quantity Limits", "Dispensing Limits for Gizmab"). */
export const QUANTITY_HEADING_START = new RegExp(String.raw`${QUANTITY_WORDS}\b`, "i");
const QUANTITY_REASON = "quantity limit: how much may be approved, which no criterion asks";
/** The report's reason for such a line: it is the reviewer's, and makes no section uncertain. */
const DURATION_REASON = "authorization duration: how long an approval lasts, not a criterion";
/** The report's reason for payer boilerplate: it states no coverage of this policy, and makes no section uncertain. */
const BOILERPLATE_REASON =
  "payer boilerplate: whether the member's plan covers services is its own document's, not a criterion";
const HEADING_BETWEEN = "a heading between list items: which items it governs is not read";
const JOINS_PARAGRAPH = "a connector line between the list and a paragraph: how they combine is not read";
const DEFINITION_REASON = "definition: what a term of the criteria means, not a criterion";
const CAPTION_REASON = "table caption: the table's title, not a criterion";
const CAPTION_LOGIC_REASON = "table caption that says how its rows combine: not read";
/**
 * A table's caption: "Table 1: General requirements", "Table 2. Indications for …", "Table 3 – Doses",
 * "Exhibit A", with a table right under it (Carelon/AIM guidelines print several).
 */
const TABLE_CAPTION =
  /^(?:table|exhibit|chart)\s(?:\d{1,2}(?:\.\d{1,2})?|[A-Z]|[IVX]{1,4})(?:\s?[:.–—-]\s?\S.{0,160})?$/i;
/** A caption's words naming a table that holds no criteria ("Table 3: Dosing", "Table 4: Applicable codes"). */
const NOT_CRITERIA_TABLE =
  /\b(?:dos(?:e|es|ing|age)|quantit(?:y|ies)|codes?|coding|billing|references?|(?:revision|policy|document|review) history|revisions?|abbreviations?|glossary)\b/i;
/** A caption's words naming a table of the evidence: no criteria unless it names them too (CRITERIA_TABLE). */
const EVIDENCE_TABLE = /\b(?:evidence|studies|literature)\b/i;
/**
 * A caption's words naming criteria all the same ("Table 1: Required history and evidence of disease"):
 * a second reading of QA pass 7 found such a table reported row by
 * row and its statement left with no section.
 */
const CRITERIA_TABLE = /\b(?:criteria|criterion|requirements?|required|indications?|eligibility)\b/i;
/**
 * Words of a caption saying how rows combine ("Table 2: Any one of the following", "Table 1: All must be
 * met", "two or more of"): quantifiers, not a bare "or" / "one" ("Indications for initial or continued
 * therapy", "Step one agents" say nothing of it — a second reading of QA pass 7 found them sent to review).
 */
const CAPTION_LOGIC =
  /\b(?:all|any|none|either|neither|each|both)\b|\b(?:one|two|three|\d) (?:or more )?of\b|\bat least\b|\bfollowing\b|\band\/or\b|\bor more\b/i;
/** A table's header row after its caption: short cells of names, no numbers, no sentence ("Therapy | Duration"). */
function headerLike(cells: readonly string[]): boolean {
  return (
    cells.length >= 2 &&
    cells.every(
      (c) =>
        c.length <= 40 && /^[A-Z]/.test(c) && !/\d/.test(c) && !/[.;,:]$/.test(c) && c.split(" ").length <= 4,
    )
  );
}
const BILLING_REASON =
  "billing instruction (bill type or revenue code): how a claim is coded, not a criterion";
/**
 * A paragraph that defines a term of the criteria ("Conservative care is defined as:", "Definitions:",
 * "Red flags are defined as the following:"). Anchored, bounded, no nested quantifiers.
 */
const DEFINES =
  /^(?:[A-Z][^.;:]{1,80}? (?:is|are) defined as\b[^.;]{0,80}(?::|\.)?$|definitions?(?: of [^.;:]{1,60})?:?$)/i;

/**
 * A line that only names a kind ("Medically Necessary:", "Not Medically Necessary:", "Investigational and
 * Not Medically Necessary:" — Anthem's and Carelon's layout): the statement is the paragraph under it.
 */
const KIND_LABEL =
  /^(?:(?:experimental\/)?investigational(?: and| or|\/)? not medically necessary|not medically necessary|medically necessary|(?:experimental\/)?investigational|experimental|not covered|covered|non-?covered)\s*:?$/i;

/** Whether the next content line after `i` starts a list item (a label or a bullet). */
/** The next line with words after `i`, looked for within 40 lines (bounded: asked for many lines). */
function nextLine(lines: readonly Line[], i: number): Line | undefined {
  for (let j = i + 1; j < lines.length && j < i + 40; j++) {
    const l = lines[j] as Line;
    if (!l.blank && !l.pageHeader) return l;
  }
  return undefined;
}

/** A column's name in a criteria table's header row ("Criterion", "Requirement", "Documentation Required"). */
const COLUMN_LABEL =
  /^(?:(?:clinical|medical necessity|coverage|required|specific|supporting|additional)\s)?(?:criteri(?:on|a)|requirements?|descriptions?|details?|elements?|categor(?:y|ies)|indications?|documentation|conditions?|parameters?|measures?|items?|components?|thresholds?|values?|notes?|comments?|types?|findings?|explanations?|guidelines?|specifics|definitions?)(?:\s(?:required|met|needed|description|details))?\s*\(?s?\)?$/i;

/**
 * Whether a table row names columns rather than states criteria: two or more short cells, none ending
 * in a sentence's punctuation, at least one a column's name ("Criterion | Requirement", "Indication |
 * Criteria") — QA pass 6: the header row under a lead-in was asked as a criterion.
 */
function columnLabels(cells: readonly string[]): boolean {
  return (
    cells.length >= 2 &&
    cells.every((c) => c.length <= 40 && !/[.;,:]$/.test(c)) &&
    cells.some((c) => COLUMN_LABEL.test(c))
  );
}

/** Whether a cell is a coverage verdict, either way (a short cell that is only that). */
function verdictCell(cell: string): boolean {
  return cell.length <= 60 && (VERDICT_YES.test(cell) || VERDICT_NO.test(cell));
}

/**
 * Where a table under a lead-in states each row's coverage ("Indication | Coverage" with "Medically
 * necessary" / "Not medically necessary", "Condition | Covered?" with "Yes" / "No"): the index of that
 * column among the row's cells, or -1. Read from the table's header row, else from a row whose last cell
 * is a verdict; the table is the run of tabbed lines from `start` (a markdown rule does not end it).
 */
function verdictColumn(lines: readonly Line[], start: number): number {
  // Unnamed, every row's last cell must be a verdict: "Criterion | Requirement" rows reading "Current
  // smoker | No" beside "Age | 18 years or older" state requirements, not coverage (a second reading of
  // QA pass 7: such rows were reported and the section sent to review).
  let last = -1;
  for (let j = start; j < lines.length && j < start + 200; j++) {
    const l = lines[j] as Line;
    if (l.tableRule) continue;
    if (!l.hasTab || l.blank) break;
    const cells = cellsOf(l).map((c) => finishText(c));
    while (cells.length && cells[cells.length - 1] === "") cells.pop();
    if (cells.length < 2) continue;
    if (j === start) {
      const named = cells.findIndex((c, k) => k > 0 && c.length <= 40 && VERDICT_COLUMN.test(c));
      if (named >= 0 && !cells.some((c) => verdictCell(c))) return named;
      // A header row naming its columns otherwise ("Criterion | Requirement") is passed over.
      const named2 = cells.filter((c) => c !== "");
      if (!cells.some((c) => verdictCell(c)) && (columnLabels(named2) || headerLike(named2))) continue;
    }
    if (!verdictCell(cells[cells.length - 1] as string)) return -1;
    if (last < 0) last = cells.length - 1;
  }
  return last;
}

/** A lead-in about billing: "must be billed with one of the following:", "Report the following:". */
const BILLED = /\b(?:bill(?:ed|ing)?|report(?:ed|ing)?|claims?|submit(?:ted)?|coded?)\b/i;
/** A billing table's header cell: "Bill Type", "Type of Bill", "Revenue Code(s)". */
const BILLING_HEADER = /^(?:bill types?|types? of bill|tob|rev(?:enue)?\.? codes?)(?: codes?)?:?$/i;
/** A bill type or revenue code cell: "013x", "Bill Type 013x", "TOB 085X", "Revenue Code 0360". */
const BILLING_CELL =
  /^(?:(?:bill type|type of bill|tob)(?: codes?)?:? )?0?\d{2}[xX]$|^(?:bill type|type of bill|tob)(?: codes?)?:? 0?\d{3}$|^rev(?:enue)?\.? codes?:? 0\d{3}$/i;

/**
 * Where a run of billing tables from `start` ends (blank lines and `|---|` rules between them allowed):
 * every row is a billing header or a row whose first cell is a bill type or revenue code ("013x |
 * Hospital outpatient", "Revenue Code 0360 | Operating room services"; a bare "0360" under a revenue
 * header). `start` when none starts there.
 */
function billingTableEnd(lines: readonly Line[], start: number): number {
  let end = start;
  let revenue = false;
  for (let j = start; j < lines.length && j < start + 400; j++) {
    const l = lines[j] as Line;
    if (l.blank || l.tableRule) continue;
    if (!l.hasTab) break;
    const first = finishText(cellsOf(l).find((c) => finishText(c) !== "") ?? "");
    if (BILLING_HEADER.test(first)) revenue = /rev/i.test(first);
    else if (!(BILLING_CELL.test(first) || (revenue && /^0\d{3}$/.test(first)))) break;
    end = j + 1;
  }
  return end;
}

function itemFollows(lines: readonly Line[], i: number): boolean {
  const l = nextLine(lines, i);
  return l !== undefined && (l.bullet || parseLabel(l.text) !== undefined);
}

/**
 * Words of a caption that names a part of the criteria rather than whom or what they are for
 * ("Documentation", "Prior Therapy", "Initial Authorization"): such a caption over a list is no
 * condition, and it stays reported.
 */
const TOPIC =
  /\b(?:documentation|criteria|criterion|requirements?|coverage|policy|approval|authori[sz]ation|reauthori[sz]ation|renewal|continuation|continued|initial|limitations?|exclusions?|definitions?|notes?|dos(?:e|es|ing|age)|quantity|duration|background|description|references?|codes?|summary|overview|indications?|applicable|general|other|therapy|treatment|history|prescriber|testing|labs?|laboratory|values?|monitoring|safety|clinical|information|requests?|members?|patients?|age|diagnosis|diagnoses|step|all|each|every|additional|addition|plus|also|concomitant|combination|site|care|off-label|preferred|products?|recertification|subsequent|screening|contraindications?|warnings?|precautions?|required)\b/i;
/** A caption that starts with a connector ("AND ALL OF THE FOLLOWING", "Plus"): it joins, it does not name. */
const CONNECTS = /^(?:and|or|plus|also|in addition|additionally|then)\b/i;
/** Whether the line before has ended: closing punctuation, or (inside a list) no word left hanging. */
function lineEnded(before: string, inList: boolean): boolean {
  return /[.:;]\s*$/.test(before) || (inList && !DANGLING.test(before.trim()));
}
/** A line ending on a word no sentence ends with: the next line goes on with it ("… at least two of the following"). */
const DANGLING =
  /\b(?:of|the|following|with|to|for|and|or|a|an|in|by|than|as|at|on|from|including|includes?|are|is|be|who|which|that|when|if)$/i;

/**
 * A caption over a list of its own: a short title-cased line (a diagnosis, "Atopic Dermatitis",
 * "Chronic Rhinosinusitis with Nasal Polyps:") whose next line is a list item labelled 1, A, a or i.
 */
function captionOver(lines: readonly Line[], i: number, plain: string): boolean {
  // Most lines are no caption: rejected before any copy is made (this runs for every line of a list).
  if (plain.length > 80 || plain.length < 3 || !/^[A-Z]/.test(plain)) return false;
  // "Plaque Psoriasis (PsO)": the abbreviation in parentheses is part of the name.
  const t = plain.replace(/\s*:$/, "").replace(/\s*\([A-Za-z0-9 .-]{1,15}\)$/, "");
  if (!titleCased(t) || !/[A-Za-z]{3}/.test(t) || TOPIC.test(t) || CONNECTS.test(t) || KIND_LABEL.test(t))
    return false;
  if (statesCoverage(t) || readLeadIn(t, false).found) return false;
  const l = nextLine(lines, i);
  return l !== undefined && !l.bullet && (parseLabel(l.text)?.candidates ?? []).some((c) => c.value === 1);
}

/**
 * Whether the list after line `i` starts again at 1 in the style the list under `root` started with
 * (a caption between two lists of one form), not a level deeper ("1." under "B.").
 */
function restartsList(root: RawItem, lines: readonly Line[], i: number): boolean {
  const first = root.first;
  const l = nextLine(lines, i);
  // At the first list's margin: a list indented further is a level deeper, whatever its labels.
  if (!first || !l || Math.abs(l.indent - first.indent) > 1) return false;
  const next = parseLabel(l.text)?.candidates ?? [];
  return first.cands.some((c) => c.value === 1 && next.some((d) => d.value === 1 && d.style === c.style));
}

/**
 * Whether what follows a heading at line `i` goes on with the list before it: a list item that does not
 * open a section, or a lead-in with no statement of coverage ("Member must meet all of the following:").
 */
function listItemFollows(lines: readonly Line[], i: number): boolean {
  const l = nextLine(lines, i);
  if (!l) return false;
  if (l.bullet) return true;
  const lab = parseLabel(l.text);
  if (lab) return !opensSection(lab.candidates, lab.rest, l.indent);
  const t = finishText(l.text);
  return /:$/.test(t) && looksLikeLeadIn(t) && !statesCoverage(t);
}

/** Whether the next item after `i` starts its labels again ("A." after "C."): a new list under a heading. */
function labelRestarts(lines: readonly Line[], i: number, item: RawItem): boolean {
  const l = nextLine(lines, i);
  const cands = (l && parseLabel(l.text)?.candidates) ?? [];
  return (
    cands.some((c) => c.value === 1) &&
    item.cands.some((c) => c.value > 1 && cands.some((d) => d.style === c.style))
  );
}

/**
 * The connector line printed after an item at its list's level: its own, or one after its nested list's
 * last item ("3. … a. … b. …", then "OR", then "4. …": the line joins 3. and 4.).
 */
function trailingJoinLine(item: RawItem): RawItem["joinLine"] {
  let it = item;
  let found = it.joinLine;
  for (let d = 0; d < MAX_DEPTH * 4 && it.children.length > 0; d++) {
    it = it.children[it.children.length - 1] as RawItem;
    if (it.joinLine) found = it.joinLine;
  }
  return found;
}

/**
 * "OR" lines between every two items of a list (eviCore, Cigna: "1. …", "OR", "2. … a. … b. …", "OR",
 * "3. …"), or "OR" lines where the other gaps end with "; or": the list's joiner is "or" and the lines
 * are placed (a lead-in that says "all" is left to lint, and the section decides review). Where only some
 * gaps have one, the items form groups the tree does not express: the lines stay unplaced (review).
 */
function orLinesBetween(children: readonly RawItem[], joiners: ("and" | "or" | undefined)[]): void {
  if (children.length < 2) return;
  const gaps = children.slice(0, -1).map(trailingJoinLine);
  if (!gaps.some((g) => g !== undefined)) return;
  const or = (g: RawItem["joinLine"], i: number) =>
    g ? g.word === "OR" || g.word === "AND/OR" : joiners[i] === "or";
  if (!gaps.every(or)) return;
  gaps.forEach((g, i) => {
    if (g) g.placed = true;
    joiners[i] = "or";
  });
}

/** The first connector line between an item's descendants (one after the last of them separates nothing). */
function joinLineInside(item: RawItem): { line: number; word: string } | undefined {
  const all: RawItem[] = [];
  const stack = [...item.children].reverse();
  while (stack.length > 0) {
    const c = stack.pop() as RawItem;
    all.push(c);
    for (let k = c.children.length - 1; k >= 0; k--) stack.push(c.children[k] as RawItem);
  }
  all.pop();
  return all.find((c) => c.joinLine && !c.joinLine.placed)?.joinLine;
}

/** A requirement paragraph as a leaf (issue 12). */
function paragraphLeaf(p: RawItem, id: string): CriterionNode {
  return { kind: "leaf", id, label: "", text: readItem(p).text, line: p.line };
}

/**
 * A list item with requirement paragraphs after its list (README "Ingesting other payers' documents";
 * 20.4's shared-decision-making paragraph under "Patients must not have:"): each paragraph is the
 * item's next criterion by position (`B.2.e`). Where the item's list has a logic of its own (none,
 * any, at least n), the list becomes the group `<id>-1` beside the paragraphs, all required.
 */
function withParagraphs(item: RawItem, id: string, text: string, lead: LeadIn, ctx: Ctx): BranchNode {
  const paras = item.children.filter((c) => c.paraOf);
  const list: RawItem = { ...item, children: item.children.filter((c) => !c.paraOf) };
  const style = (list.children[0]?.style ??
    STYLE_ORDER[orderOf(item.style as LabelStyle) + 1] ??
    "lower") as LabelStyle;
  const leaves = (from: number) =>
    paras.map((p, k) => paragraphLeaf(p, `${id}.${formatLabel(style, from + k + 1)}`));
  const base = { id, label: item.token, text, line: item.line };
  if (list.children.length === 0) {
    // The item's own words are a criterion too ("5. Patients with … disorders", then the paragraph).
    const g: BranchNode = { ...base, kind: "all", children: leaves(0) };
    g.condition = lead.condition ?? text;
    return g;
  }
  const g = makeGroup(list, id, text, lead, ctx);
  const n = list.children.length;
  if (g.kind === "all") return { ...g, children: [...g.children, ...leaves(n)] };
  const { condition, ...inner } = g;
  const outer: BranchNode = {
    ...base,
    kind: "all",
    children: [{ ...inner, id: `${id}-1`, label: "" }, ...leaves(n)],
  };
  if (condition) outer.condition = condition;
  return outer;
}

function makeBlocks(
  item: RawItem,
  id: string,
  text: string,
  lead: LeadIn,
  ctx: Ctx,
  children: CriterionNode[],
): BranchNode {
  const first: RawItem = { ...item, children: item.children.filter((c) => !c.block && !c.paraOf) };
  const blocks = item.children.filter((c) => c.block);
  if (first.children.length === 0 && children.length === 0 && blocks.every((b) => b.caption)) {
    const captioned = captionGroups(item, id, text, lead, ctx, blocks);
    if (captioned) return captioned;
  }
  const qualified = qualifiesAbove(blocks, first.children.length);
  if (qualified && !item.children.some((c) => c.paraOf))
    return qualifiedBlock(item, id, text, lead, ctx, children, first, qualified);
  const groups: CriterionNode[] = [...children];
  if (first.children.length > 0) {
    const { refText: _t, refSubject: _s, refSection: _c, ...plain } = lead;
    const g = makeGroup(first, id, text, plain, ctx);
    groups.push({ ...g, id: `${id}-1`, label: "" });
  }
  for (const block of item.children.filter((c) => c.block)) {
    const bid = `${id}-${block.value}`;
    const btext = finishText(collapse(block.texts.join(" ")));
    const blead = readLeadIn(btext, false);
    if (block.children.length === 0) {
      // A lead-in that no list follows is not a criterion: reported, and the section is uncertain.
      ctx.unplaced.push({ line: block.line, text: btext, reason: "lead-in paragraph that no list follows" });
      continue;
    }
    groups.push(makeGroup(block, bid, btext, blead, ctx));
    if (
      blead.kind !== "none" &&
      !/\b(?:additional|also|in addition|further|as well|only (?:when|if)|provided that|above|must|may (?:furnish|perform|provide))\b/i.test(
        btext,
      )
    )
      ctx.uncertain.push(
        `the list ${bid} follows another list of ${id} without saying how they combine: read as both required`,
      );
  }
  item.children
    .filter((c) => c.paraOf)
    .forEach((p, k) => {
      groups.push(paragraphLeaf(p, `${id}-p${k + 1 + ctx.paraOffset}`));
    });
  groups.sort((a, b) => a.line - b.line);
  return { kind: "all", id, label: item.token, text, line: item.line, children: furnishers(groups, id) };
}

/** "one of the following in each category below": something from every caption's list. */
const EACH = /\b(?:each|every)\b|\bcategor(?:y|ies)\b/i;

/** Every item under `b`, parents before children (an array, not recursion: lists may be deep). */
function descendants(b: RawItem): RawItem[] {
  const out = [...b.children];
  for (let k = 0; k < out.length; k++) out.push(...(out[k] as RawItem).children);
  return out;
}

/** Whether a label under the caption repeats, skips or restarts (a list glued on, or a heading lost). */
function labelIssue(b: RawItem): boolean {
  return descendants(b).some((c) => c.issue !== undefined);
}

/**
 * Whether the list under a caption states it as the diagnosis: an item that says "diagnosis" (or
 * "diagnosed") and one of the caption's words (its first five letters: "Psoriatic" for "Psoriasis").
 * A caption over criteria for everyone ("All Patients", "Tuberculosis Evaluation": "Negative
 * tuberculosis test") names no diagnosis: as an alternative it would approve without one (QA passes 3
 * and 4), so such a reading decides review.
 */
function mentions(b: RawItem): boolean {
  const words = (b.caption as string)
    .toLowerCase()
    .replace(/\([^)]*\)/g, " ")
    .split(/[^a-z']+/)
    .filter((w) => w.length >= 4 && !/^(?:with|from|other|than|into|without)$/.test(w));
  return descendants(b).some((c) => {
    const text = c.texts.join(" ").toLowerCase();
    return /\bdiagnos/.test(text) && words.some((w) => text.includes(w.slice(0, 5)));
  });
}

/** Lead-ins that say the lists under the captions are alternatives ("criteria for one of the following diagnoses"). */
const PER_USE = /\b(?:diagnos[ie]s|indications?|conditions?|uses|disorders?|diseases?)\b/i;

/**
 * A section whose lists each stand under a caption ("Rheumatoid Arthritis", "A. …", "B. …", then
 * "Psoriatic Arthritis", "A. …"): a pharmacy form's criteria per diagnosis. One caption is the
 * list's condition (the list keeps the section's ids); several are alternatives, a request being for
 * one of them: `any` of the groups `<id>-<k>`, each with its caption as its condition and the items'
 * own logic (their joiners or the caption's lead-in; where the section's lead-in says "all", within
 * each caption). Certain where the lead-in says "one of" or names diagnoses, indications or uses;
 * where it says "all" the reading is uncertain (the captions might be parts all required).
 * Undefined where the lead-in says "none" or "at least": the lists are read as before.
 */
function captionGroups(
  item: RawItem,
  id: string,
  text: string,
  lead: LeadIn,
  ctx: Ctx,
  blocks: readonly RawItem[],
): BranchNode | undefined {
  if (lead.found && lead.kind !== "all" && lead.kind !== "any") return undefined;
  // A caption with no list of its own, or with words glued on, is read as before (reported).
  if (blocks.some((b) => b.children.length === 0 || b.texts.length > 1)) return undefined;
  const { refText: _t, refSubject: _s, refSection: _c, condition: _d, ...plain } = lead;
  const groupOf = (b: RawItem, bid: string): BranchNode => {
    const caption = b.caption as string;
    const own = readLeadIn(caption, false);
    const use = own.found || !(lead.found && lead.kind === "all") ? own : plain;
    const g = makeGroup(b, bid, caption, use, ctx);
    g.condition = own.condition ?? caption.replace(/\s*[-–—:]\s*$/, "");
    return g;
  };
  const names = blocks.map((b) => `"${b.caption}"`).join(", ");
  const alternatives = lead.found ? lead.kind === "any" : listsAlternatives(text) || PER_USE.test(text);
  // What would make the reading unsure, first found: each is a layout a QA pass saw misread.
  const doubt =
    blocks.length === 1 && (lead.found ? lead.kind === "any" && PER_USE.test(text) : alternatives)
      ? "the lead-in names alternatives but one caption was found"
      : blocks.length > 1 && !alternatives
        ? "the lead-in does not say the captions are alternatives"
        : blocks.length > 1 && EACH.test(text)
          ? "the lead-in asks for something in each of them"
          : blocks.some((b) => b.joinedBefore)
            ? `a caption follows an item ending in "and"/"or"`
            : blocks.find((b) => labelIssue(b))
              ? `the labels under "${blocks.find((b) => labelIssue(b))?.caption}" repeat or skip`
              : blocks.length > 1 && blocks.find((b) => !mentions(b))
                ? `the list under "${blocks.find((b) => !mentions(b))?.caption}" does not state it as the diagnosis`
                : undefined;
  ctx.findings.push({
    code: "caption-groups",
    severity: doubt ? "warning" : "info",
    message: `section ${id} lists criteria under captions (${names}): read as ${blocks.length === 1 ? "the list's condition" : "one list per caption, any of them, each with its caption as its condition"}${doubt ? `; ${doubt}, so the section decides review` : ""}`,
    line: item.line,
    criterion: id,
  });
  if (doubt)
    ctx.uncertain.push(
      `the lists of ${id} stand under captions (${names}) and ${doubt}: read as ${blocks.length === 1 ? "the list's condition" : "any of them"}`,
    );
  if (blocks.length === 1) {
    const g = groupOf(blocks[0] as RawItem, id);
    const condition = [lead.condition, g.condition].filter((c) => c !== undefined).join(" and ");
    return { ...g, label: item.token, text, line: item.line, condition };
  }
  const groups = blocks.map((b) => ({ ...groupOf(b, `${id}-${b.value}`), label: "" }));
  const outer: BranchNode = { kind: "any", id, label: item.token, text, line: item.line, children: groups };
  if (lead.condition) outer.condition = lead.condition;
  return outer;
}

/**
 * Statements side by side of who may furnish the service ("Physicians … may furnish acupuncture …";
 * "PAs and NPs may furnish acupuncture if they … have:") are alternatives: an implied `any` group
 * `<id>-g1` of them (README rule 4 of the NCD corpus). Other criteria are left as they are.
 */
function furnishers(groups: CriterionNode[], id: string): CriterionNode[] {
  const who = (n: CriterionNode) => n.kind !== "ref" && FURNISHER.test(n.text);
  const at = groups.findIndex(who);
  if (at < 0) return groups;
  let end = at;
  while (end < groups.length && who(groups[end] as CriterionNode)) end++;
  if (end - at < 2) return groups;
  const run = groups.slice(at, end);
  const implied: CriterionNode = {
    kind: "any",
    id: `${id}-g1`,
    label: "",
    text: "",
    line: run[0]?.line ?? 0,
    children: run,
  };
  return [...groups.slice(0, at), implied, ...groups.slice(end)];
}

/**
 * "The above 2 indications are considered reasonable and necessary only when:" (CMS 80.3.1): a single
 * further list that qualifies only the last N items of the first list. Returns N where it applies.
 */
function qualifiesAbove(blocks: readonly RawItem[], listed: number): number | undefined {
  if (blocks.length !== 1) return undefined;
  const m =
    /\bthe (?:above|preceding|previous|last) (\d{1,2}|two|three|four|five|six) (?:indications|items|conditions|criteria|circumstances|uses|diagnoses)\b/i.exec(
      (blocks[0] as RawItem).texts.join(" "),
    );
  if (!m) return undefined;
  const n = numberOf(m[1] as string) ?? 0;
  return n >= 1 && n < listed ? n : undefined;
}

/**
 * The first list with its last `n` items qualified by the further list: the list's logic over its
 * other items and the block `<id>-2`, which requires any of those `n` items (`<id>-g1`) and its own.
 */
function qualifiedBlock(
  item: RawItem,
  id: string,
  text: string,
  lead: LeadIn,
  ctx: Ctx,
  children: CriterionNode[],
  first: RawItem,
  n: number,
): BranchNode {
  const block = item.children.find((c) => c.block) as RawItem;
  const { refText: _t, refSubject: _s, refSection: _c, ...plain } = lead;
  const list = makeGroup(first, id, text, plain, ctx);
  const kept = list.children.slice(0, list.children.length - n);
  const above = list.children.slice(list.children.length - n);
  const bid = `${id}-${block.value}`;
  const btext = finishText(collapse(block.texts.join(" ")));
  const qualifier = makeGroup(block, bid, btext, readLeadIn(btext, false), ctx);
  const implied: CriterionNode = {
    kind: "any",
    id: `${id}-g1`,
    label: "",
    text: "",
    line: above[0]?.line ?? item.line,
    children: above,
  };
  const qualifiedGroup: BranchNode =
    qualifier.kind === "all"
      ? { ...qualifier, children: [implied, ...qualifier.children] }
      : {
          kind: "all",
          id: bid,
          label: "",
          text: btext,
          line: block.line,
          children: [implied, { ...qualifier, id: `${bid}-1` }],
        };
  return { ...list, children: [...children, ...kept, qualifiedGroup] };
}

/** "3 months", "thirty (30) days", "6-week": a number and its unit (bounded runs). */
const DURATION_IN =
  /(?<!\b(?:within|past|last|prior|previous|every|per|after|before|preceding)\s(?:the\s)?(?:(?:past|last|prior|previous|preceding)\s)?)\b(\d{1,3}|one|two|three|four|five|six|eight|ten|twelve|sixteen)(?:\s*\((\d{1,3})\))?[\s-]+(?:consecutive\s+)?(day|week|month|year)s?\b/gi;

/** The durations a text states, as [number, unit]. */
function durationsIn(text: string): [number, string][] {
  const out: [number, string][] = [];
  DURATION_IN.lastIndex = 0;
  for (let m = DURATION_IN.exec(text); m; m = DURATION_IN.exec(text)) {
    const w = (m[1] as string).toLowerCase();
    const n = m[2] !== undefined ? Number(m[2]) : numberOf(w);
    if (n !== undefined) out.push([n, (m[3] as string).toLowerCase()]);
  }
  return out;
}

/**
 * Whether a lead-in's duration ("one of the following for at least 3 months") is one every item states
 * itself ("Methotrexate for at least 3 months"): then no item is read without it, and the lead-in is
 * read safely (a second reading of QA pass 7: such lists went to review). A window ("within the past
 * 12 months") or an item without its own duration keeps the doubt.
 */
function itemsStateDuration(qualified: string, items: readonly string[]): boolean {
  if (items.length === 0 || !/^(?:for|lasting|of)\b/i.test(qualified)) return false;
  const want = durationsIn(qualified)[0];
  if (!want) return false;
  // In days, a month 30 (so "4 weeks" is no "1 month": the doubt stays).
  const days = ([n, unit]: [number, string]) =>
    n * (unit === "week" ? 7 : unit === "month" ? 30 : unit === "year" ? 365 : 1);
  return items.every((t) => durationsIn(t).some((d) => days(d) >= days(want)));
}

/**
 * A lead-in whose count the model cannot express ("no more than one of the following", "exactly two
 * of"): read as "all", reported, and the section is uncertain (it decides review, never approved).
 */
function unsupportedLogic(
  lead: LeadIn,
  id: string,
  line: number,
  ctx: Ctx,
  items: readonly string[] = [],
): void {
  if (lead.qualified && !itemsStateDuration(lead.qualified, items)) {
    const why = `the lead-in of ${id} qualifies every item ("${lead.qualified}"), which no item asks`;
    ctx.uncertain.push(why);
    ctx.findings.push({
      code: "leadin-qualified",
      severity: "warning",
      message: `${why}; write it into the items (or the group's condition); the section decides review`,
      line,
      criterion: id,
    });
  }
  if (!lead.unsupported) return;
  const why = `the lead-in of ${id} says "${lead.unsupported}", which no group of the model expresses`;
  ctx.uncertain.push(`${why}: read as "all of the following"`);
  ctx.findings.push({
    code: "leadin-unsupported",
    severity: "warning",
    message: `${why}; read as "all of the following" and the section decides review`,
    line,
    criterion: id,
  });
}

function lintGroup(group: BranchNode, joiners: ("and" | "or" | undefined)[], ctx: Ctx): void {
  const inner = joiners.slice(0, -1);
  if (group.kind === "all" && inner.includes("or")) {
    ctx.findings.push({
      code: "leadin-joiner-mismatch",
      severity: "warning",
      message: `lead-in says "all" but the items are joined with "or"`,
      line: group.line,
      criterion: group.id,
    });
  }
  if (group.kind === "any" && inner.includes("and")) {
    // The lenient reading of a contradiction: "any" where the text joins the items with "and" would
    // approve on one of them. Uncertain (review) rather than decided either way.
    ctx.uncertain.push(`the lead-in of ${group.id} says "any" but its items are joined with "and"`);
    group.joined = "and";
    ctx.findings.push({
      code: "leadin-joiner-mismatch",
      severity: "warning",
      message: `lead-in says "any" but the items are joined with "and"; the section decides review`,
      line: group.line,
      criterion: group.id,
    });
  }
  if (group.kind === "any" && group.children.some((c) => c.kind === "none")) {
    ctx.findings.push({
      code: "leadin-suspect",
      severity: "warning",
      message: `lead-in says "any" over a list that includes contraindications ("none of the following"): likely meant "all"`,
      line: group.line,
      criterion: group.id,
    });
  }
}

const REVIEW_EFFECT =
  /\bmedical director\b|\bcase[- ]by[- ]case\b|\bindividual(?:ized)? basis\b|\bper case basis\b|\bmay be (?:reviewed|approved|considered)\b/i;
const NOTE_CONDITION =
  /\b(?:for instances of|in instances of|in cases of|for cases of|in the case of|for (?:members?|patients?|enrollees?) with)\s+(.+)$/i;

/** The note's circumstances as a yes/no statement, and whether it opens a reviewer's waiver. */
export function noteMeaning(text: string): { condition: string; effect: "review" | "informational" } {
  const m = NOTE_CONDITION.exec(text) ?? /\b(?:when|if)\s+(.+)$/i.exec(text);
  let cond = (m ? (m[1] as string) : text).replace(/(?<![\s.;:,])[\s.;:,]+$/, "").trim();
  if (cond.length > 0) cond = (cond[0] as string).toUpperCase() + cond.slice(1);
  return { condition: cond, effect: REVIEW_EFFECT.test(text) ? "review" : "informational" };
}

/**
 * Reads the criteria region: list items (sections and criteria), note paragraphs, cross-reference
 * paragraphs; everything else is reported as unplaced with its line.
 */
/**
 * Commercial policies print list items as plain lines under an unlabeled lead-in, their logic carried
 * by trailing connectors ("…; and" / "…; or" / "…, OR"). Such a line is an item (read as a bullet) when
 * the line before it ended a statement: a connector, or closing punctuation. A line that continues an
 * unfinished one is wrapped text. A blank line ends the list unless the item before it ended with a
 * connector.
 */
function markUnlabeledItems(lines: readonly Line[]): void {
  let inList = false;
  let prevEnd = "";
  let blank = false;
  for (let i = 0; i < lines.length; i++) {
    const ln = lines[i] as Line;
    if (ln.pageHeader || ln.linkOnly || ln.tableRule) continue;
    if (ln.blank) {
      blank = true;
      continue;
    }
    const t = finishText(ln.text).trimEnd();
    const labeled = parseLabel(ln.text) !== undefined;
    if (inList && !labeled && !ln.bullet && captionOver(lines, i, t)) {
      // "Rheumatoid Arthritis" over "1. …": a caption of the list after it, not an item of this one.
      prevEnd = t;
      continue;
    }
    if (inList && blank && !/(?:\band|\bor|\band\/or),?$/i.test(prevEnd)) inList = false;
    blank = false;
    if (labeled || ln.bullet || ln.heading || ln.regionHeading) {
      inList = false;
      prevEnd = t;
      continue;
    }
    if (inList && (/[;.:]$/.test(prevEnd) || /(?:\band|\bor|\band\/or),?$/i.test(prevEnd))) {
      ln.bullet = true;
    } else if (
      !inList &&
      /:$/.test(t) &&
      looksLikeLeadIn(t) &&
      (statesCoverage(t) || /\bthe following\b/i.test(t))
    ) {
      inList = true;
    }
    prevEnd = t;
  }
}

/**
 * Word and PDF lists mark their levels by glyph (•, then o, then ▪) where the indentation is lost in
 * extraction: within a run of bullets at one indentation, each glyph met for the first time is one level
 * further in, as if it were indented (4 columns a level).
 */
function levelsByGlyph(lines: readonly Line[]): void {
  let base = -1;
  let ranks = new Map<string, number>();
  for (const ln of lines) {
    if (ln.blank || ln.pageHeader) continue;
    if (!ln.bullet || ln.glyph === undefined) {
      if (parseLabel(ln.text) || ln.heading || ln.regionHeading) {
        base = -1;
        ranks = new Map();
      }
      continue;
    }
    if (base < 0 || ln.indent < base) {
      base = ln.indent;
      ranks = new Map();
    }
    if (ln.indent !== base) continue;
    let rank = ranks.get(ln.glyph);
    if (rank === undefined) {
      rank = ranks.size;
      ranks.set(ln.glyph, rank);
    }
    ln.indent = base + 4 * rank;
  }
}

/**
 * An LCD's "Limitations" heading (or "Coverage Limitations", "Limitations of Coverage"): over a list
 * after the covered one, a section of its own — its bullets were the covered list's further required
 * items (QA pass 5); the covered sections beside it decide review (circumstancesNotAsked).
 */
const LIMITATIONS = /^(?:coverage )?limitations(?: (?:of|on) coverage)?\s*:?$/i;

/** A paragraph opened by a run-in heading in capitals ("PRESCRIBER REQUIREMENTS:", "NOTE:"). */
const RUN_IN_CAPS = /^[A-Z][A-Z/&-]{1,30}(?: [A-Z/&-]{2,30}){0,4}:\s/;

/** A paragraph that states a requirement (not a description): "must", "is required", "only when". */
const REQUIREMENT =
  /\b(?:must|shall|(?:is|are) required (?:to|for|before|prior|that|when|in)|required to|only (?:when|if|after)|may only|is covered (?:as|only)|may (?:furnish|perform|provide|administer|order|prescribe))\b/i;

/** Who may furnish the service: such statements side by side are alternatives (a physician, or a PA who …). */
const FURNISHER = /\bmay (?:furnish|perform|provide|administer|order|prescribe)\b/i;

/** The list item a paragraph indented to `indent` belongs to: the nearest item printed further out. */
function paragraphOwner(items: readonly RawItem[], indent: number): RawItem | undefined {
  for (let i = items.length - 1; i >= 0 && items.length - i <= 500; i--) {
    const it = items[i] as RawItem;
    if (it.paraOf) continue;
    if (it.synthetic || it.block || (it.heading && !it.bulletOf)) return undefined;
    if (it.indent < indent) return it;
  }
  return undefined;
}

/** The section item being read (a labeled or synthetic section), for a paragraph at its margin. */
function sectionOf(items: readonly RawItem[]): RawItem | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i] as RawItem;
    if (it.synthetic || (it.heading && !it.bulletOf)) return it;
    if (it.cands.some((c) => c.style === "roman") && it.indent <= 1 && STATEMENT.test(it.texts[0] ?? ""))
      return it;
  }
  return undefined;
}

/** The indentation of the first list item read after `section` (its list's margin; 0 with none). */
function firstIndent(items: readonly RawItem[], section: RawItem): number {
  for (let i = items.lastIndexOf(section) + 1; i > 0 && i < items.length; i++) {
    const it = items[i] as RawItem;
    if (!it.paraOf) return it.indent;
  }
  return 0;
}

/** A labeled item whose text has not ended ("1. Types of Implantations"): a heading over what follows. */
function headingItem(item: RawItem): boolean {
  return item.token !== "" && !item.heading && unfinished(tailOf(item.texts));
}

/** "the 13 criteria listed below": a sentence that leads into a list without a colon. */
const LISTED_BELOW = /\b(?:listed|set out|stated|given|shown) below\b/i;

/** Whether the paragraph after `lines[i]` (within a few lines) is a labeled or bulleted list item. */
function listFollows(lines: readonly Line[], i: number): boolean {
  for (let j = i + 1; j < lines.length && j <= i + 6; j++) {
    const l = lines[j] as Line;
    if (l.blank || l.pageHeader) continue;
    if (l.bullet || parseLabel(l.text) !== undefined) return true;
    if (j > i + 1 && !(lines[j - 1] as Line).blank) continue;
    return false;
  }
  return false;
}

/** Whether the line (or, `whole`, the paragraph it opens) is a policy or coverage statement. */
function opensStatement(lines: readonly Line[], i: number, whole: boolean): boolean {
  const para = whole ? paragraphAt(lines, i) : (lines[i] as Line).text;
  return STATEMENT.test(para) || statementCoverage(para);
}

/** The paragraph starting at `lines[i]` (a few lines at most): a statement may wrap before its verb. */
function paragraphAt(lines: readonly Line[], i: number): string {
  const parts: string[] = [];
  let furniture = false;
  for (let j = i; j < lines.length && parts.length < 4 && j < i + 40; j++) {
    const l = lines[j] as Line;
    if (l.pageHeader) {
      furniture = true;
      continue;
    }
    if (l.blank) {
      // A blank line ends the paragraph, unless a page break follows it (the paragraph goes on after it).
      let k = j + 1;
      while (k < lines.length && (lines[k] as Line).blank) k++;
      if ((lines[k] as Line | undefined)?.pageHeader) continue;
      if (furniture) continue;
      break;
    }
    furniture = false;
    if (j > i && (l.bullet || parseLabel(l.text))) break;
    parts.push(l.text);
  }
  return parts.join(" ");
}

/**
 * A titled sub-policy's title (Centene CP.MP.239: "Cervical Disc Arthroplasty", then I., II. again): a
 * short standalone line without closing punctuation, label or bullet, whose next content is "I.".
 */
function subPolicyTitle(lines: readonly Line[], i: number): boolean {
  const ln = lines[i] as Line;
  if (ln.blank || ln.bullet || ln.pageHeader || ln.regionHeading || ln.linkOnly || ln.hasTab) return false;
  const t = finishText(ln.text);
  if (t.length < 3 || t.length > 120 || /[.;:,]$/.test(t) || !/^[A-Z]/.test(t) || parseLabel(t)) return false;
  if (STATEMENT.test(t) || statesCoverage(t)) return false;
  for (let j = i + 1; j < lines.length; j++) {
    const next = lines[j] as Line;
    if (next.blank || next.pageHeader) continue;
    const lab = parseLabel(next.text);
    return lab !== undefined && lab.candidates.some((c) => c.style === "roman" && c.value === 1);
  }
  return false;
}

/** Ids of a sub-policy's sections and criteria, prefixed `S<n>.` (issue 12 id scheme). */
function prefixIds(section: Section, p: string): void {
  const visit = (n: CriterionNode): void => {
    n.id = `${p}.${n.id}`;
    if (n.kind === "ref") {
      n.target = `${p}.${n.target}`;
      return;
    }
    if (n.note) n.note.id = `${p}.${n.note.id}`;
    if (n.kind !== "leaf") for (const c of n.children) visit(c);
  };
  section.id = `${p}.${section.id}`;
  if (section.tree) visit(section.tree);
}

/**
 * Reads the criteria region (SPEC 1.3, issue 12). Where it holds two or more titled sub-policies whose
 * sections restart at "I.", each is read on its own and its ids are prefixed `S1.`, `S2.`, … by position.
 */
export function readCriteria(lines: readonly Line[]): CriteriaResult & { subPolicies: SubPolicy[] } {
  const titles: number[] = [];
  for (let i = 0; i < lines.length; i++) if (subPolicyTitle(lines, i)) titles.push(i);
  if (titles.length < 2) return { ...readChunk(lines), subPolicies: [] };
  const out: CriteriaResult & { subPolicies: SubPolicy[] } = {
    sections: [],
    findings: [],
    unplaced: [],
    referParagraphs: [],
    subPolicies: [],
  };
  const head = readChunk(lines.slice(0, titles[0]));
  out.findings.push(...head.findings);
  out.unplaced.push(...head.unplaced);
  out.referParagraphs.push(...head.referParagraphs);
  for (const s of head.sections) out.sections.push(s);
  titles.forEach((t, k) => {
    const title = lines[t] as Line;
    const id = `S${k + 1}`;
    out.subPolicies.push({ id, title: finishText(title.text), line: title.no });
    const r = readChunk(lines.slice(t + 1, titles[k + 1] ?? lines.length));
    for (const s of r.sections) {
      prefixIds(s, id);
      s.subPolicy = id;
      out.sections.push(s);
    }
    for (const f of r.findings)
      out.findings.push(f.criterion ? { ...f, criterion: `${id}.${f.criterion}` } : f);
    out.unplaced.push(...r.unplaced);
    out.referParagraphs.push(...r.referParagraphs);
  });
  return out;
}

/**
 * A numbered heading over decimal statements ("3. Coverage Criteria", then "3.1 X is medically necessary
 * when …", "3.2 X is not medically necessary …"): its words, where it states nothing itself — no coverage,
 * no lead-in, no closing punctuation — every item under it is a decimal label in order, and one of them
 * states coverage. Else undefined (the item is a section as it stands).
 */
function decimalHeading(item: RawItem): string | undefined {
  if (!item.path || item.children.length === 0 || item.texts.length > 1) return undefined;
  const t = finishText(item.texts[0] as string);
  if (
    t.length === 0 ||
    t.length > 80 ||
    /[.;:,]$/.test(t) ||
    STATEMENT.test(t) ||
    statesCoverage(t) ||
    leadsIn(item.texts)
  )
    return undefined;
  if (!item.children.every((c) => c.decimalOf === item && !c.decimalDoubt)) return undefined;
  return item.children.some((c) => statesCoverage(readItem(c).text)) ? t : undefined;
}

/**
 * Where a decimal label nests, from its numbers and the numbering read so far (`chain`, see readChunk):
 * under the item numbered by all its numbers but the last. A label that skips ("1.1" then "1.3"), goes
 * back, names a parent that is not the open one ("2.1" under "1.") or deeper than the one above it
 * ("1.2.1" right after "1.") is placed under the nearest open item with a doubt (the section decides
 * review). Undefined: no numbering to nest in.
 */
function readDecimal(
  token: string,
  path: readonly number[],
  chain: readonly RawItem[],
): Pick<RawItem, "path" | "decimalOf" | "decimalDoubt"> | undefined {
  if (chain.length === 0) return undefined;
  const n = path.length;
  const parent = (chain.length >= n - 1 ? chain[n - 2] : chain[chain.length - 1]) as RawItem;
  const pp = parent.path ?? [];
  const prefix = pp.length === n - 1 && pp.every((v, i) => v === path[i]);
  const sibling = chain[n - 1];
  const expected = sibling?.decimalOf === parent ? (sibling.path?.[n - 1] ?? 0) + 1 : 1;
  const last = path[n - 1] as number;
  const printedParent = `"${path.slice(0, -1).join(".")}"`;
  let doubt: string | undefined;
  if (chain.length < n - 1) doubt = `decimal label "${token}" comes with no item ${printedParent} above it`;
  else if (!prefix)
    doubt = `decimal label "${token}" stands under "${pp.join(".")}", not under ${printedParent}`;
  else if (last !== expected)
    doubt =
      last > expected
        ? `decimal label "${token}" skips "${[...pp, expected].join(".")}"`
        : `decimal label "${token}" goes back after "${[...pp, expected - 1].join(".")}"`;
  return doubt === undefined
    ? { path: [...path], decimalOf: parent }
    : { path: [...path], decimalOf: parent, decimalDoubt: doubt };
}

function readChunk(lines: readonly Line[]): CriteriaResult {
  levelsByGlyph(lines);
  markUnlabeledItems(lines);
  const findings: Finding[] = [];
  const unplaced: Unplaced[] = [];
  const items: RawItem[] = [];
  const notes: RawNote[] = [];
  const referParagraphs: Paragraph[] = [];
  /** Each refer paragraph's lines, joined once after the loop (joining at every line is quadratic). */
  const referLines = new Map<Paragraph, string[]>();
  let cur:
    | { kind: "item"; item: RawItem }
    | { kind: "note"; note: RawNote }
    | { kind: "refer"; p: Paragraph }
    | { kind: "lead"; lead: { texts: string[]; line: number; indent: number } }
    | null = null;
  let lead: { texts: string[]; line: number; indent: number } | undefined;
  let sawBlank = false;
  let pendingBreak = false;
  /** The section (or block) whose statement and list are being read, and how many items it has. */
  let opener: RawItem | undefined;
  let sinceOpener = 0;
  /** Whether a printed label opened a section (then unlabeled statements are not sections). */
  let labeledSections = false;
  /** Whether the line before was text that could not be placed (its paragraph goes on unplaced). */
  let stray = false;
  /** A criteria heading stood between the current item and this line. */
  let afterHeading = false;
  /** A definition paragraph ("Conservative care is defined as:") is being read: its list is its own. */
  let defining = false;
  /** The label a definition's own numbered list goes on with. */
  let defNext: { style: LabelStyle; value: number } | undefined;
  /** A connector line stood between the list and a paragraph: that paragraph is reported too. */
  let joinsParagraph = false;
  /** An aside paragraph (boilerplate, a duration sentence) is being reported: its further lines too. */
  let aside: string | undefined;
  /** A criteria table whose rows state their coverage: that column, where the table ends, its lead-in's kind. */
  let verdict: { col: number; start: number; end: number; covered: boolean; negative: boolean } | undefined;
  /** The line of the last table row read as a criterion; a caption was read, its header row comes next. */
  let rowItemLine = -1;
  /** A table caption was read: its table's first line, and whether the table before it was read as rows. */
  let caption: { first: number; rows: boolean } | undefined;
  /** Lines before this index are a billing table's (bill types, revenue codes): reported, not criteria. */
  let billingEnd = -1;
  /** A "Quantity Limit" heading was read: the table rows under it are the limit's. */
  let quantityTable: "heading" | "rows" | undefined;
  /** The section whose lists the captions read so far stand over. */
  let captionRoot: RawItem | undefined;
  /**
   * Decimal numbering being read: `chain[d]` is the last item numbered with d + 1 numbers ("1.", then
   * "1.2", then "1.2.1"); it starts at a digit item ("1."). `nested`: the digit labels of a plain list
   * under a decimal item ("1.2 … the following:", "1.", "2.") counted so far.
   */
  let chain: RawItem[] = [];
  let nested = 0;
  /** A section (or a block of one) found from a statement, heading, caption or lead-in: the current item. */
  const openSection = (item: RawItem): void => {
    chain = [];
    items.push(item);
    cur = { kind: "item", item };
    opener = item;
    sinceOpener = 0;
  };
  for (let index = 0; index < lines.length; index++) {
    let ln = lines[index] as Line;
    // A markdown table's |---| rule: no text, and no blank line between the table's rows.
    if (ln.tableRule) continue;
    // Bill types and revenue codes ("Bill Type 013x | Hospital Outpatient", "Revenue Code | 0360"), and a
    // lead-in that says they are how a claim is billed: how a claim is coded, never criteria (QA pass 7:
    // each row was a criterion a physician-office claim answered "no", denied). Reported; they restrict
    // no approval.
    if (index < billingEnd) {
      if (!ln.blank && !ln.pageHeader)
        unplaced.push({ line: ln.no, text: finishText(ln.text), reason: BILLING_REASON });
      continue;
    }
    if (
      !ln.hasTab &&
      !ln.blank &&
      !ln.pageHeader &&
      TABLE_CAPTION.test(finishText(ln.text)) &&
      nextLine(lines, index)?.hasTab &&
      cur !== null
    ) {
      // "Table 2: Indications for …" between tables under the criteria (QA pass 7: it was glued into the
      // row before as its words, and the header row under it asked as a criterion). A title: reported,
      // restricting nothing — unless it says how its rows combine. A table after a table read as rows
      // goes on with the same list.
      const title = finishText(ln.text);
      const words = title.replace(/^\S+\s\S+\s?[:.–—-]?\s?/, "");
      unplaced.push({
        line: ln.no,
        text: title,
        reason: CAPTION_LOGIC.test(words) ? CAPTION_LOGIC_REASON : CAPTION_REASON,
      });
      // Its table's first row (its header, perhaps), a blank line or a markdown rule between.
      let next = index + 1;
      while (next < lines.length && ((lines[next] as Line).blank || (lines[next] as Line).tableRule)) next++;
      if (NOT_CRITERIA_TABLE.test(words) || (EVIDENCE_TABLE.test(words) && !CRITERIA_TABLE.test(words))) {
        // A table of doses, codes or evidence is no further criteria, even right after criteria rows:
        // its rows are reported (what they restrict is not read; the section decides review).
        let end = next;
        while (end < lines.length && ((lines[end] as Line).hasTab || (lines[end] as Line).tableRule)) {
          const row = lines[end] as Line;
          if (!row.tableRule)
            unplaced.push({
              line: row.no,
              text: finishText(row.text),
              reason: `row of the table "${title}": not read as criteria`,
            });
          end++;
        }
        index = end - 1;
        continue;
      }
      caption = { first: next, rows: cur.kind === "item" && cur.item.line === rowItemLine };
      continue;
    }
    if (ln.hasTab || (/:\s*$/.test(ln.text) && BILLED.test(ln.text))) {
      const end = billingTableEnd(lines, ln.hasTab ? index : index + 1);
      if (end > index + (ln.hasTab ? 0 : 1)) {
        billingEnd = end;
        unplaced.push({ line: ln.no, text: finishText(ln.text), reason: BILLING_REASON });
        continue;
      }
    }
    // A table row under a lead-in ("Age<TAB>Patient is 50 years of age or older", BCBS): one criterion
    // per row, as a bullet would be — glued together they were one question (QA pass 2). The table may
    // stand a blank line below its lead-in (HTML, Word and markdown put one around a table); its header
    // row ("Criterion | Requirement") names the columns and is no criterion (QA pass 6: it was asked).
    if (
      ln.hasTab &&
      (!ln.bullet || ln.glyph === undefined) &&
      !ln.regionHeading &&
      parseLabel(finishText(ln.text)) === undefined
    ) {
      const underLead =
        cur?.kind === "lead" ? leadsIn(cur.lead.texts) : cur?.kind === "item" && leadsIn(cur.item.texts);
      const captioned = caption?.first === index ? caption : undefined;
      const rowAfterRow =
        (!sawBlank || captioned?.rows === true) && cur?.kind === "item" && leadsInOrRow(cur.item);
      if (underLead || rowAfterRow) {
        if (underLead && !(verdict && index < verdict.end)) {
          // A table starts here: does it state each row's coverage ("Covered? Yes/No")?
          let end = index;
          while (end < lines.length && ((lines[end] as Line).hasTab || (lines[end] as Line).tableRule)) end++;
          const col = verdictColumn(lines, index);
          const leadText = [
            ...(cur?.kind === "lead" ? cur.lead.texts : cur?.kind === "item" ? cur.item.texts : []),
            ...(opener && cur?.kind === "item" && opener !== cur.item ? opener.texts : []),
          ].join(" ");
          verdict =
            col >= 0
              ? {
                  col,
                  start: index,
                  end,
                  covered: COVERED.test(leadText) && !NOT_COVERED.test(leadText),
                  negative: NOT_COVERED.test(leadText),
                }
              : undefined;
        }
        const all = cellsOf(ln).map((c) => finishText(c));
        while (all.length && all[all.length - 1] === "") all.pop();
        const cells = all.filter((c) => c !== "");
        if (underLead && columnLabels(cells) && nextLine(lines, index)?.hasTab) continue;
        if (captioned && (columnLabels(cells) || headerLike(cells)) && nextLine(lines, index)?.hasTab) {
          // Its rows go on from the row before the caption, as the header's would have.
          if (captioned.rows) sawBlank = false;
          continue;
        }
        if (verdict && index < verdict.end) {
          // Each row states its coverage (QA pass 7: "Acute widget strain | No" and "Widget prophylaxis |
          // Investigational" were criteria of the covered list, answered "true" for a patient who had
          // them, approved). A row said to be covered, under a covered statement, is a criterion without
          // its verdict; any other row is reported and the section decides review.
          const cell = all[verdict.col] ?? "";
          // The header row ("Indication | Coverage", "Diagnosis | Meets criteria (Y/N)") names columns.
          if (index === verdict.start && VERDICT_COLUMN.test(cell) && !cells.some((c) => verdictCell(c)))
            continue;
          const rest = all.filter((c, k) => k !== verdict?.col && c !== "");
          // Under a statement of non-coverage, a row saying it is not covered is that list's item.
          const agrees = verdict.covered ? VERDICT_YES.test(cell) : verdict.negative && VERDICT_NO.test(cell);
          if (agrees && rest.length > 0) {
            ln = {
              ...ln,
              bullet: true,
              hasTab: false,
              text: rest.length === 1 ? (rest[0] as string) : `${rest[0]}: ${rest.slice(1).join(" ")}`,
            };
            rowItemLine = ln.no;
          } else {
            unplaced.push({
              line: ln.no,
              text: finishText(cells.join(" ")),
              reason:
                verdict.covered && VERDICT_NO.test(cell)
                  ? `table row stating "${cell}" for its coverage: not a criterion of a covered list`
                  : verdict.negative && VERDICT_YES.test(cell)
                    ? `table row stating "${cell}" for its coverage under a statement of non-coverage: not read`
                    : `table row whose coverage ("${cell}") is not read`,
            });
            continue;
          }
        } else if (cells.length >= 2 && (cells[0] as string).length <= 60) {
          ln = { ...ln, bullet: true, text: `${cells[0]}: ${cells.slice(1).join(" ")}` };
          rowItemLine = ln.no;
        }
      }
    }
    if (ln.regionHeading === "criteria") {
      // A heading inside the criteria ("Coverage Limitations") ends the item before it: the paragraph
      // under it is never that item's continuation (a QA pass found Humana's not-covered statements
      // glued into the last covered criterion).
      if (cur?.kind === "item") afterHeading = true;
      // "Exclusions" over a list, in a document without printed sections: a not-covered section of its
      // own; its bullets were the covered list's further items (required to be present).
      if (
        cur?.kind === "item" &&
        !labeledSections &&
        opener?.synthetic &&
        sinceOpener > 0 &&
        (NOT_COVERED.test(finishText(ln.text)) || LIMITATIONS.test(finishText(ln.text))) &&
        itemFollows(lines, index)
      ) {
        // Its words as a lead-in ("Exclusions:"): the bullets under it are its list.
        const heading = finishText(ln.text).replace(/[\s:.]*$/, ":");
        openSection(syntheticSection(heading, ln, syntheticCount(items) + 1));
        afterHeading = false;
      } else if (
        cur?.kind === "item" &&
        (sinceOpener > 0 || cur.item.heading === true) &&
        listItemFollows(lines, index)
      ) {
        // "Contraindications" or "Reauthorization" between two lists of a section, no statement of its
        // own: the list after it was glued into the one before (its "1." a wrap or a repeat), read as
        // required (QA pass 3) — reported, and the section decides review.
        unplaced.push({ line: ln.no, text: finishText(ln.text), reason: HEADING_BETWEEN });
      }
      continue;
    }
    if (ln.pageHeader) {
      pendingBreak = true;
      continue;
    }
    if (ln.blank || ln.linkOnly) {
      sawBlank = true;
      continue;
    }
    const text = ln.text;
    const plain = finishText(text);
    const brk = pendingBreak || ln.pageBreakBefore;
    const blankBefore = sawBlank;
    sawBlank = false;
    pendingBreak = false;
    const afterStray = stray && !blankBefore;
    stray = false;
    const headed = afterHeading;
    afterHeading = false;
    if (defining && !blankBefore) {
      // The definition's list or its wrapped words: not criteria (they were the item before's list).
      // Its own labels start at 1 and go on without a blank line ("1. At least 90 days …; and",
      // "2. Persistent lesions …"); a blank line ends it (QA pass 4: they were glued on as required).
      const lab = parseLabel(text);
      const c = lab?.candidates.find((k) =>
        defNext === undefined ? k.value === 1 : k.style === defNext.style && k.value === defNext.value,
      );
      if (!lab || c) {
        if (c) defNext = { style: c.style, value: c.value + 1 };
        unplaced.push({ line: ln.no, text: plain, reason: DEFINITION_REASON });
        continue;
      }
    }
    if (defining && ln.bullet && parseLabel(text) === undefined)
      // Bullets after a blank line: the definition's list goes on, or the criteria do (QA pass 4 found
      // the last criteria filed as the definition's). Read as criteria, and the section decides review.
      unplaced.push({
        line: ln.no,
        text: plain,
        reason: "after a definition: its list's or the criteria's is not read",
      });
    defining = false;
    if (
      cur?.kind === "item" &&
      blankBefore &&
      !ln.bullet &&
      DEFINES.test(plain) &&
      parseLabel(text) === undefined
    ) {
      // "Conservative care is defined as:" between the items (eviCore): what a word of the criteria
      // means, not a further list that each request must meet (QA pass 2: its bullets were glued on as
      // the item before's required list). Reported, with its list; it restricts nothing by itself.
      unplaced.push({ line: ln.no, text: plain, reason: DEFINITION_REASON });
      defining = true;
      defNext = undefined;
      continue;
    }
    // Only where a list item follows: between two statements of one item it is that item's (splitAtConnector).
    const alone = cur?.kind === "item" ? CONNECTOR_LINE.exec(plain) : null;
    // "…fulmelzen);" then "or" on a line of its own (a PDF's wrap, a page break between) is the item's
    // own trailing "; or": the connector after an item that ends with ";" or "," is that item's.
    // A bare lower-case "or"/"and", or a connector indented under the item's text (Cigna wraps "; OR"
    // so), after an item ending in ";" or ",": that item's own. "OR" at the items' margin stands between
    // groups whatever the item ends with (a second reading: Cigna and BCBS end every item with ";").
    const wrappedJoiner =
      cur?.kind === "item" &&
      /[;,]$/.test(tailOf(cur.item.texts)) &&
      (/^(?:or|and|and\/or)$/.test(plain.trim()) || (!blankBefore && ln.indent > cur.item.indent));
    if (alone && cur?.kind === "item" && /^and$/i.test(alone[1] as string) && itemFollows(lines, index)) {
      // "1. … adherent" / "AND" / "2. …": the connector between two items is the first's joiner, as
      // "; and" at its end would be — groups joined by "and" are one "all" list (QA pass 2: review).
      if (!/\b(?:and|or)\s*$/i.test(tailOf(cur.item.texts))) cur.item.texts.push("and");
      continue;
    }
    if (alone && cur?.kind === "item" && !wrappedJoiner && blankBefore && !itemFollows(lines, index)) {
      // "1. … OR 2. …", a blank, "AND", a blank, "Prescribed by a dermatologist": the connector joins the
      // list to the paragraph after it, a shared criterion (QA pass 4: it was read into the last item,
      // "(A or (B and C))", certain). Reported with that paragraph; the section decides review.
      unplaced.push({ line: ln.no, text: plain, reason: JOINS_PARAGRAPH });
      joinsParagraph = true;
      continue;
    }
    if (joinsParagraph && cur?.kind === "item" && !ln.bullet && parseLabel(text) === undefined) {
      unplaced.push({ line: ln.no, text: plain, reason: JOINS_PARAGRAPH });
      joinsParagraph = false;
      stray = true;
      continue;
    }
    joinsParagraph = false;
    if (alone && cur?.kind === "item" && !wrappedJoiner && itemFollows(lines, index)) {
      // "OR" on a line of its own between items: never glued to the item's words; the section notes
      // it (below) — the items on either side are alternative groups the tree does not express.
      cur.item.joinLine ??= { line: ln.no, word: (alone[1] as string).toUpperCase() };
      continue;
    }
    if (
      cur?.kind === "item" &&
      blankBefore &&
      !labeledSections &&
      opener?.synthetic &&
      KIND_LABEL.test(plain)
    ) {
      // "Not Medically Necessary" on a line of its own after a section (BCBS): the next section, its
      // statement the paragraph under it (it was glued into the covered statement before it).
      openSection(syntheticSection(plain, ln, syntheticCount(items) + 1));
      continue;
    }
    if (
      quantityTable !== undefined &&
      // A labelled line or a coverage statement opens what comes next, blank line or not (a second
      // reading: "II. Continuation … is medically necessary" right under the limit was swallowed).
      parseLabel(text) === undefined &&
      !statesCoverage(plain) &&
      (ln.hasTab || !blankBefore || (quantityTable === "heading" && !ln.bullet && !ln.heading))
    ) {
      // The rows of a table under a "Quantity Limit" heading ("Drug | Package size | Quantity Limit"),
      // or the paragraph right under it: the limit itself, reported with its heading.
      quantityTable = "rows";
      unplaced.push({ line: ln.no, text: plain, reason: QUANTITY_REASON });
      stray = true;
      continue;
    }
    quantityTable = undefined;
    if (cur !== null && QUANTITY_HEADING.test(plain.replace(/^#+\s*/, ""))) {
      // "Quantity Limit" (or "### Quantity Limits") on a line of its own, a table under it: a limit no
      // criterion asks, like "Quantity Limit: …" on one line (QA pass 6: heading and table were glued
      // into the last criterion's words). Reported with the table's rows; the section decides review.
      unplaced.push({ line: ln.no, text: plain, reason: QUANTITY_REASON });
      quantityTable = "heading";
      stray = true;
      continue;
    }
    if (cur !== null && QUANTITY_LIMIT.test(plain) && !(ln.bullet && !/\blimit/i.test(plain))) {
      // "Quantity Limit: 2 pens per 28 days": how much may be approved, which no criterion asks — never
      // the last criterion's words (QA pass 2 found it glued into the step-therapy item); reported, so
      // the section decides review.
      unplaced.push({ line: ln.no, text: plain, reason: QUANTITY_REASON });
      stray = true;
      continue;
    }
    if (aside !== undefined && !blankBefore && !ln.bullet && parseLabel(text) === undefined) {
      unplaced.push({ line: ln.no, text: plain, reason: aside });
      continue;
    }
    aside = undefined;
    if (!ln.bullet && ASIDE_START.test(plain) && parseLabel(text) === undefined) {
      // "Services may or may not be covered by all … plans. Please refer to the member's plan
      // document …", "If all criteria are met, the request will be authorized for 12 months.": beside
      // the criteria, none of them — reported (no section uncertain), never a statement or an item's words
      // (QA pass 7: the boilerplate became section I and the real statement's list was lost).
      const why =
        blankBefore || cur === null
          ? asideParagraph(paragraphAt(lines, index))
          : durationSentence(plain)
            ? DURATION_REASON
            : undefined;
      if (why) {
        unplaced.push({ line: ln.no, text: plain, reason: why });
        aside = why;
        continue;
      }
    }
    if (cur !== null && authDuration(plain)) {
      // "Approval duration: 6 months" under a list: how long an approval lasts, not a criterion, and
      // never the last item's words (a QA pass found it glued into "D. Request does not exceed …").
      unplaced.push({ line: ln.no, text: plain, reason: DURATION_REASON });
      continue;
    }
    const note = readNoteStart(ln);
    if (note) {
      notes.push(note);
      cur = { kind: "note", note };
      continue;
    }
    let lab = parseLabel(text);
    let decimal: Pick<RawItem, "path" | "decimalOf" | "decimalDoubt"> | undefined;
    if (lab?.path) {
      if (
        chain.length === 0 &&
        cur?.kind === "lead" &&
        !labeledSections &&
        lab.path.length === 2 &&
        lab.path[1] === 1
      ) {
        // "… when all of the following are met:", then "1.1 …": the statement is section I (as it is over
        // a list labelled "1."), and the numbering starts under it.
        const section = sectionFromLead(cur.lead);
        section.path = [lab.path[0] as number];
        lead = undefined;
        items.push(section);
        opener = section;
        sinceOpener = 0;
        cur = { kind: "item", item: section };
        chain = [section];
      }
      const read = readDecimal(lab.token, lab.path, chain);
      if (read === undefined) {
        // No numbered item above it ("2.5 Gy" or a date wrapped onto the line; "3.1 General Criteria" under
        // a heading the list does not print): the words of the line before where it had not ended (as
        // before decimal labels were read), else reported — never a criterion at a guessed place.
        const before =
          cur?.kind === "item" ? tailOf(cur.item.texts) : cur?.kind === "lead" ? tailOf(cur.lead.texts) : "";
        if (cur !== null && !blankBefore && unfinished(before)) lab = undefined;
        else {
          unplaced.push({
            line: ln.no,
            text: plain,
            reason: `decimal label "${lab.token}" under no numbered item: where it belongs is not read`,
          });
          stray = cur?.kind === "item";
          continue;
        }
      } else {
        decimal = read;
        nested = 0;
      }
    } else if (!lab && chain.length > 0 && cur?.kind === "item") {
      // "1.2 the member has …" where "1.2" comes next, after a line that has ended: a label whose words start
      // in lower case, or a number (a dose) — reported, never glued into the item before as its words.
      const nums = decimalNumbers(text);
      if (nums && !unfinished(tailOf(cur.item.texts)) && !readDecimal("", nums, chain)?.decimalDoubt) {
        unplaced.push({
          line: ln.no,
          text: plain,
          reason: `"${nums.join(".")}" may be the next decimal label or a number: the line is not read`,
        });
        stray = true;
        continue;
      }
    }
    if (
      lab &&
      cur?.kind === "lead" &&
      !labeledSections &&
      !opensSection(lab.candidates, lab.rest, ln.indent)
    ) {
      // A list right under a leading statement, in a document without printed sections: the statement
      // is section I (as a leading statement before bullets is).
      const item = sectionFromLead(cur.lead);
      lead = undefined;
      items.push(item);
      opener = item;
      sinceOpener = 0;
    }
    if (lab) {
      const item: RawItem = {
        token: lab.token,
        printed: text,
        cands: lab.candidates,
        texts: [lab.rest],
        line: ln.no,
        indent: ln.indent,
        children: [],
        ...decimal,
      };
      items.push(item);
      cur = { kind: "item", item };
      if (decimal) {
        // The deepest numbering open is this item's (a label deeper than the one above it goes one deeper).
        chain.length = Math.min(chain.length, (decimal.path?.length ?? 1) - 1);
        chain.push(item);
      } else {
        // Letters ("A.", "a.") under a decimal item are its own list: the numbering goes on after them (a
        // section of other labels resets it where it opens).
        const digit = lab.candidates.find((c) => c.style === "digit")?.value;
        const root = chain[0];
        if (digit !== undefined) {
          if (!root || chain.length === 1) {
            // "1." (or the next "2."): where decimal numbering may start.
            item.path = [digit];
            chain = [item];
          } else if (digit === 1 || (nested > 0 && digit === nested + 1)) {
            // "1.", "2." of a plain list under a decimal item: the numbering goes on after it.
            nested = digit;
          } else if (digit === (root.path?.[0] ?? 0) + 1 && ln.indent <= root.indent) {
            item.path = [digit];
            chain = [item];
            nested = 0;
          }
        }
      }
      if (opensSection(lab.candidates, lab.rest, ln.indent)) {
        chain = [];
        // A lettered heading stands alone on its line ("B. Nationally Covered Indications", then a blank).
        item.heading = !lab.candidates.some((c) => c.style === "roman") && (lines[index + 1]?.blank ?? true);
        opener = item;
        sinceOpener = 0;
        labeledSections = true;
      } else {
        if (opener && sinceOpener === 0) opener.first ??= item;
        sinceOpener++;
      }
      continue;
    }
    // The line before's end, read only for a line that could be a caption (per line it cost a second
    // scan of a long paragraph's lines: the ingest bench's "stray lines" shape).
    const endsBefore = (): string =>
      cur?.kind === "item" ? tailOf(cur.item.texts) : cur?.kind === "lead" ? tailOf(cur.lead.texts) : "";
    if (
      !ln.bullet &&
      (cur?.kind === "item" || cur?.kind === "lead") &&
      captionOver(lines, index, plain) &&
      // After a line that has ended: "… for members with Moderate to Severe" / "Plaque Psoriasis" is a wrap.
      (blankBefore || lineEnded(endsBefore(), sinceOpener > 0))
    ) {
      // "Rheumatoid Arthritis" then "A. …", "Psoriatic Arthritis" then "A. …" again: each caption is a
      // block of the section whose list is the caption's (QA pass 2: glued into the item before, or
      // reported and the section sent to review). Only where the list under it starts at 1/A and the
      // section's (or the caption before's) list started so too.
      let root = opener;
      if (cur.kind === "lead" && !labeledSections) {
        root = sectionFromLead(cur.lead);
        lead = undefined;
        items.push(root);
        opener = root;
        sinceOpener = 0;
      }
      if (root && (!root.block || root.caption) && !(root.caption && sinceOpener === 0)) {
        if (sinceOpener === 0 || restartsList(root, lines, index)) {
          const item = unlabeled(text, ln, { block: true });
          item.caption = plain.replace(/\s*:$/, "");
          captionRoot = root.caption ? captionRoot : root;
          if (/\b(?:and|or)\s*$/i.test(endsBefore())) item.joinedBefore = true;
          openSection(item);
          continue;
        }
      }
      if (cur.kind === "item") {
        // A caption whose list does not start again where the lists before did ("1." then "A."): which
        // items it governs is not read — reported (the section decides review), never glued on.
        unplaced.push({ line: ln.no, text: plain, reason: HEADING_BETWEEN });
        continue;
      }
    }
    if (
      opener?.caption &&
      cur?.kind === "item" &&
      blankBefore &&
      !ln.bullet &&
      parseLabel(text) === undefined &&
      titleCased(plain.replace(/\s*:$/, ""))
    ) {
      // Under captions, a further title with no list of its own ("Ankylosing Spondylitis", then "Criteria
      // are the same as …"): reported with its paragraph, never the last item's words.
      unplaced.push({ line: ln.no, text: plain, reason: HEADING_BETWEEN });
      stray = true;
      continue;
    }
    // The paragraph this line opens is read only where a statement may start (a statement may wrap
    // before its verb); not for every line.
    const whole = blankBefore || cur === null;
    if (cur === null && opensStatement(lines, index, whole)) {
      lead = { texts: [text], line: ln.no, indent: ln.indent };
      cur = { kind: "lead", lead };
      continue;
    }
    if (
      (blankBefore || headed) &&
      !labeledSections &&
      (opener?.synthetic || (opener?.caption !== undefined && captionRoot?.synthetic)) &&
      sinceOpener > 0 &&
      !ln.bullet &&
      opensStatement(lines, index, whole || headed)
    ) {
      // Another coverage statement after a list, in a document without printed section labels: the
      // next section (I, II, … by position).
      openSection(syntheticSection(text, ln, syntheticCount(items) + 1));
      continue;
    }
    if (cur?.kind === "lead" && ln.bullet && !labeledSections) {
      // Bullets under a leading statement: the statement is section I (the deferred reading below
      // would otherwise fold the bullets into it).
      const item = sectionFromLead(cur.lead);
      lead = undefined;
      items.push(item);
      cur = { kind: "item", item };
      opener = item;
      sinceOpener = 0;
    }
    if (
      cur?.kind === "lead" &&
      blankBefore &&
      !ln.bullet &&
      parseLabel(text) === undefined &&
      announcesBelow(finishText(collapse(cur.lead.texts.join(" ")))) &&
      coveredAt(text) >= 0 &&
      notCovered(text) === null &&
      opensStatement(lines, index, true)
    ) {
      // "The Department covers X for eligible members when the criteria below are met." then, in the
      // next paragraph (or under the next heading), "X is medically necessary when ALL of the following
      // are met:": one statement in two sentences (the first's population still read), not a statement
      // with no list and the one over the list left unplaced.
      cur.lead.texts.push(text);
      continue;
    }
    if (
      cur?.kind === "lead" &&
      (!blankBefore ||
        brk ||
        !endsTerminal(tailOf(cur.lead.texts)) ||
        (cur.lead.texts.length === 1 && KIND_LABEL.test(finishText(tailOf(cur.lead.texts)))))
    ) {
      cur.lead.texts.push(text);
      continue;
    }
    if (/^refer to\b/i.test(plain)) {
      const p = { text: plain, line: ln.no };
      referParagraphs.push(p);
      referLines.set(p, [p.text]);
      cur = { kind: "refer", p };
      continue;
    }
    if (cur?.kind === "note" && (!blankBefore || brk)) {
      cur.note.texts.push(text);
      continue;
    }
    if (cur?.kind === "refer" && !blankBefore) {
      referLines.get(cur.p)?.push(plain);
      continue;
    }
    if (cur?.kind === "item" && opener && blankBefore && !ln.bullet && !brk) {
      const t = plain;
      if (sinceOpener === 0 && (looksLikeLeadIn(t) || statesCoverage(t))) {
        if (
          !labeledSections &&
          opener.synthetic &&
          cur.item === opener &&
          kindTurns(opener.texts, paragraphAt(lines, index))
        ) {
          // "Maintenance X is medically necessary when …." then "Repeat courses of X are not medically
          // necessary.": a statement of the other kind is the next section, not the first's words (QA
          // pass 7: glued, its limit or circumstance was asked of no section, the others approved).
          openSection(syntheticSection(text, ln, syntheticCount(items) + 1));
          continue;
        }
        // The section's (or list's) statement goes on in a paragraph of its own before the list.
        pushParagraph(opener, text, ln.no);
        continue;
      }
      // "1. Types of Implantations", then "There are two types … covered:": a heading item's own
      // lead-in (its list follows), not a further list of the section.
      if (sinceOpener > 0 && /:\s*$/.test(t) && looksLikeLeadIn(t) && !headingItem(cur.item)) {
        // A further lead-in after a list: a block of the section (issue 12 id scheme `<id>-<k>`).
        openSection(unlabeled(text, ln, { block: true }));
        continue;
      }
    }
    if (cur?.kind === "item" && ln.bullet) {
      const owner = bulletOwner(cur.item, ln.indent) ?? earlierBulletOwner(items, ln.indent);
      if (owner) {
        const item = unlabeled(text, ln, { bulletOf: owner });
        items.push(item);
        cur = { kind: "item", item };
        sinceOpener++;
        continue;
      }
    }
    if (afterStray && cur?.kind === "item" && !ln.bullet) {
      // The rest of a paragraph that could not be placed is not the list item before it. A sentence of
      // it that leads into the list right after ("In addition, CMS will review studies to determine if
      // they meet the 13 criteria listed below.", then "a." …) is a further list of the section.
      const t = plain;
      if (opener && (looksLikeLeadIn(t) || LISTED_BELOW.test(t)) && listFollows(lines, index)) {
        openSection(unlabeled(text, ln, { block: true }));
        continue;
      }
      unplaced.push({
        line: ln.no,
        text: t,
        reason: "paragraph in the criteria region that is not a list item, note or cross-reference",
      });
      stray = true;
      continue;
    }
    if (
      cur?.kind === "item" &&
      cur.item.token !== "" &&
      !ln.bullet &&
      titleCased(plain) &&
      /[A-Za-z]{3}/.test(text) &&
      (/(?:[.;,:]|\b(?:and|or))\s*$/i.test(tailOf(cur.item.texts)) ||
        (blankBefore && (lines[index + 1]?.blank ?? true)) ||
        labelRestarts(lines, index, cur.item)) &&
      itemFollows(lines, index)
    ) {
      // "A. …; or", then "Children Aged 6 to 17", then "B. …": a heading over the items after it. Glued
      // into A it asked A the wrong thing; dropped, B would be read for everyone: it is reported and
      // the section decides review (a second reading).
      unplaced.push({
        line: ln.no,
        text: plain,
        reason: HEADING_BETWEEN,
      });
      continue;
    }
    // "AND the member has limited range of motion" in a paragraph of its own, printed further out than
    // the nested item before it (an <li>'s paragraph after its inner list): a further requirement of
    // the item it is indented to, not the words of the nested list's last alternative (QA pass 5: it
    // became optional).
    const andOuter =
      cur?.kind === "item" &&
      blankBefore &&
      !ln.bullet &&
      ln.indent > 0 &&
      ln.indent < cur.item.indent &&
      /^AND\s+\S/.test(text);
    if (andOuter) {
      const owner = paragraphOwner(items, ln.indent);
      if (owner && !owner.block) {
        const item = unlabeled(text.replace(/^AND\s+/, ""), ln, { paraOf: owner });
        items.push(item);
        cur = { kind: "item", item };
        continue;
      }
    }
    if (
      cur?.kind === "item" &&
      blankBefore &&
      !ln.bullet &&
      opener !== undefined &&
      cur.item !== opener &&
      sinceOpener > 0 &&
      /^AND\s+\S/.test(text) &&
      parseLabel(text) === undefined
    ) {
      // "1. …", "2. …", a blank line, "AND the infant has not received …" at the list's margin: a
      // further requirement of the whole section, beside its list (QA pass 6: it was glued into the last
      // alternative and never asked). Read as the section's requirement paragraph (`I-p1`, the list
      // `I-1`) where the line stands no deeper than the section's items; otherwise (a block's list, a
      // line as deep as the item before) which items it joins is not read: reported, the section decides
      // review.
      const section = sectionOf(items);
      const owner = paragraphOwner(items, ln.indent) ?? section;
      if (
        owner !== undefined &&
        owner === section &&
        opener === section &&
        ln.indent <= firstIndent(items, section)
      ) {
        const item = unlabeled(text.replace(/^AND\s+/, ""), ln, { paraOf: owner });
        items.push(item);
        cur = { kind: "item", item };
        continue;
      }
      unplaced.push({ line: ln.no, text: plain, reason: JOINS_PARAGRAPH });
      stray = true;
      continue;
    }
    if (cur?.kind === "item") {
      const wrapped = !blankBefore && !ln.bullet;
      const cut = brk;
      // A heading-like item ("1. Post-cardiotomy (effective …)") followed by a requirement paragraph:
      // the paragraph is the item's criterion (below), not the rest of its sentence.
      const headingLike =
        cur.item.token !== "" && cur.item.children.length === 0 && tailOf(cur.item.texts).length <= 120;
      const unfinished =
        blankBefore &&
        !ln.bullet &&
        // "PRESCRIBER REQUIREMENTS: Prescribed by …": a run-in heading of its own paragraph, never the
        // rest of the item before it (QA pass 5: glued into the last diagnosis's last item, the other
        // diagnoses never asked it).
        !RUN_IN_CAPS.test(text) &&
        // A markdown "### Continuation criteria" or a wholly bold line is a heading, never the rest of
        // the item before it (QA pass 5: glued into the last criterion's words).
        !ln.heading &&
        (startsLower(text) ||
          (!endsTerminal(tailOf(cur.item.texts)) &&
            !(headingLike && REQUIREMENT.test(paragraphAt(lines, index)))));
      if ((wrapped || cut || unfinished) && !headed) {
        if (blankBefore) pushParagraph(cur.item, text, ln.no);
        else cur.item.texts.push(text);
        continue;
      }
    }
    if (cur?.kind === "item" && blankBefore && !ln.bullet && REQUIREMENT.test(paragraphAt(lines, index))) {
      // A requirement stated in a paragraph of its own (issue 12): inside a list item (indented to its
      // text) it is that item's next criterion; at the section's margin, a criterion of the section.
      const owner =
        ln.indent > 0
          ? paragraphOwner(items, ln.indent)
          : cur.item.token !== "" &&
              !cur.item.heading &&
              cur.item.children.length === 0 &&
              !endsTerminal(tailOf(cur.item.texts))
            ? cur.item
            : sectionOf(items);
      if (owner && !owner.block) {
        const item = unlabeled(text, ln, { paraOf: owner });
        items.push(item);
        cur = { kind: "item", item };
        continue;
      }
    }
    unplaced.push({
      line: ln.no,
      text: plain,
      reason:
        cur === null
          ? "text before the first section of the criteria"
          : "paragraph in the criteria region that is not a list item, note or cross-reference",
    });
    stray = cur?.kind === "item";
  }

  for (const [p, parts] of referLines) p.text = collapse(parts.join(" "));
  if (lead) {
    if (items.length > 0 && !items[0]?.cands.some((c) => c.style === "roman")) {
      // A single-section policy whose statement carries no "I.": the statement is section I.
      items.unshift(sectionFromLead(lead));
    } else
      unplaced.push({
        line: lead.line,
        text: finishText(lead.texts.join(" ")),
        reason: "text before the first section of the criteria",
      });
  }
  for (const item of items) cutDurationTail(item, unplaced);
  const roots = buildHierarchy(items, unplaced);
  const ctx: Ctx = {
    unplaced,
    uncertain: [],
    findings,
    earlier: [],
    earlierIds: new Set(),
    marked: [],
    paraOffset: 0,
  };
  const sections: Section[] = [];
  // Top-level labels that run in order from where the document starts them (CMS prints "A. General"
  // under the description, then "B. Nationally Covered Indications") keep their printed letter.
  const printed =
    roots.length > 0 &&
    !roots.some((r) => r.synthetic) &&
    (roots[0]?.value ?? 1) <= 4 &&
    roots.every((r, i) => i === 0 || r.value === (roots[i - 1]?.value ?? 0) + 1);
  const read: { item: RawItem; id: string; heading?: string }[] = [];
  roots.forEach((item, i) => {
    const style = item.style as LabelStyle;
    const id = formatLabel(style, printed ? (item.value ?? i + 1) : i + 1);
    if (!(printed && i === 0)) labelFindings(item, id, style, ctx);
    const heading = decimalHeading(item);
    // "3. Coverage Criteria" over "3.1 X is medically necessary when …", "3.2 X is not medically
    // necessary …": each decimal statement is a section (3.1, 3.2) under the heading.
    if (!heading) read.push({ item, id });
    else
      item.children.forEach((c, k) => {
        read.push({ item: c, id: `${id}.${k + 1}`, heading });
      });
  });
  for (const { item, id, heading } of read) {
    const statement = finishText(takeMarker(collapse(item.texts.join(" "))).text);
    const byParagraph = item.heading ? statementParagraphs(item) : undefined;
    let kind = sectionKind(statement, item.children.length > 0);
    if (byParagraph && item.children.length === 0) kind = byParagraph.kind ?? kind;
    // A coverage statement with no list ("X is medically necessary for members with Y who have failed
    // Z"; "… when the member continues to meet the criteria in section I"): its condition or its
    // reference is what a request must meet. Before, the section had no tree, and a code bound to it
    // was decided not covered.
    const alone =
      kind === "other" &&
      item.children.length === 0 &&
      // A heading's paragraphs are read by statementParagraphs (CMS): one that defers is no criterion.
      !item.heading &&
      sectionKind(statement, true) === "medically-necessary";
    if (alone) kind = "medically-necessary";
    const section: Section = { id, label: item.token, kind, text: statement, line: item.line };
    if (heading) section.heading = heading;
    // Covered language outside the not-covered phrases: "Not Medically Necessary" holds "medically
    // necessary" and says one thing (a QA pass found the finding on every such heading).
    const covered = COVERED.exec(withoutBoilerplate(statement).replace(NOT_COVERED_ALL, " "));
    const mixed = covered && NOT_COVERED.exec(statement);
    if (mixed && kind !== "other")
      findings.push({
        code: "kind-mixed",
        severity: "info",
        message: `section ${id} says both "${covered[0]}" and "${NOT_COVERED.exec(statement)?.[0]}": read as ${kind} (the phrase that comes first decides); check that the section says one thing`,
        line: item.line,
        criterion: id,
      });
    ctx.uncertain = [];
    if (kind === "medically-necessary" && wayInLimited(statement))
      ctx.uncertain.push(
        `section ${id} is not covered beyond a limit unless its list is met: the limit, which the list lifts, is asked by no criterion`,
      );
    if (kind === "uncertain")
      ctx.uncertain.push(`section ${id} lists criteria under no statement of coverage or non-coverage`);
    if (byParagraph?.kind && item.children.length === 0) {
      section.tree = paragraphSection(byParagraph, item, id, statement, ctx);
      if (ctx.uncertain.length > 0) section.uncertain = [...ctx.uncertain];
    } else if (item.children.length > 0) {
      const heads = byParagraph?.heads;
      if (heads && byParagraph) {
        ctx.paraOffset = heads;
        const rest = byParagraph.rest;
        const inner = makeGroup(item, id, rest, readLeadIn(rest, true), ctx, true);
        ctx.paraOffset = 0;
        section.tree = headedByStatement(byParagraph, inner, item, id, statement, ctx);
      } else {
        const lead = readLeadIn(statement, true);
        section.tree = makeGroup(item, id, statement, lead, ctx, true);
      }
      if (ctx.uncertain.length > 0) section.uncertain = [...ctx.uncertain];
    } else if (alone) {
      section.tree = statementOnly(item, id, statement, ctx);
      if (ctx.uncertain.length > 0) section.uncertain = [...ctx.uncertain];
    } else if (MEDICALLY_NECESSARY.test(statement) && kind === "other") {
      findings.push({
        code: "section-without-criteria",
        severity: "info",
        message: `section ${id} says "medically necessary" but lists no criteria`,
        line: item.line,
        criterion: id,
      });
    }
    const joined = joinLineInside(item);
    if (joined && section.tree && kind !== "not-proven") {
      const why = `a line "${joined.word}" (line ${joined.line}) separates criteria of section ${id} into groups the tree does not express: its items are read as one list`;
      section.uncertain = [...(section.uncertain ?? []), why];
      findings.push({
        code: "list-connector-line",
        severity: "warning",
        message: `${why}; write the groups as labelled sub-lists ("1. All of the following: …", "2. …") or check the reading`,
        line: joined.line,
        criterion: id,
      });
    }
    ctx.earlier.push({ id, text: statement });
    ctx.earlierIds.add(id);
    sections.push(section);
  }
  attachNotes(notes, ctx, findings, unplaced);
  limitsNotAsked(sections, findings, unplaced);
  circumstancesNotAsked(sections, findings);
  markUncertain(sections, unplaced, findings);
  return { sections, findings, unplaced, referParagraphs };
}

/** A dose over a limit, in words ("doses greater than", "exceeds the FDA-approved maximum dose"). */
const DOSE_OVER = String.raw`\b(?:doses?|dosing|dosages?|quantit(?:y|ies))\s+(?:exceeding|in excess of|greater than|above|higher than|more than|over)\b|\bexceed(?:s|ing)?\s+(?:the\s+)?(?:(?:fda[- ]approved|maximum|recommended|labeled|labelled)\s+){0,2}(?:doses?|dosing|dosages?|quantit(?:y|ies))\b`;
/** Whether a sentence limits the dose ("doses greater than 140 mg per 28 days", "exceeds the maximum dose"). */
export function doseOver(text: string): boolean {
  return DOSE_OVER_RE.test(text);
}
const DOSE_OVER_RE = new RegExp(DOSE_OVER, "i");
/**
 * How often or how many a not-covered statement allows ("more frequently than once every 12 weeks",
 * "more than one implant per lifetime", "repeat procedures", "doses exceeding 300 mg every 2 weeks" —
 * QA pass 7: a dose over the limit was approved): a limit no criterion asks. Anchored on
 * words, no nested quantifiers.
 */
const LIMIT = new RegExp(
  String.raw`${DOSE_OVER}|\bmore (?:frequently|often) than\b|\blimited to (?:once|twice|one|two|three|four|\d{1,3})\b|\bmore than (?:one|once|two|twice|three|\d{1,3})\b[^.;]{0,80}\b(?:per|every|in a|within|lifetime|year|month|week|day|session|visit|implant|procedure|treatment|course|side|level)s?\b|\b(?:once|one|twice) (?:per|every|each|in an?) (?:lifetime|\d{1,3}|two|three|four|five|six|seven|eight|ten|twelve|calendar|rolling|year|month|week|day)\b|\bper lifetime\b|\brepeat(?:ed)? (?:[\w-]+ ){0,3}?(?:procedures?|treatments?|implant(?:ation)?s?|injections?|courses?|test(?:s|ing)?|imaging|scans?|stud(?:y|ies)|sessions?|surger(?:y|ies)|ablations?|infusions?|evaluations?|screenings?|sequencing)\b`,
  "i",
);

/**
 * A not-covered statement with no list that limits how often or how many (Humana's "Coverage
 * Limitations": "may NOT be eligible … more frequently than once every 12 weeks") is a limit the covered
 * sections beside it do not ask: their approval would ignore it, so they decide review and lint names
 * the limit (a second reading found an injection within 12 weeks of the last approved). No binding
 * evaluates such a limit yet: the reviewer checks it.
 */
/** The leaves of a tree (its own, not a referenced section's), iteratively. */
function leavesOf(tree: BranchNode): (CriterionNode & { kind: "leaf" })[] {
  const out: (CriterionNode & { kind: "leaf" })[] = [];
  const stack: CriterionNode[] = [...tree.children];
  while (stack.length > 0) {
    const n = stack.pop() as CriterionNode;
    if (n.kind === "leaf") out.push(n);
    else if (n.kind !== "ref") for (const c of n.children) stack.push(c);
  }
  return out;
}

function limitsNotAsked(sections: Section[], findings: Finding[], unplaced: readonly Unplaced[]): void {
  // The statement alone, or an item of a not-covered list ("The following are not medically necessary:
  // … Repeat testing more often than once per 12 months"; QA pass 5 found those approved unasked).
  const limits: { id: string; text: string; line: number; what: "section" | "criterion" | "paragraph" }[] =
    [];
  // A paragraph left unplaced that states a limit ("Replacement of a gizmo chair is limited to once every
  // 5 years, unless …" after a not-covered section) or a quantity limit: markUncertain counts it only
  // for the section it stands in, and after a not-covered one it reached no covered section (QA pass 7:
  // a replacement within 5 years approved). How long an approval lasts is no such limit.
  for (const u of unplaced) {
    if (u.reason === DURATION_REASON || u.reason === BOILERPLATE_REASON || u.reason === DEFINITION_REASON)
      continue;
    if (
      u.reason === QUANTITY_REASON ||
      (LIMIT.test(u.text) && !durationSentence(u.text) && !authDuration(u.text))
    )
      limits.push({ id: `line ${u.line}`, text: u.text, line: u.line, what: "paragraph" });
  }
  for (const s of sections) {
    if (s.kind !== "not-proven") continue;
    if (!s.tree) {
      if (LIMIT.test(s.text)) limits.push({ id: s.id, text: s.text, line: s.line, what: "section" });
      continue;
    }
    for (const n of leavesOf(s.tree))
      if (LIMIT.test(n.text)) limits.push({ id: n.id, text: n.text, line: n.line, what: "criterion" });
  }
  if (limits.length === 0) return;
  for (const l of limits) {
    findings.push({
      code: "limit-not-evaluated",
      severity: "warning",
      message: `${l.what === "paragraph" ? "the paragraph at" : l.what} ${l.id} limits how often or how many ("${l.text.slice(0, 80)}…"): no criterion asks it, so the covered sections decide review`,
      line: l.line,
      ...(l.what === "paragraph" ? {} : { criterion: l.id }),
    });
  }
  const which = limits
    .map((l) => (l.what === "paragraph" ? `the paragraph at ${l.id}` : `${l.what} ${l.id}`))
    .join(", ");
  reviewCovered(
    sections,
    (s) => `${which} states a limit on how often or how many that no criterion of ${s.id} asks`,
  );
}

/**
 * Every covered section with a tree gets `why` as a reason it decides review (markUncertain, run after,
 * reports each reason as lint's section-uncertain).
 */
function reviewCovered(sections: Section[], why: (s: Section) => string): void {
  for (const s of sections)
    if (s.kind === "medically-necessary" && s.tree) s.uncertain = [...(s.uncertain ?? []), why(s)];
}

/** Use combined with another treatment ("Concurrent use with another monoclonal antibody"). */
const COMBINED = /\bconcurrent(?:ly)?\b|\bconcomitant(?:ly)?\b|\bin combination with\b/i;

/**
 * A circumstance that can hold beside a covered indication, stated where no covered section asks it:
 * the patient's situation in a non-coverage statement ("not covered when the individual is in a
 * facility that provides a bed"), combined use ("Concurrent use with another monoclonal antibody"), a
 * requirement in a section that states no coverage ("II. Other: the individual must have a negative TB
 * test"). An approval under a covered section would ignore it (QA pass 5 found each approved), so the
 * covered sections decide review and lint names it. Lists of the patient's conditions are read with
 * the approval already (src/library/exclusions.ts) and are not counted here.
 */
const CIRCUMSTANCE = new RegExp(
  String.raw`\b(?:when|if|where|while)\s+(?:the\s+)?(?:individual|member|patient|beneficiary|enrollee|child|person|client|recipient)s?\s+(?:is|are|has|have|resides?|lives?|receives?|was|were)\b|\bin the presence of\b|${COMBINED.source}`,
  "i",
);

/**
 * The patient a non-coverage statement names — their age or condition ("not covered for members younger
 * than 12 years of age", "for individuals who have known or suspected bowel obstruction", "for members with
 * a history of stimulant use disorder", "in children under 6"): a circumstance that can hold beside a
 * covered indication (QA pass 6 found a 10-year-old approved). Not the service's own use ("for cosmetic
 * purposes", "for the treatment of X", "for all other indications"). Words only, no nested quantifiers.
 */
const PATIENT_NAMED =
  /\b(?:for|in|to)\s(?:the\s|all\s|an?\s)?(?:members?|individuals?|patients?|beneficiar(?:y|ies)|enrollees?|persons?|people|children|adults|adolescents|women|men|infants|neonates|those|anyone|clients?|recipients?)\s(?:who\s(?:have|has|had|are|is|were|was|resides?|lives?|receives?)\b|with\b|younger\b|older\b|under\b|over\b|aged?\b|less than\b|below\b|between\b|\d)|\b(?:under|below|younger than|older than|over) (?:the )?age(?: of)? \d/i;

/**
 * A non-coverage statement about the criteria or other indications, not a circumstance beside a covered
 * one: "when the member has not met the criteria in section I", "when the patient is being treated for
 * any other indication".
 */
const NOT_A_CIRCUMSTANCE =
  /\bcriteri|\bnot (?:been )?met\b|\b(?:any|all) other\b|\bother (?:indications?|conditions?|uses?)\b|\bother than (?:those|the ones|as|what is) (?:listed|stated|described|given|specified)\b|\bnot (?:listed|specified|described) (?:above|below|in)\b/i;
/** Whether one sentence of a not-covered statement names a circumstance (see circumstancesNotAsked). */
function circumstanceIn(text: string): boolean {
  if (LIMIT.test(text)) return false;
  if (COMBINED.test(text)) return true;
  return (CIRCUMSTANCE.test(text) || PATIENT_NAMED.test(text)) && !NOT_A_CIRCUMSTANCE.test(text);
}

/** A statement's sentences: split after a full stop before a capital (bounded, linear). */
function sentencesOf(text: string): string[] {
  return text.split(/(?<=[a-z0-9)][.])\s+(?=[A-Z])/);
}

/** Paperwork, not a clinical requirement: "Documentation must be submitted with each request." */
const PAPERWORK = /\b(?:documentation|records?|submit(?:ted)?|submission|request form|notes)\b/i;

function circumstancesNotAsked(sections: Section[], findings: Finding[]): void {
  const found: { id: string; text: string; line: number; what: string }[] = [];
  for (const s of sections) {
    if (s.kind === "not-proven") {
      if (!s.tree) {
        // "… for all other indications, including use in combination with other TKIs": the combined use
        // is a circumstance beside the covered indications all the same (QA pass 7: approved unasked).
        // Each sentence on its own: "… for ANY other indication. … not covered for an individual with a
        // life expectancy of less than 5 years." (two paragraphs of one kind read as one statement) — the
        // first's "other indication" hid the second's patient (QA pass 7: approved unasked).
        if (sentencesOf(s.text).some(circumstanceIn))
          found.push({ id: s.id, text: s.text, line: s.line, what: "section" });
        continue;
      }
      for (const n of leavesOf(s.tree))
        if (COMBINED.test(n.text)) found.push({ id: n.id, text: n.text, line: n.line, what: "criterion" });
    } else if (
      s.kind === "other" &&
      !s.tree &&
      (REQUIREMENT.test(s.text) || COMBINED.test(s.text) || /\b(?:cannot|may not)\b/i.test(s.text)) &&
      !PAPERWORK.test(s.text)
    ) {
      // CVS's "OTHER: Members cannot use the requested medication concomitantly with …" too.
      found.push({ id: s.id, text: s.text, line: s.line, what: "section" });
    } else if (s.tree && LIMITATIONS.test(s.text)) {
      // "Limitations:" over its list: limits and exclusions no covered criterion asks.
      found.push({ id: s.id, text: s.text, line: s.line, what: "section" });
    }
  }
  if (found.length === 0) return;
  for (const f of found) {
    findings.push({
      code: "circumstance-not-evaluated",
      severity: "warning",
      message: `${f.what} ${f.id} states a circumstance or requirement no covered section asks ("${f.text.slice(0, 80)}…"): the covered sections decide review; bind it (excludedBy) or write it into their criteria`,
      line: f.line,
      criterion: f.id,
    });
  }
  const which = found.map((f) => `${f.what} ${f.id}`).join(", ");
  reviewCovered(
    sections,
    (s) => `${which} states a circumstance or requirement that no criterion of ${s.id} asks`,
  );
}

/** Coverage left to someone else ("determined by the local contractors"): states no coverage here. */
const DEFERS =
  /\blocal (?:coverage|contractors?|medicare administrative)\b|\bcontractors?(?:'s|’s)? discretion\b|\bdoes not address\b|\bdetermined (?:locally|by the local)\b/i;

/** A paragraph wholly in parentheses. */
const EDITORIAL = /^\([^()]*\)\.?$/;

interface StatementParagraphs {
  /** The statement's paragraphs that state coverage or non-coverage, from its first (README rule 1). */
  stated: { text: string; line: number }[];
  /** The kind they agree on, where a section with no list is read from them; else undefined. */
  kind?: "medically-necessary" | "not-proven";
  /** Where a list follows: how many coverage paragraphs come first (the last heads the lists), or 0. */
  heads: number;
  /** The statement without those paragraphs (the heading and what follows them). */
  rest: string;
  /** Paragraphs after the stated ones that state nothing (description, or a condition unread). */
  others: number;
}

/**
 * A lettered heading's statement read paragraph by paragraph (README rules 1 and 2 of the NCD corpus):
 * the paragraphs that open it and each state coverage ("Payment may be made …", "X is reasonable and
 * necessary for …") or non-coverage are criterion paragraphs `<id>-p<k>`.
 */
function statementParagraphs(item: RawItem): StatementParagraphs | undefined {
  const starts = item.paras ?? [];
  if (starts.length === 0) return undefined;
  const paras = starts.map((from, k) => ({
    text: finishText(collapse(item.texts.slice(from.at, starts[k + 1]?.at ?? item.texts.length).join(" "))),
    line: from.line,
  }));
  const heading = finishText(collapse(item.texts.slice(0, starts[0]?.at).join(" ")));
  const signs: ("medically-necessary" | "not-proven")[] = [];
  for (const p of paras) {
    if (DEFERS.test(p.text) || !statesCoverage(p.text)) break;
    const k = sectionKind(p.text, true);
    if (k !== "medically-necessary" && k !== "not-proven") break;
    signs.push(k);
  }
  const stated = paras.slice(0, signs.length);
  // "(This NCD last reviewed February 2019.)": an editorial remark in parentheses restricts nothing.
  const others = paras
    .slice(stated.length)
    .filter((p) => !(EDITORIAL.test(p.text) && !REQUIREMENT.test(p.text) && !statesCoverage(p.text))).length;
  const same = signs.length > 0 && signs.every((k) => k === signs[0]) ? signs[0] : undefined;
  const out: StatementParagraphs = { stated, heads: 0, rest: heading, others };
  if (paras.some((p) => DEFERS.test(p.text))) return out;
  // One non-coverage statement is its section's statement, not a one-leaf tree; several are any of them.
  if (same === "not-proven" && stated.length >= 2) out.kind = same;
  if (same === "medically-necessary") out.kind = same;
  if (same === "medically-necessary" && stated.length >= 2 && others > 0) {
    out.heads = stated.length;
    out.rest = [heading, ...paras.slice(stated.length).map((p) => p.text)].join(" ");
  }
  return out;
}

/**
 * Where a statement names criteria it does not list ("meets the criteria below", "as outlined in the
 * table", "see Appendix A"): read alone, the section would ask nothing of them.
 */
const ELSEWHERE =
  /\b(?:criteria|requirements|conditions|indications|guidelines)\b[^.;]{0,60}?\b(?:below|following|listed|outlined|described|in (?:the )?(?:table|appendix|attachment|exhibit|grid))\b|\b(?:see|refer to|per) (?:the )?(?:table|appendix|attachment|exhibit|section|criteria|guidelines?)\b/i;

/**
 * A covered section whose statement has no list: the statement's own condition (its population, the
 * words after "for"/"when"), and its reference to an earlier section, are its criteria — the root asks
 * the condition at the section's id. A statement that asks nothing ("X is medically necessary.") or
 * names criteria it does not list is uncertain: it decides review.
 */
function statementOnly(item: RawItem, id: string, statement: string, ctx: Ctx): BranchNode {
  let lead = readLeadIn(statement, true);
  if (!lead.refText) {
    // "… is medically necessary when the member continues to meet all criteria in section I": the
    // statement's condition is a reference, read as an item's would be (leadin.ts itemReference).
    const found = referenceIn(statement);
    const r = found?.refText && !found.doubt && !found.labelDoubt ? itemReference(statement) : found;
    if (r?.refText) {
      const { condition, ...rest } = lead;
      // The condition's own words beside the reference are asked too ("when the member has bilateral
      // loss and criterion 1 above is met": QA pass 7 found them dropped with the reference, and a
      // unilateral loss approved for a bilateral implant); only the reference's words are not.
      const beside = condition?.includes(r.refText) ? besideReference(condition, r.refText) : undefined;
      // Not under a negation ("does not meet criteria 1 and 2 above"): that is no tree of theirs.
      const labels =
        r.doubt === undefined || r.doubt === r.labelDoubt || r.doubt === SAYS_MORE
          ? severalSections(r, ctx)
          : undefined;
      lead = {
        ...rest,
        refText: r.refText,
        ...(r.refSection !== undefined && { refSection: r.refSection }),
        ...(r.refSubject !== undefined && { refSubject: r.refSubject }),
        ...(labels && { refTargets: labels.targets }),
        ...(labels?.any && { refAny: true as const }),
        // Where the words beside it are not read (an alternative, no "and"), the condition stays whole.
        ...(beside && !beside.doubt
          ? beside.condition !== undefined && { condition: beside.condition }
          : condition !== undefined && { condition }),
      };
      // A doubt the condition's reading settles: "18 years of age or older and criteria 1 and 2 above
      // are met" (its "or" is the age's) or the labels' "or" read as one of the sections.
      const settled =
        (beside !== undefined && beside.doubt === undefined && r.doubt === SAYS_MORE) ||
        (labels !== undefined && r.doubt === r.labelDoubt);
      if (beside?.doubt)
        ctx.uncertain.push(`the reference of section ${id} ("${r.refText}"): ${beside.doubt}`);
      else if (r.doubt && !settled)
        ctx.uncertain.push(`the reference of section ${id} ("${r.refText}"): ${r.doubt}`);
    }
  }
  const tree = makeGroup(item, id, statement, lead, ctx, true);
  // The statement's full stop is not the condition's.
  if (tree.condition?.endsWith(".")) tree.condition = tree.condition.slice(0, -1);
  if (lead.refText && !lead.refTargets && !tree.children.some((c) => c.kind === "ref"))
    ctx.uncertain.push(`section ${id} refers to criteria ("${lead.refText}") that name no earlier section`);
  else if (tree.children.length === 0 && tree.condition === undefined)
    ctx.uncertain.push(`section ${id} states coverage but asks nothing: no condition and no criteria`);
  else if (lead.found && !lead.refTargets && !tree.children.some((c) => c.kind === "ref"))
    // "… when any of the following conditions is present." with no list under it (a second reading).
    ctx.uncertain.push(`section ${id} announces a list ("… of the following") that it does not have`);
  // "… only when the processor cannot be repaired, except when it is less than 5 years old": an
  // exception the condition cannot say (read into it, it was asked inverted).
  const exception = /\b(?:except|unless|other than|excluding)\b/i.exec(statement);
  if (exception)
    ctx.uncertain.push(
      `section ${id} states an exception ("${exception[0]} …") its condition does not express`,
    );
  const elsewhere = tree.children.length === 0 ? ELSEWHERE.exec(statement) : null;
  if (elsewhere)
    ctx.uncertain.push(
      `section ${id} names criteria it does not list ("${elsewhere[0]}"): they were not read as its criteria`,
    );
  return tree;
}

/**
 * A reference by several labels ("criteria 1 and 2 above", "criteria A or B above") whose labels are
 * each an earlier section: those sections, and whether one of them suffices ("or" only, no "and", no
 * range). Undefined otherwise (the reference stays unresolved, and the section decides review).
 */
function severalSections(r: ItemReference, ctx: Ctx): { targets: string[]; any: boolean } | undefined {
  const labels = r.refLabels ?? [];
  if (labels.length < 2 || !labels.every((l) => ctx.earlierIds.has(l))) return undefined;
  if (new Set(labels).size !== labels.length) return undefined;
  const words = r.refText ?? "";
  if (r.labelDoubt === undefined) return { targets: labels, any: false };
  // Alternatives only: "A or B", "1, 2, or 3" — not "1 and 2 or 3", not a range.
  if (r.labelDoubt === "it names alternatives" && !/\band\b|&/.test(words.replace(/^\S+\s/, "")))
    return { targets: labels, any: true };
  return undefined;
}

/** ", and (the member) (meets) (all of) (the)" before a reference: what joins a condition's own words to it. */
const REF_JOIN =
  /,?\s+(and|or)(?:\s+(?:the|member|patient|individual|beneficiary|he|she|they|has|have|had|continues|continue|to|meets?|met|also|all|of)){0,6}\s*$/i;

/**
 * The words of a statement's condition beside the reference it holds ("the member has bilateral
 * loss and criterion 1 above is met" → "the member has bilateral loss"; "criteria 1 and 2 above are met
 * and the member is an adult" → "the member is an adult"): asked with the reference's trees. `doubt`
 * where they are an alternative to it ("… or criterion 1 above is met") or not joined to it by "and".
 */
function besideReference(condition: string, refText: string): { condition?: string; doubt?: string } {
  const at = condition.indexOf(refText);
  const before = condition.slice(0, at);
  const after = condition
    .slice(at + refText.length)
    .replace(/^\s*(?:(?:are|is|have been|has been|were|was) (?:met|satisfied)\b)?[\s.,;:]*/i, "");
  const parts: string[] = [];
  if (!REF_FILLER.test(before)) {
    const join = REF_JOIN.exec(before);
    if (!join) return { doubt: 'words before it are not joined to it with "and"' };
    if (/^or$/i.test(join[1] as string)) return { doubt: "it is an alternative to the words before it" };
    const own = before.slice(0, join.index).trim();
    if (own !== "") parts.push(own);
  }
  if (after !== "") {
    const m = /^(?:and|plus)\s+(\S.*)$/i.exec(after);
    if (!m) return { doubt: 'words after it are not joined to it with "and"' };
    parts.push((m[1] as string).replace(/[\s.]+$/, ""));
  }
  return parts.length > 0 ? { condition: parts.join(" and ") } : {};
}

/** A section with no list whose statement paragraphs are its criteria: all of one, any of several. */
function paragraphSection(
  st: StatementParagraphs,
  item: RawItem,
  id: string,
  statement: string,
  ctx: Ctx,
): BranchNode {
  const leaves: CriterionNode[] = st.stated.map((p, k) => ({
    kind: "leaf",
    id: `${id}-p${k + 1}`,
    label: "",
    text: p.text,
    line: p.line,
  }));
  if (st.kind === "medically-necessary" && st.others > 0)
    ctx.uncertain.push(`section ${id} goes on after its coverage statement in text not read as criteria`);
  return {
    kind: leaves.length === 1 ? "all" : "any",
    id,
    label: item.token,
    text: statement,
    line: item.line,
    children: leaves,
  };
}

/**
 * Several coverage statements, then lists (README rule 2; CMS NCD 160.18: epilepsy covered; TRD covered
 * under CED, then its study questions, patient criteria and exclusions): each statement is a way in
 * (any); the lists and paragraphs after the last statement are read as its conditions (the group
 * `<id>-p<k>` whose condition is the statement). A list could apply to the earlier statements too, so
 * the section is uncertain (it decides review).
 */
function headedByStatement(
  st: StatementParagraphs,
  inner: BranchNode,
  item: RawItem,
  id: string,
  statement: string,
  ctx: Ctx,
): BranchNode {
  const k = st.heads;
  const last = st.stated[k - 1] as { text: string; line: number };
  const before: CriterionNode[] = st.stated.slice(0, k - 1).map((p, j) => ({
    kind: "leaf",
    id: `${id}-p${j + 1}`,
    label: "",
    text: p.text,
    line: p.line,
  }));
  ctx.uncertain.push(
    `the lists of section ${id} are read as conditions of its last coverage statement (${id}-p${k}) only`,
  );
  const { label: _l, text: _t, ...logic } = inner;
  const headed = {
    ...logic,
    id: `${id}-p${k}`,
    label: "",
    text: last.text,
    line: last.line,
    condition: last.text,
  } as BranchNode;
  return {
    kind: "any",
    id,
    label: item.token,
    text: statement,
    line: item.line,
    children: [...before, headed],
  };
}

/**
 * Safe by default (issue 12): text inside a section that could not be placed may be a requirement the
 * tree lacks, so that section is uncertain too; every uncertain section is reported by lint.
 */
/** A paragraph that lifts requirements rather than adding one ("There are no requirements regarding …"). */
const NON_RESTRICTIVE =
  /^(?:there (?:are|is) no (?:additional |further |other )?requirements?|no (?:additional|further) (?:requirements|criteria) (?:apply|are))\b/i;

/** Advice to whoever applies the policy ("Contractors may find it helpful to work with …"). */
const ADVICE = /\bmay find it (?:helpful|useful)\b|\bmay wish to\b|\b(?:is|are) encouraged to\b/i;

/** A paragraph of advice that states no requirement and no coverage: it restricts nothing. */
function advisory(text: string): boolean {
  return ADVICE.test(text) && !REQUIREMENT.test(text) && !statesCoverage(text);
}

/** Non-coverage said of the service itself: "is investigational", "not medically necessary", … */
const NEGATIVE_LEAF = new RegExp(
  String.raw`\b(?:(?:is|are|considered) (?:not medically necessary|investigational|experimental|unproven|not covered)|does not support|do not support|not reasonable and necessary|(?:is|are) ${NOT_CONSIDERED})\b(?!\s+(?:if|when|unless|until|after|once)\b)`,
  "i",
);

/**
 * A statement of coverage or non-coverage inside a criterion's words, or a sentence that opens a list of
 * contraindications: a paragraph glued into the last item (a PDF with no space after the list; QA pass
 * 5 found "… is considered not medically necessary in the presence of any of the following:" read as
 * the item's own list of alternatives, a way in).
 */
const STATEMENT_INSIDE = new RegExp(
  String.raw`${PLAN_BOILERPLATE.source}|\b(?:is|are|may be) (?:considered |deemed )?(?:not )?(?:considered )?(?:medically necessary|reasonable and necessary|investigational|experimental|unproven)\b|\bcontraindications? (?:include|are)\b|\b(?:${ELIGIBLE}|${NOT_ELIGIBLE})\b|\b(?:will|may) (?:not )?be approved (?:based on|when|if|for)\b`,
  "i",
);

/** The first criterion among `nodes` and their descendants whose words state coverage. */
function statementInside(nodes: readonly CriterionNode[]): CriterionNode | undefined {
  const stack = [...nodes];
  for (let k = 0; k < stack.length; k++) {
    const n = stack[k] as CriterionNode;
    // A further list's own lead-in (`B-2`: "The above 2 indications are considered reasonable and
    // necessary only when:") states coverage by design.
    if (STATEMENT_INSIDE.test(n.text) && !/-\d+$/.test(n.id)) return n;
    if (n.kind !== "leaf" && n.kind !== "ref") stack.push(...n.children);
  }
  return undefined;
}

/** Leaves a covered tree requires to hold (not under a `none`, whose items are meant to be absent). */
function* positiveLeaves(n: CriterionNode, negated = false): Generator<CriterionNode & { kind: "leaf" }> {
  if (n.kind === "leaf") {
    if (!negated) yield n;
    return;
  }
  if (n.kind === "ref") return;
  for (const c of n.children) yield* positiveLeaves(c, negated !== (n.kind === "none"));
}

function markUncertain(sections: Section[], unplaced: readonly Unplaced[], findings: Finding[]): void {
  // The unplaced text by line, each section's found by binary search (not by a filter per section).
  const byLine = unplaced.map((u, k) => ({ line: u.line, k })).sort((a, b) => a.line - b.line || a.k - b.k);
  const firstAfter = (line: number) => {
    let lo = 0;
    let hi = byLine.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((byLine[mid] as { line: number }).line > line) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  sections.forEach((s, i) => {
    // A not-covered section never approves whatever its reading: text beside it changes nothing.
    if (!s.tree || s.kind === "not-proven") return;
    const end = sections[i + 1]?.line ?? Number.POSITIVE_INFINITY;
    // In the order they were reported: `u.line > s.line && u.line < end` (lines are whole numbers).
    // "There are no requirements regarding visual acuity …": a paragraph that adds nothing restricts nothing.
    const inside = byLine
      .slice(firstAfter(s.line), firstAfter(end - 1))
      .sort((a, b) => a.k - b.k)
      .map(({ k }) => unplaced[k] as Unplaced)
      .filter(
        (u) =>
          !NON_RESTRICTIVE.test(u.text) &&
          !advisory(u.text) &&
          u.reason !== DURATION_REASON &&
          u.reason !== BOILERPLATE_REASON &&
          u.reason !== DEFINITION_REASON &&
          u.reason !== BILLING_REASON &&
          u.reason !== CAPTION_REASON,
      );
    if (s.kind === "medically-necessary") {
      // A negative statement is never a required criterion of a covered tree (issue 12).
      for (const leaf of positiveLeaves(s.tree)) {
        if (!NEGATIVE_LEAF.test(leaf.text)) continue;
        s.uncertain ??= [];
        s.uncertain.push(
          `criterion ${leaf.id} states non-coverage ("${leaf.text.slice(0, 60)}…") inside a covered list`,
        );
        findings.push({
          code: "negative-leaf",
          severity: "warning",
          message: `criterion ${leaf.id} states non-coverage but is read as a requirement of covered section ${s.id}`,
          line: leaf.line,
          criterion: leaf.id,
        });
      }
    }
    if (s.kind === "medically-necessary") {
      // "… is considered medically necessary for continuation when …" inside a criterion: a further
      // statement glued into the list (QA pass 3: under a heading the reader dropped), not a criterion.
      const glued = statementInside(s.tree.children);
      if (glued) {
        s.uncertain ??= [];
        s.uncertain.push(
          `criterion ${glued.id} holds a statement of coverage ("${glued.text.slice(0, 60)}…")`,
        );
      }
    }
    if (inside.length > 0) {
      const lines = inside.slice(0, 5).map((u) => u.line);
      s.uncertain ??= [];
      s.uncertain.push(unplacedInsideReason(s.id, lines, inside.length > 5));
    }
    // A short line left unplaced just before this section ("### Continuation criteria", then the
    // statement): a heading that may say whom the section is for (QA pass 5: the continuation
    // criteria became a second way in for new patients).
    const prev = sections[i - 1];
    const over = byLine
      .slice(firstAfter(Math.max(prev?.line ?? 0, s.line - 4)), firstAfter(s.line - 1))
      .map(({ k }) => unplaced[k] as Unplaced)
      .find((u) => u.text.length <= 80 && !/[.;]$/.test(u.text.trim()) && u.reason !== DEFINITION_REASON);
    if (over) {
      s.uncertain ??= [];
      s.uncertain.push(
        `a heading right before section ${s.id} could not be placed (line ${over.line}: "${over.text.slice(0, 60)}"): it may limit whom the section is for`,
      );
    }
    for (const why of s.uncertain ?? []) findings.push(uncertainFinding(s, why));
  });
}

/**
 * Adds a reason a section decides review found after the criteria were read (a cut list, criteria left
 * in the header), with lint's finding for it (markUncertain reports the ones found while reading).
 */
export function addUncertain(s: Section, why: string, findings: Finding[]): void {
  s.uncertain = [...(s.uncertain ?? []), why];
  findings.push(uncertainFinding(s, why));
}

/** Lint's `section-uncertain` for one reason a section decides review (SPEC 1.3, issue 12). */
export function uncertainFinding(s: Section, why: string): Finding {
  return {
    code: "section-uncertain",
    severity: "warning",
    message: `section ${s.id} decides review, never approved: ${why}`,
    line: s.line,
    criterion: s.id,
  };
}

/**
 * A bullet that comes back out of a nested labeled list ("• X with: a. … e. …" then "• Y"): a sibling
 * of the latest bullet printed at the same indentation, under that bullet's lead-in. The search stops
 * at the section (or block) the bullet would leave.
 */
function earlierBulletOwner(items: readonly RawItem[], indent: number): RawItem | undefined {
  for (let i = items.length - 1; i >= 0 && items.length - i <= 500; i--) {
    const it = items[i] as RawItem;
    if (it.block || it.synthetic || (it.heading && !it.bulletOf)) return undefined;
    if (it.bulletOf && it.indent === indent) return it.bulletOf;
    if (it.bulletOf && it.indent < indent) return undefined;
  }
  return undefined;
}

/**
 * The item an unlabeled bullet after `prev` is listed under: `prev` itself when its text is a lead-in
 * ("… the following:"), a bullet's own lead-in for a sibling, or none (the bullet is not a criterion).
 */
function bulletOwner(prev: RawItem, indent: number): RawItem | undefined {
  const leads = leadsIn(prev.texts);
  if (!prev.bulletOf) return leads ? prev : undefined;
  // A bullet further in, under a bullet that leads in, is its child; otherwise a sibling, or (less
  // indented) a sibling of the bullet's own lead-in when that is a bullet too.
  if (leads && indent > prev.indent) return prev;
  let owner: RawItem = prev.bulletOf;
  while (owner.bulletOf && indent < prev.indent && indent <= owner.indent) owner = owner.bulletOf;
  // Further out than a labeled lead-in the bullets were nested under: not its bullet (an earlier
  // bullet at this indentation, if any, is the sibling — see earlierBulletOwner).
  if (!owner.bulletOf && indent < prev.indent && indent < owner.indent && !owner.synthetic && !owner.block)
    return undefined;
  return owner;
}

type Marked = Ctx["marked"][number];

function attachNotes(notes: RawNote[], ctx: Ctx, findings: Finding[], unplaced: Unplaced[]): void {
  const marked = [...ctx.marked].sort((a, b) => a.line - b.line);
  // The marked criteria before the note that no note explains yet, by marker in line order. Notes come
  // in document order: the marked criteria before them are taken in once (not filtered per note).
  const open = new Map<string, { queue: Marked[]; head: number }>();
  let openCount = 0;
  let next = 0;
  for (const note of notes) {
    const text = finishText(collapse(note.texts.join(" ")).replaceAll(ESC_STAR, "*"));
    for (; next < marked.length && (marked[next] as Marked).line < note.line; next++) {
      const m = marked[next] as Marked;
      const q = open.get(m.marker);
      if (q) q.queue.push(m);
      else open.set(m.marker, { queue: [m], head: 0 });
      openCount++;
    }
    const firstOpen = (marker: string) => {
      const q = open.get(marker);
      return q && q.head < q.queue.length ? q : undefined;
    };
    const from = note.marker
      ? firstOpen(note.marker)
      : openCount === 1
        ? [...open.keys()].map(firstOpen).find((q) => q !== undefined)
        : undefined;
    const target = from?.queue[from.head];
    if (from) {
      from.head++;
      openCount--;
    }
    if (!target) {
      unplaced.push({
        line: note.line,
        text,
        reason: note.marker
          ? `note marked "${note.marker}" but no criterion before it carries that marker`
          : "note without a marker, and no single marked criterion to tie it to",
      });
      findings.push({
        code: "note-unmatched",
        severity: "warning",
        message: "a note that no criterion refers to",
        line: note.line,
      });
      continue;
    }
    const { condition, effect } = noteMeaning(text);
    target.node.note = {
      id: `${target.node.id}.note`,
      marker: target.marker,
      text,
      condition,
      effect,
      line: note.line,
    };
  }
  for (const m of marked) {
    if (m.node.note) continue;
    findings.push({
      code: "marker-without-note",
      severity: "info",
      message: `criterion ends with "${m.marker}" but no note explains it`,
      line: m.line,
      criterion: m.node.id,
    });
  }
}
