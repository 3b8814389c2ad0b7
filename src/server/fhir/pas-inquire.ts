/**
 * The shape of a PAS `Claim/$inquire` answer (issue 16), which differs between the two PAS versions
 * this service speaks:
 *
 * - **PAS 2.2.1** (OperationDefinition `Claim-inquiry|2.2.1`): the one out parameter is `return`,
 *   type Bundle (profile-pas-inquiry-response-bundle), cardinality 0..*. With max `*` the answer is a
 *   `Parameters` resource (FHIR R4 §Operations "Response": only a single `return` of max 1 is
 *   returned bare), one `return` per matching request; no match is a Parameters with no `return` —
 *   an empty result, HTTP 200 (a query by example that found nothing, not a missing resource).
 * - **PAS 2.0.1** (`Claim-inquiry|2.0.1`): `return` is a single Bundle (1..1) "or an
 *   OperationOutcome". profile-pas-inquiry-response-bundle needs at least one entry, so no match is
 *   answered with an OperationOutcome (severity information, code `not-found`), HTTP 200: the
 *   inquiry was processed; nothing matched.
 *
 * Which form a request gets: the default is 2.2.1. A request is answered in the 2.0.1 form when the
 * inquiry Bundle or its Claim declares a PAS profile of version 2.0.x in `meta.profile`
 * (`http://hl7.org/fhir/us/davinci-pas/StructureDefinition/…|2.0.1`) — the one place a FHIR
 * instance says which IG version it is written to; the unversioned canonicals of both versions'
 * examples are read as 2.2.1.
 */
import type { Bundle, OperationOutcome, Parameters } from "@medplum/fhirtypes";
import { isObject, isResource } from "./common.js";

/** The PAS versions whose `$inquire` answer forms this service produces. */
export type PasVersion = "2.2.1" | "2.0.1";

const PAS_SD = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/";

/** The `meta.profile` list of a parsed JSON value (strings only, at most 20 looked at). */
function profilesOf(x: unknown): string[] {
  if (!isObject(x) || !isObject(x.meta) || !Array.isArray(x.meta.profile)) return [];
  return x.meta.profile.slice(0, 20).filter((p): p is string => typeof p === "string");
}

/** Whether a canonical is a PAS StructureDefinition pinned to version 2.0.x. */
function isPas20(canonical: string): boolean {
  if (!canonical.startsWith(PAS_SD)) return false;
  const bar = canonical.indexOf("|");
  if (bar < 0) return false;
  const version = canonical.slice(bar + 1);
  return version === "2.0" || version.startsWith("2.0.");
}

/**
 * The PAS version an inquiry is written to (issue 16; see the module comment): `2.0.1` when the
 * inquiry Bundle (bare, or the Bundle a Parameters wraps) or its first entry (the Claim) declares a
 * `…|2.0.x` PAS profile, else `2.2.1`. Reads only what it finds; never throws.
 */
export function inquiryVersion(body: unknown): PasVersion {
  let bundle: unknown = body;
  if (isResource(body, "Parameters")) {
    const params = (body as { parameter?: unknown }).parameter;
    bundle = Array.isArray(params)
      ? params.slice(0, 20).find((p) => isObject(p) && isResource(p.resource, "Bundle"))?.resource
      : undefined;
  }
  if (!isResource(bundle, "Bundle")) return "2.2.1";
  const entries = (bundle as { entry?: unknown }).entry;
  const first = Array.isArray(entries) && isObject(entries[0]) ? entries[0].resource : undefined;
  return [...profilesOf(bundle), ...profilesOf(first)].some(isPas20) ? "2.0.1" : "2.2.1";
}

/**
 * The `$inquire` answer for `bundles` (each a profile-pas-inquiry-response-bundle), in the form of
 * `version` (issue 16; PAS 2.2.1 / 2.0.1 OperationDefinition `Claim-inquiry`, see the module
 * comment). Always HTTP 200.
 */
export function inquiryAnswer(
  version: PasVersion,
  bundles: Bundle[],
): Parameters | Bundle | OperationOutcome {
  if (version === "2.2.1") {
    return {
      resourceType: "Parameters",
      ...(bundles.length > 0 && { parameter: bundles.map((resource) => ({ name: "return", resource })) }),
    };
  }
  const [first] = bundles;
  if (first) return first;
  return {
    resourceType: "OperationOutcome",
    issue: [
      {
        severity: "information",
        code: "not-found",
        details: {
          text: "No prior authorization request of your organization matches the inquiry (Claim.identifier).",
        },
      },
    ],
  };
}

/**
 * The inquiry response Bundles of an `$inquire` answer in either form: the `return` Bundles of a
 * Parameters, the Bundle itself, none for an OperationOutcome. For clients and tests.
 */
export function inquiryBundles(answer: unknown): Bundle[] {
  if (isResource<Bundle>(answer, "Bundle")) return [answer];
  if (!isResource(answer, "Parameters")) return [];
  const params = (answer as { parameter?: unknown }).parameter;
  if (!Array.isArray(params)) return [];
  return params.flatMap((p) =>
    isObject(p) && p.name === "return" && isResource<Bundle>(p.resource, "Bundle") ? [p.resource] : [],
  );
}
