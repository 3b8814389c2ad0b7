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

/** Days since 1970-01-01 of a civil date (H. Hinnant's `days_from_civil`; exact, no `Date`). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The civil date of a day number ({@link daysFromCivil}'s inverse), as a {@link DayKey}. */
function civilFromDays(z: number): DayKey {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return y * 10000 + m * 100 + d;
}

/** `day` minus `days` calendar days (issue 15: "within 30 days of the date of service"). */
export function minusDays(day: DayKey, days: number): DayKey {
  const y = Math.floor(day / 10000);
  const m = Math.floor(day / 100) % 100;
  const d = day % 100;
  return civilFromDays(daysFromCivil(y, m, d) - days);
}
