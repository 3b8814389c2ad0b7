/**
 * The DTR Questionnaire of a policy section (SPEC 4 "a Questionnaire per policy section, with
 * `enableWhen` so only relevant questions show"; HL7 FHIR R4 Questionnaire + SDC; Da Vinci DTR).
 *
 * Shape, from the section's criteria tree (SPEC 1.3, 2.1, 2.2):
 * - linkIds are criterion ids; every answerable item is `boolean` and its answer is the case's
 *   `answers[linkId]` (SPEC 2.1);
 * - a question shared by several criteria (same `questionKey` within the version, SPEC 2.2 "One
 *   question, several places") appears once, at its first id;
 * - a group's own condition is a boolean question at the group id, and the group's children are
 *   nested under it with `enableWhen` on it, so a clinician only sees the criteria of an indication
 *   that applies; a group without a condition is a `group` item;
 * - the items of a `none` group ask whether the contraindication is present (answer `true` = present);
 * - a note is a `display` item followed by its `<criterion>.note` boolean question, shown only while
 *   the criterion it waives is not answered as met;
 * - a section that refers to another ("the above criteria for the preliminary trial") includes that
 *   section's questions once, before its own.
 *
 * `enableWhen` never hides a question that can matter: where a shared question is relevant under
 * several different conditions it is placed where all of them meet, enabled when any holds; where
 * R4's `enableWhen` cannot express the exact condition, a wider one (or none) is used.
 */
import type {
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireItemEnableWhen,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
} from "@medplum/fhirtypes";
import { z } from "zod";
import type { LibraryEntry } from "../library/index.js";
import {
  type CriterionNode,
  InputError,
  NotFoundError,
  type PolicyVersion,
  questionKey,
  type Section,
} from "../model/index.js";
import { escapeHtml } from "./letter.js";

/**
 * Public base URL used when none is configured: the same default as the FHIR server's
 * `publicBaseUrl` (`src/server/fhir/common.ts`), so a canonical rendered outside the server (the CLI)
 * names the same place a local server answers.
 */
export const DEFAULT_PUBLIC_BASE = "http://localhost";
/**
 * Base of this service's Questionnaire canonicals when no public base URL is given. Issue 16 (DTR
 * 2.0.1): a canonical resolves on the server that hands the Questionnaire out —
 * `<publicBaseUrl>/fhir/Questionnaire/<id>`, found by `GET /fhir/Questionnaire?url=`.
 */
export const QUESTIONNAIRE_BASE = `${DEFAULT_PUBLIC_BASE}/fhir/Questionnaire/`;
/** System of the identifier carrying the policy's content hash (reproducibility, SPEC 4). */
export const POLICY_HASH_SYSTEM = "http://medpolicy.example/fhir/NamingSystem/policy-hash";
/**
 * linkId prefix of the items that ask for a declared fact (`fact:lifeExpectancyMonths`; issue 16, DTR
 * population logic). Criterion ids never contain `:`, so the two kinds of item cannot collide.
 */
export const FACT_LINK_PREFIX = "fact:";
/** linkId of the group holding the fact items. */
export const FACTS_GROUP_LINK_ID = "facts";

/** `<baseUrl>/fhir/Questionnaire/` for a public base URL (trailing slashes dropped). */
export function questionnaireBase(baseUrl: string = DEFAULT_PUBLIC_BASE): string {
  let b = baseUrl;
  while (b.endsWith("/")) b = b.slice(0, -1);
  return `${b}/fhir/Questionnaire/`;
}

/** What a questionnaire needs of a library entry: the ingested policy and the version evaluated. */
export type QuestionnaireSource = Pick<LibraryEntry, "policy" | "evaluated">;

/** `CP.MP.173-2025-11-II` (one section) or `CP.MP.173-2025-11` (every section). A valid FHIR id. */
export function questionnaireId(policyId: string, version: string, section?: string): string {
  return section ? `${policyId}-${version}-${section}` : `${policyId}-${version}`;
}

/**
 * The canonical URL of a section's Questionnaire (versioned: the policy version is part of it):
 * `<baseUrl>/fhir/Questionnaire/<id>` (issue 16: resolvable on the server that serves it; `baseUrl`
 * is that server's public base URL, `http://localhost` when not given).
 */
