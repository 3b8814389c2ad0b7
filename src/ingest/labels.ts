/**
 * List labels (SPEC 1.4): the five label styles of policy lists, reading a printed label into the
 * styles it could belong to, and writing a position in a style (criterion ids are positions, not
 * printed labels).
 */
import type { LabelStyle } from "../model/index.js";

/** Canonical nesting order of label styles: I → A → 1 → a → i. */
export const STYLE_ORDER: readonly LabelStyle[] = ["roman", "upper", "digit", "lower", "lowerRoman"];

export interface LabelCandidate {
  style: LabelStyle;
  value: number;
}

/** Roman numerals up to 39: policies never number sections or sub-items beyond that, and the cap keeps
 * C, D, L and M letters from being read as numerals. */
const ROMAN = /^X{0,3}(?:IX|IV|V?I{0,3})$/;
const ROMAN_VALUES: Record<string, number> = { I: 1, V: 5, X: 10 };

export function romanValue(s: string): number | undefined {
  const u = s.toUpperCase();
  if (u.length === 0 || !ROMAN.test(u)) return undefined;
  let total = 0;
  for (let i = 0; i < u.length; i++) {
    const v = ROMAN_VALUES[u[i] as string] ?? 0;
    const next = ROMAN_VALUES[u[i + 1] as string] ?? 0;
    total += v < next ? -v : v;
  }
  return total;
}

export function toRoman(n: number): string {
  const table: [number, string][] = [
    [1000, "M"],
    [900, "CM"],
    [500, "D"],
    [400, "CD"],
    [100, "C"],
    [90, "XC"],
    [50, "L"],
    [40, "XL"],
    [10, "X"],
    [9, "IX"],
    [5, "V"],
    [4, "IV"],
    [1, "I"],
  ];
  let out = "";
  let rest = Math.max(1, Math.floor(n));
  for (const [v, s] of table) {
    while (rest >= v) {
      out += s;
      rest -= v;
    }
  }
  return out;
}

/** 1 → A, 26 → Z, 27 → AA (spreadsheet style, for the rare list longer than the alphabet). */
export function toLetters(n: number): string {
  let out = "";
  let rest = Math.max(1, Math.floor(n));
  while (rest > 0) {
    const r = (rest - 1) % 26;
    out = String.fromCharCode(65 + r) + out;
    rest = Math.floor((rest - 1) / 26);
  }
  return out;
}

/** Writes position `n` (1-based) in a label style, as used in criterion ids. */
export function formatLabel(style: LabelStyle, n: number): string {
  switch (style) {
    case "roman":
      return toRoman(n);
    case "upper":
      return toLetters(n);
    case "digit":
      return String(n);
    case "lower":
      return toLetters(n).toLowerCase();
    case "lowerRoman":
      return toRoman(n).toLowerCase();
  }
}

/** The styles a printed label token (without its `.`/`)`) could be, each with its ordinal value. */
export function labelCandidates(token: string): LabelCandidate[] {
  if (/^\d{1,3}$/.test(token)) return [{ style: "digit", value: Number(token) }];
  const out: LabelCandidate[] = [];
  if (/^[A-Z]+$/.test(token)) {
    if (token.length === 1) out.push({ style: "upper", value: token.charCodeAt(0) - 64 });
    const r = romanValue(token);
    if (r !== undefined) out.push({ style: "roman", value: r });
  } else if (/^[a-z]+$/.test(token)) {
    if (token.length === 1) out.push({ style: "lower", value: token.charCodeAt(0) - 96 });
    const r = romanValue(token);
    if (r !== undefined) out.push({ style: "lowerRoman", value: r });
  }
  return out;
}

export interface ParsedLabel {
  token: string;
  candidates: LabelCandidate[];
  rest: string;
  /**
   * A decimal label ("1.2", "1.2.1", "1.1.", "2.3.1)"): its numbers, outermost first. Its candidate is the
   * digit style at its depth, valued by its last number; where it nests is told by its numbers (its
   * parent is the item numbered by all but its last), not by the style order.
   */
  path?: number[];
}

const LABEL = /^(?:\(([A-Za-z]{1,6}|\d{1,3})\)|([A-Za-z]{1,6}|\d{1,3})[.)])(?:\s+|$)/;

/**
 * A decimal label: two to six numbers 1–99 (no leading zero, so "1.05" and the "1.0" of "1.0 Description"
 * are no labels), an optional closing "." or ")", and a space. Each part can be read one way only (no
 * backtracking over untrusted text).
 */
const DECIMAL = /^([1-9]\d?(?:\.[1-9]\d?){1,5})[.)]?\s+/;
/**
 * What a decimal label's words start with: a capital, an opening bracket or quote — a dose or value
 * wrapped onto the line ("1.5 mg/kg per day", "1.2 mL", "0.5%") goes on in lower case or a symbol — and
 * no unit written with a capital ("1.8 Gy per fraction", "2.5 L", "1.5 IU/kg").
 */
const DECIMAL_WORDS = /^[A-Z("“'[]/;
const CAPITAL_UNIT =
  /^(?:c?Gy|Gray|L|IU|U|Units?|[MGk]?Bq|mCi|Ci|[kM]?Hz|J|W|K|MU|MIU|MBq|T|Tesla|SD|SDs|ULN|LLN|IQR|MoM|X)\b/;

function decimalLabel(text: string): ParsedLabel | undefined {
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const rest = text.slice(m[0].length);
  if (!DECIMAL_WORDS.test(rest) || CAPITAL_UNIT.test(rest)) return undefined;
  const token = m[1] as string;
  const path = token.split(".").map(Number);
  return { token, candidates: [{ style: "digit", value: path[path.length - 1] as number }], rest, path };
}

/**
 * The numbers of a decimal number at the start of a line, whatever follows it ("1.1 the member …", "1.5
 * mg/kg"): whether it is a label is for the list to tell (a line whose words start in lower case may be
 * either).
 */
export function decimalNumbers(text: string): number[] | undefined {
  const m = DECIMAL.exec(text);
  return m ? (m[1] as string).split(".").map(Number) : undefined;
}

/**
 * Reads a list label at the start of a (cleaned) line: `I.`, `A.`, `1.`, `a)`, `(ii)`, and decimal
 * labels `1.1`, `1.2.1` (whether one is a label where it stands is the list's to tell: see `path`).
 */
export function parseLabel(text: string): ParsedLabel | undefined {
  // Only a line that starts with a digit and a dot between digits can be decimal (most lines are not).
  const c = text.charCodeAt(0);
  if (c >= 49 && c <= 57) {
    const dot = text.charCodeAt(1) === 46 ? 1 : text.charCodeAt(2) === 46 ? 2 : -1;
    const after = dot > 0 ? text.charCodeAt(dot + 1) : 0;
    if (after >= 49 && after <= 57) return decimalLabel(text);
  }
  const m = LABEL.exec(text);
  if (!m) return undefined;
  const token = (m[1] ?? m[2]) as string;
  const candidates = labelCandidates(token);
  if (candidates.length === 0) return undefined;
  return { token, candidates, rest: text.slice(m[0].length) };
}
