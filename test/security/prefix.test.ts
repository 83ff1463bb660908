// docs/security.md §19: prefix rules on write (RFC 6265bis §4.1.3), checked against tough-cookie's strict jar.
import { CookieJar as ToughJar } from "tough-cookie";
import { describe, expect, it } from "vitest";
import { type CookieAttributes, serializeCookie } from "../../src/cookie/index.js";
import { CookieSerializeError } from "../../src/errors.js";
import { expectCookieError } from "../cookie/_helpers.js";

const strictJar = () => new ToughJar(undefined, { prefixSecurity: "strict", looseMode: false });
const ORIGIN = "https://app.example.com/";

describe("prefix rules on write", () => {
  it.each<[string, string, CookieAttributes, "ERR_PREFIX_HOST" | "ERR_PREFIX_SECURE"]>([
    ["__Host- with a domain", "__Host-x", { secure: true, domain: "example.com" }, "ERR_PREFIX_HOST"],
    ["__Host- with path /a", "__Host-x", { secure: true, path: "/a" }, "ERR_PREFIX_HOST"],
    ["__Host- with secure: false", "__Host-x", { secure: false }, "ERR_PREFIX_HOST"],
    ["__Host- without secure", "__Host-x", {}, "ERR_PREFIX_HOST"],
    ["__HOST- without secure", "__HOST-x", {}, "ERR_PREFIX_HOST"],
    ["__host- with a domain", "__host-x", { secure: true, domain: "example.com" }, "ERR_PREFIX_HOST"],
    ["__HoSt- with path /a", "__HoSt-x", { secure: true, path: "/a" }, "ERR_PREFIX_HOST"],
    ["__Secure- without secure", "__Secure-x", {}, "ERR_PREFIX_SECURE"],
    ["__secure- without secure", "__secure-x", {}, "ERR_PREFIX_SECURE"],
    [
      "__SECURE- with secure: false",
      "__SECURE-x",
      { secure: false, domain: "example.com" },
      "ERR_PREFIX_SECURE",
    ],
  ])("%s throws", (_what, name, attributes, code) => {
    const error = expectCookieError(() => serializeCookie(name, "v", attributes), code);
    expect(error).toBeInstanceOf(CookieSerializeError);
  });

  it.each<[string, string, CookieAttributes]>([
    ["__Host- with secure", "__Host-sid", { secure: true, httpOnly: true }],
    ["__Host- with an explicit path /", "__Host-sid", { secure: true, path: "/" }],
    ["__Host- partitioned", "__Host-embed", { secure: true, partitioned: true, sameSite: "none" }],
    [
      "__Secure- with a domain and path",
      "__Secure-pref",
      { secure: true, domain: "example.com", path: "/app" },
    ],
    ["__Secure- plain", "__Secure-pref", { secure: true }],
  ])("%s is written and stored by tough-cookie's strict jar", async (_what, name, attributes) => {
    const header = serializeCookie(name, "value", attributes);
    const jar = strictJar();
    const stored = await jar.setCookie(header, "https://app.example.com/app/page");
    expect(stored?.key).toBe(name);
    const cookies = await jar.getCookies("https://app.example.com/app/page");
    expect(cookies.map((cookie) => [cookie.key, cookie.value])).toEqual([[name, "value"]]);
  });

  it("tough-cookie's strict jar refuses what we refuse to write (the check is not vacuous)", async () => {
    const jar = strictJar();
    await expect(jar.setCookie("__Host-x=v; Path=/; Secure; Domain=example.com", ORIGIN)).rejects.toThrow();
    await expect(jar.setCookie("__Host-x=v; Path=/a; Secure", ORIGIN)).rejects.toThrow();
    await expect(jar.setCookie("__Secure-x=v; Path=/", ORIGIN)).rejects.toThrow();
    expect(await jar.getCookies(ORIGIN)).toEqual([]);
  });

  it("a prefix-lookalike that is not a prefix has no prefix rules", () => {
    expect(serializeCookie("%5F_Host-x", "v")).toBe("%5F_Host-x=v; Path=/; SameSite=Lax");
    expect(serializeCookie("_Host-x", "v")).toBe("_Host-x=v; Path=/; SameSite=Lax");
    expect(serializeCookie("x__Host-", "v")).toBe("x__Host-=v; Path=/; SameSite=Lax");
  });
});
