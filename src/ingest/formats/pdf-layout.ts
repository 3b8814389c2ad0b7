/**
 * PDF page layout → the ingester's text form. Input: each page's text items with their positions (as
 * PDF.js reports them, y growing downwards); output: one line per paragraph or list item, in reading
 * order, with layout artefacts removed generically (nothing here knows any payer's template):
 *
 * - Rotated text, very large text repeated on pages or drawn over other text (watermarks), text a
 *   tagged PDF marks as an artifact, text drawn twice for a bold effect, and lone characters (debris).
 * - Running headers and footers: blocks of lines at the top or bottom of pages that repeat, at the same
 *   place, on many pages (compared with digits masked, so `Page 3 of 9` matches `Page 4 of 9`), and
 *   lone page numbers. The paragraphs and list items they cut re-join.
 * - Sidebars: a narrow column of text beside the main column, separated by a vertical gutter and not
 *   sharing its lines. Two columns of equal standing are read one after the other.
 * - Lines are rebuilt from items by baseline; a large gap inside a line is a table cell (a tab), except
 *   after a list label; superscripts are kept as `<sup>` (the ingester drops footnote numbers).
 * - Paragraphs re-join: a line continues the previous one when it is not a list label, starts where the
 *   previous line's text starts, has the same font size, follows at the usual line spacing (or on the
 *   next page or column), and the previous line was full (the next word would not have fitted).
 *   A word hyphenated across lines re-joins ("medi-" + "cally" → "medically") unless the document
 *   elsewhere writes it with its hyphen; letter-spaced words (`P O L I C Y`) close up; a word drawn
 *   in two pieces ("medi cally") re-joins where the document prints it whole elsewhere and neither
 *   piece stands alone anywhere (`rejoinSplitWords`).
 * - Indentation: 4 spaces per level, levels from the distinct left edges of paragraphs and items.
 */

/** One text item as the worker reports it (viewport units, y down, `y` the baseline). */
export interface RawItem {
  s: string;
  x: number;
  y: number;
  w: number;
  size: number;
  angle: number;
  font: string;
  artifact?: boolean;
}

export interface PdfPage {
  width: number;
  height: number;
  items: RawItem[];
}

export interface PdfRequest {
  signal: Int32Array;
  data: Uint8Array;
  maxPages: number;
  maxChars: number;
}

export type PdfResponse =
  | { ok: true; pages: PdfPage[] }
  | { ok: false; kind: "encrypted" | "too-large" | "invalid"; message: string };

interface Item {
  s: string;
  x0: number;
  x1: number;
  y: number;
  size: number;
  sup?: boolean;
}

interface Seg {
  items: Item[];
  x0: number;
  x1: number;
  y: number;
  size: number;
  text: string;
  row: number;
}

interface Row {
  page: number;
  y: number;
  size: number;
  items: Item[];
  segs: Seg[];
}

interface Line {
  page: number;
  region: number;
  y: number;
  size: number;
  x0: number;
  /** Where the text after a list label starts. */
  textX: number;
  x1: number;
  text: string;
  table: boolean;
  labelled: boolean;
  /** A table row's cell starts (x0 of each cell, the first included). */
  cells?: number[];
}

interface Block {
  text: string;
  x0: number;
  relX: number;
  labelled: boolean;
  table: boolean;
}

interface Counts {
  rotated: number;
  watermark: number;
  artifact: number;
  duplicate: number;
  debris: number;
  headerLines: number;
  headerPages: Set<number>;
  sidebarLines: number;
  sidebarPages: Set<number>;
  columnPages: Set<number>;
}

const BULLET = /^(?:[•▪◦●○■□►▸➢✓❖\-–—*o]|[\uE000-\uF8FF])(?=\s|$)/;
const LABEL =
  /^(?:\(?(?:[IVXLC]{1,6}|[ivxlc]{1,6}|[A-Z]|[a-z]|\d{1,3}(?:\.\d{1,3})*)[.)]|\((?:[IVXLC]{1,6}|[ivxlc]{1,6}|[A-Za-z]|\d{1,3})\))(?=\s|$)/;

function isLabelStart(text: string): boolean {
  return LABEL.test(text) || BULLET.test(text);
}

function maxOf(xs: Iterable<number>): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of xs) if (x > m) m = x;
  return m;
}

function minOf(xs: Iterable<number>): number {
  let m = Number.POSITIVE_INFINITY;
  for (const x of xs) if (x < m) m = x;
  return m;
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function quantile(xs: number[], q: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(q * (s.length - 1))))];
}

/**
 * `P O L I C Y` → `POLICY`: text whose tokens are nearly all single letters one space apart is one
 * letter-spaced word (a kerned pair may print as `AT`); inside longer text, a run of five or more.
 */
