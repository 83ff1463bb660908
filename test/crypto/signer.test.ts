import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Keyring } from "../../src/crypto/keyring.js";
import { createSealer } from "../../src/crypto/sealer.js";
import { createSigner } from "../../src/crypto/signer.js";
import { FlagonError } from "../../src/errors.js";
import { anyUtf16Text, K1, K2, keyring, T0, tokenLikeText, unicodeText } from "./fixtures.js";

const signer = createSigner(keyring(K1), "test");

describe("createSigner", () => {
  it("matches the documented v1 format byte by byte", () => {
    const ring = keyring(K1);
    const key = ring.key(0, "flagon/v1/hmac-sha256/test");
    const expiresAt = T0 + 900_000;
    const signed = createSigner(ring, "test").sign("sid", "héllo", { now: T0, expiresAt });
    const body = `v1.${T0.toString(36)}.${expiresAt.toString(36)}.${Buffer.from("héllo").toString("base64url")}`;
    const mac = createHmac("sha256", key).update(`${body}\0sid`, "utf8").digest("base64url");
    expect(signed).toBe(`${body}.${mac}`);
    expect(mac).toHaveLength(43);
  });

  it("writes an empty exp segment when there is no expiry", () => {
    const signed = signer.sign("sid", "x", { now: T0 });
    expect(signed.split(".")[2]).toBe("");
    expect(signer.verify("sid", signed, { now: T0 })).toEqual({
      value: "x",
      keyIndex: 0,
      issuedAt: T0,
      expiresAt: null,
    });
  });

  it("round-trips any unicode string and emits only cookie-safe characters", () => {
    fc.assert(
      fc.property(unicodeText(), fc.string({ minLength: 1, maxLength: 20 }), (value, name) => {
        const signed = signer.sign(name, value, { now: T0 });
        expect(signed).toMatch(/^v1\.[A-Za-z0-9._-]+$/);
        expect(signer.verify(name, signed, { now: T0 })?.value).toBe(value);
      }),
      { numRuns: 300 },
    );
  });

  it("reports the verifying key and the times", () => {
    const old = createSigner(keyring(K2), "test").sign("sid", "v", { now: T0, expiresAt: T0 + 1000 });
    expect(createSigner(keyring(K1, K2), "test").verify("sid", old, { now: T0 })).toEqual({
      value: "v",
      keyIndex: 1,
      issuedAt: T0,
      expiresAt: T0 + 1000,
    });
  });

  it("uses the clock when no time is given", () => {
    const before = Date.now();
    const verified = signer.verify("sid", signer.sign("sid", "v"));
    expect(verified?.issuedAt).toBeGreaterThanOrEqual(before);
    expect(verified?.issuedAt).toBeLessThanOrEqual(Date.now());
  });

  it("separates purposes: a value signed for one purpose does not verify for another", () => {
    const signed = signer.sign("sid", "v", { now: T0 });
    expect(createSigner(keyring(K1), "other").verify("sid", signed, { now: T0 })).toBeNull();
  });

  it.each([
    ["a lone surrogate value", "sid", "\uD800x"],
    ["a lone surrogate name", "s\uDC00", "x"],
  ])("refuses to sign %s (it would not round-trip)", (_label, name, value) => {
    expect(() => signer.sign(name, value)).toThrow(FlagonError);
  });

  it.each([
    [{ now: 1.5 }],
    [{ now: -1 }],
    [{ now: Number.NaN }],
    [{ expiresAt: 0 }],
    [{ expiresAt: Number.POSITIVE_INFINITY }],
    [{ expiresAt: 2 ** 48 }],
  ])("rejects invalid issue options %o", (options) => {
    expect(() => signer.sign("sid", "v", options)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_OPTION" }),
    );
  });

  it("rejects a missing keyring or purpose at construction", () => {
    expect(() => createSigner(undefined as never, "p")).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_OPTION" }),
    );
    expect(() => createSigner(keyring(K1), "")).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_OPTION" }),
    );
  });

  it("returns null, never throws, for garbage input", () => {
    fc.assert(
      fc.property(fc.oneof(anyUtf16Text(), tokenLikeText()), (garbage) => {
        expect(signer.verify("sid", garbage, { now: T0 })).toBeNull();
        expect(signer.verify("sid", `v1.${garbage}`, { now: T0 })).toBeNull();
      }),
      { numRuns: 500 },
    );
    for (const input of [undefined, null, 42, {}, ""] as unknown as string[]) {
      expect(signer.verify("sid", input)).toBeNull();
      expect(signer.verify(input, signer.sign("sid", "v"))).toBeNull();
    }
  });

  it("returns null when the verification time is not a number", () => {
    const signed = signer.sign("sid", "v", { now: T0, expiresAt: T0 + 1000 });
    expect(signer.verify("sid", signed, { now: Number.NaN })).toBeNull();
  });

  it("rejects non-canonical timestamps even with a valid MAC", () => {
    const key = keyring(K1).key(0, "flagon/v1/hmac-sha256/test");
    const forge = (body: string) =>
      `${body}.${createHmac("sha256", key).update(`${body}\0sid`).digest("base64url")}`;
    const value = Buffer.from("v").toString("base64url");
    expect(signer.verify("sid", forge(`v1.${T0.toString(36)}..${value}`), { now: T0 })).not.toBeNull();
    expect(signer.verify("sid", forge(`v1.0${T0.toString(36)}..${value}`), { now: T0 })).toBeNull();
    expect(
      signer.verify("sid", forge(`v1.${T0.toString(36).toUpperCase()}..${value}`), { now: T0 }),
    ).toBeNull();
    expect(signer.verify("sid", forge(`v1...${value}`), { now: T0 })).toBeNull();
  });
});

describe("docs/formats.md examples", () => {
  const docs = readFileSync(new URL("../../docs/formats.md", import.meta.url), "utf8");
  const ring = new Keyring("an-example-secret-of-at-least-32-bytes!!");
  const T = Date.UTC(2026, 0, 1);
  const example = (prefix: RegExp) => docs.match(prefix)?.[0] ?? "";

  it("the signed example is exactly what sign() produces", () => {
    const documented = example(/^v1\.mjuohs00\.[^\s]+$/m);
    const produced = createSigner(ring, "session").sign("sid", '{"user":"alice"}', {
      now: T,
      expiresAt: T + 900_000,
    });
    expect(documented).toBe(produced);
  });

  it("the sealed example opens to the documented value", () => {
    const documented = example(/^v1\.[A-Za-z0-9_-]{60,}$/m);
    expect(createSealer(ring, "session").open("sid", documented, { now: T })).toEqual({
      value: '{"user":"alice"}',
      keyIndex: 0,
      issuedAt: T,
      expiresAt: T + 900_000,
    });
  });
});
