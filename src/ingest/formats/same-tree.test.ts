/**
 * Same tree from every form of a document (issue 12): a Centene-style policy — roman sections, lettered
 * criteria, numbered and lettered sub-lists, "all/any of the following" lead-ins — written as the
 * ingester's text form, as HTML, as a Word file and as PDFs (plain, and with every layout artefact the
 * PDF reader removes), ingests to the same sections as its text form. A fast-check property does the
 * same for random policies: HTML and DOCX on many trees, PDF (slow) on at most 30, each with a random
 * choice of artefacts, page sizes and label layouts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ingest } from "../index.js";
import { Rand } from "../testdata/random.js";
import { convertDocument } from "./index.js";
import {
  ALL_ARTEFACTS,
  CENTENE,
  type PdfOptions,
  randomPolicy,
  renderDocx,
  renderHtml,
  renderPdf,
  renderText,
  sectionsOf,
} from "./writers.test.js";

function same(buf: Buffer | string, text: string, what: string): void {
  const expected = sectionsOf(ingest(text));
  let got: unknown;
  try {
    got = sectionsOf(ingest(buf));
  } catch (e) {
    assert.fail(`${what}: ${(e as Error).message}`);
  }
  if (JSON.stringify(got) !== JSON.stringify(expected)) {
    const conv = convertDocument(buf)?.text ?? "";
    assert.deepEqual(got, expected, `${what} differs from the text form; converted text:\n${conv}`);
  }
}

describe("the same policy tree from text, HTML, DOCX and PDF", () => {
  const text = renderText(CENTENE);

  it("the text form reads as expected (three sections, nested lists)", () => {
    const r = ingest(text);
    const v = r.versions[0]!;
    assert.deepEqual(
      v.sections.map((s) => [s.id, s.kind]),
      [
        ["I", "medically-necessary"],
        ["II", "medically-necessary"],
        ["III", "not-proven"],
      ],
    );
    const tree = v.sections[0]!.tree!;
    assert.equal(tree.kind, "all");
    assert.deepEqual(
      tree.children.map((c) => c.id),
      ["I.A", "I.B", "I.C", "I.D", "I.E", "I.F", "I.G"],
    );
    const d = tree.children[3]!;
    assert.ok(d.kind === "any" && d.children.length === 2);
  });

  it("HTML (with and without end tags)", () => {
    same(renderHtml(CENTENE), text, "HTML string");
    same(Buffer.from(renderHtml(CENTENE)), text, "HTML bytes");
    same(Buffer.from(renderHtml(CENTENE, { omitEndTags: true })), text, "HTML without </li>, </p>");
  });

  it("DOCX with Word's automatic numbering", async () => {
    same(await renderDocx(CENTENE), text, "DOCX");
  });

  it("PDF, plain", async () => {
    same(await renderPdf(CENTENE), text, "PDF");
  });

  it("PDF with running headers and footers, watermarks, a sidebar, debris, hyphenation, small pages", async () => {
    for (const pageHeight of [792, 420]) {
      const pdf = await renderPdf(CENTENE, { ...ALL_ARTEFACTS, pageHeight });
      same(pdf, text, `PDF (${pageHeight} pt pages)`);
      const r = ingest(pdf);
      const layout = r.findings.filter((f) => f.code === "layout").map((f) => f.message);
      for (const what of ["running headers and footers", "watermark", "sidebar", "stray characters"]) {
        assert.ok(
          layout.some((m) => m.includes(what)),
          `reported: ${what} (${layout.join("; ")})`,
        );
      }
    }
  });
});

describe("random policies: the same tree from every form (fast-check)", () => {
  it("HTML and DOCX", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.boolean(), async (seed, omitEndTags) => {
        const doc = randomPolicy(seed);
        const text = renderText(doc);
        same(renderHtml(doc, { omitEndTags }), text, `HTML, seed ${seed}`);
        same(await renderDocx(doc), text, `DOCX, seed ${seed}`);
      }),
      { numRuns: 60, includeErrorInReport: true },
    );
  });

  // Found by the property below (npm test, 2026-12-06): two words the PDF draws with a space between
  // them were joined ("tor bol" → "torbol", "glosto jortam" → "glostojortam") because the document
  // prints the joined word elsewhere. Split words are now rejoined only across a gap between two text
  // items, never across a space the PDF draws (pdf-layout.ts `gapPairs`). Seed 1501094411: a justified
  // line drawn word by word ("ful galhap" beside a printed "fulgalhap"): its stretched, alike gaps are
  // word spaces (`maySplit`). Seed 859420759: "full-" + "umellu" at a line end, an ambiguous break the
  // generator no longer draws (KEEP_HYPHEN).
  for (const [seed, what] of [
    [977379909, { header: true, footer: true, pageHeight: 792 }],
    [
      581555853,
      {
        header: true,
        footer: true,
        watermark: true,
        sidebar: true,
        hangingLabels: true,
        justify: true,
        pageHeight: 400,
      },
    ],
    [
      1501094411,
      {
        header: true,
        footer: true,
        watermark: true,
        sidebar: true,
        hyphenate: true,
        letterSpaced: true,
        tabStops: true,
        justify: true,
        pageHeight: 792,
      },
    ],
    [
      859420759,
      {
        header: true,
        watermark: true,
        hyphenate: true,
        letterSpaced: true,
        hangingLabels: true,
        pageHeight: 400,
      },
    ],
  ] as const) {
    it(`PDF seed ${seed} (${Object.keys(what).join(", ")}): words drawn apart stay apart`, async () => {
      const doc = randomPolicy(seed);
      const opts = { ...what, seed } as PdfOptions;
      same(await renderPdf(doc, opts), renderText(doc), `PDF, seed ${seed}`);
    });
  }

  it("PDF with random artefacts (bounded: 30 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (seed) => {
        const doc = randomPolicy(seed);
        const r = new Rand(seed ^ 0x5bd1e995);
        const opts: PdfOptions = {
          header: r.chance(0.7),
          footer: r.chance(0.7),
          watermark: r.chance(0.5),
          sidebar: r.chance(0.3),
          debris: r.chance(0.4),
          hyphenate: r.chance(0.7),
          letterSpaced: r.chance(0.5),
          hangingLabels: r.chance(0.6),
          tabStops: r.chance(0.3),
          justify: r.chance(0.4),
          pageHeight: r.pick([792, 500, 400]),
          seed,
        };
        same(await renderPdf(doc, opts), renderText(doc), `PDF, seed ${seed}, ${JSON.stringify(opts)}`);
      }),
      // MEDPOLICY_PDF_RUNS soaks the reader locally (e.g. 500); CI keeps the bounded 30.
      { numRuns: Number(process.env.MEDPOLICY_PDF_RUNS) || 30, includeErrorInReport: true },
    );
  });
});
