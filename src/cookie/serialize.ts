import { CookieError } from "../errors.js";
import { MAX_ATTRIBUTE_VALUE_BYTES, MAX_COOKIE_BYTES, MAX_COOKIE_LIFETIME_SECONDS } from "./constants.js";

/** `SameSite` values; matched case-insensitively at run time. */
export type CookieSameSite = "lax" | "strict" | "none";
/** `Priority` values (Chromium); matched case-insensitively at run time. */
export type CookiePriority = "low" | "medium" | "high";

/**
 * Attributes of a Set-Cookie header. Only the object's own properties are read: inherited keys (including a
 * polluted `Object.prototype`) and `__proto__` are ignored. `undefined` means "absent"; any other wrong type throws.
 */
export interface CookieAttributes {
  /**
   * Lifetime in seconds: an integer >= 0 (`0` deletes). Values above 400 days are clamped to
   * `MAX_COOKIE_LIFETIME_SECONDS` (34_560_000), as browsers do.
   * @default undefined (a session cookie, unless `expires` is set)
   */
  maxAge?: number;
  /** Absolute expiry; must be a valid `Date` in years 1601–9999. @default undefined */
  expires?: Date;
  /** `Domain` attribute (hostname, optional leading dot). Not allowed with `__Host-` names. @default undefined (host-only) */
  domain?: string;
  /**
   * `Path` attribute: starts with `/`, then URL path characters (percent-encode the rest; `;` and `=` are refused).
   * @default "/"
   */
  path?: string;
  /** `Secure`. Required by `sameSite: "none"`, `partitioned` and the `__Secure-`/`__Host-` prefixes. @default false */
  secure?: boolean;
  /** `HttpOnly`. @default false */
  httpOnly?: boolean;
  /** `SameSite`; always written. @default "lax" */
  sameSite?: CookieSameSite;
  /** `Partitioned` (CHIPS); requires `secure`. @default false */
  partitioned?: boolean;
  /** `Priority`. @default undefined */
  priority?: CookiePriority;
  /**
   * Turns the value into cookie-octets. The result is checked against RFC 6265 §4.1.1 `cookie-value`.
   * @default encodeURIComponent
   */
  encode?: (value: string) => string;
}

