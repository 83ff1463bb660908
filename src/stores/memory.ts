import { checkOptionNames, everyOptionName, type OptionHints } from "../config-check.js";
import { applyChangeSet } from "./apply.js";
import { invalidOption, timerOption } from "./options.js";
import type { ChangeSet, ServerStore, SessionRecord } from "./types.js";

export interface MemoryStoreOptions {
  /**
   * Most sessions kept at once; beyond it the least recently used are evicted, so a flood of
   * new sessions cannot exhaust memory.
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
  // Map order is insertion order: re-inserting on use makes the first entry the least recently used.
  const records = new Map<string, { json: string; expiresAt: number }>();
  let timer: NodeJS.Timeout | undefined;

  function sweep(limit = 10_000): void {
    const now = Date.now();
    let seen = 0;
    for (const [key, entry] of records) {
      if (entry.expiresAt <= now) records.delete(key);
      if (++seen >= limit) break;
    }
  }

  function read(key: string): SessionRecord | null {
    const entry = records.get(key);
    if (entry === undefined) return null;
    if (entry.expiresAt <= Date.now()) {
      records.delete(key);
      return null;
    }
    records.delete(key);
    records.set(key, entry);
    return JSON.parse(entry.json) as SessionRecord;
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
      return records.size;
    },
    async get(key: string) {
      return read(key);
    },
    async apply(key: string, changes: ChangeSet) {
      const next = applyChangeSet(read(key), changes);
      records.delete(key);
      records.set(key, { json: JSON.stringify(next), expiresAt: next.expiresAt });
      while (records.size > maxEntries) {
        const oldest = records.keys().next().value as string;
        records.delete(oldest);
      }
      ensureTimer();
    },
    async destroy(key: string) {
      records.delete(key);
    },
    async close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      records.clear();
    },
  };
}
