import type { LintFinding, PolicyDiff, VersionSummary } from "../library/index.js";
import type { CriterionNode, Determination, PolicyVersion } from "../model/index.js";

const KIND_WORDS: Record<string, string> = {
  all: "all of",
  any: "any of",
  none: "none of",
};

function nodeLines(n: CriterionNode, depth: number, out: string[]): void {
  const pad = "  ".repeat(depth);
  switch (n.kind) {
    case "ref":
      out.push(`${pad}${n.id}  ↪ the criteria of section ${n.target} (${n.text})`);
      return;
    case "leaf":
      out.push(`${pad}${n.id}  ${n.text}`);
      if (n.note)
        out.push(
          `${pad}    * note [${n.note.id}] ${n.note.effect === "review" ? "(medical-director review) " : ""}${n.note.text}`,
        );
      return;
    case "all":
    case "any":
    case "none":
    case "atLeast": {
      const logic = n.kind === "atLeast" ? `at least ${n.n} of` : KIND_WORDS[n.kind];
      const head = n.condition ? `${n.condition} — and ${logic}:` : `${logic}: (${n.text})`;
      out.push(`${pad}${n.id}  ${head}`);
      if (n.note) out.push(`${pad}    * note [${n.note.id}] ${n.note.text}`);
      for (const c of n.children) nodeLines(c, depth + 1, out);
      return;
    }
  }
}

/**
 * `medpolicy show` (SPEC 3): the criteria tree, readable in a terminal. `entry`: the version as the
 * library holds it — its effective date and approval are the library's (a publication's, or none for a
 * draft, as `policies` shows them), not the dates its document prints.
 */
export function renderTree(
  v: PolicyVersion,
  status?: string,
  entry?: { effective: string; approved?: string; publication?: { by: string } },
): string {
  const id = v.identity;
  const effective = entry ? entry.effective : id.effective;
  const approved = entry ? entry.approved : id.approved;
  const by = entry?.publication ? ` by ${entry.publication.by}` : "";
  const out: string[] = [
    `${id.id}@${id.version} — ${id.title}`,
    `${id.plan}${id.state ? ` (${id.state})` : ""} · ${status ? `status ${status} · ` : ""}effective ${effective}${
      approved ? ` · approved ${approved}${by}` : " · draft (not approved)"
    } · hash ${v.hash.slice(0, 12)}`,
    "",
  ];
  for (const s of v.sections) {
    const kind =
      s.kind === "medically-necessary"
        ? "medically necessary when"
        : s.kind === "not-proven"
          ? "NOT PROVEN"
          : s.kind;
    if (s.uncertain) out.push(`${s.id}  ! uncertain reading, decides review: ${s.uncertain.join("; ")}`);
    if (!s.tree) {
      out.push(`${s.id}  [${kind}] ${s.text}`, "");
      continue;
    }
    const logic = s.tree.kind === "atLeast" ? `at least ${s.tree.n} of` : KIND_WORDS[s.tree.kind];
    out.push(`${s.id}  [${kind} ${logic}:] ${s.text}`);
    // The statement's own condition (an age, a population, a diagnosis) is asked at the section's id.
    if (s.tree.condition) out.push(`  ${s.id}  only if: ${s.tree.condition}`);
    for (const c of s.tree.children) nodeLines(c, 1, out);
    out.push("");
  }
  if (v.crossReferences.length) {
    out.push("Cross-references:");
    for (const x of v.crossReferences)
      out.push(`  → ${x.target} ${x.title}${x.subject ? ` (for requests for ${x.subject})` : ""}`);
    out.push("");
  }
  for (const t of v.codeTables) {
    const cov =
      t.coverage === "supports"
        ? "support coverage"
        : t.coverage === "does-not-support"
          ? "do NOT support coverage"
          : "";
    out.push(`${t.system}${cov ? ` — codes that ${cov}` : ""}:`);
    for (const r of t.rows)
      out.push(
        `  ${r.code}${r.marker ?? " "}  ${r.description.length > 90 ? `${r.description.slice(0, 87)}…` : r.description}`,
      );
  }
  for (const m of v.codeMarkers)
    out.push(
      `  ${m.marker} = ${m.meaning}${m.reviewUnderAge ? ` (reviewed under age ${m.reviewUnderAge})` : ""}`,
    );
  return out.join("\n");
}

/** `medpolicy policies` as a table. */
export function renderPolicies(rows: VersionSummary[]): string {
  const header = ["ID", "VERSION", "STATUS", "EFFECTIVE", "APPROVED", "STATE", "TITLE"];
  const body = rows.map((r) => [
    r.id,
    r.version,
    r.status,
    r.effective,
    // Issue 15 item 3: a published version says who approved it.
    r.approved ? `${r.approved}${r.approvedBy ? ` by ${r.approvedBy}` : ""}` : "—",
    r.state ?? "—",
    r.title,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [header, ...body]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function renderFindings(findings: LintFinding[]): string {
  if (findings.length === 0) return "no findings";
  return findings
    .map(
      (f) =>
        `${f.policy}@${f.version}${f.line !== undefined ? `:${f.line}` : ""}  ${f.severity}  ${f.code}${
          f.criterion ? ` [${f.criterion}]` : ""
        }  ${f.message}`,
    )
    .join("\n");
}

export function renderDiff(d: PolicyDiff): string {
  return [`${d.a} → ${d.b}`, ...d.summary.map((s) => `  ${s}`)].join("\n");
}

/** A determination for a person at a terminal. */
export function renderDetermination(d: Determination): string {
  const out = [
    `${d.outcome.toUpperCase()}${d.policy ? ` — ${d.policy.id}@${d.policy.version}${d.policy.section ? ` section ${d.policy.section}` : ""}` : ""}`,
  ];
  for (const l of d.lines) out.push(`  ${l.code}: ${l.outcome} — ${l.basis}`);
  if (d.referral) out.push(`  refer to ${d.referral.target} ${d.referral.title}`);
  if (d.reasons.length)
    out.push("Reasons:", ...d.reasons.map((r) => `  ${r.criterion} (${r.status}) ${r.text}`));
  if (d.needed.length) out.push("Needed:", ...d.needed.map((n) => `  ${n.criterion} ${n.text}`));
  return out.join("\n");
}
