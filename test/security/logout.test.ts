/**
 * docs/security.md §13 — logout invalidates on the server: destroy() deletes the record and
 * sends exactly one expiring Set-Cookie with the same name (prefix), Path and Domain; replaying the
 * pre-logout cookie yields an empty session (ASVS 3.3.1 / 7.4.1).
 */
import { describe, expect, it } from "vitest";
import { cookieStore, createSessions, memoryStore, storeKey } from "../../src/index.js";
import { Browser, parseSetCookie, recordingStore, SECRET } from "../session/harness.js";

const EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT";

describe("logout (property 13)", () => {
  it("https defaults: record deleted, one `__Host-sid=; Max-Age=0; Expires=<epoch>` with the login cookie's attributes", async () => {
    const store = recordingStore();
    const sessions = createSessions({ secret: SECRET, store });
    const browser = new Browser(sessions, true);
    let id = "";
    const login = await browser.request((s) => {
      s.regenerate();
      s.set("user", "alice");
      id = s.id;
    });
    const preLogout = browser.cookieHeader!;
    expect(await store.get(storeKey(id))).not.toBeNull();

    const logout = await browser.request((s) => s.destroy());
    expect(logout.setCookie).toEqual([
      `__Host-sid=; Max-Age=0; Expires=${EPOCH}; Path=/; HttpOnly; Secure; SameSite=Lax`,
    ]);
    const set = parseSetCookie(login.setCookie[0]!);
    const cleared = parseSetCookie(logout.setCookie[0]!);
    expect(cleared.name).toBe(set.name);
    expect(cleared.attributes.path).toBe(set.attributes.path);
    expect(cleared.attributes.domain).toBe(set.attributes.domain);
    expect(await store.get(storeKey(id))).toBeNull();
    expect(store.calls.filter((c) => c.op === "destroy").map((c) => c.key)).toContain(storeKey(id));
    expect(browser.jar.size).toBe(0);

    const replay = await sessions.load({ headers: { cookie: preLogout }, secure: true });
    expect(replay.isNew).toBe(true);
    expect(replay.get("user")).toBeUndefined();
  });

  it("a custom Path and Domain (so __Secure-) are repeated exactly on the clearing cookie", async () => {
    const sessions = createSessions({
      secret: SECRET,
      store: memoryStore(),
      cookie: { path: "/app", domain: "example.com", sameSite: "strict" },
    });
    const browser = new Browser(sessions, true);
    await browser.request((s) => s.set("user", "alice"));
    expect([...browser.jar.keys()]).toEqual(["__Secure-sid"]);
    const { setCookie } = await browser.request((s) => s.destroy());
    expect(setCookie).toEqual([
      `__Secure-sid=; Max-Age=0; Expires=${EPOCH}; Domain=example.com; Path=/app; HttpOnly; Secure; SameSite=Strict`,
    ]);
  });

  it("plain http development: `sid=; Max-Age=0; …` without Secure", async () => {
    const browser = new Browser(createSessions({ secret: SECRET }));
    await browser.request((s) => s.set("user", "alice"));
    const { setCookie } = await browser.request((s) => s.destroy());
    expect(setCookie).toEqual([`sid=; Max-Age=0; Expires=${EPOCH}; Path=/; HttpOnly; SameSite=Lax`]);
  });

  it("destroy on a request without a session cookie sends nothing", async () => {
    const browser = new Browser(createSessions({ secret: SECRET }));
    const { setCookie, headers } = await browser.request((s) => {
      s.set("a", 1);
      s.destroy();
    });
    expect(setCookie).toEqual([]);
    expect(headers.get("vary")).toBe("Cookie");
  });

  it("later writes in the logout request cannot undo it: set throws, the record stays deleted", async () => {
    const store = recordingStore();
    const sessions = createSessions({ secret: SECRET, store });
    const browser = new Browser(sessions);
    let id = "";
    await browser.request((s) => {
      s.set("user", "alice");
      id = s.id;
    });
    const preLogout = browser.cookieHeader!;
    const { setCookie } = await browser.request((s) => {
      s.destroy();
      expect(() => s.set("user", "alice")).toThrow(
        expect.objectContaining({ code: "ERR_SESSION_DESTROYED" }),
      );
      expect(() => s.regenerate()).toThrow(expect.objectContaining({ code: "ERR_SESSION_DESTROYED" }));
    });
    expect(setCookie).toHaveLength(1);
    expect(await store.get(storeKey(id))).toBeNull();
    expect((await sessions.load({ headers: { cookie: preLogout } })).get("user")).toBeUndefined();
  });

  it("cookie store: destroy clears the cookie the same way (the replay limit is property 14)", async () => {
    const browser = new Browser(createSessions({ secret: SECRET, store: cookieStore() }), true);
    await browser.request((s) => s.set("user", "alice"));
    const { setCookie } = await browser.request((s) => s.destroy());
    expect(setCookie).toEqual([
      `__Host-sid=; Max-Age=0; Expires=${EPOCH}; Path=/; HttpOnly; Secure; SameSite=Lax`,
    ]);
  });
});
