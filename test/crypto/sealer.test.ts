import { Buffer } from "node:buffer";
import { createCipheriv } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSealer } from "../../src/crypto/sealer.js";
import { createSigner } from "../../src/crypto/signer.js";
import { FlagonError } from "../../src/errors.js";
import { anyUtf16Text, K1, K2, keyring, T0, tokenLikeText, unicodeText } from "./fixtures.js";

const sealer = createSealer(keyring(K1), "test");

/** Seal by hand, following docs/formats.md, with a chosen nonce. */
function sealByHand(name: string, plaintext: string, iat: number, exp: number, nonce: Buffer): string {
  const key = keyring(K1).key(0, "flagon/v1/aes-256-gcm/test");
  const header = Buffer.alloc(12);
  header.writeUIntBE(iat, 0, 6);
  header.writeUIntBE(exp, 6, 6);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(Buffer.from(`v1.${name}`));
  const body = Buffer.concat([
    cipher.update(Buffer.concat([header, Buffer.from(plaintext)])),
    cipher.final(),
  ]);
  return `v1.${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64url")}`;
}

describe("createSealer", () => {
  it("opens a value built by hand from the documented v1 format", () => {
    const sealed = sealByHand("sid", "héllo", T0, T0 + 5000, Buffer.alloc(12, 7));
    expect(sealer.open("sid", sealed, { now: T0 })).toEqual({
      value: "héllo",
      keyIndex: 0,
      issuedAt: T0,
      expiresAt: T0 + 5000,
    });
  });

  it("produces nonce(12) || ciphertext(12 + plaintext) || tag(16) behind v1.", () => {
    const plaintext = "x".repeat(200);
    const sealed = sealer.seal("sid", plaintext, { now: T0 });
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(Buffer.from(sealed.slice(3), "base64url")).toHaveLength(12 + 12 + 200 + 16);
  });

  it("round-trips any unicode string", () => {
    fc.assert(
      fc.property(unicodeText(), fc.string({ minLength: 1, maxLength: 20 }), (value, name) => {
        const sealed = sealer.seal(name, value, { now: T0 });
        expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
        expect(sealer.open(name, sealed, { now: T0 })?.value).toBe(value);
      }),
      { numRuns: 300 },
    );
  });

  it("handles plaintexts larger than its internal buffer", () => {
    const big = "ü".repeat(5000);
    expect(sealer.open("sid", sealer.seal("sid", big))?.value).toBe(big);
    expect(sealer.open("sid", sealer.seal("sid", "small"))?.value).toBe("small");
  });

  it("reports the verifying key and null expiry", () => {
    const old = createSealer(keyring(K2), "test").seal("sid", "v", { now: T0 });
    expect(createSealer(keyring(K1, K2), "test").open("sid", old, { now: T0 })).toEqual({
      value: "v",
      keyIndex: 1,
      issuedAt: T0,
      expiresAt: null,
    });
  });

  it("never shares keys with the signer or other purposes", () => {
    const ring = keyring(K1);
    const sealed = createSealer(ring, "p").seal("sid", "v");
    expect(createSealer(ring, "q").open("sid", sealed)).toBeNull();
    // Same secret and purpose through the signer: the HKDF info differs, so the keys differ.
    expect(ring.key(0, "flagon/v1/aes-256-gcm/p").equals(ring.key(0, "flagon/v1/hmac-sha256/p"))).toBe(false);
    expect(createSigner(ring, "p").verify("sid", sealed)).toBeNull();
  });

  it("refuses lone surrogates and invalid times when sealing", () => {
    expect(() => sealer.seal("sid", "\uDBFF")).toThrow(FlagonError);
    expect(() => sealer.seal("sid", "v", { expiresAt: -5 })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_OPTION" }),
    );
  });

  it("returns null, never throws, for garbage input", () => {
    fc.assert(
      fc.property(fc.oneof(anyUtf16Text(), tokenLikeText()), (garbage) => {
        expect(sealer.open("sid", garbage, { now: T0 })).toBeNull();
        expect(sealer.open("sid", `v1.${garbage}`, { now: T0 })).toBeNull();
      }),
      { numRuns: 500 },
    );
    for (const input of [undefined, null, 42, {}, "", "v1.", "v1.AAAA"] as unknown as string[]) {
      expect(sealer.open("sid", input)).toBeNull();
    }
    // Long enough to parse, but no valid tag.
    expect(sealer.open("sid", `v1.${Buffer.alloc(60).toString("base64url")}`)).toBeNull();
  });

  it("rejects a non-canonical base64url encoding of a valid sealed value", () => {
    // 40 + 3 = 43 bytes (43 % 3 == 1) leaves 4 unused bits in the last character.
    const sealed = sealer.seal("sid", "abc", { now: T0 });
    const data = sealed.slice(3);
    expect(data.length % 4).toBe(2);
    const last = data.at(-1)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const sloppy = data.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1];
    expect(Buffer.from(sloppy, "base64url").equals(Buffer.from(data, "base64url"))).toBe(true);
    expect(sealer.open("sid", `v1.${sloppy}`, { now: T0 })).toBeNull();
    expect(sealer.open("sid", sealed, { now: T0 })).not.toBeNull();
  });
});
