/**
 * Test documents written for real by the libraries people use to make them: a policy (sections,
 * nested criteria lists, prose) rendered as the ingester's text form, as HTML, as a Word file (`docx`,
 * with Word's automatic numbering) and as a PDF (`pdfkit`, laid out line by line like a word
 * processor: hanging indents, hyphenation, page breaks that cut lists, running headers and footers,
 * watermarks, a sidebar, stray characters). Shared by the format tests; its own tests run only when it
 * is the file under test.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import {
  AlignmentType,
  Document,
  Footer,
  Header,
  HeadingLevel,
  LevelFormat,
  Packer,
  Paragraph,
  Table,
  TableCell,
  TableRow,
  TextRun,
} from "docx";
import PDFDocument from "pdfkit";
import { Rand, SYLLABLES } from "../testdata/random.js";
import { detectFormat } from "./index.js";
import { KEEP_HYPHEN } from "./pdf-layout.js";

// ---------------------------------------------------------------------------------------------------
// The policy

export interface TItem {
  text: string;
  children?: TItem[];
  /** The children are an unlabeled bulleted list (•) rather than a labeled one. */
  bullets?: boolean;
}

export interface TSection {
  text: string;
  children: TItem[];
}

export interface TDoc {
  title: string;
  id: string;
  description: string;
  sections: TSection[];
  background: string[];
  codes: [string, string][];
}

export const STYLES = ["upper-roman", "upper-alpha", "decimal", "lower-alpha"] as const;

function roman(n: number): string {
  const t: [number, string][] = [
    [10, "X"],
    [9, "IX"],
    [5, "V"],
    [4, "IV"],
    [1, "I"],
  ];
  let out = "";
  let r = n;
  for (const [v, s] of t) {
    while (r >= v) {
      out += s;
      r -= v;
    }
  }
  return out;
}

/** The printed label of position `n` (1-based) at list depth `d` (0 = sections). */
export function label(d: number, n: number): string {
  const style = STYLES[Math.min(d, STYLES.length - 1)];
  if (style === "upper-roman") return `${roman(n)}.`;
  if (style === "upper-alpha") return `${String.fromCharCode(64 + n)}.`;
  if (style === "lower-alpha") return `${String.fromCharCode(96 + n)}.`;
  return `${n}.`;
}

// ---------------------------------------------------------------------------------------------------
// Random policies

const FORBIDDEN = new Set(
  "and or the when if with that where which who note none any all one either both each least following include includes including refer above criteria met is are page clinical policy not non".split(
    " ",
  ),
);

function word(r: Rand): string {
  for (;;) {
    const w = Array.from({ length: r.int(1, 4) }, () => r.pick(SYLLABLES)).join("");
    if (!FORBIDDEN.has(w) && !/^[ivxlcdm]+$/.test(w) && w.length > 1) return w;
  }
}

function phrase(r: Rand, lo: number, hi: number): string {
  const ws = Array.from({ length: r.int(lo, hi) }, () => word(r));
  if (r.chance(0.15)) ws.splice(r.int(1, ws.length), 0, `non-${word(r)}`);
  if (r.chance(0.1)) ws.splice(r.int(1, ws.length), 0, `(e.g., ${word(r)}, ${word(r)})`);
  const s = ws.join(" ");
  return (s[0] as string).toUpperCase() + s.slice(1);
}

function items(r: Rand, depth: number, maxDepth: number): TItem[] {
  const n = r.int(1, depth === 1 ? 5 : 4);
  const out: TItem[] = [];
  for (let i = 0; i < n; i++) {
    const last = i === n - 1;
    if (depth < maxDepth && r.chance(depth === 1 ? 0.35 : 0.25)) {
      const q = r.pick(["all", "any"]);
      out.push({
        text: `${phrase(r, 2, 10)}, when meeting ${q} of the following:`,
        children: items(r, depth + 1, maxDepth),
        ...(depth + 1 === maxDepth && r.chance(0.4) ? { bullets: true } : {}),
      });
    } else {
      out.push({ text: `${phrase(r, 2, r.chance(0.3) ? 28 : 12)}${last ? "." : ";"}` });
    }
  }
  return out;
}

