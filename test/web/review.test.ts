/**
 * Issue 14 acceptance — the reviewer's request screen in real Chromium, at 1440×900 and at 390×844
 * (SPEC 2.4, 4). Set up as `app.test.ts`: the app is built with Vite into a temp folder, the real server
 * runs in this process on port 0 with a temp data directory, the web plugin and demo users; requests
 * are seeded through the API, and the API's answers are checked beside the screen's.
 *
 * At each size: a nurse (role reviewer) gets no control that signs a denial and the API refuses her
 * (403); she records a recommendation, and a medical director signs the denial. A denial citing an
 * unanswered criterion is refused (400, `criteria.N`) and the screen never offers one; switching the
 * outcome carries no citation over. The letter preview's bytes are the signed letter's, byte for byte.
 * "Request more information" pends the request and the provider's view shows the questions. The
 * clinical picture, typed facts, evidence and internal notes, assignment and the keyboard (arrow keys in
 * an answer group change only the live preview; "Skip to decision") work. The page never scrolls
 * sideways (`document.documentElement.scrollWidth <= viewport width`).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { DEMO_USERS, type RunningServer } from "../../src/server/index.js";
import { CHROMIUM, CHROMIUM_ARGS, ROOT, SHOTS, skipWithoutChromium, startWebServer } from "./harness.js";

const skip = skipWithoutChromium;

const VIEWPORTS = [
  { width: 1440, height: 900 },
  { width: 390, height: 844 },
] as const;

type Who = "provider" | "reviewer" | "medicalDirector";

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, "test/service/fixtures", `${name}.json`), "utf8")) as Record<
    string,
    unknown
  >;
}

/** A fixture with the clinical picture of a UM file (synthetic people; Luhn-valid NPIs from api.md). */
function rich(name: string, edit?: (c: Record<string, unknown>) => void): Record<string, unknown> {
  const c = fixture(name);
  delete c.id;
  c.member = {
    ...(c.member as Record<string, unknown>),
    id: "M-100234",
    name: "Jordan Rivera",
    address: { lines: ["12 Elm Street", "Apt 4"], city: "Austin", state: "TX", postalCode: "78701" },
  };
  c.diagnoses = [
    { code: "G89.4", display: "Chronic pain syndrome" },
    { code: "M54.16", display: "Radiculopathy, lumbar region" },
  ];
  c.providers = {
    requesting: {
      npi: "1245319599",
      name: "Dr. Ana Alvarez",
      address: { lines: ["400 Congress Ave"], city: "Austin", state: "TX", postalCode: "78701-4001" },
      phone: "512-555-0100",
    },
    servicing: { npi: "1003000126", name: "Northside Surgery Center" },
  };
  edit?.(c);
  return c;
}

/** The text of the first element a locator matches. */
async function text(l: Locator): Promise<string> {
  return (await l.first().textContent()) ?? "";
}

