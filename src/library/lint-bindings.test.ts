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

describe("QA pass 7: one code bound twice by a version's own bindings", () => {
  /** A draft version whose own bindings.json holds `own`, inheriting `inherited` after them. */
  function draft(sections: string[], own: LibraryEntry["codes"], inherited: LibraryEntry["codes"] = []) {
    return {
      evaluated: { sections: sections.map((id) => ({ id })) },
      codes: [...own, ...inherited],
      bindings: { codes: own },
    } as unknown as LibraryEntry;
  }
  const conflicts = (e: LibraryEntry) =>
    lintCodeBindings(e)
      .filter((f) => f.code === "binding-conflict")
      .map((f) => `${f.severity} ${f.message.split(":")[0]}`);

  it("a code in a covered and a not-covered section's codes is an error naming both", () => {
    const e = draft(
      ["I", "II"],
      [
        { codes: ["64561", "64590"], section: "I" },
        { codes: ["64590", "0275T"], section: "II" },
      ],
    );
    assert.deepEqual(conflicts(e), ["error bindings.json binds 64590 to section I and also to section II"]);
  });
  it("a section and coding only, or a different 'otherwise', are conflicts too", () => {
    const e = draft(
      ["I", "III"],
      [
        { codes: ["27280"], section: "I", otherwise: "III" },
        { codes: ["27280"], section: "I" },
        { codes: ["62355"], section: "I" },
        { codes: ["62355"], codingOnly: true },
      ],
    );
    assert.deepEqual(conflicts(e), [
      "error bindings.json binds 27280 to section I (otherwise III) and also to section I",
      "error bindings.json binds 62355 to section I and also to coding only",
    ]);
  });
  it("a variant's own binding over an inherited one, or the same binding twice, is no conflict", () => {
    const e = draft(
      ["I", "II"],
      [
        { codes: ["11111"], section: "I" },
        { codes: ["22222"], section: "II" },
        { codes: ["22222", "33333"], section: "II" },
      ],
      [{ codes: ["11111"], section: "II" }],
    );
    assert.deepEqual(conflicts(e), []);
  });
  it("a published version (its frozen bindings, own and inherited in one list) is not read", () => {
    const e = {
      ...draft(["I", "II"], [{ codes: ["11111"], section: "I" }], [{ codes: ["11111"], section: "II" }]),
      publication: { by: "a", at: "2025-01-01T00:00:00Z" },
    } as unknown as LibraryEntry;
    (e as { bindings: { codes: unknown } }).bindings.codes = e.codes;
    assert.deepEqual(conflicts(e), []);
  });
});
