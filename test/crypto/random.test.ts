import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { randomBytesPooled, randomToken } from "../../src/crypto/random.js";

describe("randomToken", () => {
  it("defaults to 32 bytes as 43 base64url characters", () => {
    const token = randomToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, "base64url")).toHaveLength(32);
  });

  it.each([1, 16, 31, 256, 257, 4096, 9000])("gives %i bytes, including sizes beyond the pool", (bytes) => {
    const token = randomToken(bytes);
    expect(token).toHaveLength(Math.ceil((bytes * 8) / 6));
    expect(Buffer.from(token, "base64url")).toHaveLength(bytes);
  });

  it("never repeats across many pool refills", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(randomToken(16));
    expect(seen.size).toBe(5000);
  });

  it("draws bytes that look uniform (each byte value appears, no value dominates)", () => {
    const counts = new Array<number>(256).fill(0);
    const bytes = randomBytesPooled(1); // warm the pool path as well
    counts[bytes[0]!]!++;
    for (let i = 0; i < 2000; i++) for (const byte of randomBytesPooled(128)) counts[byte]!++;
    // 256,001 draws: expected 1000 per value; a stuck or biased generator fails these wide bounds.
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it.each([0, -1, 1.5, Number.NaN, 65_537])("rejects length %s", (bytes) => {
    expect(() => randomToken(bytes)).toThrow(expect.objectContaining({ code: "ERR_INVALID_OPTION" }));
    expect(() => randomBytesPooled(bytes)).toThrow(expect.objectContaining({ code: "ERR_INVALID_OPTION" }));
  });
});
