/**
 * Calendar-month arithmetic on `YYYY-MM-DD` strings (SPEC 2.3: "Dates are compared with the date of
 * service"). Works on the digits, never on `Date`, so no time zone or DST can move a day; a day that
 * does not exist in the target month is clamped to the month's end (2026-08-31 minus 6 months is
 * 2026-02-28).
 */

/** A calendar date packed as `y * 10000 + m * 100 + d`: ordering of the numbers is ordering of dates. */
export type DayKey = number;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Days in month `m` (1–12) of year `y`. */
export function daysInMonth(y: number, m: number): number {
  if (m === 2) return isLeap(y) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Parses an ISO calendar date; `undefined` when it is not one (wrong shape, month 13, 30 February). */
export function parseDay(s: string): DayKey | undefined {
  const m = ISO_DATE.exec(s);
  if (m === null) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  return y * 10000 + mo * 100 + d;
}

/** `day` minus `months` calendar months, the day clamped to the end of the resulting month. */
export function minusMonths(day: DayKey, months: number): DayKey {
  const y = Math.floor(day / 10000);
  const mo = Math.floor(day / 100) % 100;
  const d = day % 100;
  const index = y * 12 + (mo - 1) - months;
  const ny = Math.floor(index / 12);
  const nm = index - ny * 12 + 1;
  const nd = Math.min(d, daysInMonth(ny, nm));
  return ny * 10000 + nm * 100 + nd;
}

/** Formats a {@link DayKey} back to `YYYY-MM-DD` (for messages and tests). */
export function formatDay(day: DayKey): string {
  const y = Math.floor(day / 10000);
  const mo = Math.floor(day / 100) % 100;
  const d = day % 100;
  return `${String(y).padStart(4, "0")}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}
