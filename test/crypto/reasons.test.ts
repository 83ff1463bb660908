import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CheckResult,
  CLOCK_SKEW_MS,
  type IssueOptions,
  type RejectReason,
  timeRejection,
} from "../../src/crypto/claims.js";
import { createSealer, looksSealed, OPENED_CACHE_LIMIT } from "../../src/crypto/sealer.js";
import { createSigner, peekSigned } from "../../src/crypto/signer.js";
import { flipDecodedByte, K1, K2, keyring, replaceSegment, T0 } from "./fixtures.js";

// One owner per format says why a value was rejected (src/crypto/claims.ts, RejectReason).
const HOUR = 3_600_000;
const at = { now: T0 };
const EXPIRES = T0 + HOUR;

const signer = createSigner(keyring(K1), "test");
const sealer = createSealer(keyring(K1), "test");
const otherSecretSigner = createSigner(keyring(K2), "test");
const otherSecretSealer = createSealer(keyring(K2), "test");

/** Replace character `index` (negative: from the end) with another one of the base64url alphabet. */
function changeChar(text: string, index: number): string {
  const i = index < 0 ? text.length + index : index;
  return text.slice(0, i) + (text[i] === "A" ? "B" : "A") + text.slice(i + 1);
}

type Row = [label: string, value: () => string, name: string, expected: RejectReason | "ok"];

const signed = signer.sign("sid", '{"user":"alice"}', { now: T0, expiresAt: EXPIRES });
const signedRows: Row[] = [
  ["a valid value", () => signed, "sid", "ok"],
  ["a character of the MAC changed", () => changeChar(signed, -10), "sid", "bad-mac"],
  [
    "the value segment edited",
    () => replaceSegment(signed, 3, Buffer.from('{"user":"root"}').toString("base64url")),
    "sid",
    "bad-mac",
  ],
  [
    "the expiry pushed back",
    () => replaceSegment(signed, 2, (EXPIRES + HOUR).toString(36)),
    "sid",
    "bad-mac",
  ],
  ["the expiry dropped", () => replaceSegment(signed, 2, ""), "sid", "bad-mac"],
  ["signed with another secret", () => otherSecretSigner.sign("sid", "v", at), "sid", "bad-mac"],
  [
    "signed for another purpose",
    () => createSigner(keyring(K1), "other").sign("sid", "v", at),
    "sid",
    "bad-mac",
  ],
  ["signed for another cookie name", () => signer.sign("other", "v", at), "sid", "bad-mac"],
  ["truncated by one character", () => signed.slice(0, -1), "sid", "malformed"],
  ["only its first half", () => signed.slice(0, signed.length >> 1), "sid", "malformed"],
  [
    "a sixth segment",
    () => `${signed.slice(0, signed.lastIndexOf("."))}.x${signed.slice(signed.lastIndexOf("."))}`,
    "sid",
    "malformed",
  ],
  ["another version", () => `v2${signed.slice(2)}`, "sid", "malformed"],
  ["a character outside the alphabet", () => signed.replace(".", "!"), "sid", "malformed"],
  ["garbage", () => "not a cookie at all", "sid", "malformed"],
  ["empty", () => "", "sid", "malformed"],
  ["a sealed value", () => sealer.seal("sid", "v", at), "sid", "malformed"],
  ["expired", () => signer.sign("sid", "v", { now: T0 - 2 * HOUR, expiresAt: T0 - HOUR }), "sid", "expired"],
  [
    "expired at exactly now",
    () => signer.sign("sid", "v", { now: T0 - HOUR, expiresAt: T0 }),
    "sid",
    "expired",
  ],
  ["issued an hour in the future", () => signer.sign("sid", "v", { now: T0 + HOUR }), "sid", "not-yet-valid"],
  [
    "issued just inside the clock skew",
    () => signer.sign("sid", "v", { now: T0 + CLOCK_SKEW_MS }),
    "sid",
    "ok",
  ],
];

