#!/usr/bin/env node
/**
 * `flagon`: keygen, decode, sign, seal, doctor (docs/cli.md). Built on `node:util` parseArgs.
 * `main(argv, io)` runs in-process (tests); running this file runs it on process.argv.
 */
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DECODE_USAGE, decode } from "./decode.js";
import { DOCTOR_USAGE, doctor } from "./doctor.js";
import { type CliIO, EXIT, UsageError } from "./io.js";
import { KEYGEN_USAGE, keygen } from "./keygen.js";
import { mint, SEAL_USAGE, SIGN_USAGE } from "./mint.js";

export type { CliIO } from "./io.js";
export { EXIT } from "./io.js";

const USAGE = `Usage: flagon <command> [options]

Commands:
  keygen   print a new secret for SECRET_KEY (32 random bytes, base64url)
  decode   show what a session cookie holds, whether and with which secret it verifies
  sign     mint a signed test cookie (flagon, session id, or --flask)
  seal     mint an encrypted test cookie
  doctor   check a cookie (flagon's default, options or a Set-Cookie line) against docs/security.md

Run "flagon help <command>" (or "flagon <command> --help") for its options. "--json" prints
machine-readable output. Exit codes: 0 ok, 1 invalid cookie or failing rule, 2 usage error,
3 expired cookie (docs/cli.md).`;

interface Command {
  usage: string;
  run(argv: readonly string[], io: CliIO): number | Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  keygen: { usage: KEYGEN_USAGE, run: keygen },
  decode: { usage: DECODE_USAGE, run: decode },
  sign: { usage: SIGN_USAGE, run: (argv, io) => mint("sign", argv, io) },
  seal: { usage: SEAL_USAGE, run: (argv, io) => mint("seal", argv, io) },
  doctor: { usage: DOCTOR_USAGE, run: doctor },
};

const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

function version(): string {
  // src/cli/index.ts and dist/cli/index.js both sit two levels below package.json.
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/**
 * A usage error is one line, and where to read more: never the whole help, which would bury the
 * line that says what was wrong.
 */
function usageError(io: CliIO, prefix: string, message: string, topic?: string): number {
  const line = message.replace(/\s*\n\s*/g, " ").trim();
  io.stderr(`${prefix}: ${line}\nsee: flagon help${topic === undefined ? "" : ` ${topic}`}\n`);
  return EXIT.usage;
}

const commandNames = Object.keys(COMMANDS).join(", ");

const commandOf = (name: string): Command | undefined =>
  Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;

/** Runs one command line (without "node flagon"); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) return usageError(io, "flagon", `missing command (${commandNames})`);
  if (name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    if (topic === undefined) {
      io.stdout(`${USAGE}\n`);
      return EXIT.ok;
    }
    const command = commandOf(topic);
    if (command === undefined)
      return usageError(io, "flagon help", `unknown command "${topic}" (${commandNames})`);
    io.stdout(`${command.usage}\n`);
    return EXIT.ok;
  }
  if (name === "--version" || name === "-v") {
    io.stdout(`${version()}\n`);
    return EXIT.ok;
  }
  const command = commandOf(name);
  if (command === undefined) return usageError(io, "flagon", `unknown command "${name}" (${commandNames})`);
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(`${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageError(io, `flagon ${name}`, error.message, name);
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    // npm's bin shims are symlinks: compare real paths.
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`flagon: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
