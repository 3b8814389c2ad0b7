/**
 * Authoring a payer's library through the service (issue 15 item 5), below the edges: a version's
 * document as the ingester reads it (its text, the line numbers of its tree), its criteria with the facts
 * their bound predicates read, and `bindings.json` read, checked exactly as loading checks it (a
 * throwaway load of the library with the new file) and replaced whole (written beside, then renamed).
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { questionOf } from "../evaluate/index.js";
import { convertDocument } from "../ingest/formats/index.js";
import { DEFAULT_MAX_BYTES, decodeDocument } from "../ingest/input.js";
import {
  type Bindings,
  bindingsSchema,
  type CriterionNode,
  type ErrorWhere,
  InputError,
  MedpolicyError,
  NotFoundError,
} from "../model/index.js";
import {
  type Library,
  type LibraryEntry,
  loadLibrary,
  type ProposedCodeBinding,
  proposedBindingSchema,
} from "./library.js";
import { type LintFinding, lintVersion } from "./lint.js";
import { withLibraryLock } from "./lock.js";

/** The whole of `bindings.json`: the authored bindings and the proposals beside them (issue 15). */
export const bindingsFileSchema = bindingsSchema.extend({
  proposed: z.array(proposedBindingSchema).max(5000).optional(),
});
export type BindingsFile = z.input<typeof bindingsFileSchema>;

/** `bindings.json` of a policy as the authoring API shows it. */
export interface PolicyBindings {
  /** bindings.json without `proposed`. */
  authored: Bindings;
  proposed: ProposedCodeBinding[];
  /** sha256 (hex) of the file's bytes: what `If-Match` names when it is replaced. */
  etag: string;
}

/** sha256 (hex) of a bindings.json's bytes (of no bytes when the file is missing). */
export function bindingsEtag(bytes: Buffer | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The folder of policy `id` in `lib`; NotFoundError (404) for a policy the library lacks. */
export function policyFolder(lib: Library, id: string): string {
  const versions = lib.versionsOf(id);
  if (versions.length === 0) {
    throw new NotFoundError(`no policy ${id} in the library`, { policy: id });
  }
  return versions[0]!.folder;
}

function readIfThere(path: string): Buffer {
  return existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
}

/** The etag of policy `id`'s bindings.json as it is on disk now (its bytes only: a broken file has one too). */
export function policyBindingsEtag(lib: Library, id: string): string {
  return bindingsEtag(readIfThere(join(lib.dir, policyFolder(lib, id), "bindings.json")));
}

/**
 * Policy `id`'s `bindings.json` as it is on disk now: its authored part, its proposals, and its etag.
 * InputError naming the file when it is not what loading accepts (edited by hand since).
 */
export function readPolicyBindings(lib: Library, id: string): PolicyBindings {
  const path = join(lib.dir, policyFolder(lib, id), "bindings.json");
  const bytes = readIfThere(path);
  const raw: unknown = bytes.length === 0 ? { policy: id } : parseJson(bytes, path);
  const r = bindingsFileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new InputError(`${path}: ${i.path.join(".") || "(root)"}: ${i.message}`, {
      file: path,
      policy: id,
    });
  }
  const { proposed, ...authored } = r.data;
  return { authored, proposed: proposed ?? [], etag: bindingsEtag(bytes) };
}

