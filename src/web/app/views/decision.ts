/**
 * The decision panel of the request screen (SPEC 2.4, issue 14): only what `review.authority` allows
 * the signed-in user — a nurse reviewer approves, or RECOMMENDS an adverse outcome to a medical
 * director; citations are exactly `review.citable[outcome]` (never an unanswered criterion, nothing
 * carried over from another outcome); the reason is the reviewer's own words (required, no
 * boilerplate); departing from the engine's recommendation asks why; and a decision is signed only
 * on a previewed letter, whose SHA-256 the server checks so the signed letter is the previewed one.
 */

import { OUTCOME_SEVERITY } from "../../../model/index.js";
import {
  ApiError,
  type Authority,
  type Cite,
  type DecisionBody,
  getRequest,
  postDecision,
  postLetterPreview,
  postRecommendation,
  type Recommendation,
} from "../api.js";
import { h, replace } from "../dom.js";
import { dateTime, OUTCOME_LABEL, outcomeBadge, ROLE_LABEL } from "../format.js";
import type { Decision, Line } from "../types.js";
import { letterFrame } from "./letter.js";
import {
  draftCount,
  isOpen,
  latest,
  type ReviewPage,
  type State,
  stored,
  visibleLength,
} from "./review-state.js";

type Outcome = Decision["outcome"];
const OUTCOMES: readonly Outcome[] = ["approved", "denied", "not-covered"];

const SIGN_LABEL: Record<Outcome, string> = {
  approved: "Approve",
  denied: "Deny (not medically necessary)",
  "not-covered": "Not covered",
};
const RECOMMEND_LABEL: Record<Outcome, string> = {
  approved: "Recommend approval",
  denied: "Recommend: not medically necessary",
  "not-covered": "Recommend: not covered",
};

const NOTHING: Authority = {
  approve: false,
  deny: false,
  notCover: false,
  recommend: false,
  note: "The server did not say what you may decide on this request.",
};

/** What the caller may do with `o`: sign it, recommend it to a medical director, or nothing. */
export function modeOf(a: Authority, o: Outcome): "sign" | "recommend" | undefined {
  const may = o === "approved" ? a.approve : o === "denied" ? a.deny : a.notCover;
  if (may) return "sign";
  return a.recommend ? "recommend" : undefined;
}

/** The server's note as a sentence ("an adverse …" → "An adverse …."). */
const sentence = (t: string) => `${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? "" : "."}`;

const isAdverse = (o: Outcome | undefined) => o === "denied" || o === "not-covered";

/** The engine's recommendation when it is one a decision can depart from (an override needs a reason). */
function engineDecision(s: State): Outcome | undefined {
  const e = s.view.review!.engineOutcome;
  return e === "approved" || e === "denied" || e === "not-covered" ? e : undefined;
}

function citable(s: State, o: Outcome | undefined): Cite[] {
  return o ? (s.view.review!.citable?.[o] ?? []) : [];
}

/**
 * The citations checked when `o` is chosen: for the engine's own adverse outcome, what it rests on
 * (the determination's failed criteria, or the section a code list decided); otherwise none. Never
 * anything chosen under another outcome.
 */
function preselected(s: State, o: Outcome): string[] {
  if (o !== engineDecision(s) || !isAdverse(o)) return [];
  const failed = new Set(latest(s.view).reasons.map((r) => r.criterion));
  return citable(s, o)
    .filter((c) => failed.has(c.criterion) || c.status === "section")
    .map((c) => c.criterion);
}

/** Sets up the draft for a freshly loaded request: the engine's outcome when the caller may act on it. */
export function initialDecision(s: State): State["decision"] {
  const a = s.view.review!.authority ?? NOTHING;
  const e = engineDecision(s);
  if (!e || !modeOf(a, e)) return { criteria: [], reason: "", overrideReason: "" };
  return { outcome: e, criteria: preselected(s, e), reason: "", overrideReason: "" };
}

/** The services a reviewer decides: every line of the saved determination some policy governs. */
function reviewedLines(s: State): Line[] {
  // A code requested twice is one service to decide (as the server reads it).
  const seen = new Set<string>();
  return latest(s.view).lines.filter(
    (l) => l.outcome !== "not-applicable" && !seen.has(l.code) && seen.add(l.code),
  );
}

