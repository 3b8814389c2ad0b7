/**
 * Impact before publishing (issue 15 item 4): the stored requests a version — typically a draft — would
 * have decided, replayed under it, and what changes: how many outcomes, which way (from → to), through
 * which criteria, request by request. Pure: it reads a {@link Library} and an iterable of stored
 * determinations, never the clock, the store or the console, so the CLI (`medpolicy impact`) and the
 * service can share it.
 *
 * Which requests. A request is replayed when its date of service is in the window and, resolved as
 * `decide` resolves it (SPEC 1.4) with the version in force, one of its codes would be decided by the
 * version: its policy's version in force on every date of the window (the question is what it *would*
 * have decided, so its own effective date is not consulted), a state variant still taking precedence
 * over a corporate version for its state. A case that names a version (`policy: "ID@VERSION"`) keeps
 * it: replayed only if it names this version (or its bare id).
 *
 * The window is on the date of service, not the date received: the date of service is what chooses
 * the version that decides a request (SPEC 1.4), so "what would the draft have decided for services in
 * March" is the question a policy author asks; the receipt date only says when the request was filed.
 *
 * Speed: each request is decided without a trace; only one whose outcome changes is decided again
 * with its trace, under the version and under the library in force — the stored determination's trace,
 * as the store recomputes it (issue 13: what is stored is the case, the determination is reproduced
 * from it), without the canonical encoding and hash a read of the store adds — to find the criteria.
 * Nothing is kept per request: memory stays flat whatever the store holds.
 */
import type { Case, Determination, ErrorWhere, Outcome, TraceNode } from "../model/index.js";
import { MedpolicyError } from "../model/index.js";
import { decideValidated, parseCase } from "./decide.js";
import type { Library, LibraryEntry } from "./library.js";

/**
 * A stored request as the impact reads it: its id and its newest determination — a store's
 * `ScannedDetermination` is one.
 */
export interface StoredRequest {
  requestId: string;
  determination: {
    /**
     * The case exactly as decided (canonical JSON). Parsed only when the version may decide it: a case
     * whose text names none of the policy's codes ({@link mayRequest}), and not decided by the policy,
     * is passed over unparsed.
     */
    readonly caseJson: string;
    /** The policy id of the stored determination (the policy decided it: the case is read). */
    readonly policyId?: string;
    /** The "today" it was decided with (it names the version of a case naming a bare policy id). */
    readonly today: string;
    /** The outcome stored. */
    readonly outcome: Outcome;
  };
}

/** Running counts, for progress. */
export interface ImpactCounts {
  /** Requests read. */
  read: number;
  /**
   * Of those, requests for a code of the version's policy (or decided by it, or naming it): the only
   * ones whose case is parsed.
   */
  ofPolicy: number;
  /** Of those, with a date of service in the window. */
  inWindow: number;
  /** In the window and decided (in part) by the version: decided again under it. */
  replayed: number;
  /** Replayed with another outcome. */
  changed: number;
  /** Whose stored case today's validation refuses (decided under earlier rules): not replayed. */
  unreadable: number;
}

export interface ImpactOptions {
  /** First date of service of the window (YYYY-MM-DD, inclusive); none: from the first request. */
  from?: string;
  /** Last date of service of the window (YYYY-MM-DD, inclusive); none: to the last request. */
  to?: string;
  /** Calls {@link onProgress} every this many requests read (default 10,000), and once at the end. */
  progressEvery?: number;
  onProgress?: (counts: Readonly<ImpactCounts>) => void;
}

/** One request whose outcome the version changes (no PHI: the request id, outcomes, criterion ids). */
export interface ImpactChange {
  type: "change";
  request: string;
  from: Outcome;
  /** The outcome under the version, or `error` when the version refuses or cannot decide the case. */
  to: Outcome | "error";
  /** Criterion ids whose status differs between the stored trace and the new one, where it starts. */
  criteria: string[];
  /**
   * Set when the library in force no longer reproduces the stored outcome (the policy or the engine
   * changed since): the criteria then compare the reproduction, not what was decided.
   */
  reproduced?: Outcome | "error";
  /** Why the version refused the case: the kind and where (never the message: it may quote values). */
  error?: { kind: string } & Omit<ErrorWhere, "file" | "line">;
}