const sealed = sealer.seal("sid", '{"user":"alice"}', { now: T0, expiresAt: EXPIRES });
const sealedData = sealed.slice(3);
const sealedBytes = Buffer.from(sealedData, "base64url");
const sealedRows: Row[] = [
  ["a valid value", () => sealed, "sid", "ok"],
  [
    "a byte of the tag flipped",
    () => `v1.${flipDecodedByte(sealedData, sealedBytes.length - 1, 0)}`,
    "sid",
    "bad-mac",
  ],
  ["a byte of the ciphertext flipped", () => `v1.${flipDecodedByte(sealedData, 20, 3)}`, "sid", "bad-mac"],
  ["a byte of the nonce flipped", () => `v1.${flipDecodedByte(sealedData, 0, 7)}`, "sid", "bad-mac"],
  ["sealed with another secret", () => otherSecretSealer.seal("sid", "v", at), "sid", "bad-mac"],
  [
    "sealed for another purpose",
    () => createSealer(keyring(K1), "other").seal("sid", "v", at),
    "sid",
    "bad-mac",
  ],
  ["sealed for another cookie name", () => sealer.seal("other", "v", at), "sid", "bad-mac"],
  [
    "three bytes cut off (still well-formed)",
    () => `v1.${sealedBytes.subarray(0, -3).toString("base64url")}`,
    "sid",
    "bad-mac",
  ],
  [
    "shorter than nonce + header + tag",
    () => `v1.${sealedBytes.subarray(0, 39).toString("base64url")}`,
    "sid",
    "malformed",
  ],
  [
    "non-canonical base64url (unused bits set)",
    () => `v1.${Buffer.alloc(41).toString("base64url").slice(0, -1)}B`,
    "sid",
    "malformed",
  ],
  ["a length no base64 has", () => `v1.${sealedData}A`.slice(0, 3 + 4 * 15 + 1), "sid", "malformed"],
  ["a dot inside", () => `${sealed.slice(0, 20)}.${sealed.slice(20)}`, "sid", "malformed"],
  ["another version", () => `v2${sealed.slice(2)}`, "sid", "malformed"],
  ["garbage", () => "not a cookie at all", "sid", "malformed"],
  ["empty", () => "", "sid", "malformed"],
  ["a signed value", () => signer.sign("sid", "v", at), "sid", "malformed"],
  ["expired", () => sealer.seal("sid", "v", { now: T0 - 2 * HOUR, expiresAt: T0 - HOUR }), "sid", "expired"],
  ["issued an hour in the future", () => sealer.seal("sid", "v", { now: T0 + HOUR }), "sid", "not-yet-valid"],
];

const formats = [
  ["signed", signedRows, signer.check, signer.verify],
  ["sealed", sealedRows, sealer.check, sealer.open],
] as const;

