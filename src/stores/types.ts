import type { RejectReason } from "../crypto/claims.js";
import type { Keyring } from "../crypto/keyring.js";

/**
 * The store contract. Small and Promise-only: no callbacks, no events.
 *
 * Two kinds of store:
 * - a `ServerStore` keeps records on the server; the cookie only carries a signed random id.
 *   The core hashes the id (sha256, hex) before any store call, so a store never sees a
 *   usable cookie value and a dump of it reveals none.
 * - a `ClientStore` turns the whole record into the cookie value (sealed, signed, Flask).
 */

/** One flashed message. `id` lets a store consume exactly the messages a request read. */
export interface FlashMessage {
  /** Unique per message (random, 16+ chars). */
  id: string;
  /** Flask's category, `"message"` by default. */
  category: string;
  message: string;
}

/** Times are milliseconds since the Unix epoch. */
export interface SessionMeta {
  /** When the session was first created: the anchor of `absoluteTimeout`. Never moves. */
  createdAt: number;
  /** Last recorded activity: the anchor of `idleTimeout`. */
  lastSeenAt: number;
  /**
   * When the store may forget the record. A store must treat a record past it as absent, and may purge
   * it. The core sets it a grace period after the session stops being valid (at most a day), so that a
   * later request can be told "your session expired" (or timed out) instead of "unknown session"; the
   * core itself refuses a session past its lifetime, idle or absolute timeout.
   */
  expiresAt: number;
  /** Flask's `session.permanent`. */
  permanent: boolean;
  /** Who the session belongs to and how long it lives (absent on records written before 0.2). */
  lifecycle?: Lifecycle;
}

/**
 * A session's lifecycle facts, stored with its meta (stores keep it as one opaque JSON value).
 * Written by the core; a store reads only `userTag` (its per-user index) and `revoked`.
 */
export interface Lifecycle {
  /** The session's stable, non-secret handle (`session.ref`): `<userTag>.<random>` once logged in. */
  ref: string;
  /** `session.login(userId)`. */
  userId?: string;
  /** A keyed digest of `userId` (no user id in index keys): what a store indexes a user's sessions under. */
  userTag?: string;
  /** When `login()` happened (ms). */
  loginAt?: number;
  /** What the app passed to `login(userId, meta)` (e.g. the user agent), shown by `listUser`. */
  meta?: Record<string, string>;
  /** Logged in or regenerated: not an anonymous visitor (anonymous sessions get `anonymousIdleTimeout`). */
  established?: true;
  /** `session.setLifetime(seconds)`: this session's own lifetime, in seconds. */
  lifetime?: number;
  /** Ended by `revoke`/`revokeUser`: the record is a tombstone, later change sets are ignored. */
  revoked?: true;
}

export interface SessionRecord extends SessionMeta {
  /** User data. JSON-compatible values only. */
  data: Record<string, unknown>;
  /** Pending flash messages, oldest first. */
  flashes: FlashMessage[];
}

/**
 * What one request changed. A store applies it atomically, in this order:
 * 1. `clear`: drop every data key of the stored record (flashes are untouched by `clear`;
 *    the core lists the flashes it wants gone in `flashConsume`);
 * 2. `delete` each key; 3. `set` each key (last one wins);
 * 4. remove the flashes whose ids are in `flashConsume` (ids that are absent are ignored);
 * 5. append `flashAdd` in order;
 * 6. overwrite the meta with `meta` (createdAt: keep the smaller of stored and given).
 * If no record exists (new session, or it expired meanwhile), start from an empty one.
 * Keys not named in the change set keep whatever a concurrent request stored: that is
 * what makes two concurrent requests that change different keys both survive.
 */
export interface ChangeSet {
  clear: boolean;
  set: ReadonlyArray<readonly [key: string, value: unknown]>;
  delete: readonly string[];
  flashAdd: readonly FlashMessage[];
  flashConsume: readonly string[];
  meta: SessionMeta;
  /**
   * Set when this commit bound the session to a user (`login()`): the store adds the key to its index
   * for `meta.lifecycle.userTag`. Absent on every other commit, so indexing costs nothing per request.
   */
  indexUser?: string;
}

/** One entry of a store's per-user index: a record's key and meta (no data). */
export interface IndexedSession {
  key: string;
  meta: SessionMeta;
}

