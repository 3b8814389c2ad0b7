/**
 * The CLI on bad and hostile input (issue 3): truncated JSON, wrong types, malformed codes, impossible
 * dates each exit 2 naming the field; fuzzed cases never crash it; the same case gives byte-identical
 * output (determinism).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ROOT } from "./suite/cases.js";

const BIN = join(ROOT, "bin", "medpolicy.js");
function cli(args: string[], input: string) {
  return spawnSync(process.execPath, [BIN, ...args], { input, encoding: "utf8", maxBuffer: 1 << 28 });
}

const VALID = {
  id: "robust-1",
  member: { state: "TX", birthDate: "1960-05-01", lineOfBusiness: "medicaid" },
  service: { codes: ["62322"], dateOfService: "2026-03-01" },
  answers: { "I.A.1": true, "I.A.1.a": true, "I.A.1.b": true, "I.A.1.c": true },
};

describe("bad input names the field and exits 2", () => {
  const cases: [string, string, RegExp][] = [
    ["truncated JSON", JSON.stringify(VALID).slice(0, 40), /malformed JSON/],
    ["a wrong type", JSON.stringify({ ...VALID, answers: { "I.A.1": "yes" } }), /answers\.I\.A\.1/],
    [
      "a malformed code",
      JSON.stringify({ ...VALID, service: { ...VALID.service, codes: ["62A!2"] } }),
      /service\.codes\.0/,
    ],
    [
      "a date that is not a date",
      JSON.stringify({ ...VALID, service: { ...VALID.service, dateOfService: "2026-02-30" } }),
      /service\.dateOfService/,
    ],
    ["an unknown criterion id", JSON.stringify({ ...VALID, answers: { "I.Z.9": true } }), /answers\.I\.Z\.9/],
    ["an unknown field", JSON.stringify({ ...VALID, extra: 1 }), /extra/],
    ["a missing member", JSON.stringify({ service: VALID.service }), /member/],
    // As the service refuses them (issue 13): the last key would have won — here "no active infection"
    // over "active infection", an approval instead of a denial.
    [
      "a key repeated within one object",
      JSON.stringify({ ...VALID, answers: { ...VALID.answers, "I.B.4": true } }).replace(
        /\}\}$/,
        ',"I.B.4":false}}',
      ),
      /answers\.I\.B\.4: key "I\.B\.4" appears twice/,
    ],
    [
      "a prototype-poisoning key",
      JSON.stringify(VALID).replace('"answers":{', '"answers":{"__proto__":true,'),
      /__proto__.*could poison prototypes/,
    ],
  ];
  for (const [name, input, field] of cases) {
    it(name, () => {
      const r = cli(["evaluate", "-", "--json"], input);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, field);
    });
  }
});

describe("a date option that is not a calendar date is bad input naming it", () => {
  for (const args of [
    ["policies", "--today", "garbage"],
    ["policies", "--today", "2026-02-30"],
    ["show", "CP.MP.173", "--today", "2025-11-00"],
    ["evaluate", "-", "--today", "2026-13-01"],
    ["impact", "CP.MP.173@2024-11", "--from", "2026-02-30"],
  ]) {
    it(args.join(" "), () => {
      const r = cli(args, JSON.stringify(VALID));
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${args.at(-2)} must be a date YYYY-MM-DD`));
    });
  }
});

describe("arguments", () => {
  it("evaluate takes one FILE: a second is bad input, not ignored", () => {
    const r = cli(["evaluate", "-", "-"], JSON.stringify(VALID));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /evaluate takes one FILE/);
  });
  it("schema takes --json (SPEC 3: every subcommand does)", () => {
    const r = cli(["schema", "CP.MP.173", "--json"], "");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).type, "object");
  });
});

describe("a case file that cannot be read is bad input naming it", () => {
  for (const [name, file] of [
    ["a missing file", join(ROOT, "no-such-case.json")],
    ["a folder", ROOT],
  ]) {
    it(name, () => {
      const r = cli(["evaluate", file!, "--json"], "");
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /cannot read/);
      assert.ok(r.stderr.includes(file!), r.stderr);
      assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/);
    });
  }
});

describe("robustness", () => {
  it("a repeated key in one line of NDJSON refuses that line only (exit 2), naming the line and the key", () => {
    const dup = JSON.stringify(VALID).replace(
      '"lineOfBusiness":"medicaid"',
      '"lineOfBusiness":"medicaid","state":"LA"',
    );
    const r = cli(
      ["evaluate", "-", "--json"],
      `${JSON.stringify(VALID)}\n${dup}\n${JSON.stringify(VALID)}\n`,
    );
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.equal(lines[1].line, 2);
    assert.equal(lines[1].error.where.field, "member.state");
    assert.match(r.stderr, /line 2: member\.state: key "state" appears twice/);
    assert.equal(lines[2].id, "robust-1");
  });

  it("a byte-order mark before the first case is skipped, for one case and for NDJSON", () => {
    const one = cli(["evaluate", "-", "--json"], `\ufeff${JSON.stringify(VALID, null, 2)}`);
    assert.equal(one.status, 0, one.stderr);
    assert.equal(JSON.parse(one.stdout).id, "robust-1");
    const many = cli(
      ["evaluate", "-", "--json"],
      `\ufeff${JSON.stringify(VALID)}\n${JSON.stringify(VALID)}\n`,
    );
    assert.equal(many.status, 0, many.stderr);
    assert.equal(many.stdout.trim().split("\n").length, 2);
  });

  it("fuzzed cases (NDJSON, one process) never crash the CLI: every line answers, exit 0/1/2", () => {
    const text = JSON.stringify(VALID);
    const mutated = fc.sample(
      fc.oneof(
        fc.tuple(fc.nat(text.length), fc.nat(text.length), fc.string({ maxLength: 8 })).map(([a, b, s]) => {
          const [i, j] = a < b ? [a, b] : [b, a];
          return text.slice(0, i) + s + text.slice(j);
        }),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.anything().map((v) => JSON.stringify({ ...VALID, answers: { "I.A.1": v } }) ?? "null"),
      ),
      { numRuns: 400, seed: 42 },
    );
    const lines = mutated.map((m) => m.replace(/[\r\n]/g, " ")).filter((m) => m.trim() !== "");
    // The first line must be valid JSON so the input is read as NDJSON.
    const r = cli(["evaluate", "-", "--json", "--no-trace"], [text, ...lines].join("\n"));
    assert.ok([0, 1, 2].includes(r.status ?? -1), `exit ${r.status} ${r.stderr.slice(-300)}`);
    const out = r.stdout.trim().split("\n");
    assert.equal(out.length, lines.length + 1, "one output line per input line");
    for (const o of out) {
      const v = JSON.parse(o);
      assert.ok("outcome" in v || "error" in v);
    }
  });

  it("the same case gives byte-identical output", () => {
    const a = cli(["evaluate", "-", "--json"], JSON.stringify(VALID));
    const b = cli(["evaluate", "-", "--json"], JSON.stringify(VALID));
    assert.equal(a.status, 0);
    assert.equal(a.stdout, b.stdout);
  });
});