/** A random Centene-style policy: roman sections, lettered criteria, numbered and lettered sub-lists. */
export function randomPolicy(seed: number, opts: { maxSections?: number; maxDepth?: number } = {}): TDoc {
  const r = new Rand(seed);
  const thing = `${word(r)} ${word(r)}`;
  const nSections = r.int(1, opts.maxSections ?? 3);
  const sections: TSection[] = [];
  for (let i = 0; i < nSections; i++) {
    if (i > 0 && r.chance(0.3)) {
      sections.push({
        text: `It is the policy of health plans affiliated with Centene Corporation that ${word(r)} ${thing} is not medically necessary for all other indications.`,
        children: [],
      });
      continue;
    }
    const q = r.pick(["all", "any"]);
    sections.push({
      text: `It is the policy of health plans affiliated with Centene Corporation that ${word(r)} ${thing} is medically necessary when ${q} of the following are met:`,
      children: items(r, 1, opts.maxDepth ?? 3),
    });
  }
  return {
    title: `${(thing[0] as string).toUpperCase()}${thing.slice(1)} ${word(r)}`,
    id: `CP.MP.${r.int(100, 999)}`,
    description: `${phrase(r, 12, 40)}.`,
    sections,
    background: Array.from({ length: r.int(1, 3) }, () => `${phrase(r, 20, 60)}.`),
    codes: Array.from({ length: r.int(1, 3) }, () => [String(r.int(10000, 99999)), phrase(r, 2, 6)]),
  };
}

/** The fixed Centene-style document of the format tests. */
export const CENTENE: TDoc = {
  title: "Widget Implantation",
  id: "CP.MP.999",
  description:
    "Widget implantation is a surgical procedure that places a widget beside the sacroiliac joint for stabilization. It may be performed in a minimally invasive manner or as an open procedure.",
  sections: [
    {
      text: "It is the policy of health plans affiliated with Centene Corporation that widget implantation is medically necessary when all of the following are met:",
      children: [
        { text: "Age 18 years or older;" },
        {
          text: "Failure of at least six consecutive months of conservative treatment that includes all of the following:",
          children: [
            {
              text: "Medication optimization, unless contraindicated or not tolerated by the member/enrollee;",
            },
            { text: "Activity modification for at least six weeks;" },
            {
              text: "At least four to six weeks of active therapeutic exercise targeted at the lumbar spine, pelvis, sacroiliac joint and hip, including a home exercise program or documentation of the member's inability to tolerate it;",
            },
          ],
        },
        {
          text: "Non-radiating, typically unilateral pain that is caudal to the lumbar spine, localized over the posterior joint, and consistent with joint pain, that interferes with activities of daily living;",
        },
        {
          text: "Diagnostic imaging studies within six months that include any of the following:",
          children: [
            {
              text: "Plain radiographs and computed tomography or magnetic resonance imaging of the joint that exclude destructive lesions, fracture, traumatic instability, or inflammatory arthropathy;",
            },
            { text: "Plain radiographs of the pelvis to exclude concomitant hip pathology;" },
          ],
        },
        { text: "Absence of generalized pain behavior or generalized pain disorders;" },
        {
          text: "At least 75% reduction in pain for the expected duration of the anesthetic used following an image-guided, contrast-enhanced intra-articular diagnostic injection on two separate occasions;",
        },
        { text: "The procedure will be performed using the lateral transarticular approach." },
      ],
    },
    {
      text: "It is the policy of health plans affiliated with Centene Corporation that widget revision is medically necessary when any of the following are met:",
      children: [
        { text: "Documented loosening of the implanted widget on imaging;" },
        { text: "Fracture of the widget or of the surrounding bone;" },
        { text: "Deep infection at the implantation site that does not respond to antibiotic therapy." },
      ],
    },
    {
      text: "It is the policy of health plans affiliated with Centene Corporation that widget implantation is not medically necessary for all other indications, including but not limited to mechanical low back pain and radicular pain syndromes.",
      children: [],
    },
  ],
  background: [
    "Low back pain affects approximately 84% of adults during their lives, with the sacroiliac joint being the source of chronic low back pain in approximately 15% to 30% of patients. When all appropriate conservative measures fail to relieve symptoms, treatment options may include fusion or stabilization of this joint.",
    "Several randomized controlled trials with six-month and one-year follow-up compared widget implantation with non-surgical management. Compared with nonsurgical management, widget implantation was more effective in pain reduction, in improving quality of life and in improving function.",
  ],
  codes: [
    ["27279", "Arthrodesis, sacroiliac joint, percutaneous or minimally invasive"],
    ["27280", "Arthrodesis, sacroiliac joint, open"],
  ],
};

