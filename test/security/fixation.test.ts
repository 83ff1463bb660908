/**
 * docs/security.md §12 — regenerate on login defeats session fixation (CVE-2022-25896,
 * CVE-2023-29019): the id changes, the old record is gone, and the pre-login cookie is worthless.
 */
import { describe, expect, it } from "vitest";
import { cookieStore, createSessions, storeKey } from "../../src/index.js";
import { Browser, recordingStore, SECRET } from "../session/harness.js";

describe("session fixation (property 12)", () => {
  it("login with regenerate(): new id B ≠ A, store.get(A) is null, replaying A is anonymous", async () => {
    const store = recordingStore();
    const sessions = createSessions({ secret: SECRET, store });
    const browser = new Browser(sessions);

    // Request 1: an anonymous visit that stores something (a CSRF token for the login form).
    let idA = "";
    await browser.request((s) => {
      s.csrfToken();
      s.set("theme", "dark");
      idA = s.id;
    });
    const cookieA = browser.cookieHeader!;
    expect(await store.get(storeKey(idA))).not.toBeNull();

    // Request 2: the login.
    let idB = "";
    const login = await browser.request((s) => {
      s.regenerate();
      s.set("user", "alice");
      idB = s.id;
    });
    expect(idB).not.toBe(idA);
    expect(login.setCookie).toHaveLength(1);
    expect(browser.cookieHeader).not.toBe(cookieA);
    expect(await store.get(storeKey(idA))).toBeNull();
    expect((await store.get(storeKey(idB)))?.data).toMatchObject({ user: "alice", theme: "dark" });

    // The attacker who planted (or stole) cookie A before login:
    const attacker = await sessions.load({ headers: { cookie: cookieA } });
    expect(attacker.isNew).toBe(true);
    expect(attacker.get("user")).toBeUndefined();
    expect(attacker.id).not.toBe(idA);
    expect(attacker.id).not.toBe(idB);

    // The victim stays logged in under B.
    expect((await sessions.load({ headers: { cookie: browser.cookieHeader! } })).get("user")).toBe("alice");
  });

  it("regenerating twice in one request stores only the last id and deletes the loaded one", async () => {
    const store = recordingStore();
    const browser = new Browser(createSessions({ secret: SECRET, store }));
    let idA = "";
    await browser.request((s) => {
      s.set("a", 1);
      idA = s.id;
    });
    let middle = "";
    let last = "";
    await browser.request((s) => {
      s.regenerate();
      middle = s.id;
      s.regenerate();
      last = s.id;
    });
    expect(store.keys.has(storeKey(middle))).toBe(false);
    expect(await store.get(storeKey(idA))).toBeNull();
    expect(await store.get(storeKey(last))).not.toBeNull();
  });

  it("a fixated id planted before the first visit cannot survive login either", async () => {
    const store = recordingStore();
    const sessions = createSessions({ secret: SECRET, store });
    // The attacker gets a real id from the site, then plants it in the victim's browser.
    const attacker = new Browser(sessions);
    await attacker.request((s) => s.set("lang", "en"));
    const victim = new Browser(sessions);
    victim.sessionCookie = attacker.sessionCookie;
    await victim.request((s) => {
      s.regenerate();
      s.set("user", "victim");
    });
    const { session } = await attacker.request((s) => s.get("user"));
    expect(session.get("user")).toBeUndefined();
    expect(session.isNew).toBe(true);
  });

  it("cookie store: regenerate issues a new cookie value carrying the same data", async () => {
    const browser = new Browser(createSessions({ secret: SECRET, store: cookieStore() }));
    await browser.request((s) => s.set("a", 1));
    const before = browser.sessionCookie;
    const { setCookie } = await browser.request((s) => {
      s.regenerate();
      s.set("user", "alice");
    });
    expect(setCookie).toHaveLength(1);
    expect(browser.sessionCookie).not.toBe(before);
    let data: unknown;
    await browser.request((s) => {
      data = s.toJSON();
    });
    expect(data).toEqual({ a: 1, user: "alice" });
  });
});
