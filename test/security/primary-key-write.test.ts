/**
 * docs/security.md §5: writes always use the primary (first) secret. 100 values written with
 * [K1, K2, K3] all verify with K1 alone and none verifies without K1 (Flask CVE-2025-47278).
 */
import { describe, expect, it } from "vitest";
import { createSealer } from "../../src/crypto/sealer.js";
import { createSigner } from "../../src/crypto/signer.js";
import { K1, K2, K3, keyring, T0 } from "../crypto/fixtures.js";

const at = { now: T0 };
const values = Array.from({ length: 100 }, (_, i) => `value-${i}-${"é".repeat(i % 7)}`);

describe("primary key write", () => {
  it("signs 100 values with [K1, K2, K3] that all verify with [K1] alone, and none with [K2, K3]", () => {
    const writer = createSigner(keyring(K1, K2, K3), "primary");
    const onlyPrimary = createSigner(keyring(K1), "primary");
    const withoutPrimary = createSigner(keyring(K2, K3), "primary");
    for (const value of values) {
      const signed = writer.sign("sid", value, at);
      expect(onlyPrimary.verify("sid", signed, at)).toMatchObject({ value, keyIndex: 0 });
      expect(withoutPrimary.verify("sid", signed, at)).toBeNull();
    }
  });

  it("seals 100 values with [K1, K2, K3] that all open with [K1] alone, and none with [K2, K3]", () => {
    const writer = createSealer(keyring(K1, K2, K3), "primary");
    const onlyPrimary = createSealer(keyring(K1), "primary");
    const withoutPrimary = createSealer(keyring(K2, K3), "primary");
    for (const value of values) {
      const sealed = writer.seal("sid", value, at);
      expect(onlyPrimary.open("sid", sealed, at)).toMatchObject({ value, keyIndex: 0 });
      expect(withoutPrimary.open("sid", sealed, at)).toBeNull();
    }
  });
});
