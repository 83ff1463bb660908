import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  encodeFlaskCookie,
  type FlaskCookieResult,
  type FlaskRejection,
  flaskTimeRejection,
  openFlaskCookie,
} from "../../src/flask/cookie.js";

// Flask's cookie says why it refuses in the shared vocabulary (src/crypto/claims.ts, RejectReason).
const KEY = "Secret Key";
const NOW = new Date(1_700_000_000_000);
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
const MAX_AGE = 3600;
const options = { now: NOW, maxAge: MAX_AGE };

const cookie = encodeFlaskCookie({ user: "alice" }, KEY, { now: NOW });
const lastDot = cookie.lastIndexOf(".");
const message = cookie.slice(0, lastDot);
const rows: Array<[string, () => string, FlaskRejection | "ok"]> = [
  ["a valid cookie", () => cookie, "ok"],
  ["the payload edited", () => cookie.replace(/^e/, "f"), "bad-mac"],
  [
    "the timestamp moved by a second",
    () => `${message.slice(0, message.lastIndexOf("."))}.ZVPxAQ${cookie.slice(lastDot)}`,
    "bad-mac",
  ],
  [
    "a character of the signature changed",
    () => `${message}.${cookie[lastDot + 1] === "A" ? "B" : "A"}${cookie.slice(lastDot + 2)}`,
    "bad-mac",
  ],
  [
    "signed with another key",
    () => encodeFlaskCookie({ user: "alice" }, "another key", { now: NOW }),
    "bad-mac",
  ],
  ["empty", () => "", "malformed"],
  ["no dot at all", () => "garbage", "malformed"],
  ["a signature that is not 20 bytes", () => `${message}.AAAA`, "malformed"],
  ["a signature that is not base64", () => `${message}.A`, "malformed"],
  [
    "the timestamp removed (signature over the payload alone)",
    () => cookie.replace(/\.[^.]+(\.[^.]+)$/, "$1"),
    "bad-mac",
  ],
  ["expired", () => encodeFlaskCookie({ a: 1 }, KEY, { now: at(-MAX_AGE - 1) }), "expired"],
  ["exactly max-age old", () => encodeFlaskCookie({ a: 1 }, KEY, { now: at(-MAX_AGE) }), "ok"],
  ["issued a second in the future", () => encodeFlaskCookie({ a: 1 }, KEY, { now: at(1) }), "not-yet-valid"],
  [
    "a payload that does not inflate (zip bomb)",
    () => encodeFlaskCookie({ a: "a".repeat(2_000_000) }, KEY, { now: NOW }),
    "bad-payload",
  ],
];

describe("openFlaskCookie says why", () => {
  it.each(rows)("%s → %s", (_label, value, expected) => {
    const result = openFlaskCookie(value(), KEY, options);
    expect(result.ok ? "ok" : result.reason).toBe(expected);
  });

  it("a correctly signed refusal carries the key and the times", () => {
    const expired = encodeFlaskCookie({ a: 1 }, ["old", "older"], { now: at(-MAX_AGE - 10) });
    expect(openFlaskCookie(expired, ["new", "old"], options)).toEqual({
      ok: false,
      reason: "expired",
      keyIndex: 1,
      issuedAt: at(-MAX_AGE - 10),
      expiresAt: at(-10),
    });
    expect(openFlaskCookie("garbage", KEY, options)).toEqual({ ok: false, reason: "malformed" });
    expect(openFlaskCookie(`${cookie}x`, "another key", options)).toEqual({ ok: false, reason: "malformed" });
  });

  it("never says wrong-name: Flask's signature does not cover the cookie name", () => {
    const reasons = rows
      .map(([, value]) => openFlaskCookie(value(), KEY, options))
      .map((r) => r.ok || r.reason);
    expect(reasons).not.toContain("wrong-name");
  });

  it("flaskTimeRejection applies the same age rules to an unverified issue time", () => {
    expect(flaskTimeRejection(at(-MAX_AGE), options)).toBeUndefined();
    expect(flaskTimeRejection(at(-MAX_AGE - 1), options)).toBe("expired");
    expect(flaskTimeRejection(at(1), options)).toBe("not-yet-valid");
    expect(flaskTimeRejection(new Date(NOW.getTime() + 999), options)).toBeUndefined(); // whole seconds
  });

  it("fast-check: a mutated cookie never throws, and is accepted only if the signed part is unchanged", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/! %\u00e9\uD800";
    const char = fc.constantFrom(...alphabet);
    const position = fc.nat(cookie.length - 1);
    const mutation = fc.oneof(
      fc.tuple(position, char).map(([i, c]) => cookie.slice(0, i) + c + cookie.slice(i + 1)),
      fc.tuple(position, char).map(([i, c]) => cookie.slice(0, i) + c + cookie.slice(i)),
      fc
        .tuple(position, fc.integer({ min: 1, max: 8 }))
        .map(([i, n]) => cookie.slice(0, i) + cookie.slice(i + n)),
      position.map((i) => cookie.slice(0, i)),
      fc.tuple(position, position).map(([i, j]) => cookie.slice(0, i) + cookie.slice(j)),
      fc.string({ maxLength: 4 }).map((tail) => cookie + tail),
    );
    fc.assert(
      fc.property(mutation, (mutated) => {
        fc.pre(mutated !== cookie);
        let result: FlaskCookieResult | undefined;
        expect(() => {
          result = openFlaskCookie(mutated, KEY, options);
        }).not.toThrow();
        if (result!.ok) {
          // Flask's own leniency (vector pub-097): base64 decoding of the signature skips stray
          // characters and ignores unused bits. The signed part itself can never change.
          expect(mutated.slice(0, mutated.lastIndexOf("."))).toBe(message);
        } else {
          expect(["malformed", "bad-mac"]).toContain(result!.reason);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("fast-check: a mutation of the signed part is never accepted", () => {
    const char = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");
    fc.assert(
      fc.property(fc.nat(message.length - 1), char, (i, c) => {
        fc.pre(message[i] !== c);
        const mutated = `${message.slice(0, i)}${c}${message.slice(i + 1)}${cookie.slice(lastDot)}`;
        expect(openFlaskCookie(mutated, KEY, options).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
