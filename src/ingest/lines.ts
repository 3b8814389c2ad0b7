/**
 * Line model of a policy document (SPEC 1.2): each line classified once — blank, heading, bullet,
 * indentation, table row, running page header — and assigned to a region of the document
 * (description, policy/criteria, background, coding, revision log, references, boilerplate).
 */

import { cleanInline, collapse, dropBookmarks, finishText } from "./inline.js";
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
  /** The first content line after a page header: text here may continue what the page cut off. */
  pageBreakBefore: boolean;
  /** The region heading this line is, when it is one. */
  regionHeading?: Region;
  region: Region;
}

/**
 * Region headings, in the vocabulary of the major formats (Centene, CMS NCD/LCD, Aetna, Cigna, UHC,
 * Anthem, Carelon, eviCore, Humana, BCBS, Molina). A heading not in this list is still a part of the
 * document: outside the criteria it starts a named `other` part (never silently dropped).
 */
const HEADINGS: [RegExp, Region][] = [
  [
    /^(?:description(?: and background)?|overview|summary|purpose|scope|item\/service description|benefit category|general information|policy summary|description of (?:procedure|service|item)s?)$/,
    "description",
  ],
  [
    /^(?:policy ?\/ ?criteria|policy criteria|policy and criteria|clinical criteria|coverage criteria|criteria|coverage policy|coverage rationale|coverage determination|coverage guidelines?|coverage indications(?:,)? limitations(?:,)? and\/or medical necessity|indications and limitations of coverage(?: and\/or medical necessity)?|policy statements?|policy|clinical indications?|medical necessity(?: criteria| guidelines?)?|criteria for coverage|coverage statement|clinical guidelines?|guidelines?|position statement|determination of (?:medical )?necessity|inclusions?|exclusions?|inclusions? and exclusions?|indications?|covered indications|non-?covered indications|limitations)$/,
    "criteria",
  ],
  [
    /^(?:background(?: and rationale)?|rationale|clinical evidence|summary of evidence|scientific background|evidence review|discussion|professional societies|clinical practice guidelines|u\.s\. food and drug administration(?: \(fda\))?|fda|analysis of evidence)$/,
    "background",
  ],
  [
    /^(?:coding implications|coding(?: information)?|applicable codes|policy reference table|codes?|cpt(?:®)? codes?|hcpcs codes?|icd-10(?:-cm)? codes?|billing(?:\/coding)?(?: guidelines| information)?|coding and billing(?: information)?|code reference|procedure codes|cross ?walk)$/,
    "coding",
  ],
  [
    /^(?:revision log|revision history|policy history|history|document history|reviews,? revisions,? (?:and|&) approvals|policy revision history|change summary|transmittal (?:number|link))$/,
    "log",
  ],
  [/^(?:references|bibliography|sources|source documents?|citations)$/, "references"],
  [/^(?:important reminder|disclaimer|notice|legal notice)$/, "reminder"],
  [
    /^(?:appendix(?: [a-z0-9]{1,3})?(?:\s*[:–-].*)?|definitions|glossary|table of contents|contents|related (?:policies|guidelines|coverage resources)|instructions for use|cross reference|documentation requirements|applicable (?:lines of business|products)|other)$/,
    "other",
  ],
];
function norm(s: string): string {
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

function analyze(rawIn: string, no: number): Line {
  const cut = rawIn.length > MAX_LINE ? rawIn.slice(0, MAX_LINE) : rawIn;
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
  if (blank) return line;
  if (PIPE_ROW.test(raw)) {
    // A markdown pipe table row is a table row like a tab-separated one; its |---| rule is spacing.
    line.hasTab = true;
    if (PIPE_RULE.test(raw)) line.blank = true;
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
    if (m) {
      title = collapse(m[1] as string);
      titleLine = ln.no;
      break;
    }
  }
  markPageHeaders(lines, title, titleLine);
  if (title === undefined) {
    const learned = lines.find(
      (l) => l.pageHeader && !/^clinical policy$/i.test(norm(l.text)) && !/^page \d/i.test(norm(l.text)),
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

function assignRegions(lines: Line[]): void {
  let region: Region = "header";
  for (const ln of lines) {
    if (!ln.blank && !ln.pageHeader && !ln.hasTab && !ln.linkOnly) {
      const h = knownHeading(ln.text);
      if (h) {
        region = h;
        ln.regionHeading = h;
      }
    }
    ln.region = region;
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
