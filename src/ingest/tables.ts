/**
 * Tables (SPEC 1.3): code tables (CPT/HCPCS/ICD-10 with descriptions and plan markers) and the
 * revision log. Rows come as tab-separated lines (PDF/markdown) or one cell per line prefixed by a
 * tab (Word). A table cut by a page break continues after its repeated header; a row cut by it
 * continues in a row with an empty code (or empty dates).
 */
import type { CodeCoverage, CodeMarker, CodeTable, RevisionEntry, Unplaced } from "../model/index.js";
import { cleanInline, collapse, ESC_STAR, finishText } from "./inline.js";
import { type Line, PIPE_ROW, splitPipes } from "./lines.js";

interface Row {
  line: number;
  cells: string[];
  /** Source lines the row occupies (a Word row has one line per cell). */
  span: number;
}

const SINGLE_CELL = /^\t[^\t]*$/;

/**
 * Reads table rows. A run of two or more adjacent single-cell lines (`\tcell`) is one Word row; any
 * other line with a tab is one row split at its tabs.
 */
function rowsOf(lines: readonly Line[]): Map<number, Row> {
  const rows = new Map<number, Row>();
  let i = 0;
  while (i < lines.length) {
    const ln = lines[i] as Line;
    if (ln.region === "criteria" || !ln.hasTab || ln.pageHeader || ln.blank) {
      i++;
      continue;
    }
    if (PIPE_ROW.test(ln.raw)) {
      const cells = splitPipes(ln.raw).map((c) => cleanInline(c));
      if (cells.some((c) => c !== "")) rows.set(i, { line: ln.no, cells, span: 1 });
      i++;
      continue;
    }
    const raw = ln.raw.trimEnd(); // not /\s+$/: it rescans every run of spaces from each space
    if (SINGLE_CELL.test(ln.raw)) {
      let j = i;
      const cells: string[] = [];
      while (j < lines.length) {
        const l = lines[j] as Line;
        if (l.region === "criteria" || !SINGLE_CELL.test(l.raw)) break;
        cells.push(cleanInline(l.raw.slice(1)));
        j++;
      }
      if (j - i >= 2) {
        if (cells.some((c) => c !== "")) rows.set(i, { line: ln.no, cells, span: j - i });
        i = j;
        continue;
      }
    }
    const cells = raw.split("\t").map((c) => cleanInline(c));
    if (cells.some((c) => c !== "")) rows.set(i, { line: ln.no, cells, span: 1 });
    i++;
  }
  return rows;
}

const CODE_SYSTEM =
  /\b(?:CPT|HCPCS|HCPC|ICD-?10(?:-CM|-PCS)?|ICD-?9(?:-CM)?|CDT|NDC|Revenue|REV|Modifier)\b/i;

function isCodeHeader(cells: string[]): boolean {
  const first = finishText(cells[0] ?? "");
  if (first.length > 60) return false;
  if (CODE_SYSTEM.test(first) && /\bcodes?\b/i.test(first)) return true;
  // Other payers' headers name the system or only "Code", over a description column (and often more
  // columns: "HCPCS | Description | Comment", "Code | Description | Prior Authorization Required").
  const second = finishText(cells[1] ?? "");
  return (
    /^(?:[A-Z0-9/® *-]{0,30}\s)?codes?[*®]*$|^(?:CPT|HCPCS|HCPC|ICD-?10(?:-CM|-PCS)?|CDT)[®*]*(?:\s?\/\s?(?:CPT|HCPCS)[®*]*)?$/i.test(
      first,
    ) && /^descri(?:ption|ptor)s?\b/i.test(second)
  );
}

/**
 * BCBSA's coding table: the system in the first column, the code in the second ("Type | Code |
 * Description", "Code Type | Code | Description"): each row's system is its Type cell.
 */
function isTypedCodeHeader(cells: string[]): boolean {
  const first = finishText(cells[0] ?? "");
  const second = finishText(cells[1] ?? "");
  return (
    /^(?:code\s)?(?:type|system)s?$|^coding system$/i.test(first) && /^codes?(?:\s?\(s\))?$/i.test(second)
  );
}

