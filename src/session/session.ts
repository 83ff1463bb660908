import { timingSafeEqual } from "node:crypto";
import { randomToken } from "../crypto/random.js";
import { FlagonError, SessionValueError } from "../errors.js";
import type { FlashMessage, Lifecycle, SessionMeta } from "../stores/types.js";
import { type FlashOptions, selectFlashes } from "./flash.js";
import { checkSessionValue } from "./values.js";

/** What a session reports for a change-set collection it never wrote to. Never written to. */
const EMPTY_MAP: ReadonlyMap<string, unknown> = new Map();
const EMPTY_SET: ReadonlySet<string> = new Set();

/** Reserved keys live in the stored data under this prefix; user keys may not use it. */
export const RESERVED_PREFIX = "__flagon.";
const CSRF_KEY = `${RESERVED_PREFIX}csrf`;

/** The data of a session whose keys are not declared: any string key, `unknown` values (the default). */
export type SessionData = Record<string, unknown>;

/**
 * What a session's data type may be: any object type, a `type` alias or an `interface`
 * (`Session<T extends SessionShape<T>>`). Its keys are the only ones `get`, `set`, `has` and
 * `delete` accept; `SessionData` (an index signature) accepts any string key.
 */
export type SessionShape<T> = object & { [K in keyof T]: unknown };

/**
 * Why a session is what it is, for this request:
 * - `"new"`: the request carried no session cookie;
 * - `"active"`: it carried a valid one;
 * - `"expired"`: its lifetime had passed (or the server no longer holds it);
 * - `"idle"`: the idle timeout (`idleTimeout`, or `anonymousIdleTimeout` for a visitor who never logged in) had passed;
 * - `"absolute"`: the absolute timeout had passed;
 * - `"revoked"`: `revoke`/`revokeUser` ended it;
 * - `"invalid"`: tampered, signed with an unknown key, malformed, or its data failed the schema;
 * - `"migrated"`: taken over from another stack's session cookie in this request;
 * - `"unavailable"`: the store could not be read and the app chose to serve an empty session.
 * Every status but `"active"` and `"migrated"` comes with an empty, new session.
 */
export type SessionStatus =
  | "new"
  | "active"
  | "expired"
  | "idle"
  | "absolute"
  | "revoked"
  | "invalid"
  | "migrated"
  | "unavailable";

/** What the core lends a session for keyed values (shared by all sessions of one core). */
export interface SessionHooks {
  /** The CSRF token of a session id, derived with a key (server stores: nothing stored), or undefined. */
  csrfTokenFor(id: string): string | undefined;
  /** Whether `candidate` is the derived token of `id` under any of the keys (rotation), in constant time. */
  csrfMatches(id: string, candidate: string): boolean;
  /** The keyed digest a user's sessions are indexed under (never the user id itself). */
  userTag(userId: string): string;
  /** `codec: "tagged"`: Dates, Maps, Sets, BigInts and Uint8Arrays are values too. */
  readonly tagged?: boolean;
  /** Prototypes of classes the store keeps as they are (`ClientStore.keepsClasses`). */
  readonly keeps?: ReadonlySet<object>;
}

/** Everything the core knows about a session when it hands it to the handler. */
export interface SessionInit {
  /** undefined: a random id is made when something first asks for it (`session.id`, a CSRF token, a server write). */
  id: string | undefined;
  isNew: boolean;
  data: SessionData;
  flashes: FlashMessage[];
  meta: SessionMeta;
  /** @default "active" for a loaded session, "new" otherwise */
  status?: SessionStatus;
  /** The legacy reader (`migrateFrom`) this session was migrated from, in the request that migrated it. */
  migratedFrom?: string;
}

/**
 * The meta fields of a record (or of meta), copied into an object of one fixed shape: a loaded record
 * also carries `data` and `flashes`, and spreading objects of varying shapes (`{ ...meta }`) is one of
 * V8's slow paths on the request path.
 */
export function metaOf(meta: SessionMeta): SessionMeta {
  const out: SessionMeta = {
    createdAt: meta.createdAt,
    lastSeenAt: meta.lastSeenAt,
    expiresAt: meta.expiresAt,
    permanent: meta.permanent,
  };
  if (meta.lifecycle !== undefined) out.lifecycle = meta.lifecycle;
  return out;
}

