/**
 * Issue 15 item 2 "Facts are data", in real Chromium at 1440×900 and 390×844: the reviewer's facts form
 * is built from the facts the request's policy version declares (`ui.facts`), not from a closed list.
 *
 * The library is a copy of the seed library whose CP.MP.126 declares two more facts: an enum
 * (`surgicalApproach`, read by criterion II.I) and a set of ICD-10-CM codes no predicate reads. On a
 * minimally invasive SIJ fusion request with II.A.3, II.D, II.G and II.I open, the reviewer picks the
 * enum, ticks three provocative tests (a set of values), types an out-of-range number and an
 * out-of-range list: each error is shown beside the text as typed, nothing of it is evaluated or sent,
 * and Save is held. Valid values then re-evaluate the outcome live (pended → approved), and saving
 * stores exactly the valid facts, which the server re-evaluates alike.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { loadLibrary } from "../../src/library/index.js";
import { DEMO_USERS, type RunningServer } from "../../src/server/index.js";
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  collectErrors,
  openSignedIn,
  ROOT,
  skipWithoutChromium,
  startWebServer,
} from "./harness.js";

const VIEWPORTS = [
  { width: 1440, height: 900 },
  { width: 390, height: 844 },
] as const;

type Who = "provider" | "reviewer";

/** The seed library with CP.MP.126 declaring an enum read by II.I and a code set no predicate reads. */
function library(dir: string): void {
  cpSync(join(ROOT, "policies"), dir, { recursive: true });
  const file = join(dir, "CP.MP.126", "bindings.json");
  const b = JSON.parse(readFileSync(file, "utf8")) as { facts: unknown[]; predicates: unknown[] };
  b.facts.push(
    {
      name: "surgicalApproach",
      type: "enum",
      values: ["lateral transarticular", "posterior", "other"],
      description: "Approach of the planned fusion",
    },
    {
      name: "sijDiagnoses",
      type: "set",
      system: "icd-10-cm",
      description: "Diagnoses documented for the sacroiliac joint",
    },
  );
  b.predicates.push({
    match: "Procedure will be performed using the lateral transarticular approach",
    when: { fact: "surgicalApproach", in: ["lateral transarticular"] },
  });
  writeFileSync(file, JSON.stringify(b, null, 2));
}

/** Minimally invasive SIJ fusion with everything answered but II.A.3, II.D, II.G and II.I. */
const CASE = {
  member: { state: "TX", lineOfBusiness: "medicaid", birthDate: "1960-05-01" },
  service: { codes: ["27279"], dateOfService: "2026-03-01" },
  answers: {
    "II.A.1": true,
    "II.A.2": true,
    "II.B": true,
    "II.C": true,
    "II.E": true,
    "II.F": true,
    "II.F.1": true,
    "II.F.2": true,
    "II.F.3": true,
    "II.H": true,
  },
  // II.A's own predicate reads the months; its part II.A.3 is left to activeExerciseWeeks.
  facts: { conservativeTreatmentMonths: 6 },
};