export interface ServerStore {
  readonly kind: "server";
  /**
   * The record stored under `key` (sha256 hex of the session id), or `null` when there is none
   * or its `expiresAt` has passed (by `Date.now()`).
   * Rejects with `SessionStoreError` when the store cannot answer (down, locked, timed out).
   */
  get(key: string): Promise<SessionRecord | null>;
  /** Applies a change set atomically (see `ChangeSet`). Rejects with `SessionStoreError`. */
  apply(key: string, changes: ChangeSet): Promise<void>;
  /** Deletes the record (logout, regenerate). Missing keys are not an error. */
  destroy(key: string): Promise<void>;
  /** Releases connections, timers and files. Idempotent. */
  close?(): Promise<void>;
  /**
   * The live records indexed under `userTag` (`ChangeSet.indexUser`), not expired and not revoked.
   * Entries whose record is gone are dropped from the index. Optional: without it, `listUser`,
   * `revoke` and `revokeUser` throw a `ConfigError` that says so.
   */
  listUser?(userTag: string): Promise<IndexedSession[]>;
  /**
   * Ends a session for good: its data and flashes are dropped and the record becomes a tombstone
   * (`lifecycle.revoked`) until its `expiresAt`, so the next request with its cookie reads "revoked",
   * and a change set from a request still in flight is ignored instead of bringing it back.
   * Resolves `true` when a live record was revoked.
   */
  revoke?(key: string): Promise<boolean>;
}

/** Context the core hands a client store. */
export interface ClientStoreContext {
  /**
   * The keys of `createSessions({ secret })`: the first seals/signs, all open/verify.
   * `undefined` only for stores that declare `ownsKeys` (they bring their own, like Flask's).
   */
  keyring: Keyring | undefined;
  /** The cookie's name: sealed and signed formats bind it, so a value cannot move to another cookie. */
  cookieName: string;
  /** Current time in ms (Date.now()). */
  now: number;
}

export type ClientDecodeResult =
  | {
      ok: true;
      record: SessionRecord;
      /** Verified with a fallback secret: the core re-issues the cookie with the current one. */
      stale: boolean;
      /** Which secret verified it (0: the current one), for `onEvent`. @default stale ? 1 : 0 */
      keyIndex?: number;
    }
  | {
      ok: false;
      /**
       * Why, in the formats' shared vocabulary (src/crypto/claims.ts): `malformed`, `bad-mac`, `expired`,
       * `not-yet-valid`, `wrong-name`, or `bad-payload` (authentic, but not a session). The core logs it.
       */
      reason: RejectReason;
    };

export interface ClientStore {
  readonly kind: "client";
  /**
   * Encodes the whole record as a cookie value. The core checks the final
   * Set-Cookie size and throws `ERR_COOKIE_TOO_LARGE`; a store may throw it earlier.
   */
  encode(record: SessionRecord, context: ClientStoreContext): string;
  /** Never throws for bad input: tampered, garbage, expired → `{ ok: false, reason }` (the format's reason). */
  decode(value: string, context: ClientStoreContext): ClientDecodeResult;
  /** Default cookie name when `cookie.name` is not given (Flask's store says `"session"`). */
  readonly defaultCookieName?: string;
  /** The store verifies with keys of its own; `createSessions` then needs no `secret`. */
  readonly ownsKeys?: boolean;
  /**
   * Classes whose instances the store writes and reads back as they are (Flask's store: `FlaskTuple`,
   * `FlaskMarkup`, `FlaskUUID`), so that `session.set()` accepts them.
   */
  readonly keepsClasses?: ReadonlyArray<abstract new (...args: never[]) => object>;
  /**
   * How many cookies one session may be split over (`name.0 … name.N-1`) when its value is longer than
   * one cookie holds (cookieStore's `maxChunks`). The core cuts and joins; `encode` returns the whole
   * value and `decode` receives it joined. Absent or 1: one cookie, and a longer value is refused.
   */
  readonly maxChunks?: number;
  /**
   * The lifetime in seconds the format enforces by itself (Flask's `PERMANENT_SESSION_LIFETIME`):
   * `createSessions` uses it as its `permanentLifetime` when none is given.
   */
  readonly enforcedLifetime?: number;
  /**
   * Called by `createSessions` with the options it was given: throws `ConfigError` for those the format
   * cannot honour (Flask's cookie keeps no creation time, so no `absoluteTimeout`), saying what to use instead.
   */
  checkSessionOptions?(options: ClientStoreSessionOptions): void;
  /**
   * hybridStore: a session whose cookie would be longer than `maxCookieBytes` (name and value, chunks
   * included) moves to `server`, and its cookie then carries a signed id. Absent for plain cookie stores.
   */
  readonly overflow?: { readonly server: ServerStore; readonly maxCookieBytes: number };
}

/** The `createSessions` options a client store may refuse (`ClientStore.checkSessionOptions`), in seconds. */
export interface ClientStoreSessionOptions {
  readonly permanentLifetime: number | undefined;
  readonly idleTimeout: number | undefined;
  readonly absoluteTimeout: number | undefined;
}

export type SessionStore = ServerStore | ClientStore;
