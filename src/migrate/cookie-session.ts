/**
 * cookie-session: the whole session in the cookie, signed in a companion cookie by keygrip,
 *
 *   session     = base64(JSON.stringify(data))
 *   session.sig = base64url(HMAC-SHA1(key, "session=" + value))   (no padding; keygrip's default)
 *
 * The first key signed, every key verifies (keygrip rotation). There is no expiry inside the value:
 * cookie-session leaves it to the browser.
 */
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
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

export interface CookieSessionOptions extends LegacyReaderOptions {
  /** cookie-session's `keys` (or its `secret`, as a one-item list): every one is tried. */
  keys: LegacySecret;
  /** cookie-session's `name`; its signature is in `name + ".sig"`. @default "session" */
  name?: string;
}

const OPTION_NAMES = ["keys", "name", ...COMMON_OPTION_NAMES];
const HINTS = Object.freeze({
  secret: "pass it as keys: [secret]",
  signed: "only signed cookie-session cookies are migrated (unsigned ones could hold anything anyone wrote)",
});

export const COOKIE_SESSION_COOKIE_NAME = "session";

/** What `openCookieSession` found. */
export type CookieSessionResult =
  | { ok: true; data: LegacyData; keyIndex: number }
  | { ok: false; reason: "malformed" | "bad-mac" | "bad-payload" };

/**
 * Verifies a cookie-session value against its `.sig` cookie (`signature`, undefined when the request
 * has none) and decodes it. Constant-time per key; never throws for bad input.
 */
export function openCookieSession(
  name: string,
  value: string,
  signature: string | undefined,
  keys: readonly string[],
): CookieSessionResult {
  if (typeof value !== "string" || value === "") return { ok: false, reason: "malformed" };
  if (typeof signature !== "string" || signature === "") return { ok: false, reason: "bad-mac" };
  // keygrip signs what cookies reads back: `name=value`.
  const signed = `${name}=${value}`;
  for (let index = 0; index < keys.length; index++) {
    const expected = createHmac("sha1", keys[index]!).update(signed).digest("base64url");
    if (!safeEqual(signature, expected)) continue;
    // cookie-session decodes with Buffer's lenient base64, then JSON.parse.
    const data = parseObject(Buffer.from(value, "base64").toString("utf8"));
    return data === undefined ? { ok: false, reason: "bad-payload" } : { ok: true, data, keyIndex: index };
  }
  return { ok: false, reason: "bad-mac" };
}

/** The data of a cookie-session value WITHOUT checking its signature (anyone can write it): for `flagon decode`. */
export function peekCookieSession(value: string): LegacyData | undefined {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/_-]+=*$/.test(value)) return undefined;
  return parseObject(Buffer.from(value, "base64").toString("utf8"));
}

/**
 * Reads cookie-session's sessions (the cookie and its `.sig`). For
 * `createSessions({ migrateFrom: [cookieSession({ keys })] })`.
 */
export function cookieSession(options: CookieSessionOptions): LegacyReader {
  const where = "cookieSession";
  const common = commonOptions(where, options, OPTION_NAMES, HINTS);
  const keys = secretsOption(where, "keys", options.keys);
  const name = nameOption(where, "name", options.name, COOKIE_SESSION_COOKIE_NAME);
  const sigName = `${name}.sig`;
  return Object.freeze({
    name: "cookie-session",
    cookies: legacyCookies(where, [name, sigName], common),
    async read(cookies: Readonly<Record<string, string>>) {
      const value = cookies[name];
      if (value === undefined || value === "") return undefined;
      const opened = openCookieSession(name, value, cookies[sigName], keys);
      // cookie-session's maxAge is not in the cookie: a browser-session cookie is the safe reading.
      return opened.ok ? mapped(where, common.map, opened.data, false) : REFUSED[opened.reason];
    },
  });
}
