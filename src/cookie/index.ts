/**
 * Cookies: a lenient, total parser for Cookie headers, a strict Set-Cookie serializer, and a per-request jar.
 */
export {
  MAX_ATTRIBUTE_VALUE_BYTES,
  MAX_COOKIE_BYTES,
  MAX_COOKIE_HEADER_BYTES,
  MAX_COOKIE_LIFETIME_SECONDS,
} from "./constants.js";
export type { CookieDeleteAttributes, CookieJarOptions } from "./jar.js";
export { CookieJar } from "./jar.js";
export type { CookieHeaderInput, ParseCookiesOptions } from "./parse.js";
export { parseCookies } from "./parse.js";
export type { CookieAttributes, CookiePriority, CookieSameSite } from "./serialize.js";
export { serializeCookie } from "./serialize.js";
