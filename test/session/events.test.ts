import { afterEach, describe, expect, it, vi } from "vitest";
import {
  cookieStore,
  createSessions,
  memoryStore,
  type SessionEvent,
  type SessionsOptions,
} from "../../src/index.js";
import {
  Browser,
  captureLogger,
  DAY,
  failingStore,
  OLD_SECRET,
  parseSetCookie,
  SECRET,
  SessionStoreError,
  useClock,
} from "./harness.js";

/** Markers a leak check looks for in every event. */
const DATA_MARKER = "data-marker-7f3a";

function observed(options: SessionsOptions<Record<string, unknown>> = {}) {
  const events: SessionEvent[] = [];
  const sessions = createSessions({ secret: SECRET, ...options, onEvent: (event) => events.push(event) });
  return { sessions, events, browser: new Browser(sessions) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("onEvent", () => {
  it("reports a load per request with its status, the store read time and the key index", async () => {
    const { events, browser } = observed({ store: memoryStore() });
    await browser.request((session) => session.set("user", "leo"));
    expect(events[0]).toEqual({ type: "load", status: "new", store: undefined, keyIndex: undefined });
    events.length = 0;
    await browser.request((session) => session.get("user"));
    const load = events[0]!;
    expect(load).toMatchObject({ type: "load", status: "active", keyIndex: 0 });
    expect(load.type === "load" && load.store !== undefined && load.store.ms >= 0).toBe(true);
  });

  it("reports which secret verified the cookie, so rotation progress can be graphed", async () => {
    const old = new Browser(createSessions({ secret: OLD_SECRET, store: cookieStore() }));
    await old.request((session) => session.set("user", "leo"));
    const { sessions, events } = observed({ secret: [SECRET, OLD_SECRET], store: cookieStore() });
    const rotated = new Browser(sessions);
    rotated.jar.set(...([...old.jar][0] as [string, string]));
    await rotated.request((session) => session.get("user"));
    expect(events[0]).toEqual({ type: "load", status: "active", store: undefined, keyIndex: 1 });
    events.length = 0;
    // The response re-issued it under the current secret: the next load says 0.
    await rotated.request((session) => session.get("user"));
    expect(events[0]).toMatchObject({ status: "active", keyIndex: 0 });
  });

  it("reports invalid and expired cookies as statuses", async () => {
    const clock = useClock();
    const { events, browser } = observed({ store: cookieStore(), permanentLifetime: 60 });
    await browser.request((session) => session.set("user", "leo"));
    const good = browser.sessionCookie!;
    browser.sessionCookie = `${good.slice(0, -2)}xx`;
    events.length = 0;
    await browser.request();
    expect(events[0]).toMatchObject({ type: "load", status: "invalid", keyIndex: undefined });
    browser.sessionCookie = good;
    clock.advance(DAY);
    events.length = 0;
    await browser.request();
    expect(events[0]).toMatchObject({ type: "load", status: "expired" });
  });

  it("reports a commit with whether it wrote, the cookie's size and the store write time", async () => {
    const { events, browser } = observed({ store: memoryStore() });
    const { setCookie } = await browser.request((session) => session.set("user", "leo"));
    const commit = events.find((event) => event.type === "commit")!;
    const { name, value } = parseSetCookie(setCookie[0]!);
    expect(commit).toMatchObject({ type: "commit", wrote: true, cookieBytes: name.length + value.length });
    expect(commit.type === "commit" && commit.store !== undefined && commit.store.ms >= 0).toBe(true);
    events.length = 0;
    await browser.request((session) => session.get("user"));
    expect(events[1]).toEqual({ type: "commit", wrote: false, cookieBytes: 0, store: undefined });
  });

  it("reports a cookie store's commit as a write without store time", async () => {
    const { events, browser } = observed({ store: cookieStore() });
    const { setCookie } = await browser.request((session) => session.set("user", "leo"));
    const { name, value } = parseSetCookie(setCookie[0]!);
    expect(events[1]).toEqual({
      type: "commit",
      wrote: true,
      cookieBytes: name.length + value.length,
      store: undefined,
    });
  });

  it("reports a store failure once, with its code and operation, and no commit event", async () => {
    const store = failingStore();
    const { events, browser } = observed({ store, logger: captureLogger().logger });
    await browser.request((session) => session.set("user", "leo"));
    events.length = 0;
    store.fail.get = true;
    await expect(browser.request()).rejects.toBeInstanceOf(SessionStoreError);
    expect(events).toEqual([{ type: "storeError", code: "ERR_STORE_FAILED", operation: "read" }]);
    store.fail.get = false;
    store.fail.apply = true;
    events.length = 0;
    await expect(browser.request((session) => session.set("n", 1))).rejects.toBeInstanceOf(SessionStoreError);
    expect(events.map((event) => event.type)).toEqual(["load", "storeError"]);
    expect(events[1]).toEqual({ type: "storeError", code: "ERR_STORE_FAILED", operation: "write" });
  });

  it("never breaks a request when the listener throws, and reports that once", async () => {
    const log = captureLogger();
    let calls = 0;
    const sessions = createSessions({
      secret: SECRET,
      store: memoryStore(),
      logger: log.logger,
      onEvent: () => {
        calls++;
        throw new Error("metrics backend down");
      },
    });
    const browser = new Browser(sessions);
    await browser.request((session) => session.set("user", "leo"));
    const { session } = await browser.request();
    expect(session.get("user")).toBe("leo");
    expect(calls).toBe(4);
    const warnings = log.entries.filter((entry) => entry.message.includes("onEvent"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields).toMatchObject({ cause: "Error: metrics backend down" });
  });

  it("never carries a session id, a cookie value or session data", async () => {
    for (const store of [memoryStore(), cookieStore(), cookieStore({ encrypt: false })]) {
      const { events, browser } = observed({ store });
      const ids: string[] = [];
      await browser.request((session) => {
        session.set("secret", DATA_MARKER);
        session.flash(`${DATA_MARKER} flash`);
        session.login("user-marker-91c2", { device: DATA_MARKER });
        ids.push(session.id, session.ref);
      });
      const cookie = browser.sessionCookie!;
      await browser.request((session) => {
        ids.push(session.id);
        session.getFlashedMessages();
        session.regenerate();
        ids.push(session.id);
      });
      await browser.request((session) => session.destroy());
      expect(events.length).toBeGreaterThanOrEqual(6);
      const text = JSON.stringify(events);
      for (const marker of [DATA_MARKER, "user-marker-91c2", cookie, cookie.slice(10, 40), ...ids]) {
        expect(text).not.toContain(marker);
      }
    }
  });

  it("is not called, and adds no work, when onEvent is not set", async () => {
    const sessions = createSessions({ secret: SECRET, store: memoryStore() });
    // The core hands back its own load: no wrapper (and so no timing) without a listener.
    expect(sessions.load.name).toBe("load");
    const observedCore = createSessions({ secret: SECRET, store: memoryStore(), onEvent: () => {} });
    expect(observedCore.load.name).toBe("loadObserved");
  });

  it("refuses an onEvent that is not a function at construction", () => {
    expect(() => createSessions({ secret: SECRET, onEvent: "log" as never })).toThrow(
      /onEvent must be a function/,
    );
  });
});
