// docs/security.md §21: attribute injection through names, values, domains, paths, sameSite and priority
// (CVE-2024-47764, GHSA-26pp-8wgv-hjvm).
import { describe, expect, it } from "vitest";
import { type CookieAttributes, CookieJar, parseCookies, serializeCookie } from "../../src/cookie/index.js";
import type { FlagonErrorCode } from "../../src/errors.js";
import { expectCookieError } from "../cookie/_helpers.js";

const SCRIPT = "userName=<script>alert(1)</script>; Max-Age=2592000; a";
// Each contains a character that could end the pair or start a new attribute or header line.
const DELIMITERS = ["a;b", "a\rb", "a\nb", "a\0b", "a b", "a=b", "a\r\nSet-Cookie: evil=1"];
const identity = (value: string) => value;

type Case = [field: string, payload: string, attributes: CookieAttributes, code: FlagonErrorCode];

const cases: Case[] = [
  ...[...DELIMITERS, SCRIPT].map((payload): Case => ["name", payload, {}, "ERR_COOKIE_NAME"]),
  // "=" is a legal cookie-octet: after the first "=" the rest is value, so it cannot start an attribute (see below).
  ...[...DELIMITERS.filter((payload) => payload !== "a=b"), SCRIPT].map(
    (payload): Case => ["value (identity encode)", payload, { encode: identity }, "ERR_COOKIE_VALUE"],
  ),
  ...[...DELIMITERS.map((payload) => `${payload}.example.com`), "example.com; Path=/", SCRIPT].map(
    (payload): Case => ["domain", payload, { domain: payload }, "ERR_COOKIE_DOMAIN"],
  ),
  ...[...DELIMITERS.map((payload) => `/${payload}`), "/; Path=/sensitive-data", `/${SCRIPT}`].map(
    (payload): Case => ["path", payload, { path: payload }, "ERR_COOKIE_PATH"],
  ),
  ...[...DELIMITERS.map((payload) => `lax${payload}`), "lax; Secure", "Strict ", "none=1", SCRIPT].map(
    (payload): Case => [
      "sameSite",
      payload,
      { sameSite: payload as CookieAttributes["sameSite"] },
      "ERR_COOKIE_SAMESITE",
    ],
  ),
  ...[...DELIMITERS.map((payload) => `high${payload}`), "High; Secure", "low ", SCRIPT].map(
    (payload): Case => [
      "priority",
      payload,
      { priority: payload as CookieAttributes["priority"] },
      "ERR_COOKIE_PRIORITY",
    ],
  ),
];

describe("attribute injection", () => {
  it.each(cases)("%s %j throws", (field, payload, attributes, code) => {
    const name = field === "name" ? payload : "c";
    const value = field.startsWith("value") ? payload : "v";
    expectCookieError(() => serializeCookie(name, value, attributes), code);

    // Through the jar too: the refused cookie never reaches an emitted header.
    const jar = new CookieJar();
    jar.set("safe", "1");
    expectCookieError(() => jar.set(name, value, attributes), code);
    const headers = new Headers();
    jar.applyTo(headers);
    expect(headers.getSetCookie()).toEqual(["safe=1; Path=/; SameSite=Lax"]);
    expect(jar.setCookieHeaders().join("\n")).not.toContain(payload);
  });

  it.each([...DELIMITERS, SCRIPT])(
    "a value %j is percent-encoded by default and read back intact",
    (payload) => {
      const header = serializeCookie("c", payload, { httpOnly: true });
      expect(header).not.toContain(payload);
      expect(header).not.toMatch(/[\r\n\0]/);
      // The pair holds only cookie-octets, so it ends at the first "; " we wrote.
      expect(header.slice(0, header.indexOf("; "))).toMatch(
        /^c=[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/,
      );
      // The emitted attributes are exactly ours.
      expect(header.split("; ").slice(1)).toEqual(["Path=/", "HttpOnly", "SameSite=Lax"]);
      expect(parseCookies(header).c).toBe(payload);
    },
  );

  it("an identity-encoded value with '=' stays inside the value", () => {
    const header = serializeCookie("c", "a=b==", { encode: identity });
    expect(header).toBe("c=a=b==; Path=/; SameSite=Lax");
    expect(parseCookies(header).c).toBe("a=b==");
  });

  it("an Expires look-alike cannot inject text", () => {
    const fake = { toUTCString: () => "x; Domain=evil.example", getTime: () => 0 };
    expectCookieError(
      () => serializeCookie("c", "v", { expires: fake as unknown as Date }),
      "ERR_COOKIE_EXPIRES",
    );
  });
});
