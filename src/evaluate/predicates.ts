/**
 * Typed fact predicates compiled to closures (SPEC 2.3). A predicate decides a criterion from facts;
 * a missing fact, or one of the wrong type, leaves it unknown — nothing is guessed.
 */
import {
  type Comparison,
  codeCovers,
  type Facts,
  factTests,
  normalizeCode,
  type Predicate,
  type PredicateBinding,
  type Span,
  type Vocabulary,
} from "../model/index.js";
import { type DayKey, minusDays, minusMonths, parseDay } from "./dates.js";
import * as Tri3 from "./tri.js";
import { and, fromBoolean, not, or, type Tri } from "./tri.js";

// Module-local copies of imported constants (see run.ts: imported bindings are slower to read).
const { F, U, T } = Tri3;

/** A compiled predicate: the facts of the case and its date of service (a {@link DayKey}). */
export type FactTest = (facts: Facts, dos: DayKey) => Tri;

function compare<V extends number | string>(a: V, op: Comparison, b: V): boolean {
  switch (op) {
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case "==":
      return a === b;
    case "!=":
      return a !== b;
  }
}

function get(facts: Facts, name: string): unknown {
  return (facts as Record<string, unknown>)[name];
}

/** The fact names a predicate reads (for the trace's `source`). */
export function factsOf(p: Predicate, out: string[] = []): string[] {
  for (const t of factTests(p)) if (!out.includes(t.fact)) out.push(t.fact);
  return out;
}

/** Whether a predicate compares dates with the date of service (so it must be valid). */
export function usesDates(p: Predicate): boolean {
  return factTests(p).some(
    (t) => "within" in t || "before" in t || "withinMonths" in t || "monthsBeforeAtLeast" in t,
  );
}

/** The date of service minus a span, by calendar (months and years clamp to the month's end). */
function minusSpan(dos: DayKey, s: Span): DayKey {
  return s.unit === "days" ? minusDays(dos, s.n) : minusMonths(dos, s.unit === "years" ? s.n * 12 : s.n);
}

/** A fact's date as a {@link DayKey}, or `undefined`. */
function dayOf(facts: Facts, name: string): DayKey | undefined {
  const v = get(facts, name);
  return typeof v === "string" ? parseDay(v) : undefined;
}

/**
 * Compiles one predicate to a closure; each shape of {@link Predicate} has its own case. The
 * vocabulary gives code facts their system (codes compare as their system compares them); a fact of
 * another type than the test expects is unknown, never coerced (cases are checked before, SPEC 2.3).
 */
