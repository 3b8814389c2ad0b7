/**
 * The trace (SPEC 2.2): every node with its status and the source of its value, built from the
 * evaluated arrays only when asked for.
 *
 * The nodes of questions (leaves, conditions, notes) are immutable and shared: per place, status
 * and source there is one frozen object; so are the nodes of groups over leaves only (keyed by
 * their questions' variants). A trace then allocates little more than its upper group nodes (SPEC 5
 * measures throughput with the trace on).
 */
import type { Source, TraceNode } from "../model/index.js";
import type { CompiledPolicy, NodeKind } from "./compile.js";
import * as K from "./compile.js";
import { type Tri, toStatus } from "./tri.js";

// Module-local copies of imported constants (see run.ts: imported bindings are slower to read).
const { LEAF, ALL, ANY, NONE, AT_LEAST, REF } = K;

const COMPUTED: Source = Object.freeze({ kind: "computed" });
const NO_SOURCE: Source = Object.freeze({ kind: "none" });

/** Slots of a node in `traceCache`: the leaf itself, the group's condition, the note. */
const AT_NODE = 0;
const AT_CONDITION = 1;
const AT_NOTE = 2;

/**
 * Index of question `q`'s current status and source among its 3 × `traceWidth[q]` variants —
 * sources none (0), fact (1) and each of its ids answered (2 + k) — kept by `loadQuestions`.
 */
function variant(cp: CompiledPolicy, q: number): number {
  return cp.scratch.qkey[q]!;
}

function questionSource(cp: CompiledPolicy, q: number): Source {
  const s = cp.scratch;
  switch (s.qsrc[q]) {
    case 1:
      return s.qby[q]!.source;
    case 2:
      return cp.factSources[q]!;
    default:
      return NO_SOURCE;
  }
}

/** A question's trace node (a leaf, a condition or a note) at `slot`, with its note if any. */
function questionNode(
  cp: CompiledPolicy,
  i: number,
  at: number,
  q: number,
  note: TraceNode | undefined,
  noteVariant: number,
): TraceNode {
  const cache = cp.traceCache[3 * i + at]!;
  const key =
    note === undefined
      ? variant(cp, q)
      : variant(cp, q) * (cache.length / (3 * cp.traceWidth[q]!)) + noteVariant;
  const hit = cache[key];
  if (hit !== undefined) return hit;
  const info = cp.info[i]!;
  const t: TraceNode =
    at === AT_NODE
      ? {
          id: info.id,
          kind: "leaf",
          text: info.text,
          status: toStatus(cp.scratch.qv[q] as Tri),
          source: questionSource(cp, q),
        }
      : at === AT_CONDITION
        ? {
            id: info.id,
            kind: "condition",
            text: info.condText,
            status: toStatus(cp.scratch.qv[q] as Tri),
            source: questionSource(cp, q),
          }
        : {
            id: info.noteId,
            kind: "note",
            text: info.noteText,
            status: toStatus(cp.scratch.qv[q] as Tri),
            source: questionSource(cp, q),
          };
  const question =
    at === AT_NODE ? info.question : at === AT_CONDITION ? info.condQuestion : info.noteQuestion;
  if (question !== undefined) t.question = question;
  if (note !== undefined) t.children = Object.freeze([note]) as TraceNode[];
  cache[key] = Object.freeze(t);
  return t;
}

/** A group's or reference's trace node: built fresh (its children vary too much to share). */
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
 * contraindication is present, as in the answers. Nodes of questions and of groups over leaves are
 * frozen and shared between results.
 */
export function buildTrace(cp: CompiledPolicy, root: number): TraceNode {
  return traceOf({ cp, refRoots: undefined }, root);
}

function noteNode(cp: CompiledPolicy, i: number, nq: number): TraceNode {
  return questionNode(cp, i, AT_NOTE, nq, undefined, 0);
}

function traceOf(ctx: TraceCtx, i: number): TraceNode {
  const { cp } = ctx;
  const k = cp.kind[i] as NodeKind;
  const nq = cp.anyNote[i]!;
  switch (k) {
    case LEAF:
      return nq < 0
        ? questionNode(cp, i, AT_NODE, cp.q[i]!, undefined, 0)
        : questionNode(cp, i, AT_NODE, cp.q[i]!, noteNode(cp, i, nq), variant(cp, nq));
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
      const flat = cp.traceFlat[i];
      return flat === undefined ? groupNode(ctx, i, nq) : flatGroupNode(ctx, i, nq, flat);
    }
    default: {
      const never: never = k;
      throw new Error(`unknown node kind ${never}`);
    }
  }
}

/** Remembered flat-group nodes per group; beyond this many the memory is cleared. */
const FLAT_VARIANTS = 1024;

/**
 * A group over leaves only: its node is determined by its questions' variants, so it is shared
 * (frozen) like theirs, keyed by them in one small integer.
 */
function flatGroupNode(ctx: TraceCtx, i: number, nq: number, flat: Map<number, TraceNode>): TraceNode {
  const { cp } = ctx;
  const { qkey } = cp.scratch;
  const { traceWidth, q, kids } = cp;
  const c = cp.cond[i]!;
  let key = c >= 0 ? qkey[c]! : 0;
  for (let c2 = cp.kidStart[i]!; c2 < cp.kidEnd[i]!; c2++) {
    const x = q[kids[c2]!]!;
    key = key * 3 * traceWidth[x]! + qkey[x]!;
  }
  if (nq >= 0) key = key * 3 * traceWidth[nq]! + qkey[nq]!;
  const hit = flat.get(key);
  if (hit !== undefined) return hit;
  const node = groupNode(ctx, i, nq);
  Object.freeze(node.children);
  if (flat.size >= FLAT_VARIANTS) flat.clear();
  flat.set(key, Object.freeze(node));
  return node;
}

/** A group's node: its condition, children and note, built fresh. */
function groupNode(ctx: TraceCtx, i: number, nq: number): TraceNode {
  const { cp } = ctx;
  const c = cp.cond[i]!;
  const s = cp.kidStart[i]!;
  const e = cp.kidEnd[i]!;
  const kids: TraceNode[] = new Array(e - s + (c >= 0 ? 1 : 0) + (nq >= 0 ? 1 : 0));
  let n = 0;
  if (c >= 0) kids[n++] = questionNode(cp, i, AT_CONDITION, c, undefined, 0);
  const { kind, anyNote, q, traceCache } = cp;
  const { qkey } = cp.scratch;
  for (let c2 = s; c2 < e; c2++) {
    const j = cp.kids[c2]!;
    // Fast path for the common child, a leaf without a note: its shared node, when built before.
    const hit = kind[j] === LEAF && anyNote[j]! < 0 ? traceCache[3 * j]![qkey[q[j]!]!] : undefined;
    kids[n++] = hit ?? traceOf(ctx, j);
  }
  if (nq >= 0) kids[n++] = noteNode(cp, i, nq);
  return computedNode(cp, i, cp.info[i]!.traceKind, kids);
}
