/**
 * The SQLite store under the session core: server-side expiry (docs/security.md §15, 17) and loud
 * store failure (34) with a real database file, not a mock.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { createSessions, SessionStoreError, type Sessions, storeKey } from "../../src/index.js";
import { type SqliteStore, sqliteStore } from "../../src/stores/sqlite.js";
import { Browser, MINUTE, SECRET, useClock } from "../session/harness.js";

const root = mkdtempSync(join(tmpdir(), "flagon-sqlite-sessions-"));
let counter = 0;
const cleanup: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function setup(options: { idleTimeout?: number; busyTimeout?: number } = {}): {
  path: string;
  store: SqliteStore;
  sessions: Sessions<{ user?: string }>;
} {
  counter += 1;
  const path = join(root, `case-${counter}.db`);
  const store = sqliteStore({ path, purgeInterval: 0, busyTimeout: options.busyTimeout ?? 5000 });
  const sessions = createSessions<{ user?: string }>({
    secret: SECRET,
    store,
    ...(options.idleTimeout === undefined ? {} : { idleTimeout: options.idleTimeout }),
  });
  cleanup.push(() => sessions.close());
  return { path, store, sessions };
}

function expiresAtOf(path: string, key: string): number | undefined {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT expires_at FROM flagon_sessions WHERE key = ?").pluck().get(key) as
      | number
      | undefined;
  } finally {
    db.close();
  }
}

describe("sqliteStore with createSessions", () => {
  it("idle timeout: a request at +29 min extends expires_at; at +29+31 min the session is idle, and purgeable after its grace", async () => {
    const clock = useClock();
    const { path, store, sessions } = setup({ idleTimeout: 30 * 60 });
    const browser = new Browser(sessions);
    let id = "";
    await browser.request((session) => {
      session.set("user", "leo");
      id = session.id;
    });
    const key = storeKey(id);
    // Valid 30 min; the row is kept one idle span longer, so a late request is told "idle".
    const firstExpiry = expiresAtOf(path, key);
    expect(firstExpiry).toBe(Date.now() + 60 * MINUTE);

    clock.advance(29 * MINUTE);
    let user: string | undefined;
    await browser.request((session) => {
      user = session.get("user");
    });
    expect(user).toBe("leo");
    expect(expiresAtOf(path, key)).toBe(Date.now() + 60 * MINUTE);

    clock.advance(31 * MINUTE);
    let status = "";
    await browser.request((session) => {
      user = session.get("user");
      status = session.status;
    });
    expect(user).toBeUndefined();
    expect(status).toBe("idle");
    clock.advance(30 * MINUTE);
    expect(await store.get(key)).toBeNull();
    expect(await store.purge()).toBe(1);
    expect(expiresAtOf(path, key)).toBeUndefined();
  });

  it("server-side expiry wins: a valid cookie whose row expired yields an empty session", async () => {
    const { path, sessions } = setup();
    const browser = new Browser(sessions);
    let id = "";
    await browser.request((session) => {
      session.set("user", "leo");
      id = session.id;
    });
    const db = new Database(path);
    db.prepare("UPDATE flagon_sessions SET expires_at = ? WHERE key = ?").run(Date.now() - 1, storeKey(id));
    db.close();
    let user: string | undefined = "unset";
    await browser.request((session) => {
      user = session.get("user");
    });
    expect(user).toBeUndefined();
  });

  it("a database locked by another process makes load reject with SessionStoreError naming the file, never the id", async () => {
    const { path, sessions } = setup({ busyTimeout: 100 });
    const browser = new Browser(sessions);
    let id = "";
    await browser.request((session) => {
      session.set("user", "leo");
      id = session.id;
    });
    const cookie = browser.sessionCookie as string;
    await sessions.close();

    // Exclusive locking mode: the holder keeps even readers out, as a stuck process or a backup tool might.
    const holder = new Database(path);
    cleanup.push(() => {
      holder.close();
    });
    holder.pragma("locking_mode = EXCLUSIVE");
    holder.exec("BEGIN IMMEDIATE; COMMIT");

    const store = sqliteStore({ path, purgeInterval: 0, busyTimeout: 100 });
    const onSameFile = createSessions<{ user?: string }>({ secret: SECRET, store });
    cleanup.push(() => onSameFile.close());
    const victim = new Browser(onSameFile);
    victim.sessionCookie = cookie;
    const error = await victim.request().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStoreError);
    const message = (error as Error).message;
    expect(message).toContain(path);
    expect(message).not.toContain(id);
    expect(message).not.toContain(storeKey(id));
    expect(message).not.toContain(cookie);
  });
});