/** The impact in numbers (the last item the replay yields). */
export interface ImpactSummary extends ImpactCounts {
  type: "summary";
  /** `ID@VERSION` replayed. */
  policy: string;
  from?: string;
  to?: string;
  /** Replayed with the same outcome. */
  unchanged: number;
  /** Outcome changes by direction, most frequent first. */
  transitions: { from: Outcome; to: Outcome | "error"; count: number }[];
  /** Criteria the changes went through, most frequent first (a request counts once per criterion). */
  criteria: { criterion: string; count: number }[];
}

export type ImpactItem = ImpactChange | ImpactSummary;

/**
 * One replay's running state (issue 15 item 4): the counts, the transitions and the criteria so far.
 * {@link replayImpact} drives one over a stream of requests; the CLI's parallel replay runs one per
 * worker over a range of the store and adds each range's {@link ImpactPart} to one in the main thread.
 */
export class ImpactReplay {
  readonly counts: ImpactCounts = {
    read: 0,
    ofPolicy: 0,
    inWindow: 0,
    replayed: 0,
    changed: 0,
    unreadable: 0,
  };
  readonly policy: string;
  private transitions = new Map<string, { from: Outcome; to: Outcome | "error"; count: number }>();
  private criteria = new Map<string, number>();
  private readonly whatIf: Library;
  private readonly decides: (c: Case) => boolean;
  /** The codes the version's policy decides in the view (the first policy {@link Library.policiesForCode} names). */
  private readonly codes: ReadonlySet<string>;

  constructor(
    private readonly lib: Library,
    private readonly version: LibraryEntry,
    private readonly window: Pick<ImpactOptions, "from" | "to"> = {},
  ) {
    const whatIf = inForceView(lib, version);
    const id = version.policy.identity;
    this.whatIf = whatIf;
    this.policy = `${id.id}@${id.version}`;
    const codes = new Set<string>();
    for (const code of [...lib.routedCodes(), ...ownCodes(version)])
      if (whatIf.policiesForCode(code)[0] === id.baseId) codes.add(code);
    this.codes = codes;
    this.decides = scopeOf(whatIf, version, this.policy, codes);
  }

  /** Replays one stored request (counted as read): the change, when its outcome changes. */
  replay(r: StoredRequest): ImpactChange | undefined {
    const change = this.one(r);
    this.counts.read++;
    return change;
  }

  private one(r: StoredRequest): ImpactChange | undefined {
    const id = this.version.policy.identity;
    const { counts, whatIf, lib, window } = this;
    // Passed over unparsed: its text names none of the policy's codes, and the policy did not decide
    // it (most requests of a store with many policies; issue 15: parsing is most of a replay's cost).
    const stored = r.determination;
    const json = stored.caseJson;
    if (stored.policyId !== id.id && !mayRequest(json, this.codes)) return undefined;
    let c: Case;
    try {
      c = parseCase(JSON.parse(json));
    } catch {
      counts.unreadable++;
      return undefined;
    }
    if (c.policy?.split("@")[0] !== id.id && !c.service.codes.some((code) => this.codes.has(code)))
      return undefined;
    counts.ofPolicy++;
    const dos = c.service.dateOfService;
    if ((window.from !== undefined && dos < window.from) || (window.to !== undefined && dos > window.to))
      return undefined;
    counts.inWindow++;
    if (!this.decides(c)) return undefined;
    counts.replayed++;
    let to: Outcome | "error";
    let failure: unknown;
    try {
      to = decideValidated(whatIf, c, { today: stored.today, trace: false, needed: false }).outcome;
    } catch (e) {
      to = "error";
      failure = e;
    }
    if (to === stored.outcome) return undefined;
    counts.changed++;
    const change: ImpactChange = {
      type: "change",
      request: r.requestId,
      from: stored.outcome,
      to,
      criteria: [],
    };
    const before = reproduce(lib, c, stored.today);
    if (failure === undefined) change.criteria = changedCriteria(before, whatIf, c, stored.today);
    else change.criteria = failedCriteria(failure);
    const again = before?.outcome ?? "error";
    if (again !== stored.outcome) change.reproduced = again;
    if (failure !== undefined) change.error = errorOf(failure);
    this.tally(change.from, to, 1, change.criteria);
    return change;
  }

  private tally(from: Outcome, to: Outcome | "error", count: number, criteria: readonly string[]): void {
    const key = `${from}\n${to}`;
    const t = this.transitions.get(key);
    if (t) t.count += count;
    else this.transitions.set(key, { from, to, count });
    for (const k of criteria) this.criteria.set(k, (this.criteria.get(k) ?? 0) + 1);
  }

