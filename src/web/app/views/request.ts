/**
 * One request against its policy (SPEC 2.2, 2.4, 4; issue 6): the engine's recommendation, the open
 * questions first, the criteria tree with each node's status and where its value came from, answers
 * re-evaluated at once in the browser with the server's engine and saved through the API, the signed
 * decision (medical directors only where a policy note says so), and the history.
 */
import {
  ApiError,
  type AuditEvent,
  getOrigin,
  getRequest,
  postAnswers,
  postDecision,
  type RequestView,
  type StoredDetermination,
} from "../api.js";
import { h, replace } from "../dom.js";
import {
  answerKey,
  answerOf,
  isEvaluated,
  type LoadedPolicy,
  lineRef,
  loadPoliciesFor,
  reevaluate,
  sameQuestionIds,
  withLineTraces,
} from "../engine.js";
import {
  dateTime,
  day,
  dueText,
  OUTCOME_LABEL,
  outcomeBadge,
  ROLE_LABEL,
  shortId,
  statusChip,
  WORKFLOW_LABEL,
} from "../format.js";
import type { App } from "../main.js";
import type { Decision, Determination, Line, Outcome, TraceNode } from "../types.js";
import { providerRequestView } from "./provider.js";

interface State {
  view: RequestView;
  policies: Map<string, LoadedPolicy>;
  /** The reviewer's unsaved answers, keyed where they will be saved (see `answerKey`). */
  draft: Record<string, boolean>;
  live: Determination;
  /** Why the live evaluation failed (contradictory answers), if it did. */
  evalError?: string;
  /** The result of the last save or signature, shown in the recommendation panel. */
  notice?: { kind: "ok" | "warn" | "error"; text: string };
  /** Whether the browser engine agreed with the stored determination when the page loaded. */
  parity: boolean;
  /** Why the browser cannot evaluate (the policy model did not load), if so. */
  offline?: string;
  /** How the request arrived (its submitted answers' source). */
  channel: "api" | "fhir-pas";
}

const LOGIC: Record<string, string> = {
  all: "All of",
  any: "Any of",
  none: "None of",
  condition: "Condition",
  note: "Note",
  ref: "Refers to",
};

/** The newest stored determination, each evaluated line with its trace. */
function latest(v: RequestView): Determination {
  return withLineTraces(stored(v).determination);
}

function stored(v: RequestView): StoredDetermination {
  return v.review!.determinations.at(-1)!;
}

function caseAnswers(v: RequestView): Record<string, boolean> {
  return v.review!.case.answers ?? {};
}

/** Recomputes the live determination from the saved case and the drafts. */
function evaluate(s: State): void {
  const det = latest(s.view);
  try {
    s.live = reevaluate(det, s.view.review!.case, { ...caseAnswers(s.view), ...s.draft }, s.policies);
    delete s.evalError;
  } catch (err) {
    s.live = det;
    s.evalError = err instanceof Error ? err.message : String(err);
  }
}

/** Who gave the answer at `key`: the reviewer's draft, a later reviewer's answer, or the submission. */
function answerSource(s: State, key: string): string {
  if (key in s.draft) return "your answer (unsaved)";
  const events = s.view.review!.events;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    const d = e.detail as { criteria?: unknown } | undefined;
    if (e.action === "answered" && Array.isArray(d?.criteria) && d.criteria.includes(key))
      return e.actor.name;
  }
  const sub = events.find((e) => e.action === "submitted");
  const by = sub ? ` by ${sub.actor.name}` : "";
  return s.channel === "fhir-pas" ? `FHIR PAS submission${by}` : `submitted${by}`;
}

