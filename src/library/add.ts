/**
 * A payer's own library (issue 15, item 1): `initLibrary` makes an empty one, `addDocument` ingests a
 * document into it — the source bytes as given, their provenance, a bindings skeleton holding the code
 * bindings the document proposes (unconfirmed), and lint's findings. Below the edges: `medpolicy init` /
 * `medpolicy add` (src/cli/library-commands.ts) and the service's authoring API (issue 15 item 5,
 * src/server/authoring.ts) both call these.
 *
 * Layout (SPEC 1.2, as the seed library `policies/`): `DIR/library.json` (the marker), and per policy
 * `DIR/<id>/NNN_<hash>.<ext>` (documents), `sources.json` (provenance), `bindings.json` (authored
 * bindings, and `proposed` ones until an author confirms them by moving them to `codes`).
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, extname, join } from "node:path";
import { detectFormat } from "../ingest/formats/index.js";
import { ingest } from "../ingest/index.js";
import { InputError, type PolicyVersion } from "../model/index.js";
import {
  checkLibraryFolder,
  isSeedLibrary,
  LIBRARY_MARKER,
  LIBRARY_MARKER_CONTENT,
  type Library,
  type LibraryEntry,
  type LibrarySourceEntry,
  libraryFolderKind,
  loadLibrary,
  type ProposedCodeBinding,
} from "./library.js";
import { type LintFinding, lintVersion } from "./lint.js";
import { withLibraryLock } from "./lock.js";
import { withVersion } from "./versions.js";

/** What `medpolicy init` did: made a library, adopted a seed-layout folder, or found one already. */
export interface InitResult {
  library: string;
  status: "created" | "adopted" | "exists";
}

function writeNew(path: string, text: string | Buffer): void {
  // `wx`: never overwrite what another process (or the user) put there meanwhile.
  writeFileSync(path, text, { flag: "wx" });
}

