/**
 * The determination letter (SPEC 4): the server renders it (`GET /api/requests/:id/letter`, HTML);
 * the app fetches it with the reviewer's token and shows it in a same-origin frame without scripts,
 * with Print (the letter alone, not the app around it) and a printable copy in a new tab.
 */
import { getLetter } from "../api.js";
import { h } from "../dom.js";
import { shortId } from "../format.js";
import type { App } from "../main.js";

/** `#/requests/:id/letter`. */
export async function letterView(app: App, params: string[]): Promise<Node> {
  const id = params[0]!;
  const html = await getLetter(id);
  // allow-same-origin lets the app print the frame and size it to the letter; without allow-scripts
  // nothing in the letter runs.
  const frame = h("iframe", {
    class: "letter-frame",
    title: `Determination letter for request ${shortId(id)}`,
    sandbox: "allow-same-origin allow-modals",
    id: "letter-frame",
  });
  frame.srcdoc = html;
  frame.addEventListener("load", () => {
    const doc = frame.contentDocument;
    if (doc) frame.style.height = `${Math.max(600, doc.documentElement.scrollHeight + 24)}px`;
  });
  const back = app.isReviewer() || app.session?.principal.role !== "provider";
  return h(
    "section",
    { class: "letter" },
    h(
      "p",
      { class: "crumbs" },
      h("a", { href: back ? "#/queue" : "#/mine" }, back ? "Queue" : "My requests"),
      " / ",
      h("a", { href: `#/requests/${encodeURIComponent(id)}` }, `Request ${shortId(id)}`),
      " / letter",
    ),
    h(
      "div",
      { class: "page-head with-actions" },
      h("h1", null, "Determination letter"),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            class: "btn btn-primary",
            onclick: () => frame.contentWindow?.print(),
          },
          "Print",
        ),
        h(
          "button",
          {
            type: "button",
            class: "btn",
            onclick: () => {
              const url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
              window.open(url, "_blank", "noopener");
              // The new tab has loaded it by then; a blob URL otherwise lives as long as the app.
              window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
            },
          },
          "Open printable copy",
        ),
      ),
    ),
    frame,
  );
}
