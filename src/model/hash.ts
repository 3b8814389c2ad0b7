import { createHash } from "node:crypto";
import type { CriterionNode, CriterionNote, PolicyVersion, Section } from "./policy.js";

/**
 * Deterministic JSON: object keys sorted, `undefined` dropped. Written as one string built in place
 * (no per-node arrays of parts): it hashes every policy version and every stored case, and was a
 * tenth of ingesting a 2 MB document (issue 12). `hash.test.ts` holds it to the plain definition.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      // As `[…].join(",")` writes what JSON.stringify cannot (undefined, functions): nothing.
      const part = canonicalJson(value[i]) as string | undefined;
      if (part !== undefined) out += part;
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  // Most objects arrive with their keys in order already; sort only those that do not.
  let sorted = true;
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      sorted = false;
      break;
    }
  }
  if (!sorted) keys.sort();
  let out = "{";
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (!first) out += ",";
    first = false;
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

function stripNode(n: CriterionNode): unknown {
  switch (n.kind) {
    case "ref":
      // A list item that is a reference (not a lead-in's `<id>.ref`) is hashed with its words, so a
      // rewording is a new version; lead-in references (all the seeds') hash as before.
      return { kind: n.kind, id: n.id, target: n.target, text: n.id.endsWith(".ref") ? undefined : n.text };
    case "leaf":
      return { kind: n.kind, id: n.id, text: n.text, note: n.note && stripNote(n.note) };
    case "all":
    case "any":
    case "none":
    case "atLeast":
      return {
        kind: n.kind,
        id: n.id,
        n: n.kind === "atLeast" ? n.n : undefined,
        text: n.text,
        condition: n.condition,
        joined: n.kind === "any" ? n.joined : undefined,
        note: n.note && stripNote(n.note),
        children: n.children.map(stripNode),
      };
  }
}

function stripNote(note: CriterionNote) {
  return { id: note.id, text: note.text, condition: note.condition, effect: note.effect };
}

function stripSection(s: Section): unknown {
  // New fields (issue 12) are hashed only where present, so the seeds' hashes are unchanged.
  return {
    id: s.id,
    kind: s.kind,
    text: s.text,
    tree: s.tree && stripNode(s.tree),
    subPolicy: s.subPolicy,
    uncertain: s.uncertain,
  };
}

/**
 * The normalized policy that the content hash covers (SPEC 1.3): identity, sections and criteria,
 * notes, cross-references, code tables and markers, revision log and references. Line numbers,
 * printed labels and source formatting are excluded, so that ingest → render → ingest keeps the hash.
 */
export function normalizedPolicy(p: Omit<PolicyVersion, "hash">): unknown {
  const id = p.identity;
  return {
    identity: {
      id: id.id,
      baseId: id.baseId,
      title: id.title,
      state: id.state,
      version: id.version,
      approved: id.approved,
      effective: id.effective,
    },
    sections: p.sections.map(stripSection),
    crossReferences: p.crossReferences.map((c) => ({ target: c.target, subject: c.subject })),
    codeTables: p.codeTables.map((t) => ({
      system: t.system,
      coverage: t.coverage,
      rows: t.rows.map((r) => ({ code: r.code, description: r.description, marker: r.marker })),
    })),
    codeMarkers: p.codeMarkers.map((m) => ({
      marker: m.marker,
      meaning: m.meaning,
      reviewUnderAge: m.reviewUnderAge,
    })),
    revisionLog: p.revisionLog.map((r) => ({
      revision: r.revision,
      approved: r.approved,
      effective: r.effective,
      description: r.description,
    })),
    references: p.references,
  };
}

/** sha256 (hex) of the canonical JSON of the normalized policy. */
export function policyHash(p: Omit<PolicyVersion, "hash">): string {
  return createHash("sha256")
    .update(canonicalJson(normalizedPolicy(p)))
    .digest("hex");
}
