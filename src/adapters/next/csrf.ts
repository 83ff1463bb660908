/**
 * CSRF protection for Route Handlers that accept forms. Server Actions need none of it: Next checks
 * their `Origin` against the host itself (and `serverActions.allowedOrigins`), and they cannot be
 * reached by a plain cross-site form post.
 */
import {
  type CsrfOptions,
  type CsrfRejectedError,
  createCsrfProtection,
  csrfErrorHtml,
} from "../../session/csrf.js";
import type { Session, SessionData, SessionShape } from "../../session/session.js";
import { isFormType } from "../kit/csrf.js";

export interface NextCsrfOptions extends CsrfOptions {
  /** @default a small HTML "403 Forbidden" page that names the reason */
  onError?: (error: CsrfRejectedError, request: Request) => Response | Promise<Response>;
}

/** The default 403 response: a small HTML page naming the reason (see `csrfErrorHtml`). */
export function csrfErrorPage(error: CsrfRejectedError): Response {
  return new Response(csrfErrorHtml(error.reason), {
    status: 403,
    headers: { "content-type": "text/html; charset=UTF-8", "cache-control": "no-store" },
  });
}

/**
 * Wraps a `route()` handler: unsafe methods (POST, PUT, PATCH, DELETE…) need the session's token in
 * the `csrf_token` form field or the `x-csrf-token` header, and must not come from another origin
 * (`Origin`/`Sec-Fetch-Site`). Failures answer 403 and the handler does not run.
 *
 * ```ts
 * export const POST = route(csrfProtection(async (request, session) => { … }));
 * ```
 */
export function csrfProtection<
  T extends SessionShape<T> = SessionData,
  R extends Request = Request,
  C = unknown,
>(
  handler: (request: R, session: Session<T>, context: C) => Response | Promise<Response>,
  options: NextCsrfOptions = {},
): (request: R, session: Session<T>, context: C) => Promise<Response> {
  const { onError = csrfErrorPage, ...csrfOptions } = options;
  const protection = createCsrfProtection(csrfOptions);
  return async (request, session, context) => {
    if (protection.isSafe(request.method)) return handler(request, session, context);
    const headers = request.headers;
    // The host Next's own Server Action check compares Origin with (request.url may name the
    // address Next listens on, not the one the browser used).
    const host =
      headers.get("x-forwarded-host")?.split(",", 1)[0]?.trim() ??
      headers.get("host") ??
      new URL(request.url).host;
    // A request from another site is refused before its body is read.
    const origin = protection.checkOrigin({ method: request.method, headers, host });
    if (!origin.ok) return onError(origin.error, request);
    let formToken: unknown;
    if (!headers.has(protection.headerName) && isFormType(headers.get("content-type") ?? undefined)) {
      try {
        // A clone: the handler reads the body itself.
        formToken = (await request.clone().formData()).get(protection.fieldName);
      } catch {
        // An unparseable body carries no token: refused below as "missing-token" (403), never a 500.
        formToken = undefined;
      }
    }
    const result = protection.check(session.untyped(), { method: request.method, headers, host, formToken });
    if (!result.ok) return onError(result.error, request);
    return handler(request, session, context);
  };
}

export type { CsrfOptions, CsrfRejectedError };
