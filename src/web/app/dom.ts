/// <reference lib="dom" />
/**
 * A tiny DOM builder for the web app (no framework, issue 6): `h("button", { onclick }, "Sign")`.
 * Text is always set as text nodes, never parsed as HTML, so request and policy texts cannot inject markup.
 */

/** What may appear as a child: nodes, text, numbers; `false`/`null`/`undefined` are skipped; arrays are flattened. */
export type Child = Node | string | number | false | null | undefined | readonly Child[];

type Handler = (ev: Event) => void;
/** Attributes: `on*` are event listeners, `class` the class list, booleans present/absent, `value`/`checked` properties. */
export type Attrs = Record<string, string | number | boolean | Handler | null | undefined>;

function append(parent: Node, child: Child): void {
  if (child === false || child === null || child === undefined) return;
  if (Array.isArray(child)) {
    for (const c of child as readonly Child[]) append(parent, c);
    return;
  }
  parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
}

function setAttrs(el: Element, attrs: Attrs | null | undefined): void {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2).toLowerCase(), v as Handler);
    } else if (k === "value" && "value" in el) {
      (el as HTMLInputElement).value = String(v);
    } else if (k === "checked" && "checked" in el) {
      (el as HTMLInputElement).checked = Boolean(v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
}

/** Creates an HTML element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  for (const c of children) append(el, c);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Creates an SVG element (charts). */
export function svg(tag: string, attrs?: Attrs | null, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  for (const c of children) append(el, c);
  return el as SVGElement;
}

/** Replaces the children of `el`. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  for (const c of children) append(el, c);
}

/** A visually hidden text for screen readers. */
export function sr(text: string): HTMLSpanElement {
  return h("span", { class: "sr-only" }, text);
}

/**
 * Marks a table to become stacked cards on a narrow screen (issue 14: every page fits 390 px): each
 * body cell gets `data-label` from its column header, which the stylesheet shows before the value
 * once the header row is hidden. Cells that already carry a label, or whose header is empty, keep it.
 */
export function stackable<T extends HTMLTableElement>(table: T): T {
  const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent?.trim() ?? "");
  table.classList.add("stack");
  for (const tr of table.querySelectorAll("tbody tr")) {
    [...tr.children].forEach((cell, i) => {
      const label = heads[i];
      if (label && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", label);
    });
  }
  return table;
}

/** A table that scrolls sideways inside its own box on a narrow screen, never the page (issue 14). */
export function scrollBox(table: HTMLElement, label?: string): HTMLDivElement {
  // A scrollable region must be reachable by keyboard to be scrolled without a mouse (WCAG 2.1.1).
  return h(
    "div",
    { class: "table-scroll", tabindex: "0", role: "region", "aria-label": label ?? "Table" },
    table,
  );
}
