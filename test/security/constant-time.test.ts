/**
 * docs/security.md §6: MACs are compared in constant time. Static: no `===`/`!==` on MAC-named values
 * anywhere in src/. Unit: the comparison goes through timingSafeEqual on equal-length buffers; malformed
 * MACs (wrong length, bad base64url, non-ASCII) return null and never throw.
 */
import * as nodeCrypto from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createSigner } from "../../src/crypto/signer.js";
import { K1, keyring, replaceSegment, T0 } from "../crypto/fixtures.js";
import { findMacEquality, scanSources } from "../crypto/source-scan.js";

vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof nodeCrypto>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const signer = createSigner(keyring(K1), "constant-time");
const at = { now: T0 };
const signed = signer.sign("sid", "payload", at);
const mac = signed.split(".")[4]!;

afterEach(() => {
  vi.mocked(nodeCrypto.timingSafeEqual).mockClear();
});

describe("constant-time verification", () => {
  it("src/ has no ===, !==, == or != between MAC-named values", () => {
    expect(scanSources(findMacEquality)).toEqual([]);
  });

  it("compares MACs with timingSafeEqual over equal-length buffers", () => {
    expect(signer.verify("sid", signed, at)).not.toBeNull();
    expect(
      signer.verify("sid", replaceSegment(signed, 4, mac.replace(/^./, mac[0] === "A" ? "B" : "A")), at),
    ).toBeNull();
    const calls = vi.mocked(nodeCrypto.timingSafeEqual).mock.calls;
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const [a, b] of calls) expect(a.byteLength).toBe(b.byteLength);
  });

  it.each([
    ["empty", ""],
    ["one character short", mac.slice(1)],
    ["one character long", `${mac}A`],
    ["padded", `${mac.slice(0, 42)}=`],
    ["standard base64 alphabet", `${mac.slice(0, 42)}+`],
    ["non-ASCII", `${mac.slice(0, 42)}é`],
    ["astral", `${mac.slice(0, 41)}🎉`],
    ["hex instead of base64url", "a".repeat(64)],
    ["whitespace", `${mac.slice(0, 42)} `],
  ])("rejects a %s MAC without throwing", (_label, badMac) => {
    expect(() => signer.verify("sid", replaceSegment(signed, 4, badMac), at)).not.toThrow();
    expect(signer.verify("sid", replaceSegment(signed, 4, badMac), at)).toBeNull();
  });

  it("never reaches the comparison for a MAC of the wrong length", () => {
    signer.verify("sid", replaceSegment(signed, 4, mac.slice(1)), at);
    expect(nodeCrypto.timingSafeEqual).not.toHaveBeenCalled();
  });
});
