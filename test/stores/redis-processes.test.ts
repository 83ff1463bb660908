/**
 * The store guarantees of docs/security.md across app processes: two Node processes share one
 * session through one Redis, with concurrent change sets from both.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisStore, redisStore } from "../../src/stores/redis.js";
import { changes, flash, sessionKey } from "../fixtures/redis-changes.js";
import { redisForTests, redisServerAvailable } from "../helpers/redis-server.js";

const available = await redisServerAvailable(
  "Redis cross-process tests (test/stores/redis-processes.test.ts)",
);
const WRITER = fileURLToPath(new URL("../fixtures/redis-writer.ts", import.meta.url));

interface Writer {
  child: ChildProcess;
  ready: Promise<void>;
  done: Promise<{ pid: number; sent: number; failed: number }>;
}

function startWriter(env: Record<string, string>): Writer {
  const child = spawn(process.execPath, ["--conditions=flagon-source", "--import", "tsx", WRITER], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    if (stdout.includes("ready\n")) markReady();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<{ pid: number; sent: number; failed: number }>((resolve, reject) => {
    child.once("exit", (code) => {
      const last = stdout.trim().split("\n").at(-1) ?? "";
      if (code === 0 && last.startsWith("{")) resolve(JSON.parse(last));
      else reject(new Error(`writer exited with ${code}: ${stderr.slice(-2000)}`));
    });
  });
  // Fail fast if the child dies before it is ready.
  const readyOrDead = Promise.race([ready, done.then(() => undefined)]);
  return { child, ready: readyOrDead, done };
}

describe.skipIf(!available)("redisStore across two processes", () => {
  let redis: Awaited<ReturnType<typeof redisForTests>>;
  let store: RedisStore;
  const prefix = `flagon-procs-${randomBytes(4).toString("hex")}:`;
  beforeAll(async () => {
    redis = await redisForTests();
    store = redisStore({ url: redis.url, prefix, commandTimeout: 10_000 });
  });
  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });

  async function runWriters(key: string, ranges: Array<[from: number, count: number]>, waves = 1) {
    const writers = ranges.map(([from, count]) =>
      startWriter({
        REDIS_URL: redis.url,
        PREFIX: prefix,
        KEY: key,
        FROM: String(from),
        COUNT: String(count),
        WAVES: String(waves),
      }),
    );
    await Promise.all(writers.map((w) => w.ready));
    for (const w of writers) w.child.stdin?.write("go\n"); // both fire at once
    return writers;
  }

  it("1000 concurrent change sets from two processes, each setting a different key: all 1000 keys and flashes survive", async () => {
    const key = sessionKey();
    const writers = await runWriters(key, [
      [0, 500],
      [500, 500],
    ]);
    const summaries = await Promise.all(writers.map((w) => w.done));
    expect(summaries.map((s) => s.failed)).toEqual([0, 0]);
    expect(new Set(summaries.map((s) => s.pid)).size).toBe(2);

    const record = await store.get(key);
    const data = record?.data ?? {};
    expect(Object.keys(data)).toHaveLength(1000);
    for (let i = 0; i < 1000; i++) expect(data[`k${i}`]).toMatchObject({ i });
    // Both processes really wrote: the values carry two different pids.
    expect(new Set(Object.values(data).map((v) => (v as { process: number }).process)).size).toBe(2);
    expect(new Set(record?.flashes.map((f) => f.id))).toEqual(
      new Set(Array.from({ length: 1000 }, (_, i) => `f${i}`)),
    );
  });

  it("consuming flashes removes only the ones that request read, while another process keeps adding", async () => {
    const key = sessionKey();
    await store.apply(key, changes({ flashAdd: Array.from({ length: 50 }, (_, i) => flash(`early ${i}`)) }));
    const [writer] = await runWriters(key, [[0, 500]], 20);

    // This process plays the requests that show flashes: read, then consume exactly what it read.
    const consumed = new Set<string>();
    let consumedWhileWriting = 0;
    let writerDone = false;
    const finished = writer!.done.then((summary) => {
      writerDone = true;
      return summary;
    });
    let rounds = 0;
    while (!writerDone || rounds < 3) {
      const read = (await store.get(key))?.flashes ?? [];
      const ids = read.map((f) => f.id);
      await store.apply(key, changes({ flashConsume: ids }));
      for (const id of ids) consumed.add(id);
      if (!writerDone) consumedWhileWriting += ids.filter((id) => /^f\d+$/.test(id)).length;
      rounds += 1;
      if (writerDone) break;
    }
    expect((await finished).failed).toBe(0);
    expect(consumedWhileWriting).toBeGreaterThan(0); // the reads really raced the writer

    const left = (await store.get(key))?.flashes.map((f) => f.id) ?? [];
    const added = Array.from({ length: 500 }, (_, i) => `f${i}`);
    // Nothing read survived; everything never read is still there; nothing got lost.
    for (const id of left) expect(consumed.has(id)).toBe(false);
    for (const id of added) expect(consumed.has(id) || left.includes(id)).toBe(true);
    expect(consumed.size + left.length).toBe(550);
  });
});
