/**
 * Generality (SPEC 1.2): random policies — random vocabulary, titles, ids, section counts, criteria
 * trees up to four levels deep with all/any/none/atLeast groups, conditions, references to earlier
 * sections, notes, and labels that repeat, skip or restart — are rendered in each seed-like format
 * (markdown from PDF, plain PDF text with running page headers cutting lists, sentences and tables,
 * Word text with bookmarks and one-cell-per-line tables, a redline) and must ingest back to the same
 * trees, findings, tables and versions, and round-trip through `renderMarkdown` to the same hash.
 *
 * fast-check drives the seeds; one seed makes one policy (a seeded generator keeps every constraint
 * of a well-formed policy in one place). A failure prints the seed and the document.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { CriterionNode, PolicyVersion } from "../model/index.js";
import { ingest, renderMarkdown } from "./index.js";
import { formatLabel } from "./labels.js";
import { Rand, SYLLABLES, wrap } from "./testdata/random.js";

// ---------------------------------------------------------------------------------------------------
// Random source and vocabulary

const FORBIDDEN = new Set(
  "and or the when if with that where which who note none any all one either both each least following include includes including refer above criteria met is are page clinical policy".split(
    " ",
  ),
);

function word(r: Rand): string {
  for (;;) {
    const w = Array.from({ length: r.int(1, 3) }, () => r.pick(SYLLABLES)).join("");
    if (!FORBIDDEN.has(w) && !/^[ivxlcdm]+$/.test(w)) return w;
  }
}
function words(r: Rand, lo: number, hi: number): string {
  return Array.from({ length: r.int(lo, hi) }, () => word(r)).join(" ");
}
const cap = (s: string) => (s[0] as string).toUpperCase() + s.slice(1);
/** Criterion wording: random words, now and then a number, a comparison or an example in brackets. */
function phrase(r: Rand, lo = 2, hi = 9): string {
  const parts = words(r, lo, hi).split(" ");
  if (r.chance(0.2)) {
    const extra = r.pick([
      "≥ 50%",
      "> 3",
      "≤ 2",
      `(e.g. ${word(r)}, ${word(r)})`,
      "2,000",
      `non-${word(r)}`,
      `${word(r)}/${word(r)}`,
    ]);
    parts.splice(r.int(1, parts.length), 0, extra);
  }
  return cap(parts.join(" "));
}
const NUMBER_WORDS = ["one", "two", "three", "four", "five", "six"];

// ---------------------------------------------------------------------------------------------------
// Random policy

type Kind = "all" | "any" | "none" | "atLeast";
interface GLeaf {
  kind: "leaf";
  text: string;
  printed: number;
  perturbed?: "label-repeated" | "label-skipped" | "label-restarted";
  joiner?: "and" | "or";
  marker?: string;
  /** Redline: a criterion struck from the document (prior version only). */
  deleted?: boolean;
  /** Redline: words inserted (proposed only) or deleted (prior only) inside the text. */
  edit?: { at: number; words: string; mark: "ins" | "del" };
}
interface GGroup {
  kind: Kind;
  n?: number;
  condition?: string;
  lead: string;
  refTo?: number;
  printed: number;
  perturbed?: GLeaf["perturbed"];
  children: GNode[];
}
type GNode = GLeaf | GGroup;
interface GSection {
  statement: string;
  subject: string;
  tree?: GGroup;
}
interface GNote {
  marker: string;
  text: string;
  condition: string;
  effect: "review" | "informational";
}
interface GPolicy {
  title: string;
  id: string;
  state?: string;
  baseId: string;
  plan: string;
  sections: GSection[];
  notes: GNote[];
  codes: { code: string; description: string; marker?: string }[];
  coverage?: "supports" | "does-not-support";
  feeScheduleAge?: number;
  log: { description: string; rev: [number, number]; appr?: [number, number] }[];
  references: string[];
}

const MAX_CHILDREN = [0, 6, 5, 10, 4];
const GROUP_CHANCE = [0, 0.4, 0.3, 0.25, 0];
const STYLE_AT = ["roman", "upper", "digit", "lower", "lowerRoman"] as const;

