/**
 * Issue 13, "SSRF: a provider may register any URL (loopback included) with chosen headers as a
 * Subscription endpoint; the server POSTs patient names there and follows redirects; the
 * subscription's error text tells open from closed ports."
 *
 * - loopback, private, link-local, unique-local, CGNAT, multicast, metadata … endpoints are refused at
 *   create (400 OperationOutcome naming `Subscription.channel.endpoint`) unless allow-listed;
 * - https only in production, http elsewhere only to allow-listed hosts;
 * - redirects are not followed; the connection goes to the vetted address (DNS rebinding);
 * - only an Authorization header; no CR/LF;
 * - one error text ("delivery failed") for a closed port, a timeout, a non-HTTP port, a 5xx, a redirect;
 * - notifications are id-only: no patient name or birth date.
 *
 * Every delivery goes to a loopback receiver this file starts, allow-listed explicitly; other names
 * resolve through a fake DNS, so nothing leaves the machine. Hostile bodies: ./ssrf-bodies.json.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { addressClass, EndpointPolicy } from "../../src/server/fhir/endpoint.js";
import { type FhirPluginOptions, fhirPlugin } from "../../src/server/fhir/index.js";
import type { SubscriptionRow } from "../../src/server/fhir/state.js";
import {
  channelHeaders,
  DELIVERY_FAILED,
  Notifier,
  notificationBundle,
  type StoredSubscription,
} from "../../src/server/fhir/subscriptions.js";
import { DEMO_USERS, type RunningServer, startServer } from "../../src/server/index.js";
import { reviewCodes } from "./conformance.js";
import { pasBundle, patient } from "./fixtures.js";
import { call, library, listener, notifiedClaimResponse, signApproved } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON is inspected structurally
type J = any;

const bodies = JSON.parse(readFileSync(new URL("./ssrf-bodies.json", import.meta.url), "utf8")) as {
  refusedEndpoints: string[];
  refusedHeaders: string[];
};

const PUBLIC_V4 = "93.184.215.14";
/** A fake DNS: names in the fixtures resolve to what they say; anything else does not resolve. */
const fakeDns: Record<string, string[]> = {
  "hooks.example.org": [PUBLIC_V4],
  localhost: ["127.0.0.1", "::1"],
  "private.test": ["10.0.0.7"],
  "mixed.test": [PUBLIC_V4, "127.0.0.1"],
  "metadata.test": ["169.254.169.254"],
};
const resolve = async (host: string) => {
  const a = fakeDns[host];
  if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  return a;
};

const subscription = (endpoint: string, extra: { header?: string[]; content?: string } = {}) => ({
  resourceType: "Subscription",
  status: "requested",
  reason: "PAS decisions",
  criteria: "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic",
  channel: {
    type: "rest-hook",
    endpoint,
    payload: "application/fhir+json",
    ...(extra.header && { header: extra.header }),
    ...(extra.content && {
      _payload: {
        extension: [
          {
            url: "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content",
            valueCode: extra.content,
          },
        ],
      },
    }),
  },
});

interface Srv {
  server: RunningServer;
  url: string;
  tokens: Record<keyof typeof DEMO_USERS, string>;
  close(): Promise<void>;
}

