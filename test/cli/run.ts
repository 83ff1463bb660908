import { main } from "../../src/cli/index.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, capturing its output. */
export async function run(argv: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
  });
  return { code, stdout, stderr };
}

/** Runs it with --json appended and parses stdout. */
export async function runJSON<T = Record<string, unknown>>(argv: string[], env?: Record<string, string>) {
  const result = await run([...argv, "--json"], env);
  return { ...result, json: JSON.parse(result.stdout) as T };
}