function leadFor(
  r: Rand,
  kind: Kind,
  n: number | undefined,
  withCondition: boolean,
): { lead: string; condition?: string } {
  const condition = withCondition ? phrase(r, 2, 6) : undefined;
  const tail = r.pick([" are met", "", " criteria are met"]);
  const q =
    kind === "all"
      ? "all"
      : kind === "any"
        ? r.pick(["any", "either", "one"])
        : kind === "none"
          ? "none"
          : (n ?? 1) >= 2 && r.chance(0.3)
            ? r.pick([`${NUMBER_WORDS[(n ?? 1) - 1]} or more`, `any ${NUMBER_WORDS[(n ?? 1) - 1]}`])
            : `at least ${r.chance(0.5) ? NUMBER_WORDS[(n ?? 1) - 1] : n}`;
  // Exceptions are `none` too: "unless any of the following", "except when any of the following".
  if (kind === "none")
    return {
      lead: r.pick([
        "None of the following",
        `None of the following ${word(r)}`,
        `${cap(phrase(r, 1, 3))} unless any of the following are present`,
        `${cap(phrase(r, 1, 3))} except when any of the following apply`,
        `${cap(phrase(r, 1, 3))} with the exception of the following`,
      ]),
    };
  if (condition) {
    const conn = r.pick(["when", "that includes", "that include", "when meeting"]);
    if (conn === "when meeting") return { lead: `${condition} when ${q} of the following${tail}`, condition };
    return { lead: `${condition} ${conn} ${q} of the following${tail}`, condition };
  }
  return {
    lead: r.chance(0.5)
      ? `${cap(q)} of the following${tail}`
      : `${phrase(r, 1, 4)} for ${q} of the following ${word(r)}`,
  };
}

function genChildren(r: Rand, depth: number, ctx: { section: number }): GNode[] {
  const count = r.int(1, MAX_CHILDREN[depth] as number);
  const out: GNode[] = [];
  let prev = 0;
  for (let i = 0; i < count; i++) {
    let printed = prev + 1;
    let perturbed: GLeaf["perturbed"];
    const style = STYLE_AT[depth] as string;
    if (i > 0 && style !== "lowerRoman") {
      const x = r.next();
      if (x < 0.06 && prev >= 2) {
        printed = prev;
        perturbed = "label-repeated";
      } else if (x < 0.11) {
        printed = prev + 2;
        perturbed = "label-skipped";
      } else if (x < 0.14 && prev >= 2) {
        printed = 1;
        perturbed = "label-restarted";
      }
      // A perturbed "i", "v" or "x" could as well be a roman numeral: no reader can tell.
      if (perturbed && (style === "lower" || style === "upper") && [9, 22, 24].includes(printed)) {
        printed = prev + 1;
        perturbed = undefined;
      }
    }
    prev = printed;
    const node =
      r.chance(GROUP_CHANCE[depth] as number) && depth < 4 ? genGroup(r, depth + 1, ctx, printed) : undefined;
    if (node) {
      if (perturbed) node.perturbed = perturbed;
      out.push(node);
    } else {
      const leaf: GLeaf = { kind: "leaf", text: phrase(r), printed };
      if (perturbed) leaf.perturbed = perturbed;
      out.push(leaf);
    }
  }
  return out;
}

function genGroup(r: Rand, depth: number, ctx: { section: number }, printed: number): GGroup {
  const children = genChildren(r, depth, ctx);
  const kind: Kind = r.pick(["all", "all", "any", "any", "none", "atLeast"]);
  const n = kind === "atLeast" ? r.int(1, Math.min(children.length, 6)) : undefined;
  if (ctx.section > 0 && depth <= 3 && r.chance(0.15)) {
    const refTo = r.int(0, ctx.section - 1);
    const condition = phrase(r, 2, 5);
    return {
      kind: "all",
      condition,
      lead: `${condition} when the above criteria for the {REF${refTo}} ${r.pick(["are", "is"])} met, and all of the following`,
      refTo,
      printed,
      children,
    };
  }
  const { lead, condition } = leadFor(r, kind, n, kind !== "none" && r.chance(0.5));
  const g: GGroup = { kind, lead, printed, children };
  if (n !== undefined) g.n = n;
  if (condition) g.condition = condition;
  if ((kind === "all" || kind === "any") && r.chance(0.3)) {
    const j = r.chance(0.1) ? (kind === "all" ? "or" : "and") : kind === "all" ? "and" : "or";
    for (const c of children.slice(0, -1)) if (c.kind === "leaf") c.joiner = j;
  }
  return g;
}

