/**
 * Line model of a policy document (SPEC 1.2): each line classified once — blank, heading, bullet,
 * indentation, table row, running page header — and assigned to a region of the document
 * (description, policy/criteria, background, coding, revision log, references, boilerplate).
 */

import { cleanInline, collapse, dropBookmarks, finishText, memoShort } from "./inline.js";
import { parseLabel } from "./labels.js";

export type Region =
  | "header"
  | "description"
  | "criteria"
  | "background"
  | "coding"
  | "log"
  | "references"
  | "reminder"
  | "other";

export interface Line {
  /** 1-based line number in the source document. */
  no: number;
  /** The side's text with Word bookmarks removed (tabs kept, for tables). */
  raw: string;
  /** Cleaned inline text without heading marks or bullet; tabs read as spaces. */
  text: string;
  indent: number;
  bullet: boolean;
  /** A markdown `#` heading or a wholly bold line. */
  heading: boolean;
  blank: boolean;
  /** A table-of-contents link such as `[Revision Log](#)`. */
  linkOnly: boolean;
  hasTab: boolean;
  /** A running page header or footer (`CLINICAL POLICY`, the title repeated, `Page 2 of 9`). */
  pageHeader: boolean;
  /** The bullet glyph as printed (`•`, `o`, U+F0B7 …): Word marks list levels by glyph as well as indent. */
  glyph?: string;
  /** A form feed stood on this line (a page break from a PDF extraction). */
  formFeed?: boolean;
  /** The first content line after a page header: text here may continue what the page cut off. */
  pageBreakBefore: boolean;
  /** The region heading this line is, when it is one. */
  regionHeading?: Region;
  /**
   * This heading ended the criteria while their last line left its list open ("…; and", a lead-in's
   * colon): what the page cut off may be criteria not read (reported; the section decides review).
   */
  cutsList?: boolean;
  /** A markdown table's `|---|` rule: spacing between a table's header and its rows, never a blank line. */
  tableRule?: boolean;
  region: Region;
}

/**
 * The review a criteria heading is for: "Initial Clinical Review", "Continuation/Reauthorization",
 * "Initial Approval", "Continued Therapy", "Renewal". Alternatives of fixed words (linear).
 */
const PHASE =
  "(?:initial|continued|continuation|continuing|subsequent|re-?authorization|renewal|re-?approval)(?:\\/(?:re-?authorization|continuation|renewal))?(?: (?:of )?(?:clinical )?(?:review|approval|authorization|therapy|treatment|stay|coverage))?";

/**
 * Behavioral health's criteria headings ("Admission Criteria", "Continued Stay Criteria"): also what a
 * study's description prints over its patients, so under a background heading they are not read as the
 * policy's criteria.
 */
const STAY_CRITERIA = "(?:admission|continued stay|continuing stay|discharge|exclusion|inclusion) criteria";
const STAY_HEADING = new RegExp(`^${STAY_CRITERIA}$`);

/**
 * Region headings, in the vocabulary of the major formats (Centene, CMS NCD/LCD, Aetna, Cigna, UHC,
 * Anthem, Carelon, eviCore, Humana, BCBS, Molina). A heading not in this list is still a part of the
 * document: outside the criteria it starts a named `other` part (never silently dropped).
 */
