/**
 * The determination letter (SPEC 4): the server renders it (`GET /api/requests/:id/letter`, HTML);
 * the app fetches it with the reviewer's token and shows it in a same-origin frame without scripts,
 * with Print (the letter alone, not the app around it) and a printable copy in a new tab.
 */
import { ApiError, getLetter } from "../api.js";
import { h } from "../dom.js";
import { shortId } from "../format.js";
import type { App } from "../main.js";

/**
 * A letter shown in a frame: `srcdoc` with the exact HTML, `sandbox` without `allow-scripts` so
 * nothing in the letter runs; `allow-same-origin` lets the app print the frame and size it to the
 * letter (the letter preview of issue 14 uses the same frame).
 */
export function letterFrame(
  html: string,
  title: string,
  id: string,
  minHeight = 600,
  /** Grow the frame to the letter's height (the page scrolls); otherwise the frame scrolls itself. */
  fit = true,
): HTMLIFrameElement {
  const frame = h("iframe", {
    class: "letter-frame",
    title,
    sandbox: "allow-same-origin allow-modals",
    id,
  });
  frame.srcdoc = html;
  if (!fit) return frame;
  frame.addEventListener("load", () => {
    const doc = frame.contentDocument;
    if (doc) frame.style.height = `${Math.max(minHeight, doc.documentElement.scrollHeight + 24)}px`;
  });
  return frame;
}

/** `#/requests/:id/letter`. */
export async function letterView(app: App, params: string[]): Promise<Node> {
  const id = params[0]!;
  const back = app.isReviewer() || app.session?.principal.role !== "provider";
  let html: string;
  try {
    html = await getLetter(id);
  } catch (err) {
    // 409: nothing signed yet (or the stored letter cannot be reproduced): say so, and where to go.
    if (!(err instanceof ApiError) || err.status !== 409) throw err;
    return h(
      "section",
      { class: "letter" },
      h("h1", null, "No letter yet"),
      h("p", null, err.message),
      h(
        "p",
        null,
        "A letter exists once a decision is signed; before signing, the request's decision panel previews it. ",
        h("a", { href: `#/requests/${encodeURIComponent(id)}` }, `Back to request ${shortId(id)}`),
      ),
    );
  }
  const frame = letterFrame(html, `Determination letter for request ${shortId(id)}`, "letter-frame");
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
