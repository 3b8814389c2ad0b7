/**
 * Publishing (issue 15 item 3): a draft version becomes effective — who approved it, when, from when
 * it decides — and immutable. `publishVersion` checks the version may be published, then writes its
 * snapshot `<folder>/published/<VERSION>.json` (the source's sha256, the policy hash, and the resolved
 * bindings it decides with, sealed by a sha256 over the snapshot's canonical JSON) and appends the
 * publication to `<folder>/publications.ndjson`. The snapshot is the one commit point: it appears whole
 * (written beside, then hard-linked into place, never over another), so a reader — the service's
 * library watcher — sees the version published or not, never half.
 */
import { createHash } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { InputError } from "../model/index.js";
import type { VersionStatus } from "./api.js";
import {
  checkLibraryFolder,
  isSeedLibrary,
  LIBRARY_MARKER,
  type Library,
  type LibraryEntry,
  loadLibrary,
  type ProposedCodeBinding,
} from "./library.js";
import { type LintFinding, lintVersion } from "./lint.js";
import { withLibraryLock } from "./lock.js";
import {
  PUBLICATIONS_LOG,
  PUBLISHED_DIR,
  type PublicationLogLine,
  type PublicationSnapshot,
  SAFE_VERSION,
  snapshotHash,
  snapshotSchema,
} from "./snapshot.js";

export interface PublishOptions {
  /** Who approves the version (`--by NAME`): recorded in the snapshot, the log and the audit trail. */
  by: string;
  /** From when it decides (YYYY-MM-DD); default the document's effective date, else the day of `now`. */
  effective?: string;
  /** The time of publishing (the clock is read at the edge). */
  now: Date;
  /**
   * The library as last loaded from `dir` (the service's live one): documents whose bytes did not
   * change are not ingested again (`loadLibrary`'s `reuse`), so publishing one version in a library of
   * hundreds costs one document's work, not the whole library's.
   */
  reuse?: Library;
}

