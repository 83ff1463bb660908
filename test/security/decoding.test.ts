// docs/security.md §28: names are never decoded; values decode safely (CVE-2020-7070: PHP decoded names, so
// "%5F_Host-sid" could pose as "__Host-sid").
import { describe, expect, it } from "vitest";
import { CookieJar, parseCookies } from "../../src/cookie/index.js";

describe("no name decoding; safe value decoding", () => {
  it('"%5F_Host-sid=x" → the key stays "%5F_Host-sid"', () => {
    const cookies = parseCookies("%5F_Host-sid=x");
    expect({ ...cookies }).toEqual({ "%5F_Host-sid": "x" });
    expect(cookies["__Host-sid"]).toBeUndefined();
    expect(new CookieJar("%5F_Host-sid=x").has("__Host-sid")).toBe(false);
  });

  it.each(["%5F%5FHost-sid", "__Host%2Dsid", "%5f_Host-sid", "__Host-sid%00", "s%69d"])(
    "name %j is kept as is",
    (name) => {
      const cookies = parseCookies(`${name}=x`);
      expect(Object.keys(cookies)).toEqual([name]);
    },
  );

  it.each([
    ["%E0%A4%A", "a truncated escape"],
    ["%", "a lone percent"],
    ["%zz", "non-hex digits"],
    ["100%", "a trailing percent"],
    ["%C0%AF", "an overlong encoding"],
    ["%ED%A0%80", "an encoded surrogate"],
    ["%FF", "an invalid UTF-8 byte"],
    ["ok%20then%", "a valid escape before a bad one"],
  ])("value %j (%s) stays raw and nothing throws", (raw) => {
    expect(parseCookies(`v=${raw}`).v).toBe(raw);
  });

  it.each([
    ["%E0%A4%A4", "त"],
    ["hello%20world", "hello world"],
    ["%F0%9F%98%80", "😀"],
    ["a+b", "a+b"],
    ["%2B", "+"],
    ["%3B%20Path%3D%2F", "; Path=/"],
    ["%00", "\0"],
  ])("value %j decodes to %j", (raw, decoded) => {
    expect(parseCookies(`v=${raw}`).v).toBe(decoded);
  });

  it("decoding is applied once, not repeatedly", () => {
    expect(parseCookies("v=%2541").v).toBe("%41");
  });
});
