/**
 * docs/security.md §1: a bit flip anywhere in a signed or sealed value (payload, MAC, nonce, tag,
 * timestamps, version) is rejected: verify/open return null and never throw.
 */
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSealer } from "../../src/crypto/sealer.js";
import { createSigner } from "../../src/crypto/signer.js";
import {
  flipChar,
  flipDecodedByte,
  K1,
  keyring,
  replaceSegment,
  T0,
  unicodeText,
} from "../crypto/fixtures.js";

const signer = createSigner(keyring(K1), "tamper");
const sealer = createSealer(keyring(K1), "tamper");
const EXPIRES = T0 + 3_600_000;
const at = { now: T0 };

describe("tamper: signed values", () => {
  it("rejects every single-bit flip of every character of one signed value (exhaustive)", () => {
    const signed = signer.sign("sid", '{"user":"alice","n":1}', { now: T0, expiresAt: EXPIRES });
    expect(signer.verify("sid", signed, at)).not.toBeNull();
    for (let index = 0; index < signed.length; index++) {
      for (let bit = 0; bit < 8; bit++) {
        expect(signer.verify("sid", flipChar(signed, index, bit), at)).toBeNull();
      }
    }
  });

  it("rejects a raw character flip anywhere, for any value (fast-check)", () => {
    fc.assert(
      fc.property(unicodeText(), fc.nat(), fc.integer({ min: 0, max: 15 }), (value, position, bit) => {
        const signed = signer.sign("sid", value, { now: T0, expiresAt: EXPIRES });
        const tampered = flipChar(signed, position % signed.length, bit);
        expect(signer.verify("sid", tampered, at)).toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it("rejects a bit flip in any decoded byte of the value or the MAC (fast-check)", () => {
    fc.assert(
      fc.property(
        unicodeText().filter((value) => value.length > 0),
        fc.constantFrom(3, 4),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (value, segmentIndex, position, bit) => {
          const signed = signer.sign("sid", value, { now: T0, expiresAt: EXPIRES });
          const segment = signed.split(".")[segmentIndex]!;
          const length = Buffer.from(segment, "base64url").length;
          const tampered = replaceSegment(
            signed,
            segmentIndex,
            flipDecodedByte(segment, position % length, bit),
          );
          expect(signer.verify("sid", tampered, at)).toBeNull();
        },
      ),
      { numRuns: 500 },
    );
  });

  it("rejects changed timestamps (they are inside the MAC)", () => {
    const signed = signer.sign("sid", "v", { now: T0, expiresAt: EXPIRES });
    expect(signer.verify("sid", replaceSegment(signed, 1, (T0 + 1).toString(36)), at)).toBeNull();
    expect(signer.verify("sid", replaceSegment(signed, 2, (EXPIRES + 1).toString(36)), at)).toBeNull();
    expect(signer.verify("sid", replaceSegment(signed, 2, ""), at)).toBeNull(); // drop the expiry
  });
});

describe("tamper: sealed values", () => {
  it("rejects every single-bit flip of every decoded byte: nonce, ciphertext and tag (exhaustive)", () => {
    const sealed = sealer.seal("sid", '{"user":"alice"}', { now: T0, expiresAt: EXPIRES });
    const data = sealed.slice(3);
    const length = Buffer.from(data, "base64url").length;
    for (let index = 0; index < length; index++) {
      for (let bit = 0; bit < 8; bit++) {
        expect(sealer.open("sid", `v1.${flipDecodedByte(data, index, bit)}`, at)).toBeNull();
      }
    }
    expect(sealer.open("sid", sealed, at)?.value).toBe('{"user":"alice"}');
  });

  it("rejects every single-bit flip of every character (exhaustive)", () => {
    const sealed = sealer.seal("sid", "hello", { now: T0, expiresAt: EXPIRES });
    for (let index = 0; index < sealed.length; index++) {
      for (let bit = 0; bit < 8; bit++) {
        expect(sealer.open("sid", flipChar(sealed, index, bit), at)).toBeNull();
      }
    }
  });

  it("rejects a flip of any bit of any byte, for any plaintext (fast-check)", () => {
    fc.assert(
      fc.property(
        unicodeText(),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        fc.boolean(),
        (value, position, bit, raw) => {
          const sealed = sealer.seal("sid", value, { now: T0 });
          const data = sealed.slice(3);
          const tampered = raw
            ? flipChar(sealed, position % sealed.length, bit)
            : `v1.${flipDecodedByte(data, position % Buffer.from(data, "base64url").length, bit)}`;
          expect(sealer.open("sid", tampered, at)).toBeNull();
        },
      ),
      { numRuns: 500 },
    );
  });
});
