// docs/security.md §27: nameless and "="-less pairs (CVE-2023-23934: Werkzeug read "=__Host-sid=bad" as
// __Host-sid, and browsers let any site set a nameless cookie).
import { describe, expect, it } from "vitest";
import { CookieJar, parseCookies } from "../../src/cookie/index.js";

describe("nameless and =-less pairs", () => {
  it.each([
    ["=__Host-sid=bad"],
    ["__Host-sid"],
    [" = x"],
    ["="],
    ["=;="],
    ["; =x; "],
    ["\t=\t__Host-sid=bad"],
    ["=__Host-sid=bad; =__Host-sid=worse"],
    ["__Host-sid; =__Host-sid"],
  ])("%j → no __Host-sid and no empty-name key", (header) => {
    const cookies = parseCookies(header);
    expect(cookies["__Host-sid"]).toBeUndefined();
    expect(cookies[""]).toBeUndefined();
    expect(Object.keys(cookies)).toEqual([]);
    const jar = new CookieJar(header);
    expect(jar.has("__Host-sid")).toBe(false);
    expect(jar.has("")).toBe(false);
  });

  it("a real cookie after a nameless one is still read", () => {
    const cookies = parseCookies("=__Host-sid=bad; __Host-sid=good; flag; b=2");
    expect({ ...cookies }).toEqual({ "__Host-sid": "good", b: "2" });
  });

  it("a pair without = does not swallow the next pair", () => {
    expect({ ...parseCookies("__Host-sid ;sid=1") }).toEqual({ sid: "1" });
  });
});