/**
 * The outcome chosen for service `l` under the chosen outcome: the reviewer's choice, else the
 * engine's outcome for it where the caller may sign that under this outcome (an approvable code beside
 * a not-covered one starts approved), else the chosen outcome.
 */
function lineChoice(s: State, l: Line): Outcome {
  const d = s.decision;
  const picked = d.lines?.[l.code];
  if (picked) return picked;
  const options: string[] = lineOptions(s.view.review!.authority ?? NOTHING, d.outcome!);
  return options.includes(l.outcome) ? (l.outcome as Outcome) : d.outcome!;
}

/** Whether the per-service choice applies: an adverse outcome the caller signs, on several services. */
function perService(s: State): boolean {
  const o = s.decision.outcome;
  return (
    o !== undefined &&
    isAdverse(o) &&
    modeOf(s.view.review!.authority ?? NOTHING, o) === "sign" &&
    reviewedLines(s).length > 1
  );
}

/**
 * The outcome of each reviewed service where they differ (SPEC 2.2 lines), or undefined when every
 * one takes the chosen outcome (a request of one service always does).
 */
function linesOf(s: State): { code: string; outcome: Outcome }[] | undefined {
  if (!perService(s)) return undefined;
  const out = reviewedLines(s).map((l) => ({ code: l.code, outcome: lineChoice(s, l) }));
  return out.some((l) => l.outcome !== s.decision.outcome) ? out : undefined;
}

/** The services whose chosen outcome departs from the engine's decisive outcome for them. */
function departing(s: State): string[] {
  const o = s.decision.outcome;
  if (!o) return [];
  const decisive = (x: string) => x === "approved" || x === "denied" || x === "not-covered";
  return reviewedLines(s)
    .filter((l) => decisive(l.outcome) && l.outcome !== (perService(s) ? lineChoice(s, l) : o))
    .map((l) => l.code);
}

/** The outcomes a service may take under the chosen `o`: `o`, a less severe one the caller may sign. */
function lineOptions(a: Authority, o: Outcome): Outcome[] {
  return OUTCOMES.filter(
    (x) => x === o || (OUTCOME_SEVERITY[x] < OUTCOME_SEVERITY[o] && modeOf(a, x) === "sign"),
  ).reverse();
}

/** Whether the chosen outcome departs from the engine's and will be signed (a recommendation signs nothing). */
function needsOverride(s: State): boolean {
  const e = engineDecision(s);
  const d = s.decision;
  if (d.outcome === undefined) return false;
  if (modeOf(s.view.review!.authority ?? NOTHING, d.outcome) !== "sign") return false;
  // On several services, each one's outcome is compared with the engine's for it, as the server does.
  if (reviewedLines(s).length > 1 && departing(s).length > 0) return true;
  return e !== undefined && d.outcome !== e;
}

function bodyOf(s: State): DecisionBody {
  const d = s.decision;
  const lines = linesOf(s);
  const b: DecisionBody = {
    outcome: d.outcome!,
    ...(lines && { lines }),
    reason: d.reason.trim(),
    criteria: citable(s, d.outcome)
      .map((c) => c.criterion)
      .filter((c) => d.criteria.includes(c)),
    version: s.view.review!.version,
  };
  if (needsOverride(s)) b.overrideReason = d.overrideReason.trim();
  return b;
}

/** What a preview was made of: any change to it makes the preview stale (the version is not part). */
function keyOf(s: State): string {
  const { version: _v, ...rest } = bodyOf(s);
  return JSON.stringify(rest);
}

/** The first thing wrong with the input, and the control to go to; checked before every call. */
function problem(s: State): { text: string; focus: string } | undefined {
  const d = s.decision;
  if (!d.outcome) return { text: "Choose an outcome.", focus: "dec-outcome-first" };
  if (visibleLength(d.reason) < 3)
    return {
      text: "Write the reason (at least 3 characters): it goes into the letter exactly as written.",
      focus: "dec-reason",
    };
  const lines = linesOf(s);
  if (lines?.every((l) => l.outcome === "approved"))
    return { text: "Every service is approved: choose Approve as the outcome.", focus: "dec-outcome-first" };
  if (lines && !lines.some((l) => l.outcome === d.outcome))
    return {
      text: `No service is ${OUTCOME_LABEL[d.outcome]}: the outcome is the most severe service's; choose it.`,
      focus: "dec-outcome-first",
    };
  if (isAdverse(d.outcome) && bodyOf(s).criteria.length === 0)
    return {
      text:
        citable(s, d.outcome).length === 0
          ? `Nothing in the current determination supports “${OUTCOME_LABEL[d.outcome]}”: no criterion failed. Answer the open questions or request more information.`
          : "Cite at least one criterion the decision rests on.",
      focus: "dec-cite-first",
    };
  if (needsOverride(s) && visibleLength(d.overrideReason) < 10)
    return {
      text: "Say why you depart from the engine's recommendation (at least 10 characters).",
      focus: "dec-override",
    };
  return undefined;
}

