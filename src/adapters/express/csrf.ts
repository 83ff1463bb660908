import type { NextFunction, Request, RequestHandler, Response } from "express";
import {
  type CsrfOptions,
  type CsrfReason,
  CsrfRejectedError,
  createCsrfProtection,
  csrfErrorHtml,
} from "../../session/csrf.js";
import { formToken } from "../kit/csrf.js";
// `req.session`'s declaration.
import type {} from "./types.js";

/** Answers a failed CSRF check (the status is already 403). */
export type ExpressCsrfErrorHandler = (
  error: CsrfRejectedError,
  req: Request,
  res: Response,
  next: NextFunction,
) => void;

export interface ExpressCsrfOptions extends CsrfOptions {
  /**
   * Renders the refusal. Call `next(error)` to use your own error handlers instead
   * (`error.status` is 403, `error.code` is `ERR_CSRF`, `error.reason` says which check failed).
   * @default a small HTML "403 Forbidden" page that names the reason
   */
  onError?: ExpressCsrfErrorHandler;
}

function defaultErrorPage(error: CsrfRejectedError, _req: Request, res: Response): void {
  res.set("Cache-Control", "no-store").type("html").send(csrfErrorHtml(error.reason));
}

/**
 * CSRF protection for Express 5, after `sessions()` and a body parser
 * (`express.urlencoded()`): unsafe methods need the session's token in the `csrf_token` form
 * field or the `x-csrf-token` header, and must not come from another origin
 * (`Origin`/`Sec-Fetch-Site`). Failures answer 403.
 *
 * ```ts
 * app.use(express.urlencoded({ extended: false }), sessions(options), csrfProtection());
 * ```
 */
export function csrfProtection(options: ExpressCsrfOptions = {}): RequestHandler {
  const { onError = defaultErrorPage, ...csrfOptions } = options;
  const protection = createCsrfProtection(csrfOptions);

  return (req, res, next) => {
    if (protection.isSafe(req.method)) {
      next();
      return;
    }
    if (req.session === undefined) {
      next(new TypeError("csrfProtection() needs the flagon/express sessions() middleware to run before it"));
      return;
    }
    const result = protection.check(req.session.untyped(), {
      method: req.method,
      headers: req.headers,
      // Express 5's req.host keeps the port and honours `trust proxy` (X-Forwarded-Host).
      host: req.host,
      formToken: formToken(req.body, protection.fieldName),
    });
    if (result.ok) {
      next();
      return;
    }
    Object.defineProperty(result.error, "status", { value: 403, enumerable: false });
    res.status(403);
    onError(result.error, req, res, next);
  };
}

export { type CsrfOptions, type CsrfReason, CsrfRejectedError };
