/**
 * What the CLI needs to know about flagon's own session cookies (docs/formats.md), in one place.
 */
import { Buffer } from "node:buffer";
import { createDecipheriv } from "node:crypto";
import type { Keyring } from "../crypto/keyring.js";
import { SEALER_KEY_PREFIX } from "../crypto/sealer.js";

/** The purposes the session layer signs and seals with (src/stores/cookie.ts, src/session/sessions.ts). */
export const SESSION_COOKIE_PURPOSE = "session-cookie";
export const SESSION_ID_PURPOSE = "session-id";

/** flagon's default session cookie name, and the prefixed forms it takes on HTTPS. */
export const DEFAULT_NAMES = ["sid", "__Host-sid", "__Secure-sid"] as const;

/** `flagon sign`/`seal` mint cookies valid for flagon's default permanent lifetime: 31 days. */
export const DEFAULT_LIFETIME_SECONDS = 31 * 24 * 60 * 60;

export interface SignedParts {
  issuedAt: number;
  expiresAt: number | null;
  /** The signed value, decoded (UTF-8). NOT verified. */
  value: string;
}

const BASE36 = /^[0-9a-z]{1,10}$/;

/** Reads `v1.<iat>.<exp>.<value>.<mac>` without verifying it (signed values are readable by anyone). */
export function readSigned(cookie: string): SignedParts | null {
  const parts = cookie.split(".");
  if (parts.length !== 5 || parts[0] !== "v1") return null;
  const [, iat, exp, value, mac] = parts as [string, string, string, string, string];
  if (!BASE36.test(iat) || (exp !== "" && !BASE36.test(exp))) return null;
  if (!/^[A-Za-z0-9_-]*$/.test(value) || !/^[A-Za-z0-9_-]{43}$/.test(mac)) return null;
  return {
    issuedAt: Number.parseInt(iat, 36),
    expiresAt: exp === "" ? null : Number.parseInt(exp, 36),
    value: Buffer.from(value, "base64url").toString("utf8"),
  };
}

export function isSealed(cookie: string): boolean {
  return /^v1\.[A-Za-z0-9_-]+$/.test(cookie);
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 12;

/**
 * Opens a sealed value WITHOUT the time check, to tell "expired" from "not ours" after
 * `open()` refused it. Same steps as the sealer (docs/formats.md, "Sealed format").
 */
export function openIgnoringTime(
  keyring: Keyring,
  name: string,
  sealed: string,
): { keyIndex: number; issuedAt: number; expiresAt: number | null } | null {
  if (!isSealed(sealed)) return null;
  const data = Buffer.from(sealed.slice(3), "base64url");
  if (data.length < NONCE_BYTES + HEADER_BYTES + TAG_BYTES) return null;
  const keys = keyring.keys(SEALER_KEY_PREFIX + SESSION_COOKIE_PURPOSE);
  for (const [keyIndex, key] of keys.entries()) {
    const decipher = createDecipheriv("aes-256-gcm", key, data.subarray(0, NONCE_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(`v1.${name}`, "utf8"));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    try {
      const plain = Buffer.concat([
        decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      const expiry = plain.readUIntBE(6, 6);
      return { keyIndex, issuedAt: plain.readUIntBE(0, 6), expiresAt: expiry === 0 ? null : expiry };
    } catch {
      // This key's tag check failed (GCM throws from final()); try the next key.
    }
  }
  return null;
}
