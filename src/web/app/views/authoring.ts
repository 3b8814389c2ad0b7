/**
 * Authoring (issue 15 item 5), for a policy author (and an administrator): the payer's library with its
 * drafts, and the upload of a document (`POST /api/authoring/documents`, what `medpolicy add` does).
 * A version opens in the workbench (`authoring-workbench.ts`).
 */
import "../authoring.css";
import { ApiError, getAuthoringPolicies, postAuthoringDocument } from "../api.js";
import { h, replace, stackable } from "../dom.js";
import { day } from "../format.js";
import type { App } from "../main.js";
import type { AuthoringAddResult, AuthoringPolicyRow, AuthoringStatus } from "../types.js";
import { base64OfBytes } from "./authoring-model.js";
import { field } from "./fields.js";

export { authoringVersionView } from "./authoring-workbench.js";

/** The largest document the service takes (8 MB decoded). */
const MAX_BYTES = 8 * 1024 * 1024;

const STATUS_TEXT: Record<AuthoringStatus, string> = {
  draft: "Draft",
  effective: "In force",
  future: "Future",
  superseded: "Superseded",
};

/** A version's status badge (`data-status` carries the machine value). */
export function versionBadge(s: AuthoringStatus): HTMLSpanElement {
  return h("span", { class: `badge vstatus-${s}`, "data-status": s }, STATUS_TEXT[s] ?? s);
}

/** `#/authoring/ID/VERSION`. */
export const workbenchHref = (id: string, version: string) =>
  `#/authoring/${encodeURIComponent(id)}/${encodeURIComponent(version)}`;

function policiesTable(rows: AuthoringPolicyRow[]): HTMLElement {
  if (rows.length === 0)
    return h("p", { class: "empty" }, "The library holds no policy yet: add a document below.");
  return h(
    "div",
    { class: "table-wrap" },
    stackable(
      h(
        "table",
        { class: "table au-policies" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            ["Policy", "Title", "Versions", "Open proposals"].map((c) => h("th", { scope: "col" }, c)),
          ),
        ),
        h(
          "tbody",
          null,
          rows.map((p) =>
            h(
              "tr",
              { "data-policy": p.id },
              h("td", { class: "mono" }, p.id),
              h("td", null, p.title),
              h(
                "td",
                null,
                h(
                  "ul",
                  { class: "au-versions" },
                  p.versions.map((v) =>
                    h(
                      "li",
                      null,
                      h(
                        "a",
                        {
                          href: workbenchHref(p.id, v.version),
                          "aria-label": `${p.id} ${v.version}, ${STATUS_TEXT[v.status] ?? v.status}`,
                        },
                        v.version,
                      ),
                      " ",
                      versionBadge(v.status),
                      h(
                        "span",
                        { class: "muted small" },
                        ` effective ${day(v.effective)}${v.approvedBy ? ` · approved by ${v.approvedBy}` : ""}`,
                      ),
                    ),
                  ),
                ),
              ),
              h("td", null, p.openProposals > 0 ? String(p.openProposals) : "none"),
            ),
          ),
        ),
      ),
    ),
  );
}

function addResult(r: AuthoringAddResult): HTMLElement {
  const errors = r.findings.filter((f) => f.severity === "error").length;
  return h(
    "div",
    { class: `notice ${r.status === "added" ? "notice-ok" : "notice-warn"} au-added`, tabindex: "-1" },
    h(
      "p",
      null,
      h("strong", null, r.status === "added" ? "Added" : "Already in the library (unchanged)"),
      ` — ${r.policy}: ${r.versions.length} version${r.versions.length === 1 ? "" : "s"}, ${r.proposed.length} proposed code binding${r.proposed.length === 1 ? "" : "s"}, ${r.findings.length} finding${r.findings.length === 1 ? "" : "s"}${errors ? ` (${errors} error${errors === 1 ? "" : "s"})` : ""}.`,
    ),
    h(
      "ul",
      null,
      r.versions.map((v) =>
        h(
          "li",
          null,
          h("a", { href: workbenchHref(v.id, v.version) }, `Open ${v.id} ${v.version} in the workbench`),
          ` (${v.title || "untitled"}, effective ${day(v.effective)})`,
        ),
      ),
    ),
  );
}

