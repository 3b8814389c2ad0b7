/**
 * Issue 6 acceptance — the reviewer web app in real Chromium (SPEC 4): the app is built with Vite into
 * a temp folder, the real server runs in this process on port 0 with a temp data directory and the web
 * plugin, and requests are seeded through the API. A reviewer signs in with a demo token, opens a pended
 * request, answers a question and sees the outcome change before saving (the engine runs in the
 * browser), saves; a nurse may not sign the denial (issue 14), so a medical director previews its
 * letter, signs it and opens the letter; the LA redline diff shows the removed I.A.2.f.
 * Screenshots go to test-output/screenshots/; the request screen is copied to docs/screenshots/request.png
 * when that is missing or UPDATE_SCREENSHOTS=1.
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { BrowserContext, Locator, Page } from "playwright-core";
import { DEMO_USERS, type RunningServer } from "../../src/server/index.js";
import { CHROMIUM, CHROMIUM_ARGS, ROOT, SHOTS, skipWithoutChromium, startWebServer } from "./harness.js";

const DOCS_SHOT = join(ROOT, "docs", "screenshots", "request.png");
const skip = skipWithoutChromium;

const DAY = 24 * 3600_000;

/** The text of the first element a locator matches. */
async function text(l: Locator): Promise<string> {
  return (await l.first().textContent()) ?? "";
}

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, "test/service/fixtures", `${name}.json`), "utf8")) as Record<
    string,
    unknown
  >;
}

