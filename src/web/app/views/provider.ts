/**
 * What a provider who signs in sees (SPEC 2.4, 4; issue 14): their organization's requests and, for
 * each, the provider-facing status — an unsigned adverse recommendation shows as pended — what is still
 * needed, and, while a reviewer's information request is open, its message and questions: the provider
 * answers them (Yes / No per question, `POST /api/requests/:id/answers`) and uploads documents
 * (`POST /api/requests/:id/attachments`, base64, at most 5 MB).
 */
import { ApiError, api, getProviderRequests, type RequestView } from "../api.js";
import { h, replace, stackable } from "../dom.js";
import { countdown, dateTime, day, shortId } from "../format.js";
import type { App } from "../main.js";

const STATUS_CLASS: Record<string, string> = {
  approved: "outcome-approved",
  pended: "outcome-pended",
  denied: "outcome-denied",
  "not-covered": "outcome-not-covered",
  "not-applicable": "outcome-not-applicable",
  withdrawn: "outcome-not-applicable",
};

/** Provider-facing statuses (SPEC 2.4: an unsigned adverse recommendation is "pended"). */
const STATUS_LABEL: Record<string, string> = {
  approved: "Approved",
  pended: "Pended for review",
  denied: "Denied",
  "not-covered": "Not covered",
  "not-applicable": "No authorization needed",
  withdrawn: "Withdrawn",
};

/** The largest document the server takes (api.md: ≤ 5 MB decoded). */
const MAX_UPLOAD = 5 * 1024 * 1024;

/** An open information request as the provider sees it (issue 14). */
interface InformationRequest {
  at: string;
  message: string;
  questions: { criterion: string; text: string }[];
}

/** `GET /api/requests/:id` as a provider, with issue 14's information request. */
type ProviderRequest = RequestView & { informationRequest?: InformationRequest };

/** One row of `GET /api/requests` as a provider. */
interface ProviderRow {
  id: string;
  status?: string;
  statusText?: string;
  receivedAt: string;
  dueAt: string;
  expedited: boolean;
  informationRequested?: boolean;
  memberName?: string;
  memberId?: string;
  codes?: string[];
  dateOfService?: string;
}