function uploadForm(app: App, onAdded: () => Promise<void>): HTMLElement {
  const status = h("div", { class: "au-upload-status", "aria-live": "polite" });
  const error = h("p", { class: "form-error", role: "alert", id: "au-upload-error" });
  const button = h("button", { type: "submit", class: "btn btn-primary" }, "Add to the library");
  return h(
    "form",
    {
      class: "upload-form au-upload",
      "aria-labelledby": "au-upload-h",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        const form = ev.currentTarget as HTMLFormElement;
        const file = (form.elements.namedItem("document") as HTMLInputElement).files?.[0];
        const id = (form.elements.namedItem("id") as HTMLInputElement).value.trim();
        const version = (form.elements.namedItem("version") as HTMLInputElement).value.trim();
        error.textContent = "";
        replace(status);
        if (!file) {
          error.textContent = "Choose a document to add.";
          return;
        }
        if (file.size > MAX_BYTES) {
          error.textContent = `${file.name} is ${(file.size / 1048576).toFixed(1)} MB: the library takes documents of at most 8 MB.`;
          return;
        }
        button.disabled = true;
        replace(status, h("p", { class: "muted" }, `Reading ${file.name}…`));
        try {
          const contentBase64 = base64OfBytes(new Uint8Array(await file.arrayBuffer()));
          const r = await postAuthoringDocument({
            fileName: file.name,
            contentBase64,
            ...(id && { id }),
            ...(version && { version }),
          });
          const box = addResult(r);
          replace(status, box);
          app.announce(`${r.policy} ${r.status === "added" ? "added" : "unchanged"}.`);
          form.reset();
          await onAdded();
          box.focus();
        } catch (err) {
          replace(status);
          error.textContent = err instanceof Error ? err.message : String(err);
          if (!(err instanceof ApiError)) throw err;
        } finally {
          button.disabled = false;
        }
      },
    },
    h("h2", { id: "au-upload-h" }, "Add a document"),
    h(
      "p",
      { class: "muted small" },
      "A policy document in any format the ingester reads (text, HTML, PDF, Word). Its criteria tree, proposed code bindings and lint's findings are read from it; every version is a draft until you publish it.",
    ),
    field(
      "au-file",
      "Document",
      h("input", {
        type: "file",
        id: "au-file",
        name: "document",
        required: true,
        "aria-describedby": "au-upload-error",
      }),
    ),
    h(
      "div",
      { class: "au-row" },
      field(
        "au-id",
        "Policy id (optional)",
        h("input", {
          type: "text",
          id: "au-id",
          name: "id",
          autocomplete: "off",
          spellcheck: "false",
          "aria-describedby": "au-id-hint",
        }),
        h("span", { class: "hint", id: "au-id-hint" }, "When the document prints none."),
      ),
      field(
        "au-version",
        "Version (optional)",
        h("input", {
          type: "text",
          id: "au-version",
          name: "version",
          autocomplete: "off",
          placeholder: "YYYY-MM",
          "aria-describedby": "au-version-hint",
        }),
        h("span", { class: "hint", id: "au-version-hint" }, "When its revision log cannot name it."),
      ),
    ),
    error,
    h("div", { class: "actions" }, button),
    status,
  );
}

/** `#/authoring`: the payer's library, drafts included, and the upload of a document. */
export async function authoringListView(app: App): Promise<Node> {
  const list = h("div", { class: "au-list" });
  const load = async () => replace(list, policiesTable(await getAuthoringPolicies()));
  await load();
  return h(
    "section",
    { class: "au-page" },
    h(
      "div",
      { class: "page-head" },
      h("h1", null, "Authoring"),
      h(
        "p",
        { class: "muted" },
        "Your library's policies and their versions, drafts included. Open a version to bind its codes, declare its facts, attach predicates to its criteria, try cases and publish it.",
      ),
    ),
    h("section", { class: "panel", "aria-label": "Policies of the library" }, list),
    h("section", { class: "panel" }, uploadForm(app, load)),
  );
}
