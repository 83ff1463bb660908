/**
 * What a user pastes as COOKIE: a bare value, `name=value` (browser devtools, a Cookie header's
 * pair), a whole `Set-Cookie` line (optionally with its `Set-Cookie:` header name), or a whole
 * `Cookie` header (a session split over chunks `name.0 … name.N-1` arrives that way).
 */
import { parseSetCookie, type SetCookie } from "cookie";
import { parseCookies, readCookie } from "../cookie/parse.js";
import { type ChunkRead, readChunks } from "../session/chunks.js";
import { MAX_MAX_CHUNKS } from "../stores/cookie.js";
import { UsageError } from "./io.js";
import { DEFAULT_NAMES } from "./sessions.js";

/** RFC 6265 cookie-name: an HTTP token. */
export const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** RFC 6265 cookie-octets (as relaxed by the `cookie` package: `"`, `,` and `\` allowed), or a quoted value. */
const COOKIE_VALUE = /^[\u0021-\u003A\u003C-\u007E]+$/;

/** Oversized cookies are for the size checks to report, not for the parser to drop. */
const ANY_SIZE = { maxBytes: Number.POSITIVE_INFINITY };

const SET_COOKIE_HEADER = /^set-cookie[ \t]*:[ \t]*/i;
const COOKIE_HEADER = /^cookie[ \t]*:[ \t]*/i;

export interface CookieInput {
  /** The cookie's name, when the input carried one (`name=value`, or a Set-Cookie line). */
  name?: string;
  /** The value as a server's cookie parser hands it over: percent-decoded, quotes removed. */
  value: string;
  /** The value as written (what browsers count against their size limit). */
  raw: string;
  /** The attributes, when the input was a Set-Cookie line. */
  setCookie?: SetCookie;
}

const unquote = (value: string): string =>
  value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;

/**
 * Reads a pasted cookie. A Set-Cookie line is recognised by its `Set-Cookie:` header name or by a
 * `;` (a cookie value never contains one) and parsed with the `cookie` package's `parseSetCookie`.
 * Otherwise the input is `name=value` when the part before its first `=` is a cookie-name token
 * and the rest is a non-empty cookie value: none of the formats decode reads contains `=` (flagon
 * writes `v1.` + base64url and dots, itsdangerous base64url without padding and dots), so a bare
 * value of theirs is never split. Values are percent-decoded as flagon's own Cookie parser does.
 */
export function readCookieInput(raw: string): CookieInput {
  let text = raw.trim();
  const header = SET_COOKIE_HEADER.exec(text);
  if (header) text = text.slice(header[0].length);
  if (header || text.includes(";")) {
    const firstPair = text.split(";", 1)[0]!;
    if (!firstPair.includes("="))
      throw new UsageError('a Set-Cookie line starts with NAME=VALUE (e.g. "sid=v1.…; Path=/")');
    const setCookie = parseSetCookie(text);
    if (!COOKIE_NAME.test(setCookie.name))
      throw new UsageError(
        `the Set-Cookie line's name ${JSON.stringify(setCookie.name)} is not a cookie name`,
      );
    const raw = firstPair.slice(firstPair.indexOf("=") + 1).trim();
    return { name: setCookie.name, value: unquote(setCookie.value ?? ""), raw, setCookie };
  }
  const eq = text.indexOf("=");
  if (eq > 0) {
    const name = text.slice(0, eq).trim();
    const rest = text.slice(eq + 1).trim();
    if (COOKIE_NAME.test(name) && COOKIE_VALUE.test(rest) && !rest.startsWith("=")) {
      return { name, value: unquote(parseCookies(text, ANY_SIZE)[name] ?? rest), raw: rest };
    }
  }
  // A bare value: the same percent-decoding, through the same parser.
  return { value: unquote(parseCookies(`v=${text}`, ANY_SIZE).v ?? text), raw: text };
}

/** The session cookie found in a pasted Cookie header: one cookie, or chunks the session layer joined. */
export interface HeaderSession {
  name: string;
  /** The value (the chunks joined, when chunked); empty when the chunks do not join. */
  value: string;
  /** What the core's chunk reader (src/session/chunks.ts) found, when the session came in chunks. */
  chunks?: ChunkRead;
}

/**
 * Reads a pasted Cookie header (`Cookie: a=1; sid.0=…; sid.1=…`, or the pairs copied from the browser)
 * the way the session layer reads a request: the session cookie `name` (`--name`, else flagon's
 * default names, else the name of a `NAME.0` pair), and only when it is absent its chunks, joined by the
 * core's `readChunks`. The server's `maxChunks` is not known here: up to the largest allowed is read.
 * Returns undefined for anything else (a value, `name=value`, a Set-Cookie line), which
 * `readCookieInput` reads: without a `Cookie:` header name, pairs are a Cookie header only when they
 * hold chunks (a Set-Cookie line's attributes never end in `.0`).
 */
export function readHeaderSession(raw: string, name: string | undefined): HeaderSession | undefined {
  let text = raw.trim();
  if (SET_COOKIE_HEADER.test(text)) return undefined;
  const header = COOKIE_HEADER.exec(text);
  if (header) text = text.slice(header[0].length);
  const names: string[] = name === undefined ? [...DEFAULT_NAMES] : [name];
  if (name === undefined) {
    for (const pair of Object.keys(parseCookies(text, ANY_SIZE))) {
      const base = pair.endsWith(".0") ? pair.slice(0, -2) : "";
      if (COOKIE_NAME.test(base) && !names.includes(base)) names.push(base);
    }
  }
  for (const candidate of names) {
    // A request carrying both the one cookie and chunks reads the one cookie, as the session layer does.
    const one = readCookie(text, candidate);
    if (one !== undefined) return header ? { name: candidate, value: one } : undefined;
    const chunks = readChunks(text, candidate, MAX_MAX_CHUNKS);
    if (chunks !== undefined) return { name: candidate, value: chunks.ok ? chunks.value : "", chunks };
  }
  if (!header) return undefined;
  throw new UsageError(
    `the Cookie header holds no cookie named ${names.join(", ")} nor its chunks (${names[0]}.0, …): give --name`,
  );
}
