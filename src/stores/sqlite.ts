/**
 * `flagon/sqlite`: the embedded server-side store. One file, nothing to install, safe to share
 * between processes on one machine (WAL mode; every change set is one `BEGIN IMMEDIATE`
 * transaction, so concurrent writers from any process serialize on SQLite's write lock).
 */
import { randomInt } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import type Database from "better-sqlite3";
import { checkOptionNames, everyOptionName, type OptionHints } from "../config-check.js";
import { ConfigError, FlagonError, SessionStoreError } from "../errors.js";
import { requirePeer } from "../peer.js";
import { invalidOption, timerOption } from "./options.js";
import { BAD_ROW, isBusy, toStoreError } from "./sqlite/errors.js";
import { ensureSchema, SESSIONS_TABLE } from "./sqlite/schema.js";
import type {
  ChangeSet,
  FlashMessage,
  IndexedSession,
  Lifecycle,
  ServerStore,
  SessionRecord,
} from "./types.js";

// At import: a missing better-sqlite3 is reported with the version to install, not at the first request.
const BetterSqlite3 = requirePeer<typeof Database>(
  "flagon/sqlite",
  "better-sqlite3",
  "12",
  'npm 11 builds it only when package.json approves its install script: "allowScripts": { "better-sqlite3": true }',
);

export interface SqliteStoreOptions {
  /**
   * The database file. Missing parent directories are created. The file is opened on the
   * first store call, not here: a missing, locked or unreadable file makes that call (and
   * each later one, until it is fixed) reject with `SessionStoreError`, never the process.
   * `":memory:"` keeps the sessions inside this process (tests only).
   */
  path: string;
  /**
   * How long, in ms, a call waits for another connection's lock before rejecting with
   * `SessionStoreError`. The wait is asynchronous (retries with backoff), so the event loop
   * keeps serving other requests meanwhile.
   * @default 5000
   */
  busyTimeout?: number;
  /**
   * Milliseconds between background purges of expired rows; `0` turns the purge off
   * (expired rows are still never returned). The timer is unref'd: it never keeps the process alive.
   * @default 60000
   */
  purgeInterval?: number;
  /**
   * Most rows one purge transaction deletes. A purge runs batch after batch, yielding to the
   * event loop in between, so requests never wait behind a long delete.
   * @default 500
   */
  purgeBatch?: number;
  /**
   * SQLite's `synchronous` setting. `"normal"`: a commit that returned survives a crash of the
   * process (SIGKILL included); a power loss may drop the last commits. `"full"`: every commit
   * is fsynced, surviving power loss too, at a large cost in commits per second.
   * @default "normal"
   */
  synchronous?: "normal" | "full";
  /**
   * Receives failures of the background purge (which is retried at the next interval).
   * The error names the file, never a key.
   * @default emits a process warning (`process.emitWarning`)
   */
  onBackgroundError?: (error: FlagonError) => void;
}

/** Every `SqliteStoreOptions` name, kept beside the interface (checked both ways at compile time). */
const SQLITE_STORE_OPTION_NAMES = everyOptionName<SqliteStoreOptions>()([
  "path",
  "busyTimeout",
  "purgeInterval",
  "purgeBatch",
  "synchronous",
  "onBackgroundError",
]);

/** Names of other SQLite session stores (connect-sqlite3, better-sqlite3-session-store), with flagon's way. */
const SQLITE_STORE_HINTS: OptionHints = Object.freeze({
  filename: "spelled path (the database file)",
  file: "spelled path (the database file)",
  db: "put the database file in path; the store opens it itself",
  dir: 'put the directory in path, e.g. path: "data/sessions.db"',
  client: "the store opens its own connection: give path instead of a better-sqlite3 Database",
  table: "the table is always flagon_sessions (docs/sqlite.md); use another file to keep stores apart",
  timeout: "spelled busyTimeout (ms)",
  expired: "use purgeInterval (ms between purges) and purgeBatch",
  ttl: "a session's lifetime is set on createSessions (permanentLifetime, idleTimeout, absoluteTimeout, in seconds)",
});

export interface SqliteStore extends ServerStore {
  /** The absolute path of the database file (or `":memory:"`). */
  readonly path: string;
  /** Deletes expired rows now, in batches of `purgeBatch`; resolves with how many went. */
  purge(): Promise<number>;
  /** Stops the purge timer and closes the file. Idempotent; later calls reject. */
  close(): Promise<void>;
}

