import { Buffer } from "node:buffer";
import { parseCookie } from "cookie";
import { ConfigError } from "../errors.js";
import { MAX_COOKIE_HEADER_BYTES } from "./constants.js";

/** Options for {@link parseCookies}. */
export interface ParseCookiesOptions {
  /**
   * Ignore the whole Cookie header (return no cookies) when it is longer than this many UTF-8 bytes, before any
   * parsing. With several header fields, their joined length counts. `Infinity` disables the cap.
   * @default MAX_COOKIE_HEADER_BYTES (8192)
   */
  maxBytes?: number;
}

/** A request header as Node, Fetch `Headers` or HTTP/2 hand it over: one field, several, or none. */
export type CookieHeaderInput = string | readonly string[] | null | undefined;

/**
 * Parse a request's Cookie header into a null-prototype record of name → value.
 *
 * Never throws on any header (only on invalid `options`). Built on `cookie`'s `parseCookie`, which already:
 * trims only SP and HTAB around names and values (so `"\u00a0sid"` stays a different name from `"sid"`),
 * keeps the first of duplicate names, drops pairs without `=`, never decodes names, decodes values with
 * `decodeURIComponent` and keeps the raw value when that fails, and runs in linear time.
 * On top of it: the result has a `null` prototype, the nameless pair (`=x`, `" = x"`) is dropped, several
 * header fields are joined with `"; "` (RFC 6265bis §4.2.1: servers must be tolerant of multiple Cookie
 * fields, as HTTP/2 sends them), and oversized headers are ignored.
 */
export function parseCookies(
  header: CookieHeaderInput,
  options?: ParseCookiesOptions,
): Record<string, string> {
  const maxBytes = readMaxBytes(options);
  const text = joinCookieHeader(header);
  if (text.length < 2 || exceedsBytes(text, maxBytes)) return Object.create(null);
  // With the default decoder every value is a string.
  const cookies = parseCookie(text) as Record<string, string>;
  // cookie@1 returns an object whose prototype is an empty null-prototype object; make the prototype itself null
  // so `Object.getPrototypeOf(result) === null` holds and no inherited key can ever be seen.
  Object.setPrototypeOf(cookies, null);
  // A nameless pair (`=__Host-sid=x`) must not become a cookie under any name, not even "" (CVE-2023-23934).
  if (cookies[""] !== undefined) delete cookies[""];
  return cookies;
}

/**
 * The value of one cookie, exactly as `parseCookies(header, { maxBytes })[name]` gives it, without
 * building the null-prototype record (the session layer reads one cookie per request, and
 * re-parenting an object costs V8 a new hidden class each time). `undefined` for the nameless pair.
 */
export function readCookie(
  header: CookieHeaderInput,
  name: string,
  maxBytes: number = Number.POSITIVE_INFINITY,
): string | undefined {
  if (name === "") return undefined;
  const text = joinCookieHeader(header);
  if (text.length < 2 || text.indexOf(name) === -1 || exceedsBytes(text, maxBytes)) return undefined;
  // One pass over the pairs, comparing names in place: linear in the header whatever its size, and
  // only the matching pair is handed to the parser (so its value decodes exactly as parseCookies's).
  // The first pair with the name wins, as in `cookie`.
  let start = 0;
  // The next "=" at or after `start`, kept between pairs: a run of pairs without one (a;a;a;…) must not
  // send each search to the end of the header again (that would be quadratic).
  let eq = -1;
  while (start < text.length) {
    let end = text.indexOf(";", start);
    if (end === -1) end = text.length;
    if (eq !== Number.POSITIVE_INFINITY && eq < start) {
      eq = text.indexOf("=", start);
      if (eq === -1) eq = Number.POSITIVE_INFINITY;
    }
    if (eq < end && trimmedEquals(text, start, eq, name)) {
      const cookies = parseCookie(text.slice(start, end)) as Record<string, string | undefined>;
      return Object.hasOwn(cookies, name) ? cookies[name] : undefined;
    }
    start = end + 1;
  }
  return undefined;
}

/** Whether text[from, to), without the spaces and tabs `cookie` trims around a name, is `name`. */
function trimmedEquals(text: string, from: number, to: number, name: string): boolean {
  while (from < to && (text.charCodeAt(from) === 0x20 || text.charCodeAt(from) === 0x09)) from++;
  while (to > from && (text.charCodeAt(to - 1) === 0x20 || text.charCodeAt(to - 1) === 0x09)) to--;
  return to - from === name.length && text.startsWith(name, from);
}

/** Join one or several Cookie header fields into one cookie-string; anything that is not a string is ignored. */
export function joinCookieHeader(header: CookieHeaderInput): string {
  if (typeof header === "string") return header;
  if (!Array.isArray(header)) return "";
  let joined = "";
  for (const field of header as readonly unknown[]) {
    if (typeof field !== "string" || field === "") continue;
    joined = joined === "" ? field : `${joined}; ${field}`;
  }
  return joined;
}

/** True when `text` is longer than `maxBytes` UTF-8 bytes; O(1) for the common cases. */
export function exceedsBytes(text: string, maxBytes: number): boolean {
  // UTF-8 needs at least one byte and at most three per UTF-16 code unit.
  if (text.length > maxBytes) return true;
  if (text.length * 3 <= maxBytes) return false;
  return Buffer.byteLength(text, "utf8") > maxBytes;
}

function readMaxBytes(options: ParseCookiesOptions | undefined): number {
  const maxBytes = options !== undefined && Object.hasOwn(options, "maxBytes") ? options.maxBytes : undefined;
  if (maxBytes === undefined) return MAX_COOKIE_HEADER_BYTES;
  if (typeof maxBytes !== "number" || Number.isNaN(maxBytes) || maxBytes < 0) {
    throw new ConfigError("ERR_INVALID_OPTION", "maxBytes must be a non-negative number or Infinity");
  }
  return maxBytes;
}
