/**
 * Issue 13 "every parser of untrusted text linear in its input": `npm run bench -- hostile`.
 *
 * 1. The JSON body parser's added cost (depth limit, duplicate keys) per ~5 KB body, beside a bare
 *    `JSON.parse` of the same text.
 * 2. Every endpoint that takes a body — JSON API, CRD hooks, DTR, PAS `$submit`/`$inquire`,
 *    Subscription (the web plugin takes none) — gets its realistic body (test fixtures) with ONE string
 *    field at a time (every string value, and every key of a caller-keyed map such as `answers`)
 *    replaced by a value of 1 KB, 16 KB and 256 KB. The table shows, per endpoint, the total ms over its
 *    fields at each size and the growth ratios; linear is ≈ 16× then 16× (less while the fixed cost of a
 *    request dominates). A field whose time grows more than 3 × 16 times from one size to the next (and
 *    is above 25 ms, out of the noise) is flagged; if that happens by 16 KB the field is not sent at
 *    256 KB (a quadratic parser would hold the event loop for minutes). The worst field of each
 *    endpoint is named.
 *
 * The server runs in this process (FHIR and web plugins, SQLite in a temp folder, no rate limit, a
 * 16 MB body limit so that 256 KB values get through).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadLibrary } from "../src/library/index.js";
import { fhirPlugin } from "../src/server/fhir/index.js";
import { parseJsonBody } from "../src/server/http.js";
import { DEMO_USERS, startServer } from "../src/server/index.js";
import { webPlugin } from "../src/web/plugin.js";
import { hookRequest, order, pasBundle, patientData } from "../test/fhir/fixtures.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SIZES = [1024, 16 * 1024, 256 * 1024];
/** 3 × linear growth from one size to the next (16 times larger). */
const FLAG_RATIO = 3 * 16;
/**
 * Below this a request's time is its fixed cost and scheduling noise (a 0.3 ms sample beside a 20 ms
 * one is not growth): a quadratic scan of 16 KB or 256 KB costs far more.
 */
const FLOOR_MS = 25;

/** Growth from `small` to `big` (16 times the size) beyond 3 × linear, on a time that is not noise. */
const superlinear = (small: number, big: number) => big > FLOOR_MS && big / small > FLAG_RATIO;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Where a string sits in a body: a value at `path`, or (`key`) the key at `path` itself. */
interface Field {
  path: (string | number)[];
  key: boolean;
}

/** Every string value, and every key of the caller-keyed maps (`answers`, `facts`), in `v`. */
function fieldsOf(v: Json, path: (string | number)[] = [], out: Field[] = []): Field[] {
  if (typeof v === "string") out.push({ path, key: false });
  else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) fieldsOf(v[i]!, [...path, i], out);
  } else if (v !== null && typeof v === "object") {
    const keyed = path.at(-1) === "answers" || path.at(-1) === "facts";
    for (const [k, x] of Object.entries(v)) {
      if (keyed) out.push({ path: [...path, k], key: true });
      fieldsOf(x, [...path, k], out);
    }
  }
  return out;
}

/** A copy of `body` with the field replaced by `value` (a key keeps its value under the new name). */
function withField(body: Json, f: Field, value: string): Json {
  const copy = structuredClone(body) as Json;
  let o = copy as Record<string | number, Json>;
  for (const p of f.path.slice(0, -1)) o = o[p] as Record<string | number, Json>;
  const last = f.path.at(-1)!;
  if (f.key) {
    const v = o[last]!;
    delete o[last];
    o[value] = v;
  } else o[last] = value;
  return copy;
}

/** A string of `size` characters that keeps the field's own shape a little (digits, a reference…). */
function longValue(original: string, size: number): string {
  const seed = original.length > 0 ? original : "x";
  return seed.repeat(Math.ceil(size / seed.length)).slice(0, size);
}

/**
 * The shapes of a long value: one letter repeated (the worst case of a `[A-Za-z]+…$`-style pattern,
 * as in issue 13's 100,000-character `context.patientId`), and the field's own value repeated (keeps
 * its digits, slashes and dashes, for patterns that need them to run long).
 */
const SHAPES: { name: string; make: (original: string, size: number) => string }[] = [
  { name: "x…", make: (_original, size) => "x".repeat(size) },
  { name: "own…", make: longValue },
];