const HEADINGS: [RegExp, Region][] = [
  // NC Medicaid's numbered clinical coverage policy headings ("3.0 When the Procedure, Product, or
  // Service Is Covered"; QA pass 5: nothing under them was read).
  [/^(?:\d{1,2}\.\d{1,2}\s+)?description of the procedure, product,? or service$/, "description"],
  [
    /^(?:\d{1,2}\.\d{1,2}\s+)?(?:when the procedure, product,? or service is (?:not )?covered|requirements for and limitations on coverage)$/,
    "criteria",
  ],
  [
    /^(?:description(?: and background)?|overview|summary|purpose|scope|introduction|item\/service description|benefit category|general information|policy summary|description of (?:procedure|service|item)s?)$/,
    "description",
  ],
  [
    /^(?:policy ?\/ ?criteria|policy criteria|policy and criteria|clinical criteria|(?:policy |medical |clinical |(?:clinical )?guideline )?coverage criteria|recommendation|medical necessity criteria|criteria|coverage policy|coverage rationale|coverage determination|coverage guidelines?|coverage indications(?:,)? limitations(?:,)? and\/or medical necessity|indications and limitations of coverage(?: and\/or medical necessity)?|policy statements?|policy|clinical indications?|medical necessity(?: criteria| guidelines?)?|criteria for coverage|coverage statement|clinical guidelines?|guidelines?|position statement|determination of (?:medical )?necessity|inclusions?|exclusions?|inclusions? and exclusions?|indications?|covered indications|non-?covered indications|limitations|coverage limitations(?: and exclusions)?|policy position|(?:criteria for|initial)? ?approval criteria|criteria for approval|initial (?:authorization|approval)(?: criteria)?|re-?authorization(?: criteria)?|continu(?:ation|ed) (?:of )?(?:therapy|treatment|approval)(?: criteria)?|contraindications?|limitations (?:of|on) coverage|coverage exclusions|(?:exclusions and limitations|limitations and exclusions)|non-?covered (?:services|conditions))$/,
    "criteria",
  ],
  // Criteria headings that name the review they are for (QA pass 7): Carelon's "Medical Necessity Criteria
  // for Initial Clinical Review" / "… for Continuation/Reauthorization", pharmacy forms' "Prior
  // Authorization Criteria for Approval", "Criteria (Initial Approval)", "Continued Coverage", behavioral
  // health's "Admission Criteria" / "Continued Stay Criteria", "Limitations/Exclusions" (read as a
  // not-covered heading by its words). Under none of them was anything read.
  [
    new RegExp(
      String.raw`^(?:(?:medical necessity|prior authorization|pa|coverage|approval|clinical) criteria(?: for (?:${PHASE}|approval|coverage))?|criteria (?:\((?:${PHASE})\)|[-–—:] (?:${PHASE}))|continu(?:ed|ation of) coverage|${STAY_CRITERIA}|limitations ?\/ ?exclusions|exclusions ?\/ ?limitations)$`,
    ),
    "criteria",
  ],
  [
    /^(?:(?:general )?background(?: and rationale| information)?|history\/background(?: and\/or general information)?|rationale|clinical evidence|summary of evidence|scientific background|evidence review|discussion|professional societies|clinical practice guidelines|u\.s\. food and drug administration(?: \(fda\))?|fda|analysis of evidence)$/,
    "background",
  ],
  [
    /^(?:coding implications|coding(?: information)?|codes? information|applicable codes|(?:applicable )?(?:cpt|hcpcs)(?:\/| and | or )(?:hcpcs|cpt|icd-10)(?: codes?)?|policy reference table|codes?|cpt(?:®)? codes?|hcpcs codes?|icd-10(?:-cm)? codes?|billing(?:\/coding)?(?: guidelines| information)?|coding and billing(?: information)?|code reference|procedure codes|cross ?walk)$/,
    "coding",
  ],
  [
    /^(?:revision log|revision history|policy history|history|document history|reviews,? revisions,? (?:and|&) approvals|policy revision history|change summary|transmittal (?:number|link))$/,
    "log",
  ],
  [/^(?:references|bibliography|sources|source documents?|citations)$/, "references"],
  [/^(?:important reminder|disclaimer|notice|legal notice)$/, "reminder"],
  [
    /^(?:appendix(?: [a-z0-9]{1,3})?(?:\s*[:–-].*)?|definitions|glossary|table of contents|contents|related (?:policies|guidelines|coverage resources)|instructions for use|cross reference|documentation requirements|applicable (?:lines of business|products)|prior authorization information|endnotes|other)$/,
    "other",
  ],
];
/** Normalized line text (memoized: the same lines are compared again and again). */
const norm: (s: string) => string = memoShort(normalize);

function normalize(s: string): string {
  return collapse(
    finishText(s)
      .toLowerCase()
      .replace(/[:.]\s*$/, ""),
  );
}

export function knownHeading(text: string): Region | undefined {
  if (text.length > 80) return undefined;
  const n = norm(text);
  for (const [re, region] of HEADINGS) if (re.test(n)) return region;
  return undefined;
}

const MAX_CELLS = 64;

function countTabs(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\t"); i >= 0 && n <= MAX_CELLS; i = s.indexOf("\t", i + 1)) n++;
  return n;
}

export const PIPE_ROW = /^\s*\|.*\|\s*$/;

/** `| a | b \\| c |` → ["a", "b | c"]. */
export function splitPipes(raw: string): string[] {
  const inner = raw.trim().replace(/^\|/, "").replace(/\|$/, "");
  return inner.split(/(?<!\\)\|/).map((c) => c.replace(/\\\|/g, "|").trim());
}

/** A table row's cells: a markdown pipe row split at its pipes, any other row at its tabs. */
export function cellsOf(ln: { raw: string }): string[] {
  return PIPE_ROW.test(ln.raw) ? splitPipes(ln.raw) : ln.raw.split("\t");
}

const PIPE_RULE = /^\s*\|(?:\s*:?-{2,}:?\s*\|)+\s*$/;

/**
 * Bullet glyphs as documents print them: ASCII and Unicode bullets, Word's "o" second-level bullet, and
 * the private-use glyphs of Symbol/Wingdings fonts that PDF and Word extraction leave behind (U+F0B7,
 * U+F0A7, …; U+E000 is excluded: it is this ingester's escaped star).
 */
const BULLET = /^(?:[-+•▪◦●○■□▫➢►▸‣⁃∙·–]|[\uF000-\uF8FF]|o(?=\s+\S)|\*(?=\s))\s+/;
const BULLET_ALONE = /^(?:[-+•▪◦●○■□▫➢►▸‣⁃∙·–]|[\uF000-\uF8FF])$/;

/** Longer lines are not prose a policy prints; they are cut (and reported) to bound hostile input. */
export const MAX_LINE = 20000;

/**
 * Lines repeat (blank lines, markers, bullets alone, running headers): a short line already read is
 * copied rather than read again — a small bounded memo that keeps hostile documents of a million tiny
 * lines within the 2 MB / 2 s goal (issue 12).
 */
const ANALYZED = new Map<string, Line>();

function analyze(rawIn: string, no: number): Line {
  if (rawIn.length > 80) return analyzeLine(rawIn, no);
  const hit = ANALYZED.get(rawIn);
  if (hit) return { ...hit, no };
  const line = analyzeLine(rawIn, no);
  if (ANALYZED.size >= 4096) ANALYZED.clear();
  ANALYZED.set(rawIn, { ...line });
  return line;
}

