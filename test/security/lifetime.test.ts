// docs/security.md §23: lifetime limits. Chosen behaviour: maxAge above 400 days is CLAMPED to 400 days
// (34_560_000 s), which is what browsers do anyway (RFC 6265bis §5.6.2); invalid numbers throw.
import { describe, expect, it } from "vitest";
import { MAX_COOKIE_LIFETIME_SECONDS, serializeCookie } from "../../src/cookie/index.js";
import { expectCookieError } from "../cookie/_helpers.js";

describe("lifetime limits", () => {
  it("400 days is 34_560_000 seconds", () => {
    expect(MAX_COOKIE_LIFETIME_SECONDS).toBe(34_560_000);
  });

  it.each([
    [3.5],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    [Number.NEGATIVE_INFINITY],
    [-0.5],
    [-1],
    [Number.MIN_SAFE_INTEGER],
    [Number.EPSILON],
    ["60"],
    [null],
    [60n],
  ])("maxAge %s throws ERR_COOKIE_MAX_AGE", (maxAge) => {
    expectCookieError(() => serializeCookie("c", "v", { maxAge: maxAge as number }), "ERR_COOKIE_MAX_AGE");
  });

  it.each([
    [0, 0],
    [-0, 0],
    [1, 1],
    [31 * 86_400, 2_678_400],
    [34_560_000, 34_560_000],
    [34_560_001, 34_560_000],
    [10 * 365 * 86_400, 34_560_000],
    [Number.MAX_SAFE_INTEGER, 34_560_000],
    [1e21, 34_560_000],
  ])("maxAge %s is written as Max-Age=%s", (maxAge, written) => {
    expect(serializeCookie("c", "v", { maxAge })).toBe(`c=v; Max-Age=${written}; Path=/; SameSite=Lax`);
  });

  it.each([
    ["an invalid Date", new Date(Number.NaN)],
    ["a year before 1601", new Date(Date.UTC(1500, 0, 1))],
    ["a year after 9999", new Date(Date.UTC(10_000, 0, 1))],
    ["a string", "Thu, 01 Jan 2037 00:00:00 GMT"],
    ["a number", Date.UTC(2037, 0, 1)],
  ])("expires as %s throws ERR_COOKIE_EXPIRES", (_what, expires) => {
    expectCookieError(() => serializeCookie("c", "v", { expires: expires as Date }), "ERR_COOKIE_EXPIRES");
  });

  it("expires is written as given (browsers cap it at 400 days themselves)", () => {
    const expires = new Date(Date.UTC(2099, 11, 31, 23, 59, 59));
    expect(serializeCookie("c", "v", { expires })).toBe(
      "c=v; Expires=Thu, 31 Dec 2099 23:59:59 GMT; Path=/; SameSite=Lax",
    );
  });
});
