/**
 * `flagon/postgres`: a ServerStore in the PostgreSQL database the app already runs, via node-postgres.
 *
 * One row per session (docs/postgres.md). A load is one SELECT; a commit is one INSERT … ON CONFLICT
 * DO UPDATE whose jsonb expressions apply the change set to the row as the server holds it at that
 * moment (the row is locked by the statement itself), so concurrent writers of different keys, from
 * any number of processes, never lose each other's keys, and a flash added meanwhile survives.
 */
import type * as Pg from "pg";
import { checkOptionNames, describe, everyOptionName, type OptionHints } from "../config-check.js";
import { ConfigError, FlagonError, SessionStoreError } from "../errors.js";
import { requirePeer } from "../peer.js";
import { invalidOption, timerOption } from "./options.js";
import { StatementQueue, type Ticket } from "./postgres/queue.js";
import {
  ensureSchema,
  IDENTIFIER,
  MINUTE_MS,
  qualified,
  SchemaVersionError,
  type Tables,
} from "./postgres/schema.js";
import { prepareStatements } from "./postgres/statements.js";
import type {
  ChangeSet,
  IndexedSession,
  Lifecycle,
  ServerStore,
  SessionMeta,
  SessionRecord,
} from "./types.js";

// At import: a missing pg is reported with the version to install, not at the first request.
const pg = requirePeer<typeof Pg>("flagon/postgres", "pg", "8");

/** Deadline of one store operation (ms), and the `statement_timeout` of the store's own connections. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 1000;
/** How long the store's own pool waits for a connection (ms). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 1000;
const DEFAULT_POOL_SIZE = 10;
const DEFAULT_PURGE_INTERVAL = 60_000;
const DEFAULT_PURGE_BATCH = 1000;
/** A migration may wait this long for another process's migration (the advisory lock). */
const MIGRATION_LOCK_TIMEOUT_MS = 30_000;

/** What the store needs of a `pg.Pool` (a `Pool` you created, or one from a library that wraps pg). */
export interface PoolLike {
  query: Pg.Pool["query"];
  connect: Pg.Pool["connect"];
  on?: Pg.Pool["on"];
  off?: Pg.Pool["off"];
}

export interface PostgresStoreOptions {
  /**
   * A `pg.Pool` you created. The store never closes it (`close()` leaves it open) and never changes its
   * settings: give it a `connectionTimeoutMillis` and a `statement_timeout` of your own; the store's
   * `statementTimeout` still bounds how long a request waits for it. Give `pool` or `connectionString`.
   */
  pool?: PoolLike;
  /**
   * `postgres://user:password@host:port/database`: the store opens (and on `close()` ends) its own
   * pool, with `connectTimeout`, `statementTimeout` and `poolSize`.
   */
  connectionString?: string;
  /**
   * The schema of the tables; created when missing.
   * @default "public"
   */
  schema?: string;
  /**
   * The sessions table; the store also creates `<table>_schema` (its migration history).
   * Lower-case letters, digits and `_`, at most 40 characters.
   * @default "flagon_sessions"
   */
  table?: string;
  /**
   * Deadline in ms of one store operation, whatever the database or the network does: a stalled,
   * refusing or locked database yields `SessionStoreError` (ERR_STORE_UNAVAILABLE) within it, and the
   * adapters answer 503. On the store's own pool it is also each connection's `statement_timeout`.
   * @default 1000
   */
  statementTimeout?: number;
  /**
   * How long the store's own pool waits to open (or get) a connection, in ms.
   * @default 1000
   */
  connectTimeout?: number;
  /**
   * Connections of the store's own pool.
   * @default 10
   */
  poolSize?: number;
  /**
   * Milliseconds between background purges of expired rows; `0` turns the purge off (expired rows are
   * still never returned). The timer is unref'd: it never keeps the process alive.
   * @default 60000
   */
  purgeInterval?: number;
  /**
   * Most rows one purge statement deletes. A purge runs batch after batch (each its own short
   * statement), so no request waits behind one long delete.
   * @default 1000
   */
  purgeBatch?: number;
  /**
   * Receives failures of the background purge (retried at the next interval). The error names the
   * table, never a key.
   * @default emits a process warning (`process.emitWarning`)
   */
  onBackgroundError?: (error: FlagonError) => void;
}

