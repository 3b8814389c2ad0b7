/**
 * The reviewers' queue (SPEC 4, issue 6): requests sorted by due time (72 h expedited, 7 days
 * standard, from receipt), overdue ones highlighted, filtered by workflow status, engine outcome,
 * policy, member state and priority. Filters live in the URL, so a filtered queue can be bookmarked.
 */
import { getRequests } from "../api.js";
import { h, replace } from "../dom.js";
import { dateTime, dueText, OUTCOME_LABEL, outcomeBadge, shortId, WORKFLOW_LABEL } from "../format.js";
import type { App } from "../main.js";
import type { UiRequestRow } from "../types.js";

const SCOPES: [string, string][] = [
  ["queue", "Awaiting review"],
  ["decided", "Decided"],
  ["approved", "Auto-approved"],
  ["not-applicable", "Not applicable"],
  ["all", "All requests"],
];

interface Filters {
  scope: string;
  outcome: string;
  policy: string;
  state: string;
  priority: string;
}

function select(
  id: string,
  label: string,
  value: string,
  options: [string, string][],
  onchange: (v: string) => void,
): HTMLElement {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h(
      "select",
      { id, onchange: (ev: Event) => onchange((ev.currentTarget as HTMLSelectElement).value) },
      options.map(([v, text]) => h("option", { value: v, ...(v === value && { selected: true }) }, text)),
    ),
  );
}

function dueCell(r: UiRequestRow): HTMLElement {
  if (r.status !== "awaiting-review") {
    return h("td", { class: "due" }, h("span", { class: "muted" }, WORKFLOW_LABEL[r.status] ?? r.status));
  }
  const d = dueText(r.dueAt);
  return h(
    "td",
    { class: `due${d.overdue ? " is-overdue" : ""}`, "data-overdue": String(d.overdue) },
    d.overdue ? h("span", { class: "badge badge-overdue" }, "Overdue") : null,
    h("span", { class: "due-text" }, d.text),
    h("span", { class: "due-at" }, dateTime(r.dueAt)),
  );
}

function row(r: UiRequestRow): HTMLTableRowElement {
  const label = `Request ${shortId(r.id)}`;
  return h(
    "tr",
    { class: r.overdue ? "overdue" : "", "data-id": r.id },
    dueCell(r),
    h(
      "td",
      null,
      h("a", { href: `#/requests/${encodeURIComponent(r.id)}`, class: "mono", title: r.id }, label),
      r.channel === "fhir-pas"
        ? h("span", { class: "badge badge-fhir", title: "Submitted through the FHIR PAS API" }, "FHIR")
        : null,
      r.medicalDirectorOnly
        ? h("span", { class: "badge badge-md", title: "A policy note applies" }, "MD only")
        : null,
    ),
    h(
      "td",
      null,
      r.status === "decided" && r.decisionOutcome
        ? [outcomeBadge(r.decisionOutcome), h("span", { class: "muted small" }, " signed")]
        : outcomeBadge(r.engineOutcome),
    ),
    h(
      "td",
      null,
      r.policy
        ? [
            h("span", { class: "mono" }, r.policy.id),
            h(
              "span",
              { class: "muted small" },
              ` ${r.policy.version}${r.policy.section ? ` §${r.policy.section}` : ""}`,
            ),
          ]
        : h("span", { class: "muted" }, "—"),
    ),
    h("td", { class: "mono" }, r.codes.join(", ")),
    h("td", null, r.memberState ?? "—"),
    h(
      "td",
      null,
      r.expedited
        ? h("span", { class: "badge badge-expedited" }, "Expedited")
        : h("span", { class: "muted" }, "Standard"),
    ),
    h("td", { class: "small" }, dateTime(r.receivedAt)),
  );
}

