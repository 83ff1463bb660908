import { Keyring } from "../crypto/keyring.js";
import { ConfigError } from "../errors.js";
import type { SessionStore } from "../stores/types.js";

/** Flask's PERMANENT_SESSION_LIFETIME: 31 days, in seconds. */
export const DEFAULT_PERMANENT_LIFETIME = 31 * 24 * 60 * 60;
/** RFC 6265bis §5.5: user agents cap Max-Age at 400 days. */
export const MAX_COOKIE_LIFETIME = 400 * 24 * 60 * 60;

/** A Standard Schema validator (zod, valibot, arktype…): only the part flagon calls. */
export interface StandardSchemaLike<T> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    validate(
      value: unknown,
    ):
      | { readonly value: T; readonly issues?: undefined }
      | { readonly issues: ReadonlyArray<{ readonly message: string }> }
      | Promise<
          | { readonly value: T; readonly issues?: undefined }
          | { readonly issues: ReadonlyArray<{ readonly message: string }> }
        >;
  };
}

/** Where flagon reports why a cookie was not accepted. Fields never hold ids or cookie values. */
export interface SessionLogger {
  debug?(message: string, fields?: Record<string, unknown>): void;
  warn?(message: string, fields?: Record<string, unknown>): void;
}

export interface SessionCookieOptions {
  /**
   * Cookie name. On HTTPS the `__Host-` prefix is added when the cookie is eligible
   * (Path=/, no Domain), else `__Secure-`; see `prefix`.
   * @default "sid" (or the store's own default, e.g. "session" for Flask)
   */
  name?: string;
  /** @default "/" */
  path?: string;
  /** Setting a domain makes the cookie ineligible for `__Host-`. @default undefined */
  domain?: string;
  /**
   * `"auto"`: Secure (and the prefix) when the request arrived over HTTPS, plain on http:// (development).
   * @default "auto"
   */
  secure?: boolean | "auto";
  /** @default true */
  httpOnly?: boolean;
  /** @default "lax" */
  sameSite?: "lax" | "strict" | "none";
  /** CHIPS. Requires Secure. @default false */
  partitioned?: boolean;
  /** Add `__Host-`/`__Secure-` to the name on secure requests. @default true (false for stores with their own name, e.g. Flask) */
  prefix?: boolean;
}

export interface SessionsOptions<T> {
  /** One secret or a list: the first signs/seals, all verify (rotation). Each at least 32 bytes. */
  secret?: string | readonly string[];
  /** @default memoryStore() */
  store?: SessionStore;
  cookie?: SessionCookieOptions;
  /** Lifetime of a permanent session (cookie Max-Age) and the server-side lifetime of every session, in seconds. @default 2678400 (31 days, as Flask) */
  permanentLifetime?: number;
  /** Seconds of inactivity after which a session expires on the server. @default undefined (none) */
  idleTimeout?: number;
  /** Seconds after creation after which a session expires, however active. @default undefined (none) */
  absoluteTimeout?: number;
  /** Re-issue the cookie / extend the record on activity (throttled by `touchAfter`). @default false */
  rolling?: boolean;
  /** Minimum seconds between two activity refreshes. @default min(60, idleTimeout / 10) */
  touchAfter?: number;
  /** Validates stored data on load; data that fails becomes an empty session. */
  schema?: StandardSchemaLike<T>;
  /** `Cache-Control` added to responses that set the session cookie; `false` adds none. @default "private, no-store" */
  cacheControl?: string | false;
  /** Ignore Cookie headers longer than this many bytes (hash-flooding and ReDoS guard). @default 8192 */
  maxCookieHeaderBytes?: number;
  logger?: SessionLogger;
}

export interface ResolvedCookieOptions {
  readonly name: string;
  readonly path: string;
  readonly domain: string | undefined;
  readonly secure: boolean | "auto";
  readonly httpOnly: boolean;
  readonly sameSite: "lax" | "strict" | "none";
  readonly partitioned: boolean;
  readonly prefix: boolean;
}

export interface ResolvedOptions<T> {
  readonly keyring: Keyring | undefined;
  readonly store: SessionStore;
  readonly cookie: ResolvedCookieOptions;
  readonly permanentLifetimeMs: number;
  readonly idleTimeoutMs: number | undefined;
  readonly absoluteTimeoutMs: number | undefined;
  readonly rolling: boolean;
  readonly touchAfterMs: number;
  readonly schema: StandardSchemaLike<T> | undefined;
  readonly cacheControl: string | false;
  readonly maxCookieHeaderBytes: number;
  readonly logger: SessionLogger;
}