/** Every `PostgresStoreOptions` name, kept beside the interface (checked both ways at compile time). */
const POSTGRES_STORE_OPTION_NAMES = everyOptionName<PostgresStoreOptions>()([
  "pool",
  "connectionString",
  "schema",
  "table",
  "statementTimeout",
  "connectTimeout",
  "poolSize",
  "purgeInterval",
  "purgeBatch",
  "onBackgroundError",
]);

/** connect-pg-simple's options (and node-postgres' own), with flagon's way. */
const POSTGRES_STORE_HINTS: OptionHints = Object.freeze({
  conString: "spelled connectionString",
  conObject: "create a pg.Pool with those settings and pass it as pool",
  pgPromise: "pass a pg.Pool as pool",
  client: "pass a pg.Pool as pool (the store runs its statements on pooled connections)",
  tableName: "spelled table",
  schemaName: "spelled schema",
  ttl: "a session's lifetime is set on createSessions (permanentLifetime, idleTimeout, absoluteTimeout, in seconds)",
  pruneSessionInterval: "spelled purgeInterval, in milliseconds (0 turns it off)",
  pruneSessionRandomizedInterval: "not needed: purges delete bounded batches, off the request path",
  createTableIfMissing: "the store always creates and migrates its tables (docs/postgres.md)",
  errorLog: "spelled onBackgroundError (receives a SessionStoreError)",
  disableTouch: "reads never write: a session is extended only when its idle timeout needs it",
  max: "spelled poolSize",
  connectionTimeoutMillis: "spelled connectTimeout (ms)",
  statement_timeout: "spelled statementTimeout (ms)",
  timeout: "spelled statementTimeout (ms)",
  synchronousCommit: "the store commits with the database's own synchronous_commit setting",
});

export interface PostgresStore extends ServerStore {
  /** `"schema"."table"`, for operators and tests. */
  readonly table: string;
  listUser(userTag: string): Promise<IndexedSession[]>;
  revoke(key: string): Promise<boolean>;
  /** Creates or migrates the tables now (the first store call does it otherwise). */
  ready(): Promise<void>;
  /** Deletes expired rows now, in batches of `purgeBatch`; resolves with how many went. */
  purge(): Promise<number>;
  /** Stops the purge timer and ends the store's own pool (never a pool you passed). Idempotent. */
  close(): Promise<void>;
}

interface Config {
  tables: Tables;
  statementTimeout: number;
  connectTimeout: number;
  poolSize: number;
  purgeInterval: number;
  purgeBatch: number;
  onBackgroundError: ((error: FlagonError) => void) | undefined;
}

interface SessionRow {
  data: unknown;
  flashes: unknown;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  permanent: boolean;
  lifecycle: unknown;
}