/** `#/queue?scope=&outcome=&policy=&state=&priority=`. */
export async function queueView(_app: App, _params: string[], query: URLSearchParams): Promise<Node> {
  const f: Filters = {
    scope: query.get("scope") ?? "queue",
    outcome: query.get("outcome") ?? "",
    policy: query.get("policy") ?? "",
    state: query.get("state") ?? "",
    priority: query.get("priority") ?? "",
  };
  let rows = await getRequests(f.scope);
  const filtersBox = h("form", { class: "filters", role: "search", "aria-label": "Filter the queue" });
  const tableBox = h("div", { class: "table-wrap" });
  const summary = h("p", { class: "summary", "aria-live": "polite" });

  const syncUrl = () => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(f)) if (v && !(k === "scope" && v === "queue")) q.set(k, v);
    const s = q.toString();
    history.replaceState(null, "", `#/queue${s ? `?${s}` : ""}`);
  };

  const draw = () => {
    const distinct = (xs: (string | undefined)[]) => [...new Set(xs.filter((x): x is string => !!x))].sort();
    const policies = distinct(rows.map((r) => r.policy?.id));
    const states = distinct(rows.map((r) => r.memberState));
    const outcomes = distinct(rows.map((r) => r.engineOutcome));
    const set = (k: keyof Filters) => (v: string) => {
      f[k] = v;
      syncUrl();
      if (k === "scope") {
        void getRequests(v).then((r) => {
          rows = r;
          draw();
          document.getElementById("f-scope")?.focus();
        });
      } else {
        draw();
        document.getElementById(`f-${k}`)?.focus();
      }
    };
    replace(
      filtersBox,
      select("f-scope", "Status", f.scope, SCOPES, set("scope")),
      select(
        "f-outcome",
        "Recommendation",
        f.outcome,
        [
          ["", "Any"],
          ...outcomes.map((o): [string, string] => [o, OUTCOME_LABEL[o as keyof typeof OUTCOME_LABEL] ?? o]),
        ],
        set("outcome"),
      ),
      select(
        "f-policy",
        "Policy",
        f.policy,
        [["", "Any"], ...policies.map((p): [string, string] => [p, p])],
        set("policy"),
      ),
      select(
        "f-state",
        "Member state",
        f.state,
        [["", "Any"], ...states.map((s): [string, string] => [s, s])],
        set("state"),
      ),
      select(
        "f-priority",
        "Priority",
        f.priority,
        [
          ["", "Any"],
          ["expedited", "Expedited (72 h)"],
          ["standard", "Standard (7 days)"],
        ],
        set("priority"),
      ),
    );
    const shown = rows.filter(
      (r) =>
        (!f.outcome || r.engineOutcome === f.outcome) &&
        (!f.policy || r.policy?.id === f.policy) &&
        (!f.state || r.memberState === f.state) &&
        (!f.priority || (f.priority === "expedited") === r.expedited),
    );
    const overdue = shown.filter((r) => r.overdue).length;
    const expedited = shown.filter((r) => r.expedited).length;
    summary.textContent =
      `${shown.length} request${shown.length === 1 ? "" : "s"}` +
      (overdue ? ` · ${overdue} overdue` : "") +
      (expedited ? ` · ${expedited} expedited` : "") +
      (shown.length !== rows.length ? ` (of ${rows.length})` : "");
    replace(
      tableBox,
      shown.length === 0
        ? h(
            "p",
            { class: "empty" },
            f.scope === "queue" ? "Nothing is waiting for review." : "No requests match.",
          )
        : h(
            "table",
            { class: "table queue-table" },
            h("caption", { class: "sr-only" }, "Requests, soonest due first"),
            h(
              "thead",
              null,
              h(
                "tr",
                null,
                h("th", { scope: "col", "aria-sort": "ascending" }, "Due"),
                h("th", { scope: "col" }, "Request"),
                h("th", { scope: "col" }, "Recommendation"),
                h("th", { scope: "col" }, "Policy"),
                h("th", { scope: "col" }, "Codes"),
                h("th", { scope: "col" }, "State"),
                h("th", { scope: "col" }, "Priority"),
                h("th", { scope: "col" }, "Received"),
              ),
            ),
            h("tbody", null, shown.map(row)),
          ),
    );
  };
  draw();
  return h(
    "section",
    { class: "queue" },
    h(
      "div",
      { class: "page-head" },
      h("h1", null, "Review queue"),
      h(
        "p",
        { class: "muted" },
        "Soonest due first: 72 hours for expedited requests, 7 days for standard ones, from receipt.",
      ),
    ),
    filtersBox,
    summary,
    tableBox,
  );
}
