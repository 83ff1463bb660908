import { Buffer } from "node:buffer";
import fc from "fast-check";
import { Keyring } from "../../src/crypto/keyring.js";

/** Three distinct test secrets, each >= 32 bytes. Test-only values. */
export const K1 = "k1-test-secret-0123456789abcdef-0123456789";
export const K2 = "k2-test-secret-fedcba9876543210-9876543210";
export const K3 = "k3-test-secret-aaaabbbbccccdddd-eeeeffff00";

export const keyring = (...secrets: string[]): Keyring => new Keyring(secrets);

/** A fixed instant (2026-01-01T00:00:00Z) so timestamps are deterministic. */
export const T0 = Date.UTC(2026, 0, 1);

/** One code point from anywhere in Unicode except the surrogate range. */
const codePoint = fc
  .oneof(
    fc.integer({ min: 0, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0xd7ff }),
    fc.integer({ min: 0xe000, max: 0xffff }),
    fc.integer({ min: 0x10000, max: 0x10ffff }),
  )
  .map((point) => String.fromCodePoint(point));

/**
 * Any unicode string made of whole code points (no lone surrogates), up to `maxLength` code points.
 * Built by hand: fast-check's `unit: "binary"` spends seconds building its tables on first use.
 */
export const unicodeText = (maxLength = 300): fc.Arbitrary<string> =>
  fc.array(codePoint, { maxLength }).map((points) => points.join(""));

/** Flip bit `bit` (0-7) of character `index` of `text` (a raw character flip). */
export function flipChar(text: string, index: number, bit: number): string {
  const code = text.charCodeAt(index) ^ (1 << bit);
  return text.slice(0, index) + String.fromCharCode(code) + text.slice(index + 1);
}

/** Decode a base64url segment, flip bit `bit` of byte `index`, re-encode. */
export function flipDecodedByte(segment: string, index: number, bit: number): string {
  const bytes = Buffer.from(segment, "base64url");
  bytes[index] = bytes[index]! ^ (1 << bit);
  return bytes.toString("base64url");
}

/** Segment `index` of a dotted token replaced by `replacement`. */
export function replaceSegment(token: string, index: number, replacement: string): string {
  const parts = token.split(".");
  parts[index] = replacement;
  return parts.join(".");
}

/** All bytes a token carries once its base64url segments are decoded (for "nothing visible" checks). */
export function decodedSegments(token: string): string[] {
  return token.split(".").map((part) => Buffer.from(part, "base64url").toString("latin1"));
}

/** Any UTF-16 text, lone surrogates included: what an attacker can put in a cookie header after decoding. */
export const anyUtf16Text = (maxLength = 200): fc.Arbitrary<string> =>
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength }).map((codes) => String.fromCharCode(...codes));

/** Text over the token alphabet plus ".", so garbage often gets past the charset check into the parser. */
export const tokenLikeText = (maxLength = 120): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.."),
    maxLength,
  });
