// docs/security.md §26: only SP and HTAB are trimmed around names and values (CVE-2026-39410; "Cookie Chaos":
// a parser that strips Unicode whitespace lets a cookie named "\u2000__Host-sid", which any subdomain can set,
// pass for the prefixed one).
import { describe, expect, it } from "vitest";
import { CookieJar, parseCookies } from "../../src/cookie/index.js";

// Whitespace by JavaScript's String.prototype.trim, Python's str.strip or Unicode, but not SP/HTAB.
const OTHER_WHITESPACE = [
  "\u00a0",
  "\u1680",
  "\u2000",
  "\u2001",
  "\u2002",
  "\u2003",
  "\u2004",
  "\u2005",
  "\u2006",
  "\u2007",
  "\u2008",
  "\u2009",
  "\u200a",
  "\u2028",
  "\u2029",
  "\u202f",
  "\u205f",
  "\u3000",
  "\ufeff",
  "\u0085",
  "\u000b",
  "\u000c",
  "\r",
  "\n",
  "\u001c",
  "\u001f",
];
const show = (text: string) => JSON.stringify(text);

describe("whitespace discipline", () => {
  it('"\\u00a0sid=evil; sid=good" → sid === "good"', () => {
    expect(parseCookies("\u00a0sid=evil; sid=good").sid).toBe("good");
  });

  it('"\\u2000__Host-sid=evil" is never returned for __Host-sid', () => {
    expect(parseCookies("\u2000__Host-sid=evil")["__Host-sid"]).toBeUndefined();
    expect(parseCookies("\u2000__Host-sid=evil; __Host-sid=real")["__Host-sid"]).toBe("real");
    expect(new CookieJar("\u2000__Host-sid=evil").has("__Host-sid")).toBe(false);
  });

  it('"\\tsid\\t=\\tv\\t" → sid === "v"', () => {
    expect(parseCookies("\tsid\t=\tv\t").sid).toBe("v");
  });

  it.each(OTHER_WHITESPACE.map((space) => [show(space), space]))(
    "%s before or after the name does not make it __Host-sid",
    (_label, space) => {
      for (const header of [
        `${space}__Host-sid=evil`,
        `__Host-sid${space}=evil`,
        ` ${space} __Host-sid=evil`,
        `a=1;${space}__Host-sid=evil`,
      ]) {
        const cookies = parseCookies(header);
        expect(cookies["__Host-sid"]).toBeUndefined();
      }
    },
  );

  it.each(OTHER_WHITESPACE.map((space) => [show(space), space]))(
    "%s around a value is kept (only SP/HTAB are optional whitespace)",
    (_label, space) => {
      expect(parseCookies(`v=${space}x${space}`).v).toBe(`${space}x${space}`);
    },
  );

  it.each([
    ["spaces", "  sid  =  v  ", "v"],
    ["tabs", "\t\tsid\t\t=\t\tv\t\t", "v"],
    ["mixed", " \t sid \t = \t v \t ", "v"],
    ["inner spaces are kept", "sid=a b", "a b"],
  ])("SP/HTAB: %s", (_what, header, value) => {
    expect(parseCookies(header).sid).toBe(value);
  });
});
