// The example uses flagon through its package entries ("flagon", "flagon/next"…) with the
// repository's "flagon-source" condition, as `npm start` runs the lesson app: the TypeScript sources
// are compiled with the app. Built with webpack (`next build --webpack`): Turbopack has no option
// for a custom condition, nor for TypeScript's `./x.js` → `./x.ts` import rewriting.
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));

/** @type {import("next").NextConfig} */
export default {
  // node_modules and the library's sources live in the repository root, above this folder.
  outputFileTracingRoot: repo,
  // Optional peers stay Node's to load, as in any app.
  serverExternalPackages: ["redis", "better-sqlite3"],
  poweredByHeader: false,
  webpack(config) {
    config.resolve.conditionNames = ["flagon-source", ...(config.resolve.conditionNames ?? ["..."])];
    config.resolve.extensionAlias = { ".js": [".ts", ".tsx", ".js"] };
    return config;
  },
};
