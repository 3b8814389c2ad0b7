import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { answerableIds, type CompiledPolicy, compile } from "../evaluate/index.js";
import { ingest } from "../ingest/index.js";
import {
  type Bindings,
  bindingsSchema,
  type CodeBinding,
  type FactChecker,
  type FactDecl,
  type Finding,
  factChecker,
  factTests,
  InputError,
  NotFoundError,
  type PolicyVersion,
  type PredicateBinding,
  policyHash,
  predicateProblems,
  sourceSchema,
  type Vocabulary,
} from "../model/index.js";
import type { LoadedVersion, VersionStatus, VersionSummary } from "./api.js";
import {
  librarySignature,
  PUBLICATIONS_LOG,
  PUBLISHED_DIR,
  type Publication,
  type PublicationSnapshot,
  readPublicationLog,
  readSnapshots,
} from "./snapshot.js";
import { applyCorrections, applyExclusions, applyPlacements, withVersion } from "./versions.js";

/** Folder of the policy library shipped with the project (`policies/`): the seed library. */
export function defaultPoliciesDir(): string {
  return join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "policies");
}

/** The marker file that makes a folder a payer's library (issue 15: `medpolicy init DIR` writes it). */
export const LIBRARY_MARKER = "library.json";

/** `library.json`: the library format and its version, nothing else (issue 15). */
export const libraryMarkerSchema = z.strictObject({
  format: z.literal("medpolicy-library"),
  version: z.literal(1),
});
export type LibraryMarker = z.infer<typeof libraryMarkerSchema>;

/** What `medpolicy init` writes into `library.json`. */
export const LIBRARY_MARKER_CONTENT: LibraryMarker = { format: "medpolicy-library", version: 1 };

/**
 * A code binding proposed by the ingester from the document's code tables or statements, kept in
 * `bindings.json` under `proposed` until an author confirms it by moving it to `codes` (issue 15).
 * Unconfirmed, it never decides criteria: the code is routed to its policy, and with no section bound
 * the line is `review` (a person decides).
 */
export const proposedBindingSchema = z.strictObject({
  /**
   * `unconfirmed` as `add` writes it; an author who decides the code does not belong to the policy sets
   * `dismissed` (issue 15 item 3: publishing needs every proposal confirmed or dismissed).
   */
  status: z.enum(["unconfirmed", "dismissed"]),
  codes: z.array(z.string().min(1).max(64)).min(1),
  system: z.string().max(64),
  section: z.string().max(64).optional(),
  subPolicy: z.string().max(500).optional(),
  criterion: z.string().max(64).optional(),
  coverage: z.enum(["supports", "does-not-support", "unspecified"]),
  basis: z.string().max(2000),
  line: z.number().int().min(0),
  confidence: z.enum(["stated", "inferred"]),
  /** The library file (`NNN_<hash>.<ext>`) the proposal was read from. */
  source: z.string().max(200).optional(),
});
export type ProposedCodeBinding = z.infer<typeof proposedBindingSchema>;

/** The identity the ingester read from a document, kept in its provenance (issue 15). */
const readIdentitySchema = z.strictObject({
  id: z.string(),
  title: z.string(),
  version: z.string(),
  effective: z.string(),
  approved: z.string().optional(),
  plan: z.string().optional(),
  state: z.string().optional(),
});

/**
 * Provenance of a document in a library (`sources.json`, SPEC 1.2): the seed fields, and for a
 * document added with `medpolicy add` (issue 15) its size in bytes, when it was added, and what the
 * ingester read from it (how it was identified, the identity of each version).
 */
export const librarySourceSchema = sourceSchema.extend({
  /**
   * Issue 15 item 3: `draft` for a document added with `medpolicy add` — each of its versions is a draft,
   * whatever its revision log says, until `medpolicy publish` writes its snapshot
   * (`published/<VERSION>.json`). Absent (the seed library): a version is approved by its document's log.
   */
  status: z.literal("draft").optional(),
  size: z.number().int().min(0).optional(),
  /** ISO 8601 timestamp of `medpolicy add`. */
  added: z.string().max(40).optional(),
  ingested: z
    .strictObject({
      identifiedBy: z.enum(["header", "--id"]),
      versions: z.array(readIdentitySchema),
    })
    .optional(),
});
export type LibrarySourceEntry = z.infer<typeof librarySourceSchema>;
export const librarySourcesSchema = z.array(librarySourceSchema);

/** Where the library was asked for (issue 15): `--library`, the environment, or the seed default. */
export interface LibraryLocation {
  dir: string;
  from: "--library" | "MEDPOLICY_LIBRARY" | "MEDPOLICY_POLICIES" | "seed";
  /** Set when a deprecated way of naming it was used: what to say to the user. */
  deprecated?: string;
}

