import { isAscii } from "node:buffer";

/**
 * Decodes a byte stream chunk by chunk into text (SPEC 5: NDJSON end to end). A chunk of ASCII — the
 * usual NDJSON — is copied byte for byte (`latin1`) instead of going through the UTF-8 decoder;
 * otherwise it is decoded up to its last complete character and the rest waits for the next chunk.
 * Invalid sequences become U+FFFD, as with `Buffer#toString("utf8")`.
 */
export class Utf8Chunks {
  private tail: Buffer | undefined;

  /** The text of `chunk`, with the bytes of a character cut at the end of the previous one. */
  write(chunk: Buffer): string {
    let b = chunk;
    if (this.tail !== undefined) {
      b = Buffer.concat([this.tail, b]);
      this.tail = undefined;
    }
    if (isAscii(b)) return b.toString("latin1");
    const end = completeEnd(b);
    if (end < b.length) this.tail = Buffer.from(b.subarray(end));
    return b.toString("utf8", 0, end);
  }

  /** What is left at the end of the stream (an incomplete character: U+FFFD). */
  end(): string {
    const t = this.tail;
    this.tail = undefined;
    return t === undefined ? "" : t.toString("utf8");
  }
}

/** Length of `b` up to its last complete UTF-8 character (a cut sequence of 2–4 bytes is left out). */
export function completeEnd(b: Buffer): number {
  const n = b.length;
  for (let i = n - 1; i >= 0 && i >= n - 4; i--) {
    const c = b[i]!;
    if ((c & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return n - i < need ? i : n;
  }
  return n;
}
