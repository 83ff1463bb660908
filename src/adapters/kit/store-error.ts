import { SessionStoreError } from "../../errors.js";

/**
 * A `SessionStoreError`, also one thrown by a second copy of flagon: a bundler (Vite's SSR build,
 * adapter-node's rollup pass) may inline flagon into the server bundle while a store or the core
 * comes from node_modules, and `instanceof` fails across copies. Recognised by its name and code.
 */
export function isSessionStoreError(error: unknown): error is SessionStoreError {
  if (error instanceof SessionStoreError) return true;
  if (!(error instanceof Error) || error.name !== "SessionStoreError") return false;
  const code = (error as { code?: unknown }).code;
  return code === "ERR_STORE_UNAVAILABLE" || code === "ERR_STORE_FAILED";
}
