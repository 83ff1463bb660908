/**
 * flagon for React Router 7 (framework mode): a `SessionStorage` (`getSession` / `commitSession` /
 * `destroySession`) over any flagon store, and a route middleware that loads the session into the
 * router context and commits it before the response leaves.
 *
 * Nothing here imports react-router at run time (its types only), so importing this entry point
 * without the framework installed works; the router context key is a plain `{}`, which is what
 * React Router's own `createContext()` returns.
 */
import type {
  MiddlewareFunction,
  RouterContext,
  RouterContextProvider,
  Session as RouterSession,
  SessionStorage,
} from "react-router";
import { ConfigError, type SessionStoreError } from "../../errors.js";
import type { SessionsOptions } from "../../session/options.js";
import type { CommitPlan } from "../../session/plan.js";
import { Session, type SessionData, type SessionShape } from "../../session/session.js";
import { createSessions, type Sessions } from "../../session/sessions.js";
import { applyPlanToFetchResponse } from "../kit/fetch-response.js";
import { isSessionStoreError } from "../kit/store-error.js";
import { storeUnavailableResponse } from "../kit/unavailable.js";

/** Answers a request whose session store failed. */
export type StoreErrorHandler = (
  error: SessionStoreError,
  request: Request | undefined,
) => Response | Promise<Response>;

export interface ReactRouterAdapterOptions {
  /**
   * The response for a store failure. The middleware returns it instead of running the routes (on
   * load) or instead of the routes' response (on commit); `getSession` and `commitSession` throw
   * it, React Router's way of ending a loader or action with a status.
   * @default a plain-text 503 with `Retry-After: 5` and `Cache-Control: no-store`
   */
  onStoreError?: StoreErrorHandler;
  /**
   * Whether a request arrived over HTTPS (decides `Secure` and the `__Host-` prefix when
   * `cookie.secure` is `"auto"`). `request` is `undefined` when `getSession` was given only a
   * Cookie header, which carries no scheme.
   * @default the request URL's scheme is `https:`; without a request, `NODE_ENV === "production"`
   */
  isSecure?: (request: Request | undefined) => boolean;
}

export type FlagonSessionStorageOptions<T extends SessionShape<T> = SessionData> = SessionsOptions<T> &
  ReactRouterAdapterOptions;

/** React Router's `commitSession(session, options)` options that flagon honours per call. */
export interface CommitOptions {
  /** The cookie's and the server record's lifetime in seconds (`session.setLifetime`). */
  maxAge?: number;
  /** The same as a date. */
  expires?: Date;
}

/**
 * React Router's `Session` over a flagon session. `flash(key, value)` is a flagon flash message
 * with `key` as its category (values are strings, as in Flask); `get(key)` of a flashed key returns
 * it once. `flagon` is the full flagon session: Flask's `getFlashedMessages({ withCategories })`,
 * `regenerate()`, `login()`, `csrfToken()`.
 */
export interface FlagonRouterSession<Data = SessionData, FlashData = Record<string, string>>
  extends RouterSession<Data, FlashData> {
  readonly flagon: Session<SessionData>;
}

export interface FlagonSessionStorage<
  T extends SessionShape<T> = SessionData,
  FlashData extends Record<string, string> = Record<string, string>,
> extends SessionStorage<T, FlashData> {
  /** The session of a Cookie header, or of a whole `Request` (then its scheme decides `Secure`). */
  getSession(cookieHeaderOrRequest?: string | null | Request): Promise<FlagonRouterSession<T, FlashData>>;
  /**
   * Writes what the request changed (the store write finishes first) and returns the `Set-Cookie`
   * value, or `""` when nothing needs sending (an unchanged session on a server store).
   */
  commitSession(session: RouterSession<T, FlashData>, options?: CommitOptions): Promise<string>;
  /** Deletes the server record and returns the `Set-Cookie` value that clears the cookie. */
  destroySession(session: RouterSession<T, FlashData>, options?: CommitOptions): Promise<string>;
  /**
   * Route middleware (`future.v8_middleware`): loads the session into `context` before the routes
   * run and commits it (store write, `Set-Cookie`, `Vary: Cookie`, `Cache-Control`) before the
   * response is returned, redirects included. Put it in the root route's `middleware`.
   */
  readonly middleware: MiddlewareFunction<Response>;
  /** The router context key the middleware sets: `context.get(storage.context)` is the flagon session. */
  readonly context: RouterContext<Session<T>>;
  /** The flagon session the middleware loaded, from a loader's or action's `context`. */
  sessionOf(context: Readonly<RouterContextProvider>): Session<T>;
  /** The core behind the storage (`close()` it on shutdown). */
  readonly sessions: Sessions<T>;
}