/** The control that holds the field an API error names (`criteria.0`, `overrideReason`, `reason`). */
function focusOfField(field: string | undefined): string | undefined {
  if (!field) return undefined;
  if (field.startsWith("criteria")) return "dec-cite-first";
  if (field === "overrideReason") return "dec-override";
  if (field === "reason") return "dec-reason";
  if (field === "outcome") return "dec-outcome-first";
  if (field.startsWith("lines")) return "dec-lines";
  return undefined;
}

function recommendationBox(p: ReviewPage, rec: Recommendation, canAdopt: boolean) {
  const s = p.s;
  const seq = stored(s.view).seq;
  return h(
    "div",
    { class: "rv-recommendation", id: "recommendation" },
    h(
      "h3",
      null,
      `Recommendation by ${rec.by.name}`,
      h("span", { class: "muted small" }, ` (${ROLE_LABEL[rec.by.role] ?? rec.by.role})`),
    ),
    h("p", null, outcomeBadge(rec.outcome), h("span", { class: "muted small" }, ` ${dateTime(rec.at)}`)),
    h("p", { class: "rv-reason" }, rec.reason),
    rec.criteria.length
      ? h(
          "ul",
          { class: "cited" },
          rec.criteria.map((c) => h("li", null, h("span", { class: "mono" }, c.criterion), " ", c.text)),
        )
      : null,
    rec.determinationSeq !== seq
      ? h(
          "p",
          { class: "notice notice-warn" },
          `Made against determination #${rec.determinationSeq}; the request has changed since (now #${seq}).`,
        )
      : null,
    canAdopt
      ? h(
          "button",
          {
            type: "button",
            class: "btn",
            id: "adopt-recommendation",
            onclick: () => {
              const ok = new Set(citable(s, rec.outcome).map((c) => c.criterion));
              s.decision = {
                outcome: rec.outcome,
                // Only what the current determination still supports.
                criteria: rec.criteria.map((c) => c.criterion).filter((c) => ok.has(c)),
                reason: rec.reason,
                overrideReason: "",
              };
              // The whole panel: the outcome, the citations and the reason all change.
              p.draw();
              document.getElementById("dec-reason")?.focus();
            },
          },
          "Start from this recommendation",
        )
      : null,
  );
}

function signedPanel(p: ReviewPage, head: HTMLElement): HTMLElement {
  const v = p.s.view;
  const d = v.decision as Decision;
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
    d.override
      ? h(
          "p",
          { class: "rv-override" },
          h("strong", null, `Override of the engine's recommendation (${d.override.from}): `),
          d.override.reason,
        )
      : null,
    d.criteria.length
      ? h(
          "ul",
          { class: "cited" },
          d.criteria.map((c) => h("li", null, h("span", { class: "mono" }, c.criterion), " ", c.text)),
        )
      : null,
    d.lines
      ? h(
          "ul",
          { class: "rv-line-decisions", "aria-label": "Decision per service" },
          d.lines.map((l) =>
            h(
              "li",
              { "data-code": l.code },
              h("span", { class: "mono" }, l.code),
              " ",
              outcomeBadge(l.outcome),
              l.criteria?.length
                ? h(
                    "span",
                    { class: "muted small" },
                    ` citing ${l.criteria.map((c) => c.criterion).join(", ")}`,
                  )
                : null,
            ),
          ),
        )
      : null,
    h(
      "p",
      { class: "muted small" },
      `Signed by ${d.signedBy.name} (${ROLE_LABEL[d.signedBy.role] ?? d.signedBy.role}) on ${dateTime(d.signedAt)}, against determination #${d.determinationSeq}.`,
    ),
    h(
      "a",
      { class: "btn btn-primary", href: `#/requests/${encodeURIComponent(v.id)}/letter`, id: "open-letter" },
      "Open the letter",
    ),
  );
}

