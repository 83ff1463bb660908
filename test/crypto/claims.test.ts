import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CLOCK_SKEW_MS, decodeBase64urlStrict, isCurrent, isWellFormed } from "../../src/crypto/claims.js";

describe("decodeBase64urlStrict", () => {
  it("decodes every canonical encoding", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = Buffer.from(bytes).toString("base64url");
        expect(decodeBase64urlStrict(text)?.equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });

  it.each([
    ["padding", "AA=="],
    ["standard base64 characters", "a+/b"],
    ["a dot", "AA.A"],
    ["an impossible length", "AAAAA"],
    ["unused bits set (2 chars)", "AB"],
    ["unused bits set (3 chars)", "AAB"],
    ["whitespace", "AA AA"],
  ])("rejects %s", (_label, text) => {
    expect(decodeBase64urlStrict(text)).toBeNull();
  });
});

describe("isCurrent", () => {
  const now = 1_000_000_000;
  it.each([
    [now, null, true],
    [now, now + 1, true],
    [now, now, false], // expired exactly at expiresAt
    [now + CLOCK_SKEW_MS, null, true],
    [now + CLOCK_SKEW_MS + 1, null, false],
  ])("iat %i exp %s → %s", (iat, exp, expected) => {
    expect(isCurrent(iat, exp, now)).toBe(expected);
  });

  it("rejects everything when now is NaN", () => {
    expect(isCurrent(0, null, Number.NaN)).toBe(false);
  });
});

describe("isWellFormed", () => {
  it.each([
    ["", true],
    ["é🎉", true],
    ["\uD83C\uDF89", true],
    ["\uD83C", false],
    ["a\uDF89", false],
    ["\uDF89\uD83C", false],
  ])("%j → %s", (text, expected) => {
    expect(isWellFormed(text)).toBe(expected);
  });
});
