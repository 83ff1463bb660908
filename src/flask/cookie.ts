/**
 * Flask's session cookie: itsdangerous `URLSafeTimedSerializer` with salt `"cookie-session"`,
 * HMAC key derivation and SHA-1, over Flask's tagged JSON (docs/formats.md and docs/flask.md).
 *
 *   cookie  = payload "." timestamp "." signature
 *   payload = b64url(json) | "." b64url(zlib(json))   (compressed when it saves 2+ bytes)
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import { inflateSync } from "node:zlib";
import { deflate } from "pako";
import type { RejectReason, TimeRejectReason } from "../crypto/claims.js";
import { ConfigError, FlagonError } from "../errors.js";
import { decodeSegment, encodeSegment } from "./base64.js";
import { dumpFlaskJSON, FlaskPayloadError, parseFlaskSession } from "./json.js";

/** Flask's `PERMANENT_SESSION_LIFETIME` default: 31 days, in seconds. */
export const FLASK_DEFAULT_MAX_AGE = 31 * 24 * 60 * 60;
/** Flask's `SESSION_COOKIE_NAME` default. */
export const FLASK_COOKIE_NAME = "session";
/** `SecureCookieSessionInterface.salt`. */
const SALT = "cookie-session";
const SHA1_BYTES = 20;
const DOT = 0x2e;
/**
 * Inflate at most this much: a 4 KiB cookie could otherwise expand ~1000× (a zip bomb per request).
 * Flask itself has no cap; no session that fits in a browser cookie comes near it.
 */
const MAX_INFLATED_BYTES = 1 << 20;

/** One Flask `SECRET_KEY` (a string is used as its UTF-8 bytes, as Flask does) or a list: the first signs. */
export type FlaskSecret = string | Uint8Array;
export type FlaskSecrets = FlaskSecret | readonly FlaskSecret[];

/**
 * Why a Flask cookie was rejected, in flagon's shared vocabulary (`RejectReason`, src/crypto/claims.ts):
 * - `malformed`: empty, not `payload.timestamp.signature`, a signature that is not base64 or not
 *   20 bytes, or (correctly signed) an unreadable timestamp;
 * - `bad-mac`: no configured key produced this signature (tampered, or another key);
 * - `expired`: older than `maxAge`;
 * - `not-yet-valid`: issued after `now` (itsdangerous allows no clock skew);
 * - `bad-payload`: correctly signed and current, but the payload is not a session (Flask answers
 *   HTTP 500; flagon an empty session).
 * Never `wrong-name`: Flask's signature does not cover the cookie's name.
 */
export type FlaskRejection = Exclude<RejectReason, "wrong-name">;

export interface FlaskCookieInfo {
  /** The session dict with Flask's types mapped to JavaScript (docs/flask.md). */
  session: Record<string, unknown>;
  /** Index of the secret that verified it: 0 is the current one, more is a fallback (re-issue the cookie). */
  keyIndex: number;
  /** The signing time (whole seconds). */
  issuedAt: Date;
  /** `issuedAt + maxAge`: after it, the cookie is rejected. */
  expiresAt: Date;
  /** The payload was zlib-compressed (leading `.`). */
  compressed: boolean;
}

export type FlaskCookieResult =
  | ({ ok: true } & FlaskCookieInfo)
  | { ok: false; reason: "malformed" }
  | { ok: false; reason: "bad-mac" }
  | ({ ok: false; reason: "expired" } & FlaskSigned)
  | ({ ok: false; reason: "not-yet-valid" } & FlaskSigned)
  | ({ ok: false; reason: "bad-payload" } & FlaskSigned);

/** A correctly signed cookie refused for its time or its payload: which key, and when. */
export interface FlaskSigned {
  keyIndex: number;
  issuedAt: Date;
  /** `issuedAt + maxAge`. */
  expiresAt: Date;
}

export interface DecodeFlaskCookieOptions {
  /** Maximum age in seconds, Flask's `PERMANENT_SESSION_LIFETIME`. @default 2678400 (31 days) */
  maxAge?: number;
  /** The current time. @default new Date() */
  now?: Date | number;
}

export interface EncodeFlaskCookieOptions {
  /** The signing time written into the cookie. @default new Date() */
  now?: Date | number;
}

/** HMAC-SHA1 signing keys, derived once per secret: itsdangerous `key_derivation="hmac"`. */
export class FlaskKeys {
  readonly size: number;
  private readonly keys: readonly Buffer[];

