import type { Context, MiddlewareHandler } from "hono";
import { SessionStoreError } from "../errors.js";
import {
  type CsrfOptions,
  type CsrfRejectedError,
  createCsrfProtection,
  csrfErrorHtml,
} from "../session/csrf.js";
import type { FlashOptions } from "../session/flash.js";
import type { SessionsOptions } from "../session/options.js";
import type { Session, SessionData, SessionShape } from "../session/session.js";
import { createSessions, type Sessions } from "../session/sessions.js";

/**
 * The `Variables` this middleware adds to Hono's context:
 * `new Hono<{ Variables: SessionVariables<{ user?: string }> }>()`, then `c.get("session")`.
 * The data type may be a `type` alias or an `interface`; its keys are the only ones the session accepts.
 */
export interface SessionVariables<T extends SessionShape<T> = SessionData> {
  session: Session<T>;
}

/** A Hono `Env` with only the session variable. */
export interface SessionEnv<T extends SessionShape<T> = SessionData> {
  Variables: SessionVariables<T>;
}

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

/** Seconds a client should wait before retrying after a store failure (as `flagon/express`). */
const RETRY_AFTER_SECONDS = 5;

function isSessions<T extends SessionShape<T>>(value: object): value is Sessions<T> {
  return typeof (value as Partial<Sessions<T>>).load === "function";
}

function defaultStoreErrorResponse(): Response {
  return new Response("Service Unavailable", {
    status: 503,
    headers: {
      "content-type": "text/plain; charset=UTF-8",
      "retry-after": String(RETRY_AFTER_SECONDS),
      "cache-control": "no-store",
    },
  });
}

function requestIsSecure(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:";
}

/** RFC 9110 §12.5.5: Vary is a list; add fields that are missing, keep `*`. */
function mergeVary(target: Headers, value: string): void {
  const current = target.get("vary");
  if (current === null) {
    target.set("vary", value);
    return;
  }
  const fields = current.split(",").map((field) => field.trim().toLowerCase());
  if (fields.includes("*")) return;
  const added = value
    .split(",")
    .map((field) => field.trim())
    .filter((field) => field !== "" && !fields.includes(field.toLowerCase()));
  if (added.length > 0) target.set("vary", [current, ...added].join(", "));
}

