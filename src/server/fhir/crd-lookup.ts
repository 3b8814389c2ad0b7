/**
 * CRD's FHIR lookup when prefetch is missing (CDS Hooks 2.0 §"FHIR Resource Access"; CRD 2.2
 * §"Prefetch" — "CRD services SHALL ... query the CRD client's FHIR server for data not provided in
 * prefetch"; issue 16). With `fhirServer` and `fhirAuthorization` in the hook request, what the
 * service needs and was not sent is read from the client's FHIR server with the given access token.
 *
 * Network rules (issue 13, reused): the base URL passes the service's `EndpointPolicy` (scheme,
 * allow-list, public addresses) and the connection goes to the vetted addresses only (no second DNS
 * answer), never follows a redirect, has a deadline and reads at most `maxResponseBytes`. Paths are
 * built from ids checked against the FHIR id syntax, never from free text. Nothing about the network
 * (addresses, errno) reaches the client; errors say only that the lookup could not be made.
 */
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { Bundle, Resource } from "@medplum/fhirtypes";
import { isObject, isResource } from "./common.js";
import { type EndpointPolicy, EndpointRefused, type VettedEndpoint } from "./endpoint.js";

/** Why a lookup could not be made (debug log only; the client reads `message`). */
export type LookupFailureCode =
  | "no-server"
  | "no-token"
  | "refused"
  | "timeout"
  | "connection"
  | "status"
  | "body";

export class LookupFailure extends Error {
  constructor(
    readonly code: LookupFailureCode,
    message: string,
    /** PHI-free detail for the debug log (an HTTP status, an errno name, a refusal code). */
    readonly detail?: string,
  ) {
    super(message);
    this.name = "LookupFailure";
  }
}

export interface LookupOptions {
  policy: EndpointPolicy;
  /** Whole request (connect, send, read); default 5 s — CDS Hooks answers are expected within seconds. */
  timeoutMs?: number;
  /** Largest answer read; default 2 MiB (a patient's active Coverages, one order, one Patient). */
  maxResponseBytes?: number;
  /** Most reads per call (a client cannot make the service fan out without bound); default 25. */
  maxReads?: number;
  /** All the reads of one call together (they run one after another); default 8 s. */
  totalTimeoutMs?: number;
}

/** What the hook needs from the client's FHIR server: reads (`Type/id`) and the Coverage search. */
export interface LookupPlan {
  reads: string[];
  /** The patient's id, when active Coverages must be searched for. */
  coverageOfPatient?: string;
}

const TYPE_ID = /^[A-Z][A-Za-z]{1,63}\/[A-Za-z0-9\-.]{1,64}$/;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const MAX_TOKEN = 8192;

/** The bearer token of `fhirAuthorization` (CDS Hooks 2.0: `access_token`, `token_type` Bearer). */
export function accessTokenOf(auth: unknown): string | undefined {
  if (!isObject(auth)) return undefined;
  const t = auth.access_token;
  const type = auth.token_type;
  if (typeof t !== "string" || t.length === 0 || t.length > MAX_TOKEN) return undefined;
  if (type !== undefined && (typeof type !== "string" || type.toLowerCase() !== "bearer")) return undefined;
  // Header-safe: visible ASCII only (a CR/LF would split the header).
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return undefined;
  }
  return t;
}

/**
 * Reads what `plan` names from `fhirServer` with `token` (CDS Hooks 2.0 / CRD 2.2, issue 16). Returns
 * the resources found (a search's entries flattened; a read that is 404/410 is simply absent).
 * Throws `LookupFailure` when the server is refused by the policy, unreachable, slow, or answers
 * something other than FHIR JSON.
 */