function sourceLabel(s: State, n: TraceNode): HTMLElement | null {
  const src = n.source;
  switch (src.kind) {
    case "answer":
      return h(
        "span",
        { class: "source source-answer" },
        h("span", { class: "source-kind" }, "answer"),
        ` ${answerSource(s, src.id)}${src.id !== n.id ? ` (at ${src.id})` : ""}`,
      );
    case "fact": {
      const facts = s.view.review!.case.facts ?? {};
      const text = src.facts.map((f) => `${f} = ${JSON.stringify(facts[f] ?? null)}`).join(", ");
      return h(
        "span",
        { class: "source source-fact" },
        h("span", { class: "source-kind" }, "fact"),
        ` ${text}`,
      );
    }
    case "none":
      return h("span", { class: "source source-none" }, "not answered");
    default:
      return null;
  }
}

function answerControl(s: State, id: string, prefix: string, label: string, update: () => void): HTMLElement {
  const all = { ...caseAnswers(s.view), ...s.draft };
  const current = answerOf(s.policies, id, all);
  const saved = answerOf(s.policies, id, caseAnswers(s.view));
  const name = `${prefix}-${id}`;
  const set = (v: boolean | undefined) => {
    if (v === undefined) {
      for (const x of sameQuestionIds(s.policies, id)) delete s.draft[x];
    } else {
      const key = answerKey(s.policies, id, s.draft, caseAnswers(s.view));
      if (saved && saved.key === key && saved.value === v) delete s.draft[key];
      else s.draft[key] = v;
    }
    update();
  };
  const opt = (value: "yes" | "no" | "unknown", text: string, checked: boolean, disabled = false) =>
    h(
      "label",
      { class: `seg seg-${value}${disabled ? " is-disabled" : ""}` },
      h("input", {
        type: "radio",
        name,
        id: `${name}-${value}`,
        value,
        checked,
        disabled,
        onchange: () => set(value === "unknown" ? undefined : value === "yes"),
      }),
      h("span", null, text),
    );
  return h(
    "fieldset",
    { class: `answer${current && current.key in s.draft ? " is-draft" : ""}` },
    h("legend", { class: "sr-only" }, label),
    opt("yes", "Yes", current?.value === true),
    opt("no", "No", current?.value === false),
    // A saved answer can be changed but not withdrawn: the API merges answers into the case.
    opt("unknown", "Unknown", current === undefined, saved !== undefined),
  );
}

function treeNode(
  s: State,
  n: TraceNode,
  parent: TraceNode | undefined,
  prefix: string,
  interactive: boolean,
  update: () => void,
): HTMLLIElement {
  const isQuestion = n.kind === "leaf" || n.kind === "condition" || n.kind === "note";
  const context =
    n.kind === "note"
      ? "note"
      : n.kind === "leaf" && parent?.kind === "none"
        ? "contraindication"
        : "criterion";
  const logic = n.kind === "atLeast" ? "At least" : LOGIC[n.kind];
  const children = n.children ?? [];
  const row = h(
    "div",
    { class: "node-row" },
    statusChip(n.status, context),
    h("span", { class: "node-id mono" }, n.id),
    logic ? h("span", { class: `logic logic-${n.kind}` }, logic) : null,
    h(
      "span",
      { class: "node-text" },
      n.text,
      n.question ? h("span", { class: "muted small" }, ` (same question as ${n.question})`) : null,
    ),
    h(
      "span",
      { class: "node-side" },
      sourceLabel(s, n),
      isQuestion && interactive && s.view.review!.workflowStatus === "awaiting-review"
        ? answerControl(s, n.id, prefix, `Answer for ${n.id}: ${n.text}`, update)
        : null,
    ),
  );
  let kids: HTMLElement | null = null;
  if (children.length > 0) {
    const list = h(
      "ul",
      { class: "tree" },
      children.map((c) => treeNode(s, c, n, prefix, interactive && n.kind !== "ref", update)),
    );
    // A reference repeats another section's criteria: shown folded, read-only (answer them there).
    kids =
      n.kind === "ref"
        ? h(
            "details",
            { class: "ref-details" },
            h("summary", null, `Criteria of the referenced section`),
            list,
          )
        : list;
  }
  return h(
    "li",
    { class: `node kind-${n.kind} st-${n.status}`, "data-id": n.id, "data-status": n.status },
    row,
    kids,
  );
}

