/**
 * The JSON Schema of a case for one policy version (issue 15 item 2: "`medpolicy schema POLICY`
 * prints the JSON Schema of a case for that policy (answers by criterion id and its facts); the
 * service serves it too"). The generic case schema (SPEC 2.1) with `answers` narrowed to the
 * version's answerable criterion ids and `facts` to its declared vocabulary (SPEC 2.3).
 */
import { questionOf } from "../evaluate/index.js";
import { caseJsonSchema, factJsonSchema } from "../model/index.js";
import type { LibraryEntry } from "./library.js";

/** Base of the schemas' `$id`s (as the questionnaires' canonicals, a name rather than a place). */
export const CASE_SCHEMA_BASE = "http://medpolicy.example/schema/case/";

/** One schema per entry: entries never change after loading, and the service serves it per request. */
const cache = new WeakMap<LibraryEntry, Readonly<Record<string, unknown>>>();

/**
 * The JSON Schema (draft 2020-12) of a case decided by `entry` (issue 15 item 2, SPEC 2.1, 2.3):
 * `answers` has one boolean property per answerable criterion id (leaves, group conditions,
 * `<id>.note`), described by the criterion's text, and no other; `facts` one property per declared
 * fact ({@link factJsonSchema}), and no other. An id that asks the same question as an earlier one
 * (SPEC 2.2) names it in `x-sameQuestionAs`. What the schema cannot say (two ids of one question
 * answered differently, a birth date after the date of service) is still refused by `decide`.
 * The result is shared and frozen.
 */
export function caseSchemaFor(entry: LibraryEntry): Readonly<Record<string, unknown>> {
  let schema = cache.get(entry);
  if (schema === undefined) {
    // A copy: `factJsonSchema` shares the declarations' arrays, which freezing must not reach.
    schema = deepFreeze(structuredClone(build(entry)));
    cache.set(entry, schema);
  }
  return schema;
}

function build(entry: LibraryEntry): Record<string, unknown> {
  const { id, version, title, effective } = entry.policy.identity;
  const generic = caseJsonSchema() as Record<string, unknown> & {
    properties: Record<string, Record<string, unknown>>;
  };
  const { $schema, ...rest } = generic;
  const cp = entry.compiled();

  const answers: Record<string, Record<string, unknown>> = {};
  // `answerable()` is in document order (sections in order, depth first): the order of a form.
  for (const cid of entry.answerable()) {
    const q = questionOf(cp, cid);
    answers[cid] = {
      type: "boolean",
      description: q?.text ?? cid,
      ...(q !== undefined && q.id !== cid && { "x-sameQuestionAs": q.id }),
    };
  }
  const facts: Record<string, Record<string, unknown>> = {};
  for (const [name, decl] of entry.vocabulary) facts[name] = factJsonSchema(decl);

  return {
    $schema,
    $id: `${CASE_SCHEMA_BASE}${encodeURIComponent(id)}/${encodeURIComponent(version)}`,
    title: `A case for ${id}@${version}${title ? ` (${title})` : ""}`,
    description:
      `A prior-authorization request decided by ${id} version ${version} (effective ${effective}, hash ` +
      `${entry.policy.hash}): answers by this version's criterion ids, facts from its vocabulary (SPEC 2.1, 2.3).`,
    ...rest,
    properties: {
      ...generic.properties,
      answers: {
        description:
          "Criterion id → true (the statement holds) or false (SPEC 2.1). For a `none` group's items the " +
          "statement is the contraindication (true: present); at a group's id, the group's own condition; " +
          "at `<id>.note`, the note's condition. Anything missing is unknown.",
        default: {},
        type: "object",
        properties: answers,
        additionalProperties: false,
      },
      facts: {
        description: `The facts ${id}@${version} declares (SPEC 2.3); an explicit answer wins over a fact.`,
        default: {},
        type: "object",
        properties: facts,
        additionalProperties: false,
      },
    },
  };
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === "object" && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
