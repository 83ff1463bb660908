import { type CookieHeaderInput, type ParseCookiesOptions, parseCookies } from "./parse.js";
import { type CookieAttributes, hasSecurePrefix, serializeCookie } from "./serialize.js";

/** Attributes that identify the cookie to delete: they must match the ones it was set with. */
export type CookieDeleteAttributes = Pick<
  CookieAttributes,
  "path" | "domain" | "secure" | "partitioned" | "sameSite"
>;

/** Options for {@link CookieJar}: the same header cap as {@link parseCookies}. */
export type CookieJarOptions = ParseCookiesOptions;

// Thu, 01 Jan 1970 00:00:00 GMT: for browsers that ignore Max-Age (RFC 6265bis §5.6.1).
const EPOCH_MS = 0;
const DELETE_KEYS = ["path", "domain", "secure", "partitioned", "sameSite"] as const;

interface Queued {
  /** The value `get()` now reports; `undefined` after `delete()`. */
  readonly value: string | undefined;
  readonly header: string;
}

/**
 * The cookies of one request/response pair: reads the request's Cookie header(s), queues Set-Cookie headers.
 *
 * - `set` and `delete` validate at once (a bad name, an oversized value or a broken prefix rule throws
 *   `CookieError` at the call, never later when headers are sent).
 * - After `set`/`delete`, `get`, `has` and `all` reflect the queued change (like a browser jar would after the
 *   response), so code later in the same request sees what it wrote.
 * - `setCookieHeaders()` returns exactly one Set-Cookie per name; the last `set`/`delete` of a name wins
 *   (RFC 6265bis §4.1.1: servers SHOULD NOT send more than one Set-Cookie for the same cookie-name).
 */
export class CookieJar {
  readonly #request: Record<string, string>;
  readonly #queued = new Map<string, Queued>();

  constructor(header?: CookieHeaderInput, options?: CookieJarOptions) {
    this.#request = parseCookies(header, options);
  }

  /** The cookie's value: the queued one if this request set or deleted it, else the request's. */
  get(name: string): string | undefined {
    const queued = this.#queued.get(name);
    if (queued !== undefined) return queued.value;
    return typeof name === "string" ? this.#request[name] : undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** A frozen, null-prototype snapshot of every cookie as `get` sees it. */
  all(): Readonly<Record<string, string>> {
    const snapshot: Record<string, string> = Object.assign(Object.create(null), this.#request);
    for (const [name, { value }] of this.#queued) {
      if (value === undefined) delete snapshot[name];
      else snapshot[name] = value;
    }
    return Object.freeze(snapshot);
  }

  /** Queue `Set-Cookie: name=value; …`. Throws `CookieError` now if the cookie cannot be written. */
  set(name: string, value: string, attributes?: CookieAttributes): void {
    const header = serializeCookie(name, value, attributes);
    this.#queued.set(name, { value, header });
  }

  /**
   * Queue `Set-Cookie: name=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT` with the given Path, Domain,
   * Secure, Partitioned and SameSite (they must match the cookie's for the browser to remove it). `Secure` is
   * added for `__Secure-`/`__Host-` names, which browsers only accept with it.
   */
  delete(name: string, attributes?: CookieDeleteAttributes): void {
    const removal: Record<string, unknown> = { maxAge: 0, expires: new Date(EPOCH_MS) };
    if (attributes !== undefined && attributes !== null) {
      // Own keys only, like serializeCookie: nothing inherited or polluted is copied.
      for (const key of DELETE_KEYS) if (Object.hasOwn(attributes, key)) removal[key] = attributes[key];
    }
    if (typeof name === "string" && hasSecurePrefix(name)) removal.secure = true;
    const header = serializeCookie(name, "", removal as CookieAttributes);
    this.#queued.set(name, { value: undefined, header });
  }

  /** One Set-Cookie value per queued name, in the order names were first queued. */
  setCookieHeaders(): string[] {
    return Array.from(this.#queued.values(), (queued) => queued.header);
  }

  /** Append every queued Set-Cookie to `headers`. Call it once per response. */
  applyTo(headers: Headers): void {
    for (const queued of this.#queued.values()) headers.append("Set-Cookie", queued.header);
  }
}
