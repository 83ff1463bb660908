/**
 * The store conformance suite. Every server store runs `describeStoreConformance`; every store
 * (server or client) runs `describeSessionConformance`, which goes through `createSessions`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createSessions, type SessionStore, type Sessions, storeKey } from "../../src/index.js";
import type { ChangeSet, FlashMessage, ServerStore, SessionMeta } from "../../src/stores/types.js";
import { describeLifecycleConformance } from "./lifecycle-suite.js";

export interface StoreConformanceOptions {
  /** Raw text of everything the store holds (table dump, KEYS + values), to prove ids are hashed at rest. */
  dump?: () => Promise<string>;
  /** How many concurrent writers the concurrency tests use. @default 200 */
  concurrency?: number;
}

const SECRET = "conformance-secret-0123456789-abcdefghij";
let keyCounter = 0;
/** A fresh sha256-hex key per test, as the core would pass. */
function freshKey(): string {
  keyCounter += 1;
  return storeKey(`conformance-${process.pid}-${Date.now()}-${keyCounter}-${Math.random()}`);
}

function meta(overrides: Partial<SessionMeta> = {}): SessionMeta {
  const now = Date.now();
  return { createdAt: now, lastSeenAt: now, expiresAt: now + 3_600_000, permanent: false, ...overrides };
}

function changes(overrides: Partial<ChangeSet> = {}): ChangeSet {
  return { clear: false, set: [], delete: [], flashAdd: [], flashConsume: [], meta: meta(), ...overrides };
}

function flash(id: string, message = id, category = "message"): FlashMessage {
  return { id, category, message };
}

