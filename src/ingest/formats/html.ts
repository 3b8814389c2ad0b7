/**
 * HTML → the ingester's text form, as a browser displays the page (the conventions of
 * `../shared/corpus/cms-ncd/README.md`, "Rendering notes"):
 * - `<ol>` items get `1.` / `a.` / `A.` / `i.` / `I.` labels per `type` (or CSS `list-style-type`),
 *   `start`, `reversed` and `<li value>`; `<ul>` items get `•` at every level. Nested lists are
 *   indented 4 spaces per level; further lines of an item (after `<br>` or an inner block) align with
 *   the item's text.
 * - `<p>`, headings, top-level lists, tables, block quotes: a blank line around. `<div>` and other
 *   blocks: a line of their own. `<br>` ends a line (between list items it shows as a blank line).
 * - Tables: one tab-separated line per row (`colspan` adds empty cells).
 * - White space collapsed as a browser does; non-breaking spaces kept as ordinary spaces. Links show
 *   their text; scripts, styles, forms and the `<head>` show nothing.
 * - Marks the ingester reads are kept as tags: `<sup>` (footnote numbers are dropped by the ingester),
 *   and the redline marks `<del>`, `<s>`, `<strike>`, `<ins>`, `<u>`.
 *
 * Parsing is by `parse5`, the WHATWG-conformant parser: omitted end tags (`</li>`, `</p>`) and
 * misnested markup build the same tree as in a browser.
 */
import { type DefaultTreeAdapterTypes, parse } from "parse5";
import { collapseSpace, formatNumber, type NumberStyle, oneLine, TextWriter } from "./common.js";

type Node = DefaultTreeAdapterTypes.Node;
type Element = DefaultTreeAdapterTypes.Element;

const SKIP = new Set([
  "head",
  "script",
  "style",
  "template",
  "noscript",
  "title",
  "meta",
  "link",
  "iframe",
  "object",
  "embed",
  "svg",
  "math",
  "canvas",
  "select",
  "input",
  "textarea",
  "button",
  "img",
  "video",
  "audio",
]);

/** Blocks with vertical margins in a browser's default style sheet: a blank line around. */
const SPACED = new Set(["p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dl", "figure", "hr"]);

const BLOCK = new Set([
  "div",
  "section",
  "article",
  "header",
  "footer",
  "nav",
  "aside",
  "main",
  "center",
  "form",
  "fieldset",
  "legend",
  "details",
  "summary",
  "address",
  "dt",
  "dd",
  "figcaption",
  "caption",
  "body",
  "html",
]);

/** Inline marks kept as tags for the ingester (footnote superscripts, redlines). */
const KEPT_TAGS: Record<string, string> = {
  sup: "sup",
  del: "del",
  s: "s",
  strike: "strike",
  ins: "ins",
  u: "u",
};

/** Deeper markup is read as plain text: hostile nesting cannot exhaust the stack. */
const MAX_DEPTH = 200;

interface ListCtx {
  ordered: boolean;
  style: NumberStyle | "none" | "bullet";
  next: number;
  step: number;
}

interface Ctx {
  /** Indentation of lines that are not an item's first line. */
  indent: number;
  /** Nesting depth of lists. */
  depth: number;
  list?: ListCtx;
  pre: boolean;
}

function attr(el: Element, name: string): string | undefined {
  for (const a of el.attrs) if (a.name === name) return a.value;
  return undefined;
}

const TYPE_STYLES: Record<string, NumberStyle> = {
  "1": "decimal",
  a: "lower-alpha",
  A: "upper-alpha",
  i: "lower-roman",
  I: "upper-roman",
};

const CSS_STYLES: Record<string, NumberStyle | "none" | "bullet"> = {
  decimal: "decimal",
  "decimal-leading-zero": "decimal",
  "lower-alpha": "lower-alpha",
  "lower-latin": "lower-alpha",
  "upper-alpha": "upper-alpha",
  "upper-latin": "upper-alpha",
  "lower-roman": "lower-roman",
  "upper-roman": "upper-roman",
  disc: "bullet",
  circle: "bullet",
  square: "bullet",
  none: "none",
};

function cssListStyle(el: Element): NumberStyle | "none" | "bullet" | undefined {
  const style = attr(el, "style");
  if (!style) return undefined;
  const m = /list-style(?:-type)?\s*:\s*([a-z-]+)/i.exec(style);
  return m ? CSS_STYLES[(m[1] as string).toLowerCase()] : undefined;
}

function intAttr(el: Element, name: string): number | undefined {
  const v = attr(el, name);
  if (v === undefined || !/^\s*[-+]?\d{1,9}\s*$/.test(v)) return undefined;
  return Number.parseInt(v, 10);
}

function children(n: Node): Node[] {
  return "childNodes" in n ? (n.childNodes as Node[]) : [];
}

/** Screen-reader-only classes (Bootstrap, WordPress, GOV.UK, Tailwind): text a reader never sees. */
const READER_ONLY =
  /(?:^|\s)(?:sr-only|visually-hidden|visuallyhidden|screen-reader-text|screenreader-only)(?:\s|$)/i;

