import { checkOptionNames, everyOptionName, type OptionHints } from "../config-check.js";
import { MAX_COOKIE_BYTES } from "../cookie/index.js";
import type { Keyring } from "../crypto/keyring.js";
import { createSealer } from "../crypto/sealer.js";
import { createSigner } from "../crypto/signer.js";
import { ConfigError, CookieError } from "../errors.js";
import { invalidOption } from "./options.js";
import type {
  ClientDecodeResult,
  ClientStore,
  ClientStoreContext,
  FlashMessage,
  Lifecycle,
  SessionRecord,
} from "./types.js";

export interface CookieStoreOptions {
  /**
   * `true`: AES-256-GCM sealed, the browser can neither read nor change it.
   * `false`: signed (HMAC-SHA256) readable JSON, for data that is not secret.
   * @default true
   */
  encrypt?: boolean;
  /**
   * How many cookies a session may be split over when it outgrows one (`sid.0`, `sid.1`, …, each
   * Set-Cookie line at most 4096 bytes; docs/sessions.md, "Chunked cookies"). Three hold about 12 KB of
   * cookie value (some 8.5 KB of JSON); a fourth would push the request past Node's default 16 KiB limit
   * on request headers (`--max-http-header-size`), and every request of that visitor would get a 431.
   * `1`: one cookie, a larger session is refused with `ERR_COOKIE_TOO_LARGE`.
   * @default 3
   */
  maxChunks?: number;
}

/** Default `maxChunks`: 3 × 4 KB stays under Node's 16 KiB header limit with the browser's other headers. */
export const DEFAULT_MAX_CHUNKS = 3;
/** More chunks than this never reach a server with its default header limits (nginx 8 KiB, Node 16 KiB). */
export const MAX_MAX_CHUNKS = 10;

/** Every `CookieStoreOptions` name, kept beside the interface (checked both ways at compile time). */
const COOKIE_STORE_OPTION_NAMES = everyOptionName<CookieStoreOptions>()(["encrypt", "maxChunks"]);

/** What cookie-session and iron-session options became (everything but `encrypt` lives on createSessions). */
const COOKIE_STORE_HINTS: OptionHints = Object.freeze({
  sealed: "spelled encrypt (true seals, false signs)",
  signed:
    "a cookie store always signs; encrypt: false signs without sealing, encrypt: true (the default) seals",
  secret: "the keys are createSessions({ secret }), shared by every store",
  secrets: "the keys are createSessions({ secret: [newest, ...older] })",
  keys: "the keys are createSessions({ secret: [newest, ...older] })",
  password: "the keys are createSessions({ secret }) (at least 32 characters)",
  name: "the cookie's name is createSessions({ cookie: { name } })",
  cookieName: "the cookie's name is createSessions({ cookie: { name } })",
  cookie: "cookie attributes are createSessions({ cookie: { ... } })",
  cookieOptions: "cookie attributes are createSessions({ cookie: { ... } })",
  maxAge: "use createSessions({ permanentLifetime }) (seconds) and session.permanent = true",
  ttl: "use createSessions({ permanentLifetime }) (seconds) and session.permanent = true",
});

/** The JSON inside a flagon session cookie (format version 1, documented in the README). */
interface CookiePayload {
  v: 1;
  /** user data */
  d: Record<string, unknown>;
  /** pending flashes as [category, message] */
  f?: Array<[string, string]>;
  /** createdAt, lastSeenAt, expiresAt (ms) */
  c: number;
  l: number;
  e: number;
  /** permanent */
  p?: 1;
  /** lifecycle: ref, user, login time, own lifetime (src/stores/types.ts `Lifecycle`) */
  y?: Lifecycle;
}

function isLifecycle(value: unknown): value is Lifecycle {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const y = value as Record<string, unknown>;
  return (
    typeof y.ref === "string" &&
    (y.userId === undefined || typeof y.userId === "string") &&
    (y.userTag === undefined || typeof y.userTag === "string") &&
    (y.loginAt === undefined || Number.isFinite(y.loginAt)) &&
    (y.lifetime === undefined || (typeof y.lifetime === "number" && y.lifetime > 0)) &&
    (y.meta === undefined ||
      (typeof y.meta === "object" &&
        y.meta !== null &&
        Object.values(y.meta).every((entry) => typeof entry === "string")))
  );
}

function isPayload(value: unknown): value is CookiePayload {
  if (typeof value !== "object" || value === null) return false;
  const p = value as Record<string, unknown>;
  return (
    p.v === 1 &&
    typeof p.d === "object" &&
    p.d !== null &&
    !Array.isArray(p.d) &&
    Number.isFinite(p.c) &&
    Number.isFinite(p.l) &&
    Number.isFinite(p.e) &&
    (p.y === undefined || isLifecycle(p.y)) &&
    (p.f === undefined ||
      (Array.isArray(p.f) &&
        p.f.every((f) => Array.isArray(f) && typeof f[0] === "string" && typeof f[1] === "string")))
  );
}

