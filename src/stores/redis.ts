/**
 * `flagon/redis`: a ServerStore on Redis (single node or Redis Cluster) via node-redis.
 *
 * Layout per session, all in one cluster slot thanks to the `{<key>}` hash tag:
 *   <prefix>{<key>}:d  hash  data key → JSON value
 *   <prefix>{<key>}:f  list  flash messages (JSON), oldest first
 *   <prefix>{<key>}:m  hash  createdAt, lastSeenAt, expiresAt, permanent
 * `<key>` is the sha256 hex the core derives from the session id, so keys at rest reveal no
 * usable id. get, apply and destroy are one round trip each (a Lua script or DEL).
 */
import type * as Redis from "redis";
import { checkOptionNames, describe, everyOptionName, type OptionHints } from "../config-check.js";
import { ConfigError, FlagonError, SessionStoreError } from "../errors.js";
import { requirePeer } from "../peer.js";
import { invalidOption, timerOption } from "./options.js";
import { type RedisClientLike, type RedisClusterLike, RedisConnection } from "./redis/connection.js";
import { APPLY_SCRIPT, GET_SCRIPT, INDEX_SCRIPT, META_SCRIPT, REVOKE_SCRIPT } from "./redis/scripts.js";
import type {
  ChangeSet,
  FlashMessage,
  IndexedSession,
  Lifecycle,
  ServerStore,
  SessionMeta,
  SessionRecord,
} from "./types.js";

export type { RedisClientLike, RedisClusterLike } from "./redis/connection.js";

// At import: a missing redis package is reported with the version to install.
const { createClient } = requirePeer<typeof Redis>("flagon/redis", "redis", "^6.3.1");

/** @default "flagon:sess:" */
export const DEFAULT_PREFIX = "flagon:sess:";
/** Deadline of one store operation in ms; a request needing the session fails (503) after it. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1000;
/** Used when neither `client` nor `url` is given (node-redis' own default). */
export const DEFAULT_URL = "redis://localhost:6379";

export interface RedisStoreOptions {
  /**
   * A node-redis client or cluster you created (`createClient(...)` / `createCluster(...)`) and
   * connect yourself. The store never closes it. It adds an 'error' listener so a connection
   * error can never crash the process, and removes it on `close()`.
   */
  client?: RedisClientLike | RedisClusterLike;
  /**
   * `redis[s]://[[user][:password]@]host[:port][/db]`: the store creates, connects and, on
   * `close()`, closes its own client. Give `client` or `url`, not both.
   * @default "redis://localhost:6379"
   */
  url?: string;
  /**
   * Prepended to every key. Must not contain `{` or `}` (the store's hash tag follows it).
   * @default "flagon:sess:"
   */
  prefix?: string;
  /**
   * Deadline in ms for one store operation (get, apply, destroy), whatever the connection
   * does: a stalled or unreachable Redis yields `SessionStoreError` (ERR_STORE_UNAVAILABLE)
   * within it. A write that timed out may still be applied if Redis answers later.
   * @default 1000
   */
  commandTimeout?: number;
}

export interface RedisStore extends ServerStore {
  readonly kind: "server";
  /** The Redis key names of one session (for operators and tests). */
  keysOf(key: string): { data: string; flashes: string; meta: string };
  close(): Promise<void>;
}

/** Every `RedisStoreOptions` name, kept beside the interface (checked both ways at compile time). */
const REDIS_STORE_OPTION_NAMES = everyOptionName<RedisStoreOptions>()([
  "client",
  "url",
  "prefix",
  "commandTimeout",
]);

/** Names of connect-redis and ioredis-style stores, with flagon's way. */
const REDIS_STORE_HINTS: OptionHints = Object.freeze({
  host: 'give url: "redis://host:port" (or a client you created)',
  port: 'give url: "redis://host:port" (or a client you created)',
  socket: "create the client yourself (createClient({ socket })) and pass it as client",
  password: 'put it in url ("redis://:password@host:port") or in the client you pass',
  db: 'put it in url ("redis://host:port/1") or in the client you pass',
  ttl: "a session's lifetime is set on createSessions (permanentLifetime, idleTimeout, absoluteTimeout, in seconds)",
  disableTTL: "Redis expiry always follows the session's own expiry",
  disableTouch: "reads never write: a session is extended only when its idle timeout needs it",
  scanCount: "not needed: the store never scans",
  serializer: "values are stored as JSON, one hash field per key",
  timeout: "spelled commandTimeout (ms)",
});

interface StoreConfig {
  readonly prefix: string;
  readonly commandTimeout: number;
}

