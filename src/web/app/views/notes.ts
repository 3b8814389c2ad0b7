/**
 * The review workflow around a request (issue 14): evidence notes under each criterion, the internal
 * notes thread between nurse reviewer and medical director, assignment ("Assign to me" / "Unassign"),
 * and "Request more information", which pends the request to the provider with the chosen open
 * questions. Each action is one API call whose answer (the new request view) re-renders the screen;
 * unsaved answers stay, since none of these change the case.
 */

import { neededOnce } from "../../../model/determination.js";
import {
  ApiError,
  postAssign,
  postInformationRequest,
  postNote,
  type Question,
  type ReviewNote,
} from "../api.js";
import { h } from "../dom.js";
import { sameQuestionIds } from "../engine.js";
import { dateTime, ROLE_LABEL } from "../format.js";
import { isOpen, latest, type Notice, type ReviewPage, type State } from "./review-state.js";

type Where = NonNullable<State["sideNotice"]>["where"];

/** Runs an API call that answers with the new request view, and reports the result at `where`. */
async function act(
  p: ReviewPage,
  where: Where,
  call: () => ReturnType<typeof postNote>,
  ok: string,
  focus?: string,
): Promise<boolean> {
  try {
    const next = await call();
    p.s.sideNotice = { where, kind: "ok", text: ok };
    await p.reload(next, { keepDrafts: true });
    p.app.announce(ok);
    if (focus) document.getElementById(focus)?.focus();
    return true;
  } catch (err) {
    p.s.sideNotice = { where, kind: "error", text: err instanceof ApiError ? err.message : String(err) };
    p.draw();
    return false;
  }
}

function noticeAt(s: State, where: Where): HTMLElement | null {
  const n: Notice | undefined = s.sideNotice?.where === where ? s.sideNotice : undefined;
  return n
    ? h(
        "p",
        {
          class: `notice notice-${n.kind}`,
          role: n.kind === "error" ? "alert" : "status",
          id: `${where}-notice`,
        },
        n.text,
      )
    : null;
}

function byLine(n: ReviewNote): HTMLElement {
  return h(
    "span",
    { class: "rv-note-by" },
    h("strong", null, n.by.name),
    ` (${ROLE_LABEL[n.by.role] ?? n.by.role}) · ${dateTime(n.at)}`,
  );
}

/** Whether the signed-in user works requests (reviewer, medical director). */
function isReviewer(p: ReviewPage): boolean {
  const role = p.app.session?.principal.role;
  return role === "reviewer" || role === "medical-director";
}

/**
 * The evidence notes on `criterion` (and on the other ids of its question), with a form to add one.
 * `prefix` keeps ids unique where a criterion shows twice (open questions and the tree).
 */
export function evidenceNotes(p: ReviewPage, criterion: string, prefix: string): HTMLElement | null {
  const s = p.s;
  const ids = new Set(sameQuestionIds(s.policies, criterion));
  const notes = (s.view.review!.notes ?? []).filter(
    (n) => n.kind === "evidence" && n.criterion !== undefined && ids.has(n.criterion),
  );
  const canWrite = isOpen(s.view) && isReviewer(p);
  if (notes.length === 0 && !canWrite) return null;
  const key = `${prefix}:${criterion}`;
  const open = s.noteOpen === key;
  const boxId = `ev-${prefix}-${criterion}`;
  const toggle = h(
    "button",
    {
      type: "button",
      class: "btn btn-quiet rv-note-toggle",
      id: `${boxId}-toggle`,
      "aria-expanded": open ? "true" : "false",
      "aria-controls": `${boxId}-form`,
      onclick: () => {
        s.noteOpen = open ? undefined : key;
        p.draw();
        document.getElementById(open ? `${boxId}-toggle` : boxId)?.focus();
      },
    },
    open ? "Cancel note" : notes.length ? "Add evidence note" : "Evidence note",
  );
  const area = h("textarea", {
    id: boxId,
    rows: 3,
    required: true,
    value: s.noteDrafts[key] ?? "",
    oninput: (ev: Event) => {
      s.noteDrafts[key] = (ev.target as HTMLTextAreaElement).value;
    },
  });
  const here = s.sideNotice?.where === "evidence" && s.noteOpen === key;
  return h(
    "div",
    { class: "rv-evidence", "data-criterion": criterion },
    notes.length
      ? h(
          "ul",
          { class: "rv-notes" },
          notes.map((n) =>
            h("li", { class: "rv-note" }, byLine(n), h("p", { class: "rv-note-text" }, n.text)),
          ),
        )
      : null,
    canWrite ? toggle : null,
    canWrite && open
      ? h(
          "form",
          {
            class: "rv-note-form",
            id: `${boxId}-form`,
            onsubmit: async (ev: Event) => {
              ev.preventDefault();
              const text = (s.noteDrafts[key] ?? "").trim();
              if (!text) {
                s.sideNotice = { where: "evidence", kind: "error", text: "Write the note first." };
                p.draw();
                document.getElementById(boxId)?.focus();
                return;
              }
              const done = await act(
                p,
                "evidence",
                () => postNote(s.view.id, { kind: "evidence", criterion, text }),
                `Evidence note saved on ${criterion}.`,
              );
              if (done) {
                delete s.noteDrafts[key];
                s.noteOpen = undefined;
                p.draw();
                document.getElementById(`${boxId}-toggle`)?.focus();
              }
            },
          },
          h("label", { for: boxId }, `Evidence note for ${criterion}`),
          area,
          h(
            "div",
            { class: "actions" },
            h("button", { type: "submit", class: "btn btn-primary" }, "Save note"),
          ),
          here ? noticeAt(s, "evidence") : null,
        )
      : null,
  );
}

