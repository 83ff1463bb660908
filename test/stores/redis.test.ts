import { randomBytes } from "node:crypto";
import { createClient, RESP_TYPES } from "redis";
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { ConfigError, SessionStoreError } from "../../src/errors.js";
import { createSessions } from "../../src/index.js";
import { GET_SCRIPT } from "../../src/stores/redis/scripts.js";
import { keySlot } from "../../src/stores/redis/slot.js";
import { type RedisStore, redisStore } from "../../src/stores/redis.js";
import { changes, flash, meta, sessionKey } from "../fixtures/redis-changes.js";
import { type CommandMonitor, monitorCommands } from "../fixtures/redis-monitor.js";
import { type RedisServer, redisTestsAvailable, startRedisServer } from "../helpers/redis-server.js";

const available = redisTestsAvailable("Redis store tests (test/stores/redis.test.ts)");

describe("keySlot (Redis Cluster hash slots)", () => {
  it("matches the cluster spec's CRC16 and honours the first non-empty hash tag", () => {
    // Values from `redis-cli CLUSTER KEYSLOT`.
    expect(keySlot("123456789")).toBe(0x31c3 % 16384);
    expect(keySlot("foo")).toBe(12182);
    expect(keySlot("{user1000}.following")).toBe(keySlot("user1000"));
    expect(keySlot("foo{}{bar}")).toBe(keySlot("foo{}{bar}")); // empty tag: the whole key
    expect(keySlot("foo{}{bar}")).not.toBe(keySlot("bar"));
    expect(keySlot("foo{{bar}}zap")).toBe(keySlot("{bar"));
  });
});

describe("redisStore options", () => {
  it.each([
    [{ prefix: "a{b" }],
    [{ prefix: "a}b" }],
    [{ commandTimeout: 0 }],
    [{ commandTimeout: -5 }],
    [{ commandTimeout: Number.NaN }],
  ])("rejects %o at construction with ERR_INVALID_OPTION", (options) => {
    const attempt = () => redisStore({ url: "redis://127.0.0.1:1", ...options });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(expect.objectContaining({ code: "ERR_INVALID_OPTION" }));
  });

  it("puts a session's three keys in one cluster slot, after the prefix", async () => {
    const store = redisStore({ client: createClient(), prefix: "app:" });
    onTestFinished(() => store.close());
    const key = sessionKey();
    const keys = store.keysOf(key);
    expect(keys).toEqual({ data: `app:{${key}}:d`, flashes: `app:{${key}}:f`, meta: `app:{${key}}:m` });
    expect(new Set([keySlot(keys.data), keySlot(keys.flashes), keySlot(keys.meta)]).size).toBe(1);
  });
});