export function closeLetterSpacing(s: string): string {
  const t = s.trim();
  const tokens = t.split(" ");
  if (
    tokens.length >= 3 &&
    !t.includes("  ") &&
    tokens.every((k) => /^[\p{L}\p{N}&/'’.-]{1,2}$/u.test(k)) &&
    tokens.filter((k) => [...k].length === 1).length >= tokens.length * 0.7
  ) {
    return s.replace(t, tokens.join(""));
  }
  if (!/(?:\p{L} ){4}/u.test(s)) return s;
  return s.replace(/(?<![\p{L}\p{N}])(?:\p{L} ){4,}\p{L}(?![\p{L}\p{N}])/gu, (m) => m.replace(/ /g, ""));
}

function normKey(s: string): string {
  return s.toLowerCase().replace(/\d+/g, "#").replace(/\s+/g, " ").trim();
}

const PAGE_NO = /^(?:page\s*)?#(?:\s*(?:of|\/)\s*#)?$|^[-–—]\s*#\s*[-–—]$|^#\s*\/\s*#$/;

function rowText(r: Row): string {
  return r.segs.map((s) => s.text).join(" ");
}

// ---------------------------------------------------------------------------------------------------
// Items, rows and segments

function bodySizeOf(pages: PdfPage[]): number {
  const bySize = new Map<number, number>();
  for (const p of pages) {
    for (const it of p.items) {
      if (Math.abs(it.angle) > 2) continue;
      const k = Math.round(it.size * 2) / 2;
      bySize.set(k, (bySize.get(k) ?? 0) + it.s.length);
    }
  }
  let best = 10;
  let bestN = -1;
  for (const [k, n] of bySize) {
    if (n > bestN) {
      best = k;
      bestN = n;
    }
  }
  return best > 0 ? best : 10;
}

function overlaps(a: RawItem, b: RawItem): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y - a.size < b.y && b.y - b.size < a.y;
}

/** Drops watermarks, artifacts and duplicates; returns each page's remaining items. */
function filterItems(pages: PdfPage[], body: number, c: Counts): Item[][] {
  let total = 0;
  let artifactChars = 0;
  for (const p of pages) {
    for (const it of p.items) {
      total += it.s.length;
      if (it.artifact) artifactChars += it.s.length;
    }
  }
  // Trust artifact marks only where they are the exception (a tagged PDF), not the whole text.
  const useArtifacts = artifactChars > 0 && artifactChars < total * 0.5;
  const hugeText = new Map<string, Set<number>>();
  pages.forEach((p, pi) => {
    for (const it of p.items) {
      if (it.size >= Math.max(20, 2.5 * body)) {
        const k = normKey(it.s);
        const set = hugeText.get(k) ?? new Set<number>();
        set.add(pi);
        hugeText.set(k, set);
      }
    }
  });
  return pages.map((p) => {
    const out: Item[] = [];
    const upright = p.items.filter((it) => {
      const a = ((it.angle % 360) + 360) % 360;
      if (a > 2 && a < 358) {
        c.rotated++;
        return false;
      }
      return true;
    });
    for (const it of upright) {
      if (useArtifacts && it.artifact) {
        c.artifact++;
        continue;
      }
      if (it.size >= Math.max(20, 2.5 * body)) {
        const repeated = (hugeText.get(normKey(it.s))?.size ?? 0) >= 2;
        const over = upright.some((o) => o !== it && o.size < it.size * 0.6 && overlaps(it, o));
        if (repeated || over) {
          c.watermark++;
          continue;
        }
      }
      const s = closeLetterSpacing(it.s.replace(/\u00ad/g, ""));
      const item: Item = { s, x0: it.x, x1: it.x + Math.max(0, it.w), y: it.y, size: it.size };
      const prev = out[out.length - 1];
      if (
        prev &&
        prev.s === item.s &&
        Math.abs(prev.x0 - item.x0) < 1.5 &&
        Math.abs(prev.y - item.y) < 1.5 &&
        prev.size === item.size
      ) {
        c.duplicate++;
        continue;
      }
      out.push(item);
    }
    return out;
  });
}

/**
 * Items → rows by baseline. Larger text is placed first, so a row is anchored by its main text and
 * smaller items (superscripts, footnote marks) join the row whose band holds their middle.
 */
function buildRows(items: Item[], page: number): Row[] {
  const bySize = [...items].sort((a, b) => b.size - a.size || a.y - b.y || a.x0 - b.x0);
  const rows: Row[] = [];
  // Rows sorted by baseline, for a binary search of the rows near an item.
  const find = (it: Item): Row | undefined => {
    const center = it.y - 0.3 * it.size;
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((rows[mid] as Row).y < center - 2 * it.size - 40) lo = mid + 1;
      else hi = mid;
    }
    let best: Row | undefined;
    let bestD = Number.POSITIVE_INFINITY;
    for (let k = lo; k < rows.length; k++) {
      const r = rows[k] as Row;
      if (r.y > center + r.size + 40) break;
      if (center >= r.y - 0.85 * r.size && center <= r.y + 0.3 * r.size) {
        const d = Math.abs(r.y - it.y);
        if (d < bestD) {
          best = r;
          bestD = d;
        }
      }
    }
    return best;
  };
  for (const it of bySize) {
    const row = find(it);
    if (row) {
      row.items.push(it);
      continue;
    }
    const r: Row = { page, y: it.y, size: it.size, items: [it], segs: [] };
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((rows[mid] as Row).y < r.y) lo = mid + 1;
      else hi = mid;
    }
    rows.splice(lo, 0, r);
  }
  for (const r of rows) {
    // Superscripts: smaller items raised above the row's baseline.
    for (const it of r.items) if (it.size < 0.85 * r.size && it.y < r.y - 0.15 * r.size) it.sup = true;
    r.items.sort((a, b) => a.x0 - b.x0);
  }
  return rows;
}

/**
 * The word pieces met across a gap between two text items while the current document is laid out
 * (`a b`, lower case): the only pairs {@link rejoinSplitWords} may join. A space the PDF itself draws
 * inside an item is a word space, never a split word (a random-text property test met "glosto jortam"
 * beside a printed "glostojortam"). Set by `layoutPdf` for the duration of one (synchronous) layout.
 */
let gapPairs: Set<string> | undefined;

const LETTER = /\p{L}/u;
/** The letters ending `s` and starting `t` (scanned by character: linear, no backtracking). */
function pieceAround(s: string, t: string): string | undefined {
  let i = s.length;
  while (i > 0 && LETTER.test(s[i - 1] as string)) i--;
  let j = 0;
  while (j < t.length && LETTER.test(t[j] as string)) j++;
  if (i === s.length || j === 0) return undefined;
  return `${s.slice(i).toLowerCase()} ${t.slice(0, j).toLowerCase()}`;
}

