import {
  COOKIE_OPTION_HINTS,
  checkOptionNames,
  describe,
  EXPRESS_SESSION_HINTS,
  everyOptionName,
} from "../config-check.js";
import { serializeCookie } from "../cookie/index.js";
import { Keyring } from "../crypto/keyring.js";
import { ConfigError, CookieError } from "../errors.js";
import type { LegacyReader } from "../migrate/reader.js";
import type { ServerStore, SessionStore } from "../stores/types.js";
import type { SessionEventListener } from "./events.js";
import { checkLegacyReaders } from "./migrate.js";

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
  /**
   * Accepted for 0.1 configurations; it no longer limits sessions: the session cookie is found in any
   * `Cookie` header the server accepted, in one linear pass that parses only the matching pair. The
   * 8 KiB cap on parsing a whole header applies to `parseCookies` and `CookieJar`. @default 8192
   * @deprecated
   */
  maxCookieHeaderBytes?: number;
  logger?: SessionLogger;
  /**
   * Seconds of inactivity after which a server-side session that never logged in (`login()`,
   * `regenerate()`) and is not permanent expires: an anonymous visitor's record lives briefly.
   * @default 3600 (one hour)
   */
  anonymousIdleTimeout?: number;
  /**
   * Where `revokeUser`/`revoke` record revocations for sessions that live in the cookie (`cookieStore`,
   * Flask's store): a server store (SQLite, Redis, Postgres) holding one small record per user who
   * logged in. Not needed with a server store: its records are revoked in place.
   */
  revocations?: SessionStore;
  /**
   * With `revocations`: seconds a process trusts what it last read for a user before reading again,
   * i.e. how long a revoked cookie session may still be accepted by another process. @default 30
   */
  revocationCheckInterval?: number;
  /**
   * Readers of the sessions of the library the app leaves (`expressSession`, `cookieSession`,
   * `ironSession`, `djangoSignedCookies`, `railsEncryptedCookie` from `flagon/migrate`). A request
   * without a valid flagon session but with a valid legacy one gets that session's data as a new
   * flagon session (`session.migratedFrom` names the reader), and its response expires the legacy
   * cookie. Tried in order; never run when the request has a valid flagon session.
   * @default []
   */
  migrateFrom?: readonly LegacyReader[];
  /**
   * Called synchronously with an event per load, commit and store failure (`SessionEvent`): statuses,
   * timings, cookie sizes and which secret verified the cookie, never an id, a cookie value or data.
   * For metrics (docs/operations.md). A listener that throws never breaks a request.
   * @default undefined (nothing is measured)
   */
  onEvent?: SessionEventListener;
  /**
   * What a request gets when the store cannot answer its load: `"fail"` answers 503; `"degrade"` gives
   * the handler an empty session with `status` `"unavailable"` (pages that need no login keep working),
   * a write to it answers 503 at commit, and no `Set-Cookie` is sent, so the visitor's cookie survives
   * the outage. @default "fail"
   */
  onStoreUnavailable?: "fail" | "degrade";
  /**
   * How session values are kept. `"json"`: JSON values only; `set()` refuses anything that would not
   * read back equal (a Date, a Map, NaN, undefined inside an object…) with a TypeError naming the path.
   * `"tagged"`: also `Date`, `Map`, `Set`, `BigInt` and `Uint8Array`, as tagged JSON, in every store.
   * @default "json"
   */
  codec?: "json" | "tagged";
  /**
   * The largest session record, in bytes of JSON (data and flashes), a commit may write to a server store.
   * A commit that would write more throws `FlagonError` `ERR_SESSION_TOO_LARGE` before any store call (the
   * adapters answer 500). Only commits that set a key or add a flash are measured. `Infinity`: no limit.
   * @default 65536 (64 KiB)
   */
  maxRecordBytes?: number;
}

/** Default `maxRecordBytes`: far above a session's usual few hundred bytes, far below a store's pain. */
export const DEFAULT_MAX_RECORD_BYTES = 65_536;

/** Every `cookie` option name, kept beside the interface (the type check below catches drift). */
export const COOKIE_OPTION_NAMES = everyOptionName<SessionCookieOptions>()([
  "name",
  "path",
  "domain",
  "secure",
  "httpOnly",
  "sameSite",
  "partitioned",
  "prefix",
]);