describe("reviewer web app (Chromium)", { skip }, () => {
  const temp = mkdtempSync(join(tmpdir(), "medpolicy-web-"));
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  let providerToken = "";
  /** Shifts the server clock (an overdue request is one received more than 7 days ago). */
  let offset = 0;
  const ids: Record<string, string> = {};

  async function submit(name: string, body: Record<string, unknown>): Promise<void> {
    const r = await fetch(`${server.url}/api/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${providerToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await r.text();
    assert.equal(r.status, 201, answer);
    ids[name] = (JSON.parse(answer) as { id: string }).id;
  }

  /** Signs out (when signed in) and in again as the demo user whose name matches. */
  async function signInAs(name: RegExp): Promise<void> {
    const out = page.getByRole("button", { name: "Sign out" });
    if (await out.count()) await out.click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByRole("radio", { name }).check();
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.locator("main h1").first().waitFor();
  }

  async function shot(name: string): Promise<string> {
    const path = join(SHOTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  }

  before(async () => {
    server = await startWebServer(temp, { clock: () => new Date(Date.now() + offset) });
    providerToken = await server.ctx.auth.issue(DEMO_USERS.provider!);

    offset = -8 * DAY;
    await submit("overdue", fixture("trial-nonmalignant-not-weaned"));
    offset = 0;
    await submit("pended", fixture("trial-nonmalignant-open-questions"));
    const expedited = fixture("trial-nonmalignant-open-questions");
    (expedited.service as Record<string, unknown>).expedited = true;
    expedited.id = "expedited";
    await submit("expedited", expedited);
    await submit("waiver", fixture("implant-malignant-trial-waiver"));
    await submit("approved", fixture("trial-malignant-met"));
    await submit("sij", fixture("sij-allograft-not-covered"));
    await submit("nc", {
      member: { state: "NC", birthDate: "1961-03-02", lineOfBusiness: "medicaid" },
      service: { codes: ["62350"], dateOfService: "2026-03-01", drug: "morphine" },
      answers: { "I.A.2": true },
    });

    await submit("la", {
      member: { state: "LA", birthDate: "1970-01-01", lineOfBusiness: "medicaid" },
      service: { codes: ["62350", "A4300"], dateOfService: "2026-03-01" },
      answers: {},
    });

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
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    (page as unknown as { _errors: string[] })._errors = errors;
  });

  after(async () => {
    await context?.close();
    await server?.close();
    rmSync(temp, { recursive: true, force: true });
  });

  test("serves the built app with content types and a 404 for unknown assets", async () => {
    const index = await fetch(`${server.url}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get("content-type") ?? "", /text\/html/);
    assert.match(index.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    const html = await index.text();
    const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    const css = /href="(\/assets\/[^"]+\.css)"/.exec(html)?.[1];
    assert.ok(js && css, html);
    const jr = await fetch(server.url + js);
    assert.match(jr.headers.get("content-type") ?? "", /text\/javascript/);
    assert.match(jr.headers.get("cache-control") ?? "", /immutable/);
    assert.match((await fetch(server.url + css)).headers.get("content-type") ?? "", /text\/css/);
    assert.equal((await fetch(`${server.url}/assets/nope.js`)).status, 404);
    assert.equal((await fetch(`${server.url}/assets/..%2f..%2fpackage.json`)).status, 404);
    // The JSON API is untouched by the plugin.
    assert.equal((await fetch(`${server.url}/api/nope`)).status, 404);
    assert.equal((await fetch(`${server.url}/api/ui/requests`)).status, 401);
  });

  test("sign in, queue, answer → live re-evaluation, save; a medical director signs the denial, opens the letter", async () => {
    await page.goto(server.url);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByRole("radio", { name: /Casey Chen, RN/ }).check();
    await page.getByRole("button", { name: "Sign in", exact: true }).click();

    // Queue: soonest due first; the request received 8 days ago is overdue and highlighted.
    await page.getByRole("heading", { name: "Review queue" }).waitFor();
    const rowIds = await page
      .locator("tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")));
    assert.deepEqual(
      rowIds.slice(0, 2),
      [ids.overdue, ids.expedited],
      "overdue first, then the 72 h expedited one",
    );
    assert.ok(!rowIds.includes(ids.approved!), "automatic approvals are not in the queue");
    assert.equal(
      await page.locator(`tr[data-id="${ids.overdue}"] td.due`).getAttribute("data-overdue"),
      "true",
    );
    assert.match(await text(page.locator(`tr[data-id="${ids.overdue}"]`)), /Overdue/);
    await shot("queue");

    // Filters: by member state, then back.
    await page.getByLabel("Member state").selectOption("NC");
    assert.equal(await page.locator("tbody tr").count(), 1);
    await page.getByLabel("Member state").selectOption("");
    await page.getByLabel("Recommendation").selectOption("pended");
    assert.ok((await page.locator("tbody tr").count()) >= 2);
    await page.getByLabel("Recommendation").selectOption("");

    // The pended request: open questions first, the tree with statuses and sources.
    await page.locator(`tr[data-id="${ids.pended}"] a`).click();
    await page.locator("#live-outcome[data-outcome='pended']").waitFor();
    const questions = await page
      .locator(".question-list > li")
      .evaluateAll((li) => li.map((x) => x.getAttribute("data-id")));
    assert.deepEqual(questions, ["I.A.2.g", "I.A.2.h"]);
    assert.equal(
      await page.locator('.tree li[data-id="I.A.1"]').first().getAttribute("data-status"),
      "not-met",
    );
    assert.match(await text(page.locator(".criteria")), /submitted by Dr\. Ana Alvarez/);

    // The request screen for the README: the viewport a reviewer sees first.
    await page.screenshot({ path: join(SHOTS, "request-pended.png") });
    // Refreshed on request only, so a test run does not leave the working tree changed.
    if (!existsSync(DOCS_SHOT) || process.env.UPDATE_SCREENSHOTS === "1") {
      mkdirSync(join(ROOT, "docs", "screenshots"), { recursive: true });
      copyFileSync(join(SHOTS, "request-pended.png"), DOCS_SHOT);
    }

    // Answer I.A.2.g "No" with the keyboard (arrow keys move within the Yes / No / Unknown group):
    // the browser re-evaluates at once, focus stays on the control, and nothing is saved yet.
    await page.locator('[id="q-I.A.2.g-unknown"]').focus();
    await page.keyboard.press("ArrowLeft");
    await page.locator("#live-outcome[data-outcome='denied']").waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "q-I.A.2.g-no");
    const before = await fetch(`${server.url}/api/requests/${ids.pended}`, {
      headers: { authorization: `Bearer ${await server.ctx.auth.issue(DEMO_USERS.reviewer!)}` },
    });
    assert.equal(
      ((await before.json()) as { review: { engineOutcome: string } }).review.engineOutcome,
      "pended",
    );
    assert.match(await text(page.locator(".recommendation")), /I\.A\.2\.g/);

    // Save: the server re-evaluates and agrees.
    await page.getByRole("button", { name: "Save 1 answer" }).click();
    await page.locator("#save-notice").filter({ hasText: "as in your browser" }).waitFor();
    await shot("request");

    // A nurse may not sign the denial (issue 14): she is offered a recommendation, not a signature.
    assert.equal(await page.getByRole("radio", { name: /^Deny/ }).count(), 0);
    assert.equal(
      await page.getByRole("radio", { name: /Recommend: not medically necessary/ }).isChecked(),
      true,
    );

    // The medical director signs it, citing the failed criterion (prefilled from the determination), in
    // their own words, on a previewed letter.
    await signInAs(/Dana Diaz, MD/);
    await page.goto(`${server.url}/#/requests/${ids.pended}`);
    await page.locator("#live-outcome[data-outcome='denied']").waitFor();
    assert.equal(await page.getByRole("radio", { name: /^Deny/ }).isChecked(), true);
    assert.equal(await page.getByRole("checkbox", { name: /I\.A\.2\.g/ }).isChecked(), true);
    await page.getByLabel(/^Reason/).fill("Systemic opioids were not weaned before the trial.");
    await page.getByRole("button", { name: "Preview letter" }).click();
    await page.frameLocator("#preview-frame").locator("body").filter({ hasText: "I.A.2.g" }).waitFor();
    await page.getByRole("button", { name: "Sign decision" }).click();
    await page.locator("#decision").filter({ hasText: "Signed by Dana Diaz, MD" }).waitFor();
    assert.match(await text(page.locator("#decision")), /Denied/);

    // The letter, printable, citing the criterion.
    await page.getByRole("link", { name: "Open the letter" }).click();
    await page.getByRole("heading", { name: "Determination letter" }).waitFor();
    const letter = page.frameLocator("#letter-frame");
    await letter.locator("body").filter({ hasText: "I.A.2.g" }).waitFor();
    assert.match(await text(letter.locator("body")), /Denied/);
    await page.getByRole("button", { name: "Print", exact: true }).waitFor();
    await shot("letter");
    await signInAs(/Casey Chen, RN/);
  });

  test("the browser engine reproduces every stored determination (corporate, NC, LA, CP.MP.126)", async () => {
    for (const name of ["overdue", "expedited", "waiver", "sij", "nc", "la"]) {
      await page.goto(`${server.url}/#/requests/${ids[name]}`);
      const note = page.locator(".engine-note");
      await note.waitFor();
      assert.match(await text(note), /agrees with the stored determination/, name);
    }
    // A multi-code request: the fee-schedule line stays not covered whatever the answers.
    assert.equal(await page.locator("#live-outcome").getAttribute("data-outcome"), "not-covered");
    await page.locator('.tree li[data-id="II.B.1"] [id$="II.B.1-yes"]').first().check();
    assert.equal(await page.locator("#live-outcome").getAttribute("data-outcome"), "not-covered");
    assert.match(await text(page.locator(".lines")), /A4300/);
  });

  test("a request a policy note reserves for medical directors cannot be signed by a reviewer", async () => {
    await page.goto(`${server.url}/#/requests/${ids.waiver}`);
    await page.locator("#live-outcome[data-outcome='review']").waitFor();
    assert.match(await text(page.locator("#sign-blocked")), /only a medical director/);
    // Nothing to choose, preview or sign.
    assert.equal(await page.locator("#decision input[name='outcome']").count(), 0);
    assert.equal(await page.getByRole("button", { name: "Preview letter" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Sign decision" }).count(), 0);
  });

  test("policies: the LA redline diff shows the removed I.A.2.f; NC lint; metrics charts", async () => {
    await page.goto(`${server.url}/#/policies`);
    await page.getByRole("heading", { name: "Policies" }).waitFor();
    await page.getByRole("link", { name: /LA\.CP\.MP\.173: 2024-02 → 2025-02/ }).click();
    await page.getByRole("heading", { name: "LA.CP.MP.173@2024-02 → LA.CP.MP.173@2025-02" }).waitFor();
    const removed = page.locator('#diff-removed li[data-id="I.A.2.f"]');
    await removed.waitFor();
    assert.match(await text(removed), /psychotherapeutic/);
    assert.match(await text(page.locator("#diff-renumbered")), /I\.A\.2\.g\s*→\s*I\.A\.2\.f/);
    await shot("diff-la");

    await page.getByRole("link", { name: /NC variant vs corporate/ }).click();
    await page.locator("#diff-reworded").filter({ hasText: "disabling" }).waitFor();

    await page.goto(`${server.url}/#/policies/${encodeURIComponent("NC.CP.MP.173@2026-01")}?tab=lint`);
    await page.locator(".lint-table").filter({ hasText: "variant-typo" }).waitFor();
    await page.getByRole("link", { name: "Criteria", exact: true }).click();
    await page.locator('.policy-tree li[data-id="I.B.3"]').first().waitFor();
    await shot("policy-nc");

    await page.getByRole("link", { name: "Metrics" }).click();
    await page.getByRole("heading", { name: "Prior-authorization metrics" }).waitFor();
    assert.ok((await page.locator("svg.chart-bar").count()) >= 2);
    await shot("metrics");
  });

  test("a not-covered recommendation from a code list is signed citing its governing section (issue 13)", async () => {
    // The server refuses an adverse decision that cites nothing; a code-list line has no criterion, so
    // the form offers the section itself (CP.MP.126 IV), preselected. Not covered on a "does not
    // support coverage" code is a medical judgment: a medical director's (issue 14).
    await signInAs(/Dana Diaz, MD/);
    await page.goto(`${server.url}/#/requests/${ids.sij}`);
    await page.locator("#live-outcome[data-outcome='not-covered']").waitFor();
    assert.equal(await page.getByRole("radio", { name: /^Not covered/ }).isChecked(), true);
    assert.equal(await page.getByRole("checkbox", { name: /^IV\b/ }).isChecked(), true);
    await page.getByLabel(/^Reason/).fill("SI joint fusion with allograft is not covered under CP.MP.126.");
    await page.getByRole("button", { name: "Preview letter" }).click();
    await page.getByRole("button", { name: "Sign decision" }).click();
    await page.locator("#decision").filter({ hasText: "Signed by Dana Diaz, MD" }).waitFor();
    assert.match(await text(page.locator("#decision")), /Not covered/i);
  });

  test("a provider sees only provider terms: pended for review and what is needed, never an unsigned denial", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("radio", { name: /Dr\. Ana Alvarez/ }).check();
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("heading", { name: "My requests" }).waitFor();
    // Each row names the services and their date of service, as the office finds a request.
    assert.match(
      await text(page.locator(`.provider-table tr[data-id="${ids.la}"]`)),
      /62350, A4300.*Mar 1, 2026/s,
    );
    assert.equal(
      await page.getByRole("link", { name: "Metrics" }).count(),
      0,
      "no reviewer screens for providers",
    );

    await page.goto(`${server.url}/#/requests/${ids.expedited}`);
    await page.getByRole("heading", { name: "Documentation still needed" }).waitFor();
    assert.match(await text(page.locator("main")), /pended for review/);
    assert.match(await text(page.locator("main")), /I\.A\.2\.g/);

    // The unsigned denial recommendation (received 8 days ago) stays "pended for review" for the provider.
    await page.goto(`${server.url}/#/requests/${ids.overdue}`);
    await page.getByText("pended for review").waitFor();
    assert.doesNotMatch(await text(page.locator("main")), /denied/i);

    // The signed denial is theirs to read, with its letter.
    await page.goto(`${server.url}/#/requests/${ids.pended}`);
    await page.getByRole("link", { name: "Open the letter" }).click();
    await page.frameLocator("#letter-frame").locator("body").filter({ hasText: "I.A.2.g" }).waitFor();

    const errors = (page as unknown as { _errors: string[] })._errors;
    assert.deepEqual(errors, [], "no errors in the browser console");
  });
});