/**
 * Whether the gap before item `k` may be a word drawn in two pieces rather than a word space. A
 * justified line drawn word by word has stretched gaps, all alike: a gap of half an em or more, or one
 * within 20% of another gap on the same line, is a word space (a random-text property test met
 * "ful galhap" justified beside a printed "fulgalhap").
 */
function maySplit(sorted: readonly number[], g: number, size: number): boolean {
  if (g >= 0.5 * size) return false;
  // `sorted` holds the line's word gaps, `g` among them: its neighbours in order are the closest.
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < g) lo = mid + 1;
    else hi = mid;
  }
  const near = [sorted[lo - 1], sorted[lo + 1]];
  return !near.some((o) => o !== undefined && Math.abs(o - g) <= 0.2 * Math.max(o, g));
}

function segText(items: Item[], size: number): string {
  let out = "";
  let inSup = false;
  let prev: Item | undefined;
  const gaps = items.map((it, k) => (k === 0 ? 0 : it.x0 - (items[k - 1] as Item).x1));
  const wordGaps = gaps.filter((g) => g > 0.15 * size).sort((a, b) => a - b);
  for (const [k, it] of items.entries()) {
    if (prev) {
      const gap = gaps[k] as number;
      if (gap > 0.15 * size && !out.endsWith(" ") && !it.s.startsWith(" ")) {
        if (inSup && !it.sup) {
          out += "</sup>";
          inSup = false;
        }
        const pair = gapPairs && maySplit(wordGaps, gap, size) && pieceAround(out, it.s);
        if (pair) gapPairs?.add(pair);
        out += " ";
      }
    }
    if (it.sup && !inSup) {
      out += "<sup>";
      inSup = true;
    } else if (!it.sup && inSup) {
      out += "</sup>";
      inSup = false;
    }
    out += inSup ? it.s.trim() : it.s;
    prev = it;
  }
  if (inSup) out += "</sup>";
  return out.replace(/\s+/g, " ").trim();
}

function buildSegs(r: Row, rowIndex: number): void {
  const segs: Seg[] = [];
  let cur: Item[] = [];
  let curX1 = Number.NEGATIVE_INFINITY;
  const flush = () => {
    if (cur.length === 0) return;
    let main = cur[0] as Item;
    for (const it of cur)
      if (it.size > main.size || (it.size === main.size && it.s.length > main.s.length)) main = it;
    segs.push({
      items: cur,
      x0: (cur[0] as Item).x0,
      x1: curX1,
      y: main.y,
      size: main.size,
      text: segText(cur, r.size),
      row: rowIndex,
    });
    cur = [];
  };
  for (const it of r.items) {
    if (cur.length > 0 && it.x0 - curX1 > 1.6 * r.size) flush();
    if (cur.length === 0) curX1 = it.x1;
    cur.push(it);
    curX1 = Math.max(curX1, it.x1);
  }
  flush();
  r.segs = segs.filter((s) => s.text !== "");
}

// ---------------------------------------------------------------------------------------------------
// Running headers and footers

