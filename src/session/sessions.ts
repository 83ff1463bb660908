import * as crypto from "node:crypto";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { type CookieAttributes, serializeCookie } from "../cookie/index.js";
import { readCookie } from "../cookie/parse.js";
import { randomToken } from "../crypto/random.js";
import { createSigner } from "../crypto/signer.js";
import { ConfigError, FlagonError, SessionStoreError } from "../errors.js";
import { memoryStore } from "../stores/memory.js";
import type {
  ChangeSet,
  ClientStore,
  FlashMessage,
  Lifecycle,
  ServerStore,
  SessionMeta,
  SessionRecord,
} from "../stores/types.js";
import { chunkLines, chunkName, fitsOneCookie, readChunks } from "./chunks.js";
import { refusedWritePlan, skippingTouch } from "./degrade.js";
import { type EventSink, eventSink, withCommitEvent } from "./events.js";
import { type LegacySession, readLegacySession, withLegacyExpiry } from "./migrate.js";
import {
  MAX_COOKIE_LIFETIME,
  type ResolvedOptions,
  resolveOptions,
  type SessionLogger,
  type SessionsOptions,
} from "./options.js";
import { applyPlanToHeaders, type CommitPlan } from "./plan.js";
import { createRevocations, type Revocations, userTagOfRef } from "./revocations.js";
import {
  metaOf,
  RESERVED_PREFIX,
  Session,
  type SessionData,
  type SessionHooks,
  type SessionShape,
  type SessionStatus,
} from "./session.js";
import { reportStoreFailure } from "./store-failure.js";
import { readStored, storedEntries, storedRecord, storedValue } from "./values.js";

/**
 * Where a core keeps `loadNow` (the session at once when no I/O is needed, else a promise) for the adapters
 * (`loadSessionNow`), beside the `load` it belongs to: a core whose `load` was replaced (`{ ...core, load }`)
 * is read through its `load`. Not part of the public contract.
 */
export const LOAD_NOW: unique symbol = Symbol("flagon.loadNow");

/** What `core[LOAD_NOW]` holds. */
interface LoadNow<T extends SessionShape<T>> {
  readonly load: (input: SessionInput) => Promise<Session<T>>;
  readonly now: (input: SessionInput) => Session<T> | Promise<Session<T>>;
}

/**
 * The session of a request from a core: at once (no promise, no microtask) when the core's store needs no
 * I/O for it, else a promise. May throw where `load` would reject. For adapters.
 */
export function loadSessionNow<T extends SessionShape<T>>(
  core: Sessions<T>,
  input: SessionInput,
): Session<T> | Promise<Session<T>> {
  const fast = (core as { [LOAD_NOW]?: LoadNow<T> })[LOAD_NOW];
  return fast !== undefined && fast.load === core.load ? fast.now(input) : core.load(input);
}

/** What `load` accepts: a Fetch `Request`, a `Headers`, or the adapter's view of a request. */
export type SessionInput =
  | Request
  | Headers
  | {
      headers: Headers | Record<string, string | readonly string[] | undefined>;
      /** The request arrived over HTTPS (adapters pass `req.secure`). */
      secure?: boolean;
    };

export interface Sessions<T extends SessionShape<T> = SessionData> {
  /**
   * Reads the session of a request. Never rejects for a bad cookie (it yields an empty session);
   * rejects with `SessionStoreError` when the store cannot answer.
   */
  load(input: SessionInput): Promise<Session<T>>;
  /**
   * Writes what the request changed (one store call) and appends `Set-Cookie`, `Vary` and
   * `Cache-Control` to `headers`. Rejects with `SessionStoreError` on store failure, with
   * `CookieError` (`ERR_COOKIE_TOO_LARGE`) when the cookie cannot be written, and, with a `schema`,
   * with `FlagonError` (`ERR_SESSION_INVALID`) when the changed data fails it (nothing is written).
   */
  commit(session: Session<T>, headers: Headers): Promise<void>;
  /**
   * Everything a commit does, computed once, synchronously, without I/O: the `Set-Cookie` line,
   * `Vary`, `Cache-Control`, and the store write to await (`plan.write`, `undefined` when there is
   * none). Adapters call it when the response head is about to be written, await `write` if there
   * is one, then apply the plan (`applyPlanToResponse`, `applyPlanToHeaders`). Throws
   * `CookieError` (`ERR_COOKIE_TOO_LARGE`) and, with a synchronous schema, `ERR_SESSION_INVALID`
   * before anything is written. Call it once per session.
   */
  prepare(session: Session<T>): CommitPlan;
  /** The cookie name used for a request (`__Host-` prefixed on HTTPS by default). */
  cookieName(secure: boolean): string;
  /**
   * The live sessions of a user (`session.login(userId)`), oldest first: for an "active sessions" page.
   * Needs a server store (a cookie store keeps nothing to list: `ConfigError`).
   */
  listUser(userId: string): Promise<UserSession[]>;
  /** Ends the session whose `session.ref` this is (on its next request it is empty, `status` "revoked"). `true` if one ended. */
  revoke(ref: string): Promise<boolean>;
  /**
   * Ends every session of a user but `except` (the ref of the session that asked: "log out everywhere
   * else"); resolves how many ended. With a cookie store it needs `revocations` (a server store).
   */
  revokeUser(userId: string, options?: { except?: string }): Promise<number>;
  /** Releases the store (connections, timers, files). */
  close(): Promise<void>;
}

/** One entry of `listUser`: what an "active sessions" page shows. Times are ms since the epoch. */
export interface UserSession {
  /** `session.ref` of that session: pass it to `revoke`, compare it with the current one. */
  ref: string;
  createdAt: number;
  lastSeenAt: number;
  /** When it ends unless used again (idle and absolute timeouts included). */
  expiresAt: number;
  /** When `login()` happened (a session may have begun earlier, as an anonymous visit). */
  loginAt: number;
  /** What the app passed to `login(userId, meta)`. */
  meta: Record<string, string>;
}

/** Set-Cookie lines of the session itself: one, or several (chunks, and the expiry of those no longer needed). */
type Lines = string | readonly string[];

/** A day, in ms: the longest grace a store keeps a record past its end, to report why it ended. */
const DAY_MS = 86_400_000;
/** Signed-id prefix of an anonymous session: an id handed to the browser with no record behind it. */
const ANONYMOUS_PREFIX = "a.";