/** A user id: a non-empty string, at most 256 characters (stored with every session of the user). */
function assertUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== "string" || userId.length === 0 || userId.length > 256) {
    throw new FlagonError(
      "ERR_INVALID_OPTION",
      "session.login(userId) needs the user's id as a non-empty string of at most 256 characters (e.g. String(user.id))",
    );
  }
}

function checkLoginMeta(meta: unknown): Record<string, string> | undefined {
  if (meta === undefined) return undefined;
  if (typeof meta !== "object" || meta === null || Array.isArray(meta)) {
    throw new FlagonError(
      "ERR_INVALID_OPTION",
      "session.login(userId, meta): meta is an object of strings (e.g. { userAgent })",
    );
  }
  const out: Record<string, string> = Object.create(null);
  let bytes = 0;
  for (const [key, value] of Object.entries(meta)) {
    if (typeof value !== "string") {
      // Shown by listUser as text: strings only (a number or a Date would read back as something else).
      throw new SessionValueError(
        `session.login(userId, meta): meta${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`} is ${describeNonString(value)}, not a string`,
      );
    }
    bytes += key.length + value.length;
    out[key] = value;
  }
  if (bytes > 1024) {
    throw new FlagonError(
      "ERR_INVALID_OPTION",
      `session.login(userId, meta): meta holds ${bytes} characters, over 1024; it is kept with every session (shorten the user agent)`,
    );
  }
  return out;
}

function assertUserKey(key: string): void {
  if (typeof key !== "string" || key.startsWith(RESERVED_PREFIX)) {
    throw new FlagonError(
      "ERR_INVALID_OPTION",
      `session keys must be strings not starting with "${RESERVED_PREFIX}"`,
    );
  }
}

/** `a number`, `undefined`, `null`, `an object`: what a string-only argument was given instead. */
function describeNonString(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  const type = typeof value;
  return type === "object" ? "an object" : `a ${type}`;
}

/** `flash(message, category)` keeps strings: anything else would read back as something else. */
function assertFlashStrings(call: string, message: unknown, category: unknown): void {
  if (typeof message === "string" && typeof category === "string") return;
  const [name, value] = typeof message !== "string" ? ["message", message] : ["category", category];
  throw new SessionValueError(
    `session.${call}(message, category): ${name} is ${describeNonString(value)}, not a string`,
  );
}

/**
 * A request's view of its session. Methods are synchronous and only record intent;
 * `Sessions.commit` turns the recorded change set into one atomic store write.
 */
export class Session<T extends SessionShape<T> = SessionData> {
  // Generated on first use when the core passes none: a cookie store's session id is never stored, and
  // most requests never ask for it (32 random bytes per request for nothing otherwise).
  #id: string | undefined;
  #isNew: boolean;
  #data: Map<string, unknown>;
  #meta: SessionMeta;
  // change set
  #cleared = false;
  // Created on first write: most requests only read, and three empty hash tables per request are
  // garbage the collector pays for (EMPTY_* stand in for reads).
  #sets: Map<string, unknown> | undefined;
  #deletes: Set<string> | undefined;
  #loadedFlashes: FlashMessage[];
  #consumedIds: Set<string> | undefined;
  #addedFlashes: FlashMessage[] = [];
  #nowFlashes: FlashMessage[] = [];
  #readFlashes: FlashMessage[] | undefined;
  #metaChanged = false;
  // lifecycle
  #previousId: string | undefined;
  #destroyed = false;
  #accessed = false;
  #status: SessionStatus;
  /** login() was called in this request: the commit indexes the session under its user. */
  #loggedIn = false;
  /** A CSRF token derived from the id was handed out: the id must reach the browser. */
  #csrfIssued = false;
  #hooks: SessionHooks | undefined;
  // The core that loaded this session and its per-request facts (a private slot, not a WeakMap:
  // one WeakMap entry per request is an ephemeron the garbage collector must process).
  #owner: object | undefined;
  #ownerState: unknown;
  #migratedFrom: string | undefined;

  constructor(init: SessionInit) {
    this.#id = init.id;
    this.#isNew = init.isNew;
    this.#migratedFrom = init.migratedFrom;
    this.#data = new Map(Object.entries(init.data));
    this.#loadedFlashes = init.flashes;
    this.#meta = metaOf(init.meta);
    this.#status =
      init.status ?? (init.migratedFrom !== undefined ? "migrated" : init.isNew ? "new" : "active");
  }

  /** Why this session is what it is (`"new"`, `"active"`, `"expired"`, `"idle"`, `"revoked"`…): see `SessionStatus`. */
  get status(): SessionStatus {
    // It tells what the request's cookie was: a response built on it varies by Cookie.
    this.#accessed = true;
    return this.#status;
  }

  /** The user this session was logged in as (`login(userId)`), or undefined. */
  get userId(): string | undefined {
    this.#accessed = true;
    return this.#meta.lifecycle?.userId;
  }

  /**
   * A stable, non-secret handle for this session, for "your sessions" pages and `revoke(ref)`. It lets
   * no one read or forge the session. A new one is issued by `login()`.
   */
  get ref(): string {
    this.#accessed = true;
    let lifecycle = this.#meta.lifecycle;
    if (lifecycle === undefined) {
      // A record written before lifecycles existed: a ref of its own from now on (stored with the next write).
      lifecycle = { ref: randomToken(16) };
      this.#meta.lifecycle = lifecycle;
    }
    return lifecycle.ref;
  }

  /**
   * Logs the session in as `userId`: a new id (session fixation), a new CSRF token, a new `ref`,
   * and the session is indexed under the user so that `listUser`, `revoke` and `revokeUser` find it.
   * `meta` (strings, e.g. `{ userAgent }`) is shown by `listUser`. Data and flashes are kept.
   */
  login(userId: string, meta?: Record<string, string>): void {
    assertUserId(userId);
    const loginMeta = checkLoginMeta(meta);
    this.regenerate();
    const tag = this.#hooks?.userTag(userId);
    const lifecycle: Lifecycle = {
      ref: tag === undefined ? randomToken(16) : `${tag}.${randomToken(16)}`,
      userId,
      loginAt: Date.now(),
      established: true,
    };
    if (tag !== undefined) lifecycle.userTag = tag;
    if (loginMeta !== undefined) lifecycle.meta = loginMeta;
    const lifetime = this.#meta.lifecycle?.lifetime;
    if (lifetime !== undefined) lifecycle.lifetime = lifetime;
    this.#meta.lifecycle = lifecycle;
    this.#loggedIn = true;
    this.#metaChanged = true;
  }

  /**
   * This session's own lifetime, in seconds ("remember me for 30 days"): the cookie becomes persistent
   * with that `Max-Age`, and the server keeps the session that long after its last activity, capped by
   * `absoluteTimeout`. Setting `permanent = false` afterwards makes the cookie end with the browser
   * again (the server-side lifetime stays).
   */
  setLifetime(seconds: number): void {
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0 || seconds > 400 * 86400) {
      throw new FlagonError(
        "ERR_INVALID_OPTION",
        `session.setLifetime(seconds) needs a positive number of seconds up to 400 days (34560000), got ${String(seconds)}`,
      );
    }
    this.#writable();
    const lifecycle: Lifecycle = { ...(this.#meta.lifecycle ?? { ref: randomToken(16) }) };
    lifecycle.lifetime = seconds;
    this.#meta.lifecycle = lifecycle;
    this.#meta.permanent = true;
    this.#metaChanged = true;
  }

  /** The session id. Changes after `regenerate()`. Never log it. */
  get id(): string {
    this.#accessed = true;
    return this.#currentId();
  }

  #currentId(): string {
    this.#id ??= randomToken(32);
    return this.#id;
  }

  /** True when the request carried no valid session. */
  get isNew(): boolean {
    // It tells whether the request carried a valid cookie: a response built on it varies by Cookie.
    this.#accessed = true;
    return this.#isNew;
  }

  /**
   * In the request that took over another library's session (`migrateFrom`), that library's name
   * (`"express-session"`, `"django"`, …); `undefined` otherwise, including on every later request.
   */
  get migratedFrom(): string | undefined {
    this.#accessed = true;
    return this.#migratedFrom;
  }

  /** True when this request changed data, flashes or flags. */
  get modified(): boolean {
    return (
      this.#cleared ||
      (this.#sets?.size ?? 0) > 0 ||
      (this.#deletes?.size ?? 0) > 0 ||
      (this.#consumedIds?.size ?? 0) > 0 ||
      this.#addedFlashes.length > 0 ||
      this.#metaChanged ||
      this.#previousId !== undefined ||
      this.#destroyed
    );
  }

  /** Flask's `session.permanent`: the cookie outlives the browser session (Max-Age = permanentLifetime). */
  get permanent(): boolean {
    this.#accessed = true;
    return this.#meta.permanent;
  }

  set permanent(value: boolean) {
    this.#writable();
    if (this.#meta.permanent !== value) {
      this.#meta.permanent = value;
      this.#metaChanged = true;
    }
  }

  /** The value of `key`, `undefined` when absent. */
  get<K extends keyof T & string>(key: K): T[K] | undefined;
  get(key: string): unknown {
    this.#accessed = true;
    if (typeof key !== "string" || key.startsWith(RESERVED_PREFIX)) return undefined;
    return this.#data.get(key);
  }

  has(key: keyof T & string): boolean;
  has(key: string): boolean {
    this.#accessed = true;
    return typeof key === "string" && !key.startsWith(RESERVED_PREFIX) && this.#data.has(key);
  }

  /**
   * Stores a value under `key` (chainable). It must read back as written: JSON values, and with
   * `codec: "tagged"` also Dates, Maps, Sets, BigInts and Uint8Arrays. Anything else (NaN, `undefined`
   * inside an object, a class instance, a cycle…) throws a `SessionValueError` (a TypeError) naming
   * the path: `session.set("cart", …): cart.items[2].addedAt is a Date`.
   */
  set<K extends keyof T & string>(key: K, value: Exclude<T[K], undefined>): this;
  set(key: string, value: unknown): this {
    assertUserKey(key);
    const hooks = this.#hooks;
    checkSessionValue(key, value, hooks?.tagged === true, hooks?.keeps);
    this.#writable();
    // Setting a key to the primitive it already holds changes nothing: no write, no new cookie
    // (as express-session and cookie-session, which compare before saving). Objects always count.
    if (
      (value === null || typeof value !== "object") &&
      this.#data.get(key) === value &&
      this.#data.has(key)
    ) {
      return this;
    }
    this.#setRaw(key, value);
    return this;
  }

  /** Removes a key; returns its value, like Flask's `session.pop(key, None)`. */
  delete<K extends keyof T & string>(key: K): T[K] | undefined;
  delete(key: string): unknown {
    assertUserKey(key);
    this.#writable();
    const value = this.#data.get(key);
    // Only keys this request could see are deleted: a no-op delete writes nothing.
    if (this.#data.delete(key)) {
      this.#sets?.delete(key);
      if (!this.#cleared) this.#writableDeletes().add(key);
    }
    return value;
  }

  /**
   * The escape hatch for keys computed at run time: this same session, typed with any string key
   * and `unknown` values (`session.untyped().get(`pref:${name}`)`). Costs nothing: no copy, no check.
   */
  untyped(): Session<SessionData> {
    return this as unknown as Session<SessionData>;
  }

  /** Removes all data and pending flash messages, like Flask's `session.clear()`. */
  clear(): void {
    this.#writable();
    this.#data.clear();
    this.#cleared = true;
    this.#sets?.clear();
    this.#deletes?.clear();
    const ids = this.#writableConsumed();
    for (const flash of this.#loadedFlashes) ids.add(flash.id);
    this.#addedFlashes = [];
  }

  keys(): string[] {
    this.#accessed = true;
    return [...this.#data.keys()].filter((key) => !key.startsWith(RESERVED_PREFIX));
  }

  /**
   * The user data as an object (reserved keys excluded), with no prototype: a key named `__proto__`,
   * `constructor` or `prototype` is data, never the object's prototype or an inherited member.
   */
  toJSON(): Partial<T> {
    this.#accessed = true;
    const out: SessionData = Object.create(null);
    for (const [key, value] of this.#data) {
      if (!key.startsWith(RESERVED_PREFIX)) out[key] = value;
    }
    return out as Partial<T>;
  }

  /**
   * A new id with the same data: call it on login (session fixation, OWASP).
   * The old record is deleted at commit and the CSRF token rotates.
   */
  regenerate(): void;
  regenerate(callback?: unknown): void {
    if (callback !== undefined) throw new TypeError(HABITS.regenerateCallback);
    this.#writable();
    this.#previousId ??= this.#currentId();
    this.#id = randomToken(32);
    const lifecycle = this.#meta.lifecycle;
    if (lifecycle?.established !== true) {
      this.#meta.lifecycle = { ...(lifecycle ?? { ref: randomToken(16) }), established: true };
    }
    if (this.#data.has(CSRF_KEY)) {
      this.#data.delete(CSRF_KEY);
      this.#sets?.delete(CSRF_KEY);
    }
  }

  /**
   * Logout: the stored record is deleted and the cookie cleared at commit. Terminal: later
   * `set`/`delete`/`clear`/`regenerate` in this request throw `ERR_SESSION_DESTROYED`.
   * A later `flash()` starts a fresh, empty session that carries only the message
   * ("You have been logged out.").
   */
  destroy(): void;
  destroy(callback?: unknown): void {
    if (callback !== undefined) throw new TypeError(HABITS.destroyCallback);
    this.#accessed = true;
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#data.clear();
    this.#sets?.clear();
    this.#deletes?.clear();
    this.#addedFlashes = [];
    this.#loadedFlashes = [];
    this.#readFlashes = undefined;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Queues a message for the next `getFlashedMessages()` (this request or a later one). */
  flash(message: string, category = "message"): void {
    this.#accessed = true;
    assertFlashStrings("flash", message, category);
    this.#addedFlashes.push({ id: randomToken(12), category, message });
  }

  /** A message shown by `getFlashedMessages()` in this request only; never stored. */
  flashNow(message: string, category = "message"): void {
    this.#accessed = true;
    assertFlashStrings("flashNow", message, category);
    const flash = { id: randomToken(12), category, message };
    this.#nowFlashes.push(flash);
    this.#readFlashes?.push(flash);
  }

  /**
   * Flask's `get_flashed_messages`: the first call takes the pending messages out of the
   * session; later calls in the same request see the same list; the next request sees none.
   * A `categoryFilter` returns the matching ones, and all are discarded, as in Flask.
   */
  getFlashedMessages(options?: { withCategories?: false; categoryFilter?: readonly string[] }): string[];
  getFlashedMessages(options: {
    withCategories: true;
    categoryFilter?: readonly string[];
  }): Array<[category: string, message: string]>;
  getFlashedMessages(options: FlashOptions = {}): string[] | Array<[string, string]> {
    this.#accessed = true;
    if (this.#readFlashes === undefined) {
      const consumed = this.#consumedIds;
      const pending =
        consumed === undefined
          ? this.#loadedFlashes
          : this.#loadedFlashes.filter((flash) => !consumed.has(flash.id));
      if (pending.length > 0) {
        const ids = this.#writableConsumed();
        for (const flash of pending) ids.add(flash.id);
      }
      this.#readFlashes = [...pending, ...this.#addedFlashes, ...this.#nowFlashes];
      this.#addedFlashes = [];
    }
    return selectFlashes(this.#readFlashes, options);
  }

  /** Rails' `flash.keep`: messages read in this request stay for the next one too. */
  keepFlashes(): void {
    this.#accessed = true;
    if (this.#readFlashes === undefined) return;
    const nowIds = new Set(this.#nowFlashes.map((flash) => flash.id));
    const loadedIds = new Set(this.#loadedFlashes.map((flash) => flash.id));
    for (const flash of this.#readFlashes) {
      if (nowIds.has(flash.id)) continue;
      if (loadedIds.has(flash.id)) this.#consumedIds?.delete(flash.id);
      else if (!this.#addedFlashes.includes(flash)) this.#addedFlashes.push(flash);
    }
  }

  /**
   * The session's CSRF synchronizer token (created on first use, rotated by `regenerate()`).
   * Put it in forms as a hidden field; check it with `verifyCsrfToken`.
   */
  csrfToken(): string {
    this.#accessed = true;
    const existing = this.#data.get(CSRF_KEY);
    if (typeof existing === "string") return existing;
    if (this.#destroyed) return randomToken(32);
    // Server stores: a keyed MAC of the id, so a visitor who is only shown a form costs no record.
    const derived = this.#hooks?.csrfTokenFor(this.#currentId());
    if (derived !== undefined) {
      this.#csrfIssued = true;
      return derived;
    }
    const token = randomToken(32);
    this.#setRaw(CSRF_KEY, token);
    return token;
  }

  /** Constant-time comparison of a submitted token with the session's. */
  verifyCsrfToken(candidate: unknown): boolean {
    this.#accessed = true;
    const expected = this.#data.get(CSRF_KEY);
    if (typeof candidate !== "string") return false;
    if (typeof expected !== "string") {
      return (
        !this.#destroyed && this.#hooks !== undefined && this.#hooks.csrfMatches(this.#currentId(), candidate)
      );
    }
    const a = Buffer.from(expected);
    const b = Buffer.from(candidate);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  #setRaw(key: string, value: unknown): void {
    this.#data.set(key, value);
    this.#writableSets().set(key, value);
    this.#deletes?.delete(key);
  }

  #writableSets(): Map<string, unknown> {
    if (this.#sets === undefined) this.#sets = new Map();
    return this.#sets;
  }

  #writableDeletes(): Set<string> {
    if (this.#deletes === undefined) this.#deletes = new Set();
    return this.#deletes;
  }

  #writableConsumed(): Set<string> {
    if (this.#consumedIds === undefined) this.#consumedIds = new Set();
    return this.#consumedIds;
  }

  #writable(): void {
    this.#accessed = true;
    if (this.#destroyed) {
      throw new FlagonError(
        "ERR_SESSION_DESTROYED",
        "this session was destroyed (logout) in this request; it cannot be written again",
      );
    }
  }

  /** @internal state the core reads at commit. */
  static internals<T extends SessionShape<T>>(session: Session<T>): SessionInternals {
    return {
      accessed: session.#accessed,
      destroyed: session.#destroyed,
      previousId: session.#previousId,
      cleared: session.#cleared,
      sets: session.#sets ?? EMPTY_MAP,
      deletes: session.#deletes ?? EMPTY_SET,
      consumedIds: session.#consumedIds ?? EMPTY_SET,
      addedFlashes: session.#addedFlashes,
      loadedFlashes: session.#loadedFlashes,
      metaChanged: session.#metaChanged,
      meta: session.#meta,
      data: session.#data,
      loggedIn: session.#loggedIn,
      csrfIssued: session.#csrfIssued,
    };
  }

  /** @internal ties a session to the core that loaded it, with that core's per-request state. */
  static attach<T extends SessionShape<T>>(
    session: Session<T>,
    owner: object,
    state: unknown,
    hooks?: SessionHooks,
  ): void {
    session.#owner = owner;
    session.#ownerState = state;
    session.#hooks = hooks;
  }

  /** @internal the state `owner` attached, or undefined for a session another core loaded. */
  static stateOf<T extends SessionShape<T>>(session: Session<T>, owner: object): unknown {
    return session instanceof Session && session.#owner === owner ? session.#ownerState : undefined;
  }

  /** @internal the status, read without marking the session accessed (no `Vary` for an event). */
  static statusOf<T extends SessionShape<T>>(session: Session<T>): SessionStatus {
    return session.#status;
  }

  /** @internal a destroyed session's post-logout flashes, if any. */
  static pendingAfterDestroy<T extends SessionShape<T>>(session: Session<T>): FlashMessage[] {
    return session.#destroyed ? session.#addedFlashes : [];
  }
}

/**
 * express-session habits, explained. Plain JavaScript written for express-session (`req.session.user = …`,
 * `save(cb)`, `destroy(cb)`, `cookie.maxAge`) would otherwise be silently ignored, hang or fail with a bare
 * TypeError; each throws a TypeError that says what to write in flagon instead. TypeScript already
 * refuses all of them (none of these members is in the `Session` type).
 */
const HABITS = {
  assign: (key: string) =>
    `session.${key} = … stores nothing: a flagon session is not a plain object. Write ` +
    `session.set(${JSON.stringify(key)}, value) and read it with session.get(${JSON.stringify(key)}); ` +
    "the session is saved automatically after the handler (there is no save()).",
  readOnly: (key: string, hint: string) => `session.${key} is read-only${hint}.`,
  save:
    "session.save() is express-session's: flagon saves the session by itself. The change set is committed " +
    "once the handler has finished, before the first byte of the response is sent, so a redirect right " +
    "after session.set() cannot race the store. Remove save() and run its callback's code directly " +
    '(e.g. res.redirect("/")).',
  touch:
    "session.touch() is express-session's: flagon refreshes a session's expiry itself when the `rolling` " +
    "or `idleTimeout` option is set (at most once per `touchAfter`). Remove the call.",
  reload:
    "session.reload() is express-session's: flagon loads the session once, before the handler, and " +
    "session.get(key) reads it; there is nothing to reload. Remove the call and run its callback's code directly.",
  resetMaxAge:
    "session.resetMaxAge() is express-session's. In flagon the cookie's lifetime is the `permanentLifetime` " +
    "option (seconds) of sessions()/createSessions(), given to sessions with `session.permanent = true`; " +
    "`rolling: true` restarts it on activity.",
  cookie:
    "session.cookie is express-session's. In flagon the cookie's attributes are options of " +
    "sessions()/createSessions() (`cookie: { sameSite, domain, path, secure }`), set once for the app. Its " +
    "lifetime is `permanentLifetime` (seconds) for a session with `session.permanent = true`, otherwise it " +
    "ends with the browser session: instead of `session.cookie.maxAge = ms`, set `permanentLifetime` and " +
    "`session.permanent = true`.",
  regenerateCallback:
    "flagon's session.regenerate() takes no callback (it would never be called): it gives the session a new " +
    "id at once, keeping its data, and the old record is deleted at commit, after the handler. Call " +
    "session.regenerate() and continue in the same function.",
  destroyCallback:
    "flagon's session.destroy() takes no callback (it would never be called): the session is logged out at " +
    "once (later writes in this request throw) and its record and cookie are deleted at commit, after the " +
    'handler. Call session.destroy() and continue (e.g. res.redirect("/")).',
} as const;

function thrower(message: string): () => never {
  return () => {
    throw new TypeError(message);
  };
}

/** Members of express-session's Session: non-enumerable, absent from the type, each throws its explanation. */
for (const name of ["save", "touch", "reload", "resetMaxAge"] as const) {
  Object.defineProperty(Session.prototype, name, {
    value: thrower(HABITS[name]),
    writable: true,
    configurable: true,
  });
}
Object.defineProperty(Session.prototype, "cookie", {
  get: thrower(HABITS.cookie),
  set: thrower(HABITS.cookie),
  configurable: true,
});
/** The read-only accessors throw on assignment in sloppy mode too (instead of ignoring it). */
for (const [key, hint] of [
  ["id", " (session.regenerate() gives the session a new id)"],
  ["isNew", ""],
  ["modified", ""],
  ["destroyed", " (session.destroy() logs the session out)"],
  ["status", ""],
  ["userId", " (session.login(userId) sets it)"],
  ["ref", ""],
  ["migratedFrom", ""],
] as const) {
  const descriptor = Object.getOwnPropertyDescriptor(Session.prototype, key)!;
  Object.defineProperty(Session.prototype, key, { ...descriptor, set: thrower(HABITS.readOnly(key, hint)) });
}
/**
 * `await` and promise resolution look up `then` on every session a `load()` resolves with: answered here,
 * on Session.prototype (not a thenable), so that lookup never reaches the proxy below.
 */
// biome-ignore lint/suspicious/noThenProperty: it answers `undefined`: declares sessions not thenable, quickly.
Object.defineProperty(Session.prototype, "then", {
  get: () => undefined,
  set: thrower(HABITS.assign("then")),
  configurable: true,
});
/**
 * `session.user = "leo"`: a [[Set]] of a property that neither the instance (it has no own properties:
 * all state is in #private fields) nor Session.prototype has walks up the prototype chain to this
 * proxy, whose `set` trap throws, in strict and sloppy code alike. Nothing else goes through it: methods
 * and accessors (the `permanent` setter) are found on Session.prototype first, and reads of absent
 * properties (`then` for `await`, `util.inspect`'s lookups) are forwarded untouched. So sessions stay
 * ordinary objects (no per-instance Proxy, `#private` access intact) and the check costs nothing on the
 * paths that work.
 */
Object.setPrototypeOf(
  Session.prototype,
  new Proxy(Object.create(Object.prototype) as object, {
    set(_target, key) {
      throw new TypeError(HABITS.assign(String(key)));
    },
  }),
);

export interface SessionInternals {
  accessed: boolean;
  destroyed: boolean;
  previousId: string | undefined;
  cleared: boolean;
  sets: ReadonlyMap<string, unknown>;
  deletes: ReadonlySet<string>;
  consumedIds: ReadonlySet<string>;
  addedFlashes: readonly FlashMessage[];
  loadedFlashes: readonly FlashMessage[];
  metaChanged: boolean;
  meta: SessionMeta;
  data: ReadonlyMap<string, unknown>;
  loggedIn: boolean;
  csrfIssued: boolean;
}
