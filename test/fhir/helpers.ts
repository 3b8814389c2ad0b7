/**
 * Helpers for the FHIR tests (issue 5): start the real server in-process on port 0 with a temp data
 * directory and the FHIR plugin, issue tokens, call it over HTTP, and find the public examples in the
 * shared folder (`../shared/fhir`, written by others; tests skip when it is absent).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { fileURLToPath } from "node:url";
import { type Library, loadLibrary } from "../../src/library/index.js";
import { type FhirPluginOptions, fhirPlugin } from "../../src/server/fhir/index.js";
import { DEMO_USERS, type RunningServer, type StartOptions, startServer } from "../../src/server/index.js";
import { call as callService, type Res } from "../service/helpers.js";
import { igKinds, igReport, recordCall } from "./ig/collect.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SHARED_FHIR = join(ROOT, "..", "shared", "fhir");
export const sharedAvailable = existsSync(SHARED_FHIR);
process.env.MEDPOLICY_JWT_SECRET ??= "test-secret-for-fhir-tests-0123456789";

let lib: Library | undefined;
/** The shipped policy library (loaded once per test process). */
export function library(): Library {
  lib ??= loadLibrary();
  return lib;
}

/** Every JSON file under a shared folder, parsed, with its name. */
export function sharedFiles(folder: string): { name: string; json: unknown }[] {
  const dir = join(SHARED_FHIR, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((name) => ({
      name: `${folder}/${name}`,
      json: JSON.parse(readFileSync(join(dir, name), "utf8")) as unknown,
    }));
}

export type Tokens = Record<keyof typeof DEMO_USERS, string>;

export interface TestServer {
  server: RunningServer;
  url: string;
  tokens: Tokens;
  close(): Promise<void>;
}

/** Starts the server with the FHIR plugin on a fresh SQLite data directory. */
export async function startFhirServer(
  opts: FhirPluginOptions = {},
  clock?: () => Date,
  start: Partial<StartOptions> = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "medpolicy-fhir-"));
  const server = await startServer({
    port: 0,
    dataDir: dir,
    library: library(),
    quiet: true,
    rateLimit: false,
    plugins: [
      fhirPlugin({ ...opts, delivery: { retryDelaysMs: [50, 100], timeoutMs: 2000, ...opts.delivery } }),
    ],
    // Issue 13: notifications go only to the loopback receivers the tests start, allow-listed explicitly.
    subscriptionAllow: ["127.0.0.1"],
    ...(clock && { clock }),
    ...start,
  });
  const tokens: Record<string, string> = {};
  for (const [k, p] of Object.entries(DEMO_USERS)) tokens[k] = await server.ctx.auth.issue(p);
  return {
    server,
    url: server.url,
    tokens: tokens as Tokens,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type { Res } from "../service/helpers.js";

/** Calls the server: JSON in (as application/fhir+json unless told), JSON out. */
export function call(
  url: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Res> {
  const hasBody = opts.raw !== undefined || opts.body !== undefined;
  const given = Object.keys(opts.headers ?? {}).some((h) => h.toLowerCase() === "content-type");
  const headers =
    given || !hasBody ? opts.headers : { "content-type": "application/fhir+json", ...opts.headers };
  // Issue 16: every FHIR answer the tests receive is validated against the IG packages (see `after`).
  return callService(url, method, path, { ...opts, ...(headers && { headers }) }).then((res) =>
    recordCall(method, path, opts.body ?? parsedRaw(opts.raw), res),
  );
}

/** A raw body as JSON, where it is JSON (what the IG check compares an answer with). */
function parsedRaw(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

// Issue 16, "validation in the test suite": each test file that talks to the service through `call`
// ends by asserting that no answer it received had an IG profile error (the distinct errors, per
// answer kind, are the failure message). `MEDPOLICY_IG_VALIDATE=0` turns it off for a local run.
after(() => {
  const bad = igKinds().filter((k) => k.withErrors > 0);
  assert.equal(bad.length, 0, `FHIR answers not valid against the IG packages:\n${igReport()}`);
});

/**
 * The ClaimResponse an id-only notification points to (issue 13: notifications carry ids, not PHI),
 * read as the subscriber would, with its own token. Asserts the notification has no resource but the
 * SubscriptionStatus.
 */
// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
export async function notifiedClaimResponse(url: string, note: { body: any }, token?: string): Promise<any> {
  // biome-ignore lint/suspicious/noExplicitAny: see above
  const event = note.body.entry[0].resource.parameter.find((p: any) => p.name === "notification-event");
  // biome-ignore lint/suspicious/noExplicitAny: see above
  const focus: string = event.part.find((p: any) => p.name === "focus").valueReference.reference;
  const entry = note.body.entry[1];
  if (note.body.entry.length !== 2 || entry.fullUrl !== focus || entry.resource !== undefined) {
    throw new Error(`not an id-only notification: ${JSON.stringify(note.body).slice(0, 300)}`);
  }
  const r = await call(url, "GET", new URL(focus).pathname, { token });
  if (r.status !== 200) throw new Error(`GET ${focus}: ${r.status} ${r.text.slice(0, 200)}`);
  return r.body;
}

/**
 * A medical director signs `requestId` approved through the JSON API (SPEC 2.4): the signed decision
 * that notifies the submitter's PAS subscriptions. Asserts the 200.
 */
export async function signApproved(url: string, token: string | undefined, requestId: string): Promise<void> {
  const signed = await call(url, "POST", `/api/requests/${requestId}/decision`, {
    token,
    headers: { "content-type": "application/json" },
    body: { outcome: "approved", reason: "Documentation reviewed by phone: every criterion met." },
  });
  assert.equal(signed.status, 200, signed.text);
}

/** A rest-hook endpoint on 127.0.0.1 that records what it receives. */
export async function listener(opts: { delayFirstMs?: number } = {}): Promise<{
  url: string;
  // biome-ignore lint/suspicious/noExplicitAny: received notifications are inspected structurally
  received: { headers: IncomingMessage["headers"]; body: any }[];
  // biome-ignore lint/suspicious/noExplicitAny: see above
  next(timeoutMs?: number): Promise<{ headers: IncomingMessage["headers"]; body: any }>;
  close(): Promise<void>;
}> {
  // biome-ignore lint/suspicious/noExplicitAny: see above
  const received: { headers: IncomingMessage["headers"]; body: any }[] = [];
  const waiters: (() => void)[] = [];
  const srv = createServer((req, res) => {
    let data = "";
    req.on("data", (d: Buffer) => {
      data += d.toString();
    });
    req.on("end", () => {
      received.push({ headers: req.headers, body: JSON.parse(data) });
      // `delayFirstMs`: the first notification (a handshake) is answered late, as a slow endpoint does.
      const delay = received.length === 1 ? (opts.delayFirstMs ?? 0) : 0;
      setTimeout(() => res.writeHead(200).end(), delay);
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as AddressInfo).port;
  let seen = 0;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    received,
    async next(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length <= seen) {
        if (Date.now() > deadline) throw new Error("no notification arrived");
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return received[seen++]!;
    },
    close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  };
}
