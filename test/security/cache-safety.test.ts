/**
 * docs/security.md §32 — cache safety (Flask CVE-2023-30861, CVE-2026-27205). Any response whose
 * content may depend on the session (read, written, touched, destroyed) carries `Vary: Cookie`; a
 * response that sets or clears the session cookie carries `Cache-Control: private, no-store`
 * (configurable); a route that never touches the session gets neither.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  cookieStore,
  createSessions,
  memoryStore,
  type Session,
  type SessionStore,
} from "../../src/index.js";
import { Browser, MINUTE, SECRET, T0, useClock } from "../session/harness.js";

afterEach(() => {
  vi.useRealTimers();
});

describe.each<[string, () => SessionStore]>([
  ["memoryStore", () => memoryStore()],
  ["cookieStore", () => cookieStore()],
])("cache safety with %s (property 32)", (_name, makeStore) => {
  async function loggedIn(options: object = {}) {
    const browser = new Browser(createSessions({ secret: SECRET, store: makeStore(), ...options }));
    await browser.request((s) => s.set("user", "alice"));
    return browser;
  }

  it.each<[string, (s: Session) => unknown]>([
    ["get", (s) => s.get("user")],
    ["has", (s) => s.has("user")],
    ["keys", (s) => s.keys()],
    ["toJSON", (s) => s.toJSON()],
    ["id", (s) => s.id],
    ["isNew", (s) => s.isNew],
    ["permanent", (s) => s.permanent],
    ["getFlashedMessages (none pending)", (s) => s.getFlashedMessages()],
    ["csrfToken (existing)", (s) => s.csrfToken()],
  ])("a read (%s) adds Vary: Cookie and nothing else", async (_what, read) => {
    const browser = await loggedIn();
    await browser.request((s) => s.csrfToken()); // so that csrfToken() below only reads
    const { headers } = await browser.request((s) => void read(s));
    expect(headers.get("vary")).toBe("Cookie");
    expect(headers.getSetCookie()).toEqual([]);
    expect(headers.get("cache-control")).toBeNull();
  });

  it.each<[string, (s: Session) => void]>([
    [
      "permanent = true",
      (s) => {
        s.permanent = true;
      },
    ],
    ["regenerate", (s) => s.regenerate()],
    ["destroy", (s) => s.destroy()],
  ])(
    "a write that sets or clears the cookie (%s) adds Vary and Cache-Control: private, no-store",
    async (_w, write) => {
      const browser = await loggedIn();
      const { headers } = await browser.request(write);
      expect(headers.getSetCookie()).toHaveLength(1);
      expect(headers.get("vary")).toBe("Cookie");
      expect(headers.get("cache-control")).toBe("private, no-store");
    },
  );

  it.each<[string, (s: Session) => void]>([
    ["set", (s) => s.set("n", 1)],
    ["flash", (s) => s.flash("hi")],
    ["clear", (s) => s.clear()],
  ])("a data write (%s) adds Vary; Cache-Control comes exactly with a Set-Cookie", async (_w, write) => {
    const browser = await loggedIn();
    const { headers } = await browser.request(write);
    expect(headers.get("vary")).toBe("Cookie");
    // A server store keeps the same id (no Set-Cookie); the cookie store re-sends (or, emptied, clears) it.
    const sent = headers.getSetCookie().length;
    expect(sent).toBe(makeStore().kind === "client" ? 1 : 0);
    expect(headers.get("cache-control")).toBe(sent === 1 ? "private, no-store" : null);
  });

  it("the first response of a new session (Set-Cookie) is marked private too", async () => {
    const browser = new Browser(createSessions({ secret: SECRET, store: makeStore() }));
    const { headers } = await browser.request((s) => s.set("a", 1));
    expect(headers.get("cache-control")).toBe("private, no-store");
    expect(headers.get("vary")).toBe("Cookie");
  });

  it("a rolling refresh (touch) is a Set-Cookie response: Vary and Cache-Control", async () => {
    const clock = useClock(T0);
    const browser = await loggedIn({ rolling: true });
    clock.advance(2 * MINUTE);
    const { headers } = await browser.request((s) => s.get("user"));
    expect(headers.getSetCookie()).toHaveLength(1);
    expect(headers.get("vary")).toBe("Cookie");
    expect(headers.get("cache-control")).toBe("private, no-store");
  });

  it("a route that never touches the session: no Vary, no Cache-Control, no Set-Cookie", async () => {
    const browser = await loggedIn();
    const { headers } = await browser.request(() => {});
    expect([...headers]).toEqual([]);
    const anonymous = new Browser(createSessions({ secret: SECRET, store: makeStore() }));
    expect([...(await anonymous.request(() => {})).headers]).toEqual([]);
  });

  it("cacheControl is configurable, or can be turned off", async () => {
    const custom = await loggedIn({ cacheControl: "private, max-age=0, must-revalidate" });
    expect((await custom.request((s) => s.regenerate())).headers.get("cache-control")).toBe(
      "private, max-age=0, must-revalidate",
    );
    const off = await loggedIn({ cacheControl: false });
    const { headers } = await off.request((s) => s.regenerate());
    expect(headers.getSetCookie()).toHaveLength(1);
    expect(headers.get("cache-control")).toBeNull();
    expect(headers.get("vary")).toBe("Cookie");
  });
});

describe("Vary is merged with what the application already set", () => {
  const sessions = createSessions({ secret: SECRET });
  const commitWith = async (vary: string | undefined) => {
    const session = await sessions.load({ headers: {} });
    session.get("a");
    const headers = new Headers(vary === undefined ? {} : { vary });
    await sessions.commit(session, headers);
    return headers.get("vary");
  };

  it.each([
    ["Accept-Encoding", "Accept-Encoding, Cookie"],
    ["accept-encoding, cookie", "accept-encoding, cookie"],
    ["Origin,COOKIE", "Origin,COOKIE"],
    ["*", "*"],
  ])("Vary: %s → %s", async (before, after) => {
    expect(await commitWith(before)).toBe(after);
  });
});
