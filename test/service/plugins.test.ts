/**
 * Issue 4: FHIR and web layers mount as plugins and get the ServerContext (store, engine, auth,
 * workflow service) and the decision hook that drives subscriptions.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Determination } from "../../src/model/index.js";
import { type MedpolicyPlugin, requireRole } from "../../src/server/index.js";
import { call, loadCase, startTest } from "./helpers.js";

test("a mounted plugin shares auth and hears every decision", async () => {
  const heard: { id: string; outcome: string }[] = [];
  const plugin: MedpolicyPlugin = {
    name: "probe",
    prefix: "/probe",
    register(app, ctx) {
      ctx.onDecision((id: string, d: Determination) => {
        heard.push({ id, outcome: d.outcome });
      });
      app.get("/whoami", { preHandler: requireRole() }, async (req) => ({
        role: req.principal!.role,
        store: ctx.store.kind,
      }));
      app.post("/submit", { preHandler: requireRole("provider") }, async (req, reply) => {
        const { record } = await ctx.service.submit(req.body, req.principal!);
        return reply.code(201).send({ id: record.id });
      });
    },
  };
  const s = await startTest("sqlite", { plugins: [plugin] });
  try {
    const who = await call(s.url, "GET", "/probe/whoami", { token: s.tokens.reviewer });
    assert.deepEqual(who.body, { role: "reviewer", store: "sqlite" });
    assert.equal((await call(s.url, "GET", "/probe/whoami")).status, 401);
    const viaPlugin = await call(s.url, "POST", "/probe/submit", {
      token: s.tokens.provider,
      body: loadCase("trial-nonmalignant-open-questions"),
    });
    assert.equal(viaPlugin.status, 201);
    // Same errors, same mapping, in the plugin's scope.
    const bad = await call(s.url, "POST", "/probe/submit", { token: s.tokens.provider, raw: "{" });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /not valid JSON/);
    const id = viaPlugin.body.id as string;
    await call(s.url, "POST", `/api/requests/${id}/answers`, {
      token: s.tokens.reviewer,
      body: { answers: { "I.A.2.g": false, "I.A.2.h": true } },
    });
    await call(s.url, "POST", `/api/requests/${id}/decision`, {
      token: s.tokens.medicalDirector,
      body: { outcome: "denied", reason: "Not weaned before the trial.", criteria: ["I.A.2.g"] },
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      heard.filter((h) => h.id === id).map((h) => h.outcome),
      ["pended", "denied", "denied"],
    );
  } finally {
    await s.close();
  }
});