export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  const config = normalize(options);
  const where = qualified(config.tables);
  const owned = options.pool === undefined;
  const pool: PoolLike = options.pool ?? ownPool(options.connectionString as string, config);
  // An idle connection that dies emits 'error' on the pool: without a listener that ends the process.
  const onPoolError = (): void => undefined;
  pool.on?.("error", onPoolError);

  const statements = prepareStatements(config.tables);
  let closed = false;
  let schema: Promise<void> | undefined;
  /** Set once the schema check succeeded: later calls skip it without an await. */
  let schemaReady = false;
  let purgeTimer: NodeJS.Timeout | undefined;
  let purging: Promise<number> | undefined;

  /** The tables exist at this release's version: once per store, retried after a failure. */
  function ensureReady(): Promise<void> {
    schema ??= (async () => {
      const client = await pool.connect();
      let broken: unknown;
      try {
        await ensureSchema(
          client,
          config.tables,
          Math.max(MIGRATION_LOCK_TIMEOUT_MS, config.statementTimeout),
        );
      } catch (error) {
        broken = error;
        throw error;
      } finally {
        client.release(broken instanceof Error ? broken : undefined);
      }
      schemaReady = true;
      if (config.purgeInterval > 0 && !closed && purgeTimer === undefined) {
        purgeTimer = setInterval(backgroundPurge, config.purgeInterval);
        purgeTimer.unref();
      }
    })();
    schema.catch(() => {
      // The next call tries again (the database may be back); this call's caller sees the error.
      schema = undefined;
    });
    return schema;
  }

  /** Runs one statement within `statementTimeout` (the schema check included, on the first call). */
  function run<R extends Pg.QueryResultRow>(
    operation: string,
    query: Pg.QueryConfig,
  ): Promise<Pg.QueryResult<R>> {
    return within(operation, () => pool.query<R>(query));
  }

  /**
   * Loads and commits go through the queue: alone while a connection is free, in batches when all
   * are busy. Each still makes at most one round trip.
   */
  const queue = new StatementQueue(poolLimit(pool, config));
  const loadLane = queue.lane<string, SessionRow | undefined>({
    async send(keys) {
      if (keys.length === 1) {
        const result = await pool.query<SessionRow>({ ...statements.get, values: [keys[0], Date.now()] });
        return [result.rows[0]];
      }
      const result = await pool.query<SessionRow & { key: string }>({
        ...statements.getMany,
        values: [keys, Date.now()],
      });
      const byKey = new Map(result.rows.map((row) => [row.key, row]));
      return keys.map((key) => byKey.get(key));
    },
  });
  // Commits hold at most half the connections: the rest stay free for loads, and commits that wait
  // for one share a statement, a transaction and a WAL flush (what bounds commits per second).
  const commitLane = queue.lane<Commit, undefined>(
    {
      async send(commits) {
        if (commits.length === 1)
          await pool.query({ ...statements.apply, values: applyValues(commits[0] as Commit) });
        else await pool.query({ ...statements.applyMany, values: [batchValue(commits)] });
        return commits.map(() => undefined);
      },
    },
    Math.max(1, Math.floor(queue.limit / 2)),
  );

  async function within<T>(
    operation: string,
    start: (ticket: (t: Ticket) => void) => Promise<T>,
  ): Promise<T> {
    if (closed) throw new SessionStoreError(`PostgreSQL session store ${where} is closed`);
    let ticket: Ticket | undefined;
    let gaveUp = false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SessionStoreError(
              `PostgreSQL session store ${where}: ${operation} got no answer within ${config.statementTimeout} ms`,
            ),
          ),
        config.statementTimeout,
      );
    });
    const work = (async () => {
      if (!schemaReady) await ensureReady();
      // The caller's deadline passed while the schema was being checked: its statement is never sent.
      if (gaveUp)
        throw new SessionStoreError(
          `PostgreSQL session store ${where}: ${operation} abandoned at its deadline`,
        );
      return start((t) => {
        ticket = t;
      });
    })();
    try {
      return await Promise.race([work, deadline]);
    } catch (error) {
      // Not sent yet: never sent. Sent: it may still finish after the deadline; its outcome is nobody's to report.
      gaveUp = true;
      ticket?.cancel();
      work.catch(() => undefined);
      throw toStoreError(error, where, operation, config.statementTimeout);
    } finally {
      clearTimeout(timer);
    }
  }

  async function purge(): Promise<number> {
    let total = 0;
    for (;;) {
      if (closed) return total;
      // Rows of the minutes before this one: each of them expired before now.
      const minute = Math.floor(Date.now() / MINUTE_MS);
      const result = await run("purge", { ...statements.purge, values: [minute, config.purgeBatch] });
      const deleted = result.rowCount ?? 0;
      total += deleted;
      if (deleted < config.purgeBatch) return total;
    }
  }

  function backgroundPurge(): void {
    if (purging !== undefined || closed) return;
    purging = purge();
    purging
      .catch((error: unknown) => {
        if (closed) return;
        const storeError = toStoreError(error, where, "purge", config.statementTimeout);
        try {
          if (config.onBackgroundError) config.onBackgroundError(storeError);
          else process.emitWarning(storeError.message, { code: storeError.code });
        } catch (handlerError) {
          // A throwing handler must not become an unhandled rejection that ends the process.
          process.emitWarning(`postgresStore onBackgroundError threw: ${String(handlerError)}`);
        }
      })
      .finally(() => {
        purging = undefined;
      });
  }

  return {
    kind: "server",
    table: where,

    async get(key) {
      const row = await within("get", (ticket) => loadLane(key, ticket));
      return row === undefined ? null : toRecord(row, where);
    },

    async apply(key, changes) {
      const commit = commitOf(key, changes, Date.now());
      await within("apply", (ticket) => commitLane(commit, ticket));
    },

    async destroy(key) {
      await run("destroy", { ...statements.destroy, values: [key] });
    },

    async listUser(userTag) {
      const result = await run<SessionRow & { key: string }>("listUser", {
        ...statements.listUser,
        values: [userTag, Date.now()],
      });
      return result.rows.map((row): IndexedSession => {
        const { data: _data, flashes: _flashes, ...meta } = toRecord(row, where);
        return { key: row.key, meta };
      });
    },

    async revoke(key) {
      const result = await run("revoke", { ...statements.revoke, values: [key, Date.now()] });
      return (result.rowCount ?? 0) > 0;
    },

    ready: () => (closed ? Promise.reject(closedError(where)) : ensureReady()),

    purge,

    async close() {
      if (closed) return;
      closed = true;
      if (purgeTimer !== undefined) clearInterval(purgeTimer);
      purgeTimer = undefined;
      await purging?.catch(() => undefined);
      if (owned) await (pool as Pg.Pool).end();
      else pool.off?.("error", onPoolError);
    },
  };
}

