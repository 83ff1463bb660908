/**
 * `flaskCookieStore`: flagon sessions stored in Flask's own session cookie, so a Flask app and a
 * flagon app on one domain share a login (and pending flashes) in both directions.
 */
import { Buffer } from "node:buffer";
import { checkOptionNames, everyOptionName, type OptionHints } from "../config-check.js";
import { MAX_COOKIE_BYTES } from "../cookie/constants.js";
import { ConfigError, CookieError } from "../errors.js";
import type {
  ClientDecodeResult,
  ClientStore,
  FlashMessage,
  Lifecycle,
  SessionRecord,
} from "../stores/types.js";
import {
  encodeFlaskCookie,
  FLASK_COOKIE_NAME,
  FLASK_DEFAULT_MAX_AGE,
  FlaskKeys,
  type FlaskSecret,
  openFlaskCookie,
} from "./cookie.js";
import { setOwn } from "./json.js";
import { FlaskMarkup, FlaskTuple, FlaskUUID } from "./types.js";

/** Flask's reserved session keys (flask/helpers.py `flash`, flask/sessions.py `permanent`). */
const FLASHES_KEY = "_flashes";
const PERMANENT_KEY = "_permanent";
/** flagon's lifecycle facts (user, ref, own lifetime), written only once a session logged in or set one. */
const LIFECYCLE_KEY = "_flagon";

function readLifecycle(value: unknown): Lifecycle | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const y = value as Record<string, unknown>;
  if (typeof y.ref !== "string") return undefined;
  const out: Lifecycle = { ref: y.ref };
  if (typeof y.userId === "string") out.userId = y.userId;
  if (typeof y.userTag === "string") out.userTag = y.userTag;
  if (typeof y.loginAt === "number" && Number.isFinite(y.loginAt)) out.loginAt = y.loginAt;
  if (typeof y.lifetime === "number" && y.lifetime > 0) out.lifetime = y.lifetime;
  if (y.established === true) out.established = true;
  if (typeof y.meta === "object" && y.meta !== null && !Array.isArray(y.meta)) {
    const meta: Record<string, string> = {};
    for (const [key, entry] of Object.entries(y.meta)) if (typeof entry === "string") meta[key] = entry;
    out.meta = meta;
  }
  return out;
}
/** flagon's own minimum (docs/security.md §8); Flask itself accepts any non-empty key. */
const MIN_SECRET_BYTES = 32;

export interface FlaskCookieStoreOptions {
  /** Flask's `SECRET_KEY`. The first key signs; a list is the same as `secretKey` + `fallbacks`. */
  secretKey: FlaskSecret | readonly FlaskSecret[];
  /** Older keys that are still accepted (Flask 3.1's `SECRET_KEY_FALLBACKS`). @default [] */
  fallbacks?: readonly FlaskSecret[];
  /**
   * Flask's `PERMANENT_SESSION_LIFETIME` in seconds. Flask rejects every session cookie older than
   * this, permanent or not; `expiresAt` is the cookie's timestamp plus this. @default 2678400 (31 days)
   */
  maxAge?: number;
  /**
   * Accept keys shorter than 32 bytes, to share sessions with an existing Flask app whose key is
   * weak (rotate it instead when you can). @default false
   */
  allowShortSecret?: boolean;
}

/** Every `FlaskCookieStoreOptions` name, kept beside the interface (checked both ways at compile time). */
const FLASK_STORE_OPTION_NAMES = everyOptionName<FlaskCookieStoreOptions>()([
  "secretKey",
  "fallbacks",
  "maxAge",
  "allowShortSecret",
]);

/** Flask's config names, with where each lives here. */
const FLASK_STORE_HINTS: OptionHints = Object.freeze({
  secret: "spelled secretKey (Flask's SECRET_KEY)",
  secret_key: "spelled secretKey (Flask's SECRET_KEY)",
  SECRET_KEY: "spelled secretKey",
  SECRET_KEY_FALLBACKS: "spelled fallbacks",
  secretKeyFallbacks: "spelled fallbacks",
  PERMANENT_SESSION_LIFETIME: "spelled maxAge (seconds)",
  permanentSessionLifetime: "spelled maxAge (seconds)",
  salt: 'Flask\'s salt is fixed ("cookie-session"), as in Flask',
  SESSION_COOKIE_NAME:
    "the cookie's name is createSessions({ cookie: { name } }) (Flask's default is \"session\")",
  cookieName: "the cookie's name is createSessions({ cookie: { name } }) (Flask's default is \"session\")",
  name: "the cookie's name is createSessions({ cookie: { name } }) (Flask's default is \"session\")",
});