function removeRunningLines(pages: PdfPage[], rows: Row[][], body: number, c: Counts): Row[][] {
  const n = pages.length;
  const minPages = n >= 3 ? Math.max(2, Math.ceil(n * 0.34)) : 2;
  const ZONE = 0.25;
  const DEPTH = 6;
  // key → y bucket (6 pt) → pages where a line with that text stands at that height.
  const seen = new Map<string, Map<number, Set<number>>>();
  const zoneRows = (pr: Row[], pi: number) => {
    const h = (pages[pi] as PdfPage).height;
    const top = pr.filter((r) => r.y < h * ZONE).slice(0, DEPTH);
    const bottom = pr.filter((r) => r.y > h * (1 - ZONE)).slice(-DEPTH);
    return { top, bottom };
  };
  const bucket = (y: number) => Math.floor(y / 6);
  rows.forEach((pr, pi) => {
    const { top, bottom } = zoneRows(pr, pi);
    for (const [zone, list] of [
      ["t", top],
      ["b", bottom],
    ] as const) {
      for (const r of list) {
        const k = `${zone}\u0000${normKey(rowText(r))}`;
        let byY = seen.get(k);
        if (!byY) {
          byY = new Map();
          seen.set(k, byY);
        }
        const b = bucket(r.y);
        let set = byY.get(b);
        if (!set) {
          set = new Set();
          byY.set(b, set);
        }
        set.add(pi);
      }
    }
  });
  const repeated = (zone: string, r: Row, pi: number): boolean => {
    const key = normKey(rowText(r));
    if (PAGE_NO.test(key)) return true;
    const byY = seen.get(`${zone}\u0000${key}`);
    if (!byY) return false;
    const pagesHit = new Set<number>([pi]);
    const b = bucket(r.y);
    for (const bb of [b - 1, b, b + 1]) {
      for (const p of byY.get(bb) ?? []) {
        pagesHit.add(p);
        if (pagesHit.size >= minPages) return true;
      }
    }
    return pagesHit.size >= minPages;
  };
  // The usual baseline-to-baseline spacing of body-size lines.
  const deltas: number[] = [];
  for (const pr of rows) {
    for (let i = 1; i < pr.length; i++) {
      const a = pr[i - 1] as Row;
      const b = pr[i] as Row;
      if (Math.abs(a.size - body) <= 0.1 * body && Math.abs(b.size - body) <= 0.1 * body && b.y > a.y)
        deltas.push(b.y - a.y);
    }
  }
  const leading = median(deltas.filter((d) => d < 3 * body)) ?? 1.2 * body;
  return rows.map((pr, pi) => {
    const { top, bottom } = zoneRows(pr, pi);
    const drop = new Set<Row>();
    // A running block is set apart from the text by more than a line's spacing; a repeated line at
    // the usual spacing from the text ("following:" ending the page's last lead-in) is text.
    const apart = (a: Row, b: Row) => Math.abs(b.y - a.y) > 1.3 * leading;
    const runTop: Row[] = [];
    for (const r of top) {
      if (!repeated("t", r, pi)) break;
      runTop.push(r);
    }
    while (runTop.length > 0) {
      const last = runTop[runTop.length - 1] as Row;
      const next = pr[pr.indexOf(last) + 1];
      if (!next || apart(last, next) || PAGE_NO.test(normKey(rowText(last)))) break;
      runTop.pop();
    }
    const runBottom: Row[] = [];
    for (let k = bottom.length - 1; k >= 0; k--) {
      const r = bottom[k] as Row;
      if (!repeated("b", r, pi)) break;
      runBottom.unshift(r);
    }
    while (runBottom.length > 0) {
      const first = runBottom[0] as Row;
      const prev = pr[pr.indexOf(first) - 1];
      if (!prev || apart(prev, first) || PAGE_NO.test(normKey(rowText(first)))) break;
      runBottom.shift();
    }
    for (const r of [...runTop, ...runBottom]) drop.add(r);
    // A block of small print alone in the top or bottom margin, set apart from the text (a running
    // header seen on one page only, as on the second page of two).
    const h = (pages[pi] as PdfPage).height;
    const small = (r: Row) => r.size < 0.92 * body;
    const rest = pr.filter((r) => !drop.has(r));
    let j = 0;
    while (j + 1 < rest.length && (rest[j + 1] as Row).y - (rest[j] as Row).y <= 1.6 * (rest[j] as Row).size)
      j++;
    const marginTop = rest.slice(0, j + 1);
    const afterTop = rest[j + 1];
    if (
      afterTop &&
      marginTop.length <= 3 &&
      marginTop.every((r) => small(r) && r.y < h * ZONE) &&
      afterTop.y - afterTop.size - (marginTop[marginTop.length - 1] as Row).y >= 1.5 * body
    ) {
      for (const r of marginTop) drop.add(r);
    }
    let k = rest.length - 1;
    while (k - 1 >= 0 && (rest[k] as Row).y - (rest[k - 1] as Row).y <= 1.6 * (rest[k] as Row).size) k--;
    const marginBottom = rest.slice(k);
    const beforeBottom = rest[k - 1];
    if (
      beforeBottom &&
      !drop.has(beforeBottom) &&
      marginBottom.length <= 3 &&
      marginBottom.every((r) => small(r) && r.y > h * (1 - ZONE)) &&
      (marginBottom[0] as Row).y - (marginBottom[0] as Row).size - beforeBottom.y >= 1.5 * body
    ) {
      for (const r of marginBottom) drop.add(r);
    }
    if (drop.size > 0) {
      c.headerLines += drop.size;
      c.headerPages.add(pi);
    }
    return pr.filter((r) => !drop.has(r));
  });
}

// ---------------------------------------------------------------------------------------------------
// Columns and sidebars

/** Splits a page's segments into reading-order regions, dropping sidebars (at most three). */
function regionsOf(segs: Seg[], body: number, page: number, c: Counts): Seg[][] {
  let cur = segs;
  for (let pass = 0; pass < 3; pass++) {
    const split = splitOnce(cur, body, page, c);
    if (split.length !== 1 || split[0] === cur) return split;
    cur = split[0] as Seg[];
  }
  return [cur];
}

function splitOnce(segs: Seg[], body: number, page: number, c: Counts): Seg[][] {
  if (segs.length < 6) return [segs];
  let minX = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  for (const s of segs) {
    minX = Math.min(minX, s.x0);
    maxX = Math.max(maxX, s.x1);
  }
  const BIN = 2;
  const nBins = Math.ceil((maxX - minX) / BIN) + 1;
  if (!Number.isFinite(nBins) || nBins < 10 || nBins > 10000) return [segs];
  const cover = new Int32Array(nBins);
  for (const s of segs) {
    const a = Math.floor((s.x0 - minX) / BIN);
    const b = Math.floor((s.x1 - minX) / BIN);
    for (let i = Math.max(0, a); i <= Math.min(nBins - 1, b); i++) cover[i] = (cover[i] as number) + 1;
  }
  const allowance = Math.max(1, Math.floor(segs.length * 0.04));
  const gutters: { start: number; end: number }[] = [];
  for (let i = 0; i < nBins; ) {
    if ((cover[i] as number) > allowance) {
      i++;
      continue;
    }
    let j = i;
    while (j < nBins && (cover[j] as number) <= allowance) j++;
    const start = minX + i * BIN;
    const end = minX + j * BIN;
    if (i > 0 && j < nBins && end - start >= Math.max(12, body)) gutters.push({ start, end });
    i = j;
  }
  gutters.sort((a, b) => b.end - b.start - (a.end - a.start));
  const aligned = (a: Seg[], b: Seg[]) => {
    const ys = b.map((s) => s.y).sort((x, y) => x - y);
    let hit = 0;
    for (const s of a) {
      let lo = 0;
      let hi = ys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((ys[mid] as number) < s.y - 1.5) lo = mid + 1;
        else hi = mid;
      }
      if (lo < ys.length && Math.abs((ys[lo] as number) - s.y) <= 1.5) hit++;
    }
    return hit / a.length;
  };
  const extent = (xs: Seg[]) => maxOf(xs.map((s) => s.x1)) - minOf(xs.map((s) => s.x0));
  const prose = (xs: Seg[]) => {
    if (xs.length < 6 || extent(xs) < 0.3 * (maxX - minX)) return false;
    const right = maxOf(xs.map((s) => s.x1));
    const full = xs.filter((s) => s.x1 >= right - 0.15 * extent(xs)).length;
    const avg = xs.reduce((n, s) => n + s.text.length, 0) / xs.length;
    return full >= 0.5 * xs.length && avg >= 25;
  };
  const chars = (xs: Seg[]) => xs.reduce((n, s) => n + s.text.length, 0);
  for (const g of gutters.slice(0, 4)) {
    const left = segs.filter((s) => s.x1 <= g.start + BIN);
    const right = segs.filter((s) => s.x0 >= g.end - BIN);
    if (left.length < 3 || right.length < 3) continue;
    // Rows shared across the gutter make a table (or labels beside their items), not columns —
    // unless both sides are prose: many long lines, most of them filling their column.
    if (Math.max(aligned(left, right), aligned(right, left)) >= 0.5 && !(prose(left) && prose(right)))
      continue;
    const sides = new Set([...left, ...right]);
    const crossing = segs.filter((s) => !sides.has(s));
    const [narrow, wide] = extent(left) <= extent(right) ? [left, right] : [right, left];
    if (extent(narrow) < 0.4 * (maxX - minX) && chars(narrow) < chars(wide)) {
      c.sidebarLines += new Set(narrow.map((s) => s.row)).size;
      c.sidebarPages.add(page);
      return [[...crossing, ...wide].sort((a, b) => a.y - b.y || a.x0 - b.x0)];
    }
    if (Math.min(extent(left), extent(right)) < 0.3 * (maxX - minX)) continue;
    return columns(left, right, crossing, page, c);
  }
  return [segs];
}

