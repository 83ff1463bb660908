/**
 * One base class with stable codes: callers branch on `code`, never on message text.
 */
export type FlagonErrorCode =
  // configuration (thrown at construction)
  | "ERR_SECRET_MISSING"
  | "ERR_SECRET_TOO_SHORT"
  | "ERR_INVALID_OPTION"
  | "ERR_UNKNOWN_OPTION"
  | "ERR_INVALID_STORE"
  | "ERR_NOT_SUPPORTED"
  | "ERR_PEER_MISSING"
  // cookie grammar (thrown by serializeCookie)
  | "ERR_COOKIE_NAME"
  | "ERR_COOKIE_VALUE"
  | "ERR_COOKIE_DOMAIN"
  | "ERR_COOKIE_PATH"
  | "ERR_COOKIE_MAX_AGE"
  | "ERR_COOKIE_EXPIRES"
  | "ERR_COOKIE_SAMESITE"
  | "ERR_COOKIE_PRIORITY"
  | "ERR_COOKIE_PARTITIONED"
  | "ERR_PREFIX_SECURE"
  | "ERR_PREFIX_HOST"
  | "ERR_COOKIE_TOO_LARGE"
  // sessions
  | "ERR_SESSION_DESTROYED"
  | "ERR_SESSION_INVALID"
  | "ERR_SESSION_READ_ONLY"
  | "ERR_VALUE_NOT_SERIALIZABLE"
  | "ERR_STORE_UNAVAILABLE"
  | "ERR_STORE_FAILED"
  | "ERR_CSRF";

export interface FlagonErrorOptions {
  cause?: unknown;
}

export class FlagonError extends Error {
  readonly code: FlagonErrorCode;
  constructor(code: FlagonErrorCode, message: string, options?: FlagonErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** Misconfiguration: thrown when a factory runs, before any request. */
export class ConfigError extends FlagonError {}

/** Invalid input to `serializeCookie` (or a cookie that cannot be written). */
export class CookieError extends FlagonError {}
/** The name docs/security.md uses for a serialize-time refusal. */
export { CookieError as CookieSerializeError };

/**
 * A session store failed (down, locked, timed out). Adapters answer 503.
 * The message never contains a session id or cookie value.
 */
export class SessionStoreError extends FlagonError {
  constructor(
    message: string,
    options?: FlagonErrorOptions & { code?: "ERR_STORE_UNAVAILABLE" | "ERR_STORE_FAILED" },
  ) {
    super(options?.code ?? "ERR_STORE_UNAVAILABLE", message, options);
  }
}

/** A CSRF check failed. Adapters answer 403. */
export class CsrfError extends FlagonError {
  constructor(message: string) {
    super("ERR_CSRF", message);
  }
}