describe.each(formats)("%s format: check says why", (_format, rows, check, legacy) => {
  it.each(rows)("%s → %s", (_label, value, name, expected) => {
    const result = check(name, value(), at);
    expect(result.ok ? "ok" : result.reason).toBe(expected);
    // verify/open are the same decision without the reason.
    expect(legacy(name, value(), at) === null).toBe(!result.ok);
  });

  it("an authentic rejection carries the key and the times, never the value", () => {
    const expired = rows.find(([label]) => label === "expired")![1]();
    expect(check("sid", expired, at)).toEqual({
      ok: false,
      reason: "expired",
      keyIndex: 0,
      issuedAt: T0 - 2 * HOUR,
      expiresAt: T0 - HOUR,
    });
    const future = rows.find(([label]) => label === "issued an hour in the future")![1]();
    expect(check("sid", future, at)).toEqual({
      ok: false,
      reason: "not-yet-valid",
      keyIndex: 0,
      issuedAt: T0 + HOUR,
      expiresAt: null,
    });
    expect(check("sid", "garbage", at)).toEqual({ ok: false, reason: "malformed" });
  });

  it("success is verify's result with ok: true", () => {
    const valid = rows[0]![1]();
    expect(check("sid", valid, at)).toEqual({ ok: true, ...legacy("sid", valid, at) });
  });

  it("the time rules run once, on the time given", () => {
    const valid = rows[0]![1]();
    expect(check("sid", valid, { now: EXPIRES - 1 }).ok).toBe(true);
    expect(check("sid", valid, { now: EXPIRES })).toMatchObject({ reason: "expired" });
    expect(check("sid", valid, { now: T0 - CLOCK_SKEW_MS - 1 })).toMatchObject({ reason: "not-yet-valid" });
    expect(check("sid", valid, { now: Number.NaN })).toMatchObject({ ok: false, reason: "not-yet-valid" });
  });

  it("a name the format could never have written is bad-mac, never a throw", () => {
    const valid = rows[0]![1]();
    for (const name of ["s\uD800", 42, undefined] as unknown as string[]) {
      expect(check(name, valid, at)).toEqual({ ok: false, reason: "bad-mac" });
    }
    for (const value of [undefined, null, 42, {}] as unknown as string[]) {
      expect(check("sid", value, at)).toEqual({ ok: false, reason: "malformed" });
    }
  });

  it("fast-check: a mutated value is never accepted and never throws", () => {
    const valid = rows[0]![1]();
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ %\u00e9\uD800";
    const char = fc.constantFrom(...alphabet);
    const position = fc.nat(valid.length - 1);
    const mutation = fc.oneof(
      fc.tuple(position, char).map(([i, c]) => valid.slice(0, i) + c + valid.slice(i + 1)), // replace
      fc.tuple(position, char).map(([i, c]) => valid.slice(0, i) + c + valid.slice(i)), // insert
      fc
        .tuple(position, fc.integer({ min: 1, max: 8 }))
        .map(([i, n]) => valid.slice(0, i) + valid.slice(i + n)), // delete
      position.map((i) => valid.slice(0, i)), // truncate
      fc.tuple(position, position).map(([i, j]) => valid.slice(0, i) + valid.slice(j)), // splice
      fc.string({ maxLength: 4 }).map((tail) => valid + tail), // append
    );
    fc.assert(
      fc.property(mutation, (mutated) => {
        fc.pre(mutated !== valid);
        let result: CheckResult | undefined;
        expect(() => {
          result = check("sid", mutated, at);
        }).not.toThrow();
        expect(result!.ok).toBe(false);
        // Nothing a mutation makes is authentic: the format rejects its form or its MAC.
        expect(["malformed", "bad-mac"]).toContain(result!.ok ? "ok" : result!.reason);
        expect(legacy("sid", mutated, at)).toBeNull();
      }),
      { numRuns: 1000 },
    );
  });
});

describe.each([
  ["signed", signer],
  ["sealed", sealer],
] as const)("%s format: wrong-name (only when the caller names the candidates)", (_format, format) => {
  const write = (name: string, options: IssueOptions = {}) =>
    "sign" in format
      ? format.sign(name, "v", { now: T0, ...options })
      : format.seal(name, "v", { now: T0, ...options });

  it("without candidates, another cookie's value is bad-mac: the name is bound, not readable", () => {
    expect(format.check("sid", write("__Host-sid"), at)).toEqual({ ok: false, reason: "bad-mac" });
  });

  it("with candidates, it names the cookie the value was written for, with its key and times", () => {
    const options = { ...at, otherNames: ["sid", "__Host-sid", "__Secure-sid"] };
    expect(format.check("other", write("__Host-sid", { expiresAt: EXPIRES }), options)).toEqual({
      ok: false,
      reason: "wrong-name",
      name: "__Host-sid",
      keyIndex: 0,
      issuedAt: T0,
      expiresAt: EXPIRES,
    });
    // Authentic for the other name but expired there: still the wrong name.
    const expired = write("sid", { now: T0 - 2 * HOUR, expiresAt: T0 - HOUR });
    expect(format.check("other", expired, options)).toMatchObject({ reason: "wrong-name", name: "sid" });
    // Right name: the candidates are not consulted.
    expect(format.check("sid", write("sid"), options)).toMatchObject({ ok: true, value: "v" });
    expect(format.check("sid", expired, options)).toMatchObject({ reason: "expired" });
    // Not authentic under any candidate: bad-mac.
    expect(format.check("sid", write("elsewhere"), options)).toEqual({ ok: false, reason: "bad-mac" });
  });
});

