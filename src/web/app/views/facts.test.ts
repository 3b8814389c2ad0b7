/**
 * Issue 15 item 2: the facts form reads each input as the fact's declaration says, and accepts exactly
 * what the server's check (`valueCheck`) accepts; empty is "unknown".
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type FactDecl, factDeclSchema, valueCheck } from "../../../model/index.js";
import { declaredFacts, factText, parseFact, parseFactCount } from "./facts.js";

const decl = (d: Record<string, unknown>): FactDecl =>
  factDeclSchema.parse({ name: "f", description: "A fact", ...d });

const bool = decl({ type: "boolean" });
const pct = decl({ type: "number", unit: "%", min: 0, max: 100 });
const weeks = decl({ type: "integer", unit: "wk", min: 0 });
const date = decl({ type: "date" });
const icd = decl({ type: "code", system: "icd-10-cm" });
const cpt = decl({ type: "code", system: "cpt" });
const tumor = decl({ type: "enum", values: ["prostate", "breast", "lung"] });
const tests = decl({ type: "set", values: ["thigh thrust", "compression", "distraction"], orCount: true });
const tags = decl({ type: "set", values: ["a", "b"] });
const dx = decl({ type: "set", system: "icd-10-cm" });
const dxCount = decl({ type: "set", system: "icd-10-cm", orCount: true });
const reliefs = decl({ type: "numbers", unit: "%", min: 0, max: 100 });
const any = decl({ type: "numbers" });

/** Every value parseFact returns is one the server accepts. */
function ok(d: FactDecl, raw: string | string[], want: unknown): void {
  const r = parseFact(d, raw);
  assert.equal(r.error, undefined, `${JSON.stringify(raw)}: ${r.error}`);
  assert.deepEqual(r.value, want, JSON.stringify(raw));
  if (want !== undefined) assert.ok(valueCheck(d)(r.value), `server accepts ${JSON.stringify(r.value)}`);
}

function refused(d: FactDecl, raw: string | string[], message?: RegExp): void {
  const r = parseFact(d, raw);
  assert.equal(r.value, undefined, `${JSON.stringify(raw)} gave ${JSON.stringify(r.value)}`);
  assert.ok(r.error, `${JSON.stringify(raw)} is refused`);
  if (message) assert.match(r.error, message);
}

test("empty is unknown, whatever the type", () => {
  for (const d of [bool, pct, weeks, date, icd, tumor, tests, dx, reliefs]) {
    assert.deepEqual(parseFact(d, ""), {});
    assert.deepEqual(parseFact(d, "   "), {});
  }
  assert.deepEqual(parseFact(tests, []), {});
  assert.deepEqual(parseFactCount(tests, " "), {});
});

test("boolean: yes / no", () => {
  ok(bool, "yes", true);
  ok(bool, "no", false);
  ok(bool, "True", true);
  refused(bool, "maybe", /Yes, No or Unknown/);
});

test("number: decimal, its range and unit in the error", () => {
  ok(pct, "60", 60);
  ok(pct, " 72.5 ", 72.5);
  ok(pct, "0", 0);
  ok(pct, "100", 100);
  ok(pct, "1e1", 10);
  refused(pct, "150", /from 0 to 100 \(%\)/);
  refused(pct, "-1", /from 0 to 100/);
  refused(pct, "abc", /a number \(%\)/);
  refused(pct, "0x10");
  refused(pct, "Infinity");
  refused(pct, "7,5");
  refused(pct, "1.2.3");
});

test("integer: whole numbers only", () => {
  ok(weeks, "6", 6);
  refused(weeks, "4.5", /whole number of at least 0 \(wk\)/);
  refused(weeks, "-2", /at least 0/);
});

test("date: a real calendar date YYYY-MM-DD", () => {
  ok(date, "2026-02-28", "2026-02-28");
  ok(date, "2024-02-29", "2024-02-29");
  refused(date, "2026-02-29", /YYYY-MM-DD/);
  refused(date, "2026-2-1");
  refused(date, "yesterday");
});

test("code: upper-cased and checked against the system's pattern", () => {
  ok(icd, "m43.16", "M43.16");
  ok(icd, "M4316", "M4316");
  ok(cpt, "27279", "27279");
  refused(icd, "12345", /not a valid ICD-10-CM code \(e\.g\. M43\.16\)/);
  refused(cpt, "2727", /CPT/);
  refused(icd, "M43.16; DROP", /ICD-10-CM/);
});

test("enum: one of the declared values, exactly", () => {
  ok(tumor, "breast", "breast");
  refused(tumor, "Breast", /one of: prostate, breast, lung/);
  refused(tumor, "kidney");
});

test("set of values: ticked values in the declared order, each once; a count where allowed", () => {
  ok(tests, ["distraction", "thigh thrust"], ["thigh thrust", "distraction"]);
  ok(tests, "compression, thigh thrust", ["thigh thrust", "compression"]);
  refused(tests, ["palpation"], /not one of/);
  refused(tests, "thigh thrust, palpation", /“palpation”/);
  refused(tags, ["c"]);
  assert.deepEqual(parseFactCount(tests, "2"), { value: 2 });
  assert.deepEqual(parseFactCount(tests, "0"), { value: 0 });
  assert.match(parseFactCount(tests, "4").error ?? "", /from 0 to 3/);
  assert.match(parseFactCount(tests, "1.5").error ?? "", /whole number/);
  assert.match(parseFactCount(tests, "-1").error ?? "", /whole number/);
  assert.ok(parseFactCount(tags, "1").error, "a set without orCount takes no count");
  assert.ok(valueCheck(tests)(2));
});

test("set of codes: comma-separated, each checked, upper-cased, each once", () => {
  ok(dx, "m43.16, G89.4,m43.16", ["M43.16", "G89.4"]);
  ok(dx, " , ", undefined);
  refused(dx, "M43.16, 99999", /“99999” is not a valid ICD-10-CM code/);
  assert.match(parseFactCount(dxCount, "x").error ?? "", /at least 0/);
  assert.deepEqual(parseFactCount(dxCount, "12"), { value: 12 });
});

test("numbers: comma-separated measurements, each in range", () => {
  ok(reliefs, "80, 75", [80, 75]);
  ok(reliefs, "80,,75,", [80, 75]);
  ok(any, "-3, 1e3", [-3, 1000]);
  refused(reliefs, "80, 150", /from 0 to 100 \(%\): “150” is not/);
  refused(reliefs, "80; 75", /“80; 75”/);
});

test("a stored value as its input shows it", () => {
  assert.equal(factText(reliefs, [80, 75]), "80, 75");
  assert.equal(factText(pct, 60), "60");
  assert.equal(factText(tests, 3), "", "a count shows in the how-many input");
  assert.equal(factText(dx, ["M43.16", "G89.4"]), "M43.16, G89.4");
  assert.equal(factText(date, undefined), "");
});

test("the declarations of the loaded versions, by name, first one first", () => {
  const ui = (facts: FactDecl[]) => ({ ui: { facts } }) as never;
  const a = decl({ name: "bmi", type: "number", unit: "kg/m2" });
  const b = decl({ name: "bmi", type: "integer" });
  const c = decl({ name: "tumorType", type: "enum", values: ["x"] });
  const got = declaredFacts(
    new Map([
      ["A@1", ui([a, c])],
      ["B@1", ui([b])],
    ]),
  );
  assert.deepEqual(
    got.map((d) => [d.name, d.type]),
    [
      ["bmi", "number"],
      ["tumorType", "enum"],
    ],
  );
});