// RFC 6265 §4.1.1 cookie-name = token (RFC 9110 §5.6.2 tchar).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 6265 §4.1.1 cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE ): no CTL, space, DQUOTE, comma,
// semicolon or backslash inside.
const COOKIE_VALUE =
  /^(?:[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*|"[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*")$/;
// RFC 1034 §3.5 / RFC 1123 §2.1 labels (letter or digit at both ends, at most 63 octets), dot-separated; a leading
// dot is tolerated and ignored by browsers (RFC 6265bis §5.6.3).
const DOMAIN = /^\.?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const MAX_DOMAIN_LENGTH = 254; // 253 octets of hostname (RFC 1035 §2.3.4) plus the optional leading dot
// A URL path (RFC 3986 §3.3: unreserved, pct-encoded, sub-delims, ":" "@" "/") that starts with "/"
// (RFC 6265bis §5.6.4: any other Path is ignored by the browser), minus ";" and "=", which would let a value read
// as another attribute ("/; Path=/sensitive-data", GHSA-26pp-8wgv-hjvm).
const PATH = /^\/[A-Za-z0-9\-._~%!$&'()*+,:@/]*$/;
// Years a browser's cookie-date parser accepts (RFC 6265bis §5.1.1 rejects years before 1601).
const MIN_EXPIRES_YEAR = 1601;
const MAX_EXPIRES_YEAR = 9999;

const SAME_SITE_TEXT: Readonly<Record<CookieSameSite, string>> = {
  lax: "Lax",
  strict: "Strict",
  none: "None",
};
const PRIORITY_TEXT: Readonly<Record<CookiePriority, string>> = {
  low: "Low",
  medium: "Medium",
  high: "High",
};

/**
 * Serialize one Set-Cookie header value: `name=value; Max-Age; Expires; Domain; Path; HttpOnly; Secure;
 * Partitioned; Priority; SameSite`. The value is percent-encoded by default. `Path` defaults to `/` and
 * `SameSite` to `Lax`, and `SameSite` is always present.
 *
 * Throws {@link CookieError} (with a stable `code`) for: an invalid name (`ERR_COOKIE_NAME`), a value that is not
 * a cookie-value after encoding (`ERR_COOKIE_VALUE`), name + encoded value over 4096 bytes
 * (`ERR_COOKIE_TOO_LARGE`), invalid `maxAge`/`expires`/`domain`/`path`/`sameSite`/`priority`, `sameSite: "none"`
 * or `partitioned` without `secure`, and broken `__Secure-`/`__Host-` prefix rules (prefixes matched
 * case-insensitively, as browsers do). Messages never contain the name, value or attribute values.
 */
export function serializeCookie(name: string, value: string, attributes?: CookieAttributes): string {
  if (typeof name !== "string" || !TOKEN.test(name)) {
    throw new CookieError("ERR_COOKIE_NAME", "cookie name must be an RFC 6265 token");
  }
  const attrs = attributes ?? undefined;
  if (attrs !== undefined && (typeof attrs !== "object" || attrs === null)) {
    throw new CookieError("ERR_INVALID_OPTION", "cookie attributes must be an object");
  }
  const encoded = encodeValue(value, own(attrs, "encode"));
  if (name.length + encoded.length > MAX_COOKIE_BYTES) {
    throw new CookieError("ERR_COOKIE_TOO_LARGE", `cookie name + value exceed ${MAX_COOKIE_BYTES} bytes`);
  }
  let header = name + "=" + encoded;

  const maxAge = own(attrs, "maxAge");
  if (maxAge !== undefined) header += "; Max-Age=" + checkMaxAge(maxAge);

  const expires = own(attrs, "expires");
  if (expires !== undefined) header += "; Expires=" + checkExpires(expires);

  const domain = own(attrs, "domain");
  if (domain !== undefined) {
    if (typeof domain !== "string" || domain.length > MAX_DOMAIN_LENGTH || !DOMAIN.test(domain)) {
      throw new CookieError("ERR_COOKIE_DOMAIN", "cookie domain must be a hostname");
    }
    header += "; Domain=" + domain;
  }

  const pathOption = own(attrs, "path");
  const path = pathOption === undefined ? "/" : pathOption;
  if (typeof path !== "string" || path.length > MAX_ATTRIBUTE_VALUE_BYTES || !PATH.test(path)) {
    throw new CookieError(
      "ERR_COOKIE_PATH",
      "cookie path must start with / and contain only URL path characters",
    );
  }
  header += "; Path=" + path;

  const httpOnly = ownBoolean(attrs, "httpOnly");
  const secure = ownBoolean(attrs, "secure");
  const partitioned = ownBoolean(attrs, "partitioned");
  if (httpOnly) header += "; HttpOnly";
  if (secure) header += "; Secure";
  if (partitioned) {
    // CHIPS: browsers reject a Partitioned cookie without Secure.
    if (!secure) throw new CookieError("ERR_COOKIE_PARTITIONED", "partitioned cookies require secure");
    header += "; Partitioned";
  }

  const priority = own(attrs, "priority");
  if (priority !== undefined)
    header += "; Priority=" + lookup(PRIORITY_TEXT, priority, "ERR_COOKIE_PRIORITY");

  const sameSite = own(attrs, "sameSite");
  const sameSiteText =
    sameSite === undefined ? "Lax" : lookup(SAME_SITE_TEXT, sameSite, "ERR_COOKIE_SAMESITE");
  // RFC 6265bis §5.6.7 / browsers: SameSite=None without Secure is rejected.
  if (sameSiteText === "None" && !secure) {
    throw new CookieError("ERR_COOKIE_SAMESITE", 'sameSite "none" requires secure');
  }
  header += "; SameSite=" + sameSiteText;

  checkPrefix(name, secure, domain, path);
  return header;
}

/** True when `name` carries the `__Secure-` or `__Host-` prefix, in any letter case (RFC 6265bis §4.1.3). */
export function hasSecurePrefix(name: string): boolean {
  return startsWithIgnoreCase(name, "__secure-") || startsWithIgnoreCase(name, "__host-");
}

// RFC 6265bis §4.1.3.1 / §4.1.3.2; browsers compare prefixes case-insensitively, so "__HOST-x" is held to the
// same rules (otherwise it would be a way around them).
function checkPrefix(name: string, secure: boolean, domain: string | undefined, path: string): void {
  if (startsWithIgnoreCase(name, "__secure-") && !secure) {
    throw new CookieError("ERR_PREFIX_SECURE", "__Secure- cookies require secure");
  }
  if (startsWithIgnoreCase(name, "__host-") && (!secure || domain !== undefined || path !== "/")) {
    throw new CookieError("ERR_PREFIX_HOST", "__Host- cookies require secure, path / and no domain");
  }
}

function startsWithIgnoreCase(name: string, lowerPrefix: string): boolean {
  return name.length >= lowerPrefix.length && name.slice(0, lowerPrefix.length).toLowerCase() === lowerPrefix;
}

function encodeValue(value: unknown, encode: unknown): string {
  if (typeof value !== "string") throw new CookieError("ERR_COOKIE_VALUE", "cookie value must be a string");
  if (encode === undefined) {
    try {
      // encodeURIComponent only emits cookie-octets, so its output needs no further check.
      return encodeURIComponent(value);
    } catch (cause) {
      // A lone surrogate (URIError) cannot be encoded.
      throw new CookieError("ERR_COOKIE_VALUE", "cookie value is not well-formed Unicode", { cause });
    }
  }
  if (typeof encode !== "function") throw new CookieError("ERR_INVALID_OPTION", "encode must be a function");
  let encoded: unknown;
  try {
    encoded = encode(value);
  } catch (cause) {
    throw new CookieError("ERR_COOKIE_VALUE", "encode threw", { cause });
  }
  if (typeof encoded !== "string" || !COOKIE_VALUE.test(encoded)) {
    throw new CookieError("ERR_COOKIE_VALUE", "encoded cookie value is not an RFC 6265 cookie-value");
  }
  return encoded;
}

function checkMaxAge(maxAge: unknown): number {
  if (typeof maxAge !== "number" || !Number.isInteger(maxAge) || maxAge < 0) {
    throw new CookieError("ERR_COOKIE_MAX_AGE", "maxAge must be a non-negative integer number of seconds");
  }
  // Clamp rather than throw: it is what every browser does with a longer Max-Age (RFC 6265bis §5.6.2), and the
  // header then says what the browser will actually keep. `+ 0` turns -0 into 0.
  return Math.min(maxAge, MAX_COOKIE_LIFETIME_SECONDS) + 0;
}

function checkExpires(expires: unknown): string {
  const time = timeOf(expires);
  // Format a fresh Date: a subclass or a look-alike could override toUTCString and inject attributes.
  const date = new Date(time);
  const year = date.getUTCFullYear();
  if (!Number.isFinite(time) || year < MIN_EXPIRES_YEAR || year > MAX_EXPIRES_YEAR) {
    throw new CookieError(
      "ERR_COOKIE_EXPIRES",
      "expires must be a valid Date between the years 1601 and 9999",
    );
  }
  return date.toUTCString();
}

/** The time value of a real Date (from any realm), or NaN for anything else. */
function timeOf(value: unknown): number {
  try {
    return Date.prototype.getTime.call(value);
  } catch {
    return Number.NaN;
  }
}

function lookup<K extends string>(
  table: Readonly<Record<K, string>>,
  input: unknown,
  code: "ERR_COOKIE_SAMESITE" | "ERR_COOKIE_PRIORITY",
): string {
  if (typeof input === "string") {
    const key = input.toLowerCase();
    if (Object.hasOwn(table, key)) return table[key as K];
  }
  throw new CookieError(code, code === "ERR_COOKIE_SAMESITE" ? "invalid sameSite" : "invalid priority");
}

function own<K extends keyof CookieAttributes>(
  attrs: CookieAttributes | undefined,
  key: K,
): CookieAttributes[K] | undefined {
  return attrs !== undefined && Object.hasOwn(attrs, key) ? attrs[key] : undefined;
}

function ownBoolean(
  attrs: CookieAttributes | undefined,
  key: "secure" | "httpOnly" | "partitioned",
): boolean {
  const flag: unknown = own(attrs, key);
  if (flag === undefined) return false;
  if (typeof flag !== "boolean") throw new CookieError("ERR_INVALID_OPTION", `${key} must be a boolean`);
  return flag;
}
