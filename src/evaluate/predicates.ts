/**
 * Typed fact predicates compiled to closures (SPEC 2.3). A predicate decides a criterion from facts;
 * a missing fact, or one of the wrong type, leaves it unknown — nothing is guessed.
 */
import type { Facts, Predicate, PredicateBinding } from "../model/index.js";
import { type DayKey, minusMonths, parseDay } from "./dates.js";
import * as Tri3 from "./tri.js";
import { and, fromBoolean, or, type Tri } from "./tri.js";

// Module-local copies of imported constants (see run.ts: imported bindings are slower to read).
const { F, U, T } = Tri3;

/** A compiled predicate: the facts of the case and its date of service (a {@link DayKey}). */
export type FactTest = (facts: Facts, dos: DayKey) => Tri;

type Cmp = ">" | ">=" | "<" | "<=" | "==";

function compare(a: number, op: Cmp, b: number): boolean {
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
  }
}

function get(facts: Facts, name: string): unknown {
  return (facts as Record<string, unknown>)[name];
}

/** The fact names a predicate reads (for the trace's `source`). */
export function factsOf(p: Predicate, out: string[] = []): string[] {
  if ("all" in p) for (const q of p.all) factsOf(q, out);
  else if ("any" in p) for (const q of p.any) factsOf(q, out);
  else if ("firstKnown" in p) for (const q of p.firstKnown) factsOf(q, out);
  else if (!out.includes(p.fact)) out.push(p.fact);
  return out;
}

/** Whether a predicate compares dates (so the date of service must be valid). */
export function usesDates(p: Predicate): boolean {
  if ("all" in p) return p.all.some(usesDates);
  if ("any" in p) return p.any.some(usesDates);
  if ("firstKnown" in p) return p.firstKnown.some(usesDates);
  return "withinMonths" in p || "monthsBeforeAtLeast" in p;
}

/** Compiles one predicate to a closure; each shape of {@link Predicate} has its own case. */
export function compilePredicate(p: Predicate): FactTest {
  if ("all" in p) {
    const parts = p.all.map(compilePredicate);
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
    const parts = p.firstKnown.map(compilePredicate);
    return (facts, dos) => {
      for (const part of parts) {
        const v = part(facts, dos);
        if (v !== U) return v;
      }
      return U;
    };
  }
  if ("any" in p) {
    const parts = p.any.map(compilePredicate);
    return (facts, dos) => {
      let v: Tri = F;
      for (const part of parts) {
        v = or(v, part(facts, dos));
        if (v === T) break;
      }
      return v;
    };
  }
  const name = p.fact;
  if ("op" in p) {
    const { op, value } = p;
    // Booleans compare as 0/1 so `== true` and `== false` read naturally; a fact of another type
    // than the value is unknown rather than coerced.
    const want = typeof value;
    const rhs = Number(value);
    return (facts) => {
      const v = get(facts, name);
      if (typeof v !== want) return U;
      return fromBoolean(compare(Number(v), op, rhs));
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
  if ("countAtLeast" in p) {
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
  if ("withinMonths" in p) {
    const months = p.withinMonths;
    return (facts, dos) => {
      const v = get(facts, name);
      const day = typeof v === "string" ? parseDay(v) : undefined;
      if (day === undefined) return U;
      // On or after DOS minus n months ("six months to the day" is within), and not after DOS.
      return fromBoolean(day >= minusMonths(dos, months) && day <= dos);
    };
  }
  const months = p.monthsBeforeAtLeast;
  return (facts, dos) => {
    const v = get(facts, name);
    const day = typeof v === "string" ? parseDay(v) : undefined;
    if (day === undefined) return U;
    return fromBoolean(day <= minusMonths(dos, months));
  };
}

/**
 * The predicates bound to one question, combined: not met when any of them shows it not met
 * (a `refutes` predicate can do only that), met when every `decides` predicate shows it met, else
 * unknown.
 */
export function combineBindings(bindings: readonly PredicateBinding[]): FactTest {
  const decides = bindings.filter((b) => b.mode !== "refutes").map((b) => compilePredicate(b.when));
  const refutes = bindings.filter((b) => b.mode === "refutes").map((b) => compilePredicate(b.when));
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