export function describeStoreConformance(
  name: string,
  makeStore: () => Promise<ServerStore>,
  options: StoreConformanceOptions = {},
): void {
  const concurrency = options.concurrency ?? 200;

  describe(`store conformance: ${name}`, () => {
    let store: ServerStore;
    beforeAll(async () => {
      store = await makeStore();
    });
    afterAll(async () => {
      await store.close?.();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it("returns null for a key it never stored", async () => {
      expect(await store.get(freshKey())).toBeNull();
    });

    it("stores data, flashes and meta and reads them back", async () => {
      const key = freshKey();
      const m = meta({ permanent: true });
      const value = { nested: { list: [1, "two", null, true], unicode: "héllo ✓ 😀" }, n: -1.5 };
      await store.apply(
        key,
        changes({
          set: [
            ["a", value],
            ["b", "x"],
          ],
          flashAdd: [flash("f1", "saved", "info")],
          meta: m,
        }),
      );
      const record = await store.get(key);
      expect(record).not.toBeNull();
      expect(record?.data).toEqual({ a: value, b: "x" });
      expect(record?.flashes).toEqual([flash("f1", "saved", "info")]);
      expect(record?.createdAt).toBe(m.createdAt);
      expect(record?.lastSeenAt).toBe(m.lastSeenAt);
      expect(record?.expiresAt).toBe(m.expiresAt);
      expect(record?.permanent).toBe(true);
    });

    it("applies clear, then delete, then set, keeping keys the change set does not name", async () => {
      const key = freshKey();
      await store.apply(
        key,
        changes({
          set: [
            ["keep", 1],
            ["drop", 2],
            ["replace", 3],
          ],
        }),
      );
      await store.apply(
        key,
        changes({
          delete: ["drop"],
          set: [
            ["replace", 30],
            ["new", 4],
          ],
        }),
      );
      expect((await store.get(key))?.data).toEqual({ keep: 1, replace: 30, new: 4 });
      await store.apply(key, changes({ clear: true, delete: ["x"], set: [["after", true]] }));
      expect((await store.get(key))?.data).toEqual({ after: true });
    });

    it("set wins over delete of the same key in one change set, and the last set wins", async () => {
      const key = freshKey();
      await store.apply(
        key,
        changes({
          delete: ["k"],
          set: [
            ["k", 1],
            ["k", 2],
          ],
        }),
      );
      expect((await store.get(key))?.data).toEqual({ k: 2 });
    });

    it("consumes exactly the flashes named and appends new ones in order", async () => {
      const key = freshKey();
      await store.apply(key, changes({ flashAdd: [flash("a"), flash("b"), flash("c")] }));
      await store.apply(
        key,
        changes({ flashConsume: ["a", "c", "missing"], flashAdd: [flash("d"), flash("e")] }),
      );
      expect((await store.get(key))?.flashes.map((f) => f.id)).toEqual(["b", "d", "e"]);
    });

    it("clear leaves flashes alone (the core lists those it consumes)", async () => {
      const key = freshKey();
      await store.apply(key, changes({ set: [["a", 1]], flashAdd: [flash("x")] }));
      await store.apply(key, changes({ clear: true }));
      const record = await store.get(key);
      expect(record?.data).toEqual({});
      expect(record?.flashes.map((f) => f.id)).toEqual(["x"]);
    });

    it("keeps the earliest createdAt and takes the rest of the meta from the change set", async () => {
      const key = freshKey();
      const first = meta();
      await store.apply(key, changes({ set: [["a", 1]], meta: first }));
      const later = meta({
        createdAt: first.createdAt + 5000,
        lastSeenAt: first.lastSeenAt + 5000,
        permanent: true,
      });
      await store.apply(key, changes({ meta: later }));
      const record = await store.get(key);
      expect(record?.createdAt).toBe(first.createdAt);
      expect(record?.lastSeenAt).toBe(later.lastSeenAt);
      expect(record?.expiresAt).toBe(later.expiresAt);
      expect(record?.permanent).toBe(true);
    });

    it("destroy removes the record; destroying a missing key is not an error", async () => {
      const key = freshKey();
      await store.apply(key, changes({ set: [["a", 1]] }));
      await store.destroy(key);
      expect(await store.get(key)).toBeNull();
      await expect(store.destroy(freshKey())).resolves.toBeUndefined();
    });

    it("treats a record past its expiresAt as absent (server-side expiry wins)", async () => {
      const key = freshKey();
      const now = Date.now();
      await store.apply(key, changes({ set: [["a", 1]], meta: meta({ expiresAt: now + 60_000 }) }));
      expect(await store.get(key)).not.toBeNull();
      vi.useFakeTimers({ toFake: ["Date"], now: now + 60_001 });
      expect(await store.get(key)).toBeNull();
    });

    it("starts from an empty record when the stored one has expired", async () => {
      const key = freshKey();
      const now = Date.now();
      await store.apply(key, changes({ set: [["old", 1]], meta: meta({ expiresAt: now + 1000 }) }));
      vi.useFakeTimers({ toFake: ["Date"], now: now + 2000 });
      await store.apply(key, changes({ set: [["new", 2]], meta: meta() }));
      expect((await store.get(key))?.data).toEqual({ new: 2 });
    });

    it("never leaks one key's data into another", async () => {
      const a = freshKey();
      const b = freshKey();
      await store.apply(a, changes({ set: [["owner", "a"]], flashAdd: [flash("fa")] }));
      await store.apply(b, changes({ set: [["owner", "b"]] }));
      expect((await store.get(a))?.data).toEqual({ owner: "a" });
      expect((await store.get(b))?.data).toEqual({ owner: "b" });
      expect((await store.get(b))?.flashes).toEqual([]);
    });

    it(`guarantee 1: ${concurrency} concurrent change sets on different keys of one session all survive`, async () => {
      const key = freshKey();
      await store.apply(key, changes({ set: [["base", 0]] }));
      await Promise.all(
        Array.from({ length: concurrency }, (_, i) => store.apply(key, changes({ set: [[`k${i}`, i]] }))),
      );
      const data = (await store.get(key))?.data ?? {};
      expect(Object.keys(data)).toHaveLength(concurrency + 1);
      for (let i = 0; i < concurrency; i++) expect(data[`k${i}`]).toBe(i);
    });

    it(`guarantee 2: ${concurrency} flashes added concurrently are all kept, and consuming removes only those read`, async () => {
      const key = freshKey();
      await store.apply(key, changes({ flashAdd: [flash("first")] }));
      // Half the writers add a flash; the other half consume "first" and change a key, concurrently.
      await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          i % 2 === 0
            ? store.apply(key, changes({ flashAdd: [flash(`f${i}`)] }))
            : store.apply(key, changes({ flashConsume: ["first"], set: [[`k${i}`, i]] })),
        ),
      );
      const record = await store.get(key);
      const ids = new Set(record?.flashes.map((f) => f.id));
      expect(ids.has("first")).toBe(false);
      for (let i = 0; i < concurrency; i += 2) expect(ids.has(`f${i}`)).toBe(true);
      expect(ids.size).toBe(concurrency / 2);
    });

    it("concurrent writes to the same key end with one of the written values (last write wins)", async () => {
      const key = freshKey();
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.apply(key, changes({ set: [["same", i]] }))),
      );
      const value = (await store.get(key))?.data.same;
      expect(typeof value).toBe("number");
      expect(value as number).toBeGreaterThanOrEqual(0);
      expect(value as number).toBeLessThan(50);
    });
  });

  describeSessionConformance(name, makeStore, options);
}

async function roundTrip<T extends Record<string, unknown>>(
  sessions: Sessions<T>,
  cookie: string | undefined,
  handler: (session: Awaited<ReturnType<Sessions<T>["load"]>>) => void,
): Promise<{ cookie: string | undefined; setCookie: string[]; headers: Headers }> {
  const session = await sessions.load({ headers: { cookie }, secure: false });
  handler(session);
  const headers = new Headers();
  await sessions.commit(session, headers);
  const setCookie = headers.getSetCookie();
  let next = cookie;
  for (const line of setCookie) {
    const pair = line.split(";")[0] ?? "";
    next = /Max-Age=0/i.test(line) ? undefined : pair;
  }
  return { cookie: next, setCookie, headers };
}