const STATES = ["NC", "LA", "TX", "FL", "OH"];
const ALL_STATES = new Set(["TX", "UT", "VT", "WV", "WY", "WA", "WI", "SC", "SD", "RI", "PA", "PR", "OR"]);

function genPolicy(r: Rand): GPolicy {
  const title = cap(words(r, 2, 5));
  let prefix = "";
  do prefix = `${String.fromCharCode(r.int(81, 90))}${String.fromCharCode(r.int(81, 90))}`;
  while (ALL_STATES.has(prefix));
  const baseId = `${prefix}.${r.pick(["MP", "PHAR", "CP.MP", "HS"])}.${r.int(1, 999)}`;
  const state = r.chance(0.4) ? r.pick(STATES) : undefined;
  const plan = `${cap(word(r))} ${cap(word(r))} Health`;
  const sections: GSection[] = [];
  const count = r.int(1, 4);
  for (let s = 0; s < count; s++) {
    const subject = `${word(r)} ${word(r)} ${word(r)}`;
    const kind: Kind = r.pick(["all", "all", "any", "atLeast"]);
    const tree = genGroup(r, 1, { section: s }, s + 1);
    let q = "all";
    if (kind === "any") q = r.pick(["any", "either"]);
    if (kind === "atLeast") {
      const n = r.int(1, Math.min(tree.children.length, 6));
      tree.n = n;
      q = `at least ${NUMBER_WORDS[n - 1]}`;
    } else delete tree.n;
    tree.kind = kind;
    delete tree.condition;
    delete tree.refTo;
    const statement = `It is the policy of ${plan} that ${r.pick(["a", "the"])} ${subject} is medically necessary when ${q} of the following criteria are met:`;
    tree.lead = statement;
    for (const c of tree.children) if (c.kind === "leaf") delete c.joiner;
    sections.push({ statement, subject, tree });
  }
  if (r.chance(0.4)) {
    const statement = `It is the policy of ${plan} that ${words(r, 3, 8)} has not been proven for ${words(r, 2, 5)}.`;
    sections.push({ statement, subject: "" });
  }
  for (const s of sections) if (s.tree) resolveRefs(s.tree, sections);
  // Notes: up to two marked leaves, each explained by a note after the criteria.
  const leaves: GLeaf[] = [];
  const walk = (n: GNode) => (n.kind === "leaf" ? leaves.push(n) : n.children.forEach(walk));
  for (const s of sections) if (s.tree) walk(s.tree);
  const notes: GNote[] = [];
  for (const marker of ["*", "†"]) {
    if (!r.chance(0.45)) continue;
    const leaf = r.pick(leaves);
    if (leaf.marker) continue;
    leaf.marker = marker;
    if (r.chance(0.6)) {
      const circ = words(r, 2, 6);
      notes.push({
        marker,
        text: `The ${words(r, 2, 5)} may be reviewed by a medical director on a case-by-case basis for instances of ${circ}.`,
        condition: cap(circ),
        effect: "review",
      });
    } else {
      const body = `This ${words(r, 2, 5)} applies to ${words(r, 2, 5)}`;
      notes.push({ marker, text: `${body}.`, condition: body, effect: "informational" });
    }
  }
  const feeScheduleAge = r.chance(0.3) ? r.int(18, 65) : undefined;
  const codes = Array.from({ length: r.int(1, 5) }, (_, i) => ({
    code: `${r.int(1, 9)}${String(r.int(0, 9999)).padStart(4, "0")}`.slice(0, 4) + String(i),
    description: phrase(r, 3, 14),
    ...(feeScheduleAge !== undefined && r.chance(0.5) ? { marker: "*" } : {}),
  }));
  const coverage = r.pick([undefined, "supports", "does-not-support"] as const);
  const log: GPolicy["log"] = [];
  let y = r.int(15, 20);
  let m = r.int(1, 12);
  for (let i = r.int(1, 4); i > 0; i--) {
    const appr: [number, number] | undefined = r.chance(0.85) ? [y, m] : undefined;
    log.push({ description: `${phrase(r, 3, 20)}.`, rev: [y, m], ...(appr ? { appr } : {}) });
    y += r.int(0, 1);
    m = (m % 12) + 1;
    if (m === 1) y++;
  }
  const references = Array.from(
    { length: r.int(0, 4) },
    () =>
      `${phrase(r, 4, 12)}. ${cap(word(r))}. 20${r.int(10, 24)};${r.int(1, 40)}(${r.int(1, 9)}):${r.int(1, 300)}.`,
  );
  return {
    title,
    id: state ? `${state}.${baseId}` : baseId,
    ...(state ? { state } : {}),
    baseId,
    plan,
    sections,
    notes,
    codes,
    ...(coverage ? { coverage } : {}),
    ...(feeScheduleAge !== undefined ? { feeScheduleAge } : {}),
    log,
    references,
  };
}

