/**
 * The five seed documents (SPEC 1.1) through the ingester: tree shapes, conditions, references,
 * notes, findings, code tables, revision logs, identity and versions, round trip of every version.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { BranchNode, CriterionNode, PolicyVersion } from "../model/index.js";
import { ingest, renderMarkdown } from "./index.js";

const dir = new URL("./testdata/seeds/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir));
const NC = "000_3fa6513c4aadaf2a.txt";
const CORP = "001_605442ac2608bd0b.txt";
const HEADERLESS = "002_f4efc0295c8b09d4.txt";
const LA = "003_9ea9c92b67fb9a50.txt";
const SIJ = "004_13f8f8ece4477aa0.txt";

/** Compact shape: `all(A:any(1:all?(a,b)),B:none(1,2))`; `?` = own condition, `ref>I`, `^` = note. */
function shape(n: CriterionNode): string {
  const seg = n.id.slice(n.id.lastIndexOf(".") + 1);
  if (n.kind === "ref") return `ref>${n.target}`;
  const note = n.note ? "^" : "";
  if (n.kind === "leaf") return `${seg}${note}`;
  return `${seg}:${groupShape(n)}${note}`;
}
function groupShape(g: BranchNode): string {
  const head = g.kind === "atLeast" ? `atLeast${g.n}` : g.kind;
  return `${head}${g.condition ? "?" : ""}(${g.children.map(shape).join(",")})`;
}
function tree(v: PolicyVersion, section: string): string {
  const s = v.sections.find((x) => x.id === section);
  assert.ok(s?.tree, `section ${section} has a tree`);
  return groupShape(s.tree);
}
function node(v: PolicyVersion, id: string): CriterionNode {
  const walk = (n: CriterionNode): CriterionNode | undefined => {
    if (n.id === id) return n;
    if (n.kind === "leaf" || n.kind === "ref") return undefined;
    for (const c of n.children) {
      const f = walk(c);
      if (f) return f;
    }
    return undefined;
  };
  for (const s of v.sections) {
    const f = s.tree && walk(s.tree);
    if (f) return f;
  }
  assert.fail(`no criterion ${id}`);
}
const cond = (v: PolicyVersion, id: string) => (node(v, id) as BranchNode).condition;
const text = (v: PolicyVersion, id: string) => node(v, id).text;

const SEC_I_173 = "all(A:any(1:all?(a,b,c),2:all?(a,b,c,d,e,f,g,h)),B:none(1,2,3,4,5))";
const SEC_II_173 = "all(A:any(1:all?(ref>I,a^,b,c,d),2:all?(ref>I,a,b,c,d,e,f,g,h,i)),B:none(1,2,3,4,5))";

function assert173Details(v: PolicyVersion): void {
  assert.equal(cond(v, "I.A.1"), "Chronic intractable pain of malignant origin");
  assert.equal(
    cond(v, "I.A.2"),
    "Chronic intractable pain of nonmalignant origin (e.g. failed back surgery syndrome, complex regional pain syndrome)",
  );
  assert.equal(cond(v, "I.A"), undefined);
  assert.equal(cond(v, "I.B"), undefined);
  assert.equal(cond(v, "II.A.1"), "Chronic intractable pain of malignant origin");
  assert.equal(cond(v, "II.A.2"), "Severe chronic pain of non-malignant origin");
  assert.deepEqual(node(v, "II.A.1.ref"), {
    kind: "ref",
    id: "II.A.1.ref",
    target: "I",
    text: (node(v, "II.A.1.ref") as { text: string }).text,
    line: node(v, "II.A.1.ref").line,
  });
  assert.equal(text(v, "I.A.1.b"), "Life expectancy > three months");
  assert.equal(text(v, "II.A.1.a"), "The trial provided ≥ 50% reduction in pain with minimal side effects");
  const note = node(v, "II.A.1.a");
  assert.ok(note.kind === "leaf" && note.note);
  assert.equal(note.note.id, "II.A.1.a.note");
  assert.equal(note.note.marker, "*");
  assert.equal(note.note.effect, "review");
  assert.match(
    note.note.condition,
    /^Advanced disease, when survival time is limited, or considered high risk/,
  );
  const [s1, s2] = v.sections;
  assert.equal(s1?.kind, "medically-necessary");
  assert.equal(s2?.kind, "medically-necessary");
  assert.match(s1?.text ?? "", /preliminary trial of epidural or intrathecal administration/);
}

function codes(v: PolicyVersion): string[][] {
  return v.codeTables.map((t) => t.rows.map((r) => r.code + (r.marker ?? "")));
}
const CPT_173 =
  "62320 62321 62322 62323 62326 62327 62350 62351 62355 62360 62361 62362 62365 62367 62368 62369 62370".split(
    " ",
  );
