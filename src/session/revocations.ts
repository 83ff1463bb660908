import { createHash } from "node:crypto";
import { SessionStoreError } from "../errors.js";
import type { Lifecycle, ServerStore, SessionRecord } from "../stores/types.js";
import type { SessionLogger } from "./options.js";
import { reportStoreFailure } from "./store-failure.js";

/**
 * Revocation of sessions that live in the cookie (`createSessions({ store: cookieStore(), revocations })`).
 * A sealed cookie cannot be taken back, so each user who logged in gets one small record in the
 * `revocations` server store, under a key derived from the user's tag:
 *   "b"        sessions logged in at or before this time (ms) are revoked...
 *   "e"        ...except these refs ("log out everywhere else");
 *   "r.<ref>"  this one session is revoked;
 *   "l.<ref>"  { at, until }: a login, so that `revokeUser` can say how many sessions it ended.
 * Every field is its own key of the change set, so concurrent revocations and logins merge in the store.
 * A process reads a user's record at most once per `revocationCheckInterval`.
 */
export interface Revocations {
  /** Whether a cookie session of a user was revoked (reads the record if the cached copy is stale). */
  isRevoked(lifecycle: Lifecycle, now: number): Promise<boolean>;
  /** Records a login (at commit), pruning logins that have ended. */
  recordLogin(lifecycle: Lifecycle, until: number): Promise<void>;
  /** Revokes every session of the user but `except`; resolves how many logins it knew of that ended. */
  revokeUser(userTag: string, except: string | undefined): Promise<number>;
  /** Revokes one session by ref; `true` when it was a login this store knew of and had not ended. */
  revoke(ref: string): Promise<boolean>;
}

/** The record outlives any cookie it judges: cookies live at most 400 days. */
const RECORD_LIFETIME_MS = 400 * 86_400_000;
/** Users whose revocation state a process keeps in memory. */
const CACHE_ENTRIES = 10_000;

interface UserRevocations {
  before: number;
  except: readonly string[];
  revoked: ReadonlySet<string>;
  fetchedAt: number;
}

const NONE: Omit<UserRevocations, "fetchedAt"> = { before: -1, except: [], revoked: new Set() };

function recordKey(userTag: string): string {
  return createHash("sha256").update("flagon-revocations\0").update(userTag).digest("hex");
}

export function userTagOfRef(ref: string): string | undefined {
  const dot = ref.indexOf(".");
  return dot > 0 ? ref.slice(0, dot) : undefined;
}

function parse(record: SessionRecord | null): Omit<UserRevocations, "fetchedAt"> {
  if (record === null) return NONE;
  const data = record.data;
  const before = typeof data.b === "number" ? data.b : -1;
  const except = Array.isArray(data.e) ? data.e.filter((ref): ref is string => typeof ref === "string") : [];
  const revoked = new Set<string>();
  for (const key of Object.keys(data)) if (key.startsWith("r.")) revoked.add(key.slice(2));
  return { before, except, revoked };
}

function logins(record: SessionRecord | null): Array<{ ref: string; at: number; until: number }> {
  if (record === null) return [];
  const out: Array<{ ref: string; at: number; until: number }> = [];
  for (const [key, value] of Object.entries(record.data)) {
    if (!key.startsWith("l.") || typeof value !== "object" || value === null) continue;
    const { at, until } = value as { at?: unknown; until?: unknown };
    if (typeof at === "number" && typeof until === "number") out.push({ ref: key.slice(2), at, until });
  }
  return out;
}

export function createRevocations(
  store: ServerStore,
  checkIntervalMs: number,
  logger: SessionLogger,
): Revocations {
  const cache = new Map<string, UserRevocations>();

  function remember(userTag: string, state: Omit<UserRevocations, "fetchedAt">, now: number): void {
    cache.delete(userTag);
    cache.set(userTag, { ...state, fetchedAt: now });
    if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  }

  async function read(userTag: string): Promise<SessionRecord | null> {
    try {
      return await store.get(recordKey(userTag));
    } catch (error) {
      throw failure(error, "read", logger);
    }
  }

  async function write(
    userTag: string,
    set: Array<[string, unknown]>,
    remove: string[],
    now: number,
  ): Promise<void> {
    try {
      await store.apply(recordKey(userTag), {
        clear: false,
        set,
        delete: remove,
        flashAdd: [],
        flashConsume: [],
        meta: {
          createdAt: now,
          lastSeenAt: now,
          expiresAt: now + RECORD_LIFETIME_MS,
          permanent: true,
          lifecycle: { ref: "revocations", established: true },
        },
      });
    } catch (error) {
      throw failure(error, "write", logger);
    }
  }

  const isRevokedBy = (state: Omit<UserRevocations, "fetchedAt">, lifecycle: Lifecycle) =>
    state.revoked.has(lifecycle.ref) ||
    ((lifecycle.loginAt ?? 0) <= state.before && !state.except.includes(lifecycle.ref));

  return {
    async isRevoked(lifecycle, now) {
      const userTag = lifecycle.userTag;
      if (userTag === undefined) return false;
      let state = cache.get(userTag);
      if (state === undefined || now - state.fetchedAt >= checkIntervalMs) {
        const fresh = parse(await read(userTag));
        remember(userTag, fresh, now);
        state = cache.get(userTag)!;
      }
      return isRevokedBy(state, lifecycle);
    },

    async recordLogin(lifecycle, until) {
      const userTag = lifecycle.userTag;
      if (userTag === undefined) return;
      const now = Date.now();
      const ended = logins(await read(userTag))
        .filter((login) => login.until <= now)
        .map((login) => `l.${login.ref}`);
      await write(userTag, [[`l.${lifecycle.ref}`, { at: lifecycle.loginAt ?? now, until }]], ended, now);
    },

    async revokeUser(userTag, except) {
      const now = Date.now();
      const record = await read(userTag);
      const current = parse(record);
      let ended = 0;
      const remove: string[] = [];
      for (const login of logins(record)) {
        const alive = login.until > now && !isRevokedBy(current, { ref: login.ref, loginAt: login.at });
        if (login.ref === except) continue;
        if (alive) ended++;
        remove.push(`l.${login.ref}`);
      }
      // Single revocations before now are covered by "b" from here on.
      for (const ref of current.revoked) if (ref !== except) remove.push(`r.${ref}`);
      const keep = except === undefined ? [] : [except];
      await write(
        userTag,
        [
          ["b", now],
          ["e", keep],
        ],
        remove,
        now,
      );
      remember(userTag, { before: now, except: keep, revoked: new Set() }, now);
      return ended;
    },

    async revoke(ref) {
      const userTag = userTagOfRef(ref);
      if (userTag === undefined) return false;
      const now = Date.now();
      const record = await read(userTag);
      const current = parse(record);
      const login = logins(record).find((entry) => entry.ref === ref);
      const alive =
        login !== undefined && login.until > now && !isRevokedBy(current, { ref, loginAt: login.at });
      await write(userTag, [[`r.${ref}`, now]], login === undefined ? [] : [`l.${ref}`], now);
      const revoked = new Set(current.revoked);
      revoked.add(ref);
      remember(userTag, { ...current, revoked }, now);
      return alive;
    },
  };
}

function failure(error: unknown, operation: string, logger: SessionLogger): SessionStoreError {
  const storeError =
    error instanceof SessionStoreError
      ? error
      : new SessionStoreError(`revocation store ${operation} failed`, {
          cause: error,
          code: "ERR_STORE_FAILED",
        });
  reportStoreFailure(logger, storeError, `revocations ${operation}`);
  return storeError;
}
