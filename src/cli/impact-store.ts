/**
 * The store `medpolicy impact` reads (issue 15 item 4), opened by the command and by each of its
 * worker threads (impact-worker.ts): kept apart from the command so a worker loads no more than it
 * needs.
 */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { InputError, MedpolicyError } from "../model/index.js";
import type { Store } from "../store/index.js";

/**
 * The store `--store` names (default as `medpolicy serve` picks it): read, never created — a path
 * holding no medpolicy database is bad input, not an empty store.
 */
export async function openImpactStore(flag: string | undefined): Promise<Store> {
  return open(flag, false) as Promise<Store>;
}

/** What a worker of the parallel replay reads: the scans alone. */
export type ImpactScanner = Pick<Store, "scanDeterminations" | "scanBoundaries" | "close">;

/**
 * The same store for a worker thread of the parallel replay (impact-parallel.ts): a reader — no
 * schema check or migration (the command's own {@link openImpactStore} did that), a pool of two
 * PostgreSQL connections, a read-only SQLite connection.
 */
export async function openImpactScanner(flag: string | undefined): Promise<ImpactScanner> {
  return open(flag, true);
}

async function open(flag: string | undefined, reader: boolean): Promise<ImpactScanner> {
  const spec = flag ?? process.env.DATABASE_URL ?? `sqlite:${process.env.MEDPOLICY_DATA ?? "./data"}`;
  if (/^postgres(ql)?:\/\//.test(spec)) {
    // Each dialect's module alone: a SQLite replay (and each of its workers) never loads pg (50 ms).
    const { PostgresStore } = await import("../store/postgres.js");
    try {
      return reader ? await PostgresStore.openReader(spec) : await PostgresStore.open(spec);
    } catch (e) {
      // The URL may carry a password: name the server, not the URL.
      let where = "the PostgreSQL URL given";
      try {
        const u = new URL(spec);
        where = `${u.host}${u.pathname}`;
      } catch {}
      throw new MedpolicyError("internal", `cannot open the store at ${where}: ${(e as Error).message}`, {
        field: "--store",
      });
    }
  }
  if (!spec.startsWith("sqlite:"))
    throw new InputError(`--store must be sqlite:PATH or a postgres:// URL, not "${spec}"`, {
      field: "--store",
    });
  let dir = spec.slice("sqlite:".length) || ".";
  if (basename(dir) === "medpolicy.db" && existsSync(dir) && statSync(dir).isFile()) dir = dirname(dir);
  if (!existsSync(join(dir, "medpolicy.db")))
    throw new InputError(`no medpolicy store at ${dir} (it holds no medpolicy.db)`, { field: "--store" });
  const { SqliteScanner, SqliteStore } = await import("../store/sqlite.js");
  return reader ? new SqliteScanner(join(dir, "medpolicy.db")) : new SqliteStore(dir);
}
