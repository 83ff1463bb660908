/**
 * The types flagon/koa adds to Koa: `ctx.session`, `ctx.state`'s template globals, and the
 * `SessionData` interface apps augment. Its own module, so the middleware and CSRF modules both
 * read it without importing each other.
 */
import type { Session } from "../../session/session.js";
import type { GetFlashedMessages } from "../kit/templates.js";

export type { GetFlashedMessages };

/**
 * The shape of `ctx.session`'s data. Augment it to type your keys:
 *
 * ```ts
 * declare module "flagon/koa" {
 *   interface SessionData { user?: string }
 * }
 * ```
 *
 * Then only the declared keys compile (`ctx.session.set("user", "leo")`; `set("usr", …)` and
 * `set("user", 42)` are errors). Left empty, any string key works (see `KoaSessionData`).
 * For keys computed at run time, use `ctx.session.untyped()`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: apps declare their keys by augmenting it.
export interface SessionData {}

/** The data type of `ctx.session`: the augmented `SessionData`, or any string key when it declares none. */
export type KoaSessionData = keyof SessionData extends never ? Record<string, unknown> : SessionData;

/** What `sessions()` puts in `ctx.state` for templates (koa-views and friends render `ctx.state`). */
export interface SessionState {
  /** This request's session, for templates (`session.get("user")`). */
  session: Session<KoaSessionData>;
  /** Flask's `get_flashed_messages(with_categories=false, category_filter=[])`. */
  get_flashed_messages: GetFlashedMessages;
  /** The session's CSRF token, for a hidden form field. */
  csrf_token: () => string;
}

declare module "koa" {
  interface DefaultContext {
    /** This request's session (flagon/koa). */
    session: Session<KoaSessionData>;
  }
}