/** Per-session facts the core keeps beside the `Session` object. */
interface LoadState {
  secure: boolean;
  cookieName: string;
  /** The request carried a session cookie (valid or not). */
  hadCookie: boolean;
  /** Chunk cookies (`name.0`…) the request carried, one past the highest index; 0: none (or one cookie). */
  chunks: number;
  /** Key of the stored record this session was loaded from (server stores). */
  loadedKey: string | undefined;
  /** The cookie was verified by a fallback secret: re-issue it. */
  stale: boolean;
  now: number;
  /** The cookie held an anonymous id (no record): when it was issued, else undefined. */
  anonymousIssuedAt: number | undefined;
  /** The legacy session (`migrateFrom`) this one was made from: its cookies are expired at commit. */
  legacy?: LegacySession;
  /** Which secret verified the cookie (0: the current one), for `onEvent`. */
  keyIndex: number | undefined;
  /** ms the store read took (only measured with `onEvent`). */
  storeMs: number | undefined;
  /** The store could not answer the load and `onStoreUnavailable` is "degrade". */
  unavailable: boolean;
}

/** sha256 of the id: what server stores see. A copy of the store reveals no usable cookie. */
export function storeKey(id: string): string {
  return sha256Hex(id);
}

/** One-shot `crypto.hash` where Node has it (20.12+, about 3× faster: no Hash object per call). */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: "hex") => string }).hash;
const sha256Hex: (text: string) => string =
  typeof oneShotHash === "function"
    ? (text) => oneShotHash("sha256", text, "hex")
    : (text) => createHash("sha256").update(text).digest("hex");

/** A short, salted digest for logs: correlates events without exposing ids or keys. */
function logRef(key: string): string {
  return createHash("sha256").update("flagon-log\0").update(key).digest("hex").slice(0, 12);
}

function readCookieHeader(input: SessionInput): {
  header: string | readonly string[] | undefined;
  secure: boolean;
} {
  if (input instanceof Request) {
    return {
      header: input.headers.get("cookie") ?? undefined,
      secure: input.url.startsWith("https:"),
    };
  }
  if (input instanceof Headers) return { header: input.get("cookie") ?? undefined, secure: false };
  const headers = input.headers;
  const header = headers instanceof Headers ? (headers.get("cookie") ?? undefined) : headers.cookie;
  return { header, secure: input.secure === true };
}

/**
 * The framework-agnostic session core: `load` a request's session, let the handler use it,
 * `commit` the change set. Adapters (`flagon/express`, `flagon/hono`) are thin wrappers.
 */
