import type { Context, Middleware } from "koa";
import {
  type CsrfOptions,
  type CsrfReason,
  CsrfRejectedError,
  createCsrfProtection,
  csrfErrorHtml,
} from "../../session/csrf.js";
import { formToken } from "../kit/csrf.js";
// `ctx.session`'s declaration.
import type {} from "./types.js";

/** Answers a failed CSRF check (the status is already 403). */
export type KoaCsrfErrorHandler = (error: CsrfRejectedError, ctx: Context) => void | Promise<void>;

export interface KoaCsrfOptions extends CsrfOptions {
  /**
   * Renders the refusal. Throw the error instead to use your error handling (`error.status` is
   * 403, `error.code` is `ERR_CSRF`, `error.reason` says which check failed).
   * @default a small HTML "403 Forbidden" page that names the reason
   */
  onError?: KoaCsrfErrorHandler;
}

function defaultErrorPage(error: CsrfRejectedError, ctx: Context): void {
  ctx.set("Cache-Control", "no-store");
  ctx.type = "html";
  ctx.body = csrfErrorHtml(error.reason);
}

/**
 * CSRF protection for Koa 3, after `sessions()` and a body parser (`@koa/bodyparser`): unsafe
 * methods need the session's token in the `csrf_token` form field or the `x-csrf-token` header,
 * and must not come from another origin (`Origin`/`Sec-Fetch-Site`). Failures answer 403 and
 * the middleware after it does not run.
 *
 * ```ts
 * app.use(bodyParser()).use(sessions(options)).use(csrfProtection());
 * ```
 */
export function csrfProtection(options: KoaCsrfOptions = {}): Middleware {
  const { onError = defaultErrorPage, ...csrfOptions } = options;
  const protection = createCsrfProtection(csrfOptions);

  return async (ctx, next) => {
    if (protection.isSafe(ctx.method)) return next();
    const session = ctx.session as Context["session"] | undefined;
    if (session === undefined) {
      throw new TypeError("csrfProtection() needs the flagon/koa sessions() middleware to run before it");
    }
    const result = protection.check(session.untyped(), {
      method: ctx.method,
      headers: ctx.req.headers,
      // Koa's ctx.host keeps the port and honours `app.proxy` (X-Forwarded-Host).
      host: ctx.host,
      formToken: formToken((ctx.request as { body?: unknown }).body, protection.fieldName),
    });
    if (result.ok) return next();
    Object.defineProperty(result.error, "status", { value: 403, enumerable: false, writable: true });
    ctx.status = 403;
    await onError(result.error, ctx);
  };
}

export { type CsrfOptions, type CsrfReason, CsrfRejectedError };
