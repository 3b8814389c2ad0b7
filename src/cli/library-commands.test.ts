/**
 * A payer's own library (issue 15, item 1), below the CLI: `initLibrary` and `addDocument` on real
 * folders, the loader's checks of what makes a folder a library, and safe-by-default decisions while
 * code bindings are only proposed.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { snapshot } from "../../test/support/snapshot.js";
import { CENTENE, renderDocx, renderHtml, renderPdf } from "../ingest/formats/writers.test.js";
import { decide } from "../library/decide.js";
import { defaultPoliciesDir, LIBRARY_MARKER, libraryLocation, loadLibrary } from "../library/library.js";
import { lintVersion } from "../library/lint.js";
import { publishVersion } from "../library/publish.js";
import { InputError } from "../model/index.js";
import { addDocument, initLibrary } from "./library-commands.js";

const CORPUS = join(defaultPoliciesDir(), "..", "..", "shared", "corpus", "cms-ncd");
const HBO = join(CORPUS, "20.29_hyperbaric_oxygen_therapy.txt");
const ICD = join(CORPUS, "20.4_implantable_cardioverter_defibrillators.txt");
const SIJ = join(defaultPoliciesDir(), "CP.MP.126", "004_13f8f8ece4477aa0.txt");
const NOW = new Date("2026-03-02T10:00:00.000Z");

const root = mkdtempSync(join(tmpdir(), "medpolicy-library-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh path under the test folder (not created). */
const fresh = (name: string) => join(root, `${name}-${n++}`);

function newLibrary(): string {
  const dir = fresh("lib");
  assert.equal(initLibrary(dir).status, "created");
  return dir;
}

function add(dir: string, file: string, opts: { id?: string; version?: string; bytes?: Buffer } = {}) {
  return addDocument(dir, opts.bytes ?? readFileSync(file), {
    fileName: file,
    now: NOW,
    ...(opts.id !== undefined && { id: opts.id }),
    ...(opts.version !== undefined && { version: opts.version }),
  });
}

