/**
 * The seeded random source and syllables shared by the ingester's generated-document tests (property,
 * format families, format writers): one seed makes one document, the same on every run.
 */

/** mulberry32: one seed, one document. */
export class Rand {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) | 0;
    let t = Math.imul(this.a ^ (this.a >>> 15), 1 | this.a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Syllables of made-up words: no policy vocabulary, so generated text never reads as a quantifier. */
export const SYLLABLES =
  "ba ko ri tun mel sor vaz pel dro quo zen lu fam tor nek gal bre sto ful hap jor wen yas pri glo tam rek sun bol fer".split(
    " ",
  );

/**
 * Hard-wraps a line at spaces as a document prints it, keeping `> 3`, `≥ 50%` whole (a wrapped line
 * starting "3." would read as a label).
 */
export function wrap(text: string, width: number): string[] {
  const tokens = text.split(" ").reduce<string[]>((acc, t) => {
    const prev = acc[acc.length - 1];
    if (prev === ">" || prev === "≥" || prev === "≤") acc[acc.length - 1] = `${prev} ${t}`;
    else acc.push(t);
    return acc;
  }, []);
  const out: string[] = [];
  let cur = "";
  for (const t of tokens) {
    if (cur && cur.length + 1 + t.length > width) {
      out.push(cur);
      cur = t;
    } else cur = cur ? `${cur} ${t}` : t;
  }
  if (cur) out.push(cur);
  return out;
}