/** A client store that signs with Flask's keys, so `createSessions` needs no `secret` for it. */
export interface FlaskCookieStore extends ClientStore {
  readonly ownsKeys: true;
}

const byteLength = (secret: FlaskSecret): number =>
  typeof secret === "string" ? Buffer.byteLength(secret, "utf8") : secret.length;

/** Python truthiness of a decoded value (`session.permanent` is `bool(session.get("_permanent"))`). */
function pyTruthy(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") return value.length > 0;
  if (typeof value !== "object") return Boolean(value);
  if (Array.isArray(value) || value instanceof Uint8Array || value instanceof FlaskTuple)
    return value.length > 0;
  if (value instanceof FlaskMarkup) return value.html.length > 0;
  if (value instanceof Date) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null ? Object.keys(value).length > 0 : true;
}

const asText = (value: unknown): string | null =>
  typeof value === "string" ? value : value instanceof FlaskMarkup ? value.html : null;

/** Flask's `_flashes`: a list of `(category, message)` tuples. `null` when it is anything else. */
function readFlashes(value: unknown): FlashMessage[] | null {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return null;
  const flashes: FlashMessage[] = [];
  for (const [index, entry] of value.entries()) {
    const pair = entry instanceof FlaskTuple ? entry.items : Array.isArray(entry) ? entry : null;
    const category = pair?.length === 2 ? asText(pair[0]) : null;
    const message = pair?.length === 2 ? asText(pair[1]) : null;
    if (category === null || message === null) return null;
    // Flask's flashes have no ids; these only have to be unique within the cookie.
    flashes.push({ id: `flask-flash-${index}`, category, message });
  }
  return flashes;
}

/**
 * A client store whose cookie is Flask's `session` cookie (itsdangerous-signed tagged JSON).
 * It uses its own keys (Flask's), not `createSessions({ secret })`. Flask's `_flashes` become
 * flagon flashes, `_permanent` becomes `permanent`; everything else is session data.
 * Like every cookie store, it cannot merge concurrent requests (the last response wins), and a
 * cookie captured before logout stays valid until it expires.
 */
