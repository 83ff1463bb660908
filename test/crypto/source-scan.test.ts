import { describe, expect, it } from "vitest";
import { findMacEquality, findWeakRandom, isMacName, sourceFiles } from "./source-scan.js";

describe("source scanner (the detector behind test/security/constant-time and session-id-entropy)", () => {
  it("finds the crypto sources", () => {
    const files = sourceFiles().map((file) => file.replace(/\\/g, "/"));
    expect(files.some((file) => file.endsWith("crypto/signer.ts"))).toBe(true);
  });

  it.each([
    "mac",
    "expectedMac",
    "given_mac",
    "hmac",
    "signature",
    "cookieSignature",
    "sig",
    "digest",
    "authTag",
  ])("treats %s as a MAC name", (name) => expect(isMacName(name)).toBe(true));

  it.each(["machine", "macStart", "tag", "stage", "signed", "design", "length"])("does not flag %s", (name) =>
    expect(isMacName(name)).toBe(false),
  );

  it.each([
    "if (mac === expected) ok();",
    "if (expected !== mac) fail();",
    "return hmac.digest('base64url') === cookie.split('.')[1];",
    "const ok = sig == computeSig(value);",
    "if ((parts.signature as string) !== want) return null;",
    "if (expectedMac === givenMac!) return true;",
  ])("flags %s", (code) => {
    expect(findMacEquality("x.ts", code)).toHaveLength(1);
  });

  it.each([
    "if (mac.length !== expected.length) return null;",
    "if (mac === undefined) return null;",
    "if (typeof signature !== 'string') return null;",
    "if (tag === other) return 1;",
    "// mac === expected in a comment\nconst s = 'sig === x';",
    "if (timingSafeEqual(mac, expected)) ok();",
  ])("allows %s", (code) => {
    expect(findMacEquality("x.ts", code)).toHaveLength(0);
  });

  it.each([
    "const id = Math.random().toString(36);",
    "const id = crypto.randomUUID();",
    "import { randomUUID } from 'node:crypto';",
  ])("flags weak randomness in %s", (code) => {
    expect(findWeakRandom("x.ts", code).length).toBeGreaterThan(0);
  });

  it.each([
    "// never Math.random or randomUUID here",
    "const r = randomFillSync(buf);",
    "const m = Math.max(a, b);",
  ])("allows %s", (code) => expect(findWeakRandom("x.ts", code)).toHaveLength(0));
});
