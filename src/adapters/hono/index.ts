import type { Context, MiddlewareHandler } from "hono";
import { SessionStoreError } from "../../errors.js";
import type { CsrfOptions, CsrfRejectedError } from "../../session/csrf.js";
import type { SessionsOptions } from "../../session/options.js";
import type { CommitPlan } from "../../session/plan.js";
import type { Session, SessionData, SessionShape } from "../../session/session.js";
import { createSessions, loadSessionNow, type Sessions } from "../../session/sessions.js";
import { applyPlanToFetchResponse } from "../kit/fetch-response.js";
import { storeUnavailableResponse } from "../kit/unavailable.js";
import type { SessionEnv, SessionVariables } from "./types.js";

/** Answers a request whose session store failed. */
export type StoreErrorHandler = (error: SessionStoreError, c: Context) => Response | Promise<Response>;

export interface HonoAdapterOptions {
  /**
   * The response for a store failure (on load or on commit). The handler never runs with a
   * silently empty session, and a response whose session could not be written is replaced.
   * @default a plain-text 503 with `Retry-After: 5` and `Cache-Control: no-store`
   */
  onStoreError?: StoreErrorHandler;
  /**
   * Whether the request arrived over HTTPS (decides `Secure` and the `__Host-` prefix when
   * `cookie.secure` is `"auto"`). Behind a TLS-terminating proxy, read its header here.
   * @default the request URL's scheme is `https:`
   */
  isSecure?: (c: Context) => boolean;
}

export type HonoSessionsOptions<T extends SessionShape<T> = SessionData> = SessionsOptions<T> &
  HonoAdapterOptions;

export type SessionsMiddleware<T extends SessionShape<T> = SessionData> = MiddlewareHandler<SessionEnv<T>> & {
  /** The core behind the middleware (`close()` it on shutdown). */
  readonly sessions: Sessions<T>;
};

function isSessions<T extends SessionShape<T>>(value: object): value is Sessions<T> {
  return typeof (value as Partial<Sessions<T>>).load === "function";
}

function requestIsSecure(c: Context): boolean {
  // A request URL is absolute and its scheme lowercase (WHATWG URL): no need to parse it.
  return c.req.url.startsWith("https:");
}

/**
 * The request's headers for `load`: under @hono/node-server, node's own `IncomingMessage.headers`
 * (`c.env.incoming`), since reading `c.req.raw.headers` there builds a Fetch `Headers` from every raw
 * header line, which costs more than the rest of a session read; elsewhere the Request's headers.
 */
function requestHeaders(c: Context): Headers | Record<string, string | string[] | undefined> {
  const incoming = (c.env as { incoming?: { headers?: unknown } } | undefined)?.incoming;
  const headers = incoming?.headers;
  if (typeof headers === "object" && headers !== null && !(headers instanceof Headers)) {
    return headers as Record<string, string | string[] | undefined>;
  }
  return c.req.raw.headers;
}

/** Replaces `c.res` without Hono merging the old response's headers into the new one. */
function replaceResponse(c: Context, response: Response): void {
  c.res = undefined;
  c.res = response;
}

/**
 * Empties the handler's response headers before the error page is built: Hono's `c.html()` and
 * friends copy the current response's headers, and a 503 must not carry the handler's
 * `Location` or `Set-Cookie`.
 */
function dropResponseHeaders(c: Context): void {
  for (const name of new Set(c.res.headers.keys())) c.header(name, undefined);
}

/**
 * Hono middleware: `c.get("session")`. The session is loaded before the handler and committed
 * (store write finished, `Set-Cookie`/`Vary`/`Cache-Control` added) after it, before Hono hands
 * the response back, so a redirect can never race the store. Store failures answer 503.
 *
 * ```ts
 * const app = new Hono<{ Variables: SessionVariables<{ user?: string }> }>();
 * app.use(sessions({ secret: process.env.SECRET_KEY, store: sqliteStore({ path: "sessions.db" }) }));
 * ```
 */
export function sessions<T extends SessionShape<T> = SessionData>(
  options: HonoSessionsOptions<T>,
): SessionsMiddleware<T>;
export function sessions<T extends SessionShape<T> = SessionData>(
  core: Sessions<T>,
  options?: HonoAdapterOptions,
): SessionsMiddleware<T>;
export function sessions<T extends SessionShape<T> = SessionData>(
  optionsOrCore: HonoSessionsOptions<T> | Sessions<T>,
  adapterOptions: HonoAdapterOptions = {},
): SessionsMiddleware<T> {
  let core: Sessions<T>;
  let adapter: HonoAdapterOptions;
  if (isSessions<T>(optionsOrCore)) {
    core = optionsOrCore;
    adapter = adapterOptions;
  } else {
    const { onStoreError, isSecure, ...sessionOptions } = optionsOrCore;
    core = createSessions<T>(sessionOptions);
    adapter = { onStoreError, isSecure };
  }
  const onStoreError = adapter.onStoreError ?? (() => storeUnavailableResponse());
  const isSecure = adapter.isSecure ?? requestIsSecure;

  const middleware: MiddlewareHandler<SessionEnv<T>> = async (c, next) => {
    let session: Session<T>;
    try {
      const loaded = loadSessionNow(core, { headers: requestHeaders(c), secure: isSecure(c) });
      session = loaded instanceof Promise ? await loaded : loaded;
    } catch (error) {
      if (error instanceof SessionStoreError) return onStoreError(error, c);
      throw error;
    }
    c.set("session", session);
    await next();

    let plan: CommitPlan;
    try {
      plan = core.prepare(session);
      if (plan.write !== undefined) await plan.write();
    } catch (error) {
      // A response whose session was not written must not be sent (its redirect would race a
      // store that never got the data); other errors (ERR_COOKIE_TOO_LARGE) go to app.onError.
      if (error instanceof SessionStoreError) {
        dropResponseHeaders(c);
        replaceResponse(c, await onStoreError(error, c));
        return;
      }
      throw error;
    }
    // Responses from fetch() (a proxy) have immutable headers: then a copy replaces the response.
    const committed = applyPlanToFetchResponse(c.res, plan);
    if (committed !== c.res) replaceResponse(c, committed);
  };
  return Object.assign(middleware, { sessions: core });
}

export { type TemplateGlobals, templateGlobals } from "../kit/templates.js";
export { type CsrfErrorHandler, csrfErrorPage, csrfProtection, type HonoCsrfOptions } from "./csrf.js";
export type {
  CsrfOptions,
  CsrfRejectedError,
  Session,
  SessionData,
  SessionEnv,
  SessionShape,
  Sessions,
  SessionVariables,
};
