/**
 * What flagon/postgres adds to the conformance suite: the pool an app passes stays the app's, the
 * schema is versioned (a newer one is refused, not overwritten), expired rows are purged in bounded
 * batches (also by the timer), loads that queue up are answered together correctly, and the
 * statements use the indexes (EXPLAIN on a table of 200 000 rows).
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { SessionStoreError } from "../../src/errors.js";
import { prepareStatements } from "../../src/stores/postgres/statements.js";
import { type PostgresStore, postgresStore } from "../../src/stores/postgres.js";
import { changes, meta, sessionKey } from "../fixtures/redis-changes.js";
import { adminPool, DATABASE_URL, dropSchema, postgresAvailable, testSchema } from "../helpers/postgres.js";

const available = await postgresAvailable("PostgreSQL store tests (test/stores/postgres.test.ts)");
const schema = testSchema("store");

describe.skipIf(!available)("postgresStore", () => {
  const admin = available ? adminPool() : undefined;
  const stores: PostgresStore[] = [];
  const open = (table: string, extra: Partial<Parameters<typeof postgresStore>[0]> = {}) => {
    const store = postgresStore({ connectionString: DATABASE_URL, schema, table, ...extra });
    stores.push(store);
    return store;
  };
  afterAll(async () => {
    for (const store of stores) await store.close();
    if (admin) {
      await dropSchema(admin, schema);
      await admin.end();
    }
  });

  it("close() leaves a pool the app passed open (the app's to end); later calls reject", async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    try {
      const store = postgresStore({ pool, schema, table: "app_pool" });
      const key = sessionKey();
      await store.apply(key, changes({ set: [["a", 1]] }));
      await store.close();
      await store.close();
      expect((await pool.query("SELECT 1 AS one")).rows[0].one).toBe(1);
      await expect(store.get(key)).rejects.toBeInstanceOf(SessionStoreError);
      expect(pool.listenerCount("error")).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it("refuses a table whose schema is newer than this release, and changes nothing in it", async () => {
    const store = open("newer");
    await store.ready();
    await admin!.query(`INSERT INTO "${schema}"."newer_schema" (version) VALUES (99)`);
    const later = open("newer");
    const error = await later.get(sessionKey()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect((error as SessionStoreError).code).toBe("ERR_STORE_FAILED");
    expect((error as Error).message).toContain("schema version 99 is newer");
    const versions = await admin!.query(`SELECT version FROM "${schema}"."newer_schema" ORDER BY version`);
    expect(versions.rows.map((row) => row.version)).toEqual([1, 99]);
  });

  it("purge deletes expired rows in batches of purgeBatch and keeps live ones; the timer does it too", async () => {
    const store = open("purge", { purgeBatch: 100, purgeInterval: 0 });
    const past = Date.now() - 60_000;
    const live = sessionKey();
    await store.apply(live, changes({ set: [["live", true]] }));
    await Promise.all(
      Array.from({ length: 250 }, () =>
        store.apply(sessionKey(), changes({ meta: meta(past - 3_600_000, { expiresAt: past }) })),
      ),
    );
    expect(await store.purge()).toBe(250);
    expect((await store.get(live))?.data).toEqual({ live: true });
    const left = await admin!.query(`SELECT count(*)::int AS n FROM "${schema}"."purge"`);
    expect(left.rows[0].n).toBe(1);

    const timed = open("purge_timer", { purgeInterval: 50, purgeBatch: 10 });
    await Promise.all(
      Array.from({ length: 35 }, () =>
        timed.apply(sessionKey(), changes({ meta: meta(past - 3_600_000, { expiresAt: past }) })),
      ),
    );
    const until = Date.now() + 15_000;
    let count = -1;
    while (Date.now() < until) {
      count = (await admin!.query(`SELECT count(*)::int AS n FROM "${schema}"."purge_timer"`)).rows[0].n;
      if (count === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(count).toBe(0);
  });

  it("300 concurrent loads of different keys (answered in batches) each get their own record, or null", async () => {
    const store = open("loads", { poolSize: 2 });
    const keys = Array.from({ length: 300 }, () => sessionKey());
    await Promise.all(
      keys.map((key, i) =>
        i % 3 === 2
          ? Promise.resolve()
          : store.apply(
              key,
              changes({
                set: [["i", i]],
                meta: i % 3 === 1 ? meta(Date.now() - 7_200_000, { expiresAt: Date.now() - 1000 }) : meta(),
              }),
            ),
      ),
    );
    const records = await Promise.all(keys.map((key) => store.get(key)));
    records.forEach((record, i) => {
      if (i % 3 === 0) expect(record?.data).toEqual({ i });
      else expect(record).toBeNull();
    });
  });

  it("a revoked row ignores change sets that arrive later, and listUser no longer lists it", async () => {
    const store = open("revoke");
    const key = sessionKey();
    const lifecycle = { ref: "tag.abc", userId: "leo", userTag: "tag" };
    await store.apply(
      key,
      changes({ set: [["a", 1]], meta: meta(Date.now(), { lifecycle }), indexUser: "tag" }),
    );
    expect((await store.listUser("tag")).map((entry) => entry.key)).toEqual([key]);
    expect(await store.revoke(key)).toBe(true);
    expect(await store.revoke(key)).toBe(false);
    await store.apply(key, changes({ set: [["b", 2]], meta: meta(Date.now(), { lifecycle }) }));
    const record = await store.get(key);
    expect(record?.data).toEqual({});
    expect(record?.lifecycle?.revoked).toBe(true);
    expect(await store.listUser("tag")).toEqual([]);
  });

  it("commits that move the expiry within its minute update the row in place (HOT: no index writes)", async () => {
    const store = open("hot");
    const key = sessionKey();
    const start = Date.now();
    // The same minute for every commit (the expiry moves by 1 ms each time), whatever the clock says.
    const base = (Math.floor(start / 60_000) + 120) * 60_000;
    for (let i = 0; i < 200; i++) {
      await store.apply(
        key,
        changes({ set: [["n", i]], meta: meta(start, { lastSeenAt: start + i, expiresAt: base + i }) }),
      );
    }
    expect((await store.get(key))?.data).toEqual({ n: 199 });
    // The server publishes a connection's counters once it is idle (within about 10 s).
    const until = Date.now() + 30_000;
    let stats = { updates: 0, hot: 0 };
    while (Date.now() < until) {
      const row = await admin!.query<{ updates: string; hot: string }>(
        `SELECT n_tup_upd AS updates, n_tup_hot_upd AS hot FROM pg_stat_user_tables
          WHERE schemaname = $1 AND relname = 'hot'`,
        [schema],
      );
      stats = { updates: Number(row.rows[0]?.updates ?? 0), hot: Number(row.rows[0]?.hot ?? 0) };
      if (stats.updates >= 199) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(stats.updates).toBe(199);
    expect(stats.hot).toBeGreaterThanOrEqual(190);
  }, 60_000);

  it("at 200 000 rows, load, purge and listUser read through their indexes (EXPLAIN), never a sequential scan", async () => {
    const store = open("big");
    await store.ready();
    const now = Date.now();
    await admin!.query(
      `INSERT INTO "${schema}"."big"
         (key, data, flashes, created_at, last_seen_at, expires_at, permanent, user_tag, expires_minute)
       SELECT md5(i::text), '{}', '[]', $1::bigint, $1::bigint, $1::bigint + (i - 1000) * 1000, false,
              CASE WHEN i % 50 = 0 THEN 'user' || (i % 500) END, ($1::bigint + (i - 1000) * 1000) / 60000
         FROM generate_series(1, 200000) AS i`,
      [now],
    );
    await admin!.query(`ANALYZE "${schema}"."big"`);
    const statements = prepareStatements({ schema, table: "big" });
    let prepared = 0;
    /** The generic plan of a statement (parameters unknown), as a prepared statement gets after a few runs. */
    const plan = async (text: string, args: string) => {
      const client = await admin!.connect();
      prepared += 1;
      const name = `explain_${prepared}`;
      try {
        await client.query("SET plan_cache_mode = force_generic_plan");
        await client.query(`PREPARE ${name} AS ${text}`);
        const result = await client.query(`EXPLAIN EXECUTE ${name}(${args})`);
        return result.rows.map((row) => row["QUERY PLAN"]).join("\n");
      } finally {
        await client.query(`DEALLOCATE ${name}`);
        await client.query("RESET plan_cache_mode");
        client.release();
      }
    };
    const load = await plan(statements.get.text, `'${sessionKey()}', ${now}`);
    expect(load).toMatch(/Index Scan using big_pkey/);
    const many = await plan(statements.getMany.text, `ARRAY['${sessionKey()}', '${sessionKey()}'], ${now}`);
    expect(many).toMatch(/Index Scan using big_pkey|Bitmap Index Scan on big_pkey/);
    const purge = await plan(statements.purge.text, `${Math.floor(now / 60_000)}, 1000`);
    expect(purge).toMatch(/Index Scan using big_expires_minute/);
    expect(purge).toMatch(/Tid Scan on big/);
    const list = await plan(statements.listUser.text, `'user10', ${now}`);
    expect(list).toMatch(/Index Scan using big_user_tag|Bitmap Index Scan on big_user_tag/);
    for (const text of [load, many, purge, list]) {
      expect(text).not.toMatch(/Seq Scan on big/);
      expect(text).toMatch(/\$1/); // a generic plan: the parameters stay unknown
    }
    // ~1000 rows expired; those of the current minute wait for the next one (at most 60 here).
    const purged = await store.purge();
    expect(purged).toBeGreaterThanOrEqual(999 - 60);
    expect(purged).toBeLessThanOrEqual(999);
  }, 60_000);
});
