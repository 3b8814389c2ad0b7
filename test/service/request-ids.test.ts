/**
 * Issue 13 and 15: a request's id follows the clock (a UUID version 7 of the time received,
 * src/store/ids.ts), so the indexes keyed by it append and a scan in the order received reads them in
 * order. On both databases: ids of requests received one after another sort as they were received,
 * and the scan in the order received meets them in that order. (Requests stored before, with random
 * version 4 ids, are read as they always were: the migration test scans them.)
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadLibrary } from "../../src/library/index.js";
import { libraryEngine } from "../../src/server/engine.js";
import { DEMO_USERS } from "../../src/server/index.js";
import { RequestService } from "../../src/server/service.js";
import { openStore } from "../../src/store/index.js";
import { DATABASES, freshDatabase, postgresAvailable, ROOT } from "./helpers.js";

const available = await postgresAvailable();
const lib = loadLibrary(join(ROOT, "policies"));
const base = JSON.parse(
  readFileSync(join(ROOT, "test/service/fixtures/trial-nonmalignant-not-weaned.json"), "utf8"),
);

for (const kind of DATABASES) {
  test(`${kind}: request ids sort in the order the requests were received`, {
    skip: kind === "postgres" && !available && "PostgreSQL not reachable",
  }, async () => {
    const db = await freshDatabase(kind);
    const store = await openStore(db);
    try {
      // A clock that moves 7 ms a reading, from a day in 2026.
      let now = Date.parse("2026-03-02T12:00:00Z");
      const clock = () => {
        now += 7;
        return new Date(now);
      };
      const service = new RequestService(store, libraryEngine(lib), clock);
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) {
        const r = await service.submit({ ...base, id: `order-${i}` }, DEMO_USERS.provider!);
        ids.push(r.record.id);
      }
      assert.deepEqual([...ids].sort(), ids, "ids sort as received");
      for (const id of ids)
        assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const scanned: string[] = [];
      for await (const page of store.scanDeterminations({ pageSize: 7 }))
        for (const r of page) scanned.push(r.requestId);
      assert.deepEqual(scanned, ids, "the scan in the order received meets them in id order too");
    } finally {
      await store.close();
      await db.cleanup();
    }
  });
}
