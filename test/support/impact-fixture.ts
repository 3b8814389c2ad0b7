/**
 * The hand-written MP-9 "Gizmo therapy" library the impact report is tested and benched on (issue 15
 * item 4): one place for the policy text and its bindings, so the unit test, the CLI test and the
 * bench replay the same policy.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * MP-9's text: criterion A a BMI of `bmi` or more, B an order from a physician, and, when `c` is
 * given, a criterion C with that text.
 */
export function gizmoDoc(bmi: number, dateLine: string, c?: string): string {
  return `Medical Policy: Gizmo Therapy
Policy Number: MP-9
${dateLine}

Policy Statement

I. Gizmo therapy is considered medically necessary when all of the following are met:
  A. Body mass index (BMI) of ${bmi} or more;
  B. An order from a physician${c ? ";" : "."}
${c ? `  C. ${c}\n` : ""}`;
}

/**
 * Writes a library into `dir` holding MP-9 as `files` (name, text), with its sources (`origin` as
 * given) and its bindings: code 99950 to section I, the fact `bmi`, and predicates for the BMI
 * thresholds 35 and 40.
 */
export function writeGizmoLibrary(dir: string, files: [string, string][], origin = "test"): void {
  const folder = join(dir, "MP-9");
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(dir, "library.json"), JSON.stringify({ format: "medpolicy-library", version: 1 }));
  for (const [f, t] of files) writeFileSync(join(folder, f), t);
  writeFileSync(
    join(folder, "sources.json"),
    JSON.stringify(
      files.map(([file, t]) => ({
        file,
        origin,
        sha256: createHash("sha256").update(t).digest("hex"),
        format: "text",
      })),
    ),
  );
  writeFileSync(
    join(folder, "bindings.json"),
    JSON.stringify({
      policy: "MP-9",
      codes: [{ codes: ["99950"], section: "I" }],
      facts: [
        { name: "bmi", type: "number", unit: "kg/m2", min: 10, max: 100, description: "Body mass index" },
      ],
      predicates: [
        { match: "BMI) of 35 or more", when: { fact: "bmi", op: ">=", value: 35 } },
        { match: "BMI) of 40 or more", when: { fact: "bmi", op: ">=", value: 40 } },
      ],
    }),
  );
}
