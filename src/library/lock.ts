/**
 * One writer at a time in a payer's library folder (issue 15, left from the last session): `add`,
 * `publish` and the authoring API's bindings writes read `sources.json` / `bindings.json`, change them
 * and write them back. Within one process they are synchronous, so they cannot interleave; but the CLI
 * and a running service (or two CLIs, or two hosts on one shared folder) can, and the second write
 * would drop the first's entry.
 *
 * Each write holds `<dir>/.medpolicy-write.lock` for its duration. The lock appears whole or not at
 * all: its content (pid, host, a random nonce) is written to a temporary file that is then hard-linked
 * to the lock's name, which fails if the name exists. A lock whose writer is gone (same host, pid not
 * running; or an unreadable lock, or another host's lock, older than {@link STALE_MS}) is moved aside
 * under a unique name — one taker wins — and checked to be the one judged stale. A lock is removed only
 * by the writer whose nonce it holds. A live lock refuses at once with an error naming the holder
 * (exit 1, HTTP 409) — never a wait that would block the service's event loop.
 */
import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { MedpolicyError } from "../model/index.js";

/** The lock file (a dot file: the library's change signature does not see it). */
export const LOCK_FILE = ".medpolicy-write.lock";

/** How old a lock of another host, or one that cannot be read, must be to be taken over. */
export const STALE_MS = 10 * 60 * 1000;

/** Another process is writing the library: try again when it is done (exit 1; HTTP 409). */
export class LibraryBusyError extends MedpolicyError {
  constructor(
    message: string,
    readonly holder: string,
  ) {
    super("conflict", message);
    this.name = "LibraryBusyError";
  }
}

interface Holder {
  pid: number;
  host: string;
  nonce: string;
}

function readHolder(path: string): Holder | undefined {
  try {
    const x = JSON.parse(readFileSync(path, "utf8")) as Partial<Holder>;
    if (typeof x.pid === "number" && typeof x.host === "string" && typeof x.nonce === "string")
      return { pid: x.pid, host: x.host, nonce: x.nonce };
  } catch {
    // Unreadable: judged by its age.
  }
  return undefined;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether the lock at `path` (holding `h`, if readable) belongs to no running writer. */
function stale(path: string, h: Holder | undefined): boolean {
  if (h && h.host === hostname()) return !alive(h.pid);
  try {
    return Date.now() - statSync(path).mtimeMs > STALE_MS;
  } catch {
    return true; // gone meanwhile
  }
}

const held = new Map<string, string>();

/**
 * Runs `write` holding the library's write lock. Re-entrant within a process (a publish that loads
 * and writes in steps holds it once).
 *
 * @throws LibraryBusyError while another live writer holds it.
 */
export function withLibraryLock<T>(dir: string, write: () => T): T {
  const path = join(dir, LOCK_FILE);
  if (held.has(path)) return write();
  const me: Holder = { pid: process.pid, host: hostname(), nonce: randomBytes(12).toString("hex") };
  const tmp = `${path}.${me.nonce}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(me), { flag: "wx" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // No such folder (or not one we may write): the write itself says what is wrong with `dir`.
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EACCES" || code === "EROFS") return write();
    throw err;
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 3) throw err;
      }
      const h = readHolder(path);
      if (!stale(path, h)) {
        const who = h ? `pid ${h.pid} on ${h.host}` : "another writer";
        throw new LibraryBusyError(
          `the library ${dir} is being written by ${who}; try again when it is done (or remove ${path} if no medpolicy process is writing it)`,
          who,
        );
      }
      // Moved aside under a unique name: of two takers, one rename finds it. Then checked to be the
      // lock judged stale (not a fresh one that replaced it in between): if not, it is put back.
      const aside = `${path}.${me.nonce}.stale.tmp`;
      try {
        renameSync(path, aside);
      } catch {
        continue; // another taker moved it: try to link again
      }
      const moved = readHolder(aside);
      if (moved?.nonce !== h?.nonce) {
        try {
          linkSync(aside, path);
        } catch {
          // The name was taken again meanwhile: that writer holds it.
        }
        rmSync(aside, { force: true });
        throw new LibraryBusyError(
          `the library ${dir} is being written by another writer; try again`,
          "another writer",
        );
      }
      rmSync(aside, { force: true });
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  held.set(path, me.nonce);
  try {
    return write();
  } finally {
    held.delete(path);
    // Removed only while it is still ours (a writer that judged it stale may have taken it over).
    if (readHolder(path)?.nonce === me.nonce) rmSync(path, { force: true });
  }
}
