/**
 * The authoring API (issue 15 item 5; contract in the issue's brief): a `policy-author` (or an admin)
 * uploads a document into the service's own library, reads a version beside its source text, replaces
 * its policy's bindings.json (checked as loading checks it, guarded by an etag), tries cases against a
 * draft and the version in force, replays the stored requests under it (impact), and publishes it.
 *
 * Writes go to the payer's library the service was started on (`--library DIR`), one at a time, and are
 * served at once: after each, the live library is reloaded through the watcher's own look (a load that
 * fails keeps the library in force). On the seed library, or with no library of its own (an injected
 * engine), every write answers 409 `read-only-library`. Every write is in the audit trail.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { type AddResult, addDocument } from "../library/add.js";
import {
  authoringCriteria,
  bindingsFileSchema,
  checkPolicyBindings,
  policyBindingsEtag,
  policyFolder,
  readPolicyBindings,
  replacePolicyBindings,
  sourceText,
  unfrozenVersions,
} from "../library/authoring.js";
import { type ImpactChange, type ImpactSummary, replayImpact } from "../library/impact.js";
import {
  decideValidated,
  diffPolicies,
  isSeedLibrary,
  type Library,
  type LibraryEntry,
  lintVersion,
  parseCase,
} from "../library/index.js";
import { publishVersion } from "../library/publish.js";
import { type Case, InputError, MedpolicyError } from "../model/index.js";
import type { ReadRecord } from "../store/index.js";
import type { Principal } from "./auth.js";
import { errorResponse, HttpError } from "./http.js";
import type { ServerContext } from "./index.js";
import { type LibraryWatcher, type PollResult, PUBLISH_ACTION } from "./library-watch.js";
import type { RoleCheck } from "./routes.js";
import { parseBody } from "./schemas.js";

/** A document uploaded for `medpolicy add`: at most 8 MB once decoded. */
export const MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;
/** Base64 characters of {@link MAX_DOCUMENT_BYTES} (4 per 3 bytes, padded). */
const MAX_DOCUMENT_BASE64 = Math.ceil(MAX_DOCUMENT_BYTES / 3) * 4;
/** Cases one `try` decides. */
export const MAX_TRY_CASES = 50;
/**
 * Changed requests an impact reply lists (the summary counts them all): the first received, as the
 * store is scanned in the order received.
 */
export const MAX_IMPACT_CHANGES = 10_000;

// Anchored, one bounded class per part: linear on any input.
const ISO_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const date = z
  .string()
  .regex(ISO_DATE, { error: "must be a date YYYY-MM-DD" })
  .refine((s) => new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s, {
    error: "is not a calendar date",
  });

/** `POST /api/authoring/documents`: a document, base64 in JSON, as `medpolicy add FILE [--id] [--version]` reads it. */
export const documentBodySchema = z.strictObject({
  fileName: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^\u0000-\u001f\u007f/\\]+$/, { error: "a file name without folders or control characters" }),
  // A single class then at most two `=`: linear. The decoded size is checked from the length before
  // decoding (route), beside this bound on the text.
  contentBase64: z
    .string()
    .min(4, { error: "the document is empty" })
    .max(MAX_DOCUMENT_BASE64, { error: "a document is at most 8 MB" })
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, { error: "must be base64" }),
  id: z.string().min(1).max(100).optional(),
  version: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, { error: "must be a revision month YYYY-MM" })
    .optional(),
});

/** `POST …/try`: cases decided against the draft and against the version in force. */
export const tryBodySchema = z.strictObject({
  // Each case is validated when it is decided: a bad one is that case's error, not the request's.
  cases: z.array(z.unknown()).min(1).max(MAX_TRY_CASES),
  today: date.optional(),
});

/** `POST …/impact`: the window of dates of service replayed (inclusive). */
export const impactBodySchema = z
  .strictObject({ from: date.optional(), to: date.optional() })
  .refine((b) => b.from === undefined || b.to === undefined || b.from <= b.to, {
    path: ["from"],
    error: "is after to",
  });

