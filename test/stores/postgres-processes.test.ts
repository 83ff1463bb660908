/**
 * The store guarantees across app processes: two Node processes share one session through one
 * PostgreSQL, each with 500 concurrent change sets of different keys; none is lost, no flash either.
 * Also: processes starting at the same time on a fresh schema migrate it exactly once.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { postgresStore } from "../../src/stores/postgres.js";
import { changes, sessionKey } from "../fixtures/redis-changes.js";
import { adminPool, DATABASE_URL, dropSchema, postgresAvailable, testSchema } from "../helpers/postgres.js";

const available = await postgresAvailable(
  "PostgreSQL cross-process tests (test/stores/postgres-processes.test.ts)",
);
const WRITER = fileURLToPath(new URL("../fixtures/postgres-writer.ts", import.meta.url));

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
  const readyOrDead = Promise.race([ready, done.then(() => undefined)]);
  return { child, ready: readyOrDead, done };
}

describe.skipIf(!available)("postgresStore across processes", () => {
  const admin = available ? adminPool() : undefined;
  const schemas: string[] = [];
  afterAll(async () => {
    if (admin) {
      for (const schema of schemas) await dropSchema(admin, schema);
      await admin.end();
    }
  });

  it("two processes × 500 concurrent change sets of different keys to one session: all 1000 keys and flashes survive", async () => {
    const schema = testSchema("procs");
    schemas.push(schema);
    const key = sessionKey();
    const writers = [0, 500].map((from) =>
      startWriter({ DATABASE_URL, SCHEMA: schema, KEY: key, FROM: String(from), COUNT: "500" }),
    );
    await Promise.all(writers.map((w) => w.ready));
    for (const w of writers) w.child.stdin?.write("go\n");
    const summaries = await Promise.all(writers.map((w) => w.done));
    expect(summaries.map((s) => s.failed)).toEqual([0, 0]);
    expect(new Set(summaries.map((s) => s.pid)).size).toBe(2);

    const store = postgresStore({ connectionString: DATABASE_URL, schema });
    try {
      const record = await store.get(key);
      const data = record?.data ?? {};
      expect(Object.keys(data)).toHaveLength(1000);
      for (let i = 0; i < 1000; i++) expect(data[`k${i}`]).toMatchObject({ i });
      expect(new Set(Object.values(data).map((v) => (v as { process: number }).process)).size).toBe(2);
      expect(new Set(record?.flashes.map((f) => f.id))).toEqual(
        new Set(Array.from({ length: 1000 }, (_, i) => `f${i}`)),
      );
    } finally {
      await store.close();
    }
  }, 120_000);

  it("eight stores starting at once on a fresh schema migrate it once, and all of them work", async () => {
    const schema = testSchema("migrate");
    schemas.push(schema);
    const stores = Array.from({ length: 8 }, () =>
      postgresStore({
        connectionString: DATABASE_URL,
        schema,
        poolSize: 1,
        statementTimeout: 30_000,
        connectTimeout: 30_000,
      }),
    );
    try {
      await Promise.all(stores.map((store) => store.ready()));
      const history = await admin!.query<{ version: number }>(
        `SELECT version FROM "${schema}"."flagon_sessions_schema" ORDER BY version`,
      );
      expect(history.rows.map((row) => row.version)).toEqual([1]);
      const key = sessionKey();
      await Promise.all(stores.map((store, i) => store.apply(key, changes({ set: [[`s${i}`, i]] }))));
      expect(Object.keys((await stores[0]!.get(key))?.data ?? {})).toHaveLength(8);
    } finally {
      for (const store of stores) await store.close();
    }
  }, 60_000);
});
