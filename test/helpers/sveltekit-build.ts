/**
 * Builds test/fixtures/sveltekit-app with Vite + adapter-node, once per version of its sources:
 * the output lives in node_modules/.cache/flagon-sveltekit/<hash> (inside the repository, so the
 * built server resolves its packages from node_modules), keyed by a hash of the fixture, flagon's
 * src/, the parity routes it mounts and package-lock.json. A build takes 10-30 s on a loaded machine.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const FIXTURE = join(root, "test/fixtures/sveltekit-app");
const SKIP = new Set(["node_modules", ".svelte-kit", ".svelte-kit-out", "build"]);

function files(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !SKIP.has(name))
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    })
    .sort();
}

function sourceHash(): string {
  const hash = createHash("sha256");
  const inputs = [
    ...files(FIXTURE),
    ...files(join(root, "src")),
    join(root, "test/adapters/parity/routes.ts"),
    join(root, "package-lock.json"),
  ];
  for (const file of inputs) hash.update(relative(root, file)).update("\0").update(readFileSync(file));
  return hash.digest("hex").slice(0, 16);
}

function run(command: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: FIXTURE, env: { ...process.env, ...env }, stdio: "pipe" });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`vite build exited with ${code}:\n${output}`)),
    );
  });
}

let pending: Promise<string> | undefined;

/** The adapter-node build folder (holding handler.js and index.js), built if needed. */
export function svelteKitBuild(): Promise<string> {
  pending ??= (async () => {
    const cache = join(root, "node_modules/.cache/flagon-sveltekit");
    const out = join(cache, sourceHash());
    if (existsSync(join(out, "build/handler.js"))) return join(out, "build");
    mkdirSync(cache, { recursive: true });
    // Build beside the final folder, then rename: a concurrent build (another test process) or an
    // interrupted one never leaves a half-written folder under the hash.
    const staging = `${out}.${process.pid}.tmp`;
    rmSync(staging, { recursive: true, force: true });
    await run(process.execPath, [join(root, "node_modules/vite/bin/vite.js"), "build"], {
      FLAGON_SVELTEKIT_OUT: staging,
    });
    try {
      renameSync(staging, out);
    } catch (error) {
      // Another process finished the same build first: use theirs.
      if (!existsSync(join(out, "build/handler.js"))) throw error;
      rmSync(staging, { recursive: true, force: true });
    }
    // Builds of older sources are never used again.
    for (const name of readdirSync(cache)) {
      if (name !== basename(out) && !name.endsWith(".tmp"))
        rmSync(join(cache, name), { recursive: true, force: true });
    }
    return join(out, "build");
  })();
  return pending;
}
