import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { EXIT } from "../../src/cli/index.js";
import { run } from "./run.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const execFileAsync = promisify(execFile);

/** The real entry point, as `npx flagon` runs it (from source through tsx). */
async function spawnCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ["--conditions=flagon-source", "--import", "tsx", "src/cli/index.ts", ...args],
      { cwd: ROOT, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

describe("flagon (entry point)", () => {
  it("runs as a child process: `flagon keygen` prints a secret and exits 0", async () => {
    const { code, stdout } = await spawnCli(["keygen"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
  });

  it("propagates exit codes from a child process (decode of garbage exits 1, a bad option 2)", async () => {
    expect((await spawnCli(["decode", "not-a-cookie"])).code).toBe(EXIT.invalid);
    const usage = await spawnCli(["decode", "--bogus", "x"]);
    expect(usage.code).toBe(EXIT.usage);
    expect(usage.stderr).toContain("Unknown option '--bogus'");
  });

  it("starts with a shebang so the built file works as package.json's bin", () => {
    expect(
      readFileSync(new URL("../../src/cli/index.ts", import.meta.url), "utf8").startsWith(
        "#!/usr/bin/env node\n",
      ),
    ).toBe(true);
  });
});

describe("flagon main()", () => {
  it("without a command prints the usage on stderr and exits 2", async () => {
    const { code, stdout, stderr } = await run([]);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe("");
    expect(stderr).toContain("Usage: flagon <command>");
  });

  it("--help and `help` exit 0 and list every command", async () => {
    for (const argv of [["--help"], ["-h"], ["help"]]) {
      const { code, stdout } = await run(argv);
      expect(code).toBe(0);
      for (const command of ["keygen", "decode", "sign", "seal", "doctor"]) expect(stdout).toContain(command);
    }
  });

  it.each(["keygen", "decode", "sign", "seal", "doctor"])(
    "`%s --help` and `help %s` print that command's usage",
    async (command) => {
      for (const argv of [
        [command, "--help"],
        ["help", command],
      ]) {
        const { code, stdout } = await run(argv);
        expect(code).toBe(0);
        expect(stdout).toContain(`Usage: flagon ${command}`);
      }
    },
  );

  it("--version prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(await run(["--version"])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("an unknown command exits 2 (and `__proto__` is not a command)", async () => {
    for (const name of ["frobnicate", "__proto__", "toString"]) {
      const { code, stderr } = await run([name]);
      expect(code).toBe(EXIT.usage);
      expect(stderr).toContain(`unknown command "${name}"`);
    }
  });
});
