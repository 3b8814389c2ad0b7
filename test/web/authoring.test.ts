/**
 * Issue 15 item 5, in real Chromium: a policy author's whole path through the web app on a payer's own
 * library (made with `initLibrary` in a temp folder). Upload the CMS NCD 30.3.3 (acupuncture for chronic
 * low back pain) → its tree beside the source text (a criterion or a finding shows its line) → bind
 * 97810 to section B → declare the number fact `painWeeks` (wk), the form refusing what the model
 * refuses → attach `painWeeks >= 12` to "Lasting 12 weeks or longer" → save (If-Match; a stale etag
 * keeps the author's edits on screen, a refusal is shown beside the save button) → try a case with
 * `painWeeks: 8` (the draft finds B.1.a not met; nothing in force yet) and the impact report → publish
 * with a confirmation (effective, approved by the author). Then the JSON API and a provider's request
 * are decided by date with it. A revision of the document is then tried beside the version in force
 * (the outcome and the criteria that differ highlighted, the semantic diff, the impact on the stored
 * request); a seed document's proposed code bindings are confirmed and dismissed. At 390 px no page
 * scrolls sideways, and the workbench is reachable by keyboard; a reviewer gets neither screen nor API.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { initLibrary } from "../../src/library/add.js";
import { loadLibrary } from "../../src/library/index.js";
import type { Determination } from "../../src/model/index.js";
import { DEMO_USERS, type RunningServer } from "../../src/server/index.js";
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  openSignedIn,
  ROOT,
  SHOTS,
  skipWithoutChromium,
  startWebServer,
} from "./harness.js";

const DOC = join(ROOT, "..", "shared", "corpus", "cms-ncd", "30.3.3_acupuncture_chronic_low_back_pain.txt");
const ID = "NCD.30.3.3";
const VERSION = "2020-01";
const WORKBENCH = `#/authoring/${ID}/${VERSION}`;
/** A seed document with code tables: the ingester proposes bindings from them. */
const SIJ = join(ROOT, "policies", "CP.MP.126", "004_13f8f8ece4477aa0.txt");
/** A CMS NCD with text in its criteria region the ingester cannot place (two cautions). */
const DBS = join(ROOT, "..", "shared", "corpus", "cms-ncd", "160.24_deep_brain_stimulation_et_pd.txt");

type Who = "policyAuthor" | "provider" | "reviewer";

interface Criterion {
  id: string;
  text: string;
  kind: "leaf" | "condition" | "note";
  line: number;
}

