/**
 * `medpolicy schema POLICY[@VERSION]` (issue 15 item 2): prints the JSON Schema of a case for that
 * policy version — its criterion ids as boolean answers, its declared facts — 2-space indented.
 */
import { caseSchemaFor, type Library, todayIso } from "../library/index.js";
import { InputError, NotFoundError } from "../model/index.js";

/** `medpolicy schema`, in the shape of main.ts's commands (registered there). */
export const schemaCommand = {
  summary: "print the JSON Schema of a case for a policy version (its criterion ids and facts)",
  usage: "medpolicy schema ID[@VERSION] [--library DIR] [--today YYYY-MM-DD]",
  options: {
    // SPEC 3: every subcommand takes --json; a JSON Schema is JSON either way.
    json: {
      type: "boolean" as const,
      description: "machine-readable JSON output (the schema is JSON either way)",
    },
    library: {
      type: "string" as const,
      description:
        "the policy library folder (default $MEDPOLICY_LIBRARY, else the seed library shipped with medpolicy)",
    },
    today: {
      type: "string" as const,
      description: "the date (YYYY-MM-DD) that decides which version is in force (for a bare ID)",
    },
  },
  async run(
    args: string[],
    values: Record<string, string | boolean | undefined>,
    io: { out: NodeJS.WritableStream },
    ctx: { lib(): Library },
  ): Promise<number> {
    const ref = args[0];
    if (!ref || args.length > 1)
      throw new InputError("schema needs one policy, e.g. medpolicy schema CP.MP.173 or CP.MP.173@2025-11", {
        field: "ID",
      });
    const today = typeof values.today === "string" ? values.today : todayIso();
    let entry: ReturnType<Library["get"]>;
    try {
      entry = ctx.lib().get(ref, today);
    } catch (e) {
      // The policy is the command's argument: naming one the library lacks is bad input (exit 2).
      if (e instanceof NotFoundError) throw new InputError(e.message, { ...e.where, field: "ID" });
      throw e;
    }
    io.out.write(`${JSON.stringify(caseSchemaFor(entry), null, 2)}\n`);
    return 0;
  },
};
