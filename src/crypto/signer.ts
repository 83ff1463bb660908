import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import {
  assertWellFormed,
  BAD_MAC,
  type CheckOptions,
  type CheckReasonOptions,
  type CheckResult,
  checkNamed,
  checkTime,
  type IssueOptions,
  issueTimes,
  isWellFormed,
  lateRejection,
  MALFORMED,
  purposeKeys,
  timeRejection,
  VERSION,
  type Verified,
} from "./claims.js";
import type { Keyring } from "./keyring.js";

export type {
  CheckOptions,
  CheckReasonOptions,
  CheckResult,
  IssueOptions,
  Rejected,
  RejectReason,
  Verified,
} from "./claims.js";

/**
 * Signed format (docs/formats.md): `v1.<iat>.<exp>.<value>.<mac>`
 *   iat, exp  ms since epoch in lowercase base36 (exp empty: no expiry)
 *   value     base64url (unpadded) of the UTF-8 value
 *   mac       base64url of HMAC-SHA256(key, "v1.<iat>.<exp>.<value>" || 0x00 || UTF-8 cookie name), 43 chars
 * The body before the MAC never contains 0x00, so the MAC input splits unambiguously into body and name.
 */
export interface Signer {
  /** Signs `value` for cookie `name` with the primary secret. Output uses only [A-Za-z0-9._-]. */
  sign(name: string, value: string, options?: IssueOptions): string;
  /** The value if authentic for `name`, unexpired and not issued in the future; otherwise null. Never throws. */
  verify(name: string, signed: string, options?: CheckOptions): Verified | null;
  /**
   * What `verify` decides, with the reason when it refuses (`RejectReason` in claims.ts): `malformed`,
   * `bad-mac`, `expired`, `not-yet-valid`, or `wrong-name` when `options.otherNames` holds the name the
   * value was signed for. Authentic rejections carry the key index and times. Never throws.
   */
  check(name: string, signed: string, options?: CheckReasonOptions): CheckResult;
}

/** HKDF info prefix: keys for HMAC are never the keys for AES-GCM, even when callers reuse a purpose. */
export const SIGNER_KEY_PREFIX = "flagon/v1/hmac-sha256/";

const PREFIX = `${VERSION}.`;
const MAC_CHARS = 43; // ceil(32 * 8 / 6), unpadded base64url of a SHA-256 HMAC
const NAME_SEPARATOR = "\u0000";
const TOKEN_CHARS = /^[A-Za-z0-9._-]+$/;
/** Canonical base36: no leading zeros, at most 10 digits (MAX_TIMESTAMP_MS). */
const TIMESTAMP = /^(?:0|[1-9a-z][0-9a-z]{0,9})$/;
/** "v1." + iat (>= 1) + "." + exp (>= 0) + "." + value (>= 0) + "." */
const MIN_BODY_CHARS = PREFIX.length + 3;

// Scratch space for the constant-time compare; verify is synchronous, so sharing is safe.
const expectedScratch = Buffer.alloc(MAC_CHARS);
const givenScratch = Buffer.alloc(MAC_CHARS);

/**
 * The parts of the last value `parseSigned` accepted. The grammar lives in `parseSigned` alone (verify,
 * check and peekSigned all use it); its results go here rather than into a fresh object so that the
 * verify hot path allocates nothing for them. Callers are synchronous, so sharing is safe.
 */
const parsed = { body: "", valueStart: 0, issuedAt: 0, expiresAt: null as number | null };

/** True when `signed` is in the signed format (the MAC itself unchecked); fills `parsed`. */
function parseSigned(signed: unknown): signed is string {
  if (typeof signed !== "string") return false;
  const macStart = signed.length - MAC_CHARS;
  if (
    macStart < MIN_BODY_CHARS + 1 ||
    !signed.startsWith(PREFIX) ||
    signed.charCodeAt(macStart - 1) !== 46 /* "." */ ||
    !TOKEN_CHARS.test(signed) ||
    signed.lastIndexOf(".") !== macStart - 1 // a "." inside the MAC
  ) {
    return false;
  }
  const body = signed.slice(0, macStart - 1);
  const iatEnd = body.indexOf(".", PREFIX.length);
  const expEnd = iatEnd < 0 ? -1 : body.indexOf(".", iatEnd + 1);
  if (expEnd < 0 || body.indexOf(".", expEnd + 1) !== -1) return false; // missing or extra segments
  const iatText = body.slice(PREFIX.length, iatEnd);
  const expText = body.slice(iatEnd + 1, expEnd);
  if (!TIMESTAMP.test(iatText) || (expText !== "" && !TIMESTAMP.test(expText))) return false;
  parsed.body = body;
  parsed.valueStart = expEnd + 1;
  parsed.issuedAt = Number.parseInt(iatText, 36);
  parsed.expiresAt = expText === "" ? null : Number.parseInt(expText, 36);
  return true;
}

