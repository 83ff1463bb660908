// docs/security.md §22: name + value limit of 4096 bytes (RFC 6265bis §5.6; ASVS 5.0 V3.3.5).
// flagon counts the bytes the browser counts: the name plus the value *as sent*, i.e. after percent-encoding
// (always ASCII, so UTF-8 bytes = characters). A multi-byte character therefore costs 3 bytes per UTF-8 byte.
import { describe, expect, it } from "vitest";
import { CookieJar, MAX_COOKIE_BYTES, parseCookies, serializeCookie } from "../../src/cookie/index.js";
import { expectCookieError } from "../cookie/_helpers.js";

const identity = (value: string) => value;

describe("size limit", () => {
  it("is 4096 bytes", () => {
    expect(MAX_COOKIE_BYTES).toBe(4096);
  });

  it.each<[string, string, string]>([
    ["ASCII", "n", "x".repeat(4095)],
    ["a long name", "n".repeat(4000), "x".repeat(96)],
    // "é" is 2 UTF-8 bytes, sent as "%C3%A9" (6 bytes): 682 × 6 + 3 = 4095
    ["two-byte characters", "a", "é".repeat(682) + "xyz"],
    // "€" is 3 UTF-8 bytes, sent as 9: 455 × 9 = 4095
    ["three-byte characters", "a", "€".repeat(455)],
    // "😀" is 4 UTF-8 bytes, sent as 12: 341 × 12 + 3 = 4095
    ["four-byte characters", "a", "😀".repeat(341) + "xyz"],
  ])("name + value of exactly 4096 bytes (%s) is written whole", (_what, name, value) => {
    const header = serializeCookie(name, value);
    const pair = header.slice(0, header.indexOf("; "));
    expect(Buffer.byteLength(pair, "utf8")).toBe(4096 + 1); // plus the "="
    expect(parseCookies(header, { maxBytes: Number.POSITIVE_INFINITY })[name]).toBe(value);
  });

  it.each<[string, string, string]>([
    ["ASCII", "n", "x".repeat(4096)],
    ["a long name", "n".repeat(4001), "x".repeat(96)],
    ["two-byte characters", "a", "é".repeat(682) + "xyzw"],
    ["three-byte characters", "a", "€".repeat(455) + "x"],
    ["four-byte characters", "a", "😀".repeat(341) + "xyzw"],
    // 2048 "é" are 4096 UTF-8 bytes, but 12288 bytes once encoded: the browser would drop the cookie
    ["4096 UTF-8 bytes that grow when encoded", "a", "é".repeat(2047) + "x"],
  ])("name + value of 4097+ bytes (%s) throws ERR_COOKIE_TOO_LARGE", (_what, name, value) => {
    expectCookieError(() => serializeCookie(name, value), "ERR_COOKIE_TOO_LARGE");
  });

  it("counts the custom encoder's output", () => {
    expect(serializeCookie("n", "y".repeat(4095), { encode: identity })).toMatch(/^n=y{4095}; /);
    expectCookieError(
      () => serializeCookie("n", "y".repeat(4096), { encode: identity }),
      "ERR_COOKIE_TOO_LARGE",
    );
    expectCookieError(
      () => serializeCookie("n", "y", { encode: () => "z".repeat(4096) }),
      "ERR_COOKIE_TOO_LARGE",
    );
  });

  it("does not count attributes", () => {
    const header = serializeCookie("n", "x".repeat(4095), {
      domain: "example.com",
      path: "/a/b",
      secure: true,
    });
    expect(header.length).toBeGreaterThan(4096);
  });

  it("the jar refuses an oversized value at set time and never queues a truncated cookie", () => {
    const jar = new CookieJar("sid=from-request");
    jar.set("sid", "small");
    expectCookieError(() => jar.set("sid", "x".repeat(4094)), "ERR_COOKIE_TOO_LARGE");
    expectCookieError(() => jar.set("other", "é".repeat(700)), "ERR_COOKIE_TOO_LARGE");
    expect(jar.setCookieHeaders()).toEqual(["sid=small; Path=/; SameSite=Lax"]);
    expect(jar.get("sid")).toBe("small");
    expect(jar.has("other")).toBe(false);
  });
});