/**
 * The library folder to load (issue 15): `--library DIR`, else `$MEDPOLICY_LIBRARY`, else the
 * deprecated `$MEDPOLICY_POLICIES`, else the seed library shipped with the project. Empty values
 * count as unset.
 */
export function libraryLocation(flag?: string, env: NodeJS.ProcessEnv = process.env): LibraryLocation {
  if (flag) return { dir: flag, from: "--library" };
  if (env.MEDPOLICY_LIBRARY) return { dir: env.MEDPOLICY_LIBRARY, from: "MEDPOLICY_LIBRARY" };
  if (env.MEDPOLICY_POLICIES) {
    return {
      dir: env.MEDPOLICY_POLICIES,
      from: "MEDPOLICY_POLICIES",
      deprecated: "MEDPOLICY_POLICIES is deprecated: use MEDPOLICY_LIBRARY or --library DIR",
    };
  }
  return { dir: defaultPoliciesDir(), from: "seed" };
}

/** Whether `dir` is the seed library shipped with the project (never written to). */
export function isSeedLibrary(dir: string): boolean {
  return resolve(dir) === resolve(defaultPoliciesDir());
}

/**
 * What a folder is (issue 15): `marked` (a library made by `medpolicy init`: it holds `library.json`),
 * `folders` (a library in the seed layout: policy folders with `sources.json`, no marker), `empty`
 * (nothing but hidden entries such as `.git`), `other` (files that make no library), `missing`, or
 * `not-a-folder`.
 */
export function libraryFolderKind(
  dir: string,
): "marked" | "folders" | "empty" | "other" | "missing" | "not-a-folder" {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) return "not-a-folder";
    names = readdirSync(dir);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "not-a-folder";
  }
  if (names.includes(LIBRARY_MARKER)) return "marked";
  const visible = names.filter((n) => !n.startsWith("."));
  if (visible.length === 0) return "empty";
  const policyFolder = visible.some((n) => {
    try {
      return statSync(join(dir, n)).isDirectory() && existsSync(join(dir, n, "sources.json"));
    } catch {
      return false;
    }
  });
  return policyFolder ? "folders" : "other";
}

/**
 * Checks that `dir` is a library (issue 15) and returns its kind; InputError (exit 2) naming the
 * folder when it does not exist, is not a folder, is not a library, or has a `library.json` of
 * another format or version.
 */
export function checkLibraryFolder(dir: string): "marked" | "folders" {
  const kind = libraryFolderKind(dir);
  switch (kind) {
    case "missing":
      throw new InputError(`policy library not found: ${dir} does not exist`, { file: dir });
    case "not-a-folder":
      throw new InputError(`policy library ${dir} is not a folder`, { file: dir });
    case "empty":
    case "other":
      throw new InputError(
        `${dir} is not a policy library (no ${LIBRARY_MARKER}, no policy folders with sources.json): make one with medpolicy init ${dir}`,
        { file: dir },
      );
    case "marked": {
      const path = join(dir, LIBRARY_MARKER);
      const marker = libraryMarkerSchema.safeParse(readJson(path));
      if (!marker.success) {
        throw new InputError(
          `${path}: not a medpolicy library marker of a version this medpolicy reads (expected ${JSON.stringify(LIBRARY_MARKER_CONTENT)}): ${issuesText(marker.error)}`,
          { file: path },
        );
      }
      return kind;
    }
    default:
      return kind;
  }
}

function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
}

