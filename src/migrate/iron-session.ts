/**
 * iron-session 8: an iron seal (iron-webcrypto's `Fe26.2` format) with iron-session's version suffix,
 *
 *   cookie = "Fe26.2" "*" passwordId "*" encSalt "*" iv "*" ciphertext "*" expiration "*" macSalt "*" mac "~2"
 *   key    = PBKDF2-SHA1(password, salt, 1 iteration, 32 bytes)          (one per salt, both salts hex text)
 *   mac    = base64url(HMAC-SHA256(key(macSalt), everything before "*" macSalt))
 *   data   = JSON of AES-256-CBC(key(encSalt), iv) of the ciphertext
 *
 * `expiration` is empty (no TTL) or ms since the epoch; iron allows 60 s of clock skew. Without the
 * `~2` suffix the seal is iron-session 6/7's, whose data sits under `persistent`.
 */
import { Buffer } from "node:buffer";
import { createDecipheriv, createHmac, pbkdf2Sync } from "node:crypto";
import { describe } from "../config-check.js";
import { ConfigError } from "../errors.js";
import {
  asObject,
  COMMON_OPTION_NAMES,
  commonOptions,
  type LegacyData,
  type LegacyReader,
  type LegacyReaderOptions,
  legacyCookies,
  mapped,
  nameOption,
  REFUSED,
  safeEqual,
} from "./reader.js";

/** iron-session's `password`: one string (id "1"), or a map of id → password for rotation. */
export type IronPassword = string | undefined | Readonly<Record<string, string | undefined>>;

export interface IronSessionOptions extends LegacyReaderOptions {
  /** iron-session's `password` (each at least 32 characters, as iron-session requires). */
  password: IronPassword;
  /** iron-session's `cookieName`. */
  cookieName: string;
}

const OPTION_NAMES = ["password", "cookieName", ...COMMON_OPTION_NAMES];
const HINTS = Object.freeze({
  name: "iron-session calls it cookieName",
  ttl: "the expiry is inside each seal and honoured as iron-session does; nothing to set",
  cookieOptions: "only the cookie's path and domain matter here: use path and domain",
});

const MAC_PREFIX = "Fe26.2";
/** iron's `timestampSkewSec`. */
const IRON_SKEW_MS = 60_000;
const MIN_PASSWORD_LENGTH = 32;

export type IronResult =
  | { ok: true; data: LegacyData; passwordId: string; expiresAt: number | null; version: 1 | 2 }
  | { ok: false; reason: "malformed" | "bad-mac" | "bad-payload" }
  | { ok: false; reason: "expired"; passwordId: string; expiresAt: number };

/** iron-session's `normalizeStringPasswordToMap`: a lone password has id "1". */
export function ironPasswords(where: string, password: unknown): Readonly<Record<string, string>> {
  const map = typeof password === "string" ? { 1: password } : password;
  if (map === null || typeof map !== "object" || Array.isArray(map) || Object.keys(map).length === 0) {
    throw new ConfigError(
      "ERR_SECRET_MISSING",
      `${where}: \`password\` must be iron-session's password: a string or a map of id to password, got ${describe(password)}`,
    );
  }
  const out: Record<string, string> = Object.create(null);
  for (const [id, secret] of Object.entries(map)) {
    if (typeof secret !== "string" || secret.length < MIN_PASSWORD_LENGTH) {
      throw new ConfigError(
        typeof secret === "string" ? "ERR_SECRET_TOO_SHORT" : "ERR_SECRET_MISSING",
        `${where}: password ${JSON.stringify(id)} must be a string of at least ${MIN_PASSWORD_LENGTH} characters (iron-session's rule)`,
      );
    }
    out[id] = secret;
  }
  return Object.freeze(out);
}

const key = (password: string, salt: string) => pbkdf2Sync(password, salt, 1, 32, "sha1");

/**
 * Verifies and opens an iron-session cookie with `passwords` (id → password; the seal names its id)
 * at `now` (ms). Constant-time MAC check; never throws for bad input.
 */
export function unsealIronSession(
  cookie: string,
  passwords: Readonly<Record<string, string>>,
  now: number = Date.now(),
): IronResult {
  if (typeof cookie !== "string") return { ok: false, reason: "malformed" };
  const tilde = cookie.indexOf("~");
  const seal = tilde < 0 ? cookie : cookie.slice(0, tilde);
  const suffix = tilde < 0 ? undefined : cookie.slice(tilde + 1);
  if (suffix !== undefined && suffix !== "2") return { ok: false, reason: "malformed" };
  const parts = seal.split("*");
  if (parts.length !== 8 || parts[0] !== MAC_PREFIX) return { ok: false, reason: "malformed" };
  const [, id, encryptionSalt, ivText, encrypted, expiration, macSalt, givenMac] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (expiration !== "" && !/^\d+$/.test(expiration)) return { ok: false, reason: "malformed" };
  const passwordId = id === "" ? "default" : id;
  const password = Object.hasOwn(passwords, passwordId) ? passwords[passwordId] : undefined;
  if (password === undefined) return { ok: false, reason: "bad-mac" };
  const base = parts.slice(0, 6).join("*");
  const expectedMac = createHmac("sha256", key(password, macSalt)).update(base).digest("base64url");
  if (!safeEqual(givenMac, expectedMac)) return { ok: false, reason: "bad-mac" };

  const expiresAt = expiration === "" ? null : Number(expiration);
  if (expiresAt !== null && expiresAt <= now - IRON_SKEW_MS) {
    return { ok: false, reason: "expired", passwordId, expiresAt };
  }
  let json: unknown;
  try {
    const iv = Buffer.from(ivText, "base64url");
    const decipher = createDecipheriv("aes-256-cbc", key(password, encryptionSalt), iv);
    const text = Buffer.concat([
      decipher.update(Buffer.from(encrypted, "base64url")),
      decipher.final(),
    ]).toString("utf8");
    json = text === "" ? null : JSON.parse(text);
  } catch {
    return { ok: false, reason: "bad-payload" };
  }
  // iron-session: `unseal(...) ?? {}`; before version 2 the data was under `persistent`.
  const version = suffix === "2" ? 2 : 1;
  const sealed = json ?? {};
  const data = version === 2 ? asObject(sealed) : asObject(asObject(sealed)?.persistent ?? {});
  if (data === undefined) return { ok: false, reason: "bad-payload" };
  return { ok: true, data, passwordId, expiresAt, version };
}

/** True for what looks like an iron seal (for `flagon decode`'s format detection). */
export function looksIronSealed(value: string): boolean {
  return typeof value === "string" && value.startsWith(`${MAC_PREFIX}*`);
}

/**
 * Reads iron-session's sealed cookies. For
 * `createSessions({ migrateFrom: [ironSession({ password, cookieName })] })`.
 */
export function ironSession(options: IronSessionOptions): LegacyReader {
  const where = "ironSession";
  const common = commonOptions(where, options, OPTION_NAMES, HINTS);
  const passwords = ironPasswords(where, options.password);
  const name = nameOption(where, "cookieName", options.cookieName);
  return Object.freeze({
    name: "iron-session",
    cookies: legacyCookies(where, [name], common),
    async read(cookies: Readonly<Record<string, string>>, { now }: { now: number }) {
      const value = cookies[name];
      if (value === undefined || value === "") return undefined;
      const opened = unsealIronSession(value, passwords, now);
      return opened.ok
        ? mapped(where, common.map, opened.data, opened.expiresAt !== null)
        : REFUSED[opened.reason];
    },
  });
}
