import type { ChangeSet, SessionRecord } from "./types.js";

/**
 * The change-set semantics of `ChangeSet`, on an in-memory record. Stores that keep whole
 * records (memory; SQLite inside its transaction) use it so every store agrees on the rules.
 */
export function applyChangeSet(current: SessionRecord | null, changes: ChangeSet): SessionRecord {
  // A revoked session stays revoked: a request that loaded it before the revocation changes nothing.
  if (current?.lifecycle?.revoked === true) return current;
  // Null prototype: a user key named "__proto__" is stored as data, not taken as the object's prototype.
  const data: Record<string, unknown> = Object.create(null);
  if (!changes.clear && current !== null) Object.assign(data, current.data);
  for (const key of changes.delete) delete data[key];
  for (const [key, value] of changes.set) data[key] = value;
  const consumed = new Set(changes.flashConsume);
  const flashes = (current?.flashes ?? []).filter((flash) => !consumed.has(flash.id));
  flashes.push(...changes.flashAdd);
  const createdAt =
    current === null ? changes.meta.createdAt : Math.min(current.createdAt, changes.meta.createdAt);
  return { ...changes.meta, createdAt, data, flashes };
}

/** A record turned into a revocation tombstone: no data, no flashes, same expiry. */
export function tombstone(record: SessionRecord): SessionRecord {
  return {
    ...record,
    data: {},
    flashes: [],
    lifecycle: { ...(record.lifecycle ?? { ref: "" }), revoked: true },
  };
}
