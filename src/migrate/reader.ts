/**
 * What every legacy reader shares: the `LegacyReader` contract the session core calls
 * (`createSessions({ migrateFrom })`), the options all five factories take (`map`, `path`, `domain`),
 * and the small checks each format needs (timing-safe string equality, a JSON object).
 */
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";
import { checkOptionNames, describe } from "../config-check.js";
import { serializeCookie } from "../cookie/serialize.js";
import type { RejectReason } from "../crypto/claims.js";
import { ConfigError, CookieError, FlagonError } from "../errors.js";
import { invalidOption } from "../stores/options.js";

/**
 * Why a legacy reader refused what the request carried: the formats' shared vocabulary
 * (`RejectReason`, src/crypto/claims.ts), plus `unknown-id` for a correctly signed express-session id
 * whose record the store does not have (expired there, or destroyed).
 */
export type LegacyRejectReason = RejectReason | "unknown-id";

/** The session data a legacy cookie carried, as a plain object of JSON values. */
export type LegacyData = Record<string, unknown>;

/** What `read` found: the legacy session's data, or why it was refused. */
export type LegacyReadResult =
  | {
      ok: true;
      /** The data to start the new flagon session with (after `map`). */
      data: LegacyData;
      /**
       * The legacy cookie outlived the browser session (it had an expiry): the flagon session is made
       * `permanent`, so closing the browser does not log the user out where it did not before.
       */
      permanent: boolean;
      /**
       * Runs once the new flagon session is committed (before the response is sent): express-session's
       * `destroyLegacy` deletes the old record here. Rejects with `SessionStoreError`.
       */
      afterCommit?: () => Promise<void>;
    }
  | { ok: false; reason: LegacyRejectReason };

/** A cookie a legacy library wrote, expired in the response that migrates it. */
export interface LegacyCookie {
  readonly name: string;
  readonly path: string;
  readonly domain: string | undefined;
}

/**
 * Reads one other library's session from a request's cookies. Made by the factories of
 * `flagon/migrate` (`expressSession`, `cookieSession`, `ironSession`, `djangoSignedCookies`,
 * `railsEncryptedCookie`) and passed to `createSessions({ migrateFrom: [...] })`, which calls it only
 * for a request that has no valid flagon session.
 */
export interface LegacyReader {
  /** The library it reads: `"express-session"`, `"cookie-session"`, `"iron-session"`, `"django"`, `"rails"`. */
  readonly name: string;
  /** The cookies it reads; all of them are expired once it migrated a session. */
  readonly cookies: readonly LegacyCookie[];
  /**
   * The legacy session in `cookies` (the request's, parsed), `undefined` when the request carries
   * none of this reader's cookies. Never rejects for a bad cookie (that is `{ ok: false }`); rejects
   * with `SessionStoreError` when a legacy store cannot answer.
   */
  read(
    cookies: Readonly<Record<string, string>>,
    context: { now: number },
  ): LegacyReadResult | undefined | Promise<LegacyReadResult | undefined>;
}

/** Options every reader takes. */
export interface LegacyReaderOptions {
  /**
   * Turns the legacy session's data into the new flagon session's (rename keys, drop the old
   * library's bookkeeping, look a user up). Runs once per migrated session; may be async.
   * @default the data as it is
   */
  map?: (data: LegacyData) => LegacyData | Promise<LegacyData>;
  /** The `Path` the legacy cookie was set with (it must match for the browser to expire it). @default "/" */
  path?: string;
  /** The `Domain` the legacy cookie was set with, if any. @default undefined */
  domain?: string;
}

export const COMMON_OPTION_NAMES = ["map", "path", "domain"] as const;

/** The checked common options. */
export interface CommonOptions {
  map: ((data: LegacyData) => LegacyData | Promise<LegacyData>) | undefined;
  path: string;
  domain: string | undefined;
}

/**
 * Refuses unknown option names (with `hints` for names from the legacy library itself), then checks
 * and returns the common ones.
 */
export function commonOptions(
  where: string,
  options: unknown,
  names: readonly string[],
  hints: Readonly<Record<string, string>> = {},
): CommonOptions {
  if (options === undefined || options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `${where}: options must be an object, got ${describe(options)}`,
    );
  }
  checkOptionNames(where, options, names, hints);
  const { map, path, domain } = options as LegacyReaderOptions;
  if (map !== undefined && typeof map !== "function") throw invalidOption(where, "map", "a function", map);
  if (path !== undefined && (typeof path !== "string" || !path.startsWith("/")))
    throw invalidOption(where, "path", 'a path starting with "/"', path);
  if (domain !== undefined && (typeof domain !== "string" || domain === ""))
    throw invalidOption(where, "domain", "a non-empty string", domain);
  return { map, path: path ?? "/", domain };
}

/** A required string option (a cookie name). */
export function nameOption(where: string, name: string, value: unknown, fallback?: string): string {
  const resolved = value ?? fallback;
  if (typeof resolved !== "string" || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(resolved))
    throw invalidOption(where, name, "a cookie name", value);
  return resolved;
}

