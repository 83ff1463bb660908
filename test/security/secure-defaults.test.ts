/**
 * docs/security.md §18 — secure defaults. With no cookie options, the session cookie on https is
 * exactly `__Host-sid=<value>; Path=/; HttpOnly; Secure; SameSite=Lax`: no Domain, no Expires or
 * Max-Age (a browser-session cookie), and a name that does not fingerprint the stack. On plain
 * http (local development) the documented variant drops Secure and the __Host- prefix.
 */
import { CookieJar } from "tough-cookie";
import { describe, expect, it } from "vitest";
import { cookieStore, createSessions, memoryStore, type SessionStore } from "../../src/index.js";
import { SECRET } from "../session/harness.js";

const VALUE = "[A-Za-z0-9._-]+";

async function firstSetCookie(store: SessionStore, url: string, options: object = {}): Promise<string> {
  const sessions = createSessions({ secret: SECRET, store, ...options });
  const session = await sessions.load(new Request(url));
  session.set("user", "alice");
  const headers = new Headers();
  await sessions.commit(session, headers);
  const lines = headers.getSetCookie();
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe.each<[string, () => SessionStore]>([
  ["memoryStore", () => memoryStore()],
  ["cookieStore", () => cookieStore()],
])("secure defaults with %s (property 18)", (_name, makeStore) => {
  it("https: __Host-sid=…; Path=/; HttpOnly; Secure; SameSite=Lax — nothing more", async () => {
    const line = await firstSetCookie(makeStore(), "https://example.com/login");
    expect(line).toMatch(new RegExp(`^__Host-sid=${VALUE}; Path=/; HttpOnly; Secure; SameSite=Lax$`));
    expect(line).not.toMatch(/Domain=|Expires=|Max-Age=|Partitioned/i);
  });

  it("http://localhost (development): sid=…; Path=/; HttpOnly; SameSite=Lax — no Secure, no prefix", async () => {
    const line = await firstSetCookie(makeStore(), "http://localhost:3000/login");
    expect(line).toMatch(new RegExp(`^sid=${VALUE}; Path=/; HttpOnly; SameSite=Lax$`));
  });

  it("secure: true forces Secure and the prefix even when the request looks like http (TLS at a proxy)", async () => {
    const line = await firstSetCookie(makeStore(), "http://internal:8080/", { cookie: { secure: true } });
    expect(line).toMatch(new RegExp(`^__Host-sid=${VALUE}; Path=/; HttpOnly; Secure; SameSite=Lax$`));
  });

  it("a strict browser jar (tough-cookie, prefix rules enforced) stores it and sends it back", async () => {
    const store = makeStore();
    const sessions = createSessions({ secret: SECRET, store });
    const session = await sessions.load(new Request("https://example.com/"));
    session.set("user", "alice");
    const headers = new Headers();
    await sessions.commit(session, headers);
    const jar = new CookieJar(undefined, { prefixSecurity: "strict", rejectPublicSuffixes: true });
    await jar.setCookie(headers.getSetCookie()[0]!, "https://example.com/login");
    const cookie = await jar.getCookieString("https://example.com/account");
    expect(cookie).toMatch(/^__Host-sid=/);
    expect(await jar.getCookieString("http://example.com/account")).toBe(""); // never over http
    const again = await sessions.load(new Request("https://example.com/account", { headers: { cookie } }));
    expect(again.get("user")).toBe("alice");
  });
});

describe("defaults that are not the cookie line", () => {
  it("the name is not a framework fingerprint", async () => {
    const name = createSessions({ secret: SECRET }).cookieName(false);
    expect(name).toBe("sid");
    expect([
      "connect.sid",
      "PHPSESSID",
      "JSESSIONID",
      "ASP.NET_SessionId",
      "session",
      "rack.session",
      "laravel_session",
    ]).not.toContain(name);
  });

  it("the cookie store seals by default: the value reveals no data", async () => {
    const line = await firstSetCookie(cookieStore(), "https://example.com/");
    const value = line.split(";")[0]!.split("=")[1]!;
    const decoded = value
      .split(".")
      .map((part) => Buffer.from(part, "base64url").toString("latin1"))
      .join(" ");
    // Markers of at least four bytes: random ciphertext spells a two-byte `{"` in about one value in 500.
    expect(`${value} ${decoded}`).not.toMatch(/alice|user|"d":|"v":/);
  });

  it("server-side ids carry at least 256 bits and the cookie value is not the id itself", async () => {
    const sessions = createSessions({ secret: SECRET });
    const session = await sessions.load(new Request("https://example.com/"));
    session.set("a", 1);
    const headers = new Headers();
    await sessions.commit(session, headers);
    expect(Buffer.from(session.id, "base64url")).toHaveLength(32);
    expect(headers.getSetCookie()[0]).not.toContain(`=${session.id};`);
  });

  it("Secure-only options are refused at construction on an insecure cookie", () => {
    expect(() => createSessions({ secret: SECRET, cookie: { secure: false, sameSite: "none" } })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_OPTION" }),
    );
    expect(() => createSessions({ secret: SECRET, cookie: { secure: false, partitioned: true } })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_OPTION" }),
    );
  });
});