function columns(left: Seg[], right: Seg[], crossing: Seg[], page: number, c: Counts): Seg[][] {
  c.columnPages.add(page);
  const top = Math.min(minOf(left.map((s) => s.y)), minOf(right.map((s) => s.y)));
  const above = crossing.filter((s) => s.y < top);
  const below = crossing.filter((s) => s.y >= top);
  return [above, left, right, below].filter((r) => r.length > 0);
}

// ---------------------------------------------------------------------------------------------------
// Lines, paragraphs, indentation

/**
 * Debris: a little text (up to 3 characters, however many items carry it) of another size than the
 * body's, with no body-size text within half an em and no longer text of its size on its line — stray
 * marks, the letters of a watermark. A superscript beside its word stays, and so do a heading printed
 * letter by letter and a small-print table's cells.
 */
function dropDebris(rows: Row[], body: number, c: Counts): void {
  const odd = (it: Item) => Math.abs(it.size - body) > 0.3 * body;
  const chars = (it: Item) => it.s.replace(/\s/g, "").length;
  for (const r of rows) {
    const items = r.items;
    if (!items.some((it) => odd(it) && chars(it) <= 3)) continue;
    // Chains of adjacent items of one size (items are in x order).
    const chainOf = new Array<number>(items.length);
    const chainChars: number[] = [];
    items.forEach((it, i) => {
      const prev = items[i - 1];
      const joined =
        prev !== undefined &&
        Math.abs(prev.size - it.size) < 0.2 * it.size &&
        it.x0 - prev.x1 < Math.max(0.5 * body, it.size);
      if (!joined) chainChars.push(0);
      chainOf[i] = chainChars.length - 1;
      chainChars[chainChars.length - 1] = (chainChars[chainChars.length - 1] as number) + chars(it);
    });
    // Sizes of the line's real text (chains of more than 3 characters).
    const textSizes = new Set<number>();
    items.forEach((it, i) => {
      if ((chainChars[chainOf[i] as number] as number) > 3) textSizes.add(Math.round(it.size));
    });
    const drop = new Set<number>();
    items.forEach((it, i) => {
      const chain = chainOf[i] as number;
      if (!odd(it) || (chainChars[chain] as number) > 3 || BULLET.test(it.s.trim())) return;
      if (textSizes.has(Math.round(it.size))) return;
      for (let k = i - 1; k >= 0; k--) {
        const o = items[k] as Item;
        if (it.x0 - o.x1 >= 0.5 * body) break;
        if (!odd(o)) return;
      }
      for (let k = i + 1; k < items.length; k++) {
        const o = items[k] as Item;
        if (o.x0 - it.x1 >= 0.5 * body) break;
        if (!odd(o)) return;
      }
      drop.add(chain);
    });
    if (drop.size === 0) continue;
    r.items = items.filter((_it, i) => !drop.has(chainOf[i] as number));
    c.debris += drop.size;
  }
}

/** Relative advance widths of a proportional font (Helvetica's, in thousandths of an em, roughly). */
function charWidth(ch: string): number {
  if (" .,:;'!|iIlj".includes(ch)) return 270;
  if ("ftr()[]-/".includes(ch)) return 330;
  if ("mwMW%@".includes(ch)) return 850;
  if (/[A-Z]/.test(ch)) return 680;
  return 540;
}

/** A string's width in the same relative units (to place a label's end within a measured run). */
function approxWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch);
  return w;
}

