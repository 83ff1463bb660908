import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from "express";
import { SessionStoreError } from "../errors.js";
import type { FlashOptions } from "../session/flash.js";
import type { SessionsOptions } from "../session/options.js";
import type { Session } from "../session/session.js";
import { createSessions, type Sessions } from "../session/sessions.js";
import { holdResponse } from "./express/hold-response.js";

/**
 * The shape of `req.session`'s data. Augment it to type your keys:
 *
 * ```ts
 * declare module "flagon/express" {
 *   interface SessionData { user?: string }
 * }
 * ```
 *
 * Then only the declared keys compile (`req.session.set("user", "leo")`; `set("usr", …)` and
 * `set("user", 42)` are errors). Left empty, any string key works (see `ExpressSessionData`).
 * For keys computed at run time, use `req.session.untyped()`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: apps declare their keys by augmenting it.
export interface SessionData {}

/** The data type of `req.session`: the augmented `SessionData`, or any string key when it declares none. */
export type ExpressSessionData = keyof SessionData extends never ? Record<string, unknown> : SessionData;

/** Flask's `get_flashed_messages`, callable from templates (Nunjucks keyword arguments included). */
export type GetFlashedMessages = (...args: unknown[]) => string[] | Array<[string, string]>;

declare global {
  namespace Express {
    interface Request {
      /** This request's session (flagon/express). */
      session: Session<ExpressSessionData>;
    }
    // Set on every request by sessions() (required, so templates' helpers need no `!`).
    interface Locals {
      /** This request's session, for templates (`session.get("user")`). */
      session: Session<ExpressSessionData>;
      /** Flask's `get_flashed_messages(with_categories=false, category_filter=[])`. */
      get_flashed_messages: GetFlashedMessages;
      /** The session's CSRF token, for a hidden form field. */
      csrf_token: () => string;
    }
  }
}

export type ExpressSessionsOptions = SessionsOptions<ExpressSessionData>;

export type SessionsMiddleware = RequestHandler & {
  /** The core behind the middleware (`close()` it on shutdown). */
  readonly sessions: Sessions<ExpressSessionData>;
};

function isSessions(
  value: ExpressSessionsOptions | Sessions<ExpressSessionData>,
): value is Sessions<ExpressSessionData> {
  return typeof (value as Partial<Sessions<ExpressSessionData>>).load === "function";
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads Flask's arguments in any of the forms a template engine passes them: positional
 * `(with_categories, category_filter)`, Nunjucks keywords `(with_categories=true)` (an object
 * marked `__keywords`) or an options object `{ withCategories, categoryFilter }`.
 */
export function flashOptions(args: readonly unknown[]): FlashOptions {
  const [first, second] = args;
  if (isPlainObject(first)) {
    const withCategories = first.with_categories ?? first.withCategories;
    const categoryFilter = first.category_filter ?? first.categoryFilter;
    return {
      withCategories: withCategories === true,
      categoryFilter: Array.isArray(categoryFilter) ? categoryFilter.map(String) : undefined,
    };
  }
  const keywords = args.find((arg, index) => index > 0 && isPlainObject(arg)) as
    | Record<string, unknown>
    | undefined;
  const filter = keywords?.category_filter ?? keywords?.categoryFilter ?? second;
  return {
    withCategories: first === true,
    categoryFilter: Array.isArray(filter) ? filter.map(String) : undefined,
  };
}

/** Express's error handling answers with `err.status`: a store failure is a 503, not a 500. */
function asHttpError(error: unknown): unknown {
  if (error instanceof SessionStoreError && !("status" in error)) {
    Object.defineProperty(error, "status", { value: 503, enumerable: false });
  }
  return error;
}

/**
 * Express 5 middleware: `req.session`, plus `session`, `get_flashed_messages` and `csrf_token` in
 * `res.locals` for templates. The session is committed (store write finished, `Set-Cookie` in the
 * headers) before the first byte of the response is sent, so a redirect can never race the store.
 * A store failure goes to Express's error handling with `status` 503 (see `sessionErrorHandler`).
 */
export function sessions(options: ExpressSessionsOptions | Sessions<ExpressSessionData>): SessionsMiddleware {
  const core = isSessions(options) ? options : createSessions<ExpressSessionData>(options);

  async function middleware(req: Request, res: Response, next: NextFunction): Promise<void> {
    let session: Session<ExpressSessionData>;
    try {
      session = await core.load({ headers: req.headers, secure: req.secure });
    } catch (error) {
      next(asHttpError(error));
      return;
    }
    req.session = session;
    res.locals.session = session;
    res.locals.get_flashed_messages = (...args: unknown[]) => {
      const { withCategories, categoryFilter } = flashOptions(args);
      return withCategories
        ? session.getFlashedMessages({ withCategories, categoryFilter })
        : session.getFlashedMessages({ categoryFilter });
    };
    res.locals.csrf_token = () => session.csrfToken();
    holdResponse(res, {
      commit: async () => {
        const headers = new Headers();
        await core.commit(session, headers);
        return headers;
      },
      commitSync: () => {
        const headers = new Headers();
        return core.commitSync(session, headers) ? headers : undefined;
      },
      // The handler's layer has already run; this resumes Express's chain at the error handlers.
      onError: (error) => next(asHttpError(error)),
    });
    next();
  }

  return Object.assign(middleware, { sessions: core });
}

export interface SessionErrorHandlerOptions {
  /** Renders the 503 page (status already set). @default a plain-text "Service Unavailable" */
  render?: (error: SessionStoreError, req: Request, res: Response) => void;
  /** `Retry-After` seconds sent with the 503; `false` sends none. @default 5 */
  retryAfter?: number | false;
}

/**
 * Answers store failures with 503 and passes every other error on. Install it after your routes:
 * `app.use(sessionErrorHandler())`. Without it, Express's default handler still answers 503.
 */
export function sessionErrorHandler(options: SessionErrorHandlerOptions = {}): ErrorRequestHandler {
  const retryAfter = options.retryAfter ?? 5;
  return (error: unknown, req, res, next) => {
    if (!(error instanceof SessionStoreError) || res.headersSent) {
      next(error);
      return;
    }
    res.status(503);
    if (retryAfter !== false) res.set("Retry-After", String(retryAfter));
    res.set("Cache-Control", "no-store");
    if (options.render) options.render(error, req, res);
    else res.type("text/plain").send("Service Unavailable");
  };
}

export {
  type CsrfOptions,
  type CsrfReason,
  CsrfRejectedError,
  csrfProtection,
  type ExpressCsrfErrorHandler,
  type ExpressCsrfOptions,
} from "./express-csrf.js";
export type { Session, Sessions };