/** `#/mine`: a provider's requests. */
export async function providerView(_app: App): Promise<Node> {
  const rows = (await getProviderRequests()) as ProviderRow[];
  return h(
    "section",
    null,
    h("div", { class: "page-head" }, h("h1", null, "My requests")),
    rows.length === 0
      ? h("p", { class: "empty" }, "Your organization has no requests yet.")
      : h(
          "div",
          { class: "table-wrap" },
          stackable(
            h(
              "table",
              { class: "table provider-table" },
              h("caption", { class: "sr-only" }, "Your organization's requests"),
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  h("th", { scope: "col" }, "Request"),
                  h("th", { scope: "col" }, "Patient"),
                  h("th", { scope: "col" }, "Services"),
                  h("th", { scope: "col" }, "Date of service"),
                  h("th", { scope: "col" }, "Status"),
                  h("th", { scope: "col" }, "Received"),
                  h("th", { scope: "col" }, "Decision due"),
                ),
              ),
              h(
                "tbody",
                null,
                rows.map((r) =>
                  h(
                    "tr",
                    { "data-id": r.id },
                    h(
                      "td",
                      null,
                      h(
                        "a",
                        { href: `#/requests/${encodeURIComponent(r.id)}`, class: "mono", title: r.id },
                        `Request ${shortId(r.id)}`,
                      ),
                    ),
                    h(
                      "td",
                      { class: "pv-patient" },
                      r.memberName ?? (r.memberId ? null : h("span", { class: "muted" }, "—")),
                      r.memberId
                        ? h("span", { class: `mono small${r.memberName ? " muted" : ""}` }, ` ${r.memberId}`)
                        : null,
                    ),
                    h(
                      "td",
                      { class: "mono pv-codes" },
                      r.codes?.length ? r.codes.join(", ") : h("span", { class: "muted" }, "—"),
                    ),
                    h(
                      "td",
                      { class: "pv-dos" },
                      r.dateOfService ? day(r.dateOfService) : h("span", { class: "muted" }, "—"),
                    ),
                    h(
                      "td",
                      null,
                      r.status
                        ? h(
                            "span",
                            { class: `badge ${STATUS_CLASS[r.status] ?? ""}` },
                            r.statusText ?? STATUS_LABEL[r.status] ?? r.status,
                          )
                        : h("span", { class: "muted" }, "—"),
                      r.informationRequested
                        ? h("span", { class: "badge badge-info" }, "Information requested")
                        : null,
                    ),
                    h("td", null, dateTime(r.receivedAt)),
                    h(
                      "td",
                      null,
                      dateTime(r.dueAt),
                      r.expedited ? h("span", { class: "badge badge-expedited" }, "Expedited") : null,
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
  );
}

/** The bytes of a file as base64 (what `POST …/attachments` takes), without the `data:` prefix. */
function base64Of(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error ?? new Error("could not read the file"));
    reader.onload = () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(",") + 1));
    };
    reader.readAsDataURL(file);
  });
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The open information request: its message, a Yes/No answer per question, and the Send button. */
function infoRequestPanel(
  v: ProviderRequest,
  ir: InformationRequest,
  onAnswered: (next: ProviderRequest) => void,
  announce: (msg: string) => void,
): HTMLElement {
  const status = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Send answers");
  // Native radios: arrow keys move within a question's Yes / No without sending anything (issue 14:
  // no surprise changes); only the button sends.
  const questions = ir.questions.map((q, i) =>
    h(
      "li",
      { class: "ir-question", "data-id": q.criterion },
      h(
        "fieldset",
        null,
        h("legend", null, h("span", { class: "mono" }, q.criterion), " ", q.text),
        h(
          "div",
          { class: "yes-no" },
          (["yes", "no"] as const).map((a) =>
            h(
              "label",
              { class: "choice" },
              h("input", {
                type: "radio",
                name: `ir-${i}`,
                value: a,
                id: `ir-${i}-${a}`,
                "data-criterion": q.criterion,
              }),
              a === "yes" ? " Yes" : " No",
            ),
          ),
        ),
      ),
    ),
  );
  const form = h(
    "form",
    {
      class: "ir-form",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const answers: Record<string, boolean> = {};
        for (const input of form.querySelectorAll<HTMLInputElement>("input[type=radio]:checked")) {
          const c = input.dataset.criterion;
          if (c) answers[c] = input.value === "yes";
        }
        if (Object.keys(answers).length === 0) {
          status.textContent = "Answer at least one question.";
          form.querySelector<HTMLInputElement>("input[type=radio]")?.focus();
          return;
        }
        submit.disabled = true;
        status.textContent = "";
        try {
          const next = await api<ProviderRequest>(`/api/requests/${encodeURIComponent(v.id)}/answers`, {
            method: "POST",
            body: { answers },
          });
          announce("Your answers were sent.");
          onAnswered(next);
        } catch (err) {
          submit.disabled = false;
          status.textContent = `Could not send the answers: ${errorText(err)}`;
        }
      },
    },
    h("ul", { class: "ir-questions" }, questions),
    status,
    h("div", { class: "actions" }, submit),
  );
  return h(
    "section",
    { class: "panel info-request", id: "info-request", "aria-labelledby": "info-request-h" },
    h("h2", { id: "info-request-h" }, "More information requested"),
    h("p", { class: "muted small" }, `Requested ${dateTime(ir.at)}`),
    h("blockquote", { class: "ir-message" }, ir.message),
    ir.questions.length ? form : null,
  );
}

