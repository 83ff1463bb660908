/**
 * The default answer to a session store failure, the same on every adapter: 503, `Retry-After`,
 * `Cache-Control: no-store`, a plain-text body. The process keeps serving; the client retries.
 */
import type { ServerResponse } from "node:http";
import { SessionStoreError } from "../../errors.js";

/** Seconds a client should wait before retrying after a store failure. */
export const RETRY_AFTER_SECONDS = 5;

const BODY = "Service Unavailable";

/** The default 503 as a Fetch `Response` (Hono and the other Fetch adapters). */
export function storeUnavailableResponse(retryAfter: number | false = RETRY_AFTER_SECONDS): Response {
  const headers: Record<string, string> = {
    "content-type": "text/plain; charset=UTF-8",
    "cache-control": "no-store",
  };
  if (retryAfter !== false) headers["retry-after"] = String(retryAfter);
  return new Response(BODY, { status: 503, headers });
}

/** The headers of the default 503, for adapters that write them on their own response object. */
export function storeUnavailableHeaders(
  retryAfter: number | false = RETRY_AFTER_SECONDS,
): Record<string, string> {
  const headers: Record<string, string> = { "Cache-Control": "no-store" };
  if (retryAfter !== false) headers["Retry-After"] = String(retryAfter);
  return headers;
}

/** The default 503's body (plain text). */
export const STORE_UNAVAILABLE_BODY = BODY;

/**
 * Marks a store failure for a framework's own error handling and returns it: `status` and
 * `statusCode` 503, `expose: false` (the message is not the page), and `headers` with
 * `Retry-After` and `Cache-Control: no-store`. Fastify's default error handler, Koa's
 * `ctx.onerror` and connect's finalhandler all read these fields. Non-enumerable (loggers that
 * print own properties stay quiet) but writable (Koa assigns `err.status`). Other errors, and a
 * store error already marked, are returned unchanged.
 */
export function asStoreUnavailable(
  error: unknown,
  retryAfter: number | false = RETRY_AFTER_SECONDS,
): unknown {
  if (!(error instanceof SessionStoreError) || "status" in error) return error;
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (retryAfter !== false) headers["retry-after"] = String(retryAfter);
  for (const [name, value] of [
    ["status", 503],
    ["statusCode", 503],
    ["expose", false],
    ["headers", headers],
  ] as const) {
    Object.defineProperty(error, name, { value, writable: true, configurable: true, enumerable: false });
  }
  return error;
}

/**
 * Writes the default 503 on a node:http response whose head is not sent yet (the caller has
 * removed the failed response's headers).
 */
export function sendStoreUnavailable(
  res: ServerResponse,
  retryAfter: number | false = RETRY_AFTER_SECONDS,
): void {
  res.statusCode = 503;
  for (const [name, value] of Object.entries(storeUnavailableHeaders(retryAfter))) res.setHeader(name, value);
  res.setHeader("Content-Type", "text/plain; charset=UTF-8");
  res.end(BODY);
}
