import {
  type BranchNode,
  type CodeBinding,
  type Correction,
  type CriterionNode,
  type Finding,
  type Placement,
  type PolicyVersion,
  parseUnplacedInsideReason,
  policyHash,
  type Section,
  type Unplaced,
} from "../model/index.js";
import { isExclusionList, noneListsContraindications } from "./exclusions.js";

/**
 * Re-names a version by an authored revision month (provenance `version`, SPEC 1.1 for the headerless
 * document): approval and effective dates come from that revision's log entry. Returns a finding when
 * the document's own newest log entry disagrees, so lint keeps reporting it.
 */
export function withVersion(
  v: PolicyVersion,
  version: string,
): { version: PolicyVersion; finding?: Finding } {
  if (v.identity.version === version) return { version: v };
  const entry = v.revisionLog.find((r) => r.revision === version);
  const identity = { ...v.identity, version };
  delete identity.approved;
  if (entry?.approved) identity.approved = entry.approved;
  identity.effective = entry?.effective ?? `${version}-01`;
  const moved: PolicyVersion = { ...v, identity };
  moved.hash = policyHash(moved);
  return {
    version: moved,
    finding: {
      code: "version-authored",
      severity: "warning",
      message: `the document's newest revision-log entry is ${v.identity.version}, but its provenance names it ${version}${
        entry ? "" : " (no such revision in its log)"
      }`,
    },
  };
}

function mapTree(node: CriterionNode, f: (n: BranchNode) => BranchNode): CriterionNode {
  if (node.kind === "leaf" || node.kind === "ref") return node;
  const children = node.children.map((c) => mapTree(c, f));
  return f({ ...node, children } as BranchNode);
}

/**
 * Applies authored corrections (SPEC 2.2 "Authored corrections"): a group read with other logic than
 * its defective lead-in says. The document's own model (and its lint findings) stay as ingested; only
 * the evaluated copy changes.
 */
export function applyCorrections(v: PolicyVersion, corrections: readonly Correction[]): PolicyVersion {
  const mine = corrections.filter((c) => !c.versions || c.versions.includes(v.identity.version));
  if (mine.length === 0) return v;
  const byId = new Map(mine.map((c) => [c.criterion, c]));
  return {
    ...v,
    sections: v.sections.map((s) =>
      s.tree
        ? {
            ...s,
            tree: mapTree(s.tree, (n) => {
              const c = byId.get(n.id);
              if (!c || n.kind === c.kind) return n;
              if (n.kind === "atLeast") {
                const { n: _n, ...rest } = n;
                return { ...rest, kind: c.kind };
              }
              return { ...n, kind: c.kind };
            }) as BranchNode,
          }
        : s,
    ),
  };
}

/**
 * Applies authored exclusion bindings (`excludedBy`, issue 12): the criteria of each not-covered
 * exclusion list a code's section is `excludedBy` (src/library/exclusions.ts) become a `none` group
 * with the list's id and words under the section's `all` root, so the section is met only when none of
 * the listed conditions is present, and a present one is the denial's cited reason. The list's own
 * section is unchanged (a code bound to it is still not covered, and the review floor still holds for
 * every other section that does not evaluate it); a reason the list's reading is uncertain becomes the
 * section's too. What cannot be read so is an error finding and changes nothing (approvals under the
 * section still decide review): the section is not `all` of its criteria, or another section refers to
 * it (the list would apply there unasked); the list is not one of the patient's conditions, states a
 * condition of its own, or is a `none` list that does not list contraindications; bindings of one
 * section disagree on their lists.
 */
export function applyExclusions(
  v: PolicyVersion,
  codes: readonly CodeBinding[],
): { version: PolicyVersion; findings: Finding[] } {
  const findings: Finding[] = [];
  const error = (message: string) =>
    findings.push({ code: "binding-excluded-by", severity: "error", message: `bindings.json: ${message}` });
  const bySection = new Map<string, { lists: string; codes: string[] }[]>();
  for (const b of codes) {
    if (!("section" in b)) continue;
    const lists = [...new Set(b.excludedBy ?? [])].sort().join(",");
    const seen = bySection.get(b.section) ?? [];
    seen.push({ lists, codes: b.codes });
    bySection.set(b.section, seen);
  }
  const wanted = new Map<string, string[]>();
  for (const [section, seen] of bySection) {
    const kinds = new Set(seen.map((x) => x.lists));
    if (kinds.size > 1) {
      error(
        `the codes of section ${section} disagree on excludedBy (${seen
          .map((x) => `${x.codes.join(" ")}: ${x.lists || "none"}`)
          .join("; ")}): one section is read one way; bind them alike`,
      );
      continue;
    }
    const lists = seen[0]!.lists;
    if (lists) wanted.set(section, lists.split(","));
  }
  if (wanted.size === 0) return { version: v, findings };
  const referredBy = (id: string) =>
    v.sections.filter((o) => o.id !== id && o.tree !== undefined && refersTo(o.tree, id)).map((o) => o.id);
  const sections = v.sections.map((s) => {
    const lists = wanted.get(s.id);
    if (!lists) return s;
    if (s.tree?.kind !== "all") {
      error(
        `section ${s.id} is excludedBy ${lists.join(", ")}, but it does not require all of its criteria: a list of exclusions cannot be added to it`,
      );
      return s;
    }
    const referring = referredBy(s.id);
    if (referring.length > 0) {
      error(
        `section ${s.id} is excludedBy ${lists.join(", ")}, but section ${referring.join(", ")} refers to its criteria: the list would apply there too, unasked`,
      );
      return s;
    }
    const extra: CriterionNode[] = [];
    const uncertain: string[] = [];
    for (const id of lists) {
      const x = v.sections.find((y) => y.id === id);
      const problem = listProblem(x, s.id);
      if (problem || !x?.tree) {
        error(`section ${s.id} is excludedBy ${id}, which ${problem ?? "has no criteria"}`);
        continue;
      }
      // "not covered for patients with any of the following" is none of them for the covered section.
      extra.push(x.tree.kind === "none" ? x.tree : ({ ...x.tree, kind: "none" } as BranchNode));
      for (const r of x.uncertain ?? []) uncertain.push(`section ${x.id}, evaluated with it: ${r}`);
      findings.push({
        code: "excluded-by",
        severity: "info",
        message: `section ${x.id}'s list is evaluated with section ${s.id} (bindings excludedBy): none of its conditions may be present`,
      });
    }
    if (extra.length === 0) return s;
    const out: Section = { ...s, tree: { ...s.tree, children: [...s.tree.children, ...extra] } };
    if (uncertain.length > 0) out.uncertain = [...(s.uncertain ?? []), ...uncertain];
    return out;
  });
  return { version: { ...v, sections }, findings };
}

