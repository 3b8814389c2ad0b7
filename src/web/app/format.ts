/** Words and small widgets the views share: outcomes, statuses, dates, due times. */
import { h } from "./dom.js";
import type { Outcome, Status } from "./types.js";

/** How each engine outcome reads to a reviewer. */
export const OUTCOME_LABEL: Record<Outcome, string> = {
  approved: "Approved",
  pended: "Pended",
  review: "Medical-director review",
  denied: "Denied",
  "not-covered": "Not covered",
  "not-applicable": "Not applicable",
};

/** Workflow statuses (`RequestStatus`). */
export const WORKFLOW_LABEL: Record<string, string> = {
  "awaiting-review": "Awaiting review",
  decided: "Decided",
  approved: "Auto-approved",
  "not-applicable": "Not applicable",
  withdrawn: "Withdrawn by the submitter",
};

/** An outcome badge; `data-outcome` carries the machine value (styling, tests). */
export function outcomeBadge(o: string, extra?: string): HTMLSpanElement {
  return h(
    "span",
    { class: `badge outcome-${o}`, "data-outcome": o },
    OUTCOME_LABEL[o as Outcome] ?? o,
    extra ? ` ${extra}` : "",
  );
}

/** A criterion status chip. `context` words it: a contraindication is present/absent, a note holds or not. */
export function statusChip(
  s: Status,
  context: "criterion" | "contraindication" | "note" = "criterion",
): HTMLSpanElement {
  const words: Record<typeof context, Record<Status, string>> = {
    criterion: { met: "met", "not-met": "not met", unknown: "unknown" },
    contraindication: { met: "present", "not-met": "absent", unknown: "unknown" },
    note: { met: "applies", "not-met": "does not apply", unknown: "unknown" },
  };
  // For a contraindication "met" (present) is the bad case: colour by meaning, not by value.
  const tone =
    s === "unknown"
      ? "unknown"
      : context === "contraindication"
        ? s === "met"
          ? "bad"
          : "good"
        : s === "met"
          ? "good"
          : "bad";
  return h("span", { class: `chip status-${tone}`, "data-status": s }, words[context][s]);
}

const dateFmt = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short" });
const dayFmt = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeZone: "UTC" });

/** `Mar 1, 2026, 9:30 AM` in the reader's time zone. */
export function dateTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFmt.format(d);
}

/** `Mar 1, 2026` for a `YYYY-MM-DD` date (no time zone shift). */
export function day(iso: string | undefined): string {
  if (!iso) return "—";
  const d = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? iso : dayFmt.format(d);
}

/** `3 d 4 h`, `5 h`, `40 min` for a number of hours (absolute value). */
export function duration(hours: number): string {
  const h2 = Math.abs(hours);
  if (h2 < 1) return `${Math.max(1, Math.round(h2 * 60))} min`;
  const total = Math.round(h2);
  if (total < 48) return `${total} h`;
  const d = Math.floor(total / 24);
  const rest = total % 24;
  return rest ? `${d} d ${rest} h` : `${d} d`;
}

/** The due-time cell: "due in 6 d 23 h" or "overdue by 5 h". */
export function dueText(
  dueAt: string,
  nowMs: number = Date.now(),
): { text: string; overdue: boolean; hoursLeft: number } {
  const hoursLeft = (Date.parse(dueAt) - nowMs) / 3600_000;
  return hoursLeft < 0
    ? { text: `overdue by ${duration(hoursLeft)}`, overdue: true, hoursLeft }
    : { text: `due in ${duration(hoursLeft)}`, overdue: false, hoursLeft };
}

/**
 * An hour-level countdown to a due time (issue 14: expedited requests are due in 72 h, so "due in 3 d"
 * hides the hours that matter): "5 h 20 min left", "71 h 59 min left", "6 d 23 h left" (hours and
 * minutes below 72 h, days and hours above), "overdue by 3 h", "overdue by 40 min".
 * `minutesLeft` is negative when overdue; partial minutes are dropped, so "left" never overstates.
 */
export function countdown(minutesLeft: number): { text: string; overdue: boolean; urgent: boolean } {
  const overdue = minutesLeft < 0;
  const total = Math.floor(Math.abs(minutesLeft));
  const hours = Math.floor(total / 60);
  const mins = total % 60;
  let span: string;
  if (hours >= 72) {
    const d = Math.floor(hours / 24);
    const rest = hours % 24;
    span = rest ? `${d} d ${rest} h` : `${d} d`;
  } else if (hours === 0) span = `${mins} min`;
  else span = mins ? `${hours} h ${mins} min` : `${hours} h`;
  // Under a day left: the reviewer should act today.
  return { text: overdue ? `overdue by ${span}` : `${span} left`, overdue, urgent: overdue || hours < 24 };
}

/**
 * The last 8 digits of a UUID, for compact display (the full id is in the title and the URL): random
 * in every request id. The first block was, until request ids became time-ordered (version 7, whose
 * first 8 digits are the same for every request of a minute).
 */
export function shortId(id: string): string {
  return id.length > 12 ? id.slice(-8) : id;
}

/** Role names as people say them. */
export const ROLE_LABEL: Record<string, string> = {
  provider: "Provider",
  reviewer: "Reviewer",
  "medical-director": "Medical director",
  admin: "Administrator",
  "policy-author": "Policy author",
  engine: "medpolicy (automatic)",
};
