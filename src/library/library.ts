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
  type Finding,
  InputError,
  NotFoundError,
  type PolicyVersion,
  type PredicateBinding,
  policyHash,
  sourceSchema,
} from "../model/index.js";
import type { LoadedVersion, VersionStatus, VersionSummary } from "./api.js";
import { applyCorrections, withVersion } from "./versions.js";

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
  status: z.literal("unconfirmed"),
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
  /** The version the evaluator reads: the ingested policy with authored corrections applied. */
  evaluated: PolicyVersion;
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
      list.sort((a, b) => a.policy.identity.effective.localeCompare(b.policy.identity.effective));
    }
    for (const [id, list] of this.byId) {
      const v = list[0]!.policy.identity;
      if (!v.state) continue;
      const key = `${v.baseId}|${v.state}`;
      this.variants.set(key, [...(this.variants.get(key) ?? []), id]);
    }
    for (const e of entries) {
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

  /** SPEC 1.4: effective (in force on `today`), superseded, future, or draft (no approval date). */
  statusOf(entry: LibraryEntry, today: string): VersionStatus {
    if (!entry.policy.identity.approved) return "draft";
    if (entry.policy.identity.effective > today) return "future";
    const inForce = this.inForce(entry.policy.identity.id, today);
    return inForce === entry ? "effective" : "superseded";
  }

  /** The approved version of `id` in force on `date`, if any (drafts are never chosen by date). */
  inForce(id: string, date: string): LibraryEntry | undefined {
    let best: LibraryEntry | undefined;
    for (const e of this.versionsOf(id)) {
      if (!e.policy.identity.approved) continue;
      if (e.policy.identity.effective <= date) best = e;
    }
    return best;
  }

  /**
   * `ID` (in force on `today`) or `ID@VERSION` (SPEC 1.4). Throws NotFoundError naming what is missing.
   */
  get(ref: string, today: string = todayIso()): LibraryEntry {
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
      return v;
    }
    const current = this.inForce(id, today);
    if (current) return current;
    // Nothing in force yet: the newest approved, else the newest draft, so `show ID` still works.
    const approved = versions.filter((e) => e.policy.identity.approved);
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
          effective: id.effective,
          hash: e.policy.hash,
          // The seed library keeps its package-relative name; a payer's library, the folder as given.
          source: isSeedLibrary(this.dir)
            ? `policies/${e.folder}/${e.source.file}`
            : join(this.dir, e.folder, e.source.file),
        };
        if (id.state) row.state = id.state;
        if (id.approved) row.approved = id.approved;
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

/** The proposals of one policy whose codes no authored binding of it confirms. */
function unconfirmed(
  proposed: readonly ProposedCodeBinding[],
  codes: readonly CodeBinding[],
): ProposedCodeBinding[] {
  const bound = new Set(codes.flatMap((b) => b.codes));
  return proposed
    .map((p) => ({ ...p, codes: p.codes.filter((c) => !bound.has(c)) }))
    .filter((p) => p.codes.length > 0);
}

/**
 * Loads and ingests every document under `dir` (default: the shipped `policies/`), applying the
 * authored provenance (policy id, version where the document cannot name it), bindings with
 * inheritance, and corrections. Throws InputError naming the file on a broken library.
 */
export function loadLibrary(dir: string = defaultPoliciesDir()): Library {
  // Issue 15: a folder that does not exist or is no library is named, never read as an empty library.
  checkLibraryFolder(dir);
  const bindingsById = new Map<string, Bindings>();
  const proposedById = new Map<string, ProposedCodeBinding[]>();
  const loaded: {
    folder: string;
    source: LibrarySourceEntry;
    versions: PolicyVersion[];
    findings: Finding[];
  }[] = [];
  const libFindings: Library["findings"] = [];

  for (const folder of listDirs(dir)) {
    const base = join(dir, folder);
    const bindingsPath = join(base, "bindings.json");
    const { bindings: authored, proposed } = readBindings(bindingsPath, folder);
    bindingsById.set(authored.policy, authored);
    if (proposed.length) proposedById.set(authored.policy, proposed);
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
      const result = ingest(bytes, { policyId: source.policy ?? folder, fileName: source.file });
      let versions = result.versions;
      if (source.version) {
        versions = versions.map((v) => {
          const { version: moved, finding } = withVersion(v, source.version!);
          if (finding)
            libFindings.push({ ...finding, policy: moved.identity.id, version: moved.identity.version });
          return moved;
        });
      }
      loaded.push({ folder, source, versions, findings: result.findings });
    }
  }

  const resolveBindings = (
    id: string,
    seen: Set<string> = new Set(),
  ): { codes: CodeBinding[]; predicates: PredicateBinding[] } => {
    const b = bindingsById.get(id);
    if (!b || seen.has(id)) return { codes: [], predicates: [] };
    seen.add(id);
    const parent = b.inherits ? resolveBindings(b.inherits, seen) : { codes: [], predicates: [] };
    return { codes: [...b.codes, ...parent.codes], predicates: [...b.predicates, ...parent.predicates] };
  };

  // A version whose document prints no title (the headerless Word text) takes its policy's title.
  const titles = new Map<string, string>();
  for (const l of loaded)
    for (const v of l.versions) if (v.identity.title) titles.set(v.identity.id, v.identity.title);
  for (const l of loaded) {
    l.versions = l.versions.map((v) => {
      const title = titles.get(v.identity.id);
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
  for (const { folder, source, versions } of loaded) {
    for (const policy of versions) {
      const id = policy.identity.id;
      const bindings = bindingsById.get(id) ?? bindingsSchema.parse({ policy: id });
      const { codes, predicates } = resolveBindings(id);
      const proposed = proposedOf.get(id);
      const evaluated = applyCorrections(policy, bindings.corrections);
      let compiled: CompiledPolicy | undefined;
      let answerable: ReadonlySet<string> | undefined;
      const getCompiled = () => {
        compiled ??= compile(evaluated, predicates);
        return compiled;
      };
      entries.push({
        policy,
        bindings,
        status: policy.identity.approved ? "effective" : "draft",
        source,
        folder,
        ...(proposed !== undefined && proposed.length > 0 ? { proposed } : {}),
        codes,
        predicates,
        evaluated,
        compiled: getCompiled,
        answerable: () => {
          answerable ??= answerableIds(getCompiled());
          return answerable;
        },
      });
    }
  }
  const lib = new Library(entries, dir);
  lib.findings.push(...libFindings);
  return lib;
}