export function questionnaireUrl(
  policyId: string,
  version: string,
  section?: string,
  baseUrl?: string,
): string {
  return questionnaireBase(baseUrl) + questionnaireId(policyId, version, section);
}

/** Reads a questionnaire id or canonical (`…/Questionnaire/ID-YYYY-MM[-SECTION][|version]`). */
export function parseQuestionnaireRef(
  ref: string,
): { policy: string; version: string; section?: string } | undefined {
  const bare = ref.split("|")[0]!.replace(/^.*\/Questionnaire\//, "");
  const m = /^([A-Za-z0-9.]+)-(\d{4}-\d{2})(?:-([A-Za-z0-9.]+))?$/.exec(bare);
  if (!m) return undefined;
  return { policy: m[1]!, version: m[2]!, ...(m[3] !== undefined && { section: m[3] }) };
}

/** One question of a rendered questionnaire. */
export interface QuestionInfo {
  linkId: string;
  /** The criterion text (a leaf, a group's condition or a note's condition), as the policy prints it. */
  text: string;
  /** The text the item shows (contraindications are asked as "present?"). */
  itemText: string;
  kind: "leaf" | "condition" | "note";
  /** Every criterion id of the version that asks this question (SPEC 2.2). */
  ids: string[];
}

export interface RenderedQuestionnaire {
  questionnaire: Questionnaire;
  /** The questions, by linkId, in document order. */
  questions: Map<string, QuestionInfo>;
  /** Any criterion id that asks a question of this questionnaire → its linkId. */
  linkIdOf: Map<string, string>;
  /** The sections rendered (the requested one last, the ones it refers to before it). */
  sections: string[];
}

const ROOT = "#root";

interface Pos {
  /** The container: a group's id, or ROOT for the questionnaire's top level. */
  node: string;
  /** The index of the child (or section) within that container. */
  index: number;
}

interface Occurrence {
  key: string;
  id: string;
  text: string;
  kind: QuestionInfo["kind"];
  /** Under an odd number of `none` groups: the statement is a contraindication. */
  negated: boolean;
  positions: Pos[];
  /** For each container in `positions`: the linkId of its condition question, when it has one. */
  conditions: (string | undefined)[];
}

interface Hoist {
  container: string;
  after: number;
  /** Conditions any of which makes the question relevant; empty = always within the container. */
  clauses: string[];
}

/**
 * Drops trailing white space and `; : , .` (a criterion's text ends its list item). Scanned back from
 * the end by hand: the regex `/[\s;:,.]+$/` this replaces retried the run from every position in it,
 * quadratic on a long run of punctuation that is not at the end (issue 13: linear parsers only).
 */
export function trimText(s: string): string {
  let end = s.length;
  for (;;) {
    const c = s.charCodeAt(end - 1);
    if (end > 0 && (c === 59 || c === 58 || c === 44 || c === 46 || /\s/.test(s[end - 1]!))) end--;
    else break;
  }
  return s.slice(0, end).trim();
}

function keyOf(text: string, id: string): string {
  const k = questionKey(text);
  // An empty text carries nothing to share: its criterion is its own question (as the evaluator does).
  return k === "" ? `#${id}` : k;
}

function sectionsToRender(v: PolicyVersion, sectionId: string | undefined): Section[] {
  const withTree = v.sections.filter((s) => s.tree !== undefined);
  if (sectionId === undefined) return withTree.filter((s) => s.kind === "medically-necessary");
  const byId = new Map(withTree.map((s) => [s.id, s]));
  const wanted = byId.get(sectionId);
  if (!wanted) {
    const known = withTree.map((s) => s.id).join(", ") || "none";
    throw new NotFoundError(
      `${v.identity.id}@${v.identity.version} has no section ${sectionId} with criteria (sections with criteria: ${known})`,
      { policy: v.identity.id, version: v.identity.version },
    );
  }
  // Referenced sections first (depth-first, post-order), each once, so their questions come before
  // the criteria that refer to them.
  const out: Section[] = [];
  const seen = new Set<string>();
  const refs = (n: CriterionNode, acc: string[]) => {
    if (n.kind === "ref") acc.push(n.target);
    else if (n.kind !== "leaf") for (const c of n.children) refs(c, acc);
    return acc;
  };
  const visit = (s: Section) => {
    if (seen.has(s.id)) return;
    seen.add(s.id);
    for (const t of refs(s.tree!, [])) {
      const target = byId.get(t);
      if (target) visit(target);
    }
    out.push(s);
  };
  visit(wanted);
  return out;
}

/** Every criterion id of the version per question key (the evaluator's grouping, SPEC 2.2). */
function idsByKey(v: PolicyVersion): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (text: string, id: string) => {
    const k = keyOf(text, id);
    const list = out.get(k);
    if (list) list.push(id);
    else out.set(k, [id]);
  };
  const walk = (n: CriterionNode) => {
    if (n.kind === "ref") return;
    if (n.kind === "leaf") add(n.text, n.id);
    else {
      if (n.condition !== undefined) add(n.condition, n.id);
      for (const c of n.children) walk(c);
    }
    if (n.note) add(n.note.condition, n.note.id);
  };
  for (const s of v.sections) if (s.tree) walk(s.tree);
  return out;
}