// ---------------------------------------------------------------------------------------------------
// Text form

/** The document as the ingester's text form: one line per paragraph or item, 4 spaces per level. */
export function renderText(doc: TDoc): string {
  const L: string[] = [
    `Clinical Policy: ${doc.title}`,
    "",
    `Reference Number: ${doc.id}`,
    "",
    "Date of Last Revision: 04/25",
    "",
    "Description",
    "",
    doc.description,
    "",
    "Policy/Criteria",
    "",
  ];
  const walk = (its: TItem[], d: number, bullets = false) => {
    its.forEach((it, i) => {
      L.push(`${" ".repeat(4 * d)}${bullets ? "•" : label(d, i + 1)} ${it.text}`);
      if (it.children) walk(it.children, d + 1, it.bullets);
    });
  };
  doc.sections.forEach((s, i) => {
    L.push(`${label(0, i + 1)} ${s.text}`);
    walk(s.children, 1);
    L.push("");
  });
  L.push("Background", "");
  for (const p of doc.background) L.push(p, "");
  L.push("Coding Implications", "", "CPT Codes\tDescription");
  for (const [c, d] of doc.codes) L.push(`${c}\t${d}`);
  return `${L.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------------
// HTML

const HTML_TYPES = ["I", "A", "1", "a"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The document as a web page: nested `<ol type>` lists, headings, paragraphs, a code table. */
export function renderHtml(doc: TDoc, opts: { omitEndTags?: boolean } = {}): string {
  const close = (t: string) => (opts.omitEndTags ? "" : `</${t}>`);
  const list = (its: TItem[], d: number, bullets = false): string =>
    `${bullets ? "<ul>" : `<ol type="${HTML_TYPES[d]}">`}\n${its
      .map(
        (it) =>
          `<li>${esc(it.text)}${it.children ? `\n${list(it.children, d + 1, it.bullets)}` : ""}${close("li")}\n`,
      )
      .join("")}${bullets ? "</ul>" : "</ol>"}`;
  const sections = `<ol type="I">\n${doc.sections
    .map((s) => `  <li>${esc(s.text)}${s.children.length ? `\n${list(s.children, 1)}` : ""}${close("li")}\n`)
    .join("")}</ol>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(doc.title)}</title>
