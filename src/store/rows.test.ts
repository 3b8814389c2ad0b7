/** Stored rows as read (src/store/rows.ts): one shape of a decision whatever commit signed it. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decisionOf } from "./rows.js";

test("a decision per service stored with bare criterion ids is read with the cited criteria", () => {
  const stored = {
    outcome: "not-covered",
    reason: "Allograft fusion is not covered.",
    criteria: [
      {
        criterion: "IV",
        text: "27278 is listed among the codes that do not support coverage",
        status: "section",
      },
    ],
    signedBy: { sub: "md", name: "Dana Diaz, MD", role: "medical-director" },
    signedAt: "2026-12-07T00:00:00Z",
    automatic: false,
    determinationSeq: 1,
    lines: [
      { code: "27278", outcome: "not-covered", criteria: ["IV", "X"] },
      { code: "27280", outcome: "approved" },
    ],
  };
  const d = decisionOf(JSON.stringify(stored));
  assert.deepEqual(d.lines, [
    { code: "27278", outcome: "not-covered", criteria: [stored.criteria[0], { criterion: "X", text: "X" }] },
    { code: "27280", outcome: "approved" },
  ]);
  // As signed now, it is read as it is.
  const now = { ...stored, lines: [{ code: "27278", outcome: "not-covered", criteria: stored.criteria }] };
  assert.deepEqual(decisionOf(JSON.stringify(now)), now);
});
