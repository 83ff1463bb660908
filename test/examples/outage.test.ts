/**
 * The lesson apps (Express and Hono) on a Redis of their own, under continuous traffic from a test
 * client while that Redis is killed and started again: with onStoreUnavailable "degrade" (the apps'
 * choice) pages that need no session keep answering 200 and only writes get 503; with "fail" the
 * pages that read a session answer 503; both recover without a restart when Redis is back.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createApp as createExpressApp, type LessonSessionOptions } from "../../examples/lesson/app.js";
import { createApp as createHonoApp } from "../../examples/lesson-hono/app.js";
import { redisStore } from "../../src/stores/redis.js";
import {
  hasRedisBinaries,
  isRedisListening,
  type RedisServer,
  startRedisServer,
} from "../helpers/redis-server.js";

const SECRET = "lesson-outage-test-secret-0123456789abcdefgh";
const USERS = 12;
const WORKERS = 8;
/** Pages that only read the session (or none): they must keep answering 200 under "degrade". */
const READS = ["/", "/session_get", "/cookies_get", "/login"];
const WRITE = "/session_set";
const UNAVAILABLE_NOTICE = "The session store is unavailable";

type App = "express" | "hono";
const apps: App[] = ["express", "hono"];

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
}, 30_000);
afterAll(async () => {
  await redis?.stop();
});

