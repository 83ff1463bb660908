/**
 * Redis going away under load: requests that need the session fail with SessionStoreError
 * (ERR_STORE_UNAVAILABLE) within the deadline, the process never crashes, and the store
 * recovers by itself. Dead (connection refused) and stalled (SIGSTOP, socket open) differ in
 * node-redis, so both are tested against a private redis-server.
 */
import { performance } from "node:perf_hooks";
import { createClient } from "redis";
import { afterEach, describe, expect, it } from "vitest";
import { SessionStoreError } from "../../src/errors.js";
import { type RedisStore, redisStore } from "../../src/stores/redis.js";
import { changes, sessionKey } from "../fixtures/redis-changes.js";
import {
  freePort,
  type RedisServer,
  redisTestsAvailable,
  startRedisServer,
} from "../helpers/redis-server.js";

const available = redisTestsAvailable("Redis outage tests (test/stores/redis-outage.test.ts)");
/** Event-loop and scheduling slack on a shared, often loaded 2-core machine. */
const SLACK_MS = 500;

interface Outcome {
  ok: boolean;
  ms: number;
  at: number;
  error?: unknown;
}

/** `workers` loops of get/apply on one session until stop(); every outcome is recorded. */
function load(store: RedisStore, key: string, workers = 20) {
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async (_, worker) => {
    let i = 0;
    while (running) {
      const start = performance.now();
      const op = i++ % 2 === 0 ? store.get(key) : store.apply(key, changes({ set: [[`w${worker}`, i]] }));
      try {
        await op;
        outcomes.push({ ok: true, ms: performance.now() - start, at: performance.now() });
      } catch (error) {
        outcomes.push({ ok: false, ms: performance.now() - start, at: performance.now(), error });
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function expectAllUnavailable(failures: Outcome[], deadlineMs: number): void {
  if (process.env.FLAGON_REDIS_REPORT) {
    const ms = failures.map((f) => f.ms).sort((a, b) => a - b);
    console.log(
      `failures=${ms.length} p50=${ms[ms.length >> 1]?.toFixed(1)} max=${ms.at(-1)?.toFixed(1)} ms`,
    );
  }
  expect(failures.length).toBeGreaterThan(0);
  for (const failure of failures) {
    expect(failure.error).toBeInstanceOf(SessionStoreError);
    expect(failure.error).toMatchObject({ code: "ERR_STORE_UNAVAILABLE" });
  }
  expect(Math.max(...failures.map((f) => f.ms))).toBeLessThan(deadlineMs + SLACK_MS);
}

describe.skipIf(!available)("redisStore when Redis goes away", () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  async function server(port?: number): Promise<RedisServer> {
    const started = await startRedisServer(port === undefined ? {} : { port });
    cleanup.push(() => started.stop());
    return started;
  }
  function store(options: Parameters<typeof redisStore>[0]): RedisStore {
    const created = redisStore(options);
    cleanup.push(() => created.close());
    return created;
  }

  it("dead (killed): every request fails with ERR_STORE_UNAVAILABLE within the default 1 s, then recovers", async () => {
    const redis = await server();
    const sessions = store({ url: redis.url });
    const key = sessionKey();
    await sessions.apply(key, changes({ set: [["before", 1]] }));

    const traffic = load(sessions, key);
    await sleep(200);
    const killedAt = performance.now();
    await redis.kill();
    await sleep(1500);
    const restartedAt = performance.now();
    await redis.restart();
    await until(() => traffic.outcomes.some((o) => o.ok && o.at > restartedAt), 5000, "recovery");
    await sleep(100);
    await traffic.stop();

    const during = traffic.outcomes.filter((o) => o.at > killedAt + 50 && o.at < restartedAt);
    expect(during.length).toBeGreaterThan(50); // the load kept coming
    expect(during.every((o) => !o.ok)).toBe(true);
    expectAllUnavailable(
      traffic.outcomes.filter((o) => !o.ok),
      1000,
    );
    expect(traffic.outcomes.filter((o) => o.ok && o.at < killedAt).length).toBeGreaterThan(0);

    // One reconnected socket, not a pile of half-open ones.
    const admin = createClient({ url: redis.url });
    await admin.connect();
    const clients = (await admin.clientList()).filter((c) => c.cmd !== "client|list");
    await admin.close();
    expect(clients).toHaveLength(1);
  });

  it("stalled (SIGSTOP): requests fail within `commandTimeout`, then fail fast; SIGCONT recovers with the data", async () => {
    const redis = await server();
    const sessions = store({ url: redis.url, commandTimeout: 400 });
    const key = sessionKey();
    await sessions.apply(key, changes({ set: [["kept", "yes"]] }));

    const traffic = load(sessions, key);
    await sleep(200);
    const stoppedAt = performance.now();
    redis.pause();
    let resumed = false;
    cleanup.push(async () => {
      if (!resumed) redis.resume();
    });
    await sleep(1500);
    const resumedAt = performance.now();
    redis.resume();
    resumed = true;
    await until(() => traffic.outcomes.some((o) => o.ok && o.at > resumedAt), 3000, "recovery");
    await sleep(100);
    await traffic.stop();

    const failures = traffic.outcomes.filter((o) => !o.ok);
    expectAllUnavailable(failures, 400);
    // The requests caught on the wire waited for the deadline; the rest did not queue behind them.
    expect(failures.some((f) => f.ms >= 390)).toBe(true);
    const later = failures.filter((f) => f.at > stoppedAt + 800 && f.at < resumedAt);
    expect(later.length).toBeGreaterThan(20);
    expect(later.filter((f) => f.ms < 50).length / later.length).toBeGreaterThan(0.9);
    expect((await sessions.get(key))?.data.kept).toBe("yes");
  });

  it("waits (within the deadline) for a first connection, and connects once Redis starts", async () => {
    const port = await freePort();
    const sessions = store({ url: `redis://127.0.0.1:${port}`, commandTimeout: 300 });
    const start = performance.now();
    const failure = await sessions.get(sessionKey()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SessionStoreError);
    expect(failure).toMatchObject({ code: "ERR_STORE_UNAVAILABLE" });
    expect(performance.now() - start).toBeLessThan(300 + SLACK_MS);

    await server(port);
    const key = sessionKey();
    let stored = false;
    const deadline = Date.now() + 5000;
    while (!stored && Date.now() < deadline) {
      stored = await sessions.apply(key, changes({ set: [["a", 1]] })).then(
        () => true,
        () => false,
      );
      if (!stored) await sleep(50);
    }
    expect(stored).toBe(true);
    expect((await sessions.get(key))?.data).toEqual({ a: 1 });
  });

  it("a burst of requests while the first connect is refused fails fast with the cause (no listener pile-up), then recovers", async () => {
    const port = await freePort();
    const sessions = store({ url: `redis://127.0.0.1:${port}`, commandTimeout: 4000 });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    cleanup.push(async () => process.off("warning", onWarning));

    const started = performance.now();
    const burst = await Promise.allSettled(Array.from({ length: 50 }, () => sessions.get(sessionKey())));
    // A refusal is an answer: nobody waits for the 4 s deadline.
    expect(performance.now() - started).toBeLessThan(2000);
    for (const outcome of burst) {
      expect(outcome.status).toBe("rejected");
      const error = (outcome as PromiseRejectedResult).reason as SessionStoreError;
      expect(error.code).toBe("ERR_STORE_UNAVAILABLE");
      expect(error.message).toBe(`Redis 127.0.0.1:${port} refused the connection (ECONNREFUSED)`);
      expect((error.cause as { code?: string }).code).toBe("ECONNREFUSED");
    }
    expect(warnings.map((w) => w.name)).not.toContain("MaxListenersExceededWarning");

    await server(port);
    // Recovers by itself once Redis listens (node-redis reconnects; waited on a deadline, not a sleep).
    const deadline = Date.now() + 15_000;
    let recovered = false;
    while (!recovered && Date.now() < deadline) {
      recovered = await sessions.get(sessionKey()).then(
        (record) => record === null,
        () => false,
      );
      if (!recovered) await sleep(50);
    }
    expect(recovered).toBe(true);
  });

  it("a client the app created without an 'error' listener cannot crash the process", async () => {
    const redis = await server();
    const client = createClient({ url: redis.url, socket: { reconnectStrategy: 100 } });
    await client.connect();
    cleanup.push(async () => client.destroy());
    const sessions = store({ client });
    const key = sessionKey();
    await sessions.apply(key, changes({ set: [["a", 1]] }));

    await redis.kill(); // emits 'error' on the client, repeatedly while it reconnects
    await sleep(300);
    const start = performance.now();
    await expect(sessions.get(key)).rejects.toMatchObject({ code: "ERR_STORE_UNAVAILABLE" });
    expect(performance.now() - start).toBeLessThan(50); // reconnecting: fail at once, no queueing

    await redis.restart();
    await until(() => client.isReady, 5000, "the app's client to reconnect");
    await sessions.apply(key, changes({ set: [["b", 2]] }));
    expect((await sessions.get(key))?.data).toEqual({ b: 2 }); // the restart lost "a" (no persistence)
  });
});
