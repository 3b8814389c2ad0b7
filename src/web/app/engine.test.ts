/**
 * The browser's live re-evaluation (engine.ts) decides a line as the server does: the same line rule
 * (src/library/line-rule.ts) over the section's outcome — an uncertain reading or an exclusion list not
 * evaluated with the section gives `review`, and an exclusion list read beside the section the same questions and outcome, on the
 * reviewer's screen as on the server.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { addDocument, initLibrary } from "../../cli/library-commands.js";
import { decide } from "../../library/decide.js";
import { loadLibrary } from "../../library/library.js";
import { uiPolicyOf } from "../plugin.js";
import { type LoadedPolicy, reevaluate } from "./engine.js";

const root = mkdtempSync(join(tmpdir(), "medpolicy-engine-"));
after(() => rmSync(root, { recursive: true, force: true }));

const DOC = [
  "Clinical Policy: Gadget Implant",
  "Reference Number: QR.MP.7",
  "Effective Date: 05/01/2026",
  "",
  "Policy/Criteria",
  "I. It is the policy of health plans affiliated with Sample Plan that a gadget implant is medically necessary when all of the following are met:",
  "A. Documented gadget deficiency;",
  "B. Trial of external gadget.",
  "",
  "II. A gadget implant is not covered for members with any of the following:",
  "A. Active skin infection;",
  "B. Metal allergy.",
  "",
].join("\n");

it("an approval the server sends to review (an exclusion list beside the section) is review live too", () => {
  const dir = join(root, "lib");
  initLibrary(dir);
  addDocument(dir, Buffer.from(DOC), { fileName: "gadget.txt", now: new Date("2026-05-02T00:00:00Z") });
  const path = join(dir, "QR.MP.7", "bindings.json");
  writeFileSync(path, JSON.stringify({ policy: "QR.MP.7", codes: [{ codes: ["0999T"], section: "I" }] }));
  const lib = loadLibrary(dir);
  const entry = lib.get("QR.MP.7@2026-05");
  const ref = "QR.MP.7@2026-05";
  // The model as the server sends it to the browser (GET /api/ui/policy).
  const loaded: LoadedPolicy = { ui: uiPolicyOf(lib, entry, "2026-06-01"), compiled: entry.compiled() };
  const c = (answers: Record<string, boolean>) => ({
    policy: ref,
    member: { state: "TX", birthDate: "1970-01-01" },
    service: { codes: ["0999T"], dateOfService: "2026-06-01" },
    answers,
  });
  const all = { "I.A": true, "I.B": true };
  const stored = decide(lib, c({ "I.A": true }), { today: "2026-06-01" });
  assert.equal(stored.outcome, "pended");
  // The section met, then the list unknown, a listed condition present, none present: the reviewer's
  // screen shows what the server decides, with the same basis, reasons, questions and list trace.
  for (const [answers, outcome] of [
    [all, "pended"],
    [{ ...all, "II.A": false, "II.B": true }, "review"],
    [{ ...all, "II.A": false, "II.B": false }, "approved"],
  ] as const) {
    const server = decide(lib, c(answers), { today: "2026-06-01" });
    assert.equal(server.outcome, outcome, JSON.stringify(answers));
    const live = reevaluate(stored, c({ "I.A": true }) as never, answers, new Map([[ref, loaded]]));
    const line = live.lines[0]!;
    assert.equal(live.outcome, outcome, JSON.stringify(answers));
    assert.equal(line.basis, server.lines[0]!.basis);
    assert.deepEqual(line.reasons, server.lines[0]!.reasons);
    assert.deepEqual(
      line.needed.map((n) => n.criterion),
      server.lines[0]!.needed.map((n) => n.criterion),
    );
    assert.deepEqual(line.exclusions, server.lines[0]!.exclusions);
  }
});
