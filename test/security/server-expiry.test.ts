/**
 * docs/security.md §17 — server-side expiry wins. A valid cookie (its Max-Age still in the
 * future) whose record has expiresAt in the past → empty session. Loading a record never recomputes
 * its expiresAt from the configured lifetime (CVE-2024-35220: re-hydration that re-derived the expiry
 * kept sessions alive forever).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { createSessions, memoryStore, storeKey } from "../../src/index.js";
import {
  Browser,
  captureLogger,
  DAY,
  HOUR,
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

describe("server-side expiry wins (property 17)", () => {
  it("a permanent cookie with 31 days left is refused once its record's expiresAt has passed", async () => {
    const clock = useClock(T0);
    const store = lenientStore(); // returns records even past expiresAt: the core must refuse them
    const capture = captureLogger();
    const sessions = createSessions({ secret: SECRET, store, logger: capture.logger });
    const browser = new Browser(sessions);
    const login = await browser.request((s) => {
      s.set("user", "alice");
      s.permanent = true;
    });
    expect(parseSetCookie(login.setCookie[0]!).attributes["max-age"]).toBe(String((31 * DAY) / SECOND));
    // The server decides this session ends in one hour (an admin revoked it, a policy changed…).
    for (const record of store.records.values()) record.expiresAt = T0 + HOUR;

    clock.set(T0 + HOUR - SECOND);
    expect((await browser.request((s) => s.get("user"))).session.get("user")).toBe("alice");
    clock.set(T0 + HOUR);
    const { session, setCookie } = await browser.request((s) => s.get("user"));
    expect(session.isNew).toBe(true);
    expect(session.get("user")).toBeUndefined();
    expect(setCookie).toEqual([expect.stringMatching(/^sid=; Max-Age=0;/)]);
    expect(capture.entries.map((e) => e.message)).toEqual(["expired"]);
  });

  it("a real store treats the expired record as absent, and the core agrees", async () => {
    const clock = useClock(T0);
    const memory = memoryStore();
    const browser = new Browser(createSessions({ secret: SECRET, store: memory }));
    let id = "";
    await browser.request((s) => {
      s.set("user", "alice");
      s.permanent = true;
      id = s.id;
    });
    const record = await memory.get(storeKey(id));
    await memory.apply(storeKey(id), {
      clear: false,
      set: [],
      delete: [],
      flashAdd: [],
      flashConsume: [],
      meta: { ...record!, expiresAt: T0 + MINUTE },
    });
    clock.set(T0 + MINUTE + 1);
    expect((await browser.request((s) => s.get("user"))).session.isNew).toBe(true);
  });

  it("loading does not recompute expiresAt: read-only requests leave the stored expiry where it was", async () => {
    const clock = useClock(T0);
    const store = recordingStore();
    const sessions = createSessions({ secret: SECRET, store, permanentLifetime: 3600 });
    const browser = new Browser(sessions);
    let id = "";
    await browser.request((s) => {
      s.set("user", "alice");
      s.permanent = true;
      id = s.id;
    });
    // The store keeps it an hour longer (the grace that lets a late request read "expired").
    expect((await store.get(storeKey(id)))?.expiresAt).toBe(T0 + 2 * HOUR);
    for (let minute = 10; minute < 60; minute += 10) {
      clock.set(T0 + minute * MINUTE);
      const { setCookie } = await browser.request((s) => s.get("user"));
      expect(setCookie).toEqual([]);
      // The store keeps it an hour longer (the grace that lets a late request read "expired").
      expect((await store.get(storeKey(id)))?.expiresAt).toBe(T0 + 2 * HOUR);
    }
    expect(store.calls.filter((c) => c.op === "apply")).toHaveLength(1);
    clock.set(T0 + HOUR);
    expect((await browser.request((s) => s.get("user"))).session.isNew).toBe(true);
  });
});