function analyzeLine(rawIn: string, no: number): Line {
  const capped = rawIn.length > MAX_LINE ? rawIn.slice(0, MAX_LINE) : rawIn;
  // A form feed is a page break from a PDF extraction: layout, not text.
  const formFeed = capped.includes("\f");
  const cut = formFeed ? capped.replaceAll("\f", "") : capped;
  const raw = cut.includes("[bookmark") ? dropBookmarks(cut) : cut;
  const blank = !/\S/.test(raw);
  const line: Line = {
    no,
    raw,
    text: "",
    indent: 0,
    bullet: false,
    heading: false,
    blank,
    linkOnly: false,
    hasTab: false,
    pageHeader: false,
    pageBreakBefore: false,
    region: "header",
  };
  if (formFeed) line.formFeed = true;
  if (blank) return line;
  if (PIPE_ROW.test(raw)) {
    // A markdown pipe table row is a table row like a tab-separated one; its |---| rule is spacing.
    line.hasTab = true;
    if (PIPE_RULE.test(raw)) {
      line.blank = true;
      line.tableRule = true;
    }
    line.text = cleanInline(raw.replace(/\|/g, " "));
    return line;
  }
  // A table row has a handful of cells; a line with hundreds of tabs is not a table.
  line.hasTab = raw.includes("\t") && countTabs(raw) <= MAX_CELLS;
  let indent = 0;
  let i = 0;
  while (i < raw.length && (raw[i] === " " || raw[i] === "\t")) {
    indent += raw[i] === "\t" ? 4 : 1;
    i++;
  }
  line.indent = indent;
  let body = raw.slice(i).trimEnd();
  const h = /^#{1,6}\s+/.exec(body);
  if (h) {
    line.heading = true;
    body = body.slice(h[0].length);
  }
  line.linkOnly = /^\[[^\]]*\]\(#[^)]*\)$/.test(body);
  const b = BULLET.exec(body);
  if (b && !/^[-*]{3,}\s*$/.test(body)) {
    line.bullet = true;
    line.glyph = b[0].trim();
    body = body.slice(b[0].length);
  } else if (BULLET_ALONE.test(body)) {
    line.bullet = true;
    body = "";
  }
  if (/^(\*\*|__)(?=\S).*\S\1$/.test(body) || /^<b>.*<\/b>$/i.test(body)) line.heading = true;
  line.text = cleanInline(line.hasTab ? body.replace(/\t+/g, " ") : body);
  if (line.text === "" || /^[\s*\uE000]*$/.test(line.text)) line.blank = true;
  return line;
}

export interface Document {
  lines: Line[];
  title?: string;
  titleLine?: number;
}

/**
 * Classifies every line, finds the running page headers (which are dropped, leaving a page-break
 * mark on the next line so that a cut paragraph, list item or table row can be re-joined) and
 * assigns regions by the document's section headings.
 */
export function readLines(rawLines: readonly string[]): Document {
  const lines = rawLines.map((r, i) => analyze(r, i + 1));
  let title: string | undefined;
  let titleLine: number | undefined;
  for (const ln of lines) {
    if (ln.blank) continue;
    const m = /^clinical policy\s*:\s*(.+)$/i.exec(finishText(ln.text));
    // "Clinical Policy: CP.PHAR.12" prints the id where Centene prints the title (QA pass 7).
    if (m && !/^[A-Z][A-Z0-9]{0,9}(?:[.-][A-Z0-9]{1,10}){1,4}$/.test((m[1] as string).trim())) {
      title = collapse(m[1] as string);
      titleLine = ln.no;
      break;
    }
  }
  markPageHeaders(lines, title, titleLine);
  if (title === undefined) {
    // A running footer is no title: "Proprietary Information of …", "Confidential and Proprietary",
    // "… — Page 1 of 4", "© 2025 …" (QA pass 7: the footer became the policy's title).
    const learned = lines.find(
      (l) =>
        l.pageHeader &&
        !/^clinical policy$/i.test(norm(l.text)) &&
        !/^page \d/i.test(norm(l.text)) &&
        !FOOTER_WORDS.test(l.text) &&
        !ENDS_PAGE_NUMBER.test(norm(l.text)) &&
        !URL_LINE.test(l.text),
    );
    if (learned) title = finishText(learned.text);
  }
  assignRegions(lines);
  return title === undefined
    ? { lines }
    : titleLine === undefined
      ? { lines, title }
      : { lines, title, titleLine };
}

/** Words of a running footer, never of a title. */
const FOOTER_WORDS =
  /\b(?:proprietary|confidential|copyright|all rights reserved|page \d{1,4}|printed|uncontrolled|do not (?:copy|distribute))\b|©/i;

/** "Page 3 of 12", "Page 3", "- 3 -", "3 | Page", "3 of 12": a printed page number. */
const PAGE_NUMBER =
  /^(?:page\s+\d{1,4}(?:\s+of\s+\d{1,4})?|-\s*\d{1,4}\s*-|\d{1,4}\s*\|\s*page|\d{1,4}\s+of\s+\d{1,4})$/i;
/** A web address alone on its line (linear: one class run). */
const URL_LINE = /^(?:https?:\/\/|www\.)[^\s]{3,300}$/i;
/**
 * A footer line that ends with its page number ("Stoglo Injection Page 1 of 2"), or prints it between
 * separators ("Page 3 of 12 · Proprietary · Gizmo Therapy", "Gizmo Therapy | Page 3 of 12 | …"; QA pass
 * 7: such a footer was glued into the criterion it cut).
 */
const ENDS_PAGE_NUMBER =
  /(?:\bpage\s+\d{1,4}\s+of\s+\d{1,4}$|(?:^|[·•|–—]\s*|\s-\s+)page\s+\d{1,4}\s+of\s+\d{1,4}\s*(?:[·•|–—]|-\s|$))/i;