function normalise(options: RedisStoreOptions): StoreConfig {
  const where = "redisStore";
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw invalidOption(where, "options", "an object such as { url } or { client }", options);
  }
  checkOptionNames(where, options, REDIS_STORE_OPTION_NAMES, REDIS_STORE_HINTS);
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== "string" || /[{}]/.test(prefix)) {
    throw invalidOption(where, "prefix", "a string without { or } (the store's hash tag follows it)", prefix);
  }
  const commandTimeout = timerOption(
    where,
    "commandTimeout",
    options.commandTimeout,
    DEFAULT_COMMAND_TIMEOUT_MS,
    {
      min: 0,
      exclusiveMin: true,
    },
  );
  if (options.client !== undefined && typeof options.client?.sendCommand !== "function") {
    throw invalidOption(
      where,
      "client",
      "a node-redis client or cluster (createClient() / createCluster())",
      options.client,
    );
  }
  if (options.url !== undefined) {
    if (options.client !== undefined) {
      throw new ConfigError(
        "ERR_INVALID_OPTION",
        `${where}: give either \`client\` or \`url\`, not both (url would be ignored)`,
      );
    }
    if (typeof options.url !== "string" || !/^rediss?:\/\//.test(options.url)) {
      // The value is not repeated: a URL may hold a password.
      const got =
        typeof options.url === "string"
          ? `a URL starting ${JSON.stringify(options.url.split(":")[0])}`
          : describe(options.url);
      throw new ConfigError(
        "ERR_INVALID_OPTION",
        `${where}: \`url\` must be a redis:// or rediss:// URL, e.g. "redis://127.0.0.1:6379", got ${got}`,
      );
    }
  }
  return Object.freeze({ prefix, commandTimeout });
}

/** Reconnect quickly at first, then once a second; never give up (Redis may come back). */
function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 5), 1000);
}

function ownClient(url: string, commandTimeout: number) {
  return createClient({
    url,
    // Fail while disconnected instead of queueing requests for a server that may not return.
    disableOfflineQueue: true,
    socket: {
      reconnectStrategy: reconnectDelay,
      connectTimeout: Math.max(commandTimeout, 1000),
    },
  });
}

export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  const config = normalise(options);
  let connection: RedisConnection;
  if (options.client) {
    connection = new RedisConnection(options.client, { commandTimeout: config.commandTimeout, owned: false });
  } else {
    const client = ownClient(options.url ?? DEFAULT_URL, config.commandTimeout);
    connection = new RedisConnection(client, { commandTimeout: config.commandTimeout, owned: true });
    // The first connect() retries until it succeeds: never await it per request: a request would then wait for a server that may never come.
    // Requests meanwhile wait up to `commandTimeout` for it; failures surface as 'error' events.
    client.connect().catch((error: unknown) => {
      connection.lastError = error instanceof Error ? error : new Error(String(error));
    });
  }

  const keysOf = (key: string) => {
    const base = `${config.prefix}{${key}}`;
    return { data: `${base}:d`, flashes: `${base}:f`, meta: `${base}:m` };
  };
  const userKey = (userTag: string) => `${config.prefix}u:{${userTag}}`;
  const keyList = (key: string): string[] => {
    const { data, flashes, meta } = keysOf(key);
    return [data, flashes, meta];
  };

  return {
    kind: "server",
    keysOf,

    async get(key) {
      const reply = await connection.evalScript(GET_SCRIPT, keyList(key), []);
      const record = decodeRecord(reply);
      if (record === null || record.expiresAt <= Date.now()) return null;
      return record;
    },

    async apply(key, changes) {
      const now = Date.now();
      const ttl = changes.meta.expiresAt - now;
      if (!(ttl > 0)) {
        // Already past its expiry by our clock: the record must read as absent; purge it.
        await connection.command(keysOf(key).data, ["DEL", ...keyList(key)]);
        return;
      }
      await connection.evalScript(APPLY_SCRIPT, keyList(key), encodeChanges(changes, now, Math.ceil(ttl)));
      // Only on the commit of a login: a user's set lives in a slot of its own (Cluster-safe), so it is
      // a second command, not part of the script.
      if (changes.indexUser !== undefined) {
        await connection.evalScript(
          INDEX_SCRIPT,
          [userKey(changes.indexUser)],
          [key, String(Math.ceil(ttl))],
        );
      }
    },

    async listUser(userTag) {
      const index = userKey(userTag);
      const members = await connection.command(index, ["SMEMBERS", index]);
      const keys = Array.isArray(members)
        ? members.map(asText).filter((k): k is string => k !== undefined)
        : [];
      const now = Date.now();
      const metas = await Promise.all(
        keys.map(async (key) => {
          const { meta } = keysOf(key);
          return decodeMeta(new Map(pairs(await connection.evalScript(META_SCRIPT, [meta], []))));
        }),
      );
      const live: IndexedSession[] = [];
      const gone: string[] = [];
      keys.forEach((key, i) => {
        const meta = metas[i] ?? null;
        if (meta === null || meta.expiresAt <= now || meta.lifecycle?.revoked === true) gone.push(key);
        else live.push({ key, meta });
      });
      if (gone.length > 0) await connection.command(index, ["SREM", index, ...gone]);
      return live;
    },

    async revoke(key) {
      const reply = await connection.evalScript(REVOKE_SCRIPT, keyList(key), [String(Date.now())]);
      return Number(reply) === 1;
    },

    async destroy(key) {
      await connection.command(keysOf(key).data, ["DEL", ...keyList(key)]);
    },

    close() {
      return connection.close();
    },
  };
}

