/**
 * The policy browser (SPEC 1.3, 1.4, 4; issue 6): every policy, variant and version with its status;
 * one version's criteria tree, lint findings, code tables and revision log; and the semantic diff of
 * two versions or variants, drawn as a redline (the LA redline 2024-02 → 2025-02, NC vs corporate).
 */
import { getDiff, getLint, getPolicies, type LintFinding, type VersionSummary } from "../api.js";
import { h, replace, stackable } from "../dom.js";
import { loadPolicy } from "../engine.js";
import { day } from "../format.js";
import type { App } from "../main.js";
import type { CriterionNode, PolicyDiff, PolicyVersion, UiPolicy } from "../types.js";

const STATUS_TEXT: Record<VersionSummary["status"], string> = {
  effective: "In force",
  superseded: "Superseded",
  draft: "Draft",
  future: "Future",
};

function statusBadge(s: VersionSummary["status"]): HTMLSpanElement {
  return h("span", { class: `badge vstatus-${s}` }, STATUS_TEXT[s]);
}

const refOf = (v: Pick<VersionSummary, "id" | "version">) => `${v.id}@${v.version}`;
const policyHref = (ref: string, tab?: string) =>
  `#/policies/${encodeURIComponent(ref)}${tab ? `?tab=${tab}` : ""}`;
const diffHref = (a: string, b: string) => `#/diff?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`;

/** Useful comparisons: consecutive versions of each policy, and each state variant against its corporate policy. */
function presets(all: VersionSummary[]): { a: string; b: string; label: string }[] {
  const out: { a: string; b: string; label: string }[] = [];
  const ids = [...new Set(all.map((v) => v.id))];
  for (const id of ids) {
    const vs = all.filter((v) => v.id === id).sort((x, y) => x.version.localeCompare(y.version));
    for (let i = 1; i < vs.length; i++) {
      const redline = vs[i]!.status === "draft" ? " (redline proposal)" : "";
      out.push({
        a: refOf(vs[i - 1]!),
        b: refOf(vs[i]!),
        label: `${id}: ${vs[i - 1]!.version} → ${vs[i]!.version}${redline}`,
      });
    }
  }
  for (const id of ids) {
    const v = all.filter((x) => x.id === id);
    const variant = v.find((x) => x.status === "effective") ?? v.at(-1)!;
    if (!variant.state) continue;
    const corp =
      all.find((x) => x.id === variant.baseId && x.status === "effective") ??
      all.filter((x) => x.id === variant.baseId).at(-1);
    if (corp)
      out.push({
        a: refOf(corp),
        b: refOf(variant),
        label: `${variant.state} variant vs corporate: ${refOf(corp)} → ${refOf(variant)}`,
      });
  }
  return out;
}

function comparePicker(app: App, all: VersionSummary[], a?: string, b?: string): HTMLElement {
  const options = (selected?: string) =>
    all.map((v) =>
      h(
        "option",
        { value: refOf(v), ...(refOf(v) === selected && { selected: true }) },
        `${refOf(v)} (${STATUS_TEXT[v.status].toLowerCase()})`,
      ),
    );
  return h(
    "form",
    {
      class: "compare",
      "aria-label": "Compare two versions",
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        const fd = new FormData(ev.currentTarget as HTMLFormElement);
        app.navigate(diffHref(String(fd.get("a")), String(fd.get("b"))));
      },
    },
    h(
      "div",
      { class: "field" },
      h("label", { for: "cmp-a" }, "From"),
      h("select", { id: "cmp-a", name: "a" }, options(a ?? refOf(all[0]!))),
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: "cmp-b" }, "To"),
      h("select", { id: "cmp-b", name: "b" }, options(b ?? refOf(all.at(-1)!))),
    ),
    h("button", { type: "submit", class: "btn btn-primary" }, "Compare"),
  );
}

