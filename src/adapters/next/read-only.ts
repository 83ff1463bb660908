/**
 * The session `getSession()` hands to Server Components: every read works, every write throws.
 * A Server Component renders after the response head may have left and cannot set cookies, so a
 * write there could never be committed; failing loudly beats losing it.
 */
import { FlagonError } from "../../errors.js";
import { type FlashOptions, selectFlashes } from "../../session/flash.js";
import type { Session, SessionShape } from "../../session/session.js";
import type { FlashMessage } from "../../stores/types.js";
import type { DeliveredFlashes } from "./flash-header.js";

/** Methods that change the session (or its cookie): refused in a Server Component. */
const WRITES = new Set<PropertyKey>([
  "set",
  "delete",
  "clear",
  "regenerate",
  "destroy",
  "flash",
  "flashNow",
  "keepFlashes",
  "login",
  "setLifetime",
]);

function readOnlyError(what: string): FlagonError {
  return new FlagonError(
    "ERR_SESSION_READ_ONLY",
    `session.${what} in a Server Component: getSession() is read-only, because a Server Component cannot ` +
      "set cookies. Change the session in a Server Action wrapped in action() or a Route Handler wrapped in " +
      "route() (docs/next.md)",
  );
}

const NO_PROXY =
  "getFlashedMessages() in a Server Component needs the flagon proxy: it takes the messages out of the " +
  "session and commits before the page renders (a Server Component cannot). Export a `proxy` function " +
  "from proxy.ts that returns `sessions.proxy(request)`, with this page in its matcher (docs/next.md#flash-messages)";

/**
 * `session` with writes refused, and `getFlashedMessages()` answering from the messages the proxy
 * took out for this request (`undefined`: the proxy did not run, and reading them throws).
 */
export function readOnlySession<T extends SessionShape<T>>(
  session: Session<T>,
  delivered: DeliveredFlashes | undefined,
): Session<T> {
  const flashes: FlashMessage[] | undefined = delivered?.map(([category, message], index) => ({
    id: String(index),
    category,
    message,
  }));
  const view: Session<T> = new Proxy(session, {
    get(target, property) {
      if (WRITES.has(property)) {
        return () => {
          throw readOnlyError(`${String(property)}()`);
        };
      }
      if (property === "untyped") return () => view;
      if (property === "getFlashedMessages") {
        return (options: FlashOptions = {}) => {
          if (flashes === undefined) throw new FlagonError("ERR_NOT_SUPPORTED", NO_PROXY);
          return selectFlashes(flashes, options);
        };
      }
      if (property === "csrfToken") {
        return () => {
          const before = target.modified;
          const token = target.csrfToken();
          // A server store derives the token from the id; a cookie store would have to store a new one.
          if (!before && target.modified) throw readOnlyError("csrfToken() (a new token must be stored)");
          return token;
        };
      }
      const value = Reflect.get(target, property, target);
      // Private fields: methods run on the real session, not on this view.
      return typeof value === "function" ? value.bind(target) : value;
    },
    set(_target, property) {
      throw readOnlyError(`${String(property)} = …`);
    },
    defineProperty(_target, property) {
      throw readOnlyError(`${String(property)} = …`);
    },
  });
  return view;
}
