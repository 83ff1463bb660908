import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { ConfigError, FlagonError, SessionStoreError } from "../../src/errors.js";
import { SCHEMA_VERSION } from "../../src/stores/sqlite/schema.js";
import { type SqliteStore, sqliteStore } from "../../src/stores/sqlite.js";
import type { ChangeSet, FlashMessage, SessionMeta } from "../../src/stores/types.js";

const root = mkdtempSync(join(tmpdir(), "flagon-sqlite-"));
let counter = 0;
const open: SqliteStore[] = [];
const raw: Database.Database[] = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const db of raw.splice(0)) if (db.open) db.close();
  for (const store of open.splice(0)) await store.close();
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function freshPath(name = "sessions.db"): string {
  counter += 1;
  return join(root, `case-${counter}`, name);
}

function makeStore(options: Partial<Parameters<typeof sqliteStore>[0]> = {}): SqliteStore {
  const store = sqliteStore({ path: freshPath(), purgeInterval: 0, ...options });
  open.push(store);
  return store;
}

function connect(path: string, options?: Database.Options): Database.Database {
  const db = new Database(path, { timeout: 0, ...options });
  raw.push(db);
  return db;
}

function key(id: string): string {
  return createHash("sha256").update(id).digest("hex");
}

function meta(overrides: Partial<SessionMeta> = {}): SessionMeta {
  const now = Date.now();
  return { createdAt: now, lastSeenAt: now, expiresAt: now + 3_600_000, permanent: false, ...overrides };
}

function changes(overrides: Partial<ChangeSet> = {}): ChangeSet {
  return { clear: false, set: [], delete: [], flashAdd: [], flashConsume: [], meta: meta(), ...overrides };
}

function flash(id: string): FlashMessage {
  return { id, category: "message", message: `m-${id}` };
}

function rowCount(path: string): number {
  return connect(path).prepare("SELECT count(*) FROM flagon_sessions").pluck().get() as number;
}