function itemTextOf(o: Pick<Occurrence, "text" | "negated">): string {
  const t = trimText(o.text);
  return o.negated ? `Is the following contraindication present: ${t}?` : t;
}

const isTrue = (question: string): QuestionnaireItemEnableWhen => ({
  question,
  operator: "=",
  answerBoolean: true,
});

/**
 * Renders the Questionnaire of `sectionId` (with the sections it refers to), or of every
 * medically-necessary section when `sectionId` is absent, with the question index DTR needs to map
 * the engine's `needed` ids and QuestionnaireResponse answers.
 */
export function renderQuestionnaire(
  entry: QuestionnaireSource,
  sectionId?: string,
  options: RenderOptions = {},
): RenderedQuestionnaire {
  const v = entry.evaluated;
  const identity = entry.policy.identity;
  const sections = sectionsToRender(v, sectionId);

  // Pass 1: every occurrence of every question, in document order, with where it sits.
  const occurrences = new Map<string, Occurrence[]>();
  const firstId = new Map<string, string>();
  const record = (o: Occurrence) => {
    const list = occurrences.get(o.key);
    if (list) list.push(o);
    else {
      occurrences.set(o.key, [o]);
      firstId.set(o.key, o.id);
    }
  };
  const visit = (
    n: CriterionNode,
    positions: Pos[],
    conditions: (string | undefined)[],
    negated: boolean,
  ) => {
    if (n.kind === "ref") return;
    if (n.kind === "leaf") {
      record({
        key: keyOf(n.text, n.id),
        id: n.id,
        text: n.text,
        kind: "leaf",
        negated,
        positions,
        conditions,
      });
    } else {
      let own: string | undefined;
      if (n.condition !== undefined) {
        const key = keyOf(n.condition, n.id);
        record({
          key,
          id: n.id,
          text: n.condition,
          kind: "condition",
          negated: false,
          positions,
          conditions,
        });
        own = firstId.get(key);
      }
      n.children.forEach((c, i) => {
        visit(
          c,
          [...positions, { node: n.id, index: i }],
          [...conditions, own],
          negated !== (n.kind === "none"),
        );
      });
    }
    if (n.note) {
      const key = keyOf(n.note.condition, n.note.id);
      record({
        key,
        id: n.note.id,
        text: n.note.condition,
        kind: "note",
        negated: false,
        positions,
        conditions,
      });
    }
  };
  sections.forEach((s, i) => {
    visit(s.tree!, [{ node: ROOT, index: i }], [undefined], false);
  });

  // Placement: at the first occurrence when every occurrence is relevant under the same conditions;
  // otherwise hoisted to where the occurrences' containers meet, enabled when any of them applies.
  const hoisted = new Map<string, Hoist>();
  // A question's own answer never gates it (a note asking a group's own condition sits inside the group).
  const chain = (o: Occurrence) =>
    o.conditions.filter((c): c is string => c !== undefined && c !== firstId.get(o.key)).join("\u0000");
  for (const [key, occs] of occurrences) {
    if (occs.length < 2 || occs.every((o) => chain(o) === chain(occs[0]!))) continue;
    let d = 0;
    for (;;) {
      const p0 = occs[0]!.positions[d]!;
      const sameChild = occs.every(
        (o) =>
          o.positions.length > d + 1 &&
          o.positions[d]!.node === p0.node &&
          o.positions[d]!.index === p0.index,
      );
      if (!sameChild) break;
      d++;
    }
    const container = occs[0]!.positions[d]!.node;
    const after = Math.max(...occs.map((o) => o.positions[d]!.index));
    const firstBelow = occs.map((o) =>
      o.conditions.slice(d + 1).find((c) => c !== undefined && c !== firstId.get(key)),
    );
    const clauses = firstBelow.some((c) => c === undefined) ? [] : [...new Set(firstBelow as string[])];
    hoisted.set(key, { container, after, clauses });
  }

  const all = idsByKey(v);
  const questions = new Map<string, QuestionInfo>();
  const linkIdOf = new Map<string, string>();
  for (const [key, occs] of occurrences) {
    const first = occs[0]!;
    const ids = all.get(key) ?? occs.map((o) => o.id);
    questions.set(first.id, {
      linkId: first.id,
      text: first.text,
      itemText: itemTextOf(first),
      kind: first.kind,
      ids,
    });
    for (const id of ids) if (!linkIdOf.has(id)) linkIdOf.set(id, first.id);
  }

  const questionItem = (o: Occurrence, linkId: string): QuestionnaireItem => ({
    linkId,
    text: itemTextOf(o),
    type: "boolean",
  });
  const hoistedAt = (container: string, index: number): QuestionnaireItem[] => {
    const out: QuestionnaireItem[] = [];
    for (const [key, h] of hoisted) {
      if (h.container !== container || h.after !== index) continue;
      const first = occurrences.get(key)![0]!;
      const item = questionItem(first, first.id);
      if (h.clauses.length > 0) item.enableWhen = h.clauses.map(isTrue);
      if (h.clauses.length > 1) item.enableBehavior = "any";
      out.push(item);
    }
    return out;
  };
  /** Whether this occurrence is where its question is rendered (first occurrence, not hoisted). */
  const rendersHere = (key: string, id: string) => firstId.get(key) === id && !hoisted.has(key);

  const noteItems = (
    n: Exclude<CriterionNode, { kind: "ref" }>,
    criterionLinkId: string | undefined,
    negated: boolean,
  ) => {
    const note = n.note!;
    const key = keyOf(note.condition, note.id);
    // The note matters only while its criterion is not answered as met. Under a `none` group the
    // answer states a contraindication, so "met" is not simply `true`: the note is always shown there;
    // and a note question other criteria share is shown whatever this criterion's answer.
    const gate =
      criterionLinkId !== undefined && !negated
        ? [{ question: criterionLinkId, operator: "!=" as const, answerBoolean: true }]
        : undefined;
    const out: QuestionnaireItem[] = [
      { linkId: `${note.id}.text`, type: "display", text: note.text, ...(gate && { enableWhen: gate }) },
    ];
    if (rendersHere(key, note.id)) {
      const shared = (occurrences.get(key)?.length ?? 1) > 1;
      out.push({
        linkId: note.id,
        type: "boolean",
        text: trimText(note.condition),
        ...(gate && !shared && { enableWhen: gate }),
      });
    }
    return out;
  };

  const renderChildren = (
    container: string,
    children: readonly CriterionNode[],
    negated: boolean,
  ): QuestionnaireItem[] => {
    const out: QuestionnaireItem[] = [];
    children.forEach((c, i) => {
      out.push(...renderNode(c, negated));
      out.push(...hoistedAt(container, i));
    });
    return out;
  };

  const renderNode = (n: CriterionNode, negated: boolean, title?: string): QuestionnaireItem[] => {
    if (n.kind === "ref") {
      const shown = sections.some((s) => s.id === n.target);
      return [
        {
          linkId: n.id,
          type: "display",
          text: `${trimText(n.text)} (section ${n.target}${shown ? ", asked in this form" : ""})`,
        },
      ];
    }
    if (n.kind === "leaf") {
      const key = keyOf(n.text, n.id);
      const out: QuestionnaireItem[] = [];
      const linkId = firstId.get(key);
      if (rendersHere(key, n.id)) out.push(questionItem({ text: n.text, negated } as Occurrence, n.id));
      if (n.note) out.push(...noteItems(n, linkId, negated));
      return out;
    }
    const children = renderChildren(n.id, n.children, negated !== (n.kind === "none"));
    const text = title ?? trimText(n.text);
    let item: QuestionnaireItem;
    if (n.condition !== undefined && rendersHere(keyOf(n.condition, n.id), n.id)) {
      // The group's own condition: a question whose nested criteria show only when it holds.
      item = { linkId: n.id, type: "boolean", text: trimText(n.condition) };
      const nested = children.map((c) => withParentCondition(c, n.id));
      if (nested.length > 0) item.item = nested;
    } else {
      const cond = n.condition !== undefined ? firstId.get(keyOf(n.condition, n.id)) : undefined;
      // The group's id may already be its (hoisted) condition question's linkId.
      item = { linkId: cond === n.id ? `${n.id}.group` : n.id, type: "group", text };
      if (cond !== undefined) item.enableWhen = [isTrue(cond)];
      if (children.length > 0) item.item = children;
      else {
        // Every criterion of the group is asked elsewhere in the form (shared questions).
        const ids = n.children.map((c) => c.id).join(", ");
        item = { ...item, type: "display", text: `${text} (${ids}: answered with the same questions above)` };
      }
    }
    const out = [item];
    if (n.note) out.push(...noteItems(n, undefined, negated));
    return out;
  };

  const top: QuestionnaireItem[] = [];
  sections.forEach((s, i) => {
    top.push(...renderNode(s.tree!, false, `${s.label}. ${trimText(s.text)}`));
    top.push(...hoistedAt(ROOT, i));
  });
  const items = dropForwardReferences(top);

  const single = sectionId !== undefined;
  const id = questionnaireId(identity.id, identity.version, sectionId);
  const sectionTitle = single ? ` — section ${sectionId}` : "";
  const q: Questionnaire = {
    resourceType: "Questionnaire",
    id,
    meta: { profile: ["http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire"] },
    url: questionnaireUrl(identity.id, identity.version, sectionId, options.baseUrl),
    identifier: [{ system: POLICY_HASH_SYSTEM, value: entry.policy.hash }],
    version: identity.version,
    name: id.replace(/[^A-Za-z0-9]+/g, "_"),
    title: `${identity.id} ${identity.title}${sectionTitle}: documentation`,
    status: identity.approved ? "active" : "draft",
    subjectType: ["Patient"],
    date: identity.approved ?? identity.effective,
    publisher: "medpolicy",
    description: `Documentation for ${identity.id} version ${identity.version}${
      single ? ` section ${sectionId}` : ""
    } (${identity.plan}). Answer each question yes or no; a contraindication question asks whether it is present.`,
    item: items,
  };
  q.text = questionnaireNarrative(q);
  return { questionnaire: q, questions, linkIdOf, sections: sections.map((s) => s.id) };
}

