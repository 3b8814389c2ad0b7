/**
 * Typed errors that carry where they happened (policy, version, criterion, line, field), and the one
 * mapping from an error to a CLI exit code or an HTTP status (SPEC 3: 1 determination error, 2 bad input).
 */

export interface ErrorWhere {
  policy?: string;
  version?: string;
  criterion?: string;
  line?: number;
  field?: string;
  file?: string;
}

export type ErrorKind = "input" | "determination" | "not-found" | "forbidden" | "conflict" | "internal";

export class MedpolicyError extends Error {
  readonly kind: ErrorKind;
  readonly where: ErrorWhere;
  constructor(kind: ErrorKind, message: string, where: ErrorWhere = {}) {
    super(message);
    this.name = "MedpolicyError";
    this.kind = kind;
    this.where = where;
  }
}

/** Bad input: malformed JSON, a wrong type, an unknown criterion id, an unreadable document. Exit 2 / HTTP 400. */
export class InputError extends MedpolicyError {
  /** Further problems found at the same time (each with its own place). */
  readonly issues: { message: string; where: ErrorWhere }[];
  constructor(
    message: string,
    where: ErrorWhere = {},
    issues: { message: string; where: ErrorWhere }[] = [],
  ) {
    super("input", message, where);
    this.name = "InputError";
    this.issues = issues;
  }
}

/** The request is well formed but cannot be decided (no policy version effective). Exit 1 / HTTP 422. */
export class DeterminationError extends MedpolicyError {
  constructor(message: string, where: ErrorWhere = {}) {
    super("determination", message, where);
    this.name = "DeterminationError";
  }
}

export class NotFoundError extends MedpolicyError {
  constructor(message: string, where: ErrorWhere = {}) {
    super("not-found", message, where);
    this.name = "NotFoundError";
  }
}

/** Formats `where` as `policy CP.MP.173@2025-11, criterion I.A.2.g, line 40` for messages. */
export function describeWhere(where: ErrorWhere): string {
  const parts: string[] = [];
  if (where.file) parts.push(where.file);
  if (where.policy) parts.push(`policy ${where.policy}${where.version ? `@${where.version}` : ""}`);
  if (where.field) parts.push(`field ${where.field}`);
  if (where.criterion) parts.push(`criterion ${where.criterion}`);
  if (where.line !== undefined) parts.push(`line ${where.line}`);
  return parts.join(", ");
}

/** SPEC 3: the exit code for an error. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof MedpolicyError) {
    switch (err.kind) {
      // A policy, version or section the command line names that does not exist is bad input
      // (`medpolicy show CP.MP.999`), as a case naming one is (its `policy` field).
      case "input":
      case "not-found":
        return 2;
      case "determination":
        return 1;
      default:
        return 1;
    }
  }
  return 70;
}

/** SPEC 4: the HTTP status for an error. */
export function httpStatusOf(err: unknown): number {
  if (err instanceof MedpolicyError) {
    switch (err.kind) {
      case "input":
        return 400;
      case "determination":
        return 422;
      case "not-found":
        return 404;
      case "forbidden":
        return 403;
      case "conflict":
        return 409;
      default:
        return 500;
    }
  }
  return 500;
}
