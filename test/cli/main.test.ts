import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { EXIT } from "../../src/cli/index.js";
import { run } from "./run.js";

const SECRET = "the current secret, at least 32 bytes long";
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

  it("as a user runs it: `decode sid=VALUE` verifies a pasted name=value, plain `doctor` passes flagon's default", async () => {
    const value = (await run(["sign", "--secret", SECRET, '{"user":"leo"}'])).stdout.trim();
    const decoded = await spawnCli(["decode", "--secret", SECRET, `sid=${value}`]);
    expect(decoded.code).toBe(EXIT.ok);
    expect(decoded.stdout).toMatch(/status\s+valid, verified with secret #1 \(current\)/);
    const doctor = await spawnCli(["doctor"]);
    expect(doctor.code).toBe(EXIT.ok);
    expect(doctor.stdout).toMatch(/0 fail, 0 warn, 6 pass\n$/);
    const usage = await spawnCli(["decode"]);
    expect(usage).toEqual({
      code: EXIT.usage,
      stdout: "",
      stderr: "flagon decode: missing COOKIE\nsee: flagon help decode\n",
    });
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
  it("without a command says so in one line on stderr and exits 2", async () => {
    expect(await run([])).toEqual({
      code: EXIT.usage,
      stdout: "",
      stderr: "flagon: missing command (keygen, decode, sign, seal, doctor)\nsee: flagon help\n",
    });
  });

  it.each([
    ["an unknown command", ["frobnicate"], 'flagon: unknown command "frobnicate"', "flagon help"],
    [
      "help for an unknown command",
      ["help", "frobnicate"],
      'flagon help: unknown command "frobnicate"',
      "flagon help",
    ],
    ["a missing argument", ["decode"], "flagon decode: missing COOKIE", "flagon help decode"],
    [
      "an unknown flag",
      ["doctor", "--bogus"],
      "flagon doctor: Unknown option '--bogus'",
      "flagon help doctor",
    ],
    [
      "a flag without its value",
      ["decode", "--name"],
      "flagon decode: Option '--name <value>' argument missing",
      "flagon help decode",
    ],
    [
      "a bad flag value",
      ["doctor", "--samesite", "sometimes"],
      "flagon doctor: --samesite must be lax, strict or none",
      "flagon help doctor",
    ],
    [
      "a bad number",
      ["sign", "--secret", SECRET, "--lifetime", "soon", "{}"],
      "flagon sign: --lifetime must be a whole number of seconds",
      "flagon help sign",
    ],
    [
      "an extra argument",
      ["keygen", "extra"],
      "flagon keygen: keygen takes no arguments",
      "flagon help keygen",
    ],
  ])("%s is one line and where to read more, exit 2: %j", async (_what, argv, line, see) => {
    const { code, stdout, stderr } = await run(argv);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe("");
    const lines = stderr.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain(line);
    expect(lines[1]).toBe(`see: ${see}`);
    expect(lines[2]).toBe("");
    expect(stderr).not.toContain("Usage:");
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
        const { code, stdout, stderr } = await run(argv);
        expect(code).toBe(0);
        expect(stderr).toBe("");
        expect(stdout).toMatch(new RegExp(`^Usage: flagon ${command}`));
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

/** The team's design-time documents and folder, which the package does not ship (names built, not cited). */
const UNSHIPPED = new RegExp(
  ["SECURITY", "DESIGN", "PITFALLS"].map((name) => `${name}\\.md`).join("|") + "|shared/",
);

describe("help texts cite files the package ships", () => {
  it.each([[[]], [["keygen"]], [["decode"]], [["sign"]], [["seal"]], [["doctor"]]])(
    "`flagon help %j` names no design-time document that the package does not ship",
    async (topic) => {
      const { stdout } = await run(["help", ...topic]);
      expect(stdout).not.toMatch(UNSHIPPED);
      for (const [doc] of stdout.matchAll(/docs\/[a-z-]+\.md/g))
        expect(doc).toMatch(/^docs\/(security|formats|flask|cli)\.md$/);
    },
  );
});
