/**
 * The types flagon/sveltekit adds to SvelteKit: `event.locals.session` through `App.Locals`, and the
 * `SessionData` interface apps augment. Its own module, so the hook and CSRF modules both read it.
 */
import type { Session } from "../../session/session.js";

/**
 * The shape of `event.locals.session`'s data. Augment it to type your keys (in `src/app.d.ts`):
 *
 * ```ts
 * declare module "flagon/sveltekit" {
 *   interface SessionData { user?: string }
 * }
 * ```
 *
 * Left empty, any string key works (see `SvelteKitSessionData`); `session.untyped()` is the escape hatch.
 */
// biome-ignore lint/suspicious/noEmptyInterface: apps declare their keys by augmenting it.
export interface SessionData {}

/** The data type of `event.locals.session`: the augmented `SessionData`, or any string key when it declares none. */
export type SvelteKitSessionData = keyof SessionData extends never ? Record<string, unknown> : SessionData;

declare global {
  namespace App {
    interface Locals {
      /** This request's session (flagon/sveltekit's `handle`). */
      session: Session<SvelteKitSessionData>;
    }
  }
}
