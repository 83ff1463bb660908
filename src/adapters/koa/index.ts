import type { ServerResponse } from "node:http";
import type { Context, Middleware } from "koa";
import type { SessionsOptions } from "../../session/options.js";
import { applyPlanToResponse, type CommitPlan, mergeVary, planCookieLines } from "../../session/plan.js";
import type { Session } from "../../session/session.js";
import { createSessions, loadSessionNow, type Sessions } from "../../session/sessions.js";
import { flashedMessagesOf, flashOptions, type TemplateGlobals, templateGlobals } from "../kit/templates.js";
import { asStoreUnavailable, RETRY_AFTER_SECONDS } from "../kit/unavailable.js";
import type { KoaSessionData, SessionState } from "./types.js";

export interface KoaAdapterOptions {
  /**
   * Whether the request arrived over HTTPS (decides `Secure` and the `__Host-` prefix when
   * `cookie.secure` is `"auto"`).
   * @default `ctx.secure`: the socket is TLS, or, with `app.proxy = true`, `X-Forwarded-Proto` says https
   */
  isSecure?: (ctx: Context) => boolean;
  /** `Retry-After` seconds sent with a store failure's 503; `false` sends none. @default 5 */
  retryAfter?: number | false;
}

export type KoaSessionsOptions = SessionsOptions<KoaSessionData> & KoaAdapterOptions;

export type SessionsMiddleware = Middleware & {
  /** The core behind the middleware (`close()` it on shutdown). */
  readonly sessions: Sessions<KoaSessionData>;
};

function isSessions(value: object): value is Sessions<KoaSessionData> {
  return typeof (value as Partial<Sessions<KoaSessionData>>).load === "function";
}

function removeAllHeaders(res: ServerResponse): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
}

type HeaderRecord = Record<string, string | number | readonly string[]>;

/** The key of `name` in a header record, whatever its case. */
function keyOf(headers: HeaderRecord, name: string): string {
  return Object.keys(headers).find((key) => key.toLowerCase() === name) ?? name;
}

/**
 * A downstream error still commits the session (as in Flask, so the error page can carry a
 * flash). Koa's own error response (`ctx.onerror`) removes every header, then sets
 * `error.headers`: the session's headers are added there too. An upstream middleware that catches
 * the error and renders a page keeps them from the response itself.
 */
function carrySessionHeaders(error: unknown, plan: CommitPlan): void {
  // Koa replaces a thrown non-Error with an Error of its own: nothing can be carried on it.
  if (
    !(error instanceof Error) ||
    (!plan.vary && plan.setCookie === undefined && plan.legacyCookies === undefined)
  )
    return;
  const own = (error as { headers?: unknown }).headers;
  const headers: HeaderRecord = typeof own === "object" && own !== null ? { ...(own as HeaderRecord) } : {};
  if (plan.vary) {
    const key = keyOf(headers, "vary");
    const current = headers[key];
    const merged = mergeVary(
      current === undefined ? undefined : Array.isArray(current) ? current.join(", ") : String(current),
      "Cookie",
    );
    if (merged !== undefined) headers[key] = merged;
  }
  if (plan.setCookie !== undefined || plan.legacyCookies !== undefined) {
    const key = keyOf(headers, "set-cookie");
    const current = headers[key];
    const lines = current === undefined ? [] : Array.isArray(current) ? [...current] : [String(current)];
    headers[key] = [...lines, ...planCookieLines(plan)];
    if (plan.cacheControl !== undefined) headers[keyOf(headers, "cache-control")] = plan.cacheControl;
  }
  try {
    (error as { headers?: unknown }).headers = headers;
  } catch {
    // A frozen error keeps its own headers; the response itself still has the session's.
  }
}

/**
 * Koa 3 middleware: `ctx.session`, plus `session`, `get_flashed_messages` and `csrf_token` in
 * `ctx.state` for templates. The session is loaded before `next()` and committed after it (store
 * write finished, `Set-Cookie`/`Vary`/`Cache-Control` set) before Koa writes the response, so a
 * redirect can never race the store. Errors thrown downstream still commit, then go on. A store
 * failure is thrown as an error with `status` 503 and `Retry-After`, which Koa's own error
 * handling answers; catch it upstream to render your own page.
 *
 * ```ts
 * const app = new Koa();
 * app.use(bodyParser());
 * app.use(sessions({ secret: process.env.SECRET_KEY, store: sqliteStore({ path: "sessions.db" }) }));
 * ```
 */