describe("facts form from the policy's declared facts, issue 15 (Chromium)", {
  skip: skipWithoutChromium,
}, () => {
  const temp = mkdtempSync(join(tmpdir(), "medpolicy-facts-"));
  let server: RunningServer;
  let browser: Browser;
  const tokens = {} as Record<Who, string>;

  async function json<T>(who: Who, method: string, path: string, body?: unknown): Promise<T> {
    const r = await fetch(server.url + path, {
      method,
      headers: {
        authorization: `Bearer ${tokens[who]}`,
        ...(body !== undefined && { "content-type": "application/json" }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const t = await r.text();
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${t}`);
    return JSON.parse(t) as T;
  }

  const savedFacts = async (id: string) =>
    (
      await json<{ review: { case: { facts?: Record<string, unknown> } } }>(
        "reviewer",
        "GET",
        `/api/requests/${id}`,
      )
    ).review.case.facts ?? {};

  before(async () => {
    const dir = join(temp, "library");
    library(dir);
    server = await startWebServer(temp, { library: loadLibrary(dir) });
    for (const who of ["provider", "reviewer"] as const)
      tokens[who] = await server.ctx.auth.issue(DEMO_USERS[who]!);
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
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

      async function open(who: Who, hash: string): Promise<void> {
        await openSignedIn(page, server.url, tokens[who], DEMO_USERS[who], hash);
      }

      /** Leaves a field: its change event; the caller waits for what the re-render shows. */
      async function commit(selector: string): Promise<void> {
        await page.locator(selector).press("Tab");
      }

      before(async () => {
        context = await browser.newContext({ viewport: vp });
        page = await context.newPage();
        page.setDefaultTimeout(10_000);
        collectErrors(page, errors);
      });

      after(async () => {
        await context?.close();
      });

      test("enum, set, out-of-range values kept as typed with their errors, then a valid value re-evaluates", async () => {
        const { id } = await json<{ id: string }>("provider", "POST", "/api/requests", CASE);
        await open("reviewer", `#/requests/${id}`);
        await page.locator("#live-outcome[data-outcome='pended']").waitFor();
        const facts = page.locator("#facts");
        await facts.waitFor();

        // The declared facts, with their inputs: the enum is a select of its values, read by II.I.
        const approach = page.locator("#fact-surgicalApproach");
        assert.equal(await approach.evaluate((e) => e.tagName), "SELECT");
        assert.deepEqual(await approach.locator("option").allTextContents(), [
          "Unknown",
          "lateral transarticular",
          "posterior",
          "other",
        ]);
        // A number shows its unit and its description; the unit is also in its label.
        const weeks = page.locator('[data-fact="activeExerciseWeeks"]');
        assert.match((await weeks.textContent()) ?? "", /Weeks of active therapeutic exercise completed/);
        assert.equal(await weeks.locator(".rv-unit").textContent(), "wk");
        assert.equal(await page.locator("#fact-activeExerciseWeeks").getAttribute("min"), "0");
        // The set of values is a group of checkboxes with a "how many".
        const provocative = page.locator('[data-fact="provocativeTestsPositive"]');
        assert.equal(await provocative.getByRole("checkbox").count(), 6);
        assert.equal(await page.locator("#fact-provocativeTestsPositive-count").getAttribute("max"), "6");

        // Enum: picking the value answers II.I live.
        await approach.selectOption("lateral transarticular");
        await page.locator('.question-list li[data-id="II.I"] .rv-q-state').waitFor();
        // Set: three positive tests answer II.D.
        for (const name of ["thigh thrust", "compression", "distraction"])
          await provocative.getByRole("checkbox", { name }).check();
        await page.locator('.question-list li[data-id="II.D"] .rv-q-state').waitFor();

        // An out-of-range number: the error beside it, the text as typed, nothing drafted.
        await page.locator("#fact-activeExerciseWeeks").fill("-2");
        await commit("#fact-activeExerciseWeeks");
        await page
          .locator("#fact-activeExerciseWeeks-error")
          .filter({ hasText: "at least 0 (wk)" })
          .waitFor();
        assert.equal(await page.locator("#fact-activeExerciseWeeks").inputValue(), "-2");
        assert.equal(await page.locator("#fact-activeExerciseWeeks").getAttribute("aria-invalid"), "true");
        assert.match(
          (await page.locator("#fact-activeExerciseWeeks").getAttribute("aria-describedby")) ?? "",
          /fact-activeExerciseWeeks-error/,
        );
        // An out-of-range list: kept as typed too.
        const reliefs = "#fact-diagnosticInjectionReliefPercents";
        await page.locator(reliefs).fill("80, 150");
        await commit(reliefs);
        await page.locator(`${reliefs}-error`).filter({ hasText: "“150” is not" }).waitFor();
        assert.equal(await page.locator(reliefs).inputValue(), "80, 150");
        // Re-rendering for another change keeps both typed texts and their errors.
        await provocative.getByRole("checkbox", { name: "gaenslen" }).check();
        await page.locator("#facts-blocked").waitFor();
        assert.equal(await page.locator("#fact-activeExerciseWeeks").inputValue(), "-2");
        assert.equal(await page.locator(reliefs).inputValue(), "80, 150");
        assert.equal(await page.locator("#save-facts").isDisabled(), true, "Save waits for the errors");
        assert.equal(await page.locator("#live-outcome").getAttribute("data-outcome"), "pended");

        // A set of codes no predicate reads, under "Other facts": each code checked, upper-cased.
        await page.locator(".rv-other-facts summary").click();
        await page.locator("#fact-sijDiagnoses").fill("m46.1, 12345");
        await commit("#fact-sijDiagnoses");
        await page
          .locator("#fact-sijDiagnoses-error")
          .filter({ hasText: "“12345” is not a valid ICD-10-CM" })
          .waitFor();
        assert.equal(await page.locator("#fact-sijDiagnoses").inputValue(), "m46.1, 12345");
        await page.locator("#fact-sijDiagnoses").fill("m46.1, m53.3");
        await commit("#fact-sijDiagnoses");
        await page.locator("#fact-sijDiagnoses-error").waitFor({ state: "detached" });
        assert.equal(await page.locator("#fact-sijDiagnoses").inputValue(), "M46.1, M53.3");

        // Valid values clear the errors and re-evaluate: every open criterion is met, approved.
        await page.locator("#fact-activeExerciseWeeks").fill("6");
        await commit("#fact-activeExerciseWeeks");
        await page.locator("#fact-activeExerciseWeeks-error").waitFor({ state: "detached" });
        assert.equal(await page.locator("#live-outcome").getAttribute("data-outcome"), "pended");
        await page.locator(reliefs).fill("80, 90");
        await commit(reliefs);
        await page.locator("#live-outcome[data-outcome='approved']").waitFor();
        assert.equal(await page.locator(".rv-fact .form-error").count(), 0);
        assert.equal(await page.locator("#facts-blocked").count(), 0);
        assert.deepEqual(await savedFacts(id), CASE.facts, "nothing is sent before Save");

        // Save: exactly the valid values are stored, and the server agrees with the browser.
        await page.locator("#save-facts").click();
        await page.locator("#save-notice").filter({ hasText: "as in your browser" }).waitFor();
        assert.deepEqual(await savedFacts(id), {
          ...CASE.facts,
          surgicalApproach: "lateral transarticular",
          provocativeTestsPositive: ["thigh thrust", "compression", "distraction", "gaenslen"],
          activeExerciseWeeks: 6,
          diagnosticInjectionReliefPercents: [80, 90],
          sijDiagnoses: ["M46.1", "M53.3"],
        });
        assert.equal(await page.locator("#live-outcome").getAttribute("data-outcome"), "approved");
        assert.equal(await approach.inputValue(), "lateral transarticular");
        // A saved enum cannot be withdrawn (the API merges facts): its "Unknown" is disabled.
        assert.equal(await approach.locator("option[value='']").isDisabled(), true);

        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= vp.width, `no horizontal scroll: ${width} > ${vp.width}`);
        assert.deepEqual(errors, [], "no errors in the browser console");
      });

      test("a number the browser cannot read stays on screen as typed, with its error", async () => {
        const { id } = await json<{ id: string }>("provider", "POST", "/api/requests", CASE);
        await open("reviewer", `#/requests/${id}`);
        const weeks = page.locator("#fact-activeExerciseWeeks");
        await weeks.waitFor();
        await weeks.click();
        await page.keyboard.type("1e");
        await commit("#fact-activeExerciseWeeks");
        await page.locator("#fact-activeExerciseWeeks-error").filter({ hasText: "Enter a number" }).waitFor();
        // Another change re-renders the form: the element (and what was typed in it) is kept.
        await page.locator("#fact-surgicalApproach").selectOption("posterior");
        await page.locator("#live-outcome[data-outcome='denied']").waitFor();
        assert.equal(
          await weeks.evaluate((e) => (e as HTMLInputElement).validity.badInput),
          true,
          "the unreadable text is still in the input",
        );
        await page.locator("#fact-activeExerciseWeeks-error").waitFor();
        assert.deepEqual(errors, [], "no errors in the browser console");
      });
    });
  }
});
