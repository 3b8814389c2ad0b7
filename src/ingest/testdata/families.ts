/**
 * Random policies in the four format families of issue 12 ("generality by construction"), each with
 * the tree its ingestion must give back:
 *
 * - `centene`: roman sections "I. It is the policy of … that X is medically necessary when all of the
 *   following:", items A./1./a./i., "None of the following contraindications", notes tied to criteria
 *   by `*`/`†` markers, titled sub-policies that restart I., II. (ids `S1.I.A…`, `S2.I…`).
 * - `cms`: an NCD as the CMS site prints it: "Indications and Limitations of Coverage", "B. Nationally
 *   Covered Indications" with a "reasonable and necessary when … of the following" lead-in, numbered
 *   items and "•" bullets nested by 4-space indents, "C. Nationally Non-Covered Indications" with an
 *   exclusion list ("CMS will not cover … in the following circumstances:" items joined "; or,").
 * - `commercial`: a heading ("Coverage Rationale", "Policy Statement", "Clinical Indications"), a
 *   statement with no quantifier ("X is considered medically necessary when:") over unlabeled lines or
 *   bullets nested by indentation whose logic only trailing connectors carry ("; and", "; or", ", OR").
 * - `glyph`: PDF text with glyph bullets (•, o, ◦, ▪, private-use U+F0B7/U+F0A7), wrapped lines, and
 *   running page footers ("Page 3 of 12", the title, "Proprietary information of …") with a form feed
 *   or a page header block cutting lists and wrapped items.
 *
 * One model type and one generator serve every family; a family only bounds what its format can print
 * (CMS lists nest three levels under a lettered section; a list carried by connectors needs a lead-in
 * that can hold no quantifier at its root). Expected ids follow the issue 12 id scheme (brief):
 * unlabeled sections are I, II… by position; unlabeled bullets take the next label style below their
 * lead-in; CMS sections keep their printed letters (B, C); sub-policies prefix `S<n>.`.
 *
 * The expected model is written from the generated one, never from the parser's code.
 */
import type { CriterionNode, PolicyVersion, SectionKind } from "../../model/index.js";
import { Rand, SYLLABLES, wrap } from "./random.js";

export type Family = "centene" | "cms" | "commercial" | "glyph";
export const FAMILIES: readonly Family[] = ["centene", "cms", "commercial", "glyph"];

// ---------------------------------------------------------------------------------------------------
// Random source and vocabulary

