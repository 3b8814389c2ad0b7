/**
 * Word (DOCX) → the ingester's text form, read from the document's own XML: `fflate` opens the ZIP
 * package (synchronously, each part bounded by its declared size), `@xmldom/xmldom` parses the
 * WordprocessingML parts. Word's automatic list numbering is rendered as Word prints it — `I.`, `A.`,
 * `1.`, `a.`, `(i)` from each level's format, text, start and the list's start overrides, counters
 * shared by the lists of one definition — because the ingester's criterion ids come from these labels
 * (a DOCX → HTML converter such as mammoth keeps only "ordered or not").
 *
 * - Numbered and bulleted paragraphs: `LABEL text`, indented 4 spaces per list level; bullets print
 *   `•`. A plain paragraph indented under a list item continues that item (aligned with its text).
 * - Other paragraphs: a blank line around. `w:br` ends a line. Tables: one tab-separated line per row.
 * - Tracked changes print as the redline marks the ingester reads (`<del>`, `<ins>`); struck and
 *   underlined runs as `<s>`, `<u>`; superscripts as `<sup>` (footnote numbers are dropped later).
 * - Text boxes (a shape's `w:txbxContent`, read once where Word stores it twice for old readers): their
 *   paragraphs follow the paragraph they are anchored in. A box may hold criteria; dropped, the tree
 *   would lack them (a looser reading), while a sidebar read in is text the ingester reports.
 * - Left out (and noted): hidden text, field codes, shapes without text boxes, headers, footers,
 *   footnotes and comments (separate parts).
 */
import { DOMParser } from "@xmldom/xmldom";
import { unzipSync } from "fflate";
import {
  type ConvertOptions,
  formatNumber,
  inputError,
  type NumberStyle,
  oneLine,
  TextWriter,
} from "./common.js";

/** The XML nodes this reader touches (xmldom's DOM, structurally). */
interface XNode {
  nodeType: number;
  nodeName: string;
  localName?: string | null;
  textContent?: string | null;
  childNodes: ArrayLike<XNode>;
  attributes?: ArrayLike<{ localName?: string | null; name: string; value: string }>;
}

const ELEMENT = 1;

/** Parts read from the package; anything else (images, fonts) is never inflated. */
const MAX_PARTS_BYTES = 200 * 1024 * 1024;

function kids(n: XNode): XNode[] {
  const out: XNode[] = [];
  const cs = n.childNodes;
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i] as XNode;
    if (c.nodeType === ELEMENT) out.push(c);
  }
  return out;
}

function local(n: XNode): string {
  const l = n.localName;
  if (l) return l;
  const i = n.nodeName.indexOf(":");
  return i < 0 ? n.nodeName : n.nodeName.slice(i + 1);
}

function child(n: XNode | undefined, name: string): XNode | undefined {
  if (!n) return undefined;
  const cs = n.childNodes;
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i] as XNode;
    if (c.nodeType === ELEMENT && local(c) === name) return c;
  }
  return undefined;
}

/** An attribute by local name (`w:val` → `val`), whatever its prefix. */
function att(n: XNode | undefined, name: string): string | undefined {
  const as = n?.attributes;
  if (!as) return undefined;
  for (let i = 0; i < as.length; i++) {
    const a = as[i] as { localName?: string | null; name: string; value: string };
    const l = a.localName ?? a.name.slice(a.name.indexOf(":") + 1);
    if (l === name) return a.value;
  }
  return undefined;
}

function intAtt(n: XNode | undefined, name: string): number | undefined {
  const v = att(n, name);
  if (v === undefined || !/^-?\d{1,9}$/.test(v.trim())) return undefined;
  return Number.parseInt(v, 10);
}

/** An on/off property (`<w:b/>`, `<w:b w:val="false"/>`). */
function on(n: XNode | undefined): boolean {
  if (!n) return false;
  const v = att(n, "val");
  return v === undefined || !/^(?:false|0|off|none)$/i.test(v);
}

// ---------------------------------------------------------------------------------------------------
// Numbering and styles

interface Level {
  start: number;
  fmt: string;
  text: string;
  legal: boolean;
  left?: number;
}

interface AbstractNum {
  levels: Map<number, Level>;
  styleLink?: string;
}

interface Num {
  abstractId: string;
  starts: Map<number, number>;
  levels: Map<number, Level>;
}