  /** @throws ConfigError `ERR_SECRET_MISSING` for no key or an empty one. */
  constructor(secrets: FlaskSecrets) {
    const list: readonly FlaskSecret[] =
      typeof secrets === "string" || secrets instanceof Uint8Array ? [secrets] : secrets;
    if (!Array.isArray(list) || list.length === 0) {
      throw new ConfigError("ERR_SECRET_MISSING", "a Flask secret key is required");
    }
    this.keys = list.map((secret) => {
      if ((typeof secret !== "string" && !(secret instanceof Uint8Array)) || secret.length === 0) {
        throw new ConfigError("ERR_SECRET_MISSING", "Flask secret keys must be non-empty strings or bytes");
      }
      return createHmac("sha1", secret).update(SALT).digest();
    });
    this.size = this.keys.length;
  }

  /** HMAC-SHA1 of `message` under key `index`. */
  mac(index: number, message: Uint8Array): Buffer {
    return createHmac("sha1", this.keys[index]!).update(message).digest();
  }

  /** The index of the key whose MAC equals `signature`, or -1 (constant time per key). */
  verify(message: Uint8Array, signature: Uint8Array): number {
    if (signature.length !== SHA1_BYTES) return -1;
    for (let index = 0; index < this.keys.length; index++) {
      if (timingSafeEqual(this.mac(index, message), signature)) return index;
    }
    return -1;
  }
}

const toKeys = (secrets: FlaskSecrets | FlaskKeys): FlaskKeys =>
  secrets instanceof FlaskKeys ? secrets : new FlaskKeys(secrets);

function seconds(now: Date | number | undefined): number {
  const ms = now === undefined ? Date.now() : typeof now === "number" ? now : now.getTime();
  if (!Number.isFinite(ms)) throw new ConfigError("ERR_INVALID_OPTION", "`now` must be a valid Date");
  return Math.floor(ms / 1000); // int(time.time())
}

function checkMaxAge(maxAge: number): number {
  if (typeof maxAge !== "number" || !Number.isFinite(maxAge) || maxAge < 0) {
    throw new ConfigError("ERR_INVALID_OPTION", "`maxAge` must be a finite number of seconds >= 0");
  }
  return maxAge;
}

/** itsdangerous' age rules (`TimestampSigner.unsign` with `max_age`), on whole seconds: the one place they live. */
function ageRejection(timestamp: number, maxAge: number, now: number): TimeRejectReason | undefined {
  const age = now - timestamp;
  if (age > maxAge) return "expired";
  if (age < 0) return "not-yet-valid";
  return undefined;
}

/**
 * The time rules alone, for a cookie whose `issuedAt` was read without verifying it (`peekFlaskCookie`):
 * `expired`, `not-yet-valid`, or undefined when Flask would accept that age.
 * @throws ConfigError for a nonsensical `maxAge` or `now`.
 */
export function flaskTimeRejection(
  issuedAt: Date,
  options: DecodeFlaskCookieOptions = {},
): TimeRejectReason | undefined {
  const maxAge = checkMaxAge(options.maxAge ?? FLASK_DEFAULT_MAX_AGE);
  return ageRejection(Math.floor(issuedAt.getTime() / 1000), maxAge, seconds(options.now));
}

/** itsdangerous `bytes_to_int`: big-endian, at most 8 bytes. */
function readTimestamp(segment: Uint8Array): number | null {
  const bytes = decodeSegment(segment);
  if (bytes === null || bytes.length > 8) return null;
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  // Beyond 2^53 s the cookie is from the far future anyway; Number keeps the comparison right.
  return Number(value);
}

/** itsdangerous `int_to_bytes`: big-endian with leading zero bytes stripped. */
function writeTimestamp(timestamp: number): string {
  const bytes: number[] = [];
  for (let rest = BigInt(timestamp); rest > 0n; rest >>= 8n) bytes.unshift(Number(rest & 0xffn));
  return encodeSegment(Uint8Array.from(bytes));
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** itsdangerous `URLSafeSerializerMixin.load_payload` + Flask's session class. @throws FlaskPayloadError */
function loadPayload(payload: Uint8Array): { session: Record<string, unknown>; compressed: boolean } {
  const compressed = payload[0] === DOT;
  let bytes = decodeSegment(compressed ? payload.subarray(1) : payload);
  if (bytes === null) throw new FlaskPayloadError("payload is not base64");
  if (compressed) {
    try {
      bytes = inflateSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES });
    } catch (error) {
      throw new FlaskPayloadError("payload does not inflate", { cause: error });
    }
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (error) {
    throw new FlaskPayloadError("payload is not UTF-8", { cause: error });
  }
  return { session: parseFlaskSession(text), compressed };
}

function splitAtLastDot(bytes: Uint8Array): [Uint8Array, Uint8Array] | null {
  const dot = bytes.lastIndexOf(DOT);
  return dot < 0 ? null : [bytes.subarray(0, dot), bytes.subarray(dot + 1)];
}

/**
 * Verifies and decodes a Flask session cookie, saying why when it fails.
 * Never throws for a bad cookie; throws `ConfigError` for bad keys or options.
 */
