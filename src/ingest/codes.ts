/**
 * Codes → sections (issue 12, item 4): every code the document lists becomes a *proposed* binding that an
 * author confirms (authoring is its own issue; `medpolicy ingest --json` shows them). Nothing here enters
 * the {@link PolicyVersion} or its hash.
 *
 * Formats read, each line by line and none by document:
 * - tables of tab-separated cells, markdown pipes, or one cell per line (Word), whose header names the
 *   code column ("CPT® Codes", "Code", "ICD-10-CM Diagnosis Codes") and perhaps a column naming sections
 *   ("Policy Section", "Criteria", "Sub-policy"): a crosswalk;
 * - rows without a header whose other cell names a section ("27279 | Section II") or a section's
 *   procedure or sub-policy by name ("22551 | Cervical disc arthroplasty");
 * - lists under a heading that says what they are: "CPT codes covered if selection criteria are met:",
 *   "CPT codes not covered for indications listed in the CPB:", "Other CPT codes related to the CPB:",
 *   "Codes that support coverage criteria", "ICD-10-CM Codes that DO NOT Support Medical Necessity",
 *   "Group 1 Codes:", or a coverage line alone ("Considered Experimental/Investigational/Unproven:")
 *   before a table; each row a code, a range or a comma list, then its description;
 * - group headings inside a list that name a section or sub-policy ("Cervical disc arthroplasty:");
 * - codes in parentheses inside a statement or criterion ("… fusion (CPT 27279) is medically necessary
 *   when"), or after a system word ("CPT codes 22551 and 22552").
 *
 * Code shapes: CPT (5 digits; 4 digits + F/T/U), HCPCS (letter + 4 digits), ICD-10-CM (letter, digit,
 * letter or digit, then a dot and up to 4 more; without the dot only under an ICD-10 heading), and under
 * their heading ICD-10-PCS (7 characters), ICD-9-CM, CDT, revenue codes. Ranges ("22532–22534",
 * "0275T-0276T", "E0782 through E0786") are expanded when they hold at most {@link MAX_EXPANDED} codes, else
 * kept as `22532-22534`; ICD ranges are always kept (ICD codes are not a numeric sequence).
 *
 * Section assignment, in order: a crosswalk cell or group heading that names a section (stated); the
 * statement a code is printed in (stated); for a list that says covered, the one covered section, for
 * one that says not covered, the one not-covered section (inferred); else the section whose statement
 * shares words with the code's description that no other candidate's statement has (inferred: "open"
 * sends 27280 "Arthrodesis, sacroiliac joint, open" to "open SIJ fusion is medically necessary");
 * else none, and the author chooses.
 */
import type {
  CodeCoverage,
  CodeTable,
  CriterionNode,
  DocumentPart,
  Section,
  SectionKind,
  SubPolicy,
} from "../model/index.js";
import { cleanInline, collapse, finishText } from "./inline.js";
import { VERDICT_COLUMN, VERDICT_NO, VERDICT_YES } from "./lines.js";

export type CodeSystem = "CPT" | "HCPCS" | "ICD-10-CM" | "ICD-10-PCS" | "ICD-9-CM" | "CDT" | "Revenue";

/** A code → section binding the document suggests; an author confirms it before it decides anything. */
export interface ProposedBinding {
  /** Codes, one per entry; a range too large to expand is one entry `22532-22534`. */
  codes: string[];
  system: CodeSystem;
  /** The section the codes belong to (its id, `II` or `S2.I`), where the document says or suggests one. */
  section?: string;
  /** The titled sub-policy a crosswalk or group heading names. */
  subPolicy?: string;
  /** The criterion a code is printed in or a crosswalk names (`II.A`), below its section. */
  criterion?: string;
  /** What the document says of these codes' coverage (a list's heading, a statement's kind). */
  coverage: CodeCoverage;
  /** Why: which table, list or sentence, and how the section was chosen. */
  basis: string;
  /** 1-based line of the first code. */
  line: number;
  /** `stated`: the document names the section (or says nothing more to choose); `inferred`: chosen here. */
  confidence: "stated" | "inferred";
}

/** What the proposer reads of an ingested version. */
export interface BindingSource {
  sections: readonly Section[];
  codeTables: readonly CodeTable[];
  subPolicies?: readonly SubPolicy[];
  parts?: readonly DocumentPart[];
}

/** Ranges holding more codes than this are kept as one range string. */
export const MAX_EXPANDED = 50;

/** Lines longer than this are prose: never headings, rows or list lines. */
const MAX_HEADING = 200;

// ---------------------------------------------------------------------------------------------------------
// Code shapes, lists and ranges

function systemOfText(text: string): CodeSystem | undefined {
  const found = new Set<CodeSystem>();
  if (/ICD-?\s?10-?\s?PCS\b/i.test(text)) found.add("ICD-10-PCS");
  else if (/\bICD-?\s?10\b|\bdiagnos(?:is|es|tic codes?)\b/i.test(text)) found.add("ICD-10-CM");
  if (/\bICD-?\s?9\b/i.test(text)) found.add("ICD-9-CM");
  if (/\bHCPCS?\b/i.test(text)) found.add("HCPCS");
  if (/\bCPT\b/i.test(text)) found.add("CPT");
  if (/\bCDT\b/i.test(text)) found.add("CDT");
  // "Revenue Code", "Revenue" as a Type cell, "REV" (QA pass 7: "Revenue" in capitals named no system).
  if (/\brevenue\b/i.test(text) || /\bREV\b/.test(text)) found.add("Revenue");
  return found.size === 1 ? [...found][0] : undefined;
}

/** The system of one code token, from its shape and the system its heading names. */
export function classifyCode(token: string, context?: CodeSystem): CodeSystem | undefined {
  const t = token.toUpperCase();
  if (context === "ICD-10-PCS" && /^[0-9A-HJ-NP-Z]{7}$/.test(t) && /\d/.test(t)) return "ICD-10-PCS";
  if (context === "Revenue" && /^\d{3,4}$/.test(t)) return "Revenue";
  if (context === "ICD-9-CM" && /^(?:\d{3}|V\d{2}|E\d{3})(?:\.\d{1,2})?$/.test(t)) return "ICD-9-CM";
  if (/^\d{5}$/.test(t) || /^\d{4}[FTU]$/.test(t)) return "CPT";
  if (/^[A-Z]\d[0-9A-Z]\.[0-9A-Z]{1,4}\+?$/.test(t)) return "ICD-10-CM";
  if (context === "ICD-10-CM" && /^[A-Z]\d[0-9A-Z]{1,5}\+?$/.test(t)) return "ICD-10-CM";
  if (/^[A-Z]\d{4}$/.test(t)) return context === "CDT" && t[0] === "D" ? "CDT" : "HCPCS";
  return undefined;
}

interface ListItem {
  code: string;
  /** Present for a range: its last code (`code` is its first). */
  to?: string;
  system: CodeSystem;
}

const TOKEN = /\+?([A-Za-z0-9][A-Za-z0-9.]{1,7}\+?)[*†‡\uE000]*/y;
const RANGE_SEP = /\s*(?:[-–—‑]|\bthrough\b|\bthru\b|\bto\b)\s*/iy;
const LIST_SEP = /\s*(?:,|;|\/|&|\band\/or\b|\band\b|\bor\b)\s*|\s+/iy;

