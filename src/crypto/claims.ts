import { Buffer } from "node:buffer";
import { ConfigError, FlagonError } from "../errors.js";
import type { Keyring } from "./keyring.js";

/** What `verify`/`open` return for an authentic, unexpired value. Times are ms since the Unix epoch. */
export interface Verified {
  /** The signed value or the sealed plaintext. */
  value: string;
  /** Which secret verified it: 0 is the primary; > 0 means an old secret, so the caller should re-issue. */
  keyIndex: number;
  issuedAt: number;
  /** null: no expiry inside the value (the cookie's own lifetime and the store still apply). */
  expiresAt: number | null;
}

export interface IssueOptions {
  /** Issue time, ms since epoch. @default Date.now() */
  now?: number;
  /** Absolute expiry, ms since epoch, authenticated with the value; null for none. @default null */
  expiresAt?: number | null;
}

export interface CheckOptions {
  /** Current time, ms since epoch. @default Date.now() */
  now?: number;
}

/**
 * Tolerated clock difference between the server that issued a value and the one checking it. A value issued
 * further in the future than this is rejected (itsdangerous `test_future_age`; iron uses 60 s too).
 */
export const CLOCK_SKEW_MS = 60_000;

/** Timestamps are stored in 48 bits (sealed format) and as at most 10 base36 digits (signed format): year 10889. */
export const MAX_TIMESTAMP_MS = 2 ** 48 - 1;

/** Format version, the first segment of every token. */
export const VERSION = "v1";

/** Validates issue options and returns [issuedAt, expiresAt] as integers. Throws on programmer error. */
export function issueTimes(options: IssueOptions | undefined): [number, number | null] {
  const issuedAt = options?.now ?? Date.now();
  const expiresAt = options?.expiresAt ?? null;
  if (!Number.isInteger(issuedAt) || issuedAt < 0 || issuedAt > MAX_TIMESTAMP_MS) {
    throw new FlagonError("ERR_INVALID_OPTION", "`now` must be an integer number of ms since the epoch");
  }
  if (
    expiresAt !== null &&
    (!Number.isInteger(expiresAt) || expiresAt <= 0 || expiresAt > MAX_TIMESTAMP_MS)
  ) {
    throw new FlagonError(
      "ERR_INVALID_OPTION",
      "`expiresAt` must be a positive integer number of ms, or null",
    );
  }
  return [issuedAt, expiresAt];
}

/** The time to check against, or NaN when the caller passed garbage (then everything is rejected). */
export function checkTime(options: CheckOptions | undefined): number {
  const now = options?.now ?? Date.now();
  return Number.isFinite(now) ? now : Number.NaN;
}

/** True when a value issued at `issuedAt` and expiring at `expiresAt` may be accepted at `now`. */
export function isCurrent(issuedAt: number, expiresAt: number | null, now: number): boolean {
  if (!(issuedAt <= now + CLOCK_SKEW_MS)) return false; // from the future (or now is NaN)
  return expiresAt === null || now < expiresAt;
}

/** Rejects strings whose UTF-8 encoding would not round-trip (lone surrogates become U+FFFD). */
export function assertWellFormed(what: string, text: unknown): asserts text is string {
  if (typeof text !== "string") {
    throw new FlagonError("ERR_VALUE_NOT_SERIALIZABLE", `${what} must be a string`);
  }
  if (!isWellFormed(text)) {
    throw new FlagonError("ERR_VALUE_NOT_SERIALIZABLE", `${what} contains a lone UTF-16 surrogate`);
  }
}

/** `String.prototype.isWellFormed` (ES2024, in Node >= 20; not yet in our TypeScript lib). */
export function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** Sextet value of the base64url character at char code c (c already known to be in the alphabet). */
function sextet(c: number): number {
  if (c >= 65 && c <= 90) return c - 65; // A-Z
  if (c >= 97 && c <= 122) return c - 71; // a-z
  if (c >= 48 && c <= 57) return c + 4; // 0-9
  return c === 45 ? 62 : 63; // "-" or "_"
}

/**
 * Decodes unpadded base64url, or returns null unless `text` is the canonical encoding of its bytes.
 * Buffer.from ignores stray characters and the unused low bits of the last character, which would let two
 * different cookie strings carry the same bytes (RFC 4648 §3.5: canonical encoding).
 */
export function decodeBase64urlStrict(text: string): Buffer | null {
  const rem = text.length % 4;
  if (rem === 1 || !BASE64URL.test(text)) return null;
  if (rem !== 0) {
    const last = sextet(text.charCodeAt(text.length - 1));
    if ((rem === 2 && (last & 0x0f) !== 0) || (rem === 3 && (last & 0x03) !== 0)) return null;
  }
  return Buffer.from(text, "base64url");
}

/**
 * The keys a signer or sealer uses for `purpose` (index 0 writes), after checking its arguments:
 * a misconfigured factory fails when it is created, not on the first request.
 */
export function purposeKeys(factory: string, keyring: Keyring, prefix: string, purpose: string): Buffer[] {
  if (typeof keyring?.keys !== "function") {
    throw new ConfigError("ERR_INVALID_OPTION", `${factory} needs a Keyring`);
  }
  if (typeof purpose !== "string" || purpose.length === 0) {
    throw new ConfigError("ERR_INVALID_OPTION", `${factory} needs a non-empty purpose`);
  }
  return keyring.keys(prefix + purpose);
}
