/**
 * docs/security.md §3: a value issued for cookie `a` is rejected when presented as cookie `b` with the
 * same secret: the signed MAC covers the name, the sealed AAD binds it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSealer } from "../../src/crypto/sealer.js";
import { createSigner } from "../../src/crypto/signer.js";
import { K1, keyring, T0 } from "../crypto/fixtures.js";

const signer = createSigner(keyring(K1), "swap");
const sealer = createSealer(keyring(K1), "swap");
const at = { now: T0 };

describe.each([
  [
    "signed",
    (name: string) => signer.sign(name, "v", at),
    (name: string, t: string) => signer.verify(name, t, at),
  ],
  [
    "sealed",
    (name: string) => sealer.seal(name, "v", at),
    (name: string, t: string) => sealer.open(name, t, at),
  ],
])("name swap of %s values", (_kind, write, read) => {
  it("rejects a value of cookie a presented as cookie b", () => {
    const token = write("a");
    expect(read("a", token)?.value).toBe("v");
    expect(read("b", token)).toBeNull();
  });

  it.each([
    ["sid", "SID"],
    ["sid", "__Host-sid"],
    ["__Host-sid", "__Secure-sid"],
    ["sid", "sid "],
    ["sid", "si"],
    ["a", "a\u0000"],
  ])("rejects %j presented as %j", (from, to) => {
    expect(read(to, write(from))).toBeNull();
  });

  it("rejects any other name (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 30 }),
        fc.string({ minLength: 1, maxLength: 30 }),
        (a, b) => {
          fc.pre(a !== b);
          expect(read(b, write(a))).toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });
});