/** How {@link renderQuestionnaire} names the form. */
export interface RenderOptions {
  /** The serving FHIR server's public base URL (issue 16: canonicals resolve there). */
  baseUrl?: string;
}

/**
 * The generated narrative of a Questionnaire (DTR 2.0.1 Standard and Adaptive Questionnaire profiles:
 * `Questionnaire.text` 1..1): its title, description and every item as a nested list — what a reader
 * without a form filler needs to see what is asked. XHTML limited to `div`, `p`, `ul`, `li`, `b`, as the
 * FHIR narrative rules allow.
 */
export function questionnaireNarrative(q: Questionnaire): NonNullable<Questionnaire["text"]> {
  const list = (items: readonly QuestionnaireItem[] | undefined): string => {
    if (!items || items.length === 0) return "";
    let out = "<ul>";
    for (const it of items) {
      const kind =
        it.type === "display" || it.type === "group" ? "" : ` (${it.type}${it.repeats ? ", repeats" : ""})`;
      out += `<li>${escapeHtml(it.text ?? it.linkId)}${escapeHtml(kind)}${list(it.item)}</li>`;
    }
    return `${out}</ul>`;
  };
  const title = q.title ?? q.name ?? q.id ?? "Questionnaire";
  const desc = q.description ? `<p>${escapeHtml(q.description)}</p>` : "";
  return {
    status: "generated",
    div: `<div xmlns="http://www.w3.org/1999/xhtml"><p><b>${escapeHtml(title)}</b></p>${desc}${list(q.item)}</div>`,
  };
}

