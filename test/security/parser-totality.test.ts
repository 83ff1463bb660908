// docs/security.md §24: parser totality and prototype safety (js-cookie CVE-2026-46625 class).
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { type CookieAttributes, CookieJar, parseCookies, serializeCookie } from "../../src/cookie/index.js";
import { CookieError } from "../../src/errors.js";

const PIECES = [
  "__proto__=",
  "__proto__",
  "constructor=",
  "prototype=",
  "polluted=",
  "__proto__[polluted]=1",
  "constructor.prototype.polluted=1",
  "toString=",
  "hasOwnProperty=",
  "=",
  ";",
  "; ",
  " ",
  "\t",
  "\u00a0",
  "\u2000",
  "\ufeff",
  "%",
  "%E0%A4%A",
  "%00",
  "%ZZ",
  '"',
  "\\",
  "\0",
  "\r\n",
  ",",
  "\ud800",
  "\udfff",
  "__Host-sid=",
];

const headerArbitrary = fc
  .array(
    fc.oneof(
      fc.constantFrom(...PIECES),
      fc.string({ unit: "binary", maxLength: 64 }),
      fc.string({ unit: "binary-ascii", maxLength: 64 }),
      fc.string({ unit: "grapheme", maxLength: 16 }),
      fc.string({ unit: "grapheme-ascii", minLength: 512, maxLength: 4096 }),
    ),
    { maxLength: 200 },
  )
  .map((parts) => parts.join("").slice(0, 8192));

const objectPrototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

function expectPrototypesClean(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(objectPrototypeKeys);
}

describe("parser totality and prototype safety", () => {
  it("parseCookies never throws and returns a clean null-prototype record for any header up to 8 KiB", () => {
    fc.assert(
      fc.property(fc.oneof(headerArbitrary, fc.array(headerArbitrary, { maxLength: 3 })), (header) => {
        const cookies = parseCookies(header, { maxBytes: Number.POSITIVE_INFINITY });
        expect(Object.getPrototypeOf(cookies)).toBeNull();
        const joined = Array.isArray(header) ? header.join("; ") : header;
        for (const name of Object.keys(cookies)) {
          expect(name).not.toBe("");
          expect(typeof cookies[name]).toBe("string");
          // Names are taken verbatim from the header, never decoded.
          expect(joined).toContain(name);
        }
        // Every key is an own, enumerable data property: nothing reached a prototype.
        for (const name of Reflect.ownKeys(cookies)) {
          expect(Object.getOwnPropertyDescriptor(cookies, name)?.enumerable).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
    expectPrototypesClean();
  });

  it.each([
    ["__proto__=x", "__proto__", "x"],
    ["__proto__=%7B%22polluted%22%3A1%7D", "__proto__", '{"polluted":1}'],
    ["constructor=x; prototype=y", "constructor", "x"],
    ["hasOwnProperty=1; valueOf=2", "hasOwnProperty", "1"],
  ])("%j is an ordinary key", (header, name, value) => {
    const cookies = parseCookies(header);
    expect(Object.getPrototypeOf(cookies)).toBeNull();
    expect(Object.hasOwn(cookies, name)).toBe(true);
    expect(cookies[name]).toBe(value);
    expectPrototypesClean();
  });

  it("a record without those keys has nothing inherited", () => {
    const cookies = parseCookies("a=1");
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"]) {
      expect(cookies[name]).toBeUndefined();
      expect(name in cookies).toBe(false);
    }
  });

  it("the jar never reports inherited keys", () => {
    const jar = new CookieJar("__proto__=x");
    expect(jar.get("__proto__")).toBe("x");
    expect(jar.get("constructor")).toBeUndefined();
    const all = jar.all();
    expect(Object.getPrototypeOf(all)).toBeNull();
    expect(Object.keys(all)).toEqual(["__proto__"]);
    expect(Object.getOwnPropertyDescriptor(all, "__proto__")?.value).toBe("x");
  });
});

describe("options merging ignores inherited and __proto__ keys", () => {
  afterEach(() => {
    for (const key of ["domain", "secure", "path", "maxBytes", "sameSite"]) {
      delete (Object.prototype as Record<string, unknown>)[key];
    }
  });

  it("serializeCookie reads own attributes only (JSON __proto__ key, inherited attributes)", () => {
    const fromJson = JSON.parse(
      '{"__proto__": {"domain": "evil.example", "sameSite": "none"}, "httpOnly": true}',
    );
    expect(serializeCookie("c", "v", fromJson)).toBe("c=v; Path=/; HttpOnly; SameSite=Lax");

    const inherited = Object.create({
      domain: "evil.example",
      path: "/evil",
      secure: true,
    }) as CookieAttributes;
    inherited.httpOnly = true;
    expect(serializeCookie("c", "v", inherited)).toBe("c=v; Path=/; HttpOnly; SameSite=Lax");
  });

  it("a polluted Object.prototype changes nothing in written cookies or parsing", () => {
    Object.assign(Object.prototype, { domain: "evil.example", path: "/evil", secure: true, maxBytes: 1 });
    expect(serializeCookie("c", "v", {})).toBe("c=v; Path=/; SameSite=Lax");
    expect(parseCookies("a=1", {}).a).toBe("1");
    const jar = new CookieJar("a=1", {});
    jar.delete("sid", {});
    expect(jar.setCookieHeaders()).toEqual([
      "sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; SameSite=Lax",
    ]);
  });

  it("serializeCookie either returns a header or throws CookieError, for any attribute values", () => {
    const anyAttributes = fc.record(
      {
        maxAge: fc.anything(),
        expires: fc.oneof(fc.date({ noInvalidDate: false }), fc.anything()),
        domain: fc.oneof(fc.domain(), fc.anything()),
        path: fc.oneof(fc.webPath(), fc.anything()),
        secure: fc.anything(),
        httpOnly: fc.anything(),
        partitioned: fc.anything(),
        sameSite: fc.oneof(fc.constantFrom("lax", "strict", "none", "LAX"), fc.anything()),
        priority: fc.oneof(fc.constantFrom("low", "medium", "high"), fc.anything()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.string(), fc.string({ unit: "binary" }), anyAttributes, (name, value, attributes) => {
        try {
          const header = serializeCookie(name, value, attributes as CookieAttributes);
          expect(header).toMatch(/^[\x21-\x7e][\x20-\x7e]*$/);
        } catch (error) {
          expect(error).toBeInstanceOf(CookieError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