function resolveRefs(g: GGroup, sections: GSection[]): void {
  if (g.refTo !== undefined)
    g.lead = g.lead.replace(`{REF${g.refTo}}`, (sections[g.refTo] as GSection).subject);
  for (const c of g.children) if (c.kind !== "leaf") resolveRefs(c, sections);
}

// ---------------------------------------------------------------------------------------------------
// Expected model

interface Exp {
  id: string;
  kind: string;
  n?: number;
  text?: string;
  condition?: string;
  target?: string;
  note?: { marker: string; condition: string; effect: string };
  children?: Exp[];
}

function expectedNode(n: GNode, id: string, side: Side, p: GPolicy, findings: string[]): Exp {
  if (n.perturbed) findings.push(`${n.perturbed} ${id}`);
  const note = (m?: string) => {
    const x = m ? p.notes.find((k) => k.marker === m) : undefined;
    return x ? { note: { marker: x.marker, condition: x.condition, effect: x.effect } } : {};
  };
  if (n.kind === "leaf") return { id, kind: "leaf", text: leafText(n, side), ...note(n.marker) };
  const kids = visible(n.children, side);
  const children: Exp[] = [];
  if (n.refTo !== undefined)
    children.push({ id: `${id}.ref`, kind: "ref", target: formatLabel("roman", n.refTo + 1) });
  kids.forEach((c, i) => {
    children.push(expectedNode(c, `${id}.${formatLabel(styleOf(id), i + 1)}`, side, p, findings));
  });
  const leafJoiners = kids.slice(0, -1).flatMap((c) => (c.kind === "leaf" && c.joiner ? [c.joiner] : []));
  if ((n.kind === "all" && leafJoiners.includes("or")) || (n.kind === "any" && leafJoiners.includes("and")))
    findings.push(`leadin-joiner-mismatch ${id}`);
  if (n.kind === "any" && kids.some((c) => c.kind === "none")) findings.push(`leadin-suspect ${id}`);
  return {
    id,
    kind: n.kind,
    ...(n.n !== undefined ? { n: n.n } : {}),
    text: n.lead,
    ...(n.condition ? { condition: n.condition } : {}),
    children,
  };
}

function styleOf(parentId: string): (typeof STYLE_AT)[number] {
  return STYLE_AT[parentId.split(".").length] as (typeof STYLE_AT)[number];
}

type Side = "prior" | "proposed" | "plain";
function visible(nodes: GNode[], side: Side): GNode[] {
  return nodes.filter((c) => !(c.kind === "leaf" && c.deleted && side !== "prior"));
}
function leafText(n: GLeaf, side: Side): string {
  if (!n.edit) return n.text;
  const keep = (n.edit.mark === "ins") === (side === "proposed");
  if (!keep) return n.text;
  const w = n.text.split(" ");
  w.splice(n.edit.at, 0, n.edit.words);
  return w.join(" ");
}

function project(n: CriterionNode): Exp {
  if (n.kind === "ref") return { id: n.id, kind: "ref", target: n.target };
  const note = n.note
    ? { note: { marker: n.note.marker, condition: n.note.condition, effect: n.note.effect } }
    : {};
  if (n.kind === "leaf") return { id: n.id, kind: "leaf", text: n.text, ...note };
  return {
    id: n.id,
    kind: n.kind,
    ...(n.kind === "atLeast" ? { n: n.n } : {}),
    text: n.text,
    ...(n.condition ? { condition: n.condition } : {}),
    ...note,
    children: n.children.map(project),
  };
}