function recommendationPanel(s: State, update: () => void, save: () => void): HTMLElement {
  const det = stored(s.view);
  const drafts = Object.keys(s.draft).length;
  const changed = s.live.outcome !== det.outcome;
  const adverse = s.live.outcome === "denied" || s.live.outcome === "not-covered";
  return h(
    "section",
    { class: "panel recommendation", "aria-labelledby": "rec-h" },
    h("h2", { id: "rec-h", tabindex: "-1" }, "Recommendation"),
    h(
      "div",
      { class: "rec-main" },
      h(
        "div",
        { id: "live-outcome", "aria-live": "polite", "data-outcome": s.live.outcome },
        outcomeBadge(s.live.outcome),
        drafts > 0
          ? h(
              "span",
              { class: "muted" },
              ` with your ${drafts} unsaved answer${drafts === 1 ? "" : "s"}`,
              changed ? ` (saved: ${OUTCOME_LABEL[det.outcome]})` : "",
            )
          : null,
      ),
      s.live.policy
        ? h(
            "p",
            { class: "policy-line" },
            h(
              "a",
              { href: `#/policies/${encodeURIComponent(`${s.live.policy.id}@${s.live.policy.version}`)}` },
              [s.live.policy.id, " version ", s.live.policy.version],
            ),
            s.live.policy.section ? ` · section ${s.live.policy.section}` : "",
            ` · ${s.live.policy.title}`,
          )
        : null,
    ),
    s.evalError ? h("p", { class: "notice notice-error", role: "alert" }, s.evalError) : null,
    s.live.reasons.length > 0
      ? h(
          "div",
          { class: "reasons" },
          h(
            "h3",
            null,
            s.live.outcome === "denied" || s.live.outcome === "not-covered" ? "Why" : "Already failed",
          ),
          h(
            "ul",
            null,
            s.live.reasons.map((r) =>
              h(
                "li",
                null,
                h("span", { class: "mono" }, r.criterion),
                " ",
                r.text,
                " ",
                h("span", { class: `chip status-bad` }, r.status === "present" ? "present" : "not met"),
              ),
            ),
          ),
        )
      : null,
    s.live.lines.some((l) => !isEvaluated(l)) || s.live.lines.length > 1
      ? h(
          "ul",
          { class: "lines" },
          s.live.lines.map((l) =>
            h(
              "li",
              null,
              h("span", { class: "mono" }, l.code),
              " ",
              outcomeBadge(l.outcome),
              " ",
              h("span", { class: "muted small" }, l.basis),
            ),
          ),
        )
      : null,
    adverse && s.view.review!.workflowStatus === "awaiting-review"
      ? h(
          "p",
          { class: "hint" },
          "An adverse outcome is a recommendation until a reviewer signs it; meanwhile the provider sees “pended for review”.",
        )
      : null,
    drafts > 0
      ? h(
          "div",
          { class: "actions" },
          h(
            "button",
            { type: "button", class: "btn btn-primary", id: "save-answers", onclick: save },
            `Save ${drafts} answer${drafts === 1 ? "" : "s"}`,
          ),
          h(
            "button",
            {
              type: "button",
              class: "btn",
              onclick: () => {
                s.draft = {};
                update();
              },
            },
            "Discard",
          ),
        )
      : null,
    s.notice
      ? h(
          "p",
          {
            class: `notice notice-${s.notice.kind}`,
            id: "save-notice",
            role: s.notice.kind === "error" ? "alert" : "status",
          },
          s.notice.text,
        )
      : null,
    s.offline !== undefined
      ? h(
          "p",
          { class: "engine-note" },
          `Live re-evaluation is unavailable (${s.offline}): answers are evaluated by the server when you save them.`,
        )
      : h(
          "p",
          { class: "engine-note" },
          `Evaluated in your browser by ${s.live.engine}, the server's engine`,
          s.parity
            ? "; it agrees with the stored determination."
            : " — it disagrees with the stored determination: reload, or rely on the saved outcome.",
        ),
  );
}

