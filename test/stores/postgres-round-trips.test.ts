/**
 * Round trips per request, counted on the pool itself (every query the library sends), for flagon's
 * store through the core and for express-session + connect-pg-simple on the same routes: the numbers
 * docs/postgres.md and the benchmark note quote.
 */

import connectPgSimple from "connect-pg-simple";
import express from "express";
import session from "express-session";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createSessions } from "../../src/index.js";
import { postgresStore } from "../../src/stores/postgres.js";
import { adminPool, DATABASE_URL, dropSchema, postgresAvailable, testSchema } from "../helpers/postgres.js";

const available = await postgresAvailable(
  "PostgreSQL round trips (test/stores/postgres-round-trips.test.ts)",
);
const schema = testSchema("trips");
const SECRET = "round-trips-secret-0123456789-abcdefghijkl";

/** A pg.Pool whose every query() is counted (pool.query and client.query of checked-out clients). */
function countingPool(): { pool: pg.Pool; count: () => number; reset: () => void } {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  pool.on("error", () => undefined);
  let queries = 0;
  const poolQuery = pool.query.bind(pool);
  pool.query = ((...args: Parameters<pg.Pool["query"]>) => {
    queries += 1;
    return (poolQuery as (...a: unknown[]) => unknown)(...args);
  }) as pg.Pool["query"];
  return { pool, count: () => queries, reset: () => (queries = 0) };
}

/**
 * The count once the library is done: express-session may finish a request's store call (its touch,
 * its save) after the body has reached the client, so wait until `expected` queries were sent (or
 * 3 s), then a little longer to see that no more follow.
 */
async function settledCount(count: () => number, expected: number): Promise<number> {
  const until = Date.now() + 3000;
  while (count() < expected && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
  await new Promise((resolve) => setTimeout(resolve, 100));
  return count();
}

function cookieOf(response: Response, previous?: string): string | undefined {
  const line = response.headers.getSetCookie()[0];
  return line === undefined ? previous : line.split(";")[0];
}

describe.skipIf(!available)("round trips per request", () => {
  const admin = available ? adminPool() : undefined;
  const pools: pg.Pool[] = [];
  afterAll(async () => {
    for (const pool of pools) await pool.end();
    if (admin) {
      await dropSchema(admin, schema);
      await admin.end();
    }
  });

  it("flagon: a read is 1 query, a write 2, a read-only request writes nothing, a login 3 (1 without a cookie)", async () => {
    const { pool, count, reset } = countingPool();
    pools.push(pool);
    const store = postgresStore({ pool, schema, table: "sessions", purgeInterval: 0 });
    await store.ready();
    const sessions = createSessions({ secret: SECRET, store });
    const request = async (
      cookie: string | undefined,
      handle: (s: Awaited<ReturnType<typeof sessions.load>>) => void,
    ) => {
      reset();
      const s = await sessions.load({ headers: { cookie }, secure: false });
      handle(s);
      const headers = new Headers();
      await sessions.commit(s, headers);
      const line = headers.getSetCookie()[0];
      return { queries: count(), cookie: line === undefined ? cookie : line.split(";")[0] };
    };
    const first = await request(undefined, (s) => s.set("name", "Leo"));
    expect(first.queries).toBe(1); // a new session: no load, one commit
    const read = await request(first.cookie, (s) => void s.get("name"));
    expect(read.queries).toBe(1);
    const write = await request(first.cookie, (s) => s.set("visitor", "x"));
    expect(write.queries).toBe(2);
    const login = await request(first.cookie, (s) => {
      s.regenerate();
      s.set("user", "leo");
      s.flash("Login Successfully.");
    });
    // load, then the new record's commit and the old record's delete
    expect(login.queries).toBe(3);
    // The bench's login: no cookie sent, regenerate, set, flash (shown in the same response).
    const fresh = await request(undefined, (s) => {
      s.regenerate();
      s.set("user", "leo");
      s.flash("Login Successfully.");
      s.getFlashedMessages();
    });
    expect(fresh.queries).toBe(1);
    const none = await request(undefined, () => undefined);
    expect(none.queries).toBe(0);
    await sessions.close();
  });

  it("express-session + connect-pg-simple: a read is 2 queries (SELECT, then an UPDATE of the expiry), a write 2, a login 2", async () => {
    const { pool, count, reset } = countingPool();
    pools.push(pool);
    const PgStore = connectPgSimple(session);
    const store = new PgStore({
      pool,
      schemaName: schema,
      tableName: "es_session",
      createTableIfMissing: true,
      pruneSessionInterval: false,
    });
    await admin!.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const app = express();
    app.use(session({ secret: SECRET, resave: false, saveUninitialized: false, store }));
    app.get("/set", (req, res) => {
      (req.session as unknown as Record<string, unknown>).name = `Leo ${req.query.v ?? ""}`;
      res.send("ok");
    });
    app.get("/get", (req, res) => {
      res.send(String((req.session as unknown as Record<string, unknown>).name));
    });
    app.get("/login", (req, res, next) => {
      // express-session's regenerate (the global Express types carry flagon's Session).
      const own = req.session as unknown as { regenerate(done: (error: unknown) => void): void };
      own.regenerate((error: unknown) => {
        if (error) return next(error);
        (req.session as unknown as Record<string, unknown>).user = "leo";
        res.send("in");
      });
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      // connect-pg-simple creates its table on its first query: not part of any request counted here.
      await new Promise<void>((resolve, reject) =>
        store.get("warm-up", (error) => (error ? reject(error) : resolve())),
      );
      reset();
      const first = await fetch(`${url}/set`);
      const cookie = cookieOf(first) as string;
      expect(await settledCount(count, 1)).toBe(1);
      reset();
      expect(await (await fetch(`${url}/get`, { headers: { cookie } })).text()).toBe("Leo ");
      expect(await settledCount(count, 2)).toBe(2);
      reset();
      await fetch(`${url}/set?v=2`, { headers: { cookie } });
      expect(await settledCount(count, 2)).toBe(2);
      reset();
      expect(await (await fetch(`${url}/login`)).text()).toBe("in"); // no cookie: regenerate's DELETE, then the upsert
      expect(await settledCount(count, 2)).toBe(2);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      store.close();
    }
  });
});
