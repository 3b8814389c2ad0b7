/**
 * One side of a document → one {@link PolicyVersion} (SPEC 1.3): identity, description and
 * cross-references, sections and criteria, code tables and markers, revision log, references,
 * background; with the findings and the text that could not be placed.
 */
import {
  type CrossReference,
  type DocumentPart,
  type Finding,
  type PolicyIdentity,
  type PolicyVersion,
  policyHash,
  type RevisionEntry,
  type Section,
  type Unplaced,
} from "../model/index.js";
import {
  addUncertain,
  doseOver,
  type Paragraph,
  QUANTITY_HEADING_START,
  readCriteria,
  sectionKind,
  statesCoverage,
} from "./criteria.js";
import { collapse, execUpTo, finishText } from "./inline.js";
import { parseLabel } from "./labels.js";
import { cellsOf, knownHeading, type Line, MAX_LINE, type Region, readLines } from "./lines.js";
import { isoOf, monthOf, parseDate, readCodeMarker, readTables } from "./tables.js";

export interface BuildOptions {
  policyId?: string;
  redline?: "prior" | "proposed";
}

/** Two-letter codes of US states and territories: an id prefix that is one names a state variant. */
const STATES = new Set(
  (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK " +
    "OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR GU VI AS MP"
  ).split(" "),
);

interface RegionParagraph extends Paragraph {
  region: Region;
}

function endsTerminal(text: string): boolean {
  return /[.!?:;"”)\]]$/.test(text);
}

/** Prose paragraphs outside tables; a paragraph cut by a page header is re-joined. */
function prose(lines: readonly Line[], used: Set<number>): RegionParagraph[] {
  // A paragraph's lines are joined once, at the end: joining at every line is quadratic in its length.
  const out: (RegionParagraph & { parts: string[] })[] = [];
  let cur: (typeof out)[number] | undefined;
  for (const ln of lines) {
    if (ln.region === "criteria" || used.has(ln.no)) {
      cur = undefined;
      continue;
    }
    if (ln.pageHeader || ln.linkOnly) continue;
    if (ln.blank || ln.regionHeading) {
      cur = undefined;
      continue;
    }
    const text = finishText(ln.text);
    if (text === "") continue;
    if (cur && cur.region === ln.region) {
      cur.parts.push(text);
      continue;
    }
    const last = out[out.length - 1];
    if (
      ln.pageBreakBefore &&
      last &&
      last.region === ln.region &&
      !endsTerminal(last.parts.at(-1) as string)
    ) {
      last.parts.push(text);
      cur = last;
      continue;
    }
    cur = { text, line: ln.no, region: ln.region, parts: [text] };
    out.push(cur);
  }
  // The parts are finished text (trimmed, white space collapsed): their join is collapsed already.
  return out.map(({ parts, ...p }) => ({ ...p, text: parts.join(" ") }));
}

const REFER_SPLIT = /(?=\bRefer to\b)/;
const POLICY_ID = /[A-Z][A-Z0-9]*(?:\.[A-Z0-9]+)*\.\d+[A-Z]?/;

/** "Refer to CP.PHAR.149 Intrathecal Baclofen (Gablofen, Lioresal) for requests for Baclofen." */
export function readCrossReference(sentence: string, line: number): CrossReference | undefined {
  const m = new RegExp(`^Refer to (?:the )?(${POLICY_ID.source})\\s+(.+?)\\s*$`).exec(sentence.trim());
  if (!m) return undefined;
  const target = m[1] as string;
  const rest = (m[2] as string).replace(/(?<![.\s])[.\s]+$/, ""); // (?<!…): each run tried once
  const sub =
    /^(.*?)\s+for\s+(?:requests? (?:for|of)|criteria (?:for|on|of)|coverage (?:of|for)|information (?:on|about))\s+(.+)$/i.exec(
      rest,
    );
  const ref: CrossReference = sub
    ? {
        target,
        title: (sub[1] as string).trim(),
        subject: (sub[2] as string).trim(),
        text: sentence.trim(),
        line,
      }
    : { target, title: rest, text: sentence.trim(), line };
  return ref;
}

function splitRefer(p: Paragraph): { refs: CrossReference[]; rest: string } {
  const refs: CrossReference[] = [];
  const kept: string[] = [];
  for (const piece of p.text.split(REFER_SPLIT)) {
    const r = /^Refer to\b/.test(piece) ? readCrossReference(piece, p.line) : undefined;
    if (r) refs.push(r);
    else if (piece.trim() !== "") kept.push(piece.trim());
  }
  return { refs, rest: kept.join(" ") };
}

function readReferences(lines: readonly Line[], used: Set<number>): string[] {
  const items: string[][] = [];
  let blank = false;
  for (const ln of lines) {
    if (ln.region !== "references" || used.has(ln.no) || ln.regionHeading || ln.pageHeader || ln.linkOnly)
      continue;
    if (ln.blank) {
      blank = true;
      continue;
    }
    const text = finishText(ln.text);
    const numbered = /^\d{1,3}[.)](?:\s|$)/.test(text);
    const last = items[items.length - 1];
    // A reference cut by a page header, or wrapped, continues; a numbered line starts the next one.
    const continues =
      last && !numbered && !ln.bullet && (!blank || ln.pageBreakBefore || /^[a-z]/.test(text));
    if (continues) last.push(text);
    else items.push([text]);
    blank = false;
  }
  return items
    .map((parts) =>
      collapse(parts.join(" "))
        .replace(/^(?:\d{1,3}[.)](?:\s+|$))+/, "")
        .trim(),
    )
    .filter((r) => r !== "");
}