function questionsPanel(s: State, update: () => void): HTMLElement {
  const awaiting = s.view.review!.workflowStatus === "awaiting-review";
  const seen = new Set<string>();
  const items: { id: string; text: string; open: boolean }[] = [];
  // The determination's own list first (the lines that decide the outcome), then what other lines
  // still need: a reviewer answers for every line, even when a more severe one decides the request.
  for (const n of [...s.live.needed, ...s.live.lines.flatMap((l) => l.needed)]) {
    if (sameQuestionIds(s.policies, n.criterion).some((x) => seen.has(x))) continue;
    seen.add(n.criterion);
    items.push({ id: n.criterion, text: n.text, open: true });
  }
  // Keep what the reviewer just answered in view, so a change of mind is one click away.
  for (const key of Object.keys(s.draft)) {
    if (sameQuestionIds(s.policies, key).some((x) => seen.has(x))) continue;
    seen.add(key);
    items.push({ id: key, text: textOf(s, key) ?? key, open: false });
  }
  return h(
    "section",
    { class: "panel questions", "aria-labelledby": "q-h" },
    h(
      "h2",
      { id: "q-h" },
      "Open questions",
      h("span", { class: "count" }, String(items.filter((i) => i.open).length)),
    ),
    items.length === 0
      ? h("p", { class: "empty" }, awaiting ? "No open question: the answers decide the outcome." : "None.")
      : h(
          "p",
          { class: "muted small" },
          "Most decisive first. Only questions that can still change the outcome are listed.",
        ),
    h(
      "ol",
      { class: "question-list" },
      items.map((q) =>
        h(
          "li",
          { class: `question${q.open ? "" : " is-answered"}`, "data-id": q.id },
          h("div", { class: "q-text" }, h("span", { class: "mono" }, q.id), " ", q.text),
          awaiting ? answerControl(s, q.id, "q", `${q.id}: ${q.text}`, update) : null,
        ),
      ),
    ),
  );
}

function textOf(s: State, id: string): string | undefined {
  const walk = (n: TraceNode | undefined): string | undefined => {
    if (!n) return undefined;
    if (n.id === id && n.kind !== "all" && n.kind !== "any" && n.kind !== "none" && n.kind !== "atLeast")
      return n.text;
    for (const c of n.children ?? []) {
      const t = walk(c);
      if (t) return t;
    }
    return undefined;
  };
  for (const l of s.live.lines) {
    const t = walk(l.trace);
    if (t) return t;
  }
  return undefined;
}

function treePanel(s: State, update: () => void): HTMLElement {
  const seen = new Set<string>();
  const blocks: HTMLElement[] = [];
  s.live.lines.forEach((l: Line, i: number) => {
    if (!l.trace) return;
    const key = `${lineRef(l)}#${l.policy?.section}`;
    if (seen.has(key)) return;
    seen.add(key);
    const codes = s.live.lines.filter((x) => `${lineRef(x)}#${x.policy?.section}` === key).map((x) => x.code);
    blocks.push(
      h(
        "div",
        { class: "tree-block" },
        h(
          "h3",
          null,
          `${l.policy!.id} ${l.policy!.version}, section ${l.policy!.section}`,
          h("span", { class: "muted small" }, ` — code${codes.length > 1 ? "s" : ""} ${codes.join(", ")} `),
          outcomeBadge(l.outcome),
        ),
        h("ul", { class: "tree tree-root" }, treeNode(s, l.trace, undefined, `t${i}`, true, update)),
      ),
    );
  });
  return h(
    "section",
    { class: "panel criteria", "aria-labelledby": "tree-h" },
    h("h2", { id: "tree-h" }, "Criteria"),
    h(
      "p",
      { class: "legend muted small" },
      "Each criterion with its status and where its value came from: an answer (who gave it), a fact (typed data), or computed from its children.",
    ),
    blocks.length ? blocks : h("p", { class: "empty" }, "No criteria were evaluated for this request."),
  );
}

