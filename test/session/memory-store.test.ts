/**
 * memoryStore: bounded size (least recently used evicted first), TTL expiry and sweeping, copies
 * rather than shared references. The contract itself is covered by test/conformance/memory.test.ts.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { type ChangeSet, createSessions, memoryStore, storeKey } from "../../src/index.js";
import { Browser, SECRET, T0 } from "./harness.js";

afterEach(() => {
  vi.useRealTimers();
});

function changes(set: Array<[string, unknown]>, expiresIn = 3_600_000): ChangeSet {
  const now = Date.now();
  return {
    clear: false,
    set,
    delete: [],
    flashAdd: [],
    flashConsume: [],
    meta: { createdAt: now, lastSeenAt: now, expiresAt: now + expiresIn, permanent: false },
  };
}

describe("memoryStore", () => {
  it("keeps at most maxEntries records, evicting the least recently used", async () => {
    const store = memoryStore({ maxEntries: 3 });
    for (const key of ["a", "b", "c"]) await store.apply(key, changes([["k", key]]));
    await store.get("a"); // a is now the most recently used; b is the oldest
    await store.apply("d", changes([["k", "d"]]));
    expect(store.size).toBe(3);
    expect(await store.get("b")).toBeNull();
    for (const key of ["a", "c", "d"]) expect((await store.get(key))?.data).toEqual({ k: key });
    await store.close?.();
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses maxEntries %s", (maxEntries) => {
    expect(() => memoryStore({ maxEntries })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_OPTION" }),
    );
  });

  it("a record past its expiresAt is gone on read, and the sweep purges expired records nobody reads", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"], now: T0 });
    const store = memoryStore({ sweepInterval: 10_000 });
    await store.apply("short-1", changes([["a", 1]], 5_000));
    await store.apply("short-2", changes([["a", 2]], 5_000));
    await store.apply("long", changes([["a", 3]], 60_000));
    expect(store.size).toBe(3);
    vi.advanceTimersByTime(9_999);
    expect(store.size).toBe(3);
    vi.advanceTimersByTime(1);
    expect(store.size).toBe(1);
    expect(await store.get("long")).not.toBeNull();
    vi.advanceTimersByTime(50_000);
    expect(await store.get("long")).toBeNull();
    expect(store.size).toBe(0);
    await store.close?.();
  });

  it("hands out copies: changing a returned record does not change the store", async () => {
    const store = memoryStore();
    await store.apply("k", changes([["list", [1]]]));
    const record = await store.get("k");
    (record!.data.list as number[]).push(2);
    expect((await store.get("k"))?.data).toEqual({ list: [1] });
    await store.close?.();
  });

  it("close() empties the store and stops the sweep timer", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"], now: T0 });
    const store = memoryStore();
    await store.apply("k", changes([["a", 1]]));
    expect(vi.getTimerCount()).toBe(1);
    await store.close?.();
    expect(vi.getTimerCount()).toBe(0);
    expect(store.size).toBe(0);
    await store.close?.(); // idempotent
  });

  it("a flood of new sessions through the core stays under the cap; evicted ids are not adopted", async () => {
    const store = memoryStore({ maxEntries: 500 });
    const sessions = createSessions({ secret: SECRET, store });
    const first = new Browser(sessions);
    let firstId = "";
    await first.request((s) => {
      s.set("n", -1);
      firstId = s.id;
    });
    for (let i = 0; i < 5_000; i++) {
      const session = await sessions.load({ headers: {} });
      session.set("n", i);
      await sessions.commit(session, new Headers());
      expect(store.size).toBeLessThanOrEqual(500);
    }
    expect(await store.get(storeKey(firstId))).toBeNull();
    const { session } = await first.request((s) => s.get("n"));
    expect(session.isNew).toBe(true);
    expect(session.id).not.toBe(firstId);
    await sessions.close();
  });
});

describe("memoryStore under a flood of one-request sessions", () => {
  it("a logged-in session on maxEntries 1000 survives 200 000 anonymous one-request sessions", {
    timeout: 180_000,
  }, async () => {
    const store = memoryStore({ maxEntries: 1000, sweepInterval: 0 });
    const sessions = createSessions({ secret: SECRET, store });
    const member = new Browser(sessions);
    await member.request((s) => s.set("cart", ["book"]).login("member-1"));
    // Also an anonymous visitor seen in two requests: established too.
    const regular = new Browser(sessions);
    await regular.request((s) => s.set("theme", "dark"));
    await regular.request((s) => s.get("theme"));
    for (let i = 0; i < 200_000; i++) {
      const session = await sessions.load({ headers: {} });
      session.set("visit", i);
      await sessions.commit(session, new Headers());
    }
    expect(store.size).toBe(1000);
    const { session } = await member.request((s) => s.get("cart"));
    expect(session.status).toBe("active");
    expect(session.userId).toBe("member-1");
    expect(session.get("cart")).toEqual(["book"]);
    expect((await regular.request((s) => s.get("theme"))).session.get("theme")).toBe("dark");
  });

  it("with nothing but established sessions, the least recently used of them goes", async () => {
    const store = memoryStore({ maxEntries: 3, sweepInterval: 0 });
    const sessions = createSessions({ secret: SECRET, store });
    const browsers = [0, 1, 2, 3].map(() => new Browser(sessions));
    for (const [i, browser] of browsers.entries()) await browser.request((s) => s.set("n", i).login(`u${i}`));
    expect(store.size).toBe(3);
    expect((await browsers[0]!.request((s) => s.get("n"))).session.status).toBe("expired");
    expect((await browsers[3]!.request((s) => s.get("n"))).session.get("n")).toBe(3);
  });
});