export function sessions(options: KoaSessionsOptions): SessionsMiddleware;
export function sessions(core: Sessions<KoaSessionData>, options?: KoaAdapterOptions): SessionsMiddleware;
export function sessions(
  optionsOrCore: KoaSessionsOptions | Sessions<KoaSessionData>,
  adapterOptions: KoaAdapterOptions = {},
): SessionsMiddleware {
  let core: Sessions<KoaSessionData>;
  let adapter: KoaAdapterOptions;
  if (isSessions(optionsOrCore)) {
    core = optionsOrCore;
    adapter = adapterOptions;
  } else {
    const { isSecure, retryAfter, ...sessionOptions } = optionsOrCore;
    core = createSessions<KoaSessionData>(sessionOptions);
    adapter = { isSecure, retryAfter };
  }
  const isSecure = adapter.isSecure ?? ((ctx: Context) => ctx.secure);
  const retryAfter = adapter.retryAfter ?? RETRY_AFTER_SECONDS;

  /** The commit's refusal: the store error answers instead (503), and nothing of the response is sent. */
  function refuse(ctx: Context, thrown: { error: unknown } | undefined, error: unknown): never {
    // Report the downstream error the 503 replaces.
    if (thrown !== undefined) ctx.app.emit("error", thrown.error, ctx);
    // A response whose session was not written must not be sent: no Location, no cookies.
    if (!ctx.res.headersSent) removeAllHeaders(ctx.res);
    throw asStoreUnavailable(error, retryAfter);
  }

  function apply(ctx: Context, plan: CommitPlan, thrown: { error: unknown } | undefined): void {
    const res = ctx.res;
    if (!res.headersSent) {
      applyPlanToResponse(res, plan);
    } else if (plan.setCookie !== undefined) {
      // `ctx.respond = false` and a handler that wrote ctx.res itself: too late for the cookie.
      ctx.app.emit(
        "error",
        new Error(
          "flagon/koa: the response was sent before the session was committed (ctx.res written directly?), so its Set-Cookie was dropped",
        ),
        ctx,
      );
    }
    if (thrown !== undefined) {
      carrySessionHeaders(thrown.error, plan);
      throw thrown.error;
    }
  }

  /** Commits; a promise only when there is a store write to wait for (a read costs no microtask). */
  function commit(
    ctx: Context,
    session: Session<KoaSessionData>,
    thrown: { error: unknown } | undefined,
  ): Promise<void> | undefined {
    let plan: CommitPlan;
    try {
      plan = core.prepare(session);
    } catch (error) {
      refuse(ctx, thrown, error);
    }
    const write = plan.write;
    if (write === undefined) {
      apply(ctx, plan, thrown);
      return undefined;
    }
    return write().then(
      () => apply(ctx, plan, thrown),
      (error: unknown) => refuse(ctx, thrown, error),
    );
  }

  const middleware: Middleware = async (ctx, next) => {
    let session: Session<KoaSessionData>;
    try {
      const loaded = loadSessionNow(core, { headers: ctx.req.headers, secure: isSecure(ctx) });
      session = loaded instanceof Promise ? await loaded : loaded;
    } catch (error) {
      // The handler never runs with a silently empty session.
      throw asStoreUnavailable(error, retryAfter);
    }
    ctx.session = session;
    const state = ctx.state as Partial<SessionState>;
    state.session = session;
    state.get_flashed_messages = flashedMessagesOf(session);
    state.csrf_token = () => session.csrfToken();
    let thrown: { error: unknown } | undefined;
    try {
      await next();
    } catch (error) {
      thrown = { error };
    }
    const writing = commit(ctx, session, thrown);
    if (writing !== undefined) await writing;
  };
  return Object.assign(middleware, { sessions: core });
}

export {
  type CsrfOptions,
  type CsrfReason,
  CsrfRejectedError,
  csrfProtection,
  type KoaCsrfErrorHandler,
  type KoaCsrfOptions,
} from "./csrf.js";
export type { GetFlashedMessages, KoaSessionData, SessionData, SessionState } from "./types.js";
export type { Session, Sessions, TemplateGlobals };
export { flashOptions, templateGlobals };
