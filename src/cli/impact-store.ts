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
  const spec = flag ?? process.env.DATABASE_URL ?? `sqlite:${process.env.MEDPOLICY_DATA ?? "./data"}`;
  const { PostgresStore, SqliteStore } = await import("../store/index.js");
  if (/^postgres(ql)?:\/\//.test(spec)) {
    try {
      return await PostgresStore.open(spec);
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
  return new SqliteStore(dir);
}
