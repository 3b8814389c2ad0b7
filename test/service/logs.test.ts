/**
 * Issue 4 / SPEC 4 "no PHI in logs": capture every log line of a full workflow (submit, errors,
 * answers, signing, letter) at the most verbose level and find no birth date, member id or name.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { DEMO_USERS } from "../../src/server/index.js";
import { call, loadCase, startTest } from "./helpers.js";

test("logs of a full workflow carry request ids and outcomes, never PHI", async () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      cb();
    },
  });
  const s = await startTest("sqlite", { logger: { level: "trace", stream } });
  const birthDate = "1957-08-19";
  const memberId = "MBR-44A7-PHI-9931";
  const phi = [birthDate, memberId, "Alvarez", "Casey Chen", "Dana Diaz", DEMO_USERS.provider!.name];
  const withPhi = (name: string) => {
    const c = loadCase(name);
    c.member = { ...(c.member as object), birthDate, id: memberId };
    return c;
  };
  try {
    const { url, tokens: t } = s;
    const ok = await call(url, "POST", "/api/requests", {
      token: t.provider,
      body: withPhi("trial-malignant-met"),
    });
    assert.equal(ok.status, 201);
    const sub = await call(url, "POST", "/api/requests", {
      token: t.provider,
      body: withPhi("trial-nonmalignant-open-questions"),
      headers: { "idempotency-key": "phi-test" },
    });
    assert.equal(sub.status, 201);
    const id = sub.body.id as string;
    // Errors whose messages would quote the body (V8 JSON errors include a snippet of the text).
    const bad = JSON.stringify(withPhi("trial-malignant-met")).replace("}", "},,");
    assert.equal((await call(url, "POST", "/api/evaluate", { token: t.provider, raw: bad })).status, 400);
    const wrongType = withPhi("trial-malignant-met");
    (wrongType.member as Record<string, unknown>).age = birthDate;
    assert.equal(
      (await call(url, "POST", "/api/evaluate", { token: t.provider, body: wrongType })).status,
      400,
    );
    // Nor is a caller-chosen path.
    assert.equal(
      (await call(url, "GET", `/api/members/${memberId}/${birthDate}`, { token: t.reviewer })).status,
      404,
    );
    // A caller-chosen answer key is not a field name to log.
    const phiKey = withPhi("trial-malignant-met");
    (phiKey.answers as Record<string, boolean>)[`${memberId} ${birthDate}`] = true;
    assert.equal((await call(url, "POST", "/api/evaluate", { token: t.provider, body: phiKey })).status, 400);
    assert.equal(
      (await call(url, "GET", `/api/requests/${id}?member=${memberId}`, { token: t.otherProvider })).status,
      404,
    );
    const ans = await call(url, "POST", `/api/requests/${id}/answers`, {
      token: t.reviewer,
      body: { answers: { "I.A.2.g": false, "I.A.2.h": true } },
    });
    assert.equal(ans.status, 200);
    const signed = await call(url, "POST", `/api/requests/${id}/decision`, {
      token: t.reviewer,
      body: { outcome: "denied", reason: `Not weaned (member ${memberId}).`, criteria: ["I.A.2.g"] },
    });
    assert.equal(signed.status, 200);
    const letter = await call(url, "GET", `/api/requests/${id}/letter`, { token: t.provider });
    assert.equal(letter.status, 200);
    assert.ok(letter.text.includes(memberId), "the letter itself names the member");
    await call(url, "GET", `/api/requests/${id}`, { token: t.reviewer });
  } finally {
    await s.close();
  }
  const all = lines.join("\n");
  if (process.env.SHOW_LOGS) console.log(all);
  assert.ok(lines.length > 10, "logs were captured");
  for (const p of phi) assert.ok(!all.includes(p), `log contains ${p}`);
  for (const tok of Object.values(s.tokens)) assert.ok(!all.includes(tok.slice(-20)), "log contains a token");
  // What is logged: request ids and outcomes.
  const submitted = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === "request submitted");
  assert.equal(submitted.length, 2);
  assert.ok(submitted.every((l) => typeof l.requestId === "string" && typeof l.engineOutcome === "string"));
  assert.ok(all.includes('"msg":"decision signed"'));
});
