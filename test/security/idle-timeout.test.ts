/**
 * docs/security.md §15 — idle timeout, with a fake clock. idleTimeout 30 min: a request at
 * +29 min is valid and extends the expiry; the next one 31 min later finds the session expired and
 * empty, and the expired record is purged. Enforced by the core from the record's own times, so
 * a store that keeps records too long or a replayed cookie cannot stretch it.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { cookieStore, createSessions, memoryStore, storeKey } from "../../src/index.js";
import {
  Browser,
  captureLogger,
  lenientStore,
  MINUTE,
  parseSetCookie,
  recordingStore,
  SECOND,
  SECRET,
  T0,
  useClock,
} from "../session/harness.js";

afterEach(() => {
  vi.useRealTimers();
});

const IDLE = 30 * 60;

describe("idle timeout (property 15)", () => {
  it("server store: +29 min valid and extended; +29+31 min idle, empty; the record is purged after its grace", async () => {
    const clock = useClock(T0);
    const memory = memoryStore();
    const store = recordingStore(memory);
    const sessions = createSessions({ secret: SECRET, store, idleTimeout: IDLE });
    const browser = new Browser(sessions);
    let id = "";
    await browser.request((s) => {
      s.set("user", "alice");
      id = s.id;
    });
    // Valid until +30 min; the store keeps it one idle span longer, so a late request reads "idle".
    expect((await memory.get(storeKey(id)))?.expiresAt).toBe(T0 + 60 * MINUTE);

    clock.set(T0 + 29 * MINUTE);
    const active = await browser.request((s) => s.get("user"));
    expect(active.session.get("user")).toBe("alice");
    const record = await memory.get(storeKey(id));
    expect(record?.lastSeenAt).toBe(T0 + 29 * MINUTE);
    expect(record?.expiresAt).toBe(T0 + 89 * MINUTE);

    clock.set(T0 + 60 * MINUTE);
    const expired = await browser.request((s) => s.get("user"));
    expect(expired.session.isNew).toBe(true);
    expect(expired.session.status).toBe("idle");
    expect(expired.session.get("user")).toBeUndefined();
    expect(expired.setCookie).toEqual([expect.stringMatching(/^sid=; Max-Age=0;/)]);
    clock.set(T0 + 89 * MINUTE);
    expect(await memory.get(storeKey(id))).toBeNull();
    expect(memory.size).toBe(0);
  });

  it("activity just inside the window keeps the session alive indefinitely (no absolute timeout)", async () => {
    const clock = useClock(T0);
    const browser = new Browser(createSessions({ secret: SECRET, idleTimeout: IDLE }));
    await browser.request((s) => s.set("user", "alice"));
    for (let step = 1; step <= 20; step++) {
      clock.advance(29 * MINUTE);
      const { session } = await browser.request((s) => s.get("user"));
      expect(session.get("user")).toBe("alice");
    }
  });

  it("the refresh is throttled: reads within touchAfter (default min(60 s, idle/10)) write nothing", async () => {
    const clock = useClock(T0);
    const store = recordingStore();
    const browser = new Browser(createSessions({ secret: SECRET, store, idleTimeout: IDLE }));
    await browser.request((s) => s.set("user", "alice"));
    clock.advance(59 * SECOND);
    await browser.request((s) => s.get("user"));
    expect(store.calls.filter((c) => c.op === "apply")).toHaveLength(1);
    clock.advance(SECOND);
    await browser.request((s) => s.get("user"));
    expect(store.calls.filter((c) => c.op === "apply")).toHaveLength(2);
  });

  it("cookie store: +29 min re-issues the cookie with a later sealed expiry; +60 min it is expired", async () => {
    const clock = useClock(T0);
    const sessions = createSessions({ secret: SECRET, store: cookieStore(), idleTimeout: IDLE });
    const browser = new Browser(sessions);
    await browser.request((s) => {
      s.set("user", "alice");
      s.permanent = true;
    });
    clock.set(T0 + 29 * MINUTE);
    const active = await browser.request((s) => s.get("user"));
    expect(active.session.get("user")).toBe("alice");
    expect(active.setCookie).toHaveLength(1);
    expect(parseSetCookie(active.setCookie[0]!).attributes["max-age"]).toBe(String(IDLE));
    clock.set(T0 + 60 * MINUTE);
    expect((await browser.request((s) => s.get("user"))).session.isNew).toBe(true);
  });

  it("enforced by the core even when the store keeps the record past its idle window", async () => {
    const clock = useClock(T0);
    const store = lenientStore();
    const capture = captureLogger();
    const sessions = createSessions({ secret: SECRET, store, idleTimeout: IDLE, logger: capture.logger });
    const browser = new Browser(sessions);
    await browser.request((s) => s.set("user", "alice"));
    for (const record of store.records.values()) record.expiresAt = T0 + 365 * 24 * 60 * MINUTE;
    clock.set(T0 + 31 * MINUTE);
    const { session } = await browser.request((s) => s.get("user"));
    expect(session.isNew).toBe(true);
    expect(capture.entries.map((e) => e.message)).toEqual(["idle timeout"]);
  });
});