  /** What this replay has counted since the last take, as plain data; the replay starts again from zero. */
  take(): ImpactPart {
    const part: ImpactPart = {
      counts: { ...this.counts },
      transitions: [...this.transitions.values()].map((t) => ({ ...t })),
      criteria: [...this.criteria],
    };
    for (const k of Object.keys(this.counts) as (keyof ImpactCounts)[]) this.counts[k] = 0;
    this.transitions.clear();
    this.criteria.clear();
    return part;
  }

  /** Adds another replay's {@link take} (a worker's range) to this one's. */
  add(part: ImpactPart): void {
    for (const k of Object.keys(this.counts) as (keyof ImpactCounts)[]) this.counts[k] += part.counts[k];
    for (const t of part.transitions) this.tally(t.from, t.to, t.count, []);
    for (const [k, n] of part.criteria) this.criteria.set(k, (this.criteria.get(k) ?? 0) + n);
  }

  /** The summary of everything replayed (and added). */
  summary(): ImpactSummary {
    const { counts, window } = this;
    return {
      type: "summary",
      policy: this.policy,
      ...(window.from !== undefined && { from: window.from }),
      ...(window.to !== undefined && { to: window.to }),
      ...counts,
      unchanged: counts.replayed - counts.changed,
      transitions: [...this.transitions.values()].sort(
        (a, b) => b.count - a.count || a.from.localeCompare(b.from) || a.to.localeCompare(b.to),
      ),
      criteria: [...this.criteria]
        .map(([criterion, count]) => ({ criterion, count }))
        .sort((a, b) => b.count - a.count || a.criterion.localeCompare(b.criterion, "en", { numeric: true })),
    };
  }
}

/** An {@link ImpactReplay}'s counts and tallies as plain data (what a worker sends back). */
export interface ImpactPart {
  counts: ImpactCounts;
  transitions: { from: Outcome; to: Outcome | "error"; count: number }[];
  criteria: [string, number][];
}

/**
 * Replays `requests` under `version` (issue 15 item 4): yields one {@link ImpactChange} per request
 * whose outcome changes, in the order read, then the {@link ImpactSummary}. `requests` may come one
 * by one or in pages (arrays), synchronously or not; they are read once, as they come.
 */
export async function* replayImpact(
  lib: Library,
  version: LibraryEntry,
  requests:
    | AsyncIterable<StoredRequest | readonly StoredRequest[]>
    | Iterable<StoredRequest | readonly StoredRequest[]>,
  opts: ImpactOptions = {},
): AsyncGenerator<ImpactItem, void, undefined> {
  const replay = new ImpactReplay(lib, version, opts);
  const every = Math.max(1, opts.progressEvery ?? 10_000);
  const progress = opts.onProgress;
  for await (const item of requests) {
    for (const r of isPage(item) ? item : [item]) {
      const change = replay.replay(r);
      if (progress !== undefined && replay.counts.read % every === 0) progress(replay.counts);
      if (change) yield change;
    }
  }
  opts.onProgress?.(replay.counts);
  yield replay.summary();
}

function isPage(x: StoredRequest | readonly StoredRequest[]): x is readonly StoredRequest[] {
  return Array.isArray(x);
}

/**
 * The library as if `version` were in force on every date (a view: the same entries, indexes and
 * compiled policies; only the choice of version differs). Resolution of its policy by state and date
 * gives it — unless a state variant of a corporate version is in force for the member's state, which
 * still takes precedence (SPEC 1.4) — and a case naming its bare id gets it.
 */
export function inForceView(lib: Library, version: LibraryEntry): Library {
  const id = version.policy.identity;
  const view = Object.create(lib) as Library;
  const resolve = lib.resolve.bind(lib);
  const get = lib.get.bind(lib);
  view.resolve = (baseId, state, dateOfService) => {
    if (baseId !== id.baseId) return resolve(baseId, state, dateOfService);
    if (id.state !== undefined) {
      return state === id.state ? version : resolve(baseId, state, dateOfService);
    }
    const found = resolve(baseId, state, dateOfService);
    return found?.policy.identity.state !== undefined ? found : version;
  };
  view.get = (ref, today, opts) => (ref === id.id ? version : get(ref, today, opts));
  // Drafts route no codes in the library (issue 15 review): in the view, the version's own codes do.
  const own = ownCodes(version);
  const policiesForCode = lib.policiesForCode.bind(lib);
  // Once per code: decide asks it for every code of every case replayed.
  const routed = new Map<string, readonly string[]>();
  view.policiesForCode = (code) => {
    let bases = routed.get(code);
    if (bases === undefined) {
      bases = policiesForCode(code);
      if (own.has(code) && !bases.includes(id.baseId)) bases = [...bases, id.baseId].sort();
      routed.set(code, bases);
    }
    return bases;
  };
  return view;
}

