/**
 * `ValueSet/$expand` (issue 16: a SHALL of DTR 2.0.1's dtr-payer-service CapabilityStatement; FHIR R4
 * OperationDefinition ValueSet-expand): expands the answer ValueSets the service's Questionnaires
 * reference — one per declared fact of type `enum`, or `set` with `values` (issue 15 "Facts are data"),
 * each with a canonical on this server (`<base>/fhir/ValueSet/<policy>-<version>-<fact>`).
 *
 * `GET|POST /fhir/ValueSet/$expand` with `url` (the canonical, `|version` allowed) or, POST only,
 * `valueSet` (a ValueSet resource whose `compose` lists its concepts inline); `filter` (case-insensitive
 * substring of code or display), `count` and `offset` (paging; `total` is the filtered size).
 * `GET /fhir/ValueSet/:id` and `GET /fhir/ValueSet/:id/$expand` too. Unknown ValueSets are 404
 * OperationOutcomes, bad parameters 400.
 */
import { randomUUID } from "node:crypto";
import type {
  Parameters,
  ValueSet,
  ValueSetComposeInclude,
  ValueSetExpansionContains,
} from "@medplum/fhirtypes";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Library, LibraryEntry } from "../../library/index.js";
import type { ServerContext } from "../index.js";
import {
  FhirError,
  invalid,
  isObject,
  isResource,
  type Operations,
  publicBaseUrl,
  sendFhir,
} from "./common.js";
import { factCodeSystemUrl, factValueSetId, factValueSetUrl } from "./dtr-population.js";
import { validateResource } from "./validate.js";

/** Most concepts one expansion page returns (FHIR `count` is capped here). */
export const MAX_COUNT = 1000;

/** The answer ValueSet of one fact of a library entry, or undefined when the fact has no value list. */
function factValueSet(entry: LibraryEntry, fact: string, baseUrl: string): ValueSet | undefined {
  const d = entry.vocabulary.get(fact);
  if (!d || (d.type !== "enum" && d.type !== "set") || !d.values) return undefined;
  const id = entry.policy.identity;
  const system = factCodeSystemUrl(baseUrl, id.id, d.name);
  return {
    resourceType: "ValueSet",
    id: factValueSetId(id.id, id.version, d.name),
    url: factValueSetUrl(baseUrl, id.id, id.version, d.name),
    version: id.version,
    name: `${id.id}_${id.version}_${d.name}`.replace(/[^A-Za-z0-9_]/g, "_"),
    title: `${id.id} ${id.version}: ${d.name}`,
    status: id.approved ? "active" : "draft",
    description: d.description,
    compose: { include: [{ system, concept: d.values.map((code) => ({ code, display: code })) }] },
  };
}

/**
 * The fact ValueSet a canonical or id names, among the approved versions of the library: `<policy>-
 * <YYYY-MM>-<fact>` (facts' `_` written `-`). Undefined when none.
 */
export function findFactValueSet(lib: Library, ref: string, baseUrl: string): ValueSet | undefined {
  if (ref.length > 300) return undefined;
  const bare = ref.split("|")[0]!;
  const slash = bare.lastIndexOf("/");
  const id = slash >= 0 ? bare.slice(slash + 1) : bare;
  if (slash >= 0 && bare !== `${trim(baseUrl)}/fhir/ValueSet/${id}`) return undefined;
  // `<policy>-<YYYY-MM>-<fact>`: the version is the first `-dddd-dd-` (policy ids have no `-`).
  const m = /^([A-Za-z0-9.]+)-(\d{4}-\d{2})-([A-Za-z0-9-]+)$/.exec(id);
  if (!m) return undefined;
  let entry: LibraryEntry;
  try {
    entry = lib.get(`${m[1]}@${m[2]}`, undefined, { approvedOnly: true });
  } catch {
    return undefined;
  }
  for (const name of entry.vocabulary.keys()) {
    if (name.replaceAll("_", "-") === m[3]) return factValueSet(entry, name, baseUrl);
  }
  return undefined;
}

function trim(b: string): string {
  let s = b;
  while (s.endsWith("/")) s = s.slice(0, -1);
  return s;
}

