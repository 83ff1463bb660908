import { afterEach, describe, expect, it, vi } from "vitest";
import { cookieStore, createSessions, type Session, type SessionEvent } from "../../src/index.js";
import {
  Browser,
  captureLogger,
  failingStore,
  MINUTE,
  SECRET,
  SessionStoreError,
  useClock,
} from "./harness.js";

afterEach(() => {
  vi.useRealTimers();
});

function degraded(options: { rolling?: boolean } = {}) {
  const store = failingStore();
  const events: SessionEvent[] = [];
  const log = captureLogger();
  const sessions = createSessions({
    secret: SECRET,
    store,
    logger: log.logger,
    onStoreUnavailable: "degrade",
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { store, events, log, browser: new Browser(sessions) };
}

describe('onStoreUnavailable: "degrade"', () => {
  it("gives the handler an empty, readable session with status unavailable and sends no cookie", async () => {
    const { store, browser, events } = degraded();
    await browser.request((session) => session.set("user", "leo"));
    const cookie = browser.sessionCookie;
    store.fail.get = true;
    events.length = 0;
    const { session, setCookie, headers } = await browser.request((s) => {
      expect(s.get("user")).toBeUndefined();
      expect(s.keys()).toEqual([]);
      expect(s.getFlashedMessages()).toEqual([]);
      s.csrfToken();
    });
    expect(session.status).toBe("unavailable");
    expect(setCookie).toEqual([]);
    expect(headers.get("vary")).toBe("Cookie");
    expect(browser.sessionCookie).toBe(cookie);
    expect(events.map((event) => event.type)).toEqual(["storeError", "load", "commit"]);
    expect(events[1]).toMatchObject({ type: "load", status: "unavailable", keyIndex: 0 });
    store.fail.get = false;
    expect((await browser.request()).session.get("user")).toBe("leo");
  });

  it.each([
    ["set", (s: Session) => s.set("user", "mallory")],
    ["flash", (s: Session) => s.flash("hi")],
    ["login", (s: Session) => s.login("mallory")],
    ["destroy", (s: Session) => s.destroy()],
  ])("fails a commit that would %s, as a store failure, and writes nothing", async (_name, write) => {
    const { store, browser } = degraded();
    await browser.request((session) => session.set("user", "leo"));
    const cookie = browser.sessionCookie;
    store.fail.get = true;
    const error = await browser.request(write).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect((error as SessionStoreError).code).toBe("ERR_STORE_UNAVAILABLE");
    store.fail.get = false;
    expect(browser.sessionCookie).toBe(cookie);
    expect((await browser.request()).session.get("user")).toBe("leo");
  });

  it("skips a rolling refresh the store refuses instead of failing the page", async () => {
    const clock = useClock();
    const { store, browser } = degraded({ rolling: true });
    await browser.request((session) => session.set("user", "leo"));
    clock.advance(5 * MINUTE);
    store.fail.apply = true;
    const { session } = await browser.request((s) => s.get("user"));
    expect(session.get("user")).toBe("leo");
    // A write the handler asked for still fails.
    await expect(browser.request((s) => s.set("n", 1))).rejects.toBeInstanceOf(SessionStoreError);
  });

  it("degrades a cookie session whose revocation check the store cannot answer", async () => {
    const clock = useClock();
    const revocations = failingStore();
    const sessions = createSessions({
      secret: SECRET,
      store: cookieStore(),
      revocations,
      revocationCheckInterval: 1,
      onStoreUnavailable: "degrade",
      logger: captureLogger().logger,
    });
    const browser = new Browser(sessions);
    await browser.request((session) => session.login("leo"));
    clock.advance(5_000);
    revocations.fail.get = true;
    const { session, setCookie } = await browser.request();
    expect(session.status).toBe("unavailable");
    expect(session.userId).toBeUndefined();
    expect(setCookie).toEqual([]);
    revocations.fail.get = false;
    clock.advance(5_000);
    expect((await browser.request()).session.userId).toBe("leo");
  });

  it('is off by default: "fail" rejects the load', async () => {
    const store = failingStore();
    const browser = new Browser(createSessions({ secret: SECRET, store, logger: captureLogger().logger }));
    await browser.request((session) => session.set("user", "leo"));
    store.fail.get = true;
    await expect(browser.request()).rejects.toBeInstanceOf(SessionStoreError);
  });

  it("refuses another value at construction", () => {
    expect(() => createSessions({ secret: SECRET, onStoreUnavailable: "ignore" as never })).toThrow(
      /onStoreUnavailable must be "fail" or "degrade"/,
    );
  });
});
