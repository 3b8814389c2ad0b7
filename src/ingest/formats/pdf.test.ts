/**
 * The PDF reader's layout rules on pages of positioned text (as PDF.js reports them), one artefact at a
 * time: running headers and footers, sidebars, two columns, watermarks, debris, hyphenation,
 * letter-spacing, superscripts, tables, list labels at a tab stop, artifacts, doubled text. Then real
 * PDFs written by pdfkit: a list item cut by a page break re-joins, and the reader's answers for
 * damaged, encrypted, empty and oversized files.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import PDFDocument from "pdfkit";
import { exitCodeOf, InputError } from "../../model/index.js";
import { ingest } from "../index.js";
import { convertDocument } from "./index.js";
import { closeLetterSpacing, layoutPdf, type PdfPage, type RawItem } from "./pdf-layout.js";

const W = 612;
const H = 792;

interface T {
  s: string;
  x?: number;
  y: number;
  size?: number;
  angle?: number;
  artifact?: boolean;
  w?: number;
}

function item(t: T): RawItem {
  const size = t.size ?? 10;
  return {
    s: t.s,
    x: t.x ?? 72,
    y: t.y,
    w: t.w ?? t.s.length * size * 0.5,
    size,
    angle: t.angle ?? 0,
    font: "f1",
    ...(t.artifact ? { artifact: true } : {}),
  };
}

function page(items: T[], height = H): PdfPage {
  return { width: W, height, items: items.map(item) };
}

/** Lines of prose of `n` characters at 10 pt: exactly a full line is 66 characters from x = 72. */
function prose(words: string, y: number, x = 72): T[] {
  const out: T[] = [];
  let line = "";
  let yy = y;
  for (const w of words.split(" ")) {
    if ((line + (line ? " " : "") + w).length * 5 > 540 - x) {
      out.push({ s: line, x, y: yy });
      yy += 12;
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push({ s: line, x, y: yy });
  return out;
}

const LOREM =
  "Chronic intractable pain of nonmalignant origin when all of the following criteria are met in full by the member and documented in the medical record by the treating physician before the trial";

function text(pages: PdfPage[]): string {
  return layoutPdf(pages).text;
}

describe("PDF layout: running headers and footers", () => {
  const header = (n: number, of: number): T[] => [
    { s: "CLINICAL POLICY", y: 30, size: 8 },
    { s: "Implantable Widget Pump", y: 40, size: 8 },
    { s: `Page ${n} of ${of}`, y: 760, size: 8 },
    { s: "Centene Corporation. All rights reserved.", y: 770, size: 8 },
  ];
  it("drops multi-line blocks repeated at the top and bottom of pages, page numbers varying", () => {
    const bodies = ["I. Widgets are covered.", "II. Gadgets are not.", "III. Gizmos need review."];
    const pages = bodies.map((s, i) => page([...header(i + 1, 3), { s, y: 100 }]));
    const out = layoutPdf(pages);
    assert.equal(out.text, `${bodies.join("\n")}\n`);
    assert.match(out.notes.join("\n"), /running headers and footers removed: 12 lines on 3 pages/);
  });

  it("re-joins a list item that the page break cut", () => {
    const lines = prose(`A. ${LOREM}`, 700);
    assert.ok(lines.length >= 3);
    const p1 = page([
      ...header(1, 2),
      { s: "I. It is the policy that all of the following are met:", y: 680 },
      ...lines.slice(0, 2),
    ]);
    const p2 = page([
      ...header(2, 2),
      ...lines.slice(2).map((l, i) => ({ ...l, y: 100 + 12 * i })),
      { s: "B. Life expectancy > three months;", y: 100 + 12 * (lines.length - 2) },
    ]);
    assert.equal(
      text([p1, p2]),
      `I. It is the policy that all of the following are met:\nA. ${LOREM}\nB. Life expectancy > three months;\n`,
    );
  });

  it("drops a header on one page only when it is small print set apart in the margin", () => {
    const p1 = page([{ s: "Clinical Policy: Widgets", y: 80, size: 16 }, ...prose(LOREM, 110)]);
    const p2 = page([
      { s: "CLINICAL POLICY", y: 30, size: 8 },
      { s: "Widgets", y: 40, size: 8 },
      { s: "II. Second.", y: 100 },
    ]);
    const out = text([p1, p2]);
    assert.doesNotMatch(out, /CLINICAL POLICY|^Widgets$/m);
    assert.match(out, /^Clinical Policy: Widgets$/m);
  });

  it("keeps a page's own first line when it does not repeat", () => {
    const pages = [1, 2].map((n) =>
      page([
        { s: `Heading ${"x".repeat(n)}`, y: 40 },
        { s: "Body.", y: 100 },
      ]),
    );
    assert.match(text(pages), /Heading x\n/);
  });
});

describe("PDF layout: columns and sidebars", () => {
  it("drops a narrow sidebar beside the main column", () => {
    const main = prose(`${LOREM} ${LOREM}`, 100).map((l) => ({ ...l, s: l.s.slice(0, 60) }));
    const side = [
      "Related policies",
      "CP.MP.107 Durable",
      "Medical Equipment",
      "CP.PHAR.149 Baclofen",
      "Contact us",
    ].map((s, i) => ({ s, x: 450, y: 104 + 9.5 * i, size: 7 }));
    const out = layoutPdf([page([...main, ...side])]);
    assert.doesNotMatch(out.text, /Related|Baclofen|Contact/);
    assert.match(out.notes.join("\n"), /sidebar text removed: 5 lines on 1 pages/);
  });

  it("reads two columns of prose one after the other", () => {
    const long = `${LOREM} and ${LOREM.toLowerCase()}`;
    // Both columns 218 pt wide, their lines on the same baselines.
    const leftLines = prose(`${long} left`, 100, 322).map((l) => ({ ...l, x: 72 }));
    const rightLines = prose(`Right ${long}`, 100, 322);
    assert.ok(leftLines.length >= 6 && rightLines.length >= 6);
    const out = layoutPdf([page([...leftLines, ...rightLines])]);
    assert.equal(out.text, `${long} left\n\nRight ${long}\n`);
    assert.match(out.notes.join("\n"), /1 pages read as two columns/);
  });

  it("keeps a two-column table as tab-separated rows", () => {
    const rows = ["27279", "27280", "0775T"].flatMap((code, i) => [
      { s: code, x: 72, y: 100 + 12 * i },
      { s: `Arthrodesis, sacroiliac joint, variant ${i}`, x: 200, y: 100 + 12 * i },
    ]);
    assert.equal(
      text([page(rows)]),
      "27279\tArthrodesis, sacroiliac joint, variant 0\n27280\tArthrodesis, sacroiliac joint, variant 1\n0775T\tArthrodesis, sacroiliac joint, variant 2\n",
    );
  });
});

describe("PDF layout: watermarks, artifacts, debris, doubled text", () => {
  it("drops rotated text and large text repeated on pages or drawn over the text", () => {
    const pages = ["First body line.", "Another body line."].map((s) =>
      page([
        { s: "CONFIDENTIAL", x: 200, y: 400, size: 60, angle: -45 },
        { s: "DRAFT", x: 150, y: 300, size: 72 },
        { s, y: 100 },
      ]),
    );
    const out = layoutPdf(pages);
    assert.equal(out.text, "First body line.\n\nAnother body line.\n");
    assert.match(out.notes.join("\n"), /watermark text removed: 2 large and 2 rotated/);
    const overText = page([{ s: "SAMPLE", x: 80, y: 110, size: 64 }, ...prose(LOREM, 100)]);
    assert.doesNotMatch(text([overText]), /SAMPLE/);
    const title = page([
      { s: "Big Title", y: 60, size: 30 },
      { s: "Body.", y: 100 },
    ]);
    assert.match(text([title]), /^Big Title$/m);
  });

  it("drops text a tagged PDF marks as an artifact", () => {
    const p = page([{ s: "Running title", y: 30, artifact: true }, ...prose(LOREM, 100)]);
    assert.doesNotMatch(text([p]), /Running title/);
  });

  it("drops lone characters of another size, keeps superscripts beside their word", () => {
    const p = page([
      { s: "x", x: 30, y: 100, size: 5 },
      { s: "| K", x: 36, y: 200, size: 5 },
      { s: "Evidence supports the trial", y: 100 },
      { s: "1", x: 72 + 27 * 5 + 0.5, y: 96, size: 6 },
      { s: "Second line.", y: 200 },
    ]);
    const out = layoutPdf([p]);
    assert.equal(out.text, "Evidence supports the trial<sup>1</sup>\n\nSecond line.\n");
    assert.match(out.notes.join("\n"), /2 stray characters removed/);
  });

  it("reads text drawn twice (a bold effect) once", () => {
    const p = page([
      { s: "Policy/Criteria", y: 100 },
      { s: "Policy/Criteria", x: 72.4, y: 100 },
    ]);
    assert.equal(text([p]), "Policy/Criteria\n");
  });
});

describe("PDF layout: words and lines", () => {
  it("re-joins words hyphenated across lines, keeping hyphens the document writes elsewhere", () => {
    const p = page([
      { s: "The procedure is medi-", y: 100, w: 530 - 72 },
      { s: "cally necessary for non-", y: 112, w: 530 - 72 },
      { s: "surgical candidates and for self-", y: 124, w: 530 - 72 },
      { s: "reported pain that is evidence-", y: 136, w: 530 - 72 },
      { s: "based, as evidence-based care requires.", y: 148, w: 200 },
    ]);
    assert.equal(
      text([p]),
      "The procedure is medically necessary for non-surgical candidates and for self-reported pain that is evidence-based, as evidence-based care requires.\n",
    );
  });

  it("re-joins a word drawn in two pieces where the document prints it whole and the pieces never stand alone", () => {
    // "medi" and "cally" are two text items with a gap between them (as a font change mid-word draws).
    const p = page([
      { s: "Widget therapy is medically necessary when:", y: 100, w: 220 },
      { s: "I. It is medi", y: 130, w: 65 },
      { s: "cally necessary for a round of care.", x: 72 + 65 + 3, y: 130, w: 180 },
      { s: "II. Care is given around the clock, a day at a time.", y: 160, w: 260 },
    ]);
    assert.equal(
      text([p]),
      "Widget therapy is medically necessary when:\n\nI. It is medically necessary for a round of care.\nII. Care is given around the clock, a day at a time.\n",
    );
    // Never printed whole: the pieces stay as printed (no dictionary says they are one word).
    const q = page([
      { s: "I. It is medi", y: 130, w: 65 },
      { s: "cally necessary.", x: 72 + 65 + 3, y: 130, w: 80 },
    ]);
    assert.equal(text([q]), "I. It is medi cally necessary.\n");
  });

  it("closes up letter-spaced words", () => {
    assert.equal(closeLetterSpacing("P O L I C Y"), "POLICY");
    assert.equal(closeLetterSpacing("I M P L I C AT I O N S"), "IMPLICATIONS");
    assert.equal(closeLetterSpacing("see the C R I T E R I A below"), "see the CRITERIA below");
    assert.equal(closeLetterSpacing("A or B"), "A or B");
    assert.equal(closeLetterSpacing("1. a b"), "1. a b");
    const p = page([
      { s: "P O L I C Y / C R I T E R I A", y: 100, size: 12 },
      { s: "I. It is the policy.", y: 130 },
    ]);
    assert.equal(text([p]), "POLICY/CRITERIA\n\nI. It is the policy.\n");
  });

  it("reads a label at a tab stop as a label, a wide gap elsewhere as a table cell", () => {
    const p = page([
      { s: "1.", x: 90, y: 100 },
      { s: "Label then text at a tab stop;", x: 126, y: 100 },
      { s: "2.", x: 90, y: 112 },
      { s: "Second item.", x: 126, y: 112 },
    ]);
    assert.equal(text([p]), "1. Label then text at a tab stop;\n2. Second item.\n");
  });

  it("indents nested list items 4 spaces per level, from their left edges", () => {
    const p = page([
      { s: "I. It is the policy that all of the following are met:", x: 72, y: 100 },
      { s: "A. First;", x: 90, y: 112 },
      { s: "1. Nested;", x: 108, y: 124 },
      { s: "a. Deeper;", x: 126, y: 136 },
      { s: "B. Second.", x: 90, y: 148 },
      { s: "II. Next section.", x: 72, y: 170 },
    ]);
    assert.equal(
      text([p]),
      "I. It is the policy that all of the following are met:\n    A. First;\n        1. Nested;\n            a. Deeper;\n    B. Second.\nII. Next section.\n",
    );
  });

  it("does not join a short line to the next (a heading, the end of a paragraph)", () => {
    const p = page([{ s: "Background", y: 100 }, ...prose(LOREM, 112)]);
    assert.match(text([p]), /^Background\n\nChronic/);
  });
});

function pdf(
  build: (doc: PDFKit.PDFDocument) => void,
  options: PDFKit.PDFDocumentOptions = {},
): Promise<Buffer> {
  const doc = new PDFDocument({ size: "LETTER", margin: 72, ...options });
  const chunks: Buffer[] = [];
  doc.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve) => doc.on("end", () => resolve(Buffer.concat(chunks))));
  build(doc);
  doc.end();
  return done;
}

