/**
 * The service picks up a published change without a restart (issue 15 item 3). A {@link LiveLibrary}
 * holds the library the service decides with; a watcher polls the library folder's signature (names,
 * sizes and modification times of its files: sources.json, bindings.json, documents, snapshots) every
 * `MEDPOLICY_LIBRARY_POLL_MS` (default 2 s; 0 disables), and on a change loads a whole new Library off
 * the request path (reusing what it ingested for unchanged documents) and swaps the one reference.
 * A request reads `current` once, so it decides with the old library or the new, never half of each.
 * A load that fails keeps the old library and logs a warning (the error's message names library files
 * and policies; no PHI). Each swap records the new publications in the audit trail
 * (`action: "library.publish"`, `sub`: who published, `requestId`: `ID@VERSION`, `at`: when).
 */
import { setImmediate as yieldToRequests } from "node:timers/promises";
import { type Library, loadLibrary } from "../library/library.js";
import { librarySignature } from "../library/snapshot.js";
import type { ReadRecord, Store } from "../store/index.js";
import { ConfigError } from "./auth.js";

/** Default interval between two looks at the library folder. */
export const DEFAULT_LIBRARY_POLL_MS = 2000;
/** The audit trail's action for a publication the service began deciding with. */
export const PUBLISH_ACTION = "library.publish";
/** The audit trail's role for who published (a person named by `--by`, not a token's role). */
export const PUBLISHER_ROLE = "publisher";

/** `MEDPOLICY_LIBRARY_POLL_MS`: milliseconds, 0 to disable; ConfigError (exit 2) for anything else. */
export function libraryPollMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MEDPOLICY_LIBRARY_POLL_MS?.trim();
  if (raw === undefined || raw === "") return DEFAULT_LIBRARY_POLL_MS;
  const ms = Number(raw);
  if (!/^\d+$/.test(raw) || ms > 3_600_000) {
    throw new ConfigError(
      `MEDPOLICY_LIBRARY_POLL_MS must be a whole number of milliseconds up to 3600000 (0 disables reloading), not ${JSON.stringify(raw)}`,
    );
  }
  return ms;
}

/** The library the service decides with: one reference, swapped whole. */
export class LiveLibrary {
  constructor(private lib: Library) {}
  get current(): Library {
    return this.lib;
  }
  /** Replaces the library; what a request read before keeps deciding with the old one. */
  swap(next: Library): Library {
    const prev = this.lib;
    this.lib = next;
    return prev;
  }
}

export interface WatchOptions {
  intervalMs: number;
  /** Where swaps' publications are recorded (the audit trail's table); none: not recorded. */
  store?: Pick<Store, "recordReads" | "listReads">;
  /** Warnings (a failed load, a failed audit write): messages without PHI. */
  warn(msg: string, data: Record<string, unknown>): void;
  /** Informational (a swap). */
  info?(msg: string, data: Record<string, unknown>): void;
  /** Loads the library (tests); default `loadLibrary(dir, { reuse: previous })`. */
  load?(dir: string, previous: Library): Library;
  /** Called after each swap (tests observe it). */
  onSwap?(prev: Library, next: Library): void;
}

/** A publication as the library lists it (`Library.publications()`). */
export type PublicationOf = ReturnType<Library["publications"]>[number];

const keyOf = (p: Pick<PublicationOf, "policy" | "version" | "sha256">) =>
  `${p.policy}@${p.version}|${p.sha256}`;

/** What one look at the library did. */
export type PollResult = "unchanged" | "swapped" | "failed" | "changing" | "stopped";

/**
 * Watches `live.current.dir` (issue 15 item 3). `poll()` is one look (serialized: never two loads at
 * once); `start()` polls every `intervalMs` until `stop()`.
 */
