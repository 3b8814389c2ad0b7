/**
 * Identifiers of stored rows that sort in the order they were made (issue 13 and 15).
 */
import { randomFillSync } from "node:crypto";

/**
 * A UUID version 7 (RFC 9562 §5.7): the 48-bit Unix time in milliseconds `ms`, then 74 random bits.
 * A request's id is the key of the requests, determinations and events indexes: random (version 4)
 * ids put each new request on a random page of each, so every commit rewrote pages all over them
 * (SQLite's WAL, PostgreSQL's full-page writes) and a scan in the order received read them at random;
 * ids that follow the clock append. The time is no secret: the request carries when it was received.
 */
export function timeOrderedId(ms: number): string {
  const b = randomFillSync(Buffer.allocUnsafe(16));
  b.writeUIntBE(Math.max(0, Math.min(Math.floor(ms), 2 ** 48 - 1)), 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