interface SessionRow {
  data: string;
  flashes: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  permanent: number;
  lifecycle: string | null;
}

interface Statements {
  selectLive: Database.Statement<[key: string, now: number], SessionRow>;
  upsert: Database.Statement<
    [
      key: string,
      data: string,
      flashes: string,
      createdAt: number,
      lastSeenAt: number,
      expiresAt: number,
      permanent: number,
      lifecycle: string | null,
      userTag: string | null,
    ]
  >;
  remove: Database.Statement<[key: string]>;
  selectUser: Database.Statement<[userTag: string, now: number], SessionRow & { key: string }>;
  revoke: Database.Statement<[lifecycle: string, key: string]>;
  purgeBatch: Database.Statement<[now: number, limit: number]>;
}

interface Connection {
  db: Database.Database;
  statements: Statements;
  apply: (key: string, changes: ChangeSet, now: number) => void;
  /** Runs `fn` in one transaction: BEGIN IMMEDIATE when it writes, BEGIN DEFERRED when it only reads. */
  batch: (write: boolean, fn: () => void) => void;
}

/** A call that found the lock taken and waits for its turn. */
interface Waiting {
  operation: string;
  write: boolean;
  run: (connection: Connection) => unknown;
  started: number;
  /** `pausedTotal` when it started waiting (see `waitedBy`). */
  pausedBefore: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const DEFAULT_BUSY_TIMEOUT = 5000;
const DEFAULT_PURGE_INTERVAL = 60_000;
const DEFAULT_PURGE_BATCH = 500;
/** Longest pause between two attempts at a lock another connection holds. */
const MAX_RETRY_DELAY = 8;
/** Bound now, so that a test's fake clock installed later does not stop lock timeouts. */
const monotonicNow = performance.now.bind(performance);

export function sqliteStore(options: SqliteStoreOptions): SqliteStore {
  const config = normalize(options);
  const file = config.path;
  let connection: Connection | undefined;
  let closed = false;
  let purgeTimer: NodeJS.Timeout | undefined;
  let purging: Promise<number> | undefined;

  function connect(): Connection {
    if (closed) throw new SessionStoreError(`SQLite session store "${file}" is closed`);
    if (connection !== undefined) return connection;
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    // timeout 0: SQLite's own busy handler sleeps on the event loop thread; `withLock` waits asynchronously instead.
    const db = new BetterSqlite3(file, { timeout: 0 });
    try {
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${config.synchronous}`);
      ensureSchema(db);
      connection = prepare(db);
    } catch (error) {
      db.close();
      throw error;
    }
    if (config.purgeInterval > 0) {
      purgeTimer = setInterval(backgroundPurge, config.purgeInterval);
      purgeTimer.unref();
    }
    return connection;
  }

  /** Calls waiting for a lock another connection holds, oldest first. */
  let waiting: Waiting[] = [];
  let polling = false;
  /** Sum of the pauses the poller took: time waited even when a test fakes the clock. */
  let pausedTotal = 0;

  /**
   * Runs `run` (synchronous, on the open connection). When another connection holds the lock,
   * the call joins `waiting` and a single poller per store retries for all of them: 500 pollers
   * per process would burn the CPU the lock holder needs. Each call gives up `busyTimeout` ms
   * after it started.
   */
  function withLock<T>(operation: string, write: boolean, run: (connection: Connection) => T): Promise<T> {
    const started = monotonicNow();
    // Writes queue behind waiting writes (they would find the lock taken); WAL readers never wait for a writer.
    if (!write || waiting.length === 0) {
      try {
        return Promise.resolve(run(connect()));
      } catch (error) {
        if (!isBusy(error) || config.busyTimeout === 0) {
          return Promise.reject(toStoreError(error, file, operation, config.busyTimeout));
        }
      }
    }
    return new Promise<T>((resolve, reject) => {
      waiting.push({
        operation,
        write,
        run,
        started,
        pausedBefore: pausedTotal,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (!polling) void poll();
    });
  }

  function waitedBy(call: Waiting, now: number): number {
    return Math.max(now - call.started, pausedTotal - call.pausedBefore);
  }

  /**
   * Retries the waiting calls with jittered exponential backoff. Once the lock is free they all
   * run in ONE transaction (group commit): a process that waited does not then hand the lock
   * back and forth once per call, so it cannot be starved by a busier neighbour.
   */
  async function poll(): Promise<void> {
    polling = true;
    try {
      for (let attempt = 0; waiting.length > 0; ) {
        const batch = waiting;
        waiting = [];
        const busy = runBatch(batch);
        if (busy === undefined) {
          attempt = 0;
          continue;
        }
        const now = monotonicNow();
        const still: Waiting[] = [];
        for (const call of batch) {
          if (waitedBy(call, now) >= config.busyTimeout) {
            call.reject(toStoreError(busy, file, call.operation, config.busyTimeout));
          } else still.push(call);
        }
        waiting = still.concat(waiting);
        if (waiting.length === 0) break;
        let soonest = config.busyTimeout;
        for (const call of waiting) soonest = Math.min(soonest, config.busyTimeout - waitedBy(call, now));
        const pause = Math.max(
          0,
          Math.min(soonest, Math.min(MAX_RETRY_DELAY, 2 ** attempt / 4) * (0.5 + randomInt(1000) / 1000)),
        );
        attempt += 1;
        await sleep(pause);
        pausedTotal += pause;
      }
    } finally {
      polling = false;
    }
  }

  /** Runs a batch of waiting calls in one transaction; returns the busy error if the lock is still taken. */
  function runBatch(batch: Waiting[]): unknown {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      const connection = connect();
      connection.batch(
        batch.some((call) => call.write),
        () => {
          for (const call of batch) {
            try {
              outcomes.push({ ok: true, value: call.run(connection) });
            } catch (error) {
              // A busy error inside the batch aborts all of it (rolled back, retried); any other
              // error belongs to its call alone (its own savepoint was rolled back).
              if (isBusy(error)) throw error;
              outcomes.push({ ok: false, error });
            }
          }
        },
      );
    } catch (error) {
      if (isBusy(error)) return error;
      for (const call of batch) call.reject(toStoreError(error, file, call.operation, config.busyTimeout));
      return undefined;
    }
    batch.forEach((call, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) call.resolve(outcome.value);
      else call.reject(toStoreError(outcome?.error, file, call.operation, config.busyTimeout));
    });
    return undefined;
  }

  async function purge(): Promise<number> {
    let total = 0;
    for (;;) {
      if (closed) return total;
      const deleted = await withLock(
        "purge",
        true,
        ({ statements }) => statements.purgeBatch.run(Date.now(), config.purgeBatch).changes,
      );
      total += deleted;
      if (deleted < config.purgeBatch) return total;
      await nextTurn();
    }
  }

  function backgroundPurge(): void {
    if (purging !== undefined || connection === undefined) return;
    purging = purge();
    purging
      .catch((error: unknown) => {
        // close() during a purge cuts it short on purpose: not a failure to report.
        if (closed) return;
        const storeError = toStoreError(error, file, "purge", config.busyTimeout);
        try {
          if (config.onBackgroundError) config.onBackgroundError(storeError);
          else process.emitWarning(storeError.message, { code: storeError.code });
        } catch (handlerError) {
          // A throwing handler must not become an unhandled rejection that ends the process.
          process.emitWarning(`sqliteStore onBackgroundError threw: ${String(handlerError)}`);
        }
      })
      .finally(() => {
        purging = undefined;
      });
  }

  return {
    kind: "server",
    path: file,

    get(key: string): Promise<SessionRecord | null> {
      return withLock("get", false, ({ statements }) => {
        const row = statements.selectLive.get(key, Date.now());
        return row === undefined ? null : toRecord(row);
      });
    },

    apply(key: string, changes: ChangeSet): Promise<void> {
      return withLock("apply", true, ({ apply }) => apply(key, changes, Date.now()));
    },

    async destroy(key: string): Promise<void> {
      await withLock("destroy", true, ({ statements }) => statements.remove.run(key));
    },

    listUser(userTag: string): Promise<IndexedSession[]> {
      return withLock("get", false, ({ statements }) => {
        const out: IndexedSession[] = [];
        for (const row of statements.selectUser.all(userTag, Date.now())) {
          const { data: _data, flashes: _flashes, ...meta } = toRecord(row);
          if (meta.lifecycle?.revoked !== true) out.push({ key: row.key, meta });
        }
        return out;
      });
    },

    revoke(key: string): Promise<boolean> {
      return withLock("apply", true, ({ statements }) => {
        const row = statements.selectLive.get(key, Date.now());
        if (row === undefined) return false;
        const lifecycle = parseLifecycle(row);
        if (lifecycle?.revoked === true) return false;
        const revoked: Lifecycle = { ...(lifecycle ?? { ref: "" }), revoked: true };
        return statements.revoke.run(JSON.stringify(revoked), key).changes > 0;
      });
    },

    purge(): Promise<number> {
      return purge();
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (purgeTimer !== undefined) clearInterval(purgeTimer);
      purgeTimer = undefined;
      const open = connection;
      connection = undefined;
      try {
        open?.db.close();
      } catch (error) {
        throw toStoreError(error, file, "close", config.busyTimeout);
      }
    },
  };
}

function prepare(db: Database.Database): Connection {
  const statements: Statements = {
    selectLive: db.prepare(
      `SELECT data, flashes, created_at, last_seen_at, expires_at, permanent, lifecycle
       FROM ${SESSIONS_TABLE} WHERE key = ? AND expires_at > ?`,
    ),
    upsert: db.prepare(
      `INSERT INTO ${SESSIONS_TABLE}
         (key, data, flashes, created_at, last_seen_at, expires_at, permanent, lifecycle, user_tag)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET
         data = excluded.data, flashes = excluded.flashes, created_at = excluded.created_at,
         last_seen_at = excluded.last_seen_at, expires_at = excluded.expires_at, permanent = excluded.permanent,
         lifecycle = excluded.lifecycle, user_tag = coalesce(excluded.user_tag, user_tag)`,
    ),
    remove: db.prepare(`DELETE FROM ${SESSIONS_TABLE} WHERE key = ?`),
    selectUser: db.prepare(
      `SELECT key, data, flashes, created_at, last_seen_at, expires_at, permanent, lifecycle
       FROM ${SESSIONS_TABLE} WHERE user_tag = ? AND expires_at > ?`,
    ),
    revoke: db.prepare(
      `UPDATE ${SESSIONS_TABLE} SET data = '{}', flashes = '[]', lifecycle = ?, user_tag = NULL WHERE key = ?`,
    ),
    purgeBatch: db.prepare(
      `DELETE FROM ${SESSIONS_TABLE} WHERE rowid IN
         (SELECT rowid FROM ${SESSIONS_TABLE} WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
    ),
  };

  // Read, merge and write in one BEGIN IMMEDIATE transaction: the write lock is taken before the
  // read, so no other process can commit between them: concurrent requests that change different keys
  // both keep their changes (the no-lost-update guarantee in docs/sessions.md, "Stores").
  const transaction = db.transaction((key: string, changes: ChangeSet, now: number) => {
    const row = statements.selectLive.get(key, now);
    // A revoked session stays revoked: a request that loaded it before the revocation changes nothing.
    if (row !== undefined && parseLifecycle(row)?.revoked === true) return;
    const data = new Map<string, unknown>(
      row === undefined || changes.clear ? [] : Object.entries(parseData(row)),
    );
    let flashes = row === undefined ? [] : parseFlashes(row);
    for (const name of changes.delete) data.delete(name);
    for (const [name, value] of changes.set) data.set(name, value);
    if (changes.flashConsume.length > 0) {
      const consumed = new Set(changes.flashConsume);
      flashes = flashes.filter((flash) => !consumed.has(flash.id));
    }
    for (const { id, category, message } of changes.flashAdd) flashes.push({ id, category, message });
    const { meta } = changes;
    statements.upsert.run(
      key,
      serialize(data),
      JSON.stringify(flashes),
      row === undefined ? meta.createdAt : Math.min(row.created_at, meta.createdAt),
      meta.lastSeenAt,
      meta.expiresAt,
      meta.permanent ? 1 : 0,
      meta.lifecycle === undefined ? null : JSON.stringify(meta.lifecycle),
      changes.indexUser ?? null,
    );
  });
  const batch = db.transaction((fn: () => void) => fn());
  return {
    db,
    statements,
    // Inside a batch, better-sqlite3 turns this into a savepoint: one call's failure undoes only its own changes.
    apply: (key, changes, now) => transaction.immediate(key, changes, now),
    batch: (write, fn) => (write ? batch.immediate(fn) : batch.deferred(fn)),
  };
}

function serialize(data: Map<string, unknown>): string {
  try {
    // Object.fromEntries defines own properties, so a "__proto__" key stays data.
    return JSON.stringify(Object.fromEntries(data));
  } catch (error) {
    throw new FlagonError("ERR_VALUE_NOT_SERIALIZABLE", "session data is not JSON-serializable", {
      cause: error,
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw corruptRow();
  }
}

function parseData(row: SessionRow): Record<string, unknown> {
  const data = parseJson(row.data);
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw corruptRow();
  return data as Record<string, unknown>;
}

function parseFlashes(row: SessionRow): FlashMessage[] {
  const flashes = parseJson(row.flashes);
  if (!Array.isArray(flashes)) throw corruptRow();
  return flashes as FlashMessage[];
}

function corruptRow(): Error {
  return Object.assign(new Error("session row does not hold JSON objects"), { code: BAD_ROW });
}

function toRecord(row: SessionRow): SessionRecord {
  return {
    data: parseData(row),
    flashes: parseFlashes(row),
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    permanent: row.permanent === 1,
    ...lifecycleOf(row),
  };
}

function parseLifecycle(row: SessionRow): Lifecycle | undefined {
  if (row.lifecycle === null || row.lifecycle === undefined) return undefined;
  const lifecycle = parseJson(row.lifecycle);
  if (
    typeof lifecycle !== "object" ||
    lifecycle === null ||
    typeof (lifecycle as Lifecycle).ref !== "string"
  ) {
    throw corruptRow();
  }
  return lifecycle as Lifecycle;
}

function lifecycleOf(row: SessionRow): { lifecycle?: Lifecycle } {
  const lifecycle = parseLifecycle(row);
  return lifecycle === undefined ? {} : { lifecycle };
}

interface Config {
  path: string;
  busyTimeout: number;
  purgeInterval: number;
  purgeBatch: number;
  synchronous: "normal" | "full";
  onBackgroundError: ((error: FlagonError) => void) | undefined;
}

function normalize(options: SqliteStoreOptions): Readonly<Config> {
  const where = "sqliteStore";
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `${where}: options { path } are required, e.g. sqliteStore({ path: "data/sessions.db" })`,
    );
  }
  checkOptionNames(where, options, SQLITE_STORE_OPTION_NAMES, SQLITE_STORE_HINTS);
  const { path } = options;
  if (typeof path !== "string" || path === "" || path.includes("\0")) {
    throw invalidOption(
      where,
      "path",
      'a non-empty file path (e.g. "data/sessions.db"; ":memory:" for tests)',
      path,
    );
  }
  const purgeBatch = options.purgeBatch ?? DEFAULT_PURGE_BATCH;
  if (!Number.isSafeInteger(purgeBatch) || purgeBatch < 1) {
    throw invalidOption(where, "purgeBatch", "a whole number of rows, at least 1", purgeBatch);
  }
  const synchronous = options.synchronous ?? "normal";
  if (synchronous !== "normal" && synchronous !== "full") {
    throw invalidOption(where, "synchronous", '"normal" or "full"', synchronous);
  }
  if (options.onBackgroundError !== undefined && typeof options.onBackgroundError !== "function") {
    throw invalidOption(where, "onBackgroundError", "a function", options.onBackgroundError);
  }
  return Object.freeze({
    path: path === ":memory:" ? path : resolve(path),
    busyTimeout: timerOption(where, "busyTimeout", options.busyTimeout, DEFAULT_BUSY_TIMEOUT, {
      min: 0,
      zeroMeans: "fails at once when another connection holds the lock",
    }),
    purgeInterval: timerOption(where, "purgeInterval", options.purgeInterval, DEFAULT_PURGE_INTERVAL, {
      min: 0,
      zeroMeans: "turns the purge off",
    }),
    purgeBatch,
    synchronous,
    onBackgroundError: options.onBackgroundError,
  });
}
