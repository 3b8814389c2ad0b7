/**
 * The trace (SPEC 2.2): every node with its status and the source of its value, built from the
 * evaluated arrays only when asked for.
 */
import type { Source, TraceNode } from "../model/index.js";
import { ALL, ANY, AT_LEAST, type CompiledPolicy, LEAF, NONE, type NodeKind, REF } from "./compile.js";
import { type Tri, toStatus } from "./tri.js";

const COMPUTED: Source = Object.freeze({ kind: "computed" });
const NO_SOURCE: Source = Object.freeze({ kind: "none" });

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

/** A question's trace node, shared while its status and source (and note) are the same. */
interface Cached {
  status: TraceNode["status"];
  source: Source;
  note: TraceNode | undefined;
  node: TraceNode;
}

/**
 * The trace node of a question (a leaf, a group's condition or a note): immutable and memoised per
 * place, status, source and note, so that a trace allocates only its group nodes. Results never
 * share mutable state: these objects are frozen.
 */
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
  let cache = cp.traceCache[slot];
  if (cache === undefined) {
    cache = [];
    cp.traceCache[slot] = cache;
  }
  for (let k = 0; k < cache.length; k++) {
    const c = cache[k] as Cached;
    if (c.status === status && c.source === source && c.note === note) return c.node;
  }
  const t: TraceNode = { id, kind, text, status, source };
  if (question !== undefined) t.question = question;
  if (note !== undefined) t.children = Object.freeze([note]) as TraceNode[];
  Object.freeze(t);
  cache.push({ status, source, note, node: t });
  return t;
}

interface TraceCtx {
  cp: CompiledPolicy;
  /** The children of each referenced section's root, built once per evaluation and shared. */
  refChildren: Map<number, TraceNode[]> | undefined;
}

/**
 * The trace of the strict evaluation: every node with its status and source; a group's condition
 * and a criterion's note are child nodes of kind `condition` / `note`; a reference carries the
 * children of the section it refers to. For a statement under `none`, `met` means the
 * contraindication is present, as in the answers.
 */
export function buildTrace(cp: CompiledPolicy, root: number): TraceNode {
  return traceOf({ cp, refChildren: undefined }, root);
}

function traceOf(ctx: TraceCtx, i: number): TraceNode {
  const { cp } = ctx;
  const info = cp.info[i]!;
  const nq = cp.anyNote[i]!;
  const k = cp.kind[i] as NodeKind;
  switch (k) {
    case LEAF: {
      const note =
        nq < 0
          ? undefined
          : questionNode(cp, 3 * i + 2, info.noteId, "note", info.noteText, nq, info.noteQuestion, undefined);
      return questionNode(cp, 3 * i, info.id, "leaf", info.text, cp.q[i]!, info.question, note);
    }
    case REF: {
      const t = cp.target[i]!;
      let children: TraceNode[] = [];
      if (t >= 0) {
        ctx.refChildren ??= new Map();
        let shared = ctx.refChildren.get(t);
        if (shared === undefined) {
          shared = traceOf(ctx, t).children ?? [];
          ctx.refChildren.set(t, shared);
        }
        children = shared;
      }
      return {
        id: info.id,
        kind: "ref",
        text: info.text,
        status: toStatus(cp.scratch.sv[i] as Tri),
        source: COMPUTED,
        children,
      };
    }
    case ALL:
    case ANY:
    case NONE:
    case AT_LEAST: {
      const c = cp.cond[i]!;
      const s = cp.kidStart[i]!;
      const e = cp.kidEnd[i]!;
      const children: TraceNode[] = new Array(e - s + (c >= 0 ? 1 : 0) + (nq >= 0 ? 1 : 0));
      let k0 = 0;
      if (c >= 0) {
        children[k0++] = questionNode(
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
      for (let c2 = s; c2 < e; c2++) children[k0++] = traceOf(ctx, cp.kids[c2]!);
      if (nq >= 0) {
        children[k0++] = questionNode(
          cp,
          3 * i + 2,
          info.noteId,
          "note",
          info.noteText,
          nq,
          info.noteQuestion,
          undefined,
        );
      }
      return {
        id: info.id,
        kind: info.traceKind,
        text: info.text,
        status: toStatus(cp.scratch.sv[i] as Tri),
        source: COMPUTED,
        children,
      };
    }
    default: {
      const never: never = k;
      throw new Error(`unknown node kind ${never}`);
    }
  }
}
