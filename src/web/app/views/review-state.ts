/**
 * The state of the request screen (SPEC 4, issue 14) that its panels share: the request as the server
 * sent it, the reviewer's unsaved answers and facts, the live re-evaluation, and each panel's own
 * unsaved input, kept here so a re-render (after every answer) never loses what was typed.
 */
import type { FactValue, Question, RequestView, StoredDetermination } from "../api.js";
import { type LoadedPolicy, withLineTraces } from "../engine.js";
import type { App } from "../main.js";
import type { Decision, Determination } from "../types.js";

/** The result of the last action, shown where the reviewer looks next. */
export interface Notice {
  kind: "ok" | "warn" | "error";
  text: string;
}

/** The decision form's unsaved input (issue 14: nothing carried over from another outcome). */
export interface DecisionDraft {
  outcome?: Decision["outcome"];
  criteria: string[];
  reason: string;
  overrideReason: string;
  /**
   * A request of several services decided code by code: the outcome chosen for a code where it
   * differs from `outcome` (approve one, deny the other). Cleared when the outcome changes.
   */
  lines?: Record<string, Decision["outcome"]>;
  /** The letter previewed for exactly this input (`key`); signing pins its SHA-256. */
  preview?: { key: string; html: string; sha256: string; verified: boolean };
  error?: string;
  busy?: boolean;
}

/** A refused fact input (issue 14 review: an invalid value is shown as typed, with its error). */
export interface FactError {
  message: string;
  /** The text as typed. */
  text: string;
  /** Which of the fact's inputs it was typed in: its value, or the "how many" of a set. */
  part: "value" | "count";
  /**
   * A number or date input whose text the browser could not read (`validity.badInput`, value ""):
   * the element itself, moved into the next render so what was typed stays visible.
   */
  keep?: HTMLInputElement;
}

export interface State {
  view: RequestView;
  policies: Map<string, LoadedPolicy>;
  /** The reviewer's unsaved answers, keyed where they will be saved (see `answerKey`). */
  draft: Record<string, boolean>;
  /** The reviewer's unsaved typed facts (SPEC 2.3), re-evaluated live like answers. */
  factDraft: Record<string, FactValue>;
  /**
   * Why a typed fact input was refused (out of range, not a number, not a code), by fact name, with
   * the text as typed: it stays on screen beside its error and is never evaluated or sent.
   */
  factErrors: Record<string, FactError>;
  /** Whether the facts no predicate of this policy reads are shown. */
  otherFactsOpen?: boolean;
  live: Determination;
  /** Why the live evaluation failed (contradictory answers), if it did. */
  evalError?: string;
  /** The result of the last save, shown in the recommendation panel. */
  notice?: Notice;
  /** Whether the browser engine agreed with the stored determination when the page loaded. */
  parity: boolean;
  /** Why the browser cannot evaluate (the policy model did not load), if so. */
  offline?: string;
  /** How the request arrived (its submitted answers' source). */
  channel: "api" | "fhir-pas";
  /**
   * The open questions in the order they had when the page (or the last save) loaded: answering one
   * never moves the others (issue 14, "answer groups without surprise changes").
   */
  questionOrder: Question[];
  decision: DecisionDraft;
  /** The criterion (with its list prefix) whose evidence-note form is open. */
  noteOpen?: string;
  noteDrafts: Record<string, string>;
  internalDraft: string;
  info: { open: boolean; message: string; criteria?: string[] };
  /** A notice beside the assignment, the notes or the information request. */
  sideNotice?: Notice & { where: "assign" | "internal" | "info" | "evidence" | "attach" };
}

/** What every panel of the request screen gets. */
export interface ReviewPage {
  app: App;
  s: State;
  /** Re-renders the screen from the state (focus stays on the control in use). */
  draw(): void;
  /** Re-evaluates the drafts live, then re-renders. */
  update(): void;
  /** Saves the drafted answers and facts. */
  save(): Promise<void>;
  /**
   * Takes the server's new view of the request. `keepDrafts`: the case did not change (a note, an
   * assignment), so unsaved answers stay valid.
   */
  reload(next: RequestView, opts?: { notice?: Notice; keepDrafts?: boolean }): Promise<void>;
}

/** The newest stored determination. */
export function stored(v: RequestView): StoredDetermination {
  return v.review!.determinations.at(-1)!;
}

/** The newest stored determination, each evaluated line with its trace. */
export function latest(v: RequestView): Determination {
  return withLineTraces(stored(v).determination);
}

/** The case's saved answers. */
export function caseAnswers(v: RequestView): Record<string, boolean> {
  return v.review!.case.answers ?? {};
}

/** How many unsaved answers and facts there are. */
export function draftCount(s: State): number {
  return Object.keys(s.draft).length + Object.keys(s.factDraft).length;
}

/** Characters other than white space (the API's "visible characters"). */
export function visibleLength(text: string): number {
  let n = 0;
  for (const ch of text) if (ch.trim() !== "") n++;
  return n;
}

/** Whether the request can still be worked on (answers, notes, information requests, a decision). */
export function isOpen(v: RequestView): boolean {
  return v.review!.workflowStatus === "awaiting-review" && !v.decision;
}
