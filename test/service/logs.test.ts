/**
 * Issue 4 / SPEC 4 "no PHI in logs": capture every log line of a full workflow (submit, errors,
 * answers, signing, letter) at the most verbose level and find no birth date, member id or name.
 * Issue 13: the access log (one line per request, on by default, on stderr) has a fixed PHI-free shape.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import { Auth, DEMO_USERS } from "../../src/server/index.js";
import { call, JWT_SECRET, loadCase, ROOT, startTest, tempDir } from "./helpers.js";

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
      token: t.medicalDirector,
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

  // Issue 13: one access-log line per request, of a fixed shape: request id, principal sub and role
  // (never the name), route pattern (never the path or query), method, status, latency.
  const access = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === "request");
  assert.equal(access.length, 11, "one line per request");
  const shape = new Set([
    "level",
    "time",
    "pid",
    "hostname",
    "reqId",
    "msg",
    "method",
    "route",
    "status",
    "ms",
  ]);
  for (const l of access) {
    const extra = Object.keys(l).filter((k) => !shape.has(k) && k !== "sub" && k !== "role");
    assert.deepEqual(extra, [], `unexpected fields ${extra.join(", ")}`);
    assert.equal(typeof l.reqId, "string");
    assert.equal(typeof l.status, "number");
    assert.equal(typeof l.ms, "number");
    assert.ok(l.route === "(no route)" || /^\/[A-Za-z0-9/:._$-]*$/.test(String(l.route)), String(l.route));
    assert.equal(l.sub === undefined, l.role === undefined, "sub and role together");
  }
  const read = access.find(
    (l) => l.route === "/api/requests/:id" && l.sub === "rn-chen" && l.method === "GET",
  );
  assert.deepEqual(
    { method: read?.method, status: read?.status, role: read?.role },
    { method: "GET", status: 200, role: "reviewer" },
  );
  const unmatched = access.find((l) => l.status === 404 && l.route === "(no route)");
  assert.ok(unmatched, "an unmatched path is logged without the path");
  assert.ok(access.some((l) => l.route === "/api/requests/:id" && l.status === 404 && l.sub === "dr-baker"));
  assert.ok(!all.includes("?member="), "no query string");
});

test("src/server/main.ts: the url line first on stdout, access logs on stderr by default, off on request", async () => {
  const run = async (extra: string[]) => {
    const dir = tempDir();
    const proc = spawn(
      process.execPath,
      ["--import", "tsx", join(ROOT, "src/server/main.ts"), "--data", dir.dir, ...extra],
      {
        cwd: ROOT,
        env: { ...process.env, MEDPOLICY_JWT_SECRET: JWT_SECRET, MEDPOLICY_LOG: "" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    proc.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      proc.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf("\n");
        if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { url: string }).url);
      });
      proc.once("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    const token = await new Auth(new TextEncoder().encode(JWT_SECRET)).issue(DEMO_USERS.reviewer!);
    assert.equal((await call(url, "GET", "/api/queue?member=MBR-1", { token })).status, 200);
    await new Promise<void>((resolve) => {
      proc.once("exit", () => resolve());
      proc.kill("SIGTERM");
    });
    dir.remove();
    return { out, err };
  };
  const on = await run([]);
  assert.equal(on.out.trim().split("\n").length, 1, "stdout holds the url line only");
  const line = on.err
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === "request");
  assert.ok(line, `an access line on stderr:\n${on.err}`);
  assert.deepEqual(
    { route: line.route, method: line.method, status: line.status, sub: line.sub, role: line.role },
    { route: "/api/queue", method: "GET", status: 200, sub: "rn-chen", role: "reviewer" },
  );
  assert.ok(!on.err.includes("MBR-1"));
  const off = await run(["--log-level", "off"]);
  assert.ok(!off.err.includes('"msg":"request"'), off.err);
});
