/**
 * flagon for SvelteKit: a `handle` hook that loads the session into `event.locals.session` and
 * commits it (store write finished, `Set-Cookie`, `Vary: Cookie`, `Cache-Control`) before the
 * response is returned, redirects thrown from actions and endpoints included; a store failure
 * answers 503. Type-only imports of @sveltejs/kit: importing this entry point needs no framework.
 *
 * ```ts
 * // src/hooks.server.ts
 * import { sessions } from "flagon/sveltekit";
 * export const handle = sessions({ secret: env.SECRET_KEY, store: sqliteStore({ path: "sessions.db" }) });
 * ```
 */
import type { Handle, RequestEvent } from "@sveltejs/kit";
import type { SessionStoreError } from "../../errors.js";
import type { CsrfOptions, CsrfRejectedError } from "../../session/csrf.js";
import type { SessionsOptions } from "../../session/options.js";
import type { CommitPlan } from "../../session/plan.js";
import type { Session, SessionShape } from "../../session/session.js";
import { createSessions, type Sessions } from "../../session/sessions.js";
import { applyPlanToFetchResponse } from "../kit/fetch-response.js";
import { isSessionStoreError } from "../kit/store-error.js";
import { storeUnavailableResponse } from "../kit/unavailable.js";
import type { SessionData, SvelteKitSessionData } from "./types.js";

/** Answers a request whose session store failed. */
export type StoreErrorHandler = (
  error: SessionStoreError,
  event: RequestEvent,
) => Response | Promise<Response>;

export interface SvelteKitAdapterOptions {
  /**
   * The response for a store failure (on load or on commit). The routes never run with a silently
   * empty session, and a response whose session could not be written is replaced.
   * @default a plain-text 503 with `Retry-After: 5` and `Cache-Control: no-store`
   */
  onStoreError?: StoreErrorHandler;
  /**
   * Whether the request arrived over HTTPS (decides `Secure` and the `__Host-` prefix when
   * `cookie.secure` is `"auto"`).
   * @default `event.url.protocol === "https:"` (adapter-node derives it from `ORIGIN` or `PROTOCOL_HEADER`)
   */
  isSecure?: (event: RequestEvent) => boolean;
}

export type SvelteKitSessionsOptions<T extends SessionShape<T> = SvelteKitSessionData> = SessionsOptions<T> &
  SvelteKitAdapterOptions;

export type SessionsHandle<T extends SessionShape<T> = SvelteKitSessionData> = Handle & {
  /** The core behind the hook (`close()` it on shutdown). */
  readonly sessions: Sessions<T>;
};

function isSessions<T extends SessionShape<T>>(value: object): value is Sessions<T> {
  return typeof (value as Partial<Sessions<T>>).load === "function";
}

/**
 * The `handle` hook: `export const handle = sessions(options)`, or inside `sequence(...)` before
 * hooks that read `event.locals.session` (and before `csrfProtection()`).
 */
export function sessions<T extends SessionShape<T> = SvelteKitSessionData>(
  options: SvelteKitSessionsOptions<T>,
): SessionsHandle<T>;
export function sessions<T extends SessionShape<T> = SvelteKitSessionData>(
  core: Sessions<T>,
  options?: SvelteKitAdapterOptions,
): SessionsHandle<T>;
export function sessions<T extends SessionShape<T> = SvelteKitSessionData>(
  optionsOrCore: SvelteKitSessionsOptions<T> | Sessions<T>,
  adapterOptions: SvelteKitAdapterOptions = {},
): SessionsHandle<T> {
  let core: Sessions<T>;
  let adapter: SvelteKitAdapterOptions;
  if (isSessions<T>(optionsOrCore)) {
    core = optionsOrCore;
    adapter = adapterOptions;
  } else {
    const { onStoreError, isSecure, ...sessionOptions } = optionsOrCore;
    core = createSessions<T>(sessionOptions);
    adapter = { onStoreError, isSecure };
  }
  const onStoreError: StoreErrorHandler = adapter.onStoreError ?? (() => storeUnavailableResponse());
  const isSecure = adapter.isSecure ?? ((event: RequestEvent) => event.url.protocol === "https:");

  const handle: Handle = async ({ event, resolve }) => {
    let session: Session<T>;
    try {
      session = await core.load({ headers: event.request.headers, secure: isSecure(event) });
    } catch (error) {
      if (isSessionStoreError(error)) return onStoreError(error, event);
      throw error;
    }
    event.locals.session = session as unknown as App.Locals["session"];
    const response = await resolve(event);

    let plan: CommitPlan;
    try {
      plan = core.prepare(session);
      if (plan.write !== undefined) await plan.write();
    } catch (error) {
      // A response whose session was not written must not be sent (a redirect would race a store
      // that never got the data); other errors (ERR_COOKIE_TOO_LARGE) go to handleError.
      if (isSessionStoreError(error)) return onStoreError(error, event);
      throw error;
    }
    return applyPlanToFetchResponse(response, plan);
  };
  return Object.assign(handle, { sessions: core });
}

export { type TemplateGlobals, templateGlobals } from "../kit/templates.js";
export { type CsrfErrorHandler, csrfErrorPage, csrfProtection, type SvelteKitCsrfOptions } from "./csrf.js";
export type {
  CsrfOptions,
  CsrfRejectedError,
  Session,
  SessionData,
  SessionShape,
  Sessions,
  SvelteKitSessionData,
};
