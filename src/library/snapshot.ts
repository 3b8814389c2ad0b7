/**
 * Publication snapshots (issue 15 item 3): what decides a published version, frozen when it was
 * published — `<library>/<folder>/published/<VERSION>.json` — and the library's own audit log of
 * publications, `<library>/<folder>/publications.ndjson`. The loader reads both here; writing them is
 * `publish.ts`'s. A snapshot carries a sha256 over its canonical JSON, so a changed snapshot, a changed
 * source document or a deleted snapshot is refused on load rather than silently deciding otherwise.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import {
  canonicalJson,
  codeBindingSchema,
  correctionSchema,
  factDeclSchema,
  InputError,
  placementSchema,
  predicateBindingSchema,
} from "../model/index.js";

/** Folder of a policy folder holding its publication snapshots. */
export const PUBLISHED_DIR = "published";
/** A policy folder's log of publications, one JSON line each, appended by `medpolicy publish`. */
export const PUBLICATIONS_LOG = "publications.ndjson";

const HEX64 = /^[0-9a-f]{64}$/;
/** A version usable as a file name (`<VERSION>.json`): the `YYYY-MM` of every library, and no separators. */
export const SAFE_VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

/** The resolved bindings a published version decides with: its own and those it inherits, corrections for it. */
export const snapshotBindingsSchema = z.strictObject({
  codes: z.array(codeBindingSchema),
  predicates: z.array(predicateBindingSchema),
  facts: z.array(factDeclSchema),
  corrections: z.array(correctionSchema),
  /** Authored placements of unplaced text for this version (absent in snapshots that had none). */
  placements: z.array(placementSchema).optional(),
});

/** `published/<VERSION>.json` (issue 15): who published a version, when, from when it decides, and with what. */
export const snapshotSchema = z.strictObject({
  format: z.literal("medpolicy-publication"),
  formatVersion: z.literal(1),
  policy: z.string().min(1).max(100),
  version: z.string().regex(SAFE_VERSION),
  title: z.string().max(1000),
  /** Who published it (`--by`). */
  by: z.string().min(1).max(200),
  /** When (ISO 8601 instant, the clock at the edge). */
  at: z.iso.datetime(),
  /** The date from which it decides (YYYY-MM-DD). */
  effective: z.iso.date(),
  /** The document it was read from, and the sha256 of its bytes when published. */
  source: z.strictObject({ file: z.string().min(1).max(200), sha256: z.string().regex(HEX64) }),
  /** The policy hash (SPEC 1.3) of the version as the ingester read it when published. */
  policyHash: z.string().regex(HEX64),
  bindings: snapshotBindingsSchema,
  /** sha256 of the canonical JSON of this object without `sha256`. */
  sha256: z.string().regex(HEX64),
});
export type PublicationSnapshot = z.infer<typeof snapshotSchema>;

/** One line of `publications.ndjson`: the library's own record of a publication. */
export const publicationLogSchema = z.strictObject({
  at: z.iso.datetime(),
  by: z.string().min(1).max(200),
  policy: z.string().min(1).max(100),
  version: z.string().regex(SAFE_VERSION),
  effective: z.iso.date(),
  /** The snapshot's sha256. */
  sha256: z.string().regex(HEX64),
  /** The snapshot, relative to the policy folder. */
  snapshot: z.string().max(200),
});
export type PublicationLogLine = z.infer<typeof publicationLogSchema>;

/** How a published version came to be (what `medpolicy policies` and the service's audit trail show). */
export interface Publication {
  by: string;
  at: string;
  effective: string;
  /** The snapshot's sha256. */
  sha256: string;
  /** The snapshot file, relative to the library: `<folder>/published/<VERSION>.json`. */
  snapshot: string;
}

/** sha256 (hex) of the canonical JSON of a snapshot without its own `sha256` field. */
export function snapshotHash(snapshot: Record<string, unknown>): string {
  return createHash("sha256")
    .update(canonicalJson({ ...snapshot, sha256: undefined }))
    .digest("hex");
}

function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
}