interface Style {
  basedOn?: string;
  numId?: string;
  ilvl?: number;
  left?: number;
}

function readLevel(lvl: XNode): Level {
  const pPr = child(lvl, "pPr");
  const left = leftOf(pPr);
  return {
    start: intAtt(child(lvl, "start"), "val") ?? 0,
    fmt: att(child(lvl, "numFmt"), "val") ?? "decimal",
    text: att(child(lvl, "lvlText"), "val") ?? "",
    legal: on(child(lvl, "isLgl")),
    ...(left !== undefined ? { left } : {}),
  };
}

function leftOf(pPr: XNode | undefined): number | undefined {
  const ind = child(pPr, "ind");
  return ind ? (intAtt(ind, "left") ?? intAtt(ind, "start")) : undefined;
}

class Numbering {
  readonly abstracts = new Map<string, AbstractNum>();
  readonly nums = new Map<string, Num>();
  /** Counters per abstract definition (Word continues a list across the numbering instances of one definition). */
  private readonly counters = new Map<string, (number | undefined)[]>();
  private readonly used = new Set<string>();

  constructor(
    root: XNode | undefined,
    private readonly styles: Map<string, Style>,
  ) {
    if (!root) return;
    for (const n of kids(root)) {
      const name = local(n);
      if (name === "abstractNum") {
        const levels = new Map<number, Level>();
        for (const l of kids(n)) if (local(l) === "lvl") levels.set(intAtt(l, "ilvl") ?? 0, readLevel(l));
        const link = att(child(n, "numStyleLink"), "val");
        this.abstracts.set(att(n, "abstractNumId") ?? "", { levels, ...(link ? { styleLink: link } : {}) });
      } else if (name === "num") {
        const starts = new Map<number, number>();
        const levels = new Map<number, Level>();
        for (const o of kids(n)) {
          if (local(o) !== "lvlOverride") continue;
          const ilvl = intAtt(o, "ilvl") ?? 0;
          const so = intAtt(child(o, "startOverride"), "val");
          if (so !== undefined) starts.set(ilvl, so);
          const l = child(o, "lvl");
          if (l) levels.set(ilvl, readLevel(l));
        }
        this.nums.set(att(n, "numId") ?? "", {
          abstractId: att(child(n, "abstractNumId"), "val") ?? "",
          starts,
          levels,
        });
      }
    }
  }

  /** The abstract definition behind a numbering instance, through numbering-style links. */
  private abstractOf(num: Num): { id: string; def: AbstractNum } | undefined {
    let id = num.abstractId;
    for (let hops = 0; hops < 8; hops++) {
      const def = this.abstracts.get(id);
      if (!def) return undefined;
      if (!def.styleLink) return { id, def };
      const linked = this.styles.get(def.styleLink)?.numId;
      const next = linked === undefined ? undefined : this.nums.get(linked);
      if (!next || next.abstractId === id) return { id, def };
      id = next.abstractId;
    }
    return undefined;
  }

  level(numId: string, ilvl: number): Level | undefined {
    const num = this.nums.get(numId);
    if (!num) return undefined;
    return num.levels.get(ilvl) ?? this.abstractOf(num)?.def.levels.get(ilvl);
  }

  /** Advances the list's counter and returns the label Word prints ("" for none, "•" for a bullet). */
  next(numId: string, ilvl: number): string | undefined {
    const num = this.nums.get(numId);
    if (!num) return undefined;
    const abs = this.abstractOf(num);
    if (!abs) return undefined;
    const levelOf = (k: number) => num.levels.get(k) ?? abs.def.levels.get(k);
    let counters = this.counters.get(abs.id);
    if (!counters) {
      counters = [];
      this.counters.set(abs.id, counters);
    }
    if (!this.used.has(numId)) {
      this.used.add(numId);
      for (const [k, start] of num.starts) {
        counters[k] = start - 1;
        counters.length = Math.min(counters.length, k + 1);
      }
    }
    const lvl = levelOf(ilvl);
    if (!lvl) return undefined;
    counters[ilvl] = (counters[ilvl] ?? lvl.start - 1) + 1;
    counters.length = ilvl + 1;
    if (lvl.fmt === "bullet") return "•";
    if (lvl.fmt === "none") return "";
    return lvl.text.replace(/%([1-9])/g, (_m, d: string) => {
      const k = Number(d) - 1;
      const l = levelOf(k);
      const v = counters[k] ?? l?.start ?? 1;
      return formatWordNumber(v, lvl.legal && k < ilvl ? "decimal" : (l?.fmt ?? "decimal"));
    });
  }
}

