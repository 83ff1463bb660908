/**
 * docs/security.md §7: sealing hides the plaintext. Sealing {user:"alice"} twice gives two different
 * values (random nonce); neither shows `alice` or `{"`, raw or base64url-decoded; both open.
 */
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSealer } from "../../src/crypto/sealer.js";
import { decodedSegments, K1, keyring } from "../crypto/fixtures.js";

const sealer = createSealer(keyring(K1), "hides");

/** Every view an attacker has of a sealed value: raw, and decoded as latin1 and as UTF-8. */
function views(sealed: string): string[] {
  const data = Buffer.from(sealed.slice(3), "base64url");
  return [sealed, ...decodedSegments(sealed), data.toString("latin1"), data.toString("utf8")];
}

describe("encryption hides the plaintext", () => {
  it('seals {user:"alice"} twice: different, unreadable, both open', () => {
    const plaintext = JSON.stringify({ user: "alice" });
    const first = sealer.seal("session", plaintext);
    const second = sealer.seal("session", plaintext);
    expect(first).not.toBe(second);
    expect(Buffer.from(first.slice(3), "base64url").subarray(0, 12)).not.toEqual(
      Buffer.from(second.slice(3), "base64url").subarray(0, 12),
    );
    for (const sealed of [first, second]) {
      for (const view of views(sealed)) {
        expect(view).not.toContain("alice");
        expect(view).not.toContain('{"');
      }
      expect(sealer.open("session", sealed)?.value).toBe(plaintext);
    }
  });

  it("never shows a plaintext marker, and never repeats a sealed value (fast-check)", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (before, after) => {
        const plaintext = `${before}SECRET-MARKER-alice${after}`;
        const sealed = sealer.seal("session", plaintext);
        expect(seen.has(sealed)).toBe(false);
        seen.add(sealed);
        for (const view of views(sealed)) expect(view).not.toContain("MARKER");
        expect(sealer.open("session", sealed)?.value).toBe(plaintext);
      }),
      { numRuns: 300 },
    );
  });

  it("does not show the plaintext's base64url either", () => {
    const plaintext = JSON.stringify({ user: "alice", role: "admin" });
    const encoded = Buffer.from(plaintext).toString("base64url");
    const sealed = sealer.seal("session", plaintext);
    expect(sealed).not.toContain(encoded.slice(0, 8));
    expect(sealed).not.toContain(Buffer.from("alice").toString("base64url").slice(0, 5));
  });
});
