/**
 * `readCookie` (the session layer's one-cookie read) answers exactly what `parseCookies` would, on
 * any header: the same first-of-duplicates, trimming, decoding, nameless-pair and size-cap rules.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCookies, readCookie } from "../../src/cookie/parse.js";

const piece = fc.constantFrom(
  "sid",
  "__Host-sid",
  " sid",
  "sid ",
  "=",
  ";",
  "; ",
  " ",
  "\t",
  '"',
  "%",
  "%2",
  "%41",
  "a",
  "v1.x",
  "\u00a0",
  "é",
  ",",
);
const header = fc.array(piece, { maxLength: 24 }).map((parts) => parts.join(""));
const name = fc.constantFrom("sid", "__Host-sid", "a", "", " sid", "__proto__", "toString");

describe("readCookie", () => {
  it("agrees with parseCookies on any header, name and size cap", () => {
    fc.assert(
      fc.property(
        fc.oneof(header, fc.array(header, { maxLength: 3 })),
        name,
        fc.constantFrom(0, 5, 16, 8192, Number.POSITIVE_INFINITY),
        (input, cookieName, maxBytes) => {
          expect(readCookie(input, cookieName, maxBytes)).toBe(parseCookies(input, { maxBytes })[cookieName]);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it.each([
    ["sid=a; sid=b", "sid", "a"],
    ["x=1; sid=%41", "sid", "A"],
    ["sid=%E0%A4%A", "sid", "%E0%A4%A"],
    ["=sid=x", "sid", undefined],
    ["toString=1", "toString", "1"],
    ["a=1", "toString", undefined],
  ])("%j → %s = %j", (input, cookieName, expected) => {
    expect(readCookie(input, cookieName, 8192)).toBe(expected);
  });
});