/** What a signed value claims, NOT verified (see `peekSigned`). */
export interface PeekedSigned {
  /** The signed value, decoded (UTF-8). Anyone can write this. */
  value: string;
  issuedAt: number;
  expiresAt: number | null;
}

/**
 * Reads a signed value WITHOUT verifying it (signed values are readable by anyone; only the MAC
 * makes them trustworthy): for debugging tools. null when it is not in the signed format
 * (`malformed`). The same grammar `verify` and `check` use.
 */
export function peekSigned(signed: string): PeekedSigned | null {
  if (!parseSigned(signed)) return null;
  const { body, valueStart, issuedAt, expiresAt } = parsed;
  return { value: Buffer.from(body.slice(valueStart), "base64url").toString("utf8"), issuedAt, expiresAt };
}

export function createSigner(keyring: Keyring, purpose: string): Signer {
  const keys = purposeKeys("createSigner", keyring, SIGNER_KEY_PREFIX, purpose);
  const primary = keys[0]!;

  // One update call: the body is ASCII, so UTF-8 of the joined string is exactly body || 0x00 || UTF-8(name).
  const mac = (key: Buffer, body: string, name: string): string =>
    createHmac("sha256", key)
      .update(body + NAME_SEPARATOR + name, "utf8")
      .digest("base64url");

  /**
   * verify and check in one pass: the grammar, then the MAC (each key once), then the time rules
   * (once). Success builds one object, with `ok: true` for check (`tagged`) and without for verify;
   * only a rejection of an authentic value allocates for its reason.
   */
  function read(name: string, signed: string, options: CheckOptions | undefined, tagged: boolean) {
    if (!parseSigned(signed)) return MALFORMED;
    if (typeof name !== "string" || !isWellFormed(name)) return BAD_MAC; // sign never wrote such a name
    const { body, valueStart, issuedAt, expiresAt } = parsed;

    // All characters are ASCII (checked by parseSigned), so latin1 writes exactly MAC_CHARS bytes.
    givenScratch.write(signed.slice(signed.length - MAC_CHARS), 0, MAC_CHARS, "latin1");
    let keyIndex = -1;
    for (let index = 0; index < keys.length; index++) {
      expectedScratch.write(mac(keys[index]!, body, name), 0, MAC_CHARS, "latin1");
      if (timingSafeEqual(expectedScratch, givenScratch)) {
        keyIndex = index;
        break;
      }
    }
    if (keyIndex < 0) return BAD_MAC;

    const late = timeRejection(issuedAt, expiresAt, checkTime(options));
    if (late !== undefined) return lateRejection(late, keyIndex, issuedAt, expiresAt);

    const value = Buffer.from(body.slice(valueStart), "base64url").toString("utf8");
    return tagged
      ? { ok: true as const, value, keyIndex, issuedAt, expiresAt }
      : { value, keyIndex, issuedAt, expiresAt };
  }

  return {
    sign(name, value, options) {
      assertWellFormed("cookie name", name);
      assertWellFormed("value", value);
      const [issuedAt, expiresAt] = issueTimes(options);
      const body =
        PREFIX +
        issuedAt.toString(36) +
        "." +
        (expiresAt === null ? "" : expiresAt.toString(36)) +
        "." +
        Buffer.from(value, "utf8").toString("base64url");
      return body + "." + mac(primary, body, name);
    },

    verify(name, signed, options) {
      const result = read(name, signed, options, false);
      return "reason" in result ? null : result;
    },

    check(name, signed, options) {
      return checkNamed(name, options, (candidate) => read(candidate, signed, options, true) as CheckResult);
    },
  };
}
