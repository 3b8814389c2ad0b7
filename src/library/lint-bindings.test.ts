/**
 * Issue 15 (bindings are authored): `lintCodeBindings` names a code bound to a section the version
 * lacks — only a binding that takes effect (the first for its code, as `decide` reads them: a
 * variant's own before those it inherits).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LibraryEntry } from "./library.js";
import { lintCodeBindings } from "./lint.js";

/** The parts of a version the check reads: its sections and its code bindings, in order. */
function entry(sections: string[], codes: LibraryEntry["codes"]): LibraryEntry {
  return { evaluated: { sections: sections.map((id) => ({ id })) }, codes } as unknown as LibraryEntry;
}

describe("lintCodeBindings", () => {
  it("a binding in effect to a missing section or otherwise-section is an error; a shadowed one is not", () => {
    const findings = lintCodeBindings(
      entry(
        ["A", "B"],
        [
          { codes: ["11111"], section: "A" }, // the variant's own: in effect
          { codes: ["11111"], section: "Z" }, // inherited, shadowed by the line above: never read
          { codes: ["22222"], section: "Y" },
          { codes: ["33333"], section: "A", otherwise: "X" },
          { codes: ["44444"], codingOnly: true },
        ],
      ),
    );
    assert.deepEqual(
      findings.map((f) => `${f.severity} ${f.code} ${f.message.split(",")[0]}`),
      [
        "error binding-section bindings.json binds 22222 to section Y",
        "error binding-section bindings.json binds 33333 to otherwise X",
      ],
    );
  });
});