describe("sqliteStore: file and schema", () => {
  it("creates missing parent directories, a WAL-mode file and a versioned schema on first use", async () => {
    const path = freshPath(join("a", "b", "sessions.db"));
    const store = makeStore({ path });
    expect(existsSync(path)).toBe(false); // nothing touches the disk before the first call
    expect(await store.get(key("x"))).toBeNull();
    expect(existsSync(path)).toBe(true);
    const db = connect(path);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    const version = db.prepare("SELECT value FROM flagon_meta WHERE name = 'schema_version'").pluck().get();
    expect(version).toBe(String(SCHEMA_VERSION));
    const columns = db
      .prepare("SELECT name FROM pragma_table_info('flagon_sessions') ORDER BY cid")
      .pluck()
      .all();
    expect(columns).toEqual([
      "key",
      "data",
      "flashes",
      "created_at",
      "last_seen_at",
      "expires_at",
      "permanent",
      "lifecycle",
      "user_tag",
    ]);
  });

  it("migrates a 0.1 file (schema 1) in place: its sessions stay readable and gain the lifecycle columns", async () => {
    const path = freshPath();
    mkdirSync(join(path, ".."), { recursive: true });
    const old = connect(path);
    old.exec(`CREATE TABLE flagon_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO flagon_meta VALUES ('schema_version', '1');
      CREATE TABLE flagon_sessions (key TEXT PRIMARY KEY NOT NULL, data TEXT NOT NULL, flashes TEXT NOT NULL,
        created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
        permanent INTEGER NOT NULL);
      CREATE INDEX flagon_sessions_expires_at ON flagon_sessions (expires_at);`);
    const now = Date.now();
    old
      .prepare("INSERT INTO flagon_sessions VALUES (?, ?, '[]', ?, ?, ?, 0)")
      .run(key("old"), JSON.stringify({ user: "leo" }), now, now, now + 3_600_000);
    const store = makeStore({ path });
    const record = await store.get(key("old"));
    expect(record?.data).toEqual({ user: "leo" });
    expect(record?.lifecycle).toBeUndefined();
    const version = old.prepare("SELECT value FROM flagon_meta WHERE name = 'schema_version'").pluck().get();
    expect(version).toBe("2");
    const indexes = old
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'flagon_sessions'")
      .pluck()
      .all();
    expect(indexes).toContain("flagon_sessions_user_tag");
  });

  it("shares the file with the application's own tables and user_version", async () => {
    const path = freshPath();
    mkdirSync(join(path, ".."), { recursive: true });
    const app = connect(path);
    app.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('leo'); PRAGMA user_version = 42");
    const store = makeStore({ path });
    await store.apply(key("s"), changes({ set: [["a", 1]] }));
    expect(app.pragma("user_version", { simple: true })).toBe(42);
    expect(app.prepare("SELECT name FROM users").pluck().all()).toEqual(["leo"]);
  });

  it("refuses a file written by a newer schema, naming the file", async () => {
    const path = freshPath();
    await makeStore({ path }).get(key("x"));
    connect(path).prepare("UPDATE flagon_meta SET value = ? WHERE name = 'schema_version'").run("99");
    const error = await makeStore({ path })
      .get(key("x"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect((error as SessionStoreError).code).toBe("ERR_STORE_FAILED");
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/schema version 99/);
  });

  it("keeps sessions across close and reopen; close is idempotent and later calls reject", async () => {
    const path = freshPath();
    const first = makeStore({ path });
    await first.apply(key("s"), changes({ set: [["name", "Leo"]], flashAdd: [flash("f")] }));
    await first.close();
    await first.close();
    await expect(first.get(key("s"))).rejects.toBeInstanceOf(SessionStoreError);
    await expect(first.apply(key("s"), changes())).rejects.toThrow(/closed/);
    const second = makeStore({ path });
    const record = await second.get(key("s"));
    expect(record?.data).toEqual({ name: "Leo" });
    expect(record?.flashes).toEqual([flash("f")]);
  });

  it("close releases the file: its WAL is checkpointed away and another connection can lock it exclusively", async () => {
    const store = makeStore();
    await store.apply(key("s"), changes({ set: [["a", 1]] }));
    expect(existsSync(`${store.path}-wal`)).toBe(true);
    const probe = connect(store.path);
    probe.pragma("locking_mode = EXCLUSIVE");
    expect(() => probe.exec("BEGIN EXCLUSIVE; COMMIT")).toThrow(/locked/);
    probe.close();
    await store.close();
    expect(existsSync(`${store.path}-wal`)).toBe(false);
    const owner = connect(store.path);
    owner.pragma("locking_mode = EXCLUSIVE");
    expect(() => owner.exec("BEGIN EXCLUSIVE; COMMIT")).not.toThrow();
  });

  it("stores the key it is given (the core's sha256) and nothing else that identifies the session", async () => {
    const store = makeStore();
    const id = "raw-session-id-that-must-not-be-stored-0123456789";
    await store.apply(key(id), changes({ set: [["user", "leo"]] }));
    const rows = connect(store.path).prepare("SELECT * FROM flagon_sessions").all();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ key: key(id) });
    expect(JSON.stringify(rows)).not.toContain(id);
  });
});