/** `#/policies`: the library, and comparisons to open. */
export async function policiesView(app: App): Promise<Node> {
  const all = await getPolicies();
  const bases = [...new Set(all.map((v) => v.baseId))];
  return h(
    "section",
    { class: "policies" },
    h(
      "div",
      { class: "page-head" },
      h("h1", null, "Policies"),
      h(
        "p",
        { class: "muted" },
        "Every policy, state variant and version in the library, with the version in force today.",
      ),
    ),
    bases.map((base) => {
      const rows = all.filter((v) => v.baseId === base);
      return h(
        "section",
        { class: "panel" },
        h("h2", null, h("span", { class: "mono" }, base), " ", h("span", { class: "muted" }, rows[0]!.title)),
        stackable(
          h(
            "table",
            { class: "table policies-table" },
            h(
              "thead",
              null,
              h(
                "tr",
                null,
                ["Policy", "Plan", "Version", "Status", "Effective", "Approved", "Hash", ""].map((c) =>
                  h("th", { scope: "col" }, c),
                ),
              ),
            ),
            h(
              "tbody",
              null,
              rows.map((v) =>
                h(
                  "tr",
                  null,
                  h("td", null, h("a", { href: policyHref(refOf(v)), class: "mono" }, v.id)),
                  h("td", null, v.state ? `${v.state} · ${v.plan}` : v.plan),
                  h("td", { class: "mono" }, v.version),
                  h("td", null, statusBadge(v.status)),
                  h("td", null, day(v.effective)),
                  h("td", null, v.approved ? day(v.approved) : h("span", { class: "muted" }, "not approved")),
                  h("td", { class: "mono small", title: v.hash }, v.hash.slice(0, 10)),
                  h(
                    "td",
                    { class: "row-actions" },
                    h("a", { href: policyHref(refOf(v)) }, "Criteria"),
                    h("a", { href: policyHref(refOf(v), "lint") }, "Lint"),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    }),
    h(
      "section",
      { class: "panel" },
      h("h2", null, "Compare versions and variants"),
      h(
        "ul",
        { class: "presets" },
        presets(all).map((p) => h("li", null, h("a", { href: diffHref(p.a, p.b) }, p.label))),
      ),
      comparePicker(app, all),
    ),
  );
}

// ---- One version ----

const LOGIC: Record<string, string> = { all: "All of", any: "Any of", none: "None of" };

function kindAt(v: PolicyVersion | undefined, id: string): string | undefined {
  let found: string | undefined;
  const walk = (n: CriterionNode) => {
    if (n.id === id) found = n.kind;
    if (n.kind !== "leaf" && n.kind !== "ref") n.children.forEach(walk);
  };
  for (const s of v?.sections ?? []) if (s.tree) walk(s.tree);
  return found;
}

function staticNode(n: CriterionNode, ui: UiPolicy, lint: Map<string, LintFinding[]>): HTMLLIElement {
  const findings = lint.get(n.id) ?? [];
  const corrected =
    ui.evaluated && n.kind !== "leaf" && n.kind !== "ref" ? kindAt(ui.evaluated, n.id) : undefined;
  const logic = n.kind === "atLeast" ? `At least ${n.n} of` : n.kind === "ref" ? "Refers to" : LOGIC[n.kind];
  const children = n.kind === "leaf" || n.kind === "ref" ? [] : n.children;
  return h(
    "li",
    { class: `node kind-${n.kind}`, "data-id": n.id },
    h(
      "div",
      { class: "node-row" },
      h("span", { class: "node-id mono" }, n.id),
      n.kind !== "ref" && n.label !== n.id.split(".").at(-1)
        ? h("span", { class: "muted small", title: "Printed label" }, `printed “${n.label}”`)
        : null,
      logic ? h("span", { class: `logic logic-${n.kind}` }, logic) : null,
      h("span", { class: "node-text" }, n.kind === "ref" ? `${n.text} (section ${n.target})` : n.text),
      corrected && corrected !== n.kind
        ? h(
            "span",
            { class: "chip chip-correction" },
            `read as “${LOGIC[corrected] ?? corrected}” (authored correction)`,
          )
        : null,
      findings.map((f) => h("span", { class: `chip lint-${f.severity}`, title: f.message }, f.code)),
    ),
    n.kind !== "leaf" && n.kind !== "ref" && n.condition
      ? h(
          "p",
          { class: "condition" },
          h("span", { class: "logic logic-condition" }, "Condition"),
          ` ${n.condition}`,
        )
      : null,
    n.kind !== "ref" && n.note
      ? h(
          "p",
          { class: "note" },
          h("span", { class: "logic logic-note" }, `Note ${n.note.marker}`),
          ` ${n.note.text} `,
          h(
            "span",
            { class: "muted small" },
            n.note.effect === "review"
              ? `(when it holds: medical-director review; answer at ${n.note.id})`
              : "",
          ),
        )
      : null,
    children.length
      ? h(
          "ul",
          { class: "tree" },
          children.map((c) => staticNode(c, ui, lint)),
        )
      : null,
  );
}

function lintTable(findings: LintFinding[]): HTMLElement {
  if (findings.length === 0) return h("p", { class: "empty" }, "No findings.");
  return stackable(
    h(
      "table",
      { class: "table lint-table" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["Severity", "Finding", "Criterion", "Line", "Message"].map((c) => h("th", { scope: "col" }, c)),
        ),
      ),
      h(
        "tbody",
        null,
        findings.map((f) =>
          h(
            "tr",
            null,
            h("td", null, h("span", { class: `chip lint-${f.severity}` }, f.severity)),
            h("td", { class: "mono" }, f.code),
            h("td", { class: "mono" }, f.criterion ?? ""),
            h("td", null, f.line !== undefined ? String(f.line) : ""),
            h("td", null, f.message),
          ),
        ),
      ),
    ),
  );
}

/** `#/policies/ID@VERSION?tab=criteria|lint|codes|log`. */
export async function policyView(_app: App, params: string[], query: URLSearchParams): Promise<Node> {
  const ref = params[0]!;
  const tab = query.get("tab") ?? "criteria";
  const [loaded, lint, all] = await Promise.all([loadPolicy(ref), getLint(ref), getPolicies()]);
  const ui = loaded.ui;
  const p = ui.policy;
  const id = p.identity;
  const byCriterion = new Map<string, LintFinding[]>();
  for (const f of lint.findings)
    if (f.criterion) byCriterion.set(f.criterion, [...(byCriterion.get(f.criterion) ?? []), f]);
  const family = all.filter((v) => v.baseId === id.baseId);
  const tabs: [string, string][] = [
    ["criteria", "Criteria"],
    ["lint", `Lint (${lint.findings.length})`],
    ["codes", "Codes"],
    ["log", "Revision log"],
  ];
  let body: Node;
  if (tab === "lint") body = lintTable(lint.findings);
  else if (tab === "codes") {
    body = h(
      "div",
      null,
      p.codeTables.map((t) =>
        h(
          "section",
          { class: "code-table" },
          h(
            "h3",
            null,
            t.heading ?? t.system,
            " ",
            h("span", { class: `chip cov-${t.coverage}` }, t.coverage.replace(/-/g, " ")),
          ),
          stackable(
            h(
              "table",
              { class: "table" },
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  h("th", { scope: "col" }, t.system),
                  h("th", { scope: "col" }, "Description"),
                  h("th", { scope: "col" }, "Bound to"),
                ),
              ),
              h(
                "tbody",
                null,
                t.rows.map((r) => {
                  const b = ui.codes.find((c) => c.codes.includes(r.code));
                  return h(
                    "tr",
                    null,
                    h("td", { class: "mono" }, r.code, r.marker ?? ""),
                    h("td", null, r.description),
                    h(
                      "td",
                      null,
                      b
                        ? "section" in b
                          ? `section ${b.section}${b.otherwise ? ` (else ${b.otherwise})` : ""}`
                          : "coding only"
                        : "",
                    ),
                  );
                }),
              ),
            ),
          ),
        ),
      ),
      p.codeMarkers.map((m) => h("p", { class: "muted" }, `${m.marker} ${m.text}`)),
      p.crossReferences.length
        ? h(
            "section",
            null,
            h("h3", null, "Cross-references"),
            h(
              "ul",
              null,
              p.crossReferences.map((x) => h("li", null, x.text)),
            ),
          )
        : null,
    );
  } else if (tab === "log") {
    body = stackable(
      h(
        "table",
        { class: "table" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            ["Revision", "Description", "Approved", "Effective"].map((c) => h("th", { scope: "col" }, c)),
          ),
        ),
        h(
          "tbody",
          null,
          p.revisionLog.map((r) =>
            h(
              "tr",
              null,
              h("td", { class: "mono" }, r.revision),
              h("td", null, r.description),
              h("td", null, day(r.approved)),
              h("td", null, day(r.effective)),
            ),
          ),
        ),
      ),
    );
  } else {
    body = h(
      "div",
      { class: "policy-tree" },
      p.sections.map((s) =>
        h(
          "section",
          { class: "policy-section" },
          h(
            "h3",
            null,
            h("span", { class: "mono" }, `${s.id}.`),
            " ",
            h(
              "span",
              { class: `chip sec-${s.kind}` },
              s.kind === "medically-necessary"
                ? "medically necessary when"
                : s.kind === "not-proven"
                  ? "not proven"
                  : s.kind === "uncertain"
                    ? "uncertain: decided by review"
                    : "other",
            ),
          ),
          // The root carries the section's lead-in and logic (and an authored correction of it, if any).
          s.tree
            ? h("ul", { class: "tree tree-root" }, staticNode(s.tree, ui, byCriterion))
            : h("p", null, s.text),
        ),
      ),
    );
  }
  return h(
    "section",
    { class: "policy" },
    h(
      "p",
      { class: "crumbs" },
      h("a", { href: "#/policies" }, "Policies"),
      " / ",
      h("span", { class: "mono" }, ui.ref),
    ),
    h(
      "div",
      { class: "page-head" },
      h("h1", null, `${id.id} ${id.version}`),
      h("p", { class: "lede" }, id.title),
      h(
        "div",
        { class: "head-badges" },
        statusBadge(ui.status),
        h(
          "span",
          { class: "muted small" },
          `${id.state ? `${id.state} · ` : ""}${id.plan} · effective ${day(id.effective)} · ${id.approved ? `approved ${day(id.approved)}` : "not approved (draft)"}${id.redline ? ` · redline ${id.redline}` : ""}`,
        ),
        h("span", { class: "mono small muted", title: p.hash }, `sha256 ${p.hash.slice(0, 12)}…`),
      ),
      h(
        "nav",
        { class: "versions", "aria-label": "Versions and variants" },
        h("span", { class: "muted small" }, "Versions and variants: "),
        family.map((v) =>
          refOf(v) === ui.ref
            ? h("span", { class: "chip chip-current", "aria-current": "page" }, refOf(v))
            : h("a", { class: "chip", href: policyHref(refOf(v), tab) }, refOf(v)),
        ),
      ),
    ),
    h(
      "nav",
      { class: "tabs", "aria-label": "Policy views" },
      tabs.map(([k, label]) =>
        h(
          "a",
          {
            href: policyHref(ui.ref, k),
            class: k === tab ? "tab current" : "tab",
            ...(k === tab && { "aria-current": "page" }),
          },
          label,
        ),
      ),
    ),
    h("div", { class: "panel" }, body),
  );
}

// ---- Diff ----

/** Word-level redline of two texts (longest common subsequence of words). */
export function redline(before: string, after: string): Node[] {
  const a = before.split(/(\s+)/).filter((w) => w.length > 0);
  const b = after.split(/(\s+)/).filter((w) => w.length > 0);
  const n = a.length;
  const m = b.length;
  const dp: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--)
      dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
  }
  const out: Node[] = [];
  let i = 0;
  let j = 0;
  const push = (tag: "del" | "ins" | null, w: string) =>
    out.push(tag ? h(tag, null, w) : document.createTextNode(w));
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      push(null, a[i]!);
      i++;
      j++;
    } else if (dp[i + 1]![j]! >= dp[i]![j + 1]!) push("del", a[i++]!);
    else push("ins", b[j++]!);
  }
  while (i < n) push("del", a[i++]!);
  while (j < m) push("ins", b[j++]!);
  return out;
}

