import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadedVersion, VersionSummary } from "./api.js";

/** Folder of the policy library shipped with the project (`policies/`). */
export function defaultPoliciesDir(): string {
  return join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "policies");
}

/** The loaded policy library: every policy, variant and version (SPEC 1.4). */
export class Library {
  readonly versions: LoadedVersion[] = [];
  policies(_today?: string): VersionSummary[] {
    throw new Error("not implemented yet");
  }
}

/** Loads and ingests every document under `dir` (default: the shipped `policies/`). */
export function loadLibrary(_dir: string = defaultPoliciesDir()): Library {
  throw new Error("not implemented yet");
}