/** Every `createSessions` option name. */
export const SESSION_OPTION_NAMES = everyOptionName<SessionsOptions<never>>()([
  "secret",
  "store",
  "cookie",
  "permanentLifetime",
  "idleTimeout",
  "absoluteTimeout",
  "rolling",
  "touchAfter",
  "schema",
  "cacheControl",
  "maxCookieHeaderBytes",
  "logger",
  "anonymousIdleTimeout",
  "revocations",
  "revocationCheckInterval",
  "migrateFrom",
  "onEvent",
  "onStoreUnavailable",
  "codec",
  "maxRecordBytes",
]);

/** express-session spells the cookie name at the top level. */
const SESSION_HINTS = Object.freeze({
  ...EXPRESS_SESSION_HINTS,
  name: "use cookie: { name }",
  maxChunks: "chunks are the cookie store's: store: cookieStore({ maxChunks })",
  maxCookieBytes: "spill-over is the hybrid store's: store: hybridStore({ server, maxCookieBytes })",
  maxSessionBytes: "spelled maxRecordBytes",
});

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
  readonly maxRecordBytes: number;
  readonly logger: SessionLogger;
  readonly anonymousIdleTimeoutMs: number;
  readonly revocations: ServerStore | undefined;
  readonly revocationCheckIntervalMs: number;
  readonly migrateFrom: readonly LegacyReader[];
  readonly onEvent: SessionEventListener | undefined;
  readonly degrade: boolean;
  readonly tagged: boolean;
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

const SECRET_HINT =
  "keep it out of the code: secret: process.env.SECRET_KEY, with SECRET_KEY set to the output of `npx flagon keygen`";

function keyringFor(secret: string | readonly string[] | undefined): Keyring {
  try {
    return new Keyring(secret);
  } catch (error) {
    if (
      error instanceof ConfigError &&
      (error.code === "ERR_SECRET_MISSING" || error.code === "ERR_SECRET_TOO_SHORT")
    ) {
      const why = secret === undefined ? "createSessions needs a secret" : `createSessions: ${error.message}`;
      throw new ConfigError(error.code, `${why}; ${SECRET_HINT}`);
    }
    throw error;
  }
}

/** Entry points of flagon's stores, for the message when a factory or a name is passed instead of a store. */
const STORE_FACTORIES: Readonly<Record<string, string>> = Object.freeze({
  memoryStore: 'memoryStore() from "flagon"',
  cookieStore: 'cookieStore() from "flagon"',
  hybridStore: 'hybridStore({ server: sqliteStore({ path }) }) from "flagon"',
  sqliteStore: 'sqliteStore({ path: "sessions.db" }) from "flagon/sqlite"',
  redisStore: 'redisStore({ url: "redis://127.0.0.1:6379" }) from "flagon/redis"',
  flaskCookieStore: 'flaskCookieStore({ secretKey }) from "flagon/flask"',
});

const STORE_SHAPE =
  'a store is what a store factory returns: memoryStore(), cookieStore(), sqliteStore({ path }) from "flagon/sqlite", ' +
  'redisStore({ url }) from "flagon/redis", or an object with kind "server" and get/apply/destroy methods, ' +
  'or kind "client" and encode/decode methods';

/** Refuses anything that is not a store now, instead of a cookie that stores nothing and a 503 on every request. */
function checkStore(store: unknown): asserts store is SessionStore {
  if (typeof store === "function") {
    const factory = STORE_FACTORIES[store.name];
    throw new ConfigError(
      "ERR_INVALID_STORE",
      factory !== undefined
        ? `createSessions: store is the function ${store.name}, not a store; call it: store: ${factory}`
        : `createSessions: store is ${describe(store)}, not a store; did you forget to call it? ${STORE_SHAPE}`,
    );
  }
  if (typeof store === "string") {
    const factory = Object.entries(STORE_FACTORIES).find(([name]) =>
      name.toLowerCase().startsWith(store.toLowerCase()),
    );
    throw new ConfigError(
      "ERR_INVALID_STORE",
      `createSessions: store is ${describe(store)}, not a store; ${factory ? `use store: ${factory[1]}` : STORE_SHAPE}`,
    );
  }
  const candidate = store as Partial<Record<string, unknown>> | null;
  const methods =
    candidate?.kind === "server"
      ? ["get", "apply", "destroy"]
      : candidate?.kind === "client"
        ? ["encode", "decode"]
        : undefined;
  if (typeof candidate !== "object" || candidate === null || methods === undefined) {
    throw new ConfigError(
      "ERR_INVALID_STORE",
      `createSessions: store is ${describe(store)}, not a store; ${STORE_SHAPE}`,
    );
  }
  const missing = methods.filter((method) => typeof candidate[method] !== "function");
  if (missing.length > 0) {
    throw new ConfigError(
      "ERR_INVALID_STORE",
      `createSessions: the ${String(candidate.kind)} store has no ${missing.join("/")} method; ${STORE_SHAPE}`,
    );
  }
}

