/**
 * Inline cleaning of one line of a policy document (SPEC 1.2): markdown emphasis and escapes, links,
 * HTML tags, LaTeX math, Word bookmarks. The result is plain text, except that an escaped star (`\*`)
 * survives as {@link ESC_STAR} so that note markers can be told from emphasis.
 */

/** An escaped `\*`: a literal star (a note or code marker), never emphasis. */
export const ESC_STAR = "\uE000";
const ESC_BS = "\uE001";
const ESC_DOLLAR = "\uE002";
/** Other escaped ASCII punctuation is carried as U+F000 + its code until cleaning ends. */
const ESC_BASE = 0xf000;

const LATEX: Record<string, string> = {
  geq: "≥",
  ge: "≥",
  geqslant: "≥",
  leq: "≤",
  le: "≤",
  leqslant: "≤",
  neq: "≠",
  ne: "≠",
  gt: ">",
  lt: "<",
  times: "×",
  pm: "±",
  approx: "≈",
  sim: "~",
  cdot: "·",
  circ: "°",
  degree: "°",
  mu: "µ",
  alpha: "α",
  beta: "β",
  gamma: "γ",
  delta: "δ",
  ldots: "…",
  dots: "…",
  infty: "∞",
  to: "→",
  rightarrow: "→",
  leftarrow: "←",
  le_: "≤",
};

