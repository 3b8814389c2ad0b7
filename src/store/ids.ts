/**
 * Identifiers of stored rows that sort in the order they were made (issues 13 and 15).
 */
import { randomUUID } from "node:crypto";

const MAX_MS = 2 ** 48 - 1;

/**
 * A UUID version 7 (RFC 9562 §5.7): the 48-bit Unix time in milliseconds `ms`, then 74 random bits.
 * A request's id is the key of the requests, determinations and events indexes: random (version 4)
 * ids put each new request on a random page of each, so every commit rewrote pages all over them
 * (SQLite's WAL, PostgreSQL's full-page writes) and a scan in the order received read them at random;
 * ids that follow the clock append. The time is no secret: the request carries when it was received.
 *
 * The random bits are those of a version 4 UUID (`randomUUID`, which draws from a cached pool: a
 * `randomFillSync` per id cost 15 µs), after its version digit; its variant bits are version 7's too.
 */
export function timeOrderedId(ms: number): string {
  const t = Math.max(0, Math.min(Math.floor(ms), MAX_MS))
    .toString(16)
    .padStart(12, "0");
  // randomUUID(): xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx; from index 15: xxx-yxxx-xxxxxxxxxxxx.
  return `${t.slice(0, 8)}-${t.slice(8)}-7${randomUUID().slice(15)}`;
}
