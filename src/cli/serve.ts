import type { Library } from "../library/index.js";
import type { LogLevel } from "../server/logging.js";

export interface ServeCliOptions {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  /** `--public-url` (issue 13); else `MEDPOLICY_PUBLIC_URL`, else the listening address. */
  publicUrl?: string;
  /**
   * The library served: `--library DIR`, else `$MEDPOLICY_LIBRARY`, else the seed (issue 15); loaded and
   * checked by the CLI before the server starts, so a folder that is no library exits 2 without listening.
   */
  library: Library;
  /** `--demo` (issue 13: demo mode only when asked for). */
  demo?: boolean;
  /** `--log-level` / `MEDPOLICY_LOG`; default `info` (one access-log line per request on stderr). */
  logLevel?: LogLevel;
}

/**
 * `medpolicy serve` (SPEC 3, 4): starts the service and keeps running until SIGINT/SIGTERM, then
 * closes cleanly (pending writes are already durable: the store acknowledges only after commit).
 */
export async function serveFromCli(
  o: ServeCliOptions,
  _io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream },
): Promise<number> {
  const { startServer } = await import("../server/index.js");
  const { accessLogger } = await import("../server/logging.js");
  const { fhirPlugin } = await import("../server/fhir/index.js");
  const { webPlugin } = await import("../web/plugin.js");
  const server = await startServer({
    plugins: [fhirPlugin(), webPlugin()],
    port: o.port,
    host: o.host,
    dataDir: o.dataDir,
    library: o.library,
    demo: o.demo === true,
    logger: accessLogger(o.logLevel ?? "info"),
    ...(o.databaseUrl ? { databaseUrl: o.databaseUrl } : {}),
    ...(o.publicUrl !== undefined && { publicUrl: o.publicUrl }),
  });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
  return 0;
}
