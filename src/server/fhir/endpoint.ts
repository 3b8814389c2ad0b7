/**
 * Where PAS notifications may be sent (issue 13, "Subscription endpoints: https only in production, an
 * allow-list, no redirects, no private or link-local ranges, headers restricted, generic delivery
 * errors"). A provider names a rest-hook endpoint; without this policy the server would POST to any
 * address it can reach (loopback admin ports, the cloud metadata service, the payer's intranet).
 *
 * - Scheme: https only in production (`NODE_ENV=production`); elsewhere http only to an allow-listed
 *   host (the tests' loopback receivers).
 * - Allow-list (`MEDPOLICY_SUBSCRIPTION_ALLOW`, comma-separated; `StartOptions.subscriptionAllow`):
 *   entries are a host (`hooks.example.org`, `127.0.0.1`, `[::1]`), a host and port (`localhost:9000`),
 *   an origin (`http://127.0.0.1:9000`) or a subdomain wildcard (`*.example.org`). Empty (the default):
 *   any host whose addresses are all public. Non-empty: only the hosts it names.
 * - Addresses: every address the host resolves to must be public. Loopback, private, link-local,
 *   unique-local, CGNAT, multicast, unspecified, reserved, documentation ranges and their IPv4-mapped /
 *   NAT64 / 6to4 forms are refused unless the host is named exactly (not by wildcard) in the
 *   allow-list; cloud metadata addresses (169.254.169.254 …) only when that very address is listed.
 * - Connection: to the vetted address (the resolution is not repeated by the HTTP client, so a DNS
 *   answer that changes between check and connect — rebinding — cannot move it), no redirects (a 3xx
 *   is a failure), a deadline, and at most `maxResponseBytes` of the answer read.
 *
 * The reason a check or a delivery failed is a `code` (for the server's debug log); what a provider
 * reads is never more specific than "not permitted" / "delivery failed".
 */
