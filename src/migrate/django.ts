/**
 * Django's `signed_cookies` session backend (django.core.signing, Django 3.x/4.x):
 *
 *   sessionid = payload ":" timestamp ":" signature
 *   payload   = b64url(json) | "." b64url(zlib(json))     (compressed when that saves 2+ bytes)
 *   timestamp = base62(int(time.time()))                    (0-9 A-Z a-z)
 *   signature = b64url(HMAC(key = H(salt + "signer" + SECRET_KEY), payload ":" timestamp))
 *
 * H and HMAC are SHA-256 (Django 3.1+'s default) or SHA-1 (older Django, and
 * `DEFAULT_HASHING_ALGORITHM = "sha1"`); Django 3.2 accepts both, and so does this reader. b64url is
 * unpadded and read as Python reads it (the same lenient decoding as Flask's itsdangerous).
 * The age limit is `SESSION_COOKIE_AGE`, applied to every cookie as Django does.
 */
import { Buffer } from "node:buffer";
import { createHash, createHmac } from "node:crypto";
import { inflateSync } from "node:zlib";
import { CLOCK_SKEW_MS } from "../crypto/claims.js";
import { decodeSegment } from "../flask/base64.js";
import { invalidOption } from "../stores/options.js";
import {
  COMMON_OPTION_NAMES,
  commonOptions,
  type LegacyData,
  type LegacyReader,
  type LegacyReaderOptions,
  type LegacySecret,
  legacyCookies,
  mapped,
  nameOption,
  parseObject,
  REFUSED,
  safeEqual,
  secretsOption,
} from "./reader.js";

export interface DjangoSignedCookiesOptions extends LegacyReaderOptions {
  /** Django's `SECRET_KEY`, or a list (the current one and `SECRET_KEY_FALLBACKS`): all are tried. */
  secretKey: LegacySecret;
  /** The signing salt. @default "django.contrib.sessions.backends.signed_cookies" (the backend's own) */
  salt?: string;
  /** Django's `SESSION_COOKIE_NAME`. @default "sessionid" */
  cookieName?: string;
  /** Django's `SESSION_COOKIE_AGE`, in seconds: older cookies are refused. @default 1209600 (two weeks) */
  maxAge?: number;
  /**
   * Django's `SESSION_EXPIRE_AT_BROWSER_CLOSE`: when false (Django's default) its cookie was persistent,
   * and the flagon session is made `permanent`.
   * @default false
   */
  expireAtBrowserClose?: boolean;
}

const OPTION_NAMES = [
  "secretKey",
  "salt",
  "cookieName",
  "maxAge",
  "expireAtBrowserClose",
  ...COMMON_OPTION_NAMES,
];
const HINTS = Object.freeze({
  secret: "Django's SECRET_KEY: secretKey",
  SECRET_KEY: "spelled secretKey",
  name: "Django's SESSION_COOKIE_NAME: cookieName",
  SESSION_COOKIE_AGE: "spelled maxAge (seconds)",
  SESSION_EXPIRE_AT_BROWSER_CLOSE: "spelled expireAtBrowserClose",
});

export const DJANGO_COOKIE_NAME = "sessionid";
export const DJANGO_SESSION_SALT = "django.contrib.sessions.backends.signed_cookies";
/** Django's `SESSION_COOKIE_AGE` default: two weeks, in seconds. */
export const DJANGO_DEFAULT_MAX_AGE = 60 * 60 * 24 * 7 * 2;
/** Inflate at most this much (a 4 KiB cookie could otherwise expand a thousandfold). */
const MAX_INFLATED_BYTES = 1 << 20;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

type Algorithm = "sha256" | "sha1";
const ALGORITHMS: readonly Algorithm[] = ["sha256", "sha1"];

/** Django's derived signing keys (`salted_hmac`), computed once per secret and algorithm. */
export class DjangoKeys {
  readonly size: number;
  private readonly keys: ReadonlyArray<Readonly<Record<Algorithm, Buffer>>>;

  constructor(secretKeys: readonly string[], salt: string = DJANGO_SESSION_SALT) {
    const keySalt = `${salt}signer`;
    this.keys = secretKeys.map((secret) =>
      Object.freeze({
        sha256: createHash("sha256")
          .update(keySalt + secret, "utf8")
          .digest(),
        sha1: createHash("sha1")
          .update(keySalt + secret, "utf8")
          .digest(),
      }),
    );
    this.size = this.keys.length;
  }

  /** The key index and algorithm whose signature of `value` is `signature`, or undefined. */
  verify(value: string, signature: string): { keyIndex: number; algorithm: Algorithm } | undefined {
    for (let keyIndex = 0; keyIndex < this.keys.length; keyIndex++) {
      for (const algorithm of ALGORITHMS) {
        const expected = createHmac(algorithm, this.keys[keyIndex]![algorithm])
          .update(value, "utf8")
          .digest("base64url");
        if (safeEqual(signature, expected)) return { keyIndex, algorithm };
      }
    }
    return undefined;
  }
}

export interface DjangoCookieInfo {
  data: LegacyData;
  keyIndex: number;
  algorithm: Algorithm;
  /** Signing time, ms since the epoch (whole seconds). */
  issuedAt: number;
  /** `issuedAt + maxAge`. */
  expiresAt: number;
  compressed: boolean;
}

export type DjangoCookieResult =
  | ({ ok: true } & DjangoCookieInfo)
  | { ok: false; reason: "malformed" }
  | { ok: false; reason: "bad-mac" }
  | ({ ok: false; reason: "expired" | "not-yet-valid" | "bad-payload" } & Omit<
      DjangoCookieInfo,
      "data" | "compressed"
    >);

