/**
 * Issue 14 acceptance — every page at 390 px and 1440 px, the keyboard, the queue, the provider's
 * answers, in real Chromium (SPEC 4). Set up as `app.test.ts`: the app is built with Vite into a temp
 * folder, the real server runs in this process on port 0 with a temp data directory, the web plugin and
 * demo users, and requests are seeded through the API.
 *
 * At 390×844 and at 1440×900 every route is visited — sign-in, queue, a request, its letter after
 * signing, the provider's list and request, policies, a policy (each tab), two diffs, metrics — and the
 * page must not scroll sideways: `document.documentElement.scrollWidth <= viewport width`. When it does,
 * the failure names the elements that stick out (selector and right edge), so the owner can fix them.
 * The queue: search by member name and by NPI, "Assign to me" then the Mine filter, the expedited
 * countdown in hours, moving every minute in place. The keyboard: the skip link comes first and moves
 * focus to the main content, the nav is reachable, focus is visible, Tab reaches the last control.
 * The provider answers an information request and uploads a document. Screenshots of each page go to
 * test-output/screenshots/responsive-*.png.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import { DEMO_USERS, type RunningServer } from "../../src/server/index.js";
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  collectErrors,
  ROOT,
  SHOTS,
  skipWithoutChromium,
  startWebServer,
} from "./harness.js";

const skip = skipWithoutChromium;

const VIEWPORTS = [
  { width: 390, height: 844 },
  { width: 1440, height: 900 },
] as const;

/** Luhn-valid NPIs (api.md). */
const NPI_ALVAREZ = "1245319599";
const NPI_LAKESIDE = "1003000126";

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, "test/service/fixtures", `${name}.json`), "utf8")) as Record<
    string,
    unknown
  >;
}

/** A case with the clinical picture of issue 14: member name and id, requesting provider and NPI. */
function withPeople(
  c: Record<string, unknown>,
  member: { name: string; id: string },
  provider: { name: string; npi: string },
): Record<string, unknown> {
  const out = structuredClone(c);
  delete out.id;
  out.member = { ...(out.member as Record<string, unknown>), ...member };
  out.providers = { requesting: provider };
  out.diagnoses = [{ code: "G89.4", display: "Chronic pain syndrome" }];
  return out;
}

/**
 * The elements that stick out past the right edge of the viewport (outermost first), as
 * `tag#id.class` and their right edge: what the failure message names.
 */
async function overflowing(page: Page): Promise<string[]> {
  // No named functions inside: tsx would wrap them in a helper the page does not have.
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const out: string[] = [];
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= vw + 0.5) continue;
      // Report the outermost offender only (its children overflow with it) and nothing that a box of
      // its own clips or scrolls (a table scrolling in its container does not move the page).
      const parent = el.parentElement;
      if (parent && parent !== document.body && parent.getBoundingClientRect().right > vw + 0.5) continue;
      let clipped = false;
      for (let a = el.parentElement; a && a !== document.body && !clipped; a = a.parentElement) {
        const cs = getComputedStyle(a);
        clipped =
          (cs.overflowX !== "visible" || cs.clip !== "auto") && a.getBoundingClientRect().right <= vw + 0.5;
      }
      if (clipped) continue;
      const path: string[] = [];
      for (let e: Element | null = el; e && e !== document.body && path.length < 4; e = e.parentElement) {
        const cls = [...e.classList].slice(0, 3).join(".");
        path.unshift(`${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""}${cls ? `.${cls}` : ""}`);
      }
      out.push(`${path.join(" > ")} (right ${Math.round(r.right)} px, width ${Math.round(r.width)} px)`);
      if (out.length >= 8) break;
    }
    return out;
  });
}