function closedError(where: string): SessionStoreError {
  return new SessionStoreError(`PostgreSQL session store ${where} is closed`);
}

/** How many statements may be in flight: the pool's size (pg.Pool keeps it in `options.max`). */
function poolLimit(pool: PoolLike, config: Config): number {
  const max = (pool as { options?: { max?: unknown } }).options?.max;
  return typeof max === "number" && Number.isSafeInteger(max) && max > 0 ? max : config.poolSize;
}

function ownPool(connectionString: string, config: Config): Pg.Pool {
  return new pg.Pool({
    connectionString,
    max: config.poolSize,
    connectionTimeoutMillis: config.connectTimeout,
    // Server side: a statement that runs too long is cancelled and its transaction rolled back.
    statement_timeout: config.statementTimeout,
    // Client side: a server that stopped answering (stalled host, dead network) fails the query; the pool then discards that connection.
    query_timeout: config.statementTimeout,
    keepAlive: true,
    application_name: "flagon",
  });
}

function json(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new FlagonError("ERR_VALUE_NOT_SERIALIZABLE", "session values must be JSON-serializable", {
      cause: error,
    });
  }
  if (text === undefined) {
    throw new FlagonError("ERR_VALUE_NOT_SERIALIZABLE", "session values must be JSON-serializable");
  }
  return text;
}

/** A change set as the statement's parameters (JSON made once, whether it goes alone or in a batch). */
interface Commit {
  key: string;
  now: number;
  changes: ChangeSet;
  /** One jsonb object of the set keys, in order: jsonb keeps the last of duplicate keys, as the contract wants. */
  set: string;
  added: string;
  lifecycle: string | null;
}