/** `POST …/publish`: from when the version decides (default: its document's effective date). */
export const publishBodySchema = z.strictObject({ effective: date.optional() });

/** What {@link registerAuthoringRoutes} needs beside the server context. */
export interface AuthoringDeps {
  /** The watcher of the payer's library the service decides with; absent: nothing may be written. */
  watcher?: LibraryWatcher;
  /** `requireRole("policy-author", "admin")`, passed in so this module does not import the routes. */
  authors: RoleCheck;
}

/** Bytes a base64 text decodes to, from its length alone (undefined: a length base64 cannot have). */
function decodedLength(b64: string): number | undefined {
  if (b64.length % 4 === 1) return undefined;
  const pad = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - pad;
}

/** The body of an error answer, for a case's result (`{ error }`). */
function errorOf(err: unknown): { error: unknown } {
  return { error: (errorResponse(err).body as { error: unknown }).error };
}

/** Registers the `/api/authoring/…` routes. */
export function registerAuthoringRoutes(app: FastifyInstance, ctx: ServerContext, deps: AuthoringDeps): void {
  const { watcher, authors } = deps;
  const today = () => ctx.clock().toISOString().slice(0, 10);
  const params = (req: FastifyRequest) => req.params as { id: string; version?: string };

  /** The library the service decides with now (read once per request). */
  const library = (): Library => {
    const lib = ctx.library;
    if (!lib) {
      throw new HttpError(
        501,
        "not-implemented",
        "this service has no policy library to author (an embedded engine)",
      );
    }
    return lib;
  };

  /** The library, when the service may write to it: 409 on the seed library or without a watcher. */
  const writable = (): Library => {
    const lib = library();
    if (!watcher || isSeedLibrary(lib.dir)) {
      throw new HttpError(
        409,
        "read-only-library",
        isSeedLibrary(lib.dir)
          ? "the service decides with the seed library shipped with medpolicy, which is read-only: start it on your own library (medpolicy init DIR, then medpolicy serve --library DIR)"
          : "the service was started without a library of its own: nothing can be written",
      );
    }
    return lib;
  };

  // One write at a time (uploads, bindings, publications): each sees the library the one before left.
  let chain: Promise<unknown> = Promise.resolve();
  const serially = <T>(f: () => Promise<T>): Promise<T> => {
    const run = chain.then(f);
    chain = run.catch(() => {});
    return run;
  };

  /** Serves what was written now; a reload that fails leaves the library in force (the watcher warns). */
  const reload = async (): Promise<PollResult> => (watcher ? watcher.reload() : "unchanged");

  /** Reloads, and says on the reply when the library in force could not be replaced. */
  const reloaded = async (reply: { header(k: string, v: string): unknown }): Promise<void> => {
    const result = await reload();
    if (result === "failed" || result === "changing") reply.header("x-library-reload", result);
  };

  const versionOf = (lib: Library, req: FastifyRequest): LibraryEntry => {
    const { id, version } = params(req);
    return lib.get(`${id}@${version}`);
  };

  // The document text of a version, as the ingester reads it: converting a PDF is the slow part, so a
  // few are remembered by the document's sha256.
  const texts = new Map<string, string>();
  const textOf = (lib: Library, e: LibraryEntry): string => {
    const key = `${e.source.sha256}|${e.folder}/${e.source.file}`;
    let text = texts.get(key);
    if (text === undefined) {
      text = sourceText(lib, e);
      if (texts.size >= 16) texts.delete(texts.keys().next().value!);
      texts.set(key, text);
    }
    return text;
  };

  // `onRequest`, not `preHandler`: the role is checked before an ~11 MB body is read and parsed
  // (issue 15 review); the service's own onRequest hook has set the principal by then.
  app.get("/api/authoring/policies", { onRequest: authors }, async () => {
    const lib = library();
    const on = today();
    return lib.ids().map((id) => {
      const versions = lib.versionsOf(id);
      return {
        id,
        title: versions[versions.length - 1]?.policy.identity.title ?? "",
        versions: versions.map((e) => ({
          version: e.policy.identity.version,
          status: lib.statusOf(e, on),
          effective: e.effective,
          ...(e.approved !== undefined && { approved: e.approved }),
          ...(e.publication !== undefined && { approvedBy: e.publication.by }),
        })),
        openProposals: lib.openProposals.get(id)?.length ?? 0,
      };
    });
  });

  app.post(
    "/api/authoring/documents",
    // The document in base64 (4/3) in JSON, and the few fields beside it.
    { onRequest: authors, bodyLimit: MAX_DOCUMENT_BASE64 + 64 * 1024 },
    async (req, reply) => {
      const lib = writable();
      const b = parseBody(documentBodySchema, req.body);
      // Sized before it is decoded: a body within the limit never decodes to more than 8 MB.
      const size = decodedLength(b.contentBase64);
      if (size === undefined || size > MAX_DOCUMENT_BYTES) {
        throw new InputError(
          size === undefined ? "contentBase64: must be base64" : "contentBase64: a document is at most 8 MB",
          { field: "contentBase64" },
        );
      }
      const bytes = Buffer.from(b.contentBase64, "base64");
      const who = req.principal!;
      const result: AddResult = await serially(async () => {
        const added = addDocument(lib.dir, bytes, {
          fileName: b.fileName,
          ...(b.id !== undefined && { id: b.id }),
          ...(b.version !== undefined && { version: b.version }),
          now: ctx.clock(),
          reuse: watcher!.live.current,
        });
        if (added.status === "added") {
          ctx.audit.readMany(
            who,
            added.versions.map((v) => `${v.id}@${v.version}`),
            "library.add",
          );
          await reloaded(reply);
        }
        return added;
      });
      req.log.info({ policy: result.policy, status: result.status }, "document added");
      reply.code(201);
      return result;
    },
  );

  app.get("/api/authoring/policies/:id/versions/:version", { onRequest: authors }, async (req) => {
    const lib = library();
    const e = versionOf(lib, req);
    const id = e.policy.identity.id;
    const bindings = readPolicyBindings(lib, id);
    return {
      id,
      version: e.policy.identity.version,
      status: lib.statusOf(e, today()),
      title: e.policy.identity.title,
      sourceText: textOf(lib, e),
      policy: e.policy,
      findings: lintVersion(lib, e.policy),
      bindings: { authored: bindings.authored, proposed: bindings.proposed },
      vocabulary: [...e.vocabulary.values()],
      criteria: authoringCriteria(e),
      bindingsEtag: bindings.etag,
      ...(e.publication !== undefined && { publication: e.publication }),
    };
  });

  app.put(
    "/api/authoring/policies/:id/bindings",
    // A policy's bindings with hundreds of facts and predicates is larger than a case.
    { onRequest: authors, bodyLimit: 2 * 1024 * 1024 },
    async (req, reply) => {
      const lib = writable();
      const { id } = params(req);
      policyFolder(lib, id); // 404 before anything else
      const unfrozen = unfrozenVersions(lib, id);
      if (unfrozen.length > 0) {
        throw new HttpError(
          409,
          "effective-unfrozen",
          `${unfrozen.join(", ")}: in force without a publication snapshot, deciding with this bindings.json; editing it would change decisions in force — add a new version and publish it`,
        );
      }
      const ifMatch = etagOf(req.headers["if-match"]);
      if (ifMatch === undefined) {
        throw new HttpError(
          428,
          "precondition-required",
          "send If-Match: <bindingsEtag> (from GET /api/authoring/policies/:id/versions/:version) so another author's change is not overwritten",
        );
      }
      const b = parseBody(bindingsFileSchema, req.body);
      if (b.policy !== id) {
        throw new InputError(`policy: the bindings are ${id}'s, not ${JSON.stringify(b.policy)}`, {
          field: "policy",
          policy: id,
        });
      }
      // As the author sent it (validated above): what they read back is what they wrote.
      const text = `${JSON.stringify(req.body, null, 2)}\n`;
      const who = req.principal!;
      return serially(async () => {
        const now = watcher!.live.current;
        // Stale before the check (a load of the library): the author reapplies their change anyway.
        if (policyBindingsEtag(now, id) !== ifMatch) throw stale(id);
        const { findings } = checkPolicyBindings(now, id, text);
        const written = replacePolicyBindings(now, id, text, ifMatch);
        if ("stale" in written) throw stale(id);
        ctx.audit.read(who, id, "library.bindings");
        await reloaded(reply);
        req.log.info({ policy: id }, "bindings replaced");
        return { bindingsEtag: written.etag, findings };
      });
    },
  );

  app.post("/api/authoring/policies/:id/versions/:version/try", { onRequest: authors }, async (req) => {
    const lib = library();
    const draft = versionOf(lib, req);
    const b = parseBody(tryBodySchema, req.body);
    const on = b.today ?? today();
    const { id, version } = draft.policy.identity;
    const ref = `${id}@${version}`;
    const results = b.cases.map((input, i) => {
      let c: Case;
      try {
        c = parseCase(input);
      } catch (err) {
        const e = err instanceof InputError ? prefixed(err, `cases.${i}`) : err;
        return { draft: errorOf(e), inForce: errorOf(e) };
      }
      const decide = (kase: Case) => {
        try {
          return decideValidated(lib, kase, { today: on });
        } catch (err) {
          return errorOf(err);
        }
      };
      // The version in force on the case's date of service decides it as it is; none in force: null.
      const inForce =
        c.policy !== undefined || lib.inForce(id, c.service.dateOfService) !== undefined ? decide(c) : null;
      return { draft: decide({ ...c, policy: ref }), inForce };
    });
    const current = lib.inForce(id, on);
    return {
      results,
      diff: current !== undefined && current !== draft ? diffPolicies(current.policy, draft.policy) : null,
    };
  });

  app.post("/api/authoring/policies/:id/versions/:version/impact", { onRequest: authors }, async (req) => {
    const lib = library();
    const version = versionOf(lib, req);
    const b = parseBody(impactBodySchema, req.body ?? {});
    const changes: ImpactChange[] = [];
    let summary: ImpactSummary | undefined;
    for await (const item of replayImpact(lib, version, ctx.store.scanDeterminations({ pageSize: 1000 }), {
      ...(b.from !== undefined && { from: b.from }),
      ...(b.to !== undefined && { to: b.to }),
    })) {
      if (item.type === "summary") summary = item;
      else if (changes.length < MAX_IMPACT_CHANGES) changes.push(item);
    }
    const { id, version: v } = version.policy.identity;
    // The stored cases were read (to decide them again), though only request ids leave: on record.
    ctx.audit.read(req.principal!, `${id}@${v}`, "library.impact");
    return { summary: summary!, changes, truncated: summary!.changed > changes.length };
  });

  app.post(
    "/api/authoring/policies/:id/versions/:version/publish",
    { onRequest: authors },
    async (req, reply) => {
      const lib = writable();
      const b = parseBody(publishBodySchema, req.body ?? {});
      const e = versionOf(lib, req);
      const ref = `${e.policy.identity.id}@${e.policy.identity.version}`;
      const who = req.principal!;
      return serially(async () => {
        const now = watcher!.live.current;
        const published = now.get(ref).publication;
        if (published) {
          throw new MedpolicyError(
            "conflict",
            `${ref} was published by ${published.by} at ${published.at}: a published version is immutable (add a revision and publish that)`,
            { policy: e.policy.identity.id, version: e.policy.identity.version },
          );
        }
        // Published before (its seal is in the audit trail) though the folder no longer shows it: a new
        // snapshot would not match the seal, and the library would be refused. A new version instead.
        let entries: Awaited<ReturnType<typeof ctx.store.listReads>>;
        try {
          entries = await ctx.store.listReads({ requestId: ref, action: PUBLISH_ACTION, limit: 1000 });
        } catch {
          throw new HttpError(
            503,
            "audit-unavailable",
            "the audit trail cannot be read now, so the publication could not be checked against its seal: try again",
          );
        }
        const sealed = entries.filter((r) => r.detail !== undefined);
        if (sealed.length > 0) {
          const first = sealed.at(-1)!;
          throw new MedpolicyError(
            "conflict",
            `${ref} was published at ${first.at} (sealed in the audit trail), but the library in force does not hold that publication (its snapshot left the folder, or a reload is pending): restore its snapshot, or publish the change as a new version`,
            { policy: e.policy.identity.id, version: e.policy.identity.version },
          );
        }
        const result = publishVersion(now.dir, ref, {
          by: who.name || who.sub,
          ...(b.effective !== undefined && { effective: b.effective }),
          now: ctx.clock(),
          reuse: now,
        });
        // Recorded here, under the author's own token, at the publication's instant; the watcher's swap
        // that picks it up does not record it again.
        watcher!.recorded({ policy: result.policy, version: result.version, sha256: result.sha256 });
        if (!(await recordPublication(who, ref, result.at, result.sha256))) {
          // Not on record: the watcher writes it, with its instant and its seal, until the database takes it.
          watcher!.retry({
            policy: result.policy,
            version: result.version,
            by: result.by,
            at: result.at,
            effective: result.effective,
            sha256: result.sha256,
            snapshot: result.snapshot,
          });
        }
        await reloaded(reply);
        req.log.info({ policy: ref, status: result.status }, "version published");
        return result;
      });
    },
  );

  /**
   * The publication in the audit trail now, under the author's token; false when the database failed
   * (the caller hands it to the watcher, which keeps its instant and seal).
   */
  const recordPublication = async (
    who: Principal,
    ref: string,
    at: string,
    sha256: string,
  ): Promise<boolean> => {
    const row: ReadRecord = {
      at,
      sub: who.sub,
      role: who.role,
      ...(who.org !== undefined && { org: who.org }),
      requestId: ref,
      action: PUBLISH_ACTION,
      // The seal a later snapshot of this version is checked against (library-watch.ts).
      detail: sha256,
    };
    try {
      await ctx.store.recordReads([row]);
      return true;
    } catch (err) {
      app.log.warn(
        { error: (err as Error).name },
        "audit trail: a publication could not be recorded; retrying",
      );
      return false;
    }
  };
}