const WORD_FORMATS: Record<string, NumberStyle> = {
  decimal: "decimal",
  upperRoman: "upper-roman",
  lowerRoman: "lower-roman",
  upperLetter: "upper-alpha",
  lowerLetter: "lower-alpha",
};

function formatWordNumber(n: number, fmt: string): string {
  if (fmt === "decimalZero") return n < 10 && n >= 0 ? `0${n}` : String(n);
  if (fmt === "ordinal") return `${n}${ordinalSuffix(n)}`;
  return formatNumber(n, WORD_FORMATS[fmt] ?? "decimal", true);
}

function ordinalSuffix(n: number): string {
  const t = n % 100;
  if (t >= 11 && t <= 13) return "th";
  return ["th", "st", "nd", "rd"][n % 10] ?? "th";
}

function readStyles(root: XNode | undefined): Map<string, Style> {
  const out = new Map<string, Style>();
  if (!root) return out;
  for (const s of kids(root)) {
    if (local(s) !== "style") continue;
    const id = att(s, "styleId");
    if (!id) continue;
    const pPr = child(s, "pPr");
    const numPr = child(pPr, "numPr");
    const numId = att(child(numPr, "numId"), "val");
    const ilvl = intAtt(child(numPr, "ilvl"), "val");
    const basedOn = att(child(s, "basedOn"), "val");
    const left = leftOf(pPr);
    out.set(id, {
      ...(basedOn ? { basedOn } : {}),
      ...(numId !== undefined ? { numId } : {}),
      ...(ilvl !== undefined ? { ilvl } : {}),
      ...(left !== undefined ? { left } : {}),
    });
  }
  return out;
}