/**
 * Running headers and footers in any layout (issue 12): lines that come back at two or more page breaks
 * (a form feed or a printed page number), within a few lines of them, are page furniture ("Proprietary
 * information of …", the policy title, "Medical Coverage Policy"). Found by counting, in linear time; a
 * list item or bullet is never furniture.
 */
function markRepeatedFurniture(lines: Line[]): void {
  const anchors: number[] = [];
  lines.forEach((ln, i) => {
    const t = ln.blank ? "" : norm(ln.text);
    const page = !ln.blank && (PAGE_NUMBER.test(t) || (t.length <= 160 && ENDS_PAGE_NUMBER.test(t)));
    if (page) ln.pageHeader = true;
    if (page || ln.formFeed) anchors.push(i);
  });
  const WINDOW = 4;
  // A page number and the form feed a few lines from it are one page break: [first, last] anchor.
  const breaks: [number, number][] = [];
  for (const a of anchors) {
    const b = breaks[breaks.length - 1];
    if (b && a - b[1] <= WINDOW) b[1] = a;
    else breaks.push([a, a]);
  }
  if (breaks.length < 2) return;
  /**
   * normalized text → where it was seen: per break, its position (side and distance in content lines).
   * Furniture stands at the same position at two breaks; a criterion that happens to fall near two
   * breaks does not. The top of the document (the first page's header) matches any position.
   */
  const seen = new Map<string, { lines: Set<number>; at: Map<number, Set<string>> }>();
  const candidates: [number, string][] = [];
  const visit = (j: number, brk: number, sig: string): number => {
    const ln = lines[j] as Line;
    if (ln.blank) return 0;
    // List items, sentences that continue ("who meets…") and lead-ins ("…criteria:") are text; a web
    // address alone on its line ("https://www.plan.com/policies/mp-0412.pdf") is a footer's, not text.
    if (
      ln.bullet ||
      ln.text.length > 200 ||
      parseLabel(ln.text) ||
      (/^[a-z]/.test(ln.text) && !URL_LINE.test(ln.text)) ||
      /:\s*$/.test(ln.text)
    )
      return 1;
    const key = norm(ln.text);
    const rec = seen.get(key) ?? { lines: new Set<number>(), at: new Map<number, Set<string>>() };
    seen.set(key, rec);
    rec.lines.add(j);
    const sigs = rec.at.get(brk) ?? new Set<string>();
    rec.at.set(brk, sigs);
    sigs.add(sig);
    candidates.push([j, key]);
    return 1;
  };
  let n = 0;
  for (let j = 0; j < lines.length && n < 2 * WINDOW; j++) n += visit(j, -1, "top");
  breaks.forEach(([first, last], b) => {
    let k = 0;
    for (let j = first - 1; j >= 0 && k < WINDOW; j--) k += visit(j, b, `b${k}`);
    k = 0;
    // Lines between (and on) the break's anchors: a form feed may stand on the header's own line.
    for (let j = first; j <= last; j++) if (!(lines[j] as Line).pageHeader) k += visit(j, b, `i${k}`);
    k = 0;
    for (let j = last + 1; j < lines.length && k < WINDOW; j++) k += visit(j, b, `a${k}`);
  });
  const furniture = new Set<string>();
  for (const [key, rec] of seen) {
    if (rec.lines.size < 2) continue;
    const count = new Map<string, number>();
    for (const [brk, sigs] of rec.at) {
      if (brk < 0) continue;
      for (const sig of sigs) count.set(sig, (count.get(sig) ?? 0) + 1);
    }
    const others = [...rec.at.keys()].filter((b) => b >= 0).length;
    if ([...count.values()].some((c) => c >= 2) || (rec.at.has(-1) && others >= 1 && breaks.length <= 2))
      furniture.add(key);
  }
  for (const [j, key] of candidates) if (furniture.has(key)) (lines[j] as Line).pageHeader = true;
}

function markPageHeaders(lines: Line[], knownTitle: string | undefined, titleLine: number | undefined): void {
  let title = knownTitle === undefined ? undefined : norm(knownTitle);
  let afterClinical = false;
  for (const ln of lines) {
    if (ln.blank) continue;
    // Headers are short: a line longer than the title plus a heading cannot be one.
    if (ln.hasTab || ln.text.length > Math.max(160, (title?.length ?? 0) + 100)) {
      afterClinical = false;
      continue;
    }
    const n = norm(ln.text);
    if (n === "clinical policy" || /^page \d{1,4}(?: of \d{1,4})?$/.test(n)) {
      ln.pageHeader = true;
      afterClinical = n === "clinical policy";
      continue;
    }
    if (title !== undefined && ln.no !== titleLine) {
      if (n === title || n === `clinical policy ${title}`) {
        ln.pageHeader = true;
        afterClinical = false;
        continue;
      }
      if (n.startsWith(title)) {
        // A page header glued to the heading that follows it: "…Pain Pump****Background**".
        const rest = finishText(ln.text).slice(title.length);
        const region = knownHeading(rest.trim());
        if (region) {
          ln.text = rest.trim();
          ln.heading = true;
        }
      }
    }
    if (
      afterClinical &&
      title === undefined &&
      n.length <= 150 &&
      !parseLabel(ln.text) &&
      !knownHeading(ln.text)
    ) {
      // The running title after "CLINICAL POLICY", in a document that does not print its title heading.
      title = n;
      ln.pageHeader = true;
    }
    afterClinical = false;
  }
  markRepeatedFurniture(lines);
  let pending = false;
  for (const ln of lines) {
    if (ln.pageHeader) {
      pending = true;
      continue;
    }
    if (ln.blank) continue;
    if (pending) ln.pageBreakBefore = true;
    pending = false;
  }
}