const label = (f: Field) => `${f.key ? "key " : ""}${f.path.join(".")}`;

interface Endpoint {
  name: string;
  path: string;
  token: string;
  body: Json;
  contentType?: string;
}

/** An order-dispatch request: the dispatched order is read from the prefetch (as in crd.test.ts). */
function dispatchRequest(): unknown {
  const r = hookRequest("order-dispatch", []) as {
    context: Record<string, unknown>;
    prefetch: Record<string, unknown>;
  };
  r.context = { patientId: "pat1", dispatchedOrders: ["ServiceRequest/sr1"], performer: "Organization/dme1" };
  r.prefetch.serviceRequests = { resourceType: "Bundle", type: "searchset", entry: [{ resource: order() }] };
  return r;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * The parser's added cost per ~5 KB body: JSON.parse and parseJsonBody timed in alternating rounds of
 * 1,000 parses, the fastest round of each kept (the least disturbed by other processes on the machine).
 */
export function parserCost(): void {
  const c = JSON.parse(
    readFileSync(join(ROOT, "test/service/fixtures/trial-nonmalignant-not-weaned.json"), "utf8"),
  ) as { answers: Record<string, boolean>; member: Record<string, string> };
  for (let i = 0; JSON.stringify(c).length < 5000; i++) c.answers[`II.A.${i}.b`] = i % 2 === 0;
  const orders = [order("62362", "sr1")];
  while (JSON.stringify(hookRequest("order-sign", orders), null, 2).length < 5000)
    orders.push(order("62350", `sr${orders.length + 1}`));
  const codes = ["62362"];
  while (JSON.stringify(pasBundle("bench-1", codes)).length < 5000) codes.push("62350");
  const bodies: [string, string][] = [
    ["case (SPEC 2.1), compact, many answers", JSON.stringify(c)],
    ["CRD hook, pretty-printed", JSON.stringify(hookRequest("order-sign", orders), null, 2)],
    ["PAS bundle, compact", JSON.stringify(pasBundle("bench-1", codes))],
    [
      "the http bench's case",
      readFileSync(join(ROOT, "test/service/fixtures/trial-nonmalignant-not-weaned.json"), "utf8"),
    ],
  ];
  console.log("JSON body parser: µs per body (fastest of 40 alternating rounds of 1,000 parses)");
  console.log(`${"body".padEnd(40)} bytes  JSON.parse  parseJsonBody  added`);
  for (const [name, text] of bodies) {
    const round = (f: (t: string) => unknown) => {
      const t0 = performance.now();
      for (let i = 0; i < 1000; i++) f(text);
      return performance.now() - t0; // ms per 1,000 = µs per parse
    };
    let bare = Number.POSITIVE_INFINITY;
    let ours = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 40; r++) {
      bare = Math.min(bare, round(JSON.parse));
      ours = Math.min(ours, round(parseJsonBody));
    }
    console.log(
      `${name.padEnd(40)} ${String(text.length).padStart(5)}  ${bare.toFixed(1).padStart(10)}  ${ours
        .toFixed(1)
        .padStart(13)}  +${(ours - bare).toFixed(1)} µs (${Math.round(((ours - bare) / bare) * 100)}%)`,
    );
  }
}

