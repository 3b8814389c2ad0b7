import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ingest, renderMarkdown } from "../ingest/index.js";
import {
  compareWithCorporate,
  diffPolicies,
  type Library,
  lintExclusions,
  lintVersion,
  loadLibrary,
  todayIso,
} from "../library/index.js";
import { LIBRARY_MARKER, type LibraryLocation, libraryLocation } from "../library/library.js";
import { describeWhere, exitCodeOf, InputError, isIsoDate, MedpolicyError } from "../model/index.js";
import { evaluateCommand } from "./evaluate.js";
import { impactCommand } from "./impact-command.js";
import { type AddResult, addDocument, type InitResult, initLibrary } from "./library-commands.js";
import { publishCommand } from "./publish-command.js";
import { renderDiff, renderFindings, renderPolicies, renderTree } from "./render.js";
import { schemaCommand } from "./schema-command.js";
import { defaultThreads, MAX_THREADS } from "./threads.js";

interface Command {
  summary: string;
  usage: string;
  options: Record<string, { type: "string" | "boolean"; short?: string; description: string }>;
  run(
    args: string[],
    values: Record<string, string | boolean | undefined>,
    io: Io,
    ctx: Context,
  ): Promise<number>;
}

/** What a command reads beyond its arguments: the library it was pointed at (issue 15). */
interface Context {
  /** The library (`--library`, `$MEDPOLICY_LIBRARY`, or the seed), loaded on first use. */
  lib(): Library;
  location(): LibraryLocation;
}