/** The InputError `f` throws, its message matching `re`. */
function refuses(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof InputError, `InputError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

const member = { state: "TX", birthDate: "1960-01-01", lineOfBusiness: "medicare" as const };

describe("init", () => {
  it("makes a new folder a library holding library.json (format and version) and nothing else", () => {
    const dir = fresh("new");
    assert.deepEqual(initLibrary(dir), { library: dir, status: "created" });
    assert.deepEqual(readdirSync(dir), [LIBRARY_MARKER]);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, LIBRARY_MARKER), "utf8")), {
      format: "medpolicy-library",
      version: 1,
    });
    assert.equal(loadLibrary(dir).entries.length, 0);
  });

  it("takes an empty folder, or one holding only hidden entries (.git)", () => {
    const dir = fresh("git");
    mkdirSync(join(dir, ".git"), { recursive: true });
    assert.equal(initLibrary(dir).status, "created");
    assert.deepEqual(readdirSync(dir).sort(), [".git", LIBRARY_MARKER]);
  });

  it("leaves a library as it is", () => {
    const dir = newLibrary();
    const before = snapshot(dir);
    assert.equal(initLibrary(dir).status, "exists");
    assert.deepEqual(snapshot(dir), before);
  });

  it("refuses a non-empty folder that is no library, and a file, naming them; writes nothing", () => {
    const dir = fresh("notes");
    mkdirSync(dir);
    writeFileSync(join(dir, "notes.txt"), "not a policy");
    refuses(() => initLibrary(dir), new RegExp(`${dir}.*not empty`));
    assert.deepEqual(readdirSync(dir), ["notes.txt"]);
    refuses(() => initLibrary(join(dir, "notes.txt")), /not a folder/);
  });

  it("refuses the seed library (read-only) and leaves it unchanged", () => {
    const before = snapshot(defaultPoliciesDir());
    refuses(() => initLibrary(defaultPoliciesDir()), /seed library/);
    assert.deepEqual(snapshot(defaultPoliciesDir()), before);
  });

  it("refuses a library.json of another format or version", () => {
    const dir = newLibrary();
    writeFileSync(join(dir, LIBRARY_MARKER), JSON.stringify({ format: "medpolicy-library", version: 2 }));
    refuses(() => initLibrary(dir), /library\.json/);
    refuses(() => loadLibrary(dir), /library\.json.*version/);
  });
});

describe("where the library is", () => {
  it("--library, else MEDPOLICY_LIBRARY, else the deprecated MEDPOLICY_POLICIES, else the seed", () => {
    const env = { MEDPOLICY_LIBRARY: "/b", MEDPOLICY_POLICIES: "/c" };
    assert.deepEqual(libraryLocation("/a", env), { dir: "/a", from: "--library" });
    assert.deepEqual(libraryLocation(undefined, env), { dir: "/b", from: "MEDPOLICY_LIBRARY" });
    const old = libraryLocation(undefined, { MEDPOLICY_POLICIES: "/c" });
    assert.equal(old.from, "MEDPOLICY_POLICIES");
    assert.match(old.deprecated ?? "", /deprecated.*MEDPOLICY_LIBRARY/);
    assert.deepEqual(libraryLocation("", { MEDPOLICY_LIBRARY: "" }), {
      dir: defaultPoliciesDir(),
      from: "seed",
    });
  });

  it("a folder that does not exist, is a file, or is no library is refused by name", () => {
    const missing = fresh("missing");
    refuses(() => loadLibrary(missing), new RegExp(`${missing}.*does not exist`));
    const empty = fresh("empty");
    mkdirSync(empty);
    refuses(() => loadLibrary(empty), new RegExp(`${empty} is not a policy library.*medpolicy init`));
    writeFileSync(join(empty, "x.txt"), "x");
    refuses(() => loadLibrary(join(empty, "x.txt")), /not a folder/);
  });

  it("the seed library (policy folders, no marker) still loads", () => {
    assert.ok(loadLibrary().ids().includes("CP.MP.126"));
  });
});

describe("add", () => {
  it("stores the document's bytes unchanged as <id>/NNN_<hash>.<ext>, with its provenance and a bindings skeleton", () => {
    const dir = newLibrary();
    const bytes = readFileSync(HBO);
    const r = add(dir, HBO);
    const sha = createHash("sha256").update(bytes).digest("hex");
    assert.equal(r.status, "added");
    assert.equal(r.policy, "NCD.20.29");
    assert.equal(r.file, `NCD.20.29/000_${sha.slice(0, 16)}.txt`);
    assert.deepEqual(readFileSync(join(dir, r.file)), bytes);
    assert.deepEqual(readdirSync(join(dir, "NCD.20.29")).sort(), [
      `000_${sha.slice(0, 16)}.txt`,
      "bindings.json",
      "sources.json",
    ]);
    const sources = JSON.parse(readFileSync(join(dir, "NCD.20.29", "sources.json"), "utf8"));
    assert.deepEqual(sources, [
      {
        file: `000_${sha.slice(0, 16)}.txt`,
        origin: "20.29_hyperbaric_oxygen_therapy.txt",
        sha256: sha,
        size: bytes.length,
        format: "text",
        status: "draft",
        added: NOW.toISOString(),
        ingested: {
          identifiedBy: "header",
          versions: [
            {
              id: "NCD.20.29",
              title: "Hyperbaric Oxygen Therapy",
              version: "2017-04",
              effective: "2017-04-03",
              approved: "2017-04-03",
            },
          ],
        },
      },
    ]);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "NCD.20.29", "bindings.json"), "utf8")), {
      policy: "NCD.20.29",
      codes: [],
      predicates: [],
      corrections: [],
      placements: [],
      proposed: [],
    });
    assert.deepEqual(
      r.versions.map((v) => `${v.id}@${v.version} ${v.status}`),
      // Issue 15 item 3: a draft until published, whatever its revision log says.
      ["NCD.20.29@2017-04 draft"],
    );
    // Lint's findings for it: the same as `lintVersion` on the loaded library gives.
    assert.ok(r.findings.every((f) => f.policy === "NCD.20.29" && f.version === "2017-04"));
    assert.ok(r.findings.some((f) => f.code === "no-revision-log"));
    const lib = loadLibrary(dir);
    assert.deepEqual(lib.ids(), ["NCD.20.29"]);
    assert.equal(lib.policies("2026-03-02")[0]!.source, join(dir, r.file));
  });

  it("the same bytes twice: unchanged, nothing written", () => {
    const dir = newLibrary();
    add(dir, HBO);
    const before = snapshot(dir);
    const again = add(dir, HBO, { id: "OTHER" });
    assert.equal(again.status, "unchanged");
    assert.equal(again.file, add(dir, HBO).file);
    assert.deepEqual(snapshot(dir), before);
  });

  it("another revision goes beside the first; the same version with other bytes is refused", () => {
    const dir = newLibrary();
    add(dir, HBO);
    const text = readFileSync(HBO, "utf8");
    const revised = Buffer.from(
      text.replace(
        "Effective Date of this Version: 04/03/2017",
        "Effective Date of this Version: 01/15/2025",
      ),
    );
    assert.notDeepEqual(revised, readFileSync(HBO));
    const r = add(dir, "hbo-2025.txt", { bytes: revised });
    assert.match(r.file, /^NCD\.20\.29\/001_[0-9a-f]{16}\.txt$/);
    const lib = loadLibrary(dir);
    assert.deepEqual(
      lib.versionsOf("NCD.20.29").map((e) => `${e.policy.identity.version} ${lib.statusOf(e, "2026-03-02")}`),
      ["2017-04 draft", "2025-01 draft"],
    );
    assert.equal(JSON.parse(readFileSync(join(dir, "NCD.20.29", "sources.json"), "utf8")).length, 2);

    const before = snapshot(dir);
    const sameVersion = Buffer.from(`${revised.toString("utf8")}\nA trailing note.\n`);
    refuses(
      () => add(dir, "hbo-again.txt", { bytes: sameVersion }),
      /NCD\.20\.29@2025-01 is already in the library/,
    );
    assert.deepEqual(snapshot(dir), before);
  });

  it("the id: --id, else the document's header; none → refused asking for --id", () => {
    const dir = newLibrary();
    const headerless = Buffer.from(
      readFileSync(HBO, "utf8")
        .replace(/^Manual Section Number: .*$/m, "")
        .replace(/^Manual Section Title: .*$/m, ""),
    );
    const before = snapshot(dir);
    refuses(() => add(dir, "headerless.txt", { bytes: headerless }), /prints no policy id.*--id/);
    assert.deepEqual(snapshot(dir), before);
    const r = add(dir, "headerless.txt", { bytes: headerless, id: "PAYER.HBO" });
    assert.equal(r.policy, "PAYER.HBO");
    assert.equal(r.source.policy, "PAYER.HBO");
    assert.equal(r.source.ingested?.identifiedBy, "--id");
    assert.deepEqual(loadLibrary(dir).ids(), ["PAYER.HBO"]);
    refuses(() => add(dir, HBO, { id: "../escape" }), /--id .* cannot name a policy folder/);
  });

  it("a published headerless version keeps the title it was published with when a sibling's title changes", () => {
    // A version whose document prints no title borrows its policy's; the title is in the policy hash a
    // publication seals, so a borrowed title that followed a later sibling's broke the library's load.
    const dir = newLibrary();
    const text = readFileSync(HBO, "utf8");
    add(dir, HBO, { version: "2018-01" });
    const headerless = Buffer.from(
      text.replace(/^Manual Section Title: .*$/m, "").replace(/^Manual Section Number: .*$/m, ""),
    );
    add(dir, "hbo-headerless.txt", { bytes: headerless, id: "NCD.20.29", version: "2019-01" });
    const before = loadLibrary(dir).get("NCD.20.29@2019-01").policy.identity.title;
    assert.equal(before, "Hyperbaric Oxygen Therapy");
    publishVersion(dir, "NCD.20.29@2019-01", { by: "Dr. Author", now: NOW });
    const retitled = Buffer.from(
      text.replace(/^Manual Section Title: .*$/m, "Manual Section Title: Hyperbaric Oxygen (HBO) Therapy"),
    );
    add(dir, "hbo-retitled.txt", { bytes: retitled, version: "2020-01" });
    const lib = loadLibrary(dir);
    assert.equal(lib.get("NCD.20.29@2019-01").policy.identity.title, before);
    assert.equal(lib.get("NCD.20.29@2020-01").policy.identity.title, "Hyperbaric Oxygen (HBO) Therapy");
  });

  it("--version names a document that names none; a malformed one is refused", () => {
    const dir = newLibrary();
    refuses(() => add(dir, HBO, { version: "2025-13" }), /--version/);
    const r = add(dir, HBO, { version: "2018-01" });
    assert.deepEqual(
      r.versions.map((v) => v.version),
      ["2018-01"],
    );
    assert.equal(r.source.version, "2018-01");
  });

  it("reads every format ingest reads: HTML, Word and PDF are stored as given, with their format", async () => {
    const dir = newLibrary();
    const docx = await renderDocx(CENTENE);
    const w = add(dir, "widget.docx", { bytes: docx });
    assert.equal(w.source.format, "Word (DOCX)");
    assert.match(w.file, /^CP\.MP\.999\/000_[0-9a-f]{16}\.docx$/);
    assert.deepEqual(readFileSync(join(dir, w.file)), docx);
    const html = Buffer.from(renderHtml({ ...CENTENE, id: "CP.MP.998" }));
    const h = add(dir, "widget.html", { bytes: html });
    assert.equal(h.source.format, "HTML");
    assert.match(h.file, /^CP\.MP\.998\/000_[0-9a-f]{16}\.html$/);
    const pdf = await renderPdf({ ...CENTENE, id: "CP.MP.997" });
    const p = add(dir, "widget.pdf", { bytes: pdf });
    assert.equal(p.source.format, "PDF");
    assert.match(p.file, /^CP\.MP\.997\/000_[0-9a-f]{16}\.pdf$/);
    assert.deepEqual(readFileSync(join(dir, p.file)), pdf);
    assert.deepEqual(loadLibrary(dir).ids(), ["CP.MP.997", "CP.MP.998", "CP.MP.999"]);
  });

  it("refuses a folder that is no library made by init, and the seed library; writes nothing", () => {
    const seedBefore = snapshot(defaultPoliciesDir());
    refuses(() => add(defaultPoliciesDir(), HBO), /seed library/);
    assert.deepEqual(snapshot(defaultPoliciesDir()), seedBefore);
    const plain = fresh("plain");
    mkdirSync(plain);
    writeFileSync(join(plain, "readme.txt"), "x");
    refuses(() => add(plain, HBO), new RegExp(`${plain} is not a policy library`));
    assert.deepEqual(readdirSync(plain), ["readme.txt"]);
    refuses(() => add(fresh("nowhere"), HBO), /does not exist/);
  });
});

describe("proposed code bindings decide nothing until confirmed", () => {
  const caseFor = (code: string, answers: Record<string, boolean>, policy?: string) => ({
    member,
    service: { codes: [code], dateOfService: "2026-03-01" },
    answers,
    ...(policy && { policy }),
  });
  /** Every criterion of CP.MP.126 section II met (the seed case sij-mis-met). */
  const MET: Record<string, boolean> = Object.fromEntries(
    [
      "II.A",
      "II.A.1",
      "II.A.2",
      "II.A.3",
      "II.B",
      "II.C",
      "II.D",
      "II.E",
      "II.F",
      "II.F.1",
      "II.F.2",
      "II.F.3",
      "II.G",
      "II.H",
      "II.I",
    ].map((id) => [id, true]),
  );

  it("the document's code tables become unconfirmed proposals; a met case is review, not approved; confirmed, approved", () => {
    const dir = newLibrary();
    const r = add(dir, SIJ);
    assert.deepEqual(
      r.proposed.map((p) => `${p.status} ${p.codes.join(",")} ${p.section} ${p.coverage}`),
      [
        "unconfirmed 27279 II supports",
        "unconfirmed 27280 I supports",
        "unconfirmed 27278 IV does-not-support",
      ],
    );
    const path = join(dir, "CP.MP.126", "bindings.json");
    const bindings = JSON.parse(readFileSync(path, "utf8"));
    assert.deepEqual(bindings.codes, []);
    assert.equal(bindings.proposed.length, 3);
    assert.ok(r.findings.some((f) => f.code === "binding-proposed" && /27279/.test(f.message)));

    let lib = loadLibrary(dir);
    // Issue 15 item 3: a draft decides only when a case names it by version.
    const ref = `CP.MP.126@${r.versions[0]!.version}`;
    const met = decide(lib, caseFor("27279", MET, ref), { today: "2026-03-01" });
    assert.equal(met.outcome, "review");
    assert.match(met.lines[0]!.basis ?? "", /no section is bound/);
    // What the document itself says does not support coverage stays not-covered (a recommendation).
    assert.equal(decide(lib, caseFor("27278", {}, ref), { today: "2026-03-01" }).outcome, "not-covered");

    // The author confirms 27279 → II: it decides by its criteria, and lint stops naming it.
    bindings.codes = [{ codes: ["27279"], section: "II" }];
    writeFileSync(path, JSON.stringify(bindings));
    lib = loadLibrary(dir);
    assert.equal(decide(lib, caseFor("27279", MET, ref), { today: "2026-03-01" }).outcome, "approved");
    assert.ok(!lib.findings.some((f) => f.code === "binding-proposed" && /27279/.test(f.message)));
    assert.ok(lib.findings.some((f) => f.code === "binding-proposed" && /27280/.test(f.message)));
    // A code the policy does not name at all, in a case naming the policy: review, saying just that.
    const other = decide(lib, caseFor("62322", MET, ref), { today: "2026-03-01" });
    assert.equal(other.outcome, "review");
    assert.match(other.lines[0]!.basis ?? "", /62322 is not a code of CP\.MP\.126/);

    // A bindings.json naming another policy than its folder's documents: refused at load, named
    // (filed under the other id it bound nothing here, every code of the policy silently unbound).
    writeFileSync(path, JSON.stringify({ ...bindings, policy: "CP.MP.999" }));
    assert.throws(
      () => loadLibrary(dir),
      (e: unknown) =>
        e instanceof InputError &&
        e.where.file === path &&
        e.where.field === "policy" &&
        /"CP\.MP\.999", but the documents of this folder are policy CP\.MP\.126/.test(e.message),
    );

    // A code bound to a section the version lacks: a lint error (publishing refuses it), named.
    bindings.codes = [{ codes: ["27279"], section: "II", otherwise: "IX" }];
    writeFileSync(path, JSON.stringify(bindings));
    lib = loadLibrary(dir);
    const entry = lib.get(ref);
    assert.deepEqual(
      lintVersion(lib, entry.policy)
        .filter((f) => f.code === "binding-section")
        .map((f) => `${f.severity} ${f.message.split(",")[0]}`),
      ["error bindings.json binds 27279 to otherwise IX"],
    );
    assert.throws(
      () => publishVersion(dir, ref, { by: "Dr. Ada Quill", now: new Date("2026-03-01T00:00:00Z") }),
      (e: unknown) => e instanceof InputError && /binding-section/.test(e.message),
    );
  });

  it("a code only the document's text names routes to its policy: review, not 'no policy governs it'", () => {
    const dir = newLibrary();
    const doc = `## Clinical Policy: Widget Fusion

Reference Number: PAYER.WF.1

Date of Last Revision: 04/25

### Policy/Criteria

I. It is the policy of the health plan that open widget fusion (CPT 0999T) is **medically necessary** for any of the following indications:
  A. Stabilization of a traumatic disruption of the pelvic ring;
  B. As an adjunct to sacrectomy for sacral tumors.

### Reviews, Revisions, and Approvals

Reviews, Revisions, and Approvals\tRevision Date\tApproval Date
New policy.\t04/25\t04/25
`;
    const r = add(dir, "wf.md", { bytes: Buffer.from(doc) });
    assert.equal(r.source.format, "markdown");
    assert.deepEqual(
      r.proposed.map((p) => p.codes),
      [["0999T"]],
    );
    const lib = loadLibrary(dir);
    // A draft routes no code in production (issue 15 review); named by version, it is tried.
    assert.deepEqual(lib.policiesForCode("0999T"), []);
    const ref = `PAYER.WF.1@${r.versions[0]!.version}`;
    assert.equal(
      decide(lib, caseFor("0999T", { "I.A": true }, ref), { today: "2026-03-01" }).outcome,
      "review",
    );
  });

  it("a document without codes: a case naming its policy is review; a code no policy names is not-applicable", () => {
    const dir = newLibrary();
    add(dir, ICD);
    const lib = loadLibrary(dir);
    assert.equal(
      decide(lib, caseFor("33249", {}, "NCD.20.4@2023-07"), { today: "2026-03-01" }).outcome,
      "review",
    );
    assert.equal(decide(lib, caseFor("33249", {}), { today: "2026-03-01" }).outcome, "not-applicable");
  });

  it("a malformed proposal is refused at load, naming bindings.json", () => {
    const dir = newLibrary();
    add(dir, SIJ);
    const path = join(dir, "CP.MP.126", "bindings.json");
    const bindings = JSON.parse(readFileSync(path, "utf8"));
    bindings.proposed[0].status = "confirmed";
    writeFileSync(path, JSON.stringify(bindings));
    refuses(() => loadLibrary(dir), /bindings\.json: proposed\.0\.status/);
  });
});