/**
 * Children of a question item are shown when the question is answered `true`: each gets that
 * condition. A child already enabled by "any of several" cannot also require it in R4's
 * `enableWhen`; it keeps only the parent's condition (wider, so never hides a relevant question).
 */
function withParentCondition(child: QuestionnaireItem, parent: string): QuestionnaireItem {
  const own = child.enableWhen ?? [];
  const combined =
    child.enableBehavior === "any" && own.length > 1 ? [isTrue(parent)] : [isTrue(parent), ...own];
  const out: QuestionnaireItem = { ...child, enableWhen: combined };
  if (combined.length > 1) out.enableBehavior = "all";
  else delete out.enableBehavior;
  return out;
}

/**
 * Keeps `enableWhen` pointing only at questions earlier in the form. A clause that would point
 * forward is dropped (under "all", dropping widens); under "any" the whole condition is dropped,
 * since dropping one alternative would narrow it.
 */
function dropForwardReferences(items: QuestionnaireItem[]): QuestionnaireItem[] {
  const seen = new Set<string>();
  const fix = (item: QuestionnaireItem): QuestionnaireItem => {
    const out: QuestionnaireItem = { ...item };
    if (out.enableWhen) {
      const kept = out.enableWhen.filter((w) => seen.has(w.question));
      if (kept.length === 0 || (out.enableBehavior === "any" && kept.length < out.enableWhen.length)) {
        delete out.enableWhen;
        delete out.enableBehavior;
      } else {
        out.enableWhen = kept;
        if (kept.length > 1) out.enableBehavior ??= "all";
        else delete out.enableBehavior;
      }
    }
    if (out.type !== "group" && out.type !== "display") seen.add(out.linkId);
    if (out.item) out.item = out.item.map(fix);
    return out;
  };
  return items.map(fix);
}