// ---------------------------------------------------------------------------------------------------
// Rendering in the seed-like formats

type Format = "markdown" | "pdf" | "word" | "redline";

interface Item {
  depth: number;
  label: string;
  text: string;
}

/** Tokens that markdown prints as LaTeX: no emphasis or redline edit may split them. */
const MATH_TOKEN = /^(?:>|≥|≤|2|3|50%)$/;

function mathify(s: string): string {
  return s.replace(/≥ 50%/g, "$\\geq 50\\%$").replace(/> 3/g, "$>$ 3").replace(/≤ 2/g, "$\\leq$ 2");
}

function items(p: GPolicy, format: Format, r: Rand): Item[] {
  const out: Item[] = [];
  const markerOf = (m: string | undefined) =>
    m === undefined ? "" : m === "*" && format !== "pdf" && format !== "word" ? "\\*" : m;
  const leafLine = (n: GLeaf, last: boolean): string => {
    let t = n.text;
    if ((format === "markdown" || format === "redline") && r.chance(0.2)) {
      const w = t.split(" ");
      const k = r.int(0, Math.max(0, w.length - 2));
      if (!MATH_TOKEN.test(w[k] ?? ""))
        w[k] = r.pick([`**${w[k]}**`, `*${w[k]}*`, `<b>${w[k]}</b>`, `<i>${w[k]}</i>`]);
      t = w.join(" ");
    }
    if (n.edit && format === "redline") {
      const w = t.split(" ");
      w.splice(
        n.edit.at,
        0,
        n.edit.mark === "ins"
          ? r.pick([`<u>${n.edit.words}</u>`, `<ins>${n.edit.words}</ins>`])
          : r.pick([`~~${n.edit.words}~~`, `<del>${n.edit.words}</del>`]),
      );
      t = w.join(" ");
    }
    if (format === "word" && r.chance(0.2))
      t = t.replace(" ", r.chance(0.5) ? "   " : " [bookmark: _Hlk90976795]");
    const mark = markerOf(n.marker);
    if (n.joiner) return `${t}${mark}; ${n.joiner}`;
    return mark && r.chance(0.5) ? `${t}${last ? "." : ";"}${mark}` : `${t}${mark}${last ? "." : ";"}`;
  };
  const walk = (nodes: GNode[], depth: number) => {
    const prior = nodes;
    const shown = visible(nodes, "proposed");
    prior.forEach((n, i) => {
      const style = STYLE_AT[depth] as (typeof STYLE_AT)[number];
      const label = formatLabel(style, n.printed);
      const last = i === prior.length - 1;
      if (n.kind === "leaf") {
        if (n.deleted) {
          const [o, c] = r.pick([
            ["~~", "~~"],
            ["<del>", "</del>"],
          ]);
          out.push({ depth, label: "", text: `${o}${label}. ${leafLine(n, last)}${c}` });
          return;
        }
        const q = shown.indexOf(n) + 1;
        const priorPos = i + 1;
        if (format === "redline" && q !== priorPos) {
          out.push({
            depth,
            label: "",
            text: `~~${formatLabel(style, priorPos)}.${formatLabel(style, q)}.~~ ${leafLine(n, last)}`,
          });
          return;
        }
        out.push({ depth, label, text: leafLine(n, last) });
        return;
      }
      const q = shown.indexOf(n) + 1;
      if (format === "redline" && q !== i + 1)
        out.push({
          depth,
          label: "",
          text: `~~${formatLabel(style, i + 1)}.${formatLabel(style, q)}.~~ ${n.lead}:`,
        });
      else out.push({ depth, label, text: `${n.lead}:` });
      walk(n.children, depth + 1);
    });
  };
  p.sections.forEach((s, i) => {
    out.push({ depth: 0, label: formatLabel("roman", i + 1), text: s.statement });
    if (s.tree) walk(s.tree.children, 1);
  });
  if (format === "markdown" || format === "redline") for (const it of out) it.text = mathify(it.text);
  return out;
}

function pageHeader(r: Rand, title: string): string[] {
  return r.pick([
    ["", "CLINICAL POLICY", title, ""],
    ["", "**CLINICAL POLICY**  ", `**${title}**`, "", ""],
    ["", "## CLINICAL POLICY", "", `### ${title}`, ""],
    ["", `**${title}**`, ""],
    ["", "CLINICAL POLICY", "", title, "", "", ""],
  ]);
}