export function createSessions<T extends SessionShape<T> = SessionData>(
  options: SessionsOptions<T> = {},
): Sessions<T> {
  const config: ResolvedOptions<T> = resolveOptions(options, () => memoryStore());
  // Per instance: a session loaded by another Sessions (other store, keys or cookie) is refused at commit.
  const owner = {};
  const { store, cookie, logger } = config;
  const idSigner = config.keyring ? createSigner(config.keyring, "session-id") : undefined;
  const emit = eventSink(config.onEvent, logger);
  const reporter: Reporter = { logger, emit };
  // A client store that splits large sessions over several cookies (cookieStore's maxChunks).
  const maxChunks = store.kind === "client" ? (store.maxChunks ?? 1) : 1;
  // hybridStore: the server store a client-store session moves to when it outgrows the cookie.
  const overflow = store.kind === "client" ? store.overflow : undefined;

  /** The server store that holds this session's record: the store, or hybridStore's once it moved there. */
  function serverOf(state: LoadState): ServerStore | undefined {
    if (store.kind === "server") return store;
    return state.loadedKey === undefined ? undefined : overflow?.server;
  }

  function cookieName(secure: boolean): string {
    if (!secure || !cookie.prefix || /^__(host|secure)-/i.test(cookie.name)) return cookie.name;
    return cookie.domain === undefined && cookie.path === "/"
      ? `__Host-${cookie.name}`
      : `__Secure-${cookie.name}`;
  }

  function isSecure(requestSecure: boolean): boolean {
    return cookie.secure === "auto" ? requestSecure : cookie.secure;
  }

  /** A session that never logged in or regenerated and is not permanent: short-lived on a server store. */
  function isAnonymous(meta: Omit<SessionMeta, "expiresAt">): boolean {
    return store.kind === "server" && !meta.permanent && meta.lifecycle?.established !== true;
  }

  /** How long after its last activity the session lives: its own lifetime, or the configured one. */
  function lifetimeMs(meta: Omit<SessionMeta, "expiresAt">): number {
    const own = meta.lifecycle?.lifetime;
    const lifetime = own === undefined ? config.permanentLifetimeMs : Math.ceil(own * 1000);
    return isAnonymous(meta) ? Math.min(lifetime, config.anonymousIdleTimeoutMs) : lifetime;
  }

  /** When the session stops being valid: lifetime, idle and absolute timeouts. */
  function validUntil(meta: Omit<SessionMeta, "expiresAt">): number {
    let until = meta.lastSeenAt + lifetimeMs(meta);
    if (config.idleTimeoutMs !== undefined) until = Math.min(until, meta.lastSeenAt + config.idleTimeoutMs);
    if (config.absoluteTimeoutMs !== undefined)
      until = Math.min(until, meta.createdAt + config.absoluteTimeoutMs);
    return until;
  }

  /**
   * When the store may forget it: a grace period after `validUntil` (as long as the session's idle or
   * lifetime span, at most a day), so that the next request can be told why it ended, not just "unknown".
   */
  function expiresAt(meta: Omit<SessionMeta, "expiresAt">): number {
    let span = lifetimeMs(meta);
    if (config.idleTimeoutMs !== undefined) span = Math.min(span, config.idleTimeoutMs);
    return validUntil(meta) + Math.min(span, DAY_MS);
  }

  function freshMeta(now: number): SessionMeta {
    const meta: SessionMeta = {
      createdAt: now,
      lastSeenAt: now,
      expiresAt: 0,
      permanent: false,
      lifecycle: { ref: randomToken(16) },
    };
    meta.expiresAt = expiresAt(meta);
    return meta;
  }

  /** A whole record of one shape (`metaOf`'s fields, then data and flashes), for the writes of a commit. */
  function recordOf(
    meta: SessionMeta,
    data: Record<string, unknown>,
    flashes: FlashMessage[],
  ): SessionRecord {
    const record = metaOf(meta) as SessionRecord;
    record.data = data;
    record.flashes = flashes;
    return record;
  }

  /** Why a record is no longer valid at `now` (its status), or undefined when it is. */
  function endedStatus(meta: SessionMeta, now: number): SessionStatus | undefined {
    if (meta.lifecycle?.revoked === true) return "revoked";
    if (config.absoluteTimeoutMs !== undefined && now - meta.createdAt >= config.absoluteTimeoutMs) {
      return "absolute";
    }
    if (config.idleTimeoutMs !== undefined && now - meta.lastSeenAt >= config.idleTimeoutMs) return "idle";
    if (now - meta.lastSeenAt >= lifetimeMs(meta)) {
      // An anonymous visitor's short life is an idle timeout too.
      return isAnonymous(meta) && config.anonymousIdleTimeoutMs < config.permanentLifetimeMs
        ? "idle"
        : "expired";
    }
    if (now >= meta.expiresAt) return "expired";
    return undefined;
  }

  const LOG_MESSAGES: Partial<Record<SessionStatus, string>> = {
    expired: "expired",
    idle: "idle timeout",
    absolute: "absolute timeout",
    revoked: "revoked",
  };

  // Keyed values lent to every session of this core (one object, no per-request allocation).
  const csrfKeys = store.kind === "server" && config.keyring ? config.keyring.keys("csrf-token") : undefined;
  const csrfOf = (key: Buffer, id: string) =>
    createHmac("sha256", key).update("flagon-csrf\0").update(id).digest("base64url");
  const hooks: SessionHooks = {
    csrfTokenFor: (id) => (csrfKeys === undefined ? undefined : csrfOf(csrfKeys[0]!, id)),
    csrfMatches(id, candidate) {
      if (csrfKeys === undefined) return false;
      const given = Buffer.from(candidate);
      let match = false;
      for (const key of csrfKeys) {
        const expected = Buffer.from(csrfOf(key, id));
        if (expected.length === given.length && timingSafeEqual(expected, given)) match = true;
      }
      return match;
    },
    userTag,
    tagged: config.tagged,
    keeps:
      store.kind === "client" && store.keepsClasses !== undefined
        ? new Set(store.keepsClasses.map((type) => type.prototype as object))
        : undefined,
  };

  const revocations: Revocations | undefined =
    config.revocations === undefined
      ? undefined
      : createRevocations(config.revocations, config.revocationCheckIntervalMs, logger);

  async function validate(data: SessionData): Promise<SessionData | undefined> {
    if (config.schema === undefined) return data;
    // The schema describes the user's keys only: reserved keys (the CSRF token) are neither shown to it
    // (a strict schema would reject them) nor dropped by it (a stripping schema would rotate the token).
    const user: SessionData = Object.create(null);
    const reserved: SessionData = Object.create(null);
    for (const [key, value] of Object.entries(data)) {
      (key.startsWith(RESERVED_PREFIX) ? reserved : user)[key] = value;
    }
    const result = await config.schema["~standard"].validate(user);
    if (result.issues !== undefined) return undefined;
    return { ...(result.value as SessionData), ...reserved };
  }

  /**
   * With a `schema`: the data a commit would write, when this request changed it and it is not empty
   * (an empty session is what `load` falls back to, so `clear()` is always allowed). Undefined: nothing to check.
   */
  function dataToCheck(session: Session<T>): SessionData | undefined {
    const s = Session.internals(session);
    if (s.destroyed || (!s.cleared && s.sets.size === 0 && s.deletes.size === 0)) return undefined;
    const user: SessionData = Object.create(null);
    let empty = true;
    for (const [key, value] of s.data) {
      if (key.startsWith(RESERVED_PREFIX)) continue;
      user[key] = value;
      empty = false;
    }
    return empty ? undefined : user;
  }

  function refuseInvalid(result: { readonly issues?: ReadonlyArray<{ readonly message: string }> }): void {
    if (result.issues === undefined) return;
    const issues = result.issues.map(describeIssue).join("; ");
    throw new FlagonError(
      "ERR_SESSION_INVALID",
      `session data rejected by the schema, not written: ${issues}. The last set() stored a value the ` +
        "schema does not accept; written, it would make every later request load an empty session",
      { cause: result.issues },
    );
  }

  /** An empty session with a new id (never stored until it holds something). */
  function freshSession(state: LoadState, status: SessionStatus, id?: string): Session<T> {
    const session = new Session<T>({
      id,
      isNew: true,
      data: {},
      flashes: [],
      meta: freshMeta(state.now),
      status,
    });
    Session.attach(session, owner, state, hooks);
    return session;
  }

  /** The status of a cookie the format refused: expired, or not ours (tampered, other key, garbage). */
  const refusedStatus = (reason: string): SessionStatus => (reason === "expired" ? "expired" : "invalid");

  /** No valid flagon session: a legacy one (`migrateFrom`) when the request carries one, else an empty one. */
  function noSession(
    state: LoadState,
    header: string | readonly string[],
    status: SessionStatus,
  ): Session<T> | Promise<Session<T>> {
    return config.migrateFrom.length === 0 ? freshSession(state, status) : migrate(state, header, status);
  }

  /** A new session (new id, marked modified so it is committed) holding a legacy session's data. */
  async function migrate(
    state: LoadState,
    header: string | readonly string[],
    status: SessionStatus,
  ): Promise<Session<T>> {
    const legacy = await readLegacySession(config.migrateFrom, header, { ...state, logger });
    if (legacy === undefined) return freshSession(state, status);
    const data = config.schema === undefined ? legacy.data : await validate(legacy.data);
    if (data === undefined) {
      logger.debug?.("schema invalid", { migrateFrom: legacy.from });
      return freshSession(state, status);
    }
    const session = new Session<T>({
      id: undefined,
      isNew: true,
      data: {},
      flashes: [],
      meta: freshMeta(state.now),
      migratedFrom: legacy.from,
    });
    const untyped = session.untyped();
    for (const [key, value] of Object.entries(data)) untyped.set(key, value);
    if (legacy.permanent) session.permanent = true;
    state.legacy = legacy;
    Session.attach(session, owner, state, hooks);
    return session;
  }

  /**
   * The session of a request: the `Session` itself when no I/O is needed (a cookie store, an anonymous id,
   * no cookie), else a promise. Adapters call it (`loadSessionNow`) so that a cookie-store read costs no
   * promise and no microtask; `load` is its promise form.
   */
  function loadNow(input: SessionInput): Session<T> | Promise<Session<T>> {
    const now = Date.now();
    const { header, secure: requestSecure } = readCookieHeader(input);
    const secure = isSecure(requestSecure);
    const name = cookieName(secure);
    const state: LoadState = {
      secure,
      cookieName: name,
      hadCookie: false,
      chunks: 0,
      loadedKey: undefined,
      stale: false,
      now,
      anonymousIssuedAt: undefined,
      keyIndex: undefined,
      storeMs: undefined,
      unavailable: false,
    };

    if (header === undefined || header.length === 0) return freshSession(state, "new");
    // The session cookie is found in any Cookie header the server accepted (a few analytics cookies on a
    // shared domain easily pass 8 KiB): readCookie is one linear pass that parses only the matching pair.
    // `maxCookieHeaderBytes` bounds what is parsed as a whole (the cookie jar), not this.
    let value = readCookie(header, name);
    if (value === undefined && maxChunks > 1) {
      // A session too large for one cookie, split over name.0 … name.N-1 (src/session/chunks.ts).
      const chunked = readChunks(header, name, maxChunks);
      if (chunked !== undefined) {
        state.hadCookie = true;
        state.chunks = chunked.present;
        if (!chunked.ok) {
          logger.debug?.("malformed", { cookie: name, chunks: chunked.present });
          return noSession(state, header, "invalid");
        }
        value = chunked.value;
      }
    }
    if (value === undefined || value === "") return noSession(state, header, "new");
    state.hadCookie = true;

    // The store holding this session's record: a server store, or hybridStore's server side for a
    // session that outgrew the cookie (its cookie is then a signed id, not a sealed session).
    let server: ServerStore | undefined = store.kind === "server" ? store : undefined;
    let verified = undefined as ReturnType<NonNullable<typeof idSigner>["check"]> | undefined;
    if (store.kind === "client") {
      const decoded = store.decode(value, { cookieName: name, keyring: config.keyring, now });
      if (decoded.ok) {
        state.stale = decoded.stale;
        state.keyIndex = decoded.keyIndex ?? (decoded.stale ? 1 : 0);
        // A cookie store's session has no stored id: the Session makes one if anything asks (session.id).
        return loaded(state, header, undefined, decoded.record);
      }
      verified = overflow === undefined ? undefined : idSigner?.check(name, value, { now });
      if (verified === undefined || !verified.ok) {
        logger.debug?.(decoded.reason, { cookie: name });
        return noSession(state, header, refusedStatus(decoded.reason));
      }
      server = overflow!.server;
    }
    if (server === undefined) return noSession(state, header, "invalid"); // unreachable: a store is one kind
    verified ??= idSigner?.check(name, value, { now });
    if (verified === undefined || !verified.ok) {
      // The format's own reason: malformed, bad-mac, expired, not-yet-valid.
      const reason = verified?.reason ?? "bad-mac";
      logger.debug?.(reason, { cookie: name });
      return noSession(state, header, refusedStatus(reason));
    }
    state.keyIndex = verified.keyIndex;
    if (verified.value.startsWith(ANONYMOUS_PREFIX)) {
      // An anonymous visitor's id: nothing was ever stored under it, so nothing is read. It keeps
      // the id (and so the CSRF token of the form it was shown) until it writes something.
      state.anonymousIssuedAt = verified.issuedAt;
      state.stale = verified.keyIndex > 0;
      return freshSession(state, "active", verified.value.slice(ANONYMOUS_PREFIX.length));
    }
    return loadRecord(state, header, server, verified.value, verified.keyIndex);
  }

  /** A server-side session: its record read from the store (one round trip). */
  async function loadRecord(
    state: LoadState,
    header: string | readonly string[],
    server: ServerStore,
    id: string,
    keyIndex: number,
  ): Promise<Session<T>> {
    const key = storeKey(id);
    const started = emit === undefined ? 0 : performance.now();
    let record: SessionRecord | null;
    try {
      record = await getRecord(server, key, reporter);
    } catch (error) {
      if (!config.degrade || !(error instanceof SessionStoreError)) throw error;
      // onStoreUnavailable "degrade": an empty session the handler may read; a write to it fails at commit.
      if (emit !== undefined) state.storeMs = performance.now() - started;
      state.unavailable = true;
      return freshSession(state, "unavailable");
    }
    if (emit !== undefined) state.storeMs = performance.now() - started;
    if (record === null) {
      // OWASP strict mode: a well-signed id with no record is never adopted. The id was stored once
      // (it is signed as stored), so the record ended and was forgotten.
      // Logged as a warning: with a leaked secret, ids can be minted; the status says the likely case.
      logger.warn?.("unknown session id", { cookie: state.cookieName, ref: logRef(key), status: "expired" });
      return noSession(state, header, "expired");
    }
    state.loadedKey = key;
    state.stale = keyIndex > 0;
    return loaded(state, header, id, record);
  }

  /** A record read (from the cookie or the store): its session, unless it ended, was revoked or is invalid. */
  function loaded(
    state: LoadState,
    header: string | readonly string[],
    id: string | undefined,
    record: SessionRecord,
  ): Session<T> | Promise<Session<T>> {
    const ended = endedStatus(record, state.now);
    if (ended !== undefined) {
      logger.debug?.(LOG_MESSAGES[ended] ?? ended, {
        cookie: state.cookieName,
        ref: state.loadedKey && logRef(state.loadedKey),
      });
      return noSession(state, header, ended);
    }
    if (revocations !== undefined && record.lifecycle?.userTag !== undefined) {
      return checkRevoked(state, header, id, record, revocations);
    }
    return withData(state, header, id, record);
  }

  async function checkRevoked(
    state: LoadState,
    header: string | readonly string[],
    id: string | undefined,
    record: SessionRecord,
    list: Revocations,
  ): Promise<Session<T>> {
    let revoked: boolean;
    try {
      revoked = await list.isRevoked(record.lifecycle!, state.now);
    } catch (error) {
      if (!config.degrade || !(error instanceof SessionStoreError)) throw error;
      state.unavailable = true;
      return freshSession(state, "unavailable");
    }
    if (revoked) {
      logger.debug?.("revoked", { cookie: state.cookieName });
      return noSession(state, header, "revoked");
    }
    return withData(state, header, id, record);
  }

  /** The session of a current record: its data read back (untagged; checked by the schema, if any). */
  function withData(
    state: LoadState,
    header: string | readonly string[],
    id: string | undefined,
    record: SessionRecord,
  ): Session<T> | Promise<Session<T>> {
    const stored = readStored(record.data, config.tagged);
    if (stored === undefined || config.schema === undefined)
      return sessionOf(state, header, id, record, stored, "bad tagged value");
    return validate(stored).then((data) => sessionOf(state, header, id, record, data, "schema invalid"));
  }

  function sessionOf(
    state: LoadState,
    header: string | readonly string[],
    id: string | undefined,
    record: SessionRecord,
    data: SessionData | undefined,
    /** What the debug log says when `data` is undefined. */
    why: string,
  ): Session<T> | Promise<Session<T>> {
    if (data === undefined) {
      logger.debug?.(why, { cookie: state.cookieName, ref: state.loadedKey && logRef(state.loadedKey) });
      return noSession(state, header, "invalid");
    }
    const session = new Session<T>({ id, isNew: false, data, flashes: record.flashes, meta: record });
    Session.attach(session, owner, state, hooks);
    return session;
  }

  async function load(input: SessionInput): Promise<Session<T>> {
    return loadNow(input);
  }

  function cookieAttributes(state: LoadState, maxAge: number | undefined): CookieAttributes {
    return {
      path: cookie.path,
      domain: cookie.domain,
      secure: state.secure,
      httpOnly: cookie.httpOnly,
      sameSite: cookie.sameSite,
      partitioned: cookie.partitioned && state.secure,
      maxAge,
      // Values are base64url and dots already: no percent-encoding needed or wanted.
      encode: (value: string) => value,
    };
  }

  /** The Set-Cookie line for the session cookie (throws `ERR_COOKIE_TOO_LARGE` before any store I/O). */
  function cookieLine(state: LoadState, value: string, meta: SessionMeta): Lines {
    let maxAge: number | undefined;
    if (meta.permanent) {
      maxAge = Math.max(1, Math.min(MAX_COOKIE_LIFETIME, Math.floor((validUntil(meta) - state.now) / 1000)));
    }
    const attributes = cookieAttributes(state, maxAge);
    if (maxChunks === 1 || (state.chunks === 0 && fitsOneCookie(state.cookieName, value))) {
      return serializeCookie(state.cookieName, value, attributes);
    }
    return chunkedLines(state, value, attributes);
  }

  /**
   * The lines of a client-store value when chunks are involved: the value in one cookie or in chunks, and
   * the expiry of every session cookie the request carried that this write does not replace (the one
   * cookie when switching to chunks, chunks past the new count, all chunks when back to one cookie).
   */
  function chunkedLines(state: LoadState, value: string, attributes: CookieAttributes): string[] {
    const name = state.cookieName;
    let lines: string[];
    let from = 0;
    if (fitsOneCookie(name, value)) {
      lines = [serializeCookie(name, value, attributes)];
    } else {
      lines = chunkLines(name, value, maxChunks, (chunk, piece) => serializeCookie(chunk, piece, attributes));
      from = lines.length;
      if (state.hadCookie && state.chunks === 0) lines.push(expiryLine(state, name));
    }
    for (let index = from; index < state.chunks; index++)
      lines.push(expiryLine(state, chunkName(name, index)));
    return lines;
  }

  function expiryLine(state: LoadState, name: string): string {
    return serializeCookie(name, "", { ...cookieAttributes(state, 0), expires: new Date(0) });
  }

  function clearLine(state: LoadState): Lines {
    if (state.chunks === 0) return expiryLine(state, state.cookieName);
    const lines: string[] = [];
    for (let index = 0; index < state.chunks; index++) {
      lines.push(expiryLine(state, chunkName(state.cookieName, index)));
    }
    return lines;
  }

  function cookieValue(id: string, record: SessionRecord, state: LoadState): string {
    if (store.kind === "client") {
      return store.encode(record, { cookieName: state.cookieName, keyring: config.keyring, now: state.now });
    }
    return idSigner!.sign(state.cookieName, id, { now: state.now });
  }

  /** Plans that carry nothing but `Vary` (a read) or nothing at all: shared, never allocated per request. */
  const untouchedPlans = new Map<string, CommitPlan>();
  const readPlans = new Map<string, CommitPlan>();
  function constantPlan(cache: Map<string, CommitPlan>, cookieName: string, vary: boolean): CommitPlan {
    let found = cache.get(cookieName);
    if (found === undefined) {
      found = Object.freeze({
        write: undefined,
        setCookie: undefined,
        moreCookies: undefined,
        cookieName,
        vary,
        cacheControl: undefined,
      });
      if (cache.size < 16) cache.set(cookieName, found);
    }
    return found;
  }

  /** One store call, run in order by the plan's `write`. */
  type Step = () => Promise<void>;

  function planOf(state: LoadState, line: Lines | undefined, steps: Step[] | undefined): CommitPlan {
    if (line === undefined && steps === undefined) return constantPlan(readPlans, state.cookieName, true);
    const several = typeof line === "object";
    return {
      write: steps === undefined ? undefined : runSteps(steps),
      setCookie: several ? line[0] : line,
      moreCookies: several && line.length > 1 ? line.slice(1) : undefined,
      cookieName: state.cookieName,
      vary: true,
      cacheControl: line === undefined || config.cacheControl === false ? undefined : config.cacheControl,
    };
  }

  /**
   * What committing a session takes, computed once: the store calls to make, in order, and the
   * headers to send once they have succeeded. No I/O and no change to the session, so a cookie that
   * cannot be written (`ERR_COOKIE_TOO_LARGE`) or data a synchronous schema rejects fails here,
   * before the store is touched.
   */
  function prepare(session: Session<T>): CommitPlan {
    const state = Session.stateOf(session, owner) as LoadState | undefined;
    if (state === undefined) throw new TypeError("commit() needs a session returned by this load()");
    let plan = !state.unavailable
      ? prepareOwn(session, state)
      : session.modified
        ? refusedWritePlan(state.cookieName)
        : constantPlan(readPlans, state.cookieName, true);
    if (state.legacy !== undefined) plan = withLegacyExpiry(plan, state.legacy, config.cacheControl);
    if (config.degrade && plan.write !== undefined && !session.modified) plan = skippingTouch(plan);
    return emit === undefined ? plan : withCommitEvent(plan, emit);
  }

  /** The plan of the session's own changes. */
  function prepareOwn(session: Session<T>, state: LoadState): CommitPlan {
    const s = Session.internals(session);
    if (!s.accessed) return constantPlan(untouchedPlans, state.cookieName, false);

    let pendingSchema: Promise<unknown> | undefined;
    if (config.schema !== undefined) {
      const data = dataToCheck(session);
      if (data !== undefined) {
        const checked = config.schema["~standard"].validate(data);
        if (checked instanceof Promise) {
          pendingSchema = checked;
          checked.catch(() => undefined); // awaited by write(); never an unhandled rejection
        } else {
          refuseInvalid(checked);
        }
      }
    }
    const plan = planChanges(session, state, s);
    if (pendingSchema === undefined) return plan;
    // An asynchronous schema: the write validates first, and writes nothing when it refuses.
    const schema = pendingSchema;
    const write = plan.write;
    return {
      ...plan,
      write: async () => {
        refuseInvalid((await schema) as { readonly issues?: ReadonlyArray<{ readonly message: string }> });
        if (write !== undefined) await write();
      },
    };
  }

  function planChanges(
    session: Session<T>,
    state: LoadState,
    s: ReturnType<typeof Session.internals>,
  ): CommitPlan {
    const now = state.now;

    if (s.destroyed) {
      const steps: Step[] = [];
      const loadedKey = state.loadedKey;
      const server = serverOf(state);
      if (server !== undefined && loadedKey !== undefined)
        steps.push(() => destroyRecord(server, loadedKey, reporter));
      const after = Session.pendingAfterDestroy(session);
      let line: Lines | undefined;
      if (after.length > 0) {
        line = planNew(steps, state, randomToken(32), new Map(), after, freshMeta(now));
      } else if (state.hadCookie) {
        line = clearLine(state);
      }
      return planOf(state, line, steps.length > 0 ? steps : undefined);
    }

    const remainingFlashes =
      s.consumedIds.size === 0 && s.addedFlashes.length === 0
        ? s.loadedFlashes.slice()
        : [...s.loadedFlashes.filter((flash) => !s.consumedIds.has(flash.id)), ...s.addedFlashes];
    // A logged-in session is never empty: its user is what it holds.
    const empty =
      s.data.size === 0 && remainingFlashes.length === 0 && s.meta.lifecycle?.userId === undefined;
    const changed = session.modified;
    const touchDue =
      !session.isNew &&
      (config.rolling || config.idleTimeoutMs !== undefined || isAnonymous(s.meta)) &&
      now - s.meta.lastSeenAt >= config.touchAfterMs;

    if (empty && session.isNew && store.kind === "server" && s.csrfIssued) {
      // A visitor shown a form and nothing else: the id goes to the browser (its CSRF token is derived
      // from it), signed as anonymous, and nothing is stored. Re-issued as it is used, so it expires
      // only after `anonymousIdleTimeout` without a form.
      const issuedAt = state.anonymousIssuedAt;
      if (issuedAt !== undefined && !state.stale && now - issuedAt < config.touchAfterMs) {
        return planOf(state, undefined, undefined);
      }
      return planOf(state, anonymousLine(state, session.id), undefined);
    }

    // New, or emptied: nothing to keep. Flask deletes the cookie of a session that became empty.
    // Except a loaded server-side record (same id): "empty" is only this request's view, so its change
    // set is applied like any other and a flash or key a concurrent request added survives (the store
    // guarantees in docs/security.md); the record then expires on its own.
    const server = serverOf(state);
    const keepServerRecord =
      server !== undefined && !session.isNew && state.loadedKey !== undefined && s.previousId === undefined;
    if (empty && !keepServerRecord) {
      const loadedKey = state.loadedKey;
      const steps =
        !session.isNew && server !== undefined && loadedKey !== undefined && changed
          ? [() => destroyRecord(server, loadedKey, reporter)]
          : undefined;
      // A bad cookie is cleared; an anonymous id the request did not use is left alone (another tab's
      // form may still need it).
      const line =
        state.hadCookie && (changed || (session.isNew && state.anonymousIssuedAt === undefined))
          ? clearLine(state)
          : undefined;
      return planOf(state, line, steps);
    }

    if (!changed && !touchDue && !state.stale && s.previousId === undefined && !session.isNew) {
      return planOf(state, undefined, undefined);
    }

    const meta = metaOf(s.meta);
    if (changed || touchDue || state.stale) {
      meta.lastSeenAt = now;
      meta.expiresAt = expiresAt(meta);
    }

    if (s.previousId !== undefined || session.isNew) {
      // Regenerated (login) or brand new: write the whole record under the current id.
      const steps: Step[] = [];
      const line = planNew(
        steps,
        state,
        storedId(session),
        s.data,
        remainingFlashes,
        meta,
        state.loadedKey,
        s.loggedIn,
      );
      return planOf(state, line, steps.length > 0 ? steps : undefined);
    }

    if (server === undefined) {
      if (overflow !== undefined) {
        // hybridStore, cookie phase: the whole session again, in the cookie or moved to the server.
        const steps: Step[] = [];
        const line = planNew(steps, state, storedId(session), s.data, remainingFlashes, meta);
        return planOf(state, line, steps.length > 0 ? steps : undefined);
      }
      const record = recordOf(meta, storedRecord(s.data, config.tagged), remainingFlashes);
      return planOf(state, cookieLine(state, cookieValue("", record, state), meta), undefined);
    }

    const key = state.loadedKey!;
    // Only a commit that adds something can make the record larger (a read or a touch never fails).
    if (s.sets.size > 0 || s.addedFlashes.length > 0) checkRecordSize(s.data, remainingFlashes);
    const changes: ChangeSet = {
      clear: s.cleared,
      set: storedEntries(s.sets, config.tagged),
      delete: [...s.deletes],
      flashAdd: [...s.addedFlashes],
      flashConsume: [...s.consumedIds],
      meta,
    };
    // The id did not change: the cookie is re-sent only when its attributes or key must change.
    const permanentRefresh = meta.permanent && (changed || touchDue);
    const line =
      state.stale || s.metaChanged || permanentRefresh || (config.rolling && touchDue)
        ? cookieLine(state, idValue(state, session.id), meta)
        : undefined;
    return planOf(state, line, [() => applyChanges(server, key, changes, reporter)]);
  }

  /**
   * Refuses (`ERR_SESSION_TOO_LARGE`) a server record whose JSON would exceed `maxRecordBytes`, before any
   * store call: the whole record as this request sees it (data and flashes; the meta is small and bounded).
   */
  function checkRecordSize(data: ReadonlyMap<string, unknown>, flashes: readonly FlashMessage[]): void {
    const limit = config.maxRecordBytes;
    if (limit === Number.POSITIVE_INFINITY) return;
    let bytes = 2;
    for (const [key, value] of data) {
      // `{"key":value,}`: the value as the store will serialise it (set() refused what JSON cannot hold).
      bytes +=
        Buffer.byteLength(key) +
        4 +
        Buffer.byteLength(JSON.stringify(storedValue(value, config.tagged)) ?? "null");
      if (bytes > limit) break;
    }
    for (const flash of flashes) {
      bytes += Buffer.byteLength(flash.message) + Buffer.byteLength(flash.category) + flash.id.length + 40;
    }
    if (bytes <= limit) return;
    throw new FlagonError(
      "ERR_SESSION_TOO_LARGE",
      `session record would be at least ${bytes} bytes of JSON, over maxRecordBytes (${limit}); nothing was ` +
        "written. Keep large data in your own tables keyed by the user, or raise createSessions({ maxRecordBytes })",
    );
  }

  /** The id a write stores the session under: none for a cookie store (not asked for, so never made). */
  function storedId(session: Session<T>): string {
    return store.kind === "server" || overflow !== undefined ? session.id : "";
  }

  /** Adds the steps that store a whole new record; returns its cookie line. */
  function planNew(
    steps: Step[],
    state: LoadState,
    id: string,
    data: ReadonlyMap<string, unknown>,
    flashes: FlashMessage[],
    meta: SessionMeta,
    /** Key of the record this one replaces (regenerate): deleted only once the new one is stored. */
    replacesKey?: string,
    /** `login()` happened in this request: index the record under its user. */
    loggedIn = false,
  ): Lines {
    const record = recordOf(meta, storedRecord(data, config.tagged), flashes);
    const lifecycle = meta.lifecycle;
    let line: Lines | undefined;
    let target: ServerStore | undefined = store.kind === "server" ? store : undefined;
    if (target === undefined) {
      line =
        overflow === undefined
          ? cookieLine(state, cookieValue(id, record, state), meta)
          : inlineLine(state, record, meta);
      // hybridStore: too large for the cookie, so the record moves to the server (and the cookie holds its id).
      if (line === undefined) target = overflow!.server;
    }
    if (target !== undefined) {
      checkRecordSize(data, flashes);
      line = cookieLine(state, idValue(state, id), meta);
      const changes: ChangeSet = {
        clear: true,
        set: storedEntries(data, config.tagged),
        delete: [],
        flashAdd: flashes,
        flashConsume: [],
        meta,
      };
      if (loggedIn && lifecycle?.userTag !== undefined && store.kind === "server") {
        changes.indexUser = lifecycle.userTag;
      }
      const written = target;
      steps.push(() => applyChanges(written, storeKey(id), changes, reporter));
    }
    // Write first, delete second: a failed write leaves the user their old session, not none. The record
    // replaced is a regenerated session's (server stores), or a hybrid session's that left the server.
    const replaced = store.kind === "server" ? store : overflow?.server;
    if (replacesKey !== undefined && replaced !== undefined) {
      steps.push(() => destroyRecord(replaced, replacesKey, reporter));
    }
    if (store.kind === "client" && loggedIn && revocations !== undefined && lifecycle !== undefined) {
      // A cookie session that logged in: recorded beside the user's revocations, so that `revokeUser`
      // can say how many sessions it ended.
      steps.push(() => revocations.recordLogin(lifecycle, validUntil(meta)));
    }
    return line!;
  }

  /**
   * hybridStore, a session written whole: its cookie line(s) when its cookie stays within `maxCookieBytes`
   * (and what the cookie store and `maxChunks` can write), else undefined: it moves to the server.
   */
  function inlineLine(state: LoadState, record: SessionRecord, meta: SessionMeta): Lines | undefined {
    try {
      const value = cookieValue("", record, state);
      if (Buffer.byteLength(state.cookieName) + value.length > overflow!.maxCookieBytes) return undefined;
      return cookieLine(state, value, meta);
    } catch (error) {
      if (error instanceof FlagonError && error.code === "ERR_COOKIE_TOO_LARGE") return undefined;
      throw error;
    }
  }

  /** A signed session id: the cookie value of a session kept on the server. */
  function idValue(state: LoadState, id: string): string {
    return idSigner!.sign(state.cookieName, id, { now: state.now });
  }

  /** The Set-Cookie line of an anonymous id: signed as such, expiring with `anonymousIdleTimeout`. */
  function anonymousLine(state: LoadState, id: string): string {
    const value = idSigner!.sign(state.cookieName, `${ANONYMOUS_PREFIX}${id}`, {
      now: state.now,
      expiresAt: state.now + config.anonymousIdleTimeoutMs,
    });
    return serializeCookie(state.cookieName, value, cookieAttributes(state, undefined));
  }

  async function commit(session: Session<T>, headers: Headers): Promise<void> {
    const plan = prepare(session);
    if (plan.write !== undefined) await plan.write();
    applyPlanToHeaders(headers, plan);
  }

  function lifecycleStore(
    operation: string,
  ): ServerStore & Required<Pick<ServerStore, "listUser" | "revoke">> {
    if (store.kind !== "server") {
      throw new ConfigError(
        "ERR_NOT_SUPPORTED",
        `${operation} needs sessions kept on the server: a cookie store holds nothing to ${operation === "listUser" ? "list" : "revoke"}` +
          (operation === "listUser"
            ? ""
            : "; give createSessions a `revocations` server store (e.g. redisStore(...))"),
      );
    }
    if (typeof store.listUser !== "function" || typeof store.revoke !== "function") {
      throw new ConfigError(
        "ERR_NOT_SUPPORTED",
        `${operation}: this store does not implement listUser() and revoke() (flagon's memory, SQLite, Redis and Postgres stores do)`,
      );
    }
    return store as ServerStore & Required<Pick<ServerStore, "listUser" | "revoke">>;
  }

  async function liveSessions(target: ReturnType<typeof lifecycleStore>, userId: string, now: number) {
    let entries: Awaited<ReturnType<ServerStore["listUser"] & {}>>;
    try {
      entries = await target.listUser(userTag(userId));
    } catch (error) {
      throw asStoreError(error, "read", reporter);
    }
    // A tag is a digest: the user id itself is checked too.
    return entries.filter(
      (entry) => entry.meta.lifecycle?.userId === userId && endedStatus(entry.meta, now) === undefined,
    );
  }

  async function listUser(userId: string): Promise<UserSession[]> {
    checkUserId("listUser", userId);
    const target = lifecycleStore("listUser");
    const live = await liveSessions(target, userId, Date.now());
    return live
      .map(({ meta }) => ({
        ref: (meta.lifecycle as Lifecycle).ref,
        createdAt: meta.createdAt,
        lastSeenAt: meta.lastSeenAt,
        expiresAt: validUntil(meta),
        loginAt: meta.lifecycle?.loginAt ?? meta.createdAt,
        meta: { ...(meta.lifecycle?.meta ?? {}) },
      }))
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  async function revokeKeys(target: ReturnType<typeof lifecycleStore>, keys: string[]): Promise<number> {
    let ended = 0;
    try {
      const results = await Promise.all(keys.map((key) => target.revoke(key)));
      for (const result of results) if (result) ended++;
    } catch (error) {
      throw asStoreError(error, "write", reporter);
    }
    return ended;
  }

  async function revoke(ref: string): Promise<boolean> {
    if (typeof ref !== "string" || ref.length === 0 || ref.length > 200) return false;
    const tag = userTagOfRef(ref);
    if (store.kind === "client" && revocations !== undefined) return revocations.revoke(ref);
    const target = lifecycleStore("revoke");
    // Only sessions that logged in are indexed (their ref starts with the user's tag).
    if (tag === undefined) return false;
    let entries: Awaited<ReturnType<ServerStore["listUser"] & {}>>;
    try {
      entries = await target.listUser(tag);
    } catch (error) {
      throw asStoreError(error, "read", reporter);
    }
    const keys = entries.filter((entry) => entry.meta.lifecycle?.ref === ref).map((entry) => entry.key);
    return (await revokeKeys(target, keys)) > 0;
  }

  async function revokeUser(userId: string, options: { except?: string } = {}): Promise<number> {
    checkUserId("revokeUser", userId);
    const except = options.except;
    if (except !== undefined && typeof except !== "string") {
      throw new ConfigError("ERR_INVALID_OPTION", "revokeUser(userId, { except }): except is a session.ref");
    }
    if (store.kind === "client" && revocations !== undefined)
      return revocations.revokeUser(userTag(userId), except);
    const target = lifecycleStore("revokeUser");
    const live = await liveSessions(target, userId, Date.now());
    return revokeKeys(
      target,
      live.filter((entry) => entry.meta.lifecycle?.ref !== except).map((entry) => entry.key),
    );
  }

  /** Reports a `load` event (only with `onEvent`). */
  function observed(session: Session<T>): Session<T> {
    const state = Session.stateOf(session, owner) as LoadState;
    emit!({
      type: "load",
      status: Session.statusOf(session),
      store: state.storeMs === undefined ? undefined : { ms: state.storeMs },
      keyIndex: state.keyIndex,
    });
    return session;
  }

  /** `loadNow` reporting a `load` event (only with `onEvent`: without it, `loadNow` is used as it is). */
  function loadNowObserved(input: SessionInput): Session<T> | Promise<Session<T>> {
    const result = loadNow(input);
    return result instanceof Promise ? result.then(observed) : observed(result);
  }

  const publicLoadNow = emit === undefined ? loadNow : loadNowObserved;
  async function loadObserved(input: SessionInput): Promise<Session<T>> {
    return loadNowObserved(input);
  }
  const publicLoad = emit === undefined ? load : loadObserved;

  const sessions: Sessions<T> = {
    load: publicLoad,
    prepare,
    commit,
    listUser,
    revoke,
    revokeUser,
    cookieName: (secure: boolean) => cookieName(isSecure(secure)),
    close: async () => {
      if (store.kind === "server") await store.close?.();
      else await overflow?.server.close?.();
    },
  };
  // Not enumerable: a copy of the core (`{ ...core, load }`) goes through its own `load`.
  const fast: LoadNow<T> = { load: publicLoad, now: publicLoadNow };
  Object.defineProperty(sessions, LOAD_NOW, { value: fast });
  return sessions;
}

/**
 * The digest a user's sessions are indexed under, and the first part of their refs: a hash of the user
 * id (not keyed, so that it survives a change of secrets; a ref is shown to its own user only).
 */
function userTag(userId: string): string {
  return createHash("sha256").update("flagon-user\0").update(userId).digest("base64url").slice(0, 22);
}

function checkUserId(operation: string, userId: unknown): void {
  if (typeof userId !== "string" || userId.length === 0 || userId.length > 256) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `${operation}(userId): the id given to session.login(userId), a non-empty string of at most 256 characters`,
    );
  }
}

