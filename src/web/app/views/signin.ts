/**
 * Sign-in (issue 6): in demo mode (`medpolicy serve --demo`, issue 13), a role picker over the server's
 * demo users (`/api/demo-tokens`, loopback only, never through a proxy); otherwise, paste a bearer token
 * from `medpolicy token` or an administrator (`POST /api/tokens`).
 */
import { ApiError, type DemoUser, getDemoTokens, principalOfToken } from "../api.js";
import { h } from "../dom.js";
import { ROLE_LABEL } from "../format.js";
import type { App } from "../main.js";

const ROLE_HINT: Record<string, string> = {
  reviewer: "Answers open criteria and signs decisions",
  "medical-director": "Signs decisions, including those a policy note reserves for medical directors",
  admin: "Reads everything; issues tokens",
  provider: "Sees their organization's requests and what is still needed",
  "policy-author": "Adds policy documents to the library, binds codes and facts, publishes",
};

/** `#/signin`. */
export async function signInView(app: App): Promise<Node> {
  let demo: DemoUser[] = [];
  try {
    demo = Object.values((await getDemoTokens()).tokens);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
  }
  // Reviewers first: this is the reviewers' app.
  const order = ["reviewer", "medical-director", "admin", "provider", "policy-author"];
  demo.sort((a, b) => order.indexOf(a.role) - order.indexOf(b.role));

  const error = h("p", { class: "form-error", role: "alert" });
  const demoForm =
    demo.length > 0 &&
    h(
      "form",
      {
        class: "panel",
        onsubmit: (ev: Event) => {
          ev.preventDefault();
          const form = ev.currentTarget as HTMLFormElement;
          const picked = (form.elements.namedItem("user") as RadioNodeList).value;
          const u = demo.find((d) => d.sub === picked);
          if (!u) {
            error.textContent = "Choose a user to sign in as.";
            return;
          }
          const { token, ...principal } = u;
          app.signIn({ token, principal });
        },
      },
      h(
        "fieldset",
        { class: "role-picker" },
        h("legend", null, "Sign in as a demo user"),
        demo.map((u, i) =>
          h(
            "label",
            { class: "role-option" },
            h("input", { type: "radio", name: "user", value: u.sub, checked: i === 0, required: true }),
            h(
              "span",
              { class: "role-text" },
              h("span", { class: "role-name" }, u.name),
              h("span", { class: "role-role" }, ROLE_LABEL[u.role] ?? u.role),
              h("span", { class: "role-hint" }, ROLE_HINT[u.role] ?? ""),
            ),
          ),
        ),
      ),
      h("button", { type: "submit", class: "btn btn-primary" }, "Sign in"),
    );

  const tokenForm = h(
    "form",
    {
      class: "panel",
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        const input = (ev.currentTarget as HTMLFormElement).elements.namedItem(
          "token",
        ) as HTMLTextAreaElement;
        const token = input.value.trim().replace(/^Bearer\s+/i, "");
        const principal = principalOfToken(token);
        if (!principal) {
          error.textContent = "That does not look like a medpolicy token.";
          input.focus();
          return;
        }
        app.signIn({ token, principal });
      },
    },
    h("h2", null, demo.length > 0 ? "Or use a token" : "Sign in with a token"),
    h("label", { for: "token" }, "Bearer token"),
    h("textarea", {
      id: "token",
      name: "token",
      rows: 3,
      spellcheck: "false",
      autocomplete: "off",
      required: true,
    }),
    h(
      "p",
      { class: "hint" },
      "On the server's machine: npx medpolicy token --role reviewer --sub YOU. An administrator can also issue tokens with POST /api/tokens; demo users appear when the server runs with --demo.",
    ),
    h("button", { type: "submit", class: "btn" }, "Sign in with token"),
  );

  return h(
    "div",
    { class: "signin" },
    h("h1", null, "Sign in"),
    h(
      "p",
      { class: "lede" },
      "Review prior-authorization requests against computable clinical policies: every criterion, its status and where it came from.",
    ),
    error,
    demoForm,
    tokenForm,
  );
}
