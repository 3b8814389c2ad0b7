/**
 * The floor for `npm run bench -- http` (issue 13: "a bare Fastify route of the same payload"): a
 * Fastify app with its default settings (no logger, Fastify's own JSON body parser, its default body
 * limit), one route that takes the same JSON body and answers the same bytes as `/api/evaluate`
 * (pre-encoded), and nothing else: no auth, no decision, no store, no access log. Fastify's defaults
 * rather than the service's body parser: the service's depth and duplicate-key checks are part of what
 * it costs beyond the floor, so they are measured, not hidden in it. Run as its own process, as the
 * real server is: `node --import tsx bench/http-bare.ts REPLY_FILE`. Prints one JSON line
 * `{"url": …}` once listening; stops on SIGTERM.
 */
import { readFileSync } from "node:fs";
import Fastify from "fastify";

const reply = readFileSync(process.argv[2]!, "utf8");
const app = Fastify();
app.post("/bare", async (req, res) => {
  // Touch the parsed body as a route would, so the parse cannot be skipped.
  if (req.body === null || typeof req.body !== "object") throw new Error("expected a JSON object");
  return res.type("application/json; charset=utf-8").send(reply);
});
await app.listen({ port: 0, host: "127.0.0.1" });
const addr = app.server.address();
const port = typeof addr === "object" && addr ? addr.port : 0;
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid })}\n`);
process.on("SIGTERM", () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
