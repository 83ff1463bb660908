import { createRequire } from "node:module";
import { ConfigError } from "./errors.js";

const requireFromHere = createRequire(import.meta.url);

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
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : "";
    // Only the peer itself missing: a broken install inside the peer keeps its own error.
    if (code !== "MODULE_NOT_FOUND" || !message.includes(`'${name}'`)) throw error;
    throw new ConfigError(
      "ERR_PEER_MISSING",
      `${entry} needs the package ${name}@${range}, which is not installed: npm install ${name}@${range}${note ? `. ${note}` : ""}`,
      { cause: error },
    );
  }
}