export function flaskCookieStore(options: FlaskCookieStoreOptions): FlaskCookieStore {
  if (options === null || typeof options !== "object") {
    throw new ConfigError("ERR_SECRET_MISSING", "flaskCookieStore needs { secretKey }");
  }
  checkOptionNames("flaskCookieStore", options, FLASK_STORE_OPTION_NAMES, FLASK_STORE_HINTS);
  const primary = options.secretKey;
  const secrets: FlaskSecret[] = [
    ...(Array.isArray(primary) ? primary : primary === undefined ? [] : [primary as FlaskSecret]),
    ...(options.fallbacks ?? []),
  ];
  const keys = new FlaskKeys(secrets); // ERR_SECRET_MISSING for none or an empty one
  if (!options.allowShortSecret && secrets.some((secret) => byteLength(secret) < MIN_SECRET_BYTES)) {
    throw new ConfigError(
      "ERR_SECRET_TOO_SHORT",
      `Flask secret keys must be at least ${MIN_SECRET_BYTES} bytes (set allowShortSecret to share an existing weak key)`,
    );
  }
  const maxAge = options.maxAge ?? FLASK_DEFAULT_MAX_AGE;
  if (!Number.isSafeInteger(maxAge) || maxAge <= 0) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      "flaskCookieStore maxAge must be a positive whole number of seconds",
    );
  }

  return {
    kind: "client",
    defaultCookieName: FLASK_COOKIE_NAME,
    ownsKeys: true,
    // Read back as these classes (a FlaskFloat reads back as a number: not listed).
    keepsClasses: [FlaskTuple, FlaskMarkup, FlaskUUID],
    // Flask's format: one timestamp (the last write), checked against PERMANENT_SESSION_LIFETIME.
    enforcedLifetime: maxAge,

    checkSessionOptions({ permanentLifetime, absoluteTimeout }) {
      if (absoluteTimeout !== undefined) {
        throw new ConfigError(
          "ERR_NOT_SUPPORTED",
          `flaskCookieStore cannot honour absoluteTimeout: Flask's cookie keeps only the time of its last write, ` +
            "not when the session began, so every write would restart the count. Use idleTimeout or " +
            "flaskCookieStore({ maxAge }) (Flask's PERMANENT_SESSION_LIFETIME) to bound a session, or a store " +
            "that keeps the creation time (cookieStore(), a server store) if sessions must end a fixed time after login",
        );
      }
      if (permanentLifetime !== undefined && permanentLifetime !== maxAge) {
        throw new ConfigError(
          "ERR_NOT_SUPPORTED",
          `flaskCookieStore enforces Flask's PERMANENT_SESSION_LIFETIME, maxAge ${maxAge} s, on every cookie ` +
            `(as Flask does); createSessions({ permanentLifetime: ${permanentLifetime} }) would promise another. ` +
            `Set flaskCookieStore({ maxAge: ${permanentLifetime} }) instead (and the same PERMANENT_SESSION_LIFETIME ` +
            "in the Flask app), and leave permanentLifetime out: it follows maxAge",
        );
      }
    },

    decode(value, context): ClientDecodeResult {
      const opened = openFlaskCookie(value, keys, { maxAge, now: context.now });
      if (!opened.ok) return { ok: false, reason: opened.reason };
      const flashes = readFlashes(opened.session[FLASHES_KEY]);
      if (flashes === null) return { ok: false, reason: "bad-payload" }; // _flashes that Flask would not read either
      const data: Record<string, unknown> = {};
      for (const key of Object.keys(opened.session)) {
        if (key !== FLASHES_KEY && key !== PERMANENT_KEY && key !== LIFECYCLE_KEY)
          setOwn(data, key, opened.session[key]);
      }
      const issuedAt = opened.issuedAt.getTime();
      const lifecycle = readLifecycle(opened.session[LIFECYCLE_KEY]);
      return {
        ok: true,
        stale: opened.keyIndex > 0,
        keyIndex: opened.keyIndex,
        record: {
          data,
          flashes,
          createdAt: issuedAt,
          lastSeenAt: issuedAt,
          expiresAt: opened.expiresAt.getTime(),
          permanent: pyTruthy(opened.session[PERMANENT_KEY]),
          ...(lifecycle === undefined ? {} : { lifecycle }),
        },
      };
    },

    encode(record: SessionRecord, context): string {
      const session: Record<string, unknown> = {};
      for (const key of Object.keys(record.data)) {
        if (key !== FLASHES_KEY && key !== PERMANENT_KEY && key !== LIFECYCLE_KEY)
          setOwn(session, key, record.data[key]);
      }
      // Only what a login or setLifetime() wrote: a plain session stays byte-for-byte what Flask writes.
      const lifecycle = record.lifecycle;
      if (lifecycle !== undefined && (lifecycle.userId !== undefined || lifecycle.lifetime !== undefined)) {
        session[LIFECYCLE_KEY] = { ...lifecycle };
      }
      // Flask writes `_flashes` only while messages are pending and `_permanent` once it is set.
      if (record.flashes.length > 0) {
        session[FLASHES_KEY] = record.flashes.map((flash) => FlaskTuple.of(flash.category, flash.message));
      }
      if (record.permanent) session[PERMANENT_KEY] = true;
      const cookie = encodeFlaskCookie(session, keys, { now: context.now });
      // RFC 6265bis §5.6: browsers drop a cookie whose name + value exceed 4096 bytes.
      const bytes = Buffer.byteLength(context.cookieName) + cookie.length;
      if (bytes > MAX_COOKIE_BYTES) {
        throw new CookieError(
          "ERR_COOKIE_TOO_LARGE",
          `Flask session cookie "${context.cookieName}" would be ${bytes} bytes (name and value), over the ${MAX_COOKIE_BYTES}-byte limit browsers keep`,
        );
      }
      return cookie;
    },
  };
}
