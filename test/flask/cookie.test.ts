import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { decodeSegment } from "../../src/flask/base64.js";
import {
  decodeFlaskCookie,
  encodeFlaskCookie,
  FLASK_DEFAULT_MAX_AGE,
  FlaskTuple,
  openFlaskCookie,
  peekFlaskCookie,
  toTypedJSON,
} from "../../src/flask/index.js";
import { flaskSession } from "./arbitraries.js";

const KEY = "Secret Key";
const NOW = new Date(1_700_000_000_000);
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
const lesson = { name: "Leo", message: "Hello, World!" };

describe("encodeFlaskCookie / decodeFlaskCookie", () => {
  it("writes the lesson's session exactly as Flask does (vector pub-002's cookie)", () => {
    // Same key, time and data as test/fixtures/flask pub-002 (checked there byte for byte too).
    const cookie = encodeFlaskCookie(lesson, KEY, { now: NOW });
    expect(cookie).toMatch(
      /^eyJtZXNzYWdlIjoiSGVsbG8sIFdvcmxkISIsIm5hbWUiOiJMZW8ifQ\.ZVPxAA\.[A-Za-z0-9_-]{27}$/,
    );
    expect(decodeFlaskCookie(cookie, KEY, { now: later(60) })).toEqual(lesson);
  });

  it("fast-check: decode(encode(session)) gives the session back (through typed JSON)", () => {
    fc.assert(
      fc.property(flaskSession, (session) => {
        const cookie = encodeFlaskCookie(session, KEY, { now: NOW });
        expect(toTypedJSON(decodeFlaskCookie(cookie, KEY, { now: NOW }))).toEqual(toTypedJSON(session));
      }),
      { numRuns: 300 },
    );
  });

  it("defaults: now is the clock, max age is 31 days", () => {
    const cookie = encodeFlaskCookie({ a: 1 }, KEY);
    expect(decodeFlaskCookie(cookie, KEY)).toEqual({ a: 1 });
    const old = encodeFlaskCookie({ a: 1 }, KEY, { now: Date.now() - (FLASK_DEFAULT_MAX_AGE + 5) * 1000 });
    expect(decodeFlaskCookie(old, KEY)).toBeNull();
  });

  it("enforces maxAge at the second (age == maxAge passes) and rejects future cookies", () => {
    const cookie = encodeFlaskCookie(lesson, KEY, { now: NOW });
    expect(openFlaskCookie(cookie, KEY, { now: later(3600), maxAge: 3600 }).ok).toBe(true);
    expect(openFlaskCookie(cookie, KEY, { now: later(3601), maxAge: 3600 })).toMatchObject({
      ok: false,
      reason: "expired",
    });
    expect(openFlaskCookie(cookie, KEY, { now: later(-1) })).toMatchObject({
      ok: false,
      reason: "not-yet-valid",
    });
    // Sub-second clocks: Flask compares int(time.time()), so 0.999 s early is still "now".
    expect(openFlaskCookie(cookie, KEY, { now: new Date(NOW.getTime() + 999) }).ok).toBe(true);
  });

  it("reports issuedAt, expiresAt, compression and the verifying key", () => {
    const result = openFlaskCookie(
      encodeFlaskCookie({ big: "y".repeat(500) }, "old key", { now: NOW }),
      ["new key", "old key"],
      {
        now: NOW,
        maxAge: 100,
      },
    );
    expect(result).toMatchObject({
      ok: true,
      keyIndex: 1,
      compressed: true,
      issuedAt: NOW,
      expiresAt: later(100),
    });
  });

  it("key rotation: the first key signs, every key verifies", () => {
    const cookie = encodeFlaskCookie(lesson, ["current", "previous"], { now: NOW });
    expect(decodeFlaskCookie(cookie, "current", { now: NOW })).toEqual(lesson);
    expect(decodeFlaskCookie(cookie, "previous", { now: NOW })).toBeNull();
    const old = encodeFlaskCookie(lesson, "previous", { now: NOW });
    expect(openFlaskCookie(old, ["current", "previous"], { now: NOW })).toMatchObject({
      ok: true,
      keyIndex: 1,
    });
    expect(decodeFlaskCookie(old, ["current"], { now: NOW })).toBeNull();
  });

  it("a bytes key works like its string (Flask encodes str keys as UTF-8)", () => {
    const cookie = encodeFlaskCookie(lesson, "clé", { now: NOW });
    expect(decodeFlaskCookie(cookie, new TextEncoder().encode("clé"), { now: NOW })).toEqual(lesson);
  });

  it.each([
    ["no key", []],
    ["an empty key", ""],
    ["an empty key among others", ["ok", ""]],
  ])("throws ConfigError for %s", (_name, keys) => {
    expect(() => decodeFlaskCookie("x.y.z", keys as string[])).toThrow(ConfigError);
    expect(() => encodeFlaskCookie({}, keys as string[])).toThrow(ConfigError);
  });

  it("throws ConfigError for a nonsensical maxAge or now", () => {
    expect(() => decodeFlaskCookie("x", KEY, { maxAge: -1 })).toThrow(ConfigError);
    expect(() => decodeFlaskCookie("x", KEY, { maxAge: Number.NaN })).toThrow(ConfigError);
    expect(() => decodeFlaskCookie("x", KEY, { now: new Date(Number.NaN) })).toThrow(ConfigError);
    expect(() => encodeFlaskCookie({}, KEY, { now: new Date(-5000) })).toThrow(ConfigError);
  });

  it("refuses a non-object session", () => {
    expect(() => encodeFlaskCookie([] as unknown as Record<string, unknown>, KEY)).toThrow(
      expect.objectContaining({ code: "ERR_VALUE_NOT_SERIALIZABLE" }),
    );
  });
});

