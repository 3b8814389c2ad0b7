/**
 * A policy version as clean markdown (SPEC 5: ingest → render → ingest keeps the hash). Everything
 * the hash covers is written so that the ingester reads it back to the same model: lead-ins as
 * printed (they carry kinds, conditions and references), labels from the criterion ids, note markers,
 * code tables under their headings, the revision log as a tab table.
 */
import type { BranchNode, CriterionNode, PolicyVersion, Section } from "../model/index.js";

/** Escapes what the ingester would otherwise read as markup. */
function esc(s: string): string {
  return s
    .replace(/\\/g, "\\\\")
    .replace(/([*_~`$[\]^#|])/g, "\\$1")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/\t/g, " ");
}

function lastSegment(id: string): string {
  const i = id.lastIndexOf(".");
  return i < 0 ? id : id.slice(i + 1);
}

function marker(m: string): string {
  return m === "*" ? "\\*" : m;
}

function renderNode(n: CriterionNode, depth: number, out: string[], joiner = ""): void {
  const pad = "  ".repeat(depth);
  // A lead-in's reference (`<id>.ref`) is printed in its lead-in; an item that is a reference is an item.
  if (n.kind === "ref") {
    if (!n.id.endsWith(".ref")) out.push(`${pad}- ${lastSegment(n.id)}. ${esc(n.text)};${joiner}`);
    return;
  }
  const mark = n.note ? marker(n.note.marker) : "";
  if (n.kind === "leaf") {
    out.push(`${pad}- ${lastSegment(n.id)}. ${esc(n.text)}${mark};${joiner}`);
    return;
  }
  out.push(`${pad}- ${lastSegment(n.id)}. ${esc(n.text)}:${mark}`);
  renderChildren(n, depth + 1, out, joiner);
}

/**
 * A group's items; where the document joined them with "and" against its lead-in (`joined`), each item
 * but the last ends so again (an item's joiner is its last leaf's), and the last one takes `joiner`.
 */
function renderChildren(n: BranchNode, depth: number, out: string[], joiner = ""): void {
  const last = n.children.length - 1;
  n.children.forEach((c, i) => {
    renderNode(c, depth, out, i < last ? (n.kind !== "atLeast" && n.joined ? " and" : "") : joiner);
  });
}

function renderSection(s: Section, out: string[]): void {
  out.push(`- ${s.id}. ${esc(s.text)}`);
  if (s.tree) renderChildren(s.tree, 1, out);
}

function collectNotes(n: CriterionNode, out: { marker: string; text: string }[]): void {
  if (n.kind === "ref") return;
  if (n.note) out.push({ marker: n.note.marker, text: n.note.text });
  if (n.kind !== "leaf") for (const c of n.children) collectNotes(c, out);
}

function usDate(iso: string): string {
  const [y, m, d] = iso.split("-");
  return `${m}/${d}/${y}`;
}

/**
 * Renders a version as markdown that {@link ingest} reads back to the same `policyHash` (SPEC 5).
 * Findings, unplaced text and line numbers are not rendered: they describe the source, not the policy.
 */
export function renderMarkdown(v: PolicyVersion): string {
  const out: string[] = [];
  const id = v.identity;
  if (id.title) out.push(`# Clinical Policy: ${esc(id.title)}`, "");
  if (id.id) out.push(`Reference Number: ${esc(id.id)}`, "");
  if (id.plan) out.push(`Plan: ${esc(id.plan)}`, "");
  if (id.version && v.revisionLog.length === 0) {
    const [y, m] = id.version.split("-");
    out.push(`Date of Last Revision: ${m}/${y}`, "");
  }
  out.push("## Description", "");
  for (const p of v.description.split("\n\n")) if (p.trim()) out.push(esc(p), "");
  for (const c of v.crossReferences) out.push(esc(c.text), "");

  out.push("## Policy/Criteria", "");
  for (const s of v.sections) renderSection(s, out);
  out.push("");
  const notes: { marker: string; text: string }[] = [];
  for (const s of v.sections) if (s.tree) collectNotes(s.tree, notes);
  for (const n of notes) out.push(`${marker(n.marker)}Note: ${esc(n.text)}`, "");

  if (v.background) {
    out.push("## Background", "");
    for (const p of v.background.split("\n\n")) if (p.trim()) out.push(esc(p), "");
  }

  if (v.codeTables.length > 0 || v.codeMarkers.length > 0) {
    out.push("## Coding Implications", "");
    for (const m of v.codeMarkers) out.push(esc(m.text), "");
    let headed = false;
    for (const t of v.codeTables) {
      if (t.heading) out.push(`### ${esc(t.heading)}`, "");
      else if (headed) out.push("### Codes", "");
      headed = headed || t.heading !== undefined;
      out.push(`${esc(t.system)}\tDescription`);
      for (const r of t.rows) out.push(`${r.code}${r.marker ? marker(r.marker) : ""}\t${esc(r.description)}`);
      out.push("");
    }
  }

  if (v.revisionLog.length > 0) {
    out.push("Reviews, Revisions, and Approvals\tRevision Date\tApproval Date\tEffective Date");
    for (const e of v.revisionLog) {
      const cells = [
        esc(e.description),
        e.revisionRaw,
        e.approved ? usDate(e.approved) : "",
        e.effective ? usDate(e.effective) : "",
      ];
      out.push(cells.join("\t"));
    }
    out.push("");
  }

  if (v.references.length > 0) {
    out.push("## References", "");
    v.references.forEach((r, i) => {
      out.push(`${i + 1}. ${esc(r)}`);
    });
    out.push("");
  }
  return `${out.join("\n")}\n`;
}
