/**
 * docs/security.md §10: session ids come from the CSPRNG. 100,000 randomToken() values are unique, each
 * 43 base64url characters decoding to 32 bytes; src/ never uses Math.random or randomUUID.
 */
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { randomToken } from "../../src/crypto/random.js";
import { findWeakRandom, SRC_DIR, scanSources } from "../crypto/source-scan.js";

describe("session id entropy", () => {
  it("100,000 tokens: all unique, 43 base64url characters, 32 bytes each", () => {
    const seen = new Set<string>();
    const malformed: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const token = randomToken();
      const ok =
        token.length >= 43 && /^[A-Za-z0-9_-]+$/.test(token) && Buffer.from(token, "base64url").length === 32;
      if (!ok) malformed.push(token);
      seen.add(token);
    }
    expect(malformed).toEqual([]);
    expect(seen.size).toBe(100_000);
  });

  it("src/ never uses Math.random or randomUUID", () => {
    expect(scanSources(findWeakRandom)).toEqual([]);
  });

  it("tokens are drawn with node:crypto randomFillSync", () => {
    expect(readFileSync(`${SRC_DIR}crypto/random.ts`, "utf8")).toMatch(/randomFillSync\(/);
  });
});
