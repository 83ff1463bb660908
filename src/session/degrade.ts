/**
 * `onStoreUnavailable: "degrade"`: the commit plans of a request served while the store is down. The
 * load side is in sessions.ts (a store read that fails gives an empty session, status "unavailable").
 */
import { SessionStoreError } from "../errors.js";
import type { CommitPlan } from "./plan.js";

/**
 * The plan of a write to a session the store could not load: it fails as a store failure does (the
 * adapters answer 503), and nothing is stored or sent, so the visitor's cookie survives the outage.
 */
export function refusedWritePlan(cookieName: string): CommitPlan {
  return {
    write: () =>
      Promise.reject(
        new SessionStoreError(
          "session store unavailable: this request wrote to a session the store could not load; nothing was written",
          { code: "ERR_STORE_UNAVAILABLE" },
        ),
      ),
    setCookie: undefined,
    cookieName,
    vary: true,
    cacheControl: undefined,
  };
}

/**
 * A write the request did not ask for (a rolling touch, a re-issue under the current secret) that the
 * store refuses is skipped: the id did not change and stays valid, so the page is still served.
 */
export function skippingTouch(plan: CommitPlan): CommitPlan {
  const write = plan.write!;
  return {
    ...plan,
    write: () =>
      write().catch((error: unknown) => {
        if (!(error instanceof SessionStoreError)) throw error;
      }),
  };
}
