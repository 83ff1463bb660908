import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv } from "node:crypto";
import {
  assertWellFormed,
  BAD_MAC,
  type CheckOptions,
  type CheckReasonOptions,
  type CheckResult,
  checkNamed,
  checkTime,
  decodeBase64urlStrict,
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
import { fillRandom } from "./random.js";

/**
 * Sealed format (docs/formats.md): `v1.<base64url(nonce || ciphertext || tag)>`
 *   nonce       12 random bytes (NIST SP 800-38D §8.2.2, random IV construction)
 *   ciphertext  AES-256-GCM of: iat (uint48 BE, ms) || exp (uint48 BE, ms, 0 = none) || UTF-8 plaintext
 *   tag         16 bytes
 *   AAD         "v1." || UTF-8 cookie name, so a value cannot be moved to another cookie
 */
export interface Sealer {
  /** Encrypts and authenticates `plaintext` for cookie `name` with the primary secret. Output: [A-Za-z0-9._-]. */
  seal(name: string, plaintext: string, options?: IssueOptions): string;
  /** The plaintext if authentic for `name`, unexpired and not issued in the future; otherwise null. Never throws. */
  open(name: string, sealed: string, options?: CheckOptions): Verified | null;
  /**
   * What `open` decides, with the reason when it refuses (`RejectReason` in claims.ts): `malformed`,
   * `bad-mac` (tampered, another secret, or another cookie name: the AAD binds it), `expired`,
   * `not-yet-valid`, or `wrong-name` when `options.otherNames` holds the name the value was sealed for.
   * Authentic rejections carry the key index and times, never the plaintext. Never throws.
   */
  check(name: string, sealed: string, options?: CheckReasonOptions): CheckResult;
}

/** HKDF info prefix: AES keys are never HMAC keys, even when callers reuse a purpose. */
export const SEALER_KEY_PREFIX = "flagon/v1/aes-256-gcm/";

const PREFIX = `${VERSION}.`;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 12; // iat + exp, 6 bytes each
const MIN_SEALED_BYTES = NONCE_BYTES + HEADER_BYTES + TAG_BYTES;

/** Plaintext assembly buffer, grown on demand; seal is synchronous, so sharing is safe. */
let scratch = Buffer.alloc(1024);

/** AAD per cookie name: a server uses a handful of names, so cache them (bounded). */
const aadCache = new Map<string, Buffer>();
const AAD_CACHE_LIMIT = 64;
function aadFor(name: string): Buffer {
  let aad = aadCache.get(name);
  if (aad === undefined) {
    aad = Buffer.from(PREFIX + name, "utf8");
    if (aadCache.size < AAD_CACHE_LIMIT) aadCache.set(name, aad);
  }
  return aad;
}

/** The bytes of a value in the sealed format (nonce || ciphertext || tag), or null: `malformed`. */
function sealedBytes(sealed: string): Buffer | null {
  if (!sealed.startsWith(PREFIX)) return null;
  const data = decodeBase64urlStrict(sealed.slice(PREFIX.length));
  return data === null || data.length < MIN_SEALED_BYTES ? null : data;
}

/**
 * True when `value` has the sealed format's shape (prefix, canonical base64url, at least nonce +
 * header + tag long): what a tool needs to tell a sealed cookie from another. Says nothing about
 * whether it is authentic; only `open`/`check` with the key can.
 */
export function looksSealed(value: string): boolean {
  return typeof value === "string" && sealedBytes(value) !== null;
}

interface OpenedEntry {
  value: string;
  keyIndex: number;
  issuedAt: number;
  expiresAt: number | null;
}

/** How many authenticated sealed values a sealer remembers (see `opened` in `createSealer`). */
export const OPENED_CACHE_LIMIT = 512;
/** Fingerprints of recently opened values, for the cache's admission (a power of two). */
const ADMISSION_SLOTS = 512;

/**
 * A 32-bit fingerprint of a sealed value from its last characters (the GCM tag's base64url: uniformly
 * random for values that differ) and its length. Not a security check: it only decides caching.
 */
function fingerprint(sealed: string): number {
  let print = sealed.length;
  for (let index = Math.max(0, sealed.length - 8); index < sealed.length; index++) {
    print = Math.imul(print ^ sealed.charCodeAt(index), 0x01000193);
  }
  return print | 0;
}

export function createSealer(keyring: Keyring, purpose: string): Sealer {
  const keys = purposeKeys("createSealer", keyring, SEALER_KEY_PREFIX, purpose);
  const primary = keys[0]!;
  // Values this sealer has already authenticated, keyed by the exact text and cookie name: a browser
  // sends the same cookie on every request, and AES-GCM setup is the costliest step of a read
  // (createDecipheriv ~10-20 µs here). Only a string that decrypted and verified is ever stored, so a
  // hit proves nothing new; the time rules are re-checked on every hit. Bounded, oldest out first.
  // One map per cookie name (a server uses one or two), so a lookup builds no key string.
  const openedByName = new Map<string, Map<string, OpenedEntry>>();
  let openedCount = 0;
  // Admission: a value is remembered the second time it is opened within a short window, not the first.
  // On a site with many visitors most cookies come back after hundreds of others, so remembering each
  // one on first sight would cost an entry (and the strings it holds, promoted to the old generation)
  // per request and never be hit. `seen` holds a 32-bit fingerprint of recently opened values, one per
  // slot (no allocation); a collision only admits a value early or late, it is never trusted: the
  // cache itself is keyed by the exact text.
  const seen = new Int32Array(ADMISSION_SLOTS);
  function admitted(sealed: string): boolean {
    const print = fingerprint(sealed);
    const slot = print & (ADMISSION_SLOTS - 1);
    if (seen[slot] === print) return true;
    seen[slot] = print;
    return false;
  }
  function remember(name: string, sealed: string, entry: OpenedEntry): void {
    if (!admitted(sealed)) return;
    if (openedCount >= OPENED_CACHE_LIMIT) {
      // Oldest out first, from the first name's map (insertion order).
      for (const [oldName, map] of openedByName) {
        map.delete(map.keys().next().value as string);
        openedCount -= 1;
        if (map.size === 0) openedByName.delete(oldName);
        break;
      }
    }
    let map = openedByName.get(name);
    if (map === undefined) {
      map = new Map();
      openedByName.set(name, map);
    }
    map.set(sealed, entry);
    openedCount += 1;
  }

  /**
   * open and check in one pass: the cache or the format and AES-GCM (each key once), then the time
   * rules (once). Success builds one object, with `ok: true` for check (`tagged`) and without for
   * open; only a rejection of an authentic value allocates for its reason.
   */
  function read(name: string, sealed: string, options: CheckOptions | undefined, tagged: boolean) {
    if (typeof sealed !== "string" || !sealed.startsWith(PREFIX)) return MALFORMED;
    if (typeof name !== "string" || !isWellFormed(name)) return BAD_MAC; // seal never wrote such a name
    const hit = openedByName.get(name)?.get(sealed);
    if (hit !== undefined) {
      const late = timeRejection(hit.issuedAt, hit.expiresAt, checkTime(options));
      if (late !== undefined) return lateRejection(late, hit.keyIndex, hit.issuedAt, hit.expiresAt);
      if (!tagged) return { ...hit };
      return {
        ok: true as const,
        value: hit.value,
        keyIndex: hit.keyIndex,
        issuedAt: hit.issuedAt,
        expiresAt: hit.expiresAt,
      };
    }
    const data = sealedBytes(sealed);
    if (data === null) return MALFORMED;
    const nonce = data.subarray(0, NONCE_BYTES);
    const encrypted = data.subarray(NONCE_BYTES, data.length - TAG_BYTES);
    const tag = data.subarray(data.length - TAG_BYTES);
    const aad = aadFor(name);

    for (let keyIndex = 0; keyIndex < keys.length; keyIndex++) {
      const plain = decrypt(keys[keyIndex]!, nonce, encrypted, tag, aad);
      if (plain === null) continue;
      const issuedAt = plain.readUIntBE(0, 6);
      const rawExpiry = plain.readUIntBE(6, 6);
      const expiresAt = rawExpiry === 0 ? null : rawExpiry;
      const late = timeRejection(issuedAt, expiresAt, checkTime(options));
      if (late !== undefined) return lateRejection(late, keyIndex, issuedAt, expiresAt); // not remembered
      const result = { value: plain.toString("utf8", HEADER_BYTES), keyIndex, issuedAt, expiresAt };
      remember(name, sealed, result);
      return tagged
        ? { ok: true as const, value: result.value, keyIndex, issuedAt, expiresAt }
        : { ...result };
    }
    return BAD_MAC;
  }

  return {
    seal(name, plaintext, options) {
      assertWellFormed("cookie name", name);
      assertWellFormed("plaintext", plaintext);
      const [issuedAt, expiresAt] = issueTimes(options);
      const plainBytes = HEADER_BYTES + Buffer.byteLength(plaintext, "utf8");
      if (scratch.length < plainBytes) scratch = Buffer.alloc(2 ** Math.ceil(Math.log2(plainBytes)));
      scratch.writeUIntBE(issuedAt, 0, 6);
      scratch.writeUIntBE(expiresAt ?? 0, 6, 6);
      scratch.write(plaintext, HEADER_BYTES, "utf8");

      const out = Buffer.allocUnsafe(NONCE_BYTES + plainBytes + TAG_BYTES);
      fillRandom(out, 0, NONCE_BYTES);
      const cipher = createCipheriv("aes-256-gcm", primary, out.subarray(0, NONCE_BYTES));
      cipher.setAAD(aadFor(name));
      const encrypted = cipher.update(scratch.subarray(0, plainBytes));
      const rest = cipher.final(); // empty for GCM, kept for correctness
      encrypted.copy(out, NONCE_BYTES);
      rest.copy(out, NONCE_BYTES + encrypted.length);
      cipher.getAuthTag().copy(out, NONCE_BYTES + plainBytes);
      scratch.fill(0, 0, plainBytes); // do not leave the last plaintext lying in a long-lived buffer
      return PREFIX + out.toString("base64url");
    },

    open(name, sealed, options) {
      const result = read(name, sealed, options, false);
      return "reason" in result ? null : result;
    },

    check(name, sealed, options) {
      return checkNamed(name, options, (candidate) => read(candidate, sealed, options, true) as CheckResult);
    },
  };
}

/** AES-256-GCM decryption; null when the tag does not verify (wrong key, tampering, wrong name). */
function decrypt(key: Buffer, nonce: Buffer, encrypted: Buffer, tag: Buffer, aad: Buffer): Buffer | null {
  const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const head = decipher.update(encrypted);
  try {
    const tail = decipher.final(); // throws when authentication fails: our only expected failure
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    return null;
  }
}
