import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const server = join(repo, "examples", "lesson", "server.ts");

/** tsx's ESM loader as a file URL, so the server can run from any working directory. */
function tsxLoader(): string {
  const manifest = createRequire(import.meta.url).resolve("tsx/package.json");
  const entry = (JSON.parse(readFileSync(manifest, "utf8")) as { exports: Record<string, string> }).exports[
    "."
  ];
  return pathToFileURL(join(dirname(manifest), entry ?? "dist/loader.mjs")).href;
}

export interface LessonProcessOptions {
  /** Environment on top of PATH and HOME (nothing else leaks in from the test's environment). */
  env?: Record<string, string>;
  /** The working directory: where `data/` goes when DATA_DIR is not set. @default the repository */
  cwd?: string;
}

export interface RunningLesson {
  url: string;
  child: ChildProcess;
  /** Everything the server printed so far. */
  output: () => string;
  /** SIGTERM, then resolves with the exit code. */
  stop: () => Promise<number | null>;
}

/** `npm start`'s command: `node --conditions=flagon-source --import tsx examples/lesson/server.ts`, on PORT 0. */
function spawnLesson(options: LessonProcessOptions) {
  const child = spawn(process.execPath, ["--conditions=flagon-source", "--import", tsxLoader(), server], {
    cwd: options.cwd ?? repo,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", PORT: "0", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = once(child, "exit").then(([code]) => code as number | null);
  return { child, exited, output: () => output };
}

/** Starts the lesson app and waits for the URL it prints last. */
export async function startLesson(
  options: LessonProcessOptions = {},
  timeoutMs = 30_000,
): Promise<RunningLesson> {
  const { child, exited, output } = spawnLesson(options);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new Error(`lesson app did not start:\n${output()}`));
    }, timeoutMs);
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output());
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`lesson app exited with ${code}:\n${output()}`));
    });
  });
  return {
    url,
    child,
    output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Runs the server to completion (for start-up failures) and returns its exit code and output. */
export async function runLessonToExit(
  options: LessonProcessOptions = {},
): Promise<{ code: number | null; output: string }> {
  const { exited, output } = spawnLesson(options);
  const code = await exited;
  return { code, output: output() };
}
