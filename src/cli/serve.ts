import type { Library } from "../library/index.js";

export interface ServeCliOptions {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  library: Library;
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
  const { fhirPlugin } = await import("../server/fhir/index.js");
  const { webPlugin } = await import("../web/plugin.js");
  const server = await startServer({
    plugins: [fhirPlugin(), webPlugin()],
    port: o.port,
    host: o.host,
    dataDir: o.dataDir,
    library: o.library,
    ...(o.databaseUrl ? { databaseUrl: o.databaseUrl } : {}),
  });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
  return 0;
}