const yy = (x: [number, number]) => `${String(x[1]).padStart(2, "0")}/${x[0]}`;

function render(p: GPolicy, format: Format, r: Rand): string {
  const L: string[] = [];
  const md = format === "markdown" || format === "redline";
  if (format === "word")
    L.push(
      `Clinical Policy: ${p.title}`,
      `Reference Number: ${p.id}`,
      " See Important Reminder at the end of this policy.",
      "",
    );
  else
    L.push(
      "",
      "",
      `${md ? "## " : ""}Clinical Policy: ${p.title}`,
      "",
      `Reference Number: ${p.id}`,
      "",
      "[Revision Log](#)",
      "",
    );
  L.push(md ? "### Description" : "Description", "");
  L.push(`${phrase(r, 5, 20)}.${format === "redline" ? ` ~~${word(r)}~~ <u>${word(r)}</u>` : ""}`, "");
  L.push(md ? "### Policy/Criteria" : "Policy/Criteria", "");

  const its = items(p, format, r);
  const body: string[] = [];
  // A single-section policy often prints its statement without "I.".
  const unlabeled = p.sections.length === 1 && r.chance(0.3);
  for (const it of its) {
    const label = it.label ? `${it.label}. ` : "";
    if (format === "markdown" || format === "redline") {
      const flat = r.chance(0.15);
      const indent = flat ? "" : "  ".repeat(it.depth);
      const bullet = it.depth === 2 && r.chance(0.5) ? "" : "- ";
      if (it.depth === 0 && unlabeled) body.push(it.text);
      else if (it.depth === 0 && r.chance(0.4)) body.push("", `**${it.label}.** ${it.text}`, "");
      else body.push(`${indent}${bullet}${label}${it.text}`);
      if (r.chance(0.1)) body.push("");
      if (format === "markdown" && r.chance(0.05)) body.push("", `**${p.title}**`, "");
    } else if (format === "pdf") {
      const lines = wrap(it.depth === 0 && unlabeled ? it.text : `${label}${it.text}`, r.int(45, 95));
      body.push(...lines);
      if (r.chance(0.1)) body.push("");
    } else {
      const bm = r.chance(0.3) ? `[bookmark: _Hlk${r.int(100000, 999999)}]` : "";
      body.push(`${it.depth === 0 && unlabeled ? "" : label}${bm}${it.text}${r.chance(0.3) ? " " : ""}`);
    }
  }
  if (format === "pdf") {
    // Running page headers at random places: between items, inside wrapped items (cutting sentences).
    for (let k = r.int(1, 3); k > 0; k--) body.splice(r.int(1, body.length), 0, ...pageHeader(r, p.title));
  }
  L.push(...body, "");
  for (const n of p.notes) {
    const lead =
      n.marker === "†"
        ? "†Note:"
        : format === "markdown" || format === "redline"
          ? r.pick(["*\\*Note:*", "\\*Note:", "**Note:*"])
          : r.pick(["*Note:", "**Note:*"]);
    const text = `${lead} ${n.text}`;
    if (format === "pdf") {
      const lines = wrap(text, r.int(45, 95));
      if (lines.length > 1 && r.chance(0.5)) lines.splice(1, 0, ...pageHeader(r, p.title));
      L.push(...lines, "");
    } else L.push(text, "");
  }
  L.push(md ? "### **Background**" : "Background", "", `${phrase(r, 10, 30)}.`, "");
  L.push(md ? "**Coding Implications**" : "Coding Implications", "", `${phrase(r, 5, 15)}.`, "");

  // Code table.
  if (p.feeScheduleAge !== undefined) {
    const star = md ? "\\*" : "*";
    L.push(
      `NOTE: Coverage is subject to each requested code’s inclusion on the corresponding ${cap(word(r))} fee schedule. Non-covered codes are denoted (${star}) and are reviewed for Medical Necessity for members under ${p.feeScheduleAge} years of age on a per case basis.`,
      "",
    );
  }
  if (p.coverage) {
    const h =
      p.coverage === "supports"
        ? "Codes that support coverage criteria"
        : "Codes that do not support coverage criteria";
    L.push(md ? r.pick([`**${h}**`, `#### ${h}`]) : h, "");
  }
  const header = md ? r.pick(["CPT <sup>®</sup> Codes", "<b>CPT® Codes</b>"]) : "CPT® Codes";
  if (format === "word") {
    L.push(`\t${header} `, "\tDescription", "");
    for (const c of p.codes) L.push(`\t${c.code}${c.marker ?? ""}`, `\t${c.description}`, "");
  } else if (format === "markdown" && r.chance(0.5)) {
    L.push(`| ${header} | Description |`, "|---|---|");
    for (const c of p.codes) L.push(`| ${c.code}${c.marker ?? ""} | ${c.description} |`);
  } else {
    L.push(`${header}\tDescription`);
    p.codes.forEach((c, i) => {
      if (format === "pdf" && i === Math.floor(p.codes.length / 2) && c.description.includes(" ")) {
        const w = c.description.split(" ");
        const cut = r.int(1, w.length - 1);
        L.push(
          `${c.code}${c.marker ?? ""}\t${w.slice(0, cut).join(" ")}`,
          ...pageHeader(r, p.title),
          `${header}\tDescription`,
          `\t${w.slice(cut).join(" ")}`,
        );
      } else L.push(`${c.code}${c.marker ?? ""}\t${c.description}`);
    });
  }
  L.push("");

  // Revision log.
  const logHeader = ["Reviews, Revisions, and Approvals", "Revision Date", "Approval Date"];
  if (format === "word") {
    L.push(...logHeader.map((h) => `\t${h}`), "");
    for (const e of p.log)
      L.push(`\t${e.description}`, `\t${yy(e.rev)}`, `\t${e.appr ? yy(e.appr) : ""}`, "");
  } else {
    L.push(logHeader.join("\t"));
    p.log.forEach((e, i) => {
      const row = [e.description, yy(e.rev), e.appr ? yy(e.appr) : ""];
      if (format === "pdf" && i === p.log.length - 1 && e.description.split(" ").length > 3) {
        const w = e.description.split(" ");
        const cut = r.int(1, w.length - 2);
        L.push(
          [w.slice(0, cut).join(" "), row[1], row[2]].join("\t"),
          ...pageHeader(r, p.title),
          logHeader.join("\t"),
          [w.slice(cut).join(" "), "", ""].join("\t"),
        );
      } else L.push(row.join("\t"));
    });
    if (format === "redline") L.push(`<u>${REDLINE_ROW}</u>\t${yy(redlineRev(p))}\t\t`);
  }
  L.push("");
  if (p.references.length > 0) {
    L.push(md ? "## References" : "References", "");
    p.references.forEach((x, i) => {
      L.push(`${i + 1}. ${x}`);
    });
    L.push("");
  }
  L.push(md ? "**Important Reminder**" : "Important Reminder", "", `${phrase(r, 10, 20)}.`, "");
  return L.join("\n");
}