/** Words with a meaning to a policy reader (quantifiers, joiners, kinds, layout) never come out random. */
const FORBIDDEN = new Set(
  (
    "and or the when if with that where which who note none any all one two either both each least following " +
    "include includes including refer above criteria met is are page clinical policy not have must cover " +
    "covered coverage general other proven unproven necessary reasonable established experimental " +
    "investigational indications patients member members proprietary information copyright effective"
  ).split(" "),
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
const titleCase = (s: string) => s.split(" ").map(cap).join(" ");

/** A criterion's wording: random words, now and then a number, a comparison or an example. */
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

const NOUNS = [
  "arthroplasty",
  "stimulation",
  "implant",
  "fusion",
  "therapy",
  "injection",
  "ablation",
  "imaging",
];
const NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six"];
const MONTHS = "January February March April May June July August September October November December".split(
  " ",
);
const pad2 = (n: number) => String(n).padStart(2, "0");

// ---------------------------------------------------------------------------------------------------
// The random model

export type Logic = "all" | "any" | "none" | "atLeast";

export interface GLeaf {
  kind: "leaf";
  text: string;
  /** Note marker printed after the criterion (centene). */
  marker?: "*" | "†";
}

export interface GGroup {
  kind: "group";
  logic: Logic;
  /** For `atLeast`. */
  n?: number;
  /** Words a lead-in may state before its quantifier ("Chronic pain of malignant origin when …"). */
  topic: string;
  children: GNode[];
}

export type GNode = GLeaf | GGroup;

export interface GSection {
  /** covered: a criteria tree; excluded: an exclusion list (any of leaves); unproven: a statement. */
  kind: "covered" | "excluded" | "unproven";
  subject: string;
  tree?: GGroup;
  /** CMS C: how the exclusion list's items are printed (`upper` = "A.", "B."). */
  printed?: "digit" | "upper" | "bullet";
}

export interface GNote {
  marker: "*" | "†";
  text: string;
  effect: "review" | "informational";
}

export interface GSubPolicy {
  /** Printed before the sub-policy's restarted I., II. (only when the policy has several). */
  title?: string;
  sections: GSection[];
  notes: GNote[];
}

export interface GPolicy {
  family: Family;
  title: string;
  payer: string;
  subPolicies: GSubPolicy[];
}

interface Shape {
  /** Item levels below a section. */
  maxDepth: number;
  rootLogics: readonly Logic[];
}

const SHAPES: Record<Family, Shape> = {
  centene: { maxDepth: 4, rootLogics: ["all", "all", "any", "atLeast"] },
  // Under a lettered section: 1. → a. → i. (SPEC 1.4 styles), no fourth style left.
  cms: { maxDepth: 3, rootLogics: ["all", "all", "any", "atLeast"] },
  // The statement carries no quantifier: its list's logic is the connectors' (and or or).
  commercial: { maxDepth: 4, rootLogics: ["all", "all", "any"] },
  glyph: { maxDepth: 4, rootLogics: ["all", "all", "any", "atLeast"] },
};

const MAX_CHILDREN = [0, 6, 5, 5, 4];
const GROUP_CHANCE = [0, 0.35, 0.3, 0.3, 0];

/** How many criteria (nodes) a document may still hold: fast-check shrinks it to find small failures. */
interface Budget {
  left: number;
}

function genChildren(
  r: Rand,
  depth: number,
  shape: Shape,
  budget: Budget,
  opts: { min: number; leafOnly: boolean },
): GNode[] {
  const want = r.int(opts.min, Math.max(opts.min, MAX_CHILDREN[depth] ?? 2));
  const count = Math.max(opts.min, Math.min(want, budget.left));
  budget.left -= count;
  const out: GNode[] = [];
  for (let i = 0; i < count; i++) {
    const group =
      !opts.leafOnly && depth < shape.maxDepth && budget.left >= 2 && r.chance(GROUP_CHANCE[depth] ?? 0);
    out.push(group ? genGroup(r, depth, shape, budget) : { kind: "leaf", text: phrase(r) });
  }
  return out;
}

/** A group listed at `depth` (its children one level deeper). */
function genGroup(r: Rand, depth: number, shape: Shape, budget: Budget): GGroup {
  const logic: Logic = r.pick(["all", "all", "any", "any", "none", "atLeast"]);
  return makeGroup(r, logic, depth + 1, shape, budget, r.pick([false, false, true]));
}

function makeGroup(r: Rand, logic: Logic, childDepth: number, shape: Shape, budget: Budget, flat: boolean) {
  const children = genChildren(r, childDepth, shape, budget, {
    min: logic === "atLeast" ? 3 : 2,
    leafOnly: flat || logic === "none",
  });
  const g: GGroup = { kind: "group", logic, topic: phrase(r, 2, 6), children };
  if (logic === "atLeast") g.n = r.int(2, Math.min(children.length - 1, 6));
  return g;
}

function genSection(r: Rand, kind: GSection["kind"], shape: Shape, budget: Budget): GSection {
  const subject = `${words(r, 1, 2)} ${r.pick(NOUNS)}`;
  if (kind === "unproven") {
    budget.left -= 1;
    return { kind, subject };
  }
  if (kind === "excluded") return { kind, subject, tree: makeGroup(r, "any", 1, shape, budget, true) };
  return { kind, subject, tree: makeGroup(r, r.pick(shape.rootLogics), 1, shape, budget, false) };
}

function leavesOf(g: GGroup, out: GLeaf[] = []): GLeaf[] {
  for (const c of g.children)
    if (c.kind === "leaf") out.push(c);
    else leavesOf(c, out);
  return out;
}

/** The random policy of one seed in one family; `size` bounds its criteria (≥ 1). */
export function genPolicy(r: Rand, family: Family, size: number): GPolicy {
  const shape = SHAPES[family];
  const budget: Budget = { left: Math.max(1, size) };
  const title = `${titleCase(words(r, 1, 3))} ${cap(r.pick(NOUNS))}`;
  const payer = family === "cms" ? "CMS" : `${cap(word(r))}${r.pick(["", " Health", " Healthcare", "Care"])}`;
  const subPolicies: GSubPolicy[] = [];
  if (family === "cms") {
    // One covered section (B) and C: an exclusion list or a non-coverage statement.
    const b = genSection(r, "covered", shape, budget);
    const c = genSection(r, budget.left >= 2 && r.chance(0.6) ? "excluded" : "unproven", shape, budget);
    if (c.kind === "excluded") c.printed = r.pick(["digit", "digit", "upper", "bullet"]);
    subPolicies.push({ sections: [b, c], notes: [] });
    return { family, title, payer, subPolicies };
  }
  const subCount = family === "centene" && size >= 8 && r.chance(0.35) ? r.int(2, 3) : 1;
  for (let k = 0; k < subCount; k++) {
    const sections: GSection[] = [];
    const covered = family === "commercial" ? r.int(1, 2) : r.int(1, 3);
    for (let i = 0; i < covered && (i === 0 || budget.left >= 2); i++)
      sections.push(genSection(r, "covered", shape, budget));
    if (budget.left >= 2 && r.chance(family === "commercial" ? 0.35 : 0.3))
      sections.push(genSection(r, "excluded", shape, budget));
    if (budget.left >= 1 && r.chance(family === "commercial" ? 0.7 : 0.45))
      sections.push(genSection(r, "unproven", shape, budget));
    const notes: GNote[] = [];
    if (family === "centene") {
      // Notes explain a marked criterion of a covered section; they follow the sub-policy's sections.
      const leaves = sections.flatMap((s) => (s.kind === "covered" && s.tree ? leavesOf(s.tree) : []));
      for (const marker of ["*", "†"] as const) {
        if (!r.chance(marker === "*" ? 0.4 : 0.25)) continue;
        const leaf = r.pick(leaves);
        if (leaf.marker) continue;
        leaf.marker = marker;
        notes.push(
          r.chance(0.6)
            ? {
                marker,
                text: `The ${words(r, 2, 5)} may be reviewed by a medical director on a case-by-case basis for instances of ${words(r, 2, 6)}.`,
                effect: "review",
              }
            : {
                marker,
                text: `This ${words(r, 2, 5)} applies to ${words(r, 2, 5)}.`,
                effect: "informational",
              },
        );
      }
    }
    subPolicies.push({ sections, notes });
  }
  if (subCount > 1) {
    const titles = new Set<string>();
    for (const sp of subPolicies) {
      let t: string;
      do t = `${titleCase(words(r, 1, 2))} ${cap(r.pick(NOUNS))}`;
      while (titles.has(t) || t === title);
      titles.add(t);
      sp.title = t;
    }
  }
  return { family, title, payer, subPolicies };
}

// ---------------------------------------------------------------------------------------------------
// The expected model (issue 12 id scheme) and the projection of an ingested version onto it

type Style = "roman" | "upper" | "digit" | "lower" | "lowerRoman";

function roman(n: number): string {
  const table: [number, string][] = [
    [10, "X"],
    [9, "IX"],
    [5, "V"],
    [4, "IV"],
    [1, "I"],
  ];
  let out = "";
  let rest = n;
  for (const [v, s] of table)
    while (rest >= v) {
      out += s;
      rest -= v;
    }
  return out;
}
function label(style: Style, n: number): string {
  switch (style) {
    case "roman":
      return roman(n);
    case "upper":
      return String.fromCharCode(64 + n);
    case "digit":
      return String(n);
    case "lower":
      return String.fromCharCode(96 + n);
    case "lowerRoman":
      return roman(n).toLowerCase();
  }
}
const BELOW_ROMAN: Style[] = ["upper", "digit", "lower", "lowerRoman"];
const BELOW_UPPER: Style[] = ["digit", "lower", "lowerRoman"];

export interface ExpNode {
  id: string;
  kind: "leaf" | Logic | "ref";
  n?: number;
  text?: string;
  note?: { marker: string; effect: string };
  children?: ExpNode[];
}

export interface ExpSection {
  id: string;
  kind: SectionKind;
  tree?: ExpNode;
}

export interface Expected {
  sections: ExpSection[];
  subPolicies: { id: string; title: string }[];
}

function expNode(n: GNode, id: string, styles: readonly Style[], depth: number, notes: GNote[]): ExpNode {
  if (n.kind === "leaf") {
    const note = n.marker ? notes.find((x) => x.marker === n.marker) : undefined;
    return {
      id,
      kind: "leaf",
      text: n.text,
      ...(note ? { note: { marker: note.marker, effect: note.effect } } : {}),
    };
  }
  return {
    id,
    kind: n.logic,
    ...(n.n !== undefined ? { n: n.n } : {}),
    children: n.children.map((c, i) =>
      expNode(c, `${id}.${label(styles[depth] as Style, i + 1)}`, styles, depth + 1, notes),
    ),
  };
}

/** What ingesting a policy of this model must give: sections (ids, kinds, trees) and sub-policies. */
export function expectedOf(p: GPolicy): Expected {
  const multi = p.subPolicies.length > 1;
  const sections: ExpSection[] = [];
  p.subPolicies.forEach((sp, k) => {
    const prefix = multi ? `S${k + 1}.` : "";
    sp.sections.forEach((s, i) => {
      const id = p.family === "cms" ? (i === 0 ? "B" : "C") : `${prefix}${roman(i + 1)}`;
      const styles =
        p.family !== "cms" ? BELOW_ROMAN : s.printed === "upper" ? (["upper"] as Style[]) : BELOW_UPPER;
      const kind: SectionKind = s.kind === "covered" ? "medically-necessary" : "not-proven";
      sections.push(s.tree ? { id, kind, tree: expNode(s.tree, id, styles, 0, sp.notes) } : { id, kind });
    });
  });
  return {
    sections,
    subPolicies: multi ? p.subPolicies.map((sp, k) => ({ id: `S${k + 1}`, title: sp.title ?? "" })) : [],
  };
}

function projectNode(n: CriterionNode): ExpNode {
  if (n.kind === "ref") return { id: n.id, kind: "ref", text: n.target };
  const note = n.note ? { note: { marker: n.note.marker, effect: n.note.effect } } : {};
  if (n.kind === "leaf") return { id: n.id, kind: "leaf", text: n.text, ...note };
  return {
    id: n.id,
    kind: n.kind,
    ...(n.kind === "atLeast" ? { n: n.n } : {}),
    ...note,
    children: n.children.map(projectNode),
  };
}

/** An ingested version in the shape of {@link Expected} (group lead-in texts and conditions left out). */
export function projectVersion(v: PolicyVersion): Expected {
  return {
    // A titled paragraph with no coverage statement and no criteria (CMS "A. General", "D. Other") is
    // read as a section of kind `other` with no tree: it decides nothing, so it is not compared.
    sections: v.sections
      .filter((s) => s.tree || s.kind !== "other")
      .map((s) =>
        s.tree ? { id: s.id, kind: s.kind, tree: projectNode(s.tree) } : { id: s.id, kind: s.kind },
      ),
    subPolicies: (v.subPolicies ?? []).map((sp) => ({ id: sp.id, title: sp.title })),
  };
}

// ---------------------------------------------------------------------------------------------------
// Rendering helpers

function quantWord(n: number, upper = false): string {
  const w = NUMBER_WORDS[n] ?? String(n);
  return upper ? w.toUpperCase() : w;
}

function date(r: Rand): { y: number; m: number; d: number } {
  return { y: r.int(2003, 2025), m: r.int(1, 12), d: r.int(1, 28) };
}

/** A rendered document and what its rendering exercised (the generator's own coverage check). */
export interface Rendered {
  document: string;
  features: Set<string>;
}

function noteFeatures(p: GPolicy, f: Set<string>): void {
  const visit = (g: GGroup, depth: number) => {
    f.add(`logic-${g.logic}`);
    f.add(`depth-${depth}`);
    for (const c of g.children) if (c.kind === "group") visit(c, depth + 1);
  };
  for (const sp of p.subPolicies)
    for (const s of sp.sections) {
      f.add(`section-${s.kind}`);
      if (s.tree) visit(s.tree, 1);
    }
  if (p.subPolicies.length > 1) f.add("sub-policies");
  if (p.subPolicies.some((sp) => sp.notes.length > 0)) f.add("notes");
}

// ---------------------------------------------------------------------------------------------------
// 1. Centene

const CENTENE = "health plans affiliated with Centene Corporation®";

function centeneStatement(s: GSection, r: Rand): string {
  const that = `It is the policy of ${CENTENE} that`;
  if (s.kind === "unproven")
    return r.pick([
      `${that} ${s.subject} is investigational for all other indications.`,
      `${that} ${s.subject} is not medically necessary for all other indications.`,
      `${that} ${s.subject} is considered experimental/investigational and not medically necessary when the above criteria are not met.`,
    ]);
  const g = s.tree as GGroup;
  if (s.kind === "excluded")
    return r.pick([
      `${that} ${s.subject} is not medically necessary for any of the following indications:`,
      `${that} ${s.subject} is investigational for any of the following:`,
    ]);
  const q =
    g.logic === "all"
      ? r.pick([
          "when all of the following criteria are met",
          "when meeting all of the following",
          "for members who meet all of the following criteria",
          "when all of the following",
        ])
      : g.logic === "any"
        ? g.children.length === 2
          ? r.pick(["for either of the following indications", "when any of the following criteria are met"])
          : r.pick(["for any of the following indications", "when one of the following criteria is met"])
        : `when at least ${quantWord(g.n ?? 2)} of the following criteria are met`;
  return `${that} ${s.subject} is medically necessary ${q}:`;
}

function centeneLead(g: GGroup, r: Rand): string {
  switch (g.logic) {
    case "all":
      return r.pick([
        "All of the following:",
        `${g.topic} when all of the following criteria are met:`,
        `${g.topic}, as evidenced by all of the following:`,
        "Meets all of the following:",
      ]);
    case "any":
      return g.children.length === 2
        ? r.pick(["Either of the following:", `${g.topic} when either of the following:`])
        : r.pick([
            "Any of the following:",
            `${g.topic}, as evidenced by one of the following:`,
            "One of the following:",
          ]);
    case "none":
      return r.pick(["None of the following contraindications:", "None of the following:"]);
    case "atLeast":
      return r.pick([
        `At least ${quantWord(g.n ?? 2)} of the following:`,
        `${g.topic}, with at least ${quantWord(g.n ?? 2)} of the following:`,
      ]);
  }
}

function renderCentene(p: GPolicy, r: Rand): Rendered {
  const f = new Set<string>();
  const L: string[] = [];
  const ref = `CP.MP.${r.int(1, 299)}`;
  const rev = date(r);
  L.push(
    "",
    `Clinical Policy: ${p.title}`,
    `Reference Number: ${ref}`,
    `Date of Last Revision: ${pad2(rev.m)}/${rev.y}`,
    "",
    "See Important Reminder at the end of this policy for important regulatory and legal information.",
    "",
    "Description",
    "",
    `${phrase(r, 8, 20)}.`,
    "",
    "Policy/Criteria",
    "",
  );
  const layout = r.pick(["plain", "indent", "dash"] as const);
  const width = r.chance(0.3) ? r.int(60, 100) : 0;
  if (width) f.add("wrapped");
  const body: string[] = [];
  const item = (depth: number, lab: string, text: string) => {
    const line = `${lab}. ${text}`;
    let indent = "";
    if (layout === "indent") indent = "  ".repeat(depth);
    else if (layout === "dash" && depth >= 2) indent = depth >= 3 ? " - " : "- ";
    if (width) body.push(...wrap(line, width).map((l, i) => (i === 0 ? indent + l : l)));
    else body.push(indent + line);
  };
  const walk = (g: GGroup, depth: number, styles: readonly Style[]) => {
    const joiner = r.chance(0.3) && g.logic !== "atLeast" ? (g.logic === "all" ? "and" : "or") : undefined;
    g.children.forEach((c, i) => {
      const lab = label(styles[depth - 1] as Style, i + 1);
      const last = i === g.children.length - 1;
      if (c.kind === "group") {
        item(depth, lab, centeneLead(c, r));
        walk(c, depth + 1, styles);
        return;
      }
      const mark = c.marker ?? "";
      const end = last ? "." : joiner ? `; ${joiner}` : ";";
      item(
        depth,
        lab,
        mark && r.chance(0.5) && !joiner ? `${c.text}${end}${mark}` : `${c.text}${mark}${end}`,
      );
    });
  };
  for (const sp of p.subPolicies) {
    if (sp.title) body.push(sp.title, "");
    sp.sections.forEach((s, i) => {
      item(0, roman(i + 1), centeneStatement(s, r));
      if (s.tree) walk(s.tree, 1, BELOW_ROMAN);
      if (r.chance(0.3)) body.push("");
    });
    body.push("");
    for (const n of sp.notes) {
      const lead = n.marker === "†" ? "†Note:" : r.pick(["*Note:", "**Note:*"]);
      const text = `${lead} ${n.text}`;
      body.push(...(width ? wrap(text, width) : [text]), "");
    }
  }
  if (r.chance(0.35)) {
    // A running page header where the page broke (anywhere in the criteria: it may cut an item).
    body.splice(r.int(1, body.length - 1), 0, "", "CLINICAL POLICY", p.title, "");
    f.add("page-header");
  }
  L.push(...body);
  L.push(
    "Background",
    "",
    `${phrase(r, 10, 30)}.`,
    "",
    "Reviews, Revisions, and Approvals\tRevision Date\tApproval Date",
    `${phrase(r, 3, 10)}.\t${pad2(rev.m)}/${String(rev.y).slice(2)}\t${pad2(rev.m)}/${String(rev.y).slice(2)}`,
    "",
    "References",
    "",
    `1. ${phrase(r, 4, 10)}. ${cap(word(r))}. ${rev.y};${r.int(1, 40)}(${r.int(1, 9)}):${r.int(1, 300)}.`,
    "",
    "Important Reminder",
    "",
    `${phrase(r, 10, 20)}.`,
    "",
  );
  noteFeatures(p, f);
  return { document: L.join("\n"), features: f };
}

// ---------------------------------------------------------------------------------------------------
// 2. CMS national coverage determination

interface Lead {
  text: string;
  /** The list's logic is carried by connectors between items ("; or,"), not the lead-in. */
  conn?: "and" | "or";
}

function cmsGroupLead(g: GGroup, r: Rand): Lead {
  const t = g.topic;
  switch (g.logic) {
    case "all":
      return r.pick<Lead>([
        { text: `${t}, and all of the following:` },
        { text: `${t}. Patients must meet all of the following criteria:` },
        { text: `${t} and have:`, conn: "and" },
      ]);
    case "any":
      return r.pick<Lead>([
        { text: `${t}. Patients must have demonstrated:`, conn: "or" },
        g.children.length === 2
          ? { text: `${t} with either of the following:` }
          : { text: `${t} with any of the following:` },
      ]);
    case "none":
      return r.pick<Lead>([
        { text: `${t}. Patients must not have:`, conn: "or" },
        { text: `${t}, and none of the following:` },
      ]);
    case "atLeast":
      return { text: `${t} with at least ${quantWord(g.n ?? 2)} of the following:` };
  }
}

function cmsRootLead(s: GSection, r: Rand, d: string): Lead {
  const g = s.tree as GGroup;
  const subj = s.subject;
  if (s.kind === "excluded")
    return r.pick<Lead>([
      { text: `CMS will not cover ${subj} in the following circumstances:`, conn: "or" },
      { text: `${cap(subj)} is nationally non-covered for any of the following:` },
      { text: `The following uses of ${subj} are not reasonable and necessary:`, conn: "or" },
    ]);
  const opener = r.pick([
    `Effective for services performed on or after ${d}, CMS has determined that the evidence is sufficient to conclude that ${subj} is reasonable and necessary`,
    `${cap(subj)} is reasonable and necessary`,
  ]);
  if (g.logic === "all")
    return {
      text: `${opener} ${r.pick(["when all of the following criteria are met:", "for beneficiaries who meet all of the following criteria:"])}`,
    };
  if (g.logic === "any")
    return {
      text: `${opener} ${g.children.length === 2 ? "for either of the following indications:" : "for any of the following indications:"}`,
    };
  return {
    text: `${opener} for beneficiaries who meet at least ${quantWord(g.n ?? 2)} of the following criteria:`,
  };
}

function renderCms(p: GPolicy, r: Rand): Rendered {
  const f = new Set<string>();
  const [b, c] = (p.subPolicies[0] as GSubPolicy).sections as [GSection, GSection];
  const eff = date(r);
  const effS = `${pad2(eff.m)}/${pad2(eff.d)}/${eff.y}`;
  const sp = r.pick([" ", " ", "   "]);
  const L: string[] = [
    p.title,
    "",
    "Publication Number: 100-3",
    `Manual Section Number: ${r.int(10, 310)}.${r.int(1, 40)}`,
    `Manual Section Title: ${p.title}`,
    `Version Number: ${r.int(1, 6)}`,
    `Effective Date of this Version: ${effS}`,
    `Implementation Date: ${effS}`,
    "",
    "Benefit Category",
    r.pick([
      "Durable Medical Equipment",
      "Prosthetic Devices",
      "Physicians' Services",
      "Inpatient Hospital Services",
    ]),
    "",
    "Item/Service Description",
    `A.${sp}General`,
    "",
    `${cap(b.subject)} is ${words(r, 4, 14)}.`,
    "",
    "Indications and Limitations of Coverage",
    `B.${sp}Nationally Covered Indications`,
    "",
  ];
  const itemEnd = r.pick([";", "."]);
  const gap = r.chance(0.3);
  if (gap) f.add("blank-between-items");
  /** Items of `g` at `depth` (1 = the section's list); `after` ends the list's last item. */
  const list = (
    g: GGroup,
    lead: Lead,
    depth: number,
    printedTop: "digit" | "upper" | "bullet",
    after: string,
  ) => {
    const indent = "    ".repeat(depth - 1);
    const printed: "label" | "bullet" =
      depth === 1 ? (printedTop === "bullet" ? "bullet" : "label") : r.chance(0.6) ? "bullet" : "label";
    const style: Style = depth === 1 && printedTop === "upper" ? "upper" : (BELOW_UPPER[depth - 1] as Style);
    if (printed === "bullet") f.add(`bullets-${depth}`);
    if (lead.conn) f.add(`connector-${lead.conn}`);
    const comma = r.chance(0.5) ? "," : "";
    // "a; b; or, c" (the connector only before the last item) in lists of plain items.
    const penult = r.chance(0.3) && g.children.every((ch) => ch.kind === "leaf");
    const k = g.children.length;
    g.children.forEach((ch, i) => {
      const last = i === k - 1;
      const mark = printed === "bullet" ? "• " : `${label(style, i + 1)}. `;
      // A nested list's last item carries what ends its lead-in's item (the outer list's connector).
      const end = last ? after : lead.conn && (!penult || i === k - 2) ? `; ${lead.conn}${comma}` : itemEnd;
      if (ch.kind === "group") {
        const inner = cmsGroupLead(ch, r);
        L.push(`${indent}${mark}${inner.text}`);
        list(ch, inner, depth + 1, "digit", end);
      } else L.push(`${indent}${mark}${ch.text}${end}`);
      if (depth === 1 && gap && !last) L.push("");
    });
  };
  const bLead = cmsRootLead(b, r, `${MONTHS[eff.m - 1]} ${eff.d}, ${eff.y}`);
  L.push(bLead.text, "");
  list(b.tree as GGroup, bLead, 1, r.chance(0.7) ? "digit" : "bullet", ".");
  L.push("", `C.${sp}Nationally Non-Covered Indications`, "");
  if (c.kind === "excluded") {
    const cLead = cmsRootLead(c, r, "");
    L.push(cLead.text, "");
    list(c.tree as GGroup, cLead, 1, c.printed ?? "digit", ".");
    f.add(`exclusions-${c.printed}`);
  } else {
    L.push(
      r.pick([
        `Any other use of ${c.subject} not specified in section B is nationally non-covered.`,
        `${cap(c.subject)} is not reasonable and necessary for any other indication.`,
        `All other indications for ${c.subject} are nationally non-covered.`,
      ]),
    );
  }
  L.push(
    "",
    `D.${sp}Other`,
    "",
    r.pick([
      `(This NCD last reviewed ${MONTHS[eff.m - 1]} ${eff.y}.)`,
      `See Pub. 100-04, Medicare Claims Processing Manual, chapter ${r.int(1, 32)}, section ${r.int(10, 300)}, for claims processing information.`,
    ]),
    "",
    "Transmittal Number",
    String(r.int(100, 12999)),
    "",
    "Revision History",
    `${pad2(eff.m)}/${eff.y} - ${phrase(r, 6, 20)}. (TN ${r.int(100, 12999)}) (CR${r.int(1000, 13999)})`,
    "",
  );
  noteFeatures(p, f);
  return { document: L.join("\n"), features: f };
}

// ---------------------------------------------------------------------------------------------------
// 3. Commercial, unlabeled, logic in trailing connectors

const CONNECTORS: readonly { and: string; or: string }[] = [
  { and: "; and", or: "; or" },
  { and: "; and,", or: "; or," },
  { and: ", AND", or: ", OR" },
  { and: "; AND", or: "; OR" },
];

function commercialLead(g: GGroup, r: Rand): string {
  switch (g.logic) {
    case "all":
    case "any":
      return r.pick([
        `${g.topic}, as evidenced by:`,
        `${g.topic}, as shown by:`,
        `${g.topic}, defined as:`,
        `${g.topic} with:`,
      ]);
    case "none":
      return r.pick(["None of the following contraindications:", `${g.topic} and none of the following:`]);
    case "atLeast":
      return r.pick([
        `At least ${quantWord(g.n ?? 2)} of the following:`,
        `${g.topic}, with at least ${quantWord(g.n ?? 2)} of the following:`,
      ]);
  }
}

function renderCommercial(p: GPolicy, r: Rand): Rendered {
  const f = new Set<string>();
  const heading = r.pick(["Coverage Rationale", "Policy Statement", "Clinical Indications"]);
  const eff = date(r);
  const L: string[] = [
    `${p.payer} ${r.pick(["Medical Policy", "Commercial Medical Policy", "Clinical Policy Bulletin"])}`,
    p.title,
    `Policy Number: ${eff.y}T${String(r.int(1, 9999)).padStart(4, "0")}`,
    `Effective Date: ${MONTHS[eff.m - 1]} ${eff.d}, ${eff.y}`,
    "",
  ];
  if (r.chance(0.5)) {
    f.add("toc");
    L.push(
      "Table of Contents",
      `${heading} ${".".repeat(r.int(10, 40))} 1`,
      `Definitions ${".".repeat(r.int(10, 40))} 3`,
      `Applicable Codes ${".".repeat(r.int(10, 40))} 4`,
      `References ${".".repeat(r.int(10, 40))} 6`,
      "",
    );
  }
  if (r.chance(0.5))
    L.push(
      "Instructions for Use",
      `This Medical Policy provides assistance in interpreting ${p.payer} standard benefit plans. ${phrase(r, 5, 12)}.`,
      "",
    );
  L.push(heading, "");
  const conn = r.pick(CONNECTORS);
  const penult = r.chance(0.4);
  if (penult) f.add("connector-before-last-only");
  const unit = r.pick([2, 4]);
  const glyphs = r.pick<readonly string[] | undefined>([
    undefined,
    ["•", "o", "▪", "-"],
    ["-", "-", "-", "-"],
    ["•", "•", "•", "•"],
  ]);
  const width = glyphs && r.chance(0.3) ? r.int(60, 100) : 0;
  f.add(glyphs ? "bullets" : "indent-only");
  if (width) f.add("wrapped");
  f.add(`connector${conn.or}`);
  const line = (depth: number, text: string) => {
    const indent = " ".repeat(glyphs ? unit * (depth - 1) : unit * depth);
    const mark = glyphs ? `${glyphs[depth - 1]} ` : "";
    if (!width) {
      L.push(`${indent}${mark}${text}`);
      return;
    }
    const cont = " ".repeat(indent.length + mark.length);
    wrap(text, width - indent.length).forEach((l, i) => {
      L.push(i === 0 ? `${indent}${mark}${l}` : cont + l);
    });
  };
  /** `after`: what ends this list's last item (the connector or stop of the list around it). */
  const list = (g: GGroup, depth: number, after: string) => {
    const word = g.logic === "all" ? conn.and : conn.or;
    g.children.forEach((c, i) => {
      const k = g.children.length;
      // "a; b; and c" only where every item is plain (nested lists print a connector after each item).
      const onlyLast = penult && g.children.every((ch) => ch.kind === "leaf");
      const end = i === k - 1 ? after : !onlyLast || i === k - 2 ? word : ";";
      if (c.kind === "group") {
        line(depth, commercialLead(c, r));
        list(c, depth + 1, end);
      } else line(depth, `${c.text}${end}`);
    });
  };
  const sp = p.subPolicies[0] as GSubPolicy;
  for (const s of sp.sections) {
    const Subj = cap(s.subject);
    if (s.kind === "unproven") {
      L.push(
        r.pick([
          `${Subj} is considered experimental, investigational or unproven for all other indications.`,
          `${p.payer} considers ${s.subject} experimental and investigational for all other indications because its effectiveness for these indications has not been established.`,
          `${Subj} is unproven and not medically necessary for all other indications.`,
        ]),
        "",
      );
      continue;
    }
    if (s.kind === "excluded")
      L.push(
        r.pick([
          `${Subj} is considered experimental and investigational for:`,
          `${Subj} is unproven and not medically necessary for treating:`,
          `${p.payer} considers ${s.subject} experimental and investigational for the following indications:`,
        ]),
      );
    else
      L.push(
        r.pick([
          `${Subj} is considered medically necessary when:`,
          `${p.payer} considers ${s.subject} medically necessary when:`,
          `${Subj} is proven and medically necessary when:`,
          `${Subj} is medically necessary if:`,
        ]),
      );
    list(s.tree as GGroup, 1, ".");
    L.push("");
    if (r.chance(0.25)) {
      f.add("unmarked-note");
      L.push(`Note: ${phrase(r, 5, 15)}.`, "");
    }
  }
  L.push(
    "Definitions",
    "",
    `${cap(word(r))}: ${phrase(r, 5, 15)}.`,
    "",
    "Applicable Codes",
    "",
    "The following list(s) of procedure and/or diagnosis codes is provided for reference purposes only.",
    "",
    "CPT Code\tDescription",
    `${r.int(10000, 99999)}\t${phrase(r, 3, 10)}`,
    "",
    "Description of Services",
    "",
    `${phrase(r, 8, 20)}.`,
    "",
    "References",
    "",
    `${phrase(r, 4, 10)}. ${cap(word(r))}. ${eff.y};${r.int(1, 40)}:${r.int(1, 300)}.`,
    "",
    "Policy History/Revision Information",
    "",
    "Date\tSummary of Changes",
    `${pad2(eff.m)}/${pad2(eff.d)}/${eff.y}\t${phrase(r, 4, 12)}.`,
    "",
  );
  noteFeatures(p, f);
  return { document: L.join("\n"), features: f };
}

// ---------------------------------------------------------------------------------------------------
// 4. Glyph bullets, PDF text, running footers cutting lists

const GLYPH_SETS: readonly (readonly string[])[] = [
  ["\uF0B7", "o", "\uF0A7", "-"],
  ["•", "o", "▪", "◦"],
  ["•", "◦", "▪", "-"],
  ["\uF0B7", "\uF0A7", "o", "▪"],
];

function glyphLead(g: GGroup, r: Rand): string {
  const n = quantWord(g.n ?? 2, true);
  switch (g.logic) {
    case "all":
      return r.pick([
        "ALL of the following:",
        `${g.topic} with ALL of the following:`,
        `${g.topic} when all of the following are met:`,
      ]);
    case "any":
      return g.children.length === 2
        ? r.pick(["EITHER of the following:", `${g.topic}, as evidenced by ONE of the following:`])
        : r.pick(["ANY of the following:", `${g.topic}, as evidenced by ONE of the following:`]);
    case "none":
      return r.pick(["NONE of the following contraindications:", `${g.topic} and NONE of the following:`]);
    case "atLeast":
      return r.pick([`At least ${n} of the following:`, `${g.topic} with at least ${n} of the following:`]);
  }
}

/** Fewest lines between two page breaks. */
const MIN_PAGE = 8;

interface PdfLine {
  text: string;
  /** `item`: starts a criterion or statement; `cont`: continues a wrapped one; else other text. */
  at: "item" | "cont" | "other";
  criteria: boolean;
}

function renderGlyph(p: GPolicy, r: Rand): Rendered {
  const f = new Set<string>();
  const heading = r.pick([
    "Coverage Policy",
    "Coverage Rationale",
    "Policy Statement",
    "Clinical Indications",
    "Medical Necessity",
  ]);
  const eff = date(r);
  const num = String(r.int(1, 599)).padStart(4, "0");
  const width = r.int(55, 95);
  const flat = r.chance(0.25);
  const glyphs = r.pick(GLYPH_SETS);
  const sep = r.chance(0.15) ? "\t" : r.pick([" ", "  ", "   "]);
  const margin = r.int(0, 2);
  const step = r.int(3, 5);
  if (flat) f.add("flat-glyphs");
  if (sep === "\t") f.add("tab-after-glyph");
  if (glyphs[0] === "\uF0B7") f.add("private-use-glyphs");
  const out: PdfLine[] = [];
  const other = (...ls: string[]) => {
    for (const text of ls) out.push({ text, at: "other", criteria: false });
  };
  const para = (text: string, criteria: boolean) => {
    wrap(text, width).forEach((t, i) => {
      out.push({ text: t, at: i === 0 ? "item" : "cont", criteria });
    });
  };
  other(
    `${p.payer} Medical Coverage Policy`,
    "",
    `Effective Date ${".".repeat(r.int(8, 20))} ${pad2(eff.m)}/${pad2(eff.d)}/${eff.y}`,
    `Next Review Date ${".".repeat(r.int(8, 20))} ${pad2(eff.m)}/${pad2(eff.d)}/${eff.y + 1}`,
    `Coverage Policy Number ${".".repeat(r.int(4, 12))} ${num}`,
    "",
    p.title,
    "",
  );
  if (r.chance(0.6)) {
    f.add("toc");
    other(
      "Table of Contents",
      `Overview ${".".repeat(r.int(20, 50))} 1`,
      `${heading} ${".".repeat(r.int(20, 50))} 1`,
      `General Background ${".".repeat(r.int(20, 50))} ${r.int(2, 4)}`,
      `References ${".".repeat(r.int(20, 50))} ${r.int(5, 9)}`,
      "",
    );
  }
  other("INSTRUCTIONS FOR USE", "");
  for (const t of wrap(
    `The following Coverage Policy applies to health benefit plans administered by ${p.payer}. ${phrase(r, 8, 25)}.`,
    width,
  ))
    other(t);
  other("", "Overview", "");
  for (const t of wrap(
    `This Coverage Policy addresses ${p.subPolicies[0]?.sections[0]?.subject ?? "it"}. ${phrase(r, 5, 20)}.`,
    width,
  ))
    other(t);
  other("", heading, "");
  const end = r.pick(["", ";", "."]);
  const item = (depth: number, text: string) => {
    const indent = flat ? "" : " ".repeat(margin + step * (depth - 1));
    const mark = `${glyphs[depth - 1]}${sep}`;
    const cont = flat ? "" : " ".repeat(indent.length + (sep === "\t" ? 4 : mark.length));
    wrap(text, width - indent.length - 2).forEach((t, i) => {
      out.push(
        i === 0
          ? { text: `${indent}${mark}${t}`, at: "item", criteria: true }
          : { text: cont + t, at: "cont", criteria: true },
      );
    });
  };
  const list = (g: GGroup, depth: number) => {
    g.children.forEach((c, i) => {
      if (c.kind === "group") {
        item(depth, glyphLead(c, r));
        list(c, depth + 1);
      } else item(depth, `${c.text}${i === g.children.length - 1 && end !== "" ? "." : end}`);
    });
  };
  const sp = p.subPolicies[0] as GSubPolicy;
  for (const s of sp.sections) {
    const Subj = cap(s.subject);
    const g = s.tree;
    let statement: string;
    if (s.kind === "unproven")
      statement = r.pick([
        `${Subj} is considered experimental, investigational or unproven for ANY other indication.`,
        `${Subj} for any other indication is considered not medically necessary.`,
      ]);
    else if (s.kind === "excluded")
      statement = r.pick([
        `${Subj} is considered experimental, investigational or unproven for ANY of the following:`,
        `${Subj} is considered not medically necessary for ANY of the following indications:`,
      ]);
    else {
      const q =
        g?.logic === "all"
          ? r.pick([
              "when ALL of the following criteria are met:",
              "for an individual who meets ALL of the following criteria:",
            ])
          : g?.logic === "any"
            ? g.children.length === 2
              ? "for EITHER of the following indications:"
              : "when ANY of the following criteria is met:"
            : `when at least ${quantWord(g?.n ?? 2, true)} of the following criteria are met:`;
      statement = `${Subj} is considered medically necessary ${q}`;
    }
    para(statement, true);
    if (g) list(g, 1);
    out.push({ text: "", at: "other", criteria: true });
    if (r.chance(0.25)) {
      f.add("unmarked-note");
      para(`Note: ${phrase(r, 5, 15)}.`, true);
      out.push({ text: "", at: "other", criteria: true });
    }
  }
  other("General Background", "");
  for (let k = r.int(1, 3); k > 0; k--) {
    for (const t of wrap(`${phrase(r, 15, 40)}.`, width)) other(t);
    other("");
  }
  other("References", "");
  for (let k = 1, refs = r.int(1, 4); k <= refs; k++)
    other(`${k}. ${phrase(r, 4, 12)}. ${cap(word(r))}. ${eff.y};${r.int(1, 40)}:${r.int(1, 300)}.`);

  // Page breaks: one between two criteria of a list, one inside a wrapped criterion or statement when
  // there is one, and pages of 20–45 lines elsewhere.
  const forced: number[] = [];
  const between = out.flatMap((l, i) =>
    l.criteria && l.at === "item" && out[i - 1]?.at !== "other" ? [i] : [],
  );
  const inside = out.flatMap((l, i) => (l.criteria && l.at === "cont" ? [i] : []));
  if (between.length > 0) {
    forced.push(r.pick(between));
    f.add("break-in-list");
  }
  if (inside.length > 0 && r.chance(0.7)) {
    const at = r.pick(inside);
    // Pages hold some lines: a second cut right after the first is a different case, not this one.
    if (forced.every((b) => Math.abs(b - at) >= MIN_PAGE)) {
      forced.push(at);
      f.add("break-in-item");
    }
  }
  const cuts = [...forced];
  for (let i = r.int(20, 45); i < out.length; i += r.int(20, 45))
    if (cuts.every((b) => Math.abs(b - i) >= MIN_PAGE)) cuts.push(i);
  cuts.sort((a, b) => a - b);
  const pages = cuts.length + 1;
  const company = `${p.payer}${r.pick([", Inc.", " Companies", ""])}`;
  const footerKind = r.pick(["cigna", "uhc", "short"] as const);
  const footer = (k: number): string[] => {
    switch (footerKind) {
      case "cigna":
        return ["", `Page ${k} of ${pages}`, `Medical Coverage Policy: ${num}`];
      case "uhc":
        return [
          "",
          `${p.title} Page ${k} of ${pages}`,
          `${p.payer} Commercial Medical Policy Effective ${pad2(eff.m)}/${pad2(eff.d)}/${eff.y}`,
          `Proprietary Information of ${p.payer}. Copyright ${eff.y} ${company}${company.endsWith(".") ? "" : "."}`,
        ];
      case "short":
        return [
          `Proprietary information of ${company}${company.endsWith(".") ? "" : "."} All rights reserved.`,
          `Page ${k} of ${pages}`,
        ];
    }
  };
  const headerKind = r.pick(["none", "title", "payer-title"] as const);
  const header =
    headerKind === "none"
      ? []
      : headerKind === "title"
        ? [p.title, ""]
        : [`${p.payer} Medical Coverage Policy`, p.title];
  const ffAlone = r.chance(0.4);
  f.add(`footer-${footerKind}`);
  const L: string[] = [];
  let page = 1;
  out.forEach((l, i) => {
    if (cuts.includes(i)) {
      L.push(...footer(page));
      page++;
      const next = [...header];
      if (ffAlone) L.push("\f", ...next);
      else if (next.length > 0) L.push(`\f${next[0]}`, ...next.slice(1));
      else {
        L.push(`\f${l.text}`);
        return;
      }
    }
    L.push(l.text);
  });
  L.push(...footer(page), "\f");
  noteFeatures(p, f);
  return { document: L.join("\n"), features: f };
}

// ---------------------------------------------------------------------------------------------------

const RENDER: Record<Family, (p: GPolicy, r: Rand) => Rendered> = {
  centene: renderCentene,
  cms: renderCms,
  commercial: renderCommercial,
  glyph: renderGlyph,
};

export interface FamilyCase extends Rendered {
  family: Family;
  seed: number;
  size: number;
  policy: GPolicy;
  expected: Expected;
}

/** The document of one seed in one family, with the model it must ingest to. */
export function familyCase(family: Family, seed: number, size: number): FamilyCase {
  const policy = genPolicy(new Rand(seed), family, size);
  const rendered = RENDER[family](policy, new Rand(seed ^ 0x5bd1e995));
  return { family, seed, size, policy, expected: expectedOf(policy), ...rendered };
}