function commitOf(key: string, changes: ChangeSet, now: number): Commit {
  let set = "{";
  for (const [name, value] of changes.set) {
    if (set.length > 1) set += ",";
    set += `${JSON.stringify(name)}:${json(value)}`;
  }
  set += "}";
  const added = JSON.stringify(
    changes.flashAdd.map(({ id, category, message }) => ({ id, category, message })),
  );
  const lifecycle = changes.meta.lifecycle === undefined ? null : json(changes.meta.lifecycle);
  return { key, now, changes, set, added, lifecycle };
}

function applyValues(commit: Commit): unknown[] {
  const { changes } = commit;
  const { meta } = changes;
  return [
    commit.key,
    commit.now,
    changes.clear,
    changes.delete,
    commit.set,
    changes.flashConsume,
    commit.added,
    meta.createdAt,
    meta.lastSeenAt,
    meta.expiresAt,
    meta.permanent,
    commit.lifecycle,
    changes.indexUser ?? null,
  ];
}

/** Several commits as the one jsonb parameter of applyMany (the set and flash JSON inlined as they are). */
function batchValue(commits: readonly Commit[]): string {
  let out = "[";
  for (const commit of commits) {
    const { changes } = commit;
    const { meta } = changes;
    if (out.length > 1) out += ",";
    out +=
      `{"k":${JSON.stringify(commit.key)},"n":${commit.now},"c":${changes.clear},` +
      `"d":${JSON.stringify(changes.delete)},"s":${commit.set},"f":${JSON.stringify(changes.flashConsume)},` +
      `"a":${commit.added},"ca":${meta.createdAt},"ls":${meta.lastSeenAt},"ex":${meta.expiresAt},` +
      `"p":${meta.permanent},"l":${commit.lifecycle ?? "null"},"u":${JSON.stringify(changes.indexUser ?? null)}}`;
  }
  return `${out}]`;
}

function corrupt(where: string): SessionStoreError {
  return new SessionStoreError(`PostgreSQL session store ${where}: a row does not hold a session`, {
    code: "ERR_STORE_FAILED",
  });
}

function toRecord(row: SessionRow, where: string): SessionRecord {
  const { data, flashes } = row;
  if (typeof data !== "object" || data === null || Array.isArray(data) || !Array.isArray(flashes)) {
    throw corrupt(where);
  }
  const meta: SessionMeta = {
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
    expiresAt: Number(row.expires_at),
    permanent: row.permanent === true,
  };
  const lifecycle = row.lifecycle;
  if (lifecycle !== null && lifecycle !== undefined) {
    if (typeof lifecycle !== "object" || typeof (lifecycle as Lifecycle).ref !== "string")
      throw corrupt(where);
    meta.lifecycle = lifecycle as Lifecycle;
  }
  return { ...meta, data: data as Record<string, unknown>, flashes: flashes as SessionRecord["flashes"] };
}

/** SQLSTATE classes that mean "not reachable now" (connection, resources, operator intervention, timeouts). */
const UNAVAILABLE_CLASSES = new Set(["08", "53", "57", "58"]);

/** Any failure as a SessionStoreError that names the table and the operation, never a key or a value. */
function toStoreError(error: unknown, where: string, operation: string, timeout: number): FlagonError {
  if (error instanceof SessionStoreError) return error;
  // Not a store failure: a value the app stored cannot become JSON.
  if (error instanceof FlagonError) return error;
  if (error instanceof SchemaVersionError) {
    return new SessionStoreError(
      `PostgreSQL session store ${where}: ${error.message}; upgrade flagon or point the store at another table`,
      { code: "ERR_STORE_FAILED", cause: error },
    );
  }
  const code = (error as { code?: unknown }).code;
  const sqlState = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  const reason = sqlState === "57014" ? `timed out after ${timeout} ms` : describeError(error, sqlState);
  const failed = sqlState !== undefined && !UNAVAILABLE_CLASSES.has(sqlState.slice(0, 2));
  return new SessionStoreError(`PostgreSQL session store ${where}: ${operation} failed: ${reason}`, {
    code: failed ? "ERR_STORE_FAILED" : "ERR_STORE_UNAVAILABLE",
    cause: error,
  });
}

