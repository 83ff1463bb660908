// docs/security.md §31: round trip. parse(serialize(n, v))[n] === v for valid names and any Unicode value, and
// a real cookie jar (tough-cookie, strict) stores what we emit and replays it as a Cookie header we read back.
import fc from "fast-check";
import { CookieJar as ToughJar } from "tough-cookie";
import { describe, expect, it } from "vitest";
import { CookieJar, parseCookies, serializeCookie } from "../../src/cookie/index.js";

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const nameArbitrary = fc.oneof(
  fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 32 }),
  fc.constantFrom(
    "sid",
    "__Host-sid",
    "__Secure-sid",
    "__proto__",
    "constructor",
    "Path",
    "Max-Age",
    "%5F_Host-x",
  ),
);
const valueArbitrary = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ unit: "grapheme", maxLength: 50 }),
  fc.string({ unit: "binary-ascii", maxLength: 200 }),
  fc.constantFrom("", " ", "%", "%20", "a=b; c=d", '"quoted"', "\u00a0", "\0"),
);

describe("round trip", () => {
  it("parseCookies(serializeCookie(n, v))[n] === v", () => {
    fc.assert(
      fc.property(nameArbitrary, valueArbitrary, (name, value) => {
        const header = serializeCookie(name, value, { secure: true });
        expect(parseCookies(header)[name]).toBe(value);
      }),
      { numRuns: 1000 },
    );
  });

  it("the same holds for several cookies sent back together", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(nameArbitrary, valueArbitrary), { selector: ([name]) => name, maxLength: 8 }),
        (pairs) => {
          const cookieHeader = pairs
            .map(([name, value]) => serializeCookie(name, value, { secure: true }).split("; ")[0])
            .join("; ");
          const cookies = parseCookies(cookieHeader, { maxBytes: Number.POSITIVE_INFINITY });
          expect(Object.keys(cookies).sort()).toEqual(pairs.map(([name]) => name).sort());
          for (const [name, value] of pairs) expect(cookies[name]).toBe(value);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("tough-cookie's strict jar stores every Set-Cookie and replays a Cookie header that reads back the same", async () => {
    await fc.assert(
      fc.asyncProperty(nameArbitrary, valueArbitrary, fc.boolean(), async (name, value, httpOnly) => {
        const url = "https://app.example.com/account";
        const jar = new ToughJar(undefined, { prefixSecurity: "strict", looseMode: false });
        const stored = await jar.setCookie(serializeCookie(name, value, { secure: true, httpOnly }), url);
        expect(stored?.key).toBe(name);
        const cookieHeader = await jar.getCookieString(url);
        expect(parseCookies(cookieHeader)[name]).toBe(value);
      }),
      { numRuns: 300 },
    );
  });

  it("a CookieJar's headers, replayed by tough-cookie, load into the next request's CookieJar", async () => {
    const url = "https://app.example.com/";
    const browser = new ToughJar(undefined, { prefixSecurity: "strict", looseMode: false });

    const first = new CookieJar();
    first.set("__Host-sid", "session id/1", { secure: true, httpOnly: true });
    first.set("theme", "dark ☾", { maxAge: 3600, sameSite: "strict" });
    first.set("gone", "x");
    for (const header of first.setCookieHeaders()) await browser.setCookie(header, url);

    const second = new CookieJar(await browser.getCookieString(url));
    expect({ ...second.all() }).toEqual({ "__Host-sid": "session id/1", theme: "dark ☾", gone: "x" });

    second.delete("gone");
    second.set("theme", "light");
    for (const header of second.setCookieHeaders()) await browser.setCookie(header, url);

    const third = new CookieJar(await browser.getCookieString(url));
    expect({ ...third.all() }).toEqual({ "__Host-sid": "session id/1", theme: "light" });
  });
});