/**
 * The FHIR Questionnaire (R4 + SDC) for one section of a policy version, including the sections it
 * refers to (SPEC 4, DTR). Without `sectionId`: one Questionnaire with a group item per
 * medically-necessary section, shared questions asked once. Throws NotFoundError naming the
 * sections with criteria when `sectionId` has none.
 */
export function questionnaireFor(entry: QuestionnaireSource, sectionId?: string): Questionnaire {
  return renderQuestionnaire(entry, sectionId).questionnaire;
}

// ---------------------------------------------------------------------------------------------
// Structural validation (R4 Questionnaire invariants que-1…que-13 that apply to what we emit, plus
// the SDC expectations of this service): a small zod schema and whole-form checks.
// ---------------------------------------------------------------------------------------------

const ITEM_TYPES = [
  "group",
  "display",
  "boolean",
  "decimal",
  "integer",
  "date",
  "dateTime",
  "time",
  "string",
  "text",
  "url",
  "choice",
  "open-choice",
  "attachment",
  "reference",
  "quantity",
] as const;
const ANSWER_KEYS = [
  "answerBoolean",
  "answerDecimal",
  "answerInteger",
  "answerDate",
  "answerDateTime",
  "answerTime",
  "answerString",
  "answerCoding",
  "answerQuantity",
  "answerReference",
] as const;

