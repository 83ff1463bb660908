/**
 * expressSession() against the real express-session 1.19: cookies minted by a real Express app, the
 * records in the app's own store (express-session's MemoryStore, and connect-redis 9 on the real
 * Redis at 127.0.0.1:6379), read through that store's get(sid, callback).
 */
import { RedisStore } from "connect-redis";
import session, { type Store } from "express-session";
import fc from "fast-check";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions, memoryStore } from "../../src/index.js";
import { expressSession, unsignExpressSessionCookie } from "../../src/migrate/index.js";
import { expressSessionApp } from "../helpers/legacy-stacks.js";
import { isRedisListening } from "../helpers/redis-server.js";

const SECRET = "flagon secret for the express-session migration";
const LEGACY_SECRET = "keyboard cat";
const DAY = 86_400_000;

async function migrate(store: Store, cookie: string, destroyLegacy = false) {
  const sessions = createSessions({
    secret: SECRET,
    store: memoryStore(),
    migrateFrom: [expressSession({ secret: LEGACY_SECRET, store, destroyLegacy })],
  });
  const migrated = await sessions.load({ headers: { cookie } });
  const headers = new Headers();
  await sessions.commit(migrated, headers);
  return { session: migrated, lines: headers.getSetCookie() };
}

/** The same checks on any express-session store. */
function storeSuite(name: string, makeStore: () => Store | Promise<Store>) {
  describe(`expressSession on ${name}`, () => {
    let store: Store;
    let app: Awaited<ReturnType<typeof expressSessionApp>>;
    beforeAll(async () => {
      store = await makeStore();
      app = await expressSessionApp({ secret: LEGACY_SECRET, store, maxAge: DAY });
    });
    afterAll(async () => {
      await app?.close();
    });

    it("a user logged in with express-session stays logged in: the record's data becomes a flagon session", async () => {
      const data = { user: { id: 7, name: "Zoë" }, cart: [1, 2], flag: true };
      const cookie = await app.mint(data);
      const { session: migrated, lines } = await migrate(store, cookie);
      expect(migrated.migratedFrom).toBe("express-session");
      expect(migrated.toJSON()).toEqual(data);
      expect(migrated.permanent).toBe(true);
      expect(lines.map((line) => line.split("=", 1)[0])).toEqual(["sid", "connect.sid"]);
      expect(lines[1]).toContain("Max-Age=0");
      // The legacy record is left alone: the old app still reads it.
      expect(await app.read(cookie)).toEqual(data);
    });

    it("destroyLegacy: the record is gone once the flagon session is committed", async () => {
      const cookie = await app.mint({ user: "leo" });
      const { session: migrated } = await migrate(store, cookie, true);
      expect(migrated.get("user")).toBe("leo");
      expect(await app.read(cookie)).toEqual({});
      // Replaying the legacy cookie now finds nothing.
      expect((await migrate(store, cookie)).session.migratedFrom).toBeUndefined();
    });

    it("a tampered cookie is refused by both express-session and flagon", async () => {
      const cookie = await app.mint({ user: "leo" });
      const value = decodeURIComponent(cookie.slice("connect.sid=".length));
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 2, max: value.length - 1 }),
          fc.constantFrom("A", "b", "0", "-"),
          async (index, char) => {
            fc.pre(value[index] !== char);
            const tampered = `connect.sid=${encodeURIComponent(value.slice(0, index) + char + value.slice(index + 1))}`;
            const expressReads = Object.keys(await app.read(tampered)).length > 0;
            const { session: migrated, lines } = await migrate(store, tampered);
            expect(migrated.migratedFrom !== undefined).toBe(expressReads);
            expect(expressReads).toBe(false);
            expect(lines).toEqual([]);
          },
        ),
        { numRuns: 20 },
      );
    });
  });
}

storeSuite("express-session's MemoryStore", () => new session.MemoryStore());

const redisURL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const redisUp =
  process.env.REDIS_URL !== undefined || process.env.CI !== undefined || (await isRedisListening(6379));
if (!redisUp)
  console.warn(
    "[flagon] SKIPPED expressSession on connect-redis: nothing on 127.0.0.1:6379 (set CI=1 to fail).",
  );
describe.runIf(redisUp)("connect-redis on the real Redis", () => {
  const client = createClient({ url: redisURL });
  const prefix = `flagon-migrate-test:${process.pid}:`;
  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(keys);
    await client.quit();
  });
  storeSuite("connect-redis 9", () => new RedisStore({ client, prefix }));

  it("reads the record connect-redis wrote under its own key", async () => {
    const store = new RedisStore({ client, prefix });
    const app = await expressSessionApp({ secret: LEGACY_SECRET, store, maxAge: DAY });
    try {
      const cookie = await app.mint({ user: "redis" });
      const unsigned = unsignExpressSessionCookie(decodeURIComponent(cookie.slice("connect.sid=".length)), [
        LEGACY_SECRET,
      ]);
      expect(unsigned.ok).toBe(true);
      const raw = await client.get(`${prefix}${(unsigned as { sid: string }).sid}`);
      expect(JSON.parse(raw!)).toMatchObject({ user: "redis", cookie: { originalMaxAge: DAY } });
      expect((await migrate(store, cookie)).session.get("user")).toBe("redis");
    } finally {
      await app.close();
    }
  });
});

describe("unsignExpressSessionCookie", () => {
  it("accepts any of a rotation list and says which", async () => {
    const store = new session.MemoryStore();
    const app = await expressSessionApp({ secret: ["old one"], store });
    try {
      const value = decodeURIComponent((await app.mint({ a: 1 })).slice("connect.sid=".length));
      expect(unsignExpressSessionCookie(value, ["new one", "old one"])).toMatchObject({
        ok: true,
        keyIndex: 1,
      });
      expect(unsignExpressSessionCookie(value, ["new one"])).toEqual({ ok: false, reason: "bad-mac" });
      expect(unsignExpressSessionCookie(value.slice(2), ["old one"])).toEqual({
        ok: false,
        reason: "malformed",
      });
    } finally {
      await app.close();
    }
  });
});
