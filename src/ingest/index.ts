/**
 * ingest/: policy document → computable model (SPEC 1.2–1.4), and back to markdown (SPEC 5).
 *
 * Formats are recognised line by line, never by document: markdown converted from PDF, plain PDF text
 * with running page headers, Word text with bookmarks and one-cell-per-line tables, redlines, LaTeX
 * math, HTML tags, tab tables.
 */
import { type Finding, InputError, type PolicyVersion, type Unplaced } from "../model/index.js";
import { type ProposedBinding, proposeBindings } from "./codes.js";
import { buildVersion } from "./document.js";
import { convertDocument } from "./formats/index.js";
import { DEFAULT_MAX_BYTES, decodeDocument } from "./input.js";
import { hasRedline, sideText } from "./redline.js";

export type { CodeSystem, ProposedBinding } from "./codes.js";
export { renderMarkdown } from "./render.js";

/** Words any coverage policy uses; a document with none of them is not a policy. */
const COVERAGE_LANGUAGE =
  /\b(?:medically necessary|reasonable and necessary|coverage|covered|investigational|experimental|unproven|prior authori[sz]ation|criteria)\b/i;

export interface IngestOptions {
  /** The policy id, for a document that prints none (or to override what it prints). */
  policyId?: string;
  /** Named in error messages. */
  fileName?: string;
  /** Refuse larger inputs (default 20 MB). */
  maxBytes?: number;
}

export interface IngestResult {
  /** One version, or two for a redline document (prior, then proposed). */
  versions: PolicyVersion[];
  /** Text that could not be placed, with line numbers (all versions, without repeats). */
  unplaced: Unplaced[];
  /** Document defects and oddities (all versions, without repeats). */
  findings: Finding[];
  /**
   * Code → section bindings the document suggests (of the last version), for an author to confirm
   * (issue 12; `codes.ts`). Not part of any version: they do not change its hash.
   */
  proposedBindings: ProposedBinding[];
}

function dedupe<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => {
    const k = key(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Reads a policy document into its version(s) (SPEC 1.2–1.4). A redline yields the prior version
 * (deletions kept, insertions dropped) and the proposed one (deletions dropped, insertions kept).
 *
 * PDF, Word (DOCX) and HTML documents are first read into the text form (`ingest/formats/`, told by
 * content); text and markdown are read as they are.
 *
 * @throws InputError (exit 2) for an empty, binary, undecodable or too large input, an unreadable PDF
 *   or Word file (damaged, encrypted, no text), and for a document in which no policy sections or
 *   criteria can be found.
 */
export function ingest(text: string | Buffer, opts: IngestOptions = {}): IngestResult {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  // PDF, DOCX and HTML are read into the text form first (ingest/formats/); text passes as it is.
  const converted = convertDocument(text, {
    ...(opts.fileName ? { fileName: opts.fileName } : {}),
    maxBytes,
  });
  const source = decodeDocument(converted?.text ?? text, maxBytes, opts.fileName);
  const rawLines = source.split(/\r\n|\r|\n/);
  const build = opts.policyId ? { policyId: opts.policyId } : {};
  let versions: PolicyVersion[];
  let lastLines = rawLines;
  if (hasRedline(source)) {
    const prior = buildVersion(sideText(rawLines, "prior"), { ...build, redline: "prior" });
    lastLines = sideText(rawLines, "proposed");
    const proposed = buildVersion(lastLines, { ...build, redline: "proposed" });
    if (prior.hash === proposed.hash) {
      // Marks only outside what the policy's content covers: one version.
      const { redline: _r, ...identity } = proposed.identity;
      versions = [{ ...proposed, identity }];
    } else versions = [prior, proposed];
  } else {
    versions = [buildVersion(rawLines, build)];
  }
  if (versions.every((v) => v.sections.length === 0)) {
    // A coverage document may state no criteria of its own (CMS NCD 150.3 points to other manuals):
    // it is ingested, and lint says so. Text that speaks of no coverage at all is not a policy.
    if (!COVERAGE_LANGUAGE.test(source)) {
      const where = opts.fileName ? { file: opts.fileName } : {};
      throw new InputError(
        "no policy criteria found: the document states no coverage (no policy sections, no coverage or medical-necessity statements)",
        where,
      );
    }
    for (const v of versions)
      v.findings.push({
        code: "no-criteria",
        severity: "warning",
        message:
          "the document states no criteria that decide a request (no section with a criteria list): nothing can be approved under it",
      });
  }
  return {
    versions,
    unplaced: dedupe(
      versions.flatMap((v) => v.unplaced),
      (u) => `${u.line}\u0000${u.reason}\u0000${u.text}`,
    ),
    findings: dedupe(
      [...(converted?.findings ?? []), ...versions.flatMap((v) => v.findings)],
      (f) => `${f.code}\u0000${f.line}\u0000${f.criterion}\u0000${f.message}`,
    ),
    proposedBindings: proposeBindings(versions[versions.length - 1] as PolicyVersion, lastLines),
  };
}