describe("request screen, issue 14 (Chromium)", { skip }, () => {
  const temp = mkdtempSync(join(tmpdir(), "medpolicy-review-"));
  let server: RunningServer;
  let browser: Browser;
  const tokens = {} as Record<Who, string>;

  async function call(who: Who, method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(server.url + path, {
      method,
      headers: {
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

  async function submit(c: Record<string, unknown>): Promise<string> {
    return (await json<{ id: string }>("provider", "POST", "/api/requests", c)).id;
  }

  before(async () => {
    server = await startWebServer(temp);
    for (const who of ["provider", "reviewer", "medicalDirector"] as const)
      tokens[who] = await server.ctx.auth.issue(DEMO_USERS[who]!);
    mkdirSync(SHOTS, { recursive: true });
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(temp, { recursive: true, force: true });
  });

  for (const vp of VIEWPORTS) {
    describe(`at ${vp.width}×${vp.height}`, () => {
      let context: BrowserContext;
      let page: Page;
      const errors: string[] = [];

      /** Signs in as a demo user (the session the sign-in screen would keep) and opens `hash`. */
      async function open(who: Who, hash: string): Promise<void> {
        await page.goto(`${server.url}/#/signin`);
        await page.evaluate(
          ([token, principal]) =>
            sessionStorage.setItem("medpolicy.session", JSON.stringify({ token, principal })),
          [tokens[who], DEMO_USERS[who]] as const,
        );
        // A full load: the app reads the session when it starts.
        await page.goto("about:blank");
        await page.goto(`${server.url}/${hash}`);
      }

      /** Elements that stick out of the viewport, for the failure message. */
      async function overflow(): Promise<{ scrollWidth: number; culprits: string[] }> {
        return page.evaluate((w) => {
          const culprits: string[] = [];
          for (const el of document.querySelectorAll("body *")) {
            const r = el.getBoundingClientRect();
            if (r.right > w + 0.5 && r.width > 0) {
              const cls =
                typeof el.className === "string" && el.className
                  ? `.${el.className.split(" ").join(".")}`
                  : "";
              culprits.push(
                `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${cls} right=${Math.round(r.right)}`,
              );
            }
          }
          return { scrollWidth: document.documentElement.scrollWidth, culprits: culprits.slice(0, 12) };
        }, vp.width);
      }

      async function assertFits(where: string): Promise<void> {
        const o = await overflow();
        assert.ok(
          o.scrollWidth <= vp.width,
          `${where}: scrollWidth ${o.scrollWidth} > ${vp.width}: ${o.culprits.join(", ")}`,
        );
      }

      before(async () => {
        context = await browser.newContext({ viewport: vp, acceptDownloads: true });
        page = await context.newPage();
        page.setDefaultTimeout(10_000);
        page.on("pageerror", (e) => errors.push(e.message));
        page.on("console", (m) => {
          if (m.type() === "error") errors.push(m.text());
        });
      });

      after(async () => {
        await context?.close();
      });

      test("a nurse cannot sign a denial (no control, 403); she recommends; a medical director signs it", async () => {
        const id = await submit(rich("trial-nonmalignant-not-weaned"));
        await open("reviewer", `#/requests/${id}`);
        await page.locator("#live-outcome[data-outcome='denied']").waitFor();
        const decision = page.locator("#decision");
        await decision.waitFor();
        // Nothing that signs a denial: no Deny choice, no preview or signature of one.
        assert.equal(await decision.getByRole("radio", { name: /^Deny/ }).count(), 0);
        assert.equal(await decision.getByRole("radio", { name: /^Not covered/ }).count(), 0);
        assert.equal(await page.getByRole("button", { name: "Sign decision" }).count(), 0);
        const recommend = decision.getByRole("radio", { name: /Recommend: not medically necessary/ });
        assert.equal(await recommend.isChecked(), true, "the engine's outcome, as a recommendation");
        assert.equal(await decision.getByRole("radio", { name: /^Approve/ }).count(), 1, "a nurse approves");
        assert.match(await text(page.locator("#authority-note")), /medical director/i);
        assert.equal(await page.getByRole("button", { name: "Preview letter" }).count(), 0);

        // The API refuses her the denial and its letter (403), whatever the screen shows.
        const body = { outcome: "denied", reason: "Opioids were not weaned.", criteria: ["I.A.2.g"] };
        assert.equal((await call("reviewer", "POST", `/api/requests/${id}/decision`, body)).status, 403);
        assert.equal(
          (await call("reviewer", "POST", `/api/requests/${id}/letter-preview`, body)).status,
          403,
        );

        // She recommends, citing the failed criterion (preselected), with her own reason.
        assert.equal(await decision.getByRole("checkbox", { name: /I\.A\.2\.g/ }).isChecked(), true);
        assert.equal(await page.locator("#dec-reason").inputValue(), "", "no boilerplate reason");
        await page.getByRole("button", { name: "Send recommendation to a medical director" }).click();
        assert.match(await text(page.locator("#dec-error")), /reason/i, "the reason is required");
        await page.locator("#dec-reason").fill("Opioids were not weaned by 50% before the trial.");
        await page.getByRole("button", { name: "Send recommendation to a medical director" }).click();
        await page
          .locator("#recommendation")
          .filter({ hasText: "Recommendation by Casey Chen, RN" })
          .waitFor();
        await page.locator(".badge-md").waitFor();
        assert.match(await text(page.locator("#sign-blocked")), /medical director/i);
        const afterRec = await json<{
          review: { workflow: { recommendation?: { outcome: string } } };
          decision?: unknown;
        }>("reviewer", "GET", `/api/requests/${id}`);
        assert.equal(afterRec.review.workflow.recommendation?.outcome, "denied");
        assert.equal(afterRec.decision, undefined, "a recommendation signs nothing");

        // The medical director starts from it, previews the letter and signs the denial.
        await open("medicalDirector", `#/requests/${id}`);
        await page.locator("#recommendation").waitFor();
        assert.equal(await page.locator("#decision").getByRole("radio", { name: /^Deny/ }).count(), 1);
        await page.getByRole("button", { name: "Start from this recommendation" }).click();
        assert.equal(await page.getByRole("radio", { name: /^Deny/ }).isChecked(), true);
        assert.match(await page.locator("#dec-reason").inputValue(), /not weaned/);
        await page.getByRole("button", { name: "Preview letter" }).click();
        await page.locator("#preview-frame").waitFor();
        await page.getByRole("button", { name: "Sign decision" }).click();
        await page.locator("#decision").filter({ hasText: "Signed by Dana Diaz, MD" }).waitFor();
        const signed = await json<{ decision: { outcome: string; signedBy: { role: string } } }>(
          "medicalDirector",
          "GET",
          `/api/requests/${id}`,
        );
        assert.equal(signed.decision.outcome, "denied");
        assert.equal(signed.decision.signedBy.role, "medical-director");
        await assertFits("signed request");
      });

      test("a denial citing an unanswered criterion: 400 at the API, never offered on the screen", async () => {
        // Denied on I.A.2.g; the contraindication I.B.1 was never answered.
        const id = await submit(
          rich("trial-nonmalignant-not-weaned", (c) => {
            delete (c.answers as Record<string, boolean>)["I.B.1"];
          }),
        );
        const reason = "Opioids were not weaned by 50% before the trial.";
        for (const criteria of [["I.B.1"], ["I.A.2.g", "I.B.1"]]) {
          const r = await call("medicalDirector", "POST", `/api/requests/${id}/decision`, {
            outcome: "denied",
            reason,
            criteria,
          });
          const b = (await r.json()) as { error: { where?: { field?: string } } };
          assert.equal(r.status, 400, JSON.stringify(b));
          assert.equal(b.error.where?.field, `criteria.${criteria.indexOf("I.B.1")}`);
        }
        const view = await json<{
          review: { citable: Record<"approved" | "denied", { criterion: string }[]> };
        }>("medicalDirector", "GET", `/api/requests/${id}`);

        await open("medicalDirector", `#/requests/${id}`);
        await page.locator("#live-outcome[data-outcome='denied']").waitFor();
        const unknown = await page
          .locator(".criteria .tree li[data-status='unknown']")
          .evaluateAll((li) => li.map((x) => x.getAttribute("data-id")!));
        assert.ok(unknown.includes("I.B.1"), `I.B.1 is unanswered in the tree: ${unknown}`);
        const offered = () =>
          page.locator(".rv-cite-box input[name='criteria']").evaluateAll((els) =>
            els.map((e) => ({
              id: (e as HTMLInputElement).value,
              checked: (e as HTMLInputElement).checked,
            })),
          );
        assert.equal(await page.getByRole("radio", { name: /^Deny/ }).isChecked(), true);
        const deny = await offered();
        assert.deepEqual(
          deny.map((c) => c.id),
          view.review.citable.denied.map((c) => c.criterion),
          "exactly what the server accepts",
        );
        assert.ok(deny.some((c) => c.id === "I.A.2.g" && c.checked));
        for (const u of unknown) assert.ok(!deny.some((c) => c.id === u), `unanswered ${u} offered`);

        // Another outcome starts its own citations: nothing checked carries over; an override asks why.
        await page.getByRole("radio", { name: /^Approve/ }).check();
        const approve = await offered();
        assert.deepEqual(
          approve.map((c) => c.id),
          view.review.citable.approved.map((c) => c.criterion),
        );
        assert.ok(
          approve.every((c) => !c.checked),
          "no citation carried over to the approval",
        );
        await page.locator("#dec-override").waitFor();
        await page.locator("#dec-reason").fill("The weaning is documented in the attached notes.");
        await page.getByRole("button", { name: "Preview letter" }).click();
        assert.match(await text(page.locator("#dec-error")), /depart from the engine/);
        assert.equal(await page.locator("#preview-frame").count(), 0);
        await page.getByRole("radio", { name: /^Deny/ }).check();
        assert.equal(await page.locator("#dec-override").count(), 0);
        await assertFits("decision form");
      });

      test("the letter preview is the signed letter, byte for byte", async () => {
        const id = await submit(rich("trial-nonmalignant-not-weaned"));
        await open("medicalDirector", `#/requests/${id}`);
        await page.locator("#live-outcome[data-outcome='denied']").waitFor();
        await page.locator("#dec-reason").fill("Opioids were not weaned by 50% before the trial.");
        const previewed = page.waitForResponse((r) => r.url().endsWith(`/api/requests/${id}/letter-preview`));
        await page.getByRole("button", { name: "Preview letter" }).click();
        const res = await previewed;
        assert.equal(res.status(), 200);
        const bytes = await res.body();
        const sha = res.headers()["x-letter-sha256"];
        assert.equal(sha, createHash("sha256").update(bytes).digest("hex"));
        await page.locator("#preview-frame").waitFor();
        const shown = await page.locator("#preview-frame").evaluate((f) => (f as HTMLIFrameElement).srcdoc);
        assert.equal(shown, bytes.toString("utf8"), "the frame shows the previewed bytes");
        await page.frameLocator("#preview-frame").locator("body").filter({ hasText: "I.A.2.g" }).waitFor();
        await assertFits("letter preview");

        // The preview is modal: the form behind it cannot change while it shows. Going back to editing
        // discards it (Escape), so a signature always follows a preview of exactly what it signs.
        assert.equal(
          await page.locator("#preview-dialog").evaluate((d) => (d as HTMLDialogElement).open),
          true,
        );
        assert.equal(await page.evaluate(() => document.activeElement?.id), "preview-h");
        await page.keyboard.press("Escape");
        await page.locator("#preview-dialog").waitFor({ state: "detached" });
        assert.equal(await page.getByRole("button", { name: "Sign decision" }).count(), 0);
        assert.equal(await page.evaluate(() => document.activeElement?.id), "preview-letter");
        const again = page.waitForResponse((r) => r.url().endsWith(`/api/requests/${id}/letter-preview`));
        await page.getByRole("button", { name: "Preview letter" }).click();
        const res2 = await again;
        assert.equal(res2.headers()["x-letter-sha256"], sha, "same input, same letter");

        const signing = page.waitForRequest((r) => r.url().endsWith(`/api/requests/${id}/decision`));
        await page.getByRole("button", { name: "Sign decision" }).click();
        assert.equal(
          (JSON.parse((await signing).postData() ?? "{}") as { letterSha256?: string }).letterSha256,
          sha,
        );
        await page.locator("#decision").filter({ hasText: "Signed by Dana Diaz, MD" }).waitFor();
        const letter = await call("medicalDirector", "GET", `/api/requests/${id}/letter`);
        assert.equal(letter.status, 200);
        const signedBytes = Buffer.from(await letter.arrayBuffer());
        assert.ok(signedBytes.equals(bytes), "the signed letter is the previewed one, byte for byte");
      });

      test("two services decided apart: the one whose criteria are met is approved, its neighbour not covered", async () => {
        const id = await submit(
          rich("sij-allograft-not-covered", (c) => {
            (c.service as Record<string, unknown>).codes = ["27278", "27280"];
            c.answers = { "I.A": true };
          }),
        );
        await open("medicalDirector", `#/requests/${id}`);
        // The engine's not-covered is preselected with section IV cited; the services follow it.
        assert.equal(await page.getByRole("radio", { name: /^Not covered/ }).isChecked(), true);
        await page.locator("#dec-lines").waitFor();
        // Each service starts at the engine's outcome for it: 27280's criteria are met.
        assert.equal(await page.locator("#dec-line-27278").inputValue(), "not-covered");
        assert.equal(await page.locator("#dec-line-27280").inputValue(), "approved");
        assert.equal(await page.locator("#dec-override").count(), 0, "as the engine found");
        await page
          .locator("#dec-reason")
          .fill("Allograft fusion is not covered; the open fusion is approved.");
        // Not covering 27280 too departs from the engine (the box asks why, naming it), and the server
        // refuses it: nothing of 27280's own supports not-covered.
        await page.selectOption("#dec-line-27280", "not-covered");
        await page.locator("label[for='dec-override']", { hasText: "for 27280" }).waitFor();
        await page.locator("#dec-override").fill("Testing the refusal of a reason that is not its own.");
        await page.getByRole("button", { name: "Preview letter" }).click();
        await page.locator("#dec-error", { hasText: "supports not-covered for 27280" }).waitFor();
        // The browser logs the refused preview (400): expected here, so not a console error of the page.
        for (let i = 0; i < 50 && !errors.some((e) => e.includes("status of 400")); i++) {
          await page.waitForTimeout(20);
        }
        const refused = errors.findIndex((e) => e.includes("status of 400"));
        if (refused >= 0) errors.splice(refused, 1);
        await page.selectOption("#dec-line-27280", "approved");
        assert.equal(await page.locator("#dec-override").count(), 0, "27280 approved as the engine found");
        await page.getByRole("button", { name: "Preview letter" }).click();
        await page
          .frameLocator("#preview-frame")
          .locator("body")
          .filter({ hasText: "27280 is approved" })
          .waitFor();
        await page.getByRole("button", { name: "Sign decision" }).click();
        await page.locator(".rv-line-decisions li[data-code='27280']", { hasText: "Approved" }).waitFor();
        const v = await json<{ decision: { outcome: string; lines: unknown } }>(
          "medicalDirector",
          "GET",
          `/api/requests/${id}`,
        );
        assert.equal(v.decision.outcome, "not-covered");
        assert.deepEqual(v.decision.lines, [
          {
            code: "27278",
            outcome: "not-covered",
            criteria: [
              {
                criterion: "IV",
                text: "27278 is listed among the codes that do not support coverage",
                status: "section",
              },
            ],
          },
          { code: "27280", outcome: "approved" },
        ]);
        await assertFits("decision per service");
      });

      test("request more information: the request pends, the provider sees the questions", async () => {
        const id = await submit(rich("trial-nonmalignant-open-questions"));
        await open("reviewer", `#/requests/${id}`);
        await page.locator("#live-outcome[data-outcome='pended']").waitFor();
        await page.getByRole("button", { name: "Request more information" }).click();
        // Default: the questions the determination still needs.
        assert.equal(await page.getByRole("checkbox", { name: /I\.A\.2\.g/ }).isChecked(), true);
        assert.equal(await page.getByRole("checkbox", { name: /I\.A\.2\.h/ }).isChecked(), true);
        await assertFits("information request form");
        const message = "Please document the opioid wean and the psychological evaluation.";
        await page.getByLabel("Message to the provider").fill(message);
        await page.getByRole("button", { name: "Send to the provider" }).click();
        const panel = page.locator("#info-request.is-open");
        await panel.filter({ hasText: "Information requested" }).waitFor();
        assert.match(await text(panel), /I\.A\.2\.g/);
        assert.match(await text(panel), /opioid wean/);

        const asProvider = await json<{
          statusText: string;
          informationRequest?: { message: string; questions: { criterion: string }[] };
          review?: unknown;
        }>("provider", "GET", `/api/requests/${id}`);
        assert.equal(asProvider.review, undefined);
        assert.equal(asProvider.statusText, "pended: more information requested");
        assert.equal(asProvider.informationRequest?.message, message);
        assert.deepEqual(
          asProvider.informationRequest?.questions.map((q) => q.criterion),
          ["I.A.2.g", "I.A.2.h"],
        );

        // The provider's answers close it; the reviewer's screen then shows no open request.
        await json("provider", "POST", `/api/requests/${id}/answers`, {
          answers: { "I.A.2.g": true, "I.A.2.h": true },
        });
        await open("reviewer", `#/requests/${id}`);
        await page.locator("#rec-h").waitFor();
        assert.equal(await page.locator("#info-request.is-open").count(), 0);
      });

      test("a withdrawn request: labelled, its reason in the history, no review controls", async () => {
        const id = await submit(rich("trial-nonmalignant-open-questions"));
        const reason = "The member chose physical therapy first.";
        await json("provider", "POST", `/api/requests/${id}/withdraw`, { reason });
        await open("reviewer", `#/requests/${id}`);
        await page.locator(".badge-workflow", { hasText: "Withdrawn by the submitter" }).waitFor();
        assert.ok((await text(page.locator(".history"))).includes(`withdrawn by the submitter: ${reason}`));
        assert.match(
          await text(page.locator("#decision")),
          /withdrawn by the submitter: no decision was made/,
        );
        // What an open request offers (the letter preview, a recommendation, an information request).
        assert.equal(await page.locator("#preview-letter, #send-recommendation").count(), 0);
        assert.equal(await page.getByRole("button", { name: "Request more information" }).count(), 0);
        await assertFits("withdrawn request");
      });

      test("the clinical picture, typed facts and attachments", async () => {
        const id = await submit(rich("trial-nonmalignant-open-questions"));
        const doc = Buffer.from("Opioid wean log: 60% reduction documented.\n");
        const att = await json<{ id: string; title: string }>(
          "provider",
          "POST",
          `/api/requests/${id}/attachments`,
          {
            title: "wean-log.txt",
            contentType: "text/plain",
            data: doc.toString("base64"),
          },
        );
        await open("reviewer", `#/requests/${id}`);
        await page.locator("#live-outcome[data-outcome='pended']").waitFor();
        const member = await text(page.locator("#member"));
        for (const want of [
          "Jordan Rivera",
          "M-100234",
          "12 Elm Street",
          "Austin, TX 78701",
          "age 65",
          "Medicaid",
        ])
          assert.ok(member.includes(want), `member shows ${want}: ${member}`);
        assert.match(await text(page.locator("#provider-requesting")), /Dr\. Ana Alvarez[\s\S]*1245319599/);
        assert.match(await text(page.locator("#provider-servicing")), /1003000126/);
        assert.match(await text(page.locator("#diagnoses")), /G89\.4\s*Chronic pain syndrome/);
        assert.match(await text(page.locator("#diagnoses")), /M54\.16/);

        // The attachment downloads with the session's token.
        const link = page.locator(`#attachments li[data-id="${att.id}"] a`);
        assert.equal(await link.getAttribute("href"), `/api/requests/${id}/attachments/${att.id}`);
        const downloading = page.waitForEvent("download");
        await link.click();
        const dl = await downloading;
        assert.equal(dl.suggestedFilename(), "wean-log.txt");
        assert.ok(readFileSync((await dl.path())!).equals(doc));
        // A reviewer attaches a document too (a fax received by the plan).
        await page.locator(".rv-attach-more summary").click();
        await page.locator("#attach-file").setInputFiles({
          name: "fax.txt",
          mimeType: "text/plain",
          buffer: Buffer.from("Fax from the clinic: psychological evaluation enclosed.\n"),
        });
        await page.getByLabel("Title (optional)").fill("Clinic fax");
        await page.getByRole("button", { name: "Attach", exact: true }).click();
        await page.locator("#attachments li").filter({ hasText: "Clinic fax" }).waitFor();
        const files = await json<{ review: { attachments: { title: string; source: string }[] } }>(
          "medicalDirector",
          "GET",
          `/api/requests/${id}`,
        );
        assert.deepEqual(
          files.review.attachments.map((a) => [a.title, a.source]),
          [
            ["wean-log.txt", "upload"],
            ["Clinic fax", "upload"],
          ],
        );

        // Facts as typed inputs: a number with its range; out of range is refused; live, then saved.
        const wean = page.locator("#fact-opioidWeanPercent");
        assert.equal(await wean.getAttribute("type"), "number");
        assert.equal(await wean.getAttribute("min"), "0");
        assert.equal(await wean.getAttribute("max"), "100");
        await wean.fill("150");
        await wean.press("Tab");
        await page.locator("#fact-opioidWeanPercent-error").filter({ hasText: "0 to 100" }).waitFor();
        await page.locator("#fact-opioidWeanPercent").fill("60");
        await page.locator("#fact-opioidWeanPercent").press("Tab");
        await page.locator('.question-list li[data-id="I.A.2.g"] .rv-q-state').waitFor();
        assert.equal(await page.locator("#fact-opioidWeanPercent-error").count(), 0);
        const unsaved = await json<{ review: { case: { facts?: Record<string, unknown> } } }>(
          "reviewer",
          "GET",
          `/api/requests/${id}`,
        );
        assert.equal(unsaved.review.case.facts?.opioidWeanPercent, undefined, "nothing saved yet");
        // Booleans are Yes / No / Unknown, never a text box.
        // CP.MP.173 declares and reads it (issue 15): shown without opening "Other facts".
        const bool = page.locator('[data-fact="trialFunctionImproved"]');
        for (const v of ["Yes", "No", "Unknown"])
          assert.equal(await bool.getByRole("radio", { name: v, exact: true }).count(), 1);
        await assertFits("facts form");
        await page.getByRole("button", { name: "Save 1 change" }).click();
        await page.locator("#save-notice").filter({ hasText: "Saved" }).waitFor();
        const saved = await json<{ review: { case: { facts?: Record<string, unknown> } } }>(
          "reviewer",
          "GET",
          `/api/requests/${id}`,
        );
        assert.equal(saved.review.case.facts?.opioidWeanPercent, 60);
        assert.equal(await page.locator("#fact-opioidWeanPercent").inputValue(), "60");
      });

      test("evidence and internal notes, assignment, and the keyboard", async () => {
        const id = await submit(rich("trial-nonmalignant-open-questions"));
        await open("reviewer", `#/requests/${id}`);
        await page.locator("#live-outcome[data-outcome='pended']").waitFor();

        // Assignment.
        await page.getByRole("button", { name: "Assign to me" }).click();
        await page.locator("#assignee").filter({ hasText: "Assigned to you" }).waitFor();
        await page.getByRole("button", { name: "Unassign" }).click();
        await page.locator("#assignee").filter({ hasText: "Unassigned" }).waitFor();

        // An evidence note on I.A.2.h shows under the criterion, in the list and in the tree.
        const q = page.locator('.question-list li[data-id="I.A.2.h"]');
        await q.getByRole("button", { name: "Evidence note" }).click();
        await page.getByLabel("Evidence note for I.A.2.h").fill("Psych evaluation dated 2026-01-12, page 3.");
        await q.getByRole("button", { name: "Save note" }).click();
        await q.locator(".rv-note").filter({ hasText: "Psych evaluation" }).waitFor();
        assert.match(
          await text(page.locator('.criteria li[data-id="I.A.2.h"] .rv-note')),
          /Psych evaluation/,
        );

        // An internal note.
        await page.getByLabel("Add an internal note").fill("Dana, could you look at the wean history?");
        await page.getByRole("button", { name: "Add note" }).click();
        await page.locator("#internal-notes .rv-note").filter({ hasText: "wean history" }).waitFor();
        const notes = await json<{ review: { notes: { kind: string; criterion?: string }[] } }>(
          "medicalDirector",
          "GET",
          `/api/requests/${id}`,
        );
        assert.deepEqual(
          notes.review.notes.map((n) => [n.kind, n.criterion ?? null]),
          [
            ["evidence", "I.A.2.h"],
            ["internal", null],
          ],
        );

        // Arrow keys in an answer group change the live preview only: no save, no re-ordering.
        const order = () =>
          page.locator(".question-list > li").evaluateAll((li) => li.map((x) => x.getAttribute("data-id")));
        const before = await order();
        const posted: string[] = [];
        const onRequest = (r: { method(): string; url(): string }) => {
          if (r.method() === "POST") posted.push(r.url());
        };
        page.on("request", onRequest);
        await page.locator('[id="q-I.A.2.g-unknown"]').focus();
        await page.keyboard.press("ArrowLeft"); // → No
        await page.locator("#live-outcome[data-outcome='denied']").waitFor();
        assert.equal(await page.evaluate(() => document.activeElement?.id), "q-I.A.2.g-no");
        await page.keyboard.press("ArrowLeft"); // → Yes
        await page.locator("#live-outcome[data-outcome='pended']").waitFor();
        assert.equal(await page.evaluate(() => document.activeElement?.id), "q-I.A.2.g-yes");
        assert.deepEqual(await order(), before, "the questions keep their order");
        page.off("request", onRequest);
        assert.deepEqual(posted, [], "nothing is saved by answering");

        // "Skip to decision" moves the focus to the decision panel; focus is visible.
        await page.locator("#skip-decision").focus();
        await page.keyboard.press("Enter");
        assert.equal(await page.evaluate(() => document.activeElement?.id), "dec-h");
        await page.keyboard.press("Tab");
        const outline = await page.evaluate(() => {
          const el = document.activeElement as HTMLElement;
          const st = getComputedStyle(el.matches("input") ? (el.nextElementSibling ?? el) : el);
          return { tag: el.tagName, style: st.outlineStyle, width: st.outlineWidth, box: st.boxShadow };
        });
        assert.ok(
          (outline.style !== "none" && outline.width !== "0px") || outline.box !== "none",
          `visible focus: ${JSON.stringify(outline)}`,
        );
        // Every control of the screen has a name.
        const unlabelled = await page.evaluate(() =>
          [...document.querySelectorAll("main input, main textarea, main select, main button")]
            .filter((el) => {
              const e = el as HTMLInputElement;
              if (e.type === "hidden") return false;
              const named =
                (e.labels && e.labels.length > 0) ||
                e.getAttribute("aria-label") ||
                e.getAttribute("aria-labelledby") ||
                (e.tagName === "BUTTON" && e.textContent?.trim());
              return !named;
            })
            .map((e) => e.id || e.outerHTML.slice(0, 80)),
        );
        assert.deepEqual(unlabelled, []);
        await assertFits("request with notes");
        await page.screenshot({ path: join(SHOTS, `review-request-${vp.width}.png`), fullPage: true });
      });

      test("what the reviewer typed survives saving answers and a colleague's change (issue 14 review)", async () => {
        // Saving answers makes a new determination: the reason stays.
        const a = await submit(fixture("trial-nonmalignant-open-questions"));
        await open("medicalDirector", `#/requests/${a}`);
        await page.locator("#live-outcome[data-outcome='pended']").waitFor();
        await page.locator("#dec-reason").fill("My carefully typed reason for the member.");
        await page.locator("[id='q-I.A.2.g-yes']").check();
        await page.locator("#save-answers").click();
        await page.locator("#save-notice").waitFor();
        assert.equal(
          await page.locator("#dec-reason").inputValue(),
          "My carefully typed reason for the member.",
        );

        // A colleague assigns the request after the page loaded: the signature's 409 reloads the request,
        // keeps the reason, and the next preview and signature go through.
        const b = await submit(fixture("trial-nonmalignant-not-weaned"));
        await open("medicalDirector", `#/requests/${b}`);
        await page.locator("#live-outcome[data-outcome='denied']").waitFor();
        const reason = "Opioids were not weaned by 50% before the trial.";
        await page.locator("#dec-reason").fill(reason);
        await json("reviewer", "POST", `/api/requests/${b}/assign`, {
          assignee: { sub: DEMO_USERS.reviewer!.sub, name: DEMO_USERS.reviewer!.name },
        });
        await page.locator("#preview-letter").click();
        await page.locator("#sign-decision").click();
        await page.getByText("the request was reloaded with the change").waitFor();
        // The browser logs the refused signature's 409 as a failed load: expected here, not an app error.
        for (let i = errors.length - 1; i >= 0; i--)
          if (errors[i]!.includes("409 (Conflict)")) errors.splice(i, 1);
        assert.equal(await page.locator("#dec-reason").inputValue(), reason);
        await page.locator("#preview-letter").click();
        await page.locator("#sign-decision").click();
        await page.locator("#open-letter").waitFor();
        const view = await json<{ status: string }>("provider", "GET", `/api/requests/${b}`);
        assert.equal(view.status, "denied");
      });

      test("no horizontal scroll on the request screen and the letter; no console errors", async () => {
        const id = await submit(rich("trial-nonmalignant-open-questions"));
        await open("reviewer", `#/requests/${id}`);
        await page.locator("#live-outcome[data-outcome='pended']").waitFor();
        await page.locator("#facts").waitFor();
        await assertFits("pended request");
        // The tree's deepest criteria keep their text on screen.
        const deep = await page.locator('.criteria li[data-id="I.A.2.g"] .node-text').first().boundingBox();
        assert.ok(deep && deep.x + deep.width <= vp.width, JSON.stringify(deep));
        const signedId = await submit(rich("sij-allograft-not-covered"));
        await open("medicalDirector", `#/requests/${signedId}`);
        await page.locator("#live-outcome[data-outcome='not-covered']").waitFor();
        await page.locator("#dec-reason").fill("The allograft fusion is not proven for this indication.");
        await page.getByRole("button", { name: "Preview letter" }).click();
        await page.locator("#preview-frame").waitFor();
        await assertFits("not-covered preview");
        await page.getByRole("button", { name: "Sign decision" }).click();
        await page.getByRole("link", { name: "Open the letter" }).click();
        await page.getByRole("heading", { name: "Determination letter" }).waitFor();
        await assertFits("letter");
        assert.deepEqual(errors, [], "no errors in the browser console");
      });
    });
  }
});
