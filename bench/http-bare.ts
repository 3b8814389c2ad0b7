/**
 * The floor for `npm run bench -- http` (issue 13): a bare Fastify server with the service's body
 * parser and body limit, one route that parses the same payload and answers a pre-encoded reply of the
 * same bytes as `/api/evaluate`'s, and nothing else (no auth, no decision, no store). Run as its own
 * process, as the real server is: `node --import tsx bench/http-bare.ts REPLY_FILE`. Prints one JSON
 * line `{"url": …}` once listening; stops on SIGTERM.
 */
import { readFileSync } from "node:fs";
import Fastify from "fastify";
import { installJsonParser } from "../src/server/http.js";

const reply = readFileSync(process.argv[2]!, "utf8");
const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });
installJsonParser(app);
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
