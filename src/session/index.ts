export {
  type CsrfInput,
  type CsrfOptions,
  type CsrfProtection,
  type CsrfReason,
  CsrfRejectedError,
  type CsrfResult,
  createCsrfProtection,
  csrfErrorHtml,
  DEFAULT_CSRF_FIELD,
  DEFAULT_CSRF_HEADER,
  DEFAULT_SAFE_METHODS,
} from "./csrf.js";
export type {
  CommitEvent,
  LoadEvent,
  SessionEvent,
  SessionEventListener,
  StoreErrorEvent,
  StoreTiming,
} from "./events.js";
export type { FlashOptions } from "./flash.js";
export {
  DEFAULT_PERMANENT_LIFETIME,
  type SessionCookieOptions,
  type SessionLogger,
  type SessionsOptions,
  type StandardSchemaLike,
} from "./options.js";
export {
  applyPlanToHeaders,
  applyPlanToResponse,
  type CommitPlan,
  mergeVary,
  planCookieLines,
} from "./plan.js";
export {
  RESERVED_PREFIX,
  Session,
  type SessionData,
  type SessionShape,
  type SessionStatus,
} from "./session.js";
export {
  createSessions,
  type SessionInput,
  type Sessions,
  storeKey,
  type UserSession,
} from "./sessions.js";
