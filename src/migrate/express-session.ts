/**
 * express-session: the cookie holds `s:` + cookie-signature's signed id,
 *
 *   connect.sid = "s:" sid "." base64(HMAC-SHA256(secret, sid))   ("=" padding removed)
 *
 * and the data lives in the app's express-session store (connect-redis, connect-pg-simple,
 * MemoryStore, …), read through its own `get(sid, callback)`. The record's `cookie` member is
 * express-session's bookkeeping (its expiry is honoured, then it is dropped).
 */
import { createHmac } from "node:crypto";
import { describe } from "../config-check.js";
import { ConfigError, SessionStoreError } from "../errors.js";
import { invalidOption, timerOption } from "../stores/options.js";
import {
  asObject,
  COMMON_OPTION_NAMES,
  commonOptions,
  type LegacyData,
  type LegacyReader,
  type LegacyReaderOptions,
  type LegacySecret,
  legacyCookies,
  mapped,
  nameOption,
  REFUSED,
  safeEqual,
  secretsOption,
} from "./reader.js";

/** The part of an express-session store this reader calls (every compatible store has it). */
export interface ExpressSessionStoreLike {
  get(sid: string, callback: (error: unknown, session?: unknown) => void): unknown;
  destroy?(sid: string, callback?: (error?: unknown) => void): unknown;
}

export interface ExpressSessionOptions extends LegacyReaderOptions {
  /** express-session's `secret`: one string or the list it was rotating through (all are tried). */
  secret: LegacySecret;
  /** express-session's `name`. @default "connect.sid" */
  name?: string;
  /** The express-session store the old app used (`new RedisStore({ client })`, `new MemoryStore()`, …). */
  store: ExpressSessionStoreLike;
  /**
   * Delete the legacy record once its data is in a flagon session (`store.destroy(sid)`, after the
   * new session is stored). Off by default, so the old app keeps working during a rollout.
   * @default false
   */
  destroyLegacy?: boolean;
  /** How long a legacy store call may take before the request gets a `SessionStoreError` (503), in ms. @default 5000 */
  timeout?: number;
}

const OPTION_NAMES = ["secret", "name", "store", "destroyLegacy", "timeout", ...COMMON_OPTION_NAMES];
const HINTS = Object.freeze({
  secrets: "the option is called secret here too (a string or a list)",
  cookie: "only the cookie's path and domain matter here: use path and domain",
});

export const EXPRESS_SESSION_COOKIE_NAME = "connect.sid";
const SIGNED_PREFIX = "s:";

/** What `unsignExpressSessionCookie` found. */
export type ExpressSessionIdResult =
  | { ok: true; sid: string; keyIndex: number }
  | { ok: false; reason: "malformed" | "bad-mac" };

/**
 * The session id in an express-session cookie value (as the Cookie parser hands it over, percent-decoded:
 * `s:abc.sig`), when one of `secrets` signed it. Constant-time per secret; never throws for bad input.
 */
export function unsignExpressSessionCookie(
  value: string,
  secrets: readonly string[],
): ExpressSessionIdResult {
  if (typeof value !== "string" || !value.startsWith(SIGNED_PREFIX))
    return { ok: false, reason: "malformed" };
  const signed = value.slice(SIGNED_PREFIX.length);
  const dot = signed.lastIndexOf(".");
  if (dot < 0) return { ok: false, reason: "malformed" };
  const sid = signed.slice(0, dot);
  const given = signed.slice(dot + 1);
  for (let index = 0; index < secrets.length; index++) {
    const expected = createHmac("sha256", secrets[index]!).update(sid).digest("base64").replace(/=+$/, "");
    if (safeEqual(given, expected)) return { ok: true, sid, keyIndex: index };
  }
  return { ok: false, reason: "bad-mac" };
}

/** express-session's own test for an expired record (MemoryStore applies it too). */
function isExpired(record: LegacyData, now: number): boolean {
  const cookie = asObject(record.cookie);
  if (cookie === undefined || cookie.expires === undefined || cookie.expires === null) return false;
  const expires =
    cookie.expires instanceof Date ? cookie.expires.getTime() : new Date(String(cookie.expires)).getTime();
  return Number.isFinite(expires) && expires <= now;
}

/** The legacy cookie was persistent (express-session's `cookie.maxAge`/`expires`). */
function hasExpiry(record: LegacyData): boolean {
  const expires = asObject(record.cookie)?.expires;
  return expires !== undefined && expires !== null && expires !== false;
}