export class LibraryWatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PollResult> | undefined;
  private stopped = false;
  /** The signature of the last load that failed: not tried again until the folder changes again. */
  private failed: string | undefined;
  /** Publications recorded in the audit trail (or found there), by `ID@VERSION|sha256`. */
  private readonly audited = new Set<string>();
  /** Publications whose audit write failed: tried again at the next poll. */
  private pendingAudit: PublicationOf[] = [];

  constructor(
    readonly live: LiveLibrary,
    private readonly opts: WatchOptions,
  ) {}

  /** Starts polling; records the current library's publications the audit trail lacks. */
  start(): void {
    if (this.stopped) return;
    this.pendingAudit = this.live.current.publications();
    // Without polling (0), the publications the service starts with are still recorded, once: a
    // version published with the CLI while the service was down is otherwise never on record.
    if (this.opts.intervalMs <= 0) {
      this.running = this.recordAudit()
        .then((): PollResult => "unchanged")
        .finally(() => {
          this.running = undefined;
        });
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll().finally(() => this.schedule());
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /**
   * Issue 15 item 5: a write through the service (an upload, bindings, a publication) is served at once,
   * not at the next poll. Waits for a look in progress (it may have read the folder before the write),
   * then looks again — again while the folder is still being written to, a few times. A load that fails
   * keeps the old library, as a poll does.
   */
  async reload(): Promise<PollResult> {
    await this.running?.catch(() => {});
    let result = await this.poll();
    for (let i = 0; i < 5 && result === "changing"; i++) result = await this.poll();
    return result;
  }

  /**
   * Issue 15 item 5: a publication the service recorded in the audit trail itself (published through
   * the API, by the signed-in author): the swap that picks it up does not record it again.
   */
  recorded(p: Pick<PublicationOf, "policy" | "version" | "sha256">): void {
    this.audited.add(keyOf(p));
  }

  /**
   * A publication whose audit write failed where it was made (the API): recorded by the watcher
   * instead, with its instant and seal, at the next look (and after, until the database takes it).
   */
  retry(p: PublicationOf): void {
    this.audited.delete(keyOf(p));
    this.pendingAudit.push(p);
  }

  /** One look at the folder: reloads and swaps when it changed. */
  poll(): Promise<PollResult> {
    this.running ??= this.look().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async look(): Promise<PollResult> {
    if (this.stopped) return "stopped";
    await this.recordAudit();
    const prev = this.live.current;
    const seen = librarySignature(prev.dir);
    if (seen === prev.signature || seen === this.failed) return "unchanged";
    let next: Library;
    try {
      next = (this.opts.load ?? ((dir, p) => loadLibrary(dir, { reuse: p })))(prev.dir, prev);
    } catch (err) {
      // A library being edited may not load for a moment: keep deciding with the old one.
      if (librarySignature(prev.dir) !== seen) return "changing";
      this.failed = seen;
      this.opts.warn("policy library reload failed; still deciding with the library loaded before", {
        library: prev.dir,
        error: (err as Error).name,
        reason: (err as Error).message,
      });
      return "failed";
    }
    // Written to while it was read: this load may mix old and new files; look again next time.
    if (librarySignature(prev.dir) !== next.signature) return "changing";
    // A publication whose snapshot differs from the one the audit trail sealed is not served.
    const before = new Set(prev.publications().map(keyOf));
    const added = next.publications().filter((p) => !before.has(keyOf(p)));
    let broken: string[];
    try {
      broken = await this.sealMismatches(added);
    } catch (err) {
      // The trail cannot be read now: not swapped; the next look tries again.
      this.opts.warn(
        "policy library reload postponed: the audit trail could not be read to check its seals",
        {
          library: prev.dir,
          error: (err as Error).name,
        },
      );
      return "failed";
    }
    if (broken.length > 0) {
      this.failed = seen;
      this.opts.warn("policy library reload refused; still deciding with the library loaded before", {
        library: prev.dir,
        reason: broken.join("; "),
      });
      return "failed";
    }
    // Compiled before the swap, yielding between versions: the first requests after it do not pay.
    for (const e of next.entries) {
      if (e.approved === undefined) continue;
      e.compiled();
      await yieldToRequests();
      if (this.stopped) return "stopped";
    }
    this.live.swap(next);
    this.failed = undefined;
    this.opts.info?.("policy library reloaded", {
      library: next.dir,
      versions: next.entries.length,
      published: added.map((p) => `${p.policy}@${p.version}`),
    });
    this.pendingAudit.push(...added);
    this.opts.onSwap?.(prev, next);
    await this.recordAudit();
    return "swapped";
  }

  /**
   * Records waiting publications in the audit trail, each once: one already there (another instance
   * on the same database, or this one before a restart, recorded it) is not written again.
   */
  private async recordAudit(): Promise<void> {
    const store = this.opts.store;
    if (!store || this.pendingAudit.length === 0) return;
    const waiting = this.pendingAudit;
    this.pendingAudit = [];
    for (let i = 0; i < waiting.length; i++) {
      const p = waiting[i]!;
      const key = keyOf(p);
      if (this.audited.has(key)) continue;
      const requestId = `${p.policy}@${p.version}`;
      try {
        const there = await store.listReads({ requestId, action: PUBLISH_ACTION, limit: 1000 });
        // Any row of the publication (its instant is its own): one recorded by the service for the
        // author who published through the API (issue 15 item 5) carries their token's sub, not `by`.
        if (!there.some((r) => r.action === PUBLISH_ACTION && r.at === p.at)) {
          const row: ReadRecord = {
            at: p.at,
            sub: p.by,
            role: PUBLISHER_ROLE,
            requestId,
            action: PUBLISH_ACTION,
            detail: p.sha256,
          };
          await store.recordReads([row]);
        }
        this.audited.add(key);
      } catch (err) {
        this.pendingAudit.push(...waiting.slice(i));
        this.opts.warn("audit trail: a publication could not be recorded; retrying", {
          error: (err as Error).name,
          pending: this.pendingAudit.length,
        });
        return;
      }
    }
  }

  /**
   * Issue 15 item 3: the publications of `pubs` whose snapshot is not the one the audit trail sealed.
   * The snapshot's own checksum and the library's publication log live in the library folder, where
   * whoever can edit one can edit all three; the audit trail is in the database. The first
   * `library.publish` entry of a version that carries a snapshot sha256 is its seal (entries written
   * before seals were recorded carry none and seal nothing). One message per mismatch (no PHI); a
   * trail that cannot be read throws (the caller decides).
   */
  async sealMismatches(pubs: readonly PublicationOf[]): Promise<string[]> {
    const store = this.opts.store;
    if (!store) return [];
    const out: string[] = [];
    for (const p of pubs) {
      const requestId = `${p.policy}@${p.version}`;
      // The version's publication entries only (its reads, e.g. impact runs, can be many); newest
      // first, so the last one with a seal is the first recorded.
      const rows = await store.listReads({ requestId, action: PUBLISH_ACTION, limit: 1000 });
      const seal = rows.filter((r) => r.detail !== undefined).at(-1);
      if (seal && seal.detail !== p.sha256) {
        out.push(
          `${requestId}: its snapshot (sha256 ${p.sha256.slice(0, 12)}…) is not the one published and sealed in the audit trail at ${seal.at} (sha256 ${seal.detail!.slice(0, 12)}…); a published version is immutable: restore its snapshot, or publish the change as a new version`,
        );
      }
    }
    return out;
  }

  /** Stops polling and waits for a look in progress (server close). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
  }
}