const enableWhenSchema = z
  .object({
    question: z.string().min(1),
    operator: z.enum(["exists", "=", "!=", ">", "<", ">=", "<="]),
    answerBoolean: z.boolean().optional(),
    answerDecimal: z.number().optional(),
    answerInteger: z.number().int().optional(),
    answerDate: z.string().optional(),
    answerDateTime: z.string().optional(),
    answerTime: z.string().optional(),
    answerString: z.string().optional(),
    answerCoding: z.object({}).passthrough().optional(),
    answerQuantity: z.object({}).passthrough().optional(),
    answerReference: z.object({}).passthrough().optional(),
  })
  .refine((w) => ANSWER_KEYS.filter((k) => w[k] !== undefined).length === 1, {
    error: "enableWhen needs exactly one answer[x]",
  })
  .refine((w) => w.operator !== "exists" || w.answerBoolean !== undefined, {
    error: "que-7: an 'exists' enableWhen must have answerBoolean",
  });

export interface ItemShape {
  linkId: string;
  type: (typeof ITEM_TYPES)[number];
  text?: string | undefined;
  prefix?: string | undefined;
  required?: boolean | undefined;
  repeats?: boolean | undefined;
  readOnly?: boolean | undefined;
  enableWhen?: z.infer<typeof enableWhenSchema>[] | undefined;
  enableBehavior?: "all" | "any" | undefined;
  item?: ItemShape[] | undefined;
}

const itemSchema: z.ZodType<ItemShape> = z.lazy(() =>
  z.object({
    linkId: z.string().min(1).max(255),
    type: z.enum(ITEM_TYPES),
    text: z.string().optional(),
    prefix: z.string().optional(),
    required: z.boolean().optional(),
    repeats: z.boolean().optional(),
    readOnly: z.boolean().optional(),
    enableWhen: z.array(enableWhenSchema).min(1).optional(),
    enableBehavior: z.enum(["all", "any"]).optional(),
    item: z.array(itemSchema).min(1).optional(),
  }),
);

/** The Questionnaire structure this service emits (R4 + SDC), as a zod schema. */
export const questionnaireSchema = z.object({
  resourceType: z.literal("Questionnaire"),
  id: z
    .string()
    .regex(/^[A-Za-z0-9\-.]{1,64}$/)
    .optional(),
  url: z.string().url(),
  version: z.string().min(1),
  name: z
    .string()
    .regex(/^[A-Z]([A-Za-z0-9_]){0,254}$/i)
    .optional(),
  title: z.string().optional(),
  status: z.enum(["draft", "active", "retired", "unknown"]),
  subjectType: z.array(z.string()).optional(),
  item: z.array(itemSchema).min(1),
});

/**
 * Validates a Questionnaire's structure: the schema above, then whole-form rules — linkIds unique
 * (que-2), group items with children and display items without (que-1), no `required`/`repeats`/
 * `readOnly` on display items (que-6, que-9), more than one `enableWhen` needs `enableBehavior`
 * (que-12), and every `enableWhen` names a question (not a group or display item) that comes earlier
 * in the form, with an answer of that question's type and an operator that type supports. Returns
 * the problems found, each naming the item; empty when valid.
 */