<style>body { font-family: sans-serif }</style><script>var x = "<p>not text</p>";</script></head>
<body>
<nav><a href="#coding">Coding Implications</a></nav>
<h1>Clinical Policy: ${esc(doc.title)}</h1>
<p>Reference Number: ${esc(doc.id)}</p>
<p>Date of Last Revision: 04/25</p>
<h2>Description</h2>
<p>${esc(doc.description).replace(/ /g, (m, i: number) => (i % 7 === 0 ? "\n   " : m))}</p>
<h2>Policy/Criteria</h2>
${sections}
<h2>Background</h2>
${doc.background.map((p) => `<p>${esc(p)}${close("p")}`).join("\n")}
<h2 id="coding">Coding Implications</h2>
<table><thead><tr><th>CPT Codes</th><th>Description</th></tr></thead>
<tbody>${doc.codes.map(([c, d]) => `<tr><td>${c}</td><td>${esc(d)}</td></tr>`).join("")}</tbody></table>
</body></html>
`;
}

// ---------------------------------------------------------------------------------------------------
// Word

const WORD_FORMATS = [
  LevelFormat.UPPER_ROMAN,
  LevelFormat.UPPER_LETTER,
  LevelFormat.DECIMAL,
  LevelFormat.LOWER_LETTER,
];

/** The document as a Word file: automatic multi-level numbering, headings, a header and footer, a table. */
export async function renderDocx(doc: TDoc): Promise<Buffer> {
  const paras: (Paragraph | Table)[] = [
    new Paragraph({ heading: HeadingLevel.TITLE, children: [new TextRun(`Clinical Policy: ${doc.title}`)] }),
    new Paragraph({
      children: [new TextRun({ text: "Reference Number: ", bold: true }), new TextRun(doc.id)],
    }),
    new Paragraph({ children: [new TextRun("Date of Last Revision: 04/25")] }),
    new Paragraph({ heading: HeadingLevel.HEADING_2, children: [new TextRun("Description")] }),
    new Paragraph({ children: [new TextRun(doc.description)] }),
    new Paragraph({ children: [] }),
    new Paragraph({ heading: HeadingLevel.HEADING_2, children: [new TextRun("Policy/Criteria")] }),
  ];
  const walk = (its: TItem[], d: number, bullets = false) => {
    for (const it of its) {
      paras.push(
        new Paragraph({
          numbering: { reference: bullets ? "bullets" : "criteria", level: bullets ? d - 1 : d },
          children: runs(it.text),
        }),
      );
      if (it.children) walk(it.children, d + 1, it.bullets);
    }
  };
  for (const s of doc.sections) {
    paras.push(new Paragraph({ numbering: { reference: "criteria", level: 0 }, children: runs(s.text) }));
    walk(s.children, 1);
  }
  paras.push(new Paragraph({ heading: HeadingLevel.HEADING_2, children: [new TextRun("Background")] }));
  for (const p of doc.background) paras.push(new Paragraph({ children: [new TextRun(p)] }));
  paras.push(
    new Paragraph({ heading: HeadingLevel.HEADING_2, children: [new TextRun("Coding Implications")] }),
  );
  paras.push(
    new Table({
      rows: [["CPT Codes", "Description"], ...doc.codes].map(
        (row) => new TableRow({ children: row.map((c) => new TableCell({ children: [new Paragraph(c)] })) }),
      ),
    }),
  );
  const file = new Document({
    numbering: {
      config: [
        {
          reference: "criteria",
          levels: WORD_FORMATS.map((format, level) => ({
            level,
            format,
            text: `%${level + 1}.`,
            alignment: AlignmentType.LEFT,
            style: { paragraph: { indent: { left: 720 * (level + 1), hanging: 360 } } },
          })),
        },
        {
          reference: "bullets",
          levels: [0, 1, 2, 3].map((level) => ({
            level,
            format: LevelFormat.BULLET,
            text: level % 2 === 0 ? "\u25CF" : "o",
            alignment: AlignmentType.LEFT,
            style: { paragraph: { indent: { left: 720 * (level + 2), hanging: 360 } } },
          })),
        },
      ],
    },
    sections: [
      {
        headers: {
          default: new Header({ children: [new Paragraph("CLINICAL POLICY"), new Paragraph(doc.title)] }),
        },
        footers: { default: new Footer({ children: [new Paragraph("Page 1 of 1")] }) },
        children: paras,
      },
    ],
  });
  return Packer.toBuffer(file);
}

/** "medically necessary" in bold, as Centene prints it; the rest plain. */
function runs(text: string): TextRun[] {
  const i = text.indexOf("medically necessary");
  if (i < 0) return [new TextRun(text)];
  return [
    new TextRun(text.slice(0, i)),
    new TextRun({ text: "medically necessary", bold: true }),
    new TextRun(text.slice(i + "medically necessary".length)),
  ];
}

// ---------------------------------------------------------------------------------------------------
// PDF

export interface PdfOptions {
  /** A two-line running header on pages 2… ("CLINICAL POLICY", the title). */
  header?: boolean;
  /** A two-line footer on every page ("Page i of n", a copyright line). */
  footer?: boolean;
  /** A rotated "DRAFT" and a large "SAMPLE" over the text on every page. */
  watermark?: boolean;
  /** A narrow column of small text beside the main column on the first page. */
  sidebar?: boolean;
  /** Stray small characters in the margins. */
  debris?: boolean;
  /** Long words broken across lines with a hyphen. */
  hyphenate?: boolean;
  /** Headings printed letter-spaced in capitals. */
  letterSpaced?: boolean;
  /** Labels printed apart from their text (a hanging indent) rather than "I. text" in one run. */
  hangingLabels?: boolean;
  /** Labels at a word processor's tab stop (text 36 pt after the label's start). */
  tabStops?: boolean;
  /** Paragraph lines stretched to the right margin (justified). */
  justify?: boolean;
  /** Page height in points (smaller pages, more page breaks); letter width. */
  pageHeight?: number;
  /** Seed for the debris and the like. */
  seed?: number;
}

export const ALL_ARTEFACTS: PdfOptions = {
  justify: true,
  header: true,
  footer: true,
  watermark: true,
  sidebar: true,
  debris: true,
  hyphenate: true,
  letterSpaced: true,
  hangingLabels: true,
};

const BODY = 10.5;
const LEAD = 13;

/** Lays the document out line by line as a word processor does, then draws the running matter. */
export function renderPdf(tdoc: TDoc, opts: PdfOptions = {}): Promise<Buffer> {
  const W = 612;
  const H = opts.pageHeight ?? 792;
  const r = new Rand(opts.seed ?? 7);
  const doc = new PDFDocument({ size: [W, H], margin: 0, bufferPages: true, autoFirstPage: true });
  const chunks: Buffer[] = [];
  doc.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve) => doc.on("end", () => resolve(Buffer.concat(chunks))));
  const left = 72;
  const right = opts.sidebar ? 410 : W - 72;
  const top = 78;
  const bottom = H - 72;
  let y = top;
  const newPage = () => {
    doc.addPage({ size: [W, H], margin: 0 });
    y = top;
  };
  const ensure = (h: number) => {
    if (y + h > bottom) newPage();
  };
  const font = (bold: boolean, size: number) =>
    doc.font(bold ? "Helvetica-Bold" : "Helvetica").fontSize(size);
  const width = (s: string) => doc.widthOfString(s);

  /** Breaks text into lines of at most `avail` points, hyphenating long words when asked. */
  const wrap = (text: string, avail: number, firstAvail = avail): string[] => {
    const lines: string[] = [];
    let line = "";
    const room = () => (lines.length === 0 ? firstAvail : avail);
    for (const w of text.split(" ")) {
      const cand = line ? `${line} ${w}` : w;
      if (width(cand) <= room()) {
        line = cand;
        continue;
      }
      if (line && opts.hyphenate && /^[a-z]{8,}$/.test(w)) {
        let k = w.length - 3;
        // A break right after a prefix English hyphenates ("full-umellu") is ambiguous without a
        // dictionary; the reader keeps such hyphens by design (KEEP_HYPHEN), so none is drawn there.
        const fits = (k: number) =>
          width(`${line} ${w.slice(0, k)}-`) <= room() && !KEEP_HYPHEN.test(w.slice(0, k));
        while (k >= 3 && !fits(k)) k--;
        if (k >= 3) {
          lines.push(`${line} ${w.slice(0, k)}-`);
          line = w.slice(k);
          continue;
        }
      }
      if (line && /^non-[a-z]+$/.test(w) && width(`${line} non-`) <= room()) {
        lines.push(`${line} non-`);
        line = w.slice(4);
        continue;
      }
      if (line) lines.push(line);
      line = w;
    }
    if (line) lines.push(line);
    return lines;
  };

  const heading = (text: string) => {
    y += 6;
    ensure(LEAD * 3);
    font(true, 12);
    if (opts.letterSpaced) doc.text(text.toUpperCase(), left, y, { lineBreak: false, characterSpacing: 2 });
    else doc.text(text, left, y, { lineBreak: false });
    y += LEAD + 6;
  };
  /** One line; justified lines (all but a paragraph's last) stretch to the right margin. */
  const put = (line: string, x: number, last: boolean) => {
    const spaces = (line.match(/ /g) ?? []).length;
    const extra = right - x - width(line);
    if (opts.justify && !last && spaces > 0 && extra > 0) {
      doc.text(line, x, y, { lineBreak: false, wordSpacing: extra / spaces });
    } else doc.text(line, x, y, { lineBreak: false });
  };
  const para = (text: string, x = left) => {
    font(false, BODY);
    const lines = wrap(text, right - x);
    lines.forEach((line, i) => {
      ensure(LEAD);
      put(line, x, i === lines.length - 1);
      y += LEAD;
    });
    y += 6;
  };
  const item = (lbl: string, text: string, x: number) => {
    font(false, BODY);
    const textX = x + (opts.tabStops ? 36 : Math.max(18, width(`${lbl} `) + 4));
    if (opts.hangingLabels || opts.tabStops) {
      const lines = wrap(text, right - textX);
      lines.forEach((line, i) => {
        ensure(LEAD);
        if (i === 0) doc.text(lbl, x, y, { lineBreak: false });
        put(line, textX, i === lines.length - 1);
        y += LEAD;
      });
    } else {
      const inline = `${lbl} ${text}`;
      const cont = x + width(`${lbl} `);
      const lines = wrap(inline, right - cont, right - x);
      lines.forEach((line, i) => {
        ensure(LEAD);
        put(line, i === 0 ? x : cont, i === lines.length - 1);
        y += LEAD;
      });
    }
  };

  font(true, 16);
  doc.text(`Clinical Policy: ${tdoc.title}`, left, y, { lineBreak: false });
  y += 26;
  para(`Reference Number: ${tdoc.id}`);
  para("Date of Last Revision: 04/25");
  heading("Description");
  para(tdoc.description);
  heading("Policy/Criteria");
  const walk = (its: TItem[], d: number, bullets = false) => {
    its.forEach((it, i) => {
      item(bullets ? "\u2022" : label(d, i + 1), it.text, left + 22 * d);
      if (it.children) walk(it.children, d + 1, it.bullets);
    });
  };
  tdoc.sections.forEach((s, i) => {
    item(label(0, i + 1), s.text, left);
    walk(s.children, 1);
    y += 6;
  });
  heading("Background");
  for (const p of tdoc.background) para(p);
  heading("Coding Implications");
  for (const [c, d] of [["CPT Codes", "Description"], ...tdoc.codes] as [string, string][]) {
    ensure(LEAD);
    font(false, BODY);
    doc.text(c, left, y, { lineBreak: false });
    doc.text(d, left + 100, y, { lineBreak: false });
    y += LEAD;
  }

  const range = doc.bufferedPageRange();
  for (let p = range.start; p < range.start + range.count; p++) {
    doc.switchToPage(p);
    if (opts.header && p > range.start) {
      font(true, 9).fillColor("black");
      doc.text("CLINICAL POLICY", left, 30, { lineBreak: false });
      font(false, 9);
      doc.text(tdoc.title, left, 42, { lineBreak: false });
    }
    if (opts.footer) {
      font(false, 8).fillColor("black");
      doc.text(`Page ${p - range.start + 1} of ${range.count}`, left, H - 52, { lineBreak: false });
      doc.text("(c) 2025 Centene Corporation. All rights reserved.", left, H - 42, { lineBreak: false });
    }
    if (opts.watermark) {
      doc.save();
      doc.rotate(-40, { origin: [W / 2, H / 2] });
      font(true, 72).fillColor("#cccccc");
      doc.text("DRAFT", W / 2 - 110, H / 2 - 40, { lineBreak: false });
      doc.restore();
      font(true, 64).fillColor("#dddddd");
      doc.text("SAMPLE", W / 2 - 130, H / 3, { lineBreak: false });
      doc.fillColor("black");
    }
    if (opts.sidebar && p === range.start) {
      font(true, 8);
      doc.text("Related Policies", right + 28, 120, { lineBreak: false });
      font(false, 7.5);
      for (let i = 0; i < 8; i++) {
        doc.text(`${word(r)} ${word(r)}`, right + 28, 134 + i * 10.5, { lineBreak: false });
      }
    }
    if (opts.debris) {
      font(false, 5).fillColor("#999999");
      for (let i = 0; i < 3; i++)
        doc.text(r.pick(["x", "|", "K", "7"]), 30 + r.int(0, 15), r.int(100, H - 120), { lineBreak: false });
      doc.fillColor("black");
    }
  }
  doc.end();
  return done;
}

// ---------------------------------------------------------------------------------------------------
// Comparing results

/** A version's sections without source line numbers (each rendering has its own lines). */
export function sectionsOf(result: { versions: { sections: unknown }[] }): unknown {
  return JSON.parse(JSON.stringify(result.versions[0]?.sections ?? null), (k, v) =>
    k === "line" || k === "from" || k === "to" ? undefined : v,
  );
}

// ---------------------------------------------------------------------------------------------------

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  describe("test document writers", () => {
    it("write files the format detector recognises", async () => {
      assert.equal(detectFormat(renderText(CENTENE)), "text");
      assert.equal(detectFormat(Buffer.from(renderHtml(CENTENE))), "html");
      assert.equal(detectFormat(await renderDocx(CENTENE)), "docx");
      assert.equal(detectFormat(await renderPdf(CENTENE, ALL_ARTEFACTS)), "pdf");
    });
  });
}
