import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { SessionStoreError } from "../../errors.js";
import type { SessionsOptions } from "../../session/options.js";
import type { Session, SessionData, SessionShape } from "../../session/session.js";
import { createSessions, loadSessionNow, type Sessions } from "../../session/sessions.js";
import { holdResponse } from "../kit/hold.js";
import { flashOptions, type TemplateGlobals, templateGlobals } from "../kit/templates.js";
import { asStoreUnavailable, RETRY_AFTER_SECONDS, sendStoreUnavailable } from "../kit/unavailable.js";
import type { NextFunction, RequestListener, SessionHandler, SessionRequest } from "./types.js";

/** Answers a request whose session failed or whose handler threw (plain handlers only; connect gets `next(error)`). */
export type NodeErrorHandler = (error: unknown, req: IncomingMessage, res: ServerResponse) => void;

export interface NodeAdapterOptions {
  /**
   * Whether the request arrived over HTTPS (decides `Secure` and the `__Host-` prefix when
   * `cookie.secure` is `"auto"`). Behind a TLS-terminating proxy, read its header here
   * (`(req) => req.headers["x-forwarded-proto"] === "https"`), and only if the proxy sets it.
   * @default the socket is TLS (`https.createServer`)
   */
  isSecure?: (req: IncomingMessage) => boolean;
  /** `Retry-After` seconds sent with a store failure's 503; `false` sends none. @default 5 */
  retryAfter?: number | false;
  /**
   * For plain handlers (no `next`): answers a store failure (on load or on commit; `error` is a
   * `SessionStoreError` with `status` 503) and errors the handler throws or rejects with. The
   * failed response's headers are already removed.
   * @default a plain-text 503 with `Retry-After` for store failures; for other errors a plain-text
   *   500, and the error written to stderr (`console.error`)
   */
  onError?: NodeErrorHandler;
}

export type NodeSessionsOptions<T extends SessionShape<T> = SessionData> = SessionsOptions<T> &
  NodeAdapterOptions;

export type SessionsListener<T extends SessionShape<T> = SessionData> = RequestListener & {
  /** The core behind the listener (`close()` it on shutdown). */
  readonly sessions: Sessions<T>;
};

function isSessions<T extends SessionShape<T>>(value: object): value is Sessions<T> {
  return typeof (value as Partial<Sessions<T>>).load === "function";
}

function socketIsTls(req: IncomingMessage): boolean {
  return (req.socket as Partial<TLSSocket>).encrypted === true;
}

function removeAllHeaders(res: ServerResponse): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
}

function defaultErrorHandler(retryAfter: number | false): NodeErrorHandler {
  return (error, _req, res) => {
    // Store failures were reported by the core's logger already.
    if (!(error instanceof SessionStoreError)) console.error(error);
    if (res.writableEnded) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof SessionStoreError) {
      sendStoreUnavailable(res, retryAfter);
      return;
    }
    res.statusCode = 500;
    res.setHeader("Content-Type", "text/plain; charset=UTF-8");
    res.end("Internal Server Error");
  };
}

/**
 * Sessions for a plain node:http handler, or connect-style middleware:
 *
 * ```ts
 * createServer(withSessions(options, (req, res) => { req.session.set("user", "leo"); res.end("hi"); }));
 * app.use(withSessions(options)); // connect and friends: req.session for the middleware after it
 * ```
 *
 * The session is loaded before the handler (a store failure answers 503 and the handler does not
 * run) and committed before the first byte of the response leaves: at the first `writeHead`,
 * `write`, `end` or `flushHeaders`, a store write is awaited and the held calls are replayed with
 * `Set-Cookie`, `Vary` and `Cache-Control` added (src/adapters/kit/hold.ts, the hold flagon/express
 * uses), so a redirect can never race the store. With `next`, errors go to `next(error)` (store
 * failures with `status` 503 and `headers` carrying `Retry-After`, which connect's finalhandler
 * uses); without it, to `onError`.
 */
