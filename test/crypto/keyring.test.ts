import { Buffer } from "node:buffer";
import { hkdfSync } from "node:crypto";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { Keyring } from "../../src/crypto/keyring.js";
import { ConfigError } from "../../src/errors.js";
import { K1, K2 } from "./fixtures.js";

describe("Keyring", () => {
  it("accepts one secret or a list, primary first", () => {
    expect(new Keyring(K1).size).toBe(1);
    expect(new Keyring([K1, K2]).size).toBe(2);
  });

  it("derives subkeys with HKDF-SHA256 over the UTF-8 secret, salt flagon.keyring.v1, info = purpose", () => {
    const expected = Buffer.from(
      hkdfSync(
        "sha256",
        Buffer.from(K1, "utf8"),
        Buffer.from("flagon.keyring.v1"),
        Buffer.from("purpose-a"),
        32,
      ),
    );
    expect(new Keyring(K1).key(0, "purpose-a").equals(expected)).toBe(true);
  });

  it("gives different keys for different purposes and different secrets", () => {
    const ring = new Keyring([K1, K2]);
    const a = ring.key(0, "a");
    expect(a).toHaveLength(32);
    expect(a.equals(ring.key(0, "b"))).toBe(false);
    expect(a.equals(ring.key(1, "a"))).toBe(false);
    expect(a.equals(ring.key(0, "a"))).toBe(true);
  });

  it("returns a copy, so a caller cannot corrupt the cached key", () => {
    const ring = new Keyring(K1);
    const first = ring.key(0, "a");
    const snapshot = Buffer.from(first);
    first.fill(0);
    expect(ring.key(0, "a").equals(snapshot)).toBe(true);
  });

  it("keys(purpose) lists every secret's subkey in order", () => {
    const ring = new Keyring([K1, K2]);
    const keys = ring.keys("p");
    expect(keys).toHaveLength(2);
    expect(keys[0]!.equals(ring.key(0, "p"))).toBe(true);
    expect(keys[1]!.equals(ring.key(1, "p"))).toBe(true);
  });

  it.each([-1, 2, 0.5, Number.NaN])("rejects key index %s", (index) => {
    expect(() => new Keyring([K1, K2]).key(index, "p")).toThrow(ConfigError);
  });

  it("rejects an empty purpose", () => {
    expect(() => new Keyring(K1).key(0, "")).toThrow(ConfigError);
  });

  it("never shows secrets or derived keys through inspect, JSON, keys or spread", () => {
    const ring = new Keyring([K1, K2]);
    const derived = ring.key(0, "p").toString("hex");
    const views = [
      inspect(ring, { showHidden: true, depth: 10 }),
      JSON.stringify(ring),
      JSON.stringify({ ...ring }),
      Object.keys(ring).join(","),
      Object.getOwnPropertyNames(ring).join(","),
      String(ring),
    ];
    for (const view of views) {
      expect(view).not.toContain(K1);
      expect(view).not.toContain(K2);
      expect(view).not.toContain(derived);
    }
    expect(inspect(ring)).toBe("Keyring { size: 2 }");
  });
});