function json(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new FlagonError("ERR_VALUE_NOT_SERIALIZABLE", "Session values must be JSON-serializable");
  }
  return text;
}

function encodeChanges(changes: ChangeSet, now: number, ttl: number): string[] {
  const { meta } = changes;
  const args = [
    String(now),
    String(ttl),
    changes.clear ? "1" : "0",
    String(meta.createdAt),
    String(meta.lastSeenAt),
    String(meta.expiresAt),
    meta.permanent ? "1" : "0",
    String(changes.delete.length),
    String(changes.set.length),
    String(changes.flashConsume.length),
    String(changes.flashAdd.length),
    meta.lifecycle === undefined ? "" : json(meta.lifecycle),
  ];
  for (const key of changes.delete) args.push(key);
  for (const [key, value] of changes.set) args.push(key, json(value));
  for (const id of changes.flashConsume) args.push(id);
  for (const flash of changes.flashAdd) {
    args.push(json({ id: flash.id, category: flash.category, message: flash.message }));
  }
  return args;
}

function asText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  return undefined;
}

/** [k1, v1, k2, v2, ...] → entries, skipping anything that is not text. */
function pairs(flat: unknown): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = asText(flat[i]);
    const value = asText(flat[i + 1]);
    if (field !== undefined && value !== undefined) out.push([field, value]);
  }
  return out;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function decodeFlash(text: string): FlashMessage | undefined {
  const parsed = parseJson(text);
  if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null) return undefined;
  const { id, category, message } = parsed.value as Record<string, unknown>;
  if (typeof id !== "string" || typeof category !== "string" || typeof message !== "string") return undefined;
  return { id, category, message };
}

/**
 * The GET script's reply → a record; null when absent or its meta is unreadable.
 * Values that do not parse (written by something else) are skipped, not fatal.
 */
function decodeRecord(reply: unknown): SessionRecord | null {
  if (!Array.isArray(reply) || reply.length !== 3) {
    if (reply === null || reply === undefined) return null;
    throw new SessionStoreError("Redis returned an unexpected reply", { code: "ERR_STORE_FAILED" });
  }
  const meta = decodeMeta(new Map(pairs(reply[0])));
  if (meta === null) return null;

  const data: Record<string, unknown> = {};
  for (const [field, text] of pairs(reply[1])) {
    const parsed = parseJson(text);
    if (!parsed.ok) continue;
    // An own "__proto__" key must stay data, not become the object's prototype.
    Object.defineProperty(data, field, {
      value: parsed.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  const flashes: FlashMessage[] = [];
  if (Array.isArray(reply[2])) {
    for (const item of reply[2]) {
      const text = asText(item);
      const flash = text === undefined ? undefined : decodeFlash(text);
      if (flash) flashes.push(flash);
    }
  }
  return { ...meta, data, flashes };
}

/** A meta hash → SessionMeta; null when absent or unreadable. */
function decodeMeta(meta: Map<string, string>): SessionMeta | null {
  const createdAt = Number(meta.get("createdAt"));
  const lastSeenAt = Number(meta.get("lastSeenAt"));
  const expiresAt = Number(meta.get("expiresAt"));
  if (!Number.isFinite(createdAt) || !Number.isFinite(lastSeenAt) || !Number.isFinite(expiresAt)) return null;
  const out: SessionMeta = { createdAt, lastSeenAt, expiresAt, permanent: meta.get("permanent") === "1" };
  const text = meta.get("lc");
  let lifecycle: Lifecycle | undefined;
  if (text !== undefined) {
    const parsed = parseJson(text);
    if (parsed.ok && typeof parsed.value === "object" && parsed.value !== null) {
      const value = parsed.value as Lifecycle;
      if (typeof value.ref === "string") lifecycle = value;
    }
  }
  if (meta.get("rv") === "1") lifecycle = { ...(lifecycle ?? { ref: "" }), revoked: true };
  if (lifecycle !== undefined) out.lifecycle = lifecycle;
  return out;
}