/** A style's property, inherited along `basedOn`. */
function inherited<K extends keyof Style>(
  styles: Map<string, Style>,
  id: string | undefined,
  key: K,
): Style[K] {
  let cur = id;
  for (let hops = 0; cur !== undefined && hops < 16; hops++) {
    const s = styles.get(cur);
    if (!s) return undefined;
    if (s[key] !== undefined) return s[key];
    cur = s.basedOn;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// The body

interface Span {
  text: string;
  del: boolean;
  ins: boolean;
  sup: boolean;
  strike: boolean;
  u: boolean;
}

interface Marks {
  del: boolean;
  ins: boolean;
}

const SYMBOLS: Record<string, string> = {
  F0B7: "•",
  F0A7: "▪",
  F0FC: "✓",
  F0D8: "➢",
  F076: "❖",
  F0A8: "□",
  F06F: "o",
  F0B3: "≥",
  F0A3: "≤",
  F0B1: "±",
};

class DocxReader {
  readonly notes = new Set<string>();
  private hidden = 0;
  private lastItem?: { left: number; indent: number };
  /** The text boxes anchored in the paragraph being read: written after it. */
  private boxes: XNode[] = [];

  constructor(
    readonly w: TextWriter,
    readonly numbering: Numbering,
    readonly styles: Map<string, Style>,
  ) {}

  blocks(parent: XNode, depth: number): void {
    if (depth > 64) return;
    for (const n of kids(parent)) {
      switch (local(n)) {
        case "p":
          this.boxes = [];
          this.paragraph(n);
          this.textBoxes(depth);
          break;
        case "tbl":
          this.table(n, depth);
          break;
        case "sdt":
          this.blocks(child(n, "sdtContent") ?? n, depth + 1);
          break;
        case "customXml":
        case "ins":
        case "moveTo":
          this.blocks(n, depth + 1);
          break;
        case "AlternateContent":
          this.blocks(child(n, "Choice") ?? n, depth + 1);
          break;
        default:
          break;
      }
    }
  }

  private paragraph(p: XNode): void {
    const pPr = child(p, "pPr");
    const styleId = att(child(pPr, "pStyle"), "val");
    const numPr = child(pPr, "numPr");
    let numId = att(child(numPr, "numId"), "val");
    let ilvl = intAtt(child(numPr, "ilvl"), "val");
    if (numId === undefined) {
      numId = inherited(this.styles, styleId, "numId");
      if (ilvl === undefined) ilvl = inherited(this.styles, styleId, "ilvl");
    }
    ilvl = Math.max(0, Math.min(8, ilvl ?? 0));
    const spans: Span[] = [];
    const hiddenBefore = this.hidden;
    this.inline(p, spans, { del: false, ins: false }, 0);
    const lines = spansToLines(spans);
    const visible = lines.some((l) => /\S/.test(l.replace(/<\/?(?:del|ins|sup|s|u)>/g, "")));
    // Word numbers an empty item too (the next one counts on); a wholly hidden paragraph it does not.
    const numbered = numId !== undefined && numId !== "0" && (visible || this.hidden === hiddenBefore);
    const label = numbered ? this.numbering.next(numId as string, ilvl) : undefined;
    const left =
      leftOf(pPr) ??
      (numId !== undefined ? this.numbering.level(numId, ilvl)?.left : undefined) ??
      inherited(this.styles, styleId, "left") ??
      0;
    if (!visible) return;
    if (label !== undefined) {
      // As displayed: a paragraph of list level 0 that its own indent puts where level 1 prints is
      // a sub-item (QA pass 5: Word users indent sub-bullets so; flattened into the parent list, a
      // nested all-of became alternatives of the outer any-of).
      let depth = ilvl;
      const own = leftOf(pPr);
      const base = numId !== undefined ? this.numbering.level(numId, ilvl)?.left : undefined;
      if (own !== undefined && numId !== undefined && base !== undefined) {
        for (let d = ilvl + 1; d <= 8; d++) {
          const l = this.numbering.level(numId, d)?.left;
          // Only a level printed further in than the paragraph's own (levels that share one indent
          // say nothing of depth: a second reading found level-0 items pushed under their sub-items).
          if (l === undefined || l <= base + 20 || own < l - 20) break;
          depth = d;
        }
      }
      const indent = 4 * depth;
      this.w.item(label, indent);
      const cont = label === "" ? indent : indent + label.length + 1;
      this.lastItem = { left, indent: cont };
      this.writeLines(lines, cont);
      this.w.flush();
      this.w.flushLabel();
      return;
    }
    const item = this.lastItem;
    if (item && left > 0 && left >= item.left - 20) {
      // A paragraph indented under a list item continues the item.
      this.writeLines(lines, item.indent);
      this.w.flush();
      return;
    }
    this.lastItem = undefined;
    this.w.blank();
    const tabbed = lines.length === 1 && (lines[0] as string).includes("\t");
    if (tabbed) this.w.line((lines[0] as string).trim());
    else this.writeLines(lines, 0);
    this.w.blank();
  }

  /** The text boxes of the paragraph just read, as paragraphs of their own after it. */
  private textBoxes(depth: number): void {
    const boxes = this.boxes;
    if (boxes.length === 0) return;
    this.boxes = [];
    this.notes.add("text boxes read as paragraphs after the paragraph they are anchored in");
    for (const box of boxes) {
      this.lastItem = undefined;
      this.w.blank();
      this.blocks(box, depth + 1);
      this.w.blank();
    }
  }

  private writeLines(lines: string[], indent: number): void {
    lines.forEach((l, i) => {
      if (i > 0) this.w.br();
      this.w.text(l.replace(/\t+/g, " "), indent);
    });
  }

  /** Runs of a paragraph (or of any inline container) into spans. */
  private inline(n: XNode, out: Span[], marks: Marks, depth: number): void {
    if (depth > 32) return;
    for (const c of kids(n)) {
      switch (local(c)) {
        case "r":
          this.run(c, out, marks);
          break;
        case "del":
        case "moveFrom":
          this.inline(c, out, { ...marks, del: true }, depth + 1);
          break;
        case "ins":
        case "moveTo":
          this.inline(c, out, { ...marks, ins: true }, depth + 1);
          break;
        case "hyperlink":
        case "smartTag":
        case "customXml":
        case "fldSimple":
        case "dir":
        case "bdo":
          this.inline(c, out, marks, depth + 1);
          break;
        case "sdt":
          this.inline(child(c, "sdtContent") ?? c, out, marks, depth + 1);
          break;
        case "AlternateContent":
          this.inline(child(c, "Choice") ?? c, out, marks, depth + 1);
          break;
        default:
          break;
      }
    }
  }

  private run(r: XNode, out: Span[], marks: Marks): void {
    const rPr = child(r, "rPr");
    if (on(child(rPr, "vanish")) || on(child(rPr, "webHidden"))) {
      this.hidden++;
      this.notes.add("hidden text left out");
      return;
    }
    const caps = on(child(rPr, "caps")) || on(child(rPr, "smallCaps"));
    const base = {
      del: marks.del,
      ins: marks.ins && !marks.del,
      sup: att(child(rPr, "vertAlign"), "val") === "superscript",
      strike: on(child(rPr, "strike")) || on(child(rPr, "dstrike")),
      u: (() => {
        const u = child(rPr, "u");
        return u !== undefined && att(u, "val") !== "none";
      })(),
    };
    let text = "";
    for (const c of kids(r)) {
      switch (local(c)) {
        case "t":
        case "delText":
          text += c.textContent ?? "";
          break;
        case "tab":
        case "ptab":
          text += "\t";
          break;
        case "br":
        case "cr":
          if (att(c, "type") === "page" || att(c, "type") === "column") text += " ";
          else text += "\n";
          break;
        case "noBreakHyphen":
          text += "-";
          break;
        case "sym": {
          const code = (att(c, "char") ?? "").toUpperCase();
          const mapped =
            SYMBOLS[code] ??
            (/^[0-9A-F]{4}$/.test(code) ? String.fromCharCode(Number.parseInt(code, 16)) : "");
          text += /^[\uE000-\uF8FF]$/.test(mapped) ? "" : mapped;
          break;
        }
        case "drawing":
        case "pict":
        case "object":
        case "AlternateContent": {
          // Word writes a text box twice (DrawingML in mc:Choice, VML in mc:Fallback): one is read.
          const from = local(c) === "AlternateContent" ? [child(c, "Choice"), child(c, "Fallback")] : [c];
          const found: XNode[] = [];
          for (const f of from) {
            if (f && found.length === 0) textBoxesIn(f, found, 0);
          }
          this.boxes.push(...found);
          if (found.length === 0 && hasText(c))
            this.notes.add("shapes left out (text outside the flow of the document)");
          break;
        }
        default:
          break;
      }
    }
    if (text === "") return;
    out.push({ text: caps ? text.toUpperCase() : text, ...base });
  }

  private table(tbl: XNode, depth: number): void {
    this.lastItem = undefined;
    this.w.blank();
    for (const tr of kids(tbl)) {
      if (local(tr) !== "tr") continue;
      const cells: string[] = [];
      for (const tc of kids(tr)) {
        if (local(tc) !== "tc" && local(tc) !== "sdt") continue;
        const cell = local(tc) === "sdt" ? (child(child(tc, "sdtContent"), "tc") ?? tc) : tc;
        cells.push(this.cellText(cell, depth));
        const span = Math.min(intAtt(child(child(cell, "tcPr"), "gridSpan"), "val") ?? 1, 64);
        for (let i = 1; i < span; i++) cells.push("");
      }
      while (cells.length > 0 && cells[cells.length - 1] === "") cells.pop();
      if (cells.length > 0) this.w.line(cells.join("\t"));
    }
    this.w.blank();
  }

  private cellText(tc: XNode, depth: number): string {
    const w = new TextWriter();
    const sub = new DocxReader(w, this.numbering, this.styles);
    sub.blocks(tc, depth + 1);
    for (const n of sub.notes) this.notes.add(n);
    return oneLine(w.finish());
  }
}

/** The `w:txbxContent` elements under a shape (not those inside them: a box in a box is read with it). */
function textBoxesIn(n: XNode, out: XNode[], depth: number): void {
  if (depth > 24 || out.length >= 64) return;
  for (const c of kids(n)) {
    if (local(c) === "txbxContent") out.push(c);
    else textBoxesIn(c, out, depth + 1);
  }
}

function hasText(n: XNode): boolean {
  return /\S/.test(n.textContent ?? "");
}

const TAGS: [keyof Span, string][] = [
  ["del", "del"],
  ["ins", "ins"],
  ["strike", "s"],
  ["u", "u"],
  ["sup", "sup"],
];

/** Spans → the paragraph's lines (split at `w:br`), marks as tags; runs with equal marks merged. */
function spansToLines(spans: Span[]): string[] {
  const merged: Span[] = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && TAGS.every(([k]) => last[k] === s[k])) last.text += s.text;
    else merged.push({ ...s });
  }
  const lines: string[] = [""];
  for (const s of merged) {
    const parts = s.text.split("\n");
    parts.forEach((part, i) => {
      if (i > 0) lines.push("");
      if (part === "") return;
      let t = part;
      for (const [k, tag] of TAGS) if (s[k]) t = `<${tag}>${t}</${tag}>`;
      lines[lines.length - 1] += t;
    });
  }
  // A typed label followed by a tab ("I.<tab>It is the policy") reads "I. It is the policy".
  return lines.map((l) => l.replace(/^\t+/, "").replace(/^(\S{1,8})\t+/, "$1 "));
}