const closers: Array<() => Promise<void>> = [];
/** The apps log each store failure with console.warn (they have no logger): counted, not printed. */
let warn: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  warn = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(async () => {
  warn.mockRestore();
  // The test may have left Redis down: later tests need it up.
  if (!(await isRedisListening(redis.port))) await redis.restart();
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function start(app: App, sessionOptions: LessonSessionOptions): Promise<string> {
  const store = redisStore({ url: redis.url, commandTimeout: 500, prefix: `outage:${Math.random()}:` });
  const options = { secret: SECRET, store, storeDescription: "in Redis", sessionOptions, production: true };
  if (app === "express") {
    const server = createExpressApp(options).listen(0, "127.0.0.1");
    await once(server, "listening");
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await store.close();
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const hono = createHonoApp(options);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: hono.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started));
  });
  closers.push(async () => {
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise((resolve) => server.close(() => resolve(undefined)));
    await store.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Answer {
  path: string;
  status: number;
  notice: boolean;
  /** The page read the session's data back ("Leo. Hello, World!."). */
  readBack: boolean;
  setCookie: boolean;
  /** Redis was known to be down when the request was sent. */
  down: boolean;
}

/** Logs USERS visitors in to the session pages (each gets a cookie backed by a Redis record). */
async function visitors(base: string): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const response = await fetch(`${base}${WRITE}`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    cookies.push(response.headers.getSetCookie()[0]!.split(";")[0]!);
  }
  return cookies;
}

/** Sends requests from WORKERS concurrent clients until `stop()`; each answer is recorded. */
function traffic(base: string, cookies: string[], state: { down: boolean }) {
  const answers: Answer[] = [];
  let running = true;
  let sent = 0;
  const worker = async () => {
    while (running) {
      const n = sent++;
      const path = n % 5 === 4 ? WRITE : READS[n % READS.length]!;
      const down = state.down;
      const response = await fetch(`${base}${path}`, { headers: { cookie: cookies[n % cookies.length]! } });
      const html = await response.text();
      answers.push({
        path,
        status: response.status,
        notice: html.includes(UNAVAILABLE_NOTICE),
        readBack: html.includes("Leo. Hello, World!."),
        setCookie: response.headers.getSetCookie().some((line) => line.startsWith("sid=")),
        down,
      });
    }
  };
  const workers = Array.from({ length: WORKERS }, worker);
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** Waits, with a deadline, until `check` holds for the answers recorded so far. */
async function until(what: string, check: () => boolean, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!hasRedisBinaries()).each(apps)("the %s lesson app while its Redis goes down", (app) => {
  it('"degrade": pages keep answering 200, only writes get 503, no cookie is replaced; it recovers', async () => {
    const base = await start(app, {});
    const cookies = await visitors(base);
    const state = { down: false };
    const load = traffic(base, cookies, state);
    await until("traffic", () => load.answers.length >= 40);
    const killedAt = Date.now();
    state.down = true;
    await redis.kill();
    const outageStart = load.answers.length;
    // Under load, a write during the outage is refused, and reads are served with the notice.
    await until("a refused write", () =>
      load.answers.slice(outageStart).some((answer) => answer.path === WRITE && answer.status === 503),
    );
    await until("a degraded read", () =>
      load.answers.slice(outageStart).some((answer) => answer.path === "/" && answer.notice),
    );
    const seenDown = load.answers.length;
    await until("more traffic while down", () => load.answers.length >= seenDown + 60);
    await until("two seconds of outage", () => Date.now() - killedAt >= 2_000);
    await redis.restart();
    state.down = false;
    // Recovery without a restart of the app: writes succeed again (the records died with Redis).
    const back = load.answers.length;
    await until("a write after Redis is back", () =>
      load.answers.slice(back).some((answer) => answer.path === WRITE && answer.status === 200),
    );
    await load.stop();

    const { answers } = load;
    expect(answers.length).toBeGreaterThan(150);
    // Not one 500, and no 503 on a page that only reads.
    for (const answer of answers) {
      if (answer.path === WRITE) expect([200, 503]).toContain(answer.status);
      else expect({ path: answer.path, status: answer.status }).toEqual({ path: answer.path, status: 200 });
    }
    // While down, a degraded page never sends a Set-Cookie: the visitor's real cookie survives.
    const degraded = answers.filter((answer) => answer.notice);
    expect(degraded.length).toBeGreaterThan(10);
    for (const answer of degraded) expect(answer.setCookie).toBe(false);
    const refused = answers.filter((answer) => answer.status === 503);
    for (const answer of refused) expect(answer.setCookie).toBe(false);
    // The outage was reported (once per failed request: the apps give no logger).
    expect(warn).toHaveBeenCalled();
  }, 60_000);

  it('"degrade" with a stalled Redis (socket open, no answers): pages answer 200 after the timeout', async () => {
    const base = await start(app, {});
    const cookies = await visitors(base);
    const state = { down: false };
    const load = traffic(base, cookies, state);
    await until("traffic", () => load.answers.length >= 40);
    state.down = true;
    redis.pause();
    const stalledAt = Date.now();
    const outageStart = load.answers.length;
    try {
      await until("a degraded read", () =>
        load.answers.slice(outageStart).some((answer) => answer.path === "/session_get" && answer.notice),
      );
      await until("two seconds stalled", () => Date.now() - stalledAt >= 2_000);
    } finally {
      redis.resume();
    }
    state.down = false;
    const back = load.answers.length;
    // The visitors' cookies survived: their sessions read back once Redis answers again.
    await until("a session read after Redis answers", () =>
      load.answers.slice(back).some((answer) => answer.path === "/session_get" && answer.readBack),
    );
    await load.stop();
    for (const answer of load.answers) {
      if (answer.path === WRITE) expect([200, 503]).toContain(answer.status);
      else expect({ path: answer.path, status: answer.status }).toEqual({ path: answer.path, status: 200 });
    }
  }, 60_000);

  it('"fail": pages that read a session answer 503 within the deadline, and recover', async () => {
    const base = await start(app, { onStoreUnavailable: "fail" });
    const cookies = await visitors(base);
    const state = { down: false };
    const load = traffic(base, cookies, state);
    await until("traffic", () => load.answers.length >= 40);
    const killedAt = Date.now();
    state.down = true;
    await redis.kill();
    const outageStart = load.answers.length;
    await until(
      "a 503 on a read",
      () =>
        load.answers
          .slice(outageStart)
          .some((answer) => answer.path === "/session_get" && answer.status === 503),
      5_000,
    );
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    await until("two seconds of outage", () => Date.now() - killedAt >= 2_000);
    await redis.restart();
    state.down = false;
    const back = load.answers.length;
    await until("a 200 on a read after Redis is back", () =>
      load.answers.slice(back).some((answer) => answer.path === "/session_get" && answer.status === 200),
    );
    await load.stop();
    // A store failure is a 503, never another 5xx.
    for (const answer of load.answers) expect([200, 503]).toContain(answer.status);
  }, 60_000);
});