import { lookup as dnsLookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";

/** Why an endpoint was refused (logged at debug level; never shown to the provider as such). */
export type RefusalCode =
  | "syntax"
  | "scheme"
  | "credentials"
  | "not-allow-listed"
  | "http-not-allow-listed"
  | "unresolvable"
  | "address";

/** An endpoint the policy refuses; `message` is safe to show the provider (no network detail). */
export class EndpointRefused extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
    /** The address class that was refused (`loopback`, `metadata` …), for the debug log. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = "EndpointRefused";
  }
}

/** Why a delivery failed (debug log only). */
export type DeliveryFailureCode =
  | "refused-by-policy"
  | "timeout"
  | "connection"
  | "redirect"
  | "http-status"
  | "aborted";

export class DeliveryFailure extends Error {
  constructor(
    readonly code: DeliveryFailureCode,
    /** Short, PHI-free detail: an errno name (`ECONNREFUSED`), an HTTP status, a refusal code. */
    readonly detail?: string,
  ) {
    super(`delivery failed (${code})`);
    this.name = "DeliveryFailure";
  }
}

/** Resolves a host name to its addresses (tests inject a fake DNS). */
export type Resolver = (host: string) => Promise<string[]>;

export interface EndpointPolicyOptions {
  /** Allow-list entries (see the module comment); empty = any host with public addresses. */
  allow?: readonly string[];
  /** https only (production). */
  production?: boolean;
  /** DNS; default `dns.lookup` with every address (what the OS resolver would connect to). */
  resolve?: Resolver;
  /** Deadline for the resolution; default 5 s. */
  resolveTimeoutMs?: number;
}

interface AllowEntry {
  scheme?: "http:" | "https:";
  /** Lower-case host as the URL parser normalises it (IPv6 in brackets); without `*.` for wildcards. */
  host: string;
  port?: string;
  wildcard: boolean;
}

/** An endpoint that passed every check, with the addresses the connection must use. */
export interface VettedEndpoint {
  url: URL;
  addresses: { address: string; family: 4 | 6 }[];
}

const MAX_ENDPOINT_LENGTH = 2048;

/** The env form: comma- or whitespace-separated entries. */
export function parseAllowList(value: string | undefined): string[] {
  return (value ?? "")
    .split(/[,\s]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function allowEntry(raw: string): AllowEntry {
  let s = raw.trim().toLowerCase();
  if (isIP(s) === 6) s = `[${s}]`;
  const schemeMatch = s.startsWith("https://") ? "https:" : s.startsWith("http://") ? "http:" : undefined;
  if (!schemeMatch && s.includes("://"))
    throw new Error(`subscription allow-list entry "${raw}": http(s) only`);
  let wildcard = false;
  if (!schemeMatch && s.startsWith("*.")) {
    wildcard = true;
    s = s.slice(2);
  }
  let url: URL;
  try {
    url = new URL(schemeMatch ? s : `http://${s}`);
  } catch {
    throw new Error(`subscription allow-list entry "${raw}" is not a host, host:port or origin`);
  }
  if (
    url.username ||
    url.password ||
    (url.pathname !== "/" && url.pathname !== "") ||
    url.search ||
    url.hash
  ) {
    throw new Error(`subscription allow-list entry "${raw}" must be a host, host:port or origin (no path)`);
  }
  const explicitPort = url.port || (schemeMatch ? defaultPort(schemeMatch) : undefined);
  return {
    ...(schemeMatch && { scheme: schemeMatch }),
    host: url.hostname,
    ...(explicitPort && { port: explicitPort }),
    wildcard,
  };
}

const defaultPort = (protocol: string) => (protocol === "https:" ? "443" : "80");
const portOf = (u: URL) => u.port || defaultPort(u.protocol);
/** `[::1]` → `::1` (what `isIP` and the resolver take). */
const bare = (hostname: string) =>
  hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;

/**
 * The subscription endpoint policy (issue 13). `check` is the part that needs no network; `vet` adds
 * the resolution and the address classes and is run at create and again before every delivery.
 */
export class EndpointPolicy {
  private readonly entries: AllowEntry[];
  readonly production: boolean;
  private readonly resolver: Resolver;
  private readonly resolveTimeoutMs: number;

  /** Throws (a start-up error) on a malformed allow-list entry. */
  constructor(opts: EndpointPolicyOptions = {}) {
    this.entries = (opts.allow ?? []).map(allowEntry);
    this.production = opts.production ?? false;
    this.resolver = opts.resolve ?? defaultResolve;
    this.resolveTimeoutMs = opts.resolveTimeoutMs ?? 5000;
  }

  /** The allow-list as given, normalised (for the README's "what is the default" and start-up logs). */
  get allowList(): string[] {
    return this.entries.map(
      (e) =>
        `${e.scheme ? `${e.scheme}//` : ""}${e.wildcard ? "*." : ""}${e.host}${e.port ? `:${e.port}` : ""}`,
    );
  }

  private match(url: URL): AllowEntry | undefined {
    const host = url.hostname;
    return this.entries.find(
      (e) =>
        (!e.scheme || e.scheme === url.protocol) &&
        (!e.port || e.port === portOf(url)) &&
        (e.wildcard ? host.endsWith(`.${e.host}`) : host === e.host),
    );
  }

  /** Syntax, scheme and allow-list (no network). Returns the URL and whether the host is named exactly. */
  check(endpoint: unknown): { url: URL; exact: boolean } {
    if (typeof endpoint !== "string" || endpoint.length === 0 || endpoint.length > MAX_ENDPOINT_LENGTH) {
      throw new EndpointRefused(
        "syntax",
        `Subscription.channel.endpoint must be an absolute http(s) URL of at most ${MAX_ENDPOINT_LENGTH} characters`,
      );
    }
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new EndpointRefused("syntax", "Subscription.channel.endpoint must be an absolute http(s) URL");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new EndpointRefused("scheme", "Subscription.channel.endpoint must use http or https");
    }
    if (url.username || url.password) {
      // Credentials belong in the Authorization header, where they are not echoed in the resource's URL.
      throw new EndpointRefused(
        "credentials",
        "Subscription.channel.endpoint must not carry credentials; use an Authorization header",
      );
    }
    url.hash = "";
    const entry = this.match(url);
    if (this.entries.length > 0 && !entry) {
      throw new EndpointRefused(
        "not-allow-listed",
        "Subscription.channel.endpoint is not on this server's allow-list of subscription endpoints",
      );
    }
    if (url.protocol !== "https:") {
      if (this.production) {
        throw new EndpointRefused("scheme", "Subscription.channel.endpoint must use https");
      }
      if (!entry) {
        throw new EndpointRefused(
          "http-not-allow-listed",
          "Subscription.channel.endpoint must use https (http only to an allow-listed host)",
        );
      }
    }
    return { url, exact: entry !== undefined && !entry.wildcard };
  }

  /**
   * Every check: `check`, then the host's addresses (resolved now) and their classes. Resolution
   * failures and refused addresses get one message, so that a provider cannot map which internal
   * names exist or what they point at.
   */
  async vet(endpoint: unknown): Promise<VettedEndpoint> {
    const { url, exact } = this.check(endpoint);
    const host = bare(url.hostname);
    let addresses: string[];
    if (isIP(host)) addresses = [host];
    else {
      try {
        addresses = await withTimeout(this.resolver(host), this.resolveTimeoutMs);
      } catch {
        addresses = [];
      }
      if (addresses.length === 0) throw notPermitted("unresolvable");
    }
    const vetted: VettedEndpoint["addresses"] = [];
    for (const a of addresses) {
      const family = isIP(a);
      if (family !== 4 && family !== 6) throw notPermitted("unresolvable");
      const cls = addressClass(a);
      if (cls === "metadata") {
        if (!this.namesAddress(a)) throw notPermitted("address", cls);
      } else if (cls !== "public" && !exact) {
        throw notPermitted("address", cls);
      }
      vetted.push({ address: a, family });
    }
    return { url, addresses: vetted };
  }

  /** Whether the allow-list names this very address (the only way to reach a metadata address). */
  private namesAddress(address: string): boolean {
    const canonical = canonicalIp(address);
    return this.entries.some((e) => !e.wildcard && canonicalIp(bare(e.host)) === canonical);
  }
}

function notPermitted(code: RefusalCode, detail?: string): EndpointRefused {
  return new EndpointRefused(
    code,
    "Subscription.channel.endpoint is not permitted: its host must resolve to public addresses only, unless this server allow-lists it",
    detail,
  );
}

async function defaultResolve(host: string): Promise<string[]> {
  const found = await dnsLookup(host, { all: true, verbatim: true });
  return found.map((f) => f.address);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error("timeout")), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

// ---------------------------------------------------------------------------------------------------
// Address classes

/** What an address is, for the policy: `public`, or the reason it is not. */
export type AddressClass =
  | "public"
  | "metadata"
  | "unspecified"
  | "loopback"
  | "private"
  | "cgnat"
  | "link-local"
  | "unique-local"
  | "multicast"
  | "reserved";

/** Cloud instance-metadata endpoints (AWS/GCP/Azure/OpenStack, AWS ECS, Alibaba, Azure wire server, AWS IPv6). */
const METADATA = new Set(
  ["169.254.169.254", "169.254.170.2", "100.100.100.200", "168.63.129.16", "fd00:ec2::254"].map(canonicalIp),
);

/** IPv4 ranges that are not public (RFC 6890 special-purpose registry, the parts a webhook never needs). */
const V4_RANGES: [number, number, number, number, number, AddressClass][] = [
  [0, 0, 0, 0, 8, "unspecified"], // "this network"
  [10, 0, 0, 0, 8, "private"],
  [100, 64, 0, 0, 10, "cgnat"],
  [127, 0, 0, 0, 8, "loopback"],
  [169, 254, 0, 0, 16, "link-local"],
  [172, 16, 0, 0, 12, "private"],
  [192, 0, 0, 0, 24, "reserved"], // IETF protocol assignments
  [192, 0, 2, 0, 24, "reserved"], // TEST-NET-1
  [192, 88, 99, 0, 24, "reserved"], // 6to4 relay anycast
  [192, 168, 0, 0, 16, "private"],
  [198, 18, 0, 0, 15, "reserved"], // benchmarking
  [198, 51, 100, 0, 24, "reserved"], // TEST-NET-2
  [203, 0, 113, 0, 24, "reserved"], // TEST-NET-3
  [224, 0, 0, 0, 4, "multicast"],
  [240, 0, 0, 0, 4, "reserved"], // incl. 255.255.255.255
];

function v4Class(b: number[]): AddressClass {
  const n = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  for (const [a, bb, c, d, len, cls] of V4_RANGES) {
    const base = ((a << 24) | (bb << 16) | (c << 8) | d) >>> 0;
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    if ((n & mask) >>> 0 === base) return cls;
  }
  return "public";
}

function v4Bytes(s: string): number[] | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (p.length === 0 || p.length > 3) return undefined;
    for (const ch of p) if (ch < "0" || ch > "9") return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** 16 bytes of an IPv6 address (`::`, embedded dotted IPv4 and a `%zone` accepted); linear. */
function v6Bytes(input: string): number[] | undefined {
  const s = input.includes("%") ? input.slice(0, input.indexOf("%")) : input;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === "") return [];
    const out: number[] = [];
    const parts = h.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = v4Bytes(p);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (p.length === 0 || p.length > 4) return undefined;
      const n = Number.parseInt(p, 16);
      if (Number.isNaN(n) || !/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
      out.push(n);
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

const startsWith = (b: number[], prefix: number[], bits: number) => {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const bit = 7 - (i & 7);
    if (((b[byte]! >> bit) & 1) !== (((prefix[byte] ?? 0) >> bit) & 1)) return false;
  }
  return true;
};

function v6Class(b: number[]): AddressClass {
  const zeroUpTo = (n: number) => b.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(16)) return "unspecified";
  if (zeroUpTo(15) && b[15] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d): the IPv4 address is what is reached.
  if (zeroUpTo(10) && b[10] === 0xff && b[11] === 0xff) return v4Class(b.slice(12));
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b], 96)) return v4Class(b.slice(12));
  // IPv4-compatible (::a.b.c.d, deprecated) and the rest of ::/96.
  if (zeroUpTo(12)) return "reserved";
  // 6to4 (2002:aabb:ccdd::): the embedded IPv4 address.
  if (b[0] === 0x20 && b[1] === 0x02) return v4Class(b.slice(2, 6));
  if (startsWith(b, [0x20, 0x01, 0x00, 0x00], 32)) return "reserved"; // Teredo: can tunnel anywhere
  if (startsWith(b, [0x20, 0x01, 0x0d, 0xb8], 32)) return "reserved"; // documentation
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48)) return "reserved"; // local-use NAT64
  if (startsWith(b, [0x01, 0x00], 64)) return "reserved"; // discard-only 100::/64
  if (startsWith(b, [0xfc], 7)) return "unique-local";
  if (startsWith(b, [0xfe, 0x80], 10)) return "link-local";
  if (startsWith(b, [0xfe, 0xc0], 10)) return "private"; // site-local (deprecated)
  if (b[0] === 0xff) return "multicast";
  // Only global unicast (2000::/3) is public.
  if ((b[0]! & 0xe0) !== 0x20) return "reserved";
  return "public";
}