function checkType(name: string, value: unknown, type: "boolean" | "string" | "object"): void {
  if (value !== undefined && (typeof value !== type || value === null)) {
    throw new ConfigError("ERR_INVALID_OPTION", `${name} must be a ${type}, got ${describe(value)}`);
  }
}

/** The session cookie's name for a request: `__Host-`/`__Secure-` added on secure requests when `prefix` is on. */
export function sessionCookieName(cookie: ResolvedCookieOptions, secure: boolean): string {
  if (!secure || !cookie.prefix || /^__(host|secure)-/i.test(cookie.name)) return cookie.name;
  return cookie.domain === undefined && cookie.path === "/"
    ? `__Host-${cookie.name}`
    : `__Secure-${cookie.name}`;
}

/**
 * Writes a probe cookie for every kind of request the settings will meet (plain http and https
 * when `secure` is `"auto"`): settings that cannot produce a valid Set-Cookie fail here, at
 * start-up, instead of turning every commit into a 500.
 */
function checkCookieWritable(cookie: ResolvedCookieOptions): void {
  if (cookie.secure === "auto" && cookie.sameSite === "none") {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      'cookie.sameSite "none" needs a Secure cookie, and cookie.secure "auto" leaves it off on plain http; ' +
        "set cookie.secure: true (browsers accept Secure cookies from http://localhost)",
    );
  }
  if (/^__(host|secure)-/i.test(cookie.name) && cookie.secure !== true) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `cookie.name "${cookie.name}" has a prefix that needs Secure, but cookie.secure is ${JSON.stringify(cookie.secure)} ` +
        `(no Secure on plain http); use the bare name (flagon adds __Host-/__Secure- on HTTPS itself) or set cookie.secure: true`,
    );
  }
  const modes = cookie.secure === "auto" ? [false, true] : [cookie.secure];
  for (const secure of modes) {
    try {
      serializeCookie(sessionCookieName(cookie, secure), "v", {
        path: cookie.path,
        domain: cookie.domain,
        secure,
        httpOnly: cookie.httpOnly,
        sameSite: cookie.sameSite,
        partitioned: cookie.partitioned && secure,
        maxAge: 60,
      });
    } catch (error) {
      if (!(error instanceof CookieError)) throw error;
      throw new ConfigError(
        "ERR_INVALID_OPTION",
        `cookie settings can never be written${cookie.secure === "auto" ? ` (on ${secure ? "https" : "plain http"} requests)` : ""}: ${error.message}`,
        { cause: error },
      );
    }
  }
}

