/**
 * The reviewer web app (SPEC 4, issue 6): shell, session and hash router. Views live in `views/`;
 * each returns its content, and may update parts of it later (the request view re-renders on answers).
 * Hash routes keep the server side to one page (`/`), and every screen is a link that can be bookmarked.
 */
import "./styles.css";
import {
  ApiError,
  loadSession,
  type Principal,
  type Session,
  saveSession,
  setUnauthorizedHandler,
} from "./api.js";
import { h, replace } from "./dom.js";
import { ROLE_LABEL } from "./format.js";
import { authoringListView, authoringVersionView } from "./views/authoring.js";
import { letterView } from "./views/letter.js";
import { metricsView } from "./views/metrics.js";
import { diffView, policiesView, policyView } from "./views/policies.js";
import { providerView } from "./views/provider.js";
import { queueView } from "./views/queue.js";
import { requestView } from "./views/request.js";
import { signInView } from "./views/signin.js";

/** What every view gets. */
export interface App {
  session: Session | undefined;
  /** Goes to a hash route (`#/queue`). */
  navigate(hash: string): void;
  /** Reads `msg` out to screen-reader users (polite live region). */
  announce(msg: string): void;
  signIn(s: Session): void;
  signOut(): void;
  isReviewer(): boolean;
}

type View = (app: App, params: string[], query: URLSearchParams) => Promise<Node> | Node;

interface Route {
  pattern: RegExp;
  view: View;
  /** Which roles may open it; any signed-in user when absent. */
  roles?: Principal["role"][];
  public?: boolean;
}

const REVIEWERS: Principal["role"][] = ["reviewer", "medical-director", "admin"];
/** Issue 15 item 5: who may author the payer's library (the server enforces the same). */
const AUTHORS: Principal["role"][] = ["policy-author", "admin"];

const routes: Route[] = [
  { pattern: /^\/signin$/, view: signInView, public: true },
  { pattern: /^\/queue$/, view: queueView, roles: REVIEWERS },
  { pattern: /^\/requests\/([^/]+)\/letter$/, view: letterView },
  { pattern: /^\/requests\/([^/]+)$/, view: requestView },
  { pattern: /^\/mine$/, view: providerView, roles: ["provider"] },
  { pattern: /^\/policies$/, view: policiesView },
  { pattern: /^\/policies\/([^/]+)$/, view: policyView },
  { pattern: /^\/diff$/, view: diffView },
  { pattern: /^\/metrics$/, view: metricsView, roles: REVIEWERS },
  { pattern: /^\/authoring$/, view: authoringListView, roles: AUTHORS },
  { pattern: /^\/authoring\/([^/]+)\/([^/]+)$/, view: authoringVersionView, roles: AUTHORS },
];

const root = document.getElementById("app")!;
const live = h("div", { class: "sr-only", "aria-live": "polite", role: "status", id: "live" });
const main = h("main", { id: "main", tabindex: "-1" });
const nav = h("nav", { "aria-label": "Main" });
const userBox = h("div", { class: "user" });

const app: App = {
  session: loadSession(),
  navigate(hash) {
    if (location.hash === hash) void render();
    else location.hash = hash;
  },
  announce(msg) {
    // Clear first so the same message is read again.
    live.textContent = "";
    window.setTimeout(() => {
      live.textContent = msg;
    }, 50);
  },
  signIn(s) {
    app.session = s;
    saveSession(s);
    app.navigate(home());
  },
  signOut() {
    app.session = undefined;
    saveSession(undefined);
    app.navigate("#/signin");
  },
  isReviewer() {
    return app.session !== undefined && REVIEWERS.includes(app.session.principal.role);
  },
};

setUnauthorizedHandler(() => {
  app.session = undefined;
  saveSession(undefined);
  app.announce("Your session has ended. Please sign in again.");
  location.hash = "#/signin";
});

function home(): string {
  if (!app.session) return "#/signin";
  if (app.session.principal.role === "policy-author") return "#/authoring";
  return app.isReviewer() ? "#/queue" : "#/mine";
}

function navLink(href: string, label: string, current: boolean): HTMLAnchorElement {
  return h("a", { href, class: current ? "current" : "", ...(current && { "aria-current": "page" }) }, label);
}