export interface PublishResult {
  library: string;
  policy: string;
  version: string;
  title: string;
  by: string;
  at: string;
  effective: string;
  /** Its status on the day of publishing: `effective`, `future`, or `superseded` (a later version is in force). */
  status: VersionStatus;
  /** The snapshot, relative to the library. */
  snapshot: string;
  /** The snapshot's sha256. */
  sha256: string;
  /** The log the publication was appended to, relative to the library. */
  log: string;
  /** How much it decides with: counts of the resolved bindings frozen in the snapshot. */
  bindings: { codes: number; predicates: number; facts: number; corrections: number };
  /** Lint's warnings for the version (errors refuse publishing). */
  warnings: LintFinding[];
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function isDate(s: string): boolean {
  if (!ISO_DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** `--by`: a name on one line, bounded (it goes into JSON files and the audit trail). */
function checkBy(by: string): string {
  const name = by.trim();
  if (name.length === 0 || name.length > 200 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new InputError("--by names who approves the version: a name on one line, at most 200 characters", {
      field: "--by",
    });
  }
  return name;
}

/**
 * The proposals that keep `entry`'s policy from being published: those of its own bindings and of the
 * policies it inherits codes from (the snapshot freezes the inherited codes too), neither confirmed
 * (the code bound in `codes`) nor dismissed (`"status": "dismissed"`).
 */
function openProposalsOf(lib: Library, entry: LibraryEntry): { policy: string; p: ProposedCodeBinding }[] {
  const out: { policy: string; p: ProposedCodeBinding }[] = [];
  const seen = new Set<string>();
  let id: string | undefined = entry.policy.identity.id;
  let bindings = entry.bindings;
  while (id !== undefined && !seen.has(id)) {
    seen.add(id);
    for (const p of lib.openProposals.get(id) ?? []) out.push({ policy: id, p });
    id = bindings.inherits;
    if (id !== undefined) bindings = lib.versionsOf(id).find((e) => !e.publication)?.bindings ?? bindings;
  }
  return out;
}

/**
 * `medpolicy publish ID@VERSION --by NAME [--effective DATE]` (issue 15 item 3): publishes a version
 * of the library `dir`. From then on the version is `effective` (or `future` before its effective
 * date), chosen by date of service, and decides with its snapshot's bindings: later edits of
 * bindings.json change drafts only.
 *
 * @throws InputError (exit 2): `dir` is not a library made by `medpolicy init` (or is the seed
 *   library), the reference names no version, `--by` or `--effective` is malformed, the version is
 *   already published, lint finds errors in it, a code binding proposed for its policy is neither
 *   confirmed nor dismissed, or its document no longer matches the sha256 recorded when it was added.
 * @throws NotFoundError (exit 1): no such policy or version in the library.
 */
export function publishVersion(dir: string, ref: string, opts: PublishOptions): PublishResult {
  return withLibraryLock(dir, () => publishVersionLocked(dir, ref, opts));
}

function publishVersionLocked(dir: string, ref: string, opts: PublishOptions): PublishResult {
  const kind = checkLibraryFolder(dir);
  if (isSeedLibrary(dir)) {
    throw new InputError(
      `${dir} is the seed library shipped with medpolicy: it is read-only; publish in your own (medpolicy init DIR)`,
      { file: dir },
    );
  }
  if (kind !== "marked") {
    throw new InputError(
      `${dir} has no ${LIBRARY_MARKER}: publish writes only into a library made by medpolicy init (run medpolicy init ${dir} to adopt it)`,
      { file: dir },
    );
  }
  const [id, version, extra] = ref.split("@");
  if (!id || !version || extra !== undefined) {
    throw new InputError(
      `publish needs the version: ID@VERSION (e.g. NCD.20.29@2017-04), not ${JSON.stringify(ref)}`,
      { field: "ID@VERSION" },
    );
  }
  const by = checkBy(opts.by);
  if (opts.effective !== undefined && !isDate(opts.effective)) {
    throw new InputError(`--effective ${JSON.stringify(opts.effective)} is not a date YYYY-MM-DD`, {
      field: "--effective",
    });
  }
  const lib = loadLibrary(dir, opts.reuse ? { reuse: opts.reuse } : {});
  const entry = lib.get(ref);
  const where = { policy: id, version };
  if (entry.publication) {
    throw new InputError(
      `${ref} was published by ${entry.publication.by} at ${entry.publication.at}: a published version is immutable (add a revision and publish that)`,
      { ...where, file: join(dir, entry.publication.snapshot) },
    );
  }
  if (!SAFE_VERSION.test(version)) {
    throw new InputError(`version ${JSON.stringify(version)} cannot name a snapshot file`, where);
  }

  const findings = lintVersion(lib, entry.policy);
  const errors = findings.filter((f) => f.severity === "error");
  if (errors.length > 0) {
    throw new InputError(
      `${ref} cannot be published: lint finds ${errors.length} error${errors.length > 1 ? "s" : ""} (medpolicy lint ${ref}): ${errors
        .slice(0, 5)
        .map((f) => `${f.line !== undefined ? `line ${f.line}: ` : ""}${f.code}: ${f.message}`)
        .join("; ")}${errors.length > 5 ? "; …" : ""}`,
      { ...where, ...(errors[0]!.line !== undefined && { line: errors[0]!.line }) },
      errors.map((f) => ({
        message: `${f.code}: ${f.message}`,
        where: { ...where, ...(f.line !== undefined && { line: f.line }) },
      })),
    );
  }
  const open = openProposalsOf(lib, entry);
  if (open.length > 0) {
    const file = join(dir, open[0]!.policy, "bindings.json");
    throw new InputError(
      `${ref} cannot be published: ${open.length} proposed code binding${open.length > 1 ? "s are" : " is"} neither confirmed nor dismissed (${open
        .slice(0, 5)
        .map(({ policy, p }) => `${policy}: ${p.system} ${p.codes.join(" ")}`)
        .join(
          "; ",
        )}${open.length > 5 ? "; …" : ""}): bind each code in "codes", or set its proposal's "status" to "dismissed", in ${file}`,
      { ...where, file },
    );
  }
  const sourcePath = join(dir, entry.folder, entry.source.file);
  const sha = createHash("sha256").update(readFileSync(sourcePath)).digest("hex");
  if (sha !== entry.source.sha256) {
    throw new InputError(
      `${sourcePath} does not match the sha256 recorded in sources.json: the document changed since it was added (add it again as a revision)`,
      { ...where, file: sourcePath },
    );
  }

  const at = opts.now.toISOString();
  const effective = opts.effective ?? (entry.policy.identity.effective || at.slice(0, 10));
  // Who published what, when, effective when: said alike by the snapshot and the result.
  const publication = { policy: id, version, title: entry.policy.identity.title, by, at, effective };
  const placements = (entry.bindings.placements ?? []).filter(
    (p) => !p.versions || p.versions.includes(version),
  );
  const body: Omit<PublicationSnapshot, "sha256"> = {
    format: "medpolicy-publication",
    formatVersion: 1,
    ...publication,
    source: { file: entry.source.file, sha256: sha },
    policyHash: entry.policy.hash,
    // What decides, after inheritance: the codes, predicates and facts it resolves, and the
    // corrections that apply to this version.
    bindings: {
      codes: entry.codes,
      predicates: entry.predicates,
      facts: [...entry.vocabulary.values()],
      corrections: entry.bindings.corrections.filter((c) => !c.versions || c.versions.includes(version)),
      ...(placements.length > 0 && { placements }),
    },
  };
  // Plain JSON, as it will be read back: the hash is over what the file holds.
  const plain = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  const snapshot = { ...plain, sha256: snapshotHash(plain) };
  snapshotSchema.parse(snapshot);

  const snapshotText = `${JSON.stringify(snapshot, null, 2)}\n`;
  // Issue 15 review: the library must load with the publication *before* it is linked into place —
  // once there, a running service may already decide with it and audit it, so it is never removed.
  trialLoad(lib, entry.folder, version, snapshotText);

  const folder = join(dir, entry.folder);
  const publishedDir = join(folder, PUBLISHED_DIR);
  const snapshotRel = join(entry.folder, PUBLISHED_DIR, `${version}.json`);
  const target = join(dir, snapshotRel);
  mkdirSync(publishedDir, { recursive: true });
  // Written beside under a hidden name (never read as a snapshot), then linked into place: the
  // snapshot appears whole, and never over one another publisher put there meanwhile.
  const tmp = join(publishedDir, `.${version}.json.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(tmp, snapshotText, { flag: "wx" });
  try {
    linkSync(tmp, target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") {
      throw new InputError(
        `${ref} was published meanwhile (${target} exists): a published version is immutable`,
        {
          ...where,
          file: target,
        },
      );
    }
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }

  const line: PublicationLogLine = {
    at,
    by,
    policy: id,
    version,
    effective,
    sha256: snapshot.sha256,
    snapshot: join(PUBLISHED_DIR, `${version}.json`),
  };
  const logRel = join(entry.folder, PUBLICATIONS_LOG);
  appendFileSync(join(dir, logRel), `${JSON.stringify(line)}\n`);
  // Loaded after the trial: a concurrent edit of the folder can still make this fail, but the
  // publication stands (the snapshot and its log line are written).
  const after = loadLibrary(dir, { reuse: lib });
  const now = after.get(ref);
  return {
    library: dir,
    ...publication,
    status: after.statusOf(now, at.slice(0, 10)),
    snapshot: snapshotRel,
    sha256: snapshot.sha256,
    log: logRel,
    bindings: {
      codes: body.bindings.codes.length,
      predicates: body.bindings.predicates.length,
      facts: body.bindings.facts.length,
      corrections: body.bindings.corrections.length,
    },
    warnings: findings.filter((f) => f.severity === "warning"),
  };
}

/**
 * Loads the library as it will be once `snapshotText` is `published/<version>.json` of `folder`, in a
 * throwaway copy made of symbolic links (the documents are not read again: `reuse`); throws what the
 * load throws, naming the library's own files, and writes nothing in the library.
 */
function trialLoad(lib: Library, folder: string, version: string, snapshotText: string): void {
  const copy = mkdtempSync(join(tmpdir(), "medpolicy-publish-"));
  // Links point at absolute paths: a relative target reads from the link's own folder (the copy), so
  // a library named relatively (`--library lib`, `MEDPOLICY_LIBRARY=./lib`) was not found.
  const dir = resolve(lib.dir);
  try {
    for (const name of readdirSync(dir)) {
      if (name !== folder) symlinkSync(join(dir, name), join(copy, name));
    }
    const src = join(dir, folder);
    mkdirSync(join(copy, folder, PUBLISHED_DIR), { recursive: true });
    for (const name of readdirSync(src)) {
      if (name !== PUBLISHED_DIR) symlinkSync(join(src, name), join(copy, folder, name));
    }
    const published = join(src, PUBLISHED_DIR);
    if (existsSync(published)) {
      for (const name of readdirSync(published)) {
        symlinkSync(join(published, name), join(copy, folder, PUBLISHED_DIR, name));
      }
    }
    writeFileSync(join(copy, folder, PUBLISHED_DIR, `${version}.json`), snapshotText);
    const reuse = { dir: copy, ingested: lib.ingested } as unknown as Library;
    try {
      loadLibrary(copy, { reuse });
    } catch (e) {
      if (e instanceof Error) e.message = e.message.split(copy).join(lib.dir);
      throw e;
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}
