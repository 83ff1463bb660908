import { ConfigError } from "./errors.js";

/**
 * Options a user may bring from another library, with what flagon does instead. A known name is
 * explained rather than merely listed as unknown.
 */
export type OptionHints = Readonly<Record<string, string>>;

/** What express-session's (and cookie-session's) options became in flagon. */
export const EXPRESS_SESSION_HINTS: OptionHints = Object.freeze({
  resave:
    "flagon writes only what a request changed (a change set), so there is nothing to resave; remove it",
  saveUninitialized:
    "flagon never stores a session the request did not change; remove it (anonymous sessions cost nothing)",
  maxAge: "use permanentLifetime (seconds) and session.permanent = true",
  expires: "use permanentLifetime (seconds) and session.permanent = true",
  genid: "flagon generates 256-bit random ids itself; remove it",
  proxy: "set Express's own `trust proxy` setting; flagon reads req.secure",
  rolling: "rolling is a top-level option in flagon: createSessions({ rolling: true })",
  unset: "session.clear() or session.destroy() say what to do with the data; remove it",
  keys: "use secret: [newest, ...older] (the first signs, all verify)",
  secrets: "use secret: [newest, ...older] (the first signs, all verify)",
  signed: "flagon always signs or seals its cookies; remove it",
  overwrite: "flagon always sends one Set-Cookie per name; remove it",
  password: "use secret (at least 32 characters)",
  cookieName: "use cookie: { name }",
  cookieOptions: "use cookie: { path, domain, secure, httpOnly, sameSite, partitioned }",
  ttl: "use permanentLifetime, idleTimeout or absoluteTimeout (seconds) on createSessions",
});

/** Names of `cookie` settings elsewhere that flagon spells differently. */
export const COOKIE_OPTION_HINTS: OptionHints = Object.freeze({
  maxAge: "use permanentLifetime (seconds) on the session options and session.permanent = true",
  expires: "use permanentLifetime (seconds) on the session options and session.permanent = true",
  signed: "flagon always signs or seals its cookies; remove it",
  httponly: "spelled httpOnly",
  samesite: "spelled sameSite",
});

function closest(name: string, valid: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of valid) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * Refuses option names the factory does not know, at construction: a misspelt option is silently
 * ignored by most libraries and then surfaces as wrong behaviour in production.
 *
 * @param where how the user reaches these options, e.g. `"createSessions"` or `"redisStore"`
 * @param options the caller's object (undefined is fine: nothing to check)
 * @param valid every accepted name
 * @param hints names from other libraries, with what to do instead
 */
export function checkOptionNames(
  where: string,
  options: unknown,
  valid: readonly string[],
  hints: OptionHints = {},
): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `${where}: options must be an object, got ${describe(options)}`,
    );
  }
  for (const name of Object.keys(options)) {
    if (valid.includes(name)) continue;
    const hint = Object.hasOwn(hints, name) ? hints[name] : undefined;
    const suggestion = closest(name, valid);
    const why =
      hint !== undefined ? `: ${hint}` : suggestion !== undefined ? `; did you mean "${suggestion}"?` : "";
    throw new ConfigError(
      "ERR_UNKNOWN_OPTION",
      `${where}: unknown option "${name}"${why}. Valid options: ${valid.join(", ")}`,
    );
  }
}

/** A short, safe description of a value for an error message (never the value of a secret). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return `a function${value.name ? ` (${value.name})` : ""}`;
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/**
 * An options interface's names, as one list kept beside it and checked both ways at compile time:
 * `everyOptionName<Options>()(["a", "b"])` does not compile when the list names a key the interface
 * lacks, or leaves one of its keys out (the error names the missing key). The list feeds
 * `checkOptionNames`.
 */
export function everyOptionName<Options>() {
  return <const Names extends ReadonlyArray<keyof Options & string>>(
    names: Names &
      ([Exclude<keyof Options, Names[number]>] extends [never]
        ? unknown
        : { missingOptionNames: Exclude<keyof Options, Names[number]> }),
  ): Names => names;
}
