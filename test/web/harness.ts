/**
 * What every browser test of the web app shares (issue 6, 14): the app built from the tree with Vite,
 * and Chromium (Debian's, through playwright-core) started the same way.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { type RunningServer, type StartOptions, startServer } from "../../src/server/index.js";
import { webPlugin } from "../../src/web/plugin.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Where the browser tests write their screenshots. */
export const SHOTS = join(ROOT, "test-output", "screenshots");
/** The `skip` of a browser suite: a reason when this machine has no Chromium. */
export const skipWithoutChromium: string | false = existsSync(CHROMIUM)
  ? false
  : `Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`;

/** Chromium's flags for a headless run on a CI machine (as root: no sandbox; no network chatter). */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Builds the app from source into `outDir`, so a test exercises what is in the tree (about 2 s). Vite
 * sets NODE_ENV=production while building; the server reads it (demo mode), so it is restored.
 */
export async function buildWebApp(outDir: string): Promise<void> {
  const { build } = await import("vite");
  const nodeEnv = process.env.NODE_ENV;
  try {
    await build({
      configFile: join(ROOT, "src/web/vite.config.ts"),
      logLevel: "error",
      build: { outDir, sourcemap: false },
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}

/**
 * Builds the app into `temp/web` and starts the real server on port 0 with a data folder in `temp`,
 * demo mode, no rate limit and the web plugin; `opts` adds to (or overrides) that.
 */
export async function startWebServer(temp: string, opts: Partial<StartOptions> = {}): Promise<RunningServer> {
  const outDir = join(temp, "web");
  await buildWebApp(outDir);
  return startServer({
    port: 0,
    dataDir: join(temp, "data"),
    quiet: true,
    rateLimit: false,
    demo: true,
    plugins: [webPlugin({ dir: outDir })],
    ...opts,
  });
}

/**
 * Opens `hash` on the server at `url` signed in as `principal`: the session stored as the app keeps
 * it (sessionStorage, issue 6), on a page of the app's origin, then a fresh load so the app reads it.
 */
export async function openSignedIn(
  page: Page,
  url: string,
  token: string | undefined,
  principal: unknown,
  hash: string,
): Promise<void> {
  await page.goto(`${url}/#/signin`);
  await page.evaluate(
    ([token, principal]) => sessionStorage.setItem("medpolicy.session", JSON.stringify({ token, principal })),
    [token, principal] as const,
  );
  await page.goto("about:blank");
  await page.goto(`${url}/${hash}`);
}

/** Collects the page's uncaught errors and console errors into `errors`, which a test expects empty. */
export function collectErrors(page: Page, errors: string[]): void {
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
}
