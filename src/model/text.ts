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
