/**
 * Issue 15 item 5: the authoring workbench's pure helpers. The fact form and the predicate builder
 * accept exactly what the model accepts (`factDeclSchema`, `predicateProblems`), so what the author
 * saves is never refused by the server for a reason the form could have said.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type FactDecl,
  factDeclSchema,
  type Predicate,
  predicateProblems,
  predicateSchema,
  valueCheck,
} from "../../../model/index.js";
import type { AuthoringCriterion, AuthoringVersion, Determination, PolicyVersion } from "../types.js";
import {
  base64OfBytes,
  bindingsOf,
  buildTest,
  codeFormOf,
  combineTests,
  confirmProposal,
  criteriaBoundBy,
  differingCriteria,
  dismissProposal,
  type EditableBindings,
  editableBindings,
  emptyFactForm,
  exampleCase,
  exampleValue,
  FACT_TYPES,
  factFormOf,
  operatorsFor,
  predicateCheck,
  predicateText,
  putFact,
  readBindingJson,
  readCases,
  readCodeForm,
  readFactForm,
  readNumber,
  sameBindings,
  sourceLines,
} from "./authoring-model.js";

const decl = (d: Record<string, unknown>): FactDecl =>
  factDeclSchema.parse({ name: "f", description: "A fact", ...d });

const weeks = decl({ name: "painWeeks", type: "number", unit: "wk", min: 0 });
const count = decl({ name: "visits", type: "integer", min: 0 });
const flag = decl({ name: "pregnant", type: "boolean" });
const when = decl({ name: "lastMri", type: "date" });
const tumor = decl({ name: "tumorType", type: "enum", values: ["prostate", "breast"] });
const dx = decl({ name: "principalDx", type: "code", system: "icd-10-cm" });
const tests = decl({ name: "tests", type: "set", values: ["thigh thrust", "compression"], orCount: true });
const dxs = decl({ name: "diagnoses", type: "set", system: "icd-10-cm" });
const reliefs = decl({ name: "reliefs", type: "numbers", unit: "%", min: 0, max: 100 });
const ALL = [weeks, count, flag, when, tumor, dx, tests, dxs, reliefs];

const crit = (id: string, text: string, kind: AuthoringCriterion["kind"] = "leaf"): AuthoringCriterion => ({
  id,
  text,
  kind,
  line: 1,
  section: id.split(".")[0]!,
  facts: [],
});
const CRITERIA = [
  crit("B.1.a", "Lasting 12 weeks or longer"),
  crit("B.1.b", "nonspecific, in that it has no identifiable systemic cause"),
  crit("B.1.d", "not associated with pregnancy"),
  crit("B.2", "An additional 8 sessions will be covered"),
];

const bindings = (over: Partial<EditableBindings> = {}): EditableBindings => ({
  policy: "NCD.30.3.3",
  codes: [],
  facts: [],
  predicates: [],
  corrections: [],
  placements: [],
  proposed: [],
  ...over,
});

test("base64 of bytes matches node's, across chunk boundaries", () => {
  for (const n of [0, 1, 2, 3, 0x8000 - 1, 0x8000, 0x8000 * 2 + 5]) {
    const bytes = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff);
    assert.equal(base64OfBytes(bytes), Buffer.from(bytes).toString("base64"), `${n} bytes`);
  }
});

test("source lines are 1-based, CRLF folded, no phantom last line", () => {
  assert.deepEqual(sourceLines("a\r\nb\nc\n"), ["a", "b", "c"]);
  assert.deepEqual(sourceLines("one"), ["one"]);
  assert.deepEqual(sourceLines("a\n\nb"), ["a", "", "b"]);
});

test("numbers as typed: decimals only", () => {
  assert.equal(readNumber("12"), 12);
  assert.equal(readNumber(" -3.5 "), -3.5);
  assert.equal(readNumber("1e3"), 1000);
  for (const bad of ["", "0x10", "Infinity", "1.2.3", "7,5", "abc"])
    assert.ok(Number.isNaN(readNumber(bad)), bad);
});

test("fact form: each type reads to a declaration the model accepts, and back", () => {
  const forms = [
    {
      ...emptyFactForm(),
      name: "painWeeks",
      type: "number" as const,
      description: "Weeks of pain",
      unit: "wk",
      min: "0",
    },
    { ...emptyFactForm(), name: "visits", type: "integer" as const, description: "Visits so far", max: "20" },
    { ...emptyFactForm(), name: "pregnant", type: "boolean" as const, description: "Is pregnant" },
    { ...emptyFactForm(), name: "lastMri", type: "date" as const, description: "Date of last MRI" },
    { ...emptyFactForm(), name: "dx", type: "code" as const, description: "Diagnosis", system: "icd-10-cm" },
    {
      ...emptyFactForm(),
      name: "tumorType",
      type: "enum" as const,
      description: "Tumor",
      values: "prostate\nbreast, lung",
    },
    {
      ...emptyFactForm(),
      name: "tests",
      type: "set" as const,
      description: "Tests",
      values: "a\nb",
      orCount: true,
    },
    { ...emptyFactForm(), name: "dxs", type: "set" as const, description: "Diagnoses", system: "icd-10-cm" },
    {
      ...emptyFactForm(),
      name: "reliefs",
      type: "numbers" as const,
      description: "Relief",
      unit: "%",
      min: "0",
      max: "100",
    },
  ];
  assert.equal(forms.length, FACT_TYPES.length + 1);
  for (const f of forms) {
    const r = readFactForm(f, []);
    assert.deepEqual(r.errors, {}, f.name);
    assert.ok(factDeclSchema.safeParse(r.decl).success, f.name);
    assert.deepEqual(readFactForm(factFormOf(r.decl!), []).decl, r.decl, `${f.name} round trip`);
  }
  const tumorDecl = readFactForm(forms[5]!, []).decl!;
  assert.deepEqual("values" in tumorDecl && tumorDecl.values, ["prostate", "breast", "lung"]);
  // Fields a type does not take are left out, not sent (the schema is strict).
  const b = readFactForm(
    { ...emptyFactForm(), name: "x", description: "Yes or no", unit: "kg", min: "1" },
    [],
  );
  assert.deepEqual(b.decl, { name: "x", type: "boolean", description: "Yes or no" });
  // fhirPath is kept.
  const fp = readFactForm({ ...forms[0]!, fhirPath: "Observation.value" }, []);
  assert.equal(fp.decl?.fhirPath, "Observation.value");
});

test("fact form: refuses what the model refuses, by field", () => {
  const base = { ...emptyFactForm(), name: "bmi", type: "number" as const, description: "Body mass index" };
  assert.match(readFactForm({ ...base, name: "BMI" }, []).errors.name ?? "", /lower-case letter/);
  assert.match(readFactForm({ ...base, name: "" }, []).errors.name ?? "", /name/);
  assert.match(readFactForm({ ...base, description: "x" }, []).errors.description ?? "", /3 characters/);
  assert.match(readFactForm({ ...base, min: "abc" }, []).errors.min ?? "", /number/);
  assert.match(readFactForm({ ...base, min: "10", max: "5" }, []).errors.max ?? "", /below min/);
  const set = { ...base, type: "set" as const };
  assert.ok(readFactForm(set, []).errors.values, "a set takes values or a system");
  assert.ok(readFactForm({ ...set, values: "a", system: "cpt" }, []).errors.values, "not both");
  assert.match(readFactForm({ ...base, type: "enum", values: "a\na" }, []).errors.values ?? "", /twice/);
  assert.ok(readFactForm({ ...base, type: "enum" }, []).errors.values, "an enum lists values");
  assert.ok(readFactForm({ ...base, type: "code" }, []).errors.system, "a code names its system");
  // Declared already, differently (the library refuses that on load).
  const other = decl({ name: "bmi", type: "integer" });
  assert.match(readFactForm(base, [other]).errors.name ?? "", /already declared/);
  assert.deepEqual(
    readFactForm({ ...base, type: "integer" }, [{ ...other, description: "Body mass index" }]).errors,
    {},
  );
  // Everything the form refuses, the schema refuses too (never stricter than the server but for the
  // duplicate name).
  for (const f of [
    { ...base, name: "BMI" },
    { ...base, description: "x" },
    { ...base, min: "10", max: "5" },
  ]) {
    const raw = {
      name: f.name,
      type: f.type,
      description: f.description,
      ...(f.min && { min: Number(f.min) }),
      ...(f.max && { max: Number(f.max) }),
    };
    assert.equal(factDeclSchema.safeParse(raw).success, false, JSON.stringify(raw));
  }
});

test("putFact replaces by name (a rename too) or appends", () => {
  const b = bindings({ facts: [weeks, flag] });
  const renamed = { ...weeks, name: "painDuration" };
  assert.deepEqual(
    putFact(b, renamed, "painWeeks").facts.map((d) => d.name),
    ["painDuration", "pregnant"],
  );
  assert.deepEqual(
    putFact(b, tumor).facts.map((d) => d.name),
    ["painWeeks", "pregnant", "tumorType"],
  );
  assert.equal(b.facts.length, 2, "the original is untouched");
});

test("operators offered for each type are exactly those the model accepts", () => {
  const sample: Record<string, { a: string; b?: string; unit?: string }> = {};
  const input = (d: FactDecl, operand: string) => {
    const v = exampleValue(d, "2026-03-01");
    const one = Array.isArray(v) ? String(v[0]) : String(v);
    if (operand === "range")
      return d.type === "date" ? { a: "2026-01-01", b: "2026-03-01" } : { a: "1", b: "5" };
    if (operand === "span") return { a: "6", unit: "months" };
    if (operand === "count") return { a: "2" };
    if (operand === "countAtLeast") return { a: "50", b: "2" };
    return sample[d.name] ?? { a: one };
  };
  for (const d of ALL) {
    const ops = operatorsFor(d);
    assert.ok(ops.length > 0, d.type);
    for (const op of ops) {
      const r = buildTest(d, op.key, input(d, op.operand));
      assert.equal(r.error, undefined, `${d.type} ${op.key}: ${r.error}`);
      assert.ok(predicateSchema.safeParse(r.predicate).success, `${d.type} ${op.key} schema`);
      assert.deepEqual(predicateProblems(r.predicate!, new Map([[d.name, d]])), [], `${d.type} ${op.key}`);
    }
  }
  // Not offered where the model refuses them.
  const keys = (d: FactDecl) => operatorsFor(d).map((o) => o.key);
  assert.deepEqual(keys(flag), ["==", "!="]);
  assert.ok(!keys(tumor).includes(">"));
  assert.ok(!keys(tests).includes("=="));
  assert.ok(keys(when).includes("within"));
  assert.ok(!keys(weeks).includes("within"));
});

test("building tests: values read as the fact's type, refusals in words", () => {
  assert.deepEqual(buildTest(weeks, ">=", { a: "12" }).predicate, { fact: "painWeeks", op: ">=", value: 12 });
  assert.deepEqual(buildTest(flag, "==", { a: "false" }).predicate, {
    fact: "pregnant",
    op: "==",
    value: false,
  });
  assert.deepEqual(buildTest(tumor, "in", { a: "prostate, breast" }).predicate, {
    fact: "tumorType",
    in: ["prostate", "breast"],
  });
  assert.deepEqual(buildTest(dxs, "includes", { a: "m43.1*" }).predicate, {
    fact: "diagnoses",
    includes: "M43.1*",
  });
  assert.deepEqual(buildTest(when, "within", { a: "6", unit: "months" }).predicate, {
    fact: "lastMri",
    within: { n: 6, unit: "months" },
  });
  assert.deepEqual(buildTest(reliefs, "countAtLeast", { a: "50", b: "2" }).predicate, {
    fact: "reliefs",
    countAtLeast: 50,
    min: 2,
  });
  assert.deepEqual(buildTest(tests, "count>=", { a: "2" }).predicate, {
    fact: "tests",
    count: ">=",
    value: 2,
  });
  assert.match(buildTest(weeks, ">=", { a: "twelve" }).error ?? "", /not a number/);
  assert.match(buildTest(weeks, ">=", { a: "" }).error ?? "", /Enter a value/);
  assert.match(buildTest(tumor, "==", { a: "lung" }).error ?? "", /not one of/);
  assert.match(buildTest(dx, "==", { a: "12345" }).error ?? "", /not a code of ICD-10-CM/);
  assert.match(buildTest(weeks, "between", { a: "5", b: "1" }).error ?? "", /low end/);
  assert.match(buildTest(when, "==", { a: "2026-02-30" }).error ?? "", /not a date/);
  assert.match(buildTest(flag, ">", { a: "true" }).error ?? "", /does not apply/);
  assert.match(buildTest(when, "within", { a: "1.5" }).error ?? "", /whole number/);
});

test("combining tests: one as it is, several with all/any, not where asked", () => {
  const a: Predicate = { fact: "painWeeks", op: ">=", value: 12 };
  const b: Predicate = { fact: "pregnant", op: "==", value: true };
  assert.equal(combineTests([], "all"), undefined);
  assert.deepEqual(combineTests([{ predicate: a, negate: false }], "any"), a);
  assert.deepEqual(
    combineTests(
      [
        { predicate: a, negate: false },
        { predicate: b, negate: true },
      ],
      "all",
    ),
    {
      all: [a, { not: b }],
    },
  );
  assert.deepEqual(
    combineTests(
      [
        { predicate: a, negate: false },
        { predicate: b, negate: false },
      ],
      "any",
    ),
    {
      any: [a, b],
    },
  );
  assert.equal(predicateText({ all: [a, { not: b }] }), "all of (painWeeks ≥ 12; not (pregnant = true))");
  assert.equal(
    predicateText({ fact: "lastMri", within: { n: 1, unit: "years" } }),
    "lastMri within 1 year before the date of service",
  );
});

test("a predicate binds the criteria whose folded text contains its match", () => {
  assert.deepEqual(
    criteriaBoundBy("lasting 12 weeks or longer;", CRITERIA).map((c) => c.id),
    ["B.1.a"],
  );
  assert.deepEqual(
    criteriaBoundBy("the pregnancy", CRITERIA).map((c) => c.id),
    ["B.1.d"],
  );
  assert.deepEqual(criteriaBoundBy("!!!", CRITERIA), []);
  const preds = [
    {
      match: "Lasting 12 weeks or longer",
      when: { fact: "painWeeks", op: ">=" as const, value: 12 },
      mode: "decides" as const,
    },
    { match: "weeks", when: { fact: "painWeeks", op: ">" as const, value: 0 }, mode: "refutes" as const },
  ];
  assert.deepEqual(bindingsOf(CRITERIA[0]!, preds), [0, 1]);
  assert.deepEqual(bindingsOf(CRITERIA[1]!, preds), []);
});

test("a predicate binding as JSON: the server's checks, in words", () => {
  const ok = readBindingJson(
    '{"match":"Lasting 12 weeks or longer","when":{"fact":"painWeeks","op":">=","value":12}}',
    [weeks],
    CRITERIA,
  );
  assert.equal(ok.error, undefined);
  assert.equal(ok.binding?.mode, "decides", "mode defaults to decides");
  assert.equal(ok.warning, undefined);
  assert.match(readBindingJson("{", [weeks], CRITERIA).error ?? "", /Not JSON/);
  assert.match(
    readBindingJson('{"match":"Lasting","when":{"fact":"bmi","op":">=","value":35}}', [weeks], CRITERIA)
      .error ?? "",
    /"bmi" is not declared/,
  );
  assert.match(
    readBindingJson(
      '{"match":"Lasting","when":{"fact":"painWeeks","op":">=","value":"12"}}',
      [weeks],
      CRITERIA,
    ).error ?? "",
    /compare with a number/,
  );
  assert.ok(
    readBindingJson('{"match":"xy","when":{"fact":"painWeeks","op":">=","value":1}}', [weeks], CRITERIA)
      .error,
  );
  assert.match(
    readBindingJson(
      '{"match":"no such words","when":{"fact":"painWeeks","op":">=","value":1}}',
      [weeks],
      CRITERIA,
    ).warning ?? "",
    /binds no criterion/,
  );
  assert.equal(
    predicateCheck({ fact: "painWeeks", op: "~", value: 1 }, [weeks])?.startsWith("Not a predicate"),
    true,
  );
});

test("code bindings: confirm moves a proposal to codes, dismiss marks it; the form reads codes", () => {
  const proposal = {
    status: "unconfirmed" as const,
    codes: ["97810", "97811"],
    system: "CPT",
    coverage: "supports" as const,
    basis: "CPT table",
    line: 40,
    confidence: "stated" as const,
  };
  const b = bindings({ proposed: [proposal] });
  assert.match(confirmProposal(b, 0).error ?? "", /Choose the section/);
  const c = confirmProposal(b, 0, "B").bindings!;
  assert.deepEqual(c.proposed, []);
  assert.deepEqual(c.codes[0]?.codes, ["97810", "97811"]);
  assert.equal("section" in c.codes[0]! && c.codes[0].section, "B");
  assert.equal(b.proposed.length, 1, "the original is untouched");
  assert.equal(
    confirmProposal(bindings({ proposed: [{ ...proposal, section: "C" }] }), 0).bindings?.codes[0] && "C",
    "C",
  );
  assert.equal(dismissProposal(b, 0).proposed[0]?.status, "dismissed");

  const form = { codes: "97810 97811,97810", section: "B", otherwise: "", excludedBy: "", why: "" };
  assert.deepEqual(readCodeForm(form, ["B", "C"]).binding, { codes: ["97810", "97811"], section: "B" });
  assert.deepEqual(readCodeForm({ ...form, section: "coding-only", why: "routing" }, ["B"]).binding, {
    codes: ["97810", "97811"],
    codingOnly: true,
    why: "routing",
  });
  assert.match(readCodeForm({ ...form, codes: "9781" }, ["B"]).errors.codes ?? "", /not a CPT or HCPCS/);
  assert.match(readCodeForm({ ...form, codes: " " }, ["B"]).errors.codes ?? "", /at least one/);
  assert.match(readCodeForm({ ...form, section: "Z" }, ["B"]).errors.section ?? "", /not a section/);
  assert.match(readCodeForm({ ...form, otherwise: "Z" }, ["B"]).errors.otherwise ?? "", /not a section/);
  assert.deepEqual(codeFormOf({ codes: ["97810"], section: "B", otherwise: "C" }), {
    codes: "97810",
    section: "B",
    otherwise: "C",
    excludedBy: "",
    why: "",
  });
  // Exclusion lists evaluated with the section (bindings excludedBy): sections of the version, not itself.
  assert.deepEqual(readCodeForm({ ...form, excludedBy: "C" }, ["B", "C"]).binding, {
    codes: ["97810", "97811"],
    section: "B",
    excludedBy: ["C"],
  });
  assert.match(readCodeForm({ ...form, excludedBy: "Z" }, ["B"]).errors.excludedBy ?? "", /not a section/);
  assert.match(
    readCodeForm({ ...form, excludedBy: "B" }, ["B"]).errors.excludedBy ?? "",
    /cannot exclude itself/,
  );
  assert.equal(codeFormOf({ codes: ["97810"], section: "B", excludedBy: ["C", "D"] }).excludedBy, "C,D");
});

test("editable bindings copy the version's, and compare by content", () => {
  const v = {
    id: "NCD.30.3.3",
    bindings: {
      authored: { policy: "NCD.30.3.3", codes: [], facts: [weeks], predicates: [], corrections: [] },
      proposed: [],
    },
  } as unknown as AuthoringVersion;
  const b = editableBindings(v);
  assert.ok(sameBindings(b, editableBindings(v)));
  b.facts.push(flag);
  assert.equal(v.bindings.authored.facts.length, 1, "a deep copy");
  assert.ok(!sameBindings(b, editableBindings(v)));
});

const POLICY = {
  sections: [
    {
      id: "B",
      label: "B",
      kind: "medically-necessary",
      text: "",
      line: 1,
      tree: {
        kind: "all",
        id: "B",
        label: "B",
        text: "",
        line: 1,
        children: [
          { kind: "leaf", id: "B.1.a", label: "a", text: "Lasting 12 weeks or longer", line: 2 },
          {
            kind: "none",
            id: "B.9",
            label: "9",
            text: "none of",
            line: 3,
            children: [{ kind: "leaf", id: "B.9.a", label: "a", text: "Metastatic disease", line: 4 }],
          },
        ],
      },
    },
  ],
} as unknown as PolicyVersion;

test("the example case answers favourably, leaves fact-decided criteria to an example fact", () => {
  const v = {
    policy: POLICY,
    criteria: [
      crit("B.1.a", "Lasting 12 weeks or longer"),
      crit("B.9.a", "Metastatic disease"),
      crit("B.1.a.note", "Pregnant", "note"),
    ],
  };
  const b = bindings({
    codes: [{ codes: ["97810"], section: "B" }],
    facts: [weeks],
    predicates: [
      {
        match: "Lasting 12 weeks or longer",
        when: { fact: "painWeeks", op: ">=", value: 12 },
        mode: "decides",
      },
    ],
  });
  const c = exampleCase(v, b, [weeks], "2026-03-01") as {
    service: { codes: string[]; dateOfService: string };
    answers: Record<string, boolean>;
    facts: Record<string, unknown>;
  };
  assert.deepEqual(c.service, { codes: ["97810"], dateOfService: "2026-03-01" });
  assert.deepEqual(c.answers, { "B.9.a": false, "B.1.a.note": false });
  assert.deepEqual(c.facts, { painWeeks: 0 });
  // Without predicates, every criterion is answered.
  assert.deepEqual(
    Object.keys((exampleCase(v, bindings(), [], "2026-03-01") as { answers: object }).answers),
    ["B.1.a", "B.9.a", "B.1.a.note"],
  );
  for (const d of ALL) assert.ok(valueCheck(d)(exampleValue(d, "2026-03-01")), `${d.type} example is valid`);
});

test("the try box reads one case or a list of at most 50", () => {
  assert.equal(readCases('{"member":{}}').cases?.length, 1);
  assert.equal(readCases("[{},{}]").cases?.length, 2);
  assert.match(readCases("[]").error ?? "", /at least one/);
  assert.match(readCases("[1]").error ?? "", /Case 1 is not an object/);
  assert.match(readCases(JSON.stringify(new Array(51).fill({}))).error ?? "", /At most 50/);
  assert.match(readCases("{").error ?? "", /Not JSON/);
});

test("differing criteria between the draft's and the in-force determination", () => {
  const det = (statuses: Record<string, string>): Determination =>
    ({
      outcome: "approved",
      reasons: [],
      needed: [],
      engine: "x",
      lines: [
        {
          code: "97810",
          outcome: "approved",
          basis: "",
          reasons: [],
          needed: [],
          trace: {
            id: "B",
            kind: "all",
            text: "B",
            status: statuses.B,
            source: { kind: "computed" },
            children: Object.entries(statuses)
              .filter(([k]) => k !== "B")
              .map(([id, status]) => ({ id, kind: "leaf", text: id, status, source: { kind: "none" } })),
          },
        },
      ],
    }) as unknown as Determination;
  const d = differingCriteria(
    det({ B: "not-met", "B.1.a": "not-met", "B.1.b": "met", "B.5": "met" }),
    det({ B: "met", "B.1.a": "met", "B.1.b": "met", "B.6": "met" }),
  );
  assert.deepEqual(
    d.map((x) => [x.id, x.draft, x.inForce]),
    [
      ["B", "not-met", "met"],
      ["B.1.a", "not-met", "met"],
      ["B.5", "met", undefined],
      ["B.6", undefined, "met"],
    ],
  );
});