function defaultReason(outcome: Decision["outcome"], det: Determination, criteria: string[]): string {
  const p = det.policy;
  const where = p
    ? `${p.id} version ${p.version}${p.section ? ` section ${p.section}` : ""}`
    : "the governing policy";
  const cited = det.reasons.filter((r) => criteria.includes(r.criterion));
  if (outcome === "approved") return `The criteria of ${where} are met.`;
  const what = cited.map(
    (r) => `${r.criterion} (“${r.text}”) is ${r.status === "present" ? "present" : "not met"}`,
  );
  if (outcome === "not-covered") {
    return `The requested service is not covered under ${where}${what.length ? `: ${what.join("; ")}` : "."}`;
  }
  return `Not medically necessary under ${where}${what.length ? `: ${what.join("; ")}.` : "."}`;
}

function decisionPanel(
  s: State,
  app: App,
  reload: (v: RequestView, notice?: State["notice"]) => Promise<void>,
): HTMLElement {
  const v = s.view;
  const r = v.review!;
  const head = h("h2", { id: "dec-h" }, "Decision");
  if (v.decision) {
    const d = v.decision;
    return h(
      "section",
      { class: "panel decision", "aria-labelledby": "dec-h", id: "decision" },
      head,
      h(
        "p",
        null,
        outcomeBadge(d.outcome),
        d.automatic ? h("span", { class: "muted" }, " issued automatically") : null,
      ),
      h("p", { class: "reason" }, d.reason),
      d.criteria.length
        ? h(
            "ul",
            { class: "cited" },
            d.criteria.map((c) => h("li", null, h("span", { class: "mono" }, c.criterion), " ", c.text)),
          )
        : null,
      h(
        "p",
        { class: "muted small" },
        `Signed by ${d.signedBy.name} (${ROLE_LABEL[d.signedBy.role] ?? d.signedBy.role}) on ${dateTime(d.signedAt)}, against determination #${d.determinationSeq}.`,
      ),
      h(
        "a",
        {
          class: "btn btn-primary",
          href: `#/requests/${encodeURIComponent(v.id)}/letter`,
          id: "open-letter",
        },
        "Open the letter",
      ),
    );
  }
  if (r.workflowStatus !== "awaiting-review") {
    return h(
      "section",
      { class: "panel decision", "aria-labelledby": "dec-h", id: "decision" },
      head,
      h("p", null, v.statusText),
    );
  }
  const role = app.session!.principal.role;
  let blocked: string | undefined;
  if (role !== "reviewer" && role !== "medical-director")
    blocked = `${ROLE_LABEL[role] ?? role}s cannot sign decisions.`;
  else if (r.medicalDirectorOnly && role !== "medical-director") {
    blocked = "A policy note applies to this request: only a medical director may sign it.";
  }
  const drafts = Object.keys(s.draft).length;
  const det = latest(v);
  const engine = det.outcome;
  // Preselect only what the engine recommends; a pended or review request needs the reviewer's own choice.
  const initial: Decision["outcome"] | undefined =
    engine === "denied" || engine === "not-covered" || engine === "approved" ? engine : undefined;
  const candidates = [
    ...det.reasons.map((x) => ({ id: x.criterion, text: x.text, checked: true })),
    ...det.needed.map((x) => ({ id: x.criterion, text: x.text, checked: false })),
  ];
  // A line decided by a section's code list (not-covered) has no criterion to cite: an adverse decision
  // must cite something (issue 13), so the governing section itself is offered, with the basis as text.
  for (const l of det.lines ?? []) {
    const sec = l.policy?.section;
    if (!sec || l.reasons.length > 0 || candidates.some((c) => c.id === sec)) continue;
    candidates.push({
      id: sec,
      text: l.basis,
      checked: l.outcome === "not-covered" && engine === "not-covered",
    });
  }
  const reasonBox = h("textarea", {
    id: "dec-reason",
    name: "reason",
    rows: 4,
    required: true,
    minlength: 3,
    value: initial
      ? defaultReason(
          initial,
          det,
          candidates.filter((c) => c.checked).map((c) => c.id),
        )
      : "",
  });
  let edited = false;
  reasonBox.addEventListener("input", () => {
    edited = true;
  });
  const error = h("p", { class: "form-error", role: "alert" });
  const form = h(
    "form",
    {
      class: "sign-form",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const fd = new FormData(form);
        const outcome = fd.get("outcome") as Decision["outcome"];
        const criteria = fd.getAll("criteria").map(String);
        const button = form.querySelector<HTMLButtonElement>("button[type=submit]")!;
        button.disabled = true;
        error.textContent = "";
        try {
          const next = await postDecision(v.id, {
            outcome,
            reason: String(fd.get("reason") ?? ""),
            criteria,
            version: r.version,
          });
          app.announce(`Decision signed: ${OUTCOME_LABEL[outcome]}.`);
          await reload(next, {
            kind: "ok",
            text: `Decision signed: ${OUTCOME_LABEL[outcome]}. The letter is ready.`,
          });
          document.getElementById("open-letter")?.focus();
        } catch (err) {
          error.textContent = err instanceof ApiError ? err.message : String(err);
          button.disabled = false;
        }
      },
      onchange: (ev: Event) => {
        const t = ev.target as HTMLInputElement;
        if ((t.name === "outcome" || t.name === "criteria") && !edited) {
          const fd = new FormData(form);
          const outcome = fd.get("outcome") as Decision["outcome"] | null;
          if (outcome) reasonBox.value = defaultReason(outcome, det, fd.getAll("criteria").map(String));
        }
      },
    },
    h(
      "fieldset",
      { class: "outcome-choice", ...(blocked || drafts ? { disabled: true } : {}) },
      h("legend", null, "Outcome"),
      (["approved", "denied", "not-covered"] as const).map((o) =>
        h(
          "label",
          { class: "choice" },
          h("input", { type: "radio", name: "outcome", value: o, checked: o === initial, required: true }),
          ` ${o === "approved" ? "Approve" : o === "denied" ? "Deny (not medically necessary)" : "Not covered"}`,
        ),
      ),
    ),
    candidates.length
      ? h(
          "fieldset",
          { class: "cite", ...(blocked || drafts ? { disabled: true } : {}) },
          h("legend", null, "Cite criteria"),
          candidates.map((c) =>
            h(
              "label",
              { class: "choice" },
              h("input", { type: "checkbox", name: "criteria", value: c.id, checked: c.checked }),
              " ",
              h("span", { class: "mono" }, c.id),
              ` ${c.text}`,
            ),
          ),
        )
      : null,
    h(
      "div",
      { class: "field" },
      h("label", { for: "dec-reason" }, "Reason (goes into the letter)"),
      reasonBox,
    ),
    error,
    h(
      "button",
      {
        type: "submit",
        class: "btn btn-primary",
        id: "sign-decision",
        ...(blocked || drafts ? { disabled: true } : {}),
      },
      "Sign decision",
    ),
  );
  if (blocked || drafts) reasonBox.disabled = true;
  return h(
    "section",
    { class: "panel decision", "aria-labelledby": "dec-h", id: "decision" },
    head,
    blocked ? h("p", { class: "notice notice-warn", id: "sign-blocked" }, blocked) : null,
    !blocked && drafts
      ? h(
          "p",
          { class: "notice notice-warn" },
          "Save or discard your answers first: a decision is signed against the saved determination.",
        )
      : null,
    form,
  );
}

