import {
  type BranchNode,
  type Correction,
  type CriterionNode,
  type Finding,
  type Placement,
  type PolicyVersion,
  parseUnplacedInsideReason,
  policyHash,
  type Unplaced,
} from "../model/index.js";

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