/**
 * The whole session inside the cookie: nothing on the server. It cannot keep the server stores'
 * guarantees of no lost updates and surviving flashes (concurrent requests each send back their
 * own copy: the last response wins), and a cookie captured before logout stays valid until its
 * embedded expiry (docs/sessions.md, "Stores").
 */
export function cookieStore(options: CookieStoreOptions = {}): ClientStore {
  checkOptionNames("cookieStore", options, COOKIE_STORE_OPTION_NAMES, COOKIE_STORE_HINTS);
  const encrypt = options.encrypt ?? true;
  if (typeof encrypt !== "boolean") {
    throw invalidOption(
      "cookieStore",
      "encrypt",
      "true (sealed, the default) or false (signed, readable by the visitor)",
      encrypt,
    );
  }
  const maxChunks = options.maxChunks ?? DEFAULT_MAX_CHUNKS;
  if (!Number.isInteger(maxChunks) || maxChunks < 1 || maxChunks > MAX_MAX_CHUNKS) {
    throw invalidOption(
      "cookieStore",
      "maxChunks",
      `a whole number from 1 (one cookie) to ${MAX_MAX_CHUNKS}; past 3 a visitor's requests exceed Node's default 16 KiB header limit, so keep large sessions on the server (hybridStore)`,
      maxChunks,
    );
  }
  const codecs = new WeakMap<Keyring, ReturnType<typeof codecFor>>();

  function codecFor(keyring: Keyring) {
    if (encrypt) {
      const sealer = createSealer(keyring, "session-cookie");
      return { write: sealer.seal, read: sealer.check };
    }
    const signer = createSigner(keyring, "session-cookie");
    return { write: signer.sign, read: signer.check };
  }

  function codec(context: ClientStoreContext) {
    const keyring = context.keyring;
    if (keyring === undefined)
      throw new ConfigError("ERR_SECRET_MISSING", "cookieStore needs createSessions({ secret })");
    let found = codecs.get(keyring);
    if (found === undefined) {
      found = codecFor(keyring);
      codecs.set(keyring, found);
    }
    return found;
  }

  return {
    kind: "client",
    maxChunks,
    encode(record: SessionRecord, context: ClientStoreContext): string {
      const payload: CookiePayload = {
        v: 1,
        d: record.data,
        c: record.createdAt,
        l: record.lastSeenAt,
        e: record.expiresAt,
      };
      if (record.flashes.length > 0)
        payload.f = record.flashes.map((flash) => [flash.category, flash.message]);
      if (record.permanent) payload.p = 1;
      if (record.lifecycle !== undefined) payload.y = record.lifecycle;
      const value = codec(context).write(context.cookieName, JSON.stringify(payload), {
        now: context.now,
        expiresAt: record.expiresAt,
      });
      // RFC 6265bis §5.6 limits name + value (the "=" is not counted), as serializeCookie does. With
      // chunks allowed, the core cuts a longer value (and refuses one that `maxChunks` cookies cannot hold).
      if (maxChunks > 1) return value;
      const bytes = Buffer.byteLength(context.cookieName) + value.length;
      if (bytes > MAX_COOKIE_BYTES) {
        throw new CookieError(
          "ERR_COOKIE_TOO_LARGE",
          `session cookie "${context.cookieName}" would be ${bytes} bytes (name and value), over the ${MAX_COOKIE_BYTES}-byte limit browsers keep (maxChunks 1); store less in the session, allow chunks (cookieStore({ maxChunks: 3 })), or keep it on the server: hybridStore({ cookie, server }) or a server store (memory, SQLite, Redis, Postgres)`,
        );
      }
      return value;
    },
    decode(value: string, context: ClientStoreContext): ClientDecodeResult {
      // The format says why it refuses (malformed, bad-mac, expired, not-yet-valid): passed on as is.
      const verified = codec(context).read(context.cookieName, value, { now: context.now });
      if (!verified.ok) return { ok: false, reason: verified.reason };
      let payload: unknown;
      try {
        payload = JSON.parse(verified.value);
      } catch {
        return { ok: false, reason: "bad-payload" };
      }
      if (!isPayload(payload)) return { ok: false, reason: "bad-payload" };
      const flashes: FlashMessage[] = (payload.f ?? []).map(([category, message], index) => ({
        id: `c${index}`,
        category,
        message,
      }));
      const record: SessionRecord = {
        createdAt: payload.c,
        lastSeenAt: payload.l,
        expiresAt: payload.e,
        permanent: payload.p === 1,
        data: payload.d,
        flashes,
      };
      if (payload.y !== undefined) record.lifecycle = payload.y;
      return { ok: true, stale: verified.keyIndex > 0, keyIndex: verified.keyIndex, record };
    },
  };
}
