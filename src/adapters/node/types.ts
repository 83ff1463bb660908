/**
 * The types of flagon/node, in their own module (the wrapper and the CSRF check both read them).
 * node:http has no request type to augment safely (Express's `Request` extends it and declares
 * its own `session`), so the data type is a type parameter, as in flagon/hono.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Session, SessionData, SessionShape } from "../../session/session.js";

/** A request that went through `withSessions`: `req.session` is its session. */
export type SessionRequest<T extends SessionShape<T> = SessionData> = IncomingMessage & {
  session: Session<T>;
};

/** Connect's `next`: no argument continues, an error goes to the error handlers. */
export type NextFunction = (error?: unknown) => void;

/** A node:http handler that uses the session; `next` is there when a connect-style app called it. */
export type SessionHandler<T extends SessionShape<T> = SessionData> = (
  req: SessionRequest<T>,
  res: ServerResponse,
  next?: NextFunction,
) => unknown;

/** A node:http request listener that is also connect-style middleware. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => void;
