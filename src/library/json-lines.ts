import type { Determination } from "../model/index.js";

/**
 * The JSON encoder of determinations (SPEC 3, SPEC 5): JSON Lines for `medpolicy evaluate` on NDJSON
 * (≥ 100,000 cases/s end to end) and, through {@link encodeDetermination}, the service's replies
 * (issue 13: "replies encoded like the CLI's writer"). Here in the library, below both edges. It writes exactly the bytes of `JSON.stringify(value) + "\n"` (UTF-8), straight into a
 * Buffer, and encodes each *deeply frozen* object only once: the shared parts of a determination —
 * policy references, reasons, needed questions, trace nodes of questions and leaf groups — are frozen
 * by the engine and the library, so a determination costs a few copies of cached bytes instead of a
 * stringify and a UTF-8 encoding of 1–5 KB. A property test holds it byte-equal to `JSON.stringify`.
 */

/** Encoded bytes of deeply frozen values; `null` marks a frozen object with a mutable part inside. */
const frozenBytes = new WeakMap<object, Buffer | null>();
/** `"key":` per object key (keys are few: the determination's vocabulary). */
const keyBytes = new Map<string, Buffer>();
const MAX_KEYS = 4096;
/**
 * `,"basis":` and a line's basis, encoded (bases recur: the same string objects case after case);
 * bounded, as bases can carry a member's age.
 */
const basisBytes = new Map<string, Buffer>();
/** As `basisBytes` for the engine, with the determination's closing brace and newline. */
const engineBytes = new Map<string, Buffer>();
const MAX_STRINGS = 4096;

const QUOTE = 0x22;
const COMMA = 0x2c;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Fixed fragments of a determination and its lines, in the key order of SPEC 2.2 (`decide`). */
const F = {
  open: Buffer.from('{"outcome":'),
  id: Buffer.from('{"id":'),
  outcome: Buffer.from(',"outcome":'),
  policy: Buffer.from(',"policy":'),
  reasons: Buffer.from(',"reasons":'),
  needed: Buffer.from(',"needed":'),
  trace: Buffer.from(',"trace":'),
  lines: Buffer.from(',"lines":['),
  code: Buffer.from('{"code":'),
  basis: Buffer.from(',"basis":'),
  referral: Buffer.from(',"referral":'),
  engine: Buffer.from(',"engine":'),
  close: Buffer.from("}\n"),
};

/** Strings `JSON.stringify` would escape: quote, backslash, control characters, lone surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * True when `v` and everything reachable from it is frozen plain data — own data properties only (no
 * getters), an ordinary prototype (so no `toJSON` can appear later) — so its encoding never changes.
 */
function deeplyFrozen(v: object, seen: object[] = []): boolean {
  if (!Object.isFrozen(v) || seen.includes(v)) return false;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return false;
  if (typeof (v as { toJSON?: unknown }).toJSON === "function") return false;
  for (const d of Object.values(Object.getOwnPropertyDescriptors(v))) {
    if (!("value" in d)) return false;
    const c = d.value as unknown;
    if (typeof c === "object" && c !== null) {
      seen.push(v);
      const ok = deeplyFrozen(c, seen);
      seen.pop();
      if (!ok) return false;
    }
  }
  return true;
}

export class JsonLinesWriter {
  private buf: Buffer;
  private pos = 0;
  /** Objects being written (a cycle is a TypeError, as in JSON.stringify). */
  private readonly stack: object[] = [];

  /** `size`: bytes gathered before {@link full} says to flush (one write per batch, not per line). */
  constructor(private readonly size = 1 << 20) {
    this.buf = Buffer.allocUnsafe(size + (size >> 2));
  }

  /** Bytes waiting. */
  get length(): number {
    return this.pos;
  }

  /** At least `size` bytes are waiting. */
  get full(): boolean {
    return this.pos >= this.size;
  }

  /** Appends `JSON.stringify(value)` and a newline (SPEC 3: one determination per line). */
  line(value: unknown): void {
    const start = this.pos;
    try {
      this.value(value, "", true);
    } catch (e) {
      this.pos = start;
      this.stack.length = 0;
      throw e;
    }
    this.room(1);
    this.buf[this.pos++] = NEWLINE;
  }