export function compilePredicate(p: Predicate, vocabulary?: Vocabulary): FactTest {
  if ("all" in p) {
    const parts = p.all.map((q) => compilePredicate(q, vocabulary));
    return (facts, dos) => {
      let v: Tri = T;
      for (const part of parts) {
        v = and(v, part(facts, dos));
        if (v === F) break;
      }
      return v;
    };
  }
  if ("firstKnown" in p) {
    // Alternative evidence (months counted, or a start date): a missing alternative is no evidence.
    const parts = p.firstKnown.map((q) => compilePredicate(q, vocabulary));
    return (facts, dos) => {
      for (const part of parts) {
        const v = part(facts, dos);
        if (v !== U) return v;
      }
      return U;
    };
  }
  if ("any" in p) {
    const parts = p.any.map((q) => compilePredicate(q, vocabulary));
    return (facts, dos) => {
      let v: Tri = F;
      for (const part of parts) {
        v = or(v, part(facts, dos));
        if (v === T) break;
      }
      return v;
    };
  }
  if ("not" in p) {
    const inner = compilePredicate(p.not, vocabulary);
    return (facts, dos) => not(inner(facts, dos));
  }
  const name = p.fact;
  const decl = vocabulary?.get(name);
  const system = decl && "system" in decl ? decl.system : undefined;
  const norm = (s: string) => normalizeCode(system, s);
  if ("op" in p) {
    const { op, value } = p;
    if (typeof value === "boolean") {
      // Booleans compare only for (in)equality: `== true`, `!= false`.
      return (facts) => {
        const v = get(facts, name);
        if (typeof v !== "boolean") return U;
        return fromBoolean(op === "!=" ? v !== value : v === value);
      };
    }
    if (typeof value === "number") {
      return (facts) => {
        const v = get(facts, name);
        return typeof v === "number" ? fromBoolean(compare(v, op, value)) : U;
      };
    }
    // Strings: dates compare as days; enum values and codes (normalized) for (in)equality.
    const day = parseDay(value);
    if (decl?.type === "date" || (decl === undefined && day !== undefined)) {
      return (facts) => {
        const d = dayOf(facts, name);
        return d === undefined || day === undefined ? U : fromBoolean(compare(d, op, day));
      };
    }
    const want = norm(value);
    return (facts) => {
      const v = get(facts, name);
      return typeof v === "string" ? fromBoolean(compare(norm(v), op, want)) : U;
    };
  }
  if ("in" in p) {
    const nums = p.in.filter((x): x is number => typeof x === "number");
    const codes = p.in.filter((x): x is string => typeof x === "string").map(norm);
    // Of the declared type only (issue 15 review): a string against numbers, or a number against
    // codes, is unknown — never "not in", which `not` would turn into met.
    const numeric = decl ? decl.type === "number" || decl.type === "integer" : nums.length > 0;
    return (facts) => {
      const v = get(facts, name);
      if (numeric) return typeof v === "number" ? fromBoolean(nums.includes(v)) : U;
      if (typeof v !== "string") return U;
      const c = norm(v);
      return fromBoolean(codes.some((pat) => codeCovers(pat, c)));
    };
  }
  if ("includes" in p || "includesAll" in p || "includesAny" in p || "excludes" in p) {
    const wanted = (
      "includes" in p
        ? [p.includes]
        : "includesAll" in p
          ? p.includesAll
          : "includesAny" in p
            ? p.includesAny
            : p.excludes
    ).map(norm);
    const mode = "includesAny" in p ? "any" : "excludes" in p ? "none" : "all";
    return (facts) => {
      const v = get(facts, name);
      if (!Array.isArray(v)) return U;
      const held: string[] = [];
      for (const x of v) {
        if (typeof x !== "string") return U;
        held.push(norm(x));
      }
      const has = (pat: string) => held.some((c) => codeCovers(pat, c));
      if (mode === "all") return fromBoolean(wanted.every(has));
      if (mode === "any") return fromBoolean(wanted.some(has));
      return fromBoolean(!wanted.some(has));
    };
  }
  if ("between" in p) {
    const [lo, hi] = p.between;
    if (typeof lo === "number") {
      const h = hi as number;
      return (facts) => {
        const v = get(facts, name);
        return typeof v === "number" ? fromBoolean(v >= lo && v <= h) : U;
      };
    }
    const a = parseDay(lo);
    const b = parseDay(hi as string);
    return (facts) => {
      const d = dayOf(facts, name);
      return d === undefined || a === undefined || b === undefined ? U : fromBoolean(d >= a && d <= b);
    };
  }
  if ("within" in p || "withinMonths" in p) {
    const s: Span = "within" in p ? p.within : { n: p.withinMonths, unit: "months" };
    return (facts, dos) => {
      const day = dayOf(facts, name);
      if (day === undefined) return U;
      // On or after DOS minus the span ("six months to the day" is within), and not after DOS.
      return fromBoolean(day >= minusSpan(dos, s) && day <= dos);
    };
  }
  if ("before" in p || "monthsBeforeAtLeast" in p) {
    const s: Span = "before" in p ? p.before : { n: p.monthsBeforeAtLeast, unit: "months" };
    return (facts, dos) => {
      const day = dayOf(facts, name);
      return day === undefined ? U : fromBoolean(day <= minusSpan(dos, s));
    };
  }
  if ("count" in p) {
    const { count, value } = p;
    return (facts) => {
      const v = get(facts, name);
      const n = Array.isArray(v) ? v.length : typeof v === "number" ? v : undefined;
      return n === undefined ? U : fromBoolean(compare(n, count, value));
    };
  }
  const { countAtLeast, min } = p;
  return (facts) => {
    const v = get(facts, name);
    if (!Array.isArray(v)) return U;
    let n = 0;
    for (const x of v) {
      if (typeof x !== "number") return U;
      if (x >= countAtLeast) n++;
    }
    return fromBoolean(n >= min);
  };
}

/**
 * The predicates bound to one question, combined: not met when any of them shows it not met
 * (a `refutes` predicate can do only that), met when every `decides` predicate shows it met, else
 * unknown.
 */
export function combineBindings(bindings: readonly PredicateBinding[], vocabulary?: Vocabulary): FactTest {
  const decides = bindings
    .filter((b) => b.mode !== "refutes")
    .map((b) => compilePredicate(b.when, vocabulary));
  const refutes = bindings
    .filter((b) => b.mode === "refutes")
    .map((b) => compilePredicate(b.when, vocabulary));
  if (refutes.length === 0 && decides.length === 1) return decides[0]!;
  return (facts, dos) => {
    for (const r of refutes) if (r(facts, dos) === F) return F;
    if (decides.length === 0) return U;
    let v: Tri = T;
    for (const d of decides) {
      v = and(v, d(facts, dos));
      if (v === F) return F;
    }
    return v;
  };
}