/** A Type cell naming a code system alone ("CPT", "HCPCS", "ICD-10-CM", "CPT®", "ICD-10 Diagnosis"). */
function isSystemCell(cell: string): boolean {
  const t = finishText(cell);
  return t.length <= 30 && CODE_SYSTEM.test(t) && !/\d{3}/.test(t.replace(/ICD-?\s?(?:9|10)/gi, ""));
}

function isLogHeader(cells: string[]): boolean {
  const first = finishText(cells[0] ?? "").toLowerCase();
  return (
    (/\brevisions?\b/.test(first) && /\bapprovals?\b/.test(first)) ||
    (/^revision log$/.test(first) && cells.slice(1).some((c) => /date/i.test(c)))
  );
}

/** A code or a range of codes ("64561", "0816T", "N39.41", "J3590-J3599"), as a pattern's source. */
const CODE_TOKEN = "[A-Z0-9][A-Z0-9.]{2,7}(?:\\s?[-–]\\s?[A-Z0-9][A-Z0-9.]{2,7})?";
const CODE = new RegExp(`^(${CODE_TOKEN})\\s*([*\\uE000†‡]*)$`);
/** A range of codes in words: "H02.411 through H02.419", "64635 to 64636". */
const RANGE_WORDS = /^([A-Z0-9][A-Z0-9.]{2,7})\s+(?:through|thru|to)\s+([A-Z0-9][A-Z0-9.]{2,7})$/i;
/** Codes listed in one cell: "H02.421, H02.422, H02.423" (at most 50). */
const CODE_LIST = /^[A-Z0-9][A-Z0-9.]{2,7}(?:\s*,\s*(?:and\s+)?[A-Z0-9][A-Z0-9.]{2,7}){1,49}$/;

/** `02/19`, `2/25`, `12/01/20`, `8/15/24`, `01/2026` → year, month, day (day absent for month-only). */
export function parseDate(raw: string): { y: number; m: number; d?: number } | undefined {
  const s = finishText(raw).replace(/\s+/g, "");
  let m = /^(\d{1,2})\/(\d{2}|\d{4})$/.exec(s);
  if (m) {
    const month = Number(m[1]);
    const year = fullYear(m[2] as string);
    return month >= 1 && month <= 12 ? { y: year, m: month } : undefined;
  }
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})$/.exec(s);
  if (m) {
    const month = Number(m[1]);
    const day = Number(m[2]);
    const year = fullYear(m[3] as string);
    if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
    return { y: year, m: month, d: day };
  }
  m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m) return checked(Number(m[1]), Number(m[2]), Number(m[3]));
  // "March 1, 2025", "Mar. 1 2025", "1 March 2025", "March 2025" (UHC, Cigna, Anthem headers).
  m = /^([A-Za-z]{3,9})\.?(\d{1,2}),?(\d{4})$/.exec(s);
  if (m) return checked(Number(m[3]), monthNamed(m[1] as string), Number(m[2]));
  m = /^(\d{1,2})([A-Za-z]{3,9}),?(\d{4})$/.exec(s);
  if (m) return checked(Number(m[3]), monthNamed(m[2] as string), Number(m[1]));
  m = /^([A-Za-z]{3,9})\.?,?(\d{4})$/.exec(s);
  if (m) {
    const month = monthNamed(m[1] as string);
    const y = Number(m[2]);
    return month && y >= 1900 && y <= 2200 ? { y, m: month } : undefined;
  }
  return undefined;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** 1–12 for a month's name or its abbreviation ("March", "Mar", "Sept"), else 0. */
function monthNamed(name: string): number {
  const n = name.toLowerCase();
  const i = MONTHS.indexOf(n.slice(0, 3));
  if (i < 0) return 0;
  const full = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
  ][i] as string;
  return full.startsWith(n) || n === "sept" ? i + 1 : 0;
}