/** Replaces a file whole (write beside, then rename): a reader sees the old or the new, never half. */
function writeReplacing(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/**
 * `medpolicy init DIR` (issue 15): makes `DIR` an empty library — `library.json` and nothing else —
 * creating the folder where it does not exist. A folder already a library is left as it is; one in the
 * seed layout (policy folders, no marker) is adopted by writing the marker. InputError (exit 2) for a
 * non-empty folder that is no library, a file, or the seed library shipped with medpolicy.
 */
export function initLibrary(dir: string): InitResult {
  const kind = libraryFolderKind(dir);
  const marker = join(dir, LIBRARY_MARKER);
  switch (kind) {
    case "not-a-folder":
      throw new InputError(`cannot make a library in ${dir}: it is not a folder`, { file: dir });
    case "other":
      throw new InputError(
        `cannot make a library in ${dir}: the folder is not empty and is not a policy library (init needs a new or empty folder)`,
        { file: dir },
      );
    case "marked":
      checkLibraryFolder(dir);
      return { library: dir, status: "exists" };
    case "folders": {
      if (isSeedLibrary(dir)) {
        throw new InputError(
          `${dir} is the seed library shipped with medpolicy: it is read-only; make your own with medpolicy init DIR`,
          { file: dir },
        );
      }
      writeNew(marker, json(LIBRARY_MARKER_CONTENT));
      try {
        loadLibrary(dir);
      } catch (e) {
        // A folder that does not load is not adopted: the marker goes again.
        rmSync(marker, { force: true });
        throw e;
      }
      return { library: dir, status: "adopted" };
    }
    default:
      if (kind === "missing") mkdirSync(dir, { recursive: true });
      writeNew(marker, json(LIBRARY_MARKER_CONTENT));
      return { library: dir, status: "created" };
  }
}

export interface AddOptions {
  /** The document's name as given (provenance; its extension names the stored copy). */
  fileName: string;
  /** The policy id, where the document prints none, or to read it under another. */
  id?: string;
  /** The version (`YYYY-MM`), where the document names none (no revision log or dates). */
  version?: string;
  /** The time of adding (the clock is read at the edge). */
  now: Date;
  /**
   * The library as loaded before from `dir` (the service's, issue 15 item 5): its documents are not
   * ingested again when the library is loaded before and after adding.
   */
  reuse?: Library;
}

/** One version `add` put into the library. */
export interface AddedVersion {
  id: string;
  version: string;
  title: string;
  effective: string;
  approved?: string;
  status: string;
}

export interface AddResult {
  /** `unchanged`: the same bytes were already in the library (nothing written). */
  status: "added" | "unchanged";
  library: string;
  policy: string;
  /** The stored document, relative to the library: `<id>/NNN_<hash>.<ext>`. */
  file: string;
  source: LibrarySourceEntry;
  versions: AddedVersion[];
  /** Code bindings the document proposes that `add` wrote to `bindings.json` as unconfirmed. */
  proposed: ProposedCodeBinding[];
  /** Lint's findings for the added versions (empty when unchanged). */
  findings: LintFinding[];
}

/** A policy id usable as a folder name on every platform: no separators, no `.`/`..`, bounded. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The format recorded in provenance, and the extension of the stored copy. */
function formatOf(bytes: Buffer, fileName: string): { format: string; ext: string } {
  const kind = detectFormat(bytes);
  const given = extname(fileName).slice(1).toLowerCase();
  switch (kind) {
    case "pdf":
      return { format: "PDF", ext: "pdf" };
    case "docx":
      return { format: "Word (DOCX)", ext: "docx" };
    case "html":
      return { format: "HTML", ext: given === "htm" ? "htm" : "html" };
    default:
      if (given === "md" || given === "markdown") return { format: "markdown", ext: given };
      return { format: "text", ext: given === "text" ? "text" : "txt" };
  }
}

function readIdentity(v: PolicyVersion) {
  const i = v.identity;
  return {
    id: i.id,
    title: i.title,
    version: i.version,
    effective: i.effective,
    ...(i.approved !== undefined && { approved: i.approved }),
    ...(i.plan ? { plan: i.plan } : {}),
    ...(i.state !== undefined && { state: i.state }),
  };
}

/** Next `NNN` in a policy folder: one past the highest number its documents carry. */
function nextNumber(folder: string): number {
  if (!existsSync(folder)) return 0;
  let n = -1;
  for (const name of readdirSync(folder)) {
    const m = /^(\d{1,6})_/.exec(name);
    if (m) n = Math.max(n, Number(m[1]));
  }
  return n + 1;
}

const codesKey = (codes: readonly string[]) => [...codes].sort().join(" ");

/**
 * `medpolicy add FILE` (issue 15): ingests `bytes` (text, markdown, HTML, PDF or DOCX, as
 * `medpolicy ingest` reads them) into the library `dir` as the next document of policy `<id>/`,
 * with its provenance and the document's proposed code bindings as unconfirmed; then loads the library
 * (a library that would not load is restored as it was) and returns lint's findings for the new
 * versions. The same bytes twice: `unchanged`, nothing written.
 *
 * @throws InputError (exit 2): `dir` is not a library made by `medpolicy init` (or is the seed library),
 *   the document cannot be read, names no policy id (and no `--id`) or no version (and no `--version`),
 *   or its id@version is already in the library.
 */
export function addDocument(dir: string, bytes: Buffer, opts: AddOptions): AddResult {
  return withLibraryLock(dir, () => addDocumentLocked(dir, bytes, opts));
}

function addDocumentLocked(dir: string, bytes: Buffer, opts: AddOptions): AddResult {
  const kind = checkLibraryFolder(dir);
  if (isSeedLibrary(dir)) {
    throw new InputError(
      `${dir} is the seed library shipped with medpolicy: it is read-only; add to your own (medpolicy init DIR, then --library DIR)`,
      { file: dir },
    );
  }
  if (kind !== "marked") {
    throw new InputError(
      `${dir} has no ${LIBRARY_MARKER}: add writes only into a library made by medpolicy init (run medpolicy init ${dir} to adopt it)`,
      { file: dir },
    );
  }
  if (opts.id !== undefined && !SAFE_ID.test(opts.id)) {
    throw new InputError(
      `--id ${JSON.stringify(opts.id)} cannot name a policy folder: use letters, digits, '.', '_' and '-' (at most 100)`,
      { field: "--id" },
    );
  }
  if (opts.version !== undefined && !MONTH.test(opts.version)) {
    throw new InputError(`--version ${JSON.stringify(opts.version)} is not a revision month YYYY-MM`, {
      field: "--version",
    });
  }
  const before = loadLibrary(dir, opts.reuse ? { reuse: opts.reuse } : {});
  const today = opts.now.toISOString().slice(0, 10);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const same = before.entries.find((e) => e.source.sha256 === sha256);
  if (same) {
    return {
      status: "unchanged",
      library: dir,
      policy: same.policy.identity.id,
      file: `${same.folder}/${same.source.file}`,
      source: same.source,
      versions: before.entries
        .filter((e) => e.folder === same.folder && e.source.file === same.source.file)
        .map((e) => summary(before, e, today)),
      proposed: [],
      findings: [],
    };
  }

  // The ingest path of `medpolicy ingest`: the same reader, the id from --id or the document.
  const result = ingest(bytes, { fileName: opts.fileName, ...(opts.id ? { policyId: opts.id } : {}) });
  const id = opts.id ?? result.versions[0]?.identity.id ?? "";
  if (!id) {
    throw new InputError(
      `${opts.fileName} prints no policy id (no reference number in its header): name it with --id ID`,
      { file: opts.fileName, field: "--id" },
    );
  }
  if (!SAFE_ID.test(id)) {
    throw new InputError(
      `${opts.fileName} names its policy ${JSON.stringify(id)}, which cannot name a folder: give another with --id ID`,
      { file: opts.fileName, field: "--id" },
    );
  }
  if (opts.version !== undefined && result.versions.length > 1) {
    throw new InputError(
      `${opts.fileName} is a redline holding ${result.versions.length} versions: --version names only one (leave it out)`,
      { file: opts.fileName, field: "--version" },
    );
  }
  const versions = result.versions.map((v) => (opts.version ? withVersion(v, opts.version).version : v));
  for (const v of versions) {
    if (!v.identity.version) {
      throw new InputError(
        `${opts.fileName} names no version (no revision log, no revision or effective date): give one with --version YYYY-MM`,
        { file: opts.fileName, field: "--version" },
      );
    }
    const clash = before.versionsOf(id).find((e) => e.policy.identity.version === v.identity.version);
    if (clash) {
      throw new InputError(
        `${id}@${v.identity.version} is already in the library (${clash.folder}/${clash.source.file}): a revision must be another version (--version YYYY-MM)`,
        { file: opts.fileName, policy: id, version: v.identity.version },
      );
    }
  }

  const folder = join(dir, id);
  const { format, ext } = formatOf(bytes, opts.fileName);
  const file = `${String(nextNumber(folder)).padStart(3, "0")}_${sha256.slice(0, 16)}.${ext}`;
  const source: LibrarySourceEntry = {
    file,
    origin: basename(opts.fileName),
    sha256,
    size: bytes.length,
    format,
    // Issue 15 item 3: every version it holds is a draft until `medpolicy publish`, whatever its log says.
    status: "draft",
    added: opts.now.toISOString(),
    ...(opts.id !== undefined && { policy: opts.id }),
    ...(opts.version !== undefined && { version: opts.version }),
    ingested: {
      identifiedBy: opts.id !== undefined ? "--id" : "header",
      versions: result.versions.map(readIdentity),
    },
  };

  const sourcesPath = join(folder, "sources.json");
  const bindingsPath = join(folder, "bindings.json");
  const createdFolder = !existsSync(folder);
  const oldSources = createdFolder ? undefined : readFileSync(sourcesPath, "utf8");
  const oldBindings = existsSync(bindingsPath) ? readFileSync(bindingsPath, "utf8") : undefined;
  // Bindings as authored, kept as they are; the document's proposals appended unless already there.
  const bindings: Record<string, unknown> = oldBindings
    ? (JSON.parse(oldBindings) as Record<string, unknown>)
    : { policy: id, codes: [], predicates: [], corrections: [], placements: [] };
  const confirmed = new Set(((bindings.codes ?? []) as { codes: string[] }[]).flatMap((b) => b.codes));
  const existing = (bindings.proposed ?? []) as ProposedCodeBinding[];
  const seen = new Set(existing.map((p) => `${codesKey(p.codes)}|${p.section ?? ""}`));
  const proposed: ProposedCodeBinding[] = [];
  for (const p of result.proposedBindings) {
    const open = p.codes.filter((c) => !confirmed.has(c));
    const key = `${codesKey(open)}|${p.section ?? ""}`;
    if (open.length === 0 || seen.has(key)) continue;
    seen.add(key);
    proposed.push({ status: "unconfirmed", ...p, codes: open, source: file });
  }
  bindings.proposed = [...existing, ...proposed];

  const sources = oldSources ? (JSON.parse(oldSources) as unknown[]) : [];
  // What has been written so far, so a failure undoes exactly that and nothing that was there before.
  let step = 0;
  try {
    if (createdFolder) mkdirSync(folder);
    step = 1;
    writeNew(join(folder, file), bytes);
    step = 2;
    writeReplacing(bindingsPath, json(bindings));
    step = 3;
    writeReplacing(sourcesPath, json([...sources, source]));
    step = 4;
    const after = loadLibrary(dir, { reuse: before });
    const added = after.entries.filter((e) => e.folder === id && e.source.file === file);
    if (added.length === 0) {
      throw new InputError(`${id}/${file} was written but the library does not load it`, {
        file: join(folder, file),
      });
    }
    return {
      status: "added",
      library: dir,
      policy: id,
      file: `${id}/${file}`,
      source,
      versions: added.map((e) => summary(after, e, today)),
      proposed,
      findings: added.flatMap((e) => lintVersion(after, e.policy)),
    };
  } catch (e) {
    // Nothing half-added: the library goes back to what it was.
    if (step >= 4) {
      if (oldSources === undefined) rmSync(sourcesPath, { force: true });
      else writeReplacing(sourcesPath, oldSources);
    }
    if (step >= 3) {
      if (oldBindings === undefined) rmSync(bindingsPath, { force: true });
      else writeReplacing(bindingsPath, oldBindings);
    }
    if (step >= 2) rmSync(join(folder, file), { force: true });
    if (step >= 1 && createdFolder) {
      try {
        rmdirSync(folder);
      } catch {
        // Not empty: something else was put there meanwhile; leave it.
      }
    }
    throw e;
  }
}

function summary(lib: Library, e: LibraryEntry, today: string): AddedVersion {
  const i = e.policy.identity;
  return {
    id: i.id,
    version: i.version,
    title: i.title,
    // Issue 15 item 3: as the library holds it (a draft has no approval until it is published).
    effective: e.effective,
    ...(e.approved !== undefined && { approved: e.approved }),
    status: lib.statusOf(e, today),
  };
}
