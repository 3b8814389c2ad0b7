import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
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
  type SourceEntry,
  sourcesSchema,
} from "../model/index.js";
import type { LoadedVersion, VersionStatus, VersionSummary } from "./api.js";
import { applyCorrections, withVersion } from "./versions.js";

/** Folder of the policy library shipped with the project (`policies/`). */
export function defaultPoliciesDir(): string {
  return join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "policies");
}

/** A version in the library, with its authored data and (lazily) its compiled evaluator. */
export interface LibraryEntry extends LoadedVersion {
  source: SourceEntry;
  folder: string;
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
          source: `policies/${e.folder}/${e.source.file}`,
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
    return this.basesByCode.get(code) ?? [];
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

function listDirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((d) => statSync(join(dir, d)).isDirectory())
    .sort();
}

/**
 * Loads and ingests every document under `dir` (default: the shipped `policies/`), applying the
 * authored provenance (policy id, version where the document cannot name it), bindings with
 * inheritance, and corrections. Throws InputError naming the file on a broken library.
 */
export function loadLibrary(dir: string = defaultPoliciesDir()): Library {
  if (!existsSync(dir)) throw new InputError(`policy library folder not found: ${dir}`, { file: dir });
  const bindingsById = new Map<string, Bindings>();
  const loaded: { folder: string; source: SourceEntry; versions: PolicyVersion[]; findings: Finding[] }[] =
    [];
  const libFindings: Library["findings"] = [];

  for (const folder of listDirs(dir)) {
    const base = join(dir, folder);
    const bindingsPath = join(base, "bindings.json");
    const parsed = bindingsSchema.safeParse(
      existsSync(bindingsPath) ? readJson(bindingsPath) : { policy: folder },
    );
    if (!parsed.success) {
      throw new InputError(
        `${bindingsPath}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        {
          file: bindingsPath,
        },
      );
    }
    bindingsById.set(parsed.data.policy, parsed.data);
    const sourcesPath = join(base, "sources.json");
    const sources = sourcesSchema.safeParse(readJson(sourcesPath));
    if (!sources.success) {
      throw new InputError(
        `${sourcesPath}: ${sources.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        {
          file: sourcesPath,
        },
      );
    }
    for (const source of sources.data) {
      const path = join(base, source.file);
      const bytes = readFileSync(path);
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

  const entries: LibraryEntry[] = [];
  for (const { folder, source, versions } of loaded) {
    for (const policy of versions) {
      const id = policy.identity.id;
      const bindings = bindingsById.get(id) ?? bindingsSchema.parse({ policy: id });
      const { codes, predicates } = resolveBindings(id);
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
