import type { SessionStoreError } from "../errors.js";
import type { SessionLogger } from "./options.js";

/** Errors already reported: one failure is logged once, however many layers see it. */
const reported = new WeakSet<object>();

function describeCause(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (typeof cause !== "object") return String(cause);
  const { code, name, message } = cause as { code?: unknown; name?: unknown; message?: unknown };
  const label = typeof code === "string" ? code : typeof name === "string" ? name : "Error";
  // A driver may echo its command's arguments: store keys (sha256 hex of an id) are elided.
  const text = typeof message === "string" ? message.replace(/\b[0-9a-f]{64}\b/g, "<key>") : "";
  return text !== "" ? `${label}: ${text}` : label;
}

/** The store's own message when it says what failed, else which operation did. */
function headline(error: SessionStoreError, operation: string): string {
  return error.message.startsWith("session store")
    ? error.message
    : `session store ${operation} failed: ${error.message}`;
}

/**
 * Logs a store failure once, at warn level: to `logger.warn` when the app gave one, else to
 * `console.warn`, so an outage is seen even when the app answers the 503 itself. Store errors
 * never carry ids or secrets (the stores' contract); the cause is reduced to its code and message.
 * True when this call reported it (the first time).
 */
export function reportStoreFailure(
  logger: SessionLogger,
  error: SessionStoreError,
  operation: string,
): boolean {
  if (reported.has(error)) return false;
  reported.add(error);
  const fields: Record<string, unknown> = { code: error.code, operation };
  const cause = describeCause(error.cause);
  if (cause !== undefined) fields.cause = cause;
  if (logger.warn) {
    logger.warn(headline(error, operation), fields);
    return true;
  }
  console.warn(`flagon: ${headline(error, operation)} (${error.code})${cause ? ` [cause: ${cause}]` : ""}`);
  return true;
}
