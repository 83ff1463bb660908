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
  | "ERR_SESSION_TOO_LARGE"
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

  /** `SessionValueError` is a TypeError (a value of the wrong kind) and still one of flagon's errors. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the class `instanceof` asks about (ConfigError, CookieError… inherit this method).
    // biome-ignore lint/complexity/noThisInStatic: the subclass, not FlagonError, is meant
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    // biome-ignore lint/complexity/noThisInStatic: only FlagonError itself counts SessionValueError in
    return this === FlagonError && value instanceof SessionValueError;
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

/**
 * A session value that would not read back as written (`session.set`, `flash`, `login` meta): a
 * `TypeError`, as for any argument of the wrong type, with the stable code the other errors carry;
 * `instanceof FlagonError` holds too.
 * The message names the path: `session.set("cart", …): cart.items[2].addedAt is a Date`.
 */
export class SessionValueError extends TypeError {
  readonly code: FlagonErrorCode = "ERR_VALUE_NOT_SERIALIZABLE";
  constructor(message: string) {
    super(message);
    this.name = "SessionValueError";
  }
}

/** A CSRF check failed. Adapters answer 403. */
export class CsrfError extends FlagonError {
  constructor(message: string) {
    super("ERR_CSRF", message);
  }
}