function casePanel(v: RequestView): HTMLElement {
  const c = v.review!.case;
  const facts = Object.entries(c.facts ?? {});
  const rows: [string, string][] = [
    ["Member state", c.member.state],
    [
      "Birth date / age",
      c.member.birthDate ? day(c.member.birthDate) : c.member.age !== undefined ? `${c.member.age}` : "—",
    ],
    ["Line of business", c.member.lineOfBusiness ?? "—"],
    ["Codes", c.service.codes.join(", ")],
    ["Date of service", day(c.service.dateOfService)],
    ...(c.service.drug ? ([["Drug", c.service.drug]] as [string, string][]) : []),
    ["Organization", v.review!.org],
  ];
  return h(
    "section",
    { class: "panel case", "aria-labelledby": "case-h" },
    h("h2", { id: "case-h" }, "Request"),
    h(
      "dl",
      { class: "kv" },
      rows.map(([k, val]) => [h("dt", null, k), h("dd", null, val)]),
    ),
    facts.length
      ? [
          h("h3", null, "Facts"),
          h(
            "dl",
            { class: "kv" },
            facts.map(([k, val]) => [h("dt", { class: "mono" }, k), h("dd", null, JSON.stringify(val))]),
          ),
        ]
      : null,
  );
}

function historyPanel(v: RequestView): HTMLElement {
  const r = v.review!;
  const describe = (e: AuditEvent) => {
    const d = (e.detail ?? {}) as { criteria?: string[]; engineOutcome?: string; outcome?: string };
    if (e.action === "answered") return `answered ${d.criteria?.join(", ") ?? ""}`;
    if (e.action === "signed") return `signed: ${OUTCOME_LABEL[(d.outcome ?? "") as Outcome] ?? d.outcome}`;
    return e.action;
  };
  return h(
    "section",
    { class: "panel history", "aria-labelledby": "hist-h" },
    h("h2", { id: "hist-h" }, "History"),
    h(
      "ol",
      { class: "timeline" },
      r.events.map((e) =>
        h(
          "li",
          null,
          h("span", { class: "t-when" }, dateTime(e.at)),
          h("span", { class: "t-what" }, describe(e)),
          h("span", { class: "t-who" }, e.actor.name),
        ),
      ),
    ),
    h("h3", null, "Determinations"),
    h(
      "ol",
      { class: "timeline" },
      r.determinations.map((d) =>
        h(
          "li",
          null,
          h("span", { class: "t-when" }, `#${d.seq} ${dateTime(d.createdAt)}`),
          h(
            "span",
            { class: "t-what" },
            outcomeBadge(d.outcome),
            ` ${d.trigger === "submit" ? "on submission" : "after answers"}`,
          ),
          h("span", { class: "t-who" }, d.actor.name),
        ),
      ),
    ),
  );
}

