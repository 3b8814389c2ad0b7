/**
 * Issue 13: "two instances with the default secret reject each other's tokens, silently". Instances
 * sharing a database record fingerprints of their token keys; one whose keys disagree with a live
 * instance's refuses to start, naming the fix. Against a real PostgreSQL (a fresh schema) and SQLite.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { test } from "node:test";
import { type Library, loadLibrary } from "../../src/library/index.js";
import { ConfigError, type RunningServer, startServer } from "../../src/server/index.js";
import { type DbKind, freshDatabase, postgresAvailable, tempDir } from "./helpers.js";

const available = await postgresAvailable();
let library: Library | undefined;

/** Starts a server with the given secret variables (set only for the start: they are read then). */
async function start(
  db: { dataDir: string; databaseUrl?: string },
  env: { MEDPOLICY_JWT_SECRET?: string; MEDPOLICY_JWT_SECRETS?: string },
  dataDir = db.dataDir,
  logger?: Record<string, unknown>,
): Promise<RunningServer> {
  library ??= loadLibrary();
  const saved = {
    MEDPOLICY_JWT_SECRET: process.env.MEDPOLICY_JWT_SECRET,
    MEDPOLICY_JWT_SECRETS: process.env.MEDPOLICY_JWT_SECRETS,
  };
  for (const k of Object.keys(saved) as (keyof typeof saved)[]) {
    const v = env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await startServer({
      port: 0,
      dataDir,
      ...(db.databaseUrl && { databaseUrl: db.databaseUrl }),
      library,
      quiet: true,
      ...(logger && { logger }),
    });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const key = () => randomBytes(32).toString("hex");

for (const kind of ["postgres", "sqlite"] as DbKind[]) {
  test(`${kind}: a second instance with a different secret refuses to start`, {
    skip: kind === "postgres" && !available && "PostgreSQL not reachable",
  }, async () => {
    const db = await freshDatabase(kind);
    const [s1, s2] = [key(), key()];
    const running: RunningServer[] = [];
    try {
      running.push(await start(db, { MEDPOLICY_JWT_SECRET: s1 }));
      await assert.rejects(start(db, { MEDPOLICY_JWT_SECRET: s2 }), (err: Error) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(err.message, /another medpolicy instance on this (postgres|sqlite) database/);
        assert.match(err.message, /Set the same MEDPOLICY_JWT_SECRET/);
        assert.ok(!err.message.includes(s1) && !err.message.includes(s2), "no secret in the message");
        return true;
      });
      // The same secret is welcome.
      running.push(await start(db, { MEDPOLICY_JWT_SECRET: s1 }));
      // Rotation through a key set: `old,new` (signs old) is compatible with `old`, `new,old` is not
      // while an `old`-only instance is running.
      running.push(await start(db, { MEDPOLICY_JWT_SECRETS: `${s1},${s2}` }));
      await assert.rejects(start(db, { MEDPOLICY_JWT_SECRETS: `${s2},${s1}` }), ConfigError);
      // Once the others have stopped, the new secret may start.
      await Promise.all(running.splice(0).map((r) => r.close()));
      running.push(await start(db, { MEDPOLICY_JWT_SECRET: s2 }));
    } finally {
      await Promise.all(running.map((r) => r.close()));
      await db.cleanup();
    }
  });
}

test("postgres: two instances with their own data folders' generated secrets: the second is refused", {
  skip: !available && "PostgreSQL not reachable",
}, async () => {
  const db = await freshDatabase("postgres");
  const other = tempDir();
  let a: RunningServer | undefined;
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  try {
    a = await start(db, {}, db.dataDir, { level: "info", stream });
    // Said at start: the generated secret on a shared database.
    assert.match(lines.join(""), /token secret is the one generated in this data folder/);
    await assert.rejects(start(db, {}, other.dir), (err: Error) => {
      assert.match(err.message, /generated in its data folder/);
      return true;
    });
    // The same data folder (same generated secret) is fine.
    const b = await start(db, {});
    await b.close();
  } finally {
    await a?.close();
    other.remove();
    await db.cleanup();
  }
});
