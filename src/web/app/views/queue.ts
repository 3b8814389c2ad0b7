/**
 * The reviewers' queue (SPEC 4; issues 6 and 14): requests sorted by due time (72 h expedited, 7 days
 * standard, from receipt) with an hour-level countdown refreshed every minute, expedited and overdue
 * ones standing out; the member, the provider (name and NPI), the codes and the assignee of each; search
 * by request id, member or provider (`GET /api/queue?q=`), an assignee filter (All / Mine / Unassigned,
 * `assignee=`), and "Assign to me" per request (`POST /api/requests/:id/assign`). The other filters
 * (workflow status, engine outcome, policy, member state, priority) live in the URL, so a filtered queue
 * can be bookmarked; the search text does not (it may be a member's name: no PHI in browser history).
 * On a narrow screen the table becomes one card per request (see `stackable`).
 */
import { ApiError, api, getRequests } from "../api.js";
import { h, replace, stackable } from "../dom.js";
import { countdown, dateTime, OUTCOME_LABEL, outcomeBadge, shortId, WORKFLOW_LABEL } from "../format.js";
import type { App } from "../main.js";
import type { UiRequestRow } from "../types.js";

const SCOPES: [string, string][] = [
  ["queue", "Awaiting review"],
  ["decided", "Decided"],
  ["approved", "Auto-approved"],
  ["not-applicable", "Not applicable"],
  ["withdrawn", "Withdrawn"],
  ["all", "All requests"],
];

const ASSIGNEES: [string, string][] = [
  ["", "All"],
  ["me", "Mine"],
  ["unassigned", "Unassigned"],
];

/** Who a request is assigned to (`workflow.assignee`). */
interface Assignee {
  sub: string;
  name: string;
}

/** One item of `GET /api/queue` (issue 14). */
interface QueueItem {
  id: string;
  receivedAt: string;
  dueAt: string;
  expedited: boolean;
  overdue: boolean;
  engineOutcome: string;
  medicalDirectorOnly: boolean;
  memberName?: string;
  memberId?: string;
  providerName?: string;
  providerNpi?: string;
  codes?: string[];
  assignee?: Assignee;
  infoRequested?: boolean;
  recommendation?: string;
  /** Minutes to the due time when the server answered (negative when overdue). */
  minutesLeft?: number;
}

/** A row as drawn: the web plugin's row (policy, channel, member state) and the queue's fields. */
type Row = UiRequestRow &
  Pick<
    QueueItem,
    | "memberName"
    | "memberId"
    | "providerName"
    | "providerNpi"
    | "assignee"
    | "infoRequested"
    | "recommendation"
    | "minutesLeft"
  > & {
    /** `Date.now()` when the row was fetched: `minutesLeft` counts from then. */
    fetchedAt: number;
  };