/**
 * What a browser does not show, or a page's navigation (QA pass 5): `hidden`, inline `display:none` /
 * `visibility:hidden`, screen-reader-only text, `<nav>` and `role="navigation"` menus. Read, a retired
 * version kept hidden became a covered section, and a site menu ("Members", "Providers") became text
 * before the criteria. Collapsed accordions are not hidden this way (their content is the page's), nor
 * is `aria-hidden` text (a second reading: "LVEF ≤ 35%" shows its "≤" to the eye and hides it from a
 * screen reader) or a class named "hidden" (Tailwind's `hidden md:list-item` shows on a desktop).
 */
function unseen(el: Element): boolean {
  if (el.tagName === "nav") return true;
  for (const a of el.attrs) {
    switch (a.name) {
      case "hidden":
        return true;
      case "role":
        if (/^(?:navigation|menu|menubar|search)$/i.test(a.value.trim())) return true;
        break;
      case "style":
        if (
          /(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\s*(?:!important\s*)?(?:;|$)/i.test(
            a.value,
          )
        )
          return true;
        break;
      case "class":
        if (READER_ONLY.test(a.value)) return true;
        break;
    }
  }
  return false;
}

function isElement(n: Node): n is Element {
  return "tagName" in n;
}

/** All text under a node, iteratively (for markup past {@link MAX_DEPTH}). */
function flatText(n: Node): string {
  const out: string[] = [];
  const stack: Node[] = [n];
  while (stack.length > 0) {
    const cur = stack.pop() as Node;
    if (cur.nodeName === "#text") out.push((cur as DefaultTreeAdapterTypes.TextNode).value);
    else if (isElement(cur) && SKIP.has(cur.tagName)) continue;
    else {
      const kids = children(cur);
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i] as Node);
      if (isElement(cur) && (cur.tagName === "br" || BLOCK.has(cur.tagName) || SPACED.has(cur.tagName)))
        out.push(" ");
    }
  }
  return collapseSpace(out.join(""));
}

function countItems(list: Element): number {
  let n = 0;
  for (const c of children(list)) if (isElement(c) && c.tagName === "li") n++;
  return n;
}

class HtmlRenderer {
  constructor(readonly w: TextWriter) {}

  node(n: Node, ctx: Ctx, depth: number): void {
    if (n.nodeName === "#text") {
      const v = (n as DefaultTreeAdapterTypes.TextNode).value;
      if (ctx.pre) this.preText(v, ctx);
      else this.w.text(collapseSpace(v), ctx.indent);
      return;
    }
    if (!isElement(n)) {
      for (const c of children(n)) this.node(c, ctx, depth + 1);
      return;
    }
    const tag = n.tagName;
    if (SKIP.has(tag) || unseen(n)) return;
    if (depth > MAX_DEPTH) {
      this.w.text(flatText(n), ctx.indent);
      return;
    }
    if (tag === "br") {
      this.w.br();
      return;
    }
    if (tag === "ol" || tag === "ul") {
      this.list(n, ctx, depth);
      return;
    }
    if (tag === "li") {
      this.item(n, ctx, depth);
      return;
    }
    if (tag === "table") {
      this.table(n, ctx, depth);
      return;
    }
    if (tag === "pre") {
      this.w.blank();
      this.kids(n, { ...ctx, pre: true }, depth);
      this.w.blank();
      return;
    }
    const kept = KEPT_TAGS[tag];
    if (kept) {
      this.w.text(`<${kept}>`, ctx.indent);
      this.kids(n, ctx, depth);
      this.w.text(`</${kept}>`, ctx.indent);
      return;
    }
    if (SPACED.has(tag)) {
      this.w.blank();
      this.kids(n, ctx, depth);
      this.w.blank();
      return;
    }
    if (BLOCK.has(tag)) {
      this.w.flush();
      this.kids(n, ctx, depth);
      this.w.flush();
      return;
    }
    this.kids(n, ctx, depth);
  }

  kids(n: Node, ctx: Ctx, depth: number): void {
    for (const c of children(n)) this.node(c, ctx, depth + 1);
  }

  preText(v: string, ctx: Ctx): void {
    const parts = v.replace(/\r\n?/g, "\n").split("\n");
    parts.forEach((p, i) => {
      if (i > 0) this.w.br();
      this.w.text(p.replace(/\t/g, "    ").replace(/\u00a0/g, " "), ctx.indent);
    });
  }

  list(el: Element, ctx: Ctx, depth: number): void {
    const ordered = el.tagName === "ol";
    const type = attr(el, "type");
    const style =
      cssListStyle(el) ??
      (ordered ? ((type !== undefined ? TYPE_STYLES[type] : undefined) ?? "decimal") : "bullet");
    const reversed = ordered && attr(el, "reversed") !== undefined;
    const start = intAttr(el, "start") ?? (reversed ? countItems(el) : 1);
    const list: ListCtx = { ordered, style, next: start, step: reversed ? -1 : 1 };
    const top = ctx.depth === 0;
    if (top) this.w.blank();
    else this.w.flush();
    const indent = 4 * ctx.depth;
    this.kids(el, { indent, depth: ctx.depth + 1, list, pre: ctx.pre }, depth);
    if (top) this.w.blank();
    else this.w.flush();
  }