/** The IPv4 address an IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address reaches. */
function embeddedV4(b: number[]): number[] | undefined {
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return b.slice(12);
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b], 96)) return b.slice(12);
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6);
  return undefined;
}

/** A canonical text of an IP address (for comparing allow-list entries); the input when not an IP. */
function canonicalIp(address: string): string {
  const v4 = v4Bytes(address);
  if (v4) return v4.join(".");
  const v6 = v6Bytes(address);
  if (!v6) return address.toLowerCase();
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((v6[i]! << 8) | v6[i + 1]!).toString(16));
  return groups.join(":");
}

/**
 * The class of an IP address (issue 13): `public`, or why a webhook must not be sent there. IPv4-mapped,
 * NAT64 and 6to4 IPv6 forms are judged by the IPv4 address they reach. Not an IP address: `reserved`.
 */
export function addressClass(address: string): AddressClass {
  if (METADATA.has(canonicalIp(address))) return "metadata";
  const v4 = v4Bytes(address);
  if (v4) return v4Class(v4);
  const v6 = v6Bytes(address);
  if (!v6) return "reserved";
  // A metadata address reached through an IPv6 form (::ffff:169.254.169.254, NAT64, 6to4) is still one.
  const inner = embeddedV4(v6);
  if (inner && METADATA.has(inner.join("."))) return "metadata";
  return v6Class(v6);
}