function tokenAt(
  s: string,
  pos: number,
  context?: CodeSystem,
): { code: string; end: number; system: CodeSystem } | undefined {
  TOKEN.lastIndex = pos;
  const m = TOKEN.exec(s);
  if (!m) return undefined;
  let code = m[1] as string;
  let end = pos + m[0].length;
  // A sentence's full stop is not part of the code.
  while (code.endsWith(".")) {
    code = code.slice(0, -1);
    end = pos + m[0].indexOf(code) + code.length;
  }
  if (/[A-Za-z0-9]/.test(s[end] ?? "")) return undefined;
  const system = classifyCode(code, context);
  return system ? { code: code.toUpperCase(), end, system } : undefined;
}

/**
 * Reads codes from `pos`: a code, a range or a list joined by commas, "and", "or", slashes. Returns the
 * items and where the codes end (the rest is a description).
 */
export function readCodeList(s: string, pos = 0, context?: CodeSystem): { items: ListItem[]; end: number } {
  const items: ListItem[] = [];
  let p = pos;
  while (/\s/.test(s[p] ?? "")) p++;
  let end = pos;
  for (;;) {
    const a = tokenAt(s, p, context);
    if (!a) break;
    let item: ListItem = { code: a.code, system: a.system };
    end = a.end;
    RANGE_SEP.lastIndex = a.end;
    if (RANGE_SEP.exec(s)) {
      const b = tokenAt(s, RANGE_SEP.lastIndex, context ?? a.system);
      if (b && b.system === a.system) {
        item = { code: a.code, to: b.code, system: a.system };
        end = b.end;
      }
    }
    items.push(item);
    LIST_SEP.lastIndex = end;
    if (!LIST_SEP.exec(s)) break;
    p = LIST_SEP.lastIndex;
  }
  return { items, end };
}

/** A range's codes when it holds at most {@link MAX_EXPANDED} (CPT, HCPCS, CDT, revenue), else undefined. */
export function expandRange(from: string, to: string, system: CodeSystem): string[] | undefined {
  if (system === "ICD-10-CM" || system === "ICD-10-PCS" || system === "ICD-9-CM") return undefined;
  const split = (c: string) => {
    const m = /^([A-Z]?)(\d+)([A-Z]?)$/.exec(c);
    return m ? { pre: m[1] as string, n: m[2] as string, post: m[3] as string } : undefined;
  };
  const a = split(from);
  const b = split(to);
  if (!a || !b || a.pre !== b.pre || a.post !== b.post || a.n.length !== b.n.length) return undefined;
  const lo = Number(a.n);
  const hi = Number(b.n);
  if (hi < lo || hi - lo + 1 > MAX_EXPANDED) return undefined;
  const out: string[] = [];
  for (let n = lo; n <= hi; n++) out.push(`${a.pre}${String(n).padStart(a.n.length, "0")}${a.post}`);
  return out;
}

function itemCodes(item: ListItem): string[] {
  if (item.to === undefined || item.to === item.code) return [item.code];
  return expandRange(item.code, item.to, item.system) ?? [`${item.code}-${item.to}`];
}

// ---------------------------------------------------------------------------------------------------------
// Coverage language

/** A billing and coding article's group marker ("Group 2 Paragraph", "Group 2 Codes", "Group 3"). */
const GROUP_MARK = /^group\s+(\d{1,3})\b/i;

const NOT_COVERED =
  /\bnot\s+(?:be\s+)?covered\b|\bnon-?\s?covered\b|\bnot\s+medically\s+necessary\b|\bdo(?:es)?\s+not\s+support|\bnot\s+support(?:ing|ed)?\b|\bexperimental\b|\binvestigational\b|\bunproven\b|\bnot\s+(?:been\s+)?(?:proven|established)\b|\bnot\s+reasonable\s+and\s+necessary\b|\bnot\s+(?:considered|deemed)\s+(?:to\s+be\s+)?(?:medically\s+)?(?:reasonable\s+and\s+)?necessary\b|\bwill\s+not\s+(?:cover|pay)\b|\bexcluded\b|\bexclusions?\b|\bdenied\b/i;
const COVERED =
  /\bcovered\b|\bsupports?\b|\bsupporting\b|\bmedically\s+necessary\b|\breasonable\s+and\s+necessary\b|\bproven\b|\bestablished\b|\bcovers?\b/i;
/** "Other CPT codes related to the CPB", "codes that may be used": said to relate, not to be covered. */
const RELATED =
  /\bother\b[^.]*\brelated\b|\brelated to\b|\bmay be (?:reported|used|billed)\b|\binformational\b/i;

function coverageOfText(text: string): CodeCoverage {
  if (RELATED.test(text)) return "unspecified";
  if (NOT_COVERED.test(text)) return "does-not-support";
  if (COVERED.test(text)) return "supports";
  return "unspecified";
}

function coverageOfKind(kind: SectionKind): CodeCoverage {
  return kind === "medically-necessary"
    ? "supports"
    : kind === "not-proven"
      ? "does-not-support"
      : "unspecified";
}

// ---------------------------------------------------------------------------------------------------------
// Words: abbreviations, distinctive words of statements

const STOP = new Set(
  (
    "the and for with without when all any following medically necessary policy policies health plans plan " +
    "affiliated corporation centene criteria criterion met meeting are is be been has have that which this those " +
    "these other than including includes include included etc member members enrollee enrollees patient " +
    "patients from into its their such not considered consider considers may will must one more each per " +
    "used use using also only both either neither indications indication listed above below code codes " +
    "covered coverage cover supports support proven unproven investigational experimental reasonable " +
    "procedure procedures service services"
  ).split(" "),
);

/**
 * Whether two words with one stem are one word in two forms ("implant"/"implantation",
 * "stimulator"/"stimulation", "arthroplasty"/"arthroplasties"), not two words that begin alike
 * ("interspace"/"interspinous" share "inters": a QA pass saw lumbar fusion codes proposed for an
 * interspinous-device section): one begins the other, or they differ only in their last two letters.
 */
function sameWord(a: string, b: string): boolean {
  if (a === b || a.startsWith(b) || b.startsWith(a)) return true;
  let k = 0;
  while (k < a.length && k < b.length && a.charCodeAt(k) === b.charCodeAt(k)) k++;
  return k >= Math.min(a.length, b.length) - 2;
}

function stem(word: string): string {
  let w = word;
  if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss")) w = w.slice(0, -1);
  return w.slice(0, 6);
}