export async function lookupResources(
  fhirServer: string,
  token: string,
  plan: LookupPlan,
  o: LookupOptions,
): Promise<Resource[]> {
  let vetted: VettedEndpoint;
  try {
    vetted = await o.policy.vet(fhirServer);
  } catch (err) {
    const code = err instanceof EndpointRefused ? err.code : "error";
    throw new LookupFailure(
      "refused",
      "fhirServer is not permitted by this service's endpoint policy, so data missing from prefetch cannot be read",
      code,
    );
  }
  const paths: string[] = [];
  if (plan.coverageOfPatient !== undefined && FHIR_ID.test(plan.coverageOfPatient))
    paths.push(`Coverage?patient=${encodeURIComponent(plan.coverageOfPatient)}&status=active`);
  for (const r of plan.reads) if (TYPE_ID.test(r) && !paths.includes(r)) paths.push(r);
  const out: Resource[] = [];
  const deadline = Date.now() + (o.totalTimeoutMs ?? 8000);
  for (const p of paths.slice(0, o.maxReads ?? 25)) {
    const left = deadline - Date.now();
    if (left <= 0)
      throw new LookupFailure(
        "timeout",
        "the client's FHIR server could not be read for data missing from prefetch",
      );
    const body = await getJson(vetted, p, token, { ...o, timeoutMs: Math.min(o.timeoutMs ?? 5000, left) });
    if (body === undefined) continue;
    if (isResource<Bundle>(body, "Bundle")) {
      const entries = Array.isArray(body.entry) ? body.entry : [];
      for (const e of entries) if (isResource(e?.resource)) out.push(e.resource);
    } else out.push(body);
  }
  return out;
}

/** `base` + relative `path` (the base's own path kept, as FHIR base URLs have one). */
function urlFor(base: URL, path: string): URL {
  const u = new URL(base.href);
  const [p, q] = path.split("?", 2) as [string, string | undefined];
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/${p}`;
  u.search = q ? `?${q}` : "";
  u.hash = "";
  return u;
}

/** GET one FHIR resource (undefined on 404/410) to the vetted addresses only; see the module comment. */
function getJson(
  target: VettedEndpoint,
  path: string,
  token: string,
  o: LookupOptions,
): Promise<Resource | undefined> {
  const url = urlFor(target.url, path);
  const { addresses } = target;
  const pinned: LookupFunction = (_host, options, cb) => {
    const all = (options as { all?: boolean }).all === true;
    if (all) (cb as (e: null, a: { address: string; family: number }[]) => void)(null, addresses);
    else cb(null, addresses[0]!.address, addresses[0]!.family);
  };
  const mod = url.protocol === "https:" ? https : http;
  const max = o.maxResponseBytes ?? 2 * 1024 * 1024;
  const failed = (code: LookupFailureCode, detail?: string) =>
    new LookupFailure(
      code,
      "the client's FHIR server could not be read for data missing from prefetch",
      detail,
    );
  return new Promise<Resource | undefined>((resolve, reject) => {
    let settled = false;
    const finish = (err: LookupFailure | undefined, value?: Resource) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(value);
    };
    const req = mod.request(url, {
      method: "GET",
      headers: {
        accept: "application/fhir+json",
        authorization: `Bearer ${token}`,
        "user-agent": "medpolicy-crd",
      },
      lookup: pinned,
      agent: false,
    });
    const timer = setTimeout(() => {
      finish(failed("timeout"));
      req.destroy();
    }, o.timeoutMs ?? 5000);
    req.on("close", () => clearTimeout(timer));
    req.on("error", (err: NodeJS.ErrnoException) => finish(failed("connection", err.code ?? err.name)));
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      if (status === 404 || status === 410) {
        res.resume();
        finish(undefined, undefined);
        return;
      }
      if (status < 200 || status >= 300) {
        // A redirect is never followed: it is how an allowed host hands the request to a refused one.
        finish(failed("status", String(status)));
        req.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let read = 0;
      res.on("data", (chunk: Buffer) => {
        read += chunk.length;
        if (read > max) {
          finish(failed("body", "too-large"));
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on("error", () => finish(failed("connection", "response")));
      res.on("end", () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          finish(failed("body", "json"));
          return;
        }
        if (!isResource(parsed)) finish(failed("body", "not-a-resource"));
        else finish(undefined, parsed);
      });
    });
    req.end();
  });
}
