/**
 * A small process entry for the service: `node --import tsx src/server/main.ts [--port N] [--host H]
 * [--data DIR] [--library DIR] [--database-url URL] [--public-url URL] [--log-level LEVEL] [--demo]
 * [--no-rate-limit]`. The library is `--library`, else `$MEDPOLICY_LIBRARY`, else the seed (issue 15);
 * a payer's library is looked at every `$MEDPOLICY_LIBRARY_POLL_MS` (default 2000, 0 disables) and its
 * publications picked up without a restart (issue 15 item 3, `library-watch.ts`).
 * Used by the crash and multi-process tests and the HTTP bench; `medpolicy serve` is the user-facing
 * command. Prints one JSON line `{"url": …}` on stdout once listening (access logs, on by default at
 * `info`, go to stderr: issue 13), and shuts down cleanly on SIGTERM/SIGINT. A configuration refused
 * at start (weak secret in production, instances disagreeing on the secret, a library folder that is
 * missing or not a library) exits 2 with the reason.
 */
import { type Library, libraryLocation, loadLibrary } from "../library/library.js";
import { InputError } from "../model/index.js";
import { ConfigError, startServer } from "./index.js";
import { accessLogger, parseLogLevel } from "./logging.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const port = Number(arg("--port") ?? 0);
const host = arg("--host");
const dataDir = arg("--data");
const databaseUrl = arg("--database-url");
const publicUrl = arg("--public-url");
let server: Awaited<ReturnType<typeof startServer>>;
let library: Library | undefined;
try {
  // The seed library is left to the server to load as it always has; another is checked here first.
  const location = libraryLocation(arg("--library"));
  if (location.deprecated) process.stderr.write(`medpolicy: warning: ${location.deprecated}\n`);
  if (location.from !== "seed") library = loadLibrary(location.dir);
} catch (err) {
  if (!(err instanceof InputError)) throw err;
  process.stderr.write(`medpolicy: ${err.message}\n`);
  process.exit(2);
}
try {
  // `--log` (older scripts) is the default level; `--log-level silent` turns logging off.
  const level =
    parseLogLevel(arg("--log-level"), "--log-level") ??
    parseLogLevel(process.env.MEDPOLICY_LOG, "MEDPOLICY_LOG");
  server = await startServer({
    port,
    ...(host !== undefined && { host }),
    ...(dataDir !== undefined && { dataDir }),
    ...(databaseUrl !== undefined && { databaseUrl }),
    ...(publicUrl !== undefined && { publicUrl }),
    ...(library !== undefined && { library }),
    logger: accessLogger(level ?? "info"),
    demo: process.argv.includes("--demo"),
    ...(process.argv.includes("--no-rate-limit") && { rateLimit: false as const }),
    quiet: true,
  });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`medpolicy: ${err.message}\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);

let closing = false;
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    if (closing) return;
    closing = true;
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