const REDLINE_ROW = "Annual review with proposed changes.";
function redlineRev(p: GPolicy): [number, number] {
  const last = (p.log[p.log.length - 1] as GPolicy["log"][number]).rev;
  return [last[0] + 1, last[1]];
}

/** Redline edits: struck criteria (prior only) and inserted or struck words inside criteria. */
function addRedlineEdits(p: GPolicy, r: Rand): void {
  const visit = (g: GGroup, depth: number) => {
    if (depth === 3 || depth === 2) {
      for (let i = 0; i < g.children.length; i++) {
        const c = g.children[i] as GNode;
        if (c.kind === "leaf" && !c.deleted && r.chance(0.12)) {
          g.children.splice(i, 0, { kind: "leaf", text: phrase(r), printed: 0, deleted: true });
          i++;
        }
      }
      // Printed labels follow the prior version's positions; a redline never also perturbs them.
      g.children.forEach((c, i) => {
        c.printed = i + 1;
        delete c.perturbed;
      });
    }
    for (const c of g.children) {
      if (c.kind === "leaf") {
        if (!c.deleted && !c.marker && r.chance(0.15)) {
          const w = c.text.split(" ");
          const at = r.int(1, Math.max(1, w.length - 1));
          if (w.length >= 2 && !MATH_TOKEN.test(w[at - 1] ?? ""))
            c.edit = { at, words: words(r, 1, 3), mark: r.chance(0.5) ? "ins" : "del" };
        }
      } else visit(c, depth + 1);
    }
  };
  for (const s of p.sections) if (s.tree) visit(s.tree, 1);
}

