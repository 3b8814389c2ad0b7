/**
 * PAS `$submit` with each element of the valid bodies removed, one at a time (issue 13's fuzz suite,
 * made exhaustive for removals): never 5xx, every 4xx an OperationOutcome, every 200 a conformant
 * response Bundle — and, by `helpers.ts`'s `after`, no answer with an IG profile error of its own. The
 * random fuzz found one in about ten runs (a Patient identifier without its value: the echo dropped the
 * identifier, and the copy had none, US Core `identifier` 1..*); this sweep finds such a removal every run.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { checkOperationOutcome, checkPasResponse } from "./conformance.js";
import { pasBundle } from "./fixtures.js";
import { call, sharedFiles, startFhirServer, type TestServer } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: bodies are edited structurally
type J = any;

/** Every path into `v` (breadth first, at most `max`). */
function pathsOf(v: unknown, max = 400): (string | number)[][] {
  const out: (string | number)[][] = [];
  const queue: [unknown, (string | number)[]][] = [[v, []]];
  while (queue.length > 0 && out.length < max) {
    const [x, p] = queue.shift() as [unknown, (string | number)[]];
    if (Array.isArray(x)) for (const [i, y] of x.entries()) queue.push([y, [...p, i]]);
    else if (x !== null && typeof x === "object")
      for (const [k, y] of Object.entries(x)) queue.push([y, [...p, k]]);
    if (p.length > 0) out.push(p);
  }
  return out;
}

/** `body` without the element at `path`. */
function without(body: unknown, path: (string | number)[]): J {
  const b = structuredClone(body) as J;
  let parent = b;
  for (const k of path.slice(0, -1)) parent = parent[k];
  const last = path.at(-1) as string | number;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete parent[last];
  return b;
}

let s: TestServer;
before(async () => {
  s = await startFhirServer();
});
after(async () => {
  await s.close();
});

test("PAS $submit: every element of four valid bodies removed in turn", { timeout: 300_000 }, async () => {
  const bodies: J[] = [
    pasBundle("R1", ["62362", "99213"]),
    { resourceType: "Parameters", parameter: [{ name: "resource", resource: pasBundle("R2", ["62362"]) }] },
    ...sharedFiles("pas-2.2.1")
      .filter((f) => /Bundle-(MedicalServices|Referral)AuthorizationBundleExample/.test(f.name))
      .map((f) => f.json),
  ];
  assert.equal(bodies.length, 4);
  let answered = 0;
  for (const body of bodies)
    for (const path of pathsOf(body)) {
      const raw = JSON.stringify(without(body, path));
      const r = await call(s.url, "POST", "/fhir/Claim/$submit", { token: s.tokens.provider, raw });
      const where = `without ${path.join(".")}: ${r.status} ${r.text.slice(0, 300)}`;
      assert.ok(r.status < 500, where);
      if (r.status >= 400) assert.deepEqual(checkOperationOutcome(r.body), [], where);
      else {
        answered++;
        assert.deepEqual(checkPasResponse(r.body), [], where);
      }
    }
  // Not every removal is refused: most elements are optional (a sweep that refused all would test little).
  assert.ok(answered > 100, `${answered} answered`);
});
