/**
 * A small process entry for the service: `node --import tsx src/server/main.ts [--port N] [--host H]
 * [--data DIR] [--database-url URL] [--log] [--no-rate-limit]`. Used by the crash and multi-process
 * tests and the HTTP bench; `medpolicy serve` is the user-facing command. Prints one JSON line
 * `{"url": …}` on stdout once listening, and shuts down cleanly on SIGTERM/SIGINT.
 */
import { startServer } from "./index.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const port = Number(arg("--port") ?? 0);
const host = arg("--host");
const dataDir = arg("--data");
const databaseUrl = arg("--database-url");
const server = await startServer({
  port,
  ...(host !== undefined && { host }),
  ...(dataDir !== undefined && { dataDir }),
  ...(databaseUrl !== undefined && { databaseUrl }),
  logger: process.argv.includes("--log"),
  ...(process.argv.includes("--no-rate-limit") && { rateLimit: false as const }),
  quiet: true,
});
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
