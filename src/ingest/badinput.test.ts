/**
 * Bad input never crashes ingestion (SPEC 1.2, 5): empty, binary, oversized and criteria-less
 * documents get an InputError that says what is wrong; fuzzed and mutated documents either ingest or
 * get an InputError — never any other exception.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { exitCodeOf, InputError } from "../model/index.js";
import { ingest } from "./index.js";

function rejects(input: string | Buffer, message: RegExp, opts = {}): void {
  assert.throws(
    () => ingest(input, opts),
    (e: unknown) => {
      assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
      assert.match(e.message, message);
      assert.equal(exitCodeOf(e), 2);
      return true;
    },
  );
}

describe("bad input", () => {
  it("refuses an empty document", () => {
    rejects("", /empty/);
    rejects(Buffer.alloc(0), /empty/);
    rejects(" \n\t\n  ", /empty/);
  });
  it("refuses a binary document", () => {
    rejects(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]), /binary/);
    rejects("I. It is the policy\u0000 that", /binary/);
    const junk = Buffer.alloc(4096);
    for (let i = 0; i < junk.length; i++) junk[i] = 0x80 + (i % 0x40);
    rejects(junk, /not UTF-8/);
    rejects("\u0001\u0002\u0003\u0004 policy \u0005\u0006", /binary/);
  });
  it("refuses a 50 MB document without reading it", () => {
    const big = Buffer.alloc(50 * 1024 * 1024, 0x61);
    rejects(big, /too large: 50\.0 MB, the limit is 20\.0 MB/);
    rejects("a".repeat(50 * 1024 * 1024), /too large/);
    rejects("I. It is the policy that x is medically necessary", /too large/, { maxBytes: 10 });
  });
  // How fast is a benchmark's question (npm run bench); here only that it finishes and reports.
  it("reads hostile long lines, reporting what it cut", () => {
    const head =
      "I. It is the policy of P that X is medically necessary when all of the following are met:\nA. ";
    for (const tail of [" *a".repeat(300000), "[a](".repeat(200000), "x\t".repeat(500000)]) {
      try {
        const r = ingest(head + tail);
        assert.ok(r.unplaced.some((u) => u.line === 2 && /longer than/.test(u.reason)));
      } catch (e) {
        assert.ok(e instanceof InputError);
      }
    }
  });
  it("names the file in the error", () => {
    assert.throws(
      () => ingest("", { fileName: "policy.txt" }),
      (e: unknown) => e instanceof InputError && e.where.file === "policy.txt",
    );
  });
  it("refuses a document with no criteria", () => {
    rejects(
      "# Clinical Policy: Something\n\nReference Number: XY.MP.1\n\n## Description\n\nJust prose, no policy sections.\n",
      /no policy criteria found/,
    );
  });
  it("accepts a minimal policy", () => {
    const r = ingest(
      "I. It is the policy that foo is medically necessary when all of the following are met:\nA. Bar;\nB. Baz.\n",
    );
    assert.equal(r.versions[0]?.sections[0]?.tree?.children.length, 2);
  });
});

const seedDir = new URL("./testdata/seeds/", import.meta.url);
const seeds = [
  "000_3fa6513c4aadaf2a.txt",
  "001_605442ac2608bd0b.txt",
  "002_f4efc0295c8b09d4.txt",
  "003_9ea9c92b67fb9a50.txt",
  "004_13f8f8ece4477aa0.txt",
].map((f) => readFileSync(new URL(f, seedDir), "utf8"));

function onlyInputErrors(doc: string | Buffer): void {
  try {
    ingest(doc);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
  }
}

const MARKUP = [
  "~~",
  "<u>",
  "</u>",
  "<del>",
  "**",
  "*",
  "\\*",
  "\t",
  "\n",
  "- ",
  "I. ",
  "a. ",
  "$\\geq$",
  "[bookmark: _Hlk1]",
  "CLINICAL POLICY\n",
  "Note: ",
];

describe("fuzz", () => {
  it("random text is ingested or refused with an InputError", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ maxLength: 40 }),
            fc.constantFrom(...MARKUP),
            fc.string({ unit: "grapheme", maxLength: 20 }),
          ),
          {
            maxLength: 60,
          },
        ),
        (parts) => onlyInputErrors(parts.join("")),
      ),
      { numRuns: 300 },
    );
  });
  it("random bytes are ingested or refused with an InputError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => onlyInputErrors(Buffer.from(bytes))),
      { numRuns: 100 },
    );
  });
  it("mutated seed documents are ingested or refused with an InputError", () => {
    const mutation = fc.record({
      seed: fc.nat(seeds.length - 1),
      ops: fc.array(
        fc.record({
          kind: fc.constantFrom("delete", "duplicate", "insert", "swap", "truncate", "markup"),
          at: fc.nat(),
          len: fc.integer({ min: 1, max: 30 }),
          text: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...MARKUP)),
        }),
        { minLength: 1, maxLength: 8 },
      ),
    });
    fc.assert(
      fc.property(mutation, ({ seed, ops }) => {
        let lines = (seeds[seed] as string).split("\n");
        for (const op of ops) {
          const i = op.at % Math.max(1, lines.length);
          if (op.kind === "delete") lines.splice(i, op.len);
          else if (op.kind === "duplicate") lines.splice(i, 0, ...lines.slice(i, i + op.len));
          else if (op.kind === "insert") lines.splice(i, 0, op.text);
          else if (op.kind === "swap") {
            const j = (i + op.len) % Math.max(1, lines.length);
            [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
          } else if (op.kind === "truncate") lines = lines.slice(0, i);
          else {
            const l = lines[i] ?? "";
            const k = op.len % (l.length + 1);
            lines[i] = l.slice(0, k) + op.text + l.slice(k);
          }
        }
        onlyInputErrors(lines.join("\n"));
      }),
      { numRuns: 120 },
    );
  });
});