  item(el: Element, ctx: Ctx, depth: number): void {
    const list = ctx.list;
    const labelIndent = Math.max(0, 4 * (ctx.depth - 1));
    let label = "";
    if (list) {
      const value = intAttr(el, "value");
      if (value !== undefined) list.next = value;
      const style = cssListStyle(el) ?? list.style;
      if (style === "bullet") label = "•";
      else if (style !== "none") label = `${formatNumber(list.next, style)}.`;
      list.next += list.step;
    } else {
      label = "•";
    }
    this.w.item(label, labelIndent);
    const indent = label === "" ? labelIndent : labelIndent + label.length + 1;
    const inner: Ctx = { indent, depth: ctx.depth, pre: ctx.pre };
    this.kids(el, inner, depth);
    this.w.flush();
    this.w.flushLabel();
  }

  table(el: Element, ctx: Ctx, depth: number): void {
    this.w.blank();
    const rows: Element[] = [];
    const stack: Node[] = [...children(el)].reverse();
    while (stack.length > 0) {
      const n = stack.pop() as Node;
      if (!isElement(n)) continue;
      if (n.tagName === "tr") rows.push(n);
      else if (n.tagName === "thead" || n.tagName === "tbody" || n.tagName === "tfoot") {
        const kids = children(n);
        for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i] as Node);
      } else if (n.tagName === "caption") {
        const t = flatText(n).trim();
        if (t) this.w.line(" ".repeat(ctx.indent) + t);
      }
    }
    for (const tr of rows) {
      const cells: string[] = [];
      // A cell's list ("… when ALL of the following are met:" over <ul>): its items go on the lines
      // under the row, each after the cell's tabs, as a word processor's table prints them (QA pass 5:
      // joined into the row's one line, the cell's criteria were one question, never each asked).
      const more: { at: number; lines: string[] }[] = [];
      for (const c of children(tr)) {
        if (!isElement(c) || (c.tagName !== "td" && c.tagName !== "th")) continue;
        const listed = hasList(c) ? cellLines(c, depth + 2) : undefined;
        if (listed && listed.length > 1) {
          cells.push(listed[0] as string);
          more.push({ at: cells.length - 1, lines: listed.slice(1) });
        } else cells.push(listed ? (listed[0] ?? "") : cellText(c, depth + 2));
        const span = Math.min(intAttr(c, "colspan") ?? 1, 64);
        for (let i = 1; i < span; i++) cells.push("");
      }
      while (cells.length > 0 && cells[cells.length - 1] === "") cells.pop();
      if (cells.length === 0) continue;
      this.w.line(" ".repeat(ctx.indent) + cells.join("\t"));
      for (const m of more)
        for (const l of m.lines) this.w.line(" ".repeat(ctx.indent) + "\t".repeat(m.at) + l);
    }
    this.w.blank();
  }
}

/** Whether a cell holds a list (bounded walk: cells are small, markup past the depth limit is flat). */
function hasList(cell: Element): boolean {
  const stack: Node[] = [...children(cell)];
  for (let k = 0; k < stack.length && k < 10_000; k++) {
    const n = stack[k] as Node;
    if (!isElement(n)) continue;
    if (n.tagName === "ul" || n.tagName === "ol") return true;
    if (n.tagName !== "table") stack.push(...children(n));
  }
  return false;
}

/**
 * A cell that holds a list, as lines: the text before the list on the first (its paragraphs joined),
 * then one line per item — a bullet as "•<tab>text", a numbered item as printed, a nested item indented.
 */
function cellLines(cell: Element, depth: number): string[] {
  const w = new TextWriter();
  new HtmlRenderer(w).kids(cell, { indent: 0, depth: 0, pre: false }, depth);
  const lines = w
    .finish()
    .split("\n")
    .map((l) => l.replace(/\t/g, " ").trimEnd())
    .filter((l) => l.trim() !== "");
  const head: string[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const t = (lines[i] as string).trimStart();
    if (/^(?:•|\d{1,3}\.|[a-zA-Z]\.|[ivxIVX]{1,5}\.)\s/.test(t)) break;
    head.push(t);
  }
  return [
    head.join(" "),
    ...lines.slice(i).map((l) => {
      const t = l.trimStart();
      const pad = " ".repeat(l.length - t.length);
      return pad + t.replace(/^•\s+/, "•\t");
    }),
  ];
}

/** A cell's content on one line: its blocks and lines joined by spaces. */
function cellText(cell: Element, depth: number): string {
  const w = new TextWriter();
  const r = new HtmlRenderer(w);
  r.kids(cell, { indent: 0, depth: 0, pre: false }, depth);
  return oneLine(w.finish());
}

/** Renders an HTML document as the ingester's text form. */
export function htmlToText(html: string, maxChars?: number): string {
  const doc = parse(html);
  const w = new TextWriter(maxChars);
  new HtmlRenderer(w).node(doc, { indent: 0, depth: 0, pre: false }, 0);
  return w.finish();
}