/** The decision panel (`#decision`, heading `#dec-h`, the target of "Skip to decision"). */
export function decisionPanel(p: ReviewPage): HTMLElement {
  const s = p.s;
  const v = s.view;
  const r = v.review!;
  const head = h("h2", { id: "dec-h", tabindex: "-1" }, "Decision");
  if (v.decision) return signedPanel(p, head);
  if (!isOpen(v))
    return h(
      "section",
      { class: "panel decision", "aria-labelledby": "dec-h", id: "decision" },
      head,
      h("p", null, v.statusText),
    );

  const authority = r.authority ?? NOTHING;
  const offered = OUTCOMES.filter((o) => modeOf(authority, o) !== undefined);
  const canSignAny = OUTCOMES.some((o) => modeOf(authority, o) === "sign");
  const drafts = draftCount(s);
  const disabled = drafts > 0 || offered.length === 0;
  const d = s.decision;
  if (d.outcome && !offered.includes(d.outcome))
    // The outcome is no longer offered; the reason typed for it stays for whatever is chosen next.
    s.decision = { criteria: [], reason: d.reason, overrideReason: d.overrideReason };

  const section = h("section", { class: "panel decision", "aria-labelledby": "dec-h", id: "decision" });
  const citeBox = h("div", { class: "rv-cite-box" });
  const linesBox = h("div", { class: "rv-lines-box" });
  const overrideBox = h("div", { class: "rv-override-box" });
  const actions = h("div", { class: "actions" });
  const previewBox = h("div", { class: "rv-preview-box" });
  const error = h("p", { class: "form-error", role: "alert", id: "dec-error" });

  const setError = (text: string | undefined, focus?: string) => {
    s.decision.error = text;
    error.textContent = text ?? "";
    if (focus) document.getElementById(focus)?.focus();
  };

  /** Drops a preview that no longer matches the input (its letter would differ). */
  const checkPreview = () => {
    if (s.decision.preview && s.decision.preview.key !== keyOf(s)) {
      delete s.decision.preview;
      renderPreview();
    }
  };

  const renderCites = () => {
    const o = s.decision.outcome;
    const list = citable(s, o);
    replace(
      citeBox,
      !o
        ? null
        : list.length === 0
          ? h(
              "p",
              { class: "rv-empty-cite", id: "dec-cite-first", tabindex: "-1" },
              isAdverse(o)
                ? `No criterion of the current determination supports “${OUTCOME_LABEL[o]}”: an adverse decision cites failed criteria only, never an unanswered one.`
                : "No criterion to cite: an approval may cite met criteria, or none.",
            )
          : h(
              "fieldset",
              { class: "cite", ...(disabled && { disabled: true }) },
              h(
                "legend",
                null,
                isAdverse(o) ? "Cite the criteria the decision rests on" : "Cite met criteria (optional)",
              ),
              list.map((c, i) =>
                h(
                  "label",
                  { class: "choice rv-cite" },
                  h("input", {
                    type: "checkbox",
                    name: "criteria",
                    value: c.criterion,
                    id: i === 0 ? "dec-cite-first" : `dec-cite-${c.criterion}`,
                    checked: s.decision.criteria.includes(c.criterion),
                    onchange: (ev: Event) => {
                      const on = (ev.target as HTMLInputElement).checked;
                      const rest = s.decision.criteria.filter((x) => x !== c.criterion);
                      s.decision.criteria = on ? [...rest, c.criterion] : rest;
                      checkPreview();
                    },
                  }),
                  " ",
                  h("span", { class: "mono" }, c.criterion),
                  ` ${c.text} `,
                  h("span", { class: `chip rv-cite-${c.status}` }, c.status.replace("-", " ")),
                ),
              ),
            ),
    );
  };

  /**
   * A request of several services: each may be decided apart under an adverse outcome the caller
   * signs (approve the code whose criteria are met, deny its neighbour), SPEC 2.2 lines.
   */
  const renderLines = () => {
    const o = s.decision.outcome;
    const reviewed = reviewedLines(s);
    const shown = o !== undefined && isAdverse(o) && modeOf(authority, o) === "sign" && reviewed.length > 1;
    if (!shown) {
      replace(linesBox);
      return;
    }
    const options = lineOptions(authority, o);
    replace(
      linesBox,
      h(
        "fieldset",
        { class: "rv-lines", id: "dec-lines", tabindex: "-1", ...(disabled && { disabled: true }) },
        h("legend", null, "Decision per service"),
        h(
          "p",
          { class: "hint", id: "dec-lines-hint" },
          "Each service takes the outcome above unless you decide it apart; an adverse one must rest on a cited criterion of its own.",
        ),
        reviewed.map((l) =>
          h(
            "div",
            { class: "field rv-line" },
            h(
              "label",
              { for: `dec-line-${l.code}` },
              h("span", { class: "mono" }, l.code),
              " ",
              h("span", { class: "muted small" }, `engine: ${OUTCOME_LABEL[l.outcome] ?? l.outcome}`),
            ),
            h(
              "select",
              {
                id: `dec-line-${l.code}`,
                "data-code": l.code,
                "aria-describedby": "dec-lines-hint",
                onchange: (ev: Event) => {
                  const value = (ev.target as HTMLSelectElement).value as Outcome;
                  s.decision.lines = { ...(s.decision.lines ?? {}), [l.code]: value };
                  delete s.decision.error;
                  const asked = needsOverride(s);
                  renderOverride();
                  if (asked)
                    p.app.announce(
                      `${l.code}: ${OUTCOME_LABEL[value]}. Say why you depart from the engine's outcome.`,
                    );
                  checkPreview();
                  error.textContent = "";
                },
              },
              options.map((x) =>
                h("option", { value: x, selected: lineChoice(s, l) === x }, OUTCOME_LABEL[x]),
              ),
            ),
          ),
        ),
      ),
    );
  };

  const renderOverride = () => {
    const e = engineDecision(s);
    replace(
      overrideBox,
      needsOverride(s)
        ? h(
            "div",
            { class: "field" },
            h(
              "label",
              { for: "dec-override" },
              reviewedLines(s).length > 1 && departing(s).length > 0
                ? `Why you depart from the engine's outcome for ${departing(s).join(", ")}`
                : `Why you depart from the engine's recommendation (${e ? OUTCOME_LABEL[e] : ""})`,
            ),
            h("textarea", {
              id: "dec-override",
              name: "overrideReason",
              rows: 3,
              required: true,
              "aria-describedby": "dec-override-hint",
              value: s.decision.overrideReason,
              ...(disabled && { disabled: true }),
              oninput: (ev: Event) => {
                s.decision.overrideReason = (ev.target as HTMLTextAreaElement).value;
                checkPreview();
              },
            }),
            h(
              "span",
              { class: "hint", id: "dec-override-hint" },
              "At least 10 characters; kept in the record and the audit trail.",
            ),
          )
        : null,
    );
  };

  const renderActions = () => {
    const mode = s.decision.outcome ? modeOf(authority, s.decision.outcome) : undefined;
    replace(
      actions,
      mode === "recommend"
        ? h(
            "button",
            {
              type: "button",
              class: "btn btn-primary",
              id: "send-recommendation",
              ...((disabled || s.decision.busy) && { disabled: true }),
              onclick: () => void recommend(),
            },
            "Send recommendation to a medical director",
          )
        : h(
            "button",
            {
              type: "button",
              class: "btn btn-primary",
              id: "preview-letter",
              ...((disabled || s.decision.busy || !canSignAny) && { disabled: true }),
              onclick: () => void preview(),
            },
            "Preview letter",
          ),
    );
  };

  /**
   * The preview is a modal dialog (the letter needs the page's width, not the side column's): focus
   * stays in it until the reviewer signs or goes back to editing (Escape), which discards the preview —
   * a signature always follows a preview of exactly the input it signs.
   */
  const renderPreview = () => {
    const pv = s.decision.preview;
    const old = previewBox.querySelector("dialog");
    if (!pv || disabled) {
      if (old?.open) old.close();
      replace(previewBox);
      return;
    }
    if (old && old.dataset.key === pv.key) return;
    const dialog = h(
      "dialog",
      {
        class: "rv-preview-dialog",
        id: "preview-dialog",
        "aria-labelledby": "preview-h",
        "data-key": pv.key,
      },
      h(
        "div",
        { class: "rv-preview-head" },
        h("h2", { id: "preview-h", tabindex: "-1" }, "Letter preview"),
        h(
          "p",
          { class: "muted small" },
          "The letter, byte for byte, that signing now produces. ",
          h("span", { class: "mono rv-sha", title: pv.sha256 }, `SHA-256 ${pv.sha256.slice(0, 16)}…`),
          pv.verified ? " (checked in your browser)" : "",
        ),
      ),
      letterFrame(pv.html, "Preview of the determination letter", "preview-frame", 0, false),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          { type: "button", class: "btn btn-primary", id: "sign-decision", onclick: () => void sign() },
          "Sign decision",
        ),
        h(
          "button",
          { type: "button", class: "btn", id: "close-preview", onclick: () => dialog.close() },
          "Back to editing",
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      // Closed by the reviewer (Escape or the button), not replaced by a re-render.
      if (!dialog.isConnected) return;
      if (s.decision.preview === pv) delete s.decision.preview;
      replace(previewBox);
      document.getElementById("preview-letter")?.focus();
    });
    replace(previewBox, dialog);
    const show = () => {
      if (dialog.isConnected && !dialog.open) {
        dialog.showModal();
        document.getElementById("preview-h")?.focus();
      }
    };
    // A panel built for a re-render is attached just after: open the dialog then.
    if (dialog.isConnected) show();
    else window.setTimeout(show, 0);
  };

  const redraw = () => {
    renderCites();
    renderLines();
    renderOverride();
    renderActions();
    checkPreview();
    renderPreview();
    error.textContent = s.decision.error ?? "";
  };

  const fail = (err: unknown) => {
    s.decision.busy = false;
    // A failed signature closes the preview: the error is the form's, and the next try previews again.
    const previewed = s.decision.preview !== undefined;
    delete s.decision.preview;
    redraw();
    if (err instanceof ApiError && err.status === 409) {
      // Someone else acted on the request (or its letter changed): take the server's view — the page
      // version the next signature sends — keeping what the reviewer wrote, and say what to do.
      const message = err.message;
      void getRequest(v.id)
        .then((next) =>
          p.reload(next, {
            keepDrafts: true,
            notice: {
              kind: "error",
              text: `${message} — the request was reloaded with the change; your text is kept${previewed ? ": preview the letter again, then sign" : ""}.`,
            },
          }),
        )
        .catch(() => setError(message, previewed ? "preview-letter" : undefined));
      return;
    }
    const msg = err instanceof ApiError ? err.message : String(err);
    setError(msg, err instanceof ApiError ? focusOfField(err.field) : undefined);
  };

  const preview = async () => {
    const wrong = problem(s);
    if (wrong) return setError(wrong.text, wrong.focus);
    setError(undefined);
    s.decision.busy = true;
    renderActions();
    try {
      const key = keyOf(s);
      const pv = await postLetterPreview(v.id, bodyOf(s));
      s.decision.busy = false;
      s.decision.preview = { key, ...pv };
      redraw();
      p.app.announce("Letter preview ready.");
    } catch (err) {
      fail(err);
    }
  };

  const sign = async () => {
    const pv = s.decision.preview;
    const wrong = problem(s);
    if (wrong) return setError(wrong.text, wrong.focus);
    if (!pv || pv.key !== keyOf(s)) return setError("Preview the letter first.", "preview-letter");
    setError(undefined);
    s.decision.busy = true;
    const button = document.getElementById("sign-decision") as HTMLButtonElement | null;
    if (button) button.disabled = true;
    const outcome = s.decision.outcome!;
    try {
      const next = await postDecision(v.id, { ...bodyOf(s), letterSha256: pv.sha256 });
      p.app.announce(`Decision signed: ${OUTCOME_LABEL[outcome]}.`);
      s.decision = { criteria: [], reason: "", overrideReason: "" };
      await p.reload(next, {
        notice: {
          kind: "ok",
          text: `Decision signed: ${OUTCOME_LABEL[outcome]}. The letter is the one you previewed.`,
        },
      });
      document.getElementById("open-letter")?.focus();
    } catch (err) {
      fail(err);
    }
  };

  const recommend = async () => {
    const wrong = problem(s);
    if (wrong) return setError(wrong.text, wrong.focus);
    setError(undefined);
    s.decision.busy = true;
    renderActions();
    const outcome = s.decision.outcome!;
    const { reason, criteria, version } = bodyOf(s);
    try {
      const next = await postRecommendation(v.id, { outcome, reason, criteria, ...(version && { version }) });
      s.decision = { criteria: [], reason: "", overrideReason: "" };
      await p.reload(next, {
        keepDrafts: true,
        notice: {
          kind: "ok",
          text: `Recommendation sent: ${OUTCOME_LABEL[outcome]}. A medical director signs it.`,
        },
      });
      p.app.announce("Recommendation sent to a medical director.");
      document.getElementById("dec-h")?.focus();
    } catch (err) {
      fail(err);
    }
  };

  const reasonBox = h("textarea", {
    id: "dec-reason",
    name: "reason",
    rows: 4,
    required: true,
    minlength: 3,
    "aria-describedby": "dec-reason-hint",
    value: s.decision.reason,
    ...(disabled && { disabled: true }),
    oninput: () => {
      s.decision.reason = reasonBox.value;
      checkPreview();
    },
  });

  const rec = r.workflow?.recommendation;
  const engine = engineDecision(s);
  replace(
    section,
    head,
    h(
      "p",
      { class: "rv-engine" },
      "Engine recommends ",
      outcomeBadge(r.engineOutcome),
      engine ? null : h("span", { class: "muted small" }, " — your decision needs no override reason"),
    ),
    rec ? recommendationBox(p, rec, modeOf(authority, rec.outcome) === "sign" && !disabled) : null,
    authority.note
      ? h(
          "p",
          {
            class: `notice ${canSignAny ? "rv-authority" : "notice-warn"}`,
            id: canSignAny ? "authority-note" : "sign-blocked",
          },
          sentence(authority.note),
        )
      : !canSignAny
        ? h(
            "p",
            { class: "notice notice-warn", id: "sign-blocked" },
            offered.length
              ? "You may recommend a decision; a medical director signs it."
              : "You cannot decide this request.",
          )
        : null,
    drafts > 0 && offered.length
      ? h(
          "p",
          { class: "notice notice-warn" },
          "Save or discard your answers first: a decision is made against the saved determination.",
        )
      : null,
    offered.length === 0
      ? null
      : h(
          "form",
          {
            class: "sign-form",
            novalidate: true,
            onsubmit: (ev: Event) => {
              ev.preventDefault();
              const m = s.decision.outcome ? modeOf(authority, s.decision.outcome) : undefined;
              void (m === "recommend" ? recommend() : s.decision.preview ? sign() : preview());
            },
          },
          h(
            "fieldset",
            { class: "outcome-choice", ...(disabled && { disabled: true }) },
            h("legend", null, "Outcome"),
            offered.map((o, i) =>
              h(
                "label",
                { class: "choice" },
                h("input", {
                  type: "radio",
                  name: "outcome",
                  value: o,
                  id: i === 0 ? "dec-outcome-first" : `dec-outcome-${o}`,
                  "data-mode": modeOf(authority, o),
                  checked: s.decision.outcome === o,
                  required: true,
                  onchange: () => {
                    // A new outcome starts its own citations: nothing carries over (issue 14).
                    s.decision.outcome = o;
                    s.decision.criteria = preselected(s, o);
                    delete s.decision.lines;
                    delete s.decision.error;
                    redraw();
                  },
                }),
                ` ${modeOf(authority, o) === "sign" ? SIGN_LABEL[o] : RECOMMEND_LABEL[o]}`,
                o === engine ? h("span", { class: "muted small" }, " — as the engine recommends") : null,
              ),
            ),
          ),
          citeBox,
          linesBox,
          overrideBox,
          h(
            "div",
            { class: "field" },
            h("label", { for: "dec-reason" }, "Reason (goes into the letter as written)"),
            reasonBox,
            h(
              "span",
              { class: "hint", id: "dec-reason-hint" },
              "Required. Explain the decision in plain words for the member and the provider.",
            ),
          ),
          error,
          actions,
        ),
    previewBox,
  );
  redraw();
  return section;
}
