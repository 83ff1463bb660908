/** The context variables flagon/hono adds, in their own module (the middleware and CSRF both read them). */
import type { Session, SessionData, SessionShape } from "../../session/session.js";

/**
 * The `Variables` this middleware adds to Hono's context:
 * `new Hono<{ Variables: SessionVariables<{ user?: string }> }>()`, then `c.get("session")`.
 * The data type may be a `type` alias or an `interface`; its keys are the only ones the session accepts.
 */
export interface SessionVariables<T extends SessionShape<T> = SessionData> {
  session: Session<T>;
}

/** A Hono `Env` with only the session variable. */
export interface SessionEnv<T extends SessionShape<T> = SessionData> {
  Variables: SessionVariables<T>;
}
