/**
 * The parity app, written once: each route is a framework-neutral handler over the session; the
 * Express and Hono harnesses mount the same table, so any difference in the responses comes from
 * the adapters, not from the apps.
 */
import type { Session, SessionData } from "../../../src/session/session.js";
import type { Sessions } from "../../../src/session/sessions.js";

export interface RouteInput {
  session: Session<SessionData>;
  query: URLSearchParams;
}

export type RouteResult = { status?: number; json: unknown } | { redirect: string };

export interface Route {
  method: "GET" | "POST";
  path: string;
  /** Mount the adapter's csrfProtection() in front of this route. */
  csrf?: boolean;
  handle(input: RouteInput): RouteResult;
}

function errorCode(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    return (error as { code?: string }).code ?? "unknown";
  }
}

export const routes: readonly Route[] = [
  { method: "GET", path: "/static", handle: () => ({ json: { static: true } }) },
  { method: "GET", path: "/read", handle: ({ session }) => ({ json: session.toJSON() }) },
  { method: "GET", path: "/id", handle: ({ session }) => ({ json: { id: session.id } }) },
  {
    method: "GET",
    path: "/status",
    handle: ({ session }) => ({ json: { status: session.status, data: session.toJSON() } }),
  },
  {
    method: "GET",
    path: "/set",
    handle: ({ session, query }) => {
      session.set(query.get("key") ?? "name", query.get("value") ?? "alice");
      return { json: session.toJSON() };
    },
  },
  {
    method: "GET",
    path: "/set-twice",
    handle: ({ session }) => {
      session.set("a", 1);
      session.set("a", 2);
      return { json: session.toJSON() };
    },
  },
  {
    method: "GET",
    path: "/regenerate-then-set",
    handle: ({ session }) => {
      session.regenerate();
      session.set("after", true);
      return { json: session.toJSON() };
    },
  },
  {
    method: "GET",
    path: "/flash-then-destroy",
    handle: ({ session }) => {
      session.flash("before logout");
      session.destroy();
      return { json: { destroyed: true } };
    },
  },
  {
    method: "GET",
    path: "/login",
    handle: ({ session, query }) => {
      // The lesson's order: flash, then regenerate (fixation), then log in.
      session.flash("Login Successfully.", "info");
      session.regenerate();
      session.set("user", query.get("user") ?? "leo");
      return { json: { user: session.get("user") } };
    },
  },
  {
    method: "GET",
    path: "/logout",
    handle: ({ session }) => {
      session.destroy();
      return { json: { loggedOut: true } };
    },
  },
  {
    method: "GET",
    path: "/flash",
    handle: ({ session, query }) => {
      session.flash(query.get("message") ?? "saved", query.get("category") ?? "info");
      return { redirect: "/messages" };
    },
  },
  {
    method: "GET",
    path: "/messages",
    handle: ({ session }) => ({ json: session.getFlashedMessages({ withCategories: true }) }),
  },
  {
    method: "GET",
    path: "/reserved",
    handle: ({ session }) => ({
      json: {
        reservedSet: errorCode(() => session.set("__flagon.flashes", ["forged"])),
        reservedRead: session.get("__flagon.flashes") ?? null,
        // Flask's own key is plain user data here: it cannot inject messages.
        flaskKey: errorCode(() => session.set("_flashes", [["message", "injected"]])),
      },
    }),
  },
  { method: "GET", path: "/csrf/form", handle: ({ session }) => ({ json: { token: session.csrfToken() } }) },
  {
    method: "POST",
    path: "/csrf/submit",
    csrf: true,
    handle: ({ session }) => {
      session.set("submitted", true);
      return { json: { ok: true } };
    },
  },
];

/** What a harness serves: one app over the given core. */
export interface HarnessRequest {
  method?: "GET" | "POST";
  /** The exact Cookie header to send (the suite handles cookies by hand: replays need it). */
  cookie?: string;
  headers?: Record<string, string>;
  form?: Record<string, string>;
  /** Simulate HTTPS: Hono gets an https:// URL, Express an X-Forwarded-Proto behind `trust proxy`. */
  secure?: boolean;
}

export interface HarnessResponse {
  status: number;
  headers: Headers;
  setCookies: string[];
  body: string;
}

export interface Client {
  /** The origin a same-site browser form would send (`Origin` header). */
  readonly origin: string;
  request(path: string, init?: HarnessRequest): Promise<HarnessResponse>;
  close(): Promise<void>;
}

export interface Harness {
  readonly name: string;
  start(core: Sessions<SessionData>): Promise<Client>;
}