describe("sealer: check keeps the opened cache's rules", () => {
  it("a remembered value is re-checked against the time on every call, with the reason", () => {
    const fresh = createSealer(keyring(K1), "cache");
    const value = fresh.seal("sid", "v", { now: T0, expiresAt: EXPIRES });
    expect(fresh.check("sid", value, at)).toMatchObject({ ok: true, value: "v" }); // now remembered
    expect(fresh.open("sid", value, at)).toEqual({
      value: "v",
      keyIndex: 0,
      issuedAt: T0,
      expiresAt: EXPIRES,
    });
    expect(fresh.check("sid", value, { now: EXPIRES })).toEqual({
      ok: false,
      reason: "expired",
      keyIndex: 0,
      issuedAt: T0,
      expiresAt: EXPIRES,
    });
    expect(fresh.check("sid", value, { now: T0 - CLOCK_SKEW_MS - 1 })).toMatchObject({
      reason: "not-yet-valid",
    });
    expect(fresh.check("other", value, at)).toEqual({ ok: false, reason: "bad-mac" });
  });

  it("mutating a check result does not change what the cache returns", () => {
    const fresh = createSealer(keyring(K1), "cache");
    const value = fresh.seal("sid", "v", at);
    const first = fresh.check("sid", value, at);
    if (first.ok) first.value = "changed";
    expect(fresh.check("sid", value, at)).toMatchObject({ ok: true, value: "v" });
  });

  it(`an expired value is not remembered, past the bound of ${OPENED_CACHE_LIMIT} either`, () => {
    const fresh = createSealer(keyring(K1), "cache");
    const values = Array.from({ length: OPENED_CACHE_LIMIT + 10 }, (_, i) =>
      fresh.seal("sid", `v${i}`, { now: T0, expiresAt: EXPIRES }),
    );
    for (const value of values) expect(fresh.check("sid", value, { now: EXPIRES }).ok).toBe(false);
    for (const [i, value] of values.entries()) expect(fresh.open("sid", value, at)?.value).toBe(`v${i}`);
  });
});

describe("format helpers owned by the formats", () => {
  it("peekSigned reads a signed value with verify's grammar, without verifying it", () => {
    expect(peekSigned(signed)).toEqual({ value: '{"user":"alice"}', issuedAt: T0, expiresAt: EXPIRES });
    // Forged MAC: still readable (that is what "signed, not encrypted" means).
    expect(peekSigned(changeChar(signed, -10))?.value).toBe('{"user":"alice"}');
    for (const bad of ["", "v1.x", signed.slice(0, -1), sealed, `v1.0${signed.slice(3)}`]) {
      expect(peekSigned(bad)).toBeNull();
      expect(signer.check("sid", bad, at)).toMatchObject({ reason: "malformed" });
    }
  });

  it("the grammar rejects non-canonical timestamps before the MAC, even when the MAC is right", () => {
    const key = keyring(K1).key(0, "flagon/v1/hmac-sha256/test");
    const forge = (body: string) =>
      `${body}.${createHmac("sha256", key).update(`${body}\0sid`).digest("base64url")}`;
    const value = Buffer.from("v").toString("base64url");
    expect(signer.check("sid", forge(`v1.${T0.toString(36)}..${value}`), at).ok).toBe(true);
    expect(signer.check("sid", forge(`v1.0${T0.toString(36)}..${value}`), at)).toMatchObject({
      reason: "malformed",
    });
    expect(signer.check("sid", forge(`v1...${value}`), at)).toMatchObject({ reason: "malformed" });
  });

  it("looksSealed tells the sealed shape, and says nothing about authenticity", () => {
    expect(looksSealed(sealed)).toBe(true);
    expect(looksSealed(otherSecretSealer.seal("sid", "v", at))).toBe(true);
    for (const bad of [
      "",
      "v1.",
      signed,
      `v1.${sealedBytes.subarray(0, 39).toString("base64url")}`,
      `v2${sealed.slice(2)}`,
    ]) {
      expect(looksSealed(bad)).toBe(false);
    }
  });

  it.each([
    [T0, null, T0, undefined],
    [T0, T0 + 1, T0, undefined],
    [T0, T0, T0, "expired"],
    [T0 + CLOCK_SKEW_MS, null, T0, undefined],
    [T0 + CLOCK_SKEW_MS + 1, null, T0, "not-yet-valid"],
    [T0 + CLOCK_SKEW_MS + 1, T0 - 1, T0, "not-yet-valid"], // both: from the future wins
    [T0, null, Number.NaN, "not-yet-valid"],
  ])("timeRejection(iat %i, exp %s, now %s) is %s", (iat, exp, now, expected) => {
    expect(timeRejection(iat, exp, now)).toBe(expected);
  });
});
