/**
 * store/: persistence for the service (SPEC 4). `openStore` picks PostgreSQL when a URL is given and the
 * embedded SQLite database otherwise; both implement the same {@link Store} contract.
 */
import { PostgresStore } from "./postgres.js";
import { SqliteStore } from "./sqlite.js";
import type { Store } from "./types.js";

export { timeOrderedId } from "./ids.js";
export { openPool, PostgresStore, parseDatabaseUrl } from "./postgres.js";
export { hashDetermination, indexOfCase } from "./rows.js";
export { SqliteScanner, SqliteStore } from "./sqlite.js";
export type * from "./types.js";

/** Opens the store: PostgreSQL at `databaseUrl` when given, else SQLite in `dataDir` (SPEC 4). */
export async function openStore(opts: { dataDir: string; databaseUrl?: string }): Promise<Store> {
  if (opts.databaseUrl) return PostgresStore.open(opts.databaseUrl);
  return new SqliteStore(opts.dataDir);
}
