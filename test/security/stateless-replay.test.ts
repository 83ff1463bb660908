/**
 * docs/security.md §14 — the replay bound of stateless (cookie-store) sessions: a cookie saved
 * before logout is accepted until the expiry sealed inside it, then rejected (CVE-2024-31999; ASVS
 * V7.4.1). Logout cannot revoke a cookie the server does not remember; docs/sessions.md says so.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { cookieStore, createSessions } from "../../src/index.js";
import { Browser, DAY, HOUR, MINUTE, SECOND, SECRET, T0, useClock } from "../session/harness.js";

afterEach(() => {
  vi.useRealTimers();
});

describe.each([
  ["sealed", () => cookieStore()],
  ["signed", () => cookieStore({ encrypt: false })],
])("stateless replay bound, %s cookie (property 14)", (_name, makeStore) => {
  it("with absoluteTimeout: the stolen cookie works after logout until createdAt + 8h, not a second longer", async () => {
    const clock = useClock(T0);
    const sessions = createSessions({ secret: SECRET, store: makeStore(), absoluteTimeout: 8 * 3600 });
    const user = new Browser(sessions);
    await user.request((s) => s.set("user", "alice"));
    const stolen = user.cookieHeader!;

    clock.advance(MINUTE);
    const logout = await user.request((s) => s.destroy());
    expect(logout.setCookie[0]).toMatch(/Max-Age=0/);

    // The documented limitation: the server cannot tell this copy was logged out.
    clock.set(T0 + 8 * HOUR - SECOND);
    expect((await sessions.load({ headers: { cookie: stolen } })).get("user")).toBe("alice");

    clock.set(T0 + 8 * HOUR + SECOND);
    const late = await sessions.load({ headers: { cookie: stolen } });
    expect(late.isNew).toBe(true);
    expect(late.get("user")).toBeUndefined();
  });

  it("without timeouts the bound is the sealed server-side lifetime (permanentLifetime, 31 days)", async () => {
    const clock = useClock(T0);
    const sessions = createSessions({ secret: SECRET, store: makeStore() });
    const user = new Browser(sessions);
    await user.request((s) => s.set("user", "alice"));
    const stolen = user.cookieHeader!;
    clock.set(T0 + 31 * DAY - SECOND);
    expect((await sessions.load({ headers: { cookie: stolen } })).get("user")).toBe("alice");
    clock.set(T0 + 31 * DAY + SECOND);
    expect((await sessions.load({ headers: { cookie: stolen } })).isNew).toBe(true);
  });

  it("with idleTimeout: an old copy dies after the idle time even while the real user stays active", async () => {
    const clock = useClock(T0);
    const sessions = createSessions({ secret: SECRET, store: makeStore(), idleTimeout: 30 * 60 });
    const user = new Browser(sessions);
    await user.request((s) => s.set("user", "alice"));
    const stolen = user.cookieHeader!;
    for (let minute = 10; minute <= 40; minute += 10) {
      clock.set(T0 + minute * MINUTE);
      const { session } = await user.request((s) => s.get("user"));
      expect(session.get("user")).toBe("alice");
    }
    // 40 minutes after it was issued, the stolen copy is idle-expired; the user's current cookie is not.
    expect((await sessions.load({ headers: { cookie: stolen } })).isNew).toBe(true);
    expect((await sessions.load({ headers: { cookie: user.cookieHeader! } })).get("user")).toBe("alice");
  });

  it("the embedded times cannot be edited: a signed payload with a later expiry is rejected", async () => {
    useClock(T0);
    const sessions = createSessions({
      secret: SECRET,
      store: cookieStore({ encrypt: false }),
      absoluteTimeout: 60,
    });
    const user = new Browser(sessions);
    await user.request((s) => s.set("user", "alice"));
    const value = user.sessionCookie!;
    // v1.<iat>.<exp>.<payload>.<mac>: push the payload's expiry and the exp segment a year ahead.
    const [version, iat, exp, payload, mac] = value.split(".");
    const json = JSON.parse(Buffer.from(payload!, "base64url").toString()) as { e: number; d: unknown };
    expect(json.d).toEqual({ user: "alice" }); // readable, as documented for encrypt: false
    const unchanged = [version, iat, exp, Buffer.from(JSON.stringify(json)).toString("base64url"), mac].join(
      ".",
    );
    expect((await sessions.load({ headers: { cookie: `sid=${unchanged}` } })).get("user")).toBe("alice");
    json.e += 365 * DAY;
    const later = (Number.parseInt(exp!, 36) + 365 * DAY).toString(36);
    const forged = [version, iat, later, Buffer.from(JSON.stringify(json)).toString("base64url"), mac].join(
      ".",
    );
    vi.setSystemTime(T0 + 2 * MINUTE);
    expect((await sessions.load({ headers: { cookie: `sid=${forged}` } })).isNew).toBe(true);
  });
});