/** Set-Cookie appended (one per cookie), Vary merged, the rest (Cache-Control) replaced. */
function applySessionHeaders(target: Headers, headers: Headers): void {
  for (const cookie of headers.getSetCookie()) target.append("set-cookie", cookie);
  headers.forEach((value, name) => {
    if (name === "set-cookie") return;
    if (name === "vary") mergeVary(target, value);
    else target.set(name, value);
  });
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

function hasHeaders(headers: Headers): boolean {
  for (const _ of headers.keys()) return true;
  return false;
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
  const onStoreError = adapter.onStoreError ?? defaultStoreErrorResponse;
  const isSecure = adapter.isSecure ?? requestIsSecure;

  const middleware: MiddlewareHandler<SessionEnv<T>> = async (c, next) => {
    let session: Session<T>;
    try {
      session = await core.load({ headers: c.req.raw.headers, secure: isSecure(c) });
    } catch (error) {
      if (error instanceof SessionStoreError) return onStoreError(error, c);
      throw error;
    }
    c.set("session", session);
    await next();

    const headers = new Headers();
    try {
      await core.commit(session, headers);
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
    if (!hasHeaders(headers)) return;
    try {
      applySessionHeaders(c.res.headers, headers);
    } catch (error) {
      // Responses from fetch() (a proxy) have immutable headers: copy them into a new Response.
      if (!(error instanceof TypeError)) throw error;
      const copy = new Response(c.res.body, c.res);
      applySessionHeaders(copy.headers, headers);
      replaceResponse(c, copy);
    }
  };
  return Object.assign(middleware, { sessions: core });
}

/** Flask's template globals for this request's session, for any template engine. */
export interface TemplateGlobals<T extends SessionShape<T> = SessionData> {
  session: Session<T>;
  /**
   * Flask's `get_flashed_messages(with_categories=false, category_filter=[])`: positional
   * arguments, Nunjucks keywords (`with_categories=true`) or `{ withCategories, categoryFilter }`.
   */
  get_flashed_messages: (...args: unknown[]) => string[] | Array<[string, string]>;
  /** The session's CSRF token, for `<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">`. */
  csrf_token: () => string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads Flask's `get_flashed_messages` arguments in the forms a template engine passes them. */
function flashOptions(args: readonly unknown[]): FlashOptions {
  const [first, second] = args;
  const keywords = isPlainObject(first)
    ? first
    : (args.find((arg, index) => index > 0 && isPlainObject(arg)) as Record<string, unknown> | undefined);
  const withCategories = isPlainObject(first)
    ? (first.with_categories ?? first.withCategories) === true
    : first === true;
  const filter = keywords?.category_filter ?? keywords?.categoryFilter ?? second;
  return {
    withCategories,
    categoryFilter: Array.isArray(filter) ? filter.map(String) : undefined,
  };
}

/**
 * `session`, `get_flashed_messages` and `csrf_token` for a template render, as Flask puts them
 * in Jinja's context: `env.render("index.html", { ...templateGlobals(c.get("session")), message })`.
 */
export function templateGlobals<T extends SessionShape<T>>(session: Session<T>): TemplateGlobals<T> {
  return {
    session,
    get_flashed_messages: (...args: unknown[]) => {
      const { withCategories, categoryFilter } = flashOptions(args);
      return withCategories
        ? session.getFlashedMessages({ withCategories: true, categoryFilter })
        : session.getFlashedMessages({ categoryFilter });
    },
    csrf_token: () => session.csrfToken(),
  };
}

/** Renders the 403 for a failed CSRF check. */
export type CsrfErrorHandler = (error: CsrfRejectedError, c: Context) => Response | Promise<Response>;

export interface HonoCsrfOptions extends CsrfOptions {
  /** @default a small HTML "403 Forbidden" page that names the reason */
  onError?: CsrfErrorHandler;
}

const FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"];

function isForm(contentType: string | undefined): boolean {
  const type = contentType?.split(";", 1)[0]?.trim().toLowerCase();
  return type !== undefined && FORM_TYPES.includes(type);
}

/** The default 403 response: a small HTML page naming the reason (see `csrfErrorHtml`). */
export function csrfErrorPage(error: CsrfRejectedError): Response {
  return new Response(csrfErrorHtml(error.reason), {
    status: 403,
    headers: { "content-type": "text/html; charset=UTF-8", "cache-control": "no-store" },
  });
}

/**
 * CSRF protection for Hono, after `sessions()`: unsafe methods (POST, PUT, PATCH, DELETE…) need
 * the session's token in the `csrf_token` form field or the `x-csrf-token` header, and must not
 * come from another origin (`Origin`/`Sec-Fetch-Site`). Failures answer 403.
 */
export function csrfProtection<T extends SessionShape<T> = SessionData>(
  options: HonoCsrfOptions = {},
): MiddlewareHandler<SessionEnv<T>> {
  const { onError = csrfErrorPage, ...csrfOptions } = options;
  const protection = createCsrfProtection(csrfOptions);

  return async (c, next) => {
    if (protection.isSafe(c.req.method)) return next();
    const session = c.get("session");
    if (session === undefined) {
      throw new TypeError("csrfProtection() needs the sessions() middleware to run before it");
    }
    const headers = c.req.raw.headers;
    let formToken: unknown;
    // The header wins; only a form body is read (Hono caches it for the handler's parseBody()).
    if (!headers.has(protection.headerName) && isForm(headers.get("content-type") ?? undefined)) {
      const body = await c.req.parseBody();
      formToken = body[protection.fieldName];
    }
    const result = protection.check(session.untyped(), {
      method: c.req.method,
      headers,
      host: new URL(c.req.url).host,
      formToken,
    });
    if (!result.ok) return onError(result.error, c);
    return next();
  };
}

export type { CsrfOptions, CsrfRejectedError, Session, SessionData, SessionShape, Sessions };
