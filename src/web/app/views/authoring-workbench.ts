/**
 * The authoring workbench (issue 15 item 5): one version of a policy in the payer's library, for its
 * author — the criteria tree beside the source text with lint's findings (a click shows the line),
 * code bindings (proposals confirmed or dismissed, authored ones edited), declared facts, predicates
 * attached to criteria, all saved as one `bindings.json` (`PUT …/bindings` with `If-Match`); cases
 * tried against the draft and the version in force side by side with the semantic diff and the
 * impact report; and publishing.
 *
 * Edits live in an editor kept per version for the session, so leaving the screen and coming back
 * keeps them; they are checked here with the model's schemas as they are made, and the server checks
 * the whole file again on save (400 shown beside the save button; 412 when someone saved meanwhile:
 * the edits stay on screen over the new base).
 */
import "../authoring.css";
import {
  ApiError,
  getAuthoringVersion,
  postAuthoringImpact,
  postAuthoringPublish,
  postAuthoringTry,
  putAuthoringBindings,
} from "../api.js";
import { type Child, h, replace, stackable } from "../dom.js";
import { dateTime, day, outcomeBadge, statusChip } from "../format.js";
import type { App } from "../main.js";
import type {
  AuthoringFinding,
  AuthoringVersion,
  CriterionNode,
  FactDecl,
  PolicyDiff,
  Status,
  TryResult,
} from "../types.js";
import {
  type BuiltTest,
  bindingsOf,
  buildTest,
  type CodeForm,
  type CriterionDifference,
  codeFormOf,
  combineTests,
  confirmProposal,
  criteriaBoundBy,
  differingCriteria,
  dismissProposal,
  type EditableBindings,
  editableBindings,
  emptyFactForm,
  errorText,
  exampleCase,
  FACT_FIELDS,
  FACT_TYPES,
  type FactForm,
  factFormOf,
  factsRead,
  inheritedFacts,
  isDetermination,
  localToday,
  operatorsFor,
  predicateText,
  putFact,
  readBindingJson,
  readCases,
  readCodeForm,
  readFactForm,
  restoreProposal,
  sameBindings,
  sectionChoices,
  sourceLines,
  vocabularyOf,
} from "./authoring-model.js";
import { dateField, field, fieldWith, option, smallButton } from "./fields.js";
import { renderDiff } from "./policies.js";

/** One row of the predicate builder, as typed. */
interface TestRow {
  fact: string;
  op: string;
  a: string;
  b: string;
  unit: string;
  negate: boolean;
}

/** Everything the author has on the workbench for one version. */
interface Editor {
  v: AuthoringVersion;
  /** The bindings as the server has them (the base of `edit`). */
  saved: EditableBindings;
  edit: EditableBindings;
  /** Whether the list of unplaced text is open (kept across re-renders while the author places it). */
  unplacedOpen?: boolean;
  /** The etag `edit` was based on: the `If-Match` of the next save. */
  etag: string;
  saveNotice?: { kind: "ok" | "warn"; text: string };
  saveError?: string;
  codeForm: CodeForm & { index?: number };
  codeErrors: Partial<Record<keyof CodeForm, string>>;
  factForm: FactForm & { previous?: string };
  factErrors: Partial<Record<keyof FactForm | "form", string>>;
  builder: {
    criterion: string;
    tests: TestRow[];
    how: "all" | "any";
    mode: "decides" | "refutes";
    why: string;
    error?: string;
  };
  json?: { index: number; text: string; error?: string; warning?: string };
  line?: number;
  tryText?: string;
  /** Whether the author typed in the cases box (else it follows the bindings' example case). */
  tryTouched?: boolean;
  tryError?: string;
  tried?: { results: TryResult[]; diff: PolicyDiff | null; cases: unknown[] };
  impact: { from: string; to: string; result?: unknown; error?: string; running?: boolean };
  publish: { effective: string; confirming: boolean; error?: string; done?: string };
}

/** Editors by `ID@VERSION`, for the tab's session: unsaved edits survive leaving the screen. */
const editors = new Map<string, Editor>();

function newEditor(v: AuthoringVersion): Editor {
  const saved = editableBindings(v);
  return {
    v,
    saved,
    edit: structuredClone(saved),
    etag: v.bindingsEtag,
    codeForm: { codes: "", section: "", otherwise: "", excludedBy: "", why: "" },
    codeErrors: {},
    factForm: emptyFactForm(),
    factErrors: {},
    builder: { criterion: "", tests: [], how: "all", mode: "decides", why: "" },
    impact: { from: "", to: "" },
    publish: { effective: v.policy.identity.effective ?? "", confirming: false },
  };
}

const dirty = (ed: Editor) => !sameBindings(ed.edit, ed.saved);

/** Takes a fresh read of the version as the base; the author's edits stay unless there are none. */
function rebase(ed: Editor, v: AuthoringVersion, adoptEtag: boolean): void {
  const wasDirty = dirty(ed);
  ed.v = v;
  ed.saved = editableBindings(v);
  if (!wasDirty) ed.edit = structuredClone(ed.saved);
  if (adoptEtag || !wasDirty) ed.etag = v.bindingsEtag;
}

const SECTION_KIND: Record<string, string> = {
  "medically-necessary": "medically necessary when",
  "not-proven": "not proven",
  uncertain: "uncertain: decided by review",
  other: "other",
};

const LOGIC: Record<string, string> = { all: "All of", any: "Any of", none: "None of", atLeast: "At least" };

/**
 * A row's Edit and Remove buttons (`id` with `%` for `edit`/`remove`; `what` names the row for screen
 * readers); Remove is disabled, saying why, when `cannotRemove` is given.
 */
