/**
 * Issue 13 (evaluate within 10% of a bare Fastify route): the per-request shortcuts keep behaviour.
 * - `requireRole` runs as a synchronous preHandler (with `done`) and still returns a promise when
 *   called with the request alone (FHIR's encoded-operation route, `GET /api/audit`): 401 without a
 *   principal, 403 with another role, either way.
 * - A flat `req.log.info({…}, msg)` line written straight to the access-log sink (no child logger,
 *   no redaction pass) is the line pino would have written; anything pino would redact or serialize
 *   still goes through pino.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import type { FastifyReply, FastifyRequest } from "fastify";
import { buildServer, DEMO_USERS, HttpError, requireRole } from "../../src/server/index.js";
import { lazyChildLogger } from "../../src/server/logging.js";
import { JWT_SECRET, tempDir } from "./helpers.js";

const asReq = (principal?: unknown) => ({ principal }) as unknown as FastifyRequest;
const reply = {} as FastifyReply;

test("requireRole: as a hook it calls done synchronously; called alone it returns a promise", async () => {
  const reviewers = requireRole("reviewer", "admin");
  const calls: unknown[] = [];
  reviewers(asReq(DEMO_USERS.reviewer), reply, (err?: Error) => calls.push(err ?? "ok"));
  reviewers(asReq(undefined), reply, (err?: Error) => calls.push(err));
  reviewers(asReq(DEMO_USERS.provider), reply, (err?: Error) => calls.push(err));
  assert.equal(calls.length, 3, "each hook call answers before returning");
  assert.equal(calls[0], "ok");
  assert.ok(calls[1] instanceof HttpError && calls[1].status === 401);
  assert.equal((calls[2] as { kind?: string }).kind, "forbidden");

  await reviewers(asReq(DEMO_USERS.admin));
  await assert.rejects(
    reviewers(asReq(undefined)),
    (e: unknown) => e instanceof HttpError && e.status === 401,
  );
  await assert.rejects(
    reviewers(asReq(DEMO_USERS.provider)),
    (e: unknown) => (e as { kind?: string }).kind === "forbidden",
  );
  // Any role when none is named, but a principal all the same.
  await requireRole()(asReq(DEMO_USERS.provider));
  await assert.rejects(requireRole()(asReq(undefined)));
});

test("a flat request log line bypasses pino but is the line pino writes; guarded fields still go through pino", async () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      cb();
    },
  });
  // A plain object with `write` is the access log's sink, as `accessLogger` gives (a pino destination).
  const sink = { write: (s: string) => stream.write(s) };
  process.env.MEDPOLICY_JWT_SECRET ??= JWT_SECRET;
  const tmp = tempDir();
  const { app } = await buildServer({ dataDir: tmp.dir, logger: { level: "info", stream: sink } });
  try {
    await app.ready();
    const fields = { requestId: "r-1", engineOutcome: "approved", created: true, n: 2 };
    // Count the child loggers made: the shortcut makes none.
    const log = app.log as unknown as { child: (...a: unknown[]) => unknown };
    const child = log.child;
    let made = 0;
    log.child = (...a: unknown[]) => {
      made++;
      return child.apply(log, a);
    };
    const fast = lazyChildLogger.call(app, app.log, { reqId: "abc" }, {}, {} as never);
    fast.info(fields, "request submitted");
    assert.equal(made, 0, "the flat line made no child logger");
    // The same through pino itself (a child made eagerly, as Fastify's default factory would).
    app.log.child({ reqId: "abc" }).info(fields, "request submitted");
    // PHI-bearing keys are redacted by pino: never written by the shortcut.
    const slow = lazyChildLogger.call(app, app.log, { reqId: "def" }, {}, {} as never);
    slow.info({ member: "Jane Doe 1957-08-19", requestId: "r-2" }, "guarded");
    slow.info({ nested: { birthDate: "1957-08-19" } }, "nested");
    assert.equal(made, 2, "pino's own child for the reference line, and for the guarded one");
    log.child = child;
    await new Promise((r) => setImmediate(r));
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const ours = parsed.filter((l) => l.msg === "request submitted");
    assert.equal(ours.length, 2);
    const [a, b] = ours.map((l) => {
      const { time, ...rest } = l;
      assert.equal(typeof time, "number");
      return rest;
    });
    assert.deepEqual(Object.keys(a!), Object.keys(b!), "same keys in the same order");
    assert.deepEqual(a, b);
    const all = lines.join("\n");
    assert.ok(!all.includes("Jane Doe") && !all.includes("1957-08-19"), "no PHI written");
    assert.ok(parsed.some((l) => l.msg === "guarded" && l.member === "[redacted]"));
  } finally {
    await app.close();
    tmp.remove();
  }
});
