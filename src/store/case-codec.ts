/**
 * How a stored case is kept (issue 13: ≤ 2 KB per request). Either way the stored text is exactly the
 * canonical JSON that was decided, so the determination recomputed from it is the one decided (SPEC 4).
 * - A case of at most {@link PLAIN_MAX} bytes — nearly all of them: the varied bench cases are 340 B on
 *   average, 600 at the 99th percentile — is kept as its plain JSON (`case_json`). Reading it back costs
 *   nothing but the parse, and a replay reads every case of a policy (issue 15's impact: deflated, a
 *   case took 7.5 µs to inflate and decode against 0.4 to read as text, three quarters of the cost of a
 *   request replayed; measured on 97k stored requests). It costs about 250 B more per request on disk,
 *   inside the budget: at most 768 + about 1,200 for the request's other rows and indexes (the
 *   storage test holds the average of varied requests under 2,048).
 * - A larger case is deflated with a preset dictionary of the case vocabulary (keys, common criterion
 *   ids and values), behind a one-byte format tag (`case_z`, with `case_json` `''`): a case of about 360
 *   bytes takes about 110, so a request stays under the budget for cases of a few KB.
 *
 * A dictionary, once used, can never change (rows written with it must stay readable): a better one
 * gets a new tag, and the old tag keeps decoding with the old dictionary.
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";

/** Format 1: deflate-raw with {@link DICTIONARY_1}. */
const FORMAT_1 = 1;

/** The preset dictionary of format 1 (frozen: see the header). Most frequent text last, as zlib wants. */
const DICTIONARY_1 = Buffer.from(
  '"contraindicated","facts":{"conservativeTherapyWeeks":,"painDurationMonths":,"id":"","expedited":true' +
    '"codes":["27279"],"codes":["62350"],"codes":["62361"],"codes":["62362"],"codes":["62324"]' +
    '{"answers":{"I.A.1":true,"I.A.1.a":true,"I.A.1.b":true,"I.A.1.c":true,"I.A.2":false,"I.A.2.a":true,' +
    '"I.A.2.b":true,"I.A.2.c":true,"I.A.2.d":true,"I.B.1":false,"I.B.2":false,"I.B.3":false,"I.B.4":false,' +
    '"II.A.1":true,"II.B":false},"facts":{},"id":"","member":{"birthDate":"19","lineOfBusiness":"medicaid",' +
    '"state":"TX"},"service":{"codes":["62322"],"dateOfService":"2026-0","expedited":false}}',
  "utf8",
);

/** The largest case kept as plain JSON, in UTF-8 bytes (see the header). */
export const PLAIN_MAX = 768;

/**
 * How a case's canonical JSON is stored (issue 13 and 15): the two columns' values, plain JSON and no
 * bytes up to {@link PLAIN_MAX}, else `''` and {@link encodeCase}'s bytes. Read back with
 * {@link storedCase}.
 */
export function storeCase(json: string): { caseJson: string; caseZ: Buffer | null } {
  // UTF-8 bytes are never fewer than UTF-16 units: a longer string is deflated without counting.
  if (json.length <= PLAIN_MAX && Buffer.byteLength(json) <= PLAIN_MAX)
    return { caseJson: json, caseZ: null };
  return { caseJson: "", caseZ: encodeCase(json) };
}

/**
 * A stored case's canonical JSON from its two columns, whichever way it was kept ({@link storeCase}, or
 * a row written before issue 13: plain JSON, no bytes).
 */
export function storedCase(caseJson: string, caseZ: Uint8Array | null): string {
  return caseJson === "" && caseZ ? decodeCase(caseZ) : caseJson;
}

/** Encodes a case's canonical JSON for storage, deflated (format 1). */
export function encodeCase(json: string): Buffer {
  // A 2 KB window and a small hash (memLevel 2): a case and the dictionary fit the window, and the
  // compressor's state is about 20 KB instead of 256 KB allocated and cleared per stored request
  // (issue 13: 10–20% of the store's CPU per insert). Same format: inflate reads any window size.
  const z = deflateRawSync(json, { level: 9, windowBits: 11, memLevel: 2, dictionary: DICTIONARY_1 });
  const out = Buffer.allocUnsafe(z.length + 1);
  out[0] = FORMAT_1;
  z.copy(out, 1);
  return out;
}

/** Decodes {@link encodeCase}'s bytes back to the exact JSON. */
export function decodeCase(bytes: Uint8Array): string {
  if (bytes[0] !== FORMAT_1) throw new Error(`stored case in an unknown format (${bytes[0]})`);
  // A case inflates to a few KB: a 1 KB output chunk instead of the default 16 KB halves the decode
  // (measured 9–19 → 5–8 µs per case on impact replay, issue 15).
  return inflateRawSync(bytes.subarray(1), { dictionary: DICTIONARY_1, chunkSize: 1024 }).toString("utf8");
}
