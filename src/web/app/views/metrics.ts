/**
 * CMS-0057-F prior-authorization metrics (SPEC 4; issue 6): the share of requests approved, denied
 * and still pended, and the average and median time from receipt to decision — standard and expedited
 * apart — with simple inline-SVG charts. Every chart has its numbers in text beside it.
 */
import { getMetrics, type MetricsGroup } from "../api.js";
import { h, svg } from "../dom.js";
import { dateTime } from "../format.js";
import type { App } from "../main.js";

const COLORS = { approved: "var(--c-good)", denied: "var(--c-bad)", pended: "var(--c-warn)" } as const;

/** One horizontal bar split into approved / denied / pended. */
function stackedBar(g: MetricsGroup, label: string): SVGElement {
  const w = 480;
  const parts = (["approved", "denied", "pended"] as const).map((k) => ({
    k,
    n: g[k].count,
    pct: g[k].percent,
  }));
  let x = 0;
  const rects = parts.map((p) => {
    const width = g.total === 0 ? 0 : (p.n / g.total) * w;
    const r = svg(
      "rect",
      { x, y: 0, width, height: 28, fill: COLORS[p.k] },
      svg("title", null, `${p.k}: ${p.n} (${p.pct}%)`),
    );
    x += width;
    return r;
  });
  return svg(
    "svg",
    {
      viewBox: `0 0 ${w} 28`,
      width: "100%",
      height: 28,
      role: "img",
      "aria-label": label,
      class: "chart-bar",
      preserveAspectRatio: "none",
    },
    g.total === 0 ? svg("rect", { x: 0, y: 0, width: w, height: 28, fill: "var(--c-line)" }) : rects,
  );
}

/**
 * Average and median hours to decision against the time limit. The drawing is as wide as a phone's
 * panel there (issue 14), so its text is not scaled down to an unreadable size.
 */
function timeChart(g: MetricsGroup, limitHours: number, label: string): SVGElement {
  const w = window.matchMedia("(max-width: 600px)").matches ? 330 : 480;
  const max =
    Math.max(limitHours, g.timeToDecisionHours.average ?? 0, g.timeToDecisionHours.median ?? 0) * 1.05;
  const scale = (v: number) => (v / max) * (w - 120);
  const bar = (y: number, name: string, v: number | null) =>
    svg(
      "g",
      null,
      svg("text", { x: 0, y: y + 14, class: "chart-label" }, name),
      svg("rect", {
        x: 80,
        y,
        width: v === null ? 0 : Math.max(1, scale(v)),
        height: 18,
        fill: "var(--c-accent)",
        rx: 3,
      }),
      svg(
        "text",
        { x: 86 + (v === null ? 0 : scale(v)), y: y + 14, class: "chart-value" },
        v === null ? "no decisions yet" : `${v} h`,
      ),
    );
  const lx = 80 + scale(limitHours);
  return svg(
    "svg",
    {
      viewBox: `0 0 ${w} 64`,
      width: "100%",
      height: 64,
      role: "img",
      "aria-label": label,
      class: "chart-time",
    },
    bar(4, "Average", g.timeToDecisionHours.average),
    bar(30, "Median", g.timeToDecisionHours.median),
    svg("line", { x1: lx, x2: lx, y1: 0, y2: 52, stroke: "var(--c-bad)", "stroke-dasharray": "4 3" }),
    svg("text", { x: Math.min(lx + 4, w - 70), y: 62, class: "chart-label" }, `limit ${limitHours} h`),
  );
}

function group(title: string, g: MetricsGroup, limitHours: number, id: string): HTMLElement {
  const legend = (["approved", "denied", "pended"] as const).map((k) =>
    h(
      "li",
      null,
      h("span", { class: "swatch", style: `background:${COLORS[k]}`, "aria-hidden": "true" }),
      `${k[0]!.toUpperCase()}${k.slice(1)}: `,
      h("strong", null, String(g[k].count)),
      ` (${g[k].percent}%)`,
    ),
  );
  return h(
    "section",
    { class: "panel metrics-group", id, "aria-labelledby": `${id}-h` },
    h("h2", { id: `${id}-h` }, title),
    h(
      "p",
      { class: "big-number" },
      h("strong", null, String(g.total)),
      ` request${g.total === 1 ? "" : "s"} decided or pending`,
      g.notApplicable ? ` · ${g.notApplicable} needed no determination` : "",
      g.withdrawn ? ` · ${g.withdrawn} withdrawn by the submitter` : "",
    ),
    h("h3", null, "Outcomes"),
    stackedBar(
      g,
      `${title}: ${g.approved.percent}% approved, ${g.denied.percent}% denied, ${g.pended.percent}% pended`,
    ),
    h("ul", { class: "legend-list" }, legend),
    h("h3", null, "Time from receipt to decision"),
    timeChart(
      g,
      limitHours,
      `${title}: average ${g.timeToDecisionHours.average ?? "n/a"} hours, median ${g.timeToDecisionHours.median ?? "n/a"} hours, limit ${limitHours} hours`,
    ),
    h(
      "p",
      { class: "muted small" },
      `${g.timeToDecisionHours.decided} decision${g.timeToDecisionHours.decided === 1 ? "" : "s"} measured.`,
    ),
  );
}

/** `#/metrics`. */
export async function metricsView(_app: App): Promise<Node> {
  const m = await getMetrics();
  return h(
    "section",
    { class: "metrics" },
    h(
      "div",
      { class: "page-head" },
      h("h1", null, "Prior-authorization metrics"),
      h(
        "p",
        { class: "muted" },
        `CMS-0057-F public-reporting figures: approved, denied and pended shares and time to decision, standard and expedited apart. As of ${dateTime(m.generatedAt)}.`,
      ),
    ),
    h(
      "div",
      { class: "metrics-grid" },
      group("Standard requests", m.standard, 7 * 24, "m-standard"),
      group("Expedited requests", m.expedited, 72, "m-expedited"),
    ),
  );
}