/** The record without express-session's `cookie`, as JSON values (a store may hand back Dates). */
function dataOf(record: LegacyData): LegacyData | undefined {
  const { cookie: _cookie, ...data } = record;
  try {
    return asObject(JSON.parse(JSON.stringify(data)));
  } catch {
    return undefined; // a cycle or a BigInt: not a session flagon can hold
  }
}

/** A store's error with the session id taken out of its message (logs never carry ids). */
function scrubbed(error: unknown, sid: string): unknown {
  if (error === null || typeof error !== "object") return error;
  const { name, code, message } = error as { name?: unknown; code?: unknown; message?: unknown };
  return {
    name: typeof name === "string" ? name : "Error",
    code,
    message: typeof message === "string" ? message.split(sid).join("<sid>") : undefined,
  };
}

/** One callback-style store call as a promise with a deadline; failures become `SessionStoreError`s. */
function storeCall<T>(
  operation: "get" | "destroy",
  sid: string,
  timeoutMs: number,
  call: (callback: (error: unknown, result?: T) => void) => unknown,
): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(
        new SessionStoreError(
          `session store ${operation} failed (the legacy express-session store, migrateFrom)`,
          {
            cause: scrubbed(error, sid),
            code: "ERR_STORE_UNAVAILABLE",
          },
        ),
      );
    };
    const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const callback = (error: unknown, result?: T) => {
      if (settled) return;
      // express-session itself treats ENOENT as "no such session".
      if (error && (error as { code?: unknown }).code !== "ENOENT") return fail(error);
      settled = true;
      clearTimeout(timer);
      resolve(error ? undefined : result);
    };
    try {
      const returned = call(callback);
      // Promise-returning stores (connect-redis 7+) may reject instead of calling back.
      if (returned !== null && typeof (returned as { then?: unknown })?.then === "function") {
        (returned as Promise<unknown>).then(undefined, fail);
      }
    } catch (error) {
      fail(error);
    }
  });
}

/**
 * Reads express-session's sessions: the signed `connect.sid` cookie, the record from the app's
 * express-session store. For `createSessions({ migrateFrom: [expressSession({ secret, store })] })`.
 */
export function expressSession(options: ExpressSessionOptions): LegacyReader {
  const where = "expressSession";
  const common = commonOptions(where, options, OPTION_NAMES, HINTS);
  const secrets = secretsOption(where, "secret", options.secret);
  const name = nameOption(where, "name", options.name, EXPRESS_SESSION_COOKIE_NAME);
  const store = options.store;
  if (store === null || typeof store !== "object" || typeof store.get !== "function") {
    throw new ConfigError(
      "ERR_INVALID_STORE",
      `${where}: \`store\` must be the express-session store the old app used (an object with get(sid, callback)), got ${describe(store)}`,
    );
  }
  const destroyLegacy = options.destroyLegacy ?? false;
  if (typeof destroyLegacy !== "boolean")
    throw invalidOption(where, "destroyLegacy", "a boolean", destroyLegacy);
  if (destroyLegacy && typeof store.destroy !== "function") {
    throw new ConfigError(
      "ERR_INVALID_STORE",
      `${where}: destroyLegacy needs a store with destroy(sid, callback)`,
    );
  }
  const timeout = timerOption(where, "timeout", options.timeout, 5000, { min: 0, exclusiveMin: true });

  return Object.freeze({
    name: "express-session",
    cookies: legacyCookies(where, [name], common),
    async read(cookies: Readonly<Record<string, string>>, { now }: { now: number }) {
      const value = cookies[name];
      if (value === undefined || value === "") return undefined;
      const unsigned = unsignExpressSessionCookie(value, secrets);
      if (!unsigned.ok) return REFUSED[unsigned.reason];
      const { sid } = unsigned;
      const record = await storeCall<unknown>("get", sid, timeout, (callback) => store.get(sid, callback));
      if (record === undefined || record === null) return REFUSED["unknown-id"];
      const object = asObject(record);
      if (object === undefined) return REFUSED["bad-payload"];
      if (isExpired(object, now)) return REFUSED.expired;
      const data = dataOf(object);
      if (data === undefined) return REFUSED["bad-payload"];
      const destroy = destroyLegacy
        ? async () => {
            await storeCall("destroy", sid, timeout, (callback) => store.destroy!(sid, callback));
          }
        : undefined;
      return mapped(where, common.map, data, hasExpiry(object), destroy);
    },
  });
}