export async function run(): Promise<{ flagged: string[] }> {
  parserCost();
  const dir = mkdtempSync(join(tmpdir(), "medpolicy-hostile-"));
  const server = await startServer({
    port: 0,
    dataDir: dir,
    library: loadLibrary(),
    quiet: true,
    rateLimit: false,
    bodyLimit: 16 * 1024 * 1024,
    plugins: [fhirPlugin(), webPlugin()],
  });
  const flagged: string[] = [];
  try {
    const auth = server.ctx.auth;
    const tok = async (k: keyof typeof DEMO_USERS) => auth.issue(DEMO_USERS[k]!, 3600);
    const provider = await tok("provider");
    const reviewer = await tok("reviewer");
    const admin = await tok("admin");
    const post = async (path: string, token: string, body: unknown, ct = "application/json") => {
      const r = await fetch(server.url + path, {
        method: "POST",
        headers: { "content-type": ct, authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json().catch(() => undefined)) as Json };
    };
    const kase = JSON.parse(
      readFileSync(join(ROOT, "test/service/fixtures/trial-nonmalignant-not-weaned.json"), "utf8"),
    ) as Json;
    const open = JSON.parse(
      readFileSync(join(ROOT, "test/service/fixtures/trial-nonmalignant-open-questions.json"), "utf8"),
    ) as Json;
    // A stored request awaiting review, for the answers and decision routes.
    const sub = await post("/api/requests", provider, open);
    const id = (sub.body as { id: string }).id;
    // A QuestionnaireResponse as DTR hands it out, for $next-question.
    const pkgBody = {
      resourceType: "Parameters",
      parameter: [
        {
          name: "questionnaire",
          valueCanonical: "http://medpolicy.example/Questionnaire/CP.MP.173-2025-11-I",
        },
        { name: "patientData", resource: patientData },
      ],
    } as unknown as Json;
    const pkg = await post(
      "/fhir/Questionnaire/$questionnaire-package",
      provider,
      pkgBody,
      "application/fhir+json",
    );
    // biome-ignore lint/suspicious/noExplicitAny: the package's shape is the DTR IG's
    const qr = (pkg.body as any)?.parameter?.[0]?.resource?.entry?.[1]?.resource as Json | undefined;
    const fhir = "application/fhir+json";
    const endpoints: Endpoint[] = [
      { name: "POST /api/evaluate", path: "/api/evaluate", token: provider, body: kase },
      { name: "POST /api/requests", path: "/api/requests", token: provider, body: kase },
      {
        name: "POST /api/requests/:id/answers",
        path: `/api/requests/${id}/answers`,
        token: reviewer,
        body: { answers: { "I.A.2.g": true, "I.B.1": false }, facts: { lifeExpectancyMonths: 14 } },
      },
      {
        name: "POST /api/requests/:id/decision",
        path: `/api/requests/${id}/decision`,
        token: reviewer,
        body: {
          outcome: "denied",
          reason: "Opioids were not weaned before the trial.",
          criteria: ["I.A.2.g"],
        },
      },
      {
        name: "POST /api/tokens",
        path: "/api/tokens",
        token: admin,
        body: { sub: "u-1", name: "Pat Reviewer", role: "reviewer", org: "org-1" },
      },
      ...["order-sign", "order-select", "order-dispatch", "appointment-book"].map((hook) => ({
        name: `POST /cds-services/${hook}-crd`,
        path: `/cds-services/${hook}-crd`,
        token: provider,
        body: (hook === "appointment-book"
          ? hookRequest(hook, [
              {
                resourceType: "Appointment",
                id: "ap1",
                status: "proposed",
                serviceType: [{ coding: [{ system: "http://www.ama-assn.org/go/cpt", code: "62362" }] }],
                participant: [{ actor: { reference: "Patient/pat1" }, status: "needs-action" }],
              } as never,
            ])
          : hook === "order-dispatch"
            ? dispatchRequest()
            : hookRequest(hook, [order()])) as unknown as Json,
      })),
      {
        name: "POST /fhir/Questionnaire/$questionnaire-package",
        path: "/fhir/Questionnaire/$questionnaire-package",
        token: provider,
        body: pkgBody,
        contentType: fhir,
      },
      ...(qr
        ? [
            {
              name: "POST /fhir/Questionnaire/$next-question",
              path: "/fhir/Questionnaire/$next-question",
              token: provider,
              body: qr,
              contentType: fhir,
            },
          ]
        : []),
      {
        name: "POST /fhir/Claim/$submit",
        path: "/fhir/Claim/$submit",
        token: provider,
        body: pasBundle("bench-submit", ["62362"]) as unknown as Json,
        contentType: fhir,
      },
      {
        name: "POST /fhir/Claim/$inquire",
        path: "/fhir/Claim/$inquire",
        token: provider,
        body: pasBundle("bench-submit", ["62362"]) as unknown as Json,
        contentType: fhir,
      },
      {
        name: "POST /fhir/Subscription",
        path: "/fhir/Subscription",
        token: provider,
        body: {
          resourceType: "Subscription",
          status: "requested",
          reason: "bench",
          criteria: "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic",
          channel: {
            type: "rest-hook",
            endpoint: "https://subscriber.example/notify",
            payload: "application/fhir+json",
          },
        },
        contentType: fhir,
      },
    ];

    console.log(
      "\nhostile values: one string field at a time at 1 KB / 16 KB / 256 KB, in 2 shapes (x…: one letter repeated; own…: the field's value repeated); ms summed over the endpoint's fields and shapes (median of 3 sends each)",
    );
    console.log(
      `${"endpoint".padEnd(46)} fields ${"1 KB".padStart(8)} ${"16 KB".padStart(8)} ${"256 KB".padStart(9)}  ×16KB/1KB  ×256KB/16KB  worst field (its ratios)   statuses`,
    );
    for (const e of endpoints) {
      const fields = fieldsOf(e.body);
      const totals = SIZES.map(() => 0);
      let worst = { field: "", r1: 0, r2: 0 };
      const statuses = new Set<number>();
      let skipped = 0;
      for (const f of fields)
        for (const shape of SHAPES) {
          const original = (() => {
            let o = e.body as Record<string | number, Json>;
            for (const p of f.path.slice(0, -1)) o = o[p] as Record<string | number, Json>;
            const last = f.path.at(-1)!;
            return f.key ? String(last) : String(o[last]);
          })();
          const times: number[] = [];
          for (const size of SIZES) {
            // Superlinear already, or growing so that a quadratic 256 KB would take over 30 s: it
            // could hold the event loop for minutes. Extrapolated instead of sent.
            if (
              times.length === 2 &&
              (superlinear(times[0]!, times[1]!) || (times[1]! - times[0]!) * 256 > 30_000)
            ) {
              skipped++;
              times.push(times[0]! + (times[1]! - times[0]!) * 256); // as if quadratic
              continue;
            }
            const body = JSON.stringify(withField(e.body, f, shape.make(original, size)));
            const runs: number[] = [];
            // One send when it is slow (seconds), else the median of three.
            for (let r = 0; r < 3 && !(r === 1 && runs[0]! > 2000); r++) {
              const t0 = performance.now();
              const res = await fetch(server.url + e.path, {
                method: "POST",
                headers: {
                  "content-type": e.contentType ?? "application/json",
                  authorization: `Bearer ${e.token}`,
                },
                body,
              });
              await res.arrayBuffer();
              runs.push(performance.now() - t0);
              statuses.add(res.status);
            }
            times.push(median(runs));
          }
          times.forEach((t, i) => {
            totals[i]! += t;
          });
          const r1 = times[1]! / times[0]!;
          const r2 = times[2]! / times[1]!;
          const name = `${label(f)} ${shape.name}`;
          if (Math.max(r1, r2) > Math.max(worst.r1, worst.r2)) worst = { field: name, r1, r2 };
          if (superlinear(times[0]!, times[1]!) || superlinear(times[1]!, times[2]!))
            flagged.push(`${e.name} ${name} (×${r1.toFixed(1)}, ×${r2.toFixed(1)})`);
        }
      const g1 = totals[1]! / totals[0]!;
      const g2 = totals[2]! / totals[1]!;
      const flag =
        superlinear(totals[0]!, totals[1]!) || superlinear(totals[1]!, totals[2]!) || skipped > 0
          ? "  SUPERLINEAR"
          : "";
      console.log(
        `${e.name.padEnd(46)} ${String(fields.length).padStart(6)} ${totals[0]!.toFixed(1).padStart(8)} ${totals[1]!
          .toFixed(1)
          .padStart(
            8,
          )} ${totals[2]!.toFixed(1).padStart(9)}${skipped ? "*" : " "} ${g1.toFixed(1).padStart(9)} ${g2
          .toFixed(1)
          .padStart(
            12,
          )}  ${`${worst.field.slice(0, 34)} (${worst.r1.toFixed(1)}, ${worst.r2.toFixed(1)})`.padEnd(
          46,
        )} ${[...statuses].sort().join(",")}${flag}`,
      );
    }
    console.log(
      flagged.length
        ? `superlinear fields (16 KB/1 KB or 256 KB/16 KB above ${FLAG_RATIO}, over ${FLOOR_MS} ms; * = 256 KB extrapolated, not sent):\n  ${flagged.join("\n  ")}`
        : `every field grew at most ${FLAG_RATIO}× per 16× size: linear OK`,
    );
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { flagged };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run();
}
