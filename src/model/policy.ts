/**
 * The computable policy model (SPEC 1.3, 1.4): what ingestion yields and everything else reads.
 * Plain data only — no behaviour — so it serialises to JSON and back unchanged.
 */

/** Printed label styles of list levels; a criterion id is written in the style of each level (SPEC 1.4). */
export type LabelStyle = "roman" | "upper" | "digit" | "lower" | "lowerRoman";

/** Where a piece of the model came from in its source document (1-based line). */
export interface SourceRef {
  line: number;
}

/**
 * A note tied to a criterion (SPEC 1.3): the `*` note on CP.MP.173 II.A.1.a. Its `condition` is the
 * question answered at `<criterion>.note`; when it holds, the criterion goes to medical-director review.
 */
export interface CriterionNote {
  /** `<criterion id>.note` — the answer key for the note's condition. */
  id: string;
  marker: string;
  text: string;
  /** The circumstances under which the note applies, as a yes/no statement. */
  condition: string;
  /** `review`: when the condition holds the criterion may be waived by a reviewer (outcome `review`). */
  effect: "review" | "informational";
  line: number;
}

interface NodeBase {
  /** Stable criterion id: list positions written in each level's label style (`I.A.2.g`). */
  id: string;
  /** The label as printed in the document (may repeat or skip; position decides the id). */
  label: string;
  /** The exact text of the criterion (for a group: its lead-in). */
  text: string;
  line: number;
  note?: CriterionNote;
}

/** A single yes/no criterion. */
export interface LeafNode extends NodeBase {
  kind: "leaf";
}

/**
 * A group of criteria. `condition`, when the lead-in states one ("Chronic intractable pain of malignant
 * origin when all of the following…"), is a question of its own, answered at the group's id, and must
 * hold in addition to the children. For `none`, children are contraindications: met = none present.
 */
export interface GroupNode extends NodeBase {
  kind: "all" | "any" | "none";
  condition?: string;
  /**
   * The items are printed joined by "and" where the lead-in says "any": a contradiction the section's
   * uncertainty records (it decides review). Kept on the node so that a rendering prints it again.
   */
  joined?: "and";
  children: CriterionNode[];
}

/** "at least n of the following" — met once n children are met. */
export interface AtLeastNode extends NodeBase {
  kind: "atLeast";
  n: number;
  condition?: string;
  children: CriterionNode[];
}

/**
 * A reference to another section of the same policy ("when the above criteria for the preliminary
 * trial are met"): evaluated as that section's tree on the same answers.
 */
export interface RefNode {
  kind: "ref";
  id: string;
  /** Section id the reference resolves to, e.g. `I`. */
  target: string;
  text: string;
  line: number;
}

export type CriterionNode = LeafNode | GroupNode | AtLeastNode | RefNode;
export type BranchNode = GroupNode | AtLeastNode;

/**
 * Kinds of policy section (SPEC 1.3; issue 12). `medically-necessary`: a covered section whose criteria
 * decide ("medically necessary", "reasonable and necessary", "covered", "established when");
 * `not-proven`: not covered ("investigational", "not medically necessary", "will not cover", an
 * exclusion list); `uncertain`: the language does not say safely which — such a section decides
 * `review`, never `approved`, and lint says why; `other`: no coverage statement (a general paragraph).
 */
export type SectionKind = "medically-necessary" | "not-proven" | "uncertain" | "other";

export interface Section {
  /** `I`, `II`, … */
  id: string;
  label: string;
  kind: SectionKind;
  /** The section's statement (its lead-in, as printed). */
  text: string;
  line: number;
  /** The criteria tree (root id = section id) for a medically-necessary section; absent otherwise. */
  tree?: BranchNode;
  /** The heading the section was found under, where no printed label starts it ("Coverage Rationale"). */
  heading?: string;
  /** The titled sub-policy this section belongs to (its ids are prefixed with the sub-policy's id). */
  subPolicy?: string;
  /**
   * Why the reading of this section is uncertain (its kind, or a list's logic assumed): a section with
   * any such reason decides `review` where it would have decided `approved` or `denied` (issue 12).
   */
  uncertain?: string[];
}

/** A titled sub-policy whose sections restart their numbering (CP.MP.239): ids are `S<n>.<section>…`. */
export interface SubPolicy {
  /** `S1`, `S2`, … by position. */
  id: string;
  title: string;
  line: number;
}

/**
 * A named non-criteria part of the document (issue 12, "nothing silent"): every line that is not a
 * criterion, note, cross-reference or code row belongs to one of these or is reported as unplaced.
 */