/**
 * A heading the vocabulary does not know: a short standalone line in title or capital case, without
 * closing punctuation, label or bullet ("General Background", "OVERVIEW", "POLICY REFERENCE TABLE").
 */
function unknownHeading(lines: readonly Line[], i: number): boolean {
  const ln = lines[i] as Line;
  if (ln.bullet || ln.hasTab || ln.linkOnly || ln.pageHeader) return false;
  const t = finishText(ln.text);
  if (t.length < 3 || t.length > 60 || /[.;,:!?)]$/.test(t) || !/^[A-Z]/.test(t) || parseLabel(t))
    return false;
  if (!titleCased(t)) return false;
  const prev = lines[i - 1];
  const next = lines[i + 1];
  const allCaps = /^[^a-z]*[A-Z]{3}[^a-z]*$/.test(t);
  return (
    ln.heading ||
    ((!prev || prev.blank || prev.pageHeader) && (allCaps || !next || next.blank || next.pageHeader))
  );
}

/** A line that leaves its list or sentence open: "…; and", "…, or", "…and/or", a lead-in's colon. */
const OPEN_END = /(?:[;,:]|\b(?:and|or|and\/or))\s*$/i;
/** The same, but not a bare ";" (many lists close their last item with one). */
const SURELY_OPEN = /(?:[,:]|\b(?:and|or|and\/or))\s*$/i;
/** An item that says its list goes on ("…; and", "…, or"), not a lead-in's colon. */
const ITEM_GOES_ON = /(?:[;,]|\b(?:and|or|and\/or))\s*$/i;

/**
 * The content line before `i`, if it is a criteria line that leaves its list open; with `midSentence`,
 * also one that stops on a lower-case word (a sentence the page cut: "…therapy including").
 */
function listOpen(lines: readonly Line[], i: number, midSentence = false): Line | undefined {
  for (let j = i - 1; j >= 0 && j >= i - 40; j--) {
    const l = lines[j] as Line;
    if (l.blank || l.pageHeader) continue;
    if (l.region !== "criteria" || l.regionHeading || l.hasTab) return undefined;
    const t = finishText(l.text);
    return OPEN_END.test(t) || (midSentence && /\b[a-z]+$/.test(t)) ? l : undefined;
  }
  return undefined;
}

/** The line before `i` leaves its criteria list open for sure ("…; and", not a last item's ";"). */
function surelyOpen(lines: readonly Line[], i: number): boolean {
  const prev = listOpen(lines, i);
  return prev !== undefined && SURELY_OPEN.test(finishText(prev.text));
}

/** Short lines a page header is made of: a heading, a line of the first page's header, "Policy #: …". */
function headerLike(lines: readonly Line[], i: number, headerKeys: ReadonlySet<string>): boolean {
  const ln = lines[i] as Line;
  if (URL_LINE.test(ln.text)) return true;
  if (ln.bullet || ln.hasTab || ln.text.length > 120 || /^[a-z]/.test(ln.text) || parseLabel(ln.text))
    return false;
  const n = norm(ln.text);
  return (
    headerKeys.has(n) ||
    knownHeading(ln.text) !== undefined ||
    unknownHeading(lines, i) ||
    /^[^a-z]*[A-Z]{3}[^a-z]*$/.test(ln.text) ||
    titleCased(finishText(ln.text))
  );
}

/**
 * Inside the criteria, where the line before leaves its list open ("2. … therapy; and"): a block of up
 * to six header-like lines followed by the list's next item ("3." after "2.", a bullet after bullets, a
 * sentence going on in lower case) is a page's running header, not a heading. Returns the index of that
 * item (the block is `i`..it), or `i` when the lines are not such a block.
 */
function furnitureInList(
  lines: readonly Line[],
  i: number,
  headerKeys: ReadonlySet<string>,
  labels: ReadonlySet<string>,
): number {
  const prev = listOpen(lines, i, true);
  if (!prev || !headerLike(lines, i, headerKeys)) return i;
  const open = ITEM_GOES_ON.test(finishText(prev.text));
  // Evidence of a page break, not a sub-heading or a list's own lines ("Crohn's Disease" under "one of
  // the following:"): a page number or form feed since the open line, a line of the first page's header
  // or a heading read before, or a web address (a second reading found title-case items dropped).
  let corroborated = false;
  for (let j = prev.no; j < i; j++) {
    const l = lines[j] as Line;
    if (l.pageHeader || l.formFeed) corroborated = true;
  }
  let seen = 0;
  for (let j = i; j < lines.length; j++) {
    const l = lines[j] as Line;
    if (l.pageHeader || l.formFeed) corroborated = true;
    if (l.blank || l.pageHeader) continue;
    if (j > i && !headerLike(lines, j, headerKeys)) {
      if (!corroborated) return i;
      if (/^[a-z]/.test(l.text) && !l.bullet) return j;
      // A sentence cut mid-way ("…inadequate response to") goes on whatever its next word's case.
      if (!OPEN_END.test(finishText(prev.text)) && !l.bullet && !l.hasTab && !parseLabel(l.text)) return j;
      if (l.hasTab || !open) return i;
      if (l.bullet) return prev.bullet ? j : i;
      const lab = parseLabel(l.text);
      const goesOn = lab?.candidates.some((c) => labels.has(`${c.style}:${c.value - 1}`));
      return goesOn ? j : i;
    }
    const known = headerKeys.has(norm(l.text));
    // A region heading read for the first time ("General Background") ends the list: not furniture.
    if (!known && knownHeading(l.text)) return i;
    if (known || URL_LINE.test(l.text)) corroborated = true;
    if (++seen > 6) return i;
  }
  return i;
}