function renderChrome(path: string): void {
  const s = app.session;
  const links: HTMLElement[] = [];
  if (s) {
    if (app.isReviewer())
      links.push(navLink("#/queue", "Queue", path.startsWith("/queue") || path.startsWith("/requests")));
    else if (s.principal.role === "provider")
      links.push(navLink("#/mine", "My requests", path.startsWith("/mine") || path.startsWith("/requests")));
    links.push(navLink("#/policies", "Policies", path.startsWith("/policies") || path.startsWith("/diff")));
    if (app.isReviewer()) links.push(navLink("#/metrics", "Metrics", path.startsWith("/metrics")));
    if (AUTHORS.includes(s.principal.role))
      links.push(navLink("#/authoring", "Authoring", path.startsWith("/authoring")));
  }
  replace(nav, links);
  replace(
    userBox,
    s
      ? [
          h(
            "span",
            { class: "who" },
            h("span", { class: "who-name" }, s.principal.name),
            h("span", { class: "who-role" }, ROLE_LABEL[s.principal.role] ?? s.principal.role),
          ),
          h("button", { type: "button", class: "btn btn-quiet", onclick: () => app.signOut() }, "Sign out"),
        ]
      : [],
  );
}

let renderSeq = 0;
let firstRender = true;

async function render(): Promise<void> {
  const seq = ++renderSeq;
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path = "/", qs = ""] = raw.split("?", 2);
  const query = new URLSearchParams(qs);
  if (path === "/" || path === "") {
    location.replace(home());
    return;
  }
  const route = routes.find((r) => r.pattern.test(path));
  renderChrome(path);
  if (!route) {
    replace(
      main,
      h("h1", { tabindex: "-1" }, "Not found"),
      h("p", null, h("a", { href: home() }, "Go to the start page")),
    );
    return;
  }
  if (!route.public && !app.session) {
    location.replace("#/signin");
    return;
  }
  if (route.roles && app.session && !route.roles.includes(app.session.principal.role)) {
    replace(
      main,
      h("h1", { tabindex: "-1" }, "Not available for your role"),
      h(
        "p",
        null,
        route.roles === AUTHORS
          ? "This screen is for policy authors. "
          : "This screen is for reviewers and medical directors. ",
        h("a", { href: home() }, "Go to your start page"),
      ),
    );
    return;
  }
  const params = (route.pattern.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
  main.setAttribute("aria-busy", "true");
  replace(main, h("p", { class: "loading" }, "Loading…"));
  let content: Node;
  try {
    content = await route.view(app, params, query);
  } catch (err) {
    content = errorPanel(err);
  }
  if (seq !== renderSeq) return; // A later navigation won.
  replace(main, content);
  main.removeAttribute("aria-busy");
  const h1 = main.querySelector("h1");
  document.title = `${h1?.textContent ?? "medpolicy"} · medpolicy`;
  // Move focus to the new screen's heading so keyboard and screen-reader users start there.
  if (h1 && !firstRender) {
    h1.setAttribute("tabindex", "-1");
    h1.focus({ preventScroll: true });
  }
  firstRender = false;
  window.scrollTo(0, 0);
}

/** A failed screen: the server's message, and what the user can do. */
export function errorPanel(err: unknown): HTMLElement {
  const msg = err instanceof Error ? err.message : String(err);
  const status = err instanceof ApiError ? err.status : undefined;
  return h(
    "div",
    { class: "panel error-panel", role: "alert" },
    h(
      "h1",
      { tabindex: "-1" },
      status === 404 ? "Not found" : status === 403 ? "Not allowed" : "Something went wrong",
    ),
    h("p", null, msg),
    h("p", null, h("a", { href: home() }, "Back to the start page")),
  );
}

root.replaceChildren(
  // Issue 14: the first stop of the Tab key. A real link (announced as one); the hash router owns
  // `location.hash`, so the click moves focus itself instead of following `#main`.
  h(
    "a",
    {
      href: "#main",
      class: "skip-link",
      onclick: (ev: Event) => {
        ev.preventDefault();
        main.focus();
        main.scrollIntoView();
      },
    },
    "Skip to main content",
  ),
  h(
    "header",
    { class: "topbar" },
    h(
      "a",
      { href: "#/", class: "brand", "aria-label": "medpolicy home" },
      h("span", { class: "brand-mark", "aria-hidden": "true" }, "mp"),
      h("span", { class: "brand-name" }, "medpolicy"),
      h("span", { class: "brand-sub" }, "Utilization review"),
    ),
    nav,
    userBox,
  ),
  main,
  live,
);

window.addEventListener("hashchange", () => void render());
// Enter on a radio button or a checkbox would submit its form (the browser's implicit submission): an
// information request sent, or half the answers to one, while choosing (issue 14: no surprise changes).
// Only the form's button sends.
document.addEventListener("keydown", (ev) => {
  const t = ev.target;
  if (ev.key === "Enter" && t instanceof HTMLInputElement && (t.type === "radio" || t.type === "checkbox")) {
    ev.preventDefault();
  }
});
void render();