describe.skipIf(!available)("redisStore on a private redis-server", () => {
  let server: RedisServer;
  let store: RedisStore;
  let admin: ReturnType<typeof createClient>;

  beforeAll(async () => {
    server = await startRedisServer();
    // Generous deadline: these tests are about semantics and throughput on a shared machine;
    // the deadline itself is tested in redis-outage.test.ts.
    store = redisStore({ url: server.url, prefix: "t:", commandTimeout: 10_000 });
    admin = createClient({ url: server.url });
    admin.on("error", () => undefined);
    await admin.connect();
  });
  afterAll(async () => {
    await store?.close();
    await admin?.close();
    await server?.stop();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("returns null for an unknown key", async () => {
    await expect(store.get(sessionKey())).resolves.toBeNull();
  });

  it("stores data, meta and flashes, and reads them back", async () => {
    const key = sessionKey();
    const now = Date.now();
    const m = meta(now, { createdAt: now - 5000, permanent: true });
    const f = flash("Login Successfully.");
    await store.apply(
      key,
      changes({
        set: [
          ["name", "Leo"],
          ["cart", { items: [1, 2, { sku: "é✓" }], total: 12.5 }],
          ["flag", false],
          ["nothing", null],
        ],
        flashAdd: [f],
        meta: m,
      }),
    );
    await expect(store.get(key)).resolves.toEqual({
      ...m,
      data: { name: "Leo", cart: { items: [1, 2, { sku: "é✓" }], total: 12.5 }, flag: false, nothing: null },
      flashes: [f],
    });
  });

  it("applies a change set in the contract's order: clear, delete, set, consume, add, meta", async () => {
    const key = sessionKey();
    const [f1, f2, f3, f4] = [flash("one"), flash("two", "error"), flash("three"), flash("four")];
    await store.apply(
      key,
      changes({
        set: [
          ["a", 1],
          ["b", 2],
        ],
        flashAdd: [f1!, f2!, f3!],
      }),
    );
    const later = meta(Date.now() + 10, { permanent: true });
    await store.apply(
      key,
      changes({
        clear: true,
        delete: ["c"],
        set: [
          ["c", "first"],
          ["c", "second"],
          ["d", 4],
        ],
        flashConsume: [f1!.id, "no-such-id", f3!.id],
        flashAdd: [f4!],
        meta: later,
      }),
    );
    const record = await store.get(key);
    // clear dropped a and b but not the flashes; the last set of "c" wins; only read ids went.
    expect(record?.data).toEqual({ c: "second", d: 4 });
    expect(record?.flashes).toEqual([f2, f4]);
    expect(record?.permanent).toBe(true);
    expect(record?.lastSeenAt).toBe(later.lastSeenAt);
    expect(record?.expiresAt).toBe(later.expiresAt);
  });

  it("deletes before it sets, and leaves keys a change set does not name alone", async () => {
    const key = sessionKey();
    await store.apply(
      key,
      changes({
        set: [
          ["x", 1],
          ["y", 2],
        ],
      }),
    );
    await store.apply(key, changes({ delete: ["x", "y"], set: [["y", 3]] }));
    await store.apply(key, changes({ set: [["z", 4]] }));
    expect((await store.get(key))?.data).toEqual({ y: 3, z: 4 });
  });

  it("keeps the smaller createdAt (the absoluteTimeout anchor never moves)", async () => {
    const key = sessionKey();
    const now = Date.now();
    await store.apply(key, changes({ meta: meta(now, { createdAt: now - 60_000 }) }));
    await store.apply(key, changes({ meta: meta(now + 1000, { createdAt: now + 1000 }) }));
    expect((await store.get(key))?.createdAt).toBe(now - 60_000);
  });

  it("keeps a '__proto__' data key as data", async () => {
    const key = sessionKey();
    await store.apply(key, changes({ set: [["__proto__", { polluted: true }]] }));
    const record = await store.get(key);
    expect(Object.getPrototypeOf(record?.data)).toBe(Object.prototype);
    expect(Object.keys(record?.data ?? {})).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("treats a record past expiresAt as absent, by Date.now() (faked clock)", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const key = sessionKey();
    const now = Date.now();
    await store.apply(key, changes({ set: [["a", 1]], meta: meta(now, { expiresAt: now + 60_000 }) }));
    vi.setSystemTime(now + 59_999);
    expect((await store.get(key))?.data).toEqual({ a: 1 });
    vi.setSystemTime(now + 60_000);
    await expect(store.get(key)).resolves.toBeNull();
  });

  it("starts from an empty record when applying to one that expired meanwhile", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const key = sessionKey();
    const now = Date.now();
    await store.apply(
      key,
      changes({ set: [["old", 1]], flashAdd: [flash("stale")], meta: meta(now, { expiresAt: now + 1000 }) }),
    );
    vi.setSystemTime(now + 5000);
    const fresh = meta(now + 5000);
    await store.apply(key, changes({ set: [["new", 2]], meta: fresh }));
    expect(await store.get(key)).toEqual({ ...fresh, data: { new: 2 }, flashes: [] });
  });

  it("lets Redis purge the keys: the TTL is the remaining lifetime", async () => {
    const key = sessionKey();
    const now = Date.now();
    await store.apply(key, changes({ set: [["a", 1]], flashAdd: [flash("x")], meta: meta(now) }));
    const keys = store.keysOf(key);
    for (const name of [keys.data, keys.flashes, keys.meta]) {
      const ttl = await admin.pTTL(name);
      expect(ttl).toBeGreaterThan(3_600_000 - 5000);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
    }
    await store.apply(key, changes({ meta: meta(now, { expiresAt: now + 200 }) }));
    await vi.waitFor(async () => expect(await admin.exists([keys.data, keys.flashes, keys.meta])).toBe(0), {
      timeout: 3000,
      interval: 50,
    });
  });

  it("purges instead of writing when the new expiresAt is already past", async () => {
    const key = sessionKey();
    const now = Date.now();
    await store.apply(key, changes({ set: [["a", 1]] }));
    await store.apply(key, changes({ set: [["b", 2]], meta: meta(now, { expiresAt: now - 1 }) }));
    const keys = store.keysOf(key);
    expect(await admin.exists([keys.data, keys.flashes, keys.meta])).toBe(0);
    await expect(store.get(key)).resolves.toBeNull();
  });

  it("destroy removes every key of the session and nothing else; a missing key is fine", async () => {
    const [mine, other] = [sessionKey(), sessionKey()];
    await store.apply(mine, changes({ set: [["a", 1]], flashAdd: [flash("x")] }));
    await store.apply(other, changes({ set: [["a", 2]] }));
    await store.destroy(mine);
    const keys = store.keysOf(mine);
    expect(await admin.exists([keys.data, keys.flashes, keys.meta])).toBe(0);
    await expect(store.get(mine)).resolves.toBeNull();
    expect((await store.get(other))?.data).toEqual({ a: 2 });
    await expect(store.destroy(sessionKey())).resolves.toBeUndefined();
  });

  it("does not leak between sessions", async () => {
    const [a, b] = [sessionKey(), sessionKey()];
    await store.apply(a, changes({ set: [["who", "a"]], flashAdd: [flash("for a")] }));
    await store.apply(b, changes({ set: [["who", "b"]] }));
    expect((await store.get(a))?.data).toEqual({ who: "a" });
    expect(await store.get(b)).toMatchObject({ data: { who: "b" }, flashes: [] });
  });

  it("keeps every change of 1000 concurrent requests on one session (different keys)", async () => {
    const key = sessionKey();
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        store.apply(key, changes({ set: [[`k${i}`, i]], flashAdd: [flash(`m${i}`)] })),
      ),
    );
    const record = await store.get(key);
    expect(Object.keys(record?.data ?? {})).toHaveLength(1000);
    expect(record?.data.k999).toBe(999);
    expect(record?.flashes.map((f) => f.message).sort()).toEqual(
      Array.from({ length: 1000 }, (_, i) => `m${i}`).sort(),
    );
  });

  it("stores only the hashed key: a dump of keys and values holds no session id", async () => {
    const id = randomBytes(32).toString("base64url");
    const key = sessionKey(id);
    await store.apply(key, changes({ set: [["user", "leo"]], flashAdd: [flash("hi")] }));
    const names = await admin.keys("t:*");
    expect(names.some((name) => name.includes(key))).toBe(true);
    const dump: string[] = [...names];
    for (const name of names) {
      const type = await admin.type(name);
      if (type === "hash") dump.push(JSON.stringify(await admin.hGetAll(name)));
      if (type === "list") dump.push(...(await admin.lRange(name, 0, -1)));
    }
    expect(dump.join("\n")).not.toContain(id);
  });

  it("uses the `prefix` option for every key", async () => {
    const prefixed = redisStore({ url: server.url, prefix: "other-app:" });
    try {
      const key = sessionKey();
      await prefixed.apply(key, changes({ set: [["a", 1]], flashAdd: [flash("f")] }));
      expect((await admin.keys(`other-app:{${key}}:*`)).sort()).toEqual(
        [`other-app:{${key}}:d`, `other-app:{${key}}:f`, `other-app:{${key}}:m`].sort(),
      );
      await expect(store.get(key)).resolves.toBeNull(); // another prefix, another namespace
    } finally {
      await prefixed.close();
    }
  });

  it("works on an app's client that speaks RESP3 and maps strings to Buffers", async () => {
    const client = createClient({
      url: server.url,
      RESP: 3,
      commandOptions: { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } },
    });
    await client.connect();
    const onAppClient = redisStore({ client, prefix: "t:" });
    try {
      const key = sessionKey();
      const f = flash("über");
      await onAppClient.apply(key, changes({ set: [["name", "Léo"]], flashAdd: [f] }));
      expect(await onAppClient.get(key)).toMatchObject({ data: { name: "Léo" }, flashes: [f] });
      expect((await store.get(key))?.data).toEqual({ name: "Léo" }); // same layout as the store's own client
    } finally {
      await onAppClient.close();
      await client.close();
    }
  });

  it("reports a Redis error reply as SessionStoreError ERR_STORE_FAILED, without the key", async () => {
    const key = sessionKey();
    await admin.set(store.keysOf(key).meta, "not a hash");
    const failure = await store.get(key).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SessionStoreError);
    expect(failure).toMatchObject({ code: "ERR_STORE_FAILED" });
    expect(String((failure as Error).message)).not.toContain(key);
    await admin.del(store.keysOf(key).meta);
  });

  describe("round trips (counted with MONITOR)", () => {
    let monitor: CommandMonitor;
    beforeAll(async () => {
      monitor = await monitorCommands(server.url);
    });
    afterAll(async () => {
      await monitor?.close();
    });

    it("get, apply and destroy each send exactly one command", async () => {
      const key = sessionKey();
      await store.apply(key, changes({ set: [["warm", 1]] })); // loads the scripts
      await store.get(key);

      const applied = await monitor.commandsDuring(() =>
        store.apply(
          key,
          changes({
            clear: true,
            delete: ["x"],
            set: [
              ["a", 1],
              ["b", 2],
            ],
            flashAdd: [flash("f")],
          }),
        ),
      );
      const read = await monitor.commandsDuring(() => store.get(key));
      const destroyed = await monitor.commandsDuring(() => store.destroy(key));
      expect({ applied, read, destroyed }).toEqual({
        applied: ["evalsha"],
        read: ["evalsha"],
        destroyed: ["del"],
      });
    });

    it("per request through createSessions: read = 1, write = get + apply, unchanged = no write", async () => {
      const sessions = createSessions<{ name?: string; visits?: number }>({
        secret: "round-trip-secret-0123456789-abcdefghijkl",
        store,
      });
      const request = async (
        cookie: string | undefined,
        handler: (s: Awaited<ReturnType<typeof sessions.load>>) => void,
      ) => {
        let next = cookie;
        const commands = await monitor.commandsDuring(async () => {
          const session = await sessions.load({ headers: { cookie }, secure: false });
          handler(session);
          const headers = new Headers();
          await sessions.commit(session, headers);
          const line = headers.getSetCookie()[0];
          if (line) next = line.split(";")[0];
        });
        return { commands, cookie: next };
      };
      const noSession = await request(undefined, () => undefined);
      const login = await request(undefined, (s) => s.set("name", "Leo"));
      const read = await request(login.cookie, (s) => void s.get("name"));
      const write = await request(login.cookie, (s) => s.set("visits", 1));
      const forged = await request(`${login.cookie?.split("=")[0]}=forged-value`, (s) => void s.get("name"));
      expect({
        noSession: noSession.commands,
        newSessionWrite: login.commands,
        read: read.commands,
        write: write.commands,
        forged: forged.commands,
      }).toEqual({
        noSession: [],
        newSessionWrite: ["evalsha"],
        read: ["evalsha"],
        write: ["evalsha", "evalsha"],
        forged: [], // a cookie that fails its HMAC never reaches Redis
      });
    });

    it("falls back to EVAL once when the server lost its script cache", async () => {
      const key = sessionKey();
      await admin.scriptFlush();
      const first = await monitor.commandsDuring(() => store.get(key));
      const second = await monitor.commandsDuring(() => store.get(key));
      expect(first).toEqual(["evalsha", "eval"]);
      expect(second).toEqual(["evalsha"]);
      expect(await admin.scriptExists([GET_SCRIPT.sha1])).toEqual([1]);
    });
  });

  describe("close()", () => {
    it("closes a client the store created from `url`; later calls reject with SessionStoreError", async () => {
      const name = `flagon-owned-${randomBytes(4).toString("hex")}`;
      const owned = redisStore({ url: `${server.url}`, prefix: name });
      await owned.get(sessionKey()); // connected
      const before = await admin.clientList();
      await owned.close();
      await owned.close(); // idempotent
      await vi.waitFor(async () => expect((await admin.clientList()).length).toBe(before.length - 1), {
        timeout: 2000,
      });
      await expect(owned.get(sessionKey())).rejects.toBeInstanceOf(SessionStoreError);
    });

    it("leaves a client it was given open, and removes its error listener", async () => {
      const client = createClient({ url: server.url });
      await client.connect();
      const listenersBefore = client.listenerCount("error");
      const given = redisStore({ client, prefix: "given:" });
      expect(client.listenerCount("error")).toBe(listenersBefore + 1);
      await given.apply(sessionKey(), changes({ set: [["a", 1]] }));
      await given.close();
      expect(client.isReady).toBe(true);
      expect(client.listenerCount("error")).toBe(listenersBefore);
      expect(await client.ping()).toBe("PONG");
      await client.close();
    });
  });
});
