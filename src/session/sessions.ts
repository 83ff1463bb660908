import * as crypto from "node:crypto";
import { createHash } from "node:crypto";
import { type CookieAttributes, serializeCookie } from "../cookie/index.js";
import { exceedsBytes, readCookie } from "../cookie/parse.js";
import { randomToken } from "../crypto/random.js";
import { createSigner } from "../crypto/signer.js";
import { FlagonError, SessionStoreError } from "../errors.js";
import { memoryStore } from "../stores/memory.js";
import type {
  ChangeSet,
  ClientStore,
  FlashMessage,
  ServerStore,
  SessionMeta,
  SessionRecord,
} from "../stores/types.js";
import { type LegacySession, readLegacySession, withLegacyExpiry } from "./migrate.js";
import {
  MAX_COOKIE_LIFETIME,
  type ResolvedOptions,
  resolveOptions,
  type SessionLogger,
  type SessionsOptions,
} from "./options.js";
import { applyPlanToHeaders, type CommitPlan } from "./plan.js";
import { RESERVED_PREFIX, Session, type SessionData, type SessionShape } from "./session.js";
import { reportStoreFailure } from "./store-failure.js";

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
  /** Releases the store (connections, timers, files). */
  close(): Promise<void>;
}

/** Per-session facts the core keeps beside the `Session` object. */
interface LoadState {
  secure: boolean;
  cookieName: string;
  /** The request carried a session cookie (valid or not). */
  hadCookie: boolean;
  /** Key of the stored record this session was loaded from (server stores). */
  loadedKey: string | undefined;
  /** The cookie was verified by a fallback secret: re-issue it. */
  stale: boolean;
  now: number;
  /** The legacy session (`migrateFrom`) this one was made from: its cookies are expired at commit. */
  legacy?: LegacySession;
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

function headerBytes(header: string | readonly string[]): number {
  if (typeof header === "string") return Buffer.byteLength(header);
  let total = 0;
  for (const part of header) total += Buffer.byteLength(part) + 2;
  return total;
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

  function cookieName(secure: boolean): string {
    if (!secure || !cookie.prefix || /^__(host|secure)-/i.test(cookie.name)) return cookie.name;
    return cookie.domain === undefined && cookie.path === "/"
      ? `__Host-${cookie.name}`
      : `__Secure-${cookie.name}`;
  }

  function isSecure(requestSecure: boolean): boolean {
    return cookie.secure === "auto" ? requestSecure : cookie.secure;
  }

  function expiresAt(meta: Omit<SessionMeta, "expiresAt">): number {
    let expiry = meta.lastSeenAt + config.permanentLifetimeMs;
    if (config.idleTimeoutMs !== undefined) expiry = Math.min(expiry, meta.lastSeenAt + config.idleTimeoutMs);
    if (config.absoluteTimeoutMs !== undefined)
      expiry = Math.min(expiry, meta.createdAt + config.absoluteTimeoutMs);
    return expiry;
  }

  function freshMeta(now: number): SessionMeta {
    const base = { createdAt: now, lastSeenAt: now, permanent: false };
    return { ...base, expiresAt: expiresAt(base) };
  }

  /** Why a record is no longer valid at `now`, or undefined when it is. */
  function expiredReason(meta: SessionMeta, now: number): string | undefined {
    if (now >= meta.expiresAt) return "expired";
    if (config.idleTimeoutMs !== undefined && now - meta.lastSeenAt >= config.idleTimeoutMs)
      return "idle timeout";
    if (config.absoluteTimeoutMs !== undefined && now - meta.createdAt >= config.absoluteTimeoutMs) {
      return "absolute timeout";
    }
    return undefined;
  }

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
  function freshSession(state: LoadState): Session<T> {
    const session = new Session<T>({
      id: randomToken(32),
      isNew: true,
      data: {},
      flashes: [],
      meta: freshMeta(state.now),
    });
    Session.attach(session, owner, state);
    return session;
  }

  /** No valid flagon session: a legacy one (`migrateFrom`) when the request carries one, else an empty one. */
  function noSession(state: LoadState, header: string | readonly string[]): Session<T> | Promise<Session<T>> {
    return config.migrateFrom.length === 0 ? freshSession(state) : migrate(state, header);
  }

  /** A new session (new id, marked modified so it is committed) holding a legacy session's data. */
  async function migrate(state: LoadState, header: string | readonly string[]): Promise<Session<T>> {
    const legacy = await readLegacySession(config.migrateFrom, header, { ...state, logger });
    if (legacy === undefined) return freshSession(state);
    const data = config.schema === undefined ? legacy.data : await validate(legacy.data);
    if (data === undefined) {
      logger.debug?.("schema invalid", { migrateFrom: legacy.from });
      return freshSession(state);
    }
    const session = new Session<T>({
      id: randomToken(32),
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
    Session.attach(session, owner, state);
    return session;
  }

  async function load(input: SessionInput): Promise<Session<T>> {
    const now = Date.now();
    const { header, secure: requestSecure } = readCookieHeader(input);
    const secure = isSecure(requestSecure);
    const name = cookieName(secure);
    const state: LoadState = {
      secure,
      cookieName: name,
      hadCookie: false,
      loadedKey: undefined,
      stale: false,
      now,
    };

    if (header === undefined || header.length === 0) return freshSession(state);
    const oversized =
      typeof header === "string"
        ? exceedsBytes(header, config.maxCookieHeaderBytes)
        : headerBytes(header) > config.maxCookieHeaderBytes;
    if (oversized) {
      logger.debug?.("cookie header over the size cap ignored", { bytes: headerBytes(header) });
      return freshSession(state);
    }
    // The cap was checked above; the parser's own default (8 KiB) must not undercut a larger configured one.
    const value = readCookie(header, name, config.maxCookieHeaderBytes);
    if (value === undefined || value === "") return noSession(state, header);
    state.hadCookie = true;

    let id: string;
    let record: SessionRecord | null;
    if (store.kind === "client") {
      const decoded = store.decode(value, { cookieName: name, keyring: config.keyring, now });
      if (!decoded.ok) {
        logger.debug?.(decoded.reason, { cookie: name });
        return noSession(state, header);
      }
      id = randomToken(32);
      record = decoded.record;
      state.stale = decoded.stale;
    } else {
      const verified = idSigner?.check(name, value, { now });
      if (verified === undefined || !verified.ok) {
        // The format's own reason: malformed, bad-mac, expired, not-yet-valid.
        logger.debug?.(verified?.reason ?? "bad-mac", { cookie: name });
        return noSession(state, header);
      }
      id = verified.value;
      const key = storeKey(id);
      record = await getRecord(store, key, logger);
      if (record === null) {
        // OWASP strict mode: a well-signed id with no record is never adopted.
        logger.warn?.("unknown session id", { cookie: name, ref: logRef(key) });
        return noSession(state, header);
      }
      state.loadedKey = key;
      state.stale = verified.keyIndex > 0;
    }

    const reason = expiredReason(record, now);
    if (reason !== undefined) {
      logger.debug?.(reason, { cookie: name, ref: state.loadedKey && logRef(state.loadedKey) });
      return noSession(state, header);
    }
    const data = config.schema === undefined ? record.data : await validate(record.data);
    if (data === undefined) {
      logger.debug?.("schema invalid", { cookie: name, ref: state.loadedKey && logRef(state.loadedKey) });
      return noSession(state, header);
    }
    const session = new Session<T>({ id, isNew: false, data, flashes: record.flashes, meta: record });
    Session.attach(session, owner, state);
    return session;
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
  function cookieLine(state: LoadState, value: string, meta: SessionMeta): string {
    let maxAge: number | undefined;
    if (meta.permanent) {
      maxAge = Math.max(1, Math.min(MAX_COOKIE_LIFETIME, Math.floor((meta.expiresAt - state.now) / 1000)));
    }
    return serializeCookie(state.cookieName, value, cookieAttributes(state, maxAge));
  }

  function clearLine(state: LoadState): string {
    const attributes = { ...cookieAttributes(state, 0), expires: new Date(0) };
    return serializeCookie(state.cookieName, "", attributes);
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

  function planOf(state: LoadState, line: string | undefined, steps: Step[] | undefined): CommitPlan {
    if (line === undefined && steps === undefined) return constantPlan(readPlans, state.cookieName, true);
    return {
      write: steps === undefined ? undefined : runSteps(steps),
      setCookie: line,
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
    const plan = prepareOwn(session, state);
    return state.legacy === undefined ? plan : withLegacyExpiry(plan, state.legacy, config.cacheControl);
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
      if (store.kind === "server" && loadedKey !== undefined)
        steps.push(() => destroyRecord(store, loadedKey, logger));
      const after = Session.pendingAfterDestroy(session);
      let line: string | undefined;
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
    const empty = s.data.size === 0 && remainingFlashes.length === 0;
    const changed = session.modified;
    const touchDue =
      !session.isNew &&
      (config.rolling || config.idleTimeoutMs !== undefined) &&
      now - s.meta.lastSeenAt >= config.touchAfterMs;

    // New, or emptied: nothing to keep. Flask deletes the cookie of a session that became empty.
    // Except a loaded server-side record (same id): "empty" is only this request's view, so its change
    // set is applied like any other and a flash or key a concurrent request added survives (the store
    // guarantees in docs/security.md); the record then expires on its own.
    const keepServerRecord =
      store.kind === "server" &&
      !session.isNew &&
      state.loadedKey !== undefined &&
      s.previousId === undefined;
    if (empty && !keepServerRecord) {
      const loadedKey = state.loadedKey;
      const steps =
        !session.isNew && store.kind === "server" && loadedKey !== undefined && changed
          ? [() => destroyRecord(store, loadedKey, logger)]
          : undefined;
      const line = state.hadCookie && (changed || session.isNew) ? clearLine(state) : undefined;
      return planOf(state, line, steps);
    }

    if (!changed && !touchDue && !state.stale && s.previousId === undefined && !session.isNew) {
      return planOf(state, undefined, undefined);
    }

    const meta: SessionMeta = { ...s.meta };
    if (changed || touchDue || state.stale) {
      meta.lastSeenAt = now;
      meta.expiresAt = expiresAt(meta);
    }

    if (s.previousId !== undefined || session.isNew) {
      // Regenerated (login) or brand new: write the whole record under the current id.
      const steps: Step[] = [];
      const line = planNew(steps, state, session.id, s.data, remainingFlashes, meta, state.loadedKey);
      return planOf(state, line, steps.length > 0 ? steps : undefined);
    }

    if (store.kind === "client") {
      const record: SessionRecord = { ...meta, data: Object.fromEntries(s.data), flashes: remainingFlashes };
      return planOf(state, cookieLine(state, cookieValue(session.id, record, state), meta), undefined);
    }

    const key = state.loadedKey!;
    const changes: ChangeSet = {
      clear: s.cleared,
      set: [...s.sets],
      delete: [...s.deletes],
      flashAdd: [...s.addedFlashes],
      flashConsume: [...s.consumedIds],
      meta,
    };
    // The id did not change: the cookie is re-sent only when its attributes or key must change.
    const permanentRefresh = meta.permanent && (changed || touchDue);
    const line =
      state.stale || s.metaChanged || permanentRefresh || (config.rolling && touchDue)
        ? cookieLine(state, cookieValue(session.id, { ...meta, data: {}, flashes: [] }, state), meta)
        : undefined;
    return planOf(state, line, [() => applyChanges(store, key, changes, logger)]);
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
  ): string {
    const record: SessionRecord = { ...meta, data: Object.fromEntries(data), flashes };
    const line = cookieLine(state, cookieValue(id, record, state), meta);
    if (store.kind === "server") {
      const changes: ChangeSet = {
        clear: true,
        set: [...data],
        delete: [],
        flashAdd: flashes,
        flashConsume: [],
        meta,
      };
      steps.push(() => applyChanges(store, storeKey(id), changes, logger));
      // Write first, delete second: a failed write leaves the user their old session, not none.
      if (replacesKey !== undefined) steps.push(() => destroyRecord(store, replacesKey, logger));
    }
    return line;
  }

  async function commit(session: Session<T>, headers: Headers): Promise<void> {
    const plan = prepare(session);
    if (plan.write !== undefined) await plan.write();
    applyPlanToHeaders(headers, plan);
  }

  return {
    load,
    prepare,
    commit,
    cookieName: (secure: boolean) => cookieName(isSecure(secure)),
    close: async () => {
      if (store.kind === "server") await store.close?.();
    },
  };
}

/** A Standard Schema issue as text: `user.name: Expected string` (the path, when the schema gives one). */
function describeIssue(issue: { readonly message: string }): string {
  const path = (issue as { readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> }).path;
  if (path === undefined || path.length === 0) return issue.message;
  const where = path.map((part) => String(typeof part === "object" ? part.key : part)).join(".");
  return `${where}: ${issue.message}`;
}

/** Store calls wrapped so that any failure reaches the adapter as a `SessionStoreError` without ids, logged once. */
async function getRecord(
  store: ServerStore,
  key: string,
  logger: SessionLogger,
): Promise<SessionRecord | null> {
  try {
    return await store.get(key);
  } catch (error) {
    throw asStoreError(error, "read", logger);
  }
}

async function applyChanges(
  store: ServerStore,
  key: string,
  changes: ChangeSet,
  logger: SessionLogger,
): Promise<void> {
  try {
    await store.apply(key, changes);
  } catch (error) {
    throw asStoreError(error, "write", logger);
  }
}

async function destroyRecord(store: ServerStore, key: string, logger: SessionLogger): Promise<void> {
  try {
    await store.destroy(key);
  } catch (error) {
    throw asStoreError(error, "delete", logger);
  }
}

function asStoreError(error: unknown, operation: string, logger: SessionLogger): SessionStoreError {
  const storeError =
    error instanceof SessionStoreError
      ? error
      : new SessionStoreError(`session store ${operation} failed`, {
          cause: error,
          code: "ERR_STORE_FAILED",
        });
  reportStoreFailure(logger, storeError, operation);
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