/** 412: the bindings changed since the author read them. */
function stale(id: string): HttpError {
  return new HttpError(
    412,
    "stale-bindings",
    `${id}'s bindings changed since they were read (another author, or the file edited): read them again and reapply your change`,
  );
}

/** The etag an `If-Match` header names (`"abc"`, `W/"abc"` or bare), or undefined without one. */
function etagOf(header: string | string[] | undefined): string | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (h === undefined) return undefined;
  const t = h.trim().replace(/^W\//, "");
  const bare = t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
  return bare === "" ? undefined : bare;
}

/** An InputError with its fields under `prefix` (a case's place in the list). */
function prefixed(err: InputError, prefix: string): InputError {
  const at = (f: string | undefined) => (f === undefined ? prefix : `${prefix}.${f}`);
  return new InputError(
    `${prefix}: ${err.message}`,
    { ...err.where, field: at(err.where.field) },
    err.issues.map((i) => ({ message: i.message, where: { ...i.where, field: at(i.where.field) } })),
  );
}

// ---- OpenAPI ------------------------------------------------------------------------------------

function jsonSchema(s: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

const errorRef = { content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: String(c), ...errorRef }]));
const body = (name: string) => ({
  required: true,
  content: { "application/json": { schema: { $ref: `#/components/schemas/${name}` } } },
});
const versionParams = [
  { name: "id", in: "path", required: true, schema: { type: "string" } },
  { name: "version", in: "path", required: true, schema: { type: "string" } },
];
const secured = { security: [{ bearer: [] }] };
const who = "Roles policy-author and admin.";