// ---------------------------------------------------------------------------------------------------

function parseXml(xml: string, part: string, opts: ConvertOptions): XNode {
  try {
    const doc = new DOMParser({
      onError: (level, msg) => {
        if (level === "fatalError") throw new Error(msg);
      },
    }).parseFromString(xml, "text/xml") as unknown as XNode;
    const root = kids(doc)[0];
    if (!root) throw new Error("no root element");
    return root;
  } catch (e) {
    throw inputError(
      `not a readable Word document: ${part} is not well-formed XML (${(e as Error).message.split("\n")[0]})`,
      opts,
    );
  }
}

function relTarget(rels: XNode | undefined, type: string, base: string): string | undefined {
  if (!rels) return undefined;
  for (const r of kids(rels)) {
    if (local(r) !== "Relationship") continue;
    const t = att(r, "Type") ?? "";
    if (!t.endsWith(`/${type}`)) continue;
    const target = att(r, "Target");
    if (!target || att(r, "TargetMode") === "External") continue;
    if (target.startsWith("/")) return target.slice(1);
    const parts = `${base}${target}`.split("/");
    const out: string[] = [];
    for (const p of parts) {
      if (p === "..") out.pop();
      else if (p !== "." && p !== "") out.push(p);
    }
    return out.join("/");
  }
  return undefined;
}

