/**
 * Issue 15 (impact): a store's scan reads a page by walking the `requests_received` index and stops at
 * its LIMIT, on both databases — never the whole table per page, which made a scan quadratic in the
 * store on PostgreSQL (its planner, misled by a join on MAX(seq), read and sorted both tables for every
 * page). Checked on the plans of 20,000 requests made by SQL (the planners' choice depends on the
 * table's size), then the scan itself: every request once, in the order received, with its newest
 * determination. A plan and a count, never a time.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { openStore } from "../../src/store/index.js";
import { BOUNDARY_SQL, SCAN_RANGE_SQL, SCAN_SQL } from "../../src/store/rows.js";
import { DATABASES, type DbKind, freshDatabase, postgresAvailable } from "./helpers.js";

const N = 20_000;

/** Requests r000001… received a millisecond apart; every tenth decided twice (the newest: denied). */
const FILL = (series: string, at: string, id: string) => `
INSERT INTO requests (id, org, submitted_case, received_at, expedited, due_at, status, md_only, engine_outcome, version, summary)
  SELECT ${id}, 'org', '', ${at}, 0, '2026-02-01T00:00:00.000Z', 'decided', 0, 'approved', 1,
    '{"codes":["62322"]}' FROM ${series};
INSERT INTO determinations (request_id, seq, created_at, trigger, actor, case_json, today, engine, outcome, determination)
  SELECT ${id}, 1, '2026-01-01', 'submit', '{}', '{"x":1}', '2026-01-01', 'e', 'approved', ''
  FROM ${series};
INSERT INTO determinations (request_id, seq, created_at, trigger, actor, case_json, today, engine, outcome, determination)
  SELECT ${id}, 2, '2026-01-02', 'answers', '{}', '{"x":2}', '2026-01-02', 'e', 'denied', ''
  FROM ${series} WHERE g % 10 = 0;
`;

/** The plan of `sql` with `params`, as text, on either database (with the store's schema made). */
async function plans(kind: DbKind, dataDir: string, url: string | undefined): Promise<string[]> {
  const key = ["2026-01-01T00:00:05.000Z", "r005000"];
  const through = ["2026-01-01T00:00:09.999Z", "r009999"];
  if (kind === "sqlite") {
    const db = new Database(join(dataDir, "medpolicy.db"));
    try {
      db.exec(
        FILL(
          `(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${N}) SELECT g FROM s)`,
          "strftime('%Y-%m-%dT%H:%M:%f', '2026-01-01', '+' || (g * 0.001) || ' seconds') || 'Z'",
          "'r' || substr('000000' || g, -6, 6)",
        ),
      );
      db.exec("ANALYZE");
      const plan = (sql: string, params: unknown[]) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
          .map((r) => r.detail)
          .join("\n");
      return [
        plan(SCAN_SQL.sqlite, [...key, 1000]),
        plan(SCAN_RANGE_SQL.sqlite, [...key, ...through, 1000]),
        plan(BOUNDARY_SQL.sqlite, [...key, 4999]),
      ];
    } finally {
      db.close();
    }
  }
  const schema = new URL(url!).searchParams.get("schema")!;
  const c = new pg.Client({ connectionString: url!.replace(/[?&]schema=[^&]*/, "") });
  await c.connect();
  try {
    await c.query(`SET search_path TO ${schema}`);
    await c.query(
      FILL(
        "generate_series(1, 20000) g",
        `to_char(timestamp '2026-01-01' + g * interval '1 millisecond', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
        "'r' || lpad(g::text, 6, '0')",
      ),
    );
    await c.query("ANALYZE requests; ANALYZE determinations");
    const plan = async (sql: string, params: unknown[]) =>
      (await c.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params)).rows
        .map((r) => r["QUERY PLAN"])
        .join("\n");
    return [
      await plan(SCAN_SQL.postgres, [...key, 1000]),
      await plan(SCAN_RANGE_SQL.postgres, [...key, ...through, 1000]),
      await plan(BOUNDARY_SQL.postgres, [...key, 4999]),
    ];
  } finally {
    await c.end();
  }
}

test("a scan page walks the order-received index and stops at its limit; the scan reads each request once (both stores)", async (t) => {
  for (const kind of DATABASES) {
    if (kind === "postgres" && !(await postgresAvailable())) {
      t.diagnostic("PostgreSQL not reachable: SQLite only");
      continue;
    }
    const db = await freshDatabase(kind);
    try {
      // The store makes its schema (and the index), then is closed while the rows are written by SQL.
      const made = await openStore({
        dataDir: db.dataDir,
        ...(db.databaseUrl && { databaseUrl: db.databaseUrl }),
      });
      await made.close();
      const [page, range, boundary] = await plans(kind, db.dataDir, db.databaseUrl);
      for (const [name, p] of [
        ["page", page!],
        ["range", range!],
        ["boundary", boundary!],
      ] as const) {
        assert.match(p, /requests_received/, `${kind} ${name}: ${p}`);
        // No full read of requests, and no sort of what was read (the index gives the order).
        assert.doesNotMatch(p, /Seq Scan on requests|SCAN r\b|SCAN requests\b/, `${kind} ${name}: ${p}`);
        assert.doesNotMatch(p, /\bSort\b|TEMP B-TREE/, `${kind} ${name}: ${p}`);
      }
      const store = await openStore({
        dataDir: db.dataDir,
        ...(db.databaseUrl && { databaseUrl: db.databaseUrl }),
      });
      try {
        let n = 0;
        let denied = 0;
        let last = "";
        for await (const rows of store.scanDeterminations({ pageSize: 1000 })) {
          for (const r of rows) {
            assert.ok(r.receivedAt > last, `${kind}: in the order received (${r.requestId})`);
            last = r.receivedAt;
            const tenth = Number(r.requestId.slice(1)) % 10 === 0;
            assert.equal(r.determination.outcome, tenth ? "denied" : "approved", `${kind} ${r.requestId}`);
            assert.equal(r.determination.caseJson, tenth ? '{"x":2}' : '{"x":1}');
            if (tenth) denied++;
            n++;
          }
        }
        assert.equal(n, N, kind);
        assert.equal(denied, N / 10, kind);
      } finally {
        await store.close();
      }
    } finally {
      await db.cleanup();
    }
  }
});
