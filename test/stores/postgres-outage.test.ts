/**
 * A database that refuses, stalls or drops the connection: every store call fails with
 * SessionStoreError within its deadline (never hangs), Express answers 503, and the store recovers by
 * itself once the database is back. Real PostgreSQL behind a TCP proxy the test controls.
 */
import { performance } from "node:perf_hooks";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessions } from "../../src/adapters/express/index.js";
import { SessionStoreError } from "../../src/errors.js";
import { type PostgresStore, postgresStore } from "../../src/stores/postgres.js";
import { changes, sessionKey } from "../fixtures/redis-changes.js";
import { adminPool, dropSchema, postgresAvailable, testSchema } from "../helpers/postgres.js";
import { closedPort, startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";

const available = await postgresAvailable("PostgreSQL outage tests (test/stores/postgres-outage.test.ts)");
const DEADLINE_MS = 1000;
/** A loaded 2-core machine: the deadline plus this much for timers and the event loop. */
const SLACK_MS = 1500;
const schema = testSchema("outage");

/** Resolves once `attempt` succeeds, retrying until `within` ms have passed. */
async function eventually<T>(attempt: () => Promise<T>, within = 15_000): Promise<T> {
  const until = performance.now() + within;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (performance.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function timed(work: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  try {
    await work;
    return { error: undefined, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

describe.skipIf(!available)("postgresStore when the database fails", () => {
  const admin = available ? adminPool() : undefined;
  let proxy: TcpProxy;
  const stores: PostgresStore[] = [];
  const open = (port: number, table = "sessions", statementTimeout = DEADLINE_MS) => {
    const store = postgresStore({
      connectionString: `postgres://postgres@127.0.0.1:${port}/test`,
      schema,
      table,
      statementTimeout,
      connectTimeout: DEADLINE_MS,
      poolSize: 2,
    });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: "127.0.0.1", port: 5432 });
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await proxy?.close();
    if (admin) {
      await dropSchema(admin, schema);
      await admin.end();
    }
  });

  it("a refused connection (nothing listening) rejects with SessionStoreError at once", async () => {
    const store = open(await closedPort());
    const { error, ms } = await timed(store.get(sessionKey()));
    expect(error).toBeInstanceOf(SessionStoreError);
    expect((error as SessionStoreError).code).toBe("ERR_STORE_UNAVAILABLE");
    expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    await expect(store.apply(sessionKey(), changes({ set: [["a", 1]] }))).rejects.toBeInstanceOf(
      SessionStoreError,
    );
  });

  it("a stalled database (connection open, no answer) fails get and apply within the deadline; the store recovers when it answers again", async () => {
    const store = open(proxy.port);
    const key = sessionKey();
    await store.apply(key, changes({ set: [["before", 1]] }));
    proxy.stall();
    try {
      for (const call of [() => store.get(key), () => store.apply(key, changes({ set: [["during", 1]] }))]) {
        const { error, ms } = await timed(call());
        expect(error).toBeInstanceOf(SessionStoreError);
        expect((error as SessionStoreError).code).toBe("ERR_STORE_UNAVAILABLE");
        expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
        expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
      }
      // New connections are held too (the connect timeout): still bounded.
      const fresh = open(proxy.port, "sessions_fresh");
      const { error, ms } = await timed(fresh.get(key));
      expect(error).toBeInstanceOf(SessionStoreError);
      expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    } finally {
      proxy.resume();
    }
    const record = await eventually(() => store.get(key));
    expect(record?.data.before).toBe(1);
    await eventually(() => store.apply(key, changes({ set: [["after", 2]] })));
    expect((await store.get(key))?.data).toMatchObject({ before: 1, after: 2 });
  });

  it("a database that goes down and comes back: calls fail meanwhile, then work again without a restart", async () => {
    const store = open(proxy.port);
    const key = sessionKey();
    await store.apply(key, changes({ set: [["a", 1]] }));
    await proxy.down();
    try {
      const { error, ms } = await timed(store.get(key));
      expect(error).toBeInstanceOf(SessionStoreError);
      expect(ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    } finally {
      await proxy.up();
    }
    expect((await eventually(() => store.get(key)))?.data).toEqual({ a: 1 });
  });

  it("Express answers 503 while the database stalls and serves the session again after", async () => {
    const store = open(proxy.port, "sessions_express");
    const app = express();
    app.use(sessions({ secret: "outage-secret-0123456789-abcdefghijklmnop", store }));
    app.get("/set", (req, res) => {
      req.session.set("name", "Leo");
      res.send("set");
    });
    app.get("/get", (req, res) => {
      res.send(String(req.session.get("name")));
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const set = await fetch(`${url}/set`);
      const cookie = set.headers.getSetCookie()[0]?.split(";")[0] ?? "";
      expect(cookie).not.toBe("");
      proxy.stall();
      try {
        const started = performance.now();
        const down = await fetch(`${url}/get`, { headers: { cookie } });
        expect(down.status).toBe(503);
        expect(performance.now() - started).toBeLessThan(DEADLINE_MS + SLACK_MS);
      } finally {
        proxy.resume();
      }
      const back = await eventually(async () => {
        const response = await fetch(`${url}/get`, { headers: { cookie } });
        if (response.status !== 200) throw new Error(`status ${response.status}`);
        return response.text();
      });
      expect(back).toBe("Leo");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("a connection killed in the middle of a commit (pg_terminate_backend) leaves none of its change set, and the next commit works", async () => {
    // A deadline long enough that the kill, not the timeout, ends the commit.
    const store = open(5432, "sessions_kill", 20_000);
    const key = sessionKey();
    await store.apply(key, changes({ set: [["kept", "before"]] }));
    const locker = await admin!.connect();
    try {
      // Hold the row so the commit is caught inside its statement, then kill that statement's backend.
      await locker.query("BEGIN");
      await locker.query(`SELECT 1 FROM "${schema}"."sessions_kill" WHERE key = $1 FOR UPDATE`, [key]);
      const commit = timed(
        store.apply(
          key,
          changes({
            clear: true,
            set: Array.from({ length: 50 }, (_, i) => [`k${i}`, i] as const),
            flashAdd: [{ id: "lost", category: "message", message: "never" }],
          }),
        ),
      );
      const pid = await eventually(async () => {
        const found = await admin!.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity
            WHERE application_name = 'flagon' AND wait_event_type = 'Lock' AND query LIKE $1`,
          [`%INSERT INTO "${schema}"."sessions_kill"%`],
        );
        if (found.rows[0] === undefined) throw new Error("the commit is not waiting yet");
        return found.rows[0].pid;
      }, 5000);
      await admin!.query("SELECT pg_terminate_backend($1)", [pid]);
      const { error } = await commit;
      expect(error).toBeInstanceOf(SessionStoreError);
    } finally {
      await locker.query("ROLLBACK");
      locker.release();
    }
    const record = await store.get(key);
    expect(record?.data).toEqual({ kept: "before" });
    expect(record?.flashes).toEqual([]);
    await store.apply(key, changes({ set: [["after", true]] }));
    expect((await store.get(key))?.data).toEqual({ kept: "before", after: true });
  });
});
