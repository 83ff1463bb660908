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

/**
 * Why a signed, sealed or Flask value was rejected: one vocabulary for every format, so the CLI, the
 * logger and the session lifecycle read the same word. Each format decides it in one place (its
 * `check`/`openFlaskCookie`); nothing else re-parses or re-decrypts a value to find out.
 *
 * - `malformed`: not this format at all: wrong prefix, bad base64url, wrong number of segments or
 *   length, a non-canonical timestamp. Decided without any key.
 * - `bad-mac`: well-formed, but no configured key authenticates it for this cookie name: tampered,
 *   written with another secret (or purpose), or written for another cookie name that was not among
 *   the candidates (see `wrong-name`).
 * - `wrong-name`: authentic under one of the keys, but for another cookie name. The signed and sealed
 *   formats bind the name into the MAC / AAD, so this cannot be told from `bad-mac` without knowing
 *   the other name: it is reported only by `check` when the caller passes candidate names
 *   (`otherNames`; the CLI passes sid, __Host-sid, __Secure-sid). Flask's format does not bind the
 *   name, so it never reports it.
 * - `expired`: authentic, and `now` is at or past its expiry.
 * - `not-yet-valid`: authentic, but issued further in the future than the allowed clock skew
 *   (`CLOCK_SKEW_MS` for flagon's formats; Flask allows none).
 * - `bad-payload`: authentic and current, but what it carries is not a session (not JSON, another
 *   payload version, Flask's tagged JSON that does not load). Reported by the layers that read the
 *   content (`openFlaskCookie`, `cookieStore`, `flaskCookieStore`), never by a signer or sealer,
 *   whose values are opaque strings.
 */
export type RejectReason =
  | "malformed"
  | "bad-mac"
  | "wrong-name"
  | "expired"
  | "not-yet-valid"
  | "bad-payload";

/** The time rules' verdicts (see `timeRejection`). */
export type TimeRejectReason = "expired" | "not-yet-valid";

/** Which key authenticated a rejected value, and its times (ms since epoch): for "expired 3 days ago". */
export interface Authentic {
  keyIndex: number;
  issuedAt: number;
  expiresAt: number | null;
}

/**
 * What a signer's or sealer's `check` returns. A rejection carries the key and the times only when
 * the value is authentic (expired, not-yet-valid, wrong-name); never the value itself. One member per
 * reason, so that `if (r.reason === "malformed" || r.reason === "bad-mac") ...` narrows the rest.
 */
export type CheckResult =
  | ({ ok: true } & Verified)
  | { ok: false; reason: "malformed" }
  | { ok: false; reason: "bad-mac" }
  | ({ ok: false; reason: "expired" } & Authentic)
  | ({ ok: false; reason: "not-yet-valid" } & Authentic)
  | ({
      ok: false;
      reason: "wrong-name";
      /** The candidate name (one of `otherNames`) the value is authentic for. */
      name: string;
    } & Authentic);

/** A rejection (`CheckResult` with `ok: false`). */
export type Rejected = Exclude<CheckResult, { ok: true }>;

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

export interface CheckReasonOptions extends CheckOptions {
  /**
   * Other cookie names to try when the value does not authenticate for `name`: if it does for one
   * of them, the result is `wrong-name` (with that name) instead of `bad-mac`. Diagnostics only
   * (the CLI): each name costs one more MAC (signed) or AES-GCM open (sealed) per key, on failure.
   */
  otherNames?: readonly string[];
}

/** Rejections that need no per-call data, shared (frozen) so that refusing garbage allocates nothing. */
export const MALFORMED: Rejected = Object.freeze({ ok: false, reason: "malformed" });
export const BAD_MAC: Rejected = Object.freeze({ ok: false, reason: "bad-mac" });

/** The rejection of an authentic value by the time rules (allocated only on that failure). */
export function lateRejection(
  reason: TimeRejectReason,
  keyIndex: number,
  issuedAt: number,
  expiresAt: number | null,
): Rejected {
  return { ok: false, reason, keyIndex, issuedAt, expiresAt };
}

/**
 * The `wrong-name` step of `check` for the signed and sealed formats: `first` is the result for
 * `name`; when it is `bad-mac`, each of `otherNames` is checked with `checkName` until one
 * authenticates (current or not): then `wrong-name`. Only ever called on a failure.
 */
/**
 * `check` for a format whose MAC binds the cookie name: `checkName(name)`, and when that is refused
 * and the caller passed `otherNames`, whether the value is authentic for one of those (`wrong-name`).
 */
export function checkNamed(
  name: string,
  options: { otherNames?: readonly string[] } | undefined,
  checkName: (name: string) => CheckResult,
): CheckResult {
  const result = checkName(name);
  if (result.ok || options?.otherNames === undefined) return result;
  return checkOtherNames(result, name, options.otherNames, checkName);
}

function checkOtherNames(
  first: CheckResult,
  name: string,
  otherNames: readonly string[],
  checkName: (name: string) => CheckResult,
): CheckResult {
  if (first.ok || first.reason !== "bad-mac") return first;
  for (const other of otherNames) {
    if (other === name) continue;
    const elsewhere = checkName(other);
    if (elsewhere.ok || elsewhere.reason === "expired" || elsewhere.reason === "not-yet-valid") {
      const { keyIndex, issuedAt, expiresAt } = elsewhere;
      return { ok: false, reason: "wrong-name", name: other, keyIndex, issuedAt, expiresAt };
    }
  }
  return first;
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

/**
 * The time rules of the signed and sealed formats, in the one place they live: why a value issued at
 * `issuedAt` and expiring at `expiresAt` may not be accepted at `now`, or undefined when it may.
 * A value from the future is `not-yet-valid` even if it has also expired; a `now` that is NaN
 * (garbage passed as the time, see `checkTime`) makes everything `not-yet-valid`.
 */
export function timeRejection(
  issuedAt: number,
  expiresAt: number | null,
  now: number,
): TimeRejectReason | undefined {
  if (!(issuedAt <= now + CLOCK_SKEW_MS)) return "not-yet-valid"; // from the future (or now is NaN)
  return expiresAt === null || now < expiresAt ? undefined : "expired";
}

/** True when a value issued at `issuedAt` and expiring at `expiresAt` may be accepted at `now`. */
export function isCurrent(issuedAt: number, expiresAt: number | null, now: number): boolean {
  return timeRejection(issuedAt, expiresAt, now) === undefined;
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