/**
 * The snapshots of one policy folder, checked: each parses, is named after its version, and matches its
 * own sha256 (InputError naming the file, policy and version otherwise). Keyed `ID@VERSION`.
 */
export function readSnapshots(folderPath: string): Map<string, PublicationSnapshot> {
  const out = new Map<string, PublicationSnapshot>();
  const dir = join(folderPath, PUBLISHED_DIR);
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    // Temporary files of a publication in progress, and anything hidden, are not snapshots.
    if (!name.endsWith(".json") || name.startsWith(".")) continue;
    const path = join(dir, name);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, "utf8"));
    } catch (e) {
      throw new InputError(`cannot read the publication snapshot ${path}: ${(e as Error).message}`, {
        file: path,
      });
    }
    const named =
      raw !== null && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const where = {
      file: path,
      ...(typeof named.policy === "string" && { policy: named.policy }),
      ...(typeof named.version === "string" && { version: named.version }),
    };
    // The hash first, over the bytes' own object: a snapshot edited by hand is named as changed.
    if (typeof named.sha256 !== "string" || snapshotHash(named) !== named.sha256) {
      throw new InputError(
        `${path}: the publication snapshot${where.policy ? ` of ${where.policy}@${where.version}` : ""} does not match its sha256: it was changed after publishing (a published version is immutable; publish a new version instead)`,
        where,
      );
    }
    const parsed = snapshotSchema.safeParse(raw);
    if (!parsed.success) {
      throw new InputError(`${path}: not a publication snapshot: ${issuesText(parsed.error)}`, where);
    }
    const s = parsed.data;
    if (name !== `${s.version}.json`) {
      throw new InputError(
        `${path}: the snapshot of ${s.policy}@${s.version} must be named ${s.version}.json`,
        where,
      );
    }
    const key = `${s.policy}@${s.version}`;
    if (out.has(key)) throw new InputError(`${path}: ${key} is published twice`, where);
    out.set(key, s);
  }
  return out;
}

/** `publications.ndjson` of one policy folder, each line checked (InputError naming the file and line). */
export function readPublicationLog(folderPath: string): PublicationLogLine[] {
  const path = join(folderPath, PUBLICATIONS_LOG);
  if (!existsSync(path)) return [];
  const out: PublicationLogLine[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((text, i) => {
      if (text.trim() === "") return;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (e) {
        throw new InputError(`${path}:${i + 1}: ${(e as Error).message}`, { file: path, line: i + 1 });
      }
      const parsed = publicationLogSchema.safeParse(raw);
      if (!parsed.success) {
        throw new InputError(`${path}:${i + 1}: ${issuesText(parsed.error)}`, { file: path, line: i + 1 });
      }
      out.push(parsed.data);
    });
  return out;
}

/**
 * What changes when anything in a library changes (issue 15 item 3: the service reloads on it): the
 * name, size and modification time of `library.json` and of every file in every policy folder and its
 * `published/` folder. Hidden and `.tmp` files (writes in progress) are left out. Cheap: stats only.
 */
export function librarySignature(dir: string): string {
  const parts: string[] = [];
  /** Records the file's stamp; whether it is a folder. */
  const stamp = (path: string, name: string): boolean => {
    try {
      const s = statSync(path);
      parts.push(`${name}:${s.isDirectory() ? "d" : s.size}:${s.mtimeMs}`);
      return s.isDirectory();
    } catch {
      parts.push(`${name}:-`);
      return false;
    }
  };
  const listed = (path: string): string[] => {
    try {
      return readdirSync(path)
        .filter((n) => !n.startsWith(".") && !n.endsWith(".tmp"))
        .sort();
    } catch {
      return [];
    }
  };
  for (const name of listed(dir)) {
    const path = join(dir, name);
    if (!stamp(path, name)) continue;
    for (const file of listed(path)) {
      stamp(join(path, file), `${name}/${file}`);
      if (file === PUBLISHED_DIR) {
        for (const snap of listed(join(path, file))) stamp(join(path, file, snap), `${name}/${file}/${snap}`);
      }
    }
  }
  return parts.join("\n");
}
