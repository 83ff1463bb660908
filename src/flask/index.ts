/**
 * `flagon/flask`: read and write Flask's own session cookies (docs/flask.md).
 */
export type {
  DecodeFlaskCookieOptions,
  EncodeFlaskCookieOptions,
  FlaskCookieInfo,
  FlaskCookieResult,
  FlaskRejection,
  FlaskSecret,
  FlaskSecrets,
  PeekedFlaskCookie,
} from "./cookie.js";
export {
  decodeFlaskCookie,
  encodeFlaskCookie,
  FLASK_COOKIE_NAME,
  FLASK_DEFAULT_MAX_AGE,
  FlaskKeys,
  flaskTimeRejection,
  openFlaskCookie,
  peekFlaskCookie,
} from "./cookie.js";
export type { FlaskCookieStore, FlaskCookieStoreOptions } from "./store.js";
export { flaskCookieStore } from "./store.js";
export type { TypedJSON } from "./typed-json.js";
export { fromTypedJSON, toTypedJSON } from "./typed-json.js";
export { FlaskFloat, FlaskMarkup, FlaskTuple, FlaskUUID } from "./types.js";
