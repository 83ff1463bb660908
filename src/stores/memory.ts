import { FlagonError } from "../errors.js";
import { applyChangeSet } from "./apply.js";
import type { ChangeSet, ServerStore, SessionRecord } from "./types.js";

export interface MemoryStoreOptions {
  /**
   * Most sessions kept at once; beyond it the least recently used are evicted, so a flood of
   * new sessions cannot exhaust memory.
   * @default 100000
   */
  maxEntries?: number;
  /** Milliseconds between sweeps of expired records (each sweep is bounded). @default 60000 */
  sweepInterval?: number;
}

/**
 * Sessions in this process's memory: for development, tests and single-process apps.
 * Records are kept as JSON text, so they behave like a real store (no shared references).
 */
export function memoryStore(options: MemoryStoreOptions = {}): ServerStore & { readonly size: number } {
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new FlagonError("ERR_INVALID_OPTION", "memoryStore maxEntries must be a positive integer");
  }
  const sweepInterval = options.sweepInterval ?? 60_000;
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