describe("tampering (docs/security.md §1-2, Flask's leniency included)", () => {
  const cookie = encodeFlaskCookie({ user: "alice", roles: FlaskTuple.of("admin") }, KEY, { now: NOW });
  const signatureOf = (value: string) =>
    Buffer.from(
      decodeSegment(new TextEncoder().encode(value.slice(value.lastIndexOf(".") + 1))) ?? [],
    ).toString("hex");

  it("fast-check: changing any one character is rejected, unless the signature still decodes to the same HMAC", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/!";
    fc.assert(
      fc.property(fc.nat(cookie.length - 1), fc.constantFrom(...alphabet), (index, char) => {
        fc.pre(cookie[index] !== char);
        const tampered = cookie.slice(0, index) + char + cookie.slice(index + 1);
        const result = openFlaskCookie(tampered, KEY, { now: NOW });
        if (result.ok) {
          // The only accepted changes are in the signature and decode to the same HMAC, as in Flask:
          // the last character's two unused bits (vector pub-097), and "+" or "/" for "-" or "_"
          // (Python's urlsafe_b64decode reads both alphabets). Found by this property at seed 1538691525.
          expect(index).toBeGreaterThan(cookie.lastIndexOf("."));
          expect(signatureOf(tampered)).toBe(signatureOf(cookie));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ["the last character dropped", cookie.slice(0, -1)],
    ["x appended", `${cookie}x`],
    [".AAAA appended", `${cookie}.AAAA`],
    ["the signature duplicated", `${cookie}.${cookie.slice(cookie.lastIndexOf(".") + 1)}`],
    ["the timestamp removed", cookie.replace(/\.[^.]+(\.[^.]+)$/, "$1")],
    ["nothing but the payload", cookie.slice(0, cookie.indexOf("."))],
    ["an empty string", ""],
  ])("rejects %s", (_name, value) => {
    expect(decodeFlaskCookie(value, KEY, { now: NOW })).toBeNull();
  });

  it("never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (value) => {
        expect(openFlaskCookie(value, KEY, { now: NOW }).ok).toBe(false);
        peekFlaskCookie(value);
      }),
      { numRuns: 500 },
    );
  });

  it("caps inflation: a correctly signed zip bomb is a rejected payload, not 100 MB of memory", () => {
    const huge = { a: "a".repeat(2_000_000) };
    const bomb = encodeFlaskCookie(huge, KEY, { now: NOW });
    expect(bomb.length).toBeLessThan(4000);
    expect(openFlaskCookie(bomb, KEY, { now: NOW })).toMatchObject({ ok: false, reason: "bad-payload" });
  });
});

describe("peekFlaskCookie (no secret)", () => {
  it("reads what a Flask cookie holds, without verifying it", () => {
    const cookie = encodeFlaskCookie(lesson, KEY, { now: NOW });
    expect(peekFlaskCookie(cookie)).toEqual({ session: lesson, issuedAt: NOW, compressed: false });
    const forged = `${cookie.slice(0, cookie.lastIndexOf("."))}.AAAA`;
    expect(peekFlaskCookie(forged)?.session).toEqual(lesson);
  });

  it("returns null for something that is not a Flask cookie and a null session for a bad payload", () => {
    expect(peekFlaskCookie("garbage")).toBeNull();
    expect(peekFlaskCookie("bm90IGpzb24.ZVPxAA.sig")).toEqual({
      session: null,
      issuedAt: NOW,
      compressed: false,
    });
  });
});
