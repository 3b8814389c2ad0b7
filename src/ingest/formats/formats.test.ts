/**
 * Telling formats by content, and refusing what cannot be read: text and markdown pass through the
 * ingester untouched; a damaged PDF, a broken or foreign ZIP, a legacy or protected Word file, malformed
 * WordprocessingML, an oversized document are an InputError (exit 2) that says what is wrong — never a
 * crash; hostile HTML (deep nesting, huge tables) is read in bounded time.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { strToU8, zipSync } from "fflate";
import { exitCodeOf, InputError } from "../../model/index.js";
import { ingest } from "../index.js";
import { convertDocument, detectFormat, isHtml } from "./index.js";
import { CENTENE, renderDocx, renderHtml, renderPdf, renderText } from "./writers.test.js";

function refuses(
  input: Buffer | string,
  message: RegExp,
  opts: Parameters<typeof convertDocument>[1] = {},
): void {
  for (const run of [
    () => convertDocument(input, { fileName: "doc.bin", ...opts }),
    () => ingest(input, { fileName: "doc.bin", ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}) }),
  ]) {
    assert.throws(run, (e: unknown) => {
      assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
      assert.match(e.message, message);
      assert.equal(exitCodeOf(e), 2);
      assert.equal(e.where.file, "doc.bin");
      return true;
    });
  }
}

describe("format detection", () => {
  it("tells PDF, DOCX, HTML and text apart by content", async () => {
    assert.equal(detectFormat(await renderPdf(CENTENE)), "pdf");
    assert.equal(detectFormat(await renderDocx(CENTENE)), "docx");
    assert.equal(detectFormat(Buffer.from(renderHtml(CENTENE))), "html");
    assert.equal(detectFormat(renderHtml(CENTENE)), "html");
    assert.equal(detectFormat(Buffer.from(renderText(CENTENE))), "text");
    assert.equal(detectFormat(Buffer.from(`junk before the header\n%PDF-1.4\n`)), "pdf");
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(renderHtml(CENTENE), "utf16le")]);
    assert.equal(detectFormat(utf16), "html");
    assert.match(convertDocument(utf16)?.text ?? "", /^I\. It is the policy/m);
  });

  it("reads HTML by its opening markup, not by tags inside text", () => {
    assert.ok(isHtml("<p>I. It is the policy</p>"));
    assert.ok(isHtml("\ufeff  <!-- saved page -->\n<ol type='I'><li>x</li></ol>"));
    assert.ok(isHtml("<?xml version='1.0'?><html><body>x</body></html>"));
    assert.ok(isHtml("Saved from the web\n<!DOCTYPE html><html>"));
    assert.ok(!isHtml("## Clinical Policy: X\n\n<b>CPT® Codes</b>\tDescription\n"));
    assert.ok(!isHtml("I. It is the policy <del>that</del><u>which</u> …"));
    assert.ok(!isHtml("<u>Inserted</u> first line of a redline"));
  });

  it("passes the seed documents (text and markdown) through untouched", () => {
    const dir = new URL("../testdata/seeds/", import.meta.url);
    for (const name of ["000_3fa6513c4aadaf2a.txt", "001_605442ac2608bd0b.txt", "002_f4efc0295c8b09d4.txt"]) {
      const bytes = readFileSync(new URL(name, dir));
      assert.equal(detectFormat(bytes), "text", name);
      assert.equal(convertDocument(bytes), undefined, name);
      assert.ok(!ingest(bytes).findings.some((f) => f.code === "layout"), name);
    }
  });
});

describe("unreadable documents are refused with a reason (exit 2)", () => {
  it("PDF: damaged", async () => {
    const pdf = await renderPdf(CENTENE);
    refuses(pdf.subarray(0, 60), /not a readable PDF/);
    refuses(Buffer.concat([Buffer.from("%PDF-1.7\n"), Buffer.alloc(2000, 0x41)]), /not a readable PDF/);
  });

  it("ZIP: broken, not a Word document, a ZIP bomb's declared sizes", async () => {
    const docx = await renderDocx(CENTENE);
    refuses(docx.subarray(0, 200), /not a readable Word document: a broken ZIP archive/);
    const other = Buffer.from(zipSync({ "xl/workbook.xml": strToU8("<workbook/>") }));
    refuses(other, /not a Word document: a ZIP archive without word\/document\.xml/);
    const noBody = Buffer.from(zipSync({ "word/document.xml": strToU8("<w:document xmlns:w='x'/>") }));
    refuses(noBody, /word\/document\.xml has no body/);
    const badXml = Buffer.from(
      zipSync({ "word/document.xml": strToU8("<w:document><w:body><w:p></w:body>") }),
    );
    refuses(badXml, /word\/document\.xml is not well-formed XML/);
    const bomb = Buffer.from(
      zipSync({ "word/document.xml": new Uint8Array(210 * 1024 * 1024) }, { level: 9 }),
    );
    assert.ok(bomb.length < 1024 * 1024);
    refuses(bomb, /inflate to over 200 MB/);
  });

  it("Word: a legacy .doc or a password-protected file (OLE compound file)", () => {
    const ole = Buffer.concat([
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
      Buffer.alloc(600),
    ]);
    refuses(ole, /legacy Word \(\.doc\) or password-protected Office file/);
  });

  it("any format: too large, before it is read", async () => {
    refuses(await renderPdf(CENTENE), /too large: .* MB, the limit is 0\.00 MB/, { maxBytes: 1000 });
    refuses(await renderDocx(CENTENE), /too large/, { maxBytes: 1000 });
    refuses(renderHtml(CENTENE), /too large/, { maxBytes: 1000 });
  });

  it("HTML: hostile nesting and markup is read in bounded time, never a crash", () => {
    const deep = `<!doctype html><body>${"<div><ol><li>".repeat(5000)}I. deep${"</li></ol></div>".repeat(5000)}</body>`;
    const t0 = Date.now();
    const out = convertDocument(deep);
    assert.ok(out?.text.includes("I. deep"));
    const table = `<table>${"<tr><td>a</td><td colspan=99999>b</td></tr>".repeat(20000)}</table>`;
    assert.ok(convertDocument(`<html>${table}`)?.text.includes("a\tb"));
    assert.ok(Date.now() - t0 < 10_000);
    assert.throws(() => ingest("<p>just a paragraph</p>"), InputError);
  });
});

describe("damaged files never crash the reader (fast-check)", () => {
  it("PDF, DOCX and HTML with bytes flipped, cut or spliced: read, or refused with an InputError", async () => {
    const files = [await renderPdf(CENTENE), await renderDocx(CENTENE), Buffer.from(renderHtml(CENTENE))];
    await fc.assert(
      fc.property(
        fc.integer({ min: 0, max: files.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }),
        fc.option(fc.nat(), { nil: undefined }),
        (which, flips, cut) => {
          const bytes = Buffer.from(files[which] as Buffer);
          // Keep the format's signature so that the reader, not the detector, meets the damage.
          for (const [at, value] of flips) bytes[8 + (at % (bytes.length - 8))] = value;
          const input = cut === undefined ? bytes : bytes.subarray(0, 8 + (cut % (bytes.length - 8)));
          try {
            ingest(input, { fileName: "fuzz" });
          } catch (e) {
            assert.ok(e instanceof InputError, `not an InputError: ${(e as Error).stack}`);
            assert.equal(exitCodeOf(e), 2);
          }
        },
      ),
      { numRuns: 60, includeErrorInReport: true },
    );
  });
});