describe("authoring in the web app, issue 15 item 5 (Chromium)", { skip: skipWithoutChromium }, () => {
  const temp = mkdtempSync(join(tmpdir(), "medpolicy-authoring-"));
  const libDir = join(temp, "library");
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const tokens = {} as Record<Who, string>;
  const pageErrors: string[] = [];
  /** The case tried in the first test (a later test tries it again). */
  let tried: unknown;
  /** The provider's request decided by the published version (the revision's impact replays it). */
  let requestId = "";

  async function call(
    who: Who,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return fetch(server.url + path, {
      method,
      headers: {
        ...headers,
        authorization: `Bearer ${tokens[who]}`,
        ...(body !== undefined && { "content-type": "application/json" }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  }
  async function json<T>(who: Who, method: string, path: string, body?: unknown): Promise<T> {
    const r = await call(who, method, path, body);
    const t = await r.text();
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${t}`);
    return JSON.parse(t) as T;
  }

  async function signIn(who: Who, hash: string): Promise<void> {
    await openSignedIn(page, server.url, tokens[who], DEMO_USERS[who], hash);
  }

  /** A locator's text, white space folded. */
  const text = async (l: Locator) => ((await l.textContent()) ?? "").replace(/\s+/g, " ");

  /** The page does not scroll sideways at its current width. */
  async function assertNoSideScroll(what: string): Promise<void> {
    const { sw, w, wide } = await page.evaluate(() => {
      const w = window.innerWidth;
      const wide = [...document.querySelectorAll<HTMLElement>("body *")]
        .filter((el) => el.getBoundingClientRect().right > w + 1 && el.offsetParent !== null)
        .slice(0, 5)
        .map(
          (el) =>
            `${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`,
        );
      return { sw: document.documentElement.scrollWidth, w, wide };
    });
    assert.ok(sw <= w, `${what} scrolls sideways at ${w} px: scrollWidth ${sw}: ${wide.join("; ")}`);
  }

  /** Whether line `n` of the source is highlighted and visible inside the source box. */
  async function lineShown(n: number): Promise<boolean> {
    return page.evaluate((n) => {
      const line = document.getElementById(`au-L${n}`);
      const box = document.getElementById("au-source");
      if (!line || !box || !line.classList.contains("is-highlighted")) return false;
      const a = line.getBoundingClientRect();
      const b = box.getBoundingClientRect();
      return a.top >= b.top - 1 && a.bottom <= b.bottom + 1 && a.top >= 0 && a.bottom <= window.innerHeight;
    }, n);
  }

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    initLibrary(libDir);
    server = await startWebServer(temp, { library: loadLibrary(libDir), libraryPollMs: 0 });
    for (const who of ["policyAuthor", "provider", "reviewer"] as const)
      tokens[who] = await server.ctx.auth.issue(DEMO_USERS[who]!);
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    rmSync(temp, { recursive: true, force: true });
  });

  test("the whole path: upload, bind, declare, attach, save, try, publish; then decided by date", async () => {
    // A policy author starts on Authoring; an empty library says so.
    await signIn("policyAuthor", "#/");
    await page.waitForURL(/#\/authoring$/);
    await page.getByRole("heading", { name: "Authoring", level: 1 }).waitFor();
    assert.equal(await page.locator('nav[aria-label="Main"] a[href="#/authoring"]').count(), 1);
    assert.equal(await page.locator('nav[aria-label="Main"] a[href="#/mine"]').count(), 0);
    await page.getByText("The library holds no policy yet").waitFor();

    // Upload the document.
    await page.setInputFiles("#au-file", DOC);
    await page.getByRole("button", { name: "Add to the library" }).click();
    const added = page.locator(".au-added");
    await added.waitFor();
    assert.match(await text(added), /Added.*NCD\.30\.3\.3: 1 version/s);
    await page.locator(`tr[data-policy="${ID}"]`).waitFor();
    assert.match(await text(page.locator(`tr[data-policy="${ID}"]`)), /2020-01 ?Draft/);
    await page.screenshot({ path: join(SHOTS, "authoring-list-1440.png"), fullPage: true });
    await added.getByRole("link", { name: `Open ${ID} ${VERSION} in the workbench` }).click();
    await page.getByRole("heading", { name: `${ID} ${VERSION}`, level: 1 }).waitFor();
    assert.equal(await page.locator("#au-status").getAttribute("data-status"), "draft");
    assert.match(await text(page.locator("#au-approval")), /not approved \(draft\)/);

    // The tree beside the source: a criterion shows its line, highlighted and scrolled into view.
    const criteria = (
      await json<{ criteria: Criterion[] }>(
        "policyAuthor",
        "GET",
        `/api/authoring/policies/${ID}/versions/${VERSION}`,
      )
    ).criteria;
    const lasting = criteria.find((c) => c.text.startsWith("Lasting 12 weeks"))!;
    assert.equal(lasting.id, "B.1.a");
    await page.locator('.au-node[data-id="B.1.a"]').click();
    assert.ok(await lineShown(lasting.line), `line ${lasting.line} highlighted and in view`);
    assert.match(await text(page.locator(`#au-L${lasting.line}`)), /Lasting 12 weeks or longer/);

    // Bind 97810 to section B (the document has no code table: nothing is proposed).
    await page.getByText("No proposal: the document has no code table").waitFor();
    await page.fill("#au-code-codes", "9781");
    await page.selectOption("#au-code-section", "B");
    await page.click("#au-code-submit");
    await page.locator("#au-code-codes-error", { hasText: "not a CPT or HCPCS code" }).waitFor();
    assert.equal(await page.locator("#au-code-codes").getAttribute("aria-invalid"), "true");
    await page.fill("#au-code-codes", "97810");
    await page.click("#au-code-submit");
    await page.locator('.au-codes-table tr[data-codes="97810"]').waitFor();
    assert.match(await text(page.locator("#au-save-state")), /Unsaved changes/);

    // Declare painWeeks: the form refuses a name the model refuses, beside the field.
    await page.fill("#au-fact-name", "PainWeeks");
    await page.selectOption("#au-fact-type", "number");
    await page.fill("#au-fact-description", "Weeks of chronic low back pain");
    await page.fill("#au-fact-unit", "wk");
    await page.fill("#au-fact-min", "0");
    await page.click("#au-fact-submit");
    await page.locator("#au-fact-name-error", { hasText: "lower-case letter" }).waitFor();
    assert.equal(await page.locator("#au-fact-name").getAttribute("aria-invalid"), "true");
    assert.equal(await page.locator("#au-fact-unit").inputValue(), "wk", "what was typed stays");
    await page.fill("#au-fact-name", "painWeeks");
    await page.click("#au-fact-submit");
    await page.locator('.au-facts-table tr[data-fact="painWeeks"]').waitFor();
    assert.match(await text(page.locator('.au-facts-table tr[data-fact="painWeeks"]')), /number.*wk/s);

    // Attach painWeeks >= 12 to "Lasting 12 weeks or longer".
    await page.selectOption("#au-b-criterion", "B.1.a");
    await page.selectOption("#au-b-fact-0", "painWeeks");
    await page.selectOption("#au-b-op-0", ">=");
    await page.fill("#au-b-a-0", "12");
    await page.locator("#au-b-preview", { hasText: "painWeeks ≥ 12" }).waitFor();
    await page.click("#au-b-submit");
    const pred = page.locator(".au-pred").first();
    await pred.waitFor();
    assert.match(await text(pred), /painWeeks ≥ 12/);
    assert.equal(await pred.locator('[data-criterion="B.1.a"]').count(), 1, "shows the criterion it binds");
    await page.locator('.au-node[data-id="B.1.a"] ~ .au-fact-chip', { hasText: "fact painWeeks" }).waitFor();

    // Save: the file on disk is what the author made.
    await page.click("#au-save");
    await page.locator("#au-save-state", { hasText: "Bindings saved" }).waitFor();
    const file = JSON.parse(readFileSync(join(libDir, ID, "bindings.json"), "utf8"));
    assert.deepEqual(file.codes, [{ codes: ["97810"], section: "B" }]);
    assert.deepEqual(file.facts, [
      {
        name: "painWeeks",
        type: "number",
        description: "Weeks of chronic low back pain",
        unit: "wk",
        min: 0,
      },
    ]);
    assert.deepEqual(file.predicates, [
      { match: lasting.text, when: { fact: "painWeeks", op: ">=", value: 12 }, mode: "decides" },
    ]);

    // Someone else saves meanwhile: the author's next save is refused (412), their edit stays on screen.
    await page.fill("#au-code-codes", "97811");
    await page.selectOption("#au-code-section", "B");
    await page.click("#au-code-submit");
    await page.locator('.au-codes-table tr[data-codes="97811"]').waitFor();
    const current = await json<{ bindingsEtag: string; bindings: { authored: Record<string, unknown> } }>(
      "policyAuthor",
      "GET",
      `/api/authoring/policies/${ID}/versions/${VERSION}`,
    );
    const other = await call(
      "policyAuthor",
      "PUT",
      `/api/authoring/policies/${ID}/bindings`,
      {
        ...current.bindings.authored,
        codes: [{ codes: ["97810"], section: "B", why: "another author" }],
      },
      { "if-match": current.bindingsEtag },
    );
    assert.equal(other.status, 200, await other.text());
    // The server's 412 is sent with If-Match naming the etag the workbench read.
    await page.click("#au-save");
    await page.locator("#au-save-notice", { hasText: "saved by someone else" }).waitFor();
    assert.equal(await page.locator('.au-codes-table tr[data-codes="97811"]').count(), 1, "the edit is kept");
    assert.match(await text(page.locator("#au-save-state")), /Unsaved changes/);
    // A refusal (400) is shown beside the save button, in the server's words.
    await page.route(`**/api/authoring/policies/${ID}/bindings`, (route) =>
      route.fulfill({
        status: 400,
        contentType: "application/json",
        body: JSON.stringify({
          error: { code: "bad-input", message: 'predicate 1: fact "x" is not declared' },
        }),
      }),
    );
    await page.click("#au-save");
    await page.locator("#au-save-error", { hasText: 'fact "x" is not declared' }).waitFor();
    await page.unroute(`**/api/authoring/policies/${ID}/bindings`);
    // Saving again replaces the other author's version with the author's.
    await page.click("#au-save");
    await page.locator("#au-save-state", { hasText: "Bindings saved" }).waitFor();
    assert.deepEqual(
      JSON.parse(readFileSync(join(libDir, ID, "bindings.json"), "utf8")).codes.map(
        (c: { codes: string[] }) => c.codes,
      ),
      [["97810"], ["97811"]],
    );
    assert.equal(await text(page.locator("#au-save-error")), "");

    // Try: the example case is there; a case with painWeeks 8 — the draft finds B.1.a not met.
    const example = JSON.parse(await page.inputValue("#au-cases")) as { facts: Record<string, unknown> }[];
    assert.ok("painWeeks" in example[0]!.facts, "the example gives the fact the predicate reads");
    const answers: Record<string, boolean> = {};
    for (const c of criteria) if (c.id !== "B.1.a") answers[c.id] = c.kind !== "note";
    const kase = {
      member: { state: "TX", age: 70 },
      service: { codes: ["97810"], dateOfService: "2026-03-01" },
      answers,
      facts: { painWeeks: 8 },
    };
    tried = kase;
    await page.fill("#au-cases", JSON.stringify([kase], null, 2));
    await page.click("#au-try-run");
    const draft = page.locator('.au-case[data-case="0"] .au-side[data-side="draft"]');
    await draft.waitFor();
    assert.equal(await draft.locator("[data-outcome]").getAttribute("data-outcome"), "denied");
    assert.equal(await draft.locator('.au-reasons li[data-criterion="B.1.a"]').count(), 1, "B.1.a not met");
    assert.match(
      await text(page.locator('.au-case[data-case="0"] .au-side[data-side="in-force"]')),
      /No version in force/,
    );
    // The impact report over the service's (empty) store.
    await page.click("#au-impact-run");
    await page.locator('.au-impact-summary dd[data-key="read"]').waitFor();
    assert.equal(await text(page.locator('.au-impact-summary dd[data-key="read"]')), "0");
    await page.screenshot({ path: join(SHOTS, "authoring-workbench-1440.png"), fullPage: true });
    await page.locator("#au-doc").screenshot({ path: join(SHOTS, "authoring-document-1440.png") });
    await page.locator("#au-preds").screenshot({ path: join(SHOTS, "authoring-predicates-1440.png") });
    await page.locator("#au-try").screenshot({ path: join(SHOTS, "authoring-try-1440.png") });

    // Publish, with a confirmation.
    assert.equal(await page.inputValue("#au-effective"), "2020-01-21");
    await page.click("#au-publish-open");
    await page.locator("#au-confirm-text", { hasText: `Publish ${ID}@${VERSION}` }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "au-publish-confirm");
    await page.click("#au-publish-cancel");
    assert.equal(await page.locator("#au-confirm-text").count(), 0, "cancel publishes nothing");
    await page.click("#au-publish-open");
    await page.click("#au-publish-confirm");
    await page.locator("#au-publish-done", { hasText: "approved by Dr. Ife Okafor" }).waitFor();
    assert.equal(await page.locator("#au-status").getAttribute("data-status"), "effective");
    assert.match(
      await text(page.locator("#au-approval")),
      /effective Jan 21, 2020 · approved by Dr\. Ife Okafor/,
    );
    assert.match(
      await text(page.locator("#au-published")),
      /In force since Jan 21, 2020, approved by Dr\. Ife Okafor/,
    );

    // The list says so too.
    await page.goto(`${server.url}/#/authoring`);
    await page.locator(`tr[data-policy="${ID}"]`).waitFor();
    assert.match(
      await text(page.locator(`tr[data-policy="${ID}"]`)),
      /In force.*approved by Dr\. Ife Okafor/s,
    );

    // Decided by date with it: the JSON API and a provider's request.
    const det = await json<{
      outcome: string;
      policy?: { id: string; version: string };
      reasons: { criterion: string }[];
    }>("provider", "POST", "/api/evaluate", kase);
    assert.equal(det.outcome, "denied");
    assert.deepEqual([det.policy?.id, det.policy?.version], [ID, VERSION]);
    assert.ok(det.reasons.some((r) => r.criterion === "B.1.a"));
    const met = await json<{ outcome: string }>("provider", "POST", "/api/evaluate", {
      ...kase,
      facts: { painWeeks: 14 },
    });
    assert.equal(met.outcome, "approved");
    const before2020 = await call("provider", "POST", "/api/evaluate", {
      ...kase,
      service: { ...kase.service, dateOfService: "2019-12-01" },
    });
    assert.equal(before2020.status, 422, "before its effective date no version decides");
    assert.match(await before2020.text(), /no version of NCD\.30\.3\.3 .*is effective on 2019-12-01/);
    // A provider's request: the engine denies it by the new version (a denial awaits review).
    const req = await json<{ id: string; status: string }>("provider", "POST", "/api/requests", kase);
    requestId = req.id;
    const stored = await json<{
      review: { engineOutcome: string; determinations: { determination: Determination }[] };
    }>("reviewer", "GET", `/api/requests/${req.id}`);
    assert.equal(stored.review.engineOutcome, "denied");
    assert.equal(stored.review.determinations.at(-1)?.determination.policy?.version, VERSION);

    // After publishing, the try shows the version in force beside it, reading alike.
    await page.goto(`${server.url}/${WORKBENCH}`);
    await page.getByRole("heading", { name: `${ID} ${VERSION}`, level: 1 }).waitFor();
    await page.fill("#au-cases", JSON.stringify([kase]));
    await page.click("#au-try-run");
    const inForce = page.locator('.au-case[data-case="0"] .au-side[data-side="in-force"]');
    await inForce.locator("[data-outcome]").waitFor();
    assert.equal(await inForce.locator("[data-outcome]").getAttribute("data-outcome"), "denied");
    assert.match(await text(page.locator('.au-case[data-case="0"]')), /Every criterion reads the same/);

    assert.deepEqual(pageErrors, []);
  });

  test("a revision tried beside the version in force: differing criteria, the semantic diff", async () => {
    // The same NCD, revised: 8 weeks instead of 12. The policy's predicate matches the old wording only.
    const revised = join(temp, "30.3.3_revised.txt");
    writeFileSync(
      revised,
      readFileSync(DOC, "utf8").replace("Lasting 12 weeks or longer", "Lasting 8 weeks or longer"),
    );
    await signIn("policyAuthor", "#/authoring");
    await page.locator(`tr[data-policy="${ID}"]`).waitFor();
    await page.setInputFiles("#au-file", revised);
    await page.fill("#au-version", "2026-01");
    await page.getByRole("button", { name: "Add to the library" }).click();
    await page.locator(".au-added").waitFor();
    await page
      .locator(".au-added")
      .getByRole("link", { name: `Open ${ID} 2026-01 in the workbench` })
      .click();
    await page.getByRole("heading", { name: `${ID} 2026-01`, level: 1 }).waitFor();
    await page.fill("#au-cases", JSON.stringify([tried]));
    await page.click("#au-try-run");
    const kase = page.locator('.au-case[data-case="0"]');
    await kase.locator('.au-side[data-side="in-force"] [data-outcome]').waitFor();
    assert.equal(
      await kase.locator('.au-side[data-side="in-force"] [data-outcome]').getAttribute("data-outcome"),
      "denied",
    );
    assert.equal(
      await kase.locator('.au-side[data-side="draft"] [data-outcome]').getAttribute("data-outcome"),
      "pended",
    );
    assert.match(await text(kase.locator("h4").first()), /outcome differs/);
    // B.1.a: not met in force (painWeeks 8 < 12), unknown in the draft (no predicate reads its new wording).
    const diffRow = kase.locator('.au-diff-table tr.is-different[data-criterion="B.1.a"]');
    assert.equal(await diffRow.locator("td").nth(1).getAttribute("data-status"), "unknown");
    assert.equal(await diffRow.locator("td").nth(2).getAttribute("data-status"), "not-met");
    assert.equal(
      await kase.locator('.au-side[data-side="in-force"] li.is-different[data-criterion="B.1.a"]').count(),
      1,
    );
    assert.equal(
      await page.locator('.au-node.is-different[data-id="B.1.a"]').count(),
      1,
      "marked in the tree",
    );
    // The semantic diff of the version in force → the draft: the reworded criterion.
    const reworded = page.locator("#au-try #diff-reworded");
    await reworded.waitFor();
    assert.match(await text(reworded), /B\.1\.a.*12.*8 weeks/);
    // The impact report: the provider's stored request would be pended by the revision, not denied.
    await page.fill("#au-impact-from", "2026-01-01");
    await page.fill("#au-impact-to", "2026-12-31");
    await page.click("#au-impact-run");
    await page.locator('.au-impact-summary dd[data-key="changed"]').waitFor();
    assert.equal(await text(page.locator('.au-impact-summary dd[data-key="replayed"]')), "1");
    assert.equal(await text(page.locator('.au-impact-summary dd[data-key="changed"]')), "1");
    assert.match(
      await text(page.locator(".au-impact-changes tbody tr")),
      new RegExp(`${requestId}.*denied.*pended.*B\\.1\\.a`),
    );
    await page.locator("#au-try").screenshot({ path: join(SHOTS, "authoring-try-revision-1440.png") });
    assert.deepEqual(pageErrors, []);
  });

  test("proposed code bindings: confirm to a section, dismiss; open proposals counted", async () => {
    // The seed SIJ fusion policy, whose code tables the ingester reads as three proposals.
    await signIn("policyAuthor", "#/authoring");
    await page.locator(`tr[data-policy="${ID}"]`).waitFor();
    await page.setInputFiles("#au-file", SIJ);
    await page.getByRole("button", { name: "Add to the library" }).click();
    await page.locator(".au-added").waitFor();
    const proposals = page.locator('tr[data-policy="CP.MP.126"] td:last-child');
    assert.equal(await text(proposals), "3", "three open proposals");
    await page.locator(".au-added a").first().click();
    await page.locator(".au-proposals").waitFor();
    const row = (codes: string) => page.locator(`.au-proposals tr[data-codes="${codes}"]`);
    assert.equal(await page.locator(".au-proposals tbody tr").count(), 3);
    // The document's own section is preselected; the author may choose another.
    assert.equal(await row("27279").locator("select").inputValue(), "II");
    await row("27279").getByRole("button", { name: "Confirm" }).click();
    await page.locator('.au-codes-table tr[data-codes="27279"]').waitFor();
    assert.equal(await row("27279").count(), 0, "a confirmed proposal leaves the list");
    await row("27280").locator("select").selectOption("II");
    await row("27280").getByRole("button", { name: "Confirm" }).click();
    await page.locator('.au-codes-table tr[data-codes="27280"]').waitFor();
    await row("27278").getByRole("button", { name: "Dismiss" }).click();
    await row("27278").getByRole("button", { name: "Restore" }).waitFor();
    assert.match(await text(row("27278")), /dismissed/);
    await page.click("#au-save");
    await page.locator("#au-save-state", { hasText: "Bindings saved" }).waitFor();
    const file = JSON.parse(readFileSync(join(libDir, "CP.MP.126", "bindings.json"), "utf8"));
    assert.deepEqual(
      file.codes.map((c: { codes: string[]; section: string }) => `${c.codes.join(",")}→${c.section}`),
      ["27279→II", "27280→II"],
    );
    assert.deepEqual(
      file.proposed.map((p: { codes: string[]; status: string }) => `${p.codes.join(",")} ${p.status}`),
      ["27278 dismissed"],
    );
    await page.goto(`${server.url}/#/authoring`);
    await page.locator('tr[data-policy="CP.MP.126"]').waitFor();
    assert.equal(await text(proposals), "none", "no open proposal left");
    assert.deepEqual(pageErrors, []);
  });

  test("text the ingester could not place: the author places it, saves, and lint reports the placements", async () => {
    // CMS NCD 160.24 (deep brain stimulation): two cautions in the criteria region, unplaced.
    await signIn("policyAuthor", "#/authoring");
    await page.locator(`tr[data-policy="${ID}"]`).waitFor();
    await page.setInputFiles("#au-file", DBS);
    await page.getByRole("button", { name: "Add to the library" }).click();
    await page.locator(".au-added").waitFor();
    await page.locator(".au-added a").first().click();
    // A finding of the ingestion report shows its line (the first caution, line 42); another line's
    // button moves the highlight there.
    const finding = page.locator('.au-finding[data-code="unplaced"]').first();
    await finding.locator("button.au-goto").click();
    assert.ok(await lineShown(42), "the finding's line 42 is highlighted and in view");
    await page.locator('.au-finding[data-code="unplaced"]').nth(1).locator("button.au-goto").click();
    assert.ok(await lineShown(44), "line 44 is highlighted and in view");
    assert.ok(!(await page.locator("#au-L42").getAttribute("class"))!.includes("is-highlighted"));
    const details = page.locator("details.au-unplaced");
    await details.locator("summary").click();
    for (const line of [42, 44]) {
      await page.selectOption(`#au-place-${line}`, "narrative");
      await page.fill(`#au-place-${line}-why`, "a clinical caution, not a coverage criterion");
      await page.locator(`#au-place-${line}-why`).press("Tab");
    }
    await page.click("#au-save");
    await page.locator("#au-save-state", { hasText: "Bindings saved" }).waitFor();
    const file = JSON.parse(readFileSync(join(libDir, "NCD.160.24", "bindings.json"), "utf8"));
    assert.deepEqual(
      file.placements.map((p: { line: number; as: string; why: string }) => [p.line, p.as, p.why]),
      [
        [42, "narrative", "a clinical caution, not a coverage criterion"],
        [44, "narrative", "a clinical caution, not a coverage criterion"],
      ],
    );
    // Lint, read back from the service: the lines are placed (info), no longer unplaced (error).
    const v = await json<{ findings: { code: string; severity: string; line?: number }[] }>(
      "policyAuthor",
      "GET",
      "/api/authoring/policies/NCD.160.24/versions/2003-04",
    );
    assert.deepEqual(
      v.findings.filter((f) => f.code === "placed").map((f) => [f.line, f.severity]),
      [
        [42, "info"],
        [44, "info"],
      ],
    );
    assert.equal(v.findings.filter((f) => f.code === "unplaced").length, 0);
    assert.deepEqual(pageErrors, []);
  });

  test("at 390 px: no sideways scroll; the workbench by keyboard", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await signIn("policyAuthor", "#/authoring");
    await page.locator(`tr[data-policy="${ID}"]`).waitFor();
    await assertNoSideScroll("#/authoring");
    // A fresh load, so focus starts at the top of the page.
    await page.goto("about:blank");
    await page.goto(`${server.url}/${WORKBENCH}`);
    await page.getByRole("heading", { name: `${ID} ${VERSION}`, level: 1 }).waitFor();
    await assertNoSideScroll("the workbench");
    // Keyboard: from the top, Tab reaches the Authoring nav link, then a criterion; Enter shows its line.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.className), "skip-link");
    let reachedNav = false;
    let reachedNode = false;
    for (let i = 0; i < 80 && !reachedNode; i++) {
      await page.keyboard.press("Tab");
      const at = await page.evaluate(() => {
        const a = document.activeElement as HTMLElement | null;
        return { href: a?.getAttribute("href"), id: a?.getAttribute("data-id"), cls: a?.className ?? "" };
      });
      if (at.href === "#/authoring") reachedNav = true;
      if (at.cls.includes("au-node") && at.id === "B.1.a") reachedNode = true;
    }
    assert.ok(reachedNav, "Tab reaches the Authoring link");
    assert.ok(reachedNode, "Tab reaches criterion B.1.a in the tree");
    await page.keyboard.press("Enter");
    const line = Number(await page.evaluate(() => document.activeElement?.getAttribute("data-line")));
    assert.ok(await lineShown(line), "Enter on a criterion shows its line");
    // Focus is visible on the control.
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    assert.notEqual(outline, "none");

    // With a try's results side by side (stacked at this width).
    await page.fill("#au-cases", JSON.stringify([tried]));
    await page.click("#au-try-run");
    await page.locator('.au-case[data-case="0"] .au-side[data-side="in-force"] [data-outcome]').waitFor();
    await assertNoSideScroll("the workbench with a try's results");
    await page.screenshot({ path: join(SHOTS, "authoring-workbench-390.png"), fullPage: true });

    // The forms are labelled: every input, select and textarea of the workbench has a label.
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>("main input, main select, main textarea")]
        .filter((el) => {
          const id = el.id;
          return !(
            (id && document.querySelector(`label[for="${id}"]`)) ||
            el.closest("label") ||
            el.getAttribute("aria-label") ||
            el.getAttribute("aria-labelledby")
          );
        })
        .map((el) => `${el.tagName}#${el.id}`),
    );
    assert.deepEqual(unlabelled, []);
    assert.deepEqual(pageErrors, []);
  });

  test("only authors author: a reviewer gets no Authoring link and a 403", async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await signIn("reviewer", "#/authoring");
    await page.getByRole("heading", { name: "Not available for your role" }).waitFor();
    assert.match(await text(page.locator("main")), /for policy authors/);
    assert.equal(await page.locator('nav[aria-label="Main"] a[href="#/authoring"]').count(), 0);
    assert.equal((await call("reviewer", "GET", "/api/authoring/policies")).status, 403);
  });
});