// ---------------------------------------------------------------------------------------------------
// Delivery

export interface PostOptions {
  /** Whole attempt: connect, send, status line and the bytes read. */
  timeoutMs: number;
  /** The answer's body is read up to this many bytes and then dropped. */
  maxResponseBytes: number;
  signal?: AbortSignal;
  /** The media type the subscriber named (`Subscription.channel.payload`); FHIR JSON by default. */
  contentType?: "application/fhir+json" | "application/json";
}

/**
 * POSTs `body` to a vetted endpoint, connecting only to its vetted addresses; never follows a
 * redirect. Resolves with the HTTP status of a 2xx answer; anything else rejects with a
 * `DeliveryFailure` (its code for the debug log).
 */
export function postToVetted(
  target: VettedEndpoint,
  headers: Record<string, string>,
  body: string,
  o: PostOptions,
): Promise<number> {
  const { url, addresses } = target;
  // The HTTP client asks this instead of DNS: the addresses checked are the addresses connected to.
  const pinned: LookupFunction = (_host, options, cb) => {
    const all = (options as { all?: boolean }).all === true;
    if (all) (cb as (e: null, a: { address: string; family: number }[]) => void)(null, addresses);
    else cb(null, addresses[0]!.address, addresses[0]!.family);
  };
  const mod = url.protocol === "https:" ? https : http;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const finish = (err: DeliveryFailure | undefined, status?: number) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(status!);
    };
    const req = mod.request(url, {
      method: "POST",
      headers: {
        ...headers,
        "content-type": o.contentType ?? "application/fhir+json",
        "content-length": String(Buffer.byteLength(body)),
        "user-agent": "medpolicy-subscriptions",
      },
      lookup: pinned,
      // A fresh connection each time: a pooled socket could belong to an earlier, differently vetted answer.
      agent: false,
    });
    // Also bounds the reading of an answer after its status was taken (see below).
    const timer = setTimeout(() => {
      finish(new DeliveryFailure("timeout"));
      req.destroy();
    }, o.timeoutMs);
    req.on("close", () => {
      clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
    });
    const onAbort = () => {
      finish(new DeliveryFailure("aborted"));
      req.destroy();
    };
    if (o.signal?.aborted) {
      onAbort();
      return;
    }
    o.signal?.addEventListener("abort", onAbort, { once: true });
    req.on("error", (err: NodeJS.ErrnoException) =>
      finish(new DeliveryFailure("connection", err.code ?? err.name)),
    );
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        // Never followed: a redirect is how an allowed host hands the request to a refused one.
        finish(new DeliveryFailure("redirect", String(status)));
        req.destroy();
        return;
      }
      // The status decides; the body is read (and dropped) only up to the cap and the deadline.
      if (status >= 200 && status < 300) finish(undefined, status);
      else finish(new DeliveryFailure("http-status", String(status)));
      let read = 0;
      res.on("data", (chunk: Buffer) => {
        read += chunk.length;
        if (read > o.maxResponseBytes) res.destroy();
      });
      res.on("error", () => {});
    });
    req.end(body);
  });
}
