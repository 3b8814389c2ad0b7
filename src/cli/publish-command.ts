/**
 * `medpolicy publish ID@VERSION --by NAME [--effective YYYY-MM-DD] [--library DIR] [--json]`
 * (issue 15 item 3): a draft version of the payer's library becomes effective and immutable. The
 * checks and the files written are `publishVersion`'s (src/library/publish.ts); this is the command.
 */
import type { LibraryLocation } from "../library/library.js";
import { type PublishResult, publishVersion } from "../library/publish.js";
import { InputError } from "../model/index.js";
import { renderFindings } from "./render.js";

interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** The command, in the shape `main.ts` registers; `published(dir)` lets it forget a library it cached. */
export function publishCommand(published: (dir: string) => void) {
  return {
    summary:
      "publish a draft version of your library: effective from a date, approved by a person, immutable",
    usage: "medpolicy publish ID@VERSION --by NAME [--effective YYYY-MM-DD] [--library DIR] [--json]",
    options: {
      json: { type: "boolean" as const, description: "machine-readable JSON output" },
      library: {
        type: "string" as const,
        description:
          "your library folder, made by medpolicy init (default $MEDPOLICY_LIBRARY; the seed library is read-only)",
      },
      by: { type: "string" as const, description: "who approves the version (recorded and audited)" },
      effective: {
        type: "string" as const,
        description: "the date (YYYY-MM-DD) from which it decides (default: the document's effective date)",
      },
    },
    async run(
      a: string[],
      v: Record<string, string | boolean | undefined>,
      io: Io,
      ctx: { location(): LibraryLocation },
    ): Promise<number> {
      const ref = a[0];
      if (!ref || a.length > 1)
        throw new InputError("publish needs one version: medpolicy publish ID@VERSION --by NAME", {
          field: "ID@VERSION",
        });
      if (typeof v.by !== "string")
        throw new InputError("publish needs --by NAME: who approves the version", { field: "--by" });
      const loc = ctx.location();
      if (loc.from === "seed") {
        throw new InputError(
          "publish needs your library: --library DIR or MEDPOLICY_LIBRARY; the seed library shipped with medpolicy is read-only",
          { field: "--library" },
        );
      }
      const r = publishVersion(loc.dir, ref, {
        by: v.by,
        ...(typeof v.effective === "string" && { effective: v.effective }),
        now: new Date(),
      });
      published(loc.dir);
      io.out.write(v.json ? `${JSON.stringify(r, null, 2)}\n` : `${renderPublish(r)}\n`);
      return 0;
    },
  };
}

/** What `publish` says to a person. */
export function renderPublish(r: PublishResult): string {
  const b = r.bindings;
  return [
    `Published ${r.policy}@${r.version} — ${r.title}`,
    `  approved by ${r.by} at ${r.at} · effective ${r.effective} · status ${r.status}`,
    `  decides with ${b.codes} code binding${b.codes === 1 ? "" : "s"}, ${b.predicates} predicate${b.predicates === 1 ? "" : "s"}, ${b.facts} fact${b.facts === 1 ? "" : "s"}, ${b.corrections} correction${b.corrections === 1 ? "" : "s"} (later edits of bindings.json change drafts only)`,
    `  snapshot ${r.snapshot} (sha256 ${r.sha256}); logged in ${r.log}`,
    ...(r.warnings.length ? ["", "Lint warnings:", renderFindings(r.warnings)] : []),
  ].join("\n");
}
