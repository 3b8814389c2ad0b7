/**
 * HTML as a browser shows it, in the conventions of `../shared/corpus/cms-ncd/README.md` ("Rendering
 * notes"): list labels per `type`/`start`/`value`, bullets, 4 spaces per nesting level, paragraphs with
 * blank lines around, `<br>`, headings, tables as tab-separated rows, white space collapsed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ingest } from "../index.js";
import { htmlToText } from "./index.js";

describe("HTML → text", () => {
  it("labels ordered lists per type, start, value and reversed; bullets unordered ones", () => {
    assert.equal(
      htmlToText(
        '<ol><li>one<li>two</ol><ol type="a" start="3"><li>c<li value="7">g<li>h</ol>' +
          '<ol type="I"><li>I<li>II<li>III<li>IV</ol><ol type="i" reversed><li>iii<li>ii<li>i</ol>' +
          '<ol style="list-style-type: upper-alpha"><li>A<li>B</ol><ul><li>dot<li>dot</ul>',
      ),
      "1. one\n2. two\n\nc. c\ng. g\nh. h\n\nI. I\nII. II\nIII. III\nIV. IV\n\niii. iii\nii. ii\ni. i\n\nA. A\nB. B\n\n• dot\n• dot\n",
    );
  });

  it("indents nested lists 4 spaces per level; an item's further lines align with its text", () => {
    assert.equal(
      htmlToText(
        "<ol><li>Lead-in, all of the following:<ol type='a'><li>first;<li>second, either:<ul><li>x<li>y</ul></ol>" +
          "<li>Item with a break<br>and a second line<p>and a paragraph</p></ol>",
      ),
      "1. Lead-in, all of the following:\n    a. first;\n    b. second, either:\n        • x\n        • y\n2. Item with a break\n   and a second line\n\n   and a paragraph\n",
    );
  });

  it("prints an item's label with the paragraph the item opens with", () => {
    assert.equal(
      htmlToText(
        "<ol><li><p>First</p></li><li><p>Second:</p><ul><li><p>x</p></li></ul></li></ol><p>After</p>",
      ),
      "1. First\n\n2. Second:\n\n    • x\n\nAfter\n",
    );
  });

  it("puts blank lines around paragraphs and headings; a <br> between items is a blank line", () => {
    assert.equal(
      htmlToText(
        "<h2>Indications</h2><p>B.&#160;&#160;&#160;Nationally Covered</p><p>Text</p><ol><li>a</li><br><li>b</li></ol>",
      ),
      "Indications\n\nB.   Nationally Covered\n\nText\n\n1. a\n\n2. b\n",
    );
  });

  it("collapses white space, keeps link text, drops scripts, styles and the head", () => {
    assert.equal(
      htmlToText(
        "<html><head><title>T</title><style>p{}</style><script>x()</script></head><body>\n  <p>  many\n   spaces\there, <a href='x'>a link</a>&nbsp;and&amp; more </p><div>div</div><div>div two</div></body></html>",
      ),
      "many spaces here, a link and& more\n\ndiv\ndiv two\n",
    );
  });

  it("writes tables as tab-separated rows (colspan as empty cells, cell blocks on one line)", () => {
    assert.equal(
      htmlToText(
        "<table><caption>Codes</caption><thead><tr><th>CPT</th><th>Description</th></tr></thead><tbody>" +
          "<tr><td>27279</td><td><p>Arthrodesis,</p><p>percutaneous</p></td></tr><tr><td colspan=2>Note row</td><td>x</td></tr></tbody></table>",
      ),
      "Codes\nCPT\tDescription\n27279\tArthrodesis, percutaneous\nNote row\t\tx\n",
    );
  });

  it("keeps superscripts and redline marks as tags for the ingester", () => {
    assert.equal(
      htmlToText("<p>Pain<sup>1,2</sup> relief <del>old</del> <ins>new</ins> <s>x</s><u>y</u></p>"),
      "Pain<sup>1,2</sup> relief <del>old</del> <ins>new</ins> <s>x</s><u>y</u>\n",
    );
  });

  it("builds the tree a browser builds from sloppy markup (omitted </li>, </p>, misnesting)", () => {
    assert.equal(
      htmlToText("<p>Para one<p>Para two<ol><li>a<li>b<ul><li>c</ol><b>bold <i>both</b> italic</i>"),
      "Para one\n\nPara two\n\n1. a\n2. b\n    • c\n\nbold both italic\n",
    );
  });

  it("ingests a CMS-style coverage page (lists as the CMS site displays them)", () => {
    const html = `<!DOCTYPE html><html><body>
      <h1>Continuous Positive Airway Pressure (CPAP) Therapy</h1>
      <p><strong>Policy/Criteria</strong></p>
      <ol type="I"><li>It is the policy of health plans affiliated with Centene Corporation that CPAP is <b>medically necessary</b> when all of the following are met:
        <ol type="A"><li>A positive diagnosis of OSA made by any of the following:
          <ol><li>attended PSG performed in a sleep laboratory; or</li><li>unattended HST with a Type II home sleep monitoring device;</li></ol></li>
        <li>The beneficiary has been educated in the proper use of the device.</li></ol></li></ol>
      </body></html>`;
    const v = ingest(Buffer.from(html)).versions[0]!;
    const tree = v.sections[0]?.tree;
    assert.equal(v.sections[0]?.id, "I");
    assert.deepEqual(
      tree?.children.map((c) => c.id),
      ["I.A", "I.B"],
    );
    const a = tree?.children[0];
    assert.ok(a && a.kind === "any" && a.children.length === 2);
  });
});

describe("QA pass 5: what a browser does not show, menus, superscripts", () => {
  it("leaves out hidden, display:none and screen-reader-only text, and navigation menus; keeps aria-hidden", () => {
    const text = htmlToText(
      "<nav><a>Members</a><a>Providers</a></nav><div role='navigation'>Find a Doctor</div>" +
        "<p>Shown</p><p hidden>Hidden attribute</p><div aria-hidden='true'>Aria hidden is shown</div>" +
        "<div style='color: red; display: none'>Display none</div><p style='visibility:hidden'>Invisible</p>" +
        "<span class='sr-only'>link to glossary</span><div aria-hidden='false'>Shown too</div>",
    );
    // aria-hidden hides from a screen reader, not from the eye; a class "hidden" may show (Tailwind).
    assert.equal(text.trim(), "Shown\n\nAria hidden is shown\nShown too");
  });

  it("a retired version kept hidden on the page is no section", () => {
    const html = `<html><body><nav><ul><li>Members</li><li>Providers</li></ul></nav>
<h1>Gizmo Therapy</h1><p>Policy Number: MP-Q-0001</p><p>Effective Date: 01/01/2025</p>
<h2>Policy</h2>
<p>I. Gizmo therapy is considered medically necessary when all of the following are met:</p>
<ol type="A"><li>Chronic wounds;</li><li>Failure of conservative care.</li></ol>
<div style="display:none" aria-hidden="true"><p>II. Gizmo therapy is considered medically necessary for heart failure when all of the following are met:</p>
<ol type="A"><li>NYHA class II;</li><li>Stable medication.</li></ol></div>
</body></html>`;
    const r = ingest(html);
    assert.deepEqual(
      r.versions[0]!.sections.map((s) => s.id),
      ["I"],
    );
    assert.deepEqual(r.unplaced, [], "the menu is not text before the criteria");
  });

  it("keeps ordinals and exponents a superscript prints; drops footnote numbers", () => {
    const html = `<h1>Gizmab</h1><p>Policy Number: MP-Q-0002</p><p>Effective Date: 01/01/2025</p><h2>Policy</h2>
<p>I. Gizmab is medically necessary when all of the following criteria are met:</p>
<ol type="A"><li>Failure of a 2<sup>nd</sup> generation TKI<sup>3</sup>;</li><li>Platelets &lt; 30 &times; 10<sup>9</sup>/L;</li>
<li>BMI of 40 kg/m<sup>2</sup> or greater.</li></ol>`;
    const items = ingest(html).versions[0]!.sections[0]!.tree!.children.map((c) => c.text);
    assert.deepEqual(items, [
      "Failure of a 2nd generation TKI",
      "Platelets < 30 × 10^9/L",
      "BMI of 40 kg/m^2 or greater",
    ]);
  });
});

describe("QA pass 5: a table cell that holds a list", () => {
  const table = (rows: string) => `<p>MEDICAL POLICY &ndash; 7.01.125<br>Sacral Nerve Neuromodulation</p>
<p>Effective Date: Feb. 1, 2025</p><h2>Policy Coverage Criteria</h2>
<table><tr><th>Service</th><th>Medical Necessity</th></tr>${rows}</table><h2>References</h2><p>None.</p>`;
  const urinary = `<tr><td>SNM for urinary incontinence</td><td><p>SNM may be considered <strong>medically necessary</strong> when <strong>ALL</strong> of the following criteria are met:</p>
<ul><li>There is a diagnosis of urge incontinence</li><li>Conservative treatment has failed</li><li>A test stimulation is successful</li></ul></td></tr>`;

  it("prints the cell's items on the lines under its row, after the cell's tabs", () => {
    assert.equal(
      htmlToText(`<table>${urinary}</table>`).trim(),
      "SNM for urinary incontinence\tSNM may be considered medically necessary when ALL of the following criteria are met:\n" +
        "\t•\tThere is a diagnosis of urge incontinence\n\t•\tConservative treatment has failed\n\t•\tA test stimulation is successful",
    );
  });

  it("each item is a criterion (joined into the row they were one question, never each asked)", () => {
    const s = ingest(table(urinary)).versions[0]!.sections[0]!;
    assert.deepEqual(
      s.tree?.children.map((c) => c.text),
      [
        "There is a diagnosis of urge incontinence",
        "Conservative treatment has failed",
        "A test stimulation is successful",
      ],
    );
  });

  it("a second row stating coverage of its own is not read as a criterion of the first: review", () => {
    const fecal = `<tr><td>SNM for fecal incontinence</td><td><p>SNM may be considered medically necessary for fecal incontinence when ALL of the following are met:</p>
<ul><li>More than 2 episodes per week</li><li>Failure of conservative therapy</li></ul></td></tr>`;
    const s = ingest(table(urinary + fecal)).versions[0]!.sections[0]!;
    assert.match(s.uncertain?.join() ?? "", /holds a statement of coverage/);
  });
});
