/** Runs the CLI from source without a build: `node --import tsx scripts/dev.ts <command> …` (development only). */
import { main } from "../src/cli/main.js";

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
