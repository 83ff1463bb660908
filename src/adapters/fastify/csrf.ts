import type { FastifyPluginCallback, FastifyReply, FastifyRequest, preHandlerHookHandler } from "fastify";
import {
  type CsrfOptions,
  type CsrfReason,
  CsrfRejectedError,
  createCsrfProtection,
  csrfErrorHtml,
} from "../../session/csrf.js";
import { formToken } from "../kit/csrf.js";
// `request.session`'s declaration.
import type {} from "./types.js";

/** Answers a failed CSRF check (the status is already 403). */
export type FastifyCsrfErrorHandler = (
  error: CsrfRejectedError,
  request: FastifyRequest,
  reply: FastifyReply,
) => unknown;

export interface FastifyCsrfOptions extends CsrfOptions {
  /**
   * Renders the refusal. Throw the error instead to use Fastify's error handling (`error.statusCode`
   * is 403, `error.code` is `ERR_CSRF`, `error.reason` says which check failed).
   * @default a small HTML "403 Forbidden" page that names the reason
   */
  onError?: FastifyCsrfErrorHandler;
}

function defaultErrorPage(error: CsrfRejectedError, _request: FastifyRequest, reply: FastifyReply): unknown {
  return reply
    .header("cache-control", "no-store")
    .type("text/html; charset=utf-8")
    .send(csrfErrorHtml(error.reason));
}

/**
 * The CSRF check as a `preHandler` hook, for one route:
 * `app.post("/transfer", { preHandler: csrfPreHandler() }, handler)`. It runs after the body is
 * parsed (`@fastify/formbody`), so the token may come from the `csrf_token` field or the
 * `x-csrf-token` header; unsafe methods from another origin (`Origin`/`Sec-Fetch-Site`) fail too.
 * Failures answer 403 and the handler does not run.
 */
export function csrfPreHandler(options: FastifyCsrfOptions = {}): preHandlerHookHandler {
  const { onError = defaultErrorPage, ...csrfOptions } = options;
  const protection = createCsrfProtection(csrfOptions);

  return function csrfCheck(request, reply, done) {
    if (protection.isSafe(request.method)) {
      done();
      return;
    }
    const session = request.session as FastifyRequest["session"] | null | undefined;
    if (session === undefined || session === null) {
      done(new TypeError("csrfProtection needs the flagon/fastify sessions plugin registered in this scope"));
      return;
    }
    const result = protection.check(session.untyped(), {
      method: request.method,
      headers: request.headers,
      // Fastify 5's request.host keeps the port and honours `trustProxy` (X-Forwarded-Host).
      host: request.host,
      formToken: formToken(request.body, protection.fieldName),
    });
    if (result.ok) {
      done();
      return;
    }
    Object.defineProperty(result.error, "statusCode", { value: 403, enumerable: false, writable: true });
    reply.code(403);
    let answered: unknown;
    try {
      answered = onError(result.error, request, reply);
    } catch (error) {
      done(error as Error);
      return;
    }
    // A handler that sent the reply ends the chain (Fastify runs no handler after a sent reply).
    if (answered instanceof Promise) answered.catch((error: Error) => reply.send(error));
  };
}

function pluginBody(
  fastify: Parameters<FastifyPluginCallback<FastifyCsrfOptions>>[0],
  options: FastifyCsrfOptions,
  done: (error?: Error) => void,
): void {
  try {
    fastify.addHook("preHandler", csrfPreHandler(options));
  } catch (error) {
    done(error as Error); // misconfiguration: `ready()` rejects
    return;
  }
  done();
}

/**
 * CSRF protection for every route of a scope, after the sessions plugin and a body parser:
 * `await app.register(csrfProtection)` (or `register(csrfProtection, { trustedOrigins })`).
 * Register it inside an encapsulated plugin to protect only that plugin's routes, or use
 * `csrfPreHandler()` on single routes.
 */
export const csrfProtection: FastifyPluginCallback<FastifyCsrfOptions> = Object.assign(pluginBody, {
  [Symbol.for("skip-override")]: true,
  [Symbol.for("fastify.display-name")]: "flagon-csrf",
  [Symbol.for("plugin-meta")]: { name: "flagon-csrf", fastify: "5.x" },
}) as unknown as FastifyPluginCallback<FastifyCsrfOptions>;

export { type CsrfOptions, type CsrfReason, CsrfRejectedError };
