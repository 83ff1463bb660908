/**
 * docs/security.md §4: a value written with an old secret K2 is accepted by keys [K1, K2] with
 * keyIndex 1 (the caller re-issues it with K1); with [K1] alone it is rejected.
 */
import { describe, expect, it } from "vitest";
import { createSealer } from "../../src/crypto/sealer.js";
import { createSigner } from "../../src/crypto/signer.js";
import { K1, K2, K3, keyring, T0 } from "../crypto/fixtures.js";

const at = { now: T0 };

describe.each([
  ["signer", createSigner],
  ["sealer", createSealer],
])("key rotation with the %s", (_kind, create) => {
  const api = (...secrets: string[]) => {
    const made = create(keyring(...secrets), "rotation");
    return "sign" in made
      ? { write: (v: string) => made.sign("sid", v, at), read: (t: string) => made.verify("sid", t, at) }
      : { write: (v: string) => made.seal("sid", v, at), read: (t: string) => made.open("sid", t, at) };
  };

  it("accepts a value written with K2 under [K1, K2], reporting keyIndex 1", () => {
    const old = api(K2).write("payload");
    expect(api(K1, K2).read(old)).toEqual({ value: "payload", keyIndex: 1, issuedAt: T0, expiresAt: null });
  });

  it("rejects it once K2 is removed: [K1] only", () => {
    expect(api(K1).read(api(K2).write("payload"))).toBeNull();
  });

  it("finds the key at any position, and keyIndex 0 means the primary", () => {
    const rotated = api(K1, K2, K3);
    expect(rotated.read(api(K3).write("x"))?.keyIndex).toBe(2);
    expect(rotated.read(api(K1).write("x"))?.keyIndex).toBe(0);
  });

  it("re-issuing a value read with an old key yields one the primary alone accepts", () => {
    const rotated = api(K1, K2);
    const verified = rotated.read(api(K2).write("payload"))!;
    expect(verified.keyIndex).toBeGreaterThan(0);
    const reissued = rotated.write(verified.value);
    expect(api(K1).read(reissued)).toMatchObject({ value: "payload", keyIndex: 0 });
  });
});