function editRemove(
  id: string,
  what: string,
  onEdit: () => void,
  onRemove: () => void,
  cannotRemove?: string,
): Child[] {
  return [
    smallButton({ id: id.replace("%", "edit"), "aria-label": `Edit ${what}`, onclick: onEdit }, "Edit"),
    " ",
    smallButton(
      {
        id: id.replace("%", "remove"),
        "aria-label": `Remove ${what}`,
        ...(cannotRemove !== undefined && { disabled: true, title: cannotRemove }),
        onclick: onRemove,
      },
      "Remove",
    ),
  ];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** `#/authoring/ID/VERSION`: the workbench. */
export async function authoringVersionView(app: App, params: string[]): Promise<Node> {
  const [id, version] = params as [string, string];
  const v = await getAuthoringVersion(id, version);
  const ref = `${id}@${version}`;
  let ed = editors.get(ref);
  if (ed) rebase(ed, v, false);
  else {
    ed = newEditor(v);
    editors.set(ref, ed);
  }
  return workbench(app, ed);
}

function workbench(app: App, ed: Editor): HTMLElement {
  const id = ed.v.id;
  const version = ed.v.version;
  const panels = {
    head: h("div", { class: "page-head" }),
    save: h("div", { class: "au-savebar", role: "region", "aria-label": "Saving the bindings" }),
    saveMsg: h("div", { class: "au-save-msg" }),
    tree: h("div", { class: "au-tree" }),
    source: h("div", {
      class: "au-source",
      id: "au-source",
      tabindex: "0",
      role: "region",
      "aria-label": "Source text, with line numbers",
    }),
    report: h("div", { class: "au-report" }),
    codes: h("section", { class: "panel au-panel", id: "au-codes", "aria-labelledby": "au-codes-h" }),
    facts: h("section", { class: "panel au-panel", id: "au-facts", "aria-labelledby": "au-facts-h" }),
    preds: h("section", { class: "panel au-panel", id: "au-preds", "aria-labelledby": "au-preds-h" }),
    try: h("section", { class: "panel au-panel", id: "au-try", "aria-labelledby": "au-try-h" }),
    publish: h("section", { class: "panel au-panel", id: "au-publish", "aria-labelledby": "au-publish-h" }),
  };
  type PanelName = keyof typeof panels;

  const vocabulary = () => vocabularyOf(ed.edit, inheritedFacts(ed.v));
  const criteria = () => ed.v.criteria;
  const sectionIds = () => ed.v.policy.sections.map((s) => s.id);

  /**
   * Re-renders panels. Focus goes to `target` when given and there (what the action leads to: the
   * form opened, the field in error, the message); else it stays on the control that had it (same
   * id); when that control is gone (a row removed), it goes to the first re-rendered panel's heading.
   */
  const refresh = (panelNames: PanelName[], target?: string) => {
    // The save bar and its message go together.
    const names: PanelName[] = panelNames.includes("save") ? [...panelNames, "saveMsg"] : panelNames;
    const active = document.activeElement as HTMLElement | null;
    const focusId = active && active !== document.body ? active.id : "";
    for (const n of names) replace(panels[n], render[n]());
    const usable = (el: HTMLElement | null) => (el && !(el as HTMLButtonElement).disabled ? el : null);
    const wanted = usable(target ? document.getElementById(target) : null);
    const el =
      wanted ||
      usable(focusId ? document.getElementById(focusId) : null) ||
      (active && !active.isConnected ? panels[names[0]!].querySelector<HTMLElement>("h2") : null);
    if (el && el !== document.activeElement) {
      // A heading or a message takes focus only programmatically.
      if (!el.matches("a[href], button, input, select, textarea, [tabindex]"))
        el.setAttribute("tabindex", "-1");
      el.focus({ preventScroll: !wanted });
    }
  };
  /** After an edit of the bindings: everything that shows them. */
  const changed = (fallback?: string) =>
    refresh(["save", "tree", "report", "codes", "facts", "preds", "try", "publish"], fallback);
  /** Removes the `i`th of a list of the bindings (edited as a copy, as every edit), says so, shows it. */
  const removeAt = (list: "codes" | "facts" | "predicates", i: number, said: string, focus: string) => {
    const next = structuredClone(ed.edit);
    next[list].splice(i, 1);
    ed.edit = next;
    app.announce(said);
    changed(focus);
  };

  // ---- Source and tree ----

  const lines = sourceLines(ed.v.sourceText);
  const lineEls: HTMLElement[] = [];
  const criterionLines = new Map<number, string[]>();
  for (const c of ed.v.criteria) criterionLines.set(c.line, [...(criterionLines.get(c.line) ?? []), c.id]);

  /** Highlights line `n` of the source and scrolls it into view. */
  const showLine = (n: number, what?: string) => {
    const prev = ed.line !== undefined ? lineEls[ed.line - 1] : undefined;
    prev?.classList.remove("is-highlighted");
    prev?.removeAttribute("aria-current");
    const el = lineEls[n - 1];
    if (!el) {
      app.announce(`Line ${n} is not in the source text.`);
      return;
    }
    ed.line = n;
    el.classList.add("is-highlighted");
    el.setAttribute("aria-current", "true");
    el.scrollIntoView({ block: "center", behavior: "auto" });
    app.announce(`${what ? `${what}: ` : ""}line ${n} of the source: ${lines[n - 1] ?? ""}`);
  };

  const lineButton = (n: number | undefined, label?: string) =>
    n === undefined
      ? null
      : h(
          "button",
          {
            type: "button",
            class: "btn-link au-goto",
            "data-line": n,
            onclick: () => showLine(n, label),
          },
          `line ${n}`,
        );

  const renderSource = (): Child[] => {
    lineEls.length = 0;
    const out = lines.map((text, i) => {
      const n = i + 1;
      const ids = criterionLines.get(n);
      const el = h(
        "div",
        {
          class: `au-line${ids ? " is-criterion" : ""}${ed.line === n ? " is-highlighted" : ""}`,
          id: `au-L${n}`,
          "data-line": n,
          ...(ids && { title: `Criterion ${ids.join(", ")}` }),
          ...(ed.line === n && { "aria-current": "true" }),
        },
        h("span", { class: "au-ln", "aria-hidden": "true" }, String(n)),
        h("span", { class: "au-lt" }, text === "" ? " " : text),
      );
      lineEls.push(el);
      return el;
    });
    return out;
  };

  const findingsByCriterion = () => {
    const m = new Map<string, AuthoringFinding[]>();
    for (const f of ed.v.findings) if (f.criterion) m.set(f.criterion, [...(m.get(f.criterion) ?? []), f]);
    return m;
  };
  const differing = () => {
    const ids = new Set<string>();
    for (const r of ed.tried?.results ?? [])
      if (isDetermination(r.draft) && isDetermination(r.inForce))
        for (const d of differingCriteria(r.draft, r.inForce)) ids.add(d.id);
    return ids;
  };

  const renderTree = (): Child[] => {
    const byId = new Map(ed.v.criteria.map((c) => [c.id, c]));
    const lint = findingsByCriterion();
    const diff = differing();
    /** The facts the edited predicates bind to criterion `cid` read. */
    const factsOf = (cid: string): string[] => {
      const c = byId.get(cid);
      if (!c) return [];
      const idx = bindingsOf(c, ed.edit.predicates);
      return [...factsRead({ predicates: idx.map((i) => ed.edit.predicates[i]!) })];
    };
    const nodeButton = (cid: string, line: number, label: Child[]) =>
      h(
        "button",
        {
          type: "button",
          class: `au-node${diff.has(cid) ? " is-different" : ""}`,
          "data-id": cid,
          "data-line": line,
          onclick: () => showLine(line, `Criterion ${cid}`),
        },
        label,
      );
    const chips = (cid: string) => [
      factsOf(cid).map((f) =>
        h("span", { class: "chip au-fact-chip", title: `Decided by the fact ${f}` }, `fact ${f}`),
      ),
      (lint.get(cid) ?? []).map((f) =>
        h("span", { class: `chip lint-${f.severity}`, title: f.message }, f.code),
      ),
      diff.has(cid) ? h("span", { class: "chip au-diff-chip" }, "differs in the last try") : null,
    ];
    const node = (n: CriterionNode): HTMLElement => {
      if (n.kind === "ref")
        return h(
          "li",
          { class: "au-tnode" },
          nodeButton(n.id, n.line, [
            h("span", { class: "mono" }, n.id),
            ` refers to section ${n.target}: ${n.text}`,
          ]),
        );
      const group = n.kind !== "leaf" ? n : undefined;
      const logic = group
        ? group.kind === "atLeast"
          ? `At least ${group.n} of`
          : LOGIC[group.kind]
        : undefined;
      return h(
        "li",
        { class: `au-tnode kind-${n.kind}` },
        h(
          "div",
          { class: "au-node-row" },
          nodeButton(n.id, n.line, [
            h("span", { class: "mono au-node-id" }, n.id),
            " ",
            logic ? h("span", { class: `logic logic-${n.kind}` }, logic) : null,
            logic ? " " : null,
            h("span", { class: "au-node-text" }, n.text || "(no lead-in)"),
          ]),
          chips(n.id),
        ),
        group?.condition
          ? h(
              "div",
              { class: "au-node-row au-cond" },
              h("span", { class: "logic logic-condition" }, "Condition"),
              " ",
              h("span", null, group.condition),
              chips(n.id),
            )
          : null,
        n.note
          ? h(
              "div",
              { class: "au-node-row au-note" },
              nodeButton(n.note.id, n.note.line, [
                h("span", { class: "logic logic-note" }, `Note ${n.note.marker}`),
                " ",
                h("span", null, n.note.condition || n.note.text),
              ]),
              chips(n.note.id),
            )
          : null,
        group?.children.length
          ? h(
              "ul",
              { class: "au-tlist" },
              group.children.map((c) => node(c)),
            )
          : null,
      );
    };
    return [
      h("h3", { class: "au-subh" }, "Criteria"),
      ed.v.policy.sections.map((s) =>
        h(
          "section",
          { class: "au-section", "aria-label": `Section ${s.id}` },
          h(
            "h4",
            null,
            nodeButton(s.id, s.line, [
              h("span", { class: "mono" }, `${s.id}.`),
              " ",
              h("span", { class: `chip sec-${s.kind}` }, SECTION_KIND[s.kind] ?? s.kind),
            ]),
          ),
          s.tree ? h("ul", { class: "au-tlist au-troot" }, node(s.tree)) : h("p", { class: "small" }, s.text),
        ),
      ),
    ];
  };

  type UnplacedLine = { line: number; text: string };
  const norm = (t: string) => t.replace(/\s+/g, " ").trim();
  const placementOf = (u: UnplacedLine) =>
    (ed.edit.placements ?? []).find(
      (p) =>
        p.line === u.line &&
        (!p.versions || p.versions.includes(version)) &&
        norm(u.text).startsWith(norm(p.text)),
    );
  /** Sets (or clears, with "") the placement of an unplaced line in the edited bindings. */
  const place = (u: UnplacedLine, value: string) => {
    // The list is open: the author is placing a line in it. Its toggle event may not have run yet
    // (it is dispatched later), and the re-render must not close it under the author's hand.
    ed.unplacedOpen = true;
    const next = structuredClone(ed.edit);
    const before = placementOf(u);
    next.placements = (next.placements ?? []).filter((p) => !(p.line === u.line && p.text === before?.text));
    if (value !== "") {
      const section = value.startsWith("section:") ? value.slice(8) : undefined;
      next.placements.push({
        line: u.line,
        text: norm(u.text).slice(0, 80),
        versions: [version],
        as: section ? "section" : "narrative",
        ...(section && { section }),
        why: before?.why ?? "",
      });
    }
    ed.edit = next;
    app.announce(
      value === "" ? `Line ${u.line} left unplaced.` : `Line ${u.line} placed; say why before saving.`,
    );
    changed(value === "" ? `au-place-${u.line}` : `au-place-${u.line}-why`);
  };
  const placeWhy = (u: UnplacedLine, why: string) => {
    ed.unplacedOpen = true;
    const next = structuredClone(ed.edit);
    const p = (next.placements ?? []).find((x) => x.line === u.line && x.text === placementOf(u)?.text);
    if (!p) return;
    p.why = why;
    ed.edit = next;
    changed(`au-place-${u.line}-why`);
  };

  const renderReport = (): Child[] => {
    const f = ed.v.findings;
    const unplaced = ed.v.policy.unplaced ?? [];
    return [
      h(
        "h3",
        { class: "au-subh", id: "au-report-h" },
        "Ingestion report ",
        h("span", { class: "count" }, String(f.length)),
      ),
      f.length === 0
        ? h("p", { class: "empty" }, "Lint finds nothing in this version.")
        : h(
            "ul",
            { class: "au-findings", "aria-labelledby": "au-report-h" },
            f.map((x) =>
              h(
                "li",
                { class: `au-finding sev-${x.severity}`, "data-code": x.code },
                h("span", { class: `chip lint-${x.severity}` }, x.severity),
                " ",
                h("span", { class: "mono" }, x.code),
                x.criterion ? h("span", { class: "mono muted" }, ` ${x.criterion}`) : null,
                x.line !== undefined ? [" · ", lineButton(x.line, x.code)] : null,
                h("div", { class: "small" }, x.message),
              ),
            ),
          ),
      unplaced.length
        ? h(
            "details",
            {
              class: "au-unplaced",
              ...(ed.unplacedOpen && { open: true }),
              ontoggle: (e: Event) => {
                ed.unplacedOpen = (e.target as HTMLDetailsElement).open;
              },
            },
            h("summary", null, `Text the ingester could not place (${unplaced.length})`),
            h(
              "ul",
              null,
              unplaced.map((u) => {
                // Issue 15: the author places the text (not criteria, or bearing on a section, which
                // then decides review) so lint no longer refuses the version's publication.
                const placed = placementOf(u);
                const current = placed
                  ? placed.as === "section"
                    ? `section:${placed.section}`
                    : "narrative"
                  : "";
                const selId = `au-place-${u.line}`;
                return h(
                  "li",
                  { class: "au-unplaced-line" },
                  lineButton(u.line),
                  ` ${u.text} `,
                  h("span", { class: "muted small" }, `(${u.reason})`),
                  fieldWith(
                    "au-place",
                    selId,
                    `Place line ${u.line}`,
                    h(
                      "select",
                      {
                        id: selId,
                        name: selId,
                        onchange: (e: Event) => place(u, (e.target as HTMLSelectElement).value),
                      },
                      [
                        { value: "", label: "Leave unplaced (lint refuses publication)" },
                        { value: "narrative", label: "Not criteria (a remark or caution)" },
                        ...ed.v.policy.sections.map((s) => ({
                          value: `section:${s.id}`,
                          label: `Bears on section ${s.id} (it then decides review)`,
                        })),
                      ].map((o) => option(o.value, current, o.label)),
                    ),
                  ),
                  placed
                    ? fieldWith(
                        "au-place",
                        `${selId}-why`,
                        "Why (kept with the publication)",
                        h("input", {
                          type: "text",
                          id: `${selId}-why`,
                          name: `${selId}-why`,
                          value: placed.why,
                          onchange: (e: Event) => placeWhy(u, (e.target as HTMLInputElement).value),
                        }),
                      )
                    : null,
                );
              }),
            ),
          )
        : null,
    ];
  };

  // ---- Head and save bar ----

  const renderHead = (): Child[] => {
    const v = ed.v;
    const pub = v.publication;
    const effective = pub?.effective ?? v.policy.identity.effective;
    return [
      h("h1", null, `${v.id} ${v.version}`),
      h("p", { class: "lede" }, v.title || v.policy.identity.title),
      h(
        "div",
        { class: "head-badges" },
        h(
          "span",
          { class: `badge vstatus-${v.status}`, id: "au-status", "data-status": v.status },
          statusText(v.status),
        ),
        h(
          "span",
          { class: "muted small", id: "au-approval" },
          `effective ${day(effective)}`,
          pub?.by ? ` · approved by ${pub.by}` : " · not approved (draft)",
          pub?.at ? ` on ${dateTime(pub.at)}` : "",
        ),
      ),
      h(
        "nav",
        { class: "au-jump", "aria-label": "Workbench parts" },
        (
          [
            ["au-doc", "Document"],
            ["au-codes", "Codes"],
            ["au-facts", "Facts"],
            ["au-preds", "Predicates"],
            ["au-try", "Try"],
            ["au-publish", "Publish"],
          ] as const
        ).map(([target, label]) =>
          smallButton(
            {
              onclick: () => {
                const hd = document.querySelector<HTMLElement>(`#${target} h2`);
                if (!hd) return;
                hd.setAttribute("tabindex", "-1");
                hd.scrollIntoView({ block: "start" });
                hd.focus({ preventScroll: true });
              },
            },
            label,
          ),
        ),
      ),
    ];
  };

  const save = async () => {
    delete ed.saveError;
    delete ed.saveNotice;
    const body = ed.edit;
    try {
      const r = await putAuthoringBindings(id, ed.etag, body);
      const fresh = await getAuthoringVersion(id, version);
      ed.v = fresh;
      ed.saved = editableBindings(fresh);
      ed.edit = structuredClone(ed.saved);
      ed.etag = fresh.bindingsEtag || r.bindingsEtag;
      const errors = r.findings.filter((f) => f.severity === "error").length;
      ed.saveNotice = {
        kind: errors ? "warn" : "ok",
        text: `Saved. Lint finds ${plural(r.findings.length, "finding")}${errors ? `, ${plural(errors, "error")}` : ""}.`,
      };
      app.announce(ed.saveNotice.text);
      refreshAll("au-save-state");
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        // Someone saved since this editor was based: take their version as the base, keep ours on screen.
        const fresh = await getAuthoringVersion(id, version);
        rebase(ed, fresh, true);
        const s = ed.saved;
        ed.saveNotice = {
          kind: "warn",
          text: `These bindings were saved by someone else since you opened them (now ${plural(s.codes.length, "code binding")}, ${plural(s.facts.length, "fact")}, ${plural(s.predicates.length, "predicate")}). Your edits are kept on screen: check them, then Save again to replace that version, or Discard your edits to take it.`,
        };
        app.announce("The bindings changed on the server. Your edits are kept; save again to replace them.");
        refreshAll("au-save-notice");
        return;
      }
      ed.saveError = err instanceof Error ? err.message : String(err);
      app.announce(`Not saved: ${ed.saveError}`);
      refresh(["save"], "au-save");
      if (!(err instanceof ApiError)) throw err;
    }
  };

  const renderSave = (): Child[] => {
    const d = dirty(ed);
    return [
      h(
        "p",
        { class: `au-save-state${d ? " is-dirty" : ""}`, id: "au-save-state" },
        d ? "Unsaved changes to the bindings" : "Bindings saved",
      ),
      h(
        "div",
        { class: "au-save-actions" },
        h(
          "button",
          {
            type: "button",
            class: "btn btn-primary",
            id: "au-save",
            ...(!d && { disabled: true }),
            "aria-describedby": "au-save-state au-save-error",
            onclick: () => void save(),
          },
          "Save bindings",
        ),
        h(
          "button",
          {
            type: "button",
            class: "btn",
            id: "au-discard",
            ...(!d && { disabled: true }),
            onclick: () => {
              ed.edit = structuredClone(ed.saved);
              ed.etag = ed.v.bindingsEtag;
              delete ed.saveError;
              delete ed.saveNotice;
              app.announce("Your edits were discarded.");
              changed("au-save-state");
            },
          },
          "Discard changes",
        ),
      ),
      h("p", { class: "form-error au-save-error", id: "au-save-error", role: "alert" }, ed.saveError ?? ""),
    ];
  };

  /** What the last save said (below the bar, not in it: a long message would cover the page on a phone). */
  const renderSaveMsg = (): Child[] => [
    ed.saveNotice
      ? h(
          "p",
          { class: `notice notice-${ed.saveNotice.kind} au-save-notice`, id: "au-save-notice" },
          ed.saveNotice.text,
        )
      : null,
  ];

  // ---- Codes ----

  const renderCodes = (): Child[] => {
    const b = ed.edit;
    const sections = sectionChoices(ed.v.policy);
    const sectionSelect = (idAttr: string, value: string, extra: { value: string; label: string }[] = []) =>
      h(
        "select",
        { id: idAttr, name: idAttr },
        [...extra, ...sections.map((s) => ({ value: s.id, label: s.label }))].map((o) =>
          option(o.value, value, o.label),
        ),
      );
    const proposals = b.proposed.map((p, i) => {
      const dismissed = p.status === "dismissed";
      const selId = `au-prop-sec-${i}`;
      return h(
        "tr",
        { class: dismissed ? "is-dismissed" : "", "data-codes": p.codes.join(" ") },
        h("td", { class: "mono" }, p.codes.join(", ")),
        h(
          "td",
          null,
          p.system,
          " ",
          h("span", { class: `chip cov-${p.coverage}` }, p.coverage.replace(/-/g, " ")),
        ),
        h("td", null, p.basis, " ", lineButton(p.line, `Proposal ${p.codes.join(", ")}`)),
        h(
          "td",
          null,
          dismissed
            ? h("span", { class: "muted" }, "dismissed")
            : [
                h("label", { for: selId, class: "sr-only" }, `Section for ${p.codes.join(", ")}`),
                sectionSelect(
                  selId,
                  p.section ?? "",
                  p.section ? [] : [{ value: "", label: "Choose a section…" }],
                ),
              ],
        ),
        h(
          "td",
          { class: "row-actions" },
          dismissed
            ? smallButton(
                {
                  id: `au-prop-restore-${i}`,
                  onclick: () => {
                    ed.edit = restoreProposal(ed.edit, i);
                    changed(`au-prop-sec-${i}`);
                  },
                },
                "Restore",
              )
            : [
                h(
                  "button",
                  {
                    type: "button",
                    class: "btn btn-small btn-primary",
                    id: `au-prop-confirm-${i}`,
                    onclick: () => {
                      const sec = (document.getElementById(selId) as HTMLSelectElement | null)?.value ?? "";
                      const r = confirmProposal(ed.edit, i, sec || undefined);
                      if (r.error) {
                        app.announce(r.error);
                        (document.getElementById(selId) as HTMLElement | null)?.focus();
                        return;
                      }
                      ed.edit = r.bindings!;
                      app.announce(`${p.codes.join(", ")} bound to section ${sec || p.section}.`);
                      changed("au-codes-h");
                    },
                  },
                  "Confirm",
                ),
                " ",
                smallButton(
                  {
                    id: `au-prop-dismiss-${i}`,
                    onclick: () => {
                      ed.edit = dismissProposal(ed.edit, i);
                      app.announce(`${p.codes.join(", ")} dismissed.`);
                      changed(`au-prop-restore-${i}`);
                    },
                  },
                  "Dismiss",
                ),
              ],
        ),
      );
    });
    const f = ed.codeForm;
    const err = ed.codeErrors;
    const editing = f.index !== undefined;
    const errEl = (k: keyof CodeForm) =>
      h("span", { class: "form-error small", id: `au-code-${k}-error` }, err[k] ?? "");
    const described = (k: keyof CodeForm, hint?: string) => ({
      "aria-describedby": `${hint ? `${hint} ` : ""}au-code-${k}-error`,
      ...(err[k] && { "aria-invalid": "true" }),
    });
    const keep = (k: keyof CodeForm) => (ev: Event) => {
      f[k] = (ev.target as HTMLInputElement).value;
    };
    return [
      h("h2", { id: "au-codes-h" }, "Code bindings"),
      h(
        "p",
        { class: "muted small" },
        "Which codes this policy decides, and which section governs each. The ingester proposes bindings from the document's code tables; a proposal decides nothing until you confirm it. Publishing needs every proposal confirmed or dismissed.",
      ),
      h("h3", null, "Proposed by the ingester ", h("span", { class: "count" }, String(b.proposed.length))),
      b.proposed.length === 0
        ? h("p", { class: "empty" }, "No proposal: the document has no code table the ingester could read.")
        : stackable(
            h(
              "table",
              { class: "table au-proposals" },
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  ["Codes", "System", "Basis", "Section", "Actions"].map((c) => h("th", { scope: "col" }, c)),
                ),
              ),
              h("tbody", null, proposals),
            ),
          ),
      h("h3", null, "Bound codes ", h("span", { class: "count" }, String(b.codes.length))),
      b.codes.length === 0
        ? h(
            "p",
            { class: "empty" },
            "No code is bound yet: requests for this policy's codes will not reach it.",
          )
        : stackable(
            h(
              "table",
              { class: "table au-codes-table" },
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  ["Codes", "Section", "Otherwise", "Excluded by", "Why", "Actions"].map((c) =>
                    h("th", { scope: "col" }, c),
                  ),
                ),
              ),
              h(
                "tbody",
                null,
                b.codes.map((c, i) =>
                  h(
                    "tr",
                    { "data-codes": c.codes.join(" ") },
                    h("td", { class: "mono" }, c.codes.join(", ")),
                    h("td", null, "section" in c ? c.section : "coding only"),
                    h("td", null, "section" in c ? (c.otherwise ?? "") : ""),
                    h("td", null, "section" in c ? (c.excludedBy ?? []).join(", ") : ""),
                    h("td", { class: "small" }, c.why ?? ""),
                    h(
                      "td",
                      { class: "row-actions" },
                      editRemove(
                        `au-code-%-${i}`,
                        `the binding of ${c.codes.join(", ")}`,
                        () => {
                          ed.codeForm = { ...codeFormOf(c), index: i };
                          ed.codeErrors = {};
                          refresh(["codes"], "au-code-codes");
                        },
                        () => removeAt("codes", i, `Binding of ${c.codes.join(", ")} removed.`, "au-codes-h"),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
      h(
        "form",
        {
          class: "au-form au-code-form",
          "aria-labelledby": "au-code-form-h",
          onsubmit: (ev: Event) => {
            ev.preventDefault();
            const r = readCodeForm(f, sectionIds());
            ed.codeErrors = r.errors;
            if (!r.binding) {
              refresh(["codes"], `au-code-${Object.keys(r.errors)[0]}`);
              return;
            }
            const next = structuredClone(ed.edit);
            if (editing) next.codes[f.index!] = r.binding;
            else next.codes.push(r.binding);
            ed.edit = next;
            ed.codeForm = { codes: "", section: f.section, otherwise: "", excludedBy: "", why: "" };
            app.announce(`${r.binding.codes.join(", ")} ${editing ? "updated" : "bound"}.`);
            changed("au-code-codes");
          },
        },
        h("h3", { id: "au-code-form-h" }, editing ? "Edit the code binding" : "Add a code binding"),
        h(
          "div",
          { class: "au-row" },
          field(
            "au-code-codes",
            "Codes",
            h("input", {
              type: "text",
              id: "au-code-codes",
              name: "codes",
              class: "mono",
              autocomplete: "off",
              spellcheck: "false",
              placeholder: "97810, 97811",
              value: f.codes,
              oninput: keep("codes"),
              ...described("codes", "au-code-codes-hint"),
            }),
            h("span", { class: "hint", id: "au-code-codes-hint" }, "CPT or HCPCS, comma-separated"),
            errEl("codes"),
          ),
          field(
            "au-code-section",
            "Section",
            h(
              "select",
              { id: "au-code-section", name: "section", onchange: keep("section"), ...described("section") },
              [
                { value: "", label: "Choose a section…" },
                ...sections.map((s) => ({ value: s.id, label: s.label })),
                { value: "coding-only", label: "Coding only (routes the code, decides nothing)" },
              ].map((o) => option(o.value, f.section, o.label)),
            ),
            errEl("section"),
          ),
          field(
            "au-code-otherwise",
            "Otherwise (optional)",
            h(
              "select",
              {
                id: "au-code-otherwise",
                name: "otherwise",
                onchange: keep("otherwise"),
                ...described("otherwise", "au-code-otherwise-hint"),
              },
              [{ value: "", label: "None" }, ...sections.map((s) => ({ value: s.id, label: s.label }))].map(
                (o) => option(o.value, f.otherwise, o.label),
              ),
            ),
            h(
              "span",
              { class: "hint", id: "au-code-otherwise-hint" },
              "The section whose outcome applies when the governing one is not met",
            ),
            errEl("otherwise"),
          ),
          field(
            "au-code-excludedBy",
            "Excluded by (optional)",
            h(
              "select",
              {
                id: "au-code-excludedBy",
                name: "excludedBy",
                onchange: keep("excludedBy"),
                ...described("excludedBy", "au-code-excludedBy-hint"),
              },
              [
                { value: "", label: "None" },
                // A binding with several lists (written in bindings.json) keeps them as they are.
                ...(f.excludedBy.includes(",") ? [{ value: f.excludedBy, label: f.excludedBy }] : []),
                ...sections
                  .filter((s) => s.kind === "not-proven")
                  .map((s) => ({ value: s.id, label: s.label })),
              ].map((o) => option(o.value, f.excludedBy, o.label)),
            ),
            h(
              "span",
              { class: "hint", id: "au-code-excludedBy-hint" },
              "A not-covered list of the patient's conditions that rule the service out, evaluated with the section",
            ),
            errEl("excludedBy"),
          ),
        ),
        field(
          "au-code-why",
          "Why (optional)",
          h("input", { type: "text", id: "au-code-why", name: "why", value: f.why, oninput: keep("why") }),
        ),
        h(
          "div",
          { class: "actions" },
          h(
            "button",
            { type: "submit", class: "btn btn-primary", id: "au-code-submit" },
            editing ? "Update binding" : "Add binding",
          ),
          editing
            ? h(
                "button",
                {
                  type: "button",
                  class: "btn",
                  onclick: () => {
                    ed.codeForm = { codes: "", section: "", otherwise: "", excludedBy: "", why: "" };
                    ed.codeErrors = {};
                    refresh(["codes"], "au-code-codes");
                  },
                },
                "Cancel",
              )
            : null,
        ),
      ),
    ];
  };

  // ---- Facts ----

  const renderFacts = (): Child[] => {
    const own = ed.edit.facts;
    const inherited = inheritedFacts(ed.v).filter((d) => !own.some((o) => o.name === d.name));
    const read = factsRead(ed.edit);
    const f = ed.factForm;
    const err = ed.factErrors;
    const editing = f.previous !== undefined;
    const takes = FACT_FIELDS[f.type];
    const errEl = (k: keyof FactForm | "form") =>
      h("span", { class: "form-error small", id: `au-fact-${k}-error` }, err[k] ?? "");
    const described = (k: keyof FactForm, hint?: string) => ({
      "aria-describedby": `${hint ? `${hint} ` : ""}au-fact-${k}-error`,
      ...(err[k] && { "aria-invalid": "true" }),
    });
    const keep = (k: Exclude<keyof FactForm, "orCount" | "type">) => (ev: Event) => {
      f[k] = (ev.target as HTMLInputElement).value;
    };
    const text = (
      k: Exclude<keyof FactForm, "orCount" | "type">,
      label: string,
      attrs: Record<string, string> = {},
      hint?: string,
    ) =>
      fieldWith(
        `au-fact-${k}`,
        `au-fact-${k}`,
        label,
        h("input", {
          type: "text",
          id: `au-fact-${k}`,
          name: k,
          autocomplete: "off",
          value: f[k],
          oninput: keep(k),
          ...attrs,
          ...described(k, hint ? `au-fact-${k}-hint` : undefined),
        }),
        hint ? h("span", { class: "hint", id: `au-fact-${k}-hint` }, hint) : null,
        errEl(k),
      );
    const rangeOf = (d: FactDecl) => {
      const parts: string[] = [];
      if ("unit" in d && d.unit) parts.push(d.unit);
      if ("min" in d && (d.min !== undefined || d.max !== undefined))
        parts.push(`${d.min ?? "…"}–${d.max ?? "…"}`);
      if ("values" in d && d.values) parts.push(d.values.join(", "));
      if ("system" in d && d.system) parts.push(d.system);
      if ("orCount" in d && d.orCount) parts.push("or how many");
      return parts.join(" · ");
    };
    const factRow = (d: FactDecl, i: number | undefined) =>
      h(
        "tr",
        { "data-fact": d.name },
        h("td", { class: "mono" }, d.name),
        h("td", null, d.type),
        h("td", null, d.description),
        h("td", { class: "small" }, rangeOf(d)),
        h(
          "td",
          { class: "small" },
          read.has(d.name) ? "read by a predicate" : "not read",
          d.fhirPath ? [h("br"), h("span", { class: "mono" }, d.fhirPath)] : null,
        ),
        h(
          "td",
          { class: "row-actions" },
          i === undefined
            ? h("span", { class: "muted small" }, "inherited")
            : editRemove(
                `au-fact-%-${i}`,
                `the fact ${d.name}`,
                () => {
                  ed.factForm = { ...factFormOf(d), previous: d.name };
                  ed.factErrors = {};
                  refresh(["facts"], "au-fact-name");
                },
                () => removeAt("facts", i, `Fact ${d.name} removed.`, "au-facts-h"),
                read.has(d.name) ? "A predicate reads it: remove the predicate first" : undefined,
              ),
        ),
      );
    return [
      h("h2", { id: "au-facts-h" }, "Facts"),
      h(
        "p",
        { class: "muted small" },
        "Typed data a case may carry, which predicates read: a case's facts are checked against these declarations (an undeclared fact, or a value of the wrong type, is refused naming the fact and the policy).",
      ),
      own.length + inherited.length === 0
        ? h("p", { class: "empty" }, "No fact declared yet.")
        : stackable(
            h(
              "table",
              { class: "table au-facts-table" },
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  ["Name", "Type", "Description", "Unit, range, values", "Use", "Actions"].map((c) =>
                    h("th", { scope: "col" }, c),
                  ),
                ),
              ),
              h(
                "tbody",
                null,
                own.map((d, i) => factRow(d, i)),
                inherited.map((d) => factRow(d, undefined)),
              ),
            ),
          ),
      h(
        "form",
        {
          class: "au-form au-fact-form",
          "aria-labelledby": "au-fact-form-h",
          onsubmit: (ev: Event) => {
            ev.preventDefault();
            const others = vocabulary().filter((d) => d.name !== (f.previous ?? ""));
            // Adding a name the policy declares itself is an edit of that one: say so.
            if (!editing && own.some((d) => d.name === f.name.trim())) {
              ed.factErrors = { name: `${f.name.trim()} is declared already: edit it in the table.` };
              refresh(["facts"], "au-fact-name");
              return;
            }
            const r = readFactForm(f, others);
            ed.factErrors = r.errors;
            if (!r.decl) {
              const first = Object.keys(r.errors)[0] ?? "name";
              refresh(["facts"], first === "form" ? "au-fact-submit" : `au-fact-${first}`);
              return;
            }
            const renamed = editing && f.previous !== r.decl.name && read.has(f.previous!);
            if (renamed) {
              ed.factErrors = {
                name: `A predicate reads ${f.previous}: rename it there first, or keep the name.`,
              };
              refresh(["facts"], "au-fact-name");
              return;
            }
            ed.edit = putFact(ed.edit, r.decl, f.previous);
            ed.factForm = emptyFactForm();
            app.announce(`Fact ${r.decl.name} ${editing ? "updated" : "declared"}.`);
            changed("au-fact-name");
          },
        },
        h("h3", { id: "au-fact-form-h" }, editing ? `Edit the fact ${f.previous}` : "Declare a fact"),
        h(
          "div",
          { class: "au-row" },
          text(
            "name",
            "Name",
            { class: "mono", spellcheck: "false", placeholder: "painWeeks" },
            "A name like bmi or painWeeks",
          ),
          field(
            "au-fact-type",
            "Type",
            h(
              "select",
              {
                id: "au-fact-type",
                name: "type",
                onchange: (ev: Event) => {
                  f.type = (ev.target as HTMLSelectElement).value as FactForm["type"];
                  refresh(["facts"], "au-fact-type");
                },
              },
              FACT_TYPES.map((t) => option(t.type, f.type, `${t.type} — ${t.label}`)),
            ),
            errEl("type"),
          ),
        ),
        text("description", "Description", {}, "What the fact is, as a reviewer reads it"),
        takes.includes("unit") || takes.includes("min")
          ? h(
              "div",
              { class: "au-row" },
              takes.includes("unit")
                ? text("unit", "Unit (optional)", { placeholder: "wk, kg/m2, %" })
                : null,
              takes.includes("min") ? text("min", "Minimum (optional)", { inputmode: "decimal" }) : null,
              takes.includes("max") ? text("max", "Maximum (optional)", { inputmode: "decimal" }) : null,
            )
          : null,
        takes.includes("values")
          ? field(
              "au-fact-values",
              f.type === "set" ? "Values (or choose a code system below)" : "Values",
              h("textarea", {
                id: "au-fact-values",
                name: "values",
                rows: 3,
                value: f.values,
                oninput: keep("values"),
                ...described("values", "au-fact-values-hint"),
              }),
              h("span", { class: "hint", id: "au-fact-values-hint" }, "One a line, or comma-separated"),
              errEl("values"),
            )
          : null,
        takes.includes("system")
          ? field(
              "au-fact-system",
              f.type === "set" ? "Code system (or list values above)" : "Code system",
              h(
                "select",
                { id: "au-fact-system", name: "system", onchange: keep("system"), ...described("system") },
                [
                  { value: "", label: f.type === "set" ? "None (a set of values)" : "Choose…" },
                  { value: "icd-10-cm", label: "ICD-10-CM" },
                  { value: "cpt", label: "CPT" },
                  { value: "hcpcs", label: "HCPCS" },
                  { value: "loinc", label: "LOINC" },
                  { value: "snomed", label: "SNOMED CT" },
                ].map((o) => option(o.value, f.system, o.label)),
              ),
              errEl("system"),
            )
          : null,
        takes.includes("orCount")
          ? h(
              "label",
              { class: "choice" },
              h("input", {
                type: "checkbox",
                id: "au-fact-orCount",
                name: "orCount",
                checked: f.orCount,
                onchange: (ev: Event) => {
                  f.orCount = (ev.target as HTMLInputElement).checked;
                },
              }),
              " A case may give how many instead of which",
            )
          : null,
        text(
          "fhirPath",
          "FHIRPath in the patient's record (optional)",
          { class: "mono", spellcheck: "false" },
          "Over a collection Bundle; %dateOfService is bound; a Quantity is converted to the unit",
        ),
        errEl("form"),
        h(
          "div",
          { class: "actions" },
          h(
            "button",
            { type: "submit", class: "btn btn-primary", id: "au-fact-submit" },
            editing ? "Update fact" : "Declare fact",
          ),
          editing
            ? h(
                "button",
                {
                  type: "button",
                  class: "btn",
                  onclick: () => {
                    ed.factForm = emptyFactForm();
                    ed.factErrors = {};
                    refresh(["facts"], "au-fact-name");
                  },
                },
                "Cancel",
              )
            : null,
        ),
      ),
    ];
  };

  // ---- Predicates ----

  const newRow = (vocab: FactDecl[]): TestRow => {
    const d = vocab[0];
    return {
      fact: d?.name ?? "",
      op: d ? operatorsFor(d)[0]!.key : "",
      a: "",
      b: "",
      unit: "months",
      negate: false,
    };
  };

  const renderPreds = (): Child[] => {
    const vocab = vocabulary();
    const crit = criteria();
    const bld = ed.builder;
    if (bld.tests.length === 0) bld.tests.push(newRow(vocab));
    for (const row of bld.tests) {
      if (!vocab.some((d) => d.name === row.fact)) Object.assign(row, newRow(vocab));
    }
    const preds = ed.edit.predicates;
    const json = ed.json;
    const jsonEditor = (index: number) =>
      h(
        "div",
        { class: "au-json" },
        h(
          "label",
          { for: "au-pred-json" },
          index < 0 ? "New predicate binding (JSON)" : `Predicate ${index + 1} (JSON)`,
        ),
        h("textarea", {
          id: "au-pred-json",
          class: "mono",
          rows: 8,
          spellcheck: "false",
          value: json!.text,
          "aria-describedby": "au-pred-json-hint au-pred-json-error",
          ...(json!.error && { "aria-invalid": "true" }),
          oninput: (ev: Event) => {
            json!.text = (ev.target as HTMLTextAreaElement).value;
          },
        }),
        h(
          "span",
          { class: "hint", id: "au-pred-json-hint" },
          '{"match": criterion text, "when": predicate, "mode": "decides" | "refutes", "why"?}',
        ),
        h("p", { class: "form-error small", id: "au-pred-json-error", role: "alert" }, json!.error ?? ""),
        json!.warning ? h("p", { class: "notice notice-warn small" }, json!.warning) : null,
        h(
          "div",
          { class: "actions" },
          h(
            "button",
            {
              type: "button",
              class: "btn btn-primary",
              id: "au-pred-json-apply",
              onclick: () => {
                const r = readBindingJson(json!.text, vocab, crit);
                if (!r.binding) {
                  json!.error = r.error;
                  delete json!.warning;
                  refresh(["preds"], "au-pred-json");
                  return;
                }
                const next = structuredClone(ed.edit);
                if (index < 0) next.predicates.push(r.binding);
                else next.predicates[index] = r.binding;
                ed.edit = next;
                delete ed.json;
                app.announce(
                  `Predicate ${index < 0 ? "added" : "updated"}${r.warning ? `. ${r.warning}` : ""}.`,
                );
                changed("au-preds-h");
              },
            },
            "Apply",
          ),
          h(
            "button",
            {
              type: "button",
              class: "btn",
              onclick: () => {
                delete ed.json;
                refresh(["preds"], "au-preds-h");
              },
            },
            "Cancel",
          ),
        ),
      );
    const list =
      preds.length === 0
        ? h("p", { class: "empty" }, "No predicate yet: every criterion is answered by a person.")
        : h(
            "ol",
            { class: "au-pred-list" },
            preds.map((p, i) => {
              const bound = criteriaBoundBy(p.match, crit);
              return h(
                "li",
                { class: "au-pred", "data-index": i },
                h(
                  "p",
                  { class: "au-pred-when" },
                  h("code", null, predicateText(p.when)),
                  " ",
                  h("span", { class: `chip au-mode-${p.mode}` }, p.mode),
                ),
                h("p", { class: "small" }, "Match: “", p.match, "”"),
                h(
                  "p",
                  { class: "small au-binds" },
                  bound.length === 0
                    ? h("span", { class: "chip lint-warning" }, "binds no criterion of this version")
                    : [
                        "Binds ",
                        bound.map((c, k) => [
                          k ? ", " : "",
                          h(
                            "button",
                            {
                              type: "button",
                              class: "btn-link mono",
                              "data-criterion": c.id,
                              onclick: () => showLine(c.line, `Criterion ${c.id}`),
                            },
                            c.id,
                          ),
                        ]),
                      ],
                ),
                p.why ? h("p", { class: "small muted" }, p.why) : null,
                json && json.index === i
                  ? jsonEditor(i)
                  : h(
                      "div",
                      { class: "actions" },
                      smallButton(
                        {
                          id: `au-pred-edit-${i}`,
                          onclick: () => {
                            ed.json = { index: i, text: JSON.stringify(p, null, 2) };
                            refresh(["preds"], "au-pred-json");
                          },
                        },
                        "Edit JSON",
                      ),
                      smallButton(
                        {
                          id: `au-pred-remove-${i}`,
                          onclick: () => {
                            if (ed.json) delete ed.json;
                            removeAt("predicates", i, "Predicate removed.", "au-preds-h");
                          },
                        },
                        "Remove",
                      ),
                    ),
              );
            }),
          );

    // The builder.
    const preview = h("p", { class: "au-preview", id: "au-b-preview", "aria-live": "polite" });
    const built = (): { tests: BuiltTest[]; error?: string } => {
      const tests: BuiltTest[] = [];
      for (const [i, row] of bld.tests.entries()) {
        const d = vocab.find((x) => x.name === row.fact);
        if (!d) return { tests, error: "Declare a fact first (Facts, above)." };
        const r = buildTest(d, row.op, { a: row.a, b: row.b, unit: row.unit });
        if (r.error) return { tests, error: `${bld.tests.length > 1 ? `Test ${i + 1}: ` : ""}${r.error}` };
        tests.push({ predicate: r.predicate!, negate: row.negate });
      }
      return { tests };
    };
    const showPreview = () => {
      const r = built();
      const p = r.error ? undefined : combineTests(r.tests, bld.how);
      replace(preview, p ? ["Reads: ", h("code", null, predicateText(p))] : "");
    };
    const testRow = (row: TestRow, i: number) => {
      const d = vocab.find((x) => x.name === row.fact);
      const ops = d ? operatorsFor(d) : [];
      const spec = ops.find((o) => o.key === row.op) ?? ops[0];
      if (spec && spec.key !== row.op) row.op = spec.key;
      const keep = (k: "a" | "b" | "unit") => (ev: Event) => {
        row[k] = (ev.target as HTMLInputElement).value;
        showPreview();
      };
      const valueInput = (k: "a" | "b", label: string) => {
        const idAttr = `au-b-${k}-${i}`;
        const choices =
          spec?.operand === "one" && d
            ? d.type === "boolean"
              ? ["true", "false"]
              : d.type === "enum" || (d.type === "set" && d.values)
                ? d.values!
                : undefined
            : undefined;
        if (choices && !choices.includes(row[k])) row[k] = choices[0]!;
        return field(
          idAttr,
          label,
          choices
            ? h(
                "select",
                { id: idAttr, onchange: keep(k) },
                choices.map((c) => option(c, row[k], c)),
              )
            : h("input", {
                type: "text",
                id: idAttr,
                autocomplete: "off",
                spellcheck: "false",
                value: row[k],
                oninput: keep(k),
                ...(d &&
                  (d.type === "number" ||
                    d.type === "integer" ||
                    d.type === "numbers" ||
                    spec?.operand === "count" ||
                    spec?.operand === "span") && { inputmode: "decimal" }),
                ...(d?.type === "date" && spec?.operand !== "span" && { placeholder: "YYYY-MM-DD" }),
                ...(spec?.operand === "list" && { placeholder: "comma-separated" }),
              }),
        );
      };
      const unit = d && "unit" in d && d.unit ? ` (${d.unit})` : "";
      return h(
        "fieldset",
        { class: "au-test" },
        h("legend", null, bld.tests.length > 1 ? `Test ${i + 1}` : "Test"),
        h(
          "div",
          { class: "au-row" },
          field(
            `au-b-fact-${i}`,
            "Fact",
            h(
              "select",
              {
                id: `au-b-fact-${i}`,
                onchange: (ev: Event) => {
                  row.fact = (ev.target as HTMLSelectElement).value;
                  const nd = vocab.find((x) => x.name === row.fact);
                  row.op = nd ? operatorsFor(nd)[0]!.key : "";
                  row.a = "";
                  row.b = "";
                  refresh(["preds"], `au-b-fact-${i}`);
                },
              },
              vocab.map((x) => option(x.name, row.fact, `${x.name} (${x.type})`)),
            ),
          ),
          field(
            `au-b-op-${i}`,
            "Operator",
            h(
              "select",
              {
                id: `au-b-op-${i}`,
                onchange: (ev: Event) => {
                  row.op = (ev.target as HTMLSelectElement).value;
                  refresh(["preds"], `au-b-op-${i}`);
                },
              },
              ops.map((o) => option(o.key, row.op, o.label)),
            ),
          ),
          spec?.operand === "range"
            ? [valueInput("a", `From${unit}`), valueInput("b", `To${unit}`)]
            : spec?.operand === "countAtLeast"
              ? [valueInput("a", `Each value at least${unit}`), valueInput("b", "How many values")]
              : spec?.operand === "span"
                ? [
                    valueInput("a", "How many"),
                    field(
                      `au-b-unit-${i}`,
                      "Unit",
                      h(
                        "select",
                        { id: `au-b-unit-${i}`, onchange: keep("unit") },
                        ["days", "months", "years"].map((u) => option(u, row.unit, u)),
                      ),
                    ),
                  ]
                : valueInput(
                    "a",
                    spec?.operand === "list"
                      ? "Values"
                      : spec?.operand === "count"
                        ? "How many"
                        : `Value${unit}`,
                  ),
        ),
        h(
          "div",
          { class: "au-row au-row-tight" },
          h(
            "label",
            { class: "choice" },
            h("input", {
              type: "checkbox",
              id: `au-b-not-${i}`,
              checked: row.negate,
              onchange: (ev: Event) => {
                row.negate = (ev.target as HTMLInputElement).checked;
                showPreview();
              },
            }),
            " Not (the test must fail)",
          ),
          bld.tests.length > 1
            ? smallButton(
                {
                  id: `au-b-remove-${i}`,
                  onclick: () => {
                    bld.tests.splice(i, 1);
                    refresh(["preds"], "au-b-add");
                  },
                },
                `Remove test ${i + 1}`,
              )
            : null,
        ),
      );
    };
    const answerable = crit;
    if (bld.criterion && !answerable.some((c) => c.id === bld.criterion)) bld.criterion = "";
    const builder = h(
      "form",
      {
        class: "au-form au-builder",
        "aria-labelledby": "au-builder-h",
        onsubmit: (ev: Event) => {
          ev.preventDefault();
          const c = answerable.find((x) => x.id === bld.criterion);
          if (!c) {
            bld.error = "Choose the criterion the predicate decides.";
            refresh(["preds"], "au-b-criterion");
            return;
          }
          const r = built();
          const when = r.error ? undefined : combineTests(r.tests, bld.how);
          if (!when) {
            bld.error = r.error ?? "Add a test.";
            refresh(["preds"], "au-b-a-0");
            return;
          }
          const binding = {
            match: c.text,
            when,
            mode: bld.mode,
            ...(bld.why.trim() && { why: bld.why.trim() }),
          };
          const check = readBindingJson(JSON.stringify(binding), vocab, crit);
          if (!check.binding) {
            bld.error = check.error;
            refresh(["preds"], "au-b-submit");
            return;
          }
          const next = structuredClone(ed.edit);
          next.predicates.push(check.binding);
          ed.edit = next;
          const bound = criteriaBoundBy(c.text, crit).map((x) => x.id);
          ed.builder = { criterion: "", tests: [newRow(vocab)], how: "all", mode: "decides", why: "" };
          app.announce(`Predicate ${predicateText(when)} attached to ${bound.join(", ")}.`);
          changed("au-b-criterion");
        },
      },
      h("h3", { id: "au-builder-h" }, "Attach a predicate to a criterion"),
      vocab.length === 0
        ? h("p", { class: "notice notice-warn" }, "Declare a fact first: a predicate tests declared facts.")
        : null,
      field(
        "au-b-criterion",
        "Criterion",
        h(
          "select",
          {
            id: "au-b-criterion",
            "aria-describedby": "au-b-criterion-hint",
            onchange: (ev: Event) => {
              bld.criterion = (ev.target as HTMLSelectElement).value;
              delete bld.error;
            },
          },
          h("option", { value: "" }, "Choose a criterion…"),
          answerable.map((c) =>
            option(
              c.id,
              bld.criterion,
              `${c.id} — ${c.text.length > 90 ? `${c.text.slice(0, 88)}…` : c.text}`,
            ),
          ),
        ),
        h(
          "span",
          { class: "hint", id: "au-b-criterion-hint" },
          "The predicate's match is the criterion's text: it binds every criterion that says the same",
        ),
      ),
      bld.tests.map((row, i) => testRow(row, i)),
      h(
        "div",
        { class: "au-row au-row-tight" },
        smallButton(
          {
            id: "au-b-add",
            ...(vocab.length === 0 && { disabled: true }),
            onclick: () => {
              bld.tests.push(newRow(vocab));
              refresh(["preds"], `au-b-fact-${bld.tests.length - 1}`);
            },
          },
          "Add a test",
        ),
        bld.tests.length > 1
          ? field(
              "au-b-how",
              "Combine the tests",
              h(
                "select",
                {
                  id: "au-b-how",
                  onchange: (ev: Event) => {
                    bld.how = (ev.target as HTMLSelectElement).value as "all" | "any";
                    showPreview();
                  },
                },
                option("all", bld.how, "all must hold"),
                option("any", bld.how, "any one holds"),
              ),
            )
          : null,
      ),
      h(
        "div",
        { class: "au-row" },
        field(
          "au-b-mode",
          "Mode",
          h(
            "select",
            {
              id: "au-b-mode",
              "aria-describedby": "au-b-mode-hint",
              onchange: (ev: Event) => {
                bld.mode = (ev.target as HTMLSelectElement).value as "decides" | "refutes";
              },
            },
            option("decides", bld.mode, "decides (met or not met)"),
            option("refutes", bld.mode, "refutes (can only show not met)"),
          ),
          h("span", { class: "hint", id: "au-b-mode-hint" }, "An answer always wins over a fact"),
        ),
        fieldWith(
          "field-grow",
          "au-b-why",
          "Why (optional)",
          h("input", {
            type: "text",
            id: "au-b-why",
            value: bld.why,
            oninput: (ev: Event) => {
              bld.why = (ev.target as HTMLInputElement).value;
            },
          }),
        ),
      ),
      preview,
      h("p", { class: "form-error", id: "au-b-error", role: "alert" }, bld.error ?? ""),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "submit",
            class: "btn btn-primary",
            id: "au-b-submit",
            ...(vocab.length === 0 && { disabled: true }),
          },
          "Attach predicate",
        ),
        json?.index === -1
          ? null
          : h(
              "button",
              {
                type: "button",
                class: "btn",
                id: "au-pred-new-json",
                onclick: () => {
                  const c = answerable.find((x) => x.id === bld.criterion);
                  const r = built();
                  const when = r.error ? undefined : combineTests(r.tests, bld.how);
                  ed.json = {
                    index: -1,
                    text: JSON.stringify(
                      {
                        match: c?.text ?? "",
                        when: when ?? { fact: vocab[0]?.name ?? "", op: "==", value: true },
                        mode: bld.mode,
                      },
                      null,
                      2,
                    ),
                  };
                  refresh(["preds"], "au-pred-json");
                },
              },
              "Write it as JSON",
            ),
      ),
      json?.index === -1 ? jsonEditor(-1) : null,
    );
    showPreview();
    return [
      h("h2", { id: "au-preds-h" }, "Predicates"),
      h(
        "p",
        { class: "muted small" },
        "A predicate decides a criterion from a case's facts. It binds by text: every criterion whose text contains its match.",
      ),
      list,
      builder,
    ];
  };

  // ---- Try ----

  const runTry = async () => {
    const text = ed.tryText ?? "";
    const r = readCases(text);
    if (!r.cases) {
      ed.tryError = r.error;
      refresh(["try"], "au-cases");
      return;
    }
    delete ed.tryError;
    try {
      const out = await postAuthoringTry(id, version, { cases: r.cases });
      ed.tried = { ...out, cases: r.cases };
      const changedCount = out.results.filter(
        (x) =>
          isDetermination(x.draft) && isDetermination(x.inForce) && x.draft.outcome !== x.inForce.outcome,
      ).length;
      app.announce(
        `Tried ${plural(out.results.length, "case")}: ${out.results
          .map((x, i) => `case ${i + 1}, draft ${isDetermination(x.draft) ? x.draft.outcome : "error"}`)
          .join(
            "; ",
          )}. ${changedCount ? `${plural(changedCount, "outcome")} differ from the version in force.` : ""}`,
      );
    } catch (err) {
      ed.tryError = err instanceof Error ? err.message : String(err);
      if (!(err instanceof ApiError)) throw err;
    }
    refresh(["try", "tree"], "au-try-results-h");
  };

  const runImpact = async () => {
    const imp = ed.impact;
    delete imp.error;
    imp.running = true;
    refresh(["try"], "au-impact-run");
    try {
      imp.result = await postAuthoringImpact(id, version, {
        ...(imp.from && { from: imp.from }),
        ...(imp.to && { to: imp.to }),
      });
      app.announce("Impact report ready.");
    } catch (err) {
      imp.error = err instanceof Error ? err.message : String(err);
      delete imp.result;
      if (!(err instanceof ApiError)) throw err;
    } finally {
      imp.running = false;
    }
    refresh(["try"], "au-impact-h");
  };

  const side = (label: string, d: TryResult["draft"] | null, diff: Set<string>) =>
    h(
      "div",
      { class: "au-side", "data-side": label === "Draft" ? "draft" : "in-force" },
      h(
        "h4",
        null,
        label,
        isDetermination(d) && d.policy
          ? h("span", { class: "mono muted small" }, ` ${d.policy.id}@${d.policy.version}`)
          : null,
      ),
      d === null
        ? h("p", { class: "empty" }, "No version in force on the date of service.")
        : !isDetermination(d)
          ? h("p", { class: "notice notice-error" }, errorText(d.error))
          : [
              h("p", { class: "au-outcome" }, outcomeBadge(d.outcome)),
              d.reasons.length
                ? h(
                    "ul",
                    { class: "au-reasons", "aria-label": `${label}: reasons` },
                    d.reasons.map((r) =>
                      h(
                        "li",
                        { class: diff.has(r.criterion) ? "is-different" : "", "data-criterion": r.criterion },
                        h("span", { class: "mono" }, r.criterion),
                        ` ${r.status === "present" ? "present" : "not met"}: ${r.text}`,
                      ),
                    ),
                  )
                : h("p", { class: "small muted" }, "No criterion failed."),
              d.needed.length
                ? h(
                    "details",
                    { class: "small" },
                    h("summary", null, `Still needed (${d.needed.length})`),
                    h(
                      "ul",
                      null,
                      d.needed.map((n) =>
                        h(
                          "li",
                          { class: diff.has(n.criterion) ? "is-different" : "" },
                          h("span", { class: "mono" }, n.criterion),
                          ` ${n.text}`,
                        ),
                      ),
                    ),
                  )
                : null,
            ],
    );

  const diffTable = (ds: CriterionDifference[]) =>
    ds.length === 0
      ? h("p", { class: "small muted" }, "Every criterion reads the same under both.")
      : h(
          "div",
          { class: "au-diffs" },
          h("p", { class: "small strong" }, `Criteria that differ (${ds.length})`),
          stackable(
            h(
              "table",
              { class: "table au-diff-table" },
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  ["Criterion", "Draft", "In force"].map((c) => h("th", { scope: "col" }, c)),
                ),
              ),
              h(
                "tbody",
                null,
                ds.map((x) =>
                  h(
                    "tr",
                    { class: "is-different", "data-criterion": x.id },
                    h(
                      "td",
                      null,
                      h("span", { class: "mono" }, x.id),
                      " ",
                      h("span", { class: "small" }, x.text),
                    ),
                    h("td", { "data-status": x.draft ?? "" }, x.draft ? statusChip(x.draft as Status) : "—"),
                    h(
                      "td",
                      { "data-status": x.inForce ?? "" },
                      x.inForce ? statusChip(x.inForce as Status) : "—",
                    ),
                  ),
                ),
              ),
            ),
          ),
        );

  const renderImpact = (): Node => {
    const imp = ed.impact;
    const r = imp.result as Record<string, unknown> | unknown[] | undefined;
    let summary: Record<string, unknown> | undefined;
    let changes: Record<string, unknown>[] = [];
    if (Array.isArray(r)) {
      summary = r.find((x) => (x as { type?: string }).type === "summary") as
        | Record<string, unknown>
        | undefined;
      changes = r.filter((x) => (x as { type?: string }).type === "change") as Record<string, unknown>[];
    } else if (r && typeof r === "object") {
      summary = (r.summary as Record<string, unknown> | undefined) ?? r;
      changes = (Array.isArray(r.changes) ? r.changes : Array.isArray(r.changed) ? r.changed : []) as Record<
        string,
        unknown
      >[];
    }
    const num = (k: string) => (typeof summary?.[k] === "number" ? String(summary[k]) : "—");
    return h(
      "section",
      { class: "au-impact", "aria-labelledby": "au-impact-h" },
      h("h3", { id: "au-impact-h", tabindex: "-1" }, "Impact on stored requests"),
      h(
        "p",
        { class: "muted small" },
        "Replays the stored requests this version would have decided, by date of service, and lists those whose outcome changes (request ids only).",
      ),
      h(
        "form",
        {
          class: "au-row",
          "aria-label": "Impact window",
          onsubmit: (ev: Event) => {
            ev.preventDefault();
            void runImpact();
          },
        },
        dateField("au-impact-from", "From (date of service)", imp.from, (v) => {
          imp.from = v;
        }),
        dateField("au-impact-to", "To", imp.to, (v) => {
          imp.to = v;
        }),
        h(
          "div",
          { class: "field au-field-button" },
          h(
            "button",
            { type: "submit", class: "btn", id: "au-impact-run", ...(imp.running && { disabled: true }) },
            imp.running ? "Replaying…" : "Run impact report",
          ),
        ),
      ),
      h("p", { class: "form-error", role: "alert" }, imp.error ?? ""),
      summary
        ? h(
            "div",
            { class: "au-impact-result" },
            h(
              "dl",
              { class: "kv au-impact-summary" },
              (
                [
                  ["read", "Requests read"],
                  ["ofPolicy", "Of this policy"],
                  ["inWindow", "In the window"],
                  ["replayed", "Replayed"],
                  ["changed", "Outcome changes"],
                  ["unchanged", "Unchanged"],
                  ["unreadable", "Unreadable"],
                ] as const
              ).map(([k, label]) => [h("dt", null, label), h("dd", { "data-key": k }, num(k))]),
            ),
            Array.isArray(summary.transitions) && summary.transitions.length
              ? h(
                  "ul",
                  { class: "small" },
                  (summary.transitions as { from: string; to: string; count: number }[]).map((t) =>
                    h("li", null, `${t.from} → ${t.to}: ${t.count}`),
                  ),
                )
              : null,
            changes.length
              ? stackable(
                  h(
                    "table",
                    { class: "table au-impact-changes" },
                    h(
                      "thead",
                      null,
                      h(
                        "tr",
                        null,
                        ["Request", "From", "To", "Through"].map((c) => h("th", { scope: "col" }, c)),
                      ),
                    ),
                    h(
                      "tbody",
                      null,
                      changes
                        .slice(0, 200)
                        .map((c) =>
                          h(
                            "tr",
                            null,
                            h("td", { class: "mono" }, String(c.request ?? "")),
                            h("td", null, String(c.from ?? "")),
                            h("td", null, String(c.to ?? "")),
                            h(
                              "td",
                              { class: "mono small" },
                              Array.isArray(c.criteria) ? c.criteria.join(", ") : "",
                            ),
                          ),
                        ),
                    ),
                  ),
                )
              : h("p", { class: "small muted" }, "No stored request changes outcome."),
          )
        : null,
    );
  };

  const renderTry = (): Child[] => {
    // Until the author types in it, the box holds the example case of the bindings as they are now.
    if (!ed.tryTouched)
      ed.tryText = JSON.stringify([exampleCase(ed.v, ed.edit, vocabulary(), localToday())], null, 2);
    const t = ed.tried;
    return [
      h("h2", { id: "au-try-h" }, "Try cases"),
      h(
        "p",
        { class: "muted small" },
        `Each case is decided by this version (${id}@${version}, as saved) and by the version in force on its date of service, side by side.`,
      ),
      dirty(ed)
        ? h(
            "p",
            { class: "notice notice-warn", id: "au-try-dirty" },
            "You have unsaved changes: a try decides with the saved bindings. Save first to try them.",
          )
        : null,
      field(
        "au-cases",
        "Cases (JSON: one case, or a list of up to 50)",
        h("textarea", {
          id: "au-cases",
          class: "mono",
          rows: 12,
          spellcheck: "false",
          value: ed.tryText,
          "aria-describedby": "au-cases-error",
          ...(ed.tryError && { "aria-invalid": "true" }),
          oninput: (ev: Event) => {
            ed.tryText = (ev.target as HTMLTextAreaElement).value;
            ed.tryTouched = true;
          },
        }),
        h("p", { class: "form-error", id: "au-cases-error", role: "alert" }, ed.tryError ?? ""),
      ),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          { type: "button", class: "btn btn-primary", id: "au-try-run", onclick: () => void runTry() },
          "Try against draft and in force",
        ),
        h(
          "button",
          {
            type: "button",
            class: "btn",
            id: "au-try-example",
            onclick: () => {
              ed.tryTouched = false;
              refresh(["try"], "au-cases");
            },
          },
          "Reset to the example case",
        ),
      ),
      t
        ? h(
            "section",
            { class: "au-try-results", "aria-labelledby": "au-try-results-h" },
            h("h3", { id: "au-try-results-h", tabindex: "-1" }, `Results (${t.results.length})`),
            t.results.map((r, i) => {
              const ds =
                isDetermination(r.draft) && isDetermination(r.inForce)
                  ? differingCriteria(r.draft, r.inForce)
                  : [];
              const diffIds = new Set(ds.map((x) => x.id));
              const outcomeChanged =
                isDetermination(r.draft) &&
                isDetermination(r.inForce) &&
                r.draft.outcome !== r.inForce.outcome;
              return h(
                "article",
                { class: `au-case${outcomeChanged ? " outcome-changed" : ""}`, "data-case": i },
                h(
                  "h4",
                  null,
                  `Case ${i + 1}`,
                  outcomeChanged ? [" ", h("span", { class: "chip au-diff-chip" }, "outcome differs")] : null,
                ),
                h(
                  "div",
                  { class: "au-sides" },
                  side("Draft", r.draft, diffIds),
                  side("In force", r.inForce, diffIds),
                ),
                isDetermination(r.draft) && isDetermination(r.inForce) ? diffTable(ds) : null,
              );
            }),
            h("h3", null, "Semantic diff against the version in force"),
            t.diff
              ? renderDiff(t.diff)
              : h(
                  "p",
                  { class: "empty", id: "au-diff-none" },
                  ed.v.status === "effective"
                    ? "This version is the one in force today: nothing to compare."
                    : "No version of this policy is in force today: nothing to compare.",
                ),
          )
        : null,
      renderImpact(),
    ];
  };

  // ---- Publish ----

  const publish = async () => {
    const p = ed.publish;
    delete p.error;
    try {
      const r = await postAuthoringPublish(id, version, { ...(p.effective && { effective: p.effective }) });
      const fresh = await getAuthoringVersion(id, version);
      rebase(ed, fresh, true);
      p.confirming = false;
      p.done = `Published ${id}@${version}: ${String(r.status ?? fresh.status)} from ${day(String(r.effective ?? p.effective))}, approved by ${String(r.by ?? fresh.publication?.by ?? "")}.`;
      app.announce(p.done);
      refreshAll("au-publish-done");
    } catch (err) {
      p.error = err instanceof Error ? err.message : String(err);
      p.confirming = false;
      app.announce(`Not published: ${p.error}`);
      refresh(["publish"], "au-publish-open");
      if (!(err instanceof ApiError)) throw err;
    }
  };

  const renderPublish = (): Child[] => {
    const p = ed.publish;
    const v = ed.v;
    const open = ed.saved.proposed.filter((x) => x.status !== "dismissed").length;
    const isDraft = v.status === "draft";
    return [
      h("h2", { id: "au-publish-h" }, "Publish"),
      p.done ? h("p", { class: "notice notice-ok", id: "au-publish-done", tabindex: "-1" }, p.done) : null,
      !isDraft
        ? h(
            "p",
            { id: "au-published" },
            `${statusText(v.status)} since ${day(v.publication?.effective ?? v.policy.identity.effective)}`,
            v.publication?.by ? `, approved by ${v.publication.by}` : "",
            v.publication?.at ? ` on ${dateTime(v.publication.at)}` : "",
            ". A published version is immutable: it decides with the bindings frozen when it was published; later edits of the bindings apply to the policy's drafts.",
          )
        : [
            h(
              "p",
              { class: "muted small" },
              "Publishing makes this draft effective from its effective date, with you as its approver, and freezes it with its saved bindings. Lint's errors and open code proposals refuse it.",
            ),
            dirty(ed)
              ? h(
                  "p",
                  { class: "notice notice-warn", id: "au-publish-dirty" },
                  "Save or discard your changes first: publishing freezes the saved bindings.",
                )
              : null,
            open > 0
              ? h(
                  "p",
                  { class: "notice notice-warn" },
                  `${plural(open, "code proposal")} neither confirmed nor dismissed: publishing will be refused.`,
                )
              : null,
            h(
              "div",
              { class: "au-row" },
              dateField("au-effective", "Effective date", p.effective, (v) => {
                p.effective = v;
              }),
              h(
                "div",
                { class: "field au-field-button" },
                h(
                  "button",
                  {
                    type: "button",
                    class: "btn btn-primary",
                    id: "au-publish-open",
                    ...(dirty(ed) && { disabled: true, "aria-describedby": "au-publish-dirty" }),
                    onclick: () => {
                      p.confirming = true;
                      delete p.error;
                      refresh(["publish"], "au-publish-confirm");
                    },
                  },
                  "Publish…",
                ),
              ),
            ),
            h("p", { class: "form-error", id: "au-publish-error", role: "alert" }, p.error ?? ""),
            p.confirming
              ? h(
                  "div",
                  { class: "au-confirm", role: "group", "aria-labelledby": "au-confirm-text" },
                  h(
                    "p",
                    { id: "au-confirm-text" },
                    `Publish ${id}@${version}, effective ${day(p.effective || v.policy.identity.effective)}? It becomes immutable and decides requests from that date.`,
                  ),
                  h(
                    "div",
                    { class: "actions" },
                    h(
                      "button",
                      {
                        type: "button",
                        class: "btn btn-primary",
                        id: "au-publish-confirm",
                        onclick: () => void publish(),
                      },
                      "Publish now",
                    ),
                    h(
                      "button",
                      {
                        type: "button",
                        class: "btn",
                        id: "au-publish-cancel",
                        onclick: () => {
                          p.confirming = false;
                          refresh(["publish"], "au-publish-open");
                        },
                      },
                      "Cancel",
                    ),
                  ),
                )
              : null,
          ],
    ];
  };

  const render: Record<PanelName, () => Child[]> = {
    head: renderHead,
    save: renderSave,
    saveMsg: renderSaveMsg,
    tree: renderTree,
    source: renderSource,
    report: renderReport,
    codes: renderCodes,
    facts: renderFacts,
    preds: renderPreds,
    try: renderTry,
    publish: renderPublish,
  };
  const refreshAll = (fallback?: string) =>
    refresh(["head", "save", "tree", "report", "codes", "facts", "preds", "try", "publish"], fallback);

  for (const n of Object.keys(panels) as PanelName[]) replace(panels[n], render[n]());

  return h(
    "section",
    { class: "au-workbench" },
    h(
      "p",
      { class: "crumbs" },
      h("a", { href: "#/authoring" }, "Authoring"),
      " / ",
      h("span", { class: "mono" }, `${id}@${version}`),
    ),
    panels.head,
    panels.save,
    panels.saveMsg,
    h(
      "section",
      { class: "panel au-panel", id: "au-doc", "aria-labelledby": "au-doc-h" },
      h("h2", { id: "au-doc-h" }, "Document"),
      h("p", { class: "muted small" }, "Choose a criterion or a finding to see its line in the source."),
      h(
        "div",
        { class: "au-doc" },
        h("div", { class: "au-doc-side" }, panels.tree, panels.report),
        panels.source,
      ),
    ),
    panels.codes,
    panels.facts,
    panels.preds,
    panels.try,
    panels.publish,
  );
}

function statusText(s: string): string {
  return s === "effective"
    ? "In force"
    : s === "draft"
      ? "Draft"
      : s === "future"
        ? "Future"
        : s === "superseded"
          ? "Superseded"
          : s;
}

/** For tests of the view module: forget every editor (a new session). */
export function forgetEditors(): void {
  editors.clear();
}