function positiveSeconds(name: string, value: number | undefined, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `${name} must be a positive number of seconds, got ${String(value)}`,
    );
  }
  return value;
}

/** Own, non-inherited property: option objects from JSON must not smuggle `__proto__` values in. */
function own<O extends object, K extends keyof O>(object: O | undefined, key: K): O[K] | undefined {
  return object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;
}

export function resolveOptions<T>(
  options: SessionsOptions<T>,
  defaultStore: () => SessionStore,
): ResolvedOptions<T> {
  const store = own(options, "store") ?? defaultStore();
  const ownsKeys = store.kind === "client" && "ownsKeys" in store && store.ownsKeys === true;
  const secret = own(options, "secret");
  // Stores that carry their own keys (Flask) need no flagon secret; every other store does.
  const keyring = ownsKeys && secret === undefined ? undefined : new Keyring(secret);

  const cookie = own(options, "cookie");
  const storeName = store.kind === "client" ? store.defaultCookieName : undefined;
  const name = own(cookie, "name") ?? storeName ?? "sid";
  const sameSite = own(cookie, "sameSite") ?? "lax";
  if (sameSite !== "lax" && sameSite !== "strict" && sameSite !== "none") {
    throw new ConfigError("ERR_INVALID_OPTION", `cookie.sameSite must be "lax", "strict" or "none"`);
  }
  const secure = own(cookie, "secure") ?? "auto";
  const partitioned = own(cookie, "partitioned") ?? false;
  if (secure === false && (sameSite === "none" || partitioned)) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `cookie.sameSite "none" and cookie.partitioned need a Secure cookie; cookie.secure is false`,
    );
  }
  const resolvedCookie: ResolvedCookieOptions = Object.freeze({
    name,
    path: own(cookie, "path") ?? "/",
    domain: own(cookie, "domain"),
    secure,
    httpOnly: own(cookie, "httpOnly") ?? true,
    sameSite,
    partitioned,
    prefix: own(cookie, "prefix") ?? storeName === undefined,
  });

  const permanentLifetime = positiveSeconds(
    "permanentLifetime",
    own(options, "permanentLifetime"),
    DEFAULT_PERMANENT_LIFETIME,
  ) as number;
  if (permanentLifetime > MAX_COOKIE_LIFETIME) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `permanentLifetime ${permanentLifetime} s exceeds the 400-day cap browsers apply (RFC 6265bis §5.5)`,
    );
  }
  const idleTimeout = positiveSeconds("idleTimeout", own(options, "idleTimeout"));
  const absoluteTimeout = positiveSeconds("absoluteTimeout", own(options, "absoluteTimeout"));
  const touchAfter = positiveSeconds(
    "touchAfter",
    own(options, "touchAfter"),
    idleTimeout === undefined ? 60 : Math.min(60, idleTimeout / 10),
  ) as number;
  const maxCookieHeaderBytes = own(options, "maxCookieHeaderBytes") ?? 8192;
  // Checked here, not on the first request: a bad cap would otherwise make every load() throw.
  if (typeof maxCookieHeaderBytes !== "number" || !(maxCookieHeaderBytes > 0)) {
    throw new ConfigError("ERR_INVALID_OPTION", "maxCookieHeaderBytes must be a positive number of bytes");
  }

  return Object.freeze({
    keyring,
    store,
    cookie: resolvedCookie,
    // Whole milliseconds: expiries derived from them are sealed/signed as integers.
    permanentLifetimeMs: Math.ceil(permanentLifetime * 1000),
    idleTimeoutMs: idleTimeout === undefined ? undefined : Math.ceil(idleTimeout * 1000),
    absoluteTimeoutMs: absoluteTimeout === undefined ? undefined : Math.ceil(absoluteTimeout * 1000),
    rolling: own(options, "rolling") ?? false,
    touchAfterMs: Math.ceil(touchAfter * 1000),
    schema: own(options, "schema"),
    cacheControl: own(options, "cacheControl") ?? "private, no-store",
    maxCookieHeaderBytes,
    logger: own(options, "logger") ?? {},
  });
}