/** A version in the library, with its authored data and (lazily) its compiled evaluator. */
export interface LibraryEntry extends LoadedVersion {
  source: LibrarySourceEntry;
  folder: string;
  /**
   * Code bindings proposed for this policy and not confirmed (issue 15): their codes route to the
   * policy, where with no section bound they decide `review`, never criteria.
   */
  proposed?: readonly ProposedCodeBinding[];
  /** Bindings after inheritance (a variant's codes and predicates from its corporate policy). */
  codes: CodeBinding[];
  predicates: PredicateBinding[];
  /** The facts this version reads (issue 15), declared in its bindings and those it inherits. */
  vocabulary: Vocabulary;
  /** Checks a case's facts against {@link vocabulary} (InputError naming fact, policy and type). */
  factCheck: FactChecker;
  /** The version the evaluator reads: the ingested policy with authored corrections applied. */
  evaluated: PolicyVersion;
  /**
   * The date from which the version decides (issue 15 item 3): its publication's effective date, else
   * its document's.
   */
  effective: string;
  /**
   * When it was approved (YYYY-MM-DD): the day it was published, else (a document without
   * `status: "draft"`) its document's approval date; absent for a draft, which is never chosen by date.
   */
  approved?: string;
  /** Who published it, when, and the snapshot it decides with (issue 15 item 3); absent if unpublished. */
  publication?: Publication;
  compiled(): CompiledPolicy;
  /** Every id a case may answer for this version (cached). */
  answerable(): ReadonlySet<string>;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as Error).message}`, { file: path });
  }
}

/** ISO date of "today" at the edge (the core never reads the clock). */
export function todayIso(): string {
  return new Date().toISOString().slice(0, 10);
}

/**
 * The policy library (SPEC 1.4): every policy, variant and version, loaded from `policies/<id>/`
 * (source documents with provenance, and the authored bindings beside them).
 */
export class Library {
  readonly entries: LibraryEntry[];
  readonly dir: string;
  /** Findings from loading: authored data that disagrees with the documents. */
  readonly findings: (Finding & { policy: string; version?: string })[] = [];
  /**
   * Proposed code bindings neither confirmed nor dismissed, by policy id (issue 15): publishing a
   * version waits until its policy has none.
   */
  readonly openProposals = new Map<string, readonly ProposedCodeBinding[]>();
  /**
   * What the ingester read from each document, by sha256, policy id and file (issue 15 item 3): a
   * reload (`loadLibrary(dir, { reuse })`) ingests only the documents that changed.
   */
  readonly ingested = new Map<string, IngestedSource>();
  /**
   * {@link librarySignature} of the folder taken before it was read (issue 15 item 3): a watcher that
   * sees another one knows the library changed since (or while) it was loaded.
   */
  signature = "";

  /** Indexes built once: decisions look policies up per request line (SPEC 5 throughput). */
  private readonly byId = new Map<string, LibraryEntry[]>();
  private readonly variants = new Map<string, string[]>();
  private readonly basesByCode = new Map<string, string[]>();
  /** Codes only unconfirmed proposals name (issue 15): consulted when no binding or table names the code. */
  private readonly proposedBasesByCode = new Map<string, string[]>();
  /** {@link resolve}'s answers: base id → state → date of service → version (null: none). */
  private readonly resolved = new Map<string, Map<string, Map<string, LibraryEntry | null>>>();

  constructor(entries: LibraryEntry[], dir: string) {
    this.entries = entries;
    this.dir = dir;
    for (const e of entries) {
      const id = e.policy.identity.id;
      if (!this.byId.has(id)) this.byId.set(id, []);
      this.byId.get(id)!.push(e);
    }
    for (const list of this.byId.values()) {
      list.sort((a, b) => a.effective.localeCompare(b.effective));
    }
    for (const [id, list] of this.byId) {
      const v = list[0]!.policy.identity;
      if (!v.state) continue;
      const key = `${v.baseId}|${v.state}`;
      this.variants.set(key, [...(this.variants.get(key) ?? []), id]);
    }
    // Issue 15 review: only approved versions route codes — an unpublished draft that binds a code
    // another policy governs must not take its production cases (a case naming the draft still reaches it).
    for (const e of entries) {
      if (!e.approved) continue;
      const codes = new Set([
        ...e.codes.flatMap((b) => b.codes),
        ...e.policy.codeTables.flatMap((t) => t.rows.map((r) => r.code)),
      ]);
      for (const code of codes) {
        const bases = this.basesByCode.get(code) ?? [];
        if (!bases.includes(e.policy.identity.baseId)) bases.push(e.policy.identity.baseId);
        this.basesByCode.set(code, bases.sort());
      }
    }
    for (const e of entries) {
      if (!e.approved) continue;
      for (const p of e.proposed ?? []) {
        for (const code of p.codes) {
          if (this.basesByCode.has(code)) continue;
          const bases = this.proposedBasesByCode.get(code) ?? [];
          if (!bases.includes(e.policy.identity.baseId)) bases.push(e.policy.identity.baseId);
          this.proposedBasesByCode.set(code, bases.sort());
        }
      }
    }
  }

  /** Versions of one policy id, oldest effective first. */
  versionsOf(id: string): LibraryEntry[] {
    return this.byId.get(id) ?? [];
  }

  /** Every policy id in the library. */
  ids(): string[] {
    return [...this.byId.keys()].sort();
  }

  /**
   * SPEC 1.4, issue 15 item 3: effective (in force on `today`), superseded, future, or draft (not
   * published, or with no approval date in a library without publication).
   */
  statusOf(entry: LibraryEntry, today: string): VersionStatus {
    if (!entry.approved) return "draft";
    if (entry.effective > today) return "future";
    const inForce = this.inForce(entry.policy.identity.id, today);
    return inForce === entry ? "effective" : "superseded";
  }

  /** The approved version of `id` in force on `date`, if any (drafts are never chosen by date). */
  inForce(id: string, date: string): LibraryEntry | undefined {
    let best: LibraryEntry | undefined;
    for (const e of this.versionsOf(id)) {
      if (!e.approved) continue;
      if (e.effective <= date) best = e;
    }
    return best;
  }

  /** Every published version (issue 15 item 3), by policy and version. */
  publications(): (Publication & { policy: string; version: string })[] {
    return this.entries
      .filter((e) => e.publication !== undefined)
      .map((e) => ({ policy: e.policy.identity.id, version: e.policy.identity.version, ...e.publication! }))
      .sort(
        (a, b) =>
          a.at.localeCompare(b.at) || `${a.policy}@${a.version}`.localeCompare(`${b.policy}@${b.version}`),
      );
  }

  /**
   * `ID` (in force on `today`) or `ID@VERSION` (SPEC 1.4). Throws NotFoundError naming what is missing.
   * A bare `ID` with nothing in force gives the newest approved version, else the newest draft (so
   * `show ID` works on a new library) — unless `approvedOnly` (a case's policy, issue 15 item 3: a
   * draft decides only when named by version).
   */
  get(
    ref: string,
    today: string = todayIso(),
    opts: { approvedOnly?: boolean; drafts?: boolean } = {},
  ): LibraryEntry {
    const [id, version] = ref.split("@") as [string, string | undefined];
    const versions = this.versionsOf(id);
    if (versions.length === 0) {
      throw new NotFoundError(`no policy ${id} in the library (known: ${this.ids().join(", ")})`, {
        policy: id,
      });
    }
    if (version) {
      const v = versions.find((e) => e.policy.identity.version === version);
      if (!v) {
        throw new NotFoundError(
          `no version ${version} of ${id} (versions: ${versions.map((e) => e.policy.identity.version).join(", ")})`,
          { policy: id, version },
        );
      }
      if (opts.approvedOnly && !v.approved && !opts.drafts) {
        // Issue 15 review: a provider's case naming an unpublished draft is not decided by it.
        throw new NotFoundError(`${id}@${version} is a draft: it decides only cases tried by its authors`, {
          policy: id,
          version,
        });
      }
      return v;
    }
    const current = this.inForce(id, today);
    if (current) return current;
    // Nothing in force yet: the newest approved, else the newest draft, so `show ID` still works.
    const approved = versions.filter((e) => e.approved);
    if (approved.length === 0 && opts.approvedOnly) {
      const newest = versions[versions.length - 1]!.policy.identity.version;
      throw new NotFoundError(
        `${id} has no published version: name a draft by its version (${id}@${newest}) to try it`,
        { policy: id },
      );
    }
    return (approved.length ? approved : versions)[(approved.length ? approved : versions).length - 1]!;
  }

  /** SPEC 3 `medpolicy policies`: every policy, variant and version with status and dates. */
  policies(today: string = todayIso()): VersionSummary[] {
    return [...this.entries]
      .sort(
        (a, b) =>
          a.policy.identity.baseId.localeCompare(b.policy.identity.baseId) ||
          (a.policy.identity.state ?? "").localeCompare(b.policy.identity.state ?? "") ||
          a.policy.identity.version.localeCompare(b.policy.identity.version),
      )
      .map((e) => {
        const id = e.policy.identity;
        const row: VersionSummary = {
          id: id.id,
          baseId: id.baseId,
          title: id.title,
          plan: id.plan,
          version: id.version,
          status: this.statusOf(e, today),
          effective: e.effective,
          hash: e.policy.hash,
          // The seed library keeps its package-relative name; a payer's library, the folder as given.
          source: isSeedLibrary(this.dir)
            ? `policies/${e.folder}/${e.source.file}`
            : join(this.dir, e.folder, e.source.file),
        };
        if (id.state) row.state = id.state;
        if (e.approved) row.approved = e.approved;
        if (e.publication) {
          row.approvedBy = e.publication.by;
          row.published = e.publication.at;
        }
        return row;
      });
  }

  /**
   * SPEC 1.4 resolution: the state's own variant of `baseId` effective on the date of service;
   * else the corporate version effective then; undefined when none is.
   */
  resolve(baseId: string, state: string, dateOfService: string): LibraryEntry | undefined {
    // Remembered per policy, state and date (issue 13: `decide` resolves on every case); the library
    // never changes after loading. Each table is bounded, so hostile dates cannot grow it for ever.
    let byState = this.resolved.get(baseId);
    if (byState === undefined) {
      byState = new Map();
      if (this.resolved.size >= 4096) this.resolved.clear();
      this.resolved.set(baseId, byState);
    }
    let byDate = byState.get(state);
    if (byDate === undefined) {
      byDate = new Map();
      if (byState.size >= 4096) byState.clear();
      byState.set(state, byDate);
    }
    let found = byDate.get(dateOfService);
    if (found === undefined) {
      found = this.resolveUncached(baseId, state, dateOfService) ?? null;
      if (byDate.size >= 4096) byDate.clear();
      byDate.set(dateOfService, found);
    }
    return found ?? undefined;
  }

  private resolveUncached(baseId: string, state: string, dateOfService: string): LibraryEntry | undefined {
    for (const id of this.variants.get(`${baseId}|${state}`) ?? []) {
      const e = this.inForce(id, dateOfService);
      if (e) return e;
    }
    return this.inForce(baseId, dateOfService);
  }

  /** Every code {@link policiesForCode} routes to a policy (bindings, code tables, proposals). */
  routedCodes(): IterableIterator<string> {
    return new Set([...this.basesByCode.keys(), ...this.proposedBasesByCode.keys()]).values();
  }

  /** Corporate policy ids whose bindings or code tables name `code` (SPEC 1.5). */
  policiesForCode(code: string): readonly string[] {
    // A code only an unconfirmed proposal names still belongs to its policy (issue 15): routed
    // there, it decides review rather than "no policy governs it".
    return this.basesByCode.get(code) ?? this.proposedBasesByCode.get(code) ?? [];
  }

  /**
   * Identifies a headerless document by content (SPEC 1.1, 002): the library policy whose criteria
   * texts overlap most with the document's, when the overlap is convincing.
   */
  identify(v: PolicyVersion): { id: string; score: number } | undefined {
    const mine = criterionKeys(v);
    if (mine.size === 0) return undefined;
    let best: { id: string; score: number } | undefined;
    for (const e of this.entries) {
      const theirs = criterionKeys(e.policy);
      let common = 0;
      for (const k of mine) if (theirs.has(k)) common++;
      const score = common / Math.max(mine.size, theirs.size);
      // Prefer the corporate id on ties: a headerless document carries no state marker.
      const id = e.policy.identity.state ? e.policy.identity.id : e.policy.identity.baseId;
      if (!best || score > best.score || (score === best.score && !e.policy.identity.state))
        best = { id, score };
    }
    return best && best.score >= 0.6 ? best : undefined;
  }
}

function criterionKeys(v: PolicyVersion): Set<string> {
  const out = new Set<string>();
  const walk = (n: import("../model/index.js").CriterionNode) => {
    if (n.kind === "ref") return;
    out.add(n.text.toLowerCase().replace(/\s+/g, " "));
    if (n.kind !== "leaf") n.children.forEach(walk);
  };
  for (const s of v.sections) if (s.tree) walk(s.tree);
  return out;
}

/** Policy folders of a library: its sub-folders, hidden ones (`.git`) left out. */
function listDirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((d) => !d.startsWith(".") && statSync(join(dir, d)).isDirectory())
    .sort();
}

/**
 * `bindings.json` read as authored bindings plus the unconfirmed proposals beside them (issue 15);
 * InputError naming the file when either part is malformed.
 */
function readBindings(path: string, folder: string): { bindings: Bindings; proposed: ProposedCodeBinding[] } {
  const raw = existsSync(path) ? readJson(path) : { policy: folder };
  let authored: unknown = raw;
  let proposed: ProposedCodeBinding[] = [];
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw) && "proposed" in raw) {
    const { proposed: p, ...rest } = raw as Record<string, unknown>;
    authored = rest;
    const r = z.array(proposedBindingSchema).safeParse(p);
    if (!r.success) {
      throw new InputError(`${path}: proposed.${issuesText(r.error)}`, { file: path });
    }
    proposed = r.data;
  }
  const parsed = bindingsSchema.safeParse(authored);
  if (!parsed.success) {
    throw new InputError(`${path}: ${issuesText(parsed.error)}`, { file: path });
  }
  return { bindings: parsed.data, proposed };
}

/** The proposals of one policy neither dismissed nor confirmed (their codes bound by an authored binding). */
function unconfirmed(
  proposed: readonly ProposedCodeBinding[],
  codes: readonly CodeBinding[],
): ProposedCodeBinding[] {
  const bound = new Set(codes.flatMap((b) => b.codes));
  return proposed
    .filter((p) => p.status !== "dismissed")
    .map((p) => ({ ...p, codes: p.codes.filter((c) => !bound.has(c)) }))
    .filter((p) => p.codes.length > 0);
}

/** What the ingester read from one document (kept so a reload ingests only what changed). */
export type IngestedSource = ReturnType<typeof ingest>;

/** Options of {@link loadLibrary}. */
export interface LoadOptions {
  /**
   * A library loaded before from the same folder (issue 15 item 3: the service reloads on publication),
   * or its folder and what it ingested (a worker thread gets the main thread's, cloned): documents whose
   * bytes, policy id and file are unchanged are not ingested again.
   */
  reuse?: Pick<Library, "dir" | "ingested">;
}

/**
 * A published version checked against the library as loaded (issue 15 item 3): its source document's
 * bytes and the policy hash read from them must be those of its snapshot, and its predicates must read
 * the facts it declares. InputError naming the policy, version and file otherwise.
 */
function checkPublished(
  snap: PublicationSnapshot,
  policy: PolicyVersion,
  source: LibrarySourceEntry,
  sha: string,
  paths: { snapshot: string; source: string },
): Vocabulary {
  const where = { policy: snap.policy, version: snap.version };
  if (snap.source.file !== source.file || snap.source.sha256 !== sha) {
    throw new InputError(
      `${paths.source}: the source document of published ${snap.policy}@${snap.version} changed since it was published (${paths.snapshot} records ${snap.source.file} with sha256 ${snap.source.sha256.slice(0, 12)}…): a published version is immutable; restore the document or publish a new version`,
      { ...where, file: paths.source },
    );
  }
  if (snap.policyHash !== policy.hash) {
    throw new InputError(
      `${paths.snapshot}: published ${snap.policy}@${snap.version} now reads differently from what was published (policy hash ${policy.hash.slice(0, 12)}…, published ${snap.policyHash.slice(0, 12)}…): this medpolicy ingests its document otherwise; publish it again as a new version`,
      { ...where, file: paths.snapshot },
    );
  }
  const vocabulary = new Map<string, FactDecl>();
  for (const d of snap.bindings.facts) vocabulary.set(d.name, d);
  snap.bindings.predicates.forEach((p, i) => {
    const problems = predicateProblems(p.when, vocabulary);
    if (problems.length > 0) {
      throw new InputError(
        `${paths.snapshot}: predicate ${i + 1} ("${p.match}") of published ${snap.policy}@${snap.version}: ${problems.join("; ")}`,
        { ...where, file: paths.snapshot },
      );
    }
  });
  return vocabulary;
}

/**
 * Loads and ingests every document under `dir` (default: the shipped `policies/`), applying the
 * authored provenance (policy id, version where the document cannot name it), bindings with
 * inheritance, and corrections. Throws InputError naming the file on a broken library.
 */
export function loadLibrary(dir: string = defaultPoliciesDir(), opts: LoadOptions = {}): Library {
  // Issue 15: a folder that does not exist or is no library is named, never read as an empty library.
  checkLibraryFolder(dir);
  // Taken before anything is read: a change made while loading shows as a different signature after.
  const signature = librarySignature(dir);
  const reuse = opts.reuse && resolve(opts.reuse.dir) === resolve(dir) ? opts.reuse.ingested : undefined;
  const ingested = new Map<string, IngestedSource>();
  // Issue 15 item 3: each policy folder's publication snapshots and its log of publications.
  const snapshotsOf = new Map<string, Map<string, PublicationSnapshot>>();
  const logOf = new Map<string, ReturnType<typeof readPublicationLog>>();
  const bindingsById = new Map<string, Bindings>();
  const proposedById = new Map<string, ProposedCodeBinding[]>();
  const folderOf = new Map<string, string>();
  const loaded: {
    folder: string;
    source: LibrarySourceEntry;
    /** sha256 of the document's bytes as read now. */
    sha: string;
    versions: PolicyVersion[];
    findings: Finding[];
  }[] = [];
  const libFindings: Library["findings"] = [];

  for (const folder of listDirs(dir)) {
    const base = join(dir, folder);
    const bindingsPath = join(base, "bindings.json");
    const { bindings: authored, proposed } = readBindings(bindingsPath, folder);
    bindingsById.set(authored.policy, authored);
    folderOf.set(authored.policy, folder);
    if (proposed.length) proposedById.set(authored.policy, proposed);
    snapshotsOf.set(folder, readSnapshots(base));
    logOf.set(folder, readPublicationLog(base));
    const sourcesPath = join(base, "sources.json");
    if (!existsSync(sourcesPath)) {
      throw new InputError(`${base}: a policy folder without sources.json (its documents' provenance)`, {
        file: sourcesPath,
      });
    }
    const sources = librarySourcesSchema.safeParse(readJson(sourcesPath));
    if (!sources.success) {
      throw new InputError(`${sourcesPath}: ${issuesText(sources.error)}`, { file: sourcesPath });
    }
    // Bindings for another policy than the folder's documents would be filed under that id and bind
    // nothing here: every code of this policy silently unbound (a copied bindings.json, a renamed id).
    const ids = new Set(sources.data.map((s) => s.policy ?? folder));
    if (existsSync(bindingsPath) && ids.size > 0 && !ids.has(authored.policy)) {
      throw new InputError(
        `${bindingsPath}: "policy" is ${JSON.stringify(authored.policy)}, but the documents of this folder are policy ${[...ids].join(", ")}: name it there, or move the file`,
        { file: bindingsPath, field: "policy" },
      );
    }
    for (const source of sources.data) {
      const path = join(base, source.file);
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (e) {
        throw new InputError(
          `cannot read ${path} (listed in ${sourcesPath}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
          { file: path },
        );
      }
      const sha = createHash("sha256").update(bytes).digest("hex");
      if (sha !== source.sha256) {
        libFindings.push({
          policy: folder,
          code: "source-changed",
          severity: "warning",
          message: `${source.file} does not match the sha256 recorded in sources.json (provenance is stale)`,
        });
      }
      const key = `${sha}|${source.policy ?? folder}|${source.file}`;
      const result =
        reuse?.get(key) ?? ingest(bytes, { policyId: source.policy ?? folder, fileName: source.file });
      ingested.set(key, result);
      let versions = result.versions;
      if (source.version) {
        versions = versions.map((v) => {
          const { version: moved, finding } = withVersion(v, source.version!);
          if (finding)
            libFindings.push({ ...finding, policy: moved.identity.id, version: moved.identity.version });
          return moved;
        });
      }
      loaded.push({ folder, source, sha, versions, findings: result.findings });
    }
  }

  const resolveBindings = (
    id: string,
    seen: Set<string> = new Set(),
  ): { codes: CodeBinding[]; predicates: PredicateBinding[]; facts: FactDecl[] } => {
    const b = bindingsById.get(id);
    if (!b || seen.has(id)) return { codes: [], predicates: [], facts: [] };
    seen.add(id);
    const parent = b.inherits ? resolveBindings(b.inherits, seen) : { codes: [], predicates: [], facts: [] };
    return {
      codes: [...b.codes, ...parent.codes],
      predicates: [...b.predicates, ...parent.predicates],
      facts: [...b.facts, ...parent.facts],
    };
  };

  // Issue 15: each policy's vocabulary is its declared facts (its own, then those it inherits); a
  // fact declared twice differently, or a predicate on an undeclared fact or of the wrong type, is a
  // broken library named by fact, policy and file — never a criterion silently left unknown.
  const vocabularies = new Map<string, Vocabulary>();
  for (const id of bindingsById.keys()) {
    const { facts, predicates } = resolveBindings(id);
    const file = join(dir, folderOf.get(id) ?? id, "bindings.json");
    const vocabulary = new Map<string, FactDecl>();
    for (const d of facts) {
      const prior = vocabulary.get(d.name);
      if (prior && JSON.stringify(prior) !== JSON.stringify(d)) {
        throw new InputError(`${file}: fact "${d.name}" of policy ${id} is declared twice, differently`, {
          file,
          policy: id,
          field: `facts.${d.name}`,
        });
      }
      vocabulary.set(d.name, d);
    }
    predicates.forEach((p, i) => {
      const problems = predicateProblems(p.when, vocabulary);
      if (problems.length > 0) {
        const first = factTests(p.when).find((t) => problems[0]!.includes(`"${t.fact}"`));
        throw new InputError(
          `${file}: predicate ${i + 1} ("${p.match}") of policy ${id}: ${problems.join("; ")}`,
          { file, policy: id, ...(first && { field: `facts.${first.fact}` }) },
        );
      }
    });
    vocabularies.set(id, vocabulary);
  }

  // A version whose document prints no title (the headerless Word text) takes its policy's title —
  // a published one the title it was published with: the title is in the policy hash its snapshot
  // seals, so a later sibling's new title must not reach it.
  const titles = new Map<string, string>();
  for (const l of loaded)
    for (const v of l.versions) if (v.identity.title) titles.set(v.identity.id, v.identity.title);
  for (const l of loaded) {
    const snaps = snapshotsOf.get(l.folder);
    l.versions = l.versions.map((v) => {
      const sealed = snaps?.get(`${v.identity.id}@${v.identity.version}`)?.title;
      const title = sealed || titles.get(v.identity.id);
      if (v.identity.title || !title) return v;
      const named: PolicyVersion = { ...v, identity: { ...v.identity, title } };
      named.hash = policyHash(named);
      return named;
    });
  }

  // Unconfirmed proposals (issue 15): lint names each, on the versions of the document it came from.
  const proposedOf = new Map<string, ProposedCodeBinding[]>();
  for (const [id, proposed] of proposedById) {
    const open = unconfirmed(proposed, resolveBindings(id).codes);
    proposedOf.set(id, open);
    for (const p of open) {
      const from = loaded
        .filter((l) => l.source.file === p.source)
        .flatMap((l) => l.versions)
        .filter((v) => v.identity.id === id);
      const versions = from.length ? from.map((v) => v.identity.version) : [undefined];
      for (const version of versions) {
        libFindings.push({
          policy: id,
          // The line is the proposing document's: given only on the versions read from it.
          ...(version !== undefined && { version, line: p.line }),
          code: "binding-proposed",
          severity: "warning",
          message: `${p.system} ${p.codes.join(" ")} proposed for ${p.section ? `section ${p.section}` : "no section"} (${p.confidence}: ${p.basis}); unconfirmed: decides review until an author moves it to "codes" in bindings.json`,
        });
      }
    }
  }

  const entries: LibraryEntry[] = [];
  const published = new Set<string>();
  for (const { folder, source, sha, versions } of loaded) {
    for (const policy of versions) {
      const id = policy.identity.id;
      const key = `${id}@${policy.identity.version}`;
      const snap = snapshotsOf.get(folder)?.get(key);
      let bindings = bindingsById.get(id) ?? bindingsSchema.parse({ policy: id });
      let { codes, predicates } = resolveBindings(id);
      let vocabulary = vocabularies.get(id) ?? new Map<string, FactDecl>();
      let proposed = proposedOf.get(id);
      let publication: Publication | undefined;
      if (snap) {
        // Issue 15 item 3: a published version decides with what was published, whatever bindings.json
        // says now (later edits change drafts only); its document and snapshot are checked first.
        const snapshotFile = join(folder, PUBLISHED_DIR, `${policy.identity.version}.json`);
        vocabulary = checkPublished(snap, policy, source, sha, {
          snapshot: join(dir, snapshotFile),
          source: join(dir, folder, source.file),
        });
        ({ codes, predicates } = snap.bindings);
        bindings = { policy: id, ...snap.bindings, placements: snap.bindings.placements ?? [] };
        proposed = undefined;
        publication = {
          by: snap.by,
          at: snap.at,
          effective: snap.effective,
          sha256: snap.sha256,
          snapshot: snapshotFile,
        };
        published.add(`${folder}/${key}`);
      }
      // Added with `medpolicy add`: a draft until published, whatever its revision log says.
      const approved = publication
        ? publication.at.slice(0, 10)
        : source.status === "draft"
          ? undefined
          : policy.identity.approved;
      const placed = applyPlacements(
        applyCorrections(policy, bindings.corrections),
        bindings.placements ?? [],
      );
      const excluded = applyExclusions(placed.version, codes);
      const evaluated = excluded.version;
      for (const f of [...placed.findings, ...excluded.findings]) {
        libFindings.push({ ...f, policy: policy.identity.id, version: policy.identity.version });
      }
      let compiled: CompiledPolicy | undefined;
      let answerable: ReadonlySet<string> | undefined;
      const getCompiled = () => {
        compiled ??= compile(evaluated, predicates, vocabulary);
        return compiled;
      };
      entries.push({
        policy,
        bindings,
        status: approved ? "effective" : "draft",
        source,
        folder,
        effective: publication?.effective ?? policy.identity.effective,
        ...(approved !== undefined && { approved }),
        ...(publication !== undefined && { publication }),
        ...(proposed !== undefined && proposed.length > 0 ? { proposed } : {}),
        codes,
        predicates,
        vocabulary,
        factCheck: factChecker(policy.identity, vocabulary),
        evaluated,
        compiled: getCompiled,
        answerable: () => {
          answerable ??= answerableIds(getCompiled());
          return answerable;
        },
      });
    }
  }
  checkPublications(dir, snapshotsOf, logOf, published, libFindings);
  const lib = new Library(entries, dir);
  lib.findings.push(...libFindings);
  for (const [id, open] of proposedOf) if (open.length > 0) lib.openProposals.set(id, open);
  for (const [k, v] of ingested) lib.ingested.set(k, v);
  lib.signature = signature;
  return lib;
}

/**
 * Issue 15 item 3: every snapshot belongs to a version the library holds (a published version whose
 * document left sources.json is refused, not forgotten), and every publication the folder's log
 * records still has its snapshot, unchanged. A snapshot the log lacks (a publish interrupted between
 * the two writes) is a finding.
 */
function checkPublications(
  dir: string,
  snapshotsOf: ReadonlyMap<string, ReadonlyMap<string, PublicationSnapshot>>,
  logOf: ReadonlyMap<string, ReturnType<typeof readPublicationLog>>,
  published: ReadonlySet<string>,
  findings: Library["findings"],
): void {
  for (const [folder, snaps] of snapshotsOf) {
    for (const [key, s] of snaps) {
      if (published.has(`${folder}/${key}`)) continue;
      const file = join(dir, folder, PUBLISHED_DIR, `${s.version}.json`);
      throw new InputError(
        `${file}: published ${key} is not in the library any more (no document in ${join(dir, folder, "sources.json")} holds it): a published version cannot be removed`,
        { file, policy: s.policy, version: s.version },
      );
    }
    const log = logOf.get(folder) ?? [];
    const logFile = join(dir, folder, PUBLICATIONS_LOG);
    for (const line of log) {
      const s = snaps.get(`${line.policy}@${line.version}`);
      if (!s || s.sha256 !== line.sha256) {
        const file = join(dir, folder, PUBLISHED_DIR, `${line.version}.json`);
        throw new InputError(
          `${file}: ${logFile} records ${line.policy}@${line.version} published by ${line.by} at ${line.at}, but its snapshot ${s ? "is another one" : "is missing"}: a published version is immutable`,
          { file, policy: line.policy, version: line.version },
        );
      }
    }
    for (const [key, s] of snaps) {
      if (log.some((l) => `${l.policy}@${l.version}` === key)) continue;
      findings.push({
        policy: s.policy,
        version: s.version,
        code: "publication-unlogged",
        severity: "warning",
        message: `published ${key} (by ${s.by} at ${s.at}) is not in ${logFile}`,
      });
    }
  }
}