interface Io {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

const JSON_OPT = { json: { type: "boolean" as const, description: "machine-readable JSON output" } };
const TODAY_OPT = {
  today: {
    type: "string" as const,
    description: "the date (YYYY-MM-DD) that decides which version is in force",
  },
};

const LIBRARY_OPT = {
  library: {
    type: "string" as const,
    description:
      "the policy library folder (default $MEDPOLICY_LIBRARY, else the seed library shipped with medpolicy)",
  },
};

/** Libraries loaded in this process, by folder: in-process callers run many commands on one. */
const loaded = new Map<string, Library>();
let warnedDeprecated = false;

/** The library a command names (issue 15); InputError (exit 2) naming a folder that is no library. */
function contextFor(values: Record<string, unknown>, io: Io): Context {
  const location = () => {
    const loc = libraryLocation(values.library as string | undefined);
    if (loc.deprecated && !warnedDeprecated) {
      warnedDeprecated = true;
      io.err.write(`medpolicy: warning: ${loc.deprecated}\n`);
    }
    return loc;
  };
  return {
    location,
    lib() {
      const { dir } = location();
      let l = loaded.get(dir);
      if (l === undefined) {
        l = loadLibrary(dir);
        loaded.set(dir, l);
      }
      return l;
    },
  };
}

function print(io: Io, values: Record<string, unknown>, data: unknown, text: () => string): void {
  io.out.write(values.json ? `${JSON.stringify(data, null, 2)}\n` : `${text()}\n`);
}

function readDocument(file: string): Buffer {
  try {
    return readFileSync(file === "-" ? 0 : file);
  } catch (e) {
    throw new InputError(
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { file },
    );
  }
}

/** Ingests FILE, naming it by `--policy`, else by its header, else by content against the library. */
function ingestFile(file: string, policy: string | undefined, lib: () => Library) {
  const result = ingest(readDocument(file), { fileName: file, ...(policy ? { policyId: policy } : {}) });
  if (!policy && result.versions.some((v) => !v.identity.id)) {
    const guess = lib().identify(result.versions[0]!);
    if (guess) {
      return {
        ...ingest(readDocument(file), { fileName: file, policyId: guess.id }),
        identifiedBy: `content (${Math.round(guess.score * 100)}% of criteria match ${guess.id})`,
      };
    }
  }
  return { ...result, identifiedBy: policy ? "--policy" : "header" };
}

const COMMANDS: Record<string, Command> = {
  policies: {
    summary: "list every policy, variant and version with its status and dates",
    usage: "medpolicy policies [--library DIR] [--json] [--today YYYY-MM-DD]",
    options: { ...JSON_OPT, ...TODAY_OPT, ...LIBRARY_OPT },
    async run(_a, v, io, { lib, location }) {
      const rows = lib().policies((v.today as string) ?? todayIso());
      print(io, v, rows, () =>
        rows.length
          ? renderPolicies(rows)
          : `The library ${location().dir} has no policies yet: add one with medpolicy add FILE --library ${location().dir}`,
      );
      return 0;
    },
  },
  show: {
    summary: "show a policy's criteria tree (ID, ID@VERSION, or ID --version V)",
    usage: "medpolicy show ID[@VERSION] [--version V] [--library DIR] [--json] [--markdown]",
    options: {
      ...JSON_OPT,
      ...TODAY_OPT,
      ...LIBRARY_OPT,
      version: { type: "string", description: "the version (YYYY-MM)" },
      markdown: {
        type: "boolean",
        description: "render the version as markdown (round-trips through ingest)",
      },
    },
    async run(a, v, io, { lib }) {
      const ref = a[0];
      if (!ref)
        throw new InputError("show needs a policy id, e.g. medpolicy show CP.MP.173", { field: "ID" });
      const today = (v.today as string) ?? todayIso();
      const e = lib().get(v.version ? `${ref.split("@")[0]}@${v.version}` : ref, today);
      if (v.markdown) {
        io.out.write(renderMarkdown(e.policy));
        return 0;
      }
      print(io, v, e.policy, () => renderTree(e.policy, lib().statusOf(e, today), e));
      return 0;
    },
  },
  ingest: {
    summary: "parse a policy document; print the model, or what could not be placed",
    usage: "medpolicy ingest FILE [--policy ID] [--library DIR] [--json]",
    options: {
      ...JSON_OPT,
      ...LIBRARY_OPT,
      policy: { type: "string", description: "the policy id, for a document without a header" },
    },
    async run(a, v, io, { lib }) {
      const file = a[0];
      if (!file) throw new InputError("ingest needs a FILE (or - for standard input)", { field: "FILE" });
      const r = ingestFile(file, v.policy as string | undefined, lib);
      print(
        io,
        v,
        {
          versions: r.versions,
          unplaced: r.unplaced,
          findings: r.findings,
          proposedBindings: r.proposedBindings,
          identifiedBy: r.identifiedBy,
        },
        () =>
          [
            ...r.versions.map((x) => renderTree(x)),
            r.unplaced.length
              ? `Could not place ${r.unplaced.length} line(s):\n${r.unplaced.map((u) => `  line ${u.line}: ${u.reason}: ${u.text}`).join("\n")}`
              : "Every line placed.",
            `Identified by ${r.identifiedBy}.`,
          ].join("\n\n"),
      );
      // Text that could not be placed is reported (above, with line numbers) and makes the section it
      // sits in uncertain (it decides review): the document is ingested, nothing is silent (issue 12).
      return 0;
    },
  },
  lint: {
    summary: "report document defects: labels, lead-ins, wording that differs from the corporate policy",
    usage: "medpolicy lint [ID[@VERSION]|FILE] [--library DIR] [--json]",
    options: {
      ...JSON_OPT,
      ...TODAY_OPT,
      ...LIBRARY_OPT,
      policy: { type: "string", description: "policy id for a FILE without a header" },
    },
    async run(a, v, io, { lib }) {
      const target = a[0];
      const l = lib();
      let findings: ReturnType<typeof lintVersion>;
      if (!target) {
        findings = l.entries.flatMap((e) => lintVersion(l, e.policy));
      } else if (l.ids().includes(target.split("@")[0]!)) {
        const id = target.split("@")[0]!;
        const versions = target.includes("@") ? [l.get(target)] : l.versionsOf(id);
        findings = versions.flatMap((e) => lintVersion(l, e.policy));
      } else {
        const r = ingestFile(target, v.policy as string | undefined, lib);
        findings = r.versions.flatMap((x) => {
          const tag = (f: (typeof r.findings)[number]) => ({
            ...f,
            policy: x.identity.id || target,
            version: x.identity.version,
          });
          const own = [
            ...x.findings.map(tag),
            ...lintExclusions(x).map(tag),
            ...x.unplaced.map((u) =>
              tag({
                code: "unplaced",
                severity: "error",
                line: u.line,
                message: `could not place: ${u.text}`,
              }),
            ),
          ];
          const corp = x.identity.state ? l.inForce(x.identity.baseId, x.identity.effective) : undefined;
          return corp ? [...own, ...compareWithCorporate(x, corp.policy).map(tag)] : own;
        });
      }
      print(io, v, findings, () => renderFindings(findings));
      return 0;
    },
  },
  diff: {
    summary: "semantic diff of two versions or variants (criteria, logic, codes, log)",
    usage: "medpolicy diff ID@VERSION ID@VERSION [--library DIR] [--json]",
    options: { ...JSON_OPT, ...TODAY_OPT, ...LIBRARY_OPT },
    async run(a, v, io, { lib }) {
      if (a.length !== 2)
        throw new InputError("diff needs two versions, e.g. diff LA.CP.MP.173@2024-02 LA.CP.MP.173@2025-02", {
          field: "A B",
        });
      const today = (v.today as string) ?? todayIso();
      const d = diffPolicies(lib().get(a[0]!, today).policy, lib().get(a[1]!, today).policy);
      print(io, v, d, () => renderDiff(d));
      return 0;
    },
  },
  evaluate: {
    summary: "decide one case (JSON) or many (NDJSON, one determination per line)",
    usage: "medpolicy evaluate FILE|- [--library DIR] [--json] [--no-trace] [--workers N]",
    options: {
      ...JSON_OPT,
      ...TODAY_OPT,
      ...LIBRARY_OPT,
      "no-trace": { type: "boolean", description: "leave the per-node trace out of determinations" },
      "no-progress": { type: "boolean", description: "no progress bar on a terminal" },
      workers: {
        type: "string",
        description: `threads deciding an NDJSON file, this one included (default: one per core, at most ${MAX_THREADS}, for a file of 64 MiB or more, else 1; 1: this thread alone)`,
      },
    },
    async run(a, v, io, { lib, location }) {
      const file = a[0];
      if (!file || a.length > 1)
        throw new InputError(
          `evaluate takes one FILE or - (standard input)${a.length > 1 ? `, not ${a.length} (put many cases in one NDJSON file)` : ""}`,
          { field: "FILE" },
        );
      const workers = v.workers as string | undefined;
      if (workers !== undefined && !/^[1-9]\d{0,1}$/.test(workers))
        throw new InputError(`--workers must be a whole number from 1 to 99, not "${workers}"`, {
          field: "--workers",
        });
      return evaluateCommand(lib(), file, {
        // Asked for: that many threads whatever the size; by default, all cores from 64 MiB of input.
        threads: workers === undefined ? defaultThreads() : Number(workers),
        ...(workers !== undefined && { parallelFrom: 0 }),
        libraryDir: location().dir,
        json: !!v.json,
        trace: !v["no-trace"],
        // Read the clock once: every line of a batch names versions as of the same day.
        today: (v.today as string) ?? todayIso(),
        out: io.out,
        err: io.err,
        progress: !!io.err.isTTY && !v["no-progress"],
      });
    },
  },
  impact: impactCommand,
  questionnaire: {
    summary: "print the FHIR Questionnaire for a policy section",
    usage: "medpolicy questionnaire ID[@VERSION] [--section S] [--library DIR]",
    options: {
      ...JSON_OPT,
      ...TODAY_OPT,
      ...LIBRARY_OPT,
      section: { type: "string", description: "section id (default: every section with criteria)" },
    },
    async run(a, v, io, { lib }) {
      const ref = a[0];
      if (!ref) throw new InputError("questionnaire needs a policy id", { field: "ID" });
      const mod = await import("../explain/questionnaire.js").catch(() => undefined);
      if (!mod) throw new MedpolicyError("internal", "questionnaires are not available in this build");
      const e = lib().get(ref, (v.today as string) ?? todayIso());
      const q = mod.questionnaireFor(e, v.section as string | undefined);
      io.out.write(`${JSON.stringify(q, null, 2)}\n`);
      return 0;
    },
  },
  schema: schemaCommand,
  serve: {
    summary: "run the HTTP service (embedded database by default; PostgreSQL with --database-url)",
    usage:
      "medpolicy serve [--port 3000] [--host 127.0.0.1] [--data ./data] [--library DIR] [--database-url URL] [--public-url URL] [--demo] [--log-level info]",
    options: {
      ...LIBRARY_OPT,
      port: { type: "string", description: "port (default 3000, or $PORT)" },
      host: { type: "string", description: "address to listen on (default 127.0.0.1, or $HOST)" },
      data: { type: "string", description: "folder of the embedded database (default ./data)" },
      "database-url": {
        type: "string",
        description: "PostgreSQL URL (default $DATABASE_URL; embedded when unset)",
      },
      "public-url": {
        type: "string",
        description:
          "the service's public base URL for FHIR fullUrls (default $MEDPOLICY_PUBLIC_URL, else http://<host>:<port>)",
      },
      demo: {
        type: "boolean",
        description:
          "demo mode: GET /api/demo-tokens hands one-hour tokens for demo users to loopback callers not behind a proxy (off by default)",
      },
      "log-level": {
        type: "string",
        description:
          "access log on stderr, one JSON line per request: fatal, error, warn, info (default), debug, trace, or off (default $MEDPOLICY_LOG)",
      },
    },
    async run(_a, v, io, { lib }) {
      const { serveFromCli } = await import("./serve.js");
      const { parseLogLevel } = await import("../server/logging.js");
      const logLevel =
        parseLogLevel(v["log-level"] as string | undefined, "--log-level") ??
        parseLogLevel(process.env.MEDPOLICY_LOG, "MEDPOLICY_LOG");
      return serveFromCli(
        {
          port: Number(v.port ?? process.env.PORT ?? 3000),
          host: (v.host as string) ?? process.env.HOST ?? "127.0.0.1",
          dataDir: (v.data as string) ?? process.env.MEDPOLICY_DATA ?? "./data",
          ...((v["database-url"] ?? process.env.DATABASE_URL)
            ? { databaseUrl: (v["database-url"] ?? process.env.DATABASE_URL) as string }
            : {}),
          ...(typeof v["public-url"] === "string" && { publicUrl: v["public-url"] }),
          ...(v.demo === true && { demo: true }),
          ...(logLevel !== undefined && { logLevel }),
          library: lib(),
        },
        io,
      );
    },
  },
  init: {
    summary: "make a folder an empty policy library of your own (library.json)",
    usage: "medpolicy init DIR [--json]",
    options: { ...JSON_OPT },
    async run(a, v, io) {
      const dir = a[0];
      if (!dir)
        throw new InputError("init needs a folder, e.g. medpolicy init ./my-library", { field: "DIR" });
      const r = initLibrary(dir);
      loaded.delete(dir);
      print(io, v, r, () => renderInit(r));
      return 0;
    },
  },
  add: {
    summary: "ingest a policy document into your library: source, provenance, proposed code bindings, lint",
    usage: "medpolicy add FILE [--id ID] [--version YYYY-MM] [--library DIR] [--json]",
    options: {
      ...JSON_OPT,
      library: {
        type: "string",
        description:
          "your library folder, made by medpolicy init (default $MEDPOLICY_LIBRARY; the seed library is read-only)",
      },
      id: {
        type: "string",
        description: "the policy id (default: the reference number in the document's header)",
      },
      version: {
        type: "string",
        description: "the version YYYY-MM, for a document that names none (no revision log or dates)",
      },
    },
    async run(a, v, io, { location }) {
      const file = a[0];
      if (!file || file === "-")
        throw new InputError("add needs a document FILE (its name and format are part of its provenance)", {
          field: "FILE",
        });
      const loc = location();
      if (loc.from === "seed") {
        throw new InputError(
          "add needs your library: --library DIR or MEDPOLICY_LIBRARY (make one with medpolicy init DIR); the seed library shipped with medpolicy is read-only",
          { field: "--library" },
        );
      }
      const r = addDocument(loc.dir, readDocument(file), {
        fileName: file,
        ...(typeof v.id === "string" && { id: v.id }),
        ...(typeof v.version === "string" && { version: v.version }),
        now: new Date(),
      });
      loaded.delete(loc.dir);
      print(io, v, r, () => renderAdd(file, r));
      return 0;
    },
  },
  // Issue 15 item 3; a library this process cached is read again after a publication.
  publish: publishCommand((dir) => loaded.delete(dir)),
  token: {
    summary: "issue an API token, signed with the server's secret (reading it is the authority)",
    usage:
      "medpolicy token --role reviewer --sub ID [--name NAME] [--org ORG] [--ttl 8h] [--data ./data] [--json]",
    options: {
      ...JSON_OPT,
      role: { type: "string", description: "provider, reviewer, medical-director, admin or policy-author" },
      sub: { type: "string", description: "the user's id (logged and audited; not their name)" },
      name: { type: "string", description: "the user's display name (default: the id)" },
      org: { type: "string", description: "the provider organization (required for role provider)" },
      ttl: {
        type: "string",
        description: "lifetime: seconds, or with s/m/h (default 8h, at most 24h)",
      },
      data: {
        type: "string",
        description:
          "the server's data folder, whose generated secret signs when MEDPOLICY_JWT_SECRET(S) is unset (default ./data)",
      },
    },
    async run(_a, v, io) {
      const { issueTokenFromCli } = await import("./token.js");
      const r = await issueTokenFromCli({
        role: v.role as string | undefined,
        sub: v.sub as string | undefined,
        name: v.name as string | undefined,
        org: v.org as string | undefined,
        ttl: v.ttl as string | undefined,
        dataDir: (v.data as string) ?? process.env.MEDPOLICY_DATA ?? "./data",
      });
      io.out.write(v.json ? `${JSON.stringify(r, null, 2)}\n` : `${r.token}\n`);
      return 0;
    },
  },
};

function renderInit(r: InitResult): string {
  switch (r.status) {
    case "created":
      return `Made an empty policy library in ${r.library} (${LIBRARY_MARKER}).\nAdd a policy document: medpolicy add FILE --library ${r.library}`;
    case "adopted":
      return `${r.library} holds policy folders: marked it as a library (${LIBRARY_MARKER}).`;
    default:
      return `${r.library} is already a policy library: nothing changed.`;
  }
}

function renderAdd(file: string, r: AddResult): string {
  if (r.status === "unchanged")
    return `${file} is already in ${r.library} as ${r.file} (${r.versions.map((x) => `${x.id}@${x.version}`).join(", ")}): nothing changed.`;
  const bindings = `${r.library}/${r.policy}/bindings.json`;
  return [
    `Added ${file} to ${r.library} as ${r.file} (${r.source.format}, ${r.source.size} bytes, identified by ${
      r.source.ingested?.identifiedBy === "--id" ? "--id" : "its header"
    }):`,
    ...r.versions.map(
      (x) =>
        `  ${x.id}@${x.version} — ${x.title}\n    status ${x.status} · effective ${x.effective}${x.approved ? ` · approved ${x.approved}` : ` · a draft until published: medpolicy publish ${x.id}@${x.version} --by NAME`}`,
    ),
    "",
    r.proposed.length
      ? [
          `Proposed code bindings, unconfirmed (until an author moves them to "codes" in ${bindings}, these codes decide review):`,
          ...r.proposed.map(
            (p) =>
              `  ${p.system} ${p.codes.join(" ")} → ${p.section ? `section ${p.section}` : "no section"} (${p.coverage}, ${p.confidence}, line ${p.line})`,
          ),
        ].join("\n")
      : `No code bindings proposed (the document names no codes): bind codes to sections in ${bindings} ("codes").`,
    "",
    "Lint:",
    renderFindings(r.findings),
  ].join("\n");
}

function helpAll(): string {
  const names = Object.keys(COMMANDS);
  const w = Math.max(...names.map((n) => n.length));
  return [
    "medpolicy — computable clinical policies and prior-authorization decisions",
    "",
    "Usage: medpolicy <command> [options]   (each command has --help)",
    "",
    ...names.map((n) => `  ${n.padEnd(w)}  ${COMMANDS[n]!.summary}`),
    "",
    "The library: --library DIR, else $MEDPOLICY_LIBRARY, else the seed library shipped with medpolicy.",
    "Exit codes: 0 success, 1 determination error, 2 bad input (a policy or version that does not exist included).",
  ].join("\n");
}

function helpFor(name: string, c: Command): string {
  const opts = Object.entries(c.options).map(
    ([k, o]) => `  --${k}${o.type === "string" ? " VALUE" : ""}  ${o.description}`,
  );
  return [
    `medpolicy ${name} — ${c.summary}`,
    "",
    `Usage: ${c.usage}`,
    "",
    "Options:",
    ...opts,
    "  --help  this help",
  ].join("\n");
}

/** Commands whose `--json` output is one JSON document on stdout whatever happens, errors included (issue 12). */
function jsonAlways(name: string, args: string[]): boolean {
  return name === "ingest" && args.includes("--json");
}

/** `{"error": {"kind", "message", "where"}}` on stdout; the human message still goes to stderr. */
function writeJsonError(io: Io, e: unknown): void {
  const error =
    e instanceof MedpolicyError
      ? {
          kind: e.kind,
          message: e.message,
          where: e.where,
          ...(e instanceof InputError && e.issues.length ? { issues: e.issues } : {}),
        }
      : { kind: "internal", message: e instanceof Error ? e.message : String(e), where: {} };
  io.out.write(`${JSON.stringify({ error }, null, 2)}\n`);
}

/** CLI entry (SPEC 3): returns the exit code; all output goes through `io`. */
export async function main(
  argv: string[],
  io: Io = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out.write(`${helpAll()}\n`);
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.err.write(`medpolicy: unknown command '${name}'\n\n${helpAll()}\n`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...cmd.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    if (jsonAlways(name, rest))
      writeJsonError(io, new InputError((e as Error).message, { field: "options" }));
    io.err.write(`medpolicy ${name}: ${(e as Error).message}\n\n${helpFor(name, cmd)}\n`);
    return 2;
  }
  if (parsed.values.help) {
    io.out.write(`${helpFor(name, cmd)}\n`);
    return 0;
  }
  try {
    const values = parsed.values as Record<string, string | boolean | undefined>;
    // Every command's --today is a calendar date (a string compared with dates would otherwise pick
    // versions by text order: "garbage", "2026-02-30").
    if (values.today !== undefined && !isIsoDate(values.today))
      throw new InputError(`--today must be a date YYYY-MM-DD, not "${String(values.today)}"`, {
        field: "--today",
      });
    return await cmd.run(parsed.positionals, values, io, contextFor(values, io));
  } catch (e) {
    if (jsonAlways(name, rest)) writeJsonError(io, e);
    if (e instanceof MedpolicyError) {
      const where = describeWhere(e.where);
      io.err.write(
        `medpolicy ${name}: ${e.kind === "input" ? "bad input" : e.kind}: ${e.message}${where ? ` (${where})` : ""}\n`,
      );
      return exitCodeOf(e);
    }
    throw e;
  }
}
