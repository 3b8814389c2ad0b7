/** Text folding shared by question identity (SPEC 2.2 "One question, several places") and diffs. */

const ARTICLES = new Set(["a", "an", "the"]);

/**
 * The key under which criteria of one policy version are one question: case, white space,
 * punctuation and the articles a/an/the folded away (SPEC 2.2).
 */
export function questionKey(text: string): string {
  const words = text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\u2018\u2019\u201c\u201d'"`]/g, "")
    .replace(/[^\p{L}\p{N}%≥≤<>=+]+/gu, " ")
    .split(" ")
    .filter((w) => w.length > 0 && !ARTICLES.has(w));
  return words.join(" ");
}

/** Control characters other than tab, line feed and carriage return: C0, DEL and C1. */
function isControl(c: number): boolean {
  return (c < 32 && c !== 9 && c !== 10 && c !== 13) || (c >= 0x7f && c <= 0x9f);
}

/**
 * Characters that show nothing: white space, zero-width and format characters (ZWSP/ZWNJ/ZWJ, bidi
 * marks and overrides, word joiner, BOM, soft hyphen, Hangul fillers, the Mongolian vowel separator).
 */
function isInvisible(c: number): boolean {
  if (c <= 32) return true; // controls are refused before this is asked; space and tab/LF/CR
  if (c < 0xa0) return c >= 0x7f; // DEL, C1 (NEL among them)
  return (
    c === 0xa0 ||
    c === 0xad ||
    c === 0x34f ||
    c === 0x61c ||
    c === 0x115f ||
    c === 0x1160 ||
    c === 0x1680 ||
    c === 0x17b4 ||
    c === 0x17b5 ||
    c === 0x180e ||
    (c >= 0x2000 && c <= 0x200f) ||
    (c >= 0x2028 && c <= 0x202f) ||
    (c >= 0x205f && c <= 0x206f) ||
    c === 0x3000 ||
    c === 0x3164 ||
    c === 0xfeff ||
    c === 0xffa0 ||
    (c >= 0xfff9 && c <= 0xfffb)
  );
}

/**
 * Why `s` is not acceptable as free text a person signs or reads (a decision's reason, a name), or
 * `undefined`: a control character (NUL included; tab and line breaks are allowed), a lone UTF-16
 * surrogate, or fewer than `minVisible` characters once white space, zero-width and format characters
 * are left out (issue 13: reasons of zero-width or NUL characters were signed). One pass over the
 * character codes, no regex.
 */
export function freeTextProblem(s: string, minVisible = 1): string | undefined {
  let visible = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isControl(c)) {
      return `must not contain control characters (U+${c.toString(16).toUpperCase().padStart(4, "0")} at character ${i + 1})`;
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff))
        return `is not valid Unicode text (a lone surrogate at character ${i + 1})`;
      i++;
      // U+E0000–U+E007F (tag characters) show nothing either.
      if (!(c === 0xdb40 && d <= 0xdc7f)) visible++;
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff)
      return `is not valid Unicode text (a lone surrogate at character ${i + 1})`;
    if (!isInvisible(c)) visible++;
  }
  if (visible < minVisible) {
    return visible === 0 && s.length > 0
      ? "has no visible characters (only white space, zero-width or format characters)"
      : `must have at least ${minVisible} visible character${minVisible === 1 ? "" : "s"}`;
  }
  return undefined;
}