/** `#/requests/:id`: the request screen (a provider gets the provider view). */
export async function requestView(app: App, params: string[]): Promise<Node> {
  const id = params[0]!;
  let offline: string | undefined;
  const view = await getRequest(id);
  if (!view.review) return providerRequestView(view);
  const [origin, policies] = await Promise.all([
    getOrigin(id).catch(() => undefined),
    // Without the model (a server started without its library) the page still works: the server
    // evaluates the answers when they are saved.
    loadPoliciesFor(stored(view).determination).catch((err: unknown) => {
      offline = err instanceof Error ? err.message : String(err);
      return new Map<string, LoadedPolicy>();
    }),
  ]);
  const s: State = {
    view,
    policies,
    draft: {},
    live: latest(view),
    parity: true,
    channel: origin?.channel ?? "api",
    ...(offline !== undefined && { offline }),
  };
  evaluate(s);
  // The browser must reproduce the stored determination before it is trusted with live answers.
  const summary = (d: Determination) =>
    JSON.stringify([d.outcome, d.reasons.map((r) => r.criterion), d.needed.map((n) => n.criterion)]);
  s.parity = !s.evalError && summary(s.live) === summary(latest(view));

  const head = h("div", { class: "page-head" });
  const left = h("div", { class: "col-main" });
  const right = h("aside", { class: "col-side", "aria-label": "Request details and decision" });

  const save = async () => {
    const answers = { ...s.draft };
    const expected = s.live.outcome;
    const button = document.getElementById("save-answers") as HTMLButtonElement | null;
    if (button) button.disabled = true;
    try {
      const next = await postAnswers(id, answers);
      const server = next.review!.engineOutcome;
      const agree = server === expected;
      await reload(next, {
        kind: agree ? "ok" : "warn",
        text: agree
          ? `Saved. The server re-evaluated: ${OUTCOME_LABEL[server]}, as in your browser.`
          : `Saved. The server re-evaluated: ${OUTCOME_LABEL[server]} (your browser showed ${OUTCOME_LABEL[expected]}).`,
      });
      app.announce(`Answers saved. Recommendation: ${OUTCOME_LABEL[server]}.`);
      // The Save button is gone: keep keyboard users on the panel that reports the result.
      document.getElementById("rec-h")?.focus();
    } catch (err) {
      s.notice = { kind: "error", text: err instanceof ApiError ? err.message : String(err) };
      draw();
    }
  };

  const reload = async (next: RequestView, notice?: State["notice"]) => {
    s.view = next;
    s.draft = {};
    if (notice) s.notice = notice;
    else delete s.notice;
    s.policies = await loadPoliciesFor(stored(next).determination);
    evaluate(s);
    draw();
  };

  const update = () => {
    const before = s.live.outcome;
    delete s.notice;
    evaluate(s);
    draw();
    if (s.live.outcome !== before) app.announce(`Recommendation now ${OUTCOME_LABEL[s.live.outcome]}.`);
  };

  const draw = () => {
    // Re-rendering replaces the controls: put the focus back on the one the reviewer was using.
    const focusId = document.activeElement?.id;
    const v = s.view;
    const due = dueText(v.dueAt);
    replace(
      head,
      h(
        "p",
        { class: "crumbs" },
        h("a", { href: "#/queue" }, "Queue"),
        " / ",
        h("span", { class: "mono" }, shortId(v.id)),
      ),
      h("h1", null, `Request ${shortId(v.id)}`),
      h(
        "div",
        { class: "head-badges" },
        h(
          "span",
          { class: "badge badge-workflow" },
          WORKFLOW_LABEL[v.review!.workflowStatus] ?? v.review!.workflowStatus,
        ),
        v.expedited
          ? h("span", { class: "badge badge-expedited" }, "Expedited (72 h)")
          : h("span", { class: "badge" }, "Standard (7 days)"),
        v.review!.workflowStatus === "awaiting-review"
          ? h(
              "span",
              { class: `badge ${due.overdue ? "badge-overdue" : "badge-due"}` },
              `${due.text} · ${dateTime(v.dueAt)}`,
            )
          : null,
        v.review!.medicalDirectorOnly
          ? h("span", { class: "badge badge-md" }, "Medical director only")
          : null,
        h(
          "span",
          { class: "muted small" },
          `Received ${dateTime(v.receivedAt)} · provider sees “${v.statusText}”`,
        ),
      ),
    );
    replace(
      left,
      recommendationPanel(s, update, () => void save()),
      questionsPanel(s, update),
      treePanel(s, update),
    );
    replace(right, decisionPanel(s, app, reload), casePanel(s.view), historyPanel(s.view));
    if (focusId) document.getElementById(focusId)?.focus();
  };
  draw();
  return h("div", { class: "request" }, head, h("div", { class: "cols" }, left, right));
}