describe("sqliteStore: records", () => {
  it('keeps "__proto__" and "constructor" as ordinary data keys', async () => {
    const store = makeStore();
    await store.apply(
      key("p"),
      changes({
        set: [
          ["__proto__", { polluted: true }],
          ["constructor", "c"],
        ],
      }),
    );
    await store.apply(key("p"), changes({ set: [["other", 1]] }));
    const record = await store.get(key("p"));
    expect(Object.keys(record?.data ?? {}).sort()).toEqual(["__proto__", "constructor", "other"]);
    expect(Object.getOwnPropertyDescriptor(record?.data, "__proto__")?.value).toEqual({ polluted: true });
    expect(Object.getPrototypeOf(record?.data)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("rejects a value JSON cannot hold and leaves the stored record as it was", async () => {
    const store = makeStore();
    await store.apply(key("s"), changes({ set: [["a", 1]] }));
    const error = await store
      .apply(key("s"), changes({ set: [["b", 10n]], delete: ["a"] }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlagonError);
    expect((error as FlagonError).code).toBe("ERR_VALUE_NOT_SERIALIZABLE");
    expect((await store.get(key("s")))?.data).toEqual({ a: 1 });
  });

  it("returns null at expiresAt exactly, by Date.now()", async () => {
    const store = makeStore();
    const now = Date.now();
    await store.apply(key("s"), changes({ meta: meta({ expiresAt: now + 1000 }) }));
    vi.useFakeTimers({ toFake: ["Date"], now: now + 999 });
    expect(await store.get(key("s"))).not.toBeNull();
    vi.setSystemTime(now + 1000);
    expect(await store.get(key("s"))).toBeNull();
  });

  it("an expired record neither lends its flashes nor its createdAt to a new write", async () => {
    const store = makeStore();
    const now = Date.now();
    await store.apply(
      key("s"),
      changes({
        flashAdd: [flash("old")],
        meta: meta({ createdAt: now - 10_000, expiresAt: now + 1000 }),
      }),
    );
    vi.useFakeTimers({ toFake: ["Date"], now: now + 5000 });
    await store.apply(key("s"), changes({ meta: meta() }));
    const record = await store.get(key("s"));
    expect(record?.flashes).toEqual([]);
    expect(record?.createdAt).toBe(now + 5000);
  });

  it("rejects, naming the file and not the key, when a row does not hold JSON", async () => {
    const store = makeStore();
    const k = key("s");
    await store.apply(k, changes({ set: [["a", 1]] }));
    connect(store.path).prepare("UPDATE flagon_sessions SET data = 'not json' WHERE key = ?").run(k);
    const error = await store.get(k).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect((error as Error).message).toContain(store.path);
    expect((error as Error).message).toMatch(/JSON/);
    expect((error as Error).message).not.toContain(k);
  });

  it("two stores (two connections) on one file, 100 concurrent writers each on one session, lose nothing", async () => {
    const path = freshPath();
    const a = makeStore({ path });
    const b = makeStore({ path });
    const k = key("shared");
    await Promise.all([
      ...Array.from({ length: 100 }, (_, i) =>
        a.apply(k, changes({ set: [[`a${i}`, i]], flashAdd: [flash(`fa${i}`)] })),
      ),
      ...Array.from({ length: 100 }, (_, i) =>
        b.apply(k, changes({ set: [[`b${i}`, i]], flashAdd: [flash(`fb${i}`)] })),
      ),
    ]);
    const record = await a.get(k);
    expect(Object.keys(record?.data ?? {})).toHaveLength(200);
    expect(record?.flashes).toHaveLength(200);
  });
});

describe("sqliteStore: purge", () => {
  async function seed(store: SqliteStore, expired: number, live: number, now: number): Promise<void> {
    for (let i = 0; i < expired; i++) {
      await store.apply(key(`expired-${i}`), changes({ meta: meta({ expiresAt: now + 1000 + i }) }));
    }
    for (let i = 0; i < live; i++) {
      await store.apply(key(`live-${i}`), changes({ meta: meta({ expiresAt: now + 3_600_000 }) }));
    }
  }

  it("deletes expired rows in batches of purgeBatch and answers requests between batches", async () => {
    const now = Date.now();
    const store = makeStore({ purgeBatch: 10 });
    await seed(store, 25, 5, now);
    vi.useFakeTimers({ toFake: ["Date"], now: now + 60_000 });
    const events: string[] = [];
    const purge = store.purge().then((n) => events.push(`purge:${n}`));
    // The first batch ran synchronously; the purge now yields before the next one.
    expect(rowCount(store.path)).toBe(20);
    const read = store.get(key("live-0")).then((record) => {
      events.push(`get:${record === null ? "null" : "record"}`);
      events.push(`rows:${rowCount(store.path)}`);
    });
    await Promise.all([purge, read]);
    expect(events).toEqual(["get:record", "rows:20", "purge:25"]);
    expect(rowCount(store.path)).toBe(5);
    expect(await store.purge()).toBe(0);
  });

  it("runs in the background every purgeInterval on an unref'd timer, and close stops it", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
    const now = Date.now();
    const store = makeStore({ purgeInterval: 60_000, purgeBatch: 4 });
    await seed(store, 10, 3, now);
    expect(vi.getTimerCount()).toBe(1);
    vi.setSystemTime(now + 30_000);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(rowCount(store.path)).toBe(13);
    await vi.advanceTimersByTimeAsync(1);
    await vi.waitFor(() => expect(rowCount(store.path)).toBe(3));
    await store.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("reports a failing background purge through onBackgroundError instead of throwing", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const errors: FlagonError[] = [];
    const store = makeStore({
      purgeInterval: 1000,
      busyTimeout: 0,
      onBackgroundError: (e) => errors.push(e),
    });
    await store.get(key("x")); // the purge only runs on an open file
    connect(store.path).exec("BEGIN EXCLUSIVE");
    await vi.advanceTimersByTimeAsync(1000);
    await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
    expect(errors[0]).toBeInstanceOf(SessionStoreError);
    expect(errors[0]?.message).toContain(store.path);
  });

  it.each([
    ["no handler: a process warning", undefined],
    [
      "a handler that throws: a warning, not an unhandled rejection",
      () => {
        throw new Error("handler bug");
      },
    ],
  ])("a failing background purge with %s", async (_, onBackgroundError) => {
    const warnings: string[] = [];
    const emitWarning = vi.spyOn(process, "emitWarning").mockImplementation((warning: string | Error) => {
      warnings.push(String(warning));
    });
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const store = makeStore({ purgeInterval: 1000, busyTimeout: 0, onBackgroundError });
    await store.get(key("x"));
    connect(store.path).exec("BEGIN EXCLUSIVE");
    await vi.advanceTimersByTimeAsync(1000);
    await vi.waitFor(() => expect(warnings.length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
    emitWarning.mockRestore();
    expect(warnings[0]).toMatch(onBackgroundError === undefined ? /locked/ : /handler bug/);
    if (onBackgroundError === undefined) expect(warnings[0]).toContain(store.path);
  });
});

describe("sqliteStore: failures become SessionStoreError naming the file", () => {
  it("a path that is a directory", async () => {
    const path = freshPath();
    mkdirSync(path, { recursive: true });
    const error = await makeStore({ path })
      .get(key("x"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect((error as Error).message).toContain(path);
  });

  it("a file of garbage, and the store recovers once the file is replaced", async () => {
    const path = freshPath();
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, Buffer.alloc(16_384, 0x5a));
    const store = makeStore({ path });
    const error = await store.apply(key("x"), changes()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect((error as SessionStoreError).code).toBe("ERR_STORE_FAILED");
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/not an SQLite database/);
    rmSync(path);
    await store.apply(key("x"), changes({ set: [["a", 1]] }));
    expect((await store.get(key("x")))?.data).toEqual({ a: 1 });
  });

  it("a parent path that is a file", async () => {
    const parent = freshPath("file");
    mkdirSync(join(parent, ".."), { recursive: true });
    writeFileSync(parent, "x");
    const path = join(parent, "sessions.db");
    const error = await makeStore({ path })
      .get(key("x"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect((error as Error).message).toContain(path);
  });

  it("a write lock held by another connection: apply waits about busyTimeout, without blocking the event loop, then rejects", async () => {
    const store = makeStore({ busyTimeout: 300 });
    const k = key("locked");
    await store.apply(k, changes({ set: [["a", 1]] }));
    const other = connect(store.path);
    other.exec("BEGIN EXCLUSIVE");
    let ticks = 0;
    const ticker = setInterval(() => {
      ticks += 1;
    }, 10);
    const started = performance.now();
    const error = await store.apply(k, changes({ set: [["b", 2]] })).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    clearInterval(ticker);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect((error as SessionStoreError).code).toBe("ERR_STORE_UNAVAILABLE");
    expect((error as Error).message).toContain(store.path);
    expect((error as Error).message).toMatch(/locked/);
    expect((error as Error).message).not.toContain(k);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
    expect(ticks).toBeGreaterThanOrEqual(5); // other work ran while apply waited
    // WAL: readers are not blocked by a writer.
    expect((await store.get(k))?.data).toEqual({ a: 1 });
    other.exec("COMMIT");
    await store.apply(k, changes({ set: [["b", 2]] }));
    expect((await store.get(k))?.data).toEqual({ a: 1, b: 2 });
  });

  it("a lock released within busyTimeout: apply waits and succeeds", async () => {
    const store = makeStore({ busyTimeout: 5000 });
    const k = key("brief-lock");
    await store.get(k);
    const other = connect(store.path);
    other.exec("BEGIN EXCLUSIVE");
    const release = setTimeout(() => other.exec("COMMIT"), 100);
    await store.apply(k, changes({ set: [["a", 1]] }));
    clearTimeout(release);
    expect((await store.get(k))?.data).toEqual({ a: 1 });
  });

  it("200 calls queued behind another connection's lock all go through once it is released", async () => {
    const store = makeStore({ busyTimeout: 5000 });
    const k = key("queue");
    await store.get(k);
    const other = connect(store.path);
    other.exec("BEGIN EXCLUSIVE");
    let released = false;
    const release = setTimeout(() => {
      other.exec("COMMIT");
      released = true;
    }, 150);
    const writes = Promise.all(
      Array.from({ length: 200 }, (_, i) => store.apply(k, changes({ set: [[`k${i}`, i]] }))),
    );
    // Reads do not queue behind the waiting writes: WAL readers never wait for a writer.
    expect(await store.get(k)).toBeNull();
    expect(released).toBe(false);
    await writes;
    clearTimeout(release);
    expect(Object.keys((await store.get(k))?.data ?? {})).toHaveLength(200);
  });

  it("calls that waited commit together, yet one call's failure fails only that call", async () => {
    const store = makeStore({ busyTimeout: 5000 });
    const k = key("group");
    await store.apply(k, changes({ set: [["base", 0]] }));
    const other = connect(store.path);
    other.exec("BEGIN EXCLUSIVE");
    const release = setTimeout(() => other.exec("COMMIT"), 100);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        store.apply(
          k,
          changes({
            delete: i === 5 ? ["base"] : [],
            set: [[`k${i}`, i === 5 ? 5n : i]],
            flashAdd: [flash(`f${i}`)],
          }),
        ),
      ),
    );
    clearTimeout(release);
    expect(results.map((r) => r.status)).toEqual([
      ...Array(5).fill("fulfilled"),
      "rejected",
      ...Array(4).fill("fulfilled"),
    ]);
    expect((results[5] as PromiseRejectedResult).reason.code).toBe("ERR_VALUE_NOT_SERIALIZABLE");
    const record = await store.get(k);
    const kept = ["base", "k0", "k1", "k2", "k3", "k4", "k6", "k7", "k8", "k9"];
    expect(Object.keys(record?.data ?? {}).sort()).toEqual(kept);
    expect(record?.flashes.map((f) => f.id)).toEqual(["f0", "f1", "f2", "f3", "f4", "f6", "f7", "f8", "f9"]);
  });

  it("each queued call keeps its own deadline: 50 calls on a stuck lock all fail after about one busyTimeout", async () => {
    const store = makeStore({ busyTimeout: 200 });
    await store.get(key("x"));
    connect(store.path).exec("BEGIN EXCLUSIVE");
    const started = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => store.apply(key(`stuck-${i}`), changes())),
    );
    const elapsed = performance.now() - started;
    expect(results.every((r) => r.status === "rejected" && r.reason instanceof SessionStoreError)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(2000); // not 50 × 200 ms
  });

  it("a connection holding the file in exclusive locking mode: get rejects too", async () => {
    const path = freshPath();
    await makeStore({ path }).get(key("x"));
    for (const store of open.splice(0)) await store.close();
    const owner = connect(path);
    owner.pragma("locking_mode = EXCLUSIVE");
    owner.exec("BEGIN IMMEDIATE; COMMIT");
    const error = await makeStore({ path, busyTimeout: 50 })
      .get(key("x"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect((error as Error).message).toContain(path);
  });
});

describe("sqliteStore: options", () => {
  it.each([
    ["no options", undefined],
    ["empty path", { path: "" }],
    ["negative busyTimeout", { path: "x.db", busyTimeout: -1 }],
    ["NaN purgeInterval", { path: "x.db", purgeInterval: Number.NaN }],
    ["fractional purgeBatch", { path: "x.db", purgeBatch: 1.5 }],
    ["zero purgeBatch", { path: "x.db", purgeBatch: 0 }],
    ["unknown synchronous", { path: "x.db", synchronous: "off" }],
  ])("%s → ConfigError at construction", (_, options) => {
    expect(() => sqliteStore(options as unknown as Parameters<typeof sqliteStore>[0])).toThrow(ConfigError);
  });
});
