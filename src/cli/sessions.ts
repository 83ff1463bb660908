/**
 * What the CLI needs to know about flagon's own session cookies, in one place. The formats
 * themselves (grammar, MAC, AES-GCM, time rules) belong to src/crypto: the CLI only calls them.
 */

/** The purposes the session layer signs and seals with (src/stores/cookie.ts, src/session/sessions.ts). */
export const SESSION_COOKIE_PURPOSE = "session-cookie";
export const SESSION_ID_PURPOSE = "session-id";

/** flagon's default session cookie name, and the prefixed forms it takes on HTTPS. */
export const DEFAULT_NAMES = ["sid", "__Host-sid", "__Secure-sid"] as const;

/** `flagon sign`/`seal` mint cookies valid for flagon's default permanent lifetime: 31 days. */
export const DEFAULT_LIFETIME_SECONDS = 31 * 24 * 60 * 60;
