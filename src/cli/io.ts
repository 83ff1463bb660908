/** Plumbing shared by the `flagon` commands: I/O, exit codes, argument helpers. */

/** Where a command writes; tests pass their own. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Environment for `--secret-env`. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Exit codes, stable for scripts (docs/cli.md). */
export const EXIT = {
  /** Done; the cookie is valid (or readable, when no secret was given). */
  ok: 0,
  /** The cookie is invalid (tampered, wrong key or name, malformed), or `doctor` found a failing rule. */
  invalid: 1,
  /** Bad command line (unknown option, missing argument, a secret that is too short). */
  usage: 2,
  /** The cookie is authentic but expired, or issued in the future. */
  expired: 3,
} as const;

/** A command-line mistake: printed as one line and "see: flagon help <command>", exit code 2. */
export class UsageError extends Error {}

/**
 * Runs `parseArgs` (call it with `strict: true, allowPositionals: true`) and turns its errors
 * (unknown option, missing value) into `UsageError`s.
 */
export function parseCommandLine<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Node adds a second sentence about "--" to unknown options: the first says what is wrong.
    throw new UsageError(message.replace(/^(Unknown option '[^']*')\. To specify a positional.*$/s, "$1"));
  }
}

/** The one positional argument a command takes (`COOKIE`, `DATA`, …). */
export function single(positionals: readonly string[], what: string, required = true): string | undefined {
  if (positionals.length > 1)
    throw new UsageError(`expected one ${what}, got ${positionals.length} arguments`);
  if (required && positionals.length === 0) throw new UsageError(`missing ${what}`);
  return positionals[0];
}

/** Secrets from `--secret` (visible in `ps` and shell history) and `--secret-env NAME` (safer). */
export function collectSecrets(
  values: { secret?: string[] | undefined; "secret-env"?: string[] | undefined },
  io: CliIO,
): string[] {
  const env = io.env ?? process.env;
  const fromEnv = (values["secret-env"] ?? []).map((name) => {
    const secret = env[name];
    if (secret === undefined || secret === "")
      throw new UsageError(`environment variable ${name} is not set`);
    return secret;
  });
  return [...(values.secret ?? []), ...fromEnv];
}

/** A whole, non-negative number of seconds from an option. */
export function seconds(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${option} must be a whole number of seconds`);
  }
  return Number(text);
}

export function printJSON(io: CliIO, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** "3 d", "5 min", "12 s": for humans, next to the exact ISO times. */
export function humanDuration(ms: number): string {
  const abs = Math.abs(ms) / 1000;
  if (abs < 120) return `${Math.round(abs)} s`;
  if (abs < 7200) return `${Math.round(abs / 60)} min`;
  if (abs < 172_800) return `${Math.round(abs / 3600)} h`;
  return `${Math.round(abs / 86_400)} d`;
}

export function relative(ms: number, now: number): string {
  return ms >= now ? `in ${humanDuration(ms - now)}` : `${humanDuration(now - ms)} ago`;
}

/** Aligned "label  value" lines. */
export function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
}
