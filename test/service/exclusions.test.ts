/**
 * An exclusion list no binding makes a code's criteria (src/library/line-rule.ts `checkExclusions`),
 * through the real HTTP API on both databases, on a real document (CMS NCD 160.24: DBS, section I's
 * indications, section II "not covered for ET or PD patients with any of the following"): the list is
 * asked with the section, a condition present goes to review and is what a medical director's adverse
 * decision may cite, and none present approves.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadLibrary } from "../../src/library/library.js";
import { dbsLibrary } from "../support/dbs-library.js";
import { call, DATABASES, postgresAvailable, startTest, type Tokens, tempDir } from "./helpers.js";

const tmp = tempDir("medpolicy-exclusions-service-");
after(() => tmp.remove());

/** Section I met on the essential-tremor path, with `listed` as section II's answers. */
function dbsCase(listed: Record<string, boolean>) {
  return {
    member: { state: "TX", birthDate: "1950-01-01", lineOfBusiness: "medicare", name: "Lee Park" },
    service: { codes: ["61863"], dateOfService: "2026-03-01" },
    answers: { "I.1": true, "I.2": true, "I.2.a": true, "I.2.b": true, "I.2.c": true, ...listed },
  };
}
const NONE_LISTED = Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`II.${i}`, false]));

let libDir: Promise<string> | undefined;

for (const db of DATABASES) {
  describe(`an unbound exclusion list (${db})`, async () => {
    const skip = db === "postgres" && !(await postgresAvailable()) ? "PostgreSQL not reachable" : false;
    let url = "";
    let t: Tokens;
    let close = async () => {};
    before(async () => {
      if (skip) return;
      libDir ??= dbsLibrary(join(tmp.dir, "lib"));
      const s = await startTest(db, { library: loadLibrary(await libDir), libraryPollMs: 0 });
      url = s.url;
      t = s.tokens;
      close = s.close;
    });
    after(() => close());

    const submit = async (body: unknown) => {
      const r = await call(url, "POST", "/api/requests", { token: t.provider, body });
      assert.equal(r.status, 201, r.text);
      return r.body;
    };

    test("the list is asked with the section; none present approves", { skip }, async () => {
      const open = await call(url, "POST", "/api/evaluate", { token: t.reviewer, body: dbsCase({}) });
      assert.equal(open.status, 200, open.text);
      assert.equal(open.body.outcome, "pended");
      assert.deepEqual(
        open.body.needed.map((n: { criterion: string }) => n.criterion),
        ["II.1", "II.2", "II.3", "II.4", "II.5", "II.6"],
      );
      const clear = await submit(dbsCase(NONE_LISTED));
      assert.equal(clear.status, "approved", JSON.stringify(clear));
    });

    test("a condition present: review, citable by a medical director's not-covered, not by a nurse", {
      skip,
    }, async () => {
      const rec = await submit(dbsCase({ ...NONE_LISTED, "II.3": true }));
      assert.equal(rec.statusText, "pended for review", JSON.stringify(rec));
      const view = await call(url, "GET", `/api/requests/${rec.id}`, { token: t.medicalDirector });
      assert.equal(view.status, 200, view.text);
      assert.deepEqual(
        [view.body.review.workflowStatus, view.body.review.engineOutcome],
        ["awaiting-review", "review"],
      );
      const cites = view.body.review.citable["not-covered"] as { criterion: string; status: string }[];
      assert.deepEqual(
        cites.filter((c) => c.criterion === "II.3"),
        [
          {
            criterion: "II.3",
            text: "Current psychosis, alcohol abuse or other drug abuse",
            status: "present",
          },
        ],
      );
      const body = {
        outcome: "not-covered",
        reason: "Current psychosis: NCD 160.24 rules out DBS for this patient.",
        criteria: ["II.3"],
      };
      const byNurse = await call(url, "POST", `/api/requests/${rec.id}/decision`, {
        token: t.reviewer,
        body,
      });
      assert.equal(byNurse.status, 403, byNurse.text);
      // A condition that is not present is no reason.
      const absent = await call(url, "POST", `/api/requests/${rec.id}/decision`, {
        token: t.medicalDirector,
        body: { ...body, criteria: ["II.2"] },
      });
      assert.equal(absent.status, 400, absent.text);
      const signed = await call(url, "POST", `/api/requests/${rec.id}/decision`, {
        token: t.medicalDirector,
        body,
      });
      assert.equal(signed.status, 200, signed.text);
      assert.equal(signed.body.decision.outcome, "not-covered");
      assert.deepEqual(
        signed.body.decision.criteria.map((c: { criterion: string }) => c.criterion),
        ["II.3"],
      );
    });
  });
}
