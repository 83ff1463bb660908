// flagon: sessions, cookies and flash messages, the way Flask does them.
export * from "./cookie/index.js";
export type { CheckResult, RejectReason, Verified } from "./crypto/index.js";
export { createSealer, createSigner, Keyring, randomToken } from "./crypto/index.js";
export * from "./errors.js";
export * from "./session/index.js";
export { applyChangeSet } from "./stores/apply.js";
export { type CookieStoreOptions, cookieStore } from "./stores/cookie.js";
export { type HybridStore, type HybridStoreOptions, hybridStore } from "./stores/hybrid.js";
export { type MemoryStoreOptions, memoryStore } from "./stores/memory.js";
export type {
  ChangeSet,
  ClientDecodeResult,
  ClientStore,
  ClientStoreContext,
  FlashMessage,
  ServerStore,
  SessionMeta,
  SessionRecord,
  SessionStore,
} from "./stores/types.js";