export function openFlaskCookie(
  cookie: string,
  secretKeys: FlaskSecrets | FlaskKeys,
  options: DecodeFlaskCookieOptions = {},
): FlaskCookieResult {
  const keys = toKeys(secretKeys);
  const maxAge = checkMaxAge(options.maxAge ?? FLASK_DEFAULT_MAX_AGE);
  const now = seconds(options.now);
  if (typeof cookie !== "string" || cookie.length === 0) return { ok: false, reason: "malformed" };

  // Flask works on the UTF-8 bytes of the cookie string; so does the MAC.
  const signed = splitAtLastDot(Buffer.from(cookie, "utf8"));
  if (signed === null) return { ok: false, reason: "malformed" };
  const [value, signatureSegment] = signed;
  const signature = decodeSegment(signatureSegment);
  if (signature === null || signature.length !== SHA1_BYTES) return { ok: false, reason: "malformed" };
  const keyIndex = keys.verify(value, signature);
  if (keyIndex < 0) return { ok: false, reason: "bad-mac" };

  const timed = splitAtLastDot(value);
  const timestamp = timed === null ? null : readTimestamp(timed[1]);
  if (timed === null || timestamp === null) return { ok: false, reason: "malformed" };
  const issuedAt = new Date(timestamp * 1000);
  const expiresAt = new Date((timestamp + maxAge) * 1000);
  const late = ageRejection(timestamp, maxAge, now);
  if (late !== undefined) return { ok: false, reason: late, keyIndex, issuedAt, expiresAt };

  try {
    const { session, compressed } = loadPayload(timed[0]);
    return { ok: true, session, keyIndex, issuedAt, expiresAt, compressed };
  } catch (error) {
    if (error instanceof FlaskPayloadError)
      return { ok: false, reason: "bad-payload", keyIndex, issuedAt, expiresAt };
    throw error;
  }
}

/**
 * The session data of a Flask session cookie, or `null` when the cookie is missing, malformed,
 * tampered, signed with another key, expired or from the future, or does not hold a session.
 * Several keys: the first is the current one, the others are accepted fallbacks.
 */
export function decodeFlaskCookie(
  cookie: string,
  secretKeys: FlaskSecrets | FlaskKeys,
  options: DecodeFlaskCookieOptions = {},
): Record<string, unknown> | null {
  const result = openFlaskCookie(cookie, secretKeys, options);
  return result.ok ? result.session : null;
}

/**
 * A cookie value Flask's `SecureCookieSessionInterface` accepts, signed with the first key.
 * Output matches Flask's byte for byte (sorted keys, ASCII escapes, CPython's zlib output).
 * @throws FlagonError `ERR_VALUE_NOT_SERIALIZABLE` when `data` holds something Flask cannot store.
 */
export function encodeFlaskCookie(
  data: Record<string, unknown>,
  secretKeys: FlaskSecrets | FlaskKeys,
  options: EncodeFlaskCookieOptions = {},
): string {
  const keys = toKeys(secretKeys);
  const timestamp = seconds(options.now);
  if (timestamp < 0) throw new ConfigError("ERR_INVALID_OPTION", "`now` must not be before 1970");
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new FlagonError("ERR_VALUE_NOT_SERIALIZABLE", "a Flask session must be a plain object");
  }
  const json = Buffer.from(dumpFlaskJSON(data), "utf8");
  // itsdangerous: compress iff it saves at least 2 bytes; pako reproduces CPython's zlib level 6 bytes.
  const compressed = deflate(json);
  const payload = compressed.length < json.length - 1 ? `.${encodeSegment(compressed)}` : encodeSegment(json);
  const message = `${payload}.${writeTimestamp(timestamp)}`;
  return `${message}.${encodeSegment(keys.mac(0, Buffer.from(message, "latin1")))}`;
}

export interface PeekedFlaskCookie {
  /** The session if the payload decodes, else `null`. Not verified: anyone can write this. */
  session: Record<string, unknown> | null;
  /** The claimed signing time, if readable. */
  issuedAt: Date | null;
  compressed: boolean;
}

/**
 * Reads a Flask cookie WITHOUT checking its signature (Flask cookies are signed, not encrypted:
 * anyone can read them). For debugging only: never trust the result.
 */
export function peekFlaskCookie(cookie: string): PeekedFlaskCookie | null {
  if (typeof cookie !== "string" || cookie.length === 0) return null;
  const signed = splitAtLastDot(Buffer.from(cookie, "utf8"));
  const timed = signed === null ? null : splitAtLastDot(signed[0]);
  if (timed === null) return null;
  const timestamp = readTimestamp(timed[1]);
  const issuedAt = timestamp === null ? null : new Date(timestamp * 1000);
  try {
    return { ...loadPayload(timed[0]), issuedAt };
  } catch (error) {
    if (error instanceof FlaskPayloadError)
      return { session: null, issuedAt, compressed: timed[0][0] === DOT };
    throw error;
  }
}
