import {
  type BranchNode,
  type Correction,
  type CriterionNode,
  type Finding,
  type PolicyVersion,
  policyHash,
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
