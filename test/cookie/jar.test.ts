import { describe, expect, it } from "vitest";
import { CookieJar } from "../../src/cookie/index.js";
import { expectCookieError } from "./_helpers.js";

const DELETED = "=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT";

describe("CookieJar: reading the request", () => {
  it("reads the Cookie header", () => {
    const jar = new CookieJar("a=1; b=hello%20world");
    expect(jar.get("a")).toBe("1");
    expect(jar.get("b")).toBe("hello world");
    expect(jar.has("a")).toBe(true);
    expect(jar.has("missing")).toBe(false);
    expect(jar.get("missing")).toBeUndefined();
  });

  it.each([[undefined], [null], [""], [[]]])("starts empty from %j", (header) => {
    const jar = new CookieJar(header);
    expect(Object.keys(jar.all())).toEqual([]);
    expect(jar.setCookieHeaders()).toEqual([]);
  });

  it("reads several header fields", () => {
    const jar = new CookieJar(["a=1", "sid=abc"]);
    expect(jar.get("sid")).toBe("abc");
  });

  it("does not see inherited keys", () => {
    const jar = new CookieJar("a=1");
    expect(jar.get("toString")).toBeUndefined();
    expect(jar.has("__proto__")).toBe(false);
    expect(jar.has("constructor")).toBe(false);
  });

  it("applies the default 8 KiB header cap, and accepts another", () => {
    const header = "sid=" + "x".repeat(9000);
    expect(new CookieJar(header).has("sid")).toBe(false);
    expect(new CookieJar(header, { maxBytes: 10_000 }).get("sid")).toHaveLength(9000);
  });

  it("all() is a frozen null-prototype snapshot", () => {
    const jar = new CookieJar("a=1; b=2");
    const all = jar.all();
    expect(Object.getPrototypeOf(all)).toBeNull();
    expect(Object.isFrozen(all)).toBe(true);
    expect({ ...all }).toEqual({ a: "1", b: "2" });
    jar.set("c", "3");
    expect(all.c).toBeUndefined();
  });
});

describe("CookieJar: queueing Set-Cookie", () => {
  it("set() queues a serialized header and get() reflects the new value", () => {
    const jar = new CookieJar("theme=light");
    jar.set("theme", "dark mode", { httpOnly: true });
    expect(jar.get("theme")).toBe("dark mode");
    expect(jar.setCookieHeaders()).toEqual(["theme=dark%20mode; Path=/; HttpOnly; SameSite=Lax"]);
    expect({ ...jar.all() }).toEqual({ theme: "dark mode" });
  });

  it("delete() expires the cookie with the same Path and Domain, and get() no longer sees it", () => {
    const jar = new CookieJar("sid=abc; other=1");
    jar.delete("sid", { path: "/app", domain: "example.com" });
    expect(jar.get("sid")).toBeUndefined();
    expect(jar.has("sid")).toBe(false);
    expect({ ...jar.all() }).toEqual({ other: "1" });
    expect(jar.setCookieHeaders()).toEqual([`sid${DELETED}; Domain=example.com; Path=/app; SameSite=Lax`]);
  });

  it("delete() defaults to Path=/", () => {
    const jar = new CookieJar();
    jar.delete("sid");
    expect(jar.setCookieHeaders()).toEqual([`sid${DELETED}; Path=/; SameSite=Lax`]);
  });

  it.each([
    ["__Host-sid", `__Host-sid${DELETED}; Path=/; Secure; SameSite=Lax`],
    ["__Secure-sid", `__Secure-sid${DELETED}; Path=/; Secure; SameSite=Lax`],
    ["__host-sid", `__host-sid${DELETED}; Path=/; Secure; SameSite=Lax`],
  ])("delete(%s) adds Secure, which the prefix requires", (name, header) => {
    const jar = new CookieJar();
    jar.delete(name);
    expect(jar.setCookieHeaders()).toEqual([header]);
  });

  it("delete() keeps Secure, Partitioned and SameSite so the browser matches the partitioned cookie", () => {
    const jar = new CookieJar();
    jar.delete("embed", { secure: true, partitioned: true, sameSite: "none" });
    expect(jar.setCookieHeaders()).toEqual([`embed${DELETED}; Path=/; Secure; Partitioned; SameSite=None`]);
  });

  it("delete() ignores attributes it does not own and inherited ones", () => {
    const attributes = Object.create({ domain: "evil.example" }) as { path?: string };
    attributes.path = "/x";
    Object.assign(attributes, { maxAge: 999, httpOnly: true });
    const jar = new CookieJar();
    jar.delete("sid", attributes);
    expect(jar.setCookieHeaders()).toEqual([`sid${DELETED}; Path=/x; SameSite=Lax`]);
  });

  it("delete() of a __Host- cookie with a Domain throws", () => {
    const jar = new CookieJar();
    expectCookieError(() => jar.delete("__Host-sid", { domain: "example.com" }), "ERR_PREFIX_HOST");
    expect(jar.setCookieHeaders()).toEqual([]);
  });

  it("emits one header per name: the last set/delete wins", () => {
    const jar = new CookieJar("sid=old");
    jar.set("sid", "one");
    jar.set("flash", "x");
    jar.set("sid", "two");
    jar.delete("flash");
    jar.set("sid", "three", { maxAge: 60 });
    expect(jar.setCookieHeaders()).toEqual([
      "sid=three; Max-Age=60; Path=/; SameSite=Lax",
      `flash${DELETED}; Path=/; SameSite=Lax`,
    ]);
    expect(jar.get("sid")).toBe("three");
    expect(jar.has("flash")).toBe(false);
  });

  it("set() after delete() brings the cookie back", () => {
    const jar = new CookieJar("a=1");
    jar.delete("a");
    jar.set("a", "2");
    expect(jar.get("a")).toBe("2");
    expect(jar.setCookieHeaders()).toEqual(["a=2; Path=/; SameSite=Lax"]);
  });

  it("set() validates immediately and leaves the queue untouched when it throws", () => {
    const jar = new CookieJar("sid=request");
    jar.set("sid", "good");
    expectCookieError(() => jar.set("sid", "x".repeat(5000)), "ERR_COOKIE_TOO_LARGE");
    expectCookieError(() => jar.set("bad name", "v"), "ERR_COOKIE_NAME");
    expectCookieError(() => jar.set("__Host-sid", "v", { secure: false }), "ERR_PREFIX_HOST");
    expect(jar.get("sid")).toBe("good");
    expect(jar.setCookieHeaders()).toEqual(["sid=good; Path=/; SameSite=Lax"]);
  });

  it("returns a new array each time", () => {
    const jar = new CookieJar();
    jar.set("a", "1");
    const headers = jar.setCookieHeaders();
    headers.push("injected=1");
    expect(jar.setCookieHeaders()).toEqual(["a=1; Path=/; SameSite=Lax"]);
  });

  it("applyTo() appends each queued header as its own Set-Cookie field", () => {
    const jar = new CookieJar();
    jar.set("a", "1", { secure: true });
    jar.delete("b");
    const headers = new Headers({ "Content-Type": "text/plain" });
    headers.append("Set-Cookie", "unrelated=1; Path=/");
    jar.applyTo(headers);
    expect(headers.getSetCookie()).toEqual([
      "unrelated=1; Path=/",
      "a=1; Path=/; Secure; SameSite=Lax",
      `b${DELETED}; Path=/; SameSite=Lax`,
    ]);
    expect(headers.get("content-type")).toBe("text/plain");
  });
});