function checked(y: number, month: number, day: number): { y: number; m: number; d: number } | undefined {
  if (month < 1 || month > 12 || day < 1 || y < 1900 || y > 2200 || day > daysIn(y, month)) return undefined;
  return { y, m: month, d: day };
}

function daysIn(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function fullYear(s: string): number {
  if (s.length === 4) return Number(s);
  const n = Number(s);
  return n < 70 ? 2000 + n : 1900 + n;
}

const pad = (n: number) => String(n).padStart(2, "0");

export function isoOf(d: { y: number; m: number; d?: number }): string {
  return `${d.y}-${pad(d.m)}-${pad(d.d ?? 1)}`;
}

export function monthOf(d: { y: number; m: number }): string {
  return `${d.y}-${pad(d.m)}`;
}

export interface TablesResult {
  codeTables: CodeTable[];
  codeMarkers: CodeMarker[];
  revisionLog: RevisionEntry[];
  unplaced: Unplaced[];
  /** Line numbers consumed by tables (not prose). */
  used: Set<number>;
}

const COVERAGE_NOT = /\bcodes? that (?:do|does) not support coverage\b|\bcodes? not supporting coverage\b/i;
const COVERAGE_YES = /\bcodes? that supports? coverage\b|\bcodes? supporting coverage\b/i;
// In a caption or heading only (a note's "Non-covered codes are denoted (*)" captions nothing): Aetna's
// "CPT codes covered if selection criteria are met:" / "… not covered for indications listed in the
// CPB:", "Codes considered experimental/investigational".
const CAPTION_NOT =
  /\bcodes? (?:that are |are )?not (?:covered|medically necessary|reasonable and necessary)\b|\bnon-?covered codes?\b|\bcodes? (?:considered |that are |are )?(?:experimental|investigational|unproven)\b/i;
const CAPTION_YES = /\bcodes? (?:that are |are )?(?:covered|medically necessary)\b|\bcovered codes?\b/i;
/** A line that captions a list of codes: "CPT codes covered if …:", "Other HCPCS codes related to the CPB:". */
const CODE_CAPTION = /\bcodes?\b[^:]{0,200}:$/i;
/** A code and its description on one line, spaces between ("64561 Percutaneous implantation …"). */
const CODE_LINE = new RegExp(`^(${CODE_TOKEN})\\s+(\\S.*)$`);

/** A caption (or heading) that names a code system: rows under it without a header are its codes. */
function captioned(
  h: { text: string; coverage: CodeCoverage } | undefined,
): h is { text: string; coverage: CodeCoverage } {
  return h !== undefined && CODE_SYSTEM.test(h.text) && /\bcodes?\b/i.test(h.text);
}

function coverageOf(heading: string): CodeCoverage | undefined {
  if (COVERAGE_NOT.test(heading)) return "does-not-support";
  if (COVERAGE_YES.test(heading)) return "supports";
  return undefined;
}

type Current =
  | {
      kind: "code";
      table: CodeTable;
      /** A typed table ("Type | Code | Description"): a row whose Type names another system starts its table. */
      typed?: { coverage: CodeCoverage; heading?: string };
    }
  | { kind: "log"; revCol: number; apprCol: number; effCol: number; last?: RevisionEntry }
  | null;

/**
 * A typed table ("Type | Code | Description") starting at `line`: its tables start at its rows, one per
 * system the Type column names, with the heading's coverage.
 */
function typedTable(line: number, heading: { text: string; coverage: CodeCoverage } | undefined): Current {
  return {
    kind: "code",
    table: { system: "", coverage: "unspecified", rows: [], line },
    typed: { coverage: heading?.coverage ?? "unspecified", ...(heading ? { heading: heading.text } : {}) },
  };
}

/** Reads every table outside the criteria region. */
export function readTables(lines: readonly Line[]): TablesResult {
  const rows = rowsOf(lines);
  const out: TablesResult = {
    codeTables: [],
    codeMarkers: [],
    revisionLog: [],
    unplaced: [],
    used: new Set(),
  };
  let cur: Current = null;
  let clean = false;
  let heading: { text: string; coverage: CodeCoverage } | undefined;
  let skipUntil = -1;
  /** Rows continued by later rows: their descriptions are joined once, at the end (not per row). */
  const more: More = new Map();
  for (let i = 0; i < lines.length; i++) {
    const ln = lines[i] as Line;
    if (ln.region === "criteria") {
      cur = null;
      continue;
    }
    if (i < skipUntil) {
      out.used.add(ln.no);
      continue;
    }
    if (ln.pageHeader || (ln.blank && !rows.has(i))) continue;
    let row = rows.get(i);
    if (!row && ln.region === "coding" && captioned(heading) && !ln.regionHeading) {
      // Under a caption that names a code system, a line "64561 Percutaneous …" is a row (Aetna's
      // code lists are printed without tabs or a header row).
      const m = CODE_LINE.exec(finishText(ln.text));
      if (m && /\d/.test(m[1] as string))
        row = { line: ln.no, cells: [m[1] as string, m[2] as string], span: 1 };
    }
    if (!row) {
      // Prose or a heading ends the table; a heading (or a coverage line) sets what the next table means.
      cur = null;
      clean = false;
      if (ln.regionHeading) heading = undefined;
      const text = finishText(ln.text);
      const cov = coverageOf(text);
      if (cov) heading = { text, coverage: cov };
      else if (text.length <= 240 && CODE_SYSTEM.test(text) && (CODE_CAPTION.test(text) || ln.heading))
        heading = {
          text,
          coverage: CAPTION_NOT.test(text)
            ? "does-not-support"
            : CAPTION_YES.test(text)
              ? "supports"
              : "unspecified",
        };
      else if (ln.heading && !ln.regionHeading && text.length <= 120)
        heading = { text, coverage: "unspecified" };
      continue;
    }
    out.used.add(ln.no);
    skipUntil = i + row.span;
    const cells = row.cells;
    if (isCodeHeader(cells)) {
      const system = finishText(cells[0] as string);
      const coverage = heading?.coverage ?? "unspecified";
      if (cur?.kind === "code" && clean && cur.table.system === system && cur.table.coverage === coverage) {
        // The same table continued after a page break: its header repeated.
      } else {
        const table: CodeTable = { system, coverage, rows: [], line: row.line };
        if (heading) table.heading = heading.text;
        out.codeTables.push(table);
        cur = { kind: "code", table };
      }
      clean = true;
      continue;
    }
    if (isTypedCodeHeader(cells)) {
      // The tables it holds start at its rows (one per system the Type column names).
      cur = typedTable(row.line, heading);
      clean = true;
      continue;
    }
    if (
      cur === null &&
      ln.region === "coding" &&
      cells.length >= 3 &&
      isSystemCell(cells[0] as string) &&
      CODE.test((cells[1] ?? "").trim())
    ) {
      // The same rows printed without their header ("CPT | 22551 | Arthrodesis …").
      cur = typedTable(row.line, heading);
    }
    if (isLogHeader(cells)) {
      if (!(cur?.kind === "log" && clean)) {
        const col = (re: RegExp) => cells.findIndex((c, k) => k > 0 && re.test(c));
        let revCol = col(/revision date|^date$|revised/i);
        if (revCol < 0) revCol = 1;
        cur = { kind: "log", revCol, apprCol: col(/approv/i), effCol: col(/effective/i) };
      }
      clean = true;
      continue;
    }
    if (cur === null && captioned(heading) && CODE.test((row.cells[0] ?? "").trim())) {
      // A list of codes under its caption, with no header row: the caption names the system.
      const system = CODE_SYSTEM.exec(heading.text)?.[0] ?? "Code";
      const table: CodeTable = {
        system,
        coverage: heading.coverage,
        rows: [],
        line: row.line,
        heading: heading.text,
      };
      out.codeTables.push(table);
      cur = { kind: "code", table };
    }
    clean = true;
    if (cur?.kind === "code" && cur.typed) typedRow(cur, row, out, more);
    else if (cur?.kind === "code") codeRow(cur.table, row, out, more);
    else if (cur?.kind === "log") logRow(cur, row, out, more);
    else if (ln.region === "coding" || ln.region === "log")
      out.unplaced.push({
        line: row.line,
        text: finishText(cells.join(" ")),
        reason: "table row outside a known table",
      });
  }
  for (const t of out.codeTables) {
    const open = openRanges.get(t);
    if (open)
      out.unplaced.push({
        line: open.line,
        text: open.text,
        reason: `row of ${t.system} table: a range with no last code`,
      });
  }
  for (const [target, parts] of more)
    target.description = collapse(`${target.description} ${parts.join(" ")}`);
  return out;
}

/** Descriptions continued by later rows, and the (collapsed) text that continues each. */
type More = Map<{ description: string }, string[]>;

function continueDescription(more: More, target: { description: string }, text: string): void {
  const parts = more.get(target);
  if (parts) parts.push(text);
  else more.set(target, [text]);
}

/** A range cut where it wraps: "0275T-" (its last code on the next row, "0276T"). */
const OPEN_RANGE = /^([A-Z0-9][A-Z0-9.]{2,7})\s?[-–]$/;
/** Ranges cut at a wrap, per table: the first code, its description and line, until the next row. */
const openRanges = new WeakMap<
  CodeTable,
  { from: string; description: string; line: number; text: string }
>();

function codeRow(table: CodeTable, row: Row, out: TablesResult, more: More): void {
  const first = (row.cells[0] ?? "").trim();
  const desc = collapse(
    row.cells
      .slice(1)
      .map((c) => finishText(c))
      .filter((c) => c !== "")
      .join(" "),
  );
  const open = openRanges.get(table);
  if (open) {
    // "0275T-" then "0276T" on the next row (a PDF's wrapped cell): one range, its description joined.
    openRanges.delete(table);
    const to = CODE.exec(first);
    if (to && /\d/.test(to[1] as string) && !/[-–]/.test(to[1] as string)) {
      table.rows.push({
        code: `${open.from}-${to[1]}`,
        description: collapse(`${open.description} ${desc}`),
        line: open.line,
      });
      return;
    }
    out.unplaced.push({
      line: open.line,
      text: open.text,
      reason: `row of ${table.system} table: a range with no last code`,
    });
  }
  const cut = OPEN_RANGE.exec(first);
  if (cut && /\d/.test(cut[1] as string)) {
    openRanges.set(table, {
      from: cut[1] as string,
      description: desc,
      line: row.line,
      text: finishText(row.cells.join(" ")),
    });
    return;
  }
  const m = CODE.exec(first);
  if (m && /\d/.test(m[1] as string)) {
    const marker = (m[2] ?? "").replaceAll(ESC_STAR, "*");
    const code = (m[1] as string).replace(/\s+/g, "");
    table.rows.push(
      marker
        ? { code, description: desc, marker: marker[0] as string, line: row.line }
        : { code, description: desc, line: row.line },
    );
    return;
  }
  // "H02.411 through H02.419", "64635 to 64636" (a range in words) and "H02.421, H02.422, H02.423" (a
  // list in one cell), as billing articles print them (QA pass 5: reported as rows without a code, the
  // document could not be published).
  const words = RANGE_WORDS.exec(first);
  if (words && /\d/.test(words[1] as string) && /\d/.test(words[2] as string)) {
    table.rows.push({ code: `${words[1]}-${words[2]}`, description: desc, line: row.line });
    return;
  }
  if (CODE_LIST.test(first)) {
    const codes = first.split(/\s*,\s*(?:and\s+)?/);
    if (codes.every((c) => /\d/.test(c))) {
      for (const code of codes) table.rows.push({ code, description: desc, line: row.line });
      return;
    }
  }
  const last = table.rows[table.rows.length - 1];
  if (first === "" && desc !== "" && last) {
    continueDescription(more, last, desc);
    return;
  }
  if (desc === "" && first === "") return;
  out.unplaced.push({
    line: row.line,
    text: finishText(row.cells.join(" ")),
    reason: `row of ${table.system} table without a code`,
  });
}

/**
 * A row of a typed table: its Type cell names its system (QA pass 7: BCBSA's "CPT | 22551 | Arthrodesis …"
 * rows were all reported, the version could not be published). A row whose Type differs from the table
 * before starts a table of that system; an empty Type cell continues the one before.
 */
function typedRow(cur: Extract<Current, { kind: "code" }>, row: Row, out: TablesResult, more: More): void {
  const type = finishText(row.cells[0] ?? "");
  const typed = cur.typed as { coverage: CodeCoverage; heading?: string };
  if (type !== "" && type !== cur.table.system) {
    const table: CodeTable = { system: type, coverage: typed.coverage, rows: [], line: row.line };
    if (typed.heading) table.heading = typed.heading;
    out.codeTables.push(table);
    cur.table = table;
  }
  if (cur.table.system === "") {
    out.unplaced.push({
      line: row.line,
      text: finishText(row.cells.join(" ")),
      reason: "row of a coding table without its code type",
    });
    return;
  }
  codeRow(cur.table, { ...row, cells: row.cells.slice(1) }, out, more);
}

function logRow(cur: Extract<Current, { kind: "log" }>, row: Row, out: TablesResult, more: More): void {
  const cell = (k: number) => (k >= 0 ? finishText(row.cells[k] ?? "") : "");
  const description = finishText(row.cells[0] ?? "");
  const revRaw = cell(cur.revCol);
  const apprRaw = cell(cur.apprCol);
  const effRaw = cell(cur.effCol);
  if (revRaw === "" && apprRaw === "" && effRaw === "") {
    // A description continued after a page break (its dates are on the row it started on).
    if (description !== "" && cur.last) continueDescription(more, cur.last, description);
    else if (description !== "")
      out.unplaced.push({ line: row.line, text: description, reason: "revision log row without dates" });
    return;
  }
  const rev = parseDate(revRaw);
  if (!rev) {
    out.unplaced.push({
      line: row.line,
      text: finishText(row.cells.join(" ")),
      reason: `revision date "${revRaw}" is not a date`,
    });
    return;
  }
  const entry: RevisionEntry = { description, revisionRaw: revRaw, revision: monthOf(rev), line: row.line };
  const appr = parseDate(apprRaw);
  if (appr) entry.approved = isoOf(appr);
  else if (apprRaw !== "")
    out.unplaced.push({ line: row.line, text: apprRaw, reason: `approval date "${apprRaw}" is not a date` });
  const eff = parseDate(effRaw);
  if (eff) entry.effective = isoOf(eff);
  else if (effRaw !== "")
    out.unplaced.push({ line: row.line, text: effRaw, reason: `effective date "${effRaw}" is not a date` });
  out.revisionLog.push(entry);
  cur.last = entry;
}

/**
 * A plan's code-marker note: "Non-covered codes are denoted (\*) and are reviewed for Medical
 * Necessity for members under 21 years of age on a per case basis" → `*`, not on the fee schedule,
 * reviewed under 21.
 */
export function readCodeMarker(text: string, line: number): CodeMarker | undefined {
  const t = text.replaceAll(ESC_STAR, "*");
  if (!/\bcodes?\b/i.test(t)) return undefined;
  const m =
    /\b(?:denoted|indicated|marked|identified|flagged)\b(?:\s+(?:by|with|as))?\s*\(?\s*([*†‡])\s*\)?/i.exec(
      t,
    );
  if (!m) return undefined;
  const marker: CodeMarker = {
    marker: m[1] as string,
    meaning: /\bfee schedule\b/i.test(t) ? "not-on-fee-schedule" : "other",
    text: collapse(t),
    line,
  };
  const age = /\bunder (?:the age of )?(\d{1,3})(?: years)?/i.exec(t);
  if (age) marker.reviewUnderAge = Number(age[1]);
  return marker;
}