/** Why `x` cannot be read as an exclusion list of section `of`, or undefined when it can. */
function listProblem(x: Section | undefined, of: string): string | undefined {
  if (!x) return "this version does not have";
  if (x.id === of) return "is the section itself";
  if (!isExclusionList(x)) {
    return "is not a not-covered list of the patient's conditions that rule the service out (its statement names none: a list of other indications constrains no approval)";
  }
  const root = x.tree!;
  if (root.kind !== "any" && root.kind !== "none") {
    return `lists its criteria as ${root.kind}, not as conditions any one of which rules the service out`;
  }
  if (root.condition !== undefined) {
    return `states a condition of its own ("${root.condition.slice(0, 80)}"), which a list of exclusions cannot carry`;
  }
  if (root.kind === "none" && !noneListsContraindications(x)) {
    return "is a none list that does not list contraindications: it is met when none of its items holds, the opposite of an exclusion";
  }
  return undefined;
}

/** Whether `n` holds a reference to section `id`. */
function refersTo(n: CriterionNode, id: string): boolean {
  if (n.kind === "ref") return n.target === id;
  if (n.kind === "leaf") return false;
  return n.children.some((c) => refersTo(c, id));
}

/** Whether `p` places the unplaced text `u` of `version`: same line, text starting as the author quoted. */
export function placementMatches(p: Placement, u: Unplaced, version: string): boolean {
  if (p.versions && !p.versions.includes(version)) return false;
  const norm = (t: string) => t.replace(/\s+/g, " ").trim();
  return p.line === u.line && norm(u.text).startsWith(norm(p.text));
}

/**
 * Applies authored placements (issue 15, {@link placementSchema}) to the evaluated copy: placed lines
 * leave `unplaced`, and a section a placement names is read as uncertain (it decides `review` where it
 * would have approved or denied). The ingested model keeps its unplaced lines; lint reports each
 * placement in force, and a placement that matches nothing or names no section of the version.
 */
export function applyPlacements(
  v: PolicyVersion,
  placements: readonly Placement[],
): { version: PolicyVersion; findings: Finding[] } {
  const version = v.identity.version;
  const mine = placements.filter((p) => !p.versions || p.versions.includes(version));
  if (mine.length === 0) return { version: v, findings: [] };
  const findings: Finding[] = [];
  const used = new Set<Placement>();
  const unplaced = v.unplaced.filter((u) => {
    const p = mine.find((x) => placementMatches(x, u, version));
    if (!p) return true;
    used.add(p);
    return false;
  });
  const bySection = new Map<string, string[]>();
  for (const p of mine) {
    if (!used.has(p)) {
      findings.push({
        code: "placement-unmatched",
        severity: "error",
        line: p.line,
        message: `an authored placement names line ${p.line} ("${p.text.slice(0, 60)}"), but the ingester left no such text unplaced in ${version}: re-read the document and place it again`,
      });
      continue;
    }
    if (p.as !== "section") continue;
    if (!v.sections.some((s) => s.id === p.section)) {
      findings.push({
        code: "placement-unmatched",
        severity: "error",
        line: p.line,
        message: `an authored placement puts line ${p.line} in section ${p.section}, which ${version} does not have`,
      });
      continue;
    }
    const why = `line ${p.line} bears on this section's criteria, placed by an author: ${p.why}`;
    bySection.set(p.section!, [...(bySection.get(p.section!) ?? []), why]);
  }
  const placedLines = new Set(v.unplaced.filter((u) => !unplaced.includes(u)).map((u) => u.line));
  return {
    version: {
      ...v,
      unplaced,
      sections: v.sections.map((s) => {
        // The ingester's "text inside could not be placed" reason goes with the lines placed (the
        // author read them); a reason that left lines out ("…") stays, as do lines still unplaced.
        const kept = (s.uncertain ?? []).filter((why) => {
          const r = parseUnplacedInsideReason(why);
          return !r || r.more || r.section !== s.id || !r.lines.every((l) => placedLines.has(l));
        });
        const next = [...kept, ...(bySection.get(s.id) ?? [])];
        if (next.length === (s.uncertain ?? []).length && next.every((w, i) => w === s.uncertain?.[i]))
          return s;
        const { uncertain: _u, ...rest } = s;
        return next.length > 0 ? { ...rest, uncertain: next } : rest;
      }),
    },
    findings,
  };
}