function refuses(input: Buffer, message: RegExp, opts: Parameters<typeof convertDocument>[1] = {}): void {
  assert.throws(
    () => convertDocument(input, { fileName: "policy.pdf", ...opts }),
    (e: unknown) => {
      assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
      assert.match(e.message, message);
      assert.equal(exitCodeOf(e), 2);
      assert.equal(e.where.file, "policy.pdf");
      return true;
    },
  );
}

describe("PDF files", () => {
  it("reads a real PDF: lines, labels and page breaks", async () => {
    const file = await pdf((doc) => {
      doc.font("Helvetica").fontSize(11);
      doc.text("Clinical Policy: Widgets");
      doc.moveDown();
      doc.text(
        "I. It is the policy of health plans affiliated with Centene Corporation that widgets are medically necessary when all of the following are met:",
      );
      for (let i = 0; i < 60; i++)
        doc.text(`${String.fromCharCode(65 + (i % 26))}. Criterion number ${i + 1} of the list;`, 90);
    });
    const out = convertDocument(file)!;
    assert.equal(out.format, "pdf");
    assert.match(out.text, /^Clinical Policy: Widgets\n/);
    assert.equal((out.text.match(/Criterion number \d+ of the list;/g) ?? []).length, 60);
    assert.match(out.text, /\n {4}Z\. Criterion number 26 of the list;\n {4}A\. Criterion number 27/);
  });

  it("refuses a damaged PDF, an encrypted one, one without text, one with too many pages", async () => {
    const good = await pdf((doc) => doc.text("I. It is the policy that widgets are medically necessary."));
    refuses(good.subarray(0, 40), /not a readable PDF/);
    refuses(Buffer.from("%PDF-1.7\n%garbage garbage\n"), /not a readable PDF/);
    const locked = await pdf((doc) => doc.text("Secret policy text."), {
      userPassword: "pw",
      ownerPassword: "owner",
    });
    refuses(locked, /encrypted and needs a password/);
    const blank = await pdf((doc) => doc.rect(100, 100, 200, 200).stroke());
    refuses(blank, /no text to read.*OCR/);
    const long = await pdf((doc) => {
      doc.text("one");
      doc.addPage().text("two");
      doc.addPage().text("three");
    });
    refuses(long, /too large: the PDF has 3 pages, the limit is 2/, { maxPages: 2 });
    refuses(good, /too large: 0\.\d+ MB, the limit is 0\.00 MB/, { maxBytes: 100 });
    assert.throws(() => ingest(locked, { fileName: "x.pdf" }), /encrypted/);
  });
});