function parseJson(bytes: Buffer, path: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as Error).message}`, { file: path });
  }
}

/**
 * The document of `entry` as the ingester reads it (PDF, Word and HTML converted to its text form; text
 * decoded): the text whose lines the version's tree and findings number.
 */
export function sourceText(lib: Library, entry: LibraryEntry): string {
  const file = entry.source.file;
  const bytes = readFileSync(join(lib.dir, entry.folder, file));
  const converted = convertDocument(bytes, { fileName: file });
  return decodeDocument(converted?.text ?? bytes, DEFAULT_MAX_BYTES, file);
}

/** A question of a version an author can bind a predicate to (issue 15 item 5). */
export interface AuthoringCriterion {
  /** The id a case answers (`B.1.a`, a group's id for its condition, `<id>.note`). */
  id: string;
  text: string;
  /** A leaf criterion, a group's own condition, or a note's condition. */
  kind: "leaf" | "condition" | "note";
  line: number;
  /** The section it belongs to. */
  section: string;
  /** The facts its bound predicates read (empty: answered by a person). */
  facts: string[];
}

/**
 * Every question of `entry` in document order — leaves, group conditions, note conditions — with the
 * facts the predicates bound to it read (as the compiled version binds them).
 */
export function authoringCriteria(entry: LibraryEntry): AuthoringCriterion[] {
  const compiled = entry.compiled();
  const factsOf = (id: string) => [...(questionOf(compiled, id)?.facts ?? [])];
  const out: AuthoringCriterion[] = [];
  for (const s of entry.policy.sections) {
    const walk = (n: CriterionNode) => {
      if (n.kind === "ref") return;
      if (n.kind === "leaf") {
        out.push({ id: n.id, text: n.text, kind: "leaf", line: n.line, section: s.id, facts: factsOf(n.id) });
      } else if (n.condition !== undefined) {
        out.push({
          id: n.id,
          text: n.condition,
          kind: "condition",
          line: n.line,
          section: s.id,
          facts: factsOf(n.id),
        });
      }
      if (n.note) {
        const note = n.note;
        out.push({
          id: note.id,
          text: note.condition,
          kind: "note",
          line: note.line,
          section: s.id,
          facts: factsOf(note.id),
        });
      }
      if (n.kind !== "leaf") n.children.forEach(walk);
    };
    if (s.tree) walk(s.tree);
  }
  return out;
}

/** `text` with every occurrence of `from` replaced (paths of the throwaway copy named as the library's). */
function moved(text: string, from: string, to: string): string {
  return text.split(from).join(to);
}

function relocate(err: unknown, from: string, to: string): unknown {
  if (!(err instanceof MedpolicyError)) return err;
  const where = (w: ErrorWhere): ErrorWhere =>
    w.file === undefined ? w : { ...w, file: moved(w.file, from, to) };
  if (err instanceof InputError) {
    return new InputError(
      moved(err.message, from, to),
      where(err.where),
      err.issues.map((i) => ({ message: moved(i.message, from, to), where: where(i.where) })),
    );
  }
  return new MedpolicyError(err.kind, moved(err.message, from, to), where(err.where));
}

/**
 * Loads `lib`'s library as it would be with policy `id`'s bindings.json replaced by `text` — a
 * throwaway copy (links to every file but that one), so the check is exactly the loader's (schema,
 * inheritance, facts declared twice, predicates on undeclared facts or of the wrong type, published
 * versions unchanged) and the library itself is never seen half-written. Documents ingested for `lib`
 * are not ingested again. Returns the loaded copy and lint's findings for the policy's versions.
 *
 * @throws InputError naming the library's file, the policy and the fact, as loading would.
 */
export function checkPolicyBindings(
  lib: Library,
  id: string,
  text: string,
): { library: Library; findings: LintFinding[] } {
  const folder = policyFolder(lib, id);
  const copy = mkdtempSync(join(tmpdir(), "medpolicy-bindings-"));
  try {
    for (const name of readdirSync(lib.dir)) {
      if (name !== folder) symlinkSync(join(lib.dir, name), join(copy, name));
    }
    mkdirSync(join(copy, folder));
    for (const name of readdirSync(join(lib.dir, folder))) {
      if (name !== "bindings.json") symlinkSync(join(lib.dir, folder, name), join(copy, folder, name));
    }
    writeFileSync(join(copy, folder, "bindings.json"), text);
    // What the loader reads of `reuse` is the folder and what it ingested: the copy names the same
    // documents (same bytes, policy and file), so they are not read by the ingester again.
    const reuse = { dir: copy, ingested: lib.ingested } as unknown as Library;
    let loaded: Library;
    try {
      loaded = loadLibrary(copy, { reuse });
    } catch (e) {
      throw relocate(e, copy, lib.dir);
    }
    const findings = loaded
      .versionsOf(id)
      .flatMap((e) => lintVersion(loaded, e.policy))
      .map((f) => ({ ...f, message: moved(f.message, copy, lib.dir) }));
    return { library: loaded, findings };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/**
 * Versions in force (approved) of policy `id`, or of a policy inheriting its bindings, that decide with
 * `bindings.json` as it is now because no publication snapshot froze them (a library adopted from the
 * seed layout): editing the file would change their decisions, so an author may not (issue 15 review).
 */
export function unfrozenVersions(lib: Library, id: string): string[] {
  const ids = new Set([id]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of lib.entries) {
      const from = e.bindings.inherits;
      if (from !== undefined && ids.has(from) && !ids.has(e.policy.identity.id)) {
        ids.add(e.policy.identity.id);
        grew = true;
      }
    }
  }
  return lib.entries
    .filter((e) => ids.has(e.policy.identity.id) && e.approved !== undefined && e.publication === undefined)
    .map((e) => `${e.policy.identity.id}@${e.policy.identity.version}`);
}

/**
 * Replaces policy `id`'s bindings.json with `text` when its bytes are still those `ifMatch` names (the
 * sha256 the author read), written beside and renamed into place: a reader sees the old file or the new.
 * Returns the new etag, or `{ stale }` with the file's etag now when another write came first.
 */
export function replacePolicyBindings(
  lib: Library,
  id: string,
  text: string,
  ifMatch: string,
): { etag: string } | { stale: string } {
  // The etag compared and the file replaced under one lock: another process cannot write in between.
  return withLibraryLock(lib.dir, () => replaceLocked(lib, id, text, ifMatch));
}

function replaceLocked(
  lib: Library,
  id: string,
  text: string,
  ifMatch: string,
): { etag: string } | { stale: string } {
  const path = join(lib.dir, policyFolder(lib, id), "bindings.json");
  const now = policyBindingsEtag(lib, id);
  if (now !== ifMatch) return { stale: now };
  // `.tmp`: left out of the library's signature while it is written (snapshot.ts).
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, text, { flag: "wx" });
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return { etag: bindingsEtag(text) };
}
