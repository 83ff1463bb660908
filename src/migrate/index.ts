/**
 * `flagon/migrate`: read the live sessions of the library an app leaves (express-session,
 * cookie-session, iron-session, Django, Rails) so that switching to flagon logs nobody out
 * (docs/migrating.md). Each reader goes in `createSessions({ migrateFrom: [...] })`.
 */
export type { CookieSessionOptions, CookieSessionResult } from "./cookie-session.js";
export {
  COOKIE_SESSION_COOKIE_NAME,
  cookieSession,
  openCookieSession,
  peekCookieSession,
} from "./cookie-session.js";
export type { DjangoCookieInfo, DjangoCookieResult, DjangoSignedCookiesOptions } from "./django.js";
export {
  DJANGO_COOKIE_NAME,
  DJANGO_DEFAULT_MAX_AGE,
  DJANGO_SESSION_SALT,
  DjangoKeys,
  djangoSignedCookies,
  openDjangoSignedCookie,
  peekDjangoSignedCookie,
} from "./django.js";
export type {
  ExpressSessionIdResult,
  ExpressSessionOptions,
  ExpressSessionStoreLike,
} from "./express-session.js";
export {
  EXPRESS_SESSION_COOKIE_NAME,
  expressSession,
  unsignExpressSessionCookie,
} from "./express-session.js";
export type { IronPassword, IronResult, IronSessionOptions } from "./iron-session.js";
export { ironPasswords, ironSession, looksIronSealed, unsealIronSession } from "./iron-session.js";
export type {
  RailsCookieInfo,
  RailsCookieResult,
  RailsDigest,
  RailsEncryptedCookieOptions,
} from "./rails.js";
export {
  looksRailsEncrypted,
  openRailsCookie,
  RAILS_COOKIE_SALT,
  RailsKeys,
  railsEncryptedCookie,
} from "./rails.js";
export type {
  LegacyCookie,
  LegacyData,
  LegacyReader,
  LegacyReaderOptions,
  LegacyReadResult,
  LegacyRejectReason,
} from "./reader.js";
