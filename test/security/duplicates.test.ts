// docs/security.md §25: duplicate names, first wins (the order browsers send: longest path, then oldest).
// The session-level half ("sid=<forged>; sid=<valid>") belongs to the session tests.
import { describe, expect, it } from "vitest";
import { CookieJar, parseCookies } from "../../src/cookie/index.js";

describe("duplicates: the first occurrence wins", () => {
  it('"sid=legit; other=x; sid=evil" → parse().sid === get("sid") === "legit"', () => {
    const header = "sid=legit; other=x; sid=evil";
    expect(parseCookies(header).sid).toBe("legit");
    expect(new CookieJar(header).get("sid")).toBe("legit");
  });

  it.each<[string, string | string[], string]>([
    ["three copies", "sid=1; sid=2; sid=3", "1"],
    ["an empty first value still wins", "sid=; sid=evil", ""],
    ["a bad escape first", "sid=%E0; sid=ok", "%E0"],
    ["with whitespace variations", " sid = legit ;sid=evil;\tsid\t=evil", "legit"],
    ["across header fields", ["sid=legit", "sid=evil"], "legit"],
    ["across fields after other cookies", ["a=1; sid=legit", "b=2", "sid=evil"], "legit"],
    ["after a nameless pair", "=sid=x; sid=legit; sid=evil", "legit"],
    ["after a pair without =", "sid; sid=legit; sid=evil", "legit"],
  ])("%s", (_what, header, expected) => {
    expect(parseCookies(header).sid).toBe(expected);
    expect(new CookieJar(header).get("sid")).toBe(expected);
  });

  it("names are case-sensitive: SID and sid are different cookies", () => {
    const cookies = parseCookies("SID=upper; sid=lower");
    expect(cookies.SID).toBe("upper");
    expect(cookies.sid).toBe("lower");
  });

  it("a look-alike name does not shadow the real one", () => {
    const cookies = parseCookies("sid =x; sid\u00a0=y; sid=legit");
    // "sid =x" trims to "sid" (SP is optional whitespace), so it is the first "sid"
    expect(cookies.sid).toBe("x");
    expect(cookies["sid\u00a0"]).toBe("y");
  });
});
