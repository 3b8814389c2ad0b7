/**
 * What a provider who signs in sees (SPEC 2.4, 4): their organization's requests and, for each, the
 * provider-facing status — an unsigned adverse recommendation shows as pended — and what is still needed.
 */
import { getProviderRequests, type RequestView } from "../api.js";
import { h } from "../dom.js";
import { dateTime, dueText, shortId } from "../format.js";
import type { App } from "../main.js";

const STATUS_CLASS: Record<string, string> = {
  approved: "outcome-approved",
  pended: "outcome-pended",
  denied: "outcome-denied",
  "not-covered": "outcome-not-covered",
  "not-applicable": "outcome-not-applicable",
};

/** `#/mine`: a provider's requests. */
export async function providerView(_app: App): Promise<Node> {
  const rows = await getProviderRequests();
  return h(
    "section",
    null,
    h("div", { class: "page-head" }, h("h1", null, "My requests")),
    rows.length === 0
      ? h("p", { class: "empty" }, "Your organization has no requests yet.")
      : h(
          "table",
          { class: "table" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              h("th", { scope: "col" }, "Request"),
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
                null,
                h(
                  "td",
                  null,
                  h(
                    "a",
                    { href: `#/requests/${encodeURIComponent(r.id)}`, class: "mono" },
                    `Request ${shortId(r.id)}`,
                  ),
                ),
                h("td", null, dateTime(r.receivedAt)),
                h("td", null, `${dateTime(r.dueAt)}${r.expedited ? " (expedited)" : ""}`),
              ),
            ),
          ),
        ),
  );
}

/** A request as its provider sees it. */
export function providerRequestView(v: RequestView): Node {
  return h(
    "section",
    { class: "request-provider" },
    h("p", { class: "crumbs" }, h("a", { href: "#/mine" }, "My requests")),
    h("h1", null, `Request ${shortId(v.id)}`),
    h("p", null, h("span", { class: `badge ${STATUS_CLASS[v.status] ?? ""}` }, v.statusText)),
    v.policy ? h("p", null, `${v.policy.id} version ${v.policy.version} · ${v.policy.title}`) : null,
    v.status === "pended"
      ? h("p", { class: "muted" }, `A decision is due ${dueText(v.dueAt).text.replace(/^due /, "")}.`)
      : null,
    v.needed?.length
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
    v.decision
      ? h(
          "section",
          { class: "panel" },
          h("h2", null, "Decision"),
          h("p", null, v.decision.reason),
          h("a", { class: "btn", href: `#/requests/${encodeURIComponent(v.id)}/letter` }, "Open the letter"),
        )
      : null,
  );
}
