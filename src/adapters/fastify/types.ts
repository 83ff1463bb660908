/**
 * The types flagon/fastify adds to Fastify: `request.session`, `fastify.sessions`, and the
 * `SessionData` interface apps augment. Its own module, so the plugin and CSRF modules both read it
 * without importing each other.
 */
import type { Session } from "../../session/session.js";
import type { Sessions } from "../../session/sessions.js";
import type { GetFlashedMessages } from "../kit/templates.js";

export type { GetFlashedMessages };

/**
 * The shape of `request.session`'s data. Augment it to type your keys:
 *
 * ```ts
 * declare module "flagon/fastify" {
 *   interface SessionData { user?: string }
 * }
 * ```
 *
 * Then only the declared keys compile (`request.session.set("user", "leo")`; `set("usr", …)` and
 * `set("user", 42)` are errors). Left empty, any string key works (see `FastifySessionData`).
 * For keys computed at run time, use `request.session.untyped()`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: apps declare their keys by augmenting it.
export interface SessionData {}

/** The data type of `request.session`: the augmented `SessionData`, or any string key when it declares none. */
export type FastifySessionData = keyof SessionData extends never ? Record<string, unknown> : SessionData;

declare module "fastify" {
  interface FastifyRequest {
    /** This request's session (flagon/fastify), in the scopes where the plugin is registered. */
    session: Session<FastifySessionData>;
  }
  interface FastifyInstance {
    /** The session core of this scope (flagon/fastify): `load`, `prepare`, `close`, … */
    sessions: Sessions<FastifySessionData>;
  }
}
