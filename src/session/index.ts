export type { FlashOptions } from "./flash.js";
export {
  DEFAULT_PERMANENT_LIFETIME,
  type SessionCookieOptions,
  type SessionLogger,
  type SessionsOptions,
  type StandardSchemaLike,
} from "./options.js";
export { RESERVED_PREFIX, Session, type SessionData } from "./session.js";
export { createSessions, type SessionInput, type Sessions, storeKey } from "./sessions.js";
