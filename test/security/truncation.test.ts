/**
 * docs/security.md §2: truncation or extension is rejected: drop characters, append "x", append ".AAAA",
 * duplicate the MAC segment (the cookie-signature #40 class).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSealer } from "../../src/crypto/sealer.js";
import { createSigner } from "../../src/crypto/signer.js";
import { K1, keyring, T0, unicodeText } from "../crypto/fixtures.js";

const signer = createSigner(keyring(K1), "truncation");
const sealer = createSealer(keyring(K1), "truncation");
const at = { now: T0 };

/** Every way to cut or extend `token` that the property names. */
function mangled(token: string): string[] {
  const lastSegment = token.slice(token.lastIndexOf(".") + 1);
  return [
    token.slice(0, -1),
    token.slice(1),
    `${token}x`,
    `${token}.AAAA`,
    `${token}.${lastSegment}`,
    `${token}${lastSegment}`,
    `${token}.`,
    `.${token}`,
    `${token}=`,
    token.slice(0, token.lastIndexOf(".")),
    `v1.${token}`,
  ];
}

describe.each([
  [
    "signed",
    (value: string) => signer.sign("sid", value, at),
    (token: string) => signer.verify("sid", token, at),
  ],
  [
    "sealed",
    (value: string) => sealer.seal("sid", value, at),
    (token: string) => sealer.open("sid", token, at),
  ],
])("truncation and extension of %s values", (_kind, write, read) => {
  it("accepts the untouched value", () => {
    expect(read(write("hello"))?.value).toBe("hello");
  });

  it("rejects every prefix of a value (exhaustive)", () => {
    const token = write('{"user":"alice"}');
    for (let end = 0; end < token.length; end++) expect(read(token.slice(0, end))).toBeNull();
  });

  it("rejects cut, appended and duplicated segments for any value (fast-check)", () => {
    fc.assert(
      fc.property(unicodeText(), (value) => {
        for (const candidate of mangled(write(value))) expect(read(candidate)).toBeNull();
      }),
      { numRuns: 200 },
    );
  });
});
