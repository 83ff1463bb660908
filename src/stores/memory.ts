import { checkOptionNames, everyOptionName, type OptionHints } from "../config-check.js";
import { applyChangeSet, tombstone } from "./apply.js";
import { invalidOption, timerOption } from "./options.js";
import type { ChangeSet, IndexedSession, ServerStore, SessionRecord } from "./types.js";

export interface MemoryStoreOptions {
  /**
   * Most sessions kept at once; beyond it the least recently used are evicted, so a flood of
   * new sessions cannot exhaust memory. Sessions used by one request only are evicted first: an
   * established session (seen in two requests, logged in or regenerated) is evicted only when
   * nothing else is left.
   * @default 100000
   */
  maxEntries?: number;
  /**
   * Milliseconds between sweeps of expired records (each sweep is bounded); `0` turns the sweep
   * off (expired records are still never returned, and are dropped when read). @default 60000
   */
  sweepInterval?: number;
}

/** Every `MemoryStoreOptions` name, kept beside the interface (checked both ways at compile time). */
const MEMORY_STORE_OPTION_NAMES = everyOptionName<MemoryStoreOptions>()(["maxEntries", "sweepInterval"]);

/** Names other in-memory session stores use (memorystore, lru-cache), with flagon's way. */
const MEMORY_STORE_HINTS: OptionHints = Object.freeze({
  max: "spelled maxEntries",
  checkPeriod: "spelled sweepInterval (ms)",
  ttl: "a session's lifetime is set on createSessions (permanentLifetime, idleTimeout, absoluteTimeout, in seconds)",
});

/**
 * Sessions in this process's memory: for development, tests and single-process apps.
 * Records are kept as JSON text, so they behave like a real store (no shared references).
 */
export function memoryStore(options: MemoryStoreOptions = {}): ServerStore & { readonly size: number } {
  checkOptionNames("memoryStore", options, MEMORY_STORE_OPTION_NAMES, MEMORY_STORE_HINTS);
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw invalidOption("memoryStore", "maxEntries", "a whole number of sessions, at least 1", maxEntries);
  }
  const sweepInterval = timerOption("memoryStore", "sweepInterval", options.sweepInterval, 60_000, {
    min: 0,
    zeroMeans: "turns the sweep off",
  });
  // Two LRU segments (Map order is insertion order: re-inserting on use makes the first entry the least
  // recently used). A record starts on probation; it is promoted once it is used by a second request
  // or belongs to a logged-in or regenerated session. Room is made on probation first, so a flood of
  // one-request sessions (a crawler, an attack) evicts only its own kind, never an established session.
  const probation = new Map<string, Entry>();
  const established = new Map<string, Entry>();
  // userTag → keys of that user's records; entries whose record is gone are dropped when listed.
  const users = new Map<string, Set<string>>();
  let timer: NodeJS.Timeout | undefined;

  function sweep(limit = 10_000): void {
    const now = Date.now();
    let seen = 0;
    for (const segment of [probation, established]) {
      for (const [key, entry] of segment) {
        if (entry.expiresAt <= now) segment.delete(key);
        if (++seen >= limit) return;
      }
    }
  }

  function entryOf(key: string): Entry | undefined {
    return established.get(key) ?? probation.get(key);
  }

  function remove(key: string): void {
    if (!established.delete(key)) probation.delete(key);
  }

  function read(key: string): SessionRecord | null {
    const entry = entryOf(key);
    if (entry === undefined) return null;
    remove(key);
    if (entry.expiresAt <= Date.now()) return null;
    // Used again: a second request promotes it.
    established.set(key, entry);
    return JSON.parse(entry.json) as SessionRecord;
  }

  function store(key: string, record: SessionRecord, promote: boolean): void {
    remove(key);
    const entry: Entry = { json: JSON.stringify(record), expiresAt: record.expiresAt };
    const lifecycle = record.lifecycle;
    (promote || lifecycle?.established === true ? established : probation).set(key, entry);
    while (probation.size + established.size > maxEntries) {
      // The oldest probation record other than the one just written; else the oldest established one.
      let victim: string | undefined;
      for (const candidate of probation.keys()) {
        if (candidate !== key) {
          victim = candidate;
          break;
        }
      }
      if (victim !== undefined) probation.delete(victim);
      else established.delete(established.keys().next().value as string);
    }
  }

  function ensureTimer(): void {
    if (timer === undefined && sweepInterval > 0) {
      timer = setInterval(() => sweep(), sweepInterval);
      // Workers and some runtimes return a number, not a Node Timeout, from setInterval.
      (timer as { unref?: () => void }).unref?.();
    }
  }

  return {
    kind: "server",
    get size() {
      return probation.size + established.size;
    },
    async get(key: string) {
      return read(key);
    },
    async apply(key: string, changes: ChangeSet) {
      const existed = entryOf(key) !== undefined;
      const next = applyChangeSet(read(key), changes);
      store(key, next, existed);
      if (changes.indexUser !== undefined) {
        let keys = users.get(changes.indexUser);
        if (keys === undefined) {
          keys = new Set();
          users.set(changes.indexUser, keys);
        }
        keys.add(key);
      }
      ensureTimer();
    },
    async destroy(key: string) {
      remove(key);
    },
    async listUser(userTag: string) {
      const keys = users.get(userTag);
      if (keys === undefined) return [];
      const now = Date.now();
      const live: IndexedSession[] = [];
      for (const key of keys) {
        const entry = entryOf(key);
        if (entry === undefined || entry.expiresAt <= now) {
          keys.delete(key);
          continue;
        }
        const { data: _data, flashes: _flashes, ...meta } = JSON.parse(entry.json) as SessionRecord;
        if (meta.lifecycle?.revoked === true) keys.delete(key);
        else live.push({ key, meta });
      }
      if (keys.size === 0) users.delete(userTag);
      return live;
    },
    async revoke(key: string) {
      const entry = entryOf(key);
      if (entry === undefined || entry.expiresAt <= Date.now()) return false;
      const record = JSON.parse(entry.json) as SessionRecord;
      if (record.lifecycle?.revoked === true) return false;
      store(key, tombstone(record), true);
      return true;
    },
    async close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      probation.clear();
      established.clear();
      users.clear();
    },
  };
}

interface Entry {
  json: string;
  expiresAt: number;
}
