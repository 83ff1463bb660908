import type { Context, MiddlewareHandler } from "hono";
import {
  type CsrfOptions,
  type CsrfRejectedError,
  createCsrfProtection,
  csrfErrorHtml,
} from "../../session/csrf.js";
import type { SessionData, SessionShape } from "../../session/session.js";
import { isFormType } from "../kit/csrf.js";
import type { SessionEnv } from "./types.js";

/** Renders the 403 for a failed CSRF check. */
export type CsrfErrorHandler = (error: CsrfRejectedError, c: Context) => Response | Promise<Response>;

export interface HonoCsrfOptions extends CsrfOptions {
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
    const host = new URL(c.req.url).host;
    // A request from another site is refused before its body is read.
    const origin = protection.checkOrigin({ method: c.req.method, headers, host });
    if (!origin.ok) return onError(origin.error, c);
    let formToken: unknown;
    // The header wins; only a form body is read (Hono caches it for the handler's parseBody()).
    if (!headers.has(protection.headerName) && isFormType(headers.get("content-type") ?? undefined)) {
      try {
        const body = await c.req.parseBody();
        formToken = body[protection.fieldName];
      } catch {
        // A body that cannot be parsed (multipart without a boundary, garbage) carries no token: the
        // request is refused as "missing-token" below (403), never answered with a 500.
        formToken = undefined;
      }
    }
    const result = protection.check(session.untyped(), { method: c.req.method, headers, host, formToken });
    if (!result.ok) return onError(result.error, c);
    return next();
  };
}