async function start(subscriptionAllow: string[], plugin: FhirPluginOptions = {}): Promise<Srv> {
  const dir = mkdtempSync(join(tmpdir(), "medpolicy-ssrf-"));
  const server = await startServer({
    port: 0,
    dataDir: dir,
    library: library(),
    quiet: true,
    rateLimit: false,
    subscriptionAllow,
    plugins: [
      fhirPlugin({
        ...plugin,
        delivery: { retryDelaysMs: [20, 20], timeoutMs: 400, resolve, ...plugin.delivery },
      }),
    ],
  });
  const tokens: Record<string, string> = {};
  for (const [k, p] of Object.entries(DEMO_USERS)) tokens[k] = await server.ctx.auth.issue(p);
  return {
    server,
    url: server.url,
    tokens: tokens as Srv["tokens"],
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A pended PAS request from the provider, signed by a medical director: notifies the provider's subscriptions. */
async function decideOne(s: Srv, id: string): Promise<string> {
  const pended = await call(s.url, "POST", "/fhir/Claim/$submit", {
    token: s.tokens.provider,
    body: pasBundle(id, ["62322"]),
  });
  assert.equal(pended.status, 200, pended.text);
  const cr = pended.body.entry[0].resource;
  assert.deepEqual(reviewCodes(cr.item[0]), ["A4"]);
  const requestId = cr.identifier.find((i: J) => i.system.endsWith("/request")).value;
  await signApproved(s.url, s.tokens.medicalDirector, requestId);
  return requestId;
}

/**
 * Polls a subscription until its status is neither `requested` (awaiting its handshake, issue 16)
 * nor `active` (or 10 s pass).
 */
async function settledStatus(s: Srv, id: string): Promise<J> {
  let body: J;
  for (let i = 0; i < 100; i++) {
    body = (await call(s.url, "GET", `/fhir/Subscription/${id}`, { token: s.tokens.provider })).body;
    if (body.status !== "active" && body.status !== "requested") return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  return body;
}

/** An HTTP server on 127.0.0.1 with a handler; counts requests. */
async function httpReceiver(handler: Parameters<typeof createServer>[1]): Promise<{
  url: string;
  port: number;
  hits: () => number;
  connections: () => number;
  close(): Promise<void>;
}> {
  let hits = 0;
  let connections = 0;
  const srv: Server = createServer((req, res) => {
    hits++;
    handler!(req, res);
  });
  srv.on("connection", () => connections++);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    hits: () => hits,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

/** A TCP port that accepts and then never answers (timeout), or answers garbage (not HTTP). */
async function tcpReceiver(mode: "silent" | "garbage"): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<import("node:net").Socket>();
  const srv: TcpServer = createTcpServer((sock) => {
    sockets.add(sock);
    sock.on("error", () => {});
    sock.on("close", () => sockets.delete(sock));
    if (mode === "garbage") sock.end("SSH-2.0-OpenSSH_9.6\r\n");
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createTcpServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe("address classes (issue 13)", () => {
  test("private, loopback, link-local, unique-local, CGNAT, multicast, unspecified, mapped and metadata are not public", () => {
    const cases: [string, string][] = [
      ["127.0.0.1", "loopback"],
      ["127.255.0.9", "loopback"],
      ["::1", "loopback"],
      ["0.0.0.0", "unspecified"],
      ["::", "unspecified"],
      ["10.1.2.3", "private"],
      ["172.31.255.255", "private"],
      ["192.168.0.1", "private"],
      ["100.64.0.1", "cgnat"],
      ["100.127.255.255", "cgnat"],
      ["169.254.1.1", "link-local"],
      ["fe80::1", "link-local"],
      ["fe80::1%eth0", "link-local"],
      ["fc00::1", "unique-local"],
      ["fd12:3456::1", "unique-local"],
      ["224.0.0.251", "multicast"],
      ["ff02::1", "multicast"],
      ["255.255.255.255", "reserved"],
      ["2001:db8::1", "reserved"],
      ["::ffff:127.0.0.1", "loopback"],
      ["::ffff:7f00:1", "loopback"],
      ["::ffff:10.0.0.1", "private"],
      ["64:ff9b::a00:1", "private"],
      ["2002:c0a8:0101::1", "private"],
      ["169.254.169.254", "metadata"],
      ["::ffff:169.254.169.254", "metadata"],
      ["::ffff:a9fe:a9fe", "metadata"],
      ["fd00:ec2::254", "metadata"],
      ["fd00:ec2:0:0:0:0:0:254", "metadata"],
      ["168.63.129.16", "metadata"],
      ["100.100.100.200", "metadata"],
      ["8.8.8.8", "public"],
      ["172.32.0.1", "public"],
      ["100.128.0.1", "public"],
      [PUBLIC_V4, "public"],
      ["2606:4700:4700::1111", "public"],
      ["::ffff:8.8.8.8", "public"],
      ["not an address", "reserved"],
    ];
    for (const [a, cls] of cases) assert.equal(addressClass(a), cls, a);
  });

  test("an IPv4 address and its IPv4-mapped, NAT64 and 6to4 IPv6 forms are judged alike (property)", () => {
    const hex = (x: number, y: number) => ((x << 8) | y).toString(16);
    fc.assert(
      fc.property(fc.ipV4(), (a) => {
        const [w, x, y, z] = a.split(".").map(Number) as [number, number, number, number];
        const cls = addressClass(a);
        assert.equal(addressClass(`::ffff:${a}`), cls, `::ffff:${a}`);
        assert.equal(addressClass(`::ffff:${hex(w, x)}:${hex(y, z)}`), cls);
        assert.equal(addressClass(`64:ff9b::${hex(w, x)}:${hex(y, z)}`), cls);
        assert.equal(addressClass(`2002:${hex(w, x)}:${hex(y, z)}::1`), cls);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("endpoint policy (issue 13)", () => {
  const msg = (p: Promise<unknown>) =>
    p.then(
      () => "accepted",
      (e: Error) => e.message,
    );

  test("empty allow-list: any public host over https; private addresses, DNS failures refused alike", async () => {
    const p = new EndpointPolicy({ resolve });
    assert.equal((await p.vet("https://hooks.example.org/x")).addresses[0]!.address, PUBLIC_V4);
    const refusals = await Promise.all(
      [
        "https://private.test/x",
        "https://mixed.test/x",
        "https://metadata.test/x",
        "https://nxdomain.test/x",
      ].map((u) => msg(p.vet(u))),
    );
    // One message: a provider cannot tell a name that does not resolve from one that points inside.
    assert.equal(new Set(refusals).size, 1, refusals.join("\n"));
    assert.match(refusals[0]!, /not permitted/);
    // http needs an allow-listed host, even a public one.
    assert.match(await msg(p.vet("http://hooks.example.org/x")), /https/);
    assert.match(await msg(p.vet("https://user:pw@hooks.example.org/x")), /credentials/);
    assert.match(await msg(p.vet("ftp://hooks.example.org/x")), /http or https/);
  });

  test("production: https only, even to an allow-listed host", async () => {
    const p = new EndpointPolicy({ resolve, production: true, allow: ["127.0.0.1", "hooks.example.org"] });
    assert.match(await msg(p.vet("http://127.0.0.1:9000/x")), /must use https/);
    assert.match(await msg(p.vet("http://hooks.example.org/x")), /must use https/);
    assert.equal(await msg(p.vet("https://hooks.example.org/x")), "accepted");
  });

  test("a non-empty allow-list names the only hosts; loopback only when named exactly; metadata only by address", async () => {
    const p = new EndpointPolicy({
      resolve,
      allow: ["127.0.0.1", "http://localhost:9000", "*.example.org", "metadata.test"],
    });
    assert.equal(await msg(p.vet("http://127.0.0.1:1234/x")), "accepted");
    assert.equal(await msg(p.vet("http://localhost:9000/x")), "accepted");
    assert.match(await msg(p.vet("http://localhost:9001/x")), /allow-list/);
    assert.match(await msg(p.vet("https://localhost:9000/x")), /allow-list/);
    assert.equal(await msg(p.vet("https://hooks.example.org/x")), "accepted");
    assert.match(await msg(p.vet("https://10.0.0.7/x")), /allow-list/);
    // A wildcard does not lift the address rule.
    fakeDns["internal.example.org"] = ["10.0.0.8"];
    assert.match(await msg(p.vet("https://internal.example.org/x")), /not permitted/);
    // A metadata address needs the address itself on the list, not a name for it.
    assert.match(await msg(p.vet("https://metadata.test/x")), /not permitted/);
    const meta = new EndpointPolicy({ resolve, allow: ["169.254.169.254"] });
    assert.equal(await msg(meta.vet("https://169.254.169.254/x")), "accepted");
    assert.throws(() => new EndpointPolicy({ allow: ["ftp://x.example"] }), /http\(s\) only/);
    assert.throws(() => new EndpointPolicy({ allow: ["https://x.example/path"] }), /no path/);
  });

  test("headers: Authorization only, once, visible ASCII, bounded", () => {
    assert.deepEqual(channelHeaders(["Authorization: Bearer abc"]), { authorization: "Bearer abc" });
    for (const h of bodies.refusedHeaders)
      assert.throws(() => channelHeaders([h]), /header\[0\]/, JSON.stringify(h));
    assert.throws(() => channelHeaders(["Authorization: a", "authorization: b"]), /twice/);
    assert.throws(() => channelHeaders([`Authorization: Bearer ${"x".repeat(5000)}`]), /header\[0\]/);
    assert.throws(() => channelHeaders("Authorization: a"), /must be a list/);
  });
});

describe("delivery (issue 13): pinned address, no redirects, bounded answers, one error text", () => {
  const row = (
    endpoint: string,
    headers: Record<string, string> = {},
  ): SubscriptionRow<StoredSubscription> => ({
    id: "sub-1",
    org: "org",
    createdAt: "2026-01-01T00:00:00Z",
    events: 0,
    status: "active",
    resource: {
      resource: {
        resourceType: "Subscription",
        status: "active",
        reason: "",
        criteria: "",
        channel: { type: "rest-hook" },
      },
      hook: { endpoint, headers, content: "id-only", orgIdentifiers: [] },
    },
  });
  const bundle = notificationBundle(
    { id: "sub-1", content: "id-only" },
    1,
    "http://payer.example/fhir/ClaimResponse/r1",
    {
      baseUrl: "http://payer.example",
      now: "2026-01-01T00:00:00Z",
    },
  );
  /** Delivers one notification and returns the recorded statuses and the debug reasons. */
  async function deliver(policy: EndpointPolicy, r: SubscriptionRow<StoredSubscription>, timeoutMs = 300) {
    const statuses: [string, string | undefined][] = [];
    const reasons: unknown[] = [];
    const state = {
      async setSubscriptionStatus(_id: string, status: string, error?: string) {
        statuses.push([status, error]);
      },
    } as unknown as ConstructorParameters<typeof Notifier>[0];
    const n = new Notifier(state, policy, {
      retryDelaysMs: [10, 10],
      timeoutMs,
      maxResponseBytes: 1024,
      debug: (_m, d) => reasons.push(d.reason),
    });
    n.send(r, bundle);
    await n.idle();
    return { statuses, reasons };
  }

  test("a name is connected to at the address vetted (the HTTP client does not resolve it again)", async () => {
    const hook = await listener();
    try {
      const port = new URL(hook.url).port;
      let lookups = 0;
      const p = new EndpointPolicy({
        allow: ["receiver.invalid"],
        resolve: async () => {
          lookups++;
          return ["127.0.0.1"];
        },
      });
      // `receiver.invalid` exists in no DNS: it can only have reached the receiver through the pin.
      const { statuses } = await deliver(
        p,
        row(`http://receiver.invalid:${port}/notify`, { authorization: "Bearer t" }),
      );
      assert.deepEqual(statuses, []);
      const note = await hook.next();
      assert.equal(note.headers.authorization, "Bearer t");
      assert.equal(note.headers.host, `receiver.invalid:${port}`);
      assert.equal(lookups, 1);
    } finally {
      await hook.close();
    }
  });

  test("the notification's media type is the one channel.payload named", async () => {
    const hook = await listener();
    try {
      const p = new EndpointPolicy({ allow: ["127.0.0.1"] });
      for (const [payload, want] of [
        ["application/json", "application/json"],
        ["application/fhir+json", "application/fhir+json"],
        [undefined, "application/fhir+json"],
      ] as const) {
        const r = row(hook.url);
        r.resource.resource.channel = { type: "rest-hook", ...(payload && { payload }) };
        await deliver(p, r);
        const note = await hook.next();
        assert.equal(note.headers["content-type"], want, String(payload));
      }
    } finally {
      await hook.close();
    }
  });

  test("DNS rebinding: public at create, loopback at delivery — refused before any connection", async () => {
    const target = await httpReceiver((_q, res) => res.end());
    try {
      let answer = PUBLIC_V4;
      const p = new EndpointPolicy({ resolve: async () => [answer] });
      const endpoint = `https://rebind.test:${target.port}/hook`;
      await p.vet(endpoint); // the create
      answer = "127.0.0.1";
      const { statuses, reasons } = await deliver(p, row(endpoint));
      assert.deepEqual(statuses, [["error", DELIVERY_FAILED]]);
      assert.deepEqual(reasons, ["refused-by-policy"]);
      assert.equal(target.connections(), 0);
    } finally {
      await target.close();
    }
  });

  test("a redirect is not followed (3xx is a failure)", async () => {
    const inner = await httpReceiver((_q, res) => res.end());
    const redirector = await httpReceiver((_q, res) => res.writeHead(307, { location: inner.url }).end());
    try {
      const p = new EndpointPolicy({ allow: ["127.0.0.1"] });
      const { statuses, reasons } = await deliver(p, row(redirector.url));
      assert.deepEqual(statuses, [["error", DELIVERY_FAILED]]);
      assert.deepEqual(reasons, ["redirect", "redirect", "redirect"]);
      assert.equal(redirector.hits(), 3);
      assert.equal(inner.hits(), 0);
    } finally {
      await Promise.all([inner.close(), redirector.close()]);
    }
  });

  test("an endless answer is read up to the cap, and a 2xx still counts", async () => {
    let closed = false;
    const endless = await httpReceiver((_q, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      const chunk = "x".repeat(16 * 1024);
      const pump = () => {
        while (res.write(chunk)) {
          /* until the socket pushes back */
        }
      };
      res.on("drain", pump);
      res.on("close", () => {
        closed = true;
      });
      pump();
    });
    try {
      const p = new EndpointPolicy({ allow: ["127.0.0.1"] });
      const { statuses } = await deliver(p, row(endless.url), 5000);
      assert.deepEqual(statuses, []);
      for (let i = 0; i < 50 && !closed; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(closed, "the server stopped reading and closed the connection");
    } finally {
      await endless.close();
    }
  });
});

describe("Subscriptions over HTTP (issue 13)", () => {
  let open: Srv;
  let loop: Srv;
  before(async () => {
    [open, loop] = await Promise.all([start([]), start(["127.0.0.1"])]);
  });
  after(async () => {
    await Promise.all([open?.close(), loop?.close()]);
  });

  test("loopback, private, link-local, metadata … endpoints are refused at create unless allow-listed", async () => {
    const texts = new Set<string>();
    for (const endpoint of bodies.refusedEndpoints) {
      const r = await call(open.url, "POST", "/fhir/Subscription", {
        token: open.tokens.provider,
        body: subscription(endpoint),
      });
      assert.equal(r.status, 400, `${endpoint}: ${r.text}`);
      assert.equal(r.body.resourceType, "OperationOutcome");
      assert.deepEqual(r.body.issue[0].expression, ["Subscription.channel.endpoint"], endpoint);
      texts.add(r.body.issue[0].details.text);
    }
    assert.equal(texts.size, 1, [...texts].join("\n"));
    // A public host is accepted; http to a host not allow-listed is not.
    const ok = await call(open.url, "POST", "/fhir/Subscription", {
      token: open.tokens.provider,
      body: subscription("https://hooks.example.org/pas"),
    });
    assert.equal(ok.status, 201, ok.text);
    const http = await call(open.url, "POST", "/fhir/Subscription", {
      token: open.tokens.provider,
      body: subscription("http://hooks.example.org/pas"),
    });
    assert.equal(http.status, 400);
    assert.deepEqual(http.body.issue[0].expression, ["Subscription.channel.endpoint"]);
    // The same loopback endpoint, allow-listed, is accepted.
    const allowed = await call(loop.url, "POST", "/fhir/Subscription", {
      token: loop.tokens.otherProvider,
      body: subscription("http://127.0.0.1:9/hook"),
    });
    assert.equal(allowed.status, 201, allowed.text);
    const notListed = await call(loop.url, "POST", "/fhir/Subscription", {
      token: loop.tokens.otherProvider,
      body: subscription("https://hooks.example.org/pas"),
    });
    assert.equal(notListed.status, 400);
    assert.match(notListed.body.issue[0].details.text, /allow-list/);
  });

  test("disallowed headers are refused, naming the header", async () => {
    for (const [i, h] of bodies.refusedHeaders.entries()) {
      const r = await call(loop.url, "POST", "/fhir/Subscription", {
        token: loop.tokens.otherProvider,
        body: subscription("http://127.0.0.1:9/hook", { header: ["Authorization: Bearer ok", h] }),
      });
      assert.equal(r.status, 400, `${i} ${JSON.stringify(h)}: ${r.text}`);
      assert.deepEqual(r.body.issue[0].expression, ["Subscription.channel.header[1]"]);
    }
  });

  test("an element R4 does not define (a root-level header with a token) is refused, never stored or echoed", async () => {
    for (const [body, at] of [
      [
        { ...subscription("http://127.0.0.1:9/hook"), header: ["Authorization: Bearer s3cret-root"] },
        "Subscription.header",
      ],
      [
        {
          ...subscription("http://127.0.0.1:9/hook"),
          channel: {
            ...subscription("http://127.0.0.1:9/hook").channel,
            headers: ["Authorization: Bearer s3cret-ch"],
          },
        },
        "Subscription.channel.headers",
      ],
    ] as const) {
      const r = await call(loop.url, "POST", "/fhir/Subscription", {
        token: loop.tokens.otherProvider,
        body,
      });
      assert.equal(r.status, 400, r.text);
      assert.deepEqual(r.body.issue[0].expression, [at]);
      assert.doesNotMatch(r.text, /s3cret/);
    }
    const list = await call(loop.url, "GET", "/fhir/Subscription", { token: loop.tokens.otherProvider });
    assert.doesNotMatch(list.text, /s3cret/);
  });

  test("a 200 KB endpoint or header is refused with a 400 (linear-time checks; no timing here)", async () => {
    const long = "a".repeat(200_000);
    for (const body of [
      subscription(`http://127.0.0.1:9/${long}`),
      subscription("http://127.0.0.1:9/hook", { header: [`Authorization: Bearer ${long}`] }),
      subscription("http://127.0.0.1:9/hook", { header: [`${long}: x`] }),
      subscription(`http://${long}.example/hook`),
    ]) {
      const r = await call(loop.url, "POST", "/fhir/Subscription", {
        token: loop.tokens.otherProvider,
        body,
      });
      assert.equal(r.status, 400, r.text.slice(0, 300));
      assert.match(r.body.issue[0].expression[0], /^Subscription\.channel\./);
    }
  });

  test("full-resource is downgraded to id-only, with an OperationOutcome warning", async () => {
    const r = await call(loop.url, "POST", "/fhir/Subscription", {
      token: loop.tokens.otherProvider,
      headers: { prefer: "return=OperationOutcome" },
      body: subscription("http://127.0.0.1:9/hook", { content: "full-resource" }),
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.resourceType, "OperationOutcome");
    assert.equal(r.body.issue[0].severity, "warning");
    assert.deepEqual(r.body.issue[0].expression, ["Subscription.channel.payload"]);
    const stored = await call(loop.url, "GET", r.headers.get("location")!, {
      token: loop.tokens.otherProvider,
    });
    assert.equal(stored.body.channel._payload.extension[0].valueCode, "id-only");
    const bad = await call(loop.url, "POST", "/fhir/Subscription", {
      token: loop.tokens.otherProvider,
      body: subscription("http://127.0.0.1:9/hook", { content: "everything" }),
    });
    assert.equal(bad.status, 400);
  });

  test("closed port, timeout, non-HTTP port, 5xx, redirect: one error text; the notification has no PHI", async () => {
    const hook = await listener();
    const silent = await tcpReceiver("silent");
    const garbage = await tcpReceiver("garbage");
    const failing = await httpReceiver((_q, res) => res.writeHead(503).end("down"));
    const redirect = await httpReceiver((_q, res) => res.writeHead(302, { location: hook.url }).end());
    const closed = `http://127.0.0.1:${await closedPort()}/hook`;
    try {
      const ids: Record<string, string> = {};
      for (const [name, endpoint] of Object.entries({
        good: hook.url,
        closed,
        timeout: silent.url,
        garbage: garbage.url,
        failing: failing.url,
        redirect: redirect.url,
      })) {
        const r = await call(loop.url, "POST", "/fhir/Subscription", {
          token: loop.tokens.provider,
          body: subscription(endpoint, {
            header: ["Authorization: Bearer subscriber-secret"],
            // The provider asks for full-resource: what it gets is still id-only.
            content: "full-resource",
          }),
        });
        assert.equal(r.status, 201, r.text);
        ids[name] = r.body.id;
      }
      // Issue 16: each endpoint gets the R4 backport handshake first; the good one answers it.
      const handshake = await hook.next();
      assert.equal(
        handshake.body.entry[0].resource.parameter.find((x: J) => x.name === "type").valueCode,
        "handshake",
      );
      for (const name of ["closed", "timeout", "garbage", "failing", "redirect"]) {
        assert.equal((await settledStatus(loop, ids[name]!)).status, "error", `${name}: handshake failed`);
      }
      assert.equal(redirect.hits(), 3, "three handshake attempts at the redirecting endpoint");
      const requestId = await decideOne(loop, "SSRF-1");

      const note = await hook.next();
      const text = JSON.stringify(note.body);
      const p = patient();
      for (const phi of [p.name![0]!.family!, p.name![0]!.given![0]!, p.birthDate!, "Patient", "1 Main St"]) {
        assert.ok(!text.includes(phi), `the notification carries ${phi}`);
      }
      const cr = await notifiedClaimResponse(loop.url, note, loop.tokens.provider);
      assert.equal(cr.id, requestId);
      assert.deepEqual(reviewCodes(cr.item[0]), ["A1"]);

      const errors: Record<string, J> = {};
      for (const name of ["closed", "timeout", "garbage", "failing", "redirect"]) {
        const sub = await settledStatus(loop, ids[name]!);
        errors[name] = [sub.status, sub.error];
      }
      for (const [name, e] of Object.entries(errors)) assert.deepEqual(e, ["error", DELIVERY_FAILED], name);
      // Only active subscriptions are notified (R4 Backport; review of issue 16): a subscription in
      // error gets no event — the three attempts at the redirecting endpoint were its handshake's,
      // none redirected.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(redirect.hits(), 3, "no event for a subscription in error");
      assert.equal(hook.received.length, 2, "the redirect was not followed to the receiver");
      const good = await call(loop.url, "GET", `/fhir/Subscription/${ids.good}`, {
        token: loop.tokens.provider,
      });
      assert.equal(good.body.status, "active");
      assert.equal(good.body.error, undefined);
      // The endpoint's credential went to the endpoint, and is never read back.
      assert.equal(note.headers.authorization, "Bearer subscriber-secret");
      assert.deepEqual(good.body.channel.header, ["Authorization: [redacted]"]);
      assert.ok(!good.text.includes("subscriber-secret"));
    } finally {
      await Promise.all([hook.close(), silent.close(), garbage.close(), failing.close(), redirect.close()]);
    }
  });
});
