import { describe, expect, it } from "vitest";
import { MAX_COOKIE_HEADER_BYTES, parseCookies } from "../../src/cookie/index.js";
import { ConfigError } from "../../src/errors.js";
import { thrownBy } from "./_helpers.js";

/** Plain-object copy, so expectations compare keys and values only. */
const plain = (record: Record<string, string>) => ({ ...record });

describe("parseCookies: cases from jshttp/cookie's parse suite", () => {
  // [what, header, expected]
  const cases: Array<[string, string, Record<string, string>]> = [
    ["a simple pair", "foo=bar", { foo: "bar" }],
    ["a numeric value stays a string", "foo=123", { foo: "123" }],
    ["optional whitespace around = and ;", "FOO    = bar;   baz  =   raz", { FOO: "bar", baz: "raz" }],
    ["an empty header", "", {}],
    ["a blank header", " \t ", {}],
    ["empty values", "foo=; bar=", { foo: "", bar: "" }],
    ["the shortest pair", "f=", { f: "" }],
    ["shortest pairs without spaces", "f=;b=", { f: "", b: "" }],
    [
      "quotes are part of the value",
      'foo="bar=123456789&name=Magic+Mouse"',
      { foo: '"bar=123456789&name=Magic+Mouse"' },
    ],
    ["percent-decoded values", "email=%20%22%2c%3b%2f", { email: ' ",;/' }],
    ["whitespace around a quoted value", '  foo  =  "bar"  ', { foo: '"bar"' }],
    ["whitespace around several pairs", "  foo  =  bar  ;  fizz  =  buzz  ", { foo: "bar", fizz: "buzz" }],
    ["spaces inside quotes are kept", ' foo = " a b c " ', { foo: '" a b c "' }],
    ["a name with only whitespace after =", " foo = ", { foo: "" }],
    ["tabs are trimmed like spaces", "\tfoo\t=\tbar\t", { foo: "bar" }],
    ["a bad escape keeps the raw value", "foo=%1;bar=bar", { foo: "%1", bar: "bar" }],
    ["pairs without = are skipped", "foo=bar;fizz  ;  buzz", { foo: "bar" }],
    ["a leading pair without = is skipped", "  fizz; foo=  bar", { foo: "bar" }],
    ["attribute-like flags are skipped", "foo=%1;bar=bar;HttpOnly;Secure", { foo: "%1", bar: "bar" }],
    ["first duplicate wins (raw escape)", "foo=%1;bar=bar;foo=boo", { foo: "%1", bar: "bar" }],
    ["first duplicate wins", "foo=false;bar=bar;foo=true", { foo: "false", bar: "bar" }],
    ["first duplicate wins even when empty", "foo=;bar=bar;foo=boo", { foo: "", bar: "bar" }],
    ["names of Object.prototype methods", "toString=foo;valueOf=bar", { toString: "foo", valueOf: "bar" }],
    [
      "a date with commas and spaces",
      "priority=true; expires=Wed, 29 Jan 2014 17:43:25 GMT; Path=/",
      { priority: "true", expires: "Wed, 29 Jan 2014 17:43:25 GMT", Path: "/" },
    ],
    ["missing and blank values", "foo; bar=1; fizz= ; buzz=2", { bar: "1", fizz: "", buzz: "2" }],
    // jshttp/cookie returns { "": "bar" } and { "": "" } here; flagon drops nameless pairs (CVE-2023-23934).
    ["a nameless pair is dropped", " = bar ", {}],
    ["a blank nameless pair is dropped", "   =   ", {}],
  ];

  it.each(cases)("%s: %j", (_what, header, expected) => {
    expect(plain(parseCookies(header))).toEqual(expected);
  });
});

describe("parseCookies: result shape", () => {
  it("returns a null-prototype record", () => {
    const cookies = parseCookies("a=1");
    expect(Object.getPrototypeOf(cookies)).toBeNull();
    expect(cookies.a).toBe("1");
  });

  it.each([
    ["null", null],
    ["undefined", undefined],
    ["an empty array", []],
    ["a number", 42],
    ["an object", { cookie: "a=1" }],
    ["an array of non-strings", [1, null, undefined, {}]],
  ])("returns an empty null-prototype record for %s", (_what, header) => {
    const cookies = parseCookies(header as unknown as string);
    expect(Object.keys(cookies)).toEqual([]);
    expect(Object.getPrototypeOf(cookies)).toBeNull();
  });

  it("returns a fresh record each time (callers may mutate it)", () => {
    const first = parseCookies("");
    first.injected = "x";
    expect(parseCookies("").injected).toBeUndefined();
  });

  it("joins several header fields with '; '", () => {
    expect(plain(parseCookies(["a=1", "b=2; c=3", "", "d=4"]))).toEqual({ a: "1", b: "2", c: "3", d: "4" });
  });

  it("keeps a pair without = in one field from swallowing the next field", () => {
    expect(plain(parseCookies(["junk", "sid=abc"]))).toEqual({ sid: "abc" });
  });
});

describe("parseCookies: header size cap", () => {
  // "k=" + value, padded to an exact length in UTF-16 code units
  const headerOfLength = (length: number) => "k=" + "v".repeat(length - 2);

  it("defaults to MAX_COOKIE_HEADER_BYTES = 8192", () => {
    expect(MAX_COOKIE_HEADER_BYTES).toBe(8192);
    expect(parseCookies(headerOfLength(8192)).k).toHaveLength(8190);
    expect(Object.keys(parseCookies(headerOfLength(8193)))).toEqual([]);
  });

  it("counts UTF-8 bytes, not UTF-16 code units", () => {
    // 8190 code units, but "é" takes two bytes: 8191 bytes in all
    const header = "k=" + "é" + "v".repeat(8187);
    expect(header.length).toBe(8190);
    expect(parseCookies(header, { maxBytes: 8191 }).k).toBeDefined();
    expect(Object.keys(parseCookies(header, { maxBytes: 8190 }))).toEqual([]);
  });

  it("counts several fields together, separators included", () => {
    const fields = ["a=" + "x".repeat(98), "b=" + "y".repeat(98)]; // 100 + "; " + 100
    expect(plain(parseCookies(fields, { maxBytes: 202 }))).toEqual({ a: "x".repeat(98), b: "y".repeat(98) });
    expect(Object.keys(parseCookies(fields, { maxBytes: 201 }))).toEqual([]);
  });

  it("can be raised or disabled", () => {
    const big = headerOfLength(100_000);
    expect(parseCookies(big, { maxBytes: 100_000 }).k).toHaveLength(99_998);
    expect(parseCookies(big, { maxBytes: Number.POSITIVE_INFINITY }).k).toHaveLength(99_998);
    expect(Object.keys(parseCookies(big, { maxBytes: 99_999 }))).toEqual([]);
  });

  it.each([[-1], [Number.NaN], ["8192"], [null]])("rejects maxBytes %j with ConfigError", (maxBytes) => {
    const error = thrownBy(() => parseCookies("a=1", { maxBytes: maxBytes as number }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe("ERR_INVALID_OPTION");
  });

  it("ignores an inherited maxBytes", () => {
    const options = Object.create({ maxBytes: 1 }) as { maxBytes?: number };
    expect(parseCookies("a=1", options).a).toBe("1");
  });
});
