/**
 * Vite build of the reviewer web app (issue 6): `vite build --config src/web/vite.config.ts` writes
 * `dist/web/index.html` and `dist/web/assets/*`, which `src/web/plugin.ts` serves at `/`.
 *
 * The browser bundle imports the evaluator (`src/evaluate`) itself, so answers re-evaluate in the
 * browser with the server's engine. The model's index pulls in `model/hash.ts`, which imports
 * `node:crypto` for policy hashes the browser never computes: that import goes to a small shim.
 */
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * `dist/web` may also hold the compiled server plugin (`tsc` writes `src/web/*.ts` there), so Vite must
 * not empty the folder: this removes only what a previous Vite build wrote.
 */
function cleanOwnOutput(): Plugin {
  let outDir = "";
  return {
    name: "medpolicy-clean-web-output",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
    },
    buildStart() {
      if (!outDir) return;
      rmSync(`${outDir}/assets`, { recursive: true, force: true });
      rmSync(`${outDir}/index.html`, { force: true });
    },
  };
}

export default defineConfig({
  root: here("./app"),
  base: "/",
  publicDir: false,
  logLevel: "warn",
  resolve: {
    alias: [{ find: /^node:crypto$/, replacement: here("./app/shims/node-crypto.ts") }],
  },
  // `vite --config src/web/vite.config.ts` for development: the API comes from `medpolicy serve` on 8080.
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8080",
      "/openapi.json": "http://127.0.0.1:8080",
    },
  },
  build: {
    outDir: here("../../dist/web"),
    emptyOutDir: false,
    target: "es2022",
    sourcemap: true,
    assetsDir: "assets",
    reportCompressedSize: false,
    chunkSizeWarningLimit: 800,
  },
  plugins: [cleanOwnOutput()],
});