/** Behaviour through `createSessions`, for any store (server or client). */
export function describeSessionConformance(
  name: string,
  makeStore: () => Promise<SessionStore>,
  options: StoreConformanceOptions = {},
): void {
  describeLifecycleConformance(name, makeStore);
  describe(`session conformance: ${name}`, () => {
    let store: SessionStore;
    let sessions: Sessions<Record<string, unknown>>;
    beforeAll(async () => {
      store = await makeStore();
      sessions = createSessions({ secret: SECRET, store });
    });
    afterAll(async () => {
      await sessions.close();
    });

    it("a value set in one request is read in the next, and an untouched request writes nothing", async () => {
      const first = await roundTrip(sessions, undefined, (s) =>
        s.set("name", "Leo").set("message", "Hello, World!"),
      );
      expect(first.setCookie).toHaveLength(1);
      let seen: unknown;
      const second = await roundTrip(sessions, first.cookie, (s) => {
        seen = `${s.get("name")}. ${s.get("message")}.`;
      });
      expect(seen).toBe("Leo. Hello, World!.");
      expect(second.setCookie).toEqual([]);
    });

    it("flash: shown once in the next request, then gone", async () => {
      const one = await roundTrip(sessions, undefined, (s) => s.flash("saved", "info"));
      let read: unknown;
      const two = await roundTrip(sessions, one.cookie, (s) => {
        read = s.getFlashedMessages({ withCategories: true });
      });
      expect(read).toEqual([["info", "saved"]]);
      await roundTrip(sessions, two.cookie, (s) => {
        read = s.getFlashedMessages();
      });
      expect(read).toEqual([]);
    });

    it("regenerate gives a new cookie that keeps the data; the old one no longer loads it (server stores)", async () => {
      const one = await roundTrip(sessions, undefined, (s) => s.set("user", "leo"));
      const two = await roundTrip(sessions, one.cookie, (s) => s.regenerate());
      expect(two.setCookie).toHaveLength(1);
      // A client store has no id to rotate (signed values can repeat); a server store must rotate it.
      if (store.kind === "server") expect(two.cookie).not.toBe(one.cookie);
      let user: unknown;
      await roundTrip(sessions, two.cookie, (s) => {
        user = s.get("user");
      });
      expect(user).toBe("leo");
      if (store.kind === "server") {
        await roundTrip(sessions, one.cookie, (s) => {
          user = s.get("user");
        });
        expect(user).toBeUndefined();
      }
    });

    it("destroy clears the cookie and (server stores) the record", async () => {
      const one = await roundTrip(sessions, undefined, (s) => s.set("user", "leo"));
      const out = await roundTrip(sessions, one.cookie, (s) => s.destroy());
      expect(out.setCookie).toHaveLength(1);
      expect(out.setCookie[0]).toMatch(/Max-Age=0/);
      if (store.kind === "server") {
        let user: unknown = "unset";
        await roundTrip(sessions, one.cookie, (s) => {
          user = s.get("user");
        });
        expect(user).toBeUndefined();
      }
    });

    it("guarantee 2 through the core: reading the last flash does not lose one a concurrent request adds (server stores)", async () => {
      if (store.kind !== "server") return;
      const one = await roundTrip(sessions, undefined, (s) => s.flash("first"));
      // Two requests with the same cookie, interleaved: A reads (and consumes) "first", B adds "second".
      const a = await sessions.load({ headers: { cookie: one.cookie }, secure: false });
      const b = await sessions.load({ headers: { cookie: one.cookie }, secure: false });
      expect(a.getFlashedMessages()).toEqual(["first"]);
      b.flash("second");
      await Promise.all([sessions.commit(a, new Headers()), sessions.commit(b, new Headers())]);
      let read: unknown;
      await roundTrip(sessions, one.cookie, (s) => {
        read = s.getFlashedMessages();
      });
      expect(read).toEqual(["second"]);
    });

    it("guarantee 1 through the core: two requests changing different keys both keep their change (server stores)", async () => {
      if (store.kind !== "server") return;
      const one = await roundTrip(sessions, undefined, (s) => s.set("base", 1));
      const a = await sessions.load({ headers: { cookie: one.cookie }, secure: false });
      const b = await sessions.load({ headers: { cookie: one.cookie }, secure: false });
      a.set("fromA", "a");
      b.set("fromB", "b");
      await Promise.all([sessions.commit(a, new Headers()), sessions.commit(b, new Headers())]);
      let data: unknown;
      await roundTrip(sessions, one.cookie, (s) => {
        data = s.toJSON();
      });
      expect(data).toEqual({ base: 1, fromA: "a", fromB: "b" });
    });

    if (options.dump) {
      const dump = options.dump;
      it("keeps ids hashed at rest: the store holds neither the cookie value nor the raw id", async () => {
        let id = "";
        const one = await roundTrip(sessions, undefined, (s) => {
          s.set("marker", "at-rest");
          id = s.id;
        });
        const text = await dump();
        expect(text).toContain(storeKey(id));
        expect(text).not.toContain(id);
        expect(text).not.toContain((one.cookie ?? "").split("=")[1]);
      });
    }
  });
}
