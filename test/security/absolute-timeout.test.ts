/**
 * docs/security.md §16 — absolute timeout, with a fake clock. absoluteTimeout 8 h, activity every
 * 10 min, rolling on: at createdAt + 8 h + 1 s the session is expired although it is active, and no
 * refresh (rolling re-issue, write, permanent Max-Age) ever reaches past createdAt + 8 h.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { cookieStore, createSessions, memoryStore, type SessionStore, storeKey } from "../../src/index.js";
import {
  Browser,
  captureLogger,
  HOUR,
  lenientStore,
  MINUTE,
  parseSetCookie,
  SECOND,
  SECRET,
  T0,
  useClock,
} from "../session/harness.js";

afterEach(() => {
  vi.useRealTimers();
});

const ABSOLUTE = 8 * 3600;

describe.each<[string, () => SessionStore]>([
  ["memoryStore", () => memoryStore()],
  ["cookieStore", () => cookieStore()],
])("absolute timeout with %s (property 16)", (_name, makeStore) => {
  it("an active session dies at createdAt + 8 h + 1 s; no refresh reaches past that instant", async () => {
    const clock = useClock(T0);
    const store = makeStore();
    const sessions = createSessions({
      secret: SECRET,
      store,
      absoluteTimeout: ABSOLUTE,
      idleTimeout: 30 * 60,
      rolling: true,
    });
    const browser = new Browser(sessions);
    let id = "";
    await browser.request((s) => {
      s.set("user", "alice");
      s.permanent = true;
      id = s.id;
    });
    for (let at = 10 * MINUTE; at < 8 * HOUR; at += 10 * MINUTE) {
      clock.set(T0 + at);
      const { session, setCookie } = await browser.request((s) => s.set("clicks", at / MINUTE));
      expect(session.get("user")).toBe("alice");
      // The permanent cookie's Max-Age never outlives the absolute limit.
      const maxAge = Number(parseSetCookie(setCookie[0]!).attributes["max-age"]);
      expect(T0 + at + maxAge * SECOND).toBeLessThanOrEqual(T0 + 8 * HOUR);
      if (store.kind === "server") {
        const record = await store.get(storeKey(id));
        // The store may keep it a grace period past its end (here at most the 30-min idle span), no more.
        expect(record?.expiresAt).toBeLessThanOrEqual(T0 + 8 * HOUR + 30 * MINUTE);
        expect(record?.createdAt).toBe(T0);
      }
    }
    clock.set(T0 + 8 * HOUR - SECOND);
    expect((await browser.request((s) => s.get("user"))).session.get("user")).toBe("alice");
    clock.set(T0 + 8 * HOUR + SECOND);
    const { session } = await browser.request((s) => s.get("user"));
    expect(session.isNew).toBe(true);
    expect(session.status).toBe("absolute");
    expect(session.get("user")).toBeUndefined();
  });

  it("a new session after expiry starts a new 8 h window", async () => {
    const clock = useClock(T0);
    const browser = new Browser(
      createSessions({ secret: SECRET, store: makeStore(), absoluteTimeout: ABSOLUTE }),
    );
    // Logged in: an anonymous session's short idle life (anonymousIdleTimeout) would end it first.
    await browser.request((s) => s.set("user", "alice").login("alice"));
    clock.set(T0 + 8 * HOUR + SECOND);
    await browser.request((s) => s.set("user", "alice").login("alice"));
    clock.set(T0 + 15 * HOUR);
    expect((await browser.request((s) => s.get("user"))).session.get("user")).toBe("alice");
  });
});

describe("absolute timeout is the core's rule, not the store's", () => {
  it("a record whose createdAt is older than the limit is refused even if the store still returns it", async () => {
    const clock = useClock(T0);
    const store = lenientStore();
    const capture = captureLogger();
    const sessions = createSessions({
      secret: SECRET,
      store,
      absoluteTimeout: ABSOLUTE,
      logger: capture.logger,
    });
    const browser = new Browser(sessions);
    await browser.request((s) => s.set("user", "alice"));
    // A store that lost track of expiry (restored backup, buggy TTL) and a fresh lastSeenAt:
    for (const record of store.records.values()) {
      record.expiresAt = T0 + 100 * HOUR;
      record.lastSeenAt = T0 + 8 * HOUR;
    }
    clock.set(T0 + 8 * HOUR + SECOND);
    expect((await browser.request((s) => s.get("user"))).session.isNew).toBe(true);
    expect(capture.entries.map((e) => e.message)).toEqual(["absolute timeout"]);
  });

  it("a concurrent write cannot move createdAt later (the store keeps the earliest)", async () => {
    useClock(T0);
    const memory = memoryStore();
    const sessions = createSessions({ secret: SECRET, store: memory, absoluteTimeout: ABSOLUTE });
    const browser = new Browser(sessions);
    let id = "";
    await browser.request((s) => {
      s.set("a", 1);
      id = s.id;
    });
    const now = Date.now();
    await memory.apply(storeKey(id), {
      clear: false,
      set: [],
      delete: [],
      flashAdd: [],
      flashConsume: [],
      meta: { createdAt: now + HOUR, lastSeenAt: now, expiresAt: now + HOUR, permanent: false },
    });
    expect((await memory.get(storeKey(id)))?.createdAt).toBe(T0);
  });
});
