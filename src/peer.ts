import { createRequire } from "node:module";
import { ConfigError } from "./errors.js";

/**
 * Node's own `createRequire`, taken at run time where Node has `process.getBuiltinModule` (20.16+):
 * a bundler (webpack in Next.js) rewrites a static `createRequire(import.meta.url)` into its own
 * require, which cannot load a peer the app leaves to Node (`serverExternalPackages`).
 */
const nodeModule = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule?.(
  "node:module",
) as { createRequire: typeof createRequire } | undefined;
const requireFromHere = (nodeModule?.createRequire ?? createRequire)(import.meta.url);

/**
 * Loads an optional peer dependency synchronously (so `require("flagon/sqlite")` keeps working:
 * a module with top-level await cannot be required). When the peer is not installed, the error
 * names the package, the version range that works and the command to install it, instead of
 * Node's bare `Cannot find package`.
 *
 * @param entry the flagon entry point that needs it, e.g. `"flagon/sqlite"`
 * @param name the npm package
 * @param range a version range known to work on Node 20, e.g. `"12"`
 * @param note an extra sentence for the message (e.g. an install-script approval)
 */
export function requirePeer<T>(entry: string, name: string, range: string, note = ""): T {
  try {
    return requireFromHere(name) as T;
  } catch (error) {
    throw peerError(error, entry, name, range, note);
  }
}

/**
 * The error to throw for a failed `require` or `import()` of the peer `name`: `ERR_PEER_MISSING`
 * (naming the package, range and install command) when the peer itself is not installed, else the
 * original error (a broken install inside the peer keeps its own message).
 */
export function peerError(error: unknown, entry: string, name: string, range: string, note = ""): unknown {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : "";
  const missing =
    (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") &&
    (message.includes(`'${name}'`) || message.includes(`'${name}/`));
  if (!missing) return error;
  return new ConfigError(
    "ERR_PEER_MISSING",
    `${entry} needs the package ${name}@${range}, which is not installed: npm install ${name}@${range}${note ? `. ${note}` : ""}`,
    { cause: error },
  );
}