describe("every page at 390 and 1440 px, keyboard, queue (issue 14, Chromium)", { skip }, () => {
  const temp = mkdtempSync(join(tmpdir(), "medpolicy-responsive-"));
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const errors: string[] = [];

  async function call(
    who: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown; text: string }> {
    const r = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${tokens[who]}`,
        ...(body !== undefined && { "content-type": "application/json" }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.status, json, text };
  }

  async function submit(name: string, body: Record<string, unknown>): Promise<void> {
    const r = await call("provider", "POST", "/api/requests", body);
    assert.equal(r.status, 201, r.text);
    ids[name] = (r.json as { id: string }).id;
  }

  /** Signs in as a demo user by putting the session where the app keeps it (sessionStorage). */
  async function signInAs(who: keyof typeof DEMO_USERS | "none"): Promise<void> {
    await page.goto(`${server.url}/#/signin`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.evaluate(
      (s) => {
        if (s) sessionStorage.setItem("medpolicy.session", JSON.stringify(s));
        else sessionStorage.removeItem("medpolicy.session");
      },
      who === "none" ? null : { token: tokens[who], principal: DEMO_USERS[who] },
    );
  }

  /**
   * Opens a route in a fresh load of the app (so the session just stored is read, and nothing of the
   * previous screen can satisfy `ready`) and waits until its screen is drawn, not an error.
   */
  async function open(hash: string, ready: string): Promise<void> {
    await page.goto("about:blank");
    await page.goto(`${server.url}/${hash}`);
    await page.locator("main[id=main]:not([aria-busy])").waitFor();
    await page.locator(ready).first().waitFor();
    const failed = await page.locator("main .error-panel").count();
    assert.equal(failed, 0, `${hash}: ${await page.locator("main").textContent()}`);
  }

  async function assertNoSideScroll(name: string, width: number): Promise<void> {
    // Let late layout (iframes sizing to their letter, fonts) settle.
    await page.waitForTimeout(150);
    const sw = await page.evaluate(() => document.documentElement.scrollWidth);
    await page.screenshot({ path: join(SHOTS, `responsive-${width}-${name}.png`), fullPage: true });
    if (sw > width) {
      assert.fail(
        `${name} at ${width} px scrolls sideways: scrollWidth ${sw}. Sticking out:\n  ${(await overflowing(page)).join("\n  ")}`,
      );
    }
  }

  before(async () => {
    server = await startWebServer(temp);
    for (const k of ["provider", "reviewer", "medicalDirector"] as const)
      tokens[k] = await server.ctx.auth.issue(DEMO_USERS[k]!);

    // An expedited request with open questions (72 h from now), a standard one whose member has a long
    // name, and two denials recommended by the engine: one the medical director signs (its letter).
    const open = fixture("trial-nonmalignant-open-questions");
    const expedited = withPeople(
      open,
      { name: "Maria Lopez", id: "M-100200300" },
      { name: "Dr. Ana Alvarez", npi: NPI_ALVAREZ },
    );
    (expedited.service as Record<string, unknown>).expedited = true;
    await submit("expedited", expedited);
    await submit(
      "standard",
      withPeople(
        open,
        { name: "Maximiliana Bartholomew-Fitzgerald Montgomery-Worthington", id: "MBR-0000000000000000042" },
        { name: "Lakeside Spine and Interventional Pain Associates", npi: NPI_LAKESIDE },
      ),
    );
    const notWeaned = fixture("trial-nonmalignant-not-weaned");
    await submit(
      "recommended",
      withPeople(
        notWeaned,
        { name: "Robert Kim", id: "M-555" },
        { name: "Dr. Ana Alvarez", npi: NPI_ALVAREZ },
      ),
    );
    await submit(
      "signed",
      withPeople(
        notWeaned,
        { name: "Jean Park", id: "M-777" },
        { name: "Dr. Ana Alvarez", npi: NPI_ALVAREZ },
      ),
    );

    // The medical director signs a denial citing the failed criterion: a letter to open.
    const view = await call("medicalDirector", "GET", `/api/requests/${ids.signed}`);
    assert.equal(view.status, 200, view.text);
    const citable = (view.json as { review?: { citable?: { denied?: { criterion: string }[] } } }).review
      ?.citable?.denied;
    const criteria = citable?.map((c) => c.criterion) ?? ["I.A.2.g"];
    const signed = await call("medicalDirector", "POST", `/api/requests/${ids.signed}/decision`, {
      outcome: "denied",
      reason: "Systemic opioids were not weaned before the trial.",
      criteria,
    });
    assert.equal(signed.status, 200, signed.text);

    // The nurse recommends the other denial (it goes to a medical director) and asks the provider of the
    // standard request for more information.
    const rec = await call("reviewer", "POST", `/api/requests/${ids.recommended}/recommendation`, {
      outcome: "denied",
      reason: "Systemic opioids were not weaned before the trial.",
      criteria,
    });
    assert.equal(rec.status, 200, rec.text);
    const info = await call("reviewer", "POST", `/api/requests/${ids.standard}/information-request`, {
      message: "Please confirm the opioid weaning and the psychological evaluation before the trial.",
    });
    assert.equal(info.status, 200, info.text);

    mkdirSync(SHOTS, { recursive: true });
    const { chromium } = await import("playwright-core");
    context = await chromium.launchPersistentContext(join(temp, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(10_000);
    collectErrors(page, errors);
  });

  after(async () => {
    await context?.close();
    await server?.close();
    rmSync(temp, { recursive: true, force: true });
  });

  for (const vp of VIEWPORTS) {
    test(`no sideways scroll on any page at ${vp.width}×${vp.height}`, async () => {
      await page.setViewportSize(vp);
      const w = vp.width;

      await signInAs("none");
      await open("#/signin", "h1");
      await assertNoSideScroll("signin", w);

      await signInAs("reviewer");
      await open("#/queue", "table.queue-table tbody tr");
      await assertNoSideScroll("queue", w);

      const policies = (await call("reviewer", "GET", "/api/policies")).json as {
        id: string;
        version: string;
        status: string;
        state?: string;
      }[];
      const corporate = policies.find((p) => p.id === "CP.MP.173" && p.status === "effective");
      assert.ok(corporate, "the corporate CP.MP.173 in force");
      const pages: [string, string, string][] = [
        ["request", `#/requests/${ids.expedited}`, "main h1"],
        ["request-recommended", `#/requests/${ids.recommended}`, "main h1"],
        ["letter", `#/requests/${ids.signed}/letter`, "#letter-frame"],
        ["policies", "#/policies", "table.policies-table"],
        ["policy", `#/policies/${encodeURIComponent("NC.CP.MP.173@2026-01")}`, ".policy-tree li"],
        ["policy-lint", `#/policies/${encodeURIComponent("NC.CP.MP.173@2026-01")}?tab=lint`, ".lint-table"],
        ["policy-codes", `#/policies/${encodeURIComponent("CP.MP.126")}?tab=codes`, ".code-table"],
        ["policy-log", `#/policies/${encodeURIComponent("CP.MP.126")}?tab=log`, "main table"],
        ["policy-126", `#/policies/${encodeURIComponent("CP.MP.126")}`, ".policy-tree li"],
        [
          "diff-la",
          `#/diff?a=${encodeURIComponent("LA.CP.MP.173@2024-02")}&b=${encodeURIComponent("LA.CP.MP.173@2025-02")}`,
          "#diff-removed",
        ],
        [
          "diff-nc",
          `#/diff?a=${encodeURIComponent(`${corporate.id}@${corporate.version}`)}&b=${encodeURIComponent("NC.CP.MP.173@2026-01")}`,
          "#diff-reworded",
        ],
        ["metrics", "#/metrics", "svg.chart-bar"],
      ];
      for (const [name, hash, ready] of pages) {
        await open(hash, ready);
        await assertNoSideScroll(name, w);
      }

      await signInAs("provider");
      await open("#/mine", "main table tbody tr");
      await assertNoSideScroll("provider-list", w);
      await open(`#/requests/${ids.standard}`, "#info-request");
      await assertNoSideScroll("provider-request", w);
      await open(`#/requests/${ids.signed}/letter`, "#letter-frame");
      await assertNoSideScroll("provider-letter", w);
    });
  }

  test("queue: search by member name and by NPI; Assign to me, then Mine; expedited countdown in hours", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await signInAs("reviewer");
    await open("#/queue", "table.queue-table tbody tr");

    const rowIds = () =>
      page
        .locator("table.queue-table tbody tr")
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")));
    const all = await rowIds();
    for (const k of ["expedited", "standard", "recommended"]) assert.ok(all.includes(ids[k]!), k);
    assert.ok(!all.includes(ids.signed!), "a signed request has left the queue");

    // The expedited request stands out, and its countdown is in hours (72 h from receipt).
    const exp = page.locator(`tr[data-id="${ids.expedited}"]`);
    assert.equal(await exp.getAttribute("data-expedited"), "true");
    assert.match((await exp.locator(".badge-expedited").first().textContent()) ?? "", /Expedited/);
    const countdown = (await exp.locator(".due-text").textContent()) ?? "";
    assert.match(countdown, /^(7[01]|6\d) h( \d{1,2} min)? left$/, countdown);
    // A standard one counts in days and hours.
    assert.match(
      (await page.locator(`tr[data-id="${ids.standard}"] .due-text`).textContent()) ?? "",
      /^6 d \d{1,2} h left$/,
    );
    // Member, provider and badges as the server gives them.
    assert.match((await exp.textContent()) ?? "", /Maria Lopez/);
    assert.match((await exp.textContent()) ?? "", new RegExp(`NPI ${NPI_ALVAREZ}`));
    assert.match((await page.locator(`tr[data-id="${ids.standard}"]`).textContent()) ?? "", /Info requested/);
    assert.match(
      (await page.locator(`tr[data-id="${ids.recommended}"]`).textContent()) ?? "",
      /Recommended: denied/,
    );

    // Search by member name (case-insensitive substring), then by NPI.
    const search = page.getByLabel("Search", { exact: true });
    await search.fill("lopez");
    await page.waitForFunction((id) => {
      const rows = [...document.querySelectorAll("table.queue-table tbody tr")];
      return rows.length === 1 && rows[0]!.getAttribute("data-id") === id;
    }, ids.expedited);
    await search.fill(NPI_LAKESIDE);
    await page.waitForFunction((id) => {
      const rows = [...document.querySelectorAll("table.queue-table tbody tr")];
      return rows.length === 1 && rows[0]!.getAttribute("data-id") === id;
    }, ids.standard);
    await assertNoSideScroll("queue-search", 390);
    await search.fill("");
    await page.waitForFunction(() => document.querySelectorAll("table.queue-table tbody tr").length >= 3);

    // Nothing is assigned to the nurse yet: Mine is empty.
    await page.getByLabel("Assignee", { exact: true }).selectOption("me");
    await page.locator("main .empty").filter({ hasText: "No requests match" }).waitFor();
    await page.getByLabel("Assignee", { exact: true }).selectOption("");
    await page.locator(`tr[data-id="${ids.recommended}"]`).waitFor();

    // Assign to me, by keyboard: focus stays on the row's button, which now offers Unassign.
    const assign = page.locator(`tr[data-id="${ids.recommended}"] button`, { hasText: "Assign to me" });
    await assign.focus();
    await page.keyboard.press("Enter");
    await page.locator(`tr[data-id="${ids.recommended}"] button`, { hasText: "Unassign" }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), `assign-${ids.recommended}`);
    assert.match(
      (await page.locator(`tr[data-id="${ids.recommended}"] .assignee`).textContent()) ?? "",
      /Casey Chen, RN \(you\)/,
    );
    const stored = await call("reviewer", "GET", `/api/requests/${ids.recommended}`);
    assert.equal(
      (stored.json as { review: { workflow?: { assignee?: { sub: string } } } }).review.workflow?.assignee
        ?.sub,
      DEMO_USERS.reviewer!.sub,
    );

    // Mine shows it (and only it); Unassigned does not.
    await page.getByLabel("Assignee", { exact: true }).selectOption("me");
    await page.waitForFunction((id) => {
      const rows = [...document.querySelectorAll("table.queue-table tbody tr")];
      return rows.length === 1 && rows[0]!.getAttribute("data-id") === id;
    }, ids.recommended);
    assert.match(page.url(), /assignee=me/);
    await page.getByLabel("Assignee", { exact: true }).selectOption("unassigned");
    await page.waitForFunction((id) => {
      const rows = [...document.querySelectorAll("table.queue-table tbody tr")].map((r) =>
        r.getAttribute("data-id"),
      );
      return rows.length >= 2 && !rows.includes(id);
    }, ids.recommended!);
    await page.getByLabel("Assignee", { exact: true }).selectOption("");
  });

  test("keyboard: skip link first, focus visible, nav reachable, no trap", async () => {
    for (const vp of VIEWPORTS) {
      await page.setViewportSize(vp);
      await signInAs("reviewer");
      await open("#/queue", "table.queue-table tbody tr");
      await page.keyboard.press("Tab");
      const first = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const r = el.getBoundingClientRect();
        const cs = getComputedStyle(el);
        return {
          text: el.textContent,
          tag: el.tagName,
          visible: r.top >= 0 && r.bottom <= innerHeight && r.width > 0,
          outline: cs.outlineStyle,
        };
      });
      assert.equal(first.text, "Skip to main content");
      assert.equal(first.tag, "A");
      assert.ok(first.visible, "the skip link shows when focused");
      assert.notEqual(first.outline, "none", "focus is visible");
      await page.keyboard.press("Enter");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "main");
      assert.equal(new URL(page.url()).hash, "#/queue", "the skip link does not navigate");

      // From the top, Tab reaches the nav links, each with a visible focus ring.
      await open("#/queue", "table.queue-table tbody tr");
      const seen: string[] = [];
      for (let i = 0; i < 8; i++) {
        await page.keyboard.press("Tab");
        const f = await page.evaluate(() => {
          const el = document.activeElement as HTMLElement;
          return {
            text: el.textContent?.trim() ?? "",
            inNav: !!el.closest("nav[aria-label=Main]"),
            outline: getComputedStyle(el).outlineStyle,
          };
        });
        if (f.inNav) {
          seen.push(f.text);
          assert.notEqual(f.outline, "none", `focus visible on ${f.text}`);
        }
      }
      for (const link of ["Queue", "Policies", "Metrics"]) assert.ok(seen.includes(link), `${link}: ${seen}`);

      // No trap: Tab walks forward through every control of the page to the last one.
      await open("#/queue", "table.queue-table tbody tr");
      await page.evaluate(() => {
        const all = document.querySelectorAll<HTMLElement>(
          "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), [tabindex='0']",
        );
        all[all.length - 1]?.setAttribute("data-last-tabbable", "");
      });
      let reached = false;
      for (let i = 0; i < 120 && !reached; i++) {
        await page.keyboard.press("Tab");
        reached = await page.evaluate(
          () => document.activeElement?.hasAttribute("data-last-tabbable") ?? false,
        );
      }
      assert.ok(reached, "Tab reaches the last control of the page");
    }
  });

  test("provider: answers the information request (Yes/No) and uploads a document", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await signInAs("provider");
    await open(`#/requests/${ids.standard}`, "#info-request");
    const panel = page.locator("#info-request");
    assert.match((await panel.textContent()) ?? "", /opioid weaning/);
    const questions = await panel
      .locator(".ir-question")
      .evaluateAll((li) => li.map((x) => x.getAttribute("data-id")));
    assert.ok(questions.length >= 1, "the questions are listed");

    // The title follows the chosen file until one is typed: a second choice (after a refused one) is
    // not sent under the first file's name (a QA pass found it was).
    const fileInput = page.getByLabel("File", { exact: true });
    await fileInput.setInputFiles({ name: "first.txt", mimeType: "text/plain", buffer: Buffer.from("a") });
    assert.equal(await page.getByLabel("Document title").inputValue(), "first.txt");
    await fileInput.setInputFiles({ name: "second.txt", mimeType: "text/plain", buffer: Buffer.from("b") });
    assert.equal(await page.getByLabel("Document title").inputValue(), "second.txt");

    // Upload a document first (the request is still pended); a typed title is kept.
    await page.getByLabel("Document title").fill("Weaning log");
    const doc = Buffer.from("Morphine equivalent reduced by 60% over 8 weeks.\n");
    await page.getByLabel("File", { exact: true }).setInputFiles({
      name: "weaning.txt",
      mimeType: "text/plain",
      buffer: doc,
    });
    await page.getByRole("button", { name: "Upload document" }).click();
    await page.locator(".uploaded li").filter({ hasText: "Weaning log" }).waitFor();
    const rv = await call("reviewer", "GET", `/api/requests/${ids.standard}`);
    const attachments = (rv.json as { review: { attachments?: { title: string; size: number }[] } }).review
      .attachments;
    assert.ok(
      attachments?.some((a) => a.title === "Weaning log" && a.size === doc.length),
      JSON.stringify(attachments),
    );

    // Answer every question with the keyboard: arrow keys choose, nothing is sent until the button.
    for (let i = 0; i < questions.length; i++) {
      await page.locator(`#ir-${i}-yes`).focus();
      await page.keyboard.press("Space");
    }
    const before = await call("reviewer", "GET", `/api/requests/${ids.standard}`);
    assert.ok(
      (before.json as { review: { workflow?: { infoRequest?: unknown } } }).review.workflow?.infoRequest,
      "still open before sending",
    );
    await page.getByRole("button", { name: "Send answers" }).click();
    await page.locator("#info-request").waitFor({ state: "detached" });
    const after = await call("reviewer", "GET", `/api/requests/${ids.standard}`);
    const review = (
      after.json as {
        review: { workflow?: { infoRequest?: unknown }; case: { answers: Record<string, boolean> } };
      }
    ).review;
    assert.equal(review.workflow?.infoRequest, undefined, "the answers closed the information request");
    for (const q of questions) assert.equal(review.case.answers[q!], true, q!);
    assert.deepEqual(errors, [], "no errors in the browser console");
  });

  test("the queue's countdown moves every minute without a reload", async () => {
    // The page's clock runs from now, as the real one, until the test moves it forward.
    await page.clock.install();
    await page.setViewportSize({ width: 1440, height: 900 });
    await signInAs("reviewer");
    await open("#/queue", `tr[data-id="${ids.expedited}"]`);
    const cell = page.locator(`tr[data-id="${ids.expedited}"] .due-text`);
    const minutes = (t: string) => {
      const m = /^(\d+) h(?: (\d+) min)? left$/.exec(t);
      assert.ok(m, t);
      return Number(m[1]) * 60 + Number(m[2] ?? 0);
    };
    const start = minutes((await cell.textContent()) ?? "");
    await page.locator("#q").focus();
    await page.clock.fastForward("03:00:00");
    await page.waitForFunction(
      ([id, before]) => {
        const t = document.querySelector(`tr[data-id="${id}"] .due-text`)?.textContent ?? "";
        const m = /^(\d+) h(?: (\d+) min)? left$/.exec(t);
        return m !== null && Number(m[1]) * 60 + Number(m[2] ?? 0) <= before - 179;
      },
      [ids.expedited!, start] as const,
    );
    const later = minutes((await cell.textContent()) ?? "");
    assert.ok(start - later >= 179 && start - later <= 181, `${start} → ${later}`);
    // Drawn in place: the search box kept the focus.
    assert.equal(await page.evaluate(() => document.activeElement?.id), "q");
  });
});