/** The internal notes thread (`#internal-notes`): never shown to the provider or in a letter. */
export function internalNotesPanel(p: ReviewPage): HTMLElement {
  const s = p.s;
  const notes = (s.view.review!.notes ?? []).filter((n) => n.kind === "internal");
  // Also after the decision: the thread is part of the file (the server keeps every note in the audit trail).
  const canWrite = isReviewer(p);
  return h(
    "section",
    { class: "panel rv-internal", id: "internal-notes", "aria-labelledby": "notes-h" },
    h(
      "h2",
      { id: "notes-h", tabindex: "-1" },
      "Internal notes",
      h("span", { class: "count" }, String(notes.length)),
    ),
    h(
      "p",
      { class: "muted small" },
      "Between nurse reviewers and medical directors: not shown to the provider, not in the letter.",
    ),
    notes.length
      ? h(
          "ol",
          { class: "rv-thread" },
          notes.map((n) =>
            h("li", { class: "rv-note" }, byLine(n), h("p", { class: "rv-note-text" }, n.text)),
          ),
        )
      : h("p", { class: "empty" }, "No notes yet."),
    canWrite
      ? h(
          "form",
          {
            class: "rv-note-form",
            onsubmit: async (ev: Event) => {
              ev.preventDefault();
              const text = s.internalDraft.trim();
              if (!text) {
                s.sideNotice = { where: "internal", kind: "error", text: "Write the note first." };
                p.draw();
                document.getElementById("internal-note")?.focus();
                return;
              }
              if (
                await act(
                  p,
                  "internal",
                  () => postNote(s.view.id, { kind: "internal", text }),
                  "Internal note added.",
                )
              ) {
                s.internalDraft = "";
                p.draw();
                document.getElementById("internal-note")?.focus();
              }
            },
          },
          h("label", { for: "internal-note" }, "Add an internal note"),
          h("textarea", {
            id: "internal-note",
            rows: 3,
            value: s.internalDraft,
            oninput: (ev: Event) => {
              s.internalDraft = (ev.target as HTMLTextAreaElement).value;
            },
          }),
          h("div", { class: "actions" }, h("button", { type: "submit", class: "btn" }, "Add note")),
        )
      : null,
    noticeAt(s, "internal"),
  );
}

/** Who the request is assigned to, with "Assign to me" / "Unassign" (`#assignment`). */
export function assignmentControl(p: ReviewPage): HTMLElement | null {
  const s = p.s;
  const me = p.app.session?.principal;
  if (!me) return null;
  const who = s.view.review!.workflow?.assignee;
  const canAct = isReviewer(p) && isOpen(s.view);
  const mine = who?.sub === me.sub;
  return h(
    "div",
    { class: "rv-assign", id: "assignment" },
    h(
      "span",
      { class: `badge ${who ? "rv-assigned" : ""}`, id: "assignee" },
      who ? `Assigned to ${mine ? "you" : who.name}` : "Unassigned",
    ),
    canAct && !mine
      ? h(
          "button",
          {
            type: "button",
            class: "btn",
            id: "assign-me",
            onclick: () =>
              void act(
                p,
                "assign",
                () => postAssign(s.view.id, { sub: me.sub, name: me.name }),
                "Assigned to you.",
                "unassign",
              ),
          },
          "Assign to me",
        )
      : null,
    canAct && who
      ? h(
          "button",
          {
            type: "button",
            class: "btn",
            id: "unassign",
            onclick: () =>
              void act(p, "assign", () => postAssign(s.view.id, null), "Unassigned.", "assign-me"),
          },
          "Unassign",
        )
      : null,
    noticeAt(s, "assign"),
  );
}

/** The questions a request for information may ask: what the saved determination still needs. */
function askable(s: State): { questions: Question[]; defaults: string[] } {
  const det = latest(s.view);
  return { questions: neededOnce(det), defaults: det.needed.map((n) => n.criterion) };
}

