/**
 * `onEvent`: what the session core reports for metrics, synchronously, one small object per event.
 * Events never hold a session id, a cookie value or session data: only statuses, sizes, timings and
 * codes, so they can go to any metrics backend as they are (docs/operations.md).
 */
import type { SessionLogger } from "./options.js";
import type { CommitPlan } from "./plan.js";
import type { SessionStatus } from "./session.js";

/** Time spent in the store by one load or commit, in milliseconds (`performance.now()` resolution). */
export interface StoreTiming {
  readonly ms: number;
}

/** A request's session was loaded. */
export interface LoadEvent {
  readonly type: "load";
  /** Why the session is what it is (`session.status`): `"active"`, `"new"`, `"expired"`, `"invalid"`… */
  readonly status: SessionStatus;
  /** The store read, when one was made (server stores, a cookie that verified); `undefined` otherwise. */
  readonly store: StoreTiming | undefined;
  /**
   * Which secret verified the cookie: 0 is the current one (the first of `secret`), 1 the next…
   * `undefined` when no cookie verified. Before dropping an old secret, wait until no load reports its index.
   */
  readonly keyIndex: number | undefined;
}

/** A session was committed (its store write, if any, finished). Not sent when the commit failed. */
export interface CommitEvent {
  readonly type: "commit";
  /** Something was written: a store call ran or a session cookie was set. */
  readonly wrote: boolean;
  /** Bytes of the session cookie's name and value sent (the figure browsers cap at 4096); 0 when none. */
  readonly cookieBytes: number;
  /** The store calls, when there were any; `undefined` otherwise. */
  readonly store: StoreTiming | undefined;
}

/** A store call failed (it reaches the app as a `SessionStoreError`: a 503, or a degraded session). */
export interface StoreErrorEvent {
  readonly type: "storeError";
  /** `ERR_STORE_UNAVAILABLE` (down, timed out) or `ERR_STORE_FAILED` (it answered with an error). */
  readonly code: string;
  readonly operation: "read" | "write" | "delete";
}

export type SessionEvent = LoadEvent | CommitEvent | StoreErrorEvent;

/** `onEvent` in the session options. Called synchronously on the request path: keep it cheap. */
export type SessionEventListener = (event: SessionEvent) => void;

/** Delivers events; undefined when the app set no `onEvent` (then nothing is measured or built). */
export type EventSink = ((event: SessionEvent) => void) | undefined;

/**
 * Wraps the app's listener: a listener that throws never breaks a request; the first throw is
 * reported at warn level (logger.warn, else console.warn), later ones are dropped silently.
 */
export function eventSink(listener: SessionEventListener | undefined, logger: SessionLogger): EventSink {
  if (listener === undefined) return undefined;
  let reported = false;
  return (event) => {
    try {
      listener(event);
    } catch (error) {
      if (reported) return;
      reported = true;
      const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const message = "onEvent threw; the request went on (reported once, later throws are ignored)";
      if (logger.warn) logger.warn(message, { cause, event: event.type });
      else console.warn(`flagon: ${message} [cause: ${cause}]`);
    }
  };
}

/** Bytes a Set-Cookie line's name=value pair counts against the 4096-byte limit (RFC 6265bis §5.6). */
export function cookieBytesOf(line: string | undefined): number {
  if (line === undefined) return 0;
  const end = line.indexOf(";");
  // Values are base64url and dots (ASCII): the length is the byte count; the "=" is not counted.
  return (end < 0 ? line.length : end) - 1;
}

/** The plan, reporting a `commit` event once its write (if any) has finished. */
export function withCommitEvent(plan: CommitPlan, emit: (event: SessionEvent) => void): CommitPlan {
  const cookieBytes = cookieBytesOf(plan.setCookie);
  const write = plan.write;
  if (write === undefined) {
    emit({ type: "commit", wrote: plan.setCookie !== undefined, cookieBytes, store: undefined });
    return plan;
  }
  return {
    ...plan,
    write: async () => {
      const started = performance.now();
      await write();
      emit({ type: "commit", wrote: true, cookieBytes, store: { ms: performance.now() - started } });
    },
  };
}
