/**
 * Issue 15 item 5, below the service: a version's source text numbered as its tree, its criteria with
 * the facts their predicates read, and bindings.json checked by a throwaway load (errors naming the
 * library's own file) and replaced only while its etag is the one read.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CENTENE, renderDocx, renderHtml } from "../ingest/formats/writers.test.js";
import { InputError } from "../model/index.js";
import { addDocument, initLibrary } from "./add.js";
import {
  authoringCriteria,
  bindingsEtag,
  checkPolicyBindings,
  readPolicyBindings,
  replacePolicyBindings,
  sourceText,
} from "./authoring.js";
import { defaultPoliciesDir, loadLibrary } from "./library.js";

const CORPUS = join(defaultPoliciesDir(), "..", "..", "shared", "corpus", "cms-ncd");
const ACU = join(CORPUS, "30.3.3_acupuncture_chronic_low_back_pain.txt");
const FIXTURE = join(defaultPoliciesDir(), "..", "test", "fixtures", "ncd-authoring", "NCD.30.3.3.json");
const NOW = new Date("2026-03-02T10:00:00.000Z");

const root = mkdtempSync(join(tmpdir(), "medpolicy-authoring-lib-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A new library holding the acupuncture NCD. */
function library() {
  const dir = join(root, `lib-${n++}`);
  initLibrary(dir);
  addDocument(dir, readFileSync(ACU), { fileName: ACU, now: NOW });
  return { dir, lib: loadLibrary(dir) };
}

describe("authoring a payer's library (issue 15 item 5)", () => {
  it("gives the source text whose lines the tree numbers, and the criteria an author binds", () => {
    const { lib } = library();
    const e = lib.get("NCD.30.3.3@2020-01");
    const text = sourceText(lib, e);
    assert.equal(text, readFileSync(ACU, "utf8"));
    const lines = text.split(/\r\n|\r|\n/);
    const criteria = authoringCriteria(e);
    assert.ok(criteria.length > 5);
    for (const c of criteria) {
      assert.ok(lines[c.line - 1]!.includes(c.text.slice(0, 20)), `${c.id} at line ${c.line}`);
      assert.deepEqual(c.facts, []);
    }
    assert.deepEqual(
      criteria.filter((c) => c.kind === "condition").map((c) => c.id),
      ["B-2"],
    );
  });

  it("reads HTML and Word documents as the ingester does (their text form)", async () => {
    const dir = join(root, `lib-${n++}`);
    initLibrary(dir);
    addDocument(dir, Buffer.from(renderHtml({ ...CENTENE, id: "CP.MP.998" })), {
      fileName: "p.html",
      now: NOW,
    });
    addDocument(dir, await renderDocx({ ...CENTENE, id: "CP.MP.997" }), { fileName: "p.docx", now: NOW });
    const lib = loadLibrary(dir);
    assert.equal(lib.entries.length, 2);
    for (const e of lib.entries) {
      const shown = sourceText(lib, e).split(/\r\n|\r|\n/);
      assert.ok(!shown.join("\n").includes("<"), "no markup");
      const criteria = authoringCriteria(e);
      assert.ok(criteria.length > 0);
      for (const c of criteria)
        assert.ok(shown[c.line - 1]!.includes(c.text.slice(0, 15)), `${c.id} at line ${c.line}`);
    }
  });

  it("checks bindings as loading does, naming the library's file, and lists the facts each criterion reads", () => {
    const { dir, lib } = library();
    const copies = () => readdirSync(tmpdir()).filter((d) => d.startsWith("medpolicy-bindings-")).length;
    const before = copies();
    const fixture = JSON.parse(readFileSync(FIXTURE, "utf8"));
    const bad = {
      ...fixture,
      predicates: [{ match: "Lasting 12 weeks", when: { fact: "bmi", op: ">=", value: 35 } }],
    };
    assert.throws(
      () => checkPolicyBindings(lib, "NCD.30.3.3", JSON.stringify(bad)),
      (e: unknown) =>
        e instanceof InputError &&
        /fact "bmi" is not declared/.test(e.message) &&
        e.message.includes(join(dir, "NCD.30.3.3", "bindings.json")) &&
        e.where.file === join(dir, "NCD.30.3.3", "bindings.json") &&
        e.where.field === "facts.bmi",
    );
    const wrongType = {
      ...fixture,
      predicates: [{ match: "Lasting 12 weeks", when: { fact: "painOnset", op: ">=", value: 3 } }],
    };
    assert.throws(() => checkPolicyBindings(lib, "NCD.30.3.3", JSON.stringify(wrongType)), InputError);
    const { library: checked, findings } = checkPolicyBindings(lib, "NCD.30.3.3", JSON.stringify(fixture));
    assert.ok(!findings.some((f) => f.severity === "error"));
    assert.ok(findings.every((f) => !f.message.includes(tmpdir()) || f.message.includes(dir)));
    const e = checked.get("NCD.30.3.3@2020-01");
    const facts = Object.fromEntries(authoringCriteria(e).map((c) => [c.id, c.facts]));
    assert.deepEqual([facts["B.1.a"], facts["B.1.d"]], [["painWeeks", "painOnset"], ["diagnoses"]]);
    // The library itself is untouched, and no copy is left behind.
    assert.deepEqual(readPolicyBindings(lib, "NCD.30.3.3").authored.facts, []);
    assert.equal(copies(), before);
  });

  it("replaces bindings.json only while its etag is the one read", () => {
    const { dir, lib } = library();
    const path = join(dir, "NCD.30.3.3", "bindings.json");
    const read = readPolicyBindings(lib, "NCD.30.3.3");
    assert.equal(read.etag, bindingsEtag(readFileSync(path)));
    const text = readFileSync(FIXTURE, "utf8");
    const done = replacePolicyBindings(lib, "NCD.30.3.3", text, read.etag);
    assert.deepEqual(done, { etag: bindingsEtag(text) });
    assert.equal(readFileSync(path, "utf8"), text);
    const stale = replacePolicyBindings(lib, "NCD.30.3.3", "{}", read.etag);
    assert.deepEqual(stale, { stale: bindingsEtag(text) });
    assert.equal(readFileSync(path, "utf8"), text);
    assert.ok(!readdirSync(join(dir, "NCD.30.3.3")).some((f) => f.endsWith(".tmp")));
    // The library loads with it.
    assert.equal(loadLibrary(dir).get("NCD.30.3.3@2020-01").vocabulary.size, 3);
    writeFileSync(path, "{ not json");
    assert.throws(() => readPolicyBindings(lib, "NCD.30.3.3"), InputError);
  });
});