const HCPCS_173 = "A4300 A4301 E0782 E0783 E0785 E0786 C1772 C1755 J2274 S0093".split(" ");

describe("CP.MP.173 corporate (markdown from PDF)", () => {
  const r = ingest(read(CORP));
  const v = r.versions[0] as PolicyVersion;
  it("is one version with its identity", () => {
    assert.equal(r.versions.length, 1);
    assert.deepEqual(
      { ...v.identity },
      {
        id: "CP.MP.173",
        baseId: "CP.MP.173",
        title: "Implantable Intrathecal or Epidural Pain Pump",
        plan: "Centene Corporation",
        version: "2025-11",
        approved: "2025-11-01",
        effective: "2025-11-01",
      },
    );
  });
  it("reads the criteria trees", () => {
    assert.equal(tree(v, "I"), SEC_I_173);
    assert.equal(tree(v, "II"), SEC_II_173);
    assert173Details(v);
    assert.equal(text(v, "I.A.2.g"), "Prior to the trial, systemic opioids have been weaned by at least 50%");
  });
  it("places every line and reports no defects", () => {
    assert.deepEqual(r.unplaced, []);
    assert.deepEqual(
      r.findings.map((f) => f.code),
      [],
    );
  });
  it("reads cross-references", () => {
    assert.deepEqual(
      v.crossReferences.map(({ target, title, subject }) => ({ target, title, subject })),
      [
        { target: "CP.PHAR.149", title: "Intrathecal Baclofen (Gablofen, Lioresal)", subject: "Baclofen" },
        {
          target: "CP.MP.107",
          title: "Durable Medical Equipment (DME) section on Pumps",
          subject: "other indications",
        },
      ],
    );
  });
  it("reads code tables, re-joining the CPT table split by a page header", () => {
    assert.deepEqual(
      v.codeTables.map((t) => [t.system, t.coverage]),
      [
        ["CPT® Codes", "unspecified"],
        ["HCPCS Codes", "unspecified"],
      ],
    );
    assert.deepEqual(codes(v), [CPT_173, HCPCS_173]);
    assert.equal(v.codeTables.flatMap((t) => t.rows).length, 27);
  });
  it("reads the revision log across a page break", () => {
    assert.deepEqual(
      v.revisionLog.map((e) => [e.revision, e.approved]),
      [
        ["2019-02", "2019-02-01"],
        ["2020-01", "2020-01-01"],
        ["2020-12", "2021-01-01"],
        ["2022-01", "2022-01-01"],
        ["2023-01", "2023-01-01"],
        ["2024-01", "2024-01-01"],
        ["2024-11", "2024-11-01"],
        ["2025-11", "2025-11-01"],
      ],
    );
    assert.equal(v.references.length, 21);
    assert.match(v.references[1] ?? "", /^Health Technology Assessment\. Intrathecal opioids/);
    assert.match(v.background, /^Chronic pain is often defined/);
    assert.match(v.description, /^An implantable, intrathecal drug delivery system/);
  });
});

describe("CP.MP.173 corporate without header (Word text)", () => {
  it("reads the same trees as the markdown corporate policy", () => {
    const r = ingest(read(HEADERLESS));
    const v = r.versions[0] as PolicyVersion;
    assert.equal(tree(v, "I"), SEC_I_173);
    assert.equal(tree(v, "II"), SEC_II_173);
    assert173Details(v);
    assert.deepEqual(r.unplaced, []);
    assert.deepEqual(codes(v), [CPT_173, HCPCS_173]);
    assert.equal(v.revisionLog.length, 8);
    assert.equal(v.crossReferences.length, 2);
  });
  it("has no id unless one is given, and says so", () => {
    const v = ingest(read(HEADERLESS)).versions[0] as PolicyVersion;
    assert.equal(v.identity.id, "");
    assert.equal(v.identity.title, "");
    assert.ok(v.findings.some((f) => f.code === "no-reference-number"));
    const given = ingest(read(HEADERLESS), { policyId: "CP.MP.173" }).versions[0] as PolicyVersion;
    assert.equal(given.identity.id, "CP.MP.173");
    assert.equal(given.identity.baseId, "CP.MP.173");
    assert.equal(given.identity.state, undefined);
    assert.ok(!given.findings.some((f) => f.code === "no-reference-number"));
  });
  it("takes its version from its newest revision-log entry", () => {
    // The document's own log ends with 11/25 (SPEC 1.1 calls it 11/24; the library may pin it).
    const v = ingest(read(HEADERLESS)).versions[0] as PolicyVersion;
    assert.equal(v.identity.version, "2025-11");
    assert.equal(v.identity.approved, "2025-11-01");
  });
});