interface Filters {
  scope: string;
  outcome: string;
  policy: string;
  state: string;
  priority: string;
  assignee: string;
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

/** Minutes to the due time now: the server's count (its clock) less the time since it was fetched. */
function minutesLeftNow(r: Row, nowMs: number): number {
  if (typeof r.minutesLeft === "number" && Number.isFinite(r.minutesLeft))
    return r.minutesLeft - (nowMs - r.fetchedAt) / 60_000;
  return (Date.parse(r.dueAt) - nowMs) / 60_000;
}

/** Fills a due cell: the countdown, an Overdue badge, the due time. Called again every minute. */
function fillDue(td: HTMLElement, r: Row, nowMs: number): void {
  if (r.status !== "awaiting-review") {
    td.className = "due";
    replace(td, h("span", { class: "muted" }, WORKFLOW_LABEL[r.status] ?? r.status));
    return;
  }
  const c = countdown(minutesLeftNow(r, nowMs));
  td.className = `due${c.overdue ? " is-overdue" : c.urgent ? " is-urgent" : ""}`;
  td.dataset.overdue = String(c.overdue);
  replace(
    td,
    c.overdue ? h("span", { class: "badge badge-overdue" }, "Overdue") : null,
    h("span", { class: "due-text" }, c.text),
    h("span", { class: "due-at" }, `due ${dateTime(r.dueAt)}`),
  );
}

/** Case-insensitive substring match over what a row shows (scopes `/api/queue` does not cover). */
function matches(r: Row, q: string): boolean {
  if (!q) return true;
  const needle = q.toLowerCase();
  return [r.id, r.memberName, r.memberId, r.providerName, r.providerNpi, r.policy?.id, ...r.codes].some(
    (x) => typeof x === "string" && x.toLowerCase().includes(needle),
  );
}

/** `#/queue?scope=&outcome=&policy=&state=&priority=&assignee=`. */
export async function queueView(app: App, _params: string[], query: URLSearchParams): Promise<Node> {
  const f: Filters = {
    scope: query.get("scope") ?? "queue",
    outcome: query.get("outcome") ?? "",
    policy: query.get("policy") ?? "",
    state: query.get("state") ?? "",
    priority: query.get("priority") ?? "",
    assignee: ["me", "unassigned"].includes(query.get("assignee") ?? "") ? query.get("assignee")! : "",
  };
  let q = "";
  const me = app.session?.principal;
  // Nurses and medical directors take work; an administrator reads the queue only (api.md: assign).
  const canAssign = me?.role === "reviewer" || me?.role === "medical-director";

  /** The web plugin's rows of the awaiting-review queue, once fetched. */
  let uiRows: UiRequestRow[] | undefined;
  /** Fetches the rows of the current scope, search and assignee filter. */
  const load = async (): Promise<Row[]> => {
    const fetchedAt = Date.now();
    if (f.scope !== "queue") {
      const rows = (await getRequests(f.scope)) as (UiRequestRow & Partial<QueueItem>)[];
      return rows
        .map((r) => ({ ...r, codes: r.codes ?? [], fetchedAt }) as Row)
        .filter(
          (r) =>
            matches(r, q) &&
            (f.assignee === ""
              ? true
              : f.assignee === "me"
                ? r.assignee?.sub === me?.sub
                : r.assignee === undefined),
        );
    }
    const params = new URLSearchParams();
    if (q) params.set("q", q);
    if (f.assignee) params.set("assignee", f.assignee);
    const qs = params.toString();
    // The queue API searches and filters (issue 14); the web plugin's rows add policy, channel, state.
    // Those do not change while the view is open: fetched once, not on every search (each fetch is a
    // PHI read of the whole queue on the audit trail), and again only for a request not seen yet.
    const [items, cached] = await Promise.all([
      api<QueueItem[]>(`/api/queue${qs ? `?${qs}` : ""}`),
      uiRows ?? getRequests("queue"),
    ]);
    const known = new Set(cached.map((r) => r.id));
    uiRows = items.every((it) => known.has(it.id)) ? cached : await getRequests("queue");
    const byId = new Map(uiRows.map((r) => [r.id, r]));
    return items
      .map((it): Row => {
        const base: UiRequestRow = byId.get(it.id) ?? {
          id: it.id,
          org: "",
          receivedAt: it.receivedAt,
          dueAt: it.dueAt,
          expedited: it.expedited,
          status: "awaiting-review",
          overdue: it.overdue,
          hoursLeft: 0,
          engineOutcome: it.engineOutcome,
          medicalDirectorOnly: it.medicalDirectorOnly,
          version: 0,
          channel: "api",
          codes: [],
        };
        // The queue API's answer is fresh: it wins over the cached row where both have a field.
        const row: Row = {
          ...base,
          engineOutcome: it.engineOutcome,
          medicalDirectorOnly: it.medicalDirectorOnly,
          overdue: it.overdue,
          dueAt: it.dueAt,
          fetchedAt,
        };
        if (it.codes?.length) row.codes = it.codes;
        if (it.memberName !== undefined) row.memberName = it.memberName;
        if (it.memberId !== undefined) row.memberId = it.memberId;
        if (it.providerName !== undefined) row.providerName = it.providerName;
        if (it.providerNpi !== undefined) row.providerNpi = it.providerNpi;
        if (it.recommendation !== undefined) row.recommendation = it.recommendation;
        if (it.minutesLeft !== undefined) row.minutesLeft = it.minutesLeft;
        if (it.assignee) row.assignee = it.assignee;
        if (it.infoRequested !== undefined) row.infoRequested = it.infoRequested;
        return row;
      })
      .sort((a, b) => a.dueAt.localeCompare(b.dueAt) || a.receivedAt.localeCompare(b.receivedAt));
  };

  let rows = await load();
  const searchBox = h("div", { class: "queue-search" });
  const filtersBox = h("div", { class: "filters-more" });
  const tableBox = h("div", { class: "table-wrap queue-wrap" });
  const summary = h("p", { class: "summary", "aria-live": "polite" });
  const formError = h("p", { class: "form-error", role: "alert" });
  const section = h("section", { class: "queue" });

  const syncUrl = () => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(f)) if (v && !(k === "scope" && v === "queue")) params.set(k, v);
    const s = params.toString();
    history.replaceState(null, "", `#/queue${s ? `?${s}` : ""}`);
  };

  /** Reloads after a search, an assignee filter or an assignment; keeps focus where it was. */
  let loadSeq = 0;
  const reload = async (focusId?: string) => {
    const seq = ++loadSeq;
    try {
      const next = await load();
      if (seq !== loadSeq) return; // A later search won.
      rows = next;
      formError.textContent = "";
      draw();
      // The control may be gone (an assignment under the Unassigned filter): then the heading.
      if (focusId) (document.getElementById(focusId) ?? section.querySelector<HTMLElement>("h1"))?.focus();
    } catch (err) {
      if (seq === loadSeq) formError.textContent = err instanceof Error ? err.message : String(err);
    }
  };

  const assign = async (r: Row, to: Assignee | null, button: HTMLButtonElement) => {
    button.disabled = true;
    try {
      await api(`/api/requests/${encodeURIComponent(r.id)}/assign`, {
        method: "POST",
        body: { assignee: to },
      });
      app.announce(
        to ? `Request ${shortId(r.id)} is assigned to you.` : `Request ${shortId(r.id)} is unassigned.`,
      );
      await reload(`assign-${r.id}`);
    } catch (err) {
      button.disabled = false;
      formError.textContent =
        err instanceof ApiError ? `Could not assign request ${shortId(r.id)}: ${err.message}` : String(err);
    }
  };

  const assigneeCell = (r: Row): HTMLElement => {
    const mine = r.assignee !== undefined && r.assignee.sub === me?.sub;
    const open = r.status === "awaiting-review";
    let button: HTMLButtonElement | null = null;
    if (canAssign && open && me) {
      button = h(
        "button",
        {
          type: "button",
          class: "btn btn-small",
          id: `assign-${r.id}`,
          // The visible words first (WCAG 2.5.3, speech input), then which request.
          "aria-label": mine
            ? `Unassign: request ${shortId(r.id)}`
            : `Assign to me: request ${shortId(r.id)}`,
        },
        mine ? "Unassign" : "Assign to me",
      );
      const b = button;
      b.addEventListener("click", () => void assign(r, mine ? null : { sub: me.sub, name: me.name }, b));
    }
    return h(
      "td",
      { class: "assignee" },
      r.assignee
        ? h("span", { class: "assignee-name" }, mine ? `${r.assignee.name} (you)` : r.assignee.name)
        : h("span", { class: "muted" }, "Unassigned"),
      button,
    );
  };

  const row = (r: Row): HTMLTableRowElement => {
    const due = h("td", { class: "due" });
    fillDue(due, r, Date.now());
    const classes = [r.overdue ? "overdue" : "", r.expedited ? "is-expedited" : ""].filter(Boolean);
    return h(
      "tr",
      { class: classes.join(" "), "data-id": r.id, ...(r.expedited && { "data-expedited": "true" }) },
      due,
      h(
        "td",
        { class: "req" },
        h(
          "a",
          { href: `#/requests/${encodeURIComponent(r.id)}`, class: "mono req-link", title: r.id },
          `Request ${shortId(r.id)}`,
        ),
        h(
          "span",
          { class: "req-badges" },
          r.expedited ? h("span", { class: "badge badge-expedited" }, "Expedited") : null,
          r.infoRequested ? h("span", { class: "badge badge-info" }, "Info requested") : null,
          r.recommendation
            ? h(
                "span",
                { class: `badge badge-recommended outcome-${r.recommendation}` },
                `Recommended: ${(OUTCOME_LABEL[r.recommendation as keyof typeof OUTCOME_LABEL] ?? r.recommendation).toLowerCase()}`,
              )
            : null,
          r.medicalDirectorOnly
            ? h("span", { class: "badge badge-md", title: "For a medical director to decide" }, "MD only")
            : null,
          r.channel === "fhir-pas"
            ? h("span", { class: "badge badge-fhir", title: "Submitted through the FHIR PAS API" }, "FHIR")
            : null,
        ),
      ),
      h(
        "td",
        { class: "member" },
        r.memberName ? h("span", { class: "line strong" }, r.memberName) : h("span", { class: "muted" }, "—"),
        r.memberId ? h("span", { class: "sub mono" }, `ID ${r.memberId}`) : null,
        r.memberState ? h("span", { class: "sub" }, `State ${r.memberState}`) : null,
      ),
      h(
        "td",
        { class: "provider" },
        r.providerName ? h("span", { class: "line" }, r.providerName) : null,
        r.providerNpi
          ? h("span", { class: "sub mono" }, `NPI ${r.providerNpi}`)
          : r.providerName
            ? null
            : h("span", { class: "muted" }, "—"),
      ),
      h(
        "td",
        { class: "codes" },
        h("span", { class: "line mono" }, r.codes.join(", ") || "—"),
        r.policy
          ? h(
              "span",
              { class: "sub muted small" },
              h("span", { class: "mono" }, r.policy.id),
              ` ${r.policy.version}${r.policy.section ? ` §${r.policy.section}` : ""}`,
            )
          : null,
      ),
      h(
        "td",
        null,
        r.status === "decided" && r.decisionOutcome
          ? [outcomeBadge(r.decisionOutcome), h("span", { class: "muted small" }, " signed")]
          : outcomeBadge(r.engineOutcome),
      ),
      assigneeCell(r),
      h("td", { class: "small" }, dateTime(r.receivedAt)),
    );
  };

  const drawFilters = () => {
    const distinct = (xs: (string | undefined)[]) => [...new Set(xs.filter((x): x is string => !!x))].sort();
    const policies = distinct(rows.map((r) => r.policy?.id));
    const states = distinct(rows.map((r) => r.memberState));
    const outcomes = distinct(rows.map((r) => r.engineOutcome));
    const set = (k: Exclude<keyof Filters, "assignee">) => (v: string) => {
      f[k] = v;
      syncUrl();
      if (k === "scope") void reload(`f-${k}`);
      else {
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
  };

  const draw = () => {
    drawFilters();
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
      (shown.length !== rows.length ? ` (of ${rows.length})` : "") +
      (q ? ` matching “${q}”` : "");
    replace(
      tableBox,
      shown.length === 0
        ? h(
            "p",
            { class: "empty" },
            f.scope === "queue" && !q && !f.assignee
              ? "Nothing is waiting for review."
              : "No requests match.",
          )
        : stackable(
            h(
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
                  h("th", { scope: "col" }, "Member"),
                  h("th", { scope: "col" }, "Provider"),
                  h("th", { scope: "col" }, "Codes"),
                  h("th", { scope: "col" }, "Recommendation"),
                  h("th", { scope: "col" }, "Assignee"),
                  h("th", { scope: "col" }, "Received"),
                ),
              ),
              h("tbody", null, shown.map(row)),
            ),
          ),
    );
  };

  // Search and assignee: built once, so typing never loses focus when the rows are redrawn.
  const searchInput = h("input", {
    type: "search",
    id: "q",
    name: "q",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "Request id, member, provider or NPI",
    "aria-describedby": "q-hint",
  });
  let debounce = 0;
  searchInput.addEventListener("input", () => {
    window.clearTimeout(debounce);
    debounce = window.setTimeout(() => {
      q = searchInput.value.trim().slice(0, 200);
      void reload();
    }, 250);
  });
  replace(
    searchBox,
    h(
      "div",
      { class: "field field-grow" },
      h("label", { for: "q" }, "Search"),
      searchInput,
      h("span", { class: "hint", id: "q-hint" }, "Request id, member name or id, provider name or NPI."),
    ),
    select("f-assignee", "Assignee", f.assignee, ASSIGNEES, (v) => {
      f.assignee = v;
      syncUrl();
      void reload("f-assignee");
    }),
    h("button", { type: "submit", class: "btn" }, "Search"),
  );
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": "Search and filter the queue",
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        window.clearTimeout(debounce);
        q = searchInput.value.trim().slice(0, 200);
        void reload();
      },
    },
    searchBox,
    filtersBox,
  );
  draw();

  // The countdown moves every minute, in place (no redraw: focus and scroll stay); stops with the view.
  const timer = window.setInterval(() => {
    if (!section.isConnected) {
      window.clearInterval(timer);
      return;
    }
    const now = Date.now();
    for (const r of rows) {
      const td = tableBox.querySelector<HTMLElement>(`tr[data-id="${CSS.escape(r.id)}"] td.due`);
      if (!td) continue;
      fillDue(td, r, now);
      // A request that just passed its due time turns red as a whole.
      td.parentElement?.classList.toggle("overdue", td.dataset.overdue === "true");
    }
  }, 60_000);

  replace(
    section,
    h(
      "div",
      { class: "page-head" },
      h("h1", { tabindex: "-1" }, "Review queue"),
      h(
        "p",
        { class: "muted" },
        "Soonest due first: 72 hours for expedited requests, 7 days for standard ones, from receipt.",
      ),
    ),
    form,
    formError,
    summary,
    tableBox,
  );
  return section;
}