export function withSessions<T extends SessionShape<T> = SessionData>(
  options: NodeSessionsOptions<T>,
  handler?: SessionHandler<T>,
): SessionsListener<T>;
export function withSessions<T extends SessionShape<T> = SessionData>(
  core: Sessions<T>,
  handler?: SessionHandler<T>,
): SessionsListener<T>;
export function withSessions<T extends SessionShape<T> = SessionData>(
  core: Sessions<T>,
  options: NodeAdapterOptions,
  handler?: SessionHandler<T>,
): SessionsListener<T>;
export function withSessions<T extends SessionShape<T> = SessionData>(
  optionsOrCore: NodeSessionsOptions<T> | Sessions<T>,
  handlerOrOptions?: SessionHandler<T> | NodeAdapterOptions,
  maybeHandler?: SessionHandler<T>,
): SessionsListener<T> {
  let core: Sessions<T>;
  let adapter: NodeAdapterOptions;
  const handler = typeof handlerOrOptions === "function" ? handlerOrOptions : maybeHandler;
  if (isSessions<T>(optionsOrCore)) {
    core = optionsOrCore;
    adapter = typeof handlerOrOptions === "object" && handlerOrOptions !== null ? handlerOrOptions : {};
  } else {
    const { isSecure, retryAfter, onError, ...sessionOptions } = optionsOrCore;
    core = createSessions<T>(sessionOptions);
    adapter = { isSecure, retryAfter, onError };
  }
  const isSecure = adapter.isSecure ?? socketIsTls;
  const retryAfter = adapter.retryAfter ?? RETRY_AFTER_SECONDS;
  const onError = adapter.onError ?? defaultErrorHandler(retryAfter);

  /** Store failures and errors thrown by the handler; never an unhandled rejection. */
  function fail(
    error: unknown,
    req: IncomingMessage,
    res: ServerResponse,
    next: NextFunction | undefined,
  ): void {
    const marked = asStoreUnavailable(error, retryAfter);
    if (next !== undefined) {
      next(marked);
      return;
    }
    try {
      // The hold has removed a failed commit's headers already; a thrown handler's are removed here.
      if (!res.headersSent) removeAllHeaders(res);
      onError(marked, req, res);
    } catch (handlerError) {
      res.destroy(handlerError instanceof Error ? handlerError : new Error(String(handlerError)));
    }
  }

  function run(
    session: Session<T>,
    req: IncomingMessage,
    res: ServerResponse,
    next: NextFunction | undefined,
  ): void {
    const sessionRequest = req as SessionRequest<T>;
    sessionRequest.session = session;
    holdResponse(res, {
      prepare: () => core.prepare(session),
      onError: (error) => fail(error, req, res, next),
    });
    if (handler === undefined) {
      if (next !== undefined) next();
      else
        fail(
          new TypeError("withSessions(options) without a handler is middleware: call it with next"),
          req,
          res,
          next,
        );
      return;
    }
    let result: unknown;
    try {
      result = handler(sessionRequest, res, next);
    } catch (error) {
      fail(error, req, res, next);
      return;
    }
    if (typeof (result as Promise<unknown> | undefined)?.then === "function") {
      (result as Promise<unknown>).then(undefined, (error: unknown) => fail(error, req, res, next));
    }
  }

  const listener: RequestListener = (req, res, next) => {
    let loaded: Session<T> | Promise<Session<T>>;
    try {
      // A cookie store's session is there at once: no promise, no microtask before the handler.
      loaded = loadSessionNow(core, { headers: req.headers, secure: isSecure(req) });
    } catch (error) {
      fail(error, req, res, next);
      return;
    }
    if (!(loaded instanceof Promise)) {
      run(loaded, req, res, next);
      return;
    }
    loaded.then(
      (session) => run(session, req, res, next),
      (error: unknown) => fail(error, req, res, next),
    );
  };
  return Object.assign(listener, { sessions: core });
}

export {
  type CsrfOptions,
  type CsrfReason,
  CsrfRejectedError,
  csrfProtection,
  type NodeCsrfOptions,
} from "./csrf.js";
export type { NextFunction, RequestListener, SessionHandler, SessionRequest } from "./types.js";
export type { Session, SessionData, SessionShape, Sessions, TemplateGlobals };
export { flashOptions, templateGlobals };
