/**
 * Rails 5.2+ encrypted session cookies (ActionDispatch's CookieStore through the encrypted cookie jar,
 * ActiveSupport::MessageEncryptor with AES-256-GCM):
 *
 *   cookie = base64(ciphertext) "--" base64(iv, 12 bytes) "--" base64(auth tag, 16 bytes)   (strict base64)
 *   key    = PBKDF2(secret_key_base, "authenticated encrypted cookie", 1000 iterations, 32 bytes)
 *
 * PBKDF2 is HMAC-SHA1 up to Rails 6.1 and HMAC-SHA256 from Rails 7 (`hash_digest_class`); both are
 * tried. The plaintext is, since Rails 6 (`use_cookies_with_metadata`), the metadata envelope
 *
 *   {"_rails":{"message":base64(json),"exp":"2025-01-01T00:00:00.000Z"|null,"pur":"cookie.<name>"}}
 *
 * whose purpose binds the cookie's name and whose `exp` is the cookie's expiry; before, it is the JSON
 * itself (Rails reads both). Only the JSON cookie serializer is read (`cookies_serializer :json`,
 * the default since Rails 4.1; `:hybrid` cookies written since then are JSON too): Marshal data is
 * refused, never loaded.
 */
import { Buffer } from "node:buffer";
import { createDecipheriv, pbkdf2Sync } from "node:crypto";
import { invalidOption } from "../stores/options.js";
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
  parseObject,
  REFUSED,
  secretsOption,
} from "./reader.js";

export interface RailsEncryptedCookieOptions extends LegacyReaderOptions {
  /** The app's `secret_key_base` (or a list: the current one and older ones), as text. */
  secretKeyBase: LegacySecret;
  /** The session cookie's name, `config.session_store :cookie_store, key: "_myapp_session"`. */
  cookieName: string;
  /** `config.action_dispatch.authenticated_encrypted_cookie_salt`. @default "authenticated encrypted cookie" */
  salt?: string;
}

const OPTION_NAMES = ["secretKeyBase", "cookieName", "salt", ...COMMON_OPTION_NAMES];
const HINTS = Object.freeze({
  secret: "Rails' secret_key_base: secretKeyBase",
  secret_key_base: "spelled secretKeyBase",
  key: "Rails' session key is the cookie's name: cookieName",
  name: "spelled cookieName",
});

export const RAILS_COOKIE_SALT = "authenticated encrypted cookie";
/** `Rails.application.key_generator`'s iterations. */
const ITERATIONS = 1000;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type RailsDigest = "sha256" | "sha1";
const DIGESTS: readonly RailsDigest[] = ["sha256", "sha1"];

/** The AES keys for each secret_key_base, derived once (PBKDF2 is slow on purpose). */
export class RailsKeys {
  readonly size: number;
  private readonly keys: ReadonlyArray<Readonly<Record<RailsDigest, Buffer>>>;

  constructor(secretKeyBases: readonly string[], salt: string = RAILS_COOKIE_SALT) {
    this.keys = secretKeyBases.map((secret) =>
      Object.freeze({
        sha256: pbkdf2Sync(secret, salt, ITERATIONS, 32, "sha256"),
        sha1: pbkdf2Sync(secret, salt, ITERATIONS, 32, "sha1"),
      }),
    );
    this.size = this.keys.length;
  }

  /** The plaintext, and which key opened it, or undefined when none authenticates it. */
  open(
    ciphertext: Buffer,
    iv: Buffer,
    tag: Buffer,
  ): { plaintext: Buffer; keyIndex: number; digest: RailsDigest } | undefined {
    for (let keyIndex = 0; keyIndex < this.keys.length; keyIndex++) {
      for (const digest of DIGESTS) {
        try {
          const decipher = createDecipheriv("aes-256-gcm", this.keys[keyIndex]![digest], iv, {
            authTagLength: TAG_BYTES,
          });
          decipher.setAuthTag(tag);
          decipher.setAAD(Buffer.alloc(0)); // MessageEncryptor sets auth_data = ""
          const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
          return { plaintext, keyIndex, digest };
        } catch {
          // GCM's tag check failed for this key: try the next
        }
      }
    }
    return undefined;
  }
}

/** Ruby's `Base64.strict_decode64`: padded, standard alphabet, canonical; or null. */
function strictBase64(text: string): Buffer | null {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return null;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : null;
}

export interface RailsCookieInfo {
  data: LegacyData;
  keyIndex: number;
  /** Which PBKDF2 digest derived the key: sha1 (Rails ≤ 6.1) or sha256 (Rails 7+). */
  digest: RailsDigest;
  /** The metadata's expiry (ms), null when the cookie has none. */
  expiresAt: number | null;
  /** The plaintext was Rails 6's metadata envelope. */
  metadata: boolean;
}