/**
 * `/adapted for use by[^(:]*\(([^)]+)\)/i.exec(text)?.[1]`, reading the text once: every "adapted for
 * use by" before the same "(" or ":" fails alike (the regex would try each one up to it: quadratic).
 */
function adaptedForUseBy(text: string): string | undefined {
  const start = /adapted for use by/gi;
  const stops = /[(:]/g;
  for (let m = start.exec(text); m; m = start.exec(text)) {
    stops.lastIndex = start.lastIndex;
    const stop = stops.exec(text);
    if (!stop) return undefined;
    if (stop[0] === "(") {
      const close = text.indexOf(")", stop.index + 1);
      if (close < 0) return undefined;
      if (close > stop.index + 1) return text.slice(stop.index + 1, close);
    }
    start.lastIndex = stop.index + 1;
  }
  return undefined;
}

function readPlan(lines: readonly Line[], statements: string[], log: RevisionEntry[]): string {
  for (const ln of lines) {
    if (ln.region !== "header" || ln.blank) continue;
    const m = /^plan\s*:\s*(.+)$/i.exec(finishText(ln.text));
    if (m) return collapse(m[1] as string);
  }
  for (const e of log) {
    const m =
      adaptedForUseBy(e.description) ??
      /adapted for use by (?:the )?([A-Z][\w&.' ]+?)(?:\s+(?:for|in|on)\b|[:.,;]|$)/.exec(e.description)?.[1];
    if (m) return collapse(m);
  }
  for (const s of statements) {
    const m = execUpTo(
      /\bpolicy of (?:the )?(?:health plans? affiliated with |all )?(.+?)(?:'s)? that\b/i,
      / that\b/gi,
      s,
    );
    if (m) return collapse((m[1] as string).replace(/[®™]/g, ""));
  }
  for (const ln of lines) {
    const m = execUpTo(/©\s*\d{4}\s+(.+?)\.\s+All rights reserved/i, /\.\s+All rights reserved/gi, ln.text);
    if (m) return collapse((m[1] as string).replace(/[®™]/g, ""));
  }
  return "";
}

/**
 * The policy's reference number as the major formats print it: Centene "Reference Number:", "Policy
 * Number:", "Policy #", "Clinical Policy Bulletin Number:", "Medical Policy Number:", "Guideline
 * Number:", "LCD ID:"; a CMS NCD's "Manual Section Number: 20.4" reads as `NCD.20.4`.
 */
function readReferenceNumber(lines: readonly Line[]): { id: string; line: number } | undefined {
  let fallback: { id: string; line: number } | undefined;
  for (const ln of lines) {
    if (ln.blank || ln.region === "criteria") continue;
    const t = finishText(ln.text);
    const m = /\breference (?:number|no\.?|#)\s*:\s*([A-Z0-9][A-Z0-9.-]*[A-Z0-9])/i.exec(t);
    if (m) return { id: (m[1] as string).toUpperCase(), line: ln.no };
    if (fallback) continue;
    const ncd = /^manual section number\s*:\s*(\d{1,3}(?:\.\d{1,3}){0,3})\s*$/i.exec(t);
    if (ncd) {
      fallback = { id: `NCD.${ncd[1]}`, line: ln.no };
      continue;
    }
    // "Clinical Coverage Policy No: 1A-42" (NC Medicaid), "MP Number: MP-123", "MP #: …" (QA pass 7).
    const other =
      /^(?:(?:medical|clinical|payment|reimbursement|coverage|drug|pharmacy) ){0,2}(?:policy|guideline|bulletin|document|lcd|ncd|cpb|article|mp|cp|cg)(?: bulletin)?\s*(?:number|no\.?|#|id)\s*[:#]?\s*([A-Z0-9][A-Z0-9.-]*[A-Z0-9])\b/i.exec(
        t,
      ) ?? idAsTitle(t);
    // Premera's "MEDICAL POLICY – 7.01.125" title line, Aetna's "Number: 0223".
    const titled =
      other ??
      /^(?:medical |clinical |payment |coverage )?(?:policy|guideline)\s*[-–—:#]\s*([A-Z0-9][A-Z0-9.-]*[A-Z0-9])$/i.exec(
        t,
      ) ??
      /^(?:policy )?number\s*:\s*([A-Z0-9][A-Z0-9.-]*[A-Z0-9])$/i.exec(t);
    if (titled && /\d/.test(titled[1] as string))
      fallback = { id: (titled[1] as string).toUpperCase(), line: ln.no };
    // A CMS LCD's or article's title line: "Gizmo Therapy (L39999)", "Billing and Coding: … (A12345)";
    // a guideline's "Gizmo Therapy (CG045, Ver. 6)".
    const mcd = ln.region === "header" ? (MCD_TITLE.exec(t) ?? VERSIONED_TITLE.exec(t)) : null;
    if (mcd) fallback = { id: (mcd[2] as string).toUpperCase(), line: ln.no };
  }
  return fallback;
}

/** "Policy Title: …", "Manual Section Title: …", "Subject: …": the title where no "Clinical Policy:" line gives it. */
function readTitleField(lines: readonly Line[]): string | undefined {
  for (const ln of lines) {
    if (ln.blank || ln.region === "criteria") continue;
    const m =
      /^(?:policy title|manual section title|medical policy title|(?:lcd|article|ncd) title|title|subject|policy name)\s*:\s*(.{3,200})$/i.exec(
        finishText(ln.text),
      );
    if (m) return collapse(m[1] as string);
    const mcd =
      ln.region === "header"
        ? (MCD_TITLE.exec(finishText(ln.text)) ?? VERSIONED_TITLE.exec(finishText(ln.text)))
        : null;
    if (mcd) return collapse(mcd[1] as string);
  }
  return undefined;
}

/** A title line with its id and version in parentheses: "Gizmo Therapy (CG045, Ver. 6)". */
const VERSIONED_TITLE =
  /^([^()]{3,200}?)\s*\(([A-Z]{1,6}[-.]?\d[A-Z0-9.-]{0,20}),\s*(?:ver\.?|version|v\.?|rev\.?)\s*\d{1,3}(?:\.\d{1,3})?\)$/i;

/** A policy id alone where a title would stand: "Clinical Policy: CP.PHAR.12" (its match, id in [1]). */
function idAsTitle(t: string): RegExpExecArray | null {
  const m = /^(?:clinical|medical) policy\s*:\s*([A-Z][A-Z0-9]{0,9}(?:[.-][A-Z0-9]{1,10}){1,4})$/.exec(t);
  return m && /\d/.test(m[1] as string) ? m : null;
}

/** Words only a CMS LCD or billing article prints in its title block. */
const MCD_DOCUMENT =
  /^(?:(?:lcd|article) (?:id|title)\s*:|local coverage (?:determination|article)\b)|\([LA]\d{5}\)$/i;

/** A CMS LCD's or billing article's title line, its id in parentheses at the end. */
const MCD_TITLE =
  /^(?:(?:proposed )?local coverage (?:determination|article)(?: \((?:lcd|la)\))?\s*:\s*)?([^()]{3,200}?)\s*\(([LA]\d{5})\)$/i;

/** A payer's name on the title block ("Blue Cross Blue Shield of Massachusetts", "Molina Healthcare, Inc."). */
const PAYER_NAME =
  /\b(?:health|healthcare|blue cross|blue shield|bcbs|insurance|inc|llc|medicaid|medicare|department|unitedhealthcare|anthem|aetna|cigna|humana|kaiser|molina|highmark|wellmark|oscar|carelon|evicore|caremark|premera|centene|elevance|ambetter|wellcare|florida blue)\b/i;

/** Words of a document's kind, never its title: "Medical Policy", "Clinical Policy Bulletin". */
const DOCUMENT_KIND =
  /^(?:(?:medical|clinical|payment|reimbursement|coverage|drug|pharmacy)\s+)*(?:policy|policies|guideline|bulletin|cpb|um guideline|coverage policy|policy bulletin)(?:\s+bulletin)?\b/i;

/**
 * The title where no field names it: the first line of the header that reads as one ("Sacral Nerve
 * Neuromodulation" under "MEDICAL POLICY – 7.01.125") — title case, no field colon, not the kind of
 * document, no date.
 */
function titleLine(lines: readonly Line[]): string | undefined {
  for (const ln of lines) {
    if (ln.region !== "header") break;
    if (ln.blank || ln.pageHeader || ln.hasTab) continue;
    const t = finishText(ln.text);
    if (
      t.length < 4 ||
      t.length > 120 ||
      t.includes(":") ||
      DOCUMENT_KIND.test(t) ||
      PAYER_NAME.test(t) ||
      /\b(?:guidelines?|policy|policies|criteria|program|bulletin|management)$/i.test(t) ||
      /\d{2}/.test(t)
    )
      continue;
    const words = t.split(/\s+/);
    if (words.length > 14 || !/^[A-Z]/.test(t)) continue;
    const capped = words.filter((w) => /^[A-Z0-9(&/-]/.test(w)).length;
    if (capped * 2 >= words.length) return t;
  }
  return undefined;
}

/** "Effective Date of this Version: 07/31/2023", "Effective Date: …", "Last Review Date: …". */
function readEffectiveField(lines: readonly Line[]): { y: number; m: number; d?: number } | undefined {
  // The later of the printed effective date and a revision or review date, wherever each is printed:
  // "Revision Date: 01/15/2025" above "Effective Date: February 1, 2025" is a revision in force from
  // February (read first, it put the version in force two weeks early and approved a request before
  // its date: QA pass 5); Aetna's "Effective: 05/08/1998" under "Last Review 11/12/2025" is the
  // bulletin's first date, and the review the version's.
  let effective: { y: number; m: number; d?: number } | undefined;
  let other: { y: number; m: number; d?: number } | undefined;
  let original: { y: number; m: number; d?: number } | undefined;
  for (const ln of lines) {
    if (ln.blank || ln.region === "criteria") continue;
    // CMS LCDs and articles: "Revision Effective Date: For services performed on or after 01/01/2026"
    // is the version's date; "Original Effective Date: …" the first version's, read only without it.
    const text = finishText(ln.text).replace(
      /^((?:original |revision )?effective date\s*:)\s*for (?:services|claims|dates of service)(?: (?:performed|rendered|provided|processed|received))? on or after\b/i,
      "$1",
    );
    const first = /^original effective date\s*:\s*(\S+)/i.exec(text);
    if (first) {
      const at = text.indexOf(first[1] as string);
      original ??= parseDate(first[1] as string) ?? parseDate(wordDate(text.slice(at)));
      continue;
    }
    const m =
      /^(?:(effective date(?: of this version)?|current effective date|policy effective date|revision effective date|effective|revised|last revised|last review(?:ed)? date|revision date)\s*[:|]|((?:current |policy )?effective date)\s+(?=\d)|last review(?:ed)?(?: date)?\s*:?)\s*(\S+)/i.exec(
        text,
      );
    if (!m) continue;
    // "01/01/2025", else a date in words ("March 1, 2025") up to the end of the line or a separator.
    const v = m[3] as string;
    const d = parseDate(v) ?? parseDate(wordDate(text.slice(m.index + m[0].length - v.length)));
    if (!d) continue;
    if (/^(?:(?:current |policy )?effective|revision effective)/i.test(m[1] ?? m[2] ?? "")) effective ??= d;
    else other ??= d;
  }
  // Only a CMS LCD or article reads its original effective date as the version's: elsewhere it is the
  // policy's first date, and the current text would be in force back to it (a second reading).
  if (original && lines.some((ln) => ln.region !== "criteria" && MCD_DOCUMENT.test(finishText(ln.text))))
    effective ??= original;
  if (!effective || !other) return effective ?? other;
  const key = (x: { y: number; m: number; d?: number }) => x.y * 10000 + x.m * 100 + (x.d ?? 1);
  return key(other) > key(effective) ? other : effective;
}

/** The leading "Month D, YYYY" / "D Month YYYY" / "Month YYYY" of `s` (bounded), or "". */
function wordDate(s: string): string {
  const m = /^(?:[A-Za-z]{3,9}\.? \d{1,2},? \d{4}|\d{1,2} [A-Za-z]{3,9},? \d{4}|[A-Za-z]{3,9},? \d{4})/.exec(
    s.slice(0, 40),
  );
  return m ? m[0] : "";
}

function readLastRevision(lines: readonly Line[]): string | undefined {
  for (const ln of lines) {
    if (ln.blank || ln.region === "criteria") continue;
    const m = /\bdate of last revision\s*:\s*(\S+)/i.exec(finishText(ln.text));
    if (m) {
      const d = parseDate(m[1] as string);
      if (d) return monthOf(d);
    }
  }
  return undefined;
}

/** A title block's field name printed in its own cell ("Policy Number", "Effective Date:", "Last Review"). */
const FIELD_NAME =
  /^(?:[A-Za-z][A-Za-z/&'-]*\s){0,4}(?:number|no\.?|#|id|date|title|name|subject|reviewed?|revised|revision|effective|version)\s*:?$/i;

/** A field's name printed alone on its line, its value on the next (CMS MCD exports, PDF title blocks). */
const ALONE_FIELD =
  /^(?:(?:lcd|article|ncd|document|policy|reference|guideline) (?:id|number|title)|(?:original |revision )?effective date|revision ending date|retirement date|last review(?:ed)? date|revision date)$/i;

/**
 * The title block's fields, one per line as the readers above expect them: a table row of the title
 * block ("Policy Number: MP-200<TAB>Effective Date: 03/01/2026", a Word or PDF two-column header) is
 * read cell by cell, a name cell with the value cell after it ("Effective Date<TAB>03/01/2026") as one
 * field, and a row of names over a row of values ("Policy Number:<TAB>Effective Date:" then
 * "MP-200<TAB>03/01/2026") column by column. QA pass 5: the right column was lost, and with it the
 * effective date — a review date before it put the version in force early. Other lines as they are.
 */
function fieldLines(lines: readonly Line[]): Line[] {
  const out: Line[] = [];
  const cells = (ln: Line) => cellsOf(ln).map((c) => finishText(c));
  const named = (c: string) => c.length <= 60 && FIELD_NAME.test(c);
  const as = (ln: Line, text: string): Line => ({ ...ln, text, raw: text, hasTab: false });
  for (let i = 0; i < lines.length; i++) {
    const ln = lines[i] as Line;
    if (!ln.hasTab && !ln.blank && ln.region !== "criteria") {
      // A name on a line of its own, its value on the next (CMS's MCD exports: "LCD ID" then
      // "L39999", "Revision Effective Date" then "For services performed on or after 01/01/2026").
      const name = finishText(ln.text);
      let j = i + 1;
      while (j < lines.length && j <= i + 2 && (lines[j] as Line).blank) j++;
      const v = lines[j];
      const value = v && !v.hasTab && !v.blank && v.region !== "criteria" ? finishText(v.text) : "";
      if (ALONE_FIELD.test(name) && value !== "" && value.length <= 120 && !named(value)) {
        out.push(as(ln, `${name}: ${value}`));
        i = j;
        continue;
      }
    }
    if (ln.region !== "header" || !ln.hasTab || ln.blank) {
      out.push(ln);
      continue;
    }
    const row = cells(ln);
    const next = lines[i + 1];
    const below = next && next.region === "header" && next.hasTab && !next.blank ? cells(next) : undefined;
    if (
      below &&
      below.length === row.length &&
      row.every((c) => c === "" || named(c)) &&
      !below.some(named)
    ) {
      row.forEach((c, k) => {
        if (c !== "") out.push(as(ln, `${c.replace(/\s*:$/, "")}: ${below[k] ?? ""}`));
      });
      i++;
      continue;
    }
    for (let k = 0; k < row.length; k++) {
      const c = row[k] as string;
      if (c === "") continue;
      const v = row[k + 1];
      if (v !== undefined && v !== "" && !/:\s*\S/.test(c) && named(c) && !named(v)) {
        out.push(as(ln, `${c.replace(/\s*:$/, "")}: ${v}`));
        k++;
      } else out.push(as(ln, c));
    }
  }
  return out;
}

/** Reads one side of a document into a policy version (without checking that it has criteria). */
export function buildVersion(rawLines: readonly string[], opts: BuildOptions): PolicyVersion {
  const doc = readLines(rawLines);
  const lines = doc.lines;
  criteriaUnderDescription(lines);
  const findings: Finding[] = [];
  const unplaced: Unplaced[] = [];
  rawLines.forEach((l, i) => {
    if (l.length > MAX_LINE)
      unplaced.push({
        line: i + 1,
        text: `${l.slice(MAX_LINE, MAX_LINE + 80)}…`,
        reason: `line longer than ${MAX_LINE} characters: the rest after character ${MAX_LINE} was not read`,
      });
  });

  const crit = readCriteria(lines.filter((l) => l.region === "criteria"));
  findings.push(...crit.findings);
  cutLists(lines, crit.sections, findings);
  headerCriteria(lines, crit.sections, findings, unplaced);
  limitsElsewhere(lines, crit.sections, findings);
  unplaced.push(...crit.unplaced);

  const tables = readTables(lines);
  unplaced.push(...tables.unplaced);
  const paragraphs = prose(lines, tables.used);
  for (const p of paragraphs) {
    const m = readCodeMarker(p.text, p.line);
    if (m) tables.codeMarkers.push(m);
  }

  const crossReferences: CrossReference[] = [];
  const description: string[] = [];
  for (const p of paragraphs) {
    if (p.region !== "description") continue;
    const { refs, rest } = splitRefer(p);
    crossReferences.push(...refs);
    if (rest !== "") description.push(rest);
  }
  for (const p of crit.referParagraphs) crossReferences.push(...splitRefer(p).refs);
  const background = paragraphs.filter((p) => p.region === "background").map((p) => p.text);
  const references = readReferences(lines, tables.used);

  // Identity (SPEC 1.3, 1.4).
  const fields = fieldLines(lines);
  const printed = readReferenceNumber(fields);
  let id = printed?.id ?? "";
  if (opts.policyId) {
    if (printed && printed.id !== opts.policyId.toUpperCase())
      findings.push({
        code: "policy-id-mismatch",
        severity: "warning",
        message: `the document says ${printed.id}; read as ${opts.policyId} as asked`,
        line: printed.line,
      });
    id = opts.policyId;
  }
  if (id === "")
    findings.push({
      code: "no-reference-number",
      severity: "warning",
      message: "the document prints no reference number; identify it by content or give the policy id",
    });
  const prefix = /^([A-Z]{2})\.(.+\..+)$/.exec(id);
  const state = prefix && STATES.has(prefix[1] as string) ? (prefix[1] as string) : undefined;
  const baseId = state && prefix ? (prefix[2] as string) : id;
  const log = tables.revisionLog;
  let newest: RevisionEntry | undefined;
  for (const e of log) if (!newest || e.revision >= newest.revision) newest = e;
  const lastRevision = newest ? undefined : readLastRevision(fields);
  const field = newest || lastRevision ? undefined : readEffectiveField(fields);
  let version = newest?.revision ?? lastRevision ?? (field ? monthOf(field) : "");
  if (!newest)
    findings.push({
      code: "no-revision-log",
      severity: "warning",
      message: version
        ? `no revision log; version ${version} taken from "Date of Last Revision"`
        : "no revision log and no date of last revision: the version is unknown",
    });
  if (!/^\d{4}-\d{2}$/.test(version)) version = "";
  const identity: PolicyIdentity = {
    id,
    baseId,
    title: doc.title ?? readTitleField(fields) ?? titleLine(lines) ?? "",
    plan: readPlan(
      lines,
      crit.sections.map((s) => s.text),
      log,
    ),
    version,
    effective: newest?.effective ?? (field?.d !== undefined ? isoOf(field) : version ? `${version}-01` : ""),
  };
  if (state) identity.state = state;
  if (newest?.approved) identity.approved = newest.approved;
  // A published document that prints its effective date (CMS, commercial payers) is in force from
  // it: its approval is taken as that date (a revision log, where there is one, decides instead).
  else if (!newest && field?.d !== undefined) identity.approved = isoOf(field);
  if (opts.redline) identity.redline = opts.redline;

  const body: Omit<PolicyVersion, "hash"> = {
    identity,
    description: description.join("\n\n"),
    sections: crit.sections,
    ...(crit.subPolicies.length > 0 ? { subPolicies: crit.subPolicies } : {}),
    crossReferences,
    codeTables: tables.codeTables,
    codeMarkers: tables.codeMarkers,
    revisionLog: log,
    references,
    background: background.join("\n\n"),
    findings,
    unplaced: unplaced.sort((a, b) => a.line - b.line),
    parts: partsOf(lines),
  };
  return { ...body, hash: policyHash(body) };
}

/**
 * A document whose only headings before its criteria are a description's ("Summary", "Overview",
 * "Purpose", "Description", or one the vocabulary lacks) read as nothing: the criteria stood in the
 * description, unread and unreported, and only `no-criteria` said so (QA pass 7). Where no line is read
 * as criteria, the first paragraph there that states coverage and leads into a list ("Gizmo therapy is
 * considered medically necessary when ALL of the following are met:" over "1. …") starts the criteria,
 * which run to the next heading (and so does each such paragraph of a later part). A paragraph that
 * states coverage with no list under it ("This policy describes when gizmo therapy is covered.") stays
 * the description's.
 */
function criteriaUnderDescription(lines: Line[]): void {
  if (lines.some((l) => l.region === "criteria")) return;
  const open = (l: Line) =>
    l.region !== "criteria" &&
    (l.region === "description" || (l.region === "other" && !knownOther(lines, l))) &&
    !l.pageHeader;
  for (let i = 0; i < lines.length; i++) {
    const ln = lines[i] as Line;
    if (ln.blank || ln.hasTab || ln.bullet || ln.regionHeading || !open(ln)) continue;
    if (!/:\s*$/.test(finishText(ln.text))) continue;
    let next: Line | undefined;
    for (let j = i + 1; j < lines.length && !next; j++) {
      const l = lines[j] as Line;
      if (!l.blank && !l.pageHeader) next = l;
    }
    if (!next || next.region !== ln.region || !(next.bullet || parseLabel(finishText(next.text)))) continue;
    // The lead-in's paragraph, wrapped over lines: from its first line.
    let start = i;
    while (start > 0) {
      const l = lines[start - 1] as Line;
      if (l.blank || l.regionHeading || l.pageHeader || l.bullet || l.region !== ln.region) break;
      if (parseLabel(finishText(l.text))) break;
      start--;
    }
    const para = lines
      .slice(start, i + 1)
      .map((l) => finishText(l.text))
      .join(" ");
    if (!statesCoverage(para)) continue;
    // To the part's end; a later part of the same kind is looked at too (criteria under an unknown
    // heading after a description's coverage list are read as well, not left silent behind it).
    let j = start;
    for (; j < lines.length; j++) {
      const l = lines[j] as Line;
      if (j > start && l.regionHeading) break;
      l.region = "criteria";
    }
    i = j - 1;
  }
}

/** Whether the `other` part holding `ln` opened under a heading the vocabulary knows ("Definitions"). */
function knownOther(lines: readonly Line[], ln: Line): boolean {
  for (let j = ln.no - 1; j >= 0; j--) {
    const l = lines[j] as Line;
    if (l.regionHeading) return knownHeading(l.text) !== undefined;
  }
  return false;
}

/** Region names as parts of a document (issue 12: every line belongs to one). */
const PART_NAMES: Record<Region, string> = {
  header: "header",
  description: "description",
  criteria: "criteria",
  background: "background",
  coding: "coding",
  log: "history",
  references: "references",
  reminder: "disclaimer",
  other: "other",
};

/**
 * The document as parts, in order (issue 12, "nothing silent"): each run of lines of one region is a
 * part named by it, with the heading that opened it. Together they cover every line exactly once.
 */
export function partsOf(lines: readonly Line[]): DocumentPart[] {
  const parts: DocumentPart[] = [];
  let cur: DocumentPart | undefined;
  let region: Region | undefined;
  for (const ln of lines) {
    if (!cur || ln.region !== region || ln.regionHeading) {
      region = ln.region;
      cur = { name: PART_NAMES[ln.region], from: ln.no, to: ln.no };
      if (ln.regionHeading) cur.heading = finishText(ln.text);
      parts.push(cur);
    } else cur.to = ln.no;
  }
  return parts;
}

/**
 * A heading that ends the criteria while their last line leaves its list open ("2. … therapy; and",
 * then "MEDICAL POLICY" at the top of the next page): the items the page went on with were not read as
 * criteria. Safe by default: the section it cut decides review, and lint says where (a QA pass found a
 * repeated page header ending a list silently, so that a patient meeting half of it was approved).
 */
function cutLists(lines: readonly Line[], sections: readonly Section[], findings: Finding[]): void {
  for (const ln of lines) {
    if (!ln.cutsList) continue;
    let s: Section | undefined;
    for (const c of sections) if (c.line < ln.no) s = c;
    const heading = finishText(ln.text).slice(0, 60);
    const why = `its list is left open where the heading "${heading}" (line ${ln.no}) ends the criteria: what follows it may be criteria that were not read`;
    findings.push({
      code: "criteria-cut",
      severity: "warning",
      message: `the criteria end at "${heading}" while the line before leaves its list open ("…; and", a colon); check whether the list goes on after it (a page header?)`,
      line: ln.no,
      ...(s ? { criterion: s.id } : {}),
    });
    if (s?.tree && s.kind !== "not-proven") addUncertain(s, why, findings);
  }
}

/**
 * How often or how many, stated as a rule: "limited to once every 12 months", "no more often than",
 * "once per lifetime", "a maximum of 2 sessions per year", "covered once every 23 months". Bounded.
 */
const FREQUENCY =
  /\b(?:limited to (?:one|two|three|four|once|twice|\d{1,3})\b|no more (?:often|frequently) than\b|(?:not to exceed|a maximum of|maximum of|up to) (?:one|two|three|four|\d{1,3})\b[^.;]{0,60}\b(?:per|every|in a|within|each)\b|(?:once|twice|one time|two times|\d{1,3} times) (?:every|per|in a|in any|within|each) (?:\d{1,3}[- ])?(?:rolling |calendar )?(?:days?|weeks?|months?|years?|lifetime|period)\b|\bper lifetime\b)/i;

/** A heading over limits: "Frequency Limitations", "Quantity Limits", "Utilization Guidelines". */
const LIMIT_HEADING = /\b(?:limit|frequenc|quantit|utilization|restriction)/i;

/**
 * Whether a paragraph under a heading the vocabulary lacks limits what is covered: a sentence of it
 * states non-coverage, or a dose over a limit ("doses exceeding 300 mg"). A recommended dose ("140 mg
 * every 28 days") is none.
 */
function statesLimit(text: string): boolean {
  return text
    .split(/(?<=[a-z0-9)][.])\s+(?=[A-Z])/)
    .some((t) => doseOver(t) || (sectionKind(t, false) === "not-proven" && SENTENCE_VERB.test(t)));
}

/**
 * A sentence has a verb: "… are not medically necessary" does; a study's "Exclusion Criteria" over its
 * bullets ("Exclusion Criteria - Prior gizmo therapy - Pregnancy", merging QA pass 7) does not.
 */
const SENTENCE_VERB = /\b(?:is|are|be|been|was|were|considered|deemed|will|may|shall|does|do)\b/i;

/** A line under such a heading that states none: "N/A", "None", "Not applicable". */
const NOTHING = /^(?:n\/a|none|not applicable)\.?$/i;

/**
 * A limit on how often or how many under a heading the vocabulary lacks ("Frequency Limitations",
 * "Quantity Limits", "Utilization Guidelines"): the line sat in an `other` part, reported nowhere, and
 * the covered sections approved without it (QA pass 5). Reported as `limit-not-evaluated`, and the
 * covered sections decide review, as for a limit stated as non-coverage.
 */
function limitsElsewhere(lines: readonly Line[], sections: readonly Section[], findings: Finding[]): void {
  // Only under a heading that names limits: "Dosage and Administration" ("up to 80 mg per week") or
  // "Definitions" state amounts that are no coverage limit (a second reading).
  const found: { no: number; text: string }[] = [];
  let limits = false;
  let quantity = false;
  let unknown = false;
  // The paragraph being read under a heading the vocabulary lacks: its first line and its words.
  let para: { first: Line; words: string[] } | undefined;
  const endPara = () => {
    const text = para ? collapse(para.words.join(" ")) : "";
    if (para && statesLimit(text)) found.push({ no: para.first.no, text });
    para = undefined;
  };
  for (const ln of lines) {
    if (ln.regionHeading) {
      endPara();
      limits = ln.region === "other" && LIMIT_HEADING.test(ln.text);
      quantity = limits && QUANTITY_HEADING_START.test(finishText(ln.text));
      unknown = ln.region === "other" && knownHeading(ln.text) === undefined;
      continue;
    }
    if (ln.pageHeader) continue;
    if (ln.blank || ln.region !== "other") {
      endPara();
      continue;
    }
    // Under a heading the vocabulary lacks ("Dosing", "Dosage and Administration", "Dose"), a sentence
    // stating non-coverage or a dose over a limit ("Requests for doses greater than 140 mg per 28 days
    // are not medically necessary"): no covered criterion asks it (QA pass 7: a higher dose approved).
    // Read by paragraph, a wrapped sentence whole.
    if (unknown) {
      para ??= { first: ln, words: [] };
      para.words.push(finishText(ln.text));
    }
    if (!limits) continue;
    // Under "Quantity Limit(s)" every line is the limit ("Gizmab 80 mg/mL | autoinjector | 1 per 28
    // days"): how many, in words FREQUENCY does not know (QA pass 6: the table was read nowhere).
    if (FREQUENCY.test(ln.text) || (quantity && !NOTHING.test(finishText(ln.text))))
      found.push({ no: ln.no, text: finishText(ln.text) });
  }
  endPara();
  found.sort((a, b) => a.no - b.no);
  if (found.length === 0) return;
  for (const ln of found) {
    findings.push({
      code: "limit-not-evaluated",
      severity: "warning",
      message: `line ${ln.no} limits how often or how many ("${ln.text.slice(0, 80)}"): no criterion asks it, so the covered sections decide review`,
      line: ln.no,
    });
  }
  const at = found.map((ln) => ln.no).join(", ");
  // addUncertain: the reason with its lint finding (readCriteria's markUncertain has already run).
  for (const s of sections)
    if (s.kind === "medically-necessary" && s.tree)
      addUncertain(
        s,
        `line ${at} states a limit on how often or how many that no criterion of ${s.id} asks`,
        findings,
      );
}

/**
 * Text before the first heading the ingester knows that reads as criteria — a list item, or a sentence
 * stating coverage ("TMS is considered not medically necessary for members with …") — was left in the
 * header, unread and unreported ("Every line placed"). It is reported, and the covered sections decide
 * review: it may be criteria they do not ask (a QA pass on Highmark's "Policy Position").
 */
function headerCriteria(
  lines: readonly Line[],
  sections: readonly Section[],
  findings: Finding[],
  unplaced: Unplaced[],
): void {
  const found: Line[] = [];
  for (const ln of lines) {
    if (ln.region !== "header") break;
    if (ln.blank || ln.pageHeader || ln.hasTab) continue;
    const t = finishText(ln.text);
    const listed = ln.bullet || (parseLabel(t) !== undefined && t.length > 20);
    if (listed || (t.length > 40 && /\s/.test(t) && statesCoverage(t) && !/:\s*\S/.test(t.slice(0, 40))))
      found.push(ln);
  }
  if (found.length === 0) return;
  for (const ln of found)
    unplaced.push({
      line: ln.no,
      text: finishText(ln.text),
      reason: "before any heading read as the criteria, and reads as criteria: not read",
    });
  const why = `text before the criteria reads as criteria but was not read (line${found.length > 1 ? "s" : ""} ${found
    .slice(0, 5)
    .map((l) => l.no)
    .join(", ")})`;
  for (const s of sections) {
    if (s.kind === "medically-necessary" && s.tree) addUncertain(s, why, findings);
  }
}