interface DiffPart {
  title: string;
  id: string;
  items: Node[];
}

const li = (...c: (Node | string)[]) => h("li", null, ...c);
const mono = (t: string) => h("span", { class: "mono" }, t);

/** The semantic diff as a redline (also the authoring workbench's draft vs version in force, issue 15). */
export function renderDiff(d: PolicyDiff): HTMLElement {
  const c = d.criteria;
  const parts: DiffPart[] = [
    {
      title: "Criteria removed",
      id: "diff-removed",
      items: c.removed.map((x) =>
        h(
          "li",
          { class: "rl-removed", "data-id": x.from ?? "" },
          mono(x.from ?? ""),
          " ",
          h("del", null, x.text ?? ""),
        ),
      ),
    },
    {
      title: "Criteria added",
      id: "diff-added",
      items: c.added.map((x) =>
        h(
          "li",
          { class: "rl-added", "data-id": x.to ?? "" },
          mono(x.to ?? ""),
          " ",
          h("ins", null, x.text ?? ""),
        ),
      ),
    },
    {
      title: "Renumbered",
      id: "diff-renumbered",
      items: c.renumbered.map((x) =>
        li(
          h("span", { class: "mono" }, h("del", null, x.from ?? ""), " → ", h("ins", null, x.to ?? "")),
          " ",
          x.text ?? "",
        ),
      ),
    },
    {
      title: "Reworded",
      id: "diff-reworded",
      items: c.reworded.map((x) =>
        li(
          mono(x.from === x.to ? (x.to ?? "") : `${x.from} → ${x.to}`),
          " ",
          ...redline(x.before ?? "", x.after ?? ""),
        ),
      ),
    },
    {
      title: "Logic changed",
      id: "diff-logic",
      items: c.logic.map((x) =>
        li(mono(x.to ?? ""), " ", h("del", null, x.before ?? ""), " → ", h("ins", null, x.after ?? "")),
      ),
    },
    {
      title: "Notes changed",
      id: "diff-notes",
      items: c.notes.map((x) => li(mono(x.to ?? ""), " ", ...redline(x.before ?? "", x.after ?? ""))),
    },
    {
      title: "Sections",
      id: "diff-sections",
      items: [
        ...d.sections.added.map((x) => li(h("ins", null, `section ${x} added`))),
        ...d.sections.removed.map((x) => li(h("del", null, `section ${x} removed`))),
        ...d.sections.changed.map((x) =>
          li(mono(x.from ?? ""), " ", ...redline(x.before ?? "", x.after ?? "")),
        ),
      ],
    },
    {
      title: "Codes",
      id: "diff-codes",
      items: [
        ...d.codes.added.map((x) => li(h("ins", { class: "mono" }, x), " added")),
        ...d.codes.removed.map((x) => li(h("del", { class: "mono" }, x), " removed")),
        ...d.codes.changed.map((x) =>
          li(mono(x.code), " ", h("del", null, x.before), " → ", h("ins", null, x.after)),
        ),
      ],
    },
    {
      title: "Revision log",
      id: "diff-log",
      items: [
        ...d.revisionLog.added.map((x) => li(h("ins", null, x))),
        ...d.revisionLog.removed.map((x) => li(h("del", null, x))),
      ],
    },
    {
      title: "References",
      id: "diff-refs",
      items: [
        ...d.references.added.map((x) => li(h("ins", null, x))),
        ...d.references.removed.map((x) => li(h("del", null, x))),
      ],
    },
  ];
  const shown = parts.filter((p) => p.items.length > 0);
  const empty = parts.filter((p) => p.items.length === 0);
  return h(
    "div",
    { class: "diff" },
    h(
      "ul",
      { class: "diff-summary", "aria-label": "Summary" },
      d.summary.map((s) => h("li", null, s)),
    ),
    shown.map((p) =>
      h(
        "section",
        { class: "diff-part", id: p.id, "aria-labelledby": `${p.id}-h` },
        h("h3", { id: `${p.id}-h` }, p.title, h("span", { class: "count" }, String(p.items.length))),
        h("ul", { class: "redline" }, p.items),
      ),
    ),
    empty.length
      ? h(
          "p",
          { class: "muted small diff-none" },
          `No change in: ${empty.map((p) => p.title.toLowerCase()).join(", ")}.`,
        )
      : null,
  );
}