function describeError(error: unknown, sqlState: string | undefined): string {
  // The server's message text (never its DETAIL, which may quote a key) or the socket's error code.
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  if (sqlState !== undefined) return `${message} (SQLSTATE ${sqlState})`;
  return typeof code === "string" ? `${message} (${code})` : message;
}

function normalize(options: PostgresStoreOptions): Readonly<Config> {
  const where = "postgresStore";
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw invalidOption(where, "options", "an object such as { pool } or { connectionString }", options);
  }
  checkOptionNames(where, options, POSTGRES_STORE_OPTION_NAMES, POSTGRES_STORE_HINTS);
  const { pool, connectionString } = options;
  if (pool !== undefined && connectionString !== undefined) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `${where}: give either \`pool\` or \`connectionString\`, not both (connectionString would be ignored)`,
    );
  }
  if (pool === undefined && connectionString === undefined) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `${where}: give \`pool\` (a pg.Pool) or \`connectionString\`, e.g. postgresStore({ connectionString: process.env.DATABASE_URL })`,
    );
  }
  if (pool !== undefined && (typeof pool?.query !== "function" || typeof pool?.connect !== "function")) {
    throw invalidOption(where, "pool", "a pg.Pool (new Pool({ connectionString }))", pool);
  }
  if (connectionString !== undefined) {
    if (typeof connectionString !== "string" || !/^postgres(ql)?:\/\//.test(connectionString)) {
      // The value is not repeated: a connection string may hold a password.
      const got =
        typeof connectionString === "string"
          ? `a string starting ${JSON.stringify(connectionString.split(":")[0])}`
          : describe(connectionString);
      throw new ConfigError(
        "ERR_INVALID_OPTION",
        `${where}: \`connectionString\` must be a postgres:// or postgresql:// URL, e.g. "postgres://app@127.0.0.1:5432/app", got ${got}`,
      );
    }
  }
  const schema = options.schema ?? "public";
  const table = options.table ?? "flagon_sessions";
  for (const [name, value] of [
    ["schema", schema],
    ["table", table],
  ] as const) {
    if (typeof value !== "string" || !IDENTIFIER.test(value)) {
      throw invalidOption(
        where,
        name,
        "lower-case letters, digits and _, starting with a letter or _, at most 40 characters",
        value,
      );
    }
  }
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) {
    throw invalidOption(where, "poolSize", "a whole number of connections, at least 1", poolSize);
  }
  if (pool !== undefined && options.poolSize !== undefined) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `${where}: \`poolSize\` sizes the store's own pool; with \`pool\`, set max on the pool you create`,
    );
  }
  const purgeBatch = options.purgeBatch ?? DEFAULT_PURGE_BATCH;
  if (!Number.isSafeInteger(purgeBatch) || purgeBatch < 1) {
    throw invalidOption(where, "purgeBatch", "a whole number of rows, at least 1", purgeBatch);
  }
  if (options.onBackgroundError !== undefined && typeof options.onBackgroundError !== "function") {
    throw invalidOption(where, "onBackgroundError", "a function", options.onBackgroundError);
  }
  return Object.freeze({
    tables: Object.freeze({ schema, table }),
    statementTimeout: timerOption(
      where,
      "statementTimeout",
      options.statementTimeout,
      DEFAULT_STATEMENT_TIMEOUT_MS,
      { min: 0, exclusiveMin: true },
    ),
    connectTimeout: timerOption(where, "connectTimeout", options.connectTimeout, DEFAULT_CONNECT_TIMEOUT_MS, {
      min: 0,
      exclusiveMin: true,
    }),
    poolSize,
    purgeInterval: timerOption(where, "purgeInterval", options.purgeInterval, DEFAULT_PURGE_INTERVAL, {
      min: 0,
      zeroMeans: "turns the purge off",
    }),
    purgeBatch,
    onBackgroundError: options.onBackgroundError,
  });
}