/**
 * `#info-request`: the open request for more information, or (for a reviewer or medical director on
 * an open request) the form that sends one.
 */
export function infoRequestPanel(p: ReviewPage): HTMLElement | null {
  const s = p.s;
  const open = s.view.review!.workflow?.infoRequest;
  if (open)
    return h(
      "section",
      { class: "panel rv-info is-open", id: "info-request", "aria-labelledby": "info-h" },
      h("h2", { id: "info-h", tabindex: "-1" }, "Information requested"),
      h(
        "p",
        { class: "muted small" },
        `By ${open.by.name} (${ROLE_LABEL[open.by.role] ?? open.by.role}) on ${dateTime(open.at)}. The provider sees “pended: more information requested”; their answers re-evaluate the request and close this.`,
      ),
      h("blockquote", { class: "rv-message" }, open.message),
      open.questions.length
        ? h(
            "ul",
            { class: "rv-asked" },
            open.questions.map((q) =>
              h("li", { "data-id": q.criterion }, h("span", { class: "mono" }, q.criterion), " ", q.text),
            ),
          )
        : null,
      noticeAt(s, "info"),
    );
  if (!isOpen(s.view) || !isReviewer(p)) return null;
  const { questions, defaults } = askable(s);
  const chosen = s.info.criteria ?? defaults;
  const toggle = h(
    "button",
    {
      type: "button",
      class: "btn",
      id: "info-toggle",
      "aria-expanded": s.info.open ? "true" : "false",
      "aria-controls": "info-form",
      onclick: () => {
        s.info.open = !s.info.open;
        p.draw();
        document.getElementById(s.info.open ? "info-message" : "info-toggle")?.focus();
      },
    },
    s.info.open ? "Cancel" : "Request more information",
  );
  return h(
    "section",
    { class: "panel rv-info", id: "info-request", "aria-labelledby": "info-h" },
    h("h2", { id: "info-h", tabindex: "-1" }, "More information from the provider"),
    h(
      "p",
      { class: "muted small" },
      "Pends the request to the provider with your message and questions (also answered through PAS).",
    ),
    toggle,
    s.info.open
      ? h(
          "form",
          {
            class: "rv-info-form",
            id: "info-form",
            onsubmit: async (ev: Event) => {
              ev.preventDefault();
              const message = s.info.message.trim();
              if (message.length < 3) {
                s.sideNotice = { where: "info", kind: "error", text: "Write a message to the provider." };
                p.draw();
                document.getElementById("info-message")?.focus();
                return;
              }
              const picked = s.info.criteria ?? defaults;
              const criteria = questions.map((q) => q.criterion).filter((c) => picked.includes(c));
              if (questions.length > 0 && criteria.length === 0) {
                s.sideNotice = { where: "info", kind: "error", text: "Choose at least one question to ask." };
                p.draw();
                document.getElementById(`ask-${questions[0]!.criterion}`)?.focus();
                return;
              }
              if (
                await act(
                  p,
                  "info",
                  () =>
                    postInformationRequest(s.view.id, {
                      message,
                      // No open question: the message goes alone (the server's default list is empty).
                      ...(criteria.length > 0 && { criteria }),
                    }),
                  "Information requested: the request is pended to the provider.",
                  "info-h",
                )
              )
                s.info = { open: false, message: "" };
            },
          },
          h("label", { for: "info-message" }, "Message to the provider"),
          h("textarea", {
            id: "info-message",
            rows: 3,
            required: true,
            value: s.info.message,
            oninput: (ev: Event) => {
              s.info.message = (ev.target as HTMLTextAreaElement).value;
            },
          }),
          questions.length
            ? h(
                "fieldset",
                { class: "rv-ask" },
                h("legend", null, "Questions to ask"),
                questions.map((q) =>
                  h(
                    "label",
                    { class: "choice" },
                    h("input", {
                      type: "checkbox",
                      name: "ask",
                      value: q.criterion,
                      id: `ask-${q.criterion}`,
                      checked: chosen.includes(q.criterion),
                      onchange: (ev: Event) => {
                        const on = (ev.target as HTMLInputElement).checked;
                        const rest = (s.info.criteria ?? defaults).filter((c) => c !== q.criterion);
                        s.info.criteria = on ? [...rest, q.criterion] : rest;
                      },
                    }),
                    " ",
                    h("span", { class: "mono" }, q.criterion),
                    ` ${q.text}`,
                  ),
                ),
              )
            : h("p", { class: "muted small" }, "No open question: the message goes alone."),
          h(
            "div",
            { class: "actions" },
            h(
              "button",
              { type: "submit", class: "btn btn-primary", id: "send-info" },
              "Send to the provider",
            ),
          ),
        )
      : null,
    noticeAt(s, "info"),
  );
}
