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
  doctor   check a cookie configuration against SECURITY.md

Run "flagon <command> --help" for its options. "--json" prints machine-readable output.`;

interface Command {
  usage: string;
  run(argv: readonly string[], io: CliIO): number;
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

/** Runs one command line (without "node flagon"); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr(`${USAGE}\n`);
    return EXIT.usage;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" && rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    io.stdout(`${topic?.usage ?? USAGE}\n`);
    return EXIT.ok;
  }
  if (name === "--version" || name === "-v") {
    io.stdout(`${version()}\n`);
    return EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.stderr(`flagon: unknown command "${name}"\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(`${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    return command.run(rest, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`flagon ${name}: ${error.message}\n\n${command.usage}\n`);
    return EXIT.usage;
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