  /**
   * As {@link line} for a determination (SPEC 2.2), with its keys written from fixed fragments in the
   * order `decide` builds them instead of looked up one by one. A test holds it byte-equal to
   * `JSON.stringify` on every determination of the case suites, so a change of that order shows.
   */
  determination(d: Determination): void {
    const start = this.pos;
    try {
      this.bytes(d.id !== undefined ? F.id : F.open);
      if (d.id !== undefined) {
        this.string(d.id);
        this.bytes(F.outcome);
      }
      this.string(d.outcome);
      let policy = -1;
      if (d.policy !== undefined) {
        this.bytes(F.policy);
        policy = this.pos;
        this.value(d.policy, "policy");
      }
      const policyEnd = this.pos;
      this.bytes(F.reasons);
      const reasons = this.pos;
      this.array(d.reasons);
      const reasonsEnd = this.pos;
      this.bytes(F.needed);
      const needed = this.pos;
      this.array(d.needed);
      const neededEnd = this.pos;
      if (d.trace !== undefined) {
        this.bytes(F.trace);
        this.value(d.trace, "trace");
      }
      this.bytes(F.lines);
      const lines = d.lines;
      for (let i = 0; i < lines.length; i++) {
        if (i > 0) this.byte(COMMA);
        const l = lines[i]!;
        this.bytes(F.code);
        this.string(l.code);
        this.bytes(F.outcome);
        this.string(l.outcome);
        if (l.policy !== undefined) {
          this.bytes(F.policy);
          // What the determination already holds (its deciding line's parts) is copied, not re-encoded.
          if (l.policy === d.policy && policy >= 0) this.again(policy, policyEnd);
          else this.value(l.policy, "policy");
        }
        this.cachedString(l.basis, basisBytes, F.basis);
        this.bytes(F.reasons);
        if (l.reasons === d.reasons) this.again(reasons, reasonsEnd);
        else this.array(l.reasons);
        this.bytes(F.needed);
        if (l.needed === d.needed) this.again(needed, neededEnd);
        else this.array(l.needed);
        if (l.trace !== undefined) {
          this.bytes(F.trace);
          this.value(l.trace, "trace");
        }
        if (l.referral !== undefined) {
          this.bytes(F.referral);
          this.value(l.referral, "referral");
        }
        this.byte(CLOSE_BRACE);
      }
      this.byte(CLOSE_BRACKET);
      if (d.referral !== undefined) {
        this.bytes(F.referral);
        this.value(d.referral, "referral");
      }
      // `,"engine":…}` and the newline in one copy: the engine is the same string on every line.
      this.cachedString(d.engine, engineBytes, F.engine, F.close);
    } catch (e) {
      this.pos = start;
      this.stack.length = 0;
      throw e;
    }
  }

  /** Copies bytes this line already holds, at [from, to). */
  private again(from: number, to: number): void {
    const n = to - from;
    this.room(n);
    const buf = this.buf;
    if (n > 64) {
      buf.copyWithin(this.pos, from, to);
      this.pos += n;
      return;
    }
    let p = this.pos;
    for (let i = from; i < to; i++) buf[p++] = buf[i]!;
    this.pos = p;
  }

  private array(a: readonly unknown[]): void {
    this.byte(OPEN_BRACKET);
    // Reasons and needed questions are the engine's frozen entries: their bytes are looked up
    // directly, unless a `toJSON` on the prototypes could change what JSON.stringify writes.
    const plain = (Object.prototype as { toJSON?: unknown }).toJSON === undefined;
    for (let i = 0; i < a.length; i++) {
      if (i > 0) this.byte(COMMA);
      const x = a[i];
      if (plain && typeof x === "object" && x !== null) {
        const b = frozenBytes.get(x);
        if (b) {
          this.bytes(b);
          continue;
        }
      }
      if (!this.value(x, String(i))) this.text("null");
    }
    this.byte(CLOSE_BRACKET);
  }