/** What an expansion is asked for. */
export interface ExpandRequest {
  url?: string;
  valueSet?: ValueSet;
  filter?: string;
  count?: number;
  offset?: number;
}

/** The most concepts one expansion lists before filtering (an inline ValueSet is the client's). */
export const MAX_CONCEPTS = 10_000;

/** Case-insensitive substring (no regex on request text: linear). */
function matches(c: ValueSetExpansionContains, filter: string | undefined): boolean {
  if (!filter) return true;
  const f = filter.toLowerCase();
  return (c.code ?? "").toLowerCase().includes(f) || (c.display ?? "").toLowerCase().includes(f);
}

/**
 * Expands a ValueSet whose `compose.include` lists concepts inline (what this service's fact
 * ValueSets are; an include by filter or of a whole code system cannot be expanded here: 422).
 */
export function expand(vs: ValueSet, req: ExpandRequest, now: string): ValueSet {
  const all: ValueSetExpansionContains[] = [];
  for (const inc of (vs.compose?.include ?? []) as ValueSetComposeInclude[]) {
    if (!Array.isArray(inc.concept) || inc.filter || inc.valueSet)
      throw new FhirError(
        422,
        "too-costly",
        "only ValueSets that list their concepts can be expanded by this server",
        "ValueSet.compose.include",
      );
    if (all.length + inc.concept.length > MAX_CONCEPTS)
      throw new FhirError(
        422,
        "too-costly",
        `a ValueSet of more than ${MAX_CONCEPTS} concepts is not expanded by this server`,
        "ValueSet.compose.include",
      );
    for (const c of inc.concept) {
      if (typeof c?.code !== "string") continue;
      all.push({
        ...(inc.system && { system: inc.system }),
        code: c.code,
        ...(c.display && { display: c.display }),
      });
    }
  }
  // One pass over a set of `system|code` (a scan and splice per excluded code was quadratic: a 236 KB
  // inline ValueSet held the event loop 3.7 s — review of issue 16).
  const excluded = new Set<string>();
  for (const exc of vs.compose?.exclude ?? []) {
    for (const c of exc.concept ?? []) {
      if (typeof c?.code === "string") excluded.add(`${exc.system ?? ""}|${c.code}`);
    }
  }
  const kept = excluded.size === 0 ? all : all.filter((x) => !excluded.has(`${x.system ?? ""}|${x.code}`));
  const filtered = kept.filter((c) => matches(c, req.filter));
  const offset = req.offset ?? 0;
  const count = Math.min(req.count ?? MAX_COUNT, MAX_COUNT);
  const page = filtered.slice(offset, offset + count);
  const parameter = [
    ...(req.filter !== undefined ? [{ name: "filter", valueString: req.filter }] : []),
    ...(req.count !== undefined ? [{ name: "count", valueInteger: count }] : []),
    ...(req.offset !== undefined ? [{ name: "offset", valueInteger: offset }] : []),
  ];
  const { compose: _compose, ...rest } = vs;
  return {
    ...rest,
    expansion: {
      identifier: `urn:uuid:${randomUUID()}`,
      timestamp: now,
      total: filtered.length,
      offset,
      ...(parameter.length > 0 && { parameter }),
      ...(page.length > 0 && { contains: page }),
    },
  };
}

/** A non-negative integer parameter (`count`, `offset`), or 400. */
function nonNegative(name: string, raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const s = typeof raw === "number" ? String(raw) : raw;
  if (typeof s !== "string" || !/^\d{1,9}$/.test(s))
    throw invalid(`${name} must be a non-negative integer`, name);
  return Number(s);
}

/** The expansion request of a GET query. */
function fromQuery(q: Record<string, unknown>): ExpandRequest {
  for (const k of ["url", "filter", "count", "offset"])
    if (Array.isArray(q[k])) throw invalid(`${k} is given more than once`, k);
  const url = q.url;
  const filter = q.filter;
  if (url !== undefined && typeof url !== "string") throw invalid("url must be a string", "url");
  if (filter !== undefined && (typeof filter !== "string" || filter.length > 200))
    throw invalid("filter must be a string of at most 200 characters", "filter");
  const count = nonNegative("count", q.count);
  const offset = nonNegative("offset", q.offset);
  return {
    ...(url !== undefined && { url }),
    ...(filter !== undefined && { filter }),
    ...(count !== undefined && { count }),
    ...(offset !== undefined && { offset }),
  };
}

