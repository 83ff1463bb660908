/**
 * Builds what the benchmark servers run: flagon from dist/ (tsc), as users deploy it, and
 * bench/servers.ts through esbuild into bench/.build/servers.mjs (without keepNames). Running the
 * sources through tsx would bill flagon for tsx's per-call `__name` helper (an Object.defineProperty
 * per nested function), which no competitor pays. Shared by `npm run bench` and `npm run bench:instructions`.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const root = fileURLToPath(new URL("..", import.meta.url));
export const serversScript = fileURLToPath(new URL("./.build/servers.mjs", import.meta.url));

export async function compile(): Promise<void> {
  execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
  await build({
    entryPoints: [fileURLToPath(new URL("./servers.ts", import.meta.url))],
    outfile: serversScript,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    bundle: true,
    logLevel: "warning",
  });
}
