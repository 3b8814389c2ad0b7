/**
 * One request against its policy (SPEC 2.2, 2.4, 4; issues 6 and 14): the engine's recommendation, the
 * open questions first (in a stable order: answering one never moves the others), the criteria tree
 * with each node's status, where its value came from and its evidence notes, answers and typed facts
 * re-evaluated at once in the browser with the server's engine and saved explicitly through the API;
 * the clinical picture (member, providers, diagnoses, attachments); requests for more information,
 * assignment and internal notes; and the decision panel (`decision.ts`), which offers only what the
 * signed-in user may decide and signs only a previewed letter. "Skip to decision" at the top reaches it.
 */
import "../review.css";
import { ApiError, type AuditEvent, getOrigin, getRequest, postAnswers, type RequestView } from "../api.js";
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
} from "../engine.js";
import {
  dateTime,
  dueText,
  OUTCOME_LABEL,
  outcomeBadge,
  shortId,
  statusChip,
  WORKFLOW_LABEL,
} from "../format.js";
import type { App } from "../main.js";
import type { Determination, Line, Outcome, TraceNode } from "../types.js";
import { clinicalPanel } from "./clinical.js";
import { decisionPanel, initialDecision } from "./decision.js";
import { factsPanel } from "./facts.js";
import { assignmentControl, evidenceNotes, infoRequestPanel, internalNotesPanel } from "./notes.js";
import { providerRequestView } from "./provider.js";
import {
  caseAnswers,
  draftCount,
  isOpen,
  latest,
  type Notice,
  type ReviewPage,
  type State,
  stored,
} from "./review-state.js";

const LOGIC: Record<string, string> = {
  all: "All of",
  any: "Any of",
  none: "None of",
  condition: "Condition",
  note: "Note",
  ref: "Refers to",
};

/** The case with the reviewer's unsaved facts over the saved ones. */
function liveCase(s: State) {
  const c = s.view.review!.case;
  return Object.keys(s.factDraft).length ? { ...c, facts: { ...(c.facts ?? {}), ...s.factDraft } } : c;
}

/** Recomputes the live determination from the saved case and the drafts. */
function evaluate(s: State): void {
  const det = latest(s.view);
  try {
    s.live = reevaluate(det, liveCase(s), { ...caseAnswers(s.view), ...s.draft }, s.policies);
    delete s.evalError;
  } catch (err) {
    s.live = det;
    s.evalError = err instanceof Error ? err.message : String(err);
  }
}

/** The open questions of the saved determination, in its order (most decisive first), one per question. */
function questionOrder(s: State): State["questionOrder"] {
  const det = latest(s.view);
  const seen = new Set<string>();
  const out: State["questionOrder"] = [];
  for (const n of [...det.needed, ...det.lines.flatMap((l) => l.needed)]) {
    if (sameQuestionIds(s.policies, n.criterion).some((x) => seen.has(x))) continue;
    seen.add(n.criterion);
    out.push({ criterion: n.criterion, text: n.text });
  }
  return out;
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
      const facts = liveCase(s).facts ?? {};
      const text = src.facts
        .map((f) => `${f} = ${JSON.stringify(facts[f] ?? null)}${f in s.factDraft ? " (unsaved)" : ""}`)
        .join(", ");
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
  p: ReviewPage,
  n: TraceNode,
  parent: TraceNode | undefined,
  prefix: string,
  interactive: boolean,
): HTMLLIElement {
  const s = p.s;
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
      isQuestion && interactive && isOpen(s.view)
        ? answerControl(s, n.id, prefix, `Answer for ${n.id}: ${n.text}`, p.update)
        : null,
    ),
  );
  let kids: HTMLElement | null = null;
  if (children.length > 0) {
    const list = h(
      "ul",
      { class: "tree" },
      children.map((c) => treeNode(p, c, n, prefix, interactive && n.kind !== "ref")),
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
    // Evidence notes sit under the criterion they document (not under groups or references).
    isQuestion && interactive ? evidenceNotes(p, n.id, prefix) : null,
    kids,
  );
}

/** "1 answer", "2 answers and 1 fact": what Save will send. */
function changesText(s: State): string {
  const a = Object.keys(s.draft).length;
  const f = Object.keys(s.factDraft).length;
  const parts = [
    a ? `${a} answer${a === 1 ? "" : "s"}` : "",
    f ? `${f} fact${f === 1 ? "" : "s"}` : "",
  ].filter(Boolean);
  return parts.join(" and ");
}