/** "sacroiliac joint (SIJ)" → SIJ = "sacroiliac joint", for matching statements that use the short form. */
function abbreviations(lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const re = /((?:[A-Za-z][A-Za-z'-]*\s+){1,6})\(([A-Z][A-Za-z]{1,5})s?\)/g;
  for (const raw of lines) {
    if (raw.length > 20000 || !raw.includes("(")) continue;
    for (const m of raw.matchAll(re)) {
      const abbr = m[2] as string;
      if (out.has(abbr) || !/^[A-Z]{2,6}$/.test(abbr)) continue;
      const words = (m[1] as string).trim().split(/\s+/);
      for (let k = 1; k <= words.length; k++) {
        const span = words.slice(words.length - k);
        if ((span[0] as string)[0]?.toUpperCase() !== abbr[0]) continue;
        if (!subsequence(abbr.toLowerCase(), span.join("").toLowerCase())) continue;
        out.set(abbr, span.join(" "));
        break;
      }
      if (out.size >= 500) return out;
    }
  }
  return out;
}

function subsequence(needle: string, hay: string): boolean {
  let i = 0;
  for (const ch of hay) if (ch === needle[i]) i++;
  return i === needle.length;
}

class Words {
  private readonly abbr: Map<string, string>;
  private readonly abbrRe: RegExp | undefined;
  constructor(lines: readonly string[]) {
    this.abbr = abbreviations(lines);
    this.abbrRe = this.abbr.size ? new RegExp(`\\b(${[...this.abbr.keys()].join("|")})\\b`, "g") : undefined;
  }
  expand(text: string): string {
    return this.abbrRe ? text.replace(this.abbrRe, (a) => `${this.abbr.get(a) ?? a} ${a}`) : text;
  }
  /** Stemmed content words, each with the first word it was seen as. */
  of(text: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const w of this.expand(text)
      .toLowerCase()
      .split(/[^a-z]+/)) {
      if (w.length < 3 || STOP.has(w)) continue;
      const s = stem(w);
      if (!out.has(s)) out.set(s, w);
    }
    return out;
  }
  /** Lower-case words, space separated, for phrase containment. */
  phrase(text: string): string {
    return ` ${collapse(
      this.expand(text)
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, " "),
    )} `;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Sections

interface SectionInfo {
  section: Section;
  /** The id without its sub-policy prefix (`II` for `S2.II`). */
  bare: string;
  /** Statement words (stem → word), heading and sub-policy title included. */
  words: Map<string, string>;
  phrase: string;
  nodeIds: Set<string>;
}

interface NodeText {
  line: number;
  text: string;
  section: SectionInfo;
  criterion?: string;
  /** Under a `none` group: an exclusion. */
  excluded: boolean;
}

function walk(
  node: CriterionNode,
  excluded: boolean,
  visit: (n: CriterionNode, excluded: boolean) => void,
): void {
  visit(node, excluded);
  if (node.kind === "leaf" || node.kind === "ref") return;
  const under = excluded || node.kind === "none";
  for (const c of node.children) walk(c, under, visit);
}

interface Target {
  section?: SectionInfo;
  subPolicy?: string;
  criterion?: string;
  how: string;
}

class Sections {
  readonly infos: SectionInfo[];
  readonly nodes: NodeText[] = [];
  /** Lines printing a statement or criterion (their codes are read from the model's text). */
  readonly nodeLines = new Set<number>();
  private readonly subs: readonly SubPolicy[];
  private readonly subPhrases: { sub: SubPolicy; phrase: string }[];
  private readonly byBare = new Map<string, SectionInfo[]>();
  private readonly byHeading = new Map<string, SectionInfo[]>();
  /** Sections by each pair of adjacent words of their statement: where a phrase may be found. */
  private readonly bigrams = new Map<string, SectionInfo[]>();
  private readonly distinct = new Map<string, Map<SectionInfo, Set<string>>>();

  constructor(
    source: BindingSource,
    private readonly words: Words,
  ) {
    this.subs = source.subPolicies ?? [];
    this.subPhrases = this.subs.map((sub) => ({ sub, phrase: words.phrase(sub.title) }));
    const titles = new Map(this.subs.map((s) => [s.id, s.title]));
    this.infos = source.sections.map((section) => {
      const subTitle = section.subPolicy ? titles.get(section.subPolicy) : undefined;
      // A statement is read for the words that name its section; its first 2,000 characters are enough
      // (a policy's statement is a sentence or two), and they bound the index on hostile input.
      const statement = [section.heading ?? "", section.text.slice(0, 2000)].join(" ");
      const info: SectionInfo = {
        section,
        bare: section.id.replace(/^S\d+\./, ""),
        words: words.of(`${statement} ${subTitle ?? ""}`),
        phrase: words.phrase(statement),
        nodeIds: new Set([section.id]),
      };
      return info;
    });
    const add = (m: Map<string, SectionInfo[]>, k: string, info: SectionInfo) => {
      const list = m.get(k);
      if (!list) m.set(k, [info]);
      else if (list[list.length - 1] !== info) list.push(info);
    };
    for (const info of this.infos) {
      add(this.byBare, info.bare, info);
      if (info.section.heading) add(this.byHeading, words.phrase(info.section.heading), info);
      const ws = info.phrase.trim().split(" ");
      for (let k = 0; k + 1 < ws.length; k++) add(this.bigrams, `${ws[k]} ${ws[k + 1]}`, info);
    }
    for (const info of this.infos) {
      const s = info.section;
      this.nodes.push({ line: s.line, text: s.text, section: info, excluded: false });
      this.nodeLines.add(s.line);
      if (!s.tree) continue;
      walk(s.tree, false, (n, excluded) => {
        info.nodeIds.add(n.id);
        this.nodeLines.add(n.line);
        if (n.id === s.id) return;
        this.nodes.push({ line: n.line, text: n.text, section: info, criterion: n.id, excluded });
        if (n.kind !== "ref" && n.note) this.nodeLines.add(n.note.line);
      });
    }
  }

  /**
   * A crosswalk cell or group heading → the section, sub-policy or criterion it names: "Section II",
   * "II.A", "Cervical disc arthroplasty" (a sub-policy's title or a phrase of one statement), or both
   * ("Lumbar Spinal Fusion, Section I").
   */
  resolve(text: string, line: number, scope?: string): Target | undefined {
    const parts = text.split(/\s*[,;:–—]\s*|\s+-\s+|\s*\/\s*/).filter((p) => p.trim() !== "");
    if (parts.length === 2) {
      for (const [a, b] of [
        [parts[0], parts[1]],
        [parts[1], parts[0]],
      ] as [string, string][]) {
        const sub = this.resolveOne(a, line, scope);
        if (!sub?.subPolicy) continue;
        const inner = this.resolveOne(b, line, sub.subPolicy);
        if (inner?.section?.section.subPolicy === sub.subPolicy)
          return { ...inner, subPolicy: sub.subPolicy, how: `names "${finishText(text)}"` };
      }
    }
    return this.resolveOne(text, line, scope);
  }

  private resolveOne(text: string, line: number, scope?: string): Target | undefined {
    const t = finishText(text)
      .replace(/[:.]\s*$/, "")
      .trim();
    if (t === "" || t.length > 120) return undefined;
    const ref =
      /^(?:see\s+)?(?:(?:policy|coverage|clinical)\s+)?(?:section|criteria|criterion|part|policy)\s+([IVXLC]+|[A-Z]|\d{1,2})((?:\.[A-Za-z0-9]{1,4})*)$/i.exec(
        t,
      ) ?? /^([IVXLC]+)((?:\.[A-Za-z0-9]{1,4})*)$/.exec(t);
    if (ref) {
      const id = (ref[1] as string).toUpperCase();
      let hits = this.byBare.get(id) ?? [];
      if (hits.length > 1 && scope) hits = hits.filter((i) => i.section.subPolicy === scope);
      if (hits.length > 1) hits = hits.filter((i) => i.section.subPolicy === this.subAt(line));
      const hit = hits.length === 1 ? hits[0] : undefined;
      if (!hit) return { how: `names "${t}", which is not one section of this document` };
      const target: Target = { section: hit, how: `names "${t}"` };
      const crit = `${hit.section.id}${ref[2] ?? ""}`;
      if (ref[2] && hit.nodeIds.has(crit)) target.criterion = crit;
      if (hit.section.subPolicy) target.subPolicy = hit.section.subPolicy;
      return target;
    }
    const p = this.words.phrase(t);
    const ws = p.trim().split(" ");
    if (ws.length < 2) return undefined;
    const exact = this.subPhrases.filter((x) => x.phrase === p);
    const sub = exact.length
      ? exact
      : this.subPhrases.length > 64
        ? []
        : this.subPhrases.filter(
            ({ phrase: title }) =>
              (title.includes(p) && p.length >= 12) || (p.includes(title) && title.length >= 12),
          );
    if (sub.length === 1) {
      const s = (sub[0] as { sub: SubPolicy }).sub;
      const covered = this.infos.filter(
        (i) => i.section.subPolicy === s.id && i.section.kind === "medically-necessary",
      );
      const target: Target = { subPolicy: s.id, how: `names sub-policy "${s.title}"` };
      if (covered.length === 1) {
        target.section = covered[0] as SectionInfo;
        target.how += `, whose one covered section is ${(covered[0] as SectionInfo).section.id}`;
      }
      return target;
    }
    const byHeading = this.byHeading.get(p) ?? [];
    const hits = byHeading.length
      ? byHeading
      : (this.bigrams.get(`${ws[0]} ${ws[1]}`) ?? []).filter((i) => i.phrase.includes(p));
    if (hits.length !== 1) return undefined;
    const hit = hits[0] as SectionInfo;
    const target: Target = { section: hit, how: `names "${t}", as section ${hit.section.id} does` };
    if (hit.section.subPolicy) target.subPolicy = hit.section.subPolicy;
    return target;
  }

  private subAt(line: number): string | undefined {
    let at: string | undefined;
    for (const s of this.subs) if (s.line <= line) at = s.id;
    return at;
  }

  /**
   * A list's codes → section: the one candidate, else the one whose statement alone shares words with the
   * code's description. Candidates: covered sections for a covered list, not-covered ones for the other.
   */
  choose(
    coverage: CodeCoverage,
    description: string,
    scope?: string,
  ): { section?: SectionInfo; how: string; words?: string[] } {
    const kinds: SectionKind[] =
      coverage === "supports"
        ? ["medically-necessary"]
        : coverage === "does-not-support"
          ? ["not-proven"]
          : ["medically-necessary", "not-proven", "uncertain"];
    const cands = this.infos.filter(
      (i) => kinds.includes(i.section.kind) && (!scope || i.section.subPolicy === scope),
    );
    const what =
      coverage === "supports" ? "covered" : coverage === "does-not-support" ? "not-covered" : "decided";
    if (cands.length === 0) return { how: `no ${what} section` };
    if (cands.length === 1) {
      const only = cands[0] as SectionInfo;
      return { section: only, how: `the one ${what} section` };
    }
    const list = cands.map((c) => c.section.id).join(", ");
    const distinct = this.distinctive(cands);
    const desc = this.words.of(description);
    const scored = cands
      .map((c) => ({
        c,
        shared: [...(distinct.get(c) ?? [])].filter((w) => {
          const d = desc.get(w);
          return d !== undefined && sameWord(d, c.words.get(w) ?? w);
        }),
      }))
      .sort((a, b) => b.shared.length - a.shared.length);
    const best = scored[0];
    const second = scored[1]?.shared.length ?? 0;
    // Where the list says nothing of coverage, one shared word does not decide between a covered and a
    // not-covered section (QA pass 5: "procedure", "nerves" sent covered codes to the unproven section).
    const enough = coverage === "unspecified" && best?.c.section.kind !== "medically-necessary" ? 2 : 1;
    if (best && best.shared.length >= enough && (second === 0 || best.shared.length >= 2 * second)) {
      return {
        section: best.c,
        how: `of ${cands.length} ${what} sections (${list}), the description shares words with section ${best.c.section.id}'s statement only`,
        words: best.shared.map((w) => best.c.words.get(w) ?? w),
      };
    }
    return { how: `${cands.length} ${what} sections (${list}): the author chooses` };
  }

  /** Each candidate's statement words that no other candidate's statement has. */
  private distinctive(cands: SectionInfo[]): Map<SectionInfo, Set<string>> {
    const key = cands.map((c) => c.section.id).join("\u0000");
    let d = this.distinct.get(key);
    if (d) return d;
    const count = new Map<string, number>();
    for (const c of cands) for (const w of c.words.keys()) count.set(w, (count.get(w) ?? 0) + 1);
    d = new Map(cands.map((c) => [c, new Set([...c.words.keys()].filter((w) => count.get(w) === 1))]));
    this.distinct.set(key, d);
    return d;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Codes inside sentences

const SYSTEM_WORDS =
  /\b(?:CPT|HCPCS?|ICD-?\s?10(?:-?CM|-?PCS)?|ICD-?\s?9(?:-?CM)?|CDT)\b[®*™\uE000]*(?:\s+(?:procedure\s+|diagnosis\s+)?codes?\b|\s+code\(s\))?|\bcodes?\b|\bcode\(s\)/gi;
const PAREN = /\(([^()]{1,300})\)/g;
const INLINE =
  /\b(CPT|HCPCS?|ICD-?\s?10(?:-?CM|-?PCS)?)\b[®*™\uE000]*\s*(?:procedure\s+|diagnosis\s+)?(?:codes?|code\(s\))?\s*(?:of\s+)?/gi;

interface Mention {
  items: ListItem[];
  index: number;
}

/** Codes in parentheses ("(CPT 27279)", "(CPT codes 22551, 22552)", "(0275T-0276T)") or after a system word. */
export function codesInSentence(text: string): Mention[] {
  const out: Mention[] = [];
  const spans: [number, number][] = [];
  if (!text.includes("(") && !/CPT|HCPC|ICD/i.test(text)) return out;
  for (const m of text.matchAll(PAREN)) {
    const inner = m[1] as string;
    const system = systemOfText(inner);
    const body = inner
      .replace(/^\s*(?:e\.g\.|i\.e\.|eg|ie|see|such as)[,:]?\s*/i, "")
      .replace(SYSTEM_WORDS, " ")
      .replace(/^[\s:,;]+/, "");
    const { items, end } = readCodeList(body, 0, system);
    if (items.length === 0 || !/^[\s.,;:]*$/.test(body.slice(end))) continue;
    out.push({ items, index: m.index ?? 0 });
    spans.push([m.index ?? 0, (m.index ?? 0) + m[0].length]);
  }
  let k = 0;
  for (const m of text.matchAll(INLINE)) {
    const at = m.index ?? 0;
    // Both in text order: one pass over the parentheses taken.
    while (k < spans.length && (spans[k] as [number, number])[1] <= at) k++;
    const span = spans[k];
    if (span && at >= span[0] && at < span[1]) continue;
    const { items } = readCodeList(text, at + m[0].length, systemOfText(m[1] as string));
    if (items.length) out.push({ items, index: at });
  }
  return out.sort((a, b) => a.index - b.index);
}

// ---------------------------------------------------------------------------------------------------------
// The document walk

/** Codes read from each statement or criterion, by its first line: found again by a later line of its text. */
class NodeCodes {
  private readonly byLine = new Map<number, Set<string>>();
  private sorted: number[] | undefined;
  add(line: number, code?: string): void {
    let set = this.byLine.get(line);
    if (!set) {
      set = new Set();
      this.byLine.set(line, set);
      this.sorted = undefined;
    }
    if (code !== undefined) set.add(code);
  }
  /** The codes of the nearest statement or criterion starting at or before `line`. */
  at(line: number): Set<string> | undefined {
    if (this.byLine.size === 0) return undefined;
    this.sorted ??= [...this.byLine.keys()].sort((a, b) => a - b);
    let lo = 0;
    let hi = this.sorted.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((this.sorted[mid] as number) <= line) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 ? this.byLine.get(this.sorted[found] as number) : undefined;
  }
}

interface Occurrence {
  code: string;
  system: CodeSystem;
  line: number;
  coverage: CodeCoverage;
  /** Which table, list or sentence. */
  source: string;
  section?: SectionInfo;
  subPolicy?: string;
  criterion?: string;
  /** How the section was chosen (or why none was). */
  how?: string;
  confidence: "stated" | "inferred";
  /** Needs a section chosen from the list's coverage and the description. */
  choose?: { description: string; scope?: string };
  /** Statement words the description shares (a section chosen by words). */
  words?: string[];
}

interface Context {
  system?: CodeSystem;
  coverage: CodeCoverage;
  source: string;
  emitted: number;
  /** A coverage line alone lapses unless a table or list starts within this many more lines. */
  expires?: number;
}

interface Layout {
  /** Tab, pipe or one-cell-per-line rows: a row of another kind starts another table. */
  kind: RowKind;
  codeCol: number;
  sectionCol?: number;
  descCols: number[];
  /** A column stating each row's coverage ("Covered (Y/N)", "Coverage"). */
  verdictCol?: number;
  /** A column naming each row's code system ("Type | Code | Description", BCBSA). */
  typeCol?: number;
}

type RowKind = "tab" | "pipe" | "word";

interface Group {
  target: Target;
  text: string;
}

const SINGLE_CELL = /^\t[^\t]*$/;
const PIPE_ROW = /^\s*\|.*\|\s*$/;
// `(?:\|\s*)?`, not `\|?\s*` after `\s*`: a run of spaces is then read one way only (else quadratic).
const PIPE_RULE = /^\s*(?:\|\s*)?:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*(?:\|\s*)?$/;

/** Headings that end a code list: the document has moved on. */
const ENDS_LIST =
  /^(?:\d+(?:\.\d+)*\.?\s+)?(?:references?|bibliography|background|rationale|(?:policy\s+)?history|revision\s+(?:log|history)|reviews?,?\s+revisions?,?\s+(?:and|&)\s+approvals?|appendix\b.*|definitions?|glossary|description|summary(?: of evidence)?|important reminder|disclaimer|documentation requirements|policy|policy statement|policy\/criteria|coverage policy|coverage rationale|clinical indications|medical necessity|related (?:policies|documents)|instructions for use|overview|sources? of information|analysis of evidence.*|general information|resources)$/i;

/** Characters the inline cleaning acts on; a cell without any is only trimmed (most lines: fast). */
const MARKUP = /[\\*_<>&$[\]^()\u00a0\u2007\u202f\u200b\ufeff®™©]/;

/** Headings of parts whose prose speaks of codes without binding them (evidence, history, citations). */
const QUIET =
  /^(?:\d+(?:\.\d+)*\.?\s+)?(?:references?|bibliography|background|rationale|(?:policy\s+)?history|revision\s+(?:log|history)|reviews?,?\s+revisions?|appendix\b|summary of evidence|analysis of evidence|sources? of information|important reminder|disclaimer)/i;

function clean(cell: string): string {
  return MARKUP.test(cell) ? finishText(cleanInline(cell)) : cell.replace(/\s+/g, " ").trim();
}

/** A very long line is prose: tags and emphasis dropped in one linear pass (the full cleaning is not). */
function roughClean(raw: string): string {
  return raw.replace(/<\/?[a-z][^<>]{0,200}>|\*\*|__|\\/gi, "").replace(/\s+/g, " ");
}

function isHeadingMarkup(raw: string): boolean {
  if (!/^\s*[#*<_]/.test(raw)) return false;
  const t = raw.trim();
  return (
    /^#{1,6}\s/.test(t) || /^\*\*[^*].*\*\*:?$/.test(t) || /^<b>.*<\/b>:?$/i.test(t) || /^__.*__$/.test(t)
  );
}

function splitPipes(raw: string): string[] {
  const inner = raw.trim().replace(/^\|/, "").replace(/\|$/, "");
  return inner.split(/(?<!\\)\|/).map((c) => c.replace(/\\\|/g, "|"));
}

function isHeaderCell(c: string): boolean {
  return c.length <= 48 && /\bcodes?\b|\bcode\(s\)|^(?:CPT|HCPCS)[®*™\s]*$/i.test(c);
}

const SECTION_HEADER =
  /\b(?:section|criteria|criterion|sub-?policy|policy|indications?|applies to|applicable|procedure type|service)\b/i;

/**
 * Whether a (cleaned) line heads a list of codes — "CPT codes covered if selection criteria are met:",
 * "Other CPT codes related to the CPB:", "ICD-10-CM Codes that DO NOT Support Medical Necessity",
 * "Group 1 Codes:", "Codes that support coverage criteria", "Applicable Codes" — and what it says: the
 * system it names (if one) and the coverage. `heading`: the line is short or marked as a heading.
 * (Codes may follow the colon: "CPT codes not covered …: 0719T, 0720T".)
 */
export function codeListHeading(
  text: string,
  heading = text.length <= 90,
): { system?: CodeSystem; coverage: CodeCoverage } | undefined {
  const colon = text.indexOf(":");
  const head = colon >= 0 ? text.slice(0, colon + 1) : text;
  if (head.length > 160 || !(head.endsWith(":") || heading)) return undefined;
  if (!/\bcodes?\b|\bcode\(s\)/i.test(head)) return undefined;
  const system = systemOfText(head);
  const coverage = coverageOfText(head);
  return system ? { system, coverage } : { coverage };
}

/** Proposes code → section bindings for one ingested version; `lines` are the document's lines. */
export function proposeBindings(source: BindingSource, lines: readonly string[]): ProposedBinding[] {
  const words = new Words(lines);
  const secs = new Sections(source, words);
  const occ: Occurrence[] = [];

  // Codes printed in statements and criteria: the statement's section.
  const stated = new NodeCodes();
  for (const node of secs.nodes) {
    stated.add(node.line);
    for (const mention of codesInSentence(node.text)) {
      const sec = node.section.section;
      const coverage =
        node.excluded || (sec.kind === "medically-necessary" && NOT_COVERED.test(node.text))
          ? "does-not-support"
          : sec.kind === "other" || sec.kind === "uncertain"
            ? coverageOfText(node.text)
            : coverageOfKind(sec.kind);
      const where = node.criterion ? `criterion ${node.criterion}` : `the statement of section ${sec.id}`;
      for (const item of mention.items)
        for (const code of itemCodes(item)) {
          const o: Occurrence = {
            code,
            system: item.system,
            line: node.line,
            coverage,
            source: `printed in ${where} (line ${node.line})`,
            section: node.section,
            how: node.excluded ? "an exclusion of that section" : "",
            confidence: "stated",
          };
          if (node.criterion) o.criterion = node.criterion;
          if (sec.subPolicy) o.subPolicy = sec.subPolicy;
          occ.push(o);
          stated.add(node.line, code);
        }
    }
  }

  const skipProse = (line: number) =>
    (source.parts ?? []).some(
      (p) =>
        line >= p.from &&
        line <= p.to &&
        /^(?:background|references|log|history|disclaimer|toc|header)$/.test(p.name),
    );

  let ctx: Context | undefined;
  let layout: Layout | undefined;
  /** A range cut at a wrap ("0275T-"): its first code, waiting for the next row's. */
  let openRange: { item: ListItem; no: number } | undefined;
  let group: Group | undefined;
  /** The number of the billing article group being read ("Group 2 Paragraph" … "Group 2 Codes"). */
  let groupMark: string | undefined;
  /** Under a background, references or history heading: prose there reports, it does not bind. */
  let quiet = false;
  const end = () => {
    ctx = undefined;
    layout = undefined;
    group = undefined;
  };
  const emit = (
    items: ListItem[],
    line: number,
    description: string,
    cellTarget: Target | undefined,
    c: Context,
  ) => {
    const target = cellTarget ?? group?.target;
    for (const item of items) {
      for (const code of itemCodes(item)) {
        const o: Occurrence = {
          code,
          system: item.system,
          line,
          coverage: c.coverage,
          source: c.source,
          confidence: "stated",
        };
        if (target) {
          if (target.section) o.section = target.section;
          if (target.subPolicy) o.subPolicy = target.subPolicy;
          if (target.criterion) o.criterion = target.criterion;
          o.how = cellTarget ? `its row ${target.how}` : `its group heading ${target.how}`;
          if (target.section && c.coverage === "unspecified") {
            o.coverage = coverageOfKind(target.section.section.kind);
            if (o.coverage !== "unspecified") o.how += " (coverage from that section's kind)";
          }
          if (!target.section && target.subPolicy) o.choose = { description, scope: target.subPolicy };
        } else o.choose = { description };
        occ.push(o);
      }
    }
    c.emitted += items.length;
  };
  /** A heading or coverage line: a new list (a heading that says nothing of coverage keeps a pending one). */
  const open = (text: string, line: number, system: CodeSystem | undefined, header: boolean) => {
    const coverage = coverageOfText(text);
    const label = text.replace(/:\s*$/, "");
    if (
      ctx &&
      coverage === "unspecified" &&
      (ctx.emitted === 0 || (header && (ctx.coverage !== "unspecified" || ctx.system === system)))
    ) {
      // "Considered Medically Necessary when …:" then "CPT®* Codes | Description" (and perhaps a HCPCS
      // table after it); a header repeated after a page break continues its table.
      if (system) ctx.system = system;
      if (ctx.emitted === 0 && !header) ctx.source = `${ctx.source}, "${label}" (line ${line})`;
      delete ctx.expires;
      return;
    }
    ctx = {
      coverage,
      source: header ? `table at line ${line}` : `list under "${label}" (line ${line})`,
      emitted: 0,
    };
    if (system) ctx.system = system;
  };

  let i = 0;
  while (i < lines.length) {
    const raw = lines[i] as string;
    const no = i + 1;
    if (!raw.includes("\t") && raw.trim() === "") {
      i++;
      continue;
    }
    if (ctx?.expires !== undefined && ctx.emitted === 0 && --ctx.expires < 0) ctx = undefined;
    let span = 1;
    let cells: string[] | undefined;
    let kind: RowKind = "tab";
    /** A line with bare pipes ("27279 | Section II") is a row only if it reads as one. */
    let loose = false;
    if (raw.length <= 20000) {
      if (PIPE_ROW.test(raw)) {
        if (PIPE_RULE.test(raw)) {
          i++;
          continue;
        }
        cells = splitPipes(raw).map(clean);
        kind = "pipe";
      } else if (raw.includes("\t")) {
        let j = i;
        while (j < lines.length && SINGLE_CELL.test(lines[j] as string)) j++;
        if (j - i >= 2) {
          cells = lines.slice(i, j).map((l) => clean(l.slice(1)));
          span = j - i;
          kind = "word";
        } else cells = raw.split("\t").map(clean);
      } else if (/\S\s*(?<!\\)\|\s*\S/.test(raw)) {
        cells = splitPipes(raw).map(clean);
        kind = "pipe";
        loose = true;
      }
    }
    i += span;
    // A line the ingester read as a statement or criterion ends a code list, unless it is a code list's
    // heading or row itself (a code table the criteria region swallowed).
    const isNode = secs.nodeLines.has(no);
    if (cells) {
      while (cells.length && cells[cells.length - 1] === "") cells.pop();
      const filled = cells.filter((c) => c !== "");
      if (filled.length === 0) continue;
      if (filled.length > 1 || cells[0] === "") {
        if (layout && layout.kind !== kind) layout = undefined;
        const handled = row(cells, no, kind, loose);
        if (handled) continue;
        if (isNode) {
          end();
          continue;
        }
        if (!loose) {
          if (cells[0] !== "") end(); // else a description continued after a page break
          continue;
        }
      }
    }
    const text =
      cells && !loose
        ? (cells.find((c) => c !== "") as string)
        : raw.length > 20000
          ? roughClean(raw)
          : clean(raw).replace(/^(?:#{1,6}\s+|[-•◦▪●]\s+)/, "");
    if (text === "") continue;
    plain(text, raw, no, isNode);
  }

  /** A table row. Returns false for a row that is no part of a code table. */
  function row(cells: string[], no: number, kind: RowKind, loose: boolean): boolean {
    const codeCol = layout?.codeCol ?? cells.findIndex((c) => c !== "");
    const codeCell = cells[codeCol] ?? "";
    const typeCell = layout?.typeCol !== undefined ? (cells[layout.typeCol] ?? "") : "";
    const listed = readCodeList(codeCell, 0, (typeCell && systemOfText(typeCell)) || ctx?.system);
    const rest = codeCell.slice(listed.end).trim();
    const cutRange = openRange;
    openRange = undefined;
    const only = listed.items.length === 1 ? listed.items[0] : undefined;
    if (only && only.to === undefined && /^[-–—]$/.test(rest)) {
      // "0275T-" with its last code on the next row (a wrapped cell): the range is read there.
      ctx ??= { coverage: "unspecified", source: `table at line ${no}`, emitted: 0 };
      openRange = { item: only, no };
      return true;
    }
    if (cutRange) {
      const head = listed.items[0];
      if (
        head &&
        head.to === undefined &&
        head.system === cutRange.item.system &&
        cutRange.item.code < head.code
      )
        listed.items[0] = { code: cutRange.item.code, to: head.code, system: head.system };
      else listed.items.unshift(cutRange.item);
    }
    if (listed.items.length > 0 && /^[*†‡+\s]*$/.test(rest)) {
      ctx ??= { coverage: "unspecified", source: `table at line ${no}`, emitted: 0 };
      const c = ctx;
      const others = cells
        .map((cell, k) => ({ cell, k }))
        .filter(({ cell, k }) => k !== codeCol && k !== layout?.typeCol && cell !== "");
      let target: Target | undefined;
      if (layout?.sectionCol !== undefined) {
        const cell = cells[layout.sectionCol] ?? "";
        target = cell ? (secs.resolve(cell, no, group?.target.subPolicy) ?? unresolved(cell)) : undefined;
      } else {
        for (const { cell, k } of others) {
          if (layout?.descCols.includes(k) && !/^(?:see\s+)?(?:section|criteria|criterion)\b/i.test(cell))
            continue;
          if (cell.split(/\s+/).length > 8) continue;
          target = secs.resolve(cell, no, group?.target.subPolicy);
          if (target) break;
        }
      }
      const description = others
        .filter(({ k }) => k !== layout?.sectionCol && k !== layout?.verdictCol)
        .map(({ cell }) => cell)
        .join(" ");
      if (layout?.verdictCol !== undefined) {
        // Each row states its coverage: a row marked "N" / "Not covered" never goes to a covered section.
        const cell = cells[layout.verdictCol] ?? "";
        const said: CodeCoverage = VERDICT_NO.test(cell)
          ? "does-not-support"
          : VERDICT_YES.test(cell)
            ? "supports"
            : "unspecified";
        const where = `its "${cell}" in the coverage column`;
        emit(listed.items, cutRange?.no ?? no, description, target, {
          ...c,
          coverage: said,
          source: said === "unspecified" ? `${c.source}; ${where} is not read` : `${c.source}; ${where}`,
        });
        c.emitted += listed.items.length;
        return true;
      }
      emit(listed.items, cutRange?.no ?? no, description, target, c);
      return true;
    }
    if (!loose && cells.some((c) => isHeaderCell(c)) && cells.every((c) => c.length <= 60)) {
      // "Code Type | Code | Description": the code column is the one named "Code", its system the Type's.
      const exact = cells.findIndex((c) => /^codes?(?:\s?\(s\))?$/i.test(c));
      const codeIdx = exact >= 0 ? exact : cells.findIndex((c) => isHeaderCell(c));
      const typeCol = cells.findIndex(
        (c, k) => k !== codeIdx && /^(?:code\s)?(?:type|system)s?$|^coding system$/i.test(c),
      );
      const sectionCol = cells.findIndex(
        (c, k) => k !== codeIdx && SECTION_HEADER.test(c) && !/descri/i.test(c),
      );
      const descCols = cells.flatMap((c, k) => (/descri|definition|narrative/i.test(c) ? [k] : []));
      const verdictCol = cells.findIndex(
        (c, k) => k !== codeIdx && k !== sectionCol && VERDICT_COLUMN.test(c),
      );
      layout =
        sectionCol >= 0
          ? { kind, codeCol: codeIdx, sectionCol, descCols }
          : { kind, codeCol: codeIdx, descCols };
      if (verdictCol >= 0) layout.verdictCol = verdictCol;
      if (typeCol >= 0) layout.typeCol = typeCol;
      const headerText = cells[codeIdx] as string;
      // A column that states each row's coverage says nothing of the table's ("Covered (Y/N)" is no
      // caption saying the codes are covered: QA pass 7 found "N" rows proposed as supporting coverage).
      const coverageText = cells.filter((c, k) => c !== "" && k !== verdictCol).join(" ");
      if (coverageOfText(coverageText) !== "unspecified") {
        ctx = undefined;
        open(coverageText, no, systemOfText(headerText), false);
        if (ctx) (ctx as Context).source = `table under "${coverageText}" (line ${no})`;
      } else open(headerText, no, systemOfText(headerText), true);
      if (ctx && layout.sectionCol !== undefined)
        (ctx as Context).source = `crosswalk table at line ${no} ("${cells[layout.sectionCol]}" column)`;
      return true;
    }
    return false;
  }

  function unresolved(cell: string): Target {
    return { how: `names "${cell}", which matches no section of this document` };
  }

  /** A line that is not a table row: a heading, a list line, a group heading, or prose. */
  function plain(text: string, raw: string, no: number, isNode: boolean): void {
    if (text.length <= MAX_HEADING) {
      const norm = text.replace(/[:.]\s*$/, "").trim();
      // A billing article's "Group 2 Paragraph:" / "Group 2 Codes:" starts another group: the group
      // heading before it names none of its codes (QA pass 5: a not-covered code was bound, "stated",
      // to the covered section Group 1's paragraph named).
      const mark = GROUP_MARK.exec(norm);
      if (mark && mark[1] !== groupMark) {
        group = undefined;
        groupMark = mark[1];
      }
      if (ENDS_LIST.test(norm)) {
        end();
        quiet = QUIET.test(norm);
        return;
      }
      const listed = readCodeList(text.replace(/^[+*]\s*/, ""), 0, ctx?.system);
      const startsWithCode = listed.items.length > 0;
      const colon = text.indexOf(":");
      const head = colon >= 0 ? text.slice(0, colon + 1) : text;
      const tail = colon >= 0 ? text.slice(colon + 1) : "";
      if (!startsWithCode && codeListHeading(head, text.length <= 90 || isHeadingMarkup(raw))) {
        open(head, no, systemOfText(head), false);
        const after = readCodeList(tail, 0, ctx?.system);
        if (after.items.length && ctx) emit(after.items, no, tail.slice(after.end), undefined, ctx);
        return;
      }
      if (startsWithCode && ctx) {
        const body = text.replace(/^[+*]\s*/, "");
        const rest = body.slice(listed.end).trim();
        if (rest === "" || /^[\s\-–—:]*[A-Za-z([]/.test(rest) || /^[*†‡+]/.test(rest)) {
          emit(listed.items, no, rest.replace(/^[\s\-–—:*†‡+]+/, ""), undefined, ctx);
          return;
        }
      }
      if (isNode) {
        end();
        return;
      }
      if (!startsWithCode && (head.endsWith(":") || text.length <= 90 || isHeadingMarkup(raw))) {
        // Group headings are looked for inside code lists (or where a line introduces one).
        const named =
          text.length <= 100 && (ctx || head.endsWith(":")) ? secs.resolve(text, no, undefined) : undefined;
        if (named?.section || named?.subPolicy) {
          group = { target: named, text };
          return;
        }
        const coverage = coverageOfText(head);
        if (coverage !== "unspecified" && head.endsWith(":") && codesInSentence(text).length === 0) {
          // A coverage line alone ("Considered Experimental/Investigational/Unproven:") before its table.
          ctx = undefined;
          open(head, no, systemOfText(head), false);
          if (ctx) (ctx as Context).expires = 1;
          return;
        }
        // A page header, footer or title: the list goes on.
        if (text.length <= 90 && !text.includes("(")) return;
      }
    }
    if (isNode || (ctx && ctx.emitted > 0 && text.length > 90)) end();
    // Codes in prose outside the sections: only a sentence that says something of coverage.
    if (isNode || quiet || skipProse(no)) return;
    const near = stated.at(no);
    for (const mention of codesInSentence(text)) {
      const sentence = sentenceAround(text, mention.index);
      const coverage = coverageOfText(sentence);
      if (coverage === "unspecified") continue;
      for (const item of mention.items)
        for (const code of itemCodes(item)) {
          // A statement's continuation line: its codes were read from the statement.
          if (near?.has(code)) continue;
          occ.push({
            code,
            system: item.system,
            line: no,
            coverage,
            source: `sentence at line ${no}: "${sentence.length > 80 ? `${sentence.slice(0, 77)}…` : sentence}"`,
            how: "outside every section",
            confidence: "inferred",
          });
        }
    }
  }

  mergeTables(source.codeTables, occ);

  // Sections for list codes.
  for (const o of occ) {
    if (!o.choose) continue;
    const pick = secs.choose(o.coverage, o.choose.description, o.choose.scope);
    o.how = o.how ? `${o.how}; ${pick.how}` : pick.how;
    if (pick.words) o.words = pick.words;
    if (pick.section) {
      o.section = pick.section;
      if (pick.section.section.subPolicy) o.subPolicy = pick.section.section.subPolicy;
      o.confidence = "inferred";
    }
  }
  return conflicts(occ, group_(occ.sort((a, b) => a.line - b.line)));
}

/**
 * A code printed for two sections, or said covered in one place and not in another (a covered and a
 * not-covered table, two sub-policies): each proposal holding it names the other (QA pass 7: both were
 * proposed and nothing said they disagree — an author confirming one never saw the other). A copy with
 * no section (a table beside the statement that names it) is no conflict.
 */
function conflicts(occ: readonly Occurrence[], proposals: ProposedBinding[]): ProposedBinding[] {
  const byCode = new Map<string, { section?: string; coverage: CodeCoverage; line: number }[]>();
  for (const o of occ) {
    const at = {
      coverage: o.coverage,
      line: o.line,
      ...(o.section ? { section: o.section.section.id } : {}),
    };
    const list = byCode.get(o.code);
    if (list) list.push(at);
    else byCode.set(o.code, [at]);
  }
  return proposals.map((p) => {
    const notes: string[] = [];
    for (const code of p.codes) {
      const others = (byCode.get(code) ?? []).filter(
        (x) =>
          (x.section !== undefined && p.section !== undefined && x.section !== p.section) ||
          (x.coverage !== p.coverage && x.coverage !== "unspecified" && p.coverage !== "unspecified"),
      );
      if (others.length === 0) continue;
      const named = [
        ...new Set(
          others.map(
            (x) =>
              `${x.section ? `section ${x.section}` : "no section"}${x.coverage !== "unspecified" ? `, ${x.coverage}` : ""} (line ${x.line})`,
          ),
        ),
      ];
      notes.push(`${code} is also printed for ${named.join("; ")}`);
    }
    return notes.length
      ? { ...p, basis: `${p.basis}; conflicting: ${notes.join("; ")} — the author chooses one` }
      : p;
  });
}

/** The sentence (at most 400 characters either side) around `at`. */
function sentenceAround(text: string, at: number): string {
  const from = Math.max(0, at - 400);
  const before = text.slice(from, at);
  const stops = [...before.matchAll(/[.!?;]\s/g)];
  const last = stops[stops.length - 1];
  const a = last ? from + (last.index ?? 0) + 2 : from;
  const after = text.slice(at, at + 400);
  const m = /[.!?;](?:\s|$)/.exec(after);
  const b = m ? at + m.index + 1 : at + after.length;
  return text.slice(a, b).trim();
}

/**
 * The ingester's own code tables (`tables.ts`) are the floor: every row it read is proposed, with the
 * coverage its heading gives where the walk found none.
 */
function mergeTables(tables: readonly CodeTable[], occ: Occurrence[]): void {
  const at = new Map<string, Occurrence>();
  for (const o of occ) at.set(`${o.line}\u0000${o.code}`, o);
  for (const t of tables) {
    const source = t.heading
      ? `${t.system} table under "${t.heading}" (line ${t.line})`
      : `${t.system} table at line ${t.line}`;
    for (const r of t.rows) {
      const items = readCodeList(r.code, 0, systemOfText(t.system)).items;
      const item = items[0];
      if (!item) continue;
      for (const code of itemCodes(item)) {
        const found = at.get(`${r.line}\u0000${code}`);
        if (found) {
          if (found.coverage === "unspecified" && t.coverage !== "unspecified") found.coverage = t.coverage;
          continue;
        }
        occ.push({
          code,
          system: item.system,
          line: r.line,
          coverage: t.coverage,
          source,
          confidence: "stated",
          choose: { description: r.description },
        });
      }
    }
  }
}

/** Consecutive codes with the same system, section, coverage and reason: one proposal. */
function group_(occ: Occurrence[]): ProposedBinding[] {
  const out: { b: ProposedBinding; codes: Set<string>; words: Set<string> }[] = [];
  let lastKey = "";
  for (const o of occ) {
    const basis = o.how ? `${o.source}; ${o.how}` : o.source;
    const key = [
      o.system,
      o.section?.section.id,
      o.subPolicy,
      o.criterion,
      o.coverage,
      o.confidence,
      basis,
    ].join("\u0000");
    const last = out[out.length - 1];
    if (last && key === lastKey) {
      last.codes.add(o.code);
      for (const w of o.words ?? []) last.words.add(w);
      continue;
    }
    const b: ProposedBinding = {
      codes: [],
      system: o.system,
      coverage: o.coverage,
      basis,
      line: o.line,
      confidence: o.confidence,
    };
    if (o.section) b.section = o.section.section.id;
    if (o.subPolicy) b.subPolicy = o.subPolicy;
    if (o.criterion) b.criterion = o.criterion;
    out.push({ b, codes: new Set([o.code]), words: new Set(o.words ?? []) });
    lastKey = key;
  }
  return out.map(({ b, codes, words }) =>
    reorder({
      ...b,
      codes: [...codes],
      basis: words.size ? `${b.basis} (${[...words].join(", ")})` : b.basis,
    }),
  );
}

/** Field order of the JSON: codes, system, section…, coverage, basis, line, confidence. */
function reorder(b: ProposedBinding): ProposedBinding {
  const { codes, system, section, subPolicy, criterion, coverage, basis, line, confidence } = b;
  return {
    codes,
    system,
    ...(section !== undefined ? { section } : {}),
    ...(subPolicy !== undefined ? { subPolicy } : {}),
    ...(criterion !== undefined ? { criterion } : {}),
    coverage,
    basis,
    line,
    confidence,
  };
}