  /**
   * As {@link string} for strings that recur (a line's basis, the engine), with the fixed fragment
   * `before` (and `after`) around it: the bases of rules and sections are the same string objects case
   * after case, so their encoding is remembered in `cache`.
   */
  private cachedString(s: string, cache: Map<string, Buffer>, before: Buffer, after?: Buffer): void {
    let b = cache.get(s);
    if (b === undefined) {
      // Kept with the fragments around it: one copy per line instead of three.
      const text = Buffer.from(JSON.stringify(s));
      b = Buffer.concat(after === undefined ? [before, text] : [before, text, after]);
      if (cache.size >= MAX_STRINGS) cache.clear();
      cache.set(s, b);
    }
    this.bytes(b);
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  /**
   * A copy of the bytes written so far, without the last `drop` bytes (a line's newline), and starts
   * over in the same buffer: for one value at a time, where a batch buffer per value would be waste.
   */
  copyOut(drop = 0): Buffer {
    const out = Buffer.allocUnsafe(Math.max(0, this.pos - drop));
    this.buf.copy(out, 0, 0, out.length);
    this.pos = 0;
    return out;
  }

  /** Hands over the bytes written so far (a Buffer the caller now owns) and starts a new batch. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(Math.max(this.size + (this.size >> 2), 64));
    this.pos = 0;
    return out;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  private bytes(b: Buffer): void {
    const n = b.length;
    this.room(n);
    if (n > 32) {
      this.buf.set(b, this.pos);
      this.pos += n;
      return;
    }
    // Short fragments (keys, punctuation) by hand: cheaper than a call into TypedArray#set.
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = b[i]!;
    this.pos = p;
  }

  private string(s: string): void {
    const n = s.length;
    if (n <= 256) {
      // Short ASCII without escapes (ids, codes, outcomes, bases): copied byte by byte, no call into
      // the encoder; anything else falls through to it.
      this.room(n + 2);
      const buf = this.buf;
      let p = this.pos;
      buf[p++] = QUOTE;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x20 || c === QUOTE || c === BACKSLASH || c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === n) {
        buf[p++] = QUOTE;
        this.pos = p;
        return;
      }
    }
    if (NEEDS_ESCAPE.test(s)) {
      this.text(JSON.stringify(s));
      return;
    }
    this.room(n * 3 + 2);
    this.buf[this.pos++] = QUOTE;
    this.pos += this.buf.write(s, this.pos);
    this.buf[this.pos++] = QUOTE;
  }

  private text(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos);
  }

  private key(k: string): void {
    let b = keyBytes.get(k);
    if (b === undefined) {
      b = Buffer.from(`${JSON.stringify(k)}:`);
      if (keyBytes.size < MAX_KEYS) keyBytes.set(k, b);
    }
    this.bytes(b);
  }

  /**
   * Writes the value of property `key` as `JSON.stringify` would (ECMA-262 SerializeJSONProperty:
   * `toJSON(key)` once, boxed primitives unwrapped, then by type); returns false for what an object
   * omits (undefined, functions, symbols), writing nothing. `top` is the value of `line()`: omitted
   * there means `undefined`, which is not a line, so it is rejected.
   */
  private value(input: unknown, key = "", top = false): boolean {
    let v = input;
    if ((typeof v === "object" && v !== null) || typeof v === "bigint") {
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === "function") v = toJSON.call(v, key);
    }
    if (typeof v === "object" && v !== null) {
      if (v instanceof Number) v = Number(v);
      else if (v instanceof String) v = String(v);
      else if (v instanceof Boolean) v = Boolean.prototype.valueOf.call(v);
    }
    switch (typeof v) {
      case "string":
        this.string(v);
        return true;
      case "number":
        this.text(Number.isFinite(v) ? String(v) : "null");
        return true;
      case "boolean":
        this.text(v ? "true" : "false");
        return true;
      case "undefined":
      case "function":
      case "symbol":
        if (top) throw new TypeError("JsonLinesWriter: the value has no JSON form");
        return false;
      case "bigint":
        throw new TypeError("Do not know how to serialize a BigInt");
      default:
        break;
    }
    if (v === null) {
      this.text("null");
      return true;
    }
    const o = v as object;
    if (Object.isFrozen(o)) {
      let b = frozenBytes.get(o);
      if (b === undefined) {
        b = deeplyFrozen(o) ? Buffer.from(JSON.stringify(o)) : null;
        frozenBytes.set(o, b);
      }
      if (b !== null) {
        this.bytes(b);
        return true;
      }
    }
    if (this.stack.includes(o)) throw new TypeError("Converting circular structure to JSON");
    this.stack.push(o);
    if (Array.isArray(o)) {
      this.byte(OPEN_BRACKET);
      for (let i = 0; i < o.length; i++) {
        if (i > 0) this.byte(COMMA);
        if (!this.value(o[i], String(i))) this.text("null");
      }
      this.byte(CLOSE_BRACKET);
    } else {
      this.byte(OPEN_BRACE);
      let first = true;
      const rec = o as Record<string, unknown>;
      const keys = Object.keys(rec);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        // Written optimistically; taken back if the value turns out to have no JSON form.
        const at = this.pos;
        if (!first) this.byte(COMMA);
        this.key(k);
        if (this.value(rec[k], k)) first = false;
        else this.pos = at;
      }
      this.byte(CLOSE_BRACE);
    }
    this.stack.pop();
    return true;
  }
}

/** One writer for single values: encoding is synchronous, so calls never interleave. */
const single = new JsonLinesWriter(1 << 16);

/**
 * The UTF-8 bytes of `JSON.stringify(d)` (no newline) for a determination `decide` returned, encoded
 * as `medpolicy evaluate` encodes its lines (issue 13: the HTTP layer's replies "encoded like the
 * CLI's writer"; SPEC 2.2 key order): the parts the engine shares and freezes (policy references,
 * reasons, needed questions, trace nodes of questions) are encoded once per process and copied.
 * Byte-equal to `JSON.stringify` (json-lines.test.ts); a value `JSON.stringify` rejects (a cycle, a
 * BigInt) throws its TypeError.
 */
export function encodeDetermination(d: Determination): Buffer {
  try {
    single.determination(d);
  } catch (e) {
    single.copyOut();
    throw e;
  }
  return single.copyOut(1);
}

/** As {@link encodeDetermination} for any JSON value (error bodies, lists of determinations). */
export function encodeJson(value: unknown): Buffer {
  try {
    single.line(value);
  } catch (e) {
    single.copyOut();
    throw e;
  }
  return single.copyOut(1);
}
