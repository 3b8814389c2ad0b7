/**
 * `npm run bench` (SPEC 5): every benchmark side by side in one run. Benchmarks measure; tests never
 * time anything. Pass names to run a subset: `npm run bench -- ingest evaluate`.
 */
const SUITES: Record<string, () => Promise<unknown>> = {
  ingest: async () => (await import("./ingest.js")).run(),
  evaluate: async () => (await import("./evaluate.js")).run(),
  ndjson: async () => (await import("./ndjson.js")).run(),
  impact: async () => (await import("./impact.js")).run(),
  http: async () => (await import("./http.js")).run(),
  hostile: async () => (await import("./hostile.js")).run(),
};

const wanted = process.argv.slice(2).filter((a) => a in SUITES);
for (const name of wanted.length ? wanted : Object.keys(SUITES)) {
  console.log(`\n== ${name} ==`);
  try {
    await SUITES[name]!();
  } catch (e) {
    console.log(`${name}: failed: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