describe("NC.CP.MP.173 (plain text from PDF, running headers)", () => {
  const r = ingest(read(NC));
  const v = r.versions[0] as PolicyVersion;
  it("reads section I as printed (any) and II as all", () => {
    assert.equal(tree(v, "I"), SEC_I_173.replace(/^all/, "any"));
    assert.equal(tree(v, "II"), SEC_II_173);
    assert173Details(v);
    assert.equal(text(v, "I.A.2.c").slice(0, 26), "Failure of inability to to");
    assert.equal(text(v, "I.B.3"), "Diagnosis of psychosis or disabling dementia");
    assert.equal(text(v, "II.B.2").slice(0, 24), "Active allergies or drug");
    assert.equal(text(v, "II.A.1.d"), "No known allergy or hypersensitivity to the drug being used");
  });
  it("reports the repeated labels by position and the suspect lead-in", () => {
    const f = r.findings.map((x) => [x.code, x.criterion, x.line]);
    assert.deepEqual(
      f.filter((x) => String(x[0]).startsWith("label-")),
      [
        ["label-repeated", "I.B.3", 43],
        ["label-repeated", "II.A.1.d", 57],
      ],
    );
    assert.deepEqual(
      f.filter((x) => x[0] === "leadin-suspect"),
      [["leadin-suspect", "I", 21]],
    );
    assert.deepEqual(r.unplaced, []);
  });
  it("identifies the state variant", () => {
    assert.equal(v.identity.id, "NC.CP.MP.173");
    assert.equal(v.identity.baseId, "CP.MP.173");
    assert.equal(v.identity.state, "NC");
    assert.equal(v.identity.plan, "Carolina Complete Health");
    assert.equal(v.identity.version, "2026-01");
    assert.equal(v.identity.effective, "2026-01-01");
    assert.deepEqual(v.crossReferences, []);
  });
  it("re-joins a code description and a log row cut by page headers", () => {
    assert.deepEqual(codes(v), [CPT_173, HCPCS_173]);
    const first = v.codeTables[0]?.rows[0];
    assert.match(
      first?.description ?? "",
      /not including neurolytic substances, including needle or catheter placement/,
    );
    const e = v.revisionLog[0];
    assert.equal(e?.revision, "2022-01");
    assert.match(e?.description ?? "", /weight and bulk of the device; No other implanted/);
    assert.equal(v.revisionLog.length, 6);
    assert.equal(v.references.length, 21);
  });
});

describe("LA.CP.MP.173 (redline)", () => {
  const r = ingest(read(LA));
  const [prior, proposed] = r.versions as [PolicyVersion, PolicyVersion];
  it("yields the prior and the proposed version", () => {
    assert.equal(r.versions.length, 2);
    assert.equal(prior.identity.redline, "prior");
    assert.equal(prior.identity.version, "2024-02");
    assert.equal(prior.identity.approved, "2024-08-15");
    assert.equal(prior.identity.effective, "2024-09-16");
    assert.equal(proposed.identity.redline, "proposed");
    assert.equal(proposed.identity.version, "2025-02");
    assert.equal(proposed.identity.approved, undefined);
    assert.equal(proposed.identity.effective, "2025-02-01");
    assert.notEqual(prior.hash, proposed.hash);
    for (const v of r.versions) {
      assert.equal(v.identity.id, "LA.CP.MP.173");
      assert.equal(v.identity.state, "LA");
      assert.equal(v.identity.plan, "Louisiana Healthcare Connections");
    }
  });
  it("keeps the struck criterion in the prior version only", () => {
    assert.equal(tree(prior, "I"), SEC_I_173.replace("d,e,f,g,h))", "d,e,f,g,h,i))"));
    assert.match(text(prior, "I.A.2.f"), /^Active participation in psychotherapeutic interventions/);
    assert.match(text(prior, "I.A.2.g"), /^Further surgical intervention/);
    assert.equal(
      text(prior, "I.A.2.i"),
      "Opioid induced hyperalgesia has been ruled out as a possible cause of the chronic pain symptoms",
    );
    assert.equal(tree(proposed, "I"), SEC_I_173);
    assert.match(text(proposed, "I.A.2.f"), /^Further surgical intervention/);
    assert.equal(
      text(proposed, "I.A.2.h"),
      "Opioid induced hyperalgesia has been ruled out as a possible cause of the chronic pain symptoms",
    );
    for (const v of r.versions) {
      assert.equal(tree(v, "II"), SEC_II_173);
      assert173Details(v);
    }
    assert.deepEqual(r.unplaced, []);
    assert.deepEqual(
      r.findings.map((f) => f.code),
      [],
    );
  });
  it("drops the wholly inserted log row from the prior version", () => {
    assert.deepEqual(
      prior.revisionLog.map((e) => e.revision),
      ["2020-12", "2022-02", "2023-04", "2024-02"],
    );
    assert.deepEqual(
      proposed.revisionLog.map((e) => e.revision),
      ["2020-12", "2022-02", "2023-04", "2024-02", "2025-02"],
    );
    assert.match(
      proposed.revisionLog[4]?.description ?? "",
      /II\.A\.2\.i\. with no impact to criteria\. Background/,
    );
  });
  it("reads the fee-schedule marker and the marked codes", () => {
    for (const v of r.versions) {
      assert.deepEqual(
        v.codeMarkers.map(({ marker, meaning, reviewUnderAge }) => ({ marker, meaning, reviewUnderAge })),
        [{ marker: "*", meaning: "not-on-fee-schedule", reviewUnderAge: 21 }],
      );
      assert.deepEqual(codes(v), [
        CPT_173,
        "A4300* A4301* E0782* E0783 E0785 E0786 C1772* C1755* J2274* S0093*".split(" "),
      ]);
      assert.equal(v.crossReferences[0]?.target, "LA.PHAR.149");
    }
  });
  it("keeps struck references in the prior version only", () => {
    assert.ok(prior.references.length > proposed.references.length);
    assert.ok(
      prior.references.some((x) => x.startsWith("UpToDate. www.uptodate.com. Published May 10, 2022")),
    );
    assert.ok(
      !proposed.references.some((x) => x.startsWith("UpToDate. www.uptodate.com. Published May 10, 2022")),
    );
  });
});