/** The codes a version names: its bindings', its code tables', its proposals'. */
function ownCodes(version: LibraryEntry): Set<string> {
  return new Set([
    ...version.codes.flatMap((b) => b.codes),
    ...version.policy.codeTables.flatMap((t) => t.rows.map((r) => r.code)),
    ...(version.proposed ?? []).flatMap((p) => p.codes),
  ]);
}

const CODES_KEY = '"codes"';

/**
 * Whether a case's canonical JSON may request one of `codes`, told from its text without parsing it
 * (issue 15: a replay passes most requests of a store over; parsing is most of what a request costs).
 * False only when every `"codes"` in the text opens an array of plain strings (`"codes":["…",…]`)
 * none of which, upper-cased as parsing does, is in `codes` (upper-case codes): the service's codes are one of those arrays, and the sequence cannot
 * come from inside a string value, whose quotes are escaped. True, so the case is parsed and checked,
 * for anything else: no such key, whitespace after it (not canonical), an element that is not a plain
 * string, an escape. Linear in the text: each character is looked at a bounded number of times.
 */
export function mayRequest(json: string, codes: ReadonlySet<string>): boolean {
  let found = false;
  for (let at = json.indexOf(CODES_KEY); at !== -1; at = json.indexOf(CODES_KEY, at)) {
    found = true;
    let i = at + CODES_KEY.length;
    if (json.charCodeAt(i) !== 58 || json.charCodeAt(i + 1) !== 91) return true; // not `:[`
    i += 2;
    if (json.charCodeAt(i) !== 93) {
      for (;;) {
        if (json.charCodeAt(i) !== 34) return true; // not a string
        const end = json.indexOf('"', i + 1);
        if (end === -1) return true;
        const code = json.slice(i + 1, end);
        // As the case's parsing reads it: a code is upper-cased (e0782 is E0782).
        if (code.includes("\\") || codes.has(code) || codes.has(code.toUpperCase())) return true;
        i = end + 1;
        const next = json.charCodeAt(i);
        if (next === 93) break; // ]
        if (next !== 44) return true; // not ,
        i++;
      }
    }
    at = i;
  }
  return !found;
}

/** Whether `version` decides at least one of a case's codes in `whatIf` (as `decide` resolves them). */
function scopeOf(
  whatIf: Library,
  version: LibraryEntry,
  ref: string,
  /** The codes the version's policy decides in `whatIf` (as {@link ImpactReplay} computed them). */
  codes: ReadonlySet<string>,
): (c: Case) => boolean {
  const id = version.policy.identity;
  return (c) => {
    if (c.policy !== undefined) return c.policy === ref || c.policy === id.id;
    for (const code of c.service.codes) {
      if (codes.has(code) && whatIf.resolve(id.baseId, c.member.state, c.service.dateOfService) === version)
        return true;
    }
    return false;
  };
}

/** The stored determination with its trace, reproduced (undefined: the library in force refuses the case). */
function reproduce(lib: Library, c: Case, today: string): Determination | undefined {
  try {
    // The trace for the criteria, not the questions still needed (the same trace and outcome).
    return decideValidated(lib, c, { today, trace: true, needed: false });
  } catch {
    return undefined;
  }
}

/**
 * The criteria a change goes through: the stored determination's trace against the case decided
 * again under the version with its trace. Where a difference starts: a criterion whose status differs
 * while none under it does (a tightened threshold names its leaf, a changed group logic its group),
 * or a criterion found on one side only (a section now deciding the code names its root).
 */
function changedCriteria(
  before: Determination | undefined,
  whatIf: Library,
  c: Case,
  today: string,
): string[] {
  const after = decideValidated(whatIf, c, { today, trace: true, needed: false });
  return changesBetween(tracesOf(before), tracesOf(after));
}

