/**
 * Issue 4 / SPEC 4 "Nothing acknowledged is ever lost (crash-safe)": the server runs as a child
 * process, takes a burst of submits, is killed with SIGKILL mid-burst, restarts on the same database,
 * and every submit it acknowledged (2xx) is there — on both databases.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Auth } from "../../src/server/auth.js";
import { DEMO_USERS } from "../../src/server/index.js";
import {
  call,
  DATABASES,
  freshDatabase,
  JWT_SECRET,
  loadCase,
  postgresAvailable,
  spawnServer,
} from "./helpers.js";

const auth = new Auth(new TextEncoder().encode(JWT_SECRET));

for (const db of DATABASES) {
  test(`SIGKILL mid-burst loses no acknowledged submit (${db})`, async (t) => {
    if (db === "postgres" && !(await postgresAvailable())) return t.skip("PostgreSQL not reachable");
    const store = await freshDatabase(db);
    const args = [
      "--data",
      store.dataDir,
      ...(store.databaseUrl ? ["--database-url", store.databaseUrl] : []),
    ];
    const provider = await auth.issue(DEMO_USERS.provider!);
    const reviewer = await auth.issue(DEMO_USERS.reviewer!);
    const bodies = [loadCase("trial-malignant-met"), loadCase("trial-nonmalignant-open-questions")];
    let child = await spawnServer(args);
    try {
      const acked = new Map<string, string>(); // request id → idempotency key
      let attempts = 0;
      let stop = false;
      const worker = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const key = `crash-${w}-${i}`;
          attempts++;
          try {
            const r = await call(child.url, "POST", "/api/requests", {
              token: provider,
              body: bodies[i % 2],
              headers: { "idempotency-key": key },
            });
            if (r.status === 201 || r.status === 200) acked.set(r.body.id as string, key);
          } catch {
            return; // connection reset by the kill
          }
        }
      };
      const workers = Array.from({ length: 8 }, (_, w) => worker(w));
      // Kill once a good number of writes is acknowledged and more are in flight.
      const deadline = Date.now() + 60_000;
      while (acked.size < 150) {
        assert.ok(
          Date.now() < deadline,
          `only ${acked.size} submits acknowledged in 60 s:\n${child.output()}`,
        );
        await new Promise((r) => setTimeout(r, 5));
      }
      child.proc.kill("SIGKILL");
      // Workers keep submitting until the dead server refuses them, so the burst really spans the kill
      // (responses already written before it still count as acknowledged).
      await Promise.all(workers);
      stop = true;
      await new Promise<void>((r) =>
        child.proc.exitCode !== null || child.proc.signalCode ? r() : child.proc.once("exit", () => r()),
      );
      assert.equal(child.proc.signalCode, "SIGKILL");
      assert.ok(attempts > acked.size, "some submits were in flight at the kill");
      t.diagnostic(`${acked.size} acknowledged, ${attempts - acked.size} in flight at SIGKILL`);

      child = await spawnServer(args);
      let found = 0;
      for (const [id, key] of acked) {
        const r = await call(child.url, "GET", `/api/requests/${id}`, { token: provider });
        assert.equal(r.status, 200, `acknowledged request ${id} (${key}) lost after SIGKILL`);
        found++;
      }
      assert.equal(found, acked.size);
      // The restarted server keeps working on the same data: replays of acknowledged keys find their
      // request, the queue lists the pended ones, new submits are accepted.
      for (const [id, key] of [...acked].slice(0, 20)) {
        const i = Number(key.split("-")[2]);
        const r = await call(child.url, "POST", "/api/requests", {
          token: provider,
          body: bodies[i % 2],
          headers: { "idempotency-key": key },
        });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.id, id);
      }
      const q = await call(child.url, "GET", "/api/queue", { token: reviewer });
      assert.equal(q.status, 200);
      assert.ok((q.body as unknown[]).length > 0);
      const again = await call(child.url, "POST", "/api/requests", { token: provider, body: bodies[0] });
      assert.equal(again.status, 201);
    } finally {
      await child.stop();
      await store.cleanup();
    }
  });
}
