/**
 * Issue 16 (review): a CDS Hooks JWT's `jti` is accepted once by all the instances that share a
 * database, not once by each — the used `jti`s are recorded in the store (`useNonce`), on SQLite and
 * on PostgreSQL. Two servers behind one public URL (as behind a load balancer) get the same signed
 * hook call: the first answers it, the second refuses it as a replay.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type DbKind, freshDatabase, postgresAvailable } from "../service/helpers.js";
import { makeClient } from "./clients.js";
import { hookRequest, order } from "./fixtures.js";
import { call, startFhirServer, type TestServer } from "./helpers.js";

const available = await postgresAvailable();
const PUBLIC = "https://payer.example";

for (const kind of ["sqlite", "postgres"] as DbKind[]) {
  test(`${kind}: a hook JWT replayed to another instance on the same database is refused`, {
    skip: kind === "postgres" && !available && "PostgreSQL not reachable",
  }, async () => {
    const db = await freshDatabase(kind);
    const cds = await makeClient("cds-client", { alg: "ES256" });
    const servers: TestServer[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        servers.push(
          await startFhirServer({}, undefined, {
            dataDir: db.dataDir,
            ...(db.databaseUrl && { databaseUrl: db.databaseUrl }),
            publicUrl: PUBLIC,
            clients: [cds.registration],
          }),
        );
      }
      const [a, b] = servers as [TestServer, TestServer];
      const jwt = await cds.signHookJwt(`${PUBLIC}/cds-services/order-sign-crd`);
      const body = hookRequest("order-sign", [order()]);
      const first = await call(a.url, "POST", "/cds-services/order-sign-crd", { token: jwt, body });
      assert.equal(first.status, 200, first.text);
      const replayed = await call(b.url, "POST", "/cds-services/order-sign-crd", { token: jwt, body });
      assert.equal(replayed.status, 401, replayed.text);
      // A fresh JWT is welcome on the second instance.
      const fresh = await cds.signHookJwt(`${PUBLIC}/cds-services/order-sign-crd`);
      const again = await call(b.url, "POST", "/cds-services/order-sign-crd", { token: fresh, body });
      assert.equal(again.status, 200, again.text);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
      await db.cleanup();
    }
  });
}