const byCriterion = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

/**
 * The criteria where the differences between two decisions' traces start (see {@link changedCriteria}),
 * sorted. Two traces of the same shape — the same ids in the same trees, each id once: a version that
 * changes a threshold, a text or a group's logic, not the structure — are compared node by node; any
 * other pair by id ({@link changesByIds}), with the same result (issue 15: the maps cost a changed
 * request more than its two decisions).
 */
export function changesBetween(before: readonly TraceNode[], after: readonly TraceNode[]): string[] {
  if (before.length === after.length) {
    const seen = new Set<string>();
    const out: string[] = [];
    let same = true;
    for (let i = 0; same && i < before.length; i++)
      same = sameShapeChanges(before[i]!, after[i]!, seen, out) !== undefined;
    if (same) return out.sort(byCriterion);
  }
  return changesByIds(before, after);
}

/**
 * Whether anything differs in two subtrees of the same shape, adding to `out` the criteria where a
 * difference starts (a status differs while none under it does); undefined when the shapes differ or
 * an id comes twice ({@link seen}): then only the comparison by id is exact.
 */
function sameShapeChanges(a: TraceNode, b: TraceNode, seen: Set<string>, out: string[]): boolean | undefined {
  if (a.id !== b.id || seen.has(a.id)) return undefined;
  seen.add(a.id);
  const ac = a.children;
  const bc = b.children;
  const n = ac?.length ?? 0;
  if (n !== (bc?.length ?? 0)) return undefined;
  let under = false;
  for (let i = 0; i < n; i++) {
    const d = sameShapeChanges(ac![i]!, bc![i]!, seen, out);
    if (d === undefined) return undefined;
    if (d) under = true;
  }
  if (under) return true;
  if (a.status === b.status) return false;
  out.push(a.id);
  return true;
}

/**
 * {@link changesBetween} for any two traces, by id: a criterion whose status differs while none under
 * it does (a tightened threshold names its leaf, a changed group logic its group), or the topmost of
 * those found on one side only (a section now deciding the code names its root).
 */
export function changesByIds(before: readonly TraceNode[], after: readonly TraceNode[]): string[] {
  const oldStatus = statusesOf(before);
  const newStatus = statusesOf(after);
  const out = new Set<string>();
  // Ids with a difference below them, on either side (a criterion added under a group explains the
  // group's change as much as a leaf whose status changed).
  const below = new Set<string>();
  for (const t of after) walk(t, oldStatus, out, below);
  for (const t of before) walk(t, newStatus, out, below);
  for (const [id, status] of newStatus) {
    const was = oldStatus.get(id);
    if (was !== undefined && was !== status && !below.has(id)) out.add(id);
  }
  return [...out].sort(byCriterion);
}

function tracesOf(d: Determination | undefined): TraceNode[] {
  if (!d) return [];
  const out: TraceNode[] = [];
  if (d.trace) out.push(d.trace);
  for (const l of d.lines ?? []) if (l.trace) out.push(l.trace);
  return out;
}

function statusesOf(traces: readonly TraceNode[]): Map<string, string> {
  const m = new Map<string, string>();
  const visit = (n: TraceNode) => {
    m.set(n.id, n.status);
    for (const ch of n.children ?? []) visit(ch);
  };
  for (const t of traces) visit(t);
  return m;
}

/**
 * Walks `node`'s subtree against the other side's statuses: adds to `out` the topmost criteria the
 * other side lacks, and to `below` the ids with a difference under them; true when anything in the
 * subtree differs.
 */
function walk(
  node: TraceNode,
  other: ReadonlyMap<string, string>,
  out: Set<string>,
  below: Set<string>,
): boolean {
  const theirs = other.get(node.id);
  if (theirs === undefined) {
    out.add(node.id);
    return true;
  }
  let under = false;
  for (const ch of node.children ?? []) if (walk(ch, other, out, below)) under = true;
  if (under) below.add(node.id);
  return under || theirs !== node.status;
}

function failedCriteria(e: unknown): string[] {
  return e instanceof MedpolicyError && e.where.criterion ? [e.where.criterion] : [];
}

function errorOf(e: unknown): NonNullable<ImpactChange["error"]> {
  if (!(e instanceof MedpolicyError)) return { kind: "internal" };
  const { file: _f, line: _l, ...where } = e.where;
  return { kind: e.kind, ...where };
}