/** A short line in title or capital case without closing punctuation: "Sacral Nerve Stimulation". */
export function titleCased(t: string): boolean {
  if (t.length < 3 || t.length > 60 || /[.;,:!?)]$/.test(t) || !/^[A-Z]/.test(t)) return false;
  const words = t.split(/\s+/);
  return (
    words.length <= 8 &&
    words.every((w) => /^[A-Z0-9&/(]/.test(w) || /^(?:of|and|or|the|for|in|to|a|an|with|on)$/.test(w))
  );
}

/**
 * A line that is only a connector: "OR", "-OR-", "– and –", "(or)", "AND/OR" — never a heading here;
 * in the criteria, between two statements of one item or between list items. Anchored, no nesting.
 */
export const CONNECTOR_LINE = /^[-–—([*_\s]{0,6}(or|and|and\/or)[-–—)\]*_\s]{0,6}$/i;

/** A field of the title block: "Effective Date:", "Policy Number:", "Guideline #", "Version 2.0". */
const IDENTITY_FIELD =
  /^(?:(?:current |policy |original )?effective(?: date)?(?=\s*(?:[:#\d]|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d))|(?:policy|guideline|document|reference|medical policy|coverage policy) (?:number|no\.?|#|id)|number|version|last review(?:ed)?(?: date)?|publish(?:ed)? date|date of last revision)\b/i;

/** Whether a title-block field follows line `i` within its next four content lines. */
function identityFollows(lines: readonly Line[], i: number): boolean {
  let seen = 0;
  for (let j = i + 1; j < lines.length && seen < 4; j++) {
    const l = lines[j] as Line;
    if (l.blank || l.pageHeader) continue;
    if (IDENTITY_FIELD.test(finishText(l.text))) return true;
    if (knownHeading(l.text)) return false;
    seen++;
  }
  return false;
}

/** The next content line after `i`. */
function nextContent(lines: readonly Line[], i: number): Line | undefined {
  for (let j = i + 1; j < lines.length; j++) {
    const l = lines[j] as Line;
    if (!l.blank && !l.pageHeader) return l;
  }
  return undefined;
}

/** Words of a coverage statement: a heading before one is a sub-heading of the criteria, not their end. */
const STATES_COVERAGE =
  /\b(?:medically necessary|reasonable and necessary|covered|coverage|investigational|experimental|unproven|not proven|criteria|the following)\b/i;

/** A table of contents' title ("Table of Contents", "Contents", "In This Policy"). */
const TOC_TITLE = /^(?:table of contents|contents|in this (?:policy|document|guideline))\s*:?$/i;

/** A contents entry's heading without its leader dots and page number ("Coding Information ....... 7"). */
function tocEntry(text: string): string {
  return finishText(text).replace(/(?:\s*[.·…]{2,}\s*|\s+)\d{1,3}$/, "");
}

/**
 * The lines of a table of contents (QA pass 5): a run of known headings with nothing between them —
 * two or more under a "Table of Contents" title, else three or more. Read as headings, each started an
 * empty part, and the real heading's second coming (after the criteria) was taken for a running page
 * header — the code table under it was read as criteria.
 */
/** How many entries of the run `lines[i..j]` come again, as a line of their own, after it. */
function reappear(lines: readonly Line[], i: number, j: number): number {
  const want = new Set<string>();
  for (let k = i; k <= j; k++) want.add(norm(tocEntry((lines[k] as Line).text)));
  let n = 0;
  for (let k = j + 1; k < lines.length && want.size > 0; k++) {
    const ln = lines[k] as Line;
    if (ln.blank || ln.text.length > 100) continue;
    const key = norm(ln.text);
    if (want.delete(key)) n++;
  }
  return n;
}

function tableOfContents(lines: readonly Line[]): Set<number> {
  const out = new Set<number>();
  // A contents entry is a short line that does not end a sentence: the rest is not looked up (one
  // heading lookup per line cost the line-heavy documents 5–10%).
  const entry = (ln: Line) =>
    !ln.blank &&
    !ln.bullet &&
    ln.text.length <= 100 &&
    !/[.;:,]$/.test(ln.text) &&
    knownHeading(tocEntry(ln.text)) !== undefined;
  for (let i = 0; i < lines.length; i++) {
    const ln = lines[i] as Line;
    const next = lines[i + 1];
    // A run has two entries at least: a line whose next is blank starts none.
    if (next === undefined || next.blank || !entry(ln)) continue;
    let j = i;
    while (j + 1 < lines.length && entry(lines[j + 1] as Line)) j++;
    const title = i > 0 && TOC_TITLE.test(finishText((lines[i - 1] as Line).text));
    // Contents list headings the document prints again after them: two of its entries at least (a
    // second reading: stacked headings — "Policy", "Coverage Criteria", "Initial Authorization" over
    // the statement — are no contents).
    if (j - i + 1 >= (title ? 2 : 3) && reappear(lines, i, j) >= 2) for (let k = i; k <= j; k++) out.add(k);
    i = j;
  }
  return out;
}

/** Words of a study's report: "trial", "enrolled", "randomized", "participants". */
const STUDY_WORDS =
  /\b(?:trials?|study|studies|enrolled|enrollment|randomi[sz]ed|participants|cohort|subjects|investigators)\b/i;

/**
 * Whether the lines above `i`, back to the heading of their part, speak of a study (a study's own
 * "Inclusion Criteria" / "Exclusion Criteria" headings between them are passed over).
 */
function studyAbove(lines: readonly Line[], i: number): boolean {
  for (let j = i - 1; j >= 0 && j >= i - 80; j--) {
    const l = lines[j] as Line;
    if (l.blank) continue;
    if (l.regionHeading && !STAY_HEADING.test(norm(l.text))) return false;
    if (STUDY_WORDS.test(l.text)) return true;
  }
  return false;
}

/** A heading of the document's own outline: "III. CRITERIA", "IV. Definitions" (a roman label, heading words). */
const OUTLINE_LINE = /^([IVX]{1,6})\.\s+(\S.{1,58})$/;

/**
 * The document's own outline printed with roman numerals ("I. POLICY", "II. PURPOSE", "III. CRITERIA",
 * "IV. DEFINITIONS", as many Medicaid and BCBS manuals do): line index → the region its words name,
 * or `undefined` for words the vocabulary lacks ("II. PRODUCT VARIATIONS"). QA pass 7: such a document
 * had no heading the reader knew, so "I. POLICY" started criteria that ran over definitions and
 * references to the end, each outline heading a section. An outline is only read so where two of its
 * headings at least name parts that are no criteria (definitions, references, background, …): a
 * policy's own sections ("I. Medical Necessity", "II. Experimental and Investigational") stay sections.
 */
function romanOutline(lines: readonly Line[]): Map<number, Region | undefined> {
  const found = new Map<number, Region | undefined>();
  let others = 0;
  lines.forEach((ln, i) => {
    if (ln.blank || ln.bullet || ln.hasTab || ln.pageHeader || ln.indent > 1) return;
    const m = OUTLINE_LINE.exec(finishText(ln.text));
    if (!m) return;
    const words = (m[2] as string).replace(/\s*:$/, "");
    const caps = /^[^a-z]*[A-Z]{3}[^a-z]*$/.test(words);
    if (!caps && !titleCased(words)) return;
    const region = knownHeading(words);
    found.set(i, region);
    if (region !== undefined && region !== "criteria" && region !== "header") others++;
  });
  return others >= 2 ? found : new Map();
}

function assignRegions(lines: Line[]): void {
  const toc = tableOfContents(lines);
  const outline = romanOutline(lines);
  let region: Region = "header";
  // Where an unknown heading ended criteria that had no list yet ("Scope of Policy" under Aetna's
  // "Policy", then a paragraph): if a first labelled coverage statement ("I. Medical Necessity …")
  // follows before the next known heading, the heading was a sub-heading and the criteria go on from
  // it (a QA pass lost a whole policy this way).
  let endedAt = -1;
  let listed = false;
  // The header's lines (first page), read again where a page break repeats them inside the criteria.
  const headerKeys = new Set<string>();
  // The labels of the criteria read so far (style:value), to tell a list that goes on after a page break.
  const labels = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const ln = lines[i] as Line;
    if (toc.has(i)) {
      // An entry of the contents: in the part before it, no heading, not a line of the header a page
      // break could repeat, not a "heading read before".
      ln.region = region;
      continue;
    }
    if (region === "header" && !ln.blank && ln.text.length <= 160) {
      headerKeys.add(norm(ln.text));
      // "Medical Policy: Sacral Nerve Stimulation": a running header may repeat the title alone.
      const field =
        /^(?:(?:medical|clinical|coverage|payment)\s+)?(?:policy|guideline|subject|title|policy title)\s*:\s*(.{3,120})$/i.exec(
          finishText(ln.text),
        );
      if (field) headerKeys.add(norm(field[1] as string));
    }

    if (region === "criteria" && !ln.blank && !ln.pageHeader && !ln.hasTab) {
      const skip = furnitureInList(lines, i, headerKeys, labels);
      if (skip > i) {
        // A running header the page-break detection could not count (one break, no page number):
        // dropped, and the list goes on across it (a QA pass found it ended the criteria silently).
        for (let j = i; j < skip; j++) {
          const f = lines[j] as Line;
          if (!f.blank) f.pageHeader = true;
          f.region = region;
        }
        (lines[skip] as Line).pageBreakBefore = true;
        i = skip - 1;
        continue;
      }
      const lab = ln.bullet ? undefined : parseLabel(ln.text);
      for (const c of lab?.candidates ?? []) labels.add(`${c.style}:${c.value}`);
    }
    if (region === "other" && endedAt >= 0 && !ln.blank && !ln.pageHeader && !ln.hasTab) {
      const lab = parseLabel(ln.text);
      if (
        lab?.candidates.some((c) => c.value === 1) &&
        // The statement on the label's line, or under it ("I. Medical Necessity" then "Aetna considers…").
        (STATES_COVERAGE.test(lab.rest) || STATES_COVERAGE.test(nextContent(lines, i)?.text ?? "")) &&
        !knownHeading(ln.text)
      ) {
        for (let j = endedAt; j < i; j++) (lines[j] as Line).region = "criteria";
        (lines[endedAt] as Line).regionHeading = undefined;
        region = "criteria";
        endedAt = -1;
      }
    }
    if (!ln.blank && !ln.pageHeader && !ln.hasTab && !ln.linkOnly) {
      // "…meet all of the following" / "criteria:" — a lowercase word that ends a wrapped sentence is
      // not the heading it spells.
      const prev = lines[i - 1];
      const wrapped =
        /^[a-z]/.test(ln.text) &&
        !ln.heading &&
        prev !== undefined &&
        !prev.blank &&
        !/[.:;!?]$/.test(prev.text);
      let h = wrapped ? undefined : knownHeading(ln.text);
      // "Clinical Guidelines" over the title block ("Effective Date: …" a few lines on): the kind of
      // document, part of its header — not where its criteria start (QA pass 2: eviCore's id and date
      // were read as criteria, leaving an unidentified draft).
      if (h && region === "header" && identityFollows(lines, i)) h = undefined;
      if (outline.has(i)) {
        // The outline's heading: its words' region; words the vocabulary lacks head criteria only where
        // a statement of them follows ("II. INDICATIONS" over "… is covered when"), else a part of its own.
        h =
          outline.get(i) ?? (STATES_COVERAGE.test(nextContent(lines, i)?.text ?? "") ? "criteria" : "other");
      }
      // "Inclusion Criteria" over a study's patients in the evidence review: the study's, not the policy's.
      // Under a heading the vocabulary lacks ("Scientific Evidence", "Clinical Studies") too, where the
      // lines above it speak of a study (a second reading of QA pass 7: a trial's "Exclusion Criteria"
      // became a not-covered section and its "Inclusion Criteria" words unplaced in the criteria).
      if (
        h === "criteria" &&
        STAY_HEADING.test(norm(ln.text)) &&
        (region === "background" || (region === "other" && studyAbove(lines, i)))
      )
        h = undefined;
      if (h) {
        if (region === "criteria" && h !== "criteria" && surelyOpen(lines, i)) ln.cutsList = true;
        region = h;
        ln.regionHeading = h;
        endedAt = -1;
        listed = false;
      } else if (
        (region !== "header" || /^[^a-z]*[A-Z]{3}[^a-z]*$/.test(ln.text)) &&
        // "AND" / "-OR-" on a line of its own joins criteria: it heads nothing (QA pass 4: an "AND"
        // before a shared criterion ended the criteria, and the criterion vanished from the tree).
        !CONNECTOR_LINE.test(ln.text) &&
        unknownHeading(lines, i)
      ) {
        // Not in the vocabulary: outside the criteria it starts a named part; inside them it is a
        // sub-heading (or a sub-policy's title) when a list item or a statement follows, else it ends
        // them. Either way its text is kept (issue 12: nothing vanishes).
        const next = nextContent(lines, i);
        const continues =
          region === "criteria" &&
          next !== undefined &&
          (parseLabel(next.text) !== undefined || next.bullet || STATES_COVERAGE.test(next.text));
        if (!continues) {
          if (region === "criteria" && surelyOpen(lines, i)) ln.cutsList = true;
          if (region === "criteria") endedAt = listed ? -1 : i;
          else if (region !== "other") endedAt = -1;
          region = "other";
          ln.regionHeading = "other";
        }
      }
    }
    ln.region = region;
    // A heading read before (its second coming mid-list is a page's header).
    if (ln.regionHeading && ln.text.length <= 160) headerKeys.add(norm(ln.text));
    // Only a heading right under the policy heading (nothing read in between) can be a sub-heading.
    if (region === "criteria" && !ln.blank && !ln.pageHeader && !ln.regionHeading) listed = true;
  }
  if (lines.some((l) => l.region === "criteria" && !l.regionHeading)) return;
  // No "Policy/Criteria" heading: the criteria start at the first section statement ("I. It is the
  // policy…") and run to the next region heading.
  const start = lines.findIndex((l) => {
    if (l.blank || l.pageHeader || l.hasTab) return false;
    const lab = parseLabel(l.text);
    if (!lab) return false;
    return (
      lab.candidates.some((c) => c.style === "roman" && c.value === 1) &&
      /\b(?:policy|medically necessary|not proven|investigational|criteria)\b/i.test(lab.rest)
    );
  });
  if (start < 0) return;
  for (let i = start; i < lines.length; i++) {
    const ln = lines[i] as Line;
    if (ln.regionHeading && i > start) break;
    ln.region = "criteria";
  }
}

/**
 * A column that states each row's coverage: "Covered?", "Coverage", "Coverage Position", "Meets criteria
 * (Y/N)", "Medically Necessary?", "Yes/No" (Oregon's and other state guidelines, BCBSA criteria tables), in criteria tables and code tables alike.
 */
export const VERDICT_COLUMN =
  /^(?:(?:is (?:it |this )?)?covered|coverage(?: (?:position|status|decision|determination|criteria met))?|medically necessary|(?:meets?|met) (?:the )?(?:medical necessity )?criteria|criteria met|approv(?:ed|al)|eligible|benefit|covered benefit)\s*\??\s*(?:\((?:y\/n|yes\/no)\))?$|^(?:y\/n|yes\/no)$|\((?:y\/n|yes\/no)\)$/i;
/** A cell that states the row is covered: "Yes", "Y", "Covered", "Medically necessary". */
export const VERDICT_YES =
  /^(?:yes|y|covered|medically necessary|reasonable and necessary|meets (?:medical necessity )?criteria|approved?|eligible|[✓✔☑])[.!]?$/i;
/** A cell that states the row is not covered: "No", "N", "Not medically necessary", "Investigational". */
export const VERDICT_NO =
  /^(?:no|n|[✗✘☒]|excluded|denied|non-?covered|not (?:covered|eligible|approved|indicated|proven|(?:considered )?medically necessary|reasonable and necessary|a (?:covered )?benefit)|(?:experimental|investigational|unproven)(?:(?:\s?\/\s?|,? (?:and|or) )(?:experimental|investigational|unproven|not medically necessary))*|e\/i)[.!]?$/i;