/** The authoring API's path items and body schemas (merged into the document `/openapi.json` serves). */
export function authoringOpenApi(): { paths: Record<string, unknown>; schemas: Record<string, unknown> } {
  return {
    schemas: {
      AuthoringDocument: jsonSchema(documentBodySchema),
      AuthoringBindings: jsonSchema(bindingsFileSchema),
      AuthoringTry: jsonSchema(tryBodySchema),
      AuthoringImpact: jsonSchema(impactBodySchema),
      AuthoringPublish: jsonSchema(publishBodySchema),
    },
    paths: {
      "/api/authoring/policies": {
        get: {
          summary: `Every policy of the library with its versions (drafts included) and open code-binding proposals. ${who}`,
          ...secured,
          responses: { "200": { description: "Policies" }, ...errors(401, 403, 501) },
        },
      },
      "/api/authoring/documents": {
        post: {
          summary: `Add a document to the library (medpolicy add): base64, at most 8 MB decoded; 201 with the add result. ${who}`,
          ...secured,
          requestBody: body("AuthoringDocument"),
          responses: {
            "201": { description: "AddResult (status added or unchanged)" },
            ...errors(400, 401, 403, 409, 413),
          },
        },
      },
      "/api/authoring/policies/{id}/versions/{version}": {
        get: {
          summary: `A version for authoring: its source text, tree, lint findings, bindings.json (authored and proposed) with its etag, vocabulary and criteria. ${who}`,
          ...secured,
          parameters: versionParams,
          responses: { "200": { description: "The version" }, ...errors(401, 403, 404) },
        },
      },
      "/api/authoring/policies/{id}/bindings": {
        put: {
          summary: `Replace the policy's bindings.json (checked as loading checks it), then serve it. ${who}`,
          ...secured,
          parameters: [
            versionParams[0],
            {
              name: "If-Match",
              in: "header",
              required: true,
              description: "The bindingsEtag read with the version: 412 when the file changed since.",
              schema: { type: "string" },
            },
          ],
          requestBody: body("AuthoringBindings"),
          responses: {
            "200": { description: "{ bindingsEtag, findings }" },
            ...errors(400, 401, 403, 404, 409, 412, 428),
          },
        },
      },
      "/api/authoring/policies/{id}/versions/{version}/try": {
        post: {
          summary: `Decide up to 50 cases against the version (named ID@VERSION) and against the version in force on each case's date of service, with the semantic diff of the two. ${who}`,
          ...secured,
          parameters: versionParams,
          requestBody: body("AuthoringTry"),
          responses: { "200": { description: "{ results, diff }" }, ...errors(400, 401, 403, 404) },
        },
      },
      "/api/authoring/policies/{id}/versions/{version}/impact": {
        post: {
          summary: `Replay the stored requests the version would have decided (dates of service from…to): the summary and the requests whose outcome changes (ids only). ${who}`,
          ...secured,
          parameters: versionParams,
          requestBody: body("AuthoringImpact"),
          responses: {
            "200": { description: "{ summary, changes, truncated }" },
            ...errors(400, 401, 403, 404),
          },
        },
      },
      "/api/authoring/policies/{id}/versions/{version}/publish": {
        post: {
          summary: `Publish the version (medpolicy publish, by the signed-in author), then serve it. ${who}`,
          ...secured,
          parameters: versionParams,
          requestBody: body("AuthoringPublish"),
          responses: {
            "200": { description: "PublishResult" },
            ...errors(400, 401, 403, 404, 409),
          },
        },
      },
    },
  };
}

/** Adds {@link authoringOpenApi} to an OpenAPI document. */
export function withAuthoringPaths(doc: Record<string, unknown>): Record<string, unknown> {
  const { paths, schemas } = authoringOpenApi();
  const components = (doc.components ?? {}) as Record<string, unknown>;
  return {
    ...doc,
    components: { ...components, schemas: { ...((components.schemas ?? {}) as object), ...schemas } },
    paths: { ...((doc.paths ?? {}) as object), ...paths },
  };
}