export function validateQuestionnaire(q: unknown): string[] {
  const parsed = questionnaireSchema.safeParse(q);
  if (!parsed.success) {
    return parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`);
  }
  const issues: string[] = [];
  const seen = new Map<string, ItemShape>();
  const check = (item: ItemShape, path: string) => {
    const at = `${path} (${item.linkId})`;
    if (seen.has(item.linkId)) issues.push(`${at}: que-2: linkId ${item.linkId} is not unique`);
    if (item.type === "group" && !item.item?.length)
      issues.push(`${at}: que-1: a group item needs nested items`);
    if (item.type === "display" && item.item?.length)
      issues.push(`${at}: que-1: a display item cannot have nested items`);
    if (item.type === "display" && (item.required || item.repeats)) {
      issues.push(`${at}: que-6: required and repeats are not permitted for display items`);
    }
    if (item.type === "display" && item.readOnly !== undefined)
      issues.push(`${at}: que-9: readOnly on a display item`);
    if ((item.enableWhen?.length ?? 0) > 1 && !item.enableBehavior) {
      issues.push(`${at}: que-12: several enableWhen need enableBehavior`);
    }
    for (const w of item.enableWhen ?? []) {
      const target = seen.get(w.question);
      if (!target) {
        issues.push(`${at}: enableWhen refers to ${w.question}, which is not an earlier item`);
        continue;
      }
      if (target.type === "group" || target.type === "display") {
        issues.push(`${at}: enableWhen refers to ${w.question}, a ${target.type} item that has no answer`);
      } else if (w.operator !== "exists") {
        const expected = expectedAnswerKey(target.type);
        const given = ANSWER_KEYS.find((k) => w[k] !== undefined);
        if (expected && given !== expected) {
          issues.push(`${at}: enableWhen on ${w.question} (${target.type}) needs ${expected}, not ${given}`);
        }
        if (target.type === "boolean" && w.operator !== "=" && w.operator !== "!=") {
          issues.push(`${at}: operator ${w.operator} cannot compare a boolean answer`);
        }
      }
    }
    // A parent question is "earlier" than its nested items (they are shown beneath its answer).
    seen.set(item.linkId, item);
    for (const [i, c] of (item.item ?? []).entries()) check(c, `${path}.item[${i}]`);
  };
  for (const [i, it] of parsed.data.item.entries()) check(it, `item[${i}]`);
  return issues;
}

function expectedAnswerKey(type: ItemShape["type"]): (typeof ANSWER_KEYS)[number] | undefined {
  switch (type) {
    case "boolean":
      return "answerBoolean";
    case "decimal":
      return "answerDecimal";
    case "integer":
      return "answerInteger";
    case "date":
      return "answerDate";
    case "dateTime":
      return "answerDateTime";
    case "time":
      return "answerTime";
    case "string":
    case "text":
    case "url":
      return "answerString";
    case "choice":
    case "open-choice":
      return "answerCoding";
    case "quantity":
      return "answerQuantity";
    case "reference":
      return "answerReference";
    default:
      return undefined;
  }
}

/**
 * Case answers from a QuestionnaireResponse (SPEC 2.1: linkId = criterion id, `valueBoolean`): every
 * answered item, nested ones included. `known` (linkId → question) limits what is accepted: an answer
 * to an unknown linkId, a non-boolean answer, or two answers to one item are InputErrors naming the
 * linkId. Group and display items (no answers) are skipped.
 */
export function answersFromResponse(
  qr: Pick<QuestionnaireResponse, "item">,
  known?: ReadonlyMap<string, unknown> | ReadonlySet<string>,
): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const walk = (items: QuestionnaireResponseItem[] | undefined, path: string) => {
    (items ?? []).forEach((it, i) => {
      const at = `${path}[${i}]`;
      if (typeof it?.linkId !== "string" || it.linkId === "") {
        throw new InputError(`${at}.linkId is required`, { field: `${at}.linkId` });
      }
      const answers = it.answer ?? [];
      // Facts asked by the form (issue 16 population logic) are not criterion answers: read them with
      // `factsFromResponse` (src/server/fhir/dtr-population.ts).
      if (it.linkId.startsWith(FACT_LINK_PREFIX) || it.linkId === FACTS_GROUP_LINK_ID) return;
      if (answers.length > 0) {
        if (known && !known.has(it.linkId)) {
          throw new InputError(`${at}: linkId ${it.linkId} is not a question of this questionnaire`, {
            field: `${at}.linkId`,
            criterion: it.linkId,
          });
        }
        if (answers.length > 1) {
          throw new InputError(
            `${at}: ${it.linkId} has ${answers.length} answers; a yes/no question takes one`,
            {
              field: `${at}.answer`,
              criterion: it.linkId,
            },
          );
        }
        const value = answers[0]?.valueBoolean;
        if (typeof value !== "boolean") {
          throw new InputError(`${at}: the answer to ${it.linkId} must be valueBoolean (true or false)`, {
            field: `${at}.answer[0]`,
            criterion: it.linkId,
          });
        }
        out[it.linkId] = value;
        for (const a of answers) walk(a.item, `${at}.answer.item`);
      }
      walk(it.item, `${at}.item`);
    });
  };
  walk(qr.item, "item");
  return out;
}