/** Django's `baseconv.base62.decode`, or null for anything it would not read back. */
function decodeBase62(text: string): number | null {
  if (text === "" || text.length > 11) return null;
  let value = 0;
  for (const char of text) {
    const digit = BASE62.indexOf(char);
    if (digit < 0) return null;
    value = value * 62 + digit;
  }
  return value;
}

/** `signing.loads`' payload: base64, maybe zlib, JSON (read as Latin-1, as Django's serializer does). */
function loadPayload(payload: string): { data: LegacyData | undefined; compressed: boolean } {
  const compressed = payload.startsWith(".");
  let bytes: Uint8Array | null = decodeSegment(Buffer.from(compressed ? payload.slice(1) : payload, "utf8"));
  if (bytes === null) return { data: undefined, compressed };
  if (compressed) {
    try {
      bytes = inflateSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES });
    } catch {
      return { data: undefined, compressed };
    }
  }
  return { data: parseObject(Buffer.from(bytes).toString("latin1")), compressed };
}

/**
 * Verifies and decodes a Django `signed_cookies` session cookie at `now` (ms), saying why when it
 * fails. Never throws for bad input. Unlike Django (which has no check for it), a cookie signed more
 * than a minute in the future is `not-yet-valid`, as flagon's own and Flask's are.
 */
export function openDjangoSignedCookie(
  cookie: string,
  keys: DjangoKeys,
  options: { maxAge?: number; now?: number } = {},
): DjangoCookieResult {
  const maxAge = options.maxAge ?? DJANGO_DEFAULT_MAX_AGE;
  const now = options.now ?? Date.now();
  if (typeof cookie !== "string") return { ok: false, reason: "malformed" };
  const colon = cookie.lastIndexOf(":");
  if (colon < 0) return { ok: false, reason: "malformed" };
  const value = cookie.slice(0, colon);
  const verified = keys.verify(value, cookie.slice(colon + 1));
  if (verified === undefined) return { ok: false, reason: "bad-mac" };

  const stamp = value.lastIndexOf(":");
  const timestamp = stamp < 0 ? null : decodeBase62(value.slice(stamp + 1));
  if (timestamp === null) return { ok: false, reason: "malformed" };
  const issuedAt = timestamp * 1000;
  const expiresAt = (timestamp + maxAge) * 1000;
  const authentic = { ...verified, issuedAt, expiresAt };
  // Django: `age = time.time() - timestamp; if age > max_age: raise SignatureExpired`.
  if (now / 1000 - timestamp > maxAge) return { ok: false, reason: "expired", ...authentic };
  if (issuedAt > now + CLOCK_SKEW_MS) return { ok: false, reason: "not-yet-valid", ...authentic };
  const { data, compressed } = loadPayload(value.slice(0, stamp));
  if (data === undefined) return { ok: false, reason: "bad-payload", ...authentic };
  return { ok: true, data, compressed, ...authentic };
}

/** A Django cookie's contents WITHOUT checking its signature (signed, not encrypted): for `flagon decode`. */
export function peekDjangoSignedCookie(
  cookie: string,
): { data: LegacyData | undefined; issuedAt: number | null; compressed: boolean } | undefined {
  if (typeof cookie !== "string") return undefined;
  const parts = cookie.split(":");
  if (parts.length !== 3 || !/^\.?[A-Za-z0-9_-]+$/.test(parts[0]!)) return undefined;
  const timestamp = decodeBase62(parts[1]!);
  return { ...loadPayload(parts[0]!), issuedAt: timestamp === null ? null : timestamp * 1000 };
}

/**
 * Reads Django's `signed_cookies` sessions. For
 * `createSessions({ migrateFrom: [djangoSignedCookies({ secretKey })] })`.
 */
export function djangoSignedCookies(options: DjangoSignedCookiesOptions): LegacyReader {
  const where = "djangoSignedCookies";
  const common = commonOptions(where, options, OPTION_NAMES, HINTS);
  const secrets = secretsOption(where, "secretKey", options.secretKey);
  const salt = options.salt ?? DJANGO_SESSION_SALT;
  if (typeof salt !== "string") throw invalidOption(where, "salt", "a string", salt);
  const name = nameOption(where, "cookieName", options.cookieName, DJANGO_COOKIE_NAME);
  const maxAge = options.maxAge ?? DJANGO_DEFAULT_MAX_AGE;
  if (typeof maxAge !== "number" || !Number.isFinite(maxAge) || maxAge <= 0)
    throw invalidOption(where, "maxAge", "a positive number of seconds (SESSION_COOKIE_AGE)", maxAge);
  const expireAtBrowserClose = options.expireAtBrowserClose ?? false;
  if (typeof expireAtBrowserClose !== "boolean")
    throw invalidOption(where, "expireAtBrowserClose", "a boolean", expireAtBrowserClose);
  const persistent = !expireAtBrowserClose;
  const keys = new DjangoKeys(secrets, salt);
  return Object.freeze({
    name: "django",
    cookies: legacyCookies(where, [name], common),
    async read(cookies: Readonly<Record<string, string>>, { now }: { now: number }) {
      const value = cookies[name];
      if (value === undefined || value === "") return undefined;
      const opened = openDjangoSignedCookie(value, keys, { maxAge, now });
      // Django's cookie is persistent (SESSION_COOKIE_AGE) unless SESSION_EXPIRE_AT_BROWSER_CLOSE.
      return opened.ok ? mapped(where, common.map, opened.data, persistent) : REFUSED[opened.reason];
    },
  });
}
