import type { Handle, RequestEvent } from "@sveltejs/kit";
import {
  type CsrfOptions,
  type CsrfRejectedError,
  createCsrfProtection,
  csrfErrorHtml,
} from "../../session/csrf.js";
import { checkRequestCsrf } from "../kit/fetch-csrf.js";
import "./types.js";

/** Renders the 403 for a failed CSRF check. */
export type CsrfErrorHandler = (
  error: CsrfRejectedError,
  event: RequestEvent,
) => Response | Promise<Response>;

export interface SvelteKitCsrfOptions extends CsrfOptions {
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
 * CSRF protection for form actions and endpoints, after `sessions()` in `sequence()`: beyond
 * SvelteKit's own Origin check (forms only, and only when an `Origin` header is sent), unsafe
 * methods need the session's token in the `csrf_token` form field or the `x-csrf-token` header,
 * and `Sec-Fetch-Site: cross-site` is refused. Failures answer 403 before any action runs.
 */
export function csrfProtection(options: SvelteKitCsrfOptions = {}): Handle {
  const { onError = csrfErrorPage, ...csrfOptions } = options;
  const protection = createCsrfProtection(csrfOptions);
  return async ({ event, resolve }) => {
    if (protection.isSafe(event.request.method)) return resolve(event);
    const session = event.locals.session;
    if (session === undefined) {
      throw new TypeError(
        "csrfProtection() needs the sessions() hook to run before it (sequence(sessions(…), csrfProtection()))",
      );
    }
    const result = await checkRequestCsrf(protection, session, event.request);
    if (!result.ok) return onError(result.error, event);
    return resolve(event);
  };
}
