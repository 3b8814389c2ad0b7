/**
 * The trace (SPEC 2.2): every node with its status and the source of its value, built from the
 * evaluated arrays only when asked for.
 *
 * The nodes of questions (leaves, conditions, notes) are immutable and shared per place: one whose
 * status, source and note are those of an earlier evaluation is that earlier (frozen) object, so a
 * trace allocates little more than its group nodes (SPEC 5 measures throughput with the trace).
 */
import type { Source, TraceNode } from "../model/index.js";
import type { CompiledPolicy, NodeKind } from "./compile.js";
import * as K from "./compile.js";
import { type Tri, toStatus } from "./tri.js";

// Module-local copies of imported constants (see run.ts: imported bindings are slower to read).
const LEAF = K.LEAF;
const ALL = K.ALL;
const ANY = K.ANY;
const NONE = K.NONE;
const AT_LEAST = K.AT_LEAST;
const REF = K.REF;

const COMPUTED: Source = Object.freeze({ kind: "computed" });
const NO_SOURCE: Source = Object.freeze({ kind: "none" });

/** Variants kept per place; beyond that the oldest is dropped (memory stays bounded). */
const VARIANTS = 16;

/** A remembered trace node and what it was built from. */
interface Variant {
  status: TraceNode["status"];
  source: Source;
  note: TraceNode | undefined;
  node: TraceNode;
}

function variants(cp: CompiledPolicy, slot: number): Variant[] {
  let list = cp.traceCache[slot] as Variant[] | undefined;
  if (list === undefined) {
    list = [];
    cp.traceCache[slot] = list;
  }
  return list;
}

function remember(list: Variant[], v: Variant): TraceNode {
  if (list.length >= VARIANTS) list.shift();
  list.push(v);
  return v.node;
}

function questionSource(cp: CompiledPolicy, q: number): Source {
  const s = cp.scratch;
  switch (s.qsrc[q]) {
    case 1:
      return s.qby[q]!;
    case 2:
      return cp.factSources[q]!;
    default:
      return NO_SOURCE;
  }
}

/** The trace node of a question: a leaf, a group's condition or a note. */
function questionNode(
  cp: CompiledPolicy,
  slot: number,
  id: string,
  kind: TraceNode["kind"],
  text: string,
  q: number,
  question: string | undefined,
  note: TraceNode | undefined,
): TraceNode {
  const status = toStatus(cp.scratch.qv[q] as Tri);
  const source = questionSource(cp, q);
  const list = variants(cp, slot);
  for (let k = 0; k < list.length; k++) {
    const v = list[k]!;
    if (v.status === status && v.source === source && v.note === note) return v.node;
  }
  const t: TraceNode = { id, kind, text, status, source };
  if (question !== undefined) t.question = question;
  if (note !== undefined) t.children = Object.freeze([note]) as TraceNode[];
  return remember(list, { status, source, note, node: Object.freeze(t) });
}

/** The trace node of a group or reference: built fresh (its children vary too much to share). */
function computedNode(
  cp: CompiledPolicy,
  i: number,
  kind: TraceNode["kind"],
  children: TraceNode[],
): TraceNode {
  const info = cp.info[i]!;
  return {
    id: info.id,
    kind,
    text: info.text,
    status: toStatus(cp.scratch.sv[i] as Tri),
    source: COMPUTED,
    children,
  };
}

interface TraceCtx {
  cp: CompiledPolicy;
  /** The trace of each referenced section's root, built once per evaluation. */
  refRoots: Map<number, TraceNode> | undefined;
}

/**
 * The trace of the strict evaluation: every node with its status and source; a group's condition
 * and a criterion's note are child nodes of kind `condition` / `note`; a reference carries the
 * children of the section it refers to. For a statement under `none`, `met` means the
 * contraindication is present, as in the answers. The nodes are frozen.
 */
export function buildTrace(cp: CompiledPolicy, root: number): TraceNode {
  return traceOf({ cp, refRoots: undefined }, root);
}

function noteNode(cp: CompiledPolicy, i: number): TraceNode | undefined {
  const nq = cp.anyNote[i]!;
  if (nq < 0) return undefined;
  const info = cp.info[i]!;
  return questionNode(cp, 3 * i + 2, info.noteId, "note", info.noteText, nq, info.noteQuestion, undefined);
}

function traceOf(ctx: TraceCtx, i: number): TraceNode {
  const { cp } = ctx;
  const info = cp.info[i]!;
  const k = cp.kind[i] as NodeKind;
  switch (k) {
    case LEAF:
      return questionNode(cp, 3 * i, info.id, "leaf", info.text, cp.q[i]!, info.question, noteNode(cp, i));
    case REF: {
      const t = cp.target[i]!;
      if (t < 0) return computedNode(cp, i, "ref", []);
      ctx.refRoots ??= new Map();
      let root = ctx.refRoots.get(t);
      if (root === undefined) {
        root = traceOf(ctx, t);
        ctx.refRoots.set(t, root);
      }
      return computedNode(cp, i, "ref", root.children ?? []);
    }
    case ALL:
    case ANY:
    case NONE:
    case AT_LEAST: {
      const c = cp.cond[i]!;
      const nq = cp.anyNote[i]!;
      const s = cp.kidStart[i]!;
      const e = cp.kidEnd[i]!;
      const kids: TraceNode[] = new Array(e - s + (c >= 0 ? 1 : 0) + (nq >= 0 ? 1 : 0));
      let n = 0;
      if (c >= 0) {
        kids[n++] = questionNode(
          cp,
          3 * i + 1,
          info.id,
          "condition",
          info.condText,
          c,
          info.condQuestion,
          undefined,
        );
      }
      for (let c2 = s; c2 < e; c2++) kids[n++] = traceOf(ctx, cp.kids[c2]!);
      if (nq >= 0) kids[n++] = noteNode(cp, i)!;
      return computedNode(cp, i, info.traceKind, kids);
    }
    default: {
      const never: never = k;
      throw new Error(`unknown node kind ${never}`);
    }
  }
}