function recommendationPanel(p: ReviewPage): HTMLElement {
  const s = p.s;
  const det = stored(s.view);
  const drafts = draftCount(s);
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
              ` with your unsaved ${changesText(s)}`,
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
    adverse && isOpen(s.view)
      ? h(
          "p",
          { class: "hint" },
          "An adverse outcome is a recommendation until it is signed (a medical necessity denial by a medical director); meanwhile the provider sees “pended for review”.",
        )
      : null,
    drafts > 0
      ? h(
          "div",
          { class: "actions" },
          h(
            "button",
            { type: "button", class: "btn btn-primary", id: "save-answers", onclick: () => void p.save() },
            `Save ${changesText(s)}`,
          ),
          h(
            "button",
            {
              type: "button",
              class: "btn",
              onclick: () => {
                s.draft = {};
                s.factDraft = {};
                s.factErrors = {};
                p.update();
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

function questionsPanel(p: ReviewPage): HTMLElement {
  const s = p.s;
  const open = isOpen(s.view);
  const seen = new Set<string>();
  const has = (id: string) => sameQuestionIds(s.policies, id).some((x) => seen.has(x));
  const liveNeeded = [...s.live.needed, ...s.live.lines.flatMap((l) => l.needed)];
  const stillNeeded = new Set<string>();
  for (const n of liveNeeded) for (const x of sameQuestionIds(s.policies, n.criterion)) stillNeeded.add(x);
  const items: { id: string; text: string; open: boolean }[] = [];
  // The saved order first, whatever the live answers do to it: a reviewer moving through a Yes / No /
  // Unknown group with the arrow keys never sees the list re-order under the focus (issue 14). A
  // question the live answers settle stays in place, marked; one they open is added at the end.
  for (const q of s.questionOrder) {
    if (has(q.criterion)) continue;
    seen.add(q.criterion);
    items.push({ id: q.criterion, text: q.text, open: stillNeeded.has(q.criterion) });
  }
  for (const n of liveNeeded) {
    if (has(n.criterion)) continue;
    seen.add(n.criterion);
    items.push({ id: n.criterion, text: n.text, open: true });
  }
  // Keep what the reviewer just answered in view, so a change of mind is one click away.
  for (const key of Object.keys(s.draft)) {
    if (has(key)) continue;
    seen.add(key);
    items.push({ id: key, text: textOf(s, key) ?? key, open: false });
  }
  const state = (id: string, isOpenQ: boolean) => {
    if (isOpenQ) return null;
    const drafted = sameQuestionIds(s.policies, id).some((x) => x in s.draft);
    return h("span", { class: "chip rv-q-state" }, drafted ? "answered, unsaved" : "no longer needed");
  };
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
      ? h("p", { class: "empty" }, open ? "No open question: the answers decide the outcome." : "None.")
      : h(
          "p",
          { class: "muted small" },
          "Most decisive first. Only questions that can still change the outcome are listed. Answers change the live recommendation only; nothing is saved until you save.",
        ),
    h(
      "ol",
      { class: "question-list" },
      items.map((q) =>
        h(
          "li",
          { class: `question${q.open ? "" : " is-answered"}`, "data-id": q.id },
          h(
            "div",
            { class: "q-text" },
            h("span", { class: "mono" }, q.id),
            " ",
            q.text,
            " ",
            state(q.id, q.open),
          ),
          open ? answerControl(s, q.id, "q", `${q.id}: ${q.text}`, p.update) : null,
          evidenceNotes(p, q.id, "q"),
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

function treePanel(p: ReviewPage): HTMLElement {
  const s = p.s;
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
        h("ul", { class: "tree tree-root" }, treeNode(p, l.trace, undefined, `t${i}`, true)),
        // Lists of conditions that rule the service out, read with this section though no binding makes
        // them its criteria (src/library/line-rule.ts `checkExclusions`).
        ...(l.exclusions ?? []).map((x, j) =>
          h(
            "div",
            { class: "tree-exclusions", "data-section": x.id },
            h(
              "h4",
              null,
              `Section ${x.id}, read with section ${l.policy!.section}: conditions that rule the service out`,
            ),
            h("ul", { class: "tree tree-root" }, treeNode(p, x, undefined, `t${i}x${j}`, true)),
          ),
        ),
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

function historyPanel(v: RequestView): HTMLElement {
  const r = v.review!;
  const describe = (e: AuditEvent) => {
    const d = (e.detail ?? {}) as {
      criteria?: string[];
      facts?: string[];
      outcome?: string;
      kind?: string;
      criterion?: string;
      assignee?: { name?: string } | null;
      reason?: string;
    };
    const outcome = () => OUTCOME_LABEL[(d.outcome ?? "") as Outcome] ?? d.outcome ?? "";
    const what = () => [...(d.criteria ?? []), ...(Array.isArray(d.facts) ? d.facts : [])].join(", ");
    switch (e.action) {
      case "answered":
        return `answered ${what()}`;
      case "information-received":
        return `provider answered ${what()}`;
      case "signed":
        return `signed: ${outcome()}`;
      case "recommended":
        return `recommended: ${outcome()}`;
      case "assigned":
        return d.assignee?.name ? `assigned to ${d.assignee.name}` : "unassigned";
      case "note":
        return d.kind === "evidence" ? `evidence note on ${d.criterion ?? "a criterion"}` : "internal note";
      case "withdrawn":
        return `withdrawn by the submitter${d.reason ? `: ${d.reason}` : ""}`;
      default:
        // Other workflow events (information-requested, attachment-added, …) read as their name.
        return e.action.replace(/-/g, " ");
    }
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

/** "Skip to decision": moves the focus to the decision panel's heading (the hash is the router's). */
function skipToDecision(id: string): HTMLElement {
  return h(
    "a",
    {
      class: "rv-skip",
      id: "skip-decision",
      href: `#/requests/${encodeURIComponent(id)}`,
      onclick: (ev: Event) => {
        ev.preventDefault();
        const target = document.getElementById("dec-h");
        target?.scrollIntoView({ block: "start" });
        target?.focus({ preventScroll: true });
      },
    },
    "Skip to decision",
  );
}

/** `#/requests/:id`: the request screen (a provider gets the provider view). */
export async function requestView(app: App, params: string[]): Promise<Node> {
  const id = params[0]!;
  let offline: string | undefined;
  const view = await getRequest(id);
  // The provider's own view (helper web-shell's provider.ts) shows an open information request.
  if (!view.review) return providerRequestView(view, app);
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
    factDraft: {},
    factErrors: {},
    live: latest(view),
    parity: true,
    channel: origin?.channel ?? "api",
    ...(offline !== undefined && { offline }),
    questionOrder: [],
    decision: { criteria: [], reason: "", overrideReason: "" },
    noteDrafts: {},
    internalDraft: "",
    info: { open: false, message: "" },
  };
  s.questionOrder = questionOrder(s);
  s.decision = initialDecision(s);
  evaluate(s);
  // The browser must reproduce the stored determination before it is trusted with live answers.
  const summary = (d: Determination) =>
    JSON.stringify([d.outcome, d.reasons.map((r) => r.criterion), d.needed.map((n) => n.criterion)]);
  s.parity = !s.evalError && summary(s.live) === summary(latest(view));

  const head = h("div", { class: "page-head rv-head" });
  const left = h("div", { class: "col-main" });
  const right = h("aside", { class: "col-side", "aria-label": "Request details and decision" });

  const page: ReviewPage = {
    app,
    s,
    draw: () => draw(),
    update: () => update(),
    save: () => save(),
    reload: (next, opts) => reload(next, opts),
  };

  const save = async () => {
    const expected = s.live.outcome;
    for (const bid of ["save-answers", "save-facts"]) {
      const b = document.getElementById(bid) as HTMLButtonElement | null;
      if (b) b.disabled = true;
    }
    try {
      const next = await postAnswers(id, { answers: { ...s.draft }, facts: { ...s.factDraft } });
      const server = next.review!.engineOutcome;
      const agree = server === expected;
      await reload(next, {
        notice: {
          kind: agree ? "ok" : "warn",
          text: agree
            ? `Saved. The server re-evaluated: ${OUTCOME_LABEL[server]}, as in your browser.`
            : `Saved. The server re-evaluated: ${OUTCOME_LABEL[server]} (your browser showed ${OUTCOME_LABEL[expected]}).`,
        },
      });
      app.announce(`Saved. Recommendation: ${OUTCOME_LABEL[server]}.`);
      // The Save button is gone: keep keyboard users on the panel that reports the result.
      document.getElementById("rec-h")?.focus();
    } catch (err) {
      s.notice = { kind: "error", text: err instanceof ApiError ? err.message : String(err) };
      draw();
    }
  };

  const reload = async (next: RequestView, opts: { notice?: Notice; keepDrafts?: boolean } = {}) => {
    const seqBefore = stored(s.view).seq;
    s.view = next;
    if (!opts.keepDrafts) {
      s.draft = {};
      s.factDraft = {};
      s.factErrors = {};
    }
    if (opts.notice) s.notice = opts.notice;
    else if (!opts.keepDrafts) delete s.notice;
    s.policies = await loadPoliciesFor(stored(next).determination).catch(() => s.policies);
    if (stored(next).seq !== seqBefore) {
      // A new determination: its own open questions, and a decision draft made for it.
      s.questionOrder = questionOrder(s);
      // The outcome and its citations are the new determination's; what the reviewer wrote is kept.
      const { reason, overrideReason } = s.decision;
      s.decision = { ...initialDecision(s), reason, overrideReason };
    }
    evaluate(s);
    draw();
  };

  const update = () => {
    const before = s.live.outcome;
    delete s.notice;
    delete s.sideNotice;
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
      // Right after the heading the screen focuses on arrival: the first Tab reaches it.
      skipToDecision(v.id),
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
        v.review!.workflow?.infoRequest
          ? h("span", { class: "badge rv-badge-info" }, "Information requested")
          : null,
        h(
          "span",
          { class: "muted small" },
          `Received ${dateTime(v.receivedAt)} · provider sees “${v.statusText}”`,
        ),
      ),
      assignmentControl(page),
    );
    replace(
      left,
      recommendationPanel(page),
      questionsPanel(page),
      infoRequestPanel(page),
      factsPanel(page),
      treePanel(page),
    );
    replace(right, decisionPanel(page), clinicalPanel(page), internalNotesPanel(page), historyPanel(s.view));
    if (focusId) document.getElementById(focusId)?.focus({ preventScroll: true });
  };
  draw();
  return h("div", { class: "request rv-request" }, head, h("div", { class: "cols" }, left, right));
}