/** A region's items → its lines (rows rebuilt within the region, so a sidebar never shares a line). */
function regionLines(items: Item[], page: number, region: number): Line[] {
  const rows = buildRows(items, page);
  const out: Line[] = [];
  rows.forEach((r, i) => {
    if (r.items.length === 0) return;
    buildSegs(r, i);
    const kept = r.segs;
    if (kept.length === 0) return;
    const first = kept[0] as Seg;
    let text = first.text;
    let table = false;
    let textX = first.x0;
    const cells = [first.x0];
    const labelFirst = isLabelStart(first.text) && first.text.length <= 8 && !/\s/.test(first.text.trim());
    // A justified line with few words has wide gaps, all about equal: words, not table cells.
    const gaps: number[] = [];
    for (let k = labelFirst ? 2 : 1; k < kept.length; k++) {
      gaps.push((kept[k] as Seg).x0 - (kept[k - 1] as Seg).x1);
    }
    const justified = gaps.length >= 2 && maxOf(gaps) <= 1.35 * minOf(gaps) && maxOf(gaps) < 8 * r.size;
    for (let k = 1; k < kept.length; k++) {
      const s = kept[k] as Seg;
      if (k === 1 && labelFirst) {
        text = `${text} ${s.text}`;
        textX = s.x0;
      } else if (justified) {
        text += ` ${s.text}`;
      } else {
        text += `\t${s.text}`;
        table = true;
        cells.push(s.x0);
      }
    }
    if (!table && isLabelStart(text) && !labelFirst) {
      // Where the item's own text starts: its continuation lines align there. The label is an item of
      // its own, or the start of the first run (placed by the relative widths of its characters).
      const [i0, i1] = first.items;
      const m = /^\S+\s+/.exec(first.text);
      if (i0 && i1 && isLabelStart(i0.s.trim()) && !/\s/.test(i0.s.trim())) textX = i1.x0;
      else if (m && first.items.length === 1) {
        const plain = first.text.replace(/<\/?sup>/g, "");
        textX = first.x0 + (first.x1 - first.x0) * (approxWidth(m[0]) / Math.max(1e-6, approxWidth(plain)));
      } else if (m) {
        const it = first.items[0] as Item;
        const plain = it.s.replace(/<\/?sup>/g, "");
        const lead = /^\S+\s+/.exec(plain);
        textX = lead
          ? it.x0 + (it.x1 - it.x0) * (approxWidth(lead[0]) / Math.max(1e-6, approxWidth(plain)))
          : it.x1;
      }
    }
    text = text.replace(/^[\uE000-\uF8FF](?=\s)/, "•");
    out.push({
      page,
      region,
      y: r.y,
      size: r.size,
      x0: first.x0,
      textX,
      x1: (kept[kept.length - 1] as Seg).x1,
      text,
      table,
      labelled: !table && isLabelStart(text),
      ...(table ? { cells } : {}),
    });
  });
  return out;
}

/**
 * A line right under a table row whose text starts at one of the row's later cells, with nothing in its
 * first column, is that cell wrapped ("64561 | Percutaneous implantation …; sacral" then "nerve
 * (transforaminal placement) …" under the description): its words join that cell, however many lines it
 * takes. QA pass 7: it was a paragraph that ended the table, the table's later rows reported.
 */
function wrappedCells(lines: readonly Line[], leading: number): Line[] {
  const out: Line[] = [];
  let lastY = Number.NEGATIVE_INFINITY;
  for (const l of lines) {
    const prev = out[out.length - 1];
    if (
      prev?.cells &&
      prev.table &&
      !l.table &&
      l.region === prev.region &&
      l.y > lastY &&
      l.y - lastY <= leading * prev.size * 1.3
    ) {
      const tol = 0.6 * l.size;
      const k = prev.cells.findIndex((x, j) => j > 0 && Math.abs(l.x0 - x) <= tol);
      if (k > 0 && l.x0 > (prev.cells[0] as number) + tol) {
        const parts = prev.text.split("\t");
        while (parts.length <= k) parts.push("");
        const cell = parts[k] as string;
        parts[k] = cell === "" ? l.text : cell.endsWith("-") ? `${cell}${l.text}` : `${cell} ${l.text}`;
        out[out.length - 1] = { ...prev, text: parts.join("\t"), x1: Math.max(prev.x1, l.x1) };
        lastY = l.y;
        continue;
      }
    }
    out.push(l);
    lastY = l.y;
  }
  return out;
}

/**
 * Prefixes English writes with a hyphen: a line that ends with one keeps it unless the document prints
 * the joined word elsewhere. Without a dictionary, "full-" + "ness" reads as "full-ness": a known
 * ambiguity (the PDF property test's generator does not break words right after these prefixes).
 */
export const KEEP_HYPHEN =
  /^(?:non|self|well|anti|post|semi|multi|cross|mid|long|short|high|low|life|all|half|full|evidence|peer|x)$/i;

function wordsOf(lines: Line[]): { words: Set<string>; hyphenated: Set<string> } {
  const words = new Set<string>();
  const hyphenated = new Set<string>();
  for (const l of lines) {
    for (const m of l.text.matchAll(/\p{L}+(?:-\p{L}+)*/gu)) {
      const w = m[0].toLowerCase();
      if (w.includes("-")) {
        hyphenated.add(w);
        for (const p of w.split("-")) words.add(p);
      } else words.add(w);
    }
  }
  return { words, hyphenated };
}

/**
 * Appends a line to a paragraph's parts. A word hyphenated across the lines re-joins unless the
 * document writes it with its hyphen elsewhere (or it starts with a prefix that keeps one: "non-").
 * Only the last part is looked at, so joining stays linear in the paragraph's length.
 */
function joinLine(
  parts: string[],
  next: string,
  dict: { words: Set<string>; hyphenated: Set<string> },
): void {
  const last = parts[parts.length - 1] as string;
  const m = /(\p{L}+)-$/u.exec(last);
  const n = /^(\p{Ll}+)/u.exec(next);
  if (m && n) {
    const a = (m[1] as string).toLowerCase();
    const b = (n[1] as string).toLowerCase();
    const keep = dict.hyphenated.has(`${a}-${b}`) || (!dict.words.has(a + b) && KEEP_HYPHEN.test(a));
    parts[parts.length - 1] = keep ? last : last.slice(0, -1);
    parts.push(next);
    return;
  }
  parts.push(" ", next);
}

/**
 * "medi cally" → "medically": a word that a PDF draws in two pieces with a gap reads as two words. With
 * no dictionary, the document is its own: two adjacent pieces join where the document prints the joined
 * word whole elsewhere and neither piece ever stands as a word of its own (every occurrence of the first
 * is followed, and of the second preceded, by a piece it joins with). "a round" stays apart wherever
 * the document writes "a" alone; pieces shorter than two letters never join. Linear in the text.
 */
