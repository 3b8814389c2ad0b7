/**
 * Strict JSON (SPEC 5, issue 13): what `JSON.parse` lets through silently and a reader of medical
 * requests must not — a key repeated within one object (the last would win: an "active infection:
 * yes" overwritten by a later "no"), nesting deep enough to overflow a recursive consumer, and
 * prototype-poisoning keys. One check, shared by the service's body parser and the CLI's case reader,
 * so a case decides the same way through either. Linear in the text.
 */
import { InputError } from "./errors.js";

/** Rejects keys that would poison prototypes if some consumer merged the object naively. */
function hostileKey(key: string, value: unknown): boolean {
  if (key === "__proto__") return true;
  return key === "constructor" && value !== null && typeof value === "object" && "prototype" in value;
}

/** Deepest nesting of objects and arrays a JSON body may have (issue 13: 10,000 levels overflowed the stack). */
export const MAX_JSON_DEPTH = 64;

/**
 * Own keys of every object in a parsed value, or -1 once it nests deeper than
 * {@link MAX_JSON_DEPTH} (so this recursion, and every later one, stays shallow; `JSON.parse` itself
 * does not recurse, so it can build the value first). Throws on a prototype-poisoning key, which
 * `JSON.parse` keeps as an own key that a naive merge would follow.
 */
function countKeys(v: object, depth: number): number {
  if (depth > MAX_JSON_DEPTH) return -1;
  let n = 0;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === "object" && x !== null) {
        const m = countKeys(x, depth + 1);
        if (m < 0) return -1;
        n += m;
      }
    }
    return n;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    n++;
    const x = o[k];
    if (hostileKey(k, x)) {
      throw new InputError(`${k}: JSON key "${k}" is not allowed (it could poison prototypes)`, { field: k });
    }
    if (typeof x === "object" && x !== null) {
      const m = countKeys(x, depth + 1);
      if (m < 0) return -1;
      n += m;
    }
  }
  return n;
}

/** The path to the first value nested deeper than {@link MAX_JSON_DEPTH} (the slow pass, on refusal only). */
function deepPath(v: unknown, depth: number, path: string[]): string[] | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  if (depth > MAX_JSON_DEPTH) return path;
  for (const [k, x] of Object.entries(v)) {
    const p = deepPath(x, depth + 1, [...path, k]);
    if (p) return p;
  }
  return undefined;
}

/**
 * Whether the text provably has exactly `keys` object members (so no key repeats), by native
 * `indexOf` jumps from colon to colon: a member's colon follows its key's closing quote, unless white
 * space comes between (then this gives up); a colon inside a string follows a quote only when that
 * quote is escaped, which makes the count larger, never smaller. Otherwise (or when the counts differ)
 * {@link countMembers} decides.
 */
function surelyMembers(text: string, keys: number): boolean {
  let n = 0;
  for (let i = text.indexOf(":"); i > 0; i = text.indexOf(":", i + 1)) {
    const c = text.charCodeAt(i - 1);
    if (c === 34) n++;
    else if (isSpace(c)) return false;
  }
  return n === keys;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/**
 * The object members of a valid JSON text: its `:` outside strings, in one `charCodeAt` pass (strings
 * skipped with `indexOf`; each backslash run is counted once, at the quote that ends it).
 */
function countMembers(text: string): number {
  let members = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) i = stringEnd(text, i);
    else if (c === 58) members++;
  }
  return members;
}

/** Index of the quote that closes the string opening at `i` (the text's end when it is unterminated). */
function stringEnd(text: string, i: number): number {
  let j = i;
  for (;;) {
    j = text.indexOf('"', j + 1);
    if (j < 0) return text.length;
    let k = j - 1;
    while (text.charCodeAt(k) === 92) k--;
    if ((j - 1 - k) % 2 === 0) return j;
  }
}

const shown = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}…` : s);

/**
 * The slow pass, taken only when a key repeats: walks the (valid) text keeping each open object's keys
 * and returns the path to the first repeated one (`member.state`, `service.codes.0`). Linear: every
 * key is sliced and hashed once.
 */
function repeatedKey(text: string): { path: string[]; key: string } | undefined {
  const stack: { seg: string; keys: Set<string> | undefined; index: number; lastKey: string }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 34) {
      const j = stringEnd(text, i);
      if (top?.keys) {
        let m = j + 1;
        while (isSpace(text.charCodeAt(m))) m++;
        if (text.charCodeAt(m) === 58) {
          const raw = text.slice(i + 1, j);
          const key = raw.includes("\\") ? (JSON.parse(text.slice(i, j + 1)) as string) : raw;
          if (top.keys.has(key)) return { path: [...stack.slice(1).map((f) => f.seg), key], key };
          top.keys.add(key);
          top.lastKey = key;
        }
      }
      i = j;
    } else if (c === 123 || c === 91) {
      const seg = top === undefined ? "" : top.keys ? top.lastKey : String(top.index);
      stack.push({ seg, keys: c === 123 ? new Set() : undefined, index: 0, lastKey: "" });
    } else if (c === 125 || c === 93) stack.pop();
    else if (c === 44 && top && !top.keys) top.index++;
  }
  return undefined;
}

/** A path as the field names errors use (`member.state`, `service.codes.0`), bounded for messages. */
function fieldOf(path: string[]): string {
  const f = path.join(".");
  return f.length > 200 ? `${f.slice(0, 200)}…` : f;
}

/**
 * Checks a value `JSON.parse` made from `text` (SPEC 5, issue 13): refused, each as an InputError
 * naming the place (`where.field`), nesting deeper than {@link MAX_JSON_DEPTH}, a key repeated within
 * one object, and prototype-poisoning keys; `what` names the text in messages ("request body", "the
 * case"). Cheap: one walk of the value counting its keys and depth, and native substring scans that
 * prove the text has no more members than that; only when they cannot (white space before a colon, an
 * escaped quote before one, a repeated key) a `charCodeAt` pass counts the members, and only on a
 * difference a slower pass names the repeated key. The walk replaced a `JSON.parse` reviver, which
 * recursed and was slow.
 */
export function checkJson(text: string, value: unknown, what = "request body"): void {
  if (typeof value !== "object" || value === null) return;
  const keys = countKeys(value, 1);
  if (keys < 0) {
    const field = fieldOf(deepPath(value, 1, []) ?? []);
    throw new InputError(
      `${field ? `${field}: ` : ""}${what} is nested deeper than ${MAX_JSON_DEPTH} levels`,
      field ? { field } : {},
    );
  }
  if (keys > 0 && !surelyMembers(text, keys) && countMembers(text) !== keys) {
    const dup = repeatedKey(text);
    if (dup) {
      const field = fieldOf(dup.path);
      throw new InputError(
        `${field}: key "${shown(dup.key)}" appears twice in one object (duplicate JSON keys are refused, not resolved by the last one)`,
        { field },
      );
    }
  }
}