export interface DocumentPart {
  /** description, background, coding, log, references, header, disclaimer, toc, other. */
  name: string;
  /** The heading as printed, where the part has one. */
  heading?: string;
  /** First and last line (1-based, inclusive). */
  from: number;
  to: number;
}

/** "Refer to CP.PHAR.149 … for requests for Baclofen." */
export interface CrossReference {
  target: string;
  title: string;
  /** What requests the reference redirects ("Baclofen"), when the sentence says. */
  subject?: string;
  text: string;
  line: number;
}

export type CodeCoverage = "supports" | "does-not-support" | "unspecified";

export interface CodeRow {
  code: string;
  description: string;
  /** Plan marker printed after the code (LA's `*`). */
  marker?: string;
  line: number;
}

export interface CodeTable {
  /** The header of the code column: `CPT® Codes`, `HCPCS Codes`, `ICD-10-CM Codes`… */
  system: string;
  /** Whether the table's heading says its codes support coverage. */
  coverage: CodeCoverage;
  heading?: string;
  rows: CodeRow[];
  line: number;
}

/** A plan marker's meaning, from the document's note (LA: `*` = not on the state fee schedule). */
export interface CodeMarker {
  marker: string;
  meaning: "not-on-fee-schedule" | "other";
  /** Age (years) under which such codes are reviewed case by case, when the note says so. */
  reviewUnderAge?: number;
  text: string;
  line: number;
}

export interface RevisionEntry {
  description: string;
  /** The revision as printed (`02/24`, `12/01/20`). */
  revisionRaw: string;
  /** `YYYY-MM`. */
  revision: string;
  /** ISO date, where the log gives one. */
  approved?: string;
  /** ISO date, where the log gives one. */
  effective?: string;
  line: number;
}

/** A defect or oddity found while reading the document (reported by `medpolicy lint`). */
export interface Finding {
  code: string;
  severity: "error" | "warning" | "info";
  message: string;
  line?: number;
  criterion?: string;
}

/**
 * The uncertainty reason the ingester gives a section with unplaced text inside it (issue 12), written
 * and read here so the two stay one format: authored placements (issue 15) lift it line by line.
 */
export function unplacedInsideReason(section: string, lines: readonly number[], more: boolean): string {
  return `text inside section ${section} could not be placed (line${lines.length > 1 ? "s" : ""} ${lines.join(", ")}${more ? ", …" : ""})`;
}

const UNPLACED_INSIDE = /^text inside section (\S+) could not be placed \(lines? ([\d, ]+?)(, …)?\)$/;

/** The section, lines and whether more were left out, of an {@link unplacedInsideReason}; else undefined. */
export function parseUnplacedInsideReason(
  reason: string,
): { section: string; lines: number[]; more: boolean } | undefined {
  const m = UNPLACED_INSIDE.exec(reason);
  if (!m) return undefined;
  return { section: m[1]!, lines: m[2]!.split(", ").map(Number), more: m[3] !== undefined };
}

/** Text the ingester could not place into the model (SPEC 1.2: never silently dropped). */
export interface Unplaced {
  line: number;
  text: string;
  reason: string;
}

export interface PolicyIdentity {
  /** Reference number, `CP.MP.173`, `LA.CP.MP.173`. */
  id: string;
  /** Corporate id the variant adapts (`CP.MP.173`); equal to `id` for a corporate policy. */
  baseId: string;
  title: string;
  /** Two-letter state for a state variant; absent for corporate. */
  state?: string;
  plan: string;
  /** `YYYY-MM` — the revision month that names this version. */
  version: string;
  /** ISO date when approved; absent means a draft (SPEC 1.4). */
  approved?: string;
  /** ISO date from which the version applies. */
  effective: string;
  /** For a redline document: which side this version is. */
  redline?: "prior" | "proposed";
}

/** One version of one policy, as ingested. */
export interface PolicyVersion {
  identity: PolicyIdentity;
  description: string;
  sections: Section[];
  crossReferences: CrossReference[];
  codeTables: CodeTable[];
  codeMarkers: CodeMarker[];
  revisionLog: RevisionEntry[];
  references: string[];
  background: string;
  findings: Finding[];
  unplaced: Unplaced[];
  /** Titled sub-policies, where the document has them (issue 12). */
  subPolicies?: SubPolicy[];
  /** The document's non-criteria parts by line range (not hashed: layout, not content). */
  parts?: DocumentPart[];
  /** sha256 of the normalized policy (see `model/hash.ts`). */
  hash: string;
}