export function rejoinSplitWords(texts: readonly string[], splits?: ReadonlySet<string>): string[] {
  const WORD = /\p{L}+/gu;
  const count = new Map<string, number>();
  for (const t of texts)
    for (const m of t.matchAll(WORD)) {
      const w = m[0].toLowerCase();
      count.set(w, (count.get(w) ?? 0) + 1);
    }
  /** Each adjacent pair of words one space apart whose joined form the document prints whole. */
  const pairsOf = (t: string): { at: number; a: string; b: string }[] => {
    const out: { at: number; a: string; b: string }[] = [];
    let prev: RegExpExecArray | undefined;
    for (const m of t.matchAll(WORD)) {
      if (prev && m.index === prev.index + prev[0].length + 1 && t[m.index - 1] === " ") {
        const a = prev[0];
        const b = m[0];
        const whole = `${a}${b}`.toLowerCase();
        if (
          a.length >= 2 &&
          b.length >= 2 &&
          /^\p{Ll}/u.test(b) &&
          (count.get(whole) ?? 0) > 0 &&
          (!splits || splits.has(`${a.toLowerCase()} ${b.toLowerCase()}`))
        )
          out.push({ at: m.index - 1, a: a.toLowerCase(), b: b.toLowerCase() });
      }
      prev = m;
    }
    return out;
  };
  const pairs = texts.map(pairsOf);
  const left = new Map<string, number>();
  const right = new Map<string, number>();
  for (const ps of pairs)
    for (const p of ps) {
      left.set(p.a, (left.get(p.a) ?? 0) + 1);
      right.set(p.b, (right.get(p.b) ?? 0) + 1);
    }
  return texts.map((t, k) => {
    const join = (pairs[k] ?? []).filter(
      (p) => left.get(p.a) === count.get(p.a) && right.get(p.b) === count.get(p.b),
    );
    if (join.length === 0) return t;
    let out = "";
    let from = 0;
    for (const p of join) {
      out += t.slice(from, p.at);
      from = p.at + 1;
    }
    return out + t.slice(from);
  });
}

/** Lays out extracted pages as the ingester's text form. */
export function layoutPdf(pages: PdfPage[]): { text: string; notes: string[] } {
  gapPairs = new Set();
  try {
    return layoutPages(pages, gapPairs);
  } finally {
    gapPairs = undefined;
  }
}