/** The expansion request of a POST body (Parameters). */
function fromParameters(body: unknown): ExpandRequest {
  if (!isResource<Parameters>(body, "Parameters"))
    throw invalid("ValueSet/$expand takes a Parameters resource (url or valueSet, filter, count, offset)");
  validateResource(body);
  const out: ExpandRequest = {};
  const seen = new Set<string>();
  for (const p of body.parameter ?? []) {
    const name = p?.name ?? "";
    if (["url", "valueSet", "filter", "count", "offset"].includes(name)) {
      if (seen.has(name)) throw invalid(`${name} is given more than once`, "Parameters.parameter");
      seen.add(name);
    }
    if (name === "url") {
      const v = p.valueUri ?? p.valueCanonical ?? p.valueUrl ?? p.valueString;
      if (typeof v !== "string") throw invalid("url needs valueUri", "Parameters.parameter.value");
      out.url = v;
    } else if (name === "valueSet") {
      if (!isResource<ValueSet>(p.resource, "ValueSet"))
        throw invalid("valueSet needs a ValueSet resource", "Parameters.parameter.resource");
      out.valueSet = p.resource as ValueSet;
    } else if (name === "filter") {
      if (typeof p.valueString !== "string" || p.valueString.length > 200)
        throw invalid("filter needs a valueString of at most 200 characters", "Parameters.parameter.value");
      out.filter = p.valueString;
    } else if (name === "count" || name === "offset") {
      const v = p.valueInteger;
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
        throw invalid(`${name} needs a non-negative valueInteger`, "Parameters.parameter.value");
      out[name] = v;
    }
  }
  return out;
}

/** Registers the ValueSet routes under `/fhir` (called by `registerDtr`). */
export function registerValueSets(app: FastifyInstance, ctx: ServerContext, ops: Operations): void {
  const lib = (): Library => {
    if (!ctx.library) throw new FhirError(501, "not-supported", "value sets need the policy library");
    return ctx.library;
  };
  const base = () => publicBaseUrl(ctx.config);
  const answer = (reply: FastifyReply, req: ExpandRequest) => {
    let vs: ValueSet | undefined;
    if (req.valueSet) {
      if (req.url !== undefined) throw invalid("give url or valueSet, not both", "url");
      vs = req.valueSet;
    } else {
      if (req.url === undefined) throw invalid("ValueSet/$expand needs url (or valueSet)", "url");
      vs = findFactValueSet(lib(), req.url, base());
      if (!vs) throw new FhirError(404, "not-found", `no ValueSet ${req.url.slice(0, 300)} on this server`);
    }
    return sendFhir(reply, 200, expand(vs, req, ctx.clock().toISOString()));
  };
  const byId = (id: string): ValueSet => {
    const vs = findFactValueSet(lib(), id, base());
    if (!vs) throw new FhirError(404, "not-found", `no ValueSet ${id.slice(0, 300)}`);
    return vs;
  };

  app.get("/ValueSet/$expand", async (req, reply) =>
    answer(reply, fromQuery(req.query as Record<string, unknown>)),
  );
  app.get("/ValueSet/:id", async (req, reply) => {
    const id = (req.params as { id: string }).id;
    // A percent-encoded `$expand` reaches this route undecoded-matched (`%24expand`).
    if (id === "$expand") return answer(reply, fromQuery(req.query as Record<string, unknown>));
    return sendFhir(reply, 200, byId(id));
  });
  app.get("/ValueSet/:id/$expand", async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const q = fromQuery(req.query as Record<string, unknown>);
    return sendFhir(reply, 200, expand(byId(id), q, ctx.clock().toISOString()));
  });
  ops.add(app, "/ValueSet/$expand", [], async (req, reply) => {
    const r = fromParameters(req.body);
    if (isObject(req.query) && Object.keys(req.query).length > 0) {
      // Query parameters on a POST add to the body's (FHIR operations allow both).
      const q = fromQuery(req.query as Record<string, unknown>);
      Object.assign(r, { ...q, ...r });
    }
    return answer(reply, r);
  });
}
