import { parseArgs } from "node:util";
import { randomToken } from "../crypto/random.js";
import { type CliIO, EXIT, parseCommandLine, printJSON, UsageError } from "./io.js";

export const KEYGEN_USAGE = `Usage: flagon keygen [--json]

Prints a new secret for SECRET_KEY: 32 random bytes (256 bits) from the system CSPRNG, base64url.`;

/** 32 bytes: the HMAC-SHA256 / AES-256 key size, and flagon's minimum secret length. */
const SECRET_BYTES = 32;

export function keygen(argv: readonly string[], io: CliIO): number {
  const { values, positionals } = parseCommandLine(() =>
    parseArgs({
      args: [...argv],
      options: { json: { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    }),
  );
  if (positionals.length > 0) throw new UsageError("keygen takes no arguments");
  const secret = randomToken(SECRET_BYTES);
  if (values.json) printJSON(io, { secret, bytes: SECRET_BYTES, encoding: "base64url" });
  else io.stdout(`${secret}\n`);
  return EXIT.ok;
}