function layoutPages(pages: PdfPage[], splits: ReadonlySet<string>): { text: string; notes: string[] } {
  const c: Counts = {
    rotated: 0,
    watermark: 0,
    artifact: 0,
    duplicate: 0,
    debris: 0,
    headerLines: 0,
    headerPages: new Set(),
    sidebarLines: 0,
    sidebarPages: new Set(),
    columnPages: new Set(),
  };
  const body = bodySizeOf(pages);
  const items = filterItems(pages, body, c);
  let rowIndex = 0;
  const rows = items.map((its, pi) => {
    const rs = buildRows(its, pi);
    for (const r of rs) buildSegs(r, rowIndex++);
    return rs.filter((r) => r.segs.length > 0);
  });
  const bodyRows = removeRunningLines(pages, rows, body, c);
  for (const pr of bodyRows) {
    dropDebris(pr, body, c);
    pr.forEach((r) => {
      buildSegs(r, rowIndex++);
    });
  }

  const lines: Line[] = [];
  let region = 0;
  const mainRegions = new Set<number>();
  bodyRows.forEach((pr, pi) => {
    const regions = regionsOf(
      pr.flatMap((r) => r.segs),
      body,
      pi,
      c,
    );
    for (const segs of regions) {
      if (regions.length === 1) mainRegions.add(region);
      for (const l of regionLines(
        segs.flatMap((sg) => sg.items),
        pi,
        region,
      ))
        lines.push(l);
      region++;
    }
  });

  // Typical line spacing (baseline to baseline, in font sizes) and each region's right edge.
  const ratios: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const a = lines[i - 1] as Line;
    const b = lines[i] as Line;
    if (a.region === b.region && Math.abs(a.size - b.size) < 0.1 && b.y > a.y) {
      const r = (b.y - a.y) / a.size;
      if (r < 2.5) ratios.push(r);
    }
  }
  const leading = median(ratios) ?? 1.2;
  // Not `splice(…, ...merged)`: a long document's lines would overflow the arguments of one call.
  const merged = wrappedCells(lines, leading);
  lines.length = 0;
  for (const l of merged) lines.push(l);
  // The main column's right edge: where most long lines end; with too few lines to tell, the page
  // mirrored (a right margin as wide as the left one).
  const mainLines = lines.filter((l) => mainRegions.has(l.region) && !l.table);
  const longEnds = mainLines.filter((l) => l.text.length >= 20).map((l) => l.x1);
  const minLeft = minOf(mainLines.map((l) => l.x0));
  const mainRight =
    longEnds.length >= 12
      ? (quantile(longEnds, 0.95) as number)
      : Math.max(
          maxOf(mainLines.map((l) => l.x1)),
          ((pages[0] as PdfPage | undefined)?.width ?? 612) - minLeft,
        );
  const regionRight = new Map<number, number>();
  for (const l of lines) regionRight.set(l.region, Math.max(regionRight.get(l.region) ?? 0, l.x1));
  const rightOf = (l: Line) => (mainRegions.has(l.region) ? mainRight : (regionRight.get(l.region) ?? l.x1));

  const dict = wordsOf(lines);
  const blocks: { text: string; x0: number; labelled: boolean; table: boolean; region: number }[] = [];
  let para: { first: Line; last: Line; parts: string[] } | undefined;
  const flush = () => {
    if (!para) return;
    blocks.push({
      text: para.parts.join(""),
      x0: para.first.x0,
      labelled: para.first.labelled,
      table: para.first.table,
      region: para.first.region,
    });
    para = undefined;
  };
  for (const l of lines) {
    if (para && !l.table && !para.first.table && !l.labelled) {
      const prev = para.last;
      const tol = 0.6 * l.size;
      const sameSize = Math.abs(l.size - prev.size) <= 0.1 * prev.size;
      // A continuation starts under the item's text, under its label, or anywhere between (a stretched
      // gap after an inline label); a paragraph's, at its left edge or left of an indented first line.
      const first = para.first;
      const aligned =
        Math.abs(l.x0 - prev.x0) <= tol ||
        (first.labelled
          ? l.x0 >= first.x0 - tol && l.x0 <= Math.max(first.textX, first.x0) + tol
          : l.x0 <= first.x0 + tol && l.x0 >= first.x0 - 4 * l.size);
      const sameFlow = l.region === prev.region;
      const tight = !sameFlow || (l.y > prev.y && l.y - prev.y <= leading * prev.size * 1.3);
      const per = (prev.x1 - prev.x0) / Math.max(1, prev.text.length);
      const firstWord = (l.text.split(/\s/)[0] ?? "").replace(/<\/?sup>/g, "");
      const full =
        prev.x1 + per * (firstWord.length + 1) >= rightOf(prev) - 0.5 * prev.size ||
        (/\p{L}-$/u.test(prev.text) && /^\p{Ll}/u.test(l.text));
      if (sameSize && aligned && tight && full) {
        joinLine(para.parts, l.text, dict);
        para.last = l;
        continue;
      }
    }
    flush();
    para = { first: l, last: l, parts: [l.text] };
  }
  flush();

  // Indentation levels from the left edges of paragraphs and items, per region.
  const regionLeft = new Map<number, number>();
  // The main column's left edge: the leftmost edge that at least two paragraphs share.
  const lefts = blocks
    .filter((b) => mainRegions.has(b.region) && !b.table)
    .map((b) => b.x0)
    .sort((a, b) => a - b);
  let mainLeft: number | undefined = lefts[0];
  for (let i = 0; i + 1 < lefts.length; i++) {
    if ((lefts[i + 1] as number) - (lefts[i] as number) <= 0.5 * body) {
      mainLeft = lefts[i];
      break;
    }
  }
  for (const b of blocks) {
    const cur = regionLeft.get(b.region);
    regionLeft.set(b.region, cur === undefined ? b.x0 : Math.min(cur, b.x0));
  }
  const out: Block[] = blocks.map((b) => ({
    text: b.text,
    x0: b.x0,
    relX: Math.max(
      0,
      b.x0 -
        (mainRegions.has(b.region) && mainLeft !== undefined ? mainLeft : (regionLeft.get(b.region) ?? b.x0)),
    ),
    labelled: b.labelled,
    table: b.table,
  }));
  const tolX = 0.5 * body;
  const xs = out
    .filter((b) => !b.table)
    .map((b) => b.relX)
    .sort((a, b) => a - b);
  const clusters: { x: number; n: number; labelled: boolean }[] = [];
  for (const x of xs) {
    const last = clusters[clusters.length - 1];
    if (last && x - last.x <= tolX) last.n++;
    else clusters.push({ x, n: 1, labelled: false });
  }
  /** Index of the last entry of sorted `xs` at or below `x` (−1 when none). */
  const atOrBelow = (sorted: number[], x: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid] as number) <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  };
  const clusterXs = clusters.map((cl) => cl.x);
  for (const b of out) {
    if (!b.labelled) continue;
    const cl = clusters[atOrBelow(clusterXs, b.relX + tolX)];
    if (cl && Math.abs(cl.x - b.relX) <= tolX) cl.labelled = true;
  }
  // Levels are the left edges where list items start (and the margin); other paragraphs take the
  // level of the nearest such edge at or left of them.
  const levels = clusters.filter((cl) => cl.x <= tolX || cl.labelled).map((cl) => cl.x);
  const levelOf = (x: number) => Math.min(Math.max(0, atOrBelow(levels, x + tolX)), 8);

  const joined = rejoinSplitWords(
    out.map((b) => b.text),
    splits,
  );
  out.forEach((b, k) => {
    b.text = joined[k] as string;
  });
  const outLines: string[] = [];
  let prev: Block | undefined;
  for (const b of out) {
    const together = prev && ((prev.labelled && b.labelled) || (prev.table && b.table));
    if (prev && !together) outLines.push("");
    const indent = b.table ? 0 : 4 * levelOf(b.relX);
    outLines.push(" ".repeat(indent) + b.text);
    prev = b;
  }

  const notes: string[] = [];
  if (c.headerLines > 0)
    notes.push(`running headers and footers removed: ${c.headerLines} lines on ${c.headerPages.size} pages`);
  if (c.watermark + c.rotated > 0)
    notes.push(`watermark text removed: ${c.watermark} large and ${c.rotated} rotated text items`);
  if (c.artifact > 0) notes.push(`${c.artifact} text items marked as page artifacts removed`);
  if (c.debris > 0) notes.push(`${c.debris} stray characters removed`);
  if (c.duplicate > 0) notes.push(`${c.duplicate} text items drawn twice (bold effect) read once`);
  if (c.sidebarLines > 0)
    notes.push(`sidebar text removed: ${c.sidebarLines} lines on ${c.sidebarPages.size} pages`);
  if (c.columnPages.size > 0) notes.push(`${c.columnPages.size} pages read as two columns`);
  return { text: outLines.length ? `${outLines.join("\n")}\n` : "", notes };
}