/** `#/diff?a=ID@VERSION&b=ID@VERSION`. */
export async function diffView(app: App, _params: string[], query: URLSearchParams): Promise<Node> {
  const all = await getPolicies();
  const a = query.get("a") ?? undefined;
  const b = query.get("b") ?? undefined;
  const result = h("div", { class: "diff-result" });
  if (a && b) replace(result, renderDiff(await getDiff(a, b)));
  else replace(result, h("p", { class: "muted" }, "Choose two versions or variants to compare."));
  return h(
    "section",
    { class: "diff-page" },
    h("p", { class: "crumbs" }, h("a", { href: "#/policies" }, "Policies"), " / compare"),
    h(
      "div",
      { class: "page-head" },
      h("h1", null, a && b ? `${a} → ${b}` : "Compare versions"),
      h(
        "p",
        { class: "muted" },
        "A semantic diff: criteria matched by their text, not their position — removed, added, renumbered, reworded, logic and notes, then codes, log and references.",
      ),
    ),
    h(
      "div",
      { class: "panel" },
      h(
        "ul",
        { class: "presets" },
        presets(all).map((p) =>
          h(
            "li",
            null,
            h(
              "a",
              { href: diffHref(p.a, p.b), ...(p.a === a && p.b === b && { "aria-current": "page" }) },
              p.label,
            ),
          ),
        ),
      ),
      comparePicker(app, all, a, b),
    ),
    h("div", { class: "panel" }, result),
  );
}