function isSessions<T extends SessionShape<T>>(value: object): value is Sessions<T> {
  return typeof (value as Partial<Sessions<T>>).load === "function";
}

function defaultIsSecure(request: Request | undefined): boolean {
  if (request !== undefined) return request.url.startsWith("https:");
  return process.env.NODE_ENV === "production";
}

const FLASH_KEY = (key: string) => `__flash_${key}__`;

/**
 * The flashes a React Router session can still hand out: those not yet taken out of the flagon
 * session plus, once they were (the first flashed `get`), the ones the view has not returned.
 */
class RouterSessionView {
  readonly flagon: Session<SessionData>;
  #read: Array<[category: string, message: string]> | undefined;
  readonly #taken = new Set<string>();
  committed = false;

  constructor(flagon: Session<SessionData>) {
    this.flagon = flagon;
  }

  get id(): string {
    return this.flagon.id;
  }

  get data(): Record<string, unknown> {
    const data: Record<string, unknown> = { ...this.flagon.toJSON() };
    for (const [category, message] of this.#pending()) data[FLASH_KEY(category)] = message;
    return data;
  }

  has(name: string): boolean {
    return this.flagon.has(name) || this.#pending().some(([category]) => category === name);
  }

  get(name: string): unknown {
    if (this.flagon.has(name)) return this.flagon.get(name);
    const flashes = this.#pending().filter(([category]) => category === name);
    if (flashes.length === 0) return undefined;
    // flagon hands flashes out all at once (Flask's rule); the view returns one key's and keeps
    // the others for the next request (see `settle`).
    this.#read ??= this.flagon.getFlashedMessages({ withCategories: true });
    this.#taken.add(name);
    return flashes[flashes.length - 1]?.[1];
  }

  set(name: string, value: unknown): void {
    this.flagon.set(name, value);
  }

  unset(name: string): void {
    this.flagon.delete(name);
  }

  flash(name: string, value: unknown): void {
    // Not a string: flagon's flash throws ERR_VALUE_NOT_SERIALIZABLE (messages are strings).
    this.flagon.flash(value as string, name);
  }

  /** Before a commit: flashes the view took out of the session but never returned stay pending. */
  settle(): void {
    if (this.#read === undefined) return;
    for (const [category, message] of this.#read) {
      if (!this.#taken.has(category)) this.flagon.flash(message, category);
    }
    this.#read = undefined;
  }

  #pending(): Array<[string, string]> {
    const internals = Session.internals(this.flagon);
    const consumed = internals.consumedIds;
    const stored = [...internals.loadedFlashes, ...internals.addedFlashes]
      .filter((flash) => !consumed.has(flash.id))
      .map((flash): [string, string] => [flash.category, flash.message]);
    const read = (this.#read ?? []).filter(([category]) => !this.#taken.has(category));
    return [...read, ...stored];
  }
}

const views = new WeakMap<object, RouterSessionView>();

function viewOf(session: object, method: string): RouterSessionView {
  const view = views.get(session);
  if (view === undefined) {
    throw new TypeError(`${method}() needs a session from this storage's getSession()`);
  }
  return view;
}

function asRouterSession<Data, FlashData>(view: RouterSessionView): FlagonRouterSession<Data, FlashData> {
  const session = {
    get id() {
      return view.id;
    },
    get data() {
      return view.data;
    },
    flagon: view.flagon,
    has: (name: string) => view.has(name),
    get: (name: string) => view.get(name),
    set: (name: string, value: unknown) => view.set(name, value),
    unset: (name: string) => view.unset(name),
    flash: (name: string, value: unknown) => view.flash(name, value),
  };
  views.set(session, view);
  return session as unknown as FlagonRouterSession<Data, FlashData>;
}

function lifetimeOf(options: CommitOptions | undefined): number | undefined {
  if (options === undefined) return undefined;
  for (const key of Object.keys(options)) {
    if (key !== "maxAge" && key !== "expires") {
      throw new ConfigError(
        "ERR_NOT_SUPPORTED",
        `commitSession(): the cookie option "${key}" is set once, in flagonSessionStorage({ cookie })`,
      );
    }
  }
  if (options.maxAge !== undefined) return options.maxAge;
  if (options.expires !== undefined)
    return Math.max(0, Math.ceil((options.expires.getTime() - Date.now()) / 1000));
  return undefined;
}

/**
 * A React Router `SessionStorage` over flagon: `getSession(request.headers.get("Cookie"))`,
 * `commitSession(session)` and `destroySession(session)`, as with React Router's own storages,
 * with flagon's guarantees: change sets (two concurrent actions on one session both keep their
 * changes), regenerate-on-login, server-side expiry, Flask's flash. `storage.middleware` commits
 * automatically.
 *
 * ```ts
 * export const storage = flagonSessionStorage({ secret: process.env.SECRET_KEY, store: sqliteStore({ path: "sessions.db" }) });
 * export const { getSession, commitSession, destroySession } = storage;
 * ```
 */
export function flagonSessionStorage<
  T extends SessionShape<T> = SessionData,
  FlashData extends Record<string, string> = Record<string, string>,
>(options: FlagonSessionStorageOptions<T>): FlagonSessionStorage<T, FlashData>;
export function flagonSessionStorage<
  T extends SessionShape<T> = SessionData,
  FlashData extends Record<string, string> = Record<string, string>,
>(core: Sessions<T>, options?: ReactRouterAdapterOptions): FlagonSessionStorage<T, FlashData>;
export function flagonSessionStorage<
  T extends SessionShape<T> = SessionData,
  FlashData extends Record<string, string> = Record<string, string>,
>(
  optionsOrCore: FlagonSessionStorageOptions<T> | Sessions<T>,
  adapterOptions: ReactRouterAdapterOptions = {},
): FlagonSessionStorage<T, FlashData> {
  let core: Sessions<T>;
  let adapter: ReactRouterAdapterOptions;
  if (isSessions<T>(optionsOrCore)) {
    core = optionsOrCore;
    adapter = adapterOptions;
  } else {
    const { onStoreError, isSecure, ...sessionOptions } = optionsOrCore;
    core = createSessions<T>(sessionOptions);
    adapter = { onStoreError, isSecure };
  }
  const onStoreError: StoreErrorHandler = adapter.onStoreError ?? (() => storeUnavailableResponse());
  const isSecure = adapter.isSecure ?? defaultIsSecure;
  // What React Router's createContext() makes: a key object (no default: get() before the
  // middleware ran throws React Router's "No value found for context").
  const context = {} as RouterContext<Session<T>>;

  async function load(input: string | null | undefined | Request): Promise<Session<T>> {
    const request = input instanceof Request ? input : undefined;
    const headers: Headers | Record<string, string> =
      request?.headers ?? (typeof input === "string" ? { cookie: input } : {});
    try {
      return await core.load({ headers, secure: isSecure(request) });
    } catch (error) {
      // React Router ends a loader or action that throws a Response with that response.
      if (isSessionStoreError(error)) throw await onStoreError(error, request);
      throw error;
    }
  }

  async function commit(session: object, method: string, destroy: boolean, options?: CommitOptions) {
    const view = viewOf(session, method);
    if (view.committed) throw new TypeError(`${method}(): this session was already committed`);
    const lifetime = lifetimeOf(options);
    if (destroy) view.flagon.destroy();
    else {
      view.settle();
      if (lifetime !== undefined) view.flagon.setLifetime(lifetime);
    }
    view.committed = true;
    const plan = core.prepare(view.flagon as unknown as Session<T>);
    try {
      if (plan.write !== undefined) await plan.write();
    } catch (error) {
      if (isSessionStoreError(error)) throw await onStoreError(error, undefined);
      throw error;
    }
    return plan.setCookie ?? "";
  }

  const middleware: MiddlewareFunction<Response> = async ({ request, context: routerContext }, next) => {
    let session: Session<T>;
    try {
      session = await core.load({ headers: request.headers, secure: isSecure(request) });
    } catch (error) {
      if (isSessionStoreError(error)) return onStoreError(error, request);
      throw error;
    }
    routerContext.set(context, session);
    const response = await next();

    let plan: CommitPlan;
    try {
      plan = core.prepare(session);
      if (plan.write !== undefined) await plan.write();
    } catch (error) {
      // A response whose session was not written must not be sent (its redirect would race a
      // store that never got the data).
      if (isSessionStoreError(error)) return onStoreError(error, request);
      throw error;
    }
    return applyPlanToFetchResponse(response, plan);
  };

  return {
    async getSession(input) {
      const session = await load(input);
      return asRouterSession<T, FlashData>(new RouterSessionView(session.untyped()));
    },
    commitSession: (session, options) => commit(session, "commitSession", false, options),
    destroySession: (session, options) => commit(session, "destroySession", true, options),
    middleware,
    context,
    sessionOf: (routerContext) => routerContext.get(context),
    sessions: core,
  };
}

export { type TemplateGlobals, templateGlobals } from "../kit/templates.js";
export { type CsrfErrorHandler, csrfErrorPage, csrfProtection, type ReactRouterCsrfOptions } from "./csrf.js";
export type { Session, SessionData, SessionShape, Sessions };
