/**
 * A payer library holding CMS NCD 160.24 (deep brain stimulation; `../shared/corpus`), published, with
 * 61863 bound to section I only: section II, "not covered for ET or PD patients with any of the
 * following", stays an exclusion list no binding makes its criteria (src/library/line-rule.ts
 * `checkExclusions`). Shared by the service and FHIR tests of such lists.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { addDocument, initLibrary } from "../../src/cli/library-commands.js";
import { main } from "../../src/cli/main.js";
import { SHARED } from "../suite/cases.js";

export const DBS_DOCUMENT = join(SHARED, "corpus", "cms-ncd", "160.24_deep_brain_stimulation_et_pd.txt");

/** Makes the library in `dir` (which must not exist yet) and returns `dir`. */
export async function dbsLibrary(dir: string): Promise<string> {
  initLibrary(dir);
  addDocument(dir, readFileSync(DBS_DOCUMENT), {
    fileName: DBS_DOCUMENT,
    now: new Date("2026-01-02T00:00:00Z"),
  });
  const path = join(dir, "NCD.160.24", "bindings.json");
  const b = JSON.parse(readFileSync(path, "utf8"));
  b.codes = [{ codes: ["61863"], section: "I" }];
  // The two cautions after the criteria (lines 42 and 44) state no coverage criterion.
  b.placements = [
    { line: 42, text: "Patients who undergo DBS implantation", as: "narrative", why: "a clinical caution" },
    {
      line: 44,
      text: "The DBS should be performed with extreme caution",
      as: "narrative",
      why: "a clinical caution",
    },
  ];
  writeFileSync(path, JSON.stringify(b, null, 2));
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  const code = await main(["publish", "NCD.160.24@2003-04", "--by", "Dr. Ada Quill", "--library", dir], {
    out: quiet,
    err: quiet,
  });
  assert.equal(code, 0, "NCD.160.24 publishes");
  return dir;
}