/** Upload a document to the request (title + file). */
function uploadPanel(v: ProviderRequest, announce: (msg: string) => void): HTMLElement {
  const status = h("p", { class: "form-error", role: "alert" });
  const done = h("ul", { class: "uploaded", "aria-label": "Documents sent" });
  const title = h("input", { type: "text", id: "doc-title", name: "title", maxlength: 200, required: true });
  const file = h("input", { type: "file", id: "doc-file", name: "file", required: true });
  const submit = h("button", { type: "submit", class: "btn" }, "Upload document");
  // The title follows the chosen file while the user has not typed one: choosing another file (after
  // one was refused) must not upload it under the first file's name.
  let filled = "";
  file.addEventListener("change", () => {
    const f = file.files?.[0];
    const typed = title.value.trim();
    if (f && (typed === "" || typed === filled)) {
      filled = f.name.slice(0, 200);
      title.value = filled;
    }
  });
  const form = h(
    "form",
    {
      class: "upload-form",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const f = file.files?.[0];
        status.textContent = "";
        if (!f) {
          status.textContent = "Choose a file to upload.";
          file.focus();
          return;
        }
        if (f.size > MAX_UPLOAD) {
          status.textContent = "The file is larger than 5 MB.";
          file.focus();
          return;
        }
        const t = title.value.trim() || f.name;
        submit.disabled = true;
        try {
          const meta = await api<{ id: string; title: string; size: number }>(
            `/api/requests/${encodeURIComponent(v.id)}/attachments`,
            {
              method: "POST",
              body: {
                title: t.slice(0, 200),
                contentType: f.type || "application/octet-stream",
                data: await base64Of(f),
              },
            },
          );
          done.append(h("li", null, `${meta.title} (${Math.max(1, Math.round(meta.size / 1024))} KB)`));
          announce(`Uploaded ${meta.title}.`);
          form.reset();
        } catch (err) {
          status.textContent = `Could not upload: ${err instanceof ApiError ? err.message : errorText(err)}`;
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("div", { class: "field" }, h("label", { for: "doc-title" }, "Document title"), title),
    h(
      "div",
      { class: "field" },
      h("label", { for: "doc-file" }, "File"),
      file,
      h("span", { class: "hint" }, "PDF, image or text; at most 5 MB."),
    ),
    status,
    h("div", { class: "actions" }, submit),
  );
  return h(
    "section",
    { class: "panel upload", "aria-labelledby": "upload-h" },
    h("h2", { id: "upload-h" }, "Send a document"),
    form,
    done,
  );
}

/**
 * A request as its provider sees it (SPEC 2.4; issue 14). `app`, when given, reads out what happened
 * after answers and uploads; the view redraws itself with the server's answer.
 */
export function providerRequestView(view: RequestView, app?: Pick<App, "announce">): Node {
  const announce = app?.announce ?? (() => {});
  const root = h("section", { class: "request-provider" });
  const draw = (v: ProviderRequest, focusHeading: boolean) => {
    const ir = v.informationRequest;
    replace(
      root,
      h("p", { class: "crumbs" }, h("a", { href: "#/mine" }, "My requests")),
      h("h1", { title: v.id }, `Request ${shortId(v.id)}`),
      h(
        "p",
        { class: "head-badges" },
        h("span", { class: `badge ${STATUS_CLASS[v.status] ?? ""}` }, v.statusText),
        v.expedited ? h("span", { class: "badge badge-expedited" }, "Expedited") : null,
      ),
      v.policy ? h("p", null, `${v.policy.id} version ${v.policy.version} · ${v.policy.title}`) : null,
      v.status === "pended"
        ? h(
            "p",
            { class: "muted due-line" },
            `A decision is due ${dateTime(v.dueAt)} (${countdown((Date.parse(v.dueAt) - Date.now()) / 60_000).text}).`,
          )
        : null,
      ir
        ? infoRequestPanel(
            v,
            ir,
            (next) => {
              draw(next, true);
            },
            announce,
          )
        : null,
      // While an information request is open, its questions are what is needed: one list, not two.
      !ir && v.needed?.length
        ? h(
            "section",
            { class: "panel" },
            h("h2", null, "Documentation still needed"),
            h(
              "ul",
              null,
              v.needed.map((n) => h("li", null, h("span", { class: "mono" }, n.criterion), " ", n.text)),
            ),
          )
        : null,
      v.status === "pended" ? uploadPanel(v, announce) : null,
      v.decision
        ? h(
            "section",
            { class: "panel" },
            h("h2", null, "Decision"),
            h("p", null, v.decision.reason),
            h(
              "a",
              { class: "btn", href: `#/requests/${encodeURIComponent(v.id)}/letter` },
              "Open the letter",
            ),
          )
        : null,
    );
    if (focusHeading) {
      const h1 = root.querySelector("h1");
      h1?.setAttribute("tabindex", "-1");
      h1?.focus();
    }
  };
  draw(view as ProviderRequest, false);
  return root;
}
