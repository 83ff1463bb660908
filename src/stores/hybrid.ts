/**
 * `hybridStore`: a session lives sealed in the cookie while it is small (no server I/O at all), and moves
 * to a server store when its cookie would outgrow `maxCookieBytes`; its cookie then carries a signed id.
 * The core does the moving (src/session/sessions.ts, `overflow`); this module only checks and joins.
 */
import { checkOptionNames, everyOptionName, type OptionHints } from "../config-check.js";
import { MAX_COOKIE_BYTES } from "../cookie/constants.js";
import { ConfigError } from "../errors.js";
import { cookieStore } from "./cookie.js";
import { invalidOption } from "./options.js";
import type { ClientStore, ServerStore } from "./types.js";

export interface HybridStoreOptions {
  /**
   * Where small sessions live: a flagon cookie store (sealed or signed; its `maxChunks` applies while the
   * session is in the cookie).
   * @default cookieStore() (sealed)
   */
  cookie?: ClientStore;
  /** Where a session goes once its cookie would be larger than `maxCookieBytes`: memory, SQLite, Redis, Postgres. */
  server: ServerStore;
  /**
   * The largest session cookie, name and value in bytes (over all chunks), before the session moves to
   * `server`. Up to 4096 the session stays one cookie; more needs a cookie store whose `maxChunks` can hold it.
   * @default 4096 (one cookie)
   */
  maxCookieBytes?: number;
}

const HYBRID_STORE_OPTION_NAMES = everyOptionName<HybridStoreOptions>()([
  "cookie",
  "server",
  "maxCookieBytes",
]);

const HYBRID_STORE_HINTS: OptionHints = Object.freeze({
  store: "spelled server (the server store) and cookie (the cookie store)",
  client: "spelled cookie (a cookie store, e.g. cookieStore())",
  threshold: "spelled maxCookieBytes",
  maxBytes: "spelled maxCookieBytes",
  maxChunks: "chunks are the cookie store's: hybridStore({ cookie: cookieStore({ maxChunks }) })",
});

/** A cookie store whose sessions that outgrow the cookie move to a server store (`overflow`). */
export interface HybridStore extends ClientStore {
  readonly overflow: { readonly server: ServerStore; readonly maxCookieBytes: number };
}

/**
 * Sessions in the cookie while small, on the server once large (docs/sessions.md, "Hybrid store"). A
 * session that moved to the server stays there until it ends or is regenerated (`login()`), when it is
 * written whole again and goes back to the cookie if it fits (its server record is then deleted).
 */
export function hybridStore(options: HybridStoreOptions): HybridStore {
  if (typeof options !== "object" || options === null) {
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      "hybridStore needs { server }: hybridStore({ server: sqliteStore({ path }) })",
    );
  }
  checkOptionNames("hybridStore", options, HYBRID_STORE_OPTION_NAMES, HYBRID_STORE_HINTS);
  const server = options.server as Partial<ServerStore> | undefined;
  if (
    typeof server !== "object" ||
    server === null ||
    server.kind !== "server" ||
    typeof server.get !== "function" ||
    typeof server.apply !== "function" ||
    typeof server.destroy !== "function"
  ) {
    throw invalidOption(
      "hybridStore",
      "server",
      'a server store (memoryStore(), sqliteStore({ path }) from "flagon/sqlite", redisStore, postgresStore)',
      options.server,
    );
  }
  const cookie = options.cookie ?? cookieStore();
  if (
    typeof cookie !== "object" ||
    cookie === null ||
    cookie.kind !== "client" ||
    typeof cookie.encode !== "function" ||
    typeof cookie.decode !== "function"
  ) {
    throw invalidOption("hybridStore", "cookie", "a cookie store (cookieStore())", cookie);
  }
  if (cookie.ownsKeys === true || cookie.overflow !== undefined) {
    // Flask's app could not read the id cookie of a session that moved; a hybrid inside a hybrid is a mistake.
    throw new ConfigError(
      "ERR_INVALID_OPTION",
      `hybridStore: cookie must be a flagon cookie store (cookieStore()), got ${cookie.ownsKeys === true ? "a store with its own keys (Flask's)" : "another hybridStore"}`,
    );
  }
  const maxChunks = cookie.maxChunks ?? 1;
  const maxCookieBytes = options.maxCookieBytes ?? MAX_COOKIE_BYTES;
  const most = maxChunks * MAX_COOKIE_BYTES;
  if (!Number.isSafeInteger(maxCookieBytes) || maxCookieBytes < 256 || maxCookieBytes > most) {
    throw invalidOption(
      "hybridStore",
      "maxCookieBytes",
      `a whole number of bytes from 256 to ${most} (${maxChunks} cookie${maxChunks === 1 ? "" : "s"} of ${MAX_COOKIE_BYTES}: the cookie store's maxChunks)`,
      maxCookieBytes,
    );
  }
  const store: HybridStore = {
    kind: "client",
    encode: (record, context) => cookie.encode(record, context),
    decode: (value, context) => cookie.decode(value, context),
    maxChunks,
    overflow: Object.freeze({ server: server as ServerStore, maxCookieBytes }),
  };
  if (cookie.defaultCookieName !== undefined) {
    return Object.freeze({ ...store, defaultCookieName: cookie.defaultCookieName });
  }
  return Object.freeze(store);
}