export type RailsCookieResult =
  | ({ ok: true } & RailsCookieInfo)
  | { ok: false; reason: "malformed" }
  | { ok: false; reason: "bad-mac" }
  | ({ ok: false; reason: "wrong-name"; purpose: string } & Pick<RailsCookieInfo, "keyIndex" | "digest">)
  | ({ ok: false; reason: "expired"; expiresAt: number } & Pick<RailsCookieInfo, "keyIndex" | "digest">)
  | ({ ok: false; reason: "bad-payload" } & Pick<RailsCookieInfo, "keyIndex" | "digest">);

/**
 * Decrypts and reads a Rails encrypted session cookie (the value as the Cookie parser hands it over,
 * percent-decoded) for the cookie `cookieName` at `now` (ms). AES-GCM authenticates it; never throws
 * for bad input.
 */
export function openRailsCookie(
  cookie: string,
  keys: RailsKeys,
  options: { cookieName: string; now?: number },
): RailsCookieResult {
  const now = options.now ?? Date.now();
  if (typeof cookie !== "string") return { ok: false, reason: "malformed" };
  // MessageEncryptor: `message.split("--").map { strict_decode64 }`, the first three used. Ruby's split
  // drops trailing empty fields, and every field must decode: a trailing "--" or an extra valid field is
  // accepted, as Rails accepts it (it changes nothing that is authenticated).
  const parts = cookie.split("--");
  while (parts.length > 0 && parts.at(-1) === "") parts.pop();
  const decoded = parts.map(strictBase64);
  const [ciphertext, iv, tag] = decoded;
  if (decoded.length < 3 || decoded.includes(null) || iv!.length !== IV_BYTES || tag!.length !== TAG_BYTES)
    return { ok: false, reason: "malformed" };
  const opened = keys.open(ciphertext!, iv!, tag!);
  if (opened === undefined) return { ok: false, reason: "bad-mac" };
  const { keyIndex, digest } = opened;
  const text = opened.plaintext.toString("utf8");

  // Messages::Metadata: an envelope is read when the plaintext is a JSON object with "_rails".
  const outer = parseObject(text);
  const wrapped = outer !== undefined && Object.hasOwn(outer, "_rails");
  const envelope = wrapped ? asObject(outer._rails) : undefined;
  if (wrapped && envelope === undefined) return { ok: false, reason: "bad-payload", keyIndex, digest };
  let message = text;
  let expiresAt: number | null = null;
  if (envelope !== undefined) {
    // The jar reads with purpose "cookie.<name>", then with none (nil.to_s == ""): either matches.
    const purpose = envelope.pur ?? "";
    if (purpose !== "" && purpose !== `cookie.${options.cookieName}`) {
      return { ok: false, reason: "wrong-name", purpose: String(purpose), keyIndex, digest };
    }
    const inner = typeof envelope.message === "string" ? strictBase64(envelope.message) : null;
    if (inner === null) return { ok: false, reason: "bad-payload", keyIndex, digest };
    message = inner.toString("utf8");
    if (envelope.exp !== undefined && envelope.exp !== null) {
      expiresAt = typeof envelope.exp === "string" ? Date.parse(envelope.exp) : Number.NaN;
      if (!Number.isFinite(expiresAt)) return { ok: false, reason: "bad-payload", keyIndex, digest };
      // Metadata#fresh?: Time.now.utc < expires_at
      if (!(now < expiresAt)) return { ok: false, reason: "expired", expiresAt, keyIndex, digest };
    }
  }
  const data = parseObject(message);
  if (data === undefined) return { ok: false, reason: "bad-payload", keyIndex, digest };
  return { ok: true, data, keyIndex, digest, expiresAt, metadata: envelope !== undefined };
}

/** True for what looks like a Rails encrypted cookie (for `flagon decode`'s format detection). */
export function looksRailsEncrypted(value: string): boolean {
  if (typeof value !== "string") return false;
  const parts = value.split("--");
  return parts.length === 3 && parts.every((part) => strictBase64(part) !== null) && parts[1]!.length === 16;
}

/**
 * Reads Rails' encrypted session cookies. For
 * `createSessions({ migrateFrom: [railsEncryptedCookie({ secretKeyBase, cookieName })] })`.
 */
export function railsEncryptedCookie(options: RailsEncryptedCookieOptions): LegacyReader {
  const where = "railsEncryptedCookie";
  const common = commonOptions(where, options, OPTION_NAMES, HINTS);
  const secrets = secretsOption(where, "secretKeyBase", options.secretKeyBase);
  const name = nameOption(where, "cookieName", options.cookieName);
  const salt = options.salt ?? RAILS_COOKIE_SALT;
  if (typeof salt !== "string" || salt === "") throw invalidOption(where, "salt", "a non-empty string", salt);
  const keys = new RailsKeys(secrets, salt);
  return Object.freeze({
    name: "rails",
    cookies: legacyCookies(where, [name], common),
    async read(cookies: Readonly<Record<string, string>>, { now }: { now: number }) {
      const value = cookies[name];
      if (value === undefined || value === "") return undefined;
      const opened = openRailsCookie(value, keys, { cookieName: name, now });
      return opened.ok
        ? mapped(where, common.map, opened.data, opened.expiresAt !== null)
        : REFUSED[opened.reason];
    },
  });
}
