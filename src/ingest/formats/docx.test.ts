/**
 * Word files → text: automatic numbering printed as Word prints it (formats, starts, restarts, levels,
 * numbering through paragraph styles), bullets, tables, tracked changes as redline marks, hidden text,
 * fields, symbols, typed labels with tabs, line breaks, superscripts. Files written by the `docx`
 * library, and by hand for the WordprocessingML the library does not write.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AlignmentType,
  DeletedTextRun,
  Document,
  InsertedTextRun,
  LevelFormat,
  Packer,
  Paragraph,
  Table,
  TableCell,
  TableRow,
  TextRun,
} from "docx";
import { strToU8, zipSync } from "fflate";
import { ingest } from "../index.js";
import { convertDocument } from "./index.js";

const FORMATS = [
  LevelFormat.UPPER_ROMAN,
  LevelFormat.UPPER_LETTER,
  LevelFormat.DECIMAL,
  LevelFormat.LOWER_LETTER,
  LevelFormat.LOWER_ROMAN,
];

function numbered(
  paras: (Paragraph | Table)[],
  levels: {
    format: (typeof LevelFormat)[keyof typeof LevelFormat];
    text: string;
    start?: number;
  }[] = FORMATS.map((format, i) => ({ format, text: `%${i + 1}.` })),
): Promise<Buffer> {
  const doc = new Document({
    numbering: {
      config: [
        {
          reference: "n",
          levels: levels.map((l, level) => ({
            level,
            alignment: AlignmentType.LEFT,
            style: { paragraph: { indent: { left: 720 * (level + 1), hanging: 360 } } },
            ...l,
          })),
        },
        {
          reference: "b",
          levels: [{ level: 0, format: LevelFormat.BULLET, text: "\uF0B7", alignment: AlignmentType.LEFT }],
        },
      ],
    },
    sections: [{ children: paras }],
  });
  return Packer.toBuffer(doc);
}

const p = (text: string, level?: number, instance?: number) =>
  new Paragraph({
    ...(level === undefined
      ? {}
      : { numbering: { reference: "n", level, ...(instance ? { instance } : {}) } }),
    children: [new TextRun(text)],
  });

function text(buf: Buffer): string {
  const out = convertDocument(buf);
  assert.equal(out?.format, "docx");
  return out.text;
}

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';

/** A package written by hand: body XML, and optionally numbering and styles parts. */
function rawDocx(body: string, numbering?: string, styles?: string): Buffer {
  const files: Record<string, Uint8Array> = {
    "[Content_Types].xml": strToU8(
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
    ),
    "_rels/.rels": strToU8(
      '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    ),
    "word/document.xml": strToU8(`<w:document ${W}><w:body>${body}</w:body></w:document>`),
  };
  if (numbering) files["word/numbering.xml"] = strToU8(`<w:numbering ${W}>${numbering}</w:numbering>`);
  if (styles) files["word/styles.xml"] = strToU8(`<w:styles ${W}>${styles}</w:styles>`);
  return Buffer.from(zipSync(files));
}

describe("DOCX → text", () => {
  it("prints automatic numbering as Word does: five label styles, nested 4 spaces per level", async () => {
    const buf = await numbered([
      p("Policy/Criteria"),
      p("Section one, all of the following:", 0),
      p("Lettered", 1),
      p("Numbered", 2),
      p("Lower", 3),
      p("Roman", 4),
      p("Roman two", 4),
      p("Numbered two", 2),
      p("Lettered two", 1),
      p("Section two.", 0),
    ]);
    assert.equal(
      text(buf),
      "Policy/Criteria\n\nI. Section one, all of the following:\n    A. Lettered\n        1. Numbered\n            a. Lower\n                i. Roman\n                ii. Roman two\n        2. Numbered two\n    B. Lettered two\nII. Section two.\n",
    );
  });

  it("honours start values, restarts a new list instance, counts an empty item", async () => {
    const buf = await numbered(
      [p("three", 0), p("four", 0), p("", 0), p("six", 0), p("restarted", 0, 2), p("again", 0, 2)],
      [{ format: LevelFormat.DECIMAL, text: "(%1)", start: 3 }],
    );
    assert.equal(text(buf), "(3) three\n(4) four\n(6) six\n(3) restarted\n(4) again\n");
  });

  it("prints bullets as •; tables as tab-separated rows", async () => {
    const table = new Table({
      rows: [
        ["CPT", "Description"],
        ["27279", "Arthrodesis"],
      ].map((r) => new TableRow({ children: r.map((c) => new TableCell({ children: [new Paragraph(c)] })) })),
    });
    const buf = await numbered([
      new Paragraph({ numbering: { reference: "b", level: 0 }, children: [new TextRun("a bullet")] }),
      table,
    ]);
    assert.equal(text(buf), "• a bullet\n\nCPT\tDescription\n27279\tArthrodesis\n");
  });

  it("writes tracked changes as redline marks: the ingester reads two versions", async () => {
    const change = { id: 1, author: "a", date: "2025-01-01T00:00:00Z" };
    const buf = await numbered([
      p("Policy/Criteria"),
      new Paragraph({
        numbering: { reference: "n", level: 0 },
        children: [
          new TextRun(
            "It is the policy of health plans affiliated with Centene Corporation that widgets are medically necessary when ",
          ),
          new DeletedTextRun({ text: "all", ...change }),
          new InsertedTextRun({ text: "any", ...change, id: 2 }),
          new TextRun(" of the following are met:"),
        ],
      }),
      p("First;", 1),
      p("Second.", 1),
    ]);
    assert.match(text(buf), /when <del>all<\/del><ins>any<\/ins> of the following/);
    const r = ingest(buf);
    assert.equal(r.versions.length, 2);
    assert.equal(r.versions[0]?.sections[0]?.tree?.kind, "all");
    assert.equal(r.versions[1]?.sections[0]?.tree?.kind, "any");
  });

  it("reads numbering through paragraph styles and numbering-style links, with level overrides", () => {
    const numbering = `
      <w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="upperRoman"/><w:lvlText w:val="%1."/></w:lvl>
        <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="upperLetter"/><w:lvlText w:val="%2."/></w:lvl>
        <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2.%3"/><w:isLgl/></w:lvl></w:abstractNum>
      <w:abstractNum w:abstractNumId="1"><w:numStyleLink w:val="ListStyle"/></w:abstractNum>
      <w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
      <w:num w:numId="2"><w:abstractNumId w:val="1"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="5"/></w:lvlOverride></w:num>`;
    const styles = `
      <w:style w:styleId="Crit1"><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:style>
      <w:style w:styleId="Crit2"><w:basedOn w:val="Crit1"/><w:pPr><w:numPr><w:ilvl w:val="1"/></w:numPr></w:pPr></w:style>
      <w:style w:styleId="ListStyle"><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:style>`;
    const para = (t: string, pPr = "") => `<w:p><w:pPr>${pPr}</w:pPr><w:r><w:t>${t}</w:t></w:r></w:p>`;
    const body = [
      para("Section", '<w:pStyle w:val="Crit1"/>'),
      para("Letter", '<w:pStyle w:val="Crit2"/>'),
      para("Legal", '<w:numPr><w:ilvl w:val="2"/><w:numId w:val="1"/></w:numPr>'),
      para("Linked, restarted at five", '<w:numPr><w:ilvl w:val="0"/><w:numId w:val="2"/></w:numPr>'),
      para("Not numbered", '<w:numPr><w:ilvl w:val="0"/><w:numId w:val="0"/></w:numPr>'),
    ].join("");
    assert.equal(
      convertDocument(rawDocx(body, numbering, styles))?.text,
      "I. Section\n    A. Letter\n        1.1.1 Legal\nV. Linked, restarted at five\n\nNot numbered\n",
    );
  });

  it("leaves out hidden text and field codes; keeps field results, symbols, breaks, superscripts", () => {
    const body = `
      <w:p><w:r><w:t xml:space="preserve">Visible </w:t></w:r><w:r><w:rPr><w:vanish/></w:rPr><w:t>hidden</w:t></w:r>
        <w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>3</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>
        <w:r><w:t xml:space="preserve"> pain</w:t></w:r><w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr><w:t>12</w:t></w:r>
        <w:r><w:drawing><w:txbxContent><w:p><w:r><w:t>Sidebar box</w:t></w:r></w:p></w:txbxContent></w:drawing></w:r></w:p>
      <w:p><w:r><w:sym w:font="Symbol" w:char="F0B3"/><w:t xml:space="preserve"> 50%</w:t><w:br/><w:t>next line</w:t><w:noBreakHyphen/><w:t>x</w:t></w:r></w:p>
      <w:p><w:r><w:t>II.</w:t></w:r><w:r><w:tab/><w:t>Typed label then a tab</w:t></w:r></w:p>
      <w:p><w:r><w:rPr><w:caps/></w:rPr><w:t>Background</w:t></w:r></w:p>
      <w:sdt><w:sdtContent><w:p><w:hyperlink><w:r><w:t>In a content control and a link</w:t></w:r></w:hyperlink></w:p></w:sdtContent></w:sdt>`;
    const out = convertDocument(rawDocx(body));
    assert.equal(
      out?.text,
      "Visible 3 pain<sup>12</sup>\n\nSidebar box\n\n≥ 50%\nnext line-x\n\nII. Typed label then a tab\n\nBACKGROUND\n\nIn a content control and a link\n",
    );
    assert.deepEqual(out?.notes.sort(), [
      "hidden text left out",
      "text boxes read as paragraphs after the paragraph they are anchored in",
    ]);
  });

  it("reads a text box once (Word stores it twice) after its anchoring paragraph: criteria in a box are not lost", () => {
    const box = (t: string) =>
      `<w:txbxContent><w:p><w:r><w:t>${t}</w:t></w:r></w:p><w:p><w:r><w:t>1. The patient has tried physical therapy; and</w:t></w:r></w:p><w:p><w:r><w:t>2. The patient has tried medication.</w:t></w:r></w:p></w:txbxContent>`;
    const body = `
      <w:p><w:r><w:t>I. Gizmo therapy is medically necessary when all of the following are met:</w:t></w:r>
        <w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><mc:Choice Requires="wps"><w:drawing><wps:txbx xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">${box("Boxed criteria")}</wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><v:textbox xmlns:v="urn:schemas-microsoft-com:vml">${box("Boxed criteria")}</v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>
      <w:p><w:r><w:t>After the box</w:t></w:r></w:p>`;
    const out = convertDocument(rawDocx(body));
    assert.equal(
      out?.text,
      "I. Gizmo therapy is medically necessary when all of the following are met:\n\nBoxed criteria\n\n1. The patient has tried physical therapy; and\n\n2. The patient has tried medication.\n\nAfter the box\n",
    );
    // A shape with no text box (WordArt) is still left out, and said so.
    const art = `<w:p><w:r><w:t>Text</w:t></w:r><w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml"><v:textpath string="DRAFT"/><w:t>DRAFT</w:t></v:shape></w:pict></w:r></w:p>`;
    const a = convertDocument(rawDocx(art));
    assert.equal(a?.text, "Text\n");
    assert.deepEqual(a?.notes, ["shapes left out (text outside the flow of the document)"]);
  });

  it("continues a list item with a plain paragraph indented under it", () => {
    const numbering = `<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/><w:pPr><w:ind w:left="720" w:hanging="360"/></w:pPr></w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>`;
    const body = `
      <w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>Item</w:t></w:r></w:p>
      <w:p><w:pPr><w:ind w:left="720"/></w:pPr><w:r><w:t>Its second paragraph</w:t></w:r></w:p>
      <w:p><w:r><w:t>After the list</w:t></w:r></w:p>`;
    assert.equal(
      convertDocument(rawDocx(body, numbering))?.text,
      "1. Item\n   Its second paragraph\n\nAfter the list\n",
    );
  });
});

describe("QA pass 5: a list item indented as a sub-item by its own paragraph indent", () => {
  it("prints where Word shows it: at the level its indent reaches, not flattened into level 0", () => {
    const numbering =
      '<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/><w:pPr><w:ind w:left="720" w:hanging="360"/></w:pPr></w:lvl>' +
      '<w:lvl w:ilvl="1"><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/><w:pPr><w:ind w:left="1440" w:hanging="360"/></w:pPr></w:lvl></w:abstractNum>' +
      '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>';
    const item = (t: string, left?: number) =>
      `<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>${left ? `<w:ind w:left="${left}" w:hanging="360"/>` : ""}</w:pPr><w:r><w:t>${t}</w:t></w:r></w:p>`;
    const body =
      item("Malformation of the ear canal") +
      item("Chronic otitis media when all of the following are met:") +
      item("Air-conduction aids cannot be worn", 1440) +
      item("Age 5 years or older", 1440);
    assert.equal(
      text(rawDocx(body, numbering)).trim(),
      "• Malformation of the ear canal\n• Chronic otitis media when all of the following are met:\n    • Air-conduction aids cannot be worn\n    • Age 5 years or older",
    );
  });
});

describe("QA pass 5, second reading: levels that share one indent", () => {
  it("an explicit indent equal to every level's is no deeper level", () => {
    const numbering =
      '<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/><w:pPr><w:ind w:left="360" w:hanging="360"/></w:pPr></w:lvl>' +
      '<w:lvl w:ilvl="1"><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/><w:pPr><w:ind w:left="360" w:hanging="360"/></w:pPr></w:lvl></w:abstractNum>' +
      '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>';
    const item = (t: string, level: number) =>
      `<w:p><w:pPr><w:numPr><w:ilvl w:val="${level}"/><w:numId w:val="1"/></w:numPr><w:ind w:left="360" w:hanging="360"/></w:pPr><w:r><w:t>${t}</w:t></w:r></w:p>`;
    assert.equal(
      text(
        rawDocx(
          item("Chronic syndrome when all of the following are met:", 0) + item("Age 18 or older", 1),
          numbering,
        ),
      ).trim(),
      "• Chronic syndrome when all of the following are met:\n    • Age 18 or older",
    );
  });
});
