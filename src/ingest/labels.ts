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
}

const LABEL = /^(?:\(([A-Za-z]{1,6}|\d{1,3})\)|([A-Za-z]{1,6}|\d{1,3})[.)])(?:\s+|$)/;

/** Reads a list label at the start of a (cleaned) line: `I.`, `A.`, `1.`, `a)`, `(ii)`. */
export function parseLabel(text: string): ParsedLabel | undefined {
  const m = LABEL.exec(text);
  if (!m) return undefined;
  const token = (m[1] ?? m[2]) as string;
  const candidates = labelCandidates(token);
  if (candidates.length === 0) return undefined;
  return { token, candidates, rest: text.slice(m[0].length) };
}