/** Reads a DOCX package into the ingester's text form. */
export function docxToText(
  bytes: Uint8Array,
  opts: ConvertOptions,
  maxChars?: number,
): { text: string; notes: string[] } {
  let total = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        if (!/\.(?:xml|rels)$/i.test(f.name)) return false;
        if (!/^(?:_rels\/|word\/|\[Content_Types\])/i.test(f.name)) return false;
        total += f.originalSize;
        if (total > MAX_PARTS_BYTES) {
          throw new Error(`its XML parts inflate to over ${MAX_PARTS_BYTES / (1024 * 1024)} MB`);
        }
        return true;
      },
    });
  } catch (e) {
    throw inputError(`not a readable Word document: a broken ZIP archive (${(e as Error).message})`, opts);
  }
  const read = (name: string): string | undefined => {
    const b = files[name];
    return b === undefined ? undefined : new TextDecoder("utf-8").decode(b);
  };
  const rootRelsXml = read("_rels/.rels");
  const rootRels = rootRelsXml ? parseXml(rootRelsXml, "_rels/.rels", opts) : undefined;
  const main = relTarget(rootRels, "officeDocument", "") ?? "word/document.xml";
  const docXml = read(main);
  if (docXml === undefined)
    throw inputError(`not a readable Word document: the package has no ${main}`, opts);
  const dir = main.includes("/") ? main.slice(0, main.lastIndexOf("/") + 1) : "";
  const relsName = `${dir}_rels/${main.slice(dir.length)}.rels`;
  const relsXml = read(relsName);
  const rels = relsXml ? parseXml(relsXml, relsName, opts) : undefined;
  const stylesName = relTarget(rels, "styles", dir) ?? `${dir}styles.xml`;
  const numberingName = relTarget(rels, "numbering", dir) ?? `${dir}numbering.xml`;
  const stylesXml = read(stylesName);
  const numberingXml = read(numberingName);
  const styles = readStyles(stylesXml ? parseXml(stylesXml, stylesName, opts) : undefined);
  const numbering = new Numbering(
    numberingXml ? parseXml(numberingXml, numberingName, opts) : undefined,
    styles,
  );
  const doc = parseXml(docXml, main, opts);
  const body = child(doc, "body");
  if (!body) throw inputError(`not a readable Word document: ${main} has no body`, opts);
  const w = new TextWriter(maxChars);
  const reader = new DocxReader(w, numbering, styles);
  reader.blocks(body, 0);
  return { text: w.finish(), notes: [...reader.notes] };
}
