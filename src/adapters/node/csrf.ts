import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type CsrfOptions,
  type CsrfReason,
  CsrfRejectedError,
  createCsrfProtection,
  csrfErrorHtml,
} from "../../session/csrf.js";
import type { Session, SessionData, SessionShape } from "../../session/session.js";
import { formToken } from "../kit/csrf.js";
import type { NextFunction, RequestListener, SessionHandler } from "./types.js";

/** Answers a failed CSRF check (the status is already 403). */
export type NodeCsrfErrorHandler = (
  error: CsrfRejectedError,
  req: IncomingMessage,
  res: ServerResponse,
) => void;

export interface NodeCsrfOptions extends CsrfOptions {
  /**
   * Renders the refusal (`error.code` is `ERR_CSRF`, `error.reason` says which check failed).
   * @default a small HTML "403 Forbidden" page that names the reason
   */
  onError?: NodeCsrfErrorHandler;
  /**
   * The largest `application/x-www-form-urlencoded` body read for the token when no body parser
   * ran before (bigger ones answer 413). @default 102400 (body-parser's `100kb`)
   */
  maxBodyBytes?: number;
}

const URLENCODED = "application/x-www-form-urlencoded";

function defaultErrorPage(error: CsrfRejectedError, _req: IncomingMessage, res: ServerResponse): void {
  res.setHeader("Content-Type", "text/html; charset=UTF-8");
  res.setHeader("Cache-Control", "no-store");
  res.end(csrfErrorHtml(error.reason));
}

function isUrlencoded(contentType: string | undefined): boolean {
  return contentType?.split(";", 1)[0]?.trim().toLowerCase() === URLENCODED;
}

class BodyTooLarge extends Error {}
/** The client went away before the whole body arrived (body-parser's "request aborted", a 400). */
class BodyAborted extends Error {}

/** Reads a form body, at most `limit` bytes. */
async function readForm(req: IncomingMessage, limit: number): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw new BodyTooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    // A client that closes mid-body is not a server error (it would be a 500 and a logged stack).
    if (error instanceof BodyTooLarge || !req.readableAborted) throw error;
    throw new BodyAborted();
  }
  // First value wins for a repeated field; `__proto__` is an ordinary key of a null-prototype record.
  const form: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(Buffer.concat(chunks).toString("utf8"))) {
    if (!Object.hasOwn(form, name)) form[name] = value;
  }
  return form;
}

/**
 * CSRF protection for node:http, after `withSessions`: unsafe methods need the session's token in
 * the `csrf_token` form field or the `x-csrf-token` header, and must not come from another origin
 * (`Origin`/`Sec-Fetch-Site`). Failures answer 403 and the handler does not run.
 *
 * ```ts
 * createServer(withSessions(options, csrfProtection({}, (req, res) => { … })));  // a plain handler
 * app.use(withSessions(options), csrfProtection());                            // connect-style
 * ```
 *
 * The form field is read from `req.body` when a body parser set it. Otherwise an
 * `application/x-www-form-urlencoded` body is read here and left in `req.body` (a null-prototype
 * record, first value per field) for the handler; send multipart forms' token in the header.
 */
export function csrfProtection(options?: NodeCsrfOptions): RequestListener;
export function csrfProtection<T extends SessionShape<T> = SessionData>(
  options: NodeCsrfOptions,
  handler: SessionHandler<T>,
): RequestListener;
export function csrfProtection<T extends SessionShape<T> = SessionData>(
  options: NodeCsrfOptions = {},
  handler?: SessionHandler<T>,
): RequestListener {
  const { onError = defaultErrorPage, maxBodyBytes = 102_400, ...csrfOptions } = options;
  const protection = createCsrfProtection(csrfOptions);

  function pass(req: IncomingMessage, res: ServerResponse, next: NextFunction | undefined): unknown {
    if (handler !== undefined) return handler(req as Parameters<typeof handler>[0], res, next);
    if (next !== undefined) next();
    return undefined;
  }

  async function check(
    req: IncomingMessage,
    res: ServerResponse,
    next: NextFunction | undefined,
  ): Promise<unknown> {
    const method = req.method ?? "GET";
    if (protection.isSafe(method)) return pass(req, res, next);
    const session = (req as { session?: Session<T> }).session;
    if (session === undefined) {
      throw new TypeError("csrfProtection() needs withSessions() (flagon/node) to run before it");
    }
    const holder = req as { body?: unknown };
    if (
      holder.body === undefined &&
      req.headers[protection.headerName] === undefined &&
      isUrlencoded(req.headers["content-type"])
    ) {
      try {
        holder.body = await readForm(req, maxBodyBytes);
      } catch (error) {
        if (!(error instanceof BodyTooLarge || error instanceof BodyAborted)) throw error;
        res.statusCode = error instanceof BodyTooLarge ? 413 : 400;
        res.setHeader("Connection", "close");
        res.end(error instanceof BodyTooLarge ? "Payload Too Large" : "Bad Request");
        return undefined;
      }
    }
    const result = protection.check(session.untyped(), {
      method,
      headers: req.headers,
      host: req.headers.host,
      formToken: formToken(holder.body, protection.fieldName),
    });
    if (result.ok) return pass(req, res, next);
    Object.defineProperty(result.error, "status", { value: 403, enumerable: false, writable: true });
    res.statusCode = 403;
    onError(result.error, req, res);
    return undefined;
  }

  // Without `next` the promise is returned, so withSessions() answers what the handler threw.
  return (req, res, next) => {
    const checked = check(req, res, next);
    if (next === undefined) return checked as unknown as undefined;
    checked.then(undefined, (error: unknown) => next(error));
  };
}

export { type CsrfOptions, type CsrfReason, CsrfRejectedError };
