// docs/security.md §20: cross-attribute rules; SameSite always present.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CookieAttributes, serializeCookie } from "../../src/cookie/index.js";
import { expectCookieError } from "../cookie/_helpers.js";

describe("cross-attribute rules", () => {
  it.each<[string, CookieAttributes, "ERR_COOKIE_SAMESITE" | "ERR_COOKIE_PARTITIONED"]>([
    ['sameSite "none" without secure', { sameSite: "none" }, "ERR_COOKIE_SAMESITE"],
    ['sameSite "none" with secure: false', { sameSite: "none", secure: false }, "ERR_COOKIE_SAMESITE"],
    [
      'sameSite "None" without secure',
      { sameSite: "None" as CookieAttributes["sameSite"] },
      "ERR_COOKIE_SAMESITE",
    ],
    ["partitioned without secure", { partitioned: true }, "ERR_COOKIE_PARTITIONED"],
    [
      "partitioned with secure: false",
      { partitioned: true, secure: false, sameSite: "lax" },
      "ERR_COOKIE_PARTITIONED",
    ],
    ['sameSite "bogus"', { sameSite: "bogus" as CookieAttributes["sameSite"] }, "ERR_COOKIE_SAMESITE"],
    [
      'sameSite "bogus" with secure',
      { sameSite: "bogus" as CookieAttributes["sameSite"], secure: true },
      "ERR_COOKIE_SAMESITE",
    ],
  ])("%s throws", (_what, attributes, code) => {
    expectCookieError(() => serializeCookie("c", "v", attributes), code);
  });

  it.each<[string, CookieAttributes, string]>([
    ['sameSite "none" with secure', { sameSite: "none", secure: true }, "c=v; Path=/; Secure; SameSite=None"],
    [
      "partitioned with secure",
      { partitioned: true, secure: true },
      "c=v; Path=/; Secure; Partitioned; SameSite=Lax",
    ],
    [
      "partitioned, none and secure",
      { partitioned: true, secure: true, sameSite: "none" },
      "c=v; Path=/; Secure; Partitioned; SameSite=None",
    ],
  ])("%s is written", (_what, attributes, header) => {
    expect(serializeCookie("c", "v", attributes)).toBe(header);
  });

  it("every valid combination of attributes has exactly one SameSite, and it is the last attribute", () => {
    const attributes = fc.record(
      {
        maxAge: fc.nat({ max: 10 ** 9 }),
        domain: fc.constantFrom("example.com", ".example.org", "localhost"),
        path: fc.constantFrom("/", "/app", "/a/b/"),
        secure: fc.boolean(),
        httpOnly: fc.boolean(),
        partitioned: fc.boolean(),
        sameSite: fc.constantFrom("lax", "strict", "none") as fc.Arbitrary<CookieAttributes["sameSite"]>,
        priority: fc.constantFrom("low", "medium", "high") as fc.Arbitrary<CookieAttributes["priority"]>,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(attributes, (attrs) => {
        const needsSecure = attrs.sameSite === "none" || attrs.partitioned === true;
        const fixed: CookieAttributes = needsSecure ? { ...attrs, secure: true } : attrs;
        const header = serializeCookie("c", "v", fixed);
        const sameSite = header.match(/; SameSite=(Lax|Strict|None)/g) ?? [];
        expect(sameSite).toHaveLength(1);
        expect(header.endsWith(sameSite[0] ?? "missing")).toBe(true);
        if (attrs.sameSite === undefined) expect(header.endsWith("; SameSite=Lax")).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