// ---------------------------------------------------------------------------------------------------
// The property

function check(
  p: GPolicy,
  doc: string,
  side: Side,
  v: PolicyVersion,
  allFindings: { code: string; criterion?: string }[],
): void {
  const findings: string[] = [];
  const expected = p.sections.map((s, i) => {
    const id = formatLabel("roman", i + 1);
    return s.tree ? expectedNode(s.tree, id, side, p, findings) : undefined;
  });
  const actual = v.sections.map((s) => (s.tree ? project(s.tree) : undefined));
  assert.deepEqual(actual, expected);
  assert.deepEqual(
    v.sections.map((s) => [s.kind, s.text]),
    p.sections.map((s) => [s.tree ? "medically-necessary" : "not-proven", s.statement]),
  );
  const got = allFindings
    .filter((f) => /^label-|^leadin-/.test(f.code))
    .map((f) => `${f.code} ${f.criterion}`)
    .sort();
  assert.deepEqual(got, [...findings].sort());
  assert.deepEqual(v.unplaced, [], `unplaced in:\n${doc}`);
  assert.equal(v.identity.id, p.id);
  assert.equal(v.identity.baseId, p.baseId);
  assert.equal(v.identity.state, p.state);
  assert.equal(v.identity.title, p.title);
  assert.equal(v.identity.plan, p.plan);
  assert.deepEqual(
    v.codeTables.map((t) => [t.coverage, t.rows.map((x) => [x.code, x.description, x.marker])]),
    [[p.coverage ?? "unspecified", p.codes.map((c) => [c.code, c.description, c.marker])]],
  );
  assert.deepEqual(
    v.codeMarkers.map(({ marker, meaning, reviewUnderAge }) => ({ marker, meaning, reviewUnderAge })),
    p.feeScheduleAge === undefined
      ? []
      : [{ marker: "*", meaning: "not-on-fee-schedule", reviewUnderAge: p.feeScheduleAge }],
  );
  assert.deepEqual(v.references, p.references);
  const log = side === "proposed" ? [...p.log, { description: REDLINE_ROW, rev: redlineRev(p) }] : p.log;
  assert.deepEqual(
    v.revisionLog.map((e) => [e.description, e.revision, e.approved]),
    log.map((e) => [
      e.description,
      `20${e.rev[0]}-${String(e.rev[1]).padStart(2, "0")}`,
      "appr" in e && e.appr ? `20${e.appr[0]}-${String(e.appr[1]).padStart(2, "0")}-01` : undefined,
    ]),
  );
  const newest = log[log.length - 1] as (typeof log)[number];
  assert.equal(v.identity.version, `20${newest.rev[0]}-${String(newest.rev[1]).padStart(2, "0")}`);
  // Round trip (SPEC 5).
  const back = ingest(renderMarkdown(v));
  assert.equal(back.versions.length, 1);
  assert.equal(back.versions[0]?.hash, v.hash, "round trip keeps the hash");
}

function run(seed: number, format: Format): void {
  const r = new Rand(seed);
  const p = genPolicy(r);
  if (format === "redline") addRedlineEdits(p, r);
  const doc = render(p, format, new Rand(seed ^ 0x5bd1e995));
  try {
    const res = ingest(doc);
    if (format === "redline") {
      assert.equal(res.versions.length, 2);
      const [prior, proposed] = res.versions as [PolicyVersion, PolicyVersion];
      check(p, doc, "prior", prior, prior.findings);
      check(p, doc, "proposed", proposed, proposed.findings);
    } else {
      assert.equal(res.versions.length, 1);
      check(p, doc, "plain", res.versions[0] as PolicyVersion, res.findings);
    }
  } catch (e) {
    (e as Error).message += `\n--- ${format} document (seed ${seed}) ---\n${doc}`;
    throw e;
  }
}

describe("generality: random policies in every format read back to the same model", () => {
  const formats: Format[] = ["markdown", "pdf", "word", "redline"];
  for (const format of formats) {
    it(format, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0x7fffffff }), (seed) => run(seed, format)),
        { numRuns: 100, includeErrorInReport: true },
      );
    });
  }
});
