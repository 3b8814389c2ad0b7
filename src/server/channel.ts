/**
 * How a stored request arrived: the JSON API or the FHIR PAS API. PAS submissions are stored under
 * idempotency keys of their own (`pas-` and a hash of the claim, src/server/fhir/pas.ts), a prefix the
 * JSON API refuses to clients (routes.ts), so the key tells the channel.
 */
export const PAS_KEY_PREFIX = "pas-";

export type Channel = "api" | "fhir-pas";

/** The channel of a request stored under `idempotencyKey`. */
export function channelOfKey(idempotencyKey: string | undefined): Channel {
  return idempotencyKey?.startsWith(PAS_KEY_PREFIX) ? "fhir-pas" : "api";
}