describe("CP.MP.126 (inconsistent indentation, code coverage tables)", () => {
  const r = ingest(read(SIJ));
  const v = r.versions[0] as PolicyVersion;
  it("reads the sections by label style", () => {
    assert.equal(tree(v, "I"), "any(A,B,C,D)");
    assert.equal(tree(v, "II"), "all(A:all?(1,2,3),B,C,D,E,F:all?(1,2,3),G,H,I)");
    assert.equal(cond(v, "II.A"), "Failure of at least six consecutive months of conservative treatment");
    assert.equal(cond(v, "II.F"), "Recent (within six months) diagnostic imaging studies");
    assert.match(text(v, "II.I"), /^Procedure will be performed using the lateral transarticular approach$/);
    assert.deepEqual(
      v.sections.map((s) => [s.id, s.kind, s.tree === undefined]),
      [
        ["I", "medically-necessary", false],
        ["II", "medically-necessary", false],
        ["III", "not-proven", true],
        ["IV", "not-proven", true],
      ],
    );
    assert.match(v.sections[2]?.text ?? "", /has not been proven for all other indications/);
    assert.deepEqual(r.unplaced, []);
  });
  it("reads coverage from the table headings", () => {
    assert.deepEqual(
      v.codeTables.map((t) => [t.coverage, t.rows.map((x) => x.code).join(" ")]),
      [
        ["supports", "27279 27280"],
        ["does-not-support", "27278"],
      ],
    );
  });
  it("identifies the version", () => {
    assert.equal(v.identity.id, "CP.MP.126");
    assert.equal(v.identity.title, "Sacroiliac Joint Fusion");
    assert.equal(v.identity.version, "2025-04");
    assert.equal(v.revisionLog.length, 6);
    assert.match(
      v.revisionLog[5]?.description ?? "",
      /no clinical significance\. Reviewed codes and descriptions/,
    );
    assert.equal(v.references.length, 32);
  });
});

describe("round trip: render → ingest keeps the hash of every version", () => {
  const cases: [string, { policyId?: string }][] = [
    [NC, {}],
    [CORP, {}],
    [HEADERLESS, {}],
    [HEADERLESS, { policyId: "CP.MP.173" }],
    [LA, {}],
    [SIJ, {}],
  ];
  for (const [file, opts] of cases) {
    it(`${file}${opts.policyId ? " with --policy" : ""}`, () => {
      for (const v of ingest(read(file), opts).versions) {
        const back = ingest(renderMarkdown(v));
        assert.equal(back.versions.length, 1);
        assert.equal(back.versions[0]?.hash, v.hash, `${v.identity.id}@${v.identity.version}`);
        assert.deepEqual(back.unplaced, []);
      }
    });
  }
});
