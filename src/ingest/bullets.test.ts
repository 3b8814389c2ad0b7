/**
 * Unlabeled bullet lists under a lead-in (SPEC 1.4: position, not the printed label, makes the id):
 * many policies list a group's criteria as bullets. Random lists in several bullet marks and indents,
 * nested, next to labeled levels, and the round trip through `renderMarkdown`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { CriterionNode } from "../model/index.js";
import { ingest, renderMarkdown } from "./index.js";

const doc = (criteria: string[]) =>
  [
    "Clinical Policy: Widget Implant",
    "",
    "Reference Number: XX.CP.MP.999",
    "",
    "Date of Last Revision: 03/2026",
    "",
    "Policy/Criteria",
    "",
    ...criteria,
    "",
    "Background",
    "",
    "Widgets are small.",
  ].join("\n");

/** Every criterion as `id text`, depth first. */
function flat(n: CriterionNode | undefined, out: string[] = []): string[] {
  if (!n || n.kind === "ref") return out;
  for (const c of n.kind === "leaf" ? [] : n.children) {
    out.push(`${c.id} ${c.text}`);
    flat(c, out);
  }
  return out;
}

describe("unlabeled bullets", () => {
  it("are the criteria of the lead-in above them, numbered by position in the next label style", () => {
    const r = ingest(
      doc([
        "I. It is the policy of health plans that widgets are medically necessary when all of the following criteria are met:",
        "A. Member is 18 years of age or older;",
        "B. Documented failure of at least one of the following:",
        " - Physical therapy for at least six weeks;",
        " - Oral analgesics, including",
        "   non-steroidal anti-inflammatory drugs;",
        " - Injection therapy;",
        "C. None of the following contraindications:",
        " • Active infection;",
        " • Pregnancy.",
        "",
        "II. It is the policy of health plans that widgets are not medically necessary for all other indications.",
      ]),
    );
    const v = r.versions[0]!;
    assert.deepEqual(r.unplaced, []);
    assert.deepEqual(flat(v.sections[0]!.tree), [
      "I.A Member is 18 years of age or older",
      "I.B Documented failure of at least one of the following",
      "I.B.1 Physical therapy for at least six weeks",
      "I.B.2 Oral analgesics, including non-steroidal anti-inflammatory drugs",
      "I.B.3 Injection therapy",
      "I.C None of the following contraindications",
      "I.C.1 Active infection",
      "I.C.2 Pregnancy",
    ]);
    const b = (v.sections[0]!.tree as { children: CriterionNode[] }).children[1]!;
    assert.equal(b.kind, "atLeast");
    assert.equal((v.sections[0]!.tree as { children: CriterionNode[] }).children[2]!.kind, "none");
    assert.equal(ingest(renderMarkdown(v)).versions[0]!.hash, v.hash);
  });

  it("nest under a bullet that leads in, and return to their level when the indent does", () => {
    const r = ingest(
      doc([
        "I. It is the policy of health plans that widgets are medically necessary when all of the following criteria are met:",
        "A. Either of the following:",
        "  - Pain for six months;",
        "  - All of the following:",
        "      - Imaging within a year;",
        "      - A specialist consultation;",
        "  - A failed prior implant;",
        "B. No active infection.",
      ]),
    );
    assert.deepEqual(r.unplaced, []);
    assert.deepEqual(flat(r.versions[0]!.sections[0]!.tree), [
      "I.A Either of the following",
      "I.A.1 Pain for six months",
      "I.A.2 All of the following",
      "I.A.2.a Imaging within a year",
      "I.A.2.b A specialist consultation",
      "I.A.3 A failed prior implant",
      "I.B No active infection",
    ]);
  });

  it("under a criterion that does not lead in are not criteria (reported, not guessed)", () => {
    const r = ingest(
      doc([
        "I. It is the policy of health plans that widgets are medically necessary when all of the following criteria are met:",
        "A. Member is 18 years of age or older;",
        "",
        " - an aside a reader might print as a bullet",
        "B. No active infection.",
      ]),
    );
    assert.deepEqual(
      flat(r.versions[0]!.sections[0]!.tree).map((x) => x.split(" ")[0]),
      ["I.A", "I.B"],
    );
    assert.equal(r.unplaced.length, 1);
    assert.match(r.unplaced[0]!.text, /an aside/);
  });

  it("any number, mark and indent: ids by position, text as printed, the same after a round trip (property)", () => {
    const words = fc.array(fc.constantFrom("pain", "imaging", "therapy", "documented", "failure", "months"), {
      minLength: 2,
      maxLength: 6,
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(words, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom("-", "•", "*", "▪"),
        fc.nat({ max: 4 }),
        (groups, mark, pad) => {
          const lines = [
            "I. It is the policy of health plans that widgets are medically necessary when all of the following criteria are met:",
          ];
          const want: string[] = [];
          groups.forEach((bullets, g) => {
            const label = String.fromCharCode(65 + g);
            lines.push(`${label}. Any of the following:`);
            want.push(`I.${label} Any of the following`);
            bullets.forEach((w, k) => {
              const text = `${w.join(" ")} ${g}${k}`;
              lines.push(`${" ".repeat(pad)}${mark} ${text[0]!.toUpperCase()}${text.slice(1)};`);
              want.push(`I.${label}.${k + 1} ${text[0]!.toUpperCase()}${text.slice(1)}`);
            });
          });
          const r = ingest(doc(lines));
          const v = r.versions[0]!;
          assert.deepEqual(r.unplaced, []);
          assert.deepEqual(flat(v.sections[0]!.tree), want);
          assert.equal(ingest(renderMarkdown(v)).versions[0]!.hash, v.hash);
        },
      ),
      { numRuns: 200 },
    );
  });
});
