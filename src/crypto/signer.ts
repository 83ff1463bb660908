import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import {
  assertWellFormed,
  type CheckOptions,
  checkTime,
  type IssueOptions,
  isCurrent,
  issueTimes,
  isWellFormed,
  purposeKeys,
  VERSION,
  type Verified,
} from "./claims.js";
import type { Keyring } from "./keyring.js";

export type { CheckOptions, IssueOptions, Verified } from "./claims.js";

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

export function createSigner(keyring: Keyring, purpose: string): Signer {
  const keys = purposeKeys("createSigner", keyring, SIGNER_KEY_PREFIX, purpose);
  const primary = keys[0]!;

  // One update call: the body is ASCII, so UTF-8 of the joined string is exactly body || 0x00 || UTF-8(name).
  const mac = (key: Buffer, body: string, name: string): string =>
    createHmac("sha256", key)
      .update(body + NAME_SEPARATOR + name, "utf8")
      .digest("base64url");

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
      if (typeof signed !== "string" || typeof name !== "string") return null;
      const macStart = signed.length - MAC_CHARS;
      if (
        macStart < MIN_BODY_CHARS + 1 ||
        !signed.startsWith(PREFIX) ||
        signed.charCodeAt(macStart - 1) !== 46 /* "." */ ||
        !TOKEN_CHARS.test(signed) ||
        !isWellFormed(name)
      ) {
        return null;
      }
      const body = signed.slice(0, macStart - 1);
      const iatEnd = body.indexOf(".", PREFIX.length);
      const expEnd = iatEnd < 0 ? -1 : body.indexOf(".", iatEnd + 1);
      if (expEnd < 0 || body.indexOf(".", expEnd + 1) !== -1) return null; // missing or extra segments

      // All characters are ASCII (checked above), so latin1 writes exactly MAC_CHARS bytes.
      givenScratch.write(signed.slice(macStart), 0, MAC_CHARS, "latin1");
      let keyIndex = -1;
      for (let index = 0; index < keys.length; index++) {
        expectedScratch.write(mac(keys[index]!, body, name), 0, MAC_CHARS, "latin1");
        if (timingSafeEqual(expectedScratch, givenScratch)) {
          keyIndex = index;
          break;
        }
      }
      if (keyIndex < 0) return null;

      const iatText = body.slice(PREFIX.length, iatEnd);
      const expText = body.slice(iatEnd + 1, expEnd);
      if (!TIMESTAMP.test(iatText) || (expText !== "" && !TIMESTAMP.test(expText))) return null;
      const issuedAt = Number.parseInt(iatText, 36);
      const expiresAt = expText === "" ? null : Number.parseInt(expText, 36);
      if (!isCurrent(issuedAt, expiresAt, checkTime(options))) return null;

      const value = Buffer.from(body.slice(expEnd + 1), "base64url").toString("utf8");
      return { value, keyIndex, issuedAt, expiresAt };
    },
  };
}
