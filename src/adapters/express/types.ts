/**
 * The types flagon/express adds to Express: `req.session`, `res.locals`' template globals, and the
 * `SessionData` interface apps augment. Its own module, so the middleware and CSRF modules both
 * read it without importing each other.
 */
import type { Session } from "../../session/session.js";
import type { GetFlashedMessages } from "../kit/templates.js";

export type { GetFlashedMessages };

/**
 * The shape of `req.session`'s data. Augment it to type your keys:
 *
 * ```ts
 * declare module "flagon/express" {
 *   interface SessionData { user?: string }
 * }
 * ```
 *
 * Then only the declared keys compile (`req.session.set("user", "leo")`; `set("usr", …)` and
 * `set("user", 42)` are errors). Left empty, any string key works (see `ExpressSessionData`).
 * For keys computed at run time, use `req.session.untyped()`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: apps declare their keys by augmenting it.
export interface SessionData {}

/** The data type of `req.session`: the augmented `SessionData`, or any string key when it declares none. */
export type ExpressSessionData = keyof SessionData extends never ? Record<string, unknown> : SessionData;

declare global {
  namespace Express {
    interface Request {
      /** This request's session (flagon/express). */
      session: Session<ExpressSessionData>;
    }
    // Set on every request by sessions() (required, so templates' helpers need no `!`).
    interface Locals {
      /** This request's session, for templates (`session.get("user")`). */
      session: Session<ExpressSessionData>;
      /** Flask's `get_flashed_messages(with_categories=false, category_filter=[])`. */
      get_flashed_messages: GetFlashedMessages;
      /** The session's CSRF token, for a hidden form field. */
      csrf_token: () => string;
    }
  }
}