/**
 * A legacy library's secret: one string or a list (all are tried). `process.env.X` may be passed as it
 * is: a missing one fails at construction (`ERR_SECRET_MISSING`), not on the first request.
 */
export type LegacySecret = string | undefined | readonly (string | undefined)[];

/** What a secret option got, for a message: never the secret itself. */
function describeSecret(secret: unknown): string {
  if (secret === undefined) return "undefined (an unset environment variable?)";
  return typeof secret === "string" ? `a string of ${secret.length} characters` : describe(secret);
}

/**
 * One secret or a list (the first was current in the old app, all are tried): each a non-empty
 * string. Legacy secrets are whatever the old app used, so no length rule here beyond the library's own.
 */
export function secretsOption(where: string, name: string, value: unknown, minLength = 1): string[] {
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigError(
      "ERR_SECRET_MISSING",
      `${where}: \`${name}\` is required: the secret the old app signed its sessions with (a string or a list)`,
    );
  }
  for (const secret of list) {
    if (typeof secret !== "string" || secret.length < minLength) {
      throw new ConfigError(
        minLength > 1 && typeof secret === "string" ? "ERR_SECRET_TOO_SHORT" : "ERR_SECRET_MISSING",
        `${where}: each \`${name}\` must be a string${minLength > 1 ? ` of at least ${minLength} characters` : " (not empty)"}, got ${describeSecret(secret)}`,
      );
    }
  }
  return list as string[];
}

/**
 * The reader's cookies, frozen, with the common path and domain. Each is expired once now, on paper:
 * a name, path and domain that no Set-Cookie can expire (a `__Host-` name with a domain) fail here,
 * at start-up, not in the response that migrates a user.
 */
export function legacyCookies(
  where: string,
  names: readonly string[],
  common: CommonOptions,
): readonly LegacyCookie[] {
  return Object.freeze(
    names.map((name) => {
      const cookie = Object.freeze({ name, path: common.path, domain: common.domain });
      try {
        expiryLine(cookie, true);
      } catch (error) {
        if (!(error instanceof CookieError)) throw error;
        throw new ConfigError(
          "ERR_INVALID_OPTION",
          `${where}: the cookie ${name} cannot be expired: ${error.message}`,
          {
            cause: error,
          },
        );
      }
      return cookie;
    }),
  );
}

/**
 * The `Set-Cookie` line that removes a legacy cookie: empty, `Max-Age=0` and an `Expires` in 1970,
 * with its `Path` and `Domain` (a browser only replaces a cookie with the same name, path and domain).
 * `Secure` on HTTPS requests and for prefixed names (which need it).
 */
export function expiryLine(cookie: LegacyCookie, secure: boolean): string {
  return serializeCookie(cookie.name, "", {
    path: cookie.path,
    domain: cookie.domain,
    secure: secure || /^__(host|secure)-/i.test(cookie.name),
    httpOnly: true,
    sameSite: "lax",
    maxAge: 0,
    expires: new Date(0),
  });
}

/** Constant-time equality of two strings (different lengths are unequal, and that is not secret). */
export function safeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given, "utf8");
  const b = Buffer.from(expected, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A JSON object (not an array, not null), or undefined. */
export function asObject(value: unknown): LegacyData | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as LegacyData)
    : undefined;
}

/** `JSON.parse` of `text` when it is an object, else undefined (never throws). */
export function parseObject(text: string): LegacyData | undefined {
  try {
    return asObject(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** The successful result, through the reader's `map`. */
export async function mapped(
  where: string,
  map: CommonOptions["map"],
  data: LegacyData,
  permanent: boolean,
  afterCommit?: () => Promise<void>,
): Promise<LegacyReadResult> {
  const result = map === undefined ? data : await map(data);
  if (asObject(result) === undefined) {
    throw new FlagonError(
      "ERR_INVALID_OPTION",
      `${where}: map() must return the new session's data as a plain object, got ${describe(result)}`,
    );
  }
  return afterCommit === undefined
    ? { ok: true, data: result, permanent }
    : { ok: true, data: result, permanent, afterCommit };
}

/** A refusal (shared, frozen: refusing garbage allocates nothing). */
export const REFUSED: Readonly<Record<LegacyRejectReason, LegacyReadResult>> = Object.freeze({
  malformed: Object.freeze({ ok: false, reason: "malformed" }),
  "bad-mac": Object.freeze({ ok: false, reason: "bad-mac" }),
  "wrong-name": Object.freeze({ ok: false, reason: "wrong-name" }),
  expired: Object.freeze({ ok: false, reason: "expired" }),
  "not-yet-valid": Object.freeze({ ok: false, reason: "not-yet-valid" }),
  "bad-payload": Object.freeze({ ok: false, reason: "bad-payload" }),
  "unknown-id": Object.freeze({ ok: false, reason: "unknown-id" }),
});
