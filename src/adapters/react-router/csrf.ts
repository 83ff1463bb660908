import type { MiddlewareFunction } from "react-router";
import {
  type CsrfOptions,
  type CsrfRejectedError,
  createCsrfProtection,
  csrfErrorHtml,
} from "../../session/csrf.js";
import type { Session, SessionShape } from "../../session/session.js";
import { checkRequestCsrf } from "../kit/fetch-csrf.js";

/** Renders the 403 for a failed CSRF check. */
export type CsrfErrorHandler = (error: CsrfRejectedError, request: Request) => Response | Promise<Response>;

export interface ReactRouterCsrfOptions extends CsrfOptions {
  /** @default a small HTML "403 Forbidden" page that names the reason */
  onError?: CsrfErrorHandler;
}

/** The default 403 response: a small HTML page naming the reason (see `csrfErrorHtml`). */
export function csrfErrorPage(error: CsrfRejectedError): Response {
  return new Response(csrfErrorHtml(error.reason), {
    status: 403,
    headers: { "content-type": "text/html; charset=UTF-8", "cache-control": "no-store" },
  });
}

/**
 * CSRF protection for actions, as route middleware after `storage.middleware`: unsafe methods need
 * the session's token in the `csrf_token` form field or the `x-csrf-token` header, and must not
 * come from another origin (`Origin` / `Sec-Fetch-Site`). Failures answer 403 before the action runs.
 * `storage` is the `flagonSessionStorage()` whose middleware loaded the session.
 */
export function csrfProtection<T extends SessionShape<T>>(
  storage: { sessionOf(context: Parameters<MiddlewareFunction>[0]["context"]): Session<T> },
  options: ReactRouterCsrfOptions = {},
): MiddlewareFunction<Response> {
  const { onError = csrfErrorPage, ...csrfOptions } = options;
  const protection = createCsrfProtection(csrfOptions);
  return async ({ request, context }, next) => {
    if (protection.isSafe(request.method)) return next();
    const result = await checkRequestCsrf(protection, storage.sessionOf(context), request);
    if (!result.ok) return onError(result.error, request);
    return next();
  };
}