/** `$\geq 50\%$` → `≥ 50%`. */
function convertMath(inner: string): string {
  return inner
    .replace(/\\(?:text|textrm|textbf|textit|mathrm|mathbf|operatorname)\{([^{}]*)\}/g, "$1")
    .replace(/\\([a-zA-Z]+)/g, (_m, name: string) => LATEX[name] ?? name)
    .replace(/\\([%&#_{}$])/g, "$1")
    .replace(/\\[,;:! ]/g, " ")
    .replace(/\^\{([^{}]*)\}/g, "$1")
    .replace(/_\{([^{}]*)\}/g, "$1")
    .replace(/[{}]/g, "");
}

function isMath(inner: string): boolean {
  return /\\[a-zA-Z%]/.test(inner) || /^[\s\d.,%<>=+\-−≥≤]+$/.test(inner);
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  ndash: "–",
  mdash: "—",
  rsquo: "’",
  lsquo: "‘",
  rdquo: "”",
  ldquo: "“",
  reg: "®",
  trade: "™",
  copy: "©",
  ge: "≥",
  le: "≤",
};

function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});/g, (m, e: string) => {
    if (e.startsWith("#x") || e.startsWith("#X")) {
      const cp = Number.parseInt(e.slice(2), 16);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    if (e.startsWith("#")) {
      const cp = Number.parseInt(e.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

const TAGS =
  /<\/?(?:b|i|u|em|strong|span|font|sub|sup|s|strike|del|ins|mark|small|big|p|a|div|code|br|hr)\b[^<>]{0,200}>/gi;

/**
 * Drops Word bookmarks (`[bookmark: …]`). Only up to the last `]`: past it, every unclosed
 * "[bookmark:" would scan to the end of the line (quadratic in a line of them).
 */
export function dropBookmarks(s: string): string {
  const end = s.lastIndexOf("]") + 1;
  return end === 0 ? s : s.slice(0, end).replace(/\[bookmark:[^\]]*\]/gi, "") + s.slice(end);
}

/** Emphasis stripping is quadratic in the worst case; beyond this length a line is prose anyway. */
const MAX_EMPHASIS_LINE = 5000;

/**
 * Cleans one line (or table cell): Word bookmarks, LaTeX math, markdown escapes, links, superscripts,
 * HTML tags and entities, bold/italic emphasis. Whitespace is collapsed. Stars that may be note
 * markers are kept: an escaped star as {@link ESC_STAR}, an unpaired star as `*`.
 */
/**
 * A superscript's text as read (QA pass 5): a mark (®, †) kept; an ordinal after a digit ("2<sup>nd</sup>"
 * → "2nd") and an exponent of ten or of a length unit ("10<sup>9</sup>/L" → "10^9/L", "kg/m<sup>2</sup>"
 * → "kg/m^2") kept, since dropped they changed the criterion's meaning; anything else is a footnote
 * number, dropped.
 */
function superscript(inner: string, before: string): string {
  if (/^[\s®™©*†‡§]+$/.test(inner)) return inner;
  const t = inner.trim();
  if (/^(?:st|nd|rd|th)$/i.test(t) && /\d$/.test(before)) return t;
  if (
    /^[-−]?\d{1,2}$/.test(t) &&
    (/(?:^|[^\d.,])10$/.test(before) || /(?:^|[\s/(·])(?:m|cm|mm|km|ft|in|[μµ]m)$/.test(before))
  )
    return `^${t}`;
  return "";
}

/** Non-breaking spaces: read as spaces (the other characters of that class are invisible). */
const SPACE_LIKE = new Set(["\u00a0", "\u2007", "\u202f"]);

export function cleanInline(input: string): string {
  let s = input;
  if (s.includes("[bookmark")) s = dropBookmarks(s);
  if (s.includes("\\")) s = s.replace(/\\\\/g, ESC_BS).replace(/\\\$/g, ESC_DOLLAR);
  if (s.includes("$")) {
    s = s.replace(/\$([^$\n]{1,200})\$/g, (m, inner: string) => (isMath(inner) ? convertMath(inner) : m));
  }
  if (s.includes("\\")) {
    // Escaped punctuation is literal: hidden from the link, tag and emphasis rules below.
    s = s
      .replace(/\\\*/g, ESC_STAR)
      .replace(/\\([!-/:-@[-`{-~])/g, (_m, c: string) => String.fromCharCode(ESC_BASE + c.charCodeAt(0)));
  }
  if (s.includes("](")) {
    // Bounded: an unclosed "[a](" run must not make the scan quadratic.
    s = s
      .replace(/!\[[^\][]{0,500}\]\([^()\s]{0,2000}\)/g, "")
      .replace(/\[([^\][]{0,500})\]\([^()\s]{0,2000}\)/g, "$1");
  }
  if (s.includes("<")) {
    s = s
      .replace(/<((?:https?|ftp|mailto):[^<>\s]+)>/gi, "$1")
      .replace(/<sup>([^<]{0,200})<\/sup>/gi, (_m, inner: string, at: number, whole: string) =>
        superscript(inner, whole.slice(Math.max(0, at - 12), at)),
      )
      .replace(/<br\s*\/?>/gi, " ")
      .replace(TAGS, "");
  }
  if (s.includes("^{")) s = s.replace(/\^\{[^{}]*\}/g, "");
  s = decodeEntities(s);
  if (s.includes("*") || s.includes("_")) s = stripEmphasis(s);
  s = s
    // Non-breaking spaces are spaces; entities decoded above may be invisible characters (&#8203;,
    // &shy;): nothing, not a space. One pass for both.
    .replace(/[\u00a0\u2007\u202f\u00ad\u200b-\u200d\u2060\ufeff]/g, (c) => (SPACE_LIKE.has(c) ? " " : ""))
    .replace(/\s+/g, " ")
    // After the collapse: on a long run of spaces `\s+([®™©])` would retry at every space (quadratic).
    .replace(/ ([®™©])/g, "$1")
    .trim();
  s = s.replaceAll(ESC_BS, "\\").replaceAll(ESC_DOLLAR, "$");
  if (/[\uF000-\uF07F]/.test(s))
    s = s.replace(/[\uF000-\uF07F]/g, (c) => String.fromCharCode(c.charCodeAt(0) - ESC_BASE));
  return s;
}

/**
 * An emphasis rule (opener, lazy `.*?` run, closer) and where its matches can end: `last` finds the
 * last character of each run that a closer follows, `close` is the closer's length.
 */
interface EmphasisRule {
  rule: RegExp;
  to: string;
  last: RegExp;
  close: number;
}

const BOLD: EmphasisRule = {
  rule: /\*\*(?=[^\s*])(.*?[^\s*])\*\*/g,
  to: "$1",
  last: /[^\s*](?=\*\*)/g,
  close: 2,
};
const BOLD_UNDERSCORE: EmphasisRule = { rule: /__(?=\S)(.*?\S)__/g, to: "$1", last: /\S(?=__)/g, close: 2 };
const ITALIC: EmphasisRule = {
  rule: /(^|[\s([{"'“‘/-])\*(?=[^\s*])(.*?[^\s*])\*(?=$|[\s).,;:!?\]}”’'"/-])/g,
  to: "$1$2",
  last: /[^\s*](?=\*(?:$|[\s).,;:!?\]}”’'"/-]))/g,
  close: 1,
};
const ITALIC_UNDERSCORE: EmphasisRule = {
  rule: /(^|\s)_(?=[^\s_])(.*?[^\s_])_(?=$|[\s).,;:!?])/g,
  to: "$1$2",
  last: /[^\s_](?=_(?:$|[\s).,;:!?]))/g,
  close: 1,
};

/**
 * `s.replace(e.rule, e.to)` in linear time. An opener with no closer after it makes the lazy run scan
 * to the end of the line, from every such opener (quadratic); so the rule is applied only up to the
 * end of the last closer, past which no match can end. Line terminators (which `.` does not cross) cut
 * the text into pieces replaced one by one: at a terminator the rules' `^` and `$` read as the white
 * space it is.
 */
function replaceEmphasis(s: string, e: EmphasisRule): string {
  if (/[\n\r\u2028\u2029]/.test(s))
    return s
      .split(/([\n\r\u2028\u2029])/)
      .map((piece, i) => (i % 2 === 1 ? piece : replaceEmphasis(piece, e)))
      .join("");
  let end = -1;
  e.last.lastIndex = 0;
  for (let m = e.last.exec(s); m; m = e.last.exec(s)) end = m.index + 1 + e.close;
  return end < 0 ? s : s.slice(0, end).replace(e.rule, e.to) + s.slice(end);
}

function stripEmphasis(input: string): string {
  let s = input;
  if (s.length > MAX_EMPHASIS_LINE) return s.replace(/\*\*+/g, "");
  if (s.includes("**")) s = replaceEmphasis(s.replace(/\*{4,}/g, "** **"), BOLD).replace(/\*\*+/g, "");
  if (s.includes("__")) s = replaceEmphasis(s, BOLD_UNDERSCORE);
  if (s.includes("*")) s = replaceEmphasis(s, ITALIC);
  if (s.includes("_")) s = replaceEmphasis(s, ITALIC_UNDERSCORE);
  return s;
}

/**
 * Final form of prose text: stars left over from emphasis that spans lines are dropped, escaped stars
 * become literal stars.
 */
export const finishText: (s: string) => string = memoShort(finish);

/**
 * A bounded memo for a pure function of short strings: the same short lines are read again and again
 * (by each reader of the line model) and documents repeat them (markers, bullets, headers), so the
 * work stays linear on a document of a million tiny lines (issue 12). Longer strings are computed.
 */
export function memoShort(
  fn: (s: string) => string,
  maxLength = 80,
  maxEntries = 4096,
): (s: string) => string {
  const memo = new Map<string, string>();
  return (s: string) => {
    if (s.length > maxLength) return fn(s);
    let out = memo.get(s);
    if (out === undefined) {
      if (memo.size >= maxEntries) memo.clear();
      out = fn(s);
      memo.set(s, out);
    }
    return out;
  };
}

function finish(s: string): string {
  let t = s;
  // `(?<!\*)`: a run of stars is tried once, not from each of its stars (quadratic on a long run).
  if (t.includes("*")) t = t.replace(/(^|\s)\*+/g, "$1").replace(/(?<!\*)\*+(?=\s|$)/g, "");
  if (t.includes(ESC_STAR)) t = t.replaceAll(ESC_STAR, "*");
  if (!spacedOnce(t)) t = t.replace(/\s+/g, " ");
  // Space left inside brackets or before a comma by dropped markup (redline deletions, superscripts).
  if (/[([] | [)\],;]/.test(t))
    t = t.replace(/([([]) | ([)\]])| ([,;])(?= |$)/g, (_m, a, b, c) => a ?? b ?? c);
  return t.trim();
}

const MARKER_CHARS = new Set(["*", ESC_STAR, "†", "‡"]);
const TRAIL_PUNCT = new Set([";", ".", ",", ":", " ", "-", "–"]);

/**
 * Splits a trailing note marker off a criterion's text (`…side effects;\*` → marker `*`). Returns the
 * text without the marker (still unfinished) and the marker, if any.
 */
export function takeMarker(s: string): { text: string; marker?: string } {
  let end = s.length;
  while (end > 0 && TRAIL_PUNCT.has(s[end - 1] as string)) end--;
  if (end === 0 || !MARKER_CHARS.has(s[end - 1] as string)) return { text: s };
  const ch = s[end - 1] as string;
  const marker = ch === ESC_STAR ? "*" : ch;
  let start = end - 1;
  while (start > 0 && s[start - 1] === ch) start--;
  return { text: s.slice(0, start) + s.slice(end), marker };
}

/**
 * Strips what trails a criterion's own words: `;`, `.`, `,`, `:`, a joiner `and`/`or`, stray hyphens
 * left by redlines (`symptoms-;`). Returns the joiner so lint can compare it with the lead-in.
 */
export function stripTrailing(s: string): { text: string; joiner?: "and" | "or" } {
  let t = s.trim();
  let joiner: "and" | "or" | undefined;
  for (;;) {
    const before = t;
    let end = t.length;
    while (end > 0 && TRAIL_PUNCT.has(t[end - 1] as string)) end--;
    t = t.slice(0, end);
    const m = /(?:^|\s)(and|or|and\/or)$/i.exec(t);
    if (m) {
      const j = (m[1] as string).toLowerCase();
      if (joiner === undefined) joiner = j === "or" || j === "and/or" ? "or" : "and";
      t = t.slice(0, m.index).trimEnd();
    }
    if (t === before) break;
  }
  return joiner ? { text: t, joiner } : { text: t };
}

/**
 * A criterion's own words from its printed text: joiner, note marker and trailing punctuation peeled
 * off in whichever order they were printed (`…effects;\*`, `…effects\*; and`).
 */
export function criterionText(raw: string): { text: string; marker?: string; joiner?: "and" | "or" } {
  const first = stripTrailing(raw);
  const { text: unmarked, marker } = takeMarker(first.text);
  const second = stripTrailing(finishText(unmarked));
  const joiner = first.joiner ?? second.joiner;
  return {
    text: second.text,
    ...(marker ? { marker } : {}),
    ...(joiner ? { joiner } : {}),
  };
}

/**
 * `re.exec(text)` for a pattern whose matches end with a lazy run and then `end` (a global pattern): on
 * the text up to the end of its last `end`, past which no match can end. There a start of the pattern
 * with no `end` after it would make the lazy run scan to the end of the text, from each start.
 */
export function execUpTo(re: RegExp, end: RegExp, text: string): RegExpExecArray | null {
  let to = -1;
  end.lastIndex = 0;
  for (let m = end.exec(text); m; m = end.exec(text)) to = m.index + m[0].length;
  return to < 0 ? null : re.exec(text.slice(0, to));
}

export function collapse(s: string): string {
  return (spacedOnce(s) ? s : s.replace(/\s+/g, " ")).trim();
}

/** Whether `c` is a JavaScript `\s` character (the class `/\s/` matches). */
function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * Whether `s.replace(/\s+/g, " ")` would return `s` unchanged (every white space is one plain space):
 * most lines already are, and the replace allocates a new string for each (issue 12: the 2 MB ingest
 * spent a fifth of its time in that replace and the garbage it leaves).
 */
export function spacedOnce(s: string): boolean {
  let prev = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && !isSpace(c)) {
      prev = false;
      continue;
    }
    if (c !== 0x20 || prev) return false;
    prev = true;
  }
  return true;
}
