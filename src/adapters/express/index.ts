import { IncomingMessage } from "node:http";
import type * as Express from "express";
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from "express";
import { SessionStoreError } from "../../errors.js";
import { requirePeer } from "../../peer.js";
import type { SessionsOptions } from "../../session/options.js";
import type { Session } from "../../session/session.js";
import { createSessions, loadSessionNow, type Sessions } from "../../session/sessions.js";
import { frameworkPrototype, holdResponse, patchResponsePrototype } from "../kit/hold.js";
import { flashedMessagesOf, flashOptions } from "../kit/templates.js";
import { STORE_UNAVAILABLE_BODY, storeUnavailableHeaders } from "../kit/unavailable.js";
import type { ExpressSessionData } from "./types.js";

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

/** Express's error handling answers with `err.status`: a store failure is a 503, not a 500. */
function asHttpError(error: unknown): unknown {
  if (error instanceof SessionStoreError && !("status" in error)) {
    Object.defineProperty(error, "status", { value: 503, enumerable: false });
  }
  return error;
}

/** `req.session` of the requests whose prototype carries the accessor below. */
const requestSessions = new WeakMap<object, Session<ExpressSessionData>>();
const accessorPrototypes = new WeakSet<object>();

/**
 * Sets `req.session`. Express gives every request a new prototype (`Object.setPrototypeOf`), after
 * which V8 adds an own property at about 2-3 µs, so `req.session` is an accessor on
 * `express.request` (the prototype every app's and sub-app's `req` inherits from; Express's own
 * extension point) backed by a WeakMap: about 0.2 µs. Assignments (`req.session = …`, as other
 * middleware may do) go through it too. Falls back to a plain property when the prototype cannot
 * take the accessor or something else defined `session` first.
 */
function attachSession(req: Request, session: Session<ExpressSessionData>): void {
  const direct = Object.getPrototypeOf(req) as object | null;
  const grand = direct === null ? null : (Object.getPrototypeOf(direct) as object | null);
  const prototype =
    grand !== null && accessorPrototypes.has(grand)
      ? grand
      : frameworkPrototype(req, IncomingMessage.prototype);
  if (prototype !== undefined && (accessorPrototypes.has(prototype) || defineSessionAccessor(prototype))) {
    requestSessions.set(req, session);
    if (req.session === session) return;
  }
  req.session = session;
}

/** Puts the `session` accessor on a request prototype; false when it cannot. */
function defineSessionAccessor(prototype: object): boolean {
  if (!Object.isExtensible(prototype) || Object.hasOwn(prototype, "session")) return false;
  Object.defineProperty(prototype, "session", {
    configurable: true,
    enumerable: false,
    get(this: object) {
      return requestSessions.get(this);
    },
    set(this: object, value: Session<ExpressSessionData>) {
      requestSessions.set(this, value);
    },
  });
  accessorPrototypes.add(prototype);
  return true;
}

let prototypesReady = false;

/**
 * Patches `express.request` and `express.response` once, when the first middleware is created:
 * before any request, so middleware that wraps `res.end` per response wraps the hold's wrapper.
 * Responses of another copy of Express are patched at their first request instead.
 */
function preparePrototypes(): void {
  if (prototypesReady) return;
  prototypesReady = true;
  const express = requirePeer<typeof Express & { default?: typeof Express }>(
    "flagon/express",
    "express",
    "5",
  );
  const base = express.default ?? express;
  if (base.response !== undefined) patchResponsePrototype(base.response);
  if (base.request !== undefined) defineSessionAccessor(base.request);
}

/**
 * Express 5 middleware: `req.session`, plus `session`, `get_flashed_messages` and `csrf_token` in
 * `res.locals` for templates. The session is committed (store write finished, `Set-Cookie` in the
 * headers) before the first byte of the response is sent, so a redirect can never race the store.
 * A store failure goes to Express's error handling with `status` 503 (see `sessionErrorHandler`).
 */
export function sessions(options: ExpressSessionsOptions | Sessions<ExpressSessionData>): SessionsMiddleware {
  const core = isSessions(options) ? options : createSessions<ExpressSessionData>(options);
  preparePrototypes();

  function middleware(req: Request, res: Response, next: NextFunction): Promise<void> | undefined {
    let loaded: Session<ExpressSessionData> | Promise<Session<ExpressSessionData>>;
    try {
      loaded = loadSessionNow(core, { headers: req.headers, secure: req.secure });
    } catch (error) {
      next(asHttpError(error));
      return undefined;
    }
    // A cookie store's session is there at once: no promise, no microtask before the next handler.
    if (!(loaded instanceof Promise)) {
      start(req, res, next, loaded);
      return undefined;
    }
    // Returned, so that Express 5 passes anything start() throws to the error handlers.
    return loaded.then(
      (session) => start(req, res, next, session),
      (error: unknown) => next(asHttpError(error)),
    );
  }

  function start(
    req: Request,
    res: Response,
    next: NextFunction,
    session: Session<ExpressSessionData>,
  ): void {
    attachSession(req, session);
    res.locals.session = session;
    res.locals.get_flashed_messages = flashedMessagesOf(session);
    res.locals.csrf_token = () => session.csrfToken();
    holdResponse(res, {
      prepare: () => core.prepare(session),
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
  const headers = storeUnavailableHeaders(options.retryAfter);
  return (error: unknown, req, res, next) => {
    if (!(error instanceof SessionStoreError) || res.headersSent) {
      next(error);
      return;
    }
    res.status(503).set(headers);
    if (options.render) options.render(error, req, res);
    else res.type("text/plain").send(STORE_UNAVAILABLE_BODY);
  };
}

export {
  type CsrfOptions,
  type CsrfReason,
  CsrfRejectedError,
  csrfProtection,
  type ExpressCsrfErrorHandler,
  type ExpressCsrfOptions,
} from "./csrf.js";
export type { ExpressSessionData, GetFlashedMessages, SessionData } from "./types.js";
export type { Session, Sessions };
export { flashOptions };