export function resolveOptions<T>(
  options: SessionsOptions<T>,
  defaultStore: () => SessionStore,
): ResolvedOptions<T> {
  checkOptionNames("createSessions", options, SESSION_OPTION_NAMES, SESSION_HINTS);
  const explicitStore = own(options, "store");
  if (explicitStore !== undefined) checkStore(explicitStore);
  const store = explicitStore ?? defaultStore();
  const ownsKeys = store.kind === "client" && "ownsKeys" in store && store.ownsKeys === true;
  const secret = own(options, "secret");
  // Stores that carry their own keys (Flask) need no flagon secret; every other store does.
  const keyring = ownsKeys && secret === undefined ? undefined : keyringFor(secret);

  const cookie = own(options, "cookie");
  checkOptionNames("createSessions cookie", cookie, COOKIE_OPTION_NAMES, COOKIE_OPTION_HINTS);
  const storeName = store.kind === "client" ? store.defaultCookieName : undefined;
  const name = own(cookie, "name") ?? storeName ?? "sid";
  checkType("cookie.name", name, "string");
  const sameSite = own(cookie, "sameSite") ?? "lax";
  if (sameSite !== "lax" && sameSite !== "strict" && sameSite !== "none") {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `cookie.sameSite must be "lax", "strict" or "none" (lower case), got ${describe(sameSite)}`,
    );
  }
  const secure = own(cookie, "secure") ?? "auto";
  if (secure !== true && secure !== false && secure !== "auto") {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `cookie.secure must be true, false or "auto", got ${describe(secure)}`,
    );
  }
  const partitioned = own(cookie, "partitioned") ?? false;
  checkType("cookie.partitioned", partitioned, "boolean");
  checkType("cookie.httpOnly", own(cookie, "httpOnly"), "boolean");
  checkType("cookie.prefix", own(cookie, "prefix"), "boolean");
  checkType("cookie.path", own(cookie, "path"), "string");
  checkType("cookie.domain", own(cookie, "domain"), "string");
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
  checkCookieWritable(resolvedCookie);
  checkType("rolling", own(options, "rolling"), "boolean");
  const cacheControl = own(options, "cacheControl");
  if (cacheControl !== undefined && cacheControl !== false && typeof cacheControl !== "string") {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `cacheControl must be a string or false, got ${describe(cacheControl)}`,
    );
  }
  checkType("logger", own(options, "logger"), "object");
  const schema = own(options, "schema");
  if (
    schema !== undefined &&
    typeof (schema as { "~standard"?: { validate?: unknown } })["~standard"]?.validate !== "function"
  ) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      "schema must be a Standard Schema validator (zod 3.24+, valibot 1, arktype 2: an object with ~standard.validate)",
    );
  }

  const clientStore = store.kind === "client" ? store : undefined;
  const permanentLifetime = positiveSeconds(
    "permanentLifetime",
    own(options, "permanentLifetime"),
    clientStore?.enforcedLifetime ?? DEFAULT_PERMANENT_LIFETIME,
  ) as number;
  if (permanentLifetime > MAX_COOKIE_LIFETIME) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `permanentLifetime ${permanentLifetime} s exceeds the 400-day cap browsers apply (RFC 6265bis §5.5)`,
    );
  }
  const idleTimeout = positiveSeconds("idleTimeout", own(options, "idleTimeout"));
  const absoluteTimeout = positiveSeconds("absoluteTimeout", own(options, "absoluteTimeout"));
  // A client store refuses what its format cannot honour (Flask's cookie keeps no creation time).
  clientStore?.checkSessionOptions?.({
    permanentLifetime: own(options, "permanentLifetime"),
    idleTimeout,
    absoluteTimeout,
  });
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

  const maxRecordBytes = own(options, "maxRecordBytes") ?? DEFAULT_MAX_RECORD_BYTES;
  if (
    typeof maxRecordBytes !== "number" ||
    !(
      maxRecordBytes === Number.POSITIVE_INFINITY ||
      (Number.isSafeInteger(maxRecordBytes) && maxRecordBytes >= 1024)
    )
  ) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `maxRecordBytes must be a whole number of bytes, at least 1024 (or Infinity for no limit), got ${describe(maxRecordBytes)}`,
    );
  }

  const anonymousIdleTimeout = positiveSeconds(
    "anonymousIdleTimeout",
    own(options, "anonymousIdleTimeout"),
    3600,
  ) as number;
  const revocationCheckInterval = positiveSeconds(
    "revocationCheckInterval",
    own(options, "revocationCheckInterval"),
    30,
  ) as number;
  const revocations = own(options, "revocations");
  if (revocations !== undefined) {
    const kind = (revocations as { kind?: unknown } | null)?.kind;
    if (kind !== "server") {
      throw new ConfigError(
        "ERR_INVALID_OPTION",
        "revocations must be a server store (sqliteStore, redisStore, postgresStore, memoryStore for one process): " +
          `it keeps one record per user, got ${describe(revocations)}`,
      );
    }
    if (store.kind === "server") {
      throw new ConfigError(
        "ERR_INVALID_OPTION",
        "revocations is for sessions kept in the cookie; a server store revokes its own records (remove revocations)",
      );
    }
  }

  const onEvent = own(options, "onEvent");
  if (onEvent !== undefined && typeof onEvent !== "function") {
    throw new ConfigError("ERR_INVALID_OPTION", `onEvent must be a function, got ${describe(onEvent)}`);
  }
  const onStoreUnavailable = own(options, "onStoreUnavailable") ?? "fail";
  if (onStoreUnavailable !== "fail" && onStoreUnavailable !== "degrade") {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `onStoreUnavailable must be "fail" or "degrade", got ${describe(onStoreUnavailable)}`,
    );
  }
  const codec = own(options, "codec") ?? "json";
  if (codec !== "json" && codec !== "tagged") {
    throw new ConfigError("ERR_INVALID_OPTION", `codec must be "json" or "tagged", got ${describe(codec)}`);
  }

  return Object.freeze({
    onEvent,
    degrade: onStoreUnavailable === "degrade",
    tagged: codec === "tagged",
    anonymousIdleTimeoutMs: Math.ceil(anonymousIdleTimeout * 1000),
    revocations: revocations as ServerStore | undefined,
    revocationCheckIntervalMs: Math.ceil(revocationCheckInterval * 1000),
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
    maxRecordBytes,
    logger: own(options, "logger") ?? {},
    migrateFrom: checkLegacyReaders(own(options, "migrateFrom")),
  });
}
