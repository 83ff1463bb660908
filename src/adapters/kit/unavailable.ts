/**
 * The default answer to a session store failure, the same on every adapter: 503, `Retry-After`,
 * `Cache-Control: no-store`, a plain-text body. The process keeps serving; the client retries.
 */

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