/** A Standard Schema issue as text: `user.name: Expected string` (the path, when the schema gives one). */
function describeIssue(issue: { readonly message: string }): string {
  const path = (issue as { readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> }).path;
  if (path === undefined || path.length === 0) return issue.message;
  const where = path.map((part) => String(typeof part === "object" ? part.key : part)).join(".");
  return `${where}: ${issue.message}`;
}

/** Where store failures go: the logger (once per error) and `onEvent`. */
interface Reporter {
  readonly logger: SessionLogger;
  readonly emit: EventSink;
}

type StoreOperation = "read" | "write" | "delete";

/** Store calls wrapped so that any failure reaches the adapter as a `SessionStoreError` without ids, logged once. */
async function getRecord(store: ServerStore, key: string, reporter: Reporter): Promise<SessionRecord | null> {
  try {
    return await store.get(key);
  } catch (error) {
    throw asStoreError(error, "read", reporter);
  }
}

async function applyChanges(
  store: ServerStore,
  key: string,
  changes: ChangeSet,
  reporter: Reporter,
): Promise<void> {
  try {
    await store.apply(key, changes);
  } catch (error) {
    throw asStoreError(error, "write", reporter);
  }
}

async function destroyRecord(store: ServerStore, key: string, reporter: Reporter): Promise<void> {
  try {
    await store.destroy(key);
  } catch (error) {
    throw asStoreError(error, "delete", reporter);
  }
}

function asStoreError(error: unknown, operation: string, reporter: Reporter): SessionStoreError {
  const storeError =
    error instanceof SessionStoreError
      ? error
      : new SessionStoreError(`session store ${operation} failed`, {
          cause: error,
          code: "ERR_STORE_FAILED",
        });
  if (reportStoreFailure(reporter.logger, storeError, operation)) {
    reporter.emit?.({ type: "storeError", code: storeError.code, operation: operation as StoreOperation });
  }
  return storeError;
}

/** Runs a plan's store calls in order (a write before the delete it makes safe). */
function runSteps(steps: ReadonlyArray<() => Promise<void>>): () => Promise<void> {
  if (steps.length === 1) return steps[0]!;
  return async () => {
    for (const step of steps) await step();
  };
}

export type { ClientStore, CommitPlan, ServerStore };
