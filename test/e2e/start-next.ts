/**
 * The Next example (examples/next): `next build` once per test run, then `next start` on a free
 * port, stopped by PID. Telemetry is off; nothing is downloaded (SWC comes from npm as
 * @next/swc-linux-x64-gnu, an optional dependency of next).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));
export const exampleDir = fileURLToPath(new URL("../../examples/next", import.meta.url));
const nextBin = fileURLToPath(new URL("../../node_modules/next/dist/bin/next", import.meta.url));

function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    NEXT_TELEMETRY_DISABLED: "1",
    ...extra,
  };
}

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [nextBin, ...args], {
    cwd: exampleDir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  return { child, exited, output: () => output };
}

let built: Promise<void> | undefined;

/** `next build --webpack` of the example, once per process (minutes on a loaded 2-core machine). */
export function buildNextExample(timeoutMs = 540_000): Promise<void> {
  built ??= (async () => {
    const build = run(["build", "--webpack"], baseEnv({ NODE_ENV: "production" }));
    const timer = setTimeout(() => build.child.kill("SIGTERM"), timeoutMs);
    const code = await build.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`next build failed (${code}) in ${repo}:\n${build.output()}`);
  })();
  return built;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RunningNext {
  url: string;
  /** ms from spawning `next start` to the first answer of the probe path. */
  readyMs: number;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<number | null>;
}

/** `next start` of the built example on a free port of 127.0.0.1; resolves once `probe` answers 200. */
export async function startNextExample(
  env: Record<string, string>,
  { timeoutMs = 60_000, probe = "/api/static" }: { timeoutMs?: number; probe?: string } = {},
): Promise<RunningNext> {
  const port = await freePort();
  const spawned = performance.now();
  const server = run(
    ["start", "-p", String(port), "-H", "127.0.0.1"],
    baseEnv({ NODE_ENV: "production", ...env }),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void server.exited.then((code) => {
    exitCode = code;
  });
  for (;;) {
    if (exitCode !== undefined) throw new Error(`next start exited with ${exitCode}:\n${server.output()}`);
    try {
      const response = await fetch(`${url}${probe}`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      server.child.kill("SIGTERM");
      throw new Error(`next start did not answer within ${timeoutMs} ms:\n${server.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    url,
    readyMs: performance.now() - spawned,
    child: server.child,
    output: server.output,
    stop: async () => {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGTERM");
      return server.exited;
    },
  };
}
