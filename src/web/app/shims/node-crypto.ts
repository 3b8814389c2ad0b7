/**
 * Browser stand-in for `node:crypto` (see `src/web/vite.config.ts`): the model's `policyHash` imports
 * `createHash`, but the browser only evaluates policies whose hashes the server already computed.
 */

/** Throws: hashing a policy is the server's job, and reaching this is a bug in the web app. */
export function createHash(_algorithm: string): never {
  throw new Error("createHash is not available in the browser: policy hashes come from the server");
}

/** Throws, as {@link createHash}. */
export function randomBytes(_size: number): never {
  throw new Error("randomBytes is not available in the browser");
}

/** Throws, as {@link createHash}. */
export function randomUUID(): never {
  throw new Error("randomUUID is not available in the browser");
}
